//! Trusted service URL hosts: where the bot's token may go.
//!
//! An activity's `serviceUrl` says where replies go, and an address saved for proactive messages
//! keeps it. Were the bot's token sent to any service URL, a forged address (or a forged inbound
//! request, in development mode) could exfiltrate it. So the token goes only to hosts that are
//! trusted: those in the configuration, plus those seen in *authenticated* inbound activities.
//! The latter are persisted in a [`Storage`] (documents under [`TRUSTED_HOST_PREFIX`]), so
//! proactive sends still work after a restart and on every instance sharing the store.
//!
//! A host is its lowercase name plus `:port` when the port is not the scheme's default, so two
//! services on one machine are told apart.

use crate::config::ConfigError;
use botwright::storage::{Precondition, Storage, StorageError};
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use url::Url;

/// The key prefix of the documents recording trusted hosts.
pub const TRUSTED_HOST_PREFIX: &str = "trusted-host/";

/// A service URL that cannot be used: not an absolute http(s) URL with a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidServiceUrl(pub String);

/// Parses a service URL: it must be an absolute `http` or `https` URL with a host.
pub(crate) fn parse_service_url(service_url: &str) -> Result<Url, InvalidServiceUrl> {
    let invalid = |why: String| InvalidServiceUrl(format!("service URL {service_url:?} {why}"));
    let url = Url::parse(service_url.trim()).map_err(|e| invalid(format!("is not a URL: {e}")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid("is not an http(s) URL".into()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("has no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not carry credentials".into()));
    }
    Ok(url)
}

/// The trust key of a parsed URL: `host` or `host:port`.
pub(crate) fn host_of_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// The trust key of a service URL.
///
/// ```
/// use botwright_botframework::trust::service_url_host;
/// assert_eq!(service_url_host("https://SMBA.example/emea/").unwrap(), "smba.example");
/// assert_eq!(service_url_host("http://127.0.0.1:3978").unwrap(), "127.0.0.1:3978");
/// assert!(service_url_host("ftp://x").is_err());
/// ```
pub fn service_url_host(service_url: &str) -> Result<String, InvalidServiceUrl> {
    parse_service_url(service_url).map(|url| host_of_url(&url))
}

/// The trust key of a configured entry: a URL, `host` or `host:port`.
pub(crate) fn host_of_entry(entry: &str) -> Result<String, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidTrustedServiceUrl { entry: entry.to_owned(), reason };
    let trimmed = entry.trim();
    if trimmed.contains("://") {
        service_url_host(trimmed).map_err(|e| invalid(e.0))
    } else {
        // A bare host: parse it as an https URL and keep an explicit port whatever it is.
        let url = Url::parse(&format!("https://{trimmed}")).map_err(|e| invalid(e.to_string()))?;
        if url.path() != "/" || url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("expected a host, host:port or URL".into()));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let port = trimmed.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok());
        Ok(match port {
            Some(port) if !trimmed.ends_with(']') => format!("{host}:{port}"),
            _ => host,
        })
    }
}

/// The set of service URL hosts the bot's token may be sent to.
///
/// ```
/// use botwright::storage::MemoryStore;
/// use botwright_botframework::TrustedHosts;
/// use std::sync::Arc;
/// # tokio_test::block_on(async {
/// let store = Arc::new(MemoryStore::new());
/// let hosts = TrustedHosts::new(["smba.example".to_owned()], store.clone());
/// assert!(hosts.is_trusted("smba.example").await.unwrap());
/// hosts.trust("emea.example").await.unwrap();
/// // A new instance over the same store (a restart) still trusts it.
/// let again = TrustedHosts::new(Vec::<String>::new(), store);
/// assert!(again.is_trusted("emea.example").await.unwrap());
/// assert!(!again.is_trusted("evil.example").await.unwrap());
/// # });
/// ```
#[derive(Debug)]
pub struct TrustedHosts {
    configured: HashSet<String>,
    seen: RwLock<HashSet<String>>,
    storage: Arc<dyn Storage>,
}

impl TrustedHosts {
    /// Trusts the `configured` hosts (already normalized trust keys) and those recorded in
    /// `storage`.
    pub fn new(configured: impl IntoIterator<Item = String>, storage: Arc<dyn Storage>) -> Self {
        TrustedHosts {
            configured: configured.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
            seen: RwLock::new(HashSet::new()),
            storage,
        }
    }

    /// Whether `host` (a trust key, see [`service_url_host`]) is trusted.
    pub async fn is_trusted(&self, host: &str) -> Result<bool, StorageError> {
        if self.configured.contains(host) || self.seen_contains(host) {
            return Ok(true);
        }
        let found = self.storage.read(&document_key(host)).await?.is_some();
        if found {
            self.remember(host);
        }
        Ok(found)
    }

    /// Records `host` as trusted, in memory and in the store.
    pub async fn trust(&self, host: &str) -> Result<(), StorageError> {
        if self.configured.contains(host) || self.seen_contains(host) {
            return Ok(());
        }
        let seconds =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        let json = serde_json::json!({ "host": host, "trustedAt": seconds }).to_string();
        match self.storage.write(&document_key(host), &json, Precondition::Absent).await {
            // Another request or instance recorded it first: just as good.
            Ok(_) | Err(StorageError::Conflict { .. }) => {
                self.remember(host);
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    fn seen_contains(&self, host: &str) -> bool {
        self.seen.read().map(|seen| seen.contains(host)).unwrap_or(false)
    }

    fn remember(&self, host: &str) {
        if let Ok(mut seen) = self.seen.write() {
            seen.insert(host.to_owned());
        }
    }
}

fn document_key(host: &str) -> String {
    format!("{TRUSTED_HOST_PREFIX}{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_normalize() {
        assert_eq!(host_of_entry("SMBA.example").unwrap(), "smba.example");
        assert_eq!(host_of_entry("127.0.0.1:443").unwrap(), "127.0.0.1:443");
        assert_eq!(host_of_entry("https://x.example:8443/emea/").unwrap(), "x.example:8443");
        assert_eq!(host_of_entry("https://x.example:443/").unwrap(), "x.example");
        assert!(host_of_entry("x.example/path").is_err());
        assert!(host_of_entry("mailto://x").is_err());
    }

    #[test]
    fn service_urls_are_checked() {
        assert!(parse_service_url("not a url").is_err());
        assert!(parse_service_url("file:///etc/passwd").is_err());
        assert!(parse_service_url("https://user:pw@x.example/").is_err());
        assert_eq!(service_url_host("http://LOCALHOST:3978/").unwrap(), "localhost:3978");
    }
}
