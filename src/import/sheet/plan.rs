//! A [`Spec`] compiled against a sheet's header: columns resolved, constants parsed, and each
//! row mapped to the engine's [`Row`].

use std::sync::Arc;

use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};

use super::{
    DateFormat, Spec, StanceMap, actor_kind_of, missing_part, parse_date, parse_instrument,
    parse_recorded, parse_stance, slug,
};
use crate::core::{
    ActorId, ActorKind, Cite, Country, Precision, Sector, Stance, StanceDeclared, TimeOfDay,
    TopicId, TopicKind, ValidDate,
};
use crate::error::{Error, Result};
use crate::import::countries::{self, Scheme};
use crate::import::engine::{
    KeyField, Mapped, NewActor, NewTopic, Outcome, ROLE_FROM, ROLE_UNTIL, Row,
};

/// An actor id, with how to register it.
type ActorOf = (ActorId, Option<Arc<NewActor>>);

/// A topic id, with how to register it.
type TopicOf = (TopicId, Option<Arc<NewTopic>>);

/// Most actors (and topics) a plan remembers by their cell; past it, each row is mapped anew.
const CACHE_MAX: usize = 1 << 20;

/// A stance with its date and time of day.
type Dated = (Stance, (ValidDate, Option<TimeOfDay>));

/// A resolved column: its index and how messages name it.
#[derive(Debug, Clone)]
struct Col {
    index: usize,
    name: String,
}

#[derive(Debug, Clone)]
enum StanceSrc {
    Col(Col, StanceMap),
    Fixed(Stance),
}

#[derive(Debug, Clone)]
enum DateSrc {
    Col(Col),
    Fixed(ValidDate, Option<TimeOfDay>),
    Parts {
        year: Col,
        month: Option<Col>,
        day: Option<Col>,
    },
}

impl DateSrc {
    /// The column a refusal of an empty date names: the date's, or its year's.
    fn column(&self) -> &str {
        match self {
            DateSrc::Col(c) | DateSrc::Parts { year: c, .. } => &c.name,
            DateSrc::Fixed(..) => "--date",
        }
    }
}

#[derive(Debug, Clone)]
struct Spell {
    from: DateSrc,
    until: Option<DateSrc>,
    inclusive: bool,
    open: Vec<String>,
}

#[derive(Debug, Clone)]
enum TopicSrc {
    Col(Col),
    Fixed(TopicId),
}

/// How each row becomes stances.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The data set's identity.
    pub dataset: String,
    /// The key fields.
    pub key: Vec<KeyField>,
    actor: Col,
    scheme: Option<Scheme>,
    actor_name: Option<Col>,
    actor_kind_col: Option<Col>,
    actor_country_col: Option<Col>,
    actor_kind: ActorKind,
    actor_country: Option<Country>,
    actor_sector: Sector,
    topic: TopicSrc,
    topic_title: Option<String>,
    topic_title_col: Option<Col>,
    topic_kind: TopicKind,
    main: Option<(StanceSrc, DateSrc)>,
    events: Vec<(String, Stance, Col)>,
    spell: Option<Spell>,
    skip: Vec<(Col, String, String)>,
    instrument: Option<Col>,
    quote: Option<Col>,
    cite_col: Option<Col>,
    url: Option<Col>,
    recorded: Option<Col>,
    cite: String,
    register: bool,
    slug_ids: bool,
    date_format: Option<DateFormat>,
    /// Actors and topics already mapped, by their cell.
    actors: FxHashMap<String, ActorOf>,
    topics: FxHashMap<String, TopicOf>,
}

fn usage(text: String) -> Error {
    Error::Usage(text)
}

/// Where a row's topic comes from: `--topic-col` or `--topic`.
fn topic_src(spec: &Spec, header: Option<&csv::StringRecord>) -> Result<TopicSrc> {
    Ok(match (&spec.topic_col, &spec.topic) {
        (Some(_), Some(_)) => {
            return Err(usage("give --topic-col or --topic, not both".to_string()));
        }
        (Some(c), None) => TopicSrc::Col(column(c, header, "--topic-col")?),
        (None, Some(t)) => {
            TopicSrc::Fixed(TopicId::new(t.trim()).map_err(|e| usage(format!("--topic: {e}")))?)
        }
        (None, None) => return Err(usage("give --topic-col or --topic".to_string())),
    })
}

/// The kind of registered topics: `--topic-kind`, else `membership` with spells, else `policy`.
fn topic_kind(spec: &Spec, spells: bool) -> Result<TopicKind> {
    let default = if spells { "membership" } else { "policy" };
    let kind = spec.topic_kind.as_deref().unwrap_or(default);
    TopicKind::parse(kind).ok_or_else(|| {
        usage(format!(
            "--topic-kind: `{kind}`: one of: {}",
            TopicKind::names()
        ))
    })
}

/// A header's name as written, without the byte order mark a spreadsheet may put before the
/// first one (csv keeps it) and without surrounding spaces.
fn header_name(name: &str) -> &str {
    name.trim_start_matches('\u{feff}').trim()
}

/// Resolves a column given by header name or 1-based number.
fn column(spec: &str, header: Option<&csv::StringRecord>, flag: &str) -> Result<Col> {
    let name = |i: usize| match header.and_then(|h| h.get(i)) {
        Some(n) => format!("column `{}` ({flag})", header_name(n)),
        None => format!("column {} ({flag})", i + 1),
    };
    let named: Vec<usize> = header.map_or_else(Vec::new, |h| {
        h.iter()
            .enumerate()
            .filter(|(_, x)| header_name(x) == spec)
            .map(|(i, _)| i + 1)
            .collect()
    });
    if named.len() > 1 {
        return Err(usage(format!(
            "{flag} `{spec}`: the header names {} columns `{spec}` (columns {}); rename them, or give the column by its 1-based number",
            named.len(),
            named
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if let Some(&n) = named.first() {
        let i = n - 1;
        return Ok(Col {
            index: i,
            name: name(i),
        });
    }
    match spec.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(Col {
            index: n - 1,
            name: name(n - 1),
        }),
        _ => Err(usage(match header {
            Some(h) => format!(
                "{flag} `{spec}`: no such column (the header has: {}); give a name or a 1-based number",
                h.iter().collect::<Vec<_>>().join(", ")
            ),
            None => format!("{flag} `{spec}`: without a header, give columns by 1-based number"),
        })),
    }
}

fn parse_with<T>(
    value: &Option<String>,
    flag: &str,
    f: impl Fn(&str) -> std::result::Result<T, String>,
) -> Result<Option<T>> {
    value
        .as_deref()
        .map(|v| f(v.trim()).map_err(|e| usage(format!("{flag}: {e}"))))
        .transpose()
}

impl Plan {
    /// Compiles `spec` against the sheet's header (`None`: no header, columns by number).
    ///
    /// # Errors
    /// [`Error::Usage`] naming the flag: a missing one (`--actor-col`; a topic; a stance and
    /// date, an `--event` or a spell), a column the sheet does not have, a value that does not
    /// parse.
    pub fn compile(spec: &Spec, header: Option<&csv::StringRecord>) -> Result<Plan> {
        let col = |v: &Option<String>, flag: &str| -> Result<Option<Col>> {
            v.as_deref().map(|s| column(s, header, flag)).transpose()
        };
        let actor = col(&spec.actor_col, "--actor-col")?
            .ok_or_else(|| usage("--actor-col is required".to_string()))?;
        let topic = topic_src(spec, header)?;
        let main = Self::main(spec, header)?;
        let spell = Self::spell(spec, header)?;
        let events = events(spec, header)?;
        if main.is_none() && spell.is_none() && events.is_empty() {
            return Err(usage(
                "nothing to import: give a stance (--stance-col or --stance, with --date-col, --date or --year-col), an --event, or a spell (--from-col)".to_string(),
            ));
        }
        let skip = skips(spec, header)?;
        let key = key_fields(spec)?;
        let dataset = dataset_of(spec, header);
        let topic_kind = topic_kind(spec, spell.is_some())?;
        Ok(Plan {
            cite: spec
                .cite
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .unwrap_or(&dataset)
                .to_string(),
            dataset,
            key,
            actor,
            scheme: parse_with(&spec.country_scheme, "--country-scheme", |s| {
                Scheme::parse(s).ok_or_else(|| format!("`{s}`: one of {}", Scheme::NAMES))
            })?,
            actor_name: col(&spec.actor_name_col, "--actor-name-col")?,
            actor_kind_col: col(&spec.actor_kind_col, "--actor-kind-col")?,
            actor_country_col: col(&spec.actor_country_col, "--actor-country-col")?,
            actor_kind: parse_with(&spec.actor_kind, "--actor-kind", actor_kind_of)?
                .unwrap_or(ActorKind::State),
            actor_country: parse_with(
                &spec.actor_country,
                "--actor-country",
                countries::check_country,
            )?,
            actor_sector: parse_with(&spec.actor_sector, "--actor-sector", |s| {
                Sector::parse(s).ok_or_else(|| format!("one of: {}", Sector::names()))
            })?
            .unwrap_or(Sector::Gov),
            topic,
            topic_title: spec.topic_title.clone(),
            topic_title_col: col(&spec.topic_title_col, "--topic-title-col")?,
            topic_kind,
            main,
            events,
            spell,
            skip,
            instrument: col(&spec.instrument_col, "--instrument-col")?,
            quote: col(&spec.quote_col, "--quote-col")?,
            cite_col: col(&spec.cite_col, "--cite-col")?,
            url: col(&spec.url_col, "--url-col")?,
            recorded: col(&spec.recorded_col, "--recorded-col")?,
            register: spec.register.unwrap_or(false),
            slug_ids: spec.slug_ids.unwrap_or(false),
            date_format: parse_with(&spec.date_format, "--date-format", DateFormat::parse)?,
            actors: FxHashMap::default(),
            topics: FxHashMap::default(),
        })
    }

    fn main(
        spec: &Spec,
        header: Option<&csv::StringRecord>,
    ) -> Result<Option<(StanceSrc, DateSrc)>> {
        let stance = match (&spec.stance_col, &spec.stance) {
            (Some(_), Some(_)) => {
                return Err(usage("give --stance-col or --stance, not both".to_string()));
            }
            (Some(c), None) => {
                let mut map = StanceMap::default();
                for m in &spec.stance_map {
                    map.add(m)
                        .map_err(|e| usage(format!("--stance-map: {e}")))?;
                }
                StanceSrc::Col(column(c, header, "--stance-col")?, map)
            }
            (None, Some(s)) => StanceSrc::Fixed(
                parse_stance(s.trim()).map_err(|e| usage(format!("--stance: {e}")))?,
            ),
            (None, None) => return Ok(None),
        };
        let date = date_src(
            header,
            (&spec.date_col, "--date-col"),
            (&spec.year_col, &spec.month_col, &spec.day_col, "--year-col"),
        )?;
        let date = match (date, &spec.date) {
            (Some(_), Some(_)) => {
                return Err(usage(
                    "give one of --date-col, --date and --year-col".to_string(),
                ));
            }
            (Some(d), None) => d,
            (None, Some(d)) => {
                let (d, t) = parse_date(d.trim()).map_err(|e| usage(format!("--date: {e}")))?;
                DateSrc::Fixed(d, t)
            }
            (None, None) => {
                return Err(usage(
                    "a stance needs a date: --date-col, --date, or --year-col (with --month-col, --day-col)".to_string(),
                ));
            }
        };
        Ok(Some((stance, date)))
    }

    fn spell(spec: &Spec, header: Option<&csv::StringRecord>) -> Result<Option<Spell>> {
        let from = date_src(
            header,
            (&spec.from_col, "--from-col"),
            (
                &spec.from_year_col,
                &spec.from_month_col,
                &spec.from_day_col,
                "--from-year-col",
            ),
        )?;
        let until = date_src(
            header,
            (&spec.until_col, "--until-col"),
            (
                &spec.until_year_col,
                &spec.until_month_col,
                &spec.until_day_col,
                "--until-year-col",
            ),
        )?;
        let Some(from) = from else {
            return match until {
                Some(_) => Err(usage(
                    "--until-col needs --from-col (a spell's start)".to_string(),
                )),
                None => Ok(None),
            };
        };
        let inclusive = match spec.until.as_deref().unwrap_or("inclusive") {
            "inclusive" => true,
            "exclusive" => false,
            other => {
                return Err(usage(format!(
                    "--until `{other}`: inclusive (the end is the last day of membership) or exclusive (the first day after)"
                )));
            }
        };
        Ok(Some(Spell {
            from,
            until,
            inclusive,
            open: spec
                .open_value
                .iter()
                .map(|v| v.trim().to_string())
                .collect(),
        }))
    }
}

/// The `--event STANCE=COL` stances: (role, stance, column).
fn events(spec: &Spec, header: Option<&csv::StringRecord>) -> Result<Vec<(String, Stance, Col)>> {
    let mut events = Vec::new();
    for e in &spec.event {
        let (stance, c) = e
            .split_once('=')
            .ok_or_else(|| usage(format!("--event `{e}`: not STANCE=COL")))?;
        let stance = parse_stance(stance.trim()).map_err(|x| usage(format!("--event: {x}")))?;
        let c = column(c.trim(), header, "--event")?;
        events.push((format!("{stance}@{}", c.index + 1), stance, c));
    }
    Ok(events)
}

/// The `--skip-if COL=VALUE` rules: the column, the value, and the reason a row skipped by
/// the rule is reported under (the rule as given, `--skip-if vote=absent`).
fn skips(spec: &Spec, header: Option<&csv::StringRecord>) -> Result<Vec<(Col, String, String)>> {
    let mut skip = Vec::new();
    for s in &spec.skip_if {
        let (c, v) = s
            .split_once('=')
            .ok_or_else(|| usage(format!("--skip-if `{s}`: not COL=VALUE")))?;
        let (c, v) = (c.trim(), v.trim());
        skip.push((
            column(c, header, "--skip-if")?,
            v.to_string(),
            format!("--skip-if {c}={v}"),
        ));
    }
    Ok(skip)
}

/// The `--key` fields (default [`KeyField::TABLE`]).
fn key_fields(spec: &Spec) -> Result<Vec<KeyField>> {
    let Some(k) = &spec.key else {
        return Ok(KeyField::TABLE.to_vec());
    };
    k.split(',')
        .map(|f| {
            KeyField::parse(f.trim()).ok_or_else(|| {
                usage(format!(
                    "--key: `{f}` is not a key field (role, actor, topic, date, stance, recipient, extra)"
                ))
            })
        })
        .collect()
}

/// A date source from a column or from year/month/day columns, if either is given.
fn date_src(
    header: Option<&csv::StringRecord>,
    (col, flag): (&Option<String>, &str),
    (year, month, day, year_flag): (&Option<String>, &Option<String>, &Option<String>, &str),
) -> Result<Option<DateSrc>> {
    let part = |v: &Option<String>, f: &str| v.as_deref().map(|s| column(s, header, f)).transpose();
    let month_flag = year_flag.replace("year", "month");
    let day_flag = year_flag.replace("year", "day");
    match (col, year) {
        (Some(_), Some(_)) => Err(usage(format!("give {flag} or {year_flag}, not both"))),
        (Some(c), None) => Ok(Some(DateSrc::Col(column(c, header, flag)?))),
        (None, Some(y)) => Ok(Some(DateSrc::Parts {
            year: column(y, header, year_flag)?,
            month: part(month, &month_flag)?,
            day: part(day, &day_flag)?,
        })),
        (None, None) if month.is_some() || day.is_some() => Err(usage(format!(
            "{month_flag} and {day_flag} need {year_flag}"
        ))),
        (None, None) => Ok(None),
    }
}

/// The part of a mapping that identifies a row: the flags whose columns (or constants) give the
/// key's fields. Flags that choose rows (`--skip-if`) or say what cells mean (`--stance-map`,
/// `--date-format`, registration, quotes and citations...) are left out, so changing them keeps
/// the data set's name.
fn identity(spec: &Spec) -> Spec {
    let s = spec.clone();
    // No `..`: every field is named, so one added to `Spec` must be placed on one side or the
    // other.
    Spec {
        no_header: s.no_header,
        key: s.key,
        actor_col: s.actor_col,
        country_scheme: s.country_scheme,
        topic_col: s.topic_col,
        topic: s.topic,
        date_col: s.date_col,
        date: s.date,
        year_col: s.year_col,
        month_col: s.month_col,
        day_col: s.day_col,
        event: s.event,
        from_col: s.from_col,
        until_col: s.until_col,
        from_year_col: s.from_year_col,
        from_month_col: s.from_month_col,
        from_day_col: s.from_day_col,
        until_year_col: s.until_year_col,
        until_month_col: s.until_month_col,
        until_day_col: s.until_day_col,
        slug_ids: s.slug_ids,
        // These choose rows or say what cells mean.
        dataset: Default::default(),
        delimiter: Default::default(),
        actor_name_col: Default::default(),
        actor_kind_col: Default::default(),
        actor_country_col: Default::default(),
        actor_kind: Default::default(),
        actor_country: Default::default(),
        actor_sector: Default::default(),
        topic_title: Default::default(),
        topic_title_col: Default::default(),
        topic_kind: Default::default(),
        stance_col: Default::default(),
        stance: Default::default(),
        stance_map: Default::default(),
        date_format: Default::default(),
        until: Default::default(),
        open_value: Default::default(),
        skip_if: Default::default(),
        instrument_col: Default::default(),
        quote_col: Default::default(),
        cite_col: Default::default(),
        cite: Default::default(),
        url_col: Default::default(),
        recorded_col: Default::default(),
        register: Default::default(),
        corrections: Default::default(),
    }
}

/// The data set's identity: `--dataset`, else `--cite`, else `sheet-` and 12 hex digits of the
/// SHA-256 of the header's names (sorted) and the row-identifying part of the mapping
/// ([`identity`]).
fn dataset_of(spec: &Spec, header: Option<&csv::StringRecord>) -> String {
    if let Some(d) = spec
        .dataset
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        return d.to_string();
    }
    if let Some(c) = spec
        .cite
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        return c.to_string();
    }
    let mut names: Vec<&str> =
        header.map_or_else(Vec::new, |h| h.iter().map(header_name).collect());
    names.sort_unstable();
    let digest = Sha256::digest(format!("{names:?}\u{1f}{:?}", identity(spec)).as_bytes());
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("sheet-{hex}")
}

/// A date from year, month and day columns; `None` when the year is missing. A missing month
/// or day (see [`missing_part`], or `0`) makes a year or month date. Errors name the column at
/// fault: a part that is not a number, a year not written with four digits (`24`: its century
/// would be a guess), a month not 1 to 12, a day the month does not have.
fn parts_date<'c>(
    cells: &'c Cells<'_>,
    year: &'c Col,
    month: Option<&'c Col>,
    day: Option<&'c Col>,
) -> std::result::Result<Option<(ValidDate, Option<TimeOfDay>)>, String> {
    let y = cells.get(year).unwrap_or("");
    if missing_part(y) {
        return Ok(None);
    }
    let part = |c: Option<&'c Col>| -> Option<(&'c Col, &'c str)> {
        c.and_then(|c| Some((c, cells.get(c)?)))
            .filter(|(_, v)| !missing_part(v) && *v != "0")
    };
    let num = |c: &Col, v: &str, what: &str| {
        v.parse::<u32>()
            .map_err(|_| format!("{}: {what} `{v}` is not a number", c.name))
    };
    let digits = y.bytes().all(|b| b.is_ascii_digit());
    if digits && y.len() > 4 && !y.starts_with('0') {
        return Err(format!(
            "{}: year `{y}` is outside the supported years, 0001 to 9999",
            year.name
        ));
    }
    let y = match num(year, y, "year")? {
        n if y.len() == 4 && digits => n,
        _ => {
            return Err(format!(
                "{}: year `{y}` is not written with four digits; a year column takes the year in full (the century of a shorter one would be a guess)",
                year.name
            ));
        }
    };
    ValidDate::parse(&format!("{y:04}")).map_err(|e| format!("{}: {e}", year.name))?;
    let (text, at) = match (part(month), part(day)) {
        (None, _) => (format!("{y:04}"), year),
        (Some((mc, m)), d) => {
            let m = num(mc, m, "month")?;
            if !(1..=12).contains(&m) {
                return Err(format!("{}: month `{m}` is not 1 to 12", mc.name));
            }
            match d {
                None => (format!("{y:04}-{m:02}"), year),
                Some((dc, d)) => (format!("{y:04}-{m:02}-{:02}", num(dc, d, "day")?), dc),
            }
        }
    };
    ValidDate::parse(&text)
        .map(|d| Some((d, None)))
        .map_err(|e| format!("{}: {e}", at.name))
}

/// The period after a date, as precise as it: the next day, month or year.
fn after(d: ValidDate) -> Option<ValidDate> {
    let next = d.end().next()?;
    let text = match d.precision() {
        Precision::Day => next.to_string(),
        Precision::Month => format!("{:04}-{:02}", next.year(), next.month()),
        Precision::Year => format!("{:04}", next.year()),
    };
    ValidDate::parse(&text).ok()
}

/// One row's cells, read with the names of their columns for messages.
struct Cells<'a> {
    record: &'a csv::StringRecord,
}

impl Cells<'_> {
    fn get(&self, c: &Col) -> Option<&str> {
        self.record.get(c.index).map(str::trim)
    }

    fn optional(&self, c: Option<&Col>) -> Option<&str> {
        c.and_then(|c| self.get(c)).filter(|v| !v.is_empty())
    }

    fn required(&self, c: &Col) -> std::result::Result<&str, String> {
        match self.get(c) {
            None => Err(format!(
                "{}: the row has only {} field(s)",
                c.name,
                self.record.len()
            )),
            Some("") => Err(format!("{} is empty", c.name)),
            Some(v) => Ok(v),
        }
    }
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

/// The country a new actor's id implies: itself if an ISO 3166 alpha-3 code (or one of the
/// codes [`countries::check_country`] takes), or the alpha-3 code of an ISO 3166-1 alpha-2 id.
fn country_of(id: &str) -> std::result::Result<Country, String> {
    if let Ok(c) = countries::check_country(id) {
        return Ok(c);
    }
    if id.len() == 2
        && let Some(c) = rust_iso3166::from_alpha2(id)
    {
        return Country::new(c.alpha3).map_err(|e| e.to_string());
    }
    Err(
        "not an ISO 3166 alpha-3 or alpha-2 code: give --actor-country (or --actor-country-col)"
            .to_string(),
    )
}

impl Plan {
    /// Maps one record at `line` (the file's physical line where it starts).
    pub fn row(&mut self, record: &csv::StringRecord, line: u64) -> Row {
        let cells = Cells { record };
        let recorded = match self.recorded.as_ref().map(|c| (c, cells.required(c))) {
            None => None,
            Some((c, Ok(t))) => match parse_recorded(t) {
                Ok(t) => Some(t),
                Err(e) => return refused(line, format!("{}: recorded time: {e}", c.name)),
            },
            Some((_, Err(e))) => return refused(line, e),
        };
        for (c, value, why) in &self.skip {
            if cells.get(c) == Some(value.as_str()) {
                return Row {
                    line,
                    recorded,
                    outcome: Outcome::Skipped(why.clone()),
                };
            }
        }
        let outcome = match self.stances(&cells) {
            // Only `--event` columns can all be empty: the row states nothing.
            Ok(m) if m.is_empty() => Outcome::Skipped("no date in any --event column".to_string()),
            Ok(m) => Outcome::Mapped(m),
            Err(e) => Outcome::Refused(e),
        };
        Row {
            line,
            recorded,
            outcome,
        }
    }

    fn stances(&mut self, cells: &Cells<'_>) -> std::result::Result<Vec<Mapped>, String> {
        let (actor, new_actor) = self.actor_cached(cells)?;
        let (topic, new_topic) = self.topic_cached(cells)?;
        let instrument = match self.instrument.as_ref().zip(cells.optional(self.instrument.as_ref())) {
            None => None,
            Some((c, t)) => Some(parse_instrument(t).ok_or_else(|| {
                format!(
                    "{}: instrument `{t}` is none of ratification, acceptance, approval, accession, provisional application",
                    c.name
                )
            })?),
        };
        let template = StanceDeclared {
            actor,
            topic,
            stance: Stance::Support,
            date: ValidDate::parse("2000").map_err(|e| e.to_string())?,
            time: None,
            event: None,
            recipient: None,
            quote: cells.optional(self.quote.as_ref()).map(str::to_string),
            cite: Cite {
                publication: cells
                    .optional(self.cite_col.as_ref())
                    .unwrap_or(&self.cite)
                    .to_string(),
                url: cells.optional(self.url.as_ref()).map(str::to_string),
                title: None,
                published: None,
                via: None,
            },
            instrument: None,
        };
        let mut out = Vec::new();
        let mut push = |role: &str,
                        stance: Stance,
                        (date, time): (ValidDate, Option<TimeOfDay>),
                        spell_end: bool| {
            let mut s = template.clone();
            s.stance = stance;
            s.date = date;
            s.time = time;
            s.instrument = instrument.filter(|_| stance == Stance::Ratified);
            out.push(Mapped {
                role: role.to_string(),
                stance: s,
                actor: new_actor.clone(),
                recipient: None,
                topic: new_topic.clone(),
                extra: None,
                spell_end,
                ids: None,
            });
        };
        if let Some((stance, date)) = self.main_stance(cells)? {
            push("stance", stance, date, false);
        }
        for (role, stance, c) in &self.events {
            if let Some(date) = self.date(cells, &DateSrc::Col(c.clone()))? {
                push(role, *stance, date, false);
            }
        }
        if let Some(spell) = &self.spell {
            let from = self.date(cells, &spell.from)?.ok_or_else(|| {
                format!("{}: the spell has no start (empty)", spell.from.column())
            })?;
            push(ROLE_FROM, Stance::Member, from.clone(), false);
            if let Some(end) = self.spell_end(cells, spell, from.0)? {
                push(ROLE_UNTIL, Stance::NotMember, (end, None), true);
            }
        }
        Ok(out)
    }

    /// Where each role's stance comes from, in words (`stance` -> "column `vote`
    /// (--stance-col)"), for refusals that name it ([`EngineOptions::stance_sources`]).
    ///
    /// [`EngineOptions::stance_sources`]: crate::import::engine::EngineOptions::stance_sources
    pub fn stance_sources(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some((stance, _)) = &self.main {
            let from = match stance {
                StanceSrc::Col(c, _) => c.name.clone(),
                StanceSrc::Fixed(_) => "--stance".to_string(),
            };
            out.push(("stance".to_string(), from));
        }
        for (role, _, c) in &self.events {
            out.push((role.clone(), c.name.clone()));
        }
        if let Some(spell) = &self.spell {
            out.push((ROLE_FROM.to_string(), spell.from.column().to_string()));
            if let Some(until) = &spell.until {
                out.push((ROLE_UNTIL.to_string(), until.column().to_string()));
            }
        }
        out
    }

    /// The row's own stance and its date, if the mapping gives one.
    fn main_stance(&self, cells: &Cells<'_>) -> std::result::Result<Option<Dated>, String> {
        let Some((stance, date)) = &self.main else {
            return Ok(None);
        };
        let stance = match stance {
            StanceSrc::Fixed(s) => *s,
            StanceSrc::Col(c, map) => {
                let v = cells.required(c)?;
                map.lookup(v).ok_or_else(|| {
                    format!(
                        "{}: stance `{v}` is not in --stance-map and is not a stance name",
                        c.name
                    )
                })?
            }
        };
        let Some(dated) = self.date(cells, date)? else {
            let year = match date {
                DateSrc::Parts { year, .. } => cells.get(year).filter(|y| !y.is_empty()),
                _ => None,
            };
            return Err(match year {
                Some(y) => format!(
                    "{}: year `{y}` marks a missing value (as NA, N/A, ., NaN and negative numbers do): the row has no date",
                    date.column()
                ),
                None => format!("{}: the date is empty", date.column()),
            });
        };
        Ok(Some((stance, dated)))
    }

    /// The day a spell's `not_member` takes effect: the end, or with inclusive ends the period
    /// after it; `None` while the spell is open (an empty end, or an --open-value). An end
    /// before the spell's start (`from`) is refused, naming the end's column and both dates, and
    /// so is an exclusive end whose first day is not after that start's (`1973-09` for a spell
    /// from 1973-09-15 or from 1973-09-01: no day of membership).
    fn spell_end(
        &self,
        cells: &Cells<'_>,
        spell: &Spell,
        from: ValidDate,
    ) -> std::result::Result<Option<ValidDate>, String> {
        let Some(until) = &spell.until else {
            return Ok(None);
        };
        let raw = match until {
            DateSrc::Col(c) | DateSrc::Parts { year: c, .. } => cells.get(c).unwrap_or(""),
            DateSrc::Fixed(..) => "",
        };
        if spell.open.iter().any(|o| o == raw) {
            return Ok(None);
        }
        let Some((end, _)) = self.date(cells, until)? else {
            return Ok(None);
        };
        if end.end() < from.start() {
            return Err(format!(
                "{}: the spell ends {end}, before it starts ({from})",
                until.column()
            ));
        }
        // An exclusive end takes effect on its first day: one on or before the start's first
        // day (a month or year the spell starts inside, or the start itself) leaves no day of
        // membership, and its `not_member` would be ordered before the `member` of that day.
        if !spell.inclusive && end.start() <= from.start() {
            return Err(format!(
                "{}: the spell ends {end} (exclusive: not a member from {}), no later than it starts ({from})",
                until.column(),
                end.start()
            ));
        }
        if !spell.inclusive {
            return Ok(Some(end));
        }
        after(end).map(Some).ok_or_else(|| {
            format!(
                "{}: the spell's end {end} has no day after it, where an inclusive end takes effect (if `{raw}` means still a member, pass --open-value {raw})",
                until.column()
            )
        })
    }

    /// A date from its source; `None` when its cell (or year cell) is empty or missing.
    fn date(
        &self,
        cells: &Cells<'_>,
        src: &DateSrc,
    ) -> std::result::Result<Option<(ValidDate, Option<TimeOfDay>)>, String> {
        match src {
            DateSrc::Fixed(d, t) => Ok(Some((*d, t.clone()))),
            DateSrc::Col(c) => {
                let Some(text) = cells.get(c).filter(|t| !t.is_empty()) else {
                    return Ok(None);
                };
                let parsed = match &self.date_format {
                    Some(f) => f.date(text).map(|d| (d, None)),
                    None => parse_date(text),
                };
                parsed
                    .map(Some)
                    .map_err(|e| format!("{}: date `{text}`: {e}", c.name))
            }
            DateSrc::Parts { year, month, day } => {
                parts_date(cells, year, month.as_ref(), day.as_ref())
            }
        }
    }

    /// The actor of a row, from the cache when the row has no per-row name, kind or country
    /// (then the actor cell alone decides it).
    fn actor_cached(&mut self, cells: &Cells<'_>) -> std::result::Result<ActorOf, String> {
        let per_row = self.actor_name.is_some()
            || self.actor_kind_col.is_some()
            || self.actor_country_col.is_some();
        let text = cells.required(&self.actor)?;
        if per_row {
            return self.actor(cells);
        }
        if let Some(hit) = self.actors.get(text) {
            return Ok(hit.clone());
        }
        let a = self.actor(cells)?;
        if self.actors.len() < CACHE_MAX {
            self.actors.insert(text.to_string(), a.clone());
        }
        Ok(a)
    }

    /// The topic of a row, from the cache when titles do not come from a column.
    fn topic_cached(&mut self, cells: &Cells<'_>) -> std::result::Result<TopicOf, String> {
        let text = match &self.topic {
            TopicSrc::Col(c) if self.topic_title_col.is_none() => cells.required(c)?,
            _ => return self.topic(cells),
        };
        if let Some(hit) = self.topics.get(text) {
            return Ok(hit.clone());
        }
        let t = self.topic(cells)?;
        if self.topics.len() < CACHE_MAX {
            self.topics.insert(text.to_string(), t.clone());
        }
        Ok(t)
    }

    fn actor(&self, cells: &Cells<'_>) -> std::result::Result<ActorOf, String> {
        let text = cells.required(&self.actor)?;
        let name_cell = cells.optional(self.actor_name.as_ref());
        let (id, name, implied) = match self.scheme {
            Some(scheme) => {
                let state = countries::resolve(scheme, text)
                    .map_err(|e| format!("{}: {e}", self.actor.name))?;
                (state.actor, state.name, Ok(state.country))
            }
            None => {
                let id = make_id(text, self.slug_ids, "--actor-col", |t| {
                    ActorId::new(t).map_err(|e| e.to_string())
                })?;
                let implied = country_of(id.as_str());
                (id, text.to_string(), implied)
            }
        };
        if !self.register {
            return Ok((id, None));
        }
        // A refusal names the column, as every other cell's does.
        let kind = match (
            &self.actor_kind_col,
            cells.optional(self.actor_kind_col.as_ref()),
        ) {
            (Some(c), Some(k)) => actor_kind_of(k).map_err(|e| format!("{}: {e}", c.name))?,
            _ => self.actor_kind,
        };
        let country = match cells.optional(self.actor_country_col.as_ref()) {
            Some(c) => countries::check_country(c),
            None => self.actor_country.map_or(implied, Ok),
        };
        let new = NewActor {
            name: name_cell.unwrap_or(&name).to_string(),
            kind,
            country,
            sector: self.actor_sector,
        };
        Ok((id, Some(Arc::new(new))))
    }

    fn topic(&self, cells: &Cells<'_>) -> std::result::Result<TopicOf, String> {
        let (id, text) = match &self.topic {
            TopicSrc::Fixed(t) => (t.clone(), t.as_str()),
            TopicSrc::Col(c) => {
                let text = cells.required(c)?;
                let id = make_id(text, self.slug_ids, "--topic-col", |t| {
                    TopicId::new(t).map_err(|e| e.to_string())
                })?;
                (id, text)
            }
        };
        if !self.register {
            return Ok((id, None));
        }
        let title = cells
            .optional(self.topic_title_col.as_ref())
            .or(self.topic_title.as_deref())
            .unwrap_or(text)
            .to_string();
        Ok((
            id,
            Some(Arc::new(NewTopic {
                title,
                kind: self.topic_kind,
            })),
        ))
    }
}

fn refused(line: u64, reason: String) -> Row {
    Row {
        line,
        recorded: None,
        outcome: Outcome::Refused(reason),
    }
}
