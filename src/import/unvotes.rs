//! `stancelog import unvotes DIR`: UN General Assembly roll-call votes (Erik Voeten's data, as
//! shipped by the `unvotes` R package) from `DIR/unvotes.csv`, `DIR/roll_calls.csv` and
//! `DIR/issues.csv`.
//!
//! - Each country is an actor of kind `state`, sector `GOV`, whose id is its ISO 3166-1 alpha-3
//!   code (the data's alpha-2 `country_code` mapped with the ISO table of `rust_iso3166`).
//!   Historical states keep actors of their own: their ISO 3166-3 four-letter code is the id and
//!   their former alpha-3 code the country ([`FORMER`]); the rows without a code get ids of
//!   their own ([`UNCODED`]). The table is in `events/README.md`, "Imports".
//! - Each roll call is a topic of kind `vote`, id `unvotes-rcid-<rcid>`, with its resolution,
//!   session, issue tags and important-vote flag.
//! - Each vote is a `stance.declared` (`yes`, `no`, `abstain`) dated the roll call's date.
//!
//! Events come in this order: actors (by id), topics (by date, then rcid), votes (by date, rcid,
//! actor id). Their ids are UUID v5 of `unvotes/actor/<id>`, `unvotes/topic/<rcid>` and
//! `unvotes/vote/<rcid>/<actor id>`, so importing again appends nothing. A row that cannot be
//! imported is reported in [`ImportReport::refused`] and the rest goes on.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::engine::{Engine, EngineOptions, Item, Keyed, RowSink};
use super::{ImportReport, Progress, RefusedRow, Table, event_id, field};
use crate::core::{
    ActorId, ActorKind, ActorRegistered, Cite, Country, EventBody, Sector, Stance, StanceDeclared,
    TopicId, TopicKind, TopicRegistered, ValidDate,
};
use crate::error::{Error, Result};
use crate::store::{LogRef, NewEvent, Record};

/// `cite.publication` of every imported vote.
pub const PUBLICATION: &str =
    "Erik Voeten, United Nations General Assembly Voting Data (unvotes R package)";

/// Historical states: the data's alpha-2 code and the ISO 3166-3 code that becomes the actor id.
/// The actor's country is the former alpha-3 code ISO 3166-3 gives for it.
pub const FORMER: &[(&str, &str)] = &[
    ("YU", "YUCS"), // Yugoslavia -> YUG
    ("CS", "CSHH"), // Czechoslovakia -> CSK (not Serbia and Montenegro, CSXX: not in the data)
    ("DD", "DDDE"), // German Democratic Republic -> DDR
    ("YD", "YDYE"), // Yemen People's Republic (South Yemen) -> YMD
    ("SU", "SUHH"), // USSR -> SUN (the data codes the USSR as RU, so this is not used today)
];

/// Rows with an empty `country_code`: the data's country name, the actor id given to it (lower
/// case with a hyphen, so it cannot clash with an ISO code) and the nearest alpha-3 country.
pub const UNCODED: &[(&str, &str, &str)] = &[
    ("Yemen Arab Republic", "x-yemen-arab-republic", "YEM"),
    ("Zanzibar", "x-zanzibar", "TZA"),
    (
        "Federal Republic of Germany",
        "x-federal-republic-of-germany",
        "DEU",
    ),
];

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    /// The recorded time of the import's batches (each later batch one microsecond later, as
    /// the writer makes recorded time rise strictly).
    pub now: jiff::Timestamp,
    /// How long to wait for another writer's lock.
    pub wait: Duration,
}

/// The topic id of a roll call: `unvotes-rcid-<rcid>`.
pub fn topic_id(rcid: u32) -> String {
    format!("unvotes-rcid-{rcid}")
}

/// The actor a `country_code` (and, when it is empty, a `country` name) stands for: its id and
/// its country, or why there is none.
///
/// # Errors
/// A reason in words for a code that is neither ISO 3166-1 alpha-2 nor a historical code of
/// [`FORMER`], or an empty code whose name is not one of [`UNCODED`].
pub fn actor_for(code: &str, name: &str) -> Result<(String, Country, Option<String>), String> {
    let country = |c: &str| Country::new(c).map_err(|e| e.to_string());
    if code.is_empty() {
        return match UNCODED.iter().find(|(n, _, _)| *n == name) {
            Some((_, id, c)) => Ok((id.to_string(), country(c)?, None)),
            None => Err(format!(
                "empty country_code, and `{name}` is not one of the states without a code ({})",
                UNCODED
                    .iter()
                    .map(|(n, _, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
    }
    if let Some((_, former)) = FORMER.iter().find(|(a2, _)| *a2 == code) {
        let iso = rust_iso3166::iso3166_3::from_code(former)
            .ok_or_else(|| format!("ISO 3166-3 code {former} missing from the ISO table"))?;
        return Ok((
            former.to_string(),
            country(iso.former.alpha3)?,
            Some(iso.name.to_string()),
        ));
    }
    match rust_iso3166::from_alpha2(code) {
        Some(c) => Ok((
            c.alpha3.to_string(),
            country(c.alpha3)?,
            Some(c.name.to_string()),
        )),
        None => Err(format!(
            "country_code `{code}` is not an ISO 3166-1 alpha-2 code nor a historical one ({})",
            FORMER
                .iter()
                .map(|(a2, _)| *a2)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// A roll call as read from `roll_calls.csv`.
struct RollCall {
    rcid: u32,
    line: u64,
    topic: TopicId,
    body: TopicRegistered,
    date: ValidDate,
    cite_title: Option<String>,
}

/// An actor as first seen in `unvotes.csv`.
struct ActorSeen {
    id: String,
    country: Country,
    names: Vec<String>,
    iso_name: Option<String>,
    line: u64,
}

/// One accepted vote row, kept small: the full event is built only when its batch is.
struct Vote {
    roll_call: u32,
    actor: u32,
    stance: Stance,
    line: u64,
}

/// The three files, by name as messages give them.
struct Files {
    votes: PathBuf,
    calls: PathBuf,
    issues: PathBuf,
}

impl Files {
    /// The files of `dir`, each checked to exist (before the import waits for the lock).
    fn in_dir(dir: &Path) -> Result<Files> {
        let files = Files {
            votes: dir.join("unvotes.csv"),
            calls: dir.join("roll_calls.csv"),
            issues: dir.join("issues.csv"),
        };
        for p in [&files.votes, &files.calls, &files.issues] {
            if !p.is_file() {
                return Err(Error::io(
                    p.display(),
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
                ));
            }
        }
        Ok(files)
    }
}

/// What the three files say: roll calls (sorted by date, then rcid), actors (sorted by id),
/// votes (each naming its roll call and actor by index; sorted by roll call, then actor), and
/// the rows refused on the way.
struct Data {
    calls: Vec<RollCall>,
    actors: Vec<ActorSeen>,
    votes: Vec<Vote>,
    refused: Vec<RefusedRow>,
}

impl Data {
    fn read(files: &Files) -> Result<Data> {
        let mut refused = Vec::new();
        let issues = read_issues(&files.issues, &mut refused)?;
        let (mut calls, refused_calls) = read_roll_calls(&files.calls, issues, &mut refused)?;
        calls.sort_by_key(|c| (c.date.start(), c.rcid));
        let (actors, mut votes) = read_votes(&files.votes, &calls, &refused_calls, &mut refused)?;
        // (roll call, actor) is unique once second votes are refused.
        votes.sort_unstable_by_key(|v| (v.roll_call, v.actor));
        Ok(Data {
            calls,
            actors,
            votes,
            refused,
        })
    }
}

/// Imports the UN votes in `dir` into the log at `log`.
///
/// The files are read first; then one import [`Engine`] holds the log's lock for the whole
/// import and appends, from a `Source` of keyed events: the actors (a batch), the roll calls
/// (a batch), then the votes in batches of [`super::IMPORT_BATCH_EVENTS`], each durable before
/// the next is appended. The vote events are built on a second thread while the batches
/// before them are appended. When the import returns, the lock is released; the folded log is
/// freed on a thread of its own. An actor or topic id already registered by other means is used
/// as it is (not registered again); a vote whose event id is already in the log with other
/// content is refused, as are rows with an unknown roll call, a vote other than yes/no/abstain,
/// an unknown country code, or a second vote of the same state in one roll call.
///
/// # Errors
/// [`Error::Io`] when a file cannot be read or the lock is not had in time; [`Error::Input`]
/// when a file is not CSV or lacks a column; the errors of [`crate::store::Writer::append`] (a batch the store
/// refuses: the batches before it stay appended, and running the import again resumes).
pub fn import(
    log: &LogRef,
    dir: &Path,
    opts: &Options,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    let files = Files::in_dir(dir)?;
    let data = Data::read(&files)?;
    let engine_opts = EngineOptions {
        dataset: "unvotes".to_string(),
        key: Vec::new(),
        now: opts.now,
        wait: opts.wait,
        dry_run: false,
        corrections: false,
        // Keyed events: their stances are checked by the writer, with the rest of the event.
        stance_sources: Vec::new(),
        stance_hint: String::new(),
    };
    let mut engine = Engine::open(log, engine_opts, progress)?;
    let source = Source::new(data, |t| engine.topic_kind_of(t), &files, opts.now)?;
    progress.start("unvotes", Some(source.total()));
    let votes_name = files.votes.display().to_string();
    engine.import_items(&votes_name, move |sink| {
        source.produce(sink);
        Ok(())
    })
}

/// The UN votes as the engine takes them: registrations and votes keyed by the importer
/// (`unvotes/actor/<id>`, `unvotes/topic/<rcid>`, `unvotes/vote/<rcid>/<actor id>`).
struct Source {
    data: Data,
    actor_ids: Vec<ActorId>,
    /// A cite per roll call.
    cites: Vec<Cite>,
    /// Roll calls whose topic id the log holds as another kind of topic: why their votes are
    /// refused.
    wrong_kind: HashMap<u32, String>,
    votes_file: String,
    calls_file: String,
    now: jiff::Timestamp,
}

impl Source {
    /// The source of `data`; `kind_of` gives the kind of a topic the log has registered.
    fn new(
        data: Data,
        mut kind_of: impl FnMut(&TopicId) -> Result<Option<TopicKind>>,
        files: &Files,
        now: jiff::Timestamp,
    ) -> Result<Source> {
        let actor_ids = data
            .actors
            .iter()
            .map(|a| ActorId::new(&a.id).map_err(|e| Error::Usage(e.to_string())))
            .collect::<Result<_>>()?;
        let mut wrong_kind = Vec::new();
        for c in &data.calls {
            if let Some(kind) = kind_of(&c.topic)?.filter(|k| *k != TopicKind::Vote) {
                let why = format!(
                    "topic `{}` is registered as a {kind} topic, not a vote",
                    c.topic
                );
                wrong_kind.push((c.rcid, why));
            }
        }
        let wrong_kind = wrong_kind.into_iter().collect();
        let cites = data
            .calls
            .iter()
            .map(|c| Cite {
                publication: PUBLICATION.to_string(),
                url: None,
                title: c.cite_title.clone(),
                published: None,
                via: None,
            })
            .collect();
        Ok(Source {
            data,
            actor_ids,
            cites,
            wrong_kind,
            votes_file: files.votes.display().to_string(),
            calls_file: files.calls.display().to_string(),
            now,
        })
    }

    /// Progress units: actors, roll calls and votes.
    fn total(&self) -> u64 {
        (self.data.actors.len() + self.data.calls.len() + self.data.votes.len()) as u64
    }

    fn keyed(&self, key: &str, body: EventBody, line: u64, what: &'static str) -> Item {
        Item::Keyed(Box::new(Keyed {
            event: NewEvent {
                id: Some(event_id(key)),
                body,
                line,
            },
            at: self.now,
            what,
        }))
    }

    /// Hands the engine the refused rows, the actors (a batch), the roll calls (a batch), then
    /// the votes; stops early when the engine has stopped.
    fn produce(self, sink: &mut RowSink) {
        for r in &self.data.refused {
            if !sink.push_item(Item::Refused(r.clone())) {
                return;
            }
        }
        let actors = self.data.actors.iter().zip(&self.actor_ids).map(|(a, id)| {
            let body = EventBody::ActorRegistered(actor_body(a, id.clone()));
            self.keyed(&format!("unvotes/actor/{}", a.id), body, a.line, "actor")
        });
        let calls = self.data.calls.iter().map(|c| {
            let body = EventBody::TopicRegistered(c.body.clone());
            self.keyed(&format!("unvotes/topic/{}", c.rcid), body, c.line, "topic")
        });
        let sections: [(&str, Box<dyn Iterator<Item = Item>>); 2] = [
            (&self.votes_file, Box::new(actors)),
            (&self.calls_file, Box::new(calls)),
        ];
        for (file, items) in sections {
            if !sink.push_item(Item::File(file.to_string())) {
                return;
            }
            let mut n = 0;
            for item in items {
                n += 1;
                if !sink.push_item(item) {
                    return;
                }
            }
            if !sink.push_item(Item::Advance(n)) {
                return;
            }
        }
        if !sink.push_item(Item::File(self.votes_file.clone())) {
            return;
        }
        let mut key = String::with_capacity(64);
        for part in self.data.votes.chunks(VOTE_CHUNK) {
            for v in part {
                if !sink.push_item(self.vote(v, &mut key)) {
                    return;
                }
            }
            if !sink.push_item(Item::Advance(part.len() as u64)) {
                return;
            }
        }
    }

    /// A vote's event, or its row refused.
    fn vote(&self, v: &Vote, key: &mut String) -> Item {
        let c = &self.data.calls[v.roll_call as usize];
        if let Some(reason) = self.wrong_kind.get(&c.rcid) {
            return Item::Refused(RefusedRow {
                file: self.votes_file.clone(),
                line: v.line,
                reason: reason.clone(),
            });
        }
        let actor = &self.actor_ids[v.actor as usize];
        key.clear();
        let _ = write!(key, "unvotes/vote/{}/{}", c.rcid, actor);
        let body = EventBody::StanceDeclared(StanceDeclared {
            actor: actor.clone(),
            topic: c.topic.clone(),
            stance: v.stance,
            date: c.date,
            time: None,
            event: None,
            recipient: None,
            quote: None,
            cite: self.cites[v.roll_call as usize].clone(),
            instrument: None,
        });
        self.keyed(key, body, v.line, "vote")
    }
}

/// Votes per progress step.
const VOTE_CHUNK: usize = 4096;

fn actor_body(a: &ActorSeen, id: ActorId) -> ActorRegistered {
    let mut aliases: Vec<String> = a.names[1..].to_vec();
    if let Some(iso) = &a.iso_name
        && !a.names.contains(iso)
    {
        aliases.push(iso.clone());
    }
    ActorRegistered {
        actor: id,
        name: a.names[0].clone(),
        kind: ActorKind::State,
        country: a.country,
        sector: Sector::Gov,
        aliases,
    }
}

/// Issue tags by rcid, each with the line of its row (rows refused later if the roll call is
/// unknown), and the file they come from.
struct Issues {
    file: String,
    tags: BTreeMap<u32, Vec<(String, u64)>>,
}

fn read_issues(path: &Path, refused: &mut Vec<RefusedRow>) -> Result<Issues> {
    let mut t = Table::open(path)?;
    let [rcid_col, tag_col] = t.columns(["rcid", "short_name"])?;
    let mut tags: BTreeMap<u32, Vec<(String, u64)>> = BTreeMap::new();
    let mut row = csv::ByteRecord::new();
    while let Some(line) = t.next(&mut row)? {
        let tag = (|| {
            let rcid = field(&row, rcid_col)?;
            let rcid = (rcid.parse::<u32>()).map_err(|_| not_u32("rcid", rcid))?;
            let tag = field(&row, tag_col)?;
            if tag.is_empty() || tag.chars().count() > 32 || tag.chars().any(char::is_whitespace) {
                return Err(format!(
                    "short_name `{tag}` is not an issue tag: 1 to 32 characters, no white space"
                ));
            }
            Ok((rcid, tag.to_string()))
        })();
        match tag {
            Ok((rcid, tag)) => tags.entry(rcid).or_default().push((tag, line)),
            Err(reason) => refused.push(t.refused(line, reason)),
        }
    }
    Ok(Issues {
        file: t.file().to_string(),
        tags,
    })
}

/// Column indexes of `roll_calls.csv`.
struct CallColumns {
    rcid: usize,
    session: usize,
    important: usize,
    date: usize,
    unres: usize,
    short: usize,
}

/// Reads the roll calls, each with its issue tags: those accepted, and the line of each one
/// refused by rcid (its votes are refused naming it).
fn read_roll_calls(
    path: &Path,
    mut issues: Issues,
    refused: &mut Vec<RefusedRow>,
) -> Result<(Vec<RollCall>, HashMap<u32, u64>)> {
    let mut t = Table::open(path)?;
    let [rcid, session, important, date, unres, short] =
        t.columns(["rcid", "session", "importantvote", "date", "unres", "short"])?;
    let cols = CallColumns {
        rcid,
        session,
        important,
        date,
        unres,
        short,
    };
    let mut calls = Vec::new();
    let mut seen: HashMap<u32, u64> = HashMap::new();
    let mut refused_calls: HashMap<u32, u64> = HashMap::new();
    let mut row = csv::ByteRecord::new();
    while let Some(line) = t.next(&mut row)? {
        let call = roll_call(&row, &cols, line).and_then(|c| match seen.get(&c.rcid) {
            Some(first) => Err(format!(
                "roll call {} is listed twice (first on line {first})",
                c.rcid
            )),
            None => Ok(c),
        });
        match call {
            Ok(mut c) => {
                let tags = issues.tags.remove(&c.rcid).unwrap_or_default();
                let mut tags: Vec<String> = tags.into_iter().map(|(t, _)| t).collect();
                tags.sort();
                tags.dedup();
                c.body.issues = tags;
                seen.insert(c.rcid, line);
                calls.push(c);
            }
            Err(reason) => {
                let rcid = field(&row, cols.rcid)
                    .ok()
                    .and_then(|r| r.parse::<u32>().ok());
                if let Some(rcid) = rcid.filter(|r| !seen.contains_key(r)) {
                    refused_calls.entry(rcid).or_insert(line);
                }
                refused.push(t.refused(line, reason));
            }
        }
    }
    if let Some(e) = t.without_rows() {
        return Err(e);
    }
    // Issue rows left over name roll calls that were refused or are not in roll_calls.csv.
    for (rcid, rows) in issues.tags {
        for (_, line) in rows {
            refused.push(RefusedRow {
                file: issues.file.clone(),
                line,
                reason: no_roll_call(rcid, &refused_calls),
            });
        }
    }
    Ok((calls, refused_calls))
}

/// Why a row naming roll call `rcid`, which is not among those imported, is refused: the roll
/// call was refused (at that line of roll_calls.csv), or is not there.
fn no_roll_call(rcid: u32, refused_calls: &HashMap<u32, u64>) -> String {
    match refused_calls.get(&rcid) {
        Some(line) => format!("roll call {rcid} was refused (roll_calls.csv line {line})"),
        None => format!("roll call {rcid} is not in roll_calls.csv"),
    }
}

/// Why `text`, the cell of the column `what`, is not a whole number from 0 to 4,294,967,295:
/// negative, too large, or not a number.
fn not_u32(what: &str, text: &str) -> String {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if text.strip_prefix('-').is_some_and(digits) {
        format!("{what} `{text}` is negative")
    } else if digits(text.strip_prefix('+').unwrap_or(text)) {
        format!("{what} `{text}` is too large (at most 4294967295)")
    } else {
        format!("{what} `{text}` is not a number")
    }
}

/// One row of `roll_calls.csv` (its issue tags not yet added), or why it is refused.
fn roll_call(
    row: &csv::ByteRecord,
    cols: &CallColumns,
    line: u64,
) -> std::result::Result<RollCall, String> {
    let rcid_text = field(row, cols.rcid)?;
    let rcid = (rcid_text.parse::<u32>()).map_err(|_| not_u32("rcid", rcid_text))?;
    let date = ValidDate::parse(field(row, cols.date)?).map_err(|e| format!("date: {e}"))?;
    let session = match field(row, cols.session)? {
        "" => None,
        s => Some(s.parse::<u32>().map_err(|_| not_u32("session", s))?),
    };
    let important = match field(row, cols.important)? {
        "" => None,
        "1" => Some(true),
        "0" => Some(false),
        s => return Err(format!("importantvote `{s}` is not 0 or 1")),
    };
    let text = |i: usize| field(row, i).map(|s| Some(s.to_string()).filter(|s| !s.is_empty()));
    let unres = text(cols.unres)?;
    let short = text(cols.short)?;
    let topic = TopicId::new(&topic_id(rcid)).map_err(|e| e.to_string())?;
    let title = short
        .clone()
        .or_else(|| unres.clone())
        .unwrap_or_else(|| format!("Roll call {rcid}"));
    let body = TopicRegistered {
        topic: topic.clone(),
        title,
        kind: TopicKind::Vote,
        resolution: unres.clone(),
        session,
        issues: Vec::new(),
        important,
    };
    // The rules the log's readers apply (a session 0 is refused), checked here so that the
    // row is refused, not the batch (the fields are named as the columns).
    Record::check_body(&EventBody::TopicRegistered(body.clone()))
        .map_err(|e| format!("{}: {}", e.field, e.message))?;
    Ok(RollCall {
        rcid,
        line,
        cite_title: unres.or_else(|| short.clone()),
        body,
        topic,
        date,
    })
}

/// The actors of `unvotes.csv` as its rows name them: by code, or by name for rows without a
/// code, each in order of first appearance.
#[derive(Default)]
struct ActorSlots {
    by_code: HashMap<String, u32>,
    by_name: HashMap<String, u32>,
    by_id: HashMap<String, u32>,
    actors: Vec<ActorSeen>,
}

impl ActorSlots {
    /// The slot of the actor a row's code (or, when empty, name) stands for, or why none.
    fn slot(&mut self, code: &str, name: &str, line: u64) -> std::result::Result<u32, String> {
        let (keys, key) = if code.is_empty() {
            (&mut self.by_name, name)
        } else {
            (&mut self.by_code, code)
        };
        if let Some(&s) = keys.get(key) {
            let a = &mut self.actors[s as usize];
            if !name.is_empty() && !a.names.iter().any(|n| n == name) {
                a.names.push(name.to_string());
            }
            return Ok(s);
        }
        let (id, country, iso_name) = actor_for(code, name)?;
        // Two keys may stand for one actor (a code and its ISO 3166-3 twin).
        let s = match self.by_id.get(&id) {
            Some(&s) => s,
            None => {
                let s = self.actors.len() as u32;
                let first = if name.is_empty() { &id } else { name };
                self.actors.push(ActorSeen {
                    names: vec![first.to_string()],
                    id: id.clone(),
                    country,
                    iso_name,
                    line,
                });
                self.by_id.insert(id, s);
                s
            }
        };
        keys.insert(key.to_string(), s);
        Ok(s)
    }

    /// The actors sorted by id, and the rank of each slot in that order.
    fn by_id_order(self) -> (Vec<ActorSeen>, Vec<u32>) {
        let actors = self.actors;
        let mut order: Vec<u32> = (0..actors.len() as u32).collect();
        order.sort_by(|a, b| actors[*a as usize].id.cmp(&actors[*b as usize].id));
        let mut rank = vec![0u32; actors.len()];
        for (new, old) in order.iter().enumerate() {
            rank[*old as usize] = new as u32;
        }
        let mut slots: Vec<Option<ActorSeen>> = actors.into_iter().map(Some).collect();
        let sorted = order
            .iter()
            .filter_map(|old| slots[*old as usize].take())
            .collect();
        (sorted, rank)
    }
}

/// Reads the votes: the actors seen (sorted by id) and the accepted votes, each naming its roll
/// call by index into `calls` and its actor by index into the actors.
fn read_votes(
    path: &Path,
    calls: &[RollCall],
    refused_calls: &HashMap<u32, u64>,
    refused: &mut Vec<RefusedRow>,
) -> Result<(Vec<ActorSeen>, Vec<Vote>)> {
    let call_index: HashMap<u32, u32> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| (c.rcid, i as u32))
        .collect();
    let mut t = Table::open(path)?;
    let cols = t.columns(["rcid", "country", "country_code", "vote"])?;
    let mut slots = ActorSlots::default();
    let mut votes: Vec<Vote> = Vec::with_capacity(1 << 20);
    let mut row = csv::ByteRecord::new();
    while let Some(line) = t.next(&mut row)? {
        match vote(&row, cols, line, (&call_index, refused_calls), &mut slots) {
            Ok(v) => votes.push(v),
            Err(reason) => refused.push(t.refused(line, reason)),
        }
    }
    if let Some(e) = t.without_rows() {
        return Err(e);
    }
    let votes = drop_second_votes(votes, &slots.actors, calls, t.file(), refused);
    let (actors, rank) = slots.by_id_order();
    // Actors renumbered in id order, so that sorting votes by actor index sorts them by id.
    let votes = votes
        .into_iter()
        .map(|v| Vote {
            actor: rank[v.actor as usize],
            ..v
        })
        .collect();
    Ok((actors, votes))
}

/// One row of `unvotes.csv` (columns rcid, country, country_code, vote), or why it is refused.
fn vote(
    row: &csv::ByteRecord,
    [rcid_col, country_col, code_col, vote_col]: [usize; 4],
    line: u64,
    (call_index, refused_calls): (&HashMap<u32, u32>, &HashMap<u32, u64>),
    slots: &mut ActorSlots,
) -> std::result::Result<Vote, String> {
    let rcid = field(row, rcid_col)?;
    let rcid = (rcid.parse::<u32>()).map_err(|_| not_u32("rcid", rcid))?;
    let name = field(row, country_col)?;
    let code = field(row, code_col)?;
    let vote = field(row, vote_col)?;
    let Some(&roll_call) = call_index.get(&rcid) else {
        return Err(no_roll_call(rcid, refused_calls));
    };
    let stance = match vote {
        "yes" => Stance::Yes,
        "no" => Stance::No,
        "abstain" => Stance::Abstain,
        other => return Err(format!("vote `{other}` is not yes, no or abstain")),
    };
    let actor = slots.slot(code, name, line)?;
    Ok(Vote {
        roll_call,
        actor,
        stance,
        line,
    })
}

/// The votes less each second vote of one state in one roll call (same key, later line),
/// which is refused.
fn drop_second_votes(
    mut votes: Vec<Vote>,
    actors: &[ActorSeen],
    calls: &[RollCall],
    file: &str,
    refused: &mut Vec<RefusedRow>,
) -> Vec<Vote> {
    // Lines are unique, so the order is total.
    votes.sort_unstable_by_key(|v| (v.roll_call, v.actor, v.line));
    let mut kept: Vec<Vote> = Vec::with_capacity(votes.len());
    for v in votes {
        match kept.last() {
            Some(first) if (first.roll_call, first.actor) == (v.roll_call, v.actor) => refused
                .push(RefusedRow {
                    file: file.to_string(),
                    line: v.line,
                    reason: format!(
                        "a second vote of {} in roll call {} (the first is on line {})",
                        actors[v.actor as usize].id, calls[v.roll_call as usize].rcid, first.line
                    ),
                }),
            _ => kept.push(v),
        }
    }
    kept
}
