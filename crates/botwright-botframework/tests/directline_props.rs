//! Property tests: arbitrary methods, paths, query strings (watermarks), header values and bodies
//! thrown at the Direct Line router in process (`tower::ServiceExt::oneshot`). Whatever comes,
//! the endpoint never panics and never answers 5xx, every answer is JSON, and every refusal is
//! `{"error": {"code", "message"}}`.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, Uri};
use botwright::{Activity, TurnOutcome, async_trait};
use botwright_botframework::directline::{DirectLine, DirectLineConfig, UserIds};
use botwright_botframework::{ActivityHandler, HandlerError};
use http_body_util::BodyExt;
use proptest::prelude::*;
use serde_json::Value;
use std::time::Duration;
use tower::ServiceExt;

const SECRET: &str = "the-secret-of-the-property-tests";

/// A bot that takes everything.
struct Accepts;

#[async_trait]
impl ActivityHandler for Accepts {
    async fn handle(&self, _activity: Activity) -> Result<TurnOutcome, HandlerError> {
        Ok(TurnOutcome::Completed)
    }
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    /// A started conversation and its token; a token of a conversation never started.
    conversation: String,
    token: String,
    unstarted_token: String,
    expired_token: String,
}

fn fixture(user_ids: UserIds, secret: bool) -> Fixture {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let directline = DirectLine::new(
        DirectLineConfig::default()
            .user_ids(user_ids)
            .secret(secret.then(|| SECRET.to_owned()))
            .body_limit(4096)
            .max_history(20),
    );
    let router = directline.router(Accepts);
    let bearer = secret.then_some(SECRET);
    let (_, generated) = runtime.block_on(call(&router, Method::POST, "/v3/directline/tokens/generate", bearer, ""));
    let (status, started) =
        runtime.block_on(call(&router, Method::POST, "/v3/directline/conversations", generated["token"].as_str(), ""));
    assert_eq!(status, 201, "{started}");
    let (_, unstarted) = runtime.block_on(call(&router, Method::POST, "/v3/directline/tokens/generate", bearer, ""));
    let conversation = started["conversationId"].as_str().unwrap().to_owned();
    let expired = directline.token_key().issue(&conversation, Some("dl_x"), Duration::ZERO).unwrap();
    Fixture {
        runtime,
        router,
        token: started["token"].as_str().unwrap().to_owned(),
        conversation,
        unstarted_token: unstarted["token"].as_str().unwrap().to_owned(),
        expired_token: expired,
    }
}

async fn send(router: &axum::Router, request: Request<Body>) -> (u16, Vec<u8>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, body)
}

async fn call(router: &axum::Router, method: Method, path: &str, bearer: Option<&str>, body: &str) -> (u16, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let (status, body) = send(router, request.body(Body::from(body.to_owned())).unwrap()).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// What a request is made of.
#[derive(Debug, Clone)]
struct Shape {
    method: Method,
    /// 0..7: which route; the conversation segment comes from `segment`.
    route: usize,
    segment: Segment,
    query: String,
    auth: Auth,
    extra_header: Option<(String, Vec<u8>)>,
    content_length: Option<String>,
    body: Vec<u8>,
}

#[derive(Debug, Clone)]
enum Segment {
    Ours,
    Text(String),
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    Token,
    UnstartedToken,
    ExpiredToken,
    Secret,
    Raw(Vec<u8>),
}

fn shapes() -> impl Strategy<Value = Shape> {
    let method = prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::PUT),
        Just(Method::DELETE),
        Just(Method::OPTIONS),
        Just(Method::PATCH),
    ];
    let segment = prop_oneof![
        3 => Just(Segment::Ours),
        1 => "[a-zA-Z0-9%._~|:-]{0,60}".prop_map(Segment::Text),
        1 => "[0-9a-f]{48}".prop_map(Segment::Text),
        1 => "([a-z]|%[0-9A-Fa-f]{2}){1,6}".prop_map(Segment::Text),
    ];
    let query = prop_oneof![
        Just(String::new()),
        "watermark=[0-9]{0,25}",
        "watermark=-?[0-9a-z.]{0,12}",
        "[a-z=&%0-9tT]{0,40}",
        "t=[a-zA-Z0-9._-]{0,40}&watermark=[0-9]{1,20}",
    ];
    let auth = prop_oneof![
        1 => Just(Auth::None),
        3 => Just(Auth::Token),
        1 => Just(Auth::UnstartedToken),
        1 => Just(Auth::ExpiredToken),
        1 => Just(Auth::Secret),
        1 => proptest::collection::vec(any::<u8>(), 0..80).prop_map(Auth::Raw),
        1 => "(Bearer|bearer|Basic|) ?[ -~]{0,60}".prop_map(|s| Auth::Raw(s.into_bytes())),
    ];
    let header_name = prop_oneof![
        Just("content-type".to_owned()),
        Just("host".to_owned()),
        Just("upgrade".to_owned()),
        Just("connection".to_owned()),
        Just("sec-websocket-version".to_owned()),
        Just("x-forwarded-for".to_owned()),
    ];
    let extra_header = proptest::option::of((header_name, proptest::collection::vec(any::<u8>(), 0..60)));
    let content_length = proptest::option::of(prop_oneof!["[0-9]{1,25}", "[ -~]{0,10}"]);
    let body = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        "\\{\"type\":\"(message|typing|event|invoke|conversationUpdate|)\"(,\"text\":\"[ -~]{0,20}\")?(,\"from\":\\{\"id\":\"[a-z_]{0,10}\"\\})?\\}"
            .prop_map(String::into_bytes),
        "\\{\"user\":\\{\"id\":(\"[a-z0-9_-]{0,12}\"|7|null|\\[\\]|\\{\\})\\}\\}".prop_map(String::into_bytes),
        "[ -~]{0,5000}".prop_map(String::into_bytes),
    ];
    (method, 0usize..8, segment, query, auth, extra_header, content_length, body).prop_map(
        |(method, route, segment, query, auth, extra_header, content_length, body)| Shape {
            method,
            route,
            segment,
            query,
            auth,
            extra_header,
            content_length,
            body,
        },
    )
}

impl Fixture {
    fn request(&self, shape: &Shape) -> Option<Request<Body>> {
        let segment = match &shape.segment {
            Segment::Ours => self.conversation.clone(),
            Segment::Text(text) => text.clone(),
        };
        let path = match shape.route {
            0 => "/v3/directline/tokens/generate".to_owned(),
            1 => "/v3/directline/tokens/refresh".to_owned(),
            2 => "/v3/directline/conversations".to_owned(),
            3 => format!("/v3/directline/conversations/{segment}"),
            4 | 5 => format!("/v3/directline/conversations/{segment}/activities"),
            6 => format!("/v3/directline/conversations/{segment}/stream"),
            _ => format!("/v3/directline/{segment}/{segment}"),
        };
        let uri = if shape.query.is_empty() { path } else { format!("{path}?{}", shape.query) };
        let uri: Uri = uri.parse().ok()?;
        let mut request = Request::builder().method(shape.method.clone()).uri(uri);
        let auth: Option<Vec<u8>> = match &shape.auth {
            Auth::None => None,
            Auth::Token => Some(format!("Bearer {}", self.token).into_bytes()),
            Auth::UnstartedToken => Some(format!("Bearer {}", self.unstarted_token).into_bytes()),
            Auth::ExpiredToken => Some(format!("Bearer {}", self.expired_token).into_bytes()),
            Auth::Secret => Some(format!("Bearer {SECRET}").into_bytes()),
            Auth::Raw(raw) => Some(raw.clone()),
        };
        if let Some(auth) = auth {
            request = request.header("authorization", HeaderValue::from_bytes(&auth).ok()?);
        }
        if let Some((name, value)) = &shape.extra_header {
            request = request.header(name.as_str(), HeaderValue::from_bytes(value).ok()?);
        }
        if let Some(length) = &shape.content_length {
            request = request.header("content-length", HeaderValue::from_str(length).ok()?);
        }
        request.body(Body::from(shape.body.clone())).ok()
    }

    /// Sends the request; checks the answer's shape. `Err` says what is wrong.
    fn check(&self, request: Request<Body>) -> Result<(), String> {
        let what = format!("{} {}", request.method(), request.uri());
        let (status, body) = self.runtime.block_on(send(&self.router, request));
        if status >= 500 {
            return Err(format!("{what}: {status} {}", String::from_utf8_lossy(&body)));
        }
        let json: Value = serde_json::from_slice(&body)
            .map_err(|e| format!("{what}: {status}, not JSON ({e}): {}", String::from_utf8_lossy(&body)))?;
        if status >= 400 && !(json["error"]["message"].is_string() && json["error"]["code"].is_string()) {
            return Err(format!("{what}: {status} without an error message: {json}"));
        }
        Ok(())
    }
}

fn run(user_ids: UserIds, secret: bool) {
    let fixture = fixture(user_ids, secret);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(256));
    let outcome = runner.run(&shapes(), |shape| {
        let Some(request) = fixture.request(&shape) else { return Ok(()) };
        fixture.check(request).map_err(TestCaseError::fail)
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    // Still serving after all that.
    let (status, _) = fixture.runtime.block_on(call(
        &fixture.router,
        Method::GET,
        &format!("/v3/directline/conversations/{}/activities", fixture.conversation),
        Some(&fixture.token),
        "",
    ));
    assert_eq!(status, 200);
}

#[test]
fn any_request_gets_a_json_answer_and_no_5xx_when_the_server_assigns_users() {
    run(UserIds::ServerAssigned, false);
}

#[test]
fn any_request_gets_a_json_answer_and_no_5xx_when_clients_choose_users() {
    run(UserIds::ClientChosen, false);
}

#[test]
fn any_request_gets_a_json_answer_and_no_5xx_with_a_secret() {
    run(UserIds::ServerAssigned, true);
}
