//! Inbound authentication: is this request really from a Bot Framework channel, for this bot?
//!
//! Channels sign a JWT and send it as `Authorization: Bearer <token>`. [`Authenticator`] checks
//! it as the Bot Framework does:
//!
//! - the signing key comes from the OpenID metadata's `jwks_uri`, by the token's `kid` (see the
//!   `keys` module for caching and the refresh cool-down); algorithms RS256, RS384, RS512 only
//!   (`alg: none` and HMAC are refused);
//! - channel tokens: issuer `https://api.botframework.com`; emulator tokens (issued by the Azure
//!   AD tenants the emulator uses): those issuers, keys from the emulator's metadata, and `appid`
//!   (v1.0 tokens) or `azp` (v2.0) equal to the app id;
//! - audience = the app id; `exp` and `nbf` with five minutes of clock skew;
//! - when the key has `endorsements`, they include the activity's `channelId`;
//! - when the token has a `serviceurl` claim, it equals the activity's `serviceUrl`.
//!
//! Statuses follow Bot Builder v3: a missing or malformed `Authorization` header is **401**, a
//! token or claim that fails a check is **403**, signing keys that cannot be fetched are **503**.

mod keys;

use crate::config::BotFrameworkConfig;
use botwright::activity::Activity;
use jsonwebtoken::{Algorithm, Validation};
use keys::{KeySource, SigningKey};
use serde_json::{Map, Value};
use std::sync::Arc;

/// The issuer of channel tokens.
pub const CHANNEL_ISSUER: &str = "https://api.botframework.com";

/// The issuers of the emulator's tokens (Azure AD v1 and v2, two tenants).
pub const EMULATOR_ISSUERS: [&str; 4] = [
    "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/",
    "https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0",
    "https://sts.windows.net/f8cdef31-a31e-4b4a-93e4-5f571e91255a/",
    "https://login.microsoftonline.com/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0",
];

/// The longest bearer token accepted, in bytes: Bot Framework tokens are about 1.5 KB; a longer
/// one is refused (401) before anything is decoded.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

const ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512];

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("the request has no Authorization header")]
    MissingAuthorization,
    /// The `Authorization` header is not `Bearer <token>`.
    #[error("the Authorization header is malformed: {0}")]
    MalformedAuthorization(String),
    /// The token is not a valid JWT for this bot (format, algorithm, signature, issuer, audience,
    /// expiry, ...).
    #[error("the token is invalid: {0}")]
    InvalidToken(String),
    /// No known signing key has the token's key id (even after a refresh, or during the
    /// refresh cool-down).
    #[error("the token's signing key {kid:?} is unknown")]
    UnknownSigningKey {
        /// The token's `kid` (its first 128 bytes).
        kid: String,
    },
    /// The signing key is not endorsed for the activity's channel.
    #[error("the signing key is not endorsed for channel {channel_id:?}")]
    ChannelNotEndorsed {
        /// The activity's `channelId`.
        channel_id: String,
    },
    /// The token's `serviceurl` claim differs from the activity's `serviceUrl`.
    #[error("the token is for service URL {claim:?}, the activity says {activity:?}")]
    ServiceUrlMismatch {
        /// The claim.
        claim: String,
        /// The activity's `serviceUrl`.
        activity: String,
    },
    /// An emulator token was issued to another app.
    #[error("the emulator token was issued to app {found:?}, not this bot")]
    AppIdMismatch {
        /// The `appid` or `azp` claim.
        found: String,
    },
    /// The signing keys could not be fetched.
    #[error("the signing keys are unavailable: {0}")]
    KeysUnavailable(String),
}

impl AuthError {
    /// The HTTP status this failure answers with.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::MissingAuthorization | AuthError::MalformedAuthorization(_) => 401,
            AuthError::KeysUnavailable(_) => 503,
            _ => 403,
        }
    }

    /// A short machine-readable code for error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingAuthorization | AuthError::MalformedAuthorization(_) => "Unauthorized",
            AuthError::KeysUnavailable(_) => "ServiceUnavailable",
            _ => "Forbidden",
        }
    }
}

/// A token whose signature and claims checked out; the activity is checked next.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    /// Whether the emulator issued it.
    pub emulator: bool,
    /// The token's claims.
    pub claims: Map<String, Value>,
    endorsements: Option<Vec<String>>,
}

impl VerifiedToken {
    /// Checks the token against the activity it came with: key endorsements and `serviceurl`.
    pub fn check_activity(&self, activity: &Activity) -> Result<(), AuthError> {
        if let Some(endorsements) = &self.endorsements {
            let channel_id = activity.channel_id();
            if channel_id.is_empty() || !endorsements.iter().any(|e| e == channel_id) {
                return Err(AuthError::ChannelNotEndorsed { channel_id: channel_id.to_owned() });
            }
        }
        if let Some(claim) = self.claims.get("serviceurl") {
            let claim = claim.as_str().unwrap_or_default();
            let service_url = activity.service_url.as_deref().unwrap_or_default();
            if claim != service_url {
                return Err(AuthError::ServiceUrlMismatch {
                    claim: claim.to_owned(),
                    activity: service_url.to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// The token in an `Authorization` header value: `Bearer <token>` (scheme case-insensitive).
///
/// ```
/// use botwright_botframework::auth::{bearer_token, AuthError};
/// assert_eq!(bearer_token(Some("Bearer abc.def.ghi")), Ok("abc.def.ghi"));
/// assert_eq!(bearer_token(None), Err(AuthError::MissingAuthorization));
/// assert!(matches!(bearer_token(Some("Basic dXNlcg==")), Err(AuthError::MalformedAuthorization(_))));
/// ```
pub fn bearer_token(header: Option<&str>) -> Result<&str, AuthError> {
    let header = header.ok_or(AuthError::MissingAuthorization)?;
    let (scheme, token) = header
        .trim()
        .split_once(' ')
        .ok_or_else(|| AuthError::MalformedAuthorization("expected `Bearer <token>`".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MalformedAuthorization(format!("the scheme is {scheme:?}, expected Bearer")));
    }
    let token = token.trim();
    if token.is_empty() || token.contains(' ') {
        return Err(AuthError::MalformedAuthorization("expected one token after Bearer".into()));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::MalformedAuthorization(format!(
            "the token is {} bytes, more than {MAX_TOKEN_LEN}",
            token.len()
        )));
    }
    Ok(token)
}

/// Checks the tokens of inbound requests for one app id.
///
/// ```no_run
/// use botwright::Activity;
/// use botwright_botframework::{auth::Authenticator, BotFrameworkConfig};
/// # async fn run(header: Option<&str>, activity: Activity) -> Result<(), Box<dyn std::error::Error>> {
/// let config = BotFrameworkConfig::default().app_id("my-app-id");
/// let client = reqwest::Client::new();
/// let auth = Authenticator::new(&config, client).expect("an app id is set");
/// auth.authenticate(header, &activity).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Authenticator {
    app_id: String,
    leeway: u64,
    channel_keys: KeySource,
    emulator_keys: KeySource,
}

impl Authenticator {
    /// An authenticator for `config`'s app id, or `None` when none is set (authentication off).
    pub fn new(config: &BotFrameworkConfig, client: reqwest::Client) -> Option<Self> {
        let app_id = config.app_id.clone()?;
        let source = |url: &str| {
            KeySource::new(
                client.clone(),
                url.to_owned(),
                config.key_refresh_cooldown,
                config.key_max_age,
                config.max_response_bytes,
            )
        };
        Some(Authenticator {
            app_id,
            leeway: config.clock_skew.as_secs(),
            channel_keys: source(&config.openid_metadata_url),
            emulator_keys: source(&config.emulator_openid_metadata_url),
        })
    }

    /// The app id tokens must be issued for.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// How many times signing keys were fetched, channel and emulator together (diagnostics).
    pub fn key_fetch_count(&self) -> u64 {
        self.channel_keys.fetch_count() + self.emulator_keys.fetch_count()
    }

    /// Checks an `Authorization` header value and the activity it came with.
    pub async fn authenticate(&self, authorization: Option<&str>, activity: &Activity) -> Result<(), AuthError> {
        let token = bearer_token(authorization)?;
        self.verify_token(token).await?.check_activity(activity)
    }

    /// Checks a token's signature and claims (all but those that need the activity).
    pub async fn verify_token(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| AuthError::InvalidToken(format!("the token header is unreadable: {e}")))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(AuthError::InvalidToken(format!("algorithm {:?} is not allowed", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| AuthError::InvalidToken("the token has no key id (kid)".into()))?;
        // Which authority issued it decides where its key comes from; the signature check below
        // makes sure the claim was not made up.
        let unverified: Map<String, Value> = jsonwebtoken::dangerous::insecure_decode_claims(token)
            .map_err(|e| AuthError::InvalidToken(format!("the token claims are unreadable: {e}")))?;
        let issuer = unverified.get("iss").and_then(Value::as_str).unwrap_or_default();
        let emulator = EMULATOR_ISSUERS.contains(&issuer);
        let source = if emulator { &self.emulator_keys } else { &self.channel_keys };
        let key: Arc<SigningKey> = source
            .key(&kid)
            .await
            .map_err(AuthError::KeysUnavailable)?
            .ok_or_else(|| AuthError::UnknownSigningKey { kid: crate::limits::truncate_text(&kid, 128) })?;

        let mut validation = Validation::new(header.alg);
        validation.algorithms = ALGORITHMS.to_vec();
        validation.leeway = self.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_audience(&[self.app_id.as_str()]);
        if emulator {
            validation.set_issuer(&EMULATOR_ISSUERS);
        } else {
            validation.set_issuer(&[CHANNEL_ISSUER]);
        }
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
            .map_err(|e| AuthError::InvalidToken(describe(&e)))?;
        let claims = data.claims;
        if emulator {
            let v2 = claims.get("ver").and_then(Value::as_str) == Some("2.0");
            let claim = if v2 { "azp" } else { "appid" };
            let found = claims.get(claim).and_then(Value::as_str).unwrap_or_default();
            if found != self.app_id {
                return Err(AuthError::AppIdMismatch { found: found.to_owned() });
            }
        }
        Ok(VerifiedToken { emulator, claims, endorsements: key.endorsements.clone() })
    }
}

fn describe(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::InvalidIssuer => "the token's issuer is not accepted".into(),
        ErrorKind::InvalidAudience => "the token is not for this bot (audience)".into(),
        ErrorKind::InvalidSignature => "the token's signature does not verify".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no {claim} claim"),
        _ => error.to_string(),
    }
}
