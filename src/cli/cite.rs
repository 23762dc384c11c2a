//! `stancelog cite SEQ|ID --cite-publication ...`: a further report of a stance in the log.

use stancelog::store::LogRef;
use std::io::Write;

use stancelog::store::Record;

use super::Failure;
use super::args::{CiteFlags, WriteArgs};
use super::common::{self, flag_of};

#[derive(Debug, clap::Args)]
pub struct CiteArgs {
    /// The stance reported again: its seq, or its event id (a UUID).
    #[arg(value_name = "SEQ|ID")]
    pub target: String,
    #[command(flatten)]
    pub cite: CiteFlags,
    /// The further report's quote, verbatim.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub quote: Option<String>,
    /// The event's id (a UUID), so that a retry after a crash is not stored twice.
    #[arg(long, value_name = "UUID")]
    pub id: Option<String>,
    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn run(
    a: &CiteArgs,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    common::record_one(&a.write, target, now, out, &flag_of, &|h| {
        Ok(Record {
            type_name: "stance.cited".to_string(),
            id: a.id.clone(),
            target: Some(h.target(&a.target)?),
            cite: a.cite.record(),
            quote: a.quote.clone(),
            ..Record::default()
        })
    })
}
