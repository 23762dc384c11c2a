//! `stancelog init`: create an empty log.

use stancelog::store::LogRef;
use std::io::Write;

use super::Failure;

pub fn run(target: &LogRef, out: &mut dyn Write) -> Result<(), Failure> {
    target.create()?;
    writeln!(out, "created empty log {}", target)?;
    Ok(())
}
