//! GDELT event records, 1.0 (57 or 58 fields) and 2.0 (61 fields), by field position (GDELT
//! 1.0 and 2.0 event codebooks).

use std::sync::Arc;

use super::{
    Cache, Coded, GDELT, Party, cameo, cameo_act, kind_of_sector, refused, root_words, scale_cell,
    skipped, stance_of_quad, unknown_country,
};
use crate::core::{ActorId, ActorKind, Cite, Sector, Stance};
use crate::import::countries::{self, Scheme};
use crate::import::engine::{NewActor, Outcome};
use crate::import::sheet::{parse_date, parse_yyyymmdd};

/// Field positions shared by both versions (0-based).
const EVENT_ID: usize = 0;
const DAY: usize = 1;
const ACTOR1: usize = 5;
const ACTOR2: usize = 15;
/// Offsets within an actor's block of ten fields: code, name, country code, ..., type 1.
const NAME: usize = 1;
const COUNTRY: usize = 2;
const TYPE1: usize = 7;
const EVENT_CODE: usize = 26;
const EVENT_ROOT: usize = 28;
const QUAD_CLASS: usize = 29;
const GOLDSTEIN: usize = 30;
const MENTIONS: usize = 31;

/// (DATEADDED, SOURCEURL, version) positions of a row with `n` fields.
fn layout(n: usize) -> Option<(usize, Option<usize>, &'static str)> {
    match n {
        57 => Some((56, None, "1.0")),
        58 => Some((56, Some(57), "1.0")),
        61 => Some((59, Some(60), "2.0")),
        _ => None,
    }
}

fn party(r: &csv::StringRecord, at: usize, cache: &mut Cache) -> Option<Result<Party, String>> {
    let field = |i: usize| r.get(at + i).map(str::trim).filter(|v| !v.is_empty());
    let code = field(0)?;
    Some(cache.party(code, || {
        party_of(code, field(NAME), field(COUNTRY), field(TYPE1))
    }))
}

fn party_of(
    code: &str,
    name: Option<&str>,
    country: Option<&str>,
    type1: Option<&str>,
) -> Result<Party, String> {
    if country == Some(code)
        && let Ok(s) = countries::resolve(Scheme::Iso3, code)
    {
        return Ok(Party {
            id: s.actor,
            new: Arc::new(NewActor {
                name: s.name,
                kind: ActorKind::State,
                country: Ok(s.country),
                sector: Sector::Gov,
            }),
        });
    }
    let id = ActorId::new(code).map_err(|e| e.to_string())?;
    let sector = type1.and_then(Sector::parse).unwrap_or(Sector::Cvl);
    let country = country
        .and_then(|c| countries::check_country(c).ok())
        .unwrap_or_else(unknown_country);
    Ok(Party {
        id,
        new: Arc::new(NewActor {
            name: name.unwrap_or(code).to_string(),
            kind: kind_of_sector(sector),
            country: Ok(country),
            sector,
        }),
    })
}

/// A quad class as text, by its number (1 to 4, as [`coded_quad`] gives it).
const QUAD_TEXT: [&str; 5] = ["0", "1", "2", "3", "4"];

/// The host of a URL (`https://www.example.org/a` -> `www.example.org`).
fn host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    rest.split(['/', '?', '#']).next().filter(|h| !h.is_empty())
}

/// DATEADDED as a recorded time: `YYYYMMDD` (1.0) at 00:00 UTC, `YYYYMMDDHHMMSS` (2.0) in UTC.
fn date_added(text: &str) -> Result<jiff::Timestamp, String> {
    let bad = || format!("DATEADDED `{text}` is neither YYYYMMDD nor YYYYMMDDHHMMSS");
    match text.len() {
        8 => parse_date(text)
            .map(|(d, _)| d.start().midnight_utc())
            .map_err(|_| bad()),
        14 => jiff::civil::DateTime::strptime("%Y%m%d%H%M%S", text)
            .and_then(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC))
            .map(|t| t.timestamp())
            .map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// The quad class of a row: its QuadClass (1 to 4), or the one of its CAMEO root when the
/// cell is empty. Refused when the QuadClass is another value, or the EventRootCode is not
/// the EventCode's root (`root`, its first two digits): the row contradicts itself.
fn coded_quad(root_cell: &str, root: &str, quad_cell: &str, quad: u8) -> Result<u8, Outcome> {
    if !root_cell.is_empty() && root_cell != root {
        return Err(refused(format!(
            "EventRootCode `{root_cell}` is not the root of EventCode (`{root}`)"
        )));
    }
    if quad_cell.is_empty() {
        return Ok(quad);
    }
    quad_cell
        .parse::<u8>()
        .ok()
        .filter(|q| (1..=4).contains(q))
        .ok_or_else(|| refused(format!("QuadClass `{quad_cell}` is not 1 to 4")))
}

/// Maps one GDELT row; rows without both actors are skipped.
pub(super) fn gdelt(
    r: &csv::StringRecord,
    recorded_from_data: bool,
    cache: &mut Cache,
) -> Result<Coded, Outcome> {
    if r.get(EVENT_ID)
        .is_some_and(|f| f.eq_ignore_ascii_case("GLOBALEVENTID"))
    {
        // GDELT's files have none; a user may have put the codebook's names on top.
        return Err(skipped("a header line (GLOBALEVENTID ...)"));
    }
    let Some((added, url, version)) = layout(r.len()) else {
        return Err(refused(format!(
            "{} fields: a GDELT 1.0 row has 57 or 58, a 2.0 row 61",
            r.len()
        )));
    };
    let (Some(actor), Some(recipient)) = (party(r, ACTOR1, cache), party(r, ACTOR2, cache)) else {
        return Err(skipped("no Actor1Code or no Actor2Code"));
    };
    let actor = actor.map_err(|e| refused(format!("Actor1Code: {e}")))?;
    let recipient = recipient.map_err(|e| refused(format!("Actor2Code: {e}")))?;
    let f = |i: usize| r.get(i).map(str::trim).unwrap_or("");
    let day = f(DAY);
    let (date, _) = match parse_yyyymmdd(day) {
        Some(parsed) => parsed.map_err(|e| refused(format!("SQLDATE: {e}")))?,
        None => return Err(refused(format!("SQLDATE `{day}` is not a date YYYYMMDD"))),
    };
    let code = f(EVENT_CODE);
    let (root, quad, event) = cameo(code).map_err(refused)?;
    let quad = coded_quad(f(EVENT_ROOT), &root, f(QUAD_CLASS), quad)?;
    let goldstein = scale_cell(
        "GoldsteinScale",
        Some(f(GOLDSTEIN)).filter(|g| !g.is_empty()),
        true,
    )?;
    let topic = cache
        .topic(&recipient, cameo_act(&root), || root_words(&root))
        .map_err(refused)?;
    let recorded = if recorded_from_data {
        Some(date_added(f(added)).map_err(refused)?)
    } else {
        None
    };
    let url = url.map(f).filter(|u| !u.is_empty());
    // Joined, not formatted: the formatting machinery showed in the reading thread's profile.
    let title = [
        "GDELT ",
        version,
        " event ",
        f(EVENT_ID),
        ": CAMEO ",
        code,
        ", Goldstein ",
        goldstein.unwrap_or("?"),
        ", quad class ",
        QUAD_TEXT.get(usize::from(quad)).copied().unwrap_or("?"),
        ", ",
        f(MENTIONS),
        " mention(s)",
    ]
    .concat();
    Ok(Coded {
        date,
        actor,
        recipient,
        topic,
        stance: stance_of_quad(quad).unwrap_or(Stance::Neutral),
        event,
        code: code.to_string(),
        cite: Cite {
            publication: url.and_then(host).unwrap_or(GDELT).to_string(),
            url: url.map(str::to_string),
            title: Some(title),
            published: None,
            via: Some([GDELT, " (GDELT ", version, " event export)"].concat()),
        },
        recorded,
    })
}
