//! Rendering answers as aligned tables, JSON arrays or CSV. Output order is the order the core
//! returns (always defined), so the same log gives byte-identical output.

use std::collections::BTreeSet;
use std::io::{self, Write};

use comfy_table::{LineStyle, Table, TableStyle};
use serde::Serialize;

use stancelog::core::{Change, Decided, History, TimelineDecided};
use stancelog::export;
use stancelog::export::columns::{self, Column};
use stancelog::export::json::Flat;
use stancelog::export::rows::{self, ChangeRow, Needs, PositionRow, TimelineRow};
use stancelog::import::ImportReport;
use stancelog::store::{AppendReport, IndexCheck, IndexReport, Log};

use super::args::Format;

/// Plain columns with one rule under the header: readable in any terminal and any locale.
const TABLE_STYLE: TableStyle =
    TableStyle::new().header_separator(LineStyle::none().fill('-').junction(' '));

/// Longest text shown in a table cell before it is cut with `…` (JSON and CSV are never cut).
const CELL_CHARS_MAX: usize = 44;

/// Longest source shown in a positions table.
const SOURCE_CHARS_MAX: usize = 28;

pub struct Render {
    format: Format,
}

#[derive(Serialize)]
struct VerifiedOut {
    events: u64,
    head_hash: String,
    schema1_records: u64,
    /// `agrees`, `behind`, `unusable` (whether or not a query can rebuild it), `absent`,
    /// `unwritable` (absent, and no query can write it) or `unchecked` (an index that queries
    /// would use but that disagrees with the log fails verification).
    index: &'static str,
    /// The last seq the index covers (0 when absent).
    index_seq: u64,
}

#[derive(Serialize)]
struct AppendedOut {
    seq: u64,
    id: String,
    duplicate: bool,
}

/// Cuts text for a table cell, on a character boundary.
pub(super) fn cell(text: &str) -> String {
    cut(text, CELL_CHARS_MAX)
}

/// `text` with its control characters (a line break, a terminal escape) shown escaped (`\n`,
/// `\u{1b}`), so that it prints as one line and cannot drive the terminal: for text from a
/// user's file in a table cell or a message line.
pub(super) fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Cuts text to at most `max` characters, ending in `…` when cut, shown on one line
/// ([`one_line`]).
fn cut(text: &str, max: usize) -> String {
    let text = one_line(text);
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(TABLE_STYLE).set_header(header.to_vec());
    t
}

/// A table written as its rows come, in the layout comfy-table gives [`TABLE_STYLE`] (each cell
/// padded by one space on each side, cells joined by a space, a rule of dashes under the header,
/// trailing spaces trimmed), so the output is the same as [`table`]'s. Two passes over `rows`:
/// the column widths (display width, as comfy-table counts it), then the rows; nothing is held
/// but one row.
pub(super) fn stream_table<I: Iterator<Item = Vec<String>>>(
    out: &mut dyn Write,
    header: &[&str],
    rows: impl Fn() -> I,
) -> io::Result<()> {
    use unicode_width::UnicodeWidthStr;
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in rows() {
        for (w, c) in widths.iter_mut().zip(&row) {
            *w = (*w).max(c.width());
        }
    }
    let mut line = String::new();
    let mut put = |out: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| {
        line.clear();
        for (i, (c, w)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                line.push(' ');
            }
            line.push(' ');
            line.push_str(c);
            line.extend(std::iter::repeat_n(' ', w - c.width() + 1));
        }
        writeln!(out, "{}", line.trim_end())
    };
    put(out, &mut header.iter().copied())?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(w + 2)).collect();
    writeln!(out, "{}", rule.join(" "))?;
    for row in rows() {
        put(out, &mut row.iter().map(String::as_str))?;
    }
    Ok(())
}

/// A short account of corrections and further reports, for table cells.
fn notes_of(p: &PositionRow) -> String {
    let mut parts = Vec::new();
    if p.sources.len() > 1 {
        parts.push(format!("{} sources", p.sources.len()));
    }
    for c in &p.corrections {
        parts.push(format!("corrected ({}) by {}", c.fields.join(", "), c.seq));
    }
    if let Some(d) = &p.declared_as {
        parts.push(format!("as {d}"));
    }
    parts.join("; ")
}

fn csv_out(out: &mut dyn Write, header: &[&str], rows: Vec<Vec<String>>) -> io::Result<()> {
    csv_stream(out, header, rows.into_iter())
}

/// CSV with a header row, the rows written as they come.
pub(super) fn csv_stream(
    out: &mut dyn Write,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header).map_err(export::csv_err)?;
    for r in rows {
        w.write_record(r.iter().map(|c| export::neutralise(c).into_owned()))
            .map_err(export::csv_err)?;
    }
    w.flush()
}

pub(super) fn json_out<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    let mut w = export::Chunked::new(out);
    serde_json::to_writer_pretty(&mut w, value)?;
    w.write_all(b"\n")?;
    w.finish()
}

/// What the columns `cols` read of a row ([`Needs::of`]); every part without `--columns`.
fn needs_of<R>(cols: Option<&[Column<R>]>) -> Needs {
    cols.map_or(Needs::ALL, |cols| {
        Needs::of(cols.iter().map(|c| c.name.as_str()))
    })
}

/// An answer as the columns `cols` alone (`--columns`): JSON and NDJSON flat objects of them,
/// CSV those columns, a table those columns under their names (no heading line). `items`
/// gives the answer afresh each time it is called and `row` builds each item's row, as in
/// [`Render::positions`].
fn chosen<P: Send, R, I: Iterator<Item = P>>(
    format: Format,
    out: &mut dyn Write,
    cols: &[Column<R>],
    items: impl Fn() -> I,
    row: impl Fn(P) -> Option<R> + Sync,
) -> io::Result<()> {
    let rows = || items().filter_map(&row);
    match format {
        Format::Json => {
            export::json::write_pretty_par(out, items(), |p| row(p).map(|r| Flat::new(cols, r)))
        }
        Format::Ndjson => export::write_ndjson(out, rows().map(|r| Flat::new(cols, r))),
        Format::Csv => export::write_csv(out, cols, rows()),
        Format::Table => {
            let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
            let cells = |r: R| {
                cols.iter()
                    .map(|c| cell(&columns::plain_text((c.get)(&r))))
                    .collect()
            };
            stream_table(out, &names, || rows().map(cells))
        }
    }
}

impl Render {
    pub fn new(format: Format) -> Render {
        Render { format }
    }

    /// Positions, as a table, JSON, NDJSON or CSV. `decided` gives the answer afresh each
    /// time it is called, decided but not built ([`History::positions_decided`]): a table is
    /// written in two passes (widths, then rows), so no format holds a long answer whole, and
    /// JSON builds the positions on the threads that write them.
    pub fn positions<I>(
        &self,
        out: &mut dyn Write,
        h: &History,
        when: &str,
        cols: Option<&[Column<PositionRow>]>,
        decided: impl Fn() -> I,
    ) -> io::Result<()>
    where
        I: Iterator<Item = Decided>,
    {
        // With --columns, only the parts of each row that the columns read are built.
        let needs = needs_of(cols);
        let row = |d: Decided| {
            let (actor, topic) = if needs.names { h.names(&d) } else { ("", "") };
            let (actor, topic) = (needs.name(actor), needs.name(topic));
            h.position_view(&d)
                .map(|p| PositionRow::needing(p, actor, topic, needs))
        };
        if let Some(cols) = cols {
            return chosen(self.format, out, cols, decided, row);
        }
        let rows = || decided().filter_map(row);
        match self.format {
            Format::Json => export::json::write_pretty_par(out, decided(), row),
            Format::Ndjson => export::write_ndjson(out, rows()),
            Format::Csv => export::write_csv(out, &columns::positions(), rows()),
            Format::Table => {
                // Rows come sorted by actor: count actors where the actor changes.
                let (mut count, mut actors, mut last) = (0, 0, String::new());
                for r in rows() {
                    count += 1;
                    if r.actor != last {
                        actors += 1;
                        last = r.actor;
                    }
                }
                writeln!(
                    out,
                    "Positions {when}: {count} position(s) of {actors} actor(s)\n"
                )?;
                let cells = |r: PositionRow| {
                    vec![
                        cell(&r.actor_name),
                        cell(&r.topic_title),
                        r.stance.to_string(),
                        r.since.clone(),
                        r.event.unwrap_or("").to_string(),
                        r.seq.to_string(),
                        cut(&source_of(&r), SOURCE_CHARS_MAX),
                        notes_of(&r),
                    ]
                };
                stream_table(
                    out,
                    &[
                        "Actor", "Topic", "Stance", "Since", "PLOVER", "Seq", "Source", "Notes",
                    ],
                    || rows().map(cells),
                )
            }
        }
    }

    /// Changes between two points, as a table, JSON, NDJSON or CSV; `changes` as in
    /// [`Render::positions`].
    pub fn diff<'a, I>(
        &self,
        out: &mut dyn Write,
        h: &'a History,
        when: &str,
        cols: Option<&[Column<ChangeRow>]>,
        changes: impl Fn() -> I,
    ) -> io::Result<()>
    where
        I: Iterator<Item = Change<'a>>,
    {
        if let Some(cols) = cols {
            let needs = needs_of(Some(cols));
            return chosen(self.format, out, cols, changes, |c| {
                Some(ChangeRow::needing(h, c, needs))
            });
        }
        let rows = || changes().map(|c| ChangeRow::of(h, c));
        let brief = |p: &Option<PositionRow>| match p {
            Some(p) => format!("{} (since {}, seq {})", p.stance, p.since, p.seq),
            None => "-".to_string(),
        };
        match self.format {
            Format::Json => {
                export::json::write_pretty_par(out, changes(), |c| Some(ChangeRow::of(h, c)))
            }
            Format::Ndjson => export::write_ndjson(out, rows()),
            Format::Csv => export::write_csv(out, &columns::diff(), rows()),
            Format::Table => {
                writeln!(out, "Changes {when}: {}\n", rows().count())?;
                let cells = |r: ChangeRow| {
                    vec![
                        cell(&r.actor_name),
                        cell(&r.topic_title),
                        r.change.to_string(),
                        brief(&r.before),
                        brief(&r.after),
                    ]
                };
                stream_table(
                    out,
                    &["Actor", "Topic", "Change", "Before", "After"],
                    || rows().map(cells),
                )
            }
        }
    }

    /// A timeline, as a table, JSON, NDJSON or CSV; `entries` as in [`Render::positions`],
    /// decided but not built ([`History::timeline_decided`]).
    pub fn timeline<I>(
        &self,
        out: &mut dyn Write,
        h: &History,
        when: &str,
        cols: Option<&[Column<TimelineRow>]>,
        entries: impl Fn() -> I,
    ) -> io::Result<()>
    where
        I: Iterator<Item = TimelineDecided>,
    {
        let needs = needs_of(cols);
        let row = |t: TimelineDecided| TimelineRow::decided(h, &t, needs);
        if let Some(cols) = cols {
            return chosen(self.format, out, cols, entries, row);
        }
        let rows = || entries().filter_map(row);
        match self.format {
            Format::Json => export::json::write_pretty_par(out, entries(), row),
            Format::Ndjson => export::write_ndjson(out, rows()),
            Format::Csv => export::write_csv(out, &columns::timeline(), rows()),
            Format::Table => {
                writeln!(out, "Timeline{when}: {} stance(s)\n", rows().count())?;
                let cells = |r: TimelineRow| {
                    let status = match (r.superseded_by, r.retracted_by) {
                        (Some(by), _) => format!("superseded by {by}"),
                        (_, Some(by)) => format!("retracted by {by}"),
                        _ => r.status.to_string(),
                    };
                    vec![
                        r.position.since.clone(),
                        cell(&r.position.actor_name),
                        cell(&r.position.topic_title),
                        r.position.stance.to_string(),
                        status,
                        r.position.seq.to_string(),
                        cell(r.position.quote.as_deref().unwrap_or("")),
                        notes_of(&r.position),
                    ]
                };
                stream_table(
                    out,
                    &[
                        "Date", "Actor", "Topic", "Stance", "Status", "Seq", "Quote", "Notes",
                    ],
                    || rows().map(cells),
                )
            }
        }
    }

    /// Registered actors, by name then id (rows from [`rows::actor_rows`]).
    pub fn actors(
        &self,
        out: &mut dyn Write,
        rows: Vec<rows::ActorRow>,
        cols: Option<&[Column<rows::ActorRow>]>,
    ) -> io::Result<()> {
        if let Some(cols) = cols {
            return chosen(self.format, out, cols, || rows.iter().cloned(), Some);
        }
        match self.format {
            Format::Json => json_out(out, &rows),
            Format::Ndjson => export::write_ndjson(out, rows.iter()),
            Format::Csv => export::write_csv(out, &columns::actors(), rows.into_iter()),
            Format::Table => {
                writeln!(out, "Actors: {}\n", rows.len())?;
                let mut t = table(&[
                    "Name",
                    "Id",
                    "Kind",
                    "Country",
                    "Sector",
                    "Stances",
                    "Retracted",
                ]);
                for r in &rows {
                    t.add_row(vec![
                        cell(&r.name),
                        cell(&r.actor),
                        r.kind.to_string(),
                        r.country.clone(),
                        r.sector.to_string(),
                        r.stances.to_string(),
                        r.retracted.to_string(),
                    ]);
                }
                writeln!(out, "{}", t.trim_fmt())
            }
        }
    }

    /// Registered topics, by title then id (rows from [`rows::topic_rows`]).
    pub fn topics(
        &self,
        out: &mut dyn Write,
        rows: Vec<rows::TopicRow>,
        cols: Option<&[Column<rows::TopicRow>]>,
    ) -> io::Result<()> {
        if let Some(cols) = cols {
            return chosen(self.format, out, cols, || rows.iter().cloned(), Some);
        }
        match self.format {
            Format::Json => json_out(out, &rows),
            Format::Ndjson => export::write_ndjson(out, rows.iter()),
            Format::Csv => export::write_csv(out, &columns::topics(), rows.into_iter()),
            Format::Table => {
                writeln!(out, "Topics: {}\n", rows.len())?;
                let mut t = table(&["Title", "Id", "Kind", "Stances", "Retracted"]);
                for r in &rows {
                    t.add_row(vec![
                        cell(&r.title),
                        cell(&r.topic),
                        r.kind.to_string(),
                        r.stances.to_string(),
                        r.retracted.to_string(),
                    ]);
                }
                writeln!(out, "{}", t.trim_fmt())
            }
        }
    }

    pub fn imported(&self, out: &mut dyn Write, r: &ImportReport) -> io::Result<()> {
        let v = ImportedOut {
            dry_run: r.dry_run,
            appended: r.appended,
            cited: r.cited,
            corrected: r.corrected,
            already_present: r.already_present,
            skipped: r.skipped,
            skipped_why: &r.skipped_why,
            refused: r
                .refused
                .iter()
                .map(|x| RefusedOut {
                    file: &x.file,
                    line: x.line,
                    reason: &x.reason,
                })
                .collect(),
            refused_count: r.refused_count,
            would_append: &r.would_append,
        };
        match self.format {
            Format::Json => json_out(out, &v),
            Format::Ndjson => export::write_ndjson(out, std::iter::once(&v)),
            Format::Csv => csv_out(
                out,
                &["file", "line", "reason"],
                v.refused
                    .iter()
                    .map(|x| vec![x.file.to_string(), x.line.to_string(), x.reason.to_string()])
                    .collect(),
            ),
            Format::Table => imported_table(out, &v),
        }
    }

    /// What `stancelog index` reports: the index's place, format, end and segments.
    pub fn index(&self, out: &mut dyn Write, r: &IndexReport) -> io::Result<()> {
        let v = index_out(r);
        match self.format {
            Format::Json => json_out(out, &v),
            Format::Ndjson => export::write_ndjson(out, std::iter::once(&v)),
            Format::Csv => csv_out(
                out,
                &[
                    "path",
                    "version",
                    "seq",
                    "head_hash",
                    "actors",
                    "topics",
                    "segments",
                    "bytes",
                ],
                vec![vec![
                    v.path.clone(),
                    v.version.to_string(),
                    v.seq.to_string(),
                    v.head_hash.clone(),
                    v.actors.to_string(),
                    v.topics.to_string(),
                    v.segments.len().to_string(),
                    v.bytes.to_string(),
                ]],
            ),
            Format::Table => {
                writeln!(
                    out,
                    "index at seq {} (head hash {}): {}, format {}, {} actors, {} topics, {} segment(s), {} bytes",
                    v.seq,
                    v.head_hash,
                    v.path,
                    v.version,
                    v.actors,
                    v.topics,
                    v.segments.len(),
                    v.bytes
                )?;
                for s in &v.segments {
                    writeln!(out, "  seqs {} to {}: {} bytes", s.first, s.last, s.bytes)?;
                }
                Ok(())
            }
        }
    }

    /// A verified log, and what was found of its index (`None`: not checked, a writer was
    /// appending).
    pub fn verified(
        &self,
        out: &mut dyn Write,
        log: &Log,
        index: Option<&IndexCheck>,
    ) -> io::Result<()> {
        let (state, index_seq) = match index {
            Some(IndexCheck::Agrees { seq }) => ("agrees", *seq),
            Some(IndexCheck::Behind { seq }) => ("behind", *seq),
            None => ("unchecked", 0),
            Some(IndexCheck::Unusable { .. }) => ("unusable", 0),
            Some(IndexCheck::Disagrees { .. }) => ("disagrees", 0),
            Some(IndexCheck::Absent) => ("absent", 0),
            Some(IndexCheck::Unwritable { .. }) => ("unwritable", 0),
        };
        let v = VerifiedOut {
            events: log.history().seq_last(),
            head_hash: log.head_hash(),
            schema1_records: log.schema1_records(),
            index: state,
            index_seq,
        };
        match self.format {
            Format::Json => json_out(out, &v),
            Format::Ndjson => export::write_ndjson(out, std::iter::once(&v)),
            Format::Csv => csv_out(
                out,
                &["events", "head_hash", "schema1_records"],
                vec![vec![
                    v.events.to_string(),
                    v.head_hash.clone(),
                    v.schema1_records.to_string(),
                ]],
            ),
            Format::Table => {
                writeln!(out, "ok: {} events, head hash {}", v.events, v.head_hash)?;
                match index {
                    Some(IndexCheck::Agrees { seq }) => {
                        writeln!(out, "index: agrees with the log (seq {seq})")?
                    }
                    None => writeln!(
                        out,
                        "index: not checked (a batch is being written, or a PostgreSQL log has no cache folder for its index)"
                    )?,
                    Some(IndexCheck::Behind { seq }) => writeln!(
                        out,
                        "index: agrees with the log up to seq {seq}; the next query or append brings it up to date"
                    )?,
                    Some(IndexCheck::Unusable {
                        why,
                        unwritable: None,
                    }) => writeln!(out, "index: not used ({why}); the next query rebuilds it")?,
                    Some(IndexCheck::Unusable {
                        why,
                        unwritable: Some(folder),
                    }) => writeln!(
                        out,
                        "index: not used ({why}), and the next query cannot write it ({folder}); queries answer from the log itself, with a warning"
                    )?,
                    Some(IndexCheck::Disagrees { .. }) => {
                        writeln!(out, "index: does not agree with the log (the error below)")?
                    }
                    Some(IndexCheck::Unwritable { why }) => writeln!(
                        out,
                        "index: none, and the next query cannot write it ({why}); queries answer from the log itself, with a warning"
                    )?,
                    Some(IndexCheck::Absent) => {
                        writeln!(out, "index: none; the next query builds it")?
                    }
                }
                if v.schema1_records > 0 {
                    writeln!(
                        out,
                        "note: {} record(s) of schema 1 carry no hash of their own; they are covered by the hash of the next schema-2 record, if any",
                        v.schema1_records
                    )?;
                }
                Ok(())
            }
        }
    }

    pub fn appended(&self, out: &mut dyn Write, report: &AppendReport) -> io::Result<()> {
        let rows: Vec<AppendedOut> = report
            .events
            .iter()
            .map(|a| AppendedOut {
                seq: a.seq,
                id: a.id.hyphenated().to_string(),
                duplicate: a.duplicate,
            })
            .collect();
        match self.format {
            Format::Json => json_out(out, &rows),
            Format::Ndjson => export::write_ndjson(out, rows.iter()),
            Format::Csv => csv_out(
                out,
                &["seq", "id", "duplicate"],
                rows.iter()
                    .map(|r| vec![r.seq.to_string(), r.id.clone(), r.duplicate.to_string()])
                    .collect(),
            ),
            Format::Table => {
                // A duplicate of an event this batch stored repeats it within the batch.
                let stored: BTreeSet<u64> = rows
                    .iter()
                    .filter(|r| !r.duplicate)
                    .map(|r| r.seq)
                    .collect();
                let mut repeated = 0;
                for r in &rows {
                    let note = match (r.duplicate, stored.contains(&r.seq)) {
                        (false, _) => "",
                        (true, true) => {
                            repeated += 1;
                            "  (repeats an event earlier in this batch; stored once)"
                        }
                        (true, false) => "  (already in the log; not stored again)",
                    };
                    writeln!(out, "seq {}  id {}{note}", r.seq, r.id)?;
                }
                let present = rows.len() - stored.len() - repeated;
                write!(
                    out,
                    "appended {} event(s), {present} already present",
                    stored.len()
                )?;
                if repeated > 0 {
                    write!(out, ", {repeated} repeated in this batch")?;
                }
                writeln!(out)
            }
        }
    }
}

/// The shortest useful source for a table: the relayed agency when there is one, else the
/// publication.
fn source_of(r: &PositionRow) -> String {
    match &r.cite.via {
        Some(via) => format!("via {via}"),
        None => r.cite.publication.clone(),
    }
}

/// One segment in `stancelog index`'s report.
#[derive(Serialize)]
struct SegmentOut {
    first: u64,
    last: u64,
    bytes: u64,
}

/// `stancelog index`'s report as written in JSON, NDJSON and CSV.
#[derive(Serialize)]
struct IndexOut {
    path: String,
    version: u32,
    seq: u64,
    head_hash: String,
    actors: usize,
    topics: usize,
    bytes: u64,
    segments: Vec<SegmentOut>,
}

/// The report's fields, with the segments' bytes summed.
fn index_out(r: &IndexReport) -> IndexOut {
    IndexOut {
        path: r.path.display().to_string(),
        version: r.version,
        seq: r.seq,
        head_hash: r.head_hash.clone(),
        actors: r.actors,
        topics: r.topics,
        bytes: r.segments.iter().map(|s| s.2).sum(),
        segments: r
            .segments
            .iter()
            .map(|(first, last, bytes)| SegmentOut {
                first: *first,
                last: *last,
                bytes: *bytes,
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct RefusedOut<'a> {
    file: &'a str,
    line: u64,
    reason: &'a str,
}

/// An import's report as `import --format json` prints it (docs/output.md).
#[derive(Serialize)]
struct ImportedOut<'a> {
    dry_run: bool,
    appended: u64,
    cited: u64,
    corrected: u64,
    already_present: u64,
    skipped: u64,
    skipped_why: &'a std::collections::BTreeMap<String, u64>,
    refused: Vec<RefusedOut<'a>>,
    refused_count: u64,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    would_append: &'a [stancelog::store::Record],
}

/// An import's report as a table: the counts, then a line per skip reason, per refused row
/// and per event a dry run would append (of the first ones it kept).
fn imported_table(out: &mut dyn Write, v: &ImportedOut<'_>) -> io::Result<()> {
    let verb = if v.dry_run {
        "would be appended (dry run: nothing written)"
    } else {
        "appended"
    };
    writeln!(
        out,
        "imported: {} event(s) {verb} ({} citation(s), {} correction(s)), {} already present, {} skipped, {} row(s) refused",
        v.appended, v.cited, v.corrected, v.already_present, v.skipped, v.refused_count
    )?;
    for (why, n) in v.skipped_why {
        writeln!(out, "skipped {n}: {}", one_line(why))?;
    }
    // One line per refused row, whatever its cells hold.
    for x in &v.refused {
        let (file, reason) = (one_line(x.file), one_line(x.reason));
        writeln!(out, "refused {file}:{}: {reason}", x.line)?;
    }
    let unlisted = v.refused_count - v.refused.len() as u64;
    if unlisted > 0 {
        writeln!(
            out,
            "refused: {unlisted} more row(s), not listed (the first {} refused are)",
            v.refused.len()
        )?;
    }
    if !v.would_append.is_empty() {
        let shown = v.would_append.len();
        writeln!(out, "would append (the first {shown} of {}):", v.appended)?;
        for r in v.would_append {
            let line = serde_json::to_string(r).map_err(io::Error::other)?;
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed table must look exactly like comfy-table's, which the small listings use.
    #[test]
    fn a_streamed_table_is_the_comfy_table_layout() {
        let header = ["Actor", "Topic", "Stance", "Notes"];
        let rows: Vec<Vec<String>> = [
            [
                "Cho Tae-yul",
                "South Korean countermeasures to the North K…",
                "support",
                "",
            ],
            ["조태열", "북한군 파병", "oppose", "corrected (actor) by 40"],
            ["", "", "", ""],
            ["Dmitry Peskov", "t", "doubt", "x"],
        ]
        .iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
        let mut t = table(&header);
        for r in &rows {
            t.add_row(r.clone());
        }
        let expected = format!("{}\n", t.trim_fmt());
        let mut got = Vec::new();
        stream_table(&mut got, &header, || rows.iter().cloned()).unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), expected);
        // And with no rows.
        let expected = format!("{}\n", table(&header).trim_fmt());
        let mut got = Vec::new();
        stream_table(&mut got, &header, std::iter::empty::<Vec<String>>).unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), expected);
    }
}
