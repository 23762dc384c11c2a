//! `stancelog snapshot`: write a projection snapshot beside the log.

use std::io::Write;
use std::path::Path;

use stancelog::store::{self, Log};

use super::Failure;
use super::args::ListArgs;
use super::common::warn_torn_tail;
use super::render::Render;

pub fn run(l: &ListArgs, path: &Path, out: &mut dyn Write) -> Result<(), Failure> {
    let log = Log::open(path)?;
    warn_torn_tail(path, &log);
    let (snap, size) = store::write_snapshot(path, &log)?;
    Render::new(l.format).snapshot(out, &log, &snap, size)?;
    Ok(())
}
