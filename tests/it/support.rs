//! Shared helpers: the binary, temporary logs, the shipped seed log.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Path of a copy of the shipped seed log, made once per test process under cargo's target
/// tmp folder, so that the projection index queries write beside it stays out of the source
/// tree.
pub fn seed_log() -> PathBuf {
    static COPY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    COPY.get_or_init(|| {
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("seed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("seed copy folder");
        let copy = dir.join("dprk-russia-2024.jsonl");
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_stancelog"))
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
            pipe.write_all(bytes).expect("write stdin");
        }
    }
    child.wait_with_output().expect("wait for stancelog")
}

/// Runs `stancelog --log LOG args...`.
pub fn run_log(log: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
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

/// A temporary directory with a fresh empty log in it.
pub fn empty_log() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("log.jsonl");
    let o = run_log(&log, &["init"], None);
    assert!(o.status.success(), "init failed: {}", stderr(&o));
    (dir, log)
}

/// Parses JSON output.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).expect("JSON on stdout")
}
