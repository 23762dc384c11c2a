//! The CLI on both storage backends: one suite, each test run on a file log (`on_file`) and,
//! with feature `postgres`, on a PostgreSQL log (`on_pg`, a fresh database of the server named
//! by `STANCELOG_PG_TEST`, a superuser's connection string; `.ci/run` starts one).
//!
//! Given the shipped seed log copied into a backend, the queries must answer byte for byte as
//! they do on the seed file, and verify must give the seed's head hash: both backends hold the
//! same records.

use std::path::PathBuf;
use std::process::Output;

use crate::support::{run, seed_input, seed_log, stderr, stdout};

/// Where a test's log lives.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    File,
    #[cfg(feature = "postgres")]
    Postgres,
}

/// A log for one test, removed (file) or left in the throwaway server (PostgreSQL) after it.
pub struct TestLog {
    /// The `--log` argument.
    pub arg: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestLog {
    /// A fresh empty log, created with `init`.
    pub fn empty(backend: Backend) -> TestLog {
        let log = match backend {
            Backend::File => {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join("log.jsonl");
                TestLog {
                    arg: path.to_str().expect("utf-8").to_string(),
                    _dir: Some(dir),
                }
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => TestLog {
                arg: pg::fresh_database(),
                _dir: None,
            },
        };
        let o = log.run(&["init"], None);
        assert_eq!(o.status.code(), Some(0), "init: {}", stderr(&o));
        log
    }

    /// A log that exists already, named by its `--log` argument.
    #[cfg(feature = "postgres")]
    pub fn at(arg: String) -> TestLog {
        TestLog { arg, _dir: None }
    }

    /// A copy of the shipped seed log (40 events), made with `copy`.
    pub fn seed(backend: Backend) -> TestLog {
        let log = TestLog::empty(backend);
        let seed = seed_log();
        let o = run(
            &["copy", "--from", seed.to_str().unwrap(), "--to", &log.arg],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "copy: {}", stderr(&o));
        log
    }

    /// Runs `stancelog --log LOG args...`.
    pub fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut all = vec!["--log", self.arg.as_str()];
        all.extend_from_slice(args);
        run(&all, stdin)
    }

    /// Runs and expects exit 0; gives standard output.
    pub fn ok(&self, args: &[&str], stdin: Option<&[u8]>) -> String {
        let o = self.run(args, stdin);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        stdout(&o)
    }
}

/// Runs a command on the seed file itself.
fn on_seed_file(args: &[&str]) -> String {
    let seed = seed_log();
    let mut all = vec!["--log", seed.to_str().unwrap()];
    all.extend_from_slice(args);
    let o = run(&all, None);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// The seed log's head hash, as `verify` prints it.
const SEED_HEAD: &str = "dbbc84d8430108fa67a8dc647b755ce2b0ff86e52a5f2b916658580a2806798a";

/// Defines each test twice: `NAME::on_file` and (feature `postgres`) `NAME::on_pg`.
macro_rules! on_both_backends {
    ($(fn $name:ident($b:ident: Backend) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn body($b: Backend) $body
            #[test]
            fn on_file() {
                body(Backend::File)
            }
            #[cfg(feature = "postgres")]
            #[test]
            fn on_pg() {
                body(Backend::Postgres)
            }
        }
    )*};
}
pub(crate) use on_both_backends;

on_both_backends! {
    fn the_seed_copied_in_verifies_with_the_seed_head_hash(b: Backend) {
        let log = TestLog::seed(b);
        assert_eq!(log.ok(&["verify"], None).lines().next(), Some(format!("ok: 40 events, head hash {SEED_HEAD}").as_str()));
        let v: serde_json::Value = serde_json::from_str(&log.ok(&["verify", "--format", "json"], None)).unwrap();
        assert_eq!(v["events"], 40);
        log.ok(&["verify", "--expect-head", SEED_HEAD], None);
        let o = log.run(&["verify", "--expect-head", &"ab".repeat(32)], None);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    }

    fn queries_answer_byte_for_byte_as_on_the_seed_file(b: Backend) {
        let log = TestLog::seed(b);
        for args in [
            &["positions", "--as-of", "2024-10-25"][..],
            &["positions", "--as-of", "2024-10-25", "--format", "json"],
            &["positions", "--actor", "cho-tae-yul", "--format", "csv"],
            &["diff", "--from", "2024-10-20", "--to", "2024-10-25"],
            &["timeline", "--format", "json"],
            &["actors"],
            &["topics", "--format", "json"],
            &["positions", "--known-at", "2026-11-29T12:39:29.262679Z"],
        ] {
            assert_eq!(log.ok(args, None), on_seed_file(args), "{args:?}");
        }
        let positions = log.ok(&["positions", "--as-of", "2024-10-25"], None);
        assert!(positions.starts_with("Positions as of 2024-10-25: 15 position(s) of 11 actor(s)\n"), "{positions}");
    }

    fn a_copy_back_to_a_file_is_byte_identical_to_the_seed(b: Backend) {
        let log = TestLog::seed(b);
        let dir = tempfile::tempdir().unwrap();
        let back: PathBuf = dir.path().join("back.jsonl");
        let o = run(&["copy", "--from", &log.arg, "--to", back.to_str().unwrap()], None);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(seed_log()).unwrap());
        // Resumable: a second copy has nothing to do.
        let o = run(&["copy", "--from", &log.arg, "--to", back.to_str().unwrap(), "--format", "json"], None);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!((v["target_had"].as_u64(), v["copied"].as_u64()), (Some(40), Some(0)));
    }

    fn a_copy_into_a_log_holding_other_records_is_refused(b: Backend) {
        let log = TestLog::empty(b);
        log.ok(&["append", seed_input().to_str().unwrap()], None);
        let seed = seed_log();
        let o = run(&["copy", "--from", seed.to_str().unwrap(), "--to", &log.arg], None);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("(they differ at seq 1); refusing to copy"), "{}", stderr(&o));
        assert_eq!(log.ok(&["verify", "--format", "csv"], None).lines().nth(1).unwrap().split(',').next(), Some("35"));
    }

    fn append_numbers_the_batch_and_a_repeat_is_not_stored_again(b: Backend) {
        let log = TestLog::empty(b);
        let input = seed_input();
        let first = log.ok(&["append", input.to_str().unwrap()], None);
        assert!(first.starts_with("seq 1  id 01a22751-4cee-7211-a5e4-d7e0e4f09320\n"), "{first}");
        assert!(first.ends_with("appended 35 event(s), 0 already present\n"), "{first}");
        let again = log.ok(&["append", input.to_str().unwrap()], None);
        assert!(again.ends_with("appended 0 event(s), 35 already present\n"), "{again}");
        // The seed file's first batch, recorded now: the same answers on valid time.
        let args = ["positions", "--as-of", "2024-10-25", "--known-at", "2026-11-29T12:39:29.262679Z"];
        let seed = on_seed_file(&args);
        let here = log.ok(&["positions", "--as-of", "2024-10-25"], None);
        assert_eq!(here.lines().skip(1).collect::<Vec<_>>(), seed.lines().skip(1).collect::<Vec<_>>());
    }

    fn an_expected_seq_that_does_not_match_exits_3_and_appends_nothing(b: Backend) {
        let log = TestLog::seed(b);
        let event = br#"{"type":"topic.registered","topic":"t-new","title":"New","kind":"policy"}"#;
        let o = log.run(&["append", "--expect-seq", "39", "-"], Some(event));
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        assert!(stderr(&o).contains("expected seq 39, log is at 40"), "{}", stderr(&o));
        let out = log.ok(&["append", "--expect-seq", "40", "-"], Some(event));
        assert!(out.starts_with("seq 41  id "), "{out}");
    }

    fn a_batch_with_a_bad_event_is_appended_not_at_all(b: Backend) {
        let log = TestLog::seed(b);
        let batch = b"{\"type\":\"topic.registered\",\"topic\":\"t-a\",\"title\":\"A\",\"kind\":\"policy\"}\n\
            {\"type\":\"stance.declared\",\"actor\":\"nobody\",\"topic\":\"t-a\",\"stance\":\"support\",\"date\":\"2024-10-01\",\"cite\":{\"publication\":\"X\"}}\n";
        let o = log.run(&["append", "-"], Some(batch));
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).starts_with("stancelog: error: -:2: field `actor`"), "{}", stderr(&o));
        assert_eq!(log.ok(&["verify"], None).lines().next(), Some(format!("ok: 40 events, head hash {SEED_HEAD}").as_str()));
    }

    fn add_records_an_actor_from_flags_and_queries_see_it(b: Backend) {
        let log = TestLog::seed(b);
        let out = log.ok(&["add", "actor", "lee-jae-myung", "--name", "Lee Jae-myung", "--kind", "person", "--country", "KOR", "--sector", "OPP"], None);
        assert!(out.starts_with("appended seq 41 (id "), "{out}");
        let actors = log.ok(&["actors", "--format", "json"], None);
        assert!(actors.contains("\"lee-jae-myung\""), "{actors}");
    }
}

/// A throwaway database per test on the server of `STANCELOG_PG_TEST`.
#[cfg(feature = "postgres")]
pub mod pg {
    use std::sync::atomic::{AtomicU32, Ordering};

    /// The superuser connection string of the test server.
    pub fn server() -> String {
        std::env::var("STANCELOG_PG_TEST").expect(
            "STANCELOG_PG_TEST: a superuser connection string of a test server (.ci/run starts one)",
        )
    }

    /// A superuser connection to `dbname` (the server's default database for `None`).
    pub fn admin(dbname: Option<&str>) -> postgres::Client {
        let s = match dbname {
            Some(d) => format!("{} dbname={d}", server()),
            None => server(),
        };
        postgres::Client::connect(&s, postgres::NoTls).expect("connect to the test server")
    }

    /// Creates an empty database named after this process and a counter; gives its
    /// connection string (as the superuser).
    pub fn fresh_database() -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin(None)
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        format!("{} dbname={name}", server())
    }

    /// The database name of a connection string made by [`fresh_database`].
    pub fn dbname(conn: &str) -> &str {
        conn.rsplit("dbname=").next().unwrap()
    }
}
