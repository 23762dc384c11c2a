//! PLOVER / POLECAT records by their header's names.

use super::{
    A_NAME, CODE, Cache, Coded, Columns, DATE, EXTRA_1, EXTRA_2, ID, INTENSITY, R_NAME, SOURCE,
    quad_of_plover, refused, scale_cell, skipped, stance_of_quad,
};
use crate::core::{Cite, PloverType, Stance};
use crate::import::engine::Outcome;
use crate::import::sheet::parse_date;

/// The quad class a `Quad Code` cell gives: a number 1-4 first (`1`, `3: Verbal Conflict`), or
/// the words (`Verbal Cooperation`, `MATERIAL CONFLICT`).
fn quad_of_cell(text: &str) -> Option<u8> {
    if let Some(q) = text.chars().next().and_then(|c| c.to_digit(10)) {
        return u8::try_from(q).ok().filter(|q| (1..=4).contains(q));
    }
    let t = text.to_lowercase();
    let verbal = t.contains("verbal");
    let material = t.contains("material");
    match (
        verbal,
        material,
        t.contains("cooperation"),
        t.contains("conflict"),
    ) {
        (true, false, true, false) => Some(1),
        (false, true, true, false) => Some(2),
        (true, false, false, true) => Some(3),
        (false, true, false, true) => Some(4),
        _ => None,
    }
}

/// Maps one PLOVER record; records without an actor or a recipient are skipped.
pub(super) fn plover(
    r: &csv::StringRecord,
    c: &Columns,
    cache: &mut Cache,
) -> Result<Coded, Outcome> {
    let (Some(a), Some(t)) = (c.get(r, A_NAME), c.get(r, R_NAME)) else {
        return Err(skipped("no actor or no recipient"));
    };
    let cell = c.get(r, DATE).unwrap_or("");
    // The day is the cell's first 10 characters (a time may follow); a refusal quotes the
    // whole cell too, as written.
    let (date, _) = parse_date(cell.get(..10).unwrap_or(cell)).map_err(|e| match cell.len() {
        0..=10 => refused(format!("Event Date: {e}")),
        _ => refused(format!("Event Date `{cell}`, its first 10 characters: {e}")),
    })?;
    let type_text = c.get(r, CODE).unwrap_or("");
    let event = PloverType::parse(&type_text.to_lowercase()).ok_or_else(|| {
        refused(format!(
            "Event Type `{type_text}` is not a PLOVER event type ({})",
            PloverType::names()
        ))
    })?;
    let quad = match c.get(r, EXTRA_1) {
        Some(q) => quad_of_cell(q).ok_or_else(|| refused(format!("Quad Code `{q}` is not 1-4")))?,
        None => quad_of_plover(event),
    };
    let intensity = scale_cell("Event Intensity", c.get(r, INTENSITY), false)?;
    let (actor, recipient) = cache.source_and_target(r, c, a, t)?;
    let act = PloverType::ALL
        .iter()
        .position(|x| *x == event)
        .unwrap_or(0) as u8
        + 100;
    let topic = cache
        .topic(&recipient, (act, event.as_str()), || event.to_string())
        .map_err(refused)?;
    let mode = c
        .get(r, EXTRA_2)
        .map(|m| format!(", mode {m}"))
        .unwrap_or_default();
    let title = format!(
        "PLOVER event {}: {event}{mode} (intensity {}, quad class {quad})",
        c.get(r, ID).unwrap_or("?"),
        intensity.unwrap_or("?"),
    );
    Ok(Coded {
        date,
        actor,
        recipient,
        topic,
        stance: stance_of_quad(quad).unwrap_or(Stance::Neutral),
        event: Some(event),
        code: event.to_string(),
        cite: Cite {
            publication: c.get(r, SOURCE).unwrap_or("PLOVER").to_string(),
            url: None,
            title: Some(title),
            published: None,
            via: Some("PLOVER / POLECAT event data".to_string()),
        },
        recorded: None,
    })
}
