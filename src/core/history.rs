//! The fold: events applied in `seq` order into an in-memory history that answers queries.
//!
//! Deciding and applying are separate. [`History::check`] decides whether a new event may join
//! the log and can fail with a [`Rejection`]; [`History::apply`] folds an already-checked event in
//! and cannot fail. Nothing here reads files or the clock.

use std::collections::{BTreeMap, HashMap};

use uuid::Uuid;

use super::date::ValidDate;
use super::domain::{
    ActorId, ActorRegistered, Event, EventBody, PloverType, Seq, Stance, StanceDeclared, TopicId,
    TopicKind, TopicRegistered,
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
        /// `actor` or `recipient`.
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
    /// `stance.retracted` names an id that is not in the log.
    #[error("retraction target {0} is not in the log")]
    UnknownTarget(Uuid),
    /// `stance.retracted` names an event that is not a `stance.declared`.
    #[error("retraction target {target} is a {type_name}, not a stance.declared")]
    TargetNotStance {
        /// The id.
        target: Uuid,
        /// Its event type.
        type_name: &'static str,
    },
    /// `stance.retracted` names a stance that is already retracted.
    #[error("stance {target} is already retracted (seq {by})")]
    AlreadyRetracted {
        /// The id.
        target: Uuid,
        /// The retraction.
        by: Seq,
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
        }
    }
}

/// A registered actor with its counts.
#[derive(Debug, Clone)]
pub struct ActorEntry {
    /// Seq of its `actor.registered`.
    pub seq: Seq,
    /// `stance.declared` events naming it as actor, retracted ones included.
    pub stances: u64,
    /// How many of those are retracted.
    pub retracted: u64,
}

/// A registered topic with its counts.
#[derive(Debug, Clone)]
pub struct TopicEntry {
    /// Seq of its `topic.registered`.
    pub seq: Seq,
    /// `stance.declared` events on it, retracted ones included.
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

/// The folded log: every event in `seq` order plus the indexes queries need.
///
/// Invariant: `events[i].seq == i + 1`; each pair's entries are sorted by `(date, seq)`, the
/// canonical order.
#[derive(Debug, Clone, Default)]
pub struct History {
    events: Vec<Event>,
    ids: HashMap<Uuid, Seq>,
    actors: BTreeMap<ActorId, ActorEntry>,
    topics: BTreeMap<TopicId, TopicEntry>,
    pub(crate) pairs: BTreeMap<(ActorId, TopicId), Vec<PairEntry>>,
    /// Retracted stance seq -> seq of the retraction.
    retractions: HashMap<Seq, Seq>,
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
        self.retractions.get(&seq).copied()
    }

    /// The `stance.declared` with this seq, if that event is one.
    pub fn stance(&self, seq: Seq) -> Option<(&Event, &StanceDeclared)> {
        let event = self.event(seq)?;
        match &event.body {
            EventBody::StanceDeclared(s) => Some((event, s)),
            _ => None,
        }
    }

    /// The latest valid-time date of any stance, if there is one.
    pub fn date_last(&self) -> Option<ValidDate> {
        self.pairs
            .values()
            .filter_map(|v| v.last())
            .map(|e| e.date)
            .max()
    }

    /// Decides whether an event with this id and body may be appended next.
    ///
    /// # Errors
    /// A [`Rejection`] naming the rule broken: duplicate id or registration, unknown actor, topic
    /// or target, a stance unfit for its topic's kind, a missing PLOVER recipient, a double
    /// retraction.
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
            EventBody::StanceRetracted(r) => {
                let seq = self
                    .seq_of(&r.target)
                    .ok_or(Rejection::UnknownTarget(r.target))?;
                let target = self.event(seq).ok_or(Rejection::UnknownTarget(r.target))?;
                if !matches!(target.body, EventBody::StanceDeclared(_)) {
                    return Err(Rejection::TargetNotStance {
                        target: r.target,
                        type_name: target.body.type_name(),
                    });
                }
                match self.retracted_by(seq) {
                    Some(by) => Err(Rejection::AlreadyRetracted {
                        target: r.target,
                        by,
                    }),
                    None => Ok(()),
                }
            }
        }
    }

    fn check_stance(&self, s: &StanceDeclared) -> Result<(), Rejection> {
        if !self.actors.contains_key(&s.actor) {
            return Err(Rejection::UnknownActor {
                field: "actor",
                actor: s.actor.clone(),
            });
        }
        let topic = self
            .topic(&s.topic)
            .ok_or_else(|| Rejection::UnknownTopic(s.topic.clone()))?;
        if s.stance.topic_kind() != topic.kind {
            let allowed: Vec<&str> = Stance::ALL
                .iter()
                .filter(|x| x.topic_kind() == topic.kind)
                .map(|x| x.as_str())
                .collect();
            return Err(Rejection::StanceUnfit {
                stance: s.stance,
                topic: s.topic.clone(),
                kind: topic.kind,
                allowed: allowed.join(", "),
            });
        }
        if let Some(recipient) = &s.recipient {
            if !self.actors.contains_key(recipient) {
                return Err(Rejection::UnknownActor {
                    field: "recipient",
                    actor: recipient.clone(),
                });
            }
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
                let entries = self
                    .pairs
                    .entry((s.actor.clone(), s.topic.clone()))
                    .or_default();
                let entry = PairEntry { date: s.date, seq };
                // Appends are mostly in date order: the common case is a push.
                match entries.last() {
                    Some(last) if *last > entry => {
                        let at = entries.partition_point(|e| *e < entry);
                        entries.insert(at, entry);
                    }
                    _ => entries.push(entry),
                }
                self.count(&s.actor, &s.topic, 1, 0);
            }
            EventBody::StanceRetracted(r) => {
                if let Some(target) = self.seq_of(&r.target) {
                    self.retractions.insert(target, seq);
                    if let Some((_, s)) = self.stance(target) {
                        let (actor, topic) = (s.actor.clone(), s.topic.clone());
                        self.count(&actor, &topic, 0, 1);
                    }
                }
            }
        }
        self.events.push(event);
    }

    fn count(&mut self, actor: &ActorId, topic: &TopicId, stances: u64, retracted: u64) {
        if let Some(a) = self.actors.get_mut(actor) {
            a.stances += stances;
            a.retracted += retracted;
        }
        if let Some(t) = self.topics.get_mut(topic) {
            t.stances += stances;
            t.retracted += retracted;
        }
    }

    /// Undoes every event after `seq`, so a batch that failed half-way leaves no trace.
    pub fn rollback_to(&mut self, seq: Seq) {
        while self.seq_last() > seq {
            let Some(event) = self.events.pop() else {
                return;
            };
            self.ids.remove(&event.id);
            match &event.body {
                EventBody::ActorRegistered(a) => {
                    self.actors.remove(&a.actor);
                }
                EventBody::TopicRegistered(t) => {
                    self.topics.remove(&t.topic);
                }
                EventBody::StanceDeclared(s) => {
                    let key = (s.actor.clone(), s.topic.clone());
                    if let Some(entries) = self.pairs.get_mut(&key) {
                        entries.retain(|e| e.seq != event.seq);
                        if entries.is_empty() {
                            self.pairs.remove(&key);
                        }
                    }
                    self.uncount(&s.actor, &s.topic, 1, 0);
                }
                EventBody::StanceRetracted(r) => {
                    if let Some(target) = self.seq_of(&r.target) {
                        self.retractions.remove(&target);
                        if let Some((_, s)) = self.stance(target) {
                            let (actor, topic) = (s.actor.clone(), s.topic.clone());
                            self.uncount(&actor, &topic, 0, 1);
                        }
                    }
                }
            }
        }
    }

    fn uncount(&mut self, actor: &ActorId, topic: &TopicId, stances: u64, retracted: u64) {
        if let Some(a) = self.actors.get_mut(actor) {
            a.stances -= stances;
            a.retracted -= retracted;
        }
        if let Some(t) = self.topics.get_mut(topic) {
            t.stances -= stances;
            t.retracted -= retracted;
        }
    }
}
