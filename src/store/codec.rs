//! The binary form of a stored record used by the projection index's segments: every field
//! of a [`Record`] in declaration order (hash and batch_last are not kept). Integers are
//! little-endian; a string is a u32 byte length and UTF-8 bytes; an optional value is a flag
//! byte (0 absent) then the value; a list is a u32 count then its items.

use super::record::{CiteRecord, Record, parse_recorded_at, parse_uuid};
use crate::core::Event;

/// The last recorded time parsed, with its text: the events of a batch share one, and
/// parsing it (with the check that it is written as we write it) was a tenth of a decode.
pub(crate) type LastRecorded = Option<(String, jiff::Timestamp)>;

/// The event a decoded record holds; `Err` says what is missing or out of shape. `last` is
/// the recorded time of the record decoded before (reused when the text is the same).
pub(crate) fn event_of(r: Record, last: &mut LastRecorded) -> Result<Event, String> {
    let seq = r.seq.ok_or("no seq")?;
    let id = parse_uuid(r.id.as_deref().ok_or("no id")?, "id").map_err(|e| e.message)?;
    let text = r.recorded_at.as_deref().ok_or("no recorded_at")?;
    let recorded_at = match last {
        Some((t, at)) if t == text => *at,
        _ => {
            let at = parse_recorded_at(text).map_err(|e| e.message)?;
            *last = Some((text.to_string(), at));
            at
        }
    };
    let body = r
        .into_body()
        .map_err(|e| format!("field `{}`: {}", e.field, e.message))?;
    Ok(Event {
        seq,
        id,
        recorded_at,
        body,
    })
}

pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader of `bytes` from their start.
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    /// Whether every byte was read.
    pub(crate) fn at_end(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or("it is truncated")?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        self.take(N)?
            .try_into()
            .map_err(|_| "it is truncated".to_string())
    }

    pub(crate) fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().map_err(|_| "truncated")?,
        ))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().map_err(|_| "truncated")?,
        ))
    }

    pub(crate) fn str(&mut self) -> Result<String, String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| "a string is not UTF-8".to_string())
    }

    fn opt_str(&mut self) -> Result<Option<String>, String> {
        match self.u8()? {
            0 => Ok(None),
            _ => self.str().map(Some),
        }
    }

    fn opt_strs(&mut self) -> Result<Option<Vec<String>>, String> {
        match self.u8()? {
            0 => Ok(None),
            _ => {
                let n = self.u32()?;
                (0..n)
                    .map(|_| self.str())
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            }
        }
    }

    fn opt_u64(&mut self) -> Result<Option<u64>, String> {
        match self.u8()? {
            0 => Ok(None),
            _ => self.u64().map(Some),
        }
    }

    pub(crate) fn record(&mut self) -> Result<Record, String> {
        let small = |v: Option<u64>| {
            v.map(|x| u32::try_from(x).map_err(|_| "number out of range"))
                .transpose()
        };
        Ok(Record {
            actor: self.opt_str()?,
            alias: self.opt_str()?,
            aliases: self.opt_strs()?,
            cite: match self.u8()? {
                0 => None,
                _ => Some(CiteRecord {
                    publication: self.str()?,
                    published: self.opt_str()?,
                    title: self.opt_str()?,
                    url: self.opt_str()?,
                    via: self.opt_str()?,
                }),
            },
            country: self.opt_str()?,
            date: self.opt_str()?,
            event: self.opt_str()?,
            from: self.opt_str()?,
            id: self.opt_str()?,
            important: self.opt_u64()?.map(|v| v != 0),
            instrument: self.opt_str()?,
            issues: self.opt_strs()?,
            kind: self.opt_str()?,
            name: self.opt_str()?,
            organisation: self.opt_str()?,
            quote: self.opt_str()?,
            reason: self.opt_str()?,
            recipient: self.opt_str()?,
            recorded_at: self.opt_str()?,
            resolution: self.opt_str()?,
            schema: small(self.opt_u64()?)?,
            sector: self.opt_str()?,
            seq: self.opt_u64()?,
            session: small(self.opt_u64()?)?,
            stance: self.opt_str()?,
            target: self.opt_str()?,
            title: self.opt_str()?,
            to: self.opt_str()?,
            topic: self.opt_str()?,
            type_name: self.str()?,
            batch_last: None,
            hash: None,
        })
    }
}

/// The reference writer of segment records, field by field from a [`Record`]: what
/// `encode::RecordEncoder` is tested against.
#[cfg(test)]
pub(crate) mod reference {
    use super::Record;

    fn put_u32(w: &mut Vec<u8>, v: u32) {
        w.extend_from_slice(&v.to_le_bytes());
    }

    fn put_u64(w: &mut Vec<u8>, v: u64) {
        w.extend_from_slice(&v.to_le_bytes());
    }

    fn put_str(w: &mut Vec<u8>, s: &str) {
        put_u32(w, u32::try_from(s.len()).unwrap_or(u32::MAX));
        w.extend_from_slice(s.as_bytes());
    }

    fn put_opt_str(w: &mut Vec<u8>, s: &Option<String>) {
        match s {
            Some(s) => {
                w.push(1);
                put_str(w, s);
            }
            None => w.push(0),
        }
    }

    fn put_opt_strs(w: &mut Vec<u8>, v: &Option<Vec<String>>) {
        match v {
            Some(v) => {
                w.push(1);
                put_u32(w, v.len() as u32);
                for s in v {
                    put_str(w, s);
                }
            }
            None => w.push(0),
        }
    }

    fn put_opt_u64(w: &mut Vec<u8>, v: Option<u64>) {
        match v {
            Some(v) => {
                w.push(1);
                put_u64(w, v);
            }
            None => w.push(0),
        }
    }

    /// Every field of a record, in declaration order: the reference form of a segment record,
    /// which `encode::RecordEncoder` writes straight from an event (and is tested against).
    pub(crate) fn put_record(w: &mut Vec<u8>, r: &Record) {
        put_opt_str(w, &r.actor);
        put_opt_str(w, &r.alias);
        put_opt_strs(w, &r.aliases);
        match &r.cite {
            Some(c) => {
                w.push(1);
                put_str(w, &c.publication);
                put_opt_str(w, &c.published);
                put_opt_str(w, &c.title);
                put_opt_str(w, &c.url);
                put_opt_str(w, &c.via);
            }
            None => w.push(0),
        }
        put_opt_str(w, &r.country);
        put_opt_str(w, &r.date);
        put_opt_str(w, &r.event);
        put_opt_str(w, &r.from);
        put_opt_str(w, &r.id);
        put_opt_u64(w, r.important.map(u64::from));
        put_opt_str(w, &r.instrument);
        put_opt_strs(w, &r.issues);
        put_opt_str(w, &r.kind);
        put_opt_str(w, &r.name);
        put_opt_str(w, &r.organisation);
        put_opt_str(w, &r.quote);
        put_opt_str(w, &r.reason);
        put_opt_str(w, &r.recipient);
        put_opt_str(w, &r.recorded_at);
        put_opt_str(w, &r.resolution);
        put_opt_u64(w, r.schema.map(u64::from));
        put_opt_str(w, &r.sector);
        put_opt_u64(w, r.seq);
        put_opt_u64(w, r.session.map(u64::from));
        put_opt_str(w, &r.stance);
        put_opt_str(w, &r.target);
        put_opt_str(w, &r.title);
        put_opt_str(w, &r.to);
        put_opt_str(w, &r.topic);
        put_str(w, &r.type_name);
    }
}
