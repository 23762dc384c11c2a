//! The storage edge: the JSON Lines log file, its records, locking and fsync.

mod log;
mod record;

pub use log::{
    AppendOptions, AppendReport, Appended, BATCH_EVENTS_MAX, LINE_BYTES_MAX, Log, NewEvent, append,
    parse_batch,
};
pub use record::{
    CiteRecord, EVENT_TYPES, FieldError, Record, SCHEMA_VERSION, format_recorded_at,
    parse_recorded_at, parse_uuid,
};
