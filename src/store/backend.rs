//! The storage seam: where a log lives. A path is a file log (the embedded default); a
//! PostgreSQL connection string is a PostgreSQL log (`store::postgres`). Both hold the same
//! records, byte for byte the same canonical lines and hash chain, made and checked by the same
//! code: reads fold through [`Log::resume`](super::Log), appends go through
//! [`Writer`](super::Writer), which stages and encodes a batch once and hands the lines to the
//! backend (`write` + `fdatasync`, or COPY + COMMIT).

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

use super::chain::Hash;
use super::head;
use super::log::Log;
use super::postgres::{PgLog, URL_SCHEMES};
use crate::core::Seq;
use crate::error::{Error, Result};

/// A log: a file or a PostgreSQL database.
#[derive(Debug, Clone)]
pub enum LogRef {
    /// A JSON Lines file.
    File(PathBuf),
    /// A PostgreSQL database holding the `stancelog` schema.
    Postgres(Box<PgLog>),
}

impl LogRef {
    /// A PostgreSQL log when `text` is a connection string (see
    /// [`PgLog::is_connection_string`]), else a file path. A URL's scheme is taken in any
    /// case (`Postgres://` as `postgres://`, as RFC 3986 says); a text that starts with
    /// `postgres` and holds `//` or `@` but no such scheme (`postgres//alice:pw@host/db`) is
    /// refused rather than taken for a file, so that its password is not printed in a "no log
    /// there" message.
    ///
    /// # Errors
    /// [`Error::Usage`] for a connection string that does not parse, or a mistyped URL (the
    /// message does not quote it).
    pub fn parse(text: &OsStr) -> Result<LogRef> {
        let Some(s) = text.to_str() else {
            return Ok(LogRef::File(PathBuf::from(text)));
        };
        let url = URL_SCHEMES.into_iter().find_map(|scheme| {
            let head = s.get(..scheme.len())?;
            head.eq_ignore_ascii_case(scheme)
                .then(|| format!("{scheme}{}", &s[scheme.len()..]))
        });
        let s = url.as_deref().unwrap_or(s);
        if PgLog::is_connection_string(s) {
            return Ok(LogRef::Postgres(Box::new(PgLog::parse(s)?)));
        }
        let named = s
            .get(..8)
            .is_some_and(|h| h.eq_ignore_ascii_case("postgres"));
        if named && (s.contains("//") || s.contains('@')) {
            return Err(Error::Usage(
                "--log: this looks like a PostgreSQL URL, but a URL starts with postgres:// or postgresql:// (the value is not shown: it may hold a password)".into(),
            ));
        }
        Ok(LogRef::File(PathBuf::from(text)))
    }

    /// The file's path, or a usage error saying that `what` works on file logs only.
    ///
    /// # Errors
    /// [`Error::Usage`] for a PostgreSQL log.
    pub fn file(&self, what: &str) -> Result<&Path> {
        match self {
            LogRef::File(p) => Ok(p),
            LogRef::Postgres(pg) => Err(Error::Usage(format!(
                "{what} works on a log file only; {pg} is a PostgreSQL log"
            ))),
        }
    }

    /// Reads and folds the whole log, verifying the hash chain ([`Log::open`], or every row of
    /// the table in seq order).
    ///
    /// # Errors
    /// Those of [`Log::open`] and [`PgLog::open`].
    pub fn open(&self) -> Result<Log> {
        match self {
            LogRef::File(p) => Log::open(p),
            LogRef::Postgres(pg) => pg.open(),
        }
    }

    /// Reads and folds the whole log, and gives its stored lines too: the bytes of its complete
    /// batches, each line ending in a newline (`stancelog copy`). Holds them in memory.
    ///
    /// # Errors
    /// Those of [`LogRef::open`].
    pub fn open_stored(&self) -> Result<(Log, Vec<u8>)> {
        let (log, mut bytes) = match self {
            LogRef::File(p) => {
                let mut file = super::log::open_read(p)?;
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut file, &mut bytes)
                    .map_err(|e| Error::io(p.display(), e))?;
                (Log::from_bytes(&p.display().to_string(), &bytes)?, bytes)
            }
            LogRef::Postgres(pg) => pg.open_stored()?,
        };
        bytes.truncate(log.valid_len() as usize);
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        Ok((log, bytes))
    }

    /// Creates an empty log: a file, or the schema in the database.
    ///
    /// # Errors
    /// Those of [`Log::create`] and [`PgLog::create`].
    pub fn create(&self) -> Result<()> {
        match self {
            LogRef::File(p) => Log::create(p),
            LogRef::Postgres(pg) => pg.create(),
        }
    }

    /// The seq of the record whose stored hash is `hash`, looking at the first `len` bytes of a
    /// file log (its complete batches) or at the whole table.
    ///
    /// # Errors
    /// [`Error::Io`] when the file or the server fails.
    pub fn seq_with_hash(&self, hash: &Hash, len: u64) -> Result<Option<Seq>> {
        match self {
            LogRef::File(p) => head::seq_with_hash(p, hash, len),
            LogRef::Postgres(pg) => pg.seq_with_hash(hash),
        }
    }
}

/// The path, or the connection string without its password.
impl fmt::Display for LogRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogRef::File(p) => write!(f, "{}", p.display()),
            LogRef::Postgres(pg) => write!(f, "{pg}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: `Postgres://...` and `postgres//alice:pw@...` were taken for file paths,
    /// and the "no log there" message printed the password.
    #[test]
    fn a_url_scheme_in_any_case_is_postgres_and_a_mistyped_one_is_refused_unquoted() {
        let parse = |s: &str| LogRef::parse(OsStr::new(s));
        match parse("Postgres://alice:s3cret@db.example/desk").unwrap() {
            LogRef::Postgres(pg) => {
                assert_eq!(pg.to_string(), "postgres://alice@db.example:5432/desk")
            }
            other => panic!("{other:?}"),
        }
        for mistyped in [
            "postgres//alice:s3cret@db.example/desk",
            "postgresql:/alice:s3cret@db.example/desk",
        ] {
            let Err(Error::Usage(message)) = parse(mistyped) else {
                panic!("{mistyped} was taken");
            };
            assert!(message.starts_with("--log: this looks like a PostgreSQL URL"));
            assert!(!message.contains("s3cret"), "{message}");
        }
        for file in ["postgres-desk.jsonl", "logs/postgres.jsonl", "PostgresLog"] {
            assert!(matches!(parse(file).unwrap(), LogRef::File(_)), "{file}");
        }
    }
}
