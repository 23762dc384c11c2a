//! Domain types of the stance log: identifiers, closed vocabularies and events.
//!
//! Nothing here knows about files, serde or the clock. Every type can only be built valid.

use std::fmt;
use std::sync::Arc;

use uuid::Uuid;

use unicode_normalization::UnicodeNormalization;

use super::date::{TimeOfDay, ValidDate};
use super::text::quoted;

/// Defines a closed vocabulary: an enum with its wire names, `parse`, `as_str` and `ALL`.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name of this value.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses a wire name; `None` if it is not in the vocabulary (names are case-sensitive).
            pub fn parse(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The vocabulary as a comma-separated list, for error messages and help.
            pub fn names() -> String {
                [$($text),+].join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// What kind of body an actor is.
    ActorKind {
        /// An individual: a minister, a spokesperson, a legislator.
        Person => "person",
        /// A state acting as a whole (its government speaking for it).
        State => "state",
        /// A government or cabinet.
        Government => "government",
        /// A ministry, intelligence service or other executive agency.
        Agency => "agency",
        /// A parliament, chamber or legislative committee.
        Legislature => "legislature",
        /// Armed forces or a military command.
        Military => "military",
        /// A political party.
        Party => "party",
        /// An international or non-governmental organization, a company, a group.
        Organization => "organization",
        /// A news outlet or agency.
        Media => "media",
    }
}

vocabulary! {
    /// Sector code of an actor: the CAMEO actor role codes, which PLOVER/POLECAT keep as
    /// sectors. Source: CAMEO codebook v1.1b3 (Schrodt 2012), chapter 3, role codes.
    Sector {
        /// Government: executive, ministers, heads of state.
        Gov => "GOV",
        /// Legislature.
        Leg => "LEG",
        /// Military.
        Mil => "MIL",
        /// Intelligence services.
        Spy => "SPY",
        /// Judiciary.
        Jud => "JUD",
        /// Police.
        Cop => "COP",
        /// Political opposition.
        Opp => "OPP",
        /// Political party.
        Pty => "PTY",
        /// Rebels.
        Reb => "REB",
        /// Business.
        Bus => "BUS",
        /// Media.
        Med => "MED",
        /// Civilians.
        Cvl => "CVL",
        /// Elites.
        Eli => "ELI",
        /// Education.
        Edu => "EDU",
        /// Labour.
        Lab => "LAB",
        /// Religious.
        Rel => "REL",
        /// Refugees.
        Ref => "REF",
        /// Human rights.
        Hri => "HRI",
        /// Intergovernmental organization.
        Igo => "IGO",
        /// Non-governmental organization.
        Ngo => "NGO",
    }
}

vocabulary! {
    /// PLOVER event types. Source: `plover-codebook/types.csv` (rpolecat, MIT; PLOVER
    /// specification, Halterman et al.). `cooperate`, `aid` and `sanction` require a recipient.
    PloverType {
        /// agree
        Agree => "agree",
        /// consult
        Consult => "consult",
        /// support
        Support => "support",
        /// concede
        Concede => "concede",
        /// cooperate (requires a recipient)
        Cooperate => "cooperate",
        /// aid (requires a recipient)
        Aid => "aid",
        /// retreat
        Retreat => "retreat",
        /// request
        Request => "request",
        /// accuse
        Accuse => "accuse",
        /// reject
        Reject => "reject",
        /// threaten
        Threaten => "threaten",
        /// protest
        Protest => "protest",
        /// sanction (requires a recipient)
        Sanction => "sanction",
        /// mobilize
        Mobilize => "mobilize",
        /// coerce
        Coerce => "coerce",
        /// assault
        Assault => "assault",
    }
}

impl PloverType {
    /// Whether PLOVER requires a recipient actor for this event type.
    pub fn requires_recipient(self) -> bool {
        matches!(
            self,
            PloverType::Cooperate | PloverType::Aid | PloverType::Sanction
        )
    }
}

vocabulary! {
    /// What a topic is about, which fixes the stances that fit it.
    TopicKind {
        /// An action, proposal or agreement that one supports or opposes.
        Policy => "policy",
        /// A factual assertion that one affirms or denies.
        Claim => "claim",
        /// A recorded vote (a roll call), on which one votes yes, no or abstains.
        Vote => "vote",
        /// A treaty, which one signs, ratifies, or withdraws from.
        Treaty => "treaty",
        /// Membership of an alliance, an organisation or the state system, held in spells: one
        /// is a `member` from a day on, and `not_member` from another.
        Membership => "membership",
    }
}

vocabulary! {
    /// A stance. The vocabulary is closed; each value fits one or two [`TopicKind`]s
    /// ([`Stance::fits`]): policy: `support`, `oppose`, `neutral`, `abstain`; claim: `affirm`,
    /// `deny`, `doubt`; vote: `yes`, `no`, `abstain`; treaty: `signed`, `ratified`, `withdrawn`;
    /// membership: `member`, `not_member`.
    Stance {
        /// Policy: in favour.
        Support => "support",
        /// Policy: against.
        Oppose => "oppose",
        /// Policy: states no side.
        Neutral => "neutral",
        /// Policy or vote: formally declines to take a side (abstains in a vote).
        Abstain => "abstain",
        /// Claim: asserts it is true.
        Affirm => "affirm",
        /// Claim: asserts it is false.
        Deny => "deny",
        /// Claim: questions it, neither affirming nor denying.
        Doubt => "doubt",
        /// Vote: in favour.
        Yes => "yes",
        /// Vote: against.
        No => "no",
        /// Treaty: signed it (not yet bound by it).
        Signed => "signed",
        /// Treaty: consented to be bound (by ratification, acceptance, approval or accession;
        /// the instrument is kept in `instrument`).
        Ratified => "ratified",
        /// Treaty: withdrew from it.
        Withdrawn => "withdrawn",
        /// Membership: a member from this date on.
        Member => "member",
        /// Membership: not (or no longer) a member from this date on.
        NotMember => "not_member",
    }
}

impl Stance {
    /// Whether this stance fits a topic of this kind.
    pub fn fits(self, kind: TopicKind) -> bool {
        use Stance::*;
        match kind {
            TopicKind::Policy => matches!(self, Support | Oppose | Neutral | Abstain),
            TopicKind::Claim => matches!(self, Affirm | Deny | Doubt),
            TopicKind::Vote => matches!(self, Yes | No | Abstain),
            TopicKind::Treaty => matches!(self, Signed | Ratified | Withdrawn),
            TopicKind::Membership => matches!(self, Member | NotMember),
        }
    }

    /// Polarity, so that stances of different kinds can be compared and counted: +1 for
    /// `support`, `affirm`, `yes`, `signed`, `ratified`, `member`; -1 for `oppose`, `deny`,
    /// `no`, `withdrawn`, `not_member`; 0 for `neutral`, `abstain`, `doubt`.
    pub fn polarity(self) -> i8 {
        use Stance::*;
        match self {
            Support | Affirm | Yes | Signed | Ratified | Member => 1,
            Oppose | Deny | No | Withdrawn | NotMember => -1,
            Neutral | Abstain | Doubt => 0,
        }
    }
}

vocabulary! {
    /// How a state consented to be bound by a treaty (UN Treaty Collection terms).
    Instrument {
        /// Ratification.
        Ratification => "ratification",
        /// Acceptance.
        Acceptance => "acceptance",
        /// Approval.
        Approval => "approval",
        /// Accession.
        Accession => "accession",
        /// Provisional application (applied before, or without, consent to be bound).
        ProvisionalApplication => "provisional_application",
    }
}

/// Longest identifier accepted, in bytes.
pub const ID_BYTES_MAX: usize = 128;

/// Why a string is not a valid identifier or code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Empty, longer than [`ID_BYTES_MAX`], or containing white space or control characters.
    #[error("{} is not a valid id: 1 to 128 bytes, no white space or control characters", quoted(.0))]
    Id(String),
    /// Not an ISO 3166-1 alpha-3 code shape (three ASCII capitals), nor `IGO` / `NGO`.
    #[error("{} is not an ISO 3166-1 alpha-3 country code (three capital letters) or IGO/NGO", quoted(.0))]
    Country(String),
}

/// `text` in Unicode Normalization Form C (canonical composition).
pub fn nfc(text: &str) -> String {
    if unicode_normalization::is_nfc(text) {
        text.to_string()
    } else {
        text.nfc().collect()
    }
}

/// Whether `text` is printable ASCII without the space (`!` to `~`): an id that fits, in one
/// pass over its bytes (most ids; a test for ASCII first and then this was two passes, 125
/// instructions an id, 1.7M ids read by a query of every pair of the UN votes log).
fn plain_ascii_id(text: &str) -> bool {
    text.bytes().all(|b| (b'!'..=b'~').contains(&b))
}

fn check_id(text: &str) -> Result<(), IdError> {
    // ASCII white space and control characters are the bytes up to the space, and DEL: an
    // ASCII text that is not plain has one of them.
    let fits = |text: &str| {
        plain_ascii_id(text)
            || (!text.is_ascii() && !text.chars().any(|c| c.is_whitespace() || c.is_control()))
    };
    let ok = !text.is_empty() && text.len() <= ID_BYTES_MAX && fits(text);
    if ok {
        Ok(())
    } else {
        Err(IdError::Id(text.to_string()))
    }
}

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        ///
        /// Cheap to clone: the text is shared (a reference-counted `str`).
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Builds the id, normalized to Unicode NFC, so that the same name typed and pasted
            /// (composed or decomposed Hangul, say) is one id.
            ///
            /// # Errors
            /// [`IdError::Id`] when empty, over [`ID_BYTES_MAX`] bytes (after normalization), or
            /// containing white space or control characters.
            pub fn new(text: &str) -> Result<$name, IdError> {
                if text.is_ascii()
                    || unicode_normalization::is_nfc_quick(text.chars())
                        == unicode_normalization::IsNormalized::Yes
                {
                    check_id(text)?;
                    return Ok($name(Arc::from(text)));
                }
                let text = nfc(text);
                check_id(&text)?;
                Ok($name(Arc::from(text)))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's text, as checked.
            pub fn text(&self) -> IdText<'_> {
                IdText(&self.0)
            }

            /// The id of a text already checked as an id ([`IdText`]).
            pub fn from_text(text: IdText<'_>) -> $name {
                $name(Arc::from(text.0))
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id! {
    /// A stable actor identifier chosen by the analyst, e.g. `kor-mnd-kim-yong-hyun`.
    ActorId
}

string_id! {
    /// A stable topic identifier chosen by the analyst, e.g. `dprk-troops-in-russia`.
    TopicId
}

/// The text of an actor or topic id, borrowed and checked as [`ActorId::new`] checks it, and
/// already in Unicode NFC (so [`ActorId::new`] would keep it as it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdText<'a>(&'a str);

impl<'a> IdText<'a> {
    /// Checks `text` as an id.
    ///
    /// # Errors
    /// [`IdError::Id`] as [`ActorId::new`] gives it, and also when `text` is not plainly in NFC
    /// (the owned ids normalize such a text; this borrowed form cannot).
    pub fn new(text: &'a str) -> Result<IdText<'a>, IdError> {
        if !text.is_empty() && text.len() <= ID_BYTES_MAX && plain_ascii_id(text) {
            return Ok(IdText(text));
        }
        check_id(text)?;
        // ASCII text is in every normal form.
        if text.is_ascii()
            || unicode_normalization::is_nfc_quick(text.chars())
                == unicode_normalization::IsNormalized::Yes
        {
            Ok(IdText(text))
        } else {
            Err(IdError::Id(text.to_string()))
        }
    }

    /// The text.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// A `stance.declared` body borrowed from where it was read (a projection index's record), so
/// that folding it ([`History::apply_stance_view`](super::History::apply_stance_view)) needs no
/// owned string: the history keeps each id, text and citation once anyway. The fields are those
/// of [`StanceDeclared`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanceView<'a> {
    /// Who took the stance.
    pub actor: IdText<'a>,
    /// On what.
    pub topic: IdText<'a>,
    /// The stance.
    pub stance: Stance,
    /// Valid time.
    pub date: ValidDate,
    /// Time of day, if stated.
    pub time: Option<TimeOfDay>,
    /// PLOVER event type.
    pub event: Option<PloverType>,
    /// The recipient actor.
    pub recipient: Option<IdText<'a>>,
    /// Verbatim quote.
    pub quote: Option<&'a str>,
    /// Where it was reported.
    pub cite: CiteView<'a>,
    /// Treaty instrument.
    pub instrument: Option<Instrument>,
}

impl<'a> StanceView<'a> {
    /// The view of an owned stance.
    pub fn of(s: &'a StanceDeclared) -> StanceView<'a> {
        StanceView {
            actor: s.actor.text(),
            topic: s.topic.text(),
            stance: s.stance,
            date: s.date,
            time: s.time.clone(),
            event: s.event,
            recipient: s.recipient.as_ref().map(|r| r.text()),
            quote: s.quote.as_deref(),
            cite: CiteView::of(&s.cite),
            instrument: s.instrument,
        }
    }

    /// The owned stance (the inverse of [`StanceView::of`]).
    pub fn to_declared(&self) -> StanceDeclared {
        StanceDeclared {
            actor: ActorId::from_text(self.actor),
            topic: TopicId::from_text(self.topic),
            stance: self.stance,
            date: self.date,
            time: self.time.clone(),
            event: self.event,
            recipient: self.recipient.map(ActorId::from_text),
            quote: self.quote.map(str::to_string),
            cite: self.cite.to_cite(),
            instrument: self.instrument,
        }
    }
}

/// A [`Cite`] borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CiteView<'a> {
    /// The outlet, agency, record or data set.
    pub publication: &'a str,
    /// Address of the report.
    pub url: Option<&'a str>,
    /// Title or headline.
    pub title: Option<&'a str>,
    /// Date of publication.
    pub published: Option<ValidDate>,
    /// The outlet relayed.
    pub via: Option<&'a str>,
}

impl<'a> CiteView<'a> {
    /// The view of an owned citation.
    pub fn of(c: &'a Cite) -> CiteView<'a> {
        CiteView {
            publication: &c.publication,
            url: c.url.as_deref(),
            title: c.title.as_deref(),
            published: c.published,
            via: c.via.as_deref(),
        }
    }

    /// The owned citation.
    pub fn to_cite(&self) -> Cite {
        Cite {
            publication: self.publication.to_string(),
            url: self.url.map(str::to_string),
            title: self.title.map(str::to_string),
            published: self.published,
            via: self.via.map(str::to_string),
        }
    }
}

/// An ISO 3166-1 alpha-3 country code (`KOR`, `PRK`), or `IGO` / `NGO` for non-state bodies.
///
/// Only the shape is checked (three ASCII capital letters), so former codes (ISO 3166-3, such as
/// `YUG`) and user-assigned codes are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country([u8; 3]);

impl Country {
    /// Parses a three-capital-letter code.
    ///
    /// # Errors
    /// [`IdError::Country`] for anything else.
    pub fn new(text: &str) -> Result<Country, IdError> {
        match text.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => {
                Ok(Country([*a, *b, *c]))
            }
            _ => Err(IdError::Country(text.to_string())),
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII capitals are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sequence number: the position of an event in the log, contiguous from 1.
pub type Seq = u64;

/// Where a stance was reported. `publication` is required; the rest is what the source gives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cite {
    /// The outlet, agency, record or data set that published the report.
    pub publication: String,
    /// Address of the report, if it has one.
    pub url: Option<String>,
    /// Title or headline of the report.
    pub title: Option<String>,
    /// Date of publication (valid-time calendar date, may be partial).
    pub published: Option<ValidDate>,
    /// The outlet this report relays, e.g. a news agency (`Yonhap News Agency`).
    pub via: Option<String>,
}

/// `actor.registered`: an actor enters the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorRegistered {
    /// Stable id, unique in the log.
    pub actor: ActorId,
    /// Display name.
    pub name: String,
    /// What kind of body it is.
    pub kind: ActorKind,
    /// ISO 3166-1 alpha-3 country, or IGO/NGO.
    pub country: Country,
    /// CAMEO/PLOVER sector code.
    pub sector: Sector,
    /// Other spellings, including in the original script; may be empty.
    pub aliases: Vec<String>,
}

/// `topic.registered`: a topic enters the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRegistered {
    /// Stable id, unique in the log.
    pub topic: TopicId,
    /// Short description of the policy or claim.
    pub title: String,
    /// Policy, claim, vote or treaty; fixes which stances fit.
    pub kind: TopicKind,
    /// Vote topics: the resolution code, e.g. `A/RES/46/36`.
    pub resolution: Option<String>,
    /// Vote topics: the UN General Assembly session number.
    pub session: Option<u32>,
    /// Issue tags, e.g. `nu` (nuclear weapons), sorted, no duplicates; may be empty.
    pub issues: Vec<String>,
    /// Vote topics: classified as an important vote.
    pub important: Option<bool>,
}

/// `stance.declared`: an actor publicly took a stance on a topic on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanceDeclared {
    /// Who took the stance; must be registered earlier in the log.
    pub actor: ActorId,
    /// On what; must be registered earlier in the log.
    pub topic: TopicId,
    /// The stance; must fit the topic's kind.
    pub stance: Stance,
    /// Valid time: when the stance was stated, as precise as the source gives.
    pub date: ValidDate,
    /// Time of day with offset or zone, when the source gives one (the date stays as stated).
    pub time: Option<TimeOfDay>,
    /// PLOVER event type, where one fits.
    pub event: Option<PloverType>,
    /// The actor the stance was addressed to or aimed at, if any; must be registered.
    pub recipient: Option<ActorId>,
    /// Verbatim quote, when the source quotes one.
    pub quote: Option<String>,
    /// Where it was reported.
    pub cite: Cite,
    /// Treaty stances `ratified`: how consent was given, when known.
    pub instrument: Option<Instrument>,
}

/// `stance.retracted`: the report behind a `stance.declared` was withdrawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanceRetracted {
    /// The id of the retracted `stance.declared`.
    pub target: Uuid,
    /// Why, in words.
    pub reason: String,
}

/// The fields a `stance.corrected` replaces; `None` leaves a field as it was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Correction {
    /// Re-attributed to this actor.
    pub actor: Option<ActorId>,
    /// Moved to this topic.
    pub topic: Option<TopicId>,
    /// The stance it should have been.
    pub stance: Option<Stance>,
    /// The date (and time, if any) it should have had.
    pub date: Option<(ValidDate, Option<TimeOfDay>)>,
    /// The quote as it should read.
    pub quote: Option<String>,
    /// The citation as it should read.
    pub cite: Option<Cite>,
    /// The PLOVER event type it should have had.
    pub event: Option<PloverType>,
    /// The treaty instrument it should have had.
    pub instrument: Option<Instrument>,
}

impl Correction {
    /// Names of the fields this correction sets, in format order.
    pub fn fields(&self) -> Vec<&'static str> {
        let all = [
            ("actor", self.actor.is_some()),
            ("topic", self.topic.is_some()),
            ("stance", self.stance.is_some()),
            ("date", self.date.is_some()),
            ("quote", self.quote.is_some()),
            ("cite", self.cite.is_some()),
            ("event", self.event.is_some()),
            ("instrument", self.instrument.is_some()),
        ];
        all.iter()
            .filter(|(_, set)| *set)
            .map(|(n, _)| *n)
            .collect()
    }

    /// [`Correction::apply_to`] a borrowed stance.
    pub fn apply_to_view<'a>(&'a self, s: &mut StanceView<'a>) {
        if let Some(a) = &self.actor {
            s.actor = a.text();
        }
        if let Some(t) = &self.topic {
            s.topic = t.text();
        }
        if let Some(x) = self.stance {
            s.stance = x;
        }
        if let Some((d, t)) = &self.date {
            s.date = *d;
            s.time = t.clone();
        }
        if let Some(q) = &self.quote {
            s.quote = Some(q);
        }
        if let Some(c) = &self.cite {
            s.cite = CiteView::of(c);
        }
        if let Some(e) = self.event {
            s.event = Some(e);
        }
        if let Some(i) = self.instrument {
            s.instrument = Some(i);
        }
    }

    /// Applies the correction to a stance.
    pub fn apply_to(&self, s: &mut StanceDeclared) {
        let corrected = {
            let mut v = StanceView::of(s);
            self.apply_to_view(&mut v);
            v.to_declared()
        };
        *s = corrected;
    }
}

/// `stance.corrected`: we coded a stance wrong; these fields replace the target's from now on
/// (in recorded time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanceCorrected {
    /// The id of the corrected `stance.declared`.
    pub target: Uuid,
    /// The corrected fields; at least one.
    pub correction: Correction,
    /// Why, in words.
    pub reason: String,
}

/// `stance.cited`: another report of a stance already in the log. Adds a source, not a
/// position change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanceCited {
    /// The id of the `stance.declared` reported again.
    pub target: Uuid,
    /// The further report.
    pub cite: Cite,
    /// Its quote, if it quotes the statement.
    pub quote: Option<String>,
}

/// `actor.aliased`: `alias` is another id of the same actor as `actor` (a spelling variant or
/// transliteration registered separately). Queries by either id find the same positions,
/// reported under `actor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorAliased {
    /// The id positions are reported under.
    pub actor: ActorId,
    /// The other id.
    pub alias: ActorId,
}

/// `actor.role`: an actor held a role (title in an organisation) from a date, until a date if
/// given (both inclusive, valid time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorRole {
    /// Who.
    pub actor: ActorId,
    /// The title, e.g. `Minister of Foreign Affairs`.
    pub title: String,
    /// The organisation, e.g. `Ministry of Foreign Affairs (South Korea)`, if given.
    pub organisation: Option<String>,
    /// First day in the role (a partial date counts from its first day).
    pub from: ValidDate,
    /// Last day in the role, if it ended (a partial date counts to its last day).
    pub to: Option<ValidDate>,
}

/// The body of an event: its type and that type's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventBody {
    /// `actor.registered`
    ActorRegistered(ActorRegistered),
    /// `topic.registered`
    TopicRegistered(TopicRegistered),
    /// `stance.declared`
    StanceDeclared(StanceDeclared),
    /// `stance.retracted`
    StanceRetracted(StanceRetracted),
    /// `stance.corrected`
    StanceCorrected(StanceCorrected),
    /// `stance.cited`
    StanceCited(StanceCited),
    /// `actor.aliased`
    ActorAliased(ActorAliased),
    /// `actor.role`
    ActorRole(ActorRole),
}

impl EventBody {
    /// The event type's wire name, e.g. `stance.declared`.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventBody::ActorRegistered(_) => "actor.registered",
            EventBody::TopicRegistered(_) => "topic.registered",
            EventBody::StanceDeclared(_) => "stance.declared",
            EventBody::StanceRetracted(_) => "stance.retracted",
            EventBody::StanceCorrected(_) => "stance.corrected",
            EventBody::StanceCited(_) => "stance.cited",
            EventBody::ActorAliased(_) => "actor.aliased",
            EventBody::ActorRole(_) => "actor.role",
        }
    }

    /// The id of the stance this event is about: the `target` of a correction, retraction or
    /// citation; `None` for other events.
    pub fn target(&self) -> Option<Uuid> {
        match self {
            EventBody::StanceRetracted(r) => Some(r.target),
            EventBody::StanceCorrected(c) => Some(c.target),
            EventBody::StanceCited(c) => Some(c.target),
            _ => None,
        }
    }
}

/// What the log assigned an event on append, without its body: a position's deciding event
/// ([`Position::event`](super::Position::event)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventMeta {
    /// Position in the log.
    pub seq: Seq,
    /// Unique id.
    pub id: Uuid,
    /// Recorded (transaction) time in UTC.
    pub recorded_at: jiff::Timestamp,
}

/// An event as stored in the log: body plus what the log assigned on append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Position in the log, contiguous from 1.
    pub seq: Seq,
    /// Unique id (UUID; v7 when the writer gave none).
    pub id: Uuid,
    /// Recorded (transaction) time in UTC, assigned on append; non-decreasing with `seq`.
    pub recorded_at: jiff::Timestamp,
    /// Type and fields.
    pub body: EventBody,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every ASCII character is judged in an id as the rule by characters judges it (the
    /// byte-by-byte path ASCII ids take), and a non-ASCII id as before.
    #[test]
    fn ascii_ids_are_checked_as_the_character_rule_checks_them() {
        for b in 0u8..0x80 {
            let c = char::from(b);
            let text = format!("a{c}b");
            let want = !(c.is_whitespace() || c.is_control());
            assert_eq!(check_id(&text).is_ok(), want, "{b:#04x}");
            assert_eq!(IdText::new(&text).is_ok(), want, "{b:#04x}");
            assert_eq!(ActorId::new(&text).is_ok(), want, "{b:#04x}");
        }
        assert!(check_id("kor-mnd").is_ok());
        assert!(check_id("김정은").is_ok());
        assert!(check_id("a\u{a0}b").is_err());
        assert!(check_id("a\u{85}b").is_err());
        assert!(check_id("").is_err());
        assert!(check_id(&"x".repeat(ID_BYTES_MAX)).is_ok());
        assert!(check_id(&"x".repeat(ID_BYTES_MAX + 1)).is_err());
        assert!(IdText::new("").is_err());
        assert!(IdText::new(&"x".repeat(ID_BYTES_MAX)).is_ok());
        assert!(IdText::new(&"x".repeat(ID_BYTES_MAX + 1)).is_err());
        // Decomposed Hangul: owned ids compose it, the borrowed form refuses it.
        let decomposed = "\u{1100}\u{1161}";
        assert_eq!(ActorId::new(decomposed).unwrap().as_str(), "\u{ac00}");
        assert!(IdText::new(decomposed).is_err());
    }
}
