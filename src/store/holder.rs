//! The writer record beside a log (`PATH.writer`): which process holds the log's writer lock,
//! and whether it is writing a batch right now.
//!
//! A [`Writer`](super::Writer) writes `pid N start T` into the record when it takes the log's
//! lock (`T`: the process's start time, field 22 of `/proc/N/stat`, so a pid used again by
//! another process is not taken for the writer), and holds an exclusive lock on the record for
//! as long as it writes a batch: from cutting a torn tail off to `fdatasync`, or to cutting a
//! failed write off again. A reader that finds a torn tail while the log's lock is held
//! ([`Log::recheck_tail`](super::Log::recheck_tail)) tries a shared lock on the record without
//! waiting: if a writer holds it, the tail is the batch being written; if not, no batch is being
//! written, and none can start while the reader holds the record's lock, so a torn tail still
//! there when the reader looks again was left by a crash, whoever holds the log's lock.
//!
//! The record is a hint for people and a lock for `verify`; nothing else reads it. A writer
//! that cannot create it (a directory it cannot write) appends all the same, and `verify` then
//! cannot tell its batch from a crash's tail while it writes (it reports a torn tail). A writer
//! that cannot open the log (not a log, a bad line) removes a record it made
//! ([`WriterRecord::withdraw`]); one it found stays.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Where the writer record of the log at `log` is: the log's path with `.writer` added.
pub fn writer_record_path(log: &Path) -> PathBuf {
    let mut p = log.as_os_str().to_owned();
    p.push(".writer");
    PathBuf::from(p)
}

/// The record as its writer holds it open.
#[derive(Debug)]
pub(crate) struct WriterRecord {
    file: File,
    /// This process made the file (it was not there).
    made: bool,
}

impl WriterRecord {
    /// Creates (or rewrites) the record of the log at `log` for this process, which must hold
    /// the log's lock. `None` when that fails.
    pub(crate) fn claim(log: &Path) -> Option<WriterRecord> {
        let path = writer_record_path(log);
        let mut open = OpenOptions::new();
        open.read(true).write(true);
        // Made here (`create_new`) or found: a writer that cannot open the log removes only a
        // record it made (`withdraw`).
        let (mut file, made) = match open.clone().create_new(true).open(&path) {
            Ok(f) => (f, true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                (open.open(&path).ok()?, false)
            }
            Err(_) => return None,
        };
        let pid = std::process::id();
        let start = process_start(pid).unwrap_or(0);
        file.set_len(0).ok()?;
        file.write_all(format!("pid {pid} start {start}\n").as_bytes())
            .ok()?;
        Some(WriterRecord { file, made })
    }

    /// Gives the record of the log at `log` up when the log could not be opened (not a log, a
    /// bad line), the log's lock still held: a record this process made is removed, so a
    /// refused command leaves nothing it did not find; one found is left as it is.
    pub(crate) fn withdraw(self, log: &Path) {
        if self.made {
            let _ = std::fs::remove_file(writer_record_path(log));
        }
    }

    /// The record through another descriptor of the same open file (its lock is the same
    /// lock), for a thread that writes a batch.
    pub(crate) fn try_clone(&self) -> std::io::Result<WriterRecord> {
        self.file.try_clone().map(|file| WriterRecord {
            file,
            made: self.made,
        })
    }

    /// Holds the record's exclusive lock until the guard is dropped: a batch is being written.
    /// Readers never hold the record's lock for longer than one look at the log's tail.
    pub(crate) fn writing(&self) -> Writing<'_> {
        // A failure to lock leaves the guard without a lock: verify then reports the tail.
        let locked = self.file.lock().is_ok();
        Writing(locked.then_some(&self.file))
    }
}

/// A batch being written: the record's exclusive lock, released on drop.
pub(crate) struct Writing<'a>(Option<&'a File>);

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        if let Some(f) = self.0 {
            let _ = f.unlock();
        }
    }
}

/// What the writer record of a log says while another process holds the log's lock.
#[derive(Debug)]
pub(crate) enum Probe {
    /// A writer holds the record's lock: it is writing a batch. Its pid, if the record names a
    /// live process.
    Writing(Option<u32>),
    /// No batch is being written; none can start while `guard` (the record's shared lock, if
    /// there is a record) is held. The pid of the writer holding the log's lock, if the record
    /// names a live process.
    Idle {
        guard: Option<File>,
        pid: Option<u32>,
    },
}

/// Looks at the writer record of the log at `log` without waiting.
///
/// # Errors
/// An I/O error other than the record's absence or a lock held by another process.
pub(crate) fn probe(log: &Path) -> std::io::Result<Probe> {
    let mut file = match File::open(writer_record_path(log)) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Probe::Idle {
                guard: None,
                pid: None,
            });
        }
        Err(e) => return Err(e),
    };
    let mut text = String::new();
    // A record being rewritten may read short: then it names no one.
    let _ = (&mut file).take(64).read_to_string(&mut text);
    let pid = live_pid(&text);
    match file.try_lock_shared() {
        Err(TryLockError::WouldBlock) => Ok(Probe::Writing(pid)),
        Err(TryLockError::Error(e)) => Err(e),
        Ok(()) => Ok(Probe::Idle {
            guard: Some(file),
            pid,
        }),
    }
}

/// The pid a record names, if that process is running and started when the record says (so
/// the pid was not reused since).
fn live_pid(record: &str) -> Option<u32> {
    let mut words = record.split_whitespace();
    let (Some("pid"), Some(pid), Some("start"), Some(start)) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return None;
    };
    let pid: u32 = pid.parse().ok()?;
    let start: u64 = start.parse().ok()?;
    (process_start(pid) == Some(start)).then_some(pid)
}

/// When process `pid` started, in clock ticks after boot (`/proc/PID/stat`, field 22); `None`
/// when there is no such process (or no `/proc`).
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
    let rest = &stat[stat.rfind(')')? + 1..];
    // `rest` starts at field 3.
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_names_its_writer_only_while_that_process_runs() {
        let me = std::process::id();
        let start = process_start(me).expect("this process has a start time");
        assert_eq!(live_pid(&format!("pid {me} start {start}\n")), Some(me));
        // The same pid with another start time: the pid was used again.
        assert_eq!(live_pid(&format!("pid {me} start {}\n", start + 1)), None);
        assert_eq!(live_pid(""), None);
        assert_eq!(live_pid("pid x start 1"), None);
    }

    #[test]
    fn a_writer_record_is_busy_only_while_a_batch_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.jsonl");
        assert!(matches!(
            probe(&log).unwrap(),
            Probe::Idle {
                guard: None,
                pid: None
            }
        ));
        let record = WriterRecord::claim(&log).unwrap();
        let me = Some(std::process::id());
        match probe(&log).unwrap() {
            Probe::Idle { guard, pid } => assert!(guard.is_some() && pid == me),
            other => panic!("{other:?}"),
        }
        let writing = record.writing();
        assert!(matches!(probe(&log).unwrap(), Probe::Writing(pid) if pid == me));
        drop(writing);
        assert!(matches!(probe(&log).unwrap(), Probe::Idle { .. }));
    }
}
