//! Given the shipped seed log, when querying through the CLI, then the article's facts come out.

use crate::support::{json, run_log, seed_log};

#[test]
fn seed_positions_as_of_2024_10_25_cover_at_least_nine_actors() {
    let o = run_log(&seed_log(), &["positions", "--as-of", "2024-10-25", "--format", "json"], None);
    assert!(o.status.success());
    let v = json(&o);
    let actors: std::collections::BTreeSet<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors.len(), 11, "{actors:?}");
}
