//! The projection index as a long-running writer (an import) keeps it: the index as it was
//! when the writer opened it, a Bloom filter of its ids, and the *pending segment* of the
//! events appended since, published as one segment at the end (or every
//! [`PENDING_EVENTS_MAX`] events), never one segment per batch.
//!
//! The pending segment's records are streamed to a file in the index folder (`pending.PID.N`,
//! after room for a segment's header), which becomes the segment when it is published: its
//! header written, the tables after its records, then renamed into place (the records are
//! written once, never copied). A crash leaves the file, which the next index write removes
//! (the next query catches the index up from the log), as does an import that ends with
//! nothing pending; its ids, posting lists and account are held in memory: about 45 bytes per
//! pending event, against about 150 for the folded log a writer held before (and that for
//! every event of the log).
//!
//! Id look-ups, the bulk of an import's checks (most ids are new): the pending ids are in a
//! hash table (of indexes into them); for the index's, a Bloom filter per segment made at
//! open from its sorted id table (16 bits per id, each look-up one cache line) answers
//! "absent" for nearly every new id, and
//! only a positive costs a search: every 32nd id of each segment is held (a fence), so the
//! search reads one block of 32 entries (768 bytes) per segment. The hashes of each segment's
//! keys are held too, so that asking for the notes of a stance that has none (most) reads
//! nothing.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use std::collections::BTreeSet;

use rustc_hash::{FxHashMap, FxHashSet};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::account::{self, Account};
use super::keys;
use super::read::{Damage, names};
use super::segment::{self, ID_ENTRY, Postings, Segment, check8, key_hash};
use super::topics::TableWriter;
use super::{Index, MERGE_EVENTS_MAX, Source};
use crate::core::{
    ActorId, Event, EventBody, History, Seq, StanceDeclared, TopicId, TopicKind, hash_id,
};
use crate::error::{Error, Result};
use crate::store::Log;
use crate::store::codec::LastParsed;
use crate::store::encode::RecordEncoder;
use crate::store::{BATCH_EVENTS_MAX, NewEvent};

/// The most events a pending segment holds before it is published (and its memory freed):
/// the largest merge less one batch (it is checked after each batch, which may take it over
/// by up to `BATCH_EVENTS_MAX`). A published run is so never merged with the next (that
/// merge would rewrite every record once more: an eighth of a 4M-row import's CPU when runs
/// were half this), and the index of a long import is runs of this size, as merges of
/// shorter runs would make it.
pub(crate) const PENDING_EVENTS_MAX: u64 = MERGE_EVENTS_MAX - BATCH_EVENTS_MAX as u64;

/// The most ids a pending segment's id map makes room for at once ([`Pending::add`]): a
/// hash table is at most 7/8 full, so room for more than this takes 2^22 slots (20 MB) where
/// 2^21 (10 MB: a 4-byte index and a control byte each) hold this many. A run longer than
/// this (up to [`PENDING_EVENTS_MAX`] and a batch) grows the map once more near its end.
const ID_ROOM_MAX: u64 = (1 << 21) / 8 * 7;

/// Bits of a Bloom filter per id.
const BLOOM_BITS_PER_ID: usize = 16;
/// Bits each id sets in its block.
const BLOOM_PROBES: u32 = 6;
/// Every this many ids of a segment's id table, one is held as a fence.
const FENCE_IDS: usize = 32;

/// SplitMix64's finalizer: mixes all 64 bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A blocked Bloom filter of a segment's ids: an id sets [`BLOOM_PROBES`] bits of one 512-bit
/// block (a cache line).
struct Bloom {
    blocks: Vec<[u64; 8]>,
}

impl Bloom {
    fn with_room(ids: usize) -> Bloom {
        let blocks = (ids.max(1 << 10) * BLOOM_BITS_PER_ID / 512).next_power_of_two();
        Bloom {
            blocks: vec![[0; 8]; blocks],
        }
    }

    /// The block of `id` and the bits it sets there (9 bits each).
    fn probe(&self, id: &Uuid) -> (usize, u64) {
        let (hi, lo) = id.as_u64_pair();
        let block = mix(hi ^ lo.rotate_left(32)) as usize & (self.blocks.len() - 1);
        (block, mix(lo ^ 0x9e37_79b9_7f4a_7c15))
    }

    fn insert(&mut self, id: &Uuid) {
        let (b, mut bits) = self.probe(id);
        for _ in 0..BLOOM_PROBES {
            let bit = (bits & 511) as usize;
            self.blocks[b][bit / 64] |= 1 << (bit % 64);
            bits >>= 9;
        }
    }

    fn may_hold(&self, id: &Uuid) -> bool {
        let (b, mut bits) = self.probe(id);
        (0..BLOOM_PROBES).all(|_| {
            let bit = (bits & 511) as usize;
            bits >>= 9;
            self.blocks[b][bit / 64] & (1 << (bit % 64)) != 0
        })
    }
}

/// The seq of `id` in `seg`, whose every [`FENCE_IDS`]th id is `fences`: one read of the
/// block of the id table that may hold it.
fn seq_in(
    seg: &Segment,
    fences: &[[u8; 16]],
    id: &Uuid,
) -> std::result::Result<Option<Seq>, Damage> {
    let b = fences.partition_point(|f| f <= id.as_bytes());
    let Some(block) = b.checked_sub(1) else {
        return Ok(None);
    };
    let from = block * FENCE_IDS;
    let n = FENCE_IDS.min(seg.count().saturating_sub(from));
    let table = seg.id_entries(from, n)?;
    let entries: Vec<&[u8]> = table.chunks_exact(ID_ENTRY).collect();
    Ok(entries
        .binary_search_by(|e| e[..16].cmp(id.as_bytes()))
        .ok()
        .map(|i| u64::from_le_bytes(entries[i][16..].try_into().unwrap_or([0; 8]))))
}

/// What an [`Appender`] holds of a segment to look ids and keys up: a Bloom filter of its ids,
/// every [`FENCE_IDS`]th id, and the hash of every key, sorted.
struct SegmentKeys {
    bloom: Bloom,
    fences: Vec<[u8; 16]>,
    hashes: Vec<u64>,
}

/// Records of a segment read ahead: a run of seqs from `first` with the offsets of their
/// records and the bytes that hold them (from file offset `offsets[0]`). An import that meets
/// the log's events again (a re-import) meets them in seq order, so one read serves many.
struct Window {
    segment: usize,
    first: Seq,
    offsets: Vec<u64>,
    bytes: Vec<u8>,
}

/// Records read ahead at most: this many, and this many bytes.
const WINDOW_RECORDS: usize = 64;
const WINDOW_BYTES: u64 = 64 << 10;

/// The events appended after the index's end, not yet in a segment: their ids in memory (on
/// the writer's thread, which looks them up), and their records, posting lists and account
/// ([`Records`]), which a thread of its own adds a batch at a time while the writer reads and
/// checks the next batch (see [`Pending::add`]).
pub(crate) struct Pending {
    /// The seq of its first event (the index's end + 1).
    pub(crate) first: Seq,
    /// The records' file while it has this name (until it is renamed into a segment, or
    /// removed when this is dropped).
    path: Option<PathBuf>,
    /// Events held (added, whether or not their records are written yet).
    len: u64,
    /// Their ids in seq order (`ids[i]` is the id of seq `first + i`), and a hash table of
    /// indexes into it, each hashed by the id it points at: 4 bytes and a control byte per
    /// slot beside the ids, where a map of (id, seq) took 24 and a control byte.
    ids: Vec<Uuid>,
    table: hashbrown::HashTable<u32>,
    /// Ids the map makes room for at once from its second batch on (a whole run: see
    /// [`Pending::add`]).
    room: u64,
    /// The notes (corrections, retractions, citations) among them, by the seq of the stance
    /// each names: what their `n\0SEQ` posting lists hold, kept here too so that
    /// [`Appender::notes`] never waits for the pending thread (see [`Pending::add`]).
    notes: FxHashMap<Seq, Vec<Seq>>,
    /// The batch last given to the pending thread (its first and last seq) and its history,
    /// which that thread holds and frees when done: until then [`Pending::event`] reads its
    /// events there, not waiting.
    flight: Option<(Seq, Seq, Weak<History>)>,
    records: Work,
}

/// The records, posting lists and account of the pending events: at rest, or being added
/// to by the pending thread (one batch at a time), or lost to a write that failed.
enum Work {
    Idle(Box<Records>),
    Busy(std::thread::JoinHandle<(Box<Records>, std::io::Result<()>)>),
    Failed(String),
}

/// The pending events' records in a file (from [`segment::RECORDS_AT`] on), their offsets,
/// posting lists and account.
struct Records {
    out: BufWriter<File>,
    file: File,
    /// Each record's offset in the file, in seq order.
    offsets: Vec<u64>,
    /// The end of the records written (a file offset).
    bytes: u64,
    postings: Postings,
    /// The topic table of the records written.
    topics: TableWriter,
    account: Account,
    encoder: RecordEncoder,
    buf: Vec<u8>,
    /// The SHA-256 of the records written (the segment's sum takes its header last): summed
    /// here, on the pending thread, the records are not read back when the segment is made.
    sum: Sha256,
}

impl Records {
    /// Adds the events `from + 1..=last` of `h` (see [`Appender::add`]): records, posting
    /// lists, account. The records are synced here, batch by batch, on the pending thread:
    /// publishing then syncs only the header and the tables (a 2M-event run's file synced
    /// whole at its publish blocked the writer's thread, and the whole import behind it, for
    /// about 0.4 s).
    fn add(&mut self, h: &History, from: Seq, last: Seq) -> std::io::Result<()> {
        for seq in from + 1..=last {
            let Some(e) = h.event(seq) else { continue };
            self.push(&e)?;
        }
        self.out.flush()?;
        self.file.sync_data()?;
        for (key, seqs) in keys::postings(h, from + 1, last) {
            self.postings.entry(key).or_default().extend(seqs);
        }
        self.account.add(&account::delta(h, from, last));
        Ok(())
    }

    fn push(&mut self, e: &Event) -> std::io::Result<()> {
        self.buf.clear();
        self.encoder.record(&mut self.buf, e);
        self.offsets.push(self.bytes);
        self.topics.add(e);
        let check = check8(&self.buf);
        self.sum.update(check);
        self.sum.update(&self.buf);
        self.out.write_all(&check)?;
        self.out.write_all(&self.buf)?;
        self.bytes += 8 + self.buf.len() as u64;
        Ok(())
    }
}

impl Pending {
    /// An empty pending segment for the events after `end`, its file in `dir` (a name of its
    /// own: `pending.PID.N`, N counting the pending segments this process made), whose id map
    /// makes room for `room` ids at its second batch (at most [`ID_ROOM_MAX`]).
    fn create(dir: &Path, end: Seq, room: u64) -> std::io::Result<Pending> {
        static MADE: AtomicU64 = AtomicU64::new(0);
        let (path, file) = loop {
            let n = MADE.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("pending.{}.{n}", std::process::id()));
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => break (path, file),
                // Never written over: a file of a process with the same pid (in another PID
                // namespace sharing the folder), or one a killed process left.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        };
        let mut out = BufWriter::with_capacity(1 << 20, file.try_clone()?);
        // Room for the segment's header, written when it is published.
        out.write_all(&[0; segment::RECORDS_AT as usize])?;
        let records = Records {
            out,
            file,
            offsets: Vec::new(),
            bytes: segment::RECORDS_AT,
            postings: Postings::default(),
            topics: TableWriter::default(),
            account: Account::default(),
            encoder: RecordEncoder::default(),
            buf: Vec::with_capacity(512),
            sum: Sha256::new(),
        };
        Ok(Pending {
            first: end + 1,
            path: Some(path),
            len: 0,
            ids: Vec::new(),
            table: hashbrown::HashTable::new(),
            room: room.min(ID_ROOM_MAX),
            notes: FxHashMap::default(),
            flight: None,
            records: Work::Idle(Box::new(records)),
        })
    }

    /// Events held.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The seq of its last event (the index's end when it holds none).
    pub(crate) fn last(&self) -> Seq {
        self.first + self.len() - 1
    }

    /// The seq of the pending event with this id, if any.
    fn seq_of(&self, id: &Uuid) -> Option<Seq> {
        let ids = &self.ids;
        let i = self.table.find(hash_id(id), |i| ids[*i as usize] == *id)?;
        Some(self.first + Seq::from(*i))
    }

    /// The records once the pending thread is done with the batch it was given.
    ///
    /// # Errors
    /// The error of that batch's (or an earlier batch's) write: the records are then lost.
    fn settled(&mut self) -> std::io::Result<&mut Records> {
        if matches!(self.records, Work::Busy(_)) {
            let Work::Busy(handle) =
                std::mem::replace(&mut self.records, Work::Failed(String::new()))
            else {
                unreachable!("busy")
            };
            let (records, done) = handle
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            self.records = match done {
                Ok(()) => Work::Idle(records),
                Err(e) => Work::Failed(e.to_string()),
            };
        }
        match &mut self.records {
            Work::Idle(r) => Ok(r),
            Work::Failed(why) => Err(std::io::Error::other(why.clone())),
            Work::Busy(_) => unreachable!("settled above"),
        }
    }

    /// Adds the events `from + 1..=last` of `h` (a batch just appended): their ids (and
    /// notes, by the stance each names) here, at once, and their records, posting lists and
    /// account on the pending thread, which takes `h` along (the writer makes a new history
    /// for its next batch), shares it with [`Pending::event`] while it works, and frees it
    /// after (held until the next batch, it raised a 4M-row GDELT import's peak by about 45
    /// MB). The thread's previous batch is waited for first: one batch at a time is in
    /// flight. Nothing else waits for it but a read of an earlier batch's record (a
    /// re-import, or a row naming a stance of two or more batches back) and publishing: the
    /// importer asks for the stances its rows cite as soon as the next batch starts, and
    /// waiting then for the notes among the pending events held the writer's thread for most
    /// of the pending thread's batch (an ICEWS import).
    ///
    /// The id map grows to fit the first batch; from the second on it has room for `room`
    /// ids (a whole run, up to [`ID_ROOM_MAX`]: 10 MB), so it is rehashed at most once more:
    /// growing by doubling moved every id once more and took fresh pages for each table (4%
    /// of a 4M-row import's CPU). A one-batch import (or build) keeps a map of its own size.
    /// The ids themselves are a vector in seq order, whose room is reserved alike (memory
    /// the kernel gives only as it is written).
    ///
    /// # Errors
    /// That of an earlier batch's write (see [`Pending::settled`]).
    fn add(&mut self, h: History, from: Seq, last: Seq) -> std::io::Result<()> {
        self.settled()?;
        self.flight = None;
        let Work::Idle(mut records) =
            std::mem::replace(&mut self.records, Work::Failed(String::new()))
        else {
            unreachable!("settled")
        };
        let adding = (last - from) as usize;
        if self.len > 0 && self.table.capacity() - self.table.len() < adding {
            let room = usize::try_from(self.room).unwrap_or(usize::MAX);
            let more = room.saturating_sub(self.table.len()).max(adding);
            let ids = &self.ids;
            self.table.reserve(more, |i| hash_id(&ids[*i as usize]));
            self.ids.reserve(more);
        }
        // A batch's history holds each of its events: the pending seqs follow each other, and
        // a seq is its id's place in `ids` (after `first`).
        for seq in from + 1..=last {
            let meta = h
                .event_meta(seq)
                .expect("a batch's history holds each of its events");
            debug_assert_eq!(seq, self.first + self.ids.len() as Seq);
            let i = u32::try_from(self.ids.len()).expect("a run is far under 2^32 events");
            self.ids.push(meta.id);
            let ids = &self.ids;
            self.table
                .insert_unique(hash_id(&meta.id), i, |i| hash_id(&ids[*i as usize]));
            self.len += 1;
        }
        for seq in from + 1..=last {
            let target = match h.other_body(seq) {
                Some(EventBody::StanceCorrected(c)) => c.target,
                Some(EventBody::StanceRetracted(r)) => r.target,
                Some(EventBody::StanceCited(c)) => c.target,
                _ => continue,
            };
            // As `keys::postings` files it under `n\0SEQ`.
            if let Some(t) = h.seq_of(&target) {
                self.notes.entry(t).or_default().push(seq);
            }
        }
        let h = Arc::new(h);
        self.flight = Some((from + 1, last, Arc::downgrade(&h)));
        let spawned = std::thread::Builder::new()
            .name("stancelog-pending".to_string())
            .spawn(move || {
                let done = records.add(&h, from, last);
                (records, done)
            })?;
        self.records = Work::Busy(spawned);
        Ok(())
    }

    /// The event of `seq` (one it holds): from the history of the batch in flight while the
    /// pending thread holds it, else read back from its file (once that thread is done).
    fn event(&mut self, seq: Seq) -> std::result::Result<Event, Damage> {
        if let Some((from, last, weak)) = &self.flight
            && (*from..=*last).contains(&seq)
            && let Some(h) = weak.upgrade()
        {
            let e = h.event(seq);
            // The pending thread may have let it go meanwhile: a history of tens of
            // thousands of events is then freed on a thread of its own, not this one.
            if Arc::strong_count(&h) == 1 {
                crate::store::drop_elsewhere(h);
            }
            if let Some(e) = e {
                return Ok(e);
            }
        }
        let damaged = |e: std::io::Error| format!("the pending segment could not be read: {e}");
        let i = (seq - self.first) as usize;
        let r = self.settled().map_err(damaged)?;
        r.out.flush().map_err(damaged)?;
        let from = r.offsets[i];
        let to = r.offsets.get(i + 1).copied().unwrap_or(r.bytes);
        let mut buf = vec![0; (to - from) as usize];
        r.file.read_exact_at(&mut buf, from).map_err(damaged)?;
        segment::decode(seq, &buf, &mut LastParsed::default())
    }

    /// Makes its file the segment of its events, named `path` (its ids, offsets and posting
    /// lists are then taken: it is done with); returns its first and last seq, size and
    /// SHA-256.
    ///
    /// # Errors
    /// Those of the writes, and [`std::io::ErrorKind::NotFound`] when its file no longer has
    /// its name (another process's clean-up of the index folder removed it): nothing is then
    /// named `path`.
    pub(crate) fn write(&mut self, path: &Path) -> std::io::Result<(Seq, Seq, u64, [u8; 32])> {
        let (first, last) = (self.first, self.last());
        self.table = hashbrown::HashTable::new();
        let ids: Vec<(Uuid, Seq)> = std::mem::take(&mut self.ids)
            .into_iter()
            .zip(first..)
            .collect();
        let named = self.path.clone();
        let r = self.settled()?;
        r.out.flush()?;
        for list in r.postings.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        let (size, sum) = segment::finish_in_place(
            &r.file,
            std::mem::take(&mut r.sum),
            (first, last),
            r.bytes,
            std::mem::take(&mut r.offsets),
            ids,
            &r.postings,
            std::mem::take(&mut r.topics),
            &r.account,
        )?;
        // Freed before the merge that may follow (a third of a build's peak at 4M events).
        r.postings = Postings::default();
        let from = named.ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
        fs::rename(&from, path)?;
        self.path = None;
        Ok((first, last, size, sum))
    }
}

/// The index as an import writer keeps it (see the module docs), with the registrations
/// (and alias links and roles) named so far, carried from batch to batch.
pub(crate) struct Appender {
    pub(crate) index: Index,
    /// The records last read ahead.
    window: Option<Window>,
    /// Per segment of `index`: every [`FENCE_IDS`]th id, and the hashes of its keys.
    fences: Vec<SegmentKeys>,
    pub(crate) pending: Pending,
    /// Registrations read or written so far, by what they register.
    actors: FxHashMap<ActorId, Event>,
    topics: FxHashMap<TopicId, Event>,
    /// The alias links and roles of the pending events.
    links: Vec<Event>,
    /// The events [`Appender::stance_now`] read since the last batch (at most
    /// [`RECENT_MAX`]): the importer asks for the stance a row cites, then the batch's history
    /// needs the same event, which was read and decoded a second time (a tenth of the
    /// writer's thread in the GDELT benchmark's blocks of citations).
    recent: FxHashMap<Seq, Event>,
}

/// The most events [`Appender::recent`] holds: a re-import asks for every row's stance and
/// appends no batch, so nothing clears it; this cap bounds it.
const RECENT_MAX: usize = 1 << 16;

impl Drop for Pending {
    /// Removes its file if it was not made a segment (nothing was pending, or the import
    /// stopped).
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = fs::remove_file(path);
        }
    }
}

impl std::fmt::Debug for Appender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Appender({:?}, {} pending)",
            self.index,
            self.pending.len()
        )
    }
}

impl Appender {
    /// Keeps `index` (just opened, under the log's lock) for appending after its end: reads
    /// each segment's id table once, into the Bloom filter and the fences. Each pending
    /// segment's id map makes room for `room` ids at its second batch (the most events it
    /// holds before it is published, a batch more).
    ///
    /// # Errors
    /// Damage found while reading, or the pending file not made, in words.
    pub(crate) fn new(index: Index, room: u64) -> std::result::Result<Appender, Damage> {
        if index.in_memory_only() {
            // Not written (a read-only folder, a full disk): it holds no segment to check
            // ids against, and the pending one could not be published.
            return Err("the projection index could not be written".into());
        }
        let mut fences = Vec::with_capacity(index.segments.len());
        for seg in &index.segments {
            fences.push(keys_of(seg)?);
        }
        let pending = Pending::create(&index.dir, index.seq_last(), room)
            .map_err(|e| format!("the pending segment could not be made: {e}"))?;
        Ok(Appender {
            index,
            window: None,
            fences,
            pending,
            actors: FxHashMap::default(),
            topics: FxHashMap::default(),
            links: Vec::new(),
            recent: FxHashMap::default(),
        })
    }

    /// The log's last seq: the index's end, or the last pending event's.
    pub(crate) fn seq_last(&self) -> Seq {
        self.pending.last()
    }

    /// The seq of the event with this id, in the index or pending.
    pub(crate) fn seq_of(&self, id: &Uuid) -> std::result::Result<Option<Seq>, Damage> {
        if let Some(seq) = self.pending.seq_of(id) {
            return Ok(Some(seq));
        }
        for (seg, keys) in self.index.segments.iter().zip(&self.fences).rev() {
            if !keys.bloom.may_hold(id) {
                continue;
            }
            if let Some(seq) = seq_in(seg, &keys.fences, id)? {
                return Ok(Some(seq));
            }
        }
        Ok(None)
    }

    /// The event of `seq` (at most [`Appender::seq_last`]).
    pub(crate) fn event(&mut self, seq: Seq) -> std::result::Result<Event, Damage> {
        if seq >= self.pending.first {
            return self.pending.event(seq);
        }
        let segment = self
            .index
            .segments
            .partition_point(|s| s.last < seq)
            .min(self.index.segments.len().saturating_sub(1));
        let held = |w: &Window| {
            w.segment == segment && seq >= w.first && seq < w.first + w.offsets.len() as Seq - 1
        };
        if !self.window.as_ref().is_some_and(held) {
            self.window = Some(self.read_ahead(segment, seq)?);
        }
        let w = self.window.as_ref().ok_or("no window")?;
        let i = (seq - w.first) as usize;
        let base = w.offsets[0];
        let (from, to) = (
            (w.offsets[i] - base) as usize,
            (w.offsets[i + 1] - base) as usize,
        );
        segment::decode(seq, &w.bytes[from..to], &mut LastParsed::default())
    }

    /// Reads the records of `segment` from `seq` on ([`WINDOW_RECORDS`], [`WINDOW_BYTES`]).
    fn read_ahead(&self, segment: usize, seq: Seq) -> std::result::Result<Window, Damage> {
        let seg = self
            .index
            .segments
            .get(segment)
            .ok_or_else(|| format!("no segment holds seq {seq}"))?;
        let mut offsets = seg.record_offsets(seq, WINDOW_RECORDS)?;
        let fit = offsets.partition_point(|o| *o - offsets[0] <= WINDOW_BYTES);
        offsets.truncate(fit.max(2));
        let len = (offsets[offsets.len() - 1] - offsets[0]) as usize;
        let bytes = seg.bytes(offsets[0], len)?;
        Ok(Window {
            segment,
            first: seq,
            offsets,
            bytes,
        })
    }

    /// Whether `id` is a registered actor.
    pub(crate) fn is_actor(&self, id: &ActorId) -> bool {
        self.actors.contains_key(id) || self.index.actor_registration(id).is_some()
    }

    /// The kind of topic `id`, if it is registered.
    pub(crate) fn topic_kind(
        &mut self,
        id: &TopicId,
    ) -> std::result::Result<Option<TopicKind>, Damage> {
        self.load_topic(id)?;
        Ok(self.topics.get(id).and_then(|e| match &e.body {
            EventBody::TopicRegistered(t) => Some(t.kind),
            _ => None,
        }))
    }

    fn load_actor(&mut self, id: &ActorId) -> std::result::Result<(), Damage> {
        if !self.actors.contains_key(id)
            && let Some(seq) = self.index.actor_registration(id)
        {
            let e = self.index.event(seq)?;
            self.actors.insert(id.clone(), e);
        }
        Ok(())
    }

    fn load_topic(&mut self, id: &TopicId) -> std::result::Result<(), Damage> {
        if !self.topics.contains_key(id)
            && let Some(seq) = self.index.topic_registration(id)
        {
            let e = self.index.event(seq)?;
            self.topics.insert(id.clone(), e);
        }
        Ok(())
    }

    /// Every registration read or written so far (a build from scratch writes them all), and
    /// the alias links and roles of the pending events.
    pub(super) fn registrations_and_links(&self) -> impl Iterator<Item = &Event> {
        self.actors
            .values()
            .chain(self.topics.values())
            .chain(&self.links)
    }

    /// The seqs of the corrections, retractions and citations of the stance of `seq`.
    pub(super) fn notes(&mut self, seq: Seq) -> std::result::Result<Vec<Seq>, Damage> {
        let key = keys::notes_key(seq);
        let hash = key_hash(&key);
        let mut out = Vec::new();
        for (seg, k) in self.index.segments.iter().zip(&self.fences) {
            if seg.last >= seq && k.hashes.binary_search(&hash).is_ok() {
                seg.postings(&key, &mut out)?;
            }
        }
        out.extend(self.pending.notes.get(&seq).into_iter().flatten());
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// The events of `seqs` (sorted), from the index and the pending segment.
    pub(super) fn events(&mut self, seqs: &[Seq]) -> std::result::Result<Vec<Event>, Damage> {
        let split = seqs.partition_point(|s| *s < self.pending.first);
        let mut out = self.index.decode(&seqs[..split])?;
        for s in &seqs[split..] {
            out.push(self.pending.event(*s)?);
        }
        Ok(out)
    }

    /// The stance of `seq` as known now (its corrections applied), if it is a stance.
    pub(crate) fn stance_now(
        &mut self,
        seq: Seq,
    ) -> std::result::Result<Option<StanceDeclared>, Damage> {
        let notes = self.notes(seq)?;
        if notes.is_empty() {
            let e = self.event(seq)?;
            let stance = match &e.body {
                EventBody::StanceDeclared(s) => Some(s.clone()),
                _ => None,
            };
            self.keep_recent(e);
            return Ok(stance);
        }
        let mut seqs = vec![seq];
        seqs.extend(notes);
        seqs.sort_unstable();
        seqs.dedup();
        let mut h = History::sparse();
        for e in self.events(&seqs)? {
            self.keep_recent(e.clone());
            h.apply(e);
        }
        Ok(h.stance_known(seq, Seq::MAX))
    }

    fn keep_recent(&mut self, e: Event) {
        if self.recent.len() < RECENT_MAX {
            self.recent.insert(e.seq, e);
        }
    }

    /// A sparse history of the log up to its last seq that holds what checking `batch` (its
    /// ids `ids`) reads, as [`Index::history_for_batch`] does, the pending events included:
    /// every alias link and role, the registrations of the actors and topics the batch and
    /// those events name, the events of its ids the log holds, and each stance it targets
    /// with every note of it.
    ///
    /// # Errors
    /// Damage found while reading, in words.
    pub(crate) fn history_for_batch(
        &mut self,
        batch: &[NewEvent],
        ids: &[Uuid],
    ) -> std::result::Result<History, Damage> {
        let mut seqs = Vec::new();
        for id in ids {
            seqs.extend(self.seq_of(id)?);
        }
        for t in batch.iter().filter_map(|e| e.body.target()) {
            if let Some(seq) = self.seq_of(&t)? {
                seqs.push(seq);
                seqs.extend(self.notes(seq)?);
            }
        }
        seqs.sort_unstable();
        seqs.dedup();
        // Those [`Appender::stance_now`] read for this batch are taken as they are.
        let mut events: Vec<Event> = Vec::new();
        seqs.retain(|s| match self.recent.remove(s) {
            Some(e) => {
                events.push(e);
                false
            }
            None => true,
        });
        self.recent.clear();
        events.extend(self.events(&seqs)?);
        events.extend(self.index.links()?.iter().cloned());
        events.extend(self.links.iter().cloned());
        let (actors, topics) = named(batch, &events);
        for a in &actors {
            self.load_actor(a)?;
            events.extend(self.actors.get(a).cloned());
        }
        for t in &topics {
            self.load_topic(t)?;
            events.extend(self.topics.get(t).cloned());
        }
        events.sort_by_key(|e| e.seq);
        events.dedup_by_key(|e| e.seq);
        let mut h = History::sparse_to(self.seq_last());
        for e in events {
            h.apply(e);
        }
        Ok(h)
    }

    /// Adds the events `from + 1..=last` of `h` (a batch just appended, staged into the
    /// history [`Appender::history_for_batch`] made) to the pending segment: ids, records,
    /// posting lists, account (see [`Pending::add`]: `h` goes to the pending thread); and
    /// keeps their registrations, alias links and roles.
    ///
    /// # Errors
    /// When the pending file could not be written (this batch's is found at the next call).
    pub(crate) fn add(&mut self, h: History, from: Seq, last: Seq) -> std::io::Result<()> {
        for seq in from + 1..=last {
            let Some(body) = h.other_body(seq) else {
                continue;
            };
            if matches!(
                body,
                EventBody::StanceCorrected(_)
                    | EventBody::StanceRetracted(_)
                    | EventBody::StanceCited(_)
            ) {
                continue;
            }
            let Some(e) = h.event(seq) else { continue };
            match &e.body {
                EventBody::ActorRegistered(a) => {
                    self.actors.insert(a.actor.clone(), e);
                }
                EventBody::TopicRegistered(t) => {
                    self.topics.insert(t.topic.clone(), e);
                }
                EventBody::ActorAliased(_) | EventBody::ActorRole(_) => self.links.push(e),
                _ => {}
            }
        }
        self.pending.add(h, from, last)
    }

    /// After the pending segment was published and `index` opened again: a new pending
    /// segment; the published ids join the Bloom filter, and each new segment's fences are
    /// read.
    ///
    /// # Errors
    /// Damage found while reading, or the pending file not made, in words.
    pub(super) fn published(&mut self, index: Index) -> std::result::Result<(), Damage> {
        let mut fences = Vec::with_capacity(index.segments.len());
        for (i, seg) in index.segments.iter().enumerate() {
            let same = self
                .index
                .segments
                .get(i)
                .is_some_and(|old| (old.first, old.last) == (seg.first, seg.last));
            fences.push(if same {
                std::mem::replace(
                    &mut self.fences[i],
                    SegmentKeys {
                        bloom: Bloom { blocks: Vec::new() },
                        fences: Vec::new(),
                        hashes: Vec::new(),
                    },
                )
            } else {
                keys_of(seg)?
            });
        }
        // The next pending segment makes room for as many ids as this one did.
        self.pending = Pending::create(&index.dir, index.seq_last(), self.pending.room)
            .map_err(|e| format!("the pending segment could not be made: {e}"))?;
        self.fences = fences;
        self.index = index;
        self.window = None;
        self.links.clear();
        Ok(())
    }

    /// Publishes the pending segment into the index of the log at `log_path` (`log` being
    /// that log as appended to: [`super::publish`]); then, if `go_on`, opens the index again
    /// and starts a new pending segment. `false` when the index no longer ends where the
    /// pending segment begins (a query caught it up meanwhile): nothing was written.
    ///
    /// # Errors
    /// [`Error::Io`] when the index cannot be written or read back.
    pub(crate) fn publish(&mut self, log_path: &Path, log: &Log, go_on: bool) -> Result<bool> {
        if !super::publish(log_path, &mut self.pending, log)? {
            return Ok(false);
        }
        if go_on {
            let src = Source::File(log_path);
            let index = Index::reload(&src, log)?;
            self.published(index)
                .map_err(|e| Error::io(log_path.display(), std::io::Error::other(e)))?;
        }
        Ok(true)
    }
}

/// The actors and topics `batch` and `events` name (see [`names`]), each once: hashed, since a
/// batch of 50,000 stances names each of its actors thousands of times.
fn named(batch: &[NewEvent], events: &[Event]) -> (Vec<ActorId>, Vec<TopicId>) {
    let mut actors: FxHashSet<&ActorId> = FxHashSet::default();
    let mut topics: FxHashSet<&TopicId> = FxHashSet::default();
    let (mut rest_a, mut rest_t) = (BTreeSet::new(), BTreeSet::new());
    let bodies = batch.iter().map(|e| &e.body);
    for body in bodies.chain(events.iter().map(|e| &e.body)) {
        match body {
            EventBody::StanceDeclared(s) => {
                actors.insert(&s.actor);
                actors.extend(s.recipient.as_ref());
                topics.insert(&s.topic);
            }
            other => names(other, &mut rest_a, &mut rest_t),
        }
    }
    actors.extend(rest_a);
    topics.extend(rest_t);
    (
        actors.into_iter().cloned().collect(),
        topics.into_iter().cloned().collect(),
    )
}

/// The Bloom filter of `seg`'s ids, every [`FENCE_IDS`]th id and its key hashes: its id
/// table read once, a MiB at a time.
fn keys_of(seg: &Segment) -> std::result::Result<SegmentKeys, Damage> {
    let mut bloom = Bloom::with_room(seg.count());
    let mut fences = Vec::with_capacity(seg.count() / FENCE_IDS + 1);
    seg.each_id(|i, id| {
        if i % FENCE_IDS == 0 {
            fences.push(*id);
        }
        bloom.insert(&Uuid::from_bytes(*id));
    })?;
    Ok(SegmentKeys {
        bloom,
        fences,
        hashes: seg.key_hashes()?,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crate::store::{
        AppendOptions, IndexCheck, Log, LogRef, Writer, append, check_index, parse_batch,
    };

    fn id(n: usize) -> String {
        format!("00000000-0000-4000-8000-{n:012}")
    }

    /// Regression: a pending file was opened with truncation under `pending.PID.N`, so a
    /// process with the same pid in another PID namespace sharing the folder (or a file a
    /// killed process left) was written over: files of that name are now skipped, never
    /// touched.
    #[test]
    fn a_pending_file_never_writes_over_another_of_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let name = |n: u64| {
            dir.path()
                .join(format!("pending.{}.{n}", std::process::id()))
        };
        for n in 0..2_000 {
            std::fs::write(name(n), b"another process's").unwrap();
        }
        let pending = super::Pending::create(dir.path(), 0, 0).unwrap();
        let mine = pending.path.clone().unwrap();
        assert!(!(0..2_000).any(|n| name(n) == mine), "{}", mine.display());
        for n in 0..2_000 {
            assert_eq!(std::fs::read(name(n)).unwrap(), b"another process's");
        }
        drop(pending);
        assert!(!mine.exists());
    }

    /// Given a log of 18 events and a pending segment with room for 1,000 ids, when it takes
    /// the first 10 events as one batch, then its id map is of that batch's size; when it
    /// takes the other 8, then the map has room for 1,000 ids (never rehashed again), and
    /// holds all 18 ids at their seqs.
    #[test]
    fn the_pending_id_map_makes_room_for_a_run_at_its_second_batch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        Log::create(&path).unwrap();
        let mut text: String = (0..4).map(actor).collect();
        text += "{\"type\":\"topic.registered\",\"topic\":\"t0\",\"title\":\"T\",\"kind\":\"policy\"}\n";
        text += &(0..13)
            .map(|n| stance(n, n % 4, 0, "oppose"))
            .collect::<String>();
        let batch = parse_batch("b", text.as_bytes()).unwrap();
        append(&LogRef::File(path.clone()), &batch, "b", &opts(0)).unwrap();
        let log = Log::open(&path).unwrap();
        let mut p = super::Pending::create(dir.path(), 0, 1_000).unwrap();
        p.add(log.history().clone(), 0, 10).unwrap();
        assert!(p.table.capacity() < 100, "{}", p.table.capacity());
        p.add(log.history().clone(), 10, 18).unwrap();
        assert!(p.table.capacity() >= 1_000, "{}", p.table.capacity());
        assert_eq!(p.len(), 18);
        for seq in 1..=18 {
            let meta = log.history().event_meta(seq).unwrap();
            assert_eq!(p.seq_of(&meta.id), Some(seq));
        }
        assert_eq!(p.seq_of(&uuid::Uuid::nil()), None);
    }

    /// Given a pending segment with room for an import's run and a batch more (2^21 ids),
    /// when it takes a second batch, then its id map has room for 1,835,008 ids: 2^21 slots
    /// at most 7/8 full (room for the run would take 2^22 slots, 10 MB more).
    #[test]
    fn the_pending_id_map_room_stays_within_two_to_the_21_slots() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        Log::create(&path).unwrap();
        let mut text: String = (0..4).map(actor).collect();
        text += "{\"type\":\"topic.registered\",\"topic\":\"t0\",\"title\":\"T\",\"kind\":\"policy\"}\n";
        let batch = parse_batch("b", text.as_bytes()).unwrap();
        append(&LogRef::File(path.clone()), &batch, "b", &opts(0)).unwrap();
        let log = Log::open(&path).unwrap();
        let room = super::PENDING_EVENTS_MAX + super::BATCH_EVENTS_MAX as u64;
        assert_eq!(room, 1 << 21);
        let mut p = super::Pending::create(dir.path(), 0, room).unwrap();
        p.add(log.history().clone(), 0, 3).unwrap();
        p.add(log.history().clone(), 3, 5).unwrap();
        assert_eq!(p.table.capacity(), 1_835_008);
        assert_eq!(p.len(), 5);
    }

    fn stance(n: usize, actor: usize, topic: usize, stance: &str) -> String {
        format!(
            "{{\"type\":\"stance.declared\",\"id\":\"{}\",\"actor\":\"a{actor}\",\"topic\":\"t{topic}\",\"stance\":\"{stance}\",\"date\":\"2020-{:02}-01\",\"cite\":{{\"publication\":\"P\"}}}}\n",
            id(n),
            1 + n % 12
        )
    }

    fn actor(a: usize) -> String {
        format!(
            "{{\"type\":\"actor.registered\",\"actor\":\"a{a}\",\"name\":\"A{a}\",\"kind\":\"state\",\"country\":\"KOR\",\"sector\":\"GOV\"}}\n"
        )
    }

    fn opts(k: i64) -> AppendOptions {
        AppendOptions {
            recorded_at: jiff::Timestamp::from_second(1_700_000_000 + k).unwrap(),
            expect_seq: None,
            wait: Duration::from_secs(5),
        }
    }

    fn append_to(w: &mut Writer, text: &str, k: i64) {
        let batch = parse_batch("b", text.as_bytes()).unwrap();
        let report = w.append(&batch, "b", &opts(k)).unwrap();
        assert_eq!(report.index_warning, None);
    }

    /// Batch `k` of the import: new stances (one by an actor it registers), a resent stance
    /// of the batch before (a duplicate), a citation of a stance from before the import, a
    /// correction and a retraction of stances of the batch before, and a re-attribution of a
    /// stance of the first batch, pending or already published by then.
    fn import_batch(k: usize) -> String {
        let mut text = actor(10 + k);
        for j in 0..10 {
            text += &stance(100 + k * 10 + j, j % 4, j % 3, "support");
        }
        text += &stance(200 + k, 10 + k, 0, "oppose");
        text += &format!(
            "{{\"type\":\"stance.cited\",\"id\":\"{}\",\"target\":\"{}\",\"cite\":{{\"publication\":\"Q{k}\"}}}}\n",
            id(300 + k),
            id(k)
        );
        if k > 0 {
            let prev = 100 + (k - 1) * 10;
            text += &stance(prev + 5, 5 % 4, 5 % 3, "support");
            text += &format!(
                "{{\"type\":\"stance.corrected\",\"id\":\"{}\",\"target\":\"{}\",\"reason\":\"r\",\"stance\":\"neutral\",\"date\":\"2021-03\"}}\n",
                id(400 + k),
                id(prev)
            );
            text += &format!(
                "{{\"type\":\"stance.retracted\",\"id\":\"{}\",\"target\":\"{}\",\"reason\":\"r\"}}\n",
                id(500 + k),
                id(prev + 1)
            );
            text += &format!(
                "{{\"type\":\"stance.corrected\",\"id\":\"{}\",\"target\":\"{}\",\"reason\":\"r\",\"actor\":\"a{}\",\"topic\":\"t3\"}}\n",
                id(600 + k),
                id(102 + k % 3),
                10 + k
            );
        }
        text
    }

    /// Given a log with an index, an import's writer whose pending segment is published every
    /// 40 events (so some batches target stances already published, some pending ones), then
    /// the index agrees with the whole log as `verify` compares them (every event, id,
    /// posting list, count, date and recorded time), and a refused batch changes nothing.
    #[test]
    fn an_import_writer_keeps_the_index_as_a_build_from_the_log_would() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        Log::create(&path).unwrap();
        let log = LogRef::File(path.clone());
        let mut before: String = (0..4).map(actor).collect();
        for t in 0..4 {
            before += &format!(
                "{{\"type\":\"topic.registered\",\"topic\":\"t{t}\",\"title\":\"T\",\"kind\":\"policy\"}}\n"
            );
        }
        before += &(0..10)
            .map(|n| stance(n, n % 4, n % 3, "oppose"))
            .collect::<String>();
        let batch = parse_batch("b", before.as_bytes()).unwrap();
        append(&log, &batch, "b", &opts(0)).unwrap();
        let mut w = Writer::open_import(&log, Duration::from_secs(5)).unwrap();
        w.set_pending_max(40);
        for k in 0..8 {
            append_to(&mut w, &import_batch(k), 1 + k as i64);
        }
        // Refused (a stance of an unknown actor): nothing of it is written or kept.
        let bad = stance(900, 99, 0, "support");
        let batch = parse_batch("b", bad.as_bytes()).unwrap();
        assert!(w.append(&batch, "b", &opts(20)).is_err());
        append_to(&mut w, &import_batch(8), 21);
        assert_eq!(w.update_index().unwrap(), None);
        drop(w);
        let whole = Log::open(&path).unwrap();
        let last = whole.history().seq_last();
        assert_eq!(last, 18 + 13 + 8 * 16);
        assert_eq!(
            check_index(&path, &whole).unwrap(),
            IndexCheck::Agrees { seq: last }
        );
        assert!(dir_holds_only_index(&crate::store::index_path(&path)));
    }

    /// While the pending thread may still hold a batch, the writer reads that batch's events
    /// and the notes it added (from its history and the notes kept on the writer's thread, not
    /// waiting): the same as the whole log's fold says.
    #[test]
    fn the_batch_in_flight_and_its_notes_read_as_the_log_says() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        Log::create(&path).unwrap();
        let log = LogRef::File(path.clone());
        let mut w = Writer::open_import(&log, Duration::from_secs(5)).unwrap();
        let mut first: String = (0..4).map(actor).collect();
        for t in 0..4 {
            first += &format!(
                "{{\"type\":\"topic.registered\",\"topic\":\"t{t}\",\"title\":\"T\",\"kind\":\"policy\"}}\n"
            );
        }
        first += &(0..6)
            .map(|n| stance(n, n % 4, n % 3, "oppose"))
            .collect::<String>();
        append_to(&mut w, &first, 1);
        // Batch 2 corrects, retracts and cites stances of batch 1 and one of its own.
        let mut second = stance(10, 1, 1, "support");
        for (n, target, body) in [
            (
                20,
                0,
                "\"type\":\"stance.corrected\",\"reason\":\"r\",\"stance\":\"neutral\"",
            ),
            (21, 1, "\"type\":\"stance.retracted\",\"reason\":\"r\""),
            (
                22,
                2,
                "\"type\":\"stance.cited\",\"cite\":{\"publication\":\"Q\"}",
            ),
            (
                23,
                10,
                "\"type\":\"stance.cited\",\"cite\":{\"publication\":\"R\"}",
            ),
        ] {
            second += &format!(
                "{{{body},\"id\":\"{}\",\"target\":\"{}\"}}\n",
                id(n),
                id(target)
            );
        }
        append_to(&mut w, &second, 2);
        w.wait_durable().unwrap();
        let whole = Log::open(&path).unwrap();
        let h = whole.history();
        let last = h.seq_last();
        assert_eq!(last, 8 + 6 + 5);
        for seq in 1..=last {
            assert_eq!(w.event(seq).unwrap(), h.event(seq), "seq {seq}");
            assert_eq!(w.stance_now(seq).unwrap(), h.stance_known(seq, last));
        }
        // Stance 9 corrected, 10 retracted, 11 and 15 cited: each read with its notes.
        assert_eq!(w.stance_now(9).unwrap().unwrap().stance.as_str(), "neutral");
        assert_eq!(w.update_index().unwrap(), None);
    }

    /// The files named `pending.*` in the index folder of `path`.
    fn pending_files(path: &Path) -> Vec<std::path::PathBuf> {
        let dir = crate::store::index_path(path);
        let mut out: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("pending.")
            })
            .collect();
        out.sort();
        out
    }

    /// Given an import writer whose pending file another process's clean-up of the index
    /// folder removed (as a query that writes the index removes every file no manifest
    /// names), when the import ends, then its pending segment is not published (nothing is
    /// named by a segment made of a file that is gone) and the index is caught up from the
    /// log: it agrees with the log whole. And a writer that appends nothing leaves no
    /// pending file.
    #[test]
    fn a_pending_file_removed_by_another_process_is_caught_up_from_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        Log::create(&path).unwrap();
        let log = LogRef::File(path.clone());
        let before: String = (0..4).map(actor).collect::<String>()
            + "{\"type\":\"topic.registered\",\"topic\":\"t0\",\"title\":\"T\",\"kind\":\"policy\"}\n";
        append(
            &log,
            &parse_batch("b", before.as_bytes()).unwrap(),
            "b",
            &opts(0),
        )
        .unwrap();
        let w = Writer::open_import(&log, Duration::from_secs(5)).unwrap();
        assert_eq!(pending_files(&path).len(), 1);
        drop(w);
        assert!(dir_holds_only_index(&crate::store::index_path(&path)));

        let mut w = Writer::open_import(&log, Duration::from_secs(5)).unwrap();
        let first: String = (0..10).map(|n| stance(n, n % 4, 0, "oppose")).collect();
        append_to(&mut w, &first, 1);
        let files = pending_files(&path);
        assert_eq!(files.len(), 1);
        std::fs::remove_file(&files[0]).unwrap();
        let second: String = (10..20).map(|n| stance(n, n % 4, 0, "support")).collect();
        append_to(&mut w, &second, 2);
        assert_eq!(w.update_index().unwrap(), None);
        drop(w);
        let whole = Log::open(&path).unwrap();
        assert_eq!(whole.history().seq_last(), 25);
        assert_eq!(
            check_index(&path, &whole).unwrap(),
            IndexCheck::Agrees { seq: 25 }
        );
        assert!(dir_holds_only_index(&crate::store::index_path(&path)));
    }

    /// Given an index whose last segment is a published run of the most pending events, when
    /// the next run of that size is added, then the two stay apart: no merge rewrites the
    /// first run's records (with runs of half the merge cap, as before, they were merged).
    #[test]
    fn two_published_runs_of_an_import_are_never_merged() {
        use super::super::manifest::Manifest;
        use super::super::segment::SegmentMeta;
        use super::PENDING_EVENTS_MAX as RUN;
        let meta = |first: u64, last: u64| SegmentMeta {
            name: format!("seg-{first}-{last}"),
            first,
            last,
            size: 0,
            sum: [0; 32],
        };
        let dir = tempfile::tempdir().unwrap();
        let mut m = Manifest {
            segments: vec![meta(1, RUN), meta(RUN + 1, 2 * RUN)],
            ..Manifest::default()
        };
        let before = m.segments.clone();
        // A merge would open the (missing) segment files and fail.
        super::super::merge_last(dir.path(), &mut m).unwrap();
        assert_eq!(m.segments, before);
    }

    /// Nothing but the manifest, the lock and segments: the pending file leaves no trace.
    fn dir_holds_only_index(dir: &Path) -> bool {
        std::fs::read_dir(dir).unwrap().all(|e| {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            name == "MANIFEST" || name == "LOCK" || name.starts_with("seg-")
        })
    }
}
