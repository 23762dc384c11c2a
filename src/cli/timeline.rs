//! `stancelog timeline`: every stance in date order, with its status.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::Failure;
use super::args::TimelineArgs;
use super::common::{known, open_index, query_history};
use super::render::Render;

pub fn run(
    t: &TimelineArgs,
    path: &Path,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let mut index = open_index(path)?;
    let (f, h) = query_history(path, &mut index, &t.scope)?;
    let known = known(&index, t.known_at, "--known-at", now)?;
    Render::new(t.format).timeline(out, &h, || h.timeline_iter(known, &f))?;
    Ok(())
}
