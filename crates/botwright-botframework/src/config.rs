//! Configuration: the bot's credentials and the Bot Framework's service addresses.
//!
//! [`BotFrameworkConfig::from_env`] reads the Bot Framework's usual variable names
//! (`MICROSOFT_APP_ID`, `MICROSOFT_APP_PASSWORD`) plus overrides for tests and sovereign clouds
//! (`BOTWRIGHT_OPENID_METADATA_URL`, `BOTWRIGHT_EMULATOR_OPENID_METADATA_URL`,
//! `BOTWRIGHT_TOKEN_URL`, `BOTWRIGHT_TRUSTED_SERVICE_URLS`) and the outbound limits
//! (`BOTWRIGHT_CONNECT_TIMEOUT_SECS`, `BOTWRIGHT_REQUEST_TIMEOUT_SECS`,
//! `BOTWRIGHT_MAX_RESPONSE_BYTES`, `BOTWRIGHT_MAX_ID_BYTES`,
//! `BOTWRIGHT_UNAVAILABLE_RETRY_AFTER_SECS`). The builder setters
//! do the same in code.

use std::time::Duration;

pub use crate::error::ConfigError;

/// The OpenID metadata of the Bot Framework's channel service (tokens from channels).
pub const DEFAULT_OPENID_METADATA_URL: &str = "https://login.botframework.com/v1/.well-known/openidconfiguration";
/// The OpenID metadata of the Azure AD tenant that signs the emulator's tokens.
pub const DEFAULT_EMULATOR_OPENID_METADATA_URL: &str =
    "https://login.microsoftonline.com/botframework.com/v2.0/.well-known/openid-configuration";
/// Where the bot gets its own token for calls to the connector.
pub const DEFAULT_TOKEN_URL: &str = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token";
/// The scope of the bot's own token.
pub const DEFAULT_TOKEN_SCOPE: &str = "https://api.botframework.com/.default";
/// The largest activity body the endpoint accepts by default: 256 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;
pub use crate::limits::DEFAULT_MAX_RESPONSE_BYTES;
/// How long an outbound connection may take to open by default: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole outbound request (connect, send, read the answer) may take by default: 30 s.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest id the endpoint accepts in an activity by default (its `id`, `replyToId`,
/// `channelId`, and the ids of `from`, `recipient` and `conversation`): 1024 bytes. Ids become
/// storage keys and travel in every reply; real channels' are well under 300 bytes.
pub const DEFAULT_MAX_ID_BYTES: usize = 1024;
/// The `Retry-After` the endpoint sends with a 503 when the bot's store is unavailable: 5 s.
pub const DEFAULT_UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(5);
/// The shortest time between two key refreshes caused by tokens signed with an unknown key.
pub const DEFAULT_KEY_REFRESH_COOLDOWN: Duration = Duration::from_secs(60);

/// How the Bot Framework channel is set up.
///
/// Without an app id, inbound authentication is off (development mode, as in Bot Builder v3:
/// the emulator and offline Direct Line work without credentials) and outbound calls carry no
/// token.
///
/// ```
/// use botwright_botframework::BotFrameworkConfig;
/// use std::time::Duration;
/// let config = BotFrameworkConfig::default()
///     .app_id("00000000-0000-0000-0000-000000000001")
///     .app_password("secret")
///     .trusted_service_url("smba.trafficmanager.net")
///     .request_timeout(Duration::from_secs(10));
/// assert!(config.has_credentials());
/// ```
#[derive(Clone)]
pub struct BotFrameworkConfig {
    /// The bot's Microsoft app id: the audience of inbound tokens and the client id of outbound
    /// ones. `None` turns authentication off.
    pub(crate) app_id: Option<String>,
    /// The bot's app password (client secret), for outbound tokens.
    pub(crate) app_password: Option<String>,
    /// The OpenID metadata URL of the channel service.
    pub(crate) openid_metadata_url: String,
    /// The OpenID metadata URL for the emulator's tokens.
    pub(crate) emulator_openid_metadata_url: String,
    /// The OAuth2 token endpoint for the bot's own token.
    pub(crate) token_url: String,
    /// The scope requested for the bot's own token.
    pub(crate) token_scope: String,
    /// Service URL origins trusted from the start, besides those learned from authenticated
    /// inbound activities: URLs (their origin, `scheme://host[:port]`, is taken) or bare `host` /
    /// `host:port`, which mean `https`. Without credentials (development mode) the connector
    /// talks only to these and to loopback service URLs.
    pub(crate) trusted_service_urls: Vec<String>,
    /// The largest request body the endpoint reads, in bytes.
    pub(crate) body_limit: usize,
    /// How long an outbound connection may take to open (default 10 s,
    /// `BOTWRIGHT_CONNECT_TIMEOUT_SECS`).
    pub(crate) connect_timeout: Duration,
    /// How long a whole outbound request may take, reading the answer included (default 30 s,
    /// `BOTWRIGHT_REQUEST_TIMEOUT_SECS`): a channel that hangs is cut off after it.
    pub(crate) request_timeout: Duration,
    /// The largest response body read from a channel, the token service or the identity service,
    /// in bytes (default 1 MiB, `BOTWRIGHT_MAX_RESPONSE_BYTES`). A larger success answer is an
    /// error; a larger error answer is cut there.
    pub(crate) max_response_bytes: usize,
    /// The longest id the endpoint accepts in an activity, in bytes (default 1024,
    /// `BOTWRIGHT_MAX_ID_BYTES`); a longer one is refused with 400. Its `serviceUrl` may be at
    /// most [`MAX_SERVICE_URL_LEN`](crate::trust::MAX_SERVICE_URL_LEN) bytes.
    pub(crate) max_id_bytes: usize,
    /// The `Retry-After` the endpoint answers a 503 with when the bot's store is unavailable
    /// (default 5 s, `BOTWRIGHT_UNAVAILABLE_RETRY_AFTER_SECS`).
    pub(crate) unavailable_retry_after: Duration,
    /// The shortest time between two key refreshes forced by unknown key ids.
    pub(crate) key_refresh_cooldown: Duration,
    /// Keys older than this are fetched again before use.
    pub(crate) key_max_age: Duration,
    /// Clock skew allowed when checking `exp` and `nbf`.
    pub(crate) clock_skew: Duration,
    /// Outbound requests (replies, proactive messages, other connector calls) in flight at once
    /// (default 32); more wait for their turn. Each request in flight holds a connection with its
    /// buffers (about 40 KB over plain HTTP, more over TLS), so this bounds the memory a burst
    /// of replies to many conversations takes.
    pub(crate) max_requests_in_flight: usize,
}

impl std::fmt::Debug for BotFrameworkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotFrameworkConfig")
            .field("app_id", &self.app_id)
            .field("app_password", &self.app_password.as_ref().map(|_| "<redacted>"))
            .field("openid_metadata_url", &self.openid_metadata_url)
            .field("emulator_openid_metadata_url", &self.emulator_openid_metadata_url)
            .field("token_url", &self.token_url)
            .field("token_scope", &self.token_scope)
            .field("trusted_service_urls", &self.trusted_service_urls)
            .field("body_limit", &self.body_limit)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_id_bytes", &self.max_id_bytes)
            .field("unavailable_retry_after", &self.unavailable_retry_after)
            .field("key_refresh_cooldown", &self.key_refresh_cooldown)
            .field("key_max_age", &self.key_max_age)
            .field("clock_skew", &self.clock_skew)
            .field("max_requests_in_flight", &self.max_requests_in_flight)
            .finish()
    }
}

impl Default for BotFrameworkConfig {
    fn default() -> Self {
        BotFrameworkConfig {
            app_id: None,
            app_password: None,
            openid_metadata_url: DEFAULT_OPENID_METADATA_URL.to_owned(),
            emulator_openid_metadata_url: DEFAULT_EMULATOR_OPENID_METADATA_URL.to_owned(),
            token_url: DEFAULT_TOKEN_URL.to_owned(),
            token_scope: DEFAULT_TOKEN_SCOPE.to_owned(),
            trusted_service_urls: Vec::new(),
            body_limit: DEFAULT_BODY_LIMIT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_id_bytes: DEFAULT_MAX_ID_BYTES,
            unavailable_retry_after: DEFAULT_UNAVAILABLE_RETRY_AFTER,
            key_refresh_cooldown: DEFAULT_KEY_REFRESH_COOLDOWN,
            key_max_age: Duration::from_secs(24 * 60 * 60),
            clock_skew: Duration::from_secs(300),
            max_requests_in_flight: crate::limits::DEFAULT_MAX_REQUESTS_IN_FLIGHT,
        }
    }
}

impl BotFrameworkConfig {
    /// Reads the configuration from the environment; unset or empty variables keep defaults.
    ///
    /// | variable | field |
    /// | --- | --- |
    /// | `MICROSOFT_APP_ID` | [`app_id`](Self::app_id) |
    /// | `MICROSOFT_APP_PASSWORD` | [`app_password`](Self::app_password) |
    /// | `BOTWRIGHT_OPENID_METADATA_URL` | [`openid_metadata_url`](Self::openid_metadata_url) |
    /// | `BOTWRIGHT_EMULATOR_OPENID_METADATA_URL` | [`emulator_openid_metadata_url`](Self::emulator_openid_metadata_url) |
    /// | `BOTWRIGHT_TOKEN_URL` | [`token_url`](Self::token_url) |
    /// | `BOTWRIGHT_TRUSTED_SERVICE_URLS` | [`trusted_service_url`](Self::trusted_service_url) for each, comma-separated |
    /// | `BOTWRIGHT_CONNECT_TIMEOUT_SECS` | [`connect_timeout`](Self::connect_timeout), whole seconds |
    /// | `BOTWRIGHT_REQUEST_TIMEOUT_SECS` | [`request_timeout`](Self::request_timeout), whole seconds |
    /// | `BOTWRIGHT_MAX_RESPONSE_BYTES` | [`max_response_bytes`](Self::max_response_bytes) |
    /// | `BOTWRIGHT_MAX_ID_BYTES` | [`max_id_bytes`](Self::max_id_bytes) |
    /// | `BOTWRIGHT_UNAVAILABLE_RETRY_AFTER_SECS` | [`unavailable_retry_after`](Self::unavailable_retry_after), whole seconds |
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut config = BotFrameworkConfig { app_id: get("MICROSOFT_APP_ID"), ..Default::default() };
        config.app_password = get("MICROSOFT_APP_PASSWORD");
        if let Some(url) = get("BOTWRIGHT_OPENID_METADATA_URL") {
            config.openid_metadata_url = url;
        }
        if let Some(url) = get("BOTWRIGHT_EMULATOR_OPENID_METADATA_URL") {
            config.emulator_openid_metadata_url = url;
        }
        if let Some(url) = get("BOTWRIGHT_TOKEN_URL") {
            config.token_url = url;
        }
        if let Some(list) = get("BOTWRIGHT_TRUSTED_SERVICE_URLS") {
            config.trusted_service_urls =
                list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        }
        let number = |name: &str, min: u64| -> Result<Option<u64>, ConfigError> {
            let Some(value) = get(name) else { return Ok(None) };
            let invalid =
                |reason: String| ConfigError::InvalidValue { variable: name.to_owned(), value: value.clone(), reason };
            let parsed = value.parse::<u64>().map_err(|e| invalid(format!("not a whole number: {e}")))?;
            if parsed < min {
                return Err(invalid(format!("must be at least {min}")));
            }
            Ok(Some(parsed))
        };
        if let Some(secs) = number("BOTWRIGHT_CONNECT_TIMEOUT_SECS", 1)? {
            config.connect_timeout = Duration::from_secs(secs);
        }
        if let Some(secs) = number("BOTWRIGHT_REQUEST_TIMEOUT_SECS", 1)? {
            config.request_timeout = Duration::from_secs(secs);
        }
        if let Some(bytes) = number("BOTWRIGHT_MAX_RESPONSE_BYTES", 1024)? {
            config.max_response_bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        }
        if let Some(bytes) = number("BOTWRIGHT_MAX_ID_BYTES", 64)? {
            config.max_id_bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        }
        if let Some(secs) = number("BOTWRIGHT_UNAVAILABLE_RETRY_AFTER_SECS", 0)? {
            config.unavailable_retry_after = Duration::from_secs(secs.min(3600));
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks that the configuration can be used.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.app_password.is_some() && self.app_id.is_none() {
            return Err(ConfigError::PasswordWithoutAppId);
        }
        for entry in &self.trusted_service_urls {
            crate::trust::origin_of_entry(entry)?;
        }
        Ok(())
    }

    /// Whether inbound requests are authenticated (an app id is set).
    pub fn auth_enabled(&self) -> bool {
        self.app_id.is_some()
    }

    /// Whether outbound calls carry a token (app id and password are set).
    pub fn has_credentials(&self) -> bool {
        self.app_id.is_some() && self.app_password.is_some()
    }

    /// Sets the app id.
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// Sets the app password.
    pub fn app_password(mut self, password: impl Into<String>) -> Self {
        self.app_password = Some(password.into());
        self
    }

    /// Sets the channel service's OpenID metadata URL.
    pub fn openid_metadata_url(mut self, url: impl Into<String>) -> Self {
        self.openid_metadata_url = url.into();
        self
    }

    /// Sets the emulator's OpenID metadata URL.
    pub fn emulator_openid_metadata_url(mut self, url: impl Into<String>) -> Self {
        self.emulator_openid_metadata_url = url.into();
        self
    }

    /// Sets the OAuth2 token endpoint.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// Sets the scope of the bot's token.
    pub fn token_scope(mut self, scope: impl Into<String>) -> Self {
        self.token_scope = scope.into();
        self
    }

    /// Adds a trusted service URL origin (a URL, or `host` / `host:port` meaning https).
    pub fn trusted_service_url(mut self, host: impl Into<String>) -> Self {
        self.trusted_service_urls.push(host.into());
        self
    }

    /// Sets the largest request body the endpoint reads, in bytes.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Sets the outbound connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets how many outbound requests may be in flight at once (at least 1).
    pub fn max_requests_in_flight(mut self, requests: usize) -> Self {
        self.max_requests_in_flight = requests.max(1);
        self
    }

    /// Sets the outbound request timeout.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the largest response body read from channels and services, in bytes.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Sets the longest id the endpoint accepts in an activity, in bytes.
    pub fn max_id_bytes(mut self, bytes: usize) -> Self {
        self.max_id_bytes = bytes;
        self
    }

    /// Sets the `Retry-After` of the endpoint's 503 when the bot's store is unavailable.
    pub fn unavailable_retry_after(mut self, retry_after: Duration) -> Self {
        self.unavailable_retry_after = retry_after;
        self
    }

    /// Sets the cool-down between key refreshes forced by unknown key ids.
    pub fn key_refresh_cooldown(mut self, cooldown: Duration) -> Self {
        self.key_refresh_cooldown = cooldown;
        self
    }

    /// Sets the allowed clock skew.
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// Sets how long fetched signing keys are used before they are fetched again.
    pub fn key_max_age(mut self, age: Duration) -> Self {
        self.key_max_age = age;
        self
    }
}

/// The names of 0.1.
impl BotFrameworkConfig {
    /// Deprecated name of [`app_id`](Self::app_id).
    #[deprecated(since = "0.2.0", note = "use `app_id`")]
    pub fn with_app_id(self, app_id: impl Into<String>) -> Self {
        self.app_id(app_id)
    }

    /// Deprecated name of [`app_password`](Self::app_password).
    #[deprecated(since = "0.2.0", note = "use `app_password`")]
    pub fn with_app_password(self, password: impl Into<String>) -> Self {
        self.app_password(password)
    }

    /// Deprecated name of [`openid_metadata_url`](Self::openid_metadata_url).
    #[deprecated(since = "0.2.0", note = "use `openid_metadata_url`")]
    pub fn with_openid_metadata_url(self, url: impl Into<String>) -> Self {
        self.openid_metadata_url(url)
    }

    /// Deprecated name of [`emulator_openid_metadata_url`](Self::emulator_openid_metadata_url).
    #[deprecated(since = "0.2.0", note = "use `emulator_openid_metadata_url`")]
    pub fn with_emulator_openid_metadata_url(self, url: impl Into<String>) -> Self {
        self.emulator_openid_metadata_url(url)
    }

    /// Deprecated name of [`token_url`](Self::token_url).
    #[deprecated(since = "0.2.0", note = "use `token_url`")]
    pub fn with_token_url(self, url: impl Into<String>) -> Self {
        self.token_url(url)
    }

    /// Deprecated name of [`token_scope`](Self::token_scope).
    #[deprecated(since = "0.2.0", note = "use `token_scope`")]
    pub fn with_token_scope(self, scope: impl Into<String>) -> Self {
        self.token_scope(scope)
    }

    /// Deprecated name of [`trusted_service_url`](Self::trusted_service_url).
    #[deprecated(since = "0.2.0", note = "use `trusted_service_url`")]
    pub fn with_trusted_service_url(self, host: impl Into<String>) -> Self {
        self.trusted_service_url(host)
    }

    /// Deprecated name of [`body_limit`](Self::body_limit).
    #[deprecated(since = "0.2.0", note = "use `body_limit`")]
    pub fn with_body_limit(self, bytes: usize) -> Self {
        self.body_limit(bytes)
    }

    /// Deprecated name of [`connect_timeout`](Self::connect_timeout).
    #[deprecated(since = "0.2.0", note = "use `connect_timeout`")]
    pub fn with_connect_timeout(self, timeout: Duration) -> Self {
        self.connect_timeout(timeout)
    }

    /// Deprecated name of [`max_requests_in_flight`](Self::max_requests_in_flight).
    #[deprecated(since = "0.2.0", note = "use `max_requests_in_flight`")]
    pub fn with_max_requests_in_flight(self, requests: usize) -> Self {
        self.max_requests_in_flight(requests)
    }

    /// Deprecated name of [`request_timeout`](Self::request_timeout).
    #[deprecated(since = "0.2.0", note = "use `request_timeout`")]
    pub fn with_request_timeout(self, timeout: Duration) -> Self {
        self.request_timeout(timeout)
    }

    /// Deprecated name of [`max_response_bytes`](Self::max_response_bytes).
    #[deprecated(since = "0.2.0", note = "use `max_response_bytes`")]
    pub fn with_max_response_bytes(self, bytes: usize) -> Self {
        self.max_response_bytes(bytes)
    }

    /// Deprecated name of [`max_id_bytes`](Self::max_id_bytes).
    #[deprecated(since = "0.2.0", note = "use `max_id_bytes`")]
    pub fn with_max_id_bytes(self, bytes: usize) -> Self {
        self.max_id_bytes(bytes)
    }

    /// Deprecated name of [`unavailable_retry_after`](Self::unavailable_retry_after).
    #[deprecated(since = "0.2.0", note = "use `unavailable_retry_after`")]
    pub fn with_unavailable_retry_after(self, retry_after: Duration) -> Self {
        self.unavailable_retry_after(retry_after)
    }

    /// Deprecated name of [`key_refresh_cooldown`](Self::key_refresh_cooldown).
    #[deprecated(since = "0.2.0", note = "use `key_refresh_cooldown`")]
    pub fn with_key_refresh_cooldown(self, cooldown: Duration) -> Self {
        self.key_refresh_cooldown(cooldown)
    }

    /// Deprecated name of [`clock_skew`](Self::clock_skew).
    #[deprecated(since = "0.2.0", note = "use `clock_skew`")]
    pub fn with_clock_skew(self, skew: Duration) -> Self {
        self.clock_skew(skew)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_variables() {
        let config = BotFrameworkConfig::from_lookup(|name| match name {
            "MICROSOFT_APP_ID" => Some("app".into()),
            "MICROSOFT_APP_PASSWORD" => Some("pw".into()),
            "BOTWRIGHT_TOKEN_URL" => Some("http://127.0.0.1:9/token".into()),
            "BOTWRIGHT_TRUSTED_SERVICE_URLS" => Some(" smba.example , https://x.example:8443/emea/,".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.app_id.as_deref(), Some("app"));
        assert!(config.has_credentials());
        assert_eq!(config.token_url, "http://127.0.0.1:9/token");
        assert_eq!(config.openid_metadata_url, DEFAULT_OPENID_METADATA_URL);
        assert_eq!(config.trusted_service_urls, vec!["smba.example", "https://x.example:8443/emea/"]);
        assert!(!format!("{config:?}").contains("pw"));
    }

    #[test]
    fn empty_variables_mean_unset() {
        let config = BotFrameworkConfig::from_lookup(|_| Some("  ".into())).unwrap();
        assert!(!config.auth_enabled());
        assert_eq!(config.token_url, DEFAULT_TOKEN_URL);
    }

    #[test]
    fn rejects_bad_entries() {
        let err = BotFrameworkConfig::from_lookup(|name| {
            (name == "BOTWRIGHT_TRUSTED_SERVICE_URLS").then(|| "ftp://x.example".to_owned())
        })
        .unwrap_err();
        assert!(matches!(err, ConfigError::InvalidTrustedServiceUrl { .. }));
        let err = BotFrameworkConfig::from_lookup(|name| (name == "MICROSOFT_APP_PASSWORD").then(|| "pw".to_owned()))
            .unwrap_err();
        assert_eq!(err, ConfigError::PasswordWithoutAppId);
        let err =
            BotFrameworkConfig::from_lookup(|name| (name == "BOTWRIGHT_MAX_RESPONSE_BYTES").then(|| "-1".to_owned()))
                .unwrap_err();
        assert!(
            matches!(err, ConfigError::InvalidValue { ref variable, .. } if variable == "BOTWRIGHT_MAX_RESPONSE_BYTES")
        );
        let err =
            BotFrameworkConfig::from_lookup(|name| (name == "BOTWRIGHT_REQUEST_TIMEOUT_SECS").then(|| "0".to_owned()))
                .unwrap_err();
        assert!(matches!(err, ConfigError::InvalidValue { .. }));
    }

    #[test]
    fn reads_limits() {
        let config = BotFrameworkConfig::from_lookup(|name| match name {
            "BOTWRIGHT_CONNECT_TIMEOUT_SECS" => Some("3".into()),
            "BOTWRIGHT_REQUEST_TIMEOUT_SECS" => Some("7".into()),
            "BOTWRIGHT_MAX_RESPONSE_BYTES" => Some("65536".into()),
            "BOTWRIGHT_UNAVAILABLE_RETRY_AFTER_SECS" => Some("9".into()),
            "BOTWRIGHT_MAX_ID_BYTES" => Some("512".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.connect_timeout, Duration::from_secs(3));
        assert_eq!(config.request_timeout, Duration::from_secs(7));
        assert_eq!(config.max_response_bytes, 65536);
        assert_eq!(config.unavailable_retry_after, Duration::from_secs(9));
        assert_eq!(config.max_id_bytes, 512);
        let defaults = BotFrameworkConfig::default();
        assert_eq!(defaults.max_response_bytes, DEFAULT_MAX_RESPONSE_BYTES);
        assert_eq!(defaults.request_timeout, DEFAULT_REQUEST_TIMEOUT);
    }
}
