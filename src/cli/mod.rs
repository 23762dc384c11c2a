//! Argument parsing and the commands. Only this layer reads the clock and the environment.

mod args;
mod common;
mod imports;
mod out_file;
mod progress;
mod render;
mod tabular;

mod actors;
mod add;
mod agreement;
mod append;
mod cite;
mod completions;
mod copy;
mod correct;
mod diff;
mod editor;
mod export;
mod import;
mod index;
mod init;
mod man;
mod positions;
mod report;
mod retract;
mod timeline;
mod topics;
mod trend;
mod verify;
mod watch;

use std::io::{self, Write};

use clap::Parser;

use stancelog::Error;

use args::{Args, Command};

/// Why the command stopped early.
pub enum Failure {
    /// The reader of standard output went away (`stancelog positions | head`): end quietly.
    BrokenPipe,
    /// An error to report.
    Error(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Error(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Error(Error::io("standard output", e))
        }
    }
}

/// Parses the arguments, runs the command, writes the answer to standard output.
pub fn try_main() -> Result<(), Failure> {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            // Help and version go to stdout with exit 0; usage errors to stderr with exit 2.
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    run(args, &mut out)?;
    out.flush()?;
    Ok(())
}

/// Runs one command: each lives in its own file, and this only dispatches.
fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    common::set_quiet(args.quiet);
    // Commands that only say what they did print nothing with --quiet.
    let reports = matches!(
        args.command,
        Command::Init
            | Command::Append(_)
            | Command::Add(_)
            | Command::New(_)
            | Command::Retract(_)
            | Command::Correct(_)
            | Command::Cite(_)
            | Command::Export(_)
            | Command::Import(_)
            | Command::Index(_)
            | Command::Report(_)
            | Command::Copy(_)
    );
    let mut sink = io::sink();
    let out: &mut dyn Write = if args.quiet && reports {
        &mut sink
    } else {
        out
    };
    // These need no --log.
    match &args.command {
        Command::Completions(c) => return completions::run(c, out),
        Command::Man(m) => return man::run(m, out),
        Command::Copy(c) => return copy::run(c, out),
        _ => {}
    }
    let target = common::log_ref(&args)?;
    // The one reading of the clock: the recorded time of appends and imports, and the present
    // against which --known-at is checked.
    let now = jiff::Timestamp::now();
    match &args.command {
        Command::Init => init::run(&target, out),
        Command::Append(a) => append::run(a, &target, now, out),
        Command::Positions(p) => positions::run(p, &target, now, out),
        Command::Diff(d) => diff::run(d, &target, now, out),
        Command::Timeline(t) => timeline::run(t, &target, now, out),
        Command::Actors(l) => actors::run(l, &target, out),
        Command::Topics(l) => topics::run(l, &target, out),
        Command::Add(a) => add::run(a, &target, now, out),
        Command::New(n) => add::new(n, &target, now, out),
        Command::Retract(r) => retract::run(r, &target, now, out),
        Command::Correct(c) => correct::run(c, &target, now, out),
        Command::Cite(c) => cite::run(c, &target, now, out),
        Command::Export(e) => export::run(e, &target, now, out),
        Command::Completions(_) | Command::Man(_) | Command::Copy(_) => Ok(()),
        Command::Import(i) => import::run(i, &target, now, out),
        Command::Index(a) => index::run(a, &target, out),
        Command::Verify(l) => verify::run(l, &target, out),
        Command::Agreement(a) => agreement::run(a, &target, now, out),
        Command::Trend(t) => trend::run(t, &target, now, out),
        Command::Report(r) => report::run(r, &target, now, out),
        Command::Watch(w) => watch::run(w, &target, out),
    }
}
