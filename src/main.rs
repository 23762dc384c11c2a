//! The `stancelog` command line. Parses arguments, calls the library, renders the answer.
//! `main` only calls `try_main`, prints the error once and maps it to an exit code.

mod cli;

use std::io::{self, Write};
use std::process::ExitCode;

use stancelog::ErrorKind;

/// mimalloc instead of the system allocator; see `stancelog::allocator` for why and how it is tuned.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    stancelog::allocator::tune_mimalloc();
    match cli::try_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(cli::Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(cli::Failure::Error(e)) => {
            // Every error's message carries its cause (an I/O error's ends with the OS error),
            // so the `source()` chain is not printed again.
            let _ = writeln!(io::stderr(), "stancelog: error: {e}");
            ExitCode::from(match e.kind() {
                ErrorKind::Input => 2,
                ErrorKind::Conflict => 3,
                ErrorKind::Io => 1,
            })
        }
    }
}
