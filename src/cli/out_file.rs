//! Writing the file a command's `--out` names (`export`, `report`): whole or not at all.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use stancelog::Error;

/// The names of standard output an `--out` may give: `-` and the Linux device paths.
const STDOUT_NAMES: [&str; 4] = ["-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"];

/// Where an `--out` went: to standard output (a command's confirmation then goes to standard
/// error, so that it does not end up in the data), or to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Stdout,
    File,
}

/// Writes the output `fill` makes to `out`, whole or not at all:
/// - `-`, `/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/1`, or a symbolic link that leads to one
///   of them: written to this process's standard output, as the shell redirected it (a `>>`
///   still appends; the device is never replaced by a file);
/// - any other `out` that exists and is not a regular file (a device such as `/dev/null`, a
///   named pipe): written into directly;
/// - otherwise into a new file beside the file `out` resolves to, synced and renamed over it,
///   so that the file is either the old one or the whole new one. The rename replaces the
///   final target of a symbolic link, not the link, and gives a hard-linked name a file of its
///   own (the other names keep the old content).
///
/// # Errors
/// [`Error::Io`] naming `out` as given: the folder is missing or not writable, a write or the
/// rename failed, or `fill` failed (its error). A failed write leaves no partial file behind.
pub fn write_out(
    out: &Path,
    fill: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> Result<Written, Error> {
    let io = |e| Error::io(out.display(), e);
    if leads_to_stdout(out) {
        let mut w = BufWriter::new(io::stdout());
        fill(&mut w).and_then(|()| w.flush()).map_err(io)?;
        return Ok(Written::Stdout);
    }
    let resolved = out.canonicalize().ok();
    if resolved.as_ref().is_some_and(|p| !p.is_file()) {
        let mut w = BufWriter::new(File::create(out).map_err(io)?);
        fill(&mut w).and_then(|()| w.flush()).map_err(io)?;
        return Ok(Written::File);
    }
    let target = resolved.unwrap_or_else(|| out.to_path_buf());
    let name = target
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let part = target.with_file_name(format!(".{name}.part-{}", std::process::id()));
    // A failure to create it is the output's (a missing folder, no permission).
    let mut w = BufWriter::new(File::create(&part).map_err(io)?);
    let done = fill(&mut w)
        .and_then(|()| w.into_inner().map_err(io::IntoInnerError::into_error))
        .and_then(|file| file.sync_data())
        .and_then(|()| fs::rename(&part, &target));
    if done.is_err() {
        let _ = fs::remove_file(&part);
    }
    done.map(|()| Written::File).map_err(io)
}

/// Whether `out` names standard output, directly or through symbolic links (followed up to
/// eight deep, as written, without resolving what standard output is redirected to).
fn leads_to_stdout(out: &Path) -> bool {
    let mut at = out.to_path_buf();
    for _ in 0..8 {
        if STDOUT_NAMES.iter().any(|name| at == Path::new(name)) {
            return true;
        }
        let Ok(next) = fs::read_link(&at) else {
            return false;
        };
        at = match at.parent() {
            Some(folder) if next.is_relative() => folder.join(next),
            _ => next,
        };
    }
    false
}
