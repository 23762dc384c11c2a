//! Reading a log: every line parsed, checked and folded, with the hash chain verified.
//!
//! Recovery policy, "torn tail only": an unterminated final line, or a final batch whose last
//! record is missing (a write in progress or torn by a crash), is the only defect tolerated.
//! Readers ignore it and report its size ([`Log::torn_tail_bytes`]); the next append removes it
//! first. Any other defect is an [`Error::Input`] naming the line, and nothing is repaired.
//!
//! The file is read in chunks, decoded on worker threads and folded in order (see
//! [`Log::resume`]); memory beyond the history is a few chunks, whatever the file's size.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

use serde::de::IgnoredAny;
use uuid::Uuid;

use super::batch::{BATCH_EVENTS_MAX, BOM};
use super::canonical;
use super::chain::{GENESIS_HASH, HASH_HEX_LEN, HASH_KEY, Hash, hash_input, link};
use super::codec::{LastParsed, recorded_at_cached};
use super::holder;
use super::pipeline;
use super::record::{FieldError, Record, SCHEMA_VERSION, format_recorded_at, parse_uuid};
use crate::core::{Event, EventBody, History, Seq};
use crate::error::{Error, Location, Result};

/// Longest line accepted in a log or a batch, in bytes (newline excluded).
pub const LINE_BYTES_MAX: usize = 1 << 20;

/// The oldest schema version this build reads. Older records are upgraded when read, never
/// rewritten.
pub const SCHEMA_VERSION_MIN: u32 = 1;

/// What a torn tail turned out to be when looked at again ([`Log::recheck_tail`]).
#[derive(Debug)]
pub enum TailCheck {
    /// A writer is writing a batch right now (it holds the writer record's lock): the tail is
    /// that batch, not yet acknowledged. Carries the log as first read (its complete batches)
    /// and the writer's pid, when its record names a running process.
    BeingWritten {
        /// The log as first read.
        log: Log,
        /// The writer's pid.
        writer_pid: Option<u32>,
    },
    /// No process held the log's lock: the log as it is now, read again from its last complete
    /// batch while holding a shared lock, so that no writer could change it meanwhile. A torn
    /// tail it still has was left by a crash.
    Settled(Log),
    /// A process holds the log's lock but is not writing a batch: the log as it is now, read
    /// again while no batch could be written. A torn tail it still has was left by a crash,
    /// whoever holds the lock; `holder_pid` is the pid of the writer holding it, when the
    /// writer record names a running process.
    Idle {
        /// The log as read again.
        log: Log,
        /// The lock holder's pid.
        holder_pid: Option<u32>,
    },
}

/// A log read from disk and folded into a [`History`].
#[derive(Debug, Clone)]
pub struct Log {
    pub(crate) history: History,
    pub(crate) torn_tail_bytes: u64,
    /// Whole records inside the torn tail (newline-terminated lines, and a last line that is a
    /// whole record without its newline): the start of a batch whose last record never made it.
    pub(crate) torn_tail_records: u64,
    pub(crate) recorded_at_last: Option<jiff::Timestamp>,
    pub(crate) head: Hash,
    /// Bytes of the complete batches, i.e. where the next record goes.
    pub(crate) valid_len: u64,
    pub(crate) schema1_records: u64,
    /// The file's last line is a whole record closing its batch, but no newline ends it:
    /// `valid_len` is the file's end, and the next append writes the newline first.
    pub(crate) final_newline_missing: bool,
}

impl Log {
    /// Reads and folds the log at `path`, verifying the hash chain. Takes no lock: a batch
    /// still being written is ignored as a torn tail, so readers never see half a batch.
    ///
    /// The file is read in chunks of about 1 MiB, never whole: besides the history, the read
    /// holds a few chunks at a time (at most `3 W + 2` with `W` decoding threads, one per
    /// core up to 8), however large the file.
    ///
    /// # Errors
    /// [`Error::Usage`] when there is no file at `path`; [`Error::Io`] when it cannot be read;
    /// [`Error::Input`] naming the line and field of the first bad record.
    pub fn open(path: &Path) -> Result<Log> {
        let file = open_read(path)?;
        Log::read(&path.display().to_string(), file)
    }

    /// Folds a log held in memory; `name` is used in error messages.
    ///
    /// # Errors
    /// [`Error::Input`] naming the line and field of the first bad record: bad JSON, a field
    /// out of shape, a newer schema, a seq gap, a hash that does not chain, a batch left open
    /// before another begins, a line longer than [`LINE_BYTES_MAX`], or an event the log's
    /// rules refuse.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Log> {
        Log::read(name, bytes)
    }

    /// Folds the log read from `reader`, from its first byte to its end; `name` is used in
    /// error messages.
    ///
    /// # Errors
    /// Those of [`Log::from_bytes`], and [`Error::Io`] naming `name` when a read fails.
    pub(crate) fn read<R: Read + Send>(name: &str, reader: R) -> Result<Log> {
        Log::resume(name, reader, None, CHUNK_BYTES)
    }

    /// [`Log::from_bytes`] with chunks of about `chunk_bytes`.
    #[cfg(test)]
    fn from_bytes_chunked(name: &str, bytes: &[u8], chunk_bytes: usize) -> Result<Log> {
        Log::resume(name, bytes, None, chunk_bytes)
    }

    /// Folds the log read from `reader`, starting from `start` (a log already folded up to a
    /// file offset that ends a complete batch, `start.valid_len`, where `reader` must be) or
    /// from the beginning (then `reader` is at offset 0). Offsets in the result are file
    /// offsets.
    ///
    /// The bytes are read in chunks of about `chunk_bytes`, cut after a newline (the partial
    /// line at a chunk's end goes into the next one) on a reader thread. Worker threads decode
    /// chunks (JSON, schema, the hash link of each line to the previous line's stored hash,
    /// which travels with the chunk, and field conversion); this thread folds them in file
    /// order, so the first bad line is reported as in a sequential read. The pipeline is
    /// bounded ([`pipeline::ordered`]): with `W` workers, at most `3 W + 2` chunks are held at
    /// once, however slow one worker is. A line longer than [`LINE_BYTES_MAX`] is not buffered whole: it is
    /// skipped to its newline and reported (or, unterminated at the end, is a torn tail).
    pub(crate) fn resume<R: Read + Send>(
        name: &str,
        reader: R,
        start: Option<Log>,
        chunk_bytes: usize,
    ) -> Result<Log> {
        Log::fold_pieces(name, reader, start, chunk_bytes, None)
    }

    /// Reads the log from `reader` as [`Log::read`] does (from its start, or from `start`: a
    /// log folded up to a complete batch's end, where `reader` must be, as [`Log::resume`]
    /// reads on from it), in pieces of about `chunk_bytes` ([`CHUNK_BYTES`] but in tests),
    /// every check made, with `stream` called around the fold of each piece: `stream` may
    /// replace the history by a sparse one before a piece, and take the piece's events after
    /// it, so that the history never holds the whole log (a projection index is built so).
    /// The result's history is the last one folded into.
    ///
    /// # Errors
    /// Those of [`Log::read`] (lines numbered from `start`'s last seq on, one line a record),
    /// and any error `stream` returns.
    pub(crate) fn stream<R: Read + Send>(
        name: &str,
        reader: R,
        start: Option<Log>,
        chunk_bytes: usize,
        stream: &mut dyn Stream,
    ) -> Result<Log> {
        Log::fold_pieces(name, reader, start, chunk_bytes, Some(stream))
    }

    fn fold_pieces<'a, R: Read + Send>(
        name: &'a str,
        reader: R,
        start: Option<Log>,
        chunk_bytes: usize,
        stream: Option<&'a mut dyn Stream>,
    ) -> Result<Log> {
        let offset = start.as_ref().map_or(0, |l| l.valid_len);
        // A complete batch ends with a schema-2 record (a snapshot's end is checked to be
        // one), whose stored hash is the head; at the start, the genesis hash.
        let prev = start.as_ref().map_or(GENESIS_HASH, |l| l.head);
        let mut pieces = Chunker::new(reader, chunk_bytes.max(1), offset, prev);
        let mut fold = Fold::new(name, start);
        fold.stream = stream;
        let first = pieces.next();
        let second = pieces.next();
        if !matches!(second, Some(Piece::Lines { .. })) {
            // At most one chunk of lines: no threads.
            return fold.all(first.into_iter().chain(second).map(decode_piece));
        }
        let all = first.into_iter().chain(second).chain(pieces);
        pipeline::ordered(all, decode_piece, |decoded| fold.all(decoded))
    }

    /// Looks again at a log read from `path` with a torn tail, to tell a batch being written
    /// from what a crash left; never waits for a writer.
    ///
    /// Takes a shared lock on the log without waiting. If it gets it, no process is appending:
    /// the bytes after the last complete batch are read again under the lock
    /// ([`TailCheck::Settled`]). If another process holds it, the writer record beside the log
    /// tells whether a batch is being written (see `store::holder`): if the writer holds the
    /// record's lock, the tail is its batch ([`TailCheck::BeingWritten`]); otherwise the tail
    /// is read again while holding the record's shared lock, during which no batch can be
    /// written ([`TailCheck::Idle`]). A holder of the log's lock that is no writer of this
    /// program (no record, or a record naming no running process) never makes a tail pass.
    ///
    /// # Errors
    /// Those of [`Log::open`].
    pub fn recheck_tail(self, path: &Path) -> Result<TailCheck> {
        let io = |e| Error::io(path.display(), e);
        let file = open_read(path)?;
        match file.try_lock_shared() {
            // The shared lock is released when `file` is closed, on return.
            Ok(()) => return Ok(TailCheck::Settled(self.read_tail_again(path, &file)?)),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        match holder::probe(path).map_err(io)? {
            holder::Probe::Writing(writer_pid) => Ok(TailCheck::BeingWritten {
                log: self,
                writer_pid,
            }),
            holder::Probe::Idle { guard, pid } => {
                let log = self.read_tail_again(path, &file)?;
                drop(guard);
                Ok(TailCheck::Idle {
                    log,
                    holder_pid: pid,
                })
            }
        }
    }

    /// The log read again from the end of its last complete batch (the whole file, should it
    /// have become shorter than that).
    fn read_tail_again(self, path: &Path, mut file: &File) -> Result<Log> {
        let io = |e| Error::io(path.display(), e);
        let name = path.display().to_string();
        let len = file.metadata().map_err(io)?.len();
        if len >= self.valid_len {
            file.seek(SeekFrom::Start(self.valid_len)).map_err(io)?;
            Log::resume(&name, file, Some(self), CHUNK_BYTES)
        } else {
            Log::read(&name, file)
        }
    }

    /// An empty log: no records, the genesis hash as head.
    pub(crate) fn empty() -> Log {
        Log {
            history: History::new(),
            torn_tail_bytes: 0,
            torn_tail_records: 0,
            recorded_at_last: None,
            head: GENESIS_HASH,
            valid_len: 0,
            schema1_records: 0,
            final_newline_missing: false,
        }
    }

    /// The folded history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Size in bytes of the torn tail that was ignored (0 when none).
    pub fn torn_tail_bytes(&self) -> u64 {
        self.torn_tail_bytes
    }

    /// How many whole records the torn tail holds: records of a batch whose last record was
    /// never written, so the batch was never acknowledged (0 when the tail is only a record cut
    /// short). A last record whose newline alone is missing counts as whole.
    pub fn torn_tail_records(&self) -> u64 {
        self.torn_tail_records
    }

    /// Bytes of the complete batches: where the next record goes (the file's length when
    /// there is no torn tail).
    pub fn valid_len(&self) -> u64 {
        self.valid_len
    }

    /// The hash of the last complete record (lower-case hex SHA-256; 64 zeros for an empty log).
    pub fn head_hash(&self) -> String {
        self.head.to_hex()
    }

    /// How many records are of schema 1, which carries no hash of its own (their bytes are
    /// still covered by the hash of the next schema-2 record).
    pub fn schema1_records(&self) -> u64 {
        self.schema1_records
    }

    /// Whether the file's last line is a whole record that closes its batch, with only its
    /// newline missing (as some editors and tools leave a file). Readers use that record; the
    /// next append writes the newline before its batch and says so
    /// ([`AppendReport::newline_added`](super::AppendReport::newline_added)).
    pub fn final_newline_missing(&self) -> bool {
        self.final_newline_missing
    }
}

/// What a streaming read ([`Log::stream`]) does around the fold of each piece of the log.
pub(crate) trait Stream {
    /// Before the lines of a piece are folded onto `history`, given the events among them
    /// that decoded (id and body): may replace `history` by one whose last seq is the same
    /// and that holds what checking those events reads.
    ///
    /// # Errors
    /// Any, which ends the read.
    fn before(&mut self, history: &mut History, events: &[(Uuid, &EventBody)]) -> Result<()>;

    /// After a piece's events were folded in (called only when it added some): may replace
    /// `history` as [`Stream::before`] may.
    ///
    /// # Errors
    /// Any, which ends the read.
    fn after(&mut self, history: &mut History) -> Result<()>;
}

/// Bytes of log per decoding chunk: enough lines to amortize a thread hand-off, few enough that
/// the chunks in flight stay a few MB.
pub(crate) const CHUNK_BYTES: usize = 1 << 20;

/// Bytes read at a time while skipping a line longer than [`LINE_BYTES_MAX`], or while looking
/// for the end of a line after a chunk's worth of bytes.
const READ_BYTES: usize = 64 << 10;

/// A part of the log on its way from the reader through a worker to the fold.
enum Piece {
    /// Whole lines, each ending in a newline, from file offset `offset`; `prev` is the stored
    /// hash of the line before them, when it has one.
    Lines {
        offset: u64,
        bytes: Vec<u8>,
        prev: Option<Hash>,
    },
    /// The same lines decoded.
    Decoded {
        offset: u64,
        bytes: Vec<u8>,
        lines: Vec<Decoded>,
    },
    /// A newline-terminated line longer than [`LINE_BYTES_MAX`] (not kept). The reader stops
    /// there: the fold fails at it.
    Overlong,
    /// The end of the file, at offset `len`; `tail` is the file's last line when no newline
    /// ends it (empty when there is none, or when it was longer than [`LINE_BYTES_MAX`]).
    End { len: u64, tail: Vec<u8> },
    /// A read failed; the reader stops there.
    Failed(std::io::Error),
}

/// Cuts what a reader gives into [`Piece`]s: chunks of whole lines of about `chunk_bytes`, then
/// one last piece (`End`, `Overlong` or `Failed`).
struct Chunker<R> {
    reader: R,
    chunk_bytes: usize,
    /// The start of a line whose newline was not read yet.
    carry: Vec<u8>,
    /// File offset of `carry`'s first byte.
    offset: u64,
    /// The stored hash of the last whole line cut so far (when it has one).
    prev: Option<Hash>,
    done: bool,
}

impl<R: Read> Chunker<R> {
    fn new(reader: R, chunk_bytes: usize, offset: u64, prev: Hash) -> Chunker<R> {
        Chunker {
            reader,
            chunk_bytes,
            carry: Vec::new(),
            offset,
            prev: Some(prev),
            done: false,
        }
    }

    fn cut(&mut self) -> Piece {
        let mut buf = std::mem::take(&mut self.carry);
        buf.reserve(self.chunk_bytes.min(CHUNK_BYTES).saturating_sub(buf.len()));
        // `carry` holds no newline.
        let mut newline = false;
        loop {
            let want = match self.chunk_bytes.checked_sub(buf.len()) {
                Some(n) if n > 0 => n,
                _ => self.chunk_bytes.min(READ_BYTES),
            };
            let before = buf.len();
            let n = match (&mut self.reader).take(want as u64).read_to_end(&mut buf) {
                Ok(n) => n,
                Err(e) => return Piece::Failed(e),
            };
            newline = newline || memchr::memchr(b'\n', &buf[before..]).is_some();
            if newline && (n == 0 || buf.len() >= self.chunk_bytes) {
                let cut = memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1);
                self.carry = buf[cut..].to_vec();
                buf.truncate(cut);
                let offset = self.offset;
                self.offset += cut as u64;
                let last_start = memchr::memrchr(b'\n', &buf[..cut - 1]).map_or(0, |i| i + 1);
                let prev =
                    std::mem::replace(&mut self.prev, stored_hash(&buf[last_start..cut - 1]));
                return Piece::Lines {
                    offset,
                    bytes: buf,
                    prev,
                };
            }
            if n == 0 {
                // An unterminated last line (or nothing): a whole record whose newline is
                // missing, or a torn tail; the fold tells which.
                let len = self.offset + buf.len() as u64;
                return Piece::End { len, tail: buf };
            }
            if !newline && buf.len() > LINE_BYTES_MAX {
                return self.skip_line(buf.len() as u64);
            }
        }
    }

    /// Reads on past a line already longer than [`LINE_BYTES_MAX`] (its first `len` bytes
    /// read), without keeping it: `Overlong` if a newline ends it, else a torn tail.
    fn skip_line(&mut self, mut len: u64) -> Piece {
        let mut scratch = vec![0u8; READ_BYTES];
        loop {
            match self.reader.read(&mut scratch) {
                Ok(0) => {
                    return Piece::End {
                        len: self.offset + len,
                        tail: Vec::new(),
                    };
                }
                Ok(n) if memchr::memchr(b'\n', &scratch[..n]).is_some() => {
                    return Piece::Overlong;
                }
                Ok(n) => len += n as u64,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Piece::Failed(e),
            }
        }
    }
}

impl<R: Read> Iterator for Chunker<R> {
    type Item = Piece;

    fn next(&mut self) -> Option<Piece> {
        if self.done {
            return None;
        }
        let piece = self.cut();
        self.done = !matches!(piece, Piece::Lines { .. });
        Some(piece)
    }
}

/// Decodes a piece of whole lines; passes any other piece on.
fn decode_piece(piece: Piece) -> Piece {
    match piece {
        Piece::Lines {
            offset,
            bytes,
            prev,
        } => {
            let lines = decode_chunk(&bytes, prev);
            Piece::Decoded {
                offset,
                bytes,
                lines,
            }
        }
        other => other,
    }
}

/// One line decoded on its own: everything that needs no earlier line, each check's outcome
/// kept so the fold can report them in the order a sequential read would.
struct Decoded {
    /// Byte range of the line (newline excluded).
    range: Range<usize>,
    /// JSON and schema, or the first error there.
    parsed: Result<Parsed, FieldError>,
}

struct Parsed {
    schema: u32,
    seq: Option<Seq>,
    batch_last: Option<Seq>,
    /// Schema 2: the stored hash and whether it links to the previous line's stored hash
    /// (`None` when that was not known here: the first line of a chunk after a schema-1 line).
    hash: ChainHash,
    id_time: Result<(Uuid, jiff::Timestamp), FieldError>,
    body: Result<EventBody, FieldError>,
}

/// Schema 2: a line's stored hash (or why it is not one) and whether it links to the
/// previous line's (`None` when that is not known); `None` for schema 1.
type ChainHash = Option<(Result<Hash, FieldError>, Option<bool>)>;

/// The stored hash of a schema-2 line, read without parsing the JSON.
pub(crate) fn stored_hash(line: &[u8]) -> Option<Hash> {
    Hash::from_hex(stored_hash_hex(line)?)
}

/// The stored hash of a schema-2 line as written there: its 64 lower-case hex digits, found
/// without parsing the JSON; `None` for a line without one (schema 1).
pub(crate) fn stored_hash_hex(line: &[u8]) -> Option<&[u8]> {
    let (before, _) = hash_input(line)?;
    Some(&line[before.len() + HASH_KEY.len()..][..HASH_HEX_LEN])
}

/// Decodes `bytes`, whole lines each ending in a newline; `prev` is the stored hash of the line
/// before them (when it has one). Ranges in the result are offsets in `bytes`.
fn decode_chunk(bytes: &[u8], mut prev: Option<Hash>) -> Vec<Decoded> {
    let mut out = Vec::with_capacity(bytes.len() / 300 + 1);
    let mut times = LastParsed::default();
    let mut at = 0;
    while at < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
        let line = &bytes[at..end];
        let parsed = decode(line, prev.as_ref(), &mut times);
        prev = match &parsed {
            Ok(Parsed {
                hash: Some((Ok(h), _)),
                ..
            }) => Some(*h),
            _ => None,
        };
        out.push(Decoded {
            range: at..end,
            parsed,
        });
        at = end + 1;
    }
    out
}

/// The error for a line longer than [`LINE_BYTES_MAX`].
fn overlong() -> FieldError {
    FieldError::new(
        "",
        format!("line is longer than LINE_BYTES_MAX ({LINE_BYTES_MAX} bytes)"),
    )
}

/// Decodes one stored line: JSON, schema, the hash link to `prev` (the previous line's stored
/// hash) when known, id, recorded time and body.
fn decode(line: &[u8], prev: Option<&Hash>, times: &mut LastParsed) -> Result<Parsed, FieldError> {
    check_line_shape(line)?;
    // The form the log writes is read field by field (a plain stance made without an owned
    // record); any other line by the general parse.
    let (record, made) = canonical::parse(line, times)?;
    let schema = record
        .schema
        .ok_or_else(|| FieldError::new("schema", "missing in a stored record"))?;
    if !(SCHEMA_VERSION_MIN..=SCHEMA_VERSION).contains(&schema) {
        return Err(FieldError::new(
            "schema",
            format!(
                "schema {schema} is not supported by this build (it reads {SCHEMA_VERSION_MIN} to {SCHEMA_VERSION})"
            ),
        ));
    }
    let hash = chain_hash(line, &record, schema, prev)?;
    let (seq, batch_last) = (record.seq, record.batch_last);
    let (id_time, body) = match made {
        Some((id, at, body)) => (Ok((id, at)), Ok(body)),
        None => (id_and_time(&record, times), record.into_body()),
    };
    Ok(Parsed {
        schema,
        seq,
        batch_last,
        hash,
        id_time,
        body,
    })
}

/// Refuses a line that is no record line whatever its content: longer than
/// [`LINE_BYTES_MAX`], ending in `\r`, empty, or starting with a byte order mark.
fn check_line_shape(line: &[u8]) -> Result<(), FieldError> {
    if line.len() > LINE_BYTES_MAX {
        return Err(overlong());
    }
    if line.last() == Some(&b'\r') {
        return Err(FieldError::new(
            "",
            "the line ends in \\r (a Windows line ending); log lines end in \\n alone (was the file converted by an editor or by git? see .gitattributes)",
        ));
    }
    if line.is_empty() {
        return Err(FieldError::new(
            "",
            "empty line: a log has one record on every line and no blank lines",
        ));
    }
    if line.starts_with(BOM) {
        return Err(FieldError::new(
            "",
            "the line starts with a UTF-8 byte order mark (bytes EF BB BF), which a log never holds (was the file saved by an editor that adds one?)",
        ));
    }
    Ok(())
}

/// The stored hash of a schema 2 record and whether it links to `prev` (`None` when there is
/// no previous hash to check against); `None` for schema 1, which has no hash chain (and
/// refuses the chain's fields).
fn chain_hash(
    line: &[u8],
    record: &Record,
    schema: u32,
    prev: Option<&Hash>,
) -> Result<ChainHash, FieldError> {
    if schema == 1 {
        for (field, present) in [
            ("hash", record.hash.is_some()),
            ("batch_last", record.batch_last.is_some()),
        ] {
            if present {
                return Err(FieldError::new(field, "is not a field of schema 1"));
            }
        }
        return Ok(None);
    }
    let stored = match (&record.hash, hash_input(line)) {
        (None, _) => Err(FieldError::new("hash", "missing in a stored record")),
        (Some(_), None) => Err(FieldError::new(
            "hash",
            "not found where the canonical form puts it",
        )),
        (Some(_), Some((before, after))) => Ok((before, after)),
    };
    Ok(Some(match stored {
        Err(e) => (Err(e), None),
        Ok((before, after)) => {
            // hash_input found the member: its value follows the key.
            let hex = &line[before.len() + HASH_KEY.len()..][..HASH_HEX_LEN];
            let h =
                Hash::from_hex(hex).ok_or_else(|| FieldError::new("hash", "not lower-case hex"));
            let linked = prev.map(|p| h.as_ref().is_ok_and(|h| link(p, &[before, after]) == *h));
            (h, linked)
        }
    }))
}

/// The event id and recorded time of a record the canonical reader did not make an event of.
/// The records of a batch share one recorded time: each distinct text is parsed once, kept in
/// `times`.
fn id_and_time(
    record: &Record,
    times: &mut LastParsed,
) -> Result<(Uuid, jiff::Timestamp), FieldError> {
    let id = parse_uuid(
        record
            .id
            .as_deref()
            .ok_or_else(|| FieldError::new("id", "missing in a stored record"))?,
        "id",
    )?;
    let text = record
        .recorded_at
        .as_deref()
        .ok_or_else(|| FieldError::new("recorded_at", "missing in a stored record"))?;
    Ok((id, recorded_at_cached(text, times)?))
}

/// The sequential part of reading a log: seq, hash chain, batches, recorded time, and the fold.
struct Fold<'a> {
    name: &'a str,
    history: History,
    head: Hash,
    recorded_at_last: Option<jiff::Timestamp>,
    schema1_records: u64,
    /// The last point where a batch was complete: (file offset, seq, head hash, recorded time).
    complete: (u64, Seq, Hash, Option<jiff::Timestamp>),
    /// Records folded since then (those of a batch still open).
    open_records: u64,
    batch_open: Option<Seq>,
    line_no: u64,
    stream: Option<&'a mut dyn Stream>,
}

impl<'a> Fold<'a> {
    fn new(name: &'a str, start: Option<Log>) -> Fold<'a> {
        let start = start.unwrap_or_else(Log::empty);
        let seq = start.history.seq_last();
        Fold {
            name,
            head: start.head,
            recorded_at_last: start.recorded_at_last,
            schema1_records: start.schema1_records,
            complete: (start.valid_len, seq, start.head, start.recorded_at_last),
            open_records: 0,
            batch_open: None,
            // One line per record.
            line_no: seq,
            history: start.history,
            stream: None,
        }
    }

    /// Folds every piece in file order, up to the end of the file.
    fn all(mut self, pieces: impl Iterator<Item = Piece>) -> Result<Log> {
        for piece in pieces {
            match piece {
                Piece::Decoded {
                    offset,
                    bytes,
                    lines,
                } => self.chunk(offset, &bytes, lines)?,
                Piece::Overlong => {
                    let line = Decoded {
                        range: 0..0,
                        parsed: Err(overlong()),
                    };
                    self.chunk(0, &[], vec![line])?;
                }
                Piece::Failed(e) => return Err(Error::io(self.name, e)),
                Piece::End { len, tail } => return self.end(len, &tail),
                // Only undecoded when a worker passed it on wrongly; never.
                Piece::Lines { .. } => break,
            }
        }
        // The pieces stopped before the end: a worker thread panicked (the scope passes its
        // panic on).
        Err(Error::io(
            self.name,
            std::io::Error::other("the log's reader stopped before the end"),
        ))
    }

    /// Folds the decoded lines of `bytes`, which starts at file offset `offset`.
    fn chunk(&mut self, offset: u64, bytes: &[u8], decoded: Vec<Decoded>) -> Result<()> {
        let from = self.before(&decoded)?;
        for d in decoded {
            // The file offset just after the line's newline.
            let next = offset + d.range.end as u64 + 1;
            self.fold_line(&bytes[d.range], d.parsed, next)?;
        }
        self.after(from)
    }

    /// Calls the stream, if any, before the fold of `decoded`; returns the last seq before.
    fn before(&mut self, decoded: &[Decoded]) -> Result<Seq> {
        let from = self.history.seq_last();
        if let Some(stream) = self.stream.as_deref_mut() {
            let events: Vec<(Uuid, &EventBody)> = decoded
                .iter()
                .filter_map(|d| match d.parsed.as_ref().ok()? {
                    Parsed {
                        id_time: Ok((id, _)),
                        body: Ok(body),
                        ..
                    } => Some((*id, body)),
                    _ => None,
                })
                .collect();
            stream.before(&mut self.history, &events)?;
        }
        Ok(from)
    }

    /// Calls the stream, if any, after the fold of the events after `from`.
    fn after(&mut self, from: Seq) -> Result<()> {
        match self.stream.as_deref_mut() {
            Some(stream) if self.history.seq_last() > from => stream.after(&mut self.history),
            _ => Ok(()),
        }
    }

    /// Folds one decoded line, which the next line follows at file offset `next`.
    fn fold_line(
        &mut self,
        line: &[u8],
        parsed: Result<Parsed, FieldError>,
        next: u64,
    ) -> Result<()> {
        self.line_no += 1;
        let (name, line_no) = (self.name, self.line_no);
        let at = move |field: String| Location {
            file: name.to_string(),
            line: Some(line_no),
            field: (!field.is_empty()).then_some(field),
        };
        let (event, batch_last, schema) = self
            .line(line, parsed)
            .map_err(|e| Error::input(at(e.field), e.message))?;
        self.history
            .check_recorded(&event.id, &event.body)
            .map_err(|r| Error::input(at(r.field().to_string()), r.to_string()))?;
        if schema == 1 {
            self.schema1_records += 1;
        }
        self.recorded_at_last = Some(event.recorded_at);
        let seq = event.seq;
        self.history.apply(event);
        if seq == batch_last {
            self.batch_open = None;
            self.open_records = 0;
            self.complete = (next, seq, self.head, self.recorded_at_last);
        } else {
            self.batch_open = Some(batch_last);
            self.open_records += 1;
        }
        Ok(())
    }

    /// Folds the file's last line if no newline ends it but it is a whole record, then
    /// finishes at offset `len`.
    ///
    /// A record cut short is never a whole JSON value (its object is not closed), so a last
    /// line that starts with one was written whole and lost only its newline (an editor or a
    /// tool dropped it): it is folded like any line, every check applying and any failure (text
    /// after the object, a hash that does not chain...) an error at its line. If it closes its
    /// batch, that batch is complete and readers use it ([`Log::final_newline_missing`]); if
    /// not, its batch is a torn tail like any batch without its last record. A last line that
    /// is not a whole JSON value (a record cut short, or bytes a crash left) is a torn tail.
    fn end(mut self, len: u64, tail: &[u8]) -> Result<Log> {
        let mut values = serde_json::Deserializer::from_slice(tail).into_iter::<IgnoredAny>();
        // A byte order mark is named as such, not taken for a torn tail.
        if tail.starts_with(BOM) || matches!(values.next(), Some(Ok(_))) {
            let head = self.head;
            let parsed = decode(tail, Some(&head), &mut LastParsed::default());
            let line = Decoded {
                range: 0..tail.len(),
                parsed,
            };
            let from = self.before(std::slice::from_ref(&line))?;
            self.fold_line(tail, line.parsed, len)?;
            self.after(from)?;
        }
        let missing = !tail.is_empty() && self.complete.0 == len;
        let mut log = self.finish(len);
        log.final_newline_missing = missing;
        Ok(log)
    }

    /// The checks of one line, in the order a reader reports them.
    fn line(
        &mut self,
        line: &[u8],
        parsed: Result<Parsed, FieldError>,
    ) -> Result<(Event, Seq, u32), FieldError> {
        let p = parsed?;
        let seq_expected = self.history.seq_last() + 1;
        let seq = p
            .seq
            .ok_or_else(|| FieldError::new("seq", "missing in a stored record"))?;
        if seq != seq_expected {
            return Err(FieldError::new(
                "seq",
                format!("is {seq}, expected {seq_expected} (seq must be contiguous from 1)"),
            ));
        }
        // Schema 1 has no hash and no batches: each record is a batch of its own, and it joins
        // the chain through its raw bytes.
        let batch_last = match p.hash {
            // A schema-1 record has no hash of its own: after a schema-2 record, nothing would
            // chain it (a line added at the end would change no stored hash).
            None if self.history.seq_last() > self.schema1_records => {
                return Err(FieldError::new(
                    "schema",
                    format!(
                        "is 1 after records of schema {SCHEMA_VERSION}: a schema-1 record has no hash, so one written after the hash chain began would escape it; only a log's first records may be of schema 1"
                    ),
                ));
            }
            None => {
                self.head = link(&self.head, &[line]);
                seq
            }
            Some((stored, linked)) => {
                let stored = stored?;
                let linked = match linked {
                    // Decoded against the previous line's stored hash, which is the head.
                    Some(ok) => ok,
                    None => hash_input(line).is_some_and(|(before, after)| {
                        link(&self.head, &[before, after]) == stored
                    }),
                };
                if !linked {
                    return Err(FieldError::new(
                        "hash",
                        "does not match the record and the previous hash: the log was changed after it was written",
                    ));
                }
                self.head = stored;
                p.batch_last
                    .ok_or_else(|| FieldError::new("batch_last", "missing in a stored record"))?
            }
        };
        match self.batch_open {
            Some(open) if open != batch_last => {
                return Err(FieldError::new(
                    "batch_last",
                    format!("is {batch_last}, but the batch ending at seq {open} is still open"),
                ));
            }
            _ if batch_last < seq || batch_last - seq >= BATCH_EVENTS_MAX as u64 => {
                return Err(FieldError::new(
                    "batch_last",
                    format!(
                        "is {batch_last}, not a seq from {seq} to {} (seq + BATCH_EVENTS_MAX - 1)",
                        seq + BATCH_EVENTS_MAX as u64 - 1
                    ),
                ));
            }
            _ => {}
        }
        let (id, recorded_at) = p.id_time?;
        if let Some(last) = self.recorded_at_last.filter(|last| *last > recorded_at) {
            return Err(FieldError::new(
                "recorded_at",
                format!(
                    "is earlier than the previous record's {} (recorded time never decreases)",
                    format_recorded_at(&last)
                ),
            ));
        }
        let body = p.body?;
        Ok((
            Event {
                seq,
                id,
                recorded_at,
                body,
            },
            batch_last,
            p.schema,
        ))
    }

    /// The log as folded, the file ending at offset `len`.
    fn finish(self, len: u64) -> Log {
        let Fold {
            mut history,
            mut head,
            mut recorded_at_last,
            schema1_records,
            complete,
            open_records,
            ..
        } = self;
        // Whatever follows the last complete batch is a torn tail: an unterminated line, or the
        // records of a batch whose last record never made it.
        let (valid_len, seq_complete, head_complete, recorded_complete) = complete;
        let torn_tail_bytes = len - valid_len;
        if torn_tail_bytes > 0 {
            history.rollback_to(seq_complete);
            head = head_complete;
            recorded_at_last = recorded_complete;
        }
        Log {
            history,
            torn_tail_bytes,
            torn_tail_records: open_records,
            recorded_at_last,
            head,
            valid_len,
            schema1_records,
            final_newline_missing: false,
        }
    }
}

/// Opens an existing log for reading.
pub(crate) fn open_read(path: &Path) -> Result<File> {
    // Looked at before the open too: opening a named pipe to read waits for a writer.
    must_be_regular(
        path,
        &std::fs::metadata(path).map_err(|e| missing_or_io(path, e))?,
    )?;
    let file = File::open(path).map_err(|e| missing_or_io(path, e))?;
    must_be_regular(
        path,
        &file.metadata().map_err(|e| Error::io(path.display(), e))?,
    )?;
    Ok(file)
}

/// Refuses a log path that is a folder, a device or a pipe (`--log /dev/null` read as an
/// empty log, had an index folder made beside it in `/dev`, and took appends that went
/// nowhere).
///
/// # Errors
/// [`Error::Usage`] naming the path and what it is.
pub(crate) fn must_be_regular(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    let what = if meta.is_dir() {
        "a folder"
    } else {
        "a device, pipe or socket"
    };
    Err(not_a_log(path, what))
}

fn not_a_log(path: &Path, what: &str) -> Error {
    Error::Usage(format!(
        "{}: is {what}, not a log file; a log is a regular file (or a PostgreSQL database)",
        path.display()
    ))
}

/// A missing log says how to make one, a folder that it is not a log file; anything else is
/// I/O.
pub(crate) fn missing_or_io(path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::IsADirectory {
        return not_a_log(path, "a folder");
    }
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::Usage(format!(
            "{}: no log there; create one with `stancelog --log {} init`",
            path.display(),
            path.display()
        ))
    } else {
        Error::io(path.display(), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &[u8] = include_bytes!("../../events/dprk-russia-2024.jsonl");
    const SCHEMA1: &[u8] = include_bytes!("../../tests/fixtures/schema1-dprk-russia-2024.jsonl");

    #[test]
    fn a_blank_line_is_named_as_such() {
        // Regression: a blank line in a log was reported as "EOF while parsing a value".
        let mut bytes = Vec::new();
        for (i, line) in SEED.split_inclusive(|b| *b == b'\n').enumerate() {
            if i == 10 {
                bytes.push(b'\n');
            }
            bytes.extend_from_slice(line);
        }
        let e = Log::from_bytes("log", &bytes).unwrap_err().to_string();
        assert!(e.starts_with("log:11: "), "{e}");
        assert!(e.contains("empty line"), "{e}");
        same_answer(&bytes);
    }

    /// A schema-1 record (no hash) of `seq`, registering an actor.
    fn schema1_line(seq: u64) -> String {
        format!(
            r#"{{"schema":1,"seq":{seq},"id":"00000000-0000-4000-8000-{seq:012}","recorded_at":"2030-01-01T00:00:00.000000Z","type":"actor.registered","actor":"forger","name":"Forger","kind":"person","country":"KOR","sector":"GOV"}}"#
        )
    }

    #[test]
    fn a_schema1_record_after_schema2_records_is_an_error_at_its_line() {
        // Regression (issue 15): a hand-written schema-1 line at the end of a schema-2 log was
        // read (and verified) though no hash covered it.
        let expected = "log:41: field `schema`: is 1 after records of schema 2: a schema-1 record has no hash, so one written after the hash chain began would escape it; only a log's first records may be of schema 1";
        let mut forged = SEED.to_vec();
        forged.extend_from_slice(schema1_line(41).as_bytes());
        // Without its newline (the last line of the file) and with it.
        for bytes in [forged.clone(), [&forged[..], b"\n"].concat()] {
            let e = Log::from_bytes("log", &bytes).unwrap_err();
            assert_eq!(e.to_string(), expected);
            same_answer(&bytes);
        }
        // Between schema-2 records.
        let at = end_of_line(SEED, 35);
        let inserted = [&SEED[..at], schema1_line(36).as_bytes(), b"\n", &SEED[at..]].concat();
        let e = Log::from_bytes("log", &inserted).unwrap_err().to_string();
        assert!(
            e.starts_with("log:36: field `schema`: is 1 after records of schema 2"),
            "{e}"
        );
        // A log that starts in schema 1 is still read, up to its first schema-2 record.
        let log = Log::from_bytes("log", SCHEMA1).unwrap();
        assert_eq!(log.schema1_records, 35);
    }

    #[test]
    fn a_last_record_without_its_newline_is_read_with_its_batch() {
        // Regression (issue 15): removing only the final newline made readers drop seq 36-40.
        let whole = Log::from_bytes("log", SEED).unwrap();
        for full in [SEED, SCHEMA1] {
            let cut = &full[..full.len() - 1];
            let log = Log::from_bytes("log", cut).unwrap();
            let want = Log::from_bytes("log", full).unwrap();
            assert!(log.history.events().eq(want.history.events()));
            assert_eq!((log.head, log.torn_tail_bytes), (want.head, 0));
            assert_eq!(log.valid_len, cut.len() as u64);
            assert!(log.final_newline_missing && !want.final_newline_missing);
            same_answer(cut);
        }
        assert_eq!(whole.history.seq_last(), 40);
        // A record of a batch still open (line 38 of 36-40) without its newline: the batch has
        // no last record, so it is a torn tail of three records.
        let (batch, line38) = (end_of_line(SEED, 35), end_of_line(SEED, 38));
        let log = Log::from_bytes("log", &SEED[..line38 - 1]).unwrap();
        assert_eq!(log.history.seq_last(), 35);
        assert_eq!(log.torn_tail_records, 3);
        assert_eq!(log.torn_tail_bytes, (line38 - 1 - batch) as u64);
        assert!(!log.final_newline_missing);
        // The last record cut short anywhere is a torn tail: batch 36-40 is not read.
        let line39 = end_of_line(SEED, 39);
        for end in [line39 + 1, line39 + 100, SEED.len() - 2] {
            let log = Log::from_bytes("log", &SEED[..end]).unwrap();
            assert_eq!(log.history.seq_last(), 35, "cut at {end}");
            assert_eq!(log.torn_tail_records, 4);
            assert!(!log.final_newline_missing);
        }
    }

    #[test]
    fn a_whole_last_line_without_its_newline_is_checked_like_any_line() {
        let cut = &SEED[..SEED.len() - 1];
        // A byte of its reason changed: the hash names line 40 (it is not a torn tail).
        let at = memchr::memmem::rfind(cut, b"foreign minister").unwrap();
        let mut edited = cut.to_vec();
        edited[at] = b'F';
        let e = Log::from_bytes("log", &edited).unwrap_err().to_string();
        assert_eq!(
            e,
            "log:40: field `hash`: does not match the record and the previous hash: the log was changed after it was written"
        );
        // A byte after it, in place of the newline.
        let junk = [cut, b"\x0b"].concat();
        let e = Log::from_bytes("log", &junk).unwrap_err().to_string();
        assert!(e.starts_with("log:40: text after the record"), "{e}");
        same_answer(&edited);
        same_answer(&junk);
    }

    /// The parallel read must say exactly what the sequential one says, on good and bad logs.
    fn same_answer(bytes: &[u8]) {
        let whole = Log::from_bytes_chunked("log", bytes, usize::MAX);
        for chunk in [1, 200, 1000, 5000] {
            let parts = Log::from_bytes_chunked("log", bytes, chunk);
            match (&whole, &parts) {
                (Ok(a), Ok(b)) => {
                    assert!(a.history.events().eq(b.history.events()), "chunk {chunk}");
                    assert_eq!(
                        (a.head, a.torn_tail_bytes, a.valid_len),
                        (b.head, b.torn_tail_bytes, b.valid_len)
                    );
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "chunk {chunk}"),
                _ => panic!("chunk {chunk}: {:?} vs {:?}", whole.is_ok(), parts.is_ok()),
            }
        }
    }

    #[test]
    fn chunked_read_equals_sequential_read_on_good_and_damaged_logs() {
        same_answer(SEED);
        same_answer(SCHEMA1);
        // Every 97th byte flipped, one at a time, in both logs; and the logs cut short there.
        for log in [SEED, SCHEMA1] {
            for at in (0..log.len()).step_by(97) {
                let mut bad = log.to_vec();
                bad[at] ^= 0x01;
                same_answer(&bad);
                same_answer(&log[..at]);
            }
        }
    }

    /// A reader that gives at most `step` bytes per read, as a pipe or a slow disk may.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    fn trickled(bytes: &[u8], step: usize, chunk_bytes: usize) -> Result<Log> {
        Log::resume("log", Trickle { bytes, step }, None, chunk_bytes)
    }

    /// The offset where line `lines` ends (0 for none).
    fn end_of_line(bytes: &[u8], lines: usize) -> usize {
        memchr::memchr_iter(b'\n', bytes)
            .nth(lines.wrapping_sub(1))
            .map_or(0, |i| i + 1)
    }

    fn same_log(a: &Log, b: &Log) {
        assert!(a.history.events().eq(b.history.events()));
        assert_eq!(
            (a.head, a.valid_len, a.recorded_at_last, a.schema1_records),
            (b.head, b.valid_len, b.recorded_at_last, b.schema1_records)
        );
        assert_eq!(
            (a.torn_tail_bytes, a.torn_tail_records),
            (b.torn_tail_bytes, b.torn_tail_records)
        );
    }

    #[test]
    fn chunks_are_whole_lines_in_order_each_with_the_hash_of_the_line_before() {
        for (chunk, step) in [(1, 1), (333, 7), (333, 4096), (5000, 100)] {
            let mut chunker = Chunker::new(Trickle { bytes: SEED, step }, chunk, 0, GENESIS_HASH);
            let mut at = 0usize;
            let mut prev = Some(GENESIS_HASH);
            let mut pieces = 0;
            for piece in chunker.by_ref() {
                match piece {
                    Piece::Lines {
                        offset,
                        bytes,
                        prev: p,
                    } => {
                        assert_eq!(offset, at as u64);
                        assert_eq!(&bytes[..], &SEED[at..at + bytes.len()]);
                        assert_eq!(bytes.last(), Some(&b'\n'));
                        // As many whole lines as fit in `chunk` bytes, or the one line that
                        // does not fit: no line ends in the rest of the first `chunk` bytes.
                        let rest = at + bytes.len()..(at + chunk).min(SEED.len());
                        assert!(rest.is_empty() || !SEED[rest].contains(&b'\n'));
                        assert_eq!(p, prev);
                        let n = bytes.len();
                        let last_start =
                            memchr::memrchr(b'\n', &bytes[..n - 1]).map_or(0, |i| i + 1);
                        prev = stored_hash(&bytes[last_start..n - 1]);
                        at += bytes.len();
                        pieces += 1;
                    }
                    Piece::End { len, tail } => {
                        assert_eq!(len, SEED.len() as u64);
                        assert!(tail.is_empty());
                    }
                    _ => panic!("only lines, then the end"),
                }
            }
            assert_eq!(at, SEED.len());
            assert!(chunk > SEED.len() || pieces > 1, "{chunk}: {pieces}");
            assert!(chunker.next().is_none());
        }
    }

    #[test]
    fn lines_cut_across_chunks_and_reads_fold_as_one_read() {
        let whole = Log::from_bytes_chunked("log", SEED, usize::MAX).unwrap();
        assert_eq!(whole.history.seq_last(), 40);
        for chunk in [1, 50, 333, 4096] {
            for step in [1, 7, 64, 100_000] {
                same_log(&trickled(SEED, step, chunk).unwrap(), &whole);
            }
        }
    }

    #[test]
    fn a_line_longer_than_line_bytes_max_mid_file_is_an_error_at_its_line() {
        let cut = end_of_line(SEED, 35);
        let expected =
            format!("log:36: line is longer than LINE_BYTES_MAX ({LINE_BYTES_MAX} bytes)");
        // Just too long (found when decoding), and much too long (found while reading).
        for extra in [1, 100_000] {
            let mut log = SEED[..cut].to_vec();
            log.extend_from_slice(b"{\"x\":\"");
            log.resize(log.len() + LINE_BYTES_MAX - 8 + extra, b'a');
            log.extend_from_slice(b"\"}");
            assert_eq!(log.len() - cut, LINE_BYTES_MAX + extra);
            log.push(b'\n');
            log.extend_from_slice(&SEED[cut..]);
            for chunk in [1000, CHUNK_BYTES, usize::MAX] {
                for step in [4096, usize::MAX] {
                    let e = trickled(&log, step, chunk).unwrap_err();
                    assert_eq!(e.to_string(), expected, "chunk {chunk}, step {step}");
                }
            }
        }
        // In chunks, a line much too long is never held: the first 35 lines, then its end.
        let mut log = SEED[..cut].to_vec();
        log.resize(cut + 3 * LINE_BYTES_MAX, b'a');
        log.push(b'\n');
        let mut chunker = Chunker::new(&log[..], 1000, 0, GENESIS_HASH);
        let mut read = 0;
        for piece in chunker.by_ref() {
            match piece {
                Piece::Lines { bytes, .. } => {
                    assert!(bytes.len() < 2000);
                    read += bytes.len();
                }
                Piece::Overlong => break,
                _ => panic!("lines, then the overlong line"),
            }
        }
        assert_eq!(read, cut);
        assert!(chunker.next().is_none());
        // Unterminated at the end of the file, it is a torn tail.
        let mut torn = SEED.to_vec();
        torn.resize(SEED.len() + 2 * LINE_BYTES_MAX, b'a');
        for chunk in [1000, CHUNK_BYTES] {
            let log = trickled(&torn, 4096, chunk).unwrap();
            assert_eq!(log.history.seq_last(), 40);
            assert_eq!(log.torn_tail_bytes, 2 * LINE_BYTES_MAX as u64);
            assert_eq!(log.torn_tail_records, 0);
            assert_eq!(log.valid_len, SEED.len() as u64);
        }
    }

    #[test]
    fn a_torn_tail_at_the_end_of_a_chunk_is_ignored() {
        // The second batch (lines 36-40) cut after line 38: three whole records, no batch_last.
        let (batch, torn) = (end_of_line(SEED, 35), end_of_line(SEED, 38));
        let partial = &SEED[..torn + 10];
        for bytes in [&SEED[..torn], partial] {
            // Chunks ending at the batch's end, at the file's end, and everywhere between.
            let mut sizes = vec![batch, torn, torn - batch, bytes.len() - batch, usize::MAX];
            sizes.extend((1..bytes.len()).step_by(61));
            for chunk in sizes {
                let log = Log::from_bytes_chunked("log", bytes, chunk).unwrap();
                assert_eq!(log.history.seq_last(), 35, "chunk {chunk}");
                assert_eq!(log.valid_len, batch as u64);
                assert_eq!(log.torn_tail_bytes, (bytes.len() - batch) as u64);
                assert_eq!(log.torn_tail_records, 3);
            }
        }
        // With chunks of the first batch's size, the torn records are a chunk of their own.
        let mut chunker = Chunker::new(&SEED[..torn], batch, 0, GENESIS_HASH);
        assert!(matches!(chunker.next(), Some(Piece::Lines { bytes, .. }) if bytes.len() == batch));
        assert!(
            matches!(chunker.next(), Some(Piece::Lines { bytes, .. }) if bytes.len() == torn - batch)
        );
        assert!(matches!(chunker.next(), Some(Piece::End { len, .. }) if len == torn as u64));
    }

    /// A log of `n` events in batches of one: two registrations, then stances.
    fn long_log(n: usize) -> Vec<u8> {
        let mut text = String::from(concat!(
            r#"{"type":"actor.registered","actor":"a","name":"A","kind":"state","country":"KOR","sector":"GOV"}"#,
            "\n",
            r#"{"type":"topic.registered","topic":"t","title":"T","kind":"policy"}"#,
            "\n"
        ));
        for i in 0..n - 2 {
            text.push_str(&format!(
                r#"{{"type":"stance.declared","actor":"a","topic":"t","stance":"support","date":"{}","quote":"q {i}","cite":{{"publication":"P"}}}}"#,
                1000 + i % 8000
            ));
            text.push('\n');
        }
        let batch = crate::store::parse_batch("batch", text.as_bytes()).unwrap();
        let t = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        let events: Vec<Event> = batch
            .into_iter()
            .enumerate()
            .map(|(i, e)| Event {
                seq: i as u64 + 1,
                id: Uuid::from_u128(i as u128 + 1),
                recorded_at: t,
                body: e.body,
            })
            .collect();
        crate::store::encode_log(&events)
    }

    #[test]
    fn a_bad_line_in_a_late_chunk_is_reported_at_its_line() {
        let good = long_log(3000);
        let whole = Log::from_bytes("log", &good).unwrap();
        assert_eq!(whole.history.seq_last(), 3000);
        // The quote of line 2500 ("q 2497") changed: its hash no longer matches.
        let line = end_of_line(&good, 2499);
        let at = line + memchr::memmem::find(&good[line..], b"\"q 2497\"").unwrap() + 3;
        let mut edited = good.clone();
        edited[at] = b'9';
        // Line 2900 made bad JSON.
        let mut broken = good.clone();
        let start = end_of_line(&good, 2899);
        broken[start] = b'[';
        for chunk in [1000, 4096, usize::MAX] {
            let e = Log::from_bytes_chunked("log", &edited, chunk)
                .unwrap_err()
                .to_string();
            assert_eq!(
                e,
                "log:2500: field `hash`: does not match the record and the previous hash: the log was changed after it was written",
                "chunk {chunk}"
            );
            let e = Log::from_bytes_chunked("log", &broken, chunk)
                .unwrap_err()
                .to_string();
            assert_eq!(e, "log:2900: expected `,` or `]`", "chunk {chunk}");
            same_log(
                &Log::from_bytes_chunked("log", &good, chunk).unwrap(),
                &whole,
            );
        }
    }
}
