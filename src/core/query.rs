//! Temporal queries over a [`History`]: positions as of a date, diffs between two dates, and
//! timelines, each as known at a point of recorded time. All results come in a defined order
//! (actor id, then topic id; or canonical order), so the same log always gives the same answer.
//!
//! Two time axes meet here. `as_of` is valid time (a calendar [`Day`], inclusive). `known` is
//! recorded time, as a cutoff seq: only events with seq <= the cutoff count, which is the same
//! as "recorded at or before T" because recorded time never decreases with seq
//! ([`History::seq_known_at`]). Corrections, retractions, citations, alias links and roles apply
//! only when known at the cutoff.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use super::date::{Day, Precision, ValidDate};
use super::domain::{
    ActorId, ActorRole, Event, EventMeta, Seq, Stance, StanceDeclared, StanceView, TopicId,
};
use super::history::{History, Sym};

/// Which (actor, topic) pairs a query covers. An empty set means "all". An actor id also covers
/// the ids linked to it by `actor.aliased`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only these actors (all when empty).
    pub actors: BTreeSet<ActorId>,
    /// Only these topics (all when empty).
    pub topics: BTreeSet<TopicId>,
    /// Only topics tagged with at least one of these issues (all when empty).
    pub issues: BTreeSet<String>,
}

/// A point on both time axes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct At {
    /// Valid time: positions as of this day, inclusive. `None`: every date counts.
    pub as_of: Option<Day>,
    /// Recorded time, as the last seq known. `None`: everything in the log.
    pub known: Option<Seq>,
}

impl At {
    /// As of a day, knowing everything in the log.
    pub fn day(as_of: Day) -> At {
        At {
            as_of: Some(as_of),
            known: None,
        }
    }
}

/// The position of an actor on a topic: the deciding `stance.declared` as known at the query's
/// cutoff, with the reports and corrections of it known by then. Events are copies built from
/// the history's compact form, so a long answer can be produced one position at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position<'a> {
    /// The actor the position is reported under: the stance's actor, or the actor it is an
    /// alias of.
    pub actor: ActorId,
    /// The deciding event's `seq`, `id` and `recorded_at` (its body, as first recorded, is
    /// [`History::event`] of that seq; as corrected, `stance`).
    pub event: EventMeta,
    /// The deciding stance, with the corrections known at the cutoff applied.
    pub stance: StanceDeclared,
    /// The `stance.corrected` events applied, in log order.
    pub corrections: Vec<Event>,
    /// The `stance.cited` events: further reports of the same statement, in log order.
    pub citations: Vec<Event>,
    /// The role the actor held on the as-of day (or its current role without one), if known.
    pub role: Option<&'a ActorRole>,
}

/// What [`Position`] and [`PositionView`] hold besides the stance and the actor, as
/// `History::position_parts` gathers it.
struct PositionParts<'a> {
    event: EventMeta,
    corrections: Vec<Event>,
    citations: Vec<Event>,
    role: Option<&'a ActorRole>,
}

/// A [`Position`] borrowed from the history ([`History::position_view`]): its ids, texts and
/// citation are the history's own, not copies (corrections and citations, rare, are copied
/// events as in a position). A long answer builds its rows from these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionView<'a> {
    /// The actor the position is reported under.
    pub actor: &'a ActorId,
    /// The deciding event's `seq`, `id` and `recorded_at`.
    pub event: EventMeta,
    /// The deciding stance, with the corrections known at the cutoff applied.
    pub stance: StanceView<'a>,
    /// The `stance.corrected` events applied, in log order.
    pub corrections: Vec<Event>,
    /// The `stance.cited` events, in log order.
    pub citations: Vec<Event>,
    /// The role the actor held on the as-of day (or its current role without one), if known.
    pub role: Option<&'a ActorRole>,
}

impl<'a> PositionView<'a> {
    /// The view of a position.
    pub fn of(p: &'a Position<'a>) -> PositionView<'a> {
        PositionView {
            actor: &p.actor,
            event: p.event,
            stance: StanceView::of(&p.stance),
            corrections: p.corrections.clone(),
            citations: p.citations.clone(),
            role: p.role,
        }
    }
}

/// How a pair's position differs between two points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// No position at the first point, one at the second.
    Added,
    /// A different stance at the second point.
    Changed,
    /// A position at the first point, none at the second.
    Removed,
}

impl ChangeKind {
    /// `added`, `changed` or `removed`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Changed => "changed",
            ChangeKind::Removed => "removed",
        }
    }
}

/// One entry of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<'a> {
    /// The actor.
    pub actor: ActorId,
    /// The topic.
    pub topic: TopicId,
    /// Added, changed or removed.
    pub kind: ChangeKind,
    /// Position at the first point (`None` when added).
    pub before: Option<Position<'a>>,
    /// Position at the second point (`None` when removed).
    pub after: Option<Position<'a>>,
}

/// Where a stance stands in its pair's history, as known at the cutoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The pair's position with no date bound.
    Current,
    /// A later (canonical order) unretracted stance of the same pair replaced it.
    Superseded {
        /// Seq of the stance that replaced it.
        by: Seq,
    },
    /// The report behind it was withdrawn.
    Retracted {
        /// Seq of the `stance.retracted`.
        by: Seq,
    },
}

impl Status {
    /// `current`, `superseded` or `retracted`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Current => "current",
            Status::Superseded { .. } => "superseded",
            Status::Retracted { .. } => "retracted",
        }
    }
}

/// One stance in a timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry<'a> {
    /// The stance, its event, corrections and citations.
    pub position: Position<'a>,
    /// Current, superseded or retracted.
    pub status: Status,
}

/// A timeline entry decided but not yet built ([`History::timeline_decided`]): its position
/// as a [`Decided`] ([`History::position_view`] and [`History::names`] build it) and its status.
#[derive(Debug, Clone, Copy)]
pub struct TimelineDecided {
    /// The stance's position, decided.
    pub decided: Decided,
    /// Current, superseded or retracted.
    pub status: Status,
}

/// One stance as known at a query's cutoff, in the compact form queries sort (28 bytes): its
/// actor (after alias links), topic, date and stance as corrected by then, and (timelines only)
/// its status. Seqs fit in 32 bits because a history holds at most `u32::MAX` events.
#[derive(Debug, Clone, Copy)]
pub(super) struct Row {
    pub(super) actor: Sym,
    pub(super) topic: Sym,
    pub(super) date: ValidDate,
    pub(super) seq: u32,
    pub(super) stance: Stance,
    /// Timelines: 0 current, 1 superseded by `by`, 2 retracted by `by`.
    status: u8,
    by: u32,
}

impl Row {
    fn seq(&self) -> Seq {
        Seq::from(self.seq)
    }
}

/// A position decided but not yet built ([`History::positions_decided`]): its deciding stance in
/// compact form and the point it is asked at.
#[derive(Debug, Clone, Copy)]
pub struct Decided {
    row: Row,
    cutoff: Seq,
    as_of: Option<Day>,
}

/// Sort ranks of actor and topic symbols: the order of their ids ([`History::ranks`]) or the
/// order tables list them in ([`History::table_ranks`]).
pub(super) struct Ranks {
    pub(super) actor: Vec<u32>,
    pub(super) topic: Vec<u32>,
}

/// What one side of a query covers: its cutoff, the last valid-time day that can count, the
/// actor each actor symbol stands for then, and which (actor, topic) symbols the filter keeps.
pub(super) struct Scope {
    cutoff: Seq,
    /// Stances whose date takes effect after this day are left out (`None`: all count).
    until: Option<Day>,
    /// Canonical actor per actor symbol; `None` when no alias link is known at the cutoff.
    canon: Option<Vec<Sym>>,
    keep_actor: Vec<bool>,
    keep_topic: Vec<bool>,
}

/// The pairs that differ between two lists of deciding rows, both sorted by the ranks'
/// (actor, topic) order, found by walking them side by side, one change at a time (nothing is
/// collected).
struct DiffWalk {
    before: Vec<Row>,
    after: Vec<Row>,
    /// Next row of each list.
    at: (usize, usize),
    ranks: Ranks,
}

impl Iterator for DiffWalk {
    type Item = (ChangeKind, Option<Row>, Option<Row>);

    fn next(&mut self) -> Option<Self::Item> {
        let key = |r: &Row| {
            (
                self.ranks.actor[r.actor as usize],
                self.ranks.topic[r.topic as usize],
            )
        };
        loop {
            let (b, a) = (self.before.get(self.at.0), self.after.get(self.at.1));
            let order = match (b, a) {
                (None, None) => return None,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(x), Some(y)) => key(x).cmp(&key(y)),
            };
            let (x, y) = match order {
                Ordering::Less => (b.copied(), None),
                Ordering::Greater => (None, a.copied()),
                Ordering::Equal => (b.copied(), a.copied()),
            };
            self.at.0 += usize::from(x.is_some());
            self.at.1 += usize::from(y.is_some());
            let kind = match (&x, &y) {
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Removed,
                (Some(p), Some(q)) if p.stance != q.stance => ChangeKind::Changed,
                _ => continue,
            };
            return Some((kind, x, y));
        }
    }
}

/// The symbol of each rank (the inverse of [`ranks_of`]'s ranks).
fn inverse(ranks: &[u32]) -> Vec<Sym> {
    let mut syms = vec![0; ranks.len()];
    for (s, r) in ranks.iter().enumerate() {
        syms[*r as usize] = s as Sym;
    }
    syms
}

/// The rank of each symbol when symbols are ordered by their values.
fn ranks_of<T: Ord>(len: usize, item: impl Fn(Sym) -> T) -> Vec<u32> {
    let mut order: Vec<Sym> = (0..len as Sym).collect();
    order.sort_by_cached_key(|s| item(*s));
    let mut rank = vec![0; len];
    for (r, s) in order.into_iter().enumerate() {
        rank[s as usize] = r as u32;
    }
    rank
}

impl History {
    /// Actors and topics in the order of their ids (the analysis tables, which show ids).
    pub(super) fn ranks(&self) -> Ranks {
        Ranks {
            actor: ranks_of(self.actor_syms.len(), |s| self.actor_syms.item(s)),
            topic: ranks_of(self.topic_syms.len(), |s| self.topic_syms.item(s)),
        }
    }

    /// Actors and topics in the order of their symbols: rows sorted by these are grouped by
    /// pair, in no meaningful order of the pairs (a timeline, sorted by date after, needs no
    /// more; ranking the ids was a twenty-fifth of a one-actor timeline's instructions).
    fn symbol_ranks(&self) -> Ranks {
        Ranks {
            actor: (0..self.actor_syms.len() as u32).collect(),
            topic: (0..self.topic_syms.len() as u32).collect(),
        }
    }

    /// Actors and topics in the order tables list them: by the name shown (an actor's
    /// registered name, a topic's title), then by id, so two actors of one name stay apart and
    /// in a fixed order. Strings compare byte by byte (Unicode code point order), as the
    /// `actors` and `topics` tables sort; no locale is consulted. Positions and diffs use it,
    /// so every format and the projection index's answers list pairs in this order.
    pub(super) fn table_ranks(&self) -> Ranks {
        Ranks {
            // By symbol: looking each id up again by its text was a tenth of the ranking.
            actor: ranks_of(self.actor_syms.len(), |s| {
                let name = self.actor_by_sym(s).map(|a| a.name.as_str());
                (name, self.actor_syms.item(s))
            }),
            topic: ranks_of(self.topic_syms.len(), |s| {
                let title = self.topic_by_sym(s).map(|t| t.title.as_str());
                (title, self.topic_syms.item(s))
            }),
        }
    }

    pub(super) fn scope(&self, cutoff: Seq, until: Option<Day>, filter: &Filter) -> Scope {
        let canon = self.has_aliases(cutoff).then(|| {
            (0..self.actor_syms.len() as Sym)
                .map(|s| {
                    let to = self.canonical_actor(self.actor_syms.item(s), cutoff);
                    self.actor_syms.get(to).unwrap_or(s)
                })
                .collect()
        });
        let actors = self.filter_actors(filter, cutoff);
        let keep_actor = (0..self.actor_syms.len() as Sym)
            .map(|s| actors.is_empty() || actors.contains(self.actor_syms.item(s)))
            .collect();
        let keep_topic = (0..self.topic_syms.len() as Sym)
            .map(|s| self.covers_topic(filter, s))
            .collect();
        Scope {
            cutoff,
            until,
            canon,
            keep_actor,
            keep_topic,
        }
    }

    /// The stances a scope covers, as known at its cutoff (retracted ones only when asked),
    /// sorted by the ranks' (actor, topic) order, then canonical order (`date`, stated instant,
    /// `seq`).
    pub(super) fn rows(&self, scope: &Scope, ranks: &Ranks, with_retracted: bool) -> Vec<Row> {
        // Room for every stance up to the cutoff: pages a filtered query leaves untouched cost
        // no memory, and a full one never copies its rows to grow.
        let mut rows = Vec::with_capacity(scope.cutoff.min(self.len() as Seq) as usize);
        for (seq, slot) in self.stance_slots() {
            if seq > scope.cutoff {
                break;
            }
            if !with_retracted && self.retracted_at(seq, scope.cutoff).is_some() {
                continue;
            }
            let Some((actor, topic, date, stance)) = self.stance_key(seq, slot, scope.cutoff)
            else {
                continue;
            };
            let actor = scope.canon.as_ref().map_or(actor, |c| c[actor as usize]);
            let Ok(seq) = u32::try_from(seq) else {
                break;
            };
            if scope.until.is_some_and(|day| date.start() > day) {
                continue;
            }
            if scope.keep_actor[actor as usize] && scope.keep_topic[topic as usize] {
                rows.push(Row {
                    actor,
                    topic,
                    date,
                    seq,
                    stance,
                    status: 0,
                    by: 0,
                });
            }
        }
        // The ranks take the symbols' place while the rows are sorted, and the symbols are put
        // back after: looking the two ranks up at each comparison was a third of the sort.
        for r in &mut rows {
            (r.actor, r.topic) = (ranks.actor[r.actor as usize], ranks.topic[r.topic as usize]);
        }
        rows.sort_unstable_by_key(|r| (r.actor, r.topic, r.date, r.seq));
        self.order_same_day(&mut rows, scope.cutoff, |x, y| {
            (x.actor, x.topic, x.date) == (y.actor, y.topic, y.date)
        });
        let (actors, topics) = (inverse(&ranks.actor), inverse(&ranks.topic));
        for r in &mut rows {
            (r.actor, r.topic) = (actors[r.actor as usize], topics[r.topic as usize]);
        }
        rows
    }

    /// Puts rows sorted by date, then seq, into canonical order ([`CanonicalKey`](crate::core::CanonicalKey)): within each
    /// run of rows that `same` groups (rows of one date), by stated instant before seq. Only a
    /// run of two or more full dates can differ from seq order, and only if any stance may carry
    /// a time of day, so a log without stated times pays nothing.
    pub(super) fn order_same_day(
        &self,
        rows: &mut [Row],
        cutoff: Seq,
        same: impl Fn(&Row, &Row) -> bool,
    ) {
        if !self.may_have_times() {
            return;
        }
        for run in rows.chunk_by_mut(same) {
            if run.len() > 1 && run[0].date.precision() == Precision::Day {
                run.sort_by_cached_key(|r| self.canonical_key(r.seq(), cutoff));
            }
        }
    }

    /// Whether a filter's topic and issue conditions cover a topic symbol.
    fn covers_topic(&self, filter: &Filter, topic: Sym) -> bool {
        (filter.topics.is_empty() || filter.topics.contains(self.topic_syms.item(topic)))
            && (filter.issues.is_empty()
                || self
                    .topic_by_sym(topic)
                    .is_some_and(|t| t.issues.iter().any(|i| filter.issues.contains(i))))
    }

    /// The actors a filter covers once aliases known at `cutoff` are followed.
    fn filter_actors(&self, filter: &Filter, cutoff: Seq) -> BTreeSet<ActorId> {
        filter
            .actors
            .iter()
            .map(|a| self.canonical_actor(a, cutoff).clone())
            .collect()
    }

    fn position_of(
        &self,
        actor: &ActorId,
        seq: Seq,
        cutoff: Seq,
        as_of: Option<Day>,
    ) -> Option<Position<'_>> {
        let stance = self.stance_known(seq, cutoff)?;
        let canon = self.canonical_actor(actor, cutoff);
        let PositionParts {
            event,
            corrections,
            citations,
            role,
        } = self.position_parts(canon, seq, cutoff, as_of)?;
        Some(Position {
            actor: canon.clone(),
            event,
            stance,
            corrections,
            citations,
            role,
        })
    }

    /// [`History::position_of`] borrowed ([`PositionView`]).
    fn position_view_of<'a>(
        &'a self,
        actor: &'a ActorId,
        seq: Seq,
        cutoff: Seq,
        as_of: Option<Day>,
    ) -> Option<PositionView<'a>> {
        let stance = self.stance_view_known(seq, cutoff)?;
        let canon = self.canonical_actor(actor, cutoff);
        let PositionParts {
            event,
            corrections,
            citations,
            role,
        } = self.position_parts(canon, seq, cutoff, as_of)?;
        Some(PositionView {
            actor: canon,
            event,
            stance,
            corrections,
            citations,
            role,
        })
    }

    /// What a position holds besides its stance and actor: the deciding event's meta, the
    /// corrections and citations of it known at `cutoff`, and the role its (canonical) actor
    /// `canon` held on `as_of`.
    fn position_parts(
        &self,
        canon: &ActorId,
        seq: Seq,
        cutoff: Seq,
        as_of: Option<Day>,
    ) -> Option<PositionParts<'_>> {
        let event = self.event_meta(seq)?;
        let notes = self.notes.get(&seq);
        let known = |v: &[Seq]| -> Vec<Event> {
            v.iter()
                .filter(|s| **s <= cutoff)
                .filter_map(|s| self.event(*s))
                .collect()
        };
        Some(PositionParts {
            event,
            corrections: notes.map_or_else(Vec::new, |n| known(&n.corrections)),
            citations: notes.map_or_else(Vec::new, |n| known(&n.citations)),
            role: self.role_on(canon, as_of, cutoff),
        })
    }

    fn retracted_at(&self, seq: Seq, cutoff: Seq) -> Option<Seq> {
        if self.notes.is_empty() {
            return None;
        }
        self.retracted_by(seq).filter(|by| *by <= cutoff)
    }

    /// The deciding row of each pair with a position at a point, in the ranks' (actor, topic)
    /// order.
    fn deciders(&self, at: At, filter: &Filter, ranks: &Ranks) -> Vec<Row> {
        // Rows dated after the as-of day are left out, so each pair's last row decides.
        let scope = self.scope(at.known.unwrap_or(Seq::MAX), at.as_of, filter);
        let mut rows = self.rows(&scope, ranks, false);
        // Keep each pair's last row, in place.
        let mut kept = 0;
        for i in 0..rows.len() {
            let last_of_pair = rows
                .get(i + 1)
                .is_none_or(|n| (n.actor, n.topic) != (rows[i].actor, rows[i].topic));
            if last_of_pair {
                rows[kept] = rows[i];
                kept += 1;
            }
        }
        rows.truncate(kept);
        rows
    }

    /// Every position at a point, in the order tables list them: by the actor's name, the
    /// actor's id, the topic's title, then the topic's id (strings in byte order).
    ///
    /// The position of (actor, topic) is the stance of the last `stance.declared` for the pair
    /// in canonical order ([`CanonicalKey`](crate::core::CanonicalKey): `date`, then the stated
    /// instant, then `seq`), among those known at `at.known` and not retracted
    /// by then, whose date takes effect on or before `at.as_of` (a partial date takes effect on
    /// the first day of its period). Stances are taken as corrected by the corrections known at
    /// the cutoff, and grouped under the actor their id is an alias of.
    ///
    /// # Example
    /// ```
    /// use stancelog::core::{At, Day, Filter, History};
    /// let history = History::new();
    /// let day = Day::parse("2024-10-22").unwrap();
    /// assert!(history.positions_at(At::day(day), &Filter::default()).is_empty());
    /// ```
    pub fn positions_at(&self, at: At, filter: &Filter) -> Vec<Position<'_>> {
        self.positions_iter(at, filter).collect()
    }

    /// [`History::positions_at`], one position at a time: the positions are decided first (a
    /// few bytes each), and each is built only when the iterator reaches it, so a long answer
    /// can be written out without holding it whole.
    pub fn positions_iter(
        &self,
        at: At,
        filter: &Filter,
    ) -> impl Iterator<Item = Position<'_>> + '_ {
        self.positions_decided(at, filter)
            .filter_map(move |d| self.position(&d))
    }

    /// The positions of [`History::positions_at`] decided but not built (a few bytes each, in
    /// the same order): [`History::position`] builds each, so a long answer can be built on
    /// several threads.
    pub fn positions_decided(&self, at: At, filter: &Filter) -> impl Iterator<Item = Decided> + '_ {
        let cutoff = at.known.unwrap_or(Seq::MAX);
        let rows = self.deciders(at, filter, &self.table_ranks());
        rows.into_iter().map(move |row| {
            self.touch(row.seq());
            Decided {
                row,
                cutoff,
                as_of: at.as_of,
            }
        })
    }

    /// The display name of a [`Decided`]'s actor and the title of its topic (`""` for one this
    /// history holds no registration of): what [`History::actor`] and [`History::topic`] give
    /// for its position's actor and stance's topic, read by symbol (looking the ids up was a
    /// twentieth of a query of every pair). `d` must come from this history, as for
    /// [`History::position`].
    pub fn names(&self, d: &Decided) -> (&str, &str) {
        let actor = self
            .actor_by_sym(d.row.actor)
            .map_or("", |a| a.name.as_str());
        let topic = self
            .topic_by_sym(d.row.topic)
            .map_or("", |t| t.title.as_str());
        (actor, topic)
    }

    /// The position a [`Decided`] of this history stands for. `d` must come from this
    /// history's [`History::positions_decided`] or [`History::timeline_decided`]: one of
    /// another history may panic (a symbol it does not hold) or give another pair's position.
    pub fn position(&self, d: &Decided) -> Option<Position<'_>> {
        self.position_at_row(&d.row, d.cutoff, d.as_of)
    }

    /// [`History::position`] borrowed from the history: what a row of a long answer is built
    /// from without copying the stance. As for [`History::position`], `d` must come from this
    /// history's [`History::positions_decided`] or [`History::timeline_decided`]: one of
    /// another history may panic (a symbol it does not hold) or give another pair's position.
    pub fn position_view(&self, d: &Decided) -> Option<PositionView<'_>> {
        let r = &d.row;
        self.position_view_of(self.actor_syms.item(r.actor), r.seq(), d.cutoff, d.as_of)
    }

    /// The position of a decided row (rows come from this history, so there always is one).
    fn position_at_row(&self, r: &Row, cutoff: Seq, as_of: Option<Day>) -> Option<Position<'_>> {
        self.position_of(self.actor_syms.item(r.actor), r.seq(), cutoff, as_of)
    }

    /// Every position as of `as_of` (inclusive; `None` = every date), knowing the whole log.
    /// See [`History::positions_at`].
    pub fn positions(&self, as_of: Option<Day>, filter: &Filter) -> Vec<Position<'_>> {
        self.positions_at(At { as_of, known: None }, filter)
    }

    /// Every pair whose stance differs between two points, in the order of
    /// [`History::positions_at`] (actor name, actor id, topic title, topic id).
    /// A restatement of the same stance, or a further report of it, is not a change.
    /// `diff_at(p, p)` is empty. Each side may have its own as-of date and its own cutoff, so
    /// "what changed in our knowledge of D between T1 and T2" is `diff_at((D, T1), (D, T2))`.
    pub fn diff_at(&self, from: At, to: At, filter: &Filter) -> Vec<Change<'_>> {
        self.diff_iter(from, to, filter).collect()
    }

    /// [`History::diff_at`], one change at a time: pairs are compared in the compact form as the
    /// iterator goes, and only the positions of changed pairs are built, when it reaches them.
    /// It holds the deciding rows of both points (28 bytes per pair), nothing per change.
    pub fn diff_iter(
        &self,
        from: At,
        to: At,
        filter: &Filter,
    ) -> impl Iterator<Item = Change<'_>> + '_ {
        let ranks = self.table_ranks();
        let before = self.deciders(from, filter, &ranks);
        let after = self.deciders(to, filter, &ranks);
        let walk = DiffWalk {
            before,
            after,
            at: (0, 0),
            ranks,
        };
        let (cut_from, cut_to) = (from.known.unwrap_or(Seq::MAX), to.known.unwrap_or(Seq::MAX));
        walk.map(move |(kind, x, y)| {
            let before = x.and_then(|r| self.position_at_row(&r, cut_from, from.as_of));
            let after = y.and_then(|r| self.position_at_row(&r, cut_to, to.as_of));
            let row = x.or(y).map_or((0, 0), |r| (r.actor, r.topic));
            Change {
                actor: self.actor_syms.item(row.0).clone(),
                topic: self.topic_syms.item(row.1).clone(),
                kind,
                before,
                after,
            }
        })
    }

    /// [`History::diff_at`] between two as-of days, knowing the whole log.
    pub fn diff(&self, from: Day, to: Day, filter: &Filter) -> Vec<Change<'_>> {
        self.diff_at(At::day(from), At::day(to), filter)
    }

    /// Every `stance.declared` of the covered pairs known at `known` (`None`: the whole log), in
    /// canonical order (`date`, stated instant, `seq`), each with its status as known then.
    pub fn timeline_at(&self, known: Option<Seq>, filter: &Filter) -> Vec<TimelineEntry<'_>> {
        self.timeline_iter(known, filter).collect()
    }

    /// [`History::timeline_at`], one entry at a time (each built when the iterator reaches it).
    pub fn timeline_iter(
        &self,
        known: Option<Seq>,
        filter: &Filter,
    ) -> impl Iterator<Item = TimelineEntry<'_>> + '_ {
        self.timeline_decided(known, filter).filter_map(move |t| {
            Some(TimelineEntry {
                position: self.position(&t.decided)?,
                status: t.status,
            })
        })
    }

    /// The entries of [`History::timeline_at`] decided but not built (a few bytes each, in the
    /// same order): [`History::position`] or [`History::position_view`] builds each one's
    /// position, as for [`History::positions_decided`].
    pub fn timeline_decided(
        &self,
        known: Option<Seq>,
        filter: &Filter,
    ) -> impl Iterator<Item = TimelineDecided> + '_ {
        let cutoff = known.unwrap_or(Seq::MAX);
        let scope = self.scope(cutoff, None, filter);
        let mut rows = self.rows(&scope, &self.symbol_ranks(), true);
        for pair in rows.chunk_by_mut(|x, y| x.actor == y.actor && x.topic == y.topic) {
            // Walk backwards so each unretracted stance knows the next unretracted one.
            let mut next_live: Option<u32> = None;
            for r in pair.iter_mut().rev() {
                match (self.retracted_at(r.seq(), cutoff), next_live) {
                    (Some(by), _) => (r.status, r.by) = (2, u32::try_from(by).unwrap_or(0)),
                    (None, Some(by)) => (r.status, r.by) = (1, by),
                    (None, None) => r.status = 0,
                }
                if r.status != 2 {
                    next_live = Some(r.seq);
                }
            }
        }
        rows.sort_unstable_by_key(|r| (r.date, r.seq));
        self.order_same_day(&mut rows, cutoff, |x, y| x.date == y.date);
        rows.into_iter().map(move |row| {
            let status = match row.status {
                2 => Status::Retracted {
                    by: Seq::from(row.by),
                },
                1 => Status::Superseded {
                    by: Seq::from(row.by),
                },
                _ => Status::Current,
            };
            TimelineDecided {
                decided: Decided {
                    row,
                    cutoff,
                    as_of: Some(row.date.start()),
                },
                status,
            }
        })
    }

    /// [`History::timeline_at`] knowing the whole log.
    pub fn timeline(&self, filter: &Filter) -> Vec<TimelineEntry<'_>> {
        self.timeline_at(None, filter)
    }
}
