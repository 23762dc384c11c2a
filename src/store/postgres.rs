//! The PostgreSQL log: the same records as a file log, one row per record.
//!
//! The table `stancelog.records (seq, id, hash, line)` holds each record's canonical line, byte
//! for byte the line a file log holds, beside the columns that reads need (`seq` to read in
//! order and from a seq on, `hash` to find a head noted earlier; `id`, with no unique index:
//! see [`SCHEMA_SQL`]). Lines are made
//! and checked by the same code as the file log's: a read streams the lines in seq order through
//! [`Log::resume`] (JSON, schema, seq contiguity, the hash chain, the fold), and an append
//! encodes its batch with the writer's encoder, so both backends hold the same chain.
//!
//! The append contract, in one place ([`PgAppend`]): in one transaction, take the advisory
//! lock [`LOCK_KEY`] (`pg_advisory_xact_lock`, released by COMMIT, ROLLBACK or the
//! connection's end, so a killed writer never leaves it held), read the records committed since
//! this writer last looked, check and stage the batch on the fold, insert its rows (one
//! `INSERT` sent with the `COMMIT` for a small batch, `COPY` for a large one), and COMMIT with
//! `synchronous_commit = on`, notifying followers. That costs two round trips: `BEGIN`, the
//! lock and the catch-up read in one message, the insert and `COMMIT` in another. A writer
//! that saw no other writer's batch since its own last look skips the read: it stages a small
//! batch on its fold and sends it in one `INSERT` statement that takes the same lock, and
//! that the primary key refuses whole if the table no longer ends where the fold does (the
//! batch's first seq is then taken: [`PgAppend::append_at_end`]); if so, nothing is stored
//! and the batch goes the way above.
//! The append is acknowledged only after COMMIT returns. Why a lock and not a unique seq with
//! retry: a writer must check its batch against the whole log before it can number it (ids,
//! references, expected seq), so a retry would redo that work under contention; the lock makes
//! writers wait their turn instead. It also means
//! seqs commit in seq order, never with a gap that a later commit fills, so a reader that reads
//! by seq after a commit never passes over a record committed later (`watch`).
//!
//! Readers take no lock: one `COPY ... TO STDOUT` statement reads one snapshot of the table, in
//! which every batch is whole or absent, and it never blocks a writer.
//!
//! Nothing in the table can be changed through stancelog's roles: a trigger refuses UPDATE,
//! DELETE and TRUNCATE of records (see [`SCHEMA_SQL`]); `stancelog_writer` may only select and
//! insert, `stancelog_reader` only select.

use std::fmt;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::str::FromStr;

use postgres::types::Type;
use postgres::{Client, Config, NoTls, SimpleQueryMessage, Statement};
use uuid::Uuid;

use super::chain::Hash;
use super::log::{CHUNK_BYTES, Log, stored_hash, stored_hash_hex};
use crate::core::Seq;
use crate::error::{Error, Result};

/// The advisory lock key of the append path (`pg_advisory_xact_lock(LOCK_KEY)`): "stance" in
/// ASCII, so that other applications in the same database are unlikely to pick it.
pub const LOCK_KEY: i64 = 0x7374_616e_6365;

/// The channel every append notifies when it commits (`NOTIFY` on the locked way;
/// `pg_notify` in `APPEND_AT_END` and in `stancelog.append`, kept for older clients), which
/// a follower (`stancelog watch`) listens on.
pub const NOTIFY_CHANNEL: &str = "stancelog_append";

/// The schema `stancelog init` creates: the records table, the triggers that keep it
/// append-only, the function `stancelog.append`, and the two group roles with their grants.
///
/// `stancelog.append(seqs, ids, hashes, lines)` is the one-statement append of the previous
/// version of stancelog, kept so that analysts still running it append in one statement to
/// a log made by this one. This version sends one `INSERT` instead
/// (`PgAppend::append_at_end`): with `pgbench` taking turns with a bare prepared `INSERT`
/// (`fsync = off`, load 7 to 9), it ran at 0.89-0.94 of the bare `INSERT`'s rate, the
/// function at 0.72-0.90 (its statements each start an executor).
/// It runs with its caller's rights (a reader may call it and is refused the INSERT, as a
/// direct one): it takes the writers' lock, stores the rows only when the table's last seq
/// is `seqs[1] - 1`, notifies followers, and returns the rows stored (0 when the table had
/// moved on). There is no notifying trigger: the append path notifies itself (a trigger per
/// statement cost a tenth of a single-event append's server time), so a row inserted by hand
/// wakes no follower (they read again every few seconds anyway).
///
/// `id` has no unique index: ids are kept unique by the writers, each of which checks its
/// batch's ids against the whole log under the writers' lock (the idempotent-append check),
/// and a row inserted by hand with an id used before makes every read of the log, `verify`
/// first, fail at that seq ("event id ... is already used by seq ..."). The index cost more
/// than half of a bulk insert's server time: content ids (UUID v5) are random, so each row
/// lands on a random page of it (a bare `COPY` of the UN votes' rows took 13.4 s with it,
/// 6.8 s without, at load 6-7). Nothing reads the table by id.
///
/// `hash` is checked for its length only: a regular expression for 64 hex digits cost a
/// quarter of a bulk insert's time on the server (a `COPY` of the UN votes' rows, 20.3-20.8 s
/// against 15.1-15.7 s), and `verify` recomputes every hash from the lines anyway.
///
/// The roles are cluster-wide: created when missing (so that a second log in another database
/// of the same cluster reuses them), granted on this database's schema. The table's owner (the
/// role that ran `init`) can still drop the trigger; keep that role for administration only.
pub const SCHEMA_SQL: &str = r#"
CREATE SCHEMA stancelog;
CREATE TABLE stancelog.records (
    seq  bigint PRIMARY KEY CHECK (seq >= 1),
    id   uuid   NOT NULL,
    hash text   CHECK (octet_length(hash) = 64),
    line text   NOT NULL
);
COMMENT ON TABLE stancelog.records IS
    'stancelog log: one row per record, line = the canonical JSON line (hash-chained); append-only';
CREATE FUNCTION stancelog.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    RAISE EXCEPTION 'stancelog.records is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$f$;
CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON stancelog.records
    FOR EACH ROW EXECUTE FUNCTION stancelog.refuse_change();
CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON stancelog.records
    FOR EACH STATEMENT EXECUTE FUNCTION stancelog.refuse_change();
CREATE FUNCTION stancelog.append(seqs bigint[], ids text[], hashes text[], lines text[])
    RETURNS bigint LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM pg_advisory_xact_lock(126943688024933);
    IF coalesce((SELECT max(seq) FROM stancelog.records), 0) <> seqs[1] - 1 THEN
        RETURN 0;
    END IF;
    INSERT INTO stancelog.records (seq, id, hash, line)
        SELECT s, i::uuid, h, l FROM unnest(seqs, ids, hashes, lines) AS r(s, i, h, l);
    PERFORM pg_notify('stancelog_append', '');
    RETURN cardinality(seqs);
END
$f$;
COMMENT ON FUNCTION stancelog.append(bigint[], text[], text[], text[]) IS
    'stancelog append in one statement: the rows, if the table still ends just before seqs[1]';
DO $d$
BEGIN
    BEGIN
        CREATE ROLE stancelog_writer NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    BEGIN
        CREATE ROLE stancelog_reader NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
END
$d$;
REVOKE ALL ON stancelog.records FROM PUBLIC;
GRANT USAGE ON SCHEMA stancelog TO stancelog_writer, stancelog_reader;
GRANT SELECT, INSERT ON stancelog.records TO stancelog_writer;
GRANT SELECT ON stancelog.records TO stancelog_reader;
REVOKE ALL ON FUNCTION stancelog.append(bigint[], text[], text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stancelog.append(bigint[], text[], text[], text[]) TO stancelog_writer;
"#;

/// `COPY ... TO STDOUT` options under which a line is read back unchanged: CSV with a
/// delimiter and a quote character that a canonical line never holds (JSON escapes every
/// control character), so no value is ever quoted or escaped, and each row is its line and a
/// newline. (Rows are written with a binary `COPY`: [`COPY_IN`].)
const COPY_RAW: &str = "(FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')";

/// The session settings of every connection: `synchronous_commit = on`, so that COMMIT
/// returns only once the commit record is flushed to disk; `standard_conforming_strings = on`,
/// which the append's literals rely on; read committed, under which the locked append reads
/// the end after its lock is granted.
const SESSION_SQL: &str = "SET synchronous_commit = on; SET standard_conforming_strings = on; \
     SET default_transaction_isolation = 'read committed'";

/// A PostgreSQL log named by a connection string.
#[derive(Clone)]
pub struct PgLog {
    config: Config,
    /// The connection string as shown in messages: no password.
    shown: String,
}

impl fmt::Debug for PgLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Shows where the log is (user, host, port, database), never the password.
impl fmt::Display for PgLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// The schemes of a PostgreSQL URL, as libpq takes them.
pub(crate) const URL_SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];

impl PgLog {
    /// Whether `text` names a PostgreSQL log rather than a file: a `postgres://` or
    /// `postgresql://` URL, or a libpq key/value string (`host=... dbname=...`).
    pub fn is_connection_string(text: &str) -> bool {
        if URL_SCHEMES.iter().any(|scheme| text.starts_with(scheme)) {
            return true;
        }
        let first = text.split_whitespace().next().unwrap_or("");
        let key = first.split('=').next().unwrap_or("");
        first.contains('=')
            && matches!(
                key,
                "host" | "hostaddr" | "port" | "dbname" | "user" | "password" | "application_name"
            )
    }

    /// Parses a connection string (URL or key/value). When it carries no password, one is
    /// looked up in the password file (`PGPASSFILE`, else `~/.pgpass`), as libpq does.
    ///
    /// # Errors
    /// [`Error::Usage`] for a string that does not parse (the message never quotes it, since
    /// it may hold a password).
    pub fn parse(text: &str) -> Result<PgLog> {
        let mut config = Config::from_str(text).map_err(|e| {
            Error::Usage(format!(
                "--log: not a valid PostgreSQL connection string ({e})"
            ))
        })?;
        let shown = shown(&config);
        if config.get_password().is_none()
            && let Some(p) = pgpass::lookup(&config)
        {
            config.password(p);
        }
        Ok(PgLog { config, shown })
    }

    /// Opens a connection with `synchronous_commit = on`, so that COMMIT returns only once the
    /// commit record is flushed to disk (and `standard_conforming_strings = on`, which the
    /// append's literals rely on).
    ///
    /// Connections are not encrypted (no TLS connector is built in): use a Unix socket, a
    /// local host, or a tunnel.
    ///
    /// # Errors
    /// [`Error::Io`] naming the log when the server cannot be reached or refuses the login.
    pub fn connect(&self) -> Result<Client> {
        let mut client = self.config.connect(NoTls).map_err(|e| self.err(e))?;
        client.batch_execute(SESSION_SQL).map_err(|e| self.err(e))?;
        Ok(client)
    }

    /// [`PgLog::connect`], then the simple-query statements `sql` sent in the same message as
    /// the session's settings: one round trip after the login, where a separate query costs
    /// one more, and a prepared one three (parse, execute, close). Under load each round trip
    /// waits for the server's process to be scheduled. Returns the connection and the
    /// answers to `sql` (the settings' own answers carry no rows). `sql` must not name
    /// parameters: values go in as literals.
    ///
    /// # Errors
    /// As [`PgLog::connect`], and the server's refusal of `sql` (the settings, sent in the
    /// same implicit transaction, are then undone; the connection is dropped with them).
    pub(crate) fn connect_then(&self, sql: &str) -> Result<(Client, Vec<SimpleQueryMessage>)> {
        let mut client = self.config.connect(NoTls).map_err(|e| self.err(e))?;
        let messages = client
            .simple_query(&format!("{SESSION_SQL}; {sql}"))
            .map_err(|e| self.err(e))?;
        Ok((client, messages))
    }

    /// An I/O error naming this log, with the server's message; a usage error saying to run
    /// `init` when the database holds no log (no `stancelog.records`), as for a missing file.
    pub(crate) fn err(&self, e: postgres::Error) -> Error {
        use postgres::error::SqlState;
        if matches!(
            e.code(),
            Some(&SqlState::UNDEFINED_TABLE) | Some(&SqlState::INVALID_SCHEMA_NAME)
        ) {
            return Error::Usage(format!(
                "{self}: no log there (no stancelog schema); create one with `stancelog --log URL init`"
            ));
        }
        let text = match e.as_db_error() {
            Some(db) => match db.hint() {
                Some(h) => format!("{} ({})", db.message(), h),
                None => db.message().to_string(),
            },
            None => with_causes(&e),
        };
        Error::io(&self.shown, io::Error::other(text))
    }

    /// Creates the schema of an empty log (see [`SCHEMA_SQL`]), in one transaction.
    ///
    /// # Errors
    /// [`Error::Usage`] when the database already has a `stancelog` schema; [`Error::Io`] for
    /// other failures (such as a role that may not create schemas or roles).
    pub fn create(&self) -> Result<()> {
        let mut client = self.connect()?;
        let exists = client
            .query_one(
                "SELECT count(*) FROM pg_namespace WHERE nspname = 'stancelog'",
                &[],
            )
            .map_err(|e| self.err(e))?
            .get::<_, i64>(0)
            > 0;
        if exists {
            return Err(Error::Usage(format!(
                "{self}: already holds a stancelog schema; refusing to overwrite it"
            )));
        }
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        tx.batch_execute(SCHEMA_SQL).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Reads and folds the whole log, verifying the hash chain, in one snapshot of the table.
    ///
    /// # Errors
    /// [`Error::Io`] when the server fails; [`Error::Input`] naming the seq ("line") and field
    /// of the first bad record.
    pub fn open(&self) -> Result<Log> {
        let mut client = self.connect()?;
        self.read_after(&mut client, None)
    }

    /// Reads the whole log's stored lines into memory (one snapshot), and folds them.
    ///
    /// # Errors
    /// Those of [`PgLog::open`].
    pub fn open_stored(&self) -> Result<(Log, Vec<u8>)> {
        let mut client = self.connect()?;
        let query =
            format!("COPY (SELECT line FROM stancelog.records ORDER BY seq) TO STDOUT {COPY_RAW}");
        let mut bytes = Vec::new();
        client
            .copy_out(query.as_str())
            .map_err(|e| self.err(e))?
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(self, e))?;
        Ok((Log::from_bytes(&self.shown, &bytes)?, bytes))
    }

    /// Folds the records after `log` (or all, for `None`) read through `client`, in seq order,
    /// as one statement (one snapshot).
    pub(crate) fn read_after(&self, client: &mut Client, log: Option<Log>) -> Result<Log> {
        self.read_through(client, log, None)
    }

    /// [`PgLog::read_after`], reading no record after seq `upto` (inclusive) when given.
    pub(crate) fn read_through(
        &self,
        client: &mut Client,
        log: Option<Log>,
        upto: Option<Seq>,
    ) -> Result<Log> {
        let after = log.as_ref().map_or(0, |l| l.history.seq_last());
        let upto = upto.map_or(String::new(), |u| format!(" AND seq <= {u}"));
        let query = format!(
            "COPY (SELECT line FROM stancelog.records WHERE seq > {after}{upto} ORDER BY seq) TO STDOUT {COPY_RAW}"
        );
        let reader = client.copy_out(&query).map_err(|e| self.err(e))?;
        let mut reader = ServerErrors {
            inner: reader,
            log: self,
            done: false,
        };
        Log::resume(&self.shown, &mut reader, log, CHUNK_BYTES)
    }

    /// The stored lines of the records after seq `after`, in seq order, each ending in a
    /// newline, read in one statement; `None` when they are longer than `max_bytes` (the read
    /// is then left unfinished: the caller drops `client`).
    ///
    /// # Errors
    /// [`Error::Io`] when the server fails.
    pub(crate) fn lines_after(
        &self,
        client: &mut Client,
        after: Seq,
        max_bytes: u64,
    ) -> Result<Option<Vec<u8>>> {
        let query = format!(
            "COPY (SELECT line FROM stancelog.records WHERE seq > {after} ORDER BY seq) TO STDOUT {COPY_RAW}"
        );
        let reader = client.copy_out(query.as_str()).map_err(|e| self.err(e))?;
        let mut bytes = Vec::new();
        reader
            .take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(self, e))?;
        Ok((bytes.len() as u64 <= max_bytes).then_some(bytes))
    }

    /// Where the log lives, without the user: the hosts, ports and database, as
    /// `HOST,...:PORT,.../DB`. The same for every analyst of one shared log.
    pub(crate) fn identity(&self) -> String {
        let hosts: Vec<String> = self.config.get_hosts().iter().map(host_text).collect();
        let ports: Vec<String> = self.config.get_ports().iter().map(u16::to_string).collect();
        format!("{}:{}/{}", hosts.join(","), ports.join(","), self.dbname())
    }

    /// The database's name (libpq's default: the user's name).
    pub(crate) fn dbname(&self) -> &str {
        self.config
            .get_dbname()
            .or(self.config.get_user())
            .unwrap_or("")
    }

    /// The seq of the record whose stored hash is `hash`, if the log holds one.
    ///
    /// # Errors
    /// [`Error::Io`] when the server fails.
    pub fn seq_with_hash(&self, hash: &Hash) -> Result<Option<Seq>> {
        let mut client = self.connect()?;
        let row = client
            .query_opt(
                "SELECT seq FROM stancelog.records WHERE hash = $1",
                &[&hash.to_hex()],
            )
            .map_err(|e| self.err(e))?;
        Ok(row.map(|r| r.get::<_, i64>(0) as Seq))
    }

    /// The last seq committed (0 for an empty log), without reading any record.
    ///
    /// # Errors
    /// [`Error::Io`] when the server fails.
    pub fn seq_last(&self, client: &mut Client) -> Result<Seq> {
        let row = client
            .query_one("SELECT coalesce(max(seq), 0) FROM stancelog.records", &[])
            .map_err(|e| self.err(e))?;
        Ok(row.get::<_, i64>(0) as Seq)
    }
}

/// A COPY reader whose errors carry the log's name, and which keeps returning 0 after its end
/// (the client's reader, read again after its end, asks the server for more and fails).
struct ServerErrors<'a, R> {
    inner: R,
    log: &'a PgLog,
    done: bool,
}

impl<R: Read> Read for ServerErrors<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let n = self
            .inner
            .read(buf)
            .map_err(|e| io::Error::new(e.kind(), format!("{e} (reading {})", self.log)))?;
        self.done = n == 0;
        Ok(n)
    }
}

/// The append path's transaction: lock, catch up, insert, commit. See the module docs.
///
/// Round trips are what a small append costs here (a commit is a fraction of a millisecond on
/// a local server), so they are few: one simple-query message begins the transaction, takes
/// the lock and reads the end of the table (the last seq, and the lines of up to
/// [`CATCH_UP_ROWS`] records after the writer's; none when no other writer appended since);
/// a second message inserts a small batch and commits. A larger catch-up or batch takes
/// `COPY` (a few round trips more, paid once per large batch).
pub(crate) struct PgAppend<'a> {
    client: &'a mut Client,
    log: &'a PgLog,
    /// Still to be committed or rolled back (a dropped one is rolled back).
    open: bool,
}

/// What [`PgAppend::append_at_end`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AtEnd {
    /// The rows are stored and committed.
    Stored,
    /// The table had moved on (another writer appended): nothing stored.
    Moved,
}

/// The one-statement append ([`PgAppend::append_at_end`]): one autocommit `INSERT` that takes
/// the writers' lock and queues the followers' notification (both in a one-row subquery the
/// plan evaluates once, before the first row), then inserts the rows from four arrays: seqs,
/// ids, hashes and lines. Its snapshot may predate the lock, which does not matter: it reads
/// nothing, and the primary key's check sees every committed row.
const APPEND_AT_END: &str = "INSERT INTO stancelog.records (seq, id, hash, line) \
     SELECT r.s, r.i::uuid, r.h, r.l \
     FROM (SELECT pg_advisory_xact_lock(126943688024933), pg_notify('stancelog_append', '')) AS k, \
     unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS r(s, i, h, l)";

/// [`APPEND_AT_END`] for a batch of one event, with the row's four values as parameters
/// instead of four arrays to unnest: a single-event append is the common case, and with
/// `pgbench` taking turns with a bare prepared `INSERT` (`fsync = off`, load 9 to 12) the
/// arrays' form ran at 0.84-0.89 of the bare rate, this one at 0.95-1.05.
const APPEND_ONE_AT_END: &str = "INSERT INTO stancelog.records (seq, id, hash, line) \
     SELECT $1::bigint, $2::text::uuid, $3::text, $4::text \
     FROM (SELECT pg_advisory_xact_lock(126943688024933), pg_notify('stancelog_append', '')) AS k";

/// The types of [`APPEND_ONE_AT_END`]'s parameters.
const APPEND_ONE_TYPES: [Type; 4] = [Type::INT8, Type::TEXT, Type::TEXT, Type::TEXT];

/// [`APPEND_AT_END`] and [`APPEND_ONE_AT_END`] prepared on a connection
/// ([`PgAppend::prepare_at_end`]).
pub(crate) struct AtEndStatements {
    many: Statement,
    one: Statement,
}

/// The types of [`APPEND_AT_END`]'s parameters.
const APPEND_TYPES: [Type; 4] = [
    Type::INT8_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
];

/// The most records the first message of an append reads back to catch up: more are read
/// with `COPY`.
const CATCH_UP_ROWS: u64 = 1000;

/// A batch of at most this many bytes of rows is inserted by one `INSERT ... ; COMMIT`
/// message; a larger one by `COPY`, then `COMMIT`.
pub(crate) const INSERT_BYTES_MAX: usize = 256 << 10;

impl<'a> PgAppend<'a> {
    /// Begins the transaction, takes the writer's advisory lock (waiting for the writer ahead)
    /// and folds into `log` the records committed since it was read.
    pub(crate) fn begin(
        client: &'a mut Client,
        pg: &'a PgLog,
        log: Log,
    ) -> Result<(PgAppend<'a>, Log)> {
        let after = log.history.seq_last();
        let sql = format!(
            "BEGIN; SELECT pg_advisory_xact_lock({LOCK_KEY});
             SELECT coalesce(max(seq), 0) AS last FROM stancelog.records;
             SELECT line FROM stancelog.records WHERE seq > {after} AND seq <= {} ORDER BY seq",
            after + CATCH_UP_ROWS
        );
        let tx = PgAppend {
            client,
            log: pg,
            open: true,
        };
        let messages = tx.client.simple_query(&sql).map_err(|e| pg.err(e))?;
        let (last, lines) = end_of_table(&messages);
        let mut log = log;
        if !lines.is_empty() {
            log = Log::resume(&pg.shown, &lines[..], Some(log), CHUNK_BYTES)?;
        }
        if last > log.history.seq_last() {
            log = pg.read_after(&mut *tx.client, Some(log))?;
        }
        Ok((tx, log))
    }

    /// Begins a transaction and takes the writers' lock (waiting for the writer ahead) for a
    /// batch staged on a fold that ends at seq `last`, and reads the table's end in the same
    /// message. `true` when the table ends at `last` too: the transaction is left open on
    /// `client`, under the lock, for [`PgAppend::resume`] to insert the batch and commit (on
    /// this connection, perhaps on another thread). `false` when it does not (another writer
    /// appended meanwhile): rolled back, nothing held.
    ///
    /// # Errors
    /// [`Error::Io`] when the server fails (rolled back).
    pub(crate) fn begin_at(client: &mut Client, pg: &PgLog, last: Seq) -> Result<bool> {
        let (mut tx, found) = PgAppend::lock(client, pg)?;
        let at_end = found == last;
        // Left open at the end, for `resume`; else dropped open, so rolled back.
        tx.open = !at_end;
        Ok(at_end)
    }

    /// Begins a transaction, takes the writers' lock (waiting for the writer ahead) and reads
    /// the table's last seq, in one message: the transaction, and the last seq, which no
    /// other writer moves until it ends (rolled back if dropped unwritten).
    ///
    /// # Errors
    /// [`Error::Io`] when the server fails (rolled back).
    pub(crate) fn lock(client: &'a mut Client, pg: &'a PgLog) -> Result<(PgAppend<'a>, Seq)> {
        let sql = format!(
            "BEGIN; SELECT pg_advisory_xact_lock({LOCK_KEY});
             SELECT coalesce(max(seq), 0) AS last FROM stancelog.records"
        );
        let tx = PgAppend {
            client,
            log: pg,
            open: true,
        };
        let messages = tx.client.simple_query(&sql).map_err(|e| pg.err(e))?;
        let last = end_of_table(&messages).0;
        Ok((tx, last))
    }

    /// The transaction that [`PgAppend::begin_at`] left open on `client`, to [`write`] its
    /// batch into (rolled back if dropped unwritten).
    ///
    /// [`write`]: PgAppend::write
    pub(crate) fn resume(client: &'a mut Client, pg: &'a PgLog) -> PgAppend<'a> {
        PgAppend {
            client,
            log: pg,
            open: true,
        }
    }

    /// Inserts the stored lines `bytes` (each ending in a newline) of the records `rows`
    /// ((seq, id), in the same order), and commits: the batch is durable when this returns
    /// `Ok`. A small batch goes in one message with the COMMIT; a large one by `COPY`.
    pub(crate) fn write(mut self, rows: &[(Seq, Uuid)], bytes: &[u8]) -> Result<()> {
        let pg = self.log;
        let lines = bytes.split_inclusive(|b| *b == b'\n');
        if bytes.len() <= INSERT_BYTES_MAX {
            let sql = format!("{}; {COMMIT}", insert_sql(rows, lines)?);
            self.client.batch_execute(&sql).map_err(|e| pg.err(e))?;
        } else {
            self.copy(rows, lines)?;
            self.client.batch_execute(COMMIT).map_err(|e| pg.err(e))?;
        }
        self.open = false;
        Ok(())
    }

    /// Appends the rows of a small batch staged on a fold that is probably the table's end,
    /// in one statement, one round trip: [`APPEND_AT_END`], an autocommit `INSERT` that takes
    /// the writers' lock, notifies followers and inserts the rows (the answer comes after
    /// COMMIT, with `synchronous_commit = on`). If the table had moved on (another writer
    /// appended since the fold was read), the first row's seq is taken: the primary key
    /// refuses it and the whole statement, so nothing is stored ([`AtEnd::Moved`]). That
    /// holds because a writer's fold never ends past the table, and the table's seqs are
    /// contiguous from 1 (each batch is stored under the lock at the end), so "the first
    /// seq is free" is "the table still ends just before it". (A row inserted by hand,
    /// outside the append path, past a gap can break that premise: a batch then fills the
    /// gap, and the hash chain, which `verify` checks, fails at the hand-made row, as it
    /// would without this statement.) A refusal of any other unique
    /// key (the `id` index of a log made by an early `init`) is taken as a move too: the
    /// locked way then checks the batch against the table's end and tells what is wrong.
    ///
    /// A batch of one event goes by [`APPEND_ONE_AT_END`] (the row's values as parameters),
    /// a longer one by [`APPEND_AT_END`] (four arrays). `statements` are both prepared on
    /// this connection ([`PgAppend::prepare_at_end`]), if they were: then one is bound and
    /// run (parsed and planned once); else it is sent unprepared with its parameters' types,
    /// still one round trip (for a writer of one batch, preparing would cost one more).
    ///
    /// # Errors
    /// [`Error::Io`] when the server fails or refuses a row otherwise (such as a reader's
    /// role, refused at the table before it takes the lock); nothing is stored then.
    pub(crate) fn append_at_end(
        client: &mut Client,
        pg: &PgLog,
        statements: Option<&AtEndStatements>,
        rows: &[(Seq, Uuid)],
        bytes: &[u8],
    ) -> Result<AtEnd> {
        let mut lines = Vec::with_capacity(rows.len());
        let mut hashes = Vec::with_capacity(rows.len());
        for line in bytes.split_inclusive(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            hashes.push(stored_hash(line).map(|h| h.to_hex()));
            lines.push(std::str::from_utf8(line).map_err(|e| Error::io(pg, io::Error::other(e)))?);
        }
        if lines.len() != rows.len() {
            return Err(Error::io(pg, fewer_lines()));
        }
        let answer = if let [(seq, id)] = rows {
            let (seq, id) = (*seq as i64, id.hyphenated().to_string());
            let params: [&(dyn postgres::types::ToSql + Sync); 4] =
                [&seq, &id, &hashes[0], &lines[0]];
            match statements {
                Some(s) => client.execute(&s.one, &params),
                None => {
                    let typed: Vec<_> = params.into_iter().zip(APPEND_ONE_TYPES).collect();
                    client.execute_typed(APPEND_ONE_AT_END, &typed)
                }
            }
        } else {
            let seqs: Vec<i64> = rows.iter().map(|r| r.0 as i64).collect();
            let ids: Vec<String> = rows.iter().map(|r| r.1.hyphenated().to_string()).collect();
            let params: [&(dyn postgres::types::ToSql + Sync); 4] = [&seqs, &ids, &hashes, &lines];
            match statements {
                Some(s) => client.execute(&s.many, &params),
                None => {
                    let typed: Vec<_> = params.into_iter().zip(APPEND_TYPES).collect();
                    client.execute_typed(APPEND_AT_END, &typed)
                }
            }
        };
        match answer {
            Ok(n) if n == rows.len() as u64 => Ok(AtEnd::Stored),
            Ok(_) => Err(Error::io(
                pg,
                io::Error::other("a batch stored in part (a bug)"),
            )),
            Err(e) if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) => {
                Ok(AtEnd::Moved)
            }
            Err(e) => Err(pg.err(e)),
        }
    }

    /// Prepares [`APPEND_AT_END`] and [`APPEND_ONE_AT_END`] on this connection, for a writer
    /// that appends again and again in one statement; `None` when the server refuses (they
    /// are then sent unprepared).
    pub(crate) fn prepare_at_end(client: &mut Client) -> Option<AtEndStatements> {
        Some(AtEndStatements {
            many: client.prepare_typed(APPEND_AT_END, &APPEND_TYPES).ok()?,
            one: client
                .prepare_typed(APPEND_ONE_AT_END, &APPEND_ONE_TYPES)
                .ok()?,
        })
    }

    /// Inserts the rows with one binary `COPY` ([`COPY_IN`]), handed to the client library a
    /// [`COPY_CHUNK_BYTES`] chunk at a time.
    fn copy<'l>(
        &mut self,
        rows: &[(Seq, Uuid)],
        mut lines: impl Iterator<Item = &'l [u8]>,
    ) -> Result<()> {
        let pg = self.log;
        let mut w = self.client.copy_in(COPY_IN).map_err(|e| pg.err(e))?;
        let io = |e| Error::io(pg, e);
        let mut chunk = Vec::with_capacity(COPY_CHUNK_BYTES + LINE_GUESS);
        chunk.extend_from_slice(BINARY_HEADER);
        for (seq, id) in rows {
            let line = lines.next().ok_or_else(|| io(fewer_lines()))?;
            binary_row(&mut chunk, *seq, id, line);
            if chunk.len() >= COPY_CHUNK_BYTES {
                w.write_all(&chunk).map_err(io)?;
                chunk.clear();
            }
        }
        chunk.extend_from_slice(&BINARY_TRAILER);
        w.write_all(&chunk).map_err(io)?;
        w.finish().map_err(|e| pg.err(e))?;
        Ok(())
    }
}

impl Drop for PgAppend<'_> {
    fn drop(&mut self) {
        if self.open {
            // A failed ROLLBACK means a broken connection, whose end rolls back too.
            let _ = self.client.batch_execute("ROLLBACK");
        }
    }
}

fn fewer_lines() -> io::Error {
    io::Error::other("fewer stored lines than records (a bug)")
}

/// The last seq, and the lines read back (each with a newline), from the answers to
/// [`PgAppend::begin`]'s message.
fn end_of_table(messages: &[postgres::SimpleQueryMessage]) -> (Seq, Vec<u8>) {
    let (mut last, mut lines) = (0, Vec::new());
    for m in messages {
        if let postgres::SimpleQueryMessage::Row(row) = m {
            match row.columns().first().map(|c| c.name()) {
                Some("last") => last = row.get(0).and_then(|v| v.parse().ok()).unwrap_or(0),
                Some("line") => {
                    lines.extend_from_slice(row.get(0).unwrap_or("").as_bytes());
                    lines.push(b'\n');
                }
                _ => {}
            }
        }
    }
    (last, lines)
}

/// How the append path commits: with a notification to followers, sent at COMMIT (a log made
/// by an earlier `init` also has a trigger notifying on every insert; the server folds the
/// two into one).
const COMMIT: &str = "NOTIFY stancelog_append; COMMIT";

/// `INSERT INTO stancelog.records ... VALUES (...), ...`, the values as SQL string
/// literals (quotes doubled; `standard_conforming_strings` is on for every connection, so a
/// backslash is an ordinary character). A stored line holds no NUL (JSON escapes every
/// control character).
fn insert_sql<'l>(
    rows: &[(Seq, Uuid)],
    mut lines: impl Iterator<Item = &'l [u8]>,
) -> Result<String> {
    let mut sql = String::with_capacity(64 + rows.len() * LINE_GUESS);
    sql.push_str("INSERT INTO stancelog.records (seq, id, hash, line) VALUES ");
    for (i, (seq, id)) in rows.iter().enumerate() {
        let line = lines
            .next()
            .ok_or_else(|| Error::io("append", fewer_lines()))?;
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let text =
            std::str::from_utf8(line).map_err(|e| Error::io("append", io::Error::other(e)))?;
        if i > 0 {
            sql.push(',');
        }
        let _ = write!(sql, "({seq},'{}',", id.hyphenated());
        match stored_hash(line) {
            Some(h) => {
                let _ = write!(sql, "'{}','", h.to_hex());
            }
            None => sql.push_str("NULL,'"),
        }
        sql.push_str(&text.replace('\'', "''"));
        sql.push_str("')");
    }
    Ok(sql)
}

/// A first guess at a row's length.
const LINE_GUESS: usize = 600;

/// The insert of a large batch: `COPY` in PostgreSQL's binary format, in which each field is
/// its length and its bytes, so the server scans nothing for delimiters (a text or CSV `COPY`
/// did, byte by byte through every line: 40% of the backend's time in the UN votes import).
const COPY_IN: &str = "COPY stancelog.records (seq, id, hash, line) FROM STDIN (FORMAT binary)";

/// The header of a binary `COPY`: the signature, flags 0 (no OIDs), no header extension.
const BINARY_HEADER: &[u8; 19] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// The trailer of a binary `COPY`: a field count of -1.
const BINARY_TRAILER: [u8; 2] = (-1i16).to_be_bytes();

/// Bytes of rows handed to the client library at once (1 MiB): it sends each write of more
/// than 4 KiB as one message, where row by row it made a trip through its runtime per 4 KiB.
const COPY_CHUNK_BYTES: usize = 1 << 20;

/// One row of a binary `COPY` into `(seq, id, hash, line)`: the field count (4), then each
/// field as its length in bytes (big-endian i32; -1 for NULL) and its value: seq as an int8,
/// id as a uuid's 16 bytes, hash as the 64 hex digits stored in the line (NULL for a schema-1
/// record, which has none), line as its UTF-8 text without the newline.
pub(crate) fn binary_row(out: &mut Vec<u8>, seq: Seq, id: &Uuid, line: &[u8]) {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    out.extend_from_slice(&4i16.to_be_bytes());
    out.extend_from_slice(&8i32.to_be_bytes());
    // A seq past i64::MAX (never reached) would be sent as -1, which the table refuses.
    out.extend_from_slice(&i64::try_from(seq).unwrap_or(-1).to_be_bytes());
    out.extend_from_slice(&16i32.to_be_bytes());
    out.extend_from_slice(id.as_bytes());
    match stored_hash_hex(line) {
        Some(hex) => {
            out.extend_from_slice(&(hex.len() as i32).to_be_bytes());
            out.extend_from_slice(hex);
        }
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
    }
    // A stored line is at most LINE_BYTES_MAX bytes, far below i32::MAX.
    out.extend_from_slice(&(line.len() as i32).to_be_bytes());
    out.extend_from_slice(line);
}

/// A host as written: a name, or a socket folder's path.
fn host_text(h: &postgres::config::Host) -> String {
    use postgres::config::Host;
    match h {
        Host::Tcp(name) => name.clone(),
        #[cfg(unix)]
        Host::Unix(path) => path.display().to_string(),
    }
}

/// A client error's text with the errors that caused it (the client's own text is only its
/// kind: "invalid configuration", "error connecting to server"), e.g. "error connecting to
/// server: No such file or directory (os error 2)".
fn with_causes(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

/// The connection string as shown: `postgres://USER@HOST:PORT/DBNAME`, without a password.
fn shown(config: &Config) -> String {
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let hosts: Vec<String> = config.get_hosts().iter().map(host_text).collect();
    let port = match config.get_ports() {
        [p] => format!(":{p}"),
        _ => String::new(),
    };
    let db = config.get_dbname().unwrap_or("");
    format!("postgres://{user}{}{port}/{db}", hosts.join(","))
}

/// The password file, read as libpq reads it.
mod pgpass {
    use postgres::Config;
    use postgres::config::Host;

    /// The password of the first line of the password file matching the connection's host,
    /// port, database and user (`*` matches anything; `\:` and `\\` escape), if any. A
    /// connection through a Unix socket folder is matched as libpq matches it, by the folder's
    /// path (`/run/stancelog:5432:stances:alice:...`); the default socket folder (Debian's
    /// `/var/run/postgresql`, `/run/postgresql`, upstream's `/tmp`) as `localhost`, so that a
    /// password for one server is never sent to another's socket.
    pub fn lookup(config: &Config) -> Option<Vec<u8>> {
        let path = match std::env::var_os("PGPASSFILE") {
            Some(p) => std::path::PathBuf::from(p),
            None => std::path::PathBuf::from(std::env::var_os("HOME")?).join(".pgpass"),
        };
        password(&std::fs::read_to_string(path).ok()?, config)
    }

    /// [`lookup`] in the password file's text.
    fn password(text: &str, config: &Config) -> Option<Vec<u8>> {
        match config.get_hosts().first() {
            Some(Host::Tcp(h)) => find(text, config, h),
            #[cfg(unix)]
            Some(Host::Unix(folder)) => {
                let default = ["/var/run/postgresql", "/run/postgresql", "/tmp"]
                    .iter()
                    .any(|d| folder == std::path::Path::new(d));
                let path = folder.to_string_lossy();
                find(text, config, if default { "localhost" } else { &path })
            }
            None => find(text, config, "localhost"),
        }
    }

    /// The password of the first line of `text` matching `host` and the connection's port,
    /// database and user.
    fn find(text: &str, config: &Config, host: &str) -> Option<Vec<u8>> {
        let host = host.to_string();
        let port = config
            .get_ports()
            .first()
            .copied()
            .unwrap_or(5432)
            .to_string();
        let user = config.get_user().unwrap_or_default().to_string();
        let db = config
            .get_dbname()
            .map_or_else(|| user.clone(), str::to_string);
        let want = [host, port, db, user];
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(fields)
            .find(|f| f.len() == 5 && f[..4].iter().zip(&want).all(|(p, w)| p == "*" || p == w))
            .map(|f| f[4].clone().into_bytes())
    }

    /// The colon-separated fields of a line, unescaped.
    fn fields(line: &str) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.last_mut().unwrap().extend(chars.next()),
                ':' => out.push(String::new()),
                c => out.last_mut().unwrap().push(c),
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use std::str::FromStr;

        /// Regression: a line naming the socket folder, as libpq and psql match it, was not
        /// used (only `localhost` lines were, for any folder), and the login failed.
        #[test]
        fn a_socket_connection_matches_its_folder_or_for_the_default_folder_localhost() {
            let config = |s: &str| postgres::Config::from_str(s).unwrap();
            let text = "localhost:5432:stances:alice:local\n/run/pg:5432:stances:alice:socket\n";
            let at =
                |c: &str| super::password(text, &config(c)).map(|p| String::from_utf8(p).unwrap());
            assert_eq!(
                at("host=/run/pg dbname=stances user=alice"),
                Some("socket".into())
            );
            assert_eq!(at("host=/run/other dbname=stances user=alice"), None);
            assert_eq!(
                at("host=/var/run/postgresql dbname=stances user=alice"),
                Some("local".into())
            );
            assert_eq!(
                at("host=localhost dbname=stances user=alice"),
                Some("local".into())
            );
            assert_eq!(at("host=/run/pg dbname=stances user=bob"), None);
        }

        #[test]
        fn fields_unescape_colons_and_backslashes() {
            assert_eq!(
                super::fields(r"db\:1:5432:*:me:pa\\ss"),
                vec!["db:1", "5432", "*", "me", r"pa\ss"]
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_append_notifies_the_followers_channel_under_the_writers_lock() {
        assert!(SCHEMA_SQL.contains(&format!("pg_notify('{NOTIFY_CHANNEL}', '')")));
        for statement in [APPEND_AT_END, APPEND_ONE_AT_END] {
            assert!(statement.contains(&format!(
                "(SELECT pg_advisory_xact_lock({LOCK_KEY}), pg_notify('{NOTIFY_CHANNEL}', ''))"
            )));
        }
        assert!(COMMIT.starts_with(&format!("NOTIFY {NOTIFY_CHANNEL};")));
        assert!(SCHEMA_SQL.contains(&format!("pg_advisory_xact_lock({LOCK_KEY})")));
    }

    #[test]
    fn connection_strings_are_told_from_paths() {
        assert!(PgLog::is_connection_string("postgres://u@h/db"));
        assert!(PgLog::is_connection_string("postgresql:///db?host=/tmp"));
        assert!(PgLog::is_connection_string("host=/tmp dbname=log"));
        assert!(PgLog::is_connection_string("dbname=log"));
        assert!(!PgLog::is_connection_string("events/log.jsonl"));
        assert!(!PgLog::is_connection_string("a=b.jsonl"));
    }

    #[test]
    fn shown_strings_never_hold_the_password() {
        let pg = PgLog::parse("postgres://alice:s3cret@db.example:5433/desk").unwrap();
        assert_eq!(pg.to_string(), "postgres://alice@db.example:5433/desk");
        let pg = PgLog::parse("host=/run/pg user=bob password=s3cret dbname=desk").unwrap();
        assert_eq!(pg.to_string(), "postgres://bob@/run/pg/desk");
        assert!(!format!("{pg:?}").contains("s3cret"));
    }

    #[test]
    fn an_insert_quotes_each_line_as_a_literal() {
        let hash = "cd".repeat(32);
        let lines = format!(
            "{{\"quote\":\"Kim's \\\"war\\\" \\\\o/\",\"schema\":2,\"seq\":7,\"hash\":\"{hash}\"}}\n{{\"schema\":1}}\n"
        );
        let rows = [(7, Uuid::nil()), (8, Uuid::max())];
        let sql = insert_sql(&rows, lines.as_bytes().split_inclusive(|b| *b == b'\n')).unwrap();
        assert_eq!(
            sql,
            format!(
                "INSERT INTO stancelog.records (seq, id, hash, line) VALUES \
                 (7,'00000000-0000-0000-0000-000000000000','{hash}','{{\"quote\":\"Kim''s \\\"war\\\" \\\\o/\",\"schema\":2,\"seq\":7,\"hash\":\"{hash}\"}}'),\
                 (8,'ffffffff-ffff-ffff-ffff-ffffffffffff',NULL,'{{\"schema\":1}}')"
            )
        );
    }

    #[test]
    fn a_binary_row_carries_seq_id_hash_and_line_each_with_its_length() {
        let hash = "ab".repeat(32);
        let line = format!("{{\"schema\":2,\"seq\":7,\"hash\":\"{hash}\"}}\n");
        let id = Uuid::from_u128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10);
        let mut row = Vec::new();
        binary_row(&mut row, 7, &id, line.as_bytes());
        let mut want = vec![0, 4, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 16];
        want.extend(1..=16u8);
        want.extend([0, 0, 0, 64]);
        want.extend(hash.as_bytes());
        want.extend([0, 0, 0, line.len() as u8 - 1]);
        want.extend(line.trim_end().as_bytes());
        assert_eq!(row, want);
        // A schema-1 record has no hash: NULL (length -1).
        row.clear();
        binary_row(&mut row, 1, &id, b"{\"schema\":1}");
        assert_eq!(&row[34..38], &[0xff; 4]);
        assert_eq!(&row[38..], b"\0\0\0\x0c{\"schema\":1}");
        assert_eq!(BINARY_HEADER.len(), 19);
        assert_eq!(BINARY_TRAILER, [0xff, 0xff]);
    }
}
