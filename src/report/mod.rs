//! The HTML report (`stancelog report`): one self-contained file, inline SVG and CSS, no script,
//! no network access, byte for byte the same for the same log and options.
//!
//! It holds what fits the selection: a position grid as of a day, stances over time, agreement
//! (a heatmap, and agreement over time for pairs), the cumulative holders of each stance on a
//! treaty, and a diff between two days. Every chart is drawn from the same rows as the table
//! beside it. The analysis comes from the core (`History::positions_iter`, `agreement`,
//! `trend`, `holders`, `diff_iter`); this module only draws.

mod sections;
mod svg;

use std::fmt::Write;

use crate::core::{ActorId, At, Day, Filter, History, Seq, ValidDate};

pub use svg::{NEGATIVE, NEUTRAL, POSITIVE, SERIES};

/// What the report covers.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Positions as of this day (inclusive); `None`: every date counts.
    pub as_of: Option<Day>,
    /// Recorded time, as the last seq known; `None`: the whole log.
    pub known: Option<Seq>,
    /// Actors, topics and issues covered.
    pub filter: Filter,
    /// Pairs whose agreement is drawn year by year (each pair as given).
    pub pairs: Vec<(ActorId, ActorId)>,
    /// With `to`: a diff of positions as of `from` and as of `to` (inclusive days).
    pub from: Option<Day>,
    /// See `from`.
    pub to: Option<Day>,
}

impl Options {
    /// The stances the report draws on: those of the selection, and, when the selection names
    /// actors, those of the actors in `pairs` too (drawn over the selection's topics and
    /// issues). A history holding every event this filter selects (and every registration)
    /// draws the same report as the whole log's.
    pub fn needs(&self) -> Filter {
        let mut f = self.filter.clone();
        if !f.actors.is_empty() {
            for (a, b) in &self.pairs {
                f.actors.insert(a.clone());
                f.actors.insert(b.clone());
            }
        }
        f
    }
}

/// Where the report was drawn from, for its title.
#[derive(Debug, Clone)]
pub struct Source {
    /// The log's file name (not its path, so the report does not depend on where it lies).
    pub log_name: String,
    /// The last seq of the log.
    pub seq: Seq,
    /// The hash of its last record, as `stancelog verify` prints it.
    pub head_hash: String,
    /// The latest valid-time date of any stance in the whole log (the default as-of), which a
    /// sparse history of the selection may not hold.
    pub date_last: Option<ValidDate>,
    /// Words for the recorded-time cutoff, e.g. `everything recorded` or `as recorded by seq
    /// 40 (2024-10-30T09:00:00Z)`.
    pub known: String,
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;\
margin:2rem auto;max-width:1200px;padding:0 1rem;color:#111;background:#fff}\
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2.5rem;border-bottom:1px solid #ccc}\
.meta{color:#333}.meta code{font-size:.85rem;word-break:break-all}\
svg.chart{display:block;margin:1rem 0;font-size:12px;max-width:100%;height:auto}\
table{border-collapse:collapse;font-size:.85rem;margin:1rem 0}\
caption{text-align:left;font-weight:bold;padding:.3rem 0}\
th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}\
details{margin:.5rem 0}summary{cursor:pointer}.key span{display:inline-block;width:1em;height:1em;\
vertical-align:middle;margin:0 .3em 0 1em;border:1px solid #666}.note{color:#444;font-size:.9rem}";

/// The whole report as one HTML document.
pub fn render(h: &History, source: &Source, opts: &Options) -> String {
    let mut body = String::new();
    let parts = [
        sections::grid(h, opts),
        sections::over_time(h, opts),
        sections::agreement(h, opts),
        sections::treaties(h, opts),
        sections::diff(h, opts),
    ];
    for part in parts.into_iter().flatten() {
        body.push_str(&part);
    }
    if body.is_empty() {
        body.push_str("<p>The selection covers no stance.</p>");
    }
    let title = format!("stancelog report: {}", source.log_name);
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<link rel=\"icon\" href=\"data:,\"><title>{t}</title><style>{CSS}</style></head>\n<body>\
<h1>{t}</h1>{meta}{body}{footer}</body></html>\n",
        t = svg::esc(&title),
        meta = meta(source, opts),
        footer = footer(),
    );
    page
}

/// The paragraph under the title: log, seq, head hash, as-of, known-at and the selection.
fn meta(source: &Source, opts: &Options) -> String {
    let as_of = match opts.as_of {
        Some(d) => format!("as of {d}"),
        None => match source.date_last {
            Some(d) => format!("as of the latest date in the log ({d})"),
            None => "as of no date (the log has no stances)".to_string(),
        },
    };
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "all".to_string()
        } else {
            items.join(", ")
        }
    };
    let f = &opts.filter;
    format!(
        "<p class=\"meta\">Drawn from log <strong>{}</strong> at seq <strong>{}</strong>, head \
hash <code>{}</code>; positions {}; known at: {}.</p><p class=\"meta\">Actors: {}. Topics: {}. \
Issues: {}.</p>",
        svg::esc(&source.log_name),
        source.seq,
        svg::esc(&source.head_hash),
        svg::esc(&as_of),
        svg::esc(&source.known),
        svg::esc(&list(f.actors.iter().map(|a| a.to_string()).collect())),
        svg::esc(&list(f.topics.iter().map(|t| t.to_string()).collect())),
        svg::esc(&list(f.issues.iter().cloned().collect())),
    )
}

fn footer() -> String {
    format!(
        "<h2>About the colours</h2><p class=\"key\">Polarity:<span style=\"background:{POSITIVE}\"></span>+1 \
(yes, support, affirm, signed, ratified)<span style=\"background:{NEUTRAL}\"></span>0 (abstain, neutral, \
doubt)<span style=\"background:{NEGATIVE}\"></span>-1 (no, oppose, deny, withdrawn)</p>\
<p class=\"note\">Blue {POSITIVE} and vermillion {NEGATIVE} are from Okabe and Ito's colour-blind-safe \
palette (2008), grey {NEUTRAL} from Paul Tol's bright scheme; lines use the Okabe-Ito colours in turn; \
heatmaps run from white to Okabe-Ito blue, so a value is read from lightness. Every chart has a table \
with the same rows. Made by stancelog.</p>"
    )
}

/// Words for a point on both time axes (used in captions).
pub(crate) fn at_words(at: At) -> String {
    match at.as_of {
        Some(d) => format!("as of {d}"),
        None => "with every date".to_string(),
    }
}
