//! `stancelog import <kind>`: one file per importer, each with its clap arguments and a `run`
//! that calls the library importer in `stancelog::import`.

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
    /// An analyst's own spreadsheet (CSV), mapped by flags.
    Csv(sheet::Args),
}
