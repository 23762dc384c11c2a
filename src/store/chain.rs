//! The hash chain that makes a log tamper-evident.
//!
//! Each schema-2 record stores `hash` = SHA-256(previous record's hash as 32 raw bytes ||
//! the record's canonical JSON without its `hash` member). The record before seq 1 has the
//! all-zero hash. Since records are stored in canonical form (keys sorted, no white space), the
//! hash input is exactly the stored line with its `,"hash":"…"` member cut out, so every byte of
//! every line is covered: changing any byte breaks the chain at that line. A schema-1 record,
//! which has no hash, joins the chain with its whole line as input.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hash(pub(crate) [u8; 32]);

/// The hash before the first record.
pub const GENESIS_HASH: Hash = Hash([0; 32]);

/// How the hash member starts in a stored line: it always follows another member.
pub(crate) const HASH_KEY: &[u8] = b",\"hash\":\"";

/// Length of a hash in lower-case hex.
pub(crate) const HASH_HEX_LEN: usize = 64;

/// The value of each byte as a lower-case hex digit, or 0x80 for any other byte.
const HEX_VALUE: [u8; 256] = {
    let mut t = [0x80u8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

impl Hash {
    /// Parses 64 lower-case hex digits.
    pub fn from_hex(hex: &[u8]) -> Option<Hash> {
        let hex: &[u8; HASH_HEX_LEN] = hex.try_into().ok()?;
        let mut out = [0u8; 32];
        // Branch-free: every line of a log has one of these, so it is a hot loop. `bad`
        // collects the high bit any non-digit sets in the table.
        let mut bad = 0u8;
        for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
            let (hi, lo) = (
                HEX_VALUE[usize::from(pair[0])],
                HEX_VALUE[usize::from(pair[1])],
            );
            bad |= hi | lo;
            *o = (hi << 4) | (lo & 0x0f);
        }
        (bad & 0x80 == 0).then_some(Hash(out))
    }

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        let mut hex = [0u8; HASH_HEX_LEN];
        self.write_hex(&mut hex);
        hex.iter().map(|&b| char::from(b)).collect()
    }

    /// Writes the 64 lower-case hex digits into `out`, in place (no allocation).
    pub(crate) fn write_hex(&self, out: &mut [u8; HASH_HEX_LEN]) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for (pair, b) in out.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 0xf)];
        }
    }
}

/// The next link: SHA-256 of the previous hash followed by `parts`, concatenated.
pub fn link(prev: &Hash, parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev.0);
    for p in parts {
        h.update(p);
    }
    Hash(h.finalize().into())
}

/// The stored line split around its top-level `,"hash":"<64 hex>"` member: the bytes before and
/// after it, which together are the hash input. `None` when the member is not there in that form.
///
/// A string value cannot contain the byte sequence `,"hash":"` (its quotes would be escaped),
/// and no nested object has a `hash` key, so the first match is the top-level member.
pub fn hash_input(line: &[u8]) -> Option<(&[u8], &[u8])> {
    const KEY: &[u8] = HASH_KEY;
    // Built once: a searcher per call costs more than the search on a line of a few hundred bytes.
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(HASH_KEY));
    let start = FINDER.find(line)?;
    let end = start + KEY.len() + HASH_HEX_LEN + 1;
    let value = line.get(start + KEY.len()..end)?;
    if value[HASH_HEX_LEN] != b'"'
        || value[..HASH_HEX_LEN]
            .iter()
            .fold(0u8, |bad, b| bad | HEX_VALUE[usize::from(*b)])
            & 0x80
            != 0
    {
        return None;
    }
    Some((&line[..start], &line[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_input_cuts_exactly_the_hash_member() {
        let hex = "ab".repeat(32);
        let line = format!("{{\"actor\":\"x\",\"hash\":\"{hex}\",\"id\":\"y\"}}");
        let (a, b) = hash_input(line.as_bytes()).unwrap();
        assert_eq!(a, b"{\"actor\":\"x\"");
        assert_eq!(b, b",\"id\":\"y\"}");
    }

    #[test]
    fn hash_input_refuses_a_short_or_upper_case_hash() {
        assert_eq!(hash_input(b"{\"a\":1,\"hash\":\"abc\"}"), None);
        let upper = format!("{{\"a\":1,\"hash\":\"{}\"}}", "AB".repeat(32));
        assert_eq!(hash_input(upper.as_bytes()), None);
    }

    #[test]
    fn from_hex_reads_lower_case_hex_and_refuses_anything_else() {
        let h = link(&GENESIS_HASH, &[b"x"]);
        assert_eq!(Hash::from_hex(h.to_hex().as_bytes()), Some(h));
        let mut bytes = [0u8; 32];
        bytes[0] = 0xab;
        bytes[31] = 0x09;
        let hex = format!("ab{}09", "0".repeat(60));
        assert_eq!(Hash::from_hex(hex.as_bytes()), Some(Hash(bytes)));
        for bad in ["AB", "g0", "0 ", "/0", ":0", "`0"] {
            let text = format!("{bad}{}", "0".repeat(62));
            assert_eq!(Hash::from_hex(text.as_bytes()), None, "{bad}");
        }
        assert_eq!(Hash::from_hex("0".repeat(63).as_bytes()), None);
    }

    #[test]
    fn genesis_hex_is_64_zeros() {
        assert_eq!(GENESIS_HASH.to_hex(), "0".repeat(64));
    }

    #[test]
    fn hex_is_lower_case_and_byte_by_byte() {
        let mut bytes = [0u8; 32];
        bytes[0] = 0xab;
        bytes[1] = 0x0f;
        bytes[31] = 0xf0;
        let hex = Hash(bytes).to_hex();
        assert_eq!(&hex[..4], "ab0f");
        assert_eq!(&hex[60..], "00f0");
        assert_eq!(Hash::from_hex(hex.as_bytes()), Some(Hash(bytes)));
    }
}
