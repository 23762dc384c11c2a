//! What a new user ran into: bad input and odd outputs found by trying the product from a fresh
//! clone, each pinned with the value it must give.

use std::os::unix::fs::FileTypeExt;
use std::process::Command;

use crate::support::{json, run_log, seed_log, stderr, stdout};

/// `export --out` on something that is not a regular file (here a named pipe; the same holds for
/// `/dev/stdout` or `/dev/full`) writes into it: it used to write a file beside it and rename
/// that over it, which replaced the pipe (or, run as root, the device) with a regular file and
/// reported success even where writing to the device would have failed.
#[test]
fn export_into_a_named_pipe_writes_into_the_pipe_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("rows.ndjson");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).expect("read the pipe"))
    };
    let args = [
        "export",
        "positions",
        "--as-of",
        "2024-10-25",
        "--format",
        "ndjson",
    ];
    let o = run_log(
        &seed_log(),
        &[&args[..], &["--out", fifo.to_str().unwrap()]].concat(),
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the named pipe was replaced: {kind:?}");
    let through_pipe = reader.join().unwrap();

    let file = dir.path().join("rows-file.ndjson");
    let o = run_log(
        &seed_log(),
        &[&args[..], &["--out", file.to_str().unwrap()]].concat(),
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!(
            "wrote 15 positions to {} (ndjson, output version 1)\n",
            file.display()
        )
    );
    let in_file = std::fs::read(&file).unwrap();
    assert_eq!(
        String::from_utf8(in_file.clone()).unwrap().lines().count(),
        15
    );
    assert_eq!(through_pipe, in_file);
}

/// A `country` is checked against ISO 3166 when an event is appended or added, as the
/// importers check it, not only for its shape: `ABC` (three capital letters, no country) used
/// to be stored.
#[test]
fn a_country_code_that_is_no_iso_code_is_refused_by_append_and_add() {
    let (_dir, log) = crate::support::empty_log();
    let before = std::fs::read(&log).unwrap();
    let batch = concat!(
        r#"{"type":"actor.registered","actor":"fr","name":"France","kind":"state","country":"FRA","sector":"GOV"}"#,
        "\n",
        r#"{"type":"actor.registered","actor":"abc","name":"Nowhere","kind":"state","country":"ABC","sector":"GOV"}"#,
        "\n"
    );
    let o = run_log(&log, &["append"], Some(batch.as_bytes()));
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "stancelog: error: -:2: field `country`: `ABC` is not an ISO 3166-1 alpha-3 code, an ISO 3166-3 former code, IGO, NGO, or a user-assigned code (XAA-XZZ and the other ISO ranges)\n"
    );
    assert_eq!(
        std::fs::read(&log).unwrap(),
        before,
        "nothing of the batch appended"
    );

    let add = |id: &str, country: &str| {
        let args = [
            "--name",
            "X",
            "--kind",
            "state",
            "--sector",
            "GOV",
            "--country",
            country,
        ];
        run_log(&log, &[&["add", "actor", id][..], &args[..]].concat(), None)
    };
    let o = add("frn", "FRN");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("stancelog: error: --country: `FRN` is not an ISO 3166-1 alpha-3"),
        "{}",
        stderr(&o)
    );
    // ISO's former codes, the non-state codes and the user-assigned ranges stay accepted.
    for (id, ok) in [("yug", "YUG"), ("un", "IGO"), ("kosovo", "XKX")] {
        let o = add(id, ok);
        assert!(o.status.success(), "{ok}: {}", stderr(&o));
    }
    let o = run_log(&log, &["verify"], None);
    assert!(stdout(&o).starts_with("ok: 3 events,"), "{}", stdout(&o));
}

/// `correct` with no field to correct names no flag that does not exist (it used to say
/// `--type:`).
#[test]
fn a_correction_without_fields_names_no_type_flag() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("seed.jsonl");
    std::fs::copy(seed_log(), &log).unwrap();
    let o = run_log(&log, &["correct", "25", "--reason", "nothing"], None);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "stancelog: error: a correction must set at least one of: actor, topic, stance, date, quote, cite, event, instrument\n"
    );
}

/// Regression (rt30, minor): `correct` setting a stance to the values it already has was
/// appended. Now it is refused (exit 2), the log unchanged; a log that holds such a correction,
/// appended before, is still read.
#[test]
fn a_correction_that_changes_nothing_is_refused_and_an_old_one_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("seed.jsonl");
    std::fs::copy(seed_log(), &log).unwrap();
    let before = std::fs::read(&log).unwrap();
    let o = run_log(&log, &["positions", "--format", "json"], None);
    let stance = json(&o)
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["seq"] == 25)
        .map(|p| p["stance"].as_str().unwrap().to_string())
        .unwrap();
    let o = run_log(
        &log,
        &["correct", "25", "--stance", &stance, "--reason", "same"],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let id = stderr(&o)
        .split("stance ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: error: SEQ|ID: the correction changes nothing: stance {id} already has these values\n"
        )
    );
    assert_eq!(std::fs::read(&log).unwrap(), before);
    // A log of schema 1 (records without hashes, written here by hand) holding one.
    let old = dir.path().join("old.jsonl");
    let at = "\"recorded_at\":\"2026-11-29T12:36:24.672698Z\"";
    let stance = "01a2274e-7be0-71a3-a5e8-82abf993ac5b";
    std::fs::write(
        &old,
        format!(
            "{{\"schema\":1,\"seq\":1,\"id\":\"01a2274e-7be0-7bc6-8ae1-4948ac77b4ba\",{at},\"type\":\"actor.registered\",\"actor\":\"fra\",\"name\":\"France\",\"kind\":\"state\",\"country\":\"FRA\",\"sector\":\"GOV\"}}\n\
             {{\"schema\":1,\"seq\":2,\"id\":\"01a2274e-7be0-7762-9345-0bd04b11d30d\",{at},\"type\":\"topic.registered\",\"topic\":\"t1\",\"title\":\"T\",\"kind\":\"policy\"}}\n\
             {{\"schema\":1,\"seq\":3,\"id\":\"{stance}\",{at},\"type\":\"stance.declared\",\"actor\":\"fra\",\"topic\":\"t1\",\"stance\":\"support\",\"date\":\"2024-01-01\",\"cite\":{{\"publication\":\"P\"}}}}\n\
             {{\"schema\":1,\"seq\":4,\"id\":\"01a2274e-7be0-7112-85d7-71e6461ada13\",{at},\"type\":\"stance.corrected\",\"target\":\"{stance}\",\"stance\":\"support\",\"reason\":\"x\"}}\n"
        ),
    )
    .unwrap();
    let o = run_log(&old, &["verify"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("ok: 4 events,"), "{}", stdout(&o));
    let o = run_log(
        &old,
        &[
            "positions",
            "--format",
            "csv",
            "--columns",
            "actor,stance,corrections_seq",
        ],
        None,
    );
    assert_eq!(stdout(&o), "actor,stance,corrections_seq\nfra,support,4\n");
}

/// The flags `import csv` runs with in the sheet tests below: who, motion, pos, when.
const SHEET_FLAGS: [&str; 11] = [
    "--actor-col",
    "who",
    "--topic-col",
    "motion",
    "--stance-col",
    "pos",
    "--date-col",
    "when",
    "--register",
    "--actor-country",
    "XXX",
];

/// Given a sheet with `text`, when `import csv` runs on a new log with [`SHEET_FLAGS`] and
/// `more`, then: its exit status, stdout and stderr (the temporary folder's path as `DIR`).
fn import_sheet(text: &[u8], more: &[&str]) -> (Option<i32>, String, String) {
    let (dir, log) = crate::support::empty_log();
    let sheet = dir.path().join("sheet.csv");
    std::fs::write(&sheet, text).unwrap();
    let args = [
        &["import", "csv", sheet.to_str().unwrap()],
        &SHEET_FLAGS[..],
        more,
    ]
    .concat();
    let o = run_log(&log, &args, None);
    let path = dir.path().to_str().unwrap();
    let clean = |s: String| s.replace(path, "DIR");
    (o.status.code(), clean(stdout(&o)), clean(stderr(&o)))
}

/// A bad `--date-format` is refused once, before any row is read, naming the flag: it used to
/// be tried on every row, each refused with the same parse error. A format without a year too:
/// every row would be refused for want of one.
#[test]
fn a_bad_date_format_is_refused_once_up_front_naming_the_flag() {
    let text = b"who,motion,pos,when\nann,t1,support,02/01/2024\nbob,t1,oppose,03/01/2024\n";
    let (code, out, err) = import_sheet(text, &["--date-format", "%d/%m/%Q"]);
    assert_eq!(code, Some(2));
    assert_eq!(out, "");
    assert_eq!(
        err,
        "stancelog: error: --date-format: `%d/%m/%Q`: %Q is not supported; a date format takes %Y %m %d %e %b %B %h %a %A, times %H %k %I %l %M %S %p %P %f %.f %T %R, offsets %z %:z, %F, %n %t %%\n"
    );
    let (code, _, err) = import_sheet(text, &["--date-format", "%d/%m"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        err,
        "stancelog: error: --date-format: `%d/%m`: gives no year, so no row could be read; write %Y (the year in full)\n"
    );
}

/// A row with fewer or more fields than the header is refused at its physical line (CRLF line
/// ends, a quoted value over two lines before it); the other rows are imported.
#[test]
fn ragged_rows_are_refused_at_their_physical_line() {
    let text = b"who,motion,pos,when\r\nann,\"t\r\n1\",support,2024-01-02\r\nbob,t1,oppose\r\ncid,t1,support,2024-01-03,extra\r\ndan,t1,support,2024-01-04\r\n";
    let (code, out, err) = import_sheet(text, &["--slug-ids"]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        out,
        "imported: 6 event(s) appended (0 citation(s), 0 correction(s)), 0 already present, 0 skipped, 2 row(s) refused\n\
         refused DIR/sheet.csv:4: has 3 fields where the header has 4\n\
         refused DIR/sheet.csv:5: has 5 fields where the header has 4\n"
    );
    assert_eq!(
        err,
        "stancelog: error: 2 row(s) refused (listed above); the other rows were imported (6 event(s) appended)\n"
    );
}

/// Without a header, every row must have the first row's width: a shorter or longer row is
/// refused at its physical line (CRLF line ends, a quoted value over two lines before it),
/// naming both widths; the other rows are imported. Before, such rows were mapped as they were.
#[test]
fn headerless_rows_of_another_width_than_the_first_are_refused() {
    let text = b"ann,\"t\r\n1\",support,2024-01-02\r\nbob,t1,oppose\r\ncid,t1,support,2024-01-03,extra\r\ndan,t1,support,2024-01-04\r\n";
    let (dir, log) = crate::support::empty_log();
    let sheet = dir.path().join("sheet.csv");
    std::fs::write(&sheet, text).unwrap();
    let cols = [
        "--actor-col",
        "1",
        "--topic-col",
        "2",
        "--stance-col",
        "3",
        "--date-col",
        "4",
    ];
    let more = [
        "--no-header",
        "--slug-ids",
        "--register",
        "--actor-country",
        "XXX",
    ];
    let args = [
        &["import", "csv", sheet.to_str().unwrap()][..],
        &cols,
        &more,
    ]
    .concat();
    let o = run_log(&log, &args, None);
    let clean = |s: String| s.replace(dir.path().to_str().unwrap(), "DIR");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        clean(stdout(&o)),
        "imported: 6 event(s) appended (0 citation(s), 0 correction(s)), 0 already present, 0 skipped, 2 row(s) refused\n\
         refused DIR/sheet.csv:3: has 3 fields where the first row (line 1) has 4, and there is no header\n\
         refused DIR/sheet.csv:4: has 5 fields where the first row (line 1) has 4, and there is no header\n"
    );
}

/// A quoted value never closed swallows the rest of the file into one field: the import is
/// refused at the row where it begins, naming the file and the physical line.
#[test]
fn an_unterminated_quote_is_an_error_at_the_line_where_it_begins() {
    let text = b"who,motion,pos,when\r\nann,t1,support,2024-01-02\r\nbob,\"t1,oppose,2024-01-02\r\ncid,t1,support,2024-01-03\r\n";
    let (code, _, err) = import_sheet(text, &[]);
    assert_eq!(code, Some(2));
    assert_eq!(
        err,
        "stancelog: error: DIR/sheet.csv:3: a quoted value that begins in this row is never closed (no closing `\"`): the rest of the file, to line 4, would be read as one value\n"
    );
}

/// An empty file and a header without rows each get a message of their own, not a complaint
/// about missing columns or an empty summary.
#[test]
fn an_empty_sheet_or_a_header_alone_is_named_as_such() {
    let (code, _, err) = import_sheet(b"", &[]);
    assert_eq!(code, Some(2));
    assert_eq!(
        err,
        "stancelog: error: DIR/sheet.csv: the file is empty: no header and no rows\n"
    );
    let (code, _, err) = import_sheet(b"who,motion,pos,when\r\n", &[]);
    assert_eq!(code, Some(2));
    assert_eq!(
        err,
        "stancelog: error: DIR/sheet.csv:1: no rows: the file holds only a header\n"
    );
}

/// When every row is refused, the summary says nothing was appended (it used to say "the rest
/// was appended").
#[test]
fn a_sheet_whose_every_row_is_refused_says_nothing_was_appended() {
    let text = b"who,motion,pos,when\nann,t1,maybe,2024-01-02\n";
    let (code, _, err) = import_sheet(text, &[]);
    assert_eq!(code, Some(2));
    assert_eq!(
        err,
        "stancelog: error: 1 row(s) refused (listed above); nothing was appended\n"
    );
}

/// Malformed CSV (here a field that is not UTF-8) is reported at its physical line, as an
/// editor numbers it: in a sheet saved with CR line ends (old Mac spreadsheets), with a quoted
/// value over two lines before it. The csv reader's own count sees only `\n` and said line 1.
#[test]
fn malformed_csv_is_reported_at_its_physical_line() {
    let text = b"who,motion,pos,when\rann,t1,\"support\r\",2024-01-02\rbob,t1,oppose,2024-01-02\r\xff\xfe,t1,oppose,2024-01-02\r";
    let (code, _, err) = import_sheet(text, &[]);
    assert_eq!(code, Some(2));
    assert_eq!(
        err,
        "stancelog: error: DIR/sheet.csv:5: not UTF-8 text (field 1): save the file as UTF-8\n"
    );
}
