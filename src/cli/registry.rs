//! `blueprint registry …`: create an escrow registry, deposit signed
//! blueprints with their bonds, rotate vendor keys, read the log with
//! inclusion and consistency proofs, replay the state and check the store.
//!
//! Exit codes: 0 done; 1 refused (rollback, wrong key, findings, damage or
//! state differences found); 2 operational (busy, unreadable input, I/O).

use super::canon::print_diagnostics;
use super::{
    ColorChoice, EXIT_FINDINGS, EXIT_OK, EXIT_OPERATIONAL, output, registry_escrow, remote,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use blueprint::attest::keys::{PublicKey, SigningKeyFile};
use blueprint::escrow::actions::{self, RevalidateError};
use blueprint::escrow::database::{self, DatabaseUrl};
use blueprint::escrow::event::{Amount, Bond, Currency, EventTime};
use blueprint::escrow::fsck;
use blueprint::escrow::merkle::{Hash, hash_to_hex};
use blueprint::escrow::receipt::Receipt;
use blueprint::escrow::registry::{Appended, DepositRequest, InitOptions, Registry, RegistryError};
use blueprint::escrow::store::StoreError;
use blueprint::escrow::views;
use blueprint::source::SourceMap;
use blueprint::validated::ValidatedManifest;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Output formats of the registry commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RegistryFormat {
    /// Text for people.
    Human,
    /// JSON.
    Json,
}

/// Options every command on an existing registry takes.
#[derive(Debug, Args)]
pub struct Common {
    /// The registry directory, or the URL of a registry server (`http://…`, `https://…`).
    #[arg(value_name = "DIR|URL")]
    pub dir: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = RegistryFormat::Human)]
    pub format: RegistryFormat,

    /// Milliseconds a writer waits for the registry lock before giving up.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub lock_timeout: u64,
}

/// `registry` subcommands.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Create a registry: its database, log key pair and entry 0.
    Init(InitArgs),
    /// Deposit a signed blueprint with its bond; prints the receipt.
    Deposit(DepositArgs),
    /// Deposit several envelopes one at a time, printing `deposited INDEX` after each commit.
    #[command(hide = true)]
    DepositEach(DepositEachArgs),
    /// Rotate the vendor key of a blueprint id (signed by the old key).
    Rotate(RotateArgs),
    /// List the deposited blueprint ids.
    List(Common),
    /// Show every deposited version of a blueprint id with its bond.
    Show(ShowArgs),
    /// Print the latest signed checkpoint (a C2SP signed note).
    Checkpoint(Common),
    /// Print the inclusion proof of an entry.
    Prove(ProveArgs),
    /// Print the consistency proof between two tree sizes.
    Consistency(ConsistencyArgs),
    /// Recompute all state from the entries and compare it with the stored state.
    Replay(Common),
    /// Check the store: SQLite integrity, entries, Merkle nodes, checkpoints.
    Fsck(Common),
    /// Register member keys (labs, regulators, auditors).
    #[command(subcommand)]
    Member(registry_escrow::MemberCommand),
    /// File a signed deviation report on a deposit; prints the report id.
    Report(registry_escrow::ReportArgs),
    /// Co-sign a filed report with another member key.
    Cosign(registry_escrow::SignReportArgs),
    /// Answer a report with the vendor key, within the rebuttal window.
    Rebut(registry_escrow::RebutArgs),
    /// Accept a vendor's rebuttal with a member key.
    AcceptRebuttal(registry_escrow::SignReportArgs),
    /// Record the ruling the escrow rule computes for a report (exit 1 while the window is open).
    Rule(registry_escrow::RuleArgs),
    /// Release a deposit's bond after its support period, with no report pending.
    Release(registry_escrow::ReleaseArgs),
    /// Show each version's bond and the entries that decided it.
    Escrow(registry_escrow::EscrowArgs),
    /// Witness the log: accept a checkpoint only if it extends the last one accepted.
    Watch(super::watch::WatchArgs),
    /// Export the log as static C2SP tlog-tiles files (checkpoint, hash tiles, entry bundles).
    Tiles(TilesArgs),
    /// Export the public explorer as static HTML (index, one page per device, stylesheet).
    Site(super::registry_site::SiteArgs),
}

/// Arguments of `registry tiles`.
#[derive(Debug, Args)]
#[command(
    after_long_help = "Writes WWW/checkpoint, WWW/tile/<L>/<N>[.p/<W>] and WWW/tile/entries/<N>[.p/<W>] (https://c2sp.org/tlog-tiles), each file atomically and the checkpoint last. Run it again after appends: full tiles already present are kept, new tiles and partial tiles are written. Refuses (exit 1) when WWW publishes a checkpoint the registry's does not extend.\n\nExit status: 0 exported; 1 refused; 2 unreadable registry, I/O error, an entry over 65535 bytes."
)]
pub struct TilesArgs {
    #[command(flatten)]
    pub common: Common,
    /// The directory to serve (created if missing).
    #[arg(long, value_name = "WWW")]
    pub out: PathBuf,
}

/// Arguments of `registry init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create the registry in.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The log's origin (checkpoint first line), e.g. `registry.example.org/escrow`.
    #[arg(long, value_name = "NAME")]
    pub origin: String,
    /// Distinct member keys a deviation report needs.
    #[arg(long, value_name = "T", default_value_t = 2)]
    pub quorum: u32,
    /// Days a vendor has to rebut a report.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub window: u32,
    /// Time of the init entry (RFC 3339; default: now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub now: Option<EventTime>,
    /// Keep the tables in this (empty) PostgreSQL database instead of
    /// DIR/registry.db, so several servers can share the log; recorded in
    /// DIR/database.toml (mode 0600) for the later commands (docs/postgres.md).
    #[arg(long, value_name = "postgres://USER:PASSWORD@HOST:PORT/DB")]
    pub database: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RegistryFormat::Human)]
    pub format: RegistryFormat,
}

/// Arguments of `registry deposit`.
#[derive(Debug, Args)]
pub struct DepositArgs {
    #[command(flatten)]
    pub common: Common,
    /// DSSE envelope written by `blueprint sign`.
    #[arg(value_name = "ENVELOPE")]
    pub envelope: PathBuf,
    #[command(flatten)]
    pub deposit: DepositOptions,
    /// Write the receipt here instead of standard output.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Arguments of the hidden `registry deposit-each`.
#[derive(Debug, Args)]
pub struct DepositEachArgs {
    #[command(flatten)]
    pub common: Common,
    /// Envelopes, deposited in order, each in its own transaction.
    #[arg(value_name = "ENVELOPE", required = true)]
    pub envelopes: Vec<PathBuf>,
    #[command(flatten)]
    pub deposit: DepositOptions,
}

/// Bond, key and time of a deposit.
#[derive(Debug, Args)]
pub struct DepositOptions {
    /// The bond: a decimal amount and an ISO 4217 currency, e.g. `--bond 50000 EUR`.
    #[arg(long, num_args = 2, value_names = ["AMOUNT", "CURRENCY"], required = true)]
    pub bond: Vec<String>,
    /// The vendor's public key: pinned by the first deposit of a blueprint id; later it must be the pinned key.
    #[arg(long, value_name = "FILE")]
    pub pubkey: Option<PathBuf>,
    /// Deposit time (RFC 3339; default: now). The manifest is re-validated as of its date.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub now: Option<EventTime>,
}

/// Arguments of `registry rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub common: Common,
    /// The blueprint id whose vendor key changes.
    #[arg(long, value_name = "ID")]
    pub blueprint: String,
    /// The new vendor public key.
    #[arg(long, value_name = "NEW.pub")]
    pub new_key: PathBuf,
    /// The pinned (old) vendor private key, which signs the rotation.
    #[arg(long, value_name = "OLD.key")]
    pub key: PathBuf,
    /// Time of the rotation (RFC 3339; default: now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub now: Option<EventTime>,
}

/// Arguments of `registry show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub common: Common,
    /// The blueprint id.
    #[arg(value_name = "ID")]
    pub id: String,
}

/// Arguments of `registry prove`.
#[derive(Debug, Args)]
pub struct ProveArgs {
    #[command(flatten)]
    pub common: Common,
    /// Entry index.
    #[arg(long, value_name = "N")]
    pub index: u64,
    /// Tree size of a signed checkpoint (default: the latest).
    #[arg(long, value_name = "M")]
    pub size: Option<u64>,
}

/// Arguments of `registry consistency`.
#[derive(Debug, Args)]
pub struct ConsistencyArgs {
    #[command(flatten)]
    pub common: Common,
    /// The older tree size.
    #[arg(long, value_name = "M")]
    pub from: u64,
    /// Tree size of a signed checkpoint (default: the latest).
    #[arg(long, value_name = "N")]
    pub to: Option<u64>,
}

fn parse_time(s: &str) -> Result<EventTime, String> {
    EventTime::parse(s).map_err(|e| e.to_string())
}

/// Runs a registry subcommand.
pub fn run(cmd: &RegistryCommand, color: ColorChoice) -> u8 {
    let result = match cmd {
        RegistryCommand::Init(a) => init(a),
        RegistryCommand::Deposit(a) => deposit(a, color),
        RegistryCommand::DepositEach(a) => deposit_each(a, color),
        RegistryCommand::Rotate(a) => rotate(a),
        RegistryCommand::List(c) => list(c),
        RegistryCommand::Show(a) => show(a),
        RegistryCommand::Checkpoint(c) => checkpoint(c),
        RegistryCommand::Prove(a) => prove(a),
        RegistryCommand::Consistency(a) => consistency(a),
        RegistryCommand::Replay(c) => replay(c),
        RegistryCommand::Fsck(c) => run_fsck(c),
        RegistryCommand::Member(c) => Ok(registry_escrow::member(c)),
        RegistryCommand::Report(a) => Ok(registry_escrow::file_report(a)),
        RegistryCommand::Cosign(a) => Ok(registry_escrow::cosign(a)),
        RegistryCommand::Rebut(a) => Ok(registry_escrow::rebut(a)),
        RegistryCommand::AcceptRebuttal(a) => Ok(registry_escrow::accept_rebuttal(a)),
        RegistryCommand::Rule(a) => Ok(registry_escrow::rule_report(a)),
        RegistryCommand::Release(a) => Ok(registry_escrow::release(a)),
        RegistryCommand::Escrow(a) => Ok(registry_escrow::escrow(a)),
        RegistryCommand::Watch(a) => Ok(super::watch::run(a)),
        RegistryCommand::Tiles(a) => tiles(a),
        RegistryCommand::Site(a) => super::registry_site::run(a),
    };
    match result {
        Ok(code) => code,
        Err(code) => code,
    }
}

/// Prints the error; refusals exit 1, everything else 2.
pub(super) fn fail(e: RegistryError) -> u8 {
    output::error(&e.to_string());
    if e.is_refusal() {
        EXIT_FINDINGS
    } else {
        EXIT_OPERATIONAL
    }
}

pub(super) fn op(e: impl std::fmt::Display) -> u8 {
    output::error(&e.to_string());
    EXIT_OPERATIONAL
}

/// Refuses a URL where a command needs the registry directory.
pub(super) fn local_only(c: &Common) -> Result<(), u8> {
    if remote::url_of(&c.dir).is_some() {
        return Err(op(format!(
            "{}: this command needs the registry directory, not its URL",
            c.dir.display()
        )));
    }
    Ok(())
}

pub(super) fn open(c: &Common) -> Result<Registry, u8> {
    local_only(c)?;
    let mut r = Registry::open(&c.dir).map_err(fail)?;
    r.set_lock_timeout(Duration::from_millis(c.lock_timeout))
        .map_err(fail)?;
    Ok(r)
}

/// The API of a registry given as a URL; `None` for a directory.
pub(super) fn remote(c: &Common) -> Option<remote::Api> {
    remote::url_of(&c.dir).map(remote::Api::new)
}

/// `--now` with a URL: the server records its own time.
pub(super) fn no_now_remote(now: Option<EventTime>) -> Result<(), u8> {
    if now.is_some() {
        return Err(op(
            "--now cannot be used with a registry URL: the server records the time",
        ));
    }
    Ok(())
}

/// Prints `view` for people (`human`) or as JSON.
pub(super) fn emit_view<T: serde::Serialize>(
    format: RegistryFormat,
    human: String,
    view: &T,
) -> Result<u8, u8> {
    emit(format, human, serde_json::to_value(view).map_err(op)?)
}

pub(super) fn emit(format: RegistryFormat, human: String, json: Value) -> Result<u8, u8> {
    let text = match format {
        RegistryFormat::Human => human,
        RegistryFormat::Json => {
            let mut s = serde_json::to_string_pretty(&json).map_err(op)?;
            s.push('\n');
            s
        }
    };
    output::stdout(text.as_bytes()).map_err(op)?;
    Ok(EXIT_OK)
}

fn tiles(a: &TilesArgs) -> Result<u8, u8> {
    use blueprint::escrow::tiles::{TilesError, export};
    let mut r = open(&a.common)?;
    let report = export(&mut r, &a.out).map_err(|e| {
        output::error(&e.to_string());
        match e {
            TilesError::Published { .. } => EXIT_FINDINGS,
            _ => EXIT_OPERATIONAL,
        }
    })?;
    emit(
        a.common.format,
        format!(
            "exported tree size {} to {}: {} written, {} full tile(s) kept\n",
            report.size,
            a.out.display(),
            output::plural(report.written.len() as u64, "file", "files"),
            report.kept
        ),
        json!({"tree_size": report.size, "written": report.written, "kept": report.kept}),
    )
}

fn b64(h: &[u8]) -> String {
    STANDARD.encode(h)
}

fn hex(h: &Hash) -> String {
    hash_to_hex(h)
}

fn init(a: &InitArgs) -> Result<u8, u8> {
    let options = InitOptions {
        origin: a.origin.clone(),
        quorum: a.quorum,
        window_days: a.window,
    };
    let database = a
        .database
        .as_deref()
        .map(DatabaseUrl::parse)
        .transpose()
        .map_err(op)?;
    let mut r = Registry::init_in(
        &a.dir,
        database.as_ref(),
        &options,
        a.now.unwrap_or_else(EventTime::now),
    )
    .map_err(fail)?;
    let key = r.log_public_key().map_err(fail)?;
    let c = r.latest_checkpoint().map_err(fail)?;
    let mut human = format!(
        "created registry {} (origin {}, quorum {}, window {} days)\nlog key sha256:{} in {}\n",
        a.dir.display(),
        a.origin,
        a.quorum,
        a.window,
        key.id(),
        a.dir.join("log.pub").display()
    );
    let mut value = json!({"origin": a.origin, "quorum": a.quorum, "window_days": a.window,
           "log_keyid": format!("sha256:{}", key.id()), "checkpoint": c.note});
    if let Some(url) = &database {
        human.push_str(&format!(
            "tables in PostgreSQL {url} (recorded in {})\n",
            database::record_path(&a.dir).display()
        ));
        value["database"] = json!(url.to_string());
    }
    emit(a.format, human, value)
}

/// The receipt of a deposit entry (`blueprint-receipt/v1`).
fn receipt(a: &Appended) -> Result<Receipt, u8> {
    Receipt::new(&a.entry, a.index, &a.checkpoint.note, &a.inclusion_proof).map_err(op)
}

/// What an appended non-deposit entry prints: its index and checkpoint.
fn appended_json(a: &Appended) -> Value {
    json!({
        "index": a.index,
        "entry": b64(&a.entry),
        "leaf_hash": hex(&a.leaf_hash),
        "tree_size": a.checkpoint.size,
        "root": hex(&a.checkpoint.root),
        "checkpoint": a.checkpoint.note,
        "inclusion_proof": a.inclusion_proof.iter().map(hex).collect::<Vec<_>>(),
    })
}

/// Parses the bond arguments.
fn bond(o: &DepositOptions) -> Result<Bond, u8> {
    let (amount, currency) = match o.bond.as_slice() {
        [a, c] => (a, c),
        _ => return Err(op("--bond takes AMOUNT CURRENCY")),
    };
    let amount = Amount::parse(amount).ok_or_else(|| {
        op(format!(
            "bond amount {amount:?} is not a decimal like 50000 or 1234.56 (up to 15 digits, 4 decimals)"
        ))
    })?;
    let currency = Currency::parse(currency).ok_or_else(|| {
        op(format!(
            "bond currency {currency:?} is not an ISO 4217 code like EUR"
        ))
    })?;
    Ok(Bond { amount, currency })
}

/// Re-validates the envelope's manifest as of `now`'s date; error-level
/// findings refuse the deposit (exit 1) after printing them.
fn revalidate(
    path: &Path,
    envelope: &blueprint::attest::dsse::Envelope,
    now: EventTime,
    color: ColorChoice,
) -> Result<ValidatedManifest, u8> {
    let mut map = SourceMap::new();
    let library = super::profiles::builtin_library(&mut map)?;
    let name = format!("{}#manifest.json", path.display());
    actions::revalidate(&mut map, &library, &name, envelope, now).map_err(|e| {
        match &e {
            RevalidateError::NotDeposit(_) => {
                output::error(&format!("{}: {e}", path.display()));
            }
            RevalidateError::Findings { diagnostics, .. } => {
                print_diagnostics(&map, diagnostics, color);
                output::error(&e.to_string());
            }
            _ => output::error(&e.to_string()),
        }
        EXIT_FINDINGS
    })
}

fn deposit_one(
    r: &mut Registry,
    path: &Path,
    o: &DepositOptions,
    color: ColorChoice,
) -> Result<(Appended, Receipt), u8> {
    let now = o.now.unwrap_or_else(EventTime::now);
    let bond = bond(o)?;
    let vendor_key = o
        .pubkey
        .as_deref()
        .map(PublicKey::load)
        .transpose()
        .map_err(op)?;
    let envelope = super::sign::read_envelope(path)?;
    let manifest = revalidate(path, &envelope, now, color)?;
    let appended = r
        .deposit(&DepositRequest {
            envelope: &envelope,
            manifest: &manifest,
            bond,
            vendor_key,
            now,
        })
        .map_err(fail)?;
    let receipt = receipt(&appended)?;
    Ok((appended, receipt))
}

fn deposited_line(receipt: &Receipt) -> String {
    format!(
        "Deposited {} version {} as entry {} (tree size {}, checkpoint signed)",
        receipt.blueprint_id, receipt.version, receipt.index, receipt.tree_size
    )
}

/// The deposit request `POST /api/v1/deposits` takes.
fn deposit_body(a: &DepositArgs) -> Result<Value, u8> {
    no_now_remote(a.deposit.now)?;
    let bond = bond(&a.deposit)?;
    let envelope = super::sign::read_envelope(&a.envelope)?;
    let envelope: Value = serde_json::from_slice(&envelope.to_json()).map_err(op)?;
    let mut body = json!({"envelope": envelope, "bond": bond});
    if let Some(p) = &a.deposit.pubkey {
        let key = PublicKey::load(p).map_err(op)?;
        body["vendor_public_key"] = Value::from(key.to_pem().map_err(op)?);
    }
    Ok(body)
}

fn deposit(a: &DepositArgs, color: ColorChoice) -> Result<u8, u8> {
    // Refuse an existing receipt file before depositing: the deposit itself
    // cannot be undone once it is in the log.
    if let Some(p) = &a.out
        && p.exists()
    {
        return Err(op(format!(
            "{} exists; give the receipt a new file name",
            p.display()
        )));
    }
    let receipt = match remote(&a.common) {
        Some(api) => {
            let bytes = api.post("/api/v1/deposits", &deposit_body(a)?)?;
            Receipt::from_json(&bytes).map_err(|e| op(format!("the server's receipt: {e}")))?
        }
        None => {
            let mut r = open(&a.common)?;
            deposit_one(&mut r, &a.envelope, &a.deposit, color)?.1
        }
    };
    let text = receipt.to_json();
    output::write_output(
        a.out.as_deref(),
        text.as_bytes(),
        output::Replace::default(),
    )
    .map_err(op)?;
    // Only now: the commit is durable and a signed checkpoint covers it.
    output::stderr_line(&deposited_line(&receipt));
    Ok(EXIT_OK)
}

fn deposit_each(a: &DepositEachArgs, color: ColorChoice) -> Result<u8, u8> {
    let mut r = open(&a.common)?;
    for path in &a.envelopes {
        let (appended, receipt) = deposit_one(&mut r, path, &a.deposit, color)?;
        let line = format!(
            "deposited {} {} {}\n",
            appended.index, receipt.blueprint_id, receipt.version
        );
        output::stdout(line.as_bytes()).map_err(op)?;
        std::io::stdout().flush().map_err(op)?;
    }
    Ok(EXIT_OK)
}

fn rotate(a: &RotateArgs) -> Result<u8, u8> {
    let new_key = PublicKey::load(&a.new_key).map_err(op)?;
    let old_key = SigningKeyFile::load(&a.key).map_err(op)?;
    let mut r = open(&a.common)?;
    let appended = r
        .rotate(
            &a.blueprint,
            new_key,
            &old_key,
            a.now.unwrap_or_else(EventTime::now),
        )
        .map_err(fail)?;
    emit(
        a.common.format,
        format!(
            "Rotated the vendor key of {} to sha256:{} as entry {} (tree size {})\n",
            a.blueprint,
            new_key.id(),
            appended.index,
            appended.checkpoint.size
        ),
        appended_json(&appended),
    )
}

fn list(c: &Common) -> Result<u8, u8> {
    let view: views::ListView = match remote(c) {
        Some(api) => api.get_json("/api/v1/blueprints")?,
        None => views::list(&mut open(c)?).map_err(fail)?,
    };
    let mut human = String::new();
    for b in &view.blueprints {
        human.push_str(&format!(
            "{}  version {}  entry {}  vendor key {}\n",
            b.blueprint_id, b.latest_version, b.latest_index, b.vendor_keyid
        ));
    }
    if view.blueprints.is_empty() {
        human.push_str("no deposits\n");
    }
    emit_view(c.format, human, &view)
}

fn show(a: &ShowArgs) -> Result<u8, u8> {
    let view: views::HistoryView = match remote(&a.common) {
        Some(api) => api.get_json(&format!("/api/v1/blueprints/{}", remote::segment(&a.id)))?,
        None => views::history(&mut open(&a.common)?, &a.id).map_err(fail)?,
    };
    if view.versions.is_empty() {
        output::error(&format!("no deposits of blueprint id {:?}", a.id));
        return Err(EXIT_FINDINGS);
    }
    let mut human = format!("{}\n", a.id);
    for d in &view.versions {
        human.push_str(&format!(
            "  version {}  entry {}  {}  {}\n    bond {} {}: {} ({})\n",
            d.version,
            d.index,
            d.time,
            d.digest,
            d.bond.amount,
            d.bond.currency,
            d.status,
            d.reason
        ));
    }
    emit_view(a.common.format, human, &view)
}

fn checkpoint(c: &Common) -> Result<u8, u8> {
    let view: views::CheckpointView = match remote(c) {
        Some(api) => {
            let bytes = api.get("/api/v1/checkpoint")?;
            let note = String::from_utf8(bytes).map_err(op)?;
            use blueprint::escrow::checkpoint::{Checkpoint, SignedNote};
            let body = SignedNote::parse(note.as_bytes())
                .and_then(|n| Checkpoint::parse_body(&n.text))
                .map_err(|e| op(format!("the server's checkpoint: {e}")))?;
            views::CheckpointView {
                size: body.size,
                root: hex(&body.root),
                note,
            }
        }
        None => views::checkpoint(&mut open(c)?).map_err(fail)?,
    };
    emit_view(c.format, view.note.clone(), &view)
}

fn proof_lines(proof: &[String]) -> String {
    proof
        .iter()
        .enumerate()
        .map(|(i, h)| format!("  [{i}] {h}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn prove(a: &ProveArgs) -> Result<u8, u8> {
    let view: views::InclusionView = match remote(&a.common) {
        Some(api) => api.get_json(&match a.size {
            Some(n) => format!("/api/v1/proofs/inclusion/{}?size={n}", a.index),
            None => format!("/api/v1/proofs/inclusion/{}", a.index),
        })?,
        None => views::inclusion(&mut open(&a.common)?, a.index, a.size).map_err(fail)?,
    };
    emit_view(
        a.common.format,
        format!(
            "entry {} in the tree of size {} (root {})\nleaf hash {}\n{}\n",
            view.index,
            view.tree_size,
            view.root,
            view.leaf_hash,
            proof_lines(&view.inclusion_proof)
        ),
        &view,
    )
}

fn consistency(a: &ConsistencyArgs) -> Result<u8, u8> {
    let view: views::ConsistencyView = match remote(&a.common) {
        Some(api) => api.get_json(&match a.to {
            Some(n) => format!("/api/v1/proofs/consistency?from={}&to={n}", a.from),
            None => format!("/api/v1/proofs/consistency?from={}", a.from),
        })?,
        None => views::consistency(&mut open(&a.common)?, a.from, a.to).map_err(fail)?,
    };
    emit_view(
        a.common.format,
        format!(
            "tree of size {} (root {}) is a prefix of the tree of size {} (root {})\n{}\n",
            view.size1,
            view.root1,
            view.size2,
            view.root2,
            proof_lines(&view.consistency_proof)
        ),
        &view,
    )
}

fn replay(c: &Common) -> Result<u8, u8> {
    let mut r = open(c)?;
    let report = match r.replay() {
        Ok(rep) => rep,
        Err(e @ (RegistryError::Refused(_) | RegistryError::Store(_))) => {
            // An entry that no longer validates or reads is a finding of
            // replay, not a failure to run it.
            output::error(&format!("replay stopped: {e}"));
            return Err(EXIT_FINDINGS);
        }
        Err(e) => return Err(fail(e)),
    };
    let mut human = format!(
        "replayed {} entries: {}\n",
        report.entries,
        if report.differences.is_empty() {
            "state matches the stored state".to_owned()
        } else {
            format!("{} difference(s)", report.differences.len())
        }
    );
    for d in &report.differences {
        human.push_str(&format!("  {d}\n"));
    }
    emit(
        c.format,
        human,
        json!({"entries": report.entries, "differences": report.differences}),
    )?;
    Ok(if report.differences.is_empty() {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    })
}

fn run_fsck(c: &Common) -> Result<u8, u8> {
    // Damage that stops the store from opening is still a finding of fsck,
    // reported with its location.
    let damaged = |e: RegistryError| match e {
        RegistryError::Store(StoreError::Corrupt { location, detail }) => {
            output::error(&format!("{location}: {detail}"));
            EXIT_FINDINGS
        }
        e => fail(e),
    };
    local_only(c)?;
    let mut r = Registry::open(&c.dir).map_err(damaged)?;
    let report = fsck::fsck(&mut r).map_err(damaged)?;
    let mut human = format!(
        "checked {} entries, {} nodes, {} checkpoints: {}\n",
        report.entries,
        report.nodes,
        report.checkpoints,
        if report.clean() {
            "clean".to_owned()
        } else {
            format!("{} problem(s)", report.damage.len())
        }
    );
    for d in &report.damage {
        human.push_str(&format!("  {}: {}\n", d.location, d.detail));
    }
    let damage: Vec<Value> = report
        .damage
        .iter()
        .map(|d| json!({"location": d.location, "detail": d.detail}))
        .collect();
    emit(
        c.format,
        human,
        json!({"entries": report.entries, "nodes": report.nodes,
               "checkpoints": report.checkpoints, "clean": report.clean(), "damage": damage}),
    )?;
    Ok(if report.clean() {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    })
}
