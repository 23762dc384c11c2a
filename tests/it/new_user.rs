//! What a new user ran into: bad input and odd outputs found by trying the product from a fresh
//! clone, each pinned with the value it must give.

use std::os::unix::fs::FileTypeExt;
use std::process::Command;

use crate::support::{run_log, seed_log, stderr, stdout};

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
