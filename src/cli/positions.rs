//! `stancelog positions`: each actor's position on each topic as of a date.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use stancelog::Error;
use stancelog::core::{At, Filter, History};

use super::Failure;
use super::args::{PositionsArgs, PositionsQuery};
use super::common::{describe, filter, known, open};
use super::render::Render;

pub fn run(
    p: &PositionsArgs,
    path: &Path,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let log = open(path)?;
    let h = log.history();
    let (at, f) = query(h, &p.query, now)?;
    let when = describe(h, at);
    Render::new(p.format).positions(out, h, &when, || h.positions_iter(at, &f))?;
    Ok(())
}

/// The point and filter the flags ask for (shared with `export positions`).
///
/// # Errors
/// Those of [`filter`] and [`known`].
pub fn query(h: &History, q: &PositionsQuery, now: DateTime<Utc>) -> Result<(At, Filter), Error> {
    let f = filter(h, &q.scope)?;
    let at = At {
        as_of: q.as_of,
        known: known(h, q.known_at, "--known-at", now)?,
    };
    Ok((at, f))
}
