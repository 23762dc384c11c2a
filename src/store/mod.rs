//! The storage edge: the JSON Lines log file, its records, the hash chain, locking and fsync.

mod backend;
mod batch;
mod canonical;
mod chain;
mod codec;
mod encode;
mod head;
mod holder;
mod index;
mod log;
mod pipeline;
mod postgres;
mod record;
mod watch;
mod writer;

pub use backend::LogRef;
pub use batch::{BATCH_EVENTS_MAX, NewEvent, parse_batch};
pub use chain::{GENESIS_HASH, Hash};
pub(crate) use encode::escaped as escape_json;
pub use head::seq_with_hash;
pub use holder::writer_record_path;
pub use index::{
    BuildLimits, INDEX_VERSION, Index, IndexCheck, IndexReport, IndexUse, cache_root, check_index,
    check_index_of, index_dir, index_path, update_index,
};
pub use log::{LINE_BYTES_MAX, Log, SCHEMA_VERSION_MIN, TailCheck};
pub use postgres::{LOCK_KEY, NOTIFY_CHANNEL, PgLog, SCHEMA_SQL};
pub use record::{
    CiteRecord, EVENT_TYPES, FieldError, Record, SCHEMA_VERSION, format_recorded_at,
    parse_recorded_at, parse_uuid,
};
pub use watch::{CatchUp, FILE_POLL, Follower, PG_REREAD};
pub use writer::{
    AppendOptions, AppendReport, Appended, Writer, append, drop_elsewhere, encode_batch, encode_log,
};
