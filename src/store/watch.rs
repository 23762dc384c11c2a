//! Following a log as it grows: the store half of `stancelog watch`, a catch-up subscription.
//!
//! A [`Follower`] keeps the log folded up to a **high-water mark**: the last seq of the longest
//! run of complete batches, contiguous from seq 1, that it has read. [`Follower::catch_up`]
//! folds what was appended after the mark and moves the mark to the end of that run, never
//! past a seq it has not read, so a caller that prints seqs up to the mark, in order, prints
//! each seq exactly once and skips none.
//!
//! Why no seq can be passed over:
//! - **File log.** A batch is written by one writer at a time (the file's lock), at the file's
//!   end, with seqs in file order; a batch still being written is a torn tail (its last record
//!   is missing), which the read leaves out and reads again on the next look. The follower reads
//!   only bytes after the mark's offset, so it reads each record once.
//! - **PostgreSQL log.** Seqs are assigned under the append path's advisory transaction lock
//!   ([`LOCK_KEY`](super::LOCK_KEY)), which the server releases only after the committing
//!   transaction is visible to new snapshots; the next writer reads the log's end inside that
//!   lock. So seq N+1 is committed only after N is visible: seqs become visible in seq order,
//!   and "every committed seq after the mark" is always a contiguous run (Marten's
//!   high-water-mark bug, a seq taken by a transaction that commits after a later one, cannot
//!   arise). Should a gap be visible all the same (a row inserted by hand, outside stancelog's
//!   append path), the follower still advances only to the end of the contiguous run before
//!   the gap and reads again later: a row after a gap is held back, never skipped
//!   ([`CatchUp::held_back`] says so, for a warning).
//!
//! Waking up: a PostgreSQL follower `LISTEN`s on [`NOTIFY_CHANNEL`] (every append notifies
//! it, delivered at its commit) before its first read, so no commit falls between a read and
//! the wait; it also reads again every [`PG_REREAD`] without a notification (a safety net). A
//! file follower checks the file's length every time it waits ([`FILE_POLL`], chosen by the
//! caller) and reads only the new tail.

use std::fs;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use postgres::Client;
use postgres::fallible_iterator::FallibleIterator;

use super::backend::LogRef;
use super::log::{CHUNK_BYTES, Log, open_read};
use super::postgres::{NOTIFY_CHANNEL, PgLog};
use crate::core::{History, Seq};
use crate::error::{Error, Result};

/// How often a file follower is meant to look at the file's length (the CLI's wait between
/// two looks): an `fstat` each time, cheap enough to keep new events within a tenth of a
/// second.
pub const FILE_POLL: Duration = Duration::from_millis(100);

/// How long a PostgreSQL follower goes without a notification before it reads again anyway.
pub const PG_REREAD: Duration = Duration::from_secs(5);

/// A log followed as it grows. See the module docs.
pub struct Follower {
    source: Source,
    log: Log,
}

enum Source {
    File {
        path: PathBuf,
        /// The file's length at the last read.
        seen_len: Option<u64>,
    },
    Postgres {
        pg: Box<PgLog>,
        client: Box<Client>,
        /// When the log was last read.
        read_at: Instant,
        /// A notification arrived since the last read.
        notified: bool,
    },
}

/// What one [`Follower::catch_up`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchUp {
    /// The high-water mark: every seq up to it has been read (0 for an empty log).
    pub seq_last: Seq,
    /// PostgreSQL only: a committed seq after a gap that is being waited for (the first seq
    /// visible after the mark + 1, which is not visible). Never with stancelog's own writers.
    pub held_back: Option<Seq>,
}

impl Follower {
    /// A follower of `target` that has read nothing yet. On PostgreSQL, connects and listens.
    ///
    /// # Errors
    /// [`Error::Io`] when the server cannot be reached.
    pub fn open(target: &LogRef) -> Result<Follower> {
        let source = match target {
            LogRef::File(path) => Source::File {
                path: path.clone(),
                seen_len: None,
            },
            LogRef::Postgres(pg) => {
                let mut client = pg.connect()?;
                client
                    .batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}"))
                    .map_err(|e| pg.err(e))?;
                Source::Postgres {
                    pg: pg.clone(),
                    client: Box::new(client),
                    read_at: Instant::now(),
                    notified: true,
                }
            }
        };
        Ok(Follower {
            source,
            log: Log::empty(),
        })
    }

    /// The log as folded up to the high-water mark.
    pub fn history(&self) -> &History {
        &self.log.history
    }

    /// Folds what was appended after the high-water mark, and moves the mark to the end of
    /// what it read (see the module docs).
    ///
    /// # Errors
    /// [`Error::Usage`] when there is no log file; [`Error::Input`] naming the seq and field of
    /// a bad record, or a file now shorter than what was read (the log was cut or replaced);
    /// [`Error::Io`] when a read fails.
    pub fn catch_up(&mut self) -> Result<CatchUp> {
        let log = std::mem::replace(&mut self.log, Log::empty());
        let (log, held_back) = match &mut self.source {
            Source::File { path, seen_len } => (read_file(path, seen_len, log)?, None),
            Source::Postgres {
                pg,
                client,
                read_at,
                notified,
            } => {
                *read_at = Instant::now();
                *notified = false;
                read_pg(pg, client, log)?
            }
        };
        self.log = log;
        Ok(CatchUp {
            seq_last: self.log.history.seq_last(),
            held_back,
        })
    }

    /// Waits up to `timeout` for a sign that the log may have grown, and says whether
    /// [`Follower::catch_up`] should read it: a file whose length changed (looked at once, after
    /// sleeping `timeout`), or a notification from PostgreSQL (or [`PG_REREAD`] without one).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be looked at or the connection fails.
    pub fn wait(&mut self, timeout: Duration) -> Result<bool> {
        match &mut self.source {
            Source::File { path, seen_len } => {
                std::thread::sleep(timeout);
                let len = fs::metadata(&*path)
                    .map_err(|e| Error::io(path.display(), e))?
                    .len();
                Ok(Some(len) != *seen_len)
            }
            Source::Postgres {
                pg,
                client,
                read_at,
                notified,
            } => {
                let mut notes = client.notifications();
                let woken = notes.timeout_iter(timeout).next();
                if woken.map_err(|e| pg.err(e))?.is_some() {
                    *notified = true;
                    // Drain what else has arrived: one read covers them all.
                    let mut more = notes.iter();
                    while more.next().map_err(|e| pg.err(e))?.is_some() {}
                }
                Ok(*notified || read_at.elapsed() >= PG_REREAD)
            }
        }
    }
}

/// Folds the file's bytes after `log`'s last complete batch.
fn read_file(path: &Path, seen_len: &mut Option<u64>, log: Log) -> Result<Log> {
    let io = |e| Error::io(path.display(), e);
    let mut file = open_read(path)?;
    let len = file.metadata().map_err(io)?.len();
    if len < log.valid_len {
        return Err(Error::Usage(format!(
            "{}: the log is now {len} bytes long, shorter than the {} bytes already read: it was cut or replaced",
            path.display(),
            log.valid_len
        )));
    }
    *seen_len = Some(len);
    if len == log.valid_len {
        return Ok(log);
    }
    let name = path.display().to_string();
    if log.final_newline_missing {
        // The next append wrote the newline its last line lacked: read the file again whole
        // (the fold gives the same seqs, and the mark stays where it was).
        return Log::resume(&name, file, None, CHUNK_BYTES);
    }
    file.seek(SeekFrom::Start(log.valid_len)).map_err(io)?;
    Log::resume(&name, file, Some(log), CHUNK_BYTES)
}

/// Folds the records committed after `log`'s last seq, up to the end of their contiguous run;
/// gives the first seq after a gap, if one is visible.
fn read_pg(pg: &PgLog, client: &mut Client, log: Log) -> Result<(Log, Option<Seq>)> {
    let last = log.history.seq_last() as i64;
    let row = client
        .query_one(
            "SELECT count(*), coalesce(max(seq), 0) FROM stancelog.records WHERE seq > $1",
            &[&last],
        )
        .map_err(|e| pg.err(e))?;
    let (count, max): (i64, i64) = (row.get(0), row.get(1));
    if count == 0 {
        return Ok((log, None));
    }
    if max - last == count {
        let log = pg.read_through(client, Some(log), Some(max as Seq))?;
        return Ok((log, None));
    }
    // A gap: read only the run contiguous with the mark (committed rows never disappear, so
    // the run found here is still whole when read).
    let run_end: i64 = client
        .query_one(
            "SELECT min(s.seq) FROM (
                 SELECT $1::bigint AS seq UNION ALL
                 SELECT seq FROM stancelog.records WHERE seq > $1) s
             WHERE NOT EXISTS (SELECT 1 FROM stancelog.records q WHERE q.seq = s.seq + 1)",
            &[&last],
        )
        .map_err(|e| pg.err(e))?
        .get(0);
    // None when the gap has filled since the first look.
    let after_gap: Option<i64> = client
        .query_one(
            "SELECT min(seq) FROM stancelog.records WHERE seq > $1",
            &[&(run_end + 1)],
        )
        .map_err(|e| pg.err(e))?
        .get(0);
    let log = pg.read_through(client, Some(log), Some(run_end as Seq))?;
    Ok((log, after_gap.map(|s| s as Seq)))
}
