//! Temporal queries over a [`History`]: positions as of a date, diffs between two dates, and
//! timelines, each as known at a point of recorded time. All results come in a defined order
//! (actor id, then topic id; or canonical order), so the same log always gives the same answer.
//!
//! Two time axes meet here. `as_of` is valid time (a calendar [`Day`], inclusive). `known` is
//! recorded time, as a cutoff seq: only events with seq <= the cutoff count, which is the same
//! as "recorded at or before T" because recorded time never decreases with seq
//! ([`History::seq_known_at`]). Corrections, retractions, citations, alias links and roles apply
//! only when known at the cutoff.

use std::borrow::Cow;
use std::collections::BTreeSet;

use super::date::Day;
use super::domain::{ActorId, ActorRole, Event, Seq, StanceDeclared, TopicId};
use super::history::{History, PairEntry, PairIndex, insert_entry};

/// Which (actor, topic) pairs a query covers. An empty set means "all". An actor id also covers
/// the ids linked to it by `actor.aliased`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only these actors (all when empty).
    pub actors: BTreeSet<ActorId>,
    /// Only these topics (all when empty).
    pub topics: BTreeSet<TopicId>,
    /// Only topics tagged with at least one of these issues (all when empty).
    pub issues: BTreeSet<String>,
}

/// A point on both time axes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct At {
    /// Valid time: positions as of this day, inclusive. `None`: every date counts.
    pub as_of: Option<Day>,
    /// Recorded time, as the last seq known. `None`: everything in the log.
    pub known: Option<Seq>,
}

impl At {
    /// As of a day, knowing everything in the log.
    pub fn day(as_of: Day) -> At {
        At {
            as_of: Some(as_of),
            known: None,
        }
    }
}

/// The position of an actor on a topic: the deciding `stance.declared` as known at the query's
/// cutoff, with the reports and corrections of it known by then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position<'a> {
    /// The actor the position is reported under: the stance's actor, or the actor it is an
    /// alias of.
    pub actor: ActorId,
    /// The deciding event (its `seq`, `id`, `recorded_at`).
    pub event: &'a Event,
    /// The deciding stance, with the corrections known at the cutoff applied.
    pub stance: Cow<'a, StanceDeclared>,
    /// The `stance.corrected` events applied, in log order.
    pub corrections: Vec<&'a Event>,
    /// The `stance.cited` events: further reports of the same statement, in log order.
    pub citations: Vec<&'a Event>,
    /// The role the actor held on the as-of day (or its current role without one), if known.
    pub role: Option<&'a ActorRole>,
}

/// How a pair's position differs between two points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// No position at the first point, one at the second.
    Added,
    /// A different stance at the second point.
    Changed,
    /// A position at the first point, none at the second.
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<'a> {
    /// The actor.
    pub actor: ActorId,
    /// The topic.
    pub topic: TopicId,
    /// Added, changed or removed.
    pub kind: ChangeKind,
    /// Position at the first point (`None` when added).
    pub before: Option<Position<'a>>,
    /// Position at the second point (`None` when removed).
    pub after: Option<Position<'a>>,
}

/// Where a stance stands in its pair's history, as known at the cutoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The pair's position with no date bound.
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry<'a> {
    /// The stance, its event, corrections and citations.
    pub position: Position<'a>,
    /// Current, superseded or retracted.
    pub status: Status,
}

impl History {
    /// The pairs a query covers, as known at `cutoff` (alias links of seq <= `cutoff` merged),
    /// sorted by (actor id, topic id), each with its entries in canonical order. `keep` picks the
    /// pairs by (canonical actor, topic). Borrows the fold's index unless a correction after the
    /// cutoff or an alias link changes it; then `storage` holds the rebuilt index.
    fn pairs_at<'s>(
        &'s self,
        cutoff: Seq,
        keep: impl Fn(&ActorId, &TopicId) -> bool,
        storage: &'s mut Option<PairIndex>,
    ) -> Vec<(&'s (ActorId, TopicId), &'s [PairEntry])> {
        let corrected_later = self.corrections.last().is_some_and(|c| *c > cutoff);
        let aliased = self.has_aliases(cutoff);
        if !corrected_later && !aliased {
            let mut kept: Vec<(&(ActorId, TopicId), &[PairEntry])> = self
                .pairs
                .iter()
                .filter(|((a, t), _)| keep(a, t))
                .map(|(k, v)| (k, v.as_slice()))
                .collect();
            kept.sort_unstable_by(|x, y| x.0.cmp(y.0));
            return kept;
        }
        let mut index = PairIndex::new();
        for (key, entries) in &self.pairs {
            for e in entries.iter().filter(|e| e.seq <= cutoff) {
                let Some(s) = self.stance_known(e.seq, cutoff) else {
                    continue;
                };
                let actor = self.canonical_actor(&s.actor, cutoff);
                let key = if *actor == key.0 && s.topic == key.1 {
                    key.clone()
                } else {
                    (actor.clone(), s.topic.clone())
                };
                insert_entry(
                    &mut index,
                    key,
                    PairEntry {
                        date: s.date,
                        seq: e.seq,
                    },
                );
            }
        }
        let index: &'s PairIndex = storage.insert(index);
        index
            .iter()
            .filter(|((a, t), _)| keep(a, t))
            .map(|(k, v)| (k, v.as_slice()))
            .collect()
    }

    /// Whether a filter's topic and issue conditions cover a topic.
    fn covers_topic(&self, filter: &Filter, topic: &TopicId) -> bool {
        (filter.topics.is_empty() || filter.topics.contains(topic))
            && (filter.issues.is_empty()
                || self
                    .topic(topic)
                    .is_some_and(|t| t.issues.iter().any(|i| filter.issues.contains(i))))
    }

    /// The actors a filter covers once aliases known at `cutoff` are followed.
    fn filter_actors(&self, filter: &Filter, cutoff: Seq) -> BTreeSet<ActorId> {
        filter
            .actors
            .iter()
            .map(|a| self.canonical_actor(a, cutoff).clone())
            .collect()
    }

    fn position_of(
        &self,
        actor: &ActorId,
        seq: Seq,
        cutoff: Seq,
        as_of: Option<Day>,
    ) -> Option<Position<'_>> {
        let (event, _) = self.stance(seq)?;
        let stance = self.stance_known(seq, cutoff)?;
        let notes = self.notes.get(&seq);
        let known = |v: &[Seq]| -> Vec<&Event> {
            v.iter()
                .filter(|s| **s <= cutoff)
                .filter_map(|s| self.event(*s))
                .collect()
        };
        let canon = self.canonical_actor(actor, cutoff);
        Some(Position {
            actor: canon.clone(),
            event,
            stance,
            corrections: notes.map_or_else(Vec::new, |n| known(&n.corrections)),
            citations: notes.map_or_else(Vec::new, |n| known(&n.citations)),
            role: self.role_on(canon, as_of, cutoff),
        })
    }

    fn retracted_at(&self, seq: Seq, cutoff: Seq) -> Option<Seq> {
        self.retracted_by(seq).filter(|by| *by <= cutoff)
    }

    /// The deciding entry of one pair at a point.
    fn decide(&self, entries: &[PairEntry], as_of: Option<Day>, cutoff: Seq) -> Option<Seq> {
        let end = match as_of {
            Some(day) => entries.partition_point(|e| e.date.start() <= day),
            None => entries.len(),
        };
        entries[..end]
            .iter()
            .rev()
            .find(|e| e.seq <= cutoff && self.retracted_at(e.seq, cutoff).is_none())
            .map(|e| e.seq)
    }

    /// Every position at a point, ordered by actor id, then topic id.
    ///
    /// The position of (actor, topic) is the stance of the last `stance.declared` for the pair
    /// in canonical order (`date`, then `seq`), among those known at `at.known` and not retracted
    /// by then, whose date takes effect on or before `at.as_of` (a partial date takes effect on
    /// the first day of its period). Stances are taken as corrected by the corrections known at
    /// the cutoff, and grouped under the actor their id is an alias of.
    ///
    /// # Example
    /// ```
    /// use stancelog::core::{At, Day, Filter, History};
    /// let history = History::new();
    /// let day = Day::parse("2024-10-22").unwrap();
    /// assert!(history.positions_at(At::day(day), &Filter::default()).is_empty());
    /// ```
    pub fn positions_at(&self, at: At, filter: &Filter) -> Vec<Position<'_>> {
        let cutoff = at.known.unwrap_or(Seq::MAX);
        let actors = self.filter_actors(filter, cutoff);
        let mut storage = None;
        let keep = |a: &ActorId, t: &TopicId| {
            (actors.is_empty() || actors.contains(a)) && self.covers_topic(filter, t)
        };
        self.pairs_at(cutoff, keep, &mut storage)
            .into_iter()
            .filter_map(|((a, _), entries)| {
                let seq = self.decide(entries, at.as_of, cutoff)?;
                self.position_of(a, seq, cutoff, at.as_of)
            })
            .collect()
    }

    /// Every position as of `as_of` (inclusive; `None` = every date), knowing the whole log.
    /// See [`History::positions_at`].
    pub fn positions(&self, as_of: Option<Day>, filter: &Filter) -> Vec<Position<'_>> {
        self.positions_at(At { as_of, known: None }, filter)
    }

    /// Every pair whose stance differs between two points, ordered by actor id, then topic id.
    /// A restatement of the same stance, or a further report of it, is not a change.
    /// `diff_at(p, p)` is empty. Each side may have its own as-of date and its own cutoff, so
    /// "what changed in our knowledge of D between T1 and T2" is `diff_at((D, T1), (D, T2))`.
    pub fn diff_at(&self, from: At, to: At, filter: &Filter) -> Vec<Change<'_>> {
        // Both lists come sorted by (actor, topic): walk them side by side.
        let mut before = self.positions_at(from, filter).into_iter().peekable();
        let mut after = self.positions_at(to, filter).into_iter().peekable();
        let key = |p: &Position<'_>| (p.actor.clone(), p.stance.topic.clone());
        let mut changes = Vec::new();
        loop {
            let order = match (before.peek(), after.peek()) {
                (None, None) => break,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some(b), Some(a)) => (&b.actor, &b.stance.topic).cmp(&(&a.actor, &a.stance.topic)),
            };
            let (b, a) = match order {
                std::cmp::Ordering::Less => (before.next(), None),
                std::cmp::Ordering::Greater => (None, after.next()),
                std::cmp::Ordering::Equal => (before.next(), after.next()),
            };
            let kind = match (&b, &a) {
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Removed,
                (Some(x), Some(y)) if x.stance.stance != y.stance.stance => ChangeKind::Changed,
                _ => continue,
            };
            let (actor, topic) = match (&b, &a) {
                (Some(p), _) | (None, Some(p)) => key(p),
                (None, None) => continue,
            };
            changes.push(Change {
                actor,
                topic,
                kind,
                before: b,
                after: a,
            });
        }
        changes
    }

    /// [`History::diff_at`] between two as-of days, knowing the whole log.
    pub fn diff(&self, from: Day, to: Day, filter: &Filter) -> Vec<Change<'_>> {
        self.diff_at(At::day(from), At::day(to), filter)
    }

    /// Every `stance.declared` of the covered pairs known at `known` (`None`: the whole log), in
    /// canonical order (`date`, then `seq`), each with its status as known then.
    pub fn timeline_at(&self, known: Option<Seq>, filter: &Filter) -> Vec<TimelineEntry<'_>> {
        let cutoff = known.unwrap_or(Seq::MAX);
        let actors = self.filter_actors(filter, cutoff);
        let mut storage = None;
        let keep = |a: &ActorId, t: &TopicId| {
            (actors.is_empty() || actors.contains(a)) && self.covers_topic(filter, t)
        };
        let mut out = Vec::new();
        for ((actor, _), entries) in self.pairs_at(cutoff, keep, &mut storage) {
            // Walk backwards so each unretracted stance knows the next unretracted one.
            let mut next_live: Option<Seq> = None;
            for e in entries.iter().rev().filter(|e| e.seq <= cutoff) {
                let retracted = self.retracted_at(e.seq, cutoff);
                let status = match (retracted, next_live) {
                    (Some(by), _) => Status::Retracted { by },
                    (None, None) => Status::Current,
                    (None, Some(by)) => Status::Superseded { by },
                };
                if retracted.is_none() {
                    next_live = Some(e.seq);
                }
                if let Some(position) = self.position_of(actor, e.seq, cutoff, Some(e.date.start()))
                {
                    out.push((*e, TimelineEntry { position, status }));
                }
            }
        }
        out.sort_by_key(|(e, _)| *e);
        out.into_iter().map(|(_, t)| t).collect()
    }

    /// [`History::timeline_at`] knowing the whole log.
    pub fn timeline(&self, filter: &Filter) -> Vec<TimelineEntry<'_>> {
        self.timeline_at(None, filter)
    }
}
