//! `--format json` of the long answers (positions, changes, timelines) written directly: the
//! same bytes as `serde_json::to_writer_pretty` gives for the rows of [`super::rows`] (keys in
//! field order, two-space indent, `": "`, `[]` for an empty list, strings escaped as serde_json
//! escapes them), without a serializer's call per token. A query of every pair writes 449,475
//! positions (500 MB) on the UN votes log; through serde_json, writing took half its time.
//! Tests compare every row kind with serde_json's output, so the two cannot drift apart.

use std::io::{self, Write};

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::Chunked;
use super::columns::{Cell, Column};
use super::rows::{
    ChangeRow, CiteRow, CorrectionRow, PositionRow, RoleRow, SourceRow, TimelineRow,
};
use crate::core::{Day, ValidDate};
use crate::store::escape_json as escaped;
use crate::store::format_recorded_at;

/// A row that writes itself as a pretty JSON object.
pub trait JsonRow {
    /// Writes the row's object at the writer's depth.
    fn write_json(&self, j: &mut Pretty);
}

impl<T: JsonRow> JsonRow for &T {
    fn write_json(&self, j: &mut Pretty) {
        (*self).write_json(j);
    }
}

/// Writes `rows` as a pretty JSON array and a final newline, as
/// `serde_json::to_writer_pretty` of a sequence of them does.
///
/// # Errors
/// The writer's I/O errors.
pub fn write_pretty<T: JsonRow>(
    out: &mut dyn Write,
    rows: impl Iterator<Item = T>,
) -> io::Result<()> {
    let mut j = Pretty::new(out);
    j.open(b'[');
    for r in rows {
        j.item();
        r.write_json(&mut j);
        j.spill()?;
    }
    j.close(b']');
    j.buf.write_all(b"\n")?;
    j.buf.finish()
}

/// Answers of fewer rows than this are written without worker threads.
const ALONE: usize = 8192;
/// Rows rendered together on one worker thread.
const PART: usize = 512;
/// Parts rendered at once, while the next ones are gathered (their texts are reused by the
/// next ones: fresh memory costs the kernel a zeroed page per 4 KiB).
const PARTS: usize = 4;

/// [`write_pretty`] of `row(item)` for each of `items` (leaving out those it gives `None`
/// for), the same bytes, with the rows built and written on worker threads a part at a time
/// while the calling thread gathers the next items (an answer is computed lazily, so `items`
/// does the query's own work; [`History::positions_decided`](crate::core::History::positions_decided)
/// leaves building each position to `row`). Long answers (a query of every pair writes 449,475
/// rows of about a kilobyte each) keep both cores busy. Each part's text is written to `out`
/// as it is, in one call, not copied into a buffer first.
///
/// # Errors
/// The writer's I/O errors.
pub fn write_pretty_par<P: Send, T: JsonRow>(
    out: &mut dyn Write,
    mut items: impl Iterator<Item = P>,
    row: impl Fn(P) -> Option<T> + Sync,
) -> io::Result<()> {
    // Short answers are written on the calling thread: worker threads cost more than they
    // save there (their start, and the fresh memory each one's allocations take; a one-actor
    // query of the UN votes log, 4,378 rows, took about a tenth less CPU without them).
    // An answer known to be short (its iterator's upper bound) is written as it comes:
    // gathering a timeline's 6,156 entries first (each a whole position) copied them as their
    // vector grew (3.4M instructions of that query's 141M).
    if items.size_hint().1.is_some_and(|n| n < ALONE) {
        return write_pretty(out, items.filter_map(row));
    }
    let head: Vec<P> = items.by_ref().take(ALONE).collect();
    if head.len() < ALONE {
        return write_pretty(out, head.into_iter().filter_map(row));
    }
    let mut items = head.into_iter().chain(items).fuse();
    let gather = |items: &mut dyn Iterator<Item = P>| -> Vec<Vec<P>> {
        (0..PARTS)
            .map(|_| items.take(PART).collect::<Vec<P>>())
            .take_while(|part| !part.is_empty())
            .collect()
    };
    let mut parts = gather(&mut items);
    // The longest part so far: room for the next ones, so their texts do not grow by copying.
    let longest = AtomicUsize::new(0);
    out.write_all(b"[")?;
    let mut any = false;
    let mut texts: Vec<Vec<u8>> = Vec::new();
    while !parts.is_empty() {
        let mut next = Vec::new();
        let spare = std::mem::take(&mut texts);
        let work: Vec<(Vec<P>, Vec<u8>)> = parts
            .into_iter()
            .zip(spare.into_iter().chain(std::iter::repeat_with(Vec::new)))
            .collect();
        rayon::in_place_scope(|s| {
            s.spawn(|_| {
                texts = work
                    .into_par_iter()
                    .map(|(part, text)| {
                        let room =
                            longest.load(Ordering::Relaxed) + longest.load(Ordering::Relaxed) / 8;
                        let text = render(part.into_iter().filter_map(&row), room, text);
                        longest.fetch_max(text.len(), Ordering::Relaxed);
                        text
                    })
                    .collect();
            });
            next = gather(&mut items);
        });
        for text in texts.iter().filter(|t| !t.is_empty()) {
            if any {
                out.write_all(b",")?;
            }
            out.write_all(text)?;
            any = true;
        }
        parts = next;
    }
    out.write_all(if any { b"\n]\n" } else { b"]\n" })
}

/// Rows as the elements of a pretty array (each after a newline and two spaces, separated by
/// commas), without the brackets, in `text` (emptied first) with room for `room` bytes (none:
/// room for a part of rows of up to 2 KiB; a timeline's are about 1.4 KiB). The rows are
/// written into the writer's own buffer, which is then taken as it is (copying it into
/// another vector touched twice the memory: a quarter of a one-actor timeline's time went to
/// zeroing fresh pages).
fn render<T: JsonRow>(rows: impl Iterator<Item = T>, room: usize, mut text: Vec<u8>) -> Vec<u8> {
    let mut sink = io::sink();
    text.clear();
    text.reserve(if room == 0 { PART * 2048 } else { room });
    let mut j = Pretty::with_buf(&mut sink, text);
    j.depth = 1;
    for r in rows {
        j.item();
        r.write_json(&mut j);
    }
    std::mem::take(j.buf.bytes())
}

/// A pretty JSON writer: the bytes and where it stands (depth, whether the open object or
/// array has a value yet).
pub struct Pretty<'a> {
    buf: Chunked<'a>,
    depth: usize,
    first: bool,
    /// The last recorded time written, and its text (rows of one batch share it).
    recorded: Option<(jiff::Timestamp, String)>,
}

impl<'a> Pretty<'a> {
    fn new(out: &'a mut dyn Write) -> Pretty<'a> {
        Pretty::of(Chunked::new(out))
    }

    /// A writer gathering what it writes after the bytes of `buf` (not passed on to `out`
    /// until a chunk is gathered: `render` takes the buffer whole).
    fn with_buf(out: &'a mut dyn Write, buf: Vec<u8>) -> Pretty<'a> {
        Pretty::of(Chunked::with_buf(out, buf))
    }

    fn of(buf: Chunked<'a>) -> Pretty<'a> {
        Pretty {
            buf,
            depth: 0,
            first: true,
            recorded: None,
        }
    }

    /// Passes what is buffered on once there is a chunk of it.
    fn spill(&mut self) -> io::Result<()> {
        self.buf.spill()
    }

    fn newline(&mut self) {
        // Rows nest a few levels deep; deeper ones are indented a piece at a time.
        const INDENT: &[u8] = b"\n                ";
        let b = self.buf.bytes();
        let mut spaces = self.depth * 2;
        let first = spaces.min(INDENT.len() - 1);
        b.extend_from_slice(&INDENT[..1 + first]);
        spaces -= first;
        while spaces > 0 {
            let n = spaces.min(INDENT.len() - 1);
            b.extend_from_slice(&INDENT[1..1 + n]);
            spaces -= n;
        }
    }

    fn open(&mut self, c: u8) {
        self.buf.bytes().push(c);
        self.depth += 1;
        self.first = true;
    }

    fn close(&mut self, c: u8) {
        self.depth -= 1;
        if !self.first {
            self.newline();
        }
        self.buf.bytes().push(c);
        self.first = false;
    }

    /// Starts an element of the open array.
    fn item(&mut self) {
        if !self.first {
            self.buf.bytes().push(b',');
        }
        self.first = false;
        self.newline();
    }

    /// Starts the value of `key` (plain ASCII, written unescaped) in the open object.
    fn key(&mut self, key: &str) {
        self.item();
        let b = self.buf.bytes();
        b.push(b'"');
        b.extend_from_slice(key.as_bytes());
        b.extend_from_slice(b"\": ");
    }

    /// Starts the value of a key given already quoted, with its colon and space
    /// ([`Column::json_key`](super::columns::Column::json_key)), in the open object.
    fn quoted_key(&mut self, quoted: &str) {
        self.item();
        self.buf.bytes().extend_from_slice(quoted.as_bytes());
    }

    fn null(&mut self) {
        self.buf.bytes().extend_from_slice(b"null");
    }

    fn str(&mut self, s: &str) {
        escape(self.buf.bytes(), s);
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.null(),
        }
    }

    fn u64(&mut self, v: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut v = v;
        loop {
            at -= 1;
            digits[at] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.buf.bytes().extend_from_slice(&digits[at..]);
    }

    fn opt_u64(&mut self, v: Option<u64>) {
        match v {
            Some(v) => self.u64(v),
            None => self.null(),
        }
    }

    fn i8(&mut self, v: i8) {
        self.i64(i64::from(v));
    }

    fn i64(&mut self, v: i64) {
        if v < 0 {
            self.buf.bytes().push(b'-');
        }
        self.u64(v.unsigned_abs());
    }

    /// A day as a string, `YYYY-MM-DD` (nothing in it to escape).
    fn day(&mut self, d: &Day) {
        let b = self.buf.bytes();
        b.push(b'"');
        ValidDate::from_day(*d).write_to(b);
        b.push(b'"');
    }

    fn recorded_at(&mut self, t: &jiff::Timestamp) {
        if self.recorded.as_ref().is_none_or(|(last, _)| last != t) {
            self.recorded = Some((*t, format_recorded_at(t)));
        }
        if let Some((_, text)) = &self.recorded {
            escape(self.buf.bytes(), text);
        }
    }
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it (the log's own escaper).
fn escape(b: &mut Vec<u8>, s: &str) {
    b.push(b'"');
    escaped(b, s);
    b.push(b'"');
}

impl JsonRow for CiteRow {
    fn write_json(&self, j: &mut Pretty) {
        j.open(b'{');
        self.fields(j);
        j.close(b'}');
    }
}

impl CiteRow {
    /// The citation's fields (flattened into a source).
    fn fields(&self, j: &mut Pretty) {
        j.key("publication");
        j.str(&self.publication);
        j.key("url");
        j.opt_str(self.url.as_deref());
        j.key("title");
        j.opt_str(self.title.as_deref());
        j.key("published");
        j.opt_str(self.published.as_deref());
        j.key("via");
        j.opt_str(self.via.as_deref());
    }
}

impl JsonRow for SourceRow {
    fn write_json(&self, j: &mut Pretty) {
        j.open(b'{');
        j.key("seq");
        j.u64(self.seq);
        j.key("quote");
        j.opt_str(self.quote.as_deref());
        self.cite.fields(j);
        j.close(b'}');
    }
}

impl JsonRow for CorrectionRow {
    fn write_json(&self, j: &mut Pretty) {
        j.open(b'{');
        j.key("seq");
        j.u64(self.seq);
        j.key("fields");
        list(j, self.fields.iter(), |j, f| j.str(f));
        j.key("reason");
        j.str(&self.reason);
        j.key("recorded_at");
        j.recorded_at(&self.recorded_at);
        j.close(b'}');
    }
}

impl JsonRow for RoleRow {
    fn write_json(&self, j: &mut Pretty) {
        j.open(b'{');
        j.key("title");
        j.str(&self.title);
        j.key("organisation");
        j.opt_str(self.organisation.as_deref());
        j.key("from");
        j.str(&self.from);
        j.key("to");
        j.opt_str(self.to.as_deref());
        j.close(b'}');
    }
}

/// Writes `items` as an array.
fn list<T>(j: &mut Pretty, items: impl Iterator<Item = T>, mut each: impl FnMut(&mut Pretty, T)) {
    j.open(b'[');
    for x in items {
        j.item();
        each(j, x);
    }
    j.close(b']');
}

/// Writes `v` or `null`.
fn opt<T: JsonRow>(j: &mut Pretty, v: Option<&T>) {
    match v {
        Some(v) => v.write_json(j),
        None => j.null(),
    }
}

impl PositionRow {
    /// The position's fields, in declaration order.
    fn fields(&self, j: &mut Pretty) {
        if let Some(v) = self.output_version {
            j.key("output_version");
            j.u64(u64::from(v));
        }
        j.key("actor");
        j.str(&self.actor);
        j.key("actor_name");
        j.str(&self.actor_name);
        j.key("role");
        opt(j, self.role.as_ref());
        j.key("topic");
        j.str(&self.topic);
        j.key("topic_title");
        j.str(&self.topic_title);
        j.key("rcid");
        j.opt_u64(self.rcid);
        j.key("stance");
        j.str(self.stance);
        j.key("polarity");
        j.i8(self.polarity);
        j.key("since");
        j.str(&self.since);
        j.key("since_date");
        j.day(&self.since_date);
        j.key("since_precision");
        j.str(self.since_precision);
        j.key("since_time");
        j.opt_str(self.since_time.as_deref());
        self.rest(j);
    }

    /// The fields from `event` on.
    fn rest(&self, j: &mut Pretty) {
        j.key("event");
        j.opt_str(self.event);
        j.key("instrument");
        j.opt_str(self.instrument);
        j.key("recipient");
        j.opt_str(self.recipient.as_deref());
        j.key("quote");
        j.opt_str(self.quote.as_deref());
        j.key("cite");
        self.cite.write_json(j);
        j.key("sources");
        list(j, self.sources.iter(), |j, s| s.write_json(j));
        j.key("corrections");
        list(j, self.corrections.iter(), |j, c| c.write_json(j));
        j.key("declared_as");
        j.opt_str(self.declared_as.as_deref());
        j.key("seq");
        j.u64(self.seq);
        j.key("event_id");
        j.str(&self.event_id);
        j.key("recorded_at");
        j.recorded_at(&self.recorded_at);
    }
}

impl JsonRow for PositionRow {
    fn write_json(&self, j: &mut Pretty) {
        j.open(b'{');
        self.fields(j);
        j.close(b'}');
    }
}

impl JsonRow for ChangeRow {
    fn write_json(&self, j: &mut Pretty) {
        j.open(b'{');
        j.key("output_version");
        j.u64(u64::from(self.output_version));
        j.key("actor");
        j.str(&self.actor);
        j.key("actor_name");
        j.str(&self.actor_name);
        j.key("topic");
        j.str(&self.topic);
        j.key("topic_title");
        j.str(&self.topic_title);
        j.key("rcid");
        j.opt_u64(self.rcid);
        j.key("change");
        j.str(self.change);
        j.key("before");
        opt(j, self.before.as_ref());
        j.key("after");
        opt(j, self.after.as_ref());
        j.close(b'}');
    }
}

impl JsonRow for TimelineRow {
    fn write_json(&self, j: &mut Pretty) {
        j.open(b'{');
        j.key("status");
        j.str(self.status);
        j.key("superseded_by");
        j.opt_u64(self.superseded_by);
        j.key("retracted_by");
        j.opt_u64(self.retracted_by);
        j.key("retraction_reason");
        j.opt_str(self.retraction_reason.as_deref());
        self.position.fields(j);
        j.close(b'}');
    }
}

/// A row as the flat object of some of its columns (`--columns`): each column's name (its
/// flat name, docs/output.md) and value, in the order of `cols`. Values are JSON's own: text a
/// string, numbers numbers, a date `YYYY-MM-DD`, a recorded time RFC 3339 as in the nested
/// rows, a list an array (an absent element `null`), a missing value `null`.
pub struct Flat<'c, R> {
    cols: &'c [Column<R>],
    row: R,
}

impl<'c, R> Flat<'c, R> {
    /// The object of `row`'s columns `cols`.
    pub fn new(cols: &'c [Column<R>], row: R) -> Flat<'c, R> {
        Flat { cols, row }
    }
}

impl<R> JsonRow for Flat<'_, R> {
    fn write_json(&self, j: &mut Pretty) {
        j.open(b'{');
        for c in self.cols {
            j.quoted_key(&c.json_key);
            match (c.get)(&self.row) {
                Cell::Null => j.null(),
                Cell::Text(t) => j.str(&t),
                Cell::Int(n) => j.i64(n),
                Cell::Bool(b) => {
                    j.buf
                        .bytes()
                        .extend_from_slice(if b { b"true" } else { b"false" })
                }
                Cell::Date(d) => j.day(&d),
                Cell::Timestamp(t) => j.recorded_at(&t),
                Cell::Texts(v) => list(j, v.iter(), |j, x| j.opt_str(x.as_deref())),
                Cell::Ints(v) => list(j, v.iter(), |j, n| j.i64(*n)),
            }
        }
        j.close(b'}');
    }
}

/// One cell as serde writes it (NDJSON), the same values as [`Flat`]'s pretty JSON.
struct CellValue<'a>(Cell<'a>);

impl Serialize for CellValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Cell::Null => s.serialize_none(),
            Cell::Text(t) => s.serialize_str(t),
            Cell::Int(n) => s.serialize_i64(*n),
            Cell::Bool(b) => s.serialize_bool(*b),
            Cell::Date(d) => super::rows::day(d, s),
            Cell::Timestamp(t) => super::rows::utc(t, s),
            Cell::Texts(v) => v.serialize(s),
            Cell::Ints(v) => v.serialize(s),
        }
    }
}

impl<R> Serialize for Flat<'_, R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.cols.len()))?;
        for c in self.cols {
            map.serialize_entry(&c.name, &CellValue((c.get)(&self.row)))?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every control character, quotes, backslashes and non-ASCII text escape as serde_json
    /// escapes them.
    #[test]
    fn strings_escape_as_serde_json_escapes_them() {
        let mut text: String = (0u8..0x20).map(char::from).collect();
        text.push_str("\"quoted\" \\ back\u{7f} ü 김정은 \u{2028} end");
        for s in [text.as_str(), "", "plain", "\"", "\\\n"] {
            let mut ours = Vec::new();
            escape(&mut ours, s);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }

    /// Objects of two keys nested to any depth (deeper than the indent kept in one piece),
    /// and a long key, are written as serde_json writes them.
    #[test]
    fn keys_at_any_depth_are_written_as_serde_json_writes_them() {
        let long = "k".repeat(130);
        fn nest(j: &mut Pretty, depth: u64, long: &str) {
            if depth == 0 {
                j.u64(7);
            } else {
                j.open(b'{');
                j.key("a");
                j.u64(depth);
                j.key(if depth == 3 { long } else { "b" });
                nest(j, depth - 1, long);
                j.close(b'}');
            }
        }
        for depth in [0, 1, 3, 15, 16, 17, 18, 25] {
            let mut ours = Vec::new();
            let mut j = Pretty::new(&mut ours);
            nest(&mut j, depth, &long);
            j.buf.finish().unwrap();
            let mut value = serde_json::json!(7);
            for d in 1..=depth {
                let mut o = serde_json::Map::new();
                o.insert("a".to_string(), serde_json::json!(d));
                let key = if d == 3 {
                    long.clone()
                } else {
                    "b".to_string()
                };
                o.insert(key, value);
                value = serde_json::Value::Object(o);
            }
            let want = serde_json::to_string_pretty(&value).unwrap();
            assert_eq!(String::from_utf8(ours).unwrap(), want, "depth {depth}");
        }
    }

    /// Lists nested deeper than the indent kept in one piece (16 spaces) are indented as
    /// serde_json indents them.
    #[test]
    fn deep_nesting_is_indented_as_serde_json_indents_it() {
        fn nest(j: &mut Pretty, depth: u64) {
            if depth == 0 {
                j.u64(7);
            } else {
                list(j, 0..1, |j, _| nest(j, depth - 1));
            }
        }
        for depth in [0, 1, 7, 8, 9, 16, 17, 25] {
            let mut ours = Vec::new();
            let mut j = Pretty::new(&mut ours);
            nest(&mut j, depth);
            j.buf.finish().unwrap();
            let mut value = serde_json::json!(7);
            for _ in 0..depth {
                value = serde_json::json!([value]);
            }
            let want = serde_json::to_string_pretty(&value).unwrap();
            assert_eq!(String::from_utf8(ours).unwrap(), want, "depth {depth}");
        }
    }

    /// A small row: a number and a list of its length modulo 3.
    struct N(u64);

    impl JsonRow for N {
        fn write_json(&self, j: &mut Pretty) {
            j.open(b'{');
            j.key("k");
            j.u64(self.0);
            j.key("list");
            list(j, 0..self.0 % 3, |j, x| j.u64(x));
            j.close(b'}');
        }
    }

    /// Rows written on worker threads, a part at a time, give the bytes of rows written in
    /// order, and both serde_json's, for every count around the sizes of a short answer
    /// (written without workers), a part and a batch.
    #[test]
    fn rows_written_in_parallel_are_the_same_bytes() {
        for n in [
            0,
            1,
            2,
            PART + 1,
            ALONE - 1,
            ALONE,
            ALONE + 1,
            ALONE + PART,
            ALONE + PART * PARTS,
            ALONE + PART * PARTS + 1,
            ALONE + 3 * PART * PARTS + 17,
        ] {
            let n = n as u64;
            let mut ordered = Vec::new();
            write_pretty(&mut ordered, (0..n).map(N)).unwrap();
            let mut parallel = Vec::new();
            write_pretty_par(&mut parallel, 0..n, |k| Some(N(k))).unwrap();
            assert_eq!(parallel, ordered, "{n} rows");
            let values: Vec<serde_json::Value> = (0..n)
                .map(|k| serde_json::json!({"k": k, "list": (0..k % 3).collect::<Vec<_>>()}))
                .collect();
            let serde = serde_json::to_string_pretty(&values).unwrap() + "\n";
            assert_eq!(String::from_utf8(parallel).unwrap(), serde, "{n} rows");
        }
    }

    /// A flat row of every kind of cell is written as serde_json writes the same object
    /// (pretty, and compact for NDJSON through its `Serialize`), keys in the columns' order.
    #[test]
    fn flat_rows_are_written_as_serde_json_writes_them() {
        use super::super::columns::Kind;
        let day = crate::core::Day::parse("1991-12-31").unwrap();
        let t: jiff::Timestamp = "2026-11-29T12:33:02.594269Z".parse().unwrap();
        let cells = [
            Cell::Text("z \"q\" ü".into()),
            Cell::Null,
            Cell::Int(-1),
            Cell::Int(378_034),
            Cell::Bool(true),
            Cell::Date(day),
            Cell::Timestamp(t),
            Cell::Texts(vec![Some("a;b".into()), None]),
            Cell::Texts(vec![]),
            Cell::Ints(vec![22, 41]),
        ];
        let cols: Vec<Column<u8>> = (0..cells.len())
            .map(|i| {
                let c = cells[i].clone();
                let name = format!("c{}", cells.len() - i);
                Column {
                    json_key: format!("\"{name}\": "),
                    name,
                    kind: Kind::Text,
                    meaning: String::new(),
                    get: Box::new(move |_: &u8| c.clone()),
                }
            })
            .collect();
        let mut ours = Vec::new();
        write_pretty(
            &mut ours,
            [Flat::new(&cols, 0u8), Flat::new(&cols, 1u8)].into_iter(),
        )
        .unwrap();
        let ours = String::from_utf8(ours).unwrap();
        let row = r#"{"c10": "z \"q\" ü", "c9": null, "c8": -1, "c7": 378034, "c6": true,
            "c5": "1991-12-31", "c4": "2026-11-29T12:33:02.594269Z", "c3": ["a;b", null],
            "c2": [], "c1": [22, 41]}"#;
        let value: serde_json::Value = serde_json::from_str(row).unwrap();
        let want = serde_json::to_string_pretty(&vec![value.clone(), value]).unwrap() + "\n";
        // serde_json's own map sorts its keys; ours keep the columns' order: compare the
        // values, and the order of the keys as written.
        let got: serde_json::Value = serde_json::from_str(&ours).unwrap();
        assert_eq!(
            got,
            serde_json::from_str::<serde_json::Value>(&want).unwrap()
        );
        assert_eq!(ours.len(), want.len());
        let at: Vec<usize> = (1..=10)
            .rev()
            .map(|i| ours.find(&format!("\"c{i}\": ")).unwrap())
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{ours}");
        let compact = serde_json::to_string(&Flat::new(&cols, 0u8)).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&compact).unwrap(),
            got[0]
        );
        assert!(
            compact.starts_with(r#"{"c10":"z \"q\" ü","c9":null,"c8":-1,"#),
            "{compact}"
        );
    }

    #[test]
    fn integers_are_written_in_full() {
        for v in [0u64, 7, 10, 99, 100, 4378, u64::MAX] {
            let mut out = Vec::new();
            let mut j = Pretty::new(&mut out);
            j.u64(v);
            j.buf.finish().unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
        for v in [i8::MIN, -1, 0, 1, i8::MAX] {
            let mut out = Vec::new();
            let mut j = Pretty::new(&mut out);
            j.i8(v);
            j.buf.finish().unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
    }
}
