//! Reading an opened index: the events a filter needs, folded into a sparse [`History`].
//!
//! Errors here are damage found while reading (a record or posting list whose check fails),
//! given in words: the caller discards the index, rebuilds it and asks again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use rayon::prelude::*;
use rustc_hash::FxHashSet;
use uuid::Uuid;

use super::Index;
use super::keys::{self, GLOBAL, LINKS};
use super::segment::{
    Located, PlainStance, RecordBytes, Segment, decode_body, fold_record, fold_stance,
    plain_stance, sort_located,
};
use super::topics;
use crate::core::{ActorId, Event, EventBody, Filter, History, Seq, TopicId};
use crate::store::NewEvent;
use crate::store::codec::{LastParsed, Reader, RecordRef};

/// Records are read and their checks verified on worker threads in windows of this many events
/// (bounded memory: the buffers handed back are capped too). Each window's buffers are handed
/// back for the window after next, so all but the first two windows' are reused: with 65,536
/// events a window, `positions --issue nu` on the UN votes log took its record buffers fresh
/// from the system (zeroed by the kernel, a fifth of its CPU time); with 16,384, a query of
/// every pair took about 4% less CPU and the `--issue` query a quarter less.
const WINDOW: usize = 1 << 14;
/// Events a worker reads at once, and the buffers it takes for them from those handed back
/// (about 1.4 MB of records of the UN votes log, read up to 1 MiB at a time).
const CHUNK: usize = 4096;
const CHUNK_BUFFERS: usize = 4;

/// Selections of fewer records than this are read on the calling thread: a one-actor query
/// of the UN votes log (6,157 stances and as many registrations) took about a tenth less CPU
/// without the worker threads (their start, and the fresh memory each thread's allocations
/// took), and no longer at that machine's load; with the JSON writer's own threshold
/// (`export::json`), its peak fell 8 MB (the timeline's 4 MB).
const READ_ALONE: usize = 1 << 14;

/// The topics' registrations a fold needs are taken from the segments' topic tables when it
/// needs at least one topic in this many of the index's (and one at least), else from their
/// records (a one-event append to an index of many topics reads one record, not every table;
/// an index of few topics has small tables): an entry passed over costs about a fortieth of
/// a registration's record read and decoded (about 100 instructions against 4,500 on the UN
/// votes log, where a one-actor query needs 6,156 of 6,203 topics).
const TABLE_SHARE: usize = 64;

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

    /// The event of `seq`, or `None` when the index does not cover it (0, or after its end).
    ///
    /// # Errors
    /// Damage found while reading, in words.
    pub fn event_at(&self, seq: Seq) -> Result<Option<Event>, Damage> {
        if let Some(h) = &self.memory {
            return Ok(h.event(seq));
        }
        if seq == 0 || seq > self.seq_last() {
            return Ok(None);
        }
        self.event(seq).map(Some)
    }

    /// The events of `seqs` (sorted), from the segments that hold them.
    fn events(&self, seqs: &[Seq]) -> Result<Vec<Event>, Damage> {
        let mut out = Vec::with_capacity(seqs.len());
        self.by_segment(
            seqs,
            |s| *s,
            |seg, seqs| {
                out.extend(seg.events(seqs)?);
                Ok(())
            },
        )?;
        Ok(out)
    }

    /// Calls `each` with every segment that holds some of `items` (sorted by their seq, which
    /// `seq` gives) and those items, in order.
    fn by_segment<T>(
        &self,
        items: &[T],
        seq: impl Fn(&T) -> Seq,
        mut each: impl FnMut(&Segment, &[T]) -> Result<(), Damage>,
    ) -> Result<(), Damage> {
        let mut rest = items;
        while let Some(first) = rest.first().map(&seq) {
            let seg = self
                .segment_of(first)
                .ok_or_else(|| format!("no segment holds seq {first}"))?;
            let n = rest.partition_point(|s| seq(s) <= seg.last);
            each(seg, &rest[..n])?;
            rest = &rest[n..];
        }
        Ok(())
    }

    /// The record bodies of `seqs` (sorted), their checks verified, from the segments that
    /// hold them, read into buffers taken from `spare` where it has them.
    fn records(&self, seqs: &[Seq], spare: &mut Vec<Vec<u8>>) -> Result<Vec<RecordBytes>, Damage> {
        let mut out = Vec::new();
        self.by_segment(
            seqs,
            |s| *s,
            |seg, seqs| {
                out.push(seg.records(seqs, spare)?);
                Ok(())
            },
        )?;
        Ok(out)
    }

    /// [`Index::records`] of `located` (sorted by seq): a record whose span its posting list
    /// gave is read without its segment's offsets table.
    fn records_located(&self, located: &[Located]) -> Result<Vec<RecordBytes>, Damage> {
        let mut out = Vec::new();
        self.by_segment(
            located,
            |l| l.seq,
            |seg, part| {
                out.push(seg.records_located(part, &mut Vec::new())?);
                Ok(())
            },
        )?;
        Ok(out)
    }

    /// The events of `located` (sorted by seq).
    fn events_located(&self, located: &[Located]) -> Result<Vec<Event>, Damage> {
        let mut last = LastParsed::default();
        let mut out = Vec::with_capacity(located.len());
        for part in self.records_located(located)? {
            for (seq, body) in part.iter() {
                out.push(decode_body(seq, body, &mut last)?);
            }
        }
        Ok(out)
    }

    /// The seqs filed under `key` in any segment, sorted, without repeats, each with where its
    /// record is when its posting list gives it.
    pub(super) fn located(&self, key: &[u8]) -> Result<Vec<Located>, Damage> {
        let mut out = Vec::new();
        for s in &self.segments {
            s.located(key, &mut out)?;
        }
        sort_located(&mut out);
        Ok(out)
    }

    /// The `g` list (every registration, alias link and role) with where each record is
    /// (read once per index).
    fn global_located(&self) -> Result<&[Located], Damage> {
        if let Some(g) = self.global_located.get() {
            return Ok(g);
        }
        let g = self.located(GLOBAL)?;
        Ok(self.global_located.get_or_init(|| g))
    }

    /// Folds the events of `seqs` (sorted) into `h`, a window at a time: worker threads read
    /// the next window's records and verify their checks while the calling thread folds the
    /// last one straight from its bytes (`segment::fold_record`: a stance needs no owned
    /// event, the history interns what it keeps), then hands the window's buffers back for
    /// the next reads. Decoding into owned events on the workers and folding those was half
    /// the time of a query of every pair.
    fn fold(&self, h: &mut History, seqs: &[Seq]) -> Result<(), Damage> {
        let spare: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
        let read = |window: &[Seq]| -> Result<Vec<Vec<RecordBytes>>, Damage> {
            window
                .par_chunks(CHUNK)
                .map(|c| {
                    let mut mine = match spare.lock() {
                        Ok(mut s) => {
                            let keep = s.len().saturating_sub(CHUNK_BUFFERS);
                            s.split_off(keep)
                        }
                        Err(_) => Vec::new(),
                    };
                    let read = self.records(c, &mut mine);
                    // The buffers not used (a chunk within one segment takes one) go back:
                    // dropped, they left the next chunks fresh memory to zero (most of the
                    // buffers of a query of every pair were fresh).
                    if let Ok(mut s) = spare.lock() {
                        s.append(&mut mine);
                    }
                    read
                })
                .collect()
        };
        let apply = |h: &mut History, parts: Vec<Vec<RecordBytes>>| -> Result<(), Damage> {
            let mut last = LastParsed::default();
            for part in parts.iter().flatten() {
                for (seq, body) in part.iter() {
                    fold_record(h, seq, body, &mut last)?;
                }
            }
            if let Ok(mut s) = spare.lock() {
                s.extend(
                    parts
                        .into_iter()
                        .flatten()
                        .flat_map(RecordBytes::into_buffers),
                );
                // As many as the next window's reads take: a sparse selection reads a buffer
                // per record far from the last, which kept would hold every record read.
                s.truncate(CHUNK_BUFFERS * WINDOW.div_ceil(CHUNK));
            }
            Ok(())
        };
        let mut windows = seqs.chunks(WINDOW);
        let mut done = match windows.next() {
            Some(w) => read(w)?,
            None => return Ok(()),
        };
        for window in windows {
            let (next, applied) = rayon::join(|| read(window), || apply(h, done));
            applied?;
            done = next?;
        }
        apply(h, done)
    }

    /// The events of `seqs` (sorted), decoded on worker threads when there are many.
    pub(super) fn decode(&self, seqs: &[Seq]) -> Result<Vec<Event>, Damage> {
        if seqs.len() < 1024 {
            return self.events(seqs);
        }
        Ok(seqs
            .par_chunks(4096)
            .map(|c| self.events(c))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect())
    }

    /// The alias links and roles, in log order: the `l` list's events (decoded once per
    /// index). They were the `g` list less the registrations, whose seqs the account gave:
    /// reading that list of every registration and leaving those out was a sixth of a
    /// one-actor query of a log of 25,000 actors and topics.
    pub(super) fn links(&self) -> Result<&[Event], Damage> {
        if let Some(l) = self.links.get() {
            return Ok(l);
        }
        let events = self.events_located(&self.located(LINKS)?)?;
        Ok(self.links.get_or_init(|| events))
    }

    /// Where the records of `seqs` (sorted; registrations, alias links and roles) are: for
    /// many, from the `g` list; for fewer than one in 64 of the registrations, and for a seq
    /// not in the list, from their segments' offsets tables (records close together in one
    /// read), without reading the list.
    fn in_globals(&self, seqs: &[Seq]) -> Result<Vec<Located>, Damage> {
        let registrations = self.registered.actor_count() + self.registered.topic_count();
        if seqs.len() * TABLE_SHARE < registrations {
            return Ok(seqs.iter().map(|s| Located::seq(*s)).collect());
        }
        let g = self.global_located()?;
        Ok(seqs
            .iter()
            .map(|s| match g.binary_search_by_key(s, |l| l.seq) {
                Ok(i) => g[i],
                Err(_) => Located::seq(*s),
            })
            .collect())
    }

    /// The seq of the registration of actor `id`, if it is registered (from the account).
    pub(super) fn actor_registration(&self, id: &ActorId) -> Option<Seq> {
        self.registered.actor(id.as_str())
    }

    /// The seq of the registration of topic `id`, if it is registered (from the account).
    pub(super) fn topic_registration(&self, id: &TopicId) -> Option<Seq> {
        self.registered.topic(id.as_str())
    }

    /// The seqs of the registrations of `actors` and `topics` (those registered), from the
    /// account, sorted.
    fn registrations(&self, actors: &FxHashSet<&str>, topics: &FxHashSet<&str>) -> Vec<Seq> {
        let mut out = self.registered.actor_seqs_in(actors);
        out.extend(self.registered.topic_seqs_in(topics));
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Folds the events of `selected` (sorted) into `h` with every alias link and role and the
    /// registration of each actor and topic that those, or `actors` and `topics`, name:
    /// everything of the rest of the log that a query on those events, or a check of new
    /// events naming those ids, reads. (Registrations of actors and topics no answer names
    /// are left out: an actor filter on a log of many topics reads only the topics of its
    /// stances.) The records are folded from their bytes (`segment::fold_record`: a stance
    /// needs no owned event), read on worker threads when there are many; decoding each into
    /// an event first was a third of a one-actor query.
    ///
    /// Without `titles`, the registrations of the topics only the selected stances name are
    /// left out too (a timeline whose columns read no topic's title needs none: the topics'
    /// registrations, read, parsed and decoded, were a quarter of a one-actor query).
    fn fold_named(
        &self,
        h: &mut History,
        selected: &[Located],
        actors: &[ActorId],
        topics: &[TopicId],
        titles: bool,
    ) -> Result<(), Damage> {
        let links = self.links()?;
        let picked = self.read_parts(selected)?;
        let tables: Vec<Vec<u8>>;
        let mut last = LastParsed::default();
        let (named, tabled, stances) = {
            let (mut a_links, mut t_links) = (BTreeSet::new(), BTreeSet::new());
            for e in links {
                names(&e.body, &mut a_links, &mut t_links);
            }
            // Gathered in hash sets: a one-actor query of the UN votes log names 6,157 topics
            // (and its actor 6,157 times), which are looked up one by one; a tree's inserts,
            // or sorting lists of them, cost more (sorting was a twentieth of that query).
            // Sized up front for the larger case: up to one name of each kind per selected
            // record (a one-actor query has one actor and a topic per record).
            let sized = || FxHashSet::with_capacity_and_hasher(selected.len(), Default::default());
            let (mut a, mut t) = (sized(), sized());
            a.extend(a_links.into_iter().chain(actors).map(|x| x.as_str()));
            t.extend(t_links.into_iter().chain(topics).map(|x| x.as_str()));
            // Each selected record is parsed once: for its names, and for its stance when it
            // is a plain one (folded from that below; parsing it again was a tenth of a
            // one-actor query).
            let mut stances = Vec::with_capacity(selected.len());
            let mut untitled: Vec<&str> = Vec::new();
            for (seq, body) in picked.iter().flat_map(RecordBytes::iter) {
                let mut r = Reader::new(body);
                stances.push(r.record_ref().ok().and_then(|rec| {
                    // (A correction's topic is not one of a stance's own: the history
                    // knows it by its registration.)
                    if titles || rec.type_name != "stance.declared" {
                        names_in_ref(&rec, &mut a, &mut t);
                    } else {
                        names_in_ref(&rec, &mut a, &mut untitled);
                        untitled.clear();
                    }
                    plain_stance(seq, &rec, r.at_end(), &mut last)
                }));
            }
            // Many topics' registrations are taken from the segments' topic tables, a few
            // from their records (a table holds every topic its segment registers).
            let tabled = if !t.is_empty() && t.len() * TABLE_SHARE >= self.registered.topic_count()
            {
                tables = self.topic_tables()?;
                tabled_topics(&self.segments, &tables, &std::mem::take(&mut t))?
            } else {
                Vec::new()
            };
            let mut seqs = self.registrations(&a, &t);
            retain_absent(&mut seqs, |s| *s, selected.iter().map(|l| l.seq));
            (self.in_globals(&seqs)?, tabled, stances)
        };
        let registered = self.read_parts(&named)?;
        let others = named.len() + tabled.len() + links.len();
        h.reserve(selected.len() + others);
        h.reserve_others(others);
        let sources = Sources {
            registered: &registered,
            tabled,
            links,
        };
        fold_merged(h, &picked, stances, sources, &mut last)
    }

    /// The topic table of each segment (one read of each), checked.
    fn topic_tables(&self) -> Result<Vec<Vec<u8>>, Damage> {
        self.segments.iter().map(Segment::topic_table).collect()
    }

    /// The record bodies of `located` (sorted by seq), read (and their checks verified) on
    /// worker threads when there are many.
    fn read_parts(&self, located: &[Located]) -> Result<Vec<RecordBytes>, Damage> {
        if located.len() < READ_ALONE {
            return self.records_located(located);
        }
        let parts: Vec<Vec<RecordBytes>> = located
            .par_chunks(4096)
            .map(|c| self.records_located(c))
            .collect::<Result<_, _>>()?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Every registration, alias link and role, in log order (decoded once per index).
    pub(super) fn globals(&self) -> Result<&[Event], Damage> {
        if let Some(g) = self.globals.get() {
            return Ok(g);
        }
        let events = self.events_located(self.global_located()?)?;
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
    /// what checking new events after it needs: every alias link and role; the registration
    /// of each actor and topic they name (`actors`, `topics`: actors, recipients, aliases,
    /// topics, those they register) or that the events below name; the event of each of
    /// their ids (`ids`) that the index holds, for the idempotent-append check; and each
    /// stance they name as target (`targets`), with every correction, retraction and citation
    /// of it. A writer checks a batch against it, and the index is
    /// updated from it (the posting lists and counts of new events need nothing else).
    ///
    /// # Errors
    /// Damage found while reading, in words.
    pub(crate) fn history_for(
        &self,
        ids: &[Uuid],
        targets: &[Uuid],
        actors: &[ActorId],
        topics: &[TopicId],
    ) -> Result<History, Damage> {
        let mut seqs = Vec::new();
        for id in ids {
            seqs.extend(self.seq_of(id)?.map(Located::seq));
        }
        self.add_targets(targets, &mut seqs)?;
        sort_located(&mut seqs);
        let mut h = History::sparse_to(self.seq_last());
        self.fold_named(&mut h, &seqs, actors, topics, true)?;
        Ok(h)
    }

    /// Adds to `seqs` each stance of `targets` the index holds, with every note of it.
    fn add_targets(&self, targets: &[Uuid], seqs: &mut Vec<Located>) -> Result<(), Damage> {
        for t in targets {
            if let Some(seq) = self.seq_of(t)? {
                seqs.push(Located::seq(seq));
                seqs.extend(self.located(&keys::notes_key(seq))?);
            }
        }
        Ok(())
    }

    /// A sparse history holding the events `first..=last` (as far as the index covers them)
    /// and what telling whom each concerns and naming it needs: the stances they target with
    /// every note of them, the registrations they name, every alias link and role (a
    /// follower, `stancelog watch`, prints them from it). An index in memory gives the whole
    /// log's fold.
    ///
    /// # Errors
    /// Damage found while reading, in words.
    pub fn history_of_seqs(&self, first: Seq, last: Seq) -> Result<History, Damage> {
        if let Some(h) = &self.memory {
            return Ok(h.clone());
        }
        let range: Vec<Seq> = (first.max(1)..=last.min(self.seq_last())).collect();
        let mut seqs: Vec<Located> = range.iter().map(|s| Located::seq(*s)).collect();
        let targets: Vec<Uuid> = self
            .events(&range)?
            .iter()
            .filter_map(|e| e.body.target())
            .collect();
        self.add_targets(&targets, &mut seqs)?;
        sort_located(&mut seqs);
        let mut h = History::sparse_to(self.seq_last());
        self.fold_named(&mut h, &seqs, &[], &[], true)?;
        // A follower prints every seq of the range: one the index lacks is damage, never a
        // seq skipped in silence.
        match range.iter().find(|s| h.event_meta(**s).is_none()) {
            Some(seq) => Err(format!("seq {seq} is in no segment")),
            None => Ok(h),
        }
    }

    /// `Index::history_for` for a batch of new events: what checking `batch` after the
    /// index's end reads (the events of `ids`, the batch's ids, drawn or given; the stances
    /// its corrections, retractions and citations target, with their notes; the registrations
    /// it names; every alias link and role). An index in memory gives the whole log's fold.
    ///
    /// # Errors
    /// Damage found while reading, in words.
    pub fn history_for_batch(&self, batch: &[NewEvent], ids: &[Uuid]) -> Result<History, Damage> {
        if let Some(h) = &self.memory {
            return Ok(h.clone());
        }
        let targets: Vec<Uuid> = batch.iter().filter_map(|e| e.body.target()).collect();
        let (mut actors, mut topics) = (BTreeSet::new(), BTreeSet::new());
        for e in batch {
            names(&e.body, &mut actors, &mut topics);
        }
        let actors: Vec<ActorId> = actors.into_iter().cloned().collect();
        let topics: Vec<TopicId> = topics.into_iter().cloned().collect();
        self.history_for(ids, &targets, &actors, &topics)
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

    /// A sparse history of every actor's registration, every alias link and role, and the
    /// registrations of the topics those name (roles may name none): what the `actors` table
    /// reads, without the other topics' registrations ([`Index::registry`] folds them all; on
    /// the UN votes log, 6,203 topics beside 200 actors).
    ///
    /// # Errors
    /// Damage found while reading, in words.
    pub fn actor_registry(&self) -> Result<History, Damage> {
        if let Some(h) = &self.memory {
            return Ok(h.clone());
        }
        let actors: Vec<ActorId> = (self.registered.actor_lines()?)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let mut h = History::sparse();
        self.fold_named(&mut h, &[], &actors, &[], true)?;
        Ok(h)
    }

    /// A sparse history enough to resolve `--actor` ids `actors` and `--topic` ids `topics`
    /// and to name them: their registrations, every alias link and role (and what those
    /// name). When a text is not a registered id (it may be a name or an alias), or an issue
    /// is asked for (`issues`), every registration is needed: [`Index::registry`].
    ///
    /// # Errors
    /// Damage found while reading, in words.
    pub fn registry_for(
        &self,
        actors: &[String],
        topics: &[String],
        issues: bool,
    ) -> Result<History, Damage> {
        let m = &self.registered;
        let actor_ids: Option<Vec<ActorId>> = actors
            .iter()
            .map(|a| {
                let id = ActorId::new(a).ok()?;
                m.actor(id.as_str()).is_some().then_some(id)
            })
            .collect();
        let topic_ids: Option<Vec<TopicId>> = topics
            .iter()
            .map(|t| {
                let id = TopicId::new(t).ok()?;
                m.topic(id.as_str()).is_some().then_some(id)
            })
            .collect();
        match (actor_ids, topic_ids) {
            (Some(a), Some(t)) if !issues && self.memory.is_none() => {
                let mut h = History::sparse();
                self.fold_named(&mut h, &[], &a, &t, true)?;
                Ok(h)
            }
            _ => self.registry(),
        }
    }

    /// A history that answers every query under `filter` as the whole log does: the whole
    /// log's events when the filter is empty, else a sparse history of the events the filter's
    /// posting lists name, every alias link and role, and every registration (the analysis
    /// and the report ask about topics and actors beyond their selection).
    ///
    /// # Errors
    /// Damage found while reading, in words.
    pub fn history(&self, filter: &Filter) -> Result<History, Damage> {
        self.history_of(filter, true, true)
    }

    /// [`Index::history`] for positions, diffs and timelines, which name only the actors and
    /// topics of their rows: the registrations of the actors and topics the filter, the alias
    /// links and roles and the selected events name (actors, recipients, both ends of a link).
    /// A one-actor query on a log of many actors and topics reads the registrations of that
    /// actor's topics and recipients, not all. (An `--issue` query reads every registration to
    /// resolve the issue, so it folds them all.)
    ///
    /// # Errors
    /// Damage found while reading, in words.
    pub fn query_history(&self, filter: &Filter) -> Result<History, Damage> {
        self.history_of(filter, false, true)
    }

    /// [`Index::query_history`] for an answer that reads no topic's title (a timeline with
    /// `--columns` naming no `topic_title`; positions and diffs are ordered by title): the
    /// registrations of the topics only its stances name are left out, so the history has
    /// their stances but not their titles ([`History::topic`] is `None` for them). A filter
    /// with an issue still folds every registration.
    ///
    /// # Errors
    /// Damage found while reading, in words.
    pub fn query_history_untitled(&self, filter: &Filter) -> Result<History, Damage> {
        self.history_of(filter, false, false)
    }

    fn history_of(
        &self,
        filter: &Filter,
        every_topic: bool,
        titles: bool,
    ) -> Result<History, Damage> {
        if let Some(h) = &self.memory {
            return Ok(h.clone());
        }
        let Some(rest) = self.selection(filter)? else {
            let mut h = History::new();
            let all: Vec<Seq> = (1..=self.seq_last()).collect();
            h.reserve(all.len());
            self.fold(&mut h, &all)?;
            return Ok(h);
        };
        let mut h = History::sparse();
        if every_topic || !filter.issues.is_empty() {
            // Every registration is wanted (or, for an issue, was read to resolve it anyway):
            // fold them, the alias links and roles (the `g` list) and the selection in one
            // pass from the records' bytes, with no list of decoded events to merge.
            let globals = self.global_located()?;
            let mut seqs: Vec<Seq> = rest.iter().map(|l| l.seq).collect();
            seqs.extend(globals.iter().map(|l| l.seq));
            seqs.sort_unstable();
            seqs.dedup();
            // Sized up front: growing the tables by doubling took fresh memory twice over
            // (a third of the `--issue nu` query's CPU went to the kernel zeroing pages).
            h.reserve(seqs.len());
            h.reserve_others(globals.len());
            self.fold(&mut h, &seqs)?;
            return Ok(h);
        }
        let actors: Vec<ActorId> = filter.actors.iter().cloned().collect();
        let topics: Vec<TopicId> = filter.topics.iter().cloned().collect();
        self.fold_named(&mut h, &rest, &actors, &topics, titles)?;
        Ok(h)
    }

    /// The seqs (besides the globals) a filter needs, with where their records are, or `None`
    /// for all of them. With both an actor and a topic condition, the two lists are
    /// intersected: a stance covered by both is filed under the actor and the topic it has at
    /// any cutoff, and so is each note of it.
    fn selection(&self, filter: &Filter) -> Result<Option<Vec<Located>>, Damage> {
        let by_actor = if filter.actors.is_empty() {
            None
        } else {
            let mut seqs = Vec::new();
            for a in self.alias_closure(&filter.actors)? {
                seqs.extend(self.located(&keys::actor_key(&a))?);
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
                    seqs.extend(self.located(&keys::topic_key(&t.topic))?);
                }
            }
            Some(seqs)
        };
        let sorted = |mut v: Vec<Located>| {
            sort_located(&mut v);
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
                        .filter(|a| t.binary_search_by_key(&a.seq, |l| l.seq).is_ok())
                        .collect(),
                )
            }
        })
    }

    /// The actors linked to any of `actors` by `actor.aliased`, in either direction and at any
    /// time, with them.
    fn alias_closure(&self, actors: &BTreeSet<ActorId>) -> Result<BTreeSet<ActorId>, Damage> {
        let mut links: BTreeMap<&ActorId, Vec<&ActorId>> = BTreeMap::new();
        for e in self.links()? {
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

/// Keeps the items of `list` (sorted by `seq`) whose seq is not in `absent` (sorted), by a
/// walk of both (a binary search per item was a seventieth of a one-actor query of the UN
/// votes log).
fn retain_absent<T>(
    list: &mut Vec<T>,
    seq: impl Fn(&T) -> Seq,
    absent: impl IntoIterator<Item = Seq>,
) {
    let mut absent = absent.into_iter().peekable();
    list.retain(|x| {
        let s = seq(x);
        while absent.next_if(|a| *a < s).is_some() {}
        absent.peek() != Some(&s)
    });
}

/// Adds the actors and topics a record names, as [`names`] does for its event (read from the
/// record's bytes; a record that cannot be read names none, and its fold reports it). The
/// fold reads them with [`names_in_ref`] from the record it parses anyway; this is for tests.
#[cfg(test)]
pub(crate) fn names_in_record<'a>(
    body: &'a [u8],
    actors: &mut BTreeSet<&'a str>,
    topics: &mut BTreeSet<&'a str>,
) {
    if let Ok(r) = Reader::new(body).record_ref() {
        names_in_ref(&r, actors, topics);
    }
}

/// The entries of `tables` (the topic tables of `segments`) of the topics of `wanted`, as
/// their seqs and bytes, in seq order (decoded as they are folded: a list of the events made
/// first was 1.8 MB of fresh memory on a one-actor query of the UN votes log).
fn tabled_topics<'t>(
    segments: &[Segment],
    tables: &'t [Vec<u8>],
    wanted: &FxHashSet<&str>,
) -> Result<Vec<(Seq, &'t [u8])>, Damage> {
    let mut out = Vec::with_capacity(wanted.len());
    let mut last = 0;
    for (seg, table) in segments.iter().zip(tables) {
        for entry in topics::entries(table) {
            let (topic, seq, bytes) = entry?;
            // In seq order, in the segment's range: the merge folds them so.
            if seq <= last || seq < seg.first || seq > seg.last {
                return Err(format!("the topic table holds seq {seq} out of place"));
            }
            last = seq;
            if wanted.contains(topic) {
                out.push((seq, bytes));
            }
        }
    }
    Ok(out)
}

/// What [`Index::fold_named`] folds besides the selected records: the registrations they need
/// (as records, and topics' as topic table entries), and the alias links and roles.
struct Sources<'a> {
    registered: &'a [RecordBytes],
    tabled: Vec<(Seq, &'a [u8])>,
    links: &'a [Event],
}

/// Folds into `h`, in seq order, [`Index::fold_named`]'s sources: the selected records
/// (`picked`, each with the plain stance parsed from it, if any, in `stances`), the
/// registrations they need, and the alias links and roles.
fn fold_merged(
    h: &mut History,
    picked: &[RecordBytes],
    stances: Vec<Option<PlainStance<'_>>>,
    sources: Sources<'_>,
    last: &mut LastParsed,
) -> Result<(), Damage> {
    // The sources merged in seq order; an event in two of them (an alias link that a writer
    // also asked for by its id, a registration among the selected records) is folded once.
    let mut picked = picked
        .iter()
        .flat_map(RecordBytes::iter)
        .zip(stances)
        .peekable();
    let mut registered = sources
        .registered
        .iter()
        .flat_map(RecordBytes::iter)
        .peekable();
    let mut tabled = sources.tabled.into_iter().peekable();
    let mut links = sources.links.iter().peekable();
    loop {
        let heads = [
            picked.peek().map(|((s, _), _)| *s),
            registered.peek().map(|(s, _)| *s),
            tabled.peek().map(|(s, _)| *s),
            links.peek().map(|e| e.seq),
        ];
        let Some(seq) = heads.iter().flatten().min().copied() else {
            return Ok(());
        };
        let mut folded = false;
        if let Some(((_, body), stance)) = picked.next_if(|((s, _), _)| *s == seq) {
            match stance {
                Some(stance) => fold_stance(h, seq, &stance),
                None => fold_record(h, seq, body, last)?,
            }
            folded = true;
        }
        if let Some((_, body)) = registered.next_if(|(s, _)| *s == seq)
            && !std::mem::replace(&mut folded, true)
        {
            fold_record(h, seq, body, last)?;
        }
        if let Some((_, bytes)) = tabled.next_if(|(s, _)| *s == seq)
            && !std::mem::replace(&mut folded, true)
        {
            h.apply(topics::event(bytes)?);
        }
        if let Some(e) = links.next_if(|e| e.seq == seq)
            && !folded
        {
            h.apply(e.clone());
        }
    }
}

/// [`names_in_record`] of a record already read.
fn names_in_ref<'a>(
    r: &RecordRef<'a>,
    actors: &mut impl Extend<&'a str>,
    topics: &mut impl Extend<&'a str>,
) {
    let (actor, topic) = match r.type_name {
        "stance.declared" => {
            actors.extend(r.recipient);
            (true, true)
        }
        "stance.corrected" => (true, true),
        "actor.aliased" => {
            actors.extend(r.alias);
            (true, false)
        }
        "actor.role" | "actor.registered" => (true, false),
        "topic.registered" => (false, true),
        _ => (false, false),
    };
    if actor {
        actors.extend(r.actor);
    }
    if topic {
        topics.extend(r.topic);
    }
}

/// Adds the actors and topics an event names (actor, recipient, topic, a correction's actor and
/// topic, both ends of an alias link, a role's actor, what a registration registers).
pub(crate) fn names<'a>(
    body: &'a EventBody,
    actors: &mut BTreeSet<&'a ActorId>,
    topics: &mut BTreeSet<&'a TopicId>,
) {
    match body {
        EventBody::StanceDeclared(s) => {
            actors.insert(&s.actor);
            actors.extend(s.recipient.as_ref());
            topics.insert(&s.topic);
        }
        EventBody::StanceCorrected(c) => {
            actors.extend(c.correction.actor.as_ref());
            topics.extend(c.correction.topic.as_ref());
        }
        EventBody::ActorAliased(a) => {
            actors.insert(&a.actor);
            actors.insert(&a.alias);
        }
        EventBody::ActorRole(r) => {
            actors.insert(&r.actor);
        }
        EventBody::ActorRegistered(a) => {
            actors.insert(&a.actor);
        }
        EventBody::TopicRegistered(t) => {
            topics.insert(&t.topic);
        }
        EventBody::StanceRetracted(_) | EventBody::StanceCited(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Given sorted seqs and a sorted list of seqs to leave out (some absent from the list,
    /// some before, between and after it), when retained, then exactly those not left out stay,
    /// in order.
    #[test]
    fn retain_absent_leaves_out_exactly_the_listed_seqs() {
        let mut list: Vec<Seq> = vec![2, 3, 5, 8, 13, 21];
        retain_absent(&mut list, |s| *s, [1, 3, 4, 13, 21, 30]);
        assert_eq!(list, [2, 5, 8]);
        let mut list: Vec<Seq> = vec![2, 3];
        retain_absent(&mut list, |s| *s, []);
        assert_eq!(list, [2, 3]);
    }
}
