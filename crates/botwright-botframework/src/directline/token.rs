//! Direct Line tokens: HS256 JWTs bound to one conversation (and, when given, one user).
//!
//! A token is signed with the endpoint's secret key: a random key made per process unless the
//! application configures one ([`DirectLineConfig::token_key`](super::DirectLineConfig)). With a
//! per-process key, tokens die with the process; with a configured key, a client keeps its
//! conversation across restarts.
//!
//! Every token carries the start of its session (`sess`, the issue time of the first token of
//! the user's session): refreshing and renewing keep it, so that a session ends after
//! [`DirectLineConfig::max_session_age`](super::DirectLineConfig::max_session_age) however often
//! its tokens are refreshed.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The issuer written into (and required of) every token.
const ISSUER: &str = "botwright-directline";

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The request carried no token.
    #[error("the request has no token (expected `Authorization: Bearer <token>`)")]
    Missing,
    /// The token is not one of ours: malformed, forged, or signed with another key.
    #[error("the token is not valid: {0}")]
    Invalid(String),
    /// The token has expired.
    #[error("the token has expired; refresh it before it does (POST /v3/directline/tokens/refresh)")]
    Expired,
    /// The token is valid for another conversation.
    #[error("the token is not valid for conversation {0}")]
    OtherConversation(String),
    /// The token's session began longer ago than the endpoint allows; the client starts again.
    #[error(
        "the session began more than {0} seconds ago and cannot be extended; start a new conversation (POST /v3/directline/tokens/generate without a token)"
    )]
    SessionEnded(u64),
    /// The token could not be signed.
    #[error("the token could not be signed: {0}")]
    Signing(String),
}

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// The conversation the token opens.
    pub conv: String,
    /// The user the token was made for, when the generator named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, seconds since the Unix epoch.
    pub iat: u64,
    /// Always `botwright-directline`.
    pub iss: String,
    /// When the session began (the issue time of its first token), seconds since the Unix
    /// epoch; 0 in tokens made before sessions were tracked (then `iat` counts).
    #[serde(default)]
    pub sess: u64,
}

impl TokenClaims {
    /// When the token's session began, seconds since the Unix epoch.
    pub fn session_start(&self) -> u64 {
        if self.sess == 0 { self.iat } else { self.sess }
    }

    /// Refuses the token when its session began longer than `max_age` ago.
    pub fn check_session_age(&self, max_age: Duration) -> Result<(), TokenError> {
        if now_secs().saturating_sub(self.session_start()) > max_age.as_secs() {
            return Err(TokenError::SessionEnded(max_age.as_secs()));
        }
        Ok(())
    }
}

/// Signs and checks tokens.
#[derive(Clone)]
pub struct TokenKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// The same checks but expiry, for renewing a recently expired token.
    ignoring_expiry: Validation,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// A key from secret bytes (at least 32 are advisable).
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.leeway = 0;
        let mut ignoring_expiry = validation.clone();
        ignoring_expiry.validate_exp = false;
        TokenKey {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ignoring_expiry,
        }
    }

    /// A fresh random 256-bit key, for this process only.
    pub fn random() -> Self {
        let secret: [u8; 32] = rand::random();
        Self::new(&secret)
    }

    /// A token for `conversation_id` (and `user_id`), valid for `lifetime`, beginning a session.
    pub fn issue(
        &self,
        conversation_id: &str,
        user_id: Option<&str>,
        lifetime: Duration,
    ) -> Result<String, TokenError> {
        self.issue_in_session(conversation_id, user_id, lifetime, now_secs())
    }

    /// Like [`issue`](Self::issue), for a session that began at `session_start` (seconds since
    /// the Unix epoch): a refreshed or renewed token.
    pub fn issue_in_session(
        &self,
        conversation_id: &str,
        user_id: Option<&str>,
        lifetime: Duration,
        session_start: u64,
    ) -> Result<String, TokenError> {
        let now = now_secs();
        let claims = TokenClaims {
            conv: conversation_id.to_owned(),
            user: user_id.map(str::to_owned),
            exp: now.saturating_add(lifetime.as_secs()),
            iat: now,
            iss: ISSUER.to_owned(),
            sess: session_start.min(now),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| TokenError::Signing(e.to_string()))
    }

    /// Checks a token's signature, issuer and expiry.
    pub fn verify(&self, token: &str) -> Result<TokenClaims, TokenError> {
        match jsonwebtoken::decode::<TokenClaims>(token, &self.decoding, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) => Err(TokenError::Expired),
            Err(e) => Err(TokenError::Invalid(e.to_string())),
        }
    }

    /// Checks a token's signature and issuer but not its expiry: a token of ours, perhaps
    /// expired, that names a user to keep (the caller bounds the session's age).
    pub fn verify_ignoring_expiry(&self, token: &str) -> Result<TokenClaims, TokenError> {
        jsonwebtoken::decode::<TokenClaims>(token, &self.decoding, &self.ignoring_expiry)
            .map(|data| data.claims)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }

    /// Checks a token and that it opens `conversation_id`.
    pub fn verify_for(&self, token: &str, conversation_id: &str) -> Result<TokenClaims, TokenError> {
        let claims = self.verify(token)?;
        if claims.conv != conversation_id {
            return Err(TokenError::OtherConversation(conversation_id.to_owned()));
        }
        Ok(claims)
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_their_conversation_only() {
        let key = TokenKey::new(b"0123456789abcdef0123456789abcdef");
        let token = key.issue("c1", Some("u1"), Duration::from_secs(60)).unwrap();
        let claims = key.verify_for(&token, "c1").unwrap();
        assert_eq!(claims.user.as_deref(), Some("u1"));
        assert_eq!(key.verify_for(&token, "c2"), Err(TokenError::OtherConversation("c2".into())));
        let other = TokenKey::new(b"another secret, another process!");
        assert!(matches!(other.verify(&token), Err(TokenError::Invalid(_))));
        assert!(matches!(key.verify("not.a.token"), Err(TokenError::Invalid(_))));
        let expired = key.issue("c1", None, Duration::ZERO).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(key.verify(&expired), Err(TokenError::Expired));
        assert_eq!(key.verify_ignoring_expiry(&expired).unwrap().conv, "c1");
        assert!(matches!(other.verify_ignoring_expiry(&expired), Err(TokenError::Invalid(_))));
    }

    #[test]
    fn sessions_keep_their_start_and_end() {
        let key = TokenKey::new(b"0123456789abcdef0123456789abcdef");
        let first = key.verify(&key.issue("c1", Some("u1"), Duration::from_secs(60)).unwrap()).unwrap();
        assert_eq!(first.session_start(), first.iat);
        let start = now_secs() - 100;
        let renewed =
            key.verify(&key.issue_in_session("c2", Some("u1"), Duration::from_secs(60), start).unwrap()).unwrap();
        assert_eq!(renewed.session_start(), start);
        assert!(renewed.check_session_age(Duration::from_secs(1000)).is_ok());
        assert_eq!(renewed.check_session_age(Duration::from_secs(50)), Err(TokenError::SessionEnded(50)));
    }
}
