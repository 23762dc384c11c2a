//! The integration tests, compiled into one binary.

mod support;

mod analysis;
mod backends;
mod bad_input;
mod bitemporal;
#[cfg(feature = "browser")]
mod browser;
mod cli_seed;
mod durability;
mod import_coded;
mod import_csv;
mod import_index;
mod import_mapping;
mod import_treaty;
mod import_unvotes;
mod index;
mod index_analysis;
mod json_rows;
mod new_user;
mod output;
#[cfg(feature = "duckdb")]
mod parquet;
#[cfg(feature = "postgres")]
mod pg;
#[cfg(feature = "postgres")]
mod pg_cache;
mod properties;
#[cfg(feature = "real-data")]
mod real_analysis;
#[cfg(feature = "real-data")]
mod real_data;
mod record;
mod report;
mod watch;
