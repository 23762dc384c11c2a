//! CSV: a header row of the column names, then one row per answer line (RFC 4180, as the `csv`
//! crate writes it: fields with commas, quotes or line breaks quoted).

use std::io::{self, Write};

use super::columns::{Cell, Column, plain_text};

/// Makes a text cell safe to open in a spreadsheet: a cell starting with `=`, `+`, `-`, `@`, a
/// tab or a carriage return gets a single quote (`'`) in front, so that Excel, LibreOffice and
/// Google Sheets show it as text instead of running it as a formula (OWASP, "CSV Injection").
/// Applied to text cells only, never to numbers we write ourselves (a polarity of `-1`).
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// The CSV text of a cell: its plain text, a text or list of texts neutralised.
fn cell_text(c: Cell<'_>) -> String {
    let is_text = matches!(c, Cell::Text(_) | Cell::Texts(_));
    let text = plain_text(c);
    if !is_text {
        return text;
    }
    match neutralise(&text) {
        std::borrow::Cow::Owned(t) => t,
        std::borrow::Cow::Borrowed(_) => text,
    }
}

/// Writes `rows` as CSV with the columns `cols`, streaming (one row held at a time).
///
/// # Errors
/// The writer's I/O errors.
pub fn write_csv<R>(
    out: &mut dyn Write,
    cols: &[Column<R>],
    rows: impl Iterator<Item = R>,
) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(cols.iter().map(|c| c.name.as_str()))
        .map_err(csv_err)?;
    for r in rows {
        w.write_record(cols.iter().map(|c| cell_text((c.get)(&r))))
            .map_err(csv_err)?;
    }
    w.flush()
}

/// A CSV writer's error as the I/O error it wraps (so that a closed pipe stays
/// [`io::ErrorKind::BrokenPipe`]), or as another I/O error in words.
pub fn csv_err(e: csv::Error) -> io::Error {
    let text = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        _ => io::Error::other(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_plain_ones_kept() {
        for (given, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1 555", "'+1 555"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("mercenary cannon fodder", "mercenary cannon fodder"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(neutralise(given), written);
        }
        // Numbers we write are not text: a polarity stays -1.
        assert_eq!(cell_text(Cell::Int(-1)), "-1");
        // A list whose first element starts a formula is neutralised as one cell.
        let list = Cell::Texts(vec![Some("=1+1".into()), Some("b".into())]);
        assert_eq!(cell_text(list), "'=1+1;b");
    }

    #[test]
    fn list_elements_escape_the_separator() {
        let list = Cell::Texts(vec![Some("a;b".into()), None, Some("c\\d".into())]);
        assert_eq!(cell_text(list), "a\\;b;;c\\\\d");
        assert_eq!(cell_text(Cell::Ints(vec![22, 41])), "22;41");
    }
}
