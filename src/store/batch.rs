//! Append batches: the input of `stancelog append`, parsed and checked field by field.

use super::log::LINE_BYTES_MAX;
use super::record::{FieldError, Record, SCHEMA_VERSION, parse_uuid};
use crate::core::{EventBody, quoted};
use crate::error::{Error, Location, Result};
use uuid::Uuid;

/// Most events accepted in one append batch.
pub const BATCH_EVENTS_MAX: usize = 100_000;

/// One event of an append batch, before the log assigns `seq` and `recorded_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The id the writer gave, kept as is; `None` gets a fresh UUID v7 on append.
    pub id: Option<Uuid>,
    /// Type and fields.
    pub body: EventBody,
    /// 1-based line of the batch input where the event starts (for error messages).
    pub line: u64,
}

/// Parses one JSON object into a [`Record`], naming the field at fault.
pub(crate) fn parse_record(line: &[u8]) -> Result<Record, FieldError> {
    // Fast path first; only a failure pays for tracking the path to the bad field. A line
    // checked as UTF-8 once, whole, is parsed as a `str`, whose strings serde_json then does
    // not check again one by one (that was a tenth of parsing a log's line); a line that is not
    // UTF-8 takes the byte path, whose error names where.
    let fast = match std::str::from_utf8(line).map_or_else(
        |_| serde_json::from_slice::<Record>(line),
        serde_json::from_str::<Record>,
    ) {
        Ok(r) => return Ok(r),
        Err(e) => e,
    };
    let mut de = serde_json::Deserializer::from_slice(line);
    match serde_path_to_error::deserialize::<_, Record>(&mut de) {
        Err(e) => Err(json_field_error(
            e.path().to_string(),
            e.into_inner().to_string(),
        )),
        // The object itself is fine, so the fast path failed on what follows it.
        Ok(_) => Err(FieldError::new(
            "",
            format!(
                "text after the record's closing `}}` (at column {}): a line holds one JSON object",
                fast.column()
            ),
        )),
    }
}

fn json_field_error(path: String, message: String) -> FieldError {
    // serde_path_to_error names the root `.` and a segment it cannot name `?`: no field then.
    let field = if path == "." || path == "?" {
        String::new()
    } else {
        path
    };
    // serde_json appends " at line 1 column N"; the caller reports the line itself.
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    FieldError {
        field,
        message: explain_json(message),
    }
}

/// serde_json's message in our words where its own misleads, and with any value it quotes
/// clipped ([`quoted`]): an unknown key can be as long as a line.
fn explain_json(message: String) -> String {
    // serde_json says "unexpected end of hex escape" after a high surrogate not followed by
    // `\u`, and "lone leading surrogate" for a low one alone.
    if message.contains("surrogate") || message.contains("end of hex escape") {
        return "an unpaired surrogate in a \\u escape: \\uD800 to \\uDBFF must be followed by \\uDC00 to \\uDFFF (JSON text must be valid Unicode; write the character itself)".to_string();
    }
    clip_backticked(&message)
}

/// `message` with each backticked value longer than the quoting limit clipped by [`quoted`].
fn clip_backticked(message: &str) -> String {
    let parts: Vec<&str> = message.split('`').collect();
    let mut out = String::with_capacity(message.len().min(1024));
    for (i, part) in parts.iter().enumerate() {
        // Odd parts are inside backticks, if a closing one follows.
        let inside = i % 2 == 1;
        if inside && i + 1 < parts.len() {
            out.push_str(&quoted(part));
        } else {
            if inside {
                out.push('`');
            }
            out.push_str(part);
        }
    }
    out
}

/// Parses an append batch: one JSON object, or JSON Lines of objects, each an event without
/// `seq`, `recorded_at`, `hash` or `batch_last` (those are assigned by the log; `schema` may be
/// given only as the version this build writes); `id` may be given.
///
/// # Errors
/// [`Error::Input`] naming `name`, the line and the field of the first bad event, or saying the
/// input holds no event, or more than [`BATCH_EVENTS_MAX`].
pub fn parse_batch(name: &str, text: &[u8]) -> Result<Vec<NewEvent>> {
    let at = |line: u64, field: &str| Location {
        file: name.to_string(),
        line: Some(line),
        field: (!field.is_empty()).then(|| field.to_string()),
    };
    if text.starts_with(BOM) {
        return Err(Error::input(
            at(1, ""),
            "the input starts with a UTF-8 byte order mark (bytes EF BB BF), which JSON Lines does not allow; save it as UTF-8 without a BOM",
        ));
    }
    let mut events = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(text).into_iter::<serde_json::Value>();
    let mut offset = 0usize;
    let mut line: u64 = 1;
    // The line the previous event ended on (0 before the first).
    let mut end_line_last: u64 = 0;
    loop {
        // Skip white space to find where the next value starts, counting lines on the way.
        while let Some(&b) = text.get(offset) {
            if !b.is_ascii_whitespace() {
                break;
            }
            if b == b'\n' {
                line += 1;
            }
            offset += 1;
        }
        let start_line = line;
        let start = offset;
        if start_line == end_line_last && offset < text.len() {
            return Err(Error::input(
                at(start_line, ""),
                after_event(&text[offset..]),
            ));
        }
        let value = match stream.next() {
            None => break,
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                return Err(match not_utf8(&text[start..], start_line) {
                    Some((bad, byte)) if bad <= e.line() as u64 => Error::input(
                        at(bad, ""),
                        format!("not UTF-8 text (a byte 0x{byte:02X}): save the input as UTF-8"),
                    ),
                    _ => malformed(at(start_line, ""), start_line, &e),
                });
            }
        };
        let end = stream.byte_offset();
        line += text[offset..end].iter().filter(|&&b| b == b'\n').count() as u64;
        let event_bytes = end - offset;
        offset = end;
        end_line_last = line;
        if let Some(why) = unfit(event_bytes, events.len(), &value) {
            return Err(Error::input(at(start_line, ""), why));
        }
        // From the event's own bytes, not from `value`: a JSON map keeps only the last of two
        // equal keys, and a record refuses a field given twice.
        let mut de = serde_json::Deserializer::from_slice(&text[start..end]);
        let record: Record = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let fe = json_field_error(e.path().to_string(), e.into_inner().to_string());
            Error::input(at(start_line, &fe.field), fe.message)
        })?;
        let new = new_event(&record, start_line)
            .map_err(|fe| Error::input(at(start_line, &fe.field), fe.message))?;
        events.push(new);
    }
    if events.is_empty() {
        return Err(no_events(name, text));
    }
    Ok(events)
}

/// The line (counted from `first_line`, the line `text` starts on) and value of the first byte
/// of `text` that is not part of UTF-8 text, if any (a Latin-1 `é`, a UTF-16 file's first byte).
fn not_utf8(text: &[u8], first_line: u64) -> Option<(u64, u8)> {
    let good = std::str::from_utf8(text).err()?.valid_up_to();
    let lines = text[..good].iter().filter(|&&b| b == b'\n').count() as u64;
    Some((first_line + lines, text[good]))
}

/// The error for JSON that does not parse, found while reading the value that starts on
/// `start_line` (at `at`). At the end of the input, the line the value started on is the useful
/// one. Found on a later line, the error is often that this line was cut short, so that the next
/// one ran on into it: both are named.
fn malformed(at: Location, start_line: u64, e: &serde_json::Error) -> Error {
    let fe = json_field_error(String::new(), e.to_string());
    let found = e.line() as u64;
    if e.is_eof() || found <= start_line {
        Error::input(at, format!("malformed JSON: {}", fe.message))
    } else {
        Error::input(
            at,
            format!(
                "malformed JSON: {}, found at line {found}: the event that starts on this line runs on there (is this line cut short?)",
                fe.message
            ),
        )
    }
}

/// Why a parsed value of `event_bytes` bytes cannot be the next event of a batch that holds
/// `held` already: too long for a stored line, one too many, or not an object.
fn unfit(event_bytes: usize, held: usize, value: &serde_json::Value) -> Option<String> {
    if event_bytes > LINE_BYTES_MAX {
        return Some(format!(
            "event is {event_bytes} bytes, more than LINE_BYTES_MAX ({LINE_BYTES_MAX} bytes) a stored line may hold"
        ));
    }
    if held == BATCH_EVENTS_MAX {
        return Some(format!(
            "batch holds more than BATCH_EVENTS_MAX ({BATCH_EVENTS_MAX}) events; split it"
        ));
    }
    (!value.is_object()).then(|| "expected a JSON object (one event)".to_string())
}

/// The error for an input of `name` that holds no event.
fn no_events(name: &str, text: &[u8]) -> Error {
    let location = Location {
        file: name.to_string(),
        line: None,
        field: None,
    };
    Error::input(
        location,
        if text.is_empty() {
            "no events: the input is empty (0 bytes)".to_string()
        } else {
            format!(
                "no events: the input holds only white space ({} bytes)",
                text.len()
            )
        },
    )
}

/// A UTF-8 byte order mark.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What follows an event on its line, `rest` being the input from there: another event, or
/// text after the event (quoted, clipped).
fn after_event(rest: &[u8]) -> String {
    let line = &rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())];
    if line.first() == Some(&b'{') {
        return "a second event on the same line: JSON Lines holds one event per line".to_string();
    }
    format!(
        "text after the event on its line: {}; JSON Lines holds one event per line and nothing else",
        quoted(String::from_utf8_lossy(line).trim_end())
    )
}

fn new_event(record: &Record, line: u64) -> Result<NewEvent, FieldError> {
    let assigned = [
        ("seq", record.seq.is_some()),
        ("recorded_at", record.recorded_at.is_some()),
        ("hash", record.hash.is_some()),
        ("batch_last", record.batch_last.is_some()),
    ];
    if let Some((field, _)) = assigned.into_iter().find(|(_, given)| *given) {
        return Err(FieldError::new(
            field,
            "is assigned by the log on append; leave it out",
        ));
    }
    if let Some(v) = record.schema.filter(|v| *v != SCHEMA_VERSION) {
        return Err(FieldError::new(
            "schema",
            format!("schema {v} is not the one this build writes ({SCHEMA_VERSION})"),
        ));
    }
    let id = match &record.id {
        Some(id) => Some(parse_uuid(id, "id")?),
        None => None,
    };
    Ok(NewEvent {
        id,
        body: record.to_body()?,
        line,
    })
}
