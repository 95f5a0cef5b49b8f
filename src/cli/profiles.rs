//! Loading the profile library for a run, and `blueprint profiles …` /
//! `blueprint explain RULE-ID`.

use super::render::human_diagnostic;
use super::{EXIT_FINDINGS, EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::profile::{Conflict, EffectiveFrom, Profile, ProfileLibrary, Rule, Selection};
use blueprint::source::SourceMap;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};
use std::path::Path;

/// Largest profile file accepted.
const MAX_PROFILE_BYTES: usize = 4 * 1024 * 1024;

/// The shipped profiles; a defect in them is an operational error (exit 2)
/// whose diagnostics are printed.
pub fn builtin_library(map: &mut SourceMap) -> Result<ProfileLibrary, u8> {
    ProfileLibrary::builtin(map).map_err(|diags| {
        for d in &diags {
            let _ = output::stderr_bytes(&human_diagnostic(map, d, false));
        }
        output::error("the shipped profiles failed to load");
        EXIT_OPERATIONAL
    })
}

/// The library plus the selection that `--profile ID|PATH` arguments ask
/// for (none: every profile whose scope matches; report-baseline always).
pub fn library_for(
    map: &mut SourceMap,
    profile_args: &[String],
) -> Result<(ProfileLibrary, Selection), u8> {
    let mut lib = builtin_library(map)?;
    if profile_args.is_empty() {
        return Ok((lib, Selection::Auto));
    }
    let mut ids = Vec::new();
    for arg in profile_args {
        let path = Path::new(arg);
        let looks_like_path = arg.ends_with(".toml") || arg.contains('/') || path.is_file();
        if looks_like_path {
            let bytes = output::read_limited(path, MAX_PROFILE_BYTES).map_err(|e| {
                output::error(&e);
                EXIT_OPERATIONAL
            })?;
            let text = String::from_utf8(bytes).map_err(|_| {
                output::error(&format!("{arg}: profile file is not UTF-8"));
                EXIT_OPERATIONAL
            })?;
            let id = lib.add_file(map, arg, &text).map_err(|diags| {
                for d in &diags {
                    let _ = output::stderr_bytes(&human_diagnostic(map, d, false));
                }
                output::error(&format!("{arg}: the profile does not load"));
                EXIT_OPERATIONAL
            })?;
            let pid = lib
                .profiles()
                .nth(id.0)
                .map(|p| p.id.clone())
                .unwrap_or_default();
            ids.push(pid);
        } else if lib.profile(arg).is_some() {
            ids.push(arg.clone());
        } else {
            let known: Vec<String> = lib.profiles().map(|p| p.id.clone()).collect();
            output::error(&format!(
                "unknown profile `{arg}`; shipped profiles: {} (or give a path to a profile file)",
                known.join(", ")
            ));
            return Err(EXIT_OPERATIONAL);
        }
    }
    Ok((lib, Selection::Explicit(ids)))
}

/// Output format of the listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Text for people.
    Human,
    /// JSON for machines.
    Json,
}

/// `blueprint profiles …`
#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// List the shipped profiles with their scope and rule counts.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Show one profile and every rule in it.
    Show {
        /// Profile id, e.g. eu-gdpr.
        id: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Write the Markdown reference of every profile, rule, shared check and
    /// conflict (committed as docs/profiles.md).
    Doc {
        /// Write to this file instead of standard output.
        #[arg(short = 'o', long = "output")]
        output: Option<std::path::PathBuf>,
    },
}

/// Arguments of `explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Rule id, e.g. gdpr.security-in-transit.
    pub rule: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

pub fn run(cmd: &ProfilesCommand) -> u8 {
    let mut map = SourceMap::new();
    let lib = match builtin_library(&mut map) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let text = match cmd {
        ProfilesCommand::Doc { output: None } => blueprint::profile::doc::reference(&lib),
        ProfilesCommand::Doc { output: Some(path) } => {
            let text = blueprint::profile::doc::reference(&lib);
            return match std::fs::write(path, text) {
                Ok(()) => EXIT_OK,
                Err(e) => {
                    output::error(&format!("cannot write {}: {e}", path.display()));
                    EXIT_OPERATIONAL
                }
            };
        }
        ProfilesCommand::List { format } => {
            let profiles: Vec<&Profile> = lib.profiles().collect();
            match format {
                ListFormat::Json => json_text(&json!({
                    "profiles": profiles.iter().map(|p| profile_json(p, false)).collect::<Vec<_>>(),
                    "rule_count": profiles.iter().map(|p| p.rules.len()).sum::<usize>(),
                })),
                ListFormat::Human => {
                    let mut s = String::new();
                    let width = profiles.iter().map(|p| p.id.len()).max().unwrap_or(0);
                    for p in &profiles {
                        s.push_str(&format!(
                            "{:width$}  {:>3} rules  {}\n",
                            p.id,
                            p.rules.len(),
                            p.title
                        ));
                    }
                    s.push_str(&format!(
                        "{} profiles, {} rules\n",
                        profiles.len(),
                        profiles.iter().map(|p| p.rules.len()).sum::<usize>()
                    ));
                    s
                }
            }
        }
        ProfilesCommand::Show { id, format } => {
            let Some(p) = lib.profile(id) else {
                output::error(&format!(
                    "unknown profile `{id}` (see `blueprint profiles list`)"
                ));
                return EXIT_OPERATIONAL;
            };
            match format {
                ListFormat::Json => json_text(&profile_json(p, true)),
                ListFormat::Human => {
                    let mut s = format!(
                        "{} — {}\n{}\nscope: {}\n\n",
                        p.id,
                        p.title,
                        p.instrument,
                        p.scope_raw
                            .as_ref()
                            .map(compact)
                            .unwrap_or_else(|| "always".into())
                    );
                    for r in &p.rules {
                        s.push_str(&format!(
                            "  {:8} {}  {}\n",
                            r.severity.as_str(),
                            r.id,
                            r.title
                        ));
                    }
                    s.push_str(&format!("\n{} rules\n", p.rules.len()));
                    s
                }
            }
        }
    };
    finish(&text)
}

pub fn explain(args: &ExplainArgs) -> u8 {
    let mut map = SourceMap::new();
    let lib = match builtin_library(&mut map) {
        Ok(l) => l,
        Err(code) => return code,
    };
    if let Some(text) = blueprint::manifest::todo::explain(&args.rule) {
        return finish(&match args.format {
            ListFormat::Json => json_text(&json!({ "code": args.rule, "explanation": text })),
            ListFormat::Human => text,
        });
    }
    if let Some(c) = lib.conflicts().iter().find(|c| c.id == args.rule) {
        let text = match args.format {
            ListFormat::Json => json_text(&json!({
                "id": c.id,
                "title": c.title,
                "citation": c.citation,
                "profiles": c.profiles,
                "for_each": c.for_each,
                "when": c.when,
                "explanation": c.explanation,
            })),
            ListFormat::Human => conflict_text(c),
        };
        return finish(&text);
    }
    let Some((p, r)) = lib.find_rule(&args.rule) else {
        let all: Vec<String> = lib
            .profiles()
            .flat_map(|p| p.rules.iter().map(|r| r.id.clone()))
            .collect();
        let near: Vec<&String> = all
            .iter()
            .filter(|id| id.starts_with(args.rule.split('.').next().unwrap_or("")))
            .take(8)
            .collect();
        output::error(&format!("no rule `{}`", args.rule));
        if !near.is_empty() {
            output::stderr_line(&format!(
                "help: rules with that prefix: {}",
                near.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        return EXIT_FINDINGS;
    };
    let text = match args.format {
        ListFormat::Json => {
            let mut v = rule_json(r);
            v["profile"] = json!(p.id);
            json_text(&v)
        }
        ListFormat::Human => explain_text(p, r),
    };
    finish(&text)
}

fn finish(text: &str) -> u8 {
    match output::stdout(text.as_bytes()) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            output::error(&format!("cannot write: {e}"));
            EXIT_OPERATIONAL
        }
    }
}

fn explain_text(p: &Profile, r: &Rule) -> String {
    let bullets = |v: &Value| {
        blueprint::profile::words::describe(v)
            .into_iter()
            .map(|l| format!("  - {l}\n"))
            .collect::<String>()
    };
    let mut s = format!(
        "{} ({}, {})\n  {}\n\n",
        r.id,
        r.severity.as_str(),
        p.id,
        r.title
    );
    s.push_str(&format!("Citation: {}\n", r.citation));
    s.push_str(&format!(
        "In force: {}\n",
        effective_words(&r.effective_from)
    ));
    s.push_str(&format!("Profile:  {} ({})\n", p.title, p.instrument));
    match &p.scope_raw {
        Some(scope) => s.push_str(&format!("Profile applies when:\n{}", bullets(scope))),
        None => s.push_str("Profile applies to every manifest.\n"),
    }
    if let Some(fe) = &r.for_each {
        s.push_str(&format!("Checked for each element of: {fe}\n"));
    }
    if let Some(w) = &r.when {
        s.push_str(&format!("Applies when:\n{}", bullets(w)));
    }
    if let Some(q) = &r.require {
        s.push_str(&format!("Requires:\n{}", bullets(q)));
    }
    if !r.check.is_empty() {
        s.push_str(&format!(
            "Also requires the shared checks: {}\n",
            r.check.join(", ")
        ));
    }
    if let Some(n) = &r.native {
        s.push_str(&format!("Also runs the built-in check `{n}`\n"));
    }
    s.push_str(&format!("\nHow to fix: {}\n", r.hint));
    s
}

fn conflict_text(c: &Conflict) -> String {
    let mut s = format!(
        "{} (info, conflict between regimes)\n  {}\n\n",
        c.id, c.title
    );
    s.push_str(&format!("Citation: {}\n", c.citation));
    s.push_str(&format!(
        "Reported when these profiles all apply: {}\n",
        c.profiles.join(", ")
    ));
    if let Some(fe) = &c.for_each {
        s.push_str(&format!("Checked for each element of: {fe}\n"));
    }
    if let Some(w) = &c.when {
        s.push_str("Applies when:\n");
        for l in blueprint::profile::words::describe(w) {
            s.push_str(&format!("  - {l}\n"));
        }
    }
    s.push_str(&format!("\nWhat to do: {}\n", c.explanation));
    s
}

fn effective_words(e: &Option<EffectiveFrom>) -> String {
    match e {
        None => "always (no date gate)".into(),
        Some(e) => describe(e),
    }
}

fn describe(e: &EffectiveFrom) -> String {
    match e {
        EffectiveFrom::Date(d) => d.to_string(),
        EffectiveFrom::Named(name, Some(d)) => format!("{d} ({name})"),
        EffectiveFrom::Named(name, None) => format!("pending ({name} not yet set)"),
        EffectiveFrom::Pending => "pending".into(),
    }
}

fn profile_json(p: &Profile, with_rules: bool) -> Value {
    let mut v = json!({
        "id": p.id,
        "title": p.title,
        "instrument": p.instrument,
        "version": p.version,
        "scope": p.scope_raw,
        "rule_count": p.rules.len(),
    });
    if with_rules {
        v["rules"] = json!(p.rules.iter().map(rule_json).collect::<Vec<_>>());
    } else {
        v["rules"] = json!(
            p.rules
                .iter()
                .map(
                    |r| json!({"id": r.id, "severity": r.severity.as_str(), "citation": r.citation})
                )
                .collect::<Vec<_>>()
        );
    }
    v
}

fn rule_json(r: &Rule) -> Value {
    json!({
        "id": r.id,
        "severity": r.severity.as_str(),
        "title": r.title,
        "citation": r.citation,
        "hint": r.hint,
        "effective_from": r.effective_from.as_ref().map(describe),
        "for_each": r.for_each,
        "when": r.when,
        "require": r.require,
        "checks": r.check,
    })
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 400 {
        format!("{}…", s.chars().take(400).collect::<String>())
    } else {
        s
    }
}

fn json_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}
