//! The canonical encoder: a stored record written straight from a domain event into the output
//! buffer, with no intermediate [`Record`](super::record::Record) and no allocation per field.
//!
//! The bytes are exactly those `serde_json::to_writer(&Record::from_event(e))` (with
//! `batch_last` and `hash` set) gives: members in the order `Record` declares its fields (see the
//! note on `important` in [`Fields`]), no white space, and serde_json's string escapes (`\"`,
//! `\\`, `\b \f \n \r \t`, other control characters as `\u00xx` in lower-case hex, nothing else).
//! Existing logs' bytes and hashes therefore do not change; the tests compare both encoders on
//! every event type, on tricky strings and on generated events.

use uuid::Uuid;

use super::chain::{HASH_HEX_LEN, HASH_KEY};
use super::record::{SCHEMA_VERSION, format_recorded_at};
use crate::core::{Cite, Event, EventBody, Seq, TimeOfDay, ValidDate};

/// An event to encode, its body borrowed: the writer encodes the events it staged from the
/// batch's own bodies, without cloning them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventRef<'a> {
    /// Its seq.
    pub(crate) seq: Seq,
    /// Its id.
    pub(crate) id: Uuid,
    /// Its recorded time.
    pub(crate) recorded_at: jiff::Timestamp,
    /// Type and fields.
    pub(crate) body: &'a EventBody,
}

impl<'a> From<&'a Event> for EventRef<'a> {
    fn from(e: &'a Event) -> EventRef<'a> {
        EventRef {
            seq: e.seq,
            id: e.id,
            recorded_at: e.recorded_at,
            body: &e.body,
        }
    }
}

/// The text of the last recorded time formatted ([`format_recorded_at`]): all events of a batch
/// share one, so it is formatted once per batch.
#[derive(Debug, Default)]
pub(crate) struct RecordedText(Option<(jiff::Timestamp, String)>);

impl RecordedText {
    /// The text of `t`, formatted unless it is the last one asked for.
    fn text(&mut self, t: jiff::Timestamp) -> &str {
        if self.0.as_ref().is_some_and(|(last, _)| *last != t) {
            self.0 = None;
        }
        &self.0.get_or_insert_with(|| (t, format_recorded_at(&t))).1
    }
}

/// Writes stored lines. Keeps the text of the last recorded time it formatted: all events of a
/// batch share one, so it is formatted once per batch.
#[derive(Debug, Default)]
pub(crate) struct LineEncoder {
    recorded: RecordedText,
}

/// The hex digits of the placeholder hash written by [`LineEncoder::line`] (the genesis hash).
const PLACEHOLDER_HEX: [u8; HASH_HEX_LEN] = [b'0'; HASH_HEX_LEN];

impl LineEncoder {
    /// Appends the stored line of `e` to `out`, newline included, with `batch_last` and a
    /// placeholder hash (64 zeros). Returns the offset in `out` where the line's
    /// `,"hash":"…"` member starts, so the chain can hash the line around it and fill the hex
    /// in place (the hex starts `HASH_KEY.len()` bytes later).
    pub(crate) fn line(&mut self, out: &mut Vec<u8>, e: &EventRef<'_>, batch_last: Seq) -> usize {
        let recorded = self.recorded.text(e.recorded_at);
        let f = Fields::of(e.body);
        let start = out.len();
        // Every member is written with a leading comma; the first one's becomes the `{`.
        members_before_hash(out, &f, batch_last);
        let hash_at = out.len();
        out.extend_from_slice(HASH_KEY);
        out.extend_from_slice(&PLACEHOLDER_HEX);
        out.push(b'"');
        if let Some(b) = f.important {
            out.extend_from_slice(if b {
                b",\"important\":true"
            } else {
                b",\"important\":false"
            });
        }
        out.extend_from_slice(b",\"id\":\"");
        uuid_text(out, &e.id);
        out.push(b'"');
        members_after_id(out, &f, recorded, e.seq);
        out[start] = b'{';
        out.extend_from_slice(b"}\n");
        hash_at
    }
}

/// The members of a stored line that sort before `hash` (`actor` to `from`), each with a
/// leading comma.
#[inline]
fn members_before_hash(out: &mut Vec<u8>, f: &Fields<'_>, batch_last: Seq) {
    opt_str(out, b",\"actor\":\"", f.actor);
    opt_str(out, b",\"alias\":\"", f.alias);
    if let Some(list) = f.aliases {
        str_array(out, b",\"aliases\":[", list);
    }
    out.extend_from_slice(b",\"batch_last\":");
    u64_text(out, batch_last);
    if let Some(c) = f.cite {
        cite(out, c);
    }
    opt_str(out, b",\"country\":\"", f.country);
    if let Some((date, time)) = f.date {
        out.extend_from_slice(b",\"date\":\"");
        date.write_to(out);
        if let Some(t) = time {
            out.push(b'T');
            escaped(out, t.as_str());
        }
        out.push(b'"');
    }
    opt_str(out, b",\"event\":\"", f.event);
    if let Some(d) = f.from {
        date_member(out, b",\"from\":\"", d);
    }
}

/// The members of a stored line that sort after `id` (`instrument` to `type`), each with a
/// leading comma; `recorded` is the formatted recorded time.
#[inline]
fn members_after_id(out: &mut Vec<u8>, f: &Fields<'_>, recorded: &str, seq: Seq) {
    opt_str(out, b",\"instrument\":\"", f.instrument);
    if let Some(list) = f.issues {
        str_array(out, b",\"issues\":[", list);
    }
    opt_str(out, b",\"kind\":\"", f.kind);
    opt_str(out, b",\"name\":\"", f.name);
    opt_str(out, b",\"organisation\":\"", f.organisation);
    opt_str(out, b",\"quote\":\"", f.quote);
    opt_str(out, b",\"reason\":\"", f.reason);
    opt_str(out, b",\"recipient\":\"", f.recipient);
    out.extend_from_slice(b",\"recorded_at\":\"");
    escaped(out, recorded);
    out.push(b'"');
    opt_str(out, b",\"resolution\":\"", f.resolution);
    out.extend_from_slice(b",\"schema\":");
    u64_text(out, u64::from(SCHEMA_VERSION));
    opt_str(out, b",\"sector\":\"", f.sector);
    out.extend_from_slice(b",\"seq\":");
    u64_text(out, seq);
    if let Some(n) = f.session {
        out.extend_from_slice(b",\"session\":");
        u64_text(out, u64::from(n));
    }
    opt_str(out, b",\"stance\":\"", f.stance);
    if let Some(t) = f.target {
        out.extend_from_slice(b",\"target\":\"");
        uuid_text(out, &t);
        out.push(b'"');
    }
    opt_str(out, b",\"title\":\"", f.title);
    if let Some(d) = f.to {
        date_member(out, b",\"to\":\"", d);
    }
    opt_str(out, b",\"topic\":\"", f.topic);
    opt_str(out, b",\"type\":\"", Some(f.type_name));
}

/// The body members of a record, borrowed from the event: what `Record::from_body` fills, with
/// no allocation. The encoder writes them in `Record`'s declaration order, which is ascending
/// byte order except that `important` comes before `id` (as `Record` has always written it, so
/// existing hashes stay valid).
#[derive(Default)]
struct Fields<'a> {
    actor: Option<&'a str>,
    alias: Option<&'a str>,
    aliases: Option<&'a [String]>,
    cite: Option<&'a Cite>,
    country: Option<&'a str>,
    date: Option<(&'a ValidDate, Option<&'a TimeOfDay>)>,
    event: Option<&'static str>,
    from: Option<&'a ValidDate>,
    important: Option<bool>,
    instrument: Option<&'static str>,
    issues: Option<&'a [String]>,
    kind: Option<&'static str>,
    name: Option<&'a str>,
    organisation: Option<&'a str>,
    quote: Option<&'a str>,
    reason: Option<&'a str>,
    recipient: Option<&'a str>,
    resolution: Option<&'a str>,
    sector: Option<&'static str>,
    session: Option<u32>,
    stance: Option<&'static str>,
    target: Option<Uuid>,
    title: Option<&'a str>,
    to: Option<&'a ValidDate>,
    topic: Option<&'a str>,
    type_name: &'static str,
}

impl<'a> Fields<'a> {
    /// The members of `body`, as `Record::from_body` sets them.
    fn of(body: &'a EventBody) -> Fields<'a> {
        let mut f = Fields {
            type_name: body.type_name(),
            ..Fields::default()
        };
        match body {
            EventBody::ActorRegistered(a) => {
                f.actor = Some(a.actor.as_str());
                f.name = Some(&a.name);
                f.kind = Some(a.kind.as_str());
                f.country = Some(a.country.as_str());
                f.sector = Some(a.sector.as_str());
                f.aliases = (!a.aliases.is_empty()).then_some(&a.aliases[..]);
            }
            EventBody::TopicRegistered(t) => {
                f.topic = Some(t.topic.as_str());
                f.title = Some(&t.title);
                f.kind = Some(t.kind.as_str());
                f.resolution = t.resolution.as_deref();
                f.session = t.session;
                f.issues = (!t.issues.is_empty()).then_some(&t.issues[..]);
                f.important = t.important;
            }
            EventBody::StanceDeclared(s) => {
                f.actor = Some(s.actor.as_str());
                f.topic = Some(s.topic.as_str());
                f.stance = Some(s.stance.as_str());
                f.date = Some((&s.date, s.time.as_ref()));
                f.event = s.event.map(|e| e.as_str());
                f.recipient = s.recipient.as_ref().map(|r| r.as_str());
                f.quote = s.quote.as_deref();
                f.cite = Some(&s.cite);
                f.instrument = s.instrument.map(|i| i.as_str());
            }
            EventBody::StanceRetracted(x) => {
                f.target = Some(x.target);
                f.reason = Some(&x.reason);
            }
            EventBody::StanceCorrected(x) => {
                let c = &x.correction;
                f.target = Some(x.target);
                f.reason = Some(&x.reason);
                f.actor = c.actor.as_ref().map(|a| a.as_str());
                f.topic = c.topic.as_ref().map(|t| t.as_str());
                f.stance = c.stance.map(|v| v.as_str());
                f.date = c.date.as_ref().map(|(d, t)| (d, t.as_ref()));
                f.quote = c.quote.as_deref();
                f.cite = c.cite.as_ref();
                f.event = c.event.map(|e| e.as_str());
                f.instrument = c.instrument.map(|i| i.as_str());
            }
            EventBody::StanceCited(x) => {
                f.target = Some(x.target);
                f.cite = Some(&x.cite);
                f.quote = x.quote.as_deref();
            }
            EventBody::ActorAliased(x) => {
                f.actor = Some(x.actor.as_str());
                f.alias = Some(x.alias.as_str());
            }
            EventBody::ActorRole(x) => {
                f.actor = Some(x.actor.as_str());
                f.title = Some(&x.title);
                f.organisation = x.organisation.as_deref();
                f.from = Some(&x.from);
                f.to = x.to.as_ref();
            }
        }
        f
    }
}

/// The `cite` member: `CiteRecord`'s fields in their (ascending) order.
fn cite(out: &mut Vec<u8>, c: &Cite) {
    out.extend_from_slice(b",\"cite\":{\"publication\":\"");
    escaped(out, &c.publication);
    out.push(b'"');
    if let Some(d) = &c.published {
        date_member(out, b",\"published\":\"", d);
    }
    opt_str(out, b",\"title\":\"", c.title.as_deref());
    opt_str(out, b",\"url\":\"", c.url.as_deref());
    opt_str(out, b",\"via\":\"", c.via.as_deref());
    out.push(b'}');
}

/// `key` (comma, quoted name, colon, opening quote), then the escaped text and a closing quote.
fn opt_str(out: &mut Vec<u8>, key: &[u8], value: Option<&str>) {
    if let Some(v) = value {
        out.extend_from_slice(key);
        escaped(out, v);
        out.push(b'"');
    }
}

/// `key` (ending in `[`), then the strings as a JSON array.
fn str_array(out: &mut Vec<u8>, key: &[u8], list: &[String]) {
    out.extend_from_slice(key);
    for (i, s) in list.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        escaped(out, s);
        out.push(b'"');
    }
    out.push(b']');
}

fn date_member(out: &mut Vec<u8>, key: &[u8], d: &ValidDate) {
    out.extend_from_slice(key);
    d.write_to(out);
    out.push(b'"');
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// For each byte: 0 when it is written as is, else the letter after the backslash (`u` for
/// `\u00xx`). serde_json's table: `"`, `\` and the control characters below 0x20.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// `s` as the inside of a JSON string, escaped as serde_json escapes it.
pub(crate) fn escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Most text needs no escape: skip it eight bytes at a time.
    let clean = clean_prefix(bytes);
    if clean == bytes.len() {
        out.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate().skip(clean) {
        let esc = ESCAPE[usize::from(b)];
        if esc == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if esc == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX_DIGITS[usize::from(b >> 4)],
                HEX_DIGITS[usize::from(b & 0xf)],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', esc]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// The length of the longest prefix of `bytes` made of whole 8-byte words with no byte that
/// [`ESCAPE`] escapes (`"`, `\`, below 0x20), plus the rest when the rest is clean too: the
/// bytes that can be copied as they are. Each word is tested at once (the "has a byte less
/// than n" test of Anderson's *Bit Twiddling Hacks*, exact for n <= 128).
fn clean_prefix(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH != 0;
    let has_byte = |w: u64, b: u8| has_below(w ^ (ONES * u64::from(b)), 1);
    let mut words = bytes.chunks_exact(8);
    let mut clean = 0;
    for word in &mut words {
        let w = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        if has_below(w, 0x20) || has_byte(w, b'"') || has_byte(w, b'\\') {
            return clean;
        }
        clean += 8;
    }
    if words
        .remainder()
        .iter()
        .all(|&b| ESCAPE[usize::from(b)] == 0)
    {
        bytes.len()
    } else {
        clean
    }
}

/// A decimal integer, as serde_json writes it.
fn u64_text(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[at..]);
}

/// A UUID in lower-case hyphenated form.
fn uuid_text(out: &mut Vec<u8>, id: &Uuid) {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    out.extend_from_slice(id.hyphenated().encode_lower(&mut buf).as_bytes());
}

/// Writes index segment records (the binary form of `store::codec`) straight from events:
/// byte for byte what `codec::reference::put_record(&Record::from_event(e))` writes, without building the
/// `Record` (a `String` per field) or formatting each event's recorded time again (a batch
/// shares one). The tests compare the two on every event type and on generated events.
#[derive(Debug, Default)]
pub(crate) struct RecordEncoder {
    recorded: RecordedText,
    /// Scratch space for a field's text, whose length is written before it.
    text: Vec<u8>,
}

impl RecordEncoder {
    /// Appends the segment record of `e` to `w`.
    pub(crate) fn record(&mut self, w: &mut Vec<u8>, e: &Event) {
        let f = Fields::of(&e.body);
        bin_str(w, f.actor);
        bin_str(w, f.alias);
        bin_strs(w, f.aliases);
        match f.cite {
            Some(c) => {
                w.push(1);
                bin_text(w, c.publication.as_bytes());
                self.bin_date(w, c.published.as_ref(), None);
                bin_str(w, c.title.as_deref());
                bin_str(w, c.url.as_deref());
                bin_str(w, c.via.as_deref());
            }
            None => w.push(0),
        }
        bin_str(w, f.country);
        match f.date {
            Some((d, t)) => self.bin_date(w, Some(d), t),
            None => w.push(0),
        }
        bin_str(w, f.event);
        self.bin_date(w, f.from, None);
        let mut id = [0u8; uuid::fmt::Hyphenated::LENGTH];
        bin_str(w, Some(e.id.hyphenated().encode_lower(&mut id)));
        bin_u64(w, f.important.map(u64::from));
        bin_str(w, f.instrument);
        bin_strs(w, f.issues);
        bin_str(w, f.kind);
        bin_str(w, f.name);
        bin_str(w, f.organisation);
        bin_str(w, f.quote);
        bin_str(w, f.reason);
        bin_str(w, f.recipient);
        let recorded = self.recorded.text(e.recorded_at);
        bin_str(w, Some(recorded));
        bin_str(w, f.resolution);
        bin_u64(w, Some(u64::from(SCHEMA_VERSION)));
        bin_str(w, f.sector);
        bin_u64(w, Some(e.seq));
        bin_u64(w, f.session.map(u64::from));
        bin_str(w, f.stance);
        let mut target = [0u8; uuid::fmt::Hyphenated::LENGTH];
        bin_str(
            w,
            f.target.map(|t| &*t.hyphenated().encode_lower(&mut target)),
        );
        bin_str(w, f.title);
        self.bin_date(w, f.to, None);
        bin_str(w, f.topic);
        bin_text(w, f.type_name.as_bytes());
    }

    /// An optional date member (with its time of day, as a stated date writes it).
    fn bin_date(&mut self, w: &mut Vec<u8>, d: Option<&ValidDate>, t: Option<&TimeOfDay>) {
        let Some(d) = d else {
            w.push(0);
            return;
        };
        self.text.clear();
        d.write_to(&mut self.text);
        if let Some(t) = t {
            self.text.push(b'T');
            self.text.extend_from_slice(t.as_str().as_bytes());
        }
        w.push(1);
        bin_text(w, &self.text);
    }
}

/// A string of the segment codec: its byte length (u32, little-endian), then its bytes.
fn bin_text(w: &mut Vec<u8>, bytes: &[u8]) {
    w.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_le_bytes());
    w.extend_from_slice(bytes);
}

/// An optional string of the segment codec: a flag byte, then the string.
fn bin_str(w: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            w.push(1);
            bin_text(w, s.as_bytes());
        }
        None => w.push(0),
    }
}

/// An optional list of strings of the segment codec: a flag byte, the count, the strings.
fn bin_strs(w: &mut Vec<u8>, v: Option<&[String]>) {
    match v {
        Some(v) => {
            w.push(1);
            w.extend_from_slice(&(v.len() as u32).to_le_bytes());
            for s in v {
                bin_text(w, s.as_bytes());
            }
        }
        None => w.push(0),
    }
}

/// An optional integer of the segment codec: a flag byte, then 8 bytes little-endian.
fn bin_u64(w: &mut Vec<u8>, v: Option<u64>) {
    match v {
        Some(v) => {
            w.push(1);
            w.extend_from_slice(&v.to_le_bytes());
        }
        None => w.push(0),
    }
}

#[cfg(test)]
mod tests {
    use super::super::chain::GENESIS_HASH;
    use super::super::record::Record;
    use super::*;
    use crate::core::{
        ActorAliased, ActorId, ActorKind, ActorRegistered, ActorRole, Correction, Country,
        Instrument, PloverType, Sector, Stance, StanceCited, StanceCorrected, StanceDeclared,
        StanceRetracted, TopicId, TopicKind, TopicRegistered, parse_stated,
    };
    use proptest::prelude::*;

    /// What the writer produced before this encoder: the record through serde_json.
    fn serde_line(e: &Event, batch_last: Seq) -> Vec<u8> {
        let mut record = Record::from_event(e);
        record.batch_last = Some(batch_last);
        record.hash = Some(GENESIS_HASH.to_hex());
        let mut out = serde_json::to_vec(&record).unwrap();
        out.push(b'\n');
        out
    }

    fn direct_line(e: &Event, batch_last: Seq) -> (Vec<u8>, usize) {
        let mut out = b"prefix".to_vec();
        let at = LineEncoder::default().line(&mut out, &EventRef::from(e), batch_last);
        (out[6..].to_vec(), at - 6)
    }

    fn assert_same(e: &Event, batch_last: Seq) {
        let want = serde_line(e, batch_last);
        let (got, hash_at) = direct_line(e, batch_last);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "{e:?}"
        );
        assert_eq!(got, want);
        // The returned offset is where the hash member starts.
        assert!(got[hash_at..].starts_with(HASH_KEY));
        assert_eq!(
            got.windows(HASH_KEY.len()).position(|w| w == HASH_KEY),
            Some(hash_at)
        );
    }

    /// The segment record `enc` writes for `e` is the one `codec::reference::put_record` writes for
    /// its `Record` (the index's form before [`RecordEncoder`]).
    fn assert_same_record(enc: &mut RecordEncoder, e: &Event) {
        let mut want = Vec::new();
        super::super::codec::reference::put_record(&mut want, &Record::from_event(e));
        let mut got = b"prefix".to_vec();
        enc.record(&mut got, e);
        assert_eq!(&got[6..], &want[..], "{e:?}");
    }

    /// The actors and topics the one-actor fold reads from a record's bytes
    /// (`names_in_record`) are those read from its event (`names`), for every event type.
    #[test]
    fn a_records_names_are_its_events_names() {
        use std::collections::BTreeSet;
        let mut enc = RecordEncoder::default();
        for (i, body) in every_type("plain").into_iter().enumerate() {
            let e = Event {
                seq: 1 + i as u64,
                id: Uuid::from_u128(i as u128),
                recorded_at: jiff::Timestamp::UNIX_EPOCH,
                body,
            };
            let (mut actors, mut topics) = (BTreeSet::new(), BTreeSet::new());
            crate::store::index::names(&e.body, &mut actors, &mut topics);
            let want: (Vec<&str>, Vec<&str>) = (
                actors.iter().map(|a| a.as_str()).collect(),
                topics.iter().map(|t| t.as_str()).collect(),
            );
            let mut bytes = Vec::new();
            enc.record(&mut bytes, &e);
            let (mut actors, mut topics) = (BTreeSet::new(), BTreeSet::new());
            crate::store::index::names_in_record(&bytes, &mut actors, &mut topics);
            let got: (Vec<&str>, Vec<&str>) =
                (actors.into_iter().collect(), topics.into_iter().collect());
            assert_eq!(got, want, "{:?}", e.body);
        }
    }

    const TRICKY: &[&str] = &[
        "plain",
        "with \"quotes\" inside",
        "back\\slash and \\\" both",
        "tab\there, newline\nthere, cr\r, backspace\u{8}, form feed\u{c}",
        "nul \u{0} unit sep \u{1f} esc \u{1b} del \u{7f}",
        "한국어 조선말 русский 中文 emoji 🙂",
        "line sep \u{2028} para sep \u{2029}",
        "slash / and <script>&amp;",
        "\"",
        "\\",
        "\u{0}",
        "ends with backslash \\",
    ];

    fn id(text: &str) -> ActorId {
        ActorId::new(text).unwrap()
    }

    fn cite_full(s: &str) -> Cite {
        Cite {
            publication: s.to_string(),
            url: Some(format!("https://example.org/{s}")),
            title: Some(s.to_string()),
            published: Some(ValidDate::parse("2024-10").unwrap()),
            via: Some(s.to_string()),
        }
    }

    /// One body of every event type, every optional field set, around `s`.
    fn every_type(s: &str) -> Vec<EventBody> {
        let (date, time) = parse_stated("2024-10-21T15:30:00+09:00[Asia/Seoul]").unwrap();
        let target = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        vec![
            EventBody::ActorRegistered(ActorRegistered {
                actor: id("kor-mnd"),
                name: s.to_string(),
                kind: ActorKind::Agency,
                country: Country::new("KOR").unwrap(),
                sector: Sector::Gov,
                aliases: vec![s.to_string(), "국방부".to_string()],
            }),
            EventBody::ActorRegistered(ActorRegistered {
                actor: id("한국"),
                name: s.to_string(),
                kind: ActorKind::State,
                country: Country::new("IGO").unwrap(),
                sector: Sector::Gov,
                aliases: vec![],
            }),
            EventBody::TopicRegistered(TopicRegistered {
                topic: TopicId::new("unvotes-rcid-3").unwrap(),
                title: s.to_string(),
                kind: TopicKind::Vote,
                resolution: Some(s.to_string()),
                session: Some(46),
                issues: vec!["me".to_string(), "nu".to_string()],
                important: Some(true),
            }),
            EventBody::TopicRegistered(TopicRegistered {
                topic: TopicId::new("t").unwrap(),
                title: s.to_string(),
                kind: TopicKind::Policy,
                resolution: None,
                session: None,
                issues: vec![],
                important: Some(false),
            }),
            EventBody::TopicRegistered(TopicRegistered {
                topic: TopicId::new("t2").unwrap(),
                title: s.to_string(),
                kind: TopicKind::Claim,
                resolution: None,
                session: Some(0),
                issues: vec![],
                important: None,
            }),
            EventBody::StanceDeclared(StanceDeclared {
                actor: id("a"),
                topic: TopicId::new("t").unwrap(),
                stance: Stance::Ratified,
                date,
                time: time.clone(),
                event: Some(PloverType::Agree),
                recipient: Some(id("b")),
                quote: Some(s.to_string()),
                cite: cite_full(s),
                instrument: Some(Instrument::Accession),
            }),
            EventBody::StanceDeclared(StanceDeclared {
                actor: id("a"),
                topic: TopicId::new("t").unwrap(),
                stance: Stance::Yes,
                date: ValidDate::parse("1946").unwrap(),
                time: None,
                event: None,
                recipient: None,
                quote: None,
                cite: Cite {
                    publication: s.to_string(),
                    url: None,
                    title: None,
                    published: None,
                    via: None,
                },
                instrument: None,
            }),
            EventBody::StanceRetracted(StanceRetracted {
                target,
                reason: s.to_string(),
            }),
            EventBody::StanceCorrected(StanceCorrected {
                target,
                reason: s.to_string(),
                correction: Correction {
                    actor: Some(id("c")),
                    topic: Some(TopicId::new("u").unwrap()),
                    stance: Some(Stance::Oppose),
                    date: Some((date, time)),
                    quote: Some(s.to_string()),
                    cite: Some(cite_full(s)),
                    event: Some(PloverType::Agree),
                    instrument: Some(Instrument::Acceptance),
                },
            }),
            EventBody::StanceCorrected(StanceCorrected {
                target,
                reason: s.to_string(),
                correction: Correction {
                    date: Some((ValidDate::parse("0001-01-01").unwrap(), None)),
                    ..Correction::default()
                },
            }),
            EventBody::StanceCited(StanceCited {
                target,
                cite: cite_full(s),
                quote: Some(s.to_string()),
            }),
            EventBody::StanceCited(StanceCited {
                target,
                cite: cite_full(s),
                quote: None,
            }),
            EventBody::ActorAliased(ActorAliased {
                actor: id("a"),
                alias: id("b"),
            }),
            EventBody::ActorRole(ActorRole {
                actor: id("a"),
                title: s.to_string(),
                organisation: Some(s.to_string()),
                from: ValidDate::parse("2024-06").unwrap(),
                to: Some(ValidDate::parse("9999-12-31").unwrap()),
            }),
            EventBody::ActorRole(ActorRole {
                actor: id("a"),
                title: s.to_string(),
                organisation: None,
                from: ValidDate::parse("2024").unwrap(),
                to: None,
            }),
        ]
    }

    #[test]
    fn every_event_type_with_tricky_text_encodes_as_serde_json_does() {
        let times = [
            jiff::Timestamp::new(1_730_000_000, 123_456_000).unwrap(),
            jiff::Timestamp::UNIX_EPOCH,
            jiff::Timestamp::from_microsecond(-62_135_596_800_000_000).unwrap(), // 0001-01-01
            jiff::Timestamp::MAX,                                                // 9999-12-30
            jiff::Timestamp::MIN,                                                // year -9999
        ];
        let mut n = 0;
        // One encoder throughout, as a segment is written: its recorded-time text changes.
        let mut records = RecordEncoder::default();
        for (i, s) in TRICKY.iter().enumerate() {
            for body in every_type(s) {
                for (j, t) in times.iter().enumerate() {
                    let e = Event {
                        seq: [1, 9, 10, 99_999, u64::MAX][j],
                        id: Uuid::from_u128((i * 1000 + n) as u128),
                        recorded_at: *t,
                        body: body.clone(),
                    };
                    assert_same_record(&mut records, &e);
                    assert_same(&e, e.seq);
                    assert_same(&e, [0, 7, 100, 1 << 40, u64::MAX][(i + j) % 5]);
                    n += 1;
                }
            }
        }
        assert_eq!(n, TRICKY.len() * 15 * times.len());
    }

    #[test]
    fn a_topic_writes_important_before_id_as_records_always_have() {
        let e = Event {
            seq: 3,
            id: Uuid::from_u128(1),
            recorded_at: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
            body: every_type("x").swap_remove(3),
        };
        let (line, _) = direct_line(&e, 3);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            format!(
                "{{\"batch_last\":3,\"hash\":\"{}\",\"important\":false,\"id\":\"00000000-0000-0000-0000-000000000001\",\"kind\":\"policy\",\"recorded_at\":\"2023-11-14T22:13:20.000000Z\",\"schema\":2,\"seq\":3,\"title\":\"x\",\"topic\":\"t\",\"type\":\"topic.registered\"}}\n",
                "0".repeat(64)
            )
        );
    }

    #[test]
    fn one_encoder_formats_each_recorded_time_of_a_batch_right() {
        // The recorded-time text is cached: a second time must not reuse the first's text.
        let body = every_type("q").swap_remove(6);
        let mut enc = LineEncoder::default();
        let mut got = Vec::new();
        let mut want = Vec::new();
        for (seq, secs) in [(1, 10), (2, 10), (3, 11), (4, 10)] {
            let e = Event {
                seq,
                id: Uuid::from_u128(u128::from(seq)),
                recorded_at: jiff::Timestamp::from_second(secs).unwrap(),
                body: body.clone(),
            };
            enc.line(&mut got, &EventRef::from(&e), 4);
            want.extend(serde_line(&e, 4));
        }
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap()
        );
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[ -~]{0,12}",
            prop::collection::vec(
                prop_oneof![
                    Just('"'),
                    Just('\\'),
                    Just('\u{2028}'),
                    Just('\u{7f}'),
                    (0u8..0x20).prop_map(char::from),
                    any::<char>(),
                ],
                0..8
            )
            .prop_map(|v| v.into_iter().collect()),
        ]
    }

    fn an_id() -> impl Strategy<Value = ActorId> {
        "[^\\s\\p{Cc}]{1,12}".prop_filter_map("id", |s| ActorId::new(&s).ok())
    }

    fn a_topic() -> impl Strategy<Value = TopicId> {
        "[^\\s\\p{Cc}]{1,12}".prop_filter_map("id", |s| TopicId::new(&s).ok())
    }

    fn a_date() -> impl Strategy<Value = ValidDate> {
        (1u32..=9999, 0u32..=12, 0u32..=31).prop_filter_map("date", |(y, m, d)| {
            let text = match (m, d) {
                (0, _) => format!("{y:04}"),
                (m, 0) => format!("{y:04}-{m:02}"),
                (m, d) => format!("{y:04}-{m:02}-{d:02}"),
            };
            ValidDate::parse(&text).ok()
        })
    }

    fn a_stated() -> impl Strategy<Value = (ValidDate, Option<TimeOfDay>)> {
        prop_oneof![
            a_date().prop_map(|d| (d, None)),
            prop::sample::select(vec![
                "2024-10-21T15:30:00+09:00",
                "2024-10-21T06:10Z",
                "2024-10-21T15:30:00[Asia/Seoul]",
                "1999-12-31T23:59:59.5-05:00",
            ])
            .prop_map(|t| parse_stated(t).unwrap()),
        ]
    }

    fn a_cite() -> BoxedStrategy<Cite> {
        (
            text(),
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(a_date()),
            prop::option::of(text()),
        )
            .prop_map(|(publication, url, title, published, via)| Cite {
                publication,
                url,
                title,
                published,
                via,
            })
            .boxed()
    }

    fn a_uuid() -> BoxedStrategy<Uuid> {
        any::<u128>().prop_map(Uuid::from_u128).boxed()
    }

    fn an_actor_registered() -> BoxedStrategy<EventBody> {
        (
            an_id(),
            text(),
            prop::sample::select(ActorKind::ALL),
            "[A-Z]{3}",
            prop::sample::select(Sector::ALL),
            prop::collection::vec(text(), 0..3),
        )
            .prop_map(|(actor, name, kind, c, sector, aliases)| {
                EventBody::ActorRegistered(ActorRegistered {
                    actor,
                    name,
                    kind,
                    country: Country::new(&c).unwrap(),
                    sector,
                    aliases,
                })
            })
            .boxed()
    }

    fn a_topic_registered() -> BoxedStrategy<EventBody> {
        (
            a_topic(),
            text(),
            prop::sample::select(TopicKind::ALL),
            prop::option::of(text()),
            prop::option::of(any::<u32>()),
            prop::collection::vec(text(), 0..3),
            prop::option::of(any::<bool>()),
        )
            .prop_map(
                |(topic, title, kind, resolution, session, issues, important)| {
                    EventBody::TopicRegistered(TopicRegistered {
                        topic,
                        title,
                        kind,
                        resolution,
                        session,
                        issues,
                        important,
                    })
                },
            )
            .boxed()
    }

    fn a_stance_declared() -> BoxedStrategy<EventBody> {
        let head = (
            an_id(),
            a_topic(),
            prop::sample::select(Stance::ALL),
            a_stated(),
        )
            .boxed();
        let tail = (
            prop::option::of(prop::sample::select(PloverType::ALL)),
            prop::option::of(an_id()),
            prop::option::of(text()),
            a_cite(),
            prop::option::of(prop::sample::select(Instrument::ALL)),
        )
            .boxed();
        (head, tail)
            .prop_map(
                |((actor, topic, stance, (date, time)), (event, recipient, quote, cite, ins))| {
                    EventBody::StanceDeclared(StanceDeclared {
                        actor,
                        topic,
                        stance,
                        date,
                        time,
                        event,
                        recipient,
                        quote,
                        cite,
                        instrument: ins,
                    })
                },
            )
            .boxed()
    }

    fn a_stance_corrected() -> BoxedStrategy<EventBody> {
        let who = (
            prop::option::of(an_id()),
            prop::option::of(a_topic()),
            prop::option::of(prop::sample::select(Stance::ALL)),
            prop::option::of(a_stated()),
        )
            .boxed();
        let what = (
            prop::option::of(text()),
            prop::option::of(a_cite()),
            prop::option::of(prop::sample::select(PloverType::ALL)),
            prop::option::of(prop::sample::select(Instrument::ALL)),
        )
            .boxed();
        ((a_uuid(), text()), who, what)
            .prop_map(|((target, reason), (a, t, s, d), (q, c, ev, ins))| {
                EventBody::StanceCorrected(StanceCorrected {
                    target,
                    reason,
                    correction: Correction {
                        actor: a,
                        topic: t,
                        stance: s,
                        date: d,
                        quote: q,
                        cite: c,
                        event: ev,
                        instrument: ins,
                    },
                })
            })
            .boxed()
    }

    fn a_body() -> BoxedStrategy<EventBody> {
        prop_oneof![
            an_actor_registered(),
            a_topic_registered(),
            a_stance_declared(),
            (a_uuid(), text())
                .prop_map(|(target, reason)| {
                    EventBody::StanceRetracted(StanceRetracted { target, reason })
                })
                .boxed(),
            a_stance_corrected(),
            (a_uuid(), a_cite(), prop::option::of(text()))
                .prop_map(|(target, cite, quote)| {
                    EventBody::StanceCited(StanceCited {
                        target,
                        cite,
                        quote,
                    })
                })
                .boxed(),
            (an_id(), an_id())
                .prop_map(|(actor, alias)| EventBody::ActorAliased(ActorAliased { actor, alias }))
                .boxed(),
            (
                an_id(),
                text(),
                prop::option::of(text()),
                a_date(),
                prop::option::of(a_date()),
            )
                .prop_map(|(actor, title, organisation, from, to)| {
                    EventBody::ActorRole(ActorRole {
                        actor,
                        title,
                        organisation,
                        from,
                        to,
                    })
                })
                .boxed(),
        ]
        .boxed()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn escaped_text_is_what_serde_json_writes(
            s in "[ -~\u{0}-\u{1f}\u{7f}é한\"\\\\]{0,40}",
        ) {
            let mut got = vec![b'"'];
            escaped(&mut got, &s);
            got.push(b'"');
            prop_assert_eq!(String::from_utf8(got).unwrap(), serde_json::to_string(&s).unwrap());
            let clean = clean_prefix(s.as_bytes());
            prop_assert!(s.as_bytes()[..clean].iter().all(|&b| ESCAPE[usize::from(b)] == 0));
        }

        #[test]
        fn the_direct_encoder_writes_what_serde_json_writes(
            body in a_body(),
            seq in any::<u64>(),
            batch_last in any::<u64>(),
            id in any::<u128>(),
            // Every microsecond the time library can represent, years below 0 included.
            micros in jiff::Timestamp::MIN.as_microsecond()..=jiff::Timestamp::MAX.as_microsecond(),
        ) {
            let e = Event {
                seq,
                id: Uuid::from_u128(id),
                recorded_at: jiff::Timestamp::from_microsecond(micros).unwrap(),
                body,
            };
            let want = serde_line(&e, batch_last);
            let (got, hash_at) = direct_line(&e, batch_last);
            prop_assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
            prop_assert!(got[hash_at..].starts_with(HASH_KEY));
            assert_same_record(&mut RecordEncoder::default(), &e);
        }
    }
}
