//! `stancelog import csv FILE`: an analyst's own spreadsheet (CSV, TSV or another delimiter),
//! mapped to `stance.declared` events by flags: which column holds the actor, the topic, the
//! stance, the date, and optionally the quote, the source and the recorded time.
//!
//! Each data row becomes one `stance.declared` whose id is the UUID v5 of
//! `csv/<file name>/<line>`, so importing the same file again appends nothing. With `register`,
//! actors and topics the log does not know yet are registered first (ids `csv/<file
//! name>/actor/<id>` and `csv/<file name>/topic/<id>`), in the same batch as the first row that
//! needs them. A row that cannot be imported is refused with its line number; the rest is
//! appended.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{IMPORT_BATCH_EVENTS, ImportReport, Progress, RefusedRow, event_id};
use crate::core::{
    ActorId, ActorKind, ActorRegistered, Cite, Country, Day, EventBody, Sector, Stance,
    StanceDeclared, TimeOfDay, TopicId, TopicKind, TopicRegistered, ValidDate, parse_stated,
};
use crate::error::{Error, Result};
use crate::store::{AppendOptions, LINE_BYTES_MAX, NewEvent, Record, Writer};

/// Where a value comes from: a column of the sheet (its header name, or its 1-based number), or
/// one value for every row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A column: its name in the header, or its 1-based number.
    Column(String),
    /// The same value for every row.
    Fixed(String),
}

/// Maps the sheet's stance values to stances: `yes=support,no=oppose`. A key ending in `*`
/// matches every value starting with what precedes it (the longest such key wins), so CAMEO
/// codes can be mapped by their root (`14*=oppose`). A value matching no key is taken as it is
/// if it is a stance name, and refused otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StanceMap {
    exact: HashMap<String, Stance>,
    prefixes: Vec<(String, Stance)>,
}

impl StanceMap {
    /// Adds the pairs of `text`: `value=stance` separated by commas.
    ///
    /// # Errors
    /// A message naming the pair without `=`, with an empty value, or whose stance is not a
    /// stance name.
    pub fn add(&mut self, text: &str) -> std::result::Result<(), String> {
        for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (value, stance) = pair
                .rsplit_once('=')
                .ok_or_else(|| format!("`{pair}` is not VALUE=STANCE"))?;
            let value = value.trim();
            let stance = stance.trim();
            if value.is_empty() {
                return Err(format!("`{pair}`: the value before `=` is empty"));
            }
            let stance = Stance::parse(stance).ok_or_else(|| {
                format!(
                    "`{pair}`: `{stance}` is not a stance (one of: {})",
                    Stance::names()
                )
            })?;
            match value.strip_suffix('*') {
                Some(prefix) => {
                    self.prefixes.retain(|(p, _)| p != prefix);
                    self.prefixes.push((prefix.to_string(), stance));
                    // Longest prefix first.
                    self.prefixes
                        .sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
                }
                None => {
                    self.exact.insert(value.to_string(), stance);
                }
            }
        }
        Ok(())
    }

    /// Parses a map; see [`StanceMap::add`].
    ///
    /// # Errors
    /// Those of [`StanceMap::add`].
    pub fn parse(text: &str) -> std::result::Result<StanceMap, String> {
        let mut m = StanceMap::default();
        m.add(text)?;
        Ok(m)
    }

    /// The stance of a sheet value: mapped exactly, else by the longest prefix key, else the
    /// value itself if it is a stance name.
    pub fn lookup(&self, value: &str) -> Option<Stance> {
        self.exact
            .get(value)
            .copied()
            .or_else(|| {
                self.prefixes
                    .iter()
                    .find(|(p, _)| value.starts_with(p.as_str()))
                    .map(|(_, s)| *s)
            })
            .or_else(|| Stance::parse(value))
    }
}

/// How to register actors and topics the log does not know yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    /// Kind of new actors.
    pub actor_kind: ActorKind,
    /// Country of new actors; `None`: the actor id itself when it is three capital letters, or
    /// the alpha-3 code of an ISO 3166-1 alpha-2 id; else the row is refused.
    pub actor_country: Option<Country>,
    /// Sector of new actors.
    pub actor_sector: Sector,
    /// Kind of new topics.
    pub topic_kind: TopicKind,
}

impl Default for Register {
    fn default() -> Register {
        Register {
            actor_kind: ActorKind::State,
            actor_country: None,
            actor_sector: Sector::Gov,
            topic_kind: TopicKind::Policy,
        }
    }
}

/// How to read and import a sheet.
#[derive(Debug, Clone)]
pub struct Options {
    /// The actor column.
    pub actor_col: String,
    /// The topic: a column, or one topic id for all rows.
    pub topic: Source,
    /// The stance column.
    pub stance_col: String,
    /// Sheet values to stances.
    pub stance_map: StanceMap,
    /// The date: a column, or one date for all rows. `YYYY-MM-DD`, `YYYY-MM`, `YYYY`, a date
    /// with a time and offset or zone (as in the log format), or `YYYYMMDD`.
    pub date: Source,
    /// The verbatim quote column, if any (an empty cell: no quote).
    pub quote_col: Option<String>,
    /// The `cite.publication` column, if any; an empty cell falls back to `cite`.
    pub cite_col: Option<String>,
    /// `cite.publication` when there is no column or its cell is empty; `None`: the file name.
    pub cite: Option<String>,
    /// The `cite.url` column, if any (an empty or missing cell: no URL).
    pub url_col: Option<String>,
    /// The recorded-time column (RFC 3339 or `YYYY-MM-DD` for midnight UTC), if the data says
    /// when each row was recorded; `None`: every row is recorded at `now`.
    pub recorded_col: Option<String>,
    /// Register unknown actors and topics this way; `None`: refuse their rows.
    pub register: Option<Register>,
    /// Turn actor and topic values into ids: lower case, every run of characters other than
    /// letters and digits one `-` (`Foreign Affairs (Bangladesh)` -> `foreign-affairs-bangladesh`).
    pub slug_ids: bool,
    /// The field delimiter, one byte.
    pub delimiter: u8,
    /// Whether the first line is a header (else columns are given by number).
    pub header: bool,
    /// The recorded time of every batch when there is no recorded-time column.
    pub now: DateTime<Utc>,
    /// How long to wait for another writer's lock.
    pub wait: Duration,
}

impl Options {
    /// Options with the required columns and everything else at its default: topic and date
    /// from columns, no optional columns, no registration, comma-separated with a header.
    pub fn new(actor_col: &str, topic: Source, stance_col: &str, date: Source) -> Options {
        Options {
            actor_col: actor_col.to_string(),
            topic,
            stance_col: stance_col.to_string(),
            stance_map: StanceMap::default(),
            date,
            quote_col: None,
            cite_col: None,
            cite: None,
            url_col: None,
            recorded_col: None,
            register: None,
            slug_ids: false,
            delimiter: b',',
            header: true,
            now: DateTime::<Utc>::UNIX_EPOCH,
            wait: Duration::from_secs(5),
        }
    }
}

/// Parses a `--delimiter` value: one ASCII character, or `\t` / `tab` for a tab.
///
/// # Errors
/// A message for anything else.
pub fn parse_delimiter(text: &str) -> std::result::Result<u8, String> {
    match text {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        t if t.len() == 1 && t.is_ascii() => Ok(t.as_bytes()[0]),
        _ => Err(format!(
            "`{text}` is not one ASCII character (use `\\t` or `tab` for a tab)"
        )),
    }
}

/// Parses a date as a sheet gives it: anything the log format's `date` takes, or `YYYYMMDD`.
///
/// # Errors
/// The date error, in words.
pub fn parse_date(text: &str) -> std::result::Result<(ValidDate, Option<TimeOfDay>), String> {
    let b = text.as_bytes();
    if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
        let iso = format!("{}-{}-{}", &text[0..4], &text[4..6], &text[6..8]);
        return parse_stated(&iso).map_err(|e| e.to_string());
    }
    parse_stated(text).map_err(|e| e.to_string())
}

/// Parses a recorded time: RFC 3339, or `YYYY-MM-DD` for midnight UTC of that day.
///
/// # Errors
/// A message for anything else.
pub fn parse_recorded(text: &str) -> std::result::Result<DateTime<Utc>, String> {
    if let Ok(day) = Day::parse(text) {
        return Ok(day.midnight_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("`{text}` is neither an RFC 3339 time nor a date (YYYY-MM-DD)"))
}

/// `text` as an id: lower case, every run of characters other than letters and digits one `-`,
/// none at either end.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('-');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// Bytes a stored record adds to its body: schema, seq, id, recorded_at, batch_last, hash.
const RECORD_OVERHEAD: usize = 400;

/// The column indexes, resolved against the header.
struct Columns {
    actor: usize,
    topic: Option<usize>,
    stance: usize,
    date: Option<usize>,
    quote: Option<usize>,
    cite: Option<usize>,
    url: Option<usize>,
    recorded: Option<usize>,
}

fn column(spec: &str, header: Option<&csv::StringRecord>, flag: &str) -> Result<usize> {
    if let Some(h) = header
        && let Some(i) = h.iter().position(|x| x.trim() == spec)
    {
        return Ok(i);
    }
    match spec.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n - 1),
        _ => Err(Error::Usage(match header {
            Some(h) => format!(
                "{flag} `{spec}`: no such column (the header has: {}); give a name or a 1-based number",
                h.iter().collect::<Vec<_>>().join(", ")
            ),
            None => format!("{flag} `{spec}`: without a header, give columns by 1-based number"),
        })),
    }
}

/// Events of the batch being built, with the recorded time they share and what they register.
struct Pending {
    events: Vec<NewEvent>,
    at: Option<DateTime<Utc>>,
    actors: HashSet<ActorId>,
    topics: HashMap<TopicId, TopicKind>,
}

/// Imports the sheet at `file` into the log at `log`.
///
/// Holds the log's lock for the whole import. Without a recorded-time column, every batch of
/// [`IMPORT_BATCH_EVENTS`] is recorded at `now` (each later one a microsecond later). With one,
/// the times must not decrease down the sheet: each distinct time is a batch of its own (split
/// if it exceeds [`IMPORT_BATCH_EVENTS`], the later parts a microsecond later each), and a row
/// whose time is earlier than the row before it, or than the log's last recorded time, is
/// refused. The writer makes recorded time rise strictly from batch to batch, so a batch whose
/// time equals the log's last is stamped a microsecond later.
///
/// A row is refused when a column it needs is missing or empty, an id is not valid, the stance
/// value is neither mapped nor a stance name, the stance does not fit the topic's kind, the date
/// or recorded time does not parse, the actor or topic is unknown (without `register`), a new
/// actor's country cannot be told, the event would exceed [`LINE_BYTES_MAX`] stored, or the
/// line was imported before with other content.
///
/// # Errors
/// [`Error::Usage`] for a column that is not in the sheet; [`Error::Io`] when the file cannot be
/// read or the lock is not had in time; [`Error::Input`] for malformed CSV (the batches before
/// stay appended); the errors of [`Writer::append`].
pub fn import(
    log: &Path,
    file: &Path,
    opts: &Options,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    let file_label = file.display().to_string();
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file_label.clone());
    let csv_error = |e: csv::Error| super::csv_error(&file_label, e);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(opts.delimiter)
        .has_headers(opts.header)
        .flexible(true)
        .from_path(file)
        .map_err(csv_error)?;
    let header = if opts.header {
        Some(reader.headers().map_err(csv_error)?.clone())
    } else {
        None
    };
    let h = header.as_ref();
    let optional = |spec: &Option<String>, flag: &str| -> Result<Option<usize>> {
        spec.as_deref().map(|s| column(s, h, flag)).transpose()
    };
    let cols = Columns {
        actor: column(&opts.actor_col, h, "--actor-col")?,
        topic: match &opts.topic {
            Source::Column(c) => Some(column(c, h, "--topic-col")?),
            Source::Fixed(_) => None,
        },
        stance: column(&opts.stance_col, h, "--stance-col")?,
        date: match &opts.date {
            Source::Column(c) => Some(column(c, h, "--date-col")?),
            Source::Fixed(_) => None,
        },
        quote: optional(&opts.quote_col, "--quote-col")?,
        cite: optional(&opts.cite_col, "--cite-col")?,
        url: optional(&opts.url_col, "--url-col")?,
        recorded: optional(&opts.recorded_col, "--recorded-col")?,
    };
    // Values given once for all rows are checked before anything is read.
    let fixed_topic = match &opts.topic {
        Source::Fixed(t) => {
            Some(TopicId::new(t.trim()).map_err(|e| Error::Usage(format!("--topic: {e}")))?)
        }
        Source::Column(_) => None,
    };
    let fixed_date = match &opts.date {
        Source::Fixed(d) => {
            Some(parse_date(d.trim()).map_err(|e| Error::Usage(format!("--date: {e}")))?)
        }
        Source::Column(_) => None,
    };
    let default_cite = opts
        .cite
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or(&file_name)
        .to_string();

    let mut writer = Writer::open(log, opts.wait)?;
    writer.defer_index();
    let seq_at_open = writer.log().history().seq_last();
    let mut floor = writer.log().history().recorded_at(seq_at_open);
    let mut report = ImportReport::default();
    let mut pending = Pending {
        events: Vec::new(),
        at: None,
        actors: HashSet::new(),
        topics: HashMap::new(),
    };
    progress.start("csv", None);
    let mut row = csv::StringRecord::new();
    while reader.read_record(&mut row).map_err(csv_error)? {
        progress.advance(1);
        let line = row.position().map_or(0, |p| p.line());
        let refuse = |report: &mut ImportReport, reason: String| {
            report.refused.push(RefusedRow {
                file: file_label.clone(),
                line,
                reason,
            });
        };
        let cell = |i: usize| row.get(i).map(str::trim);
        let required = |i: usize, flag: &str| -> std::result::Result<&str, String> {
            // The column's name is built only for an error, not for every good cell.
            let name = || match h.and_then(|h| h.get(i)) {
                Some(n) => format!("column `{n}` ({flag})"),
                None => format!("column {} ({flag})", i + 1),
            };
            match cell(i) {
                None => Err(format!(
                    "{}: the row has only {} field(s)",
                    name(),
                    row.len()
                )),
                Some("") => Err(format!("{} is empty", name())),
                Some(v) => Ok(v),
            }
        };
        let optional = |i: Option<usize>| i.and_then(cell).filter(|v| !v.is_empty());

        // Everything the row says, each part refused in words.
        let parsed = (|| -> std::result::Result<_, String> {
            let actor_text = required(cols.actor, "--actor-col")?;
            let actor = make_id(actor_text, opts.slug_ids, "--actor-col", |t| {
                ActorId::new(t).map_err(|e| e.to_string())
            })?;
            let (topic_text, topic) = match (&fixed_topic, cols.topic) {
                (Some(t), _) => (t.as_str(), t.clone()),
                (None, Some(i)) => {
                    let text = required(i, "--topic-col")?;
                    (
                        text,
                        make_id(text, opts.slug_ids, "--topic-col", |t| {
                            TopicId::new(t).map_err(|e| e.to_string())
                        })?,
                    )
                }
                (None, None) => unreachable!("a topic column or a fixed topic"),
            };
            let stance_text = required(cols.stance, "--stance-col")?;
            let stance = opts.stance_map.lookup(stance_text).ok_or_else(|| {
                format!("stance `{stance_text}` is not in --stance-map and is not a stance name")
            })?;
            let (date, time) = match (&fixed_date, cols.date) {
                (Some(d), _) => d.clone(),
                (None, Some(i)) => {
                    parse_date(required(i, "--date-col")?).map_err(|e| format!("date: {e}"))?
                }
                (None, None) => unreachable!("a date column or a fixed date"),
            };
            let recorded = match cols.recorded {
                Some(i) => Some(
                    parse_recorded(required(i, "--recorded-col")?)
                        .map_err(|e| format!("recorded time: {e}"))?,
                ),
                None => None,
            };
            let body = StanceDeclared {
                actor,
                topic,
                stance,
                date,
                time,
                event: None,
                recipient: None,
                quote: optional(cols.quote).map(str::to_string),
                cite: Cite {
                    publication: optional(cols.cite).unwrap_or(&default_cite).to_string(),
                    url: optional(cols.url).map(str::to_string),
                    title: None,
                    published: None,
                    via: None,
                },
                instrument: None,
            };
            Ok((
                actor_text.to_string(),
                topic_text.to_string(),
                recorded,
                body,
            ))
        })();
        let (actor_text, topic_text, recorded, body) = match parsed {
            Ok(x) => x,
            Err(reason) => {
                refuse(&mut report, reason);
                continue;
            }
        };
        let body = EventBody::StanceDeclared(body);
        if let Err(reason) = storable(&body) {
            refuse(&mut report, reason);
            continue;
        }
        let EventBody::StanceDeclared(stance) = &body else {
            unreachable!("built as a stance")
        };
        let id = event_id(&format!("csv/{file_name}/{line}"));
        let history = writer.log().history();
        if let Some(seq) = history.seq_of(&id).filter(|s| *s <= seq_at_open) {
            if history.event(seq).is_some_and(|e| e.body == body) {
                report.already_present += 1;
            } else {
                refuse(
                    &mut report,
                    format!(
                        "this line was imported before (seq {seq}) with other content; record the change as a stance.corrected"
                    ),
                );
            }
            continue;
        }

        // Registrations this row needs.
        let mut new_events: Vec<NewEvent> = Vec::new();
        let actor_known =
            history.actors().contains_key(&stance.actor) || pending.actors.contains(&stance.actor);
        if !actor_known {
            let Some(reg) = &opts.register else {
                refuse(
                    &mut report,
                    format!(
                        "unknown actor `{}` (register it first, or pass --register)",
                        stance.actor
                    ),
                );
                continue;
            };
            let country = match reg
                .actor_country
                .or_else(|| country_of(stance.actor.as_str()))
            {
                Some(c) => c,
                None => {
                    refuse(
                        &mut report,
                        format!(
                            "cannot tell the country of new actor `{}` (not an alpha-3 or ISO alpha-2 code): give --actor-country",
                            stance.actor
                        ),
                    );
                    continue;
                }
            };
            new_events.push(NewEvent {
                id: Some(event_id(&format!("csv/{file_name}/actor/{}", stance.actor))),
                body: EventBody::ActorRegistered(ActorRegistered {
                    actor: stance.actor.clone(),
                    name: actor_text,
                    kind: reg.actor_kind,
                    country,
                    sector: reg.actor_sector,
                    aliases: Vec::new(),
                }),
                line,
            });
        }
        let topic_kind = match history.topic(&stance.topic) {
            Some(t) => Some(t.kind),
            None => pending.topics.get(&stance.topic).copied(),
        };
        let topic_kind = match (topic_kind, &opts.register) {
            (Some(k), _) => k,
            (None, Some(reg)) => {
                new_events.push(NewEvent {
                    id: Some(event_id(&format!("csv/{file_name}/topic/{}", stance.topic))),
                    body: EventBody::TopicRegistered(TopicRegistered {
                        topic: stance.topic.clone(),
                        title: topic_text,
                        kind: reg.topic_kind,
                        resolution: None,
                        session: None,
                        issues: Vec::new(),
                        important: None,
                    }),
                    line,
                });
                reg.topic_kind
            }
            (None, None) => {
                refuse(
                    &mut report,
                    format!(
                        "unknown topic `{}` (register it first, or pass --register)",
                        stance.topic
                    ),
                );
                continue;
            }
        };
        if !stance.stance.fits(topic_kind) {
            let allowed: Vec<&str> = Stance::ALL
                .iter()
                .filter(|s| s.fits(topic_kind))
                .map(|s| s.as_str())
                .collect();
            refuse(
                &mut report,
                format!(
                    "stance `{}` does not fit {topic_kind} topic `{}` (use one of: {}; see --stance-map, --topic-kind)",
                    stance.stance,
                    stance.topic,
                    allowed.join(", ")
                ),
            );
            continue;
        }
        let at = recorded.unwrap_or(opts.now);
        if recorded.is_some()
            && let Some(f) = floor.filter(|f| at < *f)
        {
            refuse(
                &mut report,
                format!(
                    "recorded time {} is earlier than {} (the row before, or the log's last recorded time): recorded times must not decrease",
                    crate::store::format_recorded_at(&at),
                    crate::store::format_recorded_at(&f)
                ),
            );
            continue;
        }

        // A new recorded time, or a full batch, closes the batch.
        let full = pending.events.len() + new_events.len() + 1 > IMPORT_BATCH_EVENTS;
        if full || pending.at.is_some_and(|t| t != at) {
            flush(&mut writer, &file_label, &mut pending, opts, &mut report)?;
        }
        pending.at = Some(at);
        if recorded.is_some() {
            floor = Some(at);
        }
        for e in &new_events {
            match &e.body {
                EventBody::ActorRegistered(a) => {
                    pending.actors.insert(a.actor.clone());
                }
                EventBody::TopicRegistered(t) => {
                    pending.topics.insert(t.topic.clone(), t.kind);
                }
                _ => {}
            }
        }
        pending.events.extend(new_events);
        pending.events.push(NewEvent {
            id: Some(id),
            body,
            line,
        });
    }
    flush(&mut writer, &file_label, &mut pending, opts, &mut report)?;
    report.index_warning = writer.update_index();
    progress.finish();
    Ok(report)
}

/// An id from a cell: as it is, or slugged.
fn make_id<T>(
    text: &str,
    slug_ids: bool,
    flag: &str,
    new: impl Fn(&str) -> std::result::Result<T, String>,
) -> std::result::Result<T, String> {
    if slug_ids {
        let s = slug(text);
        if s.is_empty() {
            return Err(format!(
                "{flag}: `{text}` has no letter or digit to make an id of"
            ));
        }
        new(&s).map_err(|e| format!("{flag}: {e}"))
    } else {
        new(text).map_err(|e| {
            let hint = if text.chars().any(char::is_whitespace) {
                " (--slug-ids turns such values into ids)"
            } else {
                ""
            };
            format!("{flag}: {e}{hint}")
        })
    }
}

/// The country a new actor's id implies: itself if three capital letters, or the alpha-3 code
/// of an ISO 3166-1 alpha-2 id.
fn country_of(id: &str) -> Option<Country> {
    if let Ok(c) = Country::new(id) {
        return Some(c);
    }
    if id.len() == 2 && id.bytes().all(|b| b.is_ascii_uppercase()) {
        return rust_iso3166::from_alpha2(id).and_then(|c| Country::new(c.alpha3).ok());
    }
    None
}

/// Whether the stored line of this body fits [`LINE_BYTES_MAX`]. (Its fields are valid by
/// construction: ids built by their constructors, texts trimmed and not empty, dates parsed.)
fn storable(body: &EventBody) -> std::result::Result<(), String> {
    // Only a long row needs measuring: each character stores as at most 6 bytes (\u00xx).
    if let EventBody::StanceDeclared(s) = body {
        let text = s.quote.as_ref().map_or(0, String::len)
            + s.cite.publication.len()
            + s.cite.url.as_ref().map_or(0, String::len)
            + s.actor.as_str().len()
            + s.topic.as_str().len();
        if text * 6 + RECORD_OVERHEAD > LINE_BYTES_MAX {
            let bytes = serde_json::to_vec(&Record::from_body(body)).map_err(|e| e.to_string())?;
            if bytes.len() + RECORD_OVERHEAD > LINE_BYTES_MAX {
                return Err(format!(
                    "stored, this event would be a line of about {} bytes, more than LINE_BYTES_MAX ({LINE_BYTES_MAX})",
                    bytes.len() + RECORD_OVERHEAD
                ));
            }
        }
    }
    Ok(())
}

fn flush(
    writer: &mut Writer,
    source: &str,
    pending: &mut Pending,
    opts: &Options,
    report: &mut ImportReport,
) -> Result<()> {
    if pending.events.is_empty() {
        return Ok(());
    }
    let append = AppendOptions {
        recorded_at: pending.at.unwrap_or(opts.now),
        expect_seq: None,
        wait: opts.wait,
    };
    let done = writer.append(&pending.events, source, &append)?;
    report.tally(&done);
    pending.events.clear();
    pending.actors.clear();
    pending.topics.clear();
    Ok(())
}
