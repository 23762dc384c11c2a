//! What several commands share: finding and opening the log, reading `--known-at`, turning
//! `--actor`/`--topic`/`--issue` into a filter, and the words for torn tails and time points.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use stancelog::core::{ActorId, At, EventBody, Filter, History, Seq, TopicId, ValidDate, nfc};
use stancelog::import::countries::check_country;
use stancelog::store::{
    self, AppendOptions, Index, IndexUse, Log, LogRef, NewEvent, Record, Writer, format_recorded_at,
};
use stancelog::{Error, Location};
use uuid::Uuid;

use super::Failure;
use super::args::{Args, KnownAt, RecordFormat, Scope, WriteArgs};

/// Set by `--quiet`: notes and progress bars are not shown.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Records `--quiet` for the whole run.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// The log of `--log` (or STANCELOG_LOG): a file, or a PostgreSQL database.
pub fn log_ref(args: &Args) -> Result<LogRef, Error> {
    // An empty or blank value (`--log ''`, `STANCELOG_LOG=` set but empty) gives no log either.
    let text = args
        .log
        .as_deref()
        .filter(|t| !t.to_str().is_some_and(|s| s.trim().is_empty()))
        .ok_or_else(|| {
            Error::Usage("no log given: pass --log PATH|URL or set STANCELOG_LOG".to_string())
        })?;
    LogRef::parse(text)
}

/// Reads and folds the whole log (for the commands that need every event: exports, reports,
/// measures), with the warning of a torn tail.
pub fn open(target: &LogRef) -> Result<Log, Error> {
    let log = target.open()?;
    warn_torn_tail(target, &log);
    Ok(log)
}

/// Refuses an output file (`--out` of `export` and `report`) that is the log itself, its
/// writer record, or inside its projection index: writing there would destroy what the log
/// holds. Paths are compared canonical (symbolic links and `..` resolved; an output that does
/// not exist yet by its folder). A PostgreSQL log has no such files.
///
/// # Errors
/// [`Error::Usage`] naming `--out` and the log.
pub fn refuse_log_as_output(out: &Path, target: &LogRef) -> Result<(), Error> {
    let LogRef::File(log) = target else {
        return Ok(());
    };
    let canonical = |p: &Path| {
        p.canonicalize().ok().or_else(|| {
            let folder = p.parent().filter(|f| !f.as_os_str().is_empty());
            let folder = folder.unwrap_or(Path::new(".")).canonicalize().ok()?;
            Some(folder.join(p.file_name()?))
        })
    };
    let (Some(out_at), Some(log_at)) = (canonical(out), canonical(log)) else {
        return Ok(());
    };
    let index = canonical(&stancelog::store::index_path(log));
    let owned = out_at == log_at
        || out_at == stancelog::store::writer_record_path(&log_at)
        || index.is_some_and(|d| out_at.starts_with(d));
    if owned {
        return Err(Error::Usage(format!(
            "--out {} is the log {} or one of its files; write the output elsewhere",
            out.display(),
            log.display()
        )));
    }
    Ok(())
}

/// Opens the projection index of the log for a query (see [`Index::open_log`]): checked
/// against the log, caught up with it, or built; an index that does not match the log is
/// discarded and rebuilt, with a note on stderr. A file log's index is beside it; a PostgreSQL
/// log's is in the local cache folder ([`store::cache_root`]).
pub fn open_index(target: &LogRef) -> Result<Index, Error> {
    let (index, used) = Index::open_log(target)?;
    warn_torn_index(target, &index);
    note_index_use(&index, used);
    Ok(index)
}

/// Says on stderr how the index was come by, when a user would want to know: discarded and
/// rebuilt (a note), or not written at all (a warning: answers come from the log itself).
pub fn note_index_use(index: &Index, used: IndexUse) {
    match used {
        IndexUse::Rebuilt { reason } if !quiet() => eprintln!(
            "stancelog: note: {}: index discarded: {reason}; rebuilt it from the log",
            index.dir().display()
        ),
        IndexUse::Unwritable { reason } => eprintln!(
            "stancelog: warning: the projection index could not be written ({reason}); answered from the log itself"
        ),
        _ => {}
    }
}

/// Reads from the index, rebuilt first if the read finds it damaged
/// ([`Index::read_or_rebuild`]).
pub fn read_index<T>(
    target: &LogRef,
    index: &mut Index,
    read: impl Fn(&Index) -> Result<T, String>,
) -> Result<T, Error> {
    index.read_or_rebuild(target, read)
}

/// The registrations, alias links and roles, from the index, to resolve `--actor`, `--topic`
/// and `--issue` (an empty history when the scope names none: nothing is read).
pub fn registry(target: &LogRef, index: &mut Index, scope: &Scope) -> Result<History, Error> {
    if scope.actor.is_empty() && scope.topic.is_empty() && scope.issue.is_empty() {
        return Ok(History::sparse());
    }
    read_index(target, index, |i| {
        i.registry_for(&scope.actor, &scope.topic, !scope.issue.is_empty())
    })
}

/// Warns on stderr that a torn tail was ignored, if there was one.
pub fn warn_torn_tail(target: &LogRef, log: &Log) {
    let torn = (log.torn_tail_bytes(), log.torn_tail_records());
    warn_torn(target, Some(log.history().seq_last()), torn, NEXT_APPEND);
}

/// Warns on stderr that a torn tail after the index's end was ignored, if there was one.
pub fn warn_torn_index(target: &LogRef, index: &Index) {
    let torn = (index.torn_tail_bytes(), index.torn_tail_records());
    warn_torn(target, Some(index.seq_last()), torn, NEXT_APPEND);
}

/// What becomes of an ignored torn tail, as a query's warning says it.
const NEXT_APPEND: &str = "the next append removes it";

/// Warns on stderr that a torn tail of (bytes, whole records) after seq `seq_last` (when
/// known) was ignored, if there was one, and what becomes of it (`then`).
fn warn_torn(target: &LogRef, seq_last: Option<Seq>, (bytes, records): (u64, u64), then: &str) {
    if bytes > 0 {
        eprintln!(
            "stancelog: warning: {}: ignoring a torn tail of {bytes} bytes{} (a batch still being written, or cut short by a crash, so never acknowledged); {then}",
            target,
            torn_records(seq_last, records),
        );
    }
}

/// Says on stderr what an append repaired before writing its batch: a torn tail it removed, a
/// newline it wrote after a last record that had none.
pub fn report_repairs(target: &LogRef, report: &store::AppendReport) {
    say_repairs(
        target,
        (report.torn_bytes_removed, report.torn_records_removed),
        report.newline_added,
    );
    if let Some(w) = &report.index_warning {
        eprintln!("stancelog: warning: {}: {w}", target);
    }
}

/// [`report_repairs`] of an import: the same words, or with `--dry-run` that the torn tail
/// was left (the import would remove it).
pub fn report_import_repairs(target: &LogRef, report: &stancelog::import::ImportReport) {
    if report.dry_run {
        warn_torn(target, None, report.torn_tail, "the import would remove it");
    } else {
        say_repairs(target, report.torn_tail, report.newline_added);
    }
}

/// Says on stderr that a torn tail of (bytes, whole records) was removed, and that a missing
/// final newline was written, for those that happened.
fn say_repairs(target: &LogRef, (bytes, records): (u64, u64), newline_added: bool) {
    if bytes > 0 {
        eprintln!(
            "stancelog: removed a torn tail of {bytes} bytes from {} before appending{}",
            target,
            torn_records(None, records),
        );
    }
    if newline_added {
        eprintln!(
            "stancelog: {}: its last record had no newline after it; wrote one before appending (the record was complete and is kept)",
            target
        );
    }
}

/// Words for the whole records in a torn tail (which follow seq `seq_last`, when known); empty
/// for none.
pub fn torn_records(seq_last: Option<Seq>, records: u64) -> String {
    let seqs = |n: u64| match seq_last {
        Some(s) if n == 1 => format!(" (seq {})", s + 1),
        Some(s) => format!(" (seq {} to {})", s + 1, s + n),
        None => String::new(),
    };
    match records {
        0 => String::new(),
        1 => format!(": 1 whole record{} of an unfinished batch", seqs(1)),
        n => format!(": {n} whole records{} of an unfinished batch", seqs(n)),
    }
}

/// Turns a `--known-at` time into the cutoff seq: the last event recorded at or before it. A
/// date means the end of that UTC day; today's date means now.
///
/// A time after the newest recorded event answers with the whole log, and the cutoff used (that
/// newest event) is printed on standard error, so the answer can be reproduced with that time. A
/// time in the future (after `now`, the clock) is refused: appends stamped by the clock could
/// still be recorded before it, so it has no answer yet.
pub fn known(
    h: &impl Recorded,
    t: Option<KnownAt>,
    flag: &str,
    now: jiff::Timestamp,
) -> Result<Option<Seq>, Error> {
    let Some(KnownAt {
        at: mut t,
        whole_day,
    }) = t
    else {
        return Ok(None);
    };
    // Today's date means "as known now": the rest of the day has not happened yet.
    if whole_day && t > now && t - jiff::SignedDuration::from_hours(24) < now {
        t = now;
    }
    if t > now {
        return Err(Error::Usage(format!(
            "{flag} {}: that time is in the future; what the log knows then is not known yet",
            format_recorded_at(&t)
        )));
    }
    let newest = h.seq_last();
    match h.recorded_at(newest) {
        Some(recorded_at) if t > recorded_at => {
            if !quiet() {
                eprintln!(
                    "stancelog: note: {flag} {} is after the newest event; answering as recorded by seq {newest} ({})",
                    format_recorded_at(&t),
                    format_recorded_at(&recorded_at)
                );
            }
            Ok(Some(newest))
        }
        _ => Ok(Some(h.seq_known_at(t))),
    }
}

/// What `--known-at` and table headings need of a log: its fold, or its projection index
/// (whose sparse histories do not know the whole log's recorded times and dates).
pub trait Recorded {
    /// The last seq.
    fn seq_last(&self) -> Seq;
    /// The recorded time of a seq.
    fn recorded_at(&self, seq: Seq) -> Option<jiff::Timestamp>;
    /// The last seq recorded at or before `t`.
    fn seq_known_at(&self, t: jiff::Timestamp) -> Seq;
    /// The latest date of any stance.
    fn date_last(&self) -> Option<ValidDate>;
}

impl Recorded for History {
    fn seq_last(&self) -> Seq {
        History::seq_last(self)
    }
    fn recorded_at(&self, seq: Seq) -> Option<jiff::Timestamp> {
        History::recorded_at(self, seq)
    }
    fn seq_known_at(&self, t: jiff::Timestamp) -> Seq {
        History::seq_known_at(self, t)
    }
    fn date_last(&self) -> Option<ValidDate> {
        History::date_last(self)
    }
}

impl Recorded for Index {
    fn seq_last(&self) -> Seq {
        Index::seq_last(self)
    }
    fn recorded_at(&self, seq: Seq) -> Option<jiff::Timestamp> {
        Index::recorded_at(self, seq)
    }
    fn seq_known_at(&self, t: jiff::Timestamp) -> Seq {
        Index::seq_known_at(self, t)
    }
    fn date_last(&self) -> Option<ValidDate> {
        Index::date_last(self)
    }
}

/// `as recorded by seq N (TIME)` for a recorded-time cutoff the log has, else `None` (no
/// cutoff, or seq 0).
pub fn recorded_by(h: &impl Recorded, known: Option<Seq>) -> Option<String> {
    let seq = known?;
    let t = h.recorded_at(seq)?;
    Some(format!(
        "as recorded by seq {seq} ({})",
        format_recorded_at(&t)
    ))
}

/// Words for a point on both time axes, for table headings.
pub fn describe(h: &impl Recorded, at: At) -> String {
    let valid = match at.as_of {
        Some(d) => format!("as of {d}"),
        None => match h.date_last() {
            Some(d) => format!("as of the latest date in the log ({d})"),
            None => "(the log has no stances)".to_string(),
        },
    };
    match recorded_by(h, at.known) {
        Some(words) => format!("{valid}, {words}"),
        None if at.known == Some(0) => format!("{valid}, as recorded before the first event"),
        None => valid,
    }
}

/// Turns `--actor`/`--topic` flags into a filter, refusing what the log does not know. An
/// `--actor` may be an id, or a name or alias of exactly one actor; both are compared in Unicode
/// NFC, so a name typed and the same name pasted in another normalization match.
pub fn filter(history: &History, scope: &Scope) -> Result<Filter, Error> {
    let mut f = Filter::default();
    for a in &scope.actor {
        f.actors.insert(resolve_actor(history, a)?);
    }
    for t in &scope.topic {
        let id = TopicId::new(t).map_err(|e| Error::Usage(format!("--topic: {e}")))?;
        if !history.topics().contains_key(&id) {
            return Err(Error::Usage(format!(
                "--topic: unknown topic `{t}` (see `stancelog topics`)"
            )));
        }
        f.topics.insert(id);
    }
    for tag in &scope.issue {
        if !history
            .topics()
            .keys()
            .any(|t| history.topic(t).is_some_and(|x| x.issues.contains(tag)))
        {
            return Err(Error::Usage(format!(
                "--issue: no topic is tagged `{tag}` (see `stancelog topics`)"
            )));
        }
        f.issues.insert(tag.clone());
    }
    Ok(f)
}

pub fn resolve_actor(history: &History, text: &str) -> Result<ActorId, Error> {
    if let Some(id) = ActorId::new(text)
        .ok()
        .filter(|id| history.actors().contains_key(id))
    {
        return Ok(id);
    }
    let wanted = nfc(text.trim());
    let actors = history.actors();
    let named: Vec<&ActorId> = actors
        .keys()
        .filter(|id| {
            history.actor(id).is_some_and(|a| {
                nfc(&a.name) == wanted || a.aliases.iter().any(|x| nfc(x) == wanted)
            })
        })
        .collect();
    // Actors linked by `actor.aliased` are one actor: a name they share names it (by the id
    // they are known under now; a query takes every id linked to it anyway).
    let canonical = |id: &ActorId| history.canonical_actor(id, Seq::MAX).clone();
    match named.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::Usage(format!(
            "--actor: no actor has the id, name or alias `{text}` (see `stancelog actors`)"
        ))),
        [first, rest @ ..] if rest.iter().all(|id| canonical(id) == canonical(first)) => {
            Ok(canonical(first))
        }
        many => Err(Error::Usage(format!(
            "--actor: `{text}` names {} actors ({}); give an id",
            many.len(),
            many.iter()
                .map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Reads the batch input: a file, or standard input for `-` or no argument.
pub fn read_input(file: Option<&str>) -> Result<(String, Vec<u8>), Error> {
    let mut bytes = Vec::new();
    match file {
        None | Some("-") => {
            io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| Error::io("standard input", e))?;
            Ok(("-".to_string(), bytes))
        }
        Some(f) => {
            let p = PathBuf::from(f);
            bytes = std::fs::read(&p).map_err(|e| Error::io(p.display(), e))?;
            Ok((f.to_string(), bytes))
        }
    }
}

/// Resolves an actor given on the command line by `flag`: an id, or a name or alias of exactly
/// one actor (compared in Unicode NFC). An ambiguous name is refused, listing the candidates.
///
/// # Errors
/// [`Error::Usage`] naming `flag` for an unknown or ambiguous actor.
pub fn resolve_actor_as(history: &History, text: &str, flag: &str) -> Result<ActorId, Error> {
    resolve_actor(history, text).map_err(|e| match e {
        Error::Usage(m) => Error::Usage(m.replacen("--actor", flag, 1)),
        other => other,
    })
}

/// Resolves a topic given on the command line: an id, or the title of exactly one topic
/// (compared in Unicode NFC).
///
/// # Errors
/// [`Error::Usage`] for an unknown topic, or a title several topics have (listing them).
pub fn resolve_topic(history: &History, text: &str) -> Result<TopicId, Error> {
    if let Some(id) = TopicId::new(text).ok().filter(|id| history.is_topic(id)) {
        return Ok(id);
    }
    let wanted = nfc(text.trim());
    let named: Vec<TopicId> = history
        .topics()
        .into_keys()
        .filter(|id| history.topic(id).is_some_and(|t| nfc(&t.title) == wanted))
        .collect();
    match named.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Error::Usage(format!(
            "--topic: no topic has the id or title `{text}` (see `stancelog topics`)"
        ))),
        many => Err(Error::Usage(format!(
            "--topic: `{text}` is the title of {} topics ({}); give an id",
            many.len(),
            many.iter()
                .map(TopicId::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// What the recording commands (`add`, `new`, `retract`, `correct`, `cite`) resolve names and
/// `SEQ|ID` targets against: the folded log (a writer that could not have the index), or the
/// projection index (as the writer opened it, or as a query opens it for a dry run), of
/// which only what
/// the text names is read (the registration of an id; every registration for a name or an
/// alias; the one record of a seq). Both give the same answers and the same errors.
pub enum Lookup<'a> {
    /// The whole log's fold.
    Log(&'a History),
    /// The log's projection index, as the writer opened it.
    Index(&'a Index),
}

impl Lookup<'_> {
    /// [`resolve_actor_as`] against the log or its index.
    ///
    /// # Errors
    /// Those of [`resolve_actor_as`]; [`Error::Io`] for damage found in the index.
    pub fn actor(&self, text: &str, flag: &str) -> Result<ActorId, Error> {
        match self {
            Lookup::Log(h) => resolve_actor_as(h, text, flag),
            Lookup::Index(ix) => {
                let h = ix
                    .registry_for(&[text.to_string()], &[], false)
                    .map_err(|d| damaged(ix, d))?;
                resolve_actor_as(&h, text, flag)
            }
        }
    }

    /// [`resolve_topic`] against the log or its index.
    ///
    /// # Errors
    /// Those of [`resolve_topic`]; [`Error::Io`] for damage found in the index.
    pub fn topic(&self, text: &str) -> Result<TopicId, Error> {
        match self {
            Lookup::Log(h) => resolve_topic(h, text),
            Lookup::Index(ix) => {
                let h = ix
                    .registry_for(&[], &[text.to_string()], false)
                    .map_err(|d| damaged(ix, d))?;
                resolve_topic(&h, text)
            }
        }
    }

    /// [`resolve_target`] against the log or its index.
    ///
    /// # Errors
    /// Those of [`resolve_target`]; [`Error::Io`] for damage found in the index.
    pub fn target(&self, text: &str) -> Result<String, Error> {
        match self {
            Lookup::Log(h) => resolve_target(h, text),
            Lookup::Index(ix) => target_of(text, ix.seq_last(), |seq| {
                ix.event_at(seq)
                    .map(|e| e.map(|e| e.id))
                    .map_err(|d| damaged(ix, d))
            }),
        }
    }
}

/// Damage found in the index while resolving a name: an I/O error asking for a rebuild (the
/// next query rebuilds it; the batch was not appended).
fn damaged(ix: &Index, damage: String) -> Error {
    Error::io(
        ix.dir().display(),
        io::Error::other(format!(
            "the projection index is damaged ({damage}); run `stancelog index --rebuild` and try again"
        )),
    )
}

/// Resolves the stance a `retract`, `correct` or `cite` targets: a seq (a whole number) or an
/// event id (a UUID), to the event id.
///
/// # Errors
/// [`Error::Usage`] when the seq is not in the log or the text is neither a seq nor a UUID.
/// Whether the target is a live `stance.declared` is checked on append, as for `append`.
pub fn resolve_target(history: &History, text: &str) -> Result<String, Error> {
    target_of(text, history.seq_last(), |seq| {
        Ok(history.event(seq).map(|e| e.id))
    })
}

/// [`resolve_target`] with the log's last seq and the id of the event of a seq given.
fn target_of(
    text: &str,
    seq_last: Seq,
    id_of: impl Fn(Seq) -> Result<Option<Uuid>, Error>,
) -> Result<String, Error> {
    if let Ok(seq) = text.trim().parse::<Seq>() {
        return match id_of(seq)? {
            Some(id) => Ok(id.hyphenated().to_string()),
            None => Err(Error::Usage(format!(
                "SEQ|ID: the log has no seq {seq} (its last is {seq_last})"
            ))),
        };
    }
    store::parse_uuid(text.trim(), "target")
        .map(|u| u.hyphenated().to_string())
        .map_err(|e| {
            Error::Usage(format!(
                "SEQ|ID: `{text}` is neither a seq nor an event id ({})",
                e.message
            ))
        })
}

/// How the fields of an event built from flags are named in messages: `date` is `--date`,
/// `cite.publication` is `--cite-publication`, and so on.
pub fn flag_of(field: &str) -> String {
    match field {
        "" => String::new(),
        // `type` is the command's own choice, never a flag: its errors (a correction that sets
        // no field) are about the event as a whole.
        "type" => String::new(),
        "target" => "SEQ|ID".to_string(),
        "aliases" => "--alias".to_string(),
        "issues" => "--issue".to_string(),
        "cite" => "--cite-publication".to_string(),
        "cite.via" => "--via".to_string(),
        f => format!("--{}", f.replace(['.', '_'], "-")),
    }
}

/// Writes one event built on the command line through the same path as `append`: the record
/// is encoded as a one-line batch, parsed by [`store::parse_batch`] and appended by the
/// [`Writer`] (same checks, same errors, with the field named as `name` says). `build` makes the
/// record from the log as the writer opened it (on a file log, under its lock; names and
/// targets are resolved against it through a [`Lookup`]). The writer is
/// [`Writer::open_log_indexed`]'s, on both backends: names, targets and the checks read only
/// what the event names from the projection index, so the cost follows the event, not the
/// log.
/// Prints the stored record (see [`WriteArgs::format`]).
///
/// With `--dry-run` the log's index is read without the lock (opened as a query opens it), the
/// event checked against it as `append` would check it, and printed without being appended.
///
/// # Errors
/// Those of `build` and of [`Writer::open_log_indexed`] and [`Writer::append`]; input errors
/// are reported as usage errors naming the field as `name` gives it.
pub fn record_one(
    w: &WriteArgs,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
    name: &dyn Fn(&str) -> String,
    build: &dyn Fn(&Lookup) -> Result<Record, Error>,
) -> Result<(), Failure> {
    let parse = |record: &Record| -> Result<Vec<NewEvent>, Error> {
        let bytes = serde_json::to_vec(record).map_err(|e| Error::Usage(e.to_string()))?;
        store::parse_batch("", &bytes)
            .and_then(|b| check_countries("", &b).map(|()| b))
            .map_err(|e| renamed(e, name))
    };
    if w.dry_run {
        let mut index = open_index(target)?;
        let record = build(&Lookup::Index(&index))?;
        let batch = parse(&record)?;
        let ids: Vec<Uuid> = batch.iter().filter_map(|e| e.id).collect();
        let h = &read_index(target, &mut index, |ix| ix.history_for_batch(&batch, &ids))?;
        let new = &batch[0];
        if let Some(e) = w.expect_seq.filter(|e| *e != h.seq_last()) {
            return Err(Error::Conflict {
                expected: e,
                found: h.seq_last(),
            }
            .into());
        }
        let status = match new.id.and_then(|id| h.seq_of(&id).map(|s| (id, s))) {
            Some((_, seq)) if h.event(seq).is_some_and(|old| old.body == new.body) => {
                format!("dry run: already in the log as seq {seq}; nothing would be appended")
            }
            _ => {
                let id = new.id.unwrap_or_else(Uuid::nil);
                if let Err(r) = h.check(&id, &new.body) {
                    return Err(Error::Usage(field_message(name(r.field()), &r.to_string())).into());
                }
                "dry run: checked against the log; nothing appended".to_string()
            }
        };
        return show(out, w.format, &status, &record).map_err(Failure::from);
    }
    let mut writer = Writer::open_log_indexed(target, Duration::from_secs_f64(w.wait))?;
    let record = match writer.index() {
        Some(ix) => build(&Lookup::Index(ix))?,
        None => build(&Lookup::Log(writer.log().history()))?,
    };
    let batch = parse(&record)?;
    let opts = AppendOptions {
        recorded_at: now,
        expect_seq: w.expect_seq,
        wait: Duration::from_secs_f64(w.wait),
    };
    let report = writer
        .append(&batch, "", &opts)
        .map_err(|e| renamed(e, name))?;
    report_repairs(target, &report);
    let done = report.events[0];
    let stored = writer
        .log()
        .history()
        .event(done.seq)
        .map(|e| Record::from_event(&e))
        .unwrap_or(record);
    let status = if done.duplicate {
        format!(
            "already in the log as seq {} (id {}); not stored again",
            done.seq, done.id
        )
    } else {
        format!("appended seq {} (id {})", done.seq, done.id)
    };
    show(out, w.format, &status, &stored).map_err(Failure::from)
}

/// Checks the `country` of each `actor.registered` of a batch against ISO 3166 (with
/// [`check_country`]: alpha-3, ISO 3166-3 former codes, `IGO`, `NGO`, `EUU`, the user-assigned
/// ranges), beyond the shape (three capital letters) that parsing checks, as the importers do.
/// Only new events are checked: a stored log is read as it was written.
///
/// # Errors
/// [`Error::Input`] naming `name`, the event's line and the field `country`.
pub fn check_countries(name: &str, batch: &[NewEvent]) -> Result<(), Error> {
    for e in batch {
        if let EventBody::ActorRegistered(a) = &e.body {
            check_country(a.country.as_str()).map_err(|message| {
                let at = Location {
                    file: name.to_string(),
                    line: Some(e.line),
                    field: Some("country".to_string()),
                };
                Error::input(at, message)
            })?;
        }
    }
    Ok(())
}

fn field_message(field: String, message: &str) -> String {
    if field.is_empty() {
        message.to_string()
    } else {
        format!("{field}: {message}")
    }
}

/// An input error about the one-line batch, told by the field's name for the user.
fn renamed(e: Error, name: &dyn Fn(&str) -> String) -> Error {
    match e {
        Error::Input { at, message } => Error::Usage(field_message(
            name(at.field.as_deref().unwrap_or("")),
            &message,
        )),
        other => other,
    }
}

/// Prints a recorded event: a status line and the record as one JSON line, or (`json`) the
/// record alone.
fn show(out: &mut dyn Write, format: RecordFormat, status: &str, r: &Record) -> io::Result<()> {
    match format {
        RecordFormat::Table => {
            writeln!(out, "{status}")?;
            serde_json::to_writer(&mut *out, r)?;
        }
        RecordFormat::Json => serde_json::to_writer_pretty(&mut *out, r)?,
    }
    writeln!(out)
}
