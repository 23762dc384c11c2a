//! Writing the file a command's `--out` names (`export`, `report`): whole or not at all.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use stancelog::Error;

use super::Failure;

/// Where an `--out` went: to standard output (a command's confirmation then goes to standard
/// error, so that it does not end up in the data), or to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Stdout,
    File,
}

/// Writes the output `fill` makes to `out`, whole or not at all:
/// - `-`, or any path that is this process's standard output (`/dev/stdout`, `/dev/fd/1`, a
///   link to one of them, or the very file standard output was redirected to): written to
///   standard output, as the shell redirected it (a `>>` still appends);
/// - a path under `/dev` or `/proc` (`/dev/stderr`, `/dev/fd/63` of `>(gzip > x.gz)`), or any
///   that is not a regular file (a device such as `/dev/null`, a named pipe): written into
///   directly, never replaced;
/// - otherwise into a new file beside the file `out` resolves to, with the old file's
///   permissions, synced and renamed over it, so that the file is either the old one or the
///   whole new one. The rename replaces the final target of a symbolic link, not the link,
///   and gives a hard-linked name a file of its own (the other names keep the old content).
///
/// # Errors
/// [`Failure::BrokenPipe`] when standard output's reader went away; [`Error::Io`] naming
/// `out` as given: the folder is missing or not writable, a write or the rename failed, or
/// `fill` failed (its error). A failed write leaves no partial file behind, but for what is
/// written in place (a device, a pipe, a file under `/dev` or `/proc`).
pub fn write_out(
    out: &Path,
    fill: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> Result<Written, Failure> {
    let io = |e| Error::io(out.display(), e);
    let meta = fs::metadata(out).ok();
    if is_stdout(out, meta.as_ref()) {
        let mut w = BufWriter::new(io::stdout());
        return match fill(&mut w).and_then(|()| w.flush()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(Failure::BrokenPipe),
            done => done.map(|()| Written::Stdout).map_err(|e| io(e).into()),
        };
    }
    let special = out.starts_with("/dev") || out.starts_with("/proc");
    if special || meta.as_ref().is_some_and(|m| !m.is_file()) {
        let mut w = BufWriter::new(File::create(out).map_err(io)?);
        fill(&mut w).and_then(|()| w.flush()).map_err(io)?;
        return Ok(Written::File);
    }
    let target = match meta {
        Some(_) => out.canonicalize().map_err(io)?,
        None => out.to_path_buf(),
    };
    let name = target
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let part = target.with_file_name(format!(".{name}.part-{}", std::process::id()));
    // A failure to create it is the output's (a missing folder, no permission).
    let mut w = BufWriter::new(File::create(&part).map_err(io)?);
    let done = fill(&mut w)
        .and_then(|()| w.into_inner().map_err(io::IntoInnerError::into_error))
        .and_then(|file| file.sync_data())
        .and_then(|()| match &meta {
            Some(m) => fs::set_permissions(&part, m.permissions()),
            None => Ok(()),
        })
        .and_then(|()| fs::rename(&part, &target));
    if done.is_err() {
        let _ = fs::remove_file(&part);
    }
    done.map(|()| Written::File).map_err(|e| io(e).into())
}

/// Prints a command's confirmation `line`: on standard output after a file was written, on
/// standard error when the data itself went to standard output.
pub fn confirm(written: Written, line: &str, out: &mut dyn Write) -> io::Result<()> {
    match written {
        Written::Stdout => {
            eprintln!("stancelog: {line}");
            Ok(())
        }
        Written::File => writeln!(out, "{line}"),
    }
}

/// Whether `out` is `-` or the same file as standard output (compared by device and inode,
/// so that any name of it counts: `/dev/stdout`, `/dev/fd/1`, a link, the redirected file);
/// `meta` is `out`'s metadata, if it exists.
fn is_stdout(out: &Path, meta: Option<&fs::Metadata>) -> bool {
    if out == Path::new("-") {
        return true;
    }
    match (meta, fs::metadata("/dev/stdout")) {
        (Some(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}
