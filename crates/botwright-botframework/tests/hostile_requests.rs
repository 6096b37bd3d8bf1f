//! Hostile requests to `/api/messages`, over real HTTP: malformed activities of every shape get
//! the right 4xx with a message that says what is wrong, the server keeps answering, and a bot
//! whose store is down answers 503 with `Retry-After` so that the channel retries later.

mod common;

use botwright::storage::{Document, Precondition, Storage, StorageError, Write};
use botwright::{Bot, async_trait};
use botwright_botframework::{BotFramework, BotFrameworkConfig};
use common::*;
use serde_json::{Value, json};
use std::sync::Arc;

const SERVICE_URL: &str = "http://localhost:53000";

async fn raw(url: &str, content_type: Option<&str>, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let mut request = http().post(url).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn error_message(body: &Value) -> String {
    body["error"]["message"].as_str().unwrap_or_else(|| panic!("not a JSON error: {body}")).to_owned()
}

/// After bad requests, a good one is still served and handed to the bot.
async fn still_serving(bot: &BotServer, text: &str) {
    let (status, _) = bot.post(&message(text, "emulator", SERVICE_URL), None).await;
    assert_eq!(status, 202);
    assert_eq!(bot.recorder.texts().last().map(String::as_str), Some(text));
}

fn nested(depth: usize) -> Vec<u8> {
    let mut body = br#"{"type":"message","value":"#.to_vec();
    body.extend(std::iter::repeat_n(b'[', depth));
    body.extend(std::iter::repeat_n(b']', depth));
    body.push(b'}');
    body
}

/// Each malformed body: the status, and words the message must hold.
#[tokio::test]
async fn malformed_activities_of_every_shape_get_a_clear_4xx() {
    let bot = BotServer::start(BotFrameworkConfig::default()).await;
    let huge_id = "i".repeat(100_000);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("empty body", Vec::new(), 400, "not JSON"),
        ("whitespace", b"   \n ".to_vec(), 400, "not JSON"),
        ("nesting beyond the parser's limit", nested(100_000), 400, "recursion limit"),
        ("nesting just too deep", nested(200), 400, "recursion limit"),
        ("invalid UTF-8", b"{\"type\":\"message\",\"text\":\"\xff\xfe\"}".to_vec(), 400, "not JSON"),
        ("a lone surrogate", br#"{"type":"message","text":"\ud800"}"#.to_vec(), 400, "not JSON"),
        ("a number out of range", br#"{"type":"message","value":1e999999}"#.to_vec(), 400, "not JSON"),
        ("trailing garbage", br#"{"type":"message"} x"#.to_vec(), 400, "not JSON"),
        ("from is a string", br#"{"type":"message","from":"me"}"#.to_vec(), 400, "malformed"),
        ("conversation is an array", br#"{"type":"message","conversation":[]}"#.to_vec(), 400, "malformed"),
        ("text is a number", br#"{"type":"message","text":5}"#.to_vec(), 400, "malformed"),
        ("type is a number", br#"{"type":5}"#.to_vec(), 400, "must be a string"),
        ("type is empty", br#"{"type":""}"#.to_vec(), 400, "is empty"),
        ("no type", br#"{"text":"hi"}"#.to_vec(), 400, "no `type`"),
        ("an array", b"[1,2,3]".to_vec(), 400, "not an array"),
        ("a string", br#""message""#.to_vec(), 400, "not a string"),
        (
            "a huge activity id",
            format!(r#"{{"type":"message","id":"{huge_id}"}}"#).into_bytes(),
            400,
            "`id` is 100000 bytes, more than 1024",
        ),
        (
            "a huge conversation id",
            format!(r#"{{"type":"message","conversation":{{"id":"{huge_id}"}}}}"#).into_bytes(),
            400,
            "`conversation.id` is 100000 bytes",
        ),
        (
            "a huge sender id",
            format!(r#"{{"type":"message","from":{{"id":"{huge_id}"}}}}"#).into_bytes(),
            400,
            "`from.id` is 100000 bytes",
        ),
        (
            "a huge service URL",
            format!(r#"{{"type":"message","serviceUrl":"https://x.example/{huge_id}"}}"#).into_bytes(),
            400,
            "`serviceUrl` is 100018 bytes",
        ),
        ("oversized", vec![b' '; 300 * 1024], 413, "larger than 262144 bytes"),
    ];
    for (what, body, status, words) in cases {
        let (got, answer) = raw(&bot.url, Some("application/json"), body).await;
        assert_eq!(got, status, "{what}: {answer}");
        let message = error_message(&answer);
        assert!(message.contains(words), "{what}: {message}");
        assert!(message.len() < 2048, "{what}: the message is {} bytes", message.len());
    }
    still_serving(&bot, "after every malformed body").await;
    assert_eq!(bot.recorder.texts().len(), 1, "nothing malformed reached the bot");
}

#[tokio::test]
async fn content_types_that_are_not_json_are_415_with_a_short_message() {
    let bot = BotServer::start(BotFrameworkConfig::default()).await;
    let absurd = format!("application/{}", "x".repeat(16 * 1024));
    for content_type in [None, Some("text/plain"), Some("application/jsonx"), Some(absurd.as_str())] {
        let (status, answer) = raw(&bot.url, content_type, r#"{"type":"message"}"#).await;
        assert_eq!(status, 415, "{content_type:?}");
        assert!(error_message(&answer).len() < 512, "{answer}");
    }
    still_serving(&bot, "after odd content types").await;
}

/// Unknown activity types are the bot's business (Bot Framework adds types over time): they are
/// handed over, not refused.
#[tokio::test]
async fn unknown_activity_types_are_handed_to_the_bot() {
    let bot = BotServer::start(BotFrameworkConfig::default()).await;
    let (status, _) = raw(&bot.url, Some("application/json"), r#"{"type":"x-from-the-future","text":"?"}"#).await;
    assert_eq!(status, 202);
    assert_eq!(bot.recorder.texts(), vec!["?"]);
}

/// A store that is down: every call fails as unavailable (or, `broken`, as failed for good).
#[derive(Debug, Default)]
struct DownStore {
    broken: bool,
}

impl DownStore {
    fn down(&self) -> StorageError {
        let cause = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "db.internal:5432 refused");
        if self.broken { StorageError::backend(cause) } else { StorageError::unavailable(cause) }
    }
}

#[async_trait]
impl Storage for DownStore {
    async fn read(&self, _: &str) -> Result<Option<Document>, StorageError> {
        Err(self.down())
    }
    async fn write(&self, _: &str, _: &str, _: Precondition) -> Result<String, StorageError> {
        Err(self.down())
    }
    async fn write_many(&self, _: &[Write]) -> Result<Vec<Option<String>>, StorageError> {
        Err(self.down())
    }
    async fn delete(&self, _: &str, _: Precondition) -> Result<bool, StorageError> {
        Err(self.down())
    }
    async fn scan(&self, _: &str) -> Result<Vec<(String, Document)>, StorageError> {
        Err(self.down())
    }
}

#[tokio::test]
async fn a_store_that_is_down_is_503_with_retry_after() {
    let config = BotFrameworkConfig::default().unavailable_retry_after(std::time::Duration::from_secs(7));
    let bf = BotFramework::from_config(config).unwrap();
    let bot = Bot::builder().storage(Arc::new(DownStore::default())).build();
    let addr = serve(bf.router(bot)).await;
    let url = format!("http://{addr}/api/messages");
    let response = http().post(&url).json(&message("hi", "emulator", SERVICE_URL)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("7"));
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "ServiceUnavailable");
    let message = error_message(&answer);
    assert!(message.contains("store is unavailable"), "{message}");
    assert!(!message.contains("db.internal"), "the store's internals stay in the log: {message}");
    // Again: every request gets the same clear answer.
    let (status, _) = raw(&url, Some("application/json"), json!(message_json()).to_string()).await;
    assert_eq!(status, 503);
}

/// A store that fails for a reason a retry would repeat is a 500, not a 503 (the channel's
/// retries would not help).
#[tokio::test]
async fn a_store_that_fails_for_good_is_500() {
    let bf = BotFramework::from_config(BotFrameworkConfig::default()).unwrap();
    let bot = Bot::builder().storage(Arc::new(DownStore { broken: true })).build();
    let addr = serve(bf.router(bot)).await;
    let url = format!("http://{addr}/api/messages");
    let response = http().post(&url).json(&message("hi", "emulator", SERVICE_URL)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 500);
    assert!(response.headers().get("retry-after").is_none());
}

fn message_json() -> Value {
    message("again", "emulator", SERVICE_URL)
}
