//! The PostgreSQL log against a real server (feature `postgres`; `.ci/run` starts a throwaway
//! cluster and names it in `STANCELOG_PG_TEST`): who may write, writers at once, the expected
//! seq race, writers killed mid-transaction. Each test has a database of its own.

use std::process::Child;
use std::thread;
use std::time::{Duration, Instant};

use crate::backends::pg::{admin, dbname, server};
use crate::backends::{Backend, TestLog};
use crate::support::{REGISTER, run, run_log_file, spawn_append, stances, stderr, stdout};

/// A PostgreSQL log with actor `a` and topic `t` registered (seq 1 and 2).
fn registered() -> TestLog {
    let log = TestLog::empty(Backend::Postgres);
    log.ok(&["append", "-"], Some(REGISTER.as_bytes()));
    log
}

/// Records whose id starts with `group` (8 hex digits).
fn count_group(db: &str, group: u32) -> i64 {
    admin(Some(db))
        .query_one(
            "SELECT count(*) FROM stancelog.records WHERE id::text LIKE $1",
            &[&format!("{group:08x}-%")],
        )
        .unwrap()
        .get(0)
}

/// (count, min seq, max seq) of the records.
fn seqs(db: &str) -> (i64, i64, i64) {
    let row = admin(Some(db))
        .query_one(
            "SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM stancelog.records",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

/// `verify` passes, with this many events.
fn verifies(log: &TestLog, events: u64) {
    let out = log.ok(&["verify", "--format", "json"], None);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["events"].as_u64(), Some(events), "{out}");
}

/// The log's connection string as the login role `role`, created as a member of `group`.
fn as_member(log: &TestLog, role: &str, group: &str) -> String {
    let db = dbname(&log.arg);
    admin(Some(db))
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN IN ROLE {group}; GRANT CONNECT ON DATABASE {db} TO {role}"
        ))
        .unwrap();
    format!("{} dbname={db} user={role}", server())
}

#[test]
fn a_reader_can_query_but_cannot_append() {
    let log = registered();
    let reader = TestLog::at(as_member(
        &log,
        &format!("r_{}", dbname(&log.arg)),
        "stancelog_reader",
    ));
    let o = reader.run(&["append", "-"], Some(stances(1, 1).as_bytes()));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("permission denied for table records"),
        "{}",
        stderr(&o)
    );
    let actors = reader.ok(&["actors", "--format", "json"], None);
    assert!(actors.contains("\"actor\": \"a\","), "{actors}");
    verifies(&reader, 2);
}

/// Every append path notifies followers when it commits: one statement (a small batch), the
/// locked `INSERT` (over 256 events), the locked `COPY` (over 256 KiB of lines). (`watch`
/// also reads again every few seconds, so its own tests would pass without a notification.)
#[test]
fn every_append_path_notifies_followers_at_commit() {
    use postgres::fallible_iterator::FallibleIterator;
    let log = registered();
    let mut listener = admin(Some(dbname(&log.arg)));
    listener.batch_execute("LISTEN stancelog_append").unwrap();
    for (group, n) in [(1, 1), (2, 300), (3, 2000)] {
        log.ok(&["append", "-"], Some(stances(group, n).as_bytes()));
        let mut notes = listener.notifications();
        let woken = notes
            .timeout_iter(std::time::Duration::from_secs(30))
            .next()
            .unwrap();
        assert_eq!(
            woken.map(|w| w.channel().to_string()).as_deref(),
            Some("stancelog_append"),
            "an append of {n} event(s)"
        );
        while notes.iter().next().unwrap().is_some() {}
    }
    assert_eq!(seqs(dbname(&log.arg)), (2303, 1, 2303));
}

/// Only writers may run the previous version's one-statement append function: `init` takes
/// it from PUBLIC (a site that revokes EXECUTE from PUBLIC by default still lets writers use
/// it), and a reader's append is refused at the table, not after taking the writers' lock.
#[test]
fn the_one_statement_append_is_granted_to_writers_only() {
    let log = registered();
    let mut owner = admin(Some(dbname(&log.arg)));
    let may = |client: &mut postgres::Client, role: &str| -> bool {
        client
            .query_one(
                "SELECT has_function_privilege($1, \
                 'stancelog.append(bigint[],text[],text[],text[])', 'EXECUTE')",
                &[&role],
            )
            .unwrap()
            .get(0)
    };
    assert!(may(&mut owner, "stancelog_writer"));
    assert!(!may(&mut owner, "stancelog_reader"));
    assert!(!may(&mut owner, "public"));
}

#[test]
fn a_writer_can_append_but_not_change_delete_or_truncate_a_record() {
    let log = registered();
    let role = format!("w_{}", dbname(&log.arg));
    let writer = TestLog::at(as_member(&log, &role, "stancelog_writer"));
    let out = writer.ok(&["append", "-"], Some(stances(1, 3).as_bytes()));
    assert!(
        out.ends_with("appended 3 event(s), 0 already present\n"),
        "{out}"
    );
    let mut client = postgres::Client::connect(&writer.arg, postgres::NoTls).unwrap();
    for sql in [
        "UPDATE stancelog.records SET line = line || ' ' WHERE seq = 3",
        "DELETE FROM stancelog.records WHERE seq = 5",
        "TRUNCATE stancelog.records",
        "ALTER TABLE stancelog.records DISABLE TRIGGER records_append_only",
    ] {
        let e = client.batch_execute(sql).expect_err(sql);
        let db = e.as_db_error().expect("a server error");
        assert!(
            db.message().starts_with("permission denied")
                || db.message().starts_with("must be owner"),
            "{sql}: {}",
            db.message()
        );
    }
    // Even the owner goes through the trigger.
    let mut owner = admin(Some(dbname(&log.arg)));
    for (sql, op) in [
        (
            "UPDATE stancelog.records SET line = line WHERE seq = 3",
            "UPDATE",
        ),
        ("DELETE FROM stancelog.records WHERE seq = 5", "DELETE"),
        ("TRUNCATE stancelog.records", "TRUNCATE"),
    ] {
        let e = owner.batch_execute(sql).expect_err(sql);
        assert_eq!(
            e.as_db_error().unwrap().message(),
            format!("stancelog.records is append-only: {op} refused")
        );
    }
    verifies(&log, 5);
}

#[test]
fn eight_writers_of_500_events_each_all_land_contiguous_and_verify() {
    const WRITERS: u32 = 8;
    const BATCHES: u32 = 50;
    const EVENTS: u32 = 10;
    let log = registered();
    let db = dbname(&log.arg).to_string();
    let handles: Vec<_> = (0..WRITERS)
        .map(|w| {
            let arg = log.arg.clone();
            thread::spawn(move || {
                for b in 0..BATCHES {
                    let group = w * 1000 + b + 1;
                    let child = spawn_append(&arg, &[], &stances(group, EVENTS));
                    let o = child.wait_with_output().unwrap();
                    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let total = i64::from(WRITERS * BATCHES * EVENTS) + 2;
    assert_eq!(seqs(&db), (total, 1, total));
    for w in 0..WRITERS {
        for b in 0..BATCHES {
            assert_eq!(count_group(&db, w * 1000 + b + 1), i64::from(EVENTS));
        }
    }
    verifies(&log, total as u64);
}

#[test]
fn two_writers_with_the_same_expected_seq_one_wins_each_round() {
    const ROUNDS: u32 = 200;
    let log = registered();
    let db = dbname(&log.arg).to_string();
    for round in 0..ROUNDS {
        let seq = (2 + round).to_string();
        let children: Vec<Child> = (0..2)
            .map(|k| {
                spawn_append(
                    &log.arg,
                    &["--expect-seq", &seq],
                    &stances(round * 2 + k + 1, 1),
                )
            })
            .collect();
        let mut codes: Vec<i32> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap().status.code().unwrap())
            .collect();
        codes.sort();
        assert_eq!(codes, vec![0, 3], "round {round}");
    }
    let total = i64::from(ROUNDS) + 2;
    assert_eq!(seqs(&db), (total, 1, total));
    verifies(&log, total as u64);
}

#[test]
fn writers_killed_mid_transaction_leave_whole_batches_and_lose_nothing_acknowledged() {
    // Rounds of 4 writers started at once and killed together, until at least 200 kills have
    // landed inside a writer's transaction (in the server's view, just before the kill): the
    // writer holding the lock catching up, staging, copying or committing, the others waiting
    // for the lock. Each round waits until every writer has begun its transaction (or ended),
    // then kills at a point spread over an append's life.
    const KILLS_IN_TRANSACTION: usize = 200;
    const WRITERS: u32 = 4;
    const EVENTS: u32 = 400;
    let log = registered();
    let db = dbname(&log.arg).to_string();
    // How long one such append takes here, to spread the kills.
    let started = Instant::now();
    let o = spawn_append(&log.arg, &[], &stances(999_999, EVENTS))
        .wait_with_output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let life = started.elapsed();
    let (mut acknowledged, mut unacknowledged_but_stored, mut killed) = (0, 0, 0);
    let mut total = 2 + i64::from(EVENTS);
    let (mut server, mut in_transaction) = (admin(Some(&db)), 0);
    let mut round = 0;
    while in_transaction < KILLS_IN_TRANSACTION {
        assert!(
            round < 1000,
            "only {in_transaction} kills inside a transaction"
        );
        let groups: Vec<u32> = (0..WRITERS).map(|k| round * WRITERS + k + 1).collect();
        let mut children: Vec<Child> = groups
            .iter()
            .map(|g| {
                let arg = format!("{} application_name=kill{g}", log.arg);
                spawn_append(&arg, &[], &stances(*g, EVENTS))
            })
            .collect();
        let mut seen = vec![false; children.len()];
        let since = Instant::now();
        while !seen.iter().all(|s| *s) {
            assert!(since.elapsed().as_secs() < 60, "no transaction began");
            let inside = in_transactions(&mut server, &db);
            for (k, (child, group)) in children.iter_mut().zip(&groups).enumerate() {
                seen[k] |= inside.contains(group) || child.try_wait().unwrap().is_some();
            }
            thread::sleep(Duration::from_micros(200));
        }
        thread::sleep(life.mul_f64(f64::from(round % 10) / 20.0));
        in_transaction += in_transactions(&mut server, &db).len();
        for child in &mut children {
            let _ = child.kill();
        }
        killed += children.len();
        let outputs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        // A killed client's server session may still be committing what it sent: count only
        // once every session of this round has ended (regression: a COMMIT landing after the
        // count made the final tally one batch short).
        sessions_ended(&mut server, &db);
        for (o, group) in outputs.into_iter().zip(groups) {
            let stored = count_group(&db, group);
            assert!(
                stored == 0 || stored == i64::from(EVENTS),
                "round {round}, group {group}: half a batch: {stored}"
            );
            if o.status.success() {
                acknowledged += 1;
                assert_eq!(
                    stored,
                    i64::from(EVENTS),
                    "round {round}, group {group}: acknowledged, then lost"
                );
            } else if stored > 0 {
                unacknowledged_but_stored += 1;
            }
            total += stored;
        }
        round += 1;
    }
    assert_eq!(seqs(&db), (total, 1, total));
    verifies(&log, total as u64);
    // The lock was released each time: a last writer appends.
    let out = log.ok(&["append", "-"], Some(stances(888_888, 2).as_bytes()));
    assert!(
        out.ends_with("appended 2 event(s), 0 already present\n"),
        "{out}"
    );
    eprintln!(
        "{killed} writers killed in {round} rounds ({in_transaction} inside a transaction; one append takes {life:?}): {acknowledged} had finished, {unacknowledged_but_stored} more had committed, the rest left nothing"
    );
}

/// The groups (from `application_name` `killGROUP`) of the writers to `db` that are inside an
/// explicit transaction now: after BEGIN (a statement started after the transaction did), or
/// idle in one.
fn in_transactions(client: &mut postgres::Client, db: &str) -> Vec<u32> {
    client
        .query(
            "SELECT substr(application_name, 5)::int FROM pg_stat_activity
             WHERE datname = $1 AND application_name LIKE 'kill%'
               AND (state = 'idle in transaction' OR xact_start < query_start)",
            &[&db],
        )
        .unwrap()
        .iter()
        .map(|r| r.get::<_, i32>(0) as u32)
        .collect()
}

/// Waits until no session of a killed writer (application name `kill...`) is left on `db`.
fn sessions_ended(client: &mut postgres::Client, db: &str) {
    let since = Instant::now();
    loop {
        let left: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = $1 AND application_name LIKE 'kill%'",
                &[&db],
            )
            .unwrap()
            .get(0);
        if left == 0 {
            return;
        }
        assert!(
            since.elapsed().as_secs() < 60,
            "{left} killed session(s) never ended"
        );
        thread::sleep(Duration::from_millis(2));
    }
}

/// A cluster of a test's own (`.ci/pg-start` in a temporary folder), for a test that crashes
/// its server; stopped and removed when dropped.
pub(crate) struct OwnCluster {
    pub(crate) dir: tempfile::TempDir,
    /// The superuser's connection string.
    pub(crate) conn: String,
}

impl OwnCluster {
    pub(crate) fn start() -> OwnCluster {
        let dir = tempfile::tempdir().unwrap();
        let conn = OwnCluster::script("pg-start", dir.path());
        OwnCluster { dir, conn }
    }

    /// Runs `.ci/NAME DIR`; gives its standard output, trimmed.
    pub(crate) fn script(name: &str, dir: &std::path::Path) -> String {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(".ci")
            .join(name);
        let o = std::process::Command::new(script)
            .arg(dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        OwnCluster::script("pg-stop", self.dir.path());
    }
}

#[test]
fn an_immediate_stop_while_appends_run_loses_nothing_acknowledged() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    const WRITERS: u32 = 4;
    const EVENTS: u32 = 20;
    const BEFORE_CRASH: usize = 40;
    let cluster = OwnCluster::start();
    postgres::Client::connect(&cluster.conn, postgres::NoTls)
        .unwrap()
        .batch_execute("CREATE DATABASE crash")
        .unwrap();
    let log = TestLog::at(format!("{} dbname=crash", cluster.conn));
    log.ok(&["init"], None);
    log.ok(&["append", "-"], Some(REGISTER.as_bytes()));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let crashed = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (arg, acknowledged, crashed) =
                (log.arg.clone(), acknowledged.clone(), crashed.clone());
            thread::spawn(move || {
                let mut tried = Vec::new();
                for i in 0.. {
                    let group = w * 100_000 + i + 1;
                    tried.push(group);
                    let o = spawn_append(&arg, &[], &stances(group, EVENTS))
                        .wait_with_output()
                        .unwrap();
                    if o.status.success() {
                        acknowledged.lock().unwrap().push(group);
                    } else {
                        assert!(crashed.load(Ordering::SeqCst), "{}", stderr(&o));
                        break;
                    }
                }
                tried
            })
        })
        .collect();
    let since = Instant::now();
    while acknowledged.lock().unwrap().len() < BEFORE_CRASH {
        assert!(
            since.elapsed().as_secs() < 300,
            "the writers made no progress"
        );
        thread::sleep(Duration::from_millis(10));
    }
    crashed.store(true, Ordering::SeqCst);
    OwnCluster::script("pg-crash", cluster.dir.path());
    let tried: Vec<u32> = writers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    OwnCluster::script("pg-start", cluster.dir.path());

    let mut db = postgres::Client::connect(&log.arg, postgres::NoTls).unwrap();
    let mut count = |group: u32| -> i64 {
        db.query_one(
            "SELECT count(*) FROM stancelog.records WHERE id::text LIKE $1",
            &[&format!("{group:08x}-%")],
        )
        .unwrap()
        .get(0)
    };
    let acknowledged = acknowledged.lock().unwrap().clone();
    for group in &acknowledged {
        assert_eq!(
            count(*group),
            i64::from(EVENTS),
            "group {group}: acknowledged, then lost"
        );
    }
    let mut total = 2;
    for group in &tried {
        let stored = count(*group);
        assert!(
            stored == 0 || stored == i64::from(EVENTS),
            "group {group}: half a batch"
        );
        total += stored;
    }
    let row = db
        .query_one(
            "SELECT count(*), min(seq), max(seq) FROM stancelog.records",
            &[],
        )
        .unwrap();
    assert_eq!(
        (
            row.get::<_, i64>(0),
            row.get::<_, i64>(1),
            row.get::<_, i64>(2)
        ),
        (total, 1, total)
    );
    verifies(&log, total as u64);
    let out = log.ok(&["append", "-"], Some(stances(999_999, 2).as_bytes()));
    assert!(
        out.ends_with("appended 2 event(s), 0 already present\n"),
        "{out}"
    );
    eprintln!(
        "immediate stop after {} acknowledged appends of {} tried; {} events survived",
        acknowledged.len(),
        tried.len(),
        total
    );
}

/// A writer whose fold is behind the table (another writer appended since it last looked)
/// sends its batch on the assumption that it is not, in one message that stores nothing when
/// it is: the batch is then checked again on the table's end, under the lock. So an expected
/// seq is judged on the table, an actor registered by the other writer is known, an event the
/// other writer stored is a duplicate, and seqs and the chain stay whole.
#[test]
fn a_writer_behind_the_table_checks_its_batch_on_the_tables_end() {
    use stancelog::Error;
    use stancelog::store::{AppendOptions, LogRef, Writer, parse_batch};
    let log = registered();
    let target = LogRef::parse(std::ffi::OsStr::new(&log.arg)).unwrap();
    let opts = |expect_seq| AppendOptions {
        recorded_at: jiff::Timestamp::from_second(1_730_000_000).unwrap(),
        expect_seq,
        wait: Duration::from_secs(5),
    };
    let batch = |text: &str| parse_batch("test", text.as_bytes()).unwrap();
    let wait = Duration::from_secs(5);
    let open = || Writer::open_log(&target, wait).unwrap();
    let (mut first, mut behind) = (open(), open());
    let b = r#"{"type":"actor.registered","actor":"b","name":"B","kind":"state","country":"PRK","sector":"GOV"}"#;
    first.append(&batch(b), "b", &opts(None)).unwrap();
    first
        .append(&batch(&stances(7, 1)), "one", &opts(None))
        .unwrap();
    // Refused by the fold (no actor b there), accepted on the table's end.
    let by_b = stances(9, 1).replace(r#""actor":"a""#, r#""actor":"b""#);
    let r = behind.append(&batch(&by_b), "by b", &opts(None)).unwrap();
    assert_eq!((r.events[0].seq, r.events[0].duplicate), (5, false));
    // Staged on seq 5 (the fold's end), refused on seq 6 (the table's); `first`, behind too,
    // lands its event on 6, after `behind`'s.
    let mut late = open();
    let r = first
        .append(&batch(&stances(10, 1)), "ten", &opts(None))
        .unwrap();
    assert_eq!(r.events[0].seq, 6);
    let e = late
        .append(&batch(&stances(8, 1)), "x", &opts(Some(5)))
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Conflict {
                expected: 5,
                found: 6
            }
        ),
        "{e:?}"
    );
    // New to the fold, stored by the other writer meanwhile: a duplicate, with its seq.
    let mut later = open();
    let twelve = stances(12, 1);
    first
        .append(&batch(&twelve), "twelve", &opts(None))
        .unwrap();
    let r = later
        .append(&batch(&twelve), "twelve again", &opts(None))
        .unwrap();
    assert_eq!((r.events[0].seq, r.events[0].duplicate), (7, true));
    let r = later
        .append(&batch(&stances(11, 2)), "two", &opts(Some(7)))
        .unwrap();
    let got: Vec<u64> = r.events.iter().map(|a| a.seq).collect();
    assert_eq!(got, vec![8, 9]);
    assert_eq!(seqs(dbname(&log.arg)), (9, 1, 9));
    verifies(&log, 9);
}

/// A log made by an earlier `init` (no `stancelog.append`; a trigger notifying followers on
/// every insert) takes appends as a new one does (the one-statement `INSERT` needs no
/// function): the same seqs, the expected-seq check, a chain that verifies.
#[test]
fn a_log_made_by_an_earlier_init_takes_appends_as_a_new_one() {
    let log = registered();
    admin(Some(dbname(&log.arg)))
        .batch_execute(
            "DROP FUNCTION stancelog.append(bigint[], text[], text[], text[]);
             CREATE FUNCTION stancelog.notify_append() RETURNS trigger LANGUAGE plpgsql AS $f$
             BEGIN PERFORM pg_notify('stancelog_append', ''); RETURN NULL; END $f$;
             CREATE TRIGGER records_notify AFTER INSERT ON stancelog.records
                 FOR EACH STATEMENT EXECUTE FUNCTION stancelog.notify_append();",
        )
        .unwrap();
    log.ok(&["append", "-"], Some(stances(1, 2).as_bytes()));
    let again = stances(2, 1);
    log.ok(
        &["append", "--expect-seq", "4", "-"],
        Some(again.as_bytes()),
    );
    let o = log.run(
        &["append", "--expect-seq", "4", "-"],
        Some(stances(3, 1).as_bytes()),
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(seqs(dbname(&log.arg)), (5, 1, 5));
    verifies(&log, 5);
}

/// The table has no unique index on `id` (the writers keep ids unique under their lock): a
/// row inserted by hand with an id used before, chained correctly, makes `verify` fail at its
/// seq, naming the id and the seq that holds it.
#[test]
fn a_row_inserted_by_hand_with_an_id_used_before_fails_verify_at_its_seq() {
    use sha2::{Digest, Sha256};
    let log = registered();
    log.ok(&["append", "-"], Some(stances(1, 1).as_bytes()));
    let mut db = admin(Some(dbname(&log.arg)));
    let line: String = db
        .query_one("SELECT line FROM stancelog.records WHERE seq = 3", &[])
        .unwrap()
        .get(0);
    // Seq 3's event again as seq 4, with the hash its place in the chain gives it.
    let copy = line
        .replace(r#""batch_last":3,"#, r#""batch_last":4,"#)
        .replace(r#""seq":3,"#, r#""seq":4,"#);
    let key = r#","hash":""#;
    let at = copy.find(key).unwrap();
    let value = at + key.len();
    let head: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&copy[value + 2 * i..value + 2 * i + 2], 16).unwrap())
        .collect();
    let mut h = Sha256::new();
    h.update(&head);
    h.update(&copy.as_bytes()[..at]);
    h.update(&copy.as_bytes()[value + 65..]);
    let hash: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let copy = format!("{}{hash}{}", &copy[..value], &copy[value + 64..]);
    let id = "00000001-0000-4000-8000-000000000000";
    db.execute(
        "INSERT INTO stancelog.records (seq, id, hash, line) VALUES (4, $1::text::uuid, $2, $3)",
        &[&id, &hash, &copy],
    )
    .unwrap();
    let o = log.run(&["verify"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            ":4: field `id`: event id {id} is already used by seq 3"
        )),
        "{}",
        stderr(&o)
    );
}

/// The table refuses a hash column that is not 64 characters long (a row inserted by hand).
#[test]
fn a_hash_of_another_length_is_refused_by_the_table() {
    let log = registered();
    let mut db = admin(Some(dbname(&log.arg)));
    let insert = |db: &mut postgres::Client, hash: &str| {
        db.execute(
            "INSERT INTO stancelog.records (seq, id, hash, line) VALUES (3, gen_random_uuid(), $1, '{}')",
            &[&hash],
        )
    };
    let e = insert(&mut db, &"a".repeat(63)).unwrap_err();
    assert_eq!(
        e.code(),
        Some(&postgres::error::SqlState::CHECK_VIOLATION),
        "{e}"
    );
    assert_eq!(seqs(dbname(&log.arg)), (2, 1, 2));
}

/// A batch too long for one INSERT message goes in by a binary `COPY`: a schema-1 record
/// (which has no hash) gets a NULL hash, every other row its line's hash, and the lines come
/// back byte for byte.
#[test]
fn a_large_batch_goes_in_by_binary_copy_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("old.jsonl");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/schema1-dprk-russia-2024.jsonl");
    std::fs::copy(&fixture, &file).unwrap();
    let batch = format!("{REGISTER}{}", stances(1, 1000));
    let o = run_log_file(&file, &["append", "-"], Some(batch.as_bytes()));
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&file).unwrap();
    // More than INSERT_BYTES_MAX (256 KiB) to copy: the COPY path.
    assert!(bytes.len() as u64 - std::fs::metadata(&fixture).unwrap().len() > 256 << 10);
    let log = TestLog::empty(Backend::Postgres);
    let from = file.to_str().unwrap();
    let o = run(&["copy", "--from", from, "--to", &log.arg], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let row = admin(Some(dbname(&log.arg)))
        .query_one(
            r#"SELECT count(*) FILTER (WHERE hash IS NULL),
                      count(*) FILTER (WHERE hash = substring(line FROM position('"hash":"' IN line) + 8 FOR 64)),
                      count(*)
               FROM stancelog.records"#,
            &[],
        )
        .unwrap();
    let counts: (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(counts, (35, 1002, 1037));
    verifies(&log, 1037);
    let back = dir.path().join("back.jsonl");
    let o = run(
        &["copy", "--from", &log.arg, "--to", back.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read(&back).unwrap() == bytes, "not the same bytes");
}

/// A sheet of `3 * per_batch` monthly stances of KOR in three recorded times: three import
/// batches of `per_batch` events (the first with the actor's and the topic's registrations
/// too). Batches of 400: each large enough to be inserted and committed on a thread of its
/// own while the next is staged; of 5: each appended in one statement.
fn sheet_of_three_batches(dir: &std::path::Path, per_batch: u32) -> std::path::PathBuf {
    let mut csv = String::from("who,position,when,recorded\n");
    for i in 0..3 * per_batch {
        let (year, month, batch) = (1800 + i / 12, i % 12 + 1, i / per_batch);
        csv.push_str(&format!("KOR,support,{year}-{month:02},200{batch}-01-01\n"));
    }
    let path = dir.join("sheet.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

/// Makes the table refuse (by a trigger) every row inserted after seq `after`, or none.
fn refuse_rows_after(db: &str, after: Option<i64>) {
    let mut sql = String::from(
        "CREATE OR REPLACE FUNCTION stancelog.test_refuse() RETURNS trigger LANGUAGE plpgsql AS
             $f$ BEGIN RAISE EXCEPTION 'test: seq % refused', NEW.seq; END $f$;
         DROP TRIGGER IF EXISTS test_refuse ON stancelog.records;",
    );
    if let Some(seq) = after {
        sql.push_str(&format!(
            "CREATE TRIGGER test_refuse BEFORE INSERT ON stancelog.records FOR EACH ROW
                 WHEN (NEW.seq > {seq}) EXECUTE FUNCTION stancelog.test_refuse();"
        ));
    }
    admin(Some(db)).batch_execute(&sql).unwrap();
}

/// An import commits each batch on a thread of its own while it stages the next: a batch
/// whose COPY fails there fails the import (exit 1, the server's message) with every batch
/// before it stored and nothing after it, whether the next append or the import's end finds
/// out; run again, the import appends the rest, and the log is the file import's byte for
/// byte.
#[test]
fn an_import_whose_batch_fails_on_its_thread_fails_and_keeps_the_batches_before() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = sheet_of_three_batches(dir.path(), 400);
    let import = |log: &str| import_sheet(&sheet, log);
    let file = dir.path().join("file.jsonl");
    let file = file.to_str().unwrap();
    assert!(run(&["--log", file, "init"], None).status.success());
    let o = import(file);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = TestLog::empty(Backend::Postgres);
    let db = dbname(&log.arg);
    // The second batch (seqs 403-802) fails: told at the third batch's append.
    refuse_rows_after(db, Some(500));
    let o = import(&log.arg);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("test: seq 501 refused"),
        "{}",
        stderr(&o)
    );
    assert_eq!(seqs(db), (402, 1, 402));
    // The last batch (seqs 803-1202) fails: told only by the import's end.
    refuse_rows_after(db, Some(900));
    let o = import(&log.arg);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("test: seq 901 refused"),
        "{}",
        stderr(&o)
    );
    assert_eq!(seqs(db), (802, 1, 802));
    verifies(&log, 802);
    refuse_rows_after(db, None);
    let o = import(&log.arg);
    assert!(o.status.success(), "{}", stderr(&o));
    verifies(&log, 1202);
    let back = dir.path().join("back.jsonl");
    let o = run(
        &["copy", "--from", &log.arg, "--to", back.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read(&back).unwrap() == std::fs::read(file).unwrap(),
        "the PostgreSQL import is not the file import"
    );
}

/// `import csv` of `sheet` (made by [`sheet_of_three_batches`]) into the log `log`.
fn import_sheet(sheet: &std::path::Path, log: &str) -> std::process::Output {
    let args = [
        "--log",
        log,
        "import",
        "csv",
        sheet.to_str().unwrap(),
        "--actor-col",
        "who",
        "--topic",
        "sanctions",
        "--stance-col",
        "position",
        "--date-col",
        "when",
        "--cite",
        "Notes",
        "--recorded-col",
        "recorded",
        "--register",
        "--format",
        "json",
    ];
    run(&args, None)
}

/// One writer appending three small batches one after another, which go the one-statement
/// way (the first sent unprepared, the second after preparing it, the third by the prepared
/// statement; batches of five the statement of arrays, batches of one that of one row's
/// values): all stored as three batches, the log the file import's byte for byte. (Which way
/// a batch went is not observed here: a batch the locked way gives the same rows.)
#[test]
fn small_batches_of_one_writer_are_stored_as_the_file_import_stores_them() {
    for per_batch in [5, 1] {
        let dir = tempfile::tempdir().unwrap();
        let sheet = sheet_of_three_batches(dir.path(), per_batch);
        let file = dir.path().join("file.jsonl");
        let file = file.to_str().unwrap();
        assert!(run(&["--log", file, "init"], None).status.success());
        assert!(import_sheet(&sheet, file).status.success());
        let log = TestLog::empty(Backend::Postgres);
        let o = import_sheet(&sheet, &log.arg);
        assert!(o.status.success(), "{}", stderr(&o));
        let rows = i64::from(3 * per_batch) + 2;
        assert_eq!(seqs(dbname(&log.arg)), (rows, 1, rows));
        let batches: i64 = admin(Some(dbname(&log.arg)))
            .query_one(
                "SELECT count(DISTINCT line::json->>'batch_last') FROM stancelog.records",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(batches, 3);
        let back = dir.path().join("back.jsonl");
        let to = back.to_str().unwrap();
        assert!(
            run(&["copy", "--from", &log.arg, "--to", to], None)
                .status
                .success()
        );
        assert!(std::fs::read(&back).unwrap() == std::fs::read(file).unwrap());
    }
}

/// An import that stops on an error of its own (a line that is not UTF-8, in the third
/// batch) while the batch before is failing on its thread says both: the line's error and
/// that the last batch sent was not stored (the batches "before" an error are reported as
/// appended), and only the first batch is stored.
#[test]
fn an_import_stopping_while_its_batch_fails_on_its_thread_says_the_batch_was_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = sheet_of_three_batches(dir.path(), 400);
    let mut bytes = std::fs::read(&sheet).unwrap();
    // Line 1102 (row 1101, recorded 2002-01-01): its stance not UTF-8.
    let at = bytes
        .split(|b| *b == b'\n')
        .take(1101)
        .map(|l| l.len() + 1)
        .sum::<usize>();
    bytes[at + 4] = 0xff;
    std::fs::write(&sheet, &bytes).unwrap();
    let log = TestLog::empty(Backend::Postgres);
    let db = dbname(&log.arg);
    refuse_rows_after(db, Some(500));
    let o = import_sheet(&sheet, &log.arg);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("test: seq 501 refused"), "{err}");
    assert!(err.contains("the last batch sent was not stored"), "{err}");
    assert!(err.contains("sheet.csv:1102: not UTF-8"), "{err}");
    assert_eq!(seqs(db), (402, 1, 402));
}

/// The projection index of a PostgreSQL log, in the local cache folder: the same answers as
/// the fold of the whole table, caught up after other clients append, never used for another
/// database.
mod index {
    use crate::backends::{Backend, TestLog};
    use crate::support::{append_command, spawn_with_input, stancelog_command, stderr, stdout};

    /// `stancelog --log LOG ARGS` with no cache folder it can write: answered from the fold of
    /// the whole table in memory (with a warning), as before the index.
    fn from_whole_table(log: &TestLog, args: &[&str]) -> String {
        let o = stancelog_command()
            .args(["--log", &log.arg])
            .args(args)
            .env("STANCELOG_CACHE", "/dev/null/no-cache")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("the projection index could not be written"),
            "{}",
            stderr(&o)
        );
        stdout(&o)
    }

    /// An append with no cache folder it can write checks its batch on the fold of the whole
    /// table (read once, for the index in memory): a new batch, a retry of its stance (a
    /// duplicate, with its seq), an expected seq refused (exit 3); the log verifies.
    #[test]
    fn an_append_with_no_cache_folder_checks_on_the_whole_table() {
        let log = TestLog::seed(Backend::Postgres);
        let append = |args: &[&str], input: &str| {
            let mut extra = vec!["--format", "json"];
            extra.extend_from_slice(args);
            let mut command = append_command(&log.arg, &extra);
            command.env("STANCELOG_CACHE", "/dev/null/no-cache");
            let o = spawn_with_input(&mut command, input)
                .wait_with_output()
                .unwrap();
            let seqs = o.status.success().then(|| super::appended(&stdout(&o)));
            (o.status.code(), seqs, stderr(&o))
        };
        let (code, seqs, err) = append(&[], MORE[0]);
        assert_eq!(
            (code, seqs),
            (Some(0), Some(vec![(41, false), (42, false), (43, false)])),
            "{err}"
        );
        let stance = MORE[0].lines().nth(2).unwrap();
        let (code, seqs, err) = append(&["--expect-seq", "43"], stance);
        assert_eq!((code, seqs), (Some(0), Some(vec![(43, true)])), "{err}");
        let (code, _, err) = append(
            &["--expect-seq", "40"],
            &MORE[1].replace("000000000044", "000000000045"),
        );
        assert_eq!(code, Some(3), "{err}");
        log.ok(&["verify"], None);
    }

    /// Batches after the seed log (seq 41 on): a second id linked to prk, stances, a
    /// correction moving a stance to prk, a retraction and a citation.
    const MORE: [&str; 3] = [
        concat!(
            r#"{"type":"actor.registered","actor":"north-korea","name":"DPRK (second id)","kind":"state","country":"PRK","sector":"GOV"}"#,
            "\n",
            r#"{"type":"actor.aliased","actor":"prk","alias":"north-korea"}"#,
            "\n",
            r#"{"id":"00000000-0000-4000-8000-000000000043","type":"stance.declared","actor":"north-korea","topic":"dprk-troops-in-russia","stance":"doubt","date":"2024-10-25","cite":{"publication":"p"}}"#,
            "\n",
        ),
        concat!(
            r#"{"id":"00000000-0000-4000-8000-000000000044","type":"stance.declared","actor":"kim-yong-hyun","topic":"russia-dprk-partnership-treaty","stance":"oppose","date":"2024-10-26","cite":{"publication":"p"}}"#,
            "\n",
            r#"{"type":"stance.corrected","target":"00000000-0000-4000-8000-000000000044","actor":"prk","reason":"misattributed"}"#,
            "\n",
        ),
        concat!(
            r#"{"type":"stance.retracted","target":"00000000-0000-4000-8000-000000000043","reason":"withdrawn"}"#,
            "\n",
            r#"{"type":"stance.cited","target":"00000000-0000-4000-8000-000000000044","cite":{"publication":"q"}}"#,
            "\n",
        ),
    ];

    /// What the queries answer, one string per query.
    fn answers(log: &TestLog, run: &dyn Fn(&TestLog, &[&str]) -> String) -> Vec<String> {
        let queries: &[&[&str]] = &[
            &["positions", "--format", "json"],
            &["positions", "--actor", "prk", "--format", "json"],
            &[
                "positions",
                "--actor",
                "kim-yong-hyun",
                "--as-of",
                "2024-10-25",
                "--format",
                "json",
            ],
            &["timeline", "--actor", "prk", "--format", "json"],
            &[
                "timeline",
                "--topic",
                "dprk-troops-in-russia",
                "--format",
                "json",
            ],
            &[
                "diff",
                "--from",
                "2024-10-20",
                "--to",
                "2024-10-26",
                "--format",
                "json",
            ],
            &["actors", "--format", "json"],
            &["topics", "--format", "json"],
        ];
        queries.iter().map(|q| run(log, q)).collect()
    }

    #[test]
    fn the_index_answers_as_the_whole_table_after_each_batch() {
        let log = TestLog::seed(Backend::Postgres);
        let indexed = |l: &TestLog, a: &[&str]| l.ok(a, None);
        assert_eq!(answers(&log, &indexed), answers(&log, &from_whole_table));
        for batch in MORE {
            log.ok(&["append", "-"], Some(batch.as_bytes()));
            let got = answers(&log, &indexed);
            assert_eq!(got, answers(&log, &from_whole_table));
        }
        // Real values: prk holds the stance moved to it (44), cited by q; 43 is retracted.
        let p: serde_json::Value = serde_json::from_str(
            &log.ok(&["positions", "--actor", "prk", "--format", "json"], None),
        )
        .unwrap();
        let rows: Vec<(String, u64)> = p
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["topic"].as_str().unwrap().to_string(),
                    r["seq"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                ("dprk-troops-in-russia".to_string(), 33),
                ("russia-dprk-partnership-treaty".to_string(), 44),
            ]
        );
        let v: serde_json::Value =
            serde_json::from_str(&log.ok(&["verify", "--format", "json"], None)).unwrap();
        assert_eq!(v["events"].as_u64(), Some(47));
    }

    /// The index's report: (seq, head hash, segments as (first, last)).
    fn report(log: &TestLog) -> (u64, String, Vec<(u64, u64)>, String) {
        let v: serde_json::Value =
            serde_json::from_str(&log.ok(&["index", "--format", "json"], None)).unwrap();
        let segments = v["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["first"].as_u64().unwrap(), s["last"].as_u64().unwrap()))
            .collect();
        (
            v["seq"].as_u64().unwrap(),
            v["head_hash"].as_str().unwrap().to_string(),
            segments,
            v["path"].as_str().unwrap().to_string(),
        )
    }

    #[test]
    fn an_index_behind_the_table_is_caught_up_from_the_rows_after_it() {
        let log = TestLog::seed(Backend::Postgres);
        log.ok(&["positions"], None);
        assert_eq!(report(&log).2, vec![(1, 40)]);
        // Another client appends (an append does not touch this machine's index).
        log.ok(&["append", "-"], Some(MORE[0].as_bytes()));
        let o = log.run(&["timeline", "--actor", "prk", "--format", "json"], None);
        assert_eq!(stderr(&o), "");
        let t: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let seqs: Vec<u64> = t
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs, vec![21, 33, 43]);
        // Caught up: a segment for the new rows beside the first, not a rebuild.
        let (seq, head, segments, _) = report(&log);
        assert_eq!((seq, segments), (43, vec![(1, 40), (41, 43)]));
        let v: serde_json::Value =
            serde_json::from_str(&log.ok(&["verify", "--format", "json"], None)).unwrap();
        assert_eq!(v["head_hash"].as_str(), Some(head.as_str()));
    }

    #[test]
    fn an_index_of_another_database_is_discarded_and_rebuilt() {
        // Two logs that part after the seed: a's seq 41-43 are MORE[0], b's seq 41-42 MORE[1].
        let a = TestLog::seed(Backend::Postgres);
        a.ok(&["append", "-"], Some(MORE[0].as_bytes()));
        let b = TestLog::seed(Backend::Postgres);
        b.ok(&["append", "-"], Some(MORE[1].as_bytes()));
        let (_, _, _, a_dir) = report(&a);
        let (_, b_head, _, b_dir) = report(&b);
        assert_ne!(a_dir, b_dir);
        // a's index put where b's belongs: it covers seq 43, b's table ends at 42.
        let put = |from: &str, to: &str| {
            std::fs::remove_dir_all(to).unwrap();
            let o = std::process::Command::new("cp")
                .args(["-r", from, to])
                .status();
            assert!(o.unwrap().success());
        };
        put(&a_dir, &b_dir);
        let o = b.run(&["positions", "--actor", "prk", "--format", "json"], None);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(
            stderr(&o),
            format!(
                "stancelog: note: {b_dir}: index discarded: the table's last seq is 42, before the seq 43 it covers: another database, or the log was restored or replaced; rebuilt it from the log\n"
            )
        );
        // b's own answer: the stance of seq 41, moved to prk by 42.
        assert!(stdout(&o).contains("\"seq\": 41"), "{}", stdout(&o));
        assert_eq!(report(&b).1, b_head);
        // One of the same length that differs at its end: c and b both append MORE[1] and
        // MORE[0] after the seed (45 records each), at other recorded times, so other lines.
        let c = TestLog::seed(Backend::Postgres);
        c.ok(&["append", "-"], Some(MORE[1].as_bytes()));
        c.ok(&["append", "-"], Some(MORE[0].as_bytes()));
        b.ok(&["append", "-"], Some(MORE[0].as_bytes()));
        let (c_seq, _, _, c_dir) = report(&c);
        let (b_seq, b_head, _, _) = report(&b);
        assert_eq!((c_seq, b_seq), (45, 45));
        put(&c_dir, &b_dir);
        let o = b.run(&["actors"], None);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(
            stderr(&o),
            format!(
                "stancelog: note: {b_dir}: index discarded: the table's record of seq 45 is not the one it was built with: another database, or the log was replaced; rebuilt it from the log\n"
            )
        );
        assert_eq!(report(&b).1, b_head);
    }
}

/// Changes the stored line of `seq` by hand (the append-only trigger set aside as the table's
/// owner may): its hash no longer matches, so any read of that row fails there.
fn damage_row(db: &str, seq: i64) {
    admin(Some(db))
        .batch_execute(&format!(
            "ALTER TABLE stancelog.records DISABLE TRIGGER records_append_only;
             UPDATE stancelog.records SET line = replace(line, '\"publication\":\"p\"', '\"publication\":\"q\"') WHERE seq = {seq};
             ALTER TABLE stancelog.records ENABLE TRIGGER records_append_only;"
        ))
        .unwrap();
}

/// The seqs `append --format json` reports, and whether each was a duplicate.
fn appended(out: &str) -> Vec<(u64, bool)> {
    let v: serde_json::Value = serde_json::from_str(out).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["seq"].as_u64().unwrap(),
                a["duplicate"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// An append reads the rows its batch needs through the local index cache, never the whole
/// table: with an old row damaged by hand (which any whole read, `verify` first, refuses), a
/// new batch, an idempotent retry of an old event (found by its id, with its seq), and an
/// expected seq (exit 3 on a mismatch) all work; and each append brings the cache up to its
/// batch: a query after it reads no row of the batch (a damaged one among them is not
/// noticed), where a cache left behind would catch up through it and fail.
#[test]
fn an_append_reads_what_its_batch_needs_from_the_index_cache_and_keeps_it_current() {
    let log = registered();
    let db = dbname(&log.arg).to_string();
    assert_eq!(
        appended(&log.ok(
            &["append", "--format", "json", "-"],
            Some(stances(1, 5).as_bytes())
        )),
        (3..=7).map(|s| (s, false)).collect::<Vec<_>>()
    );
    damage_row(&db, 4);
    let o = log.run(&["verify"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(":4: field `hash`: does not match"),
        "{}",
        stderr(&o)
    );
    // A new batch, and a retry of seq 5's event beside a new one.
    let out = log.ok(
        &["append", "--format", "json", "-"],
        Some(stances(2, 3).as_bytes()),
    );
    assert_eq!(appended(&out), vec![(8, false), (9, false), (10, false)]);
    let retry = format!("{}{}", stances(1, 3).lines().nth(2).unwrap(), "\n") + &stances(3, 1);
    let out = log.ok(&["append", "--format", "json", "-"], Some(retry.as_bytes()));
    assert_eq!(appended(&out), vec![(5, true), (11, false)]);
    let o = log.run(
        &["append", "--expect-seq", "10", "-"],
        Some(stances(4, 1).as_bytes()),
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(seqs(&db), (11, 1, 11));
    // The cache ends at 11: a query reads no row of the last batches.
    damage_row(&db, 9);
    let out = log.ok(&["timeline", "--actor", "a", "--format", "json"], None);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v
        .as_array()
        .unwrap_or_else(|| v["rows"].as_array().unwrap());
    let got: Vec<u64> = rows.iter().filter_map(|r| r["seq"].as_u64()).collect();
    assert_eq!(got, (3..=11).collect::<Vec<_>>(), "{out}");
}

/// Holds the writers' lock in a transaction of its own until the client is told to COMMIT.
fn hold_writers_lock(db: &str) -> postgres::Client {
    let mut c = admin(Some(db));
    c.batch_execute(&format!(
        "BEGIN; SELECT pg_advisory_xact_lock({})",
        stancelog::store::LOCK_KEY
    ))
    .unwrap();
    c
}

/// Waits until `n` sessions wait for an advisory lock (the writers' lock) in the database
/// `db` (other tests' databases are on the same server), up to a minute.
fn wait_for_lock_waiters(db: &str, n: i64) {
    let mut c = admin(Some(db));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let waiting: i64 = c
            .query_one(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                 WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()",
                &[],
            )
            .unwrap()
            .get(0);
        if waiting == n {
            return;
        }
        assert!(Instant::now() < deadline, "{waiting} waiting, not {n}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Writers whose index cache ends at the same seq, made to meet by holding the writers' lock
/// while they start (each waits for it in turn; PostgreSQL grants a lock to its waiters in
/// the order they came): A registers actor c in one statement; B's stance, staged on the same
/// end, is refused by the primary key (A took its seq) and goes the locked way; C's stance by
/// c is refused by its cache (no c there) and goes the locked way at once, where the cache,
/// caught up under the lock, knows c; D's `--expect-seq 2` is refused (exit 3) there. Every
/// branch of the indexed append runs on each run, with these very seqs.
#[test]
fn writers_staged_on_the_same_cache_end_meet_under_the_lock_each_checked_on_the_tables_end() {
    let log = registered();
    let db = dbname(&log.arg).to_string();
    let c_registered = r#"{"type":"actor.registered","actor":"c","name":"C","kind":"state","country":"PRK","sector":"GOV"}"#.to_string() + "\n";
    let by_c = stances(3, 1).replace(r#""actor":"a""#, r#""actor":"c""#);
    let mut lock = hold_writers_lock(&db);
    let json = ["--format", "json"];
    let a = spawn_append(&log.arg, &json, &c_registered);
    wait_for_lock_waiters(&db, 1);
    let b = spawn_append(&log.arg, &json, &stances(2, 1));
    wait_for_lock_waiters(&db, 2);
    let c = spawn_append(&log.arg, &json, &by_c);
    wait_for_lock_waiters(&db, 3);
    let d = spawn_append(&log.arg, &["--expect-seq", "2"], &stances(4, 1));
    wait_for_lock_waiters(&db, 4);
    lock.batch_execute("COMMIT").unwrap();
    let outs: Vec<_> = [a, b, c]
        .into_iter()
        .map(|p| p.wait_with_output().unwrap())
        .collect();
    for o in &outs {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    }
    let got: Vec<Vec<(u64, bool)>> = outs
        .iter()
        .map(|o| appended(&String::from_utf8_lossy(&o.stdout)))
        .collect();
    assert_eq!(
        got,
        vec![vec![(3, false)], vec![(5, false)], vec![(4, false)]]
    );
    let o = d.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(seqs(&db), (5, 1, 5));
    verifies(&log, 5);
    log.ok(&["index", "--check"], None);
}

/// The log `log` copied out to a new file log at `to` (removed first): its bytes, the stored
/// lines each with its newline.
fn copy_out(log: &str, to: &std::path::Path) -> Vec<u8> {
    let _ = std::fs::remove_file(to);
    let o = run(&["copy", "--from", log, "--to", to.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read(to).unwrap()
}

/// An import's pipelined batches when another writer commits between two of them: the
/// second batch, staged on the fold as the first left it, finds the table moved on when it
/// takes the writers' lock (`begin_at`), and goes the locked way: the other writer's record
/// folded in, the batch checked and stored after it. Made to happen on every run: a trigger
/// holds the first batch's last row (seq 402) on a lock the test holds, while the test queues
/// for the writers' lock behind it (PostgreSQL grants a lock to its waiters in the order they
/// came, so the test has it when the first batch commits, before the import asks again); the
/// test then stores a batch of its own at seqs 403-404 (made on a file log copied from the
/// table, so it chains on) and commits, with the import waiting for the lock. The import
/// exits 0; every row is stored once, seqs are contiguous, `verify` passes, and the log is
/// byte for byte the file log made the same way (the same batch at 403, then the same
/// import).
#[test]
fn an_import_whose_next_batch_finds_the_table_moved_goes_the_locked_way() {
    const GATE: i64 = 4242;
    let dir = tempfile::tempdir().unwrap();
    let sheet = sheet_of_three_batches(dir.path(), 400);
    let log = TestLog::empty(Backend::Postgres);
    let db = dbname(&log.arg).to_string();
    admin(Some(&db))
        .batch_execute(&format!(
            "CREATE FUNCTION stancelog.test_gate() RETURNS trigger LANGUAGE plpgsql AS
                 $f$ BEGIN PERFORM pg_advisory_xact_lock({GATE}); RETURN NEW; END $f$;
             CREATE TRIGGER test_gate BEFORE INSERT ON stancelog.records FOR EACH ROW
                 WHEN (NEW.seq = 402) EXECUTE FUNCTION stancelog.test_gate();"
        ))
        .unwrap();
    let mut gate = admin(Some(&db));
    gate.execute("SELECT pg_advisory_lock($1)", &[&GATE])
        .unwrap();
    let import = {
        let (sheet, arg) = (sheet.clone(), log.arg.clone());
        thread::spawn(move || import_sheet(&sheet, &arg))
    };
    // The first batch's transaction holds the writers' lock, its last row held at the gate.
    wait_for_lock_waiters(&db, 1);
    let (to_writer, rows) = std::sync::mpsc::channel::<Vec<String>>();
    let (locked, has_lock) = std::sync::mpsc::channel();
    let writer = {
        let db = db.clone();
        thread::spawn(move || {
            let mut other = hold_writers_lock(&db);
            locked.send(()).unwrap();
            for line in rows.recv().unwrap() {
                let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                let seq = v["seq"].as_i64().unwrap();
                let (id, hash) = (v["id"].as_str().unwrap(), v["hash"].as_str().unwrap());
                other
                    .execute(
                        "INSERT INTO stancelog.records (seq, id, hash, line) VALUES ($1, $2::text::uuid, $3, $4)",
                        &[&seq, &id, &hash, &line],
                    )
                    .unwrap();
            }
            other.batch_execute("COMMIT").unwrap();
        })
    };
    wait_for_lock_waiters(&db, 2);
    gate.execute("SELECT pg_advisory_unlock($1)", &[&GATE])
        .unwrap();
    has_lock.recv_timeout(Duration::from_secs(60)).unwrap();
    // The first batch committed; the import waits for the lock with its second batch.
    wait_for_lock_waiters(&db, 1);
    assert_eq!(seqs(&db), (402, 1, 402));
    // The other writer's batch: PRK registered and a stance of it (seqs 403 and 404),
    // recorded before the import's second batch.
    let expected = dir.path().join("expected.jsonl");
    copy_out(&log.arg, &expected);
    let other_dir = dir.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let other_sheet = other_dir.join("sheet.csv");
    std::fs::write(
        &other_sheet,
        "who,position,when,recorded\nPRK,oppose,1799-01,2000-06-01\n",
    )
    .unwrap();
    let o = import_sheet(&other_sheet, expected.to_str().unwrap());
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&expected).unwrap();
    let lines: Vec<String> = text.lines().skip(402).map(str::to_string).collect();
    assert_eq!(lines.len(), 2);
    to_writer.send(lines).unwrap();
    writer.join().unwrap();
    let o = import.join().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(seqs(&db), (1204, 1, 1204));
    let ids: i64 = admin(Some(&db))
        .query_one("SELECT count(DISTINCT id) FROM stancelog.records", &[])
        .unwrap()
        .get(0);
    assert_eq!(ids, 1204);
    verifies(&log, 1204);
    // The same on a file log: the other batch at 403, then the same import (its first
    // batch already there: found by its ids, not stored again).
    let o = import_sheet(&sheet, expected.to_str().unwrap());
    assert!(o.status.success(), "{}", stderr(&o));
    let got = copy_out(&log.arg, &dir.path().join("got.jsonl"));
    assert!(
        got == std::fs::read(&expected).unwrap(),
        "the PostgreSQL import is not the file import"
    );
}

/// Sessions opened on `c`'s database so far, read once every other session on it has ended
/// (PostgreSQL 15 flushes a session's counts before it leaves `pg_stat_activity`); `c`'s own
/// session is counted (its count flushed at once).
fn sessions_so_far(c: &mut postgres::Client) -> i64 {
    c.batch_execute("SELECT pg_stat_force_next_flush()")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let others: i64 = c
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0);
        if others == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{others} session(s) never ended");
        thread::sleep(Duration::from_millis(5));
    }
    c.batch_execute("SELECT pg_stat_clear_snapshot()").unwrap();
    c.query_one(
        "SELECT sessions FROM pg_stat_database WHERE datname = current_database()",
        &[],
    )
    .unwrap()
    .get(0)
}

/// With the index cache in place, an `append` checks its batch, appends and brings the cache
/// up to it on one connection (it opened three: the cache's check, the append, the cache's
/// update), and a query opens one; each checks the cache's end in the message that sets up
/// the session.
#[test]
fn an_append_and_a_query_each_open_one_connection() {
    let log = registered();
    let db = dbname(&log.arg).to_string();
    let mut c = admin(Some(&db));
    let before = sessions_so_far(&mut c);
    let out = log.ok(
        &["append", "--format", "json", "-"],
        Some(stances(1, 2).as_bytes()),
    );
    assert_eq!(appended(&out), vec![(3, false), (4, false)]);
    let after_append = sessions_so_far(&mut c);
    assert_eq!(after_append - before, 1);
    let out = log.ok(&["timeline", "--actor", "a", "--format", "json"], None);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let got: Vec<u64> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["seq"].as_u64())
        .collect();
    assert_eq!(got, vec![3, 4], "{out}");
    assert_eq!(sessions_so_far(&mut c) - after_append, 1);
    // Another machine's append (a cache of its own): the next append here catches its
    // cache up with the row after it, on its one connection.
    let other = tempfile::tempdir().unwrap();
    let mut command = crate::support::append_command(&log.arg, &[]);
    command.env("STANCELOG_CACHE", other.path());
    let o = crate::support::spawn_with_input(&mut command, &stances(2, 1))
        .wait_with_output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("seq 5 "), "{}", stdout(&o));
    let mid = sessions_so_far(&mut c);
    let out = log.ok(
        &["append", "--format", "json", "-"],
        Some(stances(3, 1).as_bytes()),
    );
    assert_eq!(appended(&out), vec![(6, false)]);
    assert_eq!(sessions_so_far(&mut c) - mid, 1);
    log.ok(&["index", "--check"], None);
    verifies(&log, 6);
}

/// Regression: a writer that had prepared its one-statement append on its connection, whose
/// index catch-up then met a tail over 64 MiB (another writer's batch), dropped that
/// connection and read the table on a new one, but kept the statements of the old: its next
/// append failed with "prepared statement ... does not exist". It now prepares them again.
#[test]
fn a_writer_appends_again_after_its_catch_up_of_a_long_tail_reconnected() {
    use stancelog::store::{AppendOptions, LogRef, Writer, index_dir, parse_batch};
    let log = registered();
    let target = LogRef::parse(std::ffi::OsStr::new(&log.arg)).unwrap();
    let opts = AppendOptions {
        recorded_at: jiff::Timestamp::from_second(1_730_000_000).unwrap(),
        expect_seq: None,
        wait: Duration::from_secs(5),
    };
    let batch = |text: &str| parse_batch("test", text.as_bytes()).unwrap();
    let mut w = Writer::open_log_indexed(&target, Duration::from_secs(5)).unwrap();
    for group in 1..=3 {
        w.append(&batch(&stances(group, 1)), "one", &opts).unwrap();
    }
    // Another writer's batch of 33,000 stances with 2,000-character quotes: about 70 MB.
    let quote = "q".repeat(2_000);
    let long = stances(100, 33_000).replace(r#""cite""#, &format!(r#""quote":"{quote}","cite""#));
    assert!(long.len() > 64 << 20);
    log.ok(&["append", "-q", "-"], Some(long.as_bytes()));
    let r = w.append(&batch(&stances(4, 1)), "after", &opts).unwrap();
    assert_eq!(r.events[0].seq, 2 + 3 + 33_000 + 1);
    verifies(&log, 2 + 3 + 33_000 + 1);
    if let Ok(dir) = index_dir(&target) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

// ---------------------------------------------------------------------------------------------
// Password logins
// ---------------------------------------------------------------------------------------------

/// The role that must give its password (SCRAM) even on the socket: `.ci/pg-start` puts its
/// `pg_hba.conf` line before the trust lines.
const PASSWORD_ROLE: &str = "stancelog_password_test";

/// The socket folder of the test server (its `host=`).
fn socket_dir() -> String {
    server()
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("host="))
        .expect("host= in STANCELOG_PG_TEST")
        .to_string()
}

/// Runs `stancelog ARGS` with `PGPASSFILE` set to `passfile` and `HOME` to a folder without a
/// `.pgpass`, so no password comes from anywhere else.
fn run_with_passfile(
    args: &[&str],
    stdin: Option<&[u8]>,
    passfile: &std::path::Path,
) -> std::process::Output {
    let home = passfile.parent().unwrap().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut c = crate::support::stancelog_command();
    c.args(args)
        .env_remove("STANCELOG_LOG")
        .env("PGPASSFILE", passfile)
        .env("HOME", &home);
    let child =
        crate::support::spawn_with_input(&mut c, &String::from_utf8_lossy(stdin.unwrap_or(b"")));
    child.wait_with_output().unwrap()
}

/// Given a role that `pg_hba.conf` makes give a password (scram-sha-256, on the Unix socket,
/// before the trust lines), a member of `stancelog_writer`: with the password in the URL, or
/// in the file `PGPASSFILE` names, stancelog appends, queries and copies; with a wrong
/// password (in either place) or none, it exits 1 saying the server refused the login; and
/// the password (as given or percent-encoded) appears in no output, of a success or a failure.
#[test]
fn a_role_that_must_give_a_password_logs_in_by_the_url_or_the_password_file() {
    // A colon and an at sign: escaped in the password file, percent-encoded in the URL.
    let password = "Pw:x7@Qz-secret";
    let encoded = "Pw%3Ax7%40Qz-secret";
    let log = TestLog::seed(Backend::Postgres);
    let db = dbname(&log.arg).to_string();
    admin(None)
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE {PASSWORD_ROLE} LOGIN; \
             EXCEPTION WHEN duplicate_object THEN NULL; END $$; \
             ALTER ROLE {PASSWORD_ROLE} PASSWORD '{password}'; \
             GRANT stancelog_writer TO {PASSWORD_ROLE}"
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let passfile = dir.path().join("pgpass");
    let none = dir.path().join("no-such-pgpass");
    let socket = socket_dir();
    let url = |pw: &str| format!("postgres://{PASSWORD_ROLE}:{pw}@/{db}?host={socket}");
    let keys = format!("host={socket} user={PASSWORD_ROLE} dbname={db}");
    let shown = format!("postgres://{PASSWORD_ROLE}@{socket}/{db}");
    let secret_free = |o: &std::process::Output, what: &str| {
        for s in [stdout(o), stderr(o)] {
            for p in [password, encoded, "x7@Qz", "x7%40Qz"] {
                assert!(!s.contains(p), "{what}: the password is in the output: {s}");
            }
        }
    };
    let event = |topic: &str| {
        format!(r#"{{"type":"topic.registered","topic":"{topic}","title":"T","kind":"policy"}}"#)
    };
    // The password in the URL.
    let good = url(encoded);
    let o = run_with_passfile(
        &["--log", &good, "append", "-"],
        Some(event("t-url").as_bytes()),
        &none,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("seq 41  id "), "{}", stdout(&o));
    secret_free(&o, "append by the URL");
    let o = run_with_passfile(&["--log", &good, "topics", "--format", "json"], None, &none);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"t-url\""), "{}", stdout(&o));
    secret_free(&o, "query by the URL");
    let back = dir.path().join("back.jsonl");
    let o = run_with_passfile(
        &["copy", "--from", &good, "--to", back.to_str().unwrap()],
        None,
        &none,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("from {shown} to ")),
        "{}",
        stdout(&o)
    );
    secret_free(&o, "copy by the URL");
    // The password from the password file: a socket outside the default folder matches its
    // folder's line, as in libpq, not a `localhost` line (its password, another server's, is
    // never sent); `\:` escapes.
    std::fs::write(
        &passfile,
        format!(
            "localhost:*:{db}:{PASSWORD_ROLE}:Pw-wrong\n{socket}:*:{db}:{PASSWORD_ROLE}:Pw\\:x7@Qz-secret\n"
        ),
    )
    .unwrap();
    let o = run_with_passfile(
        &["--log", &keys, "append", "-"],
        Some(event("t-file").as_bytes()),
        &passfile,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("seq 42  id "), "{}", stdout(&o));
    secret_free(&o, "append by the password file");
    let o = run_with_passfile(&["--log", &keys, "verify"], None, &passfile);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("ok: 42 events, head hash "),
        "{}",
        stdout(&o)
    );
    secret_free(&o, "verify by the password file");
    // A wrong password in the URL, in the password file, and none at all: refused, exit 1.
    let refused = format!(
        "stancelog: error: {shown}: password authentication failed for user \"{PASSWORD_ROLE}\""
    );
    let o = run_with_passfile(
        &["--log", &url("Pw%3Ax7%40Qz-wrong"), "append", "-"],
        Some(event("t-no").as_bytes()),
        &none,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).starts_with(&refused), "{}", stderr(&o));
    secret_free(&o, "a wrong password in the URL");
    assert!(!stderr(&o).contains("wrong"), "{}", stderr(&o));
    std::fs::write(
        &passfile,
        format!("{socket}:*:{db}:{PASSWORD_ROLE}:Pw\\:x7@Qz-wrong\n"),
    )
    .unwrap();
    let o = run_with_passfile(&["--log", &keys, "positions"], None, &passfile);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).starts_with(&refused), "{}", stderr(&o));
    assert!(!stderr(&o).contains("wrong"), "{}", stderr(&o));
    let o = run_with_passfile(&["--log", &keys, "positions"], None, &none);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with(&format!("stancelog: error: {shown}: ")),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("password"), "{}", stderr(&o));
    // A URL with the password that does not parse: refused without quoting it.
    let bad = format!("postgres://{PASSWORD_ROLE}:{encoded}@/{db}?host={socket}&port=x");
    let o = run_with_passfile(&["--log", &bad, "positions"], None, &none);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not a valid PostgreSQL connection string"),
        "{}",
        stderr(&o)
    );
    secret_free(&o, "a URL that does not parse");
    // Nothing was appended by the refused logins; the log verifies.
    assert_eq!(seqs(&db), (42, 1, 42));
    verifies(&log, 42);
}

// ---------------------------------------------------------------------------------------------
// Readers never block writers
// ---------------------------------------------------------------------------------------------

/// The server's wait event of the session `pid` (`None` when it waits for nothing).
fn wait_event(c: &mut postgres::Client, pid: i32) -> Option<String> {
    c.query_one(
        "SELECT wait_event FROM pg_stat_activity WHERE pid = $1",
        &[&pid],
    )
    .unwrap()
    .get(0)
}

/// Sessions of database `db` waiting for a lock (any kind: a table's, a row's, the writers')
/// held by a session other than the server's autovacuum. (A writer may wait a moment for an
/// automatic VACUUM or ANALYZE of the table it just filled, which gives way to it: no reader
/// is involved. This test failed once in about a dozen CI runs, on a loaded machine, with one
/// lock wait whose holder was not recorded; the autovacuum is the one session outside the
/// test that can hold a lock on its table, so that is the likely holder.)
fn lock_waits(c: &mut postgres::Client, db: &str) -> i64 {
    c.query_one(
        "SELECT count(*) FROM pg_stat_activity w WHERE w.datname = $1 AND w.wait_event_type = 'Lock' \
         AND EXISTS (SELECT 1 FROM unnest(pg_blocking_pids(w.pid)) AS b(pid) \
         JOIN pg_stat_activity h ON h.pid = b.pid WHERE h.backend_type <> 'autovacuum worker')",
        &[&db],
    )
    .unwrap()
    .get(0)
}

/// Waits for the append `child` to end (its output read meanwhile), up to a minute, failing
/// at once if any session of `db` waits for a lock meanwhile; gives its output.
fn acknowledged_without_waiting(
    child: Child,
    watch: &mut postgres::Client,
    db: &str,
) -> std::process::Output {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || tx.send(child.wait_with_output().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(o) = rx.recv_timeout(Duration::from_millis(10)) {
            return o;
        }
        assert_eq!(lock_waits(watch, db), 0, "a session waits for a lock");
        assert!(Instant::now() < deadline, "the append did not end");
    }
}

/// Given a log of 8,042 events and two readers that stay open on it: a client's REPEATABLE
/// READ transaction that has read every line, and stancelog's own read of the whole log
/// (`COPY (SELECT line ... ORDER BY seq) TO STDOUT`, one statement) stopped after its first
/// rows, its server process waiting to send the rest (`ClientWrite`, observed before going
/// on): when `stancelog append` adds one event (the one-statement `INSERT`) and then 1,500
/// (the locked way, binary `COPY`), each append exits 0 while both readers are open and no
/// session ever waits for a lock; the readers, still open, then see the log as it was before
/// the first batch (the transaction's lines unchanged, the `COPY`'s rest ending at seq 8,042),
/// and a new reader sees both batches whole.
#[test]
fn readers_holding_a_snapshot_or_mid_read_never_block_writers_and_see_no_later_batch() {
    use std::io::Read;
    let log = registered();
    let db = dbname(&log.arg).to_string();
    log.ok(&["append", "-"], Some(stances(7, 8_040).as_bytes()));
    let lines = "SELECT line FROM stancelog.records ORDER BY seq";
    let mut watch = admin(Some(&db));
    // Reader 1: a snapshot held open.
    let mut snapshot = admin(Some(&db));
    snapshot
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        .unwrap();
    let read = |c: &mut postgres::Client| -> Vec<String> {
        c.query(lines, &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let before = read(&mut snapshot);
    assert_eq!(before.len(), 8_042);
    // Reader 2: stancelog's whole-log read, mid-way.
    let mut copying = admin(Some(&db));
    let pid: i32 = copying
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let copy = format!("COPY ({lines}) TO STDOUT (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')");
    let mut reader = copying.copy_out(copy.as_str()).unwrap();
    let mut first = vec![0u8; 4096];
    reader.read_exact(&mut first).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while wait_event(&mut watch, pid).as_deref() != Some("ClientWrite") {
        assert!(Instant::now() < deadline, "the COPY never waited to send");
        thread::sleep(Duration::from_millis(10));
    }
    // The writers, while both readers are open.
    for (group, n) in [(8, 1), (9, 1_500)] {
        let o = acknowledged_without_waiting(
            spawn_append(&log.arg, &[], &stances(group, n)),
            &mut watch,
            &db,
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(
            stdout(&o).ends_with(&format!("appended {n} event(s), 0 already present\n")),
            "{}",
            stdout(&o)
        );
    }
    assert_eq!(seqs(&db), (9_543, 1, 9_543));
    assert_eq!(wait_event(&mut watch, pid).as_deref(), Some("ClientWrite"));
    // The readers still see the log before the first batch.
    assert_eq!(read(&mut snapshot), before);
    snapshot.batch_execute("COMMIT").unwrap();
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    drop(reader);
    first.extend(rest);
    let want: String = before.iter().map(|l| format!("{l}\n")).collect();
    assert_eq!(String::from_utf8(first).unwrap(), want);
    drop(copying);
    verifies(&log, 9_543);
}

// ---------------------------------------------------------------------------------------------
// Resuming a copy
// ---------------------------------------------------------------------------------------------

/// `stancelog copy --from FROM --to TO --format json`: exit 0, and (target_had, copied).
fn copied(from: &str, to: &str) -> (u64, u64) {
    let o = run(
        &["copy", "--from", from, "--to", to, "--format", "json"],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "copy {from} -> {to}: {}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    (
        v["target_had"].as_u64().unwrap(),
        v["copied"].as_u64().unwrap(),
    )
}

/// `copy` refused with exit 2 and this message after `stancelog: error: `.
fn copy_refused(from: &str, to: &str, message: &str) {
    let o = run(&["copy", "--from", from, "--to", to], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(stderr(&o), format!("stancelog: error: {message}\n"));
}

/// The first `n` lines of `bytes`, each with its newline.
fn first_lines(bytes: &[u8], n: usize) -> Vec<u8> {
    bytes
        .split_inclusive(|b| *b == b'\n')
        .take(n)
        .flatten()
        .copied()
        .collect()
}

/// Given the seed log (batches of 35 and 5 events) and targets holding what an interrupted
/// copy leaves (a copy into PostgreSQL commits in one transaction, so a database holds none or
/// all of a copy: here the first batch, copied earlier; a file holds whole batches, or a
/// batch cut short after whole lines or inside a line), `copy` again copies only what the
/// target lacks (`target_had` 35, `copied` 5) and the target is then byte for byte the seed,
/// lines and hashes; a target holding anything else (another second batch, or more than the
/// source) is refused with exit 2 naming where they part, and left as it was.
#[test]
fn a_copy_into_a_target_holding_a_prefix_copies_only_the_rest() {
    let seed_path = crate::support::seed_log();
    let seed = seed_path.to_str().unwrap();
    let seed_bytes = std::fs::read(&seed_path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    let batch1 = first_lines(&seed_bytes, 35);
    // File -> PostgreSQL: a database holding the first batch.
    let db = TestLog::empty(Backend::Postgres);
    assert_eq!(copied(&at("batch1.jsonl", &batch1), &db.arg), (0, 35));
    assert_eq!(copied(seed, &db.arg), (35, 5));
    assert_eq!(
        copy_out(&db.arg, &dir.path().join("back.jsonl")),
        seed_bytes
    );
    assert_eq!(copied(seed, &db.arg), (40, 0));
    // PostgreSQL -> file: files holding the first batch, and a second batch cut short.
    let line36 = &first_lines(&seed_bytes, 36)[batch1.len()..];
    let cut_in_line = [batch1.as_slice(), &line36[..line36.len() / 2]].concat();
    for (name, bytes) in [
        ("whole.jsonl", batch1.clone()),
        ("lines.jsonl", first_lines(&seed_bytes, 37)),
        ("in-line.jsonl", cut_in_line),
    ] {
        let to = at(name, &bytes);
        assert_eq!(copied(&db.arg, &to), (35, 5), "{name}");
        assert_eq!(std::fs::read(&to).unwrap(), seed_bytes, "{name}");
    }
    // Targets holding something else: refused, unchanged.
    let other = TestLog::empty(Backend::Postgres);
    copied(&at("other1.jsonl", &batch1), &other.arg);
    let event = br#"{"type":"topic.registered","topic":"t-other","title":"T","kind":"policy"}"#;
    other.ok(&["append", "-"], Some(event));
    let other_file = dir.path().join("other.jsonl");
    let other_bytes = copy_out(&other.arg, &other_file);
    let longer = TestLog::empty(Backend::Postgres);
    copied(seed, &longer.arg);
    longer.ok(&["append", "-"], Some(event));
    let longer_file = dir.path().join("longer.jsonl");
    let longer_bytes = copy_out(&longer.arg, &longer_file);
    let other_file = other_file.to_str().unwrap();
    let longer_file = longer_file.to_str().unwrap();
    let differ = |to: &str, from: &str, seq: u32| {
        format!(
            "{to} holds records that {from} does not (they differ at seq {seq}); refusing to copy into it"
        )
    };
    let more = |to: &str, from: &str| {
        format!("{to} holds records after seq 40, where {from} ends; refusing to copy into it")
    };
    copy_refused(seed, other_file, &differ(other_file, seed, 36));
    copy_refused(seed, longer_file, &more(longer_file, seed));
    let pg_other = pg_shown(&other.arg);
    let pg_longer = pg_shown(&longer.arg);
    copy_refused(seed, &other.arg, &differ(&pg_other, seed, 36));
    copy_refused(seed, &longer.arg, &more(&pg_longer, seed));
    let pg_db = pg_shown(&db.arg);
    copy_refused(&db.arg, other_file, &differ(other_file, &pg_db, 36));
    copy_refused(&db.arg, longer_file, &more(longer_file, &pg_db));
    assert_eq!(std::fs::read(other_file).unwrap(), other_bytes);
    assert_eq!(std::fs::read(longer_file).unwrap(), longer_bytes);
    assert_eq!(
        copy_out(&other.arg, &dir.path().join("o2.jsonl")),
        other_bytes
    );
    assert_eq!(
        copy_out(&longer.arg, &dir.path().join("l2.jsonl")),
        longer_bytes
    );
}

/// How stancelog shows the test server's connection string `arg` in messages.
fn pg_shown(arg: &str) -> String {
    format!("postgres://postgres@{}/{}", socket_dir(), dbname(arg))
}

/// Given a file log of 20,002 events in 11 batches: when `copy` into a database is killed
/// (SIGKILL) in the middle of its `COPY` (held there, seen in `pg_stat_activity`), the database
/// holds nothing of it (one transaction), and the next `copy` copies all; when `copy` out of
/// the database into a file is killed at five points spread over its run, the file holds a
/// run of whole batches (or a batch cut short, which a read leaves out), and the next `copy`
/// copies only what it lacks. Each target ends byte for byte the source.
#[test]
fn a_copy_killed_mid_way_is_completed_by_the_next_copy() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.jsonl");
    let src = source.to_str().unwrap();
    assert!(run_log_file(&source, &["init"], None).status.success());
    run_log_file(&source, &["append", "-"], Some(REGISTER.as_bytes()));
    for group in 0..10 {
        let o = run_log_file(
            &source,
            &["append", "-"],
            Some(stances(group, 2_000).as_bytes()),
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let source_bytes = std::fs::read(&source).unwrap();
    let copy = |from: &str, to: &str| {
        crate::support::stancelog_command()
            .args(["copy", "--from", from, "--to", to])
            .env_remove("STANCELOG_LOG")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // Into PostgreSQL, killed inside its COPY: the test inserts seq 20,002 in a transaction
    // left open, so the COPY, having sent the rows before it, waits for that transaction at
    // the primary key (seen in `pg_stat_activity`) until the kill.
    let db = TestLog::empty(Backend::Postgres);
    let name = dbname(&db.arg).to_string();
    let mut watch = admin(Some(&name));
    let mut gate = admin(Some(&name));
    gate.batch_execute(&format!(
        "BEGIN; INSERT INTO stancelog.records (seq, id, hash, line) \
         VALUES (20002, gen_random_uuid(), '{}', '{{}}')",
        "0".repeat(64)
    ))
    .unwrap();
    let mut child = copy(src, &db.arg);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let waiting: i64 = watch
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 \
                 AND wait_event_type = 'Lock' AND query LIKE 'COPY stancelog.records %'",
                &[&name],
            )
            .unwrap()
            .get(0);
        if waiting > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the copy's COPY never reached seq 20,002"
        );
        thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    gate.batch_execute("ROLLBACK").unwrap();
    assert_eq!(seqs(&name), (0, 0, 0));
    assert_eq!(copied(src, &db.arg), (0, 20_002));
    assert_eq!(
        copy_out(&db.arg, &dir.path().join("back.jsonl")),
        source_bytes
    );
    // Out of PostgreSQL into a file, killed at five points.
    let start = Instant::now();
    copied(&db.arg, dir.path().join("timed.jsonl").to_str().unwrap());
    let whole = start.elapsed();
    let batch_ends: Vec<u64> = [0, 2]
        .into_iter()
        .chain((1..=10).map(|b| 2 + b * 2_000))
        .collect();
    for k in 0..5u32 {
        let to = dir.path().join(format!("k{k}.jsonl"));
        let to = to.to_str().unwrap();
        let mut child = copy(&db.arg, to);
        thread::sleep(whole * k / 5);
        let _ = child.kill();
        let _ = child.wait();
        let (had, rest) = copied(&db.arg, to);
        assert!(batch_ends.contains(&had), "kill {k}: the file held {had}");
        assert_eq!(had + rest, 20_002, "kill {k}");
        assert_eq!(std::fs::read(to).unwrap(), source_bytes, "kill {k}");
    }
}
