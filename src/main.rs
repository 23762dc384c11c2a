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
            let message = e.to_string();
            let _ = writeln!(io::stderr(), "stancelog: error: {message}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                // An I/O error's message already ends with its cause: no need to say it twice.
                let cause = s.to_string();
                if !message.contains(&cause) {
                    let _ = writeln!(io::stderr(), "  caused by: {cause}");
                }
                source = s.source();
            }
            ExitCode::from(match e.kind() {
                ErrorKind::Input => 2,
                ErrorKind::Conflict => 3,
                ErrorKind::Io => 1,
            })
        }
    }
}
