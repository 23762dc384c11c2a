//! `stancelog topics`: registered topics, with counts of stances on them.

use std::io::Write;
use std::path::Path;

use super::Failure;
use super::args::ListArgs;
use super::common::open;
use super::render::Render;

pub fn run(l: &ListArgs, path: &Path, out: &mut dyn Write) -> Result<(), Failure> {
    let log = open(path)?;
    Render::new(l.format).topics(out, log.history())?;
    Ok(())
}
