//! `stancelog watch`, the catch-up subscription, on both backends: every seq printed exactly
//! once, in order, while writers append; a restart with `--from-seq` resumes without a gap; it
//! ends cleanly on SIGINT, SIGTERM and when the reader of its pipe goes away.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use crate::backends::{Backend, TestLog, on_both_backends};
use crate::support::{REGISTER, spawn_append, stances, stderr};

/// A guard against a hung watcher, never a measure of speed: a test waits this long for a line
/// (or an exit) before it fails.
const PATIENCE: Duration = Duration::from_secs(120);

/// A running `stancelog watch --format ndjson`, its lines read on a thread.
struct Watcher {
    child: Child,
    lines: Receiver<String>,
    errors: Receiver<String>,
}

impl Watcher {
    fn start(log: &TestLog, extra: &[&str]) -> Watcher {
        let mut child = crate::support::stancelog_command()
            .args(["--log", &log.arg, "watch", "--format", "ndjson"])
            .args(extra)
            .env_remove("STANCELOG_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn stancelog watch");
        let lines = lines_of(child.stdout.take().unwrap());
        let errors = lines_of(child.stderr.take().unwrap());
        Watcher {
            child,
            lines,
            errors,
        }
    }

    /// The seqs printed, read until `last` is printed.
    fn seqs_through(&self, last: u64) -> Vec<u64> {
        let mut seqs = Vec::new();
        while seqs.last() != Some(&last) {
            let line = self
                .lines
                .recv_timeout(PATIENCE)
                .unwrap_or_else(|_| panic!("no seq {last} from watch; got {seqs:?}"));
            let v: serde_json::Value = serde_json::from_str(&line).expect("an NDJSON line");
            seqs.push(v["seq"].as_u64().expect("seq"));
        }
        seqs
    }

    /// The next line's seq, if one comes within a second (only to show that nothing more was
    /// printed after a batch whose last event the watcher did print).
    fn seqs_through_or_none(&self) -> Option<u64> {
        let line = self.lines.recv_timeout(Duration::from_secs(1)).ok()?;
        let v: serde_json::Value = serde_json::from_str(&line).expect("an NDJSON line");
        v["seq"].as_u64()
    }

    /// Sends `signal` (`INT`, `TERM`); the watcher must end with exit 0, printing nothing more.
    fn stop(mut self, signal: &str) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status();
        assert!(ok.expect("run kill").success());
        let code = wait_bounded(&mut self.child);
        let err: Vec<String> = self.errors.try_iter().collect();
        assert_eq!(code, Some(0), "after SIG{signal}: {err:?}");
        let rest: Vec<String> = self.lines.iter().collect();
        assert_eq!(
            rest,
            Vec::<String>::new(),
            "printed after the last awaited seq"
        );
    }
}

/// The lines of `pipe`, read on a thread.
fn lines_of(pipe: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            if tx.send(line.expect("utf-8 line")).is_err() {
                break;
            }
        }
    });
    lines
}

/// Waits for `child` to exit, at most [`PATIENCE`]; gives its exit code.
fn wait_bounded(child: &mut Child) -> Option<i32> {
    let since = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if since.elapsed() > PATIENCE {
            let _ = child.kill();
            panic!("the process did not end");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// `writers` processes each appending `batches` batches of `events` stances at once, with ids
/// in groups from `group0`; returns when all have exited 0.
fn append_at_once(log: &TestLog, writers: u32, batches: u32, events: u32, group0: u32) {
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let arg = log.arg.clone();
            thread::spawn(move || {
                for b in 0..batches {
                    let group = group0 + w * 1000 + b;
                    let o = spawn_append(&arg, &[], &stances(group, events))
                        .wait_with_output()
                        .unwrap();
                    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

on_both_backends! {
    fn a_watcher_prints_every_seq_once_in_order_while_four_writers_append(b: Backend) {
        let log = TestLog::empty(b);
        log.ok(&["append", "-"], Some(REGISTER.as_bytes()));
        let watcher = Watcher::start(&log, &["--from-seq", "1"]);
        append_at_once(&log, 4, 15, 4, 1);
        let total = 2 + 4 * 15 * 4;
        assert_eq!(watcher.seqs_through(total), (1..=total).collect::<Vec<_>>());
        watcher.stop("TERM");

        // Restarted from a seq in the middle while writers append again: no gap, no repeat.
        let resumed = Watcher::start(&log, &["--from-seq", "150"]);
        append_at_once(&log, 4, 5, 3, 100_000);
        let now = total + 4 * 5 * 3;
        assert_eq!(resumed.seqs_through(now), (150..=now).collect::<Vec<_>>());
        resumed.stop("INT");
    }

    fn a_watcher_from_past_the_end_prints_only_what_is_appended_later(b: Backend) {
        let log = TestLog::empty(b);
        log.ok(&["append", "-"], Some(REGISTER.as_bytes()));
        let watcher = Watcher::start(&log, &["--from-seq", "4"]);
        // It says that it waits for seqs not there yet (it said nothing).
        let note = watcher.errors.recv_timeout(PATIENCE).expect("a note");
        assert!(
            note.ends_with(": --from-seq 4 is after the log's end (seq 2): waiting for seq 3 to 4 to be appended"),
            "{note}"
        );
        log.ok(&["append", "-"], Some(stances(1, 1).as_bytes()));
        log.ok(&["append", "-"], Some(stances(2, 3).as_bytes()));
        assert_eq!(watcher.seqs_through(6), vec![4, 5, 6]);
        watcher.stop("INT");
    }

    fn by_default_a_watcher_starts_at_the_end_and_says_where(b: Backend) {
        let log = TestLog::seed(b);
        let watcher = Watcher::start(&log, &[]);
        let note = watcher.errors.recv_timeout(PATIENCE).expect("a note");
        assert!(
            note.ends_with(" from seq 41, after the log's end at seq 40 (--from-seq 1 for the whole log)"),
            "{note}"
        );
        log.ok(&["append", "-"], Some(REGISTER.as_bytes()));
        assert_eq!(watcher.seqs_through(42), vec![41, 42]);
        watcher.stop("INT");
    }

    fn a_watcher_by_actor_prints_its_events_as_known_when_recorded(b: Backend) {
        // Seed log: stances 24 and 25 were recorded under cho-tae-yong and moved to
        // cho-tae-yul by the corrections 39 and 40; 36 registers cho-tae-yul, 37 and 38 are
        // roles. By name, as queries take it.
        let log = TestLog::seed(b);
        let yul = Watcher::start(&log, &["--from-seq", "1", "--actor", "Cho Tae-yul"]);
        assert_eq!(yul.seqs_through(40), vec![36, 37, 39, 40]);
        let yong = Watcher::start(&log, &["--from-seq", "1", "--actor", "cho-tae-yong"]);
        assert_eq!(yong.seqs_through(40), vec![2, 24, 25, 38, 39, 40]);
        yong.stop("INT");
        // Live, with an alias link: north-korea (41) is prk's only once linked (42), so its
        // registration is not printed, the link and its later stance (43) are; 44 is another
        // actor's.
        let prk = Watcher::start(&log, &["--actor", "prk"]);
        prk.errors.recv_timeout(PATIENCE).expect("the note on where it starts");
        log.ok(&["append", "-"], Some(ALIASED.as_bytes()));
        assert_eq!(prk.seqs_through(43), vec![42, 43]);
        // And no more: the next line is the next stance of prk (a correction's target moved to
        // prk counts too: 46 corrects 44 from kim-yong-hyun to prk), not 45.
        log.ok(&["append", "-"], Some(MOVED.as_bytes()));
        assert_eq!(prk.seqs_through(46), vec![46]);
        assert_eq!(yul.seqs_through_or_none(), None);
        yul.stop("TERM");
        prk.stop("TERM");
    }

    fn a_watcher_by_topic_or_actor_and_topic_keeps_what_both_cover(b: Backend) {
        let log = TestLog::seed(b);
        let topic = Watcher::start(&log, &["--from-seq", "1", "--topic", "dprk-troops-in-russia"]);
        assert_eq!(topic.seqs_through(33), vec![13, 22, 26, 27, 30, 32, 33]);
        let both = Watcher::start(
            &log,
            &["--from-seq", "1", "--actor", "kim-yong-hyun", "--topic", "dprk-troops-in-russia"],
        );
        assert_eq!(both.seqs_through(22), vec![1, 13, 22]);
        log.ok(&["append", "-"], Some(ALIASED.as_bytes()));
        log.ok(&["append", "-"], Some(MOVED.as_bytes()));
        // 43 is prk's stance on the topic; 44 kim-yong-hyun's on it; 45 a stance on another
        // topic; 46 moves 44 to prk (before: kim-yong-hyun, so both watchers print it).
        assert_eq!(topic.seqs_through(46), vec![43, 44, 46]);
        assert_eq!(both.seqs_through(46), vec![44, 46]);
        topic.stop("INT");
        both.stop("INT");
    }

    fn a_watcher_refuses_an_unknown_actor_as_queries_do(b: Backend) {
        let log = TestLog::seed(b);
        let o = log.run(&["watch", "--actor", "nobody"], None);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert_eq!(
            stderr(&o).trim_end(),
            "stancelog: error: --actor: no actor has the id, name or alias `nobody` (see `stancelog actors`)"
        );
    }

    fn a_watcher_ends_when_the_reader_of_its_pipe_goes_away(b: Backend) {
        // What `watch | head -n 4` does: read some lines, then close the pipe while the log
        // stays idle. The watcher must notice and end, with exit 0.
        let log = TestLog::seed(b);
        let lines = first_lines(&log, &["--from-seq", "38", "--format", "ndjson"], 3);
        let seqs: Vec<u64> = lines
            .iter()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs, vec![38, 39, 40]);
    }

    fn the_table_shows_one_line_per_event_under_a_header(b: Backend) {
        let log = TestLog::seed(b);
        let lines = first_lines(&log, &["--from-seq", "40"], 2);
        assert_eq!(lines[0], "    SEQ  RECORDED_AT                  TYPE              FIELDS");
        assert_eq!(
            lines[1],
            "     40  2026-11-29T12:52:42.869264Z  stance.corrected  actor=cho-tae-yul \
target=01a22751-4cee-728e-af63-7869f8c147a9 reason=\"The article names the foreign minister \
Cho Tae-yong; in October 2024 the foreign minister was Cho Tae-yul, and Cho Tae-yong headed \
the National Intelligence Service.\""
        );
        // Regression: a stance's PLOVER event and quote were left out of its line.
        let lines = first_lines(&log, &["--from-seq", "22"], 2);
        assert_eq!(
            lines[1],
            "     22  2026-11-29T12:39:29.262679Z  stance.declared   actor=kim-yong-hyun \
topic=dprk-troops-in-russia stance=affirm date=2024-10 event=accuse recipient=prk \
quote=\"mercenary cannon fodder\" cite=\"unnamed outlet\""
        );
    }
}

/// Seqs 41-43 after the seed log: a second id for North Korea, linked to `prk`, and a stance
/// under it.
const ALIASED: &str = concat!(
    r#"{"type":"actor.registered","actor":"north-korea","name":"DPRK (second id)","kind":"state","country":"PRK","sector":"GOV"}"#,
    "\n",
    r#"{"type":"actor.aliased","actor":"prk","alias":"north-korea"}"#,
    "\n",
    r#"{"type":"stance.declared","actor":"north-korea","topic":"dprk-troops-in-russia","stance":"deny","date":"2024-10-25","cite":{"publication":"p"}}"#,
    "\n",
);

/// Seqs 44-46 after [`ALIASED`]: a stance of kim-yong-hyun, one on another topic, and a
/// correction moving the first to prk.
const MOVED: &str = concat!(
    r#"{"id":"00000000-0000-4000-8000-000000000044","type":"stance.declared","actor":"kim-yong-hyun","topic":"dprk-troops-in-russia","stance":"affirm","date":"2024-10-26","cite":{"publication":"p"}}"#,
    "\n",
    r#"{"type":"stance.declared","actor":"rus","topic":"russia-dprk-partnership-treaty","stance":"support","date":"2024-10-26","cite":{"publication":"p"}}"#,
    "\n",
    r#"{"type":"stance.corrected","target":"00000000-0000-4000-8000-000000000044","actor":"prk","reason":"misattributed"}"#,
    "\n",
);

/// Runs `watch ARGS`, reads its first `n` lines, closes the pipe, and expects the watcher to
/// end by itself with exit 0.
fn first_lines(log: &TestLog, args: &[&str], n: usize) -> Vec<String> {
    let mut child = crate::support::stancelog_command()
        .args(["--log", &log.arg, "watch"])
        .args(args)
        .env_remove("STANCELOG_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let lines = (0..n)
        .map(|_| {
            let mut l = String::new();
            out.read_line(&mut l).unwrap();
            l.trim_end_matches('\n').to_string()
        })
        .collect();
    drop(out);
    assert_eq!(wait_bounded(&mut child), Some(0));
    lines
}

#[test]
fn from_seq_zero_is_a_usage_error() {
    let log = TestLog::seed(Backend::File);
    let o = log.run(&["watch", "--from-seq", "0"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// A gap in what PostgreSQL shows (a row inserted by hand with seq 42 while 41 is missing, as
/// only a writer outside stancelog's append path could): the watcher holds 42 back with a
/// warning and prints 41 and 42 in order once 41 is there; it never skips. Both ways a
/// watcher reads: the gap there when it starts from seq 41 (its projection index cannot be
/// caught up through the gap, so it folds the log from the start, which waits at the gap),
/// and the gap appearing after a watcher from the end has started on the index (a catch-up
/// of the index fails at the gap: held).
#[cfg(feature = "postgres")]
#[test]
fn a_gap_is_waited_for_never_skipped_on_pg() {
    use crate::backends::pg::{admin, dbname};
    // Two more batches of the seed log, made on a file log: their lines chain to the seed's.
    let file = TestLog::seed(Backend::File);
    file.ok(&["append", "-"], Some(REGISTER.as_bytes()));
    let lines: Vec<String> = std::fs::read_to_string(&file.arg)
        .unwrap()
        .lines()
        .skip(40)
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 2);
    let insert = |db: &mut postgres::Client, seq: i64, line: &str| {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        db.execute(
            "INSERT INTO stancelog.records (seq, id, hash, line) VALUES ($1, $2::text::uuid, $3, $4)",
            &[&seq, &v["id"].as_str().unwrap(), &v["hash"].as_str().unwrap(), &line],
        )
        .unwrap();
    };
    for gap_first in [true, false] {
        let pg = TestLog::seed(Backend::Postgres);
        let mut db = admin(Some(dbname(&pg.arg)));
        if gap_first {
            insert(&mut db, 42, &lines[1]);
        }
        let watcher = match gap_first {
            true => Watcher::start(&pg, &["--from-seq", "41"]),
            false => Watcher::start(&pg, &[]),
        };
        if !gap_first {
            let note = watcher.errors.recv_timeout(PATIENCE).expect("a note");
            assert!(
                note.ends_with(
                    "from seq 41, after the log's end at seq 40 (--from-seq 1 for the whole log)"
                ),
                "{note}"
            );
            insert(&mut db, 42, &lines[1]);
        }
        let warning = watcher.errors.recv_timeout(PATIENCE).expect("a warning");
        assert!(
            warning.ends_with("seq 41 is not visible yet, but seq 42 is: waiting for it (a record inserted outside stancelog's append path?)"),
            "{warning}"
        );
        insert(&mut db, 41, &lines[0]);
        assert_eq!(watcher.seqs_through(42), vec![41, 42]);
        watcher.stop("INT");
    }
}

/// A watcher from a seq after 1, or from the end, reads nothing of the log before it: with a
/// row of the seed log (seq 5) damaged by hand in the table after its index was built (which
/// any read from the start, `verify` first, refuses), a watcher from seq 39 prints 39 and 40
/// from the index and then the batches appended after it; a watcher from the end, with
/// `--actor` resolved on the index's registrations, prints only what comes after it.
#[cfg(feature = "postgres")]
#[test]
fn a_watcher_from_a_later_seq_or_the_end_reads_nothing_before_it_on_pg() {
    use crate::backends::pg::{admin, dbname};
    let pg = TestLog::seed(Backend::Postgres);
    pg.ok(&["index"], None);
    admin(Some(dbname(&pg.arg)))
        .batch_execute(
            "ALTER TABLE stancelog.records DISABLE TRIGGER records_append_only;
             UPDATE stancelog.records SET line = replace(line, '\"schema\"', ' \"schema\"') WHERE seq = 5;
             ALTER TABLE stancelog.records ENABLE TRIGGER records_append_only;",
        )
        .unwrap();
    let o = pg.run(&["verify"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let watcher = Watcher::start(&pg, &["--from-seq", "39"]);
    assert_eq!(watcher.seqs_through(40), vec![39, 40]);
    pg.ok(&["append", "-"], Some(REGISTER.as_bytes()));
    let by_actor = Watcher::start(&pg, &["--actor", "a"]);
    let note = by_actor.errors.recv_timeout(PATIENCE).expect("a note");
    assert!(
        note.ends_with(
            "from seq 43, after the log's end at seq 42 (--from-seq 1 for the whole log)"
        ),
        "{note}"
    );
    let topic = r#"{"type":"topic.registered","topic":"u","title":"U","kind":"policy"}"#;
    for batch in [stances(1, 2), format!("{topic}\n"), stances(2, 1)] {
        pg.ok(&["append", "-"], Some(batch.as_bytes()));
    }
    assert_eq!(watcher.seqs_through(46), vec![41, 42, 43, 44, 45, 46]);
    // Actor a's stances, not topic u's registration (seq 45).
    assert_eq!(by_actor.seqs_through(46), vec![43, 44, 46]);
    watcher.stop("INT");
    by_actor.stop("INT");
}

/// Regression: a watcher on the projection index, its log replaced by another, longer one,
/// went on printing the other log's events (the index, found not to match, was rebuilt in
/// silence): it now stops with exit 2 and names the seq to resume from.
#[test]
fn a_watcher_stops_when_its_log_is_replaced_by_another() {
    let log = TestLog::empty(Backend::File);
    log.ok(&["append", "-"], Some(REGISTER.as_bytes()));
    log.ok(&["append", "-"], Some(stances(1, 3).as_bytes()));
    let watcher = Watcher::start(&log, &["--from-seq", "4"]);
    assert_eq!(watcher.seqs_through(5), vec![4, 5]);
    let other = TestLog::empty(Backend::File);
    other.ok(&["append", "-"], Some(REGISTER.as_bytes()));
    other.ok(&["append", "-"], Some(stances(2, 6).as_bytes()));
    let swap = format!("{}.swap", log.arg);
    std::fs::copy(&other.arg, &swap).unwrap();
    std::fs::rename(&swap, &log.arg).unwrap();
    let Watcher {
        mut child,
        lines,
        errors,
    } = watcher;
    assert_eq!(wait_bounded(&mut child), Some(2));
    let err: Vec<String> = errors.iter().collect();
    // Where to resume, said on any error (a lost connection too), then the error.
    assert_eq!(
        err[err.len() - 2],
        "stancelog: note: stopping on the error below; every seq before 6 was read: watch again with --from-seq 6 to go on from there"
    );
    assert!(
        err[err.len() - 1].contains("the index was discarded"),
        "{err:?}"
    );
    assert_eq!(lines.iter().collect::<Vec<_>>(), Vec::<String>::new());
}

/// Regression: `--from-seq 1` folded the whole log before its first line (20 s on the UN
/// votes in a debug build); it now reads through the projection index, in pieces, as the
/// other starts do: a watch of a log without an index builds it, prints every seq once, in
/// order, and then what is appended.
#[test]
fn a_watcher_from_seq_one_reads_through_the_index() {
    let log = TestLog::seed(Backend::File);
    let manifest = std::path::PathBuf::from(format!("{}.index", log.arg)).join("MANIFEST");
    assert!(!manifest.exists());
    let watcher = Watcher::start(&log, &["--from-seq", "1"]);
    assert_eq!(watcher.seqs_through(40), (1..=40).collect::<Vec<u64>>());
    assert!(
        manifest.exists(),
        "the watch read the log through its index"
    );
    log.ok(&["append", "-"], Some(REGISTER.as_bytes()));
    assert_eq!(watcher.seqs_through(42), vec![41, 42]);
    watcher.stop("TERM");
}

/// A watcher on PostgreSQL rides out a lost connection: cut by the server
/// (`pg_terminate_backend`), it connects again at once; with the server down (`pg_ctl stop -m
/// immediate`, as a crash leaves it), it tries again, saying so each time, until the
/// server is back. Either way it prints what was appended meanwhile, each seq once, from the
/// high-water mark on (before, it stopped with a note naming the `--from-seq` to go on from).
#[cfg(feature = "postgres")]
#[test]
fn a_watcher_connects_again_after_a_cut_connection_and_a_restart_on_pg() {
    use crate::pg::OwnCluster;
    let cluster = OwnCluster::start();
    let admin = || postgres::Client::connect(&cluster.conn, postgres::NoTls).unwrap();
    admin().batch_execute("CREATE DATABASE watched").unwrap();
    let log = TestLog::at(format!("{} dbname=watched", cluster.conn));
    log.ok(&["init"], None);
    log.ok(&["append", "-"], Some(REGISTER.as_bytes()));
    let watcher = Watcher::start(&log, &["--from-seq", "1"]);
    assert_eq!(watcher.seqs_through(2), vec![1, 2]);
    let next_warning = || watcher.errors.recv_timeout(PATIENCE).expect("a warning");

    let cut = admin()
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'watched'",
            &[],
        )
        .unwrap();
    assert!(!cut.is_empty(), "the watcher's connection");
    let warning = next_warning();
    assert!(
        warning.ends_with("; connected again, reading on from seq 3"),
        "{warning}"
    );
    log.ok(&["append", "-"], Some(stances(1, 2).as_bytes()));
    assert_eq!(watcher.seqs_through(4), vec![3, 4]);

    OwnCluster::script("pg-crash", cluster.dir.path());
    let warning = next_warning();
    assert!(
        warning.ends_with("; connecting again (every seq before 5 was read)"),
        "{warning}"
    );
    OwnCluster::script("pg-start", cluster.dir.path());
    log.ok(&["append", "-"], Some(stances(2, 3).as_bytes()));
    assert_eq!(watcher.seqs_through(7), vec![5, 6, 7]);
    // Each failed try says so; the last line says it is back.
    let mut notes = vec![next_warning()];
    while !notes.last().unwrap().contains(": connected again") {
        assert!(
            notes.last().unwrap().contains(": not reachable yet ("),
            "{notes:?}"
        );
        notes.push(next_warning());
    }
    assert!(
        notes
            .last()
            .unwrap()
            .ends_with(": connected again, reading on from seq 5"),
        "{notes:?}"
    );
    watcher.stop("INT");
}
