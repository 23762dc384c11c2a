//! `stancelog import unvotes DIR`: UN General Assembly votes as state actors, vote topics and
//! yes/no/abstain stances.
//!
//! The plain tests read `tests/fixtures/unvotes-mini`: five roll calls (rcid 3 spans two lines of
//! roll_calls.csv: its descr holds a newline), votes of the United States, Canada and Russia,
//! of four historical states (Yugoslavia YU, German Democratic Republic DD, Czechoslovakia CS)
//! and of the Yemen Arab Republic (no code), and five bad vote rows plus one bad issue row:
//!
//! | file | line | why refused |
//! | --- | --- | --- |
//! | issues.csv | 7 | rcid 9999 is not a roll call |
//! | unvotes.csv | 16 | vote `maybe` |
//! | unvotes.csv | 17 | rcid 4000 is not a roll call |
//! | unvotes.csv | 18 | code `ZZ` is not ISO |
//! | unvotes.csv | 19 | no code, and `Narnia` is no special case |
//! | unvotes.csv | 20 | a second vote of the United States in roll call 2300 (first: line 15) |
//!
//! So 7 actors, 5 topics and 15 votes (lines 2-15 and 21) = 27 events.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use stancelog::core::{EventBody, TopicKind};
use stancelog::import::unvotes::{self, Options, PUBLICATION};
use stancelog::import::{Progress, event_id};
use stancelog::store::Log;

use crate::backends::on_both_backends;
use crate::support::{empty_log, json, run_log, stderr};

fn mini() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/unvotes-mini")
}

fn import(log: &Path, dir: &Path) -> Value {
    let o = run_log(
        log,
        &[
            "import",
            "unvotes",
            dir.to_str().expect("utf-8 path"),
            "--format",
            "json",
        ],
        None,
    );
    // Exit 2 when any row was refused (the rest is appended all the same), else 0.
    let report = json(&o);
    let code = if report["refused"].as_array().unwrap().is_empty() {
        0
    } else {
        2
    };
    assert_eq!(o.status.code(), Some(code), "stderr: {}", stderr(&o));
    report
}

/// (file name, line) of each refused row, and its reason.
fn refused(report: &Value) -> Vec<(String, u64, String)> {
    report["refused"]
        .as_array()
        .expect("refused array")
        .iter()
        .map(|r| {
            let file = Path::new(r["file"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (
                file,
                r["line"].as_u64().unwrap(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A topic's id, title, resolution, session, issues and important flag.
type TopicRow = (
    String,
    String,
    Option<String>,
    Option<u32>,
    Vec<String>,
    Option<bool>,
);

on_both_backends! {
#[test]
fn mini_import_appends_actors_topics_then_votes_and_reports_refused_rows() {
    let (_dir, log) = empty_log();
    let report = import(&log, &mini());
    assert_eq!(report["appended"], 27, "{report}");
    assert_eq!(report["already_present"], 0);
    let refused = refused(&report);
    let at: Vec<(&str, u64)> = refused.iter().map(|(f, l, _)| (f.as_str(), *l)).collect();
    assert_eq!(
        at,
        vec![
            ("issues.csv", 7),
            ("unvotes.csv", 16),
            ("unvotes.csv", 17),
            ("unvotes.csv", 18),
            ("unvotes.csv", 19),
            ("unvotes.csv", 20),
        ]
    );
    for (i, needle) in [
        "roll call 9999",
        "vote `maybe`",
        "roll call 4000",
        "`ZZ`",
        "`Narnia`",
        "first is on line 15",
    ]
    .iter()
    .enumerate()
    {
        assert!(refused[i].2.contains(needle), "{:?}", refused[i]);
    }

    let log = Log::open(&log).unwrap();
    let events: Vec<_> = log.history().events().collect();
    assert_eq!(events.len(), 27);

    // Actors first, by id: ISO alpha-3 ids, ISO 3166-3 ids for historical states.
    let actors: Vec<(String, String, String)> = events[..7]
        .iter()
        .map(|e| match &e.body {
            EventBody::ActorRegistered(a) => {
                assert_eq!(a.kind.as_str(), "state");
                assert_eq!(a.sector.as_str(), "GOV");
                assert_eq!(e.id, event_id(&format!("unvotes/actor/{}", a.actor)));
                (
                    a.actor.to_string(),
                    a.country.to_string(),
                    a.name.to_string(),
                )
            }
            other => panic!("expected an actor, got {other:?}"),
        })
        .collect();
    let expect = [
        ("CAN", "CAN", "Canada"),
        ("CSHH", "CSK", "Czechoslovakia"),
        ("DDDE", "DDR", "German Democratic Republic"),
        ("RUS", "RUS", "Russia"),
        ("USA", "USA", "United States"),
        ("YUCS", "YUG", "Yugoslavia"),
        ("x-yemen-arab-republic", "YEM", "Yemen Arab Republic"),
    ];
    let expect: Vec<(String, String, String)> = expect
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(actors, expect);
    // The ISO name is kept as an alias where it differs, so `--actor` finds it.
    match &events[4].body {
        EventBody::ActorRegistered(a) => {
            assert_eq!(a.aliases, vec!["United States of America".to_string()])
        }
        _ => unreachable!(),
    }

    // Then topics, by date: title = short, else the resolution, else "Roll call N".
    let topics: Vec<TopicRow> = events[7..12]
        .iter()
        .map(|e| match &e.body {
            EventBody::TopicRegistered(t) => {
                assert_eq!(t.kind, TopicKind::Vote);
                (
                    t.topic.to_string(),
                    t.title.clone(),
                    t.resolution.clone(),
                    t.session,
                    t.issues.clone(),
                    t.important,
                )
            }
            other => panic!("expected a topic, got {other:?}"),
        })
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        topics,
        vec![
            (
                s("unvotes-rcid-3"),
                s("AMENDMENTS, RULES OF PROCEDURE"),
                Some(s("R/1/66")),
                Some(1),
                vec![],
                Some(false)
            ),
            (
                s("unvotes-rcid-100"),
                s("DISARMAMENT, NUCLEAR"),
                Some(s("R/3/191")),
                Some(3),
                vec![s("di"), s("nu")],
                Some(false)
            ),
            (
                s("unvotes-rcid-2100"),
                s("A/RES/44/117"),
                Some(s("A/RES/44/117")),
                Some(44),
                vec![s("nu")],
                Some(true)
            ),
            (
                s("unvotes-rcid-2200"),
                s("Roll call 2200"),
                None,
                Some(46),
                vec![],
                Some(true)
            ),
            (
                s("unvotes-rcid-2300"),
                s("NUCLEAR TESTS"),
                Some(s("A/RES/47/52")),
                Some(47),
                vec![s("nu")],
                Some(false)
            ),
        ]
    );

    // Then votes by (date, rcid, actor id), dated the roll call's date, cited to Voeten.
    let votes: Vec<(String, String, String, String)> = events[12..]
        .iter()
        .map(|e| match &e.body {
            EventBody::StanceDeclared(v) => {
                let rcid = v.topic.as_str().trim_start_matches("unvotes-rcid-");
                assert_eq!(e.id, event_id(&format!("unvotes/vote/{rcid}/{}", v.actor)));
                assert_eq!(v.cite.publication, PUBLICATION);
                (
                    v.date.to_string(),
                    rcid.to_string(),
                    v.actor.to_string(),
                    v.stance.to_string(),
                )
            }
            other => panic!("expected a vote, got {other:?}"),
        })
        .collect();
    let v = |d: &str, r: &str, a: &str, st: &str| (s(d), s(r), s(a), s(st));
    assert_eq!(
        votes,
        vec![
            v("1946-01-01", "3", "CAN", "no"),
            v("1946-01-01", "3", "USA", "yes"),
            v("1946-01-01", "3", "YUCS", "abstain"),
            v("1948-11-07", "100", "CAN", "yes"),
            v("1948-11-07", "100", "USA", "no"),
            v("1948-11-07", "100", "YUCS", "yes"),
            v("1948-11-07", "100", "x-yemen-arab-republic", "abstain"),
            v("1989-12-15", "2100", "CAN", "abstain"),
            v("1989-12-15", "2100", "DDDE", "yes"),
            v("1989-12-15", "2100", "USA", "no"),
            v("1989-12-15", "2100", "x-yemen-arab-republic", "yes"),
            v("1991-12-06", "2200", "CSHH", "yes"),
            v("1991-12-06", "2200", "USA", "yes"),
            v("1992-12-09", "2300", "RUS", "yes"),
            v("1992-12-09", "2300", "USA", "yes"),
        ]
    );
    // Cite title: the resolution, else the short title, else none.
    let cite_title = |i: usize| match &events[i].body {
        EventBody::StanceDeclared(v) => v.cite.title.clone(),
        _ => unreachable!(),
    };
    assert_eq!(cite_title(12), Some(s("R/1/66")));
    assert_eq!(cite_title(23), None);
}
}

on_both_backends! {
#[test]
fn mini_import_writes_one_batch_per_section() {
    let (_dir, log) = empty_log();
    import(&log, &mini());
    let text = std::fs::read_to_string(&log).unwrap();
    let batch_last: Vec<u64> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["batch_last"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let mut expect = vec![7u64; 7];
    expect.extend([12u64; 5]);
    expect.extend([27u64; 15]);
    assert_eq!(batch_last, expect);
}
}

on_both_backends! {
#[test]
fn positions_by_issue_and_date_come_from_the_votes() {
    let (_dir, log) = empty_log();
    import(&log, &mini());
    let o = run_log(
        &log,
        &[
            "positions",
            "--as-of",
            "1991-12-31",
            "--issue",
            "nu",
            "--actor",
            "USA",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let rows: Vec<(String, String)> = json(&o)
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["topic"].as_str().unwrap().to_string(),
                p["stance"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Roll calls 100 and 2100 are tagged nu and before the date; 2300 is after it. They are
    // listed by title: 2100's (A/RES/44/117, as it has no short name) before 100's
    // (DISARMAMENT, NUCLEAR).
    assert_eq!(
        rows,
        vec![
            ("unvotes-rcid-2100".to_string(), "no".to_string()),
            ("unvotes-rcid-100".to_string(), "no".to_string()),
        ]
    );
    // A historical state by its ISO 3166-3 id, and by its name.
    for actor in ["YUCS", "Yugoslavia"] {
        let o = run_log(
            &log,
            &["positions", "--actor", actor, "--format", "json"],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
        assert_eq!(json(&o).as_array().unwrap().len(), 2);
    }
}
}

on_both_backends! {
#[test]
fn importing_again_appends_nothing() {
    let (_dir, log) = empty_log();
    let first = import(&log, &mini());
    let before = std::fs::read(&log).unwrap();
    let again = import(&log, &mini());
    assert_eq!(again["appended"], 0);
    assert_eq!(again["already_present"], 27);
    assert_eq!(again["refused"], first["refused"]);
    assert_eq!(std::fs::read(&log).unwrap(), before, "the log is unchanged");
}
}

/// Roll calls or votes without rows are refused (exit 2, the file named), as every importer
/// refuses a file without rows: header-only files were imported as nothing, exit 0. An empty
/// votes file says so (it said "no column `rcid` (the header has: )").
#[test]
fn roll_calls_or_votes_without_rows_are_refused() {
    let (dir, log) = empty_log();
    let before = std::fs::read(&log).unwrap();
    let un = dir.path().join("un");
    std::fs::create_dir(&un).unwrap();
    let write = |name: &str, text: &str| std::fs::write(un.join(name), text).unwrap();
    write(
        "roll_calls.csv",
        "rcid,session,importantvote,date,unres,amend,para,short,descr\n",
    );
    write("unvotes.csv", "rcid,country,country_code,vote\n");
    write("issues.csv", "rcid,short_name,issue\n");
    // The import is refused (exit 2) with exactly this error: `FILE` and the rest.
    let refused = |file: &str, rest: &str| {
        let o = run_log(&log, &["import", "unvotes", un.to_str().unwrap()], None);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let at = un.join(file).display().to_string();
        assert_eq!(stderr(&o), format!("stancelog: error: {at}{rest}\n"));
    };
    refused(
        "roll_calls.csv",
        ":1: no rows: the file holds only a header",
    );
    write(
        "roll_calls.csv",
        "rcid,session,importantvote,date,unres,amend,para,short,descr\n1,1,0,2020-01-01,R/1/1,0,0,X,Y\n",
    );
    refused("unvotes.csv", ":1: no rows: the file holds only a header");
    write("unvotes.csv", "");
    refused("unvotes.csv", ": the file is empty: no header and no rows");
    assert_eq!(std::fs::read(&log).unwrap(), before);
}

/// A file given where the folder is expected is named as a file (it was reported as
/// `FILE/unvotes.csv: no such file`), exit 2, nothing appended.
#[test]
fn a_file_given_for_the_folder_is_named() {
    let (_dir, log) = empty_log();
    let before = std::fs::read(&log).unwrap();
    let file = mini().join("unvotes.csv");
    let o = run_log(&log, &["import", "unvotes", file.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: error: {}: is a file; give the folder holding unvotes.csv, roll_calls.csv and issues.csv\n",
            file.display()
        )
    );
    assert_eq!(std::fs::read(&log).unwrap(), before);
}

on_both_backends! {
#[test]
fn an_actor_registered_by_hand_is_used_not_registered_again() {
    let (_dir, log) = empty_log();
    let usa = r#"{"type":"actor.registered","actor":"USA","name":"United States of America","kind":"state","country":"USA","sector":"GOV"}"#;
    let o = run_log(&log, &["append"], Some(usa.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let report = import(&log, &mini());
    assert_eq!(report["appended"], 26);
    let log = Log::open(&log).unwrap();
    let h = log.history();
    assert_eq!(h.actors().len(), 7);
    let usa_votes = h
        .events()
        .filter(|e| matches!(&e.body, EventBody::StanceDeclared(s) if s.actor.as_str() == "USA"))
        .count();
    assert_eq!(usa_votes, 5);
}
}

on_both_backends! {
/// Votes whose ids are already in the log: the same content counts as already present, other
/// content is refused with the row's line; every other row is imported as usual.
#[test]
fn a_vote_already_in_the_log_is_counted_or_refused_by_its_content() {
    let (_dir, log) = empty_log();
    let same = format!(
        r#"{{"id":"{}","type":"stance.declared","actor":"CAN","topic":"unvotes-rcid-3","stance":"no","date":"1946-01-01","cite":{{"publication":"{PUBLICATION}","title":"R/1/66"}}}}"#,
        event_id("unvotes/vote/3/CAN")
    );
    let other = format!(
        r#"{{"id":"{}","type":"stance.declared","actor":"USA","topic":"unvotes-rcid-3","stance":"no","date":"1946-01-01","cite":{{"publication":"by hand"}}}}"#,
        event_id("unvotes/vote/3/USA")
    );
    let by_hand = [
        r#"{"type":"actor.registered","actor":"USA","name":"United States","kind":"state","country":"USA","sector":"GOV"}"#,
        r#"{"type":"actor.registered","actor":"CAN","name":"Canada","kind":"state","country":"CAN","sector":"GOV"}"#,
        r#"{"type":"topic.registered","topic":"unvotes-rcid-3","title":"Rules","kind":"vote"}"#,
        &same,
        &other,
    ]
    .join("\n");
    let o = run_log(&log, &["append"], Some(by_hand.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let report = import(&log, &mini());
    // 27 less two actors, one topic and two votes already there.
    assert_eq!(report["appended"], 22, "{report}");
    assert_eq!(report["already_present"], 1);
    let refused = refused(&report);
    let vote_row = refused
        .iter()
        .find(|(f, l, _)| f == "unvotes.csv" && *l == 2)
        .expect("line 2 (USA in roll call 3) refused");
    assert!(
        vote_row
            .2
            .contains("this vote was imported before (seq 5) with other content"),
        "{vote_row:?}"
    );
    assert_eq!(refused.len(), 7);
    let log = Log::open(&log).unwrap();
    assert_eq!(log.history().seq_last(), 5 + 22);
}
}

#[derive(Default)]
struct Counting {
    calls: RefCell<Vec<String>>,
    advanced: RefCell<u64>,
}

impl Progress for Counting {
    fn start(&self, stage: &str, total: Option<u64>) {
        self.calls
            .borrow_mut()
            .push(format!("start {stage} {total:?}"));
    }
    fn advance(&self, n: u64) {
        *self.advanced.borrow_mut() += n;
    }
    fn finish(&self) {
        self.calls.borrow_mut().push("finish".to_string());
    }
}

on_both_backends! {
#[test]
fn the_library_reports_progress_in_events() {
    let (_dir, log) = empty_log();
    let progress = Counting::default();
    let opts = Options {
        now: jiff::Timestamp::now(),
        wait: Duration::from_secs(5),
    };
    let report = crate::backends::on_log(&log, |target| unvotes::import(
        target,
        &mini(),
        &opts,
        &progress,
    ))
    .unwrap();
    // The lock is released when the import returns: another writer gets it. Not necessarily at
    // once: a test running beside this one may be starting a child process, which holds copies
    // of this process's descriptors (this log's among them, lock and all) until it has exec'd.
    stancelog::store::Writer::open(&log, Duration::from_secs(5)).expect("the lock is free");
    assert_eq!(report.appended, 27);
    assert_eq!(report.refused.len(), 6);
    assert_eq!(
        *progress.calls.borrow(),
        vec!["start unvotes Some(27)".to_string(), "finish".to_string()]
    );
    assert_eq!(*progress.advanced.borrow(), 27);
    // Every event of the import carries the recorded time given (later batches 1 µs later).
    let log = Log::open(&log).unwrap();
    let first = log.history().event(1).unwrap().recorded_at;
    assert_eq!(
        first.as_microsecond(),
        opts.now.as_microsecond(),
        "recorded at `now`"
    );
}
}

on_both_backends! {
#[test]
fn the_special_cases_map_to_the_documented_ids() {
    let cases = [
        ("YU", "Yugoslavia", "YUCS", "YUG"),
        ("CS", "Czechoslovakia", "CSHH", "CSK"),
        ("DD", "German Democratic Republic", "DDDE", "DDR"),
        ("YD", "Yemen People's Republic", "YDYE", "YMD"),
        ("SU", "USSR", "SUHH", "SUN"),
        ("", "Yemen Arab Republic", "x-yemen-arab-republic", "YEM"),
        ("", "Zanzibar", "x-zanzibar", "TZA"),
        (
            "",
            "Federal Republic of Germany",
            "x-federal-republic-of-germany",
            "DEU",
        ),
        ("US", "United States", "USA", "USA"),
        ("NA", "Namibia", "NAM", "NAM"),
    ];
    for (code, name, id, country) in cases {
        let (got_id, got_country, _) = unvotes::actor_for(code, name).unwrap();
        assert_eq!(
            (got_id.as_str(), got_country.as_str()),
            (id, country),
            "{code} {name}"
        );
    }
    assert!(unvotes::actor_for("ZZ", "Atlantis").is_err());
    assert!(unvotes::actor_for("", "Narnia").is_err());
}
}

on_both_backends! {
#[test]
fn a_missing_folder_is_an_io_error_and_no_log_a_usage_error() {
    let (dir, log) = empty_log();
    let o = run_log(&log, &["import", "unvotes", "/nonexistent/unvotes"], None);
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(&o));
    assert!(stderr(&o).contains("unvotes.csv"), "{}", stderr(&o));
    let o = run_log(
        &dir.path().join("missing.jsonl"),
        &["import", "unvotes", mini().to_str().unwrap()],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(&o));
}
}

on_both_backends! {
/// Regression (brk30 1a): a roll call of session 0 was imported, and the log then refused its
/// own record (`field `session`: is 0`), so every later command failed. Given roll calls of
/// sessions 0 and 1 with a vote each, when imported, then the session-0 row is refused naming
/// the field, nothing of it is appended (its vote refused naming the refused roll call: it
/// was said to be "not in roll_calls.csv"), and the log verifies.
#[test]
fn a_roll_call_of_session_0_is_refused_and_nothing_of_it_appended() {
    let (dir, log) = empty_log();
    let un = dir.path().join("un");
    std::fs::create_dir(&un).unwrap();
    let write = |name: &str, text: &str| std::fs::write(un.join(name), text).unwrap();
    write(
        "roll_calls.csv",
        "rcid,session,importantvote,date,unres,amend,para,short,descr\n\
         1,0,0,2020-01-01,R/1/1,0,0,X,Y\n\
         2,1,0,2020-01-02,R/1/2,0,0,X,Y\n",
    );
    write(
        "unvotes.csv",
        "rcid,country,country_code,vote\n1,United States,US,yes\n2,United States,US,no\n",
    );
    write("issues.csv", "rcid,short_name,issue\n");
    let report = import(&log, &un);
    assert_eq!(
        refused(&report),
        vec![
            (
                "roll_calls.csv".to_string(),
                2,
                "session: is 0; UN General Assembly sessions count from 1".to_string()
            ),
            (
                "unvotes.csv".to_string(),
                2,
                "roll call 1 was refused (roll_calls.csv line 2)".to_string()
            ),
        ]
    );
    assert_eq!(report["appended"], 3, "the actor, roll call 2 and its vote");
    let read = Log::open(&log).unwrap();
    let topics: Vec<String> = read.history().topics().keys().map(|t| t.to_string()).collect();
    assert_eq!(topics, ["unvotes-rcid-2"]);
    let o = run_log(&log, &["verify"], None);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
}
}

on_both_backends! {
/// Regression (rt30, minor): a session `-1`, `99999999999` or `4294967296` was "not a
/// number". Given such roll calls, when imported, then each is refused saying what is wrong.
#[test]
fn a_session_negative_or_too_large_is_named_as_such() {
    let (dir, log) = empty_log();
    let un = dir.path().join("un");
    std::fs::create_dir(&un).unwrap();
    let write = |name: &str, text: &str| std::fs::write(un.join(name), text).unwrap();
    write(
        "roll_calls.csv",
        "rcid,session,importantvote,date,unres,amend,para,short,descr\n\
         1,-1,0,2020-01-01,R/1/1,0,0,X,Y\n\
         2,99999999999,0,2020-01-02,R/1/2,0,0,X,Y\n\
         3,4294967296,0,2020-01-02,R/1/3,0,0,X,Y\n\
         4,x,0,2020-01-02,R/1/4,0,0,X,Y\n\
         -5,1,0,2020-01-02,R/1/5,0,0,X,Y\n\
         6,1,0,2020-01-02,R/1/6,0,0,X,Y\n",
    );
    write("unvotes.csv", "rcid,country,country_code,vote\n6,United States,US,yes\n");
    write("issues.csv", "rcid,short_name,issue\n");
    let report = import(&log, &un);
    let calls = |line: u64, why: &str| ("roll_calls.csv".to_string(), line, why.to_string());
    assert_eq!(
        refused(&report),
        vec![
            calls(2, "session `-1` is negative"),
            calls(3, "session `99999999999` is too large (at most 4294967295)"),
            calls(4, "session `4294967296` is too large (at most 4294967295)"),
            calls(5, "session `x` is not a number"),
            calls(6, "rcid `-5` is negative"),
        ]
    );
    assert_eq!(report["appended"], 3, "the actor, roll call 6 and its vote");
}
}

/// The full UN data set (`STANCELOG_DATA/unvotes`): every vote imported, and positions that
/// match an independent reading of the CSV files. One test, so the import (about a minute in a
/// debug build) runs once.
#[cfg(feature = "real-data")]
mod real {
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    use std::path::PathBuf;
    use std::time::{Duration, Instant};

    use stancelog::core::{ActorId, At, Day, Filter};
    use stancelog::import::NoProgress;
    use stancelog::import::unvotes::{self, Options};
    use stancelog::store::Log;

    use crate::support::empty_log;

    fn data() -> PathBuf {
        let dir = std::env::var_os("STANCELOG_DATA")
            .map(PathBuf::from)
            .expect("STANCELOG_DATA must name the data folder with --features real-data");
        dir.join("unvotes")
    }

    fn rows(file: &str) -> Vec<csv::StringRecord> {
        let mut r = csv::Reader::from_path(data().join(file)).unwrap();
        r.records().map(|x| x.unwrap()).collect()
    }

    /// Votes of the state with this alpha-2 code on roll calls tagged `issue`, dated on or
    /// before `as_of` (ISO dates compare as text): rcid -> vote, straight from the CSV files.
    fn expected(
        code: &str,
        issue: &str,
        as_of: &str,
        dates: &HashMap<String, String>,
        tagged: &HashMap<String, BTreeSet<String>>,
        votes: &[csv::StringRecord],
    ) -> BTreeMap<String, String> {
        votes
            .iter()
            .filter(|v| &v[2] == code)
            .filter(|v| tagged.get(&v[0]).is_some_and(|t| t.contains(issue)))
            .filter(|v| dates[&v[0]].as_str() <= as_of)
            .map(|v| (format!("unvotes-rcid-{}", &v[0]), v[3].to_string()))
            .collect()
    }

    #[test]
    fn all_un_votes_import_and_positions_match_the_csv() {
        let calls = rows("roll_calls.csv");
        let votes = rows("unvotes.csv");
        let issues = rows("issues.csv");
        let dates: HashMap<String, String> = calls
            .iter()
            .map(|c| (c[0].to_string(), c[3].to_string()))
            .collect();
        let mut tagged: HashMap<String, BTreeSet<String>> = HashMap::new();
        for i in &issues {
            tagged
                .entry(i[0].to_string())
                .or_default()
                .insert(i[1].to_string());
        }
        // A state is its code, or its name when the code is empty.
        let states: BTreeSet<String> = votes
            .iter()
            .map(|v| {
                if v[2].is_empty() {
                    v[1].to_string()
                } else {
                    v[2].to_string()
                }
            })
            .collect();
        assert_eq!(
            (states.len(), calls.len(), votes.len()),
            (200, 6_203, 870_109)
        );

        let (_dir, log) = empty_log();
        let started = Instant::now();
        let report = crate::backends::on_log(&log, |target| {
            unvotes::import(
                target,
                &data(),
                &Options {
                    now: jiff::Timestamp::now(),
                    wait: Duration::from_secs(5),
                },
                &NoProgress,
            )
        })
        .unwrap();
        eprintln!("unvotes import: {:.1} s", started.elapsed().as_secs_f64());
        assert_eq!(report.refused, vec![]);
        assert_eq!(report.appended, (200 + 6_203 + 870_109) as u64);
        assert_eq!(report.already_present, 0);

        let started = Instant::now();
        let log = Log::open(&log).unwrap();
        eprintln!("unvotes log read: {:.1} s", started.elapsed().as_secs_f64());
        let h = log.history();
        assert_eq!(h.actors().len(), 200);
        assert_eq!(h.topics().len(), 6_203);

        let check = |actor: &str, code: &str, issue: &str, as_of: &str| {
            let filter = Filter {
                actors: [ActorId::new(actor).unwrap()].into_iter().collect(),
                issues: [issue.to_string()].into_iter().collect(),
                ..Filter::default()
            };
            let got: BTreeMap<String, String> = h
                .positions_at(At::day(Day::parse(as_of).unwrap()), &filter)
                .iter()
                .map(|p| (p.stance.topic.to_string(), p.stance.stance.to_string()))
                .collect();
            let want = expected(code, issue, as_of, &dates, &tagged, &votes);
            assert!(
                !want.is_empty(),
                "{actor} {issue} {as_of}: no votes in the CSV"
            );
            assert_eq!(got, want, "{actor} {issue} {as_of}");
            want.len()
        };
        let usa = check("USA", "US", "nu", "1991-12-31");
        eprintln!("USA: {usa} positions on nuclear weapons by 1991");
        check("RUS", "RU", "nu", "1991-12-31");
        check("YUCS", "YU", "me", "1980-12-31");
        check("DDDE", "DD", "hr", "1990-12-31");
        check("CHN", "CN", "co", "2019-12-31");
    }
}
