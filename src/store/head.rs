//! Finding a noted head hash in a log: what `verify --expect-head` checks.
//!
//! A hash chain shows that no record was changed, but not that none was cut off: a log
//! truncated at a batch boundary is a valid, shorter log. Only a head hash noted earlier
//! detects that, by being the stored hash of some record of the log as it is now.

use std::io::Read;
use std::path::Path;

use super::chain::{HASH_KEY, Hash};
use super::log::{CHUNK_BYTES, open_read};
use crate::core::Seq;
use crate::error::{Error, Result};

/// The seq of the record whose stored hash is `hash`, among the first `len` bytes of the log
/// at `path`, if there is one; `Some(0)` for the hash before the first record (64 zeros).
///
/// Meant for a log already read without error (so its lines are records, one per line, seq 1
/// first) and its complete batches' length. A schema-1 record stores no hash: a head noted right
/// after one is not found.
///
/// # Errors
/// [`Error::Usage`] when there is no file at `path`; [`Error::Io`] when it cannot be read.
pub fn seq_with_hash(path: &Path, hash: &Hash, len: u64) -> Result<Option<Seq>> {
    seq_with_hash_in(path, hash, len, CHUNK_BYTES)
}

/// [`seq_with_hash`], reading `chunk_bytes` at a time.
fn seq_with_hash_in(path: &Path, hash: &Hash, len: u64, chunk_bytes: usize) -> Result<Option<Seq>> {
    if *hash == super::GENESIS_HASH {
        return Ok(Some(0));
    }
    let mut needle = HASH_KEY.to_vec();
    needle.extend_from_slice(hash.to_hex().as_bytes());
    needle.push(b'"');
    let finder = memchr::memmem::Finder::new(&needle);
    let mut file = open_read(path)?.take(len);
    // The bytes not yet searched past, and the lines that ended before them.
    let mut buf = Vec::with_capacity(chunk_bytes + needle.len());
    let mut lines_before: u64 = 0;
    loop {
        let start = buf.len();
        buf.resize(start + chunk_bytes, 0);
        let n = file
            .read(&mut buf[start..])
            .map_err(|e| Error::io(path.display(), e))?;
        buf.truncate(start + n);
        if let Some(i) = finder.find(&buf) {
            let line = lines_before + memchr::memchr_iter(b'\n', &buf[..i]).count() as u64;
            return Ok(Some(line + 1));
        }
        if n == 0 {
            return Ok(None);
        }
        // Keep what could be the start of a match across the next read.
        let keep = buf.len().saturating_sub(needle.len() - 1);
        lines_before += memchr::memchr_iter(b'\n', &buf[..keep]).count() as u64;
        buf.drain(..keep);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Log;

    #[test]
    fn every_stored_hash_of_the_seed_log_is_found_at_its_seq() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed.jsonl");
        let seed = include_bytes!("../../events/dprk-russia-2024.jsonl");
        std::fs::write(&path, seed).unwrap();
        let len = seed.len() as u64;
        for (i, line) in seed
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .enumerate()
        {
            let hash = super::super::log::stored_hash(line).unwrap();
            // Matches cut across reads as well.
            for chunk in [1, 75, 1000, CHUNK_BYTES] {
                let seq = seq_with_hash_in(&path, &hash, len, chunk).unwrap();
                assert_eq!(seq, Some(i as u64 + 1), "chunk {chunk}");
            }
        }
        let head = Log::from_bytes("seed", seed).unwrap().head;
        assert_eq!(seq_with_hash(&path, &head, len).unwrap(), Some(40));
        // Not in the bytes searched: the first batch (seq 1-35) only.
        let first = memchr::memchr_iter(b'\n', seed).nth(34).unwrap() as u64 + 1;
        assert_eq!(seq_with_hash(&path, &head, first).unwrap(), None);
        assert_eq!(
            seq_with_hash(&path, &super::super::GENESIS_HASH, 0).unwrap(),
            Some(0)
        );
        let other = Hash([7; 32]);
        assert_eq!(seq_with_hash(&path, &other, len).unwrap(), None);
    }
}
