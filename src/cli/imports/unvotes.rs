//! `stancelog import unvotes DIR`: UN General Assembly roll-call votes.

use std::path::PathBuf;

use stancelog::store::LogRef;
use std::time::Duration;

use stancelog::Error;
use stancelog::import::unvotes::{self, Options};
use stancelog::import::{ImportReport, Progress};

/// Arguments of `import unvotes`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder holding unvotes.csv, roll_calls.csv and issues.csv (Voeten's data as shipped
    /// by the unvotes R package).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Runs the import into the log at `log`.
pub fn run(
    log: &LogRef,
    args: &Args,
    now: jiff::Timestamp,
    wait: Duration,
    progress: &dyn Progress,
) -> Result<ImportReport, Error> {
    // A file given for the folder is named as such (it was reported as `FILE/unvotes.csv: no
    // such file`).
    if args.dir.is_file() {
        return Err(Error::Usage(format!(
            "{}: is a file; give the folder holding unvotes.csv, roll_calls.csv and issues.csv",
            args.dir.display()
        )));
    }
    unvotes::import(log, &args.dir, &Options { now, wait }, progress)
}
