//! Load client for `blueprint serve` (not part of the installed tool).
//!
//! `load URL --clients 8 --deposits 500` signs that many distinct deposit
//! envelopes up front (the bundled smart meter under fresh blueprint ids,
//! one fresh vendor key), sends them from `--clients` concurrent clients,
//! then checks what came back: every deposit acknowledged exactly once, no
//! two receipts for one index, the indices contiguous (when nothing else
//! writes meanwhile), every receipt verifying offline under the log key the
//! server publishes, and every id listed once by the server. It prints the
//! throughput and the p50/p99 latency.
//!
//! `load URL --clients 8 --reads 5000` times GET requests instead: the
//! checkpoint, entries, inclusion proofs and level-0 tiles, round robin;
//! with `--path P` (repeatable) only those paths, e.g. the explorer's `/`
//! and `/devices/ID`.
//!
//! Several URLs (servers sharing one PostgreSQL database, docs/postgres.md)
//! take the requests in turn; the checks then read the first one.
//!
//! Exit status: 0 all checks passed; 1 a check failed; 2 usage or setup.

use blueprint::attest::dsse::Envelope;
use blueprint::attest::keys::{PublicKey, SigningKeyFile};
use blueprint::attest::statement::{self, PAYLOAD_TYPE};
use blueprint::escrow::receipt::Receipt;
use blueprint::manifest::document::Limits;
use blueprint::profile::{ProfileLibrary, Selection};
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_for_signing};
use clap::Parser;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
struct Args {
    /// The server, e.g. http://127.0.0.1:8080, or several servers of one
    /// log, which take the requests in turn.
    #[arg(required = true, num_args = 1..)]
    urls: Vec<String>,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Deposits to send (deposit mode).
    #[arg(long, default_value_t = 500)]
    deposits: usize,
    /// GET requests to send instead of deposits (read mode).
    #[arg(long)]
    reads: Option<usize>,
    /// The manifest to deposit under fresh ids.
    #[arg(long, default_value = "examples/smart-meter.toml")]
    manifest: PathBuf,
    /// In read mode, GET these paths in turn (e.g. `/` and
    /// `/devices/ID` for the explorer) instead of the log's API mix.
    #[arg(long = "path")]
    paths: Vec<String>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

fn get(a: &ureq::Agent, url: &str) -> Result<(u16, Vec<u8>), String> {
    let mut resp = a.get(url).call().map_err(|e| format!("GET {url}: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .map_err(|e| format!("GET {url}: {e}"))?;
    Ok((status, body))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(what: &str, n: usize, elapsed: Duration, mut latencies: Vec<Duration>) {
    latencies.sort();
    println!(
        "{what}: {n} in {:.2} s = {:.1}/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

/// The manifest as JSON with its validation summary, validated as of today.
fn base(path: &Path) -> Result<(Value, statement::ValidationSummary), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut map = SourceMap::new();
    let library = ProfileLibrary::builtin(&mut map).map_err(|_| "profiles failed to load")?;
    let options = ValidateOptions {
        schema_only: false,
        as_of: time::OffsetDateTime::now_utc().date(),
        limits: Limits::default(),
        selection: Selection::Auto,
    };
    let name = path.display().to_string();
    let (_, validated) = validate_for_signing(&mut map, &library, &name, &bytes, &options);
    let v = validated.ok_or_else(|| format!("{name} does not validate today"))?;
    Ok((v.value().clone(), v.summary().clone()))
}

/// Runs `n` jobs on `clients` threads; each job returns its latency.
fn run_clients<T: Send>(
    clients: usize,
    n: usize,
    job: impl Fn(&ureq::Agent, usize) -> Result<T, String> + Sync,
) -> (Duration, Vec<Duration>, Vec<T>, Vec<String>) {
    let next = AtomicUsize::new(0);
    let out = Mutex::new((Vec::new(), Vec::new(), Vec::new()));
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..clients.max(1) {
            s.spawn(|| {
                let a = agent();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let t = Instant::now();
                    let r = job(&a, i);
                    let took = t.elapsed();
                    let mut o = out.lock().unwrap_or_else(|e| e.into_inner());
                    o.0.push(took);
                    match r {
                        Ok(v) => o.1.push(v),
                        Err(e) => o.2.push(e),
                    }
                }
            });
        }
    });
    let elapsed = start.elapsed();
    let (lat, ok, errors) = out.into_inner().unwrap_or_else(|e| e.into_inner());
    (elapsed, lat, ok, errors)
}

fn deposits(args: &Args, urls: &[String]) -> Result<bool, String> {
    let url = urls[0].as_str();
    let (value, summary) = base(&args.manifest)?;
    let vendor = SigningKeyFile::generate().map_err(|e| e.to_string())?;
    let pem = vendor.public().to_pem().map_err(|e| e.to_string())?;
    let run = format!("{}", vendor.id())
        .chars()
        .take(12)
        .collect::<String>();
    let t = Instant::now();
    let bodies: Vec<(String, Vec<u8>)> = (0..args.deposits)
        .map(|i| {
            let id = format!("load-{run}-{i}");
            let mut m = value.clone();
            m["blueprint"]["id"] = Value::from(id.as_str());
            let payload = statement::deposit_payload(&m, &summary).map_err(|e| e.to_string())?;
            let env = Envelope::sign(PAYLOAD_TYPE, &payload, &vendor);
            let env: Value = serde_json::from_slice(&env.to_json()).map_err(|e| e.to_string())?;
            let body = json!({"envelope": env, "bond": {"amount": "1000", "currency": "EUR"},
                              "vendor_public_key": pem});
            Ok((id, serde_json::to_vec(&body).map_err(|e| e.to_string())?))
        })
        .collect::<Result<_, String>>()?;
    println!(
        "signed {} envelopes in {:.2} s ({} bytes each)",
        bodies.len(),
        t.elapsed().as_secs_f64(),
        bodies.first().map_or(0, |b| b.1.len())
    );
    let endpoints: Vec<String> = urls
        .iter()
        .map(|u| format!("{u}/api/v1/deposits"))
        .collect();
    let (elapsed, latencies, receipts, errors) = run_clients(args.clients, bodies.len(), |a, i| {
        let mut resp = a
            .post(&endpoints[i % endpoints.len()])
            .header("content-type", "application/json")
            .send(&bodies[i].1[..])
            .map_err(|e| format!("deposit {i}: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(|e| format!("deposit {i}: {e}"))?;
        if status != 201 {
            return Err(format!(
                "deposit {i}: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Receipt::from_json(&body).map_err(|e| format!("deposit {i}: {e}"))
    });
    report("deposits", receipts.len(), elapsed, latencies);

    let mut ok = true;
    let mut fail = |msg: String| {
        println!("FAIL: {msg}");
        ok = false;
    };
    for e in errors.iter().take(5) {
        fail(e.clone());
    }
    if receipts.len() != bodies.len() {
        fail(format!(
            "{} of {} deposits acknowledged",
            receipts.len(),
            bodies.len()
        ));
    }
    let a = agent();
    let (_, pem) = get(&a, &format!("{url}/api/v1/log/public-key"))?;
    let log_key = PublicKey::from_pem(&String::from_utf8_lossy(&pem), Path::new("log public key"))
        .map_err(|e| e.to_string())?;
    let mut by_index: BTreeMap<u64, String> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    let mut bad = 0usize;
    for r in &receipts {
        match r.verify(&log_key) {
            Ok(v) => {
                if let Some(prev) = by_index.insert(v.index, v.blueprint_id.clone()) {
                    fail(format!(
                        "index {} acknowledged twice ({prev}, {})",
                        v.index, v.blueprint_id
                    ));
                }
                if !ids.insert(v.blueprint_id.clone()) {
                    fail(format!("{} acknowledged twice", v.blueprint_id));
                }
            }
            Err(e) => {
                bad += 1;
                if bad <= 3 {
                    fail(format!("receipt of entry {} does not verify: {e}", r.index));
                }
            }
        }
    }
    let expected: BTreeSet<String> = bodies.iter().map(|b| b.0.clone()).collect();
    if ids != expected {
        fail(format!(
            "{} ids acknowledged, {} sent",
            ids.len(),
            expected.len()
        ));
    }
    if let (Some(first), Some(last)) = (by_index.keys().next(), by_index.keys().last())
        && last - first + 1 != by_index.len() as u64
    {
        fail(format!(
            "indices {first}..={last} are not contiguous ({} receipts; did something else write?)",
            by_index.len()
        ));
    }
    // The server lists each id once, at the index its receipt names.
    let (status, list) = get(&a, &format!("{url}/api/v1/blueprints"))?;
    let list: Value = serde_json::from_slice(&list).map_err(|e| format!("list: {e} ({status})"))?;
    let listed: BTreeMap<String, u64> = list["blueprints"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| {
                    Some((
                        r["blueprint_id"].as_str()?.to_owned(),
                        r["latest_index"].as_u64()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let misplaced = by_index
        .iter()
        .filter(|(index, id)| listed.get(*id) != Some(index))
        .count();
    if misplaced > 0 {
        fail(format!(
            "{misplaced} deposits are not listed at their receipt's index"
        ));
    }
    if ok {
        println!(
            "checked: {} deposits acknowledged once each, indices {}..={} contiguous, every receipt verifies offline",
            receipts.len(),
            by_index.keys().next().unwrap_or(&0),
            by_index.keys().last().unwrap_or(&0)
        );
    }
    Ok(ok)
}

fn reads(args: &Args, urls: &[String], n: usize) -> Result<bool, String> {
    let url = urls[0].as_str();
    let a = agent();
    let (_, note) = get(&a, &format!("{url}/api/v1/checkpoint"))?;
    let size: u64 = String::from_utf8_lossy(&note)
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .ok_or("the checkpoint has no size line")?;
    let paths = |i: usize| -> String {
        if !args.paths.is_empty() {
            return args.paths[i % args.paths.len()].clone();
        }
        let index = (i as u64 * 7919) % size;
        match i % 4 {
            0 => "/api/v1/checkpoint".to_owned(),
            1 => format!("/api/v1/entries/{index}"),
            2 => format!("/api/v1/proofs/inclusion/{index}?size={size}"),
            _ => {
                let full = size / 256;
                if full > 0 {
                    format!(
                        "/tile/0/{}",
                        blueprint::escrow::tiles::index_path(index / 256 % full)
                    )
                } else {
                    format!("/tile/0/000.p/{size}")
                }
            }
        }
    };
    let (elapsed, latencies, done, errors) = run_clients(args.clients, n, |a, i| {
        let path = paths(i);
        let url = &urls[i % urls.len()];
        match get(a, &format!("{url}{path}"))? {
            (200, _) => Ok(()),
            (status, body) => Err(format!(
                "{path}: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            )),
        }
    });
    report("reads", done.len(), elapsed, latencies);
    for e in errors.iter().take(5) {
        println!("FAIL: {e}");
    }
    Ok(errors.is_empty())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let urls: Vec<String> = args
        .urls
        .iter()
        .map(|u| u.trim_end_matches('/').to_owned())
        .collect();
    let result = match args.reads {
        Some(n) => reads(&args, &urls, n),
        None => deposits(&args, &urls),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::from(2)
        }
    }
}
