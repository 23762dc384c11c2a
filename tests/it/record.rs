//! Recording without JSON: `add actor|topic|stance`, `retract`, `correct`, `cite`, and
//! `add stance --from-editor`. Each goes through the append path, so each test checks what was
//! stored, read back from the log.

use std::path::Path;

use serde_json::Value;

use crate::support::{empty_log, json, run, run_log, seed_input, stderr, stdout};

/// The stored records of a log, without what the log assigns (seq, id, times, hash).
fn bodies(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .expect("read log")
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("JSON line");
            let o = v.as_object_mut().expect("object");
            for k in ["seq", "id", "recorded_at", "schema", "batch_last", "hash"] {
                o.remove(k);
            }
            v
        })
        .collect()
}

fn seed_events() -> Vec<Value> {
    std::fs::read_to_string(seed_input())
        .expect("seed input")
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("JSON line");
            v.as_object_mut().expect("object").remove("id");
            v
        })
        .collect()
}

fn seed_event(kind: &str, key: &str, value: &str) -> Value {
    seed_events()
        .into_iter()
        .find(|e| e["type"] == kind && e[key] == value)
        .expect("seed event")
}

/// The README's `add` demo, run as written (with `stancelog` on PATH), records the seed
/// article's first three statements exactly as the seed log has them.
#[test]
fn the_readme_add_demo_records_the_seed_articles_first_three_statements() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    let after = &readme[readme.find("<!-- add-demo").expect("add-demo marker")..];
    let start = after.find("```sh\n").expect("sh block") + 6;
    let script = &after[start..start + after[start..].find("```").expect("block end")];
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = Path::new(env!("CARGO_BIN_EXE_stancelog"))
        .parent()
        .expect("bin dir");
    let o = std::process::Command::new("sh")
        .arg("-ec")
        .arg(script)
        .current_dir(dir.path())
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env_remove("STANCELOG_LOG")
        .output()
        .expect("run the demo");
    assert!(
        o.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let got = bodies(&dir.path().join("article.jsonl"));
    let want = vec![
        seed_event("actor.registered", "actor", "kim-yong-hyun"),
        seed_event("actor.registered", "actor", "cho-tae-yong"),
        seed_event("actor.registered", "actor", "prk"),
        seed_event("actor.registered", "actor", "kim-jong-un"),
        seed_event("topic.registered", "topic", "dprk-troops-in-russia"),
        seed_event("topic.registered", "topic", "kim-jong-un-sells-troops"),
        seed_event(
            "topic.registered",
            "topic",
            "rok-response-to-dprk-deployment",
        ),
        seed_event("stance.declared", "topic", "dprk-troops-in-russia"),
        seed_event("stance.declared", "topic", "kim-jong-un-sells-troops"),
        seed_event(
            "stance.declared",
            "topic",
            "rok-response-to-dprk-deployment",
        ),
    ];
    assert_eq!(got, want);
    // The first stance's printout is the stored record.
    let printed = String::from_utf8(o.stdout).expect("utf-8");
    let line = printed
        .lines()
        .find(|l| l.contains("mercenary cannon fodder"))
        .expect("stance printed");
    let v: Value = serde_json::from_str(line).expect("JSON line");
    assert_eq!(v["seq"], 8);
    assert_eq!(v["recipient"], "prk");
    assert_eq!(v["cite"]["via"], "Yonhap News Agency");
}

fn registered() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, log) = empty_log();
    for args in [
        &[
            "add",
            "actor",
            "kim-yong-hyun",
            "--name",
            "Kim Yong-hyun",
            "--kind",
            "person",
            "--country",
            "KOR",
            "--sector",
            "MIL",
            "--alias",
            "Kim",
        ][..],
        &[
            "add",
            "actor",
            "kim-jong-un",
            "--name",
            "Kim Jong-un",
            "--kind",
            "person",
            "--country",
            "PRK",
            "--sector",
            "GOV",
            "--alias",
            "Kim",
        ],
        &[
            "add",
            "topic",
            "dprk-troops-in-russia",
            "--title",
            "North Korean troops have been sent to Russia",
            "--kind",
            "claim",
        ],
    ] {
        let o = run_log(&log, args, None);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
    (dir, log)
}

const STANCE: &[&str] = &[
    "add",
    "stance",
    "--actor",
    "Kim Yong-hyun",
    "--topic",
    "North Korean troops have been sent to Russia",
    "--stance",
    "affirm",
    "--date",
    "2024-10-18",
    "--cite-publication",
    "Yonhap",
];

#[test]
fn a_name_two_actors_share_is_refused_listing_both() {
    let (_d, log) = registered();
    let before = std::fs::read(&log).unwrap();
    let mut args = STANCE.to_vec();
    args[3] = "Kim";
    let o = run_log(&log, &args, None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`Kim` names 2 actors (kim-jong-un, kim-yong-hyun); give an id"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&log).unwrap(), before);
}

/// Two ids of one name linked by `actor.aliased` are one actor: the name resolves to the id
/// they are known under (it was refused as naming 2 actors, after the link too).
#[test]
fn a_name_that_aliased_actors_share_names_them() {
    let (_d, log) = empty_log();
    let batch = r#"{"type":"actor.registered","actor":"prk","name":"North Korea","kind":"state","country":"PRK","sector":"GOV"}
{"type":"actor.registered","actor":"dprk2","name":"North Korea","kind":"state","country":"PRK","sector":"GOV"}
{"type":"topic.registered","topic":"t","title":"T","kind":"policy"}
{"type":"stance.declared","actor":"dprk2","topic":"t","stance":"support","date":"2024-01-02","cite":{"publication":"P"}}
"#;
    let o = run_log(&log, &["append", "-"], Some(batch.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let query = [
        "positions",
        "--actor",
        "North Korea",
        "--format",
        "csv",
        "--columns",
        "actor,topic,stance",
    ];
    let o = run_log(&log, &query, None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`North Korea` names 2 actors (dprk2, prk); give an id"),
        "{}",
        stderr(&o)
    );
    let link = r#"{"type":"actor.aliased","actor":"prk","alias":"dprk2"}"#;
    let o = run_log(&log, &["append", "-"], Some(link.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run_log(&log, &query, None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "actor,topic,stance\nprk,t,support\n");
}

#[test]
fn dry_run_checks_and_prints_but_appends_nothing() {
    let (_d, log) = registered();
    let before = std::fs::read(&log).unwrap();
    let mut args = STANCE.to_vec();
    args.extend(["--dry-run", "--format", "json"]);
    let o = run_log(&log, &args, None);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["actor"], "kim-yong-hyun");
    assert_eq!(v["topic"], "dprk-troops-in-russia");
    assert_eq!(v["date"], "2024-10-18");
    assert_eq!(v.get("seq"), None);
    assert_eq!(std::fs::read(&log).unwrap(), before);
    // A dry run is refused like the append would be.
    args[7] = "support";
    let o = run_log(&log, &args, None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--stance: stance `support` does not fit claim topic"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn errors_name_the_flag_and_leave_the_log_unchanged() {
    let (_d, log) = registered();
    let before = std::fs::read(&log).unwrap();
    let mut args = STANCE.to_vec();
    args[9] = "2024-02-30";
    let o = run_log(&log, &args, None);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "stancelog: error: --date: `2024-02-30` is not a real calendar date\n"
    );
    let o = run_log(&log, &STANCE[..10], None);
    assert_eq!(
        stderr(&o),
        "stancelog: error: --cite-publication: missing, and required for stance.declared\n"
    );
    assert_eq!(std::fs::read(&log).unwrap(), before);
}

#[test]
fn expect_seq_is_checked_as_for_append() {
    let (_d, log) = registered();
    let mut args = STANCE.to_vec();
    args.extend(["--expect-seq", "2"]);
    let o = run_log(&log, &args, None);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        stderr(&o),
        "stancelog: error: expected seq 2, log is at 3\n"
    );
    let n = args.len();
    args[n - 1] = "3";
    let o = run_log(&log, &args, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("appended seq 4 (id "),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_retry_with_the_same_id_is_not_stored_twice() {
    let (_d, log) = registered();
    let mut args = STANCE.to_vec();
    args.extend(["--id", "0190f2c4-1111-7000-8000-000000000001"]);
    assert!(run_log(&log, &args, None).status.success());
    let o = run_log(&log, &args, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with(
            "already in the log as seq 4 (id 0190f2c4-1111-7000-8000-000000000001); not stored again"
        ),
        "{}",
        stdout(&o)
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 4);
}

#[test]
fn retract_correct_and_cite_take_a_seq_or_an_id() {
    let (_d, log) = registered();
    let o = run_log(&log, &[STANCE, &["--format", "json"]].concat(), None);
    let id = json(&o)["id"].as_str().unwrap().to_string();
    let o = run_log(
        &log,
        &[
            "correct",
            "4",
            "--date",
            "2024-10-21",
            "--reason",
            "the day",
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)["target"], id.as_str());
    assert_eq!(json(&o)["type"], "stance.corrected");
    let o = run_log(
        &log,
        &[
            "cite",
            &id,
            "--cite-publication",
            "Reuters",
            "--quote",
            "cannon fodder",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run_log(&log, &["positions", "--format", "json"], None);
    let p = &json(&o)[0];
    assert_eq!(p["since"], "2024-10-21");
    assert_eq!(p["sources"][1]["publication"], "Reuters");
    assert_eq!(p["sources"][1]["quote"], "cannon fodder");
    let o = run_log(
        &log,
        &["retract", &id, "--reason", "report withdrawn"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run_log(&log, &["timeline", "--format", "json"], None);
    assert_eq!(json(&o)[0]["status"], "retracted");
    assert_eq!(json(&o)[0]["retraction_reason"], "report withdrawn");
    // Retracting again, or retracting a topic, is refused as `append` refuses it.
    let o = run_log(&log, &["retract", "4", "--reason", "again"], None);
    assert_eq!(o.status.code(), Some(2));
    let o = run_log(&log, &["retract", "3", "--reason", "x"], None);
    assert!(
        stderr(&o).contains("is an event of type topic.registered, not a stance.declared"),
        "{}",
        stderr(&o)
    );
    let o = run_log(&log, &["retract", "99", "--reason", "x"], None);
    assert_eq!(
        stderr(&o),
        "stancelog: error: SEQ|ID: the log has no seq 99 (its last is 7)\n"
    );
}

/// An "editor" that replaces the file it is given with `text`.
fn editor_writing(dir: &Path, name: &str, text: &str) -> String {
    let filled = dir.join(name);
    std::fs::write(&filled, text).unwrap();
    format!("cp {}", filled.display())
}

fn run_with_editor(log: &Path, editor: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec![
        "--log",
        log.to_str().unwrap(),
        "add",
        "stance",
        "--from-editor",
    ];
    all.extend_from_slice(args);
    crate::support::stancelog_command()
        .args(&all)
        .env_remove("VISUAL")
        .env("EDITOR", editor)
        .output()
        .unwrap()
}

#[test]
fn from_editor_records_the_saved_template_and_keeps_bad_text() {
    let (dir, log) = registered();
    let bad = "# comment\nactor: Kim Yong-hyun\ntopic: dprk-troops-in-russia\nstance: affirm\ndate: 2024-13\ncite-publication: Yonhap\n";
    let o = run_with_editor(&log, &editor_writing(dir.path(), "bad.txt", bad), &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains(":5: date: "), "{err}");
    let kept = err
        .split("the text is kept in ")
        .nth(1)
        .and_then(|t| t.split(';').next())
        .expect("kept file named");
    assert_eq!(std::fs::read_to_string(kept).unwrap(), bad);
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 3);
    // Fixed and resumed, it is recorded.
    let good = bad.replace("2024-13", "2024-10");
    let o = run_with_editor(
        &log,
        &editor_writing(dir.path(), "good.txt", &good),
        &["--resume", kept],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!Path::new(kept).exists());
    let last = bodies(&log).pop().unwrap();
    assert_eq!(last["actor"], "kim-yong-hyun");
    assert_eq!(last["date"], "2024-10");
}

#[test]
fn the_editor_template_is_prefilled_from_flags() {
    let (dir, log) = registered();
    // An "editor" that copies the template out so the test can read it, and saves it unchanged.
    let copy = dir.path().join("seen.txt");
    let o = run_with_editor(
        &log,
        &format!("cp \"$1\" {} #", copy.display()),
        &["--actor", "kim-yong-hyun", "--date", "2024-10"],
    );
    // Unchanged, the template misses required fields: refused by name, nothing appended.
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let seen = std::fs::read_to_string(&copy).unwrap();
    assert!(seen.contains("\nactor: kim-yong-hyun\n"), "{seen}");
    assert!(seen.contains("\ndate: 2024-10\n"), "{seen}");
    assert!(seen.contains("\ntopic: \n"), "{seen}");
    assert!(
        stderr(&o).contains(": cite-publication: missing, and required for stance.declared"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn new_is_add_stance_from_editor_under_a_short_name() {
    let (dir, log) = registered();
    let filled = dir.path().join("filled.txt");
    std::fs::write(
        &filled,
        "actor: Kim Yong-hyun\ntopic: dprk-troops-in-russia\nstance: affirm\ndate: 2024-10\nquote: mercenary cannon fodder\ncite-publication: Yonhap\n",
    )
    .unwrap();
    // An "editor" that copies the template out (to read what was prefilled), then saves the
    // filled text.
    let seen = dir.path().join("seen.txt");
    let editor = format!(
        "cp \"$1\" {} && cp {} \"$1\" #",
        seen.display(),
        filled.display()
    );
    let o = crate::support::stancelog_command()
        .args([
            "--log",
            log.to_str().unwrap(),
            "new",
            "--quote",
            "from a flag",
        ])
        .env_remove("VISUAL")
        .env("EDITOR", &editor)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let template = std::fs::read_to_string(&seen).unwrap();
    assert!(template.contains("\nquote: from a flag\n"), "{template}");
    let last = bodies(&log).pop().unwrap();
    assert_eq!(last["type"], "stance.declared");
    assert_eq!(last["actor"], "kim-yong-hyun");
    assert_eq!(last["date"], "2024-10");
    assert_eq!(last["quote"], "mercenary cannon fodder");
    assert_eq!(last["cite"]["publication"], "Yonhap");
    let help = stdout(&run(&["new", "--help"], None));
    assert!(
        help.contains("the same as `add stance --from-editor`"),
        "{help}"
    );
    assert!(help.contains("--resume <FILE>"), "{help}");
    assert!(!help.contains("--from-editor <"), "{help}");
}

/// Regression (rt31): a recording command on a file that is not a log (a CSV given as --log)
/// was refused but left a `FILE.writer` record behind. Given such a file, when each recording
/// command (and `append`) runs on it, then each is refused naming its line 1 and nothing is
/// left beside it; a writer record that was there before is left there.
#[test]
fn a_recording_command_on_a_file_that_is_not_a_log_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.csv");
    std::fs::write(&file, "a,b\n1,2\n").unwrap();
    let event = dir.path().join("e.jsonl");
    std::fs::write(
        &event,
        "{\"type\":\"actor.registered\",\"actor\":\"fra\",\"name\":\"France\",\"kind\":\"state\",\"country\":\"FRA\",\"sector\":\"GOV\"}\n",
    )
    .unwrap();
    let actor = [
        "add",
        "actor",
        "fra",
        "--name",
        "France",
        "--kind",
        "state",
        "--country",
        "FRA",
    ];
    let actor = [&actor[..], &["--sector", "GOV"]].concat();
    let new = [
        "new", "--actor", "fra", "--topic", "t", "--stance", "support",
    ];
    let new = [
        &new[..],
        &["--date", "2024-01-01", "--cite-publication", "Le Monde"],
    ]
    .concat();
    let commands: [&[&str]; 7] = [
        &actor,
        STANCE,
        &new,
        &["retract", "1", "--reason", "withdrawn"],
        &["correct", "1", "--stance", "oppose", "--reason", "miscoded"],
        &["cite", "1", "--cite-publication", "Le Monde"],
        &["append", event.to_str().unwrap()],
    ];
    let names = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    for args in commands {
        let o = crate::support::stancelog_command()
            .arg("--log")
            .arg(&file)
            .args(args)
            .env_remove("VISUAL")
            // `new`'s "editor" saves the template as prefilled from the flags.
            .env("EDITOR", "true")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_eq!(
            stderr(&o),
            format!("stancelog: error: {}:1: expected value\n", file.display()),
            "{args:?}"
        );
        assert_eq!(names(), ["e.jsonl", "x.csv"], "{args:?}");
    }
    // A record this command did not make is not removed.
    let record = dir.path().join("x.csv.writer");
    std::fs::write(&record, "pid 1 start 1\n").unwrap();
    let o = run_log(&file, &["retract", "1", "--reason", "withdrawn"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(names(), ["e.jsonl", "x.csv", "x.csv.writer"]);
}

/// Given two copies of the seed log (40 events), one with its projection index and a byte of
/// seq 20 edited (a letter of its citation title) after the index was built (a line no reader
/// before the index's end reads), one whose index cannot be written (the writer then folds the
/// whole log), when the same recording commands run on both (names, an alias, seq and id
/// targets, refusals, a retry, dry runs), then each gives the same exit code, error and stored
/// record; the indexed copy's appends and dry runs never read the edited line (they succeed;
/// `verify` then names it), and its index answers as the log.
#[test]
fn the_recording_commands_append_through_the_index_as_through_the_whole_log() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    std::fs::copy(crate::support::seed_log(), &a).unwrap();
    std::fs::copy(crate::support::seed_log(), &b).unwrap();
    assert!(
        crate::support::run_log_file(&a, &["index"], None)
            .status
            .success()
    );
    let text = std::fs::read_to_string(&a).unwrap();
    let edited = text.replacen("mercenary cannon fodder", "mercenary cannon fodd3r", 1);
    assert_ne!(edited, text);
    std::fs::write(&a, edited).unwrap();
    // A file where the index folder would be: the index cannot be written.
    std::fs::write(dir.path().join("b.jsonl.index"), "not a folder").unwrap();
    let id = |n: u32| format!("0193b000-0000-7000-8000-{n:012}");
    let stance = |actor: &str, n: u32| -> Vec<String> {
        [
            "add",
            "stance",
            "--actor",
            actor,
            "--topic",
            "North Korean troops have been sent to Russia",
            "--stance",
            "deny",
            "--date",
            "2024-11-01",
            "--cite-publication",
            "KCNA",
            "--id",
            &id(n),
        ]
        .map(str::to_string)
        .to_vec()
    };
    let words = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
    let commands: Vec<Vec<String>> = vec![
        stance("North Korea", 1),
        stance("North Korea", 1),
        stance("South Korean intelligence", 2),
        stance("Nobody", 3),
        words(&format!("retract 33 --reason withdrawn --id {}", id(4))),
        words("retract 33 --reason again"),
        words("retract 3 --reason x"),
        words("retract 99 --reason x"),
        words(&format!(
            "correct 25 --stance oppose --reason r --id {}",
            id(5)
        )),
        words(&format!(
            "correct 24 --stance affirm --reason r --id {}",
            id(6)
        )),
        words(&format!(
            "cite {} --cite-publication Y --id {}",
            id(1),
            id(7)
        )),
        words(&format!(
            "cite 20 --cite-publication Z --quote q --id {}",
            id(8)
        )),
        words("cite 21 --cite-publication W --dry-run"),
        words("retract 33 --reason again --dry-run"),
    ];
    let shown = |log: &Path, args: &[String]| {
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend(["--format", "json"]);
        let o = crate::support::run_log_file(log, &all, None);
        let mut out = if o.status.success() {
            json(&o)
        } else {
            Value::Null
        };
        if let Some(o) = out.as_object_mut() {
            o.remove("recorded_at");
            o.remove("hash");
        }
        // The copy without an index is warned at each command that its index could not be
        // written.
        let errors: String = stderr(&o)
            .lines()
            .filter(|l| !l.contains("the projection index"))
            .map(|l| format!("{l}\n"))
            .collect();
        (o.status.code(), errors, out)
    };
    let expected = [
        "seq 41",
        "seq 41",
        "seq 42",
        "--actor: no actor has the id, name or alias `Nobody` (see `stancelog actors`)",
        "seq 43",
        "SEQ|ID: stance 01a22751-4cee-7a04-8e8c-906c4f6e9fe9 is retracted (seq 43)",
        "SEQ|ID: target 01a22751-4cee-76a6-9a6d-0be391dc9a58 is an event of type actor.registered, not a stance.declared",
        "SEQ|ID: the log has no seq 99 (its last is 43)",
        "seq 44",
        "--stance: stance `affirm` does not fit policy topic `rok-response-to-dprk-deployment` (use one of: support, oppose, neutral, abstain)",
        "seq 45",
        "seq 46",
        // A dry run prints the record, which has no seq yet.
        "seq null",
        "SEQ|ID: stance 01a22751-4cee-7a04-8e8c-906c4f6e9fe9 is retracted (seq 43)",
    ];
    assert_eq!(commands.len(), expected.len());
    for (args, want) in commands.iter().zip(expected) {
        let on_index = shown(&a, args);
        assert_eq!(on_index, shown(&b, args), "{args:?}");
        let got = match &on_index {
            (Some(0), _, out) => format!("seq {}", out["seq"]),
            (Some(2), e, _) => e
                .trim_start_matches("stancelog: error: ")
                .trim_end()
                .to_string(),
            other => format!("{other:?}"),
        };
        assert_eq!(got, want, "{args:?}");
    }
    assert_eq!(bodies(&a).len(), 46);
    assert_eq!(bodies(&a)[40..], bodies(&b)[40..]);
    // The edited line was never read by the appends; `verify` reads it.
    let o = crate::support::run_log_file(&a, &["verify"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("a.jsonl:20: field `hash`"),
        "{}",
        stderr(&o)
    );
    // The index answers as the log (times of recording aside: the copies were written apart).
    let rows = |log: &Path| {
        let args = ["positions", "--actor", "prk", "--format", "json"];
        let mut v = json(&crate::support::run_log_file(log, &args, None));
        for row in v.as_array_mut().expect("rows") {
            row.as_object_mut().expect("row").remove("recorded_at");
        }
        v
    };
    let p = rows(&a);
    assert_eq!(p, rows(&b));
    assert_eq!(p[0]["seq"], 41);
    assert_eq!(p[0]["sources"][1]["publication"], "Y");
    assert_eq!(p[1]["seq"], 21);
}
