//! Regressions found while hardening the Direct Line endpoint, each a request that once got an
//! answer that was not JSON (an empty 405, a plain-text rejection), now a JSON error.

use axum::body::Body;
use axum::http::{Method, Request};
use botwright::{Activity, TurnOutcome, async_trait};
use botwright_botframework::directline::{DirectLine, DirectLineConfig};
use botwright_botframework::{ActivityHandler, HandlerError};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

struct Accepts;

#[async_trait]
impl ActivityHandler for Accepts {
    async fn handle(&self, _activity: Activity) -> Result<TurnOutcome, HandlerError> {
        Ok(TurnOutcome::Completed)
    }
}

async fn answer(method: Method, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let router = DirectLine::new(DirectLineConfig::default()).router(Accepts);
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = router.oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {:?}", String::from_utf8_lossy(&body)));
    (status, json)
}

fn message(json: &Value) -> &str {
    json["error"]["message"].as_str().unwrap_or_else(|| panic!("no error message in {json}"))
}

#[tokio::test]
async fn a_wrong_method_gets_a_json_405() {
    let (status, json) = answer(Method::PUT, "/v3/directline/tokens/generate", &[]).await;
    assert_eq!(status, 405);
    assert!(message(&json).contains("method"));
}

#[tokio::test]
async fn a_path_the_endpoint_does_not_serve_gets_a_json_404() {
    let (status, json) = answer(Method::POST, "/v3/directline/conversations/abc/upload", &[]).await;
    assert_eq!(status, 404);
    assert!(message(&json).contains("does not serve"));
}

#[tokio::test]
async fn a_conversation_id_that_is_not_utf8_gets_a_json_400() {
    let (status, json) =
        answer(Method::GET, "/v3/directline/conversations/%FF%FE/activities", &[("authorization", "Bearer x")]).await;
    assert_eq!(status, 400);
    assert!(message(&json).contains("path"));
}

#[tokio::test]
async fn a_stream_request_that_is_no_websocket_gets_a_json_answer() {
    let foreign_token = {
        let directline = DirectLine::new(DirectLineConfig::default());
        directline.token_key().issue("c", None, std::time::Duration::from_secs(60)).unwrap()
    };
    // Another endpoint's token: refused before the upgrade is looked at, as JSON.
    let (status, json) =
        answer(Method::GET, &format!("/v3/directline/conversations/c/stream?t={foreign_token}"), &[]).await;
    assert_eq!(status, 403);
    message(&json);
    let (status, json) = answer(
        Method::GET,
        "/v3/directline/conversations/c/stream",
        &[("connection", "upgrade"), ("upgrade", "websocket")],
    )
    .await;
    assert_eq!(status, 403, "no token: {json}");
}
