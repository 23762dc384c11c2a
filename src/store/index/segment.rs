//! One immutable segment of the projection index: the events of a range of seqs in binary form
//! (`codec.rs`), their offsets, their ids, and posting lists by key. The
//! layout is specified in `events/INDEX.md`.
//!
//! A segment is written once, synced, and only then named by a manifest; it is never changed
//! afterwards (a compaction writes a new one). Readers map it into memory and touch only the
//! pages they need: the footer, the key directory, the posting lists of their keys, and the
//! records of the events they fold. Each of those parts carries a check (the first 8 bytes of
//! the SHA-256 of its bytes), so a damaged segment is found by the reader that touches the
//! damage; the manifest holds the SHA-256 of the whole file, which `verify` and
//! `stancelog index` check.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use memmap2::Mmap;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::super::codec::{Reader, event_of};
use super::super::encode::RecordEncoder;
use crate::core::{Event, Seq};

/// The first bytes of every segment file.
pub(crate) const MAGIC: &[u8; 24] = b"STANCELOG-INDEX-SEGMENT\n";
/// The segment format's version; a segment of another version is not read.
pub(crate) const VERSION: u32 = 1;
/// Magic, version, first seq, last seq.
const HEADER: usize = 24 + 4 + 8 + 8;
/// Five u64 fields, the directory's check and the footer's check.
const FOOTER: usize = 5 * 8 + 8 + 8;
/// A directory entry: key hash, offset of the posting list.
const DIR_ENTRY: usize = 16;
/// An id entry: the id's 16 bytes (big-endian, so entries sort as ids), its seq.
const ID_ENTRY: usize = 24;

/// Posting lists: key (see `keys.rs`) to the seqs filed under it, sorted, without repeats.
pub(crate) type Postings = HashMap<Vec<u8>, Vec<Seq>>;

/// The first 8 bytes of the SHA-256 of `bytes`.
pub(crate) fn check8(bytes: &[u8]) -> [u8; 8] {
    let sum = Sha256::digest(bytes);
    let mut out = [0; 8];
    out.copy_from_slice(&sum[..8]);
    out
}

/// A stable 64-bit hash of a key (FNV-1a), for the key directory.
fn key_hash(key: &[u8]) -> u64 {
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
    /// SHA-256 of the whole file.
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
/// posting lists to `path`, and syncs it. Returns its size and SHA-256.
pub(crate) fn write(
    path: &Path,
    first: Seq,
    last: Seq,
    events: impl Iterator<Item = Event>,
    postings: &Postings,
) -> io::Result<(u64, [u8; 32])> {
    let mut w = SegmentWriter::create(path, first, last)?;
    let mut buf = Vec::with_capacity(512);
    let mut records = RecordEncoder::default();
    for event in events {
        w.ids.push((event.id, event.seq));
        buf.clear();
        records.record(&mut buf, &event);
        w.record(&check8(&buf), &buf)?;
    }
    w.finish(postings)
}

/// Writes one segment holding the events of `parts` (segments of consecutive seq ranges, in
/// order) to `path`, and syncs it: their records copied as they are (each keeps its check),
/// their ids merged, their posting lists united. Returns its first and last seq, size and
/// SHA-256. Reads the parts through `pread` a MiB at a time, never through their maps, so
/// that a merge does not make the old segments resident; holds their ids and posting lists.
///
/// # Errors
/// An I/O error, or damage found in a part (an offset out of bounds, a posting list whose
/// check fails), as an error of kind `InvalidData`.
pub(crate) fn merge(path: &Path, parts: &[&Segment]) -> io::Result<(Seq, Seq, u64, [u8; 32])> {
    let damaged = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
    let (first, last) = match (parts.first(), parts.last()) {
        (Some(a), Some(b)) => (a.first, b.last),
        _ => return Err(io::Error::other("a merge of no segments")),
    };
    let mut w = SegmentWriter::create(path, first, last)?;
    let mut postings = Postings::default();
    let mut buf = vec![0; READ_MAX];
    for part in parts {
        // Each record's offset in the new file: its offset in the part, moved.
        let base = w.bytes;
        let count = (part.last - part.first + 1) as usize;
        for i in 0..=count {
            let old = usize_at(&part.map, part.offsets_at + i * 8).map_err(damaged)?;
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
        part.all_postings(&mut postings).map_err(damaged)?;
    }
    for list in postings.values_mut() {
        list.sort_unstable();
        list.dedup();
    }
    let (size, sum) = w.finish(&postings)?;
    Ok((first, last, size, sum))
}

/// A segment being written: the header first, then records in seq order, then (on
/// [`SegmentWriter::finish`]) the offsets, ids, posting lists, directory and footer.
struct SegmentWriter {
    out: Hashing<BufWriter<File>>,
    head: Vec<u8>,
    first: Seq,
    last: Seq,
    /// Offset of each record written so far.
    offsets: Vec<u64>,
    /// (id, seq) of each record written so far.
    ids: Vec<(Uuid, Seq)>,
    bytes: u64,
}

impl SegmentWriter {
    fn create(path: &Path, first: Seq, last: Seq) -> io::Result<SegmentWriter> {
        let file = File::create(path)?;
        let mut head = Vec::with_capacity(HEADER);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&VERSION.to_le_bytes());
        head.extend_from_slice(&first.to_le_bytes());
        head.extend_from_slice(&last.to_le_bytes());
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
            bytes: 0,
        };
        w.write_all(&head)?;
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

    /// Writes the tables after the records, syncs the file; returns its size and SHA-256.
    fn finish(mut self, postings: &Postings) -> io::Result<(u64, [u8; 32])> {
        let (first, last) = (self.first, self.last);
        if self.offsets.len() as u64 != last - first + 1 || self.ids.len() != self.offsets.len() {
            return Err(io::Error::other("a segment's events do not fill its range"));
        }
        let mut offsets = std::mem::take(&mut self.offsets);
        offsets.push(self.bytes);
        let offsets_at = self.bytes;
        let mut buf = Vec::with_capacity(offsets.len() * 8);
        for o in &offsets {
            buf.extend_from_slice(&o.to_le_bytes());
        }
        drop(offsets);
        self.write_all(&buf)?;
        let ids_at = self.bytes;
        let mut ids = std::mem::take(&mut self.ids);
        ids.sort_unstable();
        buf.clear();
        for (id, seq) in &ids {
            buf.extend_from_slice(id.as_bytes());
            buf.extend_from_slice(&seq.to_le_bytes());
        }
        drop(ids);
        self.write_all(&buf)?;
        let postings_at = self.bytes;
        let mut keys: Vec<(u64, &Vec<u8>)> = postings.keys().map(|k| (key_hash(k), k)).collect();
        keys.sort_unstable();
        let mut dir = Vec::with_capacity(keys.len() * DIR_ENTRY);
        for (hash, key) in &keys {
            dir.extend_from_slice(&hash.to_le_bytes());
            dir.extend_from_slice(&self.bytes.to_le_bytes());
            buf.clear();
            buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
            buf.extend_from_slice(key);
            let seqs = &postings[*key];
            buf.extend_from_slice(&(seqs.len() as u64).to_le_bytes());
            for s in seqs {
                buf.extend_from_slice(&s.to_le_bytes());
            }
            let check = check8(&buf);
            self.write_all(&buf)?;
            self.write_all(&check)?;
        }
        let dir_at = self.bytes;
        self.write_all(&dir)?;
        let mut foot = Vec::with_capacity(FOOTER);
        for v in [offsets_at, ids_at, postings_at, dir_at, keys.len() as u64] {
            foot.extend_from_slice(&v.to_le_bytes());
        }
        foot.extend_from_slice(&check8(&dir));
        let mut summed = std::mem::take(&mut self.head);
        summed.extend_from_slice(&foot);
        foot.extend_from_slice(&check8(&summed));
        self.write_all(&foot)?;
        let size = self.bytes;
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

/// The event of a record (its 8-byte check, then the record), the check verified.
fn decode(seq: Seq, bytes: &[u8]) -> Result<Event, String> {
    let (check, body) = bytes.split_at(8);
    if check8(body) != check {
        return Err(format!("the record of seq {seq} is damaged"));
    }
    let mut r = Reader::new(body);
    match r.record().and_then(event_of) {
        Ok(e) if e.seq == seq && r.at_end() => Ok(e),
        Ok(e) => Err(format!("the record of seq {seq} holds seq {}", e.seq)),
        Err(e) => Err(format!("the record of seq {seq}: {e}")),
    }
}

/// A segment mapped into memory, its header and footer checked.
pub(crate) struct Segment {
    file: File,
    map: Mmap,
    pub(crate) first: Seq,
    pub(crate) last: Seq,
    offsets_at: usize,
    ids_at: usize,
    dir_at: usize,
    keys: usize,
}

fn u64_at(bytes: &[u8], at: usize) -> Result<u64, String> {
    bytes
        .get(at..at + 8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        .ok_or_else(|| "it is truncated".to_string())
}

fn usize_at(bytes: &[u8], at: usize) -> Result<usize, String> {
    usize::try_from(u64_at(bytes, at)?).map_err(|e| e.to_string())
}

impl Segment {
    /// Maps the segment at `path` that `meta` describes; checks its size, header and footer
    /// and the key directory's check (not the whole file: see [`Segment::sum`]).
    pub(crate) fn open(path: &Path, meta: &SegmentMeta) -> Result<Segment, String> {
        let file = File::open(path).map_err(|e| format!("segment {}: {e}", meta.name))?;
        let size = file.metadata().map_err(|e| e.to_string())?.len();
        if size != meta.size {
            return Err(format!(
                "segment {} has {size} bytes, the manifest says {}",
                meta.name, meta.size
            ));
        }
        // SAFETY: segments are immutable once named by a manifest (new ones are written under
        // new names, old ones only unlinked), so the mapped bytes do not change while mapped.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| e.to_string())?;
        // Queries read scattered records: no read-ahead around each (it would map in, and
        // count as resident, most of the file for a one-actor query).
        let _ = map.advise(memmap2::Advice::Random);
        Segment::from_map(file, map, meta).map_err(|e| format!("segment {}: {e}", meta.name))
    }

    fn from_map(file: File, map: Mmap, meta: &SegmentMeta) -> Result<Segment, String> {
        let len = map.len();
        if len < HEADER + FOOTER {
            return Err("it is truncated".into());
        }
        let head = &map[..HEADER];
        let foot = &map[len - FOOTER..];
        if &head[..24] != MAGIC {
            return Err("it is not an index segment".into());
        }
        let version = u32::from_le_bytes(head[24..28].try_into().unwrap_or([0; 4]));
        if version != VERSION {
            return Err(format!("it is of format version {version}, not {VERSION}"));
        }
        let mut summed = head.to_vec();
        summed.extend_from_slice(&foot[..FOOTER - 8]);
        if check8(&summed) != foot[FOOTER - 8..] {
            return Err("its header or footer is damaged".into());
        }
        let (first, last) = (u64_at(head, 28)?, u64_at(head, 36)?);
        let fields = [0, 8, 16, 24, 32].map(|at| usize_at(foot, at));
        let dir_check: [u8; 8] = foot[40..48].try_into().unwrap_or([0; 8]);
        if (first, last) != (meta.first, meta.last) || first == 0 || last < first {
            return Err(format!(
                "it holds seqs {first} to {last}, not what the manifest says"
            ));
        }
        let seg = Segment {
            file,
            first,
            last,
            offsets_at: fields[0].clone()?,
            ids_at: fields[1].clone()?,
            dir_at: fields[3].clone()?,
            keys: fields[4].clone()?,
            map,
        };
        let count = (last - first + 1) as usize;
        let sane = seg.offsets_at >= HEADER
            && seg.ids_at == seg.offsets_at + (count + 1) * 8
            && fields[2].clone()? == seg.ids_at + count * ID_ENTRY
            && seg.dir_at >= seg.ids_at + count * ID_ENTRY
            && seg.dir_at + seg.keys * DIR_ENTRY == len - FOOTER;
        if !sane {
            return Err("its footer does not fit its size".into());
        }
        if check8(&seg.map[seg.dir_at..len - FOOTER]) != dir_check {
            return Err("its key directory is damaged".into());
        }
        Ok(seg)
    }

    /// The SHA-256 of the whole file (reads every byte, from the file).
    pub(crate) fn sum(&self) -> Result<[u8; 32], String> {
        let mut sum = Sha256::new();
        let mut buf = vec![0; 1 << 20];
        let mut at = 0;
        while at < self.map.len() {
            let n = buf.len().min(self.map.len() - at);
            self.file
                .read_exact_at(&mut buf[..n], at as u64)
                .map_err(|e| e.to_string())?;
            sum.update(&buf[..n]);
            at += n;
        }
        Ok(sum.finalize().into())
    }

    /// The bytes of the record of `seq` (which must be in this segment's range): its check
    /// and its body.
    fn span(&self, seq: Seq) -> Result<(usize, usize), String> {
        let at = self.offsets_at + (seq - self.first) as usize * 8;
        let (from, to) = (usize_at(&self.map, at)?, usize_at(&self.map, at + 8)?);
        if from < HEADER || to > self.offsets_at || to < from + 8 {
            return Err(format!("the record of seq {seq} is out of bounds"));
        }
        Ok((from, to))
    }

    /// The events of `seqs` (sorted, each in this segment's range), their checks verified.
    ///
    /// Records are read from the file, records near each other in one read, not through the
    /// map: the kernel maps pages around each one touched, and a query reading scattered
    /// records would have most of the file resident.
    pub(crate) fn events(&self, seqs: &[Seq]) -> Result<Vec<Event>, String> {
        let mut out = Vec::with_capacity(seqs.len());
        let mut buf = Vec::new();
        let mut i = 0;
        while i < seqs.len() {
            let (from, mut to) = self.span(seqs[i])?;
            let mut j = i;
            while let Some(next) = seqs.get(j + 1) {
                let (f, t) = self.span(*next)?;
                if f < to || f - to > NEAR || t - from > READ_MAX {
                    break;
                }
                (to, j) = (t, j + 1);
            }
            buf.resize(to - from, 0);
            self.file
                .read_exact_at(&mut buf, from as u64)
                .map_err(|e| format!("a record could not be read: {e}"))?;
            for seq in &seqs[i..=j] {
                let (f, t) = self.span(*seq)?;
                out.push(decode(*seq, &buf[f - from..t - from])?);
            }
            i = j + 1;
        }
        Ok(out)
    }

    /// Appends the seqs filed under `key` to `out`.
    pub(crate) fn postings(&self, key: &[u8], out: &mut Vec<Seq>) -> Result<(), String> {
        let hash = key_hash(key);
        let dir = &self.map[self.dir_at..self.dir_at + self.keys * DIR_ENTRY];
        let hash_of = |i: usize| u64_at(dir, i * DIR_ENTRY);
        // The first entry whose hash is not less than `hash`.
        let (mut lo, mut hi) = (0, self.keys);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if hash_of(mid)? < hash {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        while lo < self.keys && hash_of(lo)? == hash {
            let at = usize_at(dir, lo * DIR_ENTRY + 8)?;
            if self.posting_at(at, key, out)? {
                return Ok(());
            }
            lo += 1;
        }
        Ok(())
    }

    /// Reads the posting list at `at` into `out` if it is `key`'s; `Ok(false)` if it is another
    /// key's (a hash collision).
    fn posting_at(&self, at: usize, key: &[u8], out: &mut Vec<Seq>) -> Result<bool, String> {
        let bad = || "a posting list is damaged".to_string();
        let m = &self.map[..self.dir_at];
        let klen = m
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])) as usize)
            .ok_or_else(bad)?;
        let stored = m.get(at + 4..at + 4 + klen).ok_or_else(bad)?;
        let n = usize_at(m, at + 4 + klen)?;
        let end = at + 12 + klen + n.checked_mul(8).ok_or_else(bad)?;
        let list = m.get(at..end).ok_or_else(bad)?;
        if m.get(end..end + 8) != Some(&check8(list)[..]) {
            return Err(bad());
        }
        if stored != key {
            return Ok(false);
        }
        out.extend(
            list[12 + klen..]
                .chunks_exact(8)
                .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]))),
        );
        Ok(true)
    }

    /// Every (id, seq) of this segment.
    fn ids(&self) -> Result<Vec<(Uuid, Seq)>, String> {
        let count = (self.last - self.first + 1) as usize;
        let ids = &self.map[self.ids_at..self.ids_at + count * ID_ENTRY];
        ids.chunks_exact(ID_ENTRY)
            .map(|e| {
                let id = Uuid::from_slice(&e[..16]).map_err(|e| e.to_string())?;
                Ok((id, u64_at(e, 16)?))
            })
            .collect()
    }

    /// Adds every posting list of this segment to `out` (unsorted across segments).
    fn all_postings(&self, out: &mut Postings) -> Result<(), String> {
        let dir = &self.map[self.dir_at..self.dir_at + self.keys * DIR_ENTRY];
        let bad = || "a posting list is damaged".to_string();
        for i in 0..self.keys {
            let at = usize_at(dir, i * DIR_ENTRY + 8)?;
            let m = &self.map[..self.dir_at];
            let klen = m
                .get(at..at + 4)
                .map(|b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])) as usize)
                .ok_or_else(bad)?;
            let key = m.get(at + 4..at + 4 + klen).ok_or_else(bad)?.to_vec();
            let list = out.entry(key.clone()).or_default();
            if !self.posting_at(at, &key, list)? {
                return Err(bad());
            }
        }
        Ok(())
    }

    /// The seq of the event with this id, if it is in this segment.
    pub(crate) fn seq_of(&self, id: &Uuid) -> Result<Option<Seq>, String> {
        let count = (self.last - self.first + 1) as usize;
        let ids = &self.map[self.ids_at..self.ids_at + count * ID_ENTRY];
        let (mut lo, mut hi) = (0, count);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match ids[mid * ID_ENTRY..mid * ID_ENTRY + 16].cmp(id.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return u64_at(ids, mid * ID_ENTRY + 16).map(Some),
            }
        }
        Ok(None)
    }
}
