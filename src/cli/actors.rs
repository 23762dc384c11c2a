//! `stancelog actors`: registered actors, with counts of their stances.

use stancelog::store::LogRef;
use std::io::Write;

use stancelog::export::{columns, rows};

use super::Failure;
use super::args::ListArgs;
use super::common::{open_index, read_index};
use super::render::Render;

pub fn run(l: &ListArgs, target: &LogRef, out: &mut dyn Write) -> Result<(), Failure> {
    let cols = l.pick.pick(columns::actors())?;
    let mut index = open_index(target)?;
    let (registry, counted) = read_index(target, &mut index, |i| {
        Ok((i.actor_registry()?, i.actors()?))
    })?;
    let rows = rows::actor_rows_counted(&registry, counted);
    Render::new(l.format).actors(out, rows, cols.as_deref())?;
    Ok(())
}
