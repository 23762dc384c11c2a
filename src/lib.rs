//! stancelog: an append-only, event-sourced log of attributed public stances.
//!
//! - [`core`]: the pure domain, fold, replay, diff and timeline (no I/O, no serde, no clock).
//! - [`store`]: the JSON Lines log on disk.
//! - [`export`]: query answers as typed rows and their NDJSON, CSV and Parquet files.
//! - [`import`]: importers of real data sets (UN votes, treaty status, spreadsheets).
//! - [`report`]: the self-contained HTML report (inline SVG charts and their tables).
//! - [`error`]: the one error type.
//! - [`allocator`]: tuning of the allocator the binary runs on.
//!
//! See `ARCHITECTURE.md` for the semantics and `events/README.md` for the log format.

#![warn(missing_docs)]

pub mod allocator;
pub mod core;
pub mod error;
pub mod export;
pub mod import;
pub mod report;
pub mod store;

pub use error::{Error, ErrorKind, Location, Result};
