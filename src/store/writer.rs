//! Appending: one writer at a time, all of a batch or nothing, durable before acknowledged.
//!
//! Durability promises (see ARCHITECTURE.md): when [`Writer::append`] returns `Ok`, the batch has
//! been written with one `write` and `fdatasync`ed, so it survives a process crash and a power
//! loss, assuming the disk honours `fdatasync`. Until then, a crash may leave part of the batch
//! on disk; readers ignore it as a torn tail and the next append removes it.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::batch::NewEvent;
use super::chain::{GENESIS_HASH, HASH_HEX_LEN, HASH_KEY, Hash, hash_input, link};
use super::log::{LINE_BYTES_MAX, Log, missing_or_io};
use super::record::Record;
use crate::core::{Event, Seq};
use crate::error::{Error, Location, Result};

/// How to append.
#[derive(Debug, Clone)]
pub struct AppendOptions {
    /// The recorded time to stamp on the batch (UTC, kept to the microsecond). If the log's last
    /// recorded time is not earlier, one microsecond after it is used instead, so recorded time
    /// rises strictly from batch to batch.
    pub recorded_at: DateTime<Utc>,
    /// Append only if the log's last seq is this (expected version); `None` = no check. A batch
    /// whose every event is already in the log (a retry) succeeds whatever this says.
    pub expect_seq: Option<Seq>,
    /// How long [`append`] waits for another writer's lock before failing.
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
    /// Bytes of a torn tail removed before appending (0 when there was none).
    pub torn_bytes_removed: u64,
    /// Whole records in that tail: the start of a batch never acknowledged (its last record was
    /// never written), with seqs from the log's last seq + 1 on.
    pub torn_records_removed: u64,
}

/// The log's one writer: holds the exclusive lock and the folded log for as long as it lives,
/// so repeated appends do not re-read the file.
#[derive(Debug)]
pub struct Writer {
    path: PathBuf,
    file: File,
    log: Log,
}

impl Writer {
    /// Opens the log at `path` for appending: takes its exclusive lock, waiting up to `wait`
    /// for another writer, then reads and folds it.
    ///
    /// # Errors
    /// [`Error::Usage`] when there is no log; [`Error::Io`] when the lock is not had in time or
    /// the file cannot be read; [`Error::Input`] for a bad stored record.
    pub fn open(path: &Path, wait: Duration) -> Result<Writer> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| missing_or_io(path, e))?;
        lock(&file, path, wait)?;
        let log = Log::read(&path.display().to_string(), &file)?;
        Ok(Writer {
            path: path.to_path_buf(),
            file,
            log,
        })
    }

    /// The log as of the last append.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// Appends a batch: all events or none.
    ///
    /// Checks every event in order against the log and the batch before it; an event whose id
    /// is already in the log with identical content is not stored again and is reported with
    /// its original seq (idempotent append). Then checks `opts.expect_seq` (unless nothing is
    /// new), removes a torn tail if there is one, writes the new records with one `write`, and
    /// `fdatasync`s. `source` names the batch input in error messages.
    ///
    /// # Errors
    /// [`Error::Input`] naming the batch line and field of the first refused event (including
    /// an id already used with other content); [`Error::Conflict`] when `expect_seq` does not
    /// match; [`Error::Io`] when the disk fails. On any error before the write, the log's bytes
    /// and this writer's state are unchanged.
    pub fn append(
        &mut self,
        batch: &[NewEvent],
        source: &str,
        opts: &AppendOptions,
    ) -> Result<AppendReport> {
        // Recorded time rises strictly from batch to batch, so that a "known at T" answer for a T
        // already in the log never changes when later batches arrive.
        let recorded_at = match self.log.recorded_at_last {
            Some(last) if last >= truncate_to_micros(opts.recorded_at) => {
                last + chrono::TimeDelta::microseconds(1)
            }
            _ => truncate_to_micros(opts.recorded_at),
        };
        let seq_before = self.log.history.seq_last();
        // Stage, check and encode; on any refusal the staged events are rolled back here.
        let staged = self.stage_batch(batch, source, opts, recorded_at);
        let (report, out, head) = match staged {
            Ok(staged) => staged,
            Err(e) => {
                self.log.history.rollback_to(seq_before);
                return Err(e);
            }
        };
        let seq_last = self.log.history.seq_last();
        let torn = self.log.torn_tail_bytes;
        let torn_records = self.log.torn_tail_records;
        if let Err(e) = self.write(&out, torn) {
            self.log.history.rollback_to(seq_before);
            return Err(e);
        }
        self.log.valid_len += out.len() as u64;
        self.log.torn_tail_bytes = 0;
        self.log.torn_tail_records = 0;
        if seq_last > seq_before {
            self.log.head = head;
            self.log.recorded_at_last = Some(recorded_at);
        }
        Ok(AppendReport {
            events: report,
            torn_bytes_removed: torn,
            torn_records_removed: torn_records,
        })
    }

    /// Stages every event of the batch into the folded log, checks the expected seq and the
    /// stored line lengths, and encodes the new records. Leaves rolling back to the caller.
    fn stage_batch(
        &mut self,
        batch: &[NewEvent],
        source: &str,
        opts: &AppendOptions,
        recorded_at: DateTime<Utc>,
    ) -> Result<(Vec<Appended>, Vec<u8>, Hash)> {
        let seq_before = self.log.history.seq_last();
        let report = batch
            .iter()
            .map(|new| stage(&mut self.log, new, recorded_at, source))
            .collect::<Result<Vec<_>>>()?;
        let seq_last = self.log.history.seq_last();
        if let Some(expected) = opts
            .expect_seq
            .filter(|e| *e != seq_before && seq_last > seq_before)
        {
            return Err(Error::Conflict {
                expected,
                found: seq_before,
            });
        }
        let history = &self.log.history;
        let staged: Vec<Event> = (seq_before + 1..=seq_last)
            .filter_map(|s| history.event(s))
            .collect();
        let (out, head) = encode_batch(&self.log.head, &staged);
        // The stored line is longer than the input (seq, id, hash...): check what readers will see.
        let new_lines = batch.iter().zip(&report).filter(|(_, a)| !a.duplicate);
        for (line, (new, _)) in out.split(|&b| b == b'\n').zip(new_lines) {
            if line.len() > LINE_BYTES_MAX {
                return Err(Error::input(
                    Location {
                        file: source.to_string(),
                        line: Some(new.line),
                        field: None,
                    },
                    format!(
                        "stored, this event would be a line of {} bytes, more than LINE_BYTES_MAX ({LINE_BYTES_MAX})",
                        line.len()
                    ),
                ));
            }
        }
        Ok((report, out, head))
    }

    fn write(&mut self, out: &[u8], torn: u64) -> Result<()> {
        let io = |e| Error::io(self.path.display(), e);
        if torn > 0 {
            self.file.set_len(self.log.valid_len).map_err(io)?;
        }
        if !out.is_empty() || torn > 0 {
            self.file
                .seek(SeekFrom::Start(self.log.valid_len))
                .map_err(io)?;
            self.file.write_all(out).map_err(io)?;
            self.file.sync_data().map_err(io)?;
        }
        Ok(())
    }
}

/// Appends a batch to the log at `path`: opens a [`Writer`] (waiting up to `opts.wait` for the
/// lock), appends, and releases the lock.
///
/// # Errors
/// Those of [`Writer::open`] and [`Writer::append`].
pub fn append(
    path: &Path,
    batch: &[NewEvent],
    source: &str,
    opts: &AppendOptions,
) -> Result<AppendReport> {
    Writer::open(path, opts.wait)?.append(batch, source, opts)
}

impl Log {
    /// Creates an empty log file, and syncs it and its directory to disk.
    ///
    /// # Errors
    /// [`Error::Usage`] when something already exists at `path`; [`Error::Io`] otherwise.
    pub fn create(path: &Path) -> Result<()> {
        create(path)
    }
}

fn create(path: &Path) -> Result<()> {
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

/// Batches at least this long are serialized on several threads.
const PARALLEL_ENCODE_EVENTS: usize = 1024;

/// Serializes events as the stored records of one batch following `prev`: canonical JSON lines
/// of the current schema, each with `batch_last` and its chained `hash`. Returns the bytes and
/// the new head hash.
///
/// The lines of a large batch are serialized on worker threads, each with a placeholder hash;
/// the chain, which is sequential, is then computed line by line and written in place.
pub fn encode_batch(prev: &Hash, events: &[Event]) -> (Vec<u8>, Hash) {
    let batch_last = events.last().map(|e| e.seq);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let parts: Vec<Vec<u8>> = if events.len() < PARALLEL_ENCODE_EVENTS || workers == 1 {
        vec![serialize_lines(events, batch_last)]
    } else {
        let per = events.len().div_ceil(workers);
        std::thread::scope(|scope| {
            let handles: Vec<_> = events
                .chunks(per)
                .map(|chunk| scope.spawn(move || serialize_lines(chunk, batch_last)))
                .collect();
            handles
                .into_iter()
                // A worker that panicked is a bug: pass the panic on rather than lose its lines.
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for part in &parts {
        out.extend_from_slice(part);
    }
    let mut head = *prev;
    let mut start = 0;
    while start < out.len() {
        let end = memchr::memchr(b'\n', &out[start..]).map_or(out.len(), |i| start + i);
        let line = &mut out[start..end];
        let linked =
            hash_input(line).map(|(before, after)| (link(&head, &[before, after]), before.len()));
        if let Some((next, before_len)) = linked {
            head = next;
            let at = before_len + HASH_KEY.len();
            line[at..at + HASH_HEX_LEN].copy_from_slice(head.to_hex().as_bytes());
        }
        start = end + 1;
    }
    (out, head)
}

/// The stored lines of `events`, each with `batch_last` and a placeholder hash of the right
/// length (overwritten once the chain is known).
fn serialize_lines(events: &[Event], batch_last: Option<u64>) -> Vec<u8> {
    let placeholder = GENESIS_HASH.to_hex();
    let mut out = Vec::with_capacity(events.len() * 320);
    for event in events {
        let mut record = Record::from_event(event);
        record.batch_last = batch_last;
        record.hash = Some(placeholder.clone());
        // Serializing a struct of strings and integers into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, &record);
        out.push(b'\n');
    }
    out
}

/// Serializes a whole log, each event a batch of its own, from the genesis hash: the bytes a
/// log file would hold had each event been appended alone. For tests, benchmarks and tools.
pub fn encode_log(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut head = GENESIS_HASH;
    for e in events {
        let (bytes, next) = encode_batch(&head, std::slice::from_ref(e));
        out.extend_from_slice(&bytes);
        head = next;
    }
    out
}

/// Checks one batch event and applies it to the writer's log.
fn stage(
    log: &mut Log,
    new: &NewEvent,
    recorded_at: DateTime<Utc>,
    source: &str,
) -> Result<Appended> {
    let history = &mut log.history;
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
                thread::sleep(Duration::from_millis(2));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(path.display(), e)),
        }
    }
}

/// Syncs the directory holding `path`, so that a newly created file's entry is durable.
pub(crate) fn sync_dir(path: &Path) -> Result<()> {
    let dir: PathBuf = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir.display(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::parse_batch;

    /// A batch long enough to be serialized on several threads reads back as the same events,
    /// with a hash chain that verifies: the lines are in order and each hash is the right one.
    #[test]
    fn a_large_batch_encoded_in_parallel_reads_back_whole() {
        let mut text = String::from(concat!(
            r#"{"type":"actor.registered","actor":"a","name":"A","kind":"state","country":"KOR","sector":"GOV"}"#,
            "\n",
            r#"{"type":"topic.registered","topic":"t","title":"T","kind":"policy"}"#,
            "\n"
        ));
        let n = PARALLEL_ENCODE_EVENTS * 3 + 7;
        for i in 0..n {
            let stance = if i % 2 == 0 { "support" } else { "oppose" };
            text.push_str(&format!(
                r#"{{"type":"stance.declared","actor":"a","topic":"t","stance":"{stance}","date":"{}","quote":"q {i}","cite":{{"publication":"P"}}}}"#,
                1000 + i % 8000
            ));
            text.push('\n');
        }
        let batch = parse_batch("batch", text.as_bytes()).unwrap();
        let recorded_at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let events: Vec<Event> = batch
            .into_iter()
            .enumerate()
            .map(|(i, e)| Event {
                seq: i as u64 + 1,
                id: Uuid::from_u128(i as u128 + 1),
                recorded_at,
                body: e.body,
            })
            .collect();
        let (bytes, head) = encode_batch(&GENESIS_HASH, &events);
        let log = Log::from_bytes("log", &bytes).unwrap();
        assert_eq!(log.history().events().collect::<Vec<_>>(), events);
        assert_eq!(log.head_hash(), head.to_hex());
        assert_eq!(log.torn_tail_bytes(), 0);
    }
}
