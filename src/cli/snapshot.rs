//! `stancelog snapshot`: write a projection snapshot beside the log.

use stancelog::store::LogRef;
use std::io::Write;

use stancelog::store::{self, Log};

use super::Failure;
use super::args::ListArgs;
use super::common::warn_torn_tail;
use super::render::Render;

pub fn run(l: &ListArgs, target: &LogRef, out: &mut dyn Write) -> Result<(), Failure> {
    let path = target.file("snapshot")?;
    let log = Log::open(path)?;
    warn_torn_tail(target, &log);
    let (snap, size) = store::write_snapshot(path, &log)?;
    Render::new(l.format).snapshot(out, &log, &snap, size)?;
    Ok(())
}
