//! Given a log under stress (writers killed mid-append, writers racing, retried batches, flipped
//! bytes, torn tails, schema-1 records, oversized input), then what was acknowledged is kept,
//! batches stay whole and unmixed, every changed byte is caught on its line, and the only
//! defect tolerated is a torn tail, which the next append removes.
//!
//! The hash chain is recomputed here from the raw bytes with `sha2` ([`chain_head`]), so these
//! tests check the documented format, not the crate against itself. Random choices come from a
//! fixed-seed generator ([`Rng`]), so every run makes the same choices; only the timing of the
//! operating system varies.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};
use stancelog::store::{BATCH_EVENTS_MAX, LINE_BYTES_MAX, Log, SCHEMA_VERSION};

use crate::backends::on_both_backends;
use crate::support::{empty_log, json, run_log, seed_log, stderr, stdout};

/// Lines 1-3 of every log here: an actor, a policy topic, a claim topic (one batch).
const BASE: &str = r#"{"type":"actor.registered","actor":"a1","name":"Actor One","kind":"person","country":"KOR","sector":"GOV"}
{"type":"topic.registered","topic":"pol","title":"A policy","kind":"policy"}
{"type":"topic.registered","topic":"clm","title":"A claim","kind":"claim"}
"#;

/// Events in [`BASE`].
const BASE_EVENTS: u64 = 3;

/// The schema-1 fixture: the seed events as schema-1 records (no hash, no batch_last).
fn schema1_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema1-dprk-russia-2024.jsonl")
}

/// The event id numbered `n`: explicit ids make retries and counting by id possible.
fn id(n: u64) -> String {
    format!("0192b6a0-0000-7000-8000-{n:012x}")
}

/// Stance event `n` of `a1` on `pol`, with id [`id`]`(n)`; stance and date vary with `n`.
fn stance_event(n: u64) -> String {
    let stance = ["support", "oppose", "neutral", "abstain"][(n % 4) as usize];
    let day = 1 + n % 28;
    format!(
        r#"{{"id":"{}","type":"stance.declared","actor":"a1","topic":"pol","stance":"{stance}","date":"2024-10-{day:02}","cite":{{"publication":"P"}}}}"#,
        id(n)
    )
}

/// Stance events `ns` as a batch (JSON Lines).
fn batch(ns: impl IntoIterator<Item = u64>) -> String {
    ns.into_iter().map(|n| stance_event(n) + "\n").collect()
}

/// A temporary log holding [`BASE`] (seq 1-3, one batch).
fn base_log() -> (tempfile::TempDir, PathBuf) {
    let (dir, log) = empty_log();
    append_ok(&log, BASE);
    (dir, log)
}

/// Appends `text` from standard input and expects success.
fn append_ok(log: &Path, text: &str) -> Output {
    let o = run_log(log, &["append", "-"], Some(text.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "append: {}", stderr(&o));
    o
}

/// `verify` on a good log: exit 0, returns the event count and the head hash it prints.
fn verify_ok(log: &Path) -> (u64, String) {
    let o = run_log(log, &["verify"], None);
    assert_eq!(o.status.code(), Some(0), "verify: {}", stderr(&o));
    let out = stdout(&o);
    let first = out.lines().next().unwrap_or_default();
    let (n, head) = first
        .strip_prefix("ok: ")
        .and_then(|r| r.split_once(" events, head hash "))
        .unwrap_or_else(|| panic!("verify printed {out:?}"));
    (n.parse().expect("event count"), head.to_string())
}

/// `verify` on a bad log: exit 2, nothing on stdout, and `PATH:LINE:` on stderr, which is returned.
fn verify_fails_at(log: &Path, line: usize) -> String {
    let o = run_log(log, &["verify"], None);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "verify of a bad log: {err}");
    assert!(o.stdout.is_empty(), "verify printed {}", stdout(&o));
    let at = format!("{}:{line}:", log.display());
    assert!(err.contains(&at), "want {at} in {err}");
    err
}

/// The complete (newline-terminated) lines, without their newline.
fn complete_lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .filter_map(|l| l.strip_suffix(b"\n"))
        .collect()
}

/// Byte offset just past each line's newline.
fn line_ends(bytes: &[u8]) -> Vec<usize> {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
        .collect()
}

/// The stored records of the log at `path`, parsed.
fn records(path: &Path) -> Vec<Value> {
    complete_lines(&fs::read(path).expect("read log"))
        .iter()
        .map(|l| serde_json::from_slice(l).expect("a stored line is JSON"))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Recomputes the hash chain of a log's complete lines from the documented rule alone: a
/// schema-2 line links SHA-256(previous hash || the line without its `,"hash":"…"` member) and
/// must store that value; a schema-1 line (no hash) links SHA-256(previous hash || the line).
/// The hash before line 1 is 32 zero bytes. Returns the head, in hex.
fn chain_head(bytes: &[u8]) -> String {
    const KEY: &[u8] = b",\"hash\":\"";
    let mut head = [0u8; 32];
    for (i, line) in complete_lines(bytes).into_iter().enumerate() {
        let mut h = Sha256::new();
        h.update(head);
        match line.windows(KEY.len()).position(|w| w == KEY) {
            Some(at) => {
                let value = at + KEY.len();
                h.update(&line[..at]);
                h.update(&line[value + 64 + 1..]);
                head = h.finalize().into();
                let stored = std::str::from_utf8(&line[value..value + 64]).expect("hex");
                assert_eq!(stored, hex(&head), "stored hash of line {}", i + 1);
            }
            None => {
                h.update(line);
                head = h.finalize().into();
            }
        }
    }
    hex(&head)
}

/// A small deterministic generator (xorshift64*): the tests' random choices, the same each run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A shell loop running `stancelog --log LOG append --format csv EXTRA FILE` for each of
/// `files` in turn, stopping at the first failure.
fn writer_loop(log: &Path, files: &[PathBuf], extra: &[&str]) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(
            r#"bin="$1"; log="$2"; extra="$3"; shift 3
for f in "$@"; do "$bin" --log "$log" append --format csv $extra "$f" || exit $?; done"#,
        )
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_stancelog"))
        .arg(log)
        .arg(extra.join(" "))
        .args(files)
        .env_remove("STANCELOG_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// The `(seq, id)` rows printed by `append --format csv` runs: the acknowledged events.
fn acknowledged(out: &[u8]) -> Vec<(u64, String, bool)> {
    complete_lines(out)
        .into_iter()
        .map(|l| std::str::from_utf8(l).expect("utf-8"))
        .filter(|l| *l != "seq,id,duplicate")
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 3, "csv row {l:?}");
            (
                f[0].parse().expect("seq"),
                f[1].to_string(),
                f[2].parse().expect("duplicate"),
            )
        })
        .collect()
}

/// Waits until no process holds the log's lock: a writer killed mid-append may still be
/// finishing its last system call until the kernel closes its files.
fn wait_for_writers(log: &Path) {
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(log)
        .expect("open log");
    f.lock().expect("lock the log");
    f.unlock().expect("unlock the log");
}

/// The ids of the log's events in seq order, checking that seqs run 1, 2, 3...
fn ids_in_order(log: &Log) -> Vec<String> {
    log.history()
        .events()
        .enumerate()
        .map(|(i, e)| {
            assert_eq!(e.seq, i as u64 + 1, "seq contiguous from 1");
            e.id.hyphenated().to_string()
        })
        .collect()
}

// 1. Crash --------------------------------------------------------------------------------------

#[test]
fn appends_killed_at_random_points_keep_every_acknowledged_event_and_at_most_a_torn_tail() {
    // Given a log and a writer appending stance n (id n, seq n + 4) one at a time, in a loop,
    // killed with SIGKILL (its whole process group) after a random delay, 200 times;
    const KILLS: usize = 200;
    const AHEAD: u64 = 40;
    let (dir, log) = base_log();
    let path = log.display().to_string();
    let mut rng = Rng(0x5eed_0001_d0d0_cafe);
    let mut acked: BTreeMap<String, u64> = BTreeMap::new();
    let mut written = 0u64;
    let mut kept = fs::read(&log).unwrap();
    let (mut torn_seen, mut repairs, mut finished_early, mut injected) = (0, 0, 0, 0);
    let mut torn_before = 0u64;
    // Stance events in the log's complete batches: the next one to append.
    let mut next = 0u64;
    let started = Instant::now();
    for round in 0..KILLS {
        while written < next + AHEAD {
            fs::write(
                dir.path().join(format!("ev_{written}.json")),
                stance_event(written),
            )
            .unwrap();
            written += 1;
        }
        let files: Vec<PathBuf> = (next..next + AHEAD)
            .map(|n| dir.path().join(format!("ev_{n}.json")))
            .collect();
        let child = writer_loop(&log, &files, &["--wait", "30"])
            .process_group(0)
            .spawn()
            .expect("spawn the writer loop");
        std::thread::sleep(Duration::from_micros(rng.below(45_000)));
        let killed = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stderr(Stdio::null())
            .status()
            .expect("run kill");
        let out = child.wait_with_output().expect("wait for the writer loop");
        wait_for_writers(&log);

        // then the loop died by the signal (or had nothing left to do), with no error,
        let err = stderr(&out);
        match out.status.signal() {
            Some(9) => assert!(killed.success()),
            _ => {
                assert_eq!(out.status.code(), Some(0), "round {round}: {err}");
                finished_early += 1;
            }
        }
        // the only message is the repair of the previous round's torn tail, of its size,
        // (a message cut short by the kill is a prefix of it),
        let repaired = format!(
            "stancelog: removed a torn tail of {torn_before} bytes from {path} before appending\n"
        );
        for line in err.split_inclusive('\n') {
            if line.ends_with('\n') {
                assert_eq!(line, repaired, "round {round}");
                repairs += 1;
            } else {
                assert!(repaired.starts_with(line), "round {round}: {line:?}");
            }
        }
        // the complete batches of earlier rounds are unchanged (append-only),
        let bytes = fs::read(&log).unwrap();
        assert!(bytes.starts_with(&kept), "round {round}: old bytes changed");
        let now = Log::from_bytes(&path, &bytes).expect("nothing worse than a torn tail");
        let torn = now.torn_tail_bytes();
        kept = bytes[..bytes.len() - torn as usize].to_vec();
        // the log holds stance 0, 1, 2... each once, in order, seq contiguous,
        let ids = ids_in_order(&now);
        let want: Vec<String> = (0..ids.len() as u64 - BASE_EVENTS).map(id).collect();
        assert_eq!(ids[BASE_EVENTS as usize..], want[..], "round {round}");
        // every acknowledged event is there, at the seq it was acknowledged with,
        for (seq, id, _) in acknowledged(&out.stdout) {
            acked.insert(id, seq);
        }
        for (id, seq) in &acked {
            assert_eq!(ids.get(*seq as usize - 1), Some(id), "round {round}: lost");
        }
        // and verify passes, or fails only on a torn tail at the line after the last batch,
        // which queries skip with a warning.
        let n = ids.len();
        if torn == 0 {
            assert_eq!(verify_ok(&log).0, n as u64);
        } else {
            torn_seen += 1;
            torn_tail_is_refused_and_skipped(&log, n, torn);
        }
        next = n as u64 - BASE_EVENTS;
        torn_before = torn;

        // A SIGKILL cannot cut a write(2) short, so now and then (a quarter of the rounds) a
        // torn write is simulated on top, as a power loss would leave one: the start of a line
        // without its end. The next round's writer must remove it first.
        if torn == 0 && rng.below(4) == 0 {
            let last = complete_lines(&bytes).last().unwrap().to_vec();
            let cut = 1 + rng.below(last.len() as u64 - 1) as usize;
            let mut f = fs::OpenOptions::new().append(true).open(&log).unwrap();
            f.write_all(&last[..cut]).unwrap();
            torn_before = cut as u64;
            injected += 1;
        }
    }

    // A kill rarely leaves a torn tail behind (only one landing before the next writer removes
    // the last one injected, a race a fast machine may never lose), so one is left by hand.
    let bytes = fs::read(&log).unwrap();
    let n = Log::from_bytes(&path, &bytes).unwrap().history().seq_last();
    if torn_before == 0 {
        let last = complete_lines(&bytes).last().unwrap().to_vec();
        let mut f = fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(&last[..last.len() / 2]).unwrap();
        torn_before = (last.len() / 2) as u64;
    }
    torn_tail_is_refused_and_skipped(&log, n as usize, torn_before);

    // When one more event is appended, then the torn tail is removed, said so, and the chain
    // checks out.
    let o = append_ok(&log, &stance_event(n - BASE_EVENTS));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: removed a torn tail of {torn_before} bytes from {path} before appending\n"
        )
    );
    let (events, head) = verify_ok(&log);
    assert_eq!(events, n + 1);
    assert_eq!(head, chain_head(&fs::read(&log).unwrap()));
    assert!(!acked.is_empty(), "no append finished in {KILLS} rounds");
    eprintln!(
        "crash: {KILLS} kills in {:.1?}, {} acknowledged, {} in the log, {injected} torn writes \
         simulated, {torn_seen} torn tails found after a kill, {repairs} repairs reported, \
         {finished_early} loops not killed",
        started.elapsed(),
        acked.len(),
        events - BASE_EVENTS,
    );
}

/// Checks a log of `n` whole records followed by a torn tail of `torn` bytes: `verify` fails
/// at line `n + 1` naming the tail, and a query skips it with a warning.
fn torn_tail_is_refused_and_skipped(log: &Path, n: usize, torn: u64) {
    let e = verify_fails_at(log, n + 1);
    assert!(e.contains(&format!("torn tail: {torn} bytes")), "{e}");
    let o = run_log(log, &["timeline", "--format", "csv"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), n - BASE_EVENTS as usize + 1);
    assert!(stderr(&o).contains(&format!("ignoring a torn tail of {torn} bytes")));
}

#[test]
fn a_log_cut_at_any_byte_of_its_last_records_keeps_exactly_its_complete_batches() {
    // Given a log of batches of 3, 3, 1 and 2 records (lines 1-3, 4-6, 7, 8-9),
    let (_dir, log) = base_log();
    append_ok(&log, &batch(0..3));
    append_ok(&log, &batch(3..4));
    append_ok(&log, &batch(4..6));
    let good = fs::read(&log).unwrap();
    let ends = line_ends(&good);
    assert_eq!(ends.len(), 9);
    assert_eq!(*ends.last().unwrap(), good.len());
    // (bytes, seq) where each batch ends.
    let batch_ends: Vec<(usize, u64)> = [3, 6, 7, 9]
        .iter()
        .map(|&l| (ends[l - 1], l as u64))
        .collect();
    // A batch is complete when the cut leaves its last record whole, with or without the
    // newline after it (issue 15: a missing last newline lost the whole last batch).
    let complete_at = |cut: usize| {
        *batch_ends
            .iter()
            .rev()
            .find(|(b, _)| *b <= cut + 1)
            .unwrap()
    };

    // when it is cut at every byte from the start of line 7 (its last 3 records) to the end,
    let from = ends[5];
    for cut in from..=good.len() {
        let l = Log::from_bytes("cut", &good[..cut]).unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        // then exactly the complete batches are read, and the rest is the torn tail.
        let (keep, seq) = complete_at(cut);
        assert_eq!(
            l.torn_tail_bytes(),
            cut.saturating_sub(keep) as u64,
            "cut {cut}"
        );
        assert_eq!(l.final_newline_missing(), keep == cut + 1, "cut {cut}");
        assert_eq!(l.history().seq_last(), seq, "cut {cut}");
        assert_eq!(l.head_hash(), chain_head(&good[..keep]), "cut {cut}");
    }

    // When the next append runs on a sample of those cuts (every batch boundary and the bytes
    // either side, and every 23rd byte), then it removes exactly the torn bytes and says how
    // many, the new record follows the complete batches, and verify passes.
    let mut cuts: BTreeSet<usize> = (from..good.len()).step_by(23).collect();
    for e in &ends[5..] {
        cuts.extend([e - 1, *e, e + 1]);
    }
    cuts.retain(|c| (from..=good.len()).contains(c));
    let path = log.display().to_string();
    for &cut in &cuts {
        let (keep, seq) = complete_at(cut);
        fs::write(&log, &good[..cut]).unwrap();
        let o = append_ok(&log, &stance_event(100));
        let torn = cut.saturating_sub(keep);
        if torn > 0 {
            // Whole records of the unfinished batch are counted in the message, a last one
            // whose newline alone is missing too.
            let whole = good[keep..cut].iter().filter(|b| **b == b'\n').count()
                + usize::from(good[cut] == b'\n');
            let detail = match whole {
                0 => String::new(),
                1 => ": 1 whole record of an unfinished batch".to_string(),
                n => format!(": {n} whole records of an unfinished batch"),
            };
            assert_eq!(
                stderr(&o),
                format!(
                    "stancelog: removed a torn tail of {torn} bytes from {path} before appending{detail}\n"
                ),
                "cut {cut}"
            );
        } else if keep == cut + 1 {
            assert_eq!(
                stderr(&o),
                format!(
                    "stancelog: {path}: its last record had no newline after it; wrote one before appending (the record was complete and is kept)\n"
                ),
                "cut {cut}"
            );
        } else {
            assert!(o.stderr.is_empty(), "cut {cut}: {}", stderr(&o));
        }
        assert!(stdout(&o).starts_with(&format!("seq {}  id {}\n", seq + 1, id(100))));
        let after = fs::read(&log).unwrap();
        assert_eq!(after[..keep], good[..keep], "cut {cut}");
        assert_eq!(complete_lines(&after[keep..]).len(), 1, "cut {cut}");
        assert!(after.ends_with(b"\n"));
        let rec: Value = serde_json::from_slice(&after[keep..after.len() - 1]).unwrap();
        assert_eq!(
            (rec["seq"].as_u64(), rec["batch_last"].as_u64()),
            (Some(seq + 1), Some(seq + 1))
        );
        let (events, head) = verify_ok(&log);
        assert_eq!(events, seq + 1, "cut {cut}");
        assert_eq!(head, chain_head(&after), "cut {cut}");
    }
    assert!(cuts.len() >= 40, "{} cuts", cuts.len());
}

// 2. Concurrency --------------------------------------------------------------------------------

#[test]
fn four_writers_appending_at_once_lose_nothing_and_never_interleave_batches() {
    // Given 4 writers, each a loop of 25 appends of 20 events with ids of their own,
    const WRITERS: u64 = 4;
    const APPENDS: u64 = 25;
    const EVENTS: u64 = 20;
    let (dir, log) = base_log();
    let first = |w: u64, a: u64| 10_000 + w * 1_000 + a * EVENTS;
    let mut files = Vec::new();
    for w in 0..WRITERS {
        let mut mine = Vec::new();
        for a in 0..APPENDS {
            let p = dir.path().join(format!("w{w}_{a}.jsonl"));
            fs::write(&p, batch(first(w, a)..first(w, a) + EVENTS)).unwrap();
            mine.push(p);
        }
        files.push(mine);
    }
    // when they all run at once,
    let started = Instant::now();
    let children: Vec<_> = files
        .iter()
        .map(|mine| writer_loop(&log, mine, &["--wait", "60"]).spawn().unwrap())
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let elapsed = started.elapsed();

    // then every append succeeded and acknowledged its 10 events,
    let mut acked = BTreeMap::new();
    for (w, o) in outs.iter().enumerate() {
        assert_eq!(o.status.code(), Some(0), "writer {w}: {}", stderr(o));
        assert!(o.stderr.is_empty(), "writer {w}: {}", stderr(o));
        let rows = acknowledged(&o.stdout);
        assert_eq!(rows.len() as u64, APPENDS * EVENTS, "writer {w}");
        for (seq, id, dup) in rows {
            assert!(!dup);
            assert_eq!(acked.insert(id, seq), None);
        }
    }
    // all 2,000 events are in the log once each, at the seq acknowledged, seq 1..=2003,
    let total = BASE_EVENTS + WRITERS * APPENDS * EVENTS;
    let recs = records(&log);
    assert_eq!(recs.len() as u64, total);
    let mut by_id: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (i, r) in recs.iter().enumerate() {
        let seq = r["seq"].as_u64().unwrap();
        assert_eq!(seq, i as u64 + 1, "seq contiguous");
        let prev = by_id.insert(
            r["id"].as_str().unwrap().to_string(),
            (seq, r["batch_last"].as_u64().unwrap()),
        );
        assert_eq!(prev, None, "id stored twice");
    }
    for (id, seq) in &acked {
        assert_eq!(by_id[id].0, *seq, "{id}");
    }
    // each batch is contiguous, in its order, marked with its last seq, and starts where the
    // previous batch ends,
    let mut starts = Vec::new();
    for w in 0..WRITERS {
        for a in 0..APPENDS {
            let (s0, _) = by_id[&id(first(w, a))];
            for e in 0..EVENTS {
                let got = by_id[&id(first(w, a) + e)];
                assert_eq!(
                    got,
                    (s0 + e, s0 + EVENTS - 1),
                    "writer {w} append {a} event {e}"
                );
            }
            assert_eq!(recs[s0 as usize - 2]["batch_last"].as_u64(), Some(s0 - 1));
            starts.push((s0, w));
        }
    }
    // the writers really interleaved,
    starts.sort();
    let switches = starts.windows(2).filter(|p| p[0].1 != p[1].1).count();
    assert!(
        switches > WRITERS as usize - 1,
        "writers took turns only {switches} times"
    );
    // and verify passes with the hash chain recomputed independently.
    let (events, head) = verify_ok(&log);
    assert_eq!(events, total);
    assert_eq!(head, chain_head(&fs::read(&log).unwrap()));
    eprintln!(
        "concurrency: {} appends by {WRITERS} writers in {elapsed:.1?}, {switches} changes of writer",
        WRITERS * APPENDS
    );
}

#[test]
fn two_writers_racing_with_the_same_expected_seq_exactly_one_wins_each_round() {
    // Given a log at seq 3 and, each round, two writers expecting the log's current seq,
    const ROUNDS: u64 = 20;
    let (dir, log) = base_log();
    let mut wins = [0; 2];
    for round in 0..ROUNDS {
        let at = BASE_EVENTS + round;
        let children: Vec<_> = (0..2u64)
            .map(|side| {
                let n = 1_000 + 2 * round + side;
                let p = dir.path().join(format!("race_{n}.json"));
                fs::write(&p, stance_event(n)).unwrap();
                crate::support::stancelog_command()
                    .arg("--log")
                    .arg(&log)
                    .args(["append", "--wait", "30", "--expect-seq", &at.to_string()])
                    .arg(&p)
                    .env_remove("STANCELOG_LOG")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        // when both append at once,
        let outs: Vec<Output> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        // then one exits 0 with seq at + 1, the other exits 3 naming both seqs.
        let codes: Vec<Option<i32>> = outs.iter().map(|o| o.status.code()).collect();
        let winner = match codes[..] {
            [Some(0), Some(3)] => 0,
            [Some(3), Some(0)] => 1,
            _ => panic!("round {round}: exit codes {codes:?}"),
        };
        wins[winner] += 1;
        let n = 1_000 + 2 * round + winner as u64;
        assert!(
            stdout(&outs[winner]).starts_with(&format!("seq {}  id {}\n", at + 1, id(n))),
            "round {round}: {}",
            stdout(&outs[winner])
        );
        let loser = &outs[1 - winner];
        assert_eq!(
            stderr(loser),
            format!(
                "stancelog: error: expected seq {at}, log is at {}\n",
                at + 1
            )
        );
        assert!(loser.stdout.is_empty());
    }
    assert_eq!(verify_ok(&log).0, BASE_EVENTS + ROUNDS);
    eprintln!("expect-seq race: wins {wins:?}");
}

// 3. Retry ---------------------------------------------------------------------------------------

on_both_backends! {
#[test]
fn a_retried_batch_is_stored_once_and_reported_with_its_original_seqs() {
    // Given a log at seq 3 and a batch of two events with explicit ids, appended expecting seq 3,
    let (_dir, log) = base_log();
    let two = batch(10..12);
    let o = run_log(
        &log,
        &["append", "--expect-seq", "3", "-"],
        Some(two.as_bytes()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!(
            "seq 4  id {}\nseq 5  id {}\nappended 2 event(s), 0 already present\n",
            id(10),
            id(11)
        )
    );
    let once = fs::read(&log).unwrap();

    // when the client retries it with the same --expect-seq (it never saw the answer),
    let o = run_log(
        &log,
        &["append", "--expect-seq", "3", "-"],
        Some(two.as_bytes()),
    );
    // then it succeeds, stores nothing, and reports the original seqs as already present.
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    let note = "  (already in the log; not stored again)";
    assert_eq!(
        stdout(&o),
        format!(
            "seq 4  id {}{note}\nseq 5  id {}{note}\nappended 0 event(s), 2 already present\n",
            id(10),
            id(11)
        )
    );
    assert_eq!(fs::read(&log).unwrap(), once);
    // So does a retry in JSON, and one with no --expect-seq.
    let o = run_log(
        &log,
        &["append", "--format", "json", "-"],
        Some(two.as_bytes()),
    );
    assert_eq!(
        json(&o),
        serde_json::json!([
            {"seq": 4, "id": id(10), "duplicate": true},
            {"seq": 5, "id": id(11), "duplicate": true},
        ])
    );
    assert_eq!(fs::read(&log).unwrap(), once);

    // When the same id comes with other content, then it is refused on its line, field `id`.
    let changed = format!(
        "{}\n{}\n",
        stance_event(10),
        stance_event(11).replace(r#""publication":"P""#, r#""publication":"Q""#)
    );
    let o = run_log(&log, &["append", "-"], Some(changed.as_bytes()));
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: error: -:2: field `id`: id {} is already used by seq 5 with different content\n",
            id(11)
        )
    );
    assert_eq!(fs::read(&log).unwrap(), once);

    // When a batch mixes a stored event and a new one, then only the new one is appended.
    let mixed = batch([11, 12]);
    let o = run_log(
        &log,
        &["append", "--expect-seq", "5", "-"],
        Some(mixed.as_bytes()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!(
            "seq 5  id {}{note}\nseq 6  id {}\nappended 1 event(s), 1 already present\n",
            id(11),
            id(12)
        )
    );
    let after = fs::read(&log).unwrap();
    assert_eq!(after[..once.len()], once[..]);
    let new = complete_lines(&after[once.len()..]);
    assert_eq!(new.len(), 1);
    let rec: Value = serde_json::from_slice(new[0]).unwrap();
    assert_eq!(
        (rec["seq"].as_u64(), rec["id"].as_str()),
        (Some(6), Some(id(12).as_str()))
    );
    assert_eq!(rec["batch_last"].as_u64(), Some(6));

    // A mixed batch with new events still honours --expect-seq; a pure retry ignores it.
    let o = run_log(
        &log,
        &["append", "--expect-seq", "5", "-"],
        Some(batch([12, 13]).as_bytes()),
    );
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        stderr(&o),
        "stancelog: error: expected seq 5, log is at 6\n"
    );
    let o = run_log(
        &log,
        &["append", "--expect-seq", "0", "-"],
        Some(batch([12, 10]).as_bytes()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("appended 0 event(s), 2 already present"));
    assert_eq!(fs::read(&log).unwrap(), after);
    assert_eq!(verify_ok(&log).0, 6);
}
}

// 4. Tamper --------------------------------------------------------------------------------------

/// What `verify` makes of `bytes`, computed in process the way the command does: `Err(line)`
/// for a bad line, `Ok(line)` for a torn tail starting at `line`, `Ok(0)` for a good log.
fn verdict(name: &str, bytes: &[u8]) -> Result<usize, String> {
    match Log::from_bytes(name, bytes) {
        Ok(l) if l.torn_tail_bytes() == 0 => Ok(0),
        Ok(l) => Ok(l.history().seq_last() as usize + 1),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn every_changed_byte_of_every_record_fails_verify_on_its_line() {
    // Given a log of three appends: batches of 3, 1 and 2 records (lines 1-3, 4, 5-6),
    let (_dir, log) = base_log();
    append_ok(&log, &batch(0..1));
    append_ok(&log, &batch(1..3));
    let good = fs::read(&log).unwrap();
    let ends = line_ends(&good);
    assert_eq!(ends.len(), 6);
    let name = log.display().to_string();
    assert_eq!(verdict(&name, &good), Ok(0));
    let line_of = |i: usize| ends.iter().position(|&e| i < e).unwrap() + 1;

    // when any one byte is XORed with 0x01, or any digit replaced by the next digit (the JSON
    // staying valid), then verify names that byte's line, the final newline's too: the last
    // record is whole, so a byte in place of its newline is text after it, not a torn tail
    // (which used to drop the whole last batch).
    let mut digit_changes = 0;
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        let want = format!("{name}:{}:", line_of(i));
        match verdict(&name, &bad) {
            Err(e) => assert!(e.starts_with(&want), "byte {i}: {e}, want {want}"),
            got => panic!("byte {i}: {got:?}, want {want}"),
        }
        if good[i].is_ascii_digit() {
            let mut bad = good.clone();
            bad[i] = b'0' + (good[i] - b'0' + 1) % 10;
            let e = verdict(&name, &bad).expect_err("a changed digit is caught");
            assert!(
                e.starts_with(&format!("{name}:{}:", line_of(i))),
                "digit at {i}: {e}"
            );
            digit_changes += 1;
        }
    }
    assert!(digit_changes > 100, "{digit_changes}");

    // And through the command, for at least 20 bytes of each line (its first, its newline, and
    // evenly spread ones between) flipped, and 5 digits of each line changed:
    let mut starts = vec![0];
    starts.extend_from_slice(&ends[..5]);
    let mut checked = 0;
    for (l, (&start, &end)) in starts.iter().zip(&ends).enumerate() {
        let line = l + 1;
        let len = end - start;
        let mut flips: BTreeSet<usize> = (0..20).map(|k| start + k * (len - 1) / 19).collect();
        flips.insert(end - 1);
        assert!(flips.len() >= 20);
        let digits: Vec<usize> = (start..end).filter(|&i| good[i].is_ascii_digit()).collect();
        let changes: Vec<(usize, u8)> = flips
            .iter()
            .map(|&i| (i, good[i] ^ 0x01))
            .chain(
                (0..5)
                    .map(|k| digits[k * digits.len() / 5])
                    .map(|i| (i, b'0' + (good[i] - b'0' + 5) % 10)),
            )
            .collect();
        for (i, b) in changes {
            let mut bad = good.clone();
            bad[i] = b;
            fs::write(&log, &bad).unwrap();
            verify_fails_at(&log, line);
            checked += 1;
        }
    }
    assert!(checked >= 6 * 25, "{checked}");

    // And an append to a log whose last record (where the new batch joins the chain) has a
    // changed byte is refused, repairing nothing.
    let last = ends.len();
    let mut bad = good.clone();
    bad[ends[last - 2] + 3] ^= 0x01;
    fs::write(&log, &bad).unwrap();
    let o = run_log(&log, &["append", "-"], Some(stance_event(9).as_bytes()));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{name}:{last}:")),
        "{}",
        stderr(&o)
    );
    assert_eq!(fs::read(&log).unwrap(), bad);

    // A byte changed further back is not read by an append, which checks the batch against
    // the projection index and the chain at the join only: the batch is appended, and
    // `verify` still fails at the changed line.
    let mut bad = good.clone();
    bad[ends[1] + 3] ^= 0x01;
    fs::write(&log, &bad).unwrap();
    let o = run_log(&log, &["append", "-"], Some(stance_event(9).as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    verify_fails_at(&log, 3);
}

#[test]
fn verify_expect_head_detects_a_log_cut_back_to_an_earlier_batch() {
    // Given a log of two batches (seq 1-3, then 4-5) and the head hashes noted after each,
    let (_dir, log) = base_log();
    let (_, first_head) = verify_ok(&log);
    let first = fs::read(&log).unwrap();
    append_ok(&log, &batch(0..2));
    let (n, head) = verify_ok(&log);
    assert_eq!(n, 5);
    let expect = |hash: &str| run_log(&log, &["verify", "--expect-head", hash], None);
    // when verified expecting the current head, or (upper case) the earlier one, then verify
    // passes, saying how many events came after an earlier head;
    let o = expect(&head);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("ok: 5 events, head hash {head}\nindex: agrees with the log (seq 5)\n")
    );
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    let o = expect(&first_head.to_uppercase());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: note: {}: the expected head is the hash of seq 3; the log has 2 event(s) after it\n",
            log.display()
        )
    );
    // when the log is cut back to its first batch (a valid log: the chain alone cannot tell),
    // then plain verify passes, and verify expecting the noted head fails, naming both heads.
    fs::write(&log, &first).unwrap();
    assert_eq!(verify_ok(&log), (3, first_head.clone()));
    let o = expect(&head);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: error: {}: no record has the expected head hash {head}: the log was cut back to before that record, or rewritten (its head now: seq 3, {first_head})\n",
            log.display()
        )
    );
    // A value that is no hash is a usage error that quotes it.
    let o = expect("abc");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`abc` is not a head hash: 64 hex digits, as `verify` prints them"),
        "{}",
        stderr(&o)
    );
}

// 5. Torn tail -----------------------------------------------------------------------------------

#[test]
fn a_log_ending_in_half_a_line_answers_from_the_whole_lines_and_the_next_append_repairs_it() {
    // Given a log of 5 events (batches of 3 and 2) and a copy of it followed by half of the
    // record a sixth append wrote,
    let (dir, log) = base_log();
    append_ok(&log, &batch(0..2));
    let whole = fs::read(&log).unwrap();
    let scratch = dir.path().join("scratch.jsonl");
    fs::write(&scratch, &whole).unwrap();
    append_ok(&scratch, &batch(2..3));
    let sixth = fs::read(&scratch).unwrap()[whole.len()..].to_vec();
    let half = &sixth[..sixth.len() / 2];
    let mut torn = whole.clone();
    torn.extend_from_slice(half);
    fs::write(&log, &torn).unwrap();

    // when querying, then the answers are those of the whole lines, with a warning naming the
    // torn bytes, and the file is not touched;
    let warning = format!(
        "stancelog: warning: {}: ignoring a torn tail of {} bytes",
        log.display(),
        half.len()
    );
    let whole_log = dir.path().join("whole.jsonl");
    fs::write(&whole_log, &whole).unwrap();
    for args in [
        &["positions", "--format", "json"][..],
        &["positions", "--as-of", "2024-10-01", "--format", "csv"][..],
        &["timeline", "--format", "json"][..],
    ] {
        let o = run_log(&log, args, None);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).starts_with(&warning), "{args:?}: {}", stderr(&o));
        let w = run_log(&whole_log, args, None);
        assert_eq!(stdout(&o), stdout(&w), "{args:?}");
    }
    let o = run_log(&log, &["timeline", "--format", "json"], None);
    let ids: Vec<Value> = json(&o)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].clone())
        .collect();
    assert_eq!(ids, vec![Value::from(id(0)), Value::from(id(1))]);
    assert_eq!(fs::read(&log).unwrap(), torn);
    // verify fails at line 6, where the torn tail starts.
    let e = verify_fails_at(&log, 6);
    assert!(
        e.contains(&format!("torn tail: {} bytes", half.len())),
        "{e}"
    );

    // When an event is appended, then the torn bytes are removed (and counted on stderr), the
    // file is the whole lines plus the new record, and verify passes.
    let o = append_ok(&log, &stance_event(7));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: removed a torn tail of {} bytes from {} before appending\n",
            half.len(),
            log.display()
        )
    );
    assert_eq!(
        stdout(&o),
        format!(
            "seq 6  id {}\nappended 1 event(s), 0 already present\n",
            id(7)
        )
    );
    let after = fs::read(&log).unwrap();
    assert_eq!(after[..whole.len()], whole[..]);
    let new = complete_lines(&after[whole.len()..]);
    assert_eq!(new.len(), 1);
    assert!(after.ends_with(b"\n"));
    let rec: Value = serde_json::from_slice(new[0]).unwrap();
    assert_eq!(
        (rec["seq"].as_u64(), rec["id"].as_str()),
        (Some(6), Some(id(7).as_str()))
    );
    let (events, head) = verify_ok(&log);
    assert_eq!(events, 6);
    assert_eq!(head, chain_head(&after));
    let o = run_log(&log, &["positions"], None);
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn a_batch_missing_its_last_record_is_a_torn_tail_of_whole_lines() {
    // Given a log whose last batch of 3 lost its last line (a crash between lines),
    let (_dir, log) = base_log();
    append_ok(&log, &batch(0..1));
    let before = fs::read(&log).unwrap();
    append_ok(&log, &batch(1..4));
    let full = fs::read(&log).unwrap();
    let ends = line_ends(&full);
    let cut = &full[..ends[5]];
    fs::write(&log, cut).unwrap();
    let torn = cut.len() - before.len();

    // when querying, then the batch's two lines are ignored as a torn tail,
    let o = run_log(&log, &["timeline", "--format", "json"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let seqs: Vec<u64> = json(&o)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![4]);
    assert!(
        stderr(&o).contains(&format!("ignoring a torn tail of {torn} bytes")),
        "{}",
        stderr(&o)
    );
    // verify fails at line 5, where the unfinished batch starts,
    let e = verify_fails_at(&log, 5);
    assert!(e.contains(&format!("torn tail: {torn} bytes")), "{e}");
    // and the retried batch replaces them: same seqs, one batch, verify passes.
    let o = append_ok(&log, &batch(1..4));
    assert!(stderr(&o).contains(&format!("removed a torn tail of {torn} bytes")));
    assert!(stdout(&o).contains("appended 3 event(s), 0 already present"));
    let after = fs::read(&log).unwrap();
    assert_eq!(after[..before.len()], before[..]);
    let recs = records(&log);
    let tail: Vec<(u64, u64)> = recs[4..]
        .iter()
        .map(|r| {
            (
                r["seq"].as_u64().unwrap(),
                r["batch_last"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(tail, vec![(5, 7), (6, 7), (7, 7)]);
    assert_eq!(verify_ok(&log).0, 7);
}

#[test]
fn the_seed_log_without_its_final_newline_keeps_seq_36_to_40_and_the_next_append_writes_it() {
    // Regression (issue 15): removing only the final newline made queries drop seq 36-40 (the
    // corrections) and the next append remove all five acknowledged records (2,018 bytes).
    // Given the seed log with its final newline removed,
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("seed.jsonl");
    let seed = fs::read(seed_log()).unwrap();
    fs::write(&log, &seed[..seed.len() - 1]).unwrap();
    let (_, seed_head) = verify_ok(&seed_log());
    // when querying, then the answers (and notes) are the seed log's, with no warning;
    for args in [
        &["positions", "--format", "json"][..],
        &[
            "positions",
            "--known-at",
            "2026-11-29T12:40:00Z",
            "--format",
            "json",
        ][..],
        &["positions", "--known-at", "2026-11-30", "--format", "json"][..],
        &["timeline", "--format", "json"][..],
    ] {
        let o = run_log(&log, args, None);
        let w = run_log(&seed_log(), args, None);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), stderr(&w), "{args:?}");
        assert_eq!(stdout(&o), stdout(&w), "{args:?}");
    }
    let o = run_log(&log, &["timeline", "--format", "json"], None);
    let seqs: Vec<u64> = json(&o)
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["corrections"].as_array().cloned().unwrap_or_default())
        .map(|c| c["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![39, 40]);
    // verify passes with the seed log's head hash and says the newline is missing;
    let o = run_log(&log, &["verify"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("ok: 40 events, head hash {seed_head}\nindex: agrees with the log (seq 40)\n")
    );
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: note: {}: the last record (seq 40) is whole but has no newline after it (an editor or tool dropped it); it is verified, and the next append writes the newline\n",
            log.display()
        )
    );
    assert_eq!(fs::read(&log).unwrap(), seed[..seed.len() - 1]);
    // and when an event is appended, the newline is written before it and said so, and every
    // acknowledged byte stays.
    let o = run_log(
        &log,
        &["append", "-"],
        Some(br#"{"type":"stance.retracted","target":"01a22751-4cee-728e-af63-7869f8c147a9","reason":"test"}"#),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: {}: its last record had no newline after it; wrote one before appending (the record was complete and is kept)\n",
            log.display()
        )
    );
    let after = fs::read(&log).unwrap();
    assert_eq!(after[..seed.len()], seed[..]);
    assert_eq!(complete_lines(&after[seed.len()..]).len(), 1);
    assert_eq!(verify_ok(&log).0, 41);
}

#[test]
fn a_schema_1_record_after_schema_2_records_is_refused_by_every_reader() {
    // Regression (issue 15): a hand-written schema-1 line (no hash) at the end of a schema-2
    // log passed verify and was used by queries: an event tamper evidence never saw.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("seed.jsonl");
    fs::copy(seed_log(), &log).unwrap();
    push_line(
        &log,
        r#"{"schema":1,"seq":41,"id":"00000000-0000-4000-8000-000000000041","recorded_at":"2030-01-01T00:00:00.000000Z","type":"stance.retracted","target":"01a22751-4cee-728e-af63-7869f8c147a9","reason":"forged"}"#,
    );
    refused_everywhere(
        &log,
        41,
        "schema",
        "is 1 after records of schema 2: a schema-1 record has no hash",
    );
}

// 6. Format evolution ----------------------------------------------------------------------------

/// The positions of a log as of a date, as comparable tuples (ids and recorded times left out).
fn position_tuples(log: &Path, as_of: Option<&str>) -> Vec<[String; 7]> {
    let mut args = vec!["positions", "--format", "json"];
    if let Some(d) = as_of {
        args.extend(["--as-of", d]);
    }
    let o = run_log(log, &args, None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut rows: Vec<[String; 7]> = json(&o)
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            [
                "actor",
                "topic",
                "stance",
                "since",
                "event",
                "recipient",
                "quote",
            ]
            .map(|k| p[k].to_string())
        })
        .collect();
    rows.sort();
    rows
}

on_both_backends! {
#[test]
fn the_schema_1_fixture_reads_like_the_schema_2_seed_log() {
    // Given the seed events as schema-1 records (no hash, no batch_last), copied out of the
    // source tree (a query writes the projection index beside its log),
    let tmp = tempfile::tempdir().unwrap();
    let old = tmp.path().join("schema1.jsonl");
    fs::copy(schema1_fixture(), &old).unwrap();
    // when verified, then it passes, counts 35 schema-1 records, and its head hash is the chain
    // over the raw schema-1 lines;
    let (events, head) = verify_ok(&old);
    assert_eq!(events, 35);
    assert_eq!(head, chain_head(&fs::read(&old).unwrap()));
    let o = run_log(&old, &["verify"], None);
    assert!(
        stdout(&o).contains("note: 35 record(s) of schema 1"),
        "{}",
        stdout(&o)
    );
    let o = run_log(&old, &["verify", "--format", "json"], None);
    assert_eq!(json(&o)["schema1_records"], 35);
    assert_eq!(
        json(&run_log(&seed_log(), &["verify", "--format", "json"], None))["schema1_records"],
        0
    );
    // and its positions are those of the schema-2 seed log's first batch (the same 35 events;
    // later batches correct some of them) on every date.
    let dir = tempfile::tempdir().unwrap();
    let seed35 = dir.path().join("seed35.jsonl");
    let seed = fs::read(seed_log()).unwrap();
    let end35 = line_ends(&seed)[34];
    fs::write(&seed35, &seed[..end35]).unwrap();
    assert_eq!(records(&seed35)[34]["batch_last"], 35);
    assert_eq!(verify_ok(&seed35).0, 35);
    let counts: Vec<usize> = [
        None,
        Some("2024-06-18"),
        Some("2024-06-19"),
        Some("2024-10-01"),
        Some("2024-10-21"),
        Some("2024-10-24"),
    ]
    .into_iter()
    .map(|d| {
        let p = position_tuples(&old, d);
        assert_eq!(p, position_tuples(&seed35, d), "as of {d:?}");
        p.len()
    })
    .collect();
    assert_eq!(counts[1], 0);
    assert_eq!(counts[2], 2);
    assert!(
        counts[3] > counts[2] && counts[0] >= counts[5],
        "{counts:?}"
    );
}
}

#[test]
fn appending_to_a_schema_1_log_writes_schema_2_chained_over_the_old_lines() {
    // Given a copy of the schema-1 fixture,
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("old.jsonl");
    let old = fs::read(schema1_fixture()).unwrap();
    fs::write(&log, &old).unwrap();
    // when an event is appended,
    let ev = format!(
        r#"{{"id":"{}","type":"stance.declared","actor":"kim-yong-hyun","topic":"dprk-troops-in-russia","stance":"affirm","date":"2024-10-25","cite":{{"publication":"P"}}}}"#,
        id(36)
    );
    let o = append_ok(&log, &ev);
    assert!(stdout(&o).starts_with(&format!("seq 36  id {}\n", id(36))));
    // then the schema-1 lines are untouched and the new line is schema 2, a batch of one, whose
    // hash chains over the raw schema-1 lines;
    let after = fs::read(&log).unwrap();
    assert_eq!(after[..old.len()], old[..]);
    let rec: Value = serde_json::from_slice(complete_lines(&after[old.len()..])[0]).unwrap();
    assert_eq!(
        (
            rec["schema"].as_u64(),
            rec["seq"].as_u64(),
            rec["batch_last"].as_u64()
        ),
        (Some(u64::from(SCHEMA_VERSION)), Some(36), Some(36))
    );
    let head = chain_head(&after); // also checks the stored hash of line 36
    assert_eq!(rec["hash"].as_str(), Some(head.as_str()));
    let (events, verified) = verify_ok(&log);
    assert_eq!((events, verified), (36, head));
    let o = run_log(&log, &["verify"], None);
    assert!(
        stdout(&o).contains("note: 35 record(s) of schema 1"),
        "{}",
        stdout(&o)
    );

    // When a byte of a schema-1 line changes (still a valid record), then verify fails at the
    // first schema-2 line, whose hash covers it;
    let s = String::from_utf8(after).unwrap();
    assert!(s.contains("\"name\":\"Mike Turner\""));
    fs::write(
        &log,
        s.replacen("\"name\":\"Mike Turner\"", "\"name\":\"Mike Turnex\"", 1),
    )
    .unwrap();
    let e = verify_fails_at(&log, 36);
    assert!(
        e.contains(&format!("{}:36: field `hash`", log.display())),
        "{e}"
    );
    // before any schema-2 line, such a change cannot be seen (schema 1 has no hashes).
    let s = String::from_utf8(old).unwrap();
    fs::write(
        &log,
        s.replacen("\"name\":\"Mike Turner\"", "\"name\":\"Mike Turnex\"", 1),
    )
    .unwrap();
    assert_eq!(verify_ok(&log).0, 35);
}

/// Appends `line` (and a newline) to the log file as is, bypassing stancelog.
fn push_line(log: &Path, line: &str) {
    let mut bytes = fs::read(log).unwrap();
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    fs::write(log, bytes).unwrap();
}

/// Every command refuses the log with exit 2, naming `line` and `field`; the bytes stay.
fn refused_everywhere(log: &Path, line: usize, field: &str, message: &str) {
    let before = fs::read(log).unwrap();
    let at = format!("{}:{line}: field `{field}`: {message}", log.display());
    for args in [
        &["verify"][..],
        &["positions"][..],
        &["timeline"][..],
        &["append", "-"][..],
    ] {
        let input = (args[0] == "append").then(|| stance_event(77));
        let o = run_log(log, args, input.as_deref().map(str::as_bytes));
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&at),
            "{args:?}: want {at} in {}",
            stderr(&o)
        );
        assert!(o.stdout.is_empty());
    }
    assert_eq!(fs::read(log).unwrap(), before);
}

/// A stored schema-2 record with a correct hash after the log's last line: `fields` are the
/// record's members that sort before `hash`, `rest` those after (canonical key order).
fn chained_line(log: &Path, fields: &str, rest: &str) -> String {
    let bytes = fs::read(log).unwrap();
    let prev = chain_head(&bytes);
    let mut h = Sha256::new();
    h.update(
        (0..32)
            .map(|i| u8::from_str_radix(&prev[2 * i..2 * i + 2], 16).unwrap())
            .collect::<Vec<u8>>(),
    );
    h.update(format!("{{{fields}{rest}}}"));
    let hash: [u8; 32] = h.finalize().into();
    format!("{{{fields},\"hash\":\"{}\"{rest}}}", hex(&hash))
}

#[test]
fn a_newer_schema_or_an_unknown_event_type_in_a_stored_log_is_a_hard_error() {
    // Given a schema-2 log of 3 records,
    let (dir, log) = base_log();
    let base = fs::read(&log).unwrap();
    let last: Value = serde_json::from_slice(complete_lines(&base)[2]).unwrap();
    let recorded_at = last["recorded_at"].as_str().unwrap().to_string();

    // when a record of a newer schema (3) follows, then every command refuses the log at its
    // `schema`;
    let newer = SCHEMA_VERSION + 1;
    let not_supported = format!("schema {newer} is not supported by this build");
    let line = chained_line(
        &log,
        r#""batch_last":4"#,
        &format!(
            r#","id":"{}","kind":"claim","recorded_at":"{recorded_at}","schema":{newer},"seq":4,"title":"T","topic":"t4","type":"topic.registered""#,
            id(4)
        ),
    );
    push_line(&log, &line);
    refused_everywhere(&log, 4, "schema", &not_supported);

    // when a record of an unknown type follows, with a correct hash, then every command
    // refuses it at its `type`.
    fs::write(&log, &base).unwrap();
    let line = chained_line(
        &log,
        r#""batch_last":4"#,
        &format!(
            r#","id":"{}","reason":"r","recorded_at":"{recorded_at}","schema":{SCHEMA_VERSION},"seq":4,"target":"{}","type":"stance.amended""#,
            id(4),
            id(1)
        ),
    );
    push_line(&log, &line);
    chain_head(&fs::read(&log).unwrap()); // checks that its hash is right: only `type` is wrong
    refused_everywhere(&log, 4, "type", "unknown event type `stance.amended`");

    // The same holds after schema-1 records.
    let old = dir.path().join("old.jsonl");
    let s = fs::read_to_string(schema1_fixture()).unwrap();
    let line35 = s.lines().nth(34).unwrap();
    let at = line35.find("\"recorded_at\":").unwrap();
    let recorded_at = &line35[at + 15..at + 15 + 27];
    fs::write(&old, format!("{s}{{\"schema\":1,\"seq\":36,\"id\":\"{}\",\"recorded_at\":\"{recorded_at}\",\"type\":\"stance.amended\",\"target\":\"{}\",\"reason\":\"r\"}}\n", id(36), id(1))).unwrap();
    refused_everywhere(&old, 36, "type", "unknown event type `stance.amended`");
    fs::write(
        &old,
        s.replacen(
            "{\"schema\":1,\"seq\":35,",
            &format!("{{\"schema\":{newer},\"seq\":35,"),
            1,
        ),
    )
    .unwrap();
    refused_everywhere(&old, 35, "schema", &not_supported);

    // And a batch may not ask for a newer schema either.
    fs::write(&log, &base).unwrap();
    let ev = stance_event(5).replacen('{', &format!("{{\"schema\":{newer},"), 1);
    let o = run_log(&log, &["append", "-"], Some(ev.as_bytes()));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("-:1: field `schema`"), "{}", stderr(&o));
    assert_eq!(fs::read(&log).unwrap(), base);
}

/// Regression: a schema-1 line (which no hash covers) with bytes after its closing brace was
/// read as its object alone, so trailing garbage passed verify, and two lines joined by a
/// flipped newline read as one, silently dropping the second record.
#[test]
fn a_schema_1_line_with_bytes_after_its_object_is_refused_on_its_line() {
    // Given a copy of the schema-1 fixture,
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("old.jsonl");
    let old = fs::read(schema1_fixture()).unwrap();
    let ends = line_ends(&old);
    // when line 5 gets bytes after its closing brace, then verify names line 5;
    let mut bad = old[..ends[4] - 1].to_vec();
    bad.extend_from_slice(b" garbage");
    bad.extend_from_slice(&old[ends[4] - 1..]);
    fs::write(&log, &bad).unwrap();
    verify_fails_at(&log, 5);
    // and when the newline between lines 34 and 35 is flipped (0x0a ^ 0x01), joining them,
    // then verify names line 34 rather than reading 34 events and dropping seq 35.
    let mut bad = old.clone();
    bad[ends[33] - 1] ^= 0x01;
    fs::write(&log, &bad).unwrap();
    verify_fails_at(&log, 34);
}

// 7. Limits --------------------------------------------------------------------------------------

on_both_backends! {
#[test]
fn an_event_longer_than_line_bytes_max_is_refused_and_one_exactly_at_it_is_kept() {
    // Given a log at seq 3, and how much longer a stored record is than its quote (the fields
    // stancelog adds are of fixed length for seq 4),
    let (dir, log) = base_log();
    let base = fs::read(&log).unwrap();
    let quoted = |n: u64, q: usize| {
        stance_event(n).replacen(
            "\"cite\"",
            &format!("\"quote\":\"{}\",\"cite\"", "q".repeat(q)),
            1,
        )
    };
    let scratch = dir.path().join("scratch.jsonl");
    fs::write(&scratch, &base).unwrap();
    append_ok(&scratch, &quoted(1, 1));
    let overhead = fs::read(&scratch).unwrap().len() - base.len() - 1 - 1;
    let path = |name: &str, text: &str| {
        let p = dir.path().join(name);
        fs::write(&p, text).unwrap();
        p.display().to_string()
    };

    // when an input event is 1 byte over LINE_BYTES_MAX, then the batch is refused at its line;
    let over = quoted(
        1,
        LINE_BYTES_MAX + 1 - stance_event(1).len() - "\"quote\":\"\",".len(),
    );
    assert_eq!(over.len(), LINE_BYTES_MAX + 1);
    let file = path("over.jsonl", &format!("{}\n{over}\n", stance_event(0)));
    let o = run_log(&log, &["append", &file], None);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: error: {file}:2: event is {} bytes, more than LINE_BYTES_MAX ({LINE_BYTES_MAX} bytes) a stored line may hold\n",
            LINE_BYTES_MAX + 1
        )
    );
    // when its stored line would be 1 byte over, then it is refused too;
    let file = path("one_over.jsonl", &quoted(1, LINE_BYTES_MAX + 1 - overhead));
    let o = run_log(&log, &["append", &file], None);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: error: {file}:1: stored, this event would be a line of {} bytes, more than LINE_BYTES_MAX ({LINE_BYTES_MAX})\n",
            LINE_BYTES_MAX + 1
        )
    );
    assert_eq!(fs::read(&log).unwrap(), base);

    // and when it would be exactly LINE_BYTES_MAX, then it is stored and reads back whole.
    let file = path("at_limit.jsonl", &quoted(1, LINE_BYTES_MAX - overhead));
    let o = run_log(&log, &["append", &file], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let after = fs::read(&log).unwrap();
    assert_eq!(after.len() - base.len(), LINE_BYTES_MAX + 1);
    assert_eq!(verify_ok(&log).0, 4);
    let p = json(&run_log(&log, &["positions", "--format", "json"], None));
    assert_eq!(
        p[0]["quote"].as_str().map(str::len),
        Some(LINE_BYTES_MAX - overhead)
    );
}
}

on_both_backends! {
#[test]
fn a_batch_of_more_than_batch_events_max_events_is_refused_whole() {
    // Given a log at seq 3 and a batch of BATCH_EVENTS_MAX + 1 valid events,
    let (dir, log) = base_log();
    let base = fs::read(&log).unwrap();
    let ev = r#"{"type":"stance.declared","actor":"a1","topic":"pol","stance":"support","date":"2024","cite":{"publication":"P"}}"#;
    let text = format!("{ev}\n").repeat(BATCH_EVENTS_MAX + 1);
    let file = dir.path().join("huge.jsonl");
    fs::write(&file, text).unwrap();
    // when appended, then it is refused at the line of the first event too many, and nothing
    // of it is stored.
    let o = run_log(&log, &["append", file.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: error: {}:{}: batch holds more than BATCH_EVENTS_MAX ({BATCH_EVENTS_MAX}) events; split it\n",
            file.display(),
            BATCH_EVENTS_MAX + 1
        )
    );
    assert!(o.stdout.is_empty());
    assert_eq!(fs::read(&log).unwrap(), base);
}
}

/// The log at `log` with the first `k` records of a two-event batch appended to it by hand, as
/// a writer would have them on disk halfway through; returns the remaining bytes.
fn half_a_batch(dir: &Path, log: &Path, k: usize) -> Vec<u8> {
    let copy = dir.join("copy.jsonl");
    fs::copy(log, &copy).unwrap();
    append_ok(&copy, &batch([100, 101]));
    let before = fs::read(log).unwrap();
    let after = fs::read(&copy).unwrap();
    let new = &after[before.len()..];
    let cut = line_ends(new)[k - 1];
    fs::OpenOptions::new()
        .append(true)
        .open(log)
        .unwrap()
        .write_all(&new[..cut])
        .unwrap();
    new[cut..].to_vec()
}

#[test]
fn verify_while_a_writer_writes_a_batch_checks_the_log_before_it() {
    // Given a log at seq 3 followed by the first record of an unfinished two-event batch,
    let (dir, log) = base_log();
    let (n, head) = verify_ok(&log);
    half_a_batch(dir.path(), &log, 1);
    let torn = Log::open(&log).unwrap().torn_tail_bytes();
    assert!(torn > 0);
    // when verified while a writer holds the log's lock and is writing that batch (it holds
    // the writer record's lock, as a writer does from its write to its fdatasync), then verify
    // passes on the three events before it and says a batch is being written, by whom;
    let writer = stancelog::store::Writer::open(&log, Duration::from_secs(5)).unwrap();
    let record = fs::File::open(stancelog::store::writer_record_path(&log)).unwrap();
    record.lock().unwrap();
    let o = run_log(&log, &["verify"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!(
            "ok: {n} events, head hash {head}\nindex: not checked (a batch is being written, or a PostgreSQL log has no cache folder for its index)\n"
        )
    );
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: note: {}: a writer (pid {}) is appending a batch after seq 3 ({torn} bytes written so far, not checked); verified the log before it\n",
            log.display(),
            std::process::id()
        )
    );
    // and once the writer died, the same tail fails verify, left by a crash. (The locks are
    // released by hand: a process another test thread is starting holds copies of the files
    // until its exec, and with them the locks, so closing ours alone may not release them.)
    record.unlock().unwrap();
    drop(record);
    drop(writer);
    wait_for_writers(&log);
    let e = verify_fails_at(&log, 4);
    assert!(
        e.contains(&format!(
            "torn tail: {torn} bytes of a record cut short or an unfinished batch, left by a crash (no process holds the log's lock)"
        )),
        "{e}"
    );
}

#[test]
fn verify_while_a_lock_holder_writes_nothing_fails_on_the_tail_a_crash_left() {
    // Regression (issue 15): while any process held the log's lock, verify passed over a torn
    // tail a crash had left, taking it for a batch being written.
    // Given a log at seq 3 followed by the first record of a batch whose writer died,
    let (dir, log) = base_log();
    half_a_batch(dir.path(), &log, 1);
    let torn = Log::open(&log).unwrap().torn_tail_bytes();
    // when a writer holds the lock but writes nothing (it is, say, still reading the log),
    // then verify fails on the tail and says who holds the lock;
    let writer = stancelog::store::Writer::open(&log, Duration::from_secs(5)).unwrap();
    let e = verify_fails_at(&log, 4);
    assert!(
        e.contains(&format!(
            "torn tail: {torn} bytes of a record cut short or an unfinished batch, left by a crash (a stancelog writer (pid {}) holds the log's lock but is writing no batch); the next append removes them",
            std::process::id()
        )),
        "{e}"
    );
    drop(writer);
    // and when a process that is no stancelog writer holds the lock (the writer record names a
    // process that has ended), verify fails on it too.
    let other = fs::File::open(&log).unwrap();
    other.lock().unwrap();
    fs::write(
        stancelog::store::writer_record_path(&log),
        "pid 4294967295 start 1\n",
    )
    .unwrap();
    let e = verify_fails_at(&log, 4);
    assert!(
        e.contains("left by a crash (a process that is not a stancelog writer holds the log's lock but is writing no batch)"),
        "{e}"
    );
    drop(other);
}

#[test]
fn a_torn_tail_looked_at_again_after_its_batch_was_finished_is_gone() {
    // Given a log read while the first record of a two-event batch was on disk,
    let (dir, log) = base_log();
    let rest = half_a_batch(dir.path(), &log, 1);
    let read = Log::open(&log).unwrap();
    assert!(read.torn_tail_bytes() > 0);
    assert_eq!(read.history().seq_last(), BASE_EVENTS);
    // when the writer finishes the batch and the tail is looked at again with no writer,
    fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(&rest)
        .unwrap();
    let stancelog::store::TailCheck::Settled(now) = read.recheck_tail(&log).unwrap() else {
        panic!("no writer holds the lock");
    };
    // then the log holds the whole batch and no torn tail, as a fresh read does.
    assert_eq!(now.torn_tail_bytes(), 0);
    assert_eq!(now.history().seq_last(), BASE_EVENTS + 2);
    let fresh = Log::open(&log).unwrap();
    assert_eq!(now.head_hash(), fresh.head_hash());
    assert_eq!(
        now.history().events().collect::<Vec<_>>(),
        fresh.history().events().collect::<Vec<_>>()
    );
}

on_both_backends! {
#[test]
fn an_id_repeated_within_one_batch_is_named_as_a_repeat_of_that_batch() {
    // Given a log at seq 4 (event 10 stored) and a batch of 70 events (long enough to be
    // staged and encoded on two threads) in which event 20 comes twice and event 10 once more,
    let (_dir, log) = base_log();
    append_ok(&log, &batch([10]));
    let before = fs::read(&log).unwrap();
    let mut ns: Vec<u64> = (20..88).collect();
    ns.insert(5, 20);
    ns.push(10);
    assert_eq!(ns.len(), 70);
    // when appended, then the repeat is stored once and reported as a repeat of this batch,
    // event 10 as already in the log, and the new ones appended from seq 5 on.
    let o = run_log(&log, &["append", "-"], Some(batch(ns).as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 71);
    assert_eq!(lines[0], format!("seq 5  id {}", id(20)));
    assert_eq!(
        lines[5],
        format!(
            "seq 5  id {}  (repeats an event earlier in this batch; stored once)",
            id(20)
        )
    );
    assert_eq!(
        lines[69],
        format!(
            "seq 4  id {}  (already in the log; not stored again)",
            id(10)
        )
    );
    assert_eq!(
        lines[70],
        "appended 68 event(s), 1 already present, 1 repeated in this batch"
    );
    assert_eq!(Log::open(&log).unwrap().history().seq_last(), 4 + 68);

    // When an id comes twice in one batch with different content, then the second is refused
    // naming the line of the first, and nothing of the batch is stored.
    let after = fs::read(&log).unwrap();
    let twice = format!(
        "{}{}",
        batch(100..170),
        stance_event(130).replace(r#""publication":"P""#, r#""publication":"Q""#) + "\n"
    );
    let o = run_log(&log, &["append", "-"], Some(twice.as_bytes()));
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: error: -:71: field `id`: id {} is already used by line 31 of this batch, with different content\n",
            id(130)
        )
    );
    assert_eq!(fs::read(&log).unwrap(), after);
    assert_ne!(after, before);
}
}

#[test]
fn an_append_whose_report_cannot_be_written_says_the_batch_was_appended() {
    // Given a log at seq 3 and standard output on a full device,
    let (dir, log) = base_log();
    let input = dir.path().join("two.jsonl");
    fs::write(&input, batch([10, 11])).unwrap();
    // when two events are appended, then the append fails on the report only: it says the batch
    // was appended (so that nobody appends it again), exits 1, and both events are stored.
    let o = crate::support::stancelog_command()
        .args([
            "--log",
            log.to_str().unwrap(),
            "append",
            input.to_str().unwrap(),
        ])
        .stdout(fs::File::create("/dev/full").unwrap())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "stancelog: error: standard output: No space left on device (os error 28); the batch WAS appended (2 new event(s)), only this report was lost: do not append it again (events without an id would be stored twice)\n"
    );
    assert_eq!(verify_ok(&log).0, BASE_EVENTS + 2);
}

#[test]
fn a_write_that_fails_half_way_leaves_the_log_as_it_was() {
    // Given a log at seq 3 and a batch of 300 events (some 90 KB stored), appended by a process
    // that may not make files larger than 64 KiB (so its write fails part-way, with EFBIG),
    let (dir, log) = base_log();
    let before = fs::read(&log).unwrap();
    let input = dir.path().join("big.jsonl");
    fs::write(&input, batch(10..310)).unwrap();
    let o = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 64; exec \"$0\" --log \"$1\" append \"$2\"")
        .arg(env!("CARGO_BIN_EXE_stancelog"))
        .arg(&log)
        .arg(&input)
        .output()
        .unwrap();
    // when it fails, then it says so once (no repeated cause), what was written of the batch is
    // cut off again, and the log verifies as before.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: error: {}: File too large (os error 27); nothing of the batch was kept\n",
            log.display()
        )
    );
    assert_eq!(fs::read(&log).unwrap(), before);
    assert_eq!(verify_ok(&log).0, BASE_EVENTS);
}

#[test]
fn a_writer_that_gives_up_on_the_lock_says_why_once() {
    // Given a log whose lock another writer holds,
    let (_dir, log) = base_log();
    let _writer = stancelog::store::Writer::open(&log, Duration::from_secs(5)).unwrap();
    // when an append will not wait, then it fails with one line naming the lock and --wait.
    let o = run_log(
        &log,
        &["append", "--wait", "0", "-"],
        Some(batch([10]).as_bytes()),
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: error: {}: another writer holds the log's lock; gave up after 0.0 s (see --wait)\n",
            log.display()
        )
    );
}

/// An import removes a torn tail as an append does, and says so in the same words (it removed
/// it without a word); a dry run leaves it and says that the import would remove it.
#[test]
fn an_import_says_it_removed_a_torn_tail() {
    // Given a log whose last batch (seq 4 to 6) was cut 10 bytes short: seq 4 and 5 whole.
    let (dir, log) = base_log();
    let whole = fs::read(&log).unwrap();
    append_ok(&log, &batch(10..13));
    let full = fs::read(&log).unwrap();
    fs::write(&log, &full[..full.len() - 10]).unwrap();
    let torn = full.len() - 10 - whole.len();
    let sheet = dir.path().join("s.csv");
    fs::write(&sheet, "actor,date\na1,2024-11-01\n").unwrap();
    let import = |extra: &[&str]| {
        let mut args = vec![
            "import",
            "csv",
            sheet.to_str().unwrap(),
            "--actor-col",
            "actor",
            "--topic",
            "pol",
            "--stance",
            "support",
            "--date-col",
            "date",
        ];
        args.extend(extra);
        run_log(&log, &args, None)
    };
    let path = log.display().to_string();
    // When it is imported into with --dry-run, then the tail is named and left.
    let o = import(&["--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: warning: {path}: ignoring a torn tail of {torn} bytes: 2 whole records of an unfinished batch (a batch still being written, or cut short by a crash, so never acknowledged); the import would remove it\n"
        )
    );
    assert_eq!(fs::read(&log).unwrap(), &full[..full.len() - 10]);
    // When it is imported into, then the tail is removed, said, and the row follows seq 3.
    let o = import(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "stancelog: removed a torn tail of {torn} bytes from {path} before appending: 2 whole records of an unfinished batch\n"
        )
    );
    let after = fs::read(&log).unwrap();
    assert!(after.starts_with(&whole));
    assert_eq!(verify_ok(&log).0, BASE_EVENTS + 1);
}
