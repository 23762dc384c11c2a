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
//! the events in blocks of up to `BLOCK_EVENTS` (each: event count u32, byte length u64, the
//! events), then the SHA-256 of everything before it. Blocks are decoded in parallel. Integers are little-endian; a string
//! is a u32 byte length and UTF-8 bytes; an optional value is a flag byte then the value.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::batch::parse_record;
use super::chain::Hash;
use super::log::{CHUNK_BYTES, LINE_BYTES_MAX, Log, missing_or_io, stored_hash};
use super::record::{CiteRecord, Record, parse_recorded_at, parse_uuid};
use super::writer::sync_dir;
use crate::core::{Event, History, Seq};
use crate::error::{Error, Result};

const MAGIC: &[u8] = b"STANCELOG-SNAPSHOT\n";
const VERSION: u32 = 2;

/// Events per block: blocks are decoded in parallel.
const BLOCK_EVENTS: usize = 32_768;

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
/// file is written and synced, then renamed over the old snapshot, and the directory synced.
/// Returns the snapshot's path and size in bytes.
///
/// # Errors
/// [`Error::Io`] when the file cannot be written.
pub fn write_snapshot(log_path: &Path, log: &Log) -> Result<(PathBuf, u64)> {
    let bytes = encode(log);
    let path = snapshot_path(log_path);
    // A name of this process's own, so that queries rebuilding at once do not collide.
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |e| Error::io(&p, e)
    };
    let mut f = File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(&bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    fs::rename(&tmp, &path).map_err(io(&path))?;
    sync_dir(&path)?;
    Ok((path, bytes.len() as u64))
}

/// Reads and folds the log at `log_path`, starting from its snapshot when there is a valid one;
/// then only the part of the file after the snapshot (and the line before it) is read.
///
/// # Errors
/// [`Error::Usage`] when there is no log; [`Error::Io`] when it cannot be read; those of
/// [`Log::from_bytes`] for its records.
pub fn open_log(log_path: &Path) -> Result<(Log, SnapshotUse)> {
    let name = log_path.display().to_string();
    let read_all =
        |used: SnapshotUse| -> Result<(Log, SnapshotUse)> { Ok((Log::open(log_path)?, used)) };
    let Ok(snap) = fs::read(snapshot_path(log_path)) else {
        return read_all(SnapshotUse::Absent);
    };
    let start = match decode(&snap) {
        Ok(s) => s,
        Err(reason) => return read_all(SnapshotUse::Discarded { reason }),
    };
    drop(snap);
    // Read from just before the line the snapshot ends with.
    let base = start.valid_len.saturating_sub(LINE_BYTES_MAX as u64 + 2);
    let mut file = File::open(log_path).map_err(|e| missing_or_io(log_path, e))?;
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(base))
        .and_then(|_| file.read_to_end(&mut tail))
        .map_err(|e| Error::io(&name, e))?;
    match matches_at(&start, &tail, base) {
        Ok(()) => {
            let seq = start.history.seq_last();
            // The tail from the snapshot's end on.
            let from = usize::try_from(start.valid_len - base).map_err(|e| {
                Error::io(
                    &name,
                    std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                )
            })?;
            let log = Log::resume(&name, &tail[from..], Some(start), CHUNK_BYTES)?;
            Ok((log, SnapshotUse::Used { seq }))
        }
        Err(reason) => read_all(SnapshotUse::Discarded { reason }),
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

fn encode(log: &Log) -> Vec<u8> {
    let mut w = Vec::with_capacity(log.history.events().len() * 160 + 256);
    w.extend_from_slice(MAGIC);
    put_u32(&mut w, VERSION);
    put_u64(&mut w, log.history.seq_last());
    w.extend_from_slice(&log.head.0);
    put_u64(&mut w, log.valid_len);
    match log.recorded_at_last {
        Some(t) => {
            w.push(1);
            w.extend_from_slice(&t.timestamp_micros().to_le_bytes());
        }
        None => w.push(0),
    }
    put_u64(&mut w, log.schema1_records);
    put_u64(&mut w, log.history.events().len() as u64);
    for block in log.history.events().chunks(BLOCK_EVENTS) {
        put_u32(&mut w, block.len() as u32);
        let len_at = w.len();
        put_u64(&mut w, 0);
        for e in block {
            put_record(&mut w, &Record::from_event(e));
        }
        let len = (w.len() - len_at - 8) as u64;
        w[len_at..len_at + 8].copy_from_slice(&len.to_le_bytes());
    }
    let sum: [u8; 32] = Sha256::digest(&w).into();
    w.extend_from_slice(&sum);
    w
}

fn decode(bytes: &[u8]) -> Result<Log, String> {
    let body_len = bytes.len().checked_sub(32).ok_or("it is truncated")?;
    let sum: [u8; 32] = Sha256::digest(&bytes[..body_len]).into();
    if sum[..] != bytes[body_len..] {
        return Err("its checksum does not match its contents".into());
    }
    let mut r = Reader {
        bytes: &bytes[..body_len],
        at: 0,
    };
    if r.take(MAGIC.len())? != MAGIC {
        return Err("it is not a stancelog snapshot".into());
    }
    let version = r.u32()?;
    if version != VERSION {
        return Err(format!(
            "it is of version {version}; this build reads {VERSION}"
        ));
    }
    let seq = r.u64()?;
    let mut head = [0u8; 32];
    head.copy_from_slice(r.take(32)?);
    let valid_len = r.u64()?;
    let recorded_at_last = match r.u8()? {
        0 => None,
        _ => Some(
            DateTime::<Utc>::from_timestamp_micros(i64::from_le_bytes(
                r.take(8)?.try_into().map_err(|_| "bad time")?,
            ))
            .ok_or("bad time")?,
        ),
    };
    let schema1_records = r.u64()?;
    let count = r.u64()?;
    if count != seq {
        return Err("its event count does not match its seq".into());
    }
    // Block headers first, then the blocks decoded on worker threads, folded in order.
    let mut blocks = Vec::new();
    let mut events_seen = 0u64;
    while events_seen < count {
        let n = r.u32()? as u64;
        let len = usize::try_from(r.u64()?).map_err(|_| "a block is too long")?;
        let start = r.at;
        r.take(len)?;
        blocks.push((events_seen, n, start..start + len));
        events_seen += n;
    }
    if events_seen != count {
        return Err("its blocks do not hold its event count".into());
    }
    let bytes = r.bytes;
    let decode_block =
        |(first, n, range): &(u64, u64, std::ops::Range<usize>)| -> Result<Vec<Event>, String> {
            let mut br = Reader {
                bytes: &bytes[range.clone()],
                at: 0,
            };
            let mut out = Vec::with_capacity(*n as usize);
            for k in 0..*n {
                let expected = first + k + 1;
                let event = event_of(br.record()?).map_err(|e| format!("event {expected}: {e}"))?;
                if event.seq != expected {
                    return Err(format!("event {expected} has seq {}", event.seq));
                }
                out.push(event);
            }
            if br.at != br.bytes.len() {
                return Err("a block has bytes after its events".into());
            }
            Ok(out)
        };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let decoded: Vec<Result<Vec<Event>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (blocks, decode_block) = (&blocks, &decode_block);
                scope.spawn(move || {
                    blocks
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % workers == w)
                        .map(|(i, b)| (i, decode_block(b)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<(usize, Result<Vec<Event>, String>)> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect();
        all.sort_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, r)| r).collect()
    });
    if decoded.len() != blocks.len() {
        return Err("a block could not be decoded".into());
    }
    let mut history = History::new();
    for block in decoded {
        for event in block? {
            history
                .check(&event.id, &event.body)
                .map_err(|e| format!("event {}: {e}", event.seq))?;
            history.apply(event);
        }
    }
    if r.at != r.bytes.len() {
        return Err("it has bytes after its events".into());
    }
    Ok(Log {
        history,
        torn_tail_bytes: 0,
        torn_tail_records: 0,
        recorded_at_last,
        head: Hash(head),
        valid_len,
        schema1_records,
    })
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

    /// Folds `bytes` from a snapshot of its first `lines` lines.
    fn via_snapshot(bytes: &[u8], lines: usize) -> std::result::Result<Log, String> {
        let end = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(lines - 1)
            .map_or(0, |(i, _)| i + 1);
        let prefix = Log::from_bytes("log", &bytes[..end]).map_err(|e| e.to_string())?;
        let start = decode(&encode(&prefix))?;
        matches_at(&start, bytes, 0)?;
        Log::resume("log", &bytes[end..], Some(start), CHUNK_BYTES).map_err(|e| e.to_string())
    }

    #[test]
    fn snapshot_plus_the_rest_equals_a_full_replay_at_every_batch_boundary() {
        let full = Log::from_bytes("log", SEED).unwrap();
        // The seed log has two batches: lines 1-35 and 36-40.
        for lines in [35, 40] {
            let resumed = via_snapshot(SEED, lines).unwrap();
            assert_eq!(resumed.history.events(), full.history.events());
            assert_eq!(resumed.head, full.head);
            assert_eq!(resumed.valid_len, full.valid_len);
        }
    }

    #[test]
    fn a_snapshot_that_does_not_match_the_log_is_refused() {
        let prefix = Log::from_bytes("log", &SEED[..SEED.len() / 2]).unwrap();
        // Half the log is the first batch torn: the prefix folds to nothing complete.
        assert_eq!(prefix.history.seq_last(), 0);
        let full = Log::from_bytes("log", SEED).unwrap();
        let snap = encode(&full);
        // The log restored from an older backup (shorter than the snapshot covers).
        let start = decode(&snap).unwrap();
        assert!(matches_at(&start, &SEED[..SEED.len() - 10], 0).is_err());
        // An edited last record.
        let mut edited = SEED.to_vec();
        let n = edited.len();
        edited[n - 20] ^= 1;
        assert!(matches_at(&start, &edited, 0).is_err());
        // A damaged snapshot.
        let mut bad = snap.clone();
        bad[100] ^= 1;
        assert_eq!(
            decode(&bad).err().unwrap(),
            "its checksum does not match its contents"
        );
    }
}
