//! Appending: one writer at a time, all of a batch or nothing, durable before acknowledged.
//!
//! Durability promises (see ARCHITECTURE.md): when [`Writer::append`] returns `Ok`, the batch has
//! been written with one `write` and `fdatasync`ed, so it survives a process crash and a power
//! loss, assuming the disk honours `fdatasync`. (The one exception: an import's writer
//! ([`Writer::open_import`]) returns once a batch is on its way, being written and synced (a
//! file) or committed (PostgreSQL) on a thread of its own; it is durable when the next append
//! or [`Writer::wait_durable`] returns `Ok`, and the importer reports nothing as appended
//! before that.) Until then, a crash may leave part of the batch
//! on disk; readers ignore it as a torn tail and the next append removes it.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::backend::LogRef;
use super::batch::{BATCH_EVENTS_MAX, NewEvent};
use super::chain::{GENESIS_HASH, HASH_HEX_LEN, HASH_KEY, Hash, link};
use super::encode::{EventRef, LineEncoder};
use super::holder::WriterRecord;
use super::index::{Appender, Index, PENDING_EVENTS_MAX, update_index, update_pg_index_on};
use super::log::{LINE_BYTES_MAX, Log, missing_or_io, must_be_regular};
use super::postgres::{AtEnd, AtEndStatements, INSERT_BYTES_MAX, PgAppend, PgLog};
use crate::core::{ActorId, Event, History, Rejection, Seq, StanceDeclared, TopicId, TopicKind};
use crate::error::{Error, Location, Result};

/// How to append.
#[derive(Debug, Clone)]
pub struct AppendOptions {
    /// The recorded time to stamp on the batch (UTC, kept to the microsecond). If the log's last
    /// recorded time is not earlier, one microsecond after it is used instead, so recorded time
    /// rises strictly from batch to batch.
    pub recorded_at: jiff::Timestamp,
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
    /// Set when the batch was appended but the projection index could not be brought up to
    /// date (the next query catches it up or rebuilds it): what went wrong, in words.
    pub index_warning: Option<String>,
    /// True when the log's last record had no newline after it (see
    /// [`Log::final_newline_missing`]) and this append wrote it before the batch.
    pub newline_added: bool,
}

/// The log's one writer. On a file log it holds the exclusive lock and the folded log for as
/// long as it lives, so repeated appends do not re-read the file. On a PostgreSQL log it holds
/// a connection and the folded log, and takes the writers' lock for each batch's transaction,
/// first folding what other writers committed meanwhile (see `store::postgres`).
#[derive(Debug)]
pub struct Writer {
    sink: Sink,
    log: Log,
    /// The last batch's output buffer, emptied, kept for the next one: a fresh buffer of a few
    /// hundred KiB costs a page fault per 4 KiB when it is first written.
    spare: Vec<u8>,
    /// Whether the projection index waits for [`Writer::update_index`] (importers) instead of
    /// following every append.
    defer_index: bool,
    /// A writer opened with [`Writer::open_indexed`] (or [`Writer::open_log_indexed`] on
    /// PostgreSQL): the log's projection index, against
    /// which each batch is checked (`log`'s history is then a sparse one, made for each batch).
    /// `None` in a writer that folds the whole log, or when the index was lost after a batch
    /// (the next batch opens it again).
    index: Option<Box<Index>>,
    indexed: bool,
    /// An import's writer ([`Writer::open_import`]): the index kept as it appends (each batch
    /// checked against it and the pending events; the index published at the end).
    import: Import,
    /// How many pending events an import's writer publishes at once (`PENDING_EVENTS_MAX`;
    /// fewer in tests).
    pending_max: u64,
}

/// How an import's writer stands with the projection index.
#[derive(Debug)]
enum Import {
    /// Not an import's writer on the index (the log is folded whole, or a batch at a time from
    /// the index: `indexed`).
    No,
    /// Each batch is checked against the index and the events appended before it.
    On(Box<Appender>),
    /// The index was lost mid-import (damage, or the pending segment not written): the whole
    /// log is folded before the next batch or look-up, and the index caught up at the end.
    Lost,
}

/// Where a writer's batches go: the storage seam's write side.
enum Sink {
    File {
        /// The batch being written and synced on a thread of its own, if any (an import's
        /// writer: [`Writer::write_behind`]), which hands back the batch's output buffer and
        /// whether it is durable (on failure, what was written of it was cut off again, or is
        /// a torn tail: the error says which).
        in_flight: InFlight<(Vec<u8>, std::io::Result<()>)>,
        path: PathBuf,
        file: File,
        /// The writer record beside the log, locked while a batch is written (`None` if it
        /// could not be created).
        record: Option<WriterRecord>,
        /// An import's writer ([`Writer::open_import`]): each batch is written and synced on
        /// a thread of its own while the importer makes and stages the next.
        behind: bool,
    },
    Postgres(Box<PgSink>),
}

/// A PostgreSQL writer's log and connection.
struct PgSink {
    pg: PgLog,
    /// The connection: `None` while a batch is in flight (its thread holds it).
    client: Option<postgres::Client>,
    /// Whether the writer's fold was the table's end when it last looked (no other writer had
    /// appended since its own last batch): its next small batch is then staged on the fold and
    /// sent in one statement that stores it only if that is still so
    /// ([`PgAppend::append_at_end`]).
    at_end: bool,
    /// An import's writer ([`Writer::open_import`]): a large batch is inserted and committed
    /// on a thread of its own while the next one is staged ([`Writer::append_pg_pipelined`]).
    pipelined: bool,
    /// The batch being inserted and committed on its thread, if any, which hands back the
    /// connection, the batch's output buffer and whether the batch was committed.
    in_flight: InFlight<(postgres::Client, Vec<u8>, Result<()>)>,
    /// One-statement appends made on this connection, and the call prepared before the
    /// second of them (a writer of one batch does not pay a round trip to prepare it).
    at_end_appends: u64,
    statement: Option<AtEndStatements>,
}

impl PgSink {
    /// Runs `f` with the writer's connection lent to it (the projection index's check and
    /// catch-up run on it: one connection, not one more per look). A connection `f` dropped
    /// (a read it left unfinished) is opened again at the next use, its statements prepared
    /// again.
    fn lend_client<T>(&mut self, f: impl FnOnce(&PgLog, &mut Option<postgres::Client>) -> T) -> T {
        let out = f(&self.pg, &mut self.client);
        if self.client.is_none() {
            self.statement = None;
            self.at_end_appends = 0;
        }
        out
    }

    /// Waits for the batch in flight, if any: its output buffer and whether it was committed.
    /// The connection is back in `client` after it.
    fn wait(&mut self) -> Option<(Vec<u8>, Result<()>)> {
        let (client, out, done) = self.in_flight.wait()?;
        self.client = Some(client);
        Some((out, done))
    }
}

/// The batch an import's writer has on a thread of its own ([`Writer::open_import`]), if
/// any: the thread hands back `T` (the batch's output buffer and its outcome).
///
/// Dropping it waits for the thread, and the outcome is then not told: whoever owns the
/// writer asks first ([`Writer::wait_durable`]; [`Writer::into_log`] and
/// [`Writer::update_index`] do), so a batch is dropped in flight only by a writer whose owner
/// returned an error of its own (the engine settles the batch first: `Engine::stopped`) or
/// panicked.
struct InFlight<T>(Option<thread::JoinHandle<T>>);

impl<T> InFlight<T> {
    const NONE: InFlight<T> = InFlight(None);

    /// Waits for the batch, if one is in flight, and hands back what its thread returned.
    fn wait(&mut self) -> Option<T> {
        let handle = self.0.take()?;
        // A thread that panicked is a bug: pass the panic on.
        Some(
            handle
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p)),
        )
    }
}

impl<T> Drop for InFlight<T> {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            let _ = handle.join();
        }
    }
}

/// Writes `bytes` at offset `at` of `file` and syncs them (`fdatasync`); on failure cuts the
/// file back to `at` again, and the error says whether that worked (if not, what was written
/// is a torn tail, which readers ignore and the next append removes).
fn write_synced(file: &File, at: u64, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let Err(e) = file.write_all_at(bytes, at).and_then(|()| file.sync_data()) else {
        return Ok(());
    };
    let left = match file.set_len(at) {
        Ok(()) => "nothing of the batch was kept",
        Err(_) => {
            "part of the batch may be left at the end of the log as a torn tail, which the next append removes"
        }
    };
    Err(std::io::Error::new(e.kind(), format!("{e}; {left}")))
}

/// The connection of a PostgreSQL writer with no batch in flight, opened again if it was
/// dropped (a batch's thread that could not be started took it, its transaction rolled back
/// with it; the index's catch-up left a read unfinished on it): whoever dropped it also
/// dropped the statements prepared on it.
///
/// # Errors
/// [`Error::Io`] when the server cannot be reached.
fn connection<'c>(
    client: &'c mut Option<postgres::Client>,
    pg: &PgLog,
) -> Result<&'c mut postgres::Client> {
    let c = take_connection(client, pg)?;
    Ok(client.insert(c))
}

/// [`connection`], taken out of `client` (which is left `None`).
///
/// # Errors
/// [`Error::Io`] when the server cannot be reached.
fn take_connection(client: &mut Option<postgres::Client>, pg: &PgLog) -> Result<postgres::Client> {
    match client.take() {
        Some(c) => Ok(c),
        None => pg.connect(),
    }
}

/// The largest batch (in events) sent in one statement by [`PgAppend::append_at_end`] (its
/// lines also at most `INSERT_BYTES_MAX` bytes); a larger one (an import's) reads the end
/// under the lock first, then is inserted or copied in with `COPY`.
const AT_END_EVENTS_MAX: usize = 256;

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::File { path, .. } => write!(f, "File({})", path.display()),
            Sink::Postgres(s) => write!(f, "Postgres({})", s.pg),
        }
    }
}

impl Writer {
    /// Opens the log at `path` for appending: takes its exclusive lock, waiting up to `wait`
    /// for another writer, writes this process's pid and start time into the writer record
    /// beside the log ([`writer_record_path`](super::writer_record_path)), then reads and folds
    /// the log.
    ///
    /// # Errors
    /// [`Error::Usage`] when there is no log; [`Error::Io`] when the lock is not had in time or
    /// the file cannot be read; [`Error::Input`] for a bad stored record.
    pub fn open(path: &Path, wait: Duration) -> Result<Writer> {
        Writer::open_file(path, wait, false)
    }

    /// Opens the log at `path` for appending, as [`Writer::open`], but without reading the
    /// whole log: each batch is checked against the projection index (`PATH.index/`), which
    /// is opened (built, rebuilt or caught up with the log as a query would) under the log's
    /// lock. For a batch, the writer folds into a sparse history only what its checks need:
    /// every alias link and role, the registrations the batch names, the events its ids name
    /// (the idempotent-append check) and the stances its corrections, retractions and citations target, with their
    /// notes (`Index::history_for`); so an append costs what its batch touches, whatever the
    /// log's length. The index is updated after every batch (even after
    /// [`Writer::defer_index`]). If the index cannot be written, the writer folds the whole
    /// log, as [`Writer::open`] does.
    ///
    /// # Errors
    /// Those of [`Writer::open`].
    pub fn open_indexed(path: &Path, wait: Duration) -> Result<Writer> {
        Writer::open_file(path, wait, true)
    }

    /// [`Writer::open`] (`indexed` false) or [`Writer::open_indexed`]: the lock, the writer
    /// record, then the log read whole, or the index opened (the log read whole only when the
    /// index cannot be had).
    fn open_file(path: &Path, wait: Duration, indexed: bool) -> Result<Writer> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| missing_or_io(path, e))?;
        let meta = file.metadata().map_err(|e| Error::io(path.display(), e))?;
        must_be_regular(path, &meta)?;
        lock(&file, path, wait)?;
        let record = WriterRecord::claim(path);
        let opened = if indexed {
            open_index_for_writer(path)
        } else {
            Ok(None)
        };
        let read = match opened {
            Ok(Some((log, index))) => Ok((log, Some(Box::new(index)))),
            Ok(None) => Log::read(&path.display().to_string(), &file).map(|log| (log, None)),
            Err(e) => Err(e),
        };
        let (log, index) = match read {
            Ok(x) => x,
            Err(e) => {
                // The log could not be opened (not a log, a bad line): a record made here
                // goes, under the log's lock still held.
                if let Some(record) = record {
                    record.withdraw(path);
                }
                return Err(e);
            }
        };
        Ok(Writer {
            indexed: index.is_some(),
            sink: Sink::File {
                in_flight: InFlight::NONE,
                path: path.to_path_buf(),
                file,
                record,
                behind: false,
            },
            log,
            spare: Vec::new(),
            defer_index: false,
            index,
            import: Import::No,
            pending_max: PENDING_EVENTS_MAX,
        })
    }

    /// Makes `self.log`'s history the sparse one `batch` is checked against (indexed writers
    /// only): from the index, opened again if it was lost after the last batch; when it cannot
    /// be, the whole log is folded and the writer goes on without the index.
    fn prepare_indexed(&mut self, batch: &[NewEvent], ids: &[Uuid]) -> Result<()> {
        if !self.indexed {
            return Ok(());
        }
        if self.index.is_none() {
            match self.open_index()? {
                Some((log, index)) => {
                    self.log = log;
                    self.index = Some(Box::new(index));
                }
                None => return self.fold_whole(),
            }
        }
        let index = self.index.as_ref().expect("opened above");
        match index.history_for_batch(batch, ids) {
            Ok(h) => self.log.history = h,
            // Damage in the index: the whole log, this time; a query rebuilds the index.
            Err(_) => self.fold_whole()?,
        }
        Ok(())
    }

    /// The projection index opened for this writer's next batch, with the log as the index
    /// ends it ([`open_index_for_writer`], [`open_index_for_pg`]); `None` when the index
    /// cannot be written. A PostgreSQL writer's fold is then the table's end (as the index's
    /// check against the table found it).
    fn open_index(&mut self) -> Result<Option<(Log, Index)>> {
        match &mut self.sink {
            Sink::File { path, .. } => open_index_for_writer(path),
            Sink::Postgres(sink) => {
                let opened = sink.lend_client(open_index_for_pg)?;
                sink.at_end = opened.is_some();
                Ok(opened)
            }
        }
    }

    /// Folds the whole log (the index lost or damaged), and goes on without the index.
    fn fold_whole(&mut self) -> Result<()> {
        self.index = None;
        self.indexed = false;
        self.log = match &mut self.sink {
            Sink::File { path, .. } => Log::open(path)?,
            Sink::Postgres(sink) => {
                // The fold of one snapshot, on a connection of its own (the writer's may be
                // in a transaction under the lock): the table's end then (a moved table is
                // found by the one-statement append, as after any read).
                sink.at_end = true;
                sink.pg.open()?
            }
        };
        Ok(())
    }

    /// Leaves the projection index alone until [`Writer::update_index`] is called, instead of
    /// updating it after every append: an importer appends many batches and updates it once.
    /// The writer also keeps its output buffer between batches whatever its size.
    pub fn defer_index(&mut self) {
        self.defer_index = true;
    }

    /// Brings the projection index (`LOG.index/`) up to this writer's log: a segment for the
    /// events it lacks (see [`crate::store::update_index`]); for an import's writer on the
    /// index ([`Writer::open_import`]), its pending segment published (or, if a query caught
    /// the index up meanwhile, or the index was lost, the index caught up from the log as a
    /// query would). Returns a warning, in words, when it could not: the log is not affected,
    /// and the next query catches the index up. On a PostgreSQL log, the local index cache
    /// ([`crate::store::cache_root`]) is brought up to the log of a writer on the index
    /// ([`Writer::open_log_indexed`]); other PostgreSQL writers fold the whole log and leave
    /// the cache to the next query. An import's batch in flight is waited for first (the
    /// index never holds an event the log does not).
    ///
    /// # Errors
    /// Those of [`Writer::wait_durable`]: the batch in flight was not stored.
    pub fn update_index(&mut self) -> Result<Option<String>> {
        self.wait_durable()?;
        Ok(self.update_index_durable())
    }

    /// [`Writer::update_index`] with no batch in flight.
    fn update_index_durable(&mut self) -> Option<String> {
        let updated = match &mut self.sink {
            Sink::Postgres(sink) if self.indexed => {
                sink.lend_client(|pg, client| update_pg_index_on(pg, client, &self.log))
            }
            Sink::Postgres(_) => return None,
            // An import's writer holds a sparse history: a batch after this folds the whole log.
            Sink::File { path, .. } => match std::mem::replace(&mut self.import, Import::Lost) {
                Import::On(mut a) => match a.publish(path, &self.log, false) {
                    Ok(true) => Ok(()),
                    // A query caught the index up meanwhile: it catches up the rest from the log.
                    Ok(false) => Index::open(path).map(|_| ()),
                    Err(e) => Err(e),
                },
                // The log after the index's end is caught up from the log, as a query would.
                Import::Lost => Index::open(path).map(|_| ()),
                Import::No => {
                    self.import = Import::No;
                    update_index(path, &self.log)
                }
            },
        };
        updated.err().map(|e| {
            format!(
                "the projection index was not updated ({e}); the next query brings it up to date"
            )
        })
    }

    /// After a batch of an indexed writer: brings the index up to it (when it added events) and
    /// lets the opened index go; the next batch, if any, opens it again (`prepare_indexed`), so
    /// a writer of one batch (`append`, `add`) opens the segments twice, not three times.
    /// Returns the warning of a failed update (the next batch then catches the index up, or
    /// folds the whole log).
    fn follow_index(&mut self, added: bool) -> Option<String> {
        if !added {
            return None;
        }
        self.index = None;
        self.update_index_durable()
    }

    /// Opens the log `target` for appending: [`Writer::open`] for a file; for PostgreSQL,
    /// connects and reads the log (each append then takes the writers' lock in its own
    /// transaction, so `wait` does not apply: a writer waits its turn).
    ///
    /// # Errors
    /// Those of [`Writer::open`], and [`Error::Io`] when the server cannot be reached.
    pub fn open_log(target: &LogRef, wait: Duration) -> Result<Writer> {
        match target {
            LogRef::File(path) => Writer::open(path, wait),
            LogRef::Postgres(pg) => {
                let mut client = pg.connect()?;
                let log = pg.read_after(&mut client, None)?;
                Ok(Writer::on_pg(pg, client, log, None))
            }
        }
    }

    /// A PostgreSQL writer on `client` whose fold is `log` (the table's end as last read),
    /// checking its batches against `index` when given ([`Writer::open_log_indexed`]).
    fn on_pg(pg: &PgLog, client: postgres::Client, log: Log, index: Option<Index>) -> Writer {
        Writer {
            indexed: index.is_some(),
            index: index.map(Box::new),
            sink: Sink::Postgres(Box::new(PgSink {
                pg: pg.clone(),
                client: Some(client),
                at_end: true,
                pipelined: false,
                in_flight: InFlight::NONE,
                at_end_appends: 0,
                statement: None,
            })),
            log,
            spare: Vec::new(),
            defer_index: false,
            import: Import::No,
            pending_max: PENDING_EVENTS_MAX,
        }
    }

    /// Opens the log `target` for appending with each batch checked against the projection
    /// index: [`Writer::open_indexed`] for a file; for PostgreSQL, the log's index in the
    /// local cache folder ([`Index::open_log`]: checked against the table's end with one
    /// query, caught up from the rows after its end, built from the whole table only when
    /// there is none), so that an append costs what its batch touches, not the table's
    /// length. Each batch is then checked against the index as it stands at the table's end:
    /// one statement stores the batch only if the table still ends there
    /// (`PgAppend::append_at_end`); if another writer appended meanwhile, the batch's
    /// transaction takes the writers' lock, the index is caught up with the table under it,
    /// and the batch is checked again and stored. The cache is brought up to the batch
    /// after its COMMIT ([`Writer::update_index`]). When the index cannot be written (no
    /// cache folder), the whole table is folded, as by [`Writer::open_log`].
    ///
    /// # Errors
    /// Those of [`Writer::open_log`] and [`Index::open_log`].
    pub fn open_log_indexed(target: &LogRef, wait: Duration) -> Result<Writer> {
        match target {
            LogRef::File(path) => Writer::open_indexed(path, wait),
            LogRef::Postgres(pg) => {
                // The index's check opens the connection the writer then appends on.
                let mut client = None;
                let (index, _) = Index::open_pg_on(pg, &mut client)?;
                let client = take_connection(&mut client, pg)?;
                if index.in_memory_only() {
                    // No cache to write: the table was read whole for it; that fold is the log.
                    let log = index.into_memory_log().expect("an index in memory");
                    return Ok(Writer::on_pg(pg, client, log, None));
                }
                let log = log_at_index_end(&index, false);
                Ok(Writer::on_pg(pg, client, log, Some(index)))
            }
        }
    }

    /// Opens the log `target` for an import (many batches): on a file, each batch is checked
    /// against the projection index and the events the import appended before it, never a
    /// fold of the whole log, and the index is kept as the batches are written (a pending
    /// segment, published at the end by [`Writer::update_index`] and every
    /// `PENDING_EVENTS_MAX` events; see `store::index::pending`). The look-ups an importer
    /// makes ([`Writer::seq_of`], [`Writer::is_actor`], ...) read the same. When the index
    /// cannot be written, or on PostgreSQL, the whole log is folded as by [`Writer::open_log`]
    /// and the index brought up to date once, at the end ([`Writer::defer_index`]).
    ///
    /// Each batch is written and synced (a file: `Writer::write_behind`) or, a large one on
    /// PostgreSQL, inserted and committed on a thread of its own while the importer makes and
    /// stages the next one: [`Writer::append`] returns once the batch is staged (and on
    /// PostgreSQL its transaction holds the writers' lock at the table's end), and the batch
    /// is durable when the next append, or [`Writer::wait_durable`], returns `Ok`. The
    /// importer must call [`Writer::wait_durable`] (or [`Writer::update_index`],
    /// [`Writer::into_log`]) before it reports success, and after an error of its own before
    /// it reports which batches were appended.
    ///
    /// # Errors
    /// Those of [`Writer::open_log`].
    pub fn open_import(target: &LogRef, wait: Duration) -> Result<Writer> {
        let LogRef::File(path) = target else {
            let mut w = Writer::open_log(target, wait)?;
            w.defer_index();
            if let Sink::Postgres(sink) = &mut w.sink {
                sink.pipelined = true;
            }
            return Ok(w);
        };
        let mut w = Writer::open_file(path, wait, true)?;
        w.defer_index = true;
        w.indexed = false;
        if let Sink::File { behind, .. } = &mut w.sink {
            *behind = true;
        }
        if let Some(index) = w.index.take() {
            w.import = match Appender::new(*index, w.pending_room()) {
                Ok(a) => Import::On(Box::new(a)),
                Err(_) => Import::Lost,
            };
        }
        Ok(w)
    }

    /// Waits until every batch appended is durable: the batch an import's writer
    /// ([`Writer::open_import`]) has in flight written and synced (a file) or committed
    /// (PostgreSQL); nothing to wait for otherwise (every other append is durable when it
    /// returns).
    ///
    /// # Errors
    /// [`Error::Io`] when that batch was not stored (the writer reads the log again at its
    /// next append or look-up, since its fold or pending events held the batch).
    pub fn wait_durable(&mut self) -> Result<()> {
        let sink = match &mut self.sink {
            Sink::File {
                in_flight, path, ..
            } => {
                let Some((out, done)) = in_flight.wait() else {
                    return Ok(());
                };
                keep_spare(&mut self.spare, out, self.defer_index);
                // Not stored: the writer's log (and pending events) held it, so the log is
                // read again whole before the next batch or look-up, and the index is caught
                // up from it.
                return done.map_err(|e| {
                    self.import = Import::Lost;
                    Error::io(path.display(), e)
                });
            }
            Sink::Postgres(sink) => sink,
        };
        let Some((out, done)) = sink.wait() else {
            return Ok(());
        };
        keep_spare(&mut self.spare, out, self.defer_index);
        if let Err(e) = done {
            sink.at_end = false;
            self.log = Log::empty();
            return Err(e);
        }
        Ok(())
    }

    /// The ids an import's pending segment makes room for: a run ([`Writer::pending_max`]
    /// events, checked after each batch) and a batch more.
    fn pending_room(&self) -> u64 {
        self.pending_max + BATCH_EVENTS_MAX as u64
    }

    /// Makes every later write of the log fail (tests): its descriptor is swapped for a
    /// read-only one.
    #[cfg(test)]
    pub(crate) fn break_writes(&mut self) {
        if let Sink::File { path, file, .. } = &mut self.sink {
            *file = File::open(&*path).unwrap();
        }
    }

    /// Publishes an import's pending segment every `events` events (tests).
    #[cfg(test)]
    pub(crate) fn set_pending_max(&mut self, events: u64) {
        self.pending_max = events;
    }

    /// Whether this writer holds the whole log's fold (not a sparse history from the index).
    pub fn folds_whole(&self) -> bool {
        !self.indexed && matches!(self.import, Import::No)
    }

    /// Answers a look-up from the import's index (`on_index`) or, when the writer folds the
    /// whole log (or the index was lost: the log is folded first), from its history.
    fn ask<T>(
        &mut self,
        on_index: impl FnOnce(&mut Appender) -> std::result::Result<T, String>,
        on_log: impl FnOnce(&History) -> T,
    ) -> Result<T> {
        if let Import::On(a) = &mut self.import {
            match on_index(a) {
                Ok(v) => return Ok(v),
                Err(_) => self.import = Import::Lost,
            }
        }
        self.fold_if_lost()?;
        Ok(on_log(&self.log.history))
    }

    /// After the index was lost mid-import: folds the whole log (the batches already appended
    /// included), which the writer then goes on with.
    fn fold_if_lost(&mut self) -> Result<()> {
        if matches!(self.import, Import::Lost) {
            // The log is read once the batch in flight is stored; if it was not, that is the
            // error (the batch was reported appended).
            self.wait_durable()?;
        }
        if let (Import::Lost, Sink::File { path, .. }) = (&self.import, &self.sink) {
            self.log = Log::open(path)?;
            self.import = Import::No;
        }
        Ok(())
    }

    /// The seq of the event with this id in the log (as of the last append), if any.
    ///
    /// # Errors
    /// Those of reading the whole log, when the index is found damaged.
    pub fn seq_of(&mut self, id: &Uuid) -> Result<Option<Seq>> {
        self.ask(|a| a.seq_of(id), |h| h.seq_of(id))
    }

    /// Whether `id` is a registered actor.
    ///
    /// # Errors
    /// As [`Writer::seq_of`].
    pub fn is_actor(&mut self, id: &ActorId) -> Result<bool> {
        self.ask(|a| Ok(a.is_actor(id)), |h| h.is_actor(id))
    }

    /// The kind of topic `id`, if it is registered.
    ///
    /// # Errors
    /// As [`Writer::seq_of`].
    pub fn topic_kind(&mut self, id: &TopicId) -> Result<Option<TopicKind>> {
        self.ask(|a| a.topic_kind(id), |h| h.topic(id).map(|t| t.kind))
    }

    /// The stance of `seq` as known now (its corrections applied), if it is a stance.
    ///
    /// # Errors
    /// As [`Writer::seq_of`].
    pub fn stance_now(&mut self, seq: Seq) -> Result<Option<StanceDeclared>> {
        self.ask(|a| a.stance_now(seq), |h| h.stance_known(seq, h.seq_last()))
    }

    /// The event of `seq`, if the log has it.
    ///
    /// # Errors
    /// As [`Writer::seq_of`].
    pub fn event(&mut self, seq: Seq) -> Result<Option<Event>> {
        self.ask(
            |a| match seq <= a.seq_last() && seq > 0 {
                true => a.event(seq).map(Some),
                false => Ok(None),
            },
            |h| h.event(seq),
        )
    }

    /// Makes `self.log`'s history the sparse one an import's `batch` is checked against
    /// (from the index and the pending events), or folds the whole log if the index is lost.
    fn prepare_import(&mut self, batch: &[NewEvent], ids: &[Uuid]) -> Result<()> {
        if let Import::On(a) = &mut self.import {
            match a.history_for_batch(batch, ids) {
                Ok(h) => {
                    let old = std::mem::replace(&mut self.log.history, h);
                    drop_elsewhere(old);
                }
                Err(_) => self.import = Import::Lost,
            }
        }
        self.fold_if_lost()
    }

    /// After an import's batch `from + 1..=last` is appended (durable, or being written:
    /// [`Writer::write_behind`]): adds it to the pending segment, and publishes that when it
    /// is full, once the batch is durable. A failure to keep the index loses it for the rest
    /// of the import (see [`Import::Lost`]), with a warning.
    ///
    /// # Errors
    /// Those of [`Writer::wait_durable`] (the batch was not stored).
    fn follow_import(&mut self, from: Seq, last: Seq) -> Result<Option<String>> {
        let room = self.pending_room();
        let lost = |e: &dyn std::fmt::Display| {
            format!("the projection index was not kept ({e}); the next query brings it up to date")
        };
        let (Import::On(a), Sink::File { .. }) = (&mut self.import, &self.sink) else {
            return Ok(None);
        };
        // The batch's history goes to the pending thread; the next batch gets a new one.
        let h = std::mem::replace(&mut self.log.history, History::sparse_to(last));
        if let Err(e) = a.add(h, from, last) {
            self.import = Import::Lost;
            return Ok(Some(lost(&e)));
        }
        if a.pending.len() < self.pending_max {
            return Ok(None);
        }
        // The index never holds an event the log does not.
        self.wait_durable()?;
        let (Import::On(a), Sink::File { path, .. }) = (&mut self.import, &self.sink) else {
            return Ok(None);
        };
        let reopened = match a.publish(path, &self.log, true) {
            Ok(true) => return Ok(None),
            // A query caught the index up meanwhile: open it as it is now.
            Ok(false) => Index::open(path).and_then(|(index, _)| {
                Appender::new(index, room)
                    .map_err(|e| Error::io(path.display(), std::io::Error::other(e)))
            }),
            Err(e) => Err(e),
        };
        Ok(match reopened {
            Ok(a) => {
                self.import = Import::On(Box::new(a));
                None
            }
            Err(e) => {
                self.import = Import::Lost;
                Some(lost(&e))
            }
        })
    }

    /// The projection index this writer checks its next batch against: `Some` for a writer
    /// opened with [`Writer::open_indexed`] until its first batch is appended (after that the
    /// index is opened again for each batch; [`Writer::log`]'s history is sparse: only what the
    /// last batch needed); `None` when the writer folds the whole log.
    pub fn index(&self) -> Option<&Index> {
        self.index.as_deref()
    }

    /// The log as of the last append.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// Releases the lock (closing the file) and hands back the log as of the last append,
    /// once an import's batch in flight is durable.
    ///
    /// # Errors
    /// Those of [`Writer::wait_durable`]: the batch in flight was not stored.
    pub fn into_log(mut self) -> Result<Log> {
        self.wait_durable()?;
        Ok(self.log)
    }

    /// Appends records already stored in another log (`stancelog copy`): `bytes` are whole
    /// stored lines, each ending in a newline, that continue this log (the next seq, chained to
    /// its head, complete batches). They are folded onto the log first, with every check a read
    /// makes, and written byte for byte only if all pass; on PostgreSQL, only if no other writer
    /// appended since this writer read the log. `source` names them in error messages.
    ///
    /// # Errors
    /// [`Error::Input`] naming the seq and field of the first record that does not continue
    /// the log; [`Error::Conflict`] when another writer appended meanwhile (PostgreSQL);
    /// [`Error::Io`] when the write fails (nothing of it is kept, as for [`Writer::append`]).
    pub fn append_stored(&mut self, bytes: &[u8], source: &str) -> Result<()> {
        self.wait_durable()?;
        let seq_before = self.log.history.seq_last();
        let mut next = Log::resume(
            source,
            bytes,
            Some(self.log.clone()),
            super::log::CHUNK_BYTES,
        )?;
        if next.torn_tail_bytes > 0 {
            return Err(Error::input(
                Location {
                    file: source.to_string(),
                    line: Some(next.history.seq_last() + 1),
                    field: None,
                },
                "the records to copy end inside a batch",
            ));
        }
        match &mut self.sink {
            Sink::File { .. } => {
                let (torn, newline) = (self.log.torn_tail_bytes, self.log.final_newline_missing);
                self.write(bytes, torn, newline && !bytes.is_empty())?;
                next.valid_len = self.log.valid_len + bytes.len() as u64 + u64::from(newline);
            }
            Sink::Postgres(sink) => {
                let PgSink { pg, client, .. } = &mut **sink;
                let rows = stored_rows(bytes, source)?;
                let (tx, log) = PgAppend::begin(connection(client, pg)?, pg, self.log.clone())?;
                let found = log.history.seq_last();
                if found != seq_before {
                    return Err(Error::Conflict {
                        expected: seq_before,
                        found,
                    });
                }
                tx.write(&rows, bytes)?;
            }
        }
        self.log = next;
        Ok(())
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
    /// match (also when an event is refused then: the batch was meant for another log end); [`Error::Io`] when the disk fails. On any error before the write, the log's bytes
    /// and this writer's state are unchanged; when the write or `fdatasync` fails, what was
    /// written of the batch is cut off again (the error says whether that worked; if not, it is
    /// a torn tail). An import's writer ([`Writer::open_import`]) returns once the batch is on
    /// its way (written behind on a thread of its own), and may instead return the error of
    /// its previous batch, which was not stored: its fold (or the import's index) is then
    /// dropped, and the log read again whole at the next append. An error before that wait
    /// (a refused batch) leaves the previous batch in flight: ask [`Writer::wait_durable`].
    pub fn append(
        &mut self,
        batch: &[NewEvent],
        source: &str,
        opts: &AppendOptions,
    ) -> Result<AppendReport> {
        if matches!(self.sink, Sink::Postgres(_)) {
            return self.append_pg(batch, source, opts);
        }
        let recorded_at = next_recorded_at(&self.log, opts);
        // Ids are drawn before staging, so the encoder need not wait for them (and an indexed
        // writer looks each up, drawn ones too).
        let ids = draw_ids(batch, recorded_at);
        self.prepare_indexed(batch, &ids)?;
        self.prepare_import(batch, &ids)?;
        let seq_before = self.log.history.seq_last();
        // Stage, check and encode; a refused batch is rolled back inside.
        let (report, out, head) = stage_batch(
            &mut self.log,
            &mut self.spare,
            batch,
            &ids,
            source,
            opts,
            recorded_at,
        )?;
        let seq_last = self.log.history.seq_last();
        let torn = self.log.torn_tail_bytes;
        let torn_records = self.log.torn_tail_records;
        let newline = self.log.final_newline_missing && !out.is_empty();
        let out_len = out.len() as u64 + u64::from(newline);
        let behind = matches!(self.sink, Sink::File { behind: true, .. })
            && torn == 0
            && !newline
            && !out.is_empty();
        // One batch in flight at a time, written in order.
        let written = match self.wait_durable() {
            Err(e) => Err(e),
            Ok(()) if behind => self.write_behind(out),
            Ok(()) => {
                let written = self.write(&out, torn, newline);
                keep_spare(&mut self.spare, out, self.defer_index);
                written
            }
        };
        if let Err(e) = written {
            self.log.history.rollback_to(seq_before);
            return Err(e);
        }
        self.log.valid_len += out_len;
        self.log.torn_tail_bytes = 0;
        self.log.torn_tail_records = 0;
        self.log.final_newline_missing &= !newline;
        if seq_last > seq_before {
            self.log.head = head;
            self.log.recorded_at_last = Some(recorded_at);
        }
        let index_warning = if self.indexed {
            self.follow_index(seq_last > seq_before)
        } else if matches!(self.import, Import::On(_)) {
            self.follow_import(seq_before, seq_last)?
        } else if self.defer_index || seq_last == seq_before {
            None
        } else {
            self.update_index()?
        };
        Ok(AppendReport {
            events: report,
            torn_bytes_removed: torn,
            torn_records_removed: torn_records,
            index_warning,
            newline_added: newline,
        })
    }

    /// [`Writer::append`] on PostgreSQL. When the writer's fold was the table's end at its
    /// last look and the batch is small, the batch is staged on it and sent in one statement
    /// that stores it only if no other writer appended meanwhile ([`PgAppend::append_at_end`];
    /// prepared on the connection from its second use).
    /// Otherwise (or when that found the table moved on, or the fold refused the batch), in
    /// one transaction: take the writers' lock, catch up with what other writers committed
    /// since (a writer on the index: the index, [`Writer::append_pg_indexed`]; else its
    /// fold), stage and encode the batch as for a file, insert its rows and commit. Acknowledged
    /// (`Ok`) only after COMMIT returned, except a large batch of an import's writer
    /// ([`Writer::append_pg_pipelined`]).
    fn append_pg(
        &mut self,
        batch: &[NewEvent],
        source: &str,
        opts: &AppendOptions,
    ) -> Result<AppendReport> {
        if matches!(&self.sink, Sink::Postgres(s) if s.pipelined) && batch.len() > AT_END_EVENTS_MAX
        {
            return self.append_pg_pipelined(batch, source, opts);
        }
        self.wait_durable()?;
        // An indexed writer's batch is checked against the index, where given ids are looked
        // up (drawn ones are new: random UUID v7).
        let given: Vec<Uuid> = batch.iter().filter_map(|n| n.id).collect();
        // Only a small batch may go in one statement; a large one is checked under the lock
        // (`append_pg_indexed_on` prepares it there), not twice.
        if batch.len() <= AT_END_EVENTS_MAX {
            self.prepare_indexed(batch, &given)?;
        }
        let Sink::Postgres(sink) = &mut self.sink else {
            unreachable!("append_pg on a file log");
        };
        if sink.at_end
            && batch.len() <= AT_END_EVENTS_MAX
            && let Ok(staged) = stage_pg(&mut self.log, &mut self.spare, batch, source, opts)
        {
            let PgSink {
                pg,
                client,
                at_end_appends,
                statement,
                ..
            } = &mut **sink;
            let written = if staged.rows.is_empty() {
                Ok(true)
            } else if staged.out.len() > INSERT_BYTES_MAX {
                // Too long for one message: undone, and sent by COPY under the lock below.
                Ok(false)
            } else {
                // An error here (no connection) rolls the staging back, as a refusal does.
                connection(client, pg).and_then(|client| {
                    if *at_end_appends == 1 {
                        *statement = PgAppend::prepare_at_end(client);
                    }
                    *at_end_appends += 1;
                    let (rows, out) = (&staged.rows, &staged.out);
                    PgAppend::append_at_end(client, pg, statement.as_ref(), rows, out)
                        .map(|r| r == AtEnd::Stored)
                })
            };
            let added = !staged.rows.is_empty();
            if let Some(mut report) = self.settle_pg(staged, written)? {
                report.index_warning = self.follow_index(added);
                return Ok(report);
            }
        }
        if self.indexed {
            return self.append_pg_indexed(batch, source, opts, &given);
        }
        self.append_pg_locked(batch, source, opts)
    }

    /// [`Writer::append_pg`] the locked way for a writer on the index: takes the writers'
    /// lock in the batch's transaction, catches the index up with the table's end under it
    /// (the rows other writers committed since; none move it until this transaction ends),
    /// checks the batch against it, stores it and commits; then brings the index up to it.
    fn append_pg_indexed(
        &mut self,
        batch: &[NewEvent],
        source: &str,
        opts: &AppendOptions,
        given: &[Uuid],
    ) -> Result<AppendReport> {
        let Sink::Postgres(sink) = &mut self.sink else {
            unreachable!("append_pg on a file log");
        };
        let pg = sink.pg.clone();
        let mut client = take_connection(&mut sink.client, &pg)?;
        let done = self.append_pg_indexed_on(&mut client, &pg, batch, source, opts, given);
        if let Sink::Postgres(sink) = &mut self.sink {
            sink.client = Some(client);
        }
        let (mut report, added) = done?;
        report.index_warning = self.follow_index(added);
        Ok(report)
    }

    /// [`Writer::append_pg_indexed`] on `client` (taken out of the sink meanwhile): the
    /// batch's report and whether it added events.
    fn append_pg_indexed_on(
        &mut self,
        client: &mut postgres::Client,
        pg: &PgLog,
        batch: &[NewEvent],
        source: &str,
        opts: &AppendOptions,
        given: &[Uuid],
    ) -> Result<(AppendReport, bool)> {
        let (tx, last) = PgAppend::lock(client, pg)?;
        self.index = None;
        self.prepare_indexed(batch, given)?;
        let found = self.log.history.seq_last();
        if found != last {
            // Only a row stored outside the append path (without the lock) can do this.
            return Err(Error::io(
                pg,
                std::io::Error::other(format!(
                    "the table ends at seq {last} under the writers' lock, but the log read there ends at seq {found}: rows stored outside stancelog's append path?"
                )),
            ));
        }
        let staged = stage_pg(&mut self.log, &mut self.spare, batch, source, opts)?;
        let added = !staged.rows.is_empty();
        let written = write_staged(tx, &staged);
        let report = self.settle_pg(staged, written)?;
        Ok((
            report.expect("a batch written under the lock is stored"),
            added,
        ))
    }

    /// [`Writer::append_pg`] the locked way, in one transaction: take the writers' lock,
    /// fold what other writers committed since, stage and encode the batch, insert its rows
    /// and commit.
    fn append_pg_locked(
        &mut self,
        batch: &[NewEvent],
        source: &str,
        opts: &AppendOptions,
    ) -> Result<AppendReport> {
        let Sink::Postgres(sink) = &mut self.sink else {
            unreachable!("append_pg on a file log");
        };
        let PgSink {
            pg, client, at_end, ..
        } = &mut **sink;
        // Should the catch-up fail, the writer is left with an empty log, which the next
        // append reads again whole.
        let log = std::mem::replace(&mut self.log, Log::empty());
        let seq_mine = log.history.seq_last();
        *at_end = false;
        let (tx, log) = PgAppend::begin(connection(client, pg)?, pg, log)?;
        *at_end = log.history.seq_last() == seq_mine;
        self.log = log;
        let staged = stage_pg(&mut self.log, &mut self.spare, batch, source, opts)?;
        let written = write_staged(tx, &staged);
        let report = self.settle_pg(staged, written)?;
        Ok(report.expect("a batch written under the lock is stored"))
    }

    /// [`Writer::append_pg`] of a large batch by an import's writer ([`Writer::open_import`]):
    /// stages the batch on the fold as it will be once the batch in flight is committed,
    /// waits for that one ([`Writer::wait_durable`]), begins this batch's transaction (the
    /// writers' lock, then the table's end: [`PgAppend::begin_at`]) and hands the insert and
    /// COMMIT to a thread of its own, returning at once. The importer makes the next batch
    /// meanwhile, and the server stores this one. When the table does not end where the fold
    /// does (another writer appended between two batches), the staging is undone and the
    /// batch goes the locked way ([`Writer::append_pg_locked`]).
    fn append_pg_pipelined(
        &mut self,
        batch: &[NewEvent],
        source: &str,
        opts: &AppendOptions,
    ) -> Result<AppendReport> {
        let staged = stage_pg(&mut self.log, &mut self.spare, batch, source, opts);
        // The batch in flight first: its failure undoes the fold (this batch's staging too).
        self.wait_durable()?;
        let mut staged = staged?;
        let Sink::Postgres(sink) = &mut self.sink else {
            unreachable!("append_pg on a file log");
        };
        if staged.rows.is_empty() {
            let report = self.settle_pg(staged, Ok(true))?;
            return Ok(report.expect("a batch with nothing new is kept"));
        }
        let begun = PgAppend::begin_at(
            connection(&mut sink.client, &sink.pg)?,
            &sink.pg,
            staged.seq_before,
        );
        if !matches!(begun, Ok(true)) {
            sink.at_end = false;
            self.settle_pg(staged, begun.map(|_| false))?;
            return self.append_pg_locked(batch, source, opts);
        }
        sink.at_end = true;
        let mut client = sink.client.take().expect("no batch in flight");
        let pg = sink.pg.clone();
        let rows = std::mem::take(&mut staged.rows);
        let out = std::mem::take(&mut staged.out);
        let out_len = out.len() as u64;
        let spawned = thread::Builder::new()
            .name("stancelog-commit".to_string())
            .spawn(move || {
                let done = PgAppend::resume(&mut client, &pg).write(&rows, &out);
                (client, out, done)
            });
        match spawned {
            Ok(handle) => sink.in_flight = InFlight(Some(handle)),
            Err(e) => {
                // The connection went with the thread's closure: the server rolls the open
                // transaction back, nothing of the batch is stored, and later appends connect
                // again (`connection`), the locked way first, their statements prepared anew.
                sink.at_end = false;
                sink.statement = None;
                sink.at_end_appends = 0;
                let lost = Error::io(&sink.pg, e);
                self.log.history.rollback_to(staged.seq_before);
                return Err(lost);
            }
        }
        Ok(self.keep_pg(staged, out_len))
    }

    /// Keeps a batch staged by [`stage_pg`] in the fold when `written` says it was stored
    /// (`Ok(true)`; also when it had nothing new to store), and gives its report; rolls the
    /// fold back when it was not (`Ok(false)`: `None`) or the write failed (the error).
    fn settle_pg(
        &mut self,
        mut staged: StagedPg,
        written: Result<bool>,
    ) -> Result<Option<AppendReport>> {
        let out = std::mem::take(&mut staged.out);
        let out_len = out.len() as u64;
        keep_spare(&mut self.spare, out, self.defer_index);
        match written {
            Ok(true) => Ok(Some(self.keep_pg(staged, out_len))),
            Ok(false) => {
                self.log.history.rollback_to(staged.seq_before);
                Ok(None)
            }
            Err(e) => {
                self.log.history.rollback_to(staged.seq_before);
                Err(e)
            }
        }
    }

    /// Moves the writer's log past a staged batch that is stored (or, for an import's writer,
    /// on its way: [`Writer::append_pg_pipelined`]), whose stored lines are `out_len` bytes,
    /// and gives its report.
    fn keep_pg(&mut self, staged: StagedPg, out_len: u64) -> AppendReport {
        self.log.valid_len += out_len;
        if staged.report.iter().any(|a| !a.duplicate) {
            self.log.head = staged.head;
            self.log.recorded_at_last = Some(staged.recorded_at);
        }
        AppendReport {
            events: staged.report,
            torn_bytes_removed: 0,
            torn_records_removed: 0,
            newline_added: false,
            index_warning: None,
        }
    }

    /// Removes a torn tail of `torn` bytes, then writes `out` (after a newline ending the last
    /// record, if `newline`) and syncs; on failure cuts the file back to where it was. Holds
    /// the writer record's lock throughout, so `verify` can tell this batch from a crash's tail.
    fn write(&mut self, out: &[u8], torn: u64, newline: bool) -> Result<()> {
        let Sink::File {
            path, file, record, ..
        } = &mut self.sink
        else {
            unreachable!("a file write on a PostgreSQL log");
        };
        let _writing = record.as_ref().map(WriterRecord::writing);
        let io = |e| Error::io(path.display(), e);
        if torn > 0 {
            file.set_len(self.log.valid_len).map_err(io)?;
        }
        if !out.is_empty() || torn > 0 {
            // One write: the newline and the batch together (a rare case, worth a copy).
            let with_newline;
            let bytes = if newline {
                with_newline = [b"\n", out].concat();
                &with_newline[..]
            } else {
                out
            };
            write_synced(file, self.log.valid_len, bytes).map_err(io)?;
        }
        Ok(())
    }

    /// [`Writer::write`] of an import's batch `out` (no torn tail, no newline missing) on a
    /// thread of its own, which holds the writer record's lock while it writes and syncs:
    /// returns at once, with no other batch in flight. The kernel's copy of the batch into
    /// the page cache (most of the kernel's copying, which was a third of the CPU of the
    /// thread that runs the engine and the writer) and the wait for the disk overlap with
    /// the next batch's reading, mapping and staging. The batch is durable when
    /// [`Writer::wait_durable`] (or the next append) returns `Ok`. When the thread cannot
    /// have its own descriptors of the log and the writer record (out of descriptors), the
    /// batch is written here instead, as [`Writer::write`] does.
    ///
    /// # Errors
    /// Those of [`Writer::write`] when the batch is written here; [`Error::Io`] when the
    /// thread cannot be started (nothing of the batch is written).
    fn write_behind(&mut self, out: Vec<u8>) -> Result<()> {
        let Sink::File { file, record, .. } = &self.sink else {
            unreachable!("a file write on a PostgreSQL log");
        };
        let cloned = file.try_clone().and_then(|file| {
            let record = record.as_ref().map(WriterRecord::try_clone).transpose()?;
            Ok((file, record))
        });
        let Ok((file, record)) = cloned else {
            let written = self.write(&out, 0, false);
            keep_spare(&mut self.spare, out, self.defer_index);
            return written;
        };
        let at = self.log.valid_len;
        let handle = thread::Builder::new()
            .name("stancelog-write".to_string())
            .spawn(move || {
                let writing = record.as_ref().map(WriterRecord::writing);
                let done = write_synced(&file, at, &out);
                drop(writing);
                (out, done)
            });
        let Sink::File {
            in_flight, path, ..
        } = &mut self.sink
        else {
            unreachable!("a file write on a PostgreSQL log");
        };
        // `append` waited for the batch before: one in flight at a time (a handle replaced
        // here would detach its thread, and its outcome would be lost).
        debug_assert!(in_flight.0.is_none());
        in_flight.0 = Some(handle.map_err(|e| Error::io(path.display(), e))?);
        Ok(())
    }
}

/// Drops `value` on a thread of its own (a folded log of millions of events, a batch's history
/// of tens of thousands): nothing waits for it.
pub fn drop_elsewhere<T: Send + 'static>(value: T) {
    let _ = thread::Builder::new()
        .name("stancelog-free".to_string())
        .spawn(move || drop(value));
}

/// The (seq, id) of each stored line in `bytes`.
fn stored_rows(bytes: &[u8], source: &str) -> Result<Vec<(Seq, Uuid)>> {
    #[derive(serde::Deserialize)]
    struct Key {
        seq: Seq,
        id: Uuid,
    }
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|line| {
            serde_json::from_slice::<Key>(line)
                .map(|k| (k.seq, k.id))
                .map_err(|e| {
                    Error::input(
                        Location {
                            file: source.to_string(),
                            line: None,
                            field: None,
                        },
                        format!("a stored record without seq or id ({e})"),
                    )
                })
        })
        .collect()
}

/// Keeps `out`, emptied, in `spare` for the next batch, unless it is larger than
/// [`SPARE_BYTES_MAX`] and the writer is not an importer's (`many`: [`Writer::defer_index`]),
/// whose batches of tens of thousands of events each need a buffer of tens of MiB: a fresh one
/// per batch cost a page fault (the kernel zeroing a page) per 4 KiB written.
fn keep_spare(spare: &mut Vec<u8>, mut out: Vec<u8>, many: bool) {
    if many || out.capacity() <= SPARE_BYTES_MAX {
        out.clear();
        *spare = out;
    }
}

/// The recorded time of the next batch: `opts.recorded_at` (kept to the microsecond), or one
/// microsecond after the log's last recorded time if that is not earlier. Recorded time rises
/// strictly from batch to batch, so that a "known at T" answer for a T already in the log never
/// changes when later batches arrive.
fn next_recorded_at(log: &Log, opts: &AppendOptions) -> jiff::Timestamp {
    match log.recorded_at_last {
        Some(last) if last >= truncate_to_micros(opts.recorded_at) => {
            // Saturates at the time library's last instant (9999-12-30), which no clock reaches.
            last.checked_add(jiff::SignedDuration::from_micros(1))
                .unwrap_or(last)
        }
        _ => truncate_to_micros(opts.recorded_at),
    }
}

/// A batch staged for PostgreSQL: its report, its encoded lines, the head after it, the
/// (seq, id) of each row to insert (none for an event already in the log), its recorded time
/// and the last seq before it.
struct StagedPg {
    report: Vec<Appended>,
    out: Vec<u8>,
    head: Hash,
    rows: Vec<(Seq, Uuid)>,
    recorded_at: jiff::Timestamp,
    seq_before: Seq,
}

/// Inserts `staged`'s rows in `tx` (the writers' lock held) and commits; with no rows (every
/// event already present), ends `tx` having written nothing. `Ok(true)`: stored.
fn write_staged(tx: PgAppend<'_>, staged: &StagedPg) -> Result<bool> {
    if staged.rows.is_empty() {
        drop(tx);
        return Ok(true);
    }
    tx.write(&staged.rows, &staged.out).map(|()| true)
}

/// Stages, checks and encodes `batch` on `log` as [`stage_batch`] does (a refused batch is
/// rolled back inside), for a PostgreSQL append.
fn stage_pg(
    log: &mut Log,
    spare: &mut Vec<u8>,
    batch: &[NewEvent],
    source: &str,
    opts: &AppendOptions,
) -> Result<StagedPg> {
    let recorded_at = next_recorded_at(log, opts);
    let seq_before = log.history.seq_last();
    let ids = draw_ids(batch, recorded_at);
    let (report, out, head) = stage_batch(log, spare, batch, &ids, source, opts, recorded_at)?;
    let rows = report
        .iter()
        .filter(|a| !a.duplicate)
        .map(|a| (a.seq, a.id))
        .collect();
    Ok(StagedPg {
        report,
        out,
        head,
        rows,
        recorded_at,
        seq_before,
    })
}

/// Stages every event of the batch into the folded log, checks the expected seq and the stored
/// line lengths, and encodes the new records (into `spare`'s buffer). Leaves rolling back to
/// the caller. Both backends append through this: the same checks, the same lines and chain.
///
/// The records are encoded from the events as staged here (seq, id, recorded time, and the
/// batch's own bodies, borrowed), never read back from the history. A batch of
/// [`PIPELINE_EVENTS`] or more is staged and encoded at once (see [`stage_pipelined`]).
///
/// On a refusal the events staged so far are rolled back, so the history is as before the call.
fn stage_batch(
    log: &mut Log,
    spare: &mut Vec<u8>,
    batch: &[NewEvent],
    ids: &[Uuid],
    source: &str,
    opts: &AppendOptions,
    recorded_at: jiff::Timestamp,
) -> Result<(Vec<Appended>, Vec<u8>, Hash)> {
    let seq_before = log.history.seq_last();
    stage_checked(log, spare, batch, ids, source, opts, recorded_at)
        .map_err(|e| conflict_first(e, opts, seq_before))
        .inspect_err(|_| log.history.rollback_to(seq_before))
}

/// A batch refused (an input error) while `opts.expect_seq` is not the log's end `seq_before`
/// is reported as that conflict: the batch was written for another state of the log, so a
/// caller retrying after a timeout learns that someone appended (exit 3), not that its input
/// is bad (exit 2); read again, the same batch may be accepted or refused for what it says.
fn conflict_first(e: Error, opts: &AppendOptions, seq_before: Seq) -> Error {
    match (e, opts.expect_seq) {
        (Error::Input { .. }, Some(expected)) if expected != seq_before => Error::Conflict {
            expected,
            found: seq_before,
        },
        (e, _) => e,
    }
}

/// [`stage_batch`] without the roll-back on refusal.
fn stage_checked(
    log: &mut Log,
    spare: &mut Vec<u8>,
    batch: &[NewEvent],
    ids: &[Uuid],
    source: &str,
    opts: &AppendOptions,
    recorded_at: jiff::Timestamp,
) -> Result<(Vec<Appended>, Vec<u8>, Hash)> {
    if batch.len() > BATCH_EVENTS_MAX {
        // Readers refuse a stored batch of more records (`batch_last`): never write one.
        return Err(Error::input(
            Location {
                file: source.to_string(),
                line: None,
                field: None,
            },
            format!(
                "the batch holds {} events, more than BATCH_EVENTS_MAX ({BATCH_EVENTS_MAX}); split it",
                batch.len()
            ),
        ));
    }
    let seq_before = log.history.seq_last();
    let prev = log.head;
    let buf = std::mem::take(spare);
    // An import's batch is staged on a new sparse history: room for it at once, rather than
    // its tables grown (copied, rehashed) as it goes. A whole log's history (a PostgreSQL
    // log's) is left to grow as it goes: room reserved there could double its tables for a
    // batch that is all duplicates.
    if log.history.is_sparse() {
        log.history.reserve(batch.len());
    }
    let (report, staged, encoded) = if batch.len() >= PIPELINE_EVENTS && encode_workers() > 1 {
        stage_pipelined(log, batch, ids, source, recorded_at, buf)?
    } else {
        let (report, staged) = stage_all(log, batch, ids, source, recorded_at)?;
        let encoded = encode_refs(buf, &prev, &staged);
        (report, staged, encoded)
    };
    let seq_last = log.history.seq_last();
    if let Some(expected) = opts
        .expect_seq
        .filter(|e| *e != seq_before && seq_last > seq_before)
    {
        return Err(Error::Conflict {
            expected,
            found: seq_before,
        });
    }
    // The stored line is longer than the input (seq, id, hash...): check what readers will see.
    let mut start = 0;
    for (end, e) in encoded.line_ends.iter().zip(&staged) {
        let len = end - start - 1;
        start = *end;
        if len > LINE_BYTES_MAX {
            return Err(Error::input(
                Location {
                    file: source.to_string(),
                    line: Some(e.line),
                    field: None,
                },
                format!(
                    "stored, this event would be a line of {len} bytes, more than LINE_BYTES_MAX ({LINE_BYTES_MAX})"
                ),
            ));
        }
    }
    Ok((report, encoded.bytes, encoded.head))
}

/// Appends a batch to the log `target`: opens a [`Writer`] ([`Writer::open_log_indexed`],
/// waiting up to `opts.wait` for a file's lock, so the batch is checked against the
/// projection index rather than the whole log, on both backends), appends, and releases the
/// lock.
///
/// # Errors
/// Those of [`Writer::open_log`] and [`Writer::append`].
pub fn append(
    target: &LogRef,
    batch: &[NewEvent],
    source: &str,
    opts: &AppendOptions,
) -> Result<AppendReport> {
    Writer::open_log_indexed(target, opts.wait)?.append(batch, source, opts)
}

/// The index of the log at `path` for a writer that holds the log's lock, with the log as the
/// index ends it (a sparse history ending at its last seq, its head, length, last recorded
/// time, any torn tail): opened as a query opens it (built, rebuilt or caught up). `None` when
/// the index cannot be written (the writer then folds the whole log).
fn open_index_for_writer(path: &Path) -> Result<Option<(Log, Index)>> {
    let (index, _) = Index::open(path)?;
    if index.in_memory_only() {
        return Ok(None);
    }
    let valid_len = index.end().2;
    let final_newline_missing = valid_len > 0 && {
        let file = File::open(path).map_err(|e| Error::io(path.display(), e))?;
        let mut last = [0u8; 1];
        std::os::unix::fs::FileExt::read_exact_at(&file, &mut last, valid_len - 1)
            .map_err(|e| Error::io(path.display(), e))?;
        last[0] != b'\n'
    };
    let log = log_at_index_end(&index, final_newline_missing);
    Ok(Some((log, index)))
}

/// The index of the PostgreSQL log `pg` in the local cache folder, opened as a query opens
/// it (checked against the table's end, caught up, or built), with the log as the index ends
/// it; `None` when the index cannot be written (the writer then folds the whole table).
fn open_index_for_pg(
    pg: &PgLog,
    client: &mut Option<postgres::Client>,
) -> Result<Option<(Log, Index)>> {
    let (index, _) = Index::open_pg_on(pg, client)?;
    if index.in_memory_only() {
        return Ok(None);
    }
    let log = log_at_index_end(&index, false);
    Ok(Some((log, index)))
}

/// The log as `index` ends it: a sparse history ending at its last seq, its head, length,
/// last recorded time and any torn tail (a file's last record lacking its newline:
/// `final_newline_missing`).
fn log_at_index_end(index: &Index, final_newline_missing: bool) -> Log {
    let (seq, head, valid_len) = index.end();
    Log {
        history: History::sparse_to(seq),
        torn_tail_bytes: index.torn_tail_bytes(),
        torn_tail_records: index.torn_tail_records(),
        recorded_at_last: index.recorded_at(seq),
        head,
        valid_len,
        schema1_records: 0,
        final_newline_missing,
    }
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

/// Batches at least this long are staged on the append pool's thread while the calling thread
/// encodes and hashes them (see [`stage_pipelined`]).
const PIPELINE_EVENTS: usize = 64;

/// Events in a chunk of a pipelined batch: the unit the two threads claim, and how often the
/// encoder checks whether staging has dropped its guess.
const PIPELINE_CHUNK: usize = 64;

/// The largest output buffer a [`Writer`] keeps between batches (8 MiB): enough for batches of
/// several thousand events, without holding on to the memory of a rare huge one.
const SPARE_BYTES_MAX: usize = 8 << 20;

/// Batches at least this long are serialized on several threads by [`encode_batch`].
const PARALLEL_ENCODE_EVENTS: usize = 1024;

/// A stored line's length guessed high, to size buffers: room reserved and never written is
/// never touched, so none of its pages is faulted in, while a guess short of the lines (512
/// bytes, where GDELT's and ICEWS's stances are 550 to 580 with their citation) grew a batch's
/// buffer as it was written: copied, and its pages faulted in and zeroed twice.
const LINE_BYTES_GUESS: usize = 1024;

/// Threads a large batch is serialized on (the cores available, at most 8), asked once per
/// process: `available_parallelism` reads cgroup files on every call.
fn encode_workers() -> usize {
    static WORKERS: OnceLock<usize> = OnceLock::new();
    *WORKERS.get_or_init(|| {
        thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8)
    })
}

/// The pool whose one thread stages pipelined batches, built on first use.
fn append_pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|_| "stancelog-stage".to_string())
            .build()
            .expect("a thread for staging appends")
    })
}

/// How long the append pool's thread keeps polling for the next batch after one.
const KEEP_WARM: Duration = Duration::from_millis(2);

/// Polls for work on the append pool's thread for up to [`KEEP_WARM`], then returns (and the
/// thread sleeps). A batch appended meanwhile, typically the next one after this one's write and
/// `fdatasync`, is staged at once; a sleeping core (measured on a 2-core VM) took 100-470 µs to
/// wake, as long as the staging itself.
fn keep_warm() {
    let until = Instant::now() + KEEP_WARM;
    while Instant::now() < until {
        match rayon::yield_now() {
            Some(rayon::Yield::Executed) => return,
            Some(rayon::Yield::Idle) => std::hint::spin_loop(),
            None => return,
        }
    }
}

/// A new event of a batch being appended, with the batch line it came from.
struct Staged<'a> {
    event: EventRef<'a>,
    line: u64,
}

/// Serializes events as the stored records of one batch following `prev`: canonical JSON lines
/// of the current schema, each with `batch_last` (the seq of the last event) and its chained
/// `hash`. Returns the bytes (every line ending in `\n`) and the new head hash (`prev` itself
/// for no events).
///
/// Each line is written straight from its event (see `store::encode`) and hashed as soon as it
/// is written. The lines of a large batch are serialized on worker threads as well, each with a
/// placeholder hash; the chain, which is sequential, then links them in order and writes each
/// hash in place.
pub fn encode_batch(prev: &Hash, events: &[Event]) -> (Vec<u8>, Hash) {
    let staged: Vec<Staged<'_>> = events
        .iter()
        .map(|e| Staged {
            event: EventRef::from(e),
            line: 0,
        })
        .collect();
    let encoded = encode_refs(Vec::new(), prev, &staged);
    (encoded.bytes, encoded.head)
}

/// A batch's stored lines.
struct Encoded {
    bytes: Vec<u8>,
    /// Offset just after each line's newline, in order.
    line_ends: Vec<usize>,
    head: Hash,
}

/// Encodes lines one at a time and links each into the chain as soon as it is written, while
/// it is still in cache.
struct ChainEncoder {
    lines: LineEncoder,
    out: Vec<u8>,
    line_ends: Vec<usize>,
    head: Hash,
    batch_last: Seq,
}

impl ChainEncoder {
    /// For a batch of about `events` events ending at `batch_last`, following `prev`; writes
    /// into `buf`, emptied first.
    fn new(mut buf: Vec<u8>, prev: Hash, batch_last: Seq, events: usize) -> ChainEncoder {
        buf.clear();
        buf.reserve(events * LINE_BYTES_GUESS);
        ChainEncoder {
            lines: LineEncoder::default(),
            out: buf,
            line_ends: Vec::with_capacity(events),
            head: prev,
            batch_last,
        }
    }

    fn push(&mut self, e: &EventRef<'_>) {
        let start = self.out.len();
        let hash_at = self.lines.line(&mut self.out, e, self.batch_last);
        link_line(&mut self.out, start, hash_at, &mut self.head);
        self.line_ends.push(self.out.len());
    }

    /// Appends the lines of `part` and links each into the chain.
    fn link_part(&mut self, part: &Part) {
        let offset = self.out.len();
        self.out.extend_from_slice(&part.bytes);
        for (i, (start, hash_at)) in part.marks.iter().enumerate() {
            let end = part.marks.get(i + 1).map_or(part.bytes.len(), |m| m.0);
            link_line(
                &mut self.out[..offset + end],
                offset + start,
                offset + hash_at,
                &mut self.head,
            );
            self.line_ends.push(offset + end);
        }
    }

    fn finish(self) -> Encoded {
        Encoded {
            bytes: self.out,
            line_ends: self.line_ends,
            head: self.head,
        }
    }
}

/// Links the line from `start` to the end of `out` (newline included), whose hash member
/// starts at `hash_at`, into the chain after `head`: hashes the line around that member, writes
/// the hex in place and moves `head` on.
fn link_line(out: &mut [u8], start: usize, hash_at: usize, head: &mut Hash) {
    let hex_at = hash_at + HASH_KEY.len();
    let after = hex_at + HASH_HEX_LEN + 1;
    let end = out.len() - 1;
    *head = link(head, &[&out[start..hash_at], &out[after..end]]);
    let hex: &mut [u8; HASH_HEX_LEN] = (&mut out[hex_at..hex_at + HASH_HEX_LEN])
        .try_into()
        .expect("a hash member holds 64 hex digits");
    head.write_hex(hex);
}

/// Stored lines encoded off the chain, to be linked by a [`ChainEncoder`]: their bytes, each
/// line with a placeholder hash, and for each line where it starts and where its hash member
/// starts.
struct Part {
    bytes: Vec<u8>,
    marks: Vec<(usize, usize)>,
}

impl Part {
    /// The lines of `events`, `batch_last` being the seq of their batch's last event.
    fn encode<'a>(events: impl ExactSizeIterator<Item = EventRef<'a>>, batch_last: Seq) -> Part {
        let mut lines = LineEncoder::default();
        let mut bytes = Vec::with_capacity(events.len() * LINE_BYTES_GUESS);
        let marks = events
            .map(|e| {
                let start = bytes.len();
                (start, lines.line(&mut bytes, &e, batch_last))
            })
            .collect();
        Part { bytes, marks }
    }
}

/// The stored lines of `events` after `prev`, `batch_last` being the last event's seq.
///
/// A batch of [`PARALLEL_ENCODE_EVENTS`] or more is serialized on worker threads, each line
/// with a placeholder hash, while the calling thread encodes and links a first, smaller share;
/// it then appends each worker's lines in order and links them.
fn encode_refs(buf: Vec<u8>, prev: &Hash, events: &[Staged<'_>]) -> Encoded {
    let Some(batch_last) = events.last().map(|e| e.event.seq) else {
        return ChainEncoder::new(buf, *prev, 0, 0).finish();
    };
    let workers = encode_workers();
    if events.len() < PARALLEL_ENCODE_EVENTS || workers == 1 {
        let mut enc = ChainEncoder::new(buf, *prev, batch_last, events.len());
        for e in events {
            enc.push(&e.event);
        }
        return enc.finish();
    }
    // The calling thread also links every line, so it takes a smaller share.
    let own = events.len() / (workers + 1);
    let per = (events.len() - own).div_ceil(workers - 1);
    let (mine, rest) = events.split_at(own);
    std::thread::scope(|scope| {
        let handles: Vec<_> = rest
            .chunks(per)
            .map(|chunk| {
                scope.spawn(move || Part::encode(chunk.iter().map(|e| e.event), batch_last))
            })
            .collect();
        let mut enc = ChainEncoder::new(buf, *prev, batch_last, events.len());
        for e in mine {
            enc.push(&e.event);
        }
        let parts: Vec<Part> = handles
            .into_iter()
            // A worker that panicked is a bug: pass the panic on rather than lose its lines.
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        enc.out.reserve(parts.iter().map(|p| p.bytes.len()).sum());
        for part in &parts {
            enc.link_part(part);
        }
        enc.finish()
    })
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

/// Stages `batch` on the append pool's thread while the calling thread encodes and hashes it,
/// on the guess that every event is new (the guess fixes each seq and `batch_last`). Returns
/// what [`stage_all`] returns, and the batch's stored lines following the log's head.
///
/// The calling thread keeps the chain, which is sequential and the longer task. It takes the
/// batch in chunks of [`PIPELINE_CHUNK`] events, in order, claiming each before it encodes it;
/// once staging is done, the pool's thread claims the chunks not yet reached and encodes them
/// (lines with placeholder hashes), so that the calling thread only hashes those. If staging
/// refuses an event or finds a duplicate, the guess is dropped (the calling thread stops at
/// its next chunk) and the new events are encoded after staging. If the pool's thread starts
/// late, the calling thread has claimed every chunk and the batch costs what it would on one
/// thread.
fn stage_pipelined<'b>(
    log: &mut Log,
    batch: &'b [NewEvent],
    ids: &[Uuid],
    source: &str,
    recorded_at: jiff::Timestamp,
    buf: Vec<u8>,
) -> Result<(Vec<Appended>, Vec<Staged<'b>>, Encoded)> {
    let prev = log.head;
    let seq_before = log.history.seq_last();
    let guess_last = seq_before + batch.len() as Seq;
    // The event at `i` as stored if every event of the batch is new.
    let guess = |i: usize| EventRef {
        seq: seq_before + 1 + i as Seq,
        id: ids[i],
        recorded_at,
        body: &batch[i].body,
    };
    let chunk = |c: usize| c * PIPELINE_CHUNK..((c + 1) * PIPELINE_CHUNK).min(batch.len());
    let chunks = batch.len().div_ceil(PIPELINE_CHUNK);
    // Chunks claimed so far, by either thread, in chunk order. Only its own read-modify-writes
    // decide who owns a chunk; the lines themselves travel through the channel.
    let claimed = AtomicUsize::new(0);
    let abandon = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Part>();
    let pool = append_pool();
    let mut staged = None;
    let (claimed, abandon, staged_out) = (&claimed, &abandon, &mut staged);
    let enc = pool.in_place_scope(|scope| {
        scope.spawn(move |_| {
            let s = stage_all(log, batch, ids, source, recorded_at);
            let all_new = matches!(&s, Ok((_, s)) if s.len() == batch.len());
            *staged_out = Some(s);
            if all_new {
                loop {
                    let c = claimed.fetch_add(1, Ordering::Relaxed);
                    if c >= chunks {
                        break;
                    }
                    let part = Part::encode(chunk(c).map(guess), guess_last);
                    // The calling thread stops receiving only when it has dropped the guess.
                    if tx.send(part).is_err() {
                        break;
                    }
                }
            } else {
                abandon.store(true, Ordering::Relaxed);
            }
            drop(tx);
            pool.spawn(keep_warm);
        });
        let mut enc = ChainEncoder::new(buf, prev, guess_last, batch.len());
        chain_chunks(&mut enc, chunks, (claimed, abandon), &rx, |enc, c| {
            for i in chunk(c) {
                enc.push(&guess(i));
            }
        });
        enc
    });
    let (report, staged) = staged.expect("the scope ends after its staging job")?;
    let encoded = if staged.len() == batch.len() {
        enc.finish()
    } else {
        encode_refs(enc.finish().bytes, &prev, &staged)
    };
    Ok((report, staged, encoded))
}

/// The calling thread's side of [`stage_pipelined`]: takes chunks `0..chunks` in order,
/// encoding and chaining (`push_chunk`) each one it claims and linking the part the pool's
/// thread sent for each one that thread claimed, until the guess is abandoned or the pool's
/// thread stops (a panic, which the scope passes on).
fn chain_chunks(
    enc: &mut ChainEncoder,
    chunks: usize,
    (claimed, abandon): (&AtomicUsize, &AtomicBool),
    rx: &mpsc::Receiver<Part>,
    mut push_chunk: impl FnMut(&mut ChainEncoder, usize),
) {
    for c in 0..chunks {
        if abandon.load(Ordering::Relaxed) {
            break;
        }
        if claimed
            .compare_exchange(c, c + 1, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            push_chunk(enc, c);
        } else {
            // The pool's thread claimed chunk `c`: its lines are the next it sends.
            match rx.recv() {
                Ok(part) => enc.link_part(&part),
                Err(_) => break,
            }
        }
    }
}

/// Stages the batch's events in order, `ids[i]` being the id of `batch[i]`: the report, and
/// the new (not duplicate) events with their batch lines.
fn stage_all<'b>(
    log: &mut Log,
    batch: &'b [NewEvent],
    ids: &[Uuid],
    source: &str,
    recorded_at: jiff::Timestamp,
) -> Result<(Vec<Appended>, Vec<Staged<'b>>)> {
    let mut report = Vec::with_capacity(batch.len());
    let mut staged: Vec<Staged<'b>> = Vec::with_capacity(batch.len());
    let seq_before = log.history.seq_last();
    for (new, id) in batch.iter().zip(ids) {
        // The new events of this batch have seqs from `seq_before + 1` on, in `staged` order.
        let line_of = |seq: Seq| {
            let i = usize::try_from(seq.checked_sub(seq_before + 1)?).ok()?;
            staged.get(i).map(|s| s.line)
        };
        let done = stage(log, new, *id, recorded_at, source, line_of)?;
        report.push(done);
        if !done.duplicate {
            staged.push(Staged {
                event: EventRef {
                    seq: done.seq,
                    id: done.id,
                    recorded_at,
                    body: &new.body,
                },
                line: new.line,
            });
        }
    }
    Ok((report, staged))
}

/// Checks one batch event, whose id is `id`, and applies it to the writer's log. `line_of`
/// gives the batch line of a seq staged earlier in this batch (`None` for a seq already in
/// the log), for the message when the id is reused with other content.
fn stage(
    log: &mut Log,
    new: &NewEvent,
    id: Uuid,
    recorded_at: jiff::Timestamp,
    source: &str,
    line_of: impl Fn(Seq) -> Option<u64>,
) -> Result<Appended> {
    let history = &mut log.history;
    let at = |field: &str| Location {
        file: source.to_string(),
        line: Some(new.line),
        field: Some(field.to_string()),
    };
    // `check` looks the id up first, so a duplicate id is found without a second look-up.
    match history.check(&id, &new.body) {
        Ok(()) => {}
        Err(Rejection::DuplicateId { seq, .. }) => {
            return match history.event(seq) {
                Some(old) if old.body == new.body => Ok(Appended {
                    seq,
                    id,
                    duplicate: true,
                }),
                _ => Err(Error::input(
                    at("id"),
                    match line_of(seq) {
                        Some(line) => format!(
                            "id {id} is already used by line {line} of this batch, with different content"
                        ),
                        None => {
                            format!("id {id} is already used by seq {seq} with different content")
                        }
                    },
                )),
            };
        }
        Err(r) => return Err(Error::input(at(r.field()), r.to_string())),
    }
    let seq = history.seq_last() + 1;
    // Borrowed: a stance's body is not copied, only its compact form kept.
    history.apply_parts(seq, id, recorded_at, &new.body);
    Ok(Appended {
        seq,
        id,
        duplicate: false,
    })
}

/// The id of each batch event: its own, or a new v7 one from the recorded time.
fn draw_ids(batch: &[NewEvent], recorded_at: jiff::Timestamp) -> Vec<Uuid> {
    batch
        .iter()
        .map(|n| n.id.unwrap_or_else(|| new_v7(recorded_at)))
        .collect()
}

fn new_v7(at: jiff::Timestamp) -> Uuid {
    let secs = u64::try_from(at.as_second()).unwrap_or(0);
    let nanos = u32::try_from(at.subsec_nanosecond()).unwrap_or(0);
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, secs, nanos);
    Uuid::new_v7(ts)
}

fn truncate_to_micros(t: jiff::Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
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
    use crate::store::record::Record;

    /// The stored bytes of one batch the slow, obvious way: each record through serde_json
    /// with a placeholder hash, the hash computed over the line without its member, then the
    /// record serialized again with it.
    fn oracle(prev: Hash, events: &[Event]) -> (Vec<u8>, Hash) {
        let mut out = Vec::new();
        let mut head = prev;
        let batch_last = events.last().map(|e| e.seq);
        for e in events {
            let mut record = Record::from_event(e);
            record.batch_last = batch_last;
            record.hash = Some(GENESIS_HASH.to_hex());
            let line = serde_json::to_vec(&record).unwrap();
            let (before, after) = super::super::chain::hash_input(&line).unwrap();
            head = link(&head, &[before, after]);
            record.hash = Some(head.to_hex());
            serde_json::to_writer(&mut out, &record).unwrap();
            out.push(b'\n');
        }
        (out, head)
    }

    const HEADER: &str = concat!(
        r#"{"type":"actor.registered","actor":"a","name":"A \"quoted\" \u2028","kind":"state","country":"KOR","sector":"GOV"}"#,
        "\n",
        r#"{"type":"topic.registered","topic":"t","title":"T","kind":"vote","important":true}"#,
        "\n"
    );

    /// Stance events with ids `from..to` (as UUIDs from those numbers).
    fn stances(from: u128, to: u128) -> String {
        let mut text = String::new();
        for i in from..to {
            let stance = if i % 2 == 0 { "yes" } else { "no" };
            text.push_str(&format!(
                r#"{{"id":"{}","type":"stance.declared","actor":"a","topic":"t","stance":"{stance}","date":"{}","quote":"q\t{i} \\ \"x\" 한","cite":{{"publication":"P","title":"T {i}"}}}}"#,
                Uuid::from_u128(i),
                1000 + i % 8000
            ));
            text.push('\n');
        }
        text
    }

    fn opts(secs: i64) -> AppendOptions {
        AppendOptions {
            recorded_at: jiff::Timestamp::from_second(secs).unwrap(),
            expect_seq: None,
            wait: Duration::from_secs(5),
        }
    }

    /// A log holding the header, and its writer.
    fn header_log() -> (tempfile::TempDir, PathBuf, Writer) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        Log::create(&path).unwrap();
        let mut w = Writer::open(&path, Duration::from_secs(5)).unwrap();
        let header = parse_batch("header", HEADER.as_bytes()).unwrap();
        w.append(&header, "header", &opts(1_700_000_000)).unwrap();
        (dir, path, w)
    }

    /// The events of seqs `from..=to` as the file holds them, read back.
    fn stored(path: &Path, from: Seq, to: Seq) -> Vec<Event> {
        let log = Log::open(path).unwrap();
        (from..=to)
            .map(|s| log.history().event(s).unwrap().clone())
            .collect()
    }

    /// A batch long enough to be encoded while it is staged writes exactly the oracle's bytes,
    /// and the writer's head is the oracle's.
    #[test]
    fn a_batch_encoded_while_staged_writes_the_oracle_bytes() {
        let (_dir, path, mut w) = header_log();
        let before = std::fs::read(&path).unwrap();
        let n = (PIPELINE_CHUNK * 5 + 3) as u128;
        assert!(n as usize >= PIPELINE_EVENTS);
        let batch = parse_batch("b", stances(1, n + 1).as_bytes()).unwrap();
        let report = w.append(&batch, "b", &opts(1_700_000_100)).unwrap();
        assert!(report.events.iter().all(|a| !a.duplicate));
        assert_eq!(report.events.last().unwrap().seq, 2 + n as u64);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..before.len()], &before[..]);
        let (want, head) = oracle(
            Log::from_bytes("h", &before).unwrap().head,
            &stored(&path, 3, 2 + n as u64),
        );
        assert_eq!(
            String::from_utf8_lossy(&bytes[before.len()..]),
            String::from_utf8_lossy(&want)
        );
        assert_eq!(w.log().head_hash(), head.to_hex());
    }

    /// When a long batch holds an event already in the log, the guessed `batch_last` is wrong:
    /// the new events are encoded again with the right one.
    #[test]
    fn a_long_batch_with_a_duplicate_is_encoded_with_its_real_batch_last() {
        let (_dir, path, mut w) = header_log();
        let first = parse_batch("a", stances(1, 11).as_bytes()).unwrap();
        w.append(&first, "a", &opts(1_700_000_100)).unwrap();
        let before = std::fs::read(&path).unwrap();
        // 200 new events with an old one (id 5, same content) in the middle.
        let text = format!(
            "{}{}{}",
            stances(100, 200),
            stances(5, 6),
            stances(200, 300)
        );
        let batch = parse_batch("b", text.as_bytes()).unwrap();
        let report = w.append(&batch, "b", &opts(1_700_000_200)).unwrap();
        assert_eq!(report.events.len(), 201);
        assert_eq!(
            (report.events[100].seq, report.events[100].duplicate),
            (7, true)
        );
        assert_eq!(report.events[200].seq, 12 + 200);
        let bytes = std::fs::read(&path).unwrap();
        let (want, head) = oracle(
            Log::from_bytes("h", &before).unwrap().head,
            &stored(&path, 13, 212),
        );
        assert_eq!(
            String::from_utf8_lossy(&bytes[before.len()..]),
            String::from_utf8_lossy(&want)
        );
        assert!(want.ends_with(b"\"type\":\"stance.declared\"}\n"));
        assert_eq!(w.log().head_hash(), head.to_hex());
        assert_eq!(Log::open(&path).unwrap().head_hash(), head.to_hex());
    }

    /// A long batch whose last event is refused leaves the file and the writer as they were,
    /// though its first events were already being encoded; the next batch appends normally.
    #[test]
    fn a_long_batch_refused_at_its_end_leaves_the_log_untouched() {
        let (_dir, path, mut w) = header_log();
        let before = std::fs::read(&path).unwrap();
        let head = w.log().head_hash();
        let text = format!(
            "{}{}",
            stances(1, 300),
            r#"{"type":"stance.declared","actor":"nobody","topic":"t","stance":"yes","date":"2024","cite":{"publication":"P"}}"#
        );
        let batch = parse_batch("b", text.as_bytes()).unwrap();
        let err = w.append(&batch, "b", &opts(1_700_000_100)).unwrap_err();
        assert!(err.to_string().contains("unknown actor `nobody`"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(w.log().head_hash(), head);
        assert_eq!(w.log().history().seq_last(), 2);
        let batch = parse_batch("c", stances(1, 300).as_bytes()).unwrap();
        w.append(&batch, "c", &opts(1_700_000_200)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (want, head) = oracle(
            Log::from_bytes("h", &before).unwrap().head,
            &stored(&path, 3, 301),
        );
        assert_eq!(&bytes[before.len()..], &want[..]);
        assert_eq!(w.log().head_hash(), head.to_hex());
    }

    /// Back-to-back long batches, through one writer, write exactly the oracle's bytes however
    /// their chunks fell between the two threads (the staging thread, kept awake by the
    /// previous batch, takes over more of them); ids drawn for events that had none are the
    /// ones stored and reported; a batch refused at its first event changes nothing.
    #[test]
    fn back_to_back_long_batches_write_the_oracle_bytes() {
        let (_dir, path, mut w) = header_log();
        let mut seq = 2;
        for round in 0..8u128 {
            let before = std::fs::read(&path).unwrap();
            let prev = Log::from_bytes("h", &before).unwrap().head;
            let mut text = stances(round * 1000 + 1, round * 1000 + 700);
            if round % 2 == 1 {
                // No ids: each gets a fresh v7 one.
                text = text
                    .lines()
                    .map(|l| format!("{{{}\n", l.split_once(',').unwrap().1))
                    .collect();
                assert!(text.starts_with("{\"type\""), "{text}");
            }
            if round == 3 {
                let bad = format!(
                    "{}\n{text}",
                    r#"{"type":"stance.declared","actor":"nobody","topic":"t","stance":"yes","date":"2024","cite":{"publication":"P"}}"#
                );
                let batch = parse_batch("bad", bad.as_bytes()).unwrap();
                let err = w.append(&batch, "bad", &opts(1_700_000_000)).unwrap_err();
                assert!(err.to_string().contains("unknown actor `nobody`"), "{err}");
                assert_eq!(std::fs::read(&path).unwrap(), before);
            }
            let batch = parse_batch("b", text.as_bytes()).unwrap();
            let report = w
                .append(&batch, "b", &opts(1_700_000_000 + round as i64))
                .unwrap();
            assert_eq!(report.events.len(), 699);
            let stored_events = stored(&path, seq + 1, seq + 699);
            for (a, e) in report.events.iter().zip(&stored_events) {
                assert_eq!((a.seq, a.id, a.duplicate), (e.seq, e.id, false));
            }
            let (want, head) = oracle(prev, &stored_events);
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&bytes[before.len()..]),
                String::from_utf8_lossy(&want),
                "round {round}"
            );
            assert_eq!(w.log().head_hash(), head.to_hex());
            seq += 699;
        }
        assert_eq!(Log::open(&path).unwrap().history().seq_last(), seq);
    }

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
        let recorded_at = jiff::Timestamp::from_second(1_700_000_000).unwrap();
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
