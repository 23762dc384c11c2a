//! The index's account of the whole log (recorded times, the registered actors and topics with
//! their counts, the dates of stances), kept as one [`Account`] per segment: what the events of
//! that segment changed. The account of the whole log is the sum of its segments' accounts
//! ([`Account::add`]), made when the index is opened.
//!
//! An update sees only the history it was given: for a writer, a sparse one holding the new
//! events, the registrations they name, and the stances they target with their notes. So a
//! segment's account is kept by difference ([`delta`]): each stance a new event touches (a new
//! stance, or the target of a new correction or retraction) is taken out as it stood at the
//! index's old end and put back as it stands now. A segment's counts may so be negative (a
//! correction moving an older stance to another actor); the sums over all segments are not.

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};

use super::{put_str, put_u64};
use crate::core::{ActorEntry, ActorId, EventBody, History, Seq, TopicEntry, TopicId, ValidDate};
use crate::store::codec::{Reader, utf8};

/// An actor's or topic's line of an account: its registration seq (0 when it was registered
/// in another segment), and the difference to (in a whole log's account: the count of) its
/// stances, and of those retracted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Line {
    pub(crate) seq: Seq,
    pub(crate) stances: i64,
    pub(crate) retracted: i64,
}

impl Line {
    fn add(&mut self, other: &Line) {
        if other.seq != 0 {
            self.seq = other.seq;
        }
        self.stances += other.stances;
        self.retracted += other.retracted;
    }

    fn counts(&self) -> (Seq, u64, u64) {
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        (self.seq, n(self.stances), n(self.retracted))
    }

    pub(crate) fn actor_entry(&self) -> ActorEntry {
        let (seq, stances, retracted) = self.counts();
        ActorEntry {
            seq,
            stances,
            retracted,
        }
    }

    pub(crate) fn topic_entry(&self) -> TopicEntry {
        let (seq, stances, retracted) = self.counts();
        TopicEntry {
            seq,
            stances,
            retracted,
        }
    }
}

/// What the events of a range of seqs add to the whole log's account (a segment's), or the
/// whole log's account (the sum over its segments).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Account {
    /// Recorded times: (first seq of a run of events sharing one, the time), in log order.
    pub(crate) runs: Vec<(Seq, jiff::Timestamp)>,
    /// Stances (retracted ones included) per valid-time date, as corrected: sorted by date,
    /// none 0. Kept whole (not only the latest date) so that an append that corrects the
    /// latest stance to an earlier date finds the new latest without reading the log.
    /// Each date packed ([`ValidDate::packed`]: the numbers sort as the dates do), so that
    /// adding the accounts of an index's segments compares numbers, not dates (adding ten
    /// segments' lists of 12,800 dates each was a tenth of a one-actor query).
    pub(crate) dates: Vec<(u32, i64)>,
    /// Actors by id.
    pub(crate) actors: Vec<(ActorId, Line)>,
    /// Topics by id.
    pub(crate) topics: Vec<(TopicId, Line)>,
}

/// Adds `more` into `into` (each sorted by key, no key twice), the values of a key in both
/// combined by `add`: one pass over both, as a merge sort's merge. (Rebuilding a tree of
/// `into` for each account added was nine tenths of opening an index of three segments of a
/// generated log of 20,000 topics, each segment's account naming nearly all of them.)
fn add_sorted<K: Ord + Clone, V: Copy>(
    into: &mut Vec<(K, V)>,
    more: &[(K, V)],
    add: impl Fn(&mut V, &V),
) {
    if more.is_empty() {
        return;
    }
    let old = std::mem::take(into);
    let mut out = Vec::with_capacity(old.len().max(more.len()));
    let mut more = more.iter().peekable();
    for (k, mut v) in old {
        while let Some((mk, mv)) = more.next_if(|(mk, _)| *mk < k) {
            out.push((mk.clone(), *mv));
        }
        if let Some((_, mv)) = more.next_if(|(mk, _)| *mk == k) {
            add(&mut v, mv);
        }
        out.push((k, v));
    }
    out.extend(more.map(|(k, v)| (k.clone(), *v)));
    *into = out;
}

impl Account {
    /// Adds the account of the events after this one's (a later segment's).
    pub(crate) fn add(&mut self, later: &Account) {
        for run in &later.runs {
            if self.runs.last().is_none_or(|(_, t)| *t != run.1) {
                self.runs.push(*run);
            }
        }
        add_sorted(&mut self.dates, &later.dates, |n, m| *n += m);
        self.dates.retain(|(_, n)| *n != 0);
        add_sorted(&mut self.actors, &later.actors, Line::add);
        add_sorted(&mut self.topics, &later.topics, Line::add);
    }

    /// [`Account::add`] of an account given away: the first one is taken as it is (an index
    /// of one segment, such as a log imported in one go, copies nothing).
    pub(crate) fn add_owned(&mut self, later: Account) {
        if *self == Account::default() {
            *self = later;
        } else {
            self.add(&later);
        }
    }

    /// The latest valid-time date of any stance, as corrected by the whole log (of a whole
    /// log's account).
    pub(crate) fn date_last(&self) -> Option<ValidDate> {
        self.dates
            .last()
            .and_then(|(d, _)| ValidDate::from_packed(*d))
    }

    /// The account's bytes, in the two sections of its segment (layout in
    /// `events/INDEX.md`): what a reader reads when it opens the segment (the recorded-time
    /// runs, the dates, the lines of the ids the segment registers), and the lines of ids
    /// registered in other segments, whose counts only the `actors` and `topics` tables and a
    /// merge need ([`Account::add_unregistered`], [`Account::decode`]). Split so that opening
    /// a segment reads no line of another segment's ids: on a generated log of 16M stances
    /// indexed in ten segments, each naming nearly all its 25,000 actors and topics, stepping
    /// over those lines was two thirds of a one-actor query.
    pub(crate) fn encode(&self) -> (Vec<u8>, Vec<u8>) {
        let mut w = Vec::new();
        put_u64(&mut w, self.runs.len() as u64);
        for (seq, t) in &self.runs {
            put_u64(&mut w, *seq);
            put_u64(&mut w, t.as_microsecond() as u64);
        }
        put_u64(&mut w, self.dates.len() as u64);
        for (date, n) in &self.dates {
            put_u64(&mut w, u64::from(*date));
            put_u64(&mut w, *n as u64);
        }
        let mut others = Vec::new();
        put_lines(&mut w, &mut others, &self.actors, ActorId::as_str);
        put_lines(&mut w, &mut others, &self.topics, TopicId::as_str);
        (w, others)
    }

    /// Whether the second section of an account, of `len` bytes, holds no line (two counts of
    /// 0): every id the account names is then registered in its segment.
    pub(crate) fn others_empty(len: usize) -> bool {
        len == 16
    }

    /// Reads both sections of an account (from [`Account::encode`]); `Err` says what is wrong.
    /// An id that `known` (an earlier segment's account) holds is shared from it, not made
    /// again (see [`lines`]).
    pub(crate) fn decode(opened: &[u8], others: &[u8], known: &Account) -> Result<Account, String> {
        let mut a = Account::read(opened, known)?;
        let (actors, topics) = both_lines(others, Reader::new(others), false, known)?;
        a.actors = union(std::mem::take(&mut a.actors), actors)?;
        a.topics = union(std::mem::take(&mut a.topics), topics)?;
        Ok(a)
    }

    /// Reads the first section of an account: its runs and dates (the account returned, without
    /// lines), and the lines of the actors and topics its segment registers, kept as read
    /// ([`RawLines`]).
    pub(crate) fn decode_registered(
        opened: &[u8],
    ) -> Result<(Account, RawLines, RawLines), String> {
        let mut r = Reader::new(opened);
        let a = Account::read_head(&mut r)?;
        let actors = RawLines::read(&mut r, opened)?;
        let topics = RawLines::read(&mut r, opened)?;
        if !r.at_end() {
            return Err("its account is too long".into());
        }
        Ok((a, actors, topics))
    }

    /// Adds the counts of the lines of the second section of an account, `others` (the ids
    /// registered in other segments), to this account's lines of the same ids, found by
    /// walking both sorted lists. This account holds every registered id (the sum of the
    /// segments' accounts read by [`Account::decode_registered`]), so the sum is the whole
    /// log's counts, with no id made or checked; a line of an id registered nowhere is left
    /// out, as the whole log's account leaves it out.
    pub(crate) fn add_unregistered(&mut self, others: &[u8]) -> Result<(), String> {
        let mut r = Reader::new(others);
        add_unregistered_lines(&mut r, &mut self.actors, ActorId::as_str)?;
        add_unregistered_lines(&mut r, &mut self.topics, TopicId::as_str)?;
        if !r.at_end() {
            return Err("its account is too long".into());
        }
        Ok(())
    }

    /// The account the first section `bytes` holds.
    fn read(bytes: &[u8], known: &Account) -> Result<Account, String> {
        let mut r = Reader::new(bytes);
        let mut a = Account::read_head(&mut r)?;
        (a.actors, a.topics) = both_lines(bytes, r, true, known)?;
        Ok(a)
    }

    /// The runs and dates of a first section, read by `r` (an account without lines).
    fn read_head(r: &mut Reader<'_>) -> Result<Account, String> {
        let mut a = Account::default();
        for _ in 0..r.u64()? {
            let seq = r.u64()?;
            let t = jiff::Timestamp::from_microsecond(r.u64()? as i64)
                .map_err(|_| "a time out of range")?;
            a.runs.push((seq, t));
        }
        for _ in 0..r.u64()? {
            let date = u32::try_from(r.u64()?)
                .ok()
                .filter(|d| ValidDate::from_packed(*d).is_some())
                .ok_or("a date no calendar has")?;
            let n = r.u64()? as i64;
            if n == 0 || a.dates.last().is_some_and(|(d, _)| *d >= date) {
                return Err("its dates are out of order".into());
            }
            a.dates.push((date, n));
        }
        Ok(a)
    }
}

/// The lines of the actors or the topics a segment registers (an account's first section), kept
/// as read: sorted by id, each found by a binary search of where the lines start; no id is made
/// or checked until the lines are decoded whole ([`RawLines::decode`], for the `actors` and
/// `topics` tables). Opening an index made an id for each of the 25,000 actors and topics a
/// generated log registers: 11.5M of the 25.4M instructions of a one-actor query of 1M stances,
/// where the query needs the seqs of a few of them and of the registrations as a whole.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawLines {
    /// The lines' bytes, as the account holds them.
    bytes: Vec<u8>,
    /// Where each line starts in `bytes`.
    starts: Vec<u32>,
}

impl RawLines {
    /// The lines (their count first) `r` reads from `all`, the first section it reads: each
    /// line's length checked, its seq not 0, the ids sorted (compared as bytes, which sorts
    /// UTF-8 as the ids sort).
    fn read(r: &mut Reader<'_>, all: &[u8]) -> Result<RawLines, String> {
        let n = r.u64()?;
        let from = r.position();
        // A line takes at least 29 bytes, so a damaged count reserves no more than they allow.
        let mut starts = Vec::with_capacity((n as usize).min(all.len() / 29));
        let mut last: Option<&[u8]> = None;
        for _ in 0..n {
            let at = u32::try_from(r.position() - from).map_err(|_| "its account is too long")?;
            let id = r.text_bytes()?;
            let seq = r.u64()?;
            r.u64()?;
            r.u64()?;
            if seq == 0 {
                return Err("its account registers an id at seq 0".into());
            }
            if last.is_some_and(|l| l >= id) {
                return Err("its account is out of order".into());
            }
            last = Some(id);
            starts.push(at);
        }
        let bytes = all[from..r.position()].to_vec();
        Ok(RawLines { bytes, starts })
    }

    /// The number of lines.
    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }

    /// The id and line of line `i` (whose bounds `read` checked).
    fn at(&self, i: usize) -> (&[u8], Line) {
        let b = &self.bytes[self.starts[i] as usize..];
        let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let num = |k: usize| {
            let at = 4 + n + 8 * k;
            u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
        };
        let line = Line {
            seq: num(0),
            stances: num(1) as i64,
            retracted: num(2) as i64,
        };
        (&b[4..4 + n], line)
    }

    /// The line of `id`, if the segment registers it.
    pub(crate) fn find(&self, id: &str) -> Option<Line> {
        let id = id.as_bytes();
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (x, line) = self.at(mid);
            match x.cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(line),
            }
        }
        None
    }

    /// Each line's id (its bytes) and line, in id order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], Line)> {
        (0..self.len()).map(|i| self.at(i))
    }

    /// The lines with their ids made (and checked) by `make`; `Err` names a bad one.
    pub(crate) fn decode<K>(
        &self,
        make: impl Fn(&str) -> Result<K, crate::core::IdError>,
    ) -> Result<Vec<(K, Line)>, String> {
        self.iter()
            .map(|(id, line)| Ok((make(utf8(id)?).map_err(|e| e.to_string())?, line)))
            .collect()
    }
}

/// An account's lines of actors or topics, sorted by id.
pub(crate) type Lines<K> = Vec<(K, Line)>;

/// The actors and topics an index's segments register (each id in one segment), their lines
/// kept as read ([`RawLines`]), one pair per segment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Registered {
    actors: Vec<RawLines>,
    topics: Vec<RawLines>,
}

impl Registered {
    /// The registered lines of `account` (a whole log's, held in memory), as a segment's
    /// reader keeps them: from its own first section's bytes.
    pub(crate) fn of(account: &Account) -> Registered {
        let mut r = Registered::default();
        let (opened, _) = account.encode();
        // Bytes just encoded decode; were they not, no id would be found registered.
        if let Ok((_, actors, topics)) = Account::decode_registered(&opened) {
            r.push(actors, topics);
        }
        r
    }

    /// Adds a segment's lines.
    pub(crate) fn push(&mut self, actors: RawLines, topics: RawLines) {
        self.actors.push(actors);
        self.topics.push(topics);
    }

    /// The seq of the registration of actor `id`, if it is registered.
    pub(crate) fn actor(&self, id: &str) -> Option<Seq> {
        self.actors.iter().find_map(|l| l.find(id)).map(|l| l.seq)
    }

    /// The seq of the registration of topic `id`, if it is registered.
    pub(crate) fn topic(&self, id: &str) -> Option<Seq> {
        self.topics.iter().find_map(|l| l.find(id)).map(|l| l.seq)
    }

    /// How many actors are registered.
    pub(crate) fn actor_count(&self) -> usize {
        self.actors.iter().map(RawLines::len).sum()
    }

    /// How many topics are registered.
    pub(crate) fn topic_count(&self) -> usize {
        self.topics.iter().map(RawLines::len).sum()
    }

    /// The seqs of the registrations of the actors `wanted` names (those registered).
    pub(crate) fn actor_seqs_in(&self, wanted: &FxHashSet<&str>) -> Vec<Seq> {
        seqs_in(&self.actors, wanted)
    }

    /// The seqs of the registrations of the topics `wanted` names (those registered).
    pub(crate) fn topic_seqs_in(&self, wanted: &FxHashSet<&str>) -> Vec<Seq> {
        seqs_in(&self.topics, wanted)
    }

    /// Every registered actor's line, its id made and checked, sorted by id.
    pub(crate) fn actor_lines(&self) -> Result<Lines<ActorId>, String> {
        decoded(&self.actors, ActorId::new)
    }

    /// Every registered topic's line, its id made and checked, sorted by id.
    pub(crate) fn topic_lines(&self) -> Result<Lines<TopicId>, String> {
        decoded(&self.topics, TopicId::new)
    }
}

/// The lines of `segments` with their ids made by `make`, sorted by id (each id is registered
/// in one segment).
fn decoded<K: Ord>(
    segments: &[RawLines],
    make: impl Fn(&str) -> Result<K, crate::core::IdError> + Copy,
) -> Result<Lines<K>, String> {
    let mut out = Vec::new();
    for l in segments {
        out.extend(l.decode(make)?);
    }
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The seqs of the registrations of the ids of `wanted` in `segments`' lines, those
/// registered. Many ids are looked up by a walk of the lines, each tested against the set;
/// a few, by a binary search each (on the UN votes log a one-actor query names about 6,000
/// topics: 6,000 searches in a list sharing a long prefix were 86,000 comparisons).
fn seqs_in(segments: &[RawLines], wanted: &FxHashSet<&str>) -> Vec<Seq> {
    let len: usize = segments.iter().map(RawLines::len).sum();
    let searches = wanted.len() * (usize::BITS - len.leading_zeros()) as usize;
    if searches > len {
        segments
            .iter()
            .flat_map(RawLines::iter)
            .filter(|(id, _)| std::str::from_utf8(id).is_ok_and(|id| wanted.contains(id)))
            .map(|(_, l)| l.seq)
            .collect()
    } else {
        wanted
            .iter()
            .filter_map(|id| segments.iter().find_map(|l| l.find(id)))
            .map(|l| l.seq)
            .collect()
    }
}

/// The lines of actors, then of topics, that `r` reads to the end of `bytes` (a section of an
/// account; [`lines`]).
fn both_lines(
    bytes: &[u8],
    mut r: Reader<'_>,
    registered: bool,
    known: &Account,
) -> Result<(Lines<ActorId>, Lines<TopicId>), String> {
    let size = bytes.len();
    let (a, t) = (&known.actors, &known.topics);
    let actors = lines(&mut r, size, registered, a, ActorId::new, ActorId::as_str)?;
    let topics = lines(&mut r, size, registered, t, TopicId::new, TopicId::as_str)?;
    if !r.at_end() {
        return Err("its account is too long".into());
    }
    Ok((actors, topics))
}

/// Writes the lines of `all` (sorted by id): those of ids registered in the account's segment
/// (seq not 0) to `registered`, with their seq, the others to `others` without it; each list
/// after its count.
fn put_lines<K>(
    registered: &mut Vec<u8>,
    others: &mut Vec<u8>,
    all: &[(K, Line)],
    text: impl Fn(&K) -> &str,
) {
    let n = all.iter().filter(|(_, l)| l.seq != 0).count();
    put_u64(registered, n as u64);
    put_u64(others, (all.len() - n) as u64);
    for (id, l) in all {
        let w = if l.seq != 0 {
            &mut *registered
        } else {
            &mut *others
        };
        put_str(w, text(id));
        if l.seq != 0 {
            put_u64(w, l.seq);
        }
        put_u64(w, l.stances as u64);
        put_u64(w, l.retracted as u64);
    }
}

/// The lines of `a` and `b` (each sorted by id) in one list sorted by id; `Err` when an id is
/// in both (an account's two sections name different ids).
fn union<K: Ord>(a: Vec<(K, Line)>, b: Vec<(K, Line)>) -> Result<Vec<(K, Line)>, String> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x.0 == y.0 => return Err("its account names an id twice".into()),
            (Some(x), Some(y)) if x.0 < y.0 => a.next(),
            (Some(_), None) => a.next(),
            (_, Some(_)) => b.next(),
            (None, None) => return Ok(out),
        };
        out.extend(next);
    }
}

/// [`Account::add_unregistered`] of the lines of actors or topics `r` reads (a second
/// section's: no seq), into `into`.
fn add_unregistered_lines<K>(
    r: &mut Reader<'_>,
    into: &mut [(K, Line)],
    text: impl Fn(&K) -> &str,
) -> Result<(), String> {
    let (mut at, mut last) = (0, None);
    for _ in 0..r.u64()? {
        let id = r.text_bytes()?;
        let (stances, retracted) = (r.u64()?, r.u64()?);
        if last.is_some_and(|l| l >= id) {
            return Err("its account is out of order".into());
        }
        last = Some(id);
        while into.get(at).is_some_and(|(k, _)| text(k).as_bytes() < id) {
            at += 1;
        }
        if let Some((k, l)) = into.get_mut(at)
            && text(k).as_bytes() == id
        {
            (l.stances, l.retracted) = (l.stances + stances as i64, l.retracted + retracted as i64);
        }
    }
    Ok(())
}

/// The lines of actors or topics of an account section read by `r` (of `size` bytes): with
/// their seq (none 0) when `registered` (the first section), else without (the second: seq
/// 0), checked to be sorted by id. An id that `known` (sorted) holds is cloned from it (its
/// text is shared), found by walking both sorted lists; any other is made and checked by
/// `make`. (Made anew, the ids of the later segments of an index, most of them in the first
/// one's account too, were about half of decoding their accounts.)
fn lines<K: Clone + Ord>(
    r: &mut Reader<'_>,
    size: usize,
    registered: bool,
    known: &[(K, Line)],
    make: impl Fn(&str) -> Result<K, crate::core::IdError>,
    text: impl Fn(&K) -> &str,
) -> Result<Vec<(K, Line)>, String> {
    let n = r.u64()?;
    // Sized up front (grown by doubling, the lines were copied over and over); a line takes
    // at least 21 bytes (29 with its seq), so a damaged count reserves no more than the bytes
    // allow.
    let mut out: Vec<(K, Line)> = Vec::with_capacity((n as usize).min(size / 21));
    let mut known = known.iter().peekable();
    for _ in 0..n {
        let id = utf8(r.text_bytes()?)?;
        let seq = if registered { r.u64()? } else { 0 };
        if registered && seq == 0 {
            return Err("its account registers an id at seq 0".into());
        }
        let (stances, retracted) = (r.u64()? as i64, r.u64()? as i64);
        while known.next_if(|(k, _)| text(k) < id).is_some() {}
        let id = match known.peek() {
            Some((k, _)) if text(k) == id => k.clone(),
            _ => make(id).map_err(|e| e.to_string())?,
        };
        if out.last().is_some_and(|(last, _)| *last >= id) {
            return Err("its account is out of order".into());
        }
        out.push((
            id,
            Line {
                seq,
                stances,
                retracted,
            },
        ));
    }
    Ok(out)
}

/// What one stance adds to the account as known at a cutoff: its actor and topic symbols (as
/// corrected by then), its date, whether it was retracted by then.
type Share = (u32, u32, ValidDate, bool);

fn share(h: &History, seq: Seq, cutoff: Seq) -> Option<Share> {
    let slot = h.stance_slot(seq)?;
    let (actor, topic, date, _) = h.stance_key(seq, slot, cutoff)?;
    let retracted = h.retracted_by(seq).is_some_and(|r| r <= cutoff);
    Some((actor, topic, date, retracted))
}

/// The account of the events `from + 1..=last` of `h` (which must hold them, and every stance
/// they correct or retract with all its notes): what they change in the account of the log up
/// to `from`. With `from` 0, the whole log's account.
pub(super) fn delta(h: &History, from: Seq, last: Seq) -> Account {
    let mut acc = Account::default();
    let mut actors: BTreeMap<ActorId, Line> = BTreeMap::new();
    let mut topics: BTreeMap<TopicId, Line> = BTreeMap::new();
    let touched = walk(&mut acc, h, from, last, &mut actors, &mut topics);
    // Differences by actor symbol, topic symbol and date: (stances, retracted); by symbol, not
    // id, so that a log's millions of stances cost no string comparisons. FxHash: SipHash was
    // a third of this function, which is an eighth of an import's pending thread; the maps are
    // read in key order below (actors and topics into sorted maps, dates sorted), so their
    // hasher changes nothing written.
    let mut by_actor: FxHashMap<u32, (i64, i64)> = FxHashMap::default();
    let mut by_topic: FxHashMap<u32, (i64, i64)> = FxHashMap::default();
    let mut by_date: FxHashMap<ValidDate, i64> = FxHashMap::default();
    let mut add = |s: Share, sign: i64| {
        let r = if s.3 { sign } else { 0 };
        let a = by_actor.entry(s.0).or_default();
        *a = (a.0 + sign, a.1 + r);
        let t = by_topic.entry(s.1).or_default();
        *t = (t.0 + sign, t.1 + r);
        *by_date.entry(s.2).or_default() += sign;
    };
    for seq in touched {
        if seq <= from
            && let Some(s) = share(h, seq, from)
        {
            add(s, -1);
        }
        if let Some(s) = share(h, seq, Seq::MAX) {
            add(s, 1);
        }
    }
    for (sym, (s, r)) in by_actor {
        let l = actors.entry(h.actor_syms.item(sym).clone()).or_default();
        (l.stances, l.retracted) = (l.stances + s, l.retracted + r);
    }
    for (sym, (s, r)) in by_topic {
        let l = topics.entry(h.topic_syms.item(sym).clone()).or_default();
        (l.stances, l.retracted) = (l.stances + s, l.retracted + r);
    }
    let mut dates: Vec<(u32, i64)> = by_date
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|(d, n)| (d.packed(), n))
        .collect();
    dates.sort_unstable();
    acc.dates = dates;
    let kept = |l: &Line| *l != Line::default();
    acc.actors = actors.into_iter().filter(|(_, l)| kept(l)).collect();
    acc.topics = topics.into_iter().filter(|(_, l)| kept(l)).collect();
    acc
}

/// Walks the events `from + 1..=last` of `h`: records their recorded-time runs in `acc`,
/// enters each new registration with its seq, and returns the stances whose share may have
/// changed (new stances, and the targets of new corrections and retractions), in seq order,
/// once each.
fn walk(
    acc: &mut Account,
    h: &History,
    from: Seq,
    last: Seq,
    actors: &mut BTreeMap<ActorId, Line>,
    topics: &mut BTreeMap<TopicId, Line>,
) -> Vec<Seq> {
    let mut touched: Vec<Seq> = Vec::new();
    for seq in from + 1..=last {
        if let Some(t) = h.recorded_at(seq)
            && acc.runs.last().is_none_or(|(_, prev)| *prev != t)
        {
            acc.runs.push((seq, t));
        }
        if h.stance_slot(seq).is_some() {
            touched.push(seq);
            continue;
        }
        let target = match h.other_body(seq) {
            Some(EventBody::ActorRegistered(a)) => {
                actors.entry(a.actor.clone()).or_default().seq = seq;
                continue;
            }
            Some(EventBody::TopicRegistered(t)) => {
                topics.entry(t.topic.clone()).or_default().seq = seq;
                continue;
            }
            Some(EventBody::StanceCorrected(c)) => c.target,
            Some(EventBody::StanceRetracted(r)) => r.target,
            _ => continue,
        };
        touched.extend(h.seq_of(&target));
    }
    touched.sort_unstable();
    touched.dedup();
    touched
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: Seq, stances: i64, retracted: i64) -> Line {
        Line {
            seq,
            stances,
            retracted,
        }
    }

    fn id(s: &str) -> ActorId {
        ActorId::new(s).expect("id")
    }

    fn day(d: &str) -> u32 {
        ValidDate::parse(d).expect("date").packed()
    }

    #[test]
    fn an_account_decodes_the_same_whatever_ids_are_known() {
        let account = Account {
            actors: vec![(id("a"), line(1, 2, 0)), (id("c"), line(0, 1, 1))],
            topics: vec![(TopicId::new("t1").expect("id"), line(3, 4, 0))],
            ..Account::default()
        };
        let known = Account {
            actors: vec![(id("b"), line(0, 0, 0)), (id("c"), line(9, 9, 9))],
            ..Account::default()
        };
        let (opened, others) = account.encode();
        assert_eq!(
            Account::decode(&opened, &others, &Account::default()),
            Ok(account.clone())
        );
        assert_eq!(
            Account::decode(&opened, &others, &known),
            Ok(account.clone())
        );
        // Out of order is refused, known ids or not.
        let swapped = Account {
            actors: vec![
                (id("c"), line(0, 1, 1)),
                (id("a"), line(1, 2, 0)),
                (id("b"), line(0, 1, 0)),
            ],
            ..account
        };
        let (opened, others) = swapped.encode();
        let err = Err("its account is out of order".to_string());
        assert_eq!(Account::decode(&opened, &others, &known), err);
        // An id in both sections is refused.
        let (opened, _) = Account {
            actors: vec![(id("b"), line(4, 1, 0))],
            ..Account::default()
        }
        .encode();
        let (_, others) = Account {
            actors: vec![(id("b"), line(0, 1, 0))],
            ..Account::default()
        }
        .encode();
        let err = Err("its account names an id twice".to_string());
        assert_eq!(Account::decode(&opened, &others, &known), err);
    }

    #[test]
    fn registered_lines_plus_the_others_counts_make_the_whole_sum() {
        let first = Account {
            dates: vec![(day("2001-01-01"), 3)],
            actors: vec![(id("a"), line(1, 2, 0)), (id("b"), line(2, 1, 0))],
            ..Account::default()
        };
        // The second segment registers c; its lines of a and z (registered nowhere) are
        // counts alone.
        let second = Account {
            dates: vec![(day("2001-01-01"), 1), (day("2002"), 2)],
            actors: vec![
                (id("a"), line(0, 1, 1)),
                (id("c"), line(5, 2, 0)),
                (id("z"), line(0, 4, 0)),
            ],
            ..Account::default()
        };
        let ((opened1, others1), (opened2, others2)) = (first.encode(), second.encode());
        let (one, actors1, topics1) = Account::decode_registered(&opened1).expect("first");
        let (two, actors2, topics2) = Account::decode_registered(&opened2).expect("second");
        assert!(Account::others_empty(others1.len()) && !Account::others_empty(others2.len()));
        assert_eq!(
            actors2.decode(ActorId::new),
            Ok(vec![(id("c"), line(5, 2, 0))])
        );
        assert_eq!(two.dates, second.dates);
        assert!(two.actors.is_empty() && topics2.len() == 0);
        let mut registered = Registered::default();
        registered.push(actors1, topics1);
        registered.push(actors2, topics2);
        let mut sum = one;
        sum.add(&two);
        sum.actors = registered.actor_lines().expect("lines");
        sum.topics = registered.topic_lines().expect("lines");
        sum.add_unregistered(&others1).expect("first");
        sum.add_unregistered(&others2).expect("second");
        let mut whole = first.clone();
        whole.add(&second);
        whole.actors.retain(|(_, l)| l.seq != 0);
        assert_eq!(sum, whole);
        assert_eq!(
            sum.actors,
            vec![
                (id("a"), line(1, 3, 1)),
                (id("b"), line(2, 1, 0)),
                (id("c"), line(5, 2, 0)),
            ]
        );
        assert_eq!(sum.dates, vec![(day("2001-01-01"), 4), (day("2002"), 2)]);
    }

    /// Given the registered lines of 40 ids (registered at seqs 100, 99, ...) in two segments
    /// and sets of wanted ids, some unknown, when their registrations are looked up, then both
    /// ways (a search per id for a few, a walk of the lines for many) give exactly the seqs of
    /// the known ones, and each id's seq and the counts are found.
    #[test]
    fn registered_lines_give_the_known_ids_seqs_by_search_and_by_walk() {
        let mut registered = Registered::default();
        for half in [0..20u64, 20..40] {
            let mut actors: Vec<(ActorId, Line)> = half
                .map(|i| (id(&format!("unvotes-rcid-{i}")), line(100 - i, 0, 0)))
                .collect();
            actors.sort_by(|a, b| a.0.cmp(&b.0));
            let (opened, _) = Account {
                actors,
                ..Account::default()
            }
            .encode();
            let (_, actors, topics) = Account::decode_registered(&opened).expect("decoded");
            registered.push(actors, topics);
        }
        let seqs_of = |wanted: &[&str]| {
            let set: FxHashSet<&str> = wanted.iter().copied().collect();
            let mut got = registered.actor_seqs_in(&set);
            got.sort_unstable();
            got
        };
        // Two ids: 2 x 6 searches < 40 lines, so searched for.
        assert_eq!(seqs_of(&["unvotes-rcid-7", "nowhere"]), [93]);
        // Twelve ids: 12 x 6 > 40, so the lines are walked.
        let many = [
            "unvotes-rcid-0",
            "unvotes-rcid-1",
            "unvotes-rcid-10",
            "unvotes-rcid-39",
            "unvotes-rcid-4",
            "unvotes-rcid-40",
            "unvotes-rcid-",
            "a",
            "z",
            "unvotes-rcid-5",
            "unvotes-rcid-6",
            "unvotes-rcid-3",
        ];
        assert_eq!(seqs_of(&many), [61, 90, 94, 95, 96, 97, 99, 100]);
        assert_eq!(seqs_of(&[]), Vec::<Seq>::new());
        assert_eq!(registered.actor("unvotes-rcid-25"), Some(75));
        assert_eq!(registered.actor("unvotes-rcid-41"), None);
        assert_eq!(
            (registered.actor_count(), registered.topic_count()),
            (40, 0)
        );
        let actors = registered.actor_lines().expect("lines");
        assert!(registered.topic_lines().expect("lines").is_empty() && actors.len() == 40);
        assert!(actors.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(actors[0], (id("unvotes-rcid-0"), line(100, 0, 0)));
    }

    #[test]
    fn adding_an_account_merges_its_lines_and_dates_by_key() {
        let mut whole = Account {
            dates: vec![(day("2001-01-01"), 2), (day("2003-01-01"), 1)],
            actors: vec![(id("b"), line(2, 3, 0)), (id("d"), line(4, 1, 1))],
            ..Account::default()
        };
        let later = Account {
            dates: vec![
                (day("2000-01-01"), 1),
                (day("2003-01-01"), -1),
                (day("2004"), 5),
            ],
            actors: vec![
                (id("a"), line(7, 1, 0)),
                (id("b"), line(0, -1, 1)),
                (id("c"), line(8, 0, 0)),
                (id("e"), line(9, 2, 0)),
            ],
            ..Account::default()
        };
        whole.add(&later);
        assert_eq!(
            whole.dates,
            vec![
                (day("2000-01-01"), 1),
                (day("2001-01-01"), 2),
                (day("2004"), 5)
            ]
        );
        assert_eq!(
            whole.actors,
            vec![
                (id("a"), line(7, 1, 0)),
                (id("b"), line(2, 2, 1)),
                (id("c"), line(8, 0, 0)),
                (id("d"), line(4, 1, 1)),
                (id("e"), line(9, 2, 0)),
            ]
        );
    }
}
