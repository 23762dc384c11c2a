//! The local cache of a PostgreSQL log's projection index against a real server (feature
//! `postgres`): a cache that no longer matches the database is never used.

use crate::backends::pg::{admin, dbname};
use crate::backends::{Backend, TestLog};
use crate::support::{seed_input, stderr, stdout};

/// Regression: a database dropped, created again and initialised (an empty table) was
/// answered from the cache of the old one: "index discarded ... rebuilt it from the log", then
/// the old log's 15 positions, on every run, and writers were refused. The emptied log now
/// answers empty, its index at seq 0, and takes appends.
#[test]
fn a_cache_of_a_database_emptied_and_initialised_again_is_not_used() {
    let log = TestLog::empty(Backend::Postgres);
    log.ok(&["append", seed_input().to_str().unwrap()], None);
    let before = log.ok(&["positions"], None);
    assert!(
        before.contains(": 15 position(s) of 11 actor(s)"),
        "{before}"
    );
    let db = dbname(&log.arg).to_string();
    let mut server = admin(None);
    server
        .batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
        .unwrap();
    server
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    log.ok(&["init"], None);
    for _ in 0..2 {
        let o = log.run(&["positions"], None);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(
            stdout(&o).contains(": 0 position(s) of 0 actor(s)"),
            "{}",
            stdout(&o)
        );
    }
    assert!(log.ok(&["index"], None).starts_with("index at seq 0 "));
    log.ok(&["append", seed_input().to_str().unwrap()], None);
    assert_eq!(log.ok(&["positions"], None), before);
}
