//! The index's manifest: where the index ends in the log, and its segments (each holds the
//! account of its own events: what `actors`, `topics` and `--known-at` need). A few hundred
//! bytes, replaced whole by an atomic rename, so a reader sees the old manifest or the new
//! one. Layout in `events/INDEX.md`.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::segment::SegmentMeta;
use super::{put_str, put_u64};
use crate::core::Seq;
use crate::store::chain::Hash;
use crate::store::codec::Reader;

/// The first bytes of a manifest.
pub(crate) const MAGIC: &[u8; 16] = b"STANCELOG-INDEX\n";
/// The manifest format's version (and so the index's: segments carry their own).
pub const VERSION: u32 = 9;

/// What a manifest holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Manifest {
    /// The last seq the index covers, the log's stored hash there, and the byte length of the
    /// log up to the end of that record (the end of a complete batch).
    pub(crate) seq: Seq,
    pub(crate) head: [u8; 32],
    pub(crate) valid_len: u64,
    /// SHA-256 of that record's line as stored (without its newline): a query compares it with
    /// the log's last line, so any edit of that line is seen, whatever its schema.
    pub(crate) tail_sum: [u8; 32],
    /// Counts the manifests written; new segment files are named by it, so a name is never
    /// reused while a reader may still hold the old file.
    pub(crate) generation: u64,
    /// Segments in seq order, covering `1..=seq` without gaps; each holds the account of its
    /// events (`account.rs`).
    pub(crate) segments: Vec<SegmentMeta>,
}

impl Manifest {
    pub(crate) fn head(&self) -> Hash {
        Hash(self.head)
    }
}

/// The manifest's bytes, its checksum at the end.
pub(crate) fn encode(m: &Manifest) -> Vec<u8> {
    let mut w = Vec::new();
    w.extend_from_slice(MAGIC);
    w.extend_from_slice(&VERSION.to_le_bytes());
    put_u64(&mut w, m.seq);
    w.extend_from_slice(&m.head);
    put_u64(&mut w, m.valid_len);
    w.extend_from_slice(&m.tail_sum);
    put_u64(&mut w, m.generation);
    put_u64(&mut w, m.segments.len() as u64);
    for s in &m.segments {
        put_str(&mut w, &s.name);
        put_u64(&mut w, s.first);
        put_u64(&mut w, s.last);
        put_u64(&mut w, s.size);
        w.extend_from_slice(&s.sum);
    }
    let sum = Sha256::digest(&w);
    w.extend_from_slice(&sum);
    w
}

/// Reads a manifest; `Err` says why it cannot be used.
pub(crate) fn decode(bytes: &[u8]) -> Result<Manifest, String> {
    if bytes.len() < MAGIC.len() + 4 + 32 || &bytes[..MAGIC.len()] != MAGIC {
        return Err("its manifest is not an index manifest".into());
    }
    let version = u32::from_le_bytes(bytes[16..20].try_into().unwrap_or([0; 4]));
    if version != VERSION {
        return Err(format!(
            "it is of format version {version}; this build reads version {VERSION}"
        ));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 32);
    if Sha256::digest(body)[..] != *sum {
        return Err("its manifest is damaged (checksum)".into());
    }
    let mut r = Reader::new(&body[20..]);
    let m = read_fields(&mut r).map_err(|e| format!("its manifest is damaged: {e}"))?;
    if !r.at_end() {
        return Err("its manifest is damaged: bytes after its fields".into());
    }
    Ok(m)
}

fn read_fields(r: &mut Reader<'_>) -> Result<Manifest, String> {
    let mut m = Manifest {
        seq: r.u64()?,
        head: r.array()?,
        valid_len: r.u64()?,
        tail_sum: r.array()?,
        generation: r.u64()?,
        ..Manifest::default()
    };
    for _ in 0..r.u64()? {
        m.segments.push(SegmentMeta {
            name: r.str()?,
            first: r.u64()?,
            last: r.u64()?,
            size: r.u64()?,
            sum: r.array()?,
        });
    }
    let covered = m.segments.iter().try_fold(0, |next, s| {
        (s.first == next + 1 && s.last >= s.first).then_some(s.last)
    });
    if covered != Some(m.seq) {
        return Err("its segments do not cover the seqs it claims".into());
    }
    Ok(m)
}

/// Writes `m` as the manifest of the index in `dir`: a temporary file, synced, renamed over
/// the old one, then the directory synced.
pub(crate) fn write(dir: &Path, m: &Manifest) -> std::io::Result<()> {
    let path = dir.join("MANIFEST");
    let tmp = dir.join(format!("MANIFEST.tmp.{}", std::process::id()));
    let written = File::create(&tmp).and_then(|mut f| {
        f.write_all(&encode(m))?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, &path)?;
    File::open(dir)?.sync_all()
}
