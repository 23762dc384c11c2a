//! Agreement and trend: hand-computed cases, properties, and the CLI on the seed log.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use uuid::Uuid;

use stancelog::core::{
    ActorId, ActorKind, ActorRegistered, By, Cite, Correction, Country, Event, EventBody, Filter,
    History, Measure, PairTally, Sector, Selection, Stance, StanceCorrected, StanceDeclared,
    StanceRetracted, Status, TopicId, TopicKind, TopicRegistered, ValidDate,
};

use crate::support::{json, run_log, seed_log, stderr};

/// A history built event by event, each recorded one second after the one before.
pub struct Build {
    pub h: History,
    seq: u64,
}

impl Build {
    pub fn new() -> Build {
        Build {
            h: History::new(),
            seq: 0,
        }
    }

    /// The recorded time of a seq.
    pub fn time(seq: u64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_700_000_000 + seq as i64).unwrap()
    }

    /// Checks and applies one event; returns its id.
    pub fn add(&mut self, body: EventBody) -> Uuid {
        self.seq += 1;
        let id = Uuid::from_u128(u128::from(self.seq));
        if let Err(r) = self.h.check(&id, &body) {
            panic!("event {} refused: {r}", self.seq);
        }
        self.h.apply(Event {
            seq: self.seq,
            id,
            recorded_at: Build::time(self.seq),
            body,
        });
        id
    }

    pub fn state(&mut self, id: &str) {
        self.add(EventBody::ActorRegistered(ActorRegistered {
            actor: ActorId::new(id).unwrap(),
            name: format!("State {id}"),
            kind: ActorKind::State,
            country: Country::new("USA").unwrap(),
            sector: Sector::Gov,
            aliases: vec![],
        }));
    }

    pub fn topic(&mut self, id: &str, kind: TopicKind, session: Option<u32>) {
        self.add(EventBody::TopicRegistered(TopicRegistered {
            topic: TopicId::new(id).unwrap(),
            title: format!("Topic {id}"),
            kind,
            resolution: None,
            session,
            issues: vec!["x".to_string()],
            important: None,
        }));
    }

    pub fn stance(&mut self, actor: &str, topic: &str, stance: Stance, date: &str) -> Uuid {
        self.add(EventBody::StanceDeclared(StanceDeclared {
            actor: ActorId::new(actor).unwrap(),
            topic: TopicId::new(topic).unwrap(),
            stance,
            date: ValidDate::parse(date).unwrap(),
            time: None,
            event: None,
            recipient: None,
            quote: None,
            cite: Cite {
                publication: "test".to_string(),
                url: None,
                title: None,
                published: None,
                via: None,
            },
            instrument: None,
        }))
    }
}

fn sel(by: By) -> Selection {
    Selection {
        known: None,
        filter: Filter::default(),
        by,
        from: None,
        to: None,
    }
}

/// (a, b, period) -> (common, values of every measure).
type Table = BTreeMap<(String, String, i64), (u64, Vec<Option<f64>>)>;

fn table(pairs: &[PairTally]) -> Table {
    pairs
        .iter()
        .map(|p| {
            let values = Measure::ALL.iter().map(|m| p.tally.measure(*m)).collect();
            (
                (p.a.to_string(), p.b.to_string(), p.period),
                (p.tally.common(), values),
            )
        })
        .collect()
}

fn close(got: Option<f64>, want: f64) {
    let got = got.expect("defined");
    assert!((got - want).abs() < 1e-12, "got {got}, want {want}");
}

/// Given three states voting on five roll calls in 1990 and 1991, then the pairs per year are
/// the ones computed by hand in the comments.
fn votes() -> Build {
    use Stance::{Abstain, No, Yes};
    let mut b = Build::new();
    for s in ["AAA", "BBB", "CCC"] {
        b.state(s);
    }
    for (t, session) in [("r1", 45), ("r2", 45), ("r3", 45), ("r4", 46), ("r5", 46)] {
        b.topic(t, TopicKind::Vote, Some(session));
    }
    // 1990: r1, r2, r3. AAA yes yes no; BBB yes abstain yes; CCC only r1 no.
    for (a, t, s) in [
        ("AAA", "r1", Yes),
        ("AAA", "r2", Yes),
        ("AAA", "r3", No),
        ("BBB", "r1", Yes),
        ("BBB", "r2", Abstain),
        ("BBB", "r3", Yes),
        ("CCC", "r1", No),
    ] {
        b.stance(a, t, s, "1990-12-01");
    }
    // 1991: r4, r5; AAA yes no, BBB yes no.
    for (a, t, s) in [
        ("AAA", "r4", Yes),
        ("AAA", "r5", No),
        ("BBB", "r4", Yes),
        ("BBB", "r5", No),
    ] {
        b.stance(a, t, s, "1991-10-01");
    }
    b
}

#[test]
fn agreement_by_year_matches_the_hand_computation() {
    let b = votes();
    let got = table(&b.h.agreement(&sel(By::Year), 1, false));
    assert_eq!(got.len(), 4, "{got:?}");
    // AAA-BBB 1990: (yes,yes) (yes,abstain) (no,yes): agree 1/3, Voeten (1 + .5 + 0)/3 = 0.5,
    // S = 1 - 2 * (0+1+2)/3 / 2 = 0, p_o = 1/3; shares (no,abs,yes) a = (1,0,2)/3,
    // b = (0,1,2)/3: kappa p_e = 4/9, kappa = (3/9 - 4/9) / (5/9) = -0.2;
    // pooled (1,1,4)/6: pi p_e = 18/36 = 0.5, pi = (1/3 - 1/2) / (1/2) = -1/3.
    let (common, v) = &got[&("AAA".into(), "BBB".into(), 1990)];
    assert_eq!(*common, 3);
    close(v[0], 1.0 / 3.0);
    close(v[1], 0.5);
    close(v[2], 0.0);
    close(v[3], -1.0 / 3.0);
    close(v[4], -0.2);
    // AAA-CCC 1990: one topic, (yes, no): agree 0, Voeten 0, S -1; p_o 0, kappa p_e 0 -> 0,
    // pi pooled (1/2, 0, 1/2) -> p_e 1/2, pi -1.
    let (common, v) = &got[&("AAA".into(), "CCC".into(), 1990)];
    assert_eq!(*common, 1);
    close(v[0], 0.0);
    close(v[2], -1.0);
    close(v[3], -1.0);
    close(v[4], 0.0);
    // BBB-CCC 1990: (yes, no) likewise.
    assert_eq!(got[&("BBB".into(), "CCC".into(), 1990)].0, 1);
    // AAA-BBB 1991: (yes,yes) (no,no): all 1.
    let (common, v) = &got[&("AAA".into(), "BBB".into(), 1991)];
    assert_eq!(*common, 2);
    for x in v {
        close(*x, 1.0);
    }
    // By session, the same split (45 = 1990, 46 = 1991); by none, AAA-BBB over five topics:
    // agree 3/5.
    let sessions = table(&b.h.agreement(&sel(By::Session), 1, false));
    assert_eq!(sessions[&("AAA".into(), "BBB".into(), 45)].0, 3);
    let all = table(&b.h.agreement(&sel(By::None), 1, false));
    let (common, v) = &all[&("AAA".into(), "BBB".into(), 0)];
    assert_eq!(*common, 5);
    close(v[0], 3.0 / 5.0);
    // --min-common 2 leaves out the pairs with CCC.
    let min2 = table(&b.h.agreement(&sel(By::Year), 2, false));
    assert_eq!(min2.len(), 2);
}

#[test]
fn only_the_last_stance_in_the_period_counts_and_corrections_retractions_and_known_at_apply() {
    use Stance::{Abstain, No, Yes};
    let mut b = Build::new();
    b.state("AAA");
    b.state("BBB");
    b.topic("r1", TopicKind::Vote, None);
    b.topic("r2", TopicKind::Vote, None);
    b.stance("AAA", "r1", No, "1990-01-01");
    b.stance("AAA", "r1", Yes, "1990-06-01"); // the last in 1990 decides: yes
    b.stance("BBB", "r1", Yes, "1990-03-01");
    let r2 = b.stance("AAA", "r2", Yes, "1990-03-01");
    let r2b = b.stance("BBB", "r2", No, "1990-03-01");
    let before = b.h.seq_last();
    let one = |h: &History, known| {
        let s = Selection {
            known,
            ..sel(By::Year)
        };
        table(&h.agreement(&s, 1, false))[&("AAA".into(), "BBB".into(), 1990)].clone()
    };
    // r1 agree, r2 disagree.
    let (common, v) = one(&b.h, None);
    assert_eq!(common, 2);
    close(v[0], 0.5);
    // BBB's r2 vote corrected to abstain, AAA's r2 vote retracted.
    b.add(EventBody::StanceCorrected(StanceCorrected {
        target: r2b,
        correction: Correction {
            stance: Some(Abstain),
            ..Correction::default()
        },
        reason: "miscoded".to_string(),
    }));
    let corrected = one(&b.h, None);
    close(corrected.1[1], (1.0 + 0.5) / 2.0);
    b.add(EventBody::StanceRetracted(StanceRetracted {
        target: r2,
        reason: "not a vote".to_string(),
    }));
    let (common, v) = one(&b.h, None);
    assert_eq!(common, 1);
    close(v[0], 1.0);
    // As known before the correction and the retraction: the first answer again.
    let (common, v) = one(&b.h, Some(before));
    assert_eq!(common, 2);
    close(v[0], 0.5);
}

/// A generated vote log: states, roll calls with dates, and each state's votes.
fn vote_log() -> impl Strategy<Value = Vec<(usize, usize, Stance, String)>> {
    let vote = (
        0usize..5,
        0usize..8,
        prop::sample::select(vec![Stance::Yes, Stance::No, Stance::Abstain]),
        (1990i32..1994, 1u32..13),
    );
    prop::collection::vec(vote, 0..60).prop_map(|v| {
        v.into_iter()
            .map(|(a, t, s, (y, m))| (a, t, s, format!("{y}-{m:02}-15")))
            .collect()
    })
}

fn build(votes: &[(usize, usize, Stance, String)]) -> Build {
    let mut b = Build::new();
    for a in 0..5 {
        b.state(&format!("S{a}"));
    }
    for t in 0..8 {
        b.topic(&format!("t{t}"), TopicKind::Vote, Some(45 + t as u32 % 3));
    }
    for (a, t, s, d) in votes {
        b.stance(&format!("S{a}"), &format!("t{t}"), *s, d);
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every measure is symmetric in the pair: the tally of (b, a) is the transpose of (a, b).
    #[test]
    fn measures_are_symmetric_and_in_range(pairs in prop::collection::vec(
        (prop::sample::select(Stance::ALL.to_vec()), prop::sample::select(Stance::ALL.to_vec())),
        0..40,
    )) {
        let (mut ab, mut ba) = (stancelog::core::Tally::new(), stancelog::core::Tally::new());
        for (x, y) in &pairs {
            ab.add(*x, *y);
            ba.add(*y, *x);
        }
        for m in Measure::ALL {
            let (lo, hi) = m.range();
            match (ab.measure(m), ba.measure(m)) {
                (Some(x), Some(y)) => {
                    prop_assert!((x - y).abs() < 1e-12, "{m:?}: {x} vs {y}");
                    prop_assert!(x >= lo - 1e-12 && x <= hi + 1e-12, "{m:?}: {x}");
                }
                (None, None) => {}
                other => prop_assert!(false, "{m:?}: {other:?}"),
            }
        }
    }

    /// In a generated log: each actor with itself is 1 (pi and kappa: 1 or undefined), every
    /// measure lies in its range, and appending votes dated after a year leaves that year's
    /// rows unchanged.
    #[test]
    fn agreement_properties_on_generated_votes(votes in vote_log(), later in vote_log()) {
        let b = build(&votes);
        for by in [By::Year, By::Session, By::None] {
            for p in b.h.agreement(&sel(by), 1, true) {
                for m in Measure::ALL {
                    let (lo, hi) = m.range();
                    if let Some(x) = p.tally.measure(m) {
                        prop_assert!(x >= lo - 1e-12 && x <= hi + 1e-12);
                        if p.a == p.b {
                            prop_assert!((x - 1.0).abs() < 1e-12, "{m:?} of {} with itself: {x}", p.a);
                        }
                    } else {
                        prop_assert!(matches!(m, Measure::Pi | Measure::Kappa));
                    }
                }
            }
        }
        let before: Vec<PairTally> = b.h.agreement(&sel(By::Year), 1, false);
        // The same votes, then more dated 1994 and later.
        let mut all = votes.clone();
        all.extend(later.into_iter().map(|(a, t, s, d)| (a, t, s, format!("{}{}", "2", &d[1..]))));
        let after = build(&all).h.agreement(&sel(By::Year), 1, false);
        let kept: Vec<PairTally> = after.into_iter().filter(|p| p.period < 1994).collect();
        prop_assert_eq!(before, kept);
    }

    /// Trend counts are a plain count of the timeline's unretracted entries per (year, actor,
    /// stance).
    #[test]
    fn trend_counts_are_a_count_of_the_timeline(votes in vote_log()) {
        let b = build(&votes);
        let mut want: BTreeMap<(i64, String, Stance), u64> = BTreeMap::new();
        for e in b.h.timeline(&Filter::default()) {
            if matches!(e.status, Status::Retracted { .. }) {
                continue;
            }
            let year = i64::from(e.position.stance.date.start().year());
            *want.entry((year, e.position.actor.to_string(), e.position.stance.stance)).or_default() += 1;
        }
        let got: BTreeMap<(i64, String, Stance), u64> = b
            .h
            .trend(&sel(By::Year))
            .into_iter()
            .map(|c| ((c.period, c.actor.to_string(), c.stance), c.count))
            .collect();
        prop_assert_eq!(got, want);
    }

    /// With only `ratified` stances, the cumulative holders never fall, and end at the number
    /// of actors that ratified.
    #[test]
    fn ratifications_never_fall(dates in prop::collection::vec((0usize..6, 2016i32..2020, 1u32..13), 0..30)) {
        let mut b = Build::new();
        for a in 0..6 {
            b.state(&format!("S{a}"));
        }
        b.topic("paris", TopicKind::Treaty, None);
        for (a, y, m) in &dates {
            b.stance(&format!("S{a}"), "paris", Stance::Ratified, &format!("{y}-{m:02}"));
        }
        let topic = TopicId::new("paris").unwrap();
        let rows = b.h.holders(&sel(By::Month), &topic).unwrap();
        let ratified: Vec<u64> = rows.iter().filter(|r| r.stance == Stance::Ratified).map(|r| r.holders).collect();
        prop_assert!(ratified.windows(2).all(|w| w[0] <= w[1]), "{ratified:?}");
        let actors: BTreeSet<usize> = dates.iter().map(|d| d.0).collect();
        prop_assert_eq!(ratified.last().copied().unwrap_or(0), actors.len() as u64);
    }
}

#[test]
fn holders_follow_positions_month_by_month() {
    let mut b = Build::new();
    for a in ["AAA", "BBB"] {
        b.state(a);
    }
    b.topic("paris", TopicKind::Treaty, None);
    b.stance("AAA", "paris", Stance::Signed, "2016-04-22");
    b.stance("BBB", "paris", Stance::Signed, "2016-04-22");
    b.stance("AAA", "paris", Stance::Ratified, "2016-06-10");
    b.stance("AAA", "paris", Stance::Withdrawn, "2016-07");
    let topic = TopicId::new("paris").unwrap();
    let rows = b.h.holders(&sel(By::Month), &topic).unwrap();
    let got: Vec<(String, String, &str, u64)> = rows
        .iter()
        .map(|r| {
            (
                By::Month.label(r.period),
                r.until.to_string(),
                r.stance.as_str(),
                r.holders,
            )
        })
        .collect();
    let want = [
        ("2016-04", "2016-04-30", "signed", 2),
        ("2016-04", "2016-04-30", "ratified", 0),
        ("2016-04", "2016-04-30", "withdrawn", 0),
        ("2016-05", "2016-05-31", "signed", 2),
        ("2016-05", "2016-05-31", "ratified", 0),
        ("2016-05", "2016-05-31", "withdrawn", 0),
        ("2016-06", "2016-06-30", "signed", 1),
        ("2016-06", "2016-06-30", "ratified", 1),
        ("2016-06", "2016-06-30", "withdrawn", 0),
        ("2016-07", "2016-07-31", "signed", 1),
        ("2016-07", "2016-07-31", "ratified", 0),
        ("2016-07", "2016-07-31", "withdrawn", 1),
    ];
    let want: Vec<(String, String, &str, u64)> = want
        .iter()
        .map(|(p, u, s, n)| (p.to_string(), u.to_string(), *s, *n))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn seed_log_agreement_over_one_period() {
    let o = run_log(
        &seed_log(),
        &[
            "agreement",
            "--actor",
            "prk",
            "--actor",
            "rus",
            "--actor",
            "kim-yong-hyun",
            "--by",
            "none",
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    let rows = v.as_array().unwrap();
    // kim-yong-hyun affirms the troop claim that prk denies: one common topic, opposite. prk
    // and rus support the treaty: one common topic, the same. kim-yong-hyun and rus share none.
    assert_eq!(rows.len(), 2, "{v}");
    assert_eq!(rows[0]["actor_a"], "kim-yong-hyun");
    assert_eq!(rows[0]["actor_b"], "prk");
    assert_eq!(rows[0]["period"], "all");
    assert_eq!(rows[0]["common"], 1);
    assert_eq!(rows[0]["agree"], 0.0);
    assert_eq!(rows[0]["s"], -1.0);
    assert_eq!(rows[0]["pi"], -1.0);
    assert_eq!(rows[1]["actor_a"], "prk");
    assert_eq!(rows[1]["actor_b"], "rus");
    assert_eq!(rows[1]["agree"], 1.0);
    assert_eq!(rows[1]["kappa"], serde_json::Value::Null);
}

#[test]
fn seed_log_wide_matrix_and_trend_csv() {
    let o = run_log(
        &seed_log(),
        &[
            "agreement",
            "--actor",
            "prk",
            "--actor",
            "rus",
            "--by",
            "none",
            "--format",
            "csv",
            "--wide",
            "--measure",
            "s",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "period,actor,prk,rus\nall,prk,1,1\nall,rus,1,1\n"
    );
    let o = run_log(
        &seed_log(),
        &[
            "trend",
            "--by",
            "month",
            "--actor",
            "john-kirby",
            "--format",
            "csv",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "period,actor,stance,count,share\n2024-10,john-kirby,affirm,1,0.5\n2024-10,john-kirby,doubt,1,0.5\n"
    );
}

#[test]
fn agreement_and_trend_refuse_what_has_no_answer() {
    for args in [
        &["agreement", "--actor", "prk"][..],
        &["agreement", "--all", "--format", "table", "--wide"][..],
        &["agreement", "--all", "--measure", "tau"][..],
        &[
            "agreement",
            "--all",
            "--from",
            "2024-10-25",
            "--to",
            "2024-10-01",
        ][..],
        &["trend", "--cumulative"][..],
        &["agreement", "--all", "--actor", "prk"][..],
    ] {
        let o = run_log(&seed_log(), args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty());
    }
}
