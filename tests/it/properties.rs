//! Properties of replay on generated logs: determinism (in the library and through the
//! binary), dependence on earlier-dated events only, split-and-resume folding (in memory, from
//! bytes cut anywhere, and through a writer reopened between batches), exact write/read round
//! trips, independence from append order, and the algebra of `diff`; plus positions checked
//! against a direct reading of their definition.
//!
//! Logs are generated valid: a few actors and topics are registered, then `stance.declared`
//! events whose stance fits the topic's kind, dated `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (sometimes
//! with a time of day) in 2020..=2024 so that dates collide, and `stance.retracted` events aimed
//! at earlier stances; events are stored in append batches of 1 to 4. Ids and recorded times are
//! fixed functions of the input, so every run sees the same bytes. The event types that amend
//! or link earlier events (`stance.corrected`, `stance.cited`, `actor.aliased`) are not
//! generated here.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proptest::prelude::*;
use proptest::sample::Index;
use uuid::Uuid;

use stancelog::core::{
    ActorId, ActorKind, ActorRegistered, ChangeKind, Cite, Country, Day, Event, EventBody,
    EventMeta, Filter, History, PloverType, Precision, Sector, Stance, StanceDeclared,
    StanceRetracted, Status, TimeOfDay, TopicId, TopicKind, TopicRegistered, ValidDate,
    parse_stated,
};
use stancelog::store::{
    AppendOptions, GENESIS_HASH, Hash, Log, NewEvent, Record, Writer, encode_batch, encode_log,
    parse_batch,
};

use crate::support::{run_log, stderr};

// ---------------------------------------------------------------------------------------------
// Generated input
// ---------------------------------------------------------------------------------------------

/// Id prefixes; the registration index is appended so ids stay unique. Some are not ASCII.
const ACTOR_PREFIXES: &[&str] = &[
    "kor-mnd",
    "prk-kcna",
    "rus-mfa",
    "국방부",
    "nato/sg",
    "ukr.gur",
];
const TOPIC_PREFIXES: &[&str] = &["dprk-troops", "claim:deployment", "sanctions", "파병"];
/// Times of day as sources give them: offsets, zones (the bundled tz database), and late or
/// early hours whose UTC date differs from the stated one.
const TIMES: &[&str] = &[
    "15:30:00+09:00",
    "06:10Z",
    "23:30:00+09:00",
    "00:15:00-05:00",
    "15:30:00[Asia/Seoul]",
    "08:00:00+09:00[Asia/Seoul]",
    "12:00:00[Europe/London]",
];
const COUNTRIES: &[&str] = &["KOR", "PRK", "RUS", "USA", "UKR", "IGO", "NGO", "YUG"];

#[derive(Debug, Clone)]
struct ActorSpec {
    prefix: &'static str,
    name: String,
    kind: ActorKind,
    country: &'static str,
    sector: Sector,
    aliases: Vec<String>,
}

#[derive(Debug, Clone)]
struct TopicSpec {
    prefix: &'static str,
    title: String,
    kind: TopicKind,
}

/// A `stance.declared`; `actor`, `topic`, `stance` and `recipient` are taken modulo what exists.
#[derive(Debug, Clone)]
struct Declare {
    actor: usize,
    topic: usize,
    stance: usize,
    date: ValidDate,
    /// A time of day, used only with a day-precision date.
    time: Option<&'static str>,
    event: Option<PloverType>,
    recipient: Option<usize>,
    quote: Option<String>,
    cite: Cite,
}

#[derive(Debug, Clone)]
enum Op {
    Declare(Declare),
    /// Retracts the `pick`-th (modulo) still-unretracted stance declared so far; skipped if none.
    Retract {
        pick: usize,
        reason: String,
    },
}

#[derive(Debug, Clone)]
struct Spec {
    actors: Vec<ActorSpec>,
    topics: Vec<TopicSpec>,
    ops: Vec<Op>,
    /// Microseconds between the recorded times of consecutive batches, less one (cycled; 0, the
    /// smallest step a writer takes, is common).
    gaps: Vec<i64>,
    /// Sizes of the append batches the events are stored in (cycled; one event each if empty).
    batch_sizes: Vec<usize>,
}

/// Non-blank text, sometimes with quotes, escapes, control characters and non-ASCII scripts.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z][A-Za-z .,'-]{0,15}",
        2 => "\\PC{1,12}",
        1 => any::<String>(),
        1 => prop::sample::select(vec![
            "김정은 \"quote\"\n\tnext line",
            "line\u{2028}separator",
            "back\\slash and /slash",
            "  padded  ",
            "\u{7f}\u{1b}[0m control",
            "emoji 🚀 and ZWJ 👩‍🔬",
        ])
        .prop_map(str::to_string),
    ]
    .prop_filter("blank text is refused by the log", |s| !s.trim().is_empty())
}

/// A valid date of year, month or day precision in 2020..=2024.
fn valid_date() -> impl Strategy<Value = ValidDate> {
    (2020i32..=2024, 1u32..=12, 1u32..=31, 0u8..3).prop_map(|(y, m, d, p)| {
        let d = if Day::from_ymd(y, m, d).is_some() {
            d
        } else {
            28
        };
        let text = match p {
            0 => format!("{y:04}"),
            1 => format!("{y:04}-{m:02}"),
            _ => format!("{y:04}-{m:02}-{d:02}"),
        };
        ValidDate::parse(&text).expect("generated date is valid")
    })
}

/// A query day, from just before to just after the range stances are dated in.
fn query_day() -> impl Strategy<Value = Day> {
    (2019i32..=2025, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| Day::from_ymd(y, m, d).expect("day 1..=28 exists"))
}

fn cite() -> impl Strategy<Value = Cite> {
    (
        text(),
        proptest::option::of("https://[a-z]{1,8}\\.example/[a-z0-9/?=&%-]{0,16}"),
        proptest::option::of(text()),
        proptest::option::of(valid_date()),
        proptest::option::of(text()),
    )
        .prop_map(|(publication, url, title, published, via)| Cite {
            publication,
            url,
            title,
            published,
            via,
        })
}

fn declare() -> impl Strategy<Value = Declare> {
    (
        (
            any::<usize>(),
            any::<usize>(),
            any::<usize>(),
            valid_date(),
            proptest::option::weighted(0.3, prop::sample::select(TIMES.to_vec())),
        ),
        (
            proptest::option::weighted(0.3, prop::sample::select(PloverType::ALL.to_vec())),
            proptest::option::weighted(0.3, any::<usize>()),
            proptest::option::weighted(0.4, text()),
            cite(),
        ),
    )
        .prop_map(
            |((actor, topic, stance, date, time), (event, recipient, quote, cite))| Declare {
                actor,
                topic,
                stance,
                date,
                time,
                event,
                recipient,
                quote,
                cite,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => declare().prop_map(Op::Declare),
        1 => (any::<usize>(), text()).prop_map(|(pick, reason)| Op::Retract { pick, reason }),
    ]
}

fn spec_with(max_ops: usize) -> impl Strategy<Value = Spec> {
    // Names often repeat (two actors of one name) and rarely follow the ids' order.
    let name = prop_oneof![
        2 => prop::sample::select(vec!["Kim", "Kim", "Lee", "Zhou", "kim"]).prop_map(String::from),
        3 => text(),
    ];
    let actor = (
        prop::sample::select(ACTOR_PREFIXES.to_vec()),
        name.clone(),
        prop::sample::select(ActorKind::ALL.to_vec()),
        prop::sample::select(COUNTRIES.to_vec()),
        prop::sample::select(Sector::ALL.to_vec()),
        prop::collection::vec(text(), 0..3),
    )
        .prop_map(|(prefix, name, kind, country, sector, aliases)| ActorSpec {
            prefix,
            name,
            kind,
            country,
            sector,
            aliases,
        });
    let topic = (
        prop::sample::select(TOPIC_PREFIXES.to_vec()),
        name,
        prop::sample::select(TopicKind::ALL.to_vec()),
    )
        .prop_map(|(prefix, title, kind)| TopicSpec {
            prefix,
            title,
            kind,
        });
    let gap = prop_oneof![
        3 => Just(0i64),
        2 => 0i64..1_000_000,
        1 => 0i64..86_400_000_000,
    ];
    (
        prop::collection::vec(actor, 1..=3),
        prop::collection::vec(topic, 1..=3),
        prop::collection::vec(op(), 0..=max_ops),
        prop::collection::vec(gap, 0..8),
        prop::collection::vec(1usize..=4, 0..6),
    )
        .prop_map(|(actors, topics, ops, gaps, batch_sizes)| Spec {
            actors,
            topics,
            ops,
            gaps,
            batch_sizes,
        })
}

fn spec() -> impl Strategy<Value = Spec> {
    spec_with(32)
}

// ---------------------------------------------------------------------------------------------
// Building events
// ---------------------------------------------------------------------------------------------

/// A fixed, non-trivial id for the `n`-th event built (hex letters test lower-case output).
fn id(n: usize) -> Uuid {
    Uuid::from_u128((0x0192_d4f7_5ce0_7abc_u128 << 64) | n as u128)
}

/// 2024-10-25T09:30:00Z.
fn recorded_base() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_729_848_600).expect("valid timestamp")
}

fn actor_id(spec: &Spec, i: usize) -> ActorId {
    let i = i % spec.actors.len();
    ActorId::new(&format!("{}-{i}", spec.actors[i].prefix)).expect("valid actor id")
}

fn topic_id(spec: &Spec, i: usize) -> TopicId {
    let i = i % spec.topics.len();
    TopicId::new(&format!("{}-{i}", spec.topics[i].prefix)).expect("valid topic id")
}

fn registrations(spec: &Spec) -> Vec<EventBody> {
    let mut out = Vec::new();
    for (i, a) in spec.actors.iter().enumerate() {
        out.push(EventBody::ActorRegistered(ActorRegistered {
            actor: actor_id(spec, i),
            name: a.name.clone(),
            kind: a.kind,
            country: Country::new(a.country).expect("valid country"),
            sector: a.sector,
            aliases: a.aliases.clone(),
        }));
    }
    for (i, t) in spec.topics.iter().enumerate() {
        out.push(EventBody::TopicRegistered(TopicRegistered {
            topic: topic_id(spec, i),
            title: t.title.clone(),
            kind: t.kind,
            resolution: None,
            session: None,
            issues: Vec::new(),
            important: None,
        }));
    }
    out
}

fn stance_declared(spec: &Spec, d: &Declare) -> StanceDeclared {
    let kind = spec.topics[d.topic % spec.topics.len()].kind;
    let fit: Vec<Stance> = Stance::ALL
        .iter()
        .copied()
        .filter(|s| s.fits(kind))
        .collect();
    let recipient = match (d.recipient, d.event) {
        (Some(r), _) => Some(actor_id(spec, r)),
        (None, Some(e)) if e.requires_recipient() => Some(actor_id(spec, d.actor + 1)),
        (None, _) => None,
    };
    let time = match d.time {
        Some(t) if d.date.precision() == Precision::Day => {
            let (date, time) = parse_stated(&format!("{}T{t}", d.date)).expect("valid time");
            assert_eq!(date, d.date, "a time of day never moves the date");
            time
        }
        _ => None,
    };
    StanceDeclared {
        actor: actor_id(spec, d.actor),
        topic: topic_id(spec, d.topic),
        stance: fit[d.stance % fit.len()],
        date: d.date,
        time,
        event: d.event,
        recipient,
        quote: d.quote.clone(),
        cite: d.cite.clone(),
        instrument: None,
    }
}

/// Appends the ops to `bodies` (ids from `id(bodies.len())` on), resolving retraction picks
/// among the stances in `live` (ids of unretracted stances, in declaration order), which it
/// updates.
fn push_ops(spec: &Spec, ops: &[Op], bodies: &mut Vec<(Uuid, EventBody)>, live: &mut Vec<Uuid>) {
    for op in ops {
        let n = bodies.len();
        match op {
            Op::Declare(d) => {
                bodies.push((id(n), EventBody::StanceDeclared(stance_declared(spec, d))));
                live.push(id(n));
            }
            Op::Retract { pick, reason } => {
                if live.is_empty() {
                    continue;
                }
                let target = live.remove(pick % live.len());
                bodies.push((
                    id(n),
                    EventBody::StanceRetracted(StanceRetracted {
                        target,
                        reason: reason.clone(),
                    }),
                ));
            }
        }
    }
}

/// The event bodies of a spec, with their ids, in append order.
fn bodies(spec: &Spec) -> Vec<(Uuid, EventBody)> {
    let mut out: Vec<(Uuid, EventBody)> = registrations(spec)
        .into_iter()
        .enumerate()
        .map(|(n, b)| (id(n), b))
        .collect();
    push_ops(spec, &spec.ops, &mut out, &mut Vec::new());
    out
}

/// The append batches of `n` events, as index ranges, sized as the spec says.
fn batches(spec: &Spec, n: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < n {
        let size = match spec.batch_sizes.as_slice() {
            [] => 1,
            sizes => sizes[out.len() % sizes.len()],
        };
        let end = (start + size).min(n);
        out.push(start..end);
        start = end;
    }
    out
}

/// Stamps seq (from 1) and recorded times on bodies: one time per batch, rising strictly from
/// batch to batch, to the microsecond, as a writer stamps them.
fn seal(spec: &Spec, bodies: Vec<(Uuid, EventBody)>) -> Vec<Event> {
    let mut at = recorded_base();
    let mut times = Vec::with_capacity(bodies.len());
    for (b, range) in batches(spec, bodies.len()).into_iter().enumerate() {
        if b > 0 {
            let gap = match spec.gaps.as_slice() {
                [] => 0,
                gaps => gaps[b % gaps.len()],
            };
            at += jiff::SignedDuration::from_micros(1 + gap);
        }
        times.extend(range.map(|_| at));
    }
    bodies
        .into_iter()
        .zip(times)
        .enumerate()
        .map(|(i, ((id, body), recorded_at))| Event {
            seq: i as u64 + 1,
            id,
            recorded_at,
            body,
        })
        .collect()
}

fn events(spec: &Spec) -> Vec<Event> {
    seal(spec, bodies(spec))
}

/// Checks and applies events onto a history; every generated event must be accepted.
fn apply_all(h: &mut History, events: &[Event]) {
    for e in events {
        if let Err(r) = h.check(&e.id, &e.body) {
            panic!("generated event seq {} refused: {r}", e.seq);
        }
        h.apply(e.clone());
    }
}

fn fold(events: &[Event]) -> History {
    let mut h = History::new();
    apply_all(&mut h, events);
    h
}

fn line(e: &Event) -> String {
    serde_json::to_string(&Record::from_event(e)).expect("serialize record")
}

/// A deciding event: its seq, id and recorded time, and the stored record of that seq (the
/// stance as first recorded).
fn deciding(h: &History, e: &EventMeta) -> String {
    let event = h.event(e.seq).expect("a deciding seq is in the history");
    format!("{} {} {:?} {}", e.seq, e.id, e.recorded_at, line(&event))
}

/// Where a stored log stands after a complete batch: events so far, bytes so far, head hash.
#[derive(Debug, Clone, Copy)]
struct Mark {
    events: usize,
    bytes: usize,
    head: Hash,
}

/// The stored bytes of a log holding these events, appended in the spec's batches, with a mark
/// at the start and after every batch.
fn encode(spec: &Spec, events: &[Event]) -> (Vec<u8>, Vec<Mark>) {
    let mut bytes = Vec::new();
    let mut marks = vec![Mark {
        events: 0,
        bytes: 0,
        head: GENESIS_HASH,
    }];
    for range in batches(spec, events.len()) {
        let prev = marks[marks.len() - 1].head;
        let (out, head) = encode_batch(&prev, &events[range.clone()]);
        bytes.extend_from_slice(&out);
        marks.push(Mark {
            events: range.end,
            bytes: bytes.len(),
            head,
        });
    }
    (bytes, marks)
}

fn read(bytes: &[u8]) -> Log {
    match Log::from_bytes("generated.jsonl", bytes) {
        Ok(log) => log,
        Err(e) => panic!("generated log refused: {e}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Observing a history
// ---------------------------------------------------------------------------------------------

fn day_of(d: jiff::civil::Date) -> Option<Day> {
    Day::from_ymd(i32::from(d.year()), d.month() as u32, d.day() as u32)
}

/// Days worth asking about: around every start and end of a stance date, plus the edges.
fn query_days(events: &[Event]) -> Vec<Day> {
    let mut days = BTreeSet::new();
    for (y, m, d) in [(2019, 12, 31), (2020, 1, 1), (2025, 1, 1), (2026, 1, 1)] {
        days.insert(Day::from_ymd(y, m, d).expect("edge day"));
    }
    for e in events {
        if let EventBody::StanceDeclared(s) = &e.body {
            for day in [s.date.start(), s.date.end()] {
                days.insert(day);
                days.extend(day.date().yesterday().ok().and_then(day_of));
                days.extend(day.date().tomorrow().ok().and_then(day_of));
            }
        }
    }
    days.into_iter().collect()
}

/// At most about `max` of the [`query_days`], evenly spread, first and last included.
fn some_query_days(events: &[Event], max: usize) -> Vec<Day> {
    let all = query_days(events);
    let step = all.len().div_ceil(max).max(1);
    let mut days: Vec<Day> = all.iter().copied().step_by(step).collect();
    if let Some(last) = all.last().filter(|d| days.last() != Some(d)) {
        days.push(*last);
    }
    days
}

/// Everything a history answers, rendered to one string: events, registrations and counts,
/// retractions, positions at every day, diffs between consecutive days, and the timeline.
/// Deciding events are rendered as their stored records, so every field is compared.
fn fingerprint(h: &History, days: &[Day]) -> String {
    use std::fmt::Write;
    let all = Filter::default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "seq_last {} date_last {:?}",
        h.seq_last(),
        h.date_last()
    );
    for e in h.events() {
        let _ = writeln!(
            out,
            "event {} seq_of={:?} retracted_by={:?}",
            line(&e),
            h.seq_of(&e.id),
            h.retracted_by(e.seq)
        );
    }
    let _ = writeln!(out, "actors {:?}", h.actors());
    let _ = writeln!(out, "topics {:?}", h.topics());
    let mut as_of: Vec<Option<Day>> = vec![None];
    as_of.extend(days.iter().copied().map(Some));
    for d in &as_of {
        let _ = writeln!(out, "positions as of {d:?}");
        for p in h.positions(*d, &all) {
            let _ = writeln!(
                out,
                "  {} {} {}",
                p.actor,
                p.stance.stance,
                deciding(h, &p.event)
            );
        }
    }
    for w in days.windows(2) {
        let _ = writeln!(out, "diff {} {}", w[0], w[1]);
        for c in h.diff(w[0], w[1], &all) {
            let _ = writeln!(
                out,
                "  {} {} {} {:?} {:?}",
                c.actor,
                c.topic,
                c.kind.as_str(),
                c.before.as_ref().map(|p| p.event.seq),
                c.after.as_ref().map(|p| p.event.seq)
            );
        }
    }
    for t in h.timeline(&all) {
        let _ = writeln!(
            out,
            "timeline {:?} {}",
            t.status,
            deciding(h, &t.position.event)
        );
    }
    out
}

type Pair = (String, String);

/// (actor, topic) -> (stance, id of the deciding event) as of a day.
fn position_map(h: &History, as_of: Option<Day>) -> BTreeMap<Pair, (Stance, Uuid)> {
    h.positions(as_of, &Filter::default())
        .into_iter()
        .map(|p| {
            (
                (p.stance.actor.to_string(), p.stance.topic.to_string()),
                (p.stance.stance, p.event.id),
            )
        })
        .collect()
}

fn stance_map(h: &History, as_of: Day) -> BTreeMap<Pair, Stance> {
    position_map(h, Some(as_of))
        .into_iter()
        .map(|(k, (s, _))| (k, s))
        .collect()
}

/// First day of the period, number of date parts (1 year, 2 month, 3 day), the stated instant
/// (none first), seq.
type CanonicalKey = (jiff::civil::Date, usize, Option<jiff::Timestamp>, u64);

/// Where a stance stands in canonical order, worked out from the date and time as written
/// rather than through `ValidDate`'s ordering or `TimeOfDay::instant`: the first day of the
/// period, then the precision (a partial date sorts before the first day of its period: `2024` <
/// `2024-01` < `2024-01-01`), then the instant the date and time of day name (a stance without a
/// time first), then seq.
fn canonical_key(date: &ValidDate, time: Option<&TimeOfDay>, seq: u64) -> CanonicalKey {
    let text = date.to_string();
    let parts: Vec<u32> = text
        .split('-')
        .map(|p| p.parse().expect("digits"))
        .collect();
    let (month, day) = (
        parts.get(1).copied().unwrap_or(1),
        parts.get(2).copied().unwrap_or(1),
    );
    let first = jiff::civil::Date::new(parts[0] as i16, month as i8, day as i8).expect("real day");
    let instant = time.map(|t| {
        let stated = format!("{text}T{}", t.as_str());
        if stated.contains('[') {
            jiff::fmt::temporal::DateTimeParser::new()
                .parse_zoned_datetime(&stated)
                .expect("zoned")
                .timestamp()
        } else {
            stated.parse::<jiff::Timestamp>().expect("timestamp")
        }
    });
    (first, parts.len(), instant, seq)
}

/// The position by a direct reading of the definition: the stance of the last unretracted
/// `stance.declared` of the pair in canonical order whose period starts on or before `as_of`.
fn oracle_map(events: &[Event], as_of: Option<Day>) -> BTreeMap<Pair, (Stance, Uuid)> {
    let retracted: BTreeSet<Uuid> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::StanceRetracted(r) => Some(r.target),
            _ => None,
        })
        .collect();
    let mut best: BTreeMap<Pair, (CanonicalKey, Stance, Uuid)> = BTreeMap::new();
    for e in events {
        let EventBody::StanceDeclared(s) = &e.body else {
            continue;
        };
        let key = canonical_key(&s.date, s.time.as_ref(), e.seq);
        if retracted.contains(&e.id) || as_of.is_some_and(|d| key.0 > d.date()) {
            continue;
        }
        let pair = (s.actor.to_string(), s.topic.to_string());
        match best.get(&pair) {
            Some(b) if b.0 > key => {}
            _ => {
                best.insert(pair, (key, s.stance, e.id));
            }
        }
    }
    best.into_iter()
        .map(|(k, (_, s, id))| (k, (s, id)))
        .collect()
}

/// A timeline entry by ids: the stance, its status, and the superseding or retracting event.
type Entry = (Uuid, &'static str, Option<Uuid>);

/// Each pair's timeline as ids with statuses, the superseding or retracting event named by id
/// (so that logs with different seqs compare).
fn timeline_by_pair(h: &History) -> BTreeMap<Pair, Vec<Entry>> {
    let id_of = |seq| h.event(seq).map(|e| e.id);
    let mut out: BTreeMap<Pair, Vec<_>> = BTreeMap::new();
    for t in h.timeline(&Filter::default()) {
        let s = t.position.stance;
        let by = match t.status {
            Status::Current => None,
            Status::Superseded { by } | Status::Retracted { by } => id_of(by),
        };
        out.entry((s.actor.to_string(), s.topic.to_string()))
            .or_default()
            .push((t.position.event.id, t.status.as_str(), by));
    }
    out
}

/// A diff with events named by id.
/// Where a pair is listed in tables, worked out from the spec rather than through the
/// history: the actor's name as registered, its id, the topic's title, its id, compared as
/// strings (byte order).
fn table_key(spec: &Spec, (actor, topic): &Pair) -> (String, String, String, String) {
    let a = (0..spec.actors.len())
        .find(|i| actor_id(spec, *i).as_str() == actor)
        .expect("a registered actor");
    let t = (0..spec.topics.len())
        .find(|i| topic_id(spec, *i).as_str() == topic)
        .expect("a registered topic");
    (
        spec.actors[a].name.clone(),
        actor.clone(),
        spec.topics[t].title.clone(),
        topic.clone(),
    )
}

fn diff_by_id(
    h: &History,
    from: Day,
    to: Day,
) -> Vec<(Pair, ChangeKind, Option<Uuid>, Option<Uuid>)> {
    h.diff(from, to, &Filter::default())
        .into_iter()
        .map(|c| {
            (
                (c.actor.to_string(), c.topic.to_string()),
                c.kind,
                c.before.as_ref().map(|p| p.event.id),
                c.after.as_ref().map(|p| p.event.id),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Definition. Positions agree with a direct reading of the definition at every day of interest.
    #[test]
    fn positions_follow_the_definition(spec in spec()) {
        let events = events(&spec);
        let h = fold(&events);
        prop_assert_eq!(position_map(&h, None), oracle_map(&events, None));
        for d in query_days(&events) {
            prop_assert_eq!(
                position_map(&h, Some(d)),
                oracle_map(&events, Some(d)),
                "as of {}", d
            );
        }
        // The timeline's current stances are exactly the latest positions.
        let current: BTreeSet<Uuid> = h
            .timeline(&Filter::default())
            .into_iter()
            .filter(|t| t.status == Status::Current)
            .map(|t| t.position.event.id)
            .collect();
        let latest: BTreeSet<Uuid> = position_map(&h, None).into_values().map(|(_, id)| id).collect();
        prop_assert_eq!(current, latest);
    }

    /// 2. Positions as of D depend only on stances dated on or before D: appending later-dated
    /// stances (and retractions of them) changes nothing up to D, and neither does removing them.
    #[test]
    fn positions_as_of_d_ignore_later_dated_stances(
        spec in spec(),
        extra in prop::collection::vec(op(), 1..=16),
        as_of in query_day(),
    ) {
        let base = bodies(&spec);
        let h = fold(&seal(&spec, base.clone()));
        let mut days: Vec<Day> = query_days(&h.events().collect::<Vec<_>>()).into_iter().filter(|d| *d <= as_of).collect();
        days.push(as_of);
        let before: Vec<_> = days.iter().map(|d| position_map(&h, Some(*d))).collect();

        // Appending: only declarations dated after D, and retractions of those.
        let later: Vec<Op> = extra
            .into_iter()
            .filter(|op| match op {
                Op::Declare(d) => d.date.start() > as_of,
                Op::Retract { .. } => true,
            })
            .collect();
        let mut grown = base.clone();
        push_ops(&spec, &later, &mut grown, &mut Vec::new());
        let grown = fold(&seal(&spec, grown));
        for (d, expected) in days.iter().zip(&before) {
            prop_assert_eq!(&position_map(&grown, Some(*d)), expected, "as of {} after appending", d);
        }

        // Removing: every stance dated after D, and every retraction of one.
        let mut dropped = BTreeSet::new();
        let mut kept = Vec::new();
        for (id, body) in &base {
            match body {
                EventBody::StanceDeclared(s) if s.date.start() > as_of => {
                    dropped.insert(*id);
                }
                EventBody::StanceRetracted(r) if dropped.contains(&r.target) => {}
                _ => kept.push((*id, body.clone())),
            }
        }
        let cut = fold(&seal(&spec, kept));
        for (d, expected) in days.iter().zip(&before) {
            prop_assert_eq!(&position_map(&cut, Some(*d)), expected, "as of {} after removing", d);
        }
    }

    /// 4. Every event round-trips write -> read exactly: the record, its JSON line, the stored
    /// line (the same record plus `batch_last` and `hash`, in canonical form), the event read
    /// back, and the bytes written again; batch lines (no seq or recorded time) round-trip
    /// their bodies.
    #[test]
    fn every_event_round_trips_write_then_read(spec in spec()) {
        let events = events(&spec);
        for e in &events {
            let record = Record::from_event(e);
            let text = line(e);
            let parsed: Record = serde_json::from_str(&text).expect("record parses");
            prop_assert_eq!(&parsed, &record);
            prop_assert_eq!(parsed.to_body(), Ok(e.body.clone()));
            prop_assert_eq!(serde_json::to_string(&parsed).expect("serialize"), text);
        }
        let (bytes, _) = encode(&spec, &events);
        let log = read(&bytes);
        prop_assert_eq!(log.torn_tail_bytes(), 0);
        prop_assert_eq!(log.history().events().collect::<Vec<_>>(), events.clone());
        prop_assert_eq!(&encode(&spec, &log.history().events().collect::<Vec<_>>()).0, &bytes);

        let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
        prop_assert_eq!(lines.len(), events.len());
        let ends: Vec<u64> = batches(&spec, events.len())
            .into_iter()
            .flat_map(|r| {
                let end = r.end as u64;
                r.map(move |_| end)
            })
            .collect();
        for ((stored, e), batch_last) in lines.iter().zip(&events).zip(ends) {
            let mut r: Record = serde_json::from_slice(stored).expect("stored record parses");
            // Canonical: re-serialising the record, or the generic JSON value, changes no byte.
            prop_assert_eq!(serde_json::to_vec(&r).expect("serialize"), stored.to_vec());
            let value: serde_json::Value = serde_json::from_slice(stored).expect("JSON");
            prop_assert_eq!(serde_json::to_vec(&value).expect("serialize"), stored.to_vec());
            prop_assert_eq!(r.batch_last, Some(batch_last));
            let hash = r.hash.take().expect("stored record has a hash");
            prop_assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            r.batch_last = None;
            prop_assert_eq!(&r, &Record::from_event(e));
        }

        if !events.is_empty() {
            let mut batch = Vec::new();
            for e in &events {
                let mut r = Record::from_body(&e.body);
                r.id = Some(e.id.hyphenated().to_string());
                batch.extend_from_slice(serde_json::to_string(&r).expect("serialize").as_bytes());
                batch.push(b'\n');
            }
            let parsed = match parse_batch("batch.jsonl", &batch) {
                Ok(p) => p,
                Err(err) => panic!("batch refused: {err}"),
            };
            prop_assert_eq!(parsed.len(), events.len());
            for (n, (new, e)) in parsed.iter().zip(&events).enumerate() {
                prop_assert_eq!(new.id, Some(e.id));
                prop_assert_eq!(&new.body, &e.body);
                prop_assert_eq!(new.line, n as u64 + 1);
            }
        }
    }

    /// 5. The order in which stances were appended does not change any position, diff or
    /// per-pair timeline, as long as stances of the same pair, date and stated instant keep
    /// their relative order (seq breaks that tie): stances of one day with different stated
    /// times may swap. Retractions are moved to the end, shuffled.
    #[test]
    fn append_order_of_stances_does_not_change_positions(
        spec in spec(),
        keys in prop::collection::vec(any::<u32>(), 40),
        retraction_keys in prop::collection::vec(any::<u32>(), 40),
    ) {
        let original = events(&spec);
        let all = bodies(&spec);
        let registered: Vec<_> = all.iter().filter(|(_, b)| matches!(b, EventBody::ActorRegistered(_) | EventBody::TopicRegistered(_))).cloned().collect();
        let declared: Vec<_> = all.iter().filter(|(_, b)| matches!(b, EventBody::StanceDeclared(_))).cloned().collect();
        let mut retracted: Vec<_> = all.iter().filter(|(_, b)| matches!(b, EventBody::StanceRetracted(_))).cloned().collect();

        // A random order of the declarations...
        let mut order: Vec<usize> = (0..declared.len()).collect();
        order.sort_by_key(|&i| keys[i % keys.len()]);
        // ...with each group of the same pair, date and instant put back in its original
        // relative order.
        let group = |i: usize| match &declared[i].1 {
            EventBody::StanceDeclared(s) => {
                (s.actor.clone(), s.topic.clone(), s.date, s.time.as_ref().map(TimeOfDay::instant))
            }
            _ => unreachable!("only declarations"),
        };
        let mut queues: HashMap<_, std::collections::VecDeque<usize>> = HashMap::new();
        for i in 0..declared.len() {
            queues.entry(group(i)).or_default().push_back(i);
        }
        let order: Vec<usize> = order
            .iter()
            .map(|&i| queues.get_mut(&group(i)).and_then(|q| q.pop_front()).expect("group member"))
            .collect();

        let mut retraction_order: Vec<usize> = (0..retracted.len()).collect();
        retraction_order.sort_by_key(|&i| retraction_keys[i % retraction_keys.len()]);
        let shuffled_retractions: Vec<_> = retraction_order.iter().map(|&i| retracted[i].clone()).collect();
        retracted = shuffled_retractions;

        let mut permuted = registered;
        permuted.extend(order.iter().map(|&i| declared[i].clone()));
        permuted.extend(retracted);
        let a = fold(&original);
        let b = fold(&seal(&spec, permuted));
        prop_assert_eq!(a.seq_last(), b.seq_last());

        let days = query_days(&original);
        prop_assert_eq!(position_map(&a, None), position_map(&b, None));
        for d in &days {
            prop_assert_eq!(position_map(&a, Some(*d)), position_map(&b, Some(*d)), "as of {}", d);
        }
        for w in days.windows(2) {
            prop_assert_eq!(diff_by_id(&a, w[0], w[1]), diff_by_id(&b, w[0], w[1]));
        }
        prop_assert_eq!(timeline_by_pair(&a), timeline_by_pair(&b));
        prop_assert_eq!(a.date_last(), b.date_last());
    }

    /// 6. diff(a, a) is empty, and applying diff(a, b) to the positions at a gives the positions
    /// at b; every change names the positions at a and b, and its kind fits them.
    #[test]
    fn diff_is_empty_on_one_date_and_maps_positions_at_a_to_b(
        spec in spec(),
        extra_a in query_day(),
        extra_b in query_day(),
    ) {
        let events = events(&spec);
        let h = fold(&events);
        let all = Filter::default();
        let mut days = query_days(&events);
        days.push(extra_a);
        days.push(extra_b);
        for d in &days {
            prop_assert!(h.diff(*d, *d, &all).is_empty(), "diff({d}, {d}) is not empty");
        }
        let mut pairs: Vec<(Day, Day)> = vec![(extra_a, extra_b), (extra_b, extra_a)];
        for w in days.windows(2) {
            pairs.push((w[0], w[1]));
            pairs.push((w[1], w[0]));
        }
        if let (Some(first), Some(last)) = (days.first(), days.last()) {
            pairs.push((*first, *last));
        }
        for (from, to) in pairs {
            let at_a = position_map(&h, Some(from));
            let at_b = position_map(&h, Some(to));
            let mut applied = stance_map(&h, from);
            let changes = h.diff(from, to, &all);
            let keys: Vec<_> = changes
                .iter()
                .map(|c| table_key(&spec, &(c.actor.to_string(), c.topic.to_string())))
                .collect();
            prop_assert!(keys.windows(2).all(|w| w[0] < w[1]), "diff not in table order: {:?}", keys);
            let listed: Vec<_> = h
                .positions(Some(to), &all)
                .iter()
                .map(|p| table_key(&spec, &(p.stance.actor.to_string(), p.stance.topic.to_string())))
                .collect();
            prop_assert!(listed.windows(2).all(|w| w[0] < w[1]), "positions not in table order: {:?}", listed);
            for c in &changes {
                let key = (c.actor.to_string(), c.topic.to_string());
                let before = c.before.as_ref().map(|p| (p.stance.stance, p.event.id));
                let after = c.after.as_ref().map(|p| (p.stance.stance, p.event.id));
                prop_assert_eq!(before, at_a.get(&key).copied());
                prop_assert_eq!(after, at_b.get(&key).copied());
                match (c.kind, before, after) {
                    (ChangeKind::Added, None, Some((s, _))) => {
                        applied.insert(key, s);
                    }
                    (ChangeKind::Changed, Some((x, _)), Some((y, _))) if x != y => {
                        applied.insert(key, y);
                    }
                    (ChangeKind::Removed, Some(_), None) => {
                        applied.remove(&key);
                    }
                    other => prop_assert!(false, "inconsistent change {:?}", other),
                }
            }
            prop_assert_eq!(applied, stance_map(&h, to), "diff {} -> {}", from, to);
        }
    }
}

proptest! {
    // These two compare whole fingerprints of several histories per case: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// 1. The same bytes fold to the same answers, rendered byte for byte, on every run; the
    /// folded events encode back to the same bytes, and the same events always encode alike.
    #[test]
    fn same_log_gives_identical_output_on_every_run(spec in spec()) {
        let events = events(&spec);
        let (bytes, marks) = encode(&spec, &events);
        prop_assert_eq!(&encode(&spec, &events).0, &bytes);
        prop_assert_eq!(encode_log(&events), encode_log(&events));
        let days = some_query_days(&events, 48);
        let first = read(&bytes);
        let second = read(&bytes);
        let a = fingerprint(first.history(), &days);
        let b = fingerprint(second.history(), &days);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(&a, &fingerprint(&fold(&events), &days));
        prop_assert_eq!(first.head_hash(), second.head_hash());
        prop_assert_eq!(first.head_hash(), marks[marks.len() - 1].head.to_hex());
        prop_assert_eq!(&encode(&spec, &first.history().events().collect::<Vec<_>>()).0, &bytes);
        // Asking again of the same history changes nothing either.
        prop_assert_eq!(&a, &fingerprint(first.history(), &days));
        // Nor does storing each event as a batch of its own.
        let single = read(&encode_log(&events));
        prop_assert_eq!(&a, &fingerprint(single.history(), &days));
    }

    /// 3. Folding a log split at any point and resumed equals folding it whole: in memory
    /// (with queries, a clone or a rollback at the split), and from bytes cut at a batch
    /// boundary or anywhere at all (what follows the last complete batch is a torn tail).
    #[test]
    fn folding_split_and_resumed_equals_folding_whole(
        spec in spec(),
        split in any::<Index>(),
        batch in any::<Index>(),
        cut in any::<Index>(),
    ) {
        let events = events(&spec);
        // The fingerprint lists every event, registration, count and retraction; a sample of
        // days is enough to cover the pair indexes behind positions and diffs.
        let days = some_query_days(&events, 24);
        let whole = fold(&events);
        let expected = fingerprint(&whole, &days);
        let k = split.index(events.len() + 1);

        // Apply the prefix, query it, then resume.
        let mut h = fold(&events[..k]);
        let prefix_print = fingerprint(&h, &days);
        let paused = h.clone();
        apply_all(&mut h, &events[k..]);
        prop_assert_eq!(&fingerprint(&h, &days), &expected);

        // A clone taken at the split resumes the same way.
        let mut resumed = paused;
        apply_all(&mut resumed, &events[k..]);
        prop_assert_eq!(&fingerprint(&resumed, &days), &expected);

        // Rolling the whole history back to the split gives the prefix, and resuming gives the whole.
        let mut rolled = whole.clone();
        rolled.rollback_to(k as u64);
        prop_assert_eq!(&fingerprint(&rolled, &days), &prefix_print);
        apply_all(&mut rolled, &events[k..]);
        prop_assert_eq!(&fingerprint(&rolled, &days), &expected);

        // From bytes: the file up to a batch boundary, then the rest applied, equals the whole
        // file; and so does that prefix with the rest written after it as one more batch.
        let (bytes, marks) = encode(&spec, &events);
        let whole_log = read(&bytes);
        prop_assert_eq!(whole_log.torn_tail_bytes(), 0);
        prop_assert_eq!(&fingerprint(whole_log.history(), &days), &expected);
        let mark = marks[batch.index(marks.len())];
        let prefix_log = read(&bytes[..mark.bytes]);
        prop_assert_eq!(prefix_log.torn_tail_bytes(), 0);
        prop_assert_eq!(prefix_log.head_hash(), mark.head.to_hex());
        prop_assert_eq!(
            &fingerprint(prefix_log.history(), &days),
            &fingerprint(&fold(&events[..mark.events]), &days)
        );
        let mut from_file = prefix_log.history().clone();
        apply_all(&mut from_file, &events[mark.events..]);
        prop_assert_eq!(&fingerprint(&from_file, &days), &expected);
        let mut rewritten = bytes[..mark.bytes].to_vec();
        let (rest, head) = encode_batch(&mark.head, &events[mark.events..]);
        rewritten.extend_from_slice(&rest);
        let rewritten = read(&rewritten);
        prop_assert_eq!(rewritten.head_hash(), head.to_hex());
        prop_assert_eq!(&fingerprint(rewritten.history(), &days), &expected);

        // Cut anywhere: the complete batches before the cut are read (a batch whose last
        // record lost only its newline is complete), the rest is a torn tail (an unterminated
        // line, or lines of a batch whose last record is missing).
        let b = cut.index(bytes.len() + 1);
        let torn = read(&bytes[..b]);
        let last = marks.iter().rev().find(|m| m.bytes <= b + 1).copied().expect("mark 0 is at 0");
        prop_assert_eq!(torn.torn_tail_bytes(), b.saturating_sub(last.bytes) as u64);
        prop_assert_eq!(torn.final_newline_missing(), last.bytes == b + 1);
        prop_assert_eq!(torn.head_hash(), last.head.to_hex());
        prop_assert_eq!(
            &fingerprint(torn.history(), &days),
            &fingerprint(&fold(&events[..last.events]), &days)
        );
        let mut healed = torn.history().clone();
        apply_all(&mut healed, &events[last.events..]);
        prop_assert_eq!(&fingerprint(&healed, &days), &expected);
    }
}

proptest! {
    // Each case creates a file and fsyncs every batch: keep the count small.
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// 3 (writer). Appending the batches through a writer, closing it at any batch and opening
    /// a new one to append the rest, writes exactly the bytes the batches encode to; each
    /// writer sees the log as it stands, and reading the file folds to the same history.
    #[test]
    fn writer_resumed_at_any_batch_writes_the_encoded_bytes(spec in spec_with(20), split in any::<Index>()) {
        let events = events(&spec);
        let (bytes, marks) = encode(&spec, &events);
        let days = query_days(&events);
        let ranges = batches(&spec, events.len());
        let reopen_at = split.index(ranges.len() + 1);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("log.jsonl");
        Log::create(&path).expect("create log");
        let wait = std::time::Duration::from_secs(5);
        let mut writer = Writer::open(&path, wait).expect("open writer");
        for (b, range) in ranges.iter().enumerate() {
            if b == reopen_at {
                drop(writer);
                writer = Writer::open(&path, wait).expect("reopen writer");
                prop_assert_eq!(
                    &fingerprint(writer.log().history(), &days),
                    &fingerprint(&fold(&events[..range.start]), &days)
                );
                prop_assert_eq!(writer.log().head_hash(), marks[b].head.to_hex());
            }
            let batch: Vec<NewEvent> = events[range.clone()]
                .iter()
                .enumerate()
                .map(|(n, e)| NewEvent { id: Some(e.id), body: e.body.clone(), line: n as u64 + 1 })
                .collect();
            let opts = AppendOptions {
                recorded_at: events[range.start].recorded_at,
                expect_seq: Some(range.start as u64),
                wait,
            };
            let report = match writer.append(&batch, "batch.jsonl", &opts) {
                Ok(r) => r,
                Err(e) => panic!("batch {b} refused: {e}"),
            };
            let seqs: Vec<u64> = report.events.iter().map(|a| a.seq).collect();
            let expected: Vec<u64> = events[range.clone()].iter().map(|e| e.seq).collect();
            prop_assert_eq!(seqs, expected);
            prop_assert!(report.events.iter().all(|a| !a.duplicate));
        }
        drop(writer);
        // Compared as text, so that a failure shows the lines.
        let written = String::from_utf8(std::fs::read(&path).expect("read log")).expect("UTF-8");
        prop_assert_eq!(written, String::from_utf8(bytes).expect("UTF-8"));
        let log = Log::open(&path).expect("open log");
        prop_assert_eq!(
            &fingerprint(log.history(), &days),
            &fingerprint(&fold(&events), &days)
        );
    }
}

proptest! {
    // Each case runs the binary four times: keep the count small.
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// 1 (binary). `positions --format json` prints the same bytes on every run of the real
    /// binary, with or without `--as-of`, and names the positions the library computes.
    #[test]
    fn binary_positions_json_is_byte_identical_across_runs(spec in spec_with(16), as_of in query_day()) {
        let events = events(&spec);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("log.jsonl");
        std::fs::write(&path, encode(&spec, &events).0).expect("write log");
        let h = fold(&events);
        let day = as_of.to_string();
        for (args, when) in [
            (vec!["positions", "--format", "json"], None),
            (vec!["positions", "--as-of", day.as_str(), "--format", "json"], Some(as_of)),
        ] {
            let first = run_log(&path, &args, None);
            let second = run_log(&path, &args, None);
            prop_assert!(first.status.success(), "{:?}: {}", args, stderr(&first));
            prop_assert!(second.status.success(), "{:?}: {}", args, stderr(&second));
            prop_assert_eq!(&first.stdout, &second.stdout);
            let v: serde_json::Value = serde_json::from_slice(&first.stdout).expect("JSON");
            let got: Vec<(String, String, String, String)> = v
                .as_array()
                .expect("array")
                .iter()
                .map(|p| {
                    let s = |k: &str| p[k].as_str().expect("string field").to_string();
                    (s("actor"), s("topic"), s("stance"), s("event_id"))
                })
                .collect();
            let expected: Vec<(String, String, String, String)> = h
                .positions(when, &Filter::default())
                .into_iter()
                .map(|p| {
                    (
                        p.stance.actor.to_string(),
                        p.stance.topic.to_string(),
                        p.stance.stance.to_string(),
                        p.event.id.hyphenated().to_string(),
                    )
                })
                .collect();
            prop_assert_eq!(got, expected);
        }
    }
}
