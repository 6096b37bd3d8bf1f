//! Trusted service URL origins: where the bot's token may go.
//!
//! An activity's `serviceUrl` says where replies go, and an address saved for proactive messages
//! keeps it. Were the bot's token sent to any service URL, a forged address (or a forged inbound
//! request, in development mode) could exfiltrate it. So the token goes only to origins that are
//! trusted: those in the configuration, plus those seen in *authenticated* inbound activities.
//! The latter are persisted in a [`Storage`], so proactive sends still work after a restart and
//! on every instance sharing the store.
//!
//! A trusted service URL is an **origin**, `scheme://host[:port]` (lowercase host, the scheme's
//! default port left out), never a bare host: trusting `https://x` does not trust `http://x`,
//! where the token would travel in clear text. A configured bare host (`host` or `host:port`)
//! means `https`. Besides, the connector only ever sends the token over `https`, or over `http`
//! to a loopback host ([`is_loopback_url`]: `127.0.0.0/8`, `::1`, `localhost`), where local test
//! stand-ins of the channels run.
//!
//! Storage: an `https` origin is recorded under [`TRUSTED_HOST_PREFIX`]`host[:port]` (the key
//! earlier versions wrote, which are therefore read as `https` origins only); any other origin
//! under [`TRUSTED_ORIGIN_PREFIX`]`origin`.

use crate::error::ConfigError;
use botwright::storage::{Precondition, Storage, StorageError};
use std::collections::HashSet;
use std::sync::{Arc, OnceLock, RwLock};
use url::{Host, Url};

/// The key prefix of the documents recording trusted `https` origins (by `host[:port]`).
pub const TRUSTED_HOST_PREFIX: &str = "trusted-host/";

/// The key prefix of the documents recording trusted origins of other schemes (by the origin).
pub const TRUSTED_ORIGIN_PREFIX: &str = "trusted-origin/";

/// The longest service URL accepted, in bytes; a longer one is refused as invalid.
pub const MAX_SERVICE_URL_LEN: usize = 2048;

/// A service URL that cannot be used: not an absolute http(s) URL with a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidServiceUrl(pub String);

/// Parses a service URL: it must be an absolute `http` or `https` URL with a host, without
/// credentials, at most [`MAX_SERVICE_URL_LEN`] bytes.
pub(crate) fn parse_service_url(service_url: &str) -> Result<Url, InvalidServiceUrl> {
    if service_url.len() > MAX_SERVICE_URL_LEN {
        return Err(InvalidServiceUrl(format!(
            "service URL of {} bytes is longer than {MAX_SERVICE_URL_LEN} bytes",
            service_url.len()
        )));
    }
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

/// The origin of a parsed http(s) URL: `scheme://host[:port]`, default port left out.
pub(crate) fn origin_of_url(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Whether the URL's host is a loopback host: `127.0.0.0/8`, `::1` or `localhost`.
///
/// ```
/// use botwright_botframework::trust::is_loopback_url;
/// use url::Url;
/// assert!(is_loopback_url(&Url::parse("http://127.0.0.2:3978/").unwrap()));
/// assert!(is_loopback_url(&Url::parse("http://[::1]:3978/").unwrap()));
/// assert!(is_loopback_url(&Url::parse("http://LOCALHOST/").unwrap()));
/// assert!(!is_loopback_url(&Url::parse("http://localhost.evil.example/").unwrap()));
/// assert!(!is_loopback_url(&Url::parse("http://10.0.0.1/").unwrap()));
/// ```
pub fn is_loopback_url(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The trust key (origin) of a service URL.
///
/// ```
/// use botwright_botframework::trust::service_url_origin;
/// assert_eq!(service_url_origin("https://SMBA.example:443/emea/").unwrap(), "https://smba.example");
/// assert_eq!(service_url_origin("http://127.0.0.1:3978").unwrap(), "http://127.0.0.1:3978");
/// assert!(service_url_origin("ftp://x").is_err());
/// ```
pub fn service_url_origin(service_url: &str) -> Result<String, InvalidServiceUrl> {
    parse_service_url(service_url).map(|url| origin_of_url(&url))
}

/// The trust key (origin) of a configured entry: a URL, or `host` / `host:port` meaning https.
///
/// ```
/// use botwright_botframework::trust::origin_of_entry;
/// assert_eq!(origin_of_entry("smba.example").unwrap(), "https://smba.example");
/// assert_eq!(origin_of_entry("http://127.0.0.1:3978/api").unwrap(), "http://127.0.0.1:3978");
/// ```
pub fn origin_of_entry(entry: &str) -> Result<String, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidTrustedServiceUrl { entry: entry.to_owned(), reason };
    let trimmed = entry.trim();
    if trimmed.contains("://") {
        service_url_origin(trimmed).map_err(|e| invalid(e.0))
    } else {
        let url = parse_service_url(&format!("https://{trimmed}")).map_err(|e| invalid(e.0))?;
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("expected a host, host:port or URL".into()));
        }
        Ok(origin_of_url(&url))
    }
}

/// The set of service URL origins the bot's token may be sent to.
///
/// ```
/// use botwright::storage::MemoryStore;
/// use botwright_botframework::TrustedHosts;
/// use std::sync::Arc;
/// # tokio_test::block_on(async {
/// let store = Arc::new(MemoryStore::new());
/// let hosts = TrustedHosts::new(["https://smba.example".to_owned()], store.clone());
/// assert!(hosts.is_trusted("https://smba.example").await.unwrap());
/// assert!(!hosts.is_trusted("http://smba.example").await.unwrap());
/// hosts.trust("https://emea.example").await.unwrap();
/// // A new instance over the same store (a restart) still trusts it.
/// let again = TrustedHosts::new(Vec::<String>::new(), store);
/// assert!(again.is_trusted("https://emea.example").await.unwrap());
/// assert!(!again.is_trusted("https://evil.example").await.unwrap());
/// # });
/// ```
#[derive(Debug)]
pub struct TrustedHosts {
    configured: HashSet<String>,
    seen: RwLock<HashSet<String>>,
    storage: OnceLock<Arc<dyn Storage>>,
}

impl TrustedHosts {
    /// Trusts the `configured` origins (already normalized, see [`service_url_origin`]) and
    /// those recorded in `storage`.
    pub fn new(configured: impl IntoIterator<Item = String>, storage: Arc<dyn Storage>) -> Self {
        let hosts = TrustedHosts::in_memory(configured);
        hosts.attach(storage);
        hosts
    }

    /// Trusts the `configured` origins, and those learned from requests in memory only until a
    /// store is [attached](Self::attach).
    pub fn in_memory(configured: impl IntoIterator<Item = String>) -> Self {
        TrustedHosts {
            configured: configured.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
            seen: RwLock::new(HashSet::new()),
            storage: OnceLock::new(),
        }
    }

    /// Keeps learned origins in `storage` from now on (and trusts those recorded there). The
    /// first store attached stays; a later one is ignored.
    pub fn attach(&self, storage: Arc<dyn Storage>) {
        if self.storage.set(storage).is_err() {
            tracing::debug!("trusted hosts already have a store; keeping the first one");
        }
    }

    /// Whether `origin` is one of the configured origins (not those learned from requests).
    pub fn is_configured(&self, origin: &str) -> bool {
        self.configured.contains(origin)
    }

    /// Whether `origin` (a trust key, see [`service_url_origin`]) is trusted.
    pub async fn is_trusted(&self, origin: &str) -> Result<bool, StorageError> {
        if self.configured.contains(origin) || self.seen_contains(origin) {
            return Ok(true);
        }
        let Some(key) = document_key(origin) else { return Ok(false) };
        let Some(storage) = self.storage.get() else { return Ok(false) };
        let found = storage.read(&key).await?.is_some();
        if found {
            self.remember(origin);
        }
        Ok(found)
    }

    /// Records `origin` as trusted, in memory and in the store.
    pub async fn trust(&self, origin: &str) -> Result<(), StorageError> {
        if self.configured.contains(origin) || self.seen_contains(origin) {
            return Ok(());
        }
        let Some(key) = document_key(origin) else {
            tracing::warn!(%origin, "not recording a trusted origin that is not an http(s) origin");
            return Ok(());
        };
        let seconds =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        let json = serde_json::json!({ "origin": origin, "trustedAt": seconds }).to_string();
        let Some(storage) = self.storage.get() else {
            self.remember(origin);
            return Ok(());
        };
        match storage.write(&key, &json, Precondition::Absent).await {
            // Another request or instance recorded it first: just as good.
            Ok(_) | Err(StorageError::Conflict { .. }) => {
                self.remember(origin);
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    fn seen_contains(&self, origin: &str) -> bool {
        self.seen.read().map(|seen| seen.contains(origin)).unwrap_or(false)
    }

    fn remember(&self, origin: &str) {
        if let Ok(mut seen) = self.seen.write() {
            seen.insert(origin.to_owned());
        }
    }
}

/// The document recording `origin`: `trusted-host/<host[:port]>` for https (as earlier versions
/// wrote it), `trusted-origin/<origin>` for http; `None` for anything else.
fn document_key(origin: &str) -> Option<String> {
    if let Some(host) = origin.strip_prefix("https://") {
        Some(format!("{TRUSTED_HOST_PREFIX}{host}"))
    } else if origin.starts_with("http://") {
        Some(format!("{TRUSTED_ORIGIN_PREFIX}{origin}"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use botwright::storage::MemoryStore;

    #[test]
    fn entries_normalize() {
        assert_eq!(origin_of_entry("SMBA.example").unwrap(), "https://smba.example");
        assert_eq!(origin_of_entry("127.0.0.1:443").unwrap(), "https://127.0.0.1");
        assert_eq!(origin_of_entry("127.0.0.1:8443").unwrap(), "https://127.0.0.1:8443");
        assert_eq!(origin_of_entry("[::1]:8443").unwrap(), "https://[::1]:8443");
        assert_eq!(origin_of_entry("https://x.example:8443/emea/").unwrap(), "https://x.example:8443");
        assert_eq!(origin_of_entry("https://x.example:443/").unwrap(), "https://x.example");
        assert_eq!(origin_of_entry("http://x.example:80/").unwrap(), "http://x.example");
        assert_eq!(origin_of_entry("http://127.0.0.1:3978").unwrap(), "http://127.0.0.1:3978");
        assert!(origin_of_entry("x.example/path").is_err());
        assert!(origin_of_entry("x.example?q").is_err());
        assert!(origin_of_entry("user@x.example").is_err());
        assert!(origin_of_entry("mailto://x").is_err());
    }

    #[test]
    fn service_urls_are_checked() {
        assert!(parse_service_url("not a url").is_err());
        assert!(parse_service_url("file:///etc/passwd").is_err());
        assert!(parse_service_url("https://user:pw@x.example/").is_err());
        assert!(parse_service_url(&format!("https://x.example/{}", "a".repeat(MAX_SERVICE_URL_LEN))).is_err());
        assert_eq!(service_url_origin("http://LOCALHOST:3978/").unwrap(), "http://localhost:3978");
    }

    /// A document written by an earlier version (`trusted-host/<host>`) trusts the https origin,
    /// and never the http one on the same host.
    #[tokio::test]
    async fn stored_hosts_are_https_origins_only() {
        let store = Arc::new(MemoryStore::new());
        store.write("trusted-host/smba.example", r#"{"host":"smba.example"}"#, Precondition::Absent).await.unwrap();
        let hosts = TrustedHosts::new(Vec::<String>::new(), store.clone());
        assert!(hosts.is_trusted("https://smba.example").await.unwrap());
        assert!(!hosts.is_trusted("http://smba.example").await.unwrap());
        hosts.trust("http://127.0.0.1:3978").await.unwrap();
        assert!(store.read("trusted-origin/http://127.0.0.1:3978").await.unwrap().is_some());
        assert!(store.read("trusted-host/127.0.0.1:3978").await.unwrap().is_none());
        let again = TrustedHosts::new(Vec::<String>::new(), store);
        assert!(again.is_trusted("http://127.0.0.1:3978").await.unwrap());
        assert!(!again.is_trusted("https://127.0.0.1:3978").await.unwrap());
    }
}
