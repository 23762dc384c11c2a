//! `stancelog verify`: check every line of the log, its seqs and its hash chain.

use std::io::Write;
use std::path::Path;

use stancelog::store::{self, Log, TailCheck};
use stancelog::{Error, Location};

use super::Failure;
use super::args::ListArgs;
use super::index::index_agrees;
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
    // While a writer appends, the index may already hold the batch this read left out: the
    // index is checked only against a settled log.
    let index = if being_written {
        None
    } else {
        let check = store::check_index(path, &log)?;
        index_agrees(path, &check)?;
        Some(check)
    };
    Render::new(l.format).verified(out, &log, index.as_ref())?;
    Ok(())
}
