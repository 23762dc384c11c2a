//! What several commands share: finding and opening the log, reading `--known-at`, turning
//! `--actor`/`--topic`/`--issue` into a filter, and the words for torn tails and time points.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use stancelog::Error;
use stancelog::core::{ActorId, At, Filter, History, Seq, TopicId, nfc};
use stancelog::store::{self, Index, IndexUse, Log, format_recorded_at};

use super::args::{Args, KnownAt, Scope};

pub fn log_path(args: &Args) -> Result<&Path, Error> {
    args.log.as_deref().ok_or_else(|| {
        Error::Usage("no log given: pass --log PATH or set STANCELOG_LOG".to_string())
    })
}

/// Opens the projection index of the log for a query (see [`Index::open`]): checked against
/// the log, caught up with it, or built; an index that does not match the log is discarded and
/// rebuilt, with a note on stderr.
pub fn open_index(path: &Path) -> Result<Index, Error> {
    let (index, used) = Index::open(path)?;
    warn_torn_index(path, &index);
    match used {
        IndexUse::Rebuilt { reason } => eprintln!(
            "stancelog: note: {}: index discarded: {reason}; rebuilt it from the log",
            store::index_path(path).display()
        ),
        IndexUse::Unwritable { reason } => eprintln!(
            "stancelog: warning: the projection index could not be written ({reason}); answered from the log itself"
        ),
        _ => {}
    }
    Ok(index)
}

/// Reads from the index; when the read finds it damaged, the index is discarded and rebuilt
/// from the log (with a note on stderr), and the read done again on the new one.
pub fn read_index<T>(
    path: &Path,
    index: &mut Index,
    read: impl Fn(&Index) -> Result<T, String>,
) -> Result<T, Error> {
    match read(index) {
        Ok(v) => Ok(v),
        Err(reason) => {
            eprintln!(
                "stancelog: note: {}: index discarded: {reason}; rebuilt it from the log",
                store::index_path(path).display()
            );
            *index = Index::rebuild(path)?;
            read(index).map_err(|e| {
                Error::io(
                    store::index_path(path).display(),
                    io::Error::other(format!("the index just rebuilt cannot be read: {e}")),
                )
            })
        }
    }
}

/// The filter of `--actor`/`--topic`/`--issue` and a history that answers queries under it,
/// both read from the index (only the registrations when the scope is empty... none at all).
pub fn query_history(
    path: &Path,
    index: &mut Index,
    scope: &Scope,
) -> Result<(Filter, History), Error> {
    let f = if scope.actor.is_empty() && scope.topic.is_empty() && scope.issue.is_empty() {
        Filter::default()
    } else {
        filter(&read_index(path, index, |i| i.registry())?, scope)?
    };
    let h = read_index(path, index, |i| i.history(&f))?;
    Ok((f, h))
}

/// Warns on stderr that a torn tail was ignored, if there was one.
pub fn warn_torn_tail(path: &Path, log: &Log) {
    warn_torn(
        path,
        log.history().seq_last(),
        log.torn_tail_bytes(),
        log.torn_tail_records(),
    );
}

/// Warns on stderr that a torn tail after the index's end was ignored, if there was one.
pub fn warn_torn_index(path: &Path, index: &Index) {
    warn_torn(
        path,
        index.seq_last(),
        index.torn_tail_bytes(),
        index.torn_tail_records(),
    );
}

/// Warns on stderr that a torn tail of `bytes` (with `records` whole records) after seq
/// `seq_last` was ignored, if there was one.
fn warn_torn(path: &Path, seq_last: Seq, bytes: u64, records: u64) {
    if bytes > 0 {
        eprintln!(
            "stancelog: warning: {}: ignoring a torn tail of {bytes} bytes{} (a batch still being written, or cut short by a crash, so never acknowledged); the next append removes it",
            path.display(),
            torn_records(Some(seq_last), records),
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
    index: &Index,
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
    let newest = index.seq_last();
    match index.recorded_at(newest) {
        Some(recorded_at) if t > recorded_at => {
            eprintln!(
                "stancelog: note: {flag} {} is after the newest event; answering as recorded by seq {newest} ({})",
                format_recorded_at(&t),
                format_recorded_at(&recorded_at)
            );
            Ok(Some(newest))
        }
        _ => Ok(Some(index.seq_known_at(t))),
    }
}

/// Words for a point on both time axes, for table headings.
pub fn describe(index: &Index, at: At) -> String {
    let valid = match at.as_of {
        Some(d) => format!("as of {d}"),
        None => match index.date_last() {
            Some(d) => format!("as of the latest date in the log ({d})"),
            None => "(the log has no stances)".to_string(),
        },
    };
    match at.known.and_then(|s| index.recorded_at(s).map(|t| (s, t))) {
        Some((seq, t)) => format!(
            "{valid}, as recorded by seq {seq} ({})",
            format_recorded_at(&t)
        ),
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
