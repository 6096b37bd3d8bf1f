//! The `/api/messages` endpoint over real HTTP: bad input gets the right status and a JSON error,
//! and the server keeps serving; invokes get the handler's answer.

mod common;

use botwright_botframework::BotFrameworkConfig;
use common::*;
use serde_json::{Value, json};

const SERVICE_URL: &str = "http://localhost:53000";

async fn raw(bot: &BotServer, content_type: Option<&str>, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let mut request = http().post(&bot.url).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// After a bad request, a good one is still served and handed to the bot.
async fn still_serving(bot: &BotServer, text: &str) {
    let (status, _) = bot.post(&message(text, "emulator", SERVICE_URL), None).await;
    assert_eq!(status, 202);
    assert_eq!(bot.recorder.texts().last().map(String::as_str), Some(text));
}

fn error_message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_else(|| panic!("not a JSON error: {body}"))
}

#[tokio::test]
async fn a_good_activity_is_202_after_the_handler_took_it() {
    let bot = BotServer::start(BotFrameworkConfig::default()).await;
    let (status, body) = bot.post(&message("hello", "emulator", SERVICE_URL), None).await;
    assert_eq!(status, 202);
    assert_eq!(body, Value::Null);
    let activities = bot.recorder.activities.lock().unwrap().clone();
    assert_eq!(activities.len(), 1);
    assert_eq!(activities[0].text(), "hello");
    assert_eq!(activities[0].service_url.as_deref(), Some(SERVICE_URL));
}

#[tokio::test]
async fn malformed_json_is_400() {
    let bot = BotServer::start(BotFrameworkConfig::default()).await;
    let (status, body) = raw(&bot, Some("application/json"), r#"{"type": "message", "text": "#).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "BadArgument");
    assert!(error_message(&body).contains("not JSON"), "{body}");
    still_serving(&bot, "after malformed json").await;
    assert_eq!(bot.recorder.texts().len(), 1);
}

#[tokio::test]
async fn a_ten_mib_body_is_413() {
    let bot = BotServer::start(BotFrameworkConfig::default()).await;
    let mut big = br#"{"type":"message","text":""#.to_vec();
    big.resize(10 * 1024 * 1024, b'a');
    big.extend_from_slice(br#""}"#);
    let (status, body) = raw(&bot, Some("application/json"), big).await;
    assert_eq!(status, 413);
    assert!(error_message(&body).contains("262144 bytes"), "{body}");
    still_serving(&bot, "after a huge body").await;
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413() {
    // No Content-Length: the limit is enforced while reading.
    let bot = BotServer::start(BotFrameworkConfig::default().body_limit(1024)).await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..64).map(|_| Ok(vec![b' '; 100])).collect();
    let stream = futures::stream::iter(chunks);
    let (status, body) = raw(&bot, Some("application/json"), reqwest::Body::wrap_stream(stream)).await;
    assert_eq!(status, 413, "{body}");
    assert!(error_message(&body).contains("1024 bytes"));
    still_serving(&bot, "after a chunked body").await;
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let bot = BotServer::start(BotFrameworkConfig::default()).await;
    let activity = message("hi", "emulator", SERVICE_URL).to_string();
    let (status, body) = raw(&bot, Some("text/plain"), activity.clone()).await;
    assert_eq!(status, 415);
    assert!(error_message(&body).contains("text/plain"), "{body}");
    let (status, body) = raw(&bot, None, activity.clone()).await;
    assert_eq!(status, 415);
    assert!(error_message(&body).contains("no Content-Type"), "{body}");
    // Parameters and case do not matter.
    let (status, _) = raw(&bot, Some("Application/JSON; charset=utf-8"), activity).await;
    assert_eq!(status, 202);
    still_serving(&bot, "after a wrong content type").await;
}

#[tokio::test]
async fn an_array_is_400() {
    let bot = BotServer::start(BotFrameworkConfig::default()).await;
    let (status, body) =
        raw(&bot, Some("application/json"), json!([message("hi", "emulator", SERVICE_URL)]).to_string()).await;
    assert_eq!(status, 400);
    assert!(error_message(&body).contains("not an array"), "{body}");
    still_serving(&bot, "after an array").await;
    assert_eq!(bot.recorder.texts().len(), 1);
}

#[tokio::test]
async fn an_activity_without_type_is_400() {
    let bot = BotServer::start(BotFrameworkConfig::default()).await;
    let mut activity = message("hi", "emulator", SERVICE_URL);
    activity.as_object_mut().unwrap().remove("type");
    let (status, body) = bot.post(&activity, None).await;
    assert_eq!(status, 400);
    assert!(error_message(&body).contains("no `type`"), "{body}");
    activity["type"] = json!(42);
    let (status, body) = bot.post(&activity, None).await;
    assert_eq!(status, 400);
    assert!(error_message(&body).contains("must be a string"), "{body}");
    activity["type"] = json!("message");
    activity["from"] = json!("not an account");
    let (status, body) = bot.post(&activity, None).await;
    assert_eq!(status, 400);
    assert!(error_message(&body).contains("malformed"), "{body}");
    still_serving(&bot, "after activities without type").await;
    assert_eq!(bot.recorder.texts().len(), 1);
}

#[tokio::test]
async fn other_methods_and_paths_are_not_served() {
    let bot = BotServer::start(BotFrameworkConfig::default()).await;
    let response = http().get(&bot.url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let other = bot.url.replace("/api/messages", "/api/other");
    let response = http().post(other).json(&message("hi", "emulator", SERVICE_URL)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
}

#[tokio::test]
async fn an_invoke_gets_the_handlers_status_and_body() {
    let bot = BotServer::start(BotFrameworkConfig::default()).await;
    let mut invoke = message("", "msteams", SERVICE_URL);
    invoke["type"] = json!("invoke");
    invoke["name"] = json!("composeExtension/query");
    let (status, body) = bot.post(&invoke, None).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "echo": "composeExtension/query" }));
}

#[tokio::test]
async fn a_failing_handler_is_500_and_the_server_keeps_serving() {
    let bot = BotServer::start(BotFrameworkConfig::default()).await;
    let (status, body) = bot.post(&message("fail", "emulator", SERVICE_URL), None).await;
    assert_eq!(status, 500);
    assert_eq!(body["error"]["code"], "InternalError");
    assert!(!body.to_string().contains("the store is down"), "internal details must not leak: {body}");
    let (status, body) = bot.post(&message("panic", "emulator", SERVICE_URL), None).await;
    assert_eq!(status, 500);
    assert_eq!(body["error"]["code"], "InternalError");
    still_serving(&bot, "after failures").await;
}

#[tokio::test]
async fn with_auth_on_bad_json_with_a_good_token_is_400() {
    let key1 = TestKey::load("key1");
    let identity = IdentityService::start(vec![key1.jwk(None)], vec![]).await;
    let bot = BotServer::start(identity.config()).await;
    let token = key1.sign(&channel_claims(SERVICE_URL));
    let response = http()
        .post(&bot.url)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body("[1, 2")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    // And a bad body without a token is refused before it is read.
    let (status, _) = raw(&bot, Some("application/json"), "[1, 2").await;
    assert_eq!(status, 401);
}

/// Holds each activity until the test releases it.
struct Gate {
    entered: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

#[botwright::async_trait]
impl botwright_botframework::ActivityHandler for Gate {
    async fn handle(
        &self,
        activity: botwright::Activity,
    ) -> Result<botwright::TurnOutcome, botwright_botframework::HandlerError> {
        self.entered.notify_one();
        self.release.notified().await;
        // Nothing to say, not even to an invoke.
        let _ = activity;
        Ok(botwright::TurnOutcome::Completed)
    }
}

#[tokio::test]
async fn the_answer_waits_until_the_handler_took_the_activity() {
    let bf = botwright_botframework::BotFramework::from_config(BotFrameworkConfig::default()).unwrap();
    let gate = std::sync::Arc::new(Gate { entered: Default::default(), release: Default::default() });
    let addr = serve(bf.router(gate.clone())).await;
    let url = format!("http://{addr}/api/messages");
    let request = tokio::spawn({
        let url = url.clone();
        async move { http().post(url).json(&message("hi", "emulator", SERVICE_URL)).send().await.unwrap() }
    });
    gate.entered.notified().await;
    // Give an early answer time to arrive; a correct endpoint passes however slow the machine.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!request.is_finished(), "the channel was answered before the bot took the activity");
    gate.release.notify_one();
    assert_eq!(request.await.unwrap().status().as_u16(), 202);

    // An invoke without an answer from the bot is 200 with an empty body.
    let mut invoke = message("", "msteams", SERVICE_URL);
    invoke["type"] = json!("invoke");
    let request = tokio::spawn(async move { http().post(url).json(&invoke).send().await.unwrap() });
    gate.entered.notified().await;
    gate.release.notify_one();
    let response = request.await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text().await.unwrap(), "");
}
