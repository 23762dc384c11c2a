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
use super::index::{Index, IndexUse};
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
    /// The log as folded up to the high-water mark; for a follower on the index, the events
    /// after the mark before the last catch-up, and what printing them needs.
    log: Log,
    /// Set for a follower on the projection index ([`Follower::open_at`]).
    indexed: Option<Indexed>,
}

/// A follower on the projection index: its log and high-water mark.
struct Indexed {
    target: LogRef,
    mark: Seq,
    /// The most seqs one catch-up reads ([`CATCH_UP_SEQS_MAX`]; fewer in tests).
    chunk: Seq,
}

/// How long [`Follower::reconnect`] waits for the old connection to answer before it counts as
/// lost.
const CONNECTION_CHECK: Duration = Duration::from_secs(5);

/// The most seqs one catch-up of a follower on the index reads (the rest is read by the next
/// one, at once: [`CatchUp::more`]).
pub const CATCH_UP_SEQS_MAX: Seq = 1 << 16;

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
    /// PostgreSQL only: a gap that is being waited for: the first seq after the mark that is
    /// not visible, and the first visible seq after it. Never with stancelog's own writers.
    pub held_back: Option<(Seq, Seq)>,
    /// More seqs can be read at once (a follower on the index reads at most
    /// `CATCH_UP_SEQS_MAX` per catch-up).
    pub more: bool,
}

impl Follower {
    /// A follower of `target` that has read nothing yet. On PostgreSQL, connects and listens.
    ///
    /// # Errors
    /// [`Error::Io`] when the server cannot be reached.
    pub fn open(target: &LogRef) -> Result<Follower> {
        Ok(Follower {
            source: Follower::source(target)?,
            log: Log::empty(),
            indexed: None,
        })
    }

    /// A follower of `target` from seq `from` on (`None`: from the log's end), which reads
    /// nothing of the log before it: it reads the log through its projection index
    /// ([`Index::open_log`]: beside a file log, in the local cache folder of a PostgreSQL
    /// log), which each catch-up brings up to the log's end (checking and folding only what
    /// was appended since: see `store::index`), then takes from it the new events and what
    /// printing them needs ([`Index::history_of_seqs`]). Gives the follower, the log's
    /// registrations, alias links and roles (to resolve names), and the log's last seq now;
    /// `None` when the index cannot be written (then [`Follower::open`] folds the whole log).
    ///
    /// On PostgreSQL, a gap after the mark (a row inserted by hand) holds the follower at the
    /// mark, the rows before the gap too, until it fills ([`CatchUp::held_back`]).
    ///
    /// # Errors
    /// Those of [`Follower::open`] and [`Index::open_log`].
    pub fn open_at(target: &LogRef, from: Option<Seq>) -> Result<Option<(Follower, History, Seq)>> {
        let source = Follower::source(target)?;
        // A log the index cannot be had for (a gap in a table: a row inserted by hand;
        // damage) is folded from its start instead, which waits at a gap or tells the error.
        let mut index = match Index::open_log(target) {
            Ok((index, _)) if !index.in_memory_only() => index,
            _ => return Ok(None),
        };
        let end = index.seq_last();
        let registry = index.read_or_rebuild(target, |ix| ix.registry())?;
        let mark = from.map_or(end, |f| f.saturating_sub(1).min(end));
        let follower = Follower {
            source,
            log: Log::empty(),
            indexed: Some(Indexed {
                target: target.clone(),
                mark,
                chunk: CATCH_UP_SEQS_MAX,
            }),
        };
        Ok(Some((follower, registry, end)))
    }

    /// What a follower of `target` reads from and waits on; on PostgreSQL, connects and
    /// listens.
    fn source(target: &LogRef) -> Result<Source> {
        let source = match target {
            LogRef::File(path) => Source::File {
                path: path.clone(),
                seen_len: None,
            },
            LogRef::Postgres(pg) => Source::Postgres {
                pg: pg.clone(),
                client: Box::new(listen(pg)?),
                read_at: Instant::now(),
                notified: true,
            },
        };
        Ok(source)
    }

    /// After an error of [`Follower::catch_up`] or [`Follower::wait`] on PostgreSQL: whether
    /// the follower's connection was lost, and if so a new one, listening again. Gives
    /// `Ok(false)` for a file log, or when the connection still answers (the error was not a
    /// lost connection: it stands), `Ok(true)` once connected again; the next catch-up then
    /// reads from the high-water mark, so nothing committed meanwhile is missed or repeated
    /// (notifications sent while it was away are lost, so it reads at once).
    ///
    /// # Errors
    /// [`Error::Io`] when the server cannot be reached yet (try again later).
    pub fn reconnect(&mut self) -> Result<bool> {
        let Source::Postgres {
            pg,
            client,
            notified,
            ..
        } = &mut self.source
        else {
            return Ok(false);
        };
        if !client.is_closed() && client.is_valid(CONNECTION_CHECK).is_ok() {
            return Ok(false);
        }
        **client = listen(pg)?;
        *notified = true;
        Ok(true)
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
        if self.indexed.is_some() {
            return self.catch_up_indexed();
        }
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
            more: false,
        })
    }

    /// [`Follower::catch_up`] of a follower on the index: the index brought up to the log's
    /// end, and the events after the mark (at most [`CATCH_UP_SEQS_MAX`]) taken from it.
    fn catch_up_indexed(&mut self) -> Result<CatchUp> {
        let Some(ix) = &mut self.indexed else {
            unreachable!("a follower on the index");
        };
        let mark = ix.mark;
        let held = |held_back| CatchUp {
            seq_last: mark,
            held_back,
            more: false,
        };
        match &mut self.source {
            Source::File { path, seen_len } => {
                // Before the index reads it: a batch appended after this is seen by `wait`.
                let len = fs::metadata(&*path).map_err(|e| Error::io(path.display(), e))?;
                *seen_len = Some(len.len());
            }
            Source::Postgres {
                read_at, notified, ..
            } => {
                *read_at = Instant::now();
                *notified = false;
            }
        }
        let mut index = match Index::open_log(&ix.target) {
            Ok((_, IndexUse::Rebuilt { reason })) if mark > 0 => {
                // Not only damage: the log may have been replaced by another one.
                return Err(Error::Usage(format!(
                    "{}: the index was discarded ({reason}) after seq {mark} was read: if the log was replaced, what follows is another log's",
                    ix.target
                )));
            }
            Ok((index, _)) => index,
            Err(e) => {
                // A gap after the mark (a row inserted by hand) makes every read past it
                // fail: held until it fills, with the seqs to warn about.
                if let Source::Postgres { pg, client, .. } = &mut self.source
                    && let Ok(Some((run_end, Some(visible)))) = run_after(pg, client, mark)
                {
                    return Ok(held(Some((run_end + 1, visible))));
                }
                return Err(e);
            }
        };
        let end = index.seq_last();
        if end < mark {
            return Err(Error::Usage(format!(
                "{}: the log now ends at seq {end}, before seq {mark}, already read: it was cut or replaced",
                ix.target
            )));
        }
        let upto = end.min(mark + ix.chunk);
        if upto > mark {
            let target = ix.target.clone();
            self.log.history =
                index.read_or_rebuild(&target, |i| i.history_of_seqs(mark + 1, upto))?;
        }
        if let Some(ix) = &mut self.indexed {
            ix.mark = upto;
        }
        Ok(CatchUp {
            seq_last: upto,
            held_back: None,
            more: upto < end,
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

/// A connection to `pg` that listens on [`NOTIFY_CHANNEL`].
fn listen(pg: &PgLog) -> Result<Client> {
    let mut client = pg.connect()?;
    client
        .batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}"))
        .map_err(|e| pg.err(e))?;
    Ok(client)
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
/// gives the gap after it (the first seq missing, the first visible after it), if one is
/// visible.
fn read_pg(pg: &PgLog, client: &mut Client, log: Log) -> Result<(Log, Option<(Seq, Seq)>)> {
    let Some((run_end, after_gap)) = run_after(pg, client, log.history.seq_last())? else {
        return Ok((log, None));
    };
    let log = pg.read_through(client, Some(log), Some(run_end))?;
    Ok((log, after_gap.map(|v| (run_end + 1, v))))
}

/// How the committed rows after seq `after` stand: `None` when there are none; else the end
/// of the run of seqs contiguous with `after`, and the first seq visible after the gap that
/// ends it (`None` when there is no gap).
fn run_after(pg: &PgLog, client: &mut Client, after: Seq) -> Result<Option<(Seq, Option<Seq>)>> {
    let last = after as i64;
    let row = client
        .query_one(
            "SELECT count(*), coalesce(max(seq), 0) FROM stancelog.records WHERE seq > $1",
            &[&last],
        )
        .map_err(|e| pg.err(e))?;
    let (count, max): (i64, i64) = (row.get(0), row.get(1));
    if count == 0 {
        return Ok(None);
    }
    if max - last == count {
        return Ok(Some((max as Seq, None)));
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
    Ok(Some((run_end as Seq, after_gap.map(|s| s as Seq))))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Follower;
    use crate::store::{AppendOptions, Log, LogRef, append, parse_batch};

    /// A follower on the index reads at most its chunk of seqs per catch-up and says there is
    /// more; each catch-up's history holds every seq it covers (the watch loop prints them
    /// all, then catches up again at once).
    #[test]
    fn a_follower_on_the_index_reads_a_long_way_in_chunks_each_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        Log::create(&path).unwrap();
        let log = LogRef::File(path);
        let mut text = String::from(
            "{\"type\":\"actor.registered\",\"actor\":\"a\",\"name\":\"A\",\"kind\":\"state\",\"country\":\"KOR\",\"sector\":\"GOV\"}\n",
        );
        for i in 0..9 {
            text += &format!(
                "{{\"type\":\"topic.registered\",\"topic\":\"t{i}\",\"title\":\"T\",\"kind\":\"policy\"}}\n"
            );
        }
        let opts = AppendOptions {
            recorded_at: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
            expect_seq: None,
            wait: Duration::from_secs(5),
        };
        append(
            &log,
            &parse_batch("t", text.as_bytes()).unwrap(),
            "t",
            &opts,
        )
        .unwrap();
        let (mut f, registry, end) = Follower::open_at(&log, Some(2)).unwrap().unwrap();
        assert_eq!((end, registry.seq_last()), (10, 10));
        f.indexed.as_mut().unwrap().chunk = 3;
        let mut got = Vec::new();
        loop {
            let c = f.catch_up().unwrap();
            let held: Vec<u64> = (1..=10)
                .filter(|s| f.history().event(*s).is_some())
                .collect();
            got.push((c.seq_last, c.more, held));
            if !c.more {
                break;
            }
        }
        assert_eq!(
            got,
            vec![
                (4, true, vec![2, 3, 4]),
                (7, true, vec![5, 6, 7]),
                (10, false, vec![8, 9, 10])
            ]
        );
    }
}
