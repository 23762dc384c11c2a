//! Rows of named fields (text, counts, measures) written as a table, a JSON array of objects or
//! CSV: the output of `agreement` and `trend`. Numbers are exact in JSON and CSV (the shortest
//! text that reads back as the same `f64`) and rounded to three decimals in tables; an undefined
//! measure is `null` in JSON and empty elsewhere.

use std::cell::RefCell;
use std::io::{self, Write};

use serde::Serialize;
use serde::ser::SerializeMap;

use super::args::Format;
use super::render::{cell, json_out, stream_table};

/// One field of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// Text (an id, a period, a stance).
    Text(String),
    /// A count.
    Count(u64),
    /// A measure or share; `None` when undefined.
    Num(Option<f64>),
}

impl Field {
    fn table_text(&self) -> String {
        match self {
            Field::Text(t) => cell(t),
            Field::Count(n) => n.to_string(),
            Field::Num(Some(x)) => format!("{x:.3}"),
            Field::Num(None) => String::new(),
        }
    }

    fn exact_text(&self) -> String {
        match self {
            Field::Text(t) => t.clone(),
            Field::Count(n) => n.to_string(),
            Field::Num(Some(x)) => x.to_string(),
            Field::Num(None) => String::new(),
        }
    }
}

/// A row as a JSON object, fields in header order.
struct Object<'a>(&'a [&'a str], Vec<Field>);

impl Serialize for Object<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.iter().zip(&self.1) {
            match v {
                Field::Text(t) => m.serialize_entry(k, t)?,
                Field::Count(n) => m.serialize_entry(k, n)?,
                Field::Num(x) => m.serialize_entry(k, x)?,
            }
        }
        m.end()
    }
}

/// Rows as a JSON array, written as they come.
struct Objects<'a, I>(&'a [&'a str], RefCell<Option<I>>);

impl<I: Iterator<Item = Vec<Field>>> Serialize for Objects<'_, I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let rows = self.1.borrow_mut().take().into_iter().flatten();
        s.collect_seq(rows.map(|r| Object(self.0, r)))
    }
}

/// CSV with a header row, written as the rows come. Text cells are neutralised for
/// spreadsheets (`export::neutralise`); numbers are written as they are (a measure of `-1` stays
/// a number).
fn csv_rows(
    out: &mut dyn Write,
    header: &[&str],
    rows: impl Iterator<Item = Vec<Field>>,
) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let err = stancelog::export::csv_err;
    w.write_record(header).map_err(err)?;
    for r in rows {
        let cells = r.iter().map(|f| match f {
            Field::Text(t) => stancelog::export::neutralise(t).into_owned(),
            other => other.exact_text(),
        });
        w.write_record(cells).map_err(err)?;
    }
    w.flush()
}

/// Writes rows under `header` (JSON keys and CSV columns). A table gets `title` and a blank line
/// above it, and `headings` as its column names. `rows` gives the rows afresh each time it is
/// called: JSON and CSV are written in one pass as the rows come, a table in two (the column
/// widths, then the rows), so no format holds a long answer whole.
pub fn write<I: Iterator<Item = Vec<Field>>>(
    format: Format,
    out: &mut dyn Write,
    title: &str,
    header: &[&str],
    headings: &[&str],
    rows: impl Fn() -> I,
) -> io::Result<()> {
    match format {
        Format::Json => json_out(out, &Objects(header, RefCell::new(Some(rows())))),
        Format::Ndjson => stancelog::export::write_ndjson(out, rows().map(|r| Object(header, r))),
        Format::Csv => csv_rows(out, header, rows()),
        Format::Table => {
            writeln!(out, "{title}\n")?;
            if rows().next().is_none() {
                return Ok(());
            }
            let texts = || rows().map(|r| r.iter().map(Field::table_text).collect());
            stream_table(out, headings, texts)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<Field>> {
        vec![
            vec![
                Field::Text("USA".into()),
                Field::Count(3),
                Field::Num(Some(2.0 / 3.0)),
                Field::Num(None),
            ],
            vec![
                Field::Text("=cmd".into()),
                Field::Count(0),
                Field::Num(Some(-1.0)),
                Field::Num(Some(-0.5)),
            ],
        ]
    }

    fn text(format: Format) -> String {
        let mut out = Vec::new();
        let header = ["actor", "common", "agree", "kappa"];
        let headings = ["Actor", "Common", "Agree", "Kappa"];
        write(format, &mut out, "T", &header, &headings, || {
            rows().into_iter()
        })
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers_are_exact_in_json_and_csv_and_rounded_in_tables() {
        assert_eq!(
            text(Format::Csv),
            "actor,common,agree,kappa\nUSA,3,0.6666666666666666,\n'=cmd,0,-1,-0.5\n"
        );
        assert!(text(Format::Json).contains("\"agree\": 0.6666666666666666,\n    \"kappa\": null"));
        assert_eq!(
            text(Format::Table),
            "T\n\n Actor   Common   Agree    Kappa\n------- -------- -------- --------\n USA     3        0.667\n =cmd    0        -1.000   -0.500\n"
        );
    }
}
