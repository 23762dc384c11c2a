//! The fold: events applied in `seq` order into an in-memory history that answers queries.
//!
//! Deciding and applying are separate. [`History::check`] decides whether a new event may join
//! the log and can fail with a [`Rejection`]; [`History::apply`] folds an already-checked event in
//! and cannot fail. Nothing here reads files or the clock.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::date::ValidDate;
use super::domain::{
    ActorId, ActorRegistered, ActorRole, Event, EventBody, PloverType, Seq, Stance, StanceDeclared,
    TopicId, TopicKind, TopicRegistered,
};

/// Why a new event may not join the log. Each names the event field at fault ([`Rejection::field`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The event id is already used by another event.
    #[error("event id {id} is already used by seq {seq}")]
    DuplicateId {
        /// The id.
        id: Uuid,
        /// The event that has it.
        seq: Seq,
    },
    /// `actor.registered` for an id that is already registered.
    #[error("actor `{actor}` is already registered (seq {seq})")]
    ActorExists {
        /// The id.
        actor: ActorId,
        /// Where it was registered.
        seq: Seq,
    },
    /// `topic.registered` for an id that is already registered.
    #[error("topic `{topic}` is already registered (seq {seq})")]
    TopicExists {
        /// The id.
        topic: TopicId,
        /// Where it was registered.
        seq: Seq,
    },
    /// A reference to an actor not registered earlier in the log.
    #[error("unknown actor `{actor}`: register it first with actor.registered")]
    UnknownActor {
        /// `actor`, `recipient` or `alias`.
        field: &'static str,
        /// The unknown id.
        actor: ActorId,
    },
    /// A reference to a topic not registered earlier in the log.
    #[error("unknown topic `{0}`: register it first with topic.registered")]
    UnknownTopic(TopicId),
    /// The stance does not fit the topic's kind.
    #[error("stance `{stance}` does not fit {kind} topic `{topic}` (use one of: {allowed})")]
    StanceUnfit {
        /// The stance given.
        stance: Stance,
        /// The topic.
        topic: TopicId,
        /// The topic's kind.
        kind: TopicKind,
        /// The stances that fit, comma-separated.
        allowed: String,
    },
    /// PLOVER requires a recipient for this event type and none was given.
    #[error("PLOVER event type `{0}` requires a recipient")]
    RecipientRequired(PloverType),
    /// A `target` that is not in the log.
    #[error("target {0} is not in the log")]
    UnknownTarget(Uuid),
    /// A `target` that is not a `stance.declared`.
    #[error("target {target} is an event of type {type_name}, not a stance.declared")]
    TargetNotStance {
        /// The id.
        target: Uuid,
        /// Its event type.
        type_name: &'static str,
    },
    /// A `target` stance that is already retracted.
    #[error("stance {target} is retracted (seq {by})")]
    AlreadyRetracted {
        /// The id.
        target: Uuid,
        /// The retraction.
        by: Seq,
    },
    /// An `instrument` on a stance other than `ratified`.
    #[error("`instrument` goes only with stance `ratified`, not `{0}`")]
    InstrumentWithout(Stance),
    /// A `stance.corrected` that corrects no field.
    #[error(
        "a correction must set at least one of: actor, topic, stance, date, quote, cite, event, instrument"
    )]
    EmptyCorrection,
    /// `actor.aliased` linking two ids that are already one actor.
    #[error("`{alias}` is already the same actor as `{actor}`")]
    AlreadySame {
        /// The actor.
        actor: ActorId,
        /// The alias.
        alias: ActorId,
    },
    /// `actor.aliased` naming an alias that is already an alias of another actor.
    #[error("`{alias}` is already an alias of `{of}` (seq {seq})")]
    AliasTaken {
        /// The alias.
        alias: ActorId,
        /// Whose alias it is.
        of: ActorId,
        /// The linking event.
        seq: Seq,
    },
    /// `actor.role` ending before it starts.
    #[error("role ends ({to}) before it starts ({from})")]
    RoleBackwards {
        /// Start.
        from: ValidDate,
        /// End.
        to: ValidDate,
    },
}

impl Rejection {
    /// The event field at fault, as named in the log format.
    pub fn field(&self) -> &'static str {
        match self {
            Rejection::DuplicateId { .. } => "id",
            Rejection::ActorExists { .. } => "actor",
            Rejection::TopicExists { .. } => "topic",
            Rejection::UnknownActor { field, .. } => field,
            Rejection::UnknownTopic(_) => "topic",
            Rejection::StanceUnfit { .. } => "stance",
            Rejection::RecipientRequired(_) => "recipient",
            Rejection::UnknownTarget(_)
            | Rejection::TargetNotStance { .. }
            | Rejection::AlreadyRetracted { .. } => "target",
            Rejection::EmptyCorrection => "type",
            Rejection::InstrumentWithout(_) => "instrument",
            Rejection::AlreadySame { .. } | Rejection::AliasTaken { .. } => "alias",
            Rejection::RoleBackwards { .. } => "to",
        }
    }
}

/// A registered actor with its counts.
#[derive(Debug, Clone)]
pub struct ActorEntry {
    /// Seq of its `actor.registered`.
    pub seq: Seq,
    /// `stance.declared` events attributed to it (after corrections), retracted ones included.
    pub stances: u64,
    /// How many of those are retracted.
    pub retracted: u64,
}

/// A registered topic with its counts.
#[derive(Debug, Clone)]
pub struct TopicEntry {
    /// Seq of its `topic.registered`.
    pub seq: Seq,
    /// `stance.declared` events on it (after corrections), retracted ones included.
    pub stances: u64,
    /// How many of those are retracted.
    pub retracted: u64,
}

/// One `stance.declared` in a pair's history, in canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PairEntry {
    pub(crate) date: ValidDate,
    pub(crate) seq: Seq,
}

/// What later events say about one `stance.declared`: all seqs, in log order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Notes {
    pub(crate) retracted_by: Option<Seq>,
    pub(crate) corrections: Vec<Seq>,
    pub(crate) citations: Vec<Seq>,
}

/// Pairs keyed by (actor, topic), each with its stances in canonical order.
pub(crate) type PairIndex = BTreeMap<(ActorId, TopicId), Vec<PairEntry>>;

/// The fold's own pair index: hashed, because a large log inserts far more often than a query
/// iterates it; queries sort what they keep.
pub(crate) type PairMap = HashMap<(ActorId, TopicId), Vec<PairEntry>>;

/// The folded log: every event in `seq` order plus the indexes queries need.
///
/// Invariants: `events[i].seq == i + 1`; `pairs` holds every `stance.declared` under its
/// actor and topic with every correction applied, each pair sorted by `(date, seq)`, the
/// canonical order.
#[derive(Debug, Clone, Default)]
pub struct History {
    events: Vec<Event>,
    ids: HashMap<Uuid, Seq>,
    actors: BTreeMap<ActorId, ActorEntry>,
    topics: BTreeMap<TopicId, TopicEntry>,
    pub(crate) pairs: PairMap,
    pub(crate) notes: HashMap<Seq, Notes>,
    /// Seqs of every `stance.corrected`, in order.
    pub(crate) corrections: Vec<Seq>,
    /// Seqs of every `actor.aliased`, in order.
    pub(crate) alias_links: Vec<Seq>,
    /// alias -> (actor, seq of the link), as of the end of the log.
    alias_of: BTreeMap<ActorId, (ActorId, Seq)>,
    /// Seqs of `actor.role` events per actor, in order.
    roles: BTreeMap<ActorId, Vec<Seq>>,
}

impl History {
    /// An empty history.
    pub fn new() -> History {
        History::default()
    }

    /// Seq of the last event, 0 when empty.
    pub fn seq_last(&self) -> Seq {
        self.events.len() as Seq
    }

    /// All events in `seq` order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The event with this seq, if any.
    pub fn event(&self, seq: Seq) -> Option<&Event> {
        seq.checked_sub(1)
            .and_then(|i| self.events.get(usize::try_from(i).ok()?))
    }

    /// The seq of the event with this id, if it is in the log.
    pub fn seq_of(&self, id: &Uuid) -> Option<Seq> {
        self.ids.get(id).copied()
    }

    /// The last seq recorded at or before `t` (inclusive): the cutoff of a "known at `t`" query.
    /// Recorded time never decreases with seq, so this is a prefix of the log. 0 when nothing
    /// was recorded by then.
    pub fn seq_known_at(&self, t: DateTime<Utc>) -> Seq {
        self.events.partition_point(|e| e.recorded_at <= t) as Seq
    }

    /// Registered actors, ordered by id.
    pub fn actors(&self) -> &BTreeMap<ActorId, ActorEntry> {
        &self.actors
    }

    /// Registered topics, ordered by id.
    pub fn topics(&self) -> &BTreeMap<TopicId, TopicEntry> {
        &self.topics
    }

    /// The registration of an actor.
    pub fn actor(&self, id: &ActorId) -> Option<&ActorRegistered> {
        let entry = self.actors.get(id)?;
        match &self.event(entry.seq)?.body {
            EventBody::ActorRegistered(a) => Some(a),
            _ => None,
        }
    }

    /// The registration of a topic.
    pub fn topic(&self, id: &TopicId) -> Option<&TopicRegistered> {
        let entry = self.topics.get(id)?;
        match &self.event(entry.seq)?.body {
            EventBody::TopicRegistered(t) => Some(t),
            _ => None,
        }
    }

    /// The seq of the retraction of the stance with this seq, if it is retracted.
    pub fn retracted_by(&self, seq: Seq) -> Option<Seq> {
        self.notes.get(&seq).and_then(|n| n.retracted_by)
    }

    /// The `stance.declared` with this seq as first recorded (no corrections), if that event is
    /// one.
    pub fn stance(&self, seq: Seq) -> Option<(&Event, &StanceDeclared)> {
        let event = self.event(seq)?;
        match &event.body {
            EventBody::StanceDeclared(s) => Some((event, s)),
            _ => None,
        }
    }

    /// The stance with this seq as known at `cutoff`: with every `stance.corrected` of seq <=
    /// `cutoff` applied, in order.
    pub fn stance_known(&self, seq: Seq, cutoff: Seq) -> Option<Cow<'_, StanceDeclared>> {
        let (_, original) = self.stance(seq)?;
        let corrections = self.notes.get(&seq).map_or(&[][..], |n| &n.corrections[..]);
        let applied: Vec<Seq> = corrections
            .iter()
            .copied()
            .filter(|c| *c <= cutoff)
            .collect();
        if applied.is_empty() {
            return Some(Cow::Borrowed(original));
        }
        let mut s = original.clone();
        for c in applied {
            if let Some(EventBody::StanceCorrected(x)) = self.event(c).map(|e| &e.body) {
                x.correction.apply_to(&mut s);
            }
        }
        Some(Cow::Owned(s))
    }

    /// The latest valid-time date of any stance, if there is one.
    pub fn date_last(&self) -> Option<ValidDate> {
        self.pairs
            .values()
            .filter_map(|v| v.last())
            .map(|e| e.date)
            .max()
    }

    /// The actor an id stands for once `actor.aliased` links of seq <= `cutoff` are followed.
    pub fn canonical_actor<'a>(&'a self, id: &'a ActorId, cutoff: Seq) -> &'a ActorId {
        let mut at = id;
        // Links never form a cycle (check refuses it), so this ends; the bound is a safeguard.
        for _ in 0..=self.alias_links.len() {
            match self.alias_of.get(at) {
                Some((to, seq)) if *seq <= cutoff => at = to,
                _ => break,
            }
        }
        at
    }

    /// Whether any `actor.aliased` link has seq <= `cutoff`.
    pub(crate) fn has_aliases(&self, cutoff: Seq) -> bool {
        self.alias_links.first().is_some_and(|s| *s <= cutoff)
    }

    /// The role `actor` held on `day` (inclusive bounds) as known at `cutoff`: among its
    /// `actor.role` events, the one with the latest start that covers the day (ties: the later
    /// seq). Without a day, its latest-starting role that has not ended.
    pub fn role_on(
        &self,
        actor: &ActorId,
        day: Option<super::date::Day>,
        cutoff: Seq,
    ) -> Option<&ActorRole> {
        let seqs = self.roles.get(actor)?;
        seqs.iter()
            .filter(|s| **s <= cutoff)
            .filter_map(|s| match self.event(*s).map(|e| &e.body) {
                Some(EventBody::ActorRole(r)) => Some((*s, r)),
                _ => None,
            })
            .filter(|(_, r)| match day {
                Some(d) => r.from.start() <= d && r.to.is_none_or(|t| d <= t.end()),
                None => r.to.is_none(),
            })
            .max_by_key(|(s, r)| (r.from, *s))
            .map(|(_, r)| r)
    }

    /// Decides whether an event with this id and body may be appended next.
    ///
    /// # Errors
    /// A [`Rejection`] naming the rule broken: duplicate id or registration, unknown actor, topic
    /// or target, a stance unfit for its topic's kind, a missing PLOVER recipient, a target
    /// already retracted, an empty correction, a bad alias link or role.
    pub fn check(&self, id: &Uuid, body: &EventBody) -> Result<(), Rejection> {
        if let Some(seq) = self.seq_of(id) {
            return Err(Rejection::DuplicateId { id: *id, seq });
        }
        match body {
            EventBody::ActorRegistered(a) => match self.actors.get(&a.actor) {
                Some(e) => Err(Rejection::ActorExists {
                    actor: a.actor.clone(),
                    seq: e.seq,
                }),
                None => Ok(()),
            },
            EventBody::TopicRegistered(t) => match self.topics.get(&t.topic) {
                Some(e) => Err(Rejection::TopicExists {
                    topic: t.topic.clone(),
                    seq: e.seq,
                }),
                None => Ok(()),
            },
            EventBody::StanceDeclared(s) => self.check_stance(s),
            EventBody::StanceRetracted(r) => self.live_target(&r.target).map(|_| ()),
            EventBody::StanceCorrected(c) => {
                let seq = self.live_target(&c.target)?;
                if c.correction.fields().is_empty() {
                    return Err(Rejection::EmptyCorrection);
                }
                let mut corrected = self
                    .stance_known(seq, Seq::MAX)
                    .ok_or(Rejection::UnknownTarget(c.target))?
                    .into_owned();
                c.correction.apply_to(&mut corrected);
                self.check_stance(&corrected)
            }
            EventBody::StanceCited(c) => self.live_target(&c.target).map(|_| ()),
            EventBody::ActorAliased(a) => {
                self.known_actor(&a.actor, "actor")?;
                self.known_actor(&a.alias, "alias")?;
                if let Some((of, seq)) = self.alias_of.get(&a.alias) {
                    return Err(Rejection::AliasTaken {
                        alias: a.alias.clone(),
                        of: of.clone(),
                        seq: *seq,
                    });
                }
                if self.canonical_actor(&a.actor, Seq::MAX) == &a.alias || a.actor == a.alias {
                    return Err(Rejection::AlreadySame {
                        actor: a.actor.clone(),
                        alias: a.alias.clone(),
                    });
                }
                Ok(())
            }
            EventBody::ActorRole(r) => {
                self.known_actor(&r.actor, "actor")?;
                match r.to {
                    Some(to) if to.end() < r.from.start() => {
                        Err(Rejection::RoleBackwards { from: r.from, to })
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    fn known_actor(&self, actor: &ActorId, field: &'static str) -> Result<(), Rejection> {
        if self.actors.contains_key(actor) {
            Ok(())
        } else {
            Err(Rejection::UnknownActor {
                field,
                actor: actor.clone(),
            })
        }
    }

    /// The seq of a target that is an unretracted `stance.declared`.
    fn live_target(&self, target: &Uuid) -> Result<Seq, Rejection> {
        let seq = self
            .seq_of(target)
            .ok_or(Rejection::UnknownTarget(*target))?;
        let event = self.event(seq).ok_or(Rejection::UnknownTarget(*target))?;
        if !matches!(event.body, EventBody::StanceDeclared(_)) {
            return Err(Rejection::TargetNotStance {
                target: *target,
                type_name: event.body.type_name(),
            });
        }
        match self.retracted_by(seq) {
            Some(by) => Err(Rejection::AlreadyRetracted {
                target: *target,
                by,
            }),
            None => Ok(seq),
        }
    }

    fn check_stance(&self, s: &StanceDeclared) -> Result<(), Rejection> {
        self.known_actor(&s.actor, "actor")?;
        let topic = self
            .topic(&s.topic)
            .ok_or_else(|| Rejection::UnknownTopic(s.topic.clone()))?;
        if !s.stance.fits(topic.kind) {
            let allowed: Vec<&str> = Stance::ALL
                .iter()
                .filter(|x| x.fits(topic.kind))
                .map(|x| x.as_str())
                .collect();
            return Err(Rejection::StanceUnfit {
                stance: s.stance,
                topic: s.topic.clone(),
                kind: topic.kind,
                allowed: allowed.join(", "),
            });
        }
        if s.instrument.is_some() && s.stance != Stance::Ratified {
            return Err(Rejection::InstrumentWithout(s.stance));
        }
        if let Some(recipient) = &s.recipient {
            self.known_actor(recipient, "recipient")?;
        } else if let Some(kind) = s.event.filter(|k| k.requires_recipient()) {
            return Err(Rejection::RecipientRequired(kind));
        }
        Ok(())
    }

    /// Folds a checked event in. Its `seq` must be `seq_last() + 1`.
    ///
    /// # Panics
    /// On a seq out of order: that is a bug in the caller (the storage edge checks seq
    /// contiguity of stored records and reports it as an input error before applying).
    pub fn apply(&mut self, event: Event) {
        assert_eq!(
            event.seq,
            self.seq_last() + 1,
            "History::apply: events must be applied in seq order"
        );
        let seq = event.seq;
        self.ids.insert(event.id, seq);
        let mut event = event;
        self.intern(&mut event.body);
        match &event.body {
            EventBody::ActorRegistered(a) => {
                self.actors.insert(
                    a.actor.clone(),
                    ActorEntry {
                        seq,
                        stances: 0,
                        retracted: 0,
                    },
                );
            }
            EventBody::TopicRegistered(t) => {
                self.topics.insert(
                    t.topic.clone(),
                    TopicEntry {
                        seq,
                        stances: 0,
                        retracted: 0,
                    },
                );
            }
            EventBody::StanceDeclared(s) => {
                insert_pair(
                    &mut self.pairs,
                    (s.actor.clone(), s.topic.clone()),
                    PairEntry { date: s.date, seq },
                );
                self.count(&s.actor, &s.topic, 1, 0);
            }
            EventBody::StanceRetracted(r) => {
                if let Some(target) = self.seq_of(&r.target) {
                    self.notes.entry(target).or_default().retracted_by = Some(seq);
                    self.count_latest(target, 0, 1);
                }
            }
            EventBody::StanceCorrected(c) => {
                if let Some(target) = self.seq_of(&c.target) {
                    self.count_latest(target, -1, 0);
                    self.unindex(target);
                    self.notes.entry(target).or_default().corrections.push(seq);
                    self.corrections.push(seq);
                    self.events.push(event);
                    self.reindex(target);
                    self.count_latest(target, 1, 0);
                    return;
                }
            }
            EventBody::StanceCited(c) => {
                if let Some(target) = self.seq_of(&c.target) {
                    self.notes.entry(target).or_default().citations.push(seq);
                }
            }
            EventBody::ActorAliased(a) => {
                self.alias_of
                    .insert(a.alias.clone(), (a.actor.clone(), seq));
                self.alias_links.push(seq);
            }
            EventBody::ActorRole(r) => {
                self.roles.entry(r.actor.clone()).or_default().push(seq);
            }
        }
        self.events.push(event);
    }

    /// Replaces the ids in a stance by the registrations' shared copies, so that a large log
    /// holds each id's text once.
    fn intern(&self, body: &mut EventBody) {
        if let EventBody::StanceDeclared(s) = body {
            if let Some((k, _)) = self.actors.get_key_value(&s.actor) {
                s.actor = k.clone();
            }
            if let Some((k, _)) = s
                .recipient
                .as_ref()
                .and_then(|r| self.actors.get_key_value(r))
            {
                s.recipient = Some(k.clone());
            }
            if let Some((k, _)) = self.topics.get_key_value(&s.topic) {
                s.topic = k.clone();
            }
        }
    }

    /// Removes a stance's entry from the pair index (under its latest-known actor and topic).
    fn unindex(&mut self, target: Seq) {
        if let Some(s) = self.stance_known(target, Seq::MAX).map(Cow::into_owned) {
            let key = (s.actor, s.topic);
            if let Some(entries) = self.pairs.get_mut(&key) {
                entries.retain(|e| e.seq != target);
                if entries.is_empty() {
                    self.pairs.remove(&key);
                }
            }
        }
    }

    /// Puts a stance's entry into the pair index under its latest-known actor, topic and date.
    fn reindex(&mut self, target: Seq) {
        if let Some(s) = self.stance_known(target, Seq::MAX).map(Cow::into_owned) {
            insert_pair(
                &mut self.pairs,
                (s.actor, s.topic),
                PairEntry {
                    date: s.date,
                    seq: target,
                },
            );
        }
    }

    /// Adjusts the counts of a stance's latest-known actor and topic.
    fn count_latest(&mut self, target: Seq, stances: i64, retracted: i64) {
        if let Some(s) = self.stance_known(target, Seq::MAX).map(Cow::into_owned) {
            let retracted_too = if stances != 0 && self.retracted_by(target).is_some() {
                stances
            } else {
                0
            };
            self.count(&s.actor, &s.topic, stances, retracted + retracted_too);
        }
    }

    fn count(&mut self, actor: &ActorId, topic: &TopicId, stances: i64, retracted: i64) {
        if let Some(a) = self.actors.get_mut(actor) {
            a.stances = a.stances.saturating_add_signed(stances);
            a.retracted = a.retracted.saturating_add_signed(retracted);
        }
        if let Some(t) = self.topics.get_mut(topic) {
            t.stances = t.stances.saturating_add_signed(stances);
            t.retracted = t.retracted.saturating_add_signed(retracted);
        }
    }

    /// Undoes every event after `seq`, so a batch that failed half-way leaves no trace.
    pub fn rollback_to(&mut self, seq: Seq) {
        while self.seq_last() > seq {
            let last = self.seq_last();
            // Undo what apply did, in reverse; the event stays in place until the index is fixed.
            let Some(body) = self.event(last).map(|e| e.body.clone()) else {
                return;
            };
            match &body {
                EventBody::ActorRegistered(a) => {
                    self.actors.remove(&a.actor);
                }
                EventBody::TopicRegistered(t) => {
                    self.topics.remove(&t.topic);
                }
                EventBody::StanceDeclared(_) => {
                    self.count_latest(last, -1, 0);
                    self.unindex(last);
                    self.notes.remove(&last);
                }
                EventBody::StanceRetracted(r) => {
                    if let Some(target) = self.seq_of(&r.target) {
                        self.count_latest(target, 0, -1);
                        if let Some(n) = self.notes.get_mut(&target) {
                            n.retracted_by = None;
                        }
                    }
                }
                EventBody::StanceCorrected(c) => {
                    if let Some(target) = self.seq_of(&c.target) {
                        self.count_latest(target, -1, 0);
                        self.unindex(target);
                        if let Some(n) = self.notes.get_mut(&target) {
                            n.corrections.retain(|s| *s != last);
                        }
                        self.corrections.retain(|s| *s != last);
                        self.reindex(target);
                        self.count_latest(target, 1, 0);
                    }
                }
                EventBody::StanceCited(c) => {
                    if let Some(n) = self.seq_of(&c.target).and_then(|t| self.notes.get_mut(&t)) {
                        n.citations.retain(|s| *s != last);
                    }
                }
                EventBody::ActorAliased(a) => {
                    self.alias_of.remove(&a.alias);
                    self.alias_links.retain(|s| *s != last);
                }
                EventBody::ActorRole(r) => {
                    if let Some(v) = self.roles.get_mut(&r.actor) {
                        v.retain(|s| *s != last);
                    }
                }
            }
            if let Some(e) = self.events.pop() {
                self.ids.remove(&e.id);
            }
        }
    }
}

/// Inserts an entry into its pair, keeping canonical order. Appends are mostly in date order:
/// the common case is a push.
pub(crate) fn insert_entry(index: &mut PairIndex, key: (ActorId, TopicId), entry: PairEntry) {
    insert_sorted(index.entry(key).or_default(), entry);
}

/// [`insert_entry`] for the fold's hashed index.
pub(crate) fn insert_pair(index: &mut PairMap, key: (ActorId, TopicId), entry: PairEntry) {
    insert_sorted(index.entry(key).or_default(), entry);
}

fn insert_sorted(entries: &mut Vec<PairEntry>, entry: PairEntry) {
    match entries.last() {
        Some(last) if *last > entry => {
            let at = entries.partition_point(|e| *e < entry);
            entries.insert(at, entry);
        }
        _ => entries.push(entry),
    }
}
