//! Projection snapshots: a snapshot plus the events after it gives exactly a full replay, and a
//! snapshot that no longer matches its log is discarded.

use std::time::Duration;

use chrono::DateTime;
use proptest::prelude::*;

use stancelog::store::{
    AppendOptions, Log, NewEvent, SnapshotUse, Writer, open_log, parse_batch, write_snapshot,
};

use crate::support::{run_log, stderr, stdout};

/// One append batch: stances of actor `a{i}` on topic `t{j}` with a day offset.
type Batch = Vec<(u8, u8, u16, bool)>;

fn batch_events(batch: &Batch, salt: usize) -> Vec<NewEvent> {
    let mut text = String::new();
    for (k, (a, t, day, yes)) in batch.iter().enumerate() {
        let date = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
            + chrono::Days::new(u64::from(*day));
        let stance = if *yes { "support" } else { "oppose" };
        text.push_str(&format!(
            r#"{{"id":"{}","type":"stance.declared","actor":"a{a}","topic":"t{t}","stance":"{stance}","date":"{date}","cite":{{"publication":"P{salt}"}}}}"#,
            uuid::Uuid::from_u128(((salt as u128) << 32) | k as u128)
        ));
        text.push('\n');
    }
    parse_batch("batch", text.as_bytes()).unwrap()
}

fn header() -> Vec<NewEvent> {
    let mut text = String::new();
    for a in 0..4 {
        text.push_str(&format!(
            r#"{{"type":"actor.registered","actor":"a{a}","name":"A{a}","kind":"state","country":"KOR","sector":"GOV"}}"#
        ));
        text.push('\n');
    }
    for t in 0..3 {
        text.push_str(&format!(
            r#"{{"type":"topic.registered","topic":"t{t}","title":"T{t}","kind":"policy"}}"#
        ));
        text.push('\n');
    }
    parse_batch("header", text.as_bytes()).unwrap()
}

fn batches() -> impl Strategy<Value = Vec<Batch>> {
    prop::collection::vec(
        prop::collection::vec((0u8..4, 0u8..3, 0u16..400, any::<bool>()), 1..6),
        1..8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Given a log appended in batches and a snapshot taken after any one of them, when more
    /// batches follow, then reading from the snapshot gives the same events, head hash and
    /// positions as a full replay.
    #[test]
    fn snapshot_plus_remaining_events_equals_full_replay(
        all in batches(),
        cut in any::<prop::sample::Index>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        Log::create(&path).unwrap();
        let mut w = Writer::open(&path, Duration::from_secs(5)).unwrap();
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let opts = |i: i64| AppendOptions {
            recorded_at: t0 + chrono::TimeDelta::seconds(i),
            expect_seq: None,
            wait: Duration::from_secs(5),
        };
        w.append(&header(), "header", &opts(0)).unwrap();
        let cut = cut.index(all.len());
        for (i, b) in all.iter().enumerate() {
            w.append(&batch_events(b, i), "batch", &opts(1 + i as i64)).unwrap();
            if i == cut {
                write_snapshot(&path, w.log()).unwrap();
            }
        }
        drop(w);
        let bytes = std::fs::read(&path).unwrap();
        let full = Log::from_bytes("log", &bytes).unwrap();
        let (resumed, used) = open_log(&path).unwrap();
        prop_assert!(matches!(used, SnapshotUse::Used { .. }), "{used:?}");
        prop_assert!(resumed.history().events().eq(full.history().events()));
        prop_assert_eq!(resumed.head_hash(), full.head_hash());
        let all_filter = stancelog::core::Filter::default();
        let key = |l: &Log| -> Vec<(String, String, String, u64)> {
            l.history()
                .positions(None, &all_filter)
                .iter()
                .map(|p| (p.actor.to_string(), p.stance.topic.to_string(), p.stance.stance.to_string(), p.event.seq))
                .collect()
        };
        prop_assert_eq!(key(&resumed), key(&full));
    }
}

/// Given a snapshot of a log, when the log is replaced by an older copy, then a query discards
/// the snapshot with a warning, answers from the log itself, and rebuilds the snapshot.
#[test]
fn a_snapshot_of_a_longer_log_is_discarded_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    let seed = std::fs::read(crate::support::seed_log()).unwrap();
    std::fs::write(&log, &seed).unwrap();
    let o = run_log(&log, &["snapshot"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("snapshot at seq 40 "),
        "{}",
        stdout(&o)
    );
    let with_snapshot = stdout(&run_log(&log, &["positions", "--format", "json"], None));
    // The first batch alone: 35 lines, as an older backup would have it.
    let first: Vec<u8> = seed
        .split_inclusive(|b| *b == b'\n')
        .take(35)
        .flatten()
        .copied()
        .collect();
    std::fs::write(&log, &first).unwrap();
    let o = run_log(&log, &["actors", "--format", "json"], None);
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("snapshot discarded"), "{}", stderr(&o));
    let actors: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        actors.as_array().unwrap().len(),
        12,
        "the 35-event log has no cho-tae-yul"
    );
    // The rebuilt snapshot now matches: no warning on the next query.
    let o = run_log(&log, &["actors"], None);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    // And on the full log again, answers equal those made with the first snapshot.
    std::fs::write(&log, &seed).unwrap();
    let again = run_log(&log, &["positions", "--format", "json"], None);
    assert_eq!(stdout(&again), with_snapshot);
}
