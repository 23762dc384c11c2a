//! `stancelog positions`: each actor's position on each topic as of a date.

use stancelog::store::LogRef;
use std::io::Write;

use chrono::{DateTime, Utc};

use stancelog::core::At;

use super::Failure;
use super::args::PositionsArgs;
use super::common::{describe, filter, known, open};
use super::render::Render;

pub fn run(
    p: &PositionsArgs,
    target: &LogRef,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let log = open(target)?;
    let h = log.history();
    let f = filter(h, &p.scope)?;
    let at = At {
        as_of: p.as_of,
        known: known(h, p.known_at, "--known-at", now)?,
    };
    let when = describe(h, at);
    Render::new(p.format).positions(out, h, &when, || h.positions_iter(at, &f))?;
    Ok(())
}
