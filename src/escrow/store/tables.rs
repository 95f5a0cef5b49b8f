//! [`Tables`]: each query and update runs on whichever backend the
//! transaction is on (the SQLite half in `store.rs`, the PostgreSQL half
//! in `store_pg.rs`).

use super::{On, StoreError, StoredCheckpoint, StoredEntry, Tables};
use crate::attest::canon::Digest;
use crate::attest::keys::KeyId;
use crate::escrow::ledger::{
    BlueprintRecord, Config, DepositRecord, MemberRecord, ReportRecord, State, StateStore,
};
use crate::escrow::merkle::{Hash, NodeReader};

/// Runs the same call on whichever backend the tables are on.
macro_rules! on {
    ($tables:expr, $t:ident => $call:expr) => {
        match $tables.0 {
            On::Sqlite($t) => $call,
            On::Postgres($t) => $call,
        }
    };
}

impl Tables<'_> {
    /// Number of entries (the tree size): `max(idx) + 1`.
    pub fn size(&self) -> Result<u64, StoreError> {
        on!(self, t => t.size())
    }

    /// Number of entry rows (equals [`Tables::size`] when indices are contiguous).
    pub fn entry_count(&self) -> Result<u64, StoreError> {
        on!(self, t => t.entry_count())
    }

    /// Inserts entry `index` with its hashes.
    pub fn insert_entry(&self, index: u64, bytes: &[u8], leaf: &Hash) -> Result<(), StoreError> {
        on!(self, t => t.insert_entry(index, bytes, leaf))
    }

    /// Entry `index`, if stored.
    pub fn entry(&self, index: u64) -> Result<Option<StoredEntry>, StoreError> {
        on!(self, t => t.entry(index))
    }

    /// Calls `f` on every entry in index order (stops at its first error).
    pub fn each_entry<E: From<StoreError>>(
        &self,
        f: impl FnMut(StoredEntry) -> Result<(), E>,
    ) -> Result<(), E> {
        on!(self, t => t.each_entry(f))
    }

    /// Stores Merkle nodes `(level, index, hash)`.
    pub fn insert_nodes(&self, nodes: &[(u8, u64, Hash)]) -> Result<(), StoreError> {
        on!(self, t => t.insert_nodes(nodes))
    }

    /// Every stored node, ordered by level then index.
    pub fn nodes(&self) -> Result<Vec<(u8, u64, Vec<u8>)>, StoreError> {
        on!(self, t => t.nodes())
    }

    /// Stores a signed checkpoint.
    pub fn insert_checkpoint(&self, c: &StoredCheckpoint) -> Result<(), StoreError> {
        on!(self, t => t.insert_checkpoint(c))
    }

    /// The checkpoint with the largest size.
    pub fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        on!(self, t => t.latest_checkpoint())
    }

    /// All checkpoints, smallest first.
    pub fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        on!(self, t => t.checkpoints())
    }

    /// Reads the whole derived state, as stored.
    pub fn load_state(&self) -> Result<State, StoreError> {
        on!(self, t => t.load_state())
    }

    /// Deletes all derived state (replay's repair path and tests).
    pub fn clear_state(&self) -> Result<(), StoreError> {
        on!(self, t => t.clear_state())
    }

    /// Deposits of one blueprint id, oldest version first.
    pub fn deposits_of(&self, blueprint_id: &str) -> Result<Vec<DepositRecord>, StoreError> {
        on!(self, t => t.deposits_of(blueprint_id))
    }

    /// Every blueprint record, by id.
    pub fn blueprints(&self) -> Result<Vec<BlueprintRecord>, StoreError> {
        on!(self, t => t.blueprints())
    }
}

impl NodeReader for Tables<'_> {
    type Error = StoreError;
    fn node(&self, level: u8, index: u64) -> Result<Hash, StoreError> {
        on!(self, t => NodeReader::node(&t, level, index))
    }
}

impl StateStore for Tables<'_> {
    type Error = StoreError;

    fn config(&self) -> Result<Option<Config>, StoreError> {
        on!(self, t => StateStore::config(&t))
    }
    fn put_config(&mut self, c: &Config) -> Result<(), StoreError> {
        on!(self, t => { let mut t = t; t.put_config(c) })
    }
    fn blueprint(&self, id: &str) -> Result<Option<BlueprintRecord>, StoreError> {
        on!(self, t => StateStore::blueprint(&t, id))
    }
    fn put_blueprint(&mut self, r: &BlueprintRecord) -> Result<(), StoreError> {
        on!(self, t => { let mut t = t; t.put_blueprint(r) })
    }
    fn deposit(&self, id: &str, version: u64) -> Result<Option<DepositRecord>, StoreError> {
        on!(self, t => StateStore::deposit(&t, id, version))
    }
    fn deposit_at(&self, index: u64) -> Result<Option<DepositRecord>, StoreError> {
        on!(self, t => StateStore::deposit_at(&t, index))
    }
    fn put_deposit(&mut self, r: &DepositRecord) -> Result<(), StoreError> {
        on!(self, t => { let mut t = t; t.put_deposit(r) })
    }
    fn member(&self, keyid: &KeyId) -> Result<Option<MemberRecord>, StoreError> {
        on!(self, t => StateStore::member(&t, keyid))
    }
    fn put_member(&mut self, keyid: &KeyId, r: &MemberRecord) -> Result<(), StoreError> {
        on!(self, t => { let mut t = t; t.put_member(keyid, r) })
    }
    fn report(&self, id: &Digest) -> Result<Option<ReportRecord>, StoreError> {
        on!(self, t => StateStore::report(&t, id))
    }
    fn put_report(&mut self, id: &Digest, r: &ReportRecord) -> Result<(), StoreError> {
        on!(self, t => { let mut t = t; t.put_report(id, r) })
    }
    fn reports_on(&self, id: &str, version: u64) -> Result<Vec<ReportRecord>, StoreError> {
        on!(self, t => StateStore::reports_on(&t, id, version))
    }
}
