//! Conformance helper for `scripts/conformance.d/20-crypto.sh` (not part of
//! the installed tool). It exposes two library functions to the script:
//!
//! - `crypto_vectors es6-numbers N`: the first N lines of the JCS reference
//!   ES6 number sequence, each number formatted by `canon::write_f64`
//!   (the script hashes them and compares with the published SHA-256).
//! - `crypto_vectors speccheck CASES.json`: one verdict letter per case of
//!   ed25519-speccheck (`V` accepted, `X` rejected) from `dsse::verify_raw`,
//!   the check every signature verification in blueprint goes through.
//! - `crypto_vectors wycheproof ed25519_test.json`: the same check over a
//!   Wycheproof file; prints `<tests> <mismatches>` (acceptable cases skip).

#[path = "../tests/integration/crypto/es6_numgen.rs"]
mod es6_numgen;

use std::io::{BufWriter, Write};
use std::process::ExitCode;

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn es6_numbers(n: usize) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut result = Ok(());
    es6_numgen::lines(
        n,
        |f, buf| {
            // Every number of the sequence is finite by construction.
            let _ = blueprint::attest::canon::write_f64(f, buf);
        },
        |line| {
            if result.is_ok() {
                result = out.write_all(line);
            }
        },
    );
    result?;
    out.flush()
}

fn speccheck(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let field = |c: &serde_json::Value, k: &str| {
        c.get(k)
            .and_then(|v| v.as_str())
            .and_then(unhex)
            .ok_or_else(|| format!("{path}: case without hex `{k}`"))
    };
    let mut verdicts = String::new();
    for c in &cases {
        let ok = blueprint::attest::dsse::verify_raw(
            &field(c, "pub_key")?,
            &field(c, "message")?,
            &field(c, "signature")?,
        );
        verdicts.push(if ok { 'V' } else { 'X' });
    }
    Ok(verdicts)
}

fn wycheproof(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let set: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let hex = |v: &serde_json::Value| v.as_str().and_then(unhex);
    let (mut total, mut mismatches) = (0usize, Vec::new());
    let groups = set["testGroups"].as_array().ok_or("no testGroups")?;
    for g in groups {
        let pk = hex(&g["publicKey"]["pk"]).ok_or("group without publicKey.pk")?;
        for t in g["tests"].as_array().ok_or("group without tests")? {
            total += 1;
            let (Some(msg), Some(sig)) = (hex(&t["msg"]), hex(&t["sig"])) else {
                return Err(format!("test {} lacks msg/sig", t["tcId"]));
            };
            let accepted = blueprint::attest::dsse::verify_raw(&pk, &msg, &sig);
            match t["result"].as_str() {
                Some("valid") if !accepted => mismatches.push(t["tcId"].to_string()),
                Some("invalid") if accepted => mismatches.push(t["tcId"].to_string()),
                _ => {}
            }
        }
    }
    if !mismatches.is_empty() {
        eprintln!("mismatched tcIds: {}", mismatches.join(" "));
    }
    Ok(format!("{total} {}", mismatches.len()))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["es6-numbers", n] => match n.parse() {
            Ok(n) => es6_numbers(n).map_err(|e| e.to_string()),
            Err(e) => Err(format!("bad count {n:?}: {e}")),
        },
        ["speccheck", path] => speccheck(path).map(|v| println!("{v}")),
        ["wycheproof", path] => wycheproof(path).map(|v| println!("{v}")),
        _ => Err(
            "usage: crypto_vectors es6-numbers N | speccheck CASES.json | wycheproof FILE.json"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
