//! Importers: real data sets turned into events and appended in batches through one
//! [`Writer`](crate::store::Writer), so the whole import holds the log's lock once and every
//! batch is durable before the next is appended.
//!
//! Each importer gives its events deterministic ids (UUID v5 of a key naming the source row),
//! so running the same import twice appends nothing the second time (idempotent append).

pub mod coded;
pub mod countries;
pub mod engine;
pub mod sheet;
pub mod treaty;
pub mod unvotes;

use uuid::Uuid;

/// Events per append batch in imports: large enough that `fdatasync` is a small share of the
/// time, small enough that a batch's records stay a few MiB in memory.
pub const IMPORT_BATCH_EVENTS: usize = 50_000;

/// The namespace of stancelog's v5 event ids (a v4 UUID chosen once for this purpose).
pub const ID_NAMESPACE: Uuid = Uuid::from_u128(0x3c1f_5e2a_9b7d_4e61_8a0c_2f4b_6d8e_1a57);

/// A deterministic event id for a key naming a source row, e.g. `unvotes/vote/3/USA`: the
/// UUID v5 (RFC 9562: SHA-1 of the namespace and the key) of `key` in [`ID_NAMESPACE`], as
/// `Uuid::new_v5` makes it, with the SHA extensions when the CPU has them (the uuid crate's
/// own SHA-1 has no such path: 3% of a GDELT import's CPU, making one id per row or more).
pub fn event_id(key: &str) -> Uuid {
    use sha1::Digest as _;
    let mut h = sha1::Sha1::new();
    h.update(ID_NAMESPACE.as_bytes());
    h.update(key.as_bytes());
    let digest = h.finalize();
    let mut bytes = [0; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

/// Progress of a long import, shown by the CLI (a progress bar on a terminal) and ignored by
/// tests. Counts are events, or rows where an importer says so.
pub trait Progress {
    /// A stage begins; `total` is how many units it has, if known.
    fn start(&self, stage: &str, total: Option<u64>);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The stage is done.
    fn finish(&self);
}

/// Progress that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _stage: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

/// A source row an importer refused, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedRow {
    /// The file.
    pub file: String,
    /// 1-based line number in that file (the header is line 1).
    pub line: u64,
    /// Why, in words.
    pub reason: String,
}

/// How many refused rows an [`ImportReport`] lists; the rest are counted.
pub const REFUSED_LISTED: usize = 1_000;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Events appended (registrations, stances, citations and corrections), or with `dry_run`
    /// that would be.
    pub appended: u64,
    /// Of those, `stance.cited`: a further report of a stance already imported.
    pub cited: u64,
    /// Of those, `stance.corrected`: a known key whose content changed (with `--corrections`).
    pub corrected: u64,
    /// Events already in the log (same id and content), not stored again.
    pub already_present: u64,
    /// Rows or stances left out on purpose (`--skip-if`; a spell end merged with a same-day
    /// re-entry), not errors.
    pub skipped: u64,
    /// How many were skipped for each reason.
    pub skipped_why: std::collections::BTreeMap<String, u64>,
    /// Rows refused, in file order: the first [`REFUSED_LISTED`] refused (the others are
    /// counted in `refused_count`).
    pub refused: Vec<RefusedRow>,
    /// Rows refused in all, listed or not.
    pub refused_count: u64,
    /// Set when the events were appended but the projection index could not be brought up to
    /// date (see [`crate::store::Writer::update_index`]).
    pub index_warning: Option<String>,
    /// A torn tail of the log (bytes, whole records in it) that the first batch removed before
    /// it was written, as [`crate::store::AppendReport`] gives it; with `dry_run`, the one found
    /// and left. (0, 0) when there was none.
    pub torn_tail: (u64, u64),
    /// The log's last record had no newline after it, and the first batch wrote one.
    pub newline_added: bool,
    /// Nothing was written: the counts say what would have been.
    pub dry_run: bool,
    /// With `dry_run`: the first events (at most [`engine::DRY_RUN_SAMPLE`]) that would be
    /// appended, in order, each as the line of an append batch would give it (its id, no seq,
    /// recorded time or hash: the log assigns those). Empty otherwise.
    pub would_append: Vec<crate::store::Record>,
}

/// An error of the csv reader as ours: I/O stays I/O; anything else is bad input at its line,
/// in words (never a debug dump). The line is the csv reader's count of `\n`s; see
/// [`csv_error_at`] for the physical line.
pub(crate) fn csv_error(file: &str, e: csv::Error) -> crate::Error {
    let line = e.position().map(|p| p.line());
    csv_error_at(file, e, line)
}

/// [`csv_error`] at the physical line on which the record at the error's byte offset begins
/// (see [`LineCounter::record_line`]: blank lines before it passed over), which must not be
/// before any offset asked of it already.
pub(crate) fn csv_error_lines<R: std::io::BufRead>(
    file: &str,
    e: csv::Error,
    lines: &mut LineCounter<R>,
) -> crate::Error {
    let line = match e.position() {
        Some(p) => match lines.record_line(p.byte(), file) {
            Ok(l) => Some(l),
            Err(io) => return io,
        },
        None => None,
    };
    csv_error_at(file, e, line)
}

/// Why a record of `got` fields is refused under a header of `header` fields; `None` when
/// the counts agree.
pub(crate) fn width_mismatch(got: usize, header: usize) -> Option<String> {
    (got != header).then(|| format!("has {got} fields where the header has {header}"))
}

fn csv_error_at(file: &str, e: csv::Error, line: Option<u64>) -> crate::Error {
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!(
            "not UTF-8 text (field {}): save the file as UTF-8",
            err.field() + 1
        ),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => width_mismatch(*len as usize, *expected_len as usize).unwrap_or_default(),
        _ => format!("not readable as CSV: {e}"),
    };
    match e.into_kind() {
        csv::ErrorKind::Io(io) => crate::Error::io(file, io),
        _ => crate::Error::input(
            crate::Location {
                file: file.to_string(),
                line,
                field: None,
            },
            message,
        ),
    }
}

impl ImportReport {
    /// Counts a refused row, and lists it (made by `row`) while fewer than [`REFUSED_LISTED`]
    /// are listed: a wrong file of millions of rows is refused in bounded memory and output.
    pub fn refuse(&mut self, row: impl FnOnce() -> RefusedRow) {
        self.refused_count += 1;
        if self.refused.len() < REFUSED_LISTED {
            self.refused.push(row());
        }
    }

    /// Counts what one append did: events stored, and events already in the log.
    pub fn tally(&mut self, done: &crate::store::AppendReport) {
        if done.torn_bytes_removed > 0 {
            self.torn_tail = (done.torn_bytes_removed, done.torn_records_removed);
        }
        self.newline_added |= done.newline_added;
        for a in &done.events {
            if a.duplicate {
                self.already_present += 1;
            } else {
                self.appended += 1;
            }
        }
    }
}

/// Physical line numbers of byte offsets in a file, for messages: every `\n`, every `\r\n` and
/// every lone `\r` ends a line, so a sheet saved with CRLF or CR line ends is numbered as an
/// editor shows it (the csv reader's own count sees only `\n`, and a quoted field's line breaks
/// count too). Offsets must be asked in rising order; the file is read once, alongside.
pub struct LineCounter<R = std::io::BufReader<std::fs::File>> {
    reader: R,
    /// Bytes read so far, the line they end on, and whether the last byte read was `\r`.
    pos: u64,
    line: u64,
    after_cr: bool,
}

impl LineCounter {
    /// Opens `path` to count its lines.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when it cannot be opened.
    pub fn open(path: &std::path::Path) -> crate::Result<LineCounter> {
        let file = std::fs::File::open(path).map_err(|e| crate::Error::io(path.display(), e))?;
        Ok(LineCounter::new(std::io::BufReader::with_capacity(
            1 << 16,
            file,
        )))
    }
}

impl<R: std::io::BufRead> LineCounter<R> {
    /// Counts the lines of what `reader` reads (a file's bytes from its start).
    pub fn new(reader: R) -> LineCounter<R> {
        LineCounter {
            reader,
            pos: 0,
            line: 1,
            after_cr: false,
        }
    }

    /// The 1-based physical line on which the byte at `offset` lies.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when the file cannot be read.
    pub fn line_at(&mut self, offset: u64, path: &str) -> crate::Result<u64> {
        while self.pos < offset {
            let want = (offset - self.pos) as usize;
            if self.step(path, |buf| buf.len().min(want))?.1 == 0 {
                break;
            }
        }
        Ok(self.line)
    }

    /// The 1-based physical line on which the record the csv reader places at `offset` begins:
    /// the reader's position of a record is where it began reading, before the blank lines it
    /// skips, so the line ends right at `offset` are passed over here.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when the file cannot be read.
    pub fn record_line(&mut self, offset: u64, path: &str) -> crate::Result<u64> {
        self.line_at(offset, path)?;
        loop {
            let line_ends = |buf: &[u8]| {
                buf.iter()
                    .take_while(|b| matches!(b, b'\n' | b'\r'))
                    .count()
            };
            let (n, buffered) = self.step(path, line_ends)?;
            if n == 0 || n < buffered {
                return Ok(self.line);
            }
        }
    }

    /// Fills the buffer, passes the first `take(buffer)` bytes of it (counting their line
    /// ends) and consumes them; gives how many it passed and how many were buffered (0 at the
    /// end of the file).
    fn step(
        &mut self,
        path: &str,
        take: impl FnOnce(&[u8]) -> usize,
    ) -> crate::Result<(usize, usize)> {
        let buf = self
            .reader
            .fill_buf()
            .map_err(|e| crate::Error::io(path, e))?;
        let n = take(buf);
        let part = &buf[..n];
        // Without a `\r` (most files), the line ends are the `\n`s, counted by memchr (a
        // byte at a time, this loop was a twentieth of a GDELT import's reading thread).
        if !part.is_empty() && memchr::memchr(b'\r', part).is_none() {
            let crlf = self.after_cr && part[0] == b'\n';
            self.line += (memchr::memchr_iter(b'\n', part).count() - usize::from(crlf)) as u64;
            self.after_cr = false;
            let buffered = buf.len();
            self.reader.consume(n);
            self.pos += n as u64;
            return Ok((n, buffered));
        }
        for &b in part {
            match b {
                b'\n' if self.after_cr => {}
                b'\n' | b'\r' => self.line += 1,
                _ => {}
            }
            self.after_cr = b == b'\r';
        }
        let buffered = buf.len();
        self.reader.consume(n);
        self.pos += n as u64;
        Ok((n, buffered))
    }
}

/// A table file without rows, which every importer refuses (a failed download is not an
/// import of nothing).
#[derive(Clone, Copy)]
pub(crate) enum Rowless {
    /// A header line and nothing after it.
    HeaderOnly,
    /// Not even a header line.
    NoHeader,
    /// A file read without a header line (`--no-header`, GDELT) with nothing in it.
    Empty,
}

/// [`crate::Error::Input`] for the file `file` without rows: at line 1 when it holds a header.
pub(crate) fn rowless(file: &str, what: Rowless) -> crate::Error {
    let (line, message) = match what {
        Rowless::HeaderOnly => (Some(1), "no rows: the file holds only a header"),
        Rowless::NoHeader => (None, "the file is empty: no header and no rows"),
        Rowless::Empty => (None, "the file is empty: no rows"),
    };
    let at = crate::Location {
        file: file.to_string(),
        line,
        field: None,
    };
    crate::Error::input(at, message)
}

/// A CSV file with a header, read record by record with each record's physical line (see
/// [`LineCounter`]): the reading the table importers share (columns found by name, errors at
/// their line). Rows may have fewer or more fields than the header (a missing field reads as
/// empty).
pub(crate) struct Table {
    reader: csv::Reader<std::fs::File>,
    header: csv::StringRecord,
    lines: LineCounter,
    file: String,
    /// Records read so far.
    read: u64,
}

impl Table {
    /// Opens `path` and reads its header.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when it cannot be read; [`crate::Error::Input`] when its header is
    /// not CSV.
    pub(crate) fn open(path: &std::path::Path) -> crate::Result<Table> {
        let file = path.display().to_string();
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .map_err(|e| csv_error(&file, e))?;
        let header = reader.headers().map_err(|e| csv_error(&file, e))?.clone();
        Ok(Table {
            reader,
            header,
            lines: LineCounter::open(path)?,
            file,
            read: 0,
        })
    }

    /// An error for a file that held no rows (once read to its end), if this one did not: a
    /// table that must have rows (a failed download is not an import of nothing).
    pub(crate) fn without_rows(&self) -> Option<crate::Error> {
        let what = match (self.read, self.header.iter().all(str::is_empty)) {
            (0, true) => Rowless::NoHeader,
            (0, false) => Rowless::HeaderOnly,
            _ => return None,
        };
        Some(rowless(&self.file, what))
    }

    /// The file's name as messages give it.
    pub(crate) fn file(&self) -> &str {
        &self.file
    }

    /// The index of each named column.
    ///
    /// # Errors
    /// [`crate::Error::Input`] at line 1 naming the first column missing, and the header's.
    pub(crate) fn columns<const N: usize>(&self, names: [&str; N]) -> crate::Result<[usize; N]> {
        if self.header.iter().all(str::is_empty)
            && let Some(e) = self.without_rows()
        {
            return Err(e);
        }
        let mut out = [0; N];
        for (i, name) in names.iter().enumerate() {
            out[i] = self.header.iter().position(|h| h == *name).ok_or_else(|| {
                crate::Error::input(
                    crate::Location {
                        file: self.file.clone(),
                        line: Some(1),
                        field: None,
                    },
                    format!(
                        "no column `{name}` (the header has: {})",
                        self.header.iter().collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
        }
        Ok(out)
    }

    /// Reads the next record into `record`: its physical line, or `None` at the end.
    ///
    /// # Errors
    /// [`crate::Error::Input`] for malformed CSV, [`crate::Error::Io`] when the file cannot be
    /// read.
    pub(crate) fn next(&mut self, record: &mut csv::ByteRecord) -> crate::Result<Option<u64>> {
        let read = self.reader.read_byte_record(record);
        if !read.map_err(|e| csv_error_lines(&self.file, e, &mut self.lines))? {
            return Ok(None);
        }
        self.read += 1;
        let byte = record.position().map_or(0, |p| p.byte());
        self.lines.record_line(byte, &self.file).map(Some)
    }

    /// A refused row of this file.
    pub(crate) fn refused(&self, line: u64, reason: String) -> RefusedRow {
        RefusedRow {
            file: self.file.clone(),
            line,
            reason,
        }
    }
}

/// Field `i` of a record as text, trimmed (empty when the row is shorter).
///
/// # Errors
/// A message when it is not UTF-8.
pub(crate) fn field(record: &csv::ByteRecord, i: usize) -> std::result::Result<&str, String> {
    std::str::from_utf8(record.get(i).unwrap_or(b""))
        .map(str::trim)
        .map_err(|_| format!("column {} is not UTF-8 (save the file as UTF-8)", i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Given keys of every length around SHA-1's 64-byte blocks, and non-ASCII ones, when an
    /// id is made, then it is the uuid crate's v5 of the key in the namespace (the ids of
    /// every log imported before).
    #[test]
    fn event_ids_are_the_uuid_v5_of_their_key() {
        let mut keys: Vec<String> = (0..200).map(|n| "k".repeat(n)).collect();
        keys.extend(
            [
                "unvotes/vote/3/USA",
                "import/bench\u{1f}stance\u{1f}a1",
                "Côte d'Ivoire",
            ]
            .map(String::from),
        );
        for k in keys {
            assert_eq!(
                event_id(&k),
                Uuid::new_v5(&ID_NAMESPACE, k.as_bytes()),
                "{k:?}"
            );
        }
        assert_eq!(event_id("x").get_version_num(), 5);
    }

    /// Given texts with `\n`, `\r\n` and lone `\r` line ends (a `\r\n` split between two
    /// reads too), read through buffers of 1 to 7 bytes, when the line of each offset is
    /// asked in rising order, then it is the line an editor shows: one more than the line
    /// ends before it.
    #[test]
    fn the_line_of_each_offset_counts_every_kind_of_line_end() {
        let texts = [
            "plain\nlines\n\nend",
            "a\nb\r\nc\rd\n\n\r\n\re",
            "\r\n\r\n\n\r\rx\r",
            "no line end",
        ];
        for text in texts {
            let bytes = text.as_bytes();
            let expected = |offset: usize| {
                let before = &bytes[..offset];
                let lone_n = before
                    .iter()
                    .enumerate()
                    .filter(|&(i, &b)| b == b'\n' && (i == 0 || before[i - 1] != b'\r'))
                    .count();
                1 + lone_n as u64 + before.iter().filter(|&&b| b == b'\r').count() as u64
            };
            for capacity in 1..=7 {
                let mut lines =
                    LineCounter::new(std::io::BufReader::with_capacity(capacity, bytes));
                for offset in 0..=bytes.len() {
                    assert_eq!(
                        lines.line_at(offset as u64, "t").unwrap(),
                        expected(offset),
                        "{text:?}, capacity {capacity}, offset {offset}"
                    );
                }
            }
        }
    }
}
