//! Typed, complete, documented output: CSV carries every JSON field under the same (flattened)
//! names, NDJSON is the JSON objects one per line, `export` writes the same bytes to a file,
//! spreadsheet formulas are neutralised, and the shell helpers (completions, man page) work.

use serde_json::{Map, Value};

use crate::backends::on_both_backends;
use crate::support::{empty_log, json, run, run_log, seed_log, stderr, stdout};

/// The JSON objects flattened by the rule of docs/output.md: nested objects prefixed by their
/// name, lists of objects into one list per field, a list inside those `,`-joined.
fn flatten(prefix: &str, obj: &Map<String, Value>, into: &mut Map<String, Value>) {
    for (k, v) in obj {
        let name = format!("{prefix}{k}");
        match v {
            Value::Object(o) => flatten(&format!("{name}_"), o, into),
            Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() => {
                let mut fields: Map<String, Value> = Map::new();
                for item in items {
                    for (f, x) in item.as_object().unwrap() {
                        let x = match x {
                            Value::Array(inner) => Value::String(
                                inner
                                    .iter()
                                    .map(|i| i.as_str().unwrap())
                                    .collect::<Vec<_>>()
                                    .join(","),
                            ),
                            other => other.clone(),
                        };
                        let list = fields
                            .entry(format!("{name}_{f}"))
                            .or_insert(Value::Array(vec![]));
                        list.as_array_mut().unwrap().push(x);
                    }
                }
                into.extend(fields);
            }
            other => {
                into.insert(name, other.clone());
            }
        }
    }
}

/// The CSV text a JSON value is written as.
fn csv_text(v: &Value) -> String {
    let neutralised = |s: &str| match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{s}"),
        _ => s.to_string(),
    };
    match v {
        Value::Null => String::new(),
        Value::String(s) => neutralised(s),
        Value::Array(items) => {
            let text = items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.replace('\\', "\\\\").replace(';', "\\;"),
                    Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(";");
            if items.iter().all(Value::is_number) {
                text
            } else {
                neutralised(&text)
            }
        }
        other => other.to_string(),
    }
}

/// Every JSON field of every row is a CSV column of the same (flattened) name with the same
/// value, and the CSV has no column JSON lacks (a list of objects empty in every row has no
/// fields to show, so its columns are checked as empty).
fn assert_csv_carries_json(args: &[&str]) {
    let log = seed_log();
    let j = json(&run_log(
        &log,
        &[args, &["--format", "json"]].concat(),
        None,
    ));
    let c = run_log(&log, &[args, &["--format", "csv"]].concat(), None);
    assert!(c.status.success(), "{}", stderr(&c));
    let mut r = csv::Reader::from_reader(c.stdout.as_slice());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let objects = j.as_array().unwrap();
    assert_eq!(rows.len(), objects.len(), "{args:?}");
    assert!(!rows.is_empty(), "{args:?}");
    for (row, obj) in rows.iter().zip(objects) {
        let mut flat = Map::new();
        flatten("", obj.as_object().unwrap(), &mut flat);
        for (name, value) in &flat {
            let i = header.iter().position(|h| h == name);
            if i.is_none() && (value.is_null() || value.as_array().is_some_and(Vec::is_empty)) {
                // An absent object (`role`, a change's `before`) or an empty list of objects:
                // its field columns are checked empty below.
                continue;
            }
            let i = i.unwrap_or_else(|| panic!("{args:?}: JSON field `{name}` has no CSV column"));
            assert_eq!(row[i], csv_text(value), "{args:?}: column `{name}`");
        }
        for (i, name) in header.iter().enumerate() {
            if !flat.contains_key(name) {
                assert_eq!(
                    &row[i], "",
                    "{args:?}: CSV column `{name}` is not in JSON: {obj}"
                );
            }
        }
    }
}

on_both_backends! {
#[test]
fn csv_carries_every_json_field_of_every_query_with_the_same_names() {
    assert_csv_carries_json(&["positions"]);
    assert_csv_carries_json(&["positions", "--as-of", "2024-10-20"]);
    assert_csv_carries_json(&["timeline"]);
    assert_csv_carries_json(&["diff", "--from", "2024-10-01", "--to", "2024-10-25"]);
    assert_csv_carries_json(&["actors"]);
    assert_csv_carries_json(&["topics"]);
}
}

on_both_backends! {
#[test]
fn positions_carry_since_as_given_beside_its_first_day_and_precision() {
    let rows = json(&run_log(
        &seed_log(),
        &["positions", "--format", "json"],
        None,
    ));
    let kim = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["actor"] == "kim-yong-hyun" && p["topic"] == "dprk-troops-in-russia")
        .unwrap();
    assert_eq!(kim["since"], "2024-10");
    assert_eq!(kim["since_date"], "2024-10-01");
    assert_eq!(kim["since_precision"], "month");
    assert_eq!(kim["since_time"], Value::Null);
    assert_eq!(kim["output_version"], 1);
    let russia = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["actor"] == "rus")
        .unwrap();
    assert_eq!(russia["since_date"], "2024-06-19");
    assert_eq!(russia["since_precision"], "day");
}
}

on_both_backends! {
#[test]
fn ndjson_is_the_json_objects_one_per_line() {
    for args in [
        &["positions"][..],
        &["timeline"],
        &["actors"],
        &["topics"],
        &["diff", "--from", "2024-10-01", "--to", "2024-10-25"],
    ] {
        let j = json(&run_log(
            &seed_log(),
            &[args, &["--format", "json"]].concat(),
            None,
        ));
        let n = run_log(&seed_log(), &[args, &["--format", "ndjson"]].concat(), None);
        let text = stdout(&n);
        assert!(text.ends_with('\n'));
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(&lines, j.as_array().unwrap(), "{args:?}");
    }
}
}

on_both_backends! {
#[test]
fn export_writes_what_the_query_prints() {
    let dir = tempfile::tempdir().unwrap();
    for (what, flags) in [
        ("positions", &["--as-of", "2024-10-25"][..]),
        ("positions", &["--as-of", "2024-10-25", "--actor", "prk"]),
        ("timeline", &[]),
        ("timeline", &["--topic", "dprk-troops-in-russia"]),
        ("diff", &["--from", "2024-10-20", "--to", "2024-10-25"]),
        (
            "diff",
            &[
                "--from",
                "2024-10-20",
                "--to",
                "2024-10-25",
                "--actor",
                "prk",
            ],
        ),
        ("actors", &[]),
        ("topics", &[]),
    ] {
        for format in ["csv", "ndjson"] {
            let file = dir.path().join(format!("{what}{}.{format}", flags.len()));
            let mut args = vec!["export", what];
            args.extend_from_slice(flags);
            args.extend(["--format", format, "--out", file.to_str().unwrap()]);
            let o = run_log(&seed_log(), &args, None);
            assert!(o.status.success(), "{}", stderr(&o));
            let printed = run_log(
                &seed_log(),
                &[&[what][..], flags, &["--format", format]].concat(),
                None,
            );
            assert_eq!(
                std::fs::read(&file).unwrap(),
                printed.stdout,
                "{what} {format}"
            );
            let rows = printed.stdout.iter().filter(|b| **b == b'\n').count()
                - usize::from(format == "csv");
            assert!(
                stdout(&o).starts_with(&format!("wrote {rows} ")),
                "{}",
                stdout(&o)
            );
        }
    }
    // Events: one row per stored event, the stored fields flattened.
    let file = dir.path().join("events.ndjson");
    let o = run_log(
        &seed_log(),
        &[
            "export",
            "events",
            "--format",
            "ndjson",
            "--out",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        stdout(&o),
        format!(
            "wrote 40 events to {} (ndjson, output version 1)\n",
            file.display()
        )
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let first: Value = serde_json::from_str(text.lines().nth(21).unwrap()).unwrap();
    assert_eq!(first["seq"], 22);
    assert_eq!(first["type"], "stance.declared");
    assert_eq!(first["date"], "2024-10");
    assert_eq!(first["date_day"], "2024-10-01");
    assert_eq!(first["date_precision"], "month");
    assert_eq!(first["cite_via"], "Yonhap News Agency");
}
}

on_both_backends! {
/// OWASP "CSV Injection": a text cell that a spreadsheet would run as a formula is written with
/// a `'` in front; JSON keeps the text as it is.
#[test]
fn csv_cells_that_start_a_formula_are_neutralised() {
    let (_d, log) = empty_log();
    for args in [
        &[
            "add",
            "actor",
            "x1",
            "--name",
            "=HYPERLINK(\"http://evil\",\"click\")",
            "--kind",
            "person",
            "--country",
            "KOR",
            "--sector",
            "GOV",
            "--alias",
            "@SUM(A1)",
        ][..],
        &["add", "topic", "t1", "--title=-1+2", "--kind", "claim"],
        &[
            "add",
            "stance",
            "--actor",
            "x1",
            "--topic",
            "t1",
            "--stance",
            "deny",
            "--date",
            "2024",
            "--quote",
            "+cmd|' /C calc'!A0",
            "--cite-publication",
            "x",
        ],
    ] {
        let o = run_log(&log, args, None);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let c = stdout(&run_log(&log, &["positions", "--format", "csv"], None));
    let mut r = csv::Reader::from_reader(c.as_bytes());
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let row = r.records().next().unwrap().unwrap();
    let col = |n: &str| row[h.iter().position(|x| x == n).unwrap()].to_string();
    assert_eq!(col("actor_name"), "'=HYPERLINK(\"http://evil\",\"click\")");
    assert_eq!(col("topic_title"), "'-1+2");
    assert_eq!(col("quote"), "'+cmd|' /C calc'!A0");
    assert_eq!(col("polarity"), "-1", "numbers are not text");
    let a = stdout(&run_log(&log, &["actors", "--format", "csv"], None));
    assert!(a.contains(",'@SUM(A1),"), "{a}");
    let j = json(&run_log(&log, &["positions", "--format", "json"], None));
    assert_eq!(j[0]["quote"], "+cmd|' /C calc'!A0");
}
}

on_both_backends! {
#[test]
fn tables_of_actors_and_topics_are_sorted_by_the_name_shown_then_id() {
    let (_d, log) = empty_log();
    for (id, name) in [("b", "Same"), ("a", "Same"), ("c", "Alpha")] {
        let o = run_log(
            &log,
            &[
                "add",
                "actor",
                id,
                "--name",
                name,
                "--kind",
                "person",
                "--country",
                "KOR",
                "--sector",
                "GOV",
            ],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let ids: Vec<String> = json(&run_log(&log, &["actors", "--format", "json"], None))
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["actor"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["c", "a", "b"]);
    let table = stdout(&run_log(&log, &["actors"], None));
    let order: Vec<&str> = table
        .lines()
        .skip(4)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(order, ["c", "a", "b"], "{table}");
}
}

on_both_backends! {
#[test]
fn completions_and_the_man_page_need_no_log() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = run(&["completions", shell], None);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let text = stdout(&o);
        assert!(text.contains("stancelog"), "{shell}");
        assert!(
            text.contains("as-of"),
            "{shell}: the flags come from the clap definitions"
        );
    }
    let o = run(&["man"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with(".ie \\n(.g .ds Aq \\(aq") || stdout(&o).contains(".TH stancelog 1"),
        "{}",
        stdout(&o)
    );
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["man", "--dir", dir.path().to_str().unwrap()], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("stancelog.1").exists());
    assert!(dir.path().join("stancelog-positions.1").exists());
}
}

on_both_backends! {
/// Colour only where a terminal would show it: none when standard error is a pipe, and none
/// with NO_COLOR even when colour is forced (CLICOLOR_FORCE).
#[test]
fn colour_never_with_no_color_nor_into_a_pipe() {
    let with = |vars: &[(&str, &str)]| {
        let mut c = crate::support::stancelog_command();
        c.args(["positions", "--bogus"])
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE");
        for (k, v) in vars {
            c.env(k, v);
        }
        String::from_utf8(c.output().unwrap().stderr).unwrap()
    };
    assert!(!with(&[]).contains('\x1b'), "a pipe gets no colour");
    assert!(
        with(&[("CLICOLOR_FORCE", "1")]).contains('\x1b'),
        "forced colour shows (so the check above can fail)"
    );
    assert!(
        !with(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'),
        "NO_COLOR wins"
    );
}
}

on_both_backends! {
/// `--quiet`: commands that only say what they did print nothing, notes are not shown, and
/// query answers still print.
#[test]
fn quiet_silences_reports_and_notes_but_not_answers() {
    let (_d, log) = empty_log();
    let o = run_log(
        &log,
        &[
            "-q",
            "add",
            "actor",
            "a",
            "--name",
            "A",
            "--kind",
            "person",
            "--country",
            "KOR",
            "--sector",
            "GOV",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    let o = run_log(&log, &["--quiet", "actors", "--format", "csv"], None);
    assert_eq!(stdout(&o).lines().count(), 2, "the answer still prints");
    // The note on a --known-at after the newest event is left out.
    let noted = run_log(
        &seed_log(),
        &["positions", "--known-at", "2026-12-01"],
        None,
    );
    assert!(
        stderr(&noted).contains("note: --known-at"),
        "{}",
        stderr(&noted)
    );
    let quiet = run_log(
        &seed_log(),
        &["positions", "--known-at", "2026-12-01", "-q"],
        None,
    );
    assert_eq!(stderr(&quiet), "");
    assert_eq!(quiet.stdout, noted.stdout);
}
}

/// `--quiet` import with a refused row: the summary is not printed, but the refusal is an
/// error, so it prints on standard error with its file, line and reason (it printed nothing,
/// though the error said the rows were "listed above").
#[test]
fn quiet_import_still_prints_its_refused_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (_d, log) = empty_log();
    let sheet = dir.path().join("s.csv");
    std::fs::write(&sheet, "actor,date\nUSA,2024-01-01\nRUS,2024-02-30\n").unwrap();
    let mapping = crate::support::ACTOR_DATE_FLAGS;
    for format in ["table", "json"] {
        let mut args = vec![
            "-q",
            "import",
            "csv",
            sheet.to_str().unwrap(),
            "--format",
            format,
        ];
        args.extend(mapping);
        let o = run_log(&log, &args, None);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert_eq!(stdout(&o), "");
        let err = stderr(&o);
        let refused: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("stancelog: refused "))
            .collect();
        assert_eq!(
            refused,
            [format!(
                "stancelog: refused {}:3: column `date` (--date-col): date `2024-02-30`: `2024-02-30` is not a real calendar date",
                sheet.display()
            )],
            "{err}"
        );
    }
}

/// A refused row's reason quotes its cells with their control characters escaped, so each
/// refused row is one line and a cell cannot forge another line or drive the terminal (a cell
/// with a line break printed a line of its own; an escape code reached the terminal).
#[test]
fn refused_rows_print_one_line_each_whatever_their_cells_hold() {
    let dir = tempfile::tempdir().unwrap();
    let (_d, log) = empty_log();
    let sheet = dir.path().join("inj.csv");
    std::fs::write(
        &sheet,
        "actor,date\nUSA,\"2024-01-01\nstancelog: refused fake.csv:99: forged\"\nRUS,\"\x1b[31mRED\"\n",
    )
    .unwrap();
    for quiet in [false, true] {
        let mut args = vec!["import", "csv", sheet.to_str().unwrap()];
        args.extend(crate::support::ACTOR_DATE_FLAGS);
        if quiet {
            args.insert(0, "-q");
        }
        let o = run_log(&log, &args, None);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let text = if quiet { stderr(&o) } else { stdout(&o) };
        let refused: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("refused ") || l.starts_with("stancelog: refused "))
            .collect();
        assert_eq!(refused.len(), 2, "{text}");
        assert!(
            refused[0].contains("2024-01-01\\nstancelog: refused fake.csv:99: forged"),
            "{text}"
        );
        assert!(refused[1].contains("\\u{1b}[31mRED"), "{text}");
        assert!(!text.contains('\x1b'), "{text}");
    }
}

/// `--quiet`: a report and a copy only say what they wrote, so they print nothing (both
/// printed their "Wrote"/"copied" line).
#[test]
fn quiet_report_and_copy_print_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = seed_log();
    let html = dir.path().join("r.html");
    let o = run_log(
        &log,
        &["-q", "report", "--out", html.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert!(std::fs::read_to_string(&html).unwrap().contains("<html"));
    let copied = dir.path().join("copy.jsonl");
    let o = run(
        &[
            "-q",
            "copy",
            "--from",
            log.to_str().unwrap(),
            "--to",
            copied.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(
        std::fs::read(&copied).unwrap(),
        std::fs::read(&log).unwrap()
    );
}

/// Regression: `export --out` and `report --out` naming the log (or its writer record, or a
/// file in its index) wrote over the log, exit 0; they are refused, the log byte for byte
/// as it was. An output in a missing folder is named as given (it named a temporary file).
#[test]
fn an_output_that_is_the_log_or_its_files_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    std::fs::copy(seed_log(), &log).unwrap();
    assert!(run_log(&log, &["index"], None).status.success());
    let before = std::fs::read(&log).unwrap();
    let same = dir.path().join(".").join("log.jsonl");
    let index_file = dir.path().join("log.jsonl.index").join("x.html");
    let writer = dir.path().join("log.jsonl.writer");
    for (args, out) in [
        (vec!["export", "events", "--format", "ndjson"], &log),
        (vec!["export", "actors", "--format", "csv"], &same),
        (vec!["report"], &same),
        (vec!["report"], &index_file),
        (vec!["export", "topics", "--format", "csv"], &writer),
    ] {
        let out = out.to_str().unwrap();
        let mut args = args.clone();
        args.extend(["--out", out]);
        let o = run_log(&log, &args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("--out {out} is the log")),
            "{}",
            stderr(&o)
        );
    }
    assert_eq!(std::fs::read(&log).unwrap(), before);
    assert!(run_log(&log, &["verify"], None).status.success());
    let missing = dir.path().join("nodir").join("x.csv");
    let o = run_log(
        &log,
        &[
            "export",
            "actors",
            "--format",
            "csv",
            "--out",
            missing.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{}: No such file", missing.display())),
        "{}",
        stderr(&o)
    );
}

/// Regression: `report --out` to a hard link of the log wrote the page into the log (the guard
/// compares paths); an `export --out /dev/stdout` redirected to a file renamed a temporary file
/// over the `/dev/stdout` link and printed its `wrote` line into the data; a symbolic link was
/// replaced by a file. Now: a hard link gets a file of its own, standard output (here through a
/// link of our own to `/proc/self/fd/1`, as `/dev/stdout` is) is written as redirected with the
/// `wrote` line on stderr, and a link's target is replaced, the link kept.
#[test]
fn an_output_through_links_or_standard_output_leaves_the_log_and_the_links_alone() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    std::fs::copy(seed_log(), &log).unwrap();
    let before = std::fs::read(&log).unwrap();
    let hard = dir.path().join("hard.html");
    std::fs::hard_link(&log, &hard).unwrap();
    let o = run_log(&log, &["report", "--out", hard.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&log).unwrap(), before);
    assert!(
        std::fs::read_to_string(&hard)
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );

    fn csv(out: &str) -> Vec<&str> {
        vec!["export", "actors", "--format", "csv", "--out", out]
    }
    let file = dir.path().join("actors.csv");
    assert!(
        run_log(&log, &csv(file.to_str().unwrap()), None)
            .status
            .success()
    );
    let expected = std::fs::read(&file).unwrap();
    let piped = run_log(&log, &csv("-"), None);
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert_eq!(piped.stdout, expected);
    assert!(
        stderr(&piped).contains("wrote 13 actors to -"),
        "{}",
        stderr(&piped)
    );

    let stdout_link = dir.path().join("mystdout");
    std::os::unix::fs::symlink("/proc/self/fd/1", &stdout_link).unwrap();
    let redirected = dir.path().join("redirected.csv");
    let o = crate::support::stancelog_command()
        .args(["--log", log.to_str().unwrap()])
        .args(csv(stdout_link.to_str().unwrap()))
        .stdout(std::fs::File::create(&redirected).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&redirected).unwrap(), expected);
    assert!(stdout_link.symlink_metadata().unwrap().is_symlink());

    // Regression (review): a pipe reached through /dev/fd/N (`>(gzip > x.gz)`, here
    // /dev/stderr piped) was taken for a file to replace (an I/O error, or as root a file
    // renamed over the /dev link); it is written into, the confirmation on stdout.
    let o = run_log(&log, &csv("/dev/stderr"), None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(o.stderr, expected);
    assert_eq!(
        stdout(&o),
        "wrote 13 actors to /dev/stderr (csv, output version 1)\n"
    );

    let target = dir.path().join("target.csv");
    let link = dir.path().join("link.csv");
    std::fs::write(&target, "old").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(
        run_log(&log, &csv(link.to_str().unwrap()), None)
            .status
            .success()
    );
    assert!(link.symlink_metadata().unwrap().is_symlink());
    assert_eq!(std::fs::read(&target).unwrap(), expected);
    // The replaced file keeps its permissions (the new one had the umask's).
    let mode = std::fs::metadata(&target).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(std::fs::read(&log).unwrap(), before);
}

/// Two actors named "Same" (ids `b` and `a`), one named "Alpha" (id `z`); topics titled
/// "Zulu" (id `t1`) and "Alpha" (id `t2`); each actor states a stance on each topic.
const SAME_NAMES: &str = r#"{"type":"actor.registered","actor":"b","name":"Same","kind":"person","country":"KOR","sector":"GOV"}
{"type":"actor.registered","actor":"a","name":"Same","kind":"person","country":"KOR","sector":"GOV"}
{"type":"actor.registered","actor":"z","name":"Alpha","kind":"person","country":"KOR","sector":"GOV"}
{"type":"topic.registered","topic":"t1","title":"Zulu","kind":"policy"}
{"type":"topic.registered","topic":"t2","title":"Alpha","kind":"policy"}
{"type":"stance.declared","actor":"a","topic":"t1","stance":"support","date":"2024-10-01","cite":{"publication":"P"}}
{"type":"stance.declared","actor":"b","topic":"t1","stance":"oppose","date":"2024-10-02","cite":{"publication":"P"}}
{"type":"stance.declared","actor":"z","topic":"t1","stance":"support","date":"2024-10-03","cite":{"publication":"P"}}
{"type":"stance.declared","actor":"a","topic":"t2","stance":"neutral","date":"2024-10-04","cite":{"publication":"P"}}
{"type":"stance.declared","actor":"b","topic":"t2","stance":"support","date":"2024-10-05","cite":{"publication":"P"}}
{"type":"stance.declared","actor":"z","topic":"t2","stance":"oppose","date":"2024-10-06","cite":{"publication":"P"}}
"#;

/// By actor name, actor id, topic title, topic id.
const SAME_NAMES_ORDER: [(&str, &str); 6] = [
    ("z", "t2"),
    ("z", "t1"),
    ("a", "t2"),
    ("a", "t1"),
    ("b", "t2"),
    ("b", "t1"),
];

on_both_backends! {
#[test]
fn positions_and_diffs_list_actors_by_name_then_id_in_every_format() {
    let (dir, log) = empty_log();
    let o = run_log(&log, &["append", "-"], Some(SAME_NAMES.as_bytes()));
    assert!(o.status.success(), "{}", stderr(&o));
    let pairs = |v: &Value| -> Vec<(String, String)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let s = |k: &str| r[k].as_str().unwrap().to_string();
                (s("actor"), s("topic"))
            })
            .collect()
    };
    let want: Vec<(String, String)> = SAME_NAMES_ORDER
        .iter()
        .map(|(a, t)| (a.to_string(), t.to_string()))
        .collect();
    // The whole log, and a filtered query (read through the index's sparse history).
    let whole: &[&str] = &[];
    let filtered: &[&str] = &["--actor", "a", "--actor", "b", "--actor", "z"];
    for scope in [whole, filtered] {
        let query = |cmd: &[&str], format: &str| {
            let mut args = cmd.to_vec();
            args.extend_from_slice(scope);
            args.extend_from_slice(&["--format", format]);
            let o = run_log(&log, &args, None);
            assert!(o.status.success(), "{}", stderr(&o));
            stdout(&o)
        };
        let positions: &[&str] = &["positions"];
        let diff: &[&str] = &["diff", "--from", "2024-09-30", "--to", "2024-10-31"];
        let p: Value = serde_json::from_str(&query(positions, "json")).unwrap();
        assert_eq!(pairs(&p), want);
        let d: Value = serde_json::from_str(&query(diff, "json")).unwrap();
        assert_eq!(pairs(&d), want);
        let nd: Vec<Value> = query(positions, "ndjson")
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(pairs(&Value::Array(nd)), want);
        let csv = query(positions, "csv");
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let head = reader.headers().unwrap().clone();
        let col = |n: &str| head.iter().position(|h| h == n).unwrap();
        let rows: Vec<(String, String)> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[col("actor")].to_string(), r[col("topic")].to_string())
            })
            .collect();
        assert_eq!(rows, want);
        // The table shows names; its seq column tells the two actors named Same apart.
        let table = query(positions, "table");
        let seqs: Vec<&str> = table
            .lines()
            .skip(4)
            .map(|l| l.split_whitespace().rev().nth(1).unwrap())
            .collect();
        assert_eq!(seqs, ["11", "8", "9", "6", "10", "7"], "{table}");
    }
    // An export writes the same order.
    let out = dir.path().join("p.ndjson");
    let o = run_log(
        &log,
        &[
            "export",
            "positions",
            "--format",
            "ndjson",
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let nd: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(pairs(&Value::Array(nd)), want);
}
}

/// Regression: `copy --help` named fields its JSON does not have (`from_seq`, `to_seq`).
#[test]
fn copy_json_has_the_fields_its_help_and_the_output_document_name() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("copy.jsonl");
    let o = run(
        &[
            "copy",
            "--from",
            seed_log().to_str().unwrap(),
            "--to",
            to.to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = ["target_had", "copied", "seq_last", "head_hash"];
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(
        (v["target_had"].as_u64(), v["copied"].as_u64()),
        (Some(0), Some(40))
    );
    let help = stdout(&run(&["copy", "--help"], None)).replace(['\n', ' '], "");
    assert!(
        help.contains("(target_had,copied,seq_last,head_hash)"),
        "{help}"
    );
    let doc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/output.md");
    let doc = std::fs::read_to_string(doc).unwrap();
    assert!(doc.contains("| `copy` | `{target_had, copied, seq_last, head_hash}`"));
}

/// The rows of `args` on the seed log as flat objects by the rule of docs/output.md.
fn flat_rows(log: &std::path::Path, args: &[&str]) -> Vec<Map<String, Value>> {
    let full = json(&run_log(log, &[args, &["--format", "json"]].concat(), None));
    full.as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let mut flat = Map::new();
            flatten("", o.as_object().unwrap(), &mut flat);
            flat
        })
        .collect()
}

/// A flat row's value of a column: an absent object's fields and an empty list's are null
/// and `[]` (the flattening above leaves them out).
fn value_of(flat: &Map<String, Value>, name: &str) -> Value {
    match flat.get(name) {
        Some(v) => v.clone(),
        None if name.starts_with("corrections_") || name.starts_with("sources_") => {
            Value::Array(vec![])
        }
        None => Value::Null,
    }
}

on_both_backends! {
#[test]
fn columns_choose_and_order_the_fields_of_json_ndjson_csv_and_tables() {
    // Given the seed log and its positions in full,
    let log = seed_log();
    let list = "actor,topic,stance,since_date,seq,event_id,role_title,corrections_seq";
    let names: Vec<&str> = list.split(',').collect();
    let full = flat_rows(&log, &["positions"]);
    // when JSON with --columns is asked for,
    let o = run_log(&log, &["positions", "--format", "json", "--columns", list], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let picked: Vec<Map<String, Value>> = serde_json::from_str(&text).unwrap();
    // then each row is a flat object of just those fields, with the full row's values,
    assert_eq!(picked.len(), full.len());
    for (p, f) in picked.iter().zip(&full) {
        assert_eq!(p.len(), names.len(), "{p:?}");
        for n in &names {
            assert_eq!(p[*n], value_of(f, n), "column {n}");
        }
    }
    // in the order named (the first object's keys as written),
    let first = &text[..text.find('}').unwrap()];
    let at: Vec<usize> = names
        .iter()
        .map(|n| first.find(&format!("\"{n}\": ")).unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{first}");
    // with real values: the first position is Cho Tae-yul's,
    assert_eq!(picked[0]["actor"], "cho-tae-yul");
    assert!(picked[0]["since_date"].as_str().unwrap().starts_with("2024-"));
    assert!(picked[0]["seq"].as_u64().unwrap() > 0);
    assert!(picked.iter().all(|p| p["corrections_seq"].is_array()));
    assert!(picked.iter().any(|p| !p["corrections_seq"].as_array().unwrap().is_empty()));
    // NDJSON is the same objects, one compact line each,
    let nd = stdout(&run_log(&log, &["positions", "--format", "ndjson", "--columns", list], None));
    let lines: Vec<&str> = nd.lines().collect();
    assert_eq!(lines.len(), picked.len());
    for (line, p) in lines.iter().zip(&picked) {
        assert_eq!(&serde_json::from_str::<Map<String, Value>>(line).unwrap(), p);
    }
    assert!(lines[0].starts_with("{\"actor\":\"cho-tae-yul\",\"topic\":"), "{}", lines[0]);
    // CSV has just those columns, valued as the full CSV's,
    let all_csv = stdout(&run_log(&log, &["positions", "--format", "csv"], None));
    let some_csv = stdout(&run_log(&log, &["positions", "--format", "csv", "--columns", list], None));
    let mut all = csv::Reader::from_reader(all_csv.as_bytes());
    let mut some = csv::Reader::from_reader(some_csv.as_bytes());
    let header: Vec<String> = all.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(some.headers().unwrap().iter().collect::<Vec<_>>(), names);
    for (a, s) in all.records().zip(some.records()) {
        let (a, s) = (a.unwrap(), s.unwrap());
        for (i, n) in names.iter().enumerate() {
            let j = header.iter().position(|h| h == n).unwrap();
            assert_eq!(&s[i], &a[j], "column {n}");
        }
    }
    // and a table shows them under their names, one line per row after the rule.
    let t = stdout(&run_log(&log, &["positions", "--columns", "actor,stance,seq"], None));
    let mut t_lines = t.lines();
    let head: Vec<&str> = t_lines.next().unwrap().split_whitespace().collect();
    assert_eq!(head, ["actor", "stance", "seq"]);
    assert!(t_lines.next().unwrap().starts_with("---"));
    let first_row: Vec<&str> = t_lines.next().unwrap().split_whitespace().collect();
    assert_eq!(first_row[0], "cho-tae-yul");
    assert_eq!(first_row[2], picked[0]["seq"].to_string());
    assert_eq!(t_lines.count(), picked.len() - 1);
}
}

on_both_backends! {
#[test]
fn columns_work_for_diff_timeline_actors_topics_and_exports() {
    let log = seed_log();
    for (args, list) in [
        (
            vec!["diff", "--from", "2024-10-01", "--to", "2024-10-25"],
            "actor,topic,change,before_stance,before_since,after_stance,after_seq",
        ),
        (vec!["timeline"], "status,superseded_by,actor,since,seq,sources_publication"),
        (vec!["timeline"], "topic_title,actor_name,stance"),
        (vec!["positions"], "actor_name,sources_seq,topic_title,seq"),
        (vec!["positions"], "seq,actor"),
        // The quote and citation without any `sources_*` column: copied for the columns
        // that read them alone (`Needs::texts` without `Needs::sources`).
        (vec!["positions"], "quote,cite_publication,cite_url,cite_title,actor,corrections_seq"),
        (
            vec!["diff", "--from", "2024-10-01", "--to", "2024-10-25"],
            "actor,before_quote,after_quote,after_cite_url,after_cite_publication",
        ),
        (vec!["actors"], "name,actor,stances,aliases"),
        (vec!["topics"], "title,issues,stances,output_version"),
    ] {
        let full = flat_rows(&log, &args);
        let o = run_log(&log, &[&args[..], &["--format", "json", "--columns", list]].concat(), None);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let picked: Vec<Map<String, Value>> = serde_json::from_str(&stdout(&o)).unwrap();
        assert!(!picked.is_empty(), "{args:?}");
        assert_eq!(picked.len(), full.len(), "{args:?}");
        for (p, f) in picked.iter().zip(&full) {
            let keys: Vec<&str> = p.keys().map(String::as_str).collect();
            let mut want: Vec<&str> = list.split(',').collect();
            want.sort_unstable();
            assert_eq!(keys, want, "{args:?}");
            for n in list.split(',') {
                assert_eq!(p[n], value_of(f, n), "{args:?}: column {n}");
            }
        }
        // The export writes the same objects (to standard output: `--out -`), and CSV those columns.
        let what = if args[0] == "diff" { vec!["diff", "--from", "2024-10-01", "--to", "2024-10-25"] } else { vec![args[0]] };
        let e = run_log(
            &log,
            &[&["export"][..], &what, &["--format", "ndjson", "--out", "-", "--columns", list]].concat(),
            None,
        );
        assert!(e.status.success(), "{args:?}: {}", stderr(&e));
        let exported: Vec<Map<String, Value>> = stdout(&e)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(exported, picked, "{args:?}");
        let c = run_log(
            &log,
            &[&["export"][..], &what, &["--format", "csv", "--out", "-", "--columns", list]].concat(),
            None,
        );
        assert_eq!(stdout(&c).lines().next().unwrap(), list, "{args:?}");
    }
    // A real value: the topics' own `output_version` when named.
    let o = run_log(&log, &["topics", "--format", "json", "--columns", "output_version,topic"], None);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v[0]["output_version"], 1);
}
}

on_both_backends! {
#[test]
fn an_unknown_or_repeated_column_is_a_usage_error_an_unknown_one_listing_the_columns() {
    let log = seed_log();
    for (args, list, says) in [
        (vec!["positions"], "actor,date", "`date` is not a column of this answer"),
        (vec!["positions"], "actor,actor", "`actor` is named twice"),
        (vec!["timeline"], "since_day", "`since_day` is not a column of this answer"),
        (vec!["export", "actors", "--format", "csv", "--out", "-"], "actor,title", "`title` is not a column of this answer"),
        // Regression (a new user's tryout): these said "`` is not a column", with no hint.
        (vec!["positions"], "actor,,topic", "an empty name (two commas in a row, or one at an end); the columns of this answer are: output_version,"),
        (vec!["positions"], "", "no column named; the columns of this answer are: output_version,"),
        (vec!["positions"], "name", "`name` is not a column of this answer (did you mean `actor_name`?); its columns are: "),
    ] {
        let o = run_log(&log, &[&args[..], &["--columns", list]].concat(), None);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert!(e.contains("--columns: ") && e.contains(says), "{e}");
        assert!(o.stdout.is_empty(), "{args:?}: nothing is written");
    }
    let e = stderr(&run_log(&log, &["positions", "--columns", "x"], None));
    assert!(e.contains("its columns are: output_version,actor,actor_name,role_title,"), "{e}");
    assert!(e.contains(",seq,event_id,recorded_at"), "{e}");
}
}

on_both_backends! {
#[test]
fn every_column_named_is_the_full_csv_and_json_without_columns_stays_nested() {
    let log = seed_log();
    for args in [
        vec!["positions"],
        vec!["timeline"],
        vec!["diff", "--from", "2024-10-01", "--to", "2024-10-25"],
        vec!["actors"],
        vec!["topics"],
    ] {
        let full = stdout(&run_log(&log, &[&args[..], &["--format", "csv"]].concat(), None));
        let header = full.lines().next().unwrap().to_string();
        let named = stdout(&run_log(&log, &[&args[..], &["--format", "csv", "--columns", &header]].concat(), None));
        assert_eq!(named, full, "{args:?}");
        // JSON without --columns keeps its version (its nested objects: checked on positions below).
        let j = json(&run_log(&log, &[&args[..], &["--format", "json"]].concat(), None));
        assert_eq!(j[0]["output_version"], 1, "{args:?}");
    }
    let j = json(&run_log(&log, &["positions", "--format", "json"], None));
    assert!(j[0]["cite"].is_object() && j[0]["sources"].is_array());
}
}

on_both_backends! {
#[test]
fn every_column_of_a_long_answer_holds_the_full_rows_value_in_json() {
    // Given the seed log, and for each long answer (whole, and of one actor, which the index
    // answers from its posting lists) every one of its columns named,
    let log = seed_log();
    for args in [
        vec!["positions"],
        vec!["positions", "--actor", "prk"],
        vec!["timeline"],
        vec!["timeline", "--actor", "prk"],
    ] {
        let csv = stdout(&run_log(&log, &[&args[..], &["--format", "csv"]].concat(), None));
        let all = csv.lines().next().unwrap().to_string();
        // (and all but the topic's title: a timeline then reads no topic's registration)
        let untitled: Vec<&str> = all.split(',').filter(|c| *c != "topic_title").collect();
        let full = flat_rows(&log, &args);
        for list in [all.clone(), untitled.join(",")] {
            let o = run_log(&log, &[&args[..], &["--format", "json", "--columns", &list]].concat(), None);
            assert!(o.status.success(), "{args:?}: {}", stderr(&o));
            let picked: Vec<Map<String, Value>> = serde_json::from_str(&stdout(&o)).unwrap();
            // then each row's value of each column is the full row's, flattened.
            assert!(picked.len() > 1, "{args:?}");
            assert_eq!(picked.len(), full.len(), "{args:?}");
            for (p, f) in picked.iter().zip(&full) {
                assert_eq!(p.len(), list.split(',').count(), "{args:?}");
                for n in list.split(',') {
                    assert_eq!(p[n], value_of(f, n), "{args:?}: column {n}");
                }
            }
        }
    }
}
}

/// An empty or blank `--log ''` or `STANCELOG_LOG=` is no log given (it was taken for a log
/// named "", with a suggestion to `init` it).
#[test]
fn an_empty_log_value_is_no_log_given() {
    let want = "stancelog: error: no log given: pass --log PATH|URL or set STANCELOG_LOG\n";
    let o = run(&["--log", "", "actors"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(stderr(&o), want);
    for blank in ["", "  "] {
        let o = crate::support::stancelog_command()
            .arg("actors")
            .env("STANCELOG_LOG", blank)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert_eq!(stderr(&o), want);
    }
}

/// Free text may begin with a dash: a quote (`add stance`, `cite`) and a reason (`correct`,
/// `retract`) are taken as written ("-5 troops" was refused as an unexpected argument).
#[test]
fn a_quote_or_a_reason_may_begin_with_a_dash() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("l.jsonl");
    std::fs::copy(seed_log(), &log).unwrap();
    let o = run_log(
        &log,
        &[
            "add",
            "stance",
            "--actor",
            "prk",
            "--topic",
            "dprk-troops-in-russia",
            "--stance",
            "deny",
            "--date",
            "2024-10-26",
            "--quote",
            "-5 troops, not more",
            "--cite-publication",
            "KCNA",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run_log(
        &log,
        &["retract", "41", "--reason", "-- withdrawn by KCNA"],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let last: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .rev()
        .take(2)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(last[1]["quote"], "-5 troops, not more");
    assert_eq!(last[0]["reason"], "-- withdrawn by KCNA");
}
