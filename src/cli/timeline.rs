//! `stancelog timeline`: every stance in date order, with its status.

use stancelog::store::LogRef;
use std::io::Write;

use stancelog::Error;
use stancelog::core::{Filter, History, Seq};
use stancelog::export::columns;

use super::Failure;
use super::args::{TimelineArgs, TimelineQuery};
use super::common::{Recorded, filter, known, open_index, read_index, recorded_by, registry};
use super::render::Render;

pub fn run(
    t: &TimelineArgs,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let cols = t.pick.pick(columns::timeline())?;
    let mut index = open_index(target)?;
    let reg = registry(target, &mut index, &t.query.scope)?;
    let (known, f) = query(&reg, &index, &t.query, now)?;
    // Columns that read no topic's title need no topic's registration.
    let titles = cols
        .as_deref()
        .is_none_or(|c| c.iter().any(|c| c.name == "topic_title"));
    let h = read_index(target, &mut index, |i| {
        if titles {
            i.query_history(&f)
        } else {
            i.query_history_untitled(&f)
        }
    })?;
    // The cutoff used, as `positions` and `diff` give it in their headings.
    let when = match (known, recorded_by(&index, known)) {
        (_, Some(words)) => format!(" {words}"),
        (Some(_), None) => " as recorded before the first event".to_string(),
        (None, None) => String::new(),
    };
    Render::new(t.format).timeline(out, &h, &when, cols.as_deref(), || {
        h.timeline_decided(known, &f)
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
    q: &TimelineQuery,
    now: jiff::Timestamp,
) -> Result<(Option<Seq>, Filter), Error> {
    let f = filter(reg, &q.scope)?;
    Ok((known(rec, q.known_at, "--known-at", now)?, f))
}
