//! `stancelog import csv FILE`: an analyst's own spreadsheet, mapped by flags.

use std::path::{Path, PathBuf};
use std::time::Duration;

use stancelog::Error;
use stancelog::core::{ActorKind, Country, Sector, TopicKind};
use stancelog::import::sheet::{self, Options, Register, Source, StanceMap};
use stancelog::import::{ImportReport, Progress};

/// Arguments of `import csv`.
///
/// Each data row becomes one stance.declared. Columns are named by their header, or by 1-based
/// number (always so with --no-header). Refused rows are listed with their line numbers; the
/// rest is appended.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
stancelog import csv votes.csv --actor-col country --topic-col motion --stance-col vote \\\n    \
--stance-map 'Y=support,N=oppose,A=abstain' --date-col date --register\n  \
stancelog import csv events.tab --delimiter '\\t' --actor-col 'Source Name' --slug-ids \\\n    \
--topic-col 'Target Name' --stance-col 'CAMEO Code' --stance-map '03*=support,12*=oppose' \\\n    \
--date-col 'Event Date' --cite-col Publisher --register --actor-country XXX")]
pub struct Args {
    /// The flags, boxed: they are many, and the other importers' arguments few.
    #[command(flatten)]
    pub flags: Box<Flags>,
}

/// The flags of `import csv`.
#[derive(Debug, clap::Args)]
pub struct Flags {
    /// The sheet (CSV; see --delimiter for TSV and others).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The column of actor ids.
    #[arg(long, value_name = "COL")]
    pub actor_col: String,
    /// The column of topic ids.
    #[arg(
        long,
        value_name = "COL",
        required_unless_present = "topic",
        conflicts_with = "topic"
    )]
    pub topic_col: Option<String>,
    /// One topic id for every row.
    #[arg(long, value_name = "ID")]
    pub topic: Option<String>,
    /// The column of stances.
    #[arg(long, value_name = "COL")]
    pub stance_col: String,
    /// Sheet values to stances, e.g. `yes=support,no=oppose` (repeatable). A value ending in `*`
    /// matches by prefix (`14*=oppose`). Values not in the map are refused unless they are
    /// stance names.
    #[arg(long, value_name = "MAP")]
    pub stance_map: Vec<String>,
    /// The column of dates (YYYY-MM-DD, YYYY-MM, YYYY, with a time as in the log format, or
    /// YYYYMMDD).
    #[arg(
        long,
        value_name = "COL",
        required_unless_present = "date",
        conflicts_with = "date"
    )]
    pub date_col: Option<String>,
    /// One date for every row.
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// The column of verbatim quotes (an empty cell: no quote).
    #[arg(long, value_name = "COL")]
    pub quote_col: Option<String>,
    /// The column of cite.publication (an empty cell falls back to --cite).
    #[arg(long, value_name = "COL")]
    pub cite_col: Option<String>,
    /// cite.publication for every row (or where --cite-col is empty). Default: the file name.
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
    /// Kind of registered actors.
    #[arg(long, value_name = "KIND", default_value = "state", value_parser = parse_actor_kind, requires = "register")]
    pub actor_kind: ActorKind,
    /// Country of registered actors (ISO 3166-1 alpha-3). Default: the actor id if it is three
    /// capital letters, or the alpha-3 code of an ISO alpha-2 id; else the row is refused.
    #[arg(long, value_name = "CODE", value_parser = parse_country, requires = "register")]
    pub actor_country: Option<Country>,
    /// Sector of registered actors (CAMEO role code).
    #[arg(long, value_name = "SECTOR", default_value = "GOV", value_parser = parse_sector, requires = "register")]
    pub actor_sector: Sector,
    /// Kind of registered topics: policy, claim, vote or treaty.
    #[arg(long, value_name = "KIND", default_value = "policy", value_parser = parse_topic_kind, requires = "register")]
    pub topic_kind: TopicKind,
    /// Turn actor and topic values into ids: lower case, runs of other characters than letters
    /// and digits one `-` (the value itself becomes the name or title of a registered one).
    #[arg(long)]
    pub slug_ids: bool,
    /// The field delimiter: one character, or `\t` (or `tab`) for TSV.
    #[arg(long, value_name = "CHAR", default_value = ",", value_parser = sheet::parse_delimiter)]
    pub delimiter: u8,
    /// The first line is data, not a header: give columns by 1-based number.
    #[arg(long)]
    pub no_header: bool,
}

fn parse_actor_kind(text: &str) -> Result<ActorKind, String> {
    ActorKind::parse(text).ok_or_else(|| format!("one of: {}", ActorKind::names()))
}

fn parse_topic_kind(text: &str) -> Result<TopicKind, String> {
    TopicKind::parse(text).ok_or_else(|| format!("one of: {}", TopicKind::names()))
}

fn parse_sector(text: &str) -> Result<Sector, String> {
    Sector::parse(text).ok_or_else(|| format!("one of: {}", Sector::names()))
}

fn parse_country(text: &str) -> Result<Country, String> {
    Country::new(text).map_err(|e| e.to_string())
}

/// Runs the import into the log at `log`.
pub fn run(
    log: &Path,
    args: &Args,
    now: chrono::DateTime<chrono::Utc>,
    wait: Duration,
    progress: &dyn Progress,
) -> Result<ImportReport, Error> {
    let args = &*args.flags;
    let mut stance_map = StanceMap::default();
    for m in &args.stance_map {
        stance_map
            .add(m)
            .map_err(|e| Error::Usage(format!("--stance-map: {e}")))?;
    }
    let source = |col: &Option<String>, fixed: &Option<String>| match (col, fixed) {
        (Some(c), _) => Source::Column(c.clone()),
        (None, Some(f)) => Source::Fixed(f.clone()),
        // clap requires one of the two.
        (None, None) => Source::Fixed(String::new()),
    };
    let opts = Options {
        actor_col: args.actor_col.clone(),
        topic: source(&args.topic_col, &args.topic),
        stance_col: args.stance_col.clone(),
        stance_map,
        date: source(&args.date_col, &args.date),
        quote_col: args.quote_col.clone(),
        cite_col: args.cite_col.clone(),
        cite: args.cite.clone(),
        url_col: args.url_col.clone(),
        recorded_col: args.recorded_col.clone(),
        register: args.register.then_some(Register {
            actor_kind: args.actor_kind,
            actor_country: args.actor_country,
            actor_sector: args.actor_sector,
            topic_kind: args.topic_kind,
        }),
        slug_ids: args.slug_ids,
        delimiter: args.delimiter,
        header: !args.no_header,
        now,
        wait,
    };
    sheet::import(log, &args.file, &opts, progress)
}
