//! Building the projection index from scratch while the log is read, in bounded memory: the
//! first query on a log without an index, a discarded index, `stancelog index --rebuild`.
//!
//! The log is read as any read does ([`Log::stream`]: worker threads parse and check the hash
//! links of the next pieces while this thread folds, every rule checked by the core's own
//! `History::check`), but the history folded into never holds the whole log. It is started
//! again, sparse, every [`PERIOD_EVENTS`] events, and its events are then handed to a
//! *pending segment* (`pending.rs`, as an import's are: ids at once, and on a thread of its
//! own, while this one folds on, records streamed to the file that becomes their segment,
//! posting lists and account computed from the history handed over), written as a segment every
//! [`BUILD_PENDING_MAX`] events. The history started again holds every registration, alias
//! link and role (few), and the last [`TAIL_EVENTS`] events (which the next corrections,
//! retractions and citations most often target). Before a piece is folded, the ids and
//! targets of its events are looked up in what is no longer in the history (the pending
//! segment's ids, and per written segment a Bloom filter of its ids): a hit (an id used
//! twice, a target from long ago) starts the history again at once with those events and
//! every note of the targets, so `check` reads all it would read on the whole log.
//!
//! The manifest is written once, at the end, under the index's lock (held from the start):
//! a crash leaves the previous manifest and its segments, or none, and unnamed segment files
//! that the next writer removes. A log whose last batch is torn (events folded, then rolled
//! back at the end) is read again up to its last complete batch.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::manifest::{self, Manifest};
use super::pending::{Appender, PENDING_EVENTS_MAX};
use super::segment::Segment;
use super::{Index, Match, merge_last, open_segments, pending_segment, remove_unnamed};
use crate::core::{Event, EventBody, History, Seq};
use crate::error::{Error, Result};
use crate::store::log::{CHUNK_BYTES, Log, Stream, missing_or_io};
use uuid::Uuid;

/// Events a build holds in its pending segment before writing it as a segment (checked after
/// each piece, so up to a piece's events more): 1,800,000, so that its id map (a hash table
/// at most 7/8 full) stays at 2^21 slots, 1,835,008 ids, about 50 MB. An import's run
/// ([`PENDING_EVENTS_MAX`], 1,997,152) doubles that table to 2^22 slots near its end, the two
/// tables held together while it grows: about 100 MB more at a build's peak. Written runs are
/// still never merged again (a merge rewrites every record): two are over `MERGE_EVENTS_MAX`
/// together, and a shorter last run is under half the one before it.
pub(crate) const BUILD_PENDING_MAX: u64 = 1_800_000;

const _: () = assert!(
    BUILD_PENDING_MAX * 2 > super::MERGE_EVENTS_MAX
        && BUILD_PENDING_MAX + (1 << 14) < (1 << 21) / 8 * 7
        && BUILD_PENDING_MAX <= PENDING_EVENTS_MAX
);

/// Events folded into one history before it is started again (its memory freed).
const PERIOD_EVENTS: u64 = 1 << 18;

/// Events of the history carried into the next one when it is started again.
const TAIL_EVENTS: u64 = 1 << 12;

/// How much a build of the index from scratch holds at once (see the `build` module docs):
/// events in its pending segment, events folded into one history before it is started again,
/// events of the history carried into the next, bytes of log per piece read.
/// [`BuildLimits::DEFAULT`] is what queries and `stancelog index` use; tests use small ones so
/// that a small log crosses every limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildLimits {
    /// Events in the pending segment before it is written as a segment.
    pub pending_events: u64,
    /// Events folded into one history before it is started again.
    pub period_events: u64,
    /// Events of the history carried into the next one.
    pub tail_events: u64,
    /// Bytes of log per piece (about: a piece ends at a newline).
    pub chunk_bytes: usize,
}

impl BuildLimits {
    /// `BUILD_PENDING_MAX` (1,800,000), 262,144, 4,096, 1 MiB.
    pub const DEFAULT: BuildLimits = BuildLimits {
        pending_events: BUILD_PENDING_MAX,
        period_events: PERIOD_EVENTS,
        tail_events: TAIL_EVENTS,
        chunk_bytes: CHUNK_BYTES,
    };
}

/// A build in progress: the manifest it will write, the index built so far with its pending
/// segment, and how many events the history holds since it was started.
struct Build {
    dir: PathBuf,
    manifest: Manifest,
    appender: Appender,
    /// The history's end when it was last started.
    started: Seq,
    /// The last seq handed to the pending segment (a history's events are handed over when
    /// it is started again or the pending segment is written; per piece, adding each piece's
    /// account to the pending one cost as much as all else).
    handed: Seq,
    limits: BuildLimits,
    /// The segments of the index a catch-up starts from: named by the manifest on disk until
    /// the new one replaces it, so never removed before (readers may open them).
    kept: Vec<String>,
}

fn io_at(dir: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(dir.display(), e)
}

fn damaged(dir: &Path, e: String) -> Error {
    Error::io(
        dir.display(),
        std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    )
}

impl Build {
    /// A build from the log's start, or from the end of `on` (an index that matches the log,
    /// its manifest and segments, as loaded under the lock), naming its files from
    /// `generation` on.
    fn new(
        dir: &Path,
        generation: u64,
        limits: BuildLimits,
        on: Option<(Manifest, Vec<Segment>)>,
    ) -> Result<Build> {
        let (manifest, segments) = on.unwrap_or_default();
        let manifest = Manifest {
            generation,
            ..manifest
        };
        let kept = manifest.segments.iter().map(|s| s.name.clone()).collect();
        let index = Index::new(dir.to_path_buf(), manifest.clone(), segments);
        let appender = Appender::new(index, limits.pending_events).map_err(|e| damaged(dir, e))?;
        Ok(Build {
            dir: dir.to_path_buf(),
            started: manifest.seq,
            handed: manifest.seq,
            manifest,
            appender,
            limits,
            kept,
        })
    }

    /// The log as folded up to where the build starts: `None` from the log's start; else
    /// the index's end, with a sparse history of every registration, alias link and role.
    fn start(&mut self) -> Result<Option<Log>> {
        let m = &self.manifest;
        if m.seq == 0 {
            return Ok(None);
        }
        let (seq, head, valid_len) = (m.seq, m.head(), m.valid_len);
        let recorded_at_last = self.appender.index.recorded_at(seq);
        let mut history = History::sparse_to(seq);
        self.restart(&mut history, Vec::new(), &[])?;
        Ok(Some(Log {
            history,
            torn_tail_bytes: 0,
            torn_tail_records: 0,
            recorded_at_last,
            head,
            valid_len,
            schema1_records: 0,
            final_newline_missing: false,
        }))
    }

    /// Reads the file log at `path`, `len` bytes of it at most, from where the build starts
    /// ([`Build::start`]) into the index.
    fn read(&mut self, path: &Path, len: u64) -> Result<Log> {
        let name = path.display().to_string();
        let mut file = File::open(path).map_err(|e| missing_or_io(path, e))?;
        let chunk = self.limits.chunk_bytes;
        let start = self.start()?;
        #[cfg(test)]
        tests::READS.with(|r| {
            r.borrow_mut()
                .push(start.as_ref().map_or(0, |l| l.valid_len))
        });
        let from = start.as_ref().map_or(0, |l| l.valid_len);
        file.seek(SeekFrom::Start(from))
            .map_err(|e| Error::io(&name, e))?;
        Log::stream(&name, file.take(len - from), start, chunk, self)
    }

    /// Writes the pending segment as a segment, merges the last ones, removes the files of
    /// those merged (no manifest names them), and, if `go_on`, starts a new pending segment.
    fn write_pending(&mut self, go_on: bool) -> Result<()> {
        let dir = self.dir.clone();
        let io = io_at(&dir);
        let m = &mut self.manifest;
        let pending = &mut self.appender.pending;
        if pending.len() == 0 {
            return Ok(());
        }
        let meta = pending_segment(&dir, m, pending).map_err(&io)?;
        let last = meta.last;
        let before: Vec<String> = m.segments.iter().map(|s| s.name.clone()).collect();
        m.segments.push(meta);
        merge_last(&dir, m).map_err(&io)?;
        m.seq = last;
        for gone in before
            .iter()
            .filter(|n| !m.segments.iter().any(|s| &s.name == *n) && !self.kept.contains(n))
        {
            let _ = fs::remove_file(dir.join(gone));
        }
        if !go_on {
            return Ok(());
        }
        let segments = open_segments(&dir, &m.segments).map_err(|e| damaged(&dir, e))?;
        let index = Index::new(dir.clone(), m.clone(), segments);
        self.appender.published(index).map_err(|e| damaged(&dir, e))
    }

    /// Hands the events `h` holds after `handed` to the pending segment (`h` goes to its
    /// thread, which writes their records and computes their posting lists and account while
    /// this one folds on) and leaves `h` empty, ending where it did; returns its last
    /// [`BuildLimits::tail_events`] events, to be carried into the next history.
    fn hand_over(&mut self, h: &mut History) -> Result<Vec<Event>> {
        let end = h.seq_last();
        let keep_from = end.saturating_sub(self.limits.tail_events) + 1;
        let tail: Vec<Event> = h
            .events()
            .rev()
            .take_while(|e| e.seq >= keep_from)
            .collect();
        let old = std::mem::replace(h, History::sparse_to(end));
        if end > self.handed {
            self.appender
                .add(old, self.handed, end)
                .map_err(io_at(&self.dir))?;
            self.handed = end;
        }
        Ok(tail)
    }

    /// Starts `h` (just handed over) again (see the module docs), holding every registration,
    /// alias link and role, the events of `tail` and those of `seqs` (sorted).
    fn restart(&mut self, h: &mut History, tail: Vec<Event>, seqs: &[Seq]) -> Result<()> {
        let end = h.seq_last();
        let a = &mut self.appender;
        let mut events: Vec<Event> = a.events(seqs).map_err(|e| damaged(&self.dir, e))?;
        events.extend(a.registrations_and_links().cloned());
        events.extend(
            a.index
                .globals()
                .map_err(|e| damaged(&self.dir, e))?
                .iter()
                .cloned(),
        );
        events.extend(tail);
        events.sort_by_key(|e| e.seq);
        events.dedup_by_key(|e| e.seq);
        let mut fresh = History::sparse_to(end);
        fresh.reserve(events.len() + self.limits.period_events as usize);
        for e in events {
            fresh.apply(e);
        }
        *h = fresh;
        self.started = end;
        Ok(())
    }

    /// The seqs of the events no longer in `held` (all when `None`) that checking `events`
    /// reads: an event of the same id, a target with every note of it.
    fn wanted(
        &mut self,
        held: Option<&History>,
        events: &[(Uuid, &EventBody)],
    ) -> Result<Vec<Seq>> {
        let dir = self.dir.clone();
        let damaged = |e| damaged(&dir, e);
        let a = &mut self.appender;
        let gone = |id: &Uuid| held.is_none_or(|h| h.seq_of(id).is_none());
        let mut seqs = Vec::new();
        for (id, body) in events {
            if gone(id) {
                seqs.extend(a.seq_of(id).map_err(damaged)?);
            }
            if let Some(t) = body.target()
                && gone(&t)
                && let Some(seq) = a.seq_of(&t).map_err(damaged)?
            {
                seqs.push(seq);
                seqs.extend(a.notes(seq).map_err(damaged)?);
            }
        }
        seqs.sort_unstable();
        seqs.dedup();
        Ok(seqs)
    }
}

impl Stream for Build {
    fn before(&mut self, h: &mut History, events: &[(Uuid, &EventBody)]) -> Result<()> {
        let held = h.seq_last() - self.started;
        if held < self.limits.period_events && self.wanted(Some(h), events)?.is_empty() {
            return Ok(());
        }
        // What the history started again no longer holds is read from the index built so
        // far, which holds every event folded once they are handed over.
        let tail = self.hand_over(h)?;
        let seqs = self.wanted(None, events)?;
        self.restart(h, tail, &seqs)
    }

    fn after(&mut self, h: &mut History) -> Result<()> {
        let held = h.seq_last() - self.handed;
        if self.appender.pending.len() + held >= self.limits.pending_events {
            let tail = self.hand_over(h)?;
            self.write_pending(true)?;
            self.restart(h, tail, &[])?;
        }
        Ok(())
    }
}

/// The generation the next manifest of the index in `dir` takes: past the current manifest's
/// and any segment file's (a damaged manifest's segments are not overwritten while named).
fn next_generation(dir: &Path) -> u64 {
    let from_manifest = fs::read(dir.join("MANIFEST"))
        .ok()
        .and_then(|b| manifest::decode(&b).ok())
        .map_or(0, |m| m.generation);
    let from_files = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let name = name.to_str()?;
            name.strip_prefix("seg-")?
                .split('-')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    from_manifest.max(from_files)
}

/// What [`build`] and [`catch_up`] did.
pub(crate) enum Built {
    /// It built the index, or caught it up: the log as read (its end and torn tail; its
    /// history holds no event, but ends where the log does).
    Log(Box<Log>),
    /// It found the index current, as loaded under the lock: its manifest, its segments, and
    /// how it stands against the log ([`Match::Same`] or [`Match::Longer`]).
    Current(Manifest, Vec<Segment>, Match),
}

/// How long a process waits for the index's lock before it says on stderr that it waits.
const LOCK_NOTE_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Takes the lock of the index in `dir` (made if missing), held until the result is dropped.
/// When another process has held it for [`LOCK_NOTE_AFTER`] (building or updating the index:
/// a build of a large log takes seconds), says so on stderr, then waits for it.
///
/// # Errors
/// [`Error::Io`] naming the folder when it or its lock file cannot be made or locked.
pub(crate) fn locked(dir: &Path) -> Result<File> {
    use std::fs::TryLockError;
    let io = io_at(dir);
    fs::create_dir_all(dir).map_err(&io)?;
    let lock = File::create(dir.join("LOCK")).map_err(&io)?;
    let since = std::time::Instant::now();
    while since.elapsed() < LOCK_NOTE_AFTER {
        match lock.try_lock() {
            Ok(()) => return Ok(lock),
            Err(TryLockError::WouldBlock) => std::thread::sleep(LOCK_NOTE_AFTER / 100),
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
    }
    eprintln!(
        "stancelog: note: {}: waiting for the index's lock, which another process holds (building or updating the index)",
        dir.display()
    );
    lock.lock().map_err(&io)?;
    Ok(lock)
}

/// The index in `dir`, opened, with how it stands against the log at `path`; `None` when
/// there is none or it cannot be used (as a query's opening judges it).
fn loaded(path: &Path, dir: &Path) -> Result<Option<(Manifest, Vec<Segment>, Match)>> {
    let Ok((m, segments)) = super::load(dir) else {
        return Ok(None);
    };
    Ok(match super::check_log(path, &m)? {
        Match::Differs(_) => None,
        stands => Some((m, segments, stands)),
    })
}

/// Builds the index of the file log at `path` anew in `dir` (see the module docs), holding
/// the index's lock throughout. With `recheck` (a query that found no usable index), it first
/// looks, once it holds the lock, whether the index in `dir` matches the log (ends where the
/// log does, or at a complete batch before), as a query's opening judges it: another process
/// built it while this one waited for the lock; then it builds nothing.
///
/// # Errors
/// Those of [`Log::open`] for the log; [`Error::Io`] naming the folder when the index cannot
/// be written (nothing is then named by a new manifest).
pub(crate) fn build(path: &Path, dir: &Path, limits: BuildLimits, recheck: bool) -> Result<Built> {
    let made = !dir.exists();
    let lock = locked(dir)?;
    if recheck && let Some((m, segments, stands)) = loaded(path, dir)? {
        return Ok(Built::Current(m, segments, stands));
    }
    let built = stream(path, dir, limits, None);
    if built.is_err() && made {
        // A build that made the folder and failed (the file is not a log, or has a bad line)
        // leaves nothing behind: no folder holding a lock and unnamed segments.
        drop(lock);
        let _ = fs::remove_dir_all(dir);
    }
    built
}

/// Catches the index in `dir` up with the file log at `path` as [`build`] builds it, in
/// bounded memory: the log is read from the index's end on (a tail too long to fold at once),
/// the index's segments kept and the new events' written after them. Under the lock, an index
/// found current is handed over as it is, and one that no longer matches the log (or none) is
/// built anew.
///
/// # Errors
/// As [`build`] (a bad line named with its line number in the log).
pub(crate) fn catch_up(path: &Path, dir: &Path, limits: BuildLimits) -> Result<Built> {
    let _lock = locked(dir)?;
    match loaded(path, dir)? {
        Some((m, segments, Match::Same)) => Ok(Built::Current(m, segments, Match::Same)),
        Some((m, segments, _)) => stream(path, dir, limits, Some((m, segments))),
        None => stream(path, dir, limits, None),
    }
}

/// Reads the log at `path` into the index in `dir` (its lock held): from the end of `on` (the
/// index there, as loaded under the lock: it matches the log), else from the log's start;
/// writes the manifest.
fn stream(
    path: &Path,
    dir: &Path,
    limits: BuildLimits,
    on: Option<(Manifest, Vec<Segment>)>,
) -> Result<Built> {
    let io = io_at(dir);
    let from_index = on.is_some();
    let len = fs::metadata(path)
        .map_err(|e| missing_or_io(path, e))?
        .len();
    let mut b = Build::new(dir, next_generation(dir), limits, on)?;
    let first = b.read(path, len)?;
    let mut log = if first.torn_tail_records > 0 && b.handed > first.history.seq_last() {
        // Events of the torn tail were handed over before the fold rolled them back: again,
        // up to the last complete batch. (Not handed over, they are in no segment: the
        // history rolled back is right, as a whole read's.)
        let generation = b.manifest.generation;
        drop(b);
        // The index as its manifest still names it (this build's segments are unnamed).
        let on = match from_index {
            true => loaded(path, dir)?.map(|(m, segments, _)| (m, segments)),
            false => None,
        };
        b = Build::new(dir, generation, limits, on)?;
        let mut log = b.read(path, first.valid_len)?;
        log.torn_tail_bytes = first.torn_tail_bytes;
        log.torn_tail_records = first.torn_tail_records;
        log
    } else {
        first
    };
    let tail_sum = super::Source::File(path).tail_sum(&log)?;
    b.hand_over(&mut log.history)?;
    b.write_pending(false)?;
    let mut m = b.manifest;
    m.generation += 1;
    m.seq = log.history.seq_last();
    m.head = log.head.0;
    m.valid_len = log.valid_len;
    m.tail_sum = tail_sum;
    manifest::write(dir, &m).map_err(&io)?;
    remove_unnamed(dir, &m);
    Ok(Built::Log(Box::new(log)))
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::super::Match;
    use super::{BuildLimits, Built, build, catch_up};
    use crate::store::chain::{HASH_HEX_LEN, HASH_KEY, Hash, hash_input, link};
    use crate::store::index_path;
    use crate::store::log::stored_hash;
    use crate::store::{AppendOptions, IndexCheck, Log, LogRef, append, check_index, parse_batch};

    /// So small that every piece's events are handed over once folded (a torn batch's too).
    const TINY: BuildLimits = BuildLimits {
        pending_events: 1,
        period_events: 1,
        tail_events: 1,
        chunk_bytes: 300,
    };

    thread_local! {
        /// Where each read of the log by a build on this thread started (a byte offset).
        pub(super) static READS: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    /// How many reads of the log started, since last asked.
    fn reads() -> usize {
        READS.with(|r| r.take().len())
    }

    /// Where the reads of the log started, since last asked.
    fn reads_from() -> Vec<u64> {
        READS.with(std::cell::RefCell::take)
    }

    /// Small enough that 60 events make many pieces, segments and histories.
    const SMALL: BuildLimits = BuildLimits {
        pending_events: 9,
        period_events: 4,
        tail_events: 1,
        chunk_bytes: 300,
    };

    fn id(n: usize) -> String {
        format!("00000000-0000-4000-8000-{n:012}")
    }

    fn stance(n: usize) -> String {
        format!(
            "{{\"type\":\"stance.declared\",\"id\":\"{}\",\"actor\":\"a{}\",\"topic\":\"t{}\",\"stance\":\"support\",\"date\":\"2020-01-0{}\",\"cite\":{{\"publication\":\"P\"}}}}\n",
            id(n),
            n % 2,
            n % 3,
            1 + n % 9
        )
    }

    /// A log of 2 actors, 3 topics and 6 batches of 10 stances, the last batch correcting
    /// and retracting stances of the first.
    fn log(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("log.jsonl");
        Log::create(&path).unwrap();
        let log = LogRef::File(path.clone());
        let mut first = String::new();
        for a in 0..2 {
            first += &format!(
                "{{\"type\":\"actor.registered\",\"actor\":\"a{a}\",\"name\":\"A\",\"kind\":\"state\",\"country\":\"KOR\",\"sector\":\"GOV\"}}\n"
            );
        }
        for t in 0..3 {
            first += &format!(
                "{{\"type\":\"topic.registered\",\"topic\":\"t{t}\",\"title\":\"T\",\"kind\":\"policy\"}}\n"
            );
        }
        for k in 0..6 {
            let mut text = if k == 0 { first.clone() } else { String::new() };
            text += &(k * 10..k * 10 + 10).map(stance).collect::<String>();
            if k == 5 {
                text += &format!(
                    "{{\"type\":\"stance.corrected\",\"id\":\"{}\",\"target\":\"{}\",\"reason\":\"r\",\"actor\":\"a1\",\"topic\":\"t2\"}}\n",
                    id(900),
                    id(1)
                );
                text += &format!(
                    "{{\"type\":\"stance.retracted\",\"id\":\"{}\",\"target\":\"{}\",\"reason\":\"r\"}}\n",
                    id(901),
                    id(2)
                );
            }
            let batch = parse_batch("b", text.as_bytes()).unwrap();
            let opts = AppendOptions {
                recorded_at: jiff::Timestamp::from_second(1_700_000_000 + k as i64).unwrap(),
                expect_seq: None,
                wait: Duration::from_secs(5),
            };
            append(&log, &batch, "b", &opts).unwrap();
        }
        path
    }

    /// The lines of the log at `path`, with line `at` (0-based) given the id of line `from`
    /// and every stored hash from there on computed again, so that only the rules see it.
    fn with_id_of(path: &Path, at: usize, from: usize) -> Vec<u8> {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let id_of = |l: &str| l.split("\"id\":\"").nth(1).unwrap()[..36].to_string();
        let (old, new) = (id_of(&lines[at]), id_of(&lines[from]));
        lines[at] = lines[at].replace(&old, &new);
        let mut prev = if at == 0 {
            Hash([0; 32])
        } else {
            stored_hash(lines[at - 1].as_bytes()).unwrap()
        };
        for line in &mut lines[at..] {
            let (before, after) = hash_input(line.as_bytes()).unwrap();
            prev = link(&prev, &[before, after]);
            let start = before.len() + HASH_KEY.len();
            line.replace_range(start..start + HASH_HEX_LEN, &prev.to_hex());
        }
        lines
            .iter()
            .flat_map(|l| format!("{l}\n").into_bytes())
            .collect()
    }

    /// The log a build returns when it built.
    fn built_log(b: crate::error::Result<Built>) -> Log {
        match b.unwrap() {
            Built::Log(log) => *log,
            Built::Current(..) => panic!("no build"),
        }
    }

    /// The files of the index folder `dir`, sorted.
    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Given a query's build (`recheck`) that finds, once it holds the lock, an index another
    /// process made current, then it builds nothing and hands that index over, as it stands
    /// against the log (the same, or a log longer by whole batches); given no index, or a
    /// damaged one, then it builds; `index --rebuild` (no recheck) always builds.
    #[test]
    fn a_rechecking_build_builds_only_when_no_index_matches_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = log(dir.path());
        let idx = index_path(&path);
        let kept = files(&idx);
        let Built::Current(m, _, Match::Same) = build(&path, &idx, SMALL, true).unwrap() else {
            panic!("not current");
        };
        assert_eq!((m.seq, files(&idx)), (67, kept.clone()));
        // The index built on the log without its last batch (12 records), the log then whole.
        let text = std::fs::read(&path).unwrap();
        let cut: usize = text
            .split_inclusive(|b| *b == b'\n')
            .take(55)
            .map(<[u8]>::len)
            .sum();
        std::fs::write(&path, &text[..cut]).unwrap();
        assert_eq!(
            built_log(build(&path, &idx, SMALL, false))
                .history
                .seq_last(),
            55
        );
        std::fs::write(&path, &text).unwrap();
        let Built::Current(m, _, Match::Longer) = build(&path, &idx, SMALL, true).unwrap() else {
            panic!("not current");
        };
        assert_eq!(m.seq, 55);
        let (_, used) = crate::store::Index::open(&path).unwrap();
        assert_eq!(used, crate::store::IndexUse::CaughtUp { from: 55 });
        std::fs::write(idx.join("MANIFEST"), b"damaged").unwrap();
        assert_eq!(
            built_log(build(&path, &idx, SMALL, true))
                .history
                .seq_last(),
            67
        );
        std::fs::remove_dir_all(&idx).unwrap();
        assert_eq!(
            built_log(build(&path, &idx, SMALL, true))
                .history
                .seq_last(),
            67
        );
        let whole = Log::open(&path).unwrap();
        assert_eq!(
            check_index(&path, &whole).unwrap(),
            IndexCheck::Agrees { seq: 67 }
        );
    }

    /// Given a log of many pieces and small limits, then the index built from scratch agrees
    /// with the whole log as `verify` compares them; and so with a torn last batch (its
    /// whole records folded, then rolled back): the index ends at the batch before, as the
    /// whole log's read does, and says how much it left out.
    #[test]
    fn a_build_in_pieces_agrees_with_the_log_and_leaves_a_torn_batch_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = log(dir.path());
        std::fs::remove_dir_all(index_path(&path)).unwrap();
        let built = built_log(build(&path, &index_path(&path), SMALL, false));
        let whole = Log::open(&path).unwrap();
        assert_eq!(built.history.seq_last(), 67);
        assert_eq!(
            check_index(&path, &whole).unwrap(),
            IndexCheck::Agrees { seq: 67 }
        );
        // The last batch (12 records, seqs 56 to 67) cut after 3 whole records and a half.
        let text = std::fs::read(&path).unwrap();
        let cut: usize = text
            .split_inclusive(|b| *b == b'\n')
            .take(55 + 3)
            .map(<[u8]>::len)
            .sum();
        std::fs::write(&path, &text[..cut + 40]).unwrap();
        let whole = Log::open(&path).unwrap();
        // Tiny limits hand the torn records over before the end: the log is read again; the
        // default ones do not: read once, the history rolled back as a whole read's.
        for (limits, reads_wanted) in [(TINY, 2), (BuildLimits::DEFAULT, 1)] {
            reads();
            let built = built_log(build(&path, &index_path(&path), limits, false));
            assert_eq!(reads(), reads_wanted);
            assert_eq!((built.history.seq_last(), built.torn_tail_records), (55, 3));
            assert_eq!(whole.torn_tail_bytes, built.torn_tail_bytes);
            assert_eq!(
                check_index(&path, &whole).unwrap(),
                IndexCheck::Agrees { seq: 55 }
            );
        }
    }

    /// Given an index of the log's first two batches (25 events), a log of six, and small
    /// limits, then a catch-up reads the log from the index's end only and agrees with the
    /// whole log; and so with the last batch torn (read again
    /// from the index's end when its records were handed over, once when not). An index that
    /// matches is handed over unread; none, or a damaged one, is built from the log's start.
    #[test]
    fn a_catch_up_reads_from_the_index_end_and_agrees_with_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = log(dir.path());
        let idx = index_path(&path);
        let text = std::fs::read(&path).unwrap();
        let end_of = |lines: usize| -> usize {
            text.split_inclusive(|b| *b == b'\n')
                .take(lines)
                .map(<[u8]>::len)
                .sum()
        };
        let index_of_two_batches = || {
            std::fs::write(&path, &text[..end_of(25)]).unwrap();
            built_log(build(&path, &idx, SMALL, false));
        };
        index_of_two_batches();
        std::fs::write(&path, &text).unwrap();
        reads();
        let caught = built_log(catch_up(&path, &idx, SMALL));
        let from = end_of(25) as u64;
        assert_eq!((reads_from(), caught.history.seq_last()), (vec![from], 67));
        let whole = Log::open(&path).unwrap();
        assert_eq!(
            check_index(&path, &whole).unwrap(),
            IndexCheck::Agrees { seq: 67 }
        );
        let Built::Current(m, _, Match::Same) = catch_up(&path, &idx, SMALL).unwrap() else {
            panic!("not current");
        };
        assert_eq!((reads(), m.seq), (0, 67));
        // Torn: the last batch cut after 3 whole records and a half.
        let torn = &text[..end_of(58) + 40];
        let whole = Log::from_bytes("torn", torn).unwrap();
        for (limits, reads_wanted) in [(TINY, 2), (BuildLimits::DEFAULT, 1)] {
            index_of_two_batches();
            std::fs::write(&path, torn).unwrap();
            reads();
            let caught = built_log(catch_up(&path, &idx, limits));
            assert_eq!(reads_from(), vec![from; reads_wanted]);
            assert_eq!(
                (caught.history.seq_last(), caught.torn_tail_records),
                (55, 3)
            );
            assert_eq!(caught.torn_tail_bytes, whole.torn_tail_bytes);
            assert_eq!(
                check_index(&path, &whole).unwrap(),
                IndexCheck::Agrees { seq: 55 }
            );
        }
        std::fs::write(&path, &text).unwrap();
        std::fs::write(idx.join("MANIFEST"), b"damaged").unwrap();
        let caught = built_log(catch_up(&path, &idx, SMALL));
        assert_eq!((reads_from(), caught.history.seq_last()), (vec![0], 67));
        let whole = Log::open(&path).unwrap();
        assert_eq!(
            check_index(&path, &whole).unwrap(),
            IndexCheck::Agrees { seq: 67 }
        );
    }

    /// Given an id used twice, far enough apart that the history no longer holds the first
    /// (it is in a written segment), then the build refuses the log with the whole read's
    /// error (line, field, the seq of the first), and writes no manifest.
    #[test]
    fn an_id_used_twice_far_apart_is_refused_as_a_whole_read_refuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = log(dir.path());
        std::fs::write(&path, with_id_of(&path, 60, 6)).unwrap();
        let whole = Log::open(&path).unwrap_err().to_string();
        assert!(
            whole.ends_with(":61: field `id`: event id 00000000-0000-4000-8000-000000000001 is already used by seq 7"),
            "{whole}"
        );
        let dir = index_path(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        let Err(built) = build(&path, &dir, SMALL, false) else {
            panic!("built");
        };
        let built = built.to_string();
        assert_eq!(built, whole);
        assert!(!dir.join("MANIFEST").exists());
    }
}
