//! The public explorer served live: the index at `/`, a page per device at
//! `/devices/{id}` and the stylesheet at `/style.css`, rendered by
//! [`crate::explore::site`] from a read handle on each request, so a page
//! always shows the log as it is.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::ServeState;
use super::error::ApiError;
use crate::explore::site::{self, LinkStyle};

/// What a page may load: its own stylesheet, and the inline `<style>` of
/// the data-flow map's SVG; no script, no other origin.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The pages' routes, to `.merge()` with [`super::api`].
pub fn routes(state: ServeState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/devices/{id}", get(device))
        .route("/style.css", get(stylesheet))
        .with_state(state)
}

fn html(body: String) -> Response {
    let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

async fn index(State(state): State<ServeState>) -> Result<Response, ApiError> {
    let site = state.clone();
    let page = state
        .read(move |reg| {
            site::index_page(reg, &site.inner.site, LinkStyle::Server)
                .map_err(|e| ApiError::internal(e.to_string()))
        })
        .await?;
    Ok(html(page))
}

async fn device(
    State(state): State<ServeState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let site = state.clone();
    let as_of = time::OffsetDateTime::now_utc().date();
    let page = state
        .read(move |reg| {
            site::device_page(reg, &site.inner.site, LinkStyle::Server, &id, as_of)
                .map_err(|e| ApiError::internal(e.to_string()))?
                .ok_or_else(|| ApiError::not_found(format!("no device with blueprint id {id:?}")))
        })
        .await?;
    Ok(html(page))
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        site::STYLESHEET,
    )
        .into_response()
}
