//! Analysis over a [`History`]: agreement between pairs of actors per period, counts of stances
//! per period and actor, and the cumulative holders of each stance on one topic. Pure: no I/O, no
//! serde, no clock; every answer comes in a defined order.
//!
//! All three start from the same rows as the other queries (`History::rows`): every
//! `stance.declared` known at the cutoff and not retracted by then, as corrected by then, under
//! the actor its id is an alias of, kept by the filter. A partial date (`2024-10`) counts in the
//! period holding its first day, as everywhere else.

use rustc_hash::FxHashMap;

use super::date::{Day, ValidDate};
use super::domain::{ActorId, Seq, Stance, TopicId};
use super::history::History;
use super::measures::Tally;
use super::query::{Filter, Row};

/// How answers are grouped in time. Periods are identified by a key (see [`By::label`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// Calendar years of valid time; key: the year.
    Year,
    /// Calendar months; key: `year * 12 + month - 1`.
    Month,
    /// Days; key: days from 0001-01-01 (day 1).
    Day,
    /// UN General Assembly sessions: the `session` of the topic (stances on topics without one
    /// are left out); key: the session number.
    Session,
    /// One period over everything selected; key: 0.
    None,
}

impl By {
    /// The period key of a stance dated `date` on a topic of UN session `session`; `None` when
    /// grouping by session and the topic has none.
    pub fn key(self, date: ValidDate, session: Option<u32>) -> Option<i64> {
        let d = date.start();
        Some(match self {
            By::Year => i64::from(d.year()),
            By::Month => i64::from(d.year()) * 12 + i64::from(d.month()) - 1,
            By::Day => i64::from(d.days_from_ce()),
            By::Session => i64::from(session?),
            By::None => 0,
        })
    }

    /// The period's name in output: `1991`, `1991-12`, `1991-12-06`, `46` (a session), `all`.
    pub fn label(self, key: i64) -> String {
        match self {
            By::Year | By::Session => key.to_string(),
            By::Month => format!("{:04}-{:02}", key.div_euclid(12), key.rem_euclid(12) + 1),
            By::Day => self
                .last_day(key)
                .map_or_else(|| key.to_string(), |d| d.to_string()),
            By::None => "all".to_string(),
        }
    }

    /// The last day of a period of valid time (inclusive); `None` for sessions, for the one
    /// period of [`By::None`], and for keys outside years 1..=9999.
    pub fn last_day(self, key: i64) -> Option<Day> {
        match self {
            By::Year => Day::from_ymd(i32::try_from(key).ok()?, 12, 31),
            By::Month => Day::from_ymd(
                i32::try_from(key.div_euclid(12)).ok()?,
                u32::try_from(key.rem_euclid(12) + 1).ok()?,
                1,
            )
            .map(|first| first.last_of_month()),
            By::Day => Day::from_days_from_ce(i32::try_from(key).ok()?),
            By::Session | By::None => None,
        }
    }
}

/// What to compare or count: a point of recorded time, a filter, periods and a valid-time range.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Recorded time, as the last seq known (`None`: the whole log).
    pub known: Option<Seq>,
    /// Which actors, topics and issues.
    pub filter: Filter,
    /// How stances are grouped in time.
    pub by: By,
    /// Only stances whose date takes effect on or after this day (inclusive).
    pub from: Option<Day>,
    /// Only stances whose date takes effect on or before this day (inclusive).
    pub to: Option<Day>,
}

/// The agreement of two actors in one period: the tally of their stances on the topics both
/// took a stance on in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairTally {
    /// The period's key ([`By::label`] names it).
    pub period: i64,
    /// The first actor (the smaller id; equal to `b` only in a tally of an actor with itself).
    pub a: ActorId,
    /// The second actor.
    pub b: ActorId,
    /// Their stances on their common topics, `a`'s first.
    pub tally: Tally,
}

/// One stance of one actor in one period: (period key, topic rank, actor rank, stance).
type Fact = (i64, u32, u32, Stance);

/// Largest number of actors in one period whose pair tallies are held in a dense table
/// (`n * n` tallies of 40 bytes: 42 MB); more use a hash map of the pairs that occur.
const DENSE_ACTORS_MAX: usize = 1024;

impl History {
    /// The covered rows of a selection, in (actor id, topic id, date, seq) order, with dates
    /// from `from` to `to`.
    fn selected_rows(&self, sel: &Selection) -> Vec<Row> {
        let ranks = self.ranks();
        let scope = self.scope(sel.known.unwrap_or(Seq::MAX), sel.to, &sel.filter);
        let mut rows = self.rows(&scope, &ranks, false);
        if let Some(from) = sel.from {
            rows.retain(|r| r.date.start() >= from);
        }
        rows
    }

    /// Each actor's last stance (canonical order) on each topic in each period, sorted by
    /// (period, topic rank, actor rank), with the actor symbol of each actor rank.
    fn facts(&self, sel: &Selection) -> (Vec<Fact>, Vec<u32>) {
        let ranks = self.ranks();
        let rows = self.selected_rows(sel);
        let key = |r: &Row| {
            let session = self.topic_by_sym(r.topic).and_then(|t| t.session);
            sel.by.key(r.date, session)
        };
        let mut facts = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            let Some(k) = key(r) else { continue };
            // Rows of a pair are in canonical order, and a period key never falls with the
            // date, so the last row of the pair with this key decides.
            let last = rows
                .get(i + 1)
                .is_none_or(|n| (n.actor, n.topic) != (r.actor, r.topic) || key(n) != Some(k));
            if last {
                let (a, t) = (ranks.actor[r.actor as usize], ranks.topic[r.topic as usize]);
                facts.push((k, t, a, r.stance));
            }
        }
        facts.sort_unstable();
        let mut sym_of_rank = vec![0; ranks.actor.len()];
        for (sym, rank) in ranks.actor.iter().enumerate() {
            sym_of_rank[*rank as usize] = sym as u32;
        }
        (facts, sym_of_rank)
    }

    /// Agreement of every pair of covered actors in every period: for each period, the topics on
    /// which both took a stance dated in it (each side's last such stance in canonical order),
    /// tallied ([`Tally`]; `super::measures` has the measures). Pairs with fewer than
    /// `min_common` common topics are left out. With `with_itself`, each actor's tally with
    /// itself (over the topics it took a stance on) is given too.
    ///
    /// Order: by period key, then `a`'s id, then `b`'s id; always `a <= b`.
    pub fn agreement(&self, sel: &Selection, min_common: u64, with_itself: bool) -> Vec<PairTally> {
        self.agreement_iter(sel, min_common, with_itself).collect()
    }

    /// [`History::agreement`], one period at a time: each actor's last stance per topic and
    /// period is decided first (16 bytes each); a period's pairs are tallied only when the
    /// iterator reaches it, so a long answer is written without being held whole.
    pub fn agreement_iter(
        &self,
        sel: &Selection,
        min_common: u64,
        with_itself: bool,
    ) -> impl Iterator<Item = PairTally> + '_ {
        let (facts, sym_of_rank) = self.facts(sel);
        let mut periods = Vec::new();
        let mut start = 0;
        for chunk in facts.chunk_by(|x, y| x.0 == y.0) {
            periods.push(start..start + chunk.len());
            start += chunk.len();
        }
        periods.into_iter().flat_map(move |range| {
            let period = facts[range.start].0;
            let pairs = tally_period(&facts[range], with_itself);
            let kept = pairs
                .into_iter()
                .filter(move |p| p.2.common() >= min_common.max(1));
            let actor = |rank: u32| self.actor_syms.item(sym_of_rank[rank as usize]).clone();
            kept.map(move |(a, b, tally)| PairTally {
                period,
                a: actor(a),
                b: actor(b),
                tally,
            })
            .collect::<Vec<_>>()
        })
    }
}

/// The pair tallies of one period's facts (sorted by topic, then actor rank), as (actor rank a,
/// actor rank b, tally) with a <= b, in (a, b) order.
fn tally_period(facts: &[Fact], with_itself: bool) -> Vec<(u32, u32, Tally)> {
    let mut actors: Vec<u32> = facts.iter().map(|f| f.2).collect();
    actors.sort_unstable();
    actors.dedup();
    let local: FxHashMap<u32, usize> = actors.iter().enumerate().map(|(i, a)| (*a, i)).collect();
    let n = actors.len();
    let mut dense = if n <= DENSE_ACTORS_MAX {
        vec![Tally::new(); n * n]
    } else {
        Vec::new()
    };
    let mut sparse: FxHashMap<(usize, usize), Tally> = FxHashMap::default();
    let mut topic_votes: Vec<(usize, Stance)> = Vec::new();
    for topic in facts.chunk_by(|x, y| x.1 == y.1) {
        topic_votes.clear();
        topic_votes.extend(topic.iter().map(|f| (local[&f.2], f.3)));
        for (i, (a, sa)) in topic_votes.iter().enumerate() {
            let from = if with_itself { i } else { i + 1 };
            for (b, sb) in &topic_votes[from..] {
                match dense.is_empty() {
                    false => dense[a * n + b].add(*sa, *sb),
                    true => sparse.entry((*a, *b)).or_default().add(*sa, *sb),
                }
            }
        }
    }
    let mut out: Vec<(u32, u32, Tally)> = if dense.is_empty() {
        sparse
            .into_iter()
            .map(|((a, b), t)| (actors[a], actors[b], t))
            .collect()
    } else {
        let cells = dense.into_iter().enumerate();
        cells
            .filter(|(_, t)| t.common() > 0)
            .map(|(i, t)| (actors[i / n], actors[i % n], t))
            .collect()
    };
    out.sort_unstable_by_key(|(a, b, _)| (*a, *b));
    out
}

/// How many stances of one kind an actor took in one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanceCount {
    /// The period's key.
    pub period: i64,
    /// The actor.
    pub actor: ActorId,
    /// The stance.
    pub stance: Stance,
    /// How many `stance.declared` of this stance, dated in the period.
    pub count: u64,
}

/// How many actors held a stance on a topic at the end of a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holders {
    /// The period's key.
    pub period: i64,
    /// The last day counted: the period's last day, or the selection's `to` if earlier.
    pub until: Day,
    /// The stance.
    pub stance: Stance,
    /// How many actors' positions were this stance as of `until`.
    pub holders: u64,
}

impl History {
    /// Counts of the stances each covered actor took in each period (every unretracted
    /// `stance.declared` dated in it, as known at the cutoff), ordered by period key, actor id,
    /// then stance (vocabulary order). Periods and stances with no stance are left out.
    pub fn trend(&self, sel: &Selection) -> Vec<StanceCount> {
        let ranks = self.ranks();
        let mut counts: Vec<(i64, u32, Stance, u32)> = Vec::new();
        for r in self.selected_rows(sel) {
            let session = self.topic_by_sym(r.topic).and_then(|t| t.session);
            if let Some(k) = sel.by.key(r.date, session) {
                counts.push((k, ranks.actor[r.actor as usize], r.stance, r.actor));
            }
        }
        counts.sort_unstable();
        counts
            .chunk_by(|x, y| (x.0, x.1, x.2) == (y.0, y.1, y.2))
            .map(|c| StanceCount {
                period: c[0].0,
                actor: self.actor_syms.item(c[0].3).clone(),
                stance: c[0].2,
                count: c.len() as u64,
            })
            .collect()
    }

    /// The cumulative holders of each stance on one topic: for every period from the first
    /// stance's (or `from`'s) to the last stance's (or `to`'s), how many covered actors' positions
    /// on `topic` were each stance that fits the topic as of the period's last day. Stances
    /// dated before `from` count (a position holds until changed). `None` when the topic is not
    /// registered or `by` has no last days (sessions, one period).
    pub fn holders(&self, sel: &Selection, topic: &TopicId) -> Option<Vec<Holders>> {
        let kind = self.topic(topic)?.kind;
        let whole = Selection {
            from: None,
            filter: Filter {
                topics: [topic.clone()].into_iter().collect(),
                ..sel.filter.clone()
            },
            ..sel.clone()
        };
        // The topic's stances in canonical order (date, stated instant, seq).
        let mut changes = self.selected_rows(&whole);
        changes.sort_unstable_by_key(|r| (r.date, r.seq));
        let cutoff = sel.known.unwrap_or(Seq::MAX);
        self.order_same_day(&mut changes, cutoff, |x, y| x.date == y.date);
        let first = sel
            .from
            .map(ValidDate::from_day)
            .or(changes.first().map(|c| c.date));
        let last = sel
            .to
            .map(ValidDate::from_day)
            .or(changes.last().map(|c| c.date));
        let (Some(first), Some(last)) = (first, last) else {
            return Some(Vec::new());
        };
        let (k0, k1) = (sel.by.key(first, None)?, sel.by.key(last, None)?);
        sel.by.last_day(k0)?;
        let stances: Vec<Stance> = Stance::ALL
            .iter()
            .copied()
            .filter(|s| s.fits(kind))
            .collect();
        let mut held: FxHashMap<u32, Stance> = FxHashMap::default();
        let mut next = changes.iter().peekable();
        let mut out = Vec::new();
        for k in k0..=k1 {
            let Some(end) = sel.by.last_day(k) else {
                continue;
            };
            let until = sel.to.map_or(end, |to| end.min(to));
            while let Some(c) = next.next_if(|c| c.date.start() <= until) {
                held.insert(c.actor, c.stance);
            }
            for s in &stances {
                let holders = held.values().filter(|h| *h == s).count() as u64;
                out.push(Holders {
                    period: k,
                    until,
                    stance: *s,
                    holders,
                });
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_keys_and_labels() {
        let d = ValidDate::parse("1991-12-06").unwrap();
        let m = ValidDate::parse("2024-10").unwrap();
        assert_eq!(By::Year.key(d, None), Some(1991));
        assert_eq!(By::Year.label(1991), "1991");
        let k = By::Month.key(m, None).unwrap();
        assert_eq!(By::Month.label(k), "2024-10");
        assert_eq!(By::Month.last_day(k), Day::parse("2024-10-31").ok());
        let dec = By::Month.key(d, None).unwrap();
        assert_eq!(By::Month.last_day(dec), Day::parse("1991-12-31").ok());
        let k = By::Day.key(d, None).unwrap();
        assert_eq!(By::Day.label(k), "1991-12-06");
        assert_eq!(
            By::Day.key(m, None),
            By::Day.key(ValidDate::parse("2024-10-01").unwrap(), None)
        );
        assert_eq!(By::Session.key(d, None), None);
        assert_eq!(By::Session.key(d, Some(46)), Some(46));
        assert_eq!(By::None.label(0), "all");
        assert_eq!(By::Year.last_day(2016), Day::parse("2016-12-31").ok());
    }
}
