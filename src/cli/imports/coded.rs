//! `stancelog import icews|gdelt|plover FILE`: coded event data.

use std::path::PathBuf;

use stancelog::store::LogRef;
use std::time::Duration;

use stancelog::Error;
use stancelog::import::coded::{self, CodedOptions, Format};
use stancelog::import::{ImportReport, Progress};

/// Arguments of the coded event importers.
///
/// The source actor is the actor, the target the recipient; the CAMEO (or PLOVER) code gives
/// the PLOVER event type, and its quad class the stance (cooperation `support`, conflict
/// `oppose`); the topic is the recipient and the kind of act (`CHN/cameo-04`); the event date is
/// the valid time. One event reported by many outlets is one stance and its citations. See
/// README, "Coded event data", and events/README.md.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The event file (tab-separated).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The data set's identity, part of every event id (default: the format's name).
    #[arg(long, value_name = "NAME")]
    pub dataset: Option<String>,
    /// Show what would be appended, cited, skipped and refused; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `import gdelt`.
#[derive(Debug, clap::Args)]
pub struct GdeltArgs {
    /// The common arguments.
    #[command(flatten)]
    pub common: Args,
    /// Record each event at its DATEADDED (00:00 UTC for 1.0's days) instead of now; rows must
    /// then come in the order GDELT added them (an earlier one is refused).
    #[arg(long)]
    pub recorded_from_data: bool,
}

/// Runs the import of `format` into the log at `log`.
pub fn run(
    log: &LogRef,
    args: &Args,
    format: Format,
    recorded_from_data: bool,
    now: jiff::Timestamp,
    wait: Duration,
    progress: &dyn Progress,
) -> Result<ImportReport, Error> {
    let opts = CodedOptions {
        dataset: args.dataset.clone(),
        now,
        wait,
        dry_run: args.dry_run,
        recorded_from_data,
    };
    coded::import(log, &args.file, format, &opts, progress)
}
