//! Imports on the projection index: an import checks its rows against the index and the
//! batches it appended before (never a fold of the whole log) and keeps the index as it goes,
//! so that after it the index agrees with the log whole (`verify`), is used as it is by the
//! next query (no catch-up, no rebuild), and answers as an index built from the log does.

use std::path::{Path, PathBuf};

use serde_json::Value;
use stancelog::core::EventBody;
use stancelog::import::event_id;
use stancelog::store::{Log, index_path};

use crate::support::{json, kill_at_ten_points, run_log_file, stderr, stdout};

/// `import csv` flags for the sheets below: actor, topic, stance, date and recorded time by
/// column; actors and topics registered when new.
const FLAGS: &[&str] = &[
    "--actor-col",
    "who",
    "--topic-col",
    "motion",
    "--stance-col",
    "position",
    "--date-col",
    "when",
    "--recorded-col",
    "recorded",
    "--dataset",
    "votes",
    "--register",
];

/// Imports `sheet` (written to a file beside the log) with [`FLAGS`] and `more`; returns the
/// JSON report, asserting exit status 0.
fn import(log: &Path, sheet: &str, more: &[&str]) -> Value {
    import_exiting(log, sheet, more, 0)
}

/// [`import`], asserting exit status `code` (2: rows were refused).
fn import_exiting(log: &Path, sheet: &str, more: &[&str], code: i32) -> Value {
    let file = log.with_extension("csv");
    std::fs::write(&file, sheet).unwrap();
    let mut args = vec!["import", "csv", file.to_str().unwrap()];
    args.extend_from_slice(FLAGS);
    args.extend_from_slice(more);
    args.extend_from_slice(&["--format", "json"]);
    let o = run_log_file(log, &args, None);
    assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
    json(&o)
}

/// Every query answer a test compares: positions, a timeline and a diff, as JSON.
fn answers(log: &Path) -> Vec<String> {
    let queries: [&[&str]; 4] = [
        &["positions", "--format", "json"],
        &["positions", "--as-of", "2024-01-15", "--format", "json"],
        &["timeline", "--actor", "USA", "--format", "json"],
        &["actors", "--format", "json"],
    ];
    queries
        .iter()
        .map(|q| {
            let o = run_log_file(log, q, None);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            assert_eq!(stderr(&o), "", "the index is used as it is");
            stdout(&o)
        })
        .collect()
}

/// The answers of an index built anew from the log, the index left as it was after.
fn answers_of_a_fresh_index(log: &Path, dir: &Path) -> Vec<String> {
    let copy = dir.join("fresh.jsonl");
    std::fs::copy(log, &copy).unwrap();
    let o = run_log_file(&copy, &["index"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    answers(&copy)
}

fn verify_agrees(log: &Path) {
    let o = run_log_file(log, &["verify"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("index: agrees with the log"),
        "{}",
        stdout(&o)
    );
}

/// A sheet row: actor, motion, stance, date, recorded time.
fn row(who: &str, motion: &str, position: &str, when: &str, recorded: &str) -> String {
    format!("{who},{motion},{position},{when},{recorded}\n")
}

const HEADER: &str = "who,motion,position,when,recorded\n";

fn new_log(dir: &Path) -> PathBuf {
    let log = dir.join("log.jsonl");
    let o = run_log_file(&log, &["init"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    log
}

/// Given a log with an index (built by a first import and a query), when a second import
/// appends rows in several batches (a new recorded time closes a batch), among them a row
/// whose key the first import holds with another stance, and one whose key an earlier batch of
/// the same run imported with another stance (both with `--corrections`), then the first
/// becomes a `stance.corrected` of the right stance and the second is refused (two rows of
/// one import must agree, brk30 4), the index agrees with the log (`verify`), the next queries
/// use it as it is, and they answer as an index built anew from the log.
#[test]
fn an_import_keeps_the_index_corrects_the_log_and_refuses_a_conflict_of_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    let log = new_log(dir.path());
    let first = HEADER.to_string()
        + &row("USA", "m1", "yes", "2024-01-01", "2024-02-01T00:00:00Z")
        + &row("KOR", "m1", "no", "2024-01-01", "2024-02-01T00:00:00Z");
    let r = import(&log, &first, &["--topic-kind", "vote"]);
    assert_eq!(r["appended"], 5, "{r}");
    answers(&log);
    let second = HEADER.to_string()
        + &row("USA", "m2", "yes", "2024-01-10", "2024-03-01T00:00:00Z")
        + &row("JPN", "m2", "no", "2024-01-10", "2024-03-01T00:00:00Z")
        + &row("KOR", "m1", "yes", "2024-01-01", "2024-03-02T00:00:00Z")
        + &row("USA", "m2", "no", "2024-01-10", "2024-03-03T00:00:00Z")
        + &row("JPN", "m3", "abstain", "2024-01-20", "2024-03-03T00:00:00Z");
    let flags = ["--topic-kind", "vote", "--corrections"];
    let r = import_exiting(&log, &second, &flags, 2);
    assert_eq!(r["corrected"], 1, "{r}");
    assert_eq!(r["appended"], 7, "{r}");
    assert_eq!(r["refused"][0]["line"], 5, "{r}");
    let h = Log::open(&log).unwrap();
    let h = h.history();
    assert_eq!(h.seq_last(), 12);
    let id = |text: &str| event_id(&format!("import/votes\u{1f}stance\u{1f}{text}"));
    let target_of = |seq| match h.event(seq).unwrap().body {
        EventBody::StanceCorrected(c) => (c.target, c.correction.stance.unwrap().to_string()),
        other => panic!("seq {seq}: {other:?}"),
    };
    // KOR's m1 of the first import (in the index); USA's m2 of this run stays `yes`.
    assert_eq!(
        target_of(10),
        (id("KOR\u{1f}m1\u{1f}2024-01-01"), "yes".to_string())
    );
    assert_eq!(h.event(11).unwrap().body.type_name(), "topic.registered");
    verify_agrees(&log);
    let with_import = answers(&log);
    assert!(with_import[0].contains("\"stance\": \"no\""));
    assert_eq!(with_import, answers_of_a_fresh_index(&log, dir.path()));
    // Rows imported again: nothing new, and the index still agrees.
    let again = HEADER.to_string()
        + &row("JPN", "m2", "no", "2024-01-10", "2024-03-05T00:00:00Z")
        + &row("JPN", "m3", "abstain", "2024-01-20", "2024-03-05T00:00:00Z");
    let r = import(&log, &again, &flags);
    let counts = (r["appended"].as_u64(), r["already_present"].as_u64());
    assert_eq!(counts, (Some(0), Some(2)), "{r}");
    verify_agrees(&log);
    assert_eq!(answers(&log), with_import);
}

/// Given `import csv` of a sheet of many batches killed (SIGKILL) at points spread over its
/// run, the next query answers as an index built anew from what the log holds, the one after
/// needs no rebuild, and `verify` then finds the index agreeing with the log.
#[test]
fn a_kill_during_an_import_leaves_the_next_query_right() {
    let dir = tempfile::tempdir().unwrap();
    let base = new_log(dir.path());
    let mut sheet = HEADER.to_string();
    for i in 0..6000 {
        let recorded = format!("2024-03-01T00:{:02}:00Z", i / 200);
        let day = 1 + i % 28;
        sheet += &row(
            ["USA", "KOR", "JPN", "CHN", "RUS"][i % 5],
            &format!("m{}", i / 5),
            ["yes", "no", "abstain"][i % 3],
            &format!("2024-01-{day:02}"),
            &recorded,
        );
    }
    let file = dir.path().join("big.csv");
    std::fs::write(&file, sheet).unwrap();
    let mut args = vec!["import", "csv", file.to_str().unwrap()];
    args.extend_from_slice(FLAGS);
    args.extend_from_slice(&["--topic-kind", "vote"]);
    let timed = kill_at_ten_points(dir.path(), &base, &args, |k, log| {
        query_after_a_crash(log, &format!("kill {k}"))
    });
    // A kill rarely lands inside a batch's write, so one such crash is made by hand: the log
    // as the import left it, cut off inside a record halfway through what it appended, beside
    // the index of the log before the import.
    let torn = dir.path().join("torn.jsonl");
    std::fs::copy(&base, &torn).unwrap();
    assert_eq!(run_log_file(&torn, &["index"], None).status.code(), Some(0));
    let (before, after) = (
        std::fs::read(&base).unwrap(),
        std::fs::read(&timed).unwrap(),
    );
    let mut cut = before.len() + (after.len() - before.len()) / 2;
    while after[cut - 1] == b'\n' {
        cut -= 1;
    }
    std::fs::write(&torn, &after[..cut]).unwrap();
    let o = run_log_file(&torn, &["verify"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("torn tail"), "{}", stderr(&o));
    query_after_a_crash(&torn, "cut by hand");
}

/// Checks a log left by a crash of an import: a query answers (building or catching up the
/// index), the next one answers the same without discarding the index, the index agrees with
/// the log (as queries read it, leaving out a torn tail, which `verify` refuses with exit 2),
/// and an index built anew answers the same.
fn query_after_a_crash(log: &Path, case: &str) {
    let query = ["positions", "--format", "json"];
    let o = run_log_file(log, &query, None);
    assert_eq!(o.status.code(), Some(0), "{case}: {}", stderr(&o));
    let after_crash = stdout(&o);
    let o = run_log_file(log, &query, None);
    assert!(!stderr(&o).contains("discarded"), "{case}: {}", stderr(&o));
    assert_eq!(stdout(&o), after_crash, "{case}");
    let o = run_log_file(log, &["verify"], None);
    if o.status.code() == Some(2) && stderr(&o).contains("torn tail") {
        // The kill cut a batch's write short (a write to a file stops at a fatal signal
        // between pages): verify refuses the crash's torn tail (exit 2, bad input), which
        // queries leave out, so the index is compared with the log as they read it.
        let read = Log::open(log).unwrap();
        let found = stancelog::store::check_index(log, &read).unwrap();
        assert!(
            matches!(found, stancelog::store::IndexCheck::Agrees { .. }),
            "{case}: {found:?}"
        );
    } else {
        assert!(
            stdout(&o).contains("index: agrees"),
            "{case}: {} {}",
            stdout(&o),
            stderr(&o)
        );
    }
    std::fs::remove_dir_all(index_path(log)).unwrap();
    assert_eq!(
        stdout(&run_log_file(log, &query, None)),
        after_crash,
        "{case}"
    );
}

/// The byte length of `log` at the end of each batch (a line whose seq is its `batch_last`).
fn batch_ends(log: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut at = 0;
    for line in log.split_inclusive(|b| *b == b'\n') {
        at += line.len();
        let v: Value = serde_json::from_slice(line).unwrap();
        if v["seq"] == v["batch_last"] {
            ends.push(at);
        }
    }
    ends
}

/// Imports `file` into `log` with [`FLAGS`] (topics of kind `vote`), its files limited to `blocks` of 512 bytes
/// (`ulimit -f`; a write past it fails with EFBIG, its signal ignored).
fn import_limited(log: &Path, file: &Path, blocks: usize) -> std::process::Output {
    let mut c = std::process::Command::new("sh");
    c.arg("-c")
        .arg("trap '' XFSZ; ulimit -f \"$0\"; exec \"$@\"")
        .arg(blocks.to_string())
        .arg(env!("CARGO_BIN_EXE_stancelog"))
        .args(["--log", log.to_str().unwrap(), "import", "csv"])
        .arg(file)
        .args(FLAGS)
        .args(["--topic-kind", "vote"]);
    c.output().unwrap()
}

/// An import's writer writes and syncs each batch on a thread of its own while the next is
/// made. Given a sheet of three batches (three recorded times) imported whole into one log,
/// when the same sheet is imported into a new log whose file may not grow past the end of
/// its first batch (the second batch's write fails while the third is staged: found at the
/// next append), or past the end of its second (the last batch's write fails: found when the
/// import finishes), then the import exits 1 with the write's error, the log holds exactly
/// the batches before, byte for byte, and a second import of the sheet appends the rest: the
/// log is then byte for byte the log imported whole, its index agrees with it, and queries
/// answer as an index built anew.
#[test]
fn a_batch_whose_write_fails_behind_the_import_stops_it_with_the_batches_before_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut sheet = HEADER.to_string();
    for (b, recorded) in ["2024-02-01", "2024-03-01", "2024-04-01"]
        .iter()
        .enumerate()
    {
        for m in 0..300 {
            for who in ["USA", "KOR", "JPN"] {
                let position = ["yes", "no", "abstain"][(m + b) % 3];
                sheet += &row(
                    who,
                    &format!("m{b}-{m}"),
                    position,
                    "2024-01-15",
                    &format!("{recorded}T00:00:00Z"),
                );
            }
        }
    }
    let whole_log = new_log(&folder(dir.path().join("whole")));
    let r = import(&whole_log, &sheet, &["--topic-kind", "vote"]);
    // 2,700 stances, 900 topics and 3 actors registered.
    assert_eq!(r["appended"], 3_603, "{r}");
    let whole = std::fs::read(&whole_log).unwrap();
    let ends = batch_ends(&whole);
    assert_eq!(ends.len(), 3);
    let file = dir.path().join("sheet.csv");
    std::fs::write(&file, &sheet).unwrap();
    for kept in 1..=2 {
        let sub = folder(dir.path().join(format!("kept{kept}")));
        let log = new_log(&sub);
        let o = import_limited(&log, &file, ends[kept - 1].div_ceil(512));
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            stderr(&o).starts_with(&format!(
                "stancelog: error: {}: File too large (os error 27); nothing of the batch was kept",
                log.display()
            )),
            "{}",
            stderr(&o)
        );
        assert_eq!(std::fs::read(&log).unwrap(), whole[..ends[kept - 1]]);
        let r = import(&log, &sheet, &["--topic-kind", "vote"]);
        let before = [0, 1_203, 2_403][kept];
        assert_eq!(r["appended"], 3_603 - before, "{r}");
        assert_eq!(std::fs::read(&log).unwrap(), whole);
        verify_agrees(&log);
        assert_eq!(answers(&log), answers_of_a_fresh_index(&log, &sub));
    }
}

/// The folder `path`, made.
fn folder(path: PathBuf) -> PathBuf {
    std::fs::create_dir_all(&path).unwrap();
    path
}
