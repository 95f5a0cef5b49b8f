//! The registry's operations: create a registry, append events (deposits,
//! rotations, and the escrow events) and read the log back with proofs.
//!
//! An append is one store transaction (SQLite, or PostgreSQL when the
//! directory records a database: `escrow::database`): the entry, the Merkle nodes it
//! completes and the derived state are written, the new root is checked
//! against the previous signed checkpoint with a consistency proof, a
//! checkpoint for the new size is signed and stored, and only after COMMIT
//! (fsynced: SQLite `synchronous=FULL`, PostgreSQL `synchronous_commit=on`)
//! is the receipt returned. On PostgreSQL the transaction takes the table
//! lock before reading the tree, so servers sharing the database append to
//! one log with contiguous indices. A failure anywhere
//! rolls everything back; a failed commit poisons the handle.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::attest::canon::{CanonError, Digest};
use crate::attest::dsse::{self, Envelope};
use crate::attest::keys::{KeyError, PublicKey, SigningKeyFile};
use crate::attest::statement::{self, DepositRejection};
use crate::escrow::checkpoint::{Checkpoint, CheckpointError};
use crate::escrow::database::{self, DatabaseError, DatabaseUrl};
use crate::escrow::event::{
    Bond, Day, DepositEvent, DepositValidation, Event, EventError, EventKind, EventTime, InitEvent,
    RotateEvent, Text,
};
use crate::escrow::ledger::{
    self, ApplyError, BlueprintRecord, DepositRecord, Refusal, State, StateStore,
};
use crate::escrow::merkle::{self, Hash, ProofError, TreeError};
use crate::escrow::store::{self, StoreError, StoredCheckpoint, Tables};
use crate::validated::ValidatedManifest;

/// The log's private key inside a registry directory (mode 0600).
pub const LOG_KEY_FILE: &str = "log.key";
/// The log's public key inside a registry directory.
pub const LOG_PUB_FILE: &str = "log.pub";

/// Why a registry operation failed. [`RegistryError::is_refusal`] tells a
/// refused request (the caller's input is not acceptable) from an
/// operational failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The store failed (busy, corrupt, I/O).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The event is not valid at this point of the log.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A key file.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// An event does not encode or decode.
    #[error(transparent)]
    Event(#[from] EventError),
    /// A checkpoint could not be made or does not verify.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// A proof could not be computed.
    #[error("{0}")]
    Tree(#[from] TreeError<StoreError>),
    /// The new root is not consistent with the last signed checkpoint: the
    /// log refuses to sign it.
    #[error(
        "refusing to sign: the tree of size {size} is not consistent with the signed checkpoint of size {previous} ({why})"
    )]
    Inconsistent {
        /// The last signed size.
        previous: u64,
        /// The new size.
        size: u64,
        /// What the proof check said.
        why: ProofError,
    },
    /// A request names something the log does not hold.
    #[error("{0}")]
    NotFound(String),
    /// The manifest handed in is not the one the envelope signs.
    #[error("{0}")]
    ManifestMismatch(String),
    /// A registry cannot be created here.
    #[error("{0}: {1}")]
    Setup(PathBuf, String),
    /// The directory's database record or a database URL is unusable.
    #[error(transparent)]
    Database(#[from] DatabaseError),
    /// An earlier commit failed: this handle must not write again.
    #[error("an earlier commit failed; reopen the registry before writing again")]
    Poisoned,
}

impl RegistryError {
    /// True when the request was refused on its merits (exit 1), false for
    /// operational failures (exit 2).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            RegistryError::Refused(_) | RegistryError::ManifestMismatch(_)
        )
    }
}

impl From<ApplyError<StoreError>> for RegistryError {
    fn from(e: ApplyError<StoreError>) -> Self {
        match e {
            ApplyError::Refused(r) => RegistryError::Refused(r),
            ApplyError::Store(s) => RegistryError::Store(s),
        }
    }
}

impl From<CanonError> for RegistryError {
    fn from(e: CanonError) -> Self {
        RegistryError::Event(EventError::Canon(e))
    }
}

/// Parameters of a new registry.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The checkpoint origin (a key name: no spaces or `+`).
    pub origin: String,
    /// Distinct member keys a report needs.
    pub quorum: u32,
    /// Days the vendor has to rebut a report.
    pub window_days: u32,
}

/// An appended entry with what a receipt needs.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The entry's index.
    pub index: u64,
    /// The entry's bytes.
    pub entry: Vec<u8>,
    /// RFC 6962 leaf hash of the entry.
    pub leaf_hash: Hash,
    /// The signed checkpoint that covers it.
    pub checkpoint: StoredCheckpoint,
    /// Inclusion proof of the entry in the checkpoint's tree.
    pub inclusion_proof: Vec<Hash>,
}

/// A deposit request: the envelope, the manifest it carries as the registry
/// re-validated it at the deposit time, and the bond.
#[derive(Debug, Clone)]
pub struct DepositRequest<'a> {
    /// The vendor's DSSE envelope (lab co-signatures may be present).
    pub envelope: &'a Envelope,
    /// The enclosed manifest, validated as of `now`'s date.
    pub manifest: &'a ValidatedManifest,
    /// The bond.
    pub bond: Bond,
    /// The vendor's key: required for a blueprint id's first deposit, and
    /// when given later it must be the pinned key.
    pub vendor_key: Option<PublicKey>,
    /// The deposit time.
    pub now: EventTime,
}

/// What `replay` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    /// Entries folded.
    pub entries: u64,
    /// Differences between replayed and stored state (empty: identical).
    pub differences: Vec<String>,
}

/// An open registry.
#[derive(Debug)]
pub struct Registry {
    dir: PathBuf,
    store: store::Store,
    log_key: Option<SigningKeyFile>,
    poisoned: bool,
}

impl Registry {
    /// Creates a registry in `dir` (created if missing; must not already
    /// hold one): the log key pair and the database with entry 0 (`init`)
    /// under a signed checkpoint of size 1.
    pub fn init(dir: &Path, options: &InitOptions, now: EventTime) -> Result<Self, RegistryError> {
        Self::init_in(dir, None, options, now)
    }

    /// As [`Registry::init`], with the tables in the PostgreSQL database
    /// `database` (when given) instead of the SQLite file; the URL is
    /// recorded in the directory (`database.toml`, mode 0600) so that
    /// [`Registry::open`] finds it. The log key stays in the directory.
    pub fn init_in(
        dir: &Path,
        database: Option<&DatabaseUrl>,
        options: &InitOptions,
        now: EventTime,
    ) -> Result<Self, RegistryError> {
        let origin = Text::parse(&options.origin)
            .filter(|_| Checkpoint::new(&options.origin, 0, merkle::empty_root()).is_ok())
            .ok_or_else(|| {
                RegistryError::Setup(
                    dir.to_owned(),
                    format!(
                        "origin {:?} is not a valid checkpoint origin (one line, no spaces or '+')",
                        options.origin
                    ),
                )
            })?;
        if options.quorum == 0 {
            return Err(RegistryError::Setup(
                dir.to_owned(),
                "quorum must be at least 1".into(),
            ));
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| RegistryError::Setup(dir.to_owned(), e.to_string()))?;
        let db = store::db_path(dir);
        if db.exists() {
            return Err(StoreError::Exists(db).into());
        }
        let record = database::record_path(dir);
        if record.exists() {
            return Err(StoreError::Exists(record).into());
        }
        let store = match database {
            None => None,
            // The database is claimed first: a second `init` on it fails
            // before writing a key.
            Some(url) => Some(store::Store::create_postgres(url)?),
        };
        let key = SigningKeyFile::generate()?;
        key.write_pair(&dir.join("log"))?;
        let store = match (store, database) {
            (Some(s), Some(url)) => {
                database::write_record(dir, url)?;
                s
            }
            _ => store::Store::create(&db)?,
        };
        let mut registry = Registry {
            dir: dir.to_owned(),
            store,
            log_key: Some(key),
            poisoned: false,
        };
        let public = registry.key()?.public();
        registry.append(Event {
            time: now,
            kind: EventKind::Init(InitEvent {
                origin,
                log_public_key: public,
                log_keyid: public.id(),
                quorum: options.quorum,
                window_days: options.window_days,
            }),
        })?;
        Ok(registry)
    }

    /// Opens the registry in `dir`. The log key is loaded when first needed
    /// for writing, so readers need no access to it.
    pub fn open(dir: &Path) -> Result<Self, RegistryError> {
        Self::open_in(dir, None)
    }

    /// Opens the registry whose key is in `dir` and whose tables are in
    /// `database` when given, else where the directory records (its
    /// PostgreSQL database, or the SQLite file).
    pub fn open_in(dir: &Path, database: Option<&DatabaseUrl>) -> Result<Self, RegistryError> {
        let recorded;
        let database = match database {
            Some(url) => Some(url),
            None => {
                recorded = database::read_record(dir)?;
                recorded.as_ref()
            }
        };
        let store = match database {
            Some(url) => store::Store::open_postgres(url)?,
            None => store::Store::open(&store::db_path(dir))?,
        };
        Ok(Registry {
            dir: dir.to_owned(),
            store,
            log_key: None,
            poisoned: false,
        })
    }

    /// The registry directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How long a writer waits for the lock before a busy error.
    pub fn set_lock_timeout(&mut self, timeout: Duration) -> Result<(), RegistryError> {
        self.store.set_lock_timeout(timeout)?;
        Ok(())
    }

    fn key(&mut self) -> Result<&SigningKeyFile, RegistryError> {
        if self.log_key.is_none() {
            self.log_key = Some(SigningKeyFile::load(&self.dir.join(LOG_KEY_FILE))?);
        }
        self.log_key
            .as_ref()
            .ok_or_else(|| RegistryError::NotFound("log key".into()))
    }

    /// Loads the log key now, so a writer without access to it fails
    /// before its first request rather than on it.
    pub fn check_writable(&mut self) -> Result<(), RegistryError> {
        self.key().map(|_| ())
    }

    /// True after a failed commit: the handle must be reopened to write.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// The log's public key, as recorded in entry 0.
    pub fn log_public_key(&mut self) -> Result<PublicKey, RegistryError> {
        Ok(self.config()?.log_key)
    }

    /// The log's parameters.
    pub fn config(&mut self) -> Result<ledger::Config, RegistryError> {
        let tx = self.store.read()?;
        tx.tables()
            .config()?
            .ok_or_else(|| RegistryError::Store(corrupt("config row 0", "missing")))
    }

    /// Appends one event (checked by [`ledger::apply`]) under a new signed
    /// checkpoint.
    pub fn append(&mut self, event: Event) -> Result<Appended, RegistryError> {
        let mut out = self.append_batch(vec![event])?;
        out.pop()
            .ok_or_else(|| RegistryError::NotFound("appended entry".into()))
    }

    /// Appends several events in one transaction under one checkpoint.
    /// All or nothing: one refused event refuses the batch.
    pub fn append_batch(&mut self, events: Vec<Event>) -> Result<Vec<Appended>, RegistryError> {
        self.append_with(|_| Ok(events))
    }

    /// The common write path: `build` sees the state inside the write
    /// transaction (so it can read pinned keys and the latest version
    /// under the lock) and returns the events to append.
    fn append_with(
        &mut self,
        build: impl FnOnce(&Tables<'_>) -> Result<Vec<Event>, RegistryError>,
    ) -> Result<Vec<Appended>, RegistryError> {
        if self.poisoned {
            return Err(RegistryError::Poisoned);
        }
        self.key()?;
        let key = self
            .log_key
            .take()
            .ok_or_else(|| RegistryError::NotFound("log key".into()))?;
        let result = self.append_locked(&key, build);
        self.log_key = Some(key);
        result
    }

    fn append_locked(
        &mut self,
        key: &SigningKeyFile,
        build: impl FnOnce(&Tables<'_>) -> Result<Vec<Event>, RegistryError>,
    ) -> Result<Vec<Appended>, RegistryError> {
        let tx = self.store.write()?;
        let mut t = tx.tables();
        let start = t.size()?;
        let previous = t.latest_checkpoint()?;
        verify_tail(&t, start, previous.as_ref())?;
        let config = t.config()?;
        if let Some(c) = &config
            && c.log_key != key.public()
        {
            return Err(corrupt(
                LOG_KEY_FILE,
                "the log key does not match the key recorded in entry 0",
            )
            .into());
        }
        let events = build(&t)?;
        let mut written = Vec::with_capacity(events.len());
        for (i, event) in events.iter().enumerate() {
            let index = start + i as u64;
            let bytes = event.encode()?;
            // What is stored must be what replay will decode.
            if Event::decode(&bytes)? != *event {
                return Err(EventError::NotCanonical.into());
            }
            ledger::apply(&mut t, index, event)?;
            let leaf = merkle::leaf_hash(&bytes);
            t.insert_entry(index, &bytes, &leaf)?;
            store::failpoint("after-entry")?;
            let nodes = merkle::nodes_completed_by_append(&t, index, leaf)?;
            t.insert_nodes(&nodes)?;
            written.push((index, bytes, leaf));
        }
        let size = start + events.len() as u64;
        let root = merkle::root(&t, size)?;
        if let Some(prev) = &previous {
            let proof = merkle::consistency_proof(&t, prev.size, size)?;
            merkle::verify_consistency(prev.size, size, &prev.root, &root, &proof).map_err(
                |why| RegistryError::Inconsistent {
                    previous: prev.size,
                    size,
                    why,
                },
            )?;
        }
        let origin = match (&config, events.first().map(|e| &e.kind)) {
            (Some(c), _) => c.origin.as_str().to_owned(),
            (None, Some(EventKind::Init(i))) => i.origin.as_str().to_owned(),
            (None, _) => return Err(corrupt("config row 0", "missing").into()),
        };
        store::failpoint("sign-checkpoint")?;
        let note = Checkpoint::new(&origin, size, root)?.sign(key)?;
        let checkpoint = StoredCheckpoint { size, root, note };
        t.insert_checkpoint(&checkpoint)?;
        let mut out = Vec::with_capacity(written.len());
        for (index, entry, leaf_hash) in written {
            out.push(Appended {
                inclusion_proof: merkle::inclusion_proof(&t, index, size)?,
                index,
                entry,
                leaf_hash,
                checkpoint: checkpoint.clone(),
            });
        }
        if let Err(e) = tx.commit() {
            self.poisoned = true;
            return Err(e.into());
        }
        Ok(out)
    }

    /// Deposits a blueprint version: verifies the envelope under the pinned
    /// (or, first time, the given) vendor key, checks that `manifest` is
    /// the envelope's manifest validated at `now`, that the version grows,
    /// and appends the `deposit` entry.
    pub fn deposit(&mut self, req: &DepositRequest<'_>) -> Result<Appended, RegistryError> {
        let mut out = self.deposit_batch(std::slice::from_ref(req))?;
        out.pop()
            .ok_or_else(|| RegistryError::NotFound("appended entry".into()))
    }

    /// Deposits several versions in one transaction under one checkpoint
    /// (group commit): all or nothing, as [`Registry::append_batch`]. Each
    /// deposit is checked as [`Registry::deposit`] checks it; two deposits
    /// of one blueprint id in a batch are refused (the second would be
    /// checked against the state before the first), so a caller retries
    /// a refused batch one deposit at a time.
    pub fn deposit_batch(
        &mut self,
        reqs: &[DepositRequest<'_>],
    ) -> Result<Vec<Appended>, RegistryError> {
        let mut prepared = Vec::with_capacity(reqs.len());
        for req in reqs {
            let manifest_digest = Digest::of_value(req.manifest.value())?;
            let as_of = Day(req.now.date());
            if req.manifest.summary().as_of != as_of.to_string() {
                return Err(RegistryError::ManifestMismatch(format!(
                    "the manifest was validated as of {}, not as of the deposit date {as_of}",
                    req.manifest.summary().as_of
                )));
            }
            prepared.push((req, manifest_digest, as_of));
        }
        self.append_with(|t| {
            let mut seen = std::collections::BTreeSet::new();
            let mut events = Vec::with_capacity(prepared.len());
            for (req, manifest_digest, as_of) in prepared {
                let id = blueprint_id_of(req.manifest)?;
                if !seen.insert(id) {
                    return Err(RegistryError::ManifestMismatch(format!(
                        "blueprint {id} appears twice in one batch"
                    )));
                }
                let pinned = t.blueprint(id)?;
                let key = match (&pinned, req.vendor_key) {
                    (Some(bp), Some(given)) if bp.vendor_key != given => {
                        return Err(Refusal::WrongKey {
                            blueprint_id: bp.blueprint_id.clone(),
                            pinned: bp.vendor_key.id(),
                            why: format!("the given key is sha256:{}", given.id()),
                        }
                        .into());
                    }
                    (Some(bp), _) => bp.vendor_key,
                    (None, Some(given)) => given,
                    (None, None) => {
                        return Err(Refusal::KeyNotPinned {
                            blueprint_id: id.to_owned(),
                        }
                        .into());
                    }
                };
                let event = deposit_event(req, key, pinned.as_ref(), manifest_digest, as_of)?;
                events.push(Event {
                    time: req.now,
                    kind: EventKind::Deposit(Box::new(event)),
                });
            }
            Ok(events)
        })
    }

    /// Rotates the vendor key of `blueprint_id` to `new_key`; the rotation
    /// statement is signed with `old_key`, which must be the pinned key.
    pub fn rotate(
        &mut self,
        blueprint_id: &str,
        new_key: PublicKey,
        old_key: &SigningKeyFile,
        now: EventTime,
    ) -> Result<Appended, RegistryError> {
        let payload = ledger::rotation_payload(blueprint_id, &old_key.id(), &new_key);
        let envelope = Envelope::sign(ledger::ROTATION_PAYLOAD_TYPE, &payload, old_key);
        self.append(Event {
            time: now,
            kind: EventKind::Rotate(RotateEvent {
                blueprint_id: blueprint_id.to_owned(),
                old_keyid: old_key.id(),
                new_keyid: new_key.id(),
                new_public_key: new_key,
                envelope,
            }),
        })
    }

    /// Number of entries.
    pub fn size(&mut self) -> Result<u64, RegistryError> {
        Ok(self.store.read()?.tables().size()?)
    }

    /// The latest signed checkpoint.
    pub fn latest_checkpoint(&mut self) -> Result<StoredCheckpoint, RegistryError> {
        self.store
            .read()?
            .tables()
            .latest_checkpoint()?
            .ok_or_else(|| RegistryError::NotFound("the registry has no checkpoint".into()))
    }

    /// The entry at `index`, decoded.
    pub fn event(&mut self, index: u64) -> Result<(Vec<u8>, Event), RegistryError> {
        let tx = self.store.read()?;
        let row = tx
            .tables()
            .entry(index)?
            .ok_or_else(|| RegistryError::NotFound(format!("no entry {index}")))?;
        let event = Event::decode(&row.bytes).map_err(|e| corrupt_entry(index, &e.to_string()))?;
        Ok((row.bytes, event))
    }

    /// Inclusion proof of entry `index` in the tree of `size` entries
    /// (default: the latest checkpoint's), with that checkpoint.
    pub fn prove(
        &mut self,
        index: u64,
        size: Option<u64>,
    ) -> Result<(Appended, StoredCheckpoint), RegistryError> {
        let tx = self.store.read()?;
        let t = tx.tables();
        let checkpoint = checkpoint_for(&t, size)?;
        if index >= checkpoint.size {
            return Err(RegistryError::NotFound(format!(
                "entry {index} is not in the tree of size {}",
                checkpoint.size
            )));
        }
        let row = t
            .entry(index)?
            .ok_or_else(|| RegistryError::NotFound(format!("no entry {index}")))?;
        let leaf_hash = merkle::leaf_hash(&row.bytes);
        let proof = merkle::inclusion_proof(&t, index, checkpoint.size)?;
        Ok((
            Appended {
                index,
                entry: row.bytes,
                leaf_hash,
                checkpoint: checkpoint.clone(),
                inclusion_proof: proof,
            },
            checkpoint,
        ))
    }

    /// Consistency proof from size `from` to `to` (default: the latest
    /// checkpoint), with the two roots.
    pub fn consistency(
        &mut self,
        from: u64,
        to: Option<u64>,
    ) -> Result<(u64, Hash, StoredCheckpoint, Vec<Hash>), RegistryError> {
        let tx = self.store.read()?;
        let t = tx.tables();
        let checkpoint = checkpoint_for(&t, to)?;
        if from > checkpoint.size {
            return Err(RegistryError::NotFound(format!(
                "size {from} is larger than {}",
                checkpoint.size
            )));
        }
        let old_root = merkle::root(&t, from)?;
        let proof = merkle::consistency_proof(&t, from, checkpoint.size)?;
        Ok((from, old_root, checkpoint, proof))
    }

    /// Every blueprint id with its pinned key and latest version.
    pub fn blueprints(&mut self) -> Result<Vec<BlueprintRecord>, RegistryError> {
        Ok(self.store.read()?.tables().blueprints()?)
    }

    /// Every deposited version of `blueprint_id`, oldest first.
    pub fn history(&mut self, blueprint_id: &str) -> Result<Vec<DepositRecord>, RegistryError> {
        Ok(self.store.read()?.tables().deposits_of(blueprint_id)?)
    }

    /// The derived state as stored.
    pub fn stored_state(&mut self) -> Result<State, RegistryError> {
        Ok(self.store.read()?.tables().load_state()?)
    }

    /// Recomputes the state from the entries alone (the same
    /// [`ledger::apply`] the live path uses) and compares it with the
    /// stored state. A damaged or invalid entry is an error naming it.
    pub fn replay(&mut self) -> Result<ReplayReport, RegistryError> {
        let tx = self.store.read()?;
        let t = tx.tables();
        let replayed = replay_entries(&t)?;
        let stored = t.load_state()?;
        Ok(ReplayReport {
            entries: t.size()?,
            differences: diff_states(&replayed, &stored),
        })
    }

    /// The underlying store (for `fsck`).
    pub fn store_mut(&mut self) -> &mut store::Store {
        &mut self.store
    }
}

/// Folds [`ledger::apply`] over every entry from index 0, checking that
/// indices are contiguous and every entry is intact and decodes.
pub fn replay_entries(t: &Tables<'_>) -> Result<State, RegistryError> {
    let mut state = State::default();
    let mut expected = 0u64;
    t.each_entry(|row| -> Result<(), RegistryError> {
        if row.index != expected {
            return Err(corrupt(
                &format!("entries row {expected}"),
                &format!("missing (next stored index is {})", row.index),
            )
            .into());
        }
        expected += 1;
        check_row(&row)?;
        let event =
            Event::decode(&row.bytes).map_err(|e| corrupt_entry(row.index, &e.to_string()))?;
        match ledger::apply(&mut state, row.index, &event) {
            Ok(()) => Ok(()),
            Err(ApplyError::Refused(r)) => Err(r.into()),
            Err(ApplyError::Store(never)) => match never {},
        }
    })?;
    Ok(state)
}

/// Lists where two states differ, by table and key.
pub fn diff_states(replayed: &State, stored: &State) -> Vec<String> {
    fn diff_map<K: Ord + std::fmt::Debug, V: PartialEq + std::fmt::Debug>(
        table: &str,
        a: &std::collections::BTreeMap<K, V>,
        b: &std::collections::BTreeMap<K, V>,
        out: &mut Vec<String>,
    ) {
        for (k, v) in a {
            match b.get(k) {
                None => out.push(format!("{table} {k:?}: replayed but not stored")),
                Some(w) if w != v => {
                    out.push(format!("{table} {k:?}: replayed {v:?}, stored {w:?}"))
                }
                Some(_) => {}
            }
        }
        for k in b.keys().filter(|k| !a.contains_key(k)) {
            out.push(format!("{table} {k:?}: stored but not produced by replay"));
        }
    }
    let mut out = Vec::new();
    if replayed.config != stored.config {
        out.push(format!(
            "config: replayed {:?}, stored {:?}",
            replayed.config, stored.config
        ));
    }
    diff_map(
        "blueprints",
        &replayed.blueprints,
        &stored.blueprints,
        &mut out,
    );
    diff_map("deposits", &replayed.deposits, &stored.deposits, &mut out);
    diff_map("members", &replayed.members, &stored.members, &mut out);
    diff_map("reports", &replayed.reports, &stored.reports, &mut out);
    out
}

/// A stored row's own checks: the check hash binds bytes to index, and the
/// stored leaf hash is the RFC 6962 leaf hash of the bytes.
pub fn check_row(row: &store::StoredEntry) -> Result<(), StoreError> {
    if row.check_hash[..] != store::check_hash(row.index, &row.bytes) {
        return Err(corrupt_entry_store(
            row.index,
            "bytes do not match the row's check hash (altered or moved)",
        ));
    }
    if row.leaf_hash[..] != merkle::leaf_hash(&row.bytes) {
        return Err(corrupt_entry_store(
            row.index,
            "stored leaf hash is not the leaf hash of the bytes",
        ));
    }
    Ok(())
}

/// Before a write: entry 0 and the last entry are intact and covered by
/// the latest checkpoint's root (an O(log n) check, so a damaged store is
/// refused instead of extended).
fn verify_tail(
    t: &Tables<'_>,
    size: u64,
    previous: Option<&StoredCheckpoint>,
) -> Result<(), RegistryError> {
    let Some(prev) = previous else {
        if size != 0 {
            return Err(corrupt("checkpoints", "entries exist but no checkpoint").into());
        }
        return Ok(());
    };
    if prev.size != size {
        return Err(corrupt(
            "checkpoints",
            &format!(
                "latest checkpoint has size {}, the log has {size} entries",
                prev.size
            ),
        )
        .into());
    }
    if t.entry_count()? != size {
        return Err(corrupt("entries", "indices are not contiguous").into());
    }
    for index in [0, size - 1] {
        let row = t
            .entry(index)?
            .ok_or_else(|| corrupt_entry_store(index, "missing"))?;
        check_row(&row)?;
        let proof = merkle::inclusion_proof(t, index, size)?;
        merkle::verify_inclusion(&row.leaf_hash_array()?, index, size, &proof, &prev.root)
            .map_err(|e| corrupt_entry_store(index, &format!("not in the signed tree: {e}")))?;
    }
    Ok(())
}

impl store::StoredEntry {
    fn leaf_hash_array(&self) -> Result<Hash, StoreError> {
        <[u8; 32]>::try_from(self.leaf_hash.as_slice())
            .map_err(|_| corrupt_entry_store(self.index, "leaf hash is not 32 bytes"))
    }
}

fn checkpoint_for(t: &Tables<'_>, size: Option<u64>) -> Result<StoredCheckpoint, RegistryError> {
    let all = t.checkpoints()?;
    match size {
        None => all.last().cloned(),
        Some(n) => all.iter().find(|c| c.size == n).cloned(),
    }
    .ok_or_else(|| match size {
        Some(n) => RegistryError::NotFound(format!("no signed checkpoint of size {n}")),
        None => RegistryError::NotFound("the registry has no checkpoint".into()),
    })
}

fn blueprint_id_of(m: &ValidatedManifest) -> Result<&str, RegistryError> {
    m.value()
        .pointer("/blueprint/id")
        .and_then(|v| v.as_str())
        .ok_or_else(|| RegistryError::ManifestMismatch("the manifest has no blueprint.id".into()))
}

fn deposit_event(
    req: &DepositRequest<'_>,
    key: PublicKey,
    pinned: Option<&BlueprintRecord>,
    manifest_digest: Digest,
    as_of: Day,
) -> Result<DepositEvent, RegistryError> {
    let verified = statement::verify_deposit(
        req.envelope,
        &[key],
        std::num::NonZeroUsize::MIN,
        Some(manifest_digest),
    )
    .map_err(|e| match (pinned, e) {
        (_, DepositRejection::Envelope(dsse::Rejection::ThresholdNotMet { .. })) => {
            RegistryError::Refused(Refusal::WrongKey {
                blueprint_id: blueprint_id_of(req.manifest).unwrap_or_default().to_owned(),
                pinned: key.id(),
                why: "no valid signature by it".into(),
            })
        }
        (_, e) => RegistryError::Refused(Refusal::Envelope(e)),
    })?;
    let m = req.manifest.value();
    let blueprint_id = blueprint_id_of(req.manifest)?.to_owned();
    let version = m
        .pointer("/blueprint/version")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| {
            RegistryError::ManifestMismatch("the manifest has no blueprint.version".into())
        })?;
    if let Some(bp) = pinned
        && version <= bp.latest_version
    {
        return Err(Refusal::Rollback {
            blueprint_id,
            have: bp.latest_version,
            got: version,
        }
        .into());
    }
    let summary = req.manifest.summary();
    Ok(DepositEvent {
        blueprint_id,
        version,
        digest: verified.deposit.digest,
        subject: verified.deposit.name,
        vendor_keyid: key.id(),
        vendor_public_key: key,
        envelope: req.envelope.clone(),
        bond: req.bond.clone(),
        support_end: m
            .pointer("/security/support_period/end_date")
            .and_then(|v| v.as_str())
            .and_then(Day::parse),
        supersedes: pinned.map(|b| b.latest_index),
        validation: DepositValidation {
            as_of,
            errors: summary.counts.error as u64,
            warnings: summary.counts.warning as u64,
            profiles: summary.profiles.clone(),
        },
    })
}

fn corrupt(location: &str, detail: &str) -> StoreError {
    StoreError::Corrupt {
        location: location.to_owned(),
        detail: detail.to_owned(),
    }
}

fn corrupt_entry_store(index: u64, detail: &str) -> StoreError {
    corrupt(&format!("entries row {index}"), detail)
}

fn corrupt_entry(index: u64, detail: &str) -> RegistryError {
    corrupt_entry_store(index, detail).into()
}
