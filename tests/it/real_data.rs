//! Tests against the real public data sets in the folder named by `STANCELOG_DATA`
//! (`../shared/data` in CI). Built only with `--features real-data`.

use std::path::PathBuf;

use stancelog::core::{EventBody, PloverType};
use stancelog::store::Log;

use crate::support::seed_log;

fn data_dir() -> PathBuf {
    let dir = std::env::var_os("STANCELOG_DATA")
        .map(PathBuf::from)
        .expect("STANCELOG_DATA must name the data folder when testing with --features real-data");
    assert!(
        dir.is_dir(),
        "STANCELOG_DATA={} is not a folder",
        dir.display()
    );
    dir
}

/// The header and rows of a CSV file.
fn csv_rows(path: PathBuf) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = r.headers().expect("csv header").clone();
    (header, r.records().map(|x| x.expect("csv row")).collect())
}

#[test]
fn plover_vocabulary_matches_the_codebook() {
    let (_, rows) = csv_rows(data_dir().join("plover-codebook/types.csv"));
    let from_codebook: Vec<(String, bool)> = rows
        .iter()
        .map(|r| (r[0].to_string(), &r[1] == "1"))
        .collect();
    let ours: Vec<(String, bool)> = PloverType::ALL
        .iter()
        .map(|t| (t.as_str().to_string(), t.requires_recipient()))
        .collect();
    assert_eq!(ours, from_codebook);
}

#[test]
fn seed_log_countries_are_iso_3166_alpha_3() {
    let (header, rows) = csv_rows(data_dir().join("country-codes/country-codes.csv"));
    let col = header
        .iter()
        .position(|h| h == "ISO3166-1-Alpha-3")
        .expect("alpha-3 column");
    let codes: std::collections::BTreeSet<String> =
        rows.iter().map(|r| r[col].to_string()).collect();
    let log = Log::open(&seed_log()).unwrap();
    let mut seen = 0;
    for e in log.history().events() {
        if let EventBody::ActorRegistered(a) = &e.body {
            assert!(
                codes.contains(a.country.as_str()),
                "{} has {}",
                a.actor,
                a.country
            );
            seen += 1;
        }
    }
    // Every actor.registered of the batches the seed log was appended from.
    let registered = [
        "dprk-russia-2024.input.jsonl",
        "dprk-russia-2024.corrections.jsonl",
    ]
    .iter()
    .map(|f| std::fs::read_to_string(crate::support::shipped_seed_log().with_file_name(f)).unwrap())
    .flat_map(|t| t.lines().map(str::to_string).collect::<Vec<_>>())
    .filter(|l| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        v["type"] == "actor.registered"
    })
    .count();
    assert_eq!(seen, registered);
    assert!(seen >= 13, "{seen}");
}
