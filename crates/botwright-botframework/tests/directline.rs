//! The embedded Direct Line endpoint over real sockets: starting, posting and reading with
//! watermarks, tokens, the WebSocket stream (replies and proactive messages), bad input, and a
//! proactive message to a conversation the process no longer holds after a restart.

mod chat_server;

use botwright::storage::MemoryStore;
use botwright::{Address, Message};
use botwright_botframework::directline::{DirectLineConfig, TokenKey, UserIds};
use chat_server::{ChatServer, DECLINED, GREETING, QUESTION, SUBSCRIBED};
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The endpoint as these tests use it: clients name their users (the library's default assigns
/// them; `directline_hostile.rs` tests that).
fn client_chosen() -> DirectLineConfig {
    DirectLineConfig::default().user_ids(UserIds::ClientChosen)
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    fn new(server: &ChatServer) -> Self {
        Client { base: format!("{}/v3/directline", server.base), http: http() }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn generate(&self, user: &str) -> Value {
        let (status, body) =
            self.call(reqwest::Method::POST, "/tokens/generate", None, Some(json!({"user": {"id": user}}))).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Generates a token and starts its conversation: (conversation id, token, stream URL).
    async fn open(&self, user: &str) -> (String, String, String) {
        let generated = self.generate(user).await;
        let (status, started) =
            self.call(reqwest::Method::POST, "/conversations", generated["token"].as_str(), None).await;
        assert_eq!(status, 201, "{started}");
        assert_eq!(started["conversationId"], generated["conversationId"]);
        (
            started["conversationId"].as_str().unwrap().to_owned(),
            started["token"].as_str().unwrap().to_owned(),
            started["streamUrl"].as_str().unwrap().to_owned(),
        )
    }

    async fn say(&self, conversation: &str, token: &str, user: &str, text: &str) -> String {
        let activity = json!({"type": "message", "from": {"id": user, "name": user}, "text": text});
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                &format!("/conversations/{conversation}/activities"),
                Some(token),
                Some(activity),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    async fn activities(&self, conversation: &str, token: &str, watermark: Option<&str>) -> (u16, Value) {
        let query = watermark.map(|w| format!("?watermark={w}")).unwrap_or_default();
        self.call(reqwest::Method::GET, &format!("/conversations/{conversation}/activities{query}"), Some(token), None)
            .await
    }

    /// Reads until the history after `watermark` holds `count` messages (10 s at most).
    async fn until(&self, conversation: &str, token: &str, watermark: Option<&str>, count: usize) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, page) = self.activities(conversation, token, watermark).await;
            assert_eq!(status, 200, "{page}");
            if page["activities"].as_array().unwrap().len() >= count {
                return page;
            }
            assert!(Instant::now() < deadline, "expected {count} activities, got {page}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn texts(page: &Value) -> Vec<&str> {
    page["activities"].as_array().unwrap().iter().map(|a| a["text"].as_str().unwrap_or("")).collect()
}

#[tokio::test]
async fn a_conversation_with_watermarks() {
    let server = ChatServer::start(client_chosen(), Arc::new(MemoryStore::new())).await;
    let client = Client::new(&server);
    let (conversation, token, stream_url) = client.open("ana").await;
    assert!(
        stream_url.starts_with(&format!("ws://{}/v3/directline/conversations/{conversation}/stream?t=", server.addr))
    );

    // Starting again with the same token is the same conversation.
    let (status, again) = client.call(reqwest::Method::POST, "/conversations", Some(&token), None).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["conversationId"], conversation.as_str());
    assert!(again["expires_in"].as_u64().unwrap() > 0);

    let id = client.say(&conversation, &token, "ana", "hi").await;
    let page = client.until(&conversation, &token, None, 3).await;
    assert_eq!(texts(&page), ["hi", GREETING, QUESTION], "the user's own message comes first");
    let activities = page["activities"].as_array().unwrap();
    assert_eq!(activities[0]["id"], id.as_str());
    assert_eq!(activities[0]["from"]["id"], "ana");
    for activity in activities {
        assert_eq!(activity["channelId"], "directline");
        assert_eq!(activity["conversation"]["id"], conversation.as_str());
        assert!(activity["timestamp"].is_string());
    }
    assert_eq!(activities[0]["serviceUrl"], server.base.as_str());
    assert_eq!(activities[0]["recipient"]["id"], "bot");
    assert_eq!(activities[1]["from"]["id"], "bot");
    assert_eq!(activities[1]["recipient"]["id"], "ana");
    let buttons: Vec<&str> = activities[2]["suggestedActions"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["value"].as_str().unwrap())
        .collect();
    assert_eq!(buttons, ["Yes", "No"]);
    let ids: std::collections::HashSet<&str> = activities.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3, "ids are unique");

    // Nothing new after the watermark; the answer to the prompt comes after it.
    let watermark = page["watermark"].as_str().unwrap().to_owned();
    let (_, empty) = client.activities(&conversation, &token, Some(&watermark)).await;
    assert_eq!(empty["activities"], json!([]));
    assert_eq!(empty["watermark"], watermark.as_str());
    client.say(&conversation, &token, "ana", "Yes").await;
    let next = client.until(&conversation, &token, Some(&watermark), 2).await;
    assert_eq!(texts(&next), ["Yes", SUBSCRIBED]);
    assert!(next["watermark"].as_str().unwrap().parse::<u64>().unwrap() > watermark.parse::<u64>().unwrap());

    // The conversation is an ordinary one: its address is in the address book.
    let entry = server.bot.address_book().get("directline", "ana").await.unwrap().expect("ana's address");
    assert_eq!(entry.address.conversation.id, conversation);
    assert_eq!(entry.address.service_url, server.base);

    // Reconnecting gives a stream URL that carries the watermark.
    let (status, reconnect) = client
        .call(reqwest::Method::GET, &format!("/conversations/{conversation}?watermark={watermark}"), Some(&token), None)
        .await;
    assert_eq!(status, 200, "{reconnect}");
    assert!(reconnect["streamUrl"].as_str().unwrap().ends_with(&format!("&watermark={watermark}")));
}

#[tokio::test]
async fn tokens_open_their_own_conversation_only() {
    let server = ChatServer::start(client_chosen(), Arc::new(MemoryStore::new())).await;
    let client = Client::new(&server);
    let (mine, my_token, _) = client.open("ana").await;
    let (theirs, their_token, _) = client.open("bea").await;
    let forged =
        TokenKey::new(b"a key this server does not have!").issue(&mine, None, Duration::from_secs(60)).unwrap();
    let message = json!({"type": "message", "from": {"id": "ana"}, "text": "hi"});

    for token in [None, Some(their_token.as_str()), Some(forged.as_str()), Some("garbage")] {
        let (status, body) = client.activities(&mine, token.unwrap_or(""), None).await;
        assert_eq!(status, 403, "GET activities with {token:?}: {body}");
        assert!(body["error"]["message"].is_string());
        let path = format!("/conversations/{mine}/activities");
        let (status, _) = match token {
            Some(token) => client.call(reqwest::Method::POST, &path, Some(token), Some(message.clone())).await,
            None => client.call(reqwest::Method::POST, &path, None, Some(message.clone())).await,
        };
        assert_eq!(status, 403, "POST activity with {token:?}");
        let (status, _) = client.call(reqwest::Method::GET, &format!("/conversations/{mine}"), token, None).await;
        assert_eq!(status, 403, "reconnect with {token:?}");
        let url = format!("ws://{}/v3/directline/conversations/{mine}/stream?t={}", server.addr, token.unwrap_or(""));
        match tokio_tungstenite::connect_async(url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
            other => panic!("the stream opened with {token:?}: {other:?}"),
        }
    }
    let (status, body) = client.call(reqwest::Method::POST, "/conversations", Some(&forged), None).await;
    assert_eq!(status, 403, "a forged token opens nothing: {body}");

    // A refreshed token still opens the conversation; the other one is untouched.
    let (status, refreshed) = client.call(reqwest::Method::POST, "/tokens/refresh", Some(&my_token), None).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(refreshed["conversationId"], mine.as_str());
    client.say(&mine, refreshed["token"].as_str().unwrap(), "ana", "hi").await;
    let (status, _) = client.call(reqwest::Method::POST, "/tokens/refresh", Some(&forged), None).await;
    assert_eq!(status, 403);
    let (status, page) = client.activities(&theirs, &their_token, None).await;
    assert_eq!((status, page["activities"].clone()), (200, json!([])));
}

#[tokio::test]
async fn a_secret_guards_token_generation() {
    let config = client_chosen().secret(Some("s3cret-s3cret-s3cret".into()));
    let server = ChatServer::start(config, Arc::new(MemoryStore::new())).await;
    let client = Client::new(&server);
    for token in [None, Some("wrong")] {
        let (status, _) = client.call(reqwest::Method::POST, "/tokens/generate", token, None).await;
        assert_eq!(status, 403, "generate with {token:?}");
        let (status, _) = client.call(reqwest::Method::POST, "/conversations", token, None).await;
        assert_eq!(status, 403, "start with {token:?}");
    }
    let (status, generated) =
        client.call(reqwest::Method::POST, "/tokens/generate", Some("s3cret-s3cret-s3cret"), None).await;
    assert_eq!(status, 200, "{generated}");
    let (status, started) =
        client.call(reqwest::Method::POST, "/conversations", Some("s3cret-s3cret-s3cret"), None).await;
    assert_eq!(status, 201, "{started}");
    assert_ne!(started["conversationId"], generated["conversationId"]);

    // The secret opens every conversation (as Direct Line's does); a reconnect with it gets a
    // stream URL with a token, never the secret.
    let conversation = started["conversationId"].as_str().unwrap();
    let token = started["token"].as_str().unwrap();
    client.say(conversation, "s3cret-s3cret-s3cret", "ana", "hi").await;
    client.until(conversation, token, None, 3).await;
    let (status, reconnect) = client
        .call(reqwest::Method::GET, &format!("/conversations/{conversation}"), Some("s3cret-s3cret-s3cret"), None)
        .await;
    assert_eq!(status, 200, "{reconnect}");
    let stream_url = reconnect["streamUrl"].as_str().unwrap();
    assert!(!stream_url.contains("s3cret"), "{stream_url}");
    let (mut stream, _) = tokio_tungstenite::connect_async(stream_url).await.unwrap();
    next_text(&mut stream, GREETING).await;
}

async fn next_text(
    stream: &mut (
             impl futures::Stream<
        Item = Result<tokio_tungstenite::tungstenite::Message, tokio_tungstenite::tungstenite::Error>,
    > + Unpin
         ),
    wanted: &str,
) -> Value {
    let wait = async {
        while let Some(frame) = stream.next().await {
            let tokio_tungstenite::tungstenite::Message::Text(text) = frame.unwrap() else { continue };
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["activities"].as_array().unwrap().iter().any(|a| a["text"] == wanted) {
                return frame;
            }
        }
        panic!("the stream ended before {wanted:?}");
    };
    tokio::time::timeout(Duration::from_secs(10), wait).await.unwrap_or_else(|_| panic!("no {wanted:?} on the stream"))
}

#[tokio::test]
async fn the_stream_pushes_replies_and_proactive_messages() {
    let server = ChatServer::start(client_chosen(), Arc::new(MemoryStore::new())).await;
    let client = Client::new(&server);
    let (conversation, token, stream_url) = client.open("ana").await;
    let (mut stream, _) = tokio_tungstenite::connect_async(stream_url).await.unwrap();

    client.say(&conversation, &token, "ana", "hi").await;
    let frame = next_text(&mut stream, GREETING).await;
    assert!(frame["watermark"].is_string());
    let frame = next_text(&mut stream, QUESTION).await;
    assert_eq!(frame["activities"][0]["suggestedActions"]["actions"][0]["title"], "Yes");
    client.say(&conversation, &token, "ana", "No").await;
    next_text(&mut stream, DECLINED).await;

    // Typing indicators are pushed live (before the reply) but not kept.
    client.say(&conversation, &token, "ana", "hi").await;
    let mut typing = None;
    let wait = async {
        while let Some(frame) = stream.next().await {
            let tokio_tungstenite::tungstenite::Message::Text(text) = frame.unwrap() else { continue };
            let frame: Value = serde_json::from_str(&text).unwrap();
            for activity in frame["activities"].as_array().unwrap() {
                if activity["type"] == "typing" {
                    typing = Some(activity.clone());
                }
                if activity["text"] == GREETING {
                    return;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait).await.expect("the greeting again");
    let typing = typing.expect("a typing indicator before the greeting");
    assert_eq!(typing["from"]["id"], "bot");
    let (_, page) = client.activities(&conversation, &token, None).await;
    assert!(page["activities"].as_array().unwrap().iter().all(|a| a["type"] == "message"), "typing is not kept");

    // A proactive message through the address book arrives live.
    let address = server.bot.address_book().get("directline", "ana").await.unwrap().unwrap().address;
    let receipt = server.bot.send(Message::new().address(address).text("Your order shipped")).await.unwrap();
    let frame = next_text(&mut stream, "Your order shipped").await;
    assert_eq!(frame["activities"][0]["id"], receipt.activity_id.unwrap().as_str());

    // A second stream opened with a watermark gets only what came after it.
    let watermark = frame["watermark"].as_str().unwrap();
    let url = format!(
        "ws://{}/v3/directline/conversations/{conversation}/stream?t={token}&watermark={watermark}",
        server.addr
    );
    let (mut late, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    client.say(&conversation, &token, "ana", "again").await;
    let frame = next_text(&mut late, "again").await;
    assert_eq!(texts(&frame), ["again"], "nothing from before the watermark");
}

#[tokio::test]
async fn bad_input_is_answered_and_the_endpoint_keeps_serving() {
    let config = client_chosen().body_limit(4096);
    let server = ChatServer::start(config, Arc::new(MemoryStore::new())).await;
    let client = Client::new(&server);
    let (conversation, token, _) = client.open("ana").await;
    let path = format!("{}/conversations/{conversation}/activities", client.base);
    let post = |body: reqwest::Body| {
        client.http.post(&path).bearer_auth(&token).header("content-type", "application/json").body(body).send()
    };

    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("not JSON", b"{".to_vec(), 400, "not JSON"),
        ("an array", b"[]".to_vec(), 400, "array"),
        ("no type", br#"{"text":"hi","from":{"id":"ana"}}"#.to_vec(), 400, "no `type`"),
        ("a wrong field", br#"{"type":"message","from":"ana"}"#.to_vec(), 400, "malformed"),
        (
            "too big",
            format!(r#"{{"type":"message","text":"{}"}}"#, "x".repeat(5000)).into_bytes(),
            413,
            "larger than 4096",
        ),
    ];
    for (what, body, status, says) in cases {
        let response = post(body.into()).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
        let error: Value = response.json().await.unwrap();
        assert!(error["error"]["message"].as_str().unwrap().contains(says), "{what}: {error}");
    }

    let (status, error) = client.activities(&conversation, &token, Some("yesterday")).await;
    assert_eq!(status, 400, "{error}");
    let (status, _) =
        client.call(reqwest::Method::POST, "/tokens/generate", None, Some(json!({"user": {"id": 7}}))).await;
    assert_eq!(status, 400);

    // Without `from`, the sender is the token's user; a token without a user needs `from`.
    let response = post(br#"{"type":"message","text":"who am I"}"#.to_vec().into()).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // A token made for ana speaks as ana only, whatever `from` says.
    let response = post(br#"{"type":"message","text":"I am bea","from":{"id":"bea"}}"#.to_vec().into()).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(server.bot.address_book().get("directline", "bea").await.unwrap().is_none(), "bea's address was not taken");
    let (status, anonymous) = client.call(reqwest::Method::POST, "/conversations", None, None).await;
    assert_eq!(status, 201, "development mode starts a conversation without a token: {anonymous}");
    let (status, error) = client
        .call(
            reqwest::Method::POST,
            &format!("/conversations/{}/activities", anonymous["conversationId"].as_str().unwrap()),
            anonymous["token"].as_str(),
            Some(json!({"type": "message", "text": "hi"})),
        )
        .await;
    assert_eq!(status, 400, "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("no `from`"));

    // A token for a conversation never started: 404 that says what to do.
    let generated = client.generate("bea").await;
    let unknown = generated["conversationId"].as_str().unwrap();
    let (status, error) = client.activities(unknown, generated["token"].as_str().unwrap(), None).await;
    assert_eq!(status, 404, "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("not known"));

    client.say(&conversation, &token, "ana", "still here").await;
    let page = client.until(&conversation, &token, None, 4).await;
    assert_eq!(page["activities"][0]["from"]["id"], "ana");
    assert_eq!(texts(&page)[..2], ["who am I", GREETING]);
    let impostor = page["activities"].as_array().unwrap().iter().find(|a| a["text"] == "I am bea").unwrap();
    assert_eq!(impostor["from"]["id"], "ana");
    assert!(texts(&page).contains(&"still here"));
}

#[tokio::test]
async fn a_proactive_message_after_a_restart_reopens_the_conversation() {
    let store = Arc::new(MemoryStore::new());
    let config = || client_chosen().signing_key(Some(b"kept across restarts, 32 bytes!!".to_vec()));
    let first = ChatServer::start(config(), store.clone()).await;
    let client = Client::new(&first);
    let (conversation, token, _) = client.open("ana").await;
    client.say(&conversation, &token, "ana", "hi").await;
    let page = client.until(&conversation, &token, None, 3).await;
    let watermark = page["watermark"].as_str().unwrap().to_owned();
    let address: Address = first.bot.address_book().get("directline", "ana").await.unwrap().unwrap().address;
    first.bot.flush().await;
    first.stop().await;

    // A new process, the same store and key: the conversation is not held until a message comes.
    let second = ChatServer::start(config(), store).await;
    let client = Client::new(&second);
    let (status, _) = client.activities(&conversation, &token, Some(&watermark)).await;
    assert_eq!(status, 404);
    let stored = second.bot.address_book().get("directline", "ana").await.unwrap().unwrap().address;
    assert_eq!(stored, address);
    second.bot.send(Message::new().address(stored).text("Welcome back")).await.unwrap();

    // The client reconnects with its old token and watermark and gets the message.
    let (status, reconnect) = client
        .call(reqwest::Method::GET, &format!("/conversations/{conversation}?watermark={watermark}"), Some(&token), None)
        .await;
    assert_eq!(status, 200, "{reconnect}");
    let page = client.until(&conversation, &token, Some(&watermark), 1).await;
    assert_eq!(texts(&page), ["Welcome back"]);
}

#[tokio::test]
async fn a_dropped_conversation_closes_its_stream_and_a_reconnect_opens_it_again() {
    let config = client_chosen().max_conversations(1);
    let server = ChatServer::start(config, Arc::new(MemoryStore::new())).await;
    let client = Client::new(&server);
    let (first, token, stream_url) = client.open("ana").await;
    let (mut stream, _) = tokio_tungstenite::connect_async(stream_url).await.unwrap();
    client.say(&first, &token, "ana", "hi").await;
    next_text(&mut stream, GREETING).await;

    // A second conversation takes the only place: the first one's stream closes.
    client.open("bea").await;
    assert_eq!(server.directline.conversation_count(), 1);
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.next().await {
                None | Some(Err(_)) | Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the stream of the dropped conversation stayed open");
    let (status, _) = client.activities(&first, &token, None).await;
    assert_eq!(status, 404);

    // The client reconnects (as directlinejs does) and carries on, in an empty conversation.
    let (status, reconnect) =
        client.call(reqwest::Method::GET, &format!("/conversations/{first}"), Some(&token), None).await;
    assert_eq!(status, 200, "{reconnect}");
    let (mut stream, _) = tokio_tungstenite::connect_async(reconnect["streamUrl"].as_str().unwrap()).await.unwrap();
    client.say(&first, &token, "ana", "hello again").await;
    next_text(&mut stream, "hello again").await;
}

#[tokio::test]
async fn an_expired_token_is_refused_and_says_so() {
    let key = b"the key of this test server, 32b".to_vec();
    let config = client_chosen().signing_key(Some(key.clone()));
    let server = ChatServer::start(config, Arc::new(MemoryStore::new())).await;
    let client = Client::new(&server);
    let (conversation, _, _) = client.open("ana").await;
    let expired = TokenKey::new(&key).issue(&conversation, Some("ana"), Duration::ZERO).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, error) = client.activities(&conversation, &expired, None).await;
    assert_eq!(status, 403, "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("expired"), "{error}");
    let (status, _) = client.call(reqwest::Method::POST, "/tokens/refresh", Some(&expired), None).await;
    assert_eq!(status, 403, "an expired token cannot be refreshed");
}
