//! The registry server's request decoding: any method, path and body sent
//! to the router `blueprint serve` runs gets a status and, for an error, a
//! JSON `{"error": {"code", "message"}}` body; never a panic and never a
//! 500 (a panic in a handler's blocking task would surface as one).
//!
//! The input is `METHOD PATH` on its first line, then the body. The
//! registry is created once per process in a temporary directory; the
//! seed corpus holds a real deposit, so the log is not empty once the
//! seeds have run (reads of entries, proofs and tiles then find data).
#![no_main]

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use blueprint::escrow::event::EventTime;
use blueprint::escrow::registry::{InitOptions, Registry};
use blueprint::serve::{Config, ServeState, router};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct Server {
    runtime: tokio::runtime::Runtime,
    app: Router,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("blueprint-fuzz-registry-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let options = InitOptions {
            origin: "fuzz.example/log".into(),
            quorum: 1,
            window_days: 1,
        };
        let now = EventTime::from_unix(1_780_000_000).expect("a valid time");
        Registry::init(&dir, &options, now).expect("a registry in the temporary directory");
        let config = Config::default();
        let (state, thread) = ServeState::open(&dir, &config).expect("the registry opens");
        // The writer thread lives as long as the process.
        std::mem::forget(thread);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        Server { runtime, app: router(state, &config) }
    })
}

fuzz_target!(
    init: {
        // Created before the first input, so that opening the registry and
        // loading the profiles is not timed as that input's run.
        server();
    },
    |data: &[u8]| {
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let (line, body) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    let Ok(line) = std::str::from_utf8(line) else {
        return;
    };
    let (method, path) = line.split_once(' ').unwrap_or(("GET", line));
    let Ok(method) = Method::from_bytes(method.as_bytes()) else {
        return;
    };
    let Ok(request) = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_vec()))
    else {
        return;
    };
    let s = server();
    let (status, bytes) = s.runtime.block_on(async {
        let response = s.app.clone().oneshot(request).await.expect("the router is infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .expect("a response body within 64 MiB");
        (status, bytes)
    });
    assert_ne!(status.as_u16(), 500, "internal error: {}", String::from_utf8_lossy(&bytes));
    if status.is_client_error() || status.is_server_error() {
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).expect("error bodies are JSON");
        assert!(v["error"]["code"].is_string(), "no error code in {v}");
        assert!(v["error"]["message"].is_string(), "no error message in {v}");
    }
});
