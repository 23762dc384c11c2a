//! The binary form of a stored record used by the projection index's segments: every field
//! of a [`Record`] in declaration order (hash and batch_last are not kept). Integers are
//! little-endian; a string is a u32 byte length and UTF-8 bytes; an optional value is a flag
//! byte (0 absent) then the value; a list is a u32 count then its items.

use uuid::Uuid;

use super::record::{CiteRecord, FieldError, Record, check_tag, parse_recorded_at, parse_uuid};
use crate::core::{
    CiteView, Event, EventBody, IdText, Instrument, PloverType, Seq, Stance, StanceView, TimeOfDay,
    TopicId, TopicKind, TopicRegistered, ValidDate, parse_stated,
};

/// What the records read before parsed, with the texts: a run of records often shares its
/// recorded time (the events of a batch) and its stated date (the votes of one roll call), and
/// each is parsed once for the run (parsing the recorded time, with the check that it is
/// written as we write it, was a tenth of a decode; the stated date was 3% of the
/// instructions of a query of every pair of the UN votes log).
#[derive(Debug, Default)]
pub(crate) struct LastParsed {
    recorded: Option<(String, jiff::Timestamp)>,
    stated: Option<(String, ValidDate, Option<TimeOfDay>)>,
}

/// The recorded time `text` says: `last`'s when it is the same text, else parsed (and kept in
/// `last` for the next record).
///
/// # Errors
/// [`parse_recorded_at`]'s, for a text not written as the log writes recorded times.
pub(crate) fn recorded_at_cached(
    text: &str,
    last: &mut LastParsed,
) -> Result<jiff::Timestamp, FieldError> {
    if let Some((t, at)) = last.recorded.as_ref()
        && t == text
    {
        return Ok(*at);
    }
    let at = parse_recorded_at(text)?;
    last.recorded = Some((text.to_string(), at));
    Ok(at)
}

/// The stated date `text` says ([`parse_stated`]): `last`'s when it is the same text, else
/// parsed (and kept in `last` for the next record); `None` where it does not parse.
fn stated_cached(text: &str, last: &mut LastParsed) -> Option<(ValidDate, Option<TimeOfDay>)> {
    if let Some((t, date, time)) = last.stated.as_ref()
        && t == text
    {
        return Some((*date, time.clone()));
    }
    let (date, time) = parse_stated(text).ok()?;
    last.stated = Some((text.to_string(), date, time.clone()));
    Some((date, time))
}

/// The event a decoded record holds; `Err` says what is missing or out of shape. `last` holds
/// what the records decoded before parsed (reused when the text is the same).
pub(crate) fn event_of(r: Record, last: &mut LastParsed) -> Result<Event, String> {
    let seq = r.seq.ok_or("no seq")?;
    let id = parse_uuid(r.id.as_deref().ok_or("no id")?, "id").map_err(|e| e.message)?;
    let text = r.recorded_at.as_deref().ok_or("no recorded_at")?;
    let recorded_at = recorded_at_cached(text, last).map_err(|e| e.message)?;
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

/// `bytes` as a string, if they are UTF-8.
#[inline(always)]
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, String> {
    // Most strings are short and ASCII, where the standard check cost about 110 instructions
    // each (some 110,000 strings read by a one-actor query of the UN votes log: a twelfth of
    // that query) and an ASCII test, a word at a time, about 30.
    if bytes.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).map_err(|_| "a string is not UTF-8".to_string())
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

    /// How many bytes were read.
    pub(crate) fn position(&self) -> usize {
        self.at
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
        self.text().map(str::to_string)
    }

    /// A string's bytes, borrowed, not yet checked as UTF-8 ([`utf8`] checks them).
    #[inline]
    pub(crate) fn text_bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    /// A string, borrowed from the bytes.
    pub(crate) fn text(&mut self) -> Result<&'a str, String> {
        self.text_bytes().and_then(utf8)
    }

    /// Whether an optional field is present: its flag byte, 0 when absent. Inlined, with the
    /// absent case first: most of a record's 31 fields are absent (a stance has 9), and a call
    /// per field, its result passed back through memory, was 7% of the instructions of a query
    /// of every pair (`#[inline]` alone left it a call).
    #[inline(always)]
    fn present(&mut self) -> Result<bool, String> {
        if self.bytes.get(self.at) == Some(&0) {
            self.at += 1;
            return Ok(false);
        }
        self.u8().map(|_| true)
    }

    #[inline(always)]
    fn opt_text(&mut self) -> Result<Option<&'a str>, String> {
        if !self.present()? {
            return Ok(None);
        }
        self.text().map(Some)
    }

    #[inline(always)]
    fn opt_texts(&mut self) -> Result<Option<Vec<&'a str>>, String> {
        if !self.present()? {
            return Ok(None);
        }
        let n = self.u32()?;
        (0..n)
            .map(|_| self.text())
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    #[inline(always)]
    fn opt_u64(&mut self) -> Result<Option<u64>, String> {
        if !self.present()? {
            return Ok(None);
        }
        self.u64().map(Some)
    }

    /// The record, its strings borrowed from the bytes: the one reader of a record's layout.
    pub(crate) fn record_ref(&mut self) -> Result<RecordRef<'a>, String> {
        let small = |v: Option<u64>| {
            v.map(|x| u32::try_from(x).map_err(|_| "number out of range"))
                .transpose()
        };
        Ok(RecordRef {
            actor: self.opt_text()?,
            alias: self.opt_text()?,
            aliases: self.opt_texts()?,
            cite: match self.u8()? {
                0 => None,
                _ => Some(CiteRef {
                    publication: self.text()?,
                    published: self.opt_text()?,
                    title: self.opt_text()?,
                    url: self.opt_text()?,
                    via: self.opt_text()?,
                }),
            },
            country: self.opt_text()?,
            date: self.opt_text()?,
            event: self.opt_text()?,
            from: self.opt_text()?,
            id: self.opt_text()?,
            important: self.opt_u64()?.map(|v| v != 0),
            instrument: self.opt_text()?,
            issues: self.opt_texts()?,
            kind: self.opt_text()?,
            name: self.opt_text()?,
            organisation: self.opt_text()?,
            quote: self.opt_text()?,
            reason: self.opt_text()?,
            recipient: self.opt_text()?,
            recorded_at: self.opt_text()?,
            resolution: self.opt_text()?,
            schema: small(self.opt_u64()?)?,
            sector: self.opt_text()?,
            seq: self.opt_u64()?,
            session: small(self.opt_u64()?)?,
            stance: self.opt_text()?,
            target: self.opt_text()?,
            title: self.opt_text()?,
            to: self.opt_text()?,
            topic: self.opt_text()?,
            type_name: self.text()?,
        })
    }
}

/// A segment record with its strings borrowed from the segment's bytes: the fields of a
/// [`Record`] (without `hash` and `batch_last`, which segments do not keep). Folding the whole
/// index reads stances through it without an owned string per field.
#[derive(Debug, Clone, Default)]
pub(crate) struct RecordRef<'a> {
    pub(crate) actor: Option<&'a str>,
    pub(crate) alias: Option<&'a str>,
    pub(crate) aliases: Option<Vec<&'a str>>,
    pub(crate) cite: Option<CiteRef<'a>>,
    pub(crate) country: Option<&'a str>,
    pub(crate) date: Option<&'a str>,
    pub(crate) event: Option<&'a str>,
    pub(crate) from: Option<&'a str>,
    pub(crate) id: Option<&'a str>,
    pub(crate) important: Option<bool>,
    pub(crate) instrument: Option<&'a str>,
    pub(crate) issues: Option<Vec<&'a str>>,
    pub(crate) kind: Option<&'a str>,
    pub(crate) name: Option<&'a str>,
    pub(crate) organisation: Option<&'a str>,
    pub(crate) quote: Option<&'a str>,
    pub(crate) reason: Option<&'a str>,
    pub(crate) recipient: Option<&'a str>,
    pub(crate) recorded_at: Option<&'a str>,
    pub(crate) resolution: Option<&'a str>,
    pub(crate) schema: Option<u32>,
    pub(crate) sector: Option<&'a str>,
    pub(crate) seq: Option<u64>,
    pub(crate) session: Option<u32>,
    pub(crate) stance: Option<&'a str>,
    pub(crate) target: Option<&'a str>,
    pub(crate) title: Option<&'a str>,
    pub(crate) to: Option<&'a str>,
    pub(crate) topic: Option<&'a str>,
    pub(crate) type_name: &'a str,
}

/// The `cite` of a [`RecordRef`], borrowed.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CiteRef<'a> {
    pub(crate) publication: &'a str,
    pub(crate) published: Option<&'a str>,
    pub(crate) title: Option<&'a str>,
    pub(crate) url: Option<&'a str>,
    pub(crate) via: Option<&'a str>,
}

/// The `stance.declared` of a record, borrowed, with its id and recorded time, when the record
/// is one in the plain shape: of that type, with `seq`, only a stance's fields, each in its
/// shape (ids plainly in NFC). `None` for anything else, which the owned path
/// ([`Record::into_body`] and [`event_of`]) decodes, or refuses with its message: so what this
/// gives is what that path would give, and a record this refuses is still judged by that path.
pub(crate) fn stance_view<'a>(
    r: &RecordRef<'a>,
    last: &mut LastParsed,
) -> Option<(Seq, Uuid, jiff::Timestamp, StanceView<'a>)> {
    // The fields `Record::present` names that a stance does not have.
    let others = [
        r.important.is_some(),
        r.issues.is_some(),
        r.resolution.is_some(),
        r.session.is_some(),
        r.alias.is_some(),
        r.organisation.is_some(),
        r.from.is_some(),
        r.to.is_some(),
        r.name.is_some(),
        r.title.is_some(),
        r.kind.is_some(),
        r.country.is_some(),
        r.sector.is_some(),
        r.aliases.is_some(),
        r.target.is_some(),
        r.reason.is_some(),
    ];
    if r.type_name != "stance.declared" || others.iter().any(|o| *o) {
        return None;
    }
    let (seq, id, recorded_at) = envelope(r, last)?;
    let c = r.cite?;
    if c.publication.trim().is_empty() || r.quote.is_some_and(|q| q.trim().is_empty()) {
        return None;
    }
    let (date, time) = stated_cached(r.date?, last)?;
    let view = StanceView {
        actor: IdText::new(r.actor?).ok()?,
        topic: IdText::new(r.topic?).ok()?,
        stance: Stance::parse(r.stance?)?,
        date,
        time,
        event: match r.event {
            Some(e) => Some(PloverType::parse(e)?),
            None => None,
        },
        recipient: match r.recipient {
            Some(a) => Some(IdText::new(a).ok()?),
            None => None,
        },
        quote: r.quote,
        cite: CiteView {
            publication: c.publication,
            url: c.url,
            title: c.title,
            published: match c.published {
                Some(p) => Some(ValidDate::parse(p).ok()?),
                None => None,
            },
            via: c.via,
        },
        instrument: match r.instrument {
            Some(i) => Some(Instrument::parse(i)?),
            None => None,
        },
    };
    Some((seq, id, recorded_at, view))
}

/// A record's seq, id and recorded time, or `None` when one is missing or out of shape.
fn envelope(r: &RecordRef<'_>, last: &mut LastParsed) -> Option<(Seq, Uuid, jiff::Timestamp)> {
    let seq = r.seq?;
    let id = parse_uuid(r.id?, "id").ok()?;
    let recorded_at = recorded_at_cached(r.recorded_at?, last).ok()?;
    Some((seq, id, recorded_at))
}

/// A `topic.registered` record's event, made straight from its borrowed fields: the event
/// `event_of(r.to_record(), last)` gives, without the owned record in between (which was
/// half the cost of decoding a registration: a one-actor query of the UN votes log decodes
/// 6,157). `None` for any other record, or one that that decoding refuses (the caller
/// decodes it that way, and so gives its error).
pub(crate) fn topic_event(r: &RecordRef<'_>, last: &mut LastParsed) -> Option<Event> {
    // The fields `Record::present` names that a topic registration does not have.
    let others = [
        r.actor.is_some(),
        r.alias.is_some(),
        r.aliases.is_some(),
        r.cite.is_some(),
        r.country.is_some(),
        r.date.is_some(),
        r.event.is_some(),
        r.from.is_some(),
        r.instrument.is_some(),
        r.name.is_some(),
        r.organisation.is_some(),
        r.quote.is_some(),
        r.reason.is_some(),
        r.recipient.is_some(),
        r.sector.is_some(),
        r.stance.is_some(),
        r.target.is_some(),
        r.to.is_some(),
    ];
    if r.type_name != "topic.registered" || others.iter().any(|o| *o) {
        return None;
    }
    let mut issues = Vec::new();
    for tag in r.issues.iter().flatten() {
        check_tag(tag).ok()?;
        issues.push(tag.to_string());
    }
    issues.sort();
    issues.dedup();
    let kind = TopicKind::parse(r.kind?)?;
    let vote_fields = r.resolution.is_some() || r.session.is_some() || r.important.is_some();
    if (vote_fields && kind != TopicKind::Vote) || r.session == Some(0) {
        return None;
    }
    let body = TopicRegistered {
        topic: TopicId::new(r.topic?).ok()?,
        title: Some(r.title?).filter(|t| !t.trim().is_empty())?.to_string(),
        kind,
        resolution: match r.resolution {
            Some(x) if x.trim().is_empty() => return None,
            x => x.map(str::to_string),
        },
        session: r.session,
        issues,
        important: r.important,
    };
    let (seq, id, recorded_at) = envelope(r, last)?;
    Some(Event {
        seq,
        id,
        recorded_at,
        body: EventBody::TopicRegistered(body),
    })
}

impl RecordRef<'_> {
    /// The owned record.
    pub(crate) fn to_record(&self) -> Record {
        let s = |v: Option<&str>| v.map(str::to_string);
        let list = |v: &Option<Vec<&str>>| {
            v.as_ref()
                .map(|l| l.iter().map(|x| x.to_string()).collect())
        };
        Record {
            actor: s(self.actor),
            alias: s(self.alias),
            aliases: list(&self.aliases),
            batch_last: None,
            cite: self.cite.map(|c| CiteRecord {
                publication: c.publication.to_string(),
                published: s(c.published),
                title: s(c.title),
                url: s(c.url),
                via: s(c.via),
            }),
            country: s(self.country),
            date: s(self.date),
            event: s(self.event),
            from: s(self.from),
            hash: None,
            important: self.important,
            id: s(self.id),
            instrument: s(self.instrument),
            issues: list(&self.issues),
            kind: s(self.kind),
            name: s(self.name),
            organisation: s(self.organisation),
            quote: s(self.quote),
            reason: s(self.reason),
            recipient: s(self.recipient),
            recorded_at: s(self.recorded_at),
            resolution: s(self.resolution),
            schema: self.schema,
            sector: s(self.sector),
            seq: self.seq,
            session: self.session,
            stance: s(self.stance),
            target: s(self.target),
            title: s(self.title),
            to: s(self.to),
            topic: s(self.topic),
            type_name: self.type_name.to_string(),
        }
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

#[cfg(test)]
mod tests {
    use super::reference::put_record;
    use super::*;
    use crate::core::{Cite, EventBody, StanceDeclared};
    use proptest::prelude::*;

    /// A valid `stance.declared` record with every optional field of a stance given.
    fn full_stance() -> Record {
        let (date, time) = parse_stated("2024-10-21T15:30:00+09:00").unwrap();
        let body = StanceDeclared {
            actor: crate::core::ActorId::new("kim").unwrap(),
            topic: crate::core::TopicId::new("dprk-troops-in-russia").unwrap(),
            stance: Stance::Affirm,
            date,
            time,
            event: Some(PloverType::parse("consult").unwrap()),
            recipient: Some(crate::core::ActorId::new("russia").unwrap()),
            quote: Some("They were sent.".to_string()),
            cite: Cite {
                publication: "Yonhap".to_string(),
                url: Some("https://example.org/a".to_string()),
                title: Some("Troops".to_string()),
                published: Some(ValidDate::parse("2024-10").unwrap()),
                via: Some("AFP".to_string()),
            },
            instrument: Some(Instrument::parse("ratification").unwrap()),
        };
        Record::from_event(&Event {
            seq: 7,
            id: Uuid::from_u128(7919),
            recorded_at: jiff::Timestamp::from_second(1_729_500_000).unwrap(),
            body: EventBody::StanceDeclared(body),
        })
    }

    /// Values a field may be set to: valid and invalid ones for the fields a stance has, and
    /// text that would be valid in some other field.
    const VALUES: [&str; 14] = [
        "",
        "  ",
        "kim",
        "jose\u{301}",
        "Kim Yong-hyun",
        "2024-13-40",
        "2024",
        "deny",
        "ratification",
        "consult",
        "not-a-uuid",
        "00000000-0000-0000-0000-000000001eef",
        "2024-10-21T06:30:00Z",
        "stance.corrected",
    ];

    /// Sets field number `field` of `r` to `value` (`None`: removed).
    fn set(r: &mut Record, field: usize, value: Option<&str>) {
        let v = value.map(str::to_string);
        if (28..=32).contains(&field) {
            let cite = r.cite.get_or_insert_with(Default::default);
            match field {
                28 => cite.publication = v.unwrap_or_default(),
                29 => cite.published = v,
                30 => cite.title = v,
                31 => cite.url = v,
                _ => cite.via = v,
            }
            return;
        }
        match field {
            0 => r.actor = v,
            1 => r.alias = v,
            2 => r.aliases = v.map(|v| vec![v]),
            3 => r.country = v,
            4 => r.date = v,
            5 => r.event = v,
            6 => r.from = v,
            7 => r.id = v,
            8 => r.important = value.map(|_| true),
            9 => r.instrument = v,
            10 => r.issues = v.map(|v| vec![v]),
            11 => r.kind = v,
            12 => r.name = v,
            13 => r.organisation = v,
            14 => r.quote = v,
            15 => r.reason = v,
            16 => r.recipient = v,
            17 => r.recorded_at = v,
            18 => r.resolution = v,
            19 => r.sector = v,
            20 => r.seq = value.map(|v| v.len() as u64),
            21 => r.session = value.map(|v| v.len() as u32),
            22 => r.stance = v,
            23 => r.target = v,
            24 => r.title = v,
            25 => r.to = v,
            26 => r.topic = v,
            27 => r.type_name = v.unwrap_or_default(),
            _ => r.cite = None,
        }
    }

    /// A valid vote topic's registration with every field a topic has given.
    fn full_topic() -> Record {
        Record::from_event(&Event {
            seq: 9,
            id: Uuid::from_u128(7927),
            recorded_at: jiff::Timestamp::from_second(1_729_500_000).unwrap(),
            body: EventBody::TopicRegistered(TopicRegistered {
                topic: TopicId::new("unvotes-rcid-3158").unwrap(),
                title: "Nuclear tests".to_string(),
                kind: TopicKind::Vote,
                resolution: Some("A/RES/46/36".to_string()),
                session: Some(46),
                issues: vec!["di".to_string(), "nu".to_string()],
                important: Some(true),
            }),
        })
    }

    /// Values a field of a topic registration may be set to, valid there or not.
    const TOPIC_VALUES: [&str; 14] = [
        "",
        "  ",
        "vote",
        "policy",
        "nu",
        "two words",
        "A/RES/46/36",
        "jose\u{301}",
        "not-a-uuid",
        "00000000-0000-0000-0000-000000001eef",
        "2024-10-21T06:30:00Z",
        "topic.registered",
        "actor.registered",
        "kim",
    ];

    #[test]
    fn a_topic_registration_is_decoded_without_the_owned_record() {
        let r = full_topic();
        let mut body = Vec::new();
        put_record(&mut body, &r);
        let rec = Reader::new(&body).record_ref().unwrap();
        let fast = topic_event(&rec, &mut LastParsed::default()).expect("the plain shape");
        assert_eq!(fast, event_of(r, &mut LastParsed::default()).unwrap());
        match fast.body {
            EventBody::TopicRegistered(t) => assert_eq!(t.issues, ["di", "nu"]),
            other => panic!("{other:?}"),
        }
    }

    /// What the borrowed stance reader accepts, with the event it reads.
    fn borrowed(body: &[u8]) -> Option<(Seq, Uuid, jiff::Timestamp, StanceView<'_>)> {
        let r = Reader::new(body).record_ref().ok()?;
        stance_view(&r, &mut LastParsed::default())
    }

    #[test]
    fn the_borrowed_reader_takes_a_stance_with_every_field() {
        let mut body = Vec::new();
        put_record(&mut body, &full_stance());
        let (seq, _, _, view) = borrowed(&body).expect("the plain shape");
        assert_eq!(
            (seq, view.quote, view.cite.via),
            (7, Some("They were sent."), Some("AFP"))
        );
    }

    /// A run of records with one stated date parses it once; a record with another date (or
    /// none that parses) gets its own, never the run's.
    #[test]
    fn a_stated_date_is_the_one_of_its_own_text() {
        let mut last = LastParsed::default();
        for text in [
            "2024-10-21",
            "2024-10-21",
            "2024-10",
            "2024-10-21T15:30:00+09:00",
            "2024-10-21T15:30:00+09:00",
            "2024-10-21T15:30:00+08:00",
            "2024-02-30",
            "2024-10-22",
            "2024-10-22",
        ] {
            assert_eq!(
                stated_cached(text, &mut last),
                parse_stated(text).ok(),
                "{text}"
            );
        }
    }

    proptest! {
        /// Whatever fields a record has or lacks, and whatever they hold, a stance the borrowed
        /// reader ([`stance_view`]) accepts is accepted by the owned path ([`event_of`]) as the
        /// same event: the fast path never takes what the owned path refuses or reads
        /// differently.
        #[test]
        fn a_stance_the_borrowed_reader_accepts_is_the_owned_paths_event(
            edits in proptest::collection::vec(
                (0usize..34, proptest::option::of(0usize..VALUES.len())), 0..4),
        ) {
            let mut r = full_stance();
            for (field, value) in &edits {
                set(&mut r, *field, value.map(|v| VALUES[v]));
            }
            let mut body = Vec::new();
            put_record(&mut body, &r);
            if let Some((seq, id, at, view)) = borrowed(&body) {
                let owned = event_of(r.clone(), &mut LastParsed::default());
                let e = owned.map_err(|m| TestCaseError::fail(format!("{r:?}: {m}")))?;
                prop_assert_eq!((e.seq, e.id, e.recorded_at), (seq, id, at));
                match &e.body {
                    EventBody::StanceDeclared(s) => prop_assert_eq!(StanceView::of(s), view),
                    other => prop_assert!(false, "{:?}", other),
                }
            }
        }
    }

    proptest! {
        // Many cases: each refusal rests on one field holding one value.
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Whatever fields a topic registration has or lacks, and whatever they hold, the
        /// event [`topic_event`] makes is the one the owned path makes: it never takes what
        /// that path refuses (an unknown field, an empty title, a vote field on a policy, a
        /// bad tag, session 0, ...) or reads it differently.
        #[test]
        fn a_topic_decoded_from_borrowed_fields_is_the_owned_paths_event(
            edits in proptest::collection::vec(
                (0usize..34, proptest::option::of(0usize..TOPIC_VALUES.len())), 0..4),
        ) {
            let mut r = full_topic();
            for (field, value) in &edits {
                set(&mut r, *field, value.map(|v| TOPIC_VALUES[v]));
            }
            let mut body = Vec::new();
            put_record(&mut body, &r);
            let rec = Reader::new(&body).record_ref().unwrap();
            if let Some(fast) = topic_event(&rec, &mut LastParsed::default()) {
                let owned = event_of(r.clone(), &mut LastParsed::default());
                let e = owned.map_err(|m| TestCaseError::fail(format!("{r:?}: {m}")))?;
                prop_assert_eq!(fast, e);
            }
        }
    }
}
