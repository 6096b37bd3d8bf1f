//! The embedded Direct Line endpoint against hostile clients, over real sockets: a flood of
//! large activities and history reads stays within the byte caps; a client cannot choose its
//! user (server-assigned ids), keeps its id across reloads only within the session's maximum
//! age, and cannot use another conversation; streams and conversations per address are
//! bounded; an oversized WebSocket message closes that stream only; messages for conversations
//! the endpoint does not own go to the fallback channel. The endpoint answers throughout.

mod chat_server;

use axum::Router;
use botwright::activity::{ChannelAccount, ConversationAccount};
use botwright::channel::{Channel, DeliveryError};
use botwright::storage::MemoryStore;
use botwright::testing::TestChannel;
use botwright::{Activity, Address, Bot, Message, Waterfall};
use botwright_botframework::directline::{DirectLine, DirectLineConfig, TokenKey, UserIds};
use chat_server::{GREETING, Reports};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite;

/// The test bot (`chat_server::bot`) behind the endpoint, served with the peer address of each
/// connection (as `botwright serve` does), so that per-address limits apply.
struct Server {
    base: String,
    addr: SocketAddr,
    bot: Bot,
    directline: DirectLine,
    http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(config: DirectLineConfig) -> Server {
    let directline = DirectLine::new(config);
    let bot = chat_server::bot(&directline, Arc::new(MemoryStore::new()), Reports::default());
    serve_bot(directline, bot).await
}

async fn serve_bot(directline: DirectLine, bot: Bot) -> Server {
    let app: Router = directline.router(bot.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    Server { base: format!("http://{addr}/v3/directline"), addr, bot, directline, http, task }
}

impl Server {
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

    /// Generates (no user named) and starts: the start answer.
    async fn open(&self) -> Value {
        let (status, generated) = self.call(reqwest::Method::POST, "/tokens/generate", None, None).await;
        assert_eq!(status, 200, "{generated}");
        let (status, started) =
            self.call(reqwest::Method::POST, "/conversations", generated["token"].as_str(), None).await;
        assert_eq!(status, 201, "{started}");
        started
    }

    async fn post(&self, conversation: &str, token: &str, activity: Value) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            &format!("/conversations/{conversation}/activities"),
            Some(token),
            Some(activity),
        )
        .await
    }

    async fn history(&self, conversation: &str, token: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, &format!("/conversations/{conversation}/activities"), Some(token), None).await
    }

    fn stream_url(&self, conversation: &str, token: &str) -> String {
        format!("ws://{}/v3/directline/conversations/{conversation}/stream?t={token}", self.addr)
    }

    /// The endpoint still answers: a new conversation, a message and the bot's reply.
    async fn still_answers(&self) {
        let started = self.open().await;
        let (id, token) = (started["conversationId"].as_str().unwrap(), started["token"].as_str().unwrap());
        let (status, body) = self.post(id, token, json!({"type": "message", "text": "hi"})).await;
        assert_eq!(status, 200, "{body}");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (status, page) = self.history(id, token).await;
            assert_eq!(status, 200, "{page}");
            if page["activities"].as_array().unwrap().iter().any(|a| a["text"] == GREETING) {
                return;
            }
            assert!(Instant::now() < deadline, "no greeting: {page}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn str_of<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field].as_str().unwrap_or_else(|| panic!("no {field} in {value}"))
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn a_flood_of_large_activities_and_reads_stays_within_the_caps() {
    const PER_CONVERSATION: usize = 256 * 1024;
    const TOTAL: usize = 1024 * 1024;
    const BODY: usize = 64 * 1024;
    let config =
        DirectLineConfig::default().max_history_bytes(PER_CONVERSATION).max_total_history_bytes(TOTAL).body_limit(BODY);
    let server = serve(config).await;
    let conversations: Vec<Value> = futures::future::join_all((0..6).map(|_| server.open())).await;
    // A stream on one of them reads along.
    let first = &conversations[0];
    let (mut stream, _) =
        tokio_tungstenite::connect_async(server.stream_url(str_of(first, "conversationId"), str_of(first, "token")))
            .await
            .unwrap();

    let payload = "x".repeat(BODY - 1024);
    for round in 0..20 {
        for started in &conversations {
            let (id, token) = (str_of(started, "conversationId"), str_of(started, "token"));
            let event = json!({"type": "event", "name": "flood", "value": format!("{round}{payload}")});
            let (status, body) = server.post(id, token, event).await;
            assert_eq!(status, 200, "{body}");
            let held = server.directline.held_bytes();
            assert!(held <= TOTAL + BODY + 4096, "{held} bytes held after round {round}");
        }
        // Reads of every history, also concurrent ones, hold nothing more.
        let reads = conversations.iter().map(|c| server.history(str_of(c, "conversationId"), str_of(c, "token")));
        for (status, page) in futures::future::join_all(reads).await {
            assert_eq!(status, 200);
            let bytes: usize = page["activities"].as_array().unwrap().iter().map(|a| a.to_string().len()).sum();
            assert!(bytes <= PER_CONVERSATION + BODY + 4096, "a page of {bytes} bytes");
        }
    }
    assert!(server.directline.held_bytes() <= TOTAL + BODY + 4096);
    assert!(server.directline.held_bytes() > TOTAL / 2, "the history is used, not dropped whole");

    // The newest activity of the last conversation written is there, and the stream got
    // frames, each a valid page with a watermark.
    let last = conversations.last().unwrap();
    let (_, page) = server.history(str_of(last, "conversationId"), str_of(last, "token")).await;
    let activities = page["activities"].as_array().unwrap();
    assert!(activities.last().unwrap()["value"].as_str().unwrap().starts_with("19"));
    let frame = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap().unwrap().unwrap();
    let frame: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
    assert!(frame["watermark"].is_string() && frame["activities"].is_array(), "{frame}");
    server.still_answers().await;
}

#[tokio::test]
async fn a_client_cannot_choose_its_user_when_the_server_assigns_them() {
    let secret = "the-secret-of-this-test-endpoint";
    let server = serve(DirectLineConfig::default()).await;
    assert_eq!(server.directline.user_ids(), UserIds::ServerAssigned, "the default");

    // Naming a user without the secret is refused, saying why.
    for body in [json!({"user": {"id": "teams-user-29"}}), json!({"User": {"Id": "teams-user-29"}})] {
        let (status, error) = server.call(reqwest::Method::POST, "/tokens/generate", None, Some(body)).await;
        assert_eq!(status, 403, "{error}");
        assert!(str_of(&error["error"], "message").contains("assigns user ids"), "{error}");
    }

    // Without a name, the server assigns one and says which.
    let (status, generated) =
        server.call(reqwest::Method::POST, "/tokens/generate", None, Some(json!({"user": {"name": "Eve"}}))).await;
    assert_eq!(status, 200, "{generated}");
    let user = str_of(&generated, "userId").to_owned();
    assert!(user.starts_with("dl_") && user.len() == 35, "{user}");
    let (status, started) =
        server.call(reqwest::Method::POST, "/conversations", generated["token"].as_str(), None).await;
    assert_eq!(status, 201);
    assert_eq!(started["userId"], user.as_str());
    let (conversation, token) = (str_of(&started, "conversationId"), str_of(&started, "token"));

    // Whatever `from` says, the activity is the token's user's.
    let (status, _) = server
        .post(conversation, token, json!({"type": "message", "text": "I am them", "from": {"id": "teams-user-29"}}))
        .await;
    assert_eq!(status, 200);
    let (_, page) = server.history(conversation, token).await;
    let mine = page["activities"].as_array().unwrap().iter().find(|a| a["text"] == "I am them").unwrap();
    assert_eq!(mine["from"]["id"], user.as_str());
    server.bot.flush().await;
    assert!(server.bot.address_book().get("directline", "teams-user-29").await.unwrap().is_none());
    assert!(server.bot.address_book().get("directline", &user).await.unwrap().is_some());

    // An anonymous start is assigned a user too, another one.
    let (status, anonymous) = server.call(reqwest::Method::POST, "/conversations", None, None).await;
    assert_eq!(status, 201, "{anonymous}");
    assert!(str_of(&anonymous, "userId").starts_with("dl_"));
    assert_ne!(anonymous["userId"], user.as_str());

    // A browser that comes back sends its last token (also expired): a new conversation, the
    // same user.
    let (status, renewed) = server
        .call(reqwest::Method::POST, "/tokens/generate", Some(token), Some(json!({"user": {"name": "Eve"}})))
        .await;
    assert_eq!(status, 200, "{renewed}");
    assert_eq!(renewed["userId"], user.as_str());
    assert_ne!(renewed["conversationId"], conversation);
    let key = server.directline.token_key();
    let expired = key.issue_in_session(conversation, Some(&user), Duration::ZERO, now_secs() - 3600).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, renewed) = server.call(reqwest::Method::POST, "/tokens/generate", Some(&expired), None).await;
    assert_eq!(status, 200, "{renewed}");
    assert_eq!(renewed["userId"], user.as_str());
    // ... but it cannot name another user, nor outlive the session's maximum age.
    let (status, _) = server
        .call(reqwest::Method::POST, "/tokens/generate", Some(&expired), Some(json!({"user": {"id": "teams-user-29"}})))
        .await;
    assert_eq!(status, 403);
    let old = key.issue_in_session(conversation, Some(&user), Duration::from_secs(60), now_secs() - 25 * 3600).unwrap();
    for path in ["/tokens/generate", "/tokens/refresh"] {
        let (status, error) = server.call(reqwest::Method::POST, path, Some(&old), None).await;
        assert_eq!(status, 403, "{path}: {error}");
        assert!(str_of(&error["error"], "message").contains("start a new conversation"), "{error}");
    }
    // A token that is not ours renews nothing.
    let forged = TokenKey::new(b"not the key of this endpoint!!!!")
        .issue(conversation, Some("teams-user-29"), Duration::from_secs(60))
        .unwrap();
    let (status, _) = server.call(reqwest::Method::POST, "/tokens/generate", Some(&forged), None).await;
    assert_eq!(status, 403);

    // A token that names no user (one a secret's holder got for a stream URL) cannot speak as
    // the user an activity names.
    let userless = key.issue(conversation, None, Duration::from_secs(60)).unwrap();
    let (status, error) = server
        .post(conversation, &userless, json!({"type": "message", "text": "hi", "from": {"id": "teams-user-29"}}))
        .await;
    assert_eq!(status, 403, "{error}");

    // With a secret, its holder (a token server) names any user; without it, nobody does.
    let guarded = serve(DirectLineConfig::default().secret(Some(secret.into()))).await;
    let (status, named) = guarded
        .call(reqwest::Method::POST, "/tokens/generate", Some(secret), Some(json!({"user": {"id": "teams-user-29"}})))
        .await;
    assert_eq!(status, 200, "{named}");
    assert_eq!(named["userId"], "teams-user-29");
    let (status, _) = guarded.call(reqwest::Method::POST, "/tokens/generate", None, None).await;
    assert_eq!(status, 403, "no secret, no token");
    server.still_answers().await;
}

#[tokio::test]
async fn a_token_for_one_conversation_opens_no_other() {
    let server = serve(DirectLineConfig::default()).await;
    let a = server.open().await;
    let b = server.open().await;
    let (a_token, b_id) = (str_of(&a, "token"), str_of(&b, "conversationId"));
    let (status, error) = server.history(b_id, a_token).await;
    assert_eq!(status, 403, "{error}");
    assert!(str_of(&error["error"], "message").contains(b_id));
    let (status, _) = server.post(b_id, a_token, json!({"type": "message", "text": "hi"})).await;
    assert_eq!(status, 403);
    let (status, _) = server.call(reqwest::Method::GET, &format!("/conversations/{b_id}"), Some(a_token), None).await;
    assert_eq!(status, 403);
    match tokio_tungstenite::connect_async(server.stream_url(b_id, a_token)).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("the stream of B opened with A's token: {other:?}"),
    }
    let (status, page) = server.history(b_id, str_of(&b, "token")).await;
    assert_eq!(status, 200);
    assert!(page["activities"].as_array().unwrap().iter().all(|a| a["text"] != "hi"), "nothing was posted to B");
}

#[tokio::test]
async fn a_conversation_the_endpoint_did_not_open_is_not_opened_for_a_token() {
    let server = serve(DirectLineConfig::default()).await;
    let started = server.open().await;
    let held = server.directline.conversation_count();
    // A token of ours (the key leaked into a token server, or one from before ids were tagged)
    // for a conversation id this endpoint never made.
    let made_up = "8a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d";
    let token = server.directline.token_key().issue(made_up, Some("dl_someone"), Duration::from_secs(60)).unwrap();
    let (status, error) =
        server.call(reqwest::Method::GET, &format!("/conversations/{made_up}"), Some(&token), None).await;
    assert_eq!(status, 404, "{error}");
    assert!(str_of(&error["error"], "message").contains("not known"), "{error}");
    let (status, _) = server.call(reqwest::Method::POST, "/conversations", Some(&token), None).await;
    assert_eq!(status, 404);
    let (status, _) = server.post(made_up, &token, json!({"type": "message", "text": "hi"})).await;
    assert_eq!(status, 404);
    assert_eq!(server.directline.conversation_count(), held, "nothing was opened");
    // Such a client renews its session into a conversation of ours, as the same user.
    let (status, renewed) = server.call(reqwest::Method::POST, "/tokens/generate", Some(&token), None).await;
    assert_eq!(status, 200, "{renewed}");
    assert_eq!(renewed["userId"], "dl_someone");
    assert!(server.directline.owns(str_of(&renewed, "conversationId")));
    assert!(server.directline.owns(str_of(&started, "conversationId")));
}

#[tokio::test]
async fn streams_per_conversation_are_bounded() {
    let server = serve(DirectLineConfig::default().max_streams_per_conversation(2)).await;
    let started = server.open().await;
    let url = server.stream_url(str_of(&started, "conversationId"), str_of(&started, "token"));
    let (first, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let (_second, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    match tokio_tungstenite::connect_async(&url).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 429);
            let body: Value = serde_json::from_slice(response.body().as_deref().unwrap_or_default()).unwrap();
            assert!(str_of(&body["error"], "message").contains("2 streams"), "{body}");
        }
        other => panic!("a third stream opened: {other:?}"),
    }
    // A stream that ends gives its place back.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match tokio_tungstenite::connect_async(&url).await {
            Ok(_) => break,
            Err(tungstenite::Error::Http(response)) if response.status() == 429 => {
                assert!(Instant::now() < deadline, "the closed stream's place never came back");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
    server.still_answers().await;
}

#[tokio::test]
async fn a_stream_whose_client_stops_reading_is_closed() {
    let config =
        DirectLineConfig::default().max_streams_per_conversation(1).stream_send_timeout(Duration::from_secs(1));
    let server = serve(config).await;
    let started = server.open().await;
    let (conversation, token) = (str_of(&started, "conversationId"), str_of(&started, "token"));
    let url = server.stream_url(conversation, token);
    // Opened, then never read: the socket's buffers fill up.
    let (_stuck, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let payload = "y".repeat(60 * 1024);
    for i in 0..400 {
        let (status, body) =
            server.post(conversation, token, json!({"type": "event", "value": format!("{i}{payload}")})).await;
        assert_eq!(status, 200, "{body}");
    }
    // The stuck stream is closed and gives its place back.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match tokio_tungstenite::connect_async(&url).await {
            Ok(_) => break,
            Err(tungstenite::Error::Http(response)) if response.status() == 429 => {
                assert!(Instant::now() < deadline, "the stream of a client that stopped reading was never closed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
    server.still_answers().await;
}

#[tokio::test]
async fn an_oversized_websocket_message_closes_that_stream_only() {
    let server = serve(DirectLineConfig::default().max_client_message_bytes(1024)).await;
    let started = server.open().await;
    let (conversation, token) = (str_of(&started, "conversationId"), str_of(&started, "token"));
    let url = server.stream_url(conversation, token);
    let (mut hostile, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let (mut calm, _) = tokio_tungstenite::connect_async(&url).await.unwrap();

    hostile.send(tungstenite::Message::text("x".repeat(64 * 1024))).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match hostile.next().await {
                Some(Ok(tungstenite::Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                None | Some(Err(_)) => return None,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("the hostile stream stayed open");
    if let Some(code) = closed {
        assert_eq!(code, 1009, "closed as too big");
    }

    // The other stream of the same conversation still gets the bot's answers.
    let (status, _) = server.post(conversation, token, json!({"type": "message", "text": "hi"})).await;
    assert_eq!(status, 200);
    let greeting = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(frame) = calm.next().await {
            let tungstenite::Message::Text(text) = frame.unwrap() else { continue };
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["activities"].as_array().unwrap().iter().any(|a| a["text"] == GREETING) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(greeting, Ok(true), "the calm stream got the greeting");
}

#[tokio::test]
async fn conversations_per_client_address_are_bounded() {
    let secret = "the-secret-of-this-test-endpoint";
    let server = serve(DirectLineConfig::default().conversations_per_minute_per_client(3)).await;
    for _ in 0..2 {
        let (status, _) = server.call(reqwest::Method::POST, "/tokens/generate", None, None).await;
        assert_eq!(status, 200);
    }
    let (status, _) = server.call(reqwest::Method::POST, "/conversations", None, None).await;
    assert_eq!(status, 201);
    let response = server.http.post(format!("{}/tokens/generate", server.base)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let error: Value = response.json().await.unwrap();
    assert!(str_of(&error["error"], "message").contains("too many conversations"), "{error}");
    let (status, _) = server.call(reqwest::Method::POST, "/conversations", None, None).await;
    assert_eq!(status, 429);
    // A refused request (it names a user) is not counted; the conversations already open work.
    let guarded =
        serve(DirectLineConfig::default().secret(Some(secret.into())).conversations_per_minute_per_client(1)).await;
    for _ in 0..3 {
        let (status, _) = guarded.call(reqwest::Method::POST, "/tokens/generate", Some(secret), None).await;
        assert_eq!(status, 200, "the secret's holder is a token server: not limited");
    }
}

fn address_for(conversation: &str) -> Address {
    Address::new(
        "directline",
        "https://directline.botframework.com/",
        ChannelAccount::new("someone"),
        ChannelAccount::new("bot"),
        ConversationAccount::new(conversation),
    )
}

#[tokio::test]
async fn conversations_the_endpoint_does_not_own_go_to_the_fallback() {
    let directline = DirectLine::new(DirectLineConfig::default());
    let (fallback, mut received) = TestChannel::new();
    let routed = directline.channel_or(fallback.clone());

    // The Direct Line channel alone refuses a conversation it did not open, and holds nothing.
    let foreign = address_for("KwCnv1ao5Hq2tZ8hG4Xb9c-us");
    let activity = Activity { text: Some("hello".into()), ..Activity::default() };
    let refused = directline.channel().deliver(&foreign, &activity).await;
    assert!(matches!(refused, Err(DeliveryError::InvalidAddress(_))), "{refused:?}");
    assert!(!refused.unwrap_err().is_retryable());
    assert_eq!(directline.conversation_count(), 0);

    // The wiring `serve` uses: channel id `directline` through the routing channel.
    let bot = Bot::builder()
        .store(Arc::new(MemoryStore::new()))
        .channel("directline", routed)
        .dialog(
            "/",
            Waterfall::new().step(|session, _| async move {
                session.send(GREETING);
                Ok(())
            }),
        )
        .build();
    let server = serve_bot(directline.clone(), bot).await;
    let started = server.open().await;
    let (own, token) = (str_of(&started, "conversationId"), str_of(&started, "token"));
    assert!(server.directline.owns(own));

    // Azure's Direct Line conversation (same channel id): to the fallback.
    server.bot.send(Message::new().address(foreign.clone()).text("to Azure's user")).await.unwrap();
    let (to, sent) = tokio::time::timeout(Duration::from_secs(10), received.recv()).await.unwrap().unwrap();
    assert_eq!(to.conversation.id, foreign.conversation.id);
    assert_eq!(sent.text.as_deref(), Some("to Azure's user"));
    assert_eq!(server.directline.conversation_count(), 1, "nothing opened for it");

    // Ours: to the endpoint, not the fallback.
    server.bot.send(Message::new().address(address_for(own)).text("to our user")).await.unwrap();
    let (_, page) = server.history(own, token).await;
    assert!(page["activities"].as_array().unwrap().iter().any(|a| a["text"] == "to our user"), "{page}");
    assert!(received.try_recv().is_err(), "the fallback got nothing more");
}
