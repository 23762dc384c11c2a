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
use std::sync::mpsc;
use std::time::Duration;

use super::engine::{Engine, EngineOptions};
use super::{ImportReport, Progress, RefusedRow, event_id};
use crate::core::{
    ActorId, ActorKind, ActorRegistered, Cite, Country, EventBody, History, Sector, Stance,
    StanceDeclared, TopicId, TopicKind, TopicRegistered, ValidDate,
};
use crate::error::{Error, Result};
use crate::store::{LogRef, NewEvent};

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

/// Imports the UN votes in `dir` into the log at `log`.
///
/// Holds the log's lock for the whole import (one import [`Engine`]) and appends batches of
/// [`super::IMPORT_BATCH_EVENTS`], each durable before the next is appended. The vote events are built
/// on a second thread while the batches before them are appended. When the import returns, the
/// lock is released; the folded log is freed on a thread of its own. An actor or topic id already
/// registered by other means is used as it is (not registered again); a vote whose event id is
/// already in the log with other content is refused, as are rows with an unknown roll call, a
/// vote other than yes/no/abstain, an unknown country code, or a second vote of the same state
/// in one roll call.
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
    let mut report = ImportReport::default();
    let votes_path = dir.join("unvotes.csv");
    let calls_path = dir.join("roll_calls.csv");
    let issues_path = dir.join("issues.csv");
    // Fail on a missing file before waiting for the lock.
    for p in [&votes_path, &calls_path, &issues_path] {
        if !p.is_file() {
            return Err(Error::io(
                p.display(),
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            ));
        }
    }

    let issues = read_issues(&issues_path, &mut report.refused)?;
    let mut calls = read_roll_calls(&calls_path, issues, &mut report.refused)?;
    calls.sort_by_key(|c| (c.date.start(), c.rcid));
    let call_index: HashMap<u32, u32> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| (c.rcid, i as u32))
        .collect();

    let (actors, mut votes) = read_votes(&votes_path, &calls, &call_index, &mut report.refused)?;

    let engine_opts = EngineOptions {
        dataset: "unvotes".to_string(),
        key: Vec::new(),
        now: opts.now,
        wait: opts.wait,
        dry_run: false,
        corrections: false,
    };
    let mut engine = Engine::open(log, engine_opts, progress)?;
    let history = engine.history();
    let seq_at_open = history.seq_last();

    // Actors and topics already registered (by this import earlier, or by other means) are not
    // registered again.
    let actor_ids: Vec<ActorId> = actors
        .iter()
        .map(|a| ActorId::new(&a.id).map_err(|e| Error::Usage(e.to_string())))
        .collect::<Result<_>>()?;
    let new_actors: Vec<usize> = (0..actors.len())
        .filter(|i| !registered(history, &actor_ids[*i], &mut report))
        .collect();
    let mut topic_refusal: HashMap<u32, String> = HashMap::new();
    let new_topics: Vec<usize> = (0..calls.len())
        .filter(|i| {
            let c = &calls[*i];
            match history.topic(&c.topic) {
                None => true,
                Some(t) => {
                    if t.kind != TopicKind::Vote {
                        topic_refusal.insert(
                            c.rcid,
                            format!(
                                "topic `{}` is registered as a {} topic, not a vote",
                                c.topic, t.kind
                            ),
                        );
                    }
                    if history
                        .seq_of(&event_id(&format!("unvotes/topic/{}", c.rcid)))
                        .is_some()
                    {
                        report.already_present += 1;
                    }
                    false
                }
            }
        })
        .collect();

    // (roll call, actor) is unique once second votes are refused.
    votes.sort_unstable_by_key(|v| (v.roll_call, v.actor));
    let total = (new_actors.len() + new_topics.len() + votes.len()) as u64;
    progress.start("unvotes", Some(total));

    let votes_name = votes_path.display().to_string();
    for i in new_actors {
        let a = &actors[i];
        let body = EventBody::ActorRegistered(actor_body(a, actor_ids[i].clone()));
        let id = Some(event_id(&format!("unvotes/actor/{}", a.id)));
        let event = NewEvent {
            id,
            body,
            line: a.line,
        };
        engine.push_event(&votes_name, event, opts.now)?;
        progress.advance(1);
    }
    engine.flush(&votes_name)?;

    let calls_name = calls_path.display().to_string();
    for i in new_topics {
        let c = &calls[i];
        let event = NewEvent {
            id: Some(event_id(&format!("unvotes/topic/{}", c.rcid))),
            body: EventBody::TopicRegistered(c.body.clone()),
            line: c.line,
        };
        engine.push_event(&calls_name, event, opts.now)?;
        progress.advance(1);
    }
    engine.flush(&calls_name)?;

    let cites: Vec<Cite> = calls
        .iter()
        .map(|c| Cite {
            publication: PUBLICATION.to_string(),
            url: None,
            title: c.cite_title.clone(),
            published: None,
            via: None,
        })
        .collect();
    let built = VoteEvents {
        votes: &votes,
        calls: &calls,
        actor_ids: &actor_ids,
        cites: &cites,
        topic_refusal: &topic_refusal,
        file: &votes_name,
    };
    // A second thread builds the vote events (ids are SHA-1 digests) and frees the batches
    // already appended, while this one stages, encodes and appends.
    std::thread::scope(|scope| {
        let (chunks_tx, chunks_rx) = mpsc::sync_channel::<Built>(4);
        let (spent_tx, spent_rx) = mpsc::channel::<Vec<NewEvent>>();
        scope.spawn(move || built.produce(chunks_tx, spent_rx));
        engine.free_batches_on(Some(spent_tx));
        let target = VoteTarget {
            seq_at_open,
            file: &votes_name,
            now: opts.now,
            progress,
        };
        let appended = append_votes(&mut engine, chunks_rx, &target, &mut report);
        // Dropping the engine's sender of spent batches lets the builder thread end.
        engine.free_batches_on(None);
        appended
    })?;
    // Releases the lock, and frees the folded log on a thread of its own.
    let mut done = engine.finish(&votes_name)?;
    done.already_present += report.already_present;
    done.refused.extend(report.refused);
    done.refused
        .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    Ok(done)
}

/// Where vote events go: the log's last seq when the import began, the votes file, the
/// recorded time, the progress.
struct VoteTarget<'a> {
    seq_at_open: u64,
    file: &'a str,
    now: jiff::Timestamp,
    progress: &'a dyn Progress,
}

/// Appends the vote events of each chunk through the engine, counting a vote whose id is in the
/// log with the same content as already present and refusing one with other content.
fn append_votes(
    engine: &mut Engine<'_>,
    chunks: mpsc::Receiver<Built>,
    t: &VoteTarget<'_>,
    report: &mut ImportReport,
) -> Result<()> {
    let (seq_at_open, votes_name) = (t.seq_at_open, t.file);
    for chunk in chunks {
        t.progress
            .advance((chunk.refused.len() + chunk.events.len()) as u64);
        report.refused.extend(chunk.refused);
        for new in chunk.events {
            // Only events in the log before this import can share an id with a vote (ours are
            // distinct): skip the look-up on a log that was empty.
            let history = engine.history();
            let old = new.id.filter(|_| seq_at_open > 0);
            if let Some(seq) = old.and_then(|id| history.seq_of(&id)) {
                if history.event(seq).is_some_and(|e| e.body == new.body) {
                    report.already_present += 1;
                } else {
                    report.refused.push(RefusedRow {
                        file: votes_name.to_string(),
                        line: new.line,
                        reason: format!(
                            "this vote was imported before (seq {seq}) with other content; record the change as a stance.corrected"
                        ),
                    });
                }
                continue;
            }
            engine.push_event(votes_name, new, t.now)?;
        }
    }
    engine.flush(votes_name)
}

/// A chunk of vote events handed from the builder thread, with the rows refused on the way.
struct Built {
    events: Vec<NewEvent>,
    refused: Vec<RefusedRow>,
}

/// Vote events built per chunk.
const VOTE_CHUNK: usize = 4096;

/// What building the vote events needs, all read-only.
struct VoteEvents<'a> {
    votes: &'a [Vote],
    calls: &'a [RollCall],
    actor_ids: &'a [ActorId],
    cites: &'a [Cite],
    topic_refusal: &'a HashMap<u32, String>,
    file: &'a str,
}

impl VoteEvents<'_> {
    /// Sends the vote events in order, in chunks of [`VOTE_CHUNK`], then closes `chunks`; drops
    /// the batches sent back on `spent` (freeing their events here, not on the appending
    /// thread). Returns when every vote is sent and `spent` is closed, or early when the
    /// receiver of `chunks` is gone.
    fn produce(&self, chunks: mpsc::SyncSender<Built>, spent: mpsc::Receiver<Vec<NewEvent>>) {
        let mut key = String::with_capacity(64);
        for part in self.votes.chunks(VOTE_CHUNK) {
            let mut chunk = Built {
                events: Vec::with_capacity(part.len()),
                refused: Vec::new(),
            };
            for v in part {
                self.build(v, &mut key, &mut chunk);
            }
            if chunks.send(chunk).is_err() {
                return;
            }
            while let Ok(batch) = spent.try_recv() {
                drop(batch);
            }
        }
        // Every vote is sent: close the chunks, so the appending thread can finish and close
        // `spent` in turn.
        drop(chunks);
        for batch in spent {
            drop(batch);
        }
    }

    fn build(&self, v: &Vote, key: &mut String, out: &mut Built) {
        let c = &self.calls[v.roll_call as usize];
        if let Some(reason) = self.topic_refusal.get(&c.rcid) {
            out.refused.push(RefusedRow {
                file: self.file.to_string(),
                line: v.line,
                reason: reason.clone(),
            });
            return;
        }
        let actor = &self.actor_ids[v.actor as usize];
        key.clear();
        let _ = write!(key, "unvotes/vote/{}/{}", c.rcid, actor);
        out.events.push(NewEvent {
            id: Some(event_id(key)),
            body: EventBody::StanceDeclared(StanceDeclared {
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
            }),
            line: v.line,
        });
    }
}

/// Whether `id` is registered already; counts our own earlier registration as already present.
fn registered(history: &History, id: &ActorId, report: &mut ImportReport) -> bool {
    if !history.is_actor(id) {
        return false;
    }
    if history
        .seq_of(&event_id(&format!("unvotes/actor/{id}")))
        .is_some()
    {
        report.already_present += 1;
    }
    true
}

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

fn open_csv(path: &Path) -> Result<(csv::Reader<std::fs::File>, csv::StringRecord)> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| csv_error(path, e))?;
    let header = r.headers().map_err(|e| csv_error(path, e))?.clone();
    Ok((r, header))
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    super::csv_error(&path.display().to_string(), e)
}

/// The index of each named column, or an input error naming the missing one.
fn columns<const N: usize>(
    path: &Path,
    header: &csv::StringRecord,
    names: [&str; N],
) -> Result<[usize; N]> {
    let mut out = [0; N];
    for (i, name) in names.iter().enumerate() {
        out[i] = header.iter().position(|h| h == *name).ok_or_else(|| {
            Error::input(
                crate::error::Location {
                    file: path.display().to_string(),
                    line: Some(1),
                    field: None,
                },
                format!(
                    "no column `{name}` (the header has: {})",
                    header.iter().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
    }
    Ok(out)
}

fn refuse(refused: &mut Vec<RefusedRow>, path: &Path, line: u64, reason: String) {
    refused.push(RefusedRow {
        file: path.display().to_string(),
        line,
        reason,
    });
}

/// Issue tags by rcid, each with the line of its row (rows refused later if the roll call is
/// unknown).
type Issues = BTreeMap<u32, Vec<(String, u64)>>;

fn read_issues(path: &Path, refused: &mut Vec<RefusedRow>) -> Result<(PathBuf, Issues)> {
    let (mut r, header) = open_csv(path)?;
    let [rcid_col, tag_col] = columns(path, &header, ["rcid", "short_name"])?;
    let mut issues = Issues::new();
    let mut row = csv::StringRecord::new();
    while r.read_record(&mut row).map_err(|e| csv_error(path, e))? {
        let line = row.position().map_or(0, |p| p.line());
        let rcid = row.get(rcid_col).unwrap_or("").trim();
        let tag = row.get(tag_col).unwrap_or("").trim();
        let Ok(rcid) = rcid.parse::<u32>() else {
            refuse(
                refused,
                path,
                line,
                format!("rcid `{rcid}` is not a number"),
            );
            continue;
        };
        if tag.is_empty() || tag.chars().count() > 32 || tag.chars().any(char::is_whitespace) {
            refuse(
                refused,
                path,
                line,
                format!(
                    "short_name `{tag}` is not an issue tag: 1 to 32 characters, no white space"
                ),
            );
            continue;
        }
        issues
            .entry(rcid)
            .or_default()
            .push((tag.to_string(), line));
    }
    Ok((path.to_path_buf(), issues))
}

fn read_roll_calls(
    path: &Path,
    (issues_path, mut issues): (PathBuf, Issues),
    refused: &mut Vec<RefusedRow>,
) -> Result<Vec<RollCall>> {
    let (mut r, header) = open_csv(path)?;
    let [
        rcid_col,
        session_col,
        important_col,
        date_col,
        unres_col,
        short_col,
    ] = columns(
        path,
        &header,
        ["rcid", "session", "importantvote", "date", "unres", "short"],
    )?;
    let mut calls = Vec::new();
    let mut seen: HashMap<u32, u64> = HashMap::new();
    let mut row = csv::StringRecord::new();
    while r.read_record(&mut row).map_err(|e| csv_error(path, e))? {
        let line = row.position().map_or(0, |p| p.line());
        let field = |i: usize| row.get(i).unwrap_or("").trim();
        let rcid_text = field(rcid_col);
        let Ok(rcid) = rcid_text.parse::<u32>() else {
            refuse(
                refused,
                path,
                line,
                format!("rcid `{rcid_text}` is not a number"),
            );
            continue;
        };
        if let Some(first) = seen.get(&rcid) {
            refuse(
                refused,
                path,
                line,
                format!("roll call {rcid} is listed twice (first on line {first})"),
            );
            continue;
        }
        let date = match ValidDate::parse(field(date_col)) {
            Ok(d) => d,
            Err(e) => {
                refuse(refused, path, line, format!("date: {e}"));
                continue;
            }
        };
        let session = match field(session_col) {
            "" => None,
            s => match s.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    refuse(
                        refused,
                        path,
                        line,
                        format!("session `{s}` is not a number"),
                    );
                    continue;
                }
            },
        };
        let important = match field(important_col) {
            "" => None,
            "1" => Some(true),
            "0" => Some(false),
            s => {
                refuse(
                    refused,
                    path,
                    line,
                    format!("importantvote `{s}` is not 0 or 1"),
                );
                continue;
            }
        };
        let unres = Some(field(unres_col).to_string()).filter(|s| !s.is_empty());
        let short = Some(field(short_col).to_string()).filter(|s| !s.is_empty());
        let topic = TopicId::new(&topic_id(rcid)).map_err(|e| Error::Usage(e.to_string()))?;
        let mut tags: Vec<String> = issues
            .remove(&rcid)
            .unwrap_or_default()
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        tags.sort();
        tags.dedup();
        let title = short
            .clone()
            .or_else(|| unres.clone())
            .unwrap_or_else(|| format!("Roll call {rcid}"));
        seen.insert(rcid, line);
        calls.push(RollCall {
            rcid,
            line,
            cite_title: unres.clone().or_else(|| short.clone()),
            body: TopicRegistered {
                topic: topic.clone(),
                title,
                kind: TopicKind::Vote,
                resolution: unres,
                session,
                issues: tags,
                important,
            },
            topic,
            date,
        });
    }
    // Issue rows left over name roll calls that are not in roll_calls.csv.
    for (rcid, rows) in issues {
        for (_, line) in rows {
            refuse(
                refused,
                &issues_path,
                line,
                format!("roll call {rcid} is not in roll_calls.csv"),
            );
        }
    }
    Ok(calls)
}

/// Reads the votes: the actors seen (sorted by id) and the accepted votes, each naming its roll
/// call by index into `calls` and its actor by index into the actors.
fn read_votes(
    path: &Path,
    calls: &[RollCall],
    call_index: &HashMap<u32, u32>,
    refused: &mut Vec<RefusedRow>,
) -> Result<(Vec<ActorSeen>, Vec<Vote>)> {
    let (mut r, header) = open_csv(path)?;
    let [rcid_col, country_col, code_col, vote_col] =
        columns(path, &header, ["rcid", "country", "country_code", "vote"])?;
    // Actor slot by code, and by name for rows without a code, in order of first appearance.
    let mut slot_of_code: HashMap<String, u32> = HashMap::new();
    let mut slot_of_name: HashMap<String, u32> = HashMap::new();
    let mut slot_of_id: HashMap<String, u32> = HashMap::new();
    let mut actors: Vec<ActorSeen> = Vec::new();
    let mut votes: Vec<Vote> = Vec::with_capacity(1 << 20);
    let mut row = csv::ByteRecord::new();
    while r
        .read_byte_record(&mut row)
        .map_err(|e| csv_error(path, e))?
    {
        let line = row.position().map_or(0, |p| p.line());
        let field = |i: usize| -> std::result::Result<&str, String> {
            let bytes = row.get(i).unwrap_or(b"");
            std::str::from_utf8(bytes)
                .map(str::trim)
                .map_err(|_| format!("column {} is not UTF-8", i + 1))
        };
        let parsed = (|| -> std::result::Result<(u32, &str, &str, &str), String> {
            Ok((
                {
                    let t = field(rcid_col)?;
                    t.parse::<u32>()
                        .map_err(|_| format!("rcid `{t}` is not a number"))?
                },
                field(country_col)?,
                field(code_col)?,
                field(vote_col)?,
            ))
        })();
        let (rcid, name, code, vote) = match parsed {
            Ok(x) => x,
            Err(reason) => {
                refuse(refused, path, line, reason);
                continue;
            }
        };
        let Some(&roll_call) = call_index.get(&rcid) else {
            refuse(
                refused,
                path,
                line,
                format!("roll call {rcid} is not in roll_calls.csv"),
            );
            continue;
        };
        let stance = match vote {
            "yes" => Stance::Yes,
            "no" => Stance::No,
            "abstain" => Stance::Abstain,
            other => {
                refuse(
                    refused,
                    path,
                    line,
                    format!("vote `{other}` is not yes, no or abstain"),
                );
                continue;
            }
        };
        // Actors are keyed by code, or by name when the code is empty.
        let (keys, key) = if code.is_empty() {
            (&mut slot_of_name, name)
        } else {
            (&mut slot_of_code, code)
        };
        let actor = match keys.get(key) {
            Some(&s) => {
                let a = &mut actors[s as usize];
                if !name.is_empty() && !a.names.iter().any(|n| n == name) {
                    a.names.push(name.to_string());
                }
                s
            }
            None => match actor_for(code, name) {
                Ok((id, country, iso_name)) => {
                    // Two keys may stand for one actor (a code and its ISO 3166-3 twin).
                    let s = match slot_of_id.get(&id) {
                        Some(&s) => s,
                        None => {
                            let s = actors.len() as u32;
                            actors.push(ActorSeen {
                                id: id.clone(),
                                country,
                                names: vec![if name.is_empty() {
                                    id.clone()
                                } else {
                                    name.to_string()
                                }],
                                iso_name,
                                line,
                            });
                            slot_of_id.insert(id, s);
                            s
                        }
                    };
                    keys.insert(key.to_string(), s);
                    s
                }
                Err(reason) => {
                    refuse(refused, path, line, reason);
                    continue;
                }
            },
        };
        votes.push(Vote {
            roll_call,
            actor,
            stance,
            line,
        });
    }
    // A second vote of one state in one roll call (same key, later line) is refused.
    // Lines are unique, so the order is total.
    votes.sort_unstable_by_key(|v| (v.roll_call, v.actor, v.line));
    let mut kept: Vec<Vote> = Vec::with_capacity(votes.len());
    for v in votes {
        match kept.last() {
            Some(first) if (first.roll_call, first.actor) == (v.roll_call, v.actor) => refuse(
                refused,
                path,
                v.line,
                format!(
                    "a second vote of {} in roll call {} (the first is on line {})",
                    actors[v.actor as usize].id, calls[v.roll_call as usize].rcid, first.line
                ),
            ),
            _ => kept.push(v),
        }
    }
    let mut votes = kept;
    // Renumber actors in id order, so that sorting votes by actor index sorts them by actor id.
    let mut order: Vec<u32> = (0..actors.len() as u32).collect();
    order.sort_by(|a, b| actors[*a as usize].id.cmp(&actors[*b as usize].id));
    let mut rank = vec![0u32; actors.len()];
    for (new, old) in order.iter().enumerate() {
        rank[*old as usize] = new as u32;
    }
    for v in &mut votes {
        v.actor = rank[v.actor as usize];
    }
    let mut slots: Vec<Option<ActorSeen>> = actors.into_iter().map(Some).collect();
    let actors = order
        .iter()
        .filter_map(|old| slots[*old as usize].take())
        .collect();
    Ok((actors, votes))
}
