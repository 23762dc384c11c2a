//! The direct JSON writer of the long answers (`export::json::write_pretty`) gives the bytes
//! serde_json gives for the same rows, for every row kind: positions (roles, corrections,
//! further sources, alias links), changes (both sides, one side) and timeline entries
//! (superseded, retracted with a reason), on the seed log and on generated logs (further
//! sources, retractions); escapes are compared in `export::json`'s own tests.

use proptest::prelude::*;

use stancelog::core::{At, History};
use stancelog::export::json::{JsonRow, write_pretty};
use stancelog::export::rows::{ChangeRow, PositionRow, TimelineRow};
use stancelog::store::Log;

use crate::index::{build, days, filters, logs, write};
use crate::support::shipped_seed_log;

/// `rows` written directly and through serde_json: `Err` shows both when they differ.
fn same<T: JsonRow + serde::Serialize>(rows: &[T]) -> Result<(), TestCaseError> {
    let mut ours = Vec::new();
    write_pretty(&mut ours, rows.iter()).expect("write");
    let serde = serde_json::to_string_pretty(rows).expect("serde") + "\n";
    prop_assert_eq!(String::from_utf8(ours).expect("utf-8"), serde);
    Ok(())
}

/// Every answer of `h` for the generated filters and days, written both ways.
fn compare_all(h: &History) -> Result<usize, TestCaseError> {
    let days = days();
    let mut rows = 0;
    for f in filters(h) {
        for as_of in &days {
            let at = At {
                as_of: *as_of,
                known: None,
            };
            let p: Vec<PositionRow> = h
                .positions_iter(at, &f)
                .map(|p| PositionRow::new(h, &p))
                .collect();
            rows += p.len();
            same(&p)?;
        }
        for w in days.windows(2) {
            let from = At {
                as_of: w[0],
                known: None,
            };
            let to = At {
                as_of: w[1],
                known: None,
            };
            let c: Vec<ChangeRow> = h
                .diff_iter(from, to, &f)
                .map(|c| ChangeRow::new(h, &c))
                .collect();
            rows += c.len();
            same(&c)?;
        }
        let t: Vec<TimelineRow> = h
            .timeline_iter(None, &f)
            .map(|e| TimelineRow::new(h, &e))
            .collect();
        rows += t.len();
        same(&t)?;
    }
    Ok(rows)
}

#[test]
fn the_seed_logs_answers_are_written_as_serde_json_writes_them() {
    let log = Log::open(&shipped_seed_log()).expect("seed log");
    let h = log.history();
    let rows = compare_all(h).expect("same bytes");
    assert!(rows > 100, "{rows} rows compared");
    // A role and a correction (the generated logs add further sources and retractions).
    let t: Vec<TimelineRow> = h
        .timeline_iter(None, &Default::default())
        .map(|e| TimelineRow::new(h, &e))
        .collect();
    assert!(t.iter().any(|r| r.position.role.is_some()));
    assert!(t.iter().any(|r| !r.position.corrections.is_empty()));
    same(&t).expect("same bytes");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Given any generated log, every position, change and timeline entry is written as
    /// serde_json writes it.
    #[test]
    fn generated_answers_are_written_as_serde_json_writes_them(g in logs(60)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = write(dir.path(), &g, &build(&g));
        let full = Log::open(&log).expect("log");
        compare_all(full.history())?;
    }
}
