//! `stancelog import <kind>`: one file per importer, each with its clap arguments and a `run`
//! that calls the library importer in `stancelog::import`.

pub mod coded;
pub mod sheet;
pub mod treaty;
pub mod unvotes;

use clap::Subcommand;

/// The importers.
#[derive(Debug, Subcommand)]
pub enum ImportKind {
    /// UN General Assembly roll-call votes (Voeten; unvotes.csv, roll_calls.csv, issues.csv).
    Unvotes(unvotes::Args),
    /// A treaty's status table (UN Treaty Collection), or with --snapshots its dated versions.
    TreatyStatus(treaty::Args),
    /// Any table (CSV, TSV): an analyst's sheet, a ratification or membership table, mapped by
    /// flags or a TOML mapping file.
    Csv(sheet::Args),
    /// ICEWS coded event data (tab-separated, with a header).
    Icews(coded::Args),
    /// GDELT 1.0 or 2.0 event files (tab-separated, no header).
    Gdelt(coded::GdeltArgs),
    /// PLOVER / POLECAT event records (tab-separated, with a header).
    Plover(coded::Args),
}
