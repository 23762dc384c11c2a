//! The integration tests, compiled into one binary.

mod support;

mod bad_input;
mod bitemporal;
mod cli_seed;
mod durability;
mod import_treaty;
mod properties;
#[cfg(feature = "real-data")]
mod real_data;
mod snapshots;
