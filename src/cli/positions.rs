//! `stancelog positions`: each actor's position on each topic as of a date.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use stancelog::core::At;

use super::Failure;
use super::args::PositionsArgs;
use super::common::{describe, known, open_index, query_history};
use super::render::Render;

pub fn run(
    p: &PositionsArgs,
    path: &Path,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let mut index = open_index(path)?;
    let (f, h) = query_history(path, &mut index, &p.scope)?;
    let at = At {
        as_of: p.as_of,
        known: known(&index, p.known_at, "--known-at", now)?,
    };
    let when = describe(&index, at);
    Render::new(p.format).positions(out, &h, &when, || h.positions_iter(at, &f))?;
    Ok(())
}
