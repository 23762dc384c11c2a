//! Output of answers for other tools: typed rows ([`rows`]), their flat columns ([`columns`]),
//! and the writers of JSON Lines ([`write_ndjson`]), CSV ([`write_csv`]) and Parquet
//! ([`write_parquet`]). This is the edge: the core answers queries, this layer shapes and
//! writes the answers. `docs/output.md` documents every column under [`OUTPUT_VERSION`].

pub mod columns;
mod csv;
mod parquet;
pub mod rows;

pub use self::csv::{neutralise, write_csv};
pub use self::parquet::write_parquet;

use std::io::{self, Write};

use serde::Serialize;

/// Version of the documented output columns (`docs/output.md`), carried by every JSON object
/// and row as `output_version`. It changes whenever a column or field is added, removed,
/// renamed or changes type or meaning.
pub const OUTPUT_VERSION: u32 = 1;

/// Writes rows as JSON Lines (NDJSON): one compact JSON object per line, as `--format json`
/// gives them, each ending in `\n`.
///
/// # Errors
/// The writer's I/O errors.
pub fn write_ndjson<T: Serialize>(
    out: &mut dyn Write,
    rows: impl Iterator<Item = T>,
) -> io::Result<()> {
    for r in rows {
        serde_json::to_writer(&mut *out, &r)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
