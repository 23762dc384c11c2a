//! `stancelog report`: the self-contained HTML report (drawn by `stancelog::report`).

use stancelog::store::LogRef;
use std::io::Write;

use stancelog::Error;
use stancelog::core::ActorId;
use stancelog::report::{self, Options, Source};
use stancelog::store::format_recorded_at;

use super::Failure;
use super::args::ReportArgs;
use super::common::{filter, known, open, resolve_actor};

pub fn run(
    r: &ReportArgs,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if let (Some(from), Some(to)) = (r.from, r.to)
        && from > to
    {
        return Err(Error::Usage(format!("--from {from} is after --to {to}")).into());
    }
    let log = open(target)?;
    let h = log.history();
    let mut pairs: Vec<(ActorId, ActorId)> = Vec::new();
    for p in &r.pair {
        let Some((a, b)) = p.split_once(',') else {
            return Err(Error::Usage(format!("--pair `{p}`: give two actors as A,B")).into());
        };
        pairs.push((resolve_actor(h, a.trim())?, resolve_actor(h, b.trim())?));
    }
    let opts = Options {
        as_of: r.as_of,
        known: known(h, r.known_at, "--known-at", now)?,
        filter: filter(h, &r.scope)?,
        pairs,
        from: r.from,
        to: r.to,
    };
    let known = match opts.known.and_then(|s| h.event(s)) {
        Some(e) => format!(
            "as recorded by seq {} ({})",
            e.seq,
            format_recorded_at(&e.recorded_at)
        ),
        None => "everything recorded".to_string(),
    };
    let source = Source {
        log_name: match target {
            LogRef::File(path) => path
                .file_name()
                .map_or_else(|| target.to_string(), |n| n.to_string_lossy().into()),
            LogRef::Postgres(_) => target.to_string(),
        },
        seq: h.seq_last(),
        head_hash: log.head_hash(),
        known,
    };
    let html = report::render(h, &source, &opts);
    std::fs::write(&r.out, &html).map_err(|e| Error::io(r.out.display(), e))?;
    writeln!(out, "Wrote {} ({} bytes)", r.out.display(), html.len())?;
    Ok(())
}
