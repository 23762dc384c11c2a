//! `stancelog import csv FILE`: an analyst's own table (CSV, TSV or another delimiter), mapped
//! to stances by a [`Spec`] (flags, or a TOML mapping file with the same keys) and imported by
//! the [engine](super::engine).
//!
//! A row can give one stance (`--stance-col` or `--stance`, dated by `--date-col`, `--date` or
//! `--year-col`/`--month-col`/`--day-col`), further stances of their own dates (`--event
//! STANCE=COL`: a signature and a ratification column), and a membership spell (`--from-col`,
//! `--until-col`: `member` from its start, `not_member` from its end). Ids follow content: see
//! [`super::engine`]. The data set's identity is `--dataset`, else `--cite`, else a fingerprint
//! of the header and the flags that identify a row (so a renamed copy of a sheet is the same
//! data set, and a changed `--stance-map` or `--skip-if` keeps every id).

use std::path::Path;

use crate::store::LogRef;

use serde::Deserialize;

use super::engine::{Engine, EngineOptions, Outcome, Row};
use super::{ImportReport, Progress};
use crate::core::{
    ActorKind, DateError, Day, Instrument, Stance, TimeOfDay, ValidDate, parse_stated,
};
use crate::error::{Error, Result};

/// A table's mapping: every field is the flag of `import csv` of the same name, and a key of a
/// TOML mapping file (`--mapping`). All optional here; compiling it against the header says what is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Spec {
    /// The data set's identity (part of every event id).
    pub dataset: Option<String>,
    /// The field delimiter: one ASCII character, or `\t` / `tab`.
    pub delimiter: Option<String>,
    /// The first line is data, not a header.
    pub no_header: Option<bool>,
    /// Key fields, comma-separated (default `role,actor,topic,date`).
    pub key: Option<String>,
    /// The actor column.
    pub actor_col: Option<String>,
    /// The actor column holds codes of this scheme (see [`super::countries::Scheme`]).
    pub country_scheme: Option<String>,
    /// The column of actor names (for registration).
    pub actor_name_col: Option<String>,
    /// The column of actor kinds.
    pub actor_kind_col: Option<String>,
    /// The column of actor countries (ISO 3166-1 alpha-3, checked).
    pub actor_country_col: Option<String>,
    /// The kind of registered actors (default `state`).
    pub actor_kind: Option<String>,
    /// The country of registered actors.
    pub actor_country: Option<String>,
    /// The sector of registered actors (default `GOV`).
    pub actor_sector: Option<String>,
    /// The topic column.
    pub topic_col: Option<String>,
    /// One topic id for every row.
    pub topic: Option<String>,
    /// The title of registered topics (default: the topic cell).
    pub topic_title: Option<String>,
    /// The column of topic titles.
    pub topic_title_col: Option<String>,
    /// The kind of registered topics (default `membership` with spells, else `policy`).
    pub topic_kind: Option<String>,
    /// The stance column.
    pub stance_col: Option<String>,
    /// One stance for every row.
    pub stance: Option<String>,
    /// Values to stances, `V=S,...` (repeatable; `V*` by prefix).
    #[serde(default)]
    pub stance_map: Vec<String>,
    /// The date column.
    pub date_col: Option<String>,
    /// One date for every row.
    pub date: Option<String>,
    /// The year column (with `month-col`, `day-col`: a date from parts).
    pub year_col: Option<String>,
    /// The month column.
    pub month_col: Option<String>,
    /// The day column.
    pub day_col: Option<String>,
    /// strftime format of date cells (`%d/%m/%Y`).
    pub date_format: Option<String>,
    /// Further stances of a row: `STANCE=COL` (repeatable), each dated by its column.
    #[serde(default)]
    pub event: Vec<String>,
    /// The column where a membership spell begins.
    pub from_col: Option<String>,
    /// The column where it ends.
    pub until_col: Option<String>,
    /// Spell start from parts: the year column.
    pub from_year_col: Option<String>,
    /// Spell start month column.
    pub from_month_col: Option<String>,
    /// Spell start day column.
    pub from_day_col: Option<String>,
    /// Spell end year column.
    pub until_year_col: Option<String>,
    /// Spell end month column.
    pub until_month_col: Option<String>,
    /// Spell end day column.
    pub until_day_col: Option<String>,
    /// `inclusive` (the last day of membership; default) or `exclusive` (the first day after).
    pub until: Option<String>,
    /// End values meaning "still a member" (repeatable).
    #[serde(default)]
    pub open_value: Vec<String>,
    /// `COL=VALUE`: skip rows whose cell is VALUE (repeatable).
    #[serde(default)]
    pub skip_if: Vec<String>,
    /// The treaty instrument column (ratification, acceptance, approval, accession,
    /// provisional application).
    pub instrument_col: Option<String>,
    /// The quote column.
    pub quote_col: Option<String>,
    /// The `cite.publication` column.
    pub cite_col: Option<String>,
    /// `cite.publication` for every row (default: the data set).
    pub cite: Option<String>,
    /// The `cite.url` column.
    pub url_col: Option<String>,
    /// The recorded-time column.
    pub recorded_col: Option<String>,
    /// Register unknown actors and topics.
    pub register: Option<bool>,
    /// Make ids of actor and topic cells (lower case, `-`).
    pub slug_ids: Option<bool>,
    /// Append known keys with other content as `stance.corrected`.
    pub corrections: Option<bool>,
}

impl Spec {
    /// Parses a TOML mapping file's text.
    ///
    /// # Errors
    /// [`Error::Usage`] naming the key that is unknown or of the wrong type.
    pub fn from_toml(file: &str, text: &str) -> Result<Spec> {
        toml::from_str(text).map_err(|e| Error::Usage(format!("--mapping {file}: {e}")))
    }

    /// This spec with every field that `over` sets taken from `over` (a list: `over`'s, if it
    /// has any); a field of a group of alternatives that `over` sets (a topic column or one
    /// topic; a stance column or one stance; a date column, one date or year/month/day
    /// columns; a spell's start, its end) replaces every field of that group, but a month or
    /// day column alone, which adds to the file's year column.
    pub fn overridden_by(mut self, over: Spec) -> Spec {
        // Alternatives (a topic column or one topic, ...): a flag of a group replaces the
        // file's whole group, so `--date` over a file's `date-col` is not refused as both.
        // A month or day column alone adds to the file's year column instead.
        macro_rules! group {
            ($($f:ident),*; $($part:ident),*) => {
                if $(over.$f.is_some())||* {
                    $(self.$f = None;)*
                    $(self.$part = None;)*
                }
            };
        }
        group!(topic_col, topic;);
        group!(stance_col, stance;);
        group!(date_col, date, year_col; month_col, day_col);
        group!(from_col, from_year_col; from_month_col, from_day_col);
        group!(until_col, until_year_col; until_month_col, until_day_col);
        macro_rules! pick {
            ($($f:ident),*; $($l:ident),*) => {
                Spec {
                    $($f: over.$f.or(self.$f),)*
                    $($l: if over.$l.is_empty() { self.$l } else { over.$l },)*
                }
            };
        }
        pick!(dataset, delimiter, no_header, key, actor_col, country_scheme, actor_name_col,
            actor_kind_col, actor_country_col, actor_kind, actor_country, actor_sector, topic_col,
            topic, topic_title, topic_title_col, topic_kind, stance_col, stance, date_col, date,
            year_col, month_col, day_col, date_format, from_col, until_col, from_year_col,
            from_month_col, from_day_col, until_year_col, until_month_col, until_day_col, until,
            instrument_col, quote_col, cite_col, cite, url_col, recorded_col, register, slug_ids,
            corrections; stance_map, event, open_value, skip_if)
    }
}

/// Maps the sheet's stance values to stances: `yes=support,no=oppose`. A key ending in `*`
/// matches every value starting with what precedes it (the longest such key wins), so CAMEO
/// codes can be mapped by their root (`14*=oppose`). A value matching no key is taken as it is
/// if it is a stance name, and refused otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StanceMap {
    exact: std::collections::HashMap<String, Stance>,
    prefixes: Vec<(String, Stance)>,
}

impl StanceMap {
    /// Adds the pairs of `text`: `value=stance` separated by commas.
    ///
    /// # Errors
    /// A message naming the pair without `=`, with an empty value, whose stance is not a
    /// stance name, or whose value was mapped already.
    pub fn add(&mut self, text: &str) -> std::result::Result<(), String> {
        for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (value, stance) = pair
                .rsplit_once('=')
                .ok_or_else(|| format!("`{pair}` is not VALUE=STANCE"))?;
            let value = value.trim();
            if value.is_empty() {
                return Err(format!("`{pair}`: the value before `=` is empty"));
            }
            let stance = parse_stance(stance.trim()).map_err(|e| format!("`{pair}`: {e}"))?;
            let before = match value.strip_suffix('*') {
                Some(prefix) => {
                    let at = self.prefixes.iter().position(|(p, _)| p == prefix);
                    let before = at.map(|i| self.prefixes.remove(i).1);
                    self.prefixes.push((prefix.to_string(), stance));
                    self.prefixes
                        .sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
                    before
                }
                None => self.exact.insert(value.to_string(), stance),
            };
            if let Some(before) = before {
                return Err(format!(
                    "`{value}` is mapped twice (to {before} and to {stance}): give each value once"
                ));
            }
        }
        Ok(())
    }

    /// Parses a map; see [`StanceMap::add`].
    ///
    /// # Errors
    /// Those of [`StanceMap::add`].
    pub fn parse(text: &str) -> std::result::Result<StanceMap, String> {
        let mut m = StanceMap::default();
        m.add(text)?;
        Ok(m)
    }

    /// The stance of a sheet value: mapped exactly, else by the longest prefix key, else the
    /// value itself if it is a stance name.
    pub fn lookup(&self, value: &str) -> Option<Stance> {
        self.exact
            .get(value)
            .copied()
            .or_else(|| {
                self.prefixes
                    .iter()
                    .find(|(p, _)| value.starts_with(p.as_str()))
                    .map(|(_, s)| *s)
            })
            .or_else(|| Stance::parse(value))
    }
}

fn parse_stance(text: &str) -> std::result::Result<Stance, String> {
    Stance::parse(text)
        .ok_or_else(|| format!("`{text}` is not a stance (one of: {})", Stance::names()))
}

/// Parses a `--delimiter` value: one ASCII character, or `\t` / `tab` for a tab.
///
/// # Errors
/// A message for anything else.
pub fn parse_delimiter(text: &str) -> std::result::Result<u8, String> {
    match text {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        t if t.len() == 1 && t.is_ascii() => Ok(t.as_bytes()[0]),
        _ => Err(format!(
            "`{text}` is not one ASCII character (use `\\t` or `tab` for a tab)"
        )),
    }
}

/// Parses a date as a sheet gives it: anything the log format's `date` takes, or `YYYYMMDD`.
///
/// # Errors
/// The date error, in words.
pub fn parse_date(text: &str) -> std::result::Result<(ValidDate, Option<TimeOfDay>), String> {
    parse_yyyymmdd(text).unwrap_or_else(|| parse_stated(text).map_err(|e| e.to_string()))
}

/// A date written `YYYYMMDD` (eight digits), as [`parse_date`] reads it; `None` when `text` is
/// not eight digits.
///
/// # Errors
/// The date error (a month 13, a 30 February), in words quoting `text` as written.
pub fn parse_yyyymmdd(
    text: &str,
) -> Option<std::result::Result<(ValidDate, Option<TimeOfDay>), String>> {
    let b = text.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let iso = format!("{}-{}-{}", &text[0..4], &text[4..6], &text[6..8]);
    // Quote the cell as written, not the ISO form made of it.
    Some(parse_stated(&iso).map_err(|e| e.to_string().replace(&iso, text)))
}

/// A `--date-format`: a strftime-style pattern (`%d/%m/%Y`, `%Y-%m-%d %H:%M:%S`, `%d %b %Y`,
/// `%Y`), checked once, before any row is read. A format without a day (or month) gives a month
/// (or year) date, never an invented day; a time of day in the format is read and left out
/// (only the date is kept).
///
/// Accepted specifiers: `%Y` (the year, in full: four digits), `%m`, `%d`, `%e`, `%b`/`%h` (an abbreviated
/// month name), `%B` (a month name, full or abbreviated), `%a`/`%A` (a weekday name, read and
/// not checked), `%H`, `%k`, `%I`, `%l`, `%M`, `%S`, `%p`, `%P`, `%f`, `%.f`, `%z`, `%:z`,
/// `%T`, `%R`, `%F`, `%n`, `%t` and `%%`, with the padding flags `-`, `_` and `0` (which change
/// nothing when reading: a number may have its leading zeros or not). Names are English and
/// matched without regard to case; whitespace in the format matches any run of whitespace.
/// Parsing is jiff's `strtime`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    format: String,
    /// Where the first `%Y` (or `%F`) begins in the format: the year it reads must be written
    /// with four digits.
    year_at: usize,
    /// The format with every `%B` read as `%b`, tried when the format fails: `%B` takes an
    /// abbreviated month name too (`Oct` as well as `October`).
    abbreviated: Option<String>,
}

impl DateFormat {
    /// Checks a format.
    ///
    /// # Errors
    /// A message naming the first specifier refused and why: a two-digit year (`%y`, `%C`,
    /// `%D`, `%g`), whose century would be a guess; a day of the year or a week (`%j`, `%U`,
    /// `%W`, `%V`, `%G`, `%u`, `%w`), which would lose the day; and any other specifier, which
    /// is not a part of a date (`%Z`, `%s`, `%Q`, `%c`, ...). A `%` at the end is refused too,
    /// and so is a format without `%Y` or `%F` (every row would be refused for want of a year).
    pub fn parse(format: &str) -> std::result::Result<DateFormat, String> {
        let refuse = |spec: &str, why: &str| Err(format!("`{format}`: {spec} {why}"));
        let b = format.as_bytes();
        let mut i = 0;
        let mut year_at = None;
        while i < b.len() {
            if b[i] != b'%' {
                i += 1;
                continue;
            }
            let at = i;
            i += 1;
            while i < b.len() && matches!(b[i], b'-' | b'_' | b'0') {
                i += 1;
            }
            let prefix = match b.get(i) {
                Some(b'.') | Some(b':') => 1,
                _ => 0,
            };
            let digits = b[i + prefix..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            let conv = b.get(i + prefix + digits).copied();
            // Every byte before the conversion is ASCII; the conversion may be any character.
            let spec: String = format[at..]
                .chars()
                .take(i + prefix + digits + 1 - at)
                .collect();
            let spec = spec.as_str();
            let ok = match (b.get(i), conv) {
                (_, None) => return refuse("`%`", "ends the format; write %% for a percent sign"),
                (Some(b'.'), Some(b'f')) | (Some(b':'), Some(b'z')) => true,
                (_, Some(b'f')) if prefix == 0 => true,
                _ if prefix + digits > 0 => false,
                (_, Some(c)) => b"YmdebhBaAHkIlMSpPzTRFnt%".contains(&c),
            };
            if !ok {
                return match conv {
                    Some(b'y' | b'C' | b'D' | b'g') => refuse(
                        spec,
                        "is a two-digit year or century: the century would be a guess; write %Y (the year in full)",
                    ),
                    Some(b'j' | b'U' | b'W' | b'V' | b'G' | b'u' | b'w') => refuse(
                        spec,
                        "(a day of the year or a week) is not read: write the date with %Y, %m and %d",
                    ),
                    _ => refuse(
                        spec,
                        "is not supported; a date format takes %Y %m %d %e %b %B %h %a %A, times %H %k %I %l %M %S %p %P %f %.f %T %R, offsets %z %:z, %F, %n %t %%",
                    ),
                };
            }
            if prefix + digits == 0 && matches!(conv, Some(b'Y' | b'F')) {
                year_at.get_or_insert(at);
            }
            i += prefix + digits + 1;
        }
        let Some(year_at) = year_at else {
            return Err(format!(
                "`{format}`: gives no year, so no row could be read; write %Y (the year in full)"
            ));
        };
        let abbreviated = format.contains("%B").then(|| format.replace("%B", "%b"));
        Ok(DateFormat {
            format: format.to_string(),
            year_at,
            abbreviated,
        })
    }

    /// The format as given.
    pub fn as_str(&self) -> &str {
        &self.format
    }

    /// Why `text` does not match: its year has more than four digits (`10000`, which %Y does
    /// not read), or it just does not.
    fn no_match(&self, text: &str) -> String {
        let format = &self.format;
        let before =
            jiff::fmt::strtime::BrokenDownTime::parse_prefix(&format[..self.year_at], text)
                .map_or(0, |(_, n)| n);
        let year = text.get(before..).unwrap_or("");
        let digits = year.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 4 && !year.starts_with('0') {
            return format!(
                "`{text}` read with --date-format `{format}`: the year `{}` is outside the supported years, 0001 to 9999",
                &year[..digits]
            );
        }
        format!("`{text}` does not match --date-format `{format}`")
    }

    /// Reads the date in `text`.
    ///
    /// # Errors
    /// A message naming the value and the format: it does not match, its year is not written
    /// with four digits (`24`, `924`, `-24`: `%Y` would read them as years 24, 924 and -24),
    /// or the date it gives is not a real one (the format gives no year, `31/02/2024`, year 0).
    pub fn date(&self, text: &str) -> std::result::Result<ValidDate, String> {
        let format = &self.format;
        let bad = |why: &str| format!("`{text}` does not match --date-format `{format}`{why}");
        let (parsed, used) = std::iter::once(format.as_str())
            .chain(self.abbreviated.as_deref())
            .find_map(|f| Some((jiff::fmt::strtime::parse(f, text).ok()?, f)))
            .ok_or_else(|| self.no_match(text))?;
        // The parse was whole, so its prefix up to the year reads the same bytes.
        let before = jiff::fmt::strtime::BrokenDownTime::parse_prefix(&used[..self.year_at], text)
            .map_or(0, |(_, n)| n);
        let year = &text[before..];
        // %Y also reads a year padded with spaces (`05.01. 2024`).
        let padding = year.len() - year.trim_start().len();
        if padding != 0 {
            let digits = year[padding..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            return Err(bad(&format!(
                ": the year `{}` has white space before its digits (%Y takes the year as four digits alone)",
                &year[..padding + digits]
            )));
        }
        let sign = usize::from(year.starts_with(['-', '+']));
        let digits = year[sign..]
            .bytes()
            .take(4)
            .take_while(u8::is_ascii_digit)
            .count();
        if sign != 0 || digits != 4 {
            return Err(bad(&format!(
                ": the year `{}` is not written with four digits (%Y takes the year in full; the century of a shorter one would be a guess)",
                &year[..sign + digits]
            )));
        }
        let year = parsed
            .year()
            .ok_or_else(|| bad(": the format gives no year"))?;
        let iso = match (parsed.month(), parsed.day()) {
            (Some(m), Some(d)) => format!("{year:04}-{m:02}-{d:02}"),
            (Some(m), None) => format!("{year:04}-{m:02}"),
            (None, _) => format!("{year:04}"),
        };
        ValidDate::parse(&iso).map_err(|e| match e {
            // The text matched: only the date it gives is out of range (year 0000).
            DateError::Year(_) => format!("`{text}` read with --date-format `{format}`: {e}"),
            _ => bad(&format!(": {e}")),
        })
    }
}

/// Parses a recorded time: RFC 3339, or `YYYY-MM-DD` for midnight UTC of that day.
///
/// # Errors
/// A message for anything else.
pub fn parse_recorded(text: &str) -> std::result::Result<jiff::Timestamp, String> {
    if let Ok(day) = Day::parse(text) {
        return Ok(day.midnight_utc());
    }
    text.parse::<jiff::Timestamp>()
        .map_err(|_| format!("`{text}` is neither an RFC 3339 time nor a date (YYYY-MM-DD)"))
}

/// `text` as an id: in Unicode NFC (so a name typed precomposed and pasted decomposed is one
/// id), lower case, every run of characters other than letters, digits and combining marks one
/// `-`, none at either end. A combining mark (Unicode category M) that has no precomposed form
/// with its letter is kept as a letter, so `Ọ̀yọ́` and `Ọ yọ` are two ids, not one.
pub fn slug(text: &str) -> String {
    let text = crate::core::nfc(text);
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        if c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c) {
            if gap && !out.is_empty() {
                out.push('-');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// Parses an instrument as tables write it: `Ratification`, `Accession`, `Provisional
/// application`, case and spaces ignored.
pub fn parse_instrument(text: &str) -> Option<Instrument> {
    let norm: String = text
        .trim()
        .to_lowercase()
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    let norm = match norm.as_str() {
        "ratification_a" | "accession_a" | "a" => "accession".to_string(),
        "acceptance_a" | "a_" => "acceptance".to_string(),
        "approval_aa" | "aa" => "approval".to_string(),
        _ => norm,
    };
    Instrument::parse(&norm)
}

mod plan;
pub use plan::Plan;

/// Imports the sheet at `file` into the log at `log`, mapped by `spec`.
///
/// Without a recorded-time column every batch is recorded at `now`; with one, the times must
/// not decrease down the sheet (each distinct time is a batch of its own, and a row earlier than
/// the row before it, or than the log's last recorded time, is refused).
///
/// # Errors
/// [`Error::Usage`] for a mapping that is incomplete or names a column the sheet does not have;
/// [`Error::Io`] when the file cannot be read or the lock is not had in time; [`Error::Input`]
/// for an empty file, a header without rows, a quoted value never closed, or text that is not
/// UTF-8, at its physical line (the batches before stay appended); the errors of the writer.
/// A row whose field count differs from the header's (without a header, from the first row's)
/// is refused, not an error.
pub fn import(
    log: &LogRef,
    file: &Path,
    spec: &Spec,
    now: jiff::Timestamp,
    wait: std::time::Duration,
    dry_run: bool,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    let label = file.display().to_string();
    let delimiter = match &spec.delimiter {
        Some(d) => parse_delimiter(d).map_err(|e| Error::Usage(format!("--delimiter: {e}")))?,
        None => b',',
    };
    let mut records = Records::open(file, &label, delimiter, !spec.no_header.unwrap_or(false))?;
    let plan = Plan::compile(spec, records.header.as_ref())?;
    let opts = EngineOptions {
        dataset: plan.dataset.clone(),
        key: plan.key.clone(),
        now,
        wait,
        dry_run,
        corrections: spec.corrections.unwrap_or(false),
        stance_sources: plan.stance_sources(),
        stance_hint: "see --stance-map, --topic-kind".to_string(),
    };
    let engine = Engine::open(log, opts, progress)?;
    progress.start("csv", None);
    let mut plan = plan;
    engine.import_rows(&label, |sink| {
        while let Some(row) = records.next_row(&mut plan)? {
            if !sink.push(row) {
                break;
            }
        }
        Ok(())
    })
}

/// A sheet's records, each with its physical line (see [`super::LineCounter`]), checked for
/// their shape: a row whose field count differs from the header's (without a header, from the
/// first row's) is refused; a quoted value never closed, a file without rows and bad CSV are
/// errors naming the file and line.
struct Records {
    reader: csv::Reader<std::fs::File>,
    header: Option<csv::StringRecord>,
    /// Without a header: the first row's field count and physical line, which every row must
    /// match.
    first: Option<(usize, u64)>,
    lines: super::LineCounter,
    label: String,
    record: csv::StringRecord,
    /// Records read so far.
    read: u64,
    /// The file, its delimiter and its length, to read the last record again for a quote
    /// never closed.
    path: std::path::PathBuf,
    delimiter: u8,
    len: u64,
}

impl Records {
    fn open(path: &Path, label: &str, delimiter: u8, header: bool) -> Result<Records> {
        let csv_error = |e: csv::Error| super::csv_error(label, e);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(header)
            .flexible(true)
            .from_path(path)
            .map_err(csv_error)?;
        let header = if header {
            let h = reader.headers().map_err(csv_error)?.clone();
            if h.iter().all(str::is_empty) {
                return Err(super::rowless(label, super::Rowless::NoHeader));
            }
            Some(h)
        } else {
            None
        };
        Ok(Records {
            reader,
            header,
            first: None,
            lines: super::LineCounter::open(path)?,
            label: label.to_string(),
            record: csv::StringRecord::new(),
            read: 0,
            path: path.to_path_buf(),
            delimiter,
            len: std::fs::metadata(path)
                .map_err(|e| Error::io(path.display(), e))?
                .len(),
        })
    }

    /// The next record mapped by `plan` (or refused for its shape), or `None` at the end.
    ///
    /// # Errors
    /// [`Error::Input`] for bad CSV, a quoted value never closed, or a file without rows.
    fn next_row(&mut self, plan: &mut Plan) -> Result<Option<Row>> {
        let read = self.reader.read_record(&mut self.record);
        let more = read.map_err(|e| super::csv_error_lines(&self.label, e, &mut self.lines))?;
        if !more {
            return match (self.read, &self.header) {
                (0, Some(_)) => Err(super::rowless(&self.label, super::Rowless::HeaderOnly)),
                (0, None) => Err(super::rowless(&self.label, super::Rowless::Empty)),
                _ => Ok(None),
            };
        }
        self.read += 1;
        let byte = self.record.position().map_or(0, |p| p.byte());
        let line = self.lines.record_line(byte, &self.label)?;
        self.check_quotes(byte, line)?;
        if self.record.as_slice().contains('\r') {
            self.record = one_line_break(&self.record);
        }
        Ok(Some(match self.width_error(line) {
            Some(why) => Row {
                line,
                recorded: None,
                outcome: Outcome::Refused(why),
            },
            None => plan.row(&self.record, line),
        }))
    }

    /// Why the record just read (at physical `line`) is refused for its width: it has another
    /// field count than the header, or, without a header, than the first row.
    fn width_error(&mut self, line: u64) -> Option<String> {
        let got = self.record.len();
        if let Some(h) = &self.header {
            return super::width_mismatch(got, h.len());
        }
        let (n, first) = *self.first.get_or_insert((got, line));
        (got != n).then(|| {
            format!("has {got} fields where the first row (line {first}) has {n}, and there is no header")
        })
    }

    /// Refuses the last record (begun at `byte`, on physical `line`) when a quoted value in it
    /// runs to the end of the file without its closing quote (the csv reader takes the rest of
    /// the file as that one value).
    fn check_quotes(&mut self, byte: u64, line: u64) -> Result<()> {
        // The reader's position is past the record: at the end, the record reached it.
        if self.reader.position().byte() < self.len {
            return Ok(());
        }
        let Some(last) = unclosed_quote(&self.path, byte, self.delimiter)? else {
            return Ok(());
        };
        let last = self.lines.line_at(last, &self.label)?;
        Err(Error::input(
            crate::Location {
                file: self.label.clone(),
                line: Some(line),
                field: None,
            },
            format!(
                "a quoted value that begins in this row is never closed (no closing `\"`): the rest of the file, to line {last}, would be read as one value"
            ),
        ))
    }
}

/// `record` with each `\r\n` and lone `\r` in its cells made `\n`, its position kept: a quoted
/// value's line breaks are its content, and a copy of the sheet saved with CRLF or CR line ends
/// must give the same stances (the same ids) as the one saved with LF.
fn one_line_break(record: &csv::StringRecord) -> csv::StringRecord {
    let mut out: csv::StringRecord = record
        .iter()
        .map(|f| f.replace("\r\n", "\n").replace('\r', "\n"))
        .collect();
    out.set_position(record.position().cloned());
    out
}

/// Whether the file at `path`, read as CSV from `from` (where a record begins) to its end,
/// ends inside a quoted value, by the csv reader's rules: a field that begins with `"` is
/// quoted up to a `"` that is not doubled, and a `"` anywhere else is text. When it does,
/// gives the offset of the file's last byte other than white space.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read.
fn unclosed_quote(path: &Path, from: u64, delimiter: u8) -> Result<Option<u64>> {
    use std::io::{BufRead, Seek, SeekFrom};
    #[derive(Clone, Copy, PartialEq)]
    enum In {
        FieldStart,
        Text,
        Quoted,
        QuoteInQuoted,
    }
    let io = |e| Error::io(path.display(), e);
    let mut f = std::fs::File::open(path).map_err(io)?;
    f.seek(SeekFrom::Start(from)).map_err(io)?;
    let mut f = std::io::BufReader::with_capacity(1 << 16, f);
    let (mut state, mut pos, mut last) = (In::FieldStart, from, from);
    loop {
        let buf = f.fill_buf().map_err(io)?;
        if buf.is_empty() {
            break;
        }
        for &b in buf {
            state = match (state, b) {
                (In::Quoted, b'"') => In::QuoteInQuoted,
                (In::Quoted, _) => In::Quoted,
                (In::FieldStart | In::QuoteInQuoted, b'"') => In::Quoted,
                (_, b'\n' | b'\r') => In::FieldStart,
                (_, b) if b == delimiter => In::FieldStart,
                _ => In::Text,
            };
            if !b.is_ascii_whitespace() {
                last = pos;
            }
            pos += 1;
        }
        let n = buf.len();
        f.consume(n);
    }
    Ok((state == In::Quoted).then_some(last))
}

/// Missing values of year, month and day columns: an empty cell, `NA`, `.`, or a negative
/// number (COW writes `-9`); a month or day of `0` is missing too.
fn missing_part(text: &str) -> bool {
    matches!(text, "" | "NA" | "N/A" | "." | "NaN") || text.starts_with('-')
}

/// The actor kind a cell or flag names.
fn actor_kind_of(text: &str) -> std::result::Result<ActorKind, String> {
    ActorKind::parse(text).ok_or_else(|| {
        format!(
            "`{text}` is not an actor kind (one of: {})",
            ActorKind::names()
        )
    })
}
