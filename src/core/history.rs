//! The fold: events applied in `seq` order into an in-memory history that answers queries.
//!
//! Deciding and applying are separate. [`History::check`] decides whether a new event may join
//! the log and can fail with a [`Rejection`]; [`History::apply`] folds an already-checked event in
//! and cannot fail. Nothing here reads files or the clock.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;
use uuid::Uuid;

use super::date::{TimeOfDay, ValidDate};
use super::domain::{
    ActorId, ActorRegistered, ActorRole, Cite, CiteView, Event, EventBody, EventMeta, IdText,
    Instrument, PloverType, Seq, Stance, StanceDeclared, StanceView, TopicId, TopicKind,
    TopicRegistered,
};
use super::order::CanonicalKey;

/// Why a new event may not join the log. Each names the event field at fault ([`Rejection::field`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The event id is already used by another event.
    #[error("event id {id} is already used by seq {seq}")]
    DuplicateId {
        /// The id.
        id: Uuid,
        /// The event that has it.
        seq: Seq,
    },
    /// `actor.registered` for an id that is already registered.
    #[error("actor `{actor}` is already registered (seq {seq})")]
    ActorExists {
        /// The id.
        actor: ActorId,
        /// Where it was registered.
        seq: Seq,
    },
    /// `topic.registered` for an id that is already registered.
    #[error("topic `{topic}` is already registered (seq {seq})")]
    TopicExists {
        /// The id.
        topic: TopicId,
        /// Where it was registered.
        seq: Seq,
    },
    /// A reference to an actor not registered earlier in the log.
    #[error("unknown actor `{actor}`: register it first with actor.registered")]
    UnknownActor {
        /// `actor`, `recipient` or `alias`.
        field: &'static str,
        /// The unknown id.
        actor: ActorId,
    },
    /// A reference to a topic not registered earlier in the log.
    #[error("unknown topic `{0}`: register it first with topic.registered")]
    UnknownTopic(TopicId),
    /// The stance does not fit the topic's kind.
    #[error("stance `{stance}` does not fit {kind} topic `{topic}` (use one of: {allowed})")]
    StanceUnfit {
        /// The stance given.
        stance: Stance,
        /// The topic.
        topic: TopicId,
        /// The topic's kind.
        kind: TopicKind,
        /// The stances that fit, comma-separated.
        allowed: String,
    },
    /// PLOVER requires a recipient for this event type and none was given.
    #[error("PLOVER event type `{0}` requires a recipient")]
    RecipientRequired(PloverType),
    /// A `target` that is not in the log.
    #[error("target {0} is not in the log")]
    UnknownTarget(Uuid),
    /// A `target` that is not a `stance.declared`.
    #[error("target {target} is an event of type {type_name}, not a stance.declared")]
    TargetNotStance {
        /// The id.
        target: Uuid,
        /// Its event type.
        type_name: &'static str,
    },
    /// A `target` stance that is already retracted.
    #[error("stance {target} is retracted (seq {by})")]
    AlreadyRetracted {
        /// The id.
        target: Uuid,
        /// The retraction.
        by: Seq,
    },
    /// An `instrument` on a stance other than `ratified`.
    #[error("`instrument` goes only with stance `ratified`, not `{0}`")]
    InstrumentWithout(Stance),
    /// A `stance.corrected` that corrects no field.
    #[error(
        "a correction must set at least one of: actor, topic, stance, date, quote, cite, event, instrument"
    )]
    EmptyCorrection,
    /// A `stance.corrected` that sets each field it names to the value the stance already has
    /// (refused on append; one already in a log is read).
    #[error("the correction changes nothing: stance {0} already has these values")]
    NoChange(Uuid),
    /// `actor.aliased` linking two ids that are already one actor.
    #[error("`{alias}` is already the same actor as `{actor}`")]
    AlreadySame {
        /// The actor.
        actor: ActorId,
        /// The alias.
        alias: ActorId,
    },
    /// `actor.aliased` naming an alias that is already an alias of another actor.
    #[error("`{alias}` is already an alias of `{of}` (seq {seq})")]
    AliasTaken {
        /// The alias.
        alias: ActorId,
        /// Whose alias it is.
        of: ActorId,
        /// The linking event.
        seq: Seq,
    },
    /// `actor.role` ending before it starts.
    #[error("role ends ({to}) before it starts ({from})")]
    RoleBackwards {
        /// Start.
        from: ValidDate,
        /// End.
        to: ValidDate,
    },
}

impl Rejection {
    /// The event field at fault, as named in the log format.
    pub fn field(&self) -> &'static str {
        match self {
            Rejection::DuplicateId { .. } => "id",
            Rejection::ActorExists { .. } => "actor",
            Rejection::TopicExists { .. } => "topic",
            Rejection::UnknownActor { field, .. } => field,
            Rejection::UnknownTopic(_) => "topic",
            Rejection::StanceUnfit { .. } => "stance",
            Rejection::RecipientRequired(_) => "recipient",
            Rejection::UnknownTarget(_)
            | Rejection::TargetNotStance { .. }
            | Rejection::AlreadyRetracted { .. } => "target",
            Rejection::EmptyCorrection => "type",
            Rejection::NoChange(_) => "target",
            Rejection::InstrumentWithout(_) => "instrument",
            Rejection::AlreadySame { .. } | Rejection::AliasTaken { .. } => "alias",
            Rejection::RoleBackwards { .. } => "to",
        }
    }
}

/// A registered actor with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorEntry {
    /// Seq of its `actor.registered`.
    pub seq: Seq,
    /// `stance.declared` events attributed to it (after corrections), retracted ones included.
    pub stances: u64,
    /// How many of those are retracted.
    pub retracted: u64,
}

/// A registered topic with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicEntry {
    /// Seq of its `topic.registered`.
    pub seq: Seq,
    /// `stance.declared` events on it (after corrections), retracted ones included.
    pub stances: u64,
    /// How many of those are retracted.
    pub retracted: u64,
}

/// What later events say about one `stance.declared`: all seqs, in log order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Notes {
    pub(crate) retracted_by: Option<Seq>,
    pub(crate) corrections: Vec<Seq>,
    pub(crate) citations: Vec<Seq>,
}

/// Index of an interned value (an id, a text, a citation) in its [`Interner`].
pub(crate) type Sym = u32;

/// The symbol meaning "none" in an optional symbol field.
const NO_SYM: Sym = Sym::MAX;

/// Each distinct value once, numbered in order of first use. A large log repeats the same ids,
/// citations and times of day on many lines; the history keeps them once and refers to them by
/// number.
#[derive(Debug, Clone)]
pub(crate) struct Interner<T> {
    syms: HashMap<T, Sym>,
    items: Vec<T>,
}

impl<T> Default for Interner<T> {
    fn default() -> Interner<T> {
        Interner {
            syms: HashMap::default(),
            items: Vec::new(),
        }
    }
}

impl<T: Clone + Hash + Eq> Interner<T> {
    /// The symbol of a value, if it was interned.
    pub(crate) fn get<Q: ?Sized + Hash + Eq>(&self, value: &Q) -> Option<Sym>
    where
        T: Borrow<Q>,
    {
        self.syms.get(value).copied()
    }

    /// The symbol of a value, interning it (built by `make`) on first use.
    ///
    /// # Panics
    /// When more than `u32::MAX - 1` distinct values are interned (a log of over four billion
    /// distinct texts, far beyond what one history is built for).
    fn intern<Q: ?Sized + Hash + Eq>(&mut self, value: &Q, make: impl FnOnce(&Q) -> T) -> Sym
    where
        T: Borrow<Q>,
    {
        if let Some(s) = self.syms.get(value) {
            return *s;
        }
        let sym = Sym::try_from(self.items.len())
            .ok()
            .filter(|s| *s != NO_SYM)
            .expect("History: more than u32::MAX - 1 distinct values interned");
        let item = make(value);
        self.syms.insert(item.clone(), sym);
        self.items.push(item);
        sym
    }

    /// The value of a symbol handed out by this interner.
    pub(crate) fn item(&self, sym: Sym) -> &T {
        &self.items[sym as usize]
    }

    /// How many values are interned.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
}

/// Event ids to seqs: a hash table of slot indexes, each hashed by the id it points at in
/// `History::ids`, so the index costs 4 bytes and a control byte per event beside the ids.
/// It is built on the first look-up, and kept up to date from then on: a history that is never
/// asked for an id (a query's fold of a log without corrections, retractions or citations)
/// never hashes its ids, which was an eighth of folding the UN votes log.
#[derive(Debug, Clone, Default)]
struct IdIndex {
    table: std::sync::OnceLock<hashbrown::HashTable<u32>>,
}

/// The hash an id is filed under in a hash table of indexes (here, and the import's pending
/// ids): FxHash of its 128 bits.
pub(crate) fn hash_id(id: &Uuid) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    id.as_u128().hash(&mut h);
    h.finish()
}

impl IdIndex {
    /// The slot index of an id (building the index on first use).
    fn get(&self, ids: &[Uuid], id: &Uuid) -> Option<usize> {
        let table = self.table.get_or_init(|| {
            let mut t = hashbrown::HashTable::with_capacity(ids.len());
            for (i, id) in ids.iter().enumerate() {
                t.insert_unique(hash_id(id), i as u32, |i| hash_id(&ids[*i as usize]));
            }
            t
        });
        table
            .find(hash_id(id), |i| ids[*i as usize] == *id)
            .map(|i| *i as usize)
    }

    /// Room for `more` ids without growing, once built.
    fn reserve(&mut self, ids: &[Uuid], more: usize) {
        if let Some(t) = self.table.get_mut() {
            t.reserve(more, |i| hash_id(&ids[*i as usize]));
        }
    }

    /// Indexes `ids[index]`, which must not be indexed yet, once built.
    fn insert(&mut self, ids: &[Uuid], index: u32) {
        if let Some(t) = self.table.get_mut() {
            t.insert_unique(hash_id(&ids[index as usize]), index, |i| {
                hash_id(&ids[*i as usize])
            });
        }
    }

    fn remove(&mut self, ids: &[Uuid], id: &Uuid) {
        if let Some(t) = self.table.get_mut()
            && let Ok(entry) = t.find_entry(hash_id(id), |i| ids[*i as usize] == *id)
        {
            entry.remove();
        }
    }
}

/// Citations, each once, numbered in order of first use, found by their fields (a borrowed
/// [`CiteView`] finds its citation without an owned copy being made).
#[derive(Debug, Clone, Default)]
struct CiteTable {
    table: hashbrown::HashTable<Sym>,
    items: Vec<Arc<Cite>>,
}

fn hash_cite(c: &CiteView<'_>) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    c.hash(&mut h);
    h.finish()
}

impl CiteTable {
    /// The symbol of a citation, interning it on first use.
    ///
    /// # Panics
    /// As [`Interner::intern`], past `u32::MAX - 1` distinct citations.
    fn intern(&mut self, c: &CiteView<'_>) -> Sym {
        let items = &self.items;
        let hash = hash_cite(c);
        if let Some(s) = self
            .table
            .find(hash, |s| CiteView::of(&items[*s as usize]) == *c)
        {
            return *s;
        }
        let sym = Sym::try_from(self.items.len())
            .ok()
            .filter(|s| *s != NO_SYM)
            .expect("History: more than u32::MAX - 1 distinct citations interned");
        self.items.push(Arc::new(c.to_cite()));
        let items = &self.items;
        self.table
            .insert_unique(hash, sym, |s| hash_cite(&CiteView::of(&items[*s as usize])));
        sym
    }

    fn item(&self, sym: Sym) -> &Cite {
        &self.items[sym as usize]
    }
}

/// A `stance.declared` body held compactly (28 bytes): ids and the citation as symbols. The
/// fields most stances lack (quote, time of day, recipient, PLOVER type, instrument) are kept
/// apart, in `History::extras`, for the stances that have any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StanceSlot {
    pub(crate) actor: Sym,
    pub(crate) topic: Sym,
    cite: Sym,
    pub(crate) date: ValidDate,
    pub(crate) stance: Stance,
    /// Index of this stance's fields in `History::extras`, or `NO_EXTRAS`.
    extra: u32,
}

/// `StanceSlot::extra` of a stance with no extra fields.
const NO_EXTRAS: u32 = u32::MAX;

/// The less common fields of a `stance.declared`, for a stance that has any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StanceExtras {
    /// Actor symbol, or `NO_SYM`.
    recipient: Sym,
    /// Text symbol, or `NO_SYM`.
    quote: Sym,
    /// Time-of-day symbol, or `NO_SYM`.
    time: Sym,
    event: Option<PloverType>,
    instrument: Option<Instrument>,
}

/// One event's body: a stance compactly (the bulk of any large log), or the index of any other
/// event's body in `History::others` (28 bytes either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Stance(StanceSlot),
    Other(u32),
}

/// Recorded times, one entry per run of events that share one (a batch shares its recorded
/// time): `(index of the run's first event, time)`, in log order.
#[derive(Debug, Clone, Default)]
struct RecordedRuns(Vec<(u32, jiff::Timestamp)>);

impl RecordedRuns {
    fn push(&mut self, index: u32, t: jiff::Timestamp) {
        if self.0.last().is_none_or(|(_, last)| *last != t) {
            self.0.push((index, t));
        }
    }

    /// The time of the event at `index` (which must be in the log).
    fn at(&self, index: u32) -> Option<jiff::Timestamp> {
        let run = self.0.partition_point(|(first, _)| *first <= index);
        run.checked_sub(1).map(|r| self.0[r].1)
    }

    /// Forgets the event at `index`, the last one.
    fn pop(&mut self, index: u32) {
        if self.0.last().is_some_and(|(first, _)| *first == index) {
            self.0.pop();
        }
    }

    /// How many events, of `len`, were recorded at or before `t` (times never decrease).
    fn known_at(&self, t: jiff::Timestamp, len: usize) -> usize {
        let run = self.0.partition_point(|(_, time)| *time <= t);
        self.0.get(run).map_or(len, |(first, _)| *first as usize)
    }
}

/// Stance and retraction counts of one actor or topic symbol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    stances: u64,
    retracted: u64,
}

/// The registered ids of an interner of actor or topic ids, with the seq of each one's
/// registration (`reg`, by symbol: 0 when not registered) and its counts, in symbol order.
fn registered<'a, T: Clone + Hash + Eq>(
    syms: &'a Interner<T>,
    reg: &'a [Seq],
    counts: &'a [Counts],
) -> impl Iterator<Item = (&'a T, Seq, Counts)> + 'a {
    reg.iter()
        .enumerate()
        .filter(|(_, seq)| **seq != 0)
        .map(|(s, seq)| (syms.item(s as Sym), *seq, counts[s]))
}

/// The seq of the registration of `id` in an interner of actor or topic ids and its `reg`
/// (by symbol: 0 when not registered), if it is registered.
fn registration<T: Clone + Hash + Eq>(syms: &Interner<T>, reg: &[Seq], id: &T) -> Option<Seq> {
    let seq = *reg.get(syms.get(id)? as usize)?;
    (seq != 0).then_some(seq)
}

/// The folded log: every event in `seq` order, held compactly, plus the indexes the checks and
/// queries need.
///
/// Invariants: `slots[i]` and `ids[i]` are the event of seq `i + 1`, recorded at the time of
/// the run of `recorded` it falls in; a
/// `stance.declared` is held as first recorded (corrections are applied when it is read);
/// `notes` holds, per stance, the seqs of what later events say about it.
///
/// Memory: about 49 bytes per event for a log of votes (28-byte slot, 16-byte id, 5 bytes of id
/// index), plus each distinct id, text and citation once, the less common stance fields of the
/// stances that have them, and the bodies of events other than stances.
#[derive(Debug, Clone, Default)]
pub struct History {
    slots: Vec<Slot>,
    others: Vec<EventBody>,
    /// In slot order: pushed when a stance with any is folded in, popped when it is rolled back.
    extras: Vec<StanceExtras>,
    ids: Vec<Uuid>,
    recorded: RecordedRuns,
    by_id: IdIndex,
    pub(crate) actor_syms: Interner<ActorId>,
    pub(crate) topic_syms: Interner<TopicId>,
    texts: Interner<Arc<str>>,
    times: Interner<TimeOfDay>,
    cites: CiteTable,
    /// The citation interned last: stances from one source tend to come together, and comparing
    /// with it is cheaper than hashing.
    last_cite: Option<Sym>,
    /// The topic of the stance folded in last: the stances of a topic (a vote's) come in runs,
    /// and comparing with it is cheaper than hashing.
    last_topic: Option<Sym>,
    /// Per actor symbol: seq of its registration (0: not registered), and its counts. (The
    /// registered ids are read from these and the interners: a tree of them by id beside these
    /// took a twentieth of a one-actor query of the UN votes log, 6,157 topics inserted.)
    actor_reg: Vec<Seq>,
    actor_counts: Vec<Counts>,
    /// Per topic symbol: seq of its registration (0: not registered), and its counts.
    topic_reg: Vec<Seq>,
    topic_counts: Vec<Counts>,
    pub(crate) notes: HashMap<Seq, Notes>,
    /// Seqs of every `stance.corrected`, in order.
    pub(crate) corrections: Vec<Seq>,
    /// Seqs of every `actor.aliased`, in order.
    pub(crate) alias_links: Vec<Seq>,
    /// alias -> (actor, seq of the link), as of the end of the log.
    alias_of: BTreeMap<ActorId, (ActorId, Seq)>,
    /// Seqs of `actor.role` events per actor, in order.
    roles: BTreeMap<ActorId, Vec<Seq>>,
    /// A sparse history ([`History::sparse`]) holds the seq of each slot here; a dense one
    /// leaves it empty (slot `i` is seq `i + 1`).
    sparse: Option<Vec<Seq>>,
    /// A sparse history's end when it holds no later event ([`History::sparse_to`]): the log's
    /// last seq, so that the next event applied is the log's next.
    sparse_end: Seq,
}

impl History {
    /// An empty history.
    pub fn new() -> History {
        History::default()
    }

    /// An empty sparse history: one that holds only some of a log's events, in seq order with
    /// gaps, each with its own seq (a projection index folds into one only the events a query
    /// needs). Every query answers as on the whole log for the pairs whose stances, with their
    /// corrections, retractions and citations, it holds, provided it also holds every
    /// registration, alias link and role before them. What it does not hold it does not count:
    /// [`History::actors`] and [`History::topics`] count only what it holds, and
    /// [`History::seq_known_at`] gives the last seq it holds recorded by then.
    pub fn sparse() -> History {
        History {
            sparse: Some(Vec::new()),
            ..History::default()
        }
    }

    /// A sparse history ([`History::sparse`]) of a log whose last seq is `end`: it holds only
    /// some of the events up to `end` (folded in by the caller, each at most `end`), and
    /// [`History::seq_last`] is `end` until a later event is applied. A writer checks a batch
    /// against one (the registrations, and the events the batch's ids and targets name), so
    /// the batch's events take the seqs after `end`.
    pub fn sparse_to(end: Seq) -> History {
        History {
            sparse: Some(Vec::new()),
            sparse_end: end,
            ..History::default()
        }
    }

    /// Whether this history holds only some events ([`History::sparse`]), as a writer on the
    /// projection index stages batches on, rather than a whole log's.
    pub fn is_sparse(&self) -> bool {
        self.sparse.is_some()
    }

    /// Makes room for `events` more events, so that folding that many does not grow (and
    /// copy, and rehash) the per-event tables on the way; only a matter of speed.
    pub fn reserve(&mut self, events: usize) {
        self.slots.reserve(events);
        self.ids.reserve(events);
        self.by_id.reserve(&self.ids, events);
        if let Some(seqs) = &mut self.sparse {
            seqs.reserve(events);
        }
    }

    /// Makes room for `events` more events other than `stance.declared` (registrations, alias
    /// links, roles, notes), each held whole (256 bytes): a one-actor query of the UN votes
    /// log folds about 6,000 topic registrations, and growing their table by doubling copied
    /// and zeroed twice their size. Only a matter of speed.
    pub fn reserve_others(&mut self, events: usize) {
        self.others.reserve(events);
    }

    /// Seq of the last event, 0 when empty (for [`History::sparse_to`], at least its end).
    pub fn seq_last(&self) -> Seq {
        match &self.sparse {
            Some(seqs) => seqs.last().copied().unwrap_or(0).max(self.sparse_end),
            None => self.slots.len() as Seq,
        }
    }

    /// Seq of the last event held (for a sparse history, which may end later: see
    /// [`History::sparse_to`]).
    fn seq_held_last(&self) -> Seq {
        match &self.sparse {
            Some(seqs) => seqs.last().copied().unwrap_or(0),
            None => self.slots.len() as Seq,
        }
    }

    /// How many events the history holds (`seq_last()` unless it is sparse).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the history holds no event.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The seq of slot `i`.
    fn seq_at(&self, i: usize) -> Seq {
        match &self.sparse {
            Some(seqs) => seqs[i],
            None => i as Seq + 1,
        }
    }

    /// All events in `seq` order, each built from the compact form (a copy).
    pub fn events(&self) -> impl DoubleEndedIterator<Item = Event> + ExactSizeIterator + '_ {
        (0..self.slots.len()).map(|i| self.event_at(i))
    }

    /// The event with this seq (a copy), if any.
    pub fn event(&self, seq: Seq) -> Option<Event> {
        self.index(seq).map(|i| self.event_at(i))
    }

    /// The index of a seq in the slot vectors, if it is in the log.
    fn index(&self, seq: Seq) -> Option<usize> {
        if let Some(seqs) = &self.sparse {
            return seqs.binary_search(&seq).ok();
        }
        let i = usize::try_from(seq.checked_sub(1)?).ok()?;
        (i < self.slots.len()).then_some(i)
    }

    fn event_at(&self, i: usize) -> Event {
        Event {
            seq: self.seq_at(i),
            id: self.ids[i],
            recorded_at: self.recorded.at(i as u32).unwrap_or_default(),
            body: match &self.slots[i] {
                Slot::Stance(s) => EventBody::StanceDeclared(self.stance_of(s)),
                Slot::Other(o) => self.others[*o as usize].clone(),
            },
        }
    }

    /// The seq, id and recorded time of the event with this seq, if any.
    pub fn event_meta(&self, seq: Seq) -> Option<EventMeta> {
        let i = self.index(seq)?;
        Some(EventMeta {
            seq,
            id: self.ids[i],
            recorded_at: self.recorded.at(i as u32).unwrap_or_default(),
        })
    }

    /// Reads the slot and id of `seq` (and drops them), so that building its position finds
    /// them in cache: the deciding rows of a long answer are touched in order as they are
    /// handed out, their loads overlapping, before the threads writing the answer read them
    /// one by one (each a cache miss at random: the rows are in name order, the slots in seq
    /// order).
    pub(crate) fn touch(&self, seq: Seq) {
        if let Some(i) = self.index(seq) {
            std::hint::black_box((self.slots[i], self.ids[i]));
        }
    }

    /// The body of a seq that is not a `stance.declared`, without a copy.
    pub(crate) fn other_body(&self, seq: Seq) -> Option<&EventBody> {
        match self.slots.get(self.index(seq)?)? {
            Slot::Other(o) => self.others.get(*o as usize),
            Slot::Stance(_) => None,
        }
    }

    /// The compact stance with this seq, if that event is a `stance.declared`.
    pub(crate) fn stance_slot(&self, seq: Seq) -> Option<&StanceSlot> {
        match self.slots.get(self.index(seq)?)? {
            Slot::Stance(s) => Some(s),
            Slot::Other(_) => None,
        }
    }

    /// The less common fields of a compact stance (none set when it has none).
    fn extras_of(&self, s: &StanceSlot) -> StanceExtras {
        self.extras
            .get(s.extra as usize)
            .copied()
            .unwrap_or(StanceExtras {
                recipient: NO_SYM,
                quote: NO_SYM,
                time: NO_SYM,
                event: None,
                instrument: None,
            })
    }

    /// The stance at slot `index`, borrowed from its compact form.
    fn view_of(&self, s: &StanceSlot) -> StanceView<'_> {
        let x = self.extras_of(s);
        StanceView {
            actor: self.actor_syms.item(s.actor).text(),
            topic: self.topic_syms.item(s.topic).text(),
            stance: s.stance,
            date: s.date,
            time: (x.time != NO_SYM).then(|| self.times.item(x.time).clone()),
            event: x.event,
            recipient: (x.recipient != NO_SYM).then(|| self.actor_syms.item(x.recipient).text()),
            quote: (x.quote != NO_SYM).then(|| &**self.texts.item(x.quote)),
            cite: CiteView::of(self.cites.item(s.cite)),
            instrument: x.instrument,
        }
    }

    /// The stance at slot `index`, built from its compact form.
    fn stance_of(&self, s: &StanceSlot) -> StanceDeclared {
        let x = self.extras_of(s);
        StanceDeclared {
            actor: self.actor_syms.item(s.actor).clone(),
            topic: self.topic_syms.item(s.topic).clone(),
            stance: s.stance,
            date: s.date,
            time: (x.time != NO_SYM).then(|| self.times.item(x.time).clone()),
            event: x.event,
            recipient: (x.recipient != NO_SYM).then(|| self.actor_syms.item(x.recipient).clone()),
            quote: (x.quote != NO_SYM).then(|| self.texts.item(x.quote).to_string()),
            cite: self.cites.item(s.cite).clone(),
            instrument: x.instrument,
        }
    }

    /// The seq of the event with this id, if it is in the log.
    pub fn seq_of(&self, id: &Uuid) -> Option<Seq> {
        self.by_id.get(&self.ids, id).map(|i| self.seq_at(i))
    }

    /// The recorded time of the event with this seq, if any.
    pub fn recorded_at(&self, seq: Seq) -> Option<jiff::Timestamp> {
        self.index(seq).and_then(|i| self.recorded.at(i as u32))
    }

    /// The last seq recorded at or before `t` (inclusive): the cutoff of a "known at `t`" query.
    /// Recorded time never decreases with seq, so this is a prefix of the log. 0 when nothing
    /// was recorded by then.
    pub fn seq_known_at(&self, t: jiff::Timestamp) -> Seq {
        match self.recorded.known_at(t, self.slots.len()) {
            0 => 0,
            n => self.seq_at(n - 1),
        }
    }

    /// Registered actors, ordered by id, with their counts (a copy).
    pub fn actors(&self) -> BTreeMap<ActorId, ActorEntry> {
        registered(&self.actor_syms, &self.actor_reg, &self.actor_counts)
            .map(|(id, seq, c)| {
                let entry = ActorEntry {
                    seq,
                    stances: c.stances,
                    retracted: c.retracted,
                };
                (id.clone(), entry)
            })
            .collect()
    }

    /// Registered topics, ordered by id, with their counts (a copy).
    pub fn topics(&self) -> BTreeMap<TopicId, TopicEntry> {
        registered(&self.topic_syms, &self.topic_reg, &self.topic_counts)
            .map(|(id, seq, c)| {
                let entry = TopicEntry {
                    seq,
                    stances: c.stances,
                    retracted: c.retracted,
                };
                (id.clone(), entry)
            })
            .collect()
    }

    /// Seq of the registration of an actor id, if it is registered.
    fn actor_seq(&self, id: &ActorId) -> Option<Seq> {
        registration(&self.actor_syms, &self.actor_reg, id)
    }

    /// Seq of the registration of a topic id, if it is registered.
    fn topic_seq(&self, id: &TopicId) -> Option<Seq> {
        registration(&self.topic_syms, &self.topic_reg, id)
    }

    /// Whether an actor id is registered.
    pub fn is_actor(&self, id: &ActorId) -> bool {
        self.actor_seq(id).is_some()
    }

    /// Whether a topic id is registered.
    pub fn is_topic(&self, id: &TopicId) -> bool {
        self.topic_seq(id).is_some()
    }

    /// The registration of an actor.
    pub fn actor(&self, id: &ActorId) -> Option<&ActorRegistered> {
        self.actor_by_sym(self.actor_syms.get(id)?)
    }

    /// The registration of a topic.
    pub fn topic(&self, id: &TopicId) -> Option<&TopicRegistered> {
        self.topic_by_sym(self.topic_syms.get(id)?)
    }

    /// The registration of an actor symbol.
    pub(crate) fn actor_by_sym(&self, sym: Sym) -> Option<&ActorRegistered> {
        let seq = *self.actor_reg.get(sym as usize)?;
        match self.other_body(seq)? {
            EventBody::ActorRegistered(a) => Some(a),
            _ => None,
        }
    }

    /// The registration of a topic symbol.
    pub(crate) fn topic_by_sym(&self, sym: Sym) -> Option<&TopicRegistered> {
        let seq = *self.topic_reg.get(sym as usize)?;
        match self.other_body(seq)? {
            EventBody::TopicRegistered(t) => Some(t),
            _ => None,
        }
    }

    /// The seq of the retraction of the stance with this seq, if it is retracted.
    pub fn retracted_by(&self, seq: Seq) -> Option<Seq> {
        self.notes.get(&seq).and_then(|n| n.retracted_by)
    }

    /// The `stance.declared` with this seq as first recorded (no corrections; a copy), if that
    /// event is one.
    pub fn stance(&self, seq: Seq) -> Option<StanceDeclared> {
        let i = self.index(seq)?;
        match &self.slots[i] {
            Slot::Stance(s) => Some(self.stance_of(s)),
            Slot::Other(_) => None,
        }
    }

    /// The stance with this seq as known at `cutoff` (a copy): with every `stance.corrected` of
    /// seq <= `cutoff` applied, in order.
    pub fn stance_known(&self, seq: Seq, cutoff: Seq) -> Option<StanceDeclared> {
        let mut s = self.stance(seq)?;
        for c in self.corrections_known(seq, cutoff) {
            if let Some(EventBody::StanceCorrected(x)) = self.other_body(c) {
                x.correction.apply_to(&mut s);
            }
        }
        Some(s)
    }

    /// [`History::stance_known`] borrowed from the history: no string is copied (but a stated
    /// time of day). A long answer's rows read their fields from it (copying each stance,
    /// and counting the references to its shared ids from two threads, was a fifth of a query
    /// of every pair).
    pub fn stance_view_known(&self, seq: Seq, cutoff: Seq) -> Option<StanceView<'_>> {
        let mut v = match self.slots.get(self.index(seq)?)? {
            Slot::Stance(s) => self.view_of(s),
            Slot::Other(_) => return None,
        };
        for c in self.corrections_known(seq, cutoff) {
            if let Some(EventBody::StanceCorrected(x)) = self.other_body(c) {
                x.correction.apply_to_view(&mut v);
            }
        }
        Some(v)
    }

    /// Seqs of the corrections of a stance known at `cutoff`, in order.
    fn corrections_known(&self, seq: Seq, cutoff: Seq) -> impl Iterator<Item = Seq> + '_ {
        let all = self.notes.get(&seq).map_or(&[][..], |n| &n.corrections[..]);
        all.iter().copied().filter(move |c| *c <= cutoff)
    }

    /// (actor symbol, topic symbol, date, stance) of a stance as known at `cutoff`: the compact
    /// form, corrected only when a correction is known by then.
    pub(crate) fn stance_key(
        &self,
        seq: Seq,
        slot: &StanceSlot,
        cutoff: Seq,
    ) -> Option<(Sym, Sym, ValidDate, Stance)> {
        if self.corrections_known(seq, cutoff).next().is_none() {
            return Some((slot.actor, slot.topic, slot.date, slot.stance));
        }
        let s = self.stance_known(seq, cutoff)?;
        Some((
            self.actor_syms.get(&s.actor)?,
            self.topic_syms.get(&s.topic)?,
            s.date,
            s.stance,
        ))
    }

    /// Where the stance with this seq stands in canonical order ([`CanonicalKey`]) as known at
    /// `cutoff`: its date and time of day as corrected by then. `None` if that event is not a
    /// `stance.declared`.
    pub fn canonical_key(&self, seq: Seq, cutoff: Seq) -> Option<CanonicalKey> {
        if self.corrections_known(seq, cutoff).next().is_some() {
            let s = self.stance_known(seq, cutoff)?;
            return Some(CanonicalKey::new(s.date, s.time.as_ref(), seq));
        }
        let slot = self.stance_slot(seq)?;
        let time = self
            .extras
            .get(slot.extra as usize)
            .filter(|x| x.time != NO_SYM)
            .map(|x| self.times.item(x.time));
        Some(CanonicalKey::new(slot.date, time, seq))
    }

    /// Whether any stance may have a time of day: false when none was folded in with one and
    /// no correction exists (which could give one), so canonical order is (date, seq).
    pub(crate) fn may_have_times(&self) -> bool {
        self.times.len() > 0 || !self.corrections.is_empty()
    }

    /// The stances: (seq, compact stance) in seq order.
    pub(crate) fn stance_slots(&self) -> impl Iterator<Item = (Seq, &StanceSlot)> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| match s {
            Slot::Stance(s) => Some((self.seq_at(i), s)),
            Slot::Other(_) => None,
        })
    }

    /// The latest valid-time date of any stance (as corrected by the whole log), if there is one.
    pub fn date_last(&self) -> Option<ValidDate> {
        self.stance_slots()
            .filter_map(|(seq, s)| self.stance_key(seq, s, Seq::MAX))
            .map(|(_, _, date, _)| date)
            .max()
    }

    /// The actor an id stands for once `actor.aliased` links of seq <= `cutoff` are followed.
    pub fn canonical_actor<'a>(&'a self, id: &'a ActorId, cutoff: Seq) -> &'a ActorId {
        let mut at = id;
        // Links never form a cycle (check refuses it), so this ends; the bound is a safeguard.
        for _ in 0..=self.alias_links.len() {
            match self.alias_of.get(at) {
                Some((to, seq)) if *seq <= cutoff => at = to,
                _ => break,
            }
        }
        at
    }

    /// Whether any `actor.aliased` link has seq <= `cutoff`.
    pub(crate) fn has_aliases(&self, cutoff: Seq) -> bool {
        self.alias_links.first().is_some_and(|s| *s <= cutoff)
    }

    /// The role `actor` held on `day` (inclusive bounds) as known at `cutoff`: among its
    /// `actor.role` events, the one with the latest start that covers the day (ties: the later
    /// seq). Without a day, its latest-starting role that has not ended.
    pub fn role_on(
        &self,
        actor: &ActorId,
        day: Option<super::date::Day>,
        cutoff: Seq,
    ) -> Option<&ActorRole> {
        let seqs = self.roles.get(actor)?;
        seqs.iter()
            .filter(|s| **s <= cutoff)
            .filter_map(|s| match self.other_body(*s) {
                Some(EventBody::ActorRole(r)) => Some((*s, r)),
                _ => None,
            })
            .filter(|(_, r)| match day {
                Some(d) => r.from.start() <= d && r.to.is_none_or(|t| d <= t.end()),
                None => r.to.is_none(),
            })
            .max_by_key(|(s, r)| (r.from, *s))
            .map(|(_, r)| r)
    }

    /// Decides whether an event with this id and body may be appended next.
    ///
    /// # Errors
    /// A [`Rejection`] naming the rule broken: duplicate id or registration, unknown actor, topic
    /// or target, a stance unfit for its topic's kind, a missing PLOVER recipient, a target
    /// already retracted, an empty correction or one that changes nothing, a bad alias link or
    /// role.
    pub fn check(&self, id: &Uuid, body: &EventBody) -> Result<(), Rejection> {
        self.check_rules(id, body, true)
    }

    /// [`History::check`] for an event read from a log, by the rules it was appended under: a
    /// correction that changes nothing, appended before such corrections were refused (December
    /// 2026), is read (it changes nothing).
    ///
    /// # Errors
    /// As [`History::check`], but for a correction that changes nothing.
    pub fn check_recorded(&self, id: &Uuid, body: &EventBody) -> Result<(), Rejection> {
        self.check_rules(id, body, false)
    }

    /// The rules of [`History::check`]; a correction that changes nothing is refused when
    /// `appending`.
    fn check_rules(&self, id: &Uuid, body: &EventBody, appending: bool) -> Result<(), Rejection> {
        if let Some(seq) = self.seq_of(id) {
            return Err(Rejection::DuplicateId { id: *id, seq });
        }
        match body {
            EventBody::ActorRegistered(a) => match self.actor_seq(&a.actor) {
                Some(seq) => Err(Rejection::ActorExists {
                    actor: a.actor.clone(),
                    seq,
                }),
                None => Ok(()),
            },
            EventBody::TopicRegistered(t) => match self.topic_seq(&t.topic) {
                Some(seq) => Err(Rejection::TopicExists {
                    topic: t.topic.clone(),
                    seq,
                }),
                None => Ok(()),
            },
            EventBody::StanceDeclared(s) => self.check_stance(s),
            EventBody::StanceRetracted(r) => self.live_target(&r.target).map(|_| ()),
            EventBody::StanceCorrected(c) => {
                let seq = self.live_target(&c.target)?;
                if c.correction.fields().is_empty() {
                    return Err(Rejection::EmptyCorrection);
                }
                let mut corrected = self
                    .stance_known(seq, Seq::MAX)
                    .ok_or(Rejection::UnknownTarget(c.target))?;
                let old = appending.then(|| corrected.clone());
                c.correction.apply_to(&mut corrected);
                if old.is_some_and(|old| old == corrected) {
                    return Err(Rejection::NoChange(c.target));
                }
                self.check_stance(&corrected)
            }
            EventBody::StanceCited(c) => self.live_target(&c.target).map(|_| ()),
            EventBody::ActorAliased(a) => {
                self.known_actor(&a.actor, "actor")?;
                self.known_actor(&a.alias, "alias")?;
                if let Some((of, seq)) = self.alias_of.get(&a.alias) {
                    return Err(Rejection::AliasTaken {
                        alias: a.alias.clone(),
                        of: of.clone(),
                        seq: *seq,
                    });
                }
                if self.canonical_actor(&a.actor, Seq::MAX) == &a.alias || a.actor == a.alias {
                    return Err(Rejection::AlreadySame {
                        actor: a.actor.clone(),
                        alias: a.alias.clone(),
                    });
                }
                Ok(())
            }
            EventBody::ActorRole(r) => {
                self.known_actor(&r.actor, "actor")?;
                match r.to {
                    Some(to) if to.end() < r.from.start() => {
                        Err(Rejection::RoleBackwards { from: r.from, to })
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    fn known_actor(&self, actor: &ActorId, field: &'static str) -> Result<(), Rejection> {
        let registered = self
            .actor_syms
            .get(actor)
            .is_some_and(|s| self.actor_reg[s as usize] != 0);
        if registered {
            Ok(())
        } else {
            Err(Rejection::UnknownActor {
                field,
                actor: actor.clone(),
            })
        }
    }

    /// The seq of a target that is an unretracted `stance.declared`.
    fn live_target(&self, target: &Uuid) -> Result<Seq, Rejection> {
        let seq = self
            .seq_of(target)
            .ok_or(Rejection::UnknownTarget(*target))?;
        if let Some(body) = self.other_body(seq) {
            return Err(Rejection::TargetNotStance {
                target: *target,
                type_name: body.type_name(),
            });
        }
        match self.retracted_by(seq) {
            Some(by) => Err(Rejection::AlreadyRetracted {
                target: *target,
                by,
            }),
            None => Ok(seq),
        }
    }

    fn check_stance(&self, s: &StanceDeclared) -> Result<(), Rejection> {
        self.known_actor(&s.actor, "actor")?;
        let topic = self
            .topic_syms
            .get(&s.topic)
            .and_then(|sym| self.topic_by_sym(sym))
            .ok_or_else(|| Rejection::UnknownTopic(s.topic.clone()))?;
        if !s.stance.fits(topic.kind) {
            let allowed: Vec<&str> = Stance::ALL
                .iter()
                .filter(|x| x.fits(topic.kind))
                .map(|x| x.as_str())
                .collect();
            return Err(Rejection::StanceUnfit {
                stance: s.stance,
                topic: s.topic.clone(),
                kind: topic.kind,
                allowed: allowed.join(", "),
            });
        }
        if s.instrument.is_some() && s.stance != Stance::Ratified {
            return Err(Rejection::InstrumentWithout(s.stance));
        }
        if let Some(recipient) = &s.recipient {
            self.known_actor(recipient, "recipient")?;
        } else if let Some(kind) = s.event.filter(|k| k.requires_recipient()) {
            return Err(Rejection::RecipientRequired(kind));
        }
        Ok(())
    }

    fn actor_sym(&mut self, id: IdText<'_>) -> Sym {
        let sym = self
            .actor_syms
            .intern(id.as_str(), |_| ActorId::from_text(id));
        if self.actor_reg.len() < self.actor_syms.len() {
            self.actor_reg.push(0);
            self.actor_counts.push(Counts::default());
        }
        sym
    }

    fn topic_sym(&mut self, id: IdText<'_>) -> Sym {
        let sym = self
            .topic_syms
            .intern(id.as_str(), |_| TopicId::from_text(id));
        if self.topic_reg.len() < self.topic_syms.len() {
            self.topic_reg.push(0);
            self.topic_counts.push(Counts::default());
        }
        sym
    }

    /// The compact form of a stance, its ids, texts and citation interned.
    fn compact(&mut self, s: &StanceView<'_>) -> StanceSlot {
        let mut extra = NO_EXTRAS;
        if s.recipient.is_some()
            || s.quote.is_some()
            || s.time.is_some()
            || s.event.is_some()
            || s.instrument.is_some()
        {
            let x = StanceExtras {
                recipient: s.recipient.map_or(NO_SYM, |r| self.actor_sym(r)),
                quote: s
                    .quote
                    .map_or(NO_SYM, |q| self.texts.intern(q, |q: &str| Arc::from(q))),
                time: s
                    .time
                    .as_ref()
                    .map_or(NO_SYM, |t| self.times.intern(t, Clone::clone)),
                event: s.event,
                instrument: s.instrument,
            };
            extra = u32::try_from(self.extras.len())
                .expect("fewer stances than events, so fewer than u32::MAX");
            self.extras.push(x);
        }
        StanceSlot {
            actor: self.actor_sym(s.actor),
            topic: match self.last_topic {
                Some(sym) if self.topic_syms.item(sym).as_str() == s.topic.as_str() => sym,
                _ => {
                    let sym = self.topic_sym(s.topic);
                    self.last_topic = Some(sym);
                    sym
                }
            },
            cite: match self.last_cite {
                Some(sym) if CiteView::of(self.cites.item(sym)) == s.cite => sym,
                _ => {
                    let sym = self.cites.intern(&s.cite);
                    self.last_cite = Some(sym);
                    sym
                }
            },
            date: s.date,
            stance: s.stance,
            extra,
        }
    }

    /// Folds a checked event in. Its `seq` must be `seq_last() + 1`.
    ///
    /// # Panics
    /// On a seq out of order: that is a bug in the caller (the storage edge checks seq
    /// contiguity of stored records and reports it as an input error before applying). Also
    /// past `u32::MAX` events, a log far beyond what one machine's memory holds.
    pub fn apply(&mut self, event: Event) {
        let Event {
            seq,
            id,
            recorded_at,
            body,
        } = event;
        match body {
            EventBody::StanceDeclared(s) => self.apply_stance(seq, id, recorded_at, &s),
            other => self.apply_other_event(seq, id, recorded_at, other),
        }
    }

    /// [`History::apply`] for an event given by parts, its body borrowed: a stance (the bulk of
    /// any large batch) is folded in without a copy of its body, since only its compact form is
    /// kept; any other body is copied.
    ///
    /// # Panics
    /// As [`History::apply`].
    pub fn apply_parts(
        &mut self,
        seq: Seq,
        id: Uuid,
        recorded_at: jiff::Timestamp,
        body: &EventBody,
    ) {
        match body {
            EventBody::StanceDeclared(s) => self.apply_stance(seq, id, recorded_at, s),
            other => self.apply_other_event(seq, id, recorded_at, other.clone()),
        }
    }

    /// What every event adds: its id, its recorded time.
    fn begin(&mut self, seq: Seq, id: Uuid, recorded_at: jiff::Timestamp) {
        match &mut self.sparse {
            Some(seqs) => {
                assert!(
                    seqs.last().is_none_or(|last| *last < seq),
                    "History::apply: events must be applied in seq order"
                );
                seqs.push(seq);
            }
            None => assert_eq!(
                seq,
                self.seq_last() + 1,
                "History::apply: events must be applied in seq order"
            ),
        }
        let index = u32::try_from(self.ids.len())
            .expect("History: more than u32::MAX events (some 400 GB of memory)");
        self.ids.push(id);
        self.by_id.insert(&self.ids, index);
        self.recorded.push(index, recorded_at);
    }

    fn apply_stance(
        &mut self,
        seq: Seq,
        id: Uuid,
        recorded_at: jiff::Timestamp,
        s: &StanceDeclared,
    ) {
        self.apply_stance_view(seq, id, recorded_at, &StanceView::of(s));
    }

    /// [`History::apply`] of a `stance.declared` given as a borrowed view (as a projection
    /// index's record holds it): the same fold, without an owned event.
    ///
    /// # Panics
    /// As [`History::apply`].
    pub fn apply_stance_view(
        &mut self,
        seq: Seq,
        id: Uuid,
        recorded_at: jiff::Timestamp,
        s: &StanceView<'_>,
    ) {
        self.begin(seq, id, recorded_at);
        let slot = self.compact(s);
        self.count(slot.actor, slot.topic, 1, 0);
        self.slots.push(Slot::Stance(slot));
    }

    fn apply_other_event(
        &mut self,
        seq: Seq,
        id: Uuid,
        recorded_at: jiff::Timestamp,
        body: EventBody,
    ) {
        self.begin(seq, id, recorded_at);
        self.apply_other(seq, &body);
        let corrected = match &body {
            EventBody::StanceCorrected(c) => self.seq_of(&c.target),
            _ => None,
        };
        // Fewer other events than events, so the index fits too.
        let o = self.others.len() as u32;
        self.others.push(body);
        self.slots.push(Slot::Other(o));
        if let Some(target) = corrected {
            // The stance may move to another actor or topic: count it where it now is (the
            // second count reads the correction, so it comes once the event is in place).
            self.count_latest(target, -1, 0);
            self.notes.entry(target).or_default().corrections.push(seq);
            self.corrections.push(seq);
            self.count_latest(target, 1, 0);
        }
    }

    /// The indexes of an event other than `stance.declared` (`apply_stance`) and
    /// `stance.corrected` (counted by `apply_other_event` once the event is in place).
    fn apply_other(&mut self, seq: Seq, body: &EventBody) {
        match body {
            EventBody::ActorRegistered(a) => {
                let sym = self.actor_sym(a.actor.text());
                self.actor_reg[sym as usize] = seq;
            }
            EventBody::TopicRegistered(t) => {
                let sym = self.topic_sym(t.topic.text());
                self.topic_reg[sym as usize] = seq;
            }
            EventBody::StanceRetracted(r) => {
                if let Some(target) = self.seq_of(&r.target) {
                    self.notes.entry(target).or_default().retracted_by = Some(seq);
                    self.count_latest(target, 0, 1);
                }
            }
            EventBody::StanceCited(c) => {
                if let Some(target) = self.seq_of(&c.target) {
                    self.notes.entry(target).or_default().citations.push(seq);
                }
            }
            EventBody::ActorAliased(a) => {
                self.alias_of
                    .insert(a.alias.clone(), (a.actor.clone(), seq));
                self.alias_links.push(seq);
            }
            EventBody::ActorRole(r) => {
                self.roles.entry(r.actor.clone()).or_default().push(seq);
            }
            EventBody::StanceDeclared(_) | EventBody::StanceCorrected(_) => {}
        }
    }

    /// Adjusts the counts of a stance's latest-known actor and topic.
    fn count_latest(&mut self, target: Seq, stances: i64, retracted: i64) {
        let Some(slot) = self.stance_slot(target).copied() else {
            return;
        };
        if let Some((actor, topic, _, _)) = self.stance_key(target, &slot, Seq::MAX) {
            let retracted_too = if stances != 0 && self.retracted_by(target).is_some() {
                stances
            } else {
                0
            };
            self.count(actor, topic, stances, retracted + retracted_too);
        }
    }

    fn count(&mut self, actor: Sym, topic: Sym, stances: i64, retracted: i64) {
        let bump = |c: &mut Counts| {
            c.stances = c.stances.saturating_add_signed(stances);
            c.retracted = c.retracted.saturating_add_signed(retracted);
        };
        if let Some(c) = self.actor_counts.get_mut(actor as usize) {
            bump(c);
        }
        if let Some(c) = self.topic_counts.get_mut(topic as usize) {
            bump(c);
        }
    }

    /// Undoes every event after `seq`, so a batch that failed half-way leaves no trace; the
    /// history then ends at `seq` at most (a sparse one too, whatever end it was made with).
    pub fn rollback_to(&mut self, seq: Seq) {
        self.sparse_end = self.sparse_end.min(seq);
        while self.seq_held_last() > seq {
            let last = self.seq_held_last();
            // Undo what apply did, in reverse; the event stays in place until its indexes are
            // fixed.
            let index = self.slots.len() as u32 - 1;
            match self.slots.last().copied() {
                Some(Slot::Stance(slot)) => {
                    self.count_latest(last, -1, 0);
                    self.notes.remove(&last);
                    if slot.extra != NO_EXTRAS {
                        self.extras.pop();
                    }
                }
                Some(Slot::Other(_)) => {
                    // Undone while still in place: undoing a correction reads it.
                    if let Some(body) = self.others.last().cloned() {
                        self.unapply_other(last, &body);
                    }
                    self.others.pop();
                }
                None => return,
            }
            self.slots.pop();
            if let Some(seqs) = &mut self.sparse {
                seqs.pop();
            }
            self.recorded.pop(index);
            if let Some(id) = self.ids.last().copied() {
                self.by_id.remove(&self.ids, &id);
                self.ids.pop();
            }
        }
    }

    fn unapply_other(&mut self, last: Seq, body: &EventBody) {
        match body {
            EventBody::ActorRegistered(a) => {
                if let Some(sym) = self.actor_syms.get(&a.actor) {
                    self.actor_reg[sym as usize] = 0;
                }
            }
            EventBody::TopicRegistered(t) => {
                if let Some(sym) = self.topic_syms.get(&t.topic) {
                    self.topic_reg[sym as usize] = 0;
                }
            }
            EventBody::StanceDeclared(_) => {}
            EventBody::StanceRetracted(r) => {
                if let Some(target) = self.seq_of(&r.target) {
                    self.count_latest(target, 0, -1);
                    if let Some(n) = self.notes.get_mut(&target) {
                        n.retracted_by = None;
                    }
                }
            }
            EventBody::StanceCorrected(c) => {
                if let Some(target) = self.seq_of(&c.target) {
                    self.count_latest(target, -1, 0);
                    if let Some(n) = self.notes.get_mut(&target) {
                        n.corrections.retain(|s| *s != last);
                    }
                    self.corrections.retain(|s| *s != last);
                    self.count_latest(target, 1, 0);
                }
            }
            EventBody::StanceCited(c) => {
                if let Some(n) = self.seq_of(&c.target).and_then(|t| self.notes.get_mut(&t)) {
                    n.citations.retain(|s| *s != last);
                }
            }
            EventBody::ActorAliased(a) => {
                self.alias_of.remove(&a.alias);
                self.alias_links.retain(|s| *s != last);
            }
            EventBody::ActorRole(r) => {
                if let Some(v) = self.roles.get_mut(&r.actor) {
                    v.retain(|s| *s != last);
                }
            }
        }
    }
}
