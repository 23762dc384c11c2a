//! `stancelog import treaty-status`: a treaty's status table, and its dated versions
//! (`--snapshots`) replayed so that "known at the end of day S" is the table as it stood on S.
//!
//! The expected tables are read from the CSV files here, independently of the importer; the
//! answers are the library's (`History::positions_at` / `timeline_at`) and the CLI's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use stancelog::core::{At, Day, EventBody, Filter, History, Seq, Stance, Status, TopicId};
use stancelog::import::treaty::{TreatyOptions, import_treaty_status};
use stancelog::import::{ImportReport, NoProgress};
use stancelog::store::Log;

use crate::backends::on_both_backends;
use crate::support::{empty_log, json, run_log, stderr, stdout};

const TOPIC: &str = "paris-agreement";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/treaty")
        .join(name)
}

fn time(text: &str) -> jiff::Timestamp {
    text.parse().expect("RFC 3339 time")
}

/// The last microsecond of a UTC day: what `--known-at YYYY-MM-DD` means.
fn end_of(day: &str) -> jiff::Timestamp {
    format!("{day}T23:59:59.999999Z").parse().expect("time")
}

fn snapshots_opts() -> TreatyOptions {
    TreatyOptions {
        snapshots: true,
        ..TreatyOptions::new(time("2030-01-01T00:00:00Z"))
    }
}

fn import(log: &Path, file: &Path, opts: &TreatyOptions) -> stancelog::Result<ImportReport> {
    crate::backends::on_log(log, |target| {
        import_treaty_status(target, file, opts, Duration::from_secs(5), &NoProgress)
    })
}

fn history(log: &Path) -> History {
    Log::open(log).expect("log reads").history().clone()
}

fn topic_filter() -> Filter {
    Filter {
        topics: [TopicId::new(TOPIC).unwrap()].into(),
        ..Filter::default()
    }
}

// ---------------------------------------------------------------------------------------------
// The expected tables, parsed independently of the importer.

/// What a version of the table says about one party that signed or ratified.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    signature: Option<String>,
    ratification: Option<String>,
    /// The kind in lower case, when the version gives one.
    kind: Option<String>,
}

/// One version of the table: its date, commit, and the parties that signed or ratified.
#[derive(Debug, Clone)]
struct Version {
    date: String,
    commit: String,
    parties: BTreeMap<String, Expected>,
}

/// Reads a snapshots file: versions in file order. Codes as the importer documents: `EU28` is
/// the European Union's `EUU`, and a row without a code is the party of that name in the version
/// before.
fn read_snapshots(path: &Path) -> Vec<Version> {
    let mut r = csv::Reader::from_path(path).expect("snapshots file");
    let mut versions: Vec<Version> = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut names_next: BTreeMap<String, String> = BTreeMap::new();
    for row in r.records() {
        let row = row.expect("csv row");
        let (date, commit, code, name) = (&row[0], &row[1], &row[2], &row[3]);
        if versions.last().is_none_or(|v| v.commit != commit) {
            names = std::mem::take(&mut names_next);
            versions.push(Version {
                date: date.to_string(),
                commit: commit.to_string(),
                parties: BTreeMap::new(),
            });
        }
        let code = match code {
            "EU28" => "EUU".to_string(),
            "" => names.get(name).cloned().expect("a known name"),
            c => c.to_string(),
        };
        names_next.insert(name.to_string(), code.clone());
        let text = |i: usize| Some(row[i].to_string()).filter(|s| !s.is_empty());
        let e = Expected {
            signature: text(4),
            ratification: text(5),
            kind: text(6).map(|k| k.to_lowercase()),
        };
        if e.signature.is_some() || e.ratification.is_some() {
            versions.last_mut().unwrap().parties.insert(code, e);
        }
    }
    versions
}

/// Reads a current status table (Code, Name, Signature, Ratification, Kind, ...).
fn read_table(path: &Path) -> BTreeMap<String, Expected> {
    let mut r = csv::Reader::from_path(path).expect("table");
    let mut out = BTreeMap::new();
    for row in r.records() {
        let row = row.expect("csv row");
        let text = |i: usize| Some(row[i].to_string()).filter(|s| !s.is_empty());
        let e = Expected {
            signature: text(2),
            ratification: text(3),
            kind: text(4).map(|k| k.to_lowercase()),
        };
        if e.signature.is_some() || e.ratification.is_some() {
            out.insert(row[0].to_string(), e);
        }
    }
    out
}

/// The last version of each date, in date order.
fn last_of_each_date(versions: &[Version]) -> Vec<&Version> {
    let mut out: Vec<&Version> = Vec::new();
    for v in versions {
        match out.last_mut() {
            Some(last) if last.date == v.date => *last = v,
            _ => out.push(v),
        }
    }
    out
}

/// Asserts that the log, known at `known`, holds exactly the table `expected`: each party's
/// position (`ratified` on its ratification date with its instrument, else `signed` on its
/// signature date), and in the timeline one live signature on its date (superseded when the
/// party ratified) and no live ratification of a party that has none. `strict_kind`: a version
/// without a kind must show no instrument either.
fn assert_table(
    h: &History,
    known: Seq,
    expected: &BTreeMap<String, Expected>,
    strict_kind: bool,
    what: &str,
) {
    let at = At {
        as_of: None,
        known: Some(known),
    };
    let positions = h.positions_at(at, &topic_filter());
    let got: BTreeSet<String> = positions.iter().map(|p| p.actor.to_string()).collect();
    let want: BTreeSet<String> = expected.keys().cloned().collect();
    assert_eq!(
        got.symmetric_difference(&want).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "{what}: parties with a position differ from the table's"
    );
    assert_eq!(positions.len(), expected.len(), "{what}: one position each");
    for p in &positions {
        let e = &expected[p.actor.as_str()];
        let s = &p.stance;
        let instrument = s.instrument.map(|i| i.as_str().to_string());
        match &e.ratification {
            Some(r) => {
                assert_eq!(s.stance, Stance::Ratified, "{what}: {}", p.actor);
                assert_eq!(&s.date.to_string(), r, "{what}: {} ratified", p.actor);
                if e.kind.is_some() || strict_kind {
                    assert_eq!(instrument, e.kind, "{what}: {} instrument", p.actor);
                }
            }
            None => {
                assert_eq!(s.stance, Stance::Signed, "{what}: {}", p.actor);
                assert_eq!(
                    Some(s.date.to_string()),
                    e.signature,
                    "{what}: {} signed",
                    p.actor
                );
                assert_eq!(instrument, None, "{what}: {}", p.actor);
            }
        }
    }
    // The timeline: live signatures and ratifications per party.
    let mut signed: BTreeMap<String, Vec<(String, Status)>> = BTreeMap::new();
    let mut ratified: BTreeMap<String, Vec<(String, Status)>> = BTreeMap::new();
    for t in h.timeline_at(Some(known), &topic_filter()) {
        if matches!(t.status, Status::Retracted { .. }) {
            continue;
        }
        let s = &t.position.stance;
        let into = match s.stance {
            Stance::Signed => &mut signed,
            Stance::Ratified => &mut ratified,
            other => panic!("{what}: unexpected stance {other}"),
        };
        into.entry(t.position.actor.to_string())
            .or_default()
            .push((s.date.to_string(), t.status));
    }
    for (code, e) in expected {
        let sig = signed.remove(code).unwrap_or_default();
        match &e.signature {
            Some(d) => {
                assert_eq!(sig.len(), 1, "{what}: {code} has one live signature");
                assert_eq!(&sig[0].0, d, "{what}: {code} signature date");
                let status = if e.ratification.is_some() {
                    "superseded"
                } else {
                    "current"
                };
                assert_eq!(sig[0].1.as_str(), status, "{what}: {code} signature status");
            }
            None => assert!(sig.is_empty(), "{what}: {code} has no signature: {sig:?}"),
        }
        let rat = ratified.remove(code).unwrap_or_default();
        match &e.ratification {
            Some(d) => {
                let current = rat.last().expect("a live ratification");
                assert_eq!(&current.0, d, "{what}: {code} ratification in the timeline");
                assert_eq!(current.1, Status::Current, "{what}: {code}");
            }
            None => assert!(
                rat.is_empty(),
                "{what}: {code} has no ratification: {rat:?}"
            ),
        }
    }
    assert!(
        signed.is_empty(),
        "{what}: signatures of unlisted parties: {signed:?}"
    );
    assert!(
        ratified.is_empty(),
        "{what}: ratifications of unlisted parties: {ratified:?}"
    );
}

/// The position of one actor, as (stance, date, instrument).
fn position_of(h: &History, known: Option<Seq>, actor: &str) -> (String, String, Option<String>) {
    let mut f = topic_filter();
    f.actors
        .insert(stancelog::core::ActorId::new(actor).unwrap());
    let p = h.positions_at(At { as_of: None, known }, &f);
    assert_eq!(p.len(), 1, "{actor} has one position");
    let s = &p[0].stance;
    (
        s.stance.to_string(),
        s.date.to_string(),
        s.instrument.map(|i| i.to_string()),
    )
}

fn pos(stance: &str, date: &str, instrument: Option<&str>) -> (String, String, Option<String>) {
    (
        stance.to_string(),
        date.to_string(),
        instrument.map(str::to_string),
    )
}

fn count_types(h: &History) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for e in h.events() {
        *m.entry(e.body.type_name()).or_insert(0) += 1;
    }
    m
}

// ---------------------------------------------------------------------------------------------
// Fixtures

on_both_backends! {
#[test]
fn each_fixture_version_is_reproduced_known_at_its_date() {
    let (_dir, log) = empty_log();
    let file = fixture("snapshots.csv");
    let r = import(&log, &file, &snapshots_opts()).unwrap();
    assert!(r.refused.is_empty(), "{:?}", r.refused);
    let h = history(&log);
    assert_eq!(r.appended, h.seq_last());
    let versions = read_snapshots(&file);
    assert_eq!(versions.len(), 3);
    for v in last_of_each_date(&versions) {
        let known = h.seq_known_at(end_of(&v.date));
        assert_table(
            &h,
            known,
            &v.parties,
            false,
            &format!("version {}", v.commit),
        );
    }
    // Each version is one batch recorded at its snapshot date.
    let stamps: BTreeSet<String> = h.events().map(|e| e.recorded_at.to_string()).collect();
    assert_eq!(
        stamps.into_iter().collect::<Vec<_>>(),
        [
            "2016-07-12T00:00:00Z",
            "2016-09-05T00:00:00Z",
            "2021-01-21T00:00:00Z"
        ]
    );
    // Registrations: the topic, and each party on first appearance (EU28 is EUU; the row
    // without a code is Palestine; Syria first appears in the third version).
    let t = h.topic(&TopicId::new(TOPIC).unwrap()).unwrap();
    assert_eq!(
        (t.title.as_str(), t.kind.as_str()),
        ("Paris Agreement", "treaty")
    );
    let actors: Vec<String> = h.actors().keys().map(|a| a.to_string()).collect();
    assert_eq!(
        actors,
        [
            "CHN", "EUU", "FRA", "KEN", "NIC", "NOR", "PSE", "SYR", "TUV", "USA"
        ]
    );
    let eu = h
        .actor(&stancelog::core::ActorId::new("EUU").unwrap())
        .unwrap();
    assert_eq!(
        (eu.kind.as_str(), eu.country.as_str(), eu.sector.as_str()),
        ("organization", "IGO", "IGO")
    );
    let fr = h
        .actor(&stancelog::core::ActorId::new("FRA").unwrap())
        .unwrap();
    assert_eq!(
        (fr.kind.as_str(), fr.country.as_str(), fr.sector.as_str()),
        ("state", "FRA", "GOV")
    );
    // v1: 1 topic + 9 actors + 8 signed + 4 ratified.
    // v2: USA, EUU, NIC ratified; FRA kind, CHN date, KEN signature corrected; NOR ratification
    //     and TUV's signature retracted.
    // v3: SYR registered and ratified; USA and NOR ratified anew; CHN kind corrected; FRA's kind
    //     gone changes nothing.
    assert_eq!(
        count_types(&h),
        BTreeMap::from([
            ("actor.registered", 10),
            ("topic.registered", 1),
            ("stance.declared", 8 + 4 + 3 + 3),
            ("stance.corrected", 3 + 1),
            ("stance.retracted", 2),
        ])
    );
}
}

on_both_backends! {
#[test]
fn each_change_kind_is_encoded_as_documented() {
    let (_dir, log) = empty_log();
    import(&log, &fixture("snapshots.csv"), &snapshots_opts()).unwrap();
    let h = history(&log);
    let k = |day: &str| Some(h.seq_known_at(end_of(day)));
    // A kind that appears: the stance corrected (FRA), kept when it disappears again.
    assert_eq!(
        position_of(&h, k("2016-07-12"), "FRA"),
        pos("ratified", "2016-06-15", None)
    );
    assert_eq!(
        position_of(&h, k("2016-09-05"), "FRA"),
        pos("ratified", "2016-06-15", Some("approval"))
    );
    assert_eq!(
        position_of(&h, None, "FRA"),
        pos("ratified", "2016-06-15", Some("approval"))
    );
    // A ratification date moved to a day before the earlier version: a correction (CHN), and a
    // kind that changes: another.
    assert_eq!(
        position_of(&h, k("2016-07-12"), "CHN"),
        pos("ratified", "2016-06-30", Some("ratification"))
    );
    assert_eq!(
        position_of(&h, k("2016-09-05"), "CHN"),
        pos("ratified", "2016-06-03", Some("ratification"))
    );
    assert_eq!(
        position_of(&h, None, "CHN"),
        pos("ratified", "2016-06-03", Some("accession"))
    );
    // A ratification dated after the version before was seen: a new instrument, the old one
    // superseded, not rewritten (so valid time still shows the first one in between).
    assert_eq!(
        position_of(&h, None, "USA"),
        pos("ratified", "2021-01-20", Some("acceptance"))
    );
    let usa = {
        let mut f = topic_filter();
        f.actors
            .insert(stancelog::core::ActorId::new("USA").unwrap());
        f
    };
    let statuses: Vec<(String, String, &str)> = h
        .timeline(&usa)
        .iter()
        .map(|t| {
            (
                t.position.stance.stance.to_string(),
                t.position.stance.date.to_string(),
                t.status.as_str(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("signed".into(), "2016-04-22".into(), "superseded"),
            ("ratified".into(), "2016-09-03".into(), "superseded"),
            ("ratified".into(), "2021-01-20".into(), "current"),
        ]
    );
    let in_2019 = h.positions_at(At::day(Day::parse("2019-06-01").unwrap()), &usa);
    assert_eq!(in_2019[0].stance.date.to_string(), "2016-09-03");
    // A ratification that disappears: retracted (NOR), and when it is back, a new stance; a row
    // that disappears: its stances retracted (TUV).
    assert_eq!(
        position_of(&h, k("2016-09-05"), "NOR"),
        pos("signed", "2016-04-22", None)
    );
    assert_eq!(
        position_of(&h, None, "NOR"),
        pos("ratified", "2016-10-20", Some("approval"))
    );
    let reasons: Vec<String> = h
        .events()
        .filter_map(|e| match &e.body {
            EventBody::StanceRetracted(r) => Some(r.reason.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons.len(), 2);
    for r in &reasons {
        assert!(
            r.contains("version aaaaaaaaaaaa of 2016-07-12")
                && r.contains("version bbbbbbbbbbbb of 2016-09-05"),
            "a retraction names both versions: {r}"
        );
    }
    assert!(
        h.positions_at(
            At {
                as_of: None,
                known: k("2016-09-05")
            },
            &{
                let mut f = topic_filter();
                f.actors
                    .insert(stancelog::core::ActorId::new("TUV").unwrap());
                f
            }
        )
        .is_empty()
    );
    // A signature date that changes: corrected (KEN).
    assert_eq!(
        position_of(&h, k("2016-07-12"), "KEN"),
        pos("signed", "2016-04-23", None)
    );
    assert_eq!(
        position_of(&h, None, "KEN"),
        pos("signed", "2016-04-22", None)
    );
    // Every correction names the two versions it comes between.
    for e in h.events() {
        if let EventBody::StanceCorrected(c) = &e.body {
            assert!(c.reason.contains(" and version "), "{}", c.reason);
        }
    }
}
}

on_both_backends! {
#[test]
fn reimporting_appends_nothing_and_a_longer_file_only_its_new_versions() {
    let (dir, log) = empty_log();
    let full = fixture("snapshots.csv");
    let text = std::fs::read_to_string(&full).unwrap();
    let first_two: String = text
        .lines()
        .filter(|l| !l.starts_with("2021-01-21"))
        .map(|l| format!("{l}\n"))
        .collect();
    let part = dir.path().join("first-two.csv");
    std::fs::write(&part, first_two).unwrap();
    let a = import(&log, &part, &snapshots_opts()).unwrap();
    let b = import(&log, &full, &snapshots_opts()).unwrap();
    assert_eq!(b.already_present, a.appended);
    assert!(b.appended > 0);
    let whole = import(&log, &full, &snapshots_opts()).unwrap();
    assert_eq!(
        (whole.appended, whole.already_present),
        (0, a.appended + b.appended)
    );
    // The log is the one a single import writes.
    let (_dir2, log2) = empty_log();
    import(&log2, &full, &snapshots_opts()).unwrap();
    assert_eq!(std::fs::read(&log).unwrap(), std::fs::read(&log2).unwrap());
}
}

on_both_backends! {
#[test]
fn a_snapshot_import_refuses_a_log_with_later_events() {
    let (_dir, log) = empty_log();
    let o = run_log(
        &log,
        &["append"],
        Some(
            br#"{"type":"actor.registered","actor":"FRA","name":"France","kind":"state","country":"FRA","sector":"GOV"}"#,
        ),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let before = std::fs::read(&log).unwrap();
    let e = import(&log, &fixture("snapshots.csv"), &snapshots_opts()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("not before 2016-07-12T00:00:00.000000Z") && msg.contains("new log"),
        "{msg}"
    );
    assert_eq!(std::fs::read(&log).unwrap(), before, "nothing appended");
    // And through the CLI: exit 2 with the message.
    let o = run_log(
        &log,
        &[
            "import",
            "treaty-status",
            "--snapshots",
            fixture("snapshots.csv").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("new log"), "{}", stderr(&o));
}
}

/// A snapshot dated after now is refused, nothing appended: recorded at that date, it stamped
/// every later append after it, so no --known-at could see past it (it was accepted; a row's
/// own recorded time in the future is refused so by the other importers).
#[test]
fn a_snapshot_dated_in_the_future_is_refused() {
    let (dir, log) = empty_log();
    let file = dir.path().join("sn.csv");
    std::fs::write(
        &file,
        "snapshot_date,commit,code,name,signature,ratification,kind,date_of_effect\n\
         2016-05-01,c0,GBR,UK,2016-04-22,,,\n\
         2099-01-01,c1,GBR,UK,2016-04-22,2016-11-18,Ratification,\n",
    )
    .unwrap();
    let before = std::fs::read(&log).unwrap();
    let o = run_log(
        &log,
        &[
            "import",
            "treaty-status",
            "--snapshots",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "stancelog: error: version c1 of 2099-01-01 is dated in the future (it is now "
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&log).unwrap(), before, "nothing appended");
}

on_both_backends! {
#[test]
fn a_snapshot_import_reuses_actors_registered_before_it() {
    // An actor registered before the first snapshot date is used as it is.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    Log::create(&log).unwrap();
    let batch = stancelog::store::parse_batch(
        "-",
        br#"{"type":"actor.registered","actor":"FRA","name":"French Republic","kind":"state","country":"FRA","sector":"GOV"}"#,
    )
    .unwrap();
    crate::backends::on_log(&log, |target| stancelog::store::append(
        target,
        &batch,
        "-",
        &stancelog::store::AppendOptions {
            recorded_at: time("2015-01-01T00:00:00Z"),
            expect_seq: None,
            wait: Duration::from_secs(5),
        },
    ))
    .unwrap();
    import(&log, &fixture("snapshots.csv"), &snapshots_opts()).unwrap();
    let h = history(&log);
    let fr = h
        .actor(&stancelog::core::ActorId::new("FRA").unwrap())
        .unwrap();
    assert_eq!(fr.name, "French Republic");
    assert_eq!(position_of(&h, None, "FRA").0, "ratified");
}
}

on_both_backends! {
#[test]
fn versions_of_one_date_are_a_microsecond_apart_in_file_order() {
    let (_dir, log) = empty_log();
    import(&log, &fixture("same-date.csv"), &snapshots_opts()).unwrap();
    let h = history(&log);
    let stamps: Vec<String> = h
        .events()
        .map(|e| stancelog::store::format_recorded_at(&e.recorded_at))
        .collect();
    assert_eq!(
        stamps,
        [
            "2016-09-05T00:00:00.000000Z",
            "2016-09-05T00:00:00.000000Z",
            "2016-09-05T00:00:00.000000Z",
            "2016-09-05T00:00:00.000000Z",
            "2016-09-05T00:00:00.000001Z",
        ]
    );
    let first = h.seq_known_at(time("2016-09-05T00:00:00Z"));
    assert_eq!(
        position_of(&h, Some(first), "USA"),
        pos("ratified", "2016-09-03", None)
    );
    let day = h.seq_known_at(end_of("2016-09-05"));
    assert_eq!(
        position_of(&h, Some(day), "USA"),
        pos("ratified", "2016-09-03", Some("acceptance"))
    );
}
}

on_both_backends! {
#[test]
fn bad_rows_are_refused_and_leave_their_party_as_it_was() {
    let (_dir, log) = empty_log();
    let r = import(&log, &fixture("bad-rows.csv"), &snapshots_opts()).unwrap();
    let lines: Vec<u64> = r.refused.iter().map(|x| x.line).collect();
    assert_eq!(lines, [4, 5, 6, 7, 8], "{:#?}", r.refused);
    assert!(
        r.refused[0].reason.contains("2016-09-31"),
        "{}",
        r.refused[0].reason
    );
    assert!(
        r.refused[1].reason.contains("Treaty"),
        "{}",
        r.refused[1].reason
    );
    assert!(
        r.refused[2].reason.contains("usa"),
        "{}",
        r.refused[2].reason
    );
    assert!(
        r.refused[3].reason.contains("twice"),
        "{}",
        r.refused[3].reason
    );
    assert!(
        r.refused[4].reason.contains("Atlantis"),
        "{}",
        r.refused[4].reason
    );
    let h = history(&log);
    assert_eq!(
        position_of(&h, None, "USA"),
        pos("signed", "2016-04-22", None)
    );
    assert_eq!(
        position_of(&h, None, "FRA"),
        pos("ratified", "2016-06-15", Some("ratification"))
    );
    // The second version changed nothing, so nothing was recorded for it.
    assert!(
        h.events()
            .all(|e| e.recorded_at == time("2016-07-12T00:00:00Z"))
    );
    // The CLI lists the refused rows.
    let (_dir2, log2) = empty_log();
    let o = run_log(
        &log2,
        &[
            "import",
            "treaty-status",
            "--snapshots",
            fixture("bad-rows.csv").to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    // Exit 2: rows were refused (the rest is appended all the same).
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("5 row(s) refused"), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["refused"].as_array().unwrap().len(), 5);
    assert_eq!(v["appended"], r.appended);
}
}

on_both_backends! {
/// Regression (brk30 1b): a row with an empty name was refused but its `actor.registered`
/// (`"name":""`) still appended, which the log then refused to read; rows refused for a bad
/// kind left their actor registered; code `ABC` was taken; one short row stopped the import.
/// (rt31: its refusal then listed IGO, NGO and user-assigned codes as accepted.) Given a table (and the same rows as one snapshot) with such rows and one good row, when
/// imported, then each bad row is refused naming what is wrong, only the good row's events are
/// appended, and the log verifies.
#[test]
fn a_refused_row_appends_nothing_of_its_own() {
    let rows = [
        "FRA,,2016-04-22,2016-10-05,Ratification",
        "DEU,Germany,2016-04-22,2016-10-05,Treaty",
        "GBR,United Kingdom",
        "ABC,Nowhere,2016-04-22,,",
        "USA,United States of America,2016-04-22,,",
    ];
    let table = format!("Code,Name,Signature,Ratification,Kind\n{}\n", rows.join("\n"));
    let snapshots: Vec<String> = rows.iter().map(|r| format!("2016-07-12,aaaaaaaaaaaa,{r}")).collect();
    let snapshots = format!(
        "snapshot_date,commit,code,name,signature,ratification,kind\n{}\n",
        snapshots.join("\n")
    );
    let table_opts = TreatyOptions::new(time("2030-01-01T00:00:00Z"));
    for (text, opts) in [(table, table_opts), (snapshots, snapshots_opts())] {
        let (dir, log) = empty_log();
        let file = dir.path().join("status.csv");
        std::fs::write(&file, text).unwrap();
        let r = import(&log, &file, &opts).unwrap();
        let refused: Vec<(u64, &str)> =
            r.refused.iter().map(|x| (x.line, x.reason.as_str())).collect();
        assert_eq!(refused.len(), 4, "{refused:#?}");
        assert_eq!(refused[0], (2, "FRA: no name; the party is left as it was"));
        assert_eq!(refused[1].0, 3);
        assert!(refused[1].1.starts_with("DEU: kind `Treaty` is none of"), "{}", refused[1].1);
        let short = if opts.snapshots { 4 } else { 2 };
        assert_eq!(
            refused[2],
            (4, format!("GBR: has {} fields where the header has {}; the party is left as it was", short, short + 3).as_str())
        );
        assert_eq!(refused[3].0, 5);
        // rt31: the message listed IGO, NGO and user-assigned codes as accepted, which they
        // are not for a treaty's party.
        assert_eq!(refused[3], (5, "code: `ABC` is not a state's code (ISO 3166-1 alpha-3, a former ISO 3166-3 code, or XKX for Kosovo), nor EUU for the European Union: a treaty's party is one of those"));
        assert_eq!(r.appended, 3, "the topic, USA and its signature");
        let h = history(&log);
        let actors: Vec<String> = h.actors().keys().map(|a| a.to_string()).collect();
        assert_eq!(actors, ["USA"]);
        assert_eq!(position_of(&h, None, "USA"), pos("signed", "2016-04-22", None));
        let o = run_log(&log, &["verify"], None);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
}
}

on_both_backends! {
/// Regression (rt30, minor): `IGO` was registered as a state named "Igo" with country IGO, and
/// `XXX` as a state; a table whose rows were all refused still appended its topic; a file with
/// a header only named no line. Given tables (and snapshots) of non-state codes only, when
/// imported, then each row is refused, nothing is appended, and the log verifies; a header-only
/// file is refused at line 1.
#[test]
fn a_code_that_is_no_state_is_refused_and_all_refused_appends_nothing() {
    let rows = ["IGO,Igo,2016-04-22,,", "XXX,Unknown,2016-04-22,,", "NGO,Ngo,2016-04-22,,"];
    let table = format!("Code,Name,Signature,Ratification,Kind\n{}\n", rows.join("\n"));
    let snapshots: Vec<String> = rows.iter().map(|r| format!("2016-07-12,aaaaaaaaaaaa,{r}")).collect();
    let snapshots = format!(
        "snapshot_date,commit,code,name,signature,ratification,kind\n{}\n",
        snapshots.join("\n")
    );
    let table_opts = TreatyOptions::new(time("2030-01-01T00:00:00Z"));
    for (text, opts) in [(table, table_opts), (snapshots, snapshots_opts())] {
        let (dir, log) = empty_log();
        let file = dir.path().join("status.csv");
        std::fs::write(&file, text).unwrap();
        let r = import(&log, &file, &opts).unwrap();
        let refused: Vec<(u64, &str)> =
            r.refused.iter().map(|x| (x.line, x.reason.as_str())).collect();
        let why = |code: &str| {
            format!(
                "code: `{code}` is not a state's code (ISO 3166-1 alpha-3, a former ISO 3166-3 code, or XKX for Kosovo), nor EUU for the European Union: a treaty's party is one of those"
            )
        };
        let expected = [(2, why("IGO")), (3, why("XXX")), (4, why("NGO"))];
        let expected: Vec<(u64, &str)> = expected.iter().map(|(l, w)| (*l, w.as_str())).collect();
        assert_eq!(refused, expected);
        assert_eq!(r.appended, 0);
        assert_eq!(history(&log).seq_last(), 0);
        let o = run_log(&log, &["verify"], None);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    // Kosovo's user-assigned code is a state's.
    let (dir, log) = empty_log();
    let file = dir.path().join("status.csv");
    std::fs::write(&file, "Code,Name,Signature,Ratification,Kind\nXKX,Kosovo,2016-04-22,,\n").unwrap();
    let r = import(&log, &file, &TreatyOptions::new(time("2030-01-01T00:00:00Z"))).unwrap();
    assert_eq!((r.appended, r.refused.len()), (3, 0));
    let h = history(&log);
    let xk = h.actor(&stancelog::core::ActorId::new("XKX").unwrap()).unwrap();
    assert_eq!(
        (xk.kind.as_str(), xk.country.as_str(), xk.sector.as_str()),
        ("state", "XKX", "GOV")
    );
    // A header and no rows: refused at line 1, as the other importers do.
    std::fs::write(&file, "Code,Name,Signature,Ratification,Kind\n").unwrap();
    let e = import(&log, &file, &TreatyOptions::new(time("2030-01-01T00:00:00Z"))).unwrap_err();
    assert_eq!(e.to_string(), format!("{}:1: no rows: the file holds only a header", file.display()));
}
}

on_both_backends! {
#[test]
fn the_wrong_kind_of_file_is_refused_with_a_hint() {
    let (_dir, log) = empty_log();
    let e = import(&log, &fixture("current.csv"), &snapshots_opts()).unwrap_err();
    assert!(e.to_string().contains("leave out --snapshots"), "{e}");
    let table = TreatyOptions::new(time("2030-01-01T00:00:00Z"));
    let e = import(&log, &fixture("snapshots.csv"), &table).unwrap_err();
    assert!(e.to_string().contains("with --snapshots"), "{e}");
    assert_eq!(history(&log).seq_last(), 0);
}
}

on_both_backends! {
#[test]
fn a_table_is_recorded_now_and_a_later_table_changes_it() {
    let (_dir, log) = empty_log();
    let mut opts = TreatyOptions::new(time("2020-06-01T12:00:00Z"));
    let r = import(&log, &fixture("current.csv"), &opts).unwrap();
    let h = history(&log);
    assert_eq!(r.appended, h.seq_last());
    assert!(h.events().all(|e| e.recorded_at == opts.now));
    assert_table(
        &h,
        h.seq_last(),
        &read_table(&fixture("current.csv")),
        true,
        "table",
    );
    // The same table again: nothing.
    let again = import(&log, &fixture("current.csv"), &opts).unwrap();
    assert_eq!((again.appended, again.already_present), (0, 0));
    // A later table: USA's new acceptance is a new stance, the EU's kind a correction, and
    // Tuvalu, no longer listed, retracted.
    opts.now = time("2021-02-01T00:00:00Z");
    let later = import(&log, &fixture("current-later.csv"), &opts).unwrap();
    let h = history(&log);
    let types: Vec<&str> = h
        .events()
        .skip(r.appended as usize)
        .map(|e| e.body.type_name())
        .collect();
    assert_eq!(later.appended as usize, types.len());
    assert_eq!(
        types,
        [
            "stance.declared",
            "stance.corrected",
            "stance.retracted",
            "stance.retracted"
        ]
    );
    assert_table(
        &h,
        h.seq_last(),
        &read_table(&fixture("current-later.csv")),
        true,
        "later",
    );
    // Known before the later table, the first one still stands.
    let before = h.seq_known_at(time("2020-06-01T12:00:00Z"));
    assert_table(
        &h,
        before,
        &read_table(&fixture("current.csv")),
        true,
        "first, known then",
    );
    assert_eq!(
        position_of(&h, None, "USA"),
        pos("ratified", "2021-01-20", Some("acceptance"))
    );
    assert_eq!(
        position_of(&h, None, "EUU"),
        pos("ratified", "2016-10-05", Some("ratification"))
    );
}
}

on_both_backends! {
#[test]
fn the_cli_imports_a_table_under_the_given_topic() {
    let (_dir, log) = empty_log();
    let o = run_log(
        &log,
        &[
            "import",
            "treaty-status",
            fixture("current.csv").to_str().unwrap(),
            "--topic",
            "paris",
            "--title",
            "Paris Agreement (2015)",
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)["appended"], 1 + 6 + 5 + 5);
    let o = run_log(&log, &["topics", "--format", "json"], None);
    let topics = stdout(&o);
    assert!(
        topics.contains("\"paris\"") && topics.contains("Paris Agreement (2015)"),
        "{topics}"
    );
    let o = run_log(
        &log,
        &[
            "positions",
            "--topic",
            "paris",
            "--actor",
            "NIC",
            "--format",
            "json",
        ],
        None,
    );
    let v = json(&o);
    assert_eq!(v[0]["stance"], "ratified");
    assert_eq!(v[0]["since"], "2017-10-23");
    assert_eq!(v[0]["instrument"], "accession");
    assert_eq!(v[0]["cite"]["via"], "United Nations Treaty Collection");
}
}

// ---------------------------------------------------------------------------------------------
// The real data: every snapshot of the Paris Agreement's status, 2016-07-12 to 2023-02-13.

#[cfg(feature = "real-data")]
mod real {
    use super::*;

    fn data() -> PathBuf {
        let dir = std::env::var_os("STANCELOG_DATA")
            .map(PathBuf::from)
            .expect(
                "STANCELOG_DATA must name the data folder when testing with --features real-data",
            );
        dir.join("treaty-ratifications")
    }

    fn snapshots() -> PathBuf {
        data().join("paris-agreement-snapshots.csv")
    }

    fn current() -> PathBuf {
        data().join("paris-agreement-entry-into-force.csv")
    }

    /// A log with every snapshot imported, shared by the tests of this module (built once per
    /// run, in Cargo's temporary folder for integration tests).
    fn imported() -> &'static Imported {
        static LOG: std::sync::OnceLock<Imported> = std::sync::OnceLock::new();
        LOG.get_or_init(|| {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("import-treaty");
            std::fs::create_dir_all(&dir).expect("temporary folder");
            let log = dir.join("paris-snapshots.jsonl");
            let _ = std::fs::remove_file(&log);
            Log::create(&log).expect("new log");
            let r = import(&log, &snapshots(), &snapshots_opts()).expect("import");
            let h = history(&log);
            Imported {
                log,
                report: r,
                history: h,
            }
        })
    }

    struct Imported {
        log: PathBuf,
        report: ImportReport,
        history: History,
    }

    #[test]
    fn every_snapshot_date_is_reproduced_known_at_that_date() {
        let Imported {
            report: r,
            history: h,
            ..
        } = imported();
        assert!(r.refused.is_empty(), "{:?}", r.refused);
        assert_eq!(r.appended, h.seq_last());
        let versions = read_snapshots(&snapshots());
        assert_eq!(versions.len(), 129);
        let dates = last_of_each_date(&versions);
        assert_eq!(dates.len(), 116);
        for v in &dates {
            let known = h.seq_known_at(end_of(&v.date));
            assert_table(
                h,
                known,
                &v.parties,
                true,
                &format!("{} ({})", v.date, v.commit),
            );
        }
        // The first and the last: 19 and 195 ratifications (SOURCE.md).
        let ratified = |v: &Version| {
            v.parties
                .values()
                .filter(|e| e.ratification.is_some())
                .count()
        };
        assert_eq!(ratified(dates[0]), 19);
        assert_eq!(ratified(dates[dates.len() - 1]), 195);
        // Before the first snapshot date nothing is known.
        assert_eq!(h.seq_known_at(end_of("2016-07-11")), 0);
    }

    #[test]
    fn the_cli_shows_each_snapshot_date_as_it_stood() {
        let Imported {
            log, history: h, ..
        } = imported();
        let versions = read_snapshots(&snapshots());
        let dates = last_of_each_date(&versions);
        let newest = stancelog::store::format_recorded_at(&h.events().last().unwrap().recorded_at);
        for (i, v) in dates.iter().enumerate() {
            // Every snapshot date as given; the last one ends after the newest event, so the
            // answer is the whole log's and the CLI names the cutoff it used.
            let at = v.date.clone();
            let is_last = i + 1 == dates.len();
            let o = run_log(
                log,
                &[
                    "positions",
                    "--topic",
                    TOPIC,
                    "--known-at",
                    &at,
                    "--format",
                    "json",
                ],
                None,
            );
            assert!(o.status.success(), "{at}: {}", stderr(&o));
            assert_eq!(
                stderr(&o).contains("is after the newest event"),
                is_last,
                "{at}"
            );
            let rows = json(&o);
            let got: BTreeMap<String, (String, String, Option<String>)> = rows
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["actor"].as_str().unwrap().to_string(),
                        (
                            p["stance"].as_str().unwrap().to_string(),
                            p["since"].as_str().unwrap().to_string(),
                            p["instrument"].as_str().map(str::to_string),
                        ),
                    )
                })
                .collect();
            let want: BTreeMap<String, (String, String, Option<String>)> = v
                .parties
                .iter()
                .map(|(code, e)| {
                    let p = match &e.ratification {
                        Some(r) => ("ratified".to_string(), r.clone(), e.kind.clone()),
                        None => ("signed".to_string(), e.signature.clone().unwrap(), None),
                    };
                    (code.clone(), p)
                })
                .collect();
            assert_eq!(got, want, "--known-at {at}");
        }
        // The last date's note names the newest event, which answered it.
        let last = &dates[dates.len() - 1].date;
        let o = run_log(log, &["positions", "--known-at", last], None);
        assert_eq!(o.status.code(), Some(0));
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(
            err.contains(&format!("as recorded by seq {} ({newest})", h.seq_last())),
            "{err}"
        );
    }

    #[test]
    fn the_united_states_accepted_in_2016_and_again_in_2021() {
        let h = &imported().history;
        let k = |t: jiff::Timestamp| Some(h.seq_known_at(t));
        // 2016-09-05: first listed without a kind, then (same day, next version) Acceptance.
        assert_eq!(
            position_of(h, k(time("2016-09-05T00:00:00Z")), "USA"),
            pos("ratified", "2016-09-03", None)
        );
        for day in ["2016-09-05", "2017-06-01", "2020-11-04", "2021-01-20"] {
            assert_eq!(
                position_of(h, k(end_of(day)), "USA"),
                pos("ratified", "2016-09-03", Some("acceptance")),
                "known at {day}"
            );
        }
        assert_eq!(
            position_of(h, k(end_of("2016-09-04")), "USA"),
            pos("signed", "2016-04-22", None)
        );
        // The change on 2021-01-21: the 2021-01-20 acceptance.
        for at in [k(end_of("2021-01-21")), None] {
            assert_eq!(
                position_of(h, at, "USA"),
                pos("ratified", "2021-01-20", Some("acceptance"))
            );
        }
        let mut f = topic_filter();
        f.actors
            .insert(stancelog::core::ActorId::new("USA").unwrap());
        let line: Vec<(String, String, String)> = h
            .timeline_at(k(end_of("2021-01-21")), &f)
            .iter()
            .map(|t| {
                (
                    t.position.stance.stance.to_string(),
                    t.position.stance.date.to_string(),
                    t.status.as_str().to_string(),
                )
            })
            .collect();
        assert_eq!(
            line,
            [
                ("signed".into(), "2016-04-22".into(), "superseded".into()),
                ("ratified".into(), "2016-09-03".into(), "superseded".into()),
                ("ratified".into(), "2021-01-20".into(), "current".into()),
            ]
        );
        // The 2016 acceptance was recorded on 2016-09-05, the 2021 one on 2021-01-21.
        let recorded: Vec<String> = h
            .timeline(&f)
            .iter()
            .filter(|t| t.position.stance.stance == Stance::Ratified)
            .map(|t| {
                let at = t.position.event.recorded_at;
                jiff::tz::Offset::UTC.to_datetime(at).date().to_string()
            })
            .collect();
        assert_eq!(recorded, ["2016-09-05", "2021-01-21"]);
    }

    #[test]
    fn ratifications_between_2016_11_04_and_2017_11_04() {
        let h = &imported().history;
        let from = Day::parse("2016-11-04").unwrap();
        let to = Day::parse("2017-11-04").unwrap();
        let ratified_in: BTreeSet<String> = h
            .diff(from, to, &topic_filter())
            .iter()
            .filter(|c| {
                c.after
                    .as_ref()
                    .is_some_and(|p| p.stance.stance == Stance::Ratified)
                    && c.before
                        .as_ref()
                        .is_none_or(|p| p.stance.stance != Stance::Ratified)
            })
            .map(|c| c.actor.to_string())
            .collect();
        // Independently: the current table's ratifications dated in (2016-11-04, 2017-11-04].
        let table = read_table(&current());
        let expected: BTreeSet<String> = table
            .iter()
            .filter(|(_, e)| {
                e.ratification
                    .as_deref()
                    .is_some_and(|r| r > "2016-11-04" && r <= "2017-11-04")
            })
            .map(|(c, _)| c.clone())
            .collect();
        assert_eq!(ratified_in.len(), expected.len());
        assert_eq!(ratified_in, expected);
        assert_eq!(expected.len(), 68);
        // The CLI agrees.
        let log = &imported().log;
        let o = run_log(
            log,
            &[
                "diff",
                "--topic",
                TOPIC,
                "--from",
                "2016-11-04",
                "--to",
                "2017-11-04",
                "--format",
                "json",
            ],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let n = json(&o)
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["after"]["stance"] == "ratified" && c["before"]["stance"] != "ratified")
            .count();
        assert_eq!(n, expected.len());
    }

    #[test]
    fn the_current_table_matches_the_last_snapshot() {
        // Imported alone, the current table gives the same positions as all snapshots.
        let (_dir, log) = empty_log();
        let r = import(
            &log,
            &current(),
            &TreatyOptions::new(time("2023-02-14T00:00:00Z")),
        )
        .unwrap();
        assert!(r.refused.is_empty(), "{:?}", r.refused);
        let h = history(&log);
        assert_table(
            &h,
            h.seq_last(),
            &read_table(&current()),
            true,
            "current table",
        );
        // Imported after the snapshots, it adds nothing.
        let snap_log = &imported().log;
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("log.jsonl");
        std::fs::copy(snap_log, &copy).unwrap();
        let again = import(
            &copy,
            &current(),
            &TreatyOptions::new(time("2023-02-14T00:00:00Z")),
        )
        .unwrap();
        assert_eq!((again.appended, again.already_present), (0, 0));
    }

    #[test]
    fn reimporting_the_snapshots_appends_nothing() {
        let Imported { log, report: r, .. } = imported();
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("log.jsonl");
        std::fs::copy(log, &copy).unwrap();
        let again = import(&copy, &snapshots(), &snapshots_opts()).unwrap();
        assert_eq!((again.appended, again.already_present), (0, r.appended));
        assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(log).unwrap());
    }
}
