//! A segment's topic table: the `topic.registered` events of its seqs, in seq order, in
//! binary fields, in one section with one check (the layout is in `events/INDEX.md`). A fold
//! that needs many topics' registrations (a one-actor query of the UN votes log needs 6,156 of
//! 6,203) reads them from the tables, one read per segment, instead of from their records:
//! reading, checking and parsing each record and decoding its text fields (event id, recorded
//! time) no longer (that query: 107.5M -> 92.6M instructions, callgrind). The records stay:
//! the whole-index fold and every other reader use them.
//!
//! An entry holds every field of the event, so the event made from it equals its record's.

use uuid::Uuid;

use super::put_str;
use crate::core::{Event, EventBody, Seq, TopicId, TopicKind, TopicRegistered};
use crate::store::codec::Reader;

/// A table being written: its entries so far, in seq order.
#[derive(Default)]
pub(crate) struct TableWriter {
    bytes: Vec<u8>,
}

impl TableWriter {
    /// Adds `e` if it is a `topic.registered` (events are added in seq order).
    pub(crate) fn add(&mut self, e: &Event) {
        let EventBody::TopicRegistered(t) = &e.body else {
            return;
        };
        let start = self.bytes.len();
        let b = &mut self.bytes;
        b.extend_from_slice(&[0; 4]);
        put_str(b, t.topic.as_str());
        b.extend_from_slice(&e.seq.to_le_bytes());
        b.extend_from_slice(e.id.as_bytes());
        // To the microsecond, as the record's text keeps it (`format_recorded_at`): an event
        // with finer time still reads the same from its entry as from its record.
        b.extend_from_slice(&e.recorded_at.as_microsecond().to_le_bytes());
        b.push(kind_code(t.kind));
        put_str(b, &t.title);
        b.push(u8::from(t.resolution.is_some()));
        if let Some(r) = &t.resolution {
            put_str(b, r);
        }
        b.push(u8::from(t.session.is_some()));
        b.extend_from_slice(&t.session.unwrap_or(0).to_le_bytes());
        b.push(t.important.map_or(0, |i| 1 + u8::from(i)));
        b.extend_from_slice(&(t.issues.len() as u32).to_le_bytes());
        for i in &t.issues {
            put_str(b, i);
        }
        let len = (b.len() - start - 4) as u32;
        b[start..start + 4].copy_from_slice(&len.to_le_bytes());
    }

    /// Adds the entries of the table of the segment of the seqs after those added so far
    /// (`table`, checked: a merge joins its parts' tables so).
    pub(crate) fn add_table(&mut self, table: &[u8]) {
        self.bytes.extend_from_slice(table);
    }

    /// The table's bytes.
    pub(crate) fn encode(self) -> Vec<u8> {
        self.bytes
    }
}

/// An entry of a table: its topic id, its seq, and its whole bytes (length included).
pub(crate) type Entry<'a> = (&'a str, Seq, &'a [u8]);

/// The entries of a table, in order; an entry that does not fit (damage the check missed) is
/// an error, the last.
pub(crate) fn entries(table: &[u8]) -> impl Iterator<Item = Result<Entry<'_>, String>> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= table.len() {
            return None;
        }
        let entry = (|| {
            let len = Reader::new(&table[at..]).u32()? as usize;
            let whole = table.get(at..at + 4 + len).ok_or(DAMAGED)?;
            let mut r = Reader::new(&whole[4..]);
            Ok((r.text()?, r.u64()?, whole))
        })()
        .map_err(|_: String| DAMAGED.to_string());
        match &entry {
            Ok((_, _, whole)) => at += whole.len(),
            Err(_) => at = table.len(),
        }
        Some(entry)
    })
}

const DAMAGED: &str = "its topic table is damaged";

/// The byte a topic kind is written as (`events/INDEX.md`, "Topic table"): fixed codes, so a
/// kind added to [`TopicKind`] or moved in it does not change what a written table means.
fn kind_code(kind: TopicKind) -> u8 {
    match kind {
        TopicKind::Policy => 0,
        TopicKind::Claim => 1,
        TopicKind::Vote => 2,
        TopicKind::Treaty => 3,
        TopicKind::Membership => 4,
    }
}

/// The topic kind of a byte [`kind_code`] wrote, `None` for any other byte.
fn kind_of(code: u8) -> Option<TopicKind> {
    TopicKind::ALL
        .iter()
        .copied()
        .find(|k| kind_code(*k) == code)
}

/// The event of an entry (its whole bytes, as [`entries`] gives them).
///
/// # Errors
/// "its topic table is damaged" when the bytes do not make one.
pub(crate) fn event(entry: &[u8]) -> Result<Event, String> {
    read_event(entry.get(4..).unwrap_or_default()).map_err(|_| DAMAGED.to_string())
}

/// [`event`] of an entry's bytes after its length; an error in the reader's words.
fn read_event(bytes: &[u8]) -> Result<Event, String> {
    let mut r = Reader::new(bytes);
    let topic = TopicId::new(r.text()?).map_err(|e| e.to_string())?;
    let seq: Seq = r.u64()?;
    let id = Uuid::from_bytes(r.array()?);
    let micros = r.u64()? as i64;
    let recorded_at = jiff::Timestamp::from_microsecond(micros).map_err(|e| e.to_string())?;
    let kind = kind_of(r.u8()?).ok_or("no such kind")?;
    let title = r.text()?.to_string();
    let resolution = match r.u8()? {
        0 => None,
        1 => Some(r.text()?.to_string()),
        _ => return Err("no such flag".into()),
    };
    let session = match (r.u8()?, r.u32()?) {
        (0, 0) => None,
        (1, session) => Some(session),
        _ => return Err("no such flag".into()),
    };
    let important = match r.u8()? {
        0 => None,
        i @ (1 | 2) => Some(i == 2),
        _ => return Err("no such flag".into()),
    };
    let n = r.u32()? as usize;
    let mut issues = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        issues.push(r.text()?.to_string());
    }
    if !r.at_end() {
        return Err("bytes after its last field".into());
    }
    let body = TopicRegistered {
        topic,
        title,
        kind,
        resolution,
        session,
        issues,
        important,
    };
    Ok(Event {
        seq,
        id,
        recorded_at,
        body: EventBody::TopicRegistered(body),
    })
}

#[cfg(test)]
mod tests {
    use super::{kind_code, kind_of};
    use crate::core::TopicKind;

    /// Each kind is written as the byte `events/INDEX.md` gives it, and read back; any other
    /// byte is no kind.
    #[test]
    fn a_topic_kind_is_written_as_its_fixed_code() {
        let names: Vec<_> = (0..=5).map(|c| kind_of(c).map(TopicKind::as_str)).collect();
        let given = ["policy", "claim", "vote", "treaty", "membership"].map(Some);
        assert_eq!(names[..5], given);
        assert_eq!(names[5], None);
        for k in TopicKind::ALL {
            assert_eq!(kind_of(kind_code(*k)), Some(*k));
        }
    }
}
