//! # Localized: one bot, several languages, proactive messages included
//!
//! Texts are looked up by message id in the user's language. The user picks a language once
//! (`set_preferred_locale` stores it with the user's data, across conversations), and every later
//! message speaks it — replies and proactive messages alike, although a proactive message has no
//! incoming activity to take a locale from.
//!
//! ```text
//! user> hi
//! bot>  Hello! Say "language es" or "language en" to choose how I speak.
//! user> language es
//! bot>  A partir de ahora hablo español.
//! ```
//!
//! ```text
//! cargo run -p botwright-examples --example localized     # PORT=3978
//! curl -s http://127.0.0.1:3978/api/shipped -H 'content-type: application/json' \
//!      -d '{"channelId": "emulator", "userId": "<the user id>", "orderId": "A-17"}'
//! # the user reads: Tu pedido A-17 ha sido enviado.
//! ```
//!
//! | request | answer |
//! | --- | --- |
//! | `POST /api/shipped {"channelId", "userId", "orderId"}` | 200 `{"id"}` once the channel accepted the message; 404 for a user the bot has never heard from; 500 when it was not delivered; 400 for a bad body |
//!
//! Two catalog formats are shown: English as a Project Fluent catalog, Spanish as a Bot Builder v3
//! JSON table. A real bot keeps them in files (`Localizer::builder().fluent_dir("locales")`,
//! `.v3_dir("locale")`); here they are inline so the example stays one file. The prompts'
//! built-in texts (retry messages, yes/no) already come in English, Spanish, German, French and
//! Portuguese.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use botwright::locale::{LocaleError, Localizer};
use botwright::storage::MemoryStore;
use botwright::text::Args;
use botwright::{Bot, Message, Waterfall};
use botwright_botframework::BotFramework;
use serde_json::{Value, json};
use std::sync::Arc;

/// English, in Project Fluent syntax (`locales/en/main.ftl` in a real bot). Positional arguments
/// reach Fluent as `$arg1`, `$arg2`, ...
const ENGLISH_FTL: &str = r#"
welcome = Hello! Say "language es" or "language en" to choose how I speak.
language-set = From now on I speak English.
shipped = Your order { $arg1 } has shipped.
"#;

/// Spanish, as a Bot Builder v3 table (`locale/es/index.json` in a real bot). `%s` takes the
/// positional arguments in order.
const SPANISH_JSON: &str = r#"{
    "welcome": "¡Hola! Di \"language es\" o \"language en\" para elegir el idioma.",
    "language-set": "A partir de ahora hablo español.",
    "shipped": "Tu pedido %s ha sido enviado."
}"#;

/// The languages a user may choose.
const LANGUAGES: [&str; 2] = ["en", "es"];

/// The catalogs. Every one is read and checked here, once: a syntax error or a missing message
/// reference stops the bot at start with the file, line and column, not in the middle of a
/// conversation.
pub fn localizer() -> Result<Localizer, LocaleError> {
    Localizer::builder()
        .default_locale("en")
        .fluent("en", "en/main.ftl", ENGLISH_FTL)
        .v3_table("es", "index.json", SPANISH_JSON)
        .build()
}

/// The dialog: `language <tag>` chooses the language, anything else gets the welcome.
pub fn language_menu() -> Waterfall {
    Waterfall::new().step(|session, _| async move {
        let said = session.message().text().trim().to_lowercase();
        match said.strip_prefix("language ").map(str::trim) {
            Some(language) if LANGUAGES.contains(&language) => {
                // Stored with the user's data; it applies at once, to this reply too.
                session.set_preferred_locale(language);
                session.send_localized("language-set", Args::new());
            }
            _ => session.send_localized("welcome", Args::new()),
        }
        session.end_dialog();
        Ok(())
    })
}

/// `POST /api/shipped {"channelId", "userId", "orderId"}`: tells the user, in the user's language,
/// that an order has shipped.
pub async fn shipped(State(bot): State<Bot>, body: Bytes) -> Response {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => return failure(StatusCode::BAD_REQUEST, format!("the body is not JSON: {e}")),
    };
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
    let (Some(channel_id), Some(user_id), Some(order_id)) = (field("channelId"), field("userId"), field("orderId"))
    else {
        return failure(StatusCode::BAD_REQUEST, "the body needs string `channelId`, `userId` and `orderId`");
    };
    // The address book holds the freshest address of every user who wrote to the bot.
    let entry = match bot.address_book().get(&channel_id, &user_id).await {
        Ok(Some(entry)) => entry,
        Ok(None) => return failure(StatusCode::NOT_FOUND, format!("user {user_id:?} never wrote to the bot")),
        Err(e) => return failure(StatusCode::INTERNAL_SERVER_ERROR, format!("the store failed: {e}")),
    };
    // A message by id: `Bot::send` resolves it in the user's stored preferred locale (else the
    // locale of the user's last activity, else the bot's default) just before it leaves.
    let message = Message::localized("shipped").arg(order_id).address(entry.address);
    match bot.send(message).await {
        Ok(receipt) => Json(json!({ "id": receipt.activity_id })).into_response(),
        Err(e) => failure(StatusCode::INTERNAL_SERVER_ERROR, format!("not delivered: {e}")),
    }
}

fn failure(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let store = Arc::new(MemoryStore::new());
    let bot_framework = BotFramework::from_env()?;
    let bot = Bot::builder()
        .store(store)
        .localizer(localizer()?)
        .default_channel(Arc::new(bot_framework.channel()))
        .dialog("/", language_menu())
        .build();

    let app = Router::new()
        .route("/api/shipped", post(shipped))
        .with_state(bot.clone())
        .merge(bot_framework.router(bot.clone()));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port()?)).await?;
    tracing::info!("localized bot listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).with_graceful_shutdown(ctrl_c()).await?;
    bot.flush().await;
    Ok(())
}

/// The port from `PORT`, 3978 when unset.
fn port() -> Result<u16, String> {
    match std::env::var("PORT") {
        Ok(text) => text.trim().parse().map_err(|e| format!("PORT={text} is not a port number: {e}")),
        Err(_) => Ok(3978),
    }
}

/// Resolves when the user presses Ctrl-C.
async fn ctrl_c() {
    if let Err(e) = tokio::signal::ctrl_c().await {
        tracing::warn!(error = %e, "cannot listen for Ctrl-C; stop the process another way");
        std::future::pending::<()>().await;
    }
}
