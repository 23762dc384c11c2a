//! The keys events are filed under in the index, and which events a filter needs.
//!
//! - `g`: every registration, alias link and role (few; every query folds them all);
//! - `l`: every alias link and role (every query folds them; the registrations of `g` it
//!   needs are few, found by the account);
//! - `a\0ID`: each `stance.declared` whose actor is (or, after a correction, was at some
//!   cutoff) `ID`, and every correction, retraction and citation of it;
//! - `t\0ID`: the same by topic;
//! - `n\0SEQ` (8 bytes, little-endian): the corrections, retractions and citations of the
//!   stance of that seq.
//!
//! A posting list is a superset of what a query under that key needs: folding the events it
//! names (with every `g` event) into a sparse [`History`] gives the same answer as the whole
//! log for the pairs the key covers, since a pair's answer depends only on its stances, what
//! later events say about them, registrations, alias links and roles. A correction that moves
//! a stance to another actor or topic files the stance, and every note of it so far, under the
//! new keys too, in the correction's segment: lists are unions over segments.

use std::collections::BTreeSet;

use super::segment::Postings;
use crate::core::{ActorId, EventBody, History, Seq, TopicId};

/// The key of registrations, alias links and roles.
pub(crate) const GLOBAL: &[u8] = b"g";

/// The key of alias links and roles alone.
pub(crate) const LINKS: &[u8] = b"l";

pub(crate) fn actor_key(id: &ActorId) -> Vec<u8> {
    [b"a\0", id.as_str().as_bytes()].concat()
}

pub(crate) fn topic_key(id: &TopicId) -> Vec<u8> {
    [b"t\0", id.as_str().as_bytes()].concat()
}

pub(crate) fn notes_key(seq: Seq) -> Vec<u8> {
    [&b"n\0"[..], &seq.to_le_bytes()].concat()
}

/// Every note (correction, retraction, citation) of the stance of `seq`, in log order.
fn notes_of(h: &History, seq: Seq) -> Vec<Seq> {
    let Some(n) = h.notes.get(&seq) else {
        return Vec::new();
    };
    let mut all: Vec<Seq> = n.corrections.iter().chain(&n.citations).copied().collect();
    all.extend(n.retracted_by);
    all.sort_unstable();
    all
}

/// The actor and topic keys of a stance: as first recorded and after each correction.
fn stance_keys(h: &History, seq: Seq) -> BTreeSet<Vec<u8>> {
    let mut keys = BTreeSet::new();
    let Some(first) = h.stance(seq) else {
        return keys;
    };
    keys.insert(actor_key(&first.actor));
    keys.insert(topic_key(&first.topic));
    for c in h.notes.get(&seq).map_or(&[][..], |n| &n.corrections[..]) {
        if let Some(s) = h.stance_known(seq, *c) {
            keys.insert(actor_key(&s.actor));
            keys.insert(topic_key(&s.topic));
        }
    }
    keys
}

/// Files each symbol's list of `lists` (indexed by symbol) under its key, `key(symbol)`.
fn file_by_symbol(p: &mut Postings, lists: Vec<Vec<Seq>>, key: impl Fn(u32) -> Vec<u8>) {
    for (sym, seqs) in lists.into_iter().enumerate() {
        if !seqs.is_empty() {
            p.entry(key(sym as u32)).or_default().extend(seqs);
        }
    }
}

/// The posting lists of the events `first..=last` of `h`.
///
/// A stance never corrected (nearly all) is filed by its actor's and topic's symbols first,
/// and each symbol's list put under its key once at the end: making its two keys, and an
/// owned copy of the stance, for each stance was most of a build's posting lists.
pub(crate) fn postings(h: &History, first: Seq, last: Seq) -> Postings {
    let mut p = Postings::default();
    let mut by_actor: Vec<Vec<Seq>> = vec![Vec::new(); h.actor_syms.len()];
    let mut by_topic: Vec<Vec<Seq>> = vec![Vec::new(); h.topic_syms.len()];
    let mut file = |key: Vec<u8>, seq: Seq| p.entry(key).or_default().push(seq);
    for seq in first..=last {
        if let Some(slot) = h.stance_slot(seq) {
            if h.notes.get(&seq).is_none_or(|n| n.corrections.is_empty()) {
                by_actor[slot.actor as usize].push(seq);
                by_topic[slot.topic as usize].push(seq);
            } else {
                for k in stance_keys(h, seq) {
                    file(k, seq);
                }
            }
            continue;
        }
        let (target, moves) = match h.other_body(seq) {
            Some(EventBody::StanceCorrected(c)) => (c.target, true),
            Some(EventBody::StanceRetracted(r)) => (r.target, false),
            Some(EventBody::StanceCited(c)) => (c.target, false),
            Some(EventBody::ActorAliased(_) | EventBody::ActorRole(_)) => {
                file(GLOBAL.to_vec(), seq);
                file(LINKS.to_vec(), seq);
                continue;
            }
            Some(_) => {
                file(GLOBAL.to_vec(), seq);
                continue;
            }
            None => continue,
        };
        let Some(t) = h.seq_of(&target) else {
            continue;
        };
        file(notes_key(t), seq);
        for k in stance_keys(h, t) {
            if moves {
                file(k.clone(), t);
                for n in notes_of(h, t) {
                    file(k.clone(), n);
                }
            }
            file(k, seq);
        }
    }
    file_by_symbol(&mut p, by_actor, |sym| actor_key(h.actor_syms.item(sym)));
    file_by_symbol(&mut p, by_topic, |sym| topic_key(h.topic_syms.item(sym)));
    for list in p.values_mut() {
        list.sort_unstable();
        list.dedup();
    }
    p
}
