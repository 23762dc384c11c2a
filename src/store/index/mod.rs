//! The projection index: a derived, rebuildable folder beside the log (`LOG.index/`) from which
//! queries are answered without reading or folding the log.
//!
//! It holds immutable segments (the events of a range of seqs in binary form, their offsets,
//! ids, posting lists by actor, topic and noted stance, a table of the topics they register,
//! and the account of what their events
//! change in what `actors`, `topics` and `--known-at` need of the whole log: counts, dates,
//! the recorded times of the batches; see `segment.rs`, `keys.rs` and `account.rs`) and a small
//! manifest naming them, with where the index ends in the log (seq, stored hash, byte
//! length). A query folds into a sparse
//! [`History`] only the events its filter needs (every registration, alias link and role, and
//! the posting lists of its actors, with their aliases, or of its topics), then asks the
//! core's own queries: the answer is the core's, by construction.
//!
//! Trust: before use, the manifest's end is checked against the log (its length, and the
//! record ending there: its seq and stored hash). An index of another log, of a log restored
//! from a backup or edited, or damaged, or of another format version, is discarded and
//! rebuilt. A log longer than the index (complete batches after its end) is caught up.
//!
//! Writers (an append, an import, a query that builds or catches up) take the index's own
//! lock (`LOCK`, an exclusive `flock`); readers take none. A new segment is written and synced
//! before a new manifest names it (written aside, synced, renamed over the old one, the
//! folder synced); files no manifest names are then removed. A reader sees the old manifest or
//! the new one, and the files it names; a crash leaves the previous index, or none.
//! Segments are merged as the log grows: a new run of events takes the segments before it
//! with it while it is at least half as long as the last one, so there are about log2(n)
//! segments and each event is rewritten about log2(n) times over the log's life.

mod account;
mod build;
mod check;
mod keys;
mod manifest;
mod pending;
mod read;
#[cfg(test)]
pub(crate) use read::{names, names_in_record};
mod segment;
mod source;
mod topics;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use self::account::Account;
use self::manifest::Manifest;
use self::segment::{Segment, SegmentMeta};
use super::backend::LogRef;
use super::batch::parse_record;
use super::log::{LINE_BYTES_MAX, Log, missing_or_io};
use super::postgres::PgLog;
use crate::core::{ActorEntry, ActorId, Event, History, Seq, TopicEntry, TopicId, ValidDate};
use crate::error::{Error, Result};

pub use self::build::BuildLimits;
use self::build::Built;
pub use self::check::{IndexCheck, check_index, check_index_of};
pub use self::manifest::VERSION as INDEX_VERSION;
pub(crate) use self::pending::{Appender, PENDING_EVENTS_MAX};
pub(crate) use self::source::Source;
pub use self::source::cache_root;

/// Writes `s` as the index's files write a string (`events/INDEX.md`): its length in bytes
/// (u32, little-endian), then its bytes.
fn put_str(w: &mut Vec<u8>, s: &str) {
    w.extend_from_slice(&(s.len() as u32).to_le_bytes());
    w.extend_from_slice(s.as_bytes());
}

/// Writes `v` as the index's files write a number (`events/INDEX.md`): u64, little-endian.
fn put_u64(w: &mut Vec<u8>, v: u64) {
    w.extend_from_slice(&v.to_le_bytes());
}

/// Where the index of the log at `log` lives: beside it, with `.index` appended (a folder).
pub fn index_path(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".index");
    PathBuf::from(name)
}

/// Where the index of `target` lives: beside a file log ([`index_path`]), or in the local
/// cache folder for a PostgreSQL log ([`cache_root`]).
///
/// # Errors
/// [`Error::Io`] for a PostgreSQL log when no cache folder can be named.
pub fn index_dir(target: &LogRef) -> Result<PathBuf> {
    Source::of(target).dir()
}

/// How opening the index for a query went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexUse {
    /// It matched the log and was used as it was.
    Used,
    /// The log had complete batches after it; the index was brought up to date from this seq.
    CaughtUp {
        /// The seq the index ended at.
        from: Seq,
    },
    /// There was none; it was built.
    Built,
    /// It did not match the log, was damaged or of another format: discarded and rebuilt.
    Rebuilt {
        /// Why, in words.
        reason: String,
    },
    /// It was missing or out of date and could not be written (a read-only folder, a full
    /// disk): the log was read and answers come from its fold in memory.
    Unwritable {
        /// The error, in words.
        reason: String,
    },
}

/// What `stancelog index` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexReport {
    /// The index folder.
    pub path: PathBuf,
    /// The format version.
    pub version: u32,
    /// The last seq it covers.
    pub seq: Seq,
    /// The log's stored hash there, hex.
    pub head_hash: String,
    /// Its segments: (first seq, last seq, bytes).
    pub segments: Vec<(Seq, Seq, u64)>,
    /// Registered actors and topics.
    pub actors: usize,
    /// Registered topics.
    pub topics: usize,
}

/// How the index stands against the log.
pub(crate) enum Match {
    Same,
    Longer,
    Differs(String),
}

/// An index opened for queries: its manifest, its opened segments, and the whole log's account
/// (the sum of theirs).
pub struct Index {
    dir: PathBuf,
    manifest: Manifest,
    segments: Vec<Segment>,
    /// The whole log's account, but for its lines of actors and topics (of an index on disk:
    /// an index in memory has them all): the recorded-time runs and the dates.
    account: Account,
    /// Where each actor and topic is registered, from the segments' accounts as read.
    registered: account::Registered,
    /// The whole log's account with every count ([`Index::actors`], [`Index::topics`]), made
    /// when first asked for (every segment's account has a line for nearly every id, where a
    /// query needs only where each id is registered).
    counts: OnceLock<Account>,
    /// Whether each segment's account is whole (each id in it registered there, as in an
    /// index of one segment): no segment's second section is then read for the counts.
    account_whole: bool,
    torn_tail_bytes: u64,
    torn_tail_records: u64,
    globals: OnceLock<Vec<Event>>,
    /// The alias links and roles (`read.rs`).
    links: OnceLock<Vec<Event>>,
    /// The `g` list with where each record is (`read.rs`).
    global_located: OnceLock<Vec<segment::Located>>,
    /// The whole log's fold, when the index could not be written and answers come from it.
    memory: Option<History>,
}

/// Opens the segments `metas` (a manifest's) name in `dir`; `Err` says why one cannot be.
fn open_segments(dir: &Path, metas: &[SegmentMeta]) -> std::result::Result<Vec<Segment>, String> {
    metas
        .iter()
        .map(|s| Segment::open(&dir.join(&s.name), s))
        .collect()
}

/// Reads the manifest and maps its segments; `Err` says why the index cannot be used.
///
/// A writer may replace the manifest and remove the segments it no longer names between the
/// reading of the manifest and the opening of a segment: then the manifest is read again.
fn load(dir: &Path) -> std::result::Result<(Manifest, Vec<Segment>), String> {
    let read = || match fs::read(dir.join("MANIFEST")) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("there is none".to_string()),
        Err(e) => Err(format!("its manifest could not be read: {e}")),
    };
    let mut bytes = read()?;
    loop {
        let m = manifest::decode(&bytes)?;
        let opened = open_segments(dir, &m.segments);
        match opened {
            Ok(segments) => return Ok((m, segments)),
            Err(e) => {
                let again = read()?;
                if again == bytes {
                    return Err(e);
                }
                bytes = again;
            }
        }
    }
}

/// The line of the log that ends at byte `end` (the end of a complete batch), its newline
/// excluded: the log's last record may lack its newline (`Log::final_newline_missing`).
/// `None` when there is nothing there.
pub(crate) fn line_ending_at(file: &mut File, end: u64) -> std::io::Result<Option<Vec<u8>>> {
    // Look back 4 KiB, then as far as the longest line.
    let mut line = Vec::new();
    for back in [4096, LINE_BYTES_MAX as u64 + 2] {
        let base = end.saturating_sub(back);
        line.clear();
        file.seek(SeekFrom::Start(base))?;
        (&mut *file).take(end - base).read_to_end(&mut line)?;
        if base == 0 || memchr::memrchr(b'\n', &line[..line.len().saturating_sub(1)]).is_some() {
            break;
        }
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    if line.is_empty() {
        return Ok(None);
    }
    let start = memchr::memrchr(b'\n', &line).map_or(0, |i| i + 1);
    Ok(Some(line.split_off(start)))
}

/// Reads the record the index ends with from the log, and compares it with the manifest.
pub(crate) fn check_log(log_path: &Path, m: &Manifest) -> Result<Match> {
    let mut file = File::open(log_path).map_err(|e| missing_or_io(log_path, e))?;
    let io = |e| Error::io(log_path.display(), e);
    let len = file.metadata().map_err(io)?.len();
    if len < m.valid_len {
        return Ok(Match::Differs(format!(
            "the log has {len} bytes, fewer than the {} it covers: the log was restored, cut or replaced",
            m.valid_len
        )));
    }
    if m.valid_len == 0 {
        return Ok(if m.seq != 0 {
            Match::Differs("it covers no bytes".into())
        } else if len == 0 {
            Match::Same
        } else {
            Match::Longer
        });
    }
    let line = line_ending_at(&mut file, m.valid_len).map_err(io)?;
    let same = line.is_some_and(|last| {
        parse_record(&last).ok().and_then(|r| r.seq) == Some(m.seq)
            && <[u8; 32]>::from(Sha256::digest(&last)) == m.tail_sum
    });
    if !same {
        return Ok(Match::Differs(format!(
            "the log's record where it ends is not the seq {} it was built with: the log was restored, edited or replaced",
            m.seq
        )));
    }
    Ok(if len == m.valid_len {
        Match::Same
    } else {
        Match::Longer
    })
}

/// Brings the index of the log at `log_path` up to `log` (that log as just read or appended
/// to): adds a segment for the events after the index's end (merging the last segments into
/// it while they are short), or builds the index anew when there is none or it does not match
/// the log. Writes nothing when the index already ends at or past `log`'s end (another
/// process brought it there), or when `log`'s history is a sparse one that does not hold
/// every event after the index's end (the next query catches the index up from the log).
/// Takes the index's lock for the time of the update.
///
/// # Errors
/// [`Error::Io`] when the folder or its files cannot be written; the index is then as before.
pub fn update_index(log_path: &Path, log: &Log) -> Result<()> {
    update_source(&mut Source::File(log_path), log)
}

/// [`update_index`] for the PostgreSQL log `pg` (its index in the local cache folder),
/// querying it on `client` as [`Index::open_pg_on`] does (a writer's connection, lent for the
/// update).
///
/// # Errors
/// As [`update_index`], and [`Error::Io`] when the server fails.
pub(crate) fn update_pg_index_on(
    pg: &PgLog,
    client: &mut Option<postgres::Client>,
    log: &Log,
) -> Result<()> {
    Source::lent(pg, client, |src| update_source(src, log))
}

/// [`update_index`] for the log behind `src`.
pub(crate) fn update_source(src: &mut Source, log: &Log) -> Result<()> {
    let dir = src.dir()?;
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |e| Error::io(&p, e)
    };
    let _lock = build::locked(&dir)?;
    let old = match load(&dir) {
        Ok((m, _)) => Some(m),
        Err(_) => None,
    };
    let generation = old.as_ref().map_or(0, |m| m.generation);
    let usable = match old {
        Some(m) => match src.check(&m)? {
            Match::Differs(_) => None,
            // Another process brought the index past `log` (a PostgreSQL log's writers and
            // queries run side by side): it matches the log, and `log` adds nothing to it.
            _ if m.seq > log.history.seq_last() => return Ok(()),
            _ => Some(m),
        },
        _ => None,
    };
    // A discarded index is replaced even by an empty one (a table emptied and initialised
    // again): keeping its manifest would keep answering with the old log.
    let current = usable.is_some();
    let mut m = usable.unwrap_or(Manifest {
        generation,
        ..Manifest::default()
    });
    if current && m.seq == log.history.seq_last() && m.valid_len == log.valid_len {
        return Ok(());
    }
    if !holds_after(&log.history, m.seq) {
        // A sparse history (a writer's, a catch-up's) holds only what its own events needed:
        // it cannot stand for the events before them. The next query catches the index up.
        return Ok(());
    }
    extend(&dir, &mut m, log).map_err(io(&dir))?;
    m.tail_sum = src.tail_sum(log)?;
    manifest::write(&dir, &m).map_err(io(&dir))?;
    remove_unnamed(&dir, &m);
    Ok(())
}

/// Whether `h` holds every event after seq `from` (a whole log's fold does; a sparse
/// history only when it holds every event after `from`).
fn holds_after(h: &History, from: Seq) -> bool {
    let last = h.seq_last();
    h.len() as Seq == last || (from + 1..=last).all(|s| h.event_meta(s).is_some())
}

/// Publishes `pending` (the events an import appended after the index's end, see
/// `pending.rs`) into the index of the log at `log_path` as one segment, then merges the last
/// segments as [`update_index`] does, under the index's lock; `log` is the log as appended to
/// (its last seq, head and length). Returns `false`, writing nothing, when the index no longer
/// ends where `pending` begins (a query caught it up from the log meanwhile), or when another
/// process's clean-up of the folder removed `pending`'s file.
///
/// # Errors
/// [`Error::Io`] when the folder or its files cannot be written; the index is then as before.
pub(crate) fn publish(log_path: &Path, pending: &mut pending::Pending, log: &Log) -> Result<bool> {
    let mut src = Source::File(log_path);
    let dir = src.dir()?;
    let io = |e| Error::io(dir.display(), e);
    let _lock = build::locked(&dir)?;
    let Ok((mut m, _)) = load(&dir) else {
        return Ok(false);
    };
    if m.seq + 1 != pending.first || pending.last() != log.history.seq_last() {
        return Ok(false);
    }
    if pending.len() == 0 {
        return Ok(true);
    }
    let meta = match pending_segment(&dir, &mut m, pending) {
        // Its file was removed by another process's clean-up of the folder: not published.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        other => other.map_err(io)?,
    };
    add_segment(&dir, &mut m, meta, log).map_err(io)?;
    m.tail_sum = src.tail_sum(log)?;
    manifest::write(&dir, &m).map_err(io)?;
    remove_unnamed(&dir, &m);
    Ok(true)
}

/// Writes `pending` as a segment in `dir`, named by the next generation of `m` (which it
/// takes); returns what a manifest records of it (not yet named by `m`).
fn pending_segment(
    dir: &Path,
    m: &mut Manifest,
    pending: &mut pending::Pending,
) -> std::io::Result<SegmentMeta> {
    m.generation += 1;
    let name = format!(
        "seg-{:08}-{}-{}",
        m.generation,
        pending.first,
        pending.last()
    );
    let (first, last, size, sum) = pending.write(&dir.join(&name))?;
    Ok(SegmentMeta {
        name,
        first,
        last,
        size,
        sum,
    })
}

/// The longest tail after the index's end that is folded onto the index alone (64 MiB);
/// a longer one (an index far behind) is caught up as a build reads, from the index's end
/// (`build::catch_up`), on a file log; a PostgreSQL log's is read whole.
pub(crate) const TAIL_BYTES_MAX: u64 = 64 << 20;

/// The most events a merge on the append path writes: a run of new events takes the segments
/// before it along only while the merged segment stays this short, so that no append rewrites
/// a large part of the index (a log built in one go keeps its one large segment; appends after
/// it form segments of up to this many events, about log2 of them per size).
const MERGE_EVENTS_MAX: u64 = 1 << 21;

/// Adds the events of `log` after `m.seq` to the index in `dir` as one new segment, then
/// merges the last segments into one while the newest is at least half as long as the one
/// before it (and the merged one stays under [`MERGE_EVENTS_MAX`] events), and updates `m` to
/// match `log`; `m` is not written. The new events are taken from `log`'s history, which may
/// be sparse (a writer's): it must hold them, and what their posting lists and the account
/// need (see `account.rs`); the merged segments are read from their files.
fn extend(dir: &Path, m: &mut Manifest, log: &Log) -> std::io::Result<()> {
    let h = &log.history;
    let last = h.seq_last();
    let from = m.seq;
    m.generation += 1;
    if from < last {
        let first = from + 1;
        let name = format!("seg-{:08}-{first}-{last}", m.generation);
        let postings = keys::postings(h, first, last);
        let events = (first..=last).filter_map(|s| h.event(s));
        let account = account::delta(h, from, last);
        let path = dir.join(&name);
        let (size, sum) = segment::write(&path, first, last, events, &postings, &account)?;
        let meta = SegmentMeta {
            name,
            first,
            last,
            size,
            sum,
        };
        return add_segment(dir, m, meta, log);
    }
    m.seq = last;
    m.head = log.head.0;
    m.valid_len = log.valid_len;
    Ok(())
}

/// Names the new segment `meta` (the events after `m.seq`, written and synced) in `m`, merges
/// the last segments ([`merge_last`]), and makes `m` end where `log` does; `m` is not written.
fn add_segment(dir: &Path, m: &mut Manifest, meta: SegmentMeta, log: &Log) -> std::io::Result<()> {
    m.segments.push(meta);
    merge_last(dir, m)?;
    m.seq = log.history.seq_last();
    m.head = log.head.0;
    m.valid_len = log.valid_len;
    Ok(())
}

/// Merges the last segments of `m` into one (see [`extend`]), from their files.
fn merge_last(dir: &Path, m: &mut Manifest) -> std::io::Result<()> {
    let events = |s: &SegmentMeta| s.last - s.first + 1;
    let mut take = 1;
    let mut run = m.segments.last().map_or(0, events);
    while let Some(prev) = m.segments.iter().rev().nth(take) {
        if run * 2 < events(prev) || run + events(prev) > MERGE_EVENTS_MAX {
            break;
        }
        run += events(prev);
        take += 1;
    }
    if take < 2 {
        return Ok(());
    }
    let metas = m.segments.split_off(m.segments.len() - take);
    let opened = open_segments(dir, &metas)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let parts: Vec<&Segment> = opened.iter().collect();
    let name = format!(
        "seg-{:08}-{}-{}",
        m.generation,
        metas[0].first,
        metas[take - 1].last
    );
    let (first, last, size, sum) = segment::merge(&dir.join(&name), &parts)?;
    m.segments.push(SegmentMeta {
        name,
        first,
        last,
        size,
        sum,
    });
    Ok(())
}

/// Removes the files of the index folder that `m` does not name (segments replaced by a merge
/// or a rebuild, and what a crash left half-written). Readers that mapped a removed segment
/// keep reading it: its bytes stay until they unmap it.
fn remove_unnamed(dir: &Path, m: &Manifest) {
    let named: BTreeSet<&str> = m.segments.iter().map(|s| s.name.as_str()).collect();
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name != "MANIFEST" && name != "LOCK" && !named.contains(name.as_ref()) {
            let _ = fs::remove_file(e.path());
        }
    }
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Index({}, seq {})",
            self.dir.display(),
            self.manifest.seq
        )
    }
}

impl Index {
    /// Where the index ends in the log: the last seq, the stored hash there, the bytes of the
    /// log up to the end of that record.
    pub(crate) fn end(&self) -> (Seq, super::chain::Hash, u64) {
        (
            self.manifest.seq,
            self.manifest.head(),
            self.manifest.valid_len,
        )
    }

    /// Whether the index answers from a fold in memory (it could not be written).
    pub(crate) fn in_memory_only(&self) -> bool {
        self.memory.is_some()
    }

    /// Opens the index of the log at `log_path` for a query: checks it against the log, and
    /// catches it up, builds it or rebuilds it (reading and folding the log) when needed.
    ///
    /// # Errors
    /// [`Error::Usage`] when there is no log; those of [`Log::open`] when the log must be read;
    /// [`Error::Io`] when the index cannot be written.
    pub fn open(log_path: &Path) -> Result<(Index, IndexUse)> {
        Index::open_source(&mut Source::File(log_path))
    }

    /// [`Index::open`] for a log on either backend: beside a file log, or in the local cache
    /// folder of a PostgreSQL log ([`cache_root`]), checked against the table's last record.
    ///
    /// # Errors
    /// As [`Index::open`], and [`Error::Io`] when the server fails.
    pub fn open_log(target: &LogRef) -> Result<(Index, IndexUse)> {
        Index::open_source(&mut Source::of(target))
    }

    /// [`Index::open_log`] for the PostgreSQL log `pg`, querying it on `client` (a connection
    /// the caller lends it, or one it opens) and leaving the connection there for the
    /// caller's own use (a writer appends on it): one connection, not two. `client` is `None`
    /// after it when the connection was dropped (a read left unfinished).
    ///
    /// # Errors
    /// As [`Index::open_log`].
    pub(crate) fn open_pg_on(
        pg: &PgLog,
        client: &mut Option<postgres::Client>,
    ) -> Result<(Index, IndexUse)> {
        Source::lent(pg, client, Index::open_source)
    }

    fn open_source(src: &mut Source) -> Result<(Index, IndexUse)> {
        src.must_exist()?;
        let dir = match src.dir() {
            Ok(dir) => dir,
            Err(e) => return Index::unwritable(PathBuf::from(src.name()), src.read_whole()?, e),
        };
        let reason = match load(&dir) {
            Ok((m, segments)) => match src.check(&m)? {
                Match::Same => return Ok((Index::new(dir, m, segments), IndexUse::Used)),
                Match::Longer => return Index::catch_up(src, m, segments),
                Match::Differs(reason) => reason,
            },
            Err(reason) => reason,
        };
        let used = if reason == "there is none" {
            IndexUse::Built
        } else {
            IndexUse::Rebuilt { reason }
        };
        Index::built(src, used, BuildLimits::DEFAULT, true)
    }

    /// Builds the index anew from the log and loads it: a file log's as it is read, in
    /// bounded memory (`build.rs`), a PostgreSQL log's from its whole fold. When it cannot be
    /// written (a read-only folder, a full disk), answers from the log's fold in memory. With
    /// `recheck`, a file log's index that another process made current while this one waited
    /// for the index's lock is opened instead (as [`IndexUse::Used`], or caught up): N first
    /// queries at once make one build, not N one after another.
    fn built(
        src: &mut Source,
        used: IndexUse,
        limits: BuildLimits,
        recheck: bool,
    ) -> Result<(Index, IndexUse)> {
        let path = match src {
            Source::File(path) => *path,
            Source::Postgres { .. } => {
                let log = src.read_whole()?;
                return Index::updated(src, log, used);
            }
        };
        let dir = src.dir()?;
        match build::build(path, &dir, limits, recheck) {
            Ok(Built::Log(log)) => Ok((Index::reload(src, &log)?, used)),
            Ok(Built::Current(m, segments, Match::Same)) => {
                Ok((Index::new(dir, m, segments), IndexUse::Used))
            }
            Ok(Built::Current(m, segments, _)) => Index::catch_up(src, m, segments),
            Err(e @ Error::Io { .. }) => Index::unwritable(dir, src.read_whole()?, e),
            Err(e) => Err(e),
        }
    }

    /// Brings the index up to `log` and loads it; when it cannot be written (a read-only
    /// folder, a full disk), answers from `log` itself, in memory.
    fn updated(src: &mut Source, log: Log, used: IndexUse) -> Result<(Index, IndexUse)> {
        match update_source(src, &log) {
            Ok(()) => Ok((Index::reload(src, &log)?, used)),
            Err(e @ Error::Io { .. }) => {
                let dir = src.dir().unwrap_or_else(|_| PathBuf::from(src.name()));
                Index::unwritable(dir, log, e)
            }
            Err(e) => Err(e),
        }
    }

    /// An index in memory from `log`, because the one on disk at `dir` could not be written
    /// (`e`); `dir` is the log's name when even the folder's place is unknown (no cache folder
    /// for a PostgreSQL log).
    fn unwritable(dir: PathBuf, log: Log, e: Error) -> Result<(Index, IndexUse)> {
        let used = IndexUse::Unwritable {
            reason: e.to_string(),
        };
        Ok((Index::in_memory(dir, log), used))
    }

    /// An index that answers from `log`'s fold in memory, writing nothing: for a log whose
    /// index cannot be written (`dir` is only named in reports).
    pub fn in_memory(dir: PathBuf, log: Log) -> Index {
        let m = Manifest {
            seq: log.history.seq_last(),
            head: log.head.0,
            valid_len: log.valid_len,
            ..Manifest::default()
        };
        let mut index = Index::new(dir, m, Vec::new());
        index.account = account::delta(&log.history, 0, log.history.seq_last());
        index.registered = account::Registered::of(&index.account);
        index.torn_tail_bytes = log.torn_tail_bytes;
        index.torn_tail_records = log.torn_tail_records;
        index.memory = Some(log.history);
        index
    }

    /// The whole log's fold of an index in memory ([`Index::in_memory`]), as a log ending
    /// where the index does; `None` for an index on disk.
    pub(crate) fn into_memory_log(self) -> Option<Log> {
        let history = self.memory?;
        let seq = self.manifest.seq;
        Some(Log {
            recorded_at_last: history.recorded_at(seq),
            history,
            torn_tail_bytes: self.torn_tail_bytes,
            torn_tail_records: self.torn_tail_records,
            head: self.manifest.head(),
            valid_len: self.manifest.valid_len,
            schema1_records: 0,
            final_newline_missing: false,
        })
    }

    /// Discards the index of the log at `log_path` and builds it anew from the log (after a
    /// query found it damaged, or on `stancelog index --rebuild`).
    ///
    /// # Errors
    /// As [`Index::open`].
    pub fn rebuild(log_path: &Path) -> Result<Index> {
        Ok(Index::rebuild_log(&LogRef::File(log_path.to_path_buf()))?.0)
    }

    /// [`Index::rebuild`] holding at most what `limits` says (the default ones:
    /// [`BuildLimits::DEFAULT`]).
    ///
    /// # Errors
    /// As [`Index::open`].
    pub fn rebuild_with(log_path: &Path, limits: BuildLimits) -> Result<Index> {
        Ok(Index::rebuild_source(&mut Source::File(log_path), limits)?.0)
    }

    /// Catches the index of the file log at `log_path` up as a query catches up a tail too
    /// long to fold at once: the log read from the index's end on as a build reads it, holding
    /// at most what `limits` says ([`BuildLimits::DEFAULT`] on the query path); built anew when
    /// there is none or it does not match the log.
    ///
    /// # Errors
    /// As [`Index::open`].
    pub fn catch_up_with(log_path: &Path, limits: BuildLimits) -> Result<Index> {
        let src = Source::File(log_path);
        src.must_exist()?;
        let dir = src.dir()?;
        Ok(match build::catch_up(log_path, &dir, limits)? {
            Built::Log(log) => Index::reload(&src, &log)?,
            Built::Current(m, segments, _) => Index::new(dir, m, segments),
        })
    }

    /// [`Index::rebuild`] for a log on either backend, with how it went ([`IndexUse::Built`],
    /// or [`IndexUse::Unwritable`] when the index could not be written and answers come from
    /// the log's fold in memory).
    ///
    /// # Errors
    /// As [`Index::open_log`].
    pub fn rebuild_log(target: &LogRef) -> Result<(Index, IndexUse)> {
        Index::rebuild_source(&mut Source::of(target), BuildLimits::DEFAULT)
    }

    /// `read` on this index; when it finds damage, the index is discarded and rebuilt from
    /// `target`'s log (said on stderr, as queries say it) and `read` done again on the new one.
    ///
    /// # Errors
    /// Those of [`Index::rebuild_log`]; [`Error::Io`] naming the index's folder when the index
    /// just rebuilt cannot be read either.
    pub fn read_or_rebuild<T>(
        &mut self,
        target: &LogRef,
        read: impl Fn(&Index) -> std::result::Result<T, read::Damage>,
    ) -> Result<T> {
        match read(self) {
            Ok(v) => Ok(v),
            Err(reason) => {
                // Only an index on disk can be damaged; one in memory cannot.
                let dir = self.dir().to_path_buf();
                eprintln!(
                    "stancelog: note: {}: index discarded: {reason}; rebuilt it from the log",
                    dir.display()
                );
                *self = Index::rebuild_log(target)?.0;
                read(self).map_err(|e| {
                    Error::io(
                        dir.display(),
                        std::io::Error::other(format!(
                            "the index just rebuilt cannot be read: {e}"
                        )),
                    )
                })
            }
        }
    }

    fn rebuild_source(src: &mut Source, limits: BuildLimits) -> Result<(Index, IndexUse)> {
        src.must_exist()?;
        let dir = src.dir()?;
        if dir.join("MANIFEST").exists() {
            fs::remove_file(dir.join("MANIFEST")).map_err(|e| Error::io(dir.display(), e))?;
        }
        Index::built(src, IndexUse::Built, limits, false)
    }

    /// Brings an index whose log has grown after its end up to date: folds only the log's
    /// tail after it, onto what the index holds ([`Index::tail_log`]), and adds it. When the
    /// tail cannot be folded that way (longer than [`TAIL_BYTES_MAX`], ...), a file log is read
    /// from the index's end as a build reads it, in bounded memory ([`build::catch_up`]); a
    /// PostgreSQL log, or a file log that read refuses, is read whole (which names the error
    /// as a whole read does).
    fn catch_up(
        src: &mut Source,
        m: Manifest,
        segments: Vec<Segment>,
    ) -> Result<(Index, IndexUse)> {
        let dir = src.dir()?;
        let mut index = Index::new(dir.clone(), m, segments);
        let (log, sparse) = match (index.tail_log(src)?, &src) {
            (Some(log), _) => (log, true),
            (None, Source::File(path)) => {
                let used = IndexUse::CaughtUp {
                    from: index.manifest.seq,
                };
                drop(index);
                return match build::catch_up(path, &dir, BuildLimits::DEFAULT) {
                    Ok(Built::Log(log)) => Ok((Index::reload(src, &log)?, used)),
                    Ok(Built::Current(m, segments, _)) => Ok((Index::new(dir, m, segments), used)),
                    Err(_) => {
                        let whole = src.read_whole()?;
                        Index::updated(src, whole, used)
                    }
                };
            }
            (None, _) => (src.read_whole()?, false),
        };
        if log.history.seq_last() == index.manifest.seq {
            // Only a torn tail after the index's end.
            index.torn_tail_bytes = log.torn_tail_bytes;
            index.torn_tail_records = log.torn_tail_records;
            return Ok((index, IndexUse::Used));
        }
        let from = index.manifest.seq;
        drop(index);
        let used = IndexUse::CaughtUp { from };
        if !sparse {
            return Index::updated(src, log, used);
        }
        match update_source(src, &log) {
            Ok(()) => Ok((Index::reload(src, &log)?, used)),
            // Answers in memory need the whole log's fold, not the tail's.
            Err(Error::Io { .. }) => {
                let whole = src.read_whole()?;
                Index::updated(src, whole, used)
            }
            Err(e) => Err(e),
        }
    }

    /// The log read from the index's end on: the tail's records folded, with every check a
    /// read makes, onto a sparse history of what they need from the index
    /// ([`Index::history_for`]: registrations, the events their ids and targets name). `None`
    /// when that cannot be done here (the tail longer than [`TAIL_BYTES_MAX`], the record at
    /// the index's end without its newline, damage found in the index, a record the fold
    /// refuses): then the caller reads on from the index's end as a build does, or reads the
    /// whole log (see [`Index::catch_up`]).
    ///
    /// # Errors
    /// [`Error::Io`] when the log cannot be read.
    pub(crate) fn tail_log(&self, src: &mut Source) -> Result<Option<Log>> {
        let m = &self.manifest;
        let Some(tail) = src.tail(m)? else {
            return Ok(None);
        };
        let (mut ids, mut targets) = (Vec::new(), Vec::new());
        let (mut actors, mut topics) = (Vec::new(), Vec::new());
        for line in tail.split(|b| *b == b'\n') {
            if let Ok(r) = parse_record(line) {
                ids.extend(r.id.and_then(|i| uuid::Uuid::parse_str(&i).ok()));
                targets.extend(r.target.and_then(|t| uuid::Uuid::parse_str(&t).ok()));
                let named = [&r.actor, &r.recipient, &r.alias];
                actors.extend(
                    named
                        .into_iter()
                        .flatten()
                        .filter_map(|a| ActorId::new(a).ok()),
                );
                topics.extend(r.topic.as_deref().and_then(|t| TopicId::new(t).ok()));
            }
        }
        let Ok(history) = self.history_for(&ids, &targets, &actors, &topics) else {
            return Ok(None);
        };
        let start = Log {
            history,
            torn_tail_bytes: 0,
            torn_tail_records: 0,
            recorded_at_last: self.recorded_at(m.seq),
            head: m.head(),
            valid_len: m.valid_len,
            schema1_records: 0,
            final_newline_missing: false,
        };
        let name = src.name();
        Ok(Log::resume(&name, &tail[..], Some(start), super::log::CHUNK_BYTES).ok())
    }

    /// Loads the index just brought up to `log`.
    fn reload(src: &Source, log: &Log) -> Result<Index> {
        let dir = src.dir()?;
        let (m, segments) = load(&dir).map_err(|reason| {
            Error::io(
                dir.display(),
                std::io::Error::other(format!("the index just written cannot be read: {reason}")),
            )
        })?;
        let mut index = Index::new(dir, m, segments);
        index.torn_tail_bytes = log.torn_tail_bytes;
        index.torn_tail_records = log.torn_tail_records;
        Ok(index)
    }

    /// The index of `manifest` and its `segments`, their accounts added into the whole log's.
    fn new(dir: PathBuf, manifest: Manifest, mut segments: Vec<Segment>) -> Index {
        let account_whole = segments.iter().all(|s| s.account_whole);
        let mut account = Account::default();
        let mut registered = account::Registered::default();
        for s in &mut segments {
            account.add_owned(std::mem::take(&mut s.account));
            registered.push(
                std::mem::take(&mut s.actors_registered),
                std::mem::take(&mut s.topics_registered),
            );
        }
        Index {
            dir,
            manifest,
            segments,
            account,
            registered,
            counts: OnceLock::new(),
            account_whole,
            torn_tail_bytes: 0,
            torn_tail_records: 0,
            globals: OnceLock::new(),
            links: OnceLock::new(),
            global_located: OnceLock::new(),
            memory: None,
        }
    }

    /// The last seq the index covers (the log's, less a torn tail).
    pub fn seq_last(&self) -> Seq {
        self.manifest.seq
    }

    /// Bytes of a torn tail after the index's end, if the log had one when it was opened.
    pub fn torn_tail_bytes(&self) -> u64 {
        self.torn_tail_bytes
    }

    /// Whole records inside that torn tail.
    pub fn torn_tail_records(&self) -> u64 {
        self.torn_tail_records
    }

    /// The recorded time of the event of `seq`, if the index covers it.
    pub fn recorded_at(&self, seq: Seq) -> Option<jiff::Timestamp> {
        if seq == 0 || seq > self.manifest.seq {
            return None;
        }
        let runs = &self.account.runs;
        let run = runs.partition_point(|(first, _)| *first <= seq);
        run.checked_sub(1).map(|r| runs[r].1)
    }

    /// The last seq recorded at or before `t` (0 when none): as [`History::seq_known_at`].
    pub fn seq_known_at(&self, t: jiff::Timestamp) -> Seq {
        let runs = &self.account.runs;
        let run = runs.partition_point(|(_, time)| *time <= t);
        runs.get(run)
            .map_or(self.manifest.seq, |(first, _)| first - 1)
    }

    /// The hash of the last record the index covers, in hex, as `stancelog verify` prints it.
    pub fn head_hash(&self) -> String {
        self.manifest.head().to_hex()
    }

    /// The latest valid-time date of any stance, as [`History::date_last`].
    pub fn date_last(&self) -> Option<ValidDate> {
        self.account.date_last()
    }

    /// Registered actors with their counts, as [`History::actors`].
    ///
    /// # Errors
    /// Damage found in a segment's account, in words.
    pub fn actors(&self) -> std::result::Result<BTreeMap<ActorId, ActorEntry>, String> {
        Ok(self
            .counts()?
            .actors
            .iter()
            .map(|(a, l)| (a.clone(), l.actor_entry()))
            .collect())
    }

    /// Registered topics with their counts, as [`History::topics`].
    ///
    /// # Errors
    /// Damage found in a segment's account, in words.
    pub fn topics(&self) -> std::result::Result<BTreeMap<TopicId, TopicEntry>, String> {
        Ok(self
            .counts()?
            .topics
            .iter()
            .map(|(t, l)| (t.clone(), l.topic_entry()))
            .collect())
    }

    /// The whole log's account with every count, made once: `account`, each registered id's
    /// line as its registering segment has it, plus every other segment's line of that id
    /// ([`Account::add_unregistered`]).
    fn counts(&self) -> std::result::Result<&Account, String> {
        if self.memory.is_some() {
            return Ok(&self.account);
        }
        if let Some(c) = self.counts.get() {
            return Ok(c);
        }
        let mut sum = self.account.clone();
        sum.actors = self.registered.actor_lines()?;
        sum.topics = self.registered.topic_lines()?;
        if !self.account_whole {
            for s in &self.segments {
                sum.add_unregistered(&s.account_others()?)?;
            }
        }
        Ok(self.counts.get_or_init(|| sum))
    }

    /// The index's folder (for a log whose index could not be written, the folder it would
    /// have had, or the log's name: only named in messages).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the index holds.
    pub fn report(&self) -> IndexReport {
        IndexReport {
            path: self.dir.clone(),
            version: INDEX_VERSION,
            seq: self.manifest.seq,
            head_hash: self.manifest.head().to_hex(),
            segments: self
                .manifest
                .segments
                .iter()
                .map(|s| (s.first, s.last, s.size))
                .collect(),
            actors: self.registered.actor_count(),
            topics: self.registered.topic_count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Index, IndexUse, update_index};
    use crate::core::History;
    use crate::store::{AppendOptions, IndexCheck, Log, LogRef, append, check_index, parse_batch};

    fn stances(from: usize, n: usize) -> String {
        (from..from + n)
            .map(|i| format!(
                "{{\"type\":\"stance.declared\",\"id\":\"00000000-0000-4000-8000-{i:012}\",\"actor\":\"a\",\"topic\":\"t\",\"stance\":\"support\",\"date\":\"2020-01-01\",\"cite\":{{\"publication\":\"P\"}}}}\n"
            ))
            .collect()
    }

    fn add(log: &LogRef, text: &str) {
        let opts = AppendOptions {
            recorded_at: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
            expect_seq: None,
            wait: Duration::from_secs(5),
        };
        append(log, &parse_batch("t", text.as_bytes()).unwrap(), "t", &opts).unwrap();
    }

    /// An update from a log the index has passed (a writer or a catch-up that read the log
    /// before another process brought the index further: PostgreSQL writers run side by
    /// side), or from a sparse history lacking the events after the index's end, writes
    /// nothing: before, both wrote an index from the history alone (missing every event it
    /// does not hold), which `check_index` then refused.
    #[test]
    fn an_update_from_a_log_the_index_passed_or_a_sparse_gap_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        Log::create(&path).unwrap();
        let log = LogRef::File(path.clone());
        let register = "{\"type\":\"actor.registered\",\"actor\":\"a\",\"name\":\"A\",\"kind\":\"state\",\"country\":\"KOR\",\"sector\":\"GOV\"}\n{\"type\":\"topic.registered\",\"topic\":\"t\",\"title\":\"T\",\"kind\":\"policy\"}\n";
        add(&log, &format!("{register}{}", stances(0, 3)));
        let at_five = super::index_path(&path).with_extension("five");
        copy_dir(&super::index_path(&path), &at_five);
        let whole_at_five = Log::open(&path).unwrap();
        add(&log, &stances(3, 5));
        let whole = Log::open(&path).unwrap();
        // Passed: the index ends at 10, the log given at 5 (whole or sparse).
        for behind in [whole_at_five.clone(), sparse(&whole_at_five)] {
            update_index(&path, &behind).unwrap();
            let (index, used) = Index::open(&path).unwrap();
            assert_eq!((index.seq_last(), used), (10, IndexUse::Used));
            assert_eq!(
                check_index(&path, &whole).unwrap(),
                IndexCheck::Agrees { seq: 10 }
            );
        }
        // A gap: the index ends at 5, the sparse history at 10 holds none of 6..=10.
        std::fs::remove_dir_all(super::index_path(&path)).unwrap();
        copy_dir(&at_five, &super::index_path(&path));
        update_index(&path, &sparse(&whole)).unwrap();
        let (index, used) = Index::open(&path).unwrap();
        assert_eq!(
            (index.seq_last(), used),
            (10, IndexUse::CaughtUp { from: 5 })
        );
        assert_eq!(
            check_index(&path, &whole).unwrap(),
            IndexCheck::Agrees { seq: 10 }
        );
    }

    /// `log` with a sparse history of nothing, ending where `log` does.
    fn sparse(log: &Log) -> Log {
        let mut s = log.clone();
        s.history = History::sparse_to(log.history.seq_last());
        s
    }

    fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}
