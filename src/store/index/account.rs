//! The manifest's account of the whole log (recorded times, counts of actors and topics, the
//! dates of stances), brought up to date from the events of one update alone.
//!
//! An update sees only the history it was given: for a writer, a sparse one holding the new
//! events, the registrations they name, and the stances they target with their notes. So the
//! counts are kept by difference: each stance a new event touches (a new stance, or the target
//! of a new correction or retraction) is taken out of the account as it stood at the index's
//! old end and put back as it stands now.

use std::collections::{BTreeMap, HashMap};

use super::manifest::Manifest;
use crate::core::{ActorEntry, ActorId, EventBody, History, Seq, TopicEntry, TopicId, ValidDate};

/// What one stance adds to the account as known at a cutoff: its actor and topic symbols (as
/// corrected by then), its date, whether it was retracted by then.
type Share = (u32, u32, ValidDate, bool);

fn share(h: &History, seq: Seq, cutoff: Seq) -> Option<Share> {
    let slot = h.stance_slot(seq)?;
    let (actor, topic, date, _) = h.stance_key(seq, slot, cutoff)?;
    let retracted = h.retracted_by(seq).is_some_and(|r| r <= cutoff);
    Some((actor, topic, date, retracted))
}

/// Brings `m`'s account up to the events `from + 1..=last` of `h` (which must hold them, and
/// every stance they correct or retract with all its notes). `m` described the log up to
/// `from`.
pub(super) fn account(m: &mut Manifest, h: &History, from: Seq, last: Seq) {
    let mut actors: BTreeMap<_, _> = std::mem::take(&mut m.actors).into_iter().collect();
    let mut topics: BTreeMap<_, _> = std::mem::take(&mut m.topics).into_iter().collect();
    let touched = walk(m, h, from, last, &mut actors, &mut topics);
    // Differences by actor symbol, topic symbol and date: (stances, retracted).
    let mut by_actor: HashMap<u32, (i64, i64)> = HashMap::new();
    let mut by_topic: HashMap<u32, (i64, i64)> = HashMap::new();
    let mut by_date: BTreeMap<ValidDate, i64> = BTreeMap::new();
    let mut add = |s: Share, sign: i64| {
        let r = if s.3 { sign } else { 0 };
        let a = by_actor.entry(s.0).or_default();
        *a = (a.0 + sign, a.1 + r);
        let t = by_topic.entry(s.1).or_default();
        *t = (t.0 + sign, t.1 + r);
        *by_date.entry(s.2).or_default() += sign;
    };
    for seq in touched {
        if seq <= from
            && let Some(s) = share(h, seq, from)
        {
            add(s, -1);
        }
        if let Some(s) = share(h, seq, Seq::MAX) {
            add(s, 1);
        }
    }
    let bump = |n: &mut u64, d: i64| *n = n.saturating_add_signed(d);
    for (sym, (s, r)) in by_actor {
        if let Some(e) = actors.get_mut(h.actor_syms.item(sym)) {
            bump(&mut e.stances, s);
            bump(&mut e.retracted, r);
        }
    }
    for (sym, (s, r)) in by_topic {
        if let Some(e) = topics.get_mut(h.topic_syms.item(sym)) {
            bump(&mut e.stances, s);
            bump(&mut e.retracted, r);
        }
    }
    let mut dates: BTreeMap<ValidDate, u64> = std::mem::take(&mut m.dates).into_iter().collect();
    for (date, d) in by_date {
        let n = dates.entry(date).or_default();
        bump(n, d);
        if *n == 0 {
            dates.remove(&date);
        }
    }
    m.dates = dates.into_iter().collect();
    m.actors = actors.into_iter().collect();
    m.topics = topics.into_iter().collect();
}

/// Walks the events `from + 1..=last` of `h`: extends `m`'s recorded-time runs, enters each new
/// registration with no stances, and returns the stances whose share may have changed (new
/// stances, and the targets of new corrections and retractions), in seq order, once each.
fn walk(
    m: &mut Manifest,
    h: &History,
    from: Seq,
    last: Seq,
    actors: &mut BTreeMap<ActorId, ActorEntry>,
    topics: &mut BTreeMap<TopicId, TopicEntry>,
) -> Vec<Seq> {
    let mut touched: Vec<Seq> = Vec::new();
    for seq in from + 1..=last {
        if let Some(t) = h.recorded_at(seq)
            && m.runs.last().is_none_or(|(_, prev)| *prev != t)
        {
            m.runs.push((seq, t));
        }
        if h.stance_slot(seq).is_some() {
            touched.push(seq);
            continue;
        }
        let target = match h.other_body(seq) {
            Some(EventBody::ActorRegistered(a)) => {
                let e = ActorEntry {
                    seq,
                    stances: 0,
                    retracted: 0,
                };
                actors.insert(a.actor.clone(), e);
                continue;
            }
            Some(EventBody::TopicRegistered(t)) => {
                let e = TopicEntry {
                    seq,
                    stances: 0,
                    retracted: 0,
                };
                topics.insert(t.topic.clone(), e);
                continue;
            }
            Some(EventBody::StanceCorrected(c)) => c.target,
            Some(EventBody::StanceRetracted(r)) => r.target,
            _ => continue,
        };
        touched.extend(h.seq_of(&target));
    }
    touched.sort_unstable();
    touched.dedup();
    touched
}
