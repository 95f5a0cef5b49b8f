//! canon, hash, keygen, sign and verify through the command line
//! (RFC 8785 canonical form, RFC 8032 strict Ed25519, DSSE envelopes and the
//! in-toto Statement).

mod es6_numgen;

use crate::util::{blueprint, repo_file, text, write};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use blueprint::attest::canon::{self, Digest};
use blueprint::attest::dsse::{Envelope, pae};
use blueprint::attest::keys::SigningKeyFile;
use blueprint::attest::statement::PAYLOAD_TYPE;
use serde_json::{Value, json};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const MANIFEST_TOML: &str = r#"# A device blueprint (comments never change the digest)
format = "blueprint/v1"

[blueprint]
version = 3
id = "acme-cam"

[vendor]
legal_name = "Acme GmbH"
hq_country = "DE"

[device]
model = "Cam 1"
firmware = { version = "1.2.0", released = 2026-01-01 }
"#;

/// The same data as `MANIFEST_TOML`, in another order and layout.
const MANIFEST_JSON: &str = r#"{
  "vendor": {"hq_country": "DE", "legal_name": "Acme GmbH"},
  "device": {"firmware": {"released": "2026-01-01", "version": "1.2.0"}, "model": "Cam 1"},
  "blueprint": {"id": "acme-cam", "version": 3},
  "format": "blueprint/v1"
}"#;

/// A complete manifest that passes validation: the bundled smart meter.
const SIGNABLE_TOML: &str = include_str!("../../examples/smart-meter.toml");

/// A fixed key so envelopes are reproducible (Ed25519 is deterministic).
fn write_key(dir: &Path, name: &str, seed: u8) -> (PathBuf, PathBuf) {
    let key = SigningKeyFile::from_seed(&[seed; 32]);
    let private = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    fs::write(&private, key.to_pem().unwrap().as_bytes()).unwrap();
    fs::set_permissions(&private, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(&public, key.public().to_pem().unwrap()).unwrap();
    (private, public)
}

fn sign(dir: &Path, manifest: &Path, key: &Path, out: &str) -> PathBuf {
    let out = dir.join(out);
    let o = blueprint()
        .arg("sign")
        .arg(manifest)
        .arg("--key")
        .arg(key)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    out
}

fn verify(envelope: &Path, pubkeys: &[&Path], extra: &[&str]) -> (i32, String, String) {
    let mut c = blueprint();
    c.arg("verify").arg(envelope);
    for p in pubkeys {
        c.arg("--pubkey").arg(p);
    }
    let o = c.args(extra).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        text(&o.stdout),
        text(&o.stderr),
    )
}

fn read_envelope(p: &Path) -> Value {
    serde_json::from_slice(&fs::read(p).unwrap()).unwrap()
}

/// The envelope at `p`, changed by `f`.
fn edit(p: &Path, f: impl FnOnce(&mut Value)) -> Value {
    let mut v = read_envelope(p);
    f(&mut v);
    v
}

#[test]
fn es6_numbers_first_million_lines_match_published_sha256() {
    let format = |f: f64, out: &mut Vec<u8>| canon::write_f64(f, out).unwrap();
    // Upstream README table (10^3 and 10^6 lines; about 2 s in a debug build).
    assert_eq!(
        es6_numgen::sha256_of_lines(1000, format),
        "be18b62b6f69cdab33a7e0dae0d9cfa869fda80ddc712221570f9f40a5878687"
    );
    assert_eq!(
        es6_numgen::sha256_of_lines(1_000_000, format),
        "49415fee2c56c77864931bd3624faad425c3c577d6d74e89a83bc725506dad16"
    );
    // Edge strings from the upstream sample lines and RFC 8785 Appendix B.
    for (bits, want) in [
        (0x4340000000000001_u64, "9007199254740994"),
        (0x4340000000000002, "9007199254740996"),
        (0x444b1ae4d6e2ef50, "1e+21"),
        (0x3eb0c6f7a0b5ed8d, "0.000001"),
        (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
        (0x8000000000000000, "0"),
        (0x0000000000000001, "5e-324"),
        (0x4340000000000000, "9007199254740992"),
    ] {
        let mut out = Vec::new();
        format(f64::from_bits(bits), &mut out);
        assert_eq!(text(&out), want, "{bits:x}");
    }
}

#[test]
fn toml_and_json_of_the_same_data_have_one_digest() {
    let dir = tempfile::tempdir().unwrap();
    let t = write(dir.path(), "m.toml", MANIFEST_TOML);
    let j = write(dir.path(), "m.json", MANIFEST_JSON);
    let canon_of = |p: &Path| {
        let o = blueprint().arg("canon").arg(p).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        o.stdout
    };
    let (ct, cj) = (canon_of(&t), canon_of(&j));
    assert_eq!(ct, cj);
    assert_eq!(
        text(&ct),
        r#"{"blueprint":{"id":"acme-cam","version":3},"device":{"firmware":{"released":"2026-01-01","version":"1.2.0"},"model":"Cam 1"},"format":"blueprint/v1","vendor":{"hq_country":"DE","legal_name":"Acme GmbH"}}"#
    );
    let hash_of = |p: &Path| text(&blueprint().arg("hash").arg(p).output().unwrap().stdout);
    let want = format!("{}\n", Digest::of_bytes(&ct));
    assert_eq!(hash_of(&t), want);
    assert_eq!(hash_of(&j), want);
    // The shipped example, written once in each syntax.
    let cam = hash_of(&repo_file("examples/home-camera.toml"));
    assert!(cam.starts_with("sha256:"), "{cam}");
    assert_eq!(cam, hash_of(&repo_file("examples/home-camera.json")));
}

#[test]
fn canon_works_on_any_document() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "x.json",
        r#"{"b": [1.50, -0.0, 1e21, "\u20ac\u000f"], "a": {"\ud83d\ude00": 1, "\ufb33": 2}}"#,
    );
    let o = blueprint().arg("canon").arg(&f).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        text(&o.stdout),
        "{\"a\":{\"\u{1f600}\":1,\"\u{fb33}\":2},\"b\":[1.5,0,1e+21,\"€\\u000f\"]}"
    );
}

#[test]
fn unrepresentable_values_are_refused_never_hashed() {
    let dir = tempfile::tempdir().unwrap();
    for (name, body, code) in [
        (
            "big.json",
            r#"{"n": 9007199254740993}"#,
            "canon/unsafe-integer",
        ),
        (
            "neg.json",
            r#"{"n": -9223372036854775808}"#,
            "canon/unsafe-integer",
        ),
        (
            "max.toml",
            "n = 18446744073709551615\n",
            "canon/unsafe-integer",
        ),
        ("inf.toml", "n = inf\n", "canon/non-finite"),
        ("nan.toml", "n = nan\n", "canon/non-finite"),
        ("huge.json", r#"{"n": 1e400}"#, "canon/non-finite"),
        // A double JCS writes as the integer 100000000000000000.
        ("bigfloat.json", r#"{"n": 1e17}"#, "canon/unsafe-integer"),
        ("bigfloat.toml", "n = 1e17\n", "canon/unsafe-integer"),
        (
            "dup.json",
            r#"{"a": 1, "\u0061": 2}"#,
            "parse/duplicate-key",
        ),
    ] {
        let f = write(dir.path(), name, body);
        for cmd in ["hash", "canon"] {
            let o = blueprint()
                .args([cmd, "--color", "never"])
                .arg(&f)
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o.stderr));
            assert!(o.stdout.is_empty(), "{name}: {}", text(&o.stdout));
            assert!(
                text(&o.stderr).contains(code),
                "{name}: {}",
                text(&o.stderr)
            );
        }
    }
}

#[test]
fn keygen_writes_0600_pkcs8_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("vendor");
    let o = blueprint()
        .arg("keygen")
        .arg("--out")
        .arg(&prefix)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let key = dir.path().join("vendor.key");
    let pem = fs::read_to_string(&key).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert!(!text(&o.stdout).contains(pem.lines().nth(1).unwrap()));
    assert_eq!(
        fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let public = fs::read_to_string(dir.path().join("vendor.pub")).unwrap();
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let o = blueprint()
        .arg("keygen")
        .arg("--out")
        .arg(&prefix)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("already exists"));
    assert_eq!(fs::read_to_string(&key).unwrap(), pem);
}

#[test]
fn readable_private_key_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "m.toml", SIGNABLE_TOML);
    let (key, _) = write_key(dir.path(), "v", 1);
    for mode in [0o644, 0o640] {
        fs::set_permissions(&key, fs::Permissions::from_mode(mode)).unwrap();
        let o = blueprint()
            .arg("sign")
            .arg(&m)
            .arg("--key")
            .arg(&key)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        assert!(o.stdout.is_empty());
        assert!(text(&o.stderr).contains("chmod 600"), "{}", text(&o.stderr));
    }
}

#[test]
fn sign_refuses_a_manifest_with_error_findings() {
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "bad.toml", "format = \"blueprint/v1\"\n");
    let (key, _) = write_key(dir.path(), "v", 1);
    let out = dir.path().join("env.json");
    let o = blueprint()
        .args(["sign", "--color", "never"])
        .arg(&m)
        .arg("--key")
        .arg(&key)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("refusing to sign"),
        "{}",
        text(&o.stderr)
    );
    assert!(!out.exists());
}

#[test]
fn sign_verify_round_trip_and_output_formats() {
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "m.toml", SIGNABLE_TOML);
    let (key, public) = write_key(dir.path(), "v", 1);
    let env = sign(dir.path(), &m, &key, "env.json");

    let v = read_envelope(&env);
    assert_eq!(v["payloadType"], PAYLOAD_TYPE);
    let payload = STANDARD.decode(v["payload"].as_str().unwrap()).unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(canon::canonicalize(&statement).unwrap(), payload);
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        statement["subject"][0]["name"],
        "Voltaris Metering GmbH/EM5-G"
    );
    let j = m.clone();
    let digest = text(&blueprint().arg("hash").arg(&j).output().unwrap().stdout);
    assert_eq!(
        format!(
            "sha256:{}\n",
            statement["subject"][0]["digest"]["sha256"]
                .as_str()
                .unwrap()
        ),
        digest
    );

    // Signing validates as of today: the date and its age vary by day.
    let today = time::OffsetDateTime::now_utc().date().to_string();
    assert_eq!(statement["predicate"]["validation"]["asOf"], today);
    let (code, out, _) = verify(&env, &[&public], &["--manifest", j.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains(&format!("validated {today}, today")), "{out}");
    insta::with_settings!({filters => vec![(today.as_str(), "[TODAY]")]}, {
        insta::assert_snapshot!("verify_human", out);
    });
    let (code, out, _) = verify(&env, &[&public], &["--format", "json"]);
    assert_eq!(code, 0);
    insta::with_settings!({filters => vec![(today.as_str(), "[TODAY]")]}, {
        insta::assert_snapshot!("verify_json", out);
    });
}

#[test]
fn co_signature_meets_a_two_of_two_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "m.toml", SIGNABLE_TOML);
    let (vendor, vendor_pub) = write_key(dir.path(), "vendor", 1);
    let (lab, lab_pub) = write_key(dir.path(), "lab", 2);
    let env = sign(dir.path(), &m, &vendor, "env.json");
    let both = dir.path().join("both.json");
    let o = blueprint()
        .args(["sign", "--append"])
        .arg(&env)
        .arg("--key")
        .arg(&lab)
        .arg("-o")
        .arg(&both)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let (code, out, _) = verify(&both, &[&vendor_pub, &lab_pub], &["--threshold", "2"]);
    assert_eq!(code, 0, "{out}");
    // The lab cannot count twice.
    let o = blueprint()
        .args(["sign", "--append"])
        .arg(&both)
        .arg("--key")
        .arg(&lab)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("already signed"));
    // The single-signed envelope does not meet 2-of-2.
    let (code, out, _) = verify(&env, &[&vendor_pub, &lab_pub], &["--threshold", "2"]);
    assert_eq!(code, 1);
    assert!(out.contains("threshold not met"), "{out}");
}

#[test]
fn every_forgery_is_rejected_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "m.toml", SIGNABLE_TOML);
    let (key, public) = write_key(dir.path(), "v", 1);
    let (_, other_pub) = write_key(dir.path(), "other", 3);
    let attacker = SigningKeyFile::from_seed(&[66; 32]);
    let env = sign(dir.path(), &m, &key, "env.json");
    let good = read_envelope(&env);
    let payload = STANDARD.decode(good["payload"].as_str().unwrap()).unwrap();
    let sig = STANDARD
        .decode(good["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();

    // S + L: the malleated twin of a valid signature.
    let mut malleated = sig.clone();
    let l: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for i in 0..32 {
        let s = malleated[32 + i] as u16 + l[i] as u16 + carry;
        malleated[32 + i] = s as u8;
        carry = s >> 8;
    }
    // Another device's manifest, for the swapped-subject case.
    let other_manifest = write(
        dir.path(),
        "other.toml",
        SIGNABLE_TOML.replace("model = \"EM5-G\"", "model = \"EM5-H\""),
    );
    // A pretty-printed (non-canonical) payload, validly signed.
    let pretty =
        serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&payload).unwrap()).unwrap();
    let signer = SigningKeyFile::from_seed(&[1; 32]);
    let non_canonical = Envelope::sign(PAYLOAD_TYPE, &pretty, &signer);

    let mut tampered_payload = payload.clone();
    let at = tampered_payload
        .windows(5)
        .position(|w| w == b"EM5-G")
        .unwrap();
    tampered_payload[at + 4] = b'X';

    let cases: Vec<(&str, Value, Vec<&str>, &str)> = vec![
        (
            "tampered payload",
            edit(&env, |v| {
                v["payload"] = json!(STANDARD.encode(&tampered_payload))
            }),
            vec![],
            "threshold-not-met",
        ),
        (
            "tampered payloadType",
            edit(&env, |v| {
                v["payloadType"] = json!("application/vnd.blueprint.report.v1+json")
            }),
            vec![],
            "payload-type",
        ),
        (
            // Both deposit payload types are accepted, but the PAE binds the
            // one that was signed.
            "payloadType relabelled to the legacy deposit type",
            edit(&env, |v| {
                v["payloadType"] = json!("application/vnd.blueprint.statement.v1+json")
            }),
            vec![],
            "threshold-not-met",
        ),
        (
            "signature with S+L",
            edit(&env, |v| {
                v["signatures"][0]["sig"] = json!(STANDARD.encode(&malleated))
            }),
            vec![],
            "S >= L",
        ),
        (
            "truncated signature",
            edit(&env, |v| {
                v["signatures"][0]["sig"] = json!(STANDARD.encode(&sig[..63]))
            }),
            vec![],
            "63 bytes",
        ),
        (
            "untrusted key with a matching keyid",
            edit(&env, |v| {
                let forged = attacker.sign(&pae(PAYLOAD_TYPE, &payload));
                v["signatures"][0]["sig"] = json!(STANDARD.encode(forged.to_bytes()));
            }),
            vec![],
            "keyid names",
        ),
        (
            "swapped subject",
            good.clone(),
            vec!["--manifest", other_manifest.to_str().unwrap()],
            "subject-mismatch",
        ),
        (
            "threshold met by duplicates",
            edit(&env, |v| {
                let s = v["signatures"][0].clone();
                v["signatures"].as_array_mut().unwrap().push(s);
            }),
            vec!["--threshold", "2"],
            "already counted",
        ),
        (
            "non-canonical payload",
            serde_json::from_slice(&non_canonical.to_json()).unwrap(),
            vec![],
            "non-canonical-payload",
        ),
        (
            "wrong key",
            good.clone(),
            vec!["--other"],
            "does not verify under any trusted key",
        ),
    ];
    for (what, envelope, extra, reason) in cases {
        let p = write(
            dir.path(),
            "case.json",
            serde_json::to_vec(&envelope).unwrap(),
        );
        let (keys, extra): (Vec<&Path>, Vec<&str>) = if extra == ["--other"] {
            (vec![other_pub.as_path()], vec![])
        } else if extra.first() == Some(&"--threshold") {
            (
                vec![public.as_path(), public.as_path(), other_pub.as_path()],
                extra,
            )
        } else {
            (vec![public.as_path()], extra)
        };
        let mut args = extra.clone();
        args.extend(["--format", "json"]);
        let (code, out, err) = verify(&p, &keys, &args);
        assert_eq!(code, 1, "{what}: {out}{err}");
        let o: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(o["verified"], false, "{what}");
        assert!(out.contains(reason), "{what}: want {reason:?} in {out}");
        let (code, human, _) = verify(&p, &keys, &extra);
        assert_eq!(code, 1, "{what}");
        assert!(human.starts_with("not verified: "), "{what}: {human}");
    }
}

#[test]
fn url_safe_base64_and_unknown_fields_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "m.toml", SIGNABLE_TOML);
    let (key, public) = write_key(dir.path(), "v", 1);
    let env = sign(dir.path(), &m, &key, "env.json");
    let url = |s: &Value| {
        json!(
            s.as_str()
                .unwrap()
                .replace('+', "-")
                .replace('/', "_")
                .replace('=', "")
        )
    };
    let v = edit(&env, |v| {
        v["payload"] = url(&v["payload"]);
        v["signatures"][0]["sig"] = url(&v["signatures"][0]["sig"]);
        v["signatures"][0]["extension"] = json!({"kind": "future"});
        v["annotations"] = json!([1, 2]);
    });
    let p = write(dir.path(), "url.json", serde_json::to_vec(&v).unwrap());
    let (code, out, _) = verify(&p, &[&public], &[]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn hostile_envelopes_are_bounded_and_operational_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = write_key(dir.path(), "v", 1);
    // Over the size limit: refused before parsing.
    let big = dir.path().join("big.json");
    let f = fs::File::create(&big).unwrap();
    f.set_len(blueprint::attest::dsse::MAX_ENVELOPE_BYTES as u64 + 1)
        .unwrap();
    let (code, out, _) = verify(&big, &[&public], &["--format", "json"]);
    assert_eq!(code, 1);
    assert!(out.contains("envelope-too-large"), "{out}");
    // Too many signatures.
    let sigs = vec![json!({"sig": "AA=="}); blueprint::attest::dsse::MAX_SIGNATURES + 1];
    let many = write(
        dir.path(),
        "many.json",
        serde_json::to_vec(
            &json!({"payload": "", "payloadType": PAYLOAD_TYPE, "signatures": sigs}),
        )
        .unwrap(),
    );
    let (code, out, _) = verify(&many, &[&public], &["--format", "json"]);
    assert_eq!(code, 1);
    assert!(out.contains("too-many-signatures"), "{out}");
    // Not JSON.
    let junk = write(dir.path(), "junk.json", "\u{0}\u{1}not json");
    let (code, out, _) = verify(&junk, &[&public], &[]);
    assert_eq!(code, 1);
    assert!(out.contains("not a DSSE envelope"), "{out}");
    // Operational: missing envelope, bad public key, threshold 0.
    let (code, _, err) = verify(&dir.path().join("none.json"), &[&public], &[]);
    assert_eq!(code, 2, "{err}");
    let bad_pub = write(
        dir.path(),
        "bad.pub",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    );
    let (code, _, err) = verify(&junk, &[&bad_pub], &[]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = verify(&junk, &[&public], &["--threshold", "0"]);
    assert_eq!(code, 2);
}

#[test]
fn blueprint_signs_with_in_toto_payload_type_and_still_verifies_0_1_envelopes() {
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "meter.toml", SIGNABLE_TOML);
    let (key, public) = write_key(dir.path(), "v", 3);
    let env = sign(dir.path(), &m, &key, "env.json");
    assert_eq!(
        read_envelope(&env)["payloadType"],
        "application/vnd.in-toto+json"
    );
    let (code, out, err) = verify(&env, &[public.as_path()], &[]);
    assert_eq!(code, 0, "{out}{err}");

    // Written by blueprint 0.1.0 (payloadType application/vnd.blueprint.
    // statement.v1+json); kept so that old deposits keep verifying.
    let legacy = repo_file("tests/fixtures/legacy/meter-0.1.0.dsse.json");
    assert_eq!(
        read_envelope(&legacy)["payloadType"],
        "application/vnd.blueprint.statement.v1+json"
    );
    let legacy_pub = repo_file("tests/fixtures/legacy/legacy-vendor.pub");
    let (code, out, err) = verify(
        &legacy,
        &[legacy_pub.as_path()],
        &[
            "--manifest",
            repo_file("examples/smart-meter.toml").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("verified: Voltaris Metering GmbH/EM5-G"),
        "{out}"
    );
}

#[test]
fn only_a_blueprint_predicate_is_a_blueprint() {
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "meter.toml", SIGNABLE_TOML);
    let (key, public) = write_key(dir.path(), "v", 4);
    let env = sign(dir.path(), &m, &key, "env.json");
    let good = read_envelope(&env);
    let payload = STANDARD.decode(good["payload"].as_str().unwrap()).unwrap();
    let signer = SigningKeyFile::from_seed(&[4; 32]);

    // The same statement under another predicate (a build provenance, say),
    // canonical and validly signed with in-toto's payload type.
    let mut other: Value = serde_json::from_slice(&payload).unwrap();
    other["predicateType"] = json!("https://slsa.dev/provenance/v1");
    let other = Envelope::sign(PAYLOAD_TYPE, &canon::canonicalize(&other).unwrap(), &signer);
    let p = write(dir.path(), "provenance.json", other.to_json());
    let (code, out, err) = verify(&p, &[public.as_path()], &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("predicateType"), "{out}");

    // A signed checkpoint of the registry's log is no envelope at all.
    let note = "registry.example/escrow\n4\nFsw/E5n+wzzgsLN7gsh8bEGJPd5HYZo+A9/x6/lsZiU=\n\n\u{2014} registry.example/escrow AAAAAPCx+1UGyD3P39uWcD5oxnOM4Wid3IOuwi1fVVG+R1jk2B7sbBfPcn8ndvDnE5pRLgz8Rp6NuDHodKEXz6m7fKrkQAo=\n";
    let p = write(dir.path(), "checkpoint.txt", note);
    let (code, out, err) = verify(&p, &[public.as_path()], &[]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(!out.starts_with("verified"), "{out}");
}
