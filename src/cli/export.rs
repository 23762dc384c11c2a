//! `stancelog export positions|diff|timeline|events|actors|topics ... --format
//! parquet|ndjson|csv --out FILE`: a query's answer written to a file for other tools, with the
//! columns of `docs/output.md`.

use std::io::{self, Write};
use std::path::PathBuf;

use stancelog::core::History;
use stancelog::store::{Index, LogRef};

use clap::{Subcommand, ValueEnum};
use serde::Serialize;

use stancelog::Error;
use stancelog::export::columns::{self, Column};
use stancelog::export::json::Flat;
use stancelog::export::rows::{self, ChangeRow, EventRow, PositionRow, TimelineRow};
use stancelog::export::{self, OUTPUT_VERSION};

use super::Failure;
use super::args::Scope;
use super::args::{DiffQuery, KnownAt, PositionsQuery, TimelineQuery};
use super::common::{known, open, open_index, read_index, refuse_log_as_output, registry};
use super::out_file::{Written, confirm, write_out};
use super::{diff, positions, timeline};

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub what: ExportWhat,
}

#[derive(Debug, Subcommand)]
pub enum ExportWhat {
    /// Positions as of a date (the flags of `positions`).
    Positions {
        #[command(flatten)]
        query: PositionsQuery,
        #[command(flatten)]
        to: ExportTo,
    },
    /// Changes between two dates (the flags of `diff`).
    Diff {
        #[command(flatten)]
        query: DiffQuery,
        #[command(flatten)]
        to: ExportTo,
    },
    /// Every stance with its status (the flags of `timeline`).
    Timeline {
        #[command(flatten)]
        query: TimelineQuery,
        #[command(flatten)]
        to: ExportTo,
    },
    /// Every event of the log, each field a column.
    Events {
        /// Only the events recorded by this time (RFC 3339, or YYYY-MM-DD for the end of that
        /// day in UTC).
        #[arg(long, value_name = "TIME", value_parser = super::args::parse_known_at)]
        known_at: Option<KnownAt>,
        #[command(flatten)]
        to: ExportTo,
    },
    /// Registered actors.
    Actors {
        #[command(flatten)]
        to: ExportTo,
    },
    /// Registered topics.
    Topics {
        #[command(flatten)]
        to: ExportTo,
    },
}

/// Where and how to write.
#[derive(Debug, clap::Args)]
pub struct ExportTo {
    /// File format.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// The file to write (replaced if it exists; written whole or not at all); `-` for standard
    /// output.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub pick: super::args::Columns,
}

/// Export file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Apache Parquet, typed columns (DuckDB, pandas/pyarrow, R arrow, Polars, Spark).
    Parquet,
    /// JSON Lines: the objects of `--format json`, one per line.
    Ndjson,
    /// CSV with a header row; the columns of Parquet.
    Csv,
}

impl ExportTo {
    /// The columns to write of `all`: those `--columns` names, else every one.
    ///
    /// # Errors
    /// Those of [`Columns::pick`](super::args::Columns::pick).
    fn columns<R>(&self, all: Vec<Column<R>>) -> Result<Vec<Column<R>>, Error> {
        Ok(match self.pick.columns {
            Some(_) => self.pick.pick(all)?.expect("--columns given"),
            None => all,
        })
    }
}

impl ExportWhat {
    /// Where and how the rows are written.
    fn to(&self) -> &ExportTo {
        match self {
            ExportWhat::Positions { to, .. }
            | ExportWhat::Diff { to, .. }
            | ExportWhat::Timeline { to, .. }
            | ExportWhat::Events { to, .. }
            | ExportWhat::Actors { to }
            | ExportWhat::Topics { to } => to,
        }
    }
}

pub fn run(
    a: &ExportArgs,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let to = a.what.to();
    refuse_log_as_output(&to.out, target)?;
    // Positions, diffs and timelines answer from the projection index, as their commands do;
    // events, actors and topics are of the whole log.
    let (what, (rows, written)) = match &a.what {
        ExportWhat::Positions { query, .. } => {
            let cols = to.columns(columns::positions())?;
            let (mut index, reg) = selection(target, &query.scope)?;
            let (at, f) = positions::query(&reg, &index, query, now)?;
            let h = read_index(target, &mut index, |i| i.history(&f))?;
            let rows = h.positions_iter(at, &f).map(|p| PositionRow::of(&h, p));
            ("positions", write(to, &cols, rows)?)
        }
        ExportWhat::Diff { query, .. } => {
            let cols = to.columns(columns::diff())?;
            let (mut index, reg) = selection(target, &query.scope)?;
            let (from, until, f) = diff::query(&reg, &index, query, now)?;
            let h = read_index(target, &mut index, |i| i.history(&f))?;
            let rows = h.diff_iter(from, until, &f).map(|c| ChangeRow::of(&h, c));
            ("changes", write(to, &cols, rows)?)
        }
        ExportWhat::Timeline { query, .. } => {
            let cols = to.columns(columns::timeline())?;
            let (mut index, reg) = selection(target, &query.scope)?;
            let (cutoff, f) = timeline::query(&reg, &index, query, now)?;
            let h = read_index(target, &mut index, |i| i.history(&f))?;
            let rows = h.timeline_iter(cutoff, &f).map(|e| TimelineRow::of(&h, e));
            ("timeline entries", write(to, &cols, rows)?)
        }
        ExportWhat::Events { known_at, .. } => {
            let cols = to.columns(columns::events())?;
            let log = open(target)?;
            let h = log.history();
            let cutoff = known(h, *known_at, "--known-at", now)?.unwrap_or(u64::MAX);
            let rows = h
                .events()
                .take_while(|e| e.seq <= cutoff)
                .map(|e| EventRow::new(&e));
            ("events", write(to, &cols, rows)?)
        }
        ExportWhat::Actors { .. } => {
            let cols = to.columns(columns::actors())?;
            let rows = rows::actor_rows(open(target)?.history()).into_iter();
            ("actors", write(to, &cols, rows)?)
        }
        ExportWhat::Topics { .. } => {
            let cols = to.columns(columns::topics())?;
            let rows = rows::topic_rows(open(target)?.history()).into_iter();
            ("topics", write(to, &cols, rows)?)
        }
    };
    let format = format!("{:?}", to.format).to_lowercase();
    let line = format!(
        "wrote {rows} {what} to {} ({format}, output version {OUTPUT_VERSION})",
        to.out.display()
    );
    confirm(written, &line, out)?;
    Ok(())
}

/// The projection index of the log and the registry to resolve `scope` in (empty when the
/// scope names nothing).
fn selection(target: &LogRef, scope: &Scope) -> Result<(Index, History), Error> {
    let mut index = open_index(target)?;
    let reg = registry(target, &mut index, scope)?;
    Ok((index, reg))
}

/// Writes the rows to `to.out` whole or not at all ([`write_out`]). Returns the number of rows
/// written and where they went.
fn write<R: Serialize>(
    to: &ExportTo,
    cols: &[Column<R>],
    rows: impl Iterator<Item = R>,
) -> Result<(u64, Written), Failure> {
    let mut count = 0u64;
    let rows = rows.inspect(|_| count += 1);
    let written = write_out(&to.out, |w| match to.format {
        ExportFormat::Parquet => export::write_parquet(w, cols, rows).map_err(io::Error::other),
        ExportFormat::Csv => export::write_csv(w, cols, rows),
        // With --columns, flat objects of just those columns.
        ExportFormat::Ndjson if to.pick.columns.is_some() => {
            export::write_ndjson(w, rows.map(|r| Flat::new(cols, r)))
        }
        ExportFormat::Ndjson => export::write_ndjson(w, rows),
    })?;
    Ok((count, written))
}
