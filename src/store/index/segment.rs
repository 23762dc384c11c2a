//! One immutable segment of the projection index: the events of a range of seqs in binary form
//! (`codec.rs`), their offsets, their ids, posting lists by key, a table of the topics it
//! registers (`topics.rs`), and the account of its events (`account.rs`). The layout is
//! specified in `events/INDEX.md`.
//!
//! A segment is written once, synced, and only then named by a manifest; it is never changed
//! afterwards (a compaction writes a new one). Readers read it with `pread`, never through a
//! memory map, and only what they need: the header, footer, directory fences and account at
//! open, then one directory block and the posting list of each key, a few ids of the id table
//! per id looked up, and the offsets and records of the events they fold. (A map made every
//! page the binary searches touched resident, with the kernel's pages around it: 85 MB for a
//! one-actor query of a 4M-stance log.) Each part carries a check ([`check8`]: XXH3-64 of
//! its bytes), so a damaged segment is found by the reader that touches the damage;
//! the manifest holds the SHA-256 of the whole file, its header taken last ([`Segment::sum`]),
//! which `verify` and `stancelog index` check.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::super::codec::{LastParsed, Reader, RecordRef, event_of, stance_view, topic_event};
use super::super::encode::RecordEncoder;
use super::account::{Account, RawLines};
use super::topics::TableWriter;
use crate::core::{Event, History, Seq, StanceView};

/// The first bytes of every segment file.
pub(crate) const MAGIC: &[u8; 24] = b"STANCELOG-INDEX-SEGMENT\n";
/// The segment format's version; a segment of another version is not read.
pub(crate) const VERSION: u32 = 7;
/// Magic, version, first seq, last seq.
const HEADER: usize = 24 + 4 + 8 + 8;
/// Nine u64 fields, the checks of the fences, the topic table, the account and the account's
/// other lines, the footer's check.
const FOOTER: usize = 9 * 8 + 8 + 8 + 8 + 8 + 8;
/// A directory entry: key hash, offset of the posting list.
const DIR_ENTRY: usize = 16;
/// Directory entries per block (4 KiB); each block has a fence.
const DIR_BLOCK: usize = 256;
/// A fence: the first key hash of a directory block, the block's check.
const FENCE: usize = 16;
/// An id entry: the id's 16 bytes (big-endian, so entries sort as ids), its seq.
pub(crate) const ID_ENTRY: usize = 24;
/// A posting list entry: the seq, the offset of its record's check in this file (u64) and the
/// length of the check and the record (u32); offset and length 0 when another segment holds
/// the record.
const POSTING: usize = 20;

/// Posting lists: key (see `keys.rs`) to the seqs filed under it, sorted, without repeats.
/// FxHash: an import files each citation's target under a key of its own (`n\0SEQ`), and
/// SipHash showed in its pending thread; lists are written in key-hash order, never in the
/// map's.
pub(crate) type Postings = rustc_hash::FxHashMap<Vec<u8>, Vec<Seq>>;

/// A seq filed under a key, and where its record is: the span (from, to) of its check and body
/// in the file of the segment that holds it, as the posting list gives it; `None` when the
/// list is another segment's (a correction files an older stance under a new key in its own
/// segment), so the holding segment's offsets table is read for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Located {
    pub(crate) seq: Seq,
    pub(crate) span: Option<(usize, usize)>,
}

impl Located {
    /// A seq whose record is found from its segment's offsets table.
    pub(crate) fn seq(seq: Seq) -> Located {
        Located { seq, span: None }
    }
}

/// Sorts `list` by seq and keeps one entry per seq, one with a span where there is one.
pub(crate) fn sort_located(list: &mut Vec<Located>) {
    list.sort_unstable_by_key(|l| (l.seq, l.span.is_none()));
    list.dedup_by_key(|l| l.seq);
}

/// The check of a part of a segment: the XXH3-64 of `bytes` (seed 0), little-endian. It finds
/// accidental damage (a torn write, a flipped bit, a span cutting into another part: a whole
/// record read from another's place is caught by its seq, which every read compares); it is no
/// seal against a forger, who could recompute any unkeyed check (SHA-256 before format 5
/// included): `verify` compares the index with the log, whose hash chain is SHA-256.
pub(crate) fn check8(bytes: &[u8]) -> [u8; 8] {
    twox_hash::XxHash3_64::oneshot(bytes).to_le_bytes()
}

/// A stable 64-bit hash of a key (FNV-1a), for the key directory.
pub(crate) fn key_hash(key: &[u8]) -> u64 {
    key.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What a manifest records of a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentMeta {
    /// File name inside the index directory.
    pub(crate) name: String,
    pub(crate) first: Seq,
    pub(crate) last: Seq,
    /// File size in bytes.
    pub(crate) size: u64,
    /// SHA-256 of the whole file, its header last ([`Segment::sum`]).
    pub(crate) sum: [u8; 32],
}

/// A writer that hashes and counts what it writes.
struct Hashing<W> {
    inner: W,
    sum: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sum.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes a segment of the events `first..=last` (given in seq order by `events`) with their
/// posting lists and their account to `path`, and syncs it. Returns its size and SHA-256.
pub(crate) fn write(
    path: &Path,
    first: Seq,
    last: Seq,
    events: impl Iterator<Item = Event>,
    postings: &Postings,
    account: &Account,
) -> io::Result<(u64, [u8; 32])> {
    let mut w = SegmentWriter::create(path, first, last)?;
    let mut buf = Vec::with_capacity(512);
    let mut records = RecordEncoder::default();
    for event in events {
        w.ids.push((event.id, event.seq));
        w.topics.add(&event);
        buf.clear();
        records.record(&mut buf, &event);
        w.record(&check8(&buf), &buf)?;
    }
    w.finish(postings, account)
}

/// Writes one segment holding the events of `parts` (segments of consecutive seq ranges, in
/// order) to `path`, and syncs it: their records copied as they are (each keeps its check),
/// their ids merged, their posting lists united, their topic tables joined, their accounts
/// added. Returns its first and
/// last seq, size and SHA-256. Reads the parts a MiB at a time; holds their offsets, ids and
/// posting lists.
///
/// # Errors
/// An I/O error, or damage found in a part (an offset out of bounds, a posting list or topic
/// table whose check fails), as an error of kind `InvalidData`.
pub(crate) fn merge(path: &Path, parts: &[&Segment]) -> io::Result<(Seq, Seq, u64, [u8; 32])> {
    let damaged = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
    let (first, last) = match (parts.first(), parts.last()) {
        (Some(a), Some(b)) => (a.first, b.last),
        _ => return Err(io::Error::other("a merge of no segments")),
    };
    let mut w = SegmentWriter::create(path, first, last)?;
    let mut postings = Postings::default();
    let mut account = Account::default();
    let mut buf = vec![0; READ_MAX];
    for part in parts {
        // Each record's offset in the new file: its offset in the part, moved.
        let base = w.bytes;
        let count = part.count();
        let offsets = part
            .read(part.offsets_at, (count + 1) * 8)
            .map_err(damaged)?;
        for (i, o) in offsets.chunks_exact(8).enumerate() {
            let old = u64_of(o) as usize;
            if old < HEADER || old > part.offsets_at {
                return Err(damaged("a record's offset is out of bounds".into()));
            }
            if i < count {
                w.offsets.push(base + (old - HEADER) as u64);
            }
        }
        let mut at = HEADER;
        while at < part.offsets_at {
            let n = buf.len().min(part.offsets_at - at);
            part.file.read_exact_at(&mut buf[..n], at as u64)?;
            w.write_all(&buf[..n])?;
            at += n;
        }
        w.ids.extend(part.ids().map_err(damaged)?);
        w.topics.add_table(&part.topic_table().map_err(damaged)?);
        part.all_postings(&mut postings).map_err(damaged)?;
        account.add(&part.full_account(&account).map_err(damaged)?);
    }
    for list in postings.values_mut() {
        list.sort_unstable();
        list.dedup();
    }
    let (size, sum) = w.finish(&postings, &account)?;
    Ok((first, last, size, sum))
}

/// Where the records of a segment begin: after its header. A segment made in place
/// ([`finish_in_place`]) has its records written from here before its header is known.
pub(crate) const RECORDS_AT: u64 = HEADER as u64;

/// Makes the file `records` a segment of the events `first..=last` in place: the file holds
/// their records (each its check, then its bytes, as [`write`] writes them) from
/// [`RECORDS_AT`] to `end`, the record of seq `first + i` at `offsets[i]` (file offsets), and
/// `sum` has taken those bytes (from [`RECORDS_AT`] to `end`, as they were written: the
/// writer sums them then, so they are not read back); its first [`RECORDS_AT`] bytes are
/// overwritten with the header, and the tables (`ids` in any order, posting lists, `topics`:
/// the topic table of those events, account) are written after the records; the file is
/// synced. Returns its size and SHA-256. An import
/// makes its segment so (`pending.rs`): its records are written once, never copied (the file
/// is renamed into place by the caller).
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish_in_place(
    records: &File,
    sum: Sha256,
    (first, last): (Seq, Seq),
    end: u64,
    offsets: Vec<u64>,
    ids: Vec<(Uuid, Seq)>,
    postings: &Postings,
    topics: TableWriter,
    account: &Account,
) -> io::Result<(u64, [u8; 32])> {
    let head = header(first, last);
    records.write_all_at(&head, 0)?;
    let mut file = records.try_clone()?;
    file.seek(io::SeekFrom::Start(end))?;
    file.set_len(end)?;
    let w = SegmentWriter {
        out: Hashing {
            inner: BufWriter::with_capacity(1 << 20, file),
            sum,
            bytes: end,
        },
        head,
        first,
        last,
        offsets,
        ids,
        topics,
        bytes: end,
    };
    w.finish(postings, account)
}

/// The header of a segment of the events `first..=last`: magic, version, first and last seq.
fn header(first: Seq, last: Seq) -> Vec<u8> {
    let mut head = Vec::with_capacity(HEADER);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&VERSION.to_le_bytes());
    head.extend_from_slice(&first.to_le_bytes());
    head.extend_from_slice(&last.to_le_bytes());
    head
}

/// A segment being written: the header first, then records in seq order, then (on
/// [`SegmentWriter::finish`]) the offsets, ids, posting lists, directory, fences, topic table,
/// account and footer.
struct SegmentWriter {
    out: Hashing<BufWriter<File>>,
    head: Vec<u8>,
    first: Seq,
    last: Seq,
    /// Offset of each record written so far.
    offsets: Vec<u64>,
    /// (id, seq) of each record written so far.
    ids: Vec<(Uuid, Seq)>,
    /// The topic table of the records written so far.
    topics: TableWriter,
    bytes: u64,
}

impl SegmentWriter {
    fn create(path: &Path, first: Seq, last: Seq) -> io::Result<SegmentWriter> {
        let file = File::create(path)?;
        let head = header(first, last);
        let mut w = SegmentWriter {
            out: Hashing {
                inner: BufWriter::with_capacity(1 << 20, file),
                sum: Sha256::new(),
                bytes: 0,
            },
            head: Vec::new(),
            first,
            last,
            offsets: Vec::with_capacity((last - first + 2) as usize),
            ids: Vec::with_capacity((last - first + 1) as usize),
            topics: TableWriter::default(),
            bytes: 0,
        };
        // Not summed here: the sum takes the header last (see `finish`).
        w.out.inner.write_all(&head)?;
        w.out.bytes = head.len() as u64;
        w.bytes = w.out.bytes;
        w.head = head;
        Ok(w)
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.bytes = self.out.bytes;
        Ok(())
    }

    /// Writes one record: its check, then its bytes.
    fn record(&mut self, check: &[u8; 8], body: &[u8]) -> io::Result<()> {
        self.offsets.push(self.bytes);
        self.write_all(check)?;
        self.write_all(body)
    }

    /// Writes the offsets (each record's, then the end of the records) and the ids after the
    /// records.
    fn tables(&mut self, offsets: &[u64]) -> io::Result<()> {
        let mut buf = Vec::with_capacity(offsets.len() * 8);
        for o in offsets {
            buf.extend_from_slice(&o.to_le_bytes());
        }
        self.write_all(&buf)?;
        let mut ids = std::mem::take(&mut self.ids);
        ids.sort_unstable();
        buf.clear();
        for (id, seq) in &ids {
            buf.extend_from_slice(id.as_bytes());
            buf.extend_from_slice(&seq.to_le_bytes());
        }
        self.write_all(&buf)
    }

    /// Writes the posting lists, each entry with where its record is when this segment holds
    /// it (`offsets`: each record's, then the end of the records); returns the directory
    /// (entries sorted by key hash).
    fn posting_lists(&mut self, postings: &Postings, offsets: &[u64]) -> io::Result<Vec<u8>> {
        let mut keys: Vec<(u64, &Vec<u8>)> = postings.keys().map(|k| (key_hash(k), k)).collect();
        keys.sort_unstable();
        let mut dir = Vec::with_capacity(keys.len() * DIR_ENTRY);
        let mut buf = Vec::new();
        for (hash, key) in &keys {
            dir.extend_from_slice(&hash.to_le_bytes());
            dir.extend_from_slice(&self.bytes.to_le_bytes());
            buf.clear();
            buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
            buf.extend_from_slice(key);
            let seqs = &postings[*key];
            buf.extend_from_slice(&(seqs.len() as u64).to_le_bytes());
            for s in seqs {
                let i = s.checked_sub(self.first).map(|i| i as usize);
                let (at, len) = match i.filter(|i| i + 1 < offsets.len()) {
                    Some(i) => (offsets[i], offsets[i + 1] - offsets[i]),
                    None => (0, 0),
                };
                let len =
                    u32::try_from(len).map_err(|_| io::Error::other("a record over 4 GiB"))?;
                buf.extend_from_slice(&s.to_le_bytes());
                buf.extend_from_slice(&at.to_le_bytes());
                buf.extend_from_slice(&len.to_le_bytes());
            }
            let check = check8(&buf);
            self.write_all(&buf)?;
            self.write_all(&check)?;
        }
        Ok(dir)
    }

    /// Writes the tables after the records, syncs the file; returns its size and SHA-256.
    fn finish(mut self, postings: &Postings, account: &Account) -> io::Result<(u64, [u8; 32])> {
        let (first, last) = (self.first, self.last);
        if self.offsets.len() as u64 != last - first + 1 || self.ids.len() != self.offsets.len() {
            return Err(io::Error::other("a segment's events do not fill its range"));
        }
        let offsets_at = self.bytes;
        let mut offsets = std::mem::take(&mut self.offsets);
        offsets.push(offsets_at);
        self.tables(&offsets)?;
        let postings_at = self.bytes;
        let ids_at = postings_at - (last - first + 1) * ID_ENTRY as u64;
        let dir = self.posting_lists(postings, &offsets)?;
        drop(offsets);
        let dir_at = self.bytes;
        self.write_all(&dir)?;
        let fences_at = self.bytes;
        let mut fences = Vec::with_capacity(dir.len().div_ceil(DIR_BLOCK * DIR_ENTRY) * FENCE);
        for block in dir.chunks(DIR_BLOCK * DIR_ENTRY) {
            fences.extend_from_slice(&block[..8]);
            fences.extend_from_slice(&check8(block));
        }
        self.write_all(&fences)?;
        let topics_at = self.bytes;
        let topics = std::mem::take(&mut self.topics).encode();
        self.write_all(&topics)?;
        let account_at = self.bytes;
        let (account, others) = account.encode();
        self.write_all(&account)?;
        let others_at = self.bytes;
        self.write_all(&others)?;
        let keys = (dir.len() / DIR_ENTRY) as u64;
        let mut foot = Vec::with_capacity(FOOTER);
        for v in [
            offsets_at,
            ids_at,
            postings_at,
            dir_at,
            keys,
            fences_at,
            topics_at,
            account_at,
            others_at,
        ] {
            foot.extend_from_slice(&v.to_le_bytes());
        }
        foot.extend_from_slice(&check8(&fences));
        foot.extend_from_slice(&check8(&topics));
        foot.extend_from_slice(&check8(&account));
        foot.extend_from_slice(&check8(&others));
        let mut summed = std::mem::take(&mut self.head);
        summed.extend_from_slice(&foot);
        foot.extend_from_slice(&check8(&summed));
        self.write_all(&foot)?;
        let size = self.bytes;
        // The header last: a segment made in place has its records summed as they are
        // written, before its last seq (in the header) is known.
        self.out.sum.update(header(first, last));
        let sum: [u8; 32] = self.out.sum.finalize().into();
        let file = self.out.inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok((size, sum))
    }
}

/// Records closer than this are read together.
const NEAR: usize = 4096;
/// The most bytes read at once.
const READ_MAX: usize = 1 << 20;

/// The body of a record (its 8-byte check, then the record), the check verified.
fn verified(seq: Seq, bytes: &[u8]) -> Result<&[u8], String> {
    let (check, body) = bytes.split_at(8);
    if check8(body) != check {
        return Err(format!("the record of seq {seq} is damaged"));
    }
    Ok(body)
}

/// The event of a record (its 8-byte check, then the record), the check verified.
pub(super) fn decode(seq: Seq, bytes: &[u8], last: &mut LastParsed) -> Result<Event, String> {
    decode_body(seq, verified(seq, bytes)?, last)
}

/// The event of a record's body.
pub(super) fn decode_body(seq: Seq, body: &[u8], last: &mut LastParsed) -> Result<Event, String> {
    let mut r = Reader::new(body);
    let rec = r
        .record_ref()
        .map_err(|e| format!("the record of seq {seq}: {e}"))?;
    decode_ref(seq, &rec, r.at_end(), last)
}

/// [`decode_body`] of a record already read as `rec` (`whole`: every byte of its body read).
fn decode_ref(
    seq: Seq,
    rec: &RecordRef<'_>,
    whole: bool,
    last: &mut LastParsed,
) -> Result<Event, String> {
    if whole && let Some(e) = topic_event(rec, last).filter(|e| e.seq == seq) {
        return Ok(e);
    }
    match event_of(rec.to_record(), last) {
        Ok(e) if e.seq == seq && whole => Ok(e),
        Ok(e) => Err(format!("the record of seq {seq} holds seq {}", e.seq)),
        Err(e) => Err(format!("the record of seq {seq}: {e}")),
    }
}

/// Folds the event of a record's body into `h`: a stance in the plain shape straight from the
/// bytes ([`stance_view`]: no owned string, the history interns what it keeps), anything else
/// as its decoded event. The same fold and the same errors as [`decode_body`] then
/// [`History::apply`].
pub(crate) fn fold_record(
    h: &mut History,
    seq: Seq,
    body: &[u8],
    last: &mut LastParsed,
) -> Result<(), String> {
    let mut r = Reader::new(body);
    let rec = r
        .record_ref()
        .map_err(|e| format!("the record of seq {seq}: {e}"))?;
    let whole = r.at_end();
    match plain_stance(seq, &rec, whole, last) {
        Some(stance) => fold_stance(h, seq, &stance),
        // Decoded from the record read already (reading it again was a fifth of folding
        // a registration).
        None => h.apply(decode_ref(seq, &rec, whole, last)?),
    }
    Ok(())
}

/// A `stance.declared` in the plain shape, borrowed from its record: its id, recorded time and
/// view ([`stance_view`]).
pub(crate) type PlainStance<'a> = (Uuid, jiff::Timestamp, StanceView<'a>);

/// The stance that [`fold_record`] folds without decoding, from the record of `seq` read as
/// `rec` (`whole`: every byte of the body read): `None` when the record is anything else
/// (decoded and applied by [`decode_body`] then [`History::apply`]).
pub(crate) fn plain_stance<'a>(
    seq: Seq,
    rec: &RecordRef<'a>,
    whole: bool,
    last: &mut LastParsed,
) -> Option<PlainStance<'a>> {
    if !whole {
        return None;
    }
    let (s, id, at, view) = stance_view(rec, last)?;
    (s == seq).then_some((id, at, view))
}

/// Folds a stance [`plain_stance`] gave for `seq` into `h`, as [`fold_record`] would.
pub(crate) fn fold_stance(h: &mut History, seq: Seq, (id, at, view): &PlainStance<'_>) {
    h.apply_stance_view(seq, *id, *at, view);
}

/// Record bodies read from a segment, their checks verified, not yet decoded: in the buffers
/// they were read into.
pub(crate) struct RecordBytes {
    bufs: Vec<Vec<u8>>,
    /// Per record in seq order: its seq, its buffer, and where its body starts and ends there.
    spans: Vec<(Seq, usize, usize, usize)>,
}

impl RecordBytes {
    /// The buffers, for reuse.
    pub(crate) fn into_buffers(self) -> Vec<Vec<u8>> {
        self.bufs
    }

    /// (seq, body) of each record, in seq order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Seq, &[u8])> + '_ {
        self.spans
            .iter()
            .map(|(seq, b, from, to)| (*seq, &self.bufs[*b][*from..*to]))
    }
}

/// A segment opened for reading: its header, footer, directory fences and account read and
/// checked; everything else is read with `pread` when asked for.
pub(crate) struct Segment {
    file: File,
    size: usize,
    pub(crate) first: Seq,
    pub(crate) last: Seq,
    offsets_at: usize,
    ids_at: usize,
    postings_at: usize,
    dir_at: usize,
    keys: usize,
    /// The first key hash of each directory block, and the block's check.
    fences: Vec<(u64, [u8; 8])>,
    /// Where the topic table is (read only when asked for).
    topics: TablePlace,
    /// What the segment's events add to the whole log's account: its runs and dates (taken
    /// by [`super::Index`]; see [`Account::decode_registered`]).
    pub(crate) account: Account,
    /// The lines of the actors the segment registers (taken by [`super::Index`]).
    pub(crate) actors_registered: RawLines,
    /// The lines of the topics the segment registers (taken by [`super::Index`]).
    pub(crate) topics_registered: RawLines,
    /// Whether the account's second section holds no line: every id it names is registered
    /// in this segment.
    pub(crate) account_whole: bool,
    /// Where the account's first section is (read when the segment is opened), for its whole
    /// decoding ([`Segment::full_account`]).
    account_place: TablePlace,
    /// Where the account's second section is: the lines of ids registered in other segments
    /// (read only when asked for: [`Segment::account_others`]).
    others_place: TablePlace,
}

/// Where a segment's topic table or account is: its offset and length in bytes, and its check.
#[derive(Clone, Copy, Default)]
struct TablePlace {
    at: usize,
    len: usize,
    check: [u8; 8],
}

fn u64_of(b: &[u8]) -> u64 {
    u64::from_le_bytes(b.get(..8).and_then(|b| b.try_into().ok()).unwrap_or([0; 8]))
}

const DAMAGED_LIST: &str = "a posting list is damaged";

/// The length in bytes of the posting list that `head` starts (at least its key's length, the
/// key and the count), if it fits in `room` bytes.
fn list_len(head: &[u8], room: usize) -> Result<usize, String> {
    let klen = head
        .get(..4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])));
    let klen = klen.ok_or(DAMAGED_LIST)? as usize;
    let n = head.get(4 + klen..12 + klen).map(u64_of);
    usize::try_from(n.ok_or(DAMAGED_LIST)?)
        .ok()
        .and_then(|n| n.checked_mul(POSTING))
        .and_then(|b| b.checked_add(20 + klen))
        .filter(|t| *t <= room)
        .ok_or_else(|| DAMAGED_LIST.into())
}

/// The key and the entries of a whole posting list (as [`list_len`] measured it), its check
/// verified.
fn list_parts(list: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let (body, check) = list.split_at(list.len() - 8);
    if check8(body) != check {
        return Err(DAMAGED_LIST.into());
    }
    let klen = u32::from_le_bytes(body[..4].try_into().unwrap_or([0; 4])) as usize;
    Ok((&body[4..4 + klen], &body[12 + klen..]))
}

/// The footer's fields: offsets, ids, posting lists, directory, key count, fences, topic table,
/// account, the account's other lines.
struct Footer {
    fields: [usize; 9],
    fences_check: [u8; 8],
    topics_check: [u8; 8],
    account_check: [u8; 8],
    others_check: [u8; 8],
}

impl Footer {
    /// Whether the fields place the parts of a segment of `count` events and `size` bytes in
    /// order, each table of its length, all before the footer.
    fn fits(&self, count: usize, size: usize) -> bool {
        let [o, ids, postings, dir, keys, fences, topics, account, others] = self.fields;
        // Checked sums: a footer whose fields overflow is damage, not a wrapped offset.
        let after = |at: usize, n: usize, width: usize| {
            n.checked_mul(width).and_then(|len| len.checked_add(at))
        };
        o >= HEADER
            && Some(ids) == count.checked_add(1).and_then(|n| after(o, n, 8))
            && Some(postings) == after(ids, count, ID_ENTRY)
            && dir >= postings
            && Some(fences) == after(dir, keys, DIR_ENTRY)
            && Some(topics) == after(fences, keys.div_ceil(DIR_BLOCK), FENCE)
            && account >= topics
            && others >= account
            && others <= size - FOOTER
    }
}

impl Segment {
    /// Opens the segment at `path` that `meta` describes; checks its size, header and footer,
    /// its directory fences and its account (not the whole file: see [`Segment::sum`]).
    pub(crate) fn open(path: &Path, meta: &SegmentMeta) -> Result<Segment, String> {
        let file = File::open(path).map_err(|e| format!("segment {}: {e}", meta.name))?;
        let size = file.metadata().map_err(|e| e.to_string())?.len();
        if size != meta.size {
            return Err(format!(
                "segment {} has {size} bytes, the manifest says {}",
                meta.name, meta.size
            ));
        }
        Segment::from_file(file, meta).map_err(|e| format!("segment {}: {e}", meta.name))
    }

    fn from_file(file: File, meta: &SegmentMeta) -> Result<Segment, String> {
        let size = usize::try_from(meta.size).map_err(|e| e.to_string())?;
        if size < HEADER + FOOTER {
            return Err("it is truncated".into());
        }
        let mut seg = Segment {
            file,
            size,
            first: meta.first,
            last: meta.last,
            offsets_at: 0,
            ids_at: 0,
            postings_at: 0,
            dir_at: 0,
            keys: 0,
            fences: Vec::new(),
            topics: TablePlace::default(),
            account: Account::default(),
            actors_registered: RawLines::default(),
            topics_registered: RawLines::default(),
            account_whole: false,
            account_place: TablePlace::default(),
            others_place: TablePlace::default(),
        };
        let foot = seg.footer()?;
        if !foot.fits(seg.count(), size) {
            return Err("its footer does not fit its size".into());
        }
        let [
            offsets_at,
            ids_at,
            postings_at,
            dir_at,
            keys,
            fences_at,
            topics_at,
            account_at,
            _,
        ] = foot.fields;
        let blocks = keys.div_ceil(DIR_BLOCK);
        (seg.offsets_at, seg.ids_at, seg.postings_at) = (offsets_at, ids_at, postings_at);
        (seg.dir_at, seg.keys) = (dir_at, keys);
        seg.topics = TablePlace {
            at: topics_at,
            len: account_at - topics_at,
            check: foot.topics_check,
        };
        let fences = seg.read(fences_at, blocks * FENCE)?;
        if check8(&fences) != foot.fences_check {
            return Err("its key directory's fences are damaged".into());
        }
        seg.fences = fences
            .chunks_exact(FENCE)
            .map(|f| (u64_of(&f[..8]), f[8..].try_into().unwrap_or([0; 8])))
            .collect();
        seg.open_account(&foot)?;
        Ok(seg)
    }

    /// Places the account's two sections the footer gives, and reads the first.
    fn open_account(&mut self, foot: &Footer) -> Result<(), String> {
        let [.., account_at, others_at] = foot.fields;
        self.account_place = TablePlace {
            at: account_at,
            len: others_at - account_at,
            check: foot.account_check,
        };
        self.others_place = TablePlace {
            at: others_at,
            len: self.size - FOOTER - others_at,
            check: foot.others_check,
        };
        (self.account, self.actors_registered, self.topics_registered) =
            Account::decode_registered(&self.checked(self.account_place)?)?;
        self.account_whole = Account::others_empty(self.others_place.len);
        Ok(())
    }

    /// The bytes of the table at `place`, read and checked.
    fn checked(&self, place: TablePlace) -> Result<Vec<u8>, String> {
        let TablePlace { at, len, check } = place;
        let bytes = self.read(at, len)?;
        if check8(&bytes) != check {
            return Err("its account is damaged".into());
        }
        Ok(bytes)
    }

    /// The account's lines of ids registered in other segments (its second section), read and
    /// checked, for [`Account::add_unregistered`].
    pub(crate) fn account_others(&self) -> Result<Vec<u8>, String> {
        self.checked(self.others_place)
    }

    /// What the segment's events add to the whole log's account, every line of it, read
    /// again; the ids `known` holds are shared from it ([`Account::decode`]).
    pub(crate) fn full_account(&self, known: &Account) -> Result<Account, String> {
        let opened = self.checked(self.account_place)?;
        Account::decode(&opened, &self.account_others()?, known)
    }

    /// Reads and checks the header and footer.
    fn footer(&self) -> Result<Footer, String> {
        let head = self.read(0, HEADER)?;
        let foot = self.read(self.size - FOOTER, FOOTER)?;
        if &head[..24] != MAGIC {
            return Err("it is not an index segment".into());
        }
        let version = u32::from_le_bytes(head[24..28].try_into().unwrap_or([0; 4]));
        if version != VERSION {
            return Err(format!("it is of format version {version}, not {VERSION}"));
        }
        let mut summed = head.clone();
        summed.extend_from_slice(&foot[..FOOTER - 8]);
        if check8(&summed) != foot[FOOTER - 8..] {
            return Err("its header or footer is damaged".into());
        }
        let (first, last) = (u64_of(&head[28..36]), u64_of(&head[36..44]));
        if (first, last) != (self.first, self.last) || first == 0 || last < first {
            return Err(format!(
                "it holds seqs {first} to {last}, not what the manifest says"
            ));
        }
        let mut fields = [0; 9];
        for (i, f) in fields.iter_mut().enumerate() {
            *f = usize::try_from(u64_of(&foot[i * 8..i * 8 + 8])).map_err(|e| e.to_string())?;
        }
        Ok(Footer {
            fields,
            fences_check: foot[72..80].try_into().unwrap_or([0; 8]),
            topics_check: foot[80..88].try_into().unwrap_or([0; 8]),
            account_check: foot[88..96].try_into().unwrap_or([0; 8]),
            others_check: foot[96..104].try_into().unwrap_or([0; 8]),
        })
    }

    /// The number of events.
    pub(crate) fn count(&self) -> usize {
        (self.last - self.first + 1) as usize
    }

    /// `len` bytes from `at`, read from the file.
    fn read(&self, at: usize, len: usize) -> Result<Vec<u8>, String> {
        if at.checked_add(len).is_none_or(|end| end > self.size) {
            return Err("it is truncated".into());
        }
        // Taken zeroed from the allocator, which knows fresh pages are zero, not cleared
        // again (as in `read_spans`; the topic table of the UN votes log is 0.7 MB).
        let mut buf = vec![0; len];
        self.file
            .read_exact_at(&mut buf, at as u64)
            .map_err(|e| format!("it could not be read: {e}"))?;
        Ok(buf)
    }

    /// The SHA-256 of the whole file, its header last: of the bytes after the header, then
    /// of the header (reads every byte). The header goes last so that a segment made in place
    /// has its records summed as they are written, before its last seq is known.
    pub(crate) fn sum(&self) -> Result<[u8; 32], String> {
        let mut sum = Sha256::new();
        let mut buf = vec![0; READ_MAX];
        for (from, to) in [(HEADER, self.size), (0, HEADER)] {
            let mut at = from;
            while at < to {
                let n = buf.len().min(to - at);
                self.file
                    .read_exact_at(&mut buf[..n], at as u64)
                    .map_err(|e| e.to_string())?;
                sum.update(&buf[..n]);
                at += n;
            }
        }
        Ok(sum.finalize().into())
    }

    /// The byte spans (its check and its body) of the records of `seqs` (sorted, each in this
    /// segment's range), from the offsets table: offsets of seqs close to each other in one
    /// read.
    pub(crate) fn spans(&self, seqs: &[Seq]) -> Result<Vec<(usize, usize)>, String> {
        let mut out = Vec::with_capacity(seqs.len());
        let mut i = 0;
        while i < seqs.len() {
            let base = seqs[i];
            let n = seqs[i..].partition_point(|s| s - base < (NEAR / 8) as u64);
            let last = seqs[i + n - 1];
            let at = self.offsets_at + (base - self.first) as usize * 8;
            let table = self.read(at, (last - base + 2) as usize * 8)?;
            for seq in &seqs[i..i + n] {
                let k = (seq - base) as usize * 8;
                let (from, to) = (u64_of(&table[k..k + 8]), u64_of(&table[k + 8..k + 16]));
                let (from, to) = (from as usize, to as usize);
                if from < HEADER || to > self.offsets_at || to < from + 8 {
                    return Err(format!("the record of seq {seq} is out of bounds"));
                }
                out.push((from, to));
            }
            i += n;
        }
        Ok(out)
    }

    /// The events of `seqs` (sorted, each in this segment's range), their checks verified.
    pub(crate) fn events(&self, seqs: &[Seq]) -> Result<Vec<Event>, String> {
        let mut last = LastParsed::default();
        self.records(seqs, &mut Vec::new())?
            .iter()
            .map(|(seq, body)| decode_body(seq, body, &mut last))
            .collect()
    }

    /// The record bodies of `seqs` (sorted, each in this segment's range), their checks
    /// verified, found from the offsets table (see [`Segment::read_spans`]).
    pub(crate) fn records(
        &self,
        seqs: &[Seq],
        spare: &mut Vec<Vec<u8>>,
    ) -> Result<RecordBytes, String> {
        let spans = self.spans(seqs)?;
        let spans: Vec<(Seq, (usize, usize))> = seqs.iter().copied().zip(spans).collect();
        self.read_spans(&spans, spare)
    }

    /// The record bodies of `located` (sorted by seq, each in this segment's range), their
    /// checks verified: where the posting lists gave their spans, no offset is read.
    pub(crate) fn records_located(
        &self,
        located: &[Located],
        spare: &mut Vec<Vec<u8>>,
    ) -> Result<RecordBytes, String> {
        let missing: Vec<Seq> = located
            .iter()
            .filter(|l| l.span.is_none())
            .map(|l| l.seq)
            .collect();
        let mut found = self.spans(&missing)?.into_iter();
        let spans: Vec<(Seq, (usize, usize))> = located
            .iter()
            .map(|l| (l.seq, l.span.or_else(|| found.next()).unwrap_or((0, 0))))
            .collect();
        self.read_spans(&spans, spare)
    }

    /// The record bodies of `spans` (seq, and the span of its check and body, in file order),
    /// their checks verified: records near each other read in one read, all into one buffer
    /// taken from `spare` when it has one (fresh memory costs the kernel a zeroed page per
    /// 4 KiB).
    fn read_spans(
        &self,
        spans: &[(Seq, (usize, usize))],
        spare: &mut Vec<Vec<u8>>,
    ) -> Result<RecordBytes, String> {
        // Runs of near records: (from, to, first and last index in `spans`).
        let mut runs = Vec::new();
        let mut total = 0;
        let mut i = 0;
        while let Some((_, (from, mut to))) = spans.get(i).copied() {
            let mut j = i;
            while let Some((_, (f, t))) = spans.get(j + 1) {
                if *f < to || f - to > NEAR || t - from > READ_MAX {
                    break;
                }
                (to, j) = (*t, j + 1);
            }
            if from < HEADER || to > self.offsets_at || to < from + 8 {
                return Err(format!("the record of seq {} is out of bounds", spans[i].0));
            }
            runs.push((from, to, i, j));
            total += to - from;
            i = j + 1;
        }
        // A fresh buffer is taken zeroed from the allocator, which knows fresh pages from the
        // system are zero and does not clear them again (filling one was a fortieth of a
        // one-actor query of the UN votes log). A buffer handed back keeps its bytes: only
        // room beyond them is zeroed (the reads below write every byte up to `total`; zeroing
        // it whole each time was about 4% of the instructions of a query of every pair).
        let mut buf = match spare.pop() {
            Some(mut b) => {
                b.truncate(total);
                b.resize(total, 0);
                b
            }
            None => vec![0; total],
        };
        let mut out = RecordBytes {
            bufs: Vec::new(),
            spans: Vec::with_capacity(spans.len()),
        };
        let mut at = 0;
        for (from, to, i, j) in runs {
            let part = &mut buf[at..at + to - from];
            self.file
                .read_exact_at(part, from as u64)
                .map_err(|e| format!("it could not be read: {e}"))?;
            for (seq, (f, t)) in &spans[i..=j] {
                let (f, t) = (f - from + at, t - from + at);
                if t > at + to - from || f + 8 > t {
                    return Err(format!("the record of seq {seq} is out of bounds"));
                }
                verified(*seq, &buf[f..t])?;
                out.spans.push((*seq, 0, f + 8, t));
            }
            at += to - from;
        }
        // Every byte of the buffer was read (a spare buffer's old bytes are never seen).
        debug_assert_eq!(at, total);
        out.bufs.push(buf);
        Ok(out)
    }

    /// The topic table (see `topics.rs`), its check verified: one read.
    pub(crate) fn topic_table(&self) -> Result<Vec<u8>, String> {
        let TablePlace { at, len, check } = self.topics;
        let table = self.read(at, len)?;
        if check8(&table) != check {
            return Err("its topic table is damaged".into());
        }
        Ok(table)
    }

    /// The entries of directory block `b`, its check verified.
    fn dir_block(&self, b: usize) -> Result<Vec<u8>, String> {
        let n = DIR_BLOCK.min(self.keys - b * DIR_BLOCK);
        let block = self.read(self.dir_at + b * DIR_BLOCK * DIR_ENTRY, n * DIR_ENTRY)?;
        if check8(&block) != self.fences[b].1 || u64_of(&block[..8]) != self.fences[b].0 {
            return Err("its key directory is damaged".into());
        }
        Ok(block)
    }

    /// The offsets of the records of seqs `seq..seq + n` and the end of the last (`n + 1`
    /// offsets; `n` cut at the segment's end), from the offsets table.
    pub(crate) fn record_offsets(&self, seq: Seq, n: usize) -> Result<Vec<u64>, String> {
        if seq < self.first || seq > self.last {
            return Err(format!("seq {seq} is not in this segment"));
        }
        let n = n.min((self.last - seq + 1) as usize);
        let at = self.offsets_at + (seq - self.first) as usize * 8;
        let table = self.read(at, (n + 1) * 8)?;
        let out: Vec<u64> = table.chunks_exact(8).map(u64_of).collect();
        let sane = out.windows(2).all(|w| w[0] + 8 <= w[1])
            && out[0] >= HEADER as u64
            && out[n] <= self.offsets_at as u64;
        if !sane {
            return Err(format!("the record of seq {seq} is out of bounds"));
        }
        Ok(out)
    }

    /// `len` bytes of the file from `at`.
    pub(crate) fn bytes(&self, at: u64, len: usize) -> Result<Vec<u8>, String> {
        self.read(at as usize, len)
    }

    /// The hash of every key of the directory, sorted (each block's check verified).
    pub(crate) fn key_hashes(&self) -> Result<Vec<u64>, String> {
        let mut out = Vec::with_capacity(self.keys);
        for b in 0..self.fences.len() {
            let block = self.dir_block(b)?;
            out.extend(block.chunks_exact(DIR_ENTRY).map(|e| u64_of(&e[..8])));
        }
        Ok(out)
    }

    /// Appends the seqs filed under `key` to `out`.
    pub(crate) fn postings(&self, key: &[u8], out: &mut Vec<Seq>) -> Result<(), String> {
        let mut located = Vec::new();
        self.located(key, &mut located)?;
        out.extend(located.iter().map(|l| l.seq));
        Ok(())
    }

    /// Appends the seqs filed under `key` to `out`, each with where its record is when this
    /// segment holds it (checked to lie among the records).
    pub(crate) fn located(&self, key: &[u8], out: &mut Vec<Located>) -> Result<(), String> {
        let hash = key_hash(key);
        // The blocks that may hold `hash`: from the last one starting below it (its end may)
        // to the last one starting at it.
        let lo = self
            .fences
            .partition_point(|f| f.0 < hash)
            .saturating_sub(1);
        let hi = self.fences.partition_point(|f| f.0 <= hash);
        for b in lo..hi {
            for e in self.dir_block(b)?.chunks_exact(DIR_ENTRY) {
                if u64_of(&e[..8]) == hash && self.posting_at(u64_of(&e[8..]) as usize, key, out)? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Reads the posting list at `at` into `out` if it is `key`'s; `Ok(false)` if it is another
    /// key's (a hash collision).
    fn posting_at(&self, at: usize, key: &[u8], out: &mut Vec<Located>) -> Result<bool, String> {
        if at < self.postings_at || at >= self.dir_at {
            return Err(DAMAGED_LIST.into());
        }
        let room = self.dir_at - at;
        let mut list = self.read(at, room.min(NEAR))?;
        let total = list_len(&list, room)?;
        if total > list.len() {
            list = self.read(at, total)?;
        }
        let (k, entries) = list_parts(&list[..total])?;
        if k != key {
            return Ok(false);
        }
        out.reserve(entries.len() / POSTING);
        for e in entries.chunks_exact(POSTING) {
            out.push(self.entry(e)?);
        }
        Ok(true)
    }

    /// A posting list entry read: its span kept when this segment holds the seq, checked to
    /// lie among the records.
    fn entry(&self, e: &[u8]) -> Result<Located, String> {
        let seq = u64_of(&e[..8]);
        let at = u64_of(&e[8..16]) as usize;
        let len = u32::from_le_bytes(e[16..20].try_into().unwrap_or([0; 4])) as usize;
        if seq < self.first || seq > self.last {
            return Ok(Located::seq(seq));
        }
        let to = at.saturating_add(len);
        if at < HEADER || len < 8 || to > self.offsets_at {
            return Err(format!("the record of seq {seq} is out of bounds"));
        }
        Ok(Located {
            seq,
            span: Some((at, to)),
        })
    }

    /// The raw entries `from..from + n` of the id table (each the id's 16 bytes, then its seq,
    /// u64 little-endian), in id order.
    pub(crate) fn id_entries(&self, from: usize, n: usize) -> Result<Vec<u8>, String> {
        if from + n > self.count() {
            return Err("an id beyond the segment's table".into());
        }
        self.read(self.ids_at + from * ID_ENTRY, n * ID_ENTRY)
    }

    /// Calls `each` with every id of this segment, in id order, reading the table a MiB at a
    /// time (never the whole of it at once).
    pub(crate) fn each_id(&self, mut each: impl FnMut(usize, &[u8; 16])) -> Result<(), String> {
        let per = READ_MAX / ID_ENTRY;
        let mut from = 0;
        while from < self.count() {
            let n = per.min(self.count() - from);
            let table = self.id_entries(from, n)?;
            for (i, e) in table.chunks_exact(ID_ENTRY).enumerate() {
                each(from + i, e[..16].try_into().unwrap_or(&[0; 16]));
            }
            from += n;
        }
        Ok(())
    }

    /// Every (id, seq) of this segment.
    fn ids(&self) -> Result<Vec<(Uuid, Seq)>, String> {
        let ids = self.read(self.ids_at, self.count() * ID_ENTRY)?;
        ids.chunks_exact(ID_ENTRY)
            .map(|e| {
                let id = Uuid::from_slice(&e[..16]).map_err(|e| e.to_string())?;
                Ok((id, u64_of(&e[16..])))
            })
            .collect()
    }

    /// Adds every posting list of this segment to `out` (seqs only, unsorted across
    /// segments), reading them in order, a MiB at a time.
    fn all_postings(&self, out: &mut Postings) -> Result<(), String> {
        let bad = |e: io::Error| format!("a posting list could not be read: {e}");
        let from = Section {
            file: &self.file,
            at: self.postings_at as u64,
            end: self.dir_at as u64,
        };
        let mut r = BufReader::with_capacity(READ_MAX, from);
        let mut list = Vec::new();
        for _ in 0..self.keys {
            list.resize(4, 0);
            r.read_exact(&mut list).map_err(bad)?;
            let klen = u32::from_le_bytes(list[..4].try_into().unwrap_or([0; 4])) as usize;
            list.resize(12 + klen, 0);
            r.read_exact(&mut list[4..]).map_err(bad)?;
            let total = list_len(&list, self.dir_at - self.postings_at)?;
            list.resize(total, 0);
            r.read_exact(&mut list[12 + klen..]).map_err(bad)?;
            let (key, entries) = list_parts(&list)?;
            let seqs = out.entry(key.to_vec()).or_default();
            seqs.extend(entries.chunks_exact(POSTING).map(u64_of));
        }
        Ok(())
    }

    /// The seq of the event with this id, if it is in this segment: a binary search of the
    /// id table, one read of an entry per step.
    pub(crate) fn seq_of(&self, id: &Uuid) -> Result<Option<Seq>, String> {
        let (mut lo, mut hi) = (0, self.count());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let e = self.read(self.ids_at + mid * ID_ENTRY, ID_ENTRY)?;
            match e[..16].cmp(id.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(Some(u64_of(&e[16..]))),
            }
        }
        Ok(None)
    }
}

/// A byte range of a file, read in order (with `pread`: the file's position is not moved).
struct Section<'a> {
    file: &'a File,
    at: u64,
    end: u64,
}

impl Read for Section<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.end - self.at) as usize;
        let n = self.file.read_at(&mut buf[..n], self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{
        ActorId, ActorKind, ActorRegistered, Cite, Country, EventBody, Sector, StanceDeclared,
        TopicId, ValidDate, parse_stated,
    };
    use crate::store::codec::reference::put_record;
    use crate::store::record::Record;

    fn stance(actor: &str, quote: Option<&str>, date: &str) -> StanceDeclared {
        let (date, time) = parse_stated(date).unwrap();
        StanceDeclared {
            actor: ActorId::new(actor).unwrap(),
            topic: TopicId::new("dprk-troops-in-russia").unwrap(),
            stance: crate::core::Stance::Affirm,
            date,
            time,
            event: None,
            recipient: None,
            quote: quote.map(str::to_string),
            cite: Cite {
                publication: "Yonhap".to_string(),
                url: None,
                title: Some("Troops".to_string()),
                published: Some(ValidDate::parse("2024-10").unwrap()),
                via: None,
            },
            instrument: None,
        }
    }

    fn event(seq: Seq, body: EventBody) -> Event {
        Event {
            seq,
            id: Uuid::from_u128(u128::from(seq) * 7919),
            recorded_at: jiff::Timestamp::from_second(1_729_500_000 + seq as i64).unwrap(),
            body,
        }
    }

    fn body_of(r: &Record) -> Vec<u8> {
        let mut out = Vec::new();
        put_record(&mut out, r);
        out
    }

    /// Folding a record from its bytes (a stance without owned strings) gives the history that
    /// decoding it and applying the event gives, for stances with and without a quote and a
    /// time of day, and records the borrowed path leaves to the owned one: an id not plainly
    /// in NFC (which the owned path normalizes) and a registration.
    #[test]
    fn a_record_folded_from_its_bytes_is_the_decoded_event_applied() {
        let bodies = [
            EventBody::ActorRegistered(ActorRegistered {
                actor: ActorId::new("kim").unwrap(),
                name: "Kim Yong-hyun".to_string(),
                kind: ActorKind::Person,
                country: Country::new("KOR").unwrap(),
                sector: Sector::Gov,
                aliases: vec![],
            }),
            EventBody::StanceDeclared(stance("kim", None, "2024-10")),
            EventBody::StanceDeclared(stance("kim", Some("They were sent."), "2024-10-21")),
            EventBody::StanceDeclared(stance("kim", None, "2024-10-21T15:30:00+09:00")),
        ];
        let mut records: Vec<(Seq, Vec<u8>)> = bodies
            .into_iter()
            .enumerate()
            .map(|(i, b)| {
                let e = event(i as Seq + 1, b);
                (e.seq, body_of(&Record::from_event(&e)))
            })
            .collect();
        // "é" decomposed: the owned path normalizes it to the same id as "é".
        let e = event(5, EventBody::StanceDeclared(stance("kim", None, "2024")));
        let mut r = Record::from_event(&e);
        r.actor = Some("jose\u{301}".to_string());
        records.push((5, body_of(&r)));
        let borrowed: Vec<bool> = records
            .iter()
            .map(|(_, body)| {
                let r = Reader::new(body).record_ref().unwrap();
                stance_view(&r, &mut LastParsed::default()).is_some()
            })
            .collect();
        assert_eq!(borrowed, [false, true, true, true, false]);
        let (mut fast, mut slow) = (History::new(), History::new());
        let (mut last_fast, mut last_slow) = (LastParsed::default(), LastParsed::default());
        for (seq, body) in &records {
            fold_record(&mut fast, *seq, body, &mut last_fast).unwrap();
            slow.apply(decode_body(*seq, body, &mut last_slow).unwrap());
        }
        let events: Vec<Event> = fast.events().collect();
        assert_eq!(events, slow.events().collect::<Vec<_>>());
        assert_eq!(events.len(), 5);
        match &events[4].body {
            EventBody::StanceDeclared(s) => assert_eq!(s.actor.as_str(), "jos\u{e9}"),
            other => panic!("{other:?}"),
        }
        match &events[2].body {
            EventBody::StanceDeclared(s) => {
                assert_eq!(s.quote.as_deref(), Some("They were sent."));
                assert_eq!(s.cite.title.as_deref(), Some("Troops"));
            }
            other => panic!("{other:?}"),
        }
    }

    /// Writes a segment of `events` (consecutive seqs) with `postings` into `dir`, and opens it.
    fn written(dir: &Path, events: &[Event], postings: &Postings) -> Segment {
        let (first, last) = (events[0].seq, events[events.len() - 1].seq);
        let path = dir.join(format!("seg-{first}-{last}"));
        let all = events.iter().cloned();
        let (size, sum) = write(&path, first, last, all, postings, &Account::default()).unwrap();
        let name = format!("seg-{first}-{last}");
        let meta = SegmentMeta {
            name,
            first,
            last,
            size,
            sum,
        };
        Segment::open(&path, &meta).unwrap()
    }

    /// The segment `parts` merge into, written in `dir` as `merged` and opened.
    fn merged(dir: &Path, parts: &[&Segment]) -> Segment {
        let path = dir.join("merged");
        let (first, last, size, sum) = merge(&path, parts).unwrap();
        let meta = SegmentMeta {
            name: "merged".into(),
            first,
            last,
            size,
            sum,
        };
        Segment::open(&path, &meta).unwrap()
    }

    fn stance_event(seq: Seq) -> Event {
        event(seq, EventBody::StanceDeclared(stance("kim", None, "2024")))
    }

    /// A posting list gives each record of its own segment's range where the offsets table
    /// puts it, and none for a seq another segment holds (an older stance filed under a new
    /// key); the records read from those places are those read through the offsets table; a
    /// merge places every seq it now holds.
    #[test]
    fn posting_lists_place_the_records_of_their_segment() {
        let dir = tempfile::tempdir().unwrap();
        let key = b"a\0kim".to_vec();
        let older = written(
            dir.path(),
            &[stance_event(1), stance_event(2)],
            &Postings::from_iter([(key.clone(), vec![2])]),
        );
        let newer = written(
            dir.path(),
            &[stance_event(3), stance_event(4), stance_event(5)],
            &Postings::from_iter([(key.clone(), vec![2, 3, 5])]),
        );
        let mut located = Vec::new();
        newer.located(&key, &mut located).unwrap();
        let spans = newer.spans(&[3, 5]).unwrap();
        assert_eq!(
            located,
            [
                Located::seq(2),
                Located {
                    seq: 3,
                    span: Some(spans[0])
                },
                Located {
                    seq: 5,
                    span: Some(spans[1])
                },
            ]
        );
        let bodies = |r: RecordBytes| -> Vec<(Seq, Vec<u8>)> {
            r.iter().map(|(s, b)| (s, b.to_vec())).collect()
        };
        let placed = bodies(
            newer
                .records_located(&located[1..], &mut Vec::new())
                .unwrap(),
        );
        let through_offsets = bodies(newer.records(&[3, 5], &mut Vec::new()).unwrap());
        assert_eq!(placed, through_offsets);
        assert_eq!(placed.len(), 2);
        let unplaced = newer.records_located(&[Located::seq(4)], &mut Vec::new());
        assert_eq!(
            bodies(unplaced.unwrap()),
            bodies(newer.records(&[4], &mut Vec::new()).unwrap())
        );
        let merged = merged(dir.path(), &[&older, &newer]);
        let mut located = Vec::new();
        merged.located(&key, &mut located).unwrap();
        let spans = merged.spans(&[2, 3, 5]).unwrap();
        let want: Vec<Located> = [2, 3, 5]
            .into_iter()
            .zip(spans)
            .map(|(seq, span)| Located {
                seq,
                span: Some(span),
            })
            .collect();
        assert_eq!(located, want);
    }

    fn topic_event(seq: Seq, topic: &str, vote: bool) -> Event {
        let t = crate::core::TopicRegistered {
            topic: TopicId::new(topic).unwrap(),
            title: format!("Title of {topic}"),
            kind: if vote {
                crate::core::TopicKind::Vote
            } else {
                crate::core::TopicKind::Claim
            },
            resolution: vote.then(|| format!("A/RES/{seq}")),
            session: vote.then_some(46),
            issues: if vote {
                vec!["me".into(), "nu".into()]
            } else {
                vec![]
            },
            important: vote.then_some(seq.is_multiple_of(2)),
        };
        let mut e = event(seq, EventBody::TopicRegistered(t));
        e.recorded_at = jiff::Timestamp::new(1_729_500_000, 123_456_789).unwrap();
        e
    }

    /// The events of a segment's topic table, in its order.
    fn tabled(seg: &Segment) -> Vec<Event> {
        let table = seg.topic_table().unwrap();
        super::super::topics::entries(&table)
            .map(|e| super::super::topics::event(e.unwrap().2).unwrap())
            .collect()
    }

    /// Given two segments registering topics (a vote with every optional field, a claim with
    /// none) among stances, when merged, then the merged segment's topic table holds the
    /// parts' entries, in seq order, each the event its record holds (the recorded time to the
    /// microsecond: the event's was finer); a segment registering none has an empty table.
    #[test]
    fn the_topic_table_of_a_merged_segment_is_its_parts_tables() {
        let dir = tempfile::tempdir().unwrap();
        let older = [
            topic_event(1, "t-b", true),
            stance_event(2),
            topic_event(3, "t-a", false),
        ];
        let newer = [
            stance_event(4),
            topic_event(5, "t-0", true),
            stance_event(6),
        ];
        let (a, b) = (
            written(dir.path(), &older, &Postings::default()),
            written(dir.path(), &newer, &Postings::default()),
        );
        let (ta, tb) = (tabled(&a), tabled(&b));
        assert_eq!(ta, a.events(&[1, 3]).unwrap());
        assert_eq!(tb, b.events(&[5]).unwrap());
        // The recorded time to the microsecond, as the record keeps it.
        let at = jiff::Timestamp::new(1_729_500_000, 123_456_000).unwrap();
        assert_eq!(ta[0].recorded_at, at);
        let mut as_written = older[0].clone();
        as_written.recorded_at = at;
        assert_eq!(ta[0], as_written);
        let merged = merged(dir.path(), &[&a, &b]);
        let mut both = ta;
        both.extend(tb);
        assert_eq!(tabled(&merged), both);
        let joined = [a.topic_table().unwrap(), b.topic_table().unwrap()].concat();
        assert_eq!(merged.topic_table().unwrap(), joined);
        let none = written(dir.path(), &[stance_event(7)], &Postings::default());
        assert!(none.topic_table().unwrap().is_empty());
    }

    /// `check8` is XXH3-64 with seed 0, little-endian, as events/INDEX.md specifies (the
    /// reference implementation's value for the empty input, from xxHash's sanity checks).
    #[test]
    fn the_part_check_is_xxh3_64() {
        assert_eq!(check8(b""), 0x2D06_8005_38D3_94C2_u64.to_le_bytes());
        assert_ne!(check8(b"a"), check8(b"b"));
    }

    /// A record the owned path refuses (an empty quote) is refused by the fold from bytes with
    /// the owned path's message, naming seq and field.
    #[test]
    fn a_record_refused_when_folded_from_its_bytes_is_refused_as_decoding_refuses_it() {
        let e = event(1, EventBody::StanceDeclared(stance("kim", None, "2024")));
        let mut r = Record::from_event(&e);
        r.quote = Some("  ".to_string());
        let body = body_of(&r);
        let err =
            fold_record(&mut History::new(), 1, &body, &mut LastParsed::default()).unwrap_err();
        assert_eq!(
            err,
            decode_body(1, &body, &mut LastParsed::default()).unwrap_err()
        );
        assert_eq!(err, "the record of seq 1: field `quote`: must not be empty");
    }
}
