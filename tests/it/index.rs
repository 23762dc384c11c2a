//! The projection index (issue 10): answers from the index equal the in-memory fold of the
//! whole log, for any generated log appended in any batch split and any query point and
//! filter; an index that does not match its log (stale, damaged, of another log or format) is
//! discarded and rebuilt; a crash during an index update leaves a usable index; readers during
//! appends see a batch whole or not at all.
//!
//! Logs are generated valid: candidate events (registrations, stances dated anywhere in two
//! years so many are back-dated, corrections of stance, date, actor and topic, retractions,
//! citations, alias links, roles) are kept only when the fold accepts them, then appended
//! through a [`Writer`] in the generated batches with fixed recorded times; each append updates
//! the index (new segments, merges).
//!
//! The tests of the index through the CLI (another format version, what a crash leaves,
//! `stancelog index` and `verify`, a folder that cannot be written, a one-event append's
//! segment, queries at once) run on both backends (`on_both_backends!`); on PostgreSQL the
//! index is the local cache folder that `stancelog index` names (`index_dir`). Tests that open
//! the library on a file path, rewrite the log file or copy it per kill stay on files; the
//! PostgreSQL cache's own cases (another database, a table ahead of the index, no cache
//! folder) are in `pg.rs`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use stancelog::core::{
    ActorId, At, Day, Event, EventBody, Filter, History, Position, Seq, Stance, TopicId, TopicKind,
    ValidDate,
};
use stancelog::store::{
    AppendOptions, BuildLimits, Index as ProjectionIndex, IndexCheck, IndexUse, Log, NewEvent,
    Record, Writer, check_index, index_path, parse_batch,
};

use crate::backends::{Backend, on_both_backends};
use crate::support::{copy_dir, kill_at_ten_points, run_log, stderr, stdout};

const ISSUES: &[&str] = &["nu", "hr", "me"];

#[derive(Debug, Clone)]
enum Op {
    Actor,
    Topic {
        kind: usize,
        issue: Option<usize>,
    },
    Declare {
        actor: usize,
        topic: usize,
        stance: usize,
        date: ValidDate,
        quote: bool,
    },
    Correct {
        pick: usize,
        actor: Option<usize>,
        topic: Option<usize>,
        stance: Option<usize>,
        date: Option<ValidDate>,
    },
    Retract {
        pick: usize,
    },
    Cite {
        pick: usize,
    },
    Alias {
        actor: usize,
        alias: usize,
    },
    Role {
        actor: usize,
        from: ValidDate,
        to: Option<ValidDate>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Gen {
    ops: Vec<Op>,
    batch_sizes: Vec<usize>,
    gaps: Vec<i64>,
}

fn gen_date() -> impl Strategy<Value = ValidDate> {
    (2023i32..=2024, 1u32..=12, 1u32..=28, 0u8..4).prop_map(|(y, m, d, p)| {
        let text = match p {
            0 => format!("{y:04}"),
            1 => format!("{y:04}-{m:02}"),
            _ => format!("{y:04}-{m:02}-{d:02}"),
        };
        ValidDate::parse(&text).expect("valid date")
    })
}

fn gen_op() -> impl Strategy<Value = Op> {
    let n = || any::<usize>();
    prop_oneof![
        1 => Just(Op::Actor),
        1 => (n(), proptest::option::of(0..ISSUES.len()))
            .prop_map(|(kind, issue)| Op::Topic { kind, issue }),
        8 => (n(), n(), n(), gen_date(), any::<bool>()).prop_map(
            |(actor, topic, stance, date, quote)| Op::Declare { actor, topic, stance, date, quote }
        ),
        3 => (
            n(),
            proptest::option::weighted(0.3, n()),
            proptest::option::weighted(0.2, n()),
            proptest::option::weighted(0.5, n()),
            proptest::option::weighted(0.4, gen_date()),
        )
            .prop_map(|(pick, actor, topic, stance, date)| Op::Correct {
                pick,
                actor,
                topic,
                stance,
                date
            }),
        1 => n().prop_map(|pick| Op::Retract { pick }),
        2 => n().prop_map(|pick| Op::Cite { pick }),
        1 => (n(), n()).prop_map(|(actor, alias)| Op::Alias { actor, alias }),
        1 => (n(), gen_date(), proptest::option::of(gen_date()))
            .prop_map(|(actor, from, to)| Op::Role { actor, from, to }),
    ]
}

pub(crate) fn logs(max_ops: usize) -> impl Strategy<Value = Gen> {
    (
        prop::collection::vec(gen_op(), 0..=max_ops),
        prop::collection::vec(1usize..=7, 1..6),
        prop::collection::vec(
            prop_oneof![2 => Just(0i64), 1 => 0i64..1_000_000, 1 => 0i64..86_400_000_000],
            1..5,
        ),
    )
        .prop_map(|(ops, batch_sizes, gaps)| Gen {
            ops,
            batch_sizes,
            gaps,
        })
}

fn eid(n: usize) -> Uuid {
    Uuid::from_u128(0x1dec_0000_0000_7000_8000_0000_0000_0000 | n as u128)
}

/// The body of a wire-form line.
fn body(line: &Value) -> EventBody {
    let record: Record = serde_json::from_value(line.clone()).expect("record");
    record.to_body().expect("body")
}

/// Generation state: what exists so far.
struct Book {
    h: History,
    lines: Vec<Value>,
    actors: usize,
    topics: Vec<TopicKind>,
    /// Ids and topics of stances not retracted.
    live: Vec<usize>,
}

impl Book {
    /// Keeps `line` if the fold accepts it.
    fn offer(&mut self, line: Value) -> bool {
        let n = self.lines.len();
        let mut line = line;
        line["id"] = json!(eid(n).to_string());
        let b = body(&line);
        if self.h.check(&eid(n), &b).is_err() {
            return false;
        }
        self.h.apply(Event {
            seq: n as Seq + 1,
            id: eid(n),
            recorded_at: jiff::Timestamp::UNIX_EPOCH,
            body: b,
        });
        self.lines.push(line);
        true
    }

    fn stance_for(&self, topic: usize, pick: usize) -> &'static str {
        let kind = self.topics[topic % self.topics.len()];
        let fit: Vec<Stance> = Stance::ALL
            .iter()
            .copied()
            .filter(|s| s.fits(kind))
            .collect();
        fit[pick % fit.len()].as_str()
    }

    fn op(&mut self, op: &Op) {
        let a = |i: usize, n: usize| format!("a{}", i % n);
        match op {
            Op::Actor => {
                let id = format!("a{}", self.actors);
                if self.offer(json!({"type": "actor.registered", "actor": id,
                    "name": format!("Name {id}"), "kind": "person", "country": "KOR",
                    "sector": "GOV", "aliases": [format!("Alias {id}")]}))
                {
                    self.actors += 1;
                }
            }
            Op::Topic { kind, issue } => {
                let kind = TopicKind::ALL[kind % TopicKind::ALL.len()];
                let id = format!("t{}", self.topics.len());
                let issues: Vec<&str> = issue.map(|i| ISSUES[i]).into_iter().collect();
                if self.offer(json!({"type": "topic.registered", "topic": id,
                    "title": format!("Title {id}"), "kind": kind.as_str(), "issues": issues}))
                {
                    self.topics.push(kind);
                }
            }
            Op::Declare {
                actor,
                topic,
                stance,
                date,
                quote,
            } => {
                let mut line = json!({"type": "stance.declared", "actor": a(*actor, self.actors),
                    "topic": format!("t{}", topic % self.topics.len()),
                    "stance": self.stance_for(*topic, *stance), "date": date.to_string(),
                    "cite": {"publication": "Agency", "title": format!("Report {}", self.lines.len())}});
                if *quote {
                    line["quote"] = json!(format!("Quote \"{}\" ü", self.lines.len()));
                }
                if self.offer(line) {
                    self.live.push(self.lines.len() - 1);
                }
            }
            Op::Correct {
                pick,
                actor,
                topic,
                stance,
                date,
            } => self.correct(*pick, *actor, *topic, *stance, *date),
            Op::Retract { pick } => {
                if self.live.is_empty() {
                    return;
                }
                let i = pick % self.live.len();
                let target = self.live[i];
                if self.offer(json!({"type": "stance.retracted",
                    "target": eid(target).to_string(), "reason": "withdrawn"}))
                {
                    self.live.remove(i);
                }
            }
            Op::Cite { pick } => {
                if let Some(t) = self.live.get(pick % self.live.len().max(1)).copied() {
                    self.offer(json!({"type": "stance.cited", "target": eid(t).to_string(),
                        "cite": {"publication": format!("Relay {}", self.lines.len())},
                        "quote": "relayed"}));
                }
            }
            Op::Alias { actor, alias } => {
                self.offer(
                    json!({"type": "actor.aliased", "actor": a(*actor, self.actors),
                    "alias": a(*alias, self.actors)}),
                );
            }
            Op::Role { actor, from, to } => {
                let mut line = json!({"type": "actor.role", "actor": a(*actor, self.actors),
                    "title": "Minister", "from": from.to_string()});
                if let Some(t) = to {
                    line["to"] = json!(t.to_string());
                }
                self.offer(line);
            }
        }
    }

    fn correct(
        &mut self,
        pick: usize,
        actor: Option<usize>,
        topic: Option<usize>,
        stance: Option<usize>,
        date: Option<ValidDate>,
    ) {
        let Some(target) = self.live.get(pick % self.live.len().max(1)).copied() else {
            return;
        };
        let mut line = json!({"type": "stance.corrected", "target": eid(target).to_string(),
            "reason": "coded wrong"});
        let topic_now = topic.unwrap_or(0);
        if let Some(a) = actor {
            line["actor"] = json!(format!("a{}", a % self.actors));
        }
        if let Some(t) = topic {
            line["topic"] = json!(format!("t{}", t % self.topics.len()));
        }
        if let Some(s) = stance.or(Some(pick).filter(|_| actor.is_none() && date.is_none())) {
            line["stance"] = json!(self.stance_for(topic_now, s));
        }
        if let Some(d) = date {
            line["date"] = json!(d.to_string());
        }
        self.offer(line);
    }
}

/// The lines of a generated log: 3 actors and 2 topics first, then the ops that the fold
/// accepts.
pub(crate) fn build(g: &Gen) -> Vec<Value> {
    let mut book = Book {
        h: History::new(),
        lines: Vec::new(),
        actors: 0,
        topics: Vec::new(),
        live: Vec::new(),
    };
    for _ in 0..3 {
        book.op(&Op::Actor);
    }
    book.op(&Op::Topic {
        kind: 0,
        issue: Some(0),
    });
    book.op(&Op::Topic {
        kind: 2,
        issue: Some(1),
    });
    for op in &g.ops {
        book.op(op);
    }
    book.lines
}

/// Appends the lines to a new log in the generated batches through one writer (recorded times
/// fixed, rising strictly), the index following every append. The writer checks each batch
/// against the index (`Writer::open_indexed`), not the whole log; every other generated
/// split opens a new writer per batch, as `stancelog append` does. Returns the log's path.
pub(crate) fn write(dir: &Path, g: &Gen, lines: &[Value]) -> PathBuf {
    let log = dir.join("log.jsonl");
    Log::create(&log).expect("create");
    let reopen = g.batch_sizes.len().is_multiple_of(2);
    let mut w = Writer::open_indexed(&log, Duration::from_secs(5)).expect("writer");
    // 2024-11-01T00:00:00Z.
    let mut clock = jiff::Timestamp::from_second(1_730_419_200).expect("time");
    let mut start = 0;
    let mut b = 0;
    while start < lines.len() {
        let end = (start + g.batch_sizes[b % g.batch_sizes.len()]).min(lines.len());
        let text: String = lines[start..end].iter().map(|l| format!("{l}\n")).collect();
        let batch: Vec<NewEvent> = parse_batch("gen", text.as_bytes()).expect("batch");
        let opts = AppendOptions {
            recorded_at: clock,
            expect_seq: None,
            wait: Duration::from_secs(5),
        };
        if reopen {
            drop(w);
            w = Writer::open_indexed(&log, Duration::from_secs(5)).expect("writer");
        }
        let report = w.append(&batch, "gen", &opts).expect("append");
        assert_eq!(report.index_warning, None);
        clock += jiff::SignedDuration::from_micros(1 + g.gaps[b % g.gaps.len()]);
        start = end;
        b += 1;
    }
    log
}

/// Filters worth asking: everything, each actor, each topic, each issue, an actor with a
/// topic, two actors.
pub(crate) fn filters(h: &History) -> Vec<Filter> {
    let actors: Vec<ActorId> = h.actors().into_keys().collect();
    let topics: Vec<TopicId> = h.topics().into_keys().collect();
    let mut out = vec![Filter::default()];
    for a in &actors {
        out.push(Filter {
            actors: BTreeSet::from([a.clone()]),
            ..Filter::default()
        });
    }
    for t in &topics {
        out.push(Filter {
            topics: BTreeSet::from([t.clone()]),
            ..Filter::default()
        });
    }
    for i in ISSUES {
        out.push(Filter {
            issues: BTreeSet::from([i.to_string()]),
            ..Filter::default()
        });
    }
    if let (Some(a), Some(t)) = (actors.first(), topics.last()) {
        out.push(Filter {
            actors: BTreeSet::from([a.clone()]),
            topics: BTreeSet::from([t.clone()]),
            issues: BTreeSet::new(),
        });
    }
    if actors.len() > 2 {
        out.push(Filter {
            actors: BTreeSet::from([actors[1].clone(), actors[2].clone()]),
            ..Filter::default()
        });
    }
    out
}

/// A few days to ask about, around the generated dates.
pub(crate) fn days() -> Vec<Option<Day>> {
    let mut out = vec![None];
    for d in [
        "2022-12-31",
        "2023-06-30",
        "2024-01-01",
        "2024-03-15",
        "2024-12-31",
    ] {
        out.push(Some(Day::parse(d).expect("day")));
    }
    out
}

/// Every answer of `full` (the whole log folded) and of the index, compared; `Err` names the
/// first that differs.
fn compare(full: &History, index: &ProjectionIndex) -> Result<(), TestCaseError> {
    prop_assert_eq!(index.seq_last(), full.seq_last());
    prop_assert_eq!(index.actors(), Ok(full.actors()));
    prop_assert_eq!(index.topics(), Ok(full.topics()));
    prop_assert_eq!(index.date_last(), full.date_last());
    let mut cutoffs: Vec<Option<Seq>> = vec![None, Some(0)];
    for seq in 1..=full.seq_last() {
        let t = full.recorded_at(seq).expect("recorded");
        prop_assert_eq!(index.recorded_at(seq), Some(t));
        prop_assert_eq!(index.seq_known_at(t), full.seq_known_at(t));
        prop_assert_eq!(
            index.seq_known_at(t - jiff::SignedDuration::from_micros(1)),
            full.seq_known_at(t - jiff::SignedDuration::from_micros(1))
        );
        if seq % 3 == 0 {
            cutoffs.push(Some(seq));
        }
    }
    let registry = index.registry().map_err(TestCaseError::fail)?;
    for (id, _) in full.actors() {
        prop_assert_eq!(registry.actor(&id), full.actor(&id));
    }
    for (id, _) in full.topics() {
        prop_assert_eq!(registry.topic(&id), full.topic(&id));
    }
    // The registry of the `actors` table: every actor's registration, as the full one has it.
    let actors = index.actor_registry().map_err(TestCaseError::fail)?;
    for (id, _) in full.actors() {
        prop_assert_eq!(actors.actor(&id), full.actor(&id));
    }
    // The lean registry of one id: that registration, as the full one has it.
    for (id, _) in full.actors() {
        let lean = index
            .registry_for(&[id.to_string()], &[], false)
            .map_err(TestCaseError::fail)?;
        prop_assert_eq!(lean.actor(&id), full.actor(&id));
    }
    for (id, _) in full.topics() {
        let lean = index
            .registry_for(&[], &[id.to_string()], false)
            .map_err(TestCaseError::fail)?;
        prop_assert_eq!(lean.topic(&id), full.topic(&id));
    }
    let days = days();
    for f in filters(full) {
        // What positions, diffs and timelines read (the analysis reads `history`, whose every
        // registration `index_analysis.rs` checks).
        let h = index.query_history(&f).map_err(TestCaseError::fail)?;
        // What a timeline whose columns read no topic's title reads.
        let untitled = index
            .query_history_untitled(&f)
            .map_err(TestCaseError::fail)?;
        for known in &cutoffs {
            for as_of in &days {
                let at = At {
                    as_of: *as_of,
                    known: *known,
                };
                let positions = h.positions_at(at, &f);
                prop_assert_eq!(&positions, &full.positions_at(at, &f), "{:?} {:?}", at, f);
                // The names a row prints, read by symbol, are the whole log's for its actor
                // (as reported, an alias's actor at the cutoff) and its topic (as corrected).
                for d in h.positions_decided(at, &f) {
                    let p = h.position(&d).expect("a decided row's position");
                    let (actor, topic) = h.names(&d);
                    prop_assert_eq!(actor, full.actor(&p.actor).map_or("", |a| a.name.as_str()));
                    prop_assert_eq!(
                        topic,
                        full.topic(&p.stance.topic).map_or("", |t| t.title.as_str())
                    );
                }
                for p in &positions {
                    registrations_agree(&h, full, p)?;
                }
            }
            for w in days.windows(2) {
                let (from, to) = (
                    At {
                        as_of: w[0].or(w[1]),
                        known: cutoffs[0],
                    },
                    At {
                        as_of: w[1],
                        known: *known,
                    },
                );
                prop_assert_eq!(h.diff_at(from, to, &f), full.diff_at(from, to, &f));
            }
            let timeline = h.timeline_at(*known, &f);
            prop_assert_eq!(&timeline, &full.timeline_at(*known, &f));
            prop_assert_eq!(&untitled.timeline_at(*known, &f), &timeline);
            // A timeline row's names, read by symbol, are the whole log's, as for positions.
            for t in h.timeline_decided(*known, &f) {
                let p = h.position(&t.decided).expect("a decided entry's position");
                let (actor, topic) = h.names(&t.decided);
                prop_assert_eq!(actor, full.actor(&p.actor).map_or("", |a| a.name.as_str()));
                prop_assert_eq!(
                    topic,
                    full.topic(&p.stance.topic).map_or("", |t| t.title.as_str())
                );
            }
            for e in &timeline {
                registrations_agree(&h, full, &e.position)?;
            }
        }
    }
    Ok(())
}

/// The registrations a printed row reads (its actor's name, kind and country, its topic's
/// title and kind) are in the query's history as in the whole log's fold: a query history
/// folds only the registrations its selection names.
fn registrations_agree(h: &History, full: &History, p: &Position) -> Result<(), TestCaseError> {
    prop_assert_eq!(h.actor(&p.actor), full.actor(&p.actor));
    prop_assert!(h.actor(&p.actor).is_some(), "{:?} not registered", p.actor);
    prop_assert_eq!(h.topic(&p.stance.topic), full.topic(&p.stance.topic));
    prop_assert!(h.topic(&p.stance.topic).is_some());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Given any generated log appended in any batch split, with the index following every
    /// append, then every answer from the index equals the whole log's fold; and so does an
    /// index built from scratch from the log, with the default limits and with limits so
    /// small that the build writes many segments, starts its history again every few events
    /// and meets targets, ids and notes it no longer holds (`verify`'s comparison agrees); and
    /// so does an index of the log's first batches (any number of them) caught up in pieces
    /// with those limits, as a tail too long to fold at once is.
    #[test]
    fn index_answers_equal_the_fold_for_any_log_split_point_and_filter(
        g in logs(60),
        pending in 1..12u64,
        period in 1..8u64,
        tail in 0..4u64,
        chunk_bytes in 1..600usize,
        kept in 0..12usize,
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let lines = build(&g);
        let log = write(dir.path(), &g, &lines);
        let full = Log::open(&log).expect("log");
        let (index, used) = ProjectionIndex::open(&log).expect("index");
        prop_assert_eq!(used, IndexUse::Used);
        compare(full.history(), &index)?;
        let rebuilt = ProjectionIndex::rebuild(&log).expect("rebuild");
        compare(full.history(), &rebuilt)?;
        let limits = BuildLimits {
            pending_events: pending,
            period_events: period,
            tail_events: tail,
            chunk_bytes,
        };
        let small = ProjectionIndex::rebuild_with(&log, limits).expect("rebuild in pieces");
        compare(full.history(), &small)?;
        prop_assert_eq!(
            check_index(&log, &full).expect("check"),
            IndexCheck::Agrees { seq: full.history().seq_last() }
        );
        // An index of the first `kept` batches, caught up in pieces as a long tail is.
        let text = std::fs::read(&log).expect("log bytes");
        let mut ends = vec![0];
        while ends[ends.len() - 1] < lines.len() {
            let (at, b) = (ends[ends.len() - 1], ends.len() - 1);
            ends.push((at + g.batch_sizes[b % g.batch_sizes.len()]).min(lines.len()));
        }
        let records = ends[kept % ends.len()];
        let cut: usize = text.split_inclusive(|b| *b == b'\n').take(records).map(<[u8]>::len).sum();
        std::fs::write(&log, &text[..cut]).expect("cut");
        drop(small);
        ProjectionIndex::rebuild_with(&log, limits).expect("rebuild of the first batches");
        std::fs::write(&log, &text).expect("whole again");
        let caught = ProjectionIndex::catch_up_with(&log, limits).expect("catch-up in pieces");
        compare(full.history(), &caught)?;
        prop_assert_eq!(
            check_index(&log, &full).expect("check"),
            IndexCheck::Agrees { seq: full.history().seq_last() }
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Stale, damaged and half-written indexes
// ---------------------------------------------------------------------------------------------

/// A log of the seed's events (40, in two batches) appended through the CLI, in `dir`.
fn seed_copy(dir: &Path) -> PathBuf {
    let log = dir.join("log.jsonl");
    std::fs::copy(crate::support::seed_log(), &log).expect("copy seed");
    log
}

/// The CLI's JSON answers to a few queries, one string.
fn answers(log: &Path) -> String {
    let mut out = String::new();
    for args in [
        &["positions", "--format", "json"][..],
        &[
            "positions",
            "--actor",
            "kim-yong-hyun",
            "--as-of",
            "2024-10-22",
            "--format",
            "json",
        ],
        &["timeline", "--format", "json"],
        &[
            "diff",
            "--from",
            "2024-10-01",
            "--to",
            "2024-10-31",
            "--format",
            "json",
        ],
        &["actors", "--format", "json"],
        &["topics", "--format", "json"],
    ] {
        let o = run_log(log, args, None);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        out.push_str(&stdout(&o));
    }
    out
}

/// The answers with no index at all: built from the log by the first query.
fn answers_afresh(log: &Path) -> String {
    let _ = std::fs::remove_dir_all(index_dir(log));
    answers(log)
}

/// The folder of the projection index of `log` on the test's backend: beside a file log; for
/// the PostgreSQL log that mirrors it, the folder in the local cache that `stancelog index`
/// names (the index is built if missing).
fn index_dir(log: &Path) -> PathBuf {
    match crate::backends::current() {
        Backend::File => index_path(log),
        #[cfg(feature = "postgres")]
        Backend::Postgres => {
            let o = run_log(log, &["index", "--format", "json"], None);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            PathBuf::from(crate::support::json(&o)["path"].as_str().unwrap())
        }
    }
}

/// Given a seed log and its answers, when the log is replaced by an older copy (its first
/// batch), by another log, or cut, then a query discards the index with a note naming why,
/// rebuilds it, and answers as the log now is.
#[test]
fn an_index_of_another_or_older_log_is_discarded_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let log = seed_copy(dir.path());
    let seed = std::fs::read(&log).unwrap();
    let whole = answers(&log);
    let first: Vec<u8> = seed
        .split_inclusive(|b| *b == b'\n')
        .take(35)
        .flatten()
        .copied()
        .collect();
    std::fs::write(&log, &first).unwrap();
    let o = run_log(&log, &["actors", "--format", "json"], None);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("index discarded: the log has"),
        "{}",
        stderr(&o)
    );
    assert_eq!(crate::support::json(&o).as_array().unwrap().len(), 12);
    // The rebuilt index matches: no note on the next query, and answers as afresh.
    let o = run_log(&log, &["actors"], None);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    let older = answers(&log);
    assert_eq!(older, answers_afresh(&log));
    assert_ne!(older, whole);
    // Back to the whole log: the index of the first batch is behind it and is caught up.
    std::fs::write(&log, &seed).unwrap();
    assert_eq!(answers(&log), whole);
    // Another log, as long as the seed's index covers or longer, ending elsewhere: discarded.
    let saved = dir.path().join("saved-index");
    copy_dir(&index_path(&log), &saved);
    std::fs::write(&log, &first).unwrap();
    let other = "{\"type\":\"topic.registered\",\"topic\":\"other\",\"title\":\"Another topic, with a long title to make this log longer than the seed's\",\"kind\":\"policy\"}";
    let batch: String = (0..30)
        .map(|i| other.replace("other", &format!("other-{i}")) + "\n")
        .collect();
    let o = run_log(&log, &["append", "-"], Some(batch.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::metadata(&log).unwrap().len() > seed.len() as u64);
    std::fs::remove_dir_all(index_path(&log)).unwrap();
    copy_dir(&saved, &index_path(&log));
    let o = run_log(&log, &["topics"], None);
    assert!(
        stderr(&o).contains("is not the seq 40 it was built with"),
        "{}",
        stderr(&o)
    );
}

/// Every byte of a segment and of the manifest, flipped in turn: the index is refused when
/// opened or when the damaged part is read (then rebuilt), or the answer is still right; and
/// `check_index` (verify) finds every flip.
#[test]
fn a_damaged_index_is_found_and_never_gives_a_wrong_answer() {
    let dir = tempfile::tempdir().unwrap();
    let log = seed_copy(dir.path());
    let (index, _) = ProjectionIndex::open(&log).unwrap();
    drop(index);
    let full = Log::open(&log).unwrap();
    let h = full.history();
    let f = Filter {
        actors: BTreeSet::from([ActorId::new("kim-yong-hyun").unwrap()]),
        ..Filter::default()
    };
    let seen = |a: &History, b: &History| {
        format!(
            "{:?} {:?}",
            a.positions_at(At::default(), &f),
            b.timeline_at(None, &Filter::default())
        )
    };
    let truth = seen(h, h);
    let idx = index_path(&log);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&idx)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with("LOCK"))
        .collect();
    files.sort();
    let mut flips = 0;
    for file in files {
        let good = std::fs::read(&file).unwrap();
        // About 250 bytes of each file, spread over all its parts, and its last 128 bytes (a
        // segment's footer is 112).
        let spread = (0..good.len()).step_by(good.len() / 250 + 1);
        for at in spread.chain(good.len().saturating_sub(128)..good.len()) {
            let mut bad = good.clone();
            bad[at] ^= 0x20;
            std::fs::write(&file, &bad).unwrap();
            let found = stancelog::store::check_index(&log, &full).unwrap();
            assert!(
                !matches!(found, stancelog::store::IndexCheck::Agrees { .. }),
                "{} byte {at}: {found:?}",
                file.display()
            );
            let (i, _) = ProjectionIndex::open(&log).unwrap();
            let answer = match (i.history(&f), i.history(&Filter::default())) {
                (Ok(a), Ok(b)) => seen(&a, &b),
                _ => {
                    let i = ProjectionIndex::rebuild(&log).unwrap();
                    seen(
                        &i.history(&f).unwrap(),
                        &i.history(&Filter::default()).unwrap(),
                    )
                }
            };
            assert_eq!(answer, truth, "{} byte {at}", file.display());
            // Put the index back as it was (a rebuild may have replaced the file).
            let _ = std::fs::remove_dir_all(&idx);
            ProjectionIndex::open(&log).unwrap();
            flips += 1;
            if !file.exists() {
                break;
            }
        }
    }
    assert!(flips > 500, "{flips}");
}

/// Given a seed log's index with a byte of its segment's topic table flipped (the table is
/// read only by a fold that needs many topics' registrations, such as a one-actor query), when
/// `verify` checks it, then it does not agree; when that query runs, then it finds the damage,
/// discards the index with a note and rebuilds it, and every answer is the log's.
#[test]
fn a_damaged_topic_table_is_found_and_the_index_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let log = seed_copy(dir.path());
    let whole = answers(&log);
    let seg = std::fs::read_dir(index_path(&log))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("seg-"))
        .unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    // The footer (112 bytes) gives where the topic table starts (its 7th field) and where the
    // account after it starts (its 8th).
    let foot = bytes.len() - 112;
    let field = |i: usize| {
        u64::from_le_bytes(bytes[foot + i * 8..foot + i * 8 + 8].try_into().unwrap()) as usize
    };
    let (from, to) = (field(6), field(7));
    assert!(to > from + 100, "{from}..{to}");
    bytes[(from + to) / 2] ^= 0x20;
    std::fs::write(&seg, &bytes).unwrap();
    let full = Log::open(&log).unwrap();
    let found = stancelog::store::check_index(&log, &full).unwrap();
    assert!(
        !matches!(found, stancelog::store::IndexCheck::Agrees { .. }),
        "{found:?}"
    );
    let o = run_log(&log, &["positions", "--actor", "kim-yong-hyun"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("index discarded: its topic table is damaged"),
        "{}",
        stderr(&o)
    );
    assert_eq!(answers(&log), whole);
    assert_eq!(whole, answers_afresh(&log));
}

/// Given a seed log's index and a one-stance append (a second segment, whose account counts an
/// actor and a topic the first one registers: its second section), when a byte of that section
/// is flipped, then a query that reads no count answers from the index as it is; `verify` finds
/// the damage; the `actors` table, which reads it, discards the index with a note and rebuilds
/// it, and every answer is the log's.
#[test]
fn a_damaged_second_section_of_an_account_is_found_when_counts_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = seed_copy(dir.path());
    let one = r#"{"type":"stance.declared","actor":"kim-yong-hyun","topic":"dprk-troops-in-russia","stance":"deny","date":"2024-11-01","cite":{"publication":"test"}}"#;
    let o = run_log(&log, &["append", "-"], Some(format!("{one}\n").as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let whole = answers(&log);
    let mut segs: Vec<PathBuf> = std::fs::read_dir(index_path(&log))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("seg-"))
        .collect();
    segs.sort();
    assert_eq!(segs.len(), 2, "{segs:?}");
    let seg = &segs[1];
    let mut bytes = std::fs::read(seg).unwrap();
    // The footer's 9th field: where the account's second section starts; the footer follows
    // it. It holds two lines (one actor, one topic), after two counts.
    let foot = bytes.len() - 112;
    let others = u64::from_le_bytes(bytes[foot + 64..foot + 72].try_into().unwrap()) as usize;
    assert!(foot - others > 16, "{others}..{foot}");
    bytes[others + 20] ^= 0x20;
    std::fs::write(seg, &bytes).unwrap();
    let o = run_log(&log, &["positions", "--actor", "kim-yong-hyun"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("index discarded"), "{}", stderr(&o));
    let full = Log::open(&log).unwrap();
    let found = stancelog::store::check_index(&log, &full).unwrap();
    assert!(
        !matches!(found, stancelog::store::IndexCheck::Agrees { .. }),
        "{found:?}"
    );
    let o = run_log(&log, &["actors"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("index discarded: its account is damaged"),
        "{}",
        stderr(&o)
    );
    assert_eq!(answers(&log), whole);
    assert_eq!(whole, answers_afresh(&log));
}

on_both_backends! {
/// An index of an older format version is discarded with a note naming the version, and
/// rebuilt.
#[test]
fn an_index_of_another_format_version_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let log = seed_copy(dir.path());
    let whole = answers(&log);
    let manifest = index_dir(&log).join("MANIFEST");
    let mut bytes = std::fs::read(&manifest).unwrap();
    // Version 8 (segments without the `l` list) is the previous format.
    bytes[16..20].copy_from_slice(&8u32.to_le_bytes());
    std::fs::write(&manifest, &bytes).unwrap();
    let o = run_log(&log, &["positions"], None);
    assert!(
        stderr(&o)
            .contains("index discarded: it is of format version 8; this build reads version 9"),
        "{}",
        stderr(&o)
    );
    assert_eq!(answers(&log), whole);
}
}

on_both_backends! {
/// What a crash during an index update leaves: a new segment no manifest names, a temporary
/// manifest, or a truncated segment. The next query is right, and the next update removes
/// what no manifest names.
#[test]
fn what_a_crash_leaves_in_the_index_is_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let log = seed_copy(dir.path());
    let whole = answers(&log);
    let idx = index_dir(&log);
    std::fs::write(idx.join("seg-99999999-1-40"), b"half a segment").unwrap();
    std::fs::write(idx.join("MANIFEST.tmp.12345"), b"half a manifest").unwrap();
    assert_eq!(answers(&log), whole);
    // A truncated segment is refused and the index rebuilt.
    let seg = std::fs::read_dir(&idx)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("seg-0")
        })
        .unwrap();
    let len = std::fs::metadata(&seg).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let o = run_log(&log, &["positions"], None);
    assert!(stderr(&o).contains("index discarded"), "{}", stderr(&o));
    assert_eq!(answers(&log), whole);
    let names: Vec<String> = std::fs::read_dir(&idx)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.contains("tmp") || n.contains("99999999")),
        "{names:?}"
    );
}
}

/// Given an index left behind its log (appends made while the index could not follow), a
/// query catches it up from where it ends, and answers as afresh.
#[test]
fn an_index_behind_its_log_is_caught_up() {
    let dir = tempfile::tempdir().unwrap();
    let log = seed_copy(dir.path());
    ProjectionIndex::open(&log).unwrap();
    let old = dir.path().join("old-index");
    std::fs::rename(index_path(&log), &old).unwrap();
    let batch = "{\"type\":\"stance.declared\",\"actor\":\"kim-yong-hyun\",\"topic\":\"dprk-troops-in-russia\",\"stance\":\"deny\",\"date\":\"2024-11-02\",\"cite\":{\"publication\":\"X\"}}\n";
    let o = run_log(&log, &["append", "-"], Some(batch.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::remove_dir_all(index_path(&log)).unwrap();
    std::fs::rename(&old, index_path(&log)).unwrap();
    let (index, used) = ProjectionIndex::open(&log).unwrap();
    assert_eq!(used, IndexUse::CaughtUp { from: 40 });
    assert_eq!(index.seq_last(), 41);
    let caught_up = answers(&log);
    assert_eq!(caught_up, answers_afresh(&log));
    assert!(caught_up.contains("\"seq\": 41"));
}

/// Regression: an index behind its log, where the events it lacks correct a stance it holds to
/// another actor, was reported by `verify` as not agreeing with the log ("seq 24 is missing
/// from the posting list a\0cho-tae-yul"), exit 2: it was compared with the whole log's keys.
/// It is compared with the log at its own end, and reported behind, exit 0.
#[test]
fn verify_reports_an_index_behind_a_correction_as_behind() {
    let dir = tempfile::tempdir().unwrap();
    let seed = std::fs::read_to_string(crate::support::seed_log()).unwrap();
    let lines: Vec<&str> = seed.lines().collect();
    let log = dir.path().join("log.jsonl");
    std::fs::write(&log, lines[..35].join("\n") + "\n").unwrap();
    ProjectionIndex::open(&log).unwrap();
    let old = dir.path().join("old-index");
    std::fs::rename(index_path(&log), &old).unwrap();
    std::fs::write(&log, seed.as_bytes()).unwrap();
    std::fs::rename(&old, index_path(&log)).unwrap();
    let o = run_log(&log, &["verify"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).ends_with(
            "index: agrees with the log up to seq 35; the next query or append brings it up to date\n"
        ),
        "{}",
        stdout(&o)
    );
}

on_both_backends! {
/// `stancelog index` reports the index; `--check` and `verify` compare it with the whole log.
#[test]
fn cli_index_reports_checks_and_rebuilds() {
    let dir = tempfile::tempdir().unwrap();
    let log = seed_copy(dir.path());
    let o = run_log(&log, &["index"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("index at seq 40 (head hash "),
        "{}",
        stdout(&o)
    );
    let o = run_log(&log, &["index", "--check", "--format", "json"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = crate::support::json(&o);
    assert_eq!(
        (
            v["seq"].as_u64(),
            v["actors"].as_u64(),
            v["topics"].as_u64()
        ),
        (Some(40), Some(13), Some(7))
    );
    let o = run_log(&log, &["verify"], None);
    assert!(
        stdout(&o).ends_with("index: agrees with the log (seq 40)\n"),
        "{}",
        stdout(&o)
    );
    // A segment damaged where no query reads it (its id table) fails both checks.
    let idx = index_dir(&log);
    let seg = std::fs::read_dir(&idx)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("seg-"))
        .unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    // The footer's second field: where the id table starts (events/INDEX.md).
    let footer = bytes.len() - 112;
    let ids_at = u64::from_le_bytes(bytes[footer + 8..footer + 16].try_into().unwrap()) as usize;
    bytes[ids_at + 3] ^= 1;
    std::fs::write(&seg, &bytes).unwrap();
    let o = run_log(&log, &["verify"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the index does not agree with the log"),
        "{}",
        stderr(&o)
    );
    // The log's own verdict is still printed (it was not: a script saw nothing).
    assert!(
        stdout(&o).starts_with("ok: 40 events, head hash "),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).ends_with("index: does not agree with the log (the error below)\n"),
        "{}",
        stdout(&o)
    );
    // `index --check` either finds it so, or, if opening the index read the damaged part,
    // has already rebuilt it.
    let o = run_log(&log, &["index", "--check"], None);
    let rebuilt = o.status.code() == Some(0) && stderr(&o).contains("index discarded");
    let refused =
        o.status.code() == Some(2) && stderr(&o).contains("the index does not agree with the log");
    assert!(rebuilt || refused, "{}", stderr(&o));
    let o = run_log(&log, &["index", "--rebuild"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run_log(&log, &["verify"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
}

on_both_backends! {
/// Given a log of 2,000 actors, 2,000 topics and 4,000 stances indexed in one segment, when
/// one stance is appended, then the manifest names two segments and stays a few hundred bytes
/// (the account of every actor, topic and date lives in the segments, each with its own
/// events': the new one's names one actor, one topic and one date), and the counts answer as
/// a fresh index.
#[test]
fn a_one_event_append_writes_a_small_segment_and_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    assert!(run_log(&log, &["init"], None).status.success());
    let batch = registrations(2_000, 2_000) + &stances(0, 4_000, 2_000, 2_000);
    let o = run_log(&log, &["append", "-"], Some(batch.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let manifest = index_dir(&log).join("MANIFEST");
    let before = std::fs::metadata(&manifest).unwrap().len();
    let one = stances(4_000, 1, 2_000, 2_000);
    let o = run_log(&log, &["append", "-"], Some(one.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run_log(&log, &["index", "--format", "json"], None);
    let v = crate::support::json(&o);
    let segments: Vec<(u64, u64, u64)> = v["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let n = |k: &str| s[k].as_u64().unwrap();
            (n("first"), n("last"), n("bytes"))
        })
        .collect();
    assert_eq!(segments.len(), 2, "{v}");
    assert_eq!((segments[1].0, segments[1].1), (8_001, 8_001));
    // 148 bytes of fields and checksum, then 60 per segment and its name (`seg-00000001-1-8000`,
    // 19 bytes; `seg-00000002-8001-8001`, 22).
    assert_eq!(before, 148 + 60 + 19);
    assert_eq!(
        std::fs::metadata(&manifest).unwrap().len(),
        148 + 60 + 19 + 60 + 22
    );
    assert!(segments[1].2 < 1_024, "{segments:?}");
    assert!(segments[0].2 > 500_000, "{segments:?}");
    let counts = run_log(&log, &["actors", "--format", "json"], None);
    assert_eq!(
        crate::support::json(&counts),
        json_afresh(&log, &["actors", "--format", "json"])
    );
}
}

/// The JSON answer of `args` from an index built afresh.
fn json_afresh(log: &Path, args: &[&str]) -> Value {
    let _ = std::fs::remove_dir_all(index_dir(log));
    crate::support::json(&run_log(log, args, None))
}

/// Given the seed log, when a writer (on the index, or on the whole log) is handed a batch of
/// BATCH_EVENTS_MAX + 1 events (the scaling generator once made one, which every reader then
/// refused at its `batch_last`), then it is refused whole, naming the limit, and the log is
/// unchanged; a batch of BATCH_EVENTS_MAX events is appended.
#[test]
fn a_writer_refuses_a_batch_over_batch_events_max() {
    let dir = tempfile::tempdir().unwrap();
    let log = seed_copy(dir.path());
    let before = std::fs::read(&log).unwrap();
    let line = r#"{"type":"stance.declared","actor":"prk","topic":"dprk-troops-in-russia","stance":"deny","date":"2024-11-05","cite":{"publication":"X"}}"#;
    let one = parse_batch("b", format!("{line}\n").as_bytes()).unwrap();
    let max = stancelog::store::BATCH_EVENTS_MAX;
    let over = vec![one[0].clone(); max + 1];
    let opts = AppendOptions {
        recorded_at: jiff::Timestamp::from_second(1_800_000_000).unwrap(),
        expect_seq: None,
        wait: Duration::from_secs(5),
    };
    for indexed in [true, false] {
        let mut w = if indexed {
            Writer::open_indexed(&log, Duration::from_secs(5)).unwrap()
        } else {
            Writer::open(&log, Duration::from_secs(5)).unwrap()
        };
        let e = w.append(&over, "b", &opts).unwrap_err();
        assert_eq!(
            e.to_string(),
            "b: the batch holds 100001 events, more than BATCH_EVENTS_MAX (100000); split it"
        );
        assert_eq!(std::fs::read(&log).unwrap(), before);
    }
    let r = Writer::open_indexed(&log, Duration::from_secs(5))
        .unwrap()
        .append(&over[..max], "b", &opts)
        .unwrap();
    assert_eq!(r.events.last().unwrap().seq, 40 + max as u64);
    assert_eq!(
        Log::open(&log).unwrap().history().seq_last(),
        40 + max as u64
    );
}

// ---------------------------------------------------------------------------------------------
// Crashes and concurrent readers
// ---------------------------------------------------------------------------------------------

/// Registrations of actors `a0..a{actors}` and topics `t0..t{topics}` (policy), one line each.
fn registrations(actors: usize, topics: usize) -> String {
    let mut out = String::new();
    for a in 0..actors {
        out.push_str(&format!(
            "{{\"type\":\"actor.registered\",\"actor\":\"a{a}\",\"name\":\"A{a}\",\"kind\":\"state\",\"country\":\"KOR\",\"sector\":\"GOV\"}}\n"
        ));
    }
    for t in 0..topics {
        out.push_str(&format!(
            "{{\"type\":\"topic.registered\",\"topic\":\"t{t}\",\"title\":\"T{t}\",\"kind\":\"policy\",\"issues\":[\"nu\"]}}\n"
        ));
    }
    out
}

/// `n` stances, numbered from `from`, spread over the actors, topics and days (a fixed
/// pattern, so every run writes the same).
fn stances(from: usize, n: usize, actors: usize, topics: usize) -> String {
    let mut out = String::new();
    for i in from..from + n {
        let stance = ["support", "oppose", "neutral"][i % 3];
        let day = 1 + (i * 7) % 28;
        let month = 1 + (i * 5) % 12;
        out.push_str(&format!(
            "{{\"type\":\"stance.declared\",\"actor\":\"a{}\",\"topic\":\"t{}\",\"stance\":\"{stance}\",\"date\":\"2020-{month:02}-{day:02}\",\"cite\":{{\"publication\":\"P\",\"title\":\"report {i}\"}}}}\n",
            i % actors,
            (i / actors) % topics
        ));
    }
    out
}

/// The seqs of the positions a history gives, with their stances: what a reader compares.
fn positions_seen(h: &History) -> Vec<(Seq, Stance)> {
    h.positions_at(At::default(), &Filter::default())
        .into_iter()
        .map(|p| (p.event.seq, p.stance.stance))
        .collect()
}

/// Given a writer appending batches while readers query in other threads, every answer a
/// reader gets is the log's answer after some whole number of batches.
#[test]
fn readers_during_appends_see_each_batch_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    Log::create(&log).unwrap();
    let batches: Vec<String> = std::iter::once(registrations(7, 5))
        .chain((0..24).map(|b| stances(b * 40, 40, 7, 5)))
        .collect();
    // The answer after each whole number of batches, folded in memory.
    let mut expected = BTreeSet::new();
    let mut h = History::new();
    expected.insert(positions_seen(&h));
    for text in &batches {
        for n in parse_batch("b", text.as_bytes()).unwrap() {
            let seq = h.seq_last() + 1;
            h.apply(Event {
                seq,
                id: Uuid::from_u128(u128::from(seq)),
                recorded_at: jiff::Timestamp::UNIX_EPOCH,
                body: n.body,
            });
        }
        expected.insert(positions_seen(&h));
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut seen = 0;
                    while !done.load(std::sync::atomic::Ordering::Relaxed) || seen == 0 {
                        let Ok((index, _)) = ProjectionIndex::open(&log) else {
                            continue;
                        };
                        let h = index.history(&Filter::default()).expect("readable");
                        assert!(
                            expected.contains(&positions_seen(&h)),
                            "a batch seen in part"
                        );
                        seen += 1;
                    }
                    seen
                })
            })
            .collect();
        let mut w = Writer::open(&log, Duration::from_secs(5)).unwrap();
        for (b, text) in batches.iter().enumerate() {
            let opts = AppendOptions {
                recorded_at: jiff::Timestamp::from_second(1_730_419_200 + b as i64).unwrap(),
                expect_seq: None,
                wait: Duration::from_secs(5),
            };
            let batch = parse_batch("b", text.as_bytes()).unwrap();
            assert_eq!(w.append(&batch, "b", &opts).unwrap().index_warning, None);
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
    });
}

/// Given `stancelog append` of a large batch killed (SIGKILL) at points spread over its run
/// (while writing the log, while writing the index, or before either), the next query answers
/// as a query on that log with no index at all, and the one after needs no rebuild.
#[test]
fn a_kill_during_an_append_and_its_index_update_leaves_the_next_query_right() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.jsonl");
    let o = run_log(&base, &["init"], None);
    assert!(o.status.success());
    let first = registrations(20, 40) + &stances(0, 3000, 20, 40);
    let o = run_log(&base, &["append", "-"], Some(first.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let big = dir.path().join("big.jsonl");
    std::fs::write(&big, stances(3000, 4000, 20, 40)).unwrap();
    let append = ["append", big.to_str().unwrap()];
    kill_at_ten_points(dir.path(), &base, &append, |k, log| {
        let query = ["positions", "--format", "json"];
        let o = run_log(log, &query, None);
        assert_eq!(o.status.code(), Some(0), "kill {k}: {}", stderr(&o));
        let after_kill = stdout(&o);
        let o = run_log(log, &query, None);
        assert!(
            !stderr(&o).contains("index discarded"),
            "kill {k}: {}",
            stderr(&o)
        );
        assert_eq!(stdout(&o), after_kill, "kill {k}");
        let seq = Log::open(log).unwrap().history().seq_last();
        assert!(seq == 3060 || seq == 7060, "kill {k}: seq {seq}");
        std::fs::remove_dir_all(index_path(log)).unwrap();
        assert_eq!(stdout(&run_log(log, &query, None)), after_kill, "kill {k}");
    });
}

/// Given a log of 8,000 stances and its index, when `stancelog index --rebuild` is killed
/// (SIGKILL) at ten points of its run, then the next query answers as on the log (from the
/// index the kill left, or from one it builds), and `index --check` finds that index agreeing
/// with the log: a rebuild leaves the previous index or none, never a wrong one.
#[test]
fn a_kill_during_an_index_rebuild_leaves_the_next_query_right() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.jsonl");
    let o = run_log(&base, &["init"], None);
    assert!(o.status.success());
    let text = registrations(20, 40) + &stances(0, 8_000, 20, 40);
    let o = run_log(&base, &["append", "-"], Some(text.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let query = ["positions", "--format", "json"];
    let expected = stdout(&run_log(&base, &query, None));
    kill_at_ten_points(dir.path(), &base, &["index", "--rebuild"], |k, log| {
        let o = run_log(log, &query, None);
        assert_eq!(o.status.code(), Some(0), "kill {k}: {}", stderr(&o));
        assert_eq!(stdout(&o), expected, "kill {k}");
        let o = run_log(log, &["index", "--check"], None);
        assert_eq!(o.status.code(), Some(0), "kill {k}: {}", stderr(&o));
    });
}

on_both_backends! {
/// Given a log whose index cannot be written (here a file stands where its folder would be),
/// a query answers from the log itself with a warning, the same as with an index.
#[test]
fn an_index_that_cannot_be_written_falls_back_to_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = seed_copy(dir.path());
    let whole = answers(&log);
    let idx = index_dir(&log);
    std::fs::remove_dir_all(&idx).unwrap();
    std::fs::write(&idx, b"not a folder").unwrap();
    let o = run_log(&log, &["positions"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the projection index could not be written"),
        "{}",
        stderr(&o)
    );
    assert_eq!(answers(&log), whole);
    // The report names the index folder that could not be written, not the log (a
    // regression: the log's name had taken its place).
    if crate::backends::current() == Backend::File {
        let (index, used) = ProjectionIndex::open(&log).unwrap();
        assert!(matches!(used, IndexUse::Unwritable { .. }), "{used:?}");
        assert_eq!(index.report().path, idx);
        // `stancelog index`, asked to write the index, fails (exit 1, the folder named):
        // it exited 0 and reported an index of 0 segments that was never written.
        for args in [&["index"][..], &["index", "--rebuild"]] {
            let o = run_log(&log, args, None);
            assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
            assert_eq!(stdout(&o), "", "{args:?}");
            let err = stderr(&o);
            assert!(err.contains(&idx.display().to_string()), "{args:?}: {err}");
            assert!(err.contains("the projection index could not be written"), "{args:?}: {err}");
        }
    }
}
}

/// Regression (rt30, minor): a query on a file that is not a log (a CSV given as --log) left
/// an empty `PATH.index/` folder (with its lock file) behind. Given such a file, when queried,
/// verified or indexed, then each is refused naming its line 1 and nothing is left beside it.
#[test]
fn a_query_on_a_file_that_is_not_a_log_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.csv");
    std::fs::write(&file, "a,b\n1,2\n").unwrap();
    for args in [&["positions"][..], &["timeline"], &["verify"], &["index"]] {
        let o = run_log(&file, args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_eq!(
            stderr(&o),
            format!("stancelog: error: {}:1: expected value\n", file.display())
        );
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["x.csv"], "{args:?}");
    }
}

/// Regression (rt30, minor): `verify` in a read-only folder said "index: none; the next query
/// builds it", which the next query cannot do. Given a log without an index in a folder this
/// process cannot write, `verify` says the next query cannot write it. (A privileged process,
/// which can write there all the same, is told that the next query builds it.)
#[test]
fn verify_says_when_no_query_can_write_the_index() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("ro");
    std::fs::create_dir(&folder).unwrap();
    let log = folder.join("l.jsonl");
    let o = run_log(&log, &["init"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(index_dir(&log));
    let o = run_log(&log, &["verify"], None);
    assert_eq!(
        stdout(&o).lines().nth(1),
        Some("index: none; the next query builds it")
    );
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).unwrap();
    let privileged = std::fs::write(folder.join("probe"), b"").is_ok();
    let o = run_log(&log, &["verify"], None);
    let json = run_log(&log, &["verify", "--format", "json"], None);
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let line = stdout(&o).lines().nth(1).unwrap().to_string();
    let json: Value = serde_json::from_str(&stdout(&json)).unwrap();
    if privileged {
        assert_eq!(line, "index: none; the next query builds it");
        assert_eq!(json["index"], "absent");
    } else {
        assert_eq!(
            line,
            format!(
                "index: none, and the next query cannot write it ({}: Permission denied (os error 13)); queries answer from the log itself, with a warning",
                folder.display()
            )
        );
        assert_eq!(json["index"], "unwritable");
    }
}

/// Regression (rt31): `verify` on an index it does not use (of another format version, or
/// damaged) in a folder this process cannot write said "the next query rebuilds it", which the
/// next query cannot do (it answers from the log itself, with a warning). Given such an index,
/// when the log's folder and the index's are read-only, then `verify` says the next query
/// cannot write it (JSON: still `unusable`). (A privileged process, which can write there all
/// the same, is told that the next query rebuilds it.)
#[test]
fn verify_says_when_no_query_can_rebuild_an_unused_index() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("ro");
    std::fs::create_dir(&folder).unwrap();
    let log = folder.join("l.jsonl");
    for args in [&["init"][..], &["positions"]] {
        let o = run_log(&log, args, None);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let idx = index_dir(&log);
    let manifest = idx.join("MANIFEST");
    // The format version before this build's.
    let mut older = std::fs::read(&manifest).unwrap();
    let version = u32::from_le_bytes(older[16..20].try_into().unwrap());
    older[16..20].copy_from_slice(&(version - 1).to_le_bytes());
    let older_why = format!(
        "it is of format version {}; this build reads version {version}",
        version - 1
    );
    let cases = [
        (older, older_why.as_str()),
        (b"damaged".to_vec(), "its manifest is not an index manifest"),
    ];
    let mode = |m: u32| {
        for d in [&idx, &folder] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(m)).unwrap();
        }
    };
    for (bytes, why) in cases {
        std::fs::write(&manifest, bytes).unwrap();
        let o = run_log(&log, &["verify"], None);
        let rebuilds = format!("index: not used ({why}); the next query rebuilds it");
        assert_eq!(stdout(&o).lines().nth(1), Some(rebuilds.as_str()));
        mode(0o555);
        let privileged = std::fs::write(idx.join("probe"), b"").is_ok();
        let o = run_log(&log, &["verify"], None);
        let json = run_log(&log, &["verify", "--format", "json"], None);
        mode(0o755);
        let _ = std::fs::remove_file(idx.join("probe"));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let line = stdout(&o).lines().nth(1).unwrap().to_string();
        let json: Value = serde_json::from_str(&stdout(&json)).unwrap();
        assert_eq!(json["index"], "unusable");
        if privileged {
            assert_eq!(line, rebuilds);
        } else {
            assert_eq!(
                line,
                format!(
                    "index: not used ({why}), and the next query cannot write it ({}: Permission denied (os error 13)); queries answer from the log itself, with a warning",
                    idx.display()
                )
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The writer that checks batches against the index
// ---------------------------------------------------------------------------------------------

/// Given the seed log, when the same batches (each refused for another rule, or accepted, or a
/// retry) are appended by a writer that checks them against the index and by one that folds
/// the whole log, then both give the same outcome, message for message, and the same log
/// bytes; and the index the first one kept answers as the whole log.
#[test]
fn a_writer_on_the_index_decides_every_batch_as_a_writer_on_the_whole_log() {
    // Stance 33 (prk, claim topic), 20 (rus, policy), 24 (corrected twice).
    let s33 = "01a22751-4cee-7a04-8e8c-906c4f6e9fe9";
    let s20 = "01a22751-4cee-7327-abe0-04338462f03c";
    let s24 = "01a22751-4cee-77e1-a2f5-8c251357f343";
    let reg1 = "01a22751-4cee-7211-a5e4-d7e0e4f09320";
    let new_id = "0193a000-0000-7000-8000-000000000001";
    let stance = |id: &str, actor: &str, topic: &str, stance: &str| {
        format!(
            r#"{{"id":"{id}","type":"stance.declared","actor":"{actor}","topic":"{topic}","stance":"{stance}","date":"2024-11-05","cite":{{"publication":"X"}}}}"#
        )
    };
    let batches: Vec<String> = vec![
        // Accepted: a retraction, an alias link, a new stance with an id.
        format!(
            "{}\n{}\n{}",
            format_args!(
                r#"{{"id":"0193a000-0000-7000-8000-000000000002","type":"stance.retracted","target":"{s33}","reason":"r"}}"#
            ),
            r#"{"id":"0193a000-0000-7000-8000-000000000003","type":"actor.aliased","actor":"rus","alias":"rus-state-duma"}"#,
            stance(new_id, "prk", "dprk-troops-in-russia", "deny")
        ),
        // A retry of that stance: stored once.
        stance(new_id, "prk", "dprk-troops-in-russia", "deny"),
        // The same id with other content.
        stance(new_id, "prk", "dprk-troops-in-russia", "affirm"),
        // A registration's id reused by a stance.
        stance(reg1, "prk", "dprk-troops-in-russia", "deny"),
        stance("", "nobody", "dprk-troops-in-russia", "deny").replace(r#""id":"","#, ""),
        stance("", "prk", "nothing", "deny").replace(r#""id":"","#, ""),
        stance("", "prk", "dprk-troops-in-russia", "support").replace(r#""id":"","#, ""),
        format!(r#"{{"type":"stance.retracted","target":"{s33}","reason":"again"}}"#),
        format!(r#"{{"type":"stance.cited","target":"{s33}","cite":{{"publication":"Y"}}}}"#),
        format!(r#"{{"type":"stance.cited","target":"{reg1}","cite":{{"publication":"Y"}}}}"#),
        r#"{"type":"stance.retracted","target":"0193a000-0000-7000-8000-0000000000ff","reason":"r"}"#.to_string(),
        // A correction to a claim topic that makes a policy stance unfit.
        format!(
            r#"{{"type":"stance.corrected","target":"{s20}","reason":"r","topic":"dprk-troops-in-russia"}}"#
        ),
        // A third correction of 24 (its actor is now cho-tae-yul), to a stance unfit for it.
        format!(r#"{{"type":"stance.corrected","target":"{s24}","reason":"r","stance":"affirm"}}"#),
        r#"{"type":"actor.aliased","actor":"prk","alias":"rus-state-duma"}"#.to_string(),
        r#"{"type":"actor.aliased","actor":"rus-state-duma","alias":"rus"}"#.to_string(),
        r#"{"type":"actor.registered","actor":"rus","name":"R","kind":"state","country":"RUS","sector":"GOV"}"#
            .to_string(),
        // Accepted: a correction of 24, a citation of the new stance, in one batch.
        format!(
            "{}\n{}",
            format_args!(
                r#"{{"id":"0193a000-0000-7000-8000-000000000004","type":"stance.corrected","target":"{s24}","reason":"r","stance":"oppose"}}"#
            ),
            format_args!(
                r#"{{"id":"0193a000-0000-7000-8000-000000000005","type":"stance.cited","target":"{new_id}","cite":{{"publication":"Z"}}}}"#
            )
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    std::fs::copy(crate::support::seed_log(), &a).unwrap();
    std::fs::copy(crate::support::seed_log(), &b).unwrap();
    ProjectionIndex::open(&a).unwrap();
    let mut clock = jiff::Timestamp::from_second(1_800_000_000).unwrap();
    for (i, text) in batches.iter().enumerate() {
        let batch = parse_batch("b", format!("{text}\n").as_bytes()).unwrap();
        let opts = AppendOptions {
            recorded_at: clock,
            expect_seq: None,
            wait: Duration::from_secs(5),
        };
        let on_index = Writer::open_indexed(&a, Duration::from_secs(5))
            .unwrap()
            .append(&batch, "b", &opts);
        let on_log = Writer::open(&b, Duration::from_secs(5))
            .unwrap()
            .append(&batch, "b", &opts);
        let shown = |r: &stancelog::Result<stancelog::store::AppendReport>| match r {
            Ok(r) => format!("{:?}", r.events),
            Err(e) => e.to_string(),
        };
        assert_eq!(shown(&on_index), shown(&on_log), "batch {i}: {text}");
        assert!(
            i == 0 || i == 1 || i == batches.len() - 1 || on_index.is_err(),
            "batch {i}"
        );
        clock += jiff::SignedDuration::from_secs(1);
    }
    // Ids drawn for events without one differ; here every accepted event has its own.
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let (index, used) = ProjectionIndex::open(&a).unwrap();
    assert_eq!(used, IndexUse::Used);
    compare(Log::open(&a).unwrap().history(), &index).unwrap();
}

/// How many processes wait for a lock on the file at `path` (Linux's `/proc/locks`: a waiter's
/// line reads `N: -> FLOCK ADVISORY WRITE PID MAJ:MIN:INODE 0 EOF`).
fn lock_waiters(path: &Path) -> usize {
    use std::os::unix::fs::MetadataExt;
    let ino = std::fs::metadata(path).unwrap().ino();
    let locks = std::fs::read_to_string("/proc/locks").unwrap();
    locks
        .lines()
        .filter(|l| l.contains("->"))
        .filter(|l| {
            l.split_whitespace()
                .any(|f| f.rsplit(':').next() == Some(&ino.to_string()) && f.contains(':'))
        })
        .count()
}

/// Starts `n` queries at once on `log` (on the test's backend) while this process holds the
/// lock of its index (in folder `dir`), waits until
/// all `n` wait for that lock (so each has found the index missing or unusable before any
/// could build; a process blocks on the lock after trying it for a second and saying it
/// waits), lets them go, and returns their outputs.
fn queries_at_once(log: &Path, dir: &Path, n: usize, args: &[&str]) -> Vec<std::process::Output> {
    std::fs::create_dir_all(dir).unwrap();
    let log = crate::backends::log_arg(log);
    let lock = std::fs::File::create(dir.join("LOCK")).unwrap();
    lock.lock().unwrap();
    let children: Vec<_> = (0..n)
        .map(|_| {
            crate::support::stancelog_command()
                .arg("--log")
                .arg(&log)
                .args(args)
                .env_remove("STANCELOG_LOG")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut waited = 0;
    while lock_waiters(&dir.join("LOCK")) < n {
        assert!(
            waited < 6_000,
            "the queries never waited for the index's lock"
        );
        std::thread::sleep(Duration::from_millis(20));
        waited += 1;
    }
    drop(lock);
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

on_both_backends! {
/// Given a log of 3,000 stances without an index, when four queries start at once (each has
/// found no index before any takes the index's lock), then one builds it and the other three,
/// once they hold the lock, find it current and use it: the folder holds the one segment of
/// one build (a second build would have named its segment with a later generation), and all
/// answer alike. The same with a damaged index: one note of the rebuild, not four (on a file
/// log; on PostgreSQL at least one).
#[test]
fn queries_at_once_on_a_log_without_an_index_make_one_build() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    assert!(run_log(&log, &["init"], None).status.success());
    let text = registrations(20, 40) + &stances(0, 3_000, 20, 40);
    let o = run_log(&log, &["append", "-"], Some(text.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let query = ["positions", "--format", "json"];
    let expected = stdout(&run_log(&log, &query, None));
    assert!(expected.contains("\"a19\""));
    let idx = index_dir(&log);
    std::fs::remove_dir_all(&idx).unwrap();
    let outs = queries_at_once(&log, &idx, 4, &query);
    // Each waited for the lock more than a second (held here until all four wait), and said so.
    let waiting = format!(
        "stancelog: note: {}: waiting for the index's lock, which another process holds (building or updating the index)\n",
        idx.display()
    );
    for o in &outs {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
        assert_eq!((stdout(o), stderr(o)), (expected.clone(), waiting.clone()));
    }
    let mut files: Vec<String> = std::fs::read_dir(&idx)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["LOCK", "MANIFEST", "seg-00000001-1-3060"]);
    std::fs::write(idx.join("MANIFEST"), b"damaged").unwrap();
    let outs = queries_at_once(&log, &idx, 4, &query);
    let notes = outs
        .iter()
        .filter(|o| stderr(o).contains("index discarded"))
        .count();
    // A file log's queries look at the index again once they hold its lock, so one rebuilds
    // it; a PostgreSQL log's each read the table first and say so (one writes the index).
    if crate::backends::current() == Backend::File {
        assert_eq!(notes, 1);
    } else {
        assert!(notes >= 1, "{notes}");
    }
    for o in &outs {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
        assert_eq!(stdout(o), expected);
    }
    let o = run_log(&log, &["index", "--check"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
}

/// Given a log of 60,036 events (more than three of the windows a fold reads its records in,
/// so record buffers are handed back and read into again, grown where a window's records are
/// longer), every answer the index gives of every pair, of one issue (every registration
/// folded with the stances of half the topics) and of one actor, at two recorded cutoffs, is
/// the whole log's fold's.
#[test]
fn a_fold_over_many_windows_answers_as_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    Log::create(&log).unwrap();
    let (actors, topics) = (30, 6);
    let mut regs = registrations(actors, topics);
    // Topics t1, t3, t5 tagged `hr` instead of `nu`.
    for t in [1, 3, 5] {
        regs = regs.replace(
            &format!(
                "\"topic\":\"t{t}\",\"title\":\"T{t}\",\"kind\":\"policy\",\"issues\":[\"nu\"]"
            ),
            &format!(
                "\"topic\":\"t{t}\",\"title\":\"T{t}\",\"kind\":\"policy\",\"issues\":[\"hr\"]"
            ),
        );
    }
    // Later batches carry longer citation titles, so later windows need larger buffers.
    let batches: Vec<String> = std::iter::once(regs)
        .chain((0..6).map(|b| {
            stances(b * 10_000, 10_000, actors, topics).replace("report ", &"r".repeat(1 + 40 * b))
        }))
        .collect();
    let mut w = Writer::open(&log, Duration::from_secs(5)).unwrap();
    for (b, text) in batches.iter().enumerate() {
        let opts = AppendOptions {
            recorded_at: jiff::Timestamp::from_second(1_730_419_200 + b as i64).unwrap(),
            expect_seq: None,
            wait: Duration::from_secs(5),
        };
        let batch = parse_batch("b", text.as_bytes()).unwrap();
        w.append(&batch, "b", &opts).unwrap();
    }
    drop(w);
    let full = Log::open(&log).unwrap();
    let full = full.history();
    assert_eq!(full.seq_last(), 60_036);
    // As the appends left it (a segment per batch, merged), and built in one go.
    let (appended, used) = ProjectionIndex::open(&log).unwrap();
    assert_eq!(used, IndexUse::Used);
    for index in [appended, ProjectionIndex::rebuild(&log).unwrap()] {
        answers_as_the_log(&index, full);
    }
}

/// [`a_fold_over_many_windows_answers_as_the_log`]'s comparisons on one index.
fn answers_as_the_log(index: &ProjectionIndex, full: &History) {
    let issue = Filter {
        issues: ["nu".to_string()].into(),
        ..Filter::default()
    };
    let actor = Filter {
        actors: [ActorId::new("a7").unwrap()].into(),
        ..Filter::default()
    };
    for f in [Filter::default(), issue, actor] {
        let h = index.query_history(&f).unwrap();
        for known in [None, Some(30_000)] {
            let at = At { as_of: None, known };
            let positions = h.positions_at(at, &f);
            assert_eq!(positions, full.positions_at(at, &f), "{f:?} {known:?}");
            assert!(!positions.is_empty());
            assert_eq!(
                h.timeline_at(known, &f),
                full.timeline_at(known, &f),
                "{f:?}"
            );
        }
    }
    // Every pair: 30 actors x 6 topics; the issue: the 3 topics tagged `nu`.
    let every = index.query_history(&Filter::default()).unwrap();
    assert_eq!(
        every.positions_at(At::default(), &Filter::default()).len(),
        180
    );
    let nu = Filter {
        issues: ["nu".to_string()].into(),
        ..Filter::default()
    };
    let h = index.query_history(&nu).unwrap();
    let last = h.positions_at(At::default(), &nu);
    assert_eq!(last.len(), 90);
    assert!(
        last.iter()
            .all(|p| ["t0", "t2", "t4"].contains(&p.stance.topic.as_str()))
    );
    // a7's timeline: its 2,000 stances, the last batch's with the longest titles.
    let a7 = Filter {
        actors: [ActorId::new("a7").unwrap()].into(),
        ..Filter::default()
    };
    let h = index.query_history(&a7).unwrap();
    let timeline = h.timeline_at(None, &a7);
    assert_eq!(timeline.len(), 2_000);
    let long = format!("{}59977", "r".repeat(201));
    let e = timeline
        .iter()
        .find(|e| e.position.event.seq == 60_014)
        .unwrap();
    assert_eq!(e.position.stance.cite.title.as_deref(), Some(long.as_str()));
}
