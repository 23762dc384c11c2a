//! A deterministic generator of large logs for the scaling benchmarks (`benches/scaling.sh`):
//! 5,000 actors, 20,000 topics, N stances dated over 35 years (1990 to 2024), a fifth of them
//! with a quote, one in a hundred corrected (its stance) and one in two hundred retracted, a
//! correction or retraction following its stance by a thousand or two stances. Appended through
//! one `Writer` in batches of 100,000 events with fixed recorded times, so every run writes the
//! same bytes; the projection index is built once at the end.
//!
//! Usage: `cargo bench --bench gen_stances -- LOG N` (LOG must not exist).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use uuid::Uuid;

use stancelog::core::{
    ActorId, ActorKind, ActorRegistered, Cite, Correction, Country, EventBody, Sector, Stance,
    StanceCorrected, StanceDeclared, StanceRetracted, TopicId, TopicKind, TopicRegistered,
    ValidDate,
};
use stancelog::store::{AppendOptions, Log, NewEvent, Writer};

const ACTORS: u64 = 5_000;
const TOPICS: u64 = 20_000;
const BATCH: usize = 100_000;
const STANCES: [Stance; 3] = [Stance::Support, Stance::Oppose, Stance::Neutral];

fn actor(i: u64) -> ActorId {
    ActorId::new(&format!("a{:04}", i % ACTORS)).expect("actor id")
}

fn topic(i: u64) -> TopicId {
    TopicId::new(&format!("t{:05}", i % TOPICS)).expect("topic id")
}

fn id(kind: u128, i: u64) -> Uuid {
    Uuid::from_u128((0x5ca1_e000_0000_7000_8000_0000_0000_0000 | (kind << 64)) + u128::from(i))
}

/// Stance `i`: actor, topic, stance and date from a fixed mixing of `i`.
fn stance(i: u64) -> StanceDeclared {
    let mix = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let day = (mix >> 20) % 12_775;
    let date = jiff::civil::date(1990, 1, 1) + jiff::SignedDuration::from_hours(24 * day as i64);
    StanceDeclared {
        actor: actor(mix >> 40),
        topic: topic(i.wrapping_mul(7919) ^ (mix >> 8)),
        stance: STANCES[(mix % 3) as usize],
        date: ValidDate::parse(&date.to_string()).expect("date"),
        time: None,
        event: None,
        recipient: None,
        quote: i
            .is_multiple_of(5)
            .then(|| format!("Statement number {i}, as the source quotes it.")),
        cite: Cite {
            publication: format!("Source {}", i % 97),
            url: None,
            title: None,
            published: None,
            via: None,
        },
        instrument: None,
    }
}

/// The events that follow stance `i`: the stance, then a correction or a retraction of an
/// earlier one (targets are distinct, never both corrected and retracted).
fn events_at(i: u64, out: &mut Vec<NewEvent>) {
    let line = out.len() as u64 + 1;
    out.push(NewEvent {
        id: Some(id(1, i)),
        body: EventBody::StanceDeclared(stance(i)),
        line,
    });
    if i.is_multiple_of(100) && i >= 1_000 {
        let t = i - 1_000;
        let s = stance(t).stance;
        let correction = Correction {
            stance: Some(STANCES[(STANCES.iter().position(|x| *x == s).unwrap_or(0) + 1) % 3]),
            ..Correction::default()
        };
        out.push(NewEvent {
            id: Some(id(2, i)),
            body: EventBody::StanceCorrected(StanceCorrected {
                target: id(1, t),
                correction,
                reason: "coded wrong".into(),
            }),
            line,
        });
    }
    if i % 200 == 7 && i >= 2_007 {
        out.push(NewEvent {
            id: Some(id(3, i)),
            body: EventBody::StanceRetracted(StanceRetracted {
                target: id(1, i - 2_000),
                reason: "withdrawn".into(),
            }),
            line,
        });
    }
}

fn registrations() -> Vec<NewEvent> {
    let mut out = Vec::new();
    for a in 0..ACTORS {
        out.push(NewEvent {
            id: Some(id(4, a)),
            body: EventBody::ActorRegistered(ActorRegistered {
                actor: actor(a),
                name: format!("Actor {a}"),
                kind: ActorKind::State,
                country: Country::new("USA").expect("country"),
                sector: Sector::Gov,
                aliases: Vec::new(),
            }),
            line: a + 1,
        });
    }
    for t in 0..TOPICS {
        out.push(NewEvent {
            id: Some(id(5, t)),
            body: EventBody::TopicRegistered(TopicRegistered {
                topic: topic(t),
                title: format!("Topic {t}"),
                kind: TopicKind::Policy,
                resolution: None,
                session: None,
                issues: vec![["nu", "hr", "me", "co"][(t % 4) as usize].to_string()],
                important: None,
            }),
            line: t + 1,
        });
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (Some(path), Some(n)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: cargo bench --bench gen_stances -- LOG N");
        std::process::exit(2);
    };
    let path = PathBuf::from(path);
    Log::create(&path).expect("a new log");
    let start = Instant::now();
    let mut w = Writer::open(&path, Duration::from_secs(5)).expect("writer");
    w.defer_index();
    let mut clock = jiff::Timestamp::from_second(1_767_225_600).expect("time");
    let opts = |clock: &mut jiff::Timestamp| {
        *clock += jiff::SignedDuration::from_secs(1);
        AppendOptions {
            recorded_at: *clock,
            expect_seq: None,
            wait: Duration::from_secs(5),
        }
    };
    for chunk in registrations().chunks(BATCH) {
        w.append(chunk, "generated", &opts(&mut clock))
            .expect("append");
    }
    let mut batch = Vec::with_capacity(BATCH + 16);
    for i in 0..n {
        events_at(i, &mut batch);
        // A stance brings at most two more events: no batch passes BATCH_EVENTS_MAX.
        if batch.len() + 3 > BATCH || i + 1 == n {
            w.append(&batch, "generated", &opts(&mut clock))
                .expect("append");
            batch.clear();
        }
    }
    let appended = start.elapsed();
    if let Some(warning) = w.update_index().expect("the last batch stored") {
        eprintln!("{warning}");
    }
    let events = w.log().history().seq_last();
    println!(
        "{}: {n} stances, {events} events; appended in {:.1} s, index built in {:.1} s",
        path.display(),
        appended.as_secs_f64(),
        (start.elapsed() - appended).as_secs_f64()
    );
}
