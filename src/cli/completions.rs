//! `stancelog completions SHELL`: the shell completion script, from the clap definitions.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use super::Failure;
use super::args::Args;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(c: &CompletionsArgs, out: &mut dyn Write) -> Result<(), Failure> {
    // Made in memory, then written: `generate` panics when its writer fails (a closed pipe,
    // `stancelog completions bash | head -2`), where a write of ours ends quietly.
    let mut script = Vec::new();
    clap_complete::generate(c.shell, &mut Args::command(), "stancelog", &mut script);
    out.write_all(&script)?;
    Ok(())
}
