//! `stancelog actors`: registered actors, with counts of their stances.

use stancelog::store::LogRef;
use std::io::Write;

use super::Failure;
use super::args::ListArgs;
use super::common::open;
use super::render::Render;

pub fn run(l: &ListArgs, target: &LogRef, out: &mut dyn Write) -> Result<(), Failure> {
    let log = open(target)?;
    Render::new(l.format).actors(out, log.history())?;
    Ok(())
}
