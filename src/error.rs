//! The crate's one error type, with the position of bad input and a kind that maps to an exit code.

use std::fmt;
use std::io;

/// Where in an input a problem is: the file (or `-` for standard input), the 1-based line, and
/// the field of the event, each when known.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// File path as given, or `-` for standard input.
    pub file: String,
    /// 1-based line number.
    pub line: Option<u64>,
    /// Event field, as named in the log format (`date`, `cite.publication`).
    pub field: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            // An unknown key is named as given, so it may be long: clipped.
            write!(f, ": field {}", crate::core::quoted(field))?;
        }
        Ok(())
    }
}

/// What went wrong, broadly; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input or bad usage: exit code 2.
    Input,
    /// The log is not at the expected version: exit code 3.
    Conflict,
    /// The operating system failed us (I/O, lock not acquired): exit code 1.
    Io,
}

/// Every error stancelog reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A line of a log or of an append batch that does not parse or is refused.
    #[error("{at}: {message}")]
    Input {
        /// Where.
        at: Location,
        /// What is wrong, in words.
        message: String,
    },
    /// A request that cannot be carried out as asked (bad flag value, log already exists).
    #[error("{0}")]
    Usage(String),
    /// `--expect-seq` did not match.
    #[error("expected seq {expected}, log is at {found}")]
    Conflict {
        /// What the caller expected.
        expected: u64,
        /// The log's last seq.
        found: u64,
    },
    /// An operating-system error on a path.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// The broad kind of error, which the CLI maps to an exit code.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Input { .. } | Error::Usage(_) => ErrorKind::Input,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::Io { .. } => ErrorKind::Io,
        }
    }

    /// Builds an input error.
    pub fn input(at: Location, message: impl Into<String>) -> Error {
        Error::Input {
            at,
            message: message.into(),
        }
    }

    /// Builds an I/O error on a path.
    pub fn io(path: impl fmt::Display, source: io::Error) -> Error {
        Error::Io {
            path: path.to_string(),
            source,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
