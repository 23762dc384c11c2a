//! Shared helpers: the binary, temporary logs, the shipped seed log.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;

use stancelog::store::index_path;

/// A folder of this test process under cargo's target tmp folder, `NAME-PID`, made empty.
/// Folders of the same name left by test processes that have ended are removed first (a static
/// `TempDir` is never dropped, so it would leak one folder per run).
pub fn process_dir(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    if let Ok(entries) = std::fs::read_dir(root) {
        for e in entries.flatten() {
            let file = e.file_name();
            let pid = file
                .to_str()
                .and_then(|f| f.strip_prefix(name)?.strip_prefix('-'));
            if pid.is_some_and(|p| !Path::new("/proc").join(p).exists()) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = root.join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a folder under the target tmp folder");
    dir
}

/// A `stancelog` command whose projection indexes of PostgreSQL logs go to a folder of this
/// test process ([`process_dir`]), never to the user's cache folder, and whose temporary files
/// (the editor's text, kept after a refusal for `--resume`) go to another, never to `/tmp`.
pub fn stancelog_command() -> Command {
    static DIRS: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    let (cache, tmp) = DIRS.get_or_init(|| (process_dir("pg-cache"), process_dir("tmp")));
    let mut c = Command::new(env!("CARGO_BIN_EXE_stancelog"));
    c.env("STANCELOG_CACHE", cache).env("TMPDIR", tmp);
    c
}

/// Path of a copy of the shipped seed log, made once per test process (see [`process_dir`]),
/// so that the projection index queries write beside it stays out of the source tree.
pub fn seed_log() -> PathBuf {
    static COPY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    COPY.get_or_init(|| {
        let copy = process_dir("seed").join("dprk-russia-2024.jsonl");
        std::fs::copy(shipped_seed_log(), &copy).expect("copy of the seed log");
        copy
    })
    .clone()
}

/// Path of the shipped seed log itself (read, never queried: a query writes its index beside).
pub fn shipped_seed_log() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events/dprk-russia-2024.jsonl")
}

/// Path of the batch the seed log was appended from.
pub fn seed_input() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events/dprk-russia-2024.input.jsonl")
}

/// Runs `stancelog` with these arguments and optional standard input.
pub fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = crate::support::stancelog_command()
        .args(args)
        .env_remove("STANCELOG_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stancelog");
    {
        let mut pipe = child.stdin.take().expect("stdin");
        if let Some(bytes) = stdin {
            // A command that refuses its arguments may exit before it reads its input: the
            // pipe is then closed (seen under load in a test of refused logs).
            if let Err(e) = pipe.write_all(bytes) {
                assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
            }
        }
    }
    child.wait_with_output().expect("wait for stancelog")
}

/// Runs `stancelog --log LOG args...` on the current test backend
/// ([`crate::backends::current`]): on a file log, LOG itself; on PostgreSQL, the database that
/// mirrors LOG (see [`crate::backends::mirror`]).
pub fn run_log(log: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    crate::backends::run_log_on_current(log, args, stdin)
}

/// Runs `stancelog --log LOG args...` on the file LOG, whatever the test backend.
pub fn run_log_file(log: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut all = vec!["--log", log.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    run(&all, stdin)
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

/// A temporary directory with a fresh empty log in it, under cargo's target tmp folder (not
/// `$TMPDIR`, often a small tmpfs: the real-data tests import the whole UN votes into one).
pub fn empty_log() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let log = dir.path().join("log.jsonl");
    let o = run_log(&log, &["init"], None);
    assert!(o.status.success(), "init failed: {}", stderr(&o));
    (dir, log)
}

/// Parses JSON output.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).expect("JSON on stdout")
}

/// A registration batch: actor `a`, topic `t` (a policy).
pub const REGISTER: &str = concat!(
    r#"{"type":"actor.registered","actor":"a","name":"A","kind":"state","country":"KOR","sector":"GOV"}"#,
    "\n",
    r#"{"type":"topic.registered","topic":"t","title":"T","kind":"policy"}"#,
    "\n"
);

/// A batch of `n` stances of `a` on `t`, with ids `GROUP-0000-4000-8000-<i>` (`group` in hex).
pub fn stances(group: u32, n: u32) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"id\":\"{group:08x}-0000-4000-8000-{i:012x}\",\"type\":\"stance.declared\",\"actor\":\"a\",\"topic\":\"t\",\"stance\":\"{}\",\"date\":\"2024-01-01\",\"cite\":{{\"publication\":\"p\"}}}}\n",
                if i % 2 == 0 { "support" } else { "oppose" }
            )
        })
        .collect()
}

/// Starts `stancelog --log LOG append -` with `input` on its standard input.
pub fn spawn_append(log: &str, extra: &[&str], input: &str) -> Child {
    spawn_with_input(&mut append_command(log, extra), input)
}

/// `stancelog --log LOG append EXTRA... -`, to be started by [`spawn_with_input`] (a test may
/// set more of its environment first, such as another `STANCELOG_CACHE`).
pub fn append_command(log: &str, extra: &[&str]) -> Command {
    let mut c = crate::support::stancelog_command();
    c.args(["--log", log, "append"])
        .args(extra)
        .arg("-")
        .env_remove("STANCELOG_LOG");
    c
}

/// Starts `command` with `input` on its standard input and its output piped.
pub fn spawn_with_input(command: &mut Command, input: &str) -> Child {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stancelog");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    // Written on a thread: a large batch fills the pipe before the child reads it all.
    thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(input.as_bytes());
    });
    child
}

/// Runs `stancelog --log LOG -q ARGS` on copies of `base` and its index in `dir`: once whole,
/// to time it, then ten times killed (SIGKILL) at points spread over that time; after each
/// kill, `check(k, log)` on that copy. Returns the copy run whole (`DIR/timed.jsonl`).
pub fn kill_at_ten_points(
    dir: &Path,
    base: &Path,
    args: &[&str],
    check: impl Fn(u32, &Path),
) -> PathBuf {
    let command = |log: &Path| {
        let mut c = stancelog_command();
        c.args(["--log", log.to_str().unwrap(), "-q"]).args(args);
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c
    };
    let fresh = |name: &str| {
        let log = dir.join(name);
        std::fs::copy(base, &log).unwrap();
        if index_path(base).exists() {
            copy_dir(&index_path(base), &index_path(&log));
        }
        log
    };
    let timed = fresh("timed.jsonl");
    let start = std::time::Instant::now();
    assert!(command(&timed).status().unwrap().success());
    let whole = start.elapsed();
    for k in 0..10u32 {
        let log = fresh(&format!("k{k}.jsonl"));
        let mut child = command(&log).spawn().unwrap();
        std::thread::sleep(whole * k / 10);
        let _ = child.kill();
        let _ = child.wait();
        check(k, &log);
    }
    timed
}

/// Copies the files of folder `from` into `to` (made if missing); not recursive.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// `import csv` flags for a sheet of `actor` and `date` columns: each row a `support` of topic
/// `t1`, unknown actors and the topic registered.
pub const ACTOR_DATE_FLAGS: [&str; 9] = [
    "--actor-col",
    "actor",
    "--topic",
    "t1",
    "--stance",
    "support",
    "--date-col",
    "date",
    "--register",
];
