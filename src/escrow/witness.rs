//! A witness: remembers the last checkpoint of a log it accepted and only
//! moves forward along consistency proofs (C2SP tlog-witness semantics,
//! kept in a local state file).
//!
//! * The first checkpoint is trusted on first use.
//! * A checkpoint of the same size must have the same root; a different
//!   root is a split view (two signed, conflicting trees).
//! * A larger checkpoint needs a consistency proof from the held size; a
//!   proof that does not verify is reported like a split view.
//! * A smaller checkpoint is a rollback (or a replay of an old one).
//!
//! On a rollback or split view both signed notes (and the proof) are kept
//! in an evidence file next to the state, and the state is left unchanged.
//! Updates hold an exclusive lock file (`<state>.lock`) for the
//! read-compare-write, and the state is replaced atomically (temporary
//! file, fsync, rename, directory fsync), so concurrent updaters never lose
//! an advance and a crash never leaves a torn state.
//!
//! A witness detects equivocation by the log; it does not prevent it, and
//! one witness only sees the views shown to it (docs/log.md).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::attest::canon::hex_lower;
use crate::attest::keys::PublicKey;
use crate::escrow::checkpoint::{self, Checkpoint, CheckpointError, MAX_NOTE_BYTES};
use crate::escrow::merkle::{self, Hash, ProofError, hash_to_hex};

/// The `format` of the state file.
pub const STATE_FORMAT: &str = "blueprint-witness-state/v1";
/// The `format` of evidence files.
pub const EVIDENCE_FORMAT: &str = "blueprint-witness-evidence/v1";
/// How long an update waits for another updater's lock before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The state file: the last accepted checkpoint note and when its tree
/// was first seen (seconds since the Unix epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    format: String,
    checkpoint: String,
    since: u64,
}

/// The checkpoint a witness holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Its signed note.
    pub note: String,
    /// When this tree was first accepted (seconds since the Unix epoch).
    pub since: u64,
}

/// A consistency proof offered with a checkpoint.
#[derive(Debug, Clone, Copy)]
pub struct Offered<'a> {
    /// The size the proof starts from; `None` means the held size.
    pub from_size: Option<u64>,
    /// The proof's hashes.
    pub proof: &'a [Hash],
}

/// What an accepted update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No state yet: the checkpoint is now trusted on first use.
    FirstUse(Checkpoint),
    /// The same tree as held.
    Unchanged(Checkpoint),
    /// The same tree as held, unchanged for longer than the allowed age.
    Stale {
        /// The held checkpoint.
        checkpoint: Checkpoint,
        /// Seconds since it was first accepted.
        age: u64,
    },
    /// Advanced along a verified consistency proof.
    Advanced {
        /// The previously held checkpoint.
        from: Checkpoint,
        /// The new one.
        to: Checkpoint,
    },
}

/// What kind of misbehaviour an evidence file records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// A checkpoint smaller than the held one.
    Rollback,
    /// Same size, different root.
    SplitView,
    /// A larger checkpoint whose consistency proof from the held one fails.
    Inconsistent,
}

/// An evidence file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Always [`EVIDENCE_FORMAT`].
    pub format: String,
    /// What happened.
    pub kind: EvidenceKind,
    /// Why, in words.
    pub reason: String,
    /// The held checkpoint note.
    pub held: String,
    /// The offered checkpoint note.
    pub offered: String,
    /// The offered consistency proof, hex (empty if none).
    pub proof: Vec<String>,
}

/// Why an update was refused or could not be carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The offered checkpoint does not verify against the log key.
    #[error("offered checkpoint: {0}")]
    Checkpoint(#[source] CheckpointError),
    /// The offered checkpoint names another log.
    #[error("offered checkpoint is for origin {offered:?}; this witness follows {held:?}")]
    OriginChanged {
        /// The held origin.
        held: String,
        /// The offered origin.
        offered: String,
    },
    /// Smaller than the held checkpoint.
    #[error("rollback: offered size {offered} is below the held size {held}; evidence kept in {}", evidence.display())]
    Rollback {
        /// Held size.
        held: u64,
        /// Offered size.
        offered: u64,
        /// The evidence file.
        evidence: PathBuf,
    },
    /// Same size, different root.
    #[error("split view: two signed roots for size {size} ({held_root} held, {offered_root} offered); evidence kept in {}", evidence.display())]
    SplitView {
        /// The size.
        size: u64,
        /// Held root, hex.
        held_root: String,
        /// Offered root, hex.
        offered_root: String,
        /// The evidence file.
        evidence: PathBuf,
    },
    /// The consistency proof from the held checkpoint fails.
    #[error("split view: size {offered} is not shown consistent with the held size {held} ({reason}); evidence kept in {}", evidence.display())]
    Inconsistent {
        /// Held size.
        held: u64,
        /// Offered size.
        offered: u64,
        /// Why the proof failed.
        reason: ProofError,
        /// The evidence file.
        evidence: PathBuf,
    },
    /// A larger checkpoint without a consistency proof.
    #[error(
        "refused: size {offered} is larger than the held size {held} and no consistency proof was given"
    )]
    MissingProof {
        /// Held size.
        held: u64,
        /// Offered size.
        offered: u64,
    },
    /// The proof starts from a size other than the held one (another
    /// updater moved the witness first): fetch a new proof and retry.
    #[error(
        "conflict: the witness holds size {held}, the proof starts at size {from}; retry with a proof from {held}"
    )]
    Conflict {
        /// Held size.
        held: u64,
        /// The proof's starting size.
        from: u64,
    },
    /// The state file is unreadable or not a witness state.
    #[error("state file {}: {reason}", path.display())]
    CorruptState {
        /// The state file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Another updater holds the lock (or a crashed one left it behind).
    #[error("{} is held by another update; if no witness is running, remove it", path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WitnessError + '_ {
    move |source| WitnessError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A witness over one state file and one log key.
#[derive(Debug, Clone)]
pub struct Witness {
    state: PathBuf,
    key: PublicKey,
    max_age: Option<u64>,
    lock_wait: Duration,
}

impl Witness {
    /// A witness keeping its state in `state`, trusting `key` as the log key.
    pub fn new(state: &Path, key: PublicKey) -> Self {
        Witness {
            state: state.to_owned(),
            key,
            max_age: None,
            lock_wait: LOCK_WAIT,
        }
    }

    /// How long to wait for another updater's lock (default [`LOCK_WAIT`]).
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// Report [`Outcome::Stale`] when the same tree has been held for more
    /// than `seconds` (a frozen log).
    pub fn with_max_age(mut self, seconds: u64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// The state file.
    pub fn state_path(&self) -> &Path {
        &self.state
    }

    /// The checkpoint held, if any (re-verified against the log key).
    pub fn held(&self) -> Result<Option<Held>, WitnessError> {
        let bytes = match fs::read(&self.state) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&self.state)(e)),
        };
        let corrupt = |reason: String| WitnessError::CorruptState {
            path: self.state.clone(),
            reason,
        };
        if bytes.len() > 2 * MAX_NOTE_BYTES {
            return Err(corrupt("too large".into()));
        }
        let s: StateFile = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if s.format != STATE_FORMAT {
            return Err(corrupt(format!("format {:?}", s.format)));
        }
        let v = checkpoint::verify(s.checkpoint.as_bytes(), &self.key, None)
            .map_err(|e| corrupt(format!("held checkpoint: {e}")))?;
        Ok(Some(Held {
            checkpoint: v.checkpoint,
            note: s.checkpoint,
            since: s.since,
        }))
    }

    /// Offers a signed checkpoint note, with a consistency proof when it is
    /// larger than the held one. `now` is seconds since the Unix epoch.
    pub fn update(
        &self,
        note: &[u8],
        proof: Option<Offered<'_>>,
        now: u64,
    ) -> Result<Outcome, WitnessError> {
        let _lock = LockFile::acquire(&with_suffix(&self.state, ".lock"), self.lock_wait)?;
        let held = self.held()?;
        let offered = match checkpoint::verify(note, &self.key, None) {
            Ok(v) => v,
            Err(e) => return Err(WitnessError::Checkpoint(e)),
        };
        let new = offered.checkpoint;
        let Some(held) = held else {
            self.write_state(&offered.note, now)?;
            return Ok(Outcome::FirstUse(new));
        };
        if new.origin != held.checkpoint.origin {
            return Err(WitnessError::OriginChanged {
                held: held.checkpoint.origin,
                offered: new.origin,
            });
        }
        let old = &held.checkpoint;
        let proof_hex = || {
            proof
                .map(|p| p.proof.iter().map(hash_to_hex).collect())
                .unwrap_or_default()
        };
        if new.size < old.size {
            let evidence = self.keep_evidence(
                EvidenceKind::Rollback,
                format!(
                    "offered size {} is below the held size {}",
                    new.size, old.size
                ),
                &held.note,
                &offered.note,
                proof_hex(),
            )?;
            return Err(WitnessError::Rollback {
                held: old.size,
                offered: new.size,
                evidence,
            });
        }
        if new.size == old.size {
            if new.root != old.root {
                let evidence = self.keep_evidence(
                    EvidenceKind::SplitView,
                    format!("two roots for size {}", new.size),
                    &held.note,
                    &offered.note,
                    proof_hex(),
                )?;
                return Err(WitnessError::SplitView {
                    size: new.size,
                    held_root: hash_to_hex(&old.root),
                    offered_root: hash_to_hex(&new.root),
                    evidence,
                });
            }
            if let Some(max) = self.max_age {
                let age = now.saturating_sub(held.since);
                if age > max {
                    return Ok(Outcome::Stale {
                        checkpoint: new,
                        age,
                    });
                }
            }
            return Ok(Outcome::Unchanged(new));
        }
        let Some(p) = proof else {
            return Err(WitnessError::MissingProof {
                held: old.size,
                offered: new.size,
            });
        };
        if let Some(from) = p.from_size {
            if from != old.size {
                return Err(WitnessError::Conflict {
                    held: old.size,
                    from,
                });
            }
        }
        if let Err(reason) =
            merkle::verify_consistency(old.size, new.size, &old.root, &new.root, p.proof)
        {
            let evidence = self.keep_evidence(
                EvidenceKind::Inconsistent,
                format!("consistency proof {} -> {}: {reason}", old.size, new.size),
                &held.note,
                &offered.note,
                proof_hex(),
            )?;
            return Err(WitnessError::Inconsistent {
                held: old.size,
                offered: new.size,
                reason,
                evidence,
            });
        }
        self.write_state(&offered.note, now)?;
        Ok(Outcome::Advanced {
            from: held.checkpoint,
            to: new,
        })
    }

    fn write_state(&self, note: &str, now: u64) -> Result<(), WitnessError> {
        let s = StateFile {
            format: STATE_FORMAT.to_owned(),
            checkpoint: note.to_owned(),
            since: now,
        };
        let mut json = serde_json::to_string_pretty(&s)
            .unwrap_or_else(|e| unreachable!("the state always serializes: {e}"));
        json.push('\n');
        write_atomic(&self.state, json.as_bytes())
    }

    /// Writes the evidence file next to the state, named by its content's
    /// hash (the same conflict seen twice is one file).
    fn keep_evidence(
        &self,
        kind: EvidenceKind,
        reason: String,
        held: &str,
        offered: &str,
        proof: Vec<String>,
    ) -> Result<PathBuf, WitnessError> {
        let e = Evidence {
            format: EVIDENCE_FORMAT.to_owned(),
            kind,
            reason,
            held: held.to_owned(),
            offered: offered.to_owned(),
            proof,
        };
        let mut json = serde_json::to_string_pretty(&e)
            .unwrap_or_else(|e| unreachable!("evidence always serializes: {e}"));
        json.push('\n');
        let id = hex_lower(&Sha256::digest(json.as_bytes())[..8]);
        let path = with_suffix(&self.state, &format!(".evidence-{id}.json"));
        write_atomic(&path, json.as_bytes())?;
        Ok(path)
    }
}

/// Reads an evidence file (bounded).
pub fn read_evidence(path: &Path) -> Result<Evidence, WitnessError> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(4 * MAX_NOTE_BYTES as u64).read_to_end(&mut bytes))
        .map_err(io_err(path))?;
    serde_json::from_slice(&bytes).map_err(|e| WitnessError::CorruptState {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// `path` + `suffix`, without treating dots in the name as an extension.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Replaces `path` with `bytes`: a temporary file in the same directory,
/// fsync, rename over `path`, fsync of the directory.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WitnessError> {
    let tmp = with_suffix(path, ".tmp");
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io_err(path))?;
    let dir = parent_dir(path);
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))?;
    Ok(())
}

/// An exclusive lock: a file created with `O_EXCL`, removed on drop.
struct LockFile {
    path: PathBuf,
}

impl LockFile {
    fn acquire(path: &Path, wait: Duration) -> Result<Self, WitnessError> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut f) => {
                    // The holder's pid, for whoever finds a stale lock.
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(LockFile {
                        path: path.to_owned(),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if start.elapsed() >= wait {
                        return Err(WitnessError::Locked {
                            path: path.to_owned(),
                        });
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) => return Err(io_err(path)(e)),
            }
        }
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
#[path = "witness_tests.rs"]
mod tests;
