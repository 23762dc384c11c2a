//! Where the log an index stands for lives: the one place the projection index meets a storage
//! backend. Everything else in the index (segments, manifest, posting lists, catch-up, the
//! sparse histories queries read) is the same for both.
//!
//! - **File log** (`LOG`): the index is the folder beside it, `LOG.index/`. Its end is checked
//!   against the file's length and the line ending there; its tail is the bytes after that.
//! - **PostgreSQL log**: the index is a local cache folder, `pg-DB-KEY.index/` in
//!   [`cache_root`] (`STANCELOG_CACHE`, else `$XDG_CACHE_HOME/stancelog`, else
//!   `~/.cache/stancelog`), KEY naming the server and database (hosts, ports, database). Its
//!   end is checked with one query: the table's last seq, and the line of the seq the index
//!   ends at (its SHA-256 against the manifest's). The hash chain makes that line stand for
//!   everything before it, so an index that matches it is an index of these very records;
//!   one that does not (another database at that name, a database dropped and made again) is
//!   discarded and rebuilt. Its tail is the rows after that seq, read in one statement.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use postgres::{Client, SimpleQueryMessage};
use sha2::{Digest, Sha256};

use super::manifest::Manifest;
use super::{Match, TAIL_BYTES_MAX, check_log, line_ending_at};
use crate::error::{Error, Result};
use crate::store::backend::LogRef;
use crate::store::log::{Log, missing_or_io, must_be_regular};
use crate::store::postgres::PgLog;

/// The log behind an index, with a connection kept for the index's few queries.
pub(crate) enum Source<'a> {
    File(&'a Path),
    Postgres {
        pg: &'a PgLog,
        client: Option<Box<Client>>,
        /// The connection it was given or opened first was dropped (a read left unfinished):
        /// a later one is not handed back as if it were that one (see [`Source::into_client`]).
        dropped: bool,
    },
}

impl<'a> Source<'a> {
    pub(crate) fn of(target: &'a LogRef) -> Source<'a> {
        match target {
            LogRef::File(p) => Source::File(p),
            LogRef::Postgres(pg) => Source::Postgres {
                pg,
                client: None,
                dropped: false,
            },
        }
    }

    /// Runs `f` on the source of the PostgreSQL log `pg` that queries it on `client` (a
    /// connection of [`PgLog::connect`]'s, idle) when given, else on one it opens at its first
    /// query; then puts the connection back in `client` ([`Source::into_client`]: `None` when
    /// it was dropped).
    pub(crate) fn lent<T>(
        pg: &'a PgLog,
        client: &mut Option<Client>,
        f: impl FnOnce(&mut Source<'a>) -> T,
    ) -> T {
        let mut src = Source::on_client(pg, client.take());
        let out = f(&mut src);
        *client = src.into_client();
        out
    }

    fn on_client(pg: &'a PgLog, client: Option<Client>) -> Source<'a> {
        Source::Postgres {
            pg,
            client: client.map(Box::new),
            dropped: false,
        }
    }

    /// The connection this source opened or was given, idle, if it still has it; `None` for
    /// a file log, and when that connection was dropped (a read left unfinished), even if
    /// another was opened after it: whoever lent it holds statements prepared on it, which
    /// another connection does not know.
    fn into_client(self) -> Option<Client> {
        match self {
            Source::Postgres {
                client,
                dropped: false,
                ..
            } => client.map(|c| *c),
            Source::Postgres { dropped: true, .. } | Source::File(_) => None,
        }
    }

    /// The index's folder.
    ///
    /// # Errors
    /// [`Error::Io`] for a PostgreSQL log when no cache folder can be named (no
    /// `STANCELOG_CACHE`, `XDG_CACHE_HOME` or `HOME`).
    pub(crate) fn dir(&self) -> Result<PathBuf> {
        match self {
            Source::File(p) => Ok(super::index_path(p)),
            Source::Postgres { pg, .. } => Ok(cache_root()?.join(pg_dir_name(pg))),
        }
    }

    /// Refuses a file that is not there or is not a regular file (a usage error, as every
    /// command does); a database is checked by its first query.
    pub(crate) fn must_exist(&self) -> Result<()> {
        if let Source::File(p) = self {
            let meta = std::fs::metadata(p).map_err(|e| missing_or_io(p, e))?;
            must_be_regular(p, &meta)?;
        }
        Ok(())
    }

    fn client(&mut self) -> Result<(&PgLog, &mut Client)> {
        let Source::Postgres { pg, client, .. } = self else {
            unreachable!("a file log has no client")
        };
        if client.is_none() {
            *client = Some(Box::new(pg.connect()?));
        }
        Ok((pg, &mut **client.as_mut().expect("just connected")))
    }

    /// Runs the simple-query statements `sql` on the source's connection; the first time, in
    /// the connecting message itself ([`PgLog::connect_then`]).
    fn simple_query(&mut self, sql: &str) -> Result<Vec<SimpleQueryMessage>> {
        let Source::Postgres { pg, client, .. } = self else {
            unreachable!("a file log has no client")
        };
        match client {
            Some(c) => c.simple_query(sql).map_err(|e| pg.err(e)),
            None => {
                let (c, messages) = pg.connect_then(sql)?;
                *client = Some(Box::new(c));
                Ok(messages)
            }
        }
    }

    /// How the index with manifest `m` stands against the log.
    pub(crate) fn check(&mut self, m: &Manifest) -> Result<Match> {
        if let Source::File(p) = self {
            return check_log(p, m);
        }
        // One message, one round trip (the seq a literal: a prepared query costs three).
        let messages = self.simple_query(&format!(
            "SELECT (SELECT coalesce(max(seq), 0) FROM stancelog.records),
                    (SELECT line FROM stancelog.records WHERE seq = {})",
            m.seq
        ))?;
        let (last, line) = messages
            .iter()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some((
                    row.get(0).and_then(|v| v.parse::<u64>().ok()),
                    row.get(1).map(str::to_owned),
                )),
                _ => None,
            })
            .unwrap_or((None, None));
        let last = last.ok_or_else(|| {
            Error::io(
                self.name(),
                std::io::Error::other("the server's answer to the index's check holds no last seq"),
            )
        })?;
        if last < m.seq {
            return Ok(Match::Differs(format!(
                "the table's last seq is {last}, before the seq {} it covers: another database, or the log was restored or replaced",
                m.seq
            )));
        }
        let same = match line {
            None => m.seq == 0,
            Some(l) => <[u8; 32]>::from(Sha256::digest(l.as_bytes())) == m.tail_sum,
        };
        Ok(if !same {
            Match::Differs(format!(
                "the table's record of seq {} is not the one it was built with: another database, or the log was replaced",
                m.seq
            ))
        } else if last == m.seq {
            Match::Same
        } else {
            Match::Longer
        })
    }

    /// The stored lines after the index's end (each ending in a newline), or `None` when
    /// they are more than [`TAIL_BYTES_MAX`] bytes, or (file) the record at the end lacks its
    /// newline: the caller then reads the log from the index's end as a build does (a file
    /// log, `build::catch_up`), or whole (PostgreSQL).
    pub(crate) fn tail(&mut self, m: &Manifest) -> Result<Option<Vec<u8>>> {
        let Source::File(path) = self else {
            let (pg, client) = self.client()?;
            let tail = pg.lines_after(client, m.seq, TAIL_BYTES_MAX)?;
            if tail.is_none() {
                // The read was left unfinished: this connection is not used again.
                self.drop_client();
            }
            return Ok(tail);
        };
        let io = |e| Error::io(path.display(), e);
        let mut file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len < m.valid_len || len - m.valid_len > TAIL_BYTES_MAX {
            return Ok(None);
        }
        if m.valid_len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(m.valid_len - 1)).map_err(io)?;
            file.read_exact(&mut last).map_err(io)?;
            if last[0] != b'\n' {
                return Ok(None);
            }
        }
        let mut tail = Vec::new();
        file.read_to_end(&mut tail).map_err(io)?;
        Ok(Some(tail))
    }

    fn drop_client(&mut self) {
        if let Source::Postgres {
            client, dropped, ..
        } = self
        {
            *client = None;
            *dropped = true;
        }
    }

    /// Reads and folds the whole log.
    pub(crate) fn read_whole(&mut self) -> Result<Log> {
        match self {
            Source::File(p) => Log::open(p),
            Source::Postgres { .. } => {
                let (pg, client) = self.client()?;
                pg.read_after(client, None)
            }
        }
    }

    /// The SHA-256 of the stored line of `log`'s last record (zeros for an empty log): what
    /// the manifest keeps to check its end.
    pub(crate) fn tail_sum(&mut self, log: &Log) -> Result<[u8; 32]> {
        let seq = log.history.seq_last();
        if seq == 0 {
            return Ok([0; 32]);
        }
        let line = match self {
            Source::File(path) => {
                let io = |e| Error::io(path.display(), e);
                let mut file = File::open(*path).map_err(io)?;
                line_ending_at(&mut file, log.valid_len).map_err(io)?
            }
            Source::Postgres { .. } => {
                // One round trip (the seq a literal: a prepared query costs three).
                let sql = format!("SELECT line FROM stancelog.records WHERE seq = {seq}");
                self.simple_query(&sql)?.iter().find_map(|m| match m {
                    SimpleQueryMessage::Row(row) => row.get(0).map(|l| l.as_bytes().to_vec()),
                    _ => None,
                })
            }
        };
        let line = line.ok_or_else(|| {
            Error::io(
                self.name(),
                std::io::Error::other("no record ends where the log was read to"),
            )
        })?;
        Ok(Sha256::digest(&line).into())
    }

    /// The log's name in messages.
    pub(crate) fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Postgres { pg, .. } => pg.to_string(),
        }
    }
}

/// The folder that holds the projection indexes of PostgreSQL logs: `STANCELOG_CACHE` if set,
/// else `$XDG_CACHE_HOME/stancelog`, else `$HOME/.cache/stancelog`.
///
/// # Errors
/// [`Error::Io`] when none of these is set.
pub fn cache_root() -> Result<PathBuf> {
    let var = |k| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = var("STANCELOG_CACHE") {
        return Ok(p);
    }
    if let Some(p) = var("XDG_CACHE_HOME") {
        return Ok(p.join("stancelog"));
    }
    match var("HOME") {
        Some(h) => Ok(h.join(".cache").join("stancelog")),
        None => Err(Error::io(
            "the projection index of a PostgreSQL log",
            std::io::Error::other("no cache folder: set STANCELOG_CACHE, XDG_CACHE_HOME or HOME"),
        )),
    }
}

/// `pg-DB-KEY.index`: the database's name (letters, digits, `-` and `_` kept, at most 40) and
/// 16 hex digits of the SHA-256 of the hosts, ports and database name.
fn pg_dir_name(pg: &PgLog) -> String {
    let key = pg.identity();
    let sum = Sha256::digest(key.as_bytes());
    let hex: String = sum[..8].iter().map(|b| format!("{b:02x}")).collect();
    let db: String = pg
        .dbname()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(40)
        .collect();
    format!("pg-{db}-{hex}.index")
}
