//! `stancelog timeline`: every stance in date order, with its status.

use stancelog::store::LogRef;
use std::io::Write;

use chrono::{DateTime, Utc};

use super::Failure;
use super::args::TimelineArgs;
use super::common::{filter, known, open};
use super::render::Render;

pub fn run(
    t: &TimelineArgs,
    target: &LogRef,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let log = open(target)?;
    let h = log.history();
    let f = filter(h, &t.scope)?;
    let known = known(h, t.known_at, "--known-at", now)?;
    Render::new(t.format).timeline(out, h, || h.timeline_iter(known, &f))?;
    Ok(())
}
