//! The CLI on both storage backends: one suite, each test run on a file log (`on_file`) and,
//! with feature `postgres`, on a PostgreSQL log (`on_pg`, a fresh database of the server named
//! by `STANCELOG_PG_TEST`, a superuser's connection string; `.ci/run` starts one).
//!
//! Given the shipped seed log copied into a backend, the queries must answer byte for byte as
//! they do on the seed file, and verify must give the seed's head hash: both backends hold the
//! same records.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{run, seed_input, seed_log, stderr, stdout};

/// Where a test's log lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    File,
    #[cfg(feature = "postgres")]
    Postgres,
}

thread_local! {
    /// The backend of the test running on this thread (each test has a thread of its own).
    static CURRENT: std::cell::Cell<Backend> = const { std::cell::Cell::new(Backend::File) };
}

/// The backend of the running test: [`Backend::File`] unless the test runs inside
/// [`on_backend`] (as every test of [`on_both_backends!`] does).
pub fn current() -> Backend {
    CURRENT.with(|c| c.get())
}

/// Runs `body` with `b` as the current backend: the backend fixture. `support::run_log` and
/// `support::empty_log` then run their commands on it.
pub fn on_backend(b: Backend, body: impl FnOnce()) {
    CURRENT.with(|c| c.set(b));
    body();
}

/// `stancelog --log LOG args...` on the current backend.
pub fn run_log_on_current(log: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    match current() {
        Backend::File => crate::support::run_log_file(log, args, stdin),
        #[cfg(feature = "postgres")]
        Backend::Postgres => mirror::run(log, args, stdin),
    }
}

/// The `--log` argument that stands for the file `log` on the current backend: the path, or
/// the connection string of the database that mirrors it, brought up to date with the file
/// (for a test that starts `stancelog` itself).
pub fn log_arg(log: &Path) -> String {
    match current() {
        Backend::File => log.to_str().expect("utf-8 path").to_string(),
        #[cfg(feature = "postgres")]
        Backend::Postgres => mirror::synced(log),
    }
}

/// Runs `f` (a test's call of the library, an importer) on the log that stands for the file
/// `log` on the current backend: the file itself, or the database that mirrors it, brought
/// up to date with the file first, and what `f` appended copied back to the file after, so
/// the test reads the file as it does on the file backend.
pub fn on_log<T>(log: &Path, f: impl FnOnce(&stancelog::store::LogRef) -> T) -> T {
    match current() {
        Backend::File => f(&stancelog::store::LogRef::File(log.to_path_buf())),
        #[cfg(feature = "postgres")]
        Backend::Postgres => {
            let db = mirror::synced(log);
            let target = stancelog::store::LogRef::parse(std::ffi::OsStr::new(&db))
                .expect("a PostgreSQL connection string");
            assert!(
                matches!(target, stancelog::store::LogRef::Postgres(_)),
                "{db}"
            );
            let out = f(&target);
            mirror::copy_back(&db, log);
            out
        }
    }
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

/// Defines each test twice: `NAME::on_file` and (feature `postgres`) `NAME::on_pg`. Two forms:
/// `fn NAME(b: Backend) { ... }` takes the backend as an argument (for tests that build a
/// [`TestLog`]); `#[test] fn NAME() { ... }`, a test written for a file log through
/// `support::run_log` / `support::empty_log`, runs with the backend fixture set
/// ([`on_backend`]), so that those helpers run every command on that backend.
macro_rules! on_both_backends {
    ($($(#[doc = $doc:expr])* #[test] fn $name:ident() $body:block)*) => {$(
        $(#[doc = $doc])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn body() $body
            #[test]
            fn on_file() {
                $crate::backends::on_backend($crate::backends::Backend::File, body)
            }
            #[cfg(feature = "postgres")]
            #[test]
            fn on_pg() {
                $crate::backends::on_backend($crate::backends::Backend::Postgres, body)
            }
        }
    )*};
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
        // Regression: a missing source was met with "create one with `stancelog --log X init`".
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.jsonl");
        let missing = missing.to_str().unwrap();
        let o = run(&["copy", "--from", missing, "--to", &log.arg], None);
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(stderr(&o), format!("stancelog: error: --from {missing}: no log there to copy\n"));
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

/// The PostgreSQL side of the backend fixture for tests written against a log file: each
/// file path a test names stands for a PostgreSQL log, a database of its own, which the file
/// mirrors. Before each command, what the file holds and the database lacks is copied in
/// (`stancelog copy`, so a test may still build or extend its log by writing the file); the
/// command runs on the database; after a command that may write, what the database holds and
/// the file lacks is copied back, so the test reads the file as before. A file and database
/// that disagree (a test that rewrites its log by hand) fail the copy: such tests stay on the
/// file backend.
#[cfg(feature = "postgres")]
pub mod mirror {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::process::Output;

    use crate::support::run as stancelog;
    use crate::support::{run_log_file, stderr};

    thread_local! {
        /// The running test's mirrored files: each one's database (its connection string),
        /// and the file's bytes when the two last agreed. Per test (per thread), so that
        /// tests that name the same file (the seed log) never share a database.
        static LOGS: RefCell<HashMap<PathBuf, Mirrored>> = RefCell::new(HashMap::new());
    }

    /// A mirrored file's database (its connection string), and the file's bytes when the two
    /// last agreed.
    type Mirrored = (String, Option<Vec<u8>>);

    /// Commands that may append.
    const WRITING: &[&str] = &[
        "init", "append", "add", "retract", "correct", "cite", "import",
    ];

    /// `stancelog --log DB args...`, DB mirroring the file `log`.
    pub fn run(log: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let first = args.first().copied().unwrap_or("");
        if first == "init" {
            // The file is created as well (and refused, as on a file backend, if it exists).
            let o = run_log_file(log, args, stdin);
            if !o.status.success() {
                return o;
            }
        }
        // `init` makes the schema itself; a missing file is a database without one.
        let db = database(log, first != "init" && log.exists());
        if !log.exists() || first == "init" {
            let o = on(&db, args, stdin);
            remember(log);
            return o;
        }
        sync_in(log, &db);
        let o = on(&db, args, stdin);
        if WRITING.contains(&first) {
            copy_back(&db, log);
        }
        o
    }

    /// The connection string of the database mirroring the file `log`, holding what the
    /// file holds.
    pub fn synced(log: &Path) -> String {
        let db = database(log, log.exists());
        sync_in(log, &db);
        db
    }

    /// The database mirroring `log`, created on first use, with the schema when `schema`.
    fn database(log: &Path, schema: bool) -> String {
        if let Some((db, _)) = LOGS.with(|l| l.borrow().get(log).cloned()) {
            return db;
        }
        let db = super::pg::fresh_database();
        if schema {
            let o = on(&db, &["init"], None);
            assert!(o.status.success(), "init {db}: {}", stderr(&o));
        }
        LOGS.with(|l| l.borrow_mut().insert(log.to_path_buf(), (db.clone(), None)));
        db
    }

    fn on(db: &str, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut all = vec!["--log", db];
        all.extend_from_slice(args);
        stancelog(&all, stdin)
    }

    fn remember(log: &Path) {
        let bytes = std::fs::read(log).ok();
        LOGS.with(|l| l.borrow_mut().get_mut(log).unwrap().1 = bytes);
    }

    /// Copies into `db` what the file `log` has and `db` lacks, when the file changed (a
    /// file changed other than at its end makes the copy fail, and the test with it).
    fn sync_in(log: &Path, db: &str) {
        let bytes = std::fs::read(log).ok();
        let changed = LOGS.with(|l| l.borrow().get(log).unwrap().1 != bytes);
        if changed && bytes.as_ref().is_some_and(|b| !b.is_empty()) {
            let from = log.to_str().unwrap();
            let o = stancelog(&["copy", "--from", from, "--to", db], None);
            assert!(
                o.status.success(),
                "the PostgreSQL mirror of {from} cannot take the file's records: {}",
                stderr(&o)
            );
        }
        remember(log);
    }

    /// Copies into the file `log` what `db` has and the file lacks.
    pub fn copy_back(db: &str, log: &Path) {
        let to = log.to_str().unwrap();
        let o = stancelog(&["copy", "--from", db, "--to", to], None);
        assert!(o.status.success(), "copy back to {to}: {}", stderr(&o));
        remember(log);
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

    /// The databases a test thread created, dropped when the thread ends (each test runs on a
    /// thread of its own), so that a run of the suite does not leave hundreds of databases
    /// (about 7.5 MB each) on the server's disk.
    struct Created(Vec<String>);

    impl Drop for Created {
        fn drop(&mut self) {
            if self.0.is_empty() {
                return;
            }
            if let Ok(mut c) = postgres::Client::connect(&server(), postgres::NoTls) {
                for name in &self.0 {
                    let _ =
                        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }

    thread_local! {
        static CREATED: std::cell::RefCell<Created> = const { std::cell::RefCell::new(Created(Vec::new())) };
    }

    /// Creates an empty database named after this process and a counter; gives its
    /// connection string (as the superuser). It is dropped when the test's thread ends.
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
        CREATED.with(|c| c.borrow_mut().0.push(name.clone()));
        format!("{} dbname={name}", server())
    }

    /// The database name of a connection string made by [`fresh_database`].
    pub fn dbname(conn: &str) -> &str {
        conn.rsplit("dbname=").next().unwrap()
    }
}
