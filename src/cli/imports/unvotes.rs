//! Stub: arguments and run for this importer, to be written.

use std::path::Path;
use std::time::Duration;

use stancelog::Error;
use stancelog::import::{ImportReport, Progress};

/// Arguments of this importer.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the import into the log at `log`.
pub fn run(
    _log: &Path,
    _args: &Args,
    _now: chrono::DateTime<chrono::Utc>,
    _wait: Duration,
    _progress: &dyn Progress,
) -> Result<ImportReport, Error> {
    Err(Error::Usage("this importer is not written yet".to_string()))
}
