//! Signing keys: OpenID metadata, then its `jwks_uri`, cached by key id.
//!
//! Keys are fetched on first use and again when older than the configured maximum age. A token
//! signed with a key id not in the cache forces a refresh, at most once per cool-down period
//! (default one minute) and single-flight, so a stream of forged key ids cannot make the bot
//! hammer the identity service. When a refresh fails, the keys already known stay in use.

use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// One signing key and the channels it is endorsed for.
#[derive(Clone)]
pub(crate) struct SigningKey {
    pub(crate) key: DecodingKey,
    /// The channel ids this key may sign for; `None` when the key carries no endorsements.
    pub(crate) endorsements: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Metadata {
    jwks_uri: String,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    #[serde(default)]
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    endorsements: Option<Vec<String>>,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, Arc<SigningKey>>,
    /// When keys were last fetched successfully.
    fetched_at: Option<Instant>,
    /// When a fetch was last tried (successful or not).
    attempted_at: Option<Instant>,
}

/// The keys behind one OpenID metadata URL.
pub(crate) struct KeySource {
    client: reqwest::Client,
    metadata_url: String,
    cooldown: Duration,
    max_age: Duration,
    cache: RwLock<Cache>,
    refresh: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
    max_response_bytes: usize,
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySource").field("metadata_url", &self.metadata_url).finish_non_exhaustive()
    }
}

impl KeySource {
    pub(crate) fn new(
        client: reqwest::Client,
        metadata_url: String,
        cooldown: Duration,
        max_age: Duration,
        max_response_bytes: usize,
    ) -> Self {
        KeySource {
            max_response_bytes,
            client,
            metadata_url,
            cooldown,
            max_age,
            cache: RwLock::new(Cache::default()),
            refresh: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
        }
    }

    /// How many times keys were fetched (for diagnostics and tests).
    pub(crate) fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The key with id `kid`, refreshing the cache when needed and allowed; `Ok(None)` when the
    /// key is not known.
    pub(crate) async fn key(&self, kid: &str) -> Result<Option<Arc<SigningKey>>, String> {
        if let Some(ready) = self.cached(kid) {
            return ready;
        }
        let started = Instant::now();
        let _flight = self.refresh.lock().await;
        // Another caller may have refreshed while this one waited: use its result.
        let refreshed_meanwhile =
            self.cache.read().ok().and_then(|c| c.attempted_at).is_some_and(|attempt| attempt >= started);
        if !refreshed_meanwhile {
            if let Some(ready) = self.cached(kid) {
                return ready;
            }
            self.refresh_keys().await;
        }
        let cache = self.cache.read().map_err(|_| "the key cache is poisoned".to_owned())?;
        if cache.fetched_at.is_none() {
            return Err(format!("the signing keys from {} could not be fetched", self.metadata_url));
        }
        Ok(cache.keys.get(kid).cloned())
    }

    /// The answer from the cache alone, or `None` when a fetch is due: keys never fetched, or
    /// keys too old or the key id unknown and the cool-down since the last attempt over.
    fn cached(&self, kid: &str) -> Option<Result<Option<Arc<SigningKey>>, String>> {
        let cache = self.cache.read().ok()?;
        let fetched_at = cache.fetched_at?;
        let found = cache.keys.get(kid).cloned();
        let stale = fetched_at.elapsed() >= self.max_age;
        let allowed = cache.attempted_at.is_none_or(|at| at.elapsed() >= self.cooldown);
        if (stale || found.is_none()) && allowed { None } else { Some(Ok(found)) }
    }

    async fn refresh_keys(&self) {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let result = self.fetch().await;
        let Ok(mut cache) = self.cache.write() else { return };
        cache.attempted_at = Some(Instant::now());
        match result {
            Ok(keys) => {
                tracing::debug!(url = %self.metadata_url, count = keys.len(), "fetched signing keys");
                cache.keys = keys;
                cache.fetched_at = Some(Instant::now());
            }
            Err(error) => tracing::warn!(url = %self.metadata_url, %error, "signing keys could not be fetched"),
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<SigningKey>>, String> {
        let metadata: Metadata = self.get_json(&self.metadata_url).await?;
        let set: JwkSet = self.get_json(&metadata.jwks_uri).await?;
        let mut keys = HashMap::with_capacity(set.keys.len());
        for jwk in set.keys {
            let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else { continue };
            if jwk.kty != "RSA" {
                continue;
            }
            match DecodingKey::from_rsa_components(&n, &e) {
                Ok(key) => {
                    keys.insert(kid, Arc::new(SigningKey { key, endorsements: jwk.endorsements }));
                }
                Err(error) => tracing::warn!(%kid, %error, "skipping an unusable signing key"),
            }
        }
        Ok(keys)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let response = self.client.get(url).send().await.map_err(|e| format!("GET {url} failed: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("GET {url} answered {status}"));
        }
        let body = crate::limits::read_capped(response, self.max_response_bytes)
            .await
            .map_err(|e| format!("GET {url} failed: {e}"))?;
        if body.truncated {
            return Err(format!("GET {url} answered more than {} bytes", self.max_response_bytes));
        }
        serde_json::from_slice(&body.bytes).map_err(|e| format!("GET {url} answered unreadable JSON: {e}"))
    }
}
