//! Given the shipped seed log, when querying through the CLI, then the article's facts come out.
//!
//! The seed log is `events/dprk-russia-2024.jsonl`, appended in two batches. The first (seq 1-35,
//! from `events/dprk-russia-2024.input.jsonl`) is the article as first recorded: 12 actors
//! (seq 1-12), 7 topics (seq 13-19) and 16 stances (seq 20-35) on 15 distinct (actor, topic)
//! pairs (the foreign minister, named "Cho Tae-yong" by the article, states two: seq 24 and 25).
//! The second, recorded later (seq 36-40, from `events/dprk-russia-2024.corrections.jsonl`),
//! registers Cho Tae-yul (seq 36), gives Cho Tae-yul and Cho Tae-yong their roles (seq 37, 38)
//! and corrects the actor of seq 24 and 25 to Cho Tae-yul (seq 39, 40). So the log as it stands
//! has 13 actors and the two stances are Cho Tae-yul's; known at the recorded time of seq 35
//! they are Cho Tae-yong's. Every expected value below is derived from those two input files.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;
use stancelog::core::EventBody;
use stancelog::store::{Log, parse_batch};

use crate::backends::on_both_backends;
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

/// The seed log's stored records, as JSON objects in file order.
fn seed_records() -> Vec<Value> {
    std::fs::read_to_string(seed_log())
        .expect("read seed log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON record"))
        .collect()
}

/// The seq of the last record of the article's batch, as first recorded.
const ARTICLE_LAST_SEQ: u64 = 35;

/// The stored `recorded_at` of the record with this seq, as written in the seed log.
fn recorded_at_of(seq: u64) -> String {
    let records = seed_records();
    let r = records
        .iter()
        .find(|r| r["seq"] == seq)
        .unwrap_or_else(|| panic!("no seq {seq} in the seed log"));
    r["recorded_at"].as_str().expect("recorded_at").to_string()
}

/// The recorded time of seq 35, the article's batch as first recorded (read from the log, so
/// `--known-at` with it shows the log as it stood before the corrections).
fn article_known_at() -> String {
    recorded_at_of(ARTICLE_LAST_SEQ)
}

/// The last seq of a log.
fn last_seq(log: &Path) -> u64 {
    Log::open(log).expect("log opens").history().seq_last()
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

on_both_backends! {
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
}

on_both_backends! {
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
}

on_both_backends! {
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
}

on_both_backends! {
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
}

on_both_backends! {
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
}

on_both_backends! {
/// A diff reads forward in valid time: `--from` later than `--to` is refused with a message
/// saying how to swap them (it used to answer with every change read backwards).
#[test]
fn diff_with_from_later_than_to_is_refused_clearly() {
    let o = run_log(
        &seed_log(),
        &["diff", "--from", "2024-10-25", "--to", "2024-10-20"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "stancelog: error: --from 2024-10-25 is later than --to 2024-10-20: a diff reads forward in time; swap them (--from 2024-10-20 --to 2024-10-25)\n"
    );
    assert!(o.stdout.is_empty());
}
}

on_both_backends! {
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
}

on_both_backends! {
#[test]
fn timeline_marks_the_first_of_two_cho_tae_yong_stances_superseded() {
    // Given the article as first recorded (known at seq 35), with two support stances of
    // "Cho Tae-yong" on the same topic, both dated "2024-10",
    let known = article_known_at();
    let o = run_log(
        &seed_log(),
        &[
            "timeline",
            "--actor",
            "cho-tae-yong",
            "--topic",
            ROK_RESPONSE,
            "--known-at",
            &known,
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
        assert_eq!(r["actor"], "cho-tae-yong");
        assert_eq!(r["actor_name"], "Cho Tae-yong");
        assert_eq!(r["stance"], "support");
        assert_eq!(r["since"], "2024-10");
        // As first recorded: no correction yet, and no role recorded for anyone.
        assert_eq!(r["corrections"], serde_json::json!([]), "{r}");
        assert!(r["role"].is_null(), "{r}");
    }

    // And the position is the later one.
    let pos = positions(None, &["--actor", "cho-tae-yong", "--known-at", &known]);
    assert_eq!(pos.len(), 1);
    assert_eq!(pos[0]["seq"], 25);

    // And the table says so in words.
    let t = run_log(
        &seed_log(),
        &["timeline", "--actor", "cho-tae-yong", "--known-at", &known],
        None,
    );
    assert_eq!(t.status.code(), Some(0), "{}", stderr(&t));
    let text = stdout(&t);
    // The heading names the cutoff used, as positions and diff do.
    let heading = text.lines().next().unwrap();
    assert!(
        heading.starts_with("Timeline as recorded by seq ") && heading.ends_with("): 2 stance(s)"),
        "{text}"
    );
    assert!(text.contains("superseded by 25"), "{text}");
    assert!(text.contains("current"), "{text}");
    assert!(!text.contains("corrected"), "{text}");
}
}

on_both_backends! {
#[test]
fn as_the_log_stands_the_two_cho_stances_are_cho_tae_yuls_corrected_by_39_and_40() {
    // Given the log as it stands (the corrections of seq 39 and 40 applied),
    let o = run_log(
        &seed_log(),
        &[
            "timeline",
            "--actor",
            "cho-tae-yul",
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

    // then Cho Tae-yul has both stances, keeping their seqs, quotes and order,
    assert_eq!(rows.len(), 2, "{v:#}");
    let corrections_recorded_at = recorded_at_of(40);
    for (r, (seq, status, by)) in rows
        .iter()
        .zip([(24, "superseded", 39), (25, "current", 40)])
    {
        assert_eq!(r["seq"], seq);
        assert_eq!(r["status"], status);
        assert_eq!(r["actor"], "cho-tae-yul");
        assert_eq!(r["actor_name"], "Cho Tae-yul");
        assert_eq!(r["stance"], "support");
        assert_eq!(r["since"], "2024-10");
        // each read through one correction of its actor, recorded in the later batch,
        let c = r["corrections"].as_array().unwrap();
        assert_eq!(c.len(), 1, "{r}");
        assert_eq!(c[0]["seq"], by);
        assert_eq!(c[0]["fields"], serde_json::json!(["actor"]));
        assert_eq!(c[0]["recorded_at"], corrections_recorded_at.as_str());
        assert!(
            c[0]["reason"]
                .as_str()
                .unwrap()
                .contains("the foreign minister was Cho Tae-yul"),
            "{r}"
        );
        // while the stance itself keeps the recorded time of the article's batch,
        assert_eq!(r["recorded_at"], article_known_at().as_str());
        // and shown with the role Cho Tae-yul held in October 2024 (seq 37).
        assert_eq!(r["role"]["title"], "Minister of Foreign Affairs");
        assert_eq!(
            r["role"]["organisation"],
            "Ministry of Foreign Affairs (South Korea)"
        );
    }
    assert_eq!(rows[0]["superseded_by"], 25);
    assert!(
        rows[1]["quote"]
            .as_str()
            .unwrap()
            .starts_with("I don't think we can just sit idly by")
    );

    // Cho Tae-yong has no stance any more, in the timeline or in positions.
    let o = run_log(
        &seed_log(),
        &["timeline", "--actor", "cho-tae-yong", "--format", "json"],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o), serde_json::json!([]));
    assert!(positions(None, &["--actor", "cho-tae-yong"]).is_empty());

    // The position is Cho Tae-yul's later stance; the table notes the correction.
    let pos = positions(Some("2024-10-25"), &["--topic", ROK_RESPONSE]);
    assert_eq!(
        pairs(&pos),
        vec![("cho-tae-yul".to_string(), ROK_RESPONSE.to_string())]
    );
    assert_eq!(pos[0]["seq"], 25);
    let t = run_log(&seed_log(), &["timeline", "--actor", "cho-tae-yul"], None);
    let text = stdout(&t);
    assert!(text.contains("Timeline: 2 stance(s)"), "{text}");
    assert!(text.contains("corrected (actor) by 40"), "{text}");

    // Known at seq 35 the same question has no answer for Cho Tae-yul, and a diff of what we
    // knew of 2024-10-25 then and after the corrections moves the position from one man to
    // the other.
    let known = article_known_at();
    assert!(positions(None, &["--actor", "cho-tae-yul", "--known-at", &known]).is_empty());
    let o = run_log(
        &seed_log(),
        &[
            "diff",
            "--from",
            "2024-10-25",
            "--to",
            "2024-10-25",
            "--from-known-at",
            &known,
            "--to-known-at",
            &corrections_recorded_at,
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let changes: Vec<(&str, &str, &str)> = v
        .as_array()
        .unwrap()
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
        changes,
        vec![
            ("cho-tae-yong", ROK_RESPONSE, "removed"),
            ("cho-tae-yul", ROK_RESPONSE, "added"),
        ]
    );
    assert_eq!(v[0]["before"]["seq"], 25);
    assert_eq!(v[1]["after"]["seq"], 25);
}
}

on_both_backends! {
#[test]
fn an_actor_is_found_by_its_name_or_alias_in_any_normalization() {
    // Given Cho Tae-yul, registered with the alias 조태열 (precomposed Hangul syllables, NFC),
    let by_id = positions(None, &["--actor", "cho-tae-yul"]);
    assert_eq!(
        pairs(&by_id),
        vec![("cho-tae-yul".to_string(), ROK_RESPONSE.to_string())]
    );
    assert_eq!(by_id[0]["seq"], 25);

    // The same alias decomposed into conjoining jamo (NFD): ㅈ ㅗ, ㅌ ㅐ, ㅇ ㅕ ㄹ.
    let nfc = "\u{C870}\u{D0DC}\u{C5F4}";
    let nfd = "\u{110C}\u{1169}\u{1110}\u{1162}\u{110B}\u{1167}\u{11AF}";
    assert_eq!(nfc, "조태열");
    assert_ne!(nfc.as_bytes(), nfd.as_bytes());

    // when `--actor` is the display name, the alias in NFC, or the alias in NFD,
    for wanted in ["Cho Tae-yul", nfc, nfd] {
        // then the position found is the one found by the id.
        let found = positions(None, &["--actor", wanted]);
        assert_eq!(found, by_id, "--actor {wanted:?}");
    }

    // Cho Tae-yong's name and alias find Cho Tae-yong, not Cho Tae-yul (as first recorded,
    // where he has the position).
    let known = article_known_at();
    let yong = positions(None, &["--actor", "cho-tae-yong", "--known-at", &known]);
    assert_eq!(yong.len(), 1);
    for wanted in ["Cho Tae-yong", "조태용"] {
        let found = positions(None, &["--actor", wanted, "--known-at", &known]);
        assert_eq!(found, yong, "--actor {wanted:?}");
    }
}
}

on_both_backends! {
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
}

on_both_backends! {
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
}

on_both_backends! {
#[test]
fn an_unknown_actor_or_topic_filter_exits_2() {
    let no_actor = |x: &str| {
        format!("--actor: no actor has the id, name or alias `{x}` (see `stancelog actors`)")
    };
    let cases = [
        (
            vec!["positions", "--actor", "vladimir-putin"],
            no_actor("vladimir-putin"),
        ),
        // A name no actor has is refused the same way as an unknown id.
        (
            vec!["positions", "--actor", "Vladimir Putin"],
            no_actor("Vladimir Putin"),
        ),
        (
            vec!["positions", "--topic", "no-such-topic"],
            "--topic: unknown topic `no-such-topic` (see `stancelog topics`)".to_string(),
        ),
        (
            vec!["timeline", "--actor", "vladimir-putin"],
            no_actor("vladimir-putin"),
        ),
        (
            vec![
                "diff",
                "--from",
                "2024-10-01",
                "--to",
                "2024-10-25",
                "--actor",
                "vladimir-putin",
            ],
            no_actor("vladimir-putin"),
        ),
    ];
    for (args, message) in cases {
        let o = run_log(&seed_log(), &args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(
            err.contains(&message),
            "{args:?}: want {message:?} in {err}"
        );
        assert!(o.stdout.is_empty(), "{args:?} printed {}", stdout(&o));
    }
}
}

on_both_backends! {
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
}

on_both_backends! {
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
}

on_both_backends! {
#[test]
fn table_output_shows_names_not_only_ids() {
    // As the log stands, the foreign minister's position is Cho Tae-yul's, noted as corrected.
    let o = run_log(&seed_log(), &["positions", "--as-of", "2024-10-24"], None);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(
        text.contains("Positions as of 2024-10-24: 15 position(s) of 11 actor(s)"),
        "{text}"
    );
    for name in [
        "State Duma of the Russian Federation",
        "Cho Tae-yul",
        "Dmitry Peskov",
        "North Korea",
        "Russia",
        "National Intelligence Service (South Korea)",
    ] {
        assert!(text.contains(name), "no `{name}` in\n{text}");
    }
    assert!(!text.contains("Cho Tae-yong"), "{text}");
    assert!(text.contains("Notes"), "{text}");
    assert!(text.contains("corrected (actor) by 40"), "{text}");
    assert!(text.contains("2024-10-24"));

    // As first recorded (known at seq 35), it is Cho Tae-yong's, with nothing to note, and the
    // heading says which recorded state the answer is from.
    let known = article_known_at();
    let o = run_log(
        &seed_log(),
        &["positions", "--as-of", "2024-10-24", "--known-at", &known],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains(&format!(
            "Positions as of 2024-10-24, as recorded by seq 35 ({known}): 15 position(s) of 11 actor(s)"
        )),
        "{text}"
    );
    assert!(text.contains("Cho Tae-yong"), "{text}");
    assert!(!text.contains("Cho Tae-yul"), "{text}");
    assert!(!text.contains("corrected"), "{text}");

    let early = run_log(&seed_log(), &["positions", "--as-of", "2024-10-20"], None);
    let text = stdout(&early);
    assert!(
        text.contains("Positions as of 2024-10-20: 12 position(s) of 9 actor(s)"),
        "{text}"
    );
    assert!(!text.contains("State Duma"), "{text}");
}
}

on_both_backends! {
#[test]
fn actors_and_topics_count_the_stances() {
    let o = run_log(&seed_log(), &["actors", "--format", "json"], None);
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    let actors = v.as_array().unwrap();
    // The article's 12 actors and Cho Tae-yul, registered by the corrections batch.
    assert_eq!(actors.len(), 13);
    let get = |id: &str| actors.iter().find(|a| a["actor"] == id).unwrap().clone();
    // As the log stands, the foreign minister's two stances count for Cho Tae-yul.
    let yul = get("cho-tae-yul");
    assert_eq!(yul["stances"], 2);
    assert_eq!(yul["retracted"], 0);
    assert_eq!(yul["name"], "Cho Tae-yul");
    assert_eq!(yul["kind"], "person");
    assert_eq!(yul["country"], "KOR");
    assert_eq!(yul["sector"], "GOV");
    assert_eq!(yul["aliases"], serde_json::json!(["조태열"]));
    assert_eq!(yul["seq"], 36);
    assert_eq!(get("cho-tae-yong")["stances"], 0);
    assert_eq!(get("cho-tae-yong")["seq"], 2);
    assert_eq!(get("kim-jong-un")["stances"], 0);
    assert_eq!(
        get("rus-state-duma")["name"],
        "State Duma of the Russian Federation"
    );
    assert_eq!(get("rus-state-duma")["kind"], "legislature");
    // Corrections move stances; they neither add nor remove any: 16 in all.
    let total: u64 = actors.iter().map(|a| a["stances"].as_u64().unwrap()).sum();
    assert_eq!(total, 16);

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
    assert_eq!(get(ROK_RESPONSE)["stances"], 2);
}
}

on_both_backends! {
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
}

on_both_backends! {
#[test]
fn the_stancelog_log_environment_variable_stands_in_for_log() {
    // Given STANCELOG_LOG and no --log,
    let o = crate::support::stancelog_command()
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
    let o = crate::support::stancelog_command()
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
}

on_both_backends! {
#[test]
fn init_refuses_to_overwrite_an_existing_log() {
    let (_dir, log) = seed_copy();
    let before = std::fs::read(&log).unwrap();
    let o = run_log(&log, &["init"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&log).unwrap(), before);
}
}

on_both_backends! {
#[test]
fn the_seed_log_was_written_from_the_input_batch() {
    // Given the article's batch, the later corrections batch and the stored log,
    let input = std::fs::read(seed_input()).unwrap();
    let article = parse_batch("dprk-russia-2024.input.jsonl", &input).expect("input parses");
    let corrections_path = seed_input().with_file_name("dprk-russia-2024.corrections.jsonl");
    let text = std::fs::read(&corrections_path).unwrap();
    let corrections =
        parse_batch("dprk-russia-2024.corrections.jsonl", &text).expect("corrections parse");
    let log = Log::open(&seed_log()).expect("seed log opens");
    let events: Vec<_> = log.history().events().collect();

    // then the log holds exactly the article's events as seq 1..=35, followed by the
    // corrections as seq 36..=40, in order,
    assert_eq!(log.torn_tail_bytes(), 0);
    assert_eq!(article.len(), 35);
    assert_eq!(corrections.len(), 5);
    assert_eq!(events.len(), article.len() + corrections.len());
    let batches = article.iter().chain(&corrections);
    for (i, (stored, new)) in events.iter().zip(batches).enumerate() {
        assert_eq!(stored.seq, i as u64 + 1);
        assert_eq!(stored.body, new.body, "seq {}", stored.seq);
        // The inputs carry the ids the log holds, so appending them again is a no-op and a
        // fresh log rebuilt from them has the same ids (and the corrections' targets exist).
        assert_eq!(new.id, Some(stored.id), "seq {}", stored.seq);
    }
    let (first, second) = events.split_at(article.len());
    assert_eq!(first.last().unwrap().seq, ARTICLE_LAST_SEQ);

    // the corrections re-attribute the foreign minister's two stances (seq 24 and 25),
    let targets: Vec<(u64, &str)> = second
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::StanceCorrected(c) => Some((c.target, c.correction.actor.as_ref()?)),
            _ => None,
        })
        .map(|(target, actor)| {
            let declared = events
                .iter()
                .find(|e| e.id == target)
                .expect("target in log");
            (declared.seq, actor.as_str())
        })
        .collect();
    assert_eq!(targets, vec![(24, "cho-tae-yul"), (25, "cho-tae-yul")]);

    // each batch has one recorded time, the corrections' later than the article's,
    let times = |evs: &[stancelog::core::Event]| -> BTreeSet<_> {
        evs.iter().map(|e| e.recorded_at).collect()
    };
    let (t1, t2) = (times(first), times(second));
    assert_eq!(t1.len(), 1, "{t1:?}");
    assert_eq!(t2.len(), 1, "{t2:?}");
    assert!(t1.first() < t2.first(), "{t1:?} then {t2:?}");
    // and is stored as one batch: each record marks its batch's last seq,
    for r in seed_records() {
        let seq = r["seq"].as_u64().unwrap();
        let last = if seq <= ARTICLE_LAST_SEQ {
            ARTICLE_LAST_SEQ
        } else {
            events.len() as u64
        };
        assert_eq!(r["batch_last"], last, "seq {seq}");
    }
    // and the ids are distinct.
    let ids: BTreeSet<_> = events.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), events.len());
}
}

/// Spawns `stancelog args`, reads one line of its output, closes the pipe and waits.
fn read_one_line_then_close(
    log: &Path,
    args: &[&str],
) -> (String, std::process::ExitStatus, String) {
    let mut child = crate::support::stancelog_command()
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

on_both_backends! {
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
}

/// Regression: on a closed pipe, `agreement --format csv` exited 1 ("standard output: Broken
/// pipe", the CSV writer's error lost its kind) and `completions bash` panicked with a
/// backtrace; both end quietly, exit 0, as every other command does.
#[test]
fn a_closed_output_pipe_ends_agreement_and_completions_quietly() {
    let (_dir, log) = seed_copy();
    let mut batch = String::new();
    for a in 0..120 {
        batch.push_str(&format!(
            "{{\"type\":\"actor.registered\",\"actor\":\"p{a:03}\",\"name\":\"P {a}\",\"kind\":\"state\",\"country\":\"KOR\",\"sector\":\"GOV\"}}\n\
             {{\"type\":\"stance.declared\",\"actor\":\"p{a:03}\",\"topic\":\"{TROOPS}\",\"stance\":\"affirm\",\"date\":\"2023-01-01\",\"cite\":{{\"publication\":\"test\"}}}}\n"
        ));
    }
    append_text(&log, &batch);
    let agreement = ["agreement", "--all", "--by", "none", "--format", "csv"];
    for args in [&agreement[..], &["completions", "bash"][..]] {
        let (first, status, err) = read_one_line_then_close(&log, args);
        assert!(!first.is_empty(), "{args:?}");
        assert_eq!(err, "", "{args:?}");
        assert!(status.success(), "{args:?}: {status:?}");
    }
}

on_both_backends! {
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

    // when a retraction of it is appended, it takes the next seq after the log's last,
    let retraction = last_seq(&log) + 1;
    let o = append_text(
        &log,
        &format!(
            "{{\"type\":\"stance.retracted\",\"target\":\"{id}\",\"reason\":\"test: report withdrawn\"}}\n"
        ),
    );
    assert!(
        stdout(&o).contains(&format!("seq {retraction}  id ")),
        "{}",
        stdout(&o)
    );
    assert_eq!(last_seq(&log), retraction);

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
    assert_eq!(rows[0]["retracted_by"], retraction);
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
}

on_both_backends! {
#[test]
fn retracting_the_later_of_two_stances_brings_back_the_earlier() {
    // Given a copy of the seed log, when the foreign minister's second stance (seq 25, Cho
    // Tae-yul's as the log stands) is retracted,
    let (_dir, log) = seed_copy();
    let o = run_log(
        &log,
        &["timeline", "--actor", "cho-tae-yul", "--format", "json"],
        None,
    );
    let v = json(&o);
    let second = v[1]["event_id"].as_str().unwrap().to_string();
    assert_eq!(v[1]["seq"], 25);
    let retraction = last_seq(&log) + 1;
    append_text(
        &log,
        &format!(
            "{{\"type\":\"stance.retracted\",\"target\":\"{second}\",\"reason\":\"misquoted\"}}"
        ),
    );
    assert_eq!(last_seq(&log), retraction);

    // then the position is the first stance again (still corrected), and the timeline marks
    // them so.
    let o = run_log(
        &log,
        &["positions", "--actor", "cho-tae-yul", "--format", "json"],
        None,
    );
    let v = json(&o);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["seq"], 24);
    assert_eq!(v[0]["corrections"][0]["seq"], 39);
    let o = run_log(
        &log,
        &["timeline", "--actor", "cho-tae-yul", "--format", "json"],
        None,
    );
    let v = json(&o);
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["status"], "current");
    assert!(v[0]["superseded_by"].is_null());
    assert_eq!(v[1]["status"], "retracted");
    assert_eq!(v[1]["retracted_by"], retraction);
    assert_eq!(v[1]["retraction_reason"], "misquoted");

    // Known before the retraction was recorded, the later stance is still the position: Cho
    // Tae-yul's after the corrections, Cho Tae-yong's as the article was first recorded.
    for (known, actor) in [
        (recorded_at_of(40), "cho-tae-yul"),
        (article_known_at(), "cho-tae-yong"),
    ] {
        let o = run_log(
            &log,
            &[
                "positions",
                "--topic",
                ROK_RESPONSE,
                "--known-at",
                &known,
                "--format",
                "json",
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v = json(&o);
        assert_eq!(
            pairs(v.as_array().unwrap()),
            vec![(actor.to_string(), ROK_RESPONSE.to_string())],
            "known at {known}"
        );
        assert_eq!(v[0]["seq"], 25, "known at {known}");
    }
}
}

on_both_backends! {
/// Regression: the shipped input batches had no ids, so a log rebuilt from them got new ids and
/// the corrections batch (which targets the shipped ids) was refused.
#[test]
fn the_seed_log_can_be_rebuilt_from_its_input_batches() {
    let (_dir, log) = crate::support::empty_log();
    let events = crate::support::shipped_seed_log().with_file_name("dprk-russia-2024.input.jsonl");
    let corrections = events.with_file_name("dprk-russia-2024.corrections.jsonl");
    for batch in [&events, &corrections] {
        let o = run_log(&log, &["append", batch.to_str().unwrap()], None);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let rebuilt = run_log(&log, &["positions", "--format", "json"], None);
    let shipped = run_log(&seed_log(), &["positions", "--format", "json"], None);
    let without_times = |o: &std::process::Output| -> Vec<serde_json::Value> {
        let mut v: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
        for p in &mut v {
            p.as_object_mut().unwrap().remove("recorded_at");
            for c in p["corrections"].as_array_mut().unwrap() {
                c.as_object_mut().unwrap().remove("recorded_at");
            }
        }
        v
    };
    assert_eq!(without_times(&rebuilt), without_times(&shipped));
}
}

on_both_backends! {
/// The README's quick start shows what its first command prints (`positions --as-of
/// 2024-10-25` on the seed log): the table there is that output, byte for byte.
#[test]
fn the_readme_main_job_table_is_what_the_command_prints() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    let fence = "```text\nPositions as of 2024-10-25: 15 position(s)";
    let start = readme.find(fence).expect("the main job's table in README") + "```text\n".len();
    let end = start + readme[start..].find("```\n").expect("its closing fence");
    let o = run_log(&seed_log(), &["positions", "--as-of", "2024-10-25"], None);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), &readme[start..end]);
}
}
