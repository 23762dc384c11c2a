//! `stancelog retract SEQ|ID --reason ...`: the report behind a stance was withdrawn.

use stancelog::store::LogRef;
use std::io::Write;

use stancelog::store::Record;

use super::Failure;
use super::args::WriteArgs;
use super::common::{self, flag_of};

#[derive(Debug, clap::Args)]
pub struct RetractArgs {
    /// The stance: its seq, or its event id (a UUID).
    #[arg(value_name = "SEQ|ID")]
    pub target: String,
    /// Why the report was withdrawn, in words.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub reason: String,
    /// The event's id (a UUID), so that a retry after a crash is not stored twice.
    #[arg(long, value_name = "UUID")]
    pub id: Option<String>,
    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn run(
    a: &RetractArgs,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    common::record_one(&a.write, target, now, out, &flag_of, &|h| {
        Ok(Record {
            type_name: "stance.retracted".to_string(),
            id: a.id.clone(),
            target: Some(h.target(&a.target)?),
            reason: Some(a.reason.clone()),
            ..Record::default()
        })
    })
}
