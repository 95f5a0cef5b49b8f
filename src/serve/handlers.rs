//! The route handlers: parse and bound the request, run the registry on a
//! blocking thread (reads) or the writer thread (writes), answer JSON.

use std::path::Path as FsPath;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::attest::canon::Digest;
use crate::attest::dsse::{self, Envelope};
use crate::attest::keys::PublicKey;
use crate::escrow::actions;
use crate::escrow::event::{Bond, EventTime, SignatureBytes, parse_keyid};
use crate::escrow::tiles;
use crate::escrow::views;

use super::error::ApiError;
use super::writer::DepositJob;
use super::{ServeState, openapi};

type ApiResult = Result<Response, ApiError>;

fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> ApiResult {
    let mut body = serde_json::to_string_pretty(value)
        .map_err(|e| ApiError::internal(format!("cannot encode the response: {e}")))?;
    body.push('\n');
    Ok((status, [(header::CONTENT_TYPE, "application/json")], body).into_response())
}

fn text(body: String, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Parses a JSON request body; anything else is 400 `malformed_json`
/// naming the line and column (or the member) that is wrong.
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("request body: {e}")))
}

fn envelope_of(v: &Value, what: &str) -> Result<Envelope, ApiError> {
    let bytes = serde_json::to_vec(v).map_err(|e| ApiError::internal(e.to_string()))?;
    Envelope::from_json(&bytes)
        .map_err(|e| ApiError::bad_request("bad_envelope", format!("{what}: {e}")))
}

fn index_of(s: &str) -> Result<u64, ApiError> {
    // Digits only: no sign, no `..`, no percent-decoded slashes.
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(
            "bad_index",
            format!("{s:?} is not an entry index (decimal digits)"),
        ));
    }
    s.parse()
        .map_err(|_| ApiError::bad_request("bad_index", format!("{s:?} is out of range")))
}

fn report_id_of(s: &str) -> Result<Digest, ApiError> {
    s.parse().map_err(|_| {
        ApiError::bad_request(
            "bad_report_id",
            format!("{s:?} is not a report id (sha256:<64 hex digits>)"),
        )
    })
}

/// `key=value` pairs of a query: only `allowed` keys, each once, values
/// decimal.
fn query_numbers(
    query: Option<&str>,
    allowed: &[&'static str],
) -> Result<Vec<(&'static str, u64)>, ApiError> {
    let mut out: Vec<(&'static str, u64)> = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(key) = allowed.iter().find(|a| **a == k) else {
            return Err(ApiError::bad_request(
                "bad_query",
                format!(
                    "unknown query parameter {k:?} (allowed: {})",
                    allowed.join(", ")
                ),
            ));
        };
        if out.iter().any(|(seen, _)| seen == key) {
            return Err(ApiError::bad_request(
                "bad_query",
                format!("query parameter {k:?} given twice"),
            ));
        }
        let n = index_of(v).map_err(|_| {
            ApiError::bad_request("bad_query", format!("{k}={v:?} is not a decimal number"))
        })?;
        out.push((key, n));
    }
    Ok(out)
}

fn get_number(q: &[(&'static str, u64)], key: &str) -> Option<u64> {
    q.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

pub(super) async fn no_route(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

pub(super) async fn public_key(State(s): State<ServeState>) -> Response {
    text(s.inner.public_key.clone(), "text/plain; charset=utf-8")
}

pub(super) async fn checkpoint_note(State(s): State<ServeState>) -> ApiResult {
    let cp = s.read(|r| Ok(views::checkpoint(r)?)).await?;
    Ok(text(cp.note, "text/plain; charset=utf-8"))
}

pub(super) async fn tile(State(s): State<ServeState>, Path(path): Path<String>) -> ApiResult {
    let full = format!("tile/{path}");
    let bytes = s.read(move |r| Ok(tiles::read_tile(r, &full)?)).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

pub(super) async fn entry(State(s): State<ServeState>, Path(index): Path<String>) -> ApiResult {
    let index = index_of(&index)?;
    let view = s.read(move |r| Ok(views::entry(r, index)?)).await?;
    json(StatusCode::OK, &view)
}

pub(super) async fn inclusion(
    State(s): State<ServeState>,
    Path(index): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let index = index_of(&index)?;
    let q = query_numbers(query.as_deref(), &["size"])?;
    let size = get_number(&q, "size");
    let view = s
        .read(move |r| Ok(views::inclusion(r, index, size)?))
        .await?;
    json(StatusCode::OK, &view)
}

pub(super) async fn consistency(
    State(s): State<ServeState>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let q = query_numbers(query.as_deref(), &["from", "to"])?;
    let from = get_number(&q, "from")
        .ok_or_else(|| ApiError::bad_request("bad_query", "the query needs from=SIZE"))?;
    let to = get_number(&q, "to");
    let view = s
        .read(move |r| Ok(views::consistency(r, from, to)?))
        .await?;
    json(StatusCode::OK, &view)
}

pub(super) async fn list(State(s): State<ServeState>) -> ApiResult {
    let view = s.read(|r| Ok(views::list(r)?)).await?;
    json(StatusCode::OK, &view)
}

fn unknown_blueprint(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_blueprint",
        format!("no deposits of blueprint id {id:?}"),
    )
}

pub(super) async fn history(State(s): State<ServeState>, Path(id): Path<String>) -> ApiResult {
    let view = s.read(move |r| Ok(views::history(r, &id)?)).await?;
    if view.versions.is_empty() {
        return Err(unknown_blueprint(&view.blueprint_id));
    }
    json(StatusCode::OK, &view)
}

pub(super) async fn escrow_all(State(s): State<ServeState>) -> ApiResult {
    let all = s
        .read(|r| Ok(views::escrow_all(&r.stored_state()?)))
        .await?;
    json(StatusCode::OK, &serde_json::json!({ "blueprints": all }))
}

pub(super) async fn escrow_one(State(s): State<ServeState>, Path(id): Path<String>) -> ApiResult {
    let view = s
        .read(move |r| Ok(views::escrow_of(&r.stored_state()?, &id)))
        .await?;
    if view.versions.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_blueprint",
            format!("no deposit of {}", view.blueprint_id),
        ));
    }
    json(StatusCode::OK, &view)
}

pub(super) async fn report(State(s): State<ServeState>, Path(id): Path<String>) -> ApiResult {
    let id = report_id_of(&id)?;
    let view = s.read(move |r| Ok(actions::report_view(r, &id)?)).await?;
    json(StatusCode::OK, &view)
}

pub(super) async fn openapi() -> Response {
    text(openapi::document_text(), "application/json")
}

/// `POST /api/v1/deposits`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DepositBody {
    /// The vendor's DSSE envelope, as `blueprint sign` wrote it.
    envelope: Value,
    /// The bond.
    bond: Bond,
    /// SPKI PEM of the vendor key: required with a blueprint id's first deposit.
    #[serde(default)]
    vendor_public_key: Option<String>,
}

pub(super) async fn deposit(State(s): State<ServeState>, bytes: Bytes) -> ApiResult {
    let req: DepositBody = body(&bytes)?;
    let envelope = envelope_of(&req.envelope, "envelope")?;
    let vendor_key = req
        .vendor_public_key
        .as_deref()
        .map(|pem| PublicKey::from_pem(pem, FsPath::new("vendor_public_key")))
        .transpose()
        .map_err(|e| ApiError::bad_request("bad_key", e.to_string()))?;
    let now = EventTime::now();
    let state = s.clone();
    let (envelope, manifest) = tokio::task::spawn_blocking(move || {
        let v = &state.inner.validator;
        let mut map = v.map.clone();
        let manifest = actions::revalidate(
            &mut map,
            &v.library,
            "deposit#manifest.json",
            &envelope,
            now,
        )?;
        Ok::<_, ApiError>((envelope, manifest))
    })
    .await
    .map_err(|e| ApiError::internal(format!("validation task failed: {e}")))??;
    let (reply, rx) = tokio::sync::oneshot::channel();
    s.inner.writer.deposit(DepositJob {
        envelope,
        manifest,
        bond: req.bond,
        vendor_key,
        now,
        reply,
    })?;
    let receipt = rx
        .await
        .map_err(|_| ApiError::internal("the writer dropped the request"))??;
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        receipt.to_json(),
    )
        .into_response())
}

/// A signed statement: `POST /api/v1/reports` and `…/rebuttals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EnvelopeBody {
    /// The signed DSSE envelope.
    envelope: Value,
}

/// A detached signature: co-signatures and rebuttal acceptances.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SignatureBody {
    /// The member key (`sha256:<hex>`).
    keyid: String,
    /// Base64 Ed25519 signature over the envelope's PAE.
    signature: String,
}

fn signature_of(
    b: &SignatureBody,
) -> Result<(crate::attest::keys::KeyId, SignatureBytes), ApiError> {
    let keyid = parse_keyid(&b.keyid).ok_or_else(|| {
        ApiError::bad_request("bad_keyid", format!("{:?} is not sha256:<hex>", b.keyid))
    })?;
    let sig = dsse::decode_base64(&b.signature)
        .and_then(|v| <[u8; 64]>::try_from(v).ok())
        .ok_or_else(|| {
            ApiError::bad_request("bad_signature", "signature is not base64 of 64 bytes")
        })?;
    Ok((keyid, SignatureBytes(sig)))
}

pub(super) async fn file_report(State(s): State<ServeState>, bytes: Bytes) -> ApiResult {
    let req: EnvelopeBody = body(&bytes)?;
    let envelope = envelope_of(&req.envelope, "envelope")?;
    let filed = s
        .inner
        .writer
        .run(move |r| Ok(actions::file_report(r, envelope, EventTime::now())?))
        .await?;
    json(StatusCode::CREATED, &filed)
}

pub(super) async fn cosign(
    State(s): State<ServeState>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult {
    let id = report_id_of(&id)?;
    let (keyid, sig) = signature_of(&body(&bytes)?)?;
    let done = s
        .inner
        .writer
        .run(move |r| Ok(actions::cosign(r, id, keyid, sig, EventTime::now())?))
        .await?;
    json(StatusCode::CREATED, &done)
}

pub(super) async fn rebut(
    State(s): State<ServeState>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult {
    let id = report_id_of(&id)?;
    let req: EnvelopeBody = body(&bytes)?;
    let envelope = envelope_of(&req.envelope, "envelope")?;
    let done = s
        .inner
        .writer
        .run(move |r| Ok(actions::rebut(r, id, envelope, EventTime::now())?))
        .await?;
    json(StatusCode::CREATED, &done)
}

pub(super) async fn accept_rebuttal(
    State(s): State<ServeState>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult {
    let id = report_id_of(&id)?;
    let (keyid, sig) = signature_of(&body(&bytes)?)?;
    let done = s
        .inner
        .writer
        .run(move |r| {
            Ok(actions::accept_rebuttal(
                r,
                id,
                keyid,
                sig,
                EventTime::now(),
            )?)
        })
        .await?;
    json(StatusCode::CREATED, &done)
}

/// `POST …/ruling` takes an empty body or `{}`: the rule decides, at the
/// server's time.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EmptyBody {}

pub(super) async fn rule(
    State(s): State<ServeState>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult {
    let id = report_id_of(&id)?;
    if !bytes.iter().all(u8::is_ascii_whitespace) {
        let _: EmptyBody = body(&bytes)?;
    }
    let done = s
        .inner
        .writer
        .run(move |r| Ok(actions::rule_report(r, id, EventTime::now())?))
        .await?;
    json(StatusCode::CREATED, &done)
}

/// `POST /api/v1/releases`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReleaseBody {
    /// The blueprint id.
    blueprint_id: String,
    /// The version (default: the latest deposited).
    #[serde(default)]
    version: Option<u64>,
}

pub(super) async fn release(State(s): State<ServeState>, bytes: Bytes) -> ApiResult {
    let req: ReleaseBody = body(&bytes)?;
    let done = s
        .inner
        .writer
        .run(move |r| {
            Ok(actions::release(
                r,
                &req.blueprint_id,
                req.version,
                EventTime::now(),
            )?)
        })
        .await?;
    json(StatusCode::CREATED, &done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_plain_decimal() {
        assert_eq!(index_of("42").unwrap(), 42);
        for bad in ["", "-1", "..", "1e3", "+1", "99999999999999999999999"] {
            assert_eq!(index_of(bad).unwrap_err().code, "bad_index", "{bad}");
        }
    }

    #[test]
    fn queries_take_known_keys_once() {
        let q = query_numbers(Some("from=1&to=5"), &["from", "to"]).unwrap();
        assert_eq!(get_number(&q, "to"), Some(5));
        assert!(query_numbers(Some("from=1&from=2"), &["from"]).is_err());
        assert!(query_numbers(Some("size=x"), &["size"]).is_err());
        assert!(query_numbers(Some("other=1"), &["size"]).is_err());
    }
}
