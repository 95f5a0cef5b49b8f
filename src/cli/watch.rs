//! `blueprint registry watch --state FILE --log-key PUB CHECKPOINT [--consistency PROOF]`:
//! a witness of the registry's log (docs/log.md).
//!
//! Exit 0: the checkpoint was accepted (first use, unchanged, or advanced
//! along a verified consistency proof). Exit 1: refused — rollback, split
//! view (evidence kept next to the state), growth without a proof, a
//! checkpoint that does not verify, or a stale log under `--max-age`.
//! Exit 2: operational (unreadable files, bad key, corrupt state, lock held,
//! or a proof from a size the witness does not hold: retry).

use super::proof::{parse_proof, read_proof_file};
use super::{EXIT_FINDINGS, EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::attest::keys::PublicKey;
use blueprint::escrow::checkpoint::{Checkpoint, MAX_NOTE_BYTES};
use blueprint::escrow::merkle::{Hash, hash_to_hex};
use blueprint::escrow::witness::{Offered, Outcome, Witness, WitnessError};
use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Output formats of `watch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WatchFormat {
    /// One line for people.
    Human,
    /// A JSON object.
    Json,
}

/// Arguments of `watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The witness's state file (created on first use).
    #[arg(long, value_name = "FILE")]
    pub state: PathBuf,
    /// The log's public key (SPKI PEM).
    #[arg(long, value_name = "PUB")]
    pub log_key: PathBuf,
    /// The signed checkpoint note to check.
    #[arg(value_name = "CHECKPOINT")]
    pub checkpoint: PathBuf,
    /// Consistency proof from the held checkpoint: a file of one hex hash per line, or a comma-separated hex list.
    #[arg(long, value_name = "PROOF")]
    pub consistency: Option<String>,
    /// The size the proof starts from; if the witness holds another size, nothing changes (exit 2: retry).
    #[arg(long, value_name = "M", requires = "consistency")]
    pub from_size: Option<u64>,
    /// Report "stale" (exit 1) when the same tree has been held for more than this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub max_age: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = WatchFormat::Human)]
    pub format: WatchFormat,
}

/// A hex list is hex digits and commas only; anything else names a file.
fn load_proof(arg: &str) -> Result<Vec<Hash>, String> {
    if arg.bytes().all(|b| b.is_ascii_hexdigit() || b == b',') {
        parse_proof(arg)
    } else {
        read_proof_file(Path::new(arg))
    }
}

fn describe(c: &Checkpoint) -> String {
    format!("{} size {} root {}", c.origin, c.size, hash_to_hex(&c.root))
}

fn checkpoint_json(c: &Checkpoint) -> Value {
    json!({"origin": c.origin, "size": c.size, "root": hash_to_hex(&c.root)})
}

pub fn run(args: &WatchArgs) -> u8 {
    let key = match PublicKey::load(&args.log_key) {
        Ok(k) => k,
        Err(e) => return operational(&e.to_string()),
    };
    let note = match output::read_limited(&args.checkpoint, MAX_NOTE_BYTES) {
        Ok(b) => b,
        Err(e) => return operational(&e),
    };
    let proof = match args.consistency.as_deref().map(load_proof).transpose() {
        Ok(p) => p,
        Err(e) => return operational(&format!("--consistency: {e}")),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut witness = Witness::new(&args.state, key);
    if let Some(max) = args.max_age {
        witness = witness.with_max_age(max);
    }
    let offered = proof.as_deref().map(|p| Offered {
        from_size: args.from_size,
        proof: p,
    });
    let result = witness.update(&note, offered, now);
    let (code, status, human, mut fields) = match &result {
        Ok(Outcome::FirstUse(c)) => (
            EXIT_OK,
            "first-use",
            format!(
                "trusted on first use: {} (no earlier checkpoint to compare; later ones must extend it)",
                describe(c)
            ),
            checkpoint_json(c),
        ),
        Ok(Outcome::Unchanged(c)) => (
            EXIT_OK,
            "unchanged",
            format!("unchanged: {}", describe(c)),
            checkpoint_json(c),
        ),
        Ok(Outcome::Advanced { from, to }) => {
            let mut f = checkpoint_json(to);
            f["from_size"] = json!(from.size);
            (
                EXIT_OK,
                "advanced",
                format!(
                    "advanced: {} from size {} (consistency proof verified)",
                    describe(to),
                    from.size
                ),
                f,
            )
        }
        Ok(Outcome::Stale { checkpoint, age }) => {
            let mut f = checkpoint_json(checkpoint);
            f["age_seconds"] = json!(age);
            (
                EXIT_FINDINGS,
                "stale",
                format!(
                    "stale: {} has not changed for {age} s (over --max-age)",
                    describe(checkpoint)
                ),
                f,
            )
        }
        Err(e) => {
            let (code, status) = match e {
                WitnessError::Checkpoint(_) => (EXIT_FINDINGS, "invalid-checkpoint"),
                WitnessError::OriginChanged { .. } => (EXIT_FINDINGS, "origin-changed"),
                WitnessError::Rollback { .. } => (EXIT_FINDINGS, "rollback"),
                WitnessError::SplitView { .. } => (EXIT_FINDINGS, "split-view"),
                WitnessError::Inconsistent { .. } => (EXIT_FINDINGS, "inconsistent"),
                WitnessError::MissingProof { .. } => (EXIT_FINDINGS, "missing-proof"),
                WitnessError::Conflict { .. } => (EXIT_OPERATIONAL, "conflict"),
                _ => (EXIT_OPERATIONAL, "error"),
            };
            let mut f = json!({});
            if let WitnessError::Rollback { evidence, .. }
            | WitnessError::SplitView { evidence, .. }
            | WitnessError::Inconsistent { evidence, .. } = e
            {
                f["evidence"] = json!(evidence.display().to_string());
            }
            let word = if code == EXIT_FINDINGS {
                "refused"
            } else {
                "error"
            };
            (code, status, format!("{word}: {e}"), f)
        }
    };
    let text = match args.format {
        WatchFormat::Human => format!("{human}\n"),
        WatchFormat::Json => {
            fields["status"] = json!(status);
            fields["accepted"] = json!(result.is_ok() && code == EXIT_OK);
            fields["message"] = json!(human);
            let mut s = serde_json::to_string_pretty(&fields).unwrap_or_default();
            s.push('\n');
            s
        }
    };
    if let Err(e) = output::stdout(text.as_bytes()) {
        output::error(&format!("cannot write output: {e}"));
        return EXIT_OPERATIONAL;
    }
    code
}

fn operational(message: &str) -> u8 {
    output::error(message);
    EXIT_OPERATIONAL
}
