//! `stancelog import treaty-status FILE [--snapshots] [--topic ID] [--title TEXT]`.

use std::path::PathBuf;

use stancelog::store::LogRef;
use std::time::Duration;

use stancelog::Error;
use stancelog::import::treaty::{
    DEFAULT_TITLE, DEFAULT_TOPIC, TreatyOptions, import_treaty_status,
};
use stancelog::import::{ImportReport, Progress};

/// Arguments of the treaty status importer.
///
/// Parties are actors with their ISO 3166-1 alpha-3 code as id; signatures become `signed`
/// stances, ratifications (acceptances, approvals, accessions) `ratified` ones with their
/// instrument. See `events/README.md`, "Treaty status".
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The status table (Code, Name, Signature, Ratification, Kind, ...), or with --snapshots
    /// its dated versions (snapshot_date, commit, code, name, signature, ratification, kind, ...).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// FILE holds dated versions of the table: each is recorded at its snapshot date (00:00
    /// UTC), so --known-at a date shows the table as it stood that day. Needs a new log (or one
    /// whose events were all recorded before the first snapshot date).
    #[arg(long)]
    pub snapshots: bool,
    /// Topic id of the treaty.
    #[arg(long, value_name = "ID", default_value = DEFAULT_TOPIC)]
    pub topic: String,
    /// Title of the treaty, used when this import registers the topic.
    #[arg(long, value_name = "TEXT", default_value = DEFAULT_TITLE)]
    pub title: String,
}

/// Runs the import into the log at `log`; a table is recorded at `now`.
pub fn run(
    log: &LogRef,
    args: &Args,
    now: jiff::Timestamp,
    wait: Duration,
    progress: &dyn Progress,
) -> Result<ImportReport, Error> {
    let opts = TreatyOptions {
        now,
        snapshots: args.snapshots,
        topic: args.topic.clone(),
        title: args.title.clone(),
    };
    import_treaty_status(log, &args.file, &opts, wait, progress)
}
