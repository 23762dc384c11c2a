//! `stancelog positions`: each actor's position on each topic as of a date.

use stancelog::store::LogRef;
use std::io::Write;

use stancelog::Error;
use stancelog::core::{At, Filter, History};
use stancelog::export::columns;

use super::Failure;
use super::args::{PositionsArgs, PositionsQuery};
use super::common::{Recorded, describe, filter, known, open_index, read_index, registry};
use super::render::Render;

pub fn run(
    p: &PositionsArgs,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let cols = p.pick.pick(columns::positions())?;
    let mut index = open_index(target)?;
    let reg = registry(target, &mut index, &p.query.scope)?;
    let (at, f) = query(&reg, &index, &p.query, now)?;
    let h = read_index(target, &mut index, |i| i.query_history(&f))?;
    let when = describe(&index, at);
    Render::new(p.format).positions(out, &h, &when, cols.as_deref(), || {
        h.positions_decided(at, &f)
    })?;
    Ok(())
}

/// The query the flags ask for (shared with `export`), with the names resolved in `reg` and
/// the times in `rec` (the index's).
///
/// # Errors
/// Those of [`filter`] and [`known`].
pub fn query(
    reg: &History,
    rec: &impl Recorded,
    q: &PositionsQuery,
    now: jiff::Timestamp,
) -> Result<(At, Filter), Error> {
    let f = filter(reg, &q.scope)?;
    let at = At {
        as_of: q.as_of,
        known: known(rec, q.known_at, "--known-at", now)?,
    };
    Ok((at, f))
}
