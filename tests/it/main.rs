//! The integration tests, compiled into one binary.

mod support;

mod cli_seed;
