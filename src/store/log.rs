//! The JSON Lines log on disk: reading and folding it, parsing append batches, appending.
//!
//! Recovery policy ("torn tail only"): an unterminated final line is the only defect tolerated.
//! Readers ignore it and report its size ([`Log::torn_tail_bytes`]); the next append removes it
//! first. Any other defect is an [`Error::Input`] naming the line, and nothing is repaired.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::record::{
    FieldError, Record, SCHEMA_VERSION, format_recorded_at, parse_recorded_at, parse_uuid,
};
use crate::core::{Event, EventBody, History, Seq};
use crate::error::{Error, Location, Result};

/// Longest line accepted in a log or a batch, in bytes (newline excluded).
pub const LINE_BYTES_MAX: usize = 1 << 20;

/// Most events accepted in one append batch.
pub const BATCH_EVENTS_MAX: usize = 100_000;

/// A log read from disk and folded into a [`History`].
#[derive(Debug)]
pub struct Log {
    history: History,
    torn_tail_bytes: u64,
    recorded_at_last: Option<DateTime<Utc>>,
}

/// One event of an append batch, before the log assigns `seq` and `recorded_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The id the writer gave, kept as is; `None` gets a fresh UUID v7 on append.
    pub id: Option<Uuid>,
    /// Type and fields.
    pub body: EventBody,
    /// 1-based line of the batch input where the event starts (for error messages).
    pub line: u64,
}

/// How to append.
#[derive(Debug, Clone)]
pub struct AppendOptions {
    /// The recorded time to stamp on the batch (UTC). If the log's last recorded time is later,
    /// that one is used instead, so recorded time never decreases with `seq`.
    pub recorded_at: DateTime<Utc>,
    /// Append only if the log's last seq is this (expected version); `None` = no check.
    pub expect_seq: Option<Seq>,
    /// How long to wait for another writer's lock before failing.
    pub wait: Duration,
}

/// What an append did with one event of the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Its seq in the log.
    pub seq: Seq,
    /// Its id.
    pub id: Uuid,
    /// True when an identical event with this id was already in the log, so nothing was stored.
    pub duplicate: bool,
}

/// The outcome of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendReport {
    /// One entry per batch event, in batch order.
    pub events: Vec<Appended>,
    /// Bytes of a torn final line removed before appending (0 when there was none).
    pub torn_bytes_removed: u64,
}

impl Log {
    /// Creates an empty log file, and syncs it and its directory to disk.
    ///
    /// # Errors
    /// [`Error::Usage`] when something already exists at `path`; [`Error::Io`] otherwise.
    pub fn create(path: &Path) -> Result<()> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    Error::Usage(format!(
                        "{}: already exists; refusing to overwrite it",
                        path.display()
                    ))
                } else {
                    Error::io(path.display(), e)
                }
            })?;
        file.sync_all().map_err(|e| Error::io(path.display(), e))?;
        sync_dir(path)
    }

    /// Reads and folds the log at `path`. Takes no lock: appends never leave a half-written
    /// line anywhere but at the end, which is ignored as a torn tail.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read (a missing file says to run `init`);
    /// [`Error::Input`] naming the line and field of the first bad record.
    pub fn open(path: &Path) -> Result<Log> {
        let mut file = open_existing(path, false)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::io(path.display(), e))?;
        Log::from_bytes(&path.display().to_string(), &bytes)
    }

    /// Folds a log held in memory; `name` is used in error messages.
    ///
    /// # Errors
    /// [`Error::Input`] naming the line and field of the first bad record.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Log> {
        let mut history = History::new();
        let mut recorded_at_last: Option<DateTime<Utc>> = None;
        let mut line_no: u64 = 0;
        let mut rest = bytes;
        let mut torn_tail_bytes = 0;
        while !rest.is_empty() {
            line_no += 1;
            let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                torn_tail_bytes = rest.len() as u64;
                break;
            };
            let line = &rest[..end];
            rest = &rest[end + 1..];
            let at = |field: Option<String>| Location {
                file: name.to_string(),
                line: Some(line_no),
                field,
            };
            let stored = read_stored(line, history.seq_last() + 1, recorded_at_last)
                .map_err(|e| Error::input(at(Some(e.field)), e.message))?;
            history
                .check(&stored.id, &stored.body)
                .map_err(|r| Error::input(at(Some(r.field().to_string())), r.to_string()))?;
            recorded_at_last = Some(stored.recorded_at);
            history.apply(stored);
        }
        Ok(Log {
            history,
            torn_tail_bytes,
            recorded_at_last,
        })
    }

    /// The folded history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Size in bytes of an unterminated final line that was ignored (0 when none).
    pub fn torn_tail_bytes(&self) -> u64 {
        self.torn_tail_bytes
    }

    /// Bytes of the whole lines, i.e. where the next record starts.
    fn valid_len(bytes: &[u8], torn: u64) -> u64 {
        bytes.len() as u64 - torn
    }
}

/// Reads one stored line into an event, checking everything but the history rules.
fn read_stored(
    line: &[u8],
    seq_expected: Seq,
    recorded_at_last: Option<DateTime<Utc>>,
) -> Result<Event, FieldError> {
    if line.len() > LINE_BYTES_MAX {
        return Err(FieldError::new(
            "",
            format!("line is longer than LINE_BYTES_MAX ({LINE_BYTES_MAX} bytes)"),
        ));
    }
    let record = parse_record(line)?;
    match record.schema {
        Some(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(FieldError::new(
                "schema",
                format!("schema {v} is not supported by this build (it reads {SCHEMA_VERSION})"),
            ));
        }
        None => return Err(FieldError::new("schema", "missing in a stored record")),
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
    Ok(Event {
        seq,
        id,
        recorded_at,
        body,
    })
}

/// Parses one JSON object into a [`Record`], naming the field at fault.
fn parse_record(line: &[u8]) -> Result<Record, FieldError> {
    // Fast path first; only a failure pays for tracking the path to the bad field.
    match serde_json::from_slice::<Record>(line) {
        Ok(r) => Ok(r),
        Err(_) => {
            let mut de = serde_json::Deserializer::from_slice(line);
            match serde_path_to_error::deserialize::<_, Record>(&mut de) {
                Ok(r) => Ok(r),
                Err(e) => Err(json_field_error(
                    e.path().to_string(),
                    e.into_inner().to_string(),
                )),
            }
        }
    }
}

fn json_field_error(path: String, message: String) -> FieldError {
    let field = if path == "." { String::new() } else { path };
    // serde_json appends " at line 1 column N"; the caller reports the line itself.
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    FieldError { field, message }
}

/// Parses an append batch: one JSON object, or JSON Lines of objects, each an event without
/// `seq`, `recorded_at` or `schema` (those are assigned by the log); `id` may be given.
///
/// # Errors
/// [`Error::Input`] naming `name`, the line and the field of the first bad event, or saying the
/// input holds no event, or more than [`BATCH_EVENTS_MAX`].
pub fn parse_batch(name: &str, text: &[u8]) -> Result<Vec<NewEvent>> {
    let at = |line: u64, field: &str| Location {
        file: name.to_string(),
        line: Some(line),
        field: (!field.is_empty()).then(|| field.to_string()),
    };
    let mut events = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(text).into_iter::<serde_json::Value>();
    let mut offset = 0usize;
    let mut line: u64 = 1;
    loop {
        // Skip white space to find where the next value starts, counting lines on the way.
        while let Some(&b) = text.get(offset) {
            if !b.is_ascii_whitespace() {
                break;
            }
            if b == b'\n' {
                line += 1;
            }
            offset += 1;
        }
        let start_line = line;
        let value = match stream.next() {
            None => break,
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                let fe = json_field_error(String::new(), e.to_string());
                return Err(Error::input(
                    at(e.line() as u64, ""),
                    format!("malformed JSON: {}", fe.message),
                ));
            }
        };
        let end = stream.byte_offset();
        line += text[offset..end].iter().filter(|&&b| b == b'\n').count() as u64;
        offset = end;
        if events.len() == BATCH_EVENTS_MAX {
            return Err(Error::input(
                at(start_line, ""),
                format!(
                    "batch holds more than BATCH_EVENTS_MAX ({BATCH_EVENTS_MAX}) events; split it"
                ),
            ));
        }
        if !value.is_object() {
            return Err(Error::input(
                at(start_line, ""),
                "expected a JSON object (one event)",
            ));
        }
        let record: Record = serde_path_to_error::deserialize(value).map_err(|e| {
            let fe = json_field_error(e.path().to_string(), e.into_inner().to_string());
            Error::input(at(start_line, &fe.field), fe.message)
        })?;
        let new = new_event(&record, start_line)
            .map_err(|fe| Error::input(at(start_line, &fe.field), fe.message))?;
        events.push(new);
    }
    if events.is_empty() {
        return Err(Error::input(
            Location {
                file: name.to_string(),
                line: None,
                field: None,
            },
            "no events: the input is empty",
        ));
    }
    Ok(events)
}

fn new_event(record: &Record, line: u64) -> Result<NewEvent, FieldError> {
    if record.seq.is_some() {
        return Err(FieldError::new(
            "seq",
            "is assigned by the log on append; leave it out",
        ));
    }
    if record.recorded_at.is_some() {
        return Err(FieldError::new(
            "recorded_at",
            "is assigned by the log on append; leave it out",
        ));
    }
    if let Some(v) = record.schema.filter(|v| *v != SCHEMA_VERSION) {
        return Err(FieldError::new(
            "schema",
            format!("schema {v} is not the one this build writes ({SCHEMA_VERSION})"),
        ));
    }
    let id = match &record.id {
        Some(id) => Some(parse_uuid(id, "id")?),
        None => None,
    };
    Ok(NewEvent {
        id,
        body: record.to_body()?,
        line,
    })
}

/// Appends a batch to the log at `path`: all events or none.
///
/// Takes the log's exclusive lock (waiting up to `opts.wait`), reads and folds the log, checks
/// `opts.expect_seq`, checks every event in order against the log and the batch before it, and
/// only then writes the batch in one write and `fdatasync`s it. A torn final line is removed
/// first. An event whose id is already in the log with identical content is not stored again and
/// is reported with its original seq (idempotent append).
///
/// `source` names the batch input in error messages.
///
/// # Errors
/// [`Error::Conflict`] when `expect_seq` does not match; [`Error::Input`] naming the batch line
/// and field of the first refused event, or the log line of a bad stored record; [`Error::Io`]
/// when the lock is not had in time or the disk fails. On any error the log's bytes are
/// unchanged.
pub fn append(
    path: &Path,
    batch: &[NewEvent],
    source: &str,
    opts: &AppendOptions,
) -> Result<AppendReport> {
    let mut file = open_existing(path, true)?;
    lock(&file, path, opts.wait)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| Error::io(path.display(), e))?;
    let Log {
        mut history,
        torn_tail_bytes,
        recorded_at_last,
    } = Log::from_bytes(&path.display().to_string(), &bytes)?;
    if let Some(expected) = opts.expect_seq.filter(|e| *e != history.seq_last()) {
        return Err(Error::Conflict {
            expected,
            found: history.seq_last(),
        });
    }
    let recorded_at = match recorded_at_last {
        Some(last) if last > opts.recorded_at => last,
        _ => truncate_to_micros(opts.recorded_at),
    };
    let seq_before = history.seq_last();
    let mut report = Vec::with_capacity(batch.len());
    let mut out = Vec::new();
    for new in batch {
        match stage(&mut history, new, recorded_at, source) {
            Ok(appended) => {
                if let Some(event) = history.event(appended.seq).filter(|_| !appended.duplicate) {
                    serde_json::to_writer(&mut out, &Record::from_event(event))
                        .map_err(|e| Error::io(path.display(), e.into()))?;
                    out.push(b'\n');
                }
                report.push(appended);
            }
            Err(e) => {
                history.rollback_to(seq_before);
                return Err(e);
            }
        }
    }
    let valid_len = Log::valid_len(&bytes, torn_tail_bytes);
    let io = |e| Error::io(path.display(), e);
    if torn_tail_bytes > 0 {
        file.set_len(valid_len).map_err(io)?;
    }
    if !out.is_empty() || torn_tail_bytes > 0 {
        file.seek(SeekFrom::Start(valid_len)).map_err(io)?;
        file.write_all(&out).map_err(io)?;
        file.sync_data().map_err(io)?;
    }
    Ok(AppendReport {
        events: report,
        torn_bytes_removed: torn_tail_bytes,
    })
}

/// Checks one batch event and applies it to `history`.
fn stage(
    history: &mut History,
    new: &NewEvent,
    recorded_at: DateTime<Utc>,
    source: &str,
) -> Result<Appended> {
    let at = |field: &str| Location {
        file: source.to_string(),
        line: Some(new.line),
        field: Some(field.to_string()),
    };
    let id = new.id.unwrap_or_else(|| new_v7(recorded_at));
    if let Some(seq) = history.seq_of(&id) {
        return match history.event(seq) {
            Some(old) if old.body == new.body => Ok(Appended {
                seq,
                id,
                duplicate: true,
            }),
            _ => Err(Error::input(
                at("id"),
                format!("id {id} is already used by seq {seq} with different content"),
            )),
        };
    }
    history
        .check(&id, &new.body)
        .map_err(|r| Error::input(at(r.field()), r.to_string()))?;
    let seq = history.seq_last() + 1;
    history.apply(Event {
        seq,
        id,
        recorded_at,
        body: new.body.clone(),
    });
    Ok(Appended {
        seq,
        id,
        duplicate: false,
    })
}

fn new_v7(at: DateTime<Utc>) -> Uuid {
    let secs = u64::try_from(at.timestamp()).unwrap_or(0);
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, secs, at.timestamp_subsec_nanos());
    Uuid::new_v7(ts)
}

fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

fn open_existing(path: &Path, write: bool) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(write)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::Usage(format!(
                    "{}: no log there; create one with `stancelog --log {} init`",
                    path.display(),
                    path.display()
                ))
            } else {
                Error::io(path.display(), e)
            }
        })
}

fn lock(file: &File, path: &Path, wait: Duration) -> Result<()> {
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) => {
                if Instant::now() >= deadline {
                    return Err(Error::io(
                        path.display(),
                        std::io::Error::new(
                            std::io::ErrorKind::WouldBlock,
                            format!(
                                "another writer holds the log's lock; gave up after {:.1} s (see --wait)",
                                wait.as_secs_f64()
                            ),
                        ),
                    ));
                }
                thread::sleep(Duration::from_millis(5));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(path.display(), e)),
        }
    }
}

/// Syncs the directory holding `path`, so that a newly created file's entry is durable.
fn sync_dir(path: &Path) -> Result<()> {
    let dir: PathBuf = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir.display(), e))
}
