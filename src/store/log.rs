//! Reading a log: every line parsed, checked and folded, with the hash chain verified.
//!
//! Recovery policy, "torn tail only": an unterminated final line, or a final batch whose last
//! record is missing (a write in progress or torn by a crash), is the only defect tolerated.
//! Readers ignore it and report its size ([`Log::torn_tail_bytes`]); the next append removes it
//! first. Any other defect is an [`Error::Input`] naming the line, and nothing is repaired.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::batch::{BATCH_EVENTS_MAX, parse_record};
use super::chain::{GENESIS_HASH, Hash, hash_input, link};
use super::record::{
    FieldError, SCHEMA_VERSION, format_recorded_at, parse_recorded_at, parse_uuid,
};
use crate::core::{Event, History, Seq};
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
    pub(crate) recorded_at_last: Option<DateTime<Utc>>,
    pub(crate) head: Hash,
    /// Bytes of the complete batches, i.e. where the next record goes.
    pub(crate) valid_len: u64,
    schema1_records: u64,
}

/// What a record adds to the chain and to batch bookkeeping, besides its event.
struct Stored {
    schema: u32,
    event: Event,
    batch_last: Seq,
    hash: Hash,
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
        let mut history = History::new();
        let mut head = GENESIS_HASH;
        let mut recorded_at_last: Option<DateTime<Utc>> = None;
        let mut schema1_records = 0;
        // The last point where a batch was complete: (bytes, seq, head hash, recorded time).
        let mut complete = (0u64, 0 as Seq, GENESIS_HASH, None);
        let mut batch_open: Option<Seq> = None;
        let mut line_no: u64 = 0;
        let mut offset = 0usize;
        while offset < bytes.len() {
            line_no += 1;
            let rest = &bytes[offset..];
            let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                break;
            };
            let line = &rest[..end];
            let at = |field: String| Location {
                file: name.to_string(),
                line: Some(line_no),
                field: (!field.is_empty()).then_some(field),
            };
            let stored = read_stored(
                line,
                history.seq_last() + 1,
                recorded_at_last,
                &head,
                batch_open,
            )
            .map_err(|e| Error::input(at(e.field), e.message))?;
            history
                .check(&stored.event.id, &stored.event.body)
                .map_err(|r| Error::input(at(r.field().to_string()), r.to_string()))?;
            if stored.schema == 1 {
                schema1_records += 1;
            }
            offset += end + 1;
            head = stored.hash;
            recorded_at_last = Some(stored.event.recorded_at);
            let seq = stored.event.seq;
            history.apply(stored.event);
            if seq == stored.batch_last {
                batch_open = None;
                complete = (offset as u64, seq, head, recorded_at_last);
            } else {
                batch_open = Some(stored.batch_last);
            }
        }
        // Whatever follows the last complete batch is a torn tail: an unterminated line, or the
        // records of a batch whose last record never made it.
        let (valid_len, seq_complete, head_complete, recorded_complete) = complete;
        let torn_tail_bytes = bytes.len() as u64 - valid_len;
        if torn_tail_bytes > 0 {
            history.rollback_to(seq_complete);
            head = head_complete;
            recorded_at_last = recorded_complete;
        }
        Ok(Log {
            history,
            torn_tail_bytes,
            recorded_at_last,
            head,
            valid_len,
            schema1_records,
        })
    }

    /// The folded history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Size in bytes of the torn tail that was ignored (0 when none).
    pub fn torn_tail_bytes(&self) -> u64 {
        self.torn_tail_bytes
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

/// Reads one stored line into an event, checking everything but the history rules.
fn read_stored(
    line: &[u8],
    seq_expected: Seq,
    recorded_at_last: Option<DateTime<Utc>>,
    prev: &Hash,
    batch_open: Option<Seq>,
) -> Result<Stored, FieldError> {
    if line.len() > LINE_BYTES_MAX {
        return Err(FieldError::new(
            "",
            format!("line is longer than LINE_BYTES_MAX ({LINE_BYTES_MAX} bytes)"),
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
    let seq = record
        .seq
        .ok_or_else(|| FieldError::new("seq", "missing in a stored record"))?;
    if seq != seq_expected {
        return Err(FieldError::new(
            "seq",
            format!("is {seq}, expected {seq_expected} (seq must be contiguous from 1)"),
        ));
    }
    // Schema 1 has no hash and no batches: each record is a batch of its own, and it joins the
    // chain through its raw bytes.
    let (batch_last, hash) = if schema == 1 {
        for (field, present) in [
            ("hash", record.hash.is_some()),
            ("batch_last", record.batch_last.is_some()),
        ] {
            if present {
                return Err(FieldError::new(field, "is not a field of schema 1"));
            }
        }
        (seq, link(prev, &[line]))
    } else {
        let stored_hash = record
            .hash
            .as_deref()
            .ok_or_else(|| FieldError::new("hash", "missing in a stored record"))?;
        let (before, after) = hash_input(line)
            .ok_or_else(|| FieldError::new("hash", "not found where the canonical form puts it"))?;
        let hash = link(prev, &[before, after]);
        if hash.to_hex() != stored_hash {
            return Err(FieldError::new(
                "hash",
                "does not match the record and the previous hash: the log was changed after it was written",
            ));
        }
        let batch_last = record
            .batch_last
            .ok_or_else(|| FieldError::new("batch_last", "missing in a stored record"))?;
        (batch_last, hash)
    };
    match batch_open {
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
    let id = parse_uuid(
        record
            .id
            .as_deref()
            .ok_or_else(|| FieldError::new("id", "missing in a stored record"))?,
        "id",
    )?;
    let recorded_at = parse_recorded_at(
        record
            .recorded_at
            .as_deref()
            .ok_or_else(|| FieldError::new("recorded_at", "missing in a stored record"))?,
    )?;
    if let Some(last) = recorded_at_last.filter(|last| *last > recorded_at) {
        return Err(FieldError::new(
            "recorded_at",
            format!(
                "is earlier than the previous record's {} (recorded time never decreases)",
                format_recorded_at(&last)
            ),
        ));
    }
    let body = record.to_body()?;
    Ok(Stored {
        schema,
        event: Event {
            seq,
            id,
            recorded_at,
            body,
        },
        batch_last,
        hash,
    })
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
