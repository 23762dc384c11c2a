//! `stancelog watch`: a catch-up subscription. Prints every event from `--from-seq` on, in seq
//! order, then each batch as it is appended, until interrupted (SIGINT, SIGTERM) or until the
//! reader of standard output goes away. The store's [`Follower`] keeps the high-water mark;
//! this loop prints up to it, flushes, and waits.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::ValueEnum;

use stancelog::core::{Filter, History, Seq};
use stancelog::export::rows::EventRow;
use stancelog::store::{FILE_POLL, Follower, LogRef, format_recorded_at};
use stancelog::{Error, ErrorKind};

use super::Failure;
use super::args::Scope;
use super::common;

/// What `watch` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WatchFormat {
    /// One line per event: seq, recorded time, type and its fields as `key=value`, under a
    /// header line.
    Table,
    /// One JSON object per line, the same objects as `ndjson` (a stream that never ends cannot
    /// be one JSON array).
    Json,
    /// One JSON object per line: the columns of `export events` (docs/output.md).
    Ndjson,
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// The first seq to print (inclusive); `1` prints the whole log first. Default: the log's
    /// end (only what is appended from now on; the seq it starts from is noted on standard
    /// error). Restart a watch with the last seq it printed plus one to resume without a gap
    /// and without a repeat.
    #[arg(long, value_name = "SEQ", value_parser = clap::value_parser!(u64).range(1..))]
    pub from_seq: Option<u64>,
    /// Only events about these actors and topics (see "Filters" below).
    #[command(flatten)]
    pub scope: Scope,
    /// Output format.
    #[arg(long, value_enum, default_value_t = WatchFormat::Table)]
    pub format: WatchFormat,
}

/// How long one wait lasts before the loop looks at the signals and standard output again
/// (and, on a file log, at the file's length).
const TICK: Duration = FILE_POLL;

/// Follows the log until a signal or a closed standard output; exit 0 either way.
pub fn run(w: &WatchArgs, target: &LogRef, out: &mut dyn Write) -> Result<(), Failure> {
    let stop = stop_on_signals()?;
    let (mut follower, filter, mut next) = start(w, target)?;
    if w.format == WatchFormat::Table {
        writeln!(
            out,
            "{:>7}  {:<27}  {:<16}  FIELDS",
            "SEQ", "RECORDED_AT", "TYPE"
        )?;
    }
    let mut warned_gap = None;
    let (mut due, mut more) = (true, false);
    loop {
        if due {
            let caught = match follower.catch_up() {
                Ok(caught) => caught,
                Err(e) => match ride_out(&mut follower, e, next, &stop, target)? {
                    true => continue,
                    false => return Ok(()),
                },
            };
            if let Some((missing, visible)) = caught.held_back
                && caught.held_back != warned_gap
            {
                eprintln!(
                    "stancelog: warning: {target}: seq {missing} is not visible yet, but seq {visible} is: waiting for it (a record inserted outside stancelog's append path?)"
                );
            }
            warned_gap = caught.held_back;
            let h = follower.history();
            while next <= caught.seq_last {
                if h.concerns(next, &filter) {
                    print_event(out, h, next, w.format)?;
                }
                next += 1;
                // A long catch-up (the whole log from seq 1) stops at once on a signal or a
                // closed pipe, after the event printed whole.
                if next % 4096 == 0 && (stop.load(Ordering::SeqCst) || stdout_closed()) {
                    break;
                }
            }
            out.flush()?;
            // A loop cut short by a signal or a closed pipe returns just below.
            more = caught.more;
        }
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        if stdout_closed() {
            return Err(Failure::BrokenPipe);
        }
        due = more
            || match follower.wait(TICK) {
                Ok(due) => due,
                Err(e) => match ride_out(&mut follower, e, next, &stop, target)? {
                    true => true,
                    false => return Ok(()),
                },
            };
    }
}

/// The first wait before connecting again to a PostgreSQL log whose connection was lost; each
/// failed try doubles it, up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_secs(1);

/// The longest wait between two tries to connect again.
const RETRY_MAX: Duration = Duration::from_secs(30);

/// After `error` from the follower: on PostgreSQL, when its connection was lost (the server
/// restarted or went away, the connection was cut), connects again, trying after 1 s, 2 s, 4 s
/// and so on up to every 30 s, until the server answers (`Ok(true)`: read on from the
/// high-water mark, so no seq is missed or printed twice) or a signal ends the watch
/// (`Ok(false)`). Any other error (not an I/O error, or one on a connection that still
/// answers, or on a file log) stands: it is returned, with a note naming the `--from-seq`
/// to go on from.
fn ride_out(
    follower: &mut Follower,
    error: Error,
    next: Seq,
    stop: &AtomicBool,
    target: &LogRef,
) -> Result<bool, Error> {
    let lost = match error.kind() {
        ErrorKind::Io => follower.reconnect(),
        _ => Ok(false),
    };
    match lost {
        Ok(false) => {
            resume_note(next);
            return Err(error);
        }
        Ok(true) => {
            eprintln!(
                "stancelog: warning: {target}: the connection was lost ({error}); connected again, reading on from seq {next}"
            );
            return Ok(true);
        }
        Err(_) => eprintln!(
            "stancelog: warning: {target}: the connection was lost ({error}); connecting again (every seq before {next} was read)"
        ),
    }
    let mut delay = RETRY_FIRST;
    loop {
        let until = std::time::Instant::now() + delay;
        while std::time::Instant::now() < until {
            if stop.load(Ordering::SeqCst) {
                return Ok(false);
            }
            std::thread::sleep(TICK);
        }
        match follower.reconnect() {
            Ok(_) => {
                eprintln!("stancelog: note: {target}: connected again, reading on from seq {next}");
                return Ok(true);
            }
            Err(e) => {
                delay = (delay * 2).min(RETRY_MAX);
                eprintln!(
                    "stancelog: warning: {target}: not reachable yet ({e}); trying again in {} s",
                    delay.as_secs()
                );
            }
        }
    }
}

/// Says where a later watch picks up after an error ends this one (one that [`ride_out`] does
/// not wait out): every seq before `next` was printed or filtered out.
fn resume_note(next: Seq) {
    eprintln!(
        "stancelog: note: stopping on the error below; every seq before {next} was read: watch again with --from-seq {next} to go on from there"
    );
}

/// Opens the follower, resolves the filter's names on the log as it is now (as queries do),
/// and gives the first seq to print: `--from-seq`, or the seq after the log's end (noted on
/// standard error, so that a user knows where a later `--from-seq` would pick up). The
/// follower reads the log through its projection index and reads nothing before that seq
/// ([`Follower::open_at`]); when the index cannot be written, it folds the log from its start.
fn start(w: &WatchArgs, target: &LogRef) -> Result<(Follower, Filter, Seq), Error> {
    let (follower, filter, end) = match Follower::open_at(target, w.from_seq)? {
        Some((follower, registry, end)) => (follower, common::filter(&registry, &w.scope)?, end),
        _ => {
            let mut follower = Follower::open(target)?;
            let now = follower.catch_up()?;
            let filter = common::filter(follower.history(), &w.scope)?;
            (follower, filter, now.seq_last)
        }
    };
    let next = match w.from_seq {
        Some(seq) => {
            if seq > end + 1 && !common::quiet() {
                eprintln!(
                    "stancelog: note: {target}: --from-seq {seq} is after the log's end (seq {end}): waiting for seq {} to {seq} to be appended",
                    end + 1
                );
            }
            seq
        }
        None => {
            let seq = end + 1;
            if !common::quiet() {
                eprintln!(
                    "stancelog: watching {target} from seq {seq}, after the log's end at seq {end} (--from-seq 1 for the whole log)"
                );
            }
            seq
        }
    };
    Ok((follower, filter, next))
}

/// A flag that SIGINT and SIGTERM set; a second one of either ends the process at once (exit
/// 130 or 143), should a read be stuck.
fn stop_on_signals() -> Result<Arc<AtomicBool>, Error> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    for (signal, code) in [(SIGINT, 130), (SIGTERM, 143)] {
        signal_hook::flag::register_conditional_shutdown(signal, code, Arc::clone(&stop))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&stop)))
            .map_err(|e| Error::io("signal handler", e))?;
    }
    Ok(stop)
}

/// Whether standard output is a pipe whose reader went away (or a terminal that hung up):
/// `poll` reports an error or hang-up on it. Without this, an idle log would keep `watch | head`
/// waiting until the next append.
fn stdout_closed() -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let stdout = std::io::stdout();
    let mut fds = [PollFd::new(&stdout, PollFlags::empty())];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    matches!(poll(&mut fds, Some(&now)), Ok(n) if n > 0)
        && fds[0].revents().intersects(PollFlags::ERR | PollFlags::HUP)
}

/// Writes the event at `seq` in `format`.
fn print_event(
    out: &mut dyn Write,
    h: &History,
    seq: u64,
    format: WatchFormat,
) -> std::io::Result<()> {
    let Some(event) = h.event(seq) else {
        return Ok(());
    };
    let row = EventRow::new(&event);
    if format != WatchFormat::Table {
        serde_json::to_writer(&mut *out, &row).map_err(std::io::Error::from)?;
        return writeln!(out);
    }
    let f = &row.fields;
    let text = [
        ("actor", &f.actor),
        ("alias", &f.alias),
        ("topic", &f.topic),
        ("name", &f.name),
        ("title", &f.title),
        ("kind", &f.kind),
        ("stance", &f.stance),
        ("date", &f.date),
        ("event", &f.event),
        ("instrument", &f.instrument),
        ("recipient", &f.recipient),
        ("quote", &f.quote),
        ("target", &f.target),
        ("reason", &f.reason),
        ("organisation", &f.organisation),
        ("from", &f.from),
        ("to", &f.to),
        ("cite", &f.cite_publication),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().map(|v| format!("{k}={}", quoted(v))))
    .collect::<Vec<_>>()
    .join(" ");
    writeln!(
        out,
        "{:>7}  {:<27}  {:<16}  {text}",
        row.seq,
        format_recorded_at(&row.recorded_at),
        row.type_name
    )
}

/// A value as is when it is one plain word, else in JSON quotes (so a line stays one line).
fn quoted(v: &str) -> String {
    if !v.is_empty()
        && v.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '"' && c != '=')
    {
        v.to_string()
    } else {
        serde_json::to_string(v).unwrap_or_default()
    }
}
