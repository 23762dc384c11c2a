//! `stancelog append`: append a batch of events from a file or standard input, all or none.

use stancelog::store::LogRef;
use std::io::{self, Write};
use std::time::Duration;

use stancelog::Error;
use stancelog::store::{self, AppendOptions};

use super::Failure;
use super::args::AppendArgs;
use super::common::{check_countries, read_input, report_repairs};
use super::render::Render;

pub fn run(
    a: &AppendArgs,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let (name, bytes) = read_input(a.file.as_deref())?;
    let batch = store::parse_batch(&name, &bytes)?;
    check_countries(&name, &batch)?;
    let opts = AppendOptions {
        recorded_at: now,
        expect_seq: a.expect_seq,
        wait: Duration::from_secs_f64(a.wait),
    };
    let report = store::append(target, &batch, &name, &opts)?;
    report_repairs(target, &report);
    // The batch is durable now: a report that cannot be written must not read as a
    // failed append, which a script might retry (storing twice events without ids).
    let shown = Render::new(a.format)
        .appended(out, &report)
        .and_then(|()| out.flush());
    if let Err(e) = shown {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return Err(Failure::BrokenPipe);
        }
        let stored = report.events.iter().filter(|a| !a.duplicate).count();
        return Err(Error::io(
            "standard output",
            io::Error::new(
                e.kind(),
                format!(
                    "{e}; the batch WAS appended ({stored} new event(s)), only this report was lost: do not append it again (events without an id would be stored twice)"
                ),
            ),
        )
        .into());
    }
    Ok(())
}
