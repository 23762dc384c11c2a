//! The integration tests, compiled into one binary.

mod support;

mod bad_input;
mod bitemporal;
mod cli_seed;
mod snapshots;
mod durability;
mod import_treaty;
mod properties;
