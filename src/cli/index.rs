//! `stancelog index`: build, check or report the projection index beside the log.

use std::io::Write;
use std::path::Path;

use stancelog::store::{self, Index, IndexCheck, IndexUse, LogRef};
use stancelog::{Error, Location};

use super::Failure;
use super::args::IndexArgs;
use super::common::{note_index_use, warn_torn_index, warn_torn_tail};
use super::render::Render;

pub fn run(a: &IndexArgs, target: &LogRef, out: &mut dyn Write) -> Result<(), Failure> {
    let (index, used) = if a.rebuild {
        Index::rebuild_log(target)?
    } else {
        Index::open_log(target)?
    };
    // This command is asked to write the index: one that could not be written is an error
    // (a query answers from the log itself instead, with a warning).
    if let IndexUse::Unwritable { reason } = used {
        return Err(Error::io(
            index.dir().display(),
            std::io::Error::other(format!(
                "the projection index could not be written: {reason}"
            )),
        )
        .into());
    }
    warn_torn_index(target, &index);
    note_index_use(&index, used);
    if a.check {
        let log = target.open()?;
        warn_torn_tail(target, &log);
        index_agrees(index.dir(), &store::check_index_of(target, &log)?)?;
    }
    Render::new(a.format).index(out, &index.report())?;
    Ok(())
}

/// An error naming the index's first disagreement with the log, if it has one (`dir`: the
/// index's folder).
pub fn index_agrees(dir: &Path, check: &IndexCheck) -> Result<(), Error> {
    match check {
        IndexCheck::Disagrees { what } => Err(Error::input(
            Location {
                file: dir.display().to_string(),
                line: None,
                field: None,
            },
            format!(
                "the index does not agree with the log: {what}; the log itself is not affected: a query that reads the damaged part discards the index and rebuilds it, and `stancelog index --rebuild` rebuilds it now"
            ),
        )),
        _ => Ok(()),
    }
}
