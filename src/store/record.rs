//! The on-disk record: the serialized shape of an event, a compatibility boundary of its own.
//!
//! `events/README.md` specifies it field by field. A [`Record`] is converted into domain types
//! ([`EventBody`]) and back; the conversion names the field at fault.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::core::{
    ActorAliased, ActorId, ActorKind, ActorRegistered, ActorRole, Cite, Correction, Country, Event,
    EventBody, Instrument, PloverType, Sector, Stance, StanceCited, StanceCorrected,
    StanceDeclared, StanceRetracted, TimeOfDay, TopicId, TopicKind, TopicRegistered, ValidDate,
    parse_stated, put_digits, quoted,
};

/// The schema version this build writes. Records of a newer version are refused.
pub const SCHEMA_VERSION: u32 = 2;

/// One line of the log (or of an append batch), every field of every event type flattened.
/// Which fields are allowed and required depends on `type`; [`Record::to_body`] checks that.
///
/// Fields are declared in ascending key order, so serializing a record with `serde_json` gives
/// its canonical JSON form (RFC 8785 style: keys sorted, no white space, minimal string escapes):
/// the form the log stores and the hash chain covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Actor id (`actor.registered`, `stance.declared`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The other id, in `actor.aliased`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Other spellings of the actor's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aliases: Option<Vec<String>>,
    /// Seq of the last event of the batch this record was appended in (schema 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_last: Option<u64>,
    /// Where the stance was reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cite: Option<CiteRecord>,
    /// ISO 3166-1 alpha-3 code, or IGO/NGO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Valid time: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// PLOVER event type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// First day of a role (`actor.role`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Hash chaining this record to the previous one (schema 2): lower-case hex SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Vote topics: classified as an important vote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub important: Option<bool>,
    /// Event id (UUID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Treaty stance `ratified`: ratification, acceptance, approval or accession.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    /// Issue tags of a topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issues: Option<Vec<String>>,
    /// Actor kind or topic kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Actor display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Organisation of a role (`actor.role`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// Verbatim quote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// Why, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Recipient actor id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// Recorded time, assigned by the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<String>,
    /// Vote topics: resolution code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// Schema version of the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<u32>,
    /// CAMEO/PLOVER sector code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    /// Sequence number, assigned by the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Vote topics: UN General Assembly session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<u32>,
    /// The stance (closed vocabulary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stance: Option<String>,
    /// Id of the event a retraction targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Topic title, or the cited report's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Last day of a role (`actor.role`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Topic id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Event type.
    #[serde(rename = "type")]
    pub type_name: String,
}

/// The `cite` object of a `stance.declared`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CiteRecord {
    /// Outlet, agency, record or data set.
    pub publication: String,
    /// Publication date, `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Topic title, or the cited report's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Address of the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The outlet this report relays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// A problem with one field of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as named in the format (`cite.published` for nested ones).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// The event types of this schema version, as written in `type`.
pub const EVENT_TYPES: &[&str] = &[
    "actor.registered",
    "actor.aliased",
    "actor.role",
    "topic.registered",
    "stance.declared",
    "stance.corrected",
    "stance.cited",
    "stance.retracted",
];

fn required<'a>(
    value: &'a Option<String>,
    field: &str,
    type_name: &str,
) -> Result<&'a str, FieldError> {
    match value.as_deref() {
        Some(v) => Ok(v),
        None => Err(FieldError::new(
            field,
            format!("missing, and required for {type_name}"),
        )),
    }
}

fn non_empty(value: &str, field: &str) -> Result<String, FieldError> {
    if value.trim().is_empty() {
        Err(FieldError::new(field, "must not be empty"))
    } else {
        Ok(value.to_string())
    }
}

fn vocab<T>(
    value: &str,
    field: &str,
    parse: fn(&str) -> Option<T>,
    names: fn() -> String,
) -> Result<T, FieldError> {
    parse(value).ok_or_else(|| {
        FieldError::new(
            field,
            format!("{} is not one of: {}", quoted(value), names()),
        )
    })
}

fn stated_date(value: &str, field: &str) -> Result<(ValidDate, Option<TimeOfDay>), FieldError> {
    parse_stated(value).map_err(|e| FieldError::new(field, e.to_string()))
}

/// The `date` text of a stated date: the date, then `T` and the time when there is one.
fn stated_text(date: &ValidDate, time: Option<&TimeOfDay>) -> String {
    match time {
        Some(t) => format!("{date}T{}", t.as_str()),
        None => date.to_string(),
    }
}

/// An issue tag: 1 to 32 characters, no white space or control characters.
pub(crate) fn check_tag(tag: &str) -> Result<(), ()> {
    let ok = !tag.is_empty()
        && tag.chars().count() <= 32
        && !tag.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(()) } else { Err(()) }
}

fn actor_id(value: &str, field: &str) -> Result<ActorId, FieldError> {
    ActorId::new(value).map_err(|e| FieldError::new(field, e.to_string()))
}

fn topic_id(value: &str, field: &str) -> Result<TopicId, FieldError> {
    TopicId::new(value).map_err(|e| FieldError::new(field, e.to_string()))
}

fn valid_date(value: &str, field: &str) -> Result<ValidDate, FieldError> {
    ValidDate::parse(value).map_err(|e| FieldError::new(field, e.to_string()))
}

/// Parses an event id.
///
/// # Errors
/// A [`FieldError`] on `field` when `value` is not a hyphenated UUID.
pub fn parse_uuid(value: &str, field: &str) -> Result<Uuid, FieldError> {
    // Only the canonical hyphenated lower-case form, so that a stored id round-trips exactly.
    match canonical_uuid(value.as_bytes()) {
        Some(id) => Ok(id),
        None => Err(FieldError::new(
            field,
            format!(
                "{} is not a UUID in lower-case hyphenated form",
                quoted(value)
            ),
        )),
    }
}

/// The UUID written in `text` in the canonical form, `8-4-4-4-12` lower-case hexadecimal
/// digits (36 bytes), or `None`: exactly what `Uuid::try_parse` takes of 36 bytes without
/// capitals, decoded in a third of its instructions (every record's id is parsed when a query
/// reads it: a fortieth of a one-actor query of the UN votes log).
fn canonical_uuid(text: &[u8]) -> Option<Uuid> {
    // Each digit's value, 0xff for a byte that is no lower-case hexadecimal digit.
    const DIGIT: [u8; 256] = {
        let mut t = [0xff; 256];
        let mut i = 0;
        while i < 10 {
            t[b'0' as usize + i] = i as u8;
            i += 1;
        }
        while i < 16 {
            t[b'a' as usize + i - 10] = i as u8;
            i += 1;
        }
        t
    };
    // Where each byte's two digits begin.
    const AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
    let text: &[u8; 36] = text.try_into().ok()?;
    let mut out = [0u8; 16];
    let mut any = 0;
    for (byte, at) in out.iter_mut().zip(AT) {
        let (high, low) = (
            DIGIT[usize::from(text[at])],
            DIGIT[usize::from(text[at + 1])],
        );
        any |= high | low;
        *byte = (high << 4) | low;
    }
    let hyphens = [text[8], text[13], text[18], text[23]] == [b'-'; 4];
    (any < 16 && hyphens).then(|| Uuid::from_bytes(out))
}

/// Formats a recorded time the one way the log stores it: RFC 3339, UTC, `Z`, exactly six
/// fractional digits (microseconds; finer digits are cut, not rounded), e.g.
/// `2024-10-25T09:30:00.000000Z`. A year outside 0000..=9999 is written with its sign and at
/// least four digits (`-0044`), as logs written before the move from chrono to jiff had it;
/// the chain hashes these bytes, so they never change.
pub fn format_recorded_at(t: &jiff::Timestamp) -> String {
    let dt = jiff::tz::Offset::UTC.to_datetime(*t);
    let year = i32::from(dt.year());
    if let Ok(year) = u32::try_from(year)
        && year <= 9999
    {
        // Digits written by hand: `format!` was a twentieth of writing a long answer's rows,
        // each carrying its recorded time.
        let mut text = *b"0000-00-00T00:00:00.000000Z";
        let fields = [
            (0..4, year),
            (5..7, dt.month().unsigned_abs().into()),
            (8..10, dt.day().unsigned_abs().into()),
            (11..13, dt.hour().unsigned_abs().into()),
            (14..16, dt.minute().unsigned_abs().into()),
            (17..19, dt.second().unsigned_abs().into()),
            (20..26, dt.subsec_nanosecond().unsigned_abs() / 1000),
        ];
        for (at, v) in fields {
            put_digits(&mut text[at], v);
        }
        return String::from_utf8_lossy(&text).into_owned();
    }
    // Outside 0000..=9999 (the fast path above took those).
    let year = format!("{year:+05}");
    format!(
        "{year}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.subsec_nanosecond() / 1000
    )
}

/// Parses a stored recorded time, which must be in the form [`format_recorded_at`] writes.
///
/// # Errors
/// A [`FieldError`] on `recorded_at` for any other form, and for a time outside
/// -9999-01-02T01:59:59Z..=9999-12-30T22:00:00.999999Z (the time library's range; no clock
/// gives one) or a leap second (`:60`, which no clock writes into a log).
pub fn parse_recorded_at(value: &str) -> Result<jiff::Timestamp, FieldError> {
    let bad = || {
        FieldError::new(
            "recorded_at",
            format!(
                "{} is not an RFC 3339 UTC time like 2024-10-25T09:30:00.000000Z",
                quoted(value)
            ),
        )
    };
    let t: jiff::Timestamp = value.parse().map_err(|_| bad())?;
    if format_recorded_at(&t) != value {
        return Err(bad());
    }
    Ok(t)
}

impl Record {
    fn instrument_field(&self) -> Result<Option<Instrument>, FieldError> {
        self.instrument
            .as_deref()
            .map(|i| vocab(i, "instrument", Instrument::parse, Instrument::names))
            .transpose()
    }

    fn quote_field(&self) -> Result<Option<String>, FieldError> {
        self.quote
            .as_deref()
            .map(|q| non_empty(q, "quote"))
            .transpose()
    }

    /// Names of the body fields that are present.
    fn present(&self) -> impl Iterator<Item = &'static str> {
        let fields: [(&'static str, bool); 25] = [
            ("actor", self.actor.is_some()),
            ("important", self.important.is_some()),
            ("instrument", self.instrument.is_some()),
            ("issues", self.issues.is_some()),
            ("resolution", self.resolution.is_some()),
            ("session", self.session.is_some()),
            ("alias", self.alias.is_some()),
            ("organisation", self.organisation.is_some()),
            ("from", self.from.is_some()),
            ("to", self.to.is_some()),
            ("name", self.name.is_some()),
            ("topic", self.topic.is_some()),
            ("title", self.title.is_some()),
            ("kind", self.kind.is_some()),
            ("country", self.country.is_some()),
            ("sector", self.sector.is_some()),
            ("aliases", self.aliases.is_some()),
            ("stance", self.stance.is_some()),
            ("date", self.date.is_some()),
            ("event", self.event.is_some()),
            ("recipient", self.recipient.is_some()),
            ("quote", self.quote.is_some()),
            ("cite", self.cite.is_some()),
            ("target", self.target.is_some()),
            ("reason", self.reason.is_some()),
        ];
        fields.into_iter().filter(|(_, p)| *p).map(|(n, _)| n)
    }

    /// Refuses a topic's vote fields (`resolution`, `session`, `important`) unless it is a vote
    /// topic, and a session 0.
    fn vote_fields_fit(&self, kind: TopicKind) -> Result<(), FieldError> {
        let given = [
            ("resolution", self.resolution.is_some()),
            ("session", self.session.is_some()),
            ("important", self.important.is_some()),
        ];
        if let Some((field, _)) = given
            .iter()
            .find(|(_, g)| *g)
            .filter(|_| kind != TopicKind::Vote)
        {
            return Err(FieldError::new(
                field,
                format!("is a field of vote topics only; this topic's kind is {kind}"),
            ));
        }
        if self.session == Some(0) {
            return Err(FieldError::new(
                "session",
                "is 0; UN General Assembly sessions count from 1",
            ));
        }
        Ok(())
    }

    fn only(&self, allowed: &[&str]) -> Result<(), FieldError> {
        match self.present().find(|f| !allowed.contains(f)) {
            Some(f) => Err(FieldError::new(
                f,
                format!(
                    "not a field of {} (its fields: {})",
                    self.type_name,
                    allowed.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    /// Converts a `stance.declared` record whose citation, taken out of it, is `cite`.
    fn stance_declared(&self, cite: Option<CiteRecord>) -> Result<EventBody, FieldError> {
        let t = self.type_name.as_str();
        self.only(&[
            "actor",
            "topic",
            "stance",
            "date",
            "event",
            "recipient",
            "quote",
            "cite",
            "instrument",
        ])?;
        let cite =
            cite.ok_or_else(|| FieldError::new("cite", format!("missing, and required for {t}")))?;
        let quote = self.quote_field()?;
        let stated = stated_date(required(&self.date, "date", t)?, "date")?;
        Ok(EventBody::StanceDeclared(StanceDeclared {
            actor: actor_id(required(&self.actor, "actor", t)?, "actor")?,
            topic: topic_id(required(&self.topic, "topic", t)?, "topic")?,
            stance: vocab(
                required(&self.stance, "stance", t)?,
                "stance",
                Stance::parse,
                Stance::names,
            )?,
            date: stated.0,
            time: stated.1,
            event: match &self.event {
                Some(e) => Some(vocab(e, "event", PloverType::parse, PloverType::names)?),
                None => None,
            },
            recipient: match &self.recipient {
                Some(r) => Some(actor_id(r, "recipient")?),
                None => None,
            },
            quote,
            cite: cite.into_cite()?,
            instrument: self.instrument_field()?,
        }))
    }

    /// [`Record::to_body`] taking the record: the strings the body keeps (a stance's citation)
    /// are moved instead of copied. Same checks, same errors.
    ///
    /// # Errors
    /// As [`Record::to_body`].
    pub fn into_body(mut self) -> Result<EventBody, FieldError> {
        if self.type_name != "stance.declared" {
            return self.to_body();
        }
        let cite = self.cite.take();
        self.stance_declared(cite)
    }

    /// Converts the type and body fields into a domain event body.
    ///
    /// # Errors
    /// A [`FieldError`] for an unknown `type`, a missing required field, a field the type does
    /// not have, or a value outside its vocabulary or shape.
    pub fn to_body(&self) -> Result<EventBody, FieldError> {
        let t = self.type_name.as_str();
        match t {
            "actor.registered" => self.actor_registered(),
            "topic.registered" => self.topic_registered(),
            "stance.declared" => self.stance_declared(self.cite.clone()),
            "stance.corrected" => self.stance_corrected(),
            "stance.cited" => self.stance_cited(),
            "actor.aliased" => self.actor_aliased(),
            "actor.role" => self.actor_role(),
            "stance.retracted" => self.stance_retracted(),
            other => Err(FieldError::new(
                "type",
                format!(
                    "unknown event type {} (known: {})",
                    quoted(other),
                    EVENT_TYPES.join(", ")
                ),
            )),
        }
    }

    /// An `actor.registered` body.
    fn actor_registered(&self) -> Result<EventBody, FieldError> {
        let t = self.type_name.as_str();
        self.only(&["actor", "name", "kind", "country", "sector", "aliases"])?;
        let aliases = self.aliases.clone().unwrap_or_default();
        if let Some(i) = aliases.iter().position(|a| a.trim().is_empty()) {
            return Err(FieldError::new(
                &format!("aliases[{i}]"),
                "must not be empty",
            ));
        }
        Ok(EventBody::ActorRegistered(ActorRegistered {
            actor: actor_id(required(&self.actor, "actor", t)?, "actor")?,
            name: non_empty(required(&self.name, "name", t)?, "name")?,
            kind: vocab(
                required(&self.kind, "kind", t)?,
                "kind",
                ActorKind::parse,
                ActorKind::names,
            )?,
            country: Country::new(required(&self.country, "country", t)?)
                .map_err(|e| FieldError::new("country", e.to_string()))?,
            sector: vocab(
                required(&self.sector, "sector", t)?,
                "sector",
                Sector::parse,
                Sector::names,
            )?,
            aliases,
        }))
    }

    /// A `topic.registered` body (issue tags sorted, repeats dropped).
    fn topic_registered(&self) -> Result<EventBody, FieldError> {
        let t = self.type_name.as_str();
        self.only(&[
            "topic",
            "title",
            "kind",
            "resolution",
            "session",
            "issues",
            "important",
        ])?;
        let mut issues = self.issues.clone().unwrap_or_default();
        if let Some(i) = issues.iter().position(|x| check_tag(x).is_err()) {
            return Err(FieldError::new(
                &format!("issues[{i}]"),
                format!(
                    "{} is not an issue tag: 1 to 32 characters, no white space",
                    quoted(&issues[i])
                ),
            ));
        }
        issues.sort();
        issues.dedup();
        let topic = topic_id(required(&self.topic, "topic", t)?, "topic")?;
        let title = non_empty(required(&self.title, "title", t)?, "title")?;
        let kind = vocab(
            required(&self.kind, "kind", t)?,
            "kind",
            TopicKind::parse,
            TopicKind::names,
        )?;
        self.vote_fields_fit(kind)?;
        Ok(EventBody::TopicRegistered(TopicRegistered {
            topic,
            title,
            kind,
            resolution: self
                .resolution
                .as_deref()
                .map(|r| non_empty(r, "resolution"))
                .transpose()?,
            session: self.session,
            issues,
            important: self.important,
        }))
    }

    /// A `stance.corrected` body: the fields given replace the target's.
    fn stance_corrected(&self) -> Result<EventBody, FieldError> {
        let t = self.type_name.as_str();
        self.only(&[
            "target",
            "reason",
            "actor",
            "topic",
            "stance",
            "date",
            "quote",
            "cite",
            "event",
            "instrument",
        ])?;
        Ok(EventBody::StanceCorrected(StanceCorrected {
            target: parse_uuid(required(&self.target, "target", t)?, "target")?,
            reason: non_empty(required(&self.reason, "reason", t)?, "reason")?,
            correction: Correction {
                actor: self
                    .actor
                    .as_deref()
                    .map(|a| actor_id(a, "actor"))
                    .transpose()?,
                topic: self
                    .topic
                    .as_deref()
                    .map(|x| topic_id(x, "topic"))
                    .transpose()?,
                stance: self
                    .stance
                    .as_deref()
                    .map(|x| vocab(x, "stance", Stance::parse, Stance::names))
                    .transpose()?,
                date: self
                    .date
                    .as_deref()
                    .map(|d| stated_date(d, "date"))
                    .transpose()?,
                quote: self.quote_field()?,
                cite: self.cite.as_ref().map(CiteRecord::to_cite).transpose()?,
                event: self
                    .event
                    .as_deref()
                    .map(|e| vocab(e, "event", PloverType::parse, PloverType::names))
                    .transpose()?,
                instrument: self.instrument_field()?,
            },
        }))
    }

    /// A `stance.cited` body.
    fn stance_cited(&self) -> Result<EventBody, FieldError> {
        let t = self.type_name.as_str();
        self.only(&["target", "cite", "quote"])?;
        let cite = self
            .cite
            .as_ref()
            .ok_or_else(|| FieldError::new("cite", format!("missing, and required for {t}")))?;
        Ok(EventBody::StanceCited(StanceCited {
            target: parse_uuid(required(&self.target, "target", t)?, "target")?,
            cite: cite.to_cite()?,
            quote: self.quote_field()?,
        }))
    }

    /// An `actor.aliased` body.
    fn actor_aliased(&self) -> Result<EventBody, FieldError> {
        let t = self.type_name.as_str();
        self.only(&["actor", "alias"])?;
        Ok(EventBody::ActorAliased(ActorAliased {
            actor: actor_id(required(&self.actor, "actor", t)?, "actor")?,
            alias: actor_id(required(&self.alias, "alias", t)?, "alias")?,
        }))
    }

    /// An `actor.role` body.
    fn actor_role(&self) -> Result<EventBody, FieldError> {
        let t = self.type_name.as_str();
        self.only(&["actor", "title", "organisation", "from", "to"])?;
        Ok(EventBody::ActorRole(ActorRole {
            actor: actor_id(required(&self.actor, "actor", t)?, "actor")?,
            title: non_empty(required(&self.title, "title", t)?, "title")?,
            organisation: self
                .organisation
                .as_deref()
                .map(|o| non_empty(o, "organisation"))
                .transpose()?,
            from: valid_date(required(&self.from, "from", t)?, "from")?,
            to: self
                .to
                .as_deref()
                .map(|d| valid_date(d, "to"))
                .transpose()?,
        }))
    }

    /// A `stance.retracted` body.
    fn stance_retracted(&self) -> Result<EventBody, FieldError> {
        let t = self.type_name.as_str();
        self.only(&["target", "reason"])?;
        Ok(EventBody::StanceRetracted(StanceRetracted {
            target: parse_uuid(required(&self.target, "target", t)?, "target")?,
            reason: non_empty(required(&self.reason, "reason", t)?, "reason")?,
        }))
    }

    /// Checks an event body as a reader will check its stored record: the body's record
    /// ([`Record::from_body`]) converted back ([`Record::into_body`]), so the rules are those
    /// of reading, not a copy of them. An importer runs this on an event it makes from a
    /// source's cells (the UN votes' roll calls) so that a row the log would refuse to read (a
    /// session 0) is refused as a row instead of written. (Run by the writer on every event, it
    /// cost a fifth more CPU on the UN votes import, so the writer does not.)
    ///
    /// # Errors
    /// The [`FieldError`] reading the record would give (the field at fault, and why).
    pub fn check_body(body: &EventBody) -> Result<(), FieldError> {
        Record::from_body(body).into_body().map(drop)
    }

    /// The record of a stored event, in the current schema version.
    pub fn from_event(event: &Event) -> Record {
        let mut r = Record::from_body(&event.body);
        r.schema = Some(SCHEMA_VERSION);
        r.seq = Some(event.seq);
        r.id = Some(event.id.hyphenated().to_string());
        r.recorded_at = Some(format_recorded_at(&event.recorded_at));
        r
    }

    /// The record of an event body alone (no schema, seq, id or recorded time): the shape of
    /// one line of an append batch.
    pub fn from_body(body: &EventBody) -> Record {
        let mut r = Record {
            type_name: body.type_name().to_string(),
            ..Record::default()
        };
        match body {
            EventBody::ActorRegistered(a) => {
                r.actor = Some(a.actor.to_string());
                r.name = Some(a.name.clone());
                r.kind = Some(a.kind.to_string());
                r.country = Some(a.country.to_string());
                r.sector = Some(a.sector.to_string());
                r.aliases = (!a.aliases.is_empty()).then(|| a.aliases.clone());
            }
            EventBody::TopicRegistered(t) => {
                r.topic = Some(t.topic.to_string());
                r.title = Some(t.title.clone());
                r.kind = Some(t.kind.to_string());
                r.resolution = t.resolution.clone();
                r.session = t.session;
                r.issues = (!t.issues.is_empty()).then(|| t.issues.clone());
                r.important = t.important;
            }
            EventBody::StanceDeclared(s) => {
                r.actor = Some(s.actor.to_string());
                r.topic = Some(s.topic.to_string());
                r.stance = Some(s.stance.to_string());
                r.date = Some(stated_text(&s.date, s.time.as_ref()));
                r.event = s.event.map(|e| e.to_string());
                r.recipient = s.recipient.as_ref().map(ToString::to_string);
                r.quote = s.quote.clone();
                r.cite = Some(CiteRecord::from_cite(&s.cite));
                r.instrument = s.instrument.map(|i| i.to_string());
            }
            EventBody::StanceRetracted(x) => {
                r.target = Some(x.target.hyphenated().to_string());
                r.reason = Some(x.reason.clone());
            }
            EventBody::StanceCorrected(x) => {
                let c = &x.correction;
                r.target = Some(x.target.hyphenated().to_string());
                r.reason = Some(x.reason.clone());
                r.actor = c.actor.as_ref().map(ToString::to_string);
                r.topic = c.topic.as_ref().map(ToString::to_string);
                r.stance = c.stance.map(|v| v.to_string());
                r.date = c.date.as_ref().map(|(d, t)| stated_text(d, t.as_ref()));
                r.quote = c.quote.clone();
                r.cite = c.cite.as_ref().map(CiteRecord::from_cite);
                r.event = c.event.map(|e| e.to_string());
                r.instrument = c.instrument.map(|i| i.to_string());
            }
            EventBody::StanceCited(x) => {
                r.target = Some(x.target.hyphenated().to_string());
                r.cite = Some(CiteRecord::from_cite(&x.cite));
                r.quote = x.quote.clone();
            }
            EventBody::ActorAliased(x) => {
                r.actor = Some(x.actor.to_string());
                r.alias = Some(x.alias.to_string());
            }
            EventBody::ActorRole(x) => {
                r.actor = Some(x.actor.to_string());
                r.title = Some(x.title.clone());
                r.organisation = x.organisation.clone();
                r.from = Some(x.from.to_string());
                r.to = x.to.map(|d| d.to_string());
            }
        }
        r
    }
}

impl CiteRecord {
    /// Converts into the domain citation.
    ///
    /// # Errors
    /// A [`FieldError`] on `cite.publication` when empty, or on `cite.published` for a bad date.
    pub fn to_cite(&self) -> Result<Cite, FieldError> {
        self.clone().into_cite()
    }

    /// [`CiteRecord::to_cite`] taking the record, its strings moved.
    ///
    /// # Errors
    /// As [`CiteRecord::to_cite`].
    pub fn into_cite(self) -> Result<Cite, FieldError> {
        if self.publication.trim().is_empty() {
            return Err(FieldError::new("cite.publication", "must not be empty"));
        }
        Ok(Cite {
            published: match &self.published {
                Some(p) => Some(valid_date(p, "cite.published")?),
                None => None,
            },
            publication: self.publication,
            url: self.url,
            title: self.title,
            via: self.via,
        })
    }

    /// The record of a domain citation.
    pub fn from_cite(c: &Cite) -> CiteRecord {
        CiteRecord {
            publication: c.publication.clone(),
            url: c.url.clone(),
            title: c.title.clone(),
            published: c.published.map(|d| d.to_string()),
            via: c.via.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Given a canonical UUID and every text one byte away from it (each byte replaced by
    /// each of a set of tricky bytes), plus other lengths and forms, when parsed, then
    /// `canonical_uuid` takes exactly what `Uuid::try_parse` takes of 36 bytes without capitals,
    /// with the same value.
    #[test]
    fn canonical_uuid_takes_what_try_parse_takes_of_the_canonical_form() {
        let base = "0f8fad5b-d9cb-469f-a165-70867728950e";
        let reference = |t: &str| {
            let canonical = t.len() == 36 && !t.bytes().any(|b| b.is_ascii_uppercase());
            Uuid::try_parse(t).ok().filter(|_| canonical)
        };
        let mut texts = vec![
            base.to_string(),
            base.to_uppercase(),
            base.replace('-', ""),
            format!("{{{base}}}"),
            format!("urn:uuid:{base}"),
            base[..35].to_string(),
            format!("{base}0"),
            String::new(),
        ];
        for i in 0..base.len() {
            for b in [
                '-', '0', '9', 'a', 'f', 'g', 'A', 'F', ' ', '{', '/', ':', '@', '`',
            ] {
                let mut t = base.as_bytes().to_vec();
                t[i] = b as u8;
                texts.push(String::from_utf8(t).unwrap());
            }
        }
        for t in &texts {
            assert_eq!(canonical_uuid(t.as_bytes()), reference(t), "{t:?}");
            assert_eq!(parse_uuid(t, "id").ok(), reference(t), "{t:?}");
        }
        assert_eq!(
            canonical_uuid(base.as_bytes()),
            Some(Uuid::from_u128(0x0f8fad5b_d9cb_469f_a165_70867728950e))
        );
    }

    /// Recorded times as chrono 0.4.45 wrote them (`to_rfc3339_opts(SecondsFormat::Micros,
    /// true)`) before the move to jiff: the chain hashes these bytes, so they must not change.
    const WRITTEN_BY_CHRONO: [(i64, &str); 10] = [
        (0, "1970-01-01T00:00:00.000000Z"),
        (1_730_000_000_123_456, "2024-10-27T03:33:20.123456Z"),
        (1_730_000_000_000_001, "2024-10-27T03:33:20.000001Z"),
        (-1, "1969-12-31T23:59:59.999999Z"),
        (-62_135_596_800_000_000, "0001-01-01T00:00:00.000000Z"),
        (-62_167_219_200_000_000, "0000-01-01T00:00:00.000000Z"),
        (-62_167_219_200_000_001, "-0001-12-31T23:59:59.999999Z"),
        (-377_705_023_201_000_000, "-9999-01-02T01:59:59.000000Z"),
        (253_402_207_200_000_000, "9999-12-30T22:00:00.000000Z"),
        (951_782_400_000_000, "2000-02-29T00:00:00.000000Z"),
    ];

    #[test]
    fn recorded_times_are_written_byte_for_byte_as_chrono_wrote_them() {
        for (micros, text) in WRITTEN_BY_CHRONO {
            let t = jiff::Timestamp::from_microsecond(micros).unwrap();
            assert_eq!(format_recorded_at(&t), text);
            if !text.starts_with('-') {
                assert_eq!(parse_recorded_at(text).unwrap(), t, "{text}");
            }
        }
        // Nanoseconds are cut to microseconds, not rounded (chrono wrote .123456 too).
        let t = jiff::Timestamp::new(1_730_000_000, 123_456_789).unwrap();
        assert_eq!(format_recorded_at(&t), "2024-10-27T03:33:20.123456Z");
    }

    proptest::proptest! {
        /// Every instant the time library holds is written as `format!` of its fields writes
        /// it (the form before the digits were written by hand).
        #[test]
        fn recorded_times_are_written_as_format_writes_them(
            micros in jiff::Timestamp::MIN.as_microsecond()..=jiff::Timestamp::MAX.as_microsecond(),
            nanos in 0i32..1000,
        ) {
            let t = jiff::Timestamp::from_microsecond(micros).unwrap();
            let t = t.checked_add(jiff::SignedDuration::from_nanos(i64::from(nanos))).unwrap_or(t);
            let dt = jiff::tz::Offset::UTC.to_datetime(t);
            let year = i32::from(dt.year());
            let year = if (0..=9999).contains(&year) {
                format!("{year:04}")
            } else {
                format!("{year:+05}")
            };
            let want = format!(
                "{year}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                dt.month(),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second(),
                dt.subsec_nanosecond() / 1000
            );
            proptest::prop_assert_eq!(format_recorded_at(&t), want);
        }
    }

    #[test]
    fn a_recorded_time_in_any_other_form_is_refused_naming_the_field() {
        for bad in [
            "2024-10-25T09:30:00Z",
            "2024-10-25T09:30:00.000000+00:00",
            "2024-10-25 09:30:00.000000Z",
            "2024-10-25t09:30:00.000000z",
            "2024-10-25T09:30:00.0000000Z",
            // A leap second (chrono read it, jiff reads it as :59; no clock writes one).
            "2024-10-25T09:30:60.000000Z",
            // Past the time library's last instant.
            "9999-12-31T23:59:59.999999Z",
        ] {
            let e = parse_recorded_at(bad).unwrap_err();
            assert_eq!(e.field, "recorded_at", "{bad}");
            assert!(e.message.contains("is not an RFC 3339 UTC time"), "{e:?}");
        }
    }

    #[test]
    fn into_body_gives_what_to_body_gives() {
        let lines = [
            r#"{"type":"stance.declared","actor":"a","topic":"t","stance":"support","date":"2024-10","quote":"q","cite":{"publication":"P","title":"T","url":"u","via":"V","published":"2024-10-21"}}"#,
            r#"{"type":"stance.declared","actor":"a","topic":"t","stance":"support","date":"2024"}"#,
            r#"{"type":"stance.declared","actor":"a","topic":"t","stance":"support","date":"2024","cite":{"publication":" "}}"#,
            r#"{"type":"stance.declared","actor":"a","topic":"t","stance":"support","date":"2024","cite":{"publication":"P","published":"2024-13"}}"#,
            r#"{"type":"stance.declared","actor":"a","topic":"t","stance":"maybe","date":"2024","cite":{"publication":"P"}}"#,
            r#"{"type":"actor.aliased","actor":"a","alias":"b"}"#,
        ];
        for line in lines {
            let record: Record = serde_json::from_str(line).unwrap();
            let (by_ref, by_value) = (record.to_body(), record.clone().into_body());
            assert_eq!(by_ref, by_value, "{line}");
        }
        let record: Record = serde_json::from_str(lines[2]).unwrap();
        assert_eq!(record.into_body().unwrap_err().field, "cite.publication");
    }

    /// Regression: a correction of `instrument` was written but refused when read back
    /// ("not a field of stance.corrected"), so a log holding one could not be opened.
    #[test]
    fn a_correction_of_every_field_round_trips_through_its_record() {
        let line = r#"{"type":"stance.corrected","target":"00000000-0000-0000-0000-000000000001","reason":"r","actor":"a","topic":"t","stance":"ratified","date":"2016-09-03","quote":"q","cite":{"publication":"p"},"event":"agree","instrument":"acceptance"}"#;
        let record: Record = serde_json::from_str(line).unwrap();
        let body = record.to_body().unwrap();
        let EventBody::StanceCorrected(c) = &body else {
            panic!("{body:?}")
        };
        assert_eq!(
            c.correction.fields(),
            [
                "actor",
                "topic",
                "stance",
                "date",
                "quote",
                "cite",
                "event",
                "instrument"
            ]
        );
        assert_eq!(c.correction.instrument, Some(Instrument::Acceptance));
        assert_eq!(Record::from_body(&body).to_body().unwrap(), body);
    }
}
