//! Durable append throughput beside a bare `write` + `fdatasync` loop of the same bytes on the
//! same disk, as ratios in one run (issue 3's targets: single-event appends >= 0.8 of the bare
//! loop, 1,000-event batches >= 0.5).
//!
//! Run: `cargo bench --bench append`. Files go to cargo's target tmp dir (the project's disk).
//! Each measurement is repeated `ROUNDS` times, alternating ours and bare, and the median taken.
//!
//! With `STANCELOG_PG_BENCH` set to a superuser's connection string (`benches/pg.sh` starts a
//! throwaway server and sets it), instead: single-event appends to a PostgreSQL log through one
//! `Writer` (one process, one connection, as an importer or a service appends) beside two bare
//! loops of the same rows into tables of the same columns and keys, one connection each, with
//! prepared statements: `BEGIN; INSERT; COMMIT` and an autocommit `INSERT` (the faster, one
//! round trip a row: what a user would pick at its best). Issue 13's target: ratio >= 0.8 to
//! the faster. Each side in a fresh database; the three sides take turns every `PG_BLOCK`
//! appends, so that all meet the same load.

// The allocator the stancelog binary uses (see src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use stancelog::store::{AppendOptions, Log, LogRef, NewEvent, Writer, parse_batch};

const SINGLE_EVENTS: usize = 1_000;
const BATCH_EVENTS: usize = 1_000;
const BATCHES: usize = 40;
const ROUNDS: usize = 15;
const PG_ROUNDS: usize = 5;
/// Appends per side before the next side's turn, in the PostgreSQL comparison.
const PG_BLOCK: usize = 50;

fn header() -> Vec<NewEvent> {
    let text = concat!(
        r#"{"type":"actor.registered","actor":"a","name":"Actor A","kind":"state","country":"KOR","sector":"GOV"}"#,
        "\n",
        r#"{"type":"topic.registered","topic":"t","title":"Topic T","kind":"policy"}"#,
        "\n"
    );
    parse_batch("header", text.as_bytes()).expect("header batch")
}

/// `n` stance events, each with its own id so none is a duplicate.
fn stances(n: usize, salt: u128) -> Vec<NewEvent> {
    let mut text = String::new();
    // Dates rise with the salt and the index, as news arrives: appends land at the end of the
    // pair's history, the common case.
    let first = jiff::civil::date(1900, 1, 1);
    for i in 0..n {
        let days = (salt as u64 * n as u64 + i as u64) as i64;
        let date = first + jiff::SignedDuration::from_hours(24 * days);
        let id = uuid::Uuid::from_u128((salt << 64) | i as u128);
        let stance = if i % 2 == 0 { "support" } else { "oppose" };
        text.push_str(&format!(
            r#"{{"id":"{id}","type":"stance.declared","actor":"a","topic":"t","stance":"{stance}","date":"{date}","quote":"All the options for what we can do are on the table.","cite":{{"publication":"Yonhap News Agency","title":"A headline of ordinary length for a news report"}}}}"#,
        ));
        text.push('\n');
    }
    parse_batch("stances", text.as_bytes()).expect("stance batch")
}

fn opts() -> AppendOptions {
    AppendOptions {
        recorded_at: jiff::Timestamp::from_second(1_730_000_000).expect("time"),
        expect_seq: None,
        wait: Duration::from_secs(5),
    }
}

/// A fresh log holding the header; returns its path.
fn fresh_log(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    Log::create(&path).expect("create");
    Writer::open(&path, Duration::from_secs(5))
        .expect("writer")
        .append(&header(), "header", &opts())
        .expect("header append");
    path
}

/// Appends `batches` through one Writer; returns the elapsed time and the bytes written, split
/// as they were written (one chunk per batch).
fn ours(dir: &Path, batches: &[Vec<NewEvent>]) -> (Duration, Vec<Vec<u8>>) {
    let path = fresh_log(dir, "ours.jsonl");
    let start_len = std::fs::metadata(&path).expect("meta").len() as usize;
    let mut w = Writer::open(&path, Duration::from_secs(5)).expect("writer");
    let mut sizes = Vec::with_capacity(batches.len());
    let t = Instant::now();
    for b in batches {
        let before = w.log().history().seq_last();
        w.append(b, "bench", &opts()).expect("append");
        sizes.push(w.log().history().seq_last() - before);
    }
    let elapsed = t.elapsed();
    drop(w);
    let bytes = std::fs::read(&path).expect("read");
    let mut chunks = Vec::new();
    let mut lines = bytes[start_len..].split_inclusive(|&b| b == b'\n');
    for n in sizes {
        let chunk: Vec<u8> = lines.by_ref().take(n as usize).flatten().copied().collect();
        chunks.push(chunk);
    }
    (elapsed, chunks)
}

/// Writes the same chunks with a bare write + fdatasync each.
fn bare(dir: &Path, chunks: &[Vec<u8>]) -> Duration {
    let path = dir.join("bare.jsonl");
    let _ = std::fs::remove_file(&path);
    let mut f: File = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .expect("bare file");
    f.sync_all().expect("sync");
    let t = Instant::now();
    for c in chunks {
        f.write_all(c).expect("write");
        f.sync_data().expect("fdatasync");
    }
    t.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn compare(dir: &Path, label: &str, batches: &[Vec<NewEvent>], target: f64) {
    let events: usize = batches.iter().map(Vec::len).sum();
    let mut ours_rates = Vec::new();
    let mut bare_rates = Vec::new();
    for _ in 0..ROUNDS {
        let (t_ours, chunks) = ours(dir, batches);
        let t_bare = bare(dir, &chunks);
        ours_rates.push(events as f64 / t_ours.as_secs_f64());
        bare_rates.push(events as f64 / t_bare.as_secs_f64());
    }
    let (o, b) = (median(ours_rates), median(bare_rates));
    println!(
        "{label}: stancelog {o:>10.0} events/s ({:.0} appends/s), bare write+fdatasync {b:>10.0} events/s; ratio {:.2} (target >= {target})",
        o / (events as f64 / batches.len() as f64),
        o / b
    );
}

/// A fresh database `name` on the server `server`; gives its connection string.
fn pg_database(server: &str, name: &str) -> String {
    let mut admin = postgres::Client::connect(server, postgres::NoTls).expect("connect");
    // Two calls: DROP DATABASE cannot run in the transaction of a multi-statement string.
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .expect("drop database");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create database");
    format!("{server} dbname={name}")
}

/// One stored row: seq, id, hash, line.
type Row = (i64, String, String, String);

/// A bare client on the database `conn` with two tables of the same columns and keys as
/// stancelog's (without its triggers and checks), `records_tx` and `records_auto`, and the
/// prepared INSERT of each.
fn pg_bare_setup(conn: &str) -> (postgres::Client, postgres::Statement, postgres::Statement) {
    let mut client = postgres::Client::connect(conn, postgres::NoTls).expect("connect");
    let mut sql = String::from("SET synchronous_commit = on;");
    for t in ["records_tx", "records_auto"] {
        sql.push_str(&format!(
            "CREATE TABLE {t} (seq bigint PRIMARY KEY, id uuid NOT NULL, hash text, line text NOT NULL);"
        ));
    }
    client.batch_execute(&sql).expect("tables");
    let insert = |c: &mut postgres::Client, t: &str| {
        c.prepare(&format!(
            "INSERT INTO {t} (seq, id, hash, line) VALUES ($1, $2::text::uuid, $3, $4)"
        ))
        .expect("prepare")
    };
    let tx = insert(&mut client, "records_tx");
    let auto = insert(&mut client, "records_auto");
    (client, tx, auto)
}

/// Elapsed times of the three sides of one round: stancelog, the bare `BEGIN; INSERT; COMMIT`
/// loop (three round trips a row) and the bare autocommit `INSERT` loop (one round trip: the
/// INSERT is its own transaction, committed before the server answers); and the CPU time of
/// each side, the client's (this thread: the `postgres` crate runs its connection on the
/// calling thread) and its server process's.
#[derive(Default)]
struct PgRound {
    ours: Duration,
    bare_tx: Duration,
    bare_auto: Duration,
    /// CPU nanoseconds, (client, server), of ours, the bare transaction loop, the bare
    /// autocommit loop.
    cpu: [(u64, u64); 3],
}

/// CPU time in nanoseconds of the thread or process whose `schedstat` is at `path` (Linux's
/// `/proc/.../schedstat`, first field: time spent on a CPU). Panics when it cannot be read: a
/// CPU figure of 0 would be reported as if measured.
fn cpu_ns(path: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.split_whitespace()
        .next()
        .and_then(|ns| ns.parse().ok())
        .unwrap_or_else(|| panic!("{path}: no CPU time in {text:?}"))
}

/// CPU nanoseconds of this thread and of the server process `pid`, now.
fn cpu_now(pid: i32) -> (u64, u64) {
    (
        cpu_ns("/proc/thread-self/schedstat"),
        cpu_ns(&format!("/proc/{pid}/schedstat")),
    )
}

/// Adds the CPU used since `before` (taken by [`cpu_now`] for server process `pid`) to `to`.
fn add_cpu(to: &mut (u64, u64), before: (u64, u64), pid: i32) {
    let now = cpu_now(pid);
    to.0 += now.0 - before.0;
    to.1 += now.1 - before.1;
}

/// One round in a fresh database per side: single-event appends through one Writer, and the
/// same rows by the two bare loops, interleaved in blocks of `PG_BLOCK` appends so that all
/// three meet the same load on this shared machine (the rows of a block are read back from
/// stancelog's table, untimed, before the bare loops insert them).
fn pg_round(server: &str, batches: &[Vec<NewEvent>]) -> PgRound {
    let conn = pg_database(server, "bench_ours");
    let log = LogRef::parse(std::ffi::OsStr::new(&conn)).expect("connection string");
    log.create().expect("init");
    let mut w = Writer::open_log(&log, Duration::from_secs(5)).expect("writer");
    w.append(&header(), "header", &opts()).expect("header");
    let mut reader = postgres::Client::connect(&conn, postgres::NoTls).expect("connect");
    // The writer's server process: the other session of its database.
    let ours_pid: i32 = reader
        .query_one(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()
             AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
            &[],
        )
        .expect("the writer's session")
        .get(0);
    let (mut bare, insert_tx, insert_auto) = pg_bare_setup(&pg_database(server, "bench_bare"));
    let bare_pid: i32 = bare
        .query_one("SELECT pg_backend_pid()", &[])
        .expect("pid")
        .get(0);
    let mut round = PgRound::default();
    for block in batches.chunks(PG_BLOCK) {
        let after = w.log().history().seq_last() as i64;
        let cpu = cpu_now(ours_pid);
        let t = Instant::now();
        for b in block {
            w.append(b, "bench", &opts()).expect("append");
        }
        round.ours += t.elapsed();
        add_cpu(&mut round.cpu[0], cpu, ours_pid);
        let rows: Vec<Row> = reader
            .query(
                "SELECT seq, id::text, hash, line FROM stancelog.records WHERE seq > $1 ORDER BY seq",
                &[&after],
            )
            .expect("read back")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
        assert_eq!(rows.len(), block.len());
        let cpu = cpu_now(bare_pid);
        let t = Instant::now();
        for (seq, id, hash, line) in &rows {
            let mut tx = bare.transaction().expect("begin");
            tx.execute(&insert_tx, &[seq, id, hash, line])
                .expect("insert");
            tx.commit().expect("commit");
        }
        round.bare_tx += t.elapsed();
        add_cpu(&mut round.cpu[1], cpu, bare_pid);
        let cpu = cpu_now(bare_pid);
        let t = Instant::now();
        for (seq, id, hash, line) in &rows {
            bare.execute(&insert_auto, &[seq, id, hash, line])
                .expect("insert");
        }
        round.bare_auto += t.elapsed();
        add_cpu(&mut round.cpu[2], cpu, bare_pid);
    }
    round
}

fn pg_compare(server: &str, batches: &[Vec<NewEvent>], rounds: usize) {
    let events = batches.len() as f64;
    let (mut ours, mut tx, mut auto) = (Vec::new(), Vec::new(), Vec::new());
    // Microseconds of CPU per append, per side: [client, server] of each round.
    let mut cpu: [[Vec<f64>; 2]; 3] = Default::default();
    for _ in 0..rounds {
        let r = pg_round(server, batches);
        ours.push(events / r.ours.as_secs_f64());
        tx.push(events / r.bare_tx.as_secs_f64());
        auto.push(events / r.bare_auto.as_secs_f64());
        for (side, (client, server)) in r.cpu.iter().enumerate() {
            cpu[side][0].push(*client as f64 / 1e3 / events);
            cpu[side][1].push(*server as f64 / 1e3 / events);
        }
    }
    let [o, t, a] = cpu.map(|[c, s]| (median(c), median(s)));
    println!(
        "CPU per append (medians, microseconds, client + its server process): stancelog {:.1} + {:.1}; \
         bare BEGIN+INSERT+COMMIT {:.1} + {:.1}; bare autocommit INSERT {:.1} + {:.1}",
        o.0, o.1, t.0, t.1, a.0, a.1
    );
    let spread = |v: &[f64]| {
        let (lo, hi) = (
            v.iter().copied().fold(f64::MAX, f64::min),
            v.iter().copied().fold(0.0, f64::max),
        );
        format!("{lo:.0}-{hi:.0}")
    };
    let ratios: Vec<f64> = ours
        .iter()
        .zip(tx.iter().zip(&auto))
        .map(|(o, (t, a))| o / t.max(*a))
        .collect();
    let (so, st, sa, sr) = (spread(&ours), spread(&tx), spread(&auto), {
        let lo = ratios.iter().copied().fold(f64::MAX, f64::min);
        let hi = ratios.iter().copied().fold(0.0, f64::max);
        format!("{lo:.2}-{hi:.2}")
    });
    let (o, t, a, r) = (median(ours), median(tx), median(auto), median(ratios));
    println!(
        "PostgreSQL single-event appends (medians of {rounds} rounds, min-max): stancelog {o:.0}/s ({so}); \
         bare BEGIN+INSERT+COMMIT {t:.0}/s ({st}); bare autocommit INSERT {a:.0}/s ({sa}); \
         ratio to the faster bare loop, per round: median {r:.2} ({sr}) (target >= 0.8)"
    );
}

fn main() {
    stancelog::allocator::tune_mimalloc();
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a tiny smoke.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let (singles, batches, rounds_note) = if smoke {
        (10, 2, "smoke run")
    } else {
        (SINGLE_EVENTS, BATCHES, "median of 5 rounds")
    };
    println!(
        "durable appends on {} ({rounds_note})",
        dir.path().display()
    );
    let single: Vec<Vec<NewEvent>> = stances(singles, 1).into_iter().map(|e| vec![e]).collect();
    if let Ok(server) = std::env::var("STANCELOG_PG_BENCH") {
        // benches/pg.sh: the PostgreSQL comparison only.
        let rounds = if smoke { 1 } else { PG_ROUNDS };
        pg_compare(&server, &single, rounds);
        return;
    }
    compare(dir.path(), "single-event appends", &single, 0.8);
    let batched: Vec<Vec<NewEvent>> = (0..batches)
        .map(|i| stances(BATCH_EVENTS, 2 + i as u128))
        .collect();
    compare(dir.path(), "1,000-event batches ", &batched, 0.5);
}
