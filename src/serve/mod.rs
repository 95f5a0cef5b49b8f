//! `blueprint serve`: the escrow registry over HTTP. Vendors deposit signed
//! envelopes and members file signed reports as the CLI does locally; every
//! state change carries the signature that authorises it and is checked by
//! the same library code the CLI uses (`escrow::actions`, then
//! `ledger::apply` inside the append transaction). Readers get checkpoints,
//! entries, proofs (the JSON `blueprint proof` verifies offline) and the
//! C2SP tlog-tiles paths, served live.
//!
//! Bounded: a request body limit, a per-request timeout and a concurrency
//! limit (`docs/limits.md`). Every error is `{"error": {"code", "message"}}`
//! with a 4xx/5xx status. Writes go through one writer thread that
//! group-commits deposits ([`writer`]); a 2xx is sent only after the
//! commit (fsynced) returned.

pub mod error;
mod handlers;
pub mod openapi;
mod pages;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower::limit::ConcurrencyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};

use crate::escrow::database::DatabaseUrl;
use crate::escrow::registry::{LOG_PUB_FILE, Registry, RegistryError};
use crate::profile::ProfileLibrary;
use crate::source::SourceMap;

pub use error::{ApiError, ErrorBody};
pub use writer::{Writer, WriterThread};

/// The server's bounds and batching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Largest request body, in bytes (larger: 413 `payload_too_large`).
    pub max_body_bytes: usize,
    /// Time a request may take before 408 `request_timeout`.
    pub request_timeout: Duration,
    /// Requests handled at once; more wait for a slot.
    pub max_concurrent: usize,
    /// Deposits that may share one commit.
    pub max_batch: usize,
    /// How long the writer waits for another process's lock.
    pub lock_timeout: Duration,
    /// The PostgreSQL database to use instead of the one the registry
    /// directory records (docs/postgres.md).
    pub database: Option<DatabaseUrl>,
}

/// Default request body limit: 4 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

impl Default for Config {
    fn default() -> Self {
        Config {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            request_timeout: Duration::from_secs(30),
            max_concurrent: 256,
            max_batch: 64,
            lock_timeout: Duration::from_secs(5),
            database: None,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The registry cannot be opened or written.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The writer thread did not start.
    #[error(transparent)]
    Writer(#[from] writer::StartError),
    /// The log's public key file cannot be read.
    #[error("{path}: {source}")]
    PublicKey {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The shipped profiles failed to load.
    #[error("the shipped profiles failed to load ({0} problem(s))")]
    Profiles(usize),
    /// The explorer pages cannot be set up.
    #[error(transparent)]
    Site(#[from] crate::explore::site::SiteError),
}

/// Profiles loaded once; each deposit re-validates against them with a
/// copy of the source map.
struct Validator {
    map: SourceMap,
    library: ProfileLibrary,
}

/// Read handles, reused across requests (SQLite WAL: readers do not block
/// the writer).
struct Readers {
    dir: PathBuf,
    database: Option<DatabaseUrl>,
    idle: Mutex<Vec<Registry>>,
}

const MAX_IDLE_READERS: usize = 16;

/// What the handlers share.
#[derive(Clone)]
pub struct ServeState {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Writer,
    readers: Readers,
    validator: Validator,
    public_key: String,
    /// What the explorer pages render with.
    site: crate::explore::site::Site,
}

impl std::fmt::Debug for ServeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeState")
            .field("dir", &self.inner.readers.dir)
            .finish_non_exhaustive()
    }
}

impl ServeState {
    /// Opens the registry in `dir` (checking that it reads and that the
    /// log key is there) and starts the writer thread. Join the returned
    /// thread after the server stopped: it ends once every queued write
    /// is answered.
    pub fn open(dir: &Path, config: &Config) -> Result<(ServeState, WriterThread), ServeError> {
        let mut probe = Registry::open_in(dir, config.database.as_ref())?;
        probe.latest_checkpoint()?;
        let pub_path = dir.join(LOG_PUB_FILE);
        let public_key =
            std::fs::read_to_string(&pub_path).map_err(|source| ServeError::PublicKey {
                path: pub_path.clone(),
                source,
            })?;
        let mut map = SourceMap::new();
        let library =
            ProfileLibrary::builtin(&mut map).map_err(|d| ServeError::Profiles(d.len()))?;
        let (writer, thread) = Writer::start(dir, config)?;
        let state = ServeState {
            inner: Arc::new(Inner {
                writer,
                readers: Readers {
                    dir: dir.to_owned(),
                    database: config.database.clone(),
                    idle: Mutex::new(vec![probe]),
                },
                validator: Validator { map, library },
                public_key,
                site: crate::explore::site::Site::new()?,
            }),
        };
        Ok((state, thread))
    }

    /// Runs `f` with a read handle on a blocking thread.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Registry) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let readers = &state.inner.readers;
            let idle = readers.idle.lock().ok().and_then(|mut v| v.pop());
            let mut registry = match idle {
                Some(r) => r,
                None => Registry::open_in(&readers.dir, readers.database.as_ref())?,
            };
            let out = f(&mut registry);
            if let Ok(mut v) = readers.idle.lock()
                && v.len() < MAX_IDLE_READERS
            {
                v.push(registry);
            }
            out
        })
        .await
        .map_err(|e| ApiError::internal(format!("read task failed: {e}")))?
    }
}

/// The API and the explorer pages with their bounds and request logs.
pub fn router(state: ServeState, config: &Config) -> Router {
    bounded(api(state.clone()).merge(pages::routes(state)), config)
}

/// The API's routes alone (no fallback, no layers), to `.merge()` with
/// other routes (pages at `/`, `/devices/{id}`, `/style.css`) before
/// [`bounded`] wraps them all.
pub fn api(state: ServeState) -> Router {
    use handlers as h;
    Router::new()
        .route("/api/v1/log/public-key", get(h::public_key))
        .route("/api/v1/checkpoint", get(h::checkpoint_note))
        .route("/checkpoint", get(h::checkpoint_note))
        .route("/tile/{*path}", get(h::tile))
        .route("/api/v1/entries/{index}", get(h::entry))
        .route("/api/v1/proofs/inclusion/{index}", get(h::inclusion))
        .route("/api/v1/proofs/consistency", get(h::consistency))
        .route("/api/v1/deposits", post(h::deposit))
        .route("/api/v1/blueprints", get(h::list))
        .route("/api/v1/blueprints/{id}", get(h::history))
        .route("/api/v1/escrow", get(h::escrow_all))
        .route("/api/v1/escrow/{id}", get(h::escrow_one))
        .route("/api/v1/reports", post(h::file_report))
        .route("/api/v1/reports/{id}", get(h::report))
        .route("/api/v1/reports/{id}/cosignatures", post(h::cosign))
        .route("/api/v1/reports/{id}/rebuttals", post(h::rebut))
        .route(
            "/api/v1/reports/{id}/rebuttal-acceptances",
            post(h::accept_rebuttal),
        )
        .route("/api/v1/reports/{id}/ruling", post(h::rule))
        .route("/api/v1/releases", post(h::release))
        .route("/api/v1/openapi.json", get(h::openapi))
        .with_state(state)
}

/// Wraps `app` in the server's bounds: the JSON 404 fallback, the body
/// limit, JSON error bodies, the request timeout, the concurrency limit
/// and request logs (`tracing`, INFO).
pub fn bounded(app: Router, config: &Config) -> Router {
    app.fallback(handlers::no_route)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(middleware::from_fn(json_errors))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(ConcurrencyLimitLayer::new(config.max_concurrent.max(1)))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
}

/// Largest non-JSON error body kept as the message.
const MAX_ERROR_TEXT: usize = 4096;

/// Turns error responses that axum or a layer produced as plain text (no
/// route, wrong method, body too large, bad query) into the JSON error
/// body every other error has.
async fn json_errors(req: Request<Body>, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), MAX_ERROR_TEXT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_client_error() => "bad_request",
        _ => "internal",
    };
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_owned()
    } else {
        text
    };
    ApiError::new(status, code, message).into_response()
}
