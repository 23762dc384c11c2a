//! `stancelog trend`: counts and shares of each stance per period and actor, or the cumulative
//! holders of each stance on one topic.

use stancelog::store::LogRef;
use std::io::Write;

use stancelog::Error;
use stancelog::core::{By, Selection};

use super::Failure;
use super::args::{TrendArgs, TrendBy};
use super::common::{filter, known, open_index, read_index, registry};
use super::tabular::{self, Field};

pub fn run(
    t: &TrendArgs,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if t.cumulative && t.scope.topic.len() != 1 {
        return Err(Error::Usage("--cumulative needs exactly one --topic".to_string()).into());
    }
    if let (Some(from), Some(to)) = (t.from, t.to)
        && from > to
    {
        return Err(Error::Usage(format!("--from {from} is after --to {to}")).into());
    }
    let mut index = open_index(target)?;
    let reg = registry(target, &mut index, &t.scope)?;
    let sel = Selection {
        known: known(&index, t.known_at, "--known-at", now)?,
        filter: filter(&reg, &t.scope)?,
        by: by(t.by),
        from: t.from,
        to: t.to,
    };
    // Every stance of the actors, topics or issues selected (the whole log when none is).
    let h = &read_index(target, &mut index, |i| i.history(&sel.filter))?;
    if t.cumulative {
        return cumulative(t, h, &sel, out);
    }
    let counts = h.trend(&sel);
    let mut rows = Vec::with_capacity(counts.len());
    // Shares are of the actor's stances in the period.
    for group in counts.chunk_by(|x, y| (x.period, &x.actor) == (y.period, &y.actor)) {
        let total: u64 = group.iter().map(|c| c.count).sum();
        for c in group {
            rows.push(vec![
                Field::Text(sel.by.label(c.period)),
                Field::Text(c.actor.to_string()),
                Field::Text(c.stance.to_string()),
                Field::Count(c.count),
                Field::Num(Some(c.count as f64 / total as f64)),
            ]);
        }
    }
    let title = format!(
        "Stances per {} and actor: {} row(s)",
        period_word(t.by),
        rows.len()
    );
    let header = ["period", "actor", "stance", "count", "share"];
    let headings = ["Period", "Actor", "Stance", "Count", "Share"];
    tabular::write(t.format, out, &title, &header, &headings, || {
        rows.iter().cloned()
    })?;
    Ok(())
}

fn cumulative(
    t: &TrendArgs,
    h: &stancelog::core::History,
    sel: &Selection,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let topic = sel.filter.topics.iter().next().cloned();
    let holders = topic.as_ref().and_then(|topic| h.holders(sel, topic));
    let holders = holders.unwrap_or_default();
    let rows: Vec<Vec<Field>> = holders
        .iter()
        .map(|x| {
            vec![
                Field::Text(sel.by.label(x.period)),
                Field::Text(x.until.to_string()),
                Field::Text(x.stance.to_string()),
                Field::Count(x.holders),
            ]
        })
        .collect();
    let name = topic
        .as_ref()
        .and_then(|id| h.topic(id))
        .map_or(String::new(), |x| x.title.clone());
    let title = format!(
        "Actors holding each stance on {name} at the end of each {}: {} row(s)",
        period_word(t.by),
        rows.len()
    );
    let header = ["period", "until", "stance", "holders"];
    let headings = ["Period", "Until", "Stance", "Holders"];
    tabular::write(t.format, out, &title, &header, &headings, || {
        rows.iter().cloned()
    })?;
    Ok(())
}

fn by(b: TrendBy) -> By {
    match b {
        TrendBy::Year => By::Year,
        TrendBy::Month => By::Month,
        TrendBy::Day => By::Day,
    }
}

fn period_word(b: TrendBy) -> &'static str {
    match b {
        TrendBy::Year => "year",
        TrendBy::Month => "month",
        TrendBy::Day => "day",
    }
}
