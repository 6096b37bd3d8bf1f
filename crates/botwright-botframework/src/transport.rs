//! The HTTP clients: one connection pool for tokens and signing keys, one for the connector.
//!
//! The connector's client follows no redirects: a connector call answered with a 3xx is an
//! error (and a redirect would carry the bot's token to wherever it points).
//!
//! TLS is rustls with the `ring` crypto provider (no C toolchain beyond a C compiler, no
//! aws-lc). reqwest needs a process-wide rustls provider; it is installed here unless the
//! application installed one first.

use crate::config::{BotFrameworkConfig, ConfigError};

/// The `User-Agent` of every outbound request.
pub(crate) const USER_AGENT: &str =
    concat!("botwright/", env!("CARGO_PKG_VERSION"), " (Microsoft-BotFramework/3.1; +https://github.com/botwright)");

/// Idle connections kept per host by the client for tokens and signing keys.
const MAX_IDLE_PER_HOST: usize = 16;

/// Builds the pooled client with the configured timeouts.
pub(crate) fn http_client(config: &BotFrameworkConfig) -> Result<reqwest::Client, ConfigError> {
    builder(config).build().map_err(|e| ConfigError::HttpClient(e.to_string()))
}

/// Builds the connector's pooled client: the configured timeouts, and no redirects followed.
///
/// It keeps as many idle connections per host as requests may be in flight: fewer, and every
/// burst (a batch of deliveries ending together) would close connections only to open them
/// again for the next one; more are never needed, since no more are ever open at once.
pub(crate) fn connector_client(config: &BotFrameworkConfig) -> Result<reqwest::Client, ConfigError> {
    builder(config)
        .pool_max_idle_per_host(config.max_requests_in_flight.max(1))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ConfigError::HttpClient(e.to_string()))
}

fn builder(config: &BotFrameworkConfig) -> reqwest::ClientBuilder {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Fails only when another thread installed a provider meanwhile, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .pool_idle_timeout(std::time::Duration::from_secs(90))
        .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
}
