//! `registry fsck`: checks a registry store from its bytes up and names the
//! location of every piece of damage found, never repairing or masking it.
//!
//! Checks, in order: SQLite's `PRAGMA integrity_check`; entries have the
//! contiguous indices 0..n; each row's check hash and RFC 6962 leaf hash
//! match its bytes; each entry decodes; every stored Merkle node equals
//! the node recomputed from the leaves (and none is missing or extra);
//! every checkpoint's note verifies under the log key of entry 0 with that
//! origin, carries the row's size and root, and its root equals the root
//! recomputed at its size; the latest checkpoint covers every entry.

use std::collections::BTreeMap;

use crate::attest::keys::PublicKey;
use crate::escrow::checkpoint;
use crate::escrow::event::{Event, EventKind};
use crate::escrow::merkle::{self, MemoryTree, NodeReader};
use crate::escrow::registry::{self, LOG_PUB_FILE, Registry, RegistryError};
use crate::escrow::store::{StoreError, Tables};

/// One piece of damage: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// Table and row (or file).
    pub location: String,
    /// What was expected and what was found.
    pub detail: String,
}

/// What fsck checked and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FsckReport {
    /// Entry rows read.
    pub entries: u64,
    /// Merkle node rows compared.
    pub nodes: u64,
    /// Checkpoints verified.
    pub checkpoints: u64,
    /// Damage found (empty: clean).
    pub damage: Vec<Damage>,
}

impl FsckReport {
    /// True when nothing is damaged.
    pub fn clean(&self) -> bool {
        self.damage.is_empty()
    }

    fn damage(&mut self, location: impl Into<String>, detail: impl Into<String>) {
        self.damage.push(Damage {
            location: location.into(),
            detail: detail.into(),
        });
    }

    fn store_error(&mut self, stage: &str, e: StoreError) {
        match e {
            StoreError::Corrupt { location, detail } => self.damage(location, detail),
            other => self.damage(stage, other.to_string()),
        }
    }
}

/// Runs every check over the registry. Errors only when the store cannot
/// be read at all; damage is reported in the result.
pub fn fsck(registry: &mut Registry) -> Result<FsckReport, RegistryError> {
    let mut report = FsckReport::default();
    let log_pub = PublicKey::load(&registry.dir().join(LOG_PUB_FILE)).ok();
    let store = registry.store_mut();
    match store.integrity_check() {
        Ok(problems) => {
            for p in problems {
                report.damage("sqlite integrity_check", p);
            }
        }
        Err(e) => report.store_error("sqlite integrity_check", e),
    }
    let tx = store.read()?;
    let t = tx.tables();
    let (tree, init) = check_entries(&t, &mut report);
    check_nodes(&t, &tree, &mut report);
    match init {
        Some((key, origin)) => {
            if let Some(p) = log_pub
                && p != key
            {
                report.damage(
                    LOG_PUB_FILE,
                    "is not the log key recorded in entry 0".to_owned(),
                );
            }
            check_checkpoints(&t, &tree, &key, &origin, &mut report);
        }
        None => report.damage(
            "entries row 0",
            "no readable `init` entry: checkpoints cannot be verified",
        ),
    }
    Ok(report)
}

/// Reads every entry; returns the tree of the intact prefix's leaf hashes
/// (damaged rows contribute their recomputed leaf hash so later indices
/// keep their positions) and the log key and origin from entry 0.
fn check_entries(
    t: &Tables<'_>,
    report: &mut FsckReport,
) -> (MemoryTree, Option<(PublicKey, String)>) {
    let mut tree = MemoryTree::new();
    let mut init = None;
    let mut expected = 0u64;
    let result = t.each_entry(|row| -> Result<(), StoreError> {
        report.entries += 1;
        if row.index != expected {
            report.damage(
                format!("entries row {expected}"),
                format!(
                    "missing: indices must be contiguous, next stored index is {}",
                    row.index
                ),
            );
            expected = row.index;
        }
        expected += 1;
        if let Err(e) = registry::check_row(&row) {
            report.store_error("entries", e);
        }
        match Event::decode(&row.bytes) {
            Ok(Event {
                kind: EventKind::Init(i),
                ..
            }) if row.index == 0 => {
                init = Some((i.log_public_key, i.origin.as_str().to_owned()));
            }
            Ok(_) if row.index == 0 => {
                report.damage("entries row 0", "is not an `init` event");
            }
            Ok(_) => {}
            Err(e) => report.damage(
                format!("entries row {}", row.index),
                format!("does not decode: {e}"),
            ),
        }
        tree.push_leaf_hash(merkle::leaf_hash(&row.bytes));
        Ok(())
    });
    if let Err(e) = result {
        report.store_error("entries", e);
    }
    (tree, init)
}

fn check_nodes(t: &Tables<'_>, tree: &MemoryTree, report: &mut FsckReport) {
    let stored = match t.nodes() {
        Ok(n) => n,
        Err(e) => return report.store_error("nodes", e),
    };
    let mut seen: BTreeMap<(u8, u64), ()> = BTreeMap::new();
    for (level, index, hash) in &stored {
        report.nodes += 1;
        seen.insert((*level, *index), ());
        let location = format!("nodes row (level {level}, index {index})");
        match tree.node(*level, *index) {
            Ok(expected) if expected[..] == hash[..] => {}
            Ok(expected) => report.damage(
                location,
                format!(
                    "hash {} differs from the recomputed {}",
                    hex(hash),
                    hex(&expected)
                ),
            ),
            Err(_) => report.damage(location, "no such complete subtree in the log"),
        }
    }
    let size = tree.size();
    for level in 0..64u8 {
        let count = size >> level;
        if count == 0 {
            break;
        }
        for index in 0..count {
            if !seen.contains_key(&(level, index)) {
                report.damage(
                    format!("nodes row (level {level}, index {index})"),
                    "missing",
                );
            }
        }
    }
}

fn check_checkpoints(
    t: &Tables<'_>,
    tree: &MemoryTree,
    key: &PublicKey,
    origin: &str,
    report: &mut FsckReport,
) {
    let checkpoints = match t.checkpoints() {
        Ok(c) => c,
        Err(e) => return report.store_error("checkpoints", e),
    };
    let size = tree.size();
    for c in &checkpoints {
        report.checkpoints += 1;
        let location = format!("checkpoints row size={}", c.size);
        match checkpoint::verify(c.note.as_bytes(), key, Some(origin)) {
            Ok(v) if v.checkpoint.size == c.size && v.checkpoint.root == c.root => {}
            Ok(v) => report.damage(
                &location,
                format!(
                    "signed note says size {} root {}, the row says size {} root {}",
                    v.checkpoint.size,
                    hex(&v.checkpoint.root),
                    c.size,
                    hex(&c.root)
                ),
            ),
            Err(e) => report.damage(&location, format!("note does not verify: {e}")),
        }
        if c.size > size {
            report.damage(
                &location,
                format!("signs {} entries but the log holds {size}", c.size),
            );
            continue;
        }
        match merkle::root(tree, c.size) {
            Ok(root) if root == c.root => {}
            Ok(root) => report.damage(
                &location,
                format!(
                    "root {} differs from the recomputed root {}",
                    hex(&c.root),
                    hex(&root)
                ),
            ),
            Err(e) => report.damage(&location, e.to_string()),
        }
    }
    match checkpoints.last() {
        Some(last) if last.size == size => {}
        Some(last) => report.damage(
            "checkpoints",
            format!(
                "the latest checkpoint covers {} entries, the log holds {size}",
                last.size
            ),
        ),
        None => report.damage("checkpoints", "no checkpoint"),
    }
}

fn hex(h: &[u8]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}
