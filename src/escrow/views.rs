//! What the registry's read commands show, as data: the CLI renders these
//! for people or prints them as JSON, and the HTTP server sends the same
//! JSON, so `registry prove DIR` and `registry prove URL` print the same
//! bytes and a proof fetched from the server verifies offline with
//! `blueprint proof`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::attest::canon::Digest;
use crate::escrow::event::{Event, Outcome, Verdict};
use crate::escrow::ledger::{BondState, DepositRecord, ReportRecord, State};
use crate::escrow::merkle::hash_to_hex;
use crate::escrow::registry::{Registry, RegistryError};

/// The latest signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointView {
    /// Tree size.
    pub size: u64,
    /// Root hash (hex).
    pub root: String,
    /// The C2SP signed note.
    pub note: String,
}

/// An inclusion proof (`blueprint proof inclusion` reads it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionView {
    /// Entry index.
    pub index: u64,
    /// Tree size of the checkpoint.
    pub tree_size: u64,
    /// Its root (hex).
    pub root: String,
    /// RFC 6962 leaf hash of the entry (hex).
    pub leaf_hash: String,
    /// The entry bytes (base64).
    pub entry: String,
    /// Audit path (hex).
    pub inclusion_proof: Vec<String>,
    /// The signed checkpoint.
    pub checkpoint: String,
}

/// A consistency proof (`blueprint proof consistency` reads it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyView {
    /// The older size.
    pub size1: u64,
    /// Its root (hex).
    pub root1: String,
    /// The newer size (a signed checkpoint's).
    pub size2: u64,
    /// Its root (hex).
    pub root2: String,
    /// The proof (hex).
    pub consistency_proof: Vec<String>,
    /// The newer signed checkpoint.
    pub checkpoint: String,
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryView {
    /// Its index.
    pub index: u64,
    /// The event type (`deposit`, `report`, ...).
    pub kind: String,
    /// The canonical event JSON, as hashed into the log.
    pub event: Value,
}

/// One blueprint id in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlueprintRow {
    /// The id.
    pub blueprint_id: String,
    /// Latest deposited version.
    pub latest_version: u64,
    /// Its entry.
    pub latest_index: u64,
    /// The pinned vendor key (`sha256:…`).
    pub vendor_keyid: String,
    /// Entries of key rotations.
    pub rotations: Vec<u64>,
}

/// Every deposited blueprint id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListView {
    /// The ids, in order.
    pub blueprints: Vec<BlueprintRow>,
}

/// A bond amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BondView {
    /// Decimal amount.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
}

/// One deposited version in a history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRow {
    /// The version.
    pub version: u64,
    /// Its entry.
    pub index: u64,
    /// Deposit time (RFC 3339).
    pub time: String,
    /// Manifest digest.
    pub digest: String,
    /// The bond.
    pub bond: BondView,
    /// `held`, `forfeited` or `released`.
    pub bond_state: String,
    /// As above, `superseded` for a held bond of a superseded version.
    pub status: String,
    /// Why the bond is in its state.
    pub reason: String,
    /// End of the support period.
    pub support_end: Option<String>,
    /// Entry of the version it superseded.
    pub supersedes: Option<u64>,
    /// Entry of the version that superseded it.
    pub superseded_by: Option<u64>,
}

/// A blueprint id's history with bonds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryView {
    /// The id.
    pub blueprint_id: String,
    /// Oldest first.
    pub versions: Vec<VersionRow>,
}

/// A bond and the entries that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscrowBond {
    /// Decimal amount.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
    /// `held`, `forfeited` or `released`.
    pub state: String,
    /// The report and ruling (or release) entries that decided it.
    pub decided_by: Vec<u64>,
}

/// A ruling: its entry and outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulingView {
    /// Its entry.
    pub index: u64,
    /// The outcome.
    pub outcome: Outcome,
}

/// A report on a deposit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscrowReport {
    /// The report id.
    pub report_id: String,
    /// Its entry.
    pub index: u64,
    /// The report's verdict.
    pub verdict: Verdict,
    /// Deviation classes.
    pub classes: Vec<String>,
    /// Distinct member keys that signed.
    pub signers: Vec<String>,
    /// The vendor's rebuttal entry.
    pub rebuttal: Option<u64>,
    /// Members who accepted the rebuttal.
    pub rebuttal_accepted_by: Vec<String>,
    /// The ruling, when there is one.
    pub ruling: Option<RulingView>,
}

/// One version's bond and reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscrowVersion {
    /// The version.
    pub version: u64,
    /// Its entry.
    pub index: u64,
    /// Manifest digest.
    pub digest: String,
    /// End of the support period.
    pub support_end: Option<String>,
    /// The bond.
    pub bond: EscrowBond,
    /// Reports filed on it.
    pub reports: Vec<EscrowReport>,
}

/// A blueprint id's bonds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscrowView {
    /// The id.
    pub blueprint_id: String,
    /// Oldest first.
    pub versions: Vec<EscrowVersion>,
}

fn hex(h: &[u8; 32]) -> String {
    hash_to_hex(h)
}

/// The latest signed checkpoint.
pub fn checkpoint(r: &mut Registry) -> Result<CheckpointView, RegistryError> {
    let cp = r.latest_checkpoint()?;
    Ok(CheckpointView {
        size: cp.size,
        root: hex(&cp.root),
        note: cp.note,
    })
}

/// Inclusion proof of entry `index` in the signed tree of `size` entries
/// (default: the latest).
pub fn inclusion(
    r: &mut Registry,
    index: u64,
    size: Option<u64>,
) -> Result<InclusionView, RegistryError> {
    let (p, cp) = r.prove(index, size)?;
    Ok(InclusionView {
        index: p.index,
        tree_size: cp.size,
        root: hex(&cp.root),
        leaf_hash: hex(&p.leaf_hash),
        entry: STANDARD.encode(&p.entry),
        inclusion_proof: p.inclusion_proof.iter().map(hex).collect(),
        checkpoint: cp.note,
    })
}

/// Consistency proof from `from` to the signed tree of `to` entries
/// (default: the latest).
pub fn consistency(
    r: &mut Registry,
    from: u64,
    to: Option<u64>,
) -> Result<ConsistencyView, RegistryError> {
    let (from, old_root, cp, proof) = r.consistency(from, to)?;
    Ok(ConsistencyView {
        size1: from,
        root1: hex(&old_root),
        size2: cp.size,
        root2: hex(&cp.root),
        consistency_proof: proof.iter().map(hex).collect(),
        checkpoint: cp.note,
    })
}

/// Entry `index` with its decoded event.
pub fn entry(r: &mut Registry, index: u64) -> Result<EntryView, RegistryError> {
    let (bytes, event): (Vec<u8>, Event) = r.event(index)?;
    let value = serde_json::from_slice(&bytes).map_err(|e| {
        RegistryError::Store(crate::escrow::store::StoreError::Corrupt {
            location: format!("entries row {index}"),
            detail: format!("not JSON: {e}"),
        })
    })?;
    Ok(EntryView {
        index,
        kind: event.kind.type_name().to_owned(),
        event: value,
    })
}

/// Every deposited blueprint id.
pub fn list(r: &mut Registry) -> Result<ListView, RegistryError> {
    Ok(ListView {
        blueprints: r
            .blueprints()?
            .into_iter()
            .map(|b| BlueprintRow {
                vendor_keyid: format!("sha256:{}", b.vendor_key.id()),
                blueprint_id: b.blueprint_id,
                latest_version: b.latest_version,
                latest_index: b.latest_index,
                rotations: b.rotations,
            })
            .collect(),
    })
}

/// Why a bond is in its state, from the derived record.
pub fn bond_reason(d: &DepositRecord) -> String {
    match (d.bond_state, d.bond_changed_at, d.superseded_by) {
        (BondState::Forfeited, Some(i), _) => format!("forfeited by the ruling at entry {i}"),
        (BondState::Released, Some(i), _) => format!("released at entry {i}"),
        (BondState::Held, _, Some(by)) => match d.support_end {
            Some(end) => format!(
                "superseded by entry {by}; held until its support ends on {end} (units remain in the field)"
            ),
            None => format!("superseded by entry {by}; held (no support end stated)"),
        },
        (BondState::Held, _, None) => match d.support_end {
            Some(end) => format!("current version; held until its support ends on {end}"),
            None => "current version; held (no support end stated)".into(),
        },
        (state, None, _) => state.as_str().into(),
    }
}

/// Every deposited version of `id` with its bond (empty: never deposited).
pub fn history(r: &mut Registry, id: &str) -> Result<HistoryView, RegistryError> {
    let versions = r
        .history(id)?
        .iter()
        .map(|d| {
            let status = if d.superseded_by.is_some() && d.bond_state == BondState::Held {
                "superseded"
            } else {
                d.bond_state.as_str()
            };
            VersionRow {
                version: d.version,
                index: d.index,
                time: d.time.to_string(),
                digest: d.digest.to_string(),
                bond: BondView {
                    amount: d.bond.amount.as_str().to_owned(),
                    currency: d.bond.currency.as_str().to_owned(),
                },
                bond_state: d.bond_state.as_str().to_owned(),
                status: status.to_owned(),
                reason: bond_reason(d),
                support_end: d.support_end.map(|s| s.to_string()),
                supersedes: d.supersedes,
                superseded_by: d.superseded_by,
            }
        })
        .collect();
    Ok(HistoryView {
        blueprint_id: id.to_owned(),
        versions,
    })
}

/// The bonds of every version of `id` (empty: never deposited).
pub fn escrow_of(state: &State, id: &str) -> EscrowView {
    let mut deposits: Vec<&DepositRecord> = state
        .deposits
        .values()
        .filter(|d| d.blueprint_id == id)
        .collect();
    deposits.sort_by_key(|d| d.version);
    let versions = deposits
        .into_iter()
        .map(|d| {
            let reports: Vec<(&Digest, &ReportRecord)> = state
                .reports
                .iter()
                .filter(|(_, r)| r.blueprint_id == d.blueprint_id && r.version == d.version)
                .collect();
            // A forfeiture is decided by a ruling and the report it rules on.
            let mut decided_by: Vec<u64> = Vec::new();
            if let Some(at) = d.bond_changed_at {
                if let Some((_, rep)) = reports
                    .iter()
                    .find(|(_, r)| r.ruling.is_some_and(|(i, _)| i == at))
                {
                    decided_by.push(rep.index);
                }
                decided_by.push(at);
            }
            EscrowVersion {
                version: d.version,
                index: d.index,
                digest: d.digest.to_string(),
                support_end: d.support_end.map(|e| e.to_string()),
                bond: EscrowBond {
                    amount: d.bond.amount.as_str().to_owned(),
                    currency: d.bond.currency.as_str().to_owned(),
                    state: d.bond_state.as_str().to_owned(),
                    decided_by,
                },
                reports: reports
                    .iter()
                    .map(|(id, rep)| EscrowReport {
                        report_id: id.to_string(),
                        index: rep.index,
                        verdict: rep.verdict,
                        classes: rep.classes.clone(),
                        signers: rep.signers.clone(),
                        rebuttal: rep.rebuttal,
                        rebuttal_accepted_by: rep.rebuttal_accepted_by.clone(),
                        ruling: rep
                            .ruling
                            .map(|(index, outcome)| RulingView { index, outcome }),
                    })
                    .collect(),
            }
        })
        .collect();
    EscrowView {
        blueprint_id: id.to_owned(),
        versions,
    }
}

/// The bonds of every deposited blueprint id.
pub fn escrow_all(state: &State) -> Vec<EscrowView> {
    state
        .blueprints
        .keys()
        .map(|id| escrow_of(state, id))
        .collect()
}
