//! Projection snapshots: derived, rebuildable files beside the log that let a query start from
//! a folded state instead of replaying every line.
//!
//! A snapshot holds the log's events up to a seq in a compact binary form (no JSON to parse, no
//! hashes to recompute), tied to that seq, the log's hash at that seq and the byte offset where
//! the next record starts. It is trusted only if the log still has, at that offset, a record of
//! that seq with that stored hash, and its own SHA-256 checksum holds; otherwise it is discarded
//! (and rebuilt by the caller), never trusted. Changes elsewhere in the log's prefix are found
//! by `verify`, which always replays the whole log.
//!
//! Layout: `MAGIC`, version (u32), seq (u64), head hash (32 bytes), log bytes (u64), last
//! recorded time (flag u8 + i64 microseconds), schema-1 record count (u64), event count (u64),
//! the events in blocks (each: event count u32, byte length u64 of at most `BLOCK_BYTES_MAX`,
//! the events), then the SHA-256 of everything before it. Integers are little-endian; a string
//! is a u32 byte length and UTF-8 bytes; an optional value is a flag byte then the value.
//!
//! Neither writing nor reading holds the file whole: blocks of about `BLOCK_BYTES` are written
//! through a buffer and hashed as they go; reading decodes blocks as they are read (on worker
//! threads, in a bounded pipeline), hashing them too, and trusts what it built only once the
//! checksum at the end holds.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::batch::parse_record;
use super::chain::Hash;
use super::log::{CHUNK_BYTES, LINE_BYTES_MAX, Log, missing_or_io, stored_hash};
use super::pipeline;
use super::record::{CiteRecord, Record, parse_recorded_at, parse_uuid};
use super::writer::sync_dir;
use crate::core::{Event, History, Seq};
use crate::error::{Error, Result};

const MAGIC: &[u8] = b"STANCELOG-SNAPSHOT\n";
/// Version 3 bounds a block's length (version 2 had blocks of 32,768 events, whatever their
/// size).
const VERSION: u32 = 3;

/// A block is closed once it holds this many bytes: blocks are decoded in parallel, a few at a
/// time.
const BLOCK_BYTES: usize = 1 << 20;

/// The longest block a reader accepts: `BLOCK_BYTES` plus one event, whose record here is no
/// longer than its stored line (at most `LINE_BYTES_MAX`), with room to spare.
const BLOCK_BYTES_MAX: u64 = 4 << 20;

/// Bytes of the checksum at the end.
const SUM_BYTES: u64 = 32;

/// Where the snapshot of the log at `log` lives: beside it, with `.snapshot` appended.
pub fn snapshot_path(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".snapshot");
    PathBuf::from(name)
}

/// How a read used the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotUse {
    /// There was none.
    Absent,
    /// It was valid and used: the fold started after this seq.
    Used {
        /// The snapshot's seq.
        seq: Seq,
    },
    /// It did not match the log (or was damaged) and was not used.
    Discarded {
        /// Why, in words.
        reason: String,
    },
}

/// Writes a snapshot of `log` (the log at `log_path` as read) beside it, atomically: a temporary
/// file is written (through a buffer, block by block) and synced, then renamed over the old
/// snapshot, and the directory synced. Returns the snapshot's path and size in bytes.
///
/// # Errors
/// [`Error::Usage`] when the log's last line has no newline (a snapshot ends at a newline; the
/// next append writes it); [`Error::Io`] when the file cannot be written (the temporary file is
/// then removed).
pub fn write_snapshot(log_path: &Path, log: &Log) -> Result<(PathBuf, u64)> {
    if log.final_newline_missing {
        // A snapshot ends where a line's newline does; the next append writes the missing one.
        return Err(Error::Usage(format!(
            "{}: its last line has no newline, so no snapshot can end there; the next append adds the newline",
            log_path.display()
        )));
    }
    let path = snapshot_path(log_path);
    // A name of this process's own, so that queries rebuilding at once do not collide.
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |e| Error::io(&p, e)
    };
    let written = File::create(&tmp).and_then(|f| {
        let mut w = BufWriter::with_capacity(BLOCK_BYTES, f);
        let size = encode(log, &mut w, BLOCK_BYTES)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(size)
    });
    let size = match written {
        Ok(size) => size,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(io(&tmp)(e));
        }
    };
    fs::rename(&tmp, &path).map_err(io(&path))?;
    sync_dir(&path)?;
    Ok((path, size))
}

/// Reads and folds the log at `log_path`, starting from its snapshot when there is a valid one;
/// then only the part of the file after the snapshot (and the line before it) is read.
///
/// Neither file is held whole: the snapshot is decoded as it is read (see the module docs),
/// the log's tail read in chunks ([`Log::open`]). A snapshot whose checksum fails is found
/// only at its end: what was built from it is dropped before the log is replayed.
///
/// # Errors
/// [`Error::Usage`] when there is no log; [`Error::Io`] when it cannot be read; those of
/// [`Log::from_bytes`] for its records.
pub fn open_log(log_path: &Path) -> Result<(Log, SnapshotUse)> {
    let name = log_path.display().to_string();
    let read_all =
        |used: SnapshotUse| -> Result<(Log, SnapshotUse)> { Ok((Log::open(log_path)?, used)) };
    let Ok(snap) = File::open(snapshot_path(log_path)) else {
        return read_all(SnapshotUse::Absent);
    };
    let start = match read(snap) {
        Ok(s) => s,
        Err(reason) => return read_all(SnapshotUse::Discarded { reason }),
    };
    // Read the line the snapshot ends with (it ends at most LINE_BYTES_MAX + 1 bytes before).
    let base = start.valid_len.saturating_sub(LINE_BYTES_MAX as u64 + 2);
    let mut file = File::open(log_path).map_err(|e| missing_or_io(log_path, e))?;
    let mut last = Vec::new();
    file.seek(SeekFrom::Start(base))
        .and_then(|_| {
            (&mut file)
                .take(start.valid_len - base)
                .read_to_end(&mut last)
        })
        .map_err(|e| Error::io(&name, e))?;
    match matches_at(&start, &last, base) {
        Ok(()) => {
            drop(last);
            let seq = start.history.seq_last();
            // The file is at the snapshot's end.
            let log = Log::resume(&name, file, Some(start), CHUNK_BYTES)?;
            Ok((log, SnapshotUse::Used { seq }))
        }
        Err(reason) => {
            drop(start);
            read_all(SnapshotUse::Discarded { reason })
        }
    }
}

/// Whether the log still ends, at the snapshot's offset, with the snapshot's seq and hash;
/// `bytes` is the file from offset `base` on.
fn matches_at(start: &Log, bytes: &[u8], base: u64) -> Result<(), String> {
    let end = usize::try_from(start.valid_len - base).map_err(|e| e.to_string())?;
    let seq = start.history.seq_last();
    if end == 0 {
        return if seq == 0 {
            Ok(())
        } else {
            Err("it covers no bytes".into())
        };
    }
    if bytes.len() < end || bytes[end - 1] != b'\n' {
        return Err(format!(
            "the log is shorter than the {end} bytes it covers, or was changed"
        ));
    }
    let line_start = memchr::memrchr(b'\n', &bytes[..end - 1]).map_or(0, |i| i + 1);
    let line = &bytes[line_start..end - 1];
    let stored = stored_hash(line).ok_or("the log has no hash where the snapshot ends")?;
    let record_seq = parse_record(line).ok().and_then(|r| r.seq);
    if record_seq != Some(seq) || stored != start.head {
        return Err(format!(
            "the log's record at its offset is not seq {seq} with hash {}: the log was restored, edited or replaced",
            start.head.to_hex()
        ));
    }
    Ok(())
}

/// Writes the snapshot of `log` to `out`, in blocks closed once they hold `block_bytes`;
/// returns the bytes written.
fn encode(log: &Log, out: impl Write, block_bytes: usize) -> io::Result<u64> {
    let mut w = Hashing {
        inner: out,
        sum: Sha256::new(),
        bytes: 0,
    };
    let history = &log.history;
    let mut head = Vec::with_capacity(128);
    head.extend_from_slice(MAGIC);
    put_u32(&mut head, VERSION);
    put_u64(&mut head, history.seq_last());
    head.extend_from_slice(&log.head.0);
    put_u64(&mut head, log.valid_len);
    match log.recorded_at_last {
        Some(t) => {
            head.push(1);
            head.extend_from_slice(&t.timestamp_micros().to_le_bytes());
        }
        None => head.push(0),
    }
    put_u64(&mut head, log.schema1_records);
    put_u64(&mut head, history.seq_last());
    w.write_all(&head)?;
    let mut block = Vec::with_capacity(block_bytes.min(BLOCK_BYTES) + 4096);
    let mut events = 0u32;
    let put_block = |w: &mut Hashing<_>, block: &mut Vec<u8>, events: &mut u32| {
        let mut header = Vec::with_capacity(12);
        put_u32(&mut header, *events);
        put_u64(&mut header, block.len() as u64);
        w.write_all(&header)?;
        w.write_all(block)?;
        block.clear();
        *events = 0;
        io::Result::Ok(())
    };
    for seq in 1..=history.seq_last() {
        let e = history
            .event(seq)
            .ok_or_else(|| io::Error::other(format!("the history has no event of seq {seq}")))?;
        put_record(&mut block, &Record::from_event(&e));
        events += 1;
        if block.len() >= block_bytes {
            put_block(&mut w, &mut block, &mut events)?;
        }
    }
    if events > 0 {
        put_block(&mut w, &mut block, &mut events)?;
    }
    let sum: [u8; 32] = w.sum.finalize().into();
    w.inner.write_all(&sum)?;
    Ok(w.bytes + SUM_BYTES)
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

/// A reader that hashes what it reads, up to `left` bytes (the checksum is not read through
/// it).
struct Summing<R> {
    inner: R,
    sum: Sha256,
    left: u64,
}

impl<R: Read> Read for Summing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let max = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..max])?;
        self.sum.update(&buf[..n]);
        self.left -= n as u64;
        Ok(n)
    }
}

impl<R: Read> Summing<R> {
    fn read_vec(&mut self, n: usize) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let got = self
            .by_ref()
            .take(n as u64)
            .read_to_end(&mut out)
            .map_err(|e| format!("it could not be read: {e}"))?;
        if got < n {
            return Err("it is truncated".into());
        }
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        self.read_exact(&mut out).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => "it is truncated".to_string(),
            _ => format!("it could not be read: {e}"),
        })?;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads the rest of the summed bytes and the checksum after them: `Ok` when it holds and
    /// nothing was left (`left` bytes were not read yet); else the checksum's failure first,
    /// then `verdict`'s.
    fn finish(mut self, verdict: Result<(), String>) -> Result<(), String> {
        let left = io::copy(&mut self, &mut io::sink())
            .map_err(|e| format!("it could not be read: {e}"))?;
        let mut stored = [0u8; SUM_BYTES as usize];
        self.inner
            .read_exact(&mut stored)
            .map_err(|_| "it is truncated".to_string())?;
        let sum: [u8; 32] = self.sum.finalize().into();
        if sum != stored {
            return Err("its checksum does not match its contents".into());
        }
        verdict?;
        if left > 0 {
            return Err("it has bytes after its events".into());
        }
        Ok(())
    }
}

/// What travels through the decoding pipeline.
enum Block {
    /// A block as read: its first event is `first + 1`, it holds `events` events.
    Raw {
        first: u64,
        events: u64,
        bytes: Vec<u8>,
    },
    /// Its events, or why they do not decode.
    Decoded(Result<Vec<Event>, String>),
    /// The end of the file: `Ok` when its structure and checksum hold.
    End(Result<(), String>),
}

/// Reads the blocks of a snapshot whose header was read, then checks its checksum.
struct Blocks<R> {
    r: Option<Summing<R>>,
    count: u64,
    seen: u64,
}

impl<R: Read> Blocks<R> {
    fn block(&mut self, r: &mut Summing<R>) -> Result<Block, String> {
        let events = u64::from(r.u32()?);
        let len = r.u64()?;
        if len > BLOCK_BYTES_MAX {
            return Err(format!(
                "a block is longer than BLOCK_BYTES_MAX ({BLOCK_BYTES_MAX} bytes)"
            ));
        }
        let bytes = r.read_vec(len as usize)?;
        let first = self.seen;
        self.seen += events;
        Ok(Block::Raw {
            first,
            events,
            bytes,
        })
    }
}

impl<R: Read> Iterator for Blocks<R> {
    type Item = Block;

    fn next(&mut self) -> Option<Block> {
        let mut r = self.r.take()?;
        let verdict = if self.seen < self.count {
            match self.block(&mut r) {
                Ok(block) => {
                    self.r = Some(r);
                    return Some(block);
                }
                Err(e) => Err(e),
            }
        } else if self.seen != self.count {
            Err("its blocks do not hold its event count".to_string())
        } else {
            Ok(())
        };
        Some(Block::End(r.finish(verdict)))
    }
}

/// Decodes a raw block; passes any other on.
fn decode_block(block: Block) -> Block {
    let Block::Raw {
        first,
        events,
        bytes,
    } = block
    else {
        return block;
    };
    let mut r = Reader {
        bytes: &bytes,
        at: 0,
    };
    // A record takes at least 32 bytes: a damaged count allocates no more than the block.
    let mut out = Vec::with_capacity((events as usize).min(bytes.len() / 32));
    let decoded = (|| {
        for k in 0..events {
            let expected = first + k + 1;
            let event = event_of(r.record()?).map_err(|e| format!("event {expected}: {e}"))?;
            if event.seq != expected {
                return Err(format!("event {expected} has seq {}", event.seq));
            }
            out.push(event);
        }
        if r.at != r.bytes.len() {
            return Err("a block has bytes after its events".into());
        }
        Ok(())
    })();
    Block::Decoded(decoded.map(|()| out))
}

/// Reads a snapshot file and folds its events; `Err` says why it cannot be used.
fn read(file: File) -> Result<Log, String> {
    let size = file
        .metadata()
        .map_err(|e| format!("it could not be read: {e}"))?
        .len();
    let left = size.checked_sub(SUM_BYTES).ok_or("it is truncated")?;
    decode(
        BufReader::with_capacity(1 << 16, file),
        left,
        BLOCK_BYTES as u64,
    )
}

/// Decodes a snapshot from `input`, whose first `len` bytes are summed by the checksum that
/// follows them; on worker threads if `len` is over `parallel_over`.
fn decode<R: Read + Send>(input: R, len: u64, parallel_over: u64) -> Result<Log, String> {
    let mut r = Summing {
        inner: input,
        sum: Sha256::new(),
        left: len,
    };
    let header = (|| {
        if r.read_vec(MAGIC.len())? != MAGIC {
            return Err("it is not a stancelog snapshot".to_string());
        }
        let version = r.u32()?;
        if version != VERSION {
            return Err(format!(
                "it is of version {version}; this build reads {VERSION}"
            ));
        }
        let seq = r.u64()?;
        let head = r.array::<32>()?;
        let valid_len = r.u64()?;
        let recorded_at_last = match r.u8()? {
            0 => None,
            _ => Some(
                DateTime::<Utc>::from_timestamp_micros(i64::from_le_bytes(r.array()?))
                    .ok_or("bad time")?,
            ),
        };
        let schema1_records = r.u64()?;
        let count = r.u64()?;
        if count != seq {
            return Err("its event count does not match its seq".into());
        }
        Ok((
            count,
            Log {
                history: History::new(),
                torn_tail_bytes: 0,
                torn_tail_records: 0,
                recorded_at_last,
                head: Hash(head),
                valid_len,
                schema1_records,
                final_newline_missing: false,
            },
        ))
    })();
    let (count, log) = match header {
        Ok(header) => header,
        // A damaged header is reported as a checksum failure when it is one.
        Err(e) => return Err(r.finish(Err(e)).err().unwrap_or_default()),
    };
    let blocks = Blocks {
        r: Some(r),
        count,
        seen: 0,
    };
    if len <= parallel_over {
        // A block or so: no threads.
        fold_blocks(log, blocks.map(decode_block))
    } else {
        pipeline::ordered(blocks, decode_block, |decoded| fold_blocks(log, decoded))
    }
}

/// Folds decoded blocks, in order, into `log`; `Ok` only if they all fold and the snapshot's
/// end (its checksum) holds.
fn fold_blocks(mut log: Log, decoded: impl Iterator<Item = Block>) -> Result<Log, String> {
    // The first reason not to use the snapshot, short of its checksum's (known at the end).
    let mut failed: Option<String> = None;
    for block in decoded {
        match block {
            Block::Decoded(Ok(events)) if failed.is_none() => {
                for event in events {
                    if let Err(e) = log.history.check(&event.id, &event.body) {
                        failed = Some(format!("event {}: {e}", event.seq));
                        break;
                    }
                    log.history.apply(event);
                }
            }
            Block::Decoded(Err(e)) if failed.is_none() => failed = Some(e),
            Block::Decoded(_) | Block::Raw { .. } => {}
            Block::End(verdict) => {
                verdict?;
                return match failed {
                    Some(e) => Err(e),
                    None => Ok(log),
                };
            }
        }
        if failed.is_some() && log.history.seq_last() > 0 {
            // Nothing built is kept: free it while the rest is read and summed.
            log.history = History::new();
        }
    }
    Err("a block could not be decoded".into())
}

fn event_of(r: Record) -> Result<Event, String> {
    let seq = r.seq.ok_or("no seq")?;
    let id = parse_uuid(r.id.as_deref().ok_or("no id")?, "id").map_err(|e| e.message)?;
    let recorded_at = parse_recorded_at(r.recorded_at.as_deref().ok_or("no recorded_at")?)
        .map_err(|e| e.message)?;
    let body = r
        .to_body()
        .map_err(|e| format!("field `{}`: {}", e.field, e.message))?;
    Ok(Event {
        seq,
        id,
        recorded_at,
        body,
    })
}

fn put_u32(w: &mut Vec<u8>, v: u32) {
    w.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(w: &mut Vec<u8>, v: u64) {
    w.extend_from_slice(&v.to_le_bytes());
}

fn put_str(w: &mut Vec<u8>, s: &str) {
    put_u32(w, u32::try_from(s.len()).unwrap_or(u32::MAX));
    w.extend_from_slice(s.as_bytes());
}

fn put_opt_str(w: &mut Vec<u8>, s: &Option<String>) {
    match s {
        Some(s) => {
            w.push(1);
            put_str(w, s);
        }
        None => w.push(0),
    }
}

fn put_opt_strs(w: &mut Vec<u8>, v: &Option<Vec<String>>) {
    match v {
        Some(v) => {
            w.push(1);
            put_u32(w, v.len() as u32);
            for s in v {
                put_str(w, s);
            }
        }
        None => w.push(0),
    }
}

fn put_opt_u64(w: &mut Vec<u8>, v: Option<u64>) {
    match v {
        Some(v) => {
            w.push(1);
            put_u64(w, v);
        }
        None => w.push(0),
    }
}

/// Every field of a record, in declaration order (hash and batch_last are not kept: the
/// snapshot is checked against the log's hash at its end instead).
fn put_record(w: &mut Vec<u8>, r: &Record) {
    put_opt_str(w, &r.actor);
    put_opt_str(w, &r.alias);
    put_opt_strs(w, &r.aliases);
    match &r.cite {
        Some(c) => {
            w.push(1);
            put_str(w, &c.publication);
            put_opt_str(w, &c.published);
            put_opt_str(w, &c.title);
            put_opt_str(w, &c.url);
            put_opt_str(w, &c.via);
        }
        None => w.push(0),
    }
    put_opt_str(w, &r.country);
    put_opt_str(w, &r.date);
    put_opt_str(w, &r.event);
    put_opt_str(w, &r.from);
    put_opt_str(w, &r.id);
    put_opt_u64(w, r.important.map(u64::from));
    put_opt_str(w, &r.instrument);
    put_opt_strs(w, &r.issues);
    put_opt_str(w, &r.kind);
    put_opt_str(w, &r.name);
    put_opt_str(w, &r.organisation);
    put_opt_str(w, &r.quote);
    put_opt_str(w, &r.reason);
    put_opt_str(w, &r.recipient);
    put_opt_str(w, &r.recorded_at);
    put_opt_str(w, &r.resolution);
    put_opt_u64(w, r.schema.map(u64::from));
    put_opt_str(w, &r.sector);
    put_opt_u64(w, r.seq);
    put_opt_u64(w, r.session.map(u64::from));
    put_opt_str(w, &r.stance);
    put_opt_str(w, &r.target);
    put_opt_str(w, &r.title);
    put_opt_str(w, &r.to);
    put_opt_str(w, &r.topic);
    put_str(w, &r.type_name);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or("it is truncated")?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().map_err(|_| "truncated")?,
        ))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().map_err(|_| "truncated")?,
        ))
    }

    fn str(&mut self) -> Result<String, String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| "a string is not UTF-8".to_string())
    }

    fn opt_str(&mut self) -> Result<Option<String>, String> {
        match self.u8()? {
            0 => Ok(None),
            _ => self.str().map(Some),
        }
    }

    fn opt_strs(&mut self) -> Result<Option<Vec<String>>, String> {
        match self.u8()? {
            0 => Ok(None),
            _ => {
                let n = self.u32()?;
                (0..n)
                    .map(|_| self.str())
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            }
        }
    }

    fn opt_u64(&mut self) -> Result<Option<u64>, String> {
        match self.u8()? {
            0 => Ok(None),
            _ => self.u64().map(Some),
        }
    }

    fn record(&mut self) -> Result<Record, String> {
        let small = |v: Option<u64>| {
            v.map(|x| u32::try_from(x).map_err(|_| "number out of range"))
                .transpose()
        };
        Ok(Record {
            actor: self.opt_str()?,
            alias: self.opt_str()?,
            aliases: self.opt_strs()?,
            cite: match self.u8()? {
                0 => None,
                _ => Some(CiteRecord {
                    publication: self.str()?,
                    published: self.opt_str()?,
                    title: self.opt_str()?,
                    url: self.opt_str()?,
                    via: self.opt_str()?,
                }),
            },
            country: self.opt_str()?,
            date: self.opt_str()?,
            event: self.opt_str()?,
            from: self.opt_str()?,
            id: self.opt_str()?,
            important: self.opt_u64()?.map(|v| v != 0),
            instrument: self.opt_str()?,
            issues: self.opt_strs()?,
            kind: self.opt_str()?,
            name: self.opt_str()?,
            organisation: self.opt_str()?,
            quote: self.opt_str()?,
            reason: self.opt_str()?,
            recipient: self.opt_str()?,
            recorded_at: self.opt_str()?,
            resolution: self.opt_str()?,
            schema: small(self.opt_u64()?)?,
            sector: self.opt_str()?,
            seq: self.opt_u64()?,
            session: small(self.opt_u64()?)?,
            stance: self.opt_str()?,
            target: self.opt_str()?,
            title: self.opt_str()?,
            to: self.opt_str()?,
            topic: self.opt_str()?,
            type_name: self.str()?,
            batch_last: None,
            hash: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &[u8] = include_bytes!("../../events/dprk-russia-2024.jsonl");

    /// The snapshot of `log` in blocks of about `block_bytes`.
    fn encoded(log: &Log, block_bytes: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let size = encode(log, &mut out, block_bytes).unwrap();
        assert_eq!(size, out.len() as u64);
        out
    }

    /// Decodes a snapshot held in memory, as [`read`] does a file.
    fn decoded(bytes: &[u8]) -> std::result::Result<Log, String> {
        decoded_in(bytes, false)
    }

    /// [`decoded`], on worker threads if `parallel`.
    fn decoded_in(bytes: &[u8], parallel: bool) -> std::result::Result<Log, String> {
        let len = (bytes.len() as u64)
            .checked_sub(SUM_BYTES)
            .ok_or("it is truncated")?;
        decode(bytes, len, if parallel { 0 } else { u64::MAX })
    }

    /// The byte offset where line `lines` ends (0 for none).
    fn end_of_line(bytes: &[u8], lines: usize) -> usize {
        memchr::memchr_iter(b'\n', bytes)
            .nth(lines.wrapping_sub(1))
            .map_or(0, |i| i + 1)
    }

    /// Folds `bytes` from a snapshot of its first `lines` lines, in blocks of `block_bytes`,
    /// decoded on worker threads if `parallel`.
    fn via_snapshot(
        bytes: &[u8],
        lines: usize,
        block_bytes: usize,
        parallel: bool,
    ) -> std::result::Result<Log, String> {
        let end = end_of_line(bytes, lines);
        let prefix = Log::from_bytes("log", &bytes[..end]).map_err(|e| e.to_string())?;
        let start = decoded_in(&encoded(&prefix, block_bytes), parallel)?;
        matches_at(&start, bytes, 0)?;
        Log::resume("log", &bytes[end..], Some(start), CHUNK_BYTES).map_err(|e| e.to_string())
    }

    fn same_log(a: &Log, b: &Log) {
        assert!(a.history.events().eq(b.history.events()));
        assert_eq!(a.head, b.head);
        assert_eq!(a.valid_len, b.valid_len);
        assert_eq!(a.recorded_at_last, b.recorded_at_last);
        assert_eq!(a.schema1_records, b.schema1_records);
        assert_eq!(
            (a.torn_tail_bytes, a.torn_tail_records),
            (b.torn_tail_bytes, b.torn_tail_records)
        );
    }

    #[test]
    fn snapshot_plus_the_rest_equals_a_full_replay_at_every_batch_boundary() {
        let full = Log::from_bytes("log", SEED).unwrap();
        // The seed log has two batches: lines 1-35 and 36-40. Blocks of one event, of a few,
        // and one block for all.
        for lines in [0, 35, 40] {
            for block_bytes in [1, 700, BLOCK_BYTES] {
                for parallel in [false, true] {
                    let resumed = via_snapshot(SEED, lines, block_bytes, parallel).unwrap();
                    same_log(&resumed, &full);
                }
            }
        }
    }

    #[test]
    fn blocks_close_at_their_byte_size() {
        let full = Log::from_bytes("log", SEED).unwrap();
        let one_per_event = encoded(&full, 1);
        let whole = encoded(&full, BLOCK_BYTES);
        // 40 blocks of one event each against one block: 39 more block headers of 12 bytes.
        assert_eq!(one_per_event.len(), whole.len() + 39 * 12);
        same_log(&decoded(&one_per_event).unwrap(), &full);
    }

    #[test]
    fn a_snapshot_that_does_not_match_the_log_is_refused() {
        let prefix = Log::from_bytes("log", &SEED[..SEED.len() / 2]).unwrap();
        // Half the log is the first batch torn: the prefix folds to nothing complete.
        assert_eq!(prefix.history.seq_last(), 0);
        let full = Log::from_bytes("log", SEED).unwrap();
        let snap = encoded(&full, BLOCK_BYTES);
        // The log restored from an older backup (shorter than the snapshot covers).
        let start = decoded(&snap).unwrap();
        assert!(matches_at(&start, &SEED[..SEED.len() - 10], 0).is_err());
        // An edited last record.
        let mut edited = SEED.to_vec();
        let n = edited.len();
        edited[n - 20] ^= 1;
        assert!(matches_at(&start, &edited, 0).is_err());
    }

    /// Any one byte changed, anywhere (header, block header, event, checksum), is found, and
    /// reported as the checksum's failure even where the bytes no longer decode.
    #[test]
    fn every_damaged_byte_fails_the_checksum() {
        let full = Log::from_bytes("log", SEED).unwrap();
        let snap = encoded(&full, 700);
        // Every byte of the header and the first block's header, then every 7th.
        let some = (0..120).chain((120..snap.len()).step_by(7));
        for at in some.chain([snap.len() - 1]) {
            let mut bad = snap.clone();
            bad[at] ^= 0x20;
            assert_eq!(
                decoded(&bad).err().as_deref(),
                Some("its checksum does not match its contents"),
                "byte {at}"
            );
            if at % 61 == 0 {
                assert_eq!(
                    decoded_in(&bad, true).err().as_deref(),
                    Some("its checksum does not match its contents"),
                    "byte {at}, in parallel"
                );
            }
        }
        // Cut short anywhere: truncated or failing its checksum, never used.
        for len in (0..snap.len()).step_by(5) {
            let reason = decoded(&snap[..len]).err().unwrap();
            assert!(
                reason == "it is truncated" || reason == "its checksum does not match its contents",
                "{len}: {reason}"
            );
        }
        // Bytes added after the checksum move it: the checksum fails.
        let mut longer = snap.clone();
        longer.extend_from_slice(b"x");
        assert_eq!(
            decoded(&longer).err().as_deref(),
            Some("its checksum does not match its contents")
        );
    }

    /// Writes the seed log and a snapshot of it in blocks of `block_bytes` into `dir`.
    fn log_with_snapshot(dir: &Path, block_bytes: usize) -> (PathBuf, Vec<u8>) {
        let path = dir.join("log.jsonl");
        fs::write(&path, SEED).unwrap();
        let snap = encoded(&Log::open(&path).unwrap(), block_bytes);
        fs::write(snapshot_path(&path), &snap).unwrap();
        (path, snap)
    }

    #[test]
    fn a_snapshot_damaged_in_the_middle_is_discarded_for_a_full_replay() {
        let dir = tempfile::tempdir().unwrap();
        let (path, snap) = log_with_snapshot(dir.path(), 700);
        let full = Log::open(&path).unwrap();
        let (log, used) = open_log(&path).unwrap();
        assert_eq!(used, SnapshotUse::Used { seq: 40 });
        same_log(&log, &full);
        let mut bad = snap.clone();
        bad[snap.len() / 2] ^= 0x01;
        fs::write(snapshot_path(&path), &bad).unwrap();
        let (log, used) = open_log(&path).unwrap();
        assert_eq!(
            used,
            SnapshotUse::Discarded {
                reason: "its checksum does not match its contents".into()
            }
        );
        same_log(&log, &full);
    }

    #[test]
    fn a_truncated_snapshot_is_discarded_for_a_full_replay() {
        let dir = tempfile::tempdir().unwrap();
        let (path, snap) = log_with_snapshot(dir.path(), 700);
        let full = Log::open(&path).unwrap();
        for (len, reason) in [
            (0, "it is truncated"),
            (31, "it is truncated"),
            (60, "its checksum does not match its contents"),
            (snap.len() / 2, "its checksum does not match its contents"),
            (snap.len() - 1, "its checksum does not match its contents"),
        ] {
            fs::write(snapshot_path(&path), &snap[..len]).unwrap();
            let (log, used) = open_log(&path).unwrap();
            assert_eq!(
                used,
                SnapshotUse::Discarded {
                    reason: reason.into()
                },
                "{len}"
            );
            same_log(&log, &full);
        }
    }

    #[test]
    fn a_snapshot_of_another_version_or_with_an_overlong_block_is_refused() {
        let full = Log::from_bytes("log", SEED).unwrap();
        let snap = encoded(&full, BLOCK_BYTES);
        // Rewrites a header field and the checksum, as a writer of that snapshot would have.
        let resum = |mut bytes: Vec<u8>| {
            let n = bytes.len() - 32;
            let sum: [u8; 32] = Sha256::digest(&bytes[..n]).into();
            bytes[n..].copy_from_slice(&sum);
            bytes
        };
        let mut v2 = snap.clone();
        v2[MAGIC.len()..MAGIC.len() + 4].copy_from_slice(&2u32.to_le_bytes());
        assert_eq!(
            decoded(&resum(v2)).err().as_deref(),
            Some("it is of version 2; this build reads 3")
        );
        // The first block's length, after the 96 bytes of the header and its event count.
        let mut long = snap.clone();
        long[100..108].copy_from_slice(&(BLOCK_BYTES_MAX + 1).to_le_bytes());
        assert_eq!(
            decoded(&resum(long)).err().unwrap(),
            format!("a block is longer than BLOCK_BYTES_MAX ({BLOCK_BYTES_MAX} bytes)")
        );
    }
}
