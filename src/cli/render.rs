//! Rendering answers as aligned tables, JSON arrays or CSV. Output order is the order the core
//! returns (always defined), so the same log gives byte-identical output.

use std::io::{self, Write};

use comfy_table::{LineStyle, Table, TableStyle};
use serde::Serialize;

use stancelog::core::{Change, Cite, Day, History, Position, Status, TimelineEntry};
use stancelog::store::{AppendReport, Log, format_recorded_at};

use super::args::Format;

/// Plain columns with one rule under the header: readable in any terminal and any locale.
const TABLE_STYLE: TableStyle =
    TableStyle::new().header_separator(LineStyle::none().fill('-').junction(' '));

/// Longest text shown in a table cell before it is cut with `…` (JSON and CSV are never cut).
const CELL_CHARS_MAX: usize = 44;

/// Longest source shown in a positions table.
const SOURCE_CHARS_MAX: usize = 28;

pub struct Render {
    format: Format,
}

#[derive(Serialize)]
struct CiteOut<'a> {
    publication: &'a str,
    url: Option<&'a str>,
    title: Option<&'a str>,
    published: Option<String>,
    via: Option<&'a str>,
}

impl<'a> CiteOut<'a> {
    fn new(c: &'a Cite) -> CiteOut<'a> {
        CiteOut {
            publication: &c.publication,
            url: c.url.as_deref(),
            title: c.title.as_deref(),
            published: c.published.map(|d| d.to_string()),
            via: c.via.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct PositionOut<'a> {
    actor: &'a str,
    actor_name: &'a str,
    topic: &'a str,
    topic_title: &'a str,
    stance: &'static str,
    polarity: i8,
    since: String,
    event: Option<&'static str>,
    recipient: Option<&'a str>,
    quote: Option<&'a str>,
    cite: CiteOut<'a>,
    seq: u64,
    event_id: String,
    recorded_at: String,
}

#[derive(Serialize)]
struct ChangeOut<'a> {
    actor: &'a str,
    actor_name: &'a str,
    topic: &'a str,
    topic_title: &'a str,
    change: &'static str,
    before: Option<PositionOut<'a>>,
    after: Option<PositionOut<'a>>,
}

#[derive(Serialize)]
struct TimelineOut<'a> {
    status: &'static str,
    superseded_by: Option<u64>,
    retracted_by: Option<u64>,
    retraction_reason: Option<&'a str>,
    #[serde(flatten)]
    position: PositionOut<'a>,
}

#[derive(Serialize)]
struct ActorOut<'a> {
    actor: &'a str,
    name: &'a str,
    kind: &'static str,
    country: &'a str,
    sector: &'static str,
    aliases: &'a [String],
    stances: u64,
    retracted: u64,
    seq: u64,
}

#[derive(Serialize)]
struct TopicOut<'a> {
    topic: &'a str,
    title: &'a str,
    kind: &'static str,
    stances: u64,
    retracted: u64,
    seq: u64,
}

#[derive(Serialize)]
struct VerifiedOut {
    events: u64,
    head_hash: String,
    schema1_records: u64,
}

#[derive(Serialize)]
struct AppendedOut {
    seq: u64,
    id: String,
    duplicate: bool,
}

fn actor_name<'a>(h: &'a History, p: &Position<'a>) -> &'a str {
    h.actor(&p.stance.actor).map_or("", |a| a.name.as_str())
}

fn topic_title<'a>(h: &'a History, p: &Position<'a>) -> &'a str {
    h.topic(&p.stance.topic).map_or("", |t| t.title.as_str())
}

fn position_out<'a>(h: &'a History, p: &Position<'a>) -> PositionOut<'a> {
    let s = p.stance;
    PositionOut {
        actor: s.actor.as_str(),
        actor_name: actor_name(h, p),
        topic: s.topic.as_str(),
        topic_title: topic_title(h, p),
        stance: s.stance.as_str(),
        polarity: s.stance.polarity(),
        since: s.date.to_string(),
        event: s.event.map(|e| e.as_str()),
        recipient: s.recipient.as_ref().map(|r| r.as_str()),
        quote: s.quote.as_deref(),
        cite: CiteOut::new(&s.cite),
        seq: p.event.seq,
        event_id: p.event.id.hyphenated().to_string(),
        recorded_at: format_recorded_at(&p.event.recorded_at),
    }
}

/// Cuts text for a table cell, on a character boundary.
fn cell(text: &str) -> String {
    cut(text, CELL_CHARS_MAX)
}

/// Cuts text to at most `max` characters, ending in `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(TABLE_STYLE).set_header(header.to_vec());
    t
}

/// The CSV columns of a position, in header order.
const POSITION_COLUMNS: &[&str] = &[
    "actor",
    "actor_name",
    "topic",
    "topic_title",
    "stance",
    "polarity",
    "since",
    "event",
    "recipient",
    "quote",
    "cite_publication",
    "cite_via",
    "cite_url",
    "cite_title",
    "cite_published",
    "seq",
    "event_id",
    "recorded_at",
];

fn position_row(p: &PositionOut<'_>) -> Vec<String> {
    let o = |x: Option<&str>| x.unwrap_or("").to_string();
    vec![
        p.actor.to_string(),
        p.actor_name.to_string(),
        p.topic.to_string(),
        p.topic_title.to_string(),
        p.stance.to_string(),
        p.polarity.to_string(),
        p.since.clone(),
        o(p.event),
        o(p.recipient),
        o(p.quote),
        p.cite.publication.to_string(),
        o(p.cite.via),
        o(p.cite.url),
        o(p.cite.title),
        p.cite.published.clone().unwrap_or_default(),
        p.seq.to_string(),
        p.event_id.clone(),
        p.recorded_at.clone(),
    ]
}

fn csv_out(out: &mut dyn Write, header: &[&str], rows: Vec<Vec<String>>) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header).map_err(csv_err)?;
    for r in rows {
        w.write_record(&r).map_err(csv_err)?;
    }
    w.flush()
}

fn csv_err(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn json_out<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

impl Render {
    pub fn new(format: Format) -> Render {
        Render { format }
    }

    pub fn positions(
        &self,
        out: &mut dyn Write,
        h: &History,
        as_of: Option<Day>,
        positions: &[Position<'_>],
    ) -> io::Result<()> {
        let rows: Vec<PositionOut<'_>> = positions.iter().map(|p| position_out(h, p)).collect();
        match self.format {
            Format::Json => json_out(out, &rows),
            Format::Csv => csv_out(
                out,
                POSITION_COLUMNS,
                rows.iter().map(position_row).collect(),
            ),
            Format::Table => {
                let when = match as_of {
                    Some(d) => format!("as of {d}"),
                    None => match h.date_last() {
                        Some(d) => format!("as of the latest date in the log ({d})"),
                        None => "(the log has no stances)".to_string(),
                    },
                };
                let actors: std::collections::BTreeSet<&str> =
                    rows.iter().map(|r| r.actor).collect();
                writeln!(
                    out,
                    "Positions {when}: {} position(s) of {} actor(s)\n",
                    rows.len(),
                    actors.len()
                )?;
                let mut t = table(&[
                    "Actor", "Topic", "Stance", "Since", "PLOVER", "Seq", "Source",
                ]);
                for r in &rows {
                    t.add_row(vec![
                        cell(r.actor_name),
                        cell(r.topic_title),
                        r.stance.to_string(),
                        r.since.clone(),
                        r.event.unwrap_or("").to_string(),
                        r.seq.to_string(),
                        cut(&source_of(r), SOURCE_CHARS_MAX),
                    ]);
                }
                writeln!(out, "{}", t.trim_fmt())
            }
        }
    }

    pub fn diff(
        &self,
        out: &mut dyn Write,
        h: &History,
        from: Day,
        to: Day,
        changes: &[Change<'_>],
    ) -> io::Result<()> {
        let rows: Vec<ChangeOut<'_>> = changes
            .iter()
            .map(|c| {
                let any = c.after.or(c.before);
                ChangeOut {
                    actor: c.actor.as_str(),
                    actor_name: any.map_or("", |p| actor_name(h, &p)),
                    topic: c.topic.as_str(),
                    topic_title: any.map_or("", |p| topic_title(h, &p)),
                    change: c.kind.as_str(),
                    before: c.before.map(|p| position_out(h, &p)),
                    after: c.after.map(|p| position_out(h, &p)),
                }
            })
            .collect();
        let brief = |p: &Option<PositionOut<'_>>| match p {
            Some(p) => format!("{} (since {}, seq {})", p.stance, p.since, p.seq),
            None => "-".to_string(),
        };
        match self.format {
            Format::Json => json_out(out, &rows),
            Format::Csv => {
                let header = [
                    "actor",
                    "actor_name",
                    "topic",
                    "topic_title",
                    "change",
                    "before_stance",
                    "before_since",
                    "before_seq",
                    "after_stance",
                    "after_since",
                    "after_seq",
                ];
                let part = |p: &Option<PositionOut<'_>>| match p {
                    Some(p) => vec![p.stance.to_string(), p.since.clone(), p.seq.to_string()],
                    None => vec![String::new(), String::new(), String::new()],
                };
                let data = rows
                    .iter()
                    .map(|r| {
                        let mut v = vec![
                            r.actor.to_string(),
                            r.actor_name.to_string(),
                            r.topic.to_string(),
                            r.topic_title.to_string(),
                            r.change.to_string(),
                        ];
                        v.extend(part(&r.before));
                        v.extend(part(&r.after));
                        v
                    })
                    .collect();
                csv_out(out, &header, data)
            }
            Format::Table => {
                writeln!(out, "Changes from {from} to {to}: {}\n", rows.len())?;
                let mut t = table(&["Actor", "Topic", "Change", "Before", "After"]);
                for r in &rows {
                    t.add_row(vec![
                        cell(r.actor_name),
                        cell(r.topic_title),
                        r.change.to_string(),
                        brief(&r.before),
                        brief(&r.after),
                    ]);
                }
                writeln!(out, "{}", t.trim_fmt())
            }
        }
    }

    pub fn timeline(
        &self,
        out: &mut dyn Write,
        h: &History,
        entries: &[TimelineEntry<'_>],
    ) -> io::Result<()> {
        let rows: Vec<TimelineOut<'_>> = entries
            .iter()
            .map(|e| {
                let (superseded_by, retracted_by) = match e.status {
                    Status::Current => (None, None),
                    Status::Superseded { by } => (Some(by), None),
                    Status::Retracted { by } => (None, Some(by)),
                };
                let retraction_reason = retracted_by.and_then(|seq| match &h.event(seq)?.body {
                    stancelog::core::EventBody::StanceRetracted(r) => Some(r.reason.as_str()),
                    _ => None,
                });
                TimelineOut {
                    status: e.status.as_str(),
                    superseded_by,
                    retracted_by,
                    retraction_reason,
                    position: position_out(h, &e.position),
                }
            })
            .collect();
        match self.format {
            Format::Json => json_out(out, &rows),
            Format::Csv => {
                let mut header = vec![
                    "status",
                    "superseded_by",
                    "retracted_by",
                    "retraction_reason",
                ];
                header.extend_from_slice(POSITION_COLUMNS);
                let data = rows
                    .iter()
                    .map(|r| {
                        let mut v = vec![
                            r.status.to_string(),
                            r.superseded_by.map(|s| s.to_string()).unwrap_or_default(),
                            r.retracted_by.map(|s| s.to_string()).unwrap_or_default(),
                            r.retraction_reason.unwrap_or("").to_string(),
                        ];
                        v.extend(position_row(&r.position));
                        v
                    })
                    .collect();
                csv_out(out, &header, data)
            }
            Format::Table => {
                writeln!(out, "Timeline: {} stance(s)\n", rows.len())?;
                let mut t = table(&["Date", "Actor", "Topic", "Stance", "Status", "Seq", "Quote"]);
                for r in &rows {
                    let status = match (r.superseded_by, r.retracted_by) {
                        (Some(by), _) => format!("superseded by {by}"),
                        (_, Some(by)) => format!("retracted by {by}"),
                        _ => r.status.to_string(),
                    };
                    t.add_row(vec![
                        r.position.since.clone(),
                        cell(r.position.actor_name),
                        cell(r.position.topic_title),
                        r.position.stance.to_string(),
                        status,
                        r.position.seq.to_string(),
                        cell(r.position.quote.unwrap_or("")),
                    ]);
                }
                writeln!(out, "{}", t.trim_fmt())
            }
        }
    }

    pub fn actors(&self, out: &mut dyn Write, h: &History) -> io::Result<()> {
        let rows: Vec<ActorOut<'_>> = h
            .actors()
            .iter()
            .filter_map(|(id, entry)| {
                let a = h.actor(id)?;
                Some(ActorOut {
                    actor: id.as_str(),
                    name: &a.name,
                    kind: a.kind.as_str(),
                    country: a.country.as_str(),
                    sector: a.sector.as_str(),
                    aliases: &a.aliases,
                    stances: entry.stances,
                    retracted: entry.retracted,
                    seq: entry.seq,
                })
            })
            .collect();
        match self.format {
            Format::Json => json_out(out, &rows),
            Format::Csv => csv_out(
                out,
                &[
                    "actor",
                    "name",
                    "kind",
                    "country",
                    "sector",
                    "aliases",
                    "stances",
                    "retracted",
                    "seq",
                ],
                rows.iter()
                    .map(|r| {
                        vec![
                            r.actor.to_string(),
                            r.name.to_string(),
                            r.kind.to_string(),
                            r.country.to_string(),
                            r.sector.to_string(),
                            r.aliases.join("; "),
                            r.stances.to_string(),
                            r.retracted.to_string(),
                            r.seq.to_string(),
                        ]
                    })
                    .collect(),
            ),
            Format::Table => {
                writeln!(out, "Actors: {}\n", rows.len())?;
                let mut t = table(&[
                    "Id",
                    "Name",
                    "Kind",
                    "Country",
                    "Sector",
                    "Stances",
                    "Retracted",
                ]);
                for r in &rows {
                    t.add_row(vec![
                        cell(r.actor),
                        cell(r.name),
                        r.kind.to_string(),
                        r.country.to_string(),
                        r.sector.to_string(),
                        r.stances.to_string(),
                        r.retracted.to_string(),
                    ]);
                }
                writeln!(out, "{}", t.trim_fmt())
            }
        }
    }

    pub fn topics(&self, out: &mut dyn Write, h: &History) -> io::Result<()> {
        let rows: Vec<TopicOut<'_>> = h
            .topics()
            .iter()
            .filter_map(|(id, entry)| {
                let t = h.topic(id)?;
                Some(TopicOut {
                    topic: id.as_str(),
                    title: &t.title,
                    kind: t.kind.as_str(),
                    stances: entry.stances,
                    retracted: entry.retracted,
                    seq: entry.seq,
                })
            })
            .collect();
        match self.format {
            Format::Json => json_out(out, &rows),
            Format::Csv => csv_out(
                out,
                &["topic", "title", "kind", "stances", "retracted", "seq"],
                rows.iter()
                    .map(|r| {
                        vec![
                            r.topic.to_string(),
                            r.title.to_string(),
                            r.kind.to_string(),
                            r.stances.to_string(),
                            r.retracted.to_string(),
                            r.seq.to_string(),
                        ]
                    })
                    .collect(),
            ),
            Format::Table => {
                writeln!(out, "Topics: {}\n", rows.len())?;
                let mut t = table(&["Id", "Title", "Kind", "Stances", "Retracted"]);
                for r in &rows {
                    t.add_row(vec![
                        cell(r.topic),
                        cell(r.title),
                        r.kind.to_string(),
                        r.stances.to_string(),
                        r.retracted.to_string(),
                    ]);
                }
                writeln!(out, "{}", t.trim_fmt())
            }
        }
    }

    pub fn verified(&self, out: &mut dyn Write, log: &Log) -> io::Result<()> {
        let v = VerifiedOut {
            events: log.history().seq_last(),
            head_hash: log.head_hash(),
            schema1_records: log.schema1_records(),
        };
        match self.format {
            Format::Json => json_out(out, &v),
            Format::Csv => csv_out(
                out,
                &["events", "head_hash", "schema1_records"],
                vec![vec![
                    v.events.to_string(),
                    v.head_hash.clone(),
                    v.schema1_records.to_string(),
                ]],
            ),
            Format::Table => {
                writeln!(out, "ok: {} events, head hash {}", v.events, v.head_hash)?;
                if v.schema1_records > 0 {
                    writeln!(
                        out,
                        "note: {} record(s) of schema 1 carry no hash of their own; they are covered by the hash of the next schema-2 record, if any",
                        v.schema1_records
                    )?;
                }
                Ok(())
            }
        }
    }

    pub fn appended(&self, out: &mut dyn Write, report: &AppendReport) -> io::Result<()> {
        let rows: Vec<AppendedOut> = report
            .events
            .iter()
            .map(|a| AppendedOut {
                seq: a.seq,
                id: a.id.hyphenated().to_string(),
                duplicate: a.duplicate,
            })
            .collect();
        match self.format {
            Format::Json => json_out(out, &rows),
            Format::Csv => csv_out(
                out,
                &["seq", "id", "duplicate"],
                rows.iter()
                    .map(|r| vec![r.seq.to_string(), r.id.clone(), r.duplicate.to_string()])
                    .collect(),
            ),
            Format::Table => {
                for r in &rows {
                    let note = if r.duplicate {
                        "  (already in the log; not stored again)"
                    } else {
                        ""
                    };
                    writeln!(out, "seq {}  id {}{note}", r.seq, r.id)?;
                }
                let stored = rows.iter().filter(|r| !r.duplicate).count();
                writeln!(
                    out,
                    "appended {stored} event(s), {} already present",
                    rows.len() - stored
                )
            }
        }
    }
}

/// The shortest useful source for a table: the relayed agency when there is one, else the
/// publication.
fn source_of(r: &PositionOut<'_>) -> String {
    match r.cite.via {
        Some(via) => format!("via {via}"),
        None => r.cite.publication.to_string(),
    }
}
