//! The one import engine: source rows -> mapped events -> the writer.
//!
//! An importer reads its source and maps each row to [`Mapped`] stances (or says the row is
//! skipped or refused); the engine does the rest, the same way for every importer:
//!
//! - **Ids follow content.** A stance's id is the UUID v5 of its *key*: the data set's identity
//!   ([`EngineOptions::dataset`]) and the key fields of the mapped stance ([`KeyField`]; by
//!   default the row's role, actor, topic and date), never the file's name or the row's line. So
//!   a renamed, re-saved (CRLF), re-ordered or extended copy of a source appends exactly the
//!   stances that are new.
//! - **Known key, other content.** A stance whose key is already in the log (or earlier in this
//!   import) is compared with what is there: the same stance with the same citation is already
//!   present; the same stance with another citation or quote is a `stance.cited` (one statement
//!   reported by many outlets is one stance and its citations); other content (another stance,
//!   date, instrument, event type, time) is refused and reported, or with
//!   [`EngineOptions::corrections`] appended as a `stance.corrected` of the stance in the log.
//! - **Registrations.** An actor, recipient or topic the log does not know is registered in the
//!   batch of the first row that needs it, when the mapping says how ([`NewActor`],
//!   [`NewTopic`]); else the row is refused.
//! - **Membership spells.** The `not_member` that ends a spell ([`Mapped::spell_end`]) is left
//!   out when a spell of the same actor and topic begins that same day (in the log or in this
//!   import): an exit and a re-entry on one day leave the actor a member, whatever the order
//!   of the rows or runs.
//! - **Keyed events.** A source whose events already have ids of their own (the UN votes, a
//!   treaty's versions: [`Keyed`]) hands them over as they are; the engine checks each against
//!   the log (already present, refused, or a registration the log has, used as it is) and
//!   batches, records and reports them as it does mapped rows.
//! - **Batches.** Events go to the one [`Writer`] in batches of [`IMPORT_BATCH_EVENTS`], each a
//!   row's events whole; a new recorded time closes a batch. With
//!   [`EngineOptions::dry_run`], nothing is written and the report says what would be.
//!
//! The engine's own memory holds the current batch and one entry per distinct actor and topic,
//! never one per row already imported (the log it appends to holds those).

use std::fmt::Write as _;
use std::io;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use rustc_hash::{FxHashMap, FxHashSet};
use uuid::Uuid;

use super::{IMPORT_BATCH_EVENTS, ImportReport, Progress, RefusedRow, event_id};
use crate::core::{
    ActorId, ActorKind, ActorRegistered, Cite, Correction, Country, Event, EventBody, History,
    Sector, Seq, Stance, StanceCited, StanceCorrected, StanceDeclared, TopicId, TopicKind,
    TopicRegistered,
};
use crate::error::{Error, Result};
use crate::store::{
    AppendOptions, LINE_BYTES_MAX, Log, LogRef, NewEvent, Record, Writer, format_recorded_at,
};

/// How to register an actor (or recipient) the log does not know yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewActor {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: ActorKind,
    /// Its country, or why none can be told (the row is refused only if the actor is new).
    pub country: std::result::Result<Country, String>,
    /// Its sector.
    pub sector: Sector,
}

/// How to register a topic the log does not know yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTopic {
    /// Its title.
    pub title: String,
    /// Its kind.
    pub kind: TopicKind,
}

/// One stance a mapping made of a source row.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// Which stance of the row this is (`stance`, `from`, `until`, or an `--event`'s name):
    /// part of the key, so two stances of one row never share an id.
    pub role: String,
    /// The stance.
    pub stance: StanceDeclared,
    /// How to register the actor if the log does not know it; `None`: it must be known.
    pub actor: Option<Arc<NewActor>>,
    /// How to register the recipient if there is one and the log does not know it.
    pub recipient: Option<Arc<NewActor>>,
    /// How to register the topic if the log does not know it; `None`: it must be known.
    pub topic: Option<Arc<NewTopic>>,
    /// A further key part (coded event data: the event code), if any.
    pub extra: Option<String>,
    /// This `not_member` ends a membership spell (see the module docs).
    pub spell_end: bool,
    /// Its id and, for a spell end, the id of a same-day entry, when the reading thread has
    /// made them already (see [`RowSink::push`]); `None`: the engine makes them.
    pub(crate) ids: Option<(Uuid, Option<Uuid>)>,
}

impl Mapped {
    /// This stance as the entry of a spell on its day: the stance whose presence makes a spell
    /// end on that day a same-day exit and re-entry.
    fn as_entry(&self) -> Mapped {
        let mut entry = self.clone();
        entry.role = ROLE_FROM.to_string();
        entry.stance.stance = Stance::Member;
        entry
    }
}

/// How a mapped stance's id is made: UUID v5 of the data set and the key fields (see the
/// module docs).
#[derive(Debug, Clone)]
pub(crate) struct Keying {
    dataset: String,
    key: Vec<KeyField>,
    /// Scratch space: the text of the last key made.
    text: String,
}

impl Keying {
    fn new(opts: &EngineOptions) -> Keying {
        Keying {
            dataset: opts.dataset.clone(),
            key: opts.key.clone(),
            text: String::with_capacity(128),
        }
    }

    /// The id of `m`: UUID v5 of its key text.
    fn id_of(&mut self, m: &Mapped) -> Uuid {
        event_id(self.text_of(m))
    }

    /// The key text of `m` (the data set and the key fields), which a citation's and a
    /// correction's ids extend.
    fn text_of(&mut self, m: &Mapped) -> &str {
        let k = &mut self.text;
        k.clear();
        k.push_str("import/");
        k.push_str(&self.dataset);
        let s = &m.stance;
        // Each field's text pushed as it is (the formatting machinery was a tenth of a coded
        // import's reading thread); only the date is formatted.
        for f in &self.key {
            k.push('\u{1f}');
            match f {
                KeyField::Role => k.push_str(&m.role),
                KeyField::Actor => k.push_str(s.actor.as_str()),
                KeyField::Topic => k.push_str(s.topic.as_str()),
                KeyField::Date => {
                    let _ = write!(k, "{}", s.date);
                }
                KeyField::Stance => k.push_str(s.stance.as_str()),
                KeyField::Recipient => k.push_str(s.recipient.as_ref().map_or("", |r| r.as_str())),
                KeyField::Extra => k.push_str(m.extra.as_deref().unwrap_or("")),
            }
        }
        k
    }

    /// The ids of `m`: its own and, for a spell end, that of a same-day entry (see
    /// [`Mapped::ids`]).
    fn ids_of(&mut self, m: &Mapped) -> (Uuid, Option<Uuid>) {
        let entry = m.spell_end.then(|| self.id_of(&m.as_entry()));
        (self.id_of(m), entry)
    }

    /// Makes the ids of `m` (see [`Mapped::ids`]).
    fn fill(&mut self, m: &mut Mapped) {
        m.ids = Some(self.ids_of(m));
    }
}

/// What a mapping made of one source row.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The row's stances (none: the row says nothing to import, e.g. all its dates empty).
    Mapped(Vec<Mapped>),
    /// Left out on purpose (`--skip-if`), with why; not an error.
    Skipped(String),
    /// Cannot be imported, with why.
    Refused(String),
}

/// One source row as the engine takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The file's physical line where the row starts (1-based).
    pub line: u64,
    /// When the data says the row was recorded; `None`: now.
    pub recorded: Option<jiff::Timestamp>,
    /// What the mapping made of it.
    pub outcome: Outcome,
}

/// A field of a mapped stance that is part of its key (and so of its id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyField {
    /// [`Mapped::role`].
    Role,
    /// The actor id.
    Actor,
    /// The topic id.
    Topic,
    /// The date, as given (`2024-10`, `2024-10-21`).
    Date,
    /// The stance.
    Stance,
    /// The recipient id (empty when none).
    Recipient,
    /// [`Mapped::extra`] (empty when none).
    Extra,
}

impl KeyField {
    /// Parses a key field's name: `role`, `actor`, `topic`, `date`, `stance`, `recipient`,
    /// `extra`.
    pub fn parse(text: &str) -> Option<KeyField> {
        Some(match text {
            "role" => KeyField::Role,
            "actor" => KeyField::Actor,
            "topic" => KeyField::Topic,
            "date" => KeyField::Date,
            "stance" => KeyField::Stance,
            "recipient" => KeyField::Recipient,
            "extra" => KeyField::Extra,
            _ => return None,
        })
    }

    /// The default key of a table: role, actor, topic, date.
    pub const TABLE: &'static [KeyField] = &[
        KeyField::Role,
        KeyField::Actor,
        KeyField::Topic,
        KeyField::Date,
    ];
}

/// How the engine imports.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The data set's identity: part of every id (so two data sets never share ids, and two
    /// copies of one data set always do).
    pub dataset: String,
    /// The key fields (see [`KeyField`]).
    pub key: Vec<KeyField>,
    /// Recorded time of rows without one of their own.
    pub now: jiff::Timestamp,
    /// How long to wait for another writer's lock.
    pub wait: Duration,
    /// Write nothing; report what would be appended, cited, corrected, skipped and refused.
    pub dry_run: bool,
    /// Append a `stance.corrected` for a known key with other content (else refuse the row).
    pub corrections: bool,
    /// Where the stance of each role comes from, in words (`stance` -> "column `vote`
    /// (--stance-col)"): a stance that does not fit its topic's kind is refused naming it.
    /// Empty: not named.
    pub stance_sources: Vec<(String, String)>,
    /// What a user can do about such a stance, in words, said after the stances that would
    /// fit (`see --stance-map, --topic-kind`: flags of `import csv`); empty: nothing.
    pub stance_hint: String,
}

/// Where the engine's events go: the writer, or nowhere (a dry run reads the log only).
enum Target {
    Write(Writer),
    Dry(Log),
}

/// A row's outcome when it is not an error: what to do, or why the row is refused.
type Refusal<T> = std::result::Result<T, String>;

impl Target {
    /// The whole log's fold, when the engine holds one (a dry run, an engine of
    /// [`Engine::open_folded`], a PostgreSQL log).
    fn history(&self) -> Option<&History> {
        match self {
            Target::Write(w) => w.folds_whole().then(|| w.log().history()),
            Target::Dry(l) => Some(l.history()),
        }
    }

    fn seq_of(&mut self, id: &Uuid) -> Result<Option<Seq>> {
        match self {
            Target::Write(w) => w.seq_of(id),
            Target::Dry(l) => Ok(l.history().seq_of(id)),
        }
    }

    fn is_actor(&mut self, id: &ActorId) -> Result<bool> {
        match self {
            Target::Write(w) => w.is_actor(id),
            Target::Dry(l) => Ok(l.history().is_actor(id)),
        }
    }

    fn topic_kind(&mut self, id: &TopicId) -> Result<Option<TopicKind>> {
        match self {
            Target::Write(w) => w.topic_kind(id),
            Target::Dry(l) => Ok(l.history().topic(id).map(|t| t.kind)),
        }
    }

    /// The stance of `seq` as known at the log's end.
    fn stance_now(&mut self, seq: Seq) -> Result<Option<StanceDeclared>> {
        match self {
            Target::Write(w) => w.stance_now(seq),
            Target::Dry(l) => Ok(l.history().stance_known(seq, l.history().seq_last())),
        }
    }

    fn event(&mut self, seq: Seq) -> Result<Option<Event>> {
        match self {
            Target::Write(w) => w.event(seq),
            Target::Dry(l) => Ok(l.history().event(seq)),
        }
    }

    /// The log's last recorded time.
    fn recorded_at_last(&self) -> Option<jiff::Timestamp> {
        match self {
            Target::Write(w) => w.log().recorded_at_last,
            Target::Dry(l) => l.history().recorded_at(l.history().seq_last()),
        }
    }
}

/// What a row's stance is, measured against what the log and this import hold.
enum Verdict {
    New(Uuid),
    Present,
    /// A `stance.cited` of id `id` whose target is `target`; its citation and quote are the
    /// row's own, moved into it.
    Cited {
        id: Uuid,
        target: Uuid,
    },
    /// Boxed: corrections are rare, and every verdict would take the size of an event.
    Corrected(Box<NewEvent>),
    SameDayEntry,
}

impl Verdict {
    /// Whether it adds an event.
    fn adds(&self) -> bool {
        matches!(
            self,
            Verdict::New(_) | Verdict::Cited { .. } | Verdict::Corrected(_)
        )
    }
}

/// What [`Engine::compared`] needs of the stance held under a row's key: how the row's stance
/// differs from it, whether their citation and quote are the same, and (for a stance in the
/// log, with [`EngineOptions::corrections`], when they differ) the correction.
struct Held {
    diff: Vec<String>,
    same_cite: bool,
    correction: Option<std::result::Result<Correction, String>>,
}

impl Held {
    fn of(old: &StanceDeclared, new: &StanceDeclared, correct: bool) -> Held {
        let diff = differences(old, new);
        Held {
            same_cite: old.cite == new.cite && (old.quote == new.quote || new.quote.is_none()),
            correction: (correct && !diff.is_empty()).then(|| correction_of(old, new)),
            diff,
        }
    }
}

/// The engine: holds the log's lock (unless a dry run) from [`Engine::open`] to
/// [`Engine::finish`].
pub struct Engine<'p> {
    target: Target,
    opts: EngineOptions,
    progress: &'p dyn Progress,
    report: ImportReport,
    /// The batch being built, its recorded time, and each stance id in it with its index.
    batch: Vec<NewEvent>,
    batch_at: Option<jiff::Timestamp>,
    batch_ids: FxHashMap<Uuid, usize>,
    /// Actors and topics known (in the log, or registered by this import).
    actors: FxHashSet<ActorId>,
    topics: FxHashMap<TopicId, TopicKind>,
    /// The latest recorded time a row gave (or the log's last), which rows must not go below.
    floor: Option<jiff::Timestamp>,
    /// How ids are made (and the text of the last key).
    keying: Keying,
    /// With [`EngineOptions::corrections`]: the id of each stance a row of this import has
    /// taken (new, present, cited or corrected), so that a later row with its key and other
    /// content is refused rather than corrected (one entry per such row: 16 bytes), and the
    /// stance each correction of this import set, to compare later rows with.
    seen: FxHashSet<Uuid>,
    corrected: FxHashMap<Uuid, StanceDeclared>,
    /// Where appended batches go to be freed (another thread), and where they come back
    /// emptied, to be filled again (a fresh batch of 50,000 events cost a page fault per
    /// 4 KiB); `None` frees them here.
    spent: Option<Spent>,
}

/// Where appended batches go to be freed, and where they come back emptied.
type Spent = (mpsc::Sender<Vec<NewEvent>>, mpsc::Receiver<Vec<NewEvent>>);

impl<'p> Engine<'p> {
    /// Opens the log at `log`: for writing (taking its lock, waiting up to `opts.wait`; on a
    /// file, rows are checked against the projection index and the batches already appended,
    /// not a fold of the whole log: [`Writer::open_import`]), or only reading it for a dry run.
    ///
    /// # Errors
    /// Those of [`Writer::open_import`] and [`Log::open`].
    pub fn open(
        log: &LogRef,
        opts: EngineOptions,
        progress: &'p dyn Progress,
    ) -> Result<Engine<'p>> {
        let target = if opts.dry_run {
            Target::Dry(log.open()?)
        } else {
            Target::Write(Writer::open_import(log, opts.wait)?)
        };
        Ok(Engine::on(target, opts, progress))
    }

    /// [`Engine::open`], but with the whole log folded, so that [`Engine::history`] gives it:
    /// for a source that must read the log's state before it reads its rows (a treaty's
    /// versions are compared with the topic's state in the log).
    ///
    /// # Errors
    /// Those of [`Writer::open_log`] and [`Log::open`].
    pub fn open_folded(
        log: &LogRef,
        opts: EngineOptions,
        progress: &'p dyn Progress,
    ) -> Result<Engine<'p>> {
        let target = if opts.dry_run {
            Target::Dry(log.open()?)
        } else {
            let mut writer = Writer::open_log(log, opts.wait)?;
            // Many batches: the projection index is updated once, in `finish`.
            writer.defer_index();
            Target::Write(writer)
        };
        Ok(Engine::on(target, opts, progress))
    }

    fn on(target: Target, opts: EngineOptions, progress: &'p dyn Progress) -> Engine<'p> {
        let floor = target.recorded_at_last();
        let keying = Keying::new(&opts);
        Engine {
            report: ImportReport {
                dry_run: opts.dry_run,
                ..ImportReport::default()
            },
            target,
            opts,
            progress,
            batch: Vec::with_capacity(IMPORT_BATCH_EVENTS),
            batch_at: None,
            batch_ids: FxHashMap::default(),
            actors: FxHashSet::default(),
            topics: FxHashMap::default(),
            floor,
            keying,
            seen: FxHashSet::default(),
            corrected: FxHashMap::default(),
            spent: None,
        }
    }

    /// The log as the engine sees it (with the batches appended so far), when it holds the
    /// whole log's fold (see [`Engine::open_folded`]); `None` on the projection index.
    pub fn history(&self) -> Option<&History> {
        self.target.history()
    }

    /// The kind of topic `id`, if the log (or this import) has registered it.
    ///
    /// # Errors
    /// Those of reading the log, when its index is found damaged.
    pub fn topic_kind_of(&mut self, id: &TopicId) -> Result<Option<TopicKind>> {
        self.target.topic_kind(id)
    }

    /// Takes one source row of `file`: refuses, skips, or queues its events.
    ///
    /// # Errors
    /// Those of [`Writer::append`] when a full batch is appended.
    pub fn row(&mut self, file: &str, row: Row) -> Result<()> {
        self.progress.advance(1);
        let mapped = match row.outcome {
            Outcome::Mapped(m) => m,
            Outcome::Skipped(why) => {
                self.skip(why);
                return Ok(());
            }
            Outcome::Refused(reason) => {
                self.refuse(file, row.line, reason);
                return Ok(());
            }
        };
        if mapped.is_empty() {
            return Ok(());
        }
        if let Some(reason) = mapped.iter().find_map(|m| storable(&m.stance).err()) {
            self.refuse(file, row.line, reason);
            return Ok(());
        }
        let registrations = match self.registrations(&mapped)? {
            Ok(r) => r,
            Err(reason) => {
                self.refuse(file, row.line, reason);
                return Ok(());
            }
        };
        let mut verdicts = Vec::with_capacity(mapped.len());
        for m in &mapped {
            match self.verdict(m, row.line)? {
                Ok(v) => verdicts.push(v),
                Err(reason) => {
                    self.refuse(file, row.line, reason);
                    return Ok(());
                }
            }
        }
        let adds = !registrations.is_empty() || verdicts.iter().any(Verdict::adds);
        let at = row.recorded.unwrap_or(self.opts.now);
        // Only a row that adds something needs a recorded time the log can still take.
        if adds && let Some(reason) = self.recorded_refusal(row.recorded) {
            self.refuse(file, row.line, reason);
            return Ok(());
        }
        let full = self.batch.len() + registrations.len() + mapped.len() > IMPORT_BATCH_EVENTS;
        if full || self.batch_at.is_some_and(|t| t != at) {
            self.flush(file)?;
        }
        if !adds {
            for (m, v) in mapped.into_iter().zip(verdicts) {
                self.push_verdict(m, v, row.line);
            }
            return Ok(());
        }
        self.batch_at = Some(at);
        if row.recorded.is_some() {
            self.floor = Some(at);
        }
        for body in registrations {
            self.push_registration(body, row.line);
        }
        for (m, v) in mapped.into_iter().zip(verdicts) {
            self.push_verdict(m, v, row.line);
        }
        Ok(())
    }

    fn push_registration(&mut self, body: EventBody, line: u64) {
        let key = match &body {
            EventBody::ActorRegistered(a) => {
                self.actors.insert(a.actor.clone());
                format!("import/{}/actor/{}", self.opts.dataset, a.actor)
            }
            EventBody::TopicRegistered(t) => {
                self.topics.insert(t.topic.clone(), t.kind);
                format!("import/{}/topic/{}", self.opts.dataset, t.topic)
            }
            _ => unreachable!("only registrations"),
        };
        self.batch.push(NewEvent {
            id: Some(event_id(&key)),
            body,
            line,
        });
    }

    fn push_verdict(&mut self, m: Mapped, v: Verdict, line: u64) {
        if self.opts.corrections && !matches!(v, Verdict::SameDayEntry) {
            let id = match &v {
                Verdict::Cited { target, .. } => Some(*target),
                Verdict::Corrected(e) => match &e.body {
                    EventBody::StanceCorrected(c) => Some(c.target),
                    _ => None,
                },
                Verdict::New(id) => Some(*id),
                _ => Some(m.ids.unwrap_or_else(|| self.keying.ids_of(&m)).0),
            };
            self.seen.extend(id);
        }
        match v {
            Verdict::Present => self.report.already_present += 1,
            Verdict::SameDayEntry => self
                .skip("a spell ends the day another begins (the actor stays a member)".to_string()),
            Verdict::Cited { id, target } => {
                self.report.cited += 1;
                self.batch.push(NewEvent {
                    id: Some(id),
                    body: EventBody::StanceCited(StanceCited {
                        target,
                        cite: m.stance.cite,
                        quote: m.stance.quote,
                    }),
                    line,
                });
            }
            Verdict::Corrected(e) => {
                self.report.corrected += 1;
                if let EventBody::StanceCorrected(c) = &e.body {
                    self.corrected.insert(c.target, m.stance);
                }
                self.batch.push(*e);
            }
            Verdict::New(id) => {
                self.batch_ids.insert(id, self.batch.len());
                self.batch.push(NewEvent {
                    id: Some(id),
                    body: EventBody::StanceDeclared(m.stance),
                    line,
                });
            }
        }
    }

    /// The registrations a row's stances need, or why the row is refused.
    fn registrations(&mut self, mapped: &[Mapped]) -> Result<Refusal<Vec<EventBody>>> {
        let mut out = Vec::new();
        for m in mapped {
            let s = &m.stance;
            let parties = [(&s.actor, &m.actor, "actor")]
                .into_iter()
                .chain(s.recipient.as_ref().map(|r| (r, &m.recipient, "recipient")));
            for (id, new, what) in parties {
                let queued = out
                    .iter()
                    .any(|e| matches!(e, EventBody::ActorRegistered(a) if &a.actor == id));
                if queued || self.is_actor(id)? {
                    continue;
                }
                let Some(new) = new else {
                    return Ok(Err(format!(
                        "unknown {what} `{id}` (register it first, or pass --register)"
                    )));
                };
                let country = match &new.country {
                    Ok(c) => *c,
                    Err(e) => {
                        return Ok(Err(format!(
                            "cannot tell the country of new {what} `{id}`: {e}"
                        )));
                    }
                };
                out.push(EventBody::ActorRegistered(ActorRegistered {
                    actor: id.clone(),
                    name: new.name.clone(),
                    kind: new.kind,
                    country,
                    sector: new.sector,
                    aliases: Vec::new(),
                }));
            }
            let kind = match self.topic_or_registration(m, &mut out)? {
                Ok(k) => k,
                Err(reason) => return Ok(Err(reason)),
            };
            if !s.stance.fits(kind) {
                let allowed: Vec<&str> = Stance::ALL
                    .iter()
                    .filter(|x| x.fits(kind))
                    .map(|x| x.as_str())
                    .collect();
                let from = self.opts.stance_sources.iter().find(|(r, _)| *r == m.role);
                let hint = &self.opts.stance_hint;
                return Ok(Err(format!(
                    "{}stance `{}` does not fit {kind} topic `{}` (use one of: {}{}{hint})",
                    from.map_or(String::new(), |(_, f)| format!("{f}: ")),
                    s.stance,
                    s.topic,
                    allowed.join(", "),
                    if hint.is_empty() { "" } else { "; " },
                )));
            }
        }
        Ok(Ok(out))
    }

    /// The kind of a stance's topic, queueing its registration in `out` if it is new.
    fn topic_or_registration(
        &mut self,
        m: &Mapped,
        out: &mut Vec<EventBody>,
    ) -> Result<Refusal<TopicKind>> {
        let topic = &m.stance.topic;
        if let Some(k) = self.topic_kind(topic)? {
            return Ok(Ok(k));
        }
        let queued = out.iter().find_map(|e| match e {
            EventBody::TopicRegistered(r) if &r.topic == topic => Some(r.kind),
            _ => None,
        });
        if let Some(k) = queued {
            return Ok(Ok(k));
        }
        let Some(t) = &m.topic else {
            return Ok(Err(format!(
                "unknown topic `{topic}` (register it first, or pass --register)"
            )));
        };
        out.push(EventBody::TopicRegistered(TopicRegistered {
            topic: topic.clone(),
            title: t.title.clone(),
            kind: t.kind,
            resolution: None,
            session: None,
            issues: Vec::new(),
            important: None,
        }));
        Ok(Ok(t.kind))
    }

    fn is_actor(&mut self, id: &ActorId) -> Result<bool> {
        if self.actors.contains(id) {
            return Ok(true);
        }
        let known = self.target.is_actor(id)?;
        if known {
            self.actors.insert(id.clone());
        }
        Ok(known)
    }

    fn topic_kind(&mut self, id: &TopicId) -> Result<Option<TopicKind>> {
        if let Some(k) = self.topics.get(id) {
            return Ok(Some(*k));
        }
        let Some(kind) = self.target.topic_kind(id)? else {
            return Ok(None);
        };
        self.topics.insert(id.clone(), kind);
        Ok(Some(kind))
    }

    /// Where the log or this import holds `id`: its seq, 0 when it is in the batch being
    /// built; `None` when it is new.
    fn seq_held(&mut self, id: &Uuid) -> Result<Option<Seq>> {
        if self.batch_ids.contains_key(id) {
            return Ok(Some(0));
        }
        self.target.seq_of(id)
    }

    fn is_held(&mut self, id: &Uuid) -> Result<bool> {
        Ok(self.seq_held(id)?.is_some())
    }

    /// What to do with a mapped stance (see [`Verdict`]), or why its row is refused.
    fn verdict(&mut self, m: &Mapped, line: u64) -> Result<Refusal<Verdict>> {
        let (id, entry) = m.ids.unwrap_or_else(|| self.keying.ids_of(m));
        if let Some(e) = entry
            && self.is_held(&e)?
        {
            return Ok(Ok(Verdict::SameDayEntry));
        }
        // One look-up: most ids are new, and on a re-import most are held.
        let Some(seq) = self.seq_held(&id)? else {
            return Ok(Ok(Verdict::New(id)));
        };
        let new = &m.stance;
        // What `compared` needs of the stance held: one in the batch is read where it lies (a
        // copy of it for each row citing it showed in an ICEWS import's engine thread).
        // A key a row of this import took already: compared with that row, never corrected.
        let earlier = seq == 0 || self.seen.contains(&id);
        let held = if let Some(old) = self.corrected.get(&id) {
            Some(Held::of(old, new, false))
        } else if seq == 0 {
            let i = self.batch_ids.get(&id).copied();
            i.and_then(|i| match &self.batch[i].body {
                EventBody::StanceDeclared(old) => Some(Held::of(old, new, false)),
                _ => None,
            })
        } else {
            let correct = self.opts.corrections && !earlier;
            (self.target.stance_now(seq)?).map(|old| Held::of(&old, new, correct))
        };
        let Some(held) = held else {
            return Ok(Err(format!(
                "its id {id} is in the log for an event other than a stance.declared"
            )));
        };
        self.compared(m, line, id, (seq, earlier), held)
    }

    /// What to do with a mapped stance whose key is held already (at `seq`; 0 when in the
    /// batch being built; `earlier` when a row of this import took it), as `held` says it
    /// compares, or why its row is refused.
    fn compared(
        &mut self,
        m: &Mapped,
        line: u64,
        id: Uuid,
        (seq, earlier): (Seq, bool),
        held: Held,
    ) -> Result<Refusal<Verdict>> {
        let new = &m.stance;
        let diff = held.diff;
        if diff.is_empty() {
            if held.same_cite {
                return Ok(Ok(Verdict::Present));
            }
            let cited = event_id(&cited_key(self.keying.text_of(m), &new.cite, &new.quote));
            if self.is_held(&cited)? {
                return Ok(Ok(Verdict::Present));
            }
            return Ok(Ok(Verdict::Cited {
                id: cited,
                target: id,
            }));
        }
        let words = diff.join("; ");
        let where_ = if earlier {
            "earlier in this import".to_string()
        } else {
            format!("in the log (seq {seq})")
        };
        // `Held::of` made a correction exactly for a stance in the log with --corrections.
        let correction = match held.correction {
            Some(Ok(c)) => c,
            Some(Err(reason)) => return Ok(Err(reason)),
            None => {
                let hint = if earlier {
                    "two rows with one key must agree"
                } else {
                    "pass --corrections to append a stance.corrected"
                };
                return Ok(Err(format!(
                    "a stance with this key is {where_} with other content ({words}): {hint}"
                )));
            }
        };
        let key = format!("{}\u{1f}corrected\u{1f}{words}", self.keying.text_of(m));
        let corrected = event_id(&key);
        if self.is_held(&corrected)? {
            return Ok(Ok(Verdict::Present));
        }
        Ok(Ok(Verdict::Corrected(Box::new(NewEvent {
            id: Some(corrected),
            body: EventBody::StanceCorrected(StanceCorrected {
                target: id,
                correction,
                reason: format!("re-imported from data set `{}`: {words}", self.opts.dataset),
            }),
            line,
        }))))
    }

    fn skip(&mut self, why: String) {
        self.report.skipped += 1;
        *self.report.skipped_why.entry(why).or_default() += 1;
    }

    fn refuse(&mut self, file: &str, line: u64, reason: String) {
        self.report.refuse(|| RefusedRow {
            file: file.to_string(),
            line,
            reason,
        });
    }

    /// Appends the batch being built (a dry run only counts it).
    ///
    /// # Errors
    /// Those of [`Writer::append`].
    pub fn flush(&mut self, file: &str) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        match &mut self.target {
            Target::Write(w) => {
                let append = AppendOptions {
                    recorded_at: self.batch_at.unwrap_or(self.opts.now),
                    expect_seq: None,
                    wait: self.opts.wait,
                };
                let done = w.append(&self.batch, file, &append)?;
                self.report.tally(&done);
                self.batch_ids.clear();
                match &self.spent {
                    Some((spent, emptied)) => {
                        let next = emptied
                            .try_recv()
                            .unwrap_or_else(|_| Vec::with_capacity(IMPORT_BATCH_EVENTS));
                        let full = std::mem::replace(&mut self.batch, next);
                        // If the other end is gone, the batch is freed here instead.
                        let _ = spent.send(full);
                    }
                    None => self.batch.clear(),
                }
            }
            // A dry run keeps its batch, so later rows see what it would have appended.
            Target::Dry(_) if self.batch.len() < DRY_RUN_EVENTS_MAX => {}
            Target::Dry(_) => self.count_dry(),
        }
        Ok(())
    }

    /// Why a row's own recorded time (`--recorded-col`, GDELT's `DATEADDED`) cannot be taken:
    /// later than now (the log would learn of it before it happened, and every later append
    /// would be stamped after it), or earlier than the row before or the log's last one.
    fn recorded_refusal(&self, recorded: Option<jiff::Timestamp>) -> Option<String> {
        let at = recorded?;
        if at > self.opts.now {
            return Some(format!(
                "recorded time {} is in the future (now {}): it says when the log learned of the row",
                format_recorded_at(&at),
                format_recorded_at(&self.opts.now)
            ));
        }
        let f = self.floor.filter(|f| at < *f)?;
        Some(format!(
            "recorded time {} is earlier than {} (the row before, or the log's last recorded time): recorded times must not decrease",
            format_recorded_at(&at),
            format_recorded_at(&f)
        ))
    }

    /// A dry run's batch leaves the engine: counted as would-be appended, and its first events
    /// kept for the report (up to [`DRY_RUN_SAMPLE`] in all).
    fn count_dry(&mut self) {
        let room = DRY_RUN_SAMPLE.saturating_sub(self.report.would_append.len());
        self.report
            .would_append
            .extend(self.batch.iter().take(room).map(|e| {
                let mut r = Record::from_body(&e.body);
                r.id = e.id.map(|id| id.hyphenated().to_string());
                r
            }));
        self.report.appended += self.batch.len() as u64;
        self.batch.clear();
        self.batch_ids.clear();
    }

    /// Appends what is left, releases the lock, and returns the report with the refused rows
    /// in file order. What the writer held (the folded log, or the import's sparse history) is
    /// freed on a thread of its own. Every batch is durable when this returns `Ok`.
    ///
    /// # Errors
    /// Those of [`Writer::append`] and [`Writer::wait_durable`]; when the last batch is not
    /// appended and the batch before it, still in flight, was not stored either, the error
    /// says both (`Engine::stopped`).
    pub fn finish(mut self, file: &str) -> Result<ImportReport> {
        if let Err(e) = self.flush(file) {
            // The batch before may still be on its way, its write failed too.
            return Err(self.stopped(e));
        }
        self.spent = None;
        if let Target::Dry(_) = self.target {
            self.count_dry();
        }
        let log = match self.target {
            Target::Write(mut w) => {
                // The last batch may still be on its way (`Writer::open_import`).
                self.report.index_warning = w.update_index()?;
                w.into_log()?
            }
            Target::Dry(l) => {
                self.report.torn_tail = (l.torn_tail_bytes(), l.torn_tail_records());
                l
            }
        };
        crate::store::drop_elsewhere(log);
        self.progress.finish();
        let mut report = self.report;
        report
            .refused
            .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Ok(report)
    }

    /// Takes one event the source made and keyed itself (see [`Keyed`]).
    ///
    /// # Errors
    /// Those of [`Writer::append`] when a batch is appended.
    fn keyed(&mut self, file: &str, k: Keyed) -> Result<()> {
        let Some(id) = k.event.id else {
            unreachable!("a keyed event has an id")
        };
        let known = match &k.event.body {
            EventBody::ActorRegistered(a) => self.target.is_actor(&a.actor)?,
            EventBody::TopicRegistered(t) => self.target.topic_kind(&t.topic)?.is_some(),
            _ => false,
        };
        if let Some(seq) = self.target.seq_of(&id)? {
            let same = known
                || self
                    .target
                    .event(seq)?
                    .is_some_and(|e| e.body == k.event.body);
            if same {
                self.report.already_present += 1;
            } else {
                let reason = format!(
                    "this {} was imported before (seq {seq}) with other content; record the change as a stance.corrected",
                    k.what
                );
                self.refuse(file, k.event.line, reason);
            }
            return Ok(());
        }
        // Registered by other means: used as it is.
        if known {
            return Ok(());
        }
        if self.batch.len() >= IMPORT_BATCH_EVENTS || self.batch_at.is_some_and(|t| t != k.at) {
            self.flush(file)?;
        }
        self.batch_at = Some(k.at);
        self.batch.push(k.event);
        Ok(())
    }
}

/// Items per chunk handed from the reading thread to the engine.
const ITEM_CHUNK: usize = 2048;

/// An event a source made and keyed itself (the UN votes' `unvotes/vote/<rcid>/<actor>`, a
/// treaty version's retraction), where the engine's row mapping does not fit. The engine
/// checks it against the log before queueing it:
///
/// - an `actor.registered` or `topic.registered` whose actor or topic the log already has is
///   left out (registered by other means: used as it is), and counted already present if its
///   id is in the log;
/// - any other event whose id is in the log is already present if its content is the same,
///   and else refused (`this {what} was imported before (seq N) with other content`), the
///   import going on;
/// - anything else is queued, recorded at `at` (a new recorded time, or a full batch, appends
///   the batch first).
#[derive(Debug, Clone)]
pub struct Keyed {
    /// The event; its id must be set.
    pub event: NewEvent,
    /// Its recorded time.
    pub at: jiff::Timestamp,
    /// What it is, in the message when it is refused (`vote`).
    pub what: &'static str,
}

/// What a source hands the engine, in order (see [`Engine::import_items`]).
#[derive(Debug, Clone)]
pub enum Item {
    /// A table row, mapped to stances whose ids, comparisons and registrations the engine
    /// makes (advances progress by one).
    Row(Row),
    /// An event the source keyed itself (boxed: an event is several times the size of a
    /// row, and every item of a chunk takes the size of the largest).
    Keyed(Box<Keyed>),
    /// A row the source refused.
    Refused(RefusedRow),
    /// What follows comes from this file (a source of several files): the batch being built
    /// is appended first, so that a batch's errors name its file.
    File(String),
    /// Appends the batch being built: what follows is a batch of its own (a section, a
    /// version).
    Flush,
    /// `n` more units of the source's progress are done (rows advance it themselves).
    Advance(u64),
}

/// Where a reading thread puts its items: they reach the engine in chunks of 2,048. It also
/// frees the batches the engine has appended (sent back to it), so the engine's thread spends
/// no time freeing events.
pub struct RowSink {
    tx: mpsc::SyncSender<Vec<Item>>,
    buf: Vec<Item>,
    spent: mpsc::Receiver<Vec<NewEvent>>,
    /// Where the spent batches go back, emptied (at most two are kept).
    emptied: mpsc::SyncSender<Vec<NewEvent>>,
    /// Makes the ids of mapped stances here, on the reading thread.
    keying: Keying,
}

impl RowSink {
    /// Queues a row; `false` when the engine has stopped (an error), so the reader can stop.
    pub fn push(&mut self, row: Row) -> bool {
        self.push_item(Item::Row(row))
    }

    /// Queues an item; `false` when the engine has stopped (an error), so the reader can stop.
    /// The ids of a row's stances are made here, off the engine's thread.
    pub fn push_item(&mut self, mut item: Item) -> bool {
        if let Item::Row(Row {
            outcome: Outcome::Mapped(list),
            ..
        }) = &mut item
        {
            for m in list {
                self.keying.fill(m);
            }
        }
        self.buf.push(item);
        self.buf.len() < ITEM_CHUNK || self.send()
    }

    fn send(&mut self) -> bool {
        while let Ok(mut batch) = self.spent.try_recv() {
            batch.clear();
            // When two wait already (or the engine is done), this one is freed.
            let _ = self.emptied.try_send(batch);
        }
        let full = std::mem::replace(&mut self.buf, Vec::with_capacity(ITEM_CHUNK));
        full.is_empty() || self.tx.send(full).is_ok()
    }
}

impl Engine<'_> {
    /// Imports the rows `read` produces, then [`Engine::finish`]es: [`Engine::import_items`]
    /// for a source of rows only.
    ///
    /// # Errors
    /// Those of [`Engine::import_items`].
    pub fn import_rows<F>(self, file: &str, read: F) -> Result<ImportReport>
    where
        F: FnOnce(&mut RowSink) -> Result<()> + Send,
    {
        self.import_items(file, read)
    }

    /// Imports the items `read` produces from `file` (until an [`Item::File`] names another),
    /// then [`Engine::finish`]es. `read` runs on a second thread (reading and mapping the
    /// source, and freeing the batches already appended) while this one takes its items into
    /// the engine and the writer, so the two overlap. Items are taken in the order `read`
    /// pushes them.
    ///
    /// # Errors
    /// The first error of the engine (the reader then stops at its next chunk) or of `read`.
    pub fn import_items<F>(mut self, file: &str, read: F) -> Result<ImportReport>
    where
        F: FnOnce(&mut RowSink) -> Result<()> + Send,
    {
        let mut file = file.to_string();
        let done = std::thread::scope(|scope| -> Result<()> {
            let (tx, rx) = mpsc::sync_channel::<Vec<Item>>(4);
            let (spent_tx, spent_rx) = mpsc::channel::<Vec<NewEvent>>();
            let (emptied_tx, emptied_rx) = mpsc::sync_channel::<Vec<NewEvent>>(2);
            self.spent = Some((spent_tx, emptied_rx));
            let keying = self.keying.clone();
            let reader = scope.spawn(move || {
                let mut sink = RowSink {
                    tx,
                    buf: Vec::with_capacity(ITEM_CHUNK),
                    spent: spent_rx,
                    emptied: emptied_tx,
                    keying,
                };
                let done = read(&mut sink);
                sink.send();
                done
            });
            let taken = self.take_chunks(&mut file, &rx);
            // Dropping the receiver stops a reader still sending.
            drop(rx);
            self.spent = None;
            let read = reader
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            taken.and(read)
        });
        match done {
            Ok(()) => self.finish(&file),
            Err(e) => Err(self.stopped(e)),
        }
    }

    /// The error an import stopped on, once the batch an import's writer may still have in
    /// flight ([`Writer::open_import`]) is settled: should that batch not have been
    /// stored either, the error says so, since the batches "before" an error are reported as
    /// appended.
    fn stopped(&mut self, e: Error) -> Error {
        let Target::Write(w) = &mut self.target else {
            return e;
        };
        match w.wait_durable() {
            Ok(()) => e,
            Err(Error::Io { path, source }) => Error::io(
                path,
                io::Error::other(format!(
                    "{source}; the last batch sent was not stored, and the import had stopped on: {e}"
                )),
            ),
            Err(lost) => lost,
        }
    }

    /// Takes the chunks of items until the reader is done or the engine fails.
    fn take_chunks(&mut self, file: &mut String, rx: &mpsc::Receiver<Vec<Item>>) -> Result<()> {
        for chunk in rx.iter() {
            for item in chunk {
                match item {
                    Item::Row(row) => self.row(file, row)?,
                    Item::Keyed(k) => self.keyed(file, *k)?,
                    Item::Refused(r) => self.report.refuse(|| r),
                    Item::File(f) => {
                        self.flush(file)?;
                        *file = f;
                    }
                    Item::Flush => self.flush(file)?,
                    Item::Advance(n) => self.progress.advance(n),
                }
            }
        }
        Ok(())
    }
}

/// The key text of a citation of the stance keyed `key`: `key`, `\u{1f}cited\u{1f}`, the
/// citation, `\u{1f}` and the quote, each as `{:?}` writes it (the ids of the citations logs
/// hold were made so). A text of printable ASCII without `"` or a backslash is pushed between quotes
/// as it is, which is what `{:?}` writes for it; any other goes through `{:?}`. (The
/// formatting machinery was a tenth of the engine's thread in an ICEWS import, a quarter of
/// whose rows are citations.)
fn cited_key(key: &str, cite: &Cite, quote: &Option<String>) -> String {
    fn text(k: &mut String, s: &str) {
        if s.bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
        {
            k.push('"');
            k.push_str(s);
            k.push('"');
        } else {
            let _ = write!(k, "{s:?}");
        }
    }
    fn opt(k: &mut String, s: Option<&str>) {
        match s {
            Some(s) => {
                k.push_str("Some(");
                text(k, s);
                k.push(')');
            }
            None => k.push_str("None"),
        }
    }
    let mut k = String::with_capacity(key.len() + 256);
    k.push_str(key);
    k.push_str("\u{1f}cited\u{1f}Cite { publication: ");
    text(&mut k, &cite.publication);
    k.push_str(", url: ");
    opt(&mut k, cite.url.as_deref());
    k.push_str(", title: ");
    opt(&mut k, cite.title.as_deref());
    match cite.published {
        Some(d) => {
            let _ = write!(k, ", published: Some({d:?}), via: ");
        }
        None => k.push_str(", published: None, via: "),
    }
    opt(&mut k, cite.via.as_deref());
    k.push_str(" }\u{1f}");
    opt(&mut k, quote.as_deref());
    k
}

/// Most events a dry run holds to compare later rows with; past it, it counts and forgets.
const DRY_RUN_EVENTS_MAX: usize = 4_000_000;

/// How many of the events a dry run would append its report shows.
pub const DRY_RUN_SAMPLE: usize = 10;

/// The role of the stance that begins a membership spell.
pub const ROLE_FROM: &str = "from";

/// The role of the stance that ends a membership spell.
pub const ROLE_UNTIL: &str = "until";

/// Bytes a stored record adds to its body: schema, seq, id, recorded_at, batch_last, hash.
const RECORD_OVERHEAD: usize = 400;

/// Whether the stored line of this stance fits [`LINE_BYTES_MAX`] (else the writer would refuse
/// its whole batch). Only a long stance is measured: a character stores as at most 6 bytes.
fn storable(s: &StanceDeclared) -> std::result::Result<(), String> {
    let text = s.quote.as_ref().map_or(0, String::len)
        + s.cite.publication.len()
        + s.cite.url.as_ref().map_or(0, String::len)
        + s.actor.as_str().len()
        + s.topic.as_str().len();
    if text * 6 + RECORD_OVERHEAD <= LINE_BYTES_MAX {
        return Ok(());
    }
    let body = EventBody::StanceDeclared(s.clone());
    let bytes = serde_json::to_vec(&Record::from_body(&body)).map_err(|e| e.to_string())?;
    if bytes.len() + RECORD_OVERHEAD > LINE_BYTES_MAX {
        return Err(format!(
            "stored, this event would be a line of about {} bytes, more than LINE_BYTES_MAX ({LINE_BYTES_MAX})",
            bytes.len() + RECORD_OVERHEAD
        ));
    }
    Ok(())
}

/// The fields in which `new` differs from `old`, other than its citation and quote, in words.
/// A field differs when its text differs; the text is made only for a field that is not equal
/// (a re-import compares every row with its stance in the log, and most are the same).
fn differences(old: &StanceDeclared, new: &StanceDeclared) -> Vec<String> {
    type Text<'a> = &'a dyn Fn() -> String;
    let mut out = Vec::new();
    let mut check = |name: &str, same: bool, a: Text<'_>, b: Text<'_>| {
        if same {
            return;
        }
        let (a, b) = (a(), b());
        if a != b {
            out.push(format!("{name} was {a}, is {b}"));
        }
    };
    let opt = |x: Option<String>| x.unwrap_or_else(|| "(none)".to_string());
    let (o, n) = (old, new);
    check(
        "actor",
        o.actor == n.actor,
        &|| o.actor.to_string(),
        &|| n.actor.to_string(),
    );
    check(
        "topic",
        o.topic == n.topic,
        &|| o.topic.to_string(),
        &|| n.topic.to_string(),
    );
    check(
        "stance",
        o.stance == n.stance,
        &|| o.stance.to_string(),
        &|| n.stance.to_string(),
    );
    check("date", o.date == n.date, &|| o.date.to_string(), &|| {
        n.date.to_string()
    });
    let time = |s: &StanceDeclared| opt(s.time.as_ref().map(|t| t.as_str().to_string()));
    check("time", o.time == n.time, &|| time(o), &|| time(n));
    let event = |s: &StanceDeclared| opt(s.event.map(|e| e.to_string()));
    check("event", o.event == n.event, &|| event(o), &|| event(n));
    let recipient = |s: &StanceDeclared| opt(s.recipient.as_ref().map(|r| r.to_string()));
    check(
        "recipient",
        o.recipient == n.recipient,
        &|| recipient(o),
        &|| recipient(n),
    );
    let instrument = |s: &StanceDeclared| opt(s.instrument.map(|i| i.to_string()));
    check(
        "instrument",
        o.instrument == n.instrument,
        &|| instrument(o),
        &|| instrument(n),
    );
    out
}

/// The correction that turns `old` into `new`, or why none can.
fn correction_of(
    old: &StanceDeclared,
    new: &StanceDeclared,
) -> std::result::Result<Correction, String> {
    let cannot = |what: &str| {
        Err(format!(
            "its {what} changed, which a stance.corrected cannot clear or set (retract the stance and import again)"
        ))
    };
    if old.recipient != new.recipient {
        return cannot("recipient");
    }
    if (old.event.is_some() && new.event.is_none())
        || (old.instrument.is_some() && new.instrument.is_none())
        || (old.time.is_some() && new.time.is_none())
    {
        return cannot("event type, instrument or time");
    }
    let changed = |a: bool| a.then_some(());
    Ok(Correction {
        actor: changed(old.actor != new.actor).map(|()| new.actor.clone()),
        topic: changed(old.topic != new.topic).map(|()| new.topic.clone()),
        stance: changed(old.stance != new.stance).map(|()| new.stance),
        date: changed(old.date != new.date || old.time != new.time)
            .map(|()| (new.date, new.time.clone())),
        quote: None,
        cite: None,
        event: changed(old.event != new.event).and(new.event),
        instrument: changed(old.instrument != new.instrument).and(new.instrument),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::NoProgress;

    /// The stance of one `stance.declared` line (without its type, which is added).
    fn stance(json: &str) -> StanceDeclared {
        let line = json.replacen('{', r#"{"type":"stance.declared","#, 1);
        let mut batch = crate::store::parse_batch("t", line.as_bytes()).unwrap();
        match batch.remove(0).body {
            EventBody::StanceDeclared(s) => s,
            other => panic!("not a stance: {other:?}"),
        }
    }

    /// Given an import whose first batch (an actor's registration) is written behind it and
    /// fails (the log's descriptor is read-only), when its last batch is refused before the
    /// writer waits for the first (a stance of an actor never registered), then `finish`
    /// fails with the first batch's write error (it had been counted as appended), naming
    /// the refusal it stopped on too, and the log holds nothing.
    #[test]
    fn a_failed_write_behind_is_told_when_the_last_batch_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        crate::store::Log::create(&path).unwrap();
        let opts = EngineOptions {
            dataset: "d".to_string(),
            key: Vec::new(),
            now: "2024-01-01T00:00:00Z".parse().unwrap(),
            wait: Duration::from_secs(5),
            dry_run: false,
            corrections: false,
            stance_sources: Vec::new(),
            stance_hint: String::new(),
        };
        let mut engine = Engine::open(&LogRef::File(path.clone()), opts, &NoProgress).unwrap();
        let Target::Write(w) = &mut engine.target else {
            unreachable!("not a dry run")
        };
        w.break_writes();
        let actor = r#"{"type":"actor.registered","actor":"a1","name":"A","kind":"state","country":"USA","sector":"GOV"}"#;
        engine.batch = crate::store::parse_batch("t", actor.as_bytes()).unwrap();
        engine.flush("t").unwrap();
        assert_eq!(engine.report.appended, 1);
        let line = r#"{"type":"stance.declared","actor":"a2","topic":"t1","stance":"support","date":"2024-01","cite":{"publication":"P"}}"#;
        engine.batch = crate::store::parse_batch("t", line.as_bytes()).unwrap();
        let e = engine.finish("t").unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "{}: Bad file descriptor (os error 9)",
                path.display()
            )),
            "{e}"
        );
        assert!(
            e.contains("the last batch sent was not stored, and the import had stopped on: "),
            "{e}"
        );
        assert!(e.contains("a2"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), b"");
    }

    /// Given citations with plain text, escapes (quotes, backslashes, tabs, a line break,
    /// non-ASCII, a combining mark), set and empty fields and a publication date, when their
    /// key text is made, then it is byte for byte what `format!` with `{:?}` wrote (the ids of
    /// citations already in logs were made so).
    #[test]
    fn a_citation_key_is_what_debug_formatting_wrote() {
        let date = stance(
            r#"{"actor":"a1","topic":"t1","stance":"support","date":"2024-10-21","cite":{"publication":"P"}}"#,
        )
        .date;
        let texts = [
            "Vietnam News Agency Bulletin",
            "",
            "say \"no\"",
            "C:\\dir",
            "tab\there",
            "two\nlines",
            "Agence France-Presse \u{e9}t\u{e9}",
            "\u{301}accent first",
            "~ and \u{7f} and \u{0}",
        ];
        for (i, t) in texts.iter().enumerate() {
            let some = |s: &str| Some(s.to_string());
            let cite = Cite {
                publication: t.to_string(),
                url: (i % 2 == 0).then(|| format!("http://example.org/{t}")),
                title: some(t),
                published: (i % 3 == 0).then_some(date),
                via: (i % 2 == 1).then(|| t.to_string()),
            };
            let quote = (i % 4 != 0).then(|| t.to_string());
            assert_eq!(
                cited_key("import/d\u{1f}k", &cite, &quote),
                format!("import/d\u{1f}k\u{1f}cited\u{1f}{cite:?}\u{1f}{quote:?}"),
                "{t:?}"
            );
        }
    }

    /// Given a stance in the log and the same key read again, when fields are equal, other, or
    /// set where they were not, then each differing field is named with both texts, in field
    /// order, and equal fields (the same day given as a month is not the same date) are not.
    #[test]
    fn differences_name_each_field_whose_text_differs() {
        let old = stance(
            r#"{"actor":"a1","topic":"t1","stance":"support","date":"2024-10","cite":{"publication":"P"}}"#,
        );
        assert_eq!(differences(&old, &old.clone()), Vec::<String>::new());
        let new = stance(
            r#"{"actor":"a1","topic":"t1","stance":"oppose","date":"2024-10-01","recipient":"b2","cite":{"publication":"Q"}}"#,
        );
        assert_eq!(
            differences(&old, &new),
            vec![
                "stance was support, is oppose".to_string(),
                "date was 2024-10, is 2024-10-01".to_string(),
                "recipient was (none), is b2".to_string(),
            ]
        );
    }
}
