//! The registry's PostgreSQL store: the same tables as the SQLite store
//! (`store.rs`), so that several servers can append to one log.
//!
//! Durability: every session sets `synchronous_commit = on` and refuses a
//! server running with `fsync = off`, so a COMMIT returns only after the
//! commit record is flushed to the server's WAL. Sequencing: a write
//! transaction starts with `LOCK TABLE entries IN EXCLUSIVE MODE` (bounded
//! by `lock_timeout`, then a typed "busy" error) before it reads anything,
//! and runs at READ COMMITTED, so after the lock every statement sees the
//! tree as the previous writer committed it; the size is never cached
//! across transactions. Readers take a REPEATABLE READ READ ONLY snapshot
//! and are not blocked by the writer (EXCLUSIVE allows ACCESS SHARE).
//!
//! The sync `postgres` client runs its own small runtime: call it from
//! plain or blocking threads, never from inside an async task.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};

use crate::attest::canon::Digest;
use crate::escrow::database::DatabaseUrl;
use crate::escrow::event;
use crate::escrow::ledger::{BlueprintRecord, Config, DepositRecord, MemberRecord, ReportRecord};
use crate::escrow::ledger::{State, StateStore};
use crate::escrow::merkle::{Hash, NodeReader};
use crate::escrow::store::{
    DEFAULT_LOCK_TIMEOUT, SCHEMA_VERSION, StoreError, StoredCheckpoint, StoredEntry, check_hash,
    decode_record, encode_record, hash32, to_i64, to_u64,
};

const SCHEMA: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries(idx BIGINT PRIMARY KEY CHECK (idx >= 0), bytes BYTEA NOT NULL,
                     leaf_hash BYTEA NOT NULL, check_hash BYTEA NOT NULL);
CREATE TABLE nodes(level SMALLINT NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL,
                   PRIMARY KEY(level, idx));
CREATE TABLE checkpoints(size BIGINT PRIMARY KEY, root BYTEA NOT NULL, note TEXT NOT NULL);
CREATE TABLE config(id INTEGER PRIMARY KEY CHECK (id = 0), record TEXT NOT NULL);
CREATE TABLE blueprints(blueprint_id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE deposits(blueprint_id TEXT NOT NULL, version BIGINT NOT NULL,
                      entry_idx BIGINT NOT NULL UNIQUE, record TEXT NOT NULL,
                      PRIMARY KEY(blueprint_id, version));
CREATE TABLE members(keyid TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE reports(report_id TEXT PRIMARY KEY, blueprint_id TEXT NOT NULL,
                     version BIGINT NOT NULL, record TEXT NOT NULL);
CREATE INDEX reports_by_deposit ON reports(blueprint_id, version);
";

/// How long a session may sit idle inside a transaction before the
/// server ends it (and its locks); appends never pause that long.
const IDLE_IN_TRANSACTION: Duration = Duration::from_secs(60);

/// Entries read per round trip when walking the whole log.
const PAGE: i64 = 512;

/// One session with its prepared statements. Interior mutability because
/// the store's table access is shared (`&self`) while the client needs
/// `&mut` for every query; a re-entrant use is an error, not a panic.
pub struct PgConn {
    inner: RefCell<Session>,
}

struct Session {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl PgConn {
    fn session(&self) -> Result<std::cell::RefMut<'_, Session>, StoreError> {
        self.inner
            .try_borrow_mut()
            .map_err(|_| StoreError::Reentrant)
    }

    fn query(&self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>, StoreError> {
        let mut s = self.session()?;
        let s = &mut *s;
        let stmt = match s.statements.get(sql) {
            Some(stmt) => stmt.clone(),
            None => {
                let stmt = s.client.prepare(sql)?;
                s.statements.insert(sql, stmt.clone());
                stmt
            }
        };
        Ok(s.client.query(&stmt, params)?)
    }

    fn execute(&self, sql: &'static str, params: Params<'_>) -> Result<u64, StoreError> {
        let mut s = self.session()?;
        let s = &mut *s;
        let stmt = match s.statements.get(sql) {
            Some(stmt) => stmt.clone(),
            None => {
                let stmt = s.client.prepare(sql)?;
                s.statements.insert(sql, stmt.clone());
                stmt
            }
        };
        Ok(s.client.execute(&stmt, params)?)
    }

    fn batch(&self, sql: &str) -> Result<(), StoreError> {
        Ok(self.session()?.client.batch_execute(sql)?)
    }

    fn setting(&self, name: &str) -> Result<String, StoreError> {
        let rows = self
            .session()?
            .client
            .simple_query(&format!("SHOW {name}"))?;
        rows.iter()
            .find_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
                _ => None,
            })
            .ok_or_else(|| StoreError::Config(format!("SHOW {name} returned nothing")))
    }
}

/// An open registry database on a PostgreSQL server.
pub struct PgStore {
    conn: PgConn,
    url: DatabaseUrl,
    lock_timeout: Duration,
}

impl PgStore {
    /// Creates the tables in an empty database (refusing one that already
    /// holds a registry).
    pub fn create(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let store = Self::connect(url)?;
        if store.has_registry()? {
            return Err(StoreError::DatabaseExists(url.to_string()));
        }
        store.conn.batch(&format!(
            "BEGIN; {SCHEMA} INSERT INTO meta VALUES('schema', '{SCHEMA_VERSION}'); COMMIT;"
        ))?;
        Ok(store)
    }

    /// Opens a database that holds a registry, checking its layout version.
    pub fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let store = Self::connect(url)?;
        if !store.has_registry()? {
            return Err(StoreError::DatabaseMissing(url.to_string()));
        }
        let rows = store
            .conn
            .query("SELECT value FROM meta WHERE key = 'schema'", &[])?;
        let schema: Option<String> = rows.first().map(|r| r.try_get(0)).transpose()?;
        if schema.as_deref() != Some(&SCHEMA_VERSION.to_string()) {
            return Err(StoreError::Corrupt {
                location: "meta.schema".into(),
                detail: format!("expected layout version {SCHEMA_VERSION}, found {schema:?}"),
            });
        }
        Ok(store)
    }

    fn connect(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let store = PgStore {
            conn: Self::session_for(url)?,
            url: url.clone(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        };
        Ok(store)
    }

    /// A new session, checked to commit durably.
    fn session_for(url: &DatabaseUrl) -> Result<PgConn, StoreError> {
        let client = Client::connect(url.expose(), NoTls)?;
        let conn = PgConn {
            inner: RefCell::new(Session {
                client,
                statements: HashMap::new(),
            }),
        };
        // A writer whose host vanished mid-append would hold the table
        // lock until TCP gave up; the server ends such a session instead.
        conn.batch(&format!(
            "SET synchronous_commit = on; SET idle_in_transaction_session_timeout = '{}s'",
            IDLE_IN_TRANSACTION.as_secs()
        ))?;
        let fsync = conn.setting("fsync")?;
        if fsync != "on" {
            return Err(StoreError::Config(format!(
                "the PostgreSQL server runs with fsync={fsync}; a commit would not be durable"
            )));
        }
        let sync = conn.setting("synchronous_commit")?;
        if sync != "on" {
            return Err(StoreError::Config(format!(
                "synchronous_commit is {sync}, not on"
            )));
        }
        Ok(conn)
    }

    /// A session the server closed (restart, network loss) is replaced
    /// before the next transaction, so a long-running server recovers.
    fn reconnect_if_closed(&mut self) -> Result<(), StoreError> {
        if self.conn.session()?.client.is_closed() {
            self.conn = Self::session_for(&self.url)?;
        }
        Ok(())
    }

    fn has_registry(&self) -> Result<bool, StoreError> {
        let rows = self
            .conn
            .query("SELECT to_regclass('meta') IS NOT NULL", &[])?;
        Ok(rows
            .first()
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or(false))
    }

    /// How long a writer waits for the table lock before [`StoreError::Busy`].
    pub fn set_lock_timeout(&mut self, timeout: Duration) {
        self.lock_timeout = timeout;
    }

    /// Starts the one write transaction: the table lock comes first, so
    /// everything read afterwards is the latest committed tree.
    pub fn write(&mut self) -> Result<PgTx<'_>, StoreError> {
        self.reconnect_if_closed()?;
        let ms = self.lock_timeout.as_millis().max(1);
        self.conn.batch("BEGIN ISOLATION LEVEL READ COMMITTED")?;
        let tx = PgTx {
            conn: &self.conn,
            open: true,
        };
        tx.conn.batch(&format!(
            "SET LOCAL lock_timeout = '{ms}ms'; LOCK TABLE entries IN EXCLUSIVE MODE"
        ))?;
        Ok(tx)
    }

    /// A consistent read snapshot.
    pub fn read(&mut self) -> Result<PgTx<'_>, StoreError> {
        self.reconnect_if_closed()?;
        self.conn
            .batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        Ok(PgTx {
            conn: &self.conn,
            open: true,
        })
    }
}

/// A transaction on the session: dropped without [`PgTx::commit`], it
/// rolls back.
pub struct PgTx<'c> {
    conn: &'c PgConn,
    open: bool,
}

impl<'c> PgTx<'c> {
    /// The session inside the transaction.
    pub fn conn(&self) -> &'c PgConn {
        self.conn
    }

    /// COMMIT; with `synchronous_commit = on` the server has flushed the
    /// commit record when this returns.
    pub fn commit(mut self) -> Result<(), StoreError> {
        self.open = false;
        self.conn.batch("COMMIT")
    }
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        if self.open {
            // Nothing to report to: a failed ROLLBACK leaves the session
            // broken, and the next statement says so.
            let _ = self.conn.batch("ROLLBACK");
        }
    }
}

fn entry_of(r: &Row, index: u64) -> Result<StoredEntry, StoreError> {
    Ok(StoredEntry {
        index,
        bytes: r.try_get("bytes")?,
        leaf_hash: r.try_get("leaf_hash")?,
        check_hash: r.try_get("check_hash")?,
    })
}

fn checkpoint_of(r: &Row) -> Result<StoredCheckpoint, StoreError> {
    let size = to_u64(r.try_get::<_, i64>(0)?, "checkpoints.size")?;
    let root: Vec<u8> = r.try_get(1)?;
    Ok(StoredCheckpoint {
        size,
        root: hash32(&root, || format!("checkpoints row size={size}"))?,
        note: r.try_get(2)?,
    })
}

fn record<T: serde::de::DeserializeOwned>(
    rows: &[Row],
    location: impl FnOnce() -> String,
) -> Result<Option<T>, StoreError> {
    rows.first()
        .map(|r| {
            let text: String = r.try_get(0)?;
            decode_record(&text, location())
        })
        .transpose()
}

/// Queries and updates inside a transaction (the PostgreSQL half of
/// `store::Tables`).
impl PgConn {
    pub(crate) fn size(&self) -> Result<u64, StoreError> {
        let rows = self.query("SELECT max(idx) FROM entries", &[])?;
        let max: Option<i64> = rows.first().map(|r| r.try_get(0)).transpose()?.flatten();
        Ok(match max {
            Some(m) => to_u64(m, "entries.idx")? + 1,
            None => 0,
        })
    }

    pub(crate) fn entry_count(&self) -> Result<u64, StoreError> {
        let rows = self.query("SELECT count(*) FROM entries", &[])?;
        let n: i64 = rows.first().map(|r| r.try_get(0)).transpose()?.unwrap_or(0);
        to_u64(n, "entries")
    }

    pub(crate) fn insert_entry(
        &self,
        index: u64,
        bytes: &[u8],
        leaf: &Hash,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO entries(idx, bytes, leaf_hash, check_hash) VALUES ($1, $2, $3, $4)",
            &[
                &to_i64(index, "entries.idx")?,
                &bytes,
                &&leaf[..],
                &&check_hash(index, bytes)[..],
            ],
        )?;
        Ok(())
    }

    pub(crate) fn entry(&self, index: u64) -> Result<Option<StoredEntry>, StoreError> {
        let rows = self.query(
            "SELECT bytes, leaf_hash, check_hash FROM entries WHERE idx = $1",
            &[&to_i64(index, "entries.idx")?],
        )?;
        rows.first().map(|r| entry_of(r, index)).transpose()
    }

    /// Pages through the log so that `f` runs with no query open.
    pub(crate) fn each_entry<E: From<StoreError>>(
        &self,
        mut f: impl FnMut(StoredEntry) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut from = 0i64;
        loop {
            let rows = self.query(
                "SELECT idx, bytes, leaf_hash, check_hash FROM entries WHERE idx >= $1
                 ORDER BY idx LIMIT $2",
                &[&from, &PAGE],
            )?;
            let n = rows.len();
            for r in &rows {
                let idx: i64 = r.try_get(0).map_err(StoreError::from)?;
                from = idx.saturating_add(1);
                f(entry_of(r, to_u64(idx, "entries.idx")?)?)?;
            }
            if n < PAGE as usize {
                return Ok(());
            }
        }
    }

    pub(crate) fn insert_nodes(&self, nodes: &[(u8, u64, Hash)]) -> Result<(), StoreError> {
        for (level, index, hash) in nodes {
            self.execute(
                "INSERT INTO nodes(level, idx, hash) VALUES ($1, $2, $3)",
                &[
                    &i16::from(*level),
                    &to_i64(*index, "nodes.idx")?,
                    &&hash[..],
                ],
            )?;
        }
        Ok(())
    }

    pub(crate) fn nodes(&self) -> Result<Vec<(u8, u64, Vec<u8>)>, StoreError> {
        let rows = self.query(
            "SELECT level, idx, hash FROM nodes ORDER BY level, idx",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                let level: i16 = r.try_get(0)?;
                let level = u8::try_from(level).map_err(|_| StoreError::Corrupt {
                    location: "nodes.level".into(),
                    detail: format!("level {level} is out of range"),
                })?;
                Ok((level, to_u64(r.try_get(1)?, "nodes.idx")?, r.try_get(2)?))
            })
            .collect()
    }

    pub(crate) fn node(&self, level: u8, index: u64) -> Result<Hash, StoreError> {
        let location = || format!("nodes row (level {level}, index {index})");
        let rows = self.query(
            "SELECT hash FROM nodes WHERE level = $1 AND idx = $2",
            &[&i16::from(level), &to_i64(index, "nodes.idx")?],
        )?;
        match rows.first() {
            Some(r) => hash32(&r.try_get::<_, Vec<u8>>(0)?, location),
            None => Err(StoreError::Corrupt {
                location: location(),
                detail: "missing".into(),
            }),
        }
    }

    pub(crate) fn insert_checkpoint(&self, c: &StoredCheckpoint) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO checkpoints(size, root, note) VALUES ($1, $2, $3)",
            &[&to_i64(c.size, "checkpoints.size")?, &&c.root[..], &c.note],
        )?;
        Ok(())
    }

    pub(crate) fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        let rows = self.query(
            "SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1",
            &[],
        )?;
        rows.first().map(checkpoint_of).transpose()
    }

    pub(crate) fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let rows = self.query(
            "SELECT size, root, note FROM checkpoints ORDER BY size",
            &[],
        )?;
        rows.iter().map(checkpoint_of).collect()
    }

    fn keyed(&self, sql: &'static str) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self.query(sql, &[])?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    pub(crate) fn load_state(&self) -> Result<State, StoreError> {
        let blueprints = self.keyed("SELECT blueprint_id, record FROM blueprints")?;
        let deposits = self.keyed("SELECT entry_idx::text, record FROM deposits")?;
        let members = self.keyed("SELECT keyid, record FROM members")?;
        let reports = self.keyed("SELECT report_id, record FROM reports")?;
        crate::escrow::store::state_from_rows(
            self.config()?,
            blueprints,
            deposits,
            members,
            reports,
        )
    }

    pub(crate) fn clear_state(&self) -> Result<(), StoreError> {
        self.batch(
            "DELETE FROM config; DELETE FROM blueprints; DELETE FROM deposits;
             DELETE FROM members; DELETE FROM reports;",
        )
    }

    pub(crate) fn deposits_of(&self, blueprint_id: &str) -> Result<Vec<DepositRecord>, StoreError> {
        let rows = self.query(
            "SELECT record, entry_idx FROM deposits WHERE blueprint_id = $1 ORDER BY version",
            &[&blueprint_id],
        )?;
        rows.iter()
            .map(|r| {
                let i: i64 = r.try_get(1)?;
                decode_record(
                    &r.try_get::<_, String>(0)?,
                    format!("deposits row entry {i}"),
                )
            })
            .collect()
    }

    pub(crate) fn blueprints(&self) -> Result<Vec<BlueprintRecord>, StoreError> {
        self.keyed("SELECT blueprint_id, record FROM blueprints ORDER BY blueprint_id")?
            .into_iter()
            .map(|(k, t)| decode_record(&t, format!("blueprints row {k}")))
            .collect()
    }
}

impl NodeReader for &PgConn {
    type Error = StoreError;
    fn node(&self, level: u8, index: u64) -> Result<Hash, StoreError> {
        PgConn::node(self, level, index)
    }
}

impl StateStore for &PgConn {
    type Error = StoreError;

    fn config(&self) -> Result<Option<Config>, StoreError> {
        let rows = self.query("SELECT record FROM config WHERE id = 0", &[])?;
        record(&rows, || "config row 0".into())
    }

    fn put_config(&mut self, c: &Config) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO config(id, record) VALUES (0, $1)
             ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record",
            &[&encode_record(c)?],
        )?;
        Ok(())
    }

    fn blueprint(&self, id: &str) -> Result<Option<BlueprintRecord>, StoreError> {
        let rows = self.query(
            "SELECT record FROM blueprints WHERE blueprint_id = $1",
            &[&id],
        )?;
        record(&rows, || format!("blueprints row {id}"))
    }

    fn put_blueprint(&mut self, r: &BlueprintRecord) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO blueprints(blueprint_id, record) VALUES ($1, $2)
             ON CONFLICT (blueprint_id) DO UPDATE SET record = EXCLUDED.record",
            &[&r.blueprint_id, &encode_record(r)?],
        )?;
        Ok(())
    }

    fn deposit(&self, id: &str, version: u64) -> Result<Option<DepositRecord>, StoreError> {
        let rows = self.query(
            "SELECT record FROM deposits WHERE blueprint_id = $1 AND version = $2",
            &[&id, &to_i64(version, "deposits.version")?],
        )?;
        record(&rows, || format!("deposits row {id} version {version}"))
    }

    fn deposit_at(&self, index: u64) -> Result<Option<DepositRecord>, StoreError> {
        let rows = self.query(
            "SELECT record FROM deposits WHERE entry_idx = $1",
            &[&to_i64(index, "deposits.entry_idx")?],
        )?;
        record(&rows, || format!("deposits row entry {index}"))
    }

    fn put_deposit(&mut self, r: &DepositRecord) -> Result<(), StoreError> {
        // SQLite's INSERT OR REPLACE: a row clashing on the entry index is
        // replaced too.
        self.execute(
            "DELETE FROM deposits WHERE entry_idx = $1 AND (blueprint_id, version) <> ($2, $3)",
            &[
                &to_i64(r.index, "deposits.entry_idx")?,
                &r.blueprint_id,
                &to_i64(r.version, "deposits.version")?,
            ],
        )?;
        self.execute(
            "INSERT INTO deposits(blueprint_id, version, entry_idx, record) VALUES ($1, $2, $3, $4)
             ON CONFLICT (blueprint_id, version)
             DO UPDATE SET entry_idx = EXCLUDED.entry_idx, record = EXCLUDED.record",
            &[
                &r.blueprint_id,
                &to_i64(r.version, "deposits.version")?,
                &to_i64(r.index, "deposits.entry_idx")?,
                &encode_record(r)?,
            ],
        )?;
        Ok(())
    }

    fn member(
        &self,
        keyid: &crate::attest::keys::KeyId,
    ) -> Result<Option<MemberRecord>, StoreError> {
        let k = event::keyid_string(keyid);
        let rows = self.query("SELECT record FROM members WHERE keyid = $1", &[&k])?;
        record(&rows, || format!("members row {k}"))
    }

    fn put_member(
        &mut self,
        keyid: &crate::attest::keys::KeyId,
        r: &MemberRecord,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO members(keyid, record) VALUES ($1, $2)
             ON CONFLICT (keyid) DO UPDATE SET record = EXCLUDED.record",
            &[&event::keyid_string(keyid), &encode_record(r)?],
        )?;
        Ok(())
    }

    fn report(&self, id: &Digest) -> Result<Option<ReportRecord>, StoreError> {
        let k = id.to_string();
        let rows = self.query("SELECT record FROM reports WHERE report_id = $1", &[&k])?;
        record(&rows, || format!("reports row {k}"))
    }

    fn put_report(&mut self, id: &Digest, r: &ReportRecord) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO reports(report_id, blueprint_id, version, record) VALUES ($1, $2, $3, $4)
             ON CONFLICT (report_id) DO UPDATE SET blueprint_id = EXCLUDED.blueprint_id,
               version = EXCLUDED.version, record = EXCLUDED.record",
            &[
                &id.to_string(),
                &r.blueprint_id,
                &to_i64(r.version, "reports.version")?,
                &encode_record(r)?,
            ],
        )?;
        Ok(())
    }

    fn reports_on(&self, id: &str, version: u64) -> Result<Vec<ReportRecord>, StoreError> {
        let rows = self.query(
            "SELECT report_id, record FROM reports WHERE blueprint_id = $1 AND version = $2",
            &[&id, &to_i64(version, "reports.version")?],
        )?;
        rows.iter()
            .map(|r| {
                let k: String = r.try_get(0)?;
                decode_record(&r.try_get::<_, String>(1)?, format!("reports row {k}"))
            })
            .collect()
    }
}
