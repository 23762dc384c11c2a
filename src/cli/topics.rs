//! `stancelog topics`: registered topics, with counts of stances on them.

use stancelog::store::LogRef;
use std::io::Write;

use stancelog::export::{columns, rows};

use super::Failure;
use super::args::ListArgs;
use super::common::{open_index, read_index};
use super::render::Render;

pub fn run(l: &ListArgs, target: &LogRef, out: &mut dyn Write) -> Result<(), Failure> {
    let cols = l.pick.pick(columns::topics())?;
    let mut index = open_index(target)?;
    let (registry, counted) = read_index(target, &mut index, |i| Ok((i.registry()?, i.topics()?)))?;
    let rows = rows::topic_rows_counted(&registry, counted);
    Render::new(l.format).topics(out, rows, cols.as_deref())?;
    Ok(())
}
