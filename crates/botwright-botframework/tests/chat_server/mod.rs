//! A small bot served over real HTTP with the embedded Direct Line endpoint and the built-in web
//! chat, for the Direct Line and browser tests. Its web hooks have the sample bot's shapes
//! (`GET /api/subscriptions`, `POST /api/notify {address, notification}`, `POST /api/standup
//! {members, reportId}`, `GET /api/standup/{reportId}`), so the browser scripts run unchanged
//! against `botwright serve`.
#![allow(dead_code, unreachable_pub)]

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use botwright::activity::{CardAction, HeroCard};
use botwright::storage::MemoryStore;
use botwright::{Address, Bot, Message, Prompt, StackPolicy, Waterfall};
use botwright_botframework::directline::{DirectLine, DirectLineConfig};
use botwright_botframework::webchat::{WebChatOptions, webchat_router};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub const GREETING: &str = "Hello! Commands: subscribe, locale en, locale es.";
pub const QUESTION: &str = "Subscribe to notifications?";
pub const SUBSCRIBED: &str = "subscription created";
pub const DECLINED: &str = "maybe later";
pub const CARD_TITLE: &str = "Subscribed";

pub const STANDUP_QUESTION: &str = "What is your status for today?";
pub const STANDUP_THANKS: &str = "Got it... Thanks!";

/// Standup reports: report id → user id → status.
pub type Reports = Arc<Mutex<HashMap<String, Map<String, Value>>>>;

/// The test bot: a typing indicator and the greeting, then a confirm prompt (Yes / No buttons);
/// "Yes" is answered with a hero card. Dialog `standup` asks for a status and files it in
/// `reports`.
pub fn bot(directline: &DirectLine, store: Arc<MemoryStore>, reports: Reports) -> Bot {
    Bot::builder()
        .dialog(
            "standup",
            Waterfall::new()
                .step(|session, args| async move {
                    let report = args.response.as_ref().and_then(|a| a.get("reportId")).cloned();
                    session.dialog_data().set("reportId", report.unwrap_or_default());
                    session.prompt(Prompt::text(STANDUP_QUESTION));
                    Ok(())
                })
                .step(move |session, answer| {
                    let reports = reports.clone();
                    async move {
                        let report: String = session.dialog_data().get("reportId").unwrap_or_default();
                        let status = answer.text().unwrap_or_default().to_owned();
                        let user = session.address().user.id.clone();
                        reports.lock().unwrap().entry(report).or_default().insert(user, Value::String(status));
                        session.end_dialog_with_message(STANDUP_THANKS);
                        Ok(())
                    }
                }),
        )
        .store(store)
        .channel("directline", directline.channel())
        .dialog(
            "/",
            Waterfall::new()
                .step(|session, _| async move {
                    session.send_typing();
                    session.send(GREETING);
                    session.prompt(Prompt::confirm(QUESTION));
                    Ok(())
                })
                .step(|session, answer| async move {
                    if answer.confirmed() == Some(true) {
                        let card = HeroCard::new(CARD_TITLE)
                            .text("You will hear from this bot.")
                            .button(CardAction::open_url("About", "https://example.com/about"));
                        session.end_dialog_with_message(Message::new().text(SUBSCRIBED).hero_card(card));
                    } else {
                        session.end_dialog_with_message(DECLINED);
                    }
                    Ok(())
                }),
        )
        .build()
}

/// The browser test files (`tests/browser`).
pub fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("browser")
}

pub struct ChatServer {
    pub base: String,
    pub addr: SocketAddr,
    pub bot: Bot,
    pub directline: DirectLine,
    pub store: Arc<MemoryStore>,
    task: tokio::task::JoinHandle<()>,
}

impl ChatServer {
    /// Serves the test bot on 127.0.0.1 (port 0) with `config`, keeping state in `store`.
    pub async fn start(config: DirectLineConfig, store: Arc<MemoryStore>) -> ChatServer {
        let directline = DirectLine::new(config);
        let reports = Reports::default();
        let bot = bot(&directline, store.clone(), reports.clone());
        let app = Router::new()
            .merge(directline.router(bot.clone()))
            .merge(webchat_router(&WebChatOptions::default().title("botwright test").sample_panel(true)))
            .merge(hooks(bot.clone(), reports))
            .route("/interop.html", get(|| async { file("interop.html", "text/html; charset=utf-8").await }))
            .route(
                "/vendor/webchat.js",
                get(|| async { file("node_modules/botframework-webchat/dist/webchat.js", "text/javascript").await }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        ChatServer { base: format!("http://{addr}"), addr, bot, directline, store, task }
    }

    /// Stops serving (the "process" ends; the store stays).
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

async fn file(relative: &str, content_type: &'static str) -> Response {
    match tokio::fs::read(browser_dir().join(relative)).await {
        Ok(bytes) => ([(axum::http::header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(e) => (StatusCode::NOT_FOUND, format!("{relative}: {e} (run `npm ci` in tests/browser)")).into_response(),
    }
}

/// The sample's web hooks in small: the subscription list (the address book), notify, and the
/// standup with its report.
fn hooks(bot: Bot, reports: Reports) -> Router {
    Router::new()
        .route("/api/subscriptions", get(subscriptions))
        .route("/api/notify", post(notify))
        .with_state(bot.clone())
        .merge(
            Router::new()
                .route("/api/standup", post(standup))
                .route("/api/standup/{report}", get(report))
                .with_state((bot, reports)),
        )
}

async fn standup(State((bot, reports)): State<(Bot, Reports)>, body: axum::body::Bytes) -> Response {
    let bad = |message: &str| (StatusCode::BAD_REQUEST, axum::Json(json!({ "error": message }))).into_response();
    let Ok(body) = serde_json::from_slice::<Value>(&body) else { return bad("the body is not JSON") };
    let Some(report) = body.get("reportId").and_then(Value::as_str) else { return bad("no reportId") };
    let Some(members) = body.get("members").and_then(Value::as_array) else { return bad("no members") };
    reports.lock().unwrap().entry(report.to_owned()).or_default();
    for member in members {
        let Some(Ok(address)) = member.get("address").map(Address::from_value) else { return bad("a bad address") };
        if let Err(e) = bot.begin_dialog(&address, "standup", json!({ "reportId": report }), StackPolicy::Replace).await
        {
            return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({ "error": e.to_string() }))).into_response();
        }
    }
    axum::Json(json!({})).into_response()
}

async fn report(
    State((_, reports)): State<(Bot, Reports)>,
    axum::extract::Path(report): axum::extract::Path<String>,
) -> Response {
    axum::Json(reports.lock().unwrap().get(&report).cloned().unwrap_or_default()).into_response()
}

async fn subscriptions(State(bot): State<Bot>) -> Response {
    match bot.address_book().all().await {
        Ok(entries) => axum::Json(
            entries
                .into_iter()
                .map(|e| json!({ "userId": e.address.user.id, "address": e.address }))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({ "error": e.to_string() }))).into_response(),
    }
}

async fn notify(State(bot): State<Bot>, body: axum::body::Bytes) -> Response {
    let bad = |message: String| (StatusCode::BAD_REQUEST, axum::Json(json!({ "error": message }))).into_response();
    let Ok(body) = serde_json::from_slice::<Value>(&body) else { return bad("the body is not JSON".into()) };
    let address = match body.get("address").map(Address::from_value) {
        Some(Ok(address)) => address,
        Some(Err(e)) => return bad(e.to_string()),
        None => return bad("no address".into()),
    };
    let Some(text) = body.get("notification").and_then(Value::as_str) else { return bad("no notification".into()) };
    match bot.send(Message::new().address(address).text(text.to_owned())).await {
        Ok(receipt) => axum::Json(json!({ "id": receipt.activity_id })).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({ "error": e.to_string() }))).into_response(),
    }
}
