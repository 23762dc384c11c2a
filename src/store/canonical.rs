//! A reader of log lines in the canonical form the log writes (see `record.rs`: keys in the
//! order `Record` declares them, no white space, minimal string escapes), which takes each
//! field where that form puts it instead of running a general JSON parse (serde_json's field
//! matching, `Option` wrappers and string scanning were half of decoding a log line).
//!
//! It reads a subset of what [`parse_record`](super::batch::parse_record) reads, and gives
//! the same [`Record`] for it: known keys only, in that order (so none twice),
//! strings without a backslash or a control character, integers as plain digits without a
//! leading zero, and nothing after the object. Any other line, well formed or not, is `None`,
//! and the general parse reads it (and names the fault of a bad one).

use uuid::Uuid;

use super::batch::parse_record;
use super::codec::{CiteRef, LastParsed, RecordRef, stance_view};
use super::record::{FieldError, Record};
use crate::core::EventBody;

/// A stance's id, recorded time and body, made from a line's borrowed fields.
pub(crate) type Made = (Uuid, jiff::Timestamp, EventBody);

/// What decoding a log line starts from: its record, or for a `stance.declared` read in the
/// canonical form and in plain shape ([`stance_view`]), only the record's schema, seq,
/// batch_last and whether it has a hash, with the id, recorded time and body already made
/// from the borrowed fields (no owned record in between: its strings were a third of
/// decoding a stance). `last` is the recorded time decoded before.
///
/// # Errors
/// The general parse's, for a line not in the canonical form.
pub(crate) fn parse(
    line: &[u8],
    last: &mut LastParsed,
) -> Result<(Record, Option<Made>), FieldError> {
    let Some(c) = std::str::from_utf8(line).ok().and_then(self::line) else {
        return Ok((parse_record(line)?, None));
    };
    let Some((_, id, at, view)) = stance_view(&c.fields, last) else {
        return Ok((c.to_record(), None));
    };
    let head = Record {
        schema: c.fields.schema,
        seq: c.fields.seq,
        batch_last: c.batch_last,
        // Only whether there is one: the stored hash is read from the line itself.
        hash: c.hash.map(|_| String::new()),
        ..Record::default()
    };
    Ok((
        head,
        Some((id, at, EventBody::StanceDeclared(view.to_declared()))),
    ))
}

/// A log line in the canonical form, its fields borrowed.
pub(crate) struct Line<'a> {
    /// Every field but `hash` and `batch_last`.
    pub(crate) fields: RecordRef<'a>,
    pub(crate) hash: Option<&'a str>,
    pub(crate) batch_last: Option<u64>,
}

impl Line<'_> {
    /// The owned record.
    pub(crate) fn to_record(&self) -> Record {
        Record {
            hash: self.hash.map(str::to_string),
            batch_last: self.batch_last,
            ..self.fields.to_record()
        }
    }
}

/// The keys of a record in the order its canonical form puts them: [`Record`]'s fields as
/// declared (ascending but for `important` before `id`).
const KEYS: [&str; 32] = [
    "actor",
    "alias",
    "aliases",
    "batch_last",
    "cite",
    "country",
    "date",
    "event",
    "from",
    "hash",
    "important",
    "id",
    "instrument",
    "issues",
    "kind",
    "name",
    "organisation",
    "quote",
    "reason",
    "recipient",
    "recorded_at",
    "resolution",
    "schema",
    "sector",
    "seq",
    "session",
    "stance",
    "target",
    "title",
    "to",
    "topic",
    "type",
];

/// The keys of a `cite` object in that order ([`CiteRecord`]'s fields).
const CITE_KEYS: [&str; 5] = ["publication", "published", "title", "url", "via"];

/// The record `line` holds, when it is in the canonical form this reader takes (see the
/// module docs); `None` otherwise, whether or not the line is a valid record.
pub(crate) fn line(line: &str) -> Option<Line<'_>> {
    let mut c = Cursor {
        b: line.as_bytes(),
        s: line,
        at: 0,
    };
    let mut r = RecordRef::default();
    let (mut hash, mut batch_last) = (None, None);
    let mut type_name = None;
    c.eat(b'{')?;
    let mut prev = None;
    loop {
        let key = c.key(&KEYS, &mut prev)?;
        match key {
            "actor" => r.actor = Some(c.text()?),
            "alias" => r.alias = Some(c.text()?),
            "aliases" => r.aliases = Some(c.strings()?),
            "batch_last" => batch_last = Some(c.uint()?),
            "cite" => r.cite = Some(c.cite()?),
            "country" => r.country = Some(c.text()?),
            "date" => r.date = Some(c.text()?),
            "event" => r.event = Some(c.text()?),
            "from" => r.from = Some(c.text()?),
            "hash" => hash = Some(c.text()?),
            "important" => r.important = Some(c.boolean()?),
            "id" => r.id = Some(c.text()?),
            "instrument" => r.instrument = Some(c.text()?),
            "issues" => r.issues = Some(c.strings()?),
            "kind" => r.kind = Some(c.text()?),
            "name" => r.name = Some(c.text()?),
            "organisation" => r.organisation = Some(c.text()?),
            "quote" => r.quote = Some(c.text()?),
            "reason" => r.reason = Some(c.text()?),
            "recipient" => r.recipient = Some(c.text()?),
            "recorded_at" => r.recorded_at = Some(c.text()?),
            "resolution" => r.resolution = Some(c.text()?),
            "schema" => r.schema = Some(u32::try_from(c.uint()?).ok()?),
            "sector" => r.sector = Some(c.text()?),
            "seq" => r.seq = Some(c.uint()?),
            "session" => r.session = Some(u32::try_from(c.uint()?).ok()?),
            "stance" => r.stance = Some(c.text()?),
            "target" => r.target = Some(c.text()?),
            "title" => r.title = Some(c.text()?),
            "to" => r.to = Some(c.text()?),
            "topic" => r.topic = Some(c.text()?),
            "type" => type_name = Some(c.text()?),
            _ => return None,
        }
        if !c.next_member()? {
            break;
        }
    }
    r.type_name = type_name?;
    (c.at == c.b.len()).then_some(Line {
        fields: r,
        hash,
        batch_last,
    })
}

/// A position in a line being read.
struct Cursor<'a> {
    s: &'a str,
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    /// Steps over the byte `want`, if it is the next one.
    fn eat(&mut self, want: u8) -> Option<()> {
        (self.b.get(self.at) == Some(&want)).then(|| self.at += 1)
    }

    /// After a member: `true` past a comma (another member follows), `false` past the
    /// object's closing brace.
    fn next_member(&mut self) -> Option<bool> {
        let b = *self.b.get(self.at)?;
        self.at += 1;
        match b {
            b',' => Some(true),
            b'}' => Some(false),
            _ => None,
        }
    }

    /// A member's key and its colon: one of `keys`, after `prev` there (the place of the key
    /// before, which becomes this one's).
    fn key(&mut self, keys: &[&str], prev: &mut Option<usize>) -> Option<&'a str> {
        let key = self.text()?;
        self.eat(b':')?;
        let from = prev.map_or(0, |p| p + 1);
        let place = from + keys.get(from..)?.iter().position(|k| *k == key)?;
        *prev = Some(place);
        Some(key)
    }

    /// A string without escapes or control characters.
    fn text(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let from = self.at;
        let len = plain_len(&self.b[from..]);
        if self.b.get(from + len) != Some(&b'"') {
            return None;
        }
        self.at = from + len + 1;
        // Both ends are ASCII quotes, so on character boundaries.
        Some(&self.s[from..from + len])
    }

    /// An array of strings.
    fn strings(&mut self) -> Option<Vec<&'a str>> {
        self.eat(b'[')?;
        let mut out = Vec::new();
        if self.eat(b']').is_some() {
            return Some(out);
        }
        loop {
            out.push(self.text()?);
            let b = *self.b.get(self.at)?;
            self.at += 1;
            match b {
                b',' => {}
                b']' => return Some(out),
                _ => return None,
            }
        }
    }

    /// An unsigned integer: digits, no leading zero but `0` itself, within u64.
    fn uint(&mut self) -> Option<u64> {
        let from = self.at;
        let digits = self.b[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || (digits > 1 && self.b[from] == b'0') {
            return None;
        }
        self.at += digits;
        self.s[from..from + digits].parse().ok()
    }

    fn boolean(&mut self) -> Option<bool> {
        for (text, value) in [(&b"true"[..], true), (&b"false"[..], false)] {
            if self.b[self.at..].starts_with(text) {
                self.at += text.len();
                return Some(value);
            }
        }
        None
    }

    /// A `cite` object.
    fn cite(&mut self) -> Option<CiteRef<'a>> {
        self.eat(b'{')?;
        let mut c = CiteRef::default();
        let mut publication = None;
        let mut prev = None;
        loop {
            let key = self.key(&CITE_KEYS, &mut prev)?;
            match key {
                "publication" => publication = Some(self.text()?),
                "published" => c.published = Some(self.text()?),
                "title" => c.title = Some(self.text()?),
                "url" => c.url = Some(self.text()?),
                "via" => c.via = Some(self.text()?),
                _ => return None,
            }
            if !self.next_member()? {
                break;
            }
        }
        c.publication = publication?;
        Some(c)
    }
}

/// How many bytes of `b` come before its first quote, backslash or control character (all of
/// `b` when it has none): eight bytes at a time, as serde_json scans a string.
fn plain_len(b: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // A byte's high bit is set in `zero(x)` where the byte of `x` is zero (and, borrowed,
    // maybe in bytes after it; never before it), in `below_space` where it is under 0x20.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut at = 0;
    for chunk in b.chunks_exact(8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let found = zero(x ^ (ONES * u64::from(b'"')))
            | zero(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGH);
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + b[at..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .unwrap_or(b.len() - at)
}

#[cfg(test)]
mod tests {
    use super::{parse, plain_len};
    use crate::store::batch::parse_record;
    use crate::store::codec::LastParsed;
    use crate::store::record::{CiteRecord, Record};

    /// The record the canonical reader takes from `line`, owned.
    fn record(line: &str) -> Option<Record> {
        super::line(line).map(|l| l.to_record())
    }
    use proptest::prelude::*;

    /// A line the log holds, as its writer makes it.
    const STANCE: &str = r#"{"actor":"USA","batch_last":200,"cite":{"publication":"UN General Assembly voting record (Voeten)","published":"1946-01-01","title":"T","url":"https://x","via":"V"},"date":"1946-01-01","hash":"07a4584d456b5a2407e6f741654931b452c748d48fafee973d71a502ce292c5c","id":"87502f3e-5698-55b7-abc3-9d182695e784","recorded_at":"2026-12-07T06:38:32.304650Z","schema":2,"seq":4,"stance":"support","topic":"unga-1-1","type":"stance.declared"}"#;

    /// Given canonical lines of several types, then the reader gives what the general parse
    /// gives.
    #[test]
    fn a_canonical_line_reads_as_the_general_parse_reads_it() {
        let topic = r#"{"important":false,"id":"87502f3e-5698-55b7-abc3-9d182695e784","issues":["co","nu"],"kind":"vote","resolution":"R/1/66","schema":2,"seq":1,"session":1,"title":"Gen \u00e9","topic":"unga-1-1","type":"topic.registered"}"#;
        let aliases = r#"{"aliases":[],"schema":1,"seq":0,"type":"actor.registered"}"#;
        for line in [STANCE, aliases] {
            assert_eq!(record(line), Some(parse_record(line.as_bytes()).unwrap()));
        }
        // An escape: left to the general parse.
        assert_eq!(record(topic), None);
        let topic = topic.replace("\\u00e9", "é");
        let read = record(&topic).unwrap();
        assert_eq!(read, parse_record(topic.as_bytes()).unwrap());
        assert_eq!(read.issues, Some(vec!["co".to_string(), "nu".to_string()]));
        assert_eq!((read.important, read.session), (Some(false), Some(1)));
    }

    /// Given a record with every field set, each to a value of its own (the largest numbers
    /// too), then the reader puts each value in its own field, as the general parse does: a
    /// field read into another would pass every test of records with few fields.
    #[test]
    fn every_field_is_read_into_its_own_place() {
        let r = Record {
            actor: Some("actor-value".to_string()),
            alias: Some("alias-value".to_string()),
            country: Some("country-value".to_string()),
            date: Some("date-value".to_string()),
            event: Some("event-value".to_string()),
            from: Some("from-value".to_string()),
            hash: Some("hash-value".to_string()),
            id: Some("id-value".to_string()),
            instrument: Some("instrument-value".to_string()),
            kind: Some("kind-value".to_string()),
            name: Some("name-value".to_string()),
            organisation: Some("organisation-value".to_string()),
            quote: Some("quote-value".to_string()),
            reason: Some("reason-value".to_string()),
            recipient: Some("recipient-value".to_string()),
            recorded_at: Some("recorded_at-value".to_string()),
            resolution: Some("resolution-value".to_string()),
            sector: Some("sector-value".to_string()),
            stance: Some("stance-value".to_string()),
            target: Some("target-value".to_string()),
            title: Some("title-value".to_string()),
            to: Some("to-value".to_string()),
            topic: Some("topic-value".to_string()),
            aliases: Some(vec!["aliases-1".to_string(), "aliases-2".to_string()]),
            issues: Some(vec!["issues-1".to_string()]),
            batch_last: Some(u64::MAX - 1),
            seq: Some(u64::MAX),
            schema: Some(u32::MAX - 1),
            session: Some(u32::MAX),
            important: Some(true),
            cite: Some(CiteRecord {
                publication: "cite-publication".to_string(),
                published: Some("cite-published".to_string()),
                title: Some("cite-title".to_string()),
                url: Some("cite-url".to_string()),
                via: Some("cite-via".to_string()),
            }),
            type_name: "type-value".to_string(),
        };
        let line = serde_json::to_string(&r).unwrap();
        assert_eq!(parse_record(line.as_bytes()).unwrap(), r);
        assert_eq!(record(&line), Some(r));
    }

    /// Given lines out of the canonical form, valid records or not, then the reader leaves
    /// them to the general parse.
    #[test]
    fn any_other_line_is_left_to_the_general_parse() {
        let cases = [
            STANCE.replace(r#""actor":"USA","#, "") + " ",
            STANCE.replace(r#"{"actor":"USA","#, r#"{ "actor":"USA","#),
            STANCE.replace(r#""seq":4"#, r#""seq":04"#),
            STANCE.replace(r#""seq":4"#, r#""seq":-4"#),
            STANCE.replace(r#""seq":4"#, r#""seq":4.0"#),
            STANCE.replace(r#""seq":4"#, r#""seq":null"#),
            STANCE.replace(r#""schema":2"#, r#""schema":4294967296"#),
            STANCE.replace(r#""seq":4"#, r#""seq":99999999999999999999"#),
            STANCE.replace(r#""actor":"USA","#, r#""actor":"USA","actor":"USA","#),
            STANCE.replace(r#""actor":"USA","#, r#""zz":"USA","#),
            STANCE.replace(r#""date""#, r#""data""#),
            STANCE.replace(r#","type":"stance.declared""#, ""),
            STANCE.replace(r#""publication":"UN"#, r#""publicatio":"UN"#),
            STANCE.replace("USA", "U\tSA"),
            STANCE.replace("USA", "U\\\"SA"),
            STANCE.to_string() + "x",
            STANCE[..STANCE.len() - 1].to_string(),
            "{}".to_string(),
            String::new(),
        ];
        for line in cases {
            assert_eq!(record(&line), None, "{line}");
        }
    }

    /// Given texts with a quote, backslash or control character at each place, or none, then
    /// the scan stops at the first of them.
    #[test]
    fn the_scan_stops_at_the_first_quote_backslash_or_control_character() {
        for len in 0..20 {
            let plain: Vec<u8> = (0..len).map(|i| b"a~ \x7f\xc3\xa9z"[i % 6]).collect();
            assert_eq!(plain_len(&plain), len);
            for at in 0..len {
                for stop in [b'"', b'\\', 0, 0x1f, b'\n'] {
                    let mut t = plain.clone();
                    t[at] = stop;
                    t.extend_from_slice(b"\"\\\x01");
                    assert_eq!(plain_len(&t), at, "{t:?}");
                }
            }
        }
    }

    prop_compose! {
        /// A stance record in its canonical form, valid or not in its fields' shapes.
        fn any_stance_line()(
            actor in prop::sample::select(vec!["USA", "a0042", "", "a b", "e\u{301}"]),
            recipient in proptest::option::of(prop::sample::select(vec!["GBR", " "])),
            stance in prop::sample::select(vec!["support", "oppose", "maybe"]),
            date in prop::sample::select(vec!["2024", "2024-10-21", "2024-13", "2024-10-21T10:30"]),
            quote in proptest::option::of(prop::sample::select(vec!["q", " "])),
            publication in prop::sample::select(vec!["P", " "]),
            published in proptest::option::of(prop::sample::select(vec!["2024-10", "x"])),
            event in proptest::option::of(prop::sample::select(vec!["agree", "nope"])),
            other in proptest::option::of(prop::sample::select(vec!["title", "reason"])),
            time in prop::sample::select(vec!["2026-12-07T06:38:32.304650Z", "2026-12-07T06:38:32Z"]),
            id in prop::sample::select(vec!["87502f3e-5698-55b7-abc3-9d182695e784", "87502F3E-5698-55b7-abc3-9d182695e784"]),
            seq in proptest::option::of(1u64..9),
        ) -> String {
            let r = Record {
                actor: Some(actor.to_string()),
                recipient: recipient.map(str::to_string),
                stance: Some(stance.to_string()),
                date: Some(date.to_string()),
                quote: quote.map(str::to_string),
                cite: Some(CiteRecord {
                    publication: publication.to_string(),
                    published: published.map(str::to_string),
                    ..CiteRecord::default()
                }),
                event: event.map(str::to_string),
                title: (other == Some("title")).then(|| "T".to_string()),
                reason: (other == Some("reason")).then(|| "R".to_string()),
                topic: Some("t1".to_string()),
                id: Some(id.to_string()),
                recorded_at: Some(time.to_string()),
                schema: Some(2),
                seq,
                batch_last: Some(9),
                hash: Some("0".repeat(64)),
                type_name: "stance.declared".to_string(),
                ..Record::default()
            };
            serde_json::to_string(&r).unwrap()
        }
    }

    proptest! {
        /// Given a stance line in the canonical form, then what `parse` makes of it (a stance
        /// made from borrowed fields, or the record) is what the record's own decoding gives:
        /// the same id, recorded time and body, or the same error; and the same envelope.
        #[test]
        fn a_stance_made_from_borrowed_fields_is_the_records_own(line in any_stance_line()) {
            let record = parse_record(line.as_bytes()).unwrap();
            let mut last = LastParsed::default();
            let (head, made) = parse(line.as_bytes(), &mut last).unwrap();
            prop_assert_eq!(
                (head.schema, head.seq, head.batch_last, head.hash.is_some()),
                (record.schema, record.seq, record.batch_last, record.hash.is_some())
            );
            let Some((id, at, body)) = made else {
                prop_assert_eq!(head, record);
                return Ok(());
            };
            let owned = crate::store::codec::event_of(record, &mut LastParsed::default()).unwrap();
            prop_assert_eq!((id, at, body), (owned.id, owned.recorded_at, owned.body));
        }
    }

    fn text() -> impl Strategy<Value = String> {
        "[ -~é\t\"\\\\]{0,6}"
    }

    prop_compose! {
        fn any_record()(
            actor in proptest::option::of(text()),
            aliases in proptest::option::of(proptest::collection::vec(text(), 0..3)),
            batch_last in proptest::option::of(any::<u64>()),
            cite in proptest::option::of((text(), proptest::option::of(text()), proptest::option::of(text()))),
            important in proptest::option::of(any::<bool>()),
            schema in proptest::option::of(any::<u32>()),
            seq in proptest::option::of(0u64..1000),
            title in proptest::option::of(text()),
            type_name in text(),
        ) -> Record {
            Record {
                actor,
                aliases,
                batch_last,
                cite: cite.map(|(publication, published, via)| CiteRecord { publication, published, via, ..CiteRecord::default() }),
                important,
                schema,
                seq,
                title,
                type_name,
                ..Record::default()
            }
        }
    }

    proptest! {
        /// Given any record written in its canonical form, and that line with one byte
        /// changed, dropped or added, then whatever the reader takes, the general parse
        /// takes as the same record; and it takes every canonical line without an escape.
        #[test]
        fn what_the_reader_takes_the_general_parse_takes_alike(
            r in any_record(),
            at in any::<prop::sample::Index>(),
            byte in prop::sample::select(b"{}[]\",:0123456789 \\aetx".to_vec()),
            how in 0..3u8,
        ) {
            let line = serde_json::to_string(&r).unwrap();
            if !line.contains('\\') {
                prop_assert_eq!(record(&line), Some(r));
            }
            let mut changed = line.into_bytes();
            let i = at.index(changed.len() + 1);
            match how {
                0 if i < changed.len() => changed[i] = byte,
                1 if i < changed.len() => { changed.remove(i); }
                _ => changed.insert(i, byte),
            }
            if let Ok(text) = std::str::from_utf8(&changed)
                && let Some(read) = record(text)
            {
                prop_assert_eq!(Some(read), parse_record(&changed).ok());
            }
        }
    }
}
