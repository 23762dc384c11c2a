//! `stancelog copy --from LOG --to LOG`: copy a log between backends, byte for byte.

use std::ffi::OsString;
use std::io::ErrorKind::NotFound;
use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use stancelog::Error;
use stancelog::store::{LogRef, Writer};

use super::Failure;
use super::args::Format;

#[derive(Debug, clap::Args)]
pub struct CopyArgs {
    /// The log to copy from: a file path or a PostgreSQL connection string.
    #[arg(long, value_name = "PATH|URL")]
    pub from: OsString,
    /// The log to copy to: a file (created when missing) or a PostgreSQL log (after `init`).
    /// It must be empty or hold a prefix of the source (an earlier copy); only what it lacks is
    /// copied.
    #[arg(long, value_name = "PATH|URL")]
    pub to: OsString,
    /// Seconds to wait for another writer's lock on a file target before failing.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub wait: f64,
    /// Output format: `table` prints one line; `json` an object (target_had, copied, seq_last,
    /// head_hash).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// What a copy did.
#[derive(Serialize)]
struct Copied {
    /// Records the target held before (0 for an empty one).
    target_had: u64,
    /// Records copied.
    copied: u64,
    /// The last seq of both logs now.
    seq_last: u64,
    /// The head hash of both logs now.
    head_hash: String,
}

/// Reads the whole source (checking every record, as `verify` does), opens the target as its
/// writer, checks that the target's stored lines are a prefix of the source's, and appends the
/// rest byte for byte: the same lines, seqs, batches and hashes.
pub fn run(c: &CopyArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let from = LogRef::parse(&c.from)?;
    let to = LogRef::parse(&c.to)?;
    refuse_missing_source(&from)?;
    let (source, bytes) = from.open_stored()?;
    if let LogRef::File(path) = &to
        && !path.exists()
    {
        to.create()?;
    }
    let mut writer = Writer::open_log(&to, Duration::from_secs_f64(c.wait))?;
    let (target, had) = to.open_stored()?;
    let target_had = target.history().seq_last();
    if writer.log().history().seq_last() != target_had {
        return Err(Error::Usage(format!(
            "{to}: another writer appended while the copy started; run it again"
        ))
        .into());
    }
    if !bytes.starts_with(&had) {
        let same = bytes.iter().zip(&had).take_while(|(a, b)| a == b).count();
        let why = if same == bytes.len() {
            let end = source.history().seq_last();
            format!("{to} holds records after seq {end}, where {from} ends")
        } else {
            let seq = bytes[..same].iter().filter(|b| **b == b'\n').count() + 1;
            format!("{to} holds records that {from} does not (they differ at seq {seq})")
        };
        return Err(Error::Usage(format!("{why}; refusing to copy into it")).into());
    }
    let rest = &bytes[had.len()..];
    if !rest.is_empty() {
        let torn = writer.log().torn_tail_bytes();
        writer.append_stored(rest, &from.to_string())?;
        if torn > 0 {
            // What an interrupted copy left: removed as an append removes it, and said as
            // an append says it (it was removed in silence).
            eprintln!(
                "stancelog: removed a torn tail of {torn} bytes from {to} before copying (an earlier copy or append cut short)"
            );
        }
    }
    let done = Copied {
        target_had,
        copied: source.history().seq_last() - target_had,
        seq_last: source.history().seq_last(),
        head_hash: source.head_hash(),
    };
    debug_assert_eq!(writer.log().head_hash(), done.head_hash);
    match c.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &done).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        _ if done.copied == 0 => writeln!(
            out,
            "nothing to copy: {to} already holds all {} records of {from} (head hash {})",
            done.seq_last, done.head_hash
        )?,
        _ => writeln!(
            out,
            "copied {} records (seq {} to {}) from {from} to {to}; head hash {}",
            done.copied,
            target_had + 1,
            done.seq_last,
            done.head_hash
        )?,
    }
    Ok(())
}

/// A source file that is not there is said as such, not with the "create one with init" of a
/// missing log: a source must hold something.
fn refuse_missing_source(from: &LogRef) -> Result<(), Error> {
    match from {
        LogRef::File(path) if std::fs::metadata(path).is_err_and(|e| e.kind() == NotFound) => {
            let shown = path.display();
            Err(Error::Usage(format!(
                "--from {shown}: no log there to copy"
            )))
        }
        _ => Ok(()),
    }
}
