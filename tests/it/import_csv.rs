//! `stancelog import csv FILE`: an analyst's spreadsheet mapped to stances by flags.
//!
//! `tests/fixtures/sheets/analyst.csv` (header on line 1) has nine rows:
//!
//! | line | row | with the flags of [`analyst_flags`] |
//! | --- | --- | --- |
//! | 2 | KOR, Y, quote with a comma, URL, recorded 2024-10-22T09:00Z | support; registers KOR and the topic |
//! | 3 | JPN, N, recorded 2024-10-22T18:00+09:00 (the same instant) | oppose, same batch |
//! | 4 | kim-yong-hyun | refused: no country can be told for a new actor |
//! | 5 | USA, `maybe` | refused: not in the map, not a stance |
//! | 6 | USA, date 2024-10-32 | refused: no such day |
//! | 7 | empty actor | refused |
//! | 8 | USA, neutral, date 20241024, recorded 2024-10-24 | neutral, a batch of its own |
//! | 9 | CHN, recorded 2024-10-22 | refused: recorded time goes backwards |
//! | 10 | RUS, oppose, recorded 2024-10-25 | oppose, a batch of its own |
//!
//! `tests/fixtures/sheets/events.tsv` has no header and seven tab-separated rows (date
//! YYYYMMDD, actor, target, CAMEO code, publisher): rows 1, 2 and 7 are imported (CAMEO 042 ->
//! support, 112 -> oppose, `support` as it is, its publisher empty), row 3 has no target, row 4
//! maps to `doubt`, which does not fit a policy topic, row 5's actor `***` has nothing to make
//! an id of, and row 6 has four fields where the first row has five.

use std::path::{Path, PathBuf};

use serde_json::Value;
use stancelog::core::{EventBody, Stance};
use stancelog::import::event_id;
use stancelog::import::sheet::{StanceMap, parse_date, parse_delimiter, slug};
use stancelog::store::Log;

use crate::backends::on_both_backends;
use crate::support::{empty_log, json, run_log, stderr, stdout};

fn sheet(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sheets")
        .join(name)
}

fn analyst_flags() -> Vec<&'static str> {
    vec![
        "--actor-col",
        "who",
        "--topic-col",
        "motion",
        "--stance-col",
        "position",
        "--stance-map",
        "Y=support,N=oppose",
        "--date-col",
        "when",
        "--quote-col",
        "said",
        "--cite-col",
        "outlet",
        "--url-col",
        "url",
        "--recorded-col",
        "recorded",
    ]
}

/// Runs `import csv FILE flags... --format json` and returns the report. The exit status is 0
/// when no row was refused, and 2 when any was (the rest still appended).
fn import(log: &Path, file: &Path, flags: &[&str]) -> Value {
    let mut args = vec!["import", "csv", file.to_str().unwrap()];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--format", "json"]);
    let o = run_log(log, &args, None);
    let report = json(&o);
    let refused = !report["refused"].as_array().unwrap().is_empty();
    let code = if refused { 2 } else { 0 };
    assert_eq!(o.status.code(), Some(code), "stderr: {}", stderr(&o));
    report
}

/// Runs `import csv` expecting this exit code, and returns the JSON report it printed.
fn import_exiting(log: &Path, file: &Path, flags: &[&str], code: i32) -> Value {
    let mut args = vec!["import", "csv", file.to_str().unwrap()];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--format", "json"]);
    let o = run_log(log, &args, None);
    assert_eq!(o.status.code(), Some(code), "stderr: {}", stderr(&o));
    json(&o)
}

fn refused_lines(report: &Value) -> Vec<u64> {
    report["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect()
}

fn reason(report: &Value, line: u64) -> String {
    report["refused"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["line"] == line)
        .map(|r| r["reason"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// A stance's seq, actor, stance, date, quote, publication and recorded time.
type StanceRow = (u64, String, Stance, String, Option<String>, String, String);

on_both_backends! {
#[test]
fn a_sheet_is_mapped_by_flags_and_bad_rows_are_refused_with_their_lines() {
    let (_dir, log) = empty_log();
    let mut flags = analyst_flags();
    flags.push("--register");
    let report = import(&log, &sheet("analyst.csv"), &flags);
    // 4 stances, 4 actors (KOR, JPN, USA, RUS), 1 topic.
    assert_eq!(report["appended"], 9, "{report}");
    assert_eq!(refused_lines(&report), vec![4, 5, 6, 7, 9]);
    assert!(reason(&report, 4).contains("--actor-country"), "{report}");
    assert!(reason(&report, 5).contains("`maybe`"), "{report}");
    assert!(reason(&report, 6).contains("2024-10-32"), "{report}");
    assert!(reason(&report, 7).contains("empty"), "{report}");
    assert!(reason(&report, 9).contains("must not decrease"), "{report}");

    let log = Log::open(&log).unwrap();
    let h = log.history();
    // Without --dataset or --cite, the data set is a fingerprint of the header and mapping.
    let dataset = match &h.event(7).unwrap().body {
        EventBody::StanceDeclared(s) => s.cite.publication.clone(),
        _ => unreachable!(),
    };
    assert!(
        dataset.starts_with("sheet-") && dataset.len() == 18,
        "{dataset}"
    );
    let stances: Vec<StanceRow> = h
        .events()
        .filter_map(|e| match &e.body {
            EventBody::StanceDeclared(s) => Some((
                e.seq,
                s.actor.to_string(),
                s.stance,
                s.date.to_string(),
                s.quote.clone(),
                s.cite.publication.clone(),
                stancelog::store::format_recorded_at(&e.recorded_at),
            )),
            _ => None,
        })
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        stances,
        vec![
            (
                3,
                s("KOR"),
                Stance::Support,
                s("2024-10-21"),
                Some(s("We support it, fully.")),
                s("Yonhap"),
                s("2024-10-22T09:00:00.000000Z")
            ),
            (
                5,
                s("JPN"),
                Stance::Oppose,
                s("2024-10-22"),
                None,
                s("Kyodo"),
                s("2024-10-22T09:00:00.000000Z")
            ),
            (
                7,
                s("USA"),
                Stance::Neutral,
                s("2024-10-24"),
                None,
                // An empty --cite-col cell falls back to the data set (here its fingerprint).
                s(&dataset),
                s("2024-10-24T00:00:00.000000Z")
            ),
            (
                9,
                s("RUS"),
                Stance::Oppose,
                s("2024-10-25"),
                Some(s("Illegal, as ever.")),
                s("TASS"),
                s("2024-10-25T00:00:00.000000Z")
            ),
        ]
    );
    // Ids name the data set and the key (role, actor, topic, date), never the file or line;
    // registrations come just before the first row needing them.
    let key = |actor: &str, date: &str| {
        event_id(&format!(
            "import/{dataset}\u{1f}stance\u{1f}{actor}\u{1f}sanctions-on-dprk\u{1f}{date}"
        ))
    };
    assert_eq!(h.event(3).unwrap().id, key("KOR", "2024-10-21"));
    assert_eq!(h.event(9).unwrap().id, key("RUS", "2024-10-25"));
    assert!(
        matches!(&h.event(1).unwrap().body, EventBody::ActorRegistered(a) if a.actor.as_str() == "KOR" && a.country.as_str() == "KOR" && a.kind.as_str() == "state" && a.sector.as_str() == "GOV")
    );
    assert!(
        matches!(&h.event(2).unwrap().body, EventBody::TopicRegistered(t) if t.topic.as_str() == "sanctions-on-dprk" && t.kind.as_str() == "policy")
    );
    match &h.event(3).unwrap().body {
        EventBody::StanceDeclared(s) => {
            assert_eq!(s.cite.url.as_deref(), Some("https://example.org/1"))
        }
        _ => unreachable!(),
    }
}
}

on_both_backends! {
#[test]
fn without_register_unknown_actors_and_topics_are_refused() {
    let (_dir, log) = empty_log();
    // Every row is refused, so nothing is imported: the report is printed and the exit is 2.
    let report = import_exiting(&log, &sheet("analyst.csv"), &analyst_flags(), 2);
    assert_eq!(report["appended"], 0);
    assert_eq!(refused_lines(&report), (2..=10).collect::<Vec<u64>>());
    assert!(
        reason(&report, 2).contains("unknown actor `KOR`"),
        "{report}"
    );
}
}

on_both_backends! {
#[test]
fn register_with_a_country_for_every_new_actor() {
    let (_dir, log) = empty_log();
    let mut flags = analyst_flags();
    flags.extend([
        "--register",
        "--actor-country",
        "KOR",
        "--actor-kind",
        "person",
        "--actor-sector",
        "GOV",
    ]);
    let report = import(&log, &sheet("analyst.csv"), &flags);
    // Now kim-yong-hyun (line 4) is registered too.
    assert_eq!(refused_lines(&report), vec![5, 6, 7, 9]);
    let log = Log::open(&log).unwrap();
    let kim = log
        .history()
        .actor(&stancelog::core::ActorId::new("kim-yong-hyun").unwrap())
        .expect("registered");
    assert_eq!((kim.country.as_str(), kim.kind.as_str()), ("KOR", "person"));
}
}

on_both_backends! {
#[test]
fn importing_again_appends_nothing_and_a_changed_stance_is_refused_or_corrected() {
    let (_dir, log) = empty_log();
    let mut flags = analyst_flags();
    flags.push("--register");
    import(&log, &sheet("analyst.csv"), &flags);
    let before = std::fs::read(&log).unwrap();
    let again = import(&log, &sheet("analyst.csv"), &flags);
    assert_eq!(again["appended"], 0);
    assert_eq!(again["already_present"], 4);
    assert_eq!(refused_lines(&again), vec![4, 5, 6, 7, 9]);
    assert_eq!(std::fs::read(&log).unwrap(), before);

    // The same rows read with another map: KOR's stance (line 2) changed under the same key,
    // which is refused and named; the data set is the same one, given by --dataset.
    let mut other = flags.clone();
    let i = other
        .iter()
        .position(|f| *f == "Y=support,N=oppose")
        .unwrap();
    other[i] = "Y=neutral,N=oppose";
    let mut first = flags.clone();
    first.extend(["--dataset", "analyst-notes"]);
    let (_dir2, log2) = empty_log();
    import(&log2, &sheet("analyst.csv"), &first);
    other.extend(["--dataset", "analyst-notes"]);
    let changed = import(&log2, &sheet("analyst.csv"), &other);
    assert_eq!(changed["appended"], 0);
    assert_eq!(changed["already_present"], 3);
    assert_eq!(refused_lines(&changed), vec![2, 4, 5, 6, 7, 9]);
    assert_eq!(
        reason(&changed, 2),
        "a stance with this key is in the log (seq 3) with other content (stance was support, is neutral): pass --corrections to append a stance.corrected"
    );
    // With --corrections the change is appended as a stance.corrected of seq 3, once
    // (recorded now: the sheet's recorded times are all before the log's last; so CHN's row,
    // refused before for its recorded time, is appended too, with CHN's registration).
    let at = other.iter().position(|f| *f == "--recorded-col").unwrap();
    other.drain(at..at + 2);
    other.push("--corrections");
    let corrected = import(&log2, &sheet("analyst.csv"), &other);
    assert_eq!(
        (
            corrected["appended"].as_u64(),
            corrected["corrected"].as_u64()
        ),
        (Some(3), Some(1))
    );
    let again = import(&log2, &sheet("analyst.csv"), &other);
    assert_eq!(
        (
            again["appended"].as_u64(),
            again["already_present"].as_u64()
        ),
        (Some(0), Some(5))
    );
    let h = Log::open(&log2).unwrap();
    let last = h
        .history()
        .events()
        .find(|e| e.body.type_name() == "stance.corrected")
        .unwrap();
    match &last.body {
        EventBody::StanceCorrected(c) => {
            assert_eq!(c.target, h.history().event(3).unwrap().id);
            assert_eq!(c.correction.stance, Some(Stance::Neutral));
        }
        other => panic!("{other:?}"),
    }
}
}

on_both_backends! {
/// Regression (brk30 4): with --corrections, the later of two rows of one file with one key and
/// other content was compared with the log as it was before the import, not with the earlier
/// row, so it was taken (or not) depending on the log. Given a log where USA's vote was
/// corrected to N, and one where it is Y, when a sheet with Y then N is imported with
/// --corrections, then on both the N row is refused naming the field, the answer is Y, and
/// the log verifies.
#[test]
fn with_corrections_the_later_of_two_conflicting_rows_is_refused() {
    let (dir, log) = empty_log();
    let write = |name: &str, rows: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("actor,topic,vote,date\n{rows}")).unwrap();
        path
    };
    let y = write("y.csv", "USA,m1,Y,2024-01-05\n");
    let n = write("n.csv", "USA,m1,N,2024-01-05\n");
    let yn = write("yn.csv", "USA,m1,Y,2024-01-05\nUSA,m1,N,2024-01-05\n");
    let flags = [
        "--actor-col", "actor", "--topic-col", "topic", "--stance-col", "vote",
        "--stance-map", "Y=support,N=oppose", "--date-col", "date", "--register",
        "--dataset", "sheet1",
    ];
    let mut corrections = flags.to_vec();
    corrections.push("--corrections");
    let (_dir2, log_at_y) = empty_log();
    import(&log, &y, &flags);
    import(&log, &n, &corrections);
    import(&log_at_y, &y, &flags);
    for (log, corrected) in [(&log, 1), (&log_at_y, 0)] {
        let report = import(log, &yn, &corrections);
        assert_eq!(refused_lines(&report), vec![3]);
        assert_eq!(
            reason(&report, 3),
            "a stance with this key is earlier in this import with other content (stance was support, is oppose): two rows with one key must agree"
        );
        assert_eq!(
            (report["appended"].as_u64(), report["corrected"].as_u64()),
            (Some(corrected), Some(corrected))
        );
        let o = run_log(log, &["positions", "--format", "csv", "--columns", "actor,topic,stance"], None);
        assert_eq!(stdout(&o), "actor,topic,stance\nUSA,m1,support\n");
        let o = run_log(log, &["verify"], None);
        assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
        // Imported again, the same: the N row refused, nothing appended.
        let again = import(log, &yn, &corrections);
        assert_eq!((refused_lines(&again), again["appended"].as_u64()), (vec![3], Some(0)));
    }
}
}

on_both_backends! {
#[test]
fn a_tsv_without_header_by_column_numbers_with_slugged_ids_and_prefix_map() {
    let (_dir, log) = empty_log();
    let report = import(
        &log,
        &sheet("events.tsv"),
        &[
            "--no-header",
            "--delimiter",
            "\\t",
            "--date-col",
            "1",
            "--actor-col",
            "2",
            "--topic-col",
            "3",
            "--slug-ids",
            "--stance-col",
            "4",
            "--stance-map",
            "04*=support,11*=oppose",
            "--stance-map",
            "01*=doubt",
            "--cite-col",
            "5",
            "--register",
            "--actor-country",
            "XXX",
            "--actor-kind",
            "agency",
        ],
    );
    // 3 stances, 2 actors, 1 topic.
    assert_eq!(report["appended"], 6, "{report}");
    assert_eq!(refused_lines(&report), vec![3, 4, 5, 6]);
    // Regression: the refusal named no column.
    assert!(
        reason(&report, 4).starts_with(
            "column 4 (--stance-col): stance `doubt` does not fit policy topic"
        ),
        "{report}"
    );
    assert_eq!(
        reason(&report, 6),
        "has 4 fields where the first row (line 1) has 5, and there is no header"
    );
    let log = Log::open(&log).unwrap();
    let h = log.history();
    let dataset = match &h.events().last().unwrap().body {
        EventBody::StanceDeclared(s) => s.cite.publication.clone(),
        _ => unreachable!(),
    };
    assert!(dataset.starts_with("sheet-"), "{dataset}");
    let got: Vec<(String, String, String, String, String)> = h
        .events()
        .filter_map(|e| match &e.body {
            EventBody::StanceDeclared(s) => Some((
                s.actor.to_string(),
                s.topic.to_string(),
                s.stance.to_string(),
                s.date.to_string(),
                s.cite.publication.clone(),
            )),
            _ => None,
        })
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        got,
        vec![
            (
                s("foreign-ministry-japan"),
                s("china"),
                s("support"),
                s("2024-01-01"),
                s("Kyodo")
            ),
            (
                s("foreign-ministry-japan"),
                s("china"),
                s("oppose"),
                s("2024-01-02"),
                s("Kyodo")
            ),
            (
                s("u-s-state-department"),
                s("china"),
                s("support"),
                s("2024-01-07"),
                dataset.clone()
            ),
        ]
    );
    // The value itself names the registered actor.
    let a = h
        .actor(&stancelog::core::ActorId::new("foreign-ministry-japan").unwrap())
        .unwrap();
    assert_eq!(a.name, "Foreign Ministry (Japan)");
    assert_eq!(a.country.as_str(), "XXX");
}
}

/// A file of more refused rows than a report lists (a wrong file of millions of rows): the
/// first 1,000 are listed and the rest counted (every one was kept and printed), exit 2.
#[test]
fn the_report_lists_the_first_thousand_refused_rows_and_counts_the_rest() {
    let (dir, log) = empty_log();
    let file = dir.path().join("bad.csv");
    let rows: String = (0..1_005).map(|_| "USA,2024-02-30\n").collect();
    std::fs::write(&file, format!("actor,date\n{rows}")).unwrap();
    let flags = crate::support::ACTOR_DATE_FLAGS;
    let report = import_exiting(&log, &file, &flags, 2);
    assert_eq!(report["refused_count"], 1_005);
    let lines = refused_lines(&report);
    assert_eq!(lines.len(), 1_000);
    assert_eq!((lines[0], lines[999]), (2, 1_001));
    let mut args = vec!["import", "csv", file.to_str().unwrap()];
    args.extend_from_slice(&flags);
    let o = run_log(&log, &args, None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("refused ")).count(),
        1_000
    );
    assert_eq!(
        out.lines().last(),
        Some("refused: 5 more row(s), not listed (the first 1000 refused are)")
    );
    assert!(
        stderr(&o).contains("1005 row(s) refused (listed above)"),
        "{}",
        stderr(&o)
    );
}

on_both_backends! {
#[test]
fn one_topic_and_one_date_for_all_rows() {
    let (_dir, log) = empty_log();
    let report = import(
        &log,
        &sheet("analyst.csv"),
        &[
            "--actor-col",
            "who",
            "--topic",
            "dprk-troops-in-russia",
            "--stance-col",
            "position",
            "--stance-map",
            "Y=support,N=oppose",
            "--date",
            "2024-10",
            "--cite",
            "Analyst notes",
            "--register",
        ],
    );
    // No recorded-time column: line 9 (CHN) is fine; line 6's bad date is not read. Line 8
    // gives USA another stance under the key of line 6 (same actor, topic and date): the
    // sheet contradicts itself, and the later row is refused.
    assert_eq!(refused_lines(&report), vec![4, 5, 7, 8]);
    assert_eq!(
        reason(&report, 8),
        "a stance with this key is earlier in this import with other content (stance was abstain, is neutral): two rows with one key must agree"
    );
    let log = Log::open(&log).unwrap();
    let stances: Vec<(String, String, String)> = log
        .history()
        .events()
        .filter_map(|e| match &e.body {
            EventBody::StanceDeclared(s) => Some((
                s.topic.to_string(),
                s.date.to_string(),
                s.cite.publication.clone(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(stances.len(), 5);
    assert!(
        stances.iter().all(|(t, d, c)| t == "dprk-troops-in-russia"
            && d == "2024-10"
            && c == "Analyst notes")
    );
}
}

on_both_backends! {
#[test]
fn bad_flags_are_usage_errors() {
    let (_dir, log) = empty_log();
    let file = sheet("analyst.csv");
    let file = file.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        // No such column.
        vec![
            "--actor-col",
            "nobody",
            "--topic-col",
            "motion",
            "--stance-col",
            "position",
            "--date-col",
            "when",
        ],
        // A stance map naming no stance.
        vec![
            "--actor-col",
            "who",
            "--topic-col",
            "motion",
            "--stance-col",
            "position",
            "--date-col",
            "when",
            "--stance-map",
            "Y=maybe",
        ],
        // A fixed date that is no date.
        vec![
            "--actor-col",
            "who",
            "--topic-col",
            "motion",
            "--stance-col",
            "position",
            "--date",
            "soon",
        ],
        // Neither a topic column nor a topic.
        vec![
            "--actor-col",
            "who",
            "--stance-col",
            "position",
            "--date-col",
            "when",
        ],
        // --actor-country without --register.
        vec![
            "--actor-col",
            "who",
            "--topic-col",
            "motion",
            "--stance-col",
            "position",
            "--date-col",
            "when",
            "--actor-country",
            "KOR",
        ],
    ];
    for flags in cases {
        let mut args = vec!["import", "csv", file];
        args.extend_from_slice(&flags);
        let o = run_log(&log, &args, None);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", stderr(&o));
    }
    assert_eq!(std::fs::read(&log).unwrap(), Vec::<u8>::new());
}
}

on_both_backends! {
#[test]
fn helpers_parse_maps_dates_delimiters_and_slugs() {
    let m = StanceMap::parse("yes=support, no = oppose,14*=oppose,1*=neutral").unwrap();
    assert_eq!(m.lookup("yes"), Some(Stance::Support));
    assert_eq!(m.lookup("no"), Some(Stance::Oppose));
    assert_eq!(
        m.lookup("141"),
        Some(Stance::Oppose),
        "the longest prefix wins"
    );
    assert_eq!(m.lookup("120"), Some(Stance::Neutral));
    assert_eq!(
        m.lookup("abstain"),
        Some(Stance::Abstain),
        "a stance name as it is"
    );
    assert_eq!(m.lookup("maybe"), None);
    assert!(StanceMap::parse("yes").is_err());
    assert!(StanceMap::parse("=support").is_err());
    assert!(StanceMap::parse("yes=maybe").is_err());

    assert_eq!(parse_date("20240229").unwrap().0.to_string(), "2024-02-29");
    assert!(parse_date("20230229").is_err());
    assert_eq!(parse_date("2024-10").unwrap().0.to_string(), "2024-10");

    assert_eq!(parse_delimiter("\\t"), Ok(b'\t'));
    assert_eq!(parse_delimiter("tab"), Ok(b'\t'));
    assert_eq!(parse_delimiter(";"), Ok(b';'));
    assert!(parse_delimiter("ab").is_err());

    assert_eq!(
        slug("Foreign Affairs (Bangladesh)"),
        "foreign-affairs-bangladesh"
    );
    assert_eq!(slug("  Ärzte ohne Grenzen "), "ärzte-ohne-grenzen");
    assert_eq!(slug("***"), "");
}
}

/// Each data set in `STANCELOG_DATA` taken with flags alone; the counts are checked against an
/// independent reading of each file: every data row is either imported or refused.
#[cfg(feature = "real-data")]
mod real {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use serde_json::Value;

    use super::import;
    use crate::support::empty_log;

    fn data(path: &str) -> PathBuf {
        std::env::var_os("STANCELOG_DATA")
            .map(PathBuf::from)
            .expect("STANCELOG_DATA must name the data folder with --features real-data")
            .join(path)
    }

    fn read(path: &Path, delimiter: u8, header: bool) -> Vec<csv::StringRecord> {
        csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(header)
            .flexible(true)
            .from_path(path)
            .unwrap()
            .records()
            .map(|r| r.unwrap())
            .collect()
    }

    /// Every accepted row is a stance, a further citation of one, or (the same row again)
    /// already present; with the registrations, that is what was appended or already there.
    fn check(report: &Value, rows: usize, accepted: usize, registered: usize) {
        let refused = report["refused_count"].as_u64().unwrap() as usize;
        assert_eq!(refused, rows - accepted, "refused");
        let listed = report["refused"].as_array().unwrap().len();
        assert_eq!(listed, refused.min(1_000), "refused rows listed");
        assert_eq!(
            (report["appended"].as_u64().unwrap() + report["already_present"].as_u64().unwrap())
                as usize,
            accepted + registered,
            "appended"
        );
        eprintln!(
            "{rows} rows: {accepted} stances + {registered} registrations appended, {refused} refused"
        );
    }

    #[test]
    fn un_votes_as_a_sheet() {
        let path = data("unvotes/unvotes.csv");
        let rows = read(&path, b',', true);
        // Codes of ISO 3166-1 today, from the country-codes data set (not the importer's table).
        let iso2: BTreeSet<String> = read(&data("country-codes/country-codes.csv"), b',', true)
            .iter()
            .map(|r| r[9].to_string())
            .filter(|c| !c.is_empty())
            .collect();
        let good: Vec<&csv::StringRecord> = rows.iter().filter(|r| iso2.contains(&r[2])).collect();
        let actors: BTreeSet<&str> = good.iter().map(|r| &r[2]).collect();
        let topics: BTreeSet<&str> = good.iter().map(|r| &r[0]).collect();
        let (_dir, log) = empty_log();
        let report = import(
            &log,
            &path,
            &[
                "--topic-col",
                "rcid",
                "--actor-col",
                "country_code",
                "--stance-col",
                "vote",
                "--date",
                "2020-01-01",
                "--register",
                "--topic-kind",
                "vote",
            ],
        );
        assert_eq!(rows.len(), 870_109);
        check(&report, rows.len(), good.len(), actors.len() + topics.len());
        // Historical codes (CS, DD, YD, YU) and the rows without one are the refused.
        assert_eq!(rows.len() - good.len(), 19_116);
    }

    #[test]
    fn paris_agreement_ratifications_as_a_sheet() {
        let path = data("treaty-ratifications/paris-agreement-entry-into-force.csv");
        let rows = read(&path, b',', true);
        let good: Vec<&csv::StringRecord> = rows
            .iter()
            .filter(|r| !r[4].is_empty() && !r[3].is_empty())
            .collect();
        let (_dir, log) = empty_log();
        let report = import(
            &log,
            &path,
            &[
                "--actor-col",
                "Code",
                "--topic",
                "paris-agreement",
                "--stance-col",
                "Kind",
                "--stance-map",
                "Ratification=ratified,Acceptance=ratified,Approval=ratified,Accession=ratified",
                "--date-col",
                "Ratification",
                "--cite",
                "openclimatedata / United Nations Treaty Collection",
                "--register",
                "--topic-kind",
                "treaty",
            ],
        );
        assert_eq!(rows.len(), 198);
        check(&report, rows.len(), good.len(), good.len() + 1);
    }

    /// CAMEO roots to stances: 01 (public statement) neutral, 02-09 (cooperation) support,
    /// 10-20 (conflict) oppose.
    const CAMEO_MAP: &str = "01*=neutral,02*=support,03*=support,04*=support,05*=support,\
06*=support,07*=support,08*=support,09*=support,10*=oppose,11*=oppose,12*=oppose,13*=oppose,\
14*=oppose,15*=oppose,16*=oppose,17*=oppose,18*=oppose,19*=oppose,20*=oppose";

    /// The test's own slug: lower case, runs of others than letters, digits and marks one `-`.
    fn slug(text: &str) -> String {
        let lower = text.to_lowercase();
        let parts: Vec<&str> = lower
            .split(|c: char| {
                !c.is_alphanumeric() && !unicode_normalization::char::is_combining_mark(c)
            })
            .filter(|p| !p.is_empty())
            .collect();
        parts.join("-")
    }

    #[test]
    fn icews_events_as_a_sheet() {
        let path = data("icews-sample/events.2018.sample.tab");
        let rows = read(&path, b'\t', true);
        let root_ok = |code: &str| {
            code.get(..2)
                .and_then(|r| r.parse::<u32>().ok())
                .is_some_and(|r| (1..=20).contains(&r))
        };
        let good: Vec<&csv::StringRecord> = rows
            .iter()
            .filter(|r| !slug(&r[2]).is_empty() && !slug(&r[8]).is_empty() && root_ok(&r[6]))
            .collect();
        let actors: BTreeSet<String> = good.iter().map(|r| slug(&r[2])).collect();
        let topics: BTreeSet<String> = good.iter().map(|r| slug(&r[8])).collect();
        let (_dir, log) = empty_log();
        let report = import(
            &log,
            &path,
            &[
                "--delimiter",
                "\\t",
                "--actor-col",
                "Source Name",
                "--topic-col",
                "Target Name",
                "--slug-ids",
                "--stance-col",
                "CAMEO Code",
                "--stance-map",
                CAMEO_MAP,
                "--date-col",
                "Event Date",
                "--cite-col",
                "Publisher",
                // Events of one pair on one day with different stances are different events.
                "--key",
                "role,actor,topic,date,stance",
                "--register",
                "--actor-kind",
                "organization",
                "--actor-country",
                "XXX",
            ],
        );
        assert_eq!(rows.len(), 3_705);
        check(&report, rows.len(), good.len(), actors.len() + topics.len());
    }

    #[test]
    fn gdelt_events_as_a_sheet() {
        let path = data("gdelt-1.0-sample/events.tsv");
        let rows = read(&path, b'\t', false);
        // A new actor's country is checked against ISO 3166: CAMEO's region codes (EUR, AFR,
        // MEA, WST) are not countries. Codes of ISO 3166-1 today, from the country-codes data.
        let iso3: BTreeSet<String> = read(&data("country-codes/country-codes.csv"), b',', true)
            .iter()
            .map(|r| r[2].to_string())
            .filter(|c| !c.is_empty())
            .collect();
        // The sample is the daily format (58 fields, the last SOURCEURL) then, from line 510,
        // the historical back file (57 fields): without a header, a row of another width than
        // the first is refused (it may be another table's columns).
        assert_eq!((rows[0].len(), rows[509].len()), (58, 57));
        // Fields 8 and 18 (1-based) are the actors' country codes, 30 the quad class, 2 the day.
        let good: Vec<&csv::StringRecord> = rows
            .iter()
            .filter(|r| r.len() == 58)
            .filter(|r| iso3.contains(&r[7]) && !r[17].is_empty())
            .filter(|r| ["1", "2", "3", "4"].contains(&&r[29]))
            .collect();
        let actors: BTreeSet<&str> = good.iter().map(|r| &r[7]).collect();
        let topics: BTreeSet<&str> = good.iter().map(|r| &r[17]).collect();
        let (_dir, log) = empty_log();
        let report = import(
            &log,
            &path,
            &[
                "--no-header",
                "--delimiter",
                "tab",
                "--actor-col",
                "8",
                "--topic-col",
                "18",
                "--stance-col",
                "30",
                "--stance-map",
                "1=support,2=support,3=oppose,4=oppose",
                "--date-col",
                "2",
                "--cite",
                "GDELT 1.0 event export",
                "--url-col",
                "58",
                "--key",
                "role,actor,topic,date,stance",
                "--register",
            ],
        );
        assert_eq!(rows.len(), 710);
        check(&report, rows.len(), good.len(), actors.len() + topics.len());
        let at_510 = report["refused"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["line"] == 510)
            .unwrap();
        assert_eq!(
            at_510["reason"],
            "has 57 fields where the first row (line 1) has 58, and there is no header"
        );
    }
}

on_both_backends! {
/// Regression: a row's own recorded time later than now was taken, and every later append
/// was stamped after it (a log that "learned" of events in 2999; `--known-at` today saw
/// nothing). It is refused, naming it; the rows before it stay, and the next append is
/// recorded now.
#[test]
fn a_recorded_time_in_the_future_is_refused() {
    let (dir, log) = empty_log();
    let file = dir.path().join("rec.csv");
    std::fs::write(
        &file,
        "a,t,s,d,rec\nUSA,m,support,2020-01-01,2020-01-02T00:00:00Z\nFRA,m,oppose,2020-01-01,2999-01-01T00:00:00Z\n",
    )
    .unwrap();
    let flags = [
        "--actor-col", "a", "--topic-col", "t", "--stance-col", "s", "--date-col", "d",
        "--recorded-col", "rec", "--register",
    ];
    let report = import(&log, &file, &flags);
    assert_eq!(refused_lines(&report), vec![3]);
    assert!(
        reason(&report, 3).starts_with("recorded time 2999-01-01T00:00:00.000000Z is in the future (now "),
        "{}",
        reason(&report, 3)
    );
    assert_eq!(report["appended"], 3);
    let add = ["add", "topic", "later", "--kind", "policy", "--title", "Later"];
    assert!(run_log(&log, &add, None).status.success());
    let l = Log::open(&log).unwrap();
    let last = l.history().recorded_at(l.history().seq_last()).unwrap();
    assert!(last < jiff::Timestamp::now(), "{last}");
    assert!(last > "2026-01-01T00:00:00Z".parse().unwrap(), "{last}");
}
}

/// Each stance declared in the log at `log`: its actor, date and quote, in log order.
fn declared(log: &Path) -> Vec<(String, String, Option<String>)> {
    let l = Log::open(log).unwrap();
    l.history()
        .events()
        .filter_map(|e| match &e.body {
            EventBody::StanceDeclared(s) => {
                Some((s.actor.to_string(), s.date.to_string(), s.quote.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The flags of the one-topic sheets below: `actor`, `quote` and `date` columns.
const QUOTE_FLAGS: [&str; 11] = [
    "--actor-col",
    "actor",
    "--topic",
    "t1",
    "--stance",
    "support",
    "--date-col",
    "date",
    "--quote-col",
    "quote",
    "--register",
];

on_both_backends! {
/// Regression (brk30 item 2): `%Y` read `05/01/24` as 0024-01-05, `05/01/924` as 0924 and a
/// `--year-col` cell `24` as the year 24, though the century would be a guess. Now such a cell
/// is refused, quoted as written, at its line and column; a negative year cell (a missing value
/// by COW's convention) is named, where it said "the date is empty".
#[test]
fn a_year_not_written_with_four_digits_is_refused_naming_the_cell() {
    // Given a sheet of day/month/year dates, two of them with short years,
    let (dir, log) = empty_log();
    let file = dir.path().join("d.csv");
    std::fs::write(&file, "actor,date\nFRA,05/01/2024\nDEU,05/01/24\nITA,05/01/924\nESP,5-1-2024\n").unwrap();
    let flags = [
        "--actor-col", "actor", "--topic", "t1", "--stance", "support", "--date-col", "date",
        "--date-format", "%d/%m/%Y", "--register",
    ];
    // when it is imported with %Y,
    let report = import(&log, &file, &flags);
    // then only the four-digit year is read, and the others are refused, quoted as written.
    assert_eq!(declared(&log), [("FRA".to_string(), "2024-01-05".to_string(), None)]);
    assert_eq!(refused_lines(&report), vec![3, 4, 5]);
    let short = |cell: &str, year: &str| {
        format!("column `date` (--date-col): date `{cell}`: `{cell}` does not match --date-format `%d/%m/%Y`: the year `{year}` is not written with four digits (%Y takes the year in full; the century of a shorter one would be a guess)")
    };
    assert_eq!(reason(&report, 3), short("05/01/24", "24"));
    assert_eq!(reason(&report, 4), short("05/01/924", "924"));
    // A cell that does not match names the value and the format, without the parser's text.
    assert_eq!(
        reason(&report, 5),
        "column `date` (--date-col): date `5-1-2024`: `5-1-2024` does not match --date-format `%d/%m/%Y`"
    );

    // Given year cells `2024`, `24` and `-2024`, when imported by --year-col,
    let file = dir.path().join("y.csv");
    std::fs::write(&file, "actor,y\nGBR,2024\nPRT,24\nPOL,-2024\n").unwrap();
    let flags = ["--actor-col", "actor", "--topic", "t1", "--stance", "support", "--year-col", "y", "--register"];
    let report = import(&log, &file, &flags);
    // then `2024` is the year 2024, `24` is refused and `-2024` is named as a missing value.
    assert_eq!(declared(&log)[1], ("GBR".to_string(), "2024".to_string(), None));
    assert_eq!(declared(&log).len(), 2);
    assert_eq!(refused_lines(&report), vec![3, 4]);
    assert_eq!(
        reason(&report, 3),
        "column `y` (--year-col): year `24` is not written with four digits; a year column takes the year in full (the century of a shorter one would be a guess)"
    );
    assert_eq!(
        reason(&report, 4),
        "column `y` (--year-col): year `-2024` marks a missing value (as NA, N/A, ., NaN and negative numbers do): the row has no date"
    );
}
}

on_both_backends! {
/// Regression (rt30, minor): a year `10000` was "not written with four digits" (a year
/// column) or did "not match" (%Y); `05.01. 2024` named the year `` (empty); `05/01/0000` was
/// said not to match the format before its year was said to be out of range.
#[test]
fn a_year_out_of_range_or_padded_is_named_as_such() {
    // Given cells with a five-digit year, a space-padded year and the year 0000,
    let (dir, log) = empty_log();
    let file = dir.path().join("d.csv");
    std::fs::write(&file, "actor,date\nFRA,05.01.10000\nDEU,05.01. 2024\nITA,05.01.0000\n").unwrap();
    let flags = [
        "--actor-col", "actor", "--topic", "t1", "--stance", "support", "--date-col", "date",
        "--date-format", "%d.%m.%Y", "--register",
    ];
    // when imported with %Y,
    let report = import(&log, &file, &flags);
    // then each is refused, saying what is wrong with its year.
    assert_eq!(refused_lines(&report), vec![2, 3, 4]);
    assert_eq!(
        reason(&report, 2),
        "column `date` (--date-col): date `05.01.10000`: `05.01.10000` read with --date-format `%d.%m.%Y`: the year `10000` is outside the supported years, 0001 to 9999"
    );
    assert_eq!(
        reason(&report, 3),
        "column `date` (--date-col): date `05.01. 2024`: `05.01. 2024` does not match --date-format `%d.%m.%Y`: the year ` 2024` has white space before its digits (%Y takes the year as four digits alone)"
    );
    assert_eq!(
        reason(&report, 4),
        "column `date` (--date-col): date `05.01.0000`: `05.01.0000` read with --date-format `%d.%m.%Y`: `0000-01-05` is outside the supported years, 0001 to 9999"
    );
    // Given year cells `10000` and `99999999999`, when imported by --year-col,
    let file = dir.path().join("y.csv");
    std::fs::write(&file, "actor,y\nGBR,10000\nPRT,99999999999\n").unwrap();
    let flags = ["--actor-col", "actor", "--topic", "t1", "--stance", "support", "--year-col", "y", "--register"];
    let report = import(&log, &file, &flags);
    // then both are out of range.
    assert_eq!(
        reason(&report, 2),
        "column `y` (--year-col): year `10000` is outside the supported years, 0001 to 9999"
    );
    assert_eq!(
        reason(&report, 3),
        "column `y` (--year-col): year `99999999999` is outside the supported years, 0001 to 9999"
    );
    assert_eq!(std::fs::read(&log).unwrap(), Vec::<u8>::new());
}
}

on_both_backends! {
/// Regression (brk30 item 3): a quoted value over two lines in the file's last row, in any
/// column but the last, was taken for a quote never closed ("the rest of the file, to line 3,
/// would be read as one value") with LF and CR line ends. Now it is read, with LF, CRLF and CR
/// line ends, in a middle column and in the last; a quote really never closed is still refused.
#[test]
fn a_multi_line_quote_in_the_last_row_is_read_and_an_unclosed_one_refused() {
    let (dir, log) = empty_log();
    let sheets = [
        ("mid", "actor,quote,date\nUSA,\"line one\nline two\",2024-01-01\n"),
        ("last", "actor,date,quote\nRUS,2024-01-02,\"line one\nline two\"\n"),
    ];
    for (end, name) in [("\n", "lf"), ("\r\n", "crlf"), ("\r", "cr")] {
        for (layout, text) in sheets {
            // Given the sheet saved with these line ends,
            let file = dir.path().join(format!("{layout}-{name}.csv"));
            std::fs::write(&file, text.replace('\n', end)).unwrap();
            // when it is imported, then its row is read, its quote over two lines.
            let report = import(&log, &file, &QUOTE_FLAGS);
            assert!(refused_lines(&report).is_empty(), "{layout} {name}: {report}");
        }
    }
    // One stance each, the same whatever the line ends (see the CRLF regression below).
    let quote = Some("line one\nline two".to_string());
    assert_eq!(
        declared(&log),
        [
            ("USA".to_string(), "2024-01-01".to_string(), quote.clone()),
            ("RUS".to_string(), "2024-01-02".to_string(), quote),
        ]
    );
    // Given a quote never closed in a middle row, and one in the last row without a line end,
    let unclosed = [
        ("actor,quote,date\nUSA,\"line one\nline two,2024-01-01\nRUS,x,2024-01-01\n", 4),
        ("actor,quote,date\nUSA,\"line one", 2),
    ];
    for (end, name) in [("\n", "lf"), ("\r\n", "crlf"), ("\r", "cr")] {
        for (i, (text, last)) in unclosed.iter().enumerate() {
            let file = dir.path().join(format!("unclosed{i}-{name}.csv"));
            std::fs::write(&file, text.replace('\n', end)).unwrap();
            let mut args = vec!["import", "csv", file.to_str().unwrap()];
            args.extend_from_slice(&QUOTE_FLAGS);
            // when it is imported, then the import stops at the row where the quote begins.
            let o = run_log(&log, &args, None);
            assert_eq!(o.status.code(), Some(2), "{name}");
            assert_eq!(
                stderr(&o),
                format!(
                    "stancelog: error: {}:2: a quoted value that begins in this row is never closed (no closing `\"`): the rest of the file, to line {last}, would be read as one value\n",
                    file.display()
                ),
                "{name}"
            );
        }
    }
    assert_eq!(declared(&log).len(), 2);
}
}

on_both_backends! {
/// Regression (brk30 item 7): a CRLF re-save of a sheet with a quote over two lines appended
/// the quote again as a citation (`line one\r\nline two` beside `line one\nline two`). Line
/// breaks in a cell are now read as `\n`, so CRLF and CR copies append nothing.
#[test]
fn a_crlf_or_cr_copy_of_a_sheet_with_a_multi_line_quote_appends_nothing() {
    // Given a sheet with a quote over two lines, imported from its LF copy,
    let (dir, log) = empty_log();
    let text = "actor,quote,date\nUSA,\"line one\nline two\",2024-01-01\nRUS,x,2024-01-01\n";
    let lf = dir.path().join("lf.csv");
    std::fs::write(&lf, text).unwrap();
    assert_eq!(import(&log, &lf, &QUOTE_FLAGS)["appended"], 5);
    for (end, name) in [("\r\n", "crlf.csv"), ("\r", "cr.csv")] {
        // when its CRLF (then CR) copy is imported,
        let file = dir.path().join(name);
        std::fs::write(&file, text.replace('\n', end)).unwrap();
        let report = import(&log, &file, &QUOTE_FLAGS);
        // then nothing is appended: both rows are already present.
        assert_eq!(report["appended"], 0, "{name}: {report}");
        assert_eq!(report["already_present"], 2, "{name}: {report}");
    }
    assert_eq!(
        declared(&log)[0],
        ("USA".to_string(), "2024-01-01".to_string(), Some("line one\nline two".to_string()))
    );
}
}

on_both_backends! {
/// Regression (brk30 item 5): `--slug-ids` slugged before Unicode NFC, so `Côte` precomposed
/// gave `côte` and decomposed (`Co` + U+0302 + `te`) gave `co-te`: two actors of one name.
#[test]
fn a_name_precomposed_and_decomposed_slugs_to_one_id() {
    assert_eq!(slug("Co\u{302}te d'Ivoire"), "côte-d-ivoire");
    assert_eq!(slug("C\u{f4}te d'Ivoire"), "côte-d-ivoire");
    // Given one name written precomposed, then decomposed,
    let (dir, log) = empty_log();
    let file = dir.path().join("s.csv");
    std::fs::write(&file, "actor,date\nC\u{f4}te,2024-01-01\nCo\u{302}te,2024-01-02\n").unwrap();
    let flags = [
        "--actor-col", "actor", "--slug-ids", "--topic", "t1", "--stance", "support", "--date-col",
        "date", "--register", "--actor-country", "XKX",
    ];
    // when imported with --slug-ids,
    let report = import(&log, &file, &flags);
    // then both rows are stances of one actor, `côte`.
    assert_eq!(report["appended"], 4, "{report}");
    assert_eq!(
        declared(&log),
        [
            ("côte".to_string(), "2024-01-01".to_string(), None),
            ("côte".to_string(), "2024-01-02".to_string(), None),
        ]
    );
}
}

on_both_backends! {
/// Regression (rt30 finding 5): `--slug-ids` made a combining mark with no precomposed form
/// (Yoruba tone marks on a dotted letter, U+0300 and U+0301 on `ọ`) a `-`, so `Ọ̀yọ́ State` and
/// `Ọ yọ State` were one actor. A mark (Unicode category M) is now kept as a letter.
#[test]
fn a_combining_mark_stays_in_the_slug() {
    assert_eq!(slug("\u{1ecc}\u{300}y\u{1ecd}\u{301} State"), "\u{1ecd}\u{300}y\u{1ecd}\u{301}-state");
    assert_eq!(slug("\u{1ecc} y\u{1ecd} State"), "\u{1ecd}-y\u{1ecd}-state");
    assert_eq!(slug("Aq\u{307}b"), "aq\u{307}b");
    // Given two names that differ only by their marks,
    let (dir, log) = empty_log();
    let file = dir.path().join("s.csv");
    std::fs::write(
        &file,
        "actor,date\n\u{1ecc}\u{300}y\u{1ecd}\u{301} State,2024-01-01\n\u{1ecc} y\u{1ecd} State,2024-01-02\n",
    )
    .unwrap();
    let flags = [
        "--actor-col", "actor", "--slug-ids", "--topic", "t1", "--stance", "support", "--date-col",
        "date", "--register", "--actor-country", "NGA",
    ];
    // when imported with --slug-ids,
    let report = import(&log, &file, &flags);
    // then they are two actors, each with its stance.
    assert_eq!(report["appended"], 5, "{report}");
    assert_eq!(
        declared(&log),
        [
            ("\u{1ecd}\u{300}y\u{1ecd}\u{301}-state".to_string(), "2024-01-01".to_string(), None),
            ("\u{1ecd}-y\u{1ecd}-state".to_string(), "2024-01-02".to_string(), None),
        ]
    );
}
}
