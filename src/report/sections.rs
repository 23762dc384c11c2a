//! The report's sections, each a chart and the table of the same rows, or nothing when the
//! selection has nothing for it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::svg::{self, Axes, Series, esc};
use super::{Options, at_words};
use crate::core::{
    ActorId, At, By, ChangeKind, History, Measure, Position, Selection, Stance, Status,
    TimelineEntry, TopicId, TopicKind,
};

/// Most topics drawn in the position grid (the latest ones, by the date of their first
/// position); the rest are named in a note.
pub const GRID_TOPICS_MAX: usize = 40;
/// Most actors drawn in the position grid (the first by id); the rest are named in a note.
pub const GRID_ACTORS_MAX: usize = 60;
/// Most stances drawn one by one in the timeline; above it, shares per year are drawn.
pub const TIMELINE_MARKS_MAX: usize = 300;
/// Most actors in the agreement heatmap.
pub const HEATMAP_ACTORS_MAX: usize = 30;
/// Most treaty topics drawn.
pub const TREATIES_MAX: usize = 3;
/// Most rows of the diff table.
pub const DIFF_ROWS_MAX: usize = 1000;

fn at(opts: &Options) -> At {
    At {
        as_of: opts.as_of,
        known: opts.known,
    }
}

fn actor_name(h: &History, id: &ActorId) -> String {
    h.actor(id)
        .map_or_else(|| id.to_string(), |a| a.name.clone())
}

fn topic_title(h: &History, id: &TopicId) -> String {
    h.topic(id)
        .map_or_else(|| id.to_string(), |t| t.title.clone())
}

fn sign(p: i8) -> &'static str {
    match p {
        1.. => "+",
        0 => "0",
        _ => "−",
    }
}

fn source_of(p: &Position<'_>) -> String {
    let c = &p.stance.cite;
    match &c.via {
        Some(via) => format!("{} via {via}", c.publication),
        None => c.publication.clone(),
    }
}

fn section(id: &str, heading: &str, intro: &str, chart: &str, table: &str) -> String {
    format!(
        "<section id=\"{id}\"><h2>{}</h2><p class=\"note\">{}</p><figure>{chart}</figure>\
<details><summary>Table: the same rows</summary>{table}</details></section>",
        esc(heading),
        esc(intro)
    )
}

/// The topics of a grid: in order of their first position's date (then id), the last
/// [`GRID_TOPICS_MAX`].
fn grid_topics(positions: &[Position<'_>]) -> (Vec<TopicId>, usize) {
    let mut first: BTreeMap<&TopicId, _> = BTreeMap::new();
    for p in positions {
        let d = p.stance.date;
        first
            .entry(&p.stance.topic)
            .and_modify(|x| *x = d.min(*x))
            .or_insert(d);
    }
    let mut order: Vec<(_, &TopicId)> = first.into_iter().map(|(t, d)| (d, t)).collect();
    order.sort();
    let all = order.len();
    let kept = order.split_off(all.saturating_sub(GRID_TOPICS_MAX));
    (kept.into_iter().map(|(_, t)| t.clone()).collect(), all)
}

/// Actors by topics as of the day, each cell coloured by polarity, quote and source on hover.
pub fn grid(h: &History, opts: &Options) -> Option<String> {
    let positions: Vec<Position<'_>> = h.positions_iter(at(opts), &opts.filter).collect();
    if positions.is_empty() {
        return None;
    }
    let (topics, all) = grid_topics(&positions);
    let col: BTreeMap<&TopicId, usize> = topics.iter().enumerate().map(|(i, t)| (t, i)).collect();
    let shown: Vec<&Position<'_>> = positions
        .iter()
        .filter(|p| col.contains_key(&p.stance.topic))
        .collect();
    let all_actors = shown.iter().map(|p| &p.actor).collect::<BTreeSet<_>>();
    let actors: Vec<&ActorId> = all_actors.iter().copied().take(GRID_ACTORS_MAX).collect();
    let shown: Vec<&Position<'_>> = shown
        .into_iter()
        .filter(|p| actors.binary_search(&&p.actor).is_ok())
        .collect();
    let (cell, left, top) = (24.0, 230.0, 190.0);
    let width = (left + cell * topics.len() as f64 + 200.0) as u32;
    let height = (top + cell * actors.len() as f64 + 20.0) as u32;
    let title = format!("Positions {}: actors by topics", at_words(at(opts)));
    let mut s = String::new();
    svg::open(&mut s, "grid", width, height, &title);
    grid_labels(&mut s, h, &actors, &topics, (cell, left, top));
    let mut rows = Vec::new();
    for p in &shown {
        let i = actors.binary_search(&&p.actor).unwrap_or(0);
        let j = col[&p.stance.topic];
        let (x, y) = (left + cell * j as f64, top + cell * i as f64);
        rows.push(grid_cell(&mut s, h, p, (x, y), cell));
    }
    s.push_str("</svg>");
    let intro = format!(
        "{} position(s) of {} actor(s) on {all} topic(s); the grid shows {} topic(s) (the latest \
by first date) and {} actor(s) (the first by id), {} position(s). Hover a cell for its quote and source.",
        positions.len(),
        all_actors.len(),
        topics.len(),
        actors.len(),
        shown.len()
    );
    let header = [
        "Actor", "Topic", "Stance", "Since", "Seq", "Quote", "Source",
    ];
    let table = svg::table(&title, &header, &rows);
    Some(section("positions", "Position grid", &intro, &s, &table))
}

/// The actor labels (left) and topic labels (top, slanted, full title on hover) of the grid.
fn grid_labels(
    s: &mut String,
    h: &History,
    actors: &[&ActorId],
    topics: &[TopicId],
    (cell, left, top): (f64, f64, f64),
) {
    for (i, a) in actors.iter().enumerate() {
        let y = top + cell * (i as f64 + 0.5) + 4.0;
        let name = svg::cut(&actor_name(h, a), 32);
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{y:.1}\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            esc(&name)
        );
    }
    for (j, t) in topics.iter().enumerate() {
        let x = left + cell * (j as f64 + 0.5);
        let label = svg::cut(&topic_title(h, t), 30);
        let _ = write!(
            s,
            "<text x=\"{x:.1}\" y=\"{0:.1}\" transform=\"rotate(-55 {x:.1} {0:.1})\">{1}<title>{2}</title></text>",
            top - 8.0,
            esc(&label),
            esc(&topic_title(h, t))
        );
    }
}

/// One cell of the grid at (x, y), coloured by polarity with its sign as text and the position
/// on hover; returns the cell's table row.
fn grid_cell(
    s: &mut String,
    h: &History,
    p: &Position<'_>,
    (x, y): (f64, f64),
    cell: f64,
) -> Vec<String> {
    let pol = p.stance.stance.polarity();
    let quote = p.stance.quote.clone().unwrap_or_default();
    let tip = format!(
        "{} — {}: {} since {} (seq {}){}; source: {}",
        actor_name(h, &p.actor),
        topic_title(h, &p.stance.topic),
        p.stance.stance,
        p.stance.date,
        p.event.seq,
        if quote.is_empty() {
            String::new()
        } else {
            format!("; “{quote}”")
        },
        source_of(p)
    );
    let _ = write!(
        s,
        "<g class=\"cell\"><title>{}</title><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell}\" height=\"{cell}\" fill=\"{}\" stroke=\"#FFFFFF\"/>\
<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{}\">{}</text></g>",
        esc(&tip),
        svg::polarity_colour(pol),
        x + cell / 2.0,
        y + cell / 2.0 + 4.0,
        if pol == 0 { "#000000" } else { "#FFFFFF" },
        sign(pol)
    );
    vec![
        actor_name(h, &p.actor),
        topic_title(h, &p.stance.topic),
        p.stance.stance.to_string(),
        p.stance.date.to_string(),
        p.event.seq.to_string(),
        quote,
        source_of(p),
    ]
}

/// Stances over time: each stance as a mark on valid time when there are few, else each actor's
/// share of +1 stances per year.
pub fn over_time(h: &History, opts: &Options) -> Option<String> {
    let count = h
        .timeline_iter(opts.known, &opts.filter)
        .take(TIMELINE_MARKS_MAX + 1)
        .count();
    match count {
        0 => None,
        n if n <= TIMELINE_MARKS_MAX => Some(marks(h, opts)),
        _ => shares(h, opts),
    }
}

/// Day number of a day (days from 0001-01-01).
fn day_x(d: crate::core::Day) -> f64 {
    f64::from(d.days_from_ce())
}

/// Ticks on a day axis: years on a long span, months on a short one.
fn day_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let day = |x: f64| crate::core::Day::from_days_from_ce(x as i32);
    let (Some(a), Some(b)) = (day(lo), day(hi)) else {
        return Vec::new();
    };
    let months = (b.year() - a.year()) * 12 + b.month() as i32 - a.month() as i32;
    let step = [1, 2, 3, 6, 12, 24, 60, 120]
        .into_iter()
        .find(|s| months / s <= 10)
        .unwrap_or(240);
    let mut out = Vec::new();
    let mut m = a.year() * 12 + a.month() as i32;
    while let Some(first) =
        crate::core::Day::from_ymd(m.div_euclid(12), m.rem_euclid(12) as u32 + 1, 1)
    {
        if first > b {
            break;
        }
        if m % step == 0 || step == 1 {
            let label = if step >= 12 {
                first.year().to_string()
            } else {
                format!("{:04}-{:02}", first.year(), first.month())
            };
            out.push((f64::from(first.days_from_ce()), label));
        }
        m += 1;
    }
    out
}

/// Each stance a mark on valid time, one row per actor: filled by polarity, hollow when
/// retracted, ringed when corrected.
fn marks(h: &History, opts: &Options) -> String {
    let entries: Vec<_> = h.timeline_iter(opts.known, &opts.filter).collect();
    let actors: Vec<&ActorId> = entries
        .iter()
        .map(|e| &e.position.actor)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let days: Vec<f64> = entries
        .iter()
        .map(|e| day_x(e.position.stance.date.start()))
        .collect();
    let lo = days.iter().copied().fold(f64::MAX, f64::min) - 15.0;
    let hi = days.iter().copied().fold(f64::MIN, f64::max) + 15.0;
    let (left, top, row, plot_w) = (230.0, 20.0, 30.0, 700.0);
    let bottom = top + row * actors.len() as f64;
    let sx = |x: f64| left + (x - lo) / (hi - lo) * plot_w;
    let title = "Stances over valid time, one row per actor";
    let mut s = String::new();
    svg::open(&mut s, "timeline", 960, (bottom + 80.0) as u32, title);
    marks_frame(
        &mut s,
        h,
        &actors,
        (left, top, row, plot_w),
        &day_ticks(lo, hi)
            .into_iter()
            .map(|(x, l)| (sx(x), l))
            .collect::<Vec<_>>(),
    );
    let mut rows = Vec::new();
    for (e, x) in entries.iter().zip(&days) {
        let i = actors.binary_search(&&e.position.actor).unwrap_or(0);
        rows.push(mark(&mut s, h, e, (sx(*x), top + row * (i as f64 + 0.5))));
    }
    marks_legend(&mut s, left, bottom + 50.0);
    let header = [
        "Date", "Actor", "Topic", "Stance", "Status", "Seq", "Recorded", "Notes",
    ];
    let table = svg::table(title, &header, &rows);
    let intro = "Each stance on its valid-time date; hover a mark for its topic, status and when the log recorded it (what was known when). The table gives the same stances.";
    section("timeline", "Stances over time", intro, &s, &table)
}

/// The rows (one per actor, labelled) and the date axis of the timeline; `ticks` are already
/// at their x positions.
fn marks_frame(
    s: &mut String,
    h: &History,
    actors: &[&ActorId],
    (left, top, row, plot_w): (f64, f64, f64, f64),
    ticks: &[(f64, String)],
) {
    let bottom = top + row * actors.len() as f64;
    for (i, a) in actors.iter().enumerate() {
        let y = top + row * (i as f64 + 0.5);
        let _ = write!(
            s,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#EEEEEE\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left + plot_w,
            left - 6.0,
            y + 4.0,
            esc(&svg::cut(&actor_name(h, a), 32))
        );
    }
    let _ = write!(
        s,
        "<g class=\"axis\"><line x1=\"{left}\" y1=\"{bottom:.1}\" x2=\"{:.1}\" y2=\"{bottom:.1}\" stroke=\"#000\"/>",
        left + plot_w
    );
    for (x, label) in ticks {
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" y1=\"{bottom:.1}\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"#000\"/><text x=\"{0:.1}\" y=\"{2:.1}\" text-anchor=\"middle\">{3}</text>",
            x,
            bottom + 5.0,
            bottom + 18.0,
            esc(label)
        );
    }
    s.push_str("</g>");
}

/// One stance's mark at (cx, cy): filled by polarity, hollow when retracted, ringed when
/// corrected, with its topic, status and recorded time on hover; returns its table row.
fn mark(s: &mut String, h: &History, e: &TimelineEntry<'_>, (cx, cy): (f64, f64)) -> Vec<String> {
    let p = &e.position;
    let colour = svg::polarity_colour(p.stance.stance.polarity());
    let retracted = matches!(e.status, Status::Retracted { .. });
    let status = match e.status {
        Status::Current => "current".to_string(),
        Status::Superseded { by } => format!("superseded by {by}"),
        Status::Retracted { by } => format!("retracted by {by}"),
    };
    let corrected: Vec<String> = p.corrections.iter().map(|c| c.seq.to_string()).collect();
    let recorded = crate::store::format_recorded_at(&p.event.recorded_at);
    let notes = if corrected.is_empty() {
        String::new()
    } else {
        format!("corrected by {}", corrected.join(", "))
    };
    let tip = format!(
        "{} {}: {} on {} ({status}; seq {}, recorded {recorded}{}{})",
        p.stance.date,
        actor_name(h, &p.actor),
        p.stance.stance,
        topic_title(h, &p.stance.topic),
        p.event.seq,
        if notes.is_empty() { "" } else { "; " },
        notes
    );
    let (fill, stroke) = if retracted {
        ("#FFFFFF", colour)
    } else {
        (colour, "#FFFFFF")
    };
    let _ = write!(
        s,
        "<g class=\"mark\"><title>{}</title><circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"6\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"2\"/>",
        esc(&tip)
    );
    if !corrected.is_empty() {
        let _ = write!(
            s,
            "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"9\" fill=\"none\" stroke=\"#000000\"/>"
        );
    }
    s.push_str("</g>");
    vec![
        p.stance.date.to_string(),
        actor_name(h, &p.actor),
        topic_title(h, &p.stance.topic),
        p.stance.stance.to_string(),
        status,
        p.event.seq.to_string(),
        recorded,
        notes,
    ]
}

/// The legend under the timeline, at height `ly`.
fn marks_legend(s: &mut String, left: f64, ly: f64) {
    let _ = write!(
        s,
        "<g class=\"legend\"><circle cx=\"{left}\" cy=\"{ly:.1}\" r=\"6\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">stance (colour: polarity)</text><circle cx=\"{:.1}\" cy=\"{ly:.1}\" r=\"6\" fill=\"#FFFFFF\" stroke=\"{}\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\">retracted</text><circle cx=\"{:.1}\" cy=\"{ly:.1}\" r=\"6\" fill=\"{}\"/><circle cx=\"{:.1}\" cy=\"{ly:.1}\" r=\"9\" fill=\"none\" stroke=\"#000000\"/><text x=\"{:.1}\" y=\"{:.1}\">corrected</text></g></svg>",
        svg::POSITIVE,
        left + 12.0,
        ly + 4.0,
        left + 200.0,
        svg::NEGATIVE,
        left + 212.0,
        ly + 4.0,
        left + 320.0,
        svg::NEUTRAL,
        left + 320.0,
        left + 335.0,
        ly + 4.0
    );
}

/// Each actor's share of +1 stances among its stances of each year (lines); with more actors
/// than line colours, one line for all of them together.
fn shares(h: &History, opts: &Options) -> Option<String> {
    let sel = Selection {
        known: opts.known,
        filter: opts.filter.clone(),
        by: By::Year,
        from: None,
        to: opts.as_of,
    };
    let trend = h.trend(&sel);
    let actors: BTreeSet<&ActorId> = trend.iter().map(|c| &c.actor).collect();
    let together = actors.len() > svg::SERIES.len();
    // (series name, year) -> counts of -1, 0, +1.
    let mut counts: BTreeMap<(String, i64), [u64; 3]> = BTreeMap::new();
    for c in &trend {
        let name = if together {
            format!("all {} actors", actors.len())
        } else {
            actor_name(h, &c.actor)
        };
        counts.entry((name, c.period)).or_default()[(c.stance.polarity() + 1) as usize] += c.count;
    }
    let years = counts.keys().map(|k| k.1);
    let (first, last) = (years.clone().min()?, years.max()?);
    let mut series: Vec<Series> = Vec::new();
    let mut rows = Vec::new();
    for ((name, year), c) in &counts {
        let share = c[2] as f64 / (c[0] + c[1] + c[2]) as f64;
        if series.last().is_none_or(|s| &s.name != name) {
            series.push(Series {
                name: name.clone(),
                points: Vec::new(),
            });
        }
        series.last_mut()?.points.push((*year as f64, share));
        let counts = c.iter().rev().map(u64::to_string);
        let mut row = vec![year.to_string(), name.clone()];
        row.extend(counts);
        row.push(svg::trim_number(share));
        rows.push(row);
    }
    let axes = Axes {
        x: (first as f64, (last as f64).max(first as f64 + 1.0)),
        ticks: svg::year_ticks(first, last),
        y: (0.0, 1.0),
        y_label: "share of +1 stances".to_string(),
        step: false,
    };
    let title = "Share of +1 stances (yes, support, affirm, ratified) per year";
    let chart = svg::line_chart("timeline", title, &axes, &series);
    let header = ["Year", "Actors", "+1", "0", "-1", "Share of +1"];
    let table = svg::table(title, &header, &rows);
    let intro = "Too many stances to draw one by one: the share of +1 stances among the stances taken each year, per actor (or for all actors together when there are more than seven).";
    Some(section(
        "timeline",
        "Stances over time",
        intro,
        &chart,
        &table,
    ))
}

/// The actors of an agreement heatmap: the filter's, else every actor with a position (up to
/// [`HEATMAP_ACTORS_MAX`]).
fn heatmap_actors(h: &History, opts: &Options, sel: &Selection) -> Vec<ActorId> {
    let mut actors: BTreeSet<ActorId> =
        h.agreement(sel, 1, true).into_iter().map(|p| p.a).collect();
    if actors.len() > HEATMAP_ACTORS_MAX && opts.filter.actors.is_empty() {
        actors = actors.into_iter().take(HEATMAP_ACTORS_MAX).collect();
    }
    actors.into_iter().collect()
}

/// For votes: agreement of the chosen actors over the whole selection (heatmap), and over time
/// for pairs.
pub fn agreement(h: &History, opts: &Options) -> Option<String> {
    let votes = h.topics().into_keys().any(|t| {
        h.topic(&t).is_some_and(|x| x.kind == TopicKind::Vote)
            && (opts.filter.topics.is_empty() || opts.filter.topics.contains(&t))
    });
    if !votes {
        return None;
    }
    let sel = Selection {
        known: opts.known,
        filter: opts.filter.clone(),
        by: By::None,
        from: None,
        to: opts.as_of,
    };
    let actors = heatmap_actors(h, opts, &sel);
    if actors.is_empty() {
        // No chosen actor has a stance to compare (an empty actor set would mean all of them).
        return None;
    }
    let pairs = h.agreement(
        &Selection {
            filter: crate::core::Filter {
                actors: actors.iter().cloned().collect(),
                ..opts.filter.clone()
            },
            ..sel.clone()
        },
        1,
        true,
    );
    if !pairs.iter().any(|p| p.a != p.b) {
        return None;
    }
    let get: BTreeMap<(&ActorId, &ActorId), &crate::core::Tally> =
        pairs.iter().map(|p| ((&p.a, &p.b), &p.tally)).collect();
    let labels: Vec<String> = actors.iter().map(|a| actor_name(h, a)).collect();
    let cell = |i: usize, j: usize| {
        let (a, b) = if i <= j {
            (&actors[i], &actors[j])
        } else {
            (&actors[j], &actors[i])
        };
        get.get(&(a, b)).and_then(|t| t.measure(Measure::Agree))
    };
    let title = format!(
        "Agreement (share of common topics with the same stance), {}",
        at_words(at(opts))
    );
    let chart = svg::heatmap("agreement", &title, &labels, &cell);
    let rows: Vec<Vec<String>> = pairs
        .iter()
        .filter(|p| p.a != p.b)
        .map(|p| {
            let mut r = vec![
                actor_name(h, &p.a),
                actor_name(h, &p.b),
                p.tally.common().to_string(),
            ];
            r.extend(
                Measure::ALL
                    .iter()
                    .map(|m| p.tally.measure(*m).map_or(String::new(), svg::trim_number)),
            );
            r
        })
        .collect();
    let header = [
        "Actor A", "Actor B", "Common", "Agree", "Voeten", "S", "Pi", "Kappa",
    ];
    let table = svg::table(&title, &header, &rows);
    let intro = "Each cell: the share of the topics both actors took a stance on where they took the same one (the diagonal: an actor with itself). The table adds Voeten's score, Signorino and Ritter's S, Scott's pi and Cohen's kappa.";
    let mut out = section("agreement", "Agreement", intro, &chart, &table);
    if let Some(over) = pairs_over_time(h, opts) {
        out.push_str(&over);
    }
    Some(out)
}

/// The pairs drawn year by year: those asked for, else every pair of two to four chosen actors.
fn chosen_pairs(opts: &Options) -> Vec<(ActorId, ActorId)> {
    if !opts.pairs.is_empty() {
        return opts.pairs.clone();
    }
    let actors: Vec<&ActorId> = opts.filter.actors.iter().collect();
    if !(2..=4).contains(&actors.len()) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, a) in actors.iter().enumerate() {
        for b in &actors[i + 1..] {
            out.push(((*a).clone(), (*b).clone()));
        }
    }
    out
}

/// Agreement per year for each chosen pair (lines).
fn pairs_over_time(h: &History, opts: &Options) -> Option<String> {
    let mut series = Vec::new();
    let mut rows = Vec::new();
    for (a, b) in chosen_pairs(opts) {
        let filter = crate::core::Filter {
            actors: [a.clone(), b.clone()].into(),
            ..opts.filter.clone()
        };
        let sel = Selection {
            known: opts.known,
            filter,
            by: By::Year,
            from: None,
            to: opts.as_of,
        };
        let name = format!("{} – {}", actor_name(h, &a), actor_name(h, &b));
        let mut points = Vec::new();
        for p in h.agreement(&sel, 1, false) {
            let v = p.tally.measure(Measure::Agree).unwrap_or(0.0);
            points.push((p.period as f64, v));
            rows.push(vec![
                p.period.to_string(),
                name.clone(),
                p.tally.common().to_string(),
                svg::trim_number(v),
            ]);
        }
        series.push(Series { name, points });
    }
    let years: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    let (first, last) = (
        years.iter().copied().reduce(f64::min)?,
        years.iter().copied().reduce(f64::max)?,
    );
    let axes = Axes {
        x: (first, last.max(first + 1.0)),
        ticks: svg::year_ticks(first as i64, last as i64),
        y: (0.0, 1.0),
        y_label: "agreement (share)".to_string(),
        step: false,
    };
    let title = "Agreement per year of the chosen pairs";
    let chart = svg::line_chart("pairs", title, &axes, &series);
    let table = svg::table(title, &["Year", "Pair", "Common", "Agree"], &rows);
    let intro =
        "For each pair and year: the share of the year's common topics with the same stance.";
    Some(section(
        "pairs-over-time",
        "Agreement over time",
        intro,
        &chart,
        &table,
    ))
}

/// The cumulative holders of each stance on each treaty topic, month by month.
pub fn treaties(h: &History, opts: &Options) -> Option<String> {
    let topics: Vec<TopicId> = h
        .topics()
        .into_keys()
        .filter(|t| {
            h.topic(t).is_some_and(|x| x.kind == TopicKind::Treaty)
                && (opts.filter.topics.is_empty() || opts.filter.topics.contains(t))
        })
        .take(TREATIES_MAX)
        .collect();
    let parts: Vec<String> = topics
        .iter()
        .enumerate()
        .filter_map(|(i, t)| treaty(h, opts, t, i))
        .collect();
    (!parts.is_empty()).then(|| parts.concat())
}

/// The cumulative curve of one treaty topic (the `i`th drawn).
fn treaty(h: &History, opts: &Options, t: &TopicId, i: usize) -> Option<String> {
    let sel = Selection {
        known: opts.known,
        filter: opts.filter.clone(),
        by: By::Month,
        from: None,
        to: opts.as_of,
    };
    let holders = h.holders(&sel, t)?;
    let (first, last) = (holders.first()?.period, holders.last()?.period);
    let stances: Vec<Stance> = Stance::ALL
        .iter()
        .copied()
        .filter(|s| s.fits(TopicKind::Treaty))
        .collect();
    let series: Vec<Series> = stances
        .iter()
        .map(|s| Series {
            name: s.to_string(),
            points: holders
                .iter()
                .filter(|x| x.stance == *s)
                .map(|x| (x.period as f64, x.holders as f64))
                .collect(),
        })
        .collect();
    let top = svg::nice_top(holders.iter().map(|x| x.holders).max().unwrap_or(1));
    let ticks = svg::year_ticks(first.div_euclid(12), last.div_euclid(12))
        .into_iter()
        .map(|(y, l)| (y * 12.0, l))
        .filter(|(x, _)| *x >= first as f64)
        .collect();
    let axes = Axes {
        x: (first as f64, (last as f64).max(first as f64 + 1.0)),
        ticks,
        y: (0.0, top),
        y_label: "actors".to_string(),
        step: true,
    };
    let title = format!(
        "{}: actors holding each stance at the end of each month",
        topic_title(h, t)
    );
    let chart = svg::line_chart(&format!("treaty-{i}"), &title, &axes, &series);
    let rows: Vec<Vec<String>> = holders
        .chunk_by(|x, y| x.period == y.period)
        .map(|g| {
            let mut r = vec![By::Month.label(g[0].period), g[0].until.to_string()];
            r.extend(g.iter().map(|x| x.holders.to_string()));
            r
        })
        .collect();
    let mut header = vec!["Month", "Until"];
    header.extend(stances.iter().map(|s| s.as_str()));
    let table = svg::table(&title, &header, &rows);
    let intro = "How many actors' positions on the treaty were each stance at the end of each month (a ratification counts until a withdrawal replaces it).";
    Some(section(
        &format!("treaty-{i}"),
        "Treaty: cumulative curve",
        intro,
        &chart,
        &table,
    ))
}

/// Positions added, changed or removed between `from` and `to`.
pub fn diff(h: &History, opts: &Options) -> Option<String> {
    let (from, to) = (opts.from?, opts.to?);
    let a = At {
        as_of: Some(from),
        known: opts.known,
    };
    let b = At {
        as_of: Some(to),
        known: opts.known,
    };
    let stance = |p: &Option<Position<'_>>| {
        p.as_ref().map_or("-".to_string(), |p| {
            format!(
                "{} (since {}, seq {})",
                p.stance.stance, p.stance.date, p.event.seq
            )
        })
    };
    let mut rows = Vec::new();
    let mut total = 0;
    for c in h.diff_iter(a, b, &opts.filter) {
        total += 1;
        if rows.len() < DIFF_ROWS_MAX {
            let kind = match c.kind {
                ChangeKind::Added => "added",
                ChangeKind::Changed => "changed",
                ChangeKind::Removed => "removed",
            };
            rows.push(vec![
                actor_name(h, &c.actor),
                topic_title(h, &c.topic),
                kind.to_string(),
                stance(&c.before),
                stance(&c.after),
            ]);
        }
    }
    let title = format!("Changes from as of {from} to as of {to}: {total}");
    let note = if total > rows.len() {
        format!(" (the first {} shown)", rows.len())
    } else {
        String::new()
    };
    let mut s = format!(
        "<section id=\"diff\"><h2>Diff</h2><p class=\"note\">{}{}</p>",
        esc(&title),
        esc(&note)
    );
    s.push_str(&svg::table(
        &title,
        &["Actor", "Topic", "Change", "Before", "After"],
        &rows,
    ));
    s.push_str("</section>");
    Some(s)
}
