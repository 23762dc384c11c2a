//! Full replay of a real log beside bare serde_json parsing of the same file into the same
//! record type, as a ratio in one run (issue 5's target: replay >= 0.8 of bare parsing). Both
//! sides read the file (from the page cache after the first round): the bare side reads it whole
//! and parses each line on one thread; the replay is `Log::open` (read, parse, verify the hash
//! chain, check and fold every event, on every core).
//!
//! Run: `STANCELOG_BENCH_LOG=/path/to/un.jsonl cargo bench --bench replay_real` (the script
//! `benches/un_votes.sh` makes that log and runs this). Without the variable it does nothing.

// The allocator the stancelog binary uses (see src/main.rs), for both sides.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::{Duration, Instant};

use stancelog::store::{Log, Record};

const ROUNDS: usize = 3;

fn best(mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut n = 0;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        n = f();
        best = best.min(t.elapsed());
    }
    (best, n)
}

fn main() {
    stancelog::allocator::tune_mimalloc();
    let Some(path) = std::env::var_os("STANCELOG_BENCH_LOG") else {
        println!(
            "replay_real: set STANCELOG_BENCH_LOG to a log file to run (see benches/un_votes.sh)"
        );
        return;
    };
    let path = std::path::PathBuf::from(path);
    let size = std::fs::metadata(&path).expect("the log").len();
    let (bare, lines) = best(|| {
        let bytes = std::fs::read(&path).expect("read the log");
        let mut n = 0;
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let record: Record = serde_json::from_slice(line).expect("a record");
            std::hint::black_box(record);
            n += 1;
        }
        n
    });
    let (replay, events) = best(|| {
        let log = Log::open(&path).expect("a good log");
        log.history().seq_last() as usize
    });
    assert_eq!(lines, events);
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    println!(
        "replay of {events} events ({} MB): bare serde_json parse {:.2} s ({:.0} events/s), full replay {:.2} s ({:.0} events/s); ratio {:.2} (target >= 0.8), best of {ROUNDS}",
        size / 1_000_000,
        bare.as_secs_f64(),
        rate(bare),
        replay.as_secs_f64(),
        rate(replay),
        bare.as_secs_f64() / replay.as_secs_f64()
    );
}
