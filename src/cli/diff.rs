//! `stancelog diff`: what changed between two dates.

use stancelog::store::LogRef;
use std::io::Write;

use stancelog::Error;
use stancelog::core::{At, Filter, History};
use stancelog::export::columns;

use super::Failure;
use super::args::{DiffArgs, DiffQuery};
use super::common::{Recorded, describe, filter, known, open_index, read_index, registry};
use super::render::Render;

pub fn run(
    d: &DiffArgs,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let cols = d.pick.pick(columns::diff())?;
    let mut index = open_index(target)?;
    let reg = registry(target, &mut index, &d.query.scope)?;
    let (from, to, f) = query(&reg, &index, &d.query, now)?;
    let h = read_index(target, &mut index, |i| i.query_history(&f))?;
    let when = format!(
        "from {} to {}",
        describe(&index, from),
        describe(&index, to)
    );
    Render::new(d.format).diff(out, &h, &when, cols.as_deref(), || {
        h.diff_iter(from, to, &f)
    })?;
    Ok(())
}

/// The query the flags ask for (shared with `export`), with the names resolved in `reg` and
/// the times in `h` (the index's).
///
/// # Errors
/// [`Error::Usage`] when `--from` is later than `--to` (a diff reads forward in valid time;
/// the same date on both sides with two `--*-known-at` times compares two states of knowledge);
/// those of [`filter`] and [`known`].
pub fn query(
    reg: &History,
    h: &impl Recorded,
    q: &DiffQuery,
    now: jiff::Timestamp,
) -> Result<(At, At, Filter), Error> {
    if q.from > q.to {
        return Err(Error::Usage(format!(
            "--from {} is later than --to {}: a diff reads forward in time; swap them (--from {} --to {})",
            q.from, q.to, q.to, q.from
        )));
    }
    let f = filter(reg, &q.scope)?;
    let from = At {
        as_of: Some(q.from),
        known: known(h, q.from_known_at.or(q.known_at), "--from-known-at", now)?,
    };
    let to = At {
        as_of: Some(q.to),
        known: known(h, q.to_known_at.or(q.known_at), "--to-known-at", now)?,
    };
    Ok((from, to, f))
}
