//! The bot's own token: OAuth2 client credentials for calls to the connector.
//!
//! [`AppCredentials`] asks the token endpoint for a token with the app id and password, keeps it
//! until five minutes before it expires, and fetches a new one once for all concurrent callers
//! (single flight): a fan-out of a thousand sends makes one token request, not a thousand. When
//! the renewal fails, the current token is used until it actually expires.
//!
//! The token service's answers are read up to a cap, and what it says when it refuses is logged
//! (cut to [`MAX_ERROR_TEXT_BYTES`](crate::limits::MAX_ERROR_TEXT_BYTES)) but never put in a
//! [`TokenError`]: those errors may reach API answers (`/api/notify`), and the token service's
//! words are no business of whoever called the bot.

use serde::Deserialize;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long before its expiry a token is replaced.
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Why the bot's token could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token endpoint could not be reached.
    #[error("the token endpoint could not be reached: {0}")]
    Unreachable(String),
    /// The token endpoint answered outside 2xx: with a 4xx it refused the bot's credentials
    /// (wrong app id or password, ...), with 429 or 5xx it is unavailable. Its body is logged,
    /// not kept here.
    #[error("{}", refused_text(*status))]
    Refused {
        /// The HTTP status.
        status: u16,
    },
    /// The token endpoint's answer was not a token.
    #[error("the token endpoint's answer is not a token: {0}")]
    InvalidResponse(String),
}

fn refused_text(status: u16) -> String {
    if status == 429 || status >= 500 {
        format!("the token service is unavailable (status {status})")
    } else {
        format!("the token service refused the bot's credentials (status {status})")
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Debug, Clone)]
struct CachedToken {
    token: String,
    renew_at: Instant,
    expires_at: Instant,
}

/// The app id and password, and the token they buy.
#[derive(Debug)]
pub struct AppCredentials {
    client: reqwest::Client,
    token_url: String,
    app_id: String,
    app_password: String,
    scope: String,
    cached: RwLock<Option<CachedToken>>,
    refresh: tokio::sync::Mutex<()>,
    max_response_bytes: usize,
}

impl AppCredentials {
    /// Credentials that fetch tokens from `token_url` with `client`.
    pub fn new(
        client: reqwest::Client,
        token_url: impl Into<String>,
        app_id: impl Into<String>,
        app_password: impl Into<String>,
        scope: impl Into<String>,
    ) -> Self {
        AppCredentials {
            client,
            token_url: token_url.into(),
            app_id: app_id.into(),
            app_password: app_password.into(),
            scope: scope.into(),
            cached: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
            max_response_bytes: crate::limits::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// The same credentials, reading token answers of at most `bytes` bytes (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`](crate::limits::DEFAULT_MAX_RESPONSE_BYTES)).
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// The app id.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// A valid token: the cached one, or a new one fetched once for all concurrent callers.
    pub async fn token(&self) -> Result<String, TokenError> {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let _flight = self.refresh.lock().await;
        // Whoever held the lock before may have fetched it.
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let fetched = match self.fetch().await {
            Ok(fetched) => fetched,
            Err(error) => {
                // A token in its last five minutes still works: better than no token at all.
                if let Some(token) = self.unexpired() {
                    tracing::warn!(%error, "could not renew the bot token; using the current one until it expires");
                    return Ok(token);
                }
                return Err(error);
            }
        };
        let token = fetched.token.clone();
        if let Ok(mut cached) = self.cached.write() {
            *cached = Some(fetched);
        }
        Ok(token)
    }

    /// Forgets `token` if it is the cached one (the connector refused it), so the next call
    /// fetches a new one. A token already replaced by another caller is left alone.
    pub fn invalidate(&self, token: &str) {
        if let Ok(mut cached) = self.cached.write()
            && cached.as_ref().is_some_and(|c| c.token == token)
        {
            *cached = None;
        }
    }

    fn fresh(&self) -> Option<String> {
        let cached = self.cached.read().ok()?;
        cached.as_ref().filter(|c| Instant::now() < c.renew_at).map(|c| c.token.clone())
    }

    fn unexpired(&self) -> Option<String> {
        let cached = self.cached.read().ok()?;
        cached.as_ref().filter(|c| Instant::now() < c.expires_at).map(|c| c.token.clone())
    }

    async fn fetch(&self) -> Result<CachedToken, TokenError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.app_id.as_str()),
            ("client_secret", self.app_password.as_str()),
            ("scope", self.scope.as_str()),
        ];
        let response = self
            .client
            .post(&self.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| TokenError::Unreachable(format!("{}: {e}", self.token_url)))?;
        let status = response.status();
        let read = crate::limits::read_capped(response, self.max_response_bytes)
            .await
            .map_err(|e| TokenError::Unreachable(format!("{}: {e}", self.token_url)))?;
        if !status.is_success() {
            let body = crate::limits::error_text(&read.bytes, read.truncated);
            tracing::warn!(status = status.as_u16(), %body, "the token service did not give the bot a token");
            return Err(TokenError::Refused { status: status.as_u16() });
        }
        if read.truncated {
            return Err(TokenError::InvalidResponse(format!("larger than {} bytes", self.max_response_bytes)));
        }
        // serde's message may quote the answer (a token, perhaps): only where it went wrong.
        let parsed: TokenResponse = serde_json::from_slice(&read.bytes).map_err(|e| {
            TokenError::InvalidResponse(format!(
                "not a token answer ({:?} at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        if parsed.access_token.is_empty() {
            return Err(TokenError::InvalidResponse("empty access_token".into()));
        }
        let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(3600));
        // Renew five minutes early; a token shorter-lived than that is used for half its life.
        let usable = match lifetime.checked_sub(TOKEN_REFRESH_MARGIN) {
            Some(left) if !left.is_zero() => left,
            _ => lifetime / 2,
        };
        tracing::debug!(lifetime_secs = lifetime.as_secs(), "fetched a new bot token");
        let now = Instant::now();
        Ok(CachedToken { token: parsed.access_token, renew_at: now + usable, expires_at: now + lifetime })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials_with(cached: CachedToken) -> AppCredentials {
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Nothing listens there: every fetch fails.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead = listener.local_addr().unwrap();
        drop(listener);
        let credentials =
            AppCredentials::new(reqwest::Client::new(), format!("http://{dead}/token"), "app", "pw", "scope");
        *credentials.cached.write().unwrap() = Some(cached);
        credentials
    }

    #[tokio::test]
    async fn a_failed_renewal_keeps_the_unexpired_token() {
        let now = Instant::now();
        let credentials = credentials_with(CachedToken {
            token: "old".into(),
            renew_at: now - Duration::from_secs(1),
            expires_at: now + Duration::from_secs(3600),
        });
        assert_eq!(credentials.token().await.unwrap(), "old");
    }

    #[tokio::test]
    async fn an_expired_token_is_not_used() {
        let now = Instant::now();
        let credentials = credentials_with(CachedToken {
            token: "old".into(),
            renew_at: now - Duration::from_secs(2),
            expires_at: now - Duration::from_secs(1),
        });
        assert!(matches!(credentials.token().await, Err(TokenError::Unreachable(_))));
    }

    #[tokio::test]
    async fn invalidate_forgets_only_the_refused_token() {
        let now = Instant::now();
        let credentials = credentials_with(CachedToken {
            token: "current".into(),
            renew_at: now + Duration::from_secs(3600),
            expires_at: now + Duration::from_secs(3900),
        });
        credentials.invalidate("older");
        assert_eq!(credentials.token().await.unwrap(), "current");
        credentials.invalidate("current");
        assert!(credentials.token().await.is_err());
    }
}
