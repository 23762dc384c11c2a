//! The rows every output format is made from: one typed row per answer line, built from the
//! history and a query's answer. JSON and NDJSON serialize these rows as they are (nested
//! objects for `role`, `cite`, `before`/`after`); CSV and Parquet write the columns of
//! [`super::columns`], which flatten them. `docs/output.md` documents both.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use crate::core::{
    ActorEntry, ActorId, Change, Cite, CiteView, Day, Event, EventBody, History, Position,
    PositionView, Precision, Status, TimeOfDay, TimelineDecided, TimelineEntry, TopicEntry,
    TopicId, ValidDate,
};
use crate::store::{Record, format_recorded_at};

use super::OUTPUT_VERSION;

/// A recorded time as its JSON text (RFC 3339, UTC).
pub(super) fn utc<S: Serializer>(t: &jiff::Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_recorded_at(t))
}

/// A day as its JSON text (`YYYY-MM-DD`).
pub(super) fn day<S: Serializer>(d: &Day, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

fn opt_day<S: Serializer>(d: &Option<Day>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.collect_str(d),
        None => s.serialize_none(),
    }
}

/// `day`, `month` or `year`: how much of a date the source gave.
pub fn precision_name(p: Precision) -> &'static str {
    match p {
        Precision::Day => "day",
        Precision::Month => "month",
        Precision::Year => "year",
    }
}

/// The UN roll-call id of a topic imported from the UN votes data (`unvotes-rcid-<rcid>`, see
/// `events/README.md`); `None` for any other topic.
pub fn rcid(topic: &str) -> Option<u64> {
    topic.strip_prefix("unvotes-rcid-")?.parse().ok()
}

/// Where a stance was reported (`cite` in the log format).
#[derive(Debug, Clone, Serialize)]
pub struct CiteRow {
    /// The outlet, agency, record or data set.
    pub publication: String,
    /// Address of the report.
    pub url: Option<String>,
    /// Title or headline.
    pub title: Option<String>,
    /// Publication date as given (`YYYY-MM-DD`, `YYYY-MM` or `YYYY`).
    pub published: Option<String>,
    /// The outlet the report relays.
    pub via: Option<String>,
}

impl CiteRow {
    fn new(c: &Cite) -> CiteRow {
        CiteRow {
            publication: c.publication.clone(),
            url: c.url.clone(),
            title: c.title.clone(),
            published: c.published.map(|d| d.to_string()),
            via: c.via.clone(),
        }
    }
}

/// One report of a statement: the original (first) or a further one (`stance.cited`).
#[derive(Debug, Clone, Serialize)]
pub struct SourceRow {
    /// Seq of the reporting event.
    pub seq: u64,
    /// Its quote.
    pub quote: Option<String>,
    /// Its citation, flattened into this object.
    #[serde(flatten)]
    pub cite: CiteRow,
}

/// A correction applied to a stance.
#[derive(Debug, Clone, Serialize)]
pub struct CorrectionRow {
    /// Seq of the `stance.corrected` event.
    pub seq: u64,
    /// The fields it replaced, in format order.
    pub fields: Vec<&'static str>,
    /// Why.
    pub reason: String,
    /// When it was recorded (UTC).
    #[serde(serialize_with = "utc")]
    pub recorded_at: jiff::Timestamp,
}

/// The role an actor held on the as-of day.
#[derive(Debug, Clone, Serialize)]
pub struct RoleRow {
    /// Title.
    pub title: String,
    /// Organisation.
    pub organisation: Option<String>,
    /// First day, as given.
    pub from: String,
    /// Last day, as given; `None` while it lasts.
    pub to: Option<String>,
}

/// One position (also the body of a timeline entry and each side of a change).
#[derive(Debug, Clone, Serialize)]
pub struct PositionRow {
    /// Version of the documented output columns (`docs/output.md`); left out of the positions
    /// nested in a change (the change carries it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_version: Option<u32>,
    /// Actor id the position is reported under.
    pub actor: String,
    /// Its display name.
    pub actor_name: String,
    /// Role held on the as-of day.
    pub role: Option<RoleRow>,
    /// Topic id.
    pub topic: String,
    /// Topic title.
    pub topic_title: String,
    /// UN roll-call id of the topic, if it is one.
    pub rcid: Option<u64>,
    /// The stance.
    pub stance: &'static str,
    /// -1, 0 or +1.
    pub polarity: i8,
    /// The stated date as given, with its time of day if stated.
    pub since: String,
    /// First day the stance takes effect.
    #[serde(serialize_with = "day")]
    pub since_date: Day,
    /// `day`, `month` or `year`.
    pub since_precision: &'static str,
    /// The stated time of day with its offset or zone, if any.
    pub since_time: Option<String>,
    /// PLOVER event type.
    pub event: Option<&'static str>,
    /// Treaty instrument.
    pub instrument: Option<&'static str>,
    /// Recipient actor id.
    pub recipient: Option<String>,
    /// Quote.
    pub quote: Option<String>,
    /// Citation.
    pub cite: CiteRow,
    /// Every report, the original first.
    pub sources: Vec<SourceRow>,
    /// Corrections applied.
    pub corrections: Vec<CorrectionRow>,
    /// The actor id the stance was declared under, when reported under an alias link.
    pub declared_as: Option<String>,
    /// Seq of the deciding `stance.declared`.
    pub seq: u64,
    /// Its event id.
    pub event_id: String,
    /// Its recorded time (UTC).
    #[serde(serialize_with = "utc")]
    pub recorded_at: jiff::Timestamp,
}

/// An event id as text (hyphenated, lower case), written without the formatting machinery
/// (`to_string` through `Display` was a few percent of writing a long answer's rows).
fn uuid_text(id: &uuid::Uuid) -> String {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    id.hyphenated().encode_lower(&mut buf).to_owned()
}

fn actor_name(h: &History, actor: &ActorId) -> String {
    h.actor(actor).map_or_else(String::new, |a| a.name.clone())
}

fn topic_title(h: &History, topic: &TopicId) -> String {
    h.topic(topic).map_or_else(String::new, |t| t.title.clone())
}

impl CiteRow {
    /// [`CiteRow::new`] of a borrowed citation.
    fn view(c: &CiteView<'_>) -> CiteRow {
        CiteRow {
            publication: c.publication.to_owned(),
            url: c.url.map(str::to_owned),
            title: c.title.map(str::to_owned),
            published: c.published.map(|d| d.to_string()),
            via: c.via.map(str::to_owned),
        }
    }

    /// The row of a citation no column reads (empty: no copies made).
    fn empty() -> CiteRow {
        CiteRow {
            publication: String::new(),
            url: None,
            title: None,
            published: None,
            via: None,
        }
    }
}

impl PositionRow {
    /// The row of a position.
    pub fn new(h: &History, p: &Position<'_>) -> PositionRow {
        PositionRow::of(h, p.clone())
    }

    /// [`PositionRow::new`] taking the position.
    pub fn of(h: &History, p: Position<'_>) -> PositionRow {
        PositionRow::of_needing(h, p, Needs::ALL)
    }

    /// [`PositionRow::of`] for columns that need only `needs`: the actor's name and topic's
    /// title are looked up only when `needs.names` ([`PositionRow::needing`]).
    pub fn of_needing(h: &History, p: Position<'_>, needs: Needs) -> PositionRow {
        let (actor, topic) = if needs.names {
            (actor_name(h, &p.actor), topic_title(h, &p.stance.topic))
        } else {
            (String::new(), String::new())
        };
        PositionRow::needing(PositionView::of(&p), actor, topic, needs)
    }

    /// The row of a position borrowed from the history ([`History::position_view`]), with its
    /// actor's name and topic's title given (by [`History::names`], without looking the ids
    /// up; empty where `needs.names` is not set), for columns that need only `needs`: without
    /// `needs.texts` the quote and citation are left empty, without `needs.sources` the list
    /// of sources (their copies not made).
    pub fn needing(
        p: PositionView<'_>,
        actor_name: String,
        topic_title: String,
        needs: Needs,
    ) -> PositionRow {
        let s = p.stance;
        let (quote, cite) = if needs.texts || needs.sources {
            (s.quote.map(str::to_owned), CiteRow::view(&s.cite))
        } else {
            (None, CiteRow::empty())
        };
        let mut sources = Vec::new();
        if needs.sources {
            sources.push(SourceRow {
                seq: p.event.seq,
                quote: quote.clone(),
                cite: cite.clone(),
            });
            sources.extend(p.citations.iter().filter_map(|c| match &c.body {
                EventBody::StanceCited(x) => Some(SourceRow {
                    seq: c.seq,
                    quote: x.quote.clone(),
                    cite: CiteRow::new(&x.cite),
                }),
                _ => None,
            }));
        }
        let corrections = p
            .corrections
            .iter()
            .filter_map(|c| match &c.body {
                EventBody::StanceCorrected(x) => Some(CorrectionRow {
                    seq: c.seq,
                    fields: x.correction.fields(),
                    reason: x.reason.clone(),
                    recorded_at: c.recorded_at,
                }),
                _ => None,
            })
            .collect();
        PositionRow {
            output_version: Some(OUTPUT_VERSION),
            actor: p.actor.as_str().to_owned(),
            actor_name,
            role: p.role.map(|r| RoleRow {
                title: r.title.clone(),
                organisation: r.organisation.clone(),
                from: r.from.to_string(),
                to: r.to.map(|d| d.to_string()),
            }),
            topic: s.topic.as_str().to_owned(),
            topic_title,
            rcid: rcid(s.topic.as_str()),
            stance: s.stance.as_str(),
            polarity: s.stance.polarity(),
            since: since_text(s.date, s.time.as_ref()),
            since_date: s.date.start(),
            since_precision: precision_name(s.date.precision()),
            since_time: s.time.as_ref().map(|t| t.as_str().to_string()),
            event: s.event.map(|e| e.as_str()),
            instrument: s.instrument.map(|i| i.as_str()),
            recipient: s.recipient.map(|r| r.as_str().to_owned()),
            quote,
            cite,
            sources,
            corrections,
            declared_as: (s.actor.as_str() != p.actor.as_str())
                .then(|| s.actor.as_str().to_owned()),
            seq: p.event.seq,
            event_id: uuid_text(&p.event.id),
            recorded_at: p.event.recorded_at,
        }
    }
}

/// A stated date as given, with its time of day if stated (`2024-10-21T09:30+09:00`), written
/// without the formatting machinery (`Display` was a fortieth of a query of every pair).
fn since_text(date: ValidDate, time: Option<&TimeOfDay>) -> String {
    let mut b = Vec::with_capacity(10 + time.map_or(0, |t| 1 + t.as_str().len()));
    date.write_to(&mut b);
    if let Some(t) = time {
        b.push(b'T');
        b.extend_from_slice(t.as_str().as_bytes());
    }
    String::from_utf8(b).unwrap_or_default()
}

/// The parts of a position row that some columns (`--columns`) read beyond its plain
/// fields: the actor's name and the topic's title, and the list of sources. A row built
/// without a part leaves it empty (`""`, no sources), so texts no column reads are not copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// `actor_name` and `topic_title`.
    pub names: bool,
    /// `sources` (every `sources_*` column).
    pub sources: bool,
    /// The quote and the citation (`quote`, every `cite_*` column; the first source holds
    /// them too, so `sources` reads them as well).
    pub texts: bool,
}

impl Needs {
    /// Every part: the rows of every column.
    pub const ALL: Needs = Needs {
        names: true,
        sources: true,
        texts: true,
    };

    /// What columns of these flat names (a diff's `before_` and `after_` ones too) read.
    pub fn of<'a>(columns: impl Iterator<Item = &'a str>) -> Needs {
        let mut needs = Needs {
            names: false,
            sources: false,
            texts: false,
        };
        for c in columns {
            let c = c
                .strip_prefix("before_")
                .or_else(|| c.strip_prefix("after_"))
                .unwrap_or(c);
            needs.names |= c == "actor_name" || c == "topic_title";
            needs.sources |= c.starts_with("sources_");
            needs.texts |= c == "quote" || c.starts_with("cite_");
        }
        needs
    }

    /// `name` as the row's text when the names are needed, else empty (no copy).
    pub fn name(&self, name: &str) -> String {
        if self.names {
            name.to_owned()
        } else {
            String::new()
        }
    }
}

/// One change between two points.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    /// Version of the documented output columns.
    pub output_version: u32,
    /// Actor id.
    pub actor: String,
    /// Its display name.
    pub actor_name: String,
    /// Topic id.
    pub topic: String,
    /// Topic title.
    pub topic_title: String,
    /// UN roll-call id of the topic, if it is one.
    pub rcid: Option<u64>,
    /// `added`, `changed` or `removed`.
    pub change: &'static str,
    /// The position at the first point.
    pub before: Option<PositionRow>,
    /// The position at the second point.
    pub after: Option<PositionRow>,
}

impl ChangeRow {
    /// The row of a change.
    pub fn new(h: &History, c: &Change<'_>) -> ChangeRow {
        ChangeRow::of(h, c.clone())
    }

    /// [`ChangeRow::new`] taking the change: its positions are moved into the rows, not
    /// copied.
    pub fn of(h: &History, c: Change<'_>) -> ChangeRow {
        ChangeRow::needing(h, c, Needs::ALL)
    }

    /// [`ChangeRow::of`] for columns that need only `needs` (of the row and of its before and
    /// after positions alike: [`PositionRow::of_needing`]).
    pub fn needing(h: &History, c: Change<'_>, needs: Needs) -> ChangeRow {
        let (actor, topic) = if needs.names {
            (actor_name(h, &c.actor), topic_title(h, &c.topic))
        } else {
            (String::new(), String::new())
        };
        ChangeRow {
            output_version: OUTPUT_VERSION,
            actor: c.actor.as_str().to_owned(),
            actor_name: actor,
            topic: c.topic.as_str().to_owned(),
            topic_title: topic,
            rcid: rcid(c.topic.as_str()),
            change: c.kind.as_str(),
            before: c
                .before
                .map(|p| nested(PositionRow::of_needing(h, p, needs))),
            after: c
                .after
                .map(|p| nested(PositionRow::of_needing(h, p, needs))),
        }
    }
}

fn nested(p: PositionRow) -> PositionRow {
    PositionRow {
        output_version: None,
        ..p
    }
}

/// One timeline entry: a position with its status.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineRow {
    /// `current`, `superseded` or `retracted`.
    pub status: &'static str,
    /// Seq of the stance that superseded it.
    pub superseded_by: Option<u64>,
    /// Seq of the retraction.
    pub retracted_by: Option<u64>,
    /// The retraction's reason.
    pub retraction_reason: Option<String>,
    /// The stance, flattened into this object.
    #[serde(flatten)]
    pub position: PositionRow,
}

impl TimelineRow {
    /// The row of a timeline entry.
    pub fn new(h: &History, e: &TimelineEntry<'_>) -> TimelineRow {
        TimelineRow::of(h, e.clone())
    }

    /// [`TimelineRow::new`] taking the entry: its position is moved into the row, not copied.
    pub fn of(h: &History, e: TimelineEntry<'_>) -> TimelineRow {
        TimelineRow::with_status(h, e.status, PositionRow::of(h, e.position))
    }

    /// The row of a timeline entry decided by `h` ([`History::timeline_decided`]), its
    /// position borrowed from the history ([`History::position_view`]) with the names given by
    /// symbol ([`History::names`]), as [`PositionRow::needing`] builds a row of positions:
    /// the same row as [`TimelineRow::of`] of the built entry (with only the columns `needs`
    /// names filled), without copying the stance first. `None` where `h` builds no position
    /// for it (never, for one it decided).
    pub fn decided(h: &History, t: &TimelineDecided, needs: Needs) -> Option<TimelineRow> {
        let (actor, topic) = if needs.names {
            h.names(&t.decided)
        } else {
            ("", "")
        };
        let (actor, topic) = (needs.name(actor), needs.name(topic));
        let p = h.position_view(&t.decided)?;
        let position = PositionRow::needing(p, actor, topic, needs);
        Some(TimelineRow::with_status(h, t.status, position))
    }

    fn with_status(h: &History, status: Status, position: PositionRow) -> TimelineRow {
        let (superseded_by, retracted_by) = match status {
            Status::Current => (None, None),
            Status::Superseded { by } => (Some(by), None),
            Status::Retracted { by } => (None, Some(by)),
        };
        let retraction_reason = retracted_by.and_then(|seq| match h.event(seq)?.body {
            EventBody::StanceRetracted(r) => Some(r.reason),
            _ => None,
        });
        TimelineRow {
            status: status.as_str(),
            superseded_by,
            retracted_by,
            retraction_reason,
            position,
        }
    }
}

/// One registered actor.
#[derive(Debug, Clone, Serialize)]
pub struct ActorRow {
    /// Version of the documented output columns.
    pub output_version: u32,
    /// Id.
    pub actor: String,
    /// Display name.
    pub name: String,
    /// Kind.
    pub kind: &'static str,
    /// ISO 3166 alpha-3 (or IGO / NGO).
    pub country: String,
    /// Sector code.
    pub sector: &'static str,
    /// Other names.
    pub aliases: Vec<String>,
    /// Stances declared (retracted ones included).
    pub stances: u64,
    /// Of which retracted.
    pub retracted: u64,
    /// Seq of the registration.
    pub seq: u64,
}

/// One registered topic.
#[derive(Debug, Clone, Serialize)]
pub struct TopicRow {
    /// Version of the documented output columns.
    pub output_version: u32,
    /// Id.
    pub topic: String,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: &'static str,
    /// Resolution code (vote topics).
    pub resolution: Option<String>,
    /// UN General Assembly session (vote topics).
    pub session: Option<u32>,
    /// Issue tags.
    pub issues: Vec<String>,
    /// Important vote (vote topics).
    pub important: Option<bool>,
    /// UN roll-call id, if it is one.
    pub rcid: Option<u64>,
    /// Stances on it (retracted ones included).
    pub stances: u64,
    /// Of which retracted.
    pub retracted: u64,
    /// Seq of the registration.
    pub seq: u64,
}

/// Every registered actor, in the order tables show them: by name, then id.
pub fn actor_rows(h: &History) -> Vec<ActorRow> {
    actor_rows_counted(h, h.actors())
}

/// [`actor_rows`] with the counts given (a projection index's, whose sparse history `h` holds
/// the registrations but not every stance).
pub fn actor_rows_counted(h: &History, actors: BTreeMap<ActorId, ActorEntry>) -> Vec<ActorRow> {
    let mut rows: Vec<ActorRow> = actors
        .into_iter()
        .filter_map(|(id, entry)| {
            let a = h.actor(&id)?;
            Some(ActorRow {
                output_version: OUTPUT_VERSION,
                actor: id.to_string(),
                name: a.name.clone(),
                kind: a.kind.as_str(),
                country: a.country.as_str().to_string(),
                sector: a.sector.as_str(),
                aliases: a.aliases.clone(),
                stances: entry.stances,
                retracted: entry.retracted,
                seq: entry.seq,
            })
        })
        .collect();
    rows.sort_by(|a, b| (&a.name, &a.actor).cmp(&(&b.name, &b.actor)));
    rows
}

/// Every registered topic, by title, then id.
pub fn topic_rows(h: &History) -> Vec<TopicRow> {
    topic_rows_counted(h, h.topics())
}

/// [`topic_rows`] with the counts given (see [`actor_rows_counted`]).
pub fn topic_rows_counted(h: &History, topics: BTreeMap<TopicId, TopicEntry>) -> Vec<TopicRow> {
    let mut rows: Vec<TopicRow> = topics
        .into_iter()
        .filter_map(|(id, entry)| {
            let t = h.topic(&id)?;
            Some(TopicRow {
                output_version: OUTPUT_VERSION,
                rcid: rcid(id.as_str()),
                topic: id.to_string(),
                title: t.title.clone(),
                kind: t.kind.as_str(),
                resolution: t.resolution.clone(),
                session: t.session,
                issues: t.issues.clone(),
                important: t.important,
                stances: entry.stances,
                retracted: entry.retracted,
                seq: entry.seq,
            })
        })
        .collect();
    rows.sort_by(|a, b| (&a.title, &a.topic).cmp(&(&b.title, &b.topic)));
    rows
}

/// One stored event, every field of the log format flattened (`cite.url` is `cite_url`), with
/// the valid date also as a full date and its precision.
#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    /// Version of the documented output columns.
    pub output_version: u32,
    /// Seq.
    pub seq: u64,
    /// Event id.
    pub id: String,
    /// Recorded time (UTC).
    #[serde(serialize_with = "utc")]
    pub recorded_at: jiff::Timestamp,
    /// Event type.
    #[serde(rename = "type")]
    pub type_name: &'static str,
    /// The record's fields (absent ones `None`).
    #[serde(flatten)]
    pub fields: EventFields,
}

/// The fields of an [`EventRow`] that depend on its type.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EventFields {
    /// Actor id.
    pub actor: Option<String>,
    /// Alias id (`actor.aliased`).
    pub alias: Option<String>,
    /// Other names (`actor.registered`).
    pub aliases: Vec<String>,
    /// Topic id.
    pub topic: Option<String>,
    /// UN roll-call id of the topic, if it is one.
    pub rcid: Option<u64>,
    /// Name (`actor.registered`).
    pub name: Option<String>,
    /// Title (`topic.registered`, `actor.role`).
    pub title: Option<String>,
    /// Actor or topic kind.
    pub kind: Option<String>,
    /// Country code.
    pub country: Option<String>,
    /// Sector code.
    pub sector: Option<String>,
    /// Resolution code.
    pub resolution: Option<String>,
    /// Session.
    pub session: Option<u32>,
    /// Issue tags.
    pub issues: Vec<String>,
    /// Important vote.
    pub important: Option<bool>,
    /// Stance.
    pub stance: Option<String>,
    /// Valid date as given (with its time, if stated).
    pub date: Option<String>,
    /// First day of `date`.
    #[serde(serialize_with = "opt_day")]
    pub date_day: Option<Day>,
    /// Precision of `date`.
    pub date_precision: Option<&'static str>,
    /// PLOVER event type.
    pub event: Option<String>,
    /// Recipient actor id.
    pub recipient: Option<String>,
    /// Quote.
    pub quote: Option<String>,
    /// Treaty instrument.
    pub instrument: Option<String>,
    /// `cite.publication`.
    pub cite_publication: Option<String>,
    /// `cite.url`.
    pub cite_url: Option<String>,
    /// `cite.title`.
    pub cite_title: Option<String>,
    /// `cite.published`.
    pub cite_published: Option<String>,
    /// `cite.via`.
    pub cite_via: Option<String>,
    /// Target event id (retractions, corrections, citations).
    pub target: Option<String>,
    /// Reason (retractions, corrections).
    pub reason: Option<String>,
    /// Organisation (`actor.role`).
    pub organisation: Option<String>,
    /// First day of a role, as given.
    pub from: Option<String>,
    /// Last day of a role, as given.
    pub to: Option<String>,
}

impl EventRow {
    /// The row of a stored event.
    pub fn new(e: &Event) -> EventRow {
        let r = Record::from_body(&e.body);
        let stated = r
            .date
            .as_deref()
            .and_then(|d| crate::core::parse_stated(d).ok())
            .map(|(d, _): (ValidDate, _)| d);
        let cite = r.cite.clone();
        EventRow {
            output_version: OUTPUT_VERSION,
            seq: e.seq,
            id: e.id.hyphenated().to_string(),
            recorded_at: e.recorded_at,
            type_name: e.body.type_name(),
            fields: EventFields {
                rcid: r.topic.as_deref().and_then(rcid),
                actor: r.actor,
                alias: r.alias,
                aliases: r.aliases.unwrap_or_default(),
                topic: r.topic,
                name: r.name,
                title: r.title,
                kind: r.kind,
                country: r.country,
                sector: r.sector,
                resolution: r.resolution,
                session: r.session,
                issues: r.issues.unwrap_or_default(),
                important: r.important,
                stance: r.stance,
                date: r.date,
                date_day: stated.map(|d| d.start()),
                date_precision: stated.map(|d| precision_name(d.precision())),
                event: r.event,
                recipient: r.recipient,
                quote: r.quote,
                instrument: r.instrument,
                cite_publication: cite.as_ref().map(|c| c.publication.clone()),
                cite_url: cite.as_ref().and_then(|c| c.url.clone()),
                cite_title: cite.as_ref().and_then(|c| c.title.clone()),
                cite_published: cite.as_ref().and_then(|c| c.published.clone()),
                cite_via: cite.and_then(|c| c.via),
                target: r.target,
                reason: r.reason,
                organisation: r.organisation,
                from: r.from,
                to: r.to,
            },
        }
    }
}
