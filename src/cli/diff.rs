//! `stancelog diff`: what changed between two dates.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use stancelog::core::At;

use super::Failure;
use super::args::DiffArgs;
use super::common::{describe, known, open_index, query_history};
use super::render::Render;

pub fn run(
    d: &DiffArgs,
    path: &Path,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let mut index = open_index(path)?;
    let (f, h) = query_history(path, &mut index, &d.scope)?;
    let from = At {
        as_of: Some(d.from),
        known: known(
            &index,
            d.from_known_at.or(d.known_at),
            "--from-known-at",
            now,
        )?,
    };
    let to = At {
        as_of: Some(d.to),
        known: known(&index, d.to_known_at.or(d.known_at), "--to-known-at", now)?,
    };
    let when = format!(
        "from {} to {}",
        describe(&index, from),
        describe(&index, to)
    );
    Render::new(d.format).diff(out, &h, &when, || h.diff_iter(from, to, &f))?;
    Ok(())
}
