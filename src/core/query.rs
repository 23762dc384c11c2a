//! Temporal queries over a [`History`]: positions as of a date, diffs between two dates, and
//! timelines. All results come in a defined order (actor id, then topic id; or canonical order),
//! so the same log always gives the same answer.

use std::collections::BTreeSet;

use super::date::Day;
use super::domain::{ActorId, Event, Seq, StanceDeclared, TopicId};
use super::history::{History, PairEntry};

/// Which (actor, topic) pairs a query covers. An empty set means "all".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only these actors (all when empty).
    pub actors: BTreeSet<ActorId>,
    /// Only these topics (all when empty).
    pub topics: BTreeSet<TopicId>,
}

impl Filter {
    fn covers(&self, actor: &ActorId, topic: &TopicId) -> bool {
        (self.actors.is_empty() || self.actors.contains(actor))
            && (self.topics.is_empty() || self.topics.contains(topic))
    }
}

/// The position of an actor on a topic: the deciding `stance.declared` and its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position<'a> {
    /// The deciding event (its `seq`, `id`, `recorded_at`).
    pub event: &'a Event,
    /// The deciding stance (actor, topic, stance, date, quote, cite...).
    pub stance: &'a StanceDeclared,
}

/// How a pair's position differs between two dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// No position at the first date, one at the second.
    Added,
    /// A different stance at the second date.
    Changed,
    /// A position at the first date, none at the second.
    Removed,
}

impl ChangeKind {
    /// `added`, `changed` or `removed`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Changed => "changed",
            ChangeKind::Removed => "removed",
        }
    }
}

/// One entry of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change<'a> {
    /// The actor.
    pub actor: &'a ActorId,
    /// The topic.
    pub topic: &'a TopicId,
    /// Added, changed or removed.
    pub kind: ChangeKind,
    /// Position at the first date (`None` when added).
    pub before: Option<Position<'a>>,
    /// Position at the second date (`None` when removed).
    pub after: Option<Position<'a>>,
}

/// Where a stance stands in its pair's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The pair's position at the latest date.
    Current,
    /// A later (canonical order) unretracted stance of the same pair replaced it.
    Superseded {
        /// Seq of the stance that replaced it.
        by: Seq,
    },
    /// The report behind it was withdrawn.
    Retracted {
        /// Seq of the `stance.retracted`.
        by: Seq,
    },
}

impl Status {
    /// `current`, `superseded` or `retracted`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Current => "current",
            Status::Superseded { .. } => "superseded",
            Status::Retracted { .. } => "retracted",
        }
    }
}

/// One stance in a timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineEntry<'a> {
    /// The stance and its event.
    pub position: Position<'a>,
    /// Current, superseded or retracted.
    pub status: Status,
}

impl History {
    fn position_of(&self, seq: Seq) -> Option<Position<'_>> {
        self.stance(seq)
            .map(|(event, stance)| Position { event, stance })
    }

    /// The deciding entry of one pair as of `as_of` (inclusive; `None` = no bound).
    fn decide(&self, entries: &[PairEntry], as_of: Option<Day>) -> Option<Position<'_>> {
        let end = match as_of {
            Some(day) => entries.partition_point(|e| e.date.start() <= day),
            None => entries.len(),
        };
        entries[..end]
            .iter()
            .rev()
            .find(|e| self.retracted_by(e.seq).is_none())
            .and_then(|e| self.position_of(e.seq))
    }

    /// Every position as of `as_of` (inclusive; `None` = after the latest date), ordered by actor
    /// id, then topic id.
    ///
    /// The position of (actor, topic) is the stance of the last unretracted `stance.declared`
    /// for the pair in canonical order (`date`, then `seq`) whose date takes effect on or before
    /// `as_of`; a partial date takes effect on the first day of its period.
    ///
    /// # Example
    /// ```
    /// use stancelog::core::{Day, Filter, History};
    /// let history = History::new();
    /// let day = Day::parse("2024-10-22").unwrap();
    /// assert!(history.positions(Some(day), &Filter::default()).is_empty());
    /// ```
    pub fn positions(&self, as_of: Option<Day>, filter: &Filter) -> Vec<Position<'_>> {
        self.pairs
            .iter()
            .filter(|((a, t), _)| filter.covers(a, t))
            .filter_map(|(_, entries)| self.decide(entries, as_of))
            .collect()
    }

    /// Every pair whose stance differs between `from` and `to` (both inclusive as-of dates),
    /// ordered by actor id, then topic id. A restatement of the same stance is not a change.
    /// `diff(d, d)` is empty.
    pub fn diff(&self, from: Day, to: Day, filter: &Filter) -> Vec<Change<'_>> {
        let mut changes = Vec::new();
        for ((actor, topic), entries) in &self.pairs {
            if !filter.covers(actor, topic) {
                continue;
            }
            let before = self.decide(entries, Some(from));
            let after = self.decide(entries, Some(to));
            let kind = match (&before, &after) {
                (None, None) => continue,
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Removed,
                (Some(b), Some(a)) if b.stance.stance != a.stance.stance => ChangeKind::Changed,
                (Some(_), Some(_)) => continue,
            };
            changes.push(Change {
                actor,
                topic,
                kind,
                before,
                after,
            });
        }
        changes
    }

    /// Every `stance.declared` of the covered pairs in canonical order (`date`, then `seq`),
    /// each with its status at the latest date.
    pub fn timeline(&self, filter: &Filter) -> Vec<TimelineEntry<'_>> {
        let mut out = Vec::new();
        for ((actor, topic), entries) in &self.pairs {
            if !filter.covers(actor, topic) {
                continue;
            }
            // Walk backwards so each unretracted stance knows the next unretracted one.
            let mut next_live: Option<Seq> = None;
            let mut pair_out = Vec::with_capacity(entries.len());
            for e in entries.iter().rev() {
                let status = match (self.retracted_by(e.seq), next_live) {
                    (Some(by), _) => Status::Retracted { by },
                    (None, None) => Status::Current,
                    (None, Some(by)) => Status::Superseded { by },
                };
                if self.retracted_by(e.seq).is_none() {
                    next_live = Some(e.seq);
                }
                if let Some(position) = self.position_of(e.seq) {
                    pair_out.push((*e, TimelineEntry { position, status }));
                }
            }
            out.extend(pair_out);
        }
        out.sort_by_key(|(e, _)| *e);
        out.into_iter().map(|(_, t)| t).collect()
    }
}
