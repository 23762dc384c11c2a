//! `stancelog verify`: check every line of the log, its seqs and its hash chain.

use std::io::Write;
use std::path::Path;

use stancelog::store::LogRef;

use stancelog::store::{self, Hash, Log, TailCheck};
use stancelog::{Error, Location};

use super::Failure;
use super::args::Format;
use super::index::index_agrees;
use super::render::Render;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// A head hash `verify` printed earlier: the log must still hold that record (as its head,
    /// or with later events after it). Detects a log cut back to an earlier batch boundary,
    /// which the hash chain alone cannot, or rewritten.
    #[arg(long, value_name = "HASH", value_parser = parse_hash)]
    pub expect_head: Option<Hash>,
}

fn parse_hash(text: &str) -> Result<Hash, String> {
    Hash::from_hex(text.to_ascii_lowercase().as_bytes()).ok_or_else(|| {
        format!(
            "{} is not a head hash: 64 hex digits, as `verify` prints them",
            stancelog::core::quoted(text)
        )
    })
}

pub fn run(l: &VerifyArgs, target: &LogRef, out: &mut dyn Write) -> Result<(), Failure> {
    let log = target.open()?;
    let log = if log.torn_tail_bytes() > 0 {
        // A batch being appended right now reads as a torn tail: look again.
        settle_tail(target.file("verify")?, log)?
    } else {
        log
    };
    if log.final_newline_missing() {
        eprintln!(
            "stancelog: note: {}: the last record (seq {}) is whole but has no newline after it (an editor or tool dropped it); it is verified, and the next append writes the newline",
            target,
            log.history().seq_last()
        );
    }
    if let Some(expected) = &l.expect_head {
        expect_head(target, &log, expected)?;
    }
    // While a writer appends, the index may already hold the batch this read left out: the
    // index is checked only against a settled log.
    let index = match store::index_dir(target) {
        Ok(dir) if log.torn_tail_bytes() == 0 => Some((store::check_index_of(target, &log)?, dir)),
        _ => None,
    };
    // The log's verdict is printed also when its index disagrees (exit 2 then, naming how).
    Render::new(l.format).verified(out, &log, index.as_ref().map(|(check, _)| check))?;
    if let Some((check, dir)) = &index {
        index_agrees(dir, check)?;
    }
    Ok(())
}

/// Checks that the log holds the record whose hash is `expected` (said on stderr when it has
/// events after it); an error otherwise.
fn expect_head(target: &LogRef, log: &Log, expected: &Hash) -> Result<(), Failure> {
    let seq_last = log.history().seq_last();
    let found = if log.head_hash() == expected.to_hex() {
        Some(seq_last)
    } else {
        target.seq_with_hash(expected, log.valid_len())?
    };
    match found {
        Some(seq) if seq == seq_last => Ok(()),
        Some(seq) => {
            eprintln!(
                "stancelog: note: {}: the expected head is the hash of seq {seq}; the log has {} event(s) after it",
                target,
                seq_last - seq
            );
            Ok(())
        }
        None => Err(Error::input(
            Location {
                file: target.to_string(),
                line: None,
                field: None,
            },
            format!(
                "no record has the expected head hash {}: the log was cut back to before that record, or rewritten (its head now: seq {seq_last}, {})",
                expected.to_hex(),
                log.head_hash()
            ),
        )
        .into()),
    }
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
