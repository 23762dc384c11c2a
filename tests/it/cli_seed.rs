//! Given the shipped seed log, when querying through the CLI, then the article's facts come out.
//!
//! The seed log is `events/dprk-russia-2024.jsonl`, appended in one batch from
//! `events/dprk-russia-2024.input.jsonl`: 12 actors (seq 1-12), 7 topics (seq 13-19) and 16
//! stances (seq 20-35) on 15 distinct (actor, topic) pairs (Cho Tae-yong states two). Every
//! expected value below is derived from that input file.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use stancelog::store::{Log, parse_batch};

use crate::support::{json, run, run_log, seed_input, seed_log, stderr, stdout};

const TREATY: &str = "russia-dprk-partnership-treaty";
const ROK_RESPONSE: &str = "rok-response-to-dprk-deployment";
const TROOPS: &str = "dprk-troops-in-russia";

/// `positions --format json` (with `--as-of` when given) on the seed log, as an array.
fn positions(as_of: Option<&str>, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["positions", "--format", "json"];
    if let Some(d) = as_of {
        args.extend_from_slice(&["--as-of", d]);
    }
    args.extend_from_slice(extra);
    let o = run_log(&seed_log(), &args, None);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    json(&o).as_array().expect("a JSON array").clone()
}

/// The position of `actor` on `topic` in a positions array, if any.
fn find<'a>(rows: &'a [Value], actor: &str, topic: &str) -> Option<&'a Value> {
    rows.iter()
        .find(|p| p["actor"] == actor && p["topic"] == topic)
}

fn pairs(rows: &[Value]) -> Vec<(String, String)> {
    rows.iter()
        .map(|p| {
            (
                p["actor"].as_str().unwrap().to_string(),
                p["topic"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A copy of the seed log in a fresh temporary directory, to append to.
fn seed_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("seed.jsonl");
    std::fs::copy(seed_log(), &log).expect("copy seed log");
    (dir, log)
}

fn append_text(log: &Path, batch: &str) -> std::process::Output {
    let o = run_log(log, &["append", "-"], Some(batch.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "append failed: {}", stderr(&o));
    o
}

#[test]
fn seed_positions_as_of_2024_10_25_cover_at_least_nine_actors() {
    let o = run_log(
        &seed_log(),
        &["positions", "--as-of", "2024-10-25", "--format", "json"],
        None,
    );
    assert!(o.status.success());
    let v = json(&o);
    let actors: BTreeSet<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors.len(), 11, "{actors:?}");
}

#[test]
fn as_of_2024_10_20_the_treaty_signing_is_present_and_the_duma_ratification_absent() {
    // Given the seed log, when asking for positions as of 2024-10-20,
    let rows = positions(Some("2024-10-20"), &[]);

    // then the Duma's ratification of 2024-10-24 has not happened yet,
    assert!(find(&rows, "rus-state-duma", TREATY).is_none(), "{rows:#?}");
    // and both signatories support the treaty since the signing on 2024-06-19.
    for (actor, recipient) in [("rus", "prk"), ("prk", "rus")] {
        let p = find(&rows, actor, TREATY).unwrap_or_else(|| panic!("{actor} missing"));
        assert_eq!(p["stance"], "support");
        assert_eq!(p["since"], "2024-06-19");
        assert_eq!(p["event"], "agree");
        assert_eq!(p["recipient"], recipient);
    }
    // Stances dated 2024-10-21 (Peskov, North Korea's denial) are not in effect either.
    assert!(find(&rows, "dmitry-peskov", TROOPS).is_none());
    assert!(find(&rows, "prk", TROOPS).is_none());
    // 2 treaty stances of June + 10 pairs dated "2024-10" (in effect from 2024-10-01).
    assert_eq!(rows.len(), 12, "{:?}", pairs(&rows));
}

#[test]
fn as_of_2024_10_24_the_duma_ratification_is_present_inclusively() {
    // Given the seed log, when asking the day before, then the ratification is absent;
    let before = positions(Some("2024-10-23"), &[]);
    assert!(find(&before, "rus-state-duma", TREATY).is_none());

    // when asking on the day itself (inclusive), then it is present.
    let rows = positions(Some("2024-10-24"), &[]);
    let p = find(&rows, "rus-state-duma", TREATY).expect("ratification present");
    assert_eq!(p["since"], "2024-10-24");
    assert_eq!(p["stance"], "support");
    assert_eq!(p["actor_name"], "State Duma of the Russian Federation");
    assert_eq!(p["recipient"], "prk");
    assert_eq!(p["seq"], 34);
    // All 15 pairs are in effect by then.
    assert_eq!(rows.len(), 15, "{:?}", pairs(&rows));
}

#[test]
fn a_month_precision_date_takes_effect_on_the_first_day_of_the_month() {
    // Given stances dated "2024-10", when asking as of 2024-09-30, then only June's remain;
    let sept = positions(Some("2024-09-30"), &[]);
    assert_eq!(
        pairs(&sept),
        vec![
            ("prk".to_string(), TREATY.to_string()),
            ("rus".to_string(), TREATY.to_string()),
        ]
    );
    // when asking as of 2024-10-01, then the "2024-10" stances are in effect, shown as given.
    let oct = positions(Some("2024-10-01"), &[]);
    assert_eq!(oct.len(), 12);
    let slutsky = find(&oct, "leonid-slutsky", TREATY).expect("Slutsky from 2024-10-01");
    assert_eq!(slutsky["since"], "2024-10");
    // Before the signing there is nothing at all.
    assert!(positions(Some("2024-06-18"), &[]).is_empty());
}

#[test]
fn diff_from_2024_10_20_to_2024_10_25_lists_the_ratification_as_added() {
    // Given the seed log, when diffing 2024-10-20 .. 2024-10-25 as JSON,
    let o = run_log(
        &seed_log(),
        &[
            "diff",
            "--from",
            "2024-10-20",
            "--to",
            "2024-10-25",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let changes = v.as_array().unwrap();

    // then the three stances dated 2024-10-21 .. 2024-10-24 are added, in actor-id order,
    let keys: Vec<(&str, &str, &str)> = changes
        .iter()
        .map(|c| {
            (
                c["actor"].as_str().unwrap(),
                c["topic"].as_str().unwrap(),
                c["change"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            ("dmitry-peskov", TROOPS, "added"),
            ("prk", TROOPS, "added"),
            ("rus-state-duma", TREATY, "added"),
        ]
    );
    // and the ratification has no "before" and the Duma's support as "after".
    let duma = &changes[2];
    assert!(duma["before"].is_null());
    assert_eq!(duma["actor_name"], "State Duma of the Russian Federation");
    assert_eq!(duma["after"]["stance"], "support");
    assert_eq!(duma["after"]["since"], "2024-10-24");
    assert_eq!(changes[0]["after"]["stance"], "doubt");
    assert_eq!(changes[1]["after"]["stance"], "deny");
}

#[test]
fn diff_backwards_lists_the_same_pairs_as_removed() {
    let o = run_log(
        &seed_log(),
        &[
            "diff",
            "--from",
            "2024-10-25",
            "--to",
            "2024-10-20",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let changes = v.as_array().unwrap();
    assert_eq!(changes.len(), 3);
    for c in changes {
        assert_eq!(c["change"], "removed");
        assert!(c["after"].is_null());
        assert!(c["before"].is_object());
    }
    assert_eq!(changes[2]["before"]["since"], "2024-10-24");
}

#[test]
fn diff_of_a_date_with_itself_is_empty() {
    for d in [
        "2024-06-18",
        "2024-06-19",
        "2024-10-01",
        "2024-10-20",
        "2024-10-21",
        "2024-10-24",
        "2025-01-01",
    ] {
        let o = run_log(
            &seed_log(),
            &["diff", "--from", d, "--to", d, "--format", "json"],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{d}: {}", stderr(&o));
        assert_eq!(json(&o), serde_json::json!([]), "diff({d}, {d})");
    }
}

#[test]
fn timeline_marks_the_first_of_two_cho_tae_yong_stances_superseded() {
    // Given two support stances of Cho Tae-yong on the same topic, both dated "2024-10",
    let o = run_log(
        &seed_log(),
        &[
            "timeline",
            "--actor",
            "cho-tae-yong",
            "--topic",
            ROK_RESPONSE,
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let rows = v.as_array().unwrap();

    // then the timeline has both in seq order: the first superseded by the second.
    assert_eq!(rows.len(), 2);
    let (first, second) = (&rows[0], &rows[1]);
    assert_eq!(first["seq"], 24);
    assert_eq!(first["status"], "superseded");
    assert_eq!(first["superseded_by"], 25);
    assert!(first["retracted_by"].is_null());
    assert!(
        first["quote"]
            .as_str()
            .unwrap()
            .starts_with("All the options for what we can do are on the table")
    );
    assert_eq!(second["seq"], 25);
    assert_eq!(second["status"], "current");
    assert!(second["superseded_by"].is_null());
    assert!(
        second["quote"]
            .as_str()
            .unwrap()
            .starts_with("I don't think we can just sit idly by")
    );
    for r in rows {
        assert_eq!(r["stance"], "support");
        assert_eq!(r["since"], "2024-10");
    }

    // And the position is the later one.
    let pos = positions(None, &["--actor", "cho-tae-yong"]);
    assert_eq!(pos.len(), 1);
    assert_eq!(pos[0]["seq"], 25);

    // And the table says so in words.
    let t = run_log(&seed_log(), &["timeline", "--actor", "cho-tae-yong"], None);
    assert_eq!(t.status.code(), Some(0));
    let text = stdout(&t);
    assert!(text.contains("Timeline: 2 stance(s)"), "{text}");
    assert!(text.contains("superseded by 25"), "{text}");
    assert!(text.contains("current"), "{text}");
}

#[test]
fn full_timeline_has_every_stance_with_one_superseded_and_none_retracted() {
    let o = run_log(&seed_log(), &["timeline", "--format", "json"], None);
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 16);
    let statuses: Vec<&str> = rows.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "superseded").count(), 1);
    assert_eq!(statuses.iter().filter(|s| **s == "current").count(), 15);
    // Canonical order: date first, so the June signing comes before everything of October,
    // and "2024-10" (from 2024-10-01) before 2024-10-21 and 2024-10-24.
    let since: Vec<&str> = rows.iter().map(|r| r["since"].as_str().unwrap()).collect();
    assert_eq!(&since[..2], &["2024-06-19", "2024-06-19"]);
    assert_eq!(&since[13..], &["2024-10-21", "2024-10-21", "2024-10-24"]);
    assert_eq!(rows[15]["actor"], "rus-state-duma");
}

#[test]
fn positions_filters_by_actor_and_topic() {
    // --actor alone
    let duma = positions(None, &["--actor", "rus-state-duma"]);
    assert_eq!(
        pairs(&duma),
        vec![("rus-state-duma".to_string(), TREATY.to_string())]
    );

    // --topic alone: every party to the treaty, ordered by actor id.
    let treaty = positions(None, &["--topic", TREATY]);
    let actors: Vec<&str> = treaty
        .iter()
        .map(|p| p["actor"].as_str().unwrap())
        .collect();
    assert_eq!(
        actors,
        vec!["leonid-slutsky", "prk", "rus", "rus-state-duma"]
    );

    // --actor and --topic together.
    let prk = positions(None, &["--actor", "prk", "--topic", TROOPS]);
    assert_eq!(prk.len(), 1);
    assert_eq!(prk[0]["stance"], "deny");
    assert_eq!(prk[0]["since"], "2024-10-21");

    // Repeated --actor is a union.
    let two = positions(None, &["--actor", "prk", "--actor", "rus"]);
    assert_eq!(
        pairs(&two),
        vec![
            ("prk".to_string(), TROOPS.to_string()),
            ("prk".to_string(), TREATY.to_string()),
            ("rus".to_string(), TREATY.to_string()),
        ]
    );

    // A filter and a date: before the ratification the Duma has no position.
    assert!(positions(Some("2024-10-23"), &["--actor", "rus-state-duma"]).is_empty());

    // A registered actor with no stance (Kim Jong-un is only a recipient) gives nothing.
    assert!(positions(None, &["--actor", "kim-jong-un"]).is_empty());
}

#[test]
fn an_unknown_actor_or_topic_filter_exits_2() {
    for args in [
        vec!["positions", "--actor", "vladimir-putin"],
        vec!["positions", "--topic", "no-such-topic"],
        vec!["timeline", "--actor", "vladimir-putin"],
        vec![
            "diff",
            "--from",
            "2024-10-01",
            "--to",
            "2024-10-25",
            "--actor",
            "vladimir-putin",
        ],
    ] {
        let o = run_log(&seed_log(), &args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains("unknown"), "{args:?}: {err}");
        assert!(
            err.contains("vladimir-putin") || err.contains("no-such-topic"),
            "{err}"
        );
        assert!(o.stdout.is_empty(), "{args:?} printed {}", stdout(&o));
    }
}

#[test]
fn position_json_objects_carry_the_documented_fields() {
    let rows = positions(Some("2024-10-25"), &[]);
    assert_eq!(rows.len(), 15);
    for p in &rows {
        for key in [
            "actor",
            "actor_name",
            "topic",
            "stance",
            "since",
            "event_id",
            "seq",
            "quote",
            "cite",
        ] {
            assert!(p.get(key).is_some(), "missing `{key}` in {p}");
        }
        assert!(p["cite"]["publication"].is_string(), "{p}");
        assert!(p["seq"].as_u64().is_some_and(|s| (20..=35).contains(&s)));
        assert_eq!(p["event_id"].as_str().unwrap().len(), 36);
    }
    // Values of one fully known row (input line 22: Kim Yong-hyun's "cannon fodder").
    let k = find(&rows, "kim-yong-hyun", TROOPS).unwrap();
    assert_eq!(k["actor_name"], "Kim Yong-hyun");
    assert_eq!(k["stance"], "affirm");
    assert_eq!(k["since"], "2024-10");
    assert_eq!(k["quote"], "mercenary cannon fodder");
    assert_eq!(k["cite"]["via"], "Yonhap News Agency");
    assert_eq!(k["seq"], 22);
    // A stance without a quote has quote null.
    assert!(find(&rows, "kor-nis", TROOPS).unwrap()["quote"].is_null());
}

#[test]
fn csv_has_a_header_row_and_one_row_per_position() {
    for as_of in ["2024-10-20", "2024-10-25"] {
        let o = run_log(
            &seed_log(),
            &["positions", "--as-of", as_of, "--format", "csv"],
            None,
        );
        assert_eq!(o.status.code(), Some(0));
        let mut r = csv::Reader::from_reader(o.stdout.as_slice());
        let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        for col in [
            "actor",
            "actor_name",
            "topic",
            "stance",
            "since",
            "seq",
            "quote",
        ] {
            assert!(header.iter().any(|h| h == col), "no `{col}` in {header:?}");
        }
        let records: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        let expected = positions(Some(as_of), &[]);
        assert_eq!(records.len(), expected.len(), "as of {as_of}");
        // Rows follow the JSON order; quotes with commas survive the round trip.
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        for (rec, p) in records.iter().zip(&expected) {
            assert_eq!(&rec[col("actor")], p["actor"].as_str().unwrap());
            assert_eq!(&rec[col("topic")], p["topic"].as_str().unwrap());
            assert_eq!(&rec[col("since")], p["since"].as_str().unwrap());
            assert_eq!(&rec[col("quote")], p["quote"].as_str().unwrap_or(""));
        }
    }
    assert_eq!(positions(Some("2024-10-20"), &[]).len(), 12);
}

#[test]
fn table_output_shows_names_not_only_ids() {
    let o = run_log(&seed_log(), &["positions", "--as-of", "2024-10-24"], None);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(
        text.contains("Positions as of 2024-10-24: 15 position(s) of 11 actor(s)"),
        "{text}"
    );
    for name in [
        "State Duma of the Russian Federation",
        "Cho Tae-yong",
        "Dmitry Peskov",
        "North Korea",
        "Russia",
        "National Intelligence Service (South Korea)",
    ] {
        assert!(text.contains(name), "no `{name}` in\n{text}");
    }
    assert!(text.contains("2024-10-24"));

    let early = run_log(&seed_log(), &["positions", "--as-of", "2024-10-20"], None);
    let text = stdout(&early);
    assert!(
        text.contains("Positions as of 2024-10-20: 12 position(s) of 9 actor(s)"),
        "{text}"
    );
    assert!(!text.contains("State Duma"), "{text}");
}

#[test]
fn actors_and_topics_count_the_stances() {
    let o = run_log(&seed_log(), &["actors", "--format", "json"], None);
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    let actors = v.as_array().unwrap();
    assert_eq!(actors.len(), 12);
    let get = |id: &str| actors.iter().find(|a| a["actor"] == id).unwrap().clone();
    assert_eq!(get("cho-tae-yong")["stances"], 2);
    assert_eq!(get("kim-jong-un")["stances"], 0);
    assert_eq!(
        get("rus-state-duma")["name"],
        "State Duma of the Russian Federation"
    );
    assert_eq!(get("rus-state-duma")["kind"], "legislature");

    let o = run_log(&seed_log(), &["topics", "--format", "json"], None);
    let v = json(&o);
    let topics = v.as_array().unwrap();
    assert_eq!(topics.len(), 7);
    let get = |id: &str| topics.iter().find(|t| t["topic"] == id).unwrap().clone();
    assert_eq!(get(TREATY)["stances"], 4);
    assert_eq!(get(TREATY)["kind"], "policy");
    // Kim Yong-hyun, NIS, Austin, Kirby, Peskov, North Korea.
    assert_eq!(get(TROOPS)["stances"], 6);
    assert_eq!(get(TROOPS)["kind"], "claim");
}

#[test]
fn output_is_byte_identical_across_runs() {
    let commands: [&[&str]; 7] = [
        &["positions"],
        &["positions", "--as-of", "2024-10-21", "--format", "json"],
        &["positions", "--format", "csv"],
        &["diff", "--from", "2024-06-01", "--to", "2024-10-25"],
        &["timeline", "--format", "json"],
        &["actors"],
        &["topics", "--format", "csv"],
    ];
    for args in commands {
        let a = run_log(&seed_log(), args, None);
        let b = run_log(&seed_log(), args, None);
        assert_eq!(a.status.code(), Some(0), "{args:?}");
        assert!(!a.stdout.is_empty(), "{args:?}");
        assert_eq!(a.stdout, b.stdout, "{args:?}");
        assert!(a.stderr.is_empty(), "{args:?}: {}", stderr(&a));
    }
}

#[test]
fn the_stancelog_log_environment_variable_stands_in_for_log() {
    // Given STANCELOG_LOG and no --log,
    let o = Command::new(env!("CARGO_BIN_EXE_stancelog"))
        .args(["positions", "--as-of", "2024-10-24", "--format", "json"])
        .env("STANCELOG_LOG", seed_log())
        .stdin(Stdio::null())
        .output()
        .expect("run stancelog");
    // then the answer is the one --log gives.
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let with_flag = run_log(
        &seed_log(),
        &["positions", "--as-of", "2024-10-24", "--format", "json"],
        None,
    );
    assert_eq!(o.stdout, with_flag.stdout);

    // And --log wins over the variable.
    let o = Command::new(env!("CARGO_BIN_EXE_stancelog"))
        .args(["--log"])
        .arg(seed_log())
        .args(["actors", "--format", "json"])
        .env("STANCELOG_LOG", "/nonexistent/stancelog/log.jsonl")
        .stdin(Stdio::null())
        .output()
        .expect("run stancelog");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Without either, it is a usage error.
    let o = run(&["positions"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("STANCELOG_LOG"), "{}", stderr(&o));
}

#[test]
fn init_refuses_to_overwrite_an_existing_log() {
    let (_dir, log) = seed_copy();
    let before = std::fs::read(&log).unwrap();
    let o = run_log(&log, &["init"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&log).unwrap(), before);
}

#[test]
fn the_seed_log_was_written_from_the_input_batch() {
    // Given the input batch and the stored log,
    let input = std::fs::read(seed_input()).unwrap();
    let batch = parse_batch("dprk-russia-2024.input.jsonl", &input).expect("input parses");
    let log = Log::open(&seed_log()).expect("seed log opens");
    let events = log.history().events();

    // then the log holds exactly the batch's events, in order, with seq 1..=35,
    assert_eq!(log.torn_tail_bytes(), 0);
    assert_eq!(batch.len(), 35);
    assert_eq!(events.len(), batch.len());
    for (i, (stored, new)) in events.iter().zip(&batch).enumerate() {
        assert_eq!(stored.seq, i as u64 + 1);
        assert_eq!(stored.body, new.body, "seq {}", stored.seq);
        assert!(new.id.is_none(), "the input gives no ids");
    }
    // one batch, so one recorded time, and distinct ids.
    let times: BTreeSet<_> = events.iter().map(|e| e.recorded_at).collect();
    assert_eq!(times.len(), 1);
    let ids: BTreeSet<_> = events.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), events.len());
}

/// Spawns `stancelog args`, reads one line of its output, closes the pipe and waits.
fn read_one_line_then_close(
    log: &Path,
    args: &[&str],
) -> (String, std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stancelog"))
        .arg("--log")
        .arg(log)
        .args(args)
        .env_remove("STANCELOG_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stancelog");
    let mut first = String::new();
    {
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        out.read_line(&mut first).expect("read one line");
        // `out` is dropped here: the reader goes away, as with `| head -1`.
    }
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read stderr");
    let status = child.wait().expect("wait");
    (first, status, err)
}

#[test]
fn a_closed_output_pipe_ends_quietly() {
    // Given the seed log, when the reader takes one line and goes away,
    let (first, status, err) = read_one_line_then_close(&seed_log(), &["positions"]);
    assert!(first.starts_with("Positions as of"), "{first}");
    // then nothing is reported as an error.
    assert!(!err.to_lowercase().contains("error"), "{err}");
    assert!(status.success(), "{status:?}: {err}");

    // Given an output far larger than a pipe buffer (so the write really fails),
    let (_dir, log) = seed_copy();
    let mut batch = String::new();
    for month in 1..=12 {
        for day in 1..=28 {
            batch.push_str(&format!(
                "{{\"type\":\"stance.declared\",\"actor\":\"kor-nis\",\"topic\":\"{TROOPS}\",\
                 \"stance\":\"affirm\",\"date\":\"2023-{month:02}-{day:02}\",\
                 \"quote\":\"{}\",\"cite\":{{\"publication\":\"test\"}}}}\n",
                "x".repeat(200)
            ));
        }
    }
    append_text(&log, &batch);
    for args in [
        &["timeline", "--format", "json"][..],
        &["timeline"][..],
        &["timeline", "--format", "csv"][..],
    ] {
        let (first, status, err) = read_one_line_then_close(&log, args);
        assert!(!first.is_empty(), "{args:?}");
        assert!(!err.to_lowercase().contains("error"), "{args:?}: {err}");
        assert!(status.success(), "{args:?}: {status:?}: {err}");
    }
}

#[test]
fn a_retraction_removes_the_position_and_the_timeline_shows_it() {
    // Given a copy of the seed log, and the id of the Duma's ratification,
    let (_dir, log) = seed_copy();
    let o = run_log(
        &log,
        &["positions", "--actor", "rus-state-duma", "--format", "json"],
        None,
    );
    let id = json(&o)[0]["event_id"].as_str().unwrap().to_string();

    // when a retraction of it is appended,
    let o = append_text(
        &log,
        &format!(
            "{{\"type\":\"stance.retracted\",\"target\":\"{id}\",\"reason\":\"test: report withdrawn\"}}\n"
        ),
    );
    assert!(stdout(&o).contains("seq 36"), "{}", stdout(&o));

    // then the Duma has no position any more, at any date,
    for as_of in ["2024-10-24", "2024-10-25", "2030-01-01"] {
        let o = run_log(
            &log,
            &[
                "positions",
                "--as-of",
                as_of,
                "--actor",
                "rus-state-duma",
                "--format",
                "json",
            ],
            None,
        );
        assert_eq!(json(&o), serde_json::json!([]), "as of {as_of}");
    }
    // and the other positions are untouched (15 - 1),
    let o = run_log(&log, &["positions", "--format", "json"], None);
    assert_eq!(json(&o).as_array().unwrap().len(), 14);
    // and the ratification no longer shows in the diff,
    let o = run_log(
        &log,
        &[
            "diff",
            "--from",
            "2024-10-20",
            "--to",
            "2024-10-25",
            "--format",
            "json",
        ],
        None,
    );
    let v = json(&o);
    let actors: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors, vec!["dmitry-peskov", "prk"]);
    // and the timeline keeps the stance, marked retracted with the reason.
    let o = run_log(
        &log,
        &["timeline", "--actor", "rus-state-duma", "--format", "json"],
        None,
    );
    let v = json(&o);
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "retracted");
    assert_eq!(rows[0]["retracted_by"], 36);
    assert_eq!(rows[0]["retraction_reason"], "test: report withdrawn");
    assert_eq!(rows[0]["event_id"], id.as_str());
    let o = run_log(&log, &["timeline", "--actor", "rus-state-duma"], None);
    assert!(stdout(&o).contains("retracted"), "{}", stdout(&o));
    // The counts say one retracted stance.
    let o = run_log(&log, &["actors", "--format", "json"], None);
    let v = json(&o);
    let duma = v
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["actor"] == "rus-state-duma")
        .unwrap();
    assert_eq!(duma["stances"], 1);
    assert_eq!(duma["retracted"], 1);

    // Retracting it again is refused, and the log is unchanged.
    let bytes = std::fs::read(&log).unwrap();
    let o = run_log(
        &log,
        &["append", "-"],
        Some(
            format!("{{\"type\":\"stance.retracted\",\"target\":\"{id}\",\"reason\":\"again\"}}")
                .as_bytes(),
        ),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("field `target`"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&log).unwrap(), bytes);
}

#[test]
fn retracting_the_later_of_two_stances_brings_back_the_earlier() {
    // Given a copy of the seed log, when Cho Tae-yong's second stance (seq 25) is retracted,
    let (_dir, log) = seed_copy();
    let o = run_log(
        &log,
        &["timeline", "--actor", "cho-tae-yong", "--format", "json"],
        None,
    );
    let v = json(&o);
    let second = v[1]["event_id"].as_str().unwrap().to_string();
    assert_eq!(v[1]["seq"], 25);
    append_text(
        &log,
        &format!(
            "{{\"type\":\"stance.retracted\",\"target\":\"{second}\",\"reason\":\"misquoted\"}}"
        ),
    );

    // then the position is the first stance again, and the timeline marks them so.
    let o = run_log(
        &log,
        &["positions", "--actor", "cho-tae-yong", "--format", "json"],
        None,
    );
    let v = json(&o);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["seq"], 24);
    let o = run_log(
        &log,
        &["timeline", "--actor", "cho-tae-yong", "--format", "json"],
        None,
    );
    let v = json(&o);
    assert_eq!(v[0]["status"], "current");
    assert!(v[0]["superseded_by"].is_null());
    assert_eq!(v[1]["status"], "retracted");
    assert_eq!(v[1]["retracted_by"], 36);
}
