//! Parquet read back for real: DuckDB, pyarrow and pandas (through `tests/parquet/check.py`)
//! read each export with the documented types, and its values equal the JSON output of the
//! same query. Behind cargo feature `duckdb`: it needs `python3` with `duckdb`, `pyarrow` and
//! `pandas` installed (`.ci/run` installs them).

use std::path::{Path, PathBuf};

use stancelog::export::columns::{self, Column, Kind};

use crate::support::{empty_log, run_log, seed_log, stderr};

fn kinds<R>(cols: &[Column<R>]) -> String {
    let pairs: Vec<(String, &str)> = cols
        .iter()
        .map(|c| {
            let k = match c.kind {
                Kind::Text => "text",
                Kind::Dict => "dict",
                Kind::Int8 => "int8",
                Kind::Int64 => "int64",
                Kind::Bool => "bool",
                Kind::Date => "date",
                Kind::Timestamp => "timestamp",
                Kind::TextList => "text_list",
                Kind::IntList => "int_list",
            };
            (c.name.clone(), k)
        })
        .collect();
    serde_json::to_string(&pairs).unwrap()
}

/// Exports `what` (with `flags`) from `log` as Parquet and NDJSON and has check.py compare them.
fn check(log: &Path, what: &str, flags: &[&str], kinds_json: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = |ext: &str| -> PathBuf { dir.path().join(format!("{what}.{ext}")) };
    for format in ["parquet", "ndjson"] {
        let out = file(format);
        let args = [
            &["export", what][..],
            flags,
            &["--format", format, "--out", out.to_str().unwrap()],
        ]
        .concat();
        let o = run_log(log, &args, None);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
    std::fs::write(file("kinds.json"), kinds_json).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parquet/check.py");
    let o = std::process::Command::new("python3")
        .arg(script)
        .arg(file("parquet"))
        .arg(file("ndjson"))
        .arg(file("kinds.json"))
        .output()
        .expect("python3");
    assert!(
        o.status.success(),
        "{what} {flags:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn check_all(log: &Path, diff: &[&str]) {
    check(log, "positions", &[], &kinds(&columns::positions()));
    check(log, "timeline", &[], &kinds(&columns::timeline()));
    check(log, "diff", diff, &kinds(&columns::diff()));
    check(log, "actors", &[], &kinds(&columns::actors()));
    check(log, "topics", &[], &kinds(&columns::topics()));
    check(log, "events", &[], &kinds(&columns::events()));
}

/// The seed log: partial dates, corrections, roles, relayed sources, alias-free.
#[test]
fn seed_log_exports_read_back_with_types_and_values_in_duckdb_pyarrow_and_pandas() {
    check_all(&seed_log(), &["--from", "2024-10-01", "--to", "2024-10-25"]);
    check(
        &seed_log(),
        "positions",
        &[
            "--as-of",
            "2024-10-22",
            "--known-at",
            "2026-11-29T12:39:29.262679Z",
        ],
        &kinds(&columns::positions()),
    );
}

/// UN votes (roll-call ids, sessions, issue lists, important flags) and a stance stated with a
/// time of day, cited twice and retracted.
#[test]
fn votes_times_and_lists_read_back_with_types_and_values() {
    let (_d, log) = empty_log();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/unvotes-mini");
    // The fixture holds rows the importer refuses on purpose (exit 2); the rest is appended.
    let o = run_log(&log, &["import", "unvotes", data.to_str().unwrap()], None);
    assert!(stderr(&o).contains("row(s) refused"), "{}", stderr(&o));
    for args in [
        &[
            "add", "topic", "t1", "--title", "A claim", "--kind", "claim", "--issue", "x;y",
        ][..],
        &[
            "add",
            "stance",
            "--actor",
            "USA",
            "--topic",
            "t1",
            "--stance",
            "deny",
            "--date",
            "2024-10-21T23:30:00+09:00",
            "--quote",
            "a;b\\c",
            "--cite-publication",
            "P",
            "--cite-published",
            "2024-10",
        ],
        &[
            "add",
            "stance",
            "--actor",
            "USA",
            "--topic",
            "t1",
            "--stance",
            "affirm",
            "--date",
            "2024",
            "--cite-publication",
            "Q",
        ],
    ] {
        let o = run_log(&log, args, None);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
    let last = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .count()
        .to_string();
    for args in [
        &[
            "cite",
            last.as_str(),
            "--cite-publication",
            "R",
            "--quote",
            "again",
        ][..],
        &[
            "correct",
            last.as_str(),
            "--stance",
            "doubt",
            "--reason",
            "misread",
        ],
    ] {
        let o = run_log(&log, args, None);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
    check_all(&log, &["--from", "1946-01-01", "--to", "2030-01-01"]);
}

/// `--columns` writes just the columns named, typed as without it (the kinds expected are
/// those `columns::select` gives, as the CLI's; the order is checked in output.rs), and its
/// NDJSON the same values as flat objects.
#[test]
fn chosen_columns_read_back_with_their_types_and_values() {
    let list = "seq,actor,since_date,recorded_at,sources_seq,polarity,stance,role_title";
    let names: Vec<String> = list.split(',').map(String::from).collect();
    let cols = columns::select(columns::positions(), &names).unwrap();
    check(
        &seed_log(),
        "positions",
        &["--columns", list],
        &kinds(&cols),
    );
    let cols = columns::select(columns::topics(), &["issues".into(), "important".into()]);
    check(
        &seed_log(),
        "topics",
        &["--columns", "issues,important"],
        &kinds(&cols.unwrap()),
    );
}
