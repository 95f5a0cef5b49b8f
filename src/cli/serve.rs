//! `blueprint serve`: runs the registry's HTTP API (`blueprint::serve`)
//! on a local address, logs each request to standard error, and on
//! SIGTERM or SIGINT stops accepting, finishes the requests in flight and
//! the queued writes, then exits 0.
//!
//! Exit codes: 0 stopped cleanly; 2 cannot open the registry, bind the
//! address or start.

use super::{EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::escrow::database::DatabaseUrl;
use blueprint::serve::{self, Config, DEFAULT_MAX_BODY_BYTES, ServeState};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `serve`.
#[derive(Debug, Args)]
#[command(
    after_long_help = "The API is described at /api/v1/openapi.json (docs/openapi.json). Bounds: docs/limits.md. Logs: RUST_LOG (default info).\n\nExit status: 0 stopped by SIGTERM/SIGINT after finishing in-flight requests; 2 cannot open the registry or bind the address."
)]
pub struct ServeArgs {
    /// The registry directory (created by `registry init`).
    #[arg(long, value_name = "DIR")]
    pub registry: PathBuf,
    /// Address to listen on (loopback by default; port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Largest request body in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Seconds a request may take before 408.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
    /// Requests handled at once; more wait.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_concurrent: usize,
    /// Deposits that may share one commit (1: one commit per deposit).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_batch: usize,
    /// The registry's PostgreSQL database, instead of the one DIR records
    /// (DIR still holds the log key). See docs/postgres.md.
    #[arg(long, value_name = "postgres://USER:PASSWORD@HOST:PORT/DB")]
    pub database: Option<String>,
}

fn op(e: impl std::fmt::Display) -> u8 {
    output::error(&e.to_string());
    EXIT_OPERATIONAL
}

/// Runs `serve` until a signal stops it.
pub fn run(a: &ServeArgs) -> u8 {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let database = match a.database.as_deref().map(DatabaseUrl::parse).transpose() {
        Ok(d) => d,
        Err(e) => return op(e),
    };
    let config = Config {
        database,
        max_body_bytes: a.max_body_bytes,
        request_timeout: Duration::from_secs(a.timeout.max(1)),
        max_concurrent: a.max_concurrent.max(1),
        max_batch: a.max_batch.max(1),
        ..Config::default()
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return op(format!("cannot start the runtime: {e}")),
    };
    let (state, writer) = match ServeState::open(&a.registry, &config) {
        Ok(x) => x,
        Err(e) => return op(format!("{}: {e}", a.registry.display())),
    };
    let result = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(a.addr)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", a.addr))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        output::stderr_line(&format!(
            "serving {} on http://{local}",
            a.registry.display()
        ));
        let app = serve::router(state, &config);
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| e.to_string())
    });
    // Every handler has finished; dropping the runtime drops the last
    // handles to the writer, which answers what is queued, then ends.
    runtime.shutdown_timeout(Duration::from_secs(5));
    writer.join();
    match result {
        Ok(()) => {
            tracing::info!("stopped");
            EXIT_OK
        }
        Err(e) => op(e),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("signal received: finishing in-flight requests");
}
