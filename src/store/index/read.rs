//! Reading an opened index: the events a filter needs, folded into a sparse [`History`].
//!
//! Errors here are damage found while reading (a record or posting list whose check fails),
//! given in words: the caller discards the index, rebuilds it and asks again.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use uuid::Uuid;

use super::Index;
use super::keys::{self, GLOBAL};
use super::segment::Segment;
use crate::core::{ActorId, Event, EventBody, Filter, History, Seq};

/// Events are decoded on worker threads in windows of this many (bounded memory).
const WINDOW: usize = 1 << 16;

/// Damage found while reading, in words.
pub type Damage = String;

impl Index {
    pub(super) fn segment_of(&self, seq: Seq) -> Option<&Segment> {
        let i = self.segments.partition_point(|s| s.last < seq);
        self.segments.get(i).filter(|s| s.first <= seq)
    }

    /// The event of `seq`.
    pub(super) fn event(&self, seq: Seq) -> Result<Event, Damage> {
        Ok(self.events(&[seq])?.remove(0))
    }

    /// The events of `seqs` (sorted), from the segments that hold them.
    fn events(&self, seqs: &[Seq]) -> Result<Vec<Event>, Damage> {
        let mut out = Vec::with_capacity(seqs.len());
        let mut rest = seqs;
        while let Some(first) = rest.first() {
            let seg = self
                .segment_of(*first)
                .ok_or_else(|| format!("no segment holds seq {first}"))?;
            let n = rest.partition_point(|s| *s <= seg.last);
            out.extend(seg.events(&rest[..n])?);
            rest = &rest[n..];
        }
        Ok(out)
    }

    /// The seqs filed under `key` in any segment, sorted, without repeats.
    pub(super) fn postings(&self, key: &[u8]) -> Result<Vec<Seq>, Damage> {
        let mut out = Vec::new();
        for s in &self.segments {
            s.postings(key, &mut out)?;
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Folds the events of `seqs` (sorted) into `h`, decoding them on worker threads a window
    /// at a time.
    fn fold(&self, h: &mut History, seqs: &[Seq]) -> Result<(), Damage> {
        for window in seqs.chunks(WINDOW) {
            let events: Vec<Event> = if window.len() < 1024 {
                self.events(window)?
            } else {
                window
                    .par_chunks(4096)
                    .map(|c| self.events(c))
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter()
                    .flatten()
                    .collect()
            };
            for e in events {
                h.apply(e);
            }
        }
        Ok(())
    }

    /// Every registration, alias link and role, in log order (decoded once per index).
    fn globals(&self) -> Result<&[Event], Damage> {
        if let Some(g) = self.globals.get() {
            return Ok(g);
        }
        let events = self.events(&self.postings(GLOBAL)?)?;
        Ok(self.globals.get_or_init(|| events))
    }

    /// The seq of the event with this id, if the index holds it.
    pub(crate) fn seq_of(&self, id: &Uuid) -> Result<Option<Seq>, Damage> {
        for s in self.segments.iter().rev() {
            if let Some(seq) = s.seq_of(id)? {
                return Ok(Some(seq));
            }
        }
        Ok(None)
    }

    /// A sparse history of the log up to the index's end ([`History::sparse_to`]) holding
    /// what checking new events after it needs: every registration, alias link and role; the
    /// event of each of their ids (`ids`) that the index holds, for the idempotent-append
    /// check; and each stance they name as target (`targets`), with every correction,
    /// retraction and citation of it. A writer checks a batch against it, and the index is
    /// updated from it (the posting lists and counts of new events need nothing else).
    ///
    /// # Errors
    /// Damage found while reading, in words.
    pub(crate) fn history_for(&self, ids: &[Uuid], targets: &[Uuid]) -> Result<History, Damage> {
        let mut seqs = Vec::new();
        for id in ids {
            seqs.extend(self.seq_of(id)?);
        }
        for t in targets {
            if let Some(seq) = self.seq_of(t)? {
                seqs.push(seq);
                seqs.extend(self.postings(&keys::notes_key(seq))?);
            }
        }
        seqs.sort_unstable();
        seqs.dedup();
        let globals = self.globals()?;
        seqs.retain(|s| globals.binary_search_by_key(s, |e| e.seq).is_err());
        let mut h = History::sparse_to(self.seq_last());
        let mut rest = seqs.as_slice();
        for e in globals {
            let n = rest.partition_point(|s| *s < e.seq);
            self.fold(&mut h, &rest[..n])?;
            rest = &rest[n..];
            h.apply(e.clone());
        }
        self.fold(&mut h, rest)?;
        Ok(h)
    }

    /// A sparse history of the registrations, alias links and roles alone: enough to resolve
    /// `--actor`, `--topic` and `--issue` and to name actors and topics.
    ///
    /// # Errors
    /// Damage found while reading, in words.
    pub fn registry(&self) -> Result<History, Damage> {
        if let Some(h) = &self.memory {
            return Ok(h.clone());
        }
        let mut h = History::sparse();
        for e in self.globals()? {
            h.apply(e.clone());
        }
        Ok(h)
    }

    /// A history that answers every query under `filter` as the whole log does: the whole
    /// log's events when the filter is empty, else a sparse history of the events the filter's
    /// posting lists name and every registration, alias link and role.
    ///
    /// # Errors
    /// Damage found while reading, in words.
    pub fn history(&self, filter: &Filter) -> Result<History, Damage> {
        if let Some(h) = &self.memory {
            return Ok(h.clone());
        }
        let Some(rest) = self.selection(filter)? else {
            let mut h = History::new();
            let all: Vec<Seq> = (1..=self.seq_last()).collect();
            self.fold(&mut h, &all)?;
            return Ok(h);
        };
        // Fold the selection and the globals together in seq order (no seq is in both: they
        // are filed under different keys).
        let mut h = History::sparse();
        let mut rest = rest.as_slice();
        for e in self.globals()? {
            let n = rest.partition_point(|s| *s < e.seq);
            self.fold(&mut h, &rest[..n])?;
            rest = &rest[n..];
            h.apply(e.clone());
        }
        self.fold(&mut h, rest)?;
        Ok(h)
    }

    /// The seqs (besides the globals) a filter needs, or `None` for all of them. With both an
    /// actor and a topic condition, the two lists are intersected: a stance covered by both is
    /// filed under the actor and the topic it has at any cutoff, and so is each note of it.
    fn selection(&self, filter: &Filter) -> Result<Option<Vec<Seq>>, Damage> {
        let by_actor = if filter.actors.is_empty() {
            None
        } else {
            let mut seqs = Vec::new();
            for a in self.alias_closure(&filter.actors)? {
                seqs.extend(self.postings(&keys::actor_key(&a))?);
            }
            Some(seqs)
        };
        let by_topic = if filter.topics.is_empty() && filter.issues.is_empty() {
            None
        } else {
            let mut seqs = Vec::new();
            for t in self.globals()?.iter().filter_map(|e| match &e.body {
                EventBody::TopicRegistered(t) => Some(t),
                _ => None,
            }) {
                let named = filter.topics.is_empty() || filter.topics.contains(&t.topic);
                let tagged =
                    filter.issues.is_empty() || t.issues.iter().any(|i| filter.issues.contains(i));
                if named && tagged {
                    seqs.extend(self.postings(&keys::topic_key(&t.topic))?);
                }
            }
            Some(seqs)
        };
        let sorted = |mut v: Vec<Seq>| {
            v.sort_unstable();
            v.dedup();
            v
        };
        Ok(match (by_actor, by_topic) {
            (None, None) => None,
            (Some(a), None) => Some(sorted(a)),
            (None, Some(t)) => Some(sorted(t)),
            (Some(a), Some(t)) => {
                let t = sorted(t);
                Some(
                    sorted(a)
                        .into_iter()
                        .filter(|s| t.binary_search(s).is_ok())
                        .collect(),
                )
            }
        })
    }

    /// The actors linked to any of `actors` by `actor.aliased`, in either direction and at any
    /// time, with them.
    fn alias_closure(&self, actors: &BTreeSet<ActorId>) -> Result<BTreeSet<ActorId>, Damage> {
        let mut links: BTreeMap<&ActorId, Vec<&ActorId>> = BTreeMap::new();
        for e in self.globals()? {
            if let EventBody::ActorAliased(a) = &e.body {
                links.entry(&a.actor).or_default().push(&a.alias);
                links.entry(&a.alias).or_default().push(&a.actor);
            }
        }
        let mut seen: BTreeSet<ActorId> = actors.clone();
        let mut todo: Vec<ActorId> = actors.iter().cloned().collect();
        while let Some(a) = todo.pop() {
            for b in links.get(&a).into_iter().flatten() {
                if seen.insert((*b).clone()) {
                    todo.push((*b).clone());
                }
            }
        }
        Ok(seen)
    }
}
