//! The pure core: domain types, the fold, replay to a date, diff and timeline, and the analysis
//! over them (agreement measures, trends).
//!
//! Invariant: nothing in this module touches the file system, serde or the clock. Times are
//! values handed in by the caller; failure here is a [`Rejection`] of a new event or a date or id
//! that does not parse, never I/O.

mod analysis;
mod date;
mod domain;
mod history;
mod measures;
mod order;
mod query;
mod subject;
mod text;

pub use analysis::{By, Holders, PairTally, Selection, StanceCount};
pub use date::{DateError, Day, Precision, TimeOfDay, ValidDate, parse_stated, put_digits};
pub use domain::{
    ActorAliased, ActorId, ActorKind, ActorRegistered, ActorRole, Cite, CiteView, Correction,
    Country, Event, EventBody, EventMeta, ID_BYTES_MAX, IdError, IdText, Instrument, PloverType,
    Sector, Seq, Stance, StanceCited, StanceCorrected, StanceDeclared, StanceRetracted, StanceView,
    TopicId, TopicKind, TopicRegistered, nfc,
};
pub(crate) use history::hash_id;
pub use history::{ActorEntry, History, Rejection, TopicEntry};
pub use measures::{Measure, Tally};
pub use order::CanonicalKey;
pub use query::{
    At, Change, ChangeKind, Decided, Filter, Position, PositionView, Status, TimelineDecided,
    TimelineEntry,
};
pub use text::{QUOTE_CHARS_MAX, quoted};
