//! The flat columns of each output, as CSV and Parquet write them: name, type, meaning and how
//! to read the value from a row. One definition serves both writers and the column tables of
//! `docs/output.md` (a test holds the document to these definitions).
//!
//! Flattening rule: a nested object's fields are prefixed by its name (`cite.url` is
//! `cite_url`, `role.title` is `role_title`, a change's `before.stance` is `before_stance`); a
//! list of objects becomes one list column per field (`sources[].publication` is
//! `sources_publication`, one element per source, in order).

use crate::core::Day;
use std::borrow::Cow;

use super::rows::{ActorRow, ChangeRow, EventRow, PositionRow, TimelineRow, TopicRow};

/// The type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text.
    Text,
    /// Text from a small closed vocabulary (Parquet: dictionary-encoded).
    Dict,
    /// A whole number from -1 to 1 (Parquet INT8).
    Int8,
    /// A whole number (Parquet INT64).
    Int64,
    /// True or false.
    Bool,
    /// A calendar date (Parquet DATE).
    Date,
    /// An instant in UTC, microseconds (Parquet TIMESTAMP, UTC).
    Timestamp,
    /// A list of texts (Parquet LIST of strings; CSV `;`-joined).
    TextList,
    /// A list of whole numbers (Parquet LIST of INT64; CSV `;`-joined).
    IntList,
}

impl Kind {
    /// The name of the type in `docs/output.md`.
    pub fn doc_name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Dict => "text (closed vocabulary)",
            Kind::Int8 => "int8",
            Kind::Int64 => "int64",
            Kind::Bool => "boolean",
            Kind::Date => "date",
            Kind::Timestamp => "timestamp (UTC, µs)",
            Kind::TextList => "list of text",
            Kind::IntList => "list of int64",
        }
    }
}

/// One value of a cell, its text borrowed from the row where it can be (`'a`: copying each
/// cell's text was a twentieth of writing a long answer's rows).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// No value (JSON null, an empty CSV cell, a Parquet null).
    Null,
    /// Text.
    Text(Cow<'a, str>),
    /// A whole number.
    Int(i64),
    /// True or false.
    Bool(bool),
    /// A calendar date.
    Date(Day),
    /// An instant.
    Timestamp(jiff::Timestamp),
    /// A list of texts, elements possibly absent.
    Texts(Vec<Option<String>>),
    /// A list of whole numbers.
    Ints(Vec<i64>),
}

/// How a column reads its value from a row.
pub type Getter<R> = Box<dyn for<'r> Fn(&'r R) -> Cell<'r> + Send + Sync>;

/// One output column.
pub struct Column<R> {
    /// Name (the JSON field's, flattened).
    pub name: String,
    /// The name as a pretty JSON object's key, quoted, with its colon and space (`"seq": `):
    /// written as it is (quoting each row's keys afresh was a fiftieth of a long answer).
    pub json_key: String,
    /// Type.
    pub kind: Kind,
    /// Meaning, for `docs/output.md`.
    pub meaning: String,
    /// The value in a row.
    pub get: Getter<R>,
}

fn col<R>(
    name: &str,
    kind: Kind,
    meaning: &str,
    get: impl for<'r> Fn(&'r R) -> Cell<'r> + Send + Sync + 'static,
) -> Column<R> {
    Column {
        name: name.to_string(),
        json_key: format!("\"{name}\": "),
        kind,
        meaning: meaning.to_string(),
        get: Box::new(get),
    }
}

fn text(s: &str) -> Cell<'_> {
    Cell::Text(Cow::Borrowed(s))
}

fn opt(s: &Option<String>) -> Cell<'_> {
    s.as_deref().map_or(Cell::Null, text)
}

fn opt_static(s: Option<&'static str>) -> Cell<'static> {
    s.map_or(Cell::Null, text)
}

fn int(n: u64) -> Cell<'static> {
    Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn opt_int(n: Option<u64>) -> Cell<'static> {
    n.map_or(Cell::Null, int)
}

fn texts(v: &[String]) -> Cell<'static> {
    Cell::Texts(v.iter().map(|s| Some(s.clone())).collect())
}

/// A column as data: name, kind, meaning, getter.
type Spec<R> = (&'static str, Kind, &'static str, fn(&R) -> Cell<'_>);

/// The columns of a position, in order.
const POSITION_SPECS: &[Spec<PositionRow>] = &[
    (
        "actor",
        Kind::Text,
        "actor id the position is reported under (the canonical id when the stance's actor is an alias)",
        |p: &PositionRow| text(&p.actor),
    ),
    (
        "actor_name",
        Kind::Text,
        "the actor's display name",
        |p: &PositionRow| text(&p.actor_name),
    ),
    (
        "role_title",
        Kind::Text,
        "title of the role the actor held on the as-of day (its current role without an as-of day)",
        |p: &PositionRow| p.role.as_ref().map_or(Cell::Null, |r| text(&r.title)),
    ),
    (
        "role_organisation",
        Kind::Text,
        "organisation of that role",
        |p: &PositionRow| p.role.as_ref().map_or(Cell::Null, |r| opt(&r.organisation)),
    ),
    (
        "role_from",
        Kind::Text,
        "first day of that role, as given (YYYY-MM-DD, YYYY-MM or YYYY)",
        |p: &PositionRow| p.role.as_ref().map_or(Cell::Null, |r| text(&r.from)),
    ),
    (
        "role_to",
        Kind::Text,
        "last day of that role, inclusive, as given; null while it lasts",
        |p: &PositionRow| p.role.as_ref().map_or(Cell::Null, |r| opt(&r.to)),
    ),
    ("topic", Kind::Text, "topic id", |p: &PositionRow| {
        text(&p.topic)
    }),
    (
        "topic_title",
        Kind::Text,
        "the topic's title",
        |p: &PositionRow| text(&p.topic_title),
    ),
    (
        "rcid",
        Kind::Int64,
        "UN General Assembly roll-call id (Voeten's `rcid`) of a topic imported from the UN votes (`unvotes-rcid-N`); null otherwise",
        |p: &PositionRow| opt_int(p.rcid),
    ),
    (
        "stance",
        Kind::Dict,
        "the stance (events/README.md, stance vocabulary)",
        |p: &PositionRow| text(p.stance),
    ),
    (
        "polarity",
        Kind::Int8,
        "+1 for, -1 against, 0 neither (events/README.md)",
        |p: &PositionRow| Cell::Int(i64::from(p.polarity)),
    ),
    (
        "since",
        Kind::Text,
        "the stated date exactly as given: YYYY-MM-DD, YYYY-MM or YYYY, with `T` and the time of day if stated",
        |p: &PositionRow| text(&p.since),
    ),
    (
        "since_date",
        Kind::Date,
        "the first day the stance takes effect: `since` itself for a full date, the first day of the month or year for a partial one",
        |p: &PositionRow| Cell::Date(p.since_date),
    ),
    (
        "since_precision",
        Kind::Dict,
        "how much of the date the source gave: `day`, `month` or `year`",
        |p: &PositionRow| text(p.since_precision),
    ),
    (
        "since_time",
        Kind::Text,
        "the stated time of day with its UTC offset and/or [IANA zone], if the source gives one (e.g. `23:30:00+09:00`)",
        |p: &PositionRow| opt(&p.since_time),
    ),
    (
        "event",
        Kind::Dict,
        "PLOVER event type",
        |p: &PositionRow| opt_static(p.event),
    ),
    (
        "instrument",
        Kind::Dict,
        "treaty stances `ratified`: ratification, acceptance, approval or accession",
        |p: &PositionRow| opt_static(p.instrument),
    ),
    (
        "recipient",
        Kind::Text,
        "actor id the stance was addressed to or aimed at",
        |p: &PositionRow| opt(&p.recipient),
    ),
    ("quote", Kind::Text, "verbatim quote", |p: &PositionRow| {
        opt(&p.quote)
    }),
    (
        "cite_publication",
        Kind::Text,
        "the outlet, agency, record or data set of the deciding report",
        |p: &PositionRow| text(&p.cite.publication),
    ),
    ("cite_url", Kind::Text, "its address", |p: &PositionRow| {
        opt(&p.cite.url)
    }),
    (
        "cite_title",
        Kind::Text,
        "its title or headline",
        |p: &PositionRow| opt(&p.cite.title),
    ),
    (
        "cite_published",
        Kind::Text,
        "its publication date, as given",
        |p: &PositionRow| opt(&p.cite.published),
    ),
    (
        "cite_via",
        Kind::Text,
        "the outlet it relays",
        |p: &PositionRow| opt(&p.cite.via),
    ),
    (
        "sources_seq",
        Kind::IntList,
        "every report of the statement, the original first: seq of each reporting event",
        |p: &PositionRow| {
            Cell::Ints(
                p.sources
                    .iter()
                    .map(|s| i64::try_from(s.seq).unwrap_or(i64::MAX))
                    .collect(),
            )
        },
    ),
    (
        "sources_quote",
        Kind::TextList,
        "each report's quote (empty element: none)",
        |p: &PositionRow| Cell::Texts(p.sources.iter().map(|s| s.quote.clone()).collect()),
    ),
    (
        "sources_publication",
        Kind::TextList,
        "each report's publication",
        |p: &PositionRow| {
            Cell::Texts(
                p.sources
                    .iter()
                    .map(|s| Some(s.cite.publication.clone()))
                    .collect(),
            )
        },
    ),
    (
        "sources_url",
        Kind::TextList,
        "each report's address",
        |p: &PositionRow| Cell::Texts(p.sources.iter().map(|s| s.cite.url.clone()).collect()),
    ),
    (
        "sources_title",
        Kind::TextList,
        "each report's title",
        |p: &PositionRow| Cell::Texts(p.sources.iter().map(|s| s.cite.title.clone()).collect()),
    ),
    (
        "sources_published",
        Kind::TextList,
        "each report's publication date, as given",
        |p: &PositionRow| Cell::Texts(p.sources.iter().map(|s| s.cite.published.clone()).collect()),
    ),
    (
        "sources_via",
        Kind::TextList,
        "the outlet each report relays",
        |p: &PositionRow| Cell::Texts(p.sources.iter().map(|s| s.cite.via.clone()).collect()),
    ),
    (
        "corrections_seq",
        Kind::IntList,
        "the corrections applied, in log order: seq of each `stance.corrected`",
        |p: &PositionRow| {
            Cell::Ints(
                p.corrections
                    .iter()
                    .map(|c| i64::try_from(c.seq).unwrap_or(i64::MAX))
                    .collect(),
            )
        },
    ),
    (
        "corrections_fields",
        Kind::TextList,
        "the fields each correction replaced, `,`-joined (`actor,date`)",
        |p: &PositionRow| {
            Cell::Texts(
                p.corrections
                    .iter()
                    .map(|c| Some(c.fields.join(",")))
                    .collect(),
            )
        },
    ),
    (
        "corrections_reason",
        Kind::TextList,
        "each correction's reason",
        |p: &PositionRow| {
            Cell::Texts(
                p.corrections
                    .iter()
                    .map(|c| Some(c.reason.clone()))
                    .collect(),
            )
        },
    ),
    (
        "corrections_recorded_at",
        Kind::TextList,
        "each correction's recorded time, RFC 3339 UTC",
        |p: &PositionRow| {
            Cell::Texts(
                p.corrections
                    .iter()
                    .map(|c| Some(crate::store::format_recorded_at(&c.recorded_at)))
                    .collect(),
            )
        },
    ),
    (
        "declared_as",
        Kind::Text,
        "the actor id the stance was declared under, when it is reported under another (an alias link)",
        |p: &PositionRow| opt(&p.declared_as),
    ),
    (
        "seq",
        Kind::Int64,
        "seq of the deciding `stance.declared`",
        |p: &PositionRow| int(p.seq),
    ),
    (
        "event_id",
        Kind::Text,
        "its event id (UUID)",
        |p: &PositionRow| text(&p.event_id),
    ),
    (
        "recorded_at",
        Kind::Timestamp,
        "its recorded time (UTC); text columns and JSON give it as RFC 3339 with six fractional digits and `Z`",
        |p: &PositionRow| Cell::Timestamp(p.recorded_at),
    ),
];

/// The columns of a position, read through `pos` (which gives `None` where a change has no
/// position on that side: every column is then null), named with `prefix`.
fn position_columns<R: 'static>(
    prefix: &str,
    pos: fn(&R) -> Option<&PositionRow>,
) -> Vec<Column<R>> {
    POSITION_SPECS
        .iter()
        .map(|&(name, kind, meaning, get)| {
            col(&format!("{prefix}{name}"), kind, meaning, move |r: &R| {
                pos(r).map_or(Cell::Null, get)
            })
        })
        .collect()
}

fn version<R: 'static>(get: fn(&R) -> Option<u32>) -> Column<R> {
    col(
        "output_version",
        Kind::Int64,
        "version of these columns (docs/output.md); changes when a column does",
        move |r| Cell::Int(i64::from(get(r).unwrap_or(super::OUTPUT_VERSION))),
    )
}

/// The columns of `positions`.
pub fn positions() -> Vec<Column<PositionRow>> {
    let mut v = vec![version(|p: &PositionRow| p.output_version)];
    // The getters themselves, not wrapped as a change's are (the wrapper and the cells it
    // passed on were 2% of a query of every pair).
    v.extend(
        POSITION_SPECS
            .iter()
            .map(|&(name, kind, meaning, get)| col(name, kind, meaning, get)),
    );
    v
}

/// The columns of `timeline`: the status, then the position's.
pub fn timeline() -> Vec<Column<TimelineRow>> {
    let mut v = vec![
        version(|t: &TimelineRow| t.position.output_version),
        col(
            "status",
            Kind::Dict,
            "`current`, `superseded` (a later stance of the same actor on the topic decides) or `retracted`",
            |t: &TimelineRow| text(t.status),
        ),
        col(
            "superseded_by",
            Kind::Int64,
            "seq of the stance that superseded it",
            |t: &TimelineRow| opt_int(t.superseded_by),
        ),
        col(
            "retracted_by",
            Kind::Int64,
            "seq of the `stance.retracted`",
            |t: &TimelineRow| opt_int(t.retracted_by),
        ),
        col(
            "retraction_reason",
            Kind::Text,
            "its reason",
            |t: &TimelineRow| opt(&t.retraction_reason),
        ),
    ];
    v.extend(position_columns("", |t: &TimelineRow| Some(&t.position)));
    v
}

/// The columns of `diff`: the pair and the change, then each side's position columns, prefixed
/// `before_` and `after_` (all null on the side without a position).
pub fn diff() -> Vec<Column<ChangeRow>> {
    let mut v = vec![
        version(|c: &ChangeRow| Some(c.output_version)),
        col("actor", Kind::Text, "actor id", |c: &ChangeRow| {
            text(&c.actor)
        }),
        col(
            "actor_name",
            Kind::Text,
            "its display name",
            |c: &ChangeRow| text(&c.actor_name),
        ),
        col("topic", Kind::Text, "topic id", |c: &ChangeRow| {
            text(&c.topic)
        }),
        col("topic_title", Kind::Text, "its title", |c: &ChangeRow| {
            text(&c.topic_title)
        }),
        col(
            "rcid",
            Kind::Int64,
            "UN roll-call id of the topic, if it is one",
            |c: &ChangeRow| opt_int(c.rcid),
        ),
        col(
            "change",
            Kind::Dict,
            "`added`, `changed` or `removed`",
            |c: &ChangeRow| text(c.change),
        ),
    ];
    v.extend(position_columns("before_", |c: &ChangeRow| {
        c.before.as_ref()
    }));
    v.extend(position_columns("after_", |c: &ChangeRow| c.after.as_ref()));
    v
}

/// The columns of `actors`.
pub fn actors() -> Vec<Column<ActorRow>> {
    vec![
        version(|a: &ActorRow| Some(a.output_version)),
        col("actor", Kind::Text, "actor id", |a: &ActorRow| {
            text(&a.actor)
        }),
        col("name", Kind::Text, "display name", |a: &ActorRow| {
            text(&a.name)
        }),
        col(
            "kind",
            Kind::Dict,
            "person, state, government, agency, legislature, military, party, organization, media",
            |a: &ActorRow| text(a.kind),
        ),
        col(
            "country",
            Kind::Dict,
            "ISO 3166-1 alpha-3 code, a former ISO 3166-3 code, or IGO / NGO",
            |a: &ActorRow| text(&a.country),
        ),
        col(
            "sector",
            Kind::Dict,
            "CAMEO actor role (sector) code",
            |a: &ActorRow| text(a.sector),
        ),
        col(
            "aliases",
            Kind::TextList,
            "other names and transliterations",
            |a: &ActorRow| texts(&a.aliases),
        ),
        col(
            "stances",
            Kind::Int64,
            "stances declared by the actor (retracted ones included)",
            |a: &ActorRow| int(a.stances),
        ),
        col(
            "retracted",
            Kind::Int64,
            "of which retracted",
            |a: &ActorRow| int(a.retracted),
        ),
        col(
            "seq",
            Kind::Int64,
            "seq of the registration",
            |a: &ActorRow| int(a.seq),
        ),
    ]
}

/// The columns of `topics`.
pub fn topics() -> Vec<Column<TopicRow>> {
    vec![
        version(|t: &TopicRow| Some(t.output_version)),
        col("topic", Kind::Text, "topic id", |t: &TopicRow| {
            text(&t.topic)
        }),
        col(
            "title",
            Kind::Text,
            "the policy, claim, vote or treaty in words",
            |t: &TopicRow| text(&t.title),
        ),
        col(
            "kind",
            Kind::Dict,
            "policy, claim, vote or treaty",
            |t: &TopicRow| text(t.kind),
        ),
        col(
            "resolution",
            Kind::Text,
            "vote topics: resolution code (`A/RES/46/36`)",
            |t: &TopicRow| opt(&t.resolution),
        ),
        col(
            "session",
            Kind::Int64,
            "vote topics: UN General Assembly session",
            |t: &TopicRow| opt_int(t.session.map(u64::from)),
        ),
        col(
            "issues",
            Kind::TextList,
            "issue tags (`nu`, `hr`, ...)",
            |t: &TopicRow| texts(&t.issues),
        ),
        col(
            "important",
            Kind::Bool,
            "vote topics: an important vote (US State Department)",
            |t: &TopicRow| t.important.map_or(Cell::Null, Cell::Bool),
        ),
        col(
            "rcid",
            Kind::Int64,
            "UN roll-call id (`unvotes-rcid-N` topics); null otherwise",
            |t: &TopicRow| opt_int(t.rcid),
        ),
        col(
            "stances",
            Kind::Int64,
            "stances on the topic (retracted ones included)",
            |t: &TopicRow| int(t.stances),
        ),
        col(
            "retracted",
            Kind::Int64,
            "of which retracted",
            |t: &TopicRow| int(t.retracted),
        ),
        col(
            "seq",
            Kind::Int64,
            "seq of the registration",
            |t: &TopicRow| int(t.seq),
        ),
    ]
}

/// The columns of an event, in order.
const EVENT_SPECS: &[Spec<EventRow>] = &[
    ("seq", Kind::Int64, "sequence number", |e: &EventRow| {
        int(e.seq)
    }),
    ("id", Kind::Text, "event id (UUID)", |e: &EventRow| {
        text(&e.id)
    }),
    (
        "recorded_at",
        Kind::Timestamp,
        "recorded time (UTC)",
        |e: &EventRow| Cell::Timestamp(e.recorded_at),
    ),
    ("type", Kind::Dict, "event type", |e: &EventRow| {
        text(e.type_name)
    }),
    ("actor", Kind::Text, "actor id", |e: &EventRow| {
        opt(&e.fields.actor)
    }),
    (
        "alias",
        Kind::Text,
        "`actor.aliased`: the other id",
        |e: &EventRow| opt(&e.fields.alias),
    ),
    (
        "aliases",
        Kind::TextList,
        "`actor.registered`: other names",
        |e: &EventRow| texts(&e.fields.aliases),
    ),
    ("topic", Kind::Text, "topic id", |e: &EventRow| {
        opt(&e.fields.topic)
    }),
    (
        "rcid",
        Kind::Int64,
        "UN roll-call id of the topic, if it is one",
        |e: &EventRow| opt_int(e.fields.rcid),
    ),
    ("name", Kind::Text, "actor name", |e: &EventRow| {
        opt(&e.fields.name)
    }),
    (
        "title",
        Kind::Text,
        "topic title, or a role's title",
        |e: &EventRow| opt(&e.fields.title),
    ),
    ("kind", Kind::Dict, "actor or topic kind", |e: &EventRow| {
        opt(&e.fields.kind)
    }),
    (
        "country",
        Kind::Dict,
        "actor country code",
        |e: &EventRow| opt(&e.fields.country),
    ),
    ("sector", Kind::Dict, "actor sector code", |e: &EventRow| {
        opt(&e.fields.sector)
    }),
    (
        "resolution",
        Kind::Text,
        "vote topics: resolution code",
        |e: &EventRow| opt(&e.fields.resolution),
    ),
    (
        "session",
        Kind::Int64,
        "vote topics: session",
        |e: &EventRow| opt_int(e.fields.session.map(u64::from)),
    ),
    (
        "issues",
        Kind::TextList,
        "topic issue tags",
        |e: &EventRow| texts(&e.fields.issues),
    ),
    (
        "important",
        Kind::Bool,
        "vote topics: important vote",
        |e: &EventRow| e.fields.important.map_or(Cell::Null, Cell::Bool),
    ),
    ("stance", Kind::Dict, "the stance", |e: &EventRow| {
        opt(&e.fields.stance)
    }),
    (
        "date",
        Kind::Text,
        "valid date as given (with its time of day, if stated)",
        |e: &EventRow| opt(&e.fields.date),
    ),
    (
        "date_day",
        Kind::Date,
        "first day of `date`",
        |e: &EventRow| e.fields.date_day.map_or(Cell::Null, Cell::Date),
    ),
    (
        "date_precision",
        Kind::Dict,
        "`day`, `month` or `year`",
        |e: &EventRow| opt_static(e.fields.date_precision),
    ),
    ("event", Kind::Dict, "PLOVER event type", |e: &EventRow| {
        opt(&e.fields.event)
    }),
    (
        "recipient",
        Kind::Text,
        "recipient actor id",
        |e: &EventRow| opt(&e.fields.recipient),
    ),
    ("quote", Kind::Text, "verbatim quote", |e: &EventRow| {
        opt(&e.fields.quote)
    }),
    (
        "instrument",
        Kind::Dict,
        "treaty instrument",
        |e: &EventRow| opt(&e.fields.instrument),
    ),
    (
        "cite_publication",
        Kind::Text,
        "`cite.publication`",
        |e: &EventRow| opt(&e.fields.cite_publication),
    ),
    ("cite_url", Kind::Text, "`cite.url`", |e: &EventRow| {
        opt(&e.fields.cite_url)
    }),
    ("cite_title", Kind::Text, "`cite.title`", |e: &EventRow| {
        opt(&e.fields.cite_title)
    }),
    (
        "cite_published",
        Kind::Text,
        "`cite.published`, as given",
        |e: &EventRow| opt(&e.fields.cite_published),
    ),
    ("cite_via", Kind::Text, "`cite.via`", |e: &EventRow| {
        opt(&e.fields.cite_via)
    }),
    (
        "target",
        Kind::Text,
        "retractions, corrections, citations: the target event id",
        |e: &EventRow| opt(&e.fields.target),
    ),
    (
        "reason",
        Kind::Text,
        "retractions, corrections: why",
        |e: &EventRow| opt(&e.fields.reason),
    ),
    (
        "organisation",
        Kind::Text,
        "`actor.role`: organisation",
        |e: &EventRow| opt(&e.fields.organisation),
    ),
    (
        "from",
        Kind::Text,
        "`actor.role`: first day, as given",
        |e: &EventRow| opt(&e.fields.from),
    ),
    (
        "to",
        Kind::Text,
        "`actor.role`: last day, as given",
        |e: &EventRow| opt(&e.fields.to),
    ),
];

/// The columns of `events`: every field of the log format (events/README.md), flattened.
pub fn events() -> Vec<Column<EventRow>> {
    let mut v = vec![version(|e: &EventRow| Some(e.output_version))];
    v.extend(EVENT_SPECS.iter().map(|&(n, k, m, g)| col(n, k, m, g)));
    v
}

/// The columns named in `names` (`--columns`), in that order: each a column of `cols` by its
/// flat name (`since_date`, `before_stance`).
///
/// # Errors
/// A name that is not a column of `cols`, or one named twice, in words that list every column
/// of `cols` (the caller calls it a usage error).
pub fn select<R>(cols: Vec<Column<R>>, names: &[String]) -> Result<Vec<Column<R>>, String> {
    let all: Vec<String> = cols.iter().map(|c| c.name.clone()).collect();
    let mut slots: Vec<Option<Column<R>>> = cols.into_iter().map(Some).collect();
    let mut chosen = Vec::with_capacity(names.len());
    if names.iter().all(|n| n.trim().is_empty()) {
        return Err(format!(
            "no column named; the columns of this answer are: {}",
            all.join(",")
        ));
    }
    for name in names.iter().map(|n| n.trim()) {
        let Some(i) = all.iter().position(|c| c == name) else {
            return Err(unknown_column(name, &all));
        };
        match slots[i].take() {
            Some(c) => chosen.push(c),
            None => return Err(format!("`{name}` is named twice")),
        }
    }
    Ok(chosen)
}

/// Why `name` is not one of the columns `all`, listing them, with the columns whose names
/// contain it as likely meant (`name` -> `actor_name`).
fn unknown_column(name: &str, all: &[String]) -> String {
    let list = all.join(",");
    if name.is_empty() {
        return format!(
            "an empty name (two commas in a row, or one at an end); the columns of this answer are: {list}"
        );
    }
    let near: Vec<String> = all
        .iter()
        .filter(|c| c.contains(name))
        .map(|c| format!("`{c}`"))
        .collect();
    let hint = match near.len() {
        0 => String::new(),
        _ => format!(" (did you mean {}?)", near.join(" or ")),
    };
    format!("`{name}` is not a column of this answer{hint}; its columns are: {list}")
}

/// A cell as plain text, as a table shows it and CSV writes it before neutralising formulas:
/// nothing for null, dates `YYYY-MM-DD`, recorded times RFC 3339, lists `;`-joined with `\`
/// and `;` inside an element escaped as `\\` and `\;` (an absent element empty).
pub fn plain_text(c: Cell<'_>) -> String {
    match c {
        Cell::Null => String::new(),
        Cell::Text(t) => t.into_owned(),
        Cell::Int(n) => n.to_string(),
        Cell::Bool(b) => b.to_string(),
        Cell::Date(d) => d.to_string(),
        Cell::Timestamp(t) => crate::store::format_recorded_at(&t),
        Cell::Texts(v) => {
            let mut s = String::new();
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    s.push(';');
                }
                for ch in x.as_deref().unwrap_or("").chars() {
                    if ch == '\\' || ch == ';' {
                        s.push('\\');
                    }
                    s.push(ch);
                }
            }
            s
        }
        Cell::Ints(v) => v.iter().map(i64::to_string).collect::<Vec<_>>().join(";"),
    }
}

/// The columns as a Markdown table (name, type, meaning), as `docs/output.md` lists them.
pub fn markdown<R>(cols: &[Column<R>]) -> String {
    let mut s = String::from("| column | type | meaning |\n| --- | --- | --- |\n");
    for c in cols {
        s.push_str(&format!(
            "| `{}` | {} | {} |\n",
            c.name,
            c.kind.doc_name(),
            c.meaning.replace('|', "\\|")
        ));
    }
    s
}

/// Every output's name and its columns as a Markdown table, in the order `docs/output.md`
/// gives them.
pub fn all_markdown() -> Vec<(&'static str, String)> {
    vec![
        ("positions", markdown(&positions())),
        ("timeline", markdown(&timeline())),
        ("diff", markdown(&diff())),
        ("actors", markdown(&actors())),
        ("topics", markdown(&topics())),
        ("events", markdown(&events())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/output.md` lists every column of every output as the definitions here give them:
    /// between `<!-- columns: NAME -->` and `<!-- end columns -->`.
    #[test]
    fn docs_output_md_lists_every_column_as_defined() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/output.md");
        let doc = std::fs::read_to_string(path).expect("docs/output.md");
        let mut wrong = Vec::new();
        for (name, table) in all_markdown() {
            let start = format!("<!-- columns: {name} -->\n");
            let listed = doc.find(&start).and_then(|i| {
                let rest = &doc[i + start.len()..];
                rest.find("<!-- end columns -->").map(|j| &rest[..j])
            });
            if listed != Some(table.as_str()) {
                wrong.push(format!("{start}{table}<!-- end columns -->"));
            }
        }
        assert!(
            wrong.is_empty(),
            "docs/output.md does not list these columns as defined; expected:\n\n{}",
            wrong.join("\n\n")
        );
    }

    #[test]
    fn every_output_starts_with_its_version_and_names_are_unique() {
        for (name, table) in all_markdown() {
            let names: Vec<&str> = table
                .lines()
                .skip(2)
                .map(|l| l.split('`').nth(1).unwrap())
                .collect();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), names.len(), "{name}: a column name repeats");
            assert_eq!(names[0], "output_version", "{name}");
        }
    }
}
