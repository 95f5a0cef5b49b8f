//! The registry's store: the log's entries, the Merkle node store, the
//! signed checkpoints, and the state derived from the entries, in SQLite
//! (this file) or PostgreSQL (`store_pg.rs`, for several servers sharing
//! one log); [`Tables`] reads and writes either.
//!
//! Durability rests on SQLite's own guarantees, checked rather than assumed:
//! every open reads back `journal_mode=wal` and `synchronous=FULL` (so a
//! COMMIT returns only after the WAL is fsynced) and refuses a library older
//! than 3.51.3 (earlier releases can corrupt a WAL database when it is reset
//! while another connection writes). There is one writer at a time:
//! `BEGIN IMMEDIATE` with a bounded wait, then a typed "busy" error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};

use crate::attest::canon::Digest;
use crate::attest::keys::KeyId;
use crate::escrow::database::DatabaseUrl;
use crate::escrow::event;
use crate::escrow::ledger::{
    BlueprintRecord, Config, DepositRecord, MemberRecord, ReportRecord, State, StateStore,
};
use crate::escrow::merkle::{Hash, NodeReader};
use crate::escrow::store_pg::{PgConn, PgStore, PgTx};

/// The database file inside a registry directory.
pub const DB_FILE: &str = "registry.db";

/// Oldest SQLite accepted (3.51.3 fixes a WAL-reset corruption bug).
pub const MIN_SQLITE_VERSION: (u32, u32, u32) = (3, 51, 3);

/// Layout version written into `meta`.
pub const SCHEMA_VERSION: i64 = 1;

/// How long a writer waits for the lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE entries(idx INTEGER PRIMARY KEY, bytes BLOB NOT NULL, leaf_hash BLOB NOT NULL,
                     check_hash BLOB NOT NULL) STRICT;
CREATE TABLE nodes(level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
                   PRIMARY KEY(level, idx)) STRICT, WITHOUT ROWID;
CREATE TABLE checkpoints(size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL) STRICT;
CREATE TABLE config(id INTEGER PRIMARY KEY CHECK (id = 0), record TEXT NOT NULL) STRICT;
CREATE TABLE blueprints(blueprint_id TEXT PRIMARY KEY, record TEXT NOT NULL) STRICT;
CREATE TABLE deposits(blueprint_id TEXT NOT NULL, version INTEGER NOT NULL,
                      entry_idx INTEGER NOT NULL UNIQUE, record TEXT NOT NULL,
                      PRIMARY KEY(blueprint_id, version)) STRICT;
CREATE TABLE members(keyid TEXT PRIMARY KEY, record TEXT NOT NULL) STRICT;
CREATE TABLE reports(report_id TEXT PRIMARY KEY, blueprint_id TEXT NOT NULL,
                     version INTEGER NOT NULL, record TEXT NOT NULL) STRICT;
CREATE INDEX reports_by_deposit ON reports(blueprint_id, version);
";

mod tables;

/// Tables holding derived state (rebuilt by replay, compared by it).
pub const STATE_TABLES: [&str; 5] = ["config", "blueprints", "deposits", "members", "reports"];

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another writer holds the lock past the bounded wait.
    #[error("registry is busy (another writer holds the lock); try again")]
    Busy,
    /// Stored data is damaged; `location` names table and row.
    #[error("registry store is corrupt at {location}: {detail}")]
    Corrupt {
        /// Table and row (or file) of the damage.
        location: String,
        /// What was expected.
        detail: String,
    },
    /// The SQLite library or database configuration is not safe to use.
    #[error("unsafe SQLite configuration: {0}")]
    Config(String),
    /// No registry database at the path.
    #[error("{0}: no registry here (create one with `blueprint registry init`)")]
    Missing(PathBuf),
    /// A registry already exists at the path.
    #[error("{0}: a registry already exists here")]
    Exists(PathBuf),
    /// An injected failure (debug builds, `BLUEPRINT_FAILPOINT`).
    #[error("injected failure at `{0}`")]
    Injected(&'static str),
    /// Any other SQLite error (I/O, full disk, failed fsync).
    #[error("registry store: {0}")]
    Sqlite(#[source] rusqlite::Error),
    /// Any other PostgreSQL error (connection, I/O, constraint).
    #[error("registry database: {0}")]
    Postgres(#[source] postgres::Error),
    /// The PostgreSQL database (named with its password redacted) holds no
    /// registry.
    #[error(
        "{0}: no registry in this database (create one with `blueprint registry init --database`)"
    )]
    DatabaseMissing(String),
    /// The PostgreSQL database already holds a registry.
    #[error("{0}: this database already holds a registry")]
    DatabaseExists(String),
    /// A query was started while another one on the same session was open.
    #[error("registry database: a query was started inside another one")]
    Reentrant,
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        use postgres::error::SqlState;
        match e.code() {
            Some(c)
                if *c == SqlState::LOCK_NOT_AVAILABLE
                    || *c == SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == SqlState::T_R_DEADLOCK_DETECTED =>
            {
                StoreError::Busy
            }
            Some(c) if *c == SqlState::DATA_CORRUPTED || *c == SqlState::INDEX_CORRUPTED => {
                StoreError::Corrupt {
                    location: "database".into(),
                    detail: e.to_string(),
                }
            }
            _ => StoreError::Postgres(e),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy,
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreError::Corrupt {
                location: DB_FILE.into(),
                detail: e.to_string(),
            },
            _ => StoreError::Sqlite(e),
        }
    }
}

/// Debug builds only: fails at the named point when `BLUEPRINT_FAILPOINT`
/// names it, so tests can show that a failed write leaves no trace.
pub(crate) fn failpoint(name: &'static str) -> Result<(), StoreError> {
    #[cfg(debug_assertions)]
    if std::env::var("BLUEPRINT_FAILPOINT").is_ok_and(|v| v == name) {
        return Err(StoreError::Injected(name));
    }
    let _ = name;
    Ok(())
}

/// An open registry database.
pub struct Store {
    backend: Backend,
}

enum Backend {
    Sqlite(Connection),
    Postgres(Box<PgStore>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Creates a new database (refusing an existing file) with the layout.
    pub fn create(path: &Path) -> Result<Self, StoreError> {
        if path.exists() {
            return Err(StoreError::Exists(path.to_owned()));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let store = Self::configure(conn)?;
        store.sqlite()?.execute_batch(&format!(
            "BEGIN IMMEDIATE; {SCHEMA} INSERT INTO meta VALUES('schema', '{SCHEMA_VERSION}'); COMMIT;"
        ))?;
        Ok(store)
    }

    /// Opens an existing database, checking the library and configuration.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Missing(path.to_owned()));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let store = Self::configure(conn)?;
        let schema: Option<String> = store
            .sqlite()?
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .optional()?;
        if schema.as_deref() != Some(&SCHEMA_VERSION.to_string()) {
            return Err(StoreError::Corrupt {
                location: "meta.schema".into(),
                detail: format!("expected layout version {SCHEMA_VERSION}, found {schema:?}"),
            });
        }
        Ok(store)
    }

    fn configure(conn: Connection) -> Result<Self, StoreError> {
        let version: String = conn.query_row("SELECT sqlite_version()", [], |r| r.get(0))?;
        check_sqlite_version(&version)?;
        conn.busy_timeout(DEFAULT_LOCK_TIMEOUT)?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let mode_now: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") || !mode_now.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Config(format!(
                "journal_mode is {mode_now:?}, not WAL"
            )));
        }
        // 2 = FULL: the WAL is synced at every commit.
        if sync != 2 {
            return Err(StoreError::Config(format!(
                "synchronous is {sync}, not FULL (2)"
            )));
        }
        Ok(Store {
            backend: Backend::Sqlite(conn),
        })
    }

    /// Creates the registry tables in an empty PostgreSQL database.
    pub fn create_postgres(url: &DatabaseUrl) -> Result<Self, StoreError> {
        Ok(Store {
            backend: Backend::Postgres(Box::new(PgStore::create(url)?)),
        })
    }

    /// Opens a registry held in a PostgreSQL database.
    pub fn open_postgres(url: &DatabaseUrl) -> Result<Self, StoreError> {
        Ok(Store {
            backend: Backend::Postgres(Box::new(PgStore::open(url)?)),
        })
    }

    /// True when the tables live in PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    fn sqlite(&self) -> Result<&Connection, StoreError> {
        match &self.backend {
            Backend::Sqlite(c) => Ok(c),
            Backend::Postgres(_) => Err(StoreError::Config("not a SQLite store".into())),
        }
    }

    /// How long a writer waits for the lock before [`StoreError::Busy`].
    pub fn set_lock_timeout(&mut self, timeout: Duration) -> Result<(), StoreError> {
        match &mut self.backend {
            Backend::Sqlite(c) => Ok(c.busy_timeout(timeout)?),
            Backend::Postgres(p) => {
                p.set_lock_timeout(timeout);
                Ok(())
            }
        }
    }

    /// Starts the one write transaction (SQLite: `BEGIN IMMEDIATE`;
    /// PostgreSQL: the table lock first).
    pub fn write(&mut self) -> Result<WriteTx<'_>, StoreError> {
        Ok(WriteTx(match &mut self.backend {
            Backend::Sqlite(c) => {
                Tx::Sqlite(c.transaction_with_behavior(TransactionBehavior::Immediate)?)
            }
            Backend::Postgres(p) => Tx::Postgres(p.write()?),
        }))
    }

    /// A consistent read snapshot.
    pub fn read(&mut self) -> Result<ReadTx<'_>, StoreError> {
        Ok(ReadTx(match &mut self.backend {
            Backend::Sqlite(c) => {
                Tx::Sqlite(c.transaction_with_behavior(TransactionBehavior::Deferred)?)
            }
            Backend::Postgres(p) => Tx::Postgres(p.read()?),
        }))
    }

    /// `PRAGMA integrity_check`: the problems SQLite finds, empty when
    /// none. PostgreSQL checks its own pages (data checksums); nothing to
    /// run here.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let Backend::Sqlite(conn) = &self.backend else {
            return Ok(Vec::new());
        };
        let mut stmt = conn.prepare("PRAGMA integrity_check")?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows.into_iter().filter(|r| r != "ok").collect())
    }
}

/// Refuses SQLite releases older than [`MIN_SQLITE_VERSION`].
pub fn check_sqlite_version(version: &str) -> Result<(), StoreError> {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    let v = (
        parts.next().flatten(),
        parts.next().flatten(),
        parts.next().flatten().or(Some(0)),
    );
    match v {
        (Some(a), Some(b), Some(c)) if (a, b, c) >= MIN_SQLITE_VERSION => Ok(()),
        _ => {
            let (a, b, c) = MIN_SQLITE_VERSION;
            Err(StoreError::Config(format!(
                "SQLite {version} is older than {a}.{b}.{c} (WAL-reset corruption fix); refusing to run"
            )))
        }
    }
}

enum Tx<'c> {
    Sqlite(rusqlite::Transaction<'c>),
    Postgres(PgTx<'c>),
}

impl Tx<'_> {
    fn tables(&self) -> Tables<'_> {
        Tables(match self {
            Tx::Sqlite(tx) => On::Sqlite(Lite(tx)),
            Tx::Postgres(tx) => On::Postgres(tx.conn()),
        })
    }
}

/// The write transaction: dropped without [`WriteTx::commit`], it rolls back.
pub struct WriteTx<'c>(Tx<'c>);

/// A read snapshot.
pub struct ReadTx<'c>(Tx<'c>);

impl<'c> WriteTx<'c> {
    /// Table access inside the transaction.
    pub fn tables(&self) -> Tables<'_> {
        self.0.tables()
    }

    /// Commits; SQLite with `synchronous=FULL` has fsynced the WAL and
    /// PostgreSQL with `synchronous_commit=on` has flushed its commit
    /// record when this returns. A failure here is fatal for the caller's
    /// operation.
    pub fn commit(self) -> Result<(), StoreError> {
        failpoint("before-commit")?;
        match self.0 {
            Tx::Sqlite(tx) => Ok(tx.commit()?),
            Tx::Postgres(tx) => tx.commit(),
        }
    }
}

impl ReadTx<'_> {
    /// Table access inside the snapshot.
    pub fn tables(&self) -> Tables<'_> {
        self.0.tables()
    }
}

/// Queries and updates over one connection (inside a transaction), on
/// either backend.
#[derive(Clone, Copy)]
pub struct Tables<'c>(On<'c>);

#[derive(Clone, Copy)]
enum On<'c> {
    Sqlite(Lite<'c>),
    Postgres(&'c PgConn),
}

/// The SQLite half of [`Tables`].
#[derive(Clone, Copy)]
struct Lite<'c>(&'c Connection);

/// One stored entry as read back.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    /// Its index.
    pub index: u64,
    /// The event bytes.
    pub bytes: Vec<u8>,
    /// The stored leaf hash.
    pub leaf_hash: Vec<u8>,
    /// The stored check hash.
    pub check_hash: Vec<u8>,
}

/// A stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Tree size.
    pub size: u64,
    /// The root it signs.
    pub root: Hash,
    /// The signed note.
    pub note: String,
}

/// SHA-256 over the index (8 bytes, big-endian) and the entry bytes: binds
/// each stored entry to its row, so a moved or altered blob is detected.
pub fn check_hash(index: u64, bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(index.to_be_bytes());
    h.update(bytes);
    h.finalize().into()
}

pub(crate) fn to_i64(v: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt {
        location: what.into(),
        detail: format!("{v} does not fit in a signed 64-bit integer"),
    })
}

pub(crate) fn to_u64(v: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt {
        location: what.into(),
        detail: format!("negative value {v}"),
    })
}

pub(crate) fn hash32(v: &[u8], location: impl FnOnce() -> String) -> Result<Hash, StoreError> {
    <[u8; 32]>::try_from(v).map_err(|_| StoreError::Corrupt {
        location: location(),
        detail: format!("hash is {} bytes, expected 32", v.len()),
    })
}

pub(crate) fn decode_record<T: DeserializeOwned>(
    text: &str,
    location: String,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        location,
        detail: format!("derived record does not parse: {e}"),
    })
}

pub(crate) fn encode_record<T: Serialize>(r: &T) -> Result<String, StoreError> {
    serde_json::to_string(r).map_err(|e| StoreError::Corrupt {
        location: "derived record".into(),
        detail: e.to_string(),
    })
}

impl Lite<'_> {
    /// Number of entries (the tree size): `max(idx) + 1`.
    pub fn size(&self) -> Result<u64, StoreError> {
        let max: Option<i64> = self
            .0
            .query_row("SELECT max(idx) FROM entries", [], |r| r.get(0))?;
        Ok(match max {
            Some(m) => to_u64(m, "entries.idx")? + 1,
            None => 0,
        })
    }

    /// Number of entry rows (equals [`Tables::size`] when indices are contiguous).
    pub fn entry_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .0
            .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))?;
        to_u64(n, "entries")
    }

    /// Inserts entry `index` with its hashes.
    pub fn insert_entry(&self, index: u64, bytes: &[u8], leaf: &Hash) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO entries(idx, bytes, leaf_hash, check_hash) VALUES (?1, ?2, ?3, ?4)",
            params![
                to_i64(index, "entries.idx")?,
                bytes,
                &leaf[..],
                &check_hash(index, bytes)[..]
            ],
        )?;
        Ok(())
    }

    /// Entry `index`, if stored.
    pub fn entry(&self, index: u64) -> Result<Option<StoredEntry>, StoreError> {
        Ok(self
            .0
            .query_row(
                "SELECT bytes, leaf_hash, check_hash FROM entries WHERE idx = ?1",
                [to_i64(index, "entries.idx")?],
                |r| {
                    Ok(StoredEntry {
                        index,
                        bytes: r.get(0)?,
                        leaf_hash: r.get(1)?,
                        check_hash: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Calls `f` on every entry in index order (stops at its first error).
    pub fn each_entry<E: From<StoreError>>(
        &self,
        mut f: impl FnMut(StoredEntry) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut stmt = self
            .0
            .prepare("SELECT idx, bytes, leaf_hash, check_hash FROM entries ORDER BY idx")
            .map_err(StoreError::from)?;
        let mut rows = stmt.query([]).map_err(StoreError::from)?;
        while let Some(r) = rows.next().map_err(StoreError::from)? {
            let idx: i64 = r.get(0).map_err(StoreError::from)?;
            f(StoredEntry {
                index: to_u64(idx, "entries.idx")?,
                bytes: r.get(1).map_err(StoreError::from)?,
                leaf_hash: r.get(2).map_err(StoreError::from)?,
                check_hash: r.get(3).map_err(StoreError::from)?,
            })?;
        }
        Ok(())
    }

    /// Stores Merkle nodes `(level, index, hash)`.
    pub fn insert_nodes(&self, nodes: &[(u8, u64, Hash)]) -> Result<(), StoreError> {
        let mut stmt = self
            .0
            .prepare_cached("INSERT INTO nodes(level, idx, hash) VALUES (?1, ?2, ?3)")?;
        for (level, index, hash) in nodes {
            stmt.execute(params![level, to_i64(*index, "nodes.idx")?, &hash[..]])?;
        }
        Ok(())
    }

    /// Every stored node, ordered by level then index.
    pub fn nodes(&self) -> Result<Vec<(u8, u64, Vec<u8>)>, StoreError> {
        let mut stmt = self
            .0
            .prepare("SELECT level, idx, hash FROM nodes ORDER BY level, idx")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, u8>(0)?, r.get::<_, i64>(1)?, r.get(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(l, i, h)| Ok((l, to_u64(i, "nodes.idx")?, h)))
            .collect()
    }

    /// Stores a signed checkpoint.
    pub fn insert_checkpoint(&self, c: &StoredCheckpoint) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO checkpoints(size, root, note) VALUES (?1, ?2, ?3)",
            params![to_i64(c.size, "checkpoints.size")?, &c.root[..], c.note],
        )?;
        Ok(())
    }

    /// The checkpoint with the largest size.
    pub fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        self.checkpoint_query("SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1")
            .map(|mut v| v.pop())
    }

    /// All checkpoints, smallest first.
    pub fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        self.checkpoint_query("SELECT size, root, note FROM checkpoints ORDER BY size")
    }

    fn checkpoint_query(&self, sql: &str) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let mut stmt = self.0.prepare(sql)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(size, root, note)| {
                let size = to_u64(size, "checkpoints.size")?;
                Ok(StoredCheckpoint {
                    size,
                    root: hash32(&root, || format!("checkpoints row size={size}"))?,
                    note,
                })
            })
            .collect()
    }

    /// Reads the whole derived state, as stored.
    pub fn load_state(&self) -> Result<State, StoreError> {
        state_from_rows(
            self.config()?,
            self.rows("SELECT blueprint_id, record FROM blueprints")?,
            self.rows("SELECT entry_idx, record FROM deposits")?,
            self.rows("SELECT keyid, record FROM members")?,
            self.rows("SELECT report_id, record FROM reports")?,
        )
    }

    fn rows(&self, sql: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self.0.prepare(sql)?;
        let rows = stmt
            .query_map([], |r| {
                let key: rusqlite::types::Value = r.get(0)?;
                let key = match key {
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    other => format!("{other:?}"),
                };
                Ok((key, r.get(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Deletes all derived state (replay's repair path and tests).
    pub fn clear_state(&self) -> Result<(), StoreError> {
        for t in STATE_TABLES {
            self.0.execute(&format!("DELETE FROM {t}"), [])?;
        }
        Ok(())
    }

    /// Deposits of one blueprint id, oldest version first.
    pub fn deposits_of(&self, blueprint_id: &str) -> Result<Vec<DepositRecord>, StoreError> {
        let mut stmt = self.0.prepare(
            "SELECT entry_idx, record FROM deposits WHERE blueprint_id = ?1 ORDER BY version",
        )?;
        let rows = stmt
            .query_map([blueprint_id], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(i, t)| decode_record(&t, format!("deposits row entry {i}")))
            .collect()
    }

    /// Every blueprint record, by id.
    pub fn blueprints(&self) -> Result<Vec<BlueprintRecord>, StoreError> {
        self.rows("SELECT blueprint_id, record FROM blueprints ORDER BY blueprint_id")?
            .into_iter()
            .map(|(k, t)| decode_record(&t, format!("blueprints row {k}")))
            .collect()
    }

    fn get_record<T: DeserializeOwned>(
        &self,
        sql: &str,
        key: impl rusqlite::Params,
        location: impl FnOnce() -> String,
    ) -> Result<Option<T>, StoreError> {
        let text: Option<String> = self.0.query_row(sql, key, |r| r.get(0)).optional()?;
        text.map(|t| decode_record(&t, location())).transpose()
    }
}

impl NodeReader for Lite<'_> {
    type Error = StoreError;
    fn node(&self, level: u8, index: u64) -> Result<Hash, StoreError> {
        let location = || format!("nodes row (level {level}, index {index})");
        let h: Option<Vec<u8>> = self
            .0
            .prepare_cached("SELECT hash FROM nodes WHERE level = ?1 AND idx = ?2")?
            .query_row(params![level, to_i64(index, "nodes.idx")?], |r| r.get(0))
            .optional()?;
        match h {
            Some(h) => hash32(&h, location),
            None => Err(StoreError::Corrupt {
                location: location(),
                detail: "missing".into(),
            }),
        }
    }
}

impl StateStore for Lite<'_> {
    type Error = StoreError;

    fn config(&self) -> Result<Option<Config>, StoreError> {
        self.get_record("SELECT record FROM config WHERE id = 0", [], || {
            "config row 0".into()
        })
    }

    fn put_config(&mut self, c: &Config) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT OR REPLACE INTO config(id, record) VALUES (0, ?1)",
            [encode_record(c)?],
        )?;
        Ok(())
    }

    fn blueprint(&self, id: &str) -> Result<Option<BlueprintRecord>, StoreError> {
        self.get_record(
            "SELECT record FROM blueprints WHERE blueprint_id = ?1",
            [id],
            || format!("blueprints row {id}"),
        )
    }

    fn put_blueprint(&mut self, r: &BlueprintRecord) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT OR REPLACE INTO blueprints(blueprint_id, record) VALUES (?1, ?2)",
            params![r.blueprint_id, encode_record(r)?],
        )?;
        Ok(())
    }

    fn deposit(&self, id: &str, version: u64) -> Result<Option<DepositRecord>, StoreError> {
        self.get_record(
            "SELECT record FROM deposits WHERE blueprint_id = ?1 AND version = ?2",
            params![id, to_i64(version, "deposits.version")?],
            || format!("deposits row {id} version {version}"),
        )
    }

    fn deposit_at(&self, index: u64) -> Result<Option<DepositRecord>, StoreError> {
        self.get_record(
            "SELECT record FROM deposits WHERE entry_idx = ?1",
            [to_i64(index, "deposits.entry_idx")?],
            || format!("deposits row entry {index}"),
        )
    }

    fn put_deposit(&mut self, r: &DepositRecord) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT OR REPLACE INTO deposits(blueprint_id, version, entry_idx, record)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                r.blueprint_id,
                to_i64(r.version, "deposits.version")?,
                to_i64(r.index, "deposits.entry_idx")?,
                encode_record(r)?
            ],
        )?;
        Ok(())
    }

    fn member(&self, keyid: &KeyId) -> Result<Option<MemberRecord>, StoreError> {
        let k = event::keyid_string(keyid);
        self.get_record("SELECT record FROM members WHERE keyid = ?1", [&k], || {
            format!("members row {k}")
        })
    }

    fn put_member(&mut self, keyid: &KeyId, r: &MemberRecord) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT OR REPLACE INTO members(keyid, record) VALUES (?1, ?2)",
            params![event::keyid_string(keyid), encode_record(r)?],
        )?;
        Ok(())
    }

    fn report(&self, id: &Digest) -> Result<Option<ReportRecord>, StoreError> {
        let k = id.to_string();
        self.get_record(
            "SELECT record FROM reports WHERE report_id = ?1",
            [&k],
            || format!("reports row {k}"),
        )
    }

    fn put_report(&mut self, id: &Digest, r: &ReportRecord) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT OR REPLACE INTO reports(report_id, blueprint_id, version, record)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                id.to_string(),
                r.blueprint_id,
                to_i64(r.version, "reports.version")?,
                encode_record(r)?
            ],
        )?;
        Ok(())
    }

    fn reports_on(&self, id: &str, version: u64) -> Result<Vec<ReportRecord>, StoreError> {
        let mut stmt = self.0.prepare(
            "SELECT report_id, record FROM reports WHERE blueprint_id = ?1 AND version = ?2",
        )?;
        let rows = stmt
            .query_map(params![id, to_i64(version, "reports.version")?], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(k, t)| decode_record(&t, format!("reports row {k}")))
            .collect()
    }
}

/// The derived state from its rows as `(key, record JSON)` pairs, each
/// table's key as text (the same for both backends).
pub(crate) fn state_from_rows(
    config: Option<Config>,
    blueprints: Vec<(String, String)>,
    deposits: Vec<(String, String)>,
    members: Vec<(String, String)>,
    reports: Vec<(String, String)>,
) -> Result<State, StoreError> {
    let mut state = State {
        config,
        ..State::default()
    };
    for (key, text) in blueprints {
        let r: BlueprintRecord = decode_record(&text, format!("blueprints row {key}"))?;
        state.blueprints.insert(r.blueprint_id.clone(), r);
    }
    for (key, text) in deposits {
        let r: DepositRecord = decode_record(&text, format!("deposits row entry {key}"))?;
        state
            .deposits
            .insert((r.blueprint_id.clone(), r.version), r);
    }
    for (key, text) in members {
        let r: MemberRecord = decode_record(&text, format!("members row {key}"))?;
        let id = event::parse_keyid(&key).ok_or_else(|| StoreError::Corrupt {
            location: format!("members row {key}"),
            detail: "keyid is not sha256:<hex>".into(),
        })?;
        state.members.insert(id, r);
    }
    for (key, text) in reports {
        let r: ReportRecord = decode_record(&text, format!("reports row {key}"))?;
        let id = key.parse::<Digest>().map_err(|_| StoreError::Corrupt {
            location: format!("reports row {key}"),
            detail: "report_id is not sha256:<hex>".into(),
        })?;
        state.reports.insert(id, r);
    }
    Ok(state)
}

/// The database path inside a registry directory.
pub fn db_path(dir: &Path) -> PathBuf {
    dir.join(DB_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_versions_below_the_floor_are_refused() {
        for bad in ["3.40.1", "3.51.2", "3.9.0", "2.99.99", "x"] {
            assert!(
                matches!(check_sqlite_version(bad), Err(StoreError::Config(_))),
                "{bad}"
            );
        }
        for ok in ["3.51.3", "3.52.0", "3.53.2", "4.0.0"] {
            assert!(check_sqlite_version(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn wal_and_full_sync_are_in_force_and_the_bundled_library_passes() {
        let dir = tempfile::tempdir().unwrap();
        let path = db_path(dir.path());
        let store = Store::create(&path).unwrap();
        let mode: String = store
            .sqlite()
            .unwrap()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(store);
        let store = Store::open(&path).unwrap();
        let sync: i64 = store
            .sqlite()
            .unwrap()
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2);
        assert!(matches!(Store::create(&path), Err(StoreError::Exists(_))));
        assert!(matches!(
            Store::open(&dir.path().join("nope.db")),
            Err(StoreError::Missing(_))
        ));
    }

    #[test]
    fn a_second_writer_gets_busy_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let path = db_path(dir.path());
        let mut a = Store::create(&path).unwrap();
        let mut b = Store::open(&path).unwrap();
        b.set_lock_timeout(Duration::from_millis(50)).unwrap();
        let held = a.write().unwrap();
        assert!(matches!(b.write(), Err(StoreError::Busy)));
        drop(held);
        assert!(b.write().is_ok());
    }
}
