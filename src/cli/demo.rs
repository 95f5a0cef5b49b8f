//! `blueprint demo`: the main job on the bundled example, end to end —
//! validate the smart meter against every profile it meets, sign it with a
//! fresh key, and verify the envelope — so a first run shows the whole path
//! without any file of the user's.

use super::render::{self, RunInfo};
use super::{ColorChoice, EXIT_FINDINGS, EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::attest::keys::SigningKeyFile;
use blueprint::attest::statement::{self, verify_deposit};
use blueprint::manifest::document::Limits;
use blueprint::profile::Selection;
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_for_signing};
use clap::Args;
use std::num::NonZeroUsize;
use std::path::PathBuf;

/// The bundled example device.
const EXAMPLE_NAME: &str = "examples/smart-meter.toml";
const EXAMPLE: &str = include_str!("../../examples/smart-meter.toml");

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Also write the key pair (`DIR/demo.key`, `DIR/demo.pub`) and the
    /// envelope (`DIR/smart-meter.dsse.json`) here, to try `verify` and `diff` on.
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

    if let Some(dir) = &args.output {
        std::fs::create_dir_all(dir)
            .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
        let (k, p) = key.write_pair(&dir.join("demo")).map_err(fail)?;
        let env_path = dir.join("smart-meter.dsse.json");
        output::write_file(&env_path, &envelope.to_json(), output::Replace::default())
            .map_err(fail)?;
        say(&format!(
            "wrote {}, {} and {}\ntry: blueprint verify {} --pubkey {}",
            k.display(),
            p.display(),
            env_path.display(),
            env_path.display(),
            p.display()
        ))?;
    } else {
        say(
            "(the key was ephemeral; run `blueprint demo -o DIR` to keep the key and the envelope)",
        )?;
    }
    Ok(())
}
