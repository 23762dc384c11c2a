//! `stancelog report`: the self-contained HTML report (drawn by `stancelog::report`).

use stancelog::store::LogRef;
use std::io::Write;

use stancelog::Error;
use stancelog::core::ActorId;
use stancelog::report::{self, Options, Source};

use super::Failure;
use super::args::ReportArgs;
use super::common::{
    filter, known, open_index, read_index, recorded_by, refuse_log_as_output, registry,
    resolve_actor,
};
use super::out_file::{confirm, write_out};

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
    refuse_log_as_output(&r.out, target)?;
    let mut index = open_index(target)?;
    let reg = if r.pair.is_empty() {
        registry(target, &mut index, &r.scope)?
    } else {
        read_index(target, &mut index, |i| i.registry())?
    };
    let mut pairs: Vec<(ActorId, ActorId)> = Vec::new();
    for p in &r.pair {
        let Some((a, b)) = p.split_once(',') else {
            return Err(Error::Usage(format!("--pair `{p}`: give two actors as A,B")).into());
        };
        pairs.push((
            resolve_actor(&reg, a.trim())?,
            resolve_actor(&reg, b.trim())?,
        ));
    }
    let opts = Options {
        as_of: r.as_of,
        known: known(&index, r.known_at, "--known-at", now)?,
        filter: filter(&reg, &r.scope)?,
        pairs,
        from: r.from,
        to: r.to,
    };
    let h = read_index(target, &mut index, |i| i.history(&opts.needs()))?;
    let source = Source {
        log_name: match target {
            LogRef::File(path) => path
                .file_name()
                .map_or_else(|| target.to_string(), |n| n.to_string_lossy().into()),
            LogRef::Postgres(_) => target.to_string(),
        },
        seq: index.seq_last(),
        head_hash: index.head_hash(),
        date_last: index.date_last(),
        known: recorded_by(&index, opts.known).unwrap_or_else(|| "everything recorded".into()),
    };
    let html = report::render(&h, &source, &opts);
    let line = format!("Wrote {} ({} bytes)", r.out.display(), html.len());
    let written = write_out(&r.out, |w| w.write_all(html.as_bytes()))?;
    confirm(written, &line, out)?;
    Ok(())
}
