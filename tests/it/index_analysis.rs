//! Analysis from the projection index (issue 11 on issue 10): `agreement`, `trend` and
//! `report` read a sparse history of their selection from the index instead of folding the whole
//! log. For any generated log, any filter and cutoff, that sparse history gives the same
//! agreement tallies, stance counts, holders and report (byte for byte) as the whole log's fold.

use proptest::prelude::*;

use stancelog::core::{ActorId, At, By, Selection};
use stancelog::report::{self, Options, Source};
use stancelog::store::{Index as ProjectionIndex, Log};

use crate::index::{build, days, filters, logs, write};

/// Report options for a filter: positions as of a generated day, a diff between two of them,
/// and a pair of actors that the filter may leave out.
fn options(f: &stancelog::core::Filter, at: At, pair: (ActorId, ActorId)) -> Options {
    let days = days();
    Options {
        as_of: at.as_of,
        known: at.known,
        filter: f.clone(),
        pairs: vec![pair],
        from: days[1],
        to: days[4],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Given any generated log with its index, when agreement, trend, holders and the report
    /// are computed from the index's sparse history of a selection, then each equals the same
    /// computation on the whole log's fold.
    #[test]
    fn analysis_from_the_index_equals_the_fold(g in logs(60)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = write(dir.path(), &g, &build(&g));
        let full = Log::open(&log).expect("log");
        let full = full.history();
        let (index, _) = ProjectionIndex::open(&log).expect("index");
        let actors: Vec<ActorId> = full.actors().into_keys().collect();
        let pair = (actors[0].clone(), actors[2].clone());
        let source = Source {
            log_name: "log.jsonl".to_string(),
            seq: index.seq_last(),
            head_hash: index.head_hash(),
            date_last: index.date_last(),
            known: "everything recorded".to_string(),
        };
        let cutoffs = [None, Some(full.seq_last() / 2)];
        for f in filters(full) {
            let sparse = index.history(&f).map_err(TestCaseError::fail)?;
            for known in cutoffs {
                for (by, from, to) in [(By::Year, None, None), (By::None, days()[2], days()[4])] {
                    let sel = Selection { known, filter: f.clone(), by, from, to };
                    prop_assert_eq!(sparse.agreement(&sel, 1, true), full.agreement(&sel, 1, true));
                    prop_assert_eq!(sparse.trend(&sel), full.trend(&sel));
                    for t in &f.topics {
                        prop_assert_eq!(sparse.holders(&sel, t), full.holders(&sel, t));
                    }
                }
                let opts = options(&f, At { as_of: days()[3], known }, pair.clone());
                let drawn = index.history(&opts.needs()).map_err(TestCaseError::fail)?;
                prop_assert_eq!(
                    report::render(&drawn, &source, &opts),
                    report::render(full, &source, &opts),
                    "report for {:?} of {}",
                    f,
                    std::fs::read_to_string(&log).unwrap()
                );
            }
        }
    }
}
