//! The HTML report: a golden file of the seed log's report, determinism, self-containment, and
//! refused flags. (`browser.rs` opens reports in a real browser.)

use std::path::{Path, PathBuf};

use crate::support::{run_log, seed_log, stderr, stdout};

/// The seed log's report with a diff from 2024-10-20 to 2024-10-25, as committed.
fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/golden/dprk-russia-2024.report.html")
}

/// Writes the report of `log` with `args` into a temporary folder and returns its bytes.
pub fn report(log: &Path, args: &[&str]) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    let mut all = vec!["report", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let o = run_log(log, &all, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("Wrote "), "{}", stdout(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    (dir, out, html)
}

pub const SEED_ARGS: &[&str] = &["--from", "2024-10-20", "--to", "2024-10-25"];

/// Set STANCELOG_BLESS=1 to rewrite the golden file after a deliberate change (then read its
/// diff before committing it).
#[test]
fn seed_report_matches_the_golden_file() {
    let (_dir, _, html) = report(&seed_log(), SEED_ARGS);
    if std::env::var_os("STANCELOG_BLESS").is_some() {
        std::fs::write(golden(), &html).unwrap();
    }
    let want = std::fs::read_to_string(golden()).unwrap();
    assert!(
        html == want,
        "the seed log's report differs from {} (STANCELOG_BLESS=1 rewrites it)",
        golden().display()
    );
}

#[test]
fn seed_report_is_deterministic_self_contained_and_titled() {
    let (_a, _, first) = report(&seed_log(), SEED_ARGS);
    let (_b, _, second) = report(&seed_log(), SEED_ARGS);
    assert_eq!(first, second);
    // No script, no external resource: the only URL is the SVG namespace.
    assert!(!first.contains("<script"));
    let urls = first.matches("http").count();
    assert_eq!(urls, first.matches("http://www.w3.org/2000/svg").count());
    assert!(!first.contains(" src="));
    // The title names the log, its seq and its head hash as `verify` prints it.
    let verify = stdout(&run_log(&seed_log(), &["verify"], None));
    let hash = verify
        .split_whitespace()
        .find(|w| w.len() == 64 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .expect("head hash in verify's output");
    assert!(first.contains(&format!("<code>{hash}</code>")), "{hash}");
    assert!(first.contains("<strong>dprk-russia-2024.jsonl</strong> at seq <strong>40</strong>"));
    // The sections that fit the seed log: grid, timeline, diff; no votes, so no agreement.
    for id in [
        "id=\"grid-svg\"",
        "id=\"timeline-svg\"",
        "<section id=\"diff\"",
    ] {
        assert!(first.contains(id), "{id}");
    }
    assert!(!first.contains("id=\"agreement-svg\""));
    // The diff holds the three changes of the README's example.
    assert!(first.contains("Changes from as of 2024-10-20 to as of 2024-10-25: 3"));
    // Every chart has a table.
    assert_eq!(first.matches("<svg ").count(), 2);
    assert_eq!(first.matches("<table>").count(), 3);
}

#[test]
fn report_as_known_before_the_correction_shows_the_first_attribution() {
    // The correction re-attributing the foreign minister's stances is recorded after the
    // batch of seq 1..=38; known at that batch, the grid shows Cho Tae-yong.
    let log = seed_log();
    let o = run_log(&log, &["timeline", "--format", "json"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let first_batch_time = v[0]["recorded_at"].as_str().unwrap().to_string();
    let (_d, _, html) = report(&log, &["--known-at", &first_batch_time]);
    assert!(html.contains("Cho Tae-yong"), "before the correction");
    let (_e, _, now) = report(&log, &[]);
    assert!(!now.contains("Cho Tae-yong —"), "after the correction");
    assert!(now.contains("Cho Tae-yul —"));
}

#[test]
fn report_refuses_what_has_no_answer() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.html");
    let out = out.to_str().unwrap();
    for args in [
        &["report", "--out", out, "--from", "2024-10-20"][..],
        &["report", "--out", out, "--pair", "prk"][..],
        &["report", "--out", out, "--pair", "prk,nobody"][..],
        &[
            "report",
            "--out",
            out,
            "--from",
            "2024-10-25",
            "--to",
            "2024-10-01",
        ][..],
    ] {
        let o = run_log(&seed_log(), args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    assert!(!Path::new(out).exists());
}

/// Regression: a report for actors none of whom voted drew an agreement heatmap of every other
/// actor (an empty actor set read as "all actors"). Given a0 registered but silent and a1, a2
/// voting on one roll call, when the whole log's fold draws the report for a0 alone, then it has
/// no agreement section; for a1 and a2 it has one, with their single common vote.
#[test]
fn report_for_silent_actors_draws_no_agreement_of_others() {
    use stancelog::core::{ActorId, Filter};
    use stancelog::report::{Options, Source, render};
    let (_dir, log) = crate::support::empty_log();
    let mut batch = String::new();
    for a in ["a0", "a1", "a2"] {
        batch.push_str(&format!(
            "{{\"type\":\"actor.registered\",\"actor\":\"{a}\",\"name\":\"Name {a}\",\"kind\":\"state\",\"country\":\"KOR\",\"sector\":\"GOV\"}}\n"
        ));
    }
    batch.push_str("{\"type\":\"topic.registered\",\"topic\":\"r1\",\"title\":\"Roll call 1\",\"kind\":\"vote\"}\n");
    for (a, v) in [("a1", "yes"), ("a2", "no")] {
        batch.push_str(&format!(
            "{{\"type\":\"stance.declared\",\"actor\":\"{a}\",\"topic\":\"r1\",\"stance\":\"{v}\",\"date\":\"2024-01-02\",\"cite\":{{\"publication\":\"UN\",\"title\":\"Record\"}}}}\n"
        ));
    }
    let o = run_log(&log, &["append"], Some(batch.as_bytes()));
    assert!(o.status.success(), "{}", stderr(&o));
    let log = stancelog::store::Log::open(&log).unwrap();
    let source = Source {
        log_name: "log.jsonl".into(),
        seq: 6,
        head_hash: log.head_hash(),
        date_last: log.history().date_last(),
        known: "everything recorded".into(),
    };
    let draw = |actors: &[&str]| {
        let filter = Filter {
            actors: actors.iter().map(|a| ActorId::new(a).unwrap()).collect(),
            ..Filter::default()
        };
        let opts = Options {
            filter,
            ..Options::default()
        };
        render(log.history(), &source, &opts)
    };
    let silent = draw(&["a0"]);
    assert!(!silent.contains("id=\"agreement\""), "{silent}");
    assert!(!silent.contains("Name a1"), "{silent}");
    let both = draw(&["a1", "a2"]);
    assert!(
        both.contains("<tr><td>Name a1</td><td>Name a2</td><td>1</td><td>0</td>"),
        "{both}"
    );
}
