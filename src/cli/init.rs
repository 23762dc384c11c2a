//! `stancelog init`: create an empty log.

use std::io::Write;
use std::path::Path;

use stancelog::store::Log;

use super::Failure;

pub fn run(path: &Path, out: &mut dyn Write) -> Result<(), Failure> {
    Log::create(path)?;
    writeln!(out, "created empty log {}", path.display())?;
    Ok(())
}
