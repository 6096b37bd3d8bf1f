//! Test harness: a local stand-in for the Bot Framework's identity service (real RSA keys,
//! OpenID metadata, JWKS, a token endpoint), a local connector stand-in, and a bot server built
//! with the crate under test, all on 127.0.0.1 with port 0.
#![allow(dead_code, unreachable_pub)]

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use botwright::storage::MemoryStore;
use botwright::{Activity, InvokeResponse, Storage, TurnOutcome, async_trait};
use botwright_botframework::{ActivityHandler, BotFramework, BotFrameworkConfig, HandlerError, auth::CHANNEL_ISSUER};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

pub const APP_ID: &str = "11111111-2222-3333-4444-555555555555";
pub const APP_PASSWORD: &str = "s3cret";

/// A plain HTTP client for the tests (installs the rustls provider reqwest needs).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Starts `router` on 127.0.0.1:0 and returns its address.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    addr
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// An RSA key pair from the fixtures.
#[derive(Clone)]
pub struct TestKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub n: String,
    pub e: String,
}

impl TestKey {
    pub fn load(name: &str) -> TestKey {
        let path = format!("{}/tests/fixtures/{name}.pem", env!("CARGO_MANIFEST_DIR"));
        let pem = std::fs::read_to_string(path).unwrap();
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap();
        let der = private.to_pkcs1_der().unwrap();
        TestKey {
            kid: name.to_owned(),
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            n: URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
            e: URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
        }
    }

    /// This key as a JWK, with `endorsements` when given.
    pub fn jwk(&self, endorsements: Option<&[&str]>) -> Value {
        let mut jwk = json!({ "kty": "RSA", "use": "sig", "kid": self.kid, "n": self.n, "e": self.e });
        if let Some(list) = endorsements {
            jwk["endorsements"] = json!(list);
        }
        jwk
    }

    /// A JWT with `claims`, signed by this key, with this key's id.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(claims, &self.kid)
    }

    /// A JWT with `claims`, signed by this key, claiming key id `kid`.
    pub fn sign_as(&self, claims: &Value, kid: &str) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

/// Claims of a valid channel token for `service_url`.
pub fn channel_claims(service_url: &str) -> Value {
    json!({
        "iss": CHANNEL_ISSUER,
        "aud": APP_ID,
        "exp": now() + 3600,
        "nbf": now() - 60,
        "serviceurl": service_url,
    })
}

/// The identity service stand-in: OpenID metadata and JWKS for the channel service and the
/// emulator, and an OAuth2 token endpoint, with request counters.
#[derive(Clone)]
pub struct IdentityService {
    pub addr: SocketAddr,
    pub state: Arc<IdentityState>,
}

pub struct IdentityState {
    pub channel_keys: Mutex<Vec<Value>>,
    pub emulator_keys: Mutex<Vec<Value>>,
    pub metadata_requests: AtomicUsize,
    pub jwks_requests: AtomicUsize,
    pub token_requests: AtomicUsize,
    pub token_forms: Mutex<Vec<String>>,
    pub addr: Mutex<Option<SocketAddr>>,
}

impl IdentityService {
    pub async fn start(channel_keys: Vec<Value>, emulator_keys: Vec<Value>) -> IdentityService {
        let state = Arc::new(IdentityState {
            channel_keys: Mutex::new(channel_keys),
            emulator_keys: Mutex::new(emulator_keys),
            metadata_requests: AtomicUsize::new(0),
            jwks_requests: AtomicUsize::new(0),
            token_requests: AtomicUsize::new(0),
            token_forms: Mutex::new(Vec::new()),
            addr: Mutex::new(None),
        });
        let router = Router::new()
            .route("/v1/.well-known/openidconfiguration", get(channel_metadata))
            .route("/channel/keys", get(channel_jwks))
            .route("/emulator/.well-known/openid-configuration", get(emulator_metadata))
            .route("/emulator/keys", get(emulator_jwks))
            .route("/token", post(token))
            .with_state(state.clone());
        let addr = serve(router).await;
        *state.addr.lock().unwrap() = Some(addr);
        IdentityService { addr, state }
    }

    pub fn metadata_url(&self) -> String {
        format!("http://{}/v1/.well-known/openidconfiguration", self.addr)
    }

    pub fn emulator_metadata_url(&self) -> String {
        format!("http://{}/emulator/.well-known/openid-configuration", self.addr)
    }

    pub fn token_url(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    pub fn set_channel_keys(&self, keys: Vec<Value>) {
        *self.state.channel_keys.lock().unwrap() = keys;
    }

    pub fn jwks_requests(&self) -> usize {
        self.state.jwks_requests.load(Ordering::SeqCst)
    }

    pub fn token_requests(&self) -> usize {
        self.state.token_requests.load(Ordering::SeqCst)
    }

    /// A configuration with app id, password and every URL pointing at this stand-in.
    pub fn config(&self) -> BotFrameworkConfig {
        BotFrameworkConfig::default()
            .app_id(APP_ID)
            .app_password(APP_PASSWORD)
            .openid_metadata_url(self.metadata_url())
            .emulator_openid_metadata_url(self.emulator_metadata_url())
            .token_url(self.token_url())
    }
}

async fn channel_metadata(State(state): State<Arc<IdentityState>>) -> Response {
    state.metadata_requests.fetch_add(1, Ordering::SeqCst);
    let addr = state.addr.lock().unwrap().unwrap();
    axum::Json(json!({ "issuer": CHANNEL_ISSUER, "jwks_uri": format!("http://{addr}/channel/keys") })).into_response()
}

async fn emulator_metadata(State(state): State<Arc<IdentityState>>) -> Response {
    state.metadata_requests.fetch_add(1, Ordering::SeqCst);
    let addr = state.addr.lock().unwrap().unwrap();
    axum::Json(json!({ "issuer": "emulator", "jwks_uri": format!("http://{addr}/emulator/keys") })).into_response()
}

async fn channel_jwks(State(state): State<Arc<IdentityState>>) -> Response {
    state.jwks_requests.fetch_add(1, Ordering::SeqCst);
    let keys = state.channel_keys.lock().unwrap().clone();
    axum::Json(json!({ "keys": keys })).into_response()
}

async fn emulator_jwks(State(state): State<Arc<IdentityState>>) -> Response {
    state.jwks_requests.fetch_add(1, Ordering::SeqCst);
    let keys = state.emulator_keys.lock().unwrap().clone();
    axum::Json(json!({ "keys": keys })).into_response()
}

async fn token(State(state): State<Arc<IdentityState>>, body: String) -> Response {
    let n = state.token_requests.fetch_add(1, Ordering::SeqCst) + 1;
    state.token_forms.lock().unwrap().push(body.clone());
    if !body.contains(&format!("client_secret={APP_PASSWORD}")) {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({ "error": "invalid_client" }))).into_response();
    }
    // Let concurrent callers pile up, as they would against a remote service.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    axum::Json(json!({ "token_type": "Bearer", "expires_in": 3600, "access_token": format!("token-{n}") }))
        .into_response()
}

/// One request the connector stand-in received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
}

/// A connector stand-in that records requests and answers by conversation id:
/// `ok` 200 `{id}`, `busy` 429 (Retry-After 7), `busy-date` 429 (HTTP date), `down` 500,
/// `down-later` 503 (Retry-After 3), `gone` 403, `missing` 404, `bad` 400, `hang` never,
/// `unauthorized` always 401, `first-401` 401 once then 200, `moved` 307 to `ok`; anything else
/// 200 `{id}`.
#[derive(Clone)]
pub struct Connector {
    pub addr: SocketAddr,
    pub state: Arc<ConnectorState>,
}

#[derive(Default)]
pub struct ConnectorState {
    pub requests: Mutex<Vec<Recorded>>,
    pub counter: AtomicUsize,
}

impl Connector {
    pub async fn start() -> Connector {
        let state = Arc::new(ConnectorState::default());
        let router = Router::new().fallback(connector).with_state(state.clone());
        let addr = serve(router).await;
        Connector { addr, state }
    }

    /// The service URL, with a trailing slash.
    pub fn service_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }
}

async fn connector(State(state): State<Arc<ConnectorState>>, request: Request) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let authorization = request.headers().get("authorization").map(|v| v.to_str().unwrap_or_default().to_owned());
    let body = axum::body::to_bytes(request.into_body(), 1 << 20).await.unwrap();
    let body = String::from_utf8_lossy(&body).into_owned();
    let n = state.counter.fetch_add(1, Ordering::SeqCst) + 1;
    let previous_for_path = state.requests.lock().unwrap().iter().filter(|r| r.path == path).count();
    state.requests.lock().unwrap().push(Recorded { method, path: path.clone(), authorization, body });
    let conversation = path.split('/').nth(3).unwrap_or_default();
    let conversation = percent_encoding::percent_decode_str(conversation).decode_utf8_lossy().into_owned();
    let error = |status: StatusCode, code: &str| {
        (status, axum::Json(json!({ "error": { "code": code, "message": format!("{code} for {conversation}") } })))
    };
    let mut headers = HeaderMap::new();
    match conversation.as_str() {
        "busy" => {
            headers.insert("retry-after", "7".parse().unwrap());
            (headers, error(StatusCode::TOO_MANY_REQUESTS, "Throttled")).into_response()
        }
        "busy-date" => {
            let when = SystemTime::now() + std::time::Duration::from_secs(3600);
            headers.insert("retry-after", httpdate::fmt_http_date(when).parse().unwrap());
            (headers, error(StatusCode::TOO_MANY_REQUESTS, "Throttled")).into_response()
        }
        "down" => error(StatusCode::INTERNAL_SERVER_ERROR, "ServiceError").into_response(),
        "down-later" => {
            headers.insert("retry-after", "3".parse().unwrap());
            (headers, error(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")).into_response()
        }
        "gone" => error(StatusCode::FORBIDDEN, "BotNotInConversationRoster").into_response(),
        "missing" => error(StatusCode::NOT_FOUND, "ConversationNotFound").into_response(),
        "bad" => error(StatusCode::BAD_REQUEST, "BadArgument").into_response(),
        "unauthorized" => error(StatusCode::UNAUTHORIZED, "Unauthorized").into_response(),
        "first-401" if previous_for_path == 0 => error(StatusCode::UNAUTHORIZED, "Unauthorized").into_response(),
        "hang" => std::future::pending().await,
        "moved" => {
            let location = format!("/v3/conversations/ok/activities/moved-{n}");
            headers.insert("location", location.parse().unwrap());
            (StatusCode::TEMPORARY_REDIRECT, headers).into_response()
        }
        _ if path.ends_with("/members") => {
            axum::Json(json!([{ "id": "u1", "name": "Ada" }, { "id": "b1", "name": "Bot" }])).into_response()
        }
        _ if path == "/v3/conversations" => {
            axum::Json(json!({ "id": format!("new-conversation-{n}"), "activityId": "a0" })).into_response()
        }
        _ => axum::Json(json!({ "id": format!("activity-{n}") })).into_response(),
    }
}

/// A handler that records what it gets. Text `fail` makes it fail, `panic` makes it panic;
/// invokes are answered 200 with `{"echo": name}`.
#[derive(Default)]
pub struct Recorder {
    pub activities: Mutex<Vec<Activity>>,
}

#[async_trait]
impl ActivityHandler for Recorder {
    async fn handle(&self, activity: Activity) -> Result<TurnOutcome, HandlerError> {
        match activity.text() {
            "fail" => return Err(HandlerError::new("the store is down")),
            "panic" => panic!("the handler panicked"),
            _ => {}
        }
        let invoke = activity.kind == botwright::activity::ActivityType::Invoke;
        let name = activity.name.clone();
        self.activities.lock().unwrap().push(activity);
        if invoke {
            Ok(TurnOutcome::Invoked(InvokeResponse::new(200, Some(json!({ "echo": name })))))
        } else {
            Ok(TurnOutcome::Completed)
        }
    }
}

impl Recorder {
    pub fn texts(&self) -> Vec<String> {
        self.activities.lock().unwrap().iter().map(|a| a.text().to_owned()).collect()
    }
}

/// A bot server with the crate's router.
pub struct BotServer {
    pub url: String,
    pub recorder: Arc<Recorder>,
    pub bf: BotFramework,
    pub storage: Arc<MemoryStore>,
}

impl BotServer {
    pub async fn start(config: BotFrameworkConfig) -> BotServer {
        Self::start_with(config, Arc::new(MemoryStore::new())).await
    }

    pub async fn start_with(config: BotFrameworkConfig, storage: Arc<MemoryStore>) -> BotServer {
        let bf = BotFramework::from_config(config).map(|bf| bf.store(storage.clone() as Arc<dyn Storage>)).unwrap();
        let recorder = Arc::new(Recorder::default());
        let addr = serve(bf.router(recorder.clone())).await;
        BotServer { url: format!("http://{addr}/api/messages"), recorder, bf, storage }
    }

    /// Posts `activity` with an optional `Authorization` value; returns status and JSON body.
    pub async fn post(&self, activity: &Value, authorization: Option<&str>) -> (u16, Value) {
        let mut request = http().post(&self.url).json(activity);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        (status, body)
    }
}

/// A message activity from channel `channel_id` with replies to `service_url`.
pub fn message(text: &str, channel_id: &str, service_url: &str) -> Value {
    json!({
        "type": "message",
        "id": "incoming-1",
        "text": text,
        "channelId": channel_id,
        "serviceUrl": service_url,
        "from": { "id": "u1", "name": "Ada" },
        "recipient": { "id": "b1", "name": "Bot" },
        "conversation": { "id": "c1" },
    })
}
