//! Checking an index against its log, whole (for `verify` and `stancelog index --check`).

use super::keys;
use super::manifest::Manifest;
use super::segment::Located;
use super::topics;
use super::{Index, Match, Source, load};
use crate::core::{Event, EventBody, History, Seq};
use crate::error::Result;
use crate::store::{Log, LogRef};
use std::path::Path;

/// What [`check_index`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexCheck {
    /// There is no index (the next query builds it).
    Absent,
    /// There is no index, and the next query cannot write it (its folder, or the folder it
    /// would be made in, is not writable by this process: a read-only folder): queries answer
    /// from the log's fold, with a warning.
    Unwritable {
        /// The folder and why, in words.
        why: String,
    },
    /// The index agrees with the log, which it covers whole.
    Agrees {
        /// The last seq covered.
        seq: u64,
    },
    /// The index agrees with the log up to its end, which the log has passed (the next query
    /// or append catches it up).
    Behind {
        /// The last seq covered.
        seq: u64,
    },
    /// The index is of another format version, damaged where a query looks first, or does not
    /// end where the log has that record (the log was restored, cut or replaced): no query
    /// uses it; the next one discards it and rebuilds it, unless it cannot write its folder.
    Unusable {
        /// Why, in words.
        why: String,
        /// `None` when the next query can rebuild it; else its folder and why it cannot be
        /// written (a read-only folder), in words: queries answer from the log's fold, with a
        /// warning.
        unwritable: Option<String>,
    },
    /// The index ends where the log has that record, so queries would use it, but its content
    /// does not agree with the log (damaged): a query that reads the damaged part discards it.
    Disagrees {
        /// The first disagreement, in words.
        what: String,
    },
}

/// Whether a query could write an index at `dir`: the folder, or where it does not exist yet
/// the nearest folder above it that does, is writable by this process (as `access(2)` says,
/// writing nothing); `Err` names the folder and why not.
fn writable(dir: &Path) -> std::result::Result<(), String> {
    let mut at = dir;
    while !at.exists() {
        match at.parent() {
            Some(p) if !p.as_os_str().is_empty() => at = p,
            _ => {
                at = Path::new(".");
                break;
            }
        }
    }
    let access = rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK;
    rustix::fs::access(at, access)
        .map_err(|e| format!("{}: {}", at.display(), std::io::Error::from(e)))
}

/// Compares the index of the log at `log_path` with `log` (that log, read whole and checked):
/// where it ends, every segment's checksum, every event and its id, each segment's topic table
/// (the log's topic registrations in its seqs), the posting lists (each must name at least
/// what a fresh build would), and the counts, dates and recorded times.
///
/// # Errors
/// [`crate::Error::Io`] when the log cannot be read where the index ends.
pub fn check_index(log_path: &Path, log: &Log) -> Result<IndexCheck> {
    check_index_of(&LogRef::File(log_path.to_path_buf()), log)
}

/// [`check_index`] for a log on either backend (a PostgreSQL log's index is in the local
/// cache folder: see [`super::cache_root`]).
///
/// # Errors
/// As [`check_index`], and [`crate::Error::Io`] when the server fails or no cache folder can
/// be named.
pub fn check_index_of(target: &LogRef, log: &Log) -> Result<IndexCheck> {
    let mut src = Source::of(target);
    let dir = src.dir()?;
    // An index absent or unusable is the next query's to build: can it write there?
    Ok(match compared(&mut src, &dir, log)? {
        IndexCheck::Absent => match writable(&dir) {
            Ok(()) => IndexCheck::Absent,
            Err(why) => IndexCheck::Unwritable { why },
        },
        IndexCheck::Unusable { why, .. } => IndexCheck::Unusable {
            why,
            unwritable: writable(&dir).err(),
        },
        found => found,
    })
}

/// [`check_index_of`] for the index in `dir`, of the log `src`, without asking whether the
/// next query could write it (an `Unusable` index is said to be rebuilt).
fn compared(src: &mut Source<'_>, dir: &Path, log: &Log) -> Result<IndexCheck> {
    let (m, segments) = match load(dir) {
        Ok(x) => x,
        Err(reason) if reason == "there is none" => return Ok(IndexCheck::Absent),
        Err(why) => return Ok(unusable(why)),
    };
    let h = &log.history;
    if m.seq > h.seq_last() {
        let why = format!("it covers seq {}, the log only {}", m.seq, h.seq_last());
        return Ok(unusable(why));
    }
    if let Match::Differs(why) = src.check(&m)? {
        return Ok(unusable(why));
    }
    for (meta, s) in m.segments.iter().zip(&segments) {
        match s.sum() {
            Ok(sum) if sum == meta.sum => {}
            Ok(_) => {
                let what = format!("segment {} does not match its checksum", meta.name);
                return Ok(disagrees(what));
            }
            Err(why) => return Ok(unusable(why)),
        }
    }
    let index = Index::new(dir.to_path_buf(), m.clone(), segments);
    // An index behind the log is compared with the log as it was at the index's end: a later
    // correction files its stance under new keys only when the index takes it in.
    let prefix = (m.seq < h.seq_last()).then(|| {
        let mut prefix = h.clone();
        prefix.rollback_to(m.seq);
        prefix
    });
    if let Err(what) = compare(&index, &m, prefix.as_ref().unwrap_or(h)) {
        return Ok(disagrees(what));
    }
    Ok(if m.seq == h.seq_last() {
        IndexCheck::Agrees { seq: m.seq }
    } else {
        IndexCheck::Behind { seq: m.seq }
    })
}

/// The seqs filed under `key` in any segment (sorted, without repeats), each record's place a
/// posting list gives compared with its segment's offsets table.
fn checked_postings(index: &Index, key: &[u8]) -> std::result::Result<Vec<Seq>, String> {
    let mut out = Vec::new();
    for seg in &index.segments {
        let mut located = Vec::new();
        seg.located(key, &mut located)?;
        let placed: Vec<&Located> = located.iter().filter(|l| l.span.is_some()).collect();
        let seqs: Vec<Seq> = placed.iter().map(|l| l.seq).collect();
        let spans = seg.spans(&seqs)?;
        if let Some((l, _)) = placed.iter().zip(&spans).find(|(l, s)| l.span != Some(**s)) {
            return Err(format!(
                "seq {} is filed under {} with another record's place",
                l.seq,
                String::from_utf8_lossy(key)
            ));
        }
        out.extend(located.iter().map(|l| l.seq));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The first difference between each segment's topic table and the topic registrations of
/// `h` in its seqs, in words: the segment's file, and the seq of the first entry or
/// registration that has no equal in the other.
fn compare_topic_tables(index: &Index, h: &History) -> std::result::Result<(), String> {
    for (meta, seg) in index.manifest.segments.iter().zip(&index.segments) {
        let in_segment = |what: String| format!("segment {}: {what}", meta.name);
        let table = seg.topic_table().map_err(in_segment)?;
        let mut held = Vec::new();
        for entry in topics::entries(&table) {
            held.push(topics::event(entry.map_err(&in_segment)?.2).map_err(&in_segment)?);
        }
        let logged: Vec<_> = (seg.first..=seg.last)
            .filter(|s| matches!(h.other_body(*s), Some(EventBody::TopicRegistered(_))))
            .filter_map(|s| h.event(s))
            .collect();
        let seq = |e: Option<&Event>| e.map_or("none".to_string(), |e| e.seq.to_string());
        let n = held.len().max(logged.len());
        if let Some(i) = (0..n).find(|&i| held.get(i) != logged.get(i)) {
            return Err(in_segment(format!(
                "its topic table's entry {} (seq {}) is not the log's registration (seq {})",
                i + 1,
                seq(held.get(i)),
                seq(logged.get(i)),
            )));
        }
    }
    Ok(())
}

fn unusable(why: String) -> IndexCheck {
    IndexCheck::Unusable {
        why,
        unwritable: None,
    }
}

fn disagrees(what: String) -> IndexCheck {
    IndexCheck::Disagrees { what }
}

/// The first difference between the index and `h`, the log up to the index's end (seq
/// `m.seq`), in words.
fn compare(index: &Index, m: &Manifest, h: &History) -> std::result::Result<(), String> {
    for seq in 1..=m.seq {
        let e = index.event(seq)?;
        if Some(&e) != h.event(seq).as_ref() {
            return Err(format!("seq {seq}: its event differs from the log's"));
        }
        let found = index
            .segment_of(seq)
            .map(|s| s.seq_of(&e.id))
            .transpose()?
            .flatten();
        if found != Some(seq) {
            return Err(format!("seq {seq}: its id is not indexed to it"));
        }
        if index.recorded_at(seq) != h.recorded_at(seq) {
            return Err(format!("seq {seq}: its recorded time differs"));
        }
    }
    compare_topic_tables(index, h)?;
    for (key, seqs) in keys::postings(h, 1, m.seq) {
        let held = checked_postings(index, &key)?;
        if let Some(s) = seqs.iter().find(|s| held.binary_search(s).is_err()) {
            return Err(format!(
                "seq {s} is missing from the posting list {}",
                String::from_utf8_lossy(&key)
            ));
        }
    }
    let fresh = super::account::delta(h, 0, m.seq);
    let same = index.actors()? == h.actors()
        && index.topics()? == h.topics()
        && index.date_last() == h.date_last()
        && index.account.dates == fresh.dates;
    if !same {
        return Err("its counts of actors and topics or its latest date differ".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::compare_topic_tables;
    use crate::store::index::Index;
    use crate::store::{AppendOptions, Log, LogRef, append, parse_batch};

    /// A log of an actor, a topic titled `title`, and a stance, indexed.
    fn indexed(dir: &std::path::Path, title: &str) -> std::path::PathBuf {
        let path = dir.join("log.jsonl");
        Log::create(&path).unwrap();
        let text = format!(
            "{{\"type\":\"actor.registered\",\"actor\":\"a\",\"name\":\"A\",\"kind\":\"state\",\"country\":\"KOR\",\"sector\":\"GOV\"}}\n\
             {{\"type\":\"topic.registered\",\"topic\":\"t\",\"title\":\"{title}\",\"kind\":\"policy\"}}\n\
             {{\"type\":\"stance.declared\",\"actor\":\"a\",\"topic\":\"t\",\"stance\":\"support\",\"date\":\"2020-01-01\",\"cite\":{{\"publication\":\"P\"}}}}\n"
        );
        let opts = AppendOptions {
            recorded_at: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
            expect_seq: None,
            wait: Duration::from_secs(5),
        };
        let batch = parse_batch("t", text.as_bytes()).unwrap();
        append(&LogRef::File(path.clone()), &batch, "t", &opts).unwrap();
        path
    }

    /// Given an index whose topic table holds a registration the log holds otherwise (its
    /// checks all hold: the table was written so), when compared with the log, then the
    /// difference names the segment, the entry and both seqs; with the same log it agrees.
    #[test]
    fn a_topic_table_unlike_the_logs_registrations_is_named() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (titled_t, titled_u) = (indexed(a.path(), "T"), indexed(b.path(), "U"));
        let (index, _) = Index::open(&titled_t).unwrap();
        let same = Log::open(&titled_t).unwrap().history;
        assert_eq!(compare_topic_tables(&index, &same), Ok(()));
        let other = Log::open(&titled_u).unwrap().history;
        let what = compare_topic_tables(&index, &other).unwrap_err();
        let name = &index.manifest.segments[0].name;
        assert_eq!(
            what,
            format!(
                "segment {name}: its topic table's entry 1 (seq 2) is not the log's registration (seq 2)"
            )
        );
    }
}
