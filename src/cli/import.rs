//! `stancelog import <kind>`: runs one importer (see `imports/`) with a progress bar and prints
//! its summary.

use stancelog::store::LogRef;
use std::io::Write;
use std::time::Duration;

use stancelog::Error;
use stancelog::import::Progress;
use stancelog::import::coded::Format;

use super::Failure;
use super::args::ImportArgs;
use super::imports::{self, ImportKind};
use super::progress;
use super::render::{Render, one_line};

pub fn run(
    i: &ImportArgs,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    stancelog::allocator::tune_mimalloc_for_import();
    let bar = progress::Bar::new();
    let wait = Duration::from_secs_f64(i.wait);
    let report = match &i.kind {
        ImportKind::Unvotes(a) => imports::unvotes::run(target, a, now, wait, &bar),
        ImportKind::TreatyStatus(a) => imports::treaty::run(target, a, now, wait, &bar),
        ImportKind::Csv(a) => imports::sheet::run(target, a, now, wait, &bar),
        ImportKind::Icews(a) => {
            imports::coded::run(target, a, Format::Icews, false, now, wait, &bar)
        }
        ImportKind::Gdelt(a) => {
            let r = a.recorded_from_data;
            imports::coded::run(target, &a.common, Format::Gdelt, r, now, wait, &bar)
        }
        ImportKind::Plover(a) => {
            imports::coded::run(target, a, Format::Plover, false, now, wait, &bar)
        }
    };
    bar.finish();
    let report = report?;
    super::common::report_import_repairs(target, &report);
    if let Some(w) = &report.index_warning {
        eprintln!("stancelog: warning: {}: {w}", target);
    }
    Render::new(i.format).imported(out, &report)?;
    // Any refused row is a failure of the import as a whole (exit 2), even when the rest
    // was appended: a script must not take a partial import for a complete one.
    if report.refused_count > 0 {
        // The summary (with the refused rows) went to no one under --quiet; the refusals are
        // errors, which still print.
        if super::common::quiet() {
            for x in &report.refused {
                let (file, reason) = (one_line(&x.file), one_line(&x.reason));
                eprintln!("stancelog: refused {file}:{}: {reason}", x.line);
            }
            let unlisted = report.refused_count - report.refused.len() as u64;
            if unlisted > 0 {
                eprintln!("stancelog: refused: {unlisted} more row(s), not listed");
            }
        }
        let done = match (report.dry_run, report.appended) {
            (true, _) => "nothing was written (--dry-run)".to_string(),
            (false, 0) => "nothing was appended".to_string(),
            (false, n) => format!("the other rows were imported ({n} event(s) appended)"),
        };
        return Err(Error::Usage(format!(
            "{} row(s) refused (listed above); {done}",
            report.refused_count
        ))
        .into());
    }
    Ok(())
}
