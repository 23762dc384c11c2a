//! Coded event data.
