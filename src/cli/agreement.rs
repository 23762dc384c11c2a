//! `stancelog agreement`: agreement between pairs of actors per period (the measures are in
//! `stancelog::core::measures`; this file turns flags into a selection and renders rows).

use std::collections::{BTreeSet, VecDeque};
use std::io::Write;

use stancelog::Error;
use stancelog::core::{ActorId, By, Measure, PairTally, Selection};
use stancelog::store::LogRef;

use super::Failure;
use super::args::{AgreementArgs, AgreementBy, Format};
use super::common::{Recorded, filter, known, open_index, read_index, recorded_by, registry};
use super::tabular::{self, Field};

pub fn run(
    a: &AgreementArgs,
    target: &LogRef,
    now: jiff::Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    check(a)?;
    let mut index = open_index(target)?;
    let reg = registry(target, &mut index, &a.scope)?;
    let sel = Selection {
        known: known(&index, a.known_at, "--known-at", now)?,
        filter: filter(&reg, &a.scope)?,
        by: by(a.by),
        from: a.from,
        to: a.to,
    };
    // Every stance of the actors, topics or issues selected (the whole log when none is).
    let h = &read_index(target, &mut index, |i| i.history(&sel.filter))?;
    let measures = if a.measure.is_empty() {
        Measure::ALL.to_vec()
    } else {
        a.measure.clone()
    };
    if a.wide {
        let pairs = || h.agreement_iter(&sel, a.min_common, true);
        wide(out, &sel, measures[0], pairs)?;
        return Ok(());
    }
    let mut header = vec!["actor_a", "actor_b", "period", "common"];
    header.extend(measures.iter().map(|m| m.as_str()));
    let mut headings = vec!["Actor A", "Actor B", "Period", "Common"];
    headings.extend(measures.iter().map(|m| heading(*m)));
    let rows = || {
        h.agreement_iter(&sel, a.min_common, false).map(|p| {
            let mut row = vec![
                Field::Text(p.a.to_string()),
                Field::Text(p.b.to_string()),
                Field::Text(sel.by.label(p.period)),
                Field::Count(p.tally.common()),
            ];
            row.extend(measures.iter().map(|m| Field::Num(p.tally.measure(*m))));
            row
        })
    };
    // Only a table has a title, which counts the rows (one more pass).
    let title = match a.format {
        Format::Table => title(&index, &sel, a, rows().count()),
        _ => String::new(),
    };
    tabular::write(a.format, out, &title, &header, &headings, rows)?;
    Ok(())
}

/// Refuses flag combinations that have no answer, before the log is read.
fn check(a: &AgreementArgs) -> Result<(), Error> {
    if !a.all && a.scope.actor.len() < 2 {
        return Err(Error::Usage(
            "agreement needs two or more --actor, or --all for every pair".to_string(),
        ));
    }
    if a.wide && a.format != Format::Csv {
        return Err(Error::Usage("--wide needs --format csv".to_string()));
    }
    if let (Some(from), Some(to)) = (a.from, a.to)
        && from > to
    {
        return Err(Error::Usage(format!(
            "--from {from} is after --to {to}: no day is in that range"
        )));
    }
    Ok(())
}

fn by(b: AgreementBy) -> By {
    match b {
        AgreementBy::Year => By::Year,
        AgreementBy::Session => By::Session,
        AgreementBy::None => By::None,
    }
}

fn heading(m: Measure) -> &'static str {
    match m {
        Measure::Agree => "Agree",
        Measure::AgreeVoeten => "Voeten",
        Measure::S => "S",
        Measure::Pi => "Pi",
        Measure::Kappa => "Kappa",
    }
}

/// The table's first line: what was compared, over which dates, as known when.
fn title(rec: &impl Recorded, sel: &Selection, a: &AgreementArgs, rows: usize) -> String {
    let by = match a.by {
        AgreementBy::Year => "by year",
        AgreementBy::Session => "by UN session",
        AgreementBy::None => "over one period",
    };
    let range = match (sel.from, sel.to) {
        (Some(f), Some(t)) => format!(", stances dated {f} to {t}"),
        (Some(f), None) => format!(", stances dated from {f}"),
        (None, Some(t)) => format!(", stances dated up to {t}"),
        (None, None) => String::new(),
    };
    let known = recorded_by(rec, sel.known).map_or(String::new(), |w| format!(", {w}"));
    format!("Agreement {by}{range}{known}: {rows} row(s) (pair and period)")
}

/// One matrix per period: `period,actor,<id>...`, a cell per pair (empty when the pair has no
/// row), over every actor that has a row in any period. Two passes: the actors, then the
/// matrices, one period at a time.
fn wide<I: Iterator<Item = PairTally>>(
    out: &mut dyn Write,
    sel: &Selection,
    m: Measure,
    pairs: impl Fn() -> I,
) -> Result<(), Failure> {
    let actors: BTreeSet<ActorId> = pairs().filter(|p| p.a == p.b).map(|p| p.a).collect();
    let actors: Vec<ActorId> = actors.into_iter().collect();
    let mut header = vec!["period", "actor"];
    header.extend(actors.iter().map(|a| a.as_str()));
    let actors = &actors;
    let matrices = || {
        let mut pairs = pairs().peekable();
        let mut pending: VecDeque<Vec<Field>> = VecDeque::new();
        std::iter::from_fn(move || {
            if pending.is_empty() {
                let first = pairs.next()?;
                let mut period = vec![first];
                while let Some(p) = pairs.next_if(|p| p.period == period[0].period) {
                    period.push(p);
                }
                pending.extend(matrix(sel, m, actors, &period));
            }
            pending.pop_front()
        })
    };
    tabular::write(Format::Csv, out, "", &header, &header, matrices)?;
    Ok(())
}

/// The rows of one period's matrix.
fn matrix(
    sel: &Selection,
    m: Measure,
    actors: &[ActorId],
    period: &[PairTally],
) -> Vec<Vec<Field>> {
    let index = |id: &ActorId| actors.binary_search(id).unwrap_or(0);
    let mut cells = vec![vec![Field::Num(None); actors.len()]; actors.len()];
    for p in period {
        let (i, j) = (index(&p.a), index(&p.b));
        let v = p.tally.measure(m);
        (cells[i][j], cells[j][i]) = (Field::Num(v), Field::Num(v));
    }
    let label = sel.by.label(period[0].period);
    actors
        .iter()
        .zip(cells)
        .map(|(a, row)| {
            let mut r = vec![Field::Text(label.clone()), Field::Text(a.to_string())];
            r.extend(row);
            r
        })
        .collect()
}
