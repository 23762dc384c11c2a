//! `stancelog correct SEQ|ID --FIELD VALUE... --reason ...`: a stance we coded wrong.

use stancelog::store::LogRef;
use std::io::Write;

use super::Failure;
use super::add::{StanceFields, stance_record};
use super::args::WriteArgs;
use super::common::{self, flag_of};

/// The corrected fields replace the target's; `--recipient` is not among them (the log format
/// has no correction of it). A `--cite-...` flag replaces the whole citation.
#[derive(Debug, clap::Args)]
pub struct CorrectArgs {
    /// The stance: its seq, or its event id (a UUID).
    #[arg(value_name = "SEQ|ID")]
    pub target: String,
    #[command(flatten)]
    pub fields: StanceFields,
    /// Why, in words.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub reason: String,
    /// The event's id (a UUID), so that a retry after a crash is not stored twice.
    #[arg(long, value_name = "UUID")]
    pub id: Option<String>,
    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn run(
    a: &CorrectArgs,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    common::record_one(&a.write, target, now, out, &flag_of, &|h| {
        let mut r = stance_record(h, &a.fields, a.id.as_deref(), "stance.corrected")?;
        r.target = Some(h.target(&a.target)?);
        r.reason = Some(a.reason.clone());
        Ok(r)
    })
}
