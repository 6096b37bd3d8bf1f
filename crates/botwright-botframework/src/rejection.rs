//! Why `POST /api/messages` refused a request: [`Rejection`], one variant per reason, each with
//! its HTTP status and the Bot Framework's JSON error (`{"error": {"code", "message"}}`).

use crate::auth::AuthError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::Duration;

/// Why the endpoint refused a request; it answers with the status and a JSON error that says
/// what is wrong.
///
/// ```
/// use axum::response::IntoResponse;
/// use botwright_botframework::rejection::Rejection;
/// let response = Rejection::PayloadTooLarge { limit: 1024 }.into_response();
/// assert_eq!(response.status(), 413);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The body is not declared as JSON (**415** `UnsupportedMediaType`).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The request is not authenticated: **401** (no or a malformed `Authorization` header, with
    /// `WWW-Authenticate: Bearer`), **403** (a token that does not hold) or **503** (the signing
    /// keys cannot be had now), with the [`AuthError`]'s code.
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    /// The body is larger than the limit (**413** `PayloadTooLarge`).
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body could not be read (**400** `BadRequest`).
    #[error("the body could not be read: {0}")]
    UnreadableBody(String),
    /// The body is not a usable activity, or the bot found the activity unusable (**400**
    /// `BadArgument`).
    #[error("{0}")]
    BadActivity(String),
    /// Something the bot needs (its store) is unavailable for now (**503**
    /// `ServiceUnavailable`, with `Retry-After`).
    #[error("{message}; retry after {} seconds", retry_after.as_secs())]
    Unavailable {
        /// What is unavailable.
        message: String,
        /// When to try again.
        retry_after: Duration,
    },
    /// The bot failed to take the activity, or panicked (**500** `InternalError`).
    #[error("the bot failed to accept the activity")]
    HandlerFailed,
    /// The bot answered an `invoke` with a status that is not an HTTP status (**500**
    /// `InternalError`).
    #[error("the bot answered with an invalid status")]
    InvalidInvokeStatus(u16),
}

impl Rejection {
    /// The HTTP status it answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Rejection::Unauthenticated(failure) => {
                StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::FORBIDDEN)
            }
            Rejection::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::UnreadableBody(_) | Rejection::BadActivity(_) => StatusCode::BAD_REQUEST,
            Rejection::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Rejection::HandlerFailed | Rejection::InvalidInvokeStatus(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error code of the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::UnsupportedMediaType(_) => "UnsupportedMediaType",
            Rejection::Unauthenticated(failure) => failure.code(),
            Rejection::PayloadTooLarge { .. } => "PayloadTooLarge",
            Rejection::UnreadableBody(_) => "BadRequest",
            Rejection::BadActivity(_) => "BadArgument",
            Rejection::Unavailable { .. } => "ServiceUnavailable",
            Rejection::HandlerFailed | Rejection::InvalidInvokeStatus(_) => "InternalError",
        }
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = json!({ "error": { "code": self.code(), "message": self.to_string() } });
        let mut response = (status, axum::Json(body)).into_response();
        match &self {
            Rejection::Unauthenticated(failure) => {
                tracing::info!(status = status.as_u16(), error = %failure, "refused an inbound request");
                if status == StatusCode::UNAUTHORIZED {
                    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                }
            }
            Rejection::Unavailable { retry_after, .. } => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after.as_secs()));
            }
            _ => {}
        }
        response
    }
}
