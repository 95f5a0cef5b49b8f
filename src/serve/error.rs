//! Every error the server sends: a status and the JSON body
//! `{"error": {"code": "...", "message": "..."}}`. The codes are stable;
//! [`is_refusal_code`] tells a client which of them refuse a request on
//! its merits (the CLI's exit 1) rather than report a broken request or
//! server (exit 2).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::escrow::actions::{ActionError, RevalidateError};
use crate::escrow::ledger::Refusal;
use crate::escrow::registry::RegistryError;
use crate::escrow::store::StoreError;
use crate::escrow::tiles::TilesError;

/// Codes that refuse a request on its merits: the log is well and the
/// request was understood, but it is not acceptable here and now.
pub const REFUSAL_CODES: &[&str] = &[
    "rollback",
    "wrong_key",
    "key_not_pinned",
    "envelope_rejected",
    "statement_rejected",
    "manifest_mismatch",
    "validation_failed",
    "not_a_deposit",
    "refused",
    "window_open",
    "conflict",
    "unknown_report",
    "unknown_deposit",
    "unknown_blueprint",
];

/// True when `code` is one of [`REFUSAL_CODES`].
pub fn is_refusal_code(code: &str) -> bool {
    REFUSAL_CODES.contains(&code)
}

/// An error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
}

/// The error body's inner object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable machine-readable code.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

/// The error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500 `internal`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// The body as sent.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message.clone(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        let message = e.to_string();
        let conflict = |code| ApiError::new(StatusCode::CONFLICT, code, message.clone());
        let unprocessable =
            |code| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message.clone());
        match &e {
            RegistryError::Refused(r) => match r {
                Refusal::Rollback { .. } => conflict("rollback"),
                Refusal::WrongKey { .. } => {
                    ApiError::new(StatusCode::FORBIDDEN, "wrong_key", message)
                }
                Refusal::KeyNotPinned { .. } => unprocessable("key_not_pinned"),
                Refusal::Envelope(_) => unprocessable("envelope_rejected"),
                _ => unprocessable("refused"),
            },
            RegistryError::ManifestMismatch(_) => unprocessable("manifest_mismatch"),
            RegistryError::NotFound(_) => ApiError::not_found(message),
            RegistryError::Store(StoreError::Busy) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
            }
            _ => ApiError::internal(message),
        }
    }
}

impl From<ActionError> for ApiError {
    fn from(e: ActionError) -> Self {
        let message = e.to_string();
        match e {
            ActionError::Registry(r) => r.into(),
            ActionError::NoReport(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_report", message)
            }
            ActionError::NoDepositDigest(_) | ActionError::NoDeposit(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_deposit", message)
            }
            ActionError::NoRebuttal(_) | ActionError::AlreadyRuled { .. } => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message)
            }
            ActionError::WindowOpen { .. } => {
                ApiError::new(StatusCode::CONFLICT, "window_open", message)
            }
            ActionError::Statement(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "statement_rejected",
                message,
            ),
            _ => ApiError::internal(message),
        }
    }
}

impl From<RevalidateError> for ApiError {
    fn from(e: RevalidateError) -> Self {
        let mut message = e.to_string();
        let code = match &e {
            RevalidateError::NotDeposit(_) => "not_a_deposit",
            RevalidateError::Findings { diagnostics, .. } => {
                for d in diagnostics
                    .iter()
                    .filter(|d| d.severity == crate::diag::Severity::Error)
                    .take(5)
                {
                    message.push_str(&format!("; {}: {}", d.code, d.message));
                }
                "validation_failed"
            }
        };
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
}

impl From<TilesError> for ApiError {
    fn from(e: TilesError) -> Self {
        let message = e.to_string();
        match e {
            TilesError::NotATilePath(_) => ApiError::bad_request("bad_path", message),
            TilesError::Beyond { .. } => ApiError::not_found(message),
            TilesError::Store(s) => RegistryError::Store(s).into(),
            _ => ApiError::internal(message),
        }
    }
}
