//! The connector client: the Bot Framework's v3 REST API for sending activities.
//!
//! [`ConnectorClient`] replies to activities, sends to conversations, updates and deletes
//! activities, creates conversations and lists members, on any channel's `serviceUrl` (with or
//! without a trailing slash; path segments are percent-encoded as `encodeURIComponent` does).
//! Every answer outside 2xx is a [`ConnectorError::Status`] with the status, the start of the
//! channel's error body (at most [`MAX_ERROR_TEXT_BYTES`]) and its `Retry-After` (at most
//! [`MAX_RETRY_AFTER`]): nothing is reported as success that was not one.
//!
//! A channel is not trusted to behave: answers are read up to
//! [`BotFrameworkConfig::max_response_bytes`](crate::BotFrameworkConfig::max_response_bytes)
//! (a larger 2xx answer is [`ConnectorError::ResponseTooLarge`]), and a request is cut off after
//! the configured connect and request timeouts ([`ConnectorError::Unreachable`] with `timeout`).
//!
//! With credentials, each call carries the bot's token, but only to a trusted service URL origin
//! (see [`TrustedHosts`]), and only over `https` (or `http` to a loopback host): a call to another
//! origin fails with [`ConnectorError::UntrustedHost`], one over plain `http` elsewhere with
//! [`ConnectorError::InsecureServiceUrl`], instead of leaking the token. A 401 drops the cached
//! token and retries once with a new one.
//!
//! Without credentials (development mode, where anyone may post activities naming any service
//! URL), the connector talks only to loopback service URLs and the configured trusted ones; any
//! other is refused with [`ConnectorError::NotAllowedInDevelopment`], so the endpoint cannot be
//! used to make the bot send requests to arbitrary hosts.

use crate::limits::{MAX_ERROR_TEXT_BYTES, error_text, read_capped};
use crate::token::{AppCredentials, TokenError};
use crate::trust::{TrustedHosts, is_loopback_url, origin_of_url, parse_service_url};
use axum::body::Bytes;
use botwright::activity::{Activity, ChannelAccount};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use url::Url;

/// What `encodeURIComponent` leaves alone: letters, digits and `-_.!~*'()`.
const COMPONENT: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'!').remove(b'~').remove(b'*').remove(b'\'');
const COMPONENT_SET: &AsciiSet = &COMPONENT.remove(b'(').remove(b')');

/// Why a connector call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectorError {
    /// The service URL is not an absolute http(s) URL.
    #[error("{0}")]
    InvalidServiceUrl(String),
    /// The service URL's origin is not trusted with the bot's token.
    #[error("service URL origin {host} is not trusted with the bot's token")]
    UntrustedHost {
        /// The origin (`scheme://host[:port]`).
        host: String,
    },
    /// The service URL is plain `http` to a host that is not loopback: the bot's token would
    /// travel in clear text, so it is not sent (whether or not the origin is trusted).
    #[error(
        "service URL origin {origin} is plain http: the bot's token is only sent over https (or to a loopback host)"
    )]
    InsecureServiceUrl {
        /// The origin (`http://host[:port]`).
        origin: String,
    },
    /// Without app credentials (development mode) the bot only talks to loopback service URLs
    /// and the configured trusted ones; this one is neither.
    #[error(
        "service URL origin {origin} is refused in development mode (no app credentials): only loopback service \
         URLs and those in BOTWRIGHT_TRUSTED_SERVICE_URLS are called; add it there, or set MICROSOFT_APP_ID and \
         MICROSOFT_APP_PASSWORD"
    )]
    NotAllowedInDevelopment {
        /// The origin (`scheme://host[:port]`).
        origin: String,
    },
    /// A 2xx answer was larger than the configured limit; reading stopped there.
    #[error("{method} to {url} answered more than {limit} bytes")]
    ResponseTooLarge {
        /// The HTTP method.
        method: String,
        /// The URL.
        url: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The store of trusted hosts could not be read.
    #[error("the trusted hosts could not be read: {0}")]
    TrustStore(String),
    /// The bot's token could not be had.
    #[error("the bot's token could not be had: {0}")]
    Token(#[from] TokenError),
    /// The service could not be reached, or did not answer in time.
    #[error("{method} to {url} failed: {reason}")]
    Unreachable {
        /// The HTTP method.
        method: String,
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
        /// Whether it was a timeout.
        timeout: bool,
    },
    /// The service answered outside 2xx.
    #[error("{method} to {url} failed with status {status}: {body}")]
    Status {
        /// The HTTP method.
        method: String,
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the channel's error body (at most [`MAX_ERROR_TEXT_BYTES`], cut at a
        /// char boundary).
        body: String,
        /// The `Retry-After` the service sent, as a duration from now.
        retry_after: Option<Duration>,
    },
    /// The activity or parameters could not be serialized to JSON.
    #[error("the request body cannot be serialized: {0}")]
    Serialization(String),
    /// A 2xx answer did not hold what the call needs.
    #[error("{method} to {url} answered something unexpected: {reason}")]
    InvalidResponse {
        /// The HTTP method.
        method: String,
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

impl ConnectorError {
    /// The HTTP status, when the service answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ConnectorError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The channel's error body parsed as the Bot Framework's `ErrorResponse`, when it is one.
    pub fn error_body(&self) -> Option<ErrorBody> {
        match self {
            ConnectorError::Status { body, .. } => {
                serde_json::from_str::<ErrorResponse>(body).ok().map(|response| response.error)
            }
            _ => None,
        }
    }
}

/// The Bot Framework's error body: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error.
    pub error: ErrorBody,
}

/// The error inside an [`ErrorResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A machine-readable code, e.g. `BadArgument`.
    #[serde(default)]
    pub code: String,
    /// What went wrong.
    #[serde(default)]
    pub message: String,
}

/// The connector's answer to a send: the id of the new activity, when the channel gives one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceResponse {
    /// The id of the activity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// What a new conversation is made of (`POST /v3/conversations`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationParameters {
    /// Whether it is a group conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_group: Option<bool>,
    /// The bot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<ChannelAccount>,
    /// The members to add (usually the one user).
    #[serde(default)]
    pub members: Vec<ChannelAccount>,
    /// The conversation's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_name: Option<String>,
    /// The tenant (Teams).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// A first activity to post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
    /// Channel-specific data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_data: Option<Value>,
}

/// The connector's answer to a new conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationResourceResponse {
    /// The conversation's id.
    pub id: String,
    /// The service URL to use for it, when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_url: Option<String>,
    /// The id of the first activity, when one was posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_id: Option<String>,
}

/// A client for the connector REST API (v3), sharing one connection pool.
///
/// ```no_run
/// use botwright::{Activity, storage::MemoryStore};
/// use botwright_botframework::{BotFramework, BotFrameworkConfig};
/// use std::sync::Arc;
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let bf = BotFramework::from_env()?;
/// let sent = bf
///     .connector()
///     .send_to_conversation("https://smba.trafficmanager.net/emea/", "19:abc@thread.skype", &Activity::message("hi"))
///     .await?;
/// println!("new activity {:?}", sent.id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ConnectorClient {
    client: reqwest::Client,
    credentials: Option<Arc<AppCredentials>>,
    trusted: Arc<TrustedHosts>,
    service_urls: Arc<ServiceUrls>,
    in_flight: Arc<tokio::sync::Semaphore>,
    max_response_bytes: usize,
}

impl ConnectorClient {
    /// The trusted service URL origins.
    pub fn trusted_hosts(&self) -> &Arc<TrustedHosts> {
        &self.trusted
    }

    /// A client over `client`; with `credentials`, calls carry the bot's token to `trusted` hosts
    /// only. `client` should follow no redirects (`reqwest::redirect::Policy::none()`, as
    /// [`BotFramework`](crate::BotFramework)'s does), so that a 3xx is reported, not followed.
    pub fn new(client: reqwest::Client, credentials: Option<Arc<AppCredentials>>, trusted: Arc<TrustedHosts>) -> Self {
        ConnectorClient::with_limit(
            client,
            credentials,
            trusted,
            crate::limits::DEFAULT_MAX_REQUESTS_IN_FLIGHT,
            crate::limits::DEFAULT_MAX_RESPONSE_BYTES,
        )
    }

    /// The same client, reading answers of at most `bytes` bytes (see
    /// [`BotFrameworkConfig::max_response_bytes`](crate::BotFrameworkConfig::max_response_bytes)).
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// `{serviceUrl}/v3/{segments...}`, from the service URL parsed once for all calls.
    fn endpoint(&self, service_url: &str, segments: &[&str]) -> Result<Url, ConnectorError> {
        endpoint_from(self.service_urls.base(service_url)?, service_url, segments)
    }

    /// Like [`new`](Self::new), with at most `max_in_flight` requests in flight at once and
    /// answers of at most `max_response_bytes`.
    pub(crate) fn with_limit(
        client: reqwest::Client,
        credentials: Option<Arc<AppCredentials>>,
        trusted: Arc<TrustedHosts>,
        max_in_flight: usize,
        max_response_bytes: usize,
    ) -> Self {
        let in_flight = Arc::new(tokio::sync::Semaphore::new(max_in_flight.max(1)));
        ConnectorClient { client, credentials, trusted, service_urls: Arc::default(), in_flight, max_response_bytes }
    }

    /// Replies to activity `reply_to_id`:
    /// `POST {serviceUrl}/v3/conversations/{conversation}/activities/{replyToId}`.
    pub async fn reply_to_activity(
        &self,
        service_url: &str,
        conversation_id: &str,
        reply_to_id: &str,
        activity: &Activity,
    ) -> Result<ResourceResponse, ConnectorError> {
        let url = self.endpoint(service_url, &["conversations", conversation_id, "activities", reply_to_id])?;
        let body = self.call(Method::POST, url, Some(to_json(activity)?)).await?;
        Ok(resource_response(&body))
    }

    /// Sends to a conversation: `POST {serviceUrl}/v3/conversations/{conversation}/activities`.
    pub async fn send_to_conversation(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity: &Activity,
    ) -> Result<ResourceResponse, ConnectorError> {
        let url = self.endpoint(service_url, &["conversations", conversation_id, "activities"])?;
        let body = self.call(Method::POST, url, Some(to_json(activity)?)).await?;
        Ok(resource_response(&body))
    }

    /// Replaces an activity: `PUT {serviceUrl}/v3/conversations/{conversation}/activities/{id}`.
    pub async fn update_activity(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity_id: &str,
        activity: &Activity,
    ) -> Result<ResourceResponse, ConnectorError> {
        let url = self.endpoint(service_url, &["conversations", conversation_id, "activities", activity_id])?;
        let body = self.call(Method::PUT, url, Some(to_json(activity)?)).await?;
        Ok(resource_response(&body))
    }

    /// Deletes an activity: `DELETE {serviceUrl}/v3/conversations/{conversation}/activities/{id}`.
    pub async fn delete_activity(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity_id: &str,
    ) -> Result<(), ConnectorError> {
        let url = self.endpoint(service_url, &["conversations", conversation_id, "activities", activity_id])?;
        self.call(Method::DELETE, url, None).await?;
        Ok(())
    }

    /// Creates a conversation (first contact with a user): `POST {serviceUrl}/v3/conversations`.
    pub async fn create_conversation(
        &self,
        service_url: &str,
        parameters: &ConversationParameters,
    ) -> Result<ConversationResourceResponse, ConnectorError> {
        let url = self.endpoint(service_url, &["conversations"])?;
        let shown = url.to_string();
        let body = self.call(Method::POST, url, Some(to_json(parameters)?)).await?;
        serde_json::from_str(&body).map_err(|e| ConnectorError::InvalidResponse {
            method: "POST".into(),
            url: shown,
            reason: format!("not a conversation resource: {e}"),
        })
    }

    /// Lists a conversation's members: `GET {serviceUrl}/v3/conversations/{conversation}/members`.
    pub async fn get_conversation_members(
        &self,
        service_url: &str,
        conversation_id: &str,
    ) -> Result<Vec<ChannelAccount>, ConnectorError> {
        let url = self.endpoint(service_url, &["conversations", conversation_id, "members"])?;
        let shown = url.to_string();
        let body = self.call(Method::GET, url, None).await?;
        serde_json::from_str(&body).map_err(|e| ConnectorError::InvalidResponse {
            method: "GET".into(),
            url: shown,
            reason: format!("not a list of members: {e}"),
        })
    }

    /// Sends one request; with credentials, checks the origin and adds the token, and on a 401
    /// retries once with a new token; without, calls only loopback and trusted origins. Returns
    /// the body of a 2xx answer.
    async fn call(&self, method: Method, url: Url, body: Option<Bytes>) -> Result<String, ConnectorError> {
        let origin = origin_of_url(&url);
        let loopback = is_loopback_url(&url);
        let Some(credentials) = &self.credentials else {
            if !loopback && !self.is_trusted(&origin).await? {
                return Err(ConnectorError::NotAllowedInDevelopment { origin });
            }
            return self.send(&method, &url, body, None).await;
        };
        if url.scheme() != "https" && !loopback {
            return Err(ConnectorError::InsecureServiceUrl { origin });
        }
        if !self.is_trusted(&origin).await? {
            return Err(ConnectorError::UntrustedHost { host: origin });
        }
        let token = credentials.token().await?;
        match self.send(&method, &url, body.clone(), Some(&token)).await {
            Err(ConnectorError::Status { status: 401, .. }) => {
                tracing::info!(url = %url, "the connector refused the bot's token; fetching a new one");
                credentials.invalidate(&token);
                let token = credentials.token().await?;
                self.send(&method, &url, body, Some(&token)).await
            }
            other => other,
        }
    }

    async fn is_trusted(&self, origin: &str) -> Result<bool, ConnectorError> {
        self.trusted.is_trusted(origin).await.map_err(|error| ConnectorError::TrustStore(error.to_string()))
    }

    async fn send(
        &self,
        method: &Method,
        url: &Url,
        body: Option<Bytes>,
        token: Option<&str>,
    ) -> Result<String, ConnectorError> {
        // Held until the answer is read, so the connection is back in the pool before the next
        // request may start. The semaphore is never closed, so acquiring cannot fail.
        let _permit = self.in_flight.acquire().await;
        let mut request = self.client.request(method.clone(), url.clone());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.header(header::CONTENT_TYPE, "application/json").body(body);
        }
        let unreachable = |e: reqwest::Error| ConnectorError::Unreachable {
            method: method.to_string(),
            url: url.to_string(),
            timeout: e.is_timeout(),
            reason: error_chain(&e),
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        if status.is_success() {
            let read = read_capped(response, self.max_response_bytes).await.map_err(unreachable)?;
            if read.truncated {
                return Err(ConnectorError::ResponseTooLarge {
                    method: method.to_string(),
                    url: url.to_string(),
                    limit: self.max_response_bytes,
                });
            }
            String::from_utf8(read.bytes).map_err(|_| ConnectorError::InvalidResponse {
                method: method.to_string(),
                url: url.to_string(),
                reason: "the answer is not UTF-8".into(),
            })
        } else {
            // Only the start of an error body is kept: no more is read.
            let read = read_capped(response, MAX_ERROR_TEXT_BYTES.min(self.max_response_bytes)).await;
            let body = match read {
                Ok(read) => error_text(&read.bytes, read.truncated),
                Err(e) => format!("(the body could not be read: {})", error_chain(&e)),
            };
            Err(ConnectorError::Status {
                method: method.to_string(),
                url: url.to_string(),
                status: status.as_u16(),
                body,
                retry_after: if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                    retry_after
                } else {
                    None
                },
            })
        }
    }
}

/// The most service URLs kept parsed; a bot talks to a handful (one per channel and region).
const MAX_SERVICE_URLS: usize = 256;

/// Service URLs already parsed and checked, so that a reply does not parse its service URL again.
#[derive(Debug, Default)]
struct ServiceUrls {
    parsed: RwLock<HashMap<String, Url>>,
}

impl ServiceUrls {
    /// The parsed service URL, without query or fragment.
    fn base(&self, service_url: &str) -> Result<Url, ConnectorError> {
        if let Some(url) = self.parsed.read().ok().and_then(|parsed| parsed.get(service_url).cloned()) {
            return Ok(url);
        }
        let url = base_url(service_url)?;
        if let Ok(mut parsed) = self.parsed.write() {
            if parsed.len() >= MAX_SERVICE_URLS {
                parsed.clear();
            }
            parsed.insert(service_url.to_owned(), url.clone());
        }
        Ok(url)
    }
}

/// Parses and checks a service URL, and drops its query and fragment.
fn base_url(service_url: &str) -> Result<Url, ConnectorError> {
    let mut url = parse_service_url(service_url).map_err(|e| ConnectorError::InvalidServiceUrl(e.0))?;
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// `{serviceUrl}/v3/{segments...}`, each segment percent-encoded.
#[cfg(test)]
fn endpoint(service_url: &str, segments: &[&str]) -> Result<Url, ConnectorError> {
    endpoint_from(base_url(service_url)?, service_url, segments)
}

/// `{base}/v3/{segments...}`, each segment percent-encoded; `base` is `service_url` parsed.
fn endpoint_from(mut url: Url, service_url: &str, segments: &[&str]) -> Result<Url, ConnectorError> {
    let mut path = String::with_capacity(url.path().len() + 64);
    path.push_str(url.path().trim_end_matches('/'));
    path.push_str("/v3");
    for segment in segments {
        if segment.is_empty() {
            return Err(ConnectorError::InvalidServiceUrl(format!(
                "an empty path segment for {service_url:?} (missing conversation or activity id)"
            )));
        }
        path.push('/');
        path.extend(utf8_percent_encode(segment, COMPONENT_SET));
    }
    url.set_path(&path);
    Ok(url)
}

/// The JSON body, in a buffer that the retry after a 401 shares instead of copying.
fn to_json(value: &impl Serialize) -> Result<Bytes, ConnectorError> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|e| ConnectorError::Serialization(e.to_string()))
}

/// A send's answer, leniently: the activity was accepted, so a body without `id` is no error.
fn resource_response(body: &str) -> ResourceResponse {
    if body.trim().is_empty() {
        return ResourceResponse::default();
    }
    serde_json::from_str(body).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the connector accepted an activity but its answer has no readable id");
        ResourceResponse::default()
    })
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The longest `Retry-After` [`parse_retry_after`] gives: one day. A longer one is clamped to it
/// (the delivery engine separately refuses to wait longer than its own limit).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Reads a `Retry-After` value: delay seconds or an HTTP date (a date in the past means now),
/// at most [`MAX_RETRY_AFTER`]. Anything else (negative, fractional, not a date) is `None`.
///
/// ```
/// use botwright_botframework::connector::{MAX_RETRY_AFTER, parse_retry_after};
/// use std::time::{Duration, SystemTime};
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
/// assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
/// assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::ZERO));
/// assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now), Some(Duration::from_secs(60)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// assert_eq!(parse_retry_after("99999999999999999999", now), Some(MAX_RETRY_AFTER));
/// assert_eq!(parse_retry_after("-5", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: a number of seconds, however long (too large for u64 is clamped too).
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_with_and_without_trailing_slash() {
        let a = endpoint("https://smba.example/emea/", &["conversations", "c1", "activities"]).unwrap();
        let b = endpoint("https://smba.example/emea", &["conversations", "c1", "activities"]).unwrap();
        assert_eq!(a.as_str(), "https://smba.example/emea/v3/conversations/c1/activities");
        assert_eq!(a, b);
        let root = endpoint("http://127.0.0.1:3978", &["conversations"]).unwrap();
        assert_eq!(root.as_str(), "http://127.0.0.1:3978/v3/conversations");
    }

    #[test]
    fn segments_are_encoded() {
        let url =
            endpoint("https://x.example/", &["conversations", "19:a@thread.skype;messageid=1", "members"]).unwrap();
        assert_eq!(url.path(), "/v3/conversations/19%3Aa%40thread.skype%3Bmessageid%3D1/members");
        let url = endpoint("https://x.example/", &["conversations", "a/../b?c#d e"]).unwrap();
        assert_eq!(url.path(), "/v3/conversations/a%2F..%2Fb%3Fc%23d%20e");
    }

    #[test]
    fn a_service_url_is_parsed_once() {
        let urls = ServiceUrls::default();
        let service_url = "https://SMBA.example/emea/?x=1#top";
        let base = urls.base(service_url).unwrap();
        assert_eq!(base.as_str(), "https://smba.example/emea/");
        assert_eq!(urls.parsed.read().unwrap().len(), 1);
        assert_eq!(urls.base(service_url).unwrap(), base);
        assert_eq!(urls.parsed.read().unwrap().len(), 1);
        let url = endpoint_from(base, service_url, &["conversations", "c1"]).unwrap();
        assert_eq!(url, endpoint(service_url, &["conversations", "c1"]).unwrap());
        assert_eq!(url.as_str(), "https://smba.example/emea/v3/conversations/c1");
        // A URL that cannot be used is refused every time, and not kept.
        assert!(matches!(urls.base("ftp://x/"), Err(ConnectorError::InvalidServiceUrl(_))));
        assert_eq!(urls.parsed.read().unwrap().len(), 1);
        for n in 0..MAX_SERVICE_URLS + 1 {
            urls.base(&format!("https://x{n}.example/")).unwrap();
        }
        assert!(urls.parsed.read().unwrap().len() <= MAX_SERVICE_URLS);
    }

    #[test]
    fn bad_service_urls() {
        assert!(matches!(endpoint("ftp://x/", &["conversations"]), Err(ConnectorError::InvalidServiceUrl(_))));
        assert!(matches!(endpoint("", &["conversations"]), Err(ConnectorError::InvalidServiceUrl(_))));
        assert!(matches!(endpoint("https://x/", &["conversations", ""]), Err(ConnectorError::InvalidServiceUrl(_))));
    }
}
