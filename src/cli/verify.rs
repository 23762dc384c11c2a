//! `stancelog verify`: check every line of the log, its seqs and its hash chain.

use std::io::Write;
use std::path::Path;

use stancelog::store::{Log, TailCheck};
use stancelog::{Error, Location};

use super::Failure;
use super::args::ListArgs;
use super::render::Render;

pub fn run(l: &ListArgs, path: &Path, out: &mut dyn Write) -> Result<(), Failure> {
    let mut log = Log::open(path)?;
    // A batch being appended right now reads as a torn tail: look again.
    let being_written = log.torn_tail_bytes() > 0
        && match log.recheck_tail(path)? {
            TailCheck::Settled(now) => {
                log = now;
                false
            }
            TailCheck::BeingWritten(first) => {
                log = first;
                eprintln!(
                    "stancelog: note: {}: a writer is appending a batch after seq {} ({} bytes written so far, not checked); verified the log before it",
                    path.display(),
                    log.history().seq_last(),
                    log.torn_tail_bytes()
                );
                true
            }
        };
    if log.torn_tail_bytes() > 0 && !being_written {
        return Err(Error::input(
            Location {
                file: path.display().to_string(),
                line: Some(log.history().seq_last() + 1),
                field: None,
            },
            format!(
                "torn tail: {} bytes of an unterminated line or unfinished batch; the next append removes them",
                log.torn_tail_bytes()
            ),
        )
        .into());
    }
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
