//! What an event is about: the actors and topics it names, for following a log by actor or
//! topic (`stancelog watch --actor/--topic/--issue`).
//!
//! Each event is judged **as known when it was recorded** (the cutoff is its own seq), so the
//! same log gives the same filtered stream whenever it is read, and a stream resumed with
//! `--from-seq` continues exactly where it stopped.

use super::domain::{ActorId, EventBody, Seq, TopicId};
use super::history::History;
use super::query::Filter;

/// The actors and topics an event names.
#[derive(Debug, Default, PartialEq, Eq)]
struct Subjects {
    actors: Vec<ActorId>,
    topics: Vec<TopicId>,
}

impl History {
    /// Whether the event of `seq` concerns what `filter` covers, as known at that seq.
    ///
    /// An event names actors (a stance's actor; a registration's, role's or alias link's
    /// actors; for a correction, retraction or citation, the actor of its target stance, both
    /// before and after a correction) and topics (likewise). A filter's actors cover an actor
    /// when both stand for the same actor once the `actor.aliased` links recorded by `seq` are
    /// followed, as queries treat aliases; its topics and issues cover a topic as queries do
    /// (in the topics, when given, and tagged with one of the issues, when given). The event
    /// is kept when every side the filter restricts and the event names is covered, and at
    /// least one such side exists: with `--actor A --topic T`, A's registration, roles and
    /// links, T's registration, and the stances of A on T (with their notes). An empty filter
    /// keeps every event; a seq not in the history none.
    pub fn concerns(&self, seq: Seq, filter: &Filter) -> bool {
        let by_actor = !filter.actors.is_empty();
        let by_topic = !filter.topics.is_empty() || !filter.issues.is_empty();
        if !by_actor && !by_topic {
            // Nothing to judge: the event's subjects (owned copies) are not worked out.
            return self.stance_slot(seq).is_some() || self.other_body(seq).is_some();
        }
        let Some(s) = self.subjects(seq) else {
            return false;
        };
        let actor_side = (by_actor && !s.actors.is_empty()).then(|| {
            let wanted: Vec<&ActorId> = filter
                .actors
                .iter()
                .map(|a| self.canonical_actor(a, seq))
                .collect();
            s.actors
                .iter()
                .any(|a| wanted.contains(&self.canonical_actor(a, seq)))
        });
        let topic_side = (by_topic && !s.topics.is_empty()).then(|| {
            s.topics.iter().any(|t| {
                (filter.topics.is_empty() || filter.topics.contains(t))
                    && (filter.issues.is_empty()
                        || self
                            .topic(t)
                            .is_some_and(|x| x.issues.iter().any(|i| filter.issues.contains(i))))
            })
        });
        match (actor_side, topic_side) {
            (None, None) => false,
            (a, t) => a.unwrap_or(true) && t.unwrap_or(true),
        }
    }

    /// The actors and topics the event of `seq` names (see [`History::concerns`]).
    fn subjects(&self, seq: Seq) -> Option<Subjects> {
        let mut s = Subjects::default();
        if let Some(st) = self.stance(seq) {
            s.actors.push(st.actor);
            s.topics.push(st.topic);
            return Some(s);
        }
        let (target, before) = match self.other_body(seq)? {
            EventBody::ActorRegistered(a) => return Some(actor_only(vec![a.actor.clone()])),
            EventBody::ActorRole(r) => return Some(actor_only(vec![r.actor.clone()])),
            EventBody::ActorAliased(l) => {
                return Some(actor_only(vec![l.actor.clone(), l.alias.clone()]));
            }
            EventBody::TopicRegistered(t) => {
                s.topics.push(t.topic.clone());
                return Some(s);
            }
            EventBody::StanceCorrected(c) => (c.target, true),
            EventBody::StanceRetracted(r) => (r.target, false),
            EventBody::StanceCited(c) => (c.target, false),
            EventBody::StanceDeclared(_) => return Some(s),
        };
        let t = self.seq_of(&target)?;
        let cutoffs: &[Seq] = if before { &[seq - 1, seq] } else { &[seq] };
        for cutoff in cutoffs {
            if let Some(st) = self.stance_known(t, *cutoff) {
                s.actors.push(st.actor);
                s.topics.push(st.topic);
            }
        }
        Some(s)
    }
}

fn actor_only(actors: Vec<ActorId>) -> Subjects {
    Subjects {
        actors,
        topics: Vec::new(),
    }
}
