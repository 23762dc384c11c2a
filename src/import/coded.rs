//! Coded event data on the import engine: `import icews`, `import gdelt` (1.0 and 2.0 event
//! files) and `import plover` (PLOVER / POLECAT records).
//!
//! Every format maps a record the same way:
//!
//! - **Actor and recipient.** The source actor is the stance's actor, the target its recipient
//!   (both registered when new). A state (ICEWS: the source name is its country's name; GDELT:
//!   the actor code is its country code) is an actor of kind `state` with its ISO 3166-1 alpha-3
//!   code as id; any other actor gets an id of its own (GDELT: its CAMEO actor code, `USAGOV`;
//!   ICEWS and PLOVER: its name as a slug, `foreign-affairs-bangladesh`) with its country when
//!   ISO 3166 has one, else `XXX` (ISO's user-assigned "unknown": CAMEO region codes such as
//!   `EUR` or `AFR` are not countries).
//! - **Event type and polarity.** The CAMEO code's root gives the PLOVER event type
//!   ([`plover_of_cameo_root`]; root `01`, a bare statement, has none) and the quad class
//!   ([`quad_of_cameo_root`]; GDELT's own `QuadClass` field when present): verbal or material
//!   cooperation (1, 2) is `support`, verbal or material conflict (3, 4) `oppose`. PLOVER
//!   records give the type directly, and the quad class from their `Quad Code` or the type.
//! - **Topic.** One topic per recipient and kind of act: `<recipient id>/cameo-<root>` (PLOVER:
//!   `<recipient id>/<event type>`), kind `policy`, titled with the recipient's name and the
//!   act (`China: consult`). Why: a position is then "the latest act of this kind towards this
//!   recipient", and every stance of a topic has the same polarity, so positions never depend on
//!   the order in which events of one day arrive.
//! - **Valid and recorded time.** The event date is the stance's date. GDELT's `DATEADDED` is
//!   the recorded time with `recorded_from_data` (rows must then come in the order the data set
//!   added them: a row dated before the row before it, or before the log's last recorded time,
//!   is refused); otherwise, and for the other formats (which give none), rows are recorded now.
//! - **Citation.** `cite.publication` is the outlet (ICEWS `Publisher`, PLOVER `Source`) or the
//!   data set (GDELT), `cite.url` GDELT's `SOURCEURL`, `cite.title` names the data set's event
//!   id, the event code and its Goldstein (ICEWS: intensity) score, which the log keeps there,
//!   and `cite.via` the data set.
//! - **Ids.** The key is the actor, topic, date, recipient and full event code, so one event
//!   reported by many outlets is one stance and its citations (`stance.cited`).

use std::path::Path;

use crate::store::LogRef;
use std::time::Duration;

use super::countries::{self, Scheme};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::engine::{Engine, EngineOptions, KeyField, Mapped, NewActor, NewTopic, Outcome, Row};
use super::sheet::{parse_date, slug};
use super::{ImportReport, LineCounter, Progress};

use crate::core::{
    ActorId, ActorKind, Cite, Country, PloverType, Sector, Stance, StanceDeclared, TopicId,
    TopicKind, ValidDate,
};
use crate::error::{Error, Location, Result};

/// A coded event data format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ICEWS event files (tab-separated, with a header: `Event ID`, `Event Date`, `Source
    /// Name`, `Source Sectors`, `Source Country`, `Event Text`, `CAMEO Code`, `Intensity`,
    /// `Target Name`, `Target Sectors`, `Target Country`, `Story ID`, `Sentence Number`,
    /// `Publisher`, ...).
    Icews,
    /// GDELT event files, 1.0 (57 or 58 fields) or 2.0 (61 fields), tab-separated, no header;
    /// each row is read by its own field count.
    Gdelt,
    /// PLOVER / POLECAT records (tab-separated, with a header: `Event ID`, `Event Date`, `Event
    /// Type`, `Quad Code`, `Event Intensity`, `Actor Name`, `Actor Country`, `Recipient Name`,
    /// `Recipient Country`, `Source`; names matched ignoring case, spaces and `_`).
    Plover,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Icews => "icews",
            Format::Gdelt => "gdelt",
            Format::Plover => "plover",
        }
    }
}

/// How to import coded event data.
#[derive(Debug, Clone)]
pub struct CodedOptions {
    /// The data set's identity (part of every id); default the format's name.
    pub dataset: Option<String>,
    /// Recorded time of rows without one of their own.
    pub now: jiff::Timestamp,
    /// How long to wait for another writer's lock.
    pub wait: Duration,
    /// Write nothing; report what would be done.
    pub dry_run: bool,
    /// GDELT: record each row at its `DATEADDED`.
    pub recorded_from_data: bool,
}

/// The PLOVER event type of a CAMEO root code (`"01"`..`"20"`), after the PLOVER codebook's
/// CAMEO crosswalk (Halterman et al.): 02 appeal and 10 demand are `request`, 03 intent to
/// cooperate `agree`, 04 `consult`, 05 diplomatic cooperation `support`, 06 material
/// cooperation `cooperate`, 07 `aid`, 08 yield `concede`, 09 investigate and 11 disapprove
/// `accuse`, 12 `reject`, 13 `threaten`, 14 `protest`, 15 force posture `mobilize`, 16 reduce
/// relations `sanction`, 17 `coerce`, 18 assault, 19 fight and 20 mass violence `assault`.
/// Root 01 (make a public statement) and anything else: `None`.
pub fn plover_of_cameo_root(root: &str) -> Option<PloverType> {
    use PloverType::*;
    Some(match root {
        "02" | "10" => Request,
        "03" => Agree,
        "04" => Consult,
        "05" => Support,
        "06" => Cooperate,
        "07" => Aid,
        "08" => Concede,
        "09" | "11" => Accuse,
        "12" => Reject,
        "13" => Threaten,
        "14" => Protest,
        "15" => Mobilize,
        "16" => Sanction,
        "17" => Coerce,
        "18" | "19" | "20" => Assault,
        _ => return None,
    })
}

/// The quad class of a CAMEO root code, as GDELT's `QuadClass` field assigns them (checked
/// against every row of the GDELT 1.0 sample): 1 verbal cooperation (01-05), 2 material
/// cooperation (06-09), 3 verbal conflict (10-14), 4 material conflict (15-20); `None` for
/// anything else. (ICEWS's own aggregates place 09 and 14 one class later.)
pub fn quad_of_cameo_root(root: &str) -> Option<u8> {
    let n: u8 = root.parse().ok().filter(|_| root.len() == 2)?;
    Some(match n {
        1..=5 => 1,
        6..=9 => 2,
        10..=14 => 3,
        15..=20 => 4,
        _ => return None,
    })
}

/// The quad class of a PLOVER event type (the PLOVER codebook's grouping, in the order of its
/// `types.csv`): agree, consult, support, concede 1 (verbal cooperation); cooperate, aid,
/// retreat 2 (material cooperation); request, accuse, reject, threaten 3 (verbal conflict);
/// protest, sanction, mobilize, coerce, assault 4 (material conflict).
pub fn quad_of_plover(t: PloverType) -> u8 {
    use PloverType::*;
    match t {
        Agree | Consult | Support | Concede => 1,
        Cooperate | Aid | Retreat => 2,
        Request | Accuse | Reject | Threaten => 3,
        Protest | Sanction | Mobilize | Coerce | Assault => 4,
    }
}

/// The stance of a quad class: cooperation `support`, conflict `oppose`.
pub fn stance_of_quad(quad: u8) -> Option<Stance> {
    match quad {
        1 | 2 => Some(Stance::Support),
        3 | 4 => Some(Stance::Oppose),
        _ => None,
    }
}

/// An actor as a coded record gives it: its id and how to register it.
#[derive(Clone)]
struct Party {
    id: ActorId,
    new: Arc<NewActor>,
}

/// Parties and topics already mapped, by what the record says (a name, a code; a recipient and
/// an act), so a repeated one costs a look-up. Bounded by the distinct actors and topics.
#[derive(Default)]
struct Cache {
    parties: FxHashMap<String, Party>,
    topics: FxHashMap<(ActorId, u8), (TopicId, Arc<NewTopic>)>,
    /// A party's key, written here for each look-up (a row allocates nothing when its parties
    /// are known).
    key: String,
}

impl Cache {
    /// The party `key` names, mapped by `make` the first time.
    fn party(
        &mut self,
        key: &str,
        make: impl FnOnce() -> Result<Party, String>,
    ) -> Result<Party, String> {
        if let Some(p) = self.parties.get(key) {
            return Ok(p.clone());
        }
        let p = make()?;
        self.parties.insert(key.to_string(), p.clone());
        Ok(p)
    }

    /// The source actor named `a` and the target actor named `t` of a row whose columns name
    /// their countries and sectors (ICEWS, PLOVER), each mapped once per name, country and
    /// sectors (so a party is a function of its row's cells, whatever the order of the rows).
    fn source_and_target(
        &mut self,
        r: &csv::StringRecord,
        c: &Columns,
        a: &str,
        t: &str,
    ) -> Result<(Party, Party), Outcome> {
        let mut key = std::mem::take(&mut self.key);
        let mut party = |name: &str, country: Option<&str>, sectors: Option<&str>| {
            key.clear();
            for part in [
                name,
                "\u{1f}",
                country.unwrap_or(""),
                "\u{1f}",
                sectors.unwrap_or(""),
            ] {
                key.push_str(part);
            }
            self.party(&key, || named_party(name, country, sectors))
                .map_err(refused)
        };
        let parties = party(a, c.get(r, A_COUNTRY), c.get(r, A_SECTORS))
            .and_then(|actor| Ok((actor, party(t, c.get(r, R_COUNTRY), c.get(r, R_SECTORS))?)));
        self.key = key;
        parties
    }

    /// The topic of acts `act` (its number and id part, `cameo-04`) towards `recipient`.
    fn topic(
        &mut self,
        recipient: &Party,
        act: (u8, &str),
        words: impl FnOnce() -> String,
    ) -> Result<(TopicId, Arc<NewTopic>), String> {
        let key = (recipient.id.clone(), act.0);
        if let Some(t) = self.topics.get(&key) {
            return Ok(t.clone());
        }
        let id = TopicId::new(&format!("{}/{}", recipient.id, act.1)).map_err(|e| e.to_string())?;
        let new = Arc::new(NewTopic {
            title: format!("{}: {}", recipient.new.name, words()),
            kind: TopicKind::Policy,
        });
        self.topics.insert(key, (id.clone(), new.clone()));
        Ok((id, new))
    }
}

/// What every format's record yields before it becomes a [`Mapped`].
struct Coded {
    date: ValidDate,
    actor: Party,
    recipient: Party,
    topic: (TopicId, Arc<NewTopic>),
    stance: Stance,
    event: Option<PloverType>,
    code: String,
    cite: Cite,
    recorded: Option<jiff::Timestamp>,
}

impl Coded {
    fn mapped(self) -> (Mapped, Option<jiff::Timestamp>) {
        let stance = StanceDeclared {
            actor: self.actor.id,
            topic: self.topic.0,
            stance: self.stance,
            date: self.date,
            time: None,
            event: self.event,
            recipient: Some(self.recipient.id),
            quote: None,
            cite: self.cite,
            instrument: None,
        };
        let m = Mapped {
            role: CODED_ROLE.to_string(),
            stance,
            actor: Some(self.actor.new),
            recipient: Some(self.recipient.new),
            topic: Some(self.topic.1),
            extra: Some(self.code),
            spell_end: false,
            ids: None,
        };
        (m, self.recorded)
    }
}

/// The role of a coded record's one stance (part of its key).
const CODED_ROLE: &str = "event";

/// The key of coded events: actor, topic, date, recipient and the full event code.
const CODED_KEY: &[KeyField] = &[
    KeyField::Role,
    KeyField::Actor,
    KeyField::Topic,
    KeyField::Date,
    KeyField::Recipient,
    KeyField::Extra,
];

/// Imports the coded event file at `file` into the log at `log`.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read or the lock is not had in time; [`Error::Input`]
/// for a file that is not of the format (a missing column, malformed text); the errors of the
/// writer. Records that cannot be imported are refused (listed in the report); records without
/// a source or target actor are skipped.
pub fn import(
    log: &LogRef,
    file: &Path,
    format: Format,
    opts: &CodedOptions,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    let label = file.display().to_string();
    let csv_error = |e: csv::Error| super::csv_error(&label, e);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .quoting(false)
        .has_headers(format != Format::Gdelt)
        .flexible(true)
        .from_path(file)
        .map_err(csv_error)?;
    let columns = match format {
        Format::Gdelt => None,
        _ => Some(Columns::of(
            format,
            reader.headers().map_err(csv_error)?,
            &label,
        )?),
    };
    let engine = Engine::open(log, engine_options(format, opts), progress)?;
    let mut lines = LineCounter::open(file)?;
    progress.start(format.name(), None);
    let from_data = opts.recorded_from_data;
    engine.import_rows(&label, |sink| {
        let mut cache = Cache::default();
        let mut record = csv::StringRecord::new();
        let mut rows = 0u64;
        // A read error (text not UTF-8) names the physical line, blank lines before counted.
        while reader
            .read_record(&mut record)
            .map_err(|e| super::csv_error_lines(&label, e, &mut lines))?
        {
            rows += 1;
            let line = lines.record_line(record.position().map_or(0, |p| p.byte()), &label)?;
            let coded = match &columns {
                None => gdelt(&record, from_data, &mut cache),
                Some(c) => match super::width_mismatch(record.len(), c.fields) {
                    Some(why) => Err(refused(why)),
                    None if format == Format::Icews => icews(&record, c, &mut cache),
                    None => plover(&record, c, &mut cache),
                },
            };
            if !sink.push(row_of(line, coded)) {
                break;
            }
        }
        // A file without rows is bad input, as a sheet's is (a failed download, a wrong
        // file), not an import of nothing.
        match (rows, &columns) {
            (0, Some(_)) => Err(super::rowless(&label, super::Rowless::HeaderOnly)),
            (0, None) => Err(super::rowless(&label, super::Rowless::Empty)),
            _ => Ok(()),
        }
    })
}

/// The engine's options for an import of `format`: the data set's identity is the format's
/// name unless `opts` gives one, and each event's key is [`CODED_KEY`].
fn engine_options(format: Format, opts: &CodedOptions) -> EngineOptions {
    EngineOptions {
        dataset: opts
            .dataset
            .clone()
            .unwrap_or_else(|| format.name().to_string()),
        key: CODED_KEY.to_vec(),
        now: opts.now,
        wait: opts.wait,
        dry_run: opts.dry_run,
        corrections: false,
        // The format fixes each stance (support or oppose, by the quad class) and each topic's
        // kind (policy): a topic the log holds under another kind cannot take it, and no flag
        // changes that.
        stance_sources: vec![(
            CODED_ROLE.to_string(),
            "the event's quad class".to_string(),
        )],
        stance_hint: "coded events go to policy topics; the log registered this one as another kind, which an import does not change".to_string(),
    }
}

/// The engine's row for the record at physical `line`: its mapped event, or why not.
fn row_of(line: u64, coded: Result<Coded, Outcome>) -> Row {
    match coded {
        Ok(c) => {
            let (m, recorded) = c.mapped();
            Row {
                line,
                recorded,
                outcome: Outcome::Mapped(vec![m]),
            }
        }
        Err(outcome) => Row {
            line,
            recorded: None,
            outcome,
        },
    }
}

/// Column positions of a format with a header.
struct Columns {
    idx: Vec<Option<usize>>,
    /// The header's number of fields: a row with another number is refused (a row cut short,
    /// as by a download that stopped, would otherwise read its missing cells as empty).
    fields: usize,
}

/// The columns each format with a header is read by, in [`Columns::idx`] order.
const ICEWS_COLUMNS: &[&str] = &[
    "Event ID",
    "Event Date",
    "Source Name",
    "Source Sectors",
    "Source Country",
    "CAMEO Code",
    "Intensity",
    "Target Name",
    "Target Sectors",
    "Target Country",
    "Publisher",
    "Story ID",
    "Event Text",
];
const PLOVER_COLUMNS: &[&str] = &[
    "Event ID",
    "Event Date",
    "Actor Name",
    "Actor Sectors",
    "Actor Country",
    "Event Type",
    "Event Intensity",
    "Recipient Name",
    "Recipient Sectors",
    "Recipient Country",
    "Source",
    "Quad Code",
    "Event Mode",
];

/// Column roles, as indexes into [`ICEWS_COLUMNS`] and [`PLOVER_COLUMNS`].
const ID: usize = 0;
const DATE: usize = 1;
const A_NAME: usize = 2;
const A_SECTORS: usize = 3;
const A_COUNTRY: usize = 4;
const CODE: usize = 5;
const INTENSITY: usize = 6;
const R_NAME: usize = 7;
const R_SECTORS: usize = 8;
const R_COUNTRY: usize = 9;
const SOURCE: usize = 10;
/// ICEWS: story id; PLOVER: quad code.
const EXTRA_1: usize = 11;
/// ICEWS: event text; PLOVER: event mode.
const EXTRA_2: usize = 12;

fn norm(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Columns {
    fn of(format: Format, header: &csv::StringRecord, file: &str) -> Result<Columns> {
        let names = if format == Format::Icews {
            ICEWS_COLUMNS
        } else {
            PLOVER_COLUMNS
        };
        let idx: Vec<Option<usize>> = names
            .iter()
            .map(|n| header.iter().position(|h| norm(h) == norm(n)))
            .collect();
        let at = Location {
            file: file.to_string(),
            line: Some(1),
            field: None,
        };
        if header.iter().all(str::is_empty) {
            return Err(Error::input(
                at,
                format!(
                    "the file is empty: {} data starts with its header line ({}, ...)",
                    format.name(),
                    names[..3].join(", ")
                ),
            ));
        }
        for need in [DATE, A_NAME, CODE, R_NAME] {
            if idx[need].is_none() {
                let article = match format {
                    Format::Icews => "an",
                    Format::Gdelt | Format::Plover => "a",
                };
                return Err(Error::input(
                    at,
                    format!(
                        "no `{}` column: not {article} {} file (the header has: {})",
                        names[need],
                        format.name(),
                        header.iter().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        Ok(Columns {
            idx,
            fields: header.len(),
        })
    }

    /// The cell of a column role: trimmed, with `NA` and empty as `None`.
    fn get<'r>(&self, r: &'r csv::StringRecord, role: usize) -> Option<&'r str> {
        self.idx[role]
            .and_then(|i| r.get(i))
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "NA")
    }
}

/// A party of an ICEWS or PLOVER record: a state when its name is its country's (the country
/// cell read by [`country_cell`]; the name equal to the cell, or a name of the same state), else
/// an actor of its own, of that country (`XXX` when the cell names none).
fn named_party(name: &str, country: Option<&str>, sectors: Option<&str>) -> Result<Party, String> {
    let state = country.and_then(country_cell);
    let same = |s: &countries::State| {
        country.is_some_and(|c| c.eq_ignore_ascii_case(name))
            || countries::resolve(Scheme::Name, name).is_ok_and(|n| n.actor == s.actor)
    };
    if let Some(s) = state.as_ref().filter(|s| same(s)) {
        return Ok(Party {
            id: s.actor.clone(),
            new: Arc::new(NewActor {
                name: name.to_string(),
                kind: ActorKind::State,
                country: Ok(s.country),
                sector: Sector::Gov,
            }),
        });
    }
    let id = slug(name);
    let id = ActorId::new(&id).map_err(|e| format!("actor `{name}`: {e}"))?;
    let sector = sector_of_names(sectors.unwrap_or(""));
    Ok(Party {
        id,
        new: Arc::new(NewActor {
            name: name.to_string(),
            kind: kind_of_sector(sector),
            country: Ok(state.map_or_else(unknown_country, |s| s.country)),
            sector,
        }),
    })
}

/// The state a country cell names: an ISO 3166 alpha-3 code (`RUS`, as POLECAT writes it) or a
/// country name (`Russia`, as ICEWS does); `None` for anything else.
fn country_cell(text: &str) -> Option<countries::State> {
    let code = text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase());
    code.then(|| countries::resolve(Scheme::Iso3, text).ok())
        .flatten()
        .or_else(|| countries::resolve(Scheme::Name, text).ok())
}

/// `XXX`: ISO 3166-1's user-assigned code, here "no country ISO 3166 names".
fn unknown_country() -> Country {
    Country::new("XXX").unwrap_or_else(|_| unreachable!("XXX is three capitals"))
}

/// The CAMEO sector code of ICEWS / POLECAT sector names (`Executive,Foreign Ministry,
/// Government`): the first that names one, else `CVL`.
fn sector_of_names(names: &str) -> Sector {
    for n in names.split(',').map(|s| s.trim().to_lowercase()) {
        let s = match n.as_str() {
            "government" | "executive" | "foreign ministry" | "cabinet" | "gov" => Sector::Gov,
            "military" | "army" | "navy" | "air force" | "mil" => Sector::Mil,
            "legislative / parliamentary" | "legislative" | "parliament" | "leg" => Sector::Leg,
            "judicial" | "jud" => Sector::Jud,
            "police" | "cop" => Sector::Cop,
            "media" | "news" | "med" => Sector::Med,
            "business" | "bus" => Sector::Bus,
            "religious" | "rel" => Sector::Rel,
            "education" | "edu" => Sector::Edu,
            "rebel" | "insurgents" | "reb" => Sector::Reb,
            "opposition" | "opp" => Sector::Opp,
            "parties" | "political party" | "pty" => Sector::Pty,
            "ngo" | "ngos" | "non-governmental organization" => Sector::Ngo,
            "igo" | "international government organization" => Sector::Igo,
            "intelligence" | "spy" => Sector::Spy,
            _ => continue,
        };
        return s;
    }
    Sector::Cvl
}

fn kind_of_sector(s: Sector) -> ActorKind {
    match s {
        Sector::Gov | Sector::Spy | Sector::Cop => ActorKind::Agency,
        Sector::Mil => ActorKind::Military,
        Sector::Leg => ActorKind::Legislature,
        Sector::Med => ActorKind::Media,
        Sector::Pty => ActorKind::Party,
        _ => ActorKind::Organization,
    }
}

/// The names of CAMEO's root codes 01-20 (CAMEO codebook v1.1b3, Schrodt 2012).
pub const CAMEO_ROOTS: [&str; 20] = [
    "make public statement",
    "appeal",
    "express intent to cooperate",
    "consult",
    "engage in diplomatic cooperation",
    "engage in material cooperation",
    "provide aid",
    "yield",
    "investigate",
    "demand",
    "disapprove",
    "reject",
    "threaten",
    "protest",
    "exhibit force posture",
    "reduce relations",
    "coerce",
    "assault",
    "fight",
    "use unconventional mass violence",
];

/// A CAMEO root as an act of [`Cache::topic`]: its number and `cameo-<root>`.
fn cameo_act(root: &str) -> (u8, &'static str) {
    const IDS: [&str; 20] = [
        "cameo-01", "cameo-02", "cameo-03", "cameo-04", "cameo-05", "cameo-06", "cameo-07",
        "cameo-08", "cameo-09", "cameo-10", "cameo-11", "cameo-12", "cameo-13", "cameo-14",
        "cameo-15", "cameo-16", "cameo-17", "cameo-18", "cameo-19", "cameo-20",
    ];
    let n: u8 = root.parse().unwrap_or(0);
    (
        n,
        IDS.get(usize::from(n).wrapping_sub(1))
            .copied()
            .unwrap_or("cameo-00"),
    )
}

/// The topic title's words for a CAMEO root: its name and code (`demand (CAMEO 10)`).
fn root_words(root: &str) -> String {
    let name = root
        .parse::<usize>()
        .ok()
        .and_then(|n| CAMEO_ROOTS.get(n.wrapping_sub(1)))
        .unwrap_or(&"?");
    format!("{name} (CAMEO {root})")
}

fn cameo(code: &str) -> Result<(String, u8, Option<PloverType>), String> {
    let root = code.get(..2).unwrap_or("");
    let quad = quad_of_cameo_root(root)
        .filter(|_| code.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| format!("CAMEO code `{code}` has no root 01-20"))?;
    Ok((root.to_string(), quad, plover_of_cameo_root(root)))
}

/// The Goldstein scale's bounds, inclusive: -10 (most conflictual) to +10 (most cooperative)
/// (Goldstein, "A Conflict-Cooperation Scale for WEIS Events Data", 1992; GDELT's
/// GoldsteinScale and ICEWS's Intensity use it).
const GOLDSTEIN_SCALE: (f64, f64) = (-10.0, 10.0);

/// A numeric cell (a Goldstein score, an intensity) as written, or `None` when empty; refused,
/// naming `column`, when it is not a number, or, for a cell on the Goldstein scale
/// (`goldstein`), not within [`GOLDSTEIN_SCALE`].
fn scale_cell<'r>(
    column: &str,
    cell: Option<&'r str>,
    goldstein: bool,
) -> Result<Option<&'r str>, Outcome> {
    let Some(text) = cell else {
        return Ok(None);
    };
    let Some(value) = text.parse::<f64>().ok().filter(|v| v.is_finite()) else {
        return Err(refused(format!("{column} `{text}` is not a number")));
    };
    let (lo, hi) = GOLDSTEIN_SCALE;
    if goldstein && !(lo..=hi).contains(&value) {
        return Err(refused(format!(
            "{column} `{text}` is outside the Goldstein scale ({lo} to {hi})"
        )));
    }
    Ok(Some(text))
}

fn skipped(why: &str) -> Outcome {
    Outcome::Skipped(why.to_string())
}

fn refused(why: String) -> Outcome {
    Outcome::Refused(why)
}

fn icews(r: &csv::StringRecord, c: &Columns, cache: &mut Cache) -> Result<Coded, Outcome> {
    let (Some(a), Some(t)) = (c.get(r, A_NAME), c.get(r, R_NAME)) else {
        return Err(skipped("no source or no target actor"));
    };
    let date = c.get(r, DATE).unwrap_or("");
    let (date, _) = parse_date(date).map_err(|e| refused(format!("Event Date: {e}")))?;
    let code = c.get(r, CODE).unwrap_or("");
    let (root, quad, event) = cameo(code).map_err(refused)?;
    let intensity = scale_cell("Intensity", c.get(r, INTENSITY), true)?;
    let (actor, recipient) = cache.source_and_target(r, c, a, t)?;
    let topic = cache
        .topic(&recipient, cameo_act(&root), || root_words(&root))
        .map_err(refused)?;
    // Joined, not formatted (as GDELT's title is): the formatting machinery showed in the
    // reading thread's profile.
    let title = [
        "ICEWS event ",
        c.get(r, ID).unwrap_or("?"),
        ": ",
        c.get(r, EXTRA_2).unwrap_or("?"),
        " (CAMEO ",
        code,
        ", intensity ",
        intensity.unwrap_or("?"),
        "), story ",
        c.get(r, EXTRA_1).unwrap_or("?"),
    ]
    .concat();
    Ok(Coded {
        date,
        actor,
        recipient,
        topic,
        stance: stance_of_quad(quad).unwrap_or(Stance::Neutral),
        event,
        code: code.to_string(),
        cite: Cite {
            publication: c.get(r, SOURCE).unwrap_or("ICEWS").to_string(),
            url: None,
            title: Some(title),
            published: None,
            via: Some(ICEWS_VIA.to_string()),
        },
        recorded: None,
    })
}

/// `cite.via` of ICEWS events.
pub const ICEWS_VIA: &str = "ICEWS Coded Event Data (Boschee et al., doi:10.7910/DVN/28075)";

/// `cite.publication` and `cite.via` of GDELT events.
pub const GDELT: &str = "The GDELT Project";

mod gdelt;
use gdelt::gdelt;

mod plover;
use plover::plover;
