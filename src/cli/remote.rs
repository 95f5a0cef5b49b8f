//! The registry commands' HTTP form: a registry given as `http://…` or
//! `https://…` instead of a directory is reached through its API
//! (`blueprint serve`). A small blocking client: errors print the server's
//! message and map to the same exit codes as the local form (1 refused,
//! 2 operational).

use super::{EXIT_FINDINGS, EXIT_OPERATIONAL, output};
use blueprint::serve::error::{ErrorBody, is_refusal_code};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// Largest response read (a receipt's limit).
const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// A registry's API.
pub struct Api {
    base: String,
    agent: ureq::Agent,
}

/// The registry URL in `dir`, when it is one.
pub fn url_of(dir: &Path) -> Option<&str> {
    dir.to_str()
        .filter(|s| s.starts_with("http://") || s.starts_with("https://"))
}

/// Percent-encodes one path segment (RFC 3986 unreserved characters stay).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Api {
    /// A client for the registry at `url`.
    pub fn new(url: &str) -> Api {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        Api {
            base: url.trim_end_matches('/').to_owned(),
            agent,
        }
    }

    fn finish(
        &self,
        what: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Vec<u8>, u8> {
        let mut resp = result.map_err(|e| {
            output::error(&format!("{what}: {e}"));
            EXIT_OPERATIONAL
        })?;
        let status = resp.status();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(|e| {
                output::error(&format!("{what}: {e}"));
                EXIT_OPERATIONAL
            })?;
        if status.is_success() {
            return Ok(bytes);
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(b) => {
                output::error(&b.error.message);
                Err(if is_refusal_code(&b.error.code) {
                    EXIT_FINDINGS
                } else {
                    EXIT_OPERATIONAL
                })
            }
            Err(_) => {
                output::error(&format!("{what}: HTTP {status}"));
                Err(EXIT_OPERATIONAL)
            }
        }
    }

    /// `GET path` (below the registry URL): the body.
    pub fn get(&self, path: &str) -> Result<Vec<u8>, u8> {
        let url = format!("{}{path}", self.base);
        self.finish(&url, self.agent.get(&url).call())
    }

    /// `GET path` as JSON.
    pub fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, u8> {
        let bytes = self.get(path)?;
        decode(path, &bytes)
    }

    /// `POST path` with a JSON body: the response body.
    pub fn post(&self, path: &str, body: &Value) -> Result<Vec<u8>, u8> {
        let url = format!("{}{path}", self.base);
        let bytes = serde_json::to_vec(body).map_err(|e| {
            output::error(&e.to_string());
            EXIT_OPERATIONAL
        })?;
        self.finish(
            &url,
            self.agent
                .post(&url)
                .header("content-type", "application/json")
                .send(&bytes[..]),
        )
    }

    /// `POST path` with a JSON body, decoding the JSON answer.
    pub fn post_json<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, u8> {
        let bytes = self.post(path, body)?;
        decode(path, &bytes)
    }
}

fn decode<T: DeserializeOwned>(path: &str, bytes: &[u8]) -> Result<T, u8> {
    serde_json::from_slice(bytes).map_err(|e| {
        output::error(&format!("{path}: unexpected answer: {e}"));
        EXIT_OPERATIONAL
    })
}
