//! Replay and query benchmarks on a deterministic generated log of 100,000 events.
//!
//! Run: `cargo bench --bench replay` (about a minute on an idle 2-core machine, plus the build).
//! One benchmark: `cargo bench --bench replay -- query/diff`. Plain `cargo test` does not build
//! benchmarks (bench targets are not tested by default); `cargo test --bench replay` (or
//! `--benches`, `--all-targets`) builds this one in the test profile and runs each routine once
//! as a smoke test, and `cargo clippy --all-targets` lints it.
//!
//! The log ([`generate`]) is the same on every run: a splitmix64 PRNG with a fixed seed, ids
//! `Uuid::from_u128(seq)`, recorded times from a fixed start. It holds 200 actors (30 states,
//! 170 persons, 3-letter countries, CAMEO sectors), 500 topics (300 policy, 200 claim) and
//! 99,300 `stance.declared` / `stance.retracted` events (about 1% retractions). Actor and topic
//! choice is skewed, so some pairs have long histories and most have short ones; stances fit the
//! topic kind and mostly keep a pair's usual stance; about half name a PLOVER event type (with a
//! recipient where PLOVER requires one), a quarter carry a quote. Stance dates move from 1990 to
//! 2024 along the log with jitter, 8% are back-filled to an earlier date (the sorted-insert path
//! of the fold); 85% are `YYYY-MM-DD`, 10% `YYYY-MM`, 5% `YYYY`. Registrations are spread over
//! the first half of the log. Events are appended in batches of 250 an hour apart.
//!
//! The bodies are written as append-batch JSON and read back with `store::parse_batch`, so the
//! generator only names wire fields and keeps compiling when the domain types grow.
//! [`serialise`] turns the events, once and outside the timed part, into the exact bytes of the
//! log file: each batch of 250 through `store::encode_batch`, i.e. `Record::from_event` +
//! `serde_json` per event (one `\n`-terminated line each) plus the schema-2 `batch_last` and
//! chained `hash` fields that `Log::from_bytes` verifies (a bare `Record::from_event` line has no
//! hash and is refused).
//!
//! Benchmarks:
//! - `replay/parse_and_fold`: `Log::from_bytes` on those bytes (read from memory): split, parse,
//!   verify the hash chain, check and fold, as every command does on start-up after reading the
//!   file. Elements/s.
//! - `replay/fold_only`: `History::check` + `History::apply` of the pre-built events into a fresh
//!   history (the events are cloned in the untimed setup; the history is dropped untimed).
//!   `parse_and_fold - fold_only` is the cost of reading the records. Elements/s.
//! - `query/positions_as_of`: `positions(Some(2007-06-30), all)` on the folded history.
//! - `query/diff`: `diff(2000-01-01, 2010-12-31, all)` on the folded history.
//! - `query/positions_cli`: the whole process `stancelog --log FILE positions --as-of 2007-06-30
//!   --format json`, its output read through a pipe, on a temporary file holding the log.
//!
//! The binary: Cargo sets `CARGO_BIN_EXE_stancelog` when it compiles a benchmark and builds the
//! binary first, in the same profile; for `cargo bench` that is the `bench` profile, which
//! inherits `release`, so `query/positions_cli` runs `target/release/stancelog` with no separate
//! build step. (Under `cargo test --bench replay` it is the debug binary: a smoke test only.)
//!
//! Criterion measures wall time: on a machine shared with other builds the numbers rise with the
//! load; compare runs made under the same conditions.

// The allocator the stancelog binary uses (see src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use uuid::Uuid;

use serde_json::{Value, json};
use stancelog::core::{Day, Event, EventBody, Filter, History};
use stancelog::store::{GENESIS_HASH, Log, encode_batch, parse_batch};

/// Events in the generated log.
const EVENTS: usize = 100_000;
const ACTORS: usize = 200;
const TOPICS: usize = 500;
/// Events per append batch (one `recorded_at` each).
const BATCH: usize = 250;
/// The `--as-of` of the positions benchmarks.
const AS_OF: &str = "2007-06-30";
const DIFF_FROM: &str = "2000-01-01";
const DIFF_TO: &str = "2010-12-31";

/// splitmix64: a tiny, fixed-seed PRNG, so the log is the same on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index in `0..n` skewed towards 0: `n * u^power`.
    fn skewed(&mut self, n: usize, power: f64) -> usize {
        ((n as f64 * self.unit().powf(power)) as usize).min(n - 1)
    }
}

const COUNTRIES: &[(&str, &str)] = &[
    ("USA", "United States"),
    ("RUS", "Russia"),
    ("CHN", "China"),
    ("PRK", "North Korea"),
    ("KOR", "South Korea"),
    ("JPN", "Japan"),
    ("UKR", "Ukraine"),
    ("DEU", "Germany"),
    ("FRA", "France"),
    ("GBR", "United Kingdom"),
    ("IND", "India"),
    ("PAK", "Pakistan"),
    ("IRN", "Iran"),
    ("ISR", "Israel"),
    ("TUR", "Turkey"),
    ("BRA", "Brazil"),
    ("ZAF", "South Africa"),
    ("EGY", "Egypt"),
    ("SAU", "Saudi Arabia"),
    ("IDN", "Indonesia"),
    ("AUS", "Australia"),
    ("CAN", "Canada"),
    ("MEX", "Mexico"),
    ("POL", "Poland"),
    ("ITA", "Italy"),
    ("ESP", "Spain"),
    ("NGA", "Nigeria"),
    ("ARG", "Argentina"),
    ("VNM", "Vietnam"),
    ("PHL", "Philippines"),
];

const GIVEN: &[&str] = &[
    "Anna", "Boris", "Chen", "Dmitry", "Elena", "Farid", "Greta", "Hiroshi", "Ines", "Jae-won",
    "Karim", "Lena", "Miguel", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sergei", "Tomasz",
    "Uma", "Viktor", "Wei", "Yusuf", "Zofia",
];

const FAMILY: &[&str] = &[
    "Kim",
    "Ivanov",
    "Li",
    "Park",
    "Tanaka",
    "Schmidt",
    "Dubois",
    "Smith",
    "Sharma",
    "Khan",
    "Rahimi",
    "Cohen",
    "Yilmaz",
    "Silva",
    "Nkosi",
    "Haddad",
    "Santos",
    "Nguyen",
    "Kowalski",
    "Rossi",
    "Garcia",
    "Okafor",
    "Fernandez",
    "Reyes",
    "Brown",
];

/// Sectors of persons (states are `GOV`), weighted by repetition.
const PERSON_SECTORS: &[&str] = &[
    "GOV", "GOV", "GOV", "MIL", "MIL", "LEG", "LEG", "SPY", "OPP", "JUD",
];

const POLICY_ACTIONS: &[(&str, &str)] = &[
    ("sanctions", "Sanctions on {a} over {issue}"),
    ("arms", "Arms deliveries to {a}"),
    ("talks", "Direct talks between {a} and {b} on {issue}"),
    ("treaty", "A {a}-{b} treaty on {issue}"),
    ("aid", "Economic aid to {a}"),
    ("embargo", "An oil embargo on {a}"),
    ("troops", "Deploying troops to {a}"),
    (
        "resolution",
        "A UN Security Council resolution condemning {a} over {issue}",
    ),
];

const CLAIMS: &[(&str, &str)] = &[
    ("supplied", "{a} supplied weapons to {b}"),
    ("troops", "{a} troops are deployed in {b}"),
    ("tested", "{a} tested a ballistic missile"),
    ("violated", "{a} violated the ceasefire with {b}"),
    ("hacked", "{a} was behind the cyberattack on {b}"),
    ("enriched", "{a} is enriching uranium beyond agreed limits"),
];

const ISSUES: &[&str] = &[
    "its nuclear programme",
    "human rights",
    "the border dispute",
    "missile launches",
    "maritime claims",
    "election interference",
];

const OUTLETS: &[(&str, &str)] = &[
    ("Reuters", "www.reuters.com"),
    ("Associated Press", "apnews.com"),
    ("Agence France-Presse", "www.afp.com"),
    ("BBC News", "www.bbc.com"),
    ("The New York Times", "www.nytimes.com"),
    ("The Guardian", "www.theguardian.com"),
    ("Yonhap News Agency", "en.yna.co.kr"),
    ("Xinhua", "english.news.cn"),
    ("TASS", "tass.com"),
    ("Al Jazeera", "www.aljazeera.com"),
    ("Kyodo News", "english.kyodonews.net"),
    ("Deutsche Welle", "www.dw.com"),
];

const VIA: &[&str] = &[
    "Yonhap News Agency",
    "Interfax",
    "KCNA",
    "RIA Novosti",
    "Reuters",
];

const RETRACTION_REASONS: &[&str] = &[
    "the outlet withdrew the report",
    "the quote was misattributed; it was another official",
    "the outlet issued a correction: the statement was about a different topic",
    "duplicate entry of a stance already in the log",
];

/// A topic kind, with the stances that fit it: the wire names, each with a headline verb and
/// the PLOVER event types that fit it (`cooperate` and `sanction` require a recipient).
struct Kind {
    name: &'static str,
    stances: &'static [(&'static str, &'static str, &'static [&'static str])],
}

const POLICY: Kind = Kind {
    name: "policy",
    stances: &[
        ("support", "backs", &["support", "agree", "cooperate"]),
        (
            "oppose",
            "rejects",
            &["reject", "protest", "threaten", "sanction"],
        ),
        ("neutral", "declines to take sides on", &["consult"]),
        ("abstain", "abstains on", &[]),
    ],
};

const CLAIM: Kind = Kind {
    name: "claim",
    stances: &[
        ("affirm", "says it is true that", &["accuse"]),
        ("deny", "denies that", &["reject"]),
        ("doubt", "casts doubt on claims that", &["request"]),
    ],
};

/// PLOVER event types that require a recipient.
const NEEDS_RECIPIENT: &[&str] = &["cooperate", "aid", "sanction"];

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

struct GenActor {
    id: String,
    name: String,
}

struct GenTopic {
    id: String,
    title: String,
    kind: &'static Kind,
}

fn make_actor(i: usize, rng: &mut Rng) -> (GenActor, Value) {
    let (id, name, kind, country, sector, aliases) = if i < COUNTRIES.len() {
        let (code, name) = COUNTRIES[i];
        let aliases = if rng.chance(0.5) {
            vec![format!("Government of {name}")]
        } else {
            Vec::new()
        };
        (
            code.to_ascii_lowercase(),
            name.to_string(),
            "state",
            code,
            "GOV",
            aliases,
        )
    } else {
        let (code, _) = *rng.pick(COUNTRIES);
        let name = format!("{} {}", rng.pick(GIVEN), rng.pick(FAMILY));
        let aliases = if rng.chance(0.2) {
            vec![name.to_uppercase()]
        } else {
            Vec::new()
        };
        (
            format!("{}-{}-{i}", code.to_ascii_lowercase(), slug(&name)),
            name,
            "person",
            code,
            *rng.pick(PERSON_SECTORS),
            aliases,
        )
    };
    let mut body = json!({
        "type": "actor.registered", "actor": id, "name": name, "kind": kind,
        "country": country, "sector": sector,
    });
    if !aliases.is_empty() {
        body["aliases"] = json!(aliases);
    }
    (GenActor { id, name }, body)
}

fn make_topic(i: usize, rng: &mut Rng) -> (GenTopic, Value) {
    // 3 in 5 topics are policies.
    let (kind, (key, template)) = if i % 5 < 3 {
        (&POLICY, *rng.pick(POLICY_ACTIONS))
    } else {
        (&CLAIM, *rng.pick(CLAIMS))
    };
    let a = rng.pick(COUNTRIES).1;
    let b = rng.pick(COUNTRIES).1;
    let issue = *rng.pick(ISSUES);
    let title = template
        .replace("{a}", a)
        .replace("{b}", b)
        .replace("{issue}", issue);
    let id = format!("{key}-{}-{i}", slug(a));
    let body = json!({"type": "topic.registered", "topic": id, "title": title, "kind": kind.name});
    (GenTopic { id, title, kind }, body)
}

/// A stance date about `centre` (days since CE): jittered, sometimes back-filled, in 1990..=2024,
/// at day, month or year precision.
fn make_date(centre: i32, rng: &mut Rng) -> String {
    let (lo, hi) = (day_number(1990, 1, 1), day_number(2024, 12, 31));
    let days = if rng.chance(0.08) {
        lo + rng.below((centre - lo + 1) as usize) as i32
    } else {
        centre + rng.below(121) as i32 - 60
    }
    .clamp(lo, hi);
    let date = Day::from_days_from_ce(days).expect("date");
    match rng.below(100) {
        0..85 => date.to_string(),
        85..95 => format!("{:04}-{:02}", date.year(), date.month()),
        _ => format!("{:04}", date.year()),
    }
}

fn day_number(y: i32, m: u32, d: u32) -> i32 {
    Day::from_ymd(y, m, d).expect("date").days_from_ce()
}

/// The event bodies of the benchmark log, as append-batch JSON objects, in `seq` order.
fn generate_bodies() -> Vec<Value> {
    let mut rng = Rng(0x5eed_0f57_a9ce);
    let (first_day, last_day) = (day_number(1990, 1, 1), day_number(2024, 12, 31));
    let mut bodies: Vec<Value> = Vec::with_capacity(EVENTS);
    let mut actors: Vec<GenActor> = Vec::with_capacity(ACTORS);
    let mut topics: Vec<GenTopic> = Vec::with_capacity(TOPICS);
    // Seqs of the stance.declared events not yet retracted.
    let mut live: Vec<u64> = Vec::new();
    // Registrations are spread over the first half of the log, after an initial set.
    let (actors_start, topics_start) = (40, 80);
    let spread = EVENTS / 2;
    let actor_every = spread / (ACTORS - actors_start);
    let topic_every = spread / (TOPICS - topics_start);

    for i in 0..EVENTS {
        let seq = (i + 1) as u64;
        let body = if actors.len() < actors_start
            || (actors.len() < ACTORS && i >= actors_start + topics_start && i % actor_every == 0)
        {
            let (a, body) = make_actor(actors.len(), &mut rng);
            actors.push(a);
            body
        } else if topics.len() < topics_start || (topics.len() < TOPICS && i % topic_every == 1) {
            let (t, body) = make_topic(topics.len(), &mut rng);
            topics.push(t);
            body
        } else if !live.is_empty() && rng.chance(0.01) {
            let at = rng.below(live.len());
            let target = live.swap_remove(at);
            json!({
                "type": "stance.retracted",
                "target": Uuid::from_u128(u128::from(target)).to_string(),
                "reason": *rng.pick(RETRACTION_REASONS),
            })
        } else {
            let ai = rng.skewed(actors.len(), 2.0);
            let ti = rng.skewed(topics.len(), 1.5);
            let (actor, topic) = (&actors[ai], &topics[ti]);
            let kinds = topic.kind.stances;
            // A pair mostly keeps its usual stance.
            let usual = &kinds[(ai * 7 + ti * 13) % kinds.len()];
            let (stance, verb, fitting) = if rng.chance(0.85) {
                usual
            } else {
                rng.pick(kinds)
            };
            let centre = first_day + ((last_day - first_day) as usize * i / EVENTS) as i32;
            let date = make_date(centre, &mut rng);
            let mut body = json!({
                "type": "stance.declared", "actor": actor.id, "topic": topic.id,
                "stance": stance, "date": date,
            });
            let event = (!fitting.is_empty() && rng.chance(0.5)).then(|| *rng.pick(fitting));
            if let Some(e) = event {
                body["event"] = json!(e);
            }
            if event.is_some_and(|e| NEEDS_RECIPIENT.contains(&e)) || rng.chance(0.2) {
                let r = (ai + 1 + rng.below(actors.len() - 1)) % actors.len();
                body["recipient"] = json!(actors[r].id);
            }
            if rng.chance(0.25) {
                body["quote"] = json!(format!(
                    "We have been clear: our position on {} has not changed, and it will not \
                     change under pressure.",
                    topic.title.to_lowercase()
                ));
            }
            let (publication, domain) = *rng.pick(OUTLETS);
            let mut cite = json!({
                "publication": publication,
                "title": format!("{} {verb} {}", actor.name, topic.title),
            });
            if rng.chance(0.4) {
                cite["url"] = json!(format!(
                    "https://{domain}/world/{}/{seq}",
                    slug(&topic.title)
                ));
            }
            if rng.chance(0.6) {
                cite["published"] = json!(date);
            }
            if rng.chance(0.1) {
                cite["via"] = json!(*rng.pick(VIA));
            }
            body["cite"] = cite;
            live.push(seq);
            body
        };
        bodies.push(body);
    }
    assert_eq!(actors.len(), ACTORS, "all actors registered");
    assert_eq!(topics.len(), TOPICS, "all topics registered");
    bodies
}

/// The benchmark log: `EVENTS` events in `seq` order, the same on every run. The bodies go
/// through `parse_batch`, as an append's input does; the log's fields are fixed: id
/// `Uuid::from_u128(seq)`, batches of `BATCH` events recorded an hour apart.
fn generate() -> Vec<Event> {
    let recorded_start: jiff::Timestamp = "2025-01-06T09:00:00Z".parse().expect("time");
    let bodies = generate_bodies();
    let mut events = Vec::with_capacity(EVENTS);
    for (b, chunk) in bodies.chunks(BATCH).enumerate() {
        let mut text = Vec::new();
        for body in chunk {
            serde_json::to_writer(&mut text, body).expect("json");
            text.push(b'\n');
        }
        let recorded_at = recorded_start + jiff::SignedDuration::from_hours(b as i64);
        for new in parse_batch("generated", &text).expect("generated events parse") {
            let seq = events.len() as u64 + 1;
            events.push(Event {
                seq,
                id: Uuid::from_u128(u128::from(seq)),
                recorded_at,
                body: new.body,
            });
        }
    }
    events
}

/// The log file's bytes, as the writer stores them: canonical JSON lines (`Record::from_event`
/// + `serde_json`) with the hash chain, one batch per `BATCH` events (one `recorded_at` each).
fn serialise(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.len() * 520);
    let mut head = GENESIS_HASH;
    for batch in events.chunks(BATCH) {
        let (bytes, next) = encode_batch(&head, batch);
        out.extend_from_slice(&bytes);
        head = next;
    }
    out
}

/// The generated log, built once per benchmark process.
struct Fixture {
    events: Vec<Event>,
    bytes: Vec<u8>,
    history: History,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let events = generate();
        let bytes = serialise(&events);
        let log = Log::from_bytes("bench.jsonl", &bytes).expect("generated log replays");
        let history = log.history().clone();
        assert_eq!(history.seq_last(), EVENTS as u64);
        let retracted = events
            .iter()
            .filter(|e| matches!(e.body, EventBody::StanceRetracted(_)))
            .count();
        eprintln!(
            "generated log: {} events, {} bytes ({:.0} bytes/event), {} actors, {} topics, \
             {} retractions, {} (actor, topic) pairs with a position; positions as of {AS_OF}: {}, \
             diff {DIFF_FROM}..{DIFF_TO}: {} changes",
            events.len(),
            bytes.len(),
            bytes.len() as f64 / events.len() as f64,
            history.actors().len(),
            history.topics().len(),
            retracted,
            history.positions(None, &Filter::default()).len(),
            history
                .positions(Some(day(AS_OF)), &Filter::default())
                .len(),
            history
                .diff(day(DIFF_FROM), day(DIFF_TO), &Filter::default())
                .len(),
        );
        Fixture {
            events,
            bytes,
            history,
        }
    })
}

fn day(text: &str) -> Day {
    Day::parse(text).expect("day")
}

fn replay(c: &mut Criterion) {
    let fx = fixture();
    let mut group = c.benchmark_group("replay");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(12))
        .throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("parse_and_fold", |b| {
        b.iter_with_large_drop(|| {
            Log::from_bytes("bench.jsonl", black_box(&fx.bytes)).expect("replay")
        });
    });
    group.bench_function("fold_only", |b| {
        b.iter_batched(
            || fx.events.clone(),
            |events| {
                let mut history = History::new();
                for event in events {
                    history.check(&event.id, &event.body).expect("check");
                    history.apply(event);
                }
                history
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn query(c: &mut Criterion) {
    let fx = fixture();
    let all = Filter::default();
    let mut group = c.benchmark_group("query");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group.bench_function("positions_as_of", |b| {
        let as_of = Some(day(AS_OF));
        b.iter(|| fx.history.positions(black_box(as_of), &all));
    });
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function("diff", |b| {
        let (from, to) = (day(DIFF_FROM), day(DIFF_TO));
        b.iter(|| fx.history.diff(black_box(from), black_box(to), &all));
    });

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bench.jsonl");
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(&fx.bytes))
        .expect("write log file");
    let bin = env!("CARGO_BIN_EXE_stancelog");
    let run = || {
        let out = Command::new(bin)
            .arg("--log")
            .arg(&path)
            .args(["positions", "--as-of", AS_OF, "--format", "json"])
            .env_remove("STANCELOG_LOG")
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .expect("run stancelog");
        assert!(out.status.success(), "stancelog positions failed");
        out.stdout
    };
    // Once untimed: the output is the positions the library computes.
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&run()).expect("JSON output");
    assert_eq!(
        rows.len(),
        fx.history
            .positions(Some(day(AS_OF)), &Filter::default())
            .len()
    );
    group.measurement_time(Duration::from_secs(12));
    group.bench_function("positions_cli", |b| b.iter(run));
    group.finish();
}

criterion_group!(benches, replay, query);
criterion_main!(benches);
