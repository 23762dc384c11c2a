//! Agreement and trend on the real UN votes and the Paris Agreement history, against an
//! independent computation straight from the CSV files (plain loops). Built only with
//! `--features real-data`; reads the folder named by `STANCELOG_DATA`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use stancelog::core::{ActorId, By, Filter, Measure, Selection, Stance};
use stancelog::import::NoProgress;
use stancelog::import::unvotes::{self, Options};
use stancelog::store::Log;

use crate::support::{run_log, stderr};

pub fn data() -> PathBuf {
    std::env::var_os("STANCELOG_DATA")
        .map(PathBuf::from)
        .expect("STANCELOG_DATA must name the data folder with --features real-data")
}

/// A log of every UN vote, imported once for all the tests that need it (in a folder of this
/// process, removed by the next run: see [`crate::support::process_dir`]).
pub fn un_log() -> &'static Path {
    static LOG: OnceLock<PathBuf> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = crate::support::process_dir("un-votes").join("un.jsonl");
        let o = run_log(&log, &["init"], None);
        assert!(o.status.success(), "{}", stderr(&o));
        let options = Options {
            now: jiff::Timestamp::now(),
            wait: Duration::from_secs(5),
        };
        let report = unvotes::import(
            &stancelog::store::LogRef::File(log.to_path_buf()),
            &data().join("unvotes"),
            &options,
            &NoProgress,
        )
        .expect("import the UN votes");
        assert_eq!(report.appended, 876_512);
        log
    })
}

fn rows(file: &str) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(data().join("unvotes").join(file)).unwrap();
    r.records().map(|x| x.unwrap()).collect()
}

fn polarity(vote: &str) -> i32 {
    match vote {
        "yes" => 1,
        "abstain" => 0,
        "no" => -1,
        other => panic!("vote {other}"),
    }
}

/// agree, agree_voeten, s, pi, kappa of two lists of votes on the same roll calls, each written
/// out from its textbook definition.
fn independent(pairs: &[(i32, i32)]) -> [f64; 5] {
    let n = pairs.len() as f64;
    let same = pairs.iter().filter(|(a, b)| a == b).count() as f64;
    let mut voeten = 0.0;
    let mut distance = 0.0;
    for (a, b) in pairs {
        voeten += if a == b {
            1.0
        } else if *a == 0 || *b == 0 {
            0.5
        } else {
            0.0
        };
        distance += f64::from((a - b).abs());
    }
    let share = |side: usize, k: i32| {
        pairs
            .iter()
            .filter(|p| if side == 0 { p.0 == k } else { p.1 == k })
            .count() as f64
            / n
    };
    let mut pe_kappa = 0.0;
    let mut pe_pi = 0.0;
    for k in [-1, 0, 1] {
        pe_kappa += share(0, k) * share(1, k);
        pe_pi += ((share(0, k) + share(1, k)) / 2.0).powi(2);
    }
    let po = same / n;
    [
        same / n,
        voeten / n,
        1.0 - 2.0 * (distance / n) / 2.0,
        (po - pe_pi) / (1.0 - pe_pi),
        (po - pe_kappa) / (1.0 - pe_kappa),
    ]
}

#[test]
fn un_agreement_by_year_matches_a_plain_loop_over_the_csv() {
    let calls = rows("roll_calls.csv");
    let votes = rows("unvotes.csv");
    let year: HashMap<&str, &str> = calls.iter().map(|c| (&c[0], &c[3][..4])).collect();
    // (alpha-2, year) -> rcid -> polarity.
    let mut by: HashMap<(&str, &str), BTreeMap<&str, i32>> = HashMap::new();
    for v in &votes {
        by.entry((&v[2], year[&v[0]]))
            .or_default()
            .insert(&v[0], polarity(&v[3]));
    }
    let log = Log::open(un_log()).unwrap();
    let h = log.history();
    let pairs = [
        ("USA", "US", "RUS", "RU"),
        ("CHN", "CN", "USA", "US"),
        ("FRA", "FR", "GBR", "GB"),
        ("IND", "IN", "PAK", "PK"),
    ];
    let mut checked = 0;
    for (a, a2, b, b2) in pairs {
        let sel = Selection {
            known: None,
            filter: Filter {
                actors: [ActorId::new(a).unwrap(), ActorId::new(b).unwrap()].into(),
                ..Filter::default()
            },
            by: By::Year,
            from: None,
            to: None,
        };
        let got: BTreeMap<i64, _> = h
            .agreement(&sel, 1, false)
            .into_iter()
            .map(|p| (p.period, p))
            .collect();
        for y in ["1975", "1985", "1991", "2001", "2019"] {
            let (va, vb) = (&by[&(a2, y)], &by[&(b2, y)]);
            let common: Vec<(i32, i32)> = va
                .iter()
                .filter_map(|(rc, x)| vb.get(rc).map(|z| (*x, *z)))
                .collect();
            let p = &got[&y.parse::<i64>().unwrap()];
            assert_eq!(p.tally.common(), common.len() as u64, "{a}-{b} {y}");
            // The order of the pair in the output is by id; swap the CSV side if need be.
            let common: Vec<(i32, i32)> = if p.a.as_str() == a {
                common
            } else {
                common.iter().map(|(x, z)| (*z, *x)).collect()
            };
            let want = independent(&common);
            for (m, w) in Measure::ALL.iter().zip(want) {
                let g = p.tally.measure(*m).expect("defined");
                assert!((g - w).abs() < 1e-9, "{a}-{b} {y} {m:?}: {g} vs {w}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 20);
}

#[test]
fn un_agreement_usa_russia_1991_through_the_cli() {
    let o = run_log(
        un_log(),
        &[
            "agreement",
            "--actor",
            "USA",
            "--actor",
            "RUS",
            "--from",
            "1991-01-01",
            "--to",
            "1991-12-31",
            "--by",
            "none",
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // The same numbers as the plain loop for 1991 (all 1991 roll calls fall in one period).
    let calls = rows("roll_calls.csv");
    let in_1991: std::collections::HashSet<&str> = calls
        .iter()
        .filter(|c| c[3].starts_with("1991"))
        .map(|c| &c[0])
        .collect();
    let votes = rows("unvotes.csv");
    let pick = |code: &str| -> BTreeMap<String, i32> {
        votes
            .iter()
            .filter(|v| &v[2] == code && in_1991.contains(&v[0]))
            .map(|v| (v[0].to_string(), polarity(&v[3])))
            .collect()
    };
    let (rus, usa) = (pick("RU"), pick("US"));
    let common: Vec<(i32, i32)> = rus
        .iter()
        .filter_map(|(rc, x)| usa.get(rc).map(|z| (*x, *z)))
        .collect();
    let want = independent(&common);
    assert_eq!(v[0]["actor_a"], "RUS");
    assert_eq!(v[0]["common"], common.len());
    assert!((v[0]["agree"].as_f64().unwrap() - want[0]).abs() < 1e-12);
    assert!((v[0]["kappa"].as_f64().unwrap() - want[4]).abs() < 1e-12);
}

#[test]
fn paris_ratified_holders_by_year_match_positions_at_each_year_end() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("paris.jsonl");
    assert!(run_log(&log, &["init"], None).status.success());
    let csv = data().join("treaty-ratifications/paris-agreement-snapshots.csv");
    let o = run_log(
        &log,
        &[
            "import",
            "treaty-status",
            "--snapshots",
            csv.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let log = Log::open(&log).unwrap();
    let h = log.history();
    let topic = h.topics().keys().next().cloned().unwrap();
    let sel = Selection {
        known: None,
        filter: Filter::default(),
        by: By::Year,
        from: None,
        to: None,
    };
    let rows = h.holders(&sel, &topic).unwrap();
    let ratified: Vec<(i64, u64)> = rows
        .iter()
        .filter(|r| r.stance == Stance::Ratified)
        .map(|r| (r.period, r.holders))
        .collect();
    // Positions as of each year's end, counted plainly.
    for (year, n) in &ratified {
        let day = stancelog::core::Day::from_ymd(*year as i32, 12, 31).unwrap();
        let want = h
            .positions(
                Some(day),
                &Filter {
                    topics: [topic.clone()].into(),
                    ..Filter::default()
                },
            )
            .iter()
            .filter(|p| p.stance.stance == Stance::Ratified)
            .count() as u64;
        assert_eq!(*n, want, "{year}");
    }
    assert!(ratified.iter().any(|(_, n)| *n > 150), "{ratified:?}");
}
