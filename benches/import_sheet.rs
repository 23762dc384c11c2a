//! Import speed of the engine: `import csv` on a generated sheet (the generator is below), and
//! `import gdelt` on generated GDELT 1.0 rows.
//!
//! `cargo bench --bench import_sheet` generates a sheet of `ROWS` stance rows (default
//! 4,000,000; 5,000 actors, 20,000 topics, one stance per actor, topic and date) and a GDELT file
//! of `ROWS` rows, imports each into a new log, then imports the sheet again (every row already
//! present), and prints for each run: rows, seconds, events/s, and the process's peak resident
//! memory so far (VmHWM). Set `ROWS=...` for another size, `RUNS=...` for more runs (medians
//! and min-max are printed), `ONLY=csv`, `ONLY=gdelt` or `ONLY=unvotes` for one importer (to
//! profile it alone). The files are written to a temporary folder (`TMPDIR`) and removed after.
//! With `GENERATE=DIR`, the sheet (`DIR/sheet.csv`), the GDELT file (`DIR/events.tsv`) and a
//! PLOVER file of as many records (`DIR/plover.tsv`) are only written, and kept, for
//! `benches/imports.sh` to time the CLI on them.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use stancelog::import::NoProgress;
use stancelog::import::coded::{self, CodedOptions, Format};
use stancelog::import::sheet::{self, Spec};
use stancelog::store::Log;
use stancelog::store::LogRef;

/// The allocator the binary runs on (see `stancelog::allocator`), so the figures are the CLI's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ACTORS: usize = 5_000;
const TOPICS: usize = 20_000;

/// Writes a sheet of `rows` rows: `actor,topic,stance,date`, actor `a<i>` (ISO-free ids, so
/// `--actor-country XXX`), topic `t<j>`, stance support/oppose/neutral, dates over 20 years.
/// Row `k` is a distinct (actor, topic, date): actor `k % 5000`, topic `(k / 5000) % 20000`,
/// date day `k / (5000 * 20000)` + a spread, so keys never repeat.
pub fn generate_sheet(path: &Path, rows: usize) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(w, "actor,topic,stance,date")?;
    let stances = ["support", "oppose", "neutral"];
    for k in 0..rows {
        let a = k % ACTORS;
        let t = (k / ACTORS) % TOPICS;
        let d = (k * 7919) % 7300 + (k / (ACTORS * TOPICS)) * 7300;
        let (y, rest) = (2000 + d / 365, d % 365);
        let (m, day) = (rest / 31 + 1, rest % 28 + 1);
        writeln!(
            w,
            "a{a},t{t},{},{y:04}-{:02}-{day:02}",
            stances[k % 3],
            m.min(12)
        )?;
    }
    w.flush()
}

/// Writes `rows` GDELT 1.0 rows (58 fields): 200 state actors (`S000`..: CAMEO-like codes
/// without an ISO country, so actors of their own), 20 roots, dates over 20 years, each row a
/// distinct event.
pub fn generate_gdelt(path: &Path, rows: usize) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut f = vec![String::new(); 58];
    for k in 0..rows {
        let a1 = k % 200;
        let a2 = (k / 200) % 200;
        let root = k % 20 + 1;
        let d = (k / 40_000) % 7300;
        let (y, rest) = (2000 + d / 365, d % 365);
        f[0] = k.to_string();
        f[1] = format!("{y:04}{:02}{:02}", (rest / 31 + 1).min(12), rest % 28 + 1);
        f[5] = format!("S{a1:03}");
        f[6] = format!("STATE {a1}");
        f[15] = format!("S{a2:03}");
        f[16] = format!("STATE {a2}");
        f[26] = format!("{root:02}{}", k % 10);
        f[28] = format!("{root:02}");
        f[29] = String::new();
        f[30] = "1.0".to_string();
        f[56] = "20200101".to_string();
        f[57] = format!("http://example.org/{}", k % 1000);
        writeln!(w, "{}", f.join("\t"))?;
    }
    w.flush()
}

/// Writes `rows` PLOVER / POLECAT records (with their header): 200 actors (`Ministry <i>`,
/// agencies of ten ISO countries), the 16 event types, one record per actor, recipient, type
/// and date (dates over 20 years), so every record is a new event.
pub fn generate_plover(path: &Path, rows: usize) -> std::io::Result<()> {
    const TYPES: [&str; 16] = [
        "agree",
        "consult",
        "support",
        "concede",
        "cooperate",
        "aid",
        "retreat",
        "request",
        "accuse",
        "reject",
        "threaten",
        "protest",
        "sanction",
        "mobilize",
        "coerce",
        "assault",
    ];
    const COUNTRIES: [&str; 10] = [
        "USA", "RUS", "FRA", "DEU", "CHN", "JPN", "GBR", "IND", "BRA", "ZAF",
    ];
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(
        w,
        "Event ID\tEvent Date\tEvent Type\tEvent Mode\tEvent Intensity\tQuad Code\tActor Name\tActor Country\tRecipient Name\tRecipient Country\tSource"
    )?;
    for k in 0..rows {
        // Each (actor, recipient) pair once per round; each round a day of its own.
        let (pair, round) = (k % 40_000, k / 40_000);
        let (a1, a2) = (pair % 200, pair / 200);
        let t = TYPES[(pair + round) % 16];
        let d = (round * 73) % 7300 + (round / 100) * 7300;
        let (y, rest) = (2000 + d / 365, d % 365);
        let (m, day) = ((rest / 31 + 1).min(12), rest % 28 + 1);
        writeln!(
            w,
            "e{k}\t{y:04}-{m:02}-{day:02}\t{t}\t\t{}\t\tMinistry {a1}\t{}\tMinistry {a2}\t{}\tOutlet {}",
            k % 10,
            COUNTRIES[a1 % 10],
            COUNTRIES[a2 % 10],
            k % 50
        )?;
    }
    w.flush()
}

fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// CPU seconds (user + system, all threads) this process has used so far, from
/// `/proc/self/stat` (clock ticks of 1/100 s, Linux's USER_HZ).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // Fields 14 and 15 of the line are the 12th and 13th after the command's `)`.
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
}

/// Minor page faults of this process so far (field 10 of `/proc/self/stat`): each is a page
/// the kernel mapped (and zeroed) for the first time, a cost that a changed allocation shows
/// more steadily than time on a shared machine.
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    after
        .split_whitespace()
        .nth(7)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0)
}

/// Runs `f`, returning its result, wall seconds and CPU seconds; prints the minor page faults
/// it took to standard error.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (t, c, m) = (Instant::now(), cpu_seconds(), minor_faults());
    let out = f();
    eprintln!("  ({} minor page faults)", minor_faults() - m);
    (out, t.elapsed().as_secs_f64(), cpu_seconds() - c)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// What one benchmark run needs: the generated files, the fixed clock, the lock wait.
struct Bench {
    dir: std::path::PathBuf,
    sheet: std::path::PathBuf,
    gdelt: std::path::PathBuf,
    rows: usize,
    now: jiff::Timestamp,
    wait: Duration,
}

/// `import csv` into a new log, then again (every row present): (events/s, rows/s again).
fn run_csv(b: &Bench, run: usize) -> (f64, f64) {
    let spec = Spec::from_toml(
        "bench",
        "actor-col = \"actor\"\ntopic-col = \"topic\"\nstance-col = \"stance\"\ndate-col = \"date\"\nregister = true\nactor-country = \"XXX\"\ndataset = \"bench\"\n",
    )
    .expect("spec");
    let log = b.dir.join(format!("log-{run}.jsonl"));
    Log::create(&log).expect("new log");
    let import_csv = || {
        sheet::import(
            &LogRef::File(log.clone()),
            &b.sheet,
            &spec,
            b.now,
            b.wait,
            false,
            &NoProgress,
        )
    };
    let (r, s, cpu) = timed(import_csv);
    let r = r.unwrap();
    assert!(r.refused.is_empty(), "{:?}", &r.refused[..1]);
    let first = r.appended as f64 / s;
    print_rate(
        &format!("import csv, new log: {} rows,", b.rows),
        r.appended,
        s,
        cpu,
    );
    let (r, s, cpu) = timed(import_csv);
    let r = r.unwrap();
    let again = b.rows as f64 / s;
    println!(
        "import csv again (all present): {} present in {s:.2} s = {:.0} rows/s ({cpu:.2} CPU s), peak {:.0} MiB",
        r.already_present,
        b.rows as f64 / s,
        peak_mib()
    );
    remove_log(&log);
    (first, again)
}

/// Removes a log and its index; with `LOG_SHA=1`, prints the log's SHA-256 first (the logs
/// are made with a fixed clock, so a change that keeps their bytes keeps this).
fn remove_log(log: &Path) {
    if std::env::var_os("LOG_SHA").is_some() {
        use sha2::Digest;
        let index = stancelog::store::index_path(log);
        let mut files = vec![log.to_path_buf()];
        let mut segments: Vec<_> = std::fs::read_dir(&index)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| n != "LOCK"))
            .collect();
        segments.sort();
        files.extend(segments);
        for f in files {
            let sum = sha2::Sha256::digest(std::fs::read(&f).expect("a file"));
            let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
            let name = f.file_name().map(|n| n.to_string_lossy().to_string());
            println!("  sha256 {hex}  {}", name.unwrap_or_default());
        }
    }
    std::fs::remove_file(log).ok();
    std::fs::remove_dir_all(stancelog::store::index_path(log)).ok();
}

/// Prints one import's rate: `events` appended in `s` seconds of wall time and `cpu` seconds of
/// CPU time, and the process's peak memory so far.
fn print_rate(label: &str, events: u64, s: f64, cpu: f64) {
    println!(
        "{label} {events} events in {s:.2} s = {:.0} events/s ({cpu:.2} CPU s: {:.0} events per CPU s), peak {:.0} MiB",
        events as f64 / s,
        events as f64 / cpu,
        peak_mib()
    );
}

/// `import gdelt` into a new log: events/s.
fn run_gdelt(b: &Bench, run: usize) -> f64 {
    let log = b.dir.join(format!("gdelt-{run}.jsonl"));
    Log::create(&log).expect("new log");
    let opts = CodedOptions {
        dataset: None,
        now: b.now,
        wait: b.wait,
        dry_run: false,
        recorded_from_data: false,
    };
    let (r, s, cpu) = timed(|| {
        coded::import(
            &LogRef::File(log.clone()),
            &b.gdelt,
            Format::Gdelt,
            &opts,
            &NoProgress,
        )
    });
    let r = r.unwrap();
    assert!(r.refused.is_empty(), "{:?}", &r.refused[..1]);
    print_rate(
        &format!("import gdelt, new log: {} rows,", b.rows),
        r.appended,
        s,
        cpu,
    );
    remove_log(&log);
    r.appended as f64 / s
}

/// The UN votes importer on the same machine, same moment (the reference rate): events/s.
fn run_unvotes(b: &Bench, run: usize, data: &Path) -> f64 {
    let log = b.dir.join(format!("unvotes-{run}.jsonl"));
    Log::create(&log).expect("new log");
    let opts = stancelog::import::unvotes::Options {
        now: b.now,
        wait: b.wait,
    };
    let dir_un = data.join("unvotes");
    let (r, s, cpu) = timed(|| {
        stancelog::import::unvotes::import(&LogRef::File(log.clone()), &dir_un, &opts, &NoProgress)
    });
    let r = r.unwrap();
    print_rate("import unvotes (reference):", r.appended, s, cpu);
    remove_log(&log);
    r.appended as f64 / s
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(default)
}

fn main() {
    stancelog::allocator::tune_mimalloc();
    stancelog::allocator::tune_mimalloc_for_import();
    let rows = env_usize("ROWS", 4_000_000);
    let runs = env_usize("RUNS", 1);
    if let Some(dir) = std::env::var_os("GENERATE") {
        let dir = Path::new(&dir);
        generate_sheet(&dir.join("sheet.csv"), rows).expect("generate sheet");
        generate_gdelt(&dir.join("events.tsv"), rows).expect("generate gdelt");
        generate_plover(&dir.join("plover.tsv"), rows).expect("generate plover");
        return;
    }
    let only = std::env::var("ONLY").unwrap_or_default();
    let wants = |what: &str| only.is_empty() || only == what;
    let dir = tempfile::tempdir().expect("temporary folder");
    let b = Bench {
        dir: dir.path().to_path_buf(),
        sheet: dir.path().join("sheet.csv"),
        gdelt: dir.path().join("events.tsv"),
        rows,
        now: jiff::Timestamp::UNIX_EPOCH + jiff::SignedDuration::from_hours(24 * 20_000),
        wait: Duration::from_secs(5),
    };
    let t = Instant::now();
    if wants("csv") {
        generate_sheet(&b.sheet, rows).expect("generate sheet");
    }
    if wants("gdelt") {
        generate_gdelt(&b.gdelt, rows).expect("generate gdelt");
    }
    eprintln!(
        "generated {rows} rows in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let data = std::env::var_os("STANCELOG_DATA");
    let (mut first, mut again, mut gdelt, mut un) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        // Interleaved: sheet, sheet again, GDELT, UN votes, per run.
        if wants("csv") {
            let (f, a) = run_csv(&b, run);
            first.push(f);
            again.push(a);
        }
        if wants("gdelt") {
            gdelt.push(run_gdelt(&b, run));
        }
        if let Some(data) = data.as_ref().filter(|_| wants("unvotes")) {
            un.push(run_unvotes(&b, run, Path::new(data)));
        }
    }
    let summary = |v: &mut Vec<f64>| {
        if v.is_empty() {
            return "-".to_string();
        }
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(0.0, f64::max);
        format!("{:.0} ({lo:.0}-{hi:.0})", median(v))
    };
    println!(
        "medians of {runs} run(s): csv {} events/s, csv again {} rows/s, gdelt {} events/s, unvotes {} events/s",
        summary(&mut first),
        summary(&mut again),
        summary(&mut gdelt),
        summary(&mut un)
    );
}
