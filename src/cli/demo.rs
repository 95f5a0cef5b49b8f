//! `blueprint demo`: the main job on the bundled example, end to end —
//! validate the smart meter against every profile it meets, sign it with a
//! fresh key, verify the envelope, then escrow it: deposit it with a bond in
//! a fresh registry, check the receipt offline, deposit a loosened version,
//! diff the two, file the diff as a report signed by two lab members, pass
//! the rebuttal window and show the ruling — so a first run shows the whole
//! path without any file of the user's.

use super::render::{self, RunInfo};
use super::{ColorChoice, EXIT_FINDINGS, EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::attest::canon::Digest;
use blueprint::attest::dsse;
use blueprint::attest::keys::SigningKeyFile;
use blueprint::attest::statement::{self, verify_deposit};
use blueprint::device::diff::manifest;
use blueprint::escrow::event::{
    Amount, Bond, CosignEvent, Currency, Event, EventKind, EventTime, MemberEvent, MemberRole,
    ReportEvent, SignatureBytes, Text,
};
use blueprint::escrow::receipt::Receipt;
use blueprint::escrow::registry::{DepositRequest, InitOptions, Registry};
use blueprint::escrow::report::{BlueprintRef, DeviationReport, EvidenceDigest};
use blueprint::escrow::state as escrow_state;
use blueprint::manifest::document::Limits;
use blueprint::profile::Selection;
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_for_signing};
use blueprint::validated::ValidatedManifest;
use clap::Args;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

/// The bundled example device.
const EXAMPLE_NAME: &str = "examples/smart-meter.toml";
const EXAMPLE: &str = include_str!("../../examples/smart-meter.toml");

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Also write the key pair (`DIR/demo.key`, `DIR/demo.pub`), the
    /// envelope (`DIR/smart-meter.dsse.json`) and the escrow registry
    /// (`DIR/registry`) here, to try `verify`, `diff` and `registry` on.
    #[arg(short = 'o', long = "output", alias = "out", value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Evaluation date of date-gated rules (default: today, UTC).
    #[arg(long, value_name = "DATE", value_parser = super::validate::parse_date)]
    pub as_of: Option<time::Date>,

    #[command(flatten)]
    pub view: super::validate::HumanView,
}

pub fn run(args: &DemoArgs, color: ColorChoice) -> u8 {
    match demo(args, color) {
        Ok(()) => EXIT_OK,
        Err(code) => code,
    }
}

fn say(line: &str) -> Result<(), u8> {
    output::stdout(format!("{line}\n").as_bytes()).map_err(|_| EXIT_OPERATIONAL)
}

fn fail(msg: impl std::fmt::Display) -> u8 {
    output::error(&msg.to_string());
    EXIT_OPERATIONAL
}

fn demo(args: &DemoArgs, color: ColorChoice) -> Result<(), u8> {
    let as_of = args.as_of.unwrap_or_else(super::validate::today);
    let mut map = SourceMap::new();
    let library = super::profiles::builtin_library(&mut map)?;
    let options = ValidateOptions {
        schema_only: false,
        as_of,
        limits: Limits::default(),
        selection: Selection::Auto,
    };
    say(&format!(
        "1. validate {EXAMPLE_NAME} (bundled) as of {as_of}"
    ))?;
    let (report, validated) = validate_for_signing(
        &mut map,
        &library,
        EXAMPLE_NAME,
        EXAMPLE.as_bytes(),
        &options,
    );
    let info = RunInfo {
        as_of: &as_of.to_string(),
        color: output::use_color(color),
        min_severity: args.view.min_severity(),
        quiet: args.view.quiet,
    };
    args.view
        .write(&render::human(&map, std::slice::from_ref(&report), &info))
        .map_err(|_| EXIT_OPERATIONAL)?;
    let Some(validated) = validated else {
        output::error("the bundled example has error-level findings; nothing was signed");
        return Err(EXIT_FINDINGS);
    };

    let key = SigningKeyFile::generate().map_err(fail)?;
    let envelope = statement::sign_manifest(&validated, &key).map_err(fail)?;
    let digest = blueprint::attest::canon::Digest::of_value(validated.value()).map_err(fail)?;
    say(&format!(
        "2. sign: DSSE envelope with an in-toto Statement, subject {}, key id {}",
        digest,
        key.id()
    ))?;

    let public = key.public();
    let verified = verify_deposit(
        &envelope,
        std::slice::from_ref(&public),
        NonZeroUsize::MIN,
        Some(digest),
    )
    .map_err(|e| fail(format!("the fresh envelope did not verify: {e}")))?;
    say(&format!(
        "3. verify: strict Ed25519 over the recomputed PAE, {} signer(s), subject {} {}",
        verified.signers.len(),
        verified.deposit.name,
        verified.deposit.digest
    ))?;

    escrow_story(args, &options, &validated, &key)?;

    if let Some(dir) = &args.output {
        std::fs::create_dir_all(dir)
            .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
        let (k, p) = key.write_pair(&dir.join("demo")).map_err(fail)?;
        let env_path = dir.join("smart-meter.dsse.json");
        output::write_file(&env_path, &envelope.to_json(), output::Replace::default())
            .map_err(fail)?;
        say(&format!(
            "wrote {}, {}, {} and the registry {}\ntry: blueprint verify {} --pubkey {}\n     blueprint registry escrow {} voltaris-em5",
            k.display(),
            p.display(),
            env_path.display(),
            dir.join("registry").display(),
            env_path.display(),
            p.display(),
            dir.join("registry").display()
        ))?;
    } else {
        say(
            "(the key was ephemeral; run `blueprint demo -o DIR` to keep the key and the envelope)",
        )?;
    }
    Ok(())
}

/// The loosened version: the next `blueprint.version`, and the load profile
/// kept 400 days instead of the 90 declared (more than twice: P10).
const LOOSENED_NAME: &str = "smart-meter-v3.toml";
const VERSION_LINE: &str = "version = 2\n";
const RETENTION: &str = "period_days = 90, criteria = \"Ring buffer of 90 days on the meter.\"";
const LOOSENED_RETENTION: &str =
    "period_days = 400, criteria = \"Ring buffer of 90 days on the meter.\"";

/// A fresh registry directory: `OUT/registry`, or a new one under the
/// system's temporary directory that is removed afterwards.
fn registry_dir(args: &DemoArgs) -> Result<(PathBuf, bool), u8> {
    if let Some(out) = &args.output {
        return Ok((out.join("registry"), false));
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("blueprint-demo-{}-{nanos}", std::process::id()));
    Ok((dir, true))
}

fn escrow_story(
    args: &DemoArgs,
    options: &ValidateOptions,
    v2: &ValidatedManifest,
    vendor: &SigningKeyFile,
) -> Result<(), u8> {
    let (dir, temporary) = registry_dir(args)?;
    let result = escrow_steps(&dir, options, v2, vendor);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn escrow_steps(
    dir: &Path,
    options: &ValidateOptions,
    v2: &ValidatedManifest,
    vendor: &SigningKeyFile,
) -> Result<(), u8> {
    let day = |n: i64| {
        let base = options.as_of.midnight().assume_utc().unix_timestamp() + 9 * 3600;
        EventTime::from_unix(base + n * 86_400)
            .ok_or_else(|| fail(format!("{} is out of range", options.as_of)))
    };
    let t0 = day(0)?;
    let init = InitOptions {
        origin: "demo.blueprint.invalid/escrow".into(),
        quorum: 2,
        window_days: 14,
    };
    let mut registry = Registry::init(dir, &init, t0).map_err(fail)?;
    let log_key = registry.log_public_key().map_err(fail)?;
    let bond = Bond {
        amount: Amount::parse("50000").ok_or_else(|| fail("bond amount"))?,
        currency: Currency::parse("EUR").ok_or_else(|| fail("bond currency"))?,
    };
    let deposit = |registry: &mut Registry, m: &ValidatedManifest| {
        let envelope = statement::sign_manifest(m, vendor).map_err(fail)?;
        registry
            .deposit(&DepositRequest {
                envelope: &envelope,
                manifest: m,
                bond: bond.clone(),
                vendor_key: Some(vendor.public()),
                now: t0,
            })
            .map_err(fail)
    };
    let first = deposit(&mut registry, v2)?;
    let receipt = Receipt::new(
        &first.entry,
        first.index,
        &first.checkpoint.note,
        &first.inclusion_proof,
    )
    .and_then(|r| r.verify(&log_key))
    .map_err(|e| fail(format!("the deposit receipt did not verify: {e}")))?;
    say(&format!(
        "4. escrow: deposit v2 with a 50000 EUR bond in a new registry (quorum 2, 14-day rebuttal window): entry {}; receipt verified offline against the checkpoint of size {}",
        receipt.index, receipt.checkpoint.size
    ))?;

    let loosened = EXAMPLE.replacen(VERSION_LINE, "version = 3\n", 1).replacen(
        RETENTION,
        LOOSENED_RETENTION,
        1,
    );
    let mut map = SourceMap::new();
    let library = super::profiles::builtin_library(&mut map)?;
    let (_, v3) = validate_for_signing(
        &mut map,
        &library,
        LOOSENED_NAME,
        loosened.as_bytes(),
        options,
    );
    let v3 = v3.ok_or_else(|| fail("the loosened example has error-level findings"))?;
    let second = deposit(&mut registry, &v3)?;
    say(&format!(
        "5. deposit v3, loosened (load profile kept 400 days, not 90): entry {}",
        second.index
    ))?;

    let diff = manifest::report(v2.value(), EXAMPLE_NAME, v3.value(), LOOSENED_NAME);
    for d in &diff.deviations {
        say(&format!(
            "6. diff v2 -> v3: {} {} at {}",
            d.class.code(),
            d.title,
            d.path
        ))?;
    }

    let labs = [
        ("Lab A", SigningKeyFile::generate().map_err(fail)?),
        ("Lab B", SigningKeyFile::generate().map_err(fail)?),
    ];
    for (name, key) in &labs {
        let public = key.public();
        registry
            .append(Event {
                time: t0,
                kind: EventKind::Member(MemberEvent {
                    name: Text::parse(name).ok_or_else(|| fail("member name"))?,
                    role: MemberRole::Lab,
                    public_key: public,
                    keyid: public.id(),
                }),
            })
            .map_err(fail)?;
    }
    let deviations = serde_json::to_value(&diff).map_err(fail)?;
    let reported = DeviationReport::new(
        BlueprintRef {
            id: v2_id(v2)?,
            version: 2,
            digest: Digest::of_value(v2.value()).map_err(fail)?,
        },
        deviations,
        vec![EvidenceDigest::of(LOOSENED_NAME, loosened.as_bytes())],
    )
    .map_err(fail)?;
    let (envelope, id) = reported.sign(&labs[0].1).map_err(fail)?;
    let payload = envelope.payload_bytes().map_err(fail)?;
    let cosignature = labs[1].1.sign(&dsse::pae(&envelope.payload_type, &payload));
    let filed = registry
        .append(Event {
            time: day(1)?,
            kind: EventKind::Report(Box::new(ReportEvent {
                report_id: id,
                blueprint_id: reported.blueprint.id.clone(),
                version: reported.blueprint.version,
                blueprint_digest: reported.blueprint.digest,
                evidence_digests: reported.evidence.iter().map(|e| e.digest).collect(),
                classes: reported
                    .classes
                    .iter()
                    .map(|c| c.code().to_owned())
                    .collect(),
                verdict: escrow_state::verdict_of(reported.verdict),
                envelope,
            })),
        })
        .map_err(fail)?;
    registry
        .append(Event {
            time: day(1)?,
            kind: EventKind::Cosign(CosignEvent {
                report_id: id,
                keyid: labs[1].1.id(),
                signature: SignatureBytes(cosignature.to_bytes()),
            }),
        })
        .map_err(fail)?;
    say(&format!(
        "7. report {id} on v2 (entry {}), signed by Lab A, co-signed by Lab B",
        filed.index
    ))?;

    let state = registry.stored_state().map_err(fail)?;
    let config = state.config.clone().ok_or_else(|| fail("no init entry"))?;
    let record = state
        .reports
        .get(&id)
        .ok_or_else(|| fail("the report was not stored"))?;
    if let Err(e) = escrow_state::ruling_event(&config, id, record, day(2)?) {
        say(&format!("8. rule on day 2: refused, {e}"))?;
    }
    let (ruling, outcome) =
        escrow_state::ruling_event(&config, id, record, day(15)?).map_err(fail)?;
    let ruled = registry
        .append(Event {
            time: day(15)?,
            kind: EventKind::Ruling(ruling),
        })
        .map_err(fail)?;
    say(&format!(
        "9. rule on day 15 (window passed): {} ({}), entry {}",
        outcome.code().unwrap_or("none"),
        outcome.reason(),
        ruled.index
    ))?;
    for d in registry.history(&reported.blueprint.id).map_err(fail)? {
        say(&format!(
            "   bond of v{}: {} {} {}",
            d.version,
            d.bond.amount,
            d.bond.currency,
            d.bond_state.as_str()
        ))?;
    }
    let replay = registry.replay().map_err(fail)?;
    if !replay.differences.is_empty() {
        return Err(fail(format!(
            "replay differs from the stored state: {}",
            replay.differences.join("; ")
        )));
    }
    say(&format!(
        "10. replay: {} entries folded from entry 0 reproduce the stored state",
        replay.entries
    ))
}

fn v2_id(m: &ValidatedManifest) -> Result<String, u8> {
    m.value()
        .pointer("/blueprint/id")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| fail("the example has no blueprint.id"))
}
