//! Canonical order: the one rule by which the stances of a pair follow each other.
//!
//! Every answer (positions, diffs, timelines) and anything that stands in for the fold (a
//! projection index) orders stances by [`CanonicalKey`], so that they agree on which stance is a
//! pair's last.

use super::date::{TimeOfDay, ValidDate};
use super::domain::Seq;

/// Where a stance stands in canonical order: by `date` (a partial date takes effect on the first
/// day of its period and sorts just before that day's full dates), then, among stances of the same
/// date, by the stated instant, then by `seq` (the order the log learned them).
///
/// The stated instant is the date with its time of day (`2024-10-21T18:00:00+09:00`) as one UTC
/// instant ([`TimeOfDay::instant`]). A stance without a time of day sorts **before** every stance
/// of the same date that has one (`None` before `Some`): as with partial dates, the less precise
/// statement comes first, so a statement whose time is known is never overtaken by one that only
/// gives the day. So on one day, `09:00` recorded after `18:00` still comes before it; two
/// stances without a time keep seq order; and the order is total and stable (it does not depend
/// on which other stances exist).
///
/// Fields compare in declaration order (the derived `Ord`).
///
/// # Example
/// ```
/// use stancelog::core::{CanonicalKey, parse_stated};
/// let (day, evening) = parse_stated("2024-10-21T18:00:00+09:00").unwrap();
/// let (_, morning) = parse_stated("2024-10-21T09:00:00+09:00").unwrap();
/// let at_18 = CanonicalKey::new(day, evening.as_ref(), 1);
/// let at_09 = CanonicalKey::new(day, morning.as_ref(), 2);
/// let untimed = CanonicalKey::new(day, None, 3);
/// assert!(untimed < at_09 && at_09 < at_18);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CanonicalKey {
    /// Valid time: the date as stated.
    pub date: ValidDate,
    /// The stated instant (UTC), when the stance gives a time of day; `None` sorts first.
    pub instant: Option<jiff::Timestamp>,
    /// The stance's seq.
    pub seq: Seq,
}

impl CanonicalKey {
    /// The key of a stance with this date, time of day (if any) and seq.
    pub fn new(date: ValidDate, time: Option<&TimeOfDay>, seq: Seq) -> CanonicalKey {
        CanonicalKey {
            date,
            instant: time.map(TimeOfDay::instant),
            seq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::parse_stated;

    fn key(text: &str, seq: Seq) -> CanonicalKey {
        let (date, time) = parse_stated(text).unwrap();
        CanonicalKey::new(date, time.as_ref(), seq)
    }

    #[test]
    fn a_stated_time_orders_a_day_before_seq_and_an_untimed_stance_comes_first() {
        let mut keys = [
            key("2024-10-22", 1),
            key("2024-10-21T18:00:00+09:00", 2),
            key("2024-10-21T09:00:00+09:00", 3),
            key("2024-10-21", 4),
            key("2024-10", 5),
            key("2024-10-21", 6),
            // 10:00 in Seoul is 01:00 UTC: after 09:00 +09:00 (00:00 UTC), before 18:00 +09:00.
            key("2024-10-21T10:00:00[Asia/Seoul]", 7),
            // 20:00 at -05:00 is 01:00 UTC on the 22nd: latest of the 21st.
            key("2024-10-21T20:00:00-05:00", 8),
        ];
        keys.sort();
        let seqs: Vec<Seq> = keys.iter().map(|k| k.seq).collect();
        assert_eq!(seqs, [5, 4, 6, 3, 7, 2, 8, 1]);
    }

    #[test]
    fn the_same_instant_falls_back_to_seq() {
        // 09:00 +09:00 and 00:00Z are one instant.
        let a = key("2024-10-21T09:00:00+09:00", 9);
        let b = key("2024-10-21T00:00:00Z", 4);
        assert_eq!(a.instant, b.instant);
        assert!(b < a);
    }
}
