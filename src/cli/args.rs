//! Command-line arguments, parsed and validated into plain structs before anything runs.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use stancelog::Error;
use stancelog::core::{Day, Measure};
use stancelog::export::columns::{self, Column};

/// An append-only, event-sourced log of attributed public stances.
///
/// Every stance (who, on which topic, which stance, when, quoted from which source) is an event
/// in a JSON Lines log. Queries replay the log to any date.
#[derive(Debug, Parser)]
#[command(name = "stancelog", version, about, long_about = None)]
#[command(
    after_help = "Dates are calendar dates (YYYY-MM-DD) with no time zone; --as-of, --from and --to \
are inclusive. A stance dated only YYYY-MM or YYYY takes effect on the first day of that period.\n\n\
--known-at TIME limits a query to what the log had recorded by TIME (recorded time), so \
corrections and retractions recorded later are not applied.\n\n\
Exit codes: 0 success, 1 I/O error, 2 usage or input error, 3 expected-seq conflict."
)]
pub struct Args {
    /// The log: a JSON Lines file, or a PostgreSQL database as a connection string
    /// (`postgres://USER@HOST/DB`, or `host=... dbname=...`; a password is taken from the
    /// string or from PGPASSFILE / ~/.pgpass, and never printed). Default: the STANCELOG_LOG
    /// environment variable.
    #[arg(
        long,
        global = true,
        env = "STANCELOG_LOG",
        value_name = "PATH|URL",
        hide_env_values = true
    )]
    pub log: Option<std::ffi::OsString>,

    /// For scripts: no progress bars or notes, and nothing on standard output from commands
    /// that only say what they did (init, append, add, new, retract, correct, cite, export,
    /// import, index, report, copy). Query answers, warnings and errors still print; the exit code tells success.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an empty log (refuses to overwrite an existing file).
    Init,
    /// Append events from a file or standard input, all or none.
    ///
    /// Input: one JSON object, or JSON Lines, of events without `seq`, `recorded_at`, `hash` or
    /// `batch_last` (assigned by the log). Prints the seq and id given to each event.
    Append(AppendArgs),
    /// Each actor's position on each topic as of a date.
    Positions(PositionsArgs),
    /// What changed between two dates: positions added, changed or removed.
    Diff(DiffArgs),
    /// Every stance in date order, marked current, superseded or retracted.
    Timeline(TimelineArgs),
    /// Registered actors, with counts of their stances.
    Actors(ListArgs),
    /// Registered topics, with counts of stances on them.
    Topics(ListArgs),
    /// Record an actor, a topic or a stance from flags, without writing JSON.
    ///
    /// Builds the event and appends it through the same path as `append` (same checks, same
    /// errors), then prints the stored event. `--dry-run` prints it without appending.
    Add(super::add::AddArgs),
    /// Record a stance in $EDITOR: the same as `add stance --from-editor`, with the same flags.
    ///
    /// Opens $VISUAL or $EDITOR (else vi) on a commented template, prefilled with the flags
    /// given, and records what is saved through the same path as `append`. Bad text is refused
    /// with the error (file, line, field) and kept in its file for `--resume FILE`.
    New(Box<super::add::NewArgs>),
    /// Retract a stance whose report was withdrawn (a `stance.retracted` event).
    Retract(super::retract::RetractArgs),
    /// Correct a stance we coded wrong (a `stance.corrected` event): the flags given replace
    /// those fields from now on, in recorded time.
    Correct(super::correct::CorrectArgs),
    /// Add a further report of a stance already in the log (a `stance.cited` event).
    Cite(super::cite::CiteArgs),
    /// Write a query's answer to a file for other tools: Parquet (typed), NDJSON or CSV.
    ///
    /// Columns, types and meanings: docs/output.md. Prints how many rows were written.
    Export(super::export::ExportArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    ///
    /// bash: `stancelog completions bash > ~/.local/share/bash-completion/completions/stancelog`;
    /// zsh: into a directory of your `fpath` as `_stancelog`; fish:
    /// `~/.config/fish/completions/stancelog.fish`.
    Completions(super::completions::CompletionsArgs),
    /// Print the man page (roff), or write one page per command with --dir.
    ///
    /// `stancelog man > ~/.local/share/man/man1/stancelog.1`, then `man stancelog`.
    Man(super::man::ManArgs),
    /// Import a data set: UN votes, a treaty's status history, any table, or coded event data.
    ///
    /// Events are appended in durable batches under one lock; event ids are derived from what
    /// each row says and the data set's identity (never the file's name or line), so importing
    /// the same data again, or a renamed or re-sorted copy, appends nothing new. The exit status
    /// is 2 when any row was refused (the rest is appended). A progress bar shows on standard
    /// error when it is a terminal.
    Import(ImportArgs),
    /// Build, check or report the projection index beside the log (PATH.index/).
    ///
    /// Queries answer from the index without reading the log; appends and imports keep it up to
    /// date, and the first query builds it when it is missing. It is derived and can be deleted
    /// at any time; one that no longer matches the log is discarded and rebuilt, never trusted.
    /// A PostgreSQL log's index is a local cache folder, pg-DATABASE-KEY.index/ in
    /// $STANCELOG_CACHE, else $XDG_CACHE_HOME/stancelog, else ~/.cache/stancelog; queries catch
    /// it up from the rows appended since.
    /// Without flags: brings it up to date and reports what it holds.
    Index(IndexArgs),
    /// Check every line: JSON, schema, seq contiguity, the hash chain, references.
    ///
    /// Prints the event count and the head hash on a good log; names the first bad line and
    /// exits 2 otherwise. A torn tail also fails verification (the next append removes it),
    /// unless a writer is writing that batch right now. Note the head hash and pass it later as
    /// `--expect-head` to detect a log cut back to an earlier batch, which no hash chain can
    /// detect on its own.
    Verify(super::verify::VerifyArgs),
    /// Copy a log to another, file or PostgreSQL (`--log` is not used): the same lines, seqs
    /// and hashes, byte for byte. Resumable: a target holding an earlier part of the source
    /// gets only what it lacks; a target holding anything else is refused.
    Copy(super::copy::CopyArgs),
    /// Agreement between pairs of actors per period: agree, Voeten's score, S, pi, kappa.
    ///
    /// For each pair and period, over the topics on which both took a stance dated in the
    /// period (each side's last such stance), with corrections, retractions, aliases and
    /// --known-at applied. Rows: actor_a < actor_b by id, the period, `common` (topics both took
    /// a stance on) and one field per measure. Formulas and their sources: under Measures at the
    /// end of `stancelog agreement --help`, and in README.md (Analysis).
    #[command(after_help = AGREEMENT_HELP)]
    Agreement(AgreementArgs),
    /// Counts of each stance per period and actor, or (--cumulative) the holders of each stance
    /// on one topic at the end of each period (how many states had ratified by each month).
    Trend(TrendArgs),
    /// Write one self-contained HTML report (inline SVG charts, each with its table; no
    /// network, no script): position grid, stances over time, agreement, treaty curves, diff.
    ///
    /// The same log and flags give the same bytes.
    Report(ReportArgs),
    /// Follow the log: print every event from --from-seq on (default: the log's end) in seq
    /// order, then each batch as it is appended, until interrupted.
    ///
    /// A catch-up subscription: each seq is printed exactly once, in order, never skipped. The
    /// output is flushed after each batch. SIGINT (Ctrl-C) or SIGTERM ends it cleanly (exit 0,
    /// every event printed whole); so does the reader of a pipe going away (`watch | head`). To
    /// resume later without a gap or a repeat, pass the last seq printed plus one as --from-seq.
    #[command(after_help = WATCH_HELP)]
    Watch(super::watch::WatchArgs),
}

/// How `watch` never skips a seq (the high-water mark), for `stancelog watch --help`.
const WATCH_HELP: &str = "Filters: --actor, --topic and --issue take what queries take (an actor's \
id, name or alias; a topic's id; an issue tag), resolved on the log when watch starts. Each \
event is judged as known when it was recorded: a stance by its actor and topic, a correction, \
retraction or citation by its stance's (before and after a correction), a registration, role \
or alias link by the actor or topic it names; an actor covers the ids linked to it by \
actor.aliased links recorded by then. Repeated flags add; --actor with --topic keeps the \
actor's and the topic's own events and the stances of that actor on that topic.\n\n\
How new events are noticed: on a file log, the file's length is \
looked at every 100 ms and only the bytes after what was read are read; a batch still being \
written (its last record not yet there) is left for the next look. On PostgreSQL, watch LISTENs \
on the channel stancelog_append (every append notifies it, delivered at its commit), \
reads the records after the last seq printed on each notification, and every 5 s without one. \
A lost connection (the server restarted or unreachable) is said on standard error and made \
again, trying after 1 s, 2 s, 4 s and so on up to every 30 s; watch then reads on from the \
last seq it printed.\n\n\
Why no seq is skipped (the high-water mark): watch prints only up to the end of the run of \
complete batches contiguous with what it printed. On a file, one writer at a time appends \
whole batches at the end, in seq order. On PostgreSQL, seqs are taken under the append path's \
advisory transaction lock, which is released only once the commit is visible, so seq N+1 \
never becomes visible before N. Should a gap be visible all the same (a row inserted by hand, \
outside stancelog), watch waits for the missing seq with a warning rather than skip it.";

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for reading.
    Table,
    /// A JSON array, for scripts.
    Json,
    /// JSON Lines: one compact JSON object per line (the objects of `json`), for large
    /// answers and tools that read line by line (DuckDB `read_json`, pandas `lines=True`).
    Ndjson,
    /// CSV with a header row.
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct AppendArgs {
    /// Input file; `-` or nothing for standard input.
    #[arg(value_name = "FILE")]
    pub file: Option<String>,
    /// Append only if the log's last seq is N (expected version); else exit 3.
    #[arg(long, value_name = "N")]
    pub expect_seq: Option<u64>,
    /// Seconds to wait for another writer's lock before failing.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = parse_wait)]
    pub wait: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// What every recording command (`add`, `retract`, `correct`, `cite`) shares.
#[derive(Debug, clap::Args)]
pub struct WriteArgs {
    /// Check the event against the log and print it, without appending anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Append only if the log's last seq is N (expected version); else exit 3.
    #[arg(long, value_name = "N")]
    pub expect_seq: Option<u64>,
    /// Seconds to wait for another writer's lock before failing.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = parse_wait)]
    pub wait: f64,
    /// Output format: `table` prints a line about the append and the stored record as one JSON
    /// line; `json` prints the stored record alone.
    #[arg(long, value_enum, default_value_t = RecordFormat::Table)]
    pub format: RecordFormat,
}

/// Output format of a recording command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordFormat {
    /// A line saying what was done, then the stored record as one JSON line.
    Table,
    /// The stored record alone, as a JSON object.
    Json,
}

/// Where a stance was reported: the `cite` object, from flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CiteFlags {
    /// The outlet, agency, record or data set that published the report (`cite.publication`).
    #[arg(long, value_name = "TEXT")]
    pub cite_publication: Option<String>,
    /// Address of the report (`cite.url`).
    #[arg(long, value_name = "URL")]
    pub cite_url: Option<String>,
    /// Title or headline of the report (`cite.title`).
    #[arg(long, value_name = "TEXT")]
    pub cite_title: Option<String>,
    /// Publication date, YYYY-MM-DD, YYYY-MM or YYYY (`cite.published`).
    #[arg(long, value_name = "DATE")]
    pub cite_published: Option<String>,
    /// The outlet this report relays, e.g. a news agency (`cite.via`).
    #[arg(long, value_name = "TEXT")]
    pub via: Option<String>,
}

impl CiteFlags {
    /// The `cite` record, when a publication is given; `None` when no cite flag is. Other cite
    /// flags without a publication give a record with an empty publication, which the log's
    /// checks refuse by name.
    pub fn record(&self) -> Option<stancelog::store::CiteRecord> {
        let any = self.cite_publication.is_some()
            || self.cite_url.is_some()
            || self.cite_title.is_some()
            || self.cite_published.is_some()
            || self.via.is_some();
        any.then(|| stancelog::store::CiteRecord {
            publication: self.cite_publication.clone().unwrap_or_default(),
            published: self.cite_published.clone(),
            title: self.cite_title.clone(),
            url: self.cite_url.clone(),
            via: self.via.clone(),
        })
    }
}

/// Which actors and topics a query covers.
#[derive(Debug, clap::Args)]
pub struct Scope {
    /// Only this actor id (repeatable).
    #[arg(long, value_name = "ID")]
    pub actor: Vec<String>,
    /// Only this topic id (repeatable).
    #[arg(long, value_name = "ID")]
    pub topic: Vec<String>,
    /// Only topics tagged with this issue, e.g. `nu` for nuclear weapons (repeatable).
    #[arg(long, value_name = "TAG")]
    pub issue: Vec<String>,
}

/// `--columns`: which output columns, in which order.
#[derive(Debug, Default, clap::Args)]
pub struct Columns {
    /// Only these output columns, in this order, comma-separated: the flat column names of
    /// docs/output.md (the CSV and Parquet names; an unknown name is refused with the answer's
    /// list), e.g. `actor,topic,stance,since_date,seq,event_id` (positions, timeline),
    /// `actor,topic,change,before_stance,after_stance` (diff), `actor,name,stances` (actors),
    /// `topic,title,stances` (topics), `seq,type,actor,topic,stance,date` (export events).
    /// JSON and NDJSON rows are then flat objects of just these fields (no `output_version`
    /// unless named), CSV and Parquet just these columns, and a table these columns under
    /// their names (no heading line). Without it, every column in each format's own shape.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
}

impl Columns {
    /// The columns of `all` that `--columns` names, in its order; `None` without
    /// `--columns`.
    ///
    /// # Errors
    /// [`Error::Usage`] for a name that is not one of `all`'s (listing them) or one named
    /// twice.
    pub fn pick<R>(&self, all: Vec<Column<R>>) -> Result<Option<Vec<Column<R>>>, Error> {
        self.columns
            .as_deref()
            .map(|names| columns::select(all, names))
            .transpose()
            .map_err(|e| Error::Usage(format!("--columns: {e}")))
    }
}

#[derive(Debug, clap::Args)]
pub struct PositionsArgs {
    #[command(flatten)]
    pub query: PositionsQuery,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub pick: Columns,
}

/// What `positions` (and `export positions`) asks.
#[derive(Debug, clap::Args)]
pub struct PositionsQuery {
    /// Positions as of this date, inclusive (YYYY-MM-DD). Default: after the latest date.
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub as_of: Option<Day>,
    /// Only what the log had recorded by this time (RFC 3339, or YYYY-MM-DD for the end of
    /// that day in UTC). Default: everything.
    #[arg(long, value_name = "TIME", value_parser = parse_known_at)]
    pub known_at: Option<KnownAt>,
    #[command(flatten)]
    pub scope: Scope,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub query: DiffQuery,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub pick: Columns,
}

/// What `diff` (and `export diff`) asks.
#[derive(Debug, clap::Args)]
pub struct DiffQuery {
    /// Positions as of this date (inclusive, YYYY-MM-DD) are the "before".
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub from: Day,
    /// Positions as of this date (inclusive, YYYY-MM-DD) are the "after"; not before --from.
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub to: Day,
    /// Both sides as recorded by this time (RFC 3339, or YYYY-MM-DD for the end of that day
    /// in UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_known_at, conflicts_with_all = ["from_known_at", "to_known_at"])]
    pub known_at: Option<KnownAt>,
    /// The "before" side as recorded by this time.
    #[arg(long, value_name = "TIME", value_parser = parse_known_at)]
    pub from_known_at: Option<KnownAt>,
    /// The "after" side as recorded by this time.
    #[arg(long, value_name = "TIME", value_parser = parse_known_at)]
    pub to_known_at: Option<KnownAt>,
    #[command(flatten)]
    pub scope: Scope,
}

#[derive(Debug, clap::Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    pub query: TimelineQuery,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub pick: Columns,
}

/// What `timeline` (and `export timeline`) asks.
#[derive(Debug, clap::Args)]
pub struct TimelineQuery {
    /// Only what the log had recorded by this time (RFC 3339, or YYYY-MM-DD for the end of
    /// that day in UTC), with statuses as known then.
    #[arg(long, value_name = "TIME", value_parser = parse_known_at)]
    pub known_at: Option<KnownAt>,
    #[command(flatten)]
    pub scope: Scope,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub kind: super::imports::ImportKind,
    /// Seconds to wait for another writer's lock before failing.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 5.0, value_parser = parse_wait)]
    pub wait: f64,
    /// Output format of the summary.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub pick: Columns,
}

/// The measures, as `stancelog agreement --help` explains them.
const AGREEMENT_HELP: &str = "Measures (stances on the polarity scale +1, 0, -1: yes/support/affirm/ratified, \
abstain/neutral/doubt, no/oppose/deny/withdrawn):\n\
  agree         share of common topics with the same stance (R package unvotes)\n\
  agree_voeten  1 same vote, 0.5 one abstains, 0 yes against no, averaged (Voeten's UN data)\n\
  s             Signorino and Ritter's S (1999): 1 - 2 * mean|x1 - x2| / 2\n\
  pi            Scott's pi (1955): chance agreement from the pair's pooled shares of +1, 0, -1\n\
  kappa         Cohen's kappa (1960): chance agreement from each actor's own shares\n\
pi and kappa are empty (null in JSON) when both actors gave one same polarity throughout.";

/// How `agreement` groups stances in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AgreementBy {
    /// Calendar years of the stances' dates.
    Year,
    /// UN General Assembly sessions (the topic's `session`; other topics are left out).
    Session,
    /// One period from --from to --to.
    None,
}

#[derive(Debug, clap::Args)]
pub struct AgreementArgs {
    /// Every pair of actors (instead of two or more --actor).
    #[arg(long, conflicts_with = "actor")]
    pub all: bool,
    /// The periods compared.
    #[arg(long, value_enum, default_value_t = AgreementBy::Year)]
    pub by: AgreementBy,
    /// Only stances dated on or after this day (inclusive, YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub from: Option<Day>,
    /// Only stances dated on or before this day (inclusive, YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub to: Option<Day>,
    /// A measure to give: agree, agree_voeten, s, pi, kappa (repeatable; default: all).
    #[arg(long, value_name = "M", value_parser = parse_measure)]
    pub measure: Vec<Measure>,
    /// Leave out pairs with fewer common topics than this in a period.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_common: u64,
    /// Only what the log had recorded by this time (RFC 3339, or YYYY-MM-DD for the end of
    /// that day in UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_known_at)]
    pub known_at: Option<KnownAt>,
    #[command(flatten)]
    pub scope: Scope,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// With --format csv: one matrix per period (a row per actor, a column per actor) of the
    /// first --measure (default agree), the diagonal being each actor with itself.
    #[arg(long)]
    pub wide: bool,
}

/// How `trend` groups stances in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrendBy {
    /// Calendar years.
    Year,
    /// Calendar months.
    Month,
    /// Days.
    Day,
}

#[derive(Debug, clap::Args)]
pub struct TrendArgs {
    /// The periods counted.
    #[arg(long, value_enum, default_value_t = TrendBy::Year)]
    pub by: TrendBy,
    /// Only stances dated on or after this day (inclusive, YYYY-MM-DD); with --cumulative, the
    /// first period shown (earlier stances still count).
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub from: Option<Day>,
    /// Only stances dated on or before this day (inclusive, YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub to: Option<Day>,
    /// For the one --topic given: how many actors held each stance at the end of each period,
    /// every period from the first stance (or --from) to the last (or --to).
    #[arg(long)]
    pub cumulative: bool,
    /// Only what the log had recorded by this time (RFC 3339, or YYYY-MM-DD for the end of
    /// that day in UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_known_at)]
    pub known_at: Option<KnownAt>,
    #[command(flatten)]
    pub scope: Scope,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The HTML file to write (replaced if it exists; written whole or not at all); `-` for
    /// standard output.
    #[arg(long, value_name = "FILE.html")]
    pub out: PathBuf,
    /// Positions as of this date, inclusive (YYYY-MM-DD). Default: after the latest date.
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub as_of: Option<Day>,
    /// Only what the log had recorded by this time (RFC 3339, or YYYY-MM-DD for the end of
    /// that day in UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_known_at)]
    pub known_at: Option<KnownAt>,
    #[command(flatten)]
    pub scope: Scope,
    /// A pair whose agreement is drawn year by year, as `A,B` (repeatable). Default: every pair
    /// of two to four --actor.
    #[arg(long, value_name = "A,B")]
    pub pair: Vec<String>,
    /// With --to: a table of the positions that changed from as of this date to as of --to.
    #[arg(long, value_name = "DATE", value_parser = parse_day, requires = "to")]
    pub from: Option<Day>,
    /// See --from.
    #[arg(long, value_name = "DATE", value_parser = parse_day, requires = "from")]
    pub to: Option<Day>,
}

fn parse_measure(text: &str) -> Result<Measure, String> {
    Measure::parse(text)
        .ok_or_else(|| format!("`{text}` is not a measure (agree, agree_voeten, s, pi, kappa)"))
}

fn parse_day(text: &str) -> Result<Day, String> {
    Day::parse(text).map_err(|e| e.to_string())
}

/// A recorded-time bound as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownAt {
    /// The time (UTC).
    pub at: jiff::Timestamp,
    /// Given as a date: `at` is the last microsecond of that UTC day.
    pub whole_day: bool,
}

/// A recorded-time bound: an RFC 3339 timestamp with its offset, or a date meaning the last
/// microsecond of that day in UTC (so `--known-at 2024-10-25` includes all of that UTC day).
pub fn parse_known_at(text: &str) -> Result<KnownAt, String> {
    if let Ok(day) = Day::parse(text) {
        return Ok(KnownAt {
            at: day.last_microsecond_utc(),
            whole_day: true,
        });
    }
    text.parse::<jiff::Timestamp>()
        .map(|at| KnownAt {
            at,
            whole_day: false,
        })
        .map_err(|_| {
            format!("`{text}` is neither an RFC 3339 time (2024-10-25T09:30:00Z, 2024-10-25T18:30:00+09:00) nor a date (YYYY-MM-DD)")
        })
}

fn parse_wait(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => Ok(s),
        _ => Err(format!(
            "`{text}` is not a number of seconds from 0 to 86400"
        )),
    }
}

#[derive(Debug, clap::Args)]
pub struct IndexArgs {
    /// Also check the index against the whole log (every event, id, posting list and count;
    /// reads the whole log) and name the first disagreement (exit 2).
    #[arg(long, conflicts_with = "rebuild")]
    pub check: bool,
    /// Discard the index and build it anew from the log.
    #[arg(long)]
    pub rebuild: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}
