//! `stancelog diff`: what changed between two dates.

use stancelog::store::LogRef;
use std::io::Write;

use chrono::{DateTime, Utc};

use stancelog::core::At;

use super::Failure;
use super::args::DiffArgs;
use super::common::{describe, filter, known, open};
use super::render::Render;

pub fn run(
    d: &DiffArgs,
    target: &LogRef,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let log = open(target)?;
    let h = log.history();
    let f = filter(h, &d.scope)?;
    let from = At {
        as_of: Some(d.from),
        known: known(h, d.from_known_at.or(d.known_at), "--from-known-at", now)?,
    };
    let to = At {
        as_of: Some(d.to),
        known: known(h, d.to_known_at.or(d.known_at), "--to-known-at", now)?,
    };
    let when = format!("from {} to {}", describe(h, from), describe(h, to));
    Render::new(d.format).diff(out, h, &when, || h.diff_iter(from, to, &f))?;
    Ok(())
}
