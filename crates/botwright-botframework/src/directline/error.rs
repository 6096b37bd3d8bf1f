//! [`DirectLineError`]: why the Direct Line endpoint refused a request.

use super::BASE_PATH;
use super::token::TokenError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Why the Direct Line endpoint refused a request; answered as JSON `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DirectLineError {
    /// The token (or secret) is missing, not valid, expired, or for another conversation: 403.
    /// (A token that could not be signed: 500.)
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The conversation is not held (never started, dropped, or the server restarted): 404.
    #[error(
        "conversation {0} is not known (it may have ended or the server restarted); reconnect with GET {BASE_PATH}/conversations/{0}"
    )]
    UnknownConversation(String),
    /// The request is not usable (not JSON, not an activity, a bad watermark): 400.
    #[error("{0}")]
    BadRequest(String),
    /// The body is larger than the limit: 413.
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    /// The activity holds more JSON objects and arrays than the limit: 413.
    #[error("the activity holds more than {0} JSON objects and arrays")]
    TooComplex(usize),
    /// The endpoint assigns user ids and the request named one without the secret: 403.
    #[error(
        "this endpoint assigns user ids: a request without the Direct Line secret cannot name a user (send no `user.id`; the answer's `userId` is yours)"
    )]
    UserNotAllowed,
    /// The conversation has as many WebSocket streams as it may: 429.
    #[error("the conversation already has {0} streams open; close one (or poll GET .../activities)")]
    TooManyStreams(usize),
    /// This client opened too many conversations lately: 429, with `Retry-After`.
    #[error("too many conversations opened from this address; retry in {retry_after} seconds")]
    RateLimited {
        /// Seconds until the client may open another.
        retry_after: u64,
    },
    /// The bot failed (or panicked) while taking the activity: 500.
    #[error("the bot failed to accept the activity")]
    BotFailed,
}

impl DirectLineError {
    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            DirectLineError::Token(TokenError::Signing(_)) | DirectLineError::BotFailed => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            DirectLineError::Token(_) => StatusCode::FORBIDDEN,
            DirectLineError::UnknownConversation(_) => StatusCode::NOT_FOUND,
            DirectLineError::BadRequest(_) => StatusCode::BAD_REQUEST,
            DirectLineError::TooLarge(_) | DirectLineError::TooComplex(_) => StatusCode::PAYLOAD_TOO_LARGE,
            DirectLineError::UserNotAllowed => StatusCode::FORBIDDEN,
            DirectLineError::TooManyStreams(_) | DirectLineError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            DirectLineError::Token(TokenError::Signing(_)) | DirectLineError::BotFailed => "InternalError",
            DirectLineError::Token(_) => "TokenInvalid",
            DirectLineError::UnknownConversation(_) | DirectLineError::BadRequest(_) => "BadArgument",
            DirectLineError::TooLarge(_) | DirectLineError::TooComplex(_) => "PayloadTooLarge",
            DirectLineError::UserNotAllowed => "UserIdNotAllowed",
            DirectLineError::TooManyStreams(_) | DirectLineError::RateLimited { .. } => "TooManyRequests",
        }
    }
}

impl IntoResponse for DirectLineError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "a Direct Line request failed");
        } else {
            tracing::debug!(status = status.as_u16(), error = %self, "refused a Direct Line request");
        }
        let body = axum::Json(json!({ "error": { "code": self.code(), "message": self.to_string() } }));
        let mut response = (status, body).into_response();
        if let DirectLineError::RateLimited { retry_after } = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
        }
        response
    }
}
