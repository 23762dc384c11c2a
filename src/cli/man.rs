//! `stancelog man [--dir DIR]`: the man page, from the clap definitions.

use std::io::Write;
use std::path::PathBuf;

use clap::CommandFactory;

use stancelog::Error;

use super::Failure;
use super::args::Args;

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write stancelog.1 and one page per command (stancelog-positions.1, ...) into DIR
    /// instead of printing stancelog.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(m: &ManArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let cmd = Args::command();
    match &m.dir {
        None => clap_mangen::Man::new(cmd).render(out)?,
        Some(dir) => {
            clap_mangen::generate_to(cmd, dir).map_err(|e| Error::io(dir.display(), e))?;
            writeln!(out, "wrote the man pages to {}", dir.display())?;
        }
    }
    Ok(())
}
