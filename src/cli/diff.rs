//! `stancelog diff`: what changed between two dates.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use stancelog::Error;
use stancelog::core::{At, Filter, History};

use super::Failure;
use super::args::{DiffArgs, DiffQuery};
use super::common::{describe, filter, known, open};
use super::render::Render;

pub fn run(
    d: &DiffArgs,
    path: &Path,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let log = open(path)?;
    let h = log.history();
    let (from, to, f) = query(h, &d.query, now)?;
    let when = format!("from {} to {}", describe(h, from), describe(h, to));
    Render::new(d.format).diff(out, h, &when, || h.diff_iter(from, to, &f))?;
    Ok(())
}

/// The two points and the filter the flags ask for (shared with `export diff`).
///
/// # Errors
/// [`Error::Usage`] when `--from` is later than `--to` (a diff reads forward in valid time;
/// the same date on both sides with two `--*-known-at` times compares two states of knowledge);
/// those of [`filter`] and [`known`].
pub fn query(h: &History, q: &DiffQuery, now: DateTime<Utc>) -> Result<(At, At, Filter), Error> {
    if q.from > q.to {
        return Err(Error::Usage(format!(
            "--from {} is later than --to {}: a diff reads forward in time; swap them (--from {} --to {})",
            q.from, q.to, q.to, q.from
        )));
    }
    let f = filter(h, &q.scope)?;
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
