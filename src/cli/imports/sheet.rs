//! `stancelog import csv FILE`: an analyst's own table, mapped by flags or a TOML mapping file.

use std::path::PathBuf;

use stancelog::store::LogRef;
use std::time::Duration;

use stancelog::Error;
use stancelog::import::sheet::{self, Spec};
use stancelog::import::{ImportReport, Progress};

/// Arguments of `import csv`.
///
/// Each data row gives a stance (--stance-col or --stance, dated by --date-col, --date or
/// --year-col), further stances (--event), and/or a membership spell (--from-col,
/// --until-col). Columns are named by their header, or by 1-based number (always so with
/// --no-header). Every flag is also a key of a --mapping file (TOML, same names). Refused rows
/// are listed with their physical line numbers, the rest is appended, and the exit status is 2
/// when any row was refused.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
stancelog import csv votes.csv --actor-col country --topic-col motion --stance-col vote \\\n    \
--stance-map 'Y=support,N=oppose,A=abstain' --date-col date --register\n  \
stancelog import csv ratifications.csv --actor-col Code --topic paris-agreement \\\n    \
--topic-kind treaty --event signed=Signature --event ratified=Ratification \\\n    \
--instrument-col Kind --date-format '%d/%m/%Y' --register --dataset untc-paris\n  \
stancelog import csv states.csv --actor-col ccode --country-scheme cow \\\n    \
--topic cow-state-system --topic-title 'COW state system' --from-year-col styear \\\n    \
--from-month-col stmonth --from-day-col stday --until-year-col endyear \\\n    \
--until-month-col endmonth --until-day-col endday --register\n  \
stancelog import csv alliances.csv --mapping atop.toml --dry-run")]
pub struct Args {
    /// The flags, boxed: they are many, and the other importers' arguments few.
    #[command(flatten)]
    pub flags: Box<Flags>,
}

/// The flags of `import csv` (each also a key of a --mapping file).
#[derive(Debug, clap::Args)]
pub struct Flags {
    /// The sheet (CSV; see --delimiter for TSV and others).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// A TOML mapping file whose keys are these flags' names (`actor-col = "ccode"`); flags
    /// given on the command line override it.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Show what would be appended, cited, corrected, skipped and refused; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The data set's identity, part of every event id (default: --cite, else a fingerprint of
    /// the header's names and the flags that identify a row, not those that choose rows or say
    /// what cells mean). Two sheets with one name but different --dataset never
    /// share ids; a renamed or re-saved copy with the same --dataset always does.
    #[arg(long, value_name = "NAME")]
    pub dataset: Option<String>,
    /// Key fields of a stance, comma-separated, from role, actor, topic, date, stance,
    /// recipient, extra (default role,actor,topic,date). A known key with other content is
    /// refused (or with --corrections corrected).
    #[arg(long, value_name = "FIELDS")]
    pub key: Option<String>,
    /// Append a known key whose content changed as a stance.corrected (else refuse the row).
    #[arg(long)]
    pub corrections: bool,
    /// The column of actors: ids, or codes of --country-scheme.
    #[arg(long, value_name = "COL")]
    pub actor_col: Option<String>,
    /// The actor column holds state codes of this scheme: iso2, iso3, iso-numeric, cow,
    /// cow-alpha, gw or name. Actors become ISO 3166-1 alpha-3 ids (COW SWZ = Switzerland =
    /// CHE; ISO SWZ = Eswatini).
    #[arg(long, value_name = "SCHEME")]
    pub country_scheme: Option<String>,
    /// The column of actor names (for registration; default: the actor cell, or the scheme's
    /// name of the state).
    #[arg(long, value_name = "COL")]
    pub actor_name_col: Option<String>,
    /// The column of actor kinds (person, state, government, ...).
    #[arg(long, value_name = "COL")]
    pub actor_kind_col: Option<String>,
    /// The column of actor countries (ISO 3166-1 alpha-3, checked against ISO 3166).
    #[arg(long, value_name = "COL")]
    pub actor_country_col: Option<String>,
    /// Kind of registered actors (default state).
    #[arg(long, value_name = "KIND")]
    pub actor_kind: Option<String>,
    /// Country of registered actors (ISO 3166-1 alpha-3, IGO, NGO, or a user-assigned X..
    /// code). Default: the actor id if it is such a code, or the alpha-3 code of an ISO
    /// alpha-2 id; else the row is refused.
    #[arg(long, value_name = "CODE")]
    pub actor_country: Option<String>,
    /// Sector of registered actors (CAMEO role code; default GOV).
    #[arg(long, value_name = "SECTOR")]
    pub actor_sector: Option<String>,
    /// The column of topic ids.
    #[arg(long, value_name = "COL")]
    pub topic_col: Option<String>,
    /// One topic id for every row.
    #[arg(long, value_name = "ID")]
    pub topic: Option<String>,
    /// Title of registered topics (default: the topic cell).
    #[arg(long, value_name = "TEXT")]
    pub topic_title: Option<String>,
    /// The column of topic titles.
    #[arg(long, value_name = "COL")]
    pub topic_title_col: Option<String>,
    /// Kind of registered topics: policy, claim, vote, treaty or membership (default
    /// membership with a spell, else policy).
    #[arg(long, value_name = "KIND")]
    pub topic_kind: Option<String>,
    /// The column of stances.
    #[arg(long, value_name = "COL")]
    pub stance_col: Option<String>,
    /// One stance for every row.
    #[arg(long, value_name = "STANCE")]
    pub stance: Option<String>,
    /// Sheet values to stances, e.g. `yes=support,no=oppose` (repeatable). A value ending in `*`
    /// matches by prefix (`14*=oppose`). Values not in the map are refused unless they are
    /// stance names.
    #[arg(long, value_name = "MAP")]
    pub stance_map: Vec<String>,
    /// The column of dates (YYYY-MM-DD, YYYY-MM, YYYY, with a time as in the log format, or
    /// YYYYMMDD; or as --date-format says).
    #[arg(long, value_name = "COL")]
    pub date_col: Option<String>,
    /// One date for every row.
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// The column of years (a date from parts; with --month-col and --day-col). A missing
    /// month or day (empty, NA, 0, -9) gives a year or month date, never an invented day.
    #[arg(long, value_name = "COL")]
    pub year_col: Option<String>,
    /// The column of months (1-12).
    #[arg(long, value_name = "COL")]
    pub month_col: Option<String>,
    /// The column of days (1-31).
    #[arg(long, value_name = "COL")]
    pub day_col: Option<String>,
    /// strftime format of date cells: `%d/%m/%Y`, `%Y-%m-%d %H:%M:%S`, `%d %b %Y`, `%Y`
    /// (without %d a month date; without %m a year date; a time of day is read and dropped).
    /// Refused before any row is read: a two-digit year (%y), a day of the year or week (%j, %U),
    /// any specifier that is not part of a date (%Z, %s), and a
    /// format without a year (%Y or %F).
    #[arg(long, value_name = "FORMAT")]
    pub date_format: Option<String>,
    /// A further stance of each row, dated by its own column: `STANCE=COL` (repeatable), e.g.
    /// `signed=Signature`. An empty cell: no such stance for that row.
    #[arg(long, value_name = "STANCE=COL")]
    pub event: Vec<String>,
    /// The column where a membership spell begins (the actor is a `member` from that date).
    #[arg(long, value_name = "COL")]
    pub from_col: Option<String>,
    /// The column where it ends (`not_member` from then; see --until). Empty: still a member.
    #[arg(long, value_name = "COL")]
    pub until_col: Option<String>,
    /// Spell start from parts: the year column (with --from-month-col, --from-day-col).
    #[arg(long, value_name = "COL")]
    pub from_year_col: Option<String>,
    /// Spell start month column.
    #[arg(long, value_name = "COL")]
    pub from_month_col: Option<String>,
    /// Spell start day column.
    #[arg(long, value_name = "COL")]
    pub from_day_col: Option<String>,
    /// Spell end from parts: the year column (with --until-month-col, --until-day-col).
    #[arg(long, value_name = "COL")]
    pub until_year_col: Option<String>,
    /// Spell end month column.
    #[arg(long, value_name = "COL")]
    pub until_month_col: Option<String>,
    /// Spell end day column.
    #[arg(long, value_name = "COL")]
    pub until_day_col: Option<String>,
    /// `inclusive`: the end is the last day of membership, so `not_member` takes effect the
    /// day (month, year) after; `exclusive`: the end is the first day out. Default inclusive.
    #[arg(long, value_name = "WHICH")]
    pub until: Option<String>,
    /// An end value meaning "still a member" (repeatable), e.g. `9999-12-31`, `0`. Matched
    /// against the end cell (or the end year cell).
    #[arg(long, value_name = "VALUE")]
    pub open_value: Vec<String>,
    /// Skip rows whose cell COL is VALUE (repeatable); reported as skipped, not refused.
    #[arg(long, value_name = "COL=VALUE")]
    pub skip_if: Vec<String>,
    /// The column of treaty instruments of `ratified` stances: ratification, acceptance,
    /// approval, accession or provisional application (case and spaces ignored).
    #[arg(long, value_name = "COL")]
    pub instrument_col: Option<String>,
    /// The column of verbatim quotes (an empty cell: no quote).
    #[arg(long, value_name = "COL")]
    pub quote_col: Option<String>,
    /// The column of cite.publication (an empty cell falls back to --cite).
    #[arg(long, value_name = "COL")]
    pub cite_col: Option<String>,
    /// cite.publication for every row (or where --cite-col is empty). Default: the data set.
    #[arg(long, value_name = "TEXT")]
    pub cite: Option<String>,
    /// The column of cite.url (an empty cell: no URL).
    #[arg(long, value_name = "COL")]
    pub url_col: Option<String>,
    /// The column of recorded times (RFC 3339, or YYYY-MM-DD for midnight UTC); they must not
    /// decrease down the sheet, and each distinct time is a batch of its own. Default: now.
    #[arg(long, value_name = "COL")]
    pub recorded_col: Option<String>,
    /// Register actors and topics the log does not know yet (else their rows are refused).
    #[arg(long)]
    pub register: bool,
    /// Turn actor and topic values into ids: in Unicode NFC, lower case, runs of other characters
    /// than letters, digits and combining marks one `-` (the value itself becomes the name or
    /// title of a registered one).
    #[arg(long)]
    pub slug_ids: bool,
    /// The field delimiter: one character, or `\t` (or `tab`) for TSV. Default `,`.
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// The first line is data, not a header: give columns by 1-based number. Every row must
    /// then have as many fields as the first (others are refused).
    #[arg(long)]
    pub no_header: bool,
}

impl Flags {
    /// The flags as a spec (a switch not given is unset, so a mapping file's value stands).
    fn spec(&self) -> Spec {
        let on = |b: bool| b.then_some(true);
        Spec {
            dataset: self.dataset.clone(),
            delimiter: self.delimiter.clone(),
            no_header: on(self.no_header),
            key: self.key.clone(),
            actor_col: self.actor_col.clone(),
            country_scheme: self.country_scheme.clone(),
            actor_name_col: self.actor_name_col.clone(),
            actor_kind_col: self.actor_kind_col.clone(),
            actor_country_col: self.actor_country_col.clone(),
            actor_kind: self.actor_kind.clone(),
            actor_country: self.actor_country.clone(),
            actor_sector: self.actor_sector.clone(),
            topic_col: self.topic_col.clone(),
            topic: self.topic.clone(),
            topic_title: self.topic_title.clone(),
            topic_title_col: self.topic_title_col.clone(),
            topic_kind: self.topic_kind.clone(),
            stance_col: self.stance_col.clone(),
            stance: self.stance.clone(),
            stance_map: self.stance_map.clone(),
            date_col: self.date_col.clone(),
            date: self.date.clone(),
            year_col: self.year_col.clone(),
            month_col: self.month_col.clone(),
            day_col: self.day_col.clone(),
            date_format: self.date_format.clone(),
            event: self.event.clone(),
            from_col: self.from_col.clone(),
            until_col: self.until_col.clone(),
            from_year_col: self.from_year_col.clone(),
            from_month_col: self.from_month_col.clone(),
            from_day_col: self.from_day_col.clone(),
            until_year_col: self.until_year_col.clone(),
            until_month_col: self.until_month_col.clone(),
            until_day_col: self.until_day_col.clone(),
            until: self.until.clone(),
            open_value: self.open_value.clone(),
            skip_if: self.skip_if.clone(),
            instrument_col: self.instrument_col.clone(),
            quote_col: self.quote_col.clone(),
            cite_col: self.cite_col.clone(),
            cite: self.cite.clone(),
            url_col: self.url_col.clone(),
            recorded_col: self.recorded_col.clone(),
            register: on(self.register),
            slug_ids: on(self.slug_ids),
            corrections: on(self.corrections),
        }
    }
}

/// Runs the import into the log at `log`.
pub fn run(
    log: &LogRef,
    args: &Args,
    now: jiff::Timestamp,
    wait: Duration,
    progress: &dyn Progress,
) -> Result<ImportReport, Error> {
    let flags = &*args.flags;
    let spec = match &flags.mapping {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path.display(), e))?;
            let text = mapping_text(path, &bytes)?;
            Spec::from_toml(&path.display().to_string(), text)?.overridden_by(flags.spec())
        }
        None => flags.spec(),
    };
    sheet::import(log, &flags.file, &spec, now, wait, flags.dry_run, progress)
}

/// The text of the mapping file at `path`, which must be UTF-8 (as TOML is).
///
/// # Errors
/// [`Error::Input`] at the line of the first byte that is not UTF-8 (it was an I/O error, exit
/// 1, with no line).
fn mapping_text<'b>(path: &std::path::Path, bytes: &'b [u8]) -> Result<&'b str, Error> {
    std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        let at = stancelog::Location {
            file: path.display().to_string(),
            line: Some(1 + good.iter().filter(|b| **b == b'\n').count() as u64),
            field: None,
        };
        Error::input(at, "not UTF-8 text: a TOML mapping is UTF-8")
    })
}
