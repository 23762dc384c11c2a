//! The index's manifest: where the index ends in the log, its segments, and what the `actors`,
//! `topics` and `--known-at` need of the whole log. Replaced whole, by an atomic rename, so a
//! reader sees the old manifest or the new one. Layout in `events/INDEX.md`.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::segment::SegmentMeta;
use crate::core::{ActorEntry, ActorId, Seq, TopicEntry, TopicId, ValidDate};
use crate::store::chain::Hash;
use crate::store::codec::Reader;

/// The first bytes of a manifest.
pub(crate) const MAGIC: &[u8; 16] = b"STANCELOG-INDEX\n";
/// The manifest format's version (and so the index's: segments carry their own).
pub const VERSION: u32 = 2;

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
    /// Segments in seq order, covering `1..=seq` without gaps.
    pub(crate) segments: Vec<SegmentMeta>,
    /// Recorded times: (first seq of a run of events sharing one, the time), in log order.
    pub(crate) runs: Vec<(Seq, jiff::Timestamp)>,
    /// How many stances (retracted ones included) have each valid-time date, as corrected by
    /// the whole log: sorted by date, every count above 0. Kept whole (not only the latest
    /// date) so that an append that corrects the latest stance to an earlier date finds the
    /// new latest without reading the log.
    pub(crate) dates: Vec<(ValidDate, u64)>,
    pub(crate) actors: Vec<(ActorId, ActorEntry)>,
    pub(crate) topics: Vec<(TopicId, TopicEntry)>,
}

impl Manifest {
    pub(crate) fn head(&self) -> Hash {
        Hash(self.head)
    }

    /// The latest valid-time date of any stance, as corrected by the whole log.
    pub(crate) fn date_last(&self) -> Option<ValidDate> {
        self.dates.last().map(|(d, _)| *d)
    }
}

fn put_u64(w: &mut Vec<u8>, v: u64) {
    w.extend_from_slice(&v.to_le_bytes());
}

fn put_str(w: &mut Vec<u8>, s: &str) {
    w.extend_from_slice(&(s.len() as u32).to_le_bytes());
    w.extend_from_slice(s.as_bytes());
}

fn put_entries(w: &mut Vec<u8>, entries: impl ExactSizeIterator<Item = (String, [u64; 3])>) {
    put_u64(w, entries.len() as u64);
    for (id, nums) in entries {
        put_str(w, &id);
        for n in nums {
            put_u64(w, n);
        }
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
    put_u64(&mut w, m.runs.len() as u64);
    for (seq, t) in &m.runs {
        put_u64(&mut w, *seq);
        put_u64(&mut w, t.as_microsecond() as u64);
    }
    put_u64(&mut w, m.dates.len() as u64);
    for (date, n) in &m.dates {
        put_str(&mut w, &date.to_string());
        put_u64(&mut w, *n);
    }
    let entry = |seq: Seq, stances: u64, retracted: u64| [seq, stances, retracted];
    put_entries(
        &mut w,
        m.actors
            .iter()
            .map(|(id, e)| (id.to_string(), entry(e.seq, e.stances, e.retracted))),
    );
    put_entries(
        &mut w,
        m.topics
            .iter()
            .map(|(id, e)| (id.to_string(), entry(e.seq, e.stances, e.retracted))),
    );
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
    for _ in 0..r.u64()? {
        let seq = r.u64()?;
        let t = jiff::Timestamp::from_microsecond(r.u64()? as i64)
            .map_err(|_| "a time out of range")?;
        m.runs.push((seq, t));
    }
    for _ in 0..r.u64()? {
        let date = ValidDate::parse(&r.str()?).map_err(|e| e.to_string())?;
        let n = r.u64()?;
        if n == 0 || m.dates.last().is_some_and(|(d, _)| *d >= date) {
            return Err("its dates are out of order".into());
        }
        m.dates.push((date, n));
    }
    for _ in 0..r.u64()? {
        let id = ActorId::new(&r.str()?).map_err(|e| e.to_string())?;
        let (seq, stances, retracted) = (r.u64()?, r.u64()?, r.u64()?);
        let e = ActorEntry {
            seq,
            stances,
            retracted,
        };
        m.actors.push((id, e));
    }
    for _ in 0..r.u64()? {
        let id = TopicId::new(&r.str()?).map_err(|e| e.to_string())?;
        let (seq, stances, retracted) = (r.u64()?, r.u64()?, r.u64()?);
        let e = TopicEntry {
            seq,
            stances,
            retracted,
        };
        m.topics.push((id, e));
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
