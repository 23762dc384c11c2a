//! `stancelog import treaty-status`: a treaty's status table (UN Treaty Collection, as scraped
//! by openclimatedata), or with `--snapshots` the dated versions of that table.
//!
//! The treaty is a topic of kind `treaty`; each party is an actor whose id is the table's ISO
//! 3166-1 alpha-3 `Code` (a state: kind `state`, sector `GOV`, country = the code; the European
//! Union, `EUU`: kind `organization`, country and sector `IGO`; other codes that are not a
//! state's, such as `IGO` or `XXX`, are refused). A signature is a `signed`
//! stance dated with the signature; a ratification, acceptance, approval or accession is a
//! `ratified` stance dated with it, its `instrument` the table's `Kind` in lower case.
//!
//! Both modes run the same comparison of a table against what came before it:
//!
//! | change in the table | event |
//! | --- | --- |
//! | a signature appears | `stance.declared` `signed` |
//! | a ratification appears (also again, after it was gone) | `stance.declared` `ratified` |
//! | a signature date changes | `stance.corrected` (date) |
//! | a ratification date changes to a day no later than the day the old one was last seen | `stance.corrected` (date, and instrument if the kind changed too) |
//! | a ratification date changes to a day after the old one was last seen | a new `stance.declared` `ratified`: a new instrument (it did not exist when the old one was listed) |
//! | a kind appears or changes | `stance.corrected` (instrument) |
//! | a kind disappears | nothing: a correction cannot clear a field, and the old kind is no less true |
//! | a signature or ratification disappears, or the whole row | `stance.retracted` of each live stance of that sort |
//!
//! With `--snapshots`, the comparison is between consecutive versions, each version one batch
//! recorded at its snapshot date (00:00 UTC; versions of one date 1 µs apart, in file order), so
//! "known at the end of day S" is the last version of S. Without it, the table is compared with
//! what earlier imports of this importer left in the log (nothing, in a new log), recorded now.
//!
//! Event ids are UUID v5 of `treaty/<topic>/<version>/<code>/<what>`, where `<version>` is the
//! commit (snapshots) or `table-` and 12 hex digits of the file's SHA-256 (a table), so importing
//! the same file again appends nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::countries::is_state_code;
use super::engine::{Engine, EngineOptions, Item, Keyed, RowSink};
use super::{ImportReport, Progress, RefusedRow, event_id};
use crate::core::{
    ActorId, ActorKind, ActorRegistered, Cite, Correction, Country, Day, EventBody, Filter,
    History, Instrument, Sector, Stance, StanceCorrected, StanceDeclared, StanceRetracted, Status,
    TopicId, TopicKind, TopicRegistered, ValidDate,
};
use crate::error::{Error, Location, Result};
use crate::store::{LogRef, NewEvent, format_recorded_at};

/// The topic id used when none is given.
pub const DEFAULT_TOPIC: &str = "paris-agreement";

/// The topic title used when none is given.
pub const DEFAULT_TITLE: &str = "Paris Agreement";

/// `cite.publication` of every stance this importer declares. Stances with it are the ones a
/// later table import compares against.
pub const PUBLICATION: &str = "openclimatedata";

/// `cite.via`: the record openclimatedata relays.
pub const VIA: &str = "United Nations Treaty Collection";

/// The code the source gave the European Union in its early versions, read as [`EU_CODE`].
pub const EU_CODE_OLD: &str = "EU28";

/// The European Union's code.
pub const EU_CODE: &str = "EUU";

/// How to import a treaty's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreatyOptions {
    /// Recorded time of a table import (not used with `snapshots`, whose versions are recorded at
    /// their own dates).
    pub now: jiff::Timestamp,
    /// The file holds dated versions (`snapshot_date`, `commit`, ...), each recorded as of its
    /// date; the log must be new, or its events all recorded before the first snapshot date.
    pub snapshots: bool,
    /// The treaty's topic id.
    pub topic: String,
    /// The topic's title, used when this import registers it.
    pub title: String,
}

impl TreatyOptions {
    /// A table import of the Paris Agreement recorded at `now`.
    pub fn new(now: jiff::Timestamp) -> TreatyOptions {
        TreatyOptions {
            now,
            snapshots: false,
            topic: DEFAULT_TOPIC.to_string(),
            title: DEFAULT_TITLE.to_string(),
        }
    }
}

/// Imports a treaty status table, or with `opts.snapshots` its dated versions, into the log at
/// `log`, holding its lock (waiting up to `wait` for it) for the whole import.
///
/// Rows that cannot be read (a code that is not a state's ISO 3166 code or `EUU`, a date that
/// is not a date, an unknown kind, a code twice in one version) are refused and reported; a
/// refused row of a known party leaves that party as it was. A file whose rows are all refused
/// appends nothing (the topic is registered with the first version that appends anything).
///
/// # Errors
/// [`Error::Usage`] when the log does not exist, the topic exists with another kind, or (with
/// snapshots) the log already holds events recorded on or after the first snapshot date that
/// this import did not write, or stances on the topic; [`Error::Input`] for a file that is not a
/// status table (missing columns, a version's rows not together, dates going back); the errors
/// of [`crate::store::Writer::open`] and [`crate::store::Writer::append`].
pub fn import_treaty_status(
    log: &LogRef,
    file: &Path,
    opts: &TreatyOptions,
    wait: Duration,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| Error::io(file.display(), e))?;
    let topic = TopicId::new(&opts.topic).map_err(|e| Error::Usage(format!("--topic: {e}")))?;
    if opts.title.trim().is_empty() {
        return Err(Error::Usage("--title: must not be empty".to_string()));
    }
    let label = if opts.snapshots {
        None
    } else {
        let digest = Sha256::digest(&bytes);
        let mut hex = String::from("table-");
        for b in &digest[..6] {
            let _ = write!(hex, "{b:02x}");
        }
        Some(hex)
    };
    let (versions, refused) = read_versions(&name, &bytes, label.as_deref())?;
    let engine_opts = EngineOptions {
        dataset: format!("treaty/{topic}"),
        key: Vec::new(),
        now: opts.now,
        wait,
        dry_run: false,
        corrections: false,
        // Keyed events: their stances are checked by the writer, with the rest of the event.
        stance_sources: Vec::new(),
        stance_hint: String::new(),
    };
    // A treaty's versions are compared with the topic's state in the log: the whole log.
    let engine = Engine::open_folded(log, engine_opts, progress)?;
    let context = Context {
        topic,
        title: opts.title.clone(),
    };
    let Some(history) = engine.history() else {
        return Err(Error::Usage("the log could not be folded".to_string()));
    };
    let batches = plan_against_log(history, &context, &versions, opts)?;
    let stage = if opts.snapshots { "versions" } else { "table" };
    progress.start(stage, Some(versions.len() as u64));
    let (count, now) = (versions.len(), opts.now);
    engine.import_items(&name, move |sink| {
        produce(sink, refused, batches, (count, now));
        Ok(())
    })
}

/// The batches of the versions, compared with what the log holds: each version's events
/// (registrations the log already has left out), recorded at its snapshot date or `now`.
///
/// # Errors
/// [`Error::Usage`] when the topic exists with another kind, or (snapshots) the log cannot take
/// the versions at their dates.
fn plan_against_log(
    history: &History,
    cx: &Context,
    versions: &[Version],
    opts: &TreatyOptions,
) -> Result<Vec<Batch>> {
    check_topic(history, &cx.topic)?;
    let state = if opts.snapshots {
        State::default()
    } else {
        state_from_log(history, &cx.topic)
    };
    let batches = drop_known_registrations(history, plan(cx, versions, state));
    if opts.snapshots {
        check_snapshot_log(history, &cx.topic, &batches, opts.now)?;
    }
    Ok(batches)
}

/// Hands the engine the refused rows, then each version's events as a batch of its own (split
/// only if it exceeds the batch size), advancing progress by versions (of which there are
/// `versions`; a table's batch is recorded at `now`).
fn produce(
    sink: &mut RowSink,
    refused: Vec<RefusedRow>,
    batches: Vec<Batch>,
    (versions, now): (usize, jiff::Timestamp),
) {
    let mut items: Vec<Item> = refused.into_iter().map(Item::Refused).collect();
    let mut done = 0;
    for batch in batches {
        let at = batch.at(now);
        for event in batch.events {
            let what = event.body.type_name();
            items.push(Item::Keyed(Box::new(Keyed { event, at, what })));
        }
        items.push(Item::Flush);
        items.push(Item::Advance((batch.version + 1 - done) as u64));
        done = batch.version + 1;
    }
    items.push(Item::Advance((versions - done) as u64));
    for item in items {
        if !sink.push_item(item) {
            return;
        }
    }
}

fn check_topic(history: &History, topic: &TopicId) -> Result<()> {
    match history.topic(topic) {
        Some(t) if t.kind != TopicKind::Treaty => Err(Error::Usage(format!(
            "--topic: topic `{topic}` is already registered as a {} topic, not a treaty",
            t.kind
        ))),
        _ => Ok(()),
    }
}

/// Refuses a snapshot import whose versions could not be recorded at their own dates.
fn check_snapshot_log(
    history: &History,
    topic: &TopicId,
    batches: &[Batch],
    now: jiff::Timestamp,
) -> Result<()> {
    // Versions come oldest first: the last is the latest. One recorded after now would
    // stamp every later append after it, for good (a row's own recorded time is refused so
    // too: `import csv --recorded-col`, GDELT's DATEADDED).
    if let Some(b) = batches.last().filter(|b| b.at(now) > now) {
        return Err(Error::Usage(format!(
            "{} is dated in the future (it is now {}): each version is recorded at its snapshot date, when the log learned of it",
            b.label,
            format_recorded_at(&now),
        )));
    }
    let present = |b: &Batch| {
        b.events
            .iter()
            .all(|e| e.id.is_some_and(|id| history.seq_of(&id).is_some()))
    };
    // Versions already in the log (an earlier run of the same import): a prefix.
    let done = batches.iter().take_while(|b| present(b)).count();
    let Some(next) = batches[done..].first() else {
        return Ok(());
    };
    let ours: HashSet<Uuid> = batches[..done]
        .iter()
        .flat_map(|b| b.events.iter().filter_map(|e| e.id))
        .collect();
    if done == 0 {
        let stances = history.topics().get(topic).map_or(0, |t| t.stances);
        if stances > 0 {
            return Err(Error::Usage(format!(
                "topic `{topic}` already has {stances} stance(s) in the log; a snapshot import builds the topic's history from its first version, so it needs a topic without stances (or a new log)"
            )));
        }
    }
    let Some(last) = history.event(history.seq_last()) else {
        return Ok(());
    };
    let first = next.at(now);
    if last.recorded_at < first || ours.contains(&last.id) {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "the log's newest event (seq {}) was recorded at {}, not before {} (the snapshot date of version {}, the first to import): each version is recorded at its own snapshot date, so a snapshot import needs a new log, or one whose events were all recorded before that date",
        last.seq,
        format_recorded_at(&last.recorded_at),
        format_recorded_at(&first),
        next.label,
    )))
}

/// Leaves out registrations of actors and of the topic that the log already holds under
/// another event id (registered by hand or by another importer): they are used as they are.
fn drop_known_registrations(history: &History, mut batches: Vec<Batch>) -> Vec<Batch> {
    for b in &mut batches {
        b.events.retain(|e| {
            let ours = e.id.is_some_and(|id| history.seq_of(&id).is_some());
            match &e.body {
                EventBody::ActorRegistered(a) => ours || !history.actors().contains_key(&a.actor),
                EventBody::TopicRegistered(t) => ours || !history.topics().contains_key(&t.topic),
                _ => true,
            }
        });
    }
    batches.retain(|b| !b.events.is_empty());
    batches
}

// ---------------------------------------------------------------------------------------------
// Reading the file

/// What one row says about a party.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Values {
    signature: Option<ValidDate>,
    ratification: Option<ValidDate>,
    kind: Option<Instrument>,
}

/// One row of a version, its code resolved.
#[derive(Debug, Clone)]
struct Row {
    /// 1-based line in the file.
    line: u64,
    code: String,
    name: String,
    /// `None` when the row was refused: the party stays as it was.
    values: Option<Values>,
}

/// One version of the table: a snapshot, or the one table of a table import.
#[derive(Debug, Clone)]
struct Version {
    /// The commit (snapshots) or `table-<hash>` (a table): part of every event id.
    key: String,
    /// The snapshot date; `None` for a table.
    date: Option<Day>,
    rows: Vec<Row>,
}

impl Version {
    fn describe(&self) -> String {
        match self.date {
            Some(d) => format!("version {} of {d}", self.key),
            None => format!("table {}", self.key),
        }
    }
}

/// Column positions.
struct Columns {
    snapshot_date: Option<usize>,
    commit: Option<usize>,
    code: usize,
    name: usize,
    signature: usize,
    ratification: usize,
    kind: Option<usize>,
}

fn columns(file: &str, header: &csv::StringRecord, snapshots: bool) -> Result<Columns> {
    let find = |name: &str| {
        header.iter().position(|h| {
            h.trim_start_matches('\u{feff}')
                .trim()
                .eq_ignore_ascii_case(name)
        })
    };
    let at = || Location {
        file: file.to_string(),
        line: Some(1),
        field: None,
    };
    let need = |name: &str| {
        find(name).ok_or_else(|| {
            Error::input(
                at(),
                format!(
                    "no `{name}` column: a treaty status table has Code, Name, Signature, Ratification and Kind{}",
                    if snapshots {
                        ", and a snapshots file also snapshot_date and commit"
                    } else {
                        ""
                    }
                ),
            )
        })
    };
    let c = Columns {
        snapshot_date: find("snapshot_date"),
        commit: find("commit"),
        code: need("code")?,
        name: need("name")?,
        signature: need("signature")?,
        ratification: need("ratification")?,
        kind: find("kind"),
    };
    match (snapshots, c.snapshot_date.is_some() && c.commit.is_some()) {
        (true, false) => Err(Error::input(
            at(),
            "no `snapshot_date` and `commit` columns: this is not a snapshots file (leave out --snapshots to import a current status table)",
        )),
        (false, true) => Err(Error::input(
            at(),
            "this file has `snapshot_date` and `commit` columns: it holds dated versions; import it with --snapshots",
        )),
        _ => Ok(c),
    }
}

/// Reads the file into versions (one for a table, labelled `table`), refusing bad rows.
fn read_versions(
    file: &str,
    bytes: &[u8],
    table: Option<&str>,
) -> Result<(Vec<Version>, Vec<RefusedRow>)> {
    let (mut versions, raw) = read_raw(file, bytes, table)?;
    let mut refused = Vec::new();
    let mut names_before: HashMap<String, String> = HashMap::new();
    for (version, rows) in versions.iter_mut().zip(raw) {
        names_before = resolve_codes(file, version, rows, &names_before, &mut refused);
    }
    Ok((versions, refused))
}

/// The versions of the file (their rows still empty) and the raw rows of each, in file order.
///
/// # Errors
/// [`Error::Input`] for malformed CSV, a bad commit or snapshot date, a version's rows not
/// together, dates going back, or no rows at all.
fn read_raw(
    file: &str,
    bytes: &[u8],
    table: Option<&str>,
) -> Result<(Vec<Version>, Vec<Vec<RawRow>>)> {
    // Flexible: a row of another width is refused as a row (below), not the whole file.
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| super::csv_error(file, e))?
        .clone();
    let cols = columns(file, &header, table.is_none())?;
    let mut lines = super::LineCounter::new(bytes);
    let mut versions: Vec<Version> = Vec::new();
    let mut keys_seen: HashSet<String> = HashSet::new();
    let mut raw: Vec<Vec<RawRow>> = Vec::new();
    let mut record = csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .map_err(|e| super::csv_error_lines(file, e, &mut lines))?
    {
        let line = lines.record_line(record.position().map_or(0, |p| p.byte()), file)?;
        let get = |i: usize| record.get(i).unwrap_or("").trim().to_string();
        let at = |field: &str| Location {
            file: file.to_string(),
            line: Some(line),
            field: Some(field.to_string()),
        };
        let (key, date) = match table {
            Some(t) => (t.to_string(), None),
            None => snapshot_of(&get, &cols, &at)?,
        };
        if versions.last().is_none_or(|v| v.key != key) {
            check_next_version(&versions, &mut keys_seen, &key, date, &at)?;
            versions.push(Version {
                key,
                date,
                rows: Vec::new(),
            });
            raw.push(Vec::new());
        } else if let (Some(d), Some(v)) = (date, versions.last())
            && Some(d) != v.date
        {
            return Err(Error::input(
                at("snapshot_date"),
                format!(
                    "snapshot date {d} differs from the date of the rest of version {key} ({})",
                    v.date.map(|d| d.to_string()).unwrap_or_default()
                ),
            ));
        }
        if let Some(rows) = raw.last_mut() {
            rows.push(RawRow {
                line,
                code: get(cols.code),
                name: get(cols.name),
                signature: get(cols.signature),
                ratification: get(cols.ratification),
                kind: cols.kind.map(get).unwrap_or_default(),
                width: super::width_mismatch(record.len(), header.len()),
            });
        }
    }
    if versions.is_empty() {
        return Err(super::rowless(file, super::Rowless::HeaderOnly));
    }
    Ok((versions, raw))
}

/// A snapshot row's version: its commit and snapshot date.
fn snapshot_of(
    get: &dyn Fn(usize) -> String,
    cols: &Columns,
    at: &dyn Fn(&str) -> Location,
) -> Result<(String, Option<Day>)> {
    let commit = cols.commit.map(get).unwrap_or_default();
    if commit.is_empty() || commit.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(Error::input(
            at("commit"),
            format!("`{commit}` is not a commit id"),
        ));
    }
    let text = cols.snapshot_date.map(get).unwrap_or_default();
    let date = Day::parse(&text).map_err(|e| Error::input(at("snapshot_date"), e.to_string()))?;
    Ok((commit, Some(date)))
}

/// Checks that a version beginning here is new and not older than the one before.
fn check_next_version(
    versions: &[Version],
    keys_seen: &mut HashSet<String>,
    key: &str,
    date: Option<Day>,
    at: &dyn Fn(&str) -> Location,
) -> Result<()> {
    if !keys_seen.insert(key.to_string()) {
        return Err(Error::input(
            at("commit"),
            format!(
                "commit {key} appears again after other commits: each version's rows must come together, oldest version first"
            ),
        ));
    }
    if let (Some(d), Some(prev)) = (date, versions.last().and_then(|v| v.date))
        && d < prev
    {
        return Err(Error::input(
            at("snapshot_date"),
            format!(
                "snapshot date {d} is earlier than the version before it ({prev}): versions must come oldest first"
            ),
        ));
    }
    Ok(())
}

/// Resolves the codes of one version's raw rows into its rows, refusing bad ones; returns the
/// code of each party name of this version (for the next version's rows without a code).
fn resolve_codes(
    file: &str,
    version: &mut Version,
    rows: Vec<RawRow>,
    names_before: &HashMap<String, String>,
    refused: &mut Vec<RefusedRow>,
) -> HashMap<String, String> {
    let codes_here: HashSet<String> = rows.iter().map(|r| normal_code(&r.code)).collect();
    let mut taken: HashSet<String> = HashSet::new();
    let mut names_now = HashMap::new();
    for r in rows {
        let code = match code_of(&r, names_before, &codes_here, &mut taken, version) {
            Ok(c) => c,
            Err(reason) => {
                refused.push(RefusedRow {
                    file: file.to_string(),
                    line: r.line,
                    reason,
                });
                continue;
            }
        };
        names_now.insert(r.name.clone(), code.clone());
        let values = values(&r)
            .map_err(|reason| {
                refused.push(RefusedRow {
                    file: file.to_string(),
                    line: r.line,
                    reason: format!("{code}: {reason}; the party is left as it was"),
                })
            })
            .ok();
        version.rows.push(Row {
            line: r.line,
            code,
            name: r.name,
            values,
        });
    }
    names_now
}

/// A raw row's code, or why the row is refused. A row without its code is the party of that
/// name in the version before, unless its code is listed in this version too.
fn code_of(
    r: &RawRow,
    names_before: &HashMap<String, String>,
    codes_here: &HashSet<String>,
    taken: &mut HashSet<String>,
    version: &Version,
) -> std::result::Result<String, String> {
    let mut code = normal_code(&r.code);
    if code.is_empty() {
        match names_before.get(&r.name) {
            Some(c) if !codes_here.contains(c) => code = c.clone(),
            _ => {
                return Err(format!(
                    "no code, and `{}` names no party of the version before whose code is missing here",
                    r.name
                ));
            }
        }
    }
    // A state's code in ISO 3166 (not only three capital letters), or the EU's: the other
    // codes a `country` takes (IGO, NGO, user-assigned) name no party.
    if code != EU_CODE && !is_state_code(&code) {
        return Err(format!(
            "code: `{code}` is not a state's code (ISO 3166-1 alpha-3, a former ISO 3166-3 code, or XKX for Kosovo), nor EUU for the European Union: a treaty's party is one of those"
        ));
    }
    if let Err(e) = ActorId::new(&code) {
        return Err(format!("code: {e}"));
    }
    if !taken.insert(code.clone()) {
        return Err(format!(
            "code {code} is listed twice in {}",
            version.describe()
        ));
    }
    Ok(code)
}

struct RawRow {
    line: u64,
    /// Why the row's width is refused (not the header's), if it is.
    width: Option<String>,
    code: String,
    name: String,
    signature: String,
    ratification: String,
    kind: String,
}

fn normal_code(code: &str) -> String {
    if code == EU_CODE_OLD {
        EU_CODE.to_string()
    } else {
        code.to_string()
    }
}

fn values(r: &RawRow) -> std::result::Result<Values, String> {
    let date = |text: &str, what: &str| -> std::result::Result<Option<ValidDate>, String> {
        if text.is_empty() {
            Ok(None)
        } else {
            ValidDate::parse(text)
                .map(Some)
                .map_err(|e| format!("{what}: {e}"))
        }
    };
    if let Some(width) = &r.width {
        return Err(width.clone());
    }
    if r.name.is_empty() {
        return Err("no name".to_string());
    }
    let signature = date(&r.signature, "signature")?;
    let ratification = date(&r.ratification, "ratification")?;
    let kind = if r.kind.is_empty() {
        None
    } else {
        let k = Instrument::parse(&r.kind.to_lowercase()).ok_or_else(|| {
            format!(
                "kind `{}` is none of Ratification, Acceptance, Approval, Accession",
                r.kind
            )
        })?;
        Some(k)
    };
    if kind.is_some() && ratification.is_none() {
        return Err(format!("kind `{}` without a ratification date", r.kind));
    }
    Ok(Values {
        signature,
        ratification,
        kind,
    })
}

// ---------------------------------------------------------------------------------------------
// Comparing versions

/// A live (unretracted) stance of a party, as the importer last wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    id: Uuid,
    date: ValidDate,
    instrument: Option<Instrument>,
    /// The last day it was seen listed (snapshot date, or the day it was last recorded).
    seen: Day,
}

/// A party's live stances, oldest first in canonical order: the last one is the current.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Party {
    signed: Vec<Held>,
    ratified: Vec<Held>,
}

/// The parties listed by the version before (or, for a table import, holding stances of this
/// importer in the log), and what the version before is called in reasons.
#[derive(Debug, Clone, Default)]
struct State {
    parties: BTreeMap<String, Party>,
    before: Option<String>,
    registered: HashSet<String>,
    topic_registered: bool,
}

struct Context {
    topic: TopicId,
    title: String,
}

/// One version's events, to be appended as one batch.
#[derive(Debug, Clone)]
struct Batch {
    /// Index of the version in the file.
    version: usize,
    label: String,
    date: Option<Day>,
    events: Vec<NewEvent>,
}

impl Batch {
    /// Its recorded time: the snapshot date at 00:00 UTC, or (a table) `now`.
    fn at(&self, now: jiff::Timestamp) -> jiff::Timestamp {
        self.date.map_or(now, |d| d.midnight_utc())
    }
}

/// The state of a table import's topic in the log: each actor's live `signed` and `ratified`
/// stances cited to [`PUBLICATION`].
fn state_from_log(history: &History, topic: &TopicId) -> State {
    let mut state = State {
        before: Some("what earlier imports left in the log".to_string()),
        topic_registered: history.topics().contains_key(topic),
        registered: history.actors().keys().map(|a| a.to_string()).collect(),
        ..State::default()
    };
    if !state.topic_registered {
        return state;
    }
    let filter = Filter {
        topics: [topic.clone()].into(),
        ..Filter::default()
    };
    for entry in history.timeline_at(None, &filter) {
        if matches!(entry.status, Status::Retracted { .. }) {
            continue;
        }
        let p = &entry.position;
        if p.stance.cite.publication != PUBLICATION {
            continue;
        }
        let last = p
            .corrections
            .last()
            .map_or(p.event.recorded_at, |c| c.recorded_at);
        let last = jiff::tz::Offset::UTC.to_datetime(last).date();
        let Some(seen) = Day::from_ymd(
            i32::from(last.year()),
            last.month() as u32,
            last.day() as u32,
        ) else {
            continue;
        };
        let held = Held {
            id: p.event.id,
            date: p.stance.date,
            instrument: p.stance.instrument,
            seen,
        };
        let party = state
            .parties
            .entry(p.stance.actor.as_str().to_string())
            .or_default();
        match p.stance.stance {
            Stance::Signed => party.signed.push(held),
            Stance::Ratified => party.ratified.push(held),
            _ => {}
        }
    }
    state
}

/// The events of every version, compared in turn with the state before it.
fn plan(cx: &Context, versions: &[Version], mut state: State) -> Vec<Batch> {
    let mut out = Vec::new();
    for (i, v) in versions.iter().enumerate() {
        let events = plan_version(cx, v, &mut state);
        out.push(Batch {
            version: i,
            label: v.describe(),
            date: v.date,
            events,
        });
    }
    out
}

struct Emit<'a> {
    cx: &'a Context,
    version: &'a Version,
    before: String,
    events: Vec<NewEvent>,
}

impl Emit<'_> {
    fn key(&self, code: &str, what: &str) -> Uuid {
        event_id(&format!(
            "treaty/{}/{}/{code}/{what}",
            self.cx.topic, self.version.key
        ))
    }

    fn push(&mut self, id: Uuid, line: u64, body: EventBody) {
        self.events.push(NewEvent {
            id: Some(id),
            body,
            line,
        });
    }

    fn cite(&self) -> Cite {
        let title = match self.version.date {
            Some(d) => format!(
                "{}: status of signature and ratification, version {} of {d}",
                self.cx.title, self.version.key
            ),
            None => format!(
                "{}: status of signature and ratification ({})",
                self.cx.title, self.version.key
            ),
        };
        Cite {
            publication: PUBLICATION.to_string(),
            url: None,
            title: Some(title),
            published: self.version.date.map(ValidDate::from_day),
            via: Some(VIA.to_string()),
        }
    }

    fn declare(
        &mut self,
        code: &str,
        line: u64,
        stance: Stance,
        date: ValidDate,
        instrument: Option<Instrument>,
    ) -> Uuid {
        let id = self.key(code, stance.as_str());
        let body = EventBody::StanceDeclared(StanceDeclared {
            actor: actor_id(code),
            topic: self.cx.topic.clone(),
            stance,
            date,
            time: None,
            event: None,
            recipient: None,
            quote: None,
            cite: self.cite(),
            instrument,
        });
        self.push(id, line, body);
        id
    }

    fn between(&self) -> String {
        format!("between {} and {}", self.before, self.version.describe())
    }

    fn retract(&mut self, code: &str, line: u64, what: &str, held: &[Held], why: &str) {
        for (n, h) in held.iter().enumerate() {
            let suffix = if n == 0 {
                String::new()
            } else {
                format!("-{}", n + 1)
            };
            let id = self.key(code, &format!("{what}-retracted{suffix}"));
            let reason = format!(
                "the UN Treaty Collection status table stopped listing {why} ({what} {}) {}",
                h.date,
                self.between()
            );
            self.push(
                id,
                line,
                EventBody::StanceRetracted(StanceRetracted {
                    target: h.id,
                    reason,
                }),
            );
        }
    }

    fn correct(
        &mut self,
        code: &str,
        line: u64,
        what: &str,
        target: Uuid,
        c: Correction,
        words: &[String],
    ) {
        let id = self.key(code, &format!("{what}-corrected"));
        let reason = format!(
            "the UN Treaty Collection status table changed {}: {}",
            self.between(),
            words.join("; ")
        );
        self.push(
            id,
            line,
            EventBody::StanceCorrected(StanceCorrected {
                target,
                correction: c,
                reason,
            }),
        );
    }
}

fn actor_id(code: &str) -> ActorId {
    // Codes are checked when read (three capital letters), so this cannot fail.
    ActorId::new(code).unwrap_or_else(|_| unreachable!("code {code} was checked when read"))
}

fn actor(code: &str, name: &str) -> Option<ActorRegistered> {
    let (kind, country, sector) = if code == EU_CODE {
        (
            ActorKind::Organization,
            Country::new("IGO").ok()?,
            Sector::Igo,
        )
    } else {
        (ActorKind::State, Country::new(code).ok()?, Sector::Gov)
    };
    Some(ActorRegistered {
        actor: ActorId::new(code).ok()?,
        name: name.to_string(),
        kind,
        country,
        sector,
        aliases: Vec::new(),
    })
}

fn instrument_name(i: Option<Instrument>) -> &'static str {
    i.map_or("(none)", |i| i.as_str())
}

fn plan_version(cx: &Context, v: &Version, state: &mut State) -> Vec<NewEvent> {
    let mut emit = Emit {
        cx,
        version: v,
        before: state.before.clone().unwrap_or_default(),
        events: Vec::new(),
    };
    let first_line = v.rows.first().map_or(0, |r| r.line);
    let mut listed: HashSet<&str> = HashSet::new();
    let mut next: BTreeMap<String, Party> = BTreeMap::new();
    let today = v.date;
    for row in &v.rows {
        listed.insert(&row.code);
        // A refused row (no values) appends nothing of its own, its registration neither.
        if row.values.is_some() && !state.registered.contains(&row.code) {
            if let Some(a) = actor(&row.code, &row.name) {
                let id = emit.key(&row.code, "registered");
                emit.push(id, row.line, EventBody::ActorRegistered(a));
            }
            state.registered.insert(row.code.clone());
        }
        let mut party = state.parties.remove(&row.code).unwrap_or_default();
        if let Some(values) = &row.values {
            compare(&mut emit, row, values, &mut party, today);
        }
        next.insert(row.code.clone(), party);
    }
    // Parties the version before listed and this one does not.
    for (code, party) in std::mem::take(&mut state.parties) {
        if listed.contains(code.as_str()) {
            continue;
        }
        let why = "the party";
        emit.retract(&code, first_line, "signed", &party.signed, why);
        emit.retract(&code, first_line, "ratified", &party.ratified, why);
    }
    state.parties = next;
    state.before = Some(v.describe());
    // The topic is registered with the first version that appends anything: a version whose
    // rows are all refused appends nothing, not a topic without stances.
    if !state.topic_registered && !emit.events.is_empty() {
        let topic = NewEvent {
            id: Some(event_id(&format!("treaty/{}/topic", cx.topic))),
            body: EventBody::TopicRegistered(TopicRegistered {
                topic: cx.topic.clone(),
                title: cx.title.clone(),
                kind: TopicKind::Treaty,
                resolution: None,
                session: None,
                issues: Vec::new(),
                important: None,
            }),
            line: first_line,
        };
        emit.events.insert(0, topic);
        state.topic_registered = true;
    }
    emit.events
}

/// Compares one party's row with its live stances, emitting what changed and updating them.
fn compare(emit: &mut Emit<'_>, row: &Row, now: &Values, party: &mut Party, today: Option<Day>) {
    compare_signature(emit, row, now, party, today);
    compare_ratification(emit, row, now, party, today);
}

/// The signature part of [`compare`]: one act, so a different date can only be a correction.
fn compare_signature(
    emit: &mut Emit<'_>,
    row: &Row,
    now: &Values,
    party: &mut Party,
    today: Option<Day>,
) {
    let (code, line) = (row.code.as_str(), row.line);
    match (now.signature, party.signed.last().cloned()) {
        (None, None) => {}
        (Some(d), None) => {
            let id = emit.declare(code, line, Stance::Signed, d, None);
            party.signed.push(Held {
                id,
                date: d,
                instrument: None,
                seen: today.unwrap_or(d.start()),
            });
        }
        (None, Some(_)) => {
            emit.retract(code, line, "signed", &party.signed, "the signature");
            party.signed.clear();
        }
        (Some(d), Some(h)) => {
            if d != h.date {
                let c = Correction {
                    date: Some((d, None)),
                    ..Correction::default()
                };
                let words = vec![format!("signature date {} became {d}", h.date)];
                emit.correct(code, line, "signed", h.id, c, &words);
            }
            if let Some(last) = party.signed.last_mut() {
                last.date = d;
                if let Some(t) = today {
                    last.seen = t;
                }
            }
        }
    }
}

/// The ratification part of [`compare`]: a later date after the old listing was last seen is a
/// new instrument; any other change a correction.
fn compare_ratification(
    emit: &mut Emit<'_>,
    row: &Row,
    now: &Values,
    party: &mut Party,
    today: Option<Day>,
) {
    let (code, line) = (row.code.as_str(), row.line);
    match (now.ratification, party.ratified.last().cloned()) {
        (None, None) => {}
        (Some(d), None) => {
            let id = emit.declare(code, line, Stance::Ratified, d, now.kind);
            party.ratified.push(Held {
                id,
                date: d,
                instrument: now.kind,
                seen: today.unwrap_or(d.start()),
            });
        }
        (None, Some(_)) => {
            emit.retract(code, line, "ratified", &party.ratified, "the ratification");
            party.ratified.clear();
        }
        (Some(d), Some(h)) if d != h.date && d.start() > h.seen => {
            // Dated after the old listing was last seen: a new instrument, not the old one's
            // date set right (the USA's 2021 acceptance after its 2016 one).
            let id = emit.declare(code, line, Stance::Ratified, d, now.kind);
            party.ratified.push(Held {
                id,
                date: d,
                instrument: now.kind,
                seen: today.unwrap_or(d.start()),
            });
        }
        (Some(d), Some(h)) => {
            let mut c = Correction::default();
            let mut words = Vec::new();
            if d != h.date {
                c.date = Some((d, None));
                words.push(format!("ratification date {} became {d}", h.date));
            }
            if now.kind.is_some() && now.kind != h.instrument {
                c.instrument = now.kind;
                words.push(format!(
                    "kind {} became {}",
                    instrument_name(h.instrument),
                    instrument_name(now.kind)
                ));
            }
            if !words.is_empty() {
                emit.correct(code, line, "ratified", h.id, c, &words);
            }
            if let Some(last) = party.ratified.last_mut() {
                last.date = d;
                if now.kind.is_some() {
                    last.instrument = now.kind;
                }
                if let Some(t) = today {
                    last.seen = t;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(text: &str) -> Vec<Version> {
        read_versions("t.csv", text.as_bytes(), None).unwrap().0
    }

    fn cx() -> Context {
        Context {
            topic: TopicId::new("t").unwrap(),
            title: "T".to_string(),
        }
    }

    const HEAD: &str =
        "snapshot_date,commit,code,name,signature,ratification,kind,date_of_effect\n";

    fn types(b: &Batch) -> Vec<&'static str> {
        b.events.iter().map(|e| e.body.type_name()).collect()
    }

    #[test]
    fn a_later_date_after_the_last_sighting_is_a_new_instrument() {
        let text = format!(
            "{HEAD}2020-01-01,a,USA,United States,2016-04-22,2016-09-03,Acceptance,\n\
             2021-01-21,b,USA,United States,2016-04-22,2021-01-20,Acceptance,\n"
        );
        let b = plan(&cx(), &versions(&text), State::default());
        assert_eq!(
            types(&b[0]),
            [
                "topic.registered",
                "actor.registered",
                "stance.declared",
                "stance.declared"
            ]
        );
        assert_eq!(types(&b[1]), ["stance.declared"]);
    }

    #[test]
    fn an_earlier_date_or_a_kind_is_a_correction() {
        let text = format!(
            "{HEAD}2020-01-01,a,FRA,France,2016-04-22,2016-10-05,,\n\
             2020-02-01,b,FRA,France,2016-04-22,2016-10-06,Approval,\n"
        );
        let b = plan(&cx(), &versions(&text), State::default());
        assert_eq!(types(&b[1]), ["stance.corrected"]);
        let EventBody::StanceCorrected(c) = &b[1].events[0].body else {
            panic!()
        };
        assert_eq!(c.correction.fields(), ["date", "instrument"]);
        assert!(c.reason.contains("version a of 2020-01-01"), "{}", c.reason);
        assert!(c.reason.contains("version b of 2020-02-01"), "{}", c.reason);
    }

    #[test]
    fn codes_are_resolved_and_bad_rows_refused() {
        let text = format!(
            "{HEAD}2020-01-01,a,EU28,European Union,2016-04-22,,,\n\
             2020-01-01,a,PSE,State of Palestine,2016-04-22,,,\n\
             2020-02-01,b,EUU,European Union,2016-04-22,,,\n\
             2020-02-01,b,,State of Palestine,2016-04-22,,,\n\
             2020-02-01,b,xx,Nowhere,2016-04-22,,,\n\
             2020-02-01,b,FRA,France,2016-13-22,,,\n"
        );
        let (v, refused) = read_versions("t.csv", text.as_bytes(), None).unwrap();
        let codes: Vec<&str> = v[1].rows.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["EUU", "PSE", "FRA"]);
        assert_eq!(v[0].rows[0].code, "EUU");
        assert_eq!(refused.len(), 2);
        assert_eq!(refused[0].line, 6);
        let b = plan(&cx(), &v, State::default());
        // FRA's row is refused: nothing of it is appended, its registration neither.
        assert!(types(&b[1]).is_empty(), "{:?}", types(&b[1]));
    }
}
