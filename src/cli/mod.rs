//! Argument parsing and the commands. Only this layer reads the clock and the environment.

mod args;
mod imports;
mod progress;
mod render;

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

use chrono::{DateTime, Utc};

use stancelog::core::{ActorId, At, Filter, History, Seq, TopicId, nfc};
use stancelog::import::Progress;
use stancelog::store::{self, AppendOptions, Log, TailCheck, format_recorded_at};
use stancelog::{Error, Location};

use args::{Args, Command, KnownAt, Scope};
use render::Render;

/// Why the command stopped early.
pub enum Failure {
    /// The reader of standard output went away (`stancelog positions | head`): end quietly.
    BrokenPipe,
    /// An error to report.
    Error(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Error(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Error(Error::io("standard output", e))
        }
    }
}

/// Parses the arguments, runs the command, writes the answer to standard output.
pub fn try_main() -> Result<(), Failure> {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            // Help and version go to stdout with exit 0; usage errors to stderr with exit 2.
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    run(args, &mut out)?;
    out.flush()?;
    Ok(())
}

fn log_path(args: &Args) -> Result<&Path, Error> {
    args.log.as_deref().ok_or_else(|| {
        Error::Usage("no log given: pass --log PATH or set STANCELOG_LOG".to_string())
    })
}

/// Reads a log for a query, starting from its snapshot when that is valid. A snapshot that does
/// not match the log is discarded with a warning and rebuilt.
fn open(path: &Path) -> Result<Log, Error> {
    let (log, used) = store::open_log(path)?;
    warn_torn_tail(path, &log);
    if let store::SnapshotUse::Discarded { reason } = used {
        eprintln!(
            "stancelog: warning: {}: snapshot discarded: {reason}; rebuilding it",
            store::snapshot_path(path).display()
        );
        if let Err(e) = store::write_snapshot(path, &log) {
            eprintln!("stancelog: warning: could not rebuild the snapshot: {e}");
        }
    }
    Ok(log)
}

/// Warns on stderr that a torn tail was ignored, if there was one.
fn warn_torn_tail(path: &Path, log: &Log) {
    if log.torn_tail_bytes() > 0 {
        eprintln!(
            "stancelog: warning: {}: ignoring a torn tail of {} bytes{} (a batch still being written, or cut short by a crash, so never acknowledged); the next append removes it",
            path.display(),
            log.torn_tail_bytes(),
            torn_records(Some(log.history().seq_last()), log.torn_tail_records()),
        );
    }
}

/// Words for the whole records in a torn tail (which follow seq `seq_last`, when known); empty
/// for none.
fn torn_records(seq_last: Option<Seq>, records: u64) -> String {
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
fn known(
    h: &History,
    t: Option<KnownAt>,
    flag: &str,
    now: DateTime<Utc>,
) -> Result<Option<Seq>, Error> {
    let Some(KnownAt {
        at: mut t,
        whole_day,
    }) = t
    else {
        return Ok(None);
    };
    // Today's date means "as known now": the rest of the day has not happened yet.
    if whole_day && t > now && t - chrono::TimeDelta::days(1) < now {
        t = now;
    }
    if t > now {
        return Err(Error::Usage(format!(
            "{flag} {}: that time is in the future; what the log knows then is not known yet",
            format_recorded_at(&t)
        )));
    }
    match h.event(h.seq_last()) {
        Some(newest) if t > newest.recorded_at => {
            eprintln!(
                "stancelog: note: {flag} {} is after the newest event; answering as recorded by seq {} ({})",
                format_recorded_at(&t),
                newest.seq,
                format_recorded_at(&newest.recorded_at)
            );
            Ok(Some(newest.seq))
        }
        _ => Ok(Some(h.seq_known_at(t))),
    }
}

/// Words for a point on both time axes, for table headings.
fn describe(h: &History, at: At) -> String {
    let valid = match at.as_of {
        Some(d) => format!("as of {d}"),
        None => match h.date_last() {
            Some(d) => format!("as of the latest date in the log ({d})"),
            None => "(the log has no stances)".to_string(),
        },
    };
    match at.known.and_then(|s| h.event(s).map(|e| (s, e))) {
        Some((seq, e)) => format!(
            "{valid}, as recorded by seq {seq} ({})",
            format_recorded_at(&e.recorded_at)
        ),
        None if at.known == Some(0) => format!("{valid}, as recorded before the first event"),
        None => valid,
    }
}

/// Turns `--actor`/`--topic` flags into a filter, refusing what the log does not know. An
/// `--actor` may be an id, or a name or alias of exactly one actor; both are compared in Unicode
/// NFC, so a name typed and the same name pasted in another normalization match.
fn filter(history: &History, scope: &Scope) -> Result<Filter, Error> {
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

fn resolve_actor(history: &History, text: &str) -> Result<ActorId, Error> {
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
    match named.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::Usage(format!(
            "--actor: no actor has the id, name or alias `{text}` (see `stancelog actors`)"
        ))),
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

fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let path = log_path(&args)?.to_path_buf();
    // The one reading of the clock: the recorded time of appends and imports, and the present
    // against which --known-at is checked.
    let now = chrono::Utc::now();
    match &args.command {
        Command::Init => {
            Log::create(&path)?;
            writeln!(out, "created empty log {}", path.display())?;
        }
        Command::Append(a) => {
            let (name, bytes) = read_input(a.file.as_deref())?;
            let batch = store::parse_batch(&name, &bytes)?;
            let opts = AppendOptions {
                recorded_at: now,
                expect_seq: a.expect_seq,
                wait: Duration::from_secs_f64(a.wait),
            };
            let report = store::append(&path, &batch, &name, &opts)?;
            if report.torn_bytes_removed > 0 {
                eprintln!(
                    "stancelog: removed a torn tail of {} bytes from {} before appending{}",
                    report.torn_bytes_removed,
                    path.display(),
                    torn_records(None, report.torn_records_removed),
                );
            }
            // The batch is durable now: a report that cannot be written must not read as a
            // failed append, which a script might retry (storing twice events without ids).
            let shown = Render::new(a.format)
                .appended(out, &report)
                .and_then(|()| out.flush());
            if let Err(e) = shown {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    return Err(Failure::BrokenPipe);
                }
                let stored = report.events.iter().filter(|a| !a.duplicate).count();
                return Err(Error::io(
                    "standard output",
                    io::Error::new(
                        e.kind(),
                        format!(
                            "{e}; the batch WAS appended ({stored} new event(s)), only this report was lost: do not append it again (events without an id would be stored twice)"
                        ),
                    ),
                )
                .into());
            }
        }
        Command::Positions(p) => {
            let log = open(&path)?;
            let h = log.history();
            let f = filter(h, &p.scope)?;
            let at = At {
                as_of: p.as_of,
                known: known(h, p.known_at, "--known-at", now)?,
            };
            let when = describe(h, at);
            Render::new(p.format).positions(out, h, &when, || h.positions_iter(at, &f))?;
        }
        Command::Diff(d) => {
            let log = open(&path)?;
            let h = log.history();
            let f = filter(h, &d.scope)?;
            let from = At {
                as_of: Some(d.from),
                known: known(h, d.from_known_at.or(d.known_at), "--from-known-at", now)?,
            };
            let to = At {
                as_of: Some(d.to),
                known: known(h, d.to_known_at.or(d.known_at), "--to-known-at", now)?,
            };
            let when = format!("from {} to {}", describe(h, from), describe(h, to));
            Render::new(d.format).diff(out, h, &when, || h.diff_iter(from, to, &f))?;
        }
        Command::Timeline(t) => {
            let log = open(&path)?;
            let h = log.history();
            let f = filter(h, &t.scope)?;
            let known = known(h, t.known_at, "--known-at", now)?;
            Render::new(t.format).timeline(out, h, || h.timeline_iter(known, &f))?;
        }
        Command::Actors(l) => {
            let log = open(&path)?;
            Render::new(l.format).actors(out, log.history())?;
        }
        Command::Topics(l) => {
            let log = open(&path)?;
            Render::new(l.format).topics(out, log.history())?;
        }
        Command::Import(i) => {
            let bar = progress::Bar::new();
            let wait = Duration::from_secs_f64(i.wait);
            let report = match &i.kind {
                imports::ImportKind::Unvotes(a) => imports::unvotes::run(&path, a, now, wait, &bar),
                imports::ImportKind::TreatyStatus(a) => {
                    imports::treaty::run(&path, a, now, wait, &bar)
                }
                imports::ImportKind::Csv(a) => imports::sheet::run(&path, a, now, wait, &bar),
            };
            bar.finish();
            let report = report?;
            Render::new(i.format).imported(out, &report)?;
            if report.appended == 0 && report.already_present == 0 && !report.refused.is_empty() {
                return Err(Error::Usage(format!(
                    "nothing imported: all {} row(s) were refused (listed above)",
                    report.refused.len()
                ))
                .into());
            }
        }
        Command::Snapshot(l) => {
            let log = Log::open(&path)?;
            warn_torn_tail(&path, &log);
            let (snap, size) = store::write_snapshot(&path, &log)?;
            Render::new(l.format).snapshot(out, &log, &snap, size)?;
        }
        Command::Verify(l) => {
            let mut log = Log::open(&path)?;
            // A batch being appended right now reads as a torn tail: look again.
            let being_written = log.torn_tail_bytes() > 0
                && match log.recheck_tail(&path)? {
                    TailCheck::Settled(now) => {
                        log = now;
                        false
                    }
                    TailCheck::BeingWritten(first) => {
                        log = first;
                        eprintln!(
                            "stancelog: note: {}: a writer is appending a batch after seq {} ({} bytes written so far, not checked); verified the log before it",
                            path.display(),
                            log.history().seq_last(),
                            log.torn_tail_bytes()
                        );
                        true
                    }
                };
            if log.torn_tail_bytes() > 0 && !being_written {
                return Err(Error::input(
                    Location {
                        file: path.display().to_string(),
                        line: Some(log.history().seq_last() + 1),
                        field: None,
                    },
                    format!(
                        "torn tail: {} bytes of an unterminated line or unfinished batch; the next append removes them",
                        log.torn_tail_bytes()
                    ),
                )
                .into());
            }
            Render::new(l.format).verified(out, &log)?;
        }
    }
    Ok(())
}

/// Reads the batch input: a file, or standard input for `-` or no argument.
fn read_input(file: Option<&str>) -> Result<(String, Vec<u8>), Error> {
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
