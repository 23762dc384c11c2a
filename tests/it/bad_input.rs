//! Given a small log, when bad input or a bad log comes in, then stancelog refuses it with exit
//! code 2 (3 for an expected-seq conflict), says where (input, 1-based line, field), and leaves
//! the log's bytes as they were.
//!
//! On both backends (`on_both_backends!`: each test's `run_log` runs on a file log and on a
//! PostgreSQL log that the file mirrors), except the tests of a log file's own bytes (lines
//! edited by hand, torn tails, line endings, a byte order mark), which are file logs' matter.

use std::path::{Path, PathBuf};
use std::process::Output;

use stancelog::store::Log;

use crate::backends::on_both_backends;
use crate::support::{empty_log, json, run_log, stderr, stdout};

/// Lines 1-3 of the base log: an actor, a policy topic, a claim topic.
const BASE: &str = r#"{"type":"actor.registered","actor":"a1","name":"Actor One","kind":"person","country":"KOR","sector":"GOV"}
{"type":"topic.registered","topic":"pol","title":"A policy","kind":"policy"}
{"type":"topic.registered","topic":"clm","title":"A claim","kind":"claim"}
"#;

/// A valid stance of `a1` on the policy topic.
const STANCE: &str = r#"{"type":"stance.declared","actor":"a1","topic":"pol","stance":"support","date":"2024-10-01","cite":{"publication":"P"}}"#;

/// A temporary log holding the base batch (seq 1-3).
struct Fixture {
    dir: tempfile::TempDir,
    log: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let (dir, log) = empty_log();
        let o = run_log(&log, &["append", "-"], Some(BASE.as_bytes()));
        assert_eq!(o.status.code(), Some(0), "base append: {}", stderr(&o));
        Fixture { dir, log }
    }

    fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.log).expect("read log")
    }

    /// Writes `text` to a batch file in the fixture's directory and returns its path.
    fn batch_file(&self, name: &str, text: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write batch");
        p
    }

    fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        run_log(&self.log, args, stdin)
    }

    /// Appends `text` from a file; expects exit 2, the file path, `line` and `field` (when
    /// given) in the message, and the log unchanged. Returns standard error.
    fn refused(&self, text: &str, line: Option<u64>, field: Option<&str>) -> String {
        let before = self.bytes();
        let file = self.batch_file("batch.jsonl", text.as_bytes());
        let path = file.to_str().unwrap();
        let o = self.run(&["append", path], None);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "input {text:?}: {err}");
        match line {
            Some(n) => assert!(
                err.contains(&format!("{path}:{n}:")),
                "want {path}:{n}: in {err}"
            ),
            None => assert!(err.contains(path), "want {path} in {err}"),
        }
        if let Some(f) = field {
            assert!(
                err.contains(&format!("field `{f}`")),
                "want field `{f}` in {err}"
            );
        }
        assert!(o.stdout.is_empty(), "printed {}", stdout(&o));
        assert_eq!(
            self.bytes(),
            before,
            "log changed by refused input {text:?}"
        );
        err
    }
}

/// A stance of `a1` on `pol` with the given `stance`, `date` and other fields.
fn stance_with(field_json: &str) -> String {
    // A stance of `a1` on `pol` whose other fields are `field_json`.
    format!(
        r#"{{"type":"stance.declared","actor":"a1","topic":"pol",{field_json},"cite":{{"publication":"P"}}}}"#
    )
}

on_both_backends! {
#[test]
fn the_base_batch_is_accepted() {
    let f = Fixture::new();
    let o = f.run(&["topics", "--format", "json"], None);
    let v = json(&o);
    let kinds: Vec<(&str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["topic"].as_str().unwrap(), t["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, vec![("clm", "claim"), ("pol", "policy")]);
    // And a valid stance is accepted (the control for the refusals below).
    let o = f.run(&["append", "-"], Some(STANCE.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("seq 4"), "{}", stdout(&o));
}
}

on_both_backends! {
#[test]
fn malformed_json_on_line_3_appends_nothing_from_the_batch() {
    let f = Fixture::new();
    let text = format!("{STANCE}\n{STANCE}\n{{\"type\":\"stance.declared\", oops}}\n");
    let err = f.refused(&text, Some(3), None);
    assert!(err.contains("malformed JSON"), "{err}");
    // Lines 1-2 were valid, yet none of them is in the log.
    let o = f.run(&["timeline", "--format", "json"], None);
    assert_eq!(json(&o), serde_json::json!([]));
}
}

on_both_backends! {
#[test]
fn a_line_cut_short_is_named_though_the_json_error_shows_on_a_later_line() {
    // Given a batch whose line 2 was cut short in three ways (the next line then runs on into
    // it, so the JSON error shows on line 3 or 4),
    let f = Fixture::new();
    for (cut, found) in [
        (r#"{"type":"stance.declared","actor":"#, 4),
        (r#"{"type":"stance.declared","actor":"a1","#, 3),
        (r#"{"type":"stance.declared","actor":"a1"#, 3),
    ] {
        let text = format!("{STANCE}\n{cut}\n{STANCE}\n{STANCE}\n");
        // when appended, then the refusal names line 2, and where the error showed.
        let err = f.refused(&text, Some(2), None);
        assert!(err.contains("malformed JSON: "), "{err}");
        assert!(
            err.contains(
                ": the event that starts on this line runs on there (is this line cut short?)"
            ),
            "{err}"
        );
        assert!(err.contains(&format!(", found at line {found}:")), "{err}");
    }
}
}

on_both_backends! {
#[test]
fn a_refusal_late_in_a_batch_rolls_back_the_events_before_it() {
    // Given a batch whose line 1 registers an actor and line 2 names an unknown one,
    let f = Fixture::new();
    let text = concat!(
        r#"{"type":"actor.registered","actor":"a2","name":"Actor Two","kind":"state","country":"PRK","sector":"GOV"}"#,
        "\n",
        r#"{"type":"stance.declared","actor":"a2","topic":"pol","stance":"oppose","date":"2024-10","cite":{"publication":"P"}}"#,
        "\n",
        r#"{"type":"stance.declared","actor":"ghost","topic":"pol","stance":"oppose","date":"2024-10","cite":{"publication":"P"}}"#,
        "\n",
    );
    // then line 3 is named and the log is unchanged, so a2 is not registered.
    f.refused(text, Some(3), Some("actor"));
    let o = f.run(&["actors", "--format", "json"], None);
    assert_eq!(json(&o).as_array().unwrap().len(), 1);
}
}

on_both_backends! {
#[test]
fn an_unknown_type_is_refused() {
    let f = Fixture::new();
    let err = f.refused(
        &format!("{STANCE}\n{{\"type\":\"stance.updated\",\"actor\":\"a1\"}}\n"),
        Some(2),
        Some("type"),
    );
    assert!(err.contains("stance.updated"), "{err}");
}
}

on_both_backends! {
#[test]
fn a_missing_field_is_refused() {
    let f = Fixture::new();
    // No `date`.
    let err = f.refused(&stance_with(r#""stance":"support""#), Some(1), Some("date"));
    assert!(err.contains("missing"), "{err}");
    // No `cite`.
    f.refused(
        r#"{"type":"stance.declared","actor":"a1","topic":"pol","stance":"support","date":"2024-10"}"#,
        Some(1),
        Some("cite"),
    );
    // No `type`.
    f.refused(r#"{"actor":"a1"}"#, Some(1), Some("type"));
    // An actor without `name`.
    f.refused(
        r#"{"type":"actor.registered","actor":"a2","kind":"person","country":"KOR","sector":"GOV"}"#,
        Some(1),
        Some("name"),
    );
}
}

on_both_backends! {
#[test]
fn a_mistyped_field_is_refused() {
    let f = Fixture::new();
    f.refused(
        &stance_with(r#""stance":5,"date":"2024-10-01""#),
        Some(1),
        Some("stance"),
    );
    f.refused(
        r#"{"type":"actor.registered","actor":"a2","name":"A","kind":"person","country":"KOR","sector":"GOV","aliases":"x"}"#,
        Some(1),
        Some("aliases"),
    );
    f.refused(
        &stance_with(r#""stance":"support","date":20241001"#),
        Some(1),
        Some("date"),
    );
}
}

on_both_backends! {
#[test]
fn an_unknown_field_is_refused() {
    let f = Fixture::new();
    let err = f.refused(
        &stance_with(r#""stance":"support","date":"2024-10-01","mood":"firm""#),
        Some(1),
        Some("mood"),
    );
    assert!(err.contains("unknown field"), "{err}");
    // Nested in `cite` as well.
    f.refused(
        r#"{"type":"stance.declared","actor":"a1","topic":"pol","stance":"support","date":"2024-10","cite":{"publication":"P","mood":1}}"#,
        Some(1),
        Some("cite.mood"),
    );
    // A field of another event type (`reason` belongs to stance.retracted).
    f.refused(
        &stance_with(r#""stance":"support","date":"2024-10-01","reason":"r""#),
        Some(1),
        Some("reason"),
    );
}
}

on_both_backends! {
#[test]
fn an_unknown_actor_or_topic_is_refused() {
    let f = Fixture::new();
    let err = f.refused(
        r#"{"type":"stance.declared","actor":"ghost","topic":"pol","stance":"support","date":"2024-10","cite":{"publication":"P"}}"#,
        Some(1),
        Some("actor"),
    );
    assert!(err.contains("unknown actor `ghost`"), "{err}");
    let err = f.refused(
        r#"{"type":"stance.declared","actor":"a1","topic":"nope","stance":"support","date":"2024-10","cite":{"publication":"P"}}"#,
        Some(1),
        Some("topic"),
    );
    assert!(err.contains("unknown topic `nope`"), "{err}");
    // An unknown recipient names `recipient`.
    f.refused(
        &stance_with(r#""stance":"support","date":"2024-10","recipient":"ghost""#),
        Some(1),
        Some("recipient"),
    );
    // Registering an actor twice names `actor`.
    f.refused(
        r#"{"type":"actor.registered","actor":"a1","name":"Again","kind":"person","country":"KOR","sector":"GOV"}"#,
        Some(1),
        Some("actor"),
    );
}
}

on_both_backends! {
#[test]
fn an_impossible_date_is_refused() {
    let f = Fixture::new();
    let err = f.refused(
        &stance_with(r#""stance":"support","date":"2024-02-30""#),
        Some(1),
        Some("date"),
    );
    assert!(err.contains("2024-02-30"), "{err}");
    f.refused(
        &stance_with(r#""stance":"support","date":"2023-13""#),
        Some(1),
        Some("date"),
    );
    f.refused(
        &stance_with(r#""stance":"support","date":"2024/10/01""#),
        Some(1),
        Some("date"),
    );
}
}

on_both_backends! {
#[test]
fn a_stance_outside_the_vocabulary_or_unfit_for_the_topic_is_refused() {
    let f = Fixture::new();
    let err = f.refused(
        &stance_with(r#""stance":"maybe","date":"2024-10-01""#),
        Some(1),
        Some("stance"),
    );
    assert!(err.contains("maybe"), "{err}");
    // `affirm` is a claim stance; `pol` is a policy topic.
    let err = f.refused(
        &stance_with(r#""stance":"affirm","date":"2024-10-01""#),
        Some(1),
        Some("stance"),
    );
    assert!(err.contains("does not fit"), "{err}");
    // And `support` does not fit the claim topic.
    f.refused(
        r#"{"type":"stance.declared","actor":"a1","topic":"clm","stance":"support","date":"2024-10","cite":{"publication":"P"}}"#,
        Some(1),
        Some("stance"),
    );
}
}

on_both_backends! {
#[test]
fn fields_the_log_assigns_in_the_input_are_refused() {
    let f = Fixture::new();
    let err = f.refused(
        r#"{"seq":4,"type":"stance.declared","actor":"a1","topic":"pol","stance":"support","date":"2024-10-01","cite":{"publication":"P"}}"#,
        Some(1),
        Some("seq"),
    );
    assert!(err.contains("assigned by the log"), "{err}");
    f.refused(
        r#"{"recorded_at":"2024-10-25T09:30:00.000000Z","type":"stance.declared","actor":"a1","topic":"pol","stance":"support","date":"2024-10-01","cite":{"publication":"P"}}"#,
        Some(1),
        Some("recorded_at"),
    );
    // The chain's fields too (they were replaced in silence).
    f.refused(
        r#"{"hash":"00","type":"stance.declared","actor":"a1","topic":"pol","stance":"support","date":"2024-10-01","cite":{"publication":"P"}}"#,
        Some(1),
        Some("hash"),
    );
    f.refused(
        r#"{"batch_last":9,"type":"stance.declared","actor":"a1","topic":"pol","stance":"support","date":"2024-10-01","cite":{"publication":"P"}}"#,
        Some(1),
        Some("batch_last"),
    );
}
}

on_both_backends! {
#[test]
fn an_empty_or_blank_input_is_refused() {
    let f = Fixture::new();
    for text in ["", "   \n\t\n\n", "\n"] {
        let err = f.refused(text, None, None);
        assert!(err.contains("no events"), "{text:?}: {err}");
    }
    // From standard input too.
    let before = f.bytes();
    let o = f.run(&["append"], Some(b""));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("-: no events"), "{}", stderr(&o));
    assert_eq!(f.bytes(), before);
}
}

on_both_backends! {
#[test]
fn a_json_value_that_is_not_an_object_is_refused() {
    let f = Fixture::new();
    for bad in ["[1, 2]", "42", "\"stance\"", "null"] {
        let err = f.refused(&format!("{STANCE}\n{bad}\n"), Some(2), None);
        assert!(err.contains("expected a JSON object"), "{bad}: {err}");
    }
}
}

on_both_backends! {
#[test]
fn standard_input_is_named_dash() {
    let f = Fixture::new();
    let before = f.bytes();
    let text = format!(
        "{STANCE}\n{}\n",
        stance_with(r#""stance":"maybe","date":"2024-10""#)
    );
    for args in [&["append"][..], &["append", "-"][..]] {
        let o = f.run(args, Some(text.as_bytes()));
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(err.contains("-:2: field `stance`"), "{err}");
    }
    assert_eq!(f.bytes(), before);
}
}

on_both_backends! {
#[test]
fn a_multi_line_object_is_located_by_the_line_it_starts_on() {
    // Given a pretty-printed valid event on lines 1-6 and a bad one on line 7,
    let f = Fixture::new();
    let text = "{\n  \"type\": \"topic.registered\",\n  \"topic\": \"t2\",\n  \"title\": \"x\",\n  \"kind\": \"claim\"\n}\n{\"type\": \"nope\"}\n";
    f.refused(text, Some(7), Some("type"));
}
}

on_both_backends! {
#[test]
fn query_flags_with_unknown_ids_or_bad_dates_exit_2() {
    let f = Fixture::new();
    for args in [
        &["positions", "--actor", "nobody"][..],
        &["positions", "--topic", "nothing"][..],
        &["timeline", "--actor", "nobody"][..],
        &["positions", "--as-of", "2024-02-30"][..],
        &["positions", "--as-of", "2024-10"][..],
        &["positions", "--as-of", "yesterday"][..],
        &["diff", "--from", "2024-13-01", "--to", "2024-10-25"][..],
        &["diff", "--from", "2024-10-01"][..],
    ] {
        let o = f.run(args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty(), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    // The messages name the flag and the value, and where to look up what is known.
    for (args, message) in [
        (
            &["positions", "--actor", "nobody"][..],
            "--actor: no actor has the id, name or alias `nobody` (see `stancelog actors`)",
        ),
        (
            &["timeline", "--actor", "nobody"][..],
            "--actor: no actor has the id, name or alias `nobody` (see `stancelog actors`)",
        ),
        (
            &["positions", "--topic", "nothing"][..],
            "--topic: unknown topic `nothing` (see `stancelog topics`)",
        ),
    ] {
        let o = f.run(args, None);
        assert!(
            stderr(&o).contains(message),
            "{args:?}: want {message:?} in {}",
            stderr(&o)
        );
    }
}
}

on_both_backends! {
#[test]
fn appending_to_a_missing_log_says_to_run_init() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("missing.jsonl");
    let o = run_log(&log, &["append", "-"], Some(BASE.as_bytes()));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("init"), "{err}");
    if crate::backends::current() == crate::backends::Backend::File {
        assert!(err.contains(log.to_str().unwrap()), "{err}");
    }
    assert!(!log.exists(), "append must not create the log");
    // Queries say the same.
    let o = run_log(&log, &["positions"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("init"));
}
}

on_both_backends! {
#[test]
fn re_appending_a_batch_with_explicit_ids_stores_nothing_new() {
    let f = Fixture::new();
    let batch = concat!(
        r#"{"id":"0192b6a0-0000-7000-8000-000000000001","type":"stance.declared","actor":"a1","topic":"pol","stance":"support","date":"2024-10","cite":{"publication":"P"}}"#,
        "\n",
        r#"{"id":"0192b6a0-0000-7000-8000-000000000002","type":"stance.declared","actor":"a1","topic":"clm","stance":"affirm","date":"2024-10-02","cite":{"publication":"P"}}"#,
        "\n",
    );
    // Given the batch appended once,
    let o = f.run(&["append", "-"], Some(batch.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("appended 2 event(s), 0 already present"));
    let once = f.bytes();

    // when it is appended again, then nothing is stored and the output says so.
    let o = f.run(&["append", "-"], Some(batch.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("appended 0 event(s), 2 already present"),
        "{out}"
    );
    assert!(out.contains("already in the log"), "{out}");
    assert!(
        out.contains("seq 4  id 0192b6a0-0000-7000-8000-000000000001"),
        "{out}"
    );
    assert_eq!(f.bytes(), once);
    let o = f.run(&["append", "--format", "json", "-"], Some(batch.as_bytes()));
    let v = json(&o);
    assert_eq!(v[0]["duplicate"], true);
    assert_eq!(v[1]["seq"], 5);
    assert_eq!(f.bytes(), once);

    // When the same id comes with other content, then it is refused on that line, `id`.
    let changed = batch.replace("\"affirm\"", "\"deny\"");
    let err = f.refused(&changed, Some(2), Some("id"));
    assert!(err.contains("different content"), "{err}");
}
}

on_both_backends! {
#[test]
fn a_wrong_expected_seq_exits_3() {
    let f = Fixture::new();
    let before = f.bytes();
    let o = f.run(
        &["append", "--expect-seq", "1", "-"],
        Some(STANCE.as_bytes()),
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("expected seq 1, log is at 3"),
        "{}",
        stderr(&o)
    );
    assert_eq!(f.bytes(), before);
    let o = f.run(
        &["append", "--expect-seq", "4", "-"],
        Some(STANCE.as_bytes()),
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("expected seq 4, log is at 3"),
        "{}",
        stderr(&o)
    );
    assert_eq!(f.bytes(), before);
    // The right number appends.
    let o = f.run(
        &["append", "--expect-seq", "3", "-"],
        Some(STANCE.as_bytes()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("seq 4"));
    // Regression: a batch meant for an earlier end of the log that also registers an actor
    // again exited 2 (the refusal), so a retry could not tell that someone had appended.
    let again = BASE.lines().next().unwrap();
    let o = f.run(&["append", "--expect-seq", "3", "-"], Some(again.as_bytes()));
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("expected seq 3, log is at 4"),
        "{}",
        stderr(&o)
    );
    let o = f.run(&["append", "--expect-seq", "4", "-"], Some(again.as_bytes()));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("already registered"), "{}", stderr(&o));
}
}

/// Replaces line `n` (1-based) of the log with `text`.
fn replace_line(log: &Path, n: usize, text: &str) {
    let s = std::fs::read_to_string(log).unwrap();
    let mut lines: Vec<&str> = s.lines().collect();
    lines[n - 1] = text;
    std::fs::write(log, format!("{}\n", lines.join("\n"))).unwrap();
}

#[test]
fn a_corrupt_line_in_the_middle_of_the_log_is_reported_with_path_and_line() {
    let f = Fixture::new();
    let o = f.run(&["append", "-"], Some(STANCE.as_bytes()));
    assert_eq!(o.status.code(), Some(0));
    let path = f.log.to_str().unwrap().to_string();

    // Given line 2 of 4 overwritten with garbage,
    replace_line(&f.log, 2, "{not json");
    let corrupt = f.bytes();
    // then every query exits 2 naming the log and line 2,
    for args in [
        &["positions"][..],
        &["timeline"][..],
        &["actors"][..],
        &["diff", "--from", "2024-01-01", "--to", "2024-12-31"][..],
    ] {
        let o = f.run(args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).contains(&format!("{path}:2")),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(o.stdout.is_empty());
    }
    // and an append is refused without repairing anything.
    let o = f.run(&["append", "-"], Some(STANCE.as_bytes()));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(&format!("{path}:2")), "{}", stderr(&o));
    assert_eq!(f.bytes(), corrupt);
}

#[test]
fn a_stored_seq_gap_is_reported_on_its_field() {
    let f = Fixture::new();
    let s = std::fs::read_to_string(&f.log).unwrap();
    let line2 = s
        .lines()
        .nth(1)
        .unwrap()
        .replace("\"seq\":2,", "\"seq\":7,");
    replace_line(&f.log, 2, &line2);
    // A query answers from the index, which checks the log only where it ends: `verify`
    // reads every line,
    let o = f.run(&["verify"], None);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{}:2: field `seq`", f.log.display())),
        "{err}"
    );
    // and so does a query once there is no index to answer from.
    std::fs::remove_dir_all(stancelog::store::index_path(&f.log)).unwrap();
    let o = f.run(&["positions"], None);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{}:2: field `seq`", f.log.display())),
        "{err}"
    );
}

on_both_backends! {
#[test]
fn a_field_given_twice_is_refused() {
    // Regression: the batch was read through a JSON map, which kept the second `title` silently.
    let f = Fixture::new();
    let batch = concat!(
        r#"{"type":"topic.registered","topic":"t2","title":"T","kind":"policy"}"#,
        "\n",
        r#"{"type":"topic.registered","topic":"t3","title":"T","title":"dup","kind":"policy"}"#,
        "\n"
    );
    let err = f.refused(batch, Some(2), Some("title"));
    assert!(err.contains("duplicate field"), "{err}");
}
}

#[test]
fn the_index_command_warns_of_a_torn_tail_too() {
    // Regression (of `snapshot`, which `index` replaced): a command that read the log without
    // the warning every other command gives.
    let f = Fixture::new();
    let mut bytes = f.bytes();
    let torn = br#"{"schema":1,"seq":4,"id":"01a"#;
    bytes.extend_from_slice(torn);
    std::fs::write(&f.log, &bytes).unwrap();
    for args in [&["index"][..], &["index", "--rebuild"]] {
        let o = f.run(args, None);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("warning"), "{err}");
        assert!(
            err.contains(&format!("torn tail of {} bytes", torn.len())),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_torn_last_line_is_ignored_with_a_warning_and_removed_by_the_next_append() {
    // Given the base log with half a record after it (no newline),
    let f = Fixture::new();
    let whole = f.bytes();
    let torn = br#"{"schema":1,"seq":4,"id":"01a"#;
    let mut bytes = whole.clone();
    bytes.extend_from_slice(torn);
    std::fs::write(&f.log, &bytes).unwrap();

    // when querying, then the answer is that of the whole lines, with a warning,
    let o = f.run(&["actors", "--format", "json"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o).as_array().unwrap().len(), 1);
    let err = stderr(&o);
    assert!(err.contains("warning"), "{err}");
    assert!(err.contains(&format!("{} bytes", torn.len())), "{err}");
    assert!(!err.contains("error"), "{err}");
    // and the file is not touched by reading.
    assert_eq!(f.bytes(), bytes);

    // When a bad batch is refused, the torn bytes stay (nothing is written on error).
    f.refused(
        &stance_with(r#""stance":"maybe","date":"2024-10""#),
        Some(1),
        Some("stance"),
    );
    assert_eq!(f.bytes(), bytes);

    // When a good batch is appended, then the torn bytes are gone and the new record follows
    // the whole lines.
    let o = f.run(&["append", "-"], Some(STANCE.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("removed a torn tail of {} bytes", torn.len())));
    assert!(stdout(&o).contains("seq 4"), "{}", stdout(&o));
    let after = f.bytes();
    assert!(after.starts_with(&whole));
    assert!(after.ends_with(b"\n"));
    let tail = std::str::from_utf8(&after[whole.len()..]).unwrap();
    assert_eq!(tail.lines().count(), 1, "{tail}");
    let rec: serde_json::Value = serde_json::from_str(tail.trim_end()).unwrap();
    assert_eq!(rec["seq"], 4);
    assert_eq!(rec["type"], "stance.declared");
    let log = Log::open(&f.log).unwrap();
    assert_eq!(log.torn_tail_bytes(), 0);
    assert_eq!(log.history().seq_last(), 4);
    // And queries are quiet again.
    let o = f.run(&["positions"], None);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

on_both_backends! {
/// Regression: an event cut off at the end of the input was reported on the line after the
/// input's last one (the line where serde_json met the end of file).
#[test]
fn truncated_last_event_is_reported_on_the_line_it_starts() {
    let f = Fixture::new();
    let text = format!("{STANCE}\n{STANCE}\n{{\"type\":\"stance.declared\",\"actor\":\n");
    let err = f.refused(&text, Some(3), None);
    assert!(err.contains("malformed JSON"), "{err}");
}
}

/// Regression: a stored line that is not JSON named a bogus field `?`.
#[test]
fn stored_line_that_is_not_json_names_no_field() {
    let f = Fixture::new();
    replace_line(&f.log, 2, "{not json");
    let o = f.run(&["positions"], None);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains(&format!("{}:2: ", f.log.display())), "{err}");
    assert!(!err.contains("field `"), "{err}");
}

on_both_backends! {
/// Regression: an event just under LINE_BYTES_MAX as input became a stored line over it (seq,
/// id, hash and the rest are added), which no reader could then read back.
#[test]
fn event_whose_stored_line_would_exceed_the_line_limit_is_refused() {
    let f = Fixture::new();
    let limit = stancelog::store::LINE_BYTES_MAX;
    let head = r#"{"type":"topic.registered","topic":"big","kind":"claim","title":""#;
    let title = "x".repeat(limit - head.len() - 2);
    let text = format!("{STANCE}\n{head}{title}\"}}\n");
    assert_eq!(text.lines().nth(1).unwrap().len(), limit);
    let err = f.refused(&text, Some(2), None);
    assert!(err.contains("LINE_BYTES_MAX"), "{err}");
}
}

on_both_backends! {
/// Regression: two events on one line were taken as two events; JSON Lines holds one per line.
#[test]
fn two_events_on_one_line_are_refused() {
    let f = Fixture::new();
    let err = f.refused(&format!("{STANCE}\n{STANCE} {STANCE}\n"), Some(2), None);
    assert!(err.contains("a second event on the same line"), "{err}");
}
}

/// Regression: a log whose lines end in \r\n (converted by an editor or git) failed with a
/// misleading "log was changed" hash error; it now names the Windows line ending.
#[test]
fn a_log_with_windows_line_endings_is_named_as_such() {
    let f = Fixture::new();
    let crlf: Vec<u8> = f
        .bytes()
        .split_inclusive(|b| *b == b'\n')
        .flat_map(|l| [&l[..l.len() - 1], b"\r\n"].concat())
        .collect();
    std::fs::write(&f.log, &crlf).unwrap();
    let o = f.run(&["verify"], None);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(":1: the line ends in \\r (a Windows line ending)"),
        "{err}"
    );
}

on_both_backends! {
/// Regression: a quote with a line break or a terminal escape broke table rows and reached the
/// terminal raw; table cells now show control characters escaped (JSON keeps the text as is).
#[test]
fn control_characters_in_a_quote_are_escaped_in_tables() {
    let f = Fixture::new();
    let quoted = r#"{"type":"stance.declared","actor":"a1","topic":"pol","stance":"support","date":"2024-10-01","quote":"line one\nline two \u001b[31mred","cite":{"publication":"P"}}"#;
    let o = f.run(&["append", "-"], Some(quoted.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = stdout(&f.run(&["timeline"], None));
    assert!(
        table.contains(r"line one\nline two \u{1b}[31mred"),
        "{table}"
    );
    assert!(!table.contains('\u{1b}'), "{table}");
    let json = stdout(&f.run(&["timeline", "--format", "json"], None));
    assert!(
        json.contains(r#""quote": "line one\nline two \u001b[31mred""#),
        "{json}"
    );
}
}

on_both_backends! {
/// Regression: an --issue tag no topic has gave an empty answer with exit 0, where an unknown
/// --topic is an error; it is now an error too.
#[test]
fn an_issue_tag_no_topic_has_exits_2() {
    let f = Fixture::new();
    let o = f.run(&["positions", "--issue", "zz"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--issue: no topic is tagged `zz`"),
        "{}",
        stderr(&o)
    );
}
}

on_both_backends! {
/// Regression: an import whose every row was refused exited 0, so a script took it for success;
/// and a CSV that is not UTF-8 was reported with a debug dump of the reader's error.
#[test]
fn an_import_that_refuses_every_row_exits_2_and_names_bad_encoding() {
    let f = Fixture::new();
    let sheet = f.batch_file("sheet.csv", b"who,stance\nnobody,yes\n");
    let args = |p: &Path| {
        vec![
            "import".to_string(),
            "csv".to_string(),
            p.to_str().unwrap().to_string(),
            "--actor-col".into(),
            "who".into(),
            "--topic".into(),
            "pol".into(),
            "--stance-col".into(),
            "stance".into(),
            "--stance-map".into(),
            "yes=support".into(),
            "--date".into(),
            "2024-10-01".into(),
        ]
    };
    let before = f.bytes();
    let a = args(&sheet);
    let o = f.run(&a.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 row(s) refused (listed above)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(f.bytes(), before);
    let latin1 = f.batch_file("latin1.csv", b"who,stance\nna\xefve,yes\n");
    let a = args(&latin1);
    let o = f.run(&a.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("latin1.csv:2: not UTF-8 text (field 1)"),
        "{err}"
    );
    assert!(!err.contains("Utf8 {"), "{err}");
}
}

// Issue 15: messages that name the problem -------------------------------------------------------

/// The last line of standard error (the error itself).
fn last_line(err: &str) -> &str {
    err.lines().last().unwrap_or_default()
}

#[test]
fn text_that_is_not_utf8_is_named_in_a_batch() {
    // Regression (a new user's tryout): a Latin-1 `é` on line 2 was reported as "malformed
    // JSON: invalid unicode code point", a UTF-16 file as "malformed JSON: expected value".
    let f = Fixture::new();
    let before = f.bytes();
    let mut latin1 = format!("{STANCE}\n").into_bytes();
    latin1.extend_from_slice(
        b"{\"type\":\"topic.registered\",\"topic\":\"lat\",\"title\":\"Caf\xe9\",\"kind\":\"policy\"}\n",
    );
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(STANCE.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    for (name, bytes, line, byte) in [
        ("latin1.jsonl", latin1, 2, "0xE9"),
        ("utf16.jsonl", utf16, 1, "0xFF"),
    ] {
        let file = f.batch_file(name, &bytes);
        let o = f.run(&["append", file.to_str().unwrap()], None);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert_eq!(
            last_line(&stderr(&o)),
            format!(
                "stancelog: error: {}:{line}: not UTF-8 text (a byte {byte}): save the input as UTF-8",
                file.display()
            )
        );
        assert_eq!(f.bytes(), before);
    }
}

#[test]
fn a_byte_order_mark_is_named_in_a_batch_and_in_a_log() {
    // Regression (issue 15): a UTF-8 BOM was reported as "malformed JSON: expected value".
    let f = Fixture::new();
    let err = f.refused(&format!("\u{feff}{STANCE}\n"), Some(1), None);
    assert!(
        last_line(&err).ends_with(":1: the input starts with a UTF-8 byte order mark (bytes EF BB BF), which JSON Lines does not allow; save it as UTF-8 without a BOM"),
        "{err}"
    );
    // A log saved with a BOM is refused by every reader, naming line 1.
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend_from_slice(&f.bytes());
    std::fs::write(&f.log, &bytes).unwrap();
    for args in [&["verify"][..], &["positions"][..]] {
        let o = f.run(args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(
            stderr(&o),
            format!(
                "stancelog: error: {}:1: the line starts with a UTF-8 byte order mark (bytes EF BB BF), which a log never holds (was the file saved by an editor that adds one?)\n",
                f.log.display()
            ),
            "{args:?}"
        );
    }
}

on_both_backends! {
#[test]
fn an_offset_beyond_18_hours_or_a_second_60_is_refused() {
    // Regression (issue 15): both were accepted (the parser reads second 60 as 59).
    let f = Fixture::new();
    for (date, message) in [
        (
            "2024-10-21T10:00:00+25:00",
            "the UTC offset +25:00 is beyond ±18:00",
        ),
        (
            "2024-12-31T23:59:60Z",
            "second 60 (a leap second) is not accepted",
        ),
    ] {
        let err = f.refused(
            &stance_with(&format!(r#""stance":"support","date":"{date}""#)),
            Some(1),
            Some("date"),
        );
        assert!(err.contains(message), "{date}: {err}");
    }
}
}

on_both_backends! {
#[test]
fn a_long_bad_value_is_quoted_clipped_with_its_length() {
    // Regression (issue 15): a 900 KB id gave a 900 KB line of error.
    let f = Fixture::new();
    let id = "x".repeat(900_000);
    let err = f.refused(
        &format!(
            r#"{{"type":"actor.registered","actor":"{id}","name":"X","kind":"state","country":"KOR","sector":"GOV"}}"#
        ),
        Some(1),
        Some("actor"),
    );
    assert!(
        err.contains(&format!(
            "`{}…` (900000 bytes) is not a valid id",
            "x".repeat(100)
        )),
        "{}",
        &err[..err.len().min(400)]
    );
    assert!(err.len() < 1000, "{} bytes of error", err.len());
    // An unknown field's name is clipped too.
    let err = f.refused(
        &format!(r#"{{"type":"stance.retracted","{id}":1}}"#),
        Some(1),
        None,
    );
    assert!(
        err.contains("unknown field `xxx"),
        "{}",
        &err[..err.len().min(400)]
    );
    assert!(err.len() < 2000, "{} bytes of error", err.len());
}
}

on_both_backends! {
#[test]
fn misleading_messages_name_the_real_problem() {
    let f = Fixture::new();
    let refused_with = |text: &str, field: Option<&str>, message: &str| {
        let err = f.refused(text, Some(1), field);
        assert!(err.contains(message), "want {message:?} in {err}");
    };
    // Year 0000 names the supported range (it was "not a real calendar date").
    refused_with(
        &stance_with(r#""stance":"support","date":"0000-10-21""#),
        Some("date"),
        "`0000-10-21` is outside the supported years, 0001 to 9999",
    );
    // Text after an event is not "a second event".
    refused_with(
        &format!("{STANCE} xyz\n"),
        None,
        "text after the event on its line: `xyz`; JSON Lines holds one event per line and nothing else",
    );
    // A lone surrogate escape (it was "unexpected end of hex escape").
    refused_with(
        &stance_with(r#""stance":"support","date":"2024-10-01","quote":"\ud800""#),
        None,
        "an unpaired surrogate in a \\u escape: \\uD800 to \\uDBFF must be followed by \\uDC00 to \\uDFFF",
    );
    // A daylight-saving gap is not called ambiguous; a fold says which offsets it had.
    refused_with(
        &stance_with(r#""stance":"support","date":"2024-03-10T02:30:00[America/New_York]""#),
        Some("date"),
        "2024-03-10T02:30:00 does not exist in America/New_York: the clocks jumped from -05:00 to -04:00 then (a daylight-saving gap)",
    );
    refused_with(
        &stance_with(r#""stance":"support","date":"2024-11-03T01:30:00[America/New_York]""#),
        Some("date"),
        "happened twice in America/New_York, at -04:00 and then at -05:00 (a daylight-saving fold)",
    );
    // An offset that conflicts with the zone, in our words.
    refused_with(
        &stance_with(r#""stance":"support","date":"2024-10-21T10:00:00+08:00[Asia/Seoul]""#),
        Some("date"),
        "the offset +08:00 is not that of Asia/Seoul at 2024-10-21T10:00:00, which is +09:00",
    );
    // --as-of names only the form it accepts (it listed YYYY-MM and YYYY, then refused them).
    for bad in ["24-10", "2024-10", "yesterday"] {
        let o = f.run(&["positions", "--as-of", bad], None);
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(
            err.contains(&format!(
                "`{bad}` is not a full date of the form YYYY-MM-DD"
            )),
            "{bad}: {err}"
        );
        assert!(!err.contains("YYYY-MM or YYYY"), "{bad}: {err}");
    }
}
}

on_both_backends! {
#[test]
fn vote_fields_on_a_topic_of_another_kind_are_refused_naming_the_field() {
    // Regression (issue 15): a session number or vote fields on a policy topic, and session
    // 0, were stored.
    let f = Fixture::new();
    let topic = |kind: &str, extra: &str| {
        format!(r#"{{"type":"topic.registered","topic":"t9","title":"T","kind":"{kind}",{extra}}}"#)
    };
    for (field, extra) in [
        ("session", r#""session":46"#),
        ("resolution", r#""resolution":"A/RES/46/36""#),
        ("important", r#""important":true"#),
    ] {
        for kind in ["policy", "claim", "treaty"] {
            let err = f.refused(&topic(kind, extra), Some(1), Some(field));
            assert!(
                err.contains(&format!(
                    "is a field of vote topics only; this topic's kind is {kind}"
                )),
                "{err}"
            );
        }
    }
    let err = f.refused(&topic("vote", r#""session":0"#), Some(1), Some("session"));
    assert!(
        err.contains("is 0; UN General Assembly sessions count from 1"),
        "{err}"
    );
    // A vote topic keeps them.
    let text = topic(
        "vote",
        r#""session":46,"resolution":"A/RES/46/36","important":true"#,
    );
    let o = f.run(&["append", "-"], Some(text.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
}

on_both_backends! {
#[test]
fn a_pretty_printed_event_spanning_lines_is_one_event_stored_on_one_line() {
    // Decision (issue 15): an object spread over several lines of a batch (as `jq .` prints
    // it) is one event; it is stored as one canonical line.
    let f = Fixture::new();
    let before = f.bytes();
    let text = "{\n  \"type\": \"stance.declared\",\n  \"actor\": \"a1\",\n  \"topic\": \"pol\",\n  \"stance\": \"support\",\n  \"date\": \"2024-10-01\",\n  \"cite\": {\n    \"publication\": \"P\"\n  }\n}\n{\n  \"type\": \"stance.declared\", \"actor\": \"a1\", \"topic\": \"pol\",\n  \"stance\": \"oppose\", \"date\": \"2024-10-02\", \"cite\": {\"publication\": \"P\"}\n}\n";
    let o = f.run(&["append", "-"], Some(text.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("appended 2 event(s), 0 already present"));
    let after = f.bytes();
    let added = &after[before.len()..];
    assert_eq!(added.iter().filter(|b| **b == b'\n').count(), 2);
    let o = f.run(&["positions", "--format", "json"], None);
    assert_eq!(json(&o)[0]["stance"], "oppose");
}
}

on_both_backends! {
#[test]
fn an_empty_batch_names_its_file_and_says_it_is_empty() {
    let f = Fixture::new();
    let err = f.refused("", None, None);
    let path = f.dir.path().join("batch.jsonl");
    assert_eq!(
        last_line(&err),
        format!(
            "stancelog: error: {}: no events: the input is empty (0 bytes)",
            path.display()
        )
    );
    let err = f.refused("  \n\n", None, None);
    assert_eq!(
        last_line(&err),
        format!(
            "stancelog: error: {}: no events: the input holds only white space (4 bytes)",
            path.display()
        )
    );
}
}

/// Regression: a PostgreSQL log whose server cannot be reached said only "error connecting to
/// server" (the client's kind of error), not why.
#[test]
fn an_unreachable_server_is_named_with_the_cause() {
    let o = crate::support::run(
        &[
            "--log",
            "host=/nonexistent-stancelog-socket dbname=desk user=alice",
            "positions",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "stancelog: error: postgres://alice@/nonexistent-stancelog-socket/desk: error connecting to server: No such file or directory (os error 2)\n"
    );
}

/// Regression: `--log /dev/null` was read as an empty log, had an index folder made beside it
/// (`/dev/null.index`) and took appends that went nowhere; a folder failed with "Is a
/// directory (os error 21)", exit 1. They, and a named pipe, are refused as not a log file,
/// exit 2.
#[test]
fn a_log_that_is_a_device_or_a_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().to_str().unwrap();
    // A named pipe too: opening it to read waited for a writer (review).
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.unwrap().success());
    let fifo = fifo.to_str().unwrap();
    for (log, what) in [
        ("/dev/null", "a device, pipe or socket"),
        (fifo, "a device, pipe or socket"),
        (folder, "a folder"),
    ] {
        for args in [&["positions"][..], &["append", "-"][..], &["verify"][..]] {
            let o = crate::support::run(
                &[&["--log", log][..], args].concat(),
                Some(STANCE.as_bytes()),
            );
            assert_eq!(o.status.code(), Some(2), "{log} {args:?}: {}", stderr(&o));
            assert_eq!(
                stderr(&o),
                format!(
                    "stancelog: error: {log}: is {what}, not a log file; a log is a regular file (or a PostgreSQL database)\n"
                ),
                "{args:?}"
            );
        }
    }
    assert!(!std::path::Path::new("/dev/null.index").exists());
    let to = dir.path().join("to.jsonl");
    let o = crate::support::run(
        &["copy", "--from", fifo, "--to", to.to_str().unwrap()],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(": is a device, pipe or socket, not a log file"),
        "{}",
        stderr(&o)
    );
}
