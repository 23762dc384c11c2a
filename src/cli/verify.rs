//! `stancelog verify`: check every line of the log, its seqs and its hash chain.

use std::io::Write;
use std::path::Path;

use stancelog::store::{Log, TailCheck};
use stancelog::{Error, Location};

use super::Failure;
use super::args::ListArgs;
use super::render::Render;

pub fn run(l: &ListArgs, path: &Path, out: &mut dyn Write) -> Result<(), Failure> {
    let log = Log::open(path)?;
    let log = if log.torn_tail_bytes() > 0 {
        // A batch being appended right now reads as a torn tail: look again.
        settle_tail(path, log)?
    } else {
        log
    };
    if log.final_newline_missing() {
        eprintln!(
            "stancelog: note: {}: the last record (seq {}) is whole but has no newline after it (an editor or tool dropped it); it is verified, and the next append writes the newline",
            path.display(),
            log.history().seq_last()
        );
    }
    Render::new(l.format).verified(out, &log)?;
    Ok(())
}

/// The log to verify, given one read with a torn tail: the log before the tail if a writer is
/// writing that batch right now (said on stderr), the log read again if the batch was finished
/// meanwhile; an error naming the tail if it was left by a crash, saying whether a process
/// holds the log's lock.
fn settle_tail(path: &Path, log: Log) -> Result<Log, Failure> {
    let (log, holder) = match log.recheck_tail(path)? {
        TailCheck::BeingWritten { log, writer_pid } => {
            let who = writer_pid.map_or_else(String::new, |pid| format!(" (pid {pid})"));
            eprintln!(
                "stancelog: note: {}: a writer{who} is appending a batch after seq {} ({} bytes written so far, not checked); verified the log before it",
                path.display(),
                log.history().seq_last(),
                log.torn_tail_bytes()
            );
            return Ok(log);
        }
        TailCheck::Settled(now) => (now, "no process holds the log's lock".to_string()),
        TailCheck::Idle { log, holder_pid } => {
            let who = match holder_pid {
                Some(pid) => format!("a stancelog writer (pid {pid})"),
                None => "a process that is not a stancelog writer".to_string(),
            };
            (
                log,
                format!("{who} holds the log's lock but is writing no batch"),
            )
        }
    };
    if log.torn_tail_bytes() == 0 {
        // The batch was finished between the two readings.
        return Ok(log);
    }
    Err(Error::input(
        Location {
            file: path.display().to_string(),
            line: Some(log.history().seq_last() + 1),
            field: None,
        },
        format!(
            "torn tail: {} bytes of a record cut short or an unfinished batch, left by a crash ({holder}); the next append removes them",
            log.torn_tail_bytes()
        ),
    )
    .into())
}
