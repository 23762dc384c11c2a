//! Placeholder: replaced by the fold/replay benchmarks.
fn main() {}
