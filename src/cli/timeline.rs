//! `stancelog timeline`: every stance in date order, with its status.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use stancelog::Error;
use stancelog::core::{Filter, History, Seq};
use stancelog::store::format_recorded_at;

use super::Failure;
use super::args::{TimelineArgs, TimelineQuery};
use super::common::{filter, known, open};
use super::render::Render;

pub fn run(
    t: &TimelineArgs,
    path: &Path,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let log = open(path)?;
    let h = log.history();
    let (known, f) = query(h, &t.query, now)?;
    // The cutoff used, as `positions` and `diff` give it in their headings.
    let when = match known {
        Some(seq) => match h.event(seq) {
            Some(e) => format!(
                " as recorded by seq {seq} ({})",
                format_recorded_at(&e.recorded_at)
            ),
            None => " as recorded before the first event".to_string(),
        },
        None => String::new(),
    };
    Render::new(t.format).timeline(out, h, &when, || h.timeline_iter(known, &f))?;
    Ok(())
}

/// The cutoff and filter the flags ask for (shared with `export timeline`).
///
/// # Errors
/// Those of [`filter`] and [`known`].
pub fn query(
    h: &History,
    q: &TimelineQuery,
    now: DateTime<Utc>,
) -> Result<(Option<Seq>, Filter), Error> {
    let f = filter(h, &q.scope)?;
    Ok((known(h, q.known_at, "--known-at", now)?, f))
}
