//! The pure core: domain types, the fold, replay to a date, diff and timeline.
//!
//! Invariant: nothing in this module touches the file system, serde or the clock. Times are
//! values handed in by the caller; failure here is a [`Rejection`] of a new event or a date or id
//! that does not parse, never I/O.

mod date;
mod domain;
mod history;
mod query;

pub use date::{DateError, Day, Precision, ValidDate};
pub use domain::{
    ActorId, ActorKind, ActorRegistered, Cite, Country, Event, EventBody, ID_BYTES_MAX, IdError,
    PloverType, Sector, Seq, Stance, StanceDeclared, StanceRetracted, TopicId, TopicKind,
    TopicRegistered,
};
pub use history::{ActorEntry, History, Rejection, TopicEntry};
pub use query::{Change, ChangeKind, Filter, Position, Status, TimelineEntry};
