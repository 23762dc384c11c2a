//! Reading a log: every line parsed, checked and folded, with the hash chain verified.
//!
//! Recovery policy, "torn tail only": an unterminated final line, or a final batch whose last
//! record is missing (a write in progress or torn by a crash), is the only defect tolerated.
//! Readers ignore it and report its size ([`Log::torn_tail_bytes`]); the next append removes it
//! first. Any other defect is an [`Error::Input`] naming the line, and nothing is repaired.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::batch::{BATCH_EVENTS_MAX, parse_record};
use super::chain::{GENESIS_HASH, HASH_HEX_LEN, HASH_KEY, Hash, hash_input, link};
use super::record::{
    FieldError, SCHEMA_VERSION, format_recorded_at, parse_recorded_at, parse_uuid,
};
use crate::core::{Event, EventBody, History, Seq};
use crate::error::{Error, Location, Result};

/// Longest line accepted in a log or a batch, in bytes (newline excluded).
pub const LINE_BYTES_MAX: usize = 1 << 20;

/// The oldest schema version this build reads. Older records are upgraded when read, never
/// rewritten.
pub const SCHEMA_VERSION_MIN: u32 = 1;

/// A log read from disk and folded into a [`History`].
#[derive(Debug, Clone)]
pub struct Log {
    pub(crate) history: History,
    pub(crate) torn_tail_bytes: u64,
    /// Whole records (newline-terminated lines) inside the torn tail: the start of a batch
    /// whose last record never made it.
    pub(crate) torn_tail_records: u64,
    pub(crate) recorded_at_last: Option<DateTime<Utc>>,
    pub(crate) head: Hash,
    /// Bytes of the complete batches, i.e. where the next record goes.
    pub(crate) valid_len: u64,
    pub(crate) schema1_records: u64,
}

impl Log {
    /// Reads and folds the log at `path`, verifying the hash chain. Takes no lock: a batch
    /// still being written is ignored as a torn tail, so readers never see half a batch.
    ///
    /// # Errors
    /// [`Error::Usage`] when there is no file at `path`; [`Error::Io`] when it cannot be read;
    /// [`Error::Input`] naming the line and field of the first bad record.
    pub fn open(path: &Path) -> Result<Log> {
        let mut file = open_read(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::io(path.display(), e))?;
        Log::from_bytes(&path.display().to_string(), &bytes)
    }

    /// Folds a log held in memory; `name` is used in error messages.
    ///
    /// # Errors
    /// [`Error::Input`] naming the line and field of the first bad record: bad JSON, a field
    /// out of shape, a newer schema, a seq gap, a hash that does not chain, a batch left open
    /// before another begins, or an event the log's rules refuse.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Log> {
        Log::from_bytes_chunked(name, bytes, CHUNK_BYTES)
    }

    /// [`Log::from_bytes`] with chunks of about `chunk_bytes` decoded in parallel.
    fn from_bytes_chunked(name: &str, bytes: &[u8], chunk_bytes: usize) -> Result<Log> {
        Log::resume(name, bytes, None, chunk_bytes, 0)
    }

    /// Folds the log in `bytes`, starting from `start` (a log already folded up to a byte offset
    /// of `bytes` that ends a complete batch) or from the beginning.
    ///
    /// `bytes` may be a tail of the file: `base` is the file offset of its first byte, and must
    /// be at most `start`'s end less the length of its last line (whose hash the next line's
    /// check needs). Offsets in the result are file offsets.
    pub(crate) fn resume(
        name: &str,
        bytes: &[u8],
        start: Option<Log>,
        chunk_bytes: usize,
        base: u64,
    ) -> Result<Log> {
        let start = start.map(|mut l| {
            l.valid_len -= base;
            l
        });
        let offset = start.as_ref().map_or(0, |l| l.valid_len as usize);
        let mut fold = Fold::new(name, bytes, start);
        // Whole lines only; what follows the last newline is a torn tail.
        let whole = memchr::memrchr(b'\n', bytes)
            .map_or(0, |i| i + 1)
            .max(offset);
        let chunks: Vec<Range<usize>> = split_chunks(&bytes[offset..whole], chunk_bytes.max(1))
            .into_iter()
            .map(|r| r.start + offset..r.end + offset)
            .collect();
        if chunks.len() <= 1 {
            for range in chunks {
                fold.chunk(decode_chunk(bytes, range))?;
            }
        } else {
            // Decoding (JSON, hashes, field conversion) runs on worker threads; the fold takes
            // chunks in file order, so the first bad line is reported as in a sequential read.
            let workers = std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .clamp(1, 8);
            let next = AtomicUsize::new(0);
            let (tx, rx) = mpsc::sync_channel::<(usize, Vec<Decoded>)>(workers * 2);
            let failed = AtomicBool::new(false);
            std::thread::scope(|scope| -> Result<()> {
                for _ in 0..workers {
                    let tx = tx.clone();
                    let (chunks, next, failed) = (&chunks, &next, &failed);
                    scope.spawn(move || {
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= chunks.len() || failed.load(Ordering::Relaxed) {
                                break;
                            }
                            if tx
                                .send((i, decode_chunk(bytes, chunks[i].clone())))
                                .is_err()
                            {
                                break;
                            }
                        }
                    });
                }
                drop(tx);
                let mut pending: BTreeMap<usize, Vec<Decoded>> = BTreeMap::new();
                let mut want = 0;
                for (i, decoded) in rx {
                    pending.insert(i, decoded);
                    while let Some(decoded) = pending.remove(&want) {
                        if let Err(e) = fold.chunk(decoded) {
                            failed.store(true, Ordering::Relaxed);
                            return Err(e);
                        }
                        want += 1;
                    }
                }
                Ok(())
            })?;
        }
        let mut log = fold.finish();
        log.valid_len += base;
        Ok(log)
    }

    /// The folded history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Size in bytes of the torn tail that was ignored (0 when none).
    pub fn torn_tail_bytes(&self) -> u64 {
        self.torn_tail_bytes
    }

    /// How many whole records the torn tail holds: records of a batch whose last record was
    /// never written, so the batch was never acknowledged (0 when the tail is only an
    /// unterminated line).
    pub fn torn_tail_records(&self) -> u64 {
        self.torn_tail_records
    }

    /// The hash of the last complete record (lower-case hex SHA-256; 64 zeros for an empty log).
    pub fn head_hash(&self) -> String {
        self.head.to_hex()
    }

    /// How many records are of schema 1, which carries no hash of its own (their bytes are
    /// still covered by the hash of the next schema-2 record).
    pub fn schema1_records(&self) -> u64 {
        self.schema1_records
    }
}

/// Bytes of log per decoding chunk: enough lines to amortize a thread hand-off.
pub(crate) const CHUNK_BYTES: usize = 4 << 20;

/// Splits whole lines into ranges of about `chunk_bytes`, each ending just after a newline.
fn split_chunks(bytes: &[u8], chunk_bytes: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let want = (start + chunk_bytes).min(bytes.len());
        let end = match memchr::memchr(b'\n', &bytes[want - 1..]) {
            Some(i) => want + i,
            None => bytes.len(),
        };
        out.push(start..end);
        start = end;
    }
    out
}

/// One line decoded on its own: everything that needs no earlier line, each check's outcome
/// kept so the fold can report them in the order a sequential read would.
struct Decoded {
    /// Byte range of the line (newline excluded).
    range: Range<usize>,
    /// JSON and schema, or the first error there.
    parsed: Result<Parsed, FieldError>,
}

struct Parsed {
    schema: u32,
    seq: Option<Seq>,
    batch_last: Option<Seq>,
    /// Schema 2: the stored hash and whether it links to the previous line's stored hash
    /// (`None` when that was not known here: the first line of a chunk after a schema-1 line).
    hash: Option<(Result<Hash, FieldError>, Option<bool>)>,
    id_time: Result<(Uuid, DateTime<Utc>), FieldError>,
    body: Result<EventBody, FieldError>,
}

/// The stored hash of a schema-2 line, read without parsing the JSON.
pub(crate) fn stored_hash(line: &[u8]) -> Option<Hash> {
    let (before, _) = hash_input(line)?;
    let hex = &line[before.len() + HASH_KEY.len()..][..HASH_HEX_LEN];
    Hash::from_hex(hex)
}

fn decode_chunk(bytes: &[u8], range: Range<usize>) -> Vec<Decoded> {
    // The previous line's stored hash, for the first line of the chunk.
    let mut prev: Option<Hash> = match range.start {
        0 => Some(GENESIS_HASH),
        start => {
            let line_start = memchr::memrchr(b'\n', &bytes[..start - 1]).map_or(0, |i| i + 1);
            stored_hash(&bytes[line_start..start - 1])
        }
    };
    let mut out = Vec::with_capacity((range.end - range.start) / 300 + 1);
    let mut times: Option<(String, DateTime<Utc>)> = None;
    let mut at = range.start;
    while at < range.end {
        let end = memchr::memchr(b'\n', &bytes[at..range.end]).map_or(range.end, |i| at + i);
        let line = &bytes[at..end];
        let parsed = decode(line, prev.as_ref(), &mut times);
        prev = match &parsed {
            Ok(Parsed {
                hash: Some((Ok(h), _)),
                ..
            }) => Some(*h),
            _ => None,
        };
        out.push(Decoded {
            range: at..end,
            parsed,
        });
        at = end + 1;
    }
    out
}

/// Decodes one stored line: JSON, schema, the hash link to `prev` (the previous line's stored
/// hash) when known, id, recorded time and body.
fn decode(
    line: &[u8],
    prev: Option<&Hash>,
    times: &mut Option<(String, DateTime<Utc>)>,
) -> Result<Parsed, FieldError> {
    if line.len() > LINE_BYTES_MAX {
        return Err(FieldError::new(
            "",
            format!("line is longer than LINE_BYTES_MAX ({LINE_BYTES_MAX} bytes)"),
        ));
    }
    if line.last() == Some(&b'\r') {
        return Err(FieldError::new(
            "",
            "the line ends in \\r (a Windows line ending); log lines end in \\n alone (was the file converted by an editor or by git? see .gitattributes)",
        ));
    }
    let record = parse_record(line)?;
    let schema = record
        .schema
        .ok_or_else(|| FieldError::new("schema", "missing in a stored record"))?;
    if !(SCHEMA_VERSION_MIN..=SCHEMA_VERSION).contains(&schema) {
        return Err(FieldError::new(
            "schema",
            format!(
                "schema {schema} is not supported by this build (it reads {SCHEMA_VERSION_MIN} to {SCHEMA_VERSION})"
            ),
        ));
    }
    let hash = if schema == 1 {
        for (field, present) in [
            ("hash", record.hash.is_some()),
            ("batch_last", record.batch_last.is_some()),
        ] {
            if present {
                return Err(FieldError::new(field, "is not a field of schema 1"));
            }
        }
        None
    } else {
        let stored = match (&record.hash, hash_input(line)) {
            (None, _) => Err(FieldError::new("hash", "missing in a stored record")),
            (Some(_), None) => Err(FieldError::new(
                "hash",
                "not found where the canonical form puts it",
            )),
            (Some(_), Some((before, after))) => Ok((before, after)),
        };
        Some(match stored {
            Err(e) => (Err(e), None),
            Ok((before, after)) => {
                let h =
                    stored_hash(line).ok_or_else(|| FieldError::new("hash", "not lower-case hex"));
                let linked =
                    prev.map(|p| h.as_ref().is_ok_and(|h| link(p, &[before, after]) == *h));
                (h, linked)
            }
        })
    };
    let id_time = (|| {
        let id = parse_uuid(
            record
                .id
                .as_deref()
                .ok_or_else(|| FieldError::new("id", "missing in a stored record"))?,
            "id",
        )?;
        let text = record
            .recorded_at
            .as_deref()
            .ok_or_else(|| FieldError::new("recorded_at", "missing in a stored record"))?;
        // The records of a batch share one recorded time: parse each distinct text once.
        let recorded_at = match times.as_ref() {
            Some((last, t)) if last == text => *t,
            _ => {
                let t = parse_recorded_at(text)?;
                *times = Some((text.to_string(), t));
                t
            }
        };
        Ok((id, recorded_at))
    })();
    Ok(Parsed {
        schema,
        seq: record.seq,
        batch_last: record.batch_last,
        hash,
        id_time,
        body: record.to_body(),
    })
}

/// The sequential part of reading a log: seq, hash chain, batches, recorded time, and the fold.
struct Fold<'a> {
    name: &'a str,
    bytes: &'a [u8],
    history: History,
    head: Hash,
    recorded_at_last: Option<DateTime<Utc>>,
    schema1_records: u64,
    /// The last point where a batch was complete: (bytes, seq, head hash, recorded time).
    complete: (u64, Seq, Hash, Option<DateTime<Utc>>),
    batch_open: Option<Seq>,
    line_no: u64,
}

impl<'a> Fold<'a> {
    fn new(name: &'a str, bytes: &'a [u8], start: Option<Log>) -> Fold<'a> {
        let start = start.unwrap_or_else(|| Log {
            history: History::new(),
            torn_tail_bytes: 0,
            torn_tail_records: 0,
            recorded_at_last: None,
            head: GENESIS_HASH,
            valid_len: 0,
            schema1_records: 0,
        });
        let seq = start.history.seq_last();
        Fold {
            name,
            bytes,
            head: start.head,
            recorded_at_last: start.recorded_at_last,
            schema1_records: start.schema1_records,
            complete: (start.valid_len, seq, start.head, start.recorded_at_last),
            batch_open: None,
            // One line per record.
            line_no: seq,
            history: start.history,
        }
    }

    fn chunk(&mut self, decoded: Vec<Decoded>) -> Result<()> {
        for d in decoded {
            self.line_no += 1;
            let (name, line_no) = (self.name, self.line_no);
            let at = move |field: String| Location {
                file: name.to_string(),
                line: Some(line_no),
                field: (!field.is_empty()).then_some(field),
            };
            let end = d.range.end;
            let line = &self.bytes[d.range];
            let (event, batch_last, schema) = self
                .line(line, d.parsed)
                .map_err(|e| Error::input(at(e.field), e.message))?;
            self.history
                .check(&event.id, &event.body)
                .map_err(|r| Error::input(at(r.field().to_string()), r.to_string()))?;
            if schema == 1 {
                self.schema1_records += 1;
            }
            self.recorded_at_last = Some(event.recorded_at);
            let seq = event.seq;
            self.history.apply(event);
            if seq == batch_last {
                self.batch_open = None;
                self.complete = ((end + 1) as u64, seq, self.head, self.recorded_at_last);
            } else {
                self.batch_open = Some(batch_last);
            }
        }
        Ok(())
    }

    /// The checks of one line, in the order a reader reports them.
    fn line(
        &mut self,
        line: &[u8],
        parsed: Result<Parsed, FieldError>,
    ) -> Result<(Event, Seq, u32), FieldError> {
        let p = parsed?;
        let seq_expected = self.history.seq_last() + 1;
        let seq = p
            .seq
            .ok_or_else(|| FieldError::new("seq", "missing in a stored record"))?;
        if seq != seq_expected {
            return Err(FieldError::new(
                "seq",
                format!("is {seq}, expected {seq_expected} (seq must be contiguous from 1)"),
            ));
        }
        // Schema 1 has no hash and no batches: each record is a batch of its own, and it joins
        // the chain through its raw bytes.
        let batch_last = match p.hash {
            None => {
                self.head = link(&self.head, &[line]);
                seq
            }
            Some((stored, linked)) => {
                let stored = stored?;
                let linked = match linked {
                    // Decoded against the previous line's stored hash, which is the head.
                    Some(ok) => ok,
                    None => hash_input(line).is_some_and(|(before, after)| {
                        link(&self.head, &[before, after]) == stored
                    }),
                };
                if !linked {
                    return Err(FieldError::new(
                        "hash",
                        "does not match the record and the previous hash: the log was changed after it was written",
                    ));
                }
                self.head = stored;
                p.batch_last
                    .ok_or_else(|| FieldError::new("batch_last", "missing in a stored record"))?
            }
        };
        match self.batch_open {
            Some(open) if open != batch_last => {
                return Err(FieldError::new(
                    "batch_last",
                    format!("is {batch_last}, but the batch ending at seq {open} is still open"),
                ));
            }
            _ if batch_last < seq || batch_last - seq >= BATCH_EVENTS_MAX as u64 => {
                return Err(FieldError::new(
                    "batch_last",
                    format!(
                        "is {batch_last}, not a seq from {seq} to {} (seq + BATCH_EVENTS_MAX - 1)",
                        seq + BATCH_EVENTS_MAX as u64 - 1
                    ),
                ));
            }
            _ => {}
        }
        let (id, recorded_at) = p.id_time?;
        if let Some(last) = self.recorded_at_last.filter(|last| *last > recorded_at) {
            return Err(FieldError::new(
                "recorded_at",
                format!(
                    "is earlier than the previous record's {} (recorded time never decreases)",
                    format_recorded_at(&last)
                ),
            ));
        }
        let body = p.body?;
        Ok((
            Event {
                seq,
                id,
                recorded_at,
                body,
            },
            batch_last,
            p.schema,
        ))
    }

    fn finish(self) -> Log {
        let Fold {
            bytes,
            mut history,
            mut head,
            mut recorded_at_last,
            schema1_records,
            complete,
            ..
        } = self;
        // Whatever follows the last complete batch is a torn tail: an unterminated line, or the
        // records of a batch whose last record never made it.
        let (valid_len, seq_complete, head_complete, recorded_complete) = complete;
        let torn_tail_bytes = bytes.len() as u64 - valid_len;
        let torn_tail_records =
            memchr::memchr_iter(b'\n', &bytes[valid_len as usize..]).count() as u64;
        if torn_tail_bytes > 0 {
            history.rollback_to(seq_complete);
            head = head_complete;
            recorded_at_last = recorded_complete;
        }
        Log {
            history,
            torn_tail_bytes,
            torn_tail_records,
            recorded_at_last,
            head,
            valid_len,
            schema1_records,
        }
    }
}

/// Opens an existing log for reading.
pub(crate) fn open_read(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| missing_or_io(path, e))
}

/// A missing log says how to make one; anything else is I/O.
pub(crate) fn missing_or_io(path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::Usage(format!(
            "{}: no log there; create one with `stancelog --log {} init`",
            path.display(),
            path.display()
        ))
    } else {
        Error::io(path.display(), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &[u8] = include_bytes!("../../events/dprk-russia-2024.jsonl");
    const SCHEMA1: &[u8] = include_bytes!("../../tests/fixtures/schema1-dprk-russia-2024.jsonl");

    /// The parallel read must say exactly what the sequential one says, on good and bad logs.
    fn same_answer(bytes: &[u8]) {
        let whole = Log::from_bytes_chunked("log", bytes, usize::MAX);
        for chunk in [1, 200, 1000, 5000] {
            let parts = Log::from_bytes_chunked("log", bytes, chunk);
            match (&whole, &parts) {
                (Ok(a), Ok(b)) => {
                    assert!(a.history.events().eq(b.history.events()), "chunk {chunk}");
                    assert_eq!(
                        (a.head, a.torn_tail_bytes, a.valid_len),
                        (b.head, b.torn_tail_bytes, b.valid_len)
                    );
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "chunk {chunk}"),
                _ => panic!("chunk {chunk}: {:?} vs {:?}", whole.is_ok(), parts.is_ok()),
            }
        }
    }

    #[test]
    fn chunked_read_equals_sequential_read_on_good_and_damaged_logs() {
        same_answer(SEED);
        same_answer(SCHEMA1);
        // Every 97th byte flipped, one at a time, in both logs; and the logs cut short there.
        for log in [SEED, SCHEMA1] {
            for at in (0..log.len()).step_by(97) {
                let mut bad = log.to_vec();
                bad[at] ^= 0x01;
                same_answer(&bad);
                same_answer(&log[..at]);
            }
        }
    }

    #[test]
    fn split_chunks_ends_each_range_at_a_newline() {
        let text = b"ab\ncd\nef\n";
        assert_eq!(split_chunks(text, 1), vec![0..3, 3..6, 6..9]);
        assert_eq!(split_chunks(text, 4), vec![0..6, 6..9]);
        assert_eq!(split_chunks(text, 100), vec![0..9]);
    }
}
