//! `stancelog add actor|topic|stance`: record an event from flags, without writing JSON.
//!
//! Each builds the event's record and hands it to [`common::record_one`], the same path as
//! `append`. `add stance --from-editor` (or `stancelog new`) fills the same fields from a
//! template in `$EDITOR` (see [`super::editor`]).

use std::io::Write;

use stancelog::store::LogRef;

use clap::Subcommand;

use stancelog::Error;
use stancelog::store::Record;

use super::Failure;
use super::args::{CiteFlags, WriteArgs};
use super::common::{self, Lookup, flag_of};
use super::editor;

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    #[command(subcommand)]
    pub kind: AddKind,
}

#[derive(Debug, Subcommand)]
pub enum AddKind {
    /// Register an actor (`actor.registered`).
    Actor(ActorArgs),
    /// Register a topic (`topic.registered`).
    Topic(TopicArgs),
    /// Record a stance (`stance.declared`). `--actor`, `--topic` and `--recipient` take an id,
    /// or a name (a topic's title) or alias of exactly one actor or topic.
    Stance(Box<StanceArgs>),
}

#[derive(Debug, clap::Args)]
pub struct ActorArgs {
    /// The actor's id: 1 to 128 bytes, no white space (e.g. `kim-yong-hyun`, `KOR`).
    #[arg(value_name = "ID")]
    pub id: String,
    /// Display name.
    #[arg(long, value_name = "TEXT")]
    pub name: String,
    /// person, state, government, agency, legislature, military, party, organization, media.
    #[arg(long, value_name = "KIND")]
    pub kind: String,
    /// ISO 3166-1 alpha-3 code (`KOR`), a former ISO 3166-3 code, or IGO / NGO.
    #[arg(long, value_name = "CODE")]
    pub country: String,
    /// CAMEO actor role code (GOV, LEG, MIL, SPY, JUD, COP, OPP, PTY, REB, BUS, MED, CVL, ELI,
    /// EDU, LAB, REL, REF, HRI, IGO, NGO).
    #[arg(long, value_name = "CODE")]
    pub sector: String,
    /// Another spelling or transliteration of the name (repeatable).
    #[arg(long = "alias", value_name = "TEXT")]
    pub aliases: Vec<String>,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, clap::Args)]
pub struct TopicArgs {
    /// The topic's id: 1 to 128 bytes, no white space (e.g. `dprk-troops-in-russia`).
    #[arg(value_name = "ID")]
    pub id: String,
    /// The policy or claim in words.
    #[arg(long, value_name = "TEXT")]
    pub title: String,
    /// policy, claim, vote or treaty.
    #[arg(long, value_name = "KIND")]
    pub kind: String,
    /// An issue tag, e.g. `nu` (repeatable).
    #[arg(long = "issue", value_name = "TAG")]
    pub issues: Vec<String>,
    /// Vote topics: the resolution code, e.g. `A/RES/46/36`.
    #[arg(long, value_name = "CODE")]
    pub resolution: Option<String>,
    /// Vote topics: the UN General Assembly session.
    #[arg(long, value_name = "N")]
    pub session: Option<u32>,
    /// Vote topics: an important vote (US State Department).
    #[arg(long)]
    pub important: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

/// The fields of a stance, from flags or from the editor's template. All optional here: what
/// a `stance.declared` requires is checked on the append path, as for `append`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StanceFields {
    /// Who: an actor id, name or alias.
    #[arg(long, value_name = "ACTOR")]
    pub actor: Option<String>,
    /// On what: a topic id or title.
    #[arg(long, value_name = "TOPIC")]
    pub topic: Option<String>,
    /// The stance: support, oppose, neutral, abstain, affirm, deny, doubt, yes, no, signed,
    /// ratified, withdrawn (it must fit the topic's kind).
    #[arg(long, value_name = "STANCE")]
    pub stance: Option<String>,
    /// When it was stated: YYYY-MM-DD, or YYYY-MM / YYYY when the source gives no more.
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// The verbatim quote.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub quote: Option<String>,
    /// PLOVER event type (agree, consult, support, ..., accuse, reject, threaten, ...).
    #[arg(long, value_name = "TYPE")]
    pub event: Option<String>,
    /// The actor it was addressed to or aimed at: an id, name or alias.
    #[arg(long, value_name = "ACTOR")]
    pub recipient: Option<String>,
    /// Stance `ratified` only: ratification, acceptance, approval or accession.
    #[arg(long, value_name = "KIND")]
    pub instrument: Option<String>,
    #[command(flatten)]
    pub cite: CiteFlags,
}

/// `stancelog new`: `add stance --from-editor` under a short name, with the same flags.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    #[command(flatten)]
    pub fields: StanceFields,
    /// The event's id (a UUID), so that a retry after a crash is not stored twice.
    #[arg(long, value_name = "UUID")]
    pub id: Option<String>,
    /// Open this file (the text kept from a refused try) instead of a fresh template.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, clap::Args)]
pub struct StanceArgs {
    #[command(flatten)]
    pub fields: StanceFields,
    /// The event's id (a UUID), so that a retry after a crash is not stored twice.
    #[arg(long, value_name = "UUID")]
    pub id: Option<String>,
    /// Open $VISUAL or $EDITOR (else vi) on a commented template, prefilled with the flags
    /// given, and record what is saved. Bad text is refused with the error and kept in a file.
    #[arg(long)]
    pub from_editor: bool,
    /// With --from-editor: open this file (the text kept from a refused try) instead of a
    /// fresh template.
    #[arg(long, value_name = "FILE", requires = "from_editor")]
    pub resume: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn run(
    a: &AddArgs,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    match &a.kind {
        AddKind::Actor(x) => common::record_one(&x.write, target, now, out, &flag_of, &|_| {
            Ok(actor_record(x))
        }),
        AddKind::Topic(x) => common::record_one(&x.write, target, now, out, &flag_of, &|_| {
            Ok(topic_record(x))
        }),
        AddKind::Stance(x) if x.from_editor => {
            let edit = editor::Edit {
                fields: &x.fields,
                id: x.id.as_deref(),
                resume: x.resume.as_deref(),
                write: &x.write,
            };
            editor::run(&edit, target, now, out)
        }
        AddKind::Stance(x) => common::record_one(&x.write, target, now, out, &flag_of, &|h| {
            stance_record(h, &x.fields, x.id.as_deref(), "stance.declared")
        }),
    }
}

/// `stancelog new`: runs `add stance --from-editor` with the flags given.
pub fn new(
    x: &NewArgs,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let edit = editor::Edit {
        fields: &x.fields,
        id: x.id.as_deref(),
        resume: x.resume.as_deref(),
        write: &x.write,
    };
    editor::run(&edit, target, now, out)
}

fn actor_record(x: &ActorArgs) -> Record {
    Record {
        type_name: "actor.registered".to_string(),
        actor: Some(x.id.clone()),
        name: Some(x.name.clone()),
        kind: Some(x.kind.clone()),
        country: Some(x.country.clone()),
        sector: Some(x.sector.clone()),
        aliases: (!x.aliases.is_empty()).then(|| x.aliases.clone()),
        ..Record::default()
    }
}

fn topic_record(x: &TopicArgs) -> Record {
    Record {
        type_name: "topic.registered".to_string(),
        topic: Some(x.id.clone()),
        title: Some(x.title.clone()),
        kind: Some(x.kind.clone()),
        issues: (!x.issues.is_empty()).then(|| x.issues.clone()),
        resolution: x.resolution.clone(),
        session: x.session,
        important: x.important.then_some(true),
        ..Record::default()
    }
}

/// The record of a stance (`stance.declared`) or of its correction (`stance.corrected`, whose
/// `target` and `reason` the caller adds), with actor, topic and recipient resolved from
/// names against `h` (the log or its index). Absent fields stay absent; the append path says
/// which are required.
///
/// # Errors
/// [`Error::Usage`] for an actor, topic or recipient that is unknown or ambiguous;
/// [`Error::Io`] for damage found in the index.
pub fn stance_record(
    h: &Lookup,
    f: &StanceFields,
    id: Option<&str>,
    type_name: &str,
) -> Result<Record, Error> {
    let actor = |text: &Option<String>, flag: &str| {
        text.as_deref()
            .map(|t| h.actor(t, flag).map(|a| a.to_string()))
            .transpose()
    };
    Ok(Record {
        type_name: type_name.to_string(),
        id: id.map(str::to_string),
        actor: actor(&f.actor, "--actor")?,
        topic: f
            .topic
            .as_deref()
            .map(|t| h.topic(t).map(|t| t.to_string()))
            .transpose()?,
        stance: f.stance.clone(),
        date: f.date.clone(),
        quote: f.quote.clone(),
        event: f.event.clone(),
        recipient: actor(&f.recipient, "--recipient")?,
        instrument: f.instrument.clone(),
        cite: f.cite.record(),
        ..Record::default()
    })
}
