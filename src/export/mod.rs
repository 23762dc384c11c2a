//! Output of answers for other tools: typed rows ([`rows`]), their flat columns ([`columns`]),
//! and the writers of JSON Lines ([`write_ndjson`]), CSV ([`write_csv`]) and Parquet
//! ([`write_parquet`]). This is the edge: the core answers queries, this layer shapes and
//! writes the answers. `docs/output.md` documents every column under [`OUTPUT_VERSION`].

pub mod columns;
mod csv;
pub mod json;
mod parquet;
pub mod rows;

pub use self::csv::{csv_err, neutralise, write_csv};
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
    let mut w = Chunked::new(out);
    for r in rows {
        serde_json::to_writer(&mut w, &r)?;
        w.write_all(b"\n")?;
    }
    w.finish()
}

/// Bytes gathered in a buffer of its own and passed on to `out` a chunk at a time. A
/// serializer writes many small pieces (a quote, a key, a comma); through `&mut dyn Write`
/// each is a call that cannot be inlined, into a buffer it is a copy. Call
/// [`Chunked::finish`] at the end: what is still buffered when it is dropped is lost.
pub struct Chunked<'a> {
    buf: Vec<u8>,
    out: &'a mut dyn Write,
}

/// How many bytes [`Chunked`] gathers before it writes them on.
const CHUNK: usize = 1 << 16;

impl<'a> Chunked<'a> {
    /// An empty buffer in front of `out`.
    pub fn new(out: &'a mut dyn Write) -> Chunked<'a> {
        Chunked {
            buf: Vec::with_capacity(CHUNK + CHUNK / 4),
            out,
        }
    }

    /// A buffer in front of `out` that starts as `buf` (its bytes kept): for a writer that
    /// gathers all it writes in a buffer of the caller's, with room reserved already.
    pub fn with_buf(out: &'a mut dyn Write, buf: Vec<u8>) -> Chunked<'a> {
        Chunked { buf, out }
    }

    /// The buffer, to append to directly (then call [`Chunked::spill`] now and then).
    pub fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Writes the buffer on to `out` once it holds a chunk.
    ///
    /// # Errors
    /// The writer's I/O errors.
    #[inline]
    pub fn spill(&mut self) -> io::Result<()> {
        if self.buf.len() >= CHUNK {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes what is buffered on to `out`.
    ///
    /// # Errors
    /// The writer's I/O errors.
    pub fn finish(mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

impl Write for Chunked<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.write_all(bytes)?;
        Ok(bytes.len())
    }

    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(bytes);
        self.spill()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }
}
