//! The built-in web chat: a page at `GET /` where a person picks a name and chats with the bot
//! through the embedded Direct Line endpoint ([`crate::directline`]): REST to post, a WebSocket
//! to receive (polling when the WebSocket fails), typing indicators, suggested actions as
//! buttons (a click sends the value as an `imBack`), hero cards and images, and proactive
//! messages as they arrive.
//!
//! Who the person is follows the endpoint's [`UserIds`](crate::directline::UserIds): where the
//! server assigns user ids (the default), the page uses the id it is given and keeps it in the
//! browser's `localStorage` with its last token; after a reload, an expired token or a restart,
//! it sends that token to `tokens/generate` and carries on as the same user in a new
//! conversation (until the session's maximum age; "leave" forgets it). Where clients choose, the
//! page names its user after the name typed in (`web-` and the name made a slug), so the same
//! name is the same user. The page refreshes its token before it expires.
//!
//! The page is plain HTML, CSS and JavaScript embedded in the binary: no build step, nothing
//! fetched from the internet. With [`WebChatOptions::sample_panel`], a side panel fires the
//! sample bot's web hooks (`GET /api/subscriptions`, `POST /api/notify`, `POST /api/standup`,
//! `GET /api/standup/{reportId}`), for the people chatting in the page.
//!
//! ```no_run
//! use botwright::Bot;
//! use botwright_botframework::directline::{DirectLine, DirectLineConfig};
//! use botwright_botframework::webchat::{WebChatOptions, webchat_router};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let directline = DirectLine::new(DirectLineConfig::default());
//! let bot = Bot::builder().channel("directline", directline.channel()).build();
//! let app = axum::Router::new()
//!     .merge(directline.router(bot))
//!     .merge(webchat_router(&WebChatOptions::default().sample_panel(true)));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3978").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use std::sync::Arc;

const INDEX: &str = include_str!("../../assets/webchat/index.html");
const SCRIPT: &str = include_str!("../../assets/webchat/app.js");
const STYLE: &str = include_str!("../../assets/webchat/style.css");

/// How the web chat page looks and what it shows.
#[derive(Debug, Clone)]
pub struct WebChatOptions {
    /// The page's title (default `botwright`).
    pub title: String,
    /// Whether the panel for the sample bot's web hooks is shown (default no).
    pub sample_panel: bool,
    /// Where the Direct Line endpoint is, as seen from the browser (default `/v3/directline`).
    pub directline_path: String,
}

impl Default for WebChatOptions {
    fn default() -> Self {
        WebChatOptions {
            title: "botwright".into(),
            sample_panel: false,
            directline_path: crate::directline::BASE_PATH.into(),
        }
    }
}

impl WebChatOptions {
    /// Sets the page's title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Shows (or hides) the panel for the sample's web hooks.
    pub fn sample_panel(mut self, on: bool) -> Self {
        self.sample_panel = on;
        self
    }

    /// Sets where the Direct Line endpoint is, as seen from the browser.
    pub fn directline_path(mut self, path: impl Into<String>) -> Self {
        self.directline_path = path.into();
        self
    }
}

/// Escapes text for HTML content and attribute values.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page, with its options written in.
fn page(options: &WebChatOptions) -> String {
    let config = json!({
        "directLine": options.directline_path.trim_end_matches('/'),
        "samplePanel": options.sample_panel,
    })
    .to_string()
    // Inside <script>, "</script>" must not appear; JSON allows "<" escaped.
    .replace('<', "\\u003c");
    INDEX.replace("__TITLE__", &escape_html(&options.title)).replace("__CONFIG__", &config)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], body).into_response()
}

/// The router with the web chat: `GET /`, `GET /webchat/app.js`, `GET /webchat/style.css`.
/// Mount it next to the Direct Line router ([`crate::directline::DirectLine::router`]).
pub fn webchat_router(options: &WebChatOptions) -> Router {
    let index: Arc<str> = page(options).into();
    Router::new()
        .route("/", get(move || async move { Html(index.to_string()) }))
        .route("/webchat/app.js", get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/webchat/style.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_written_into_the_page_safely() {
        let html =
            page(&WebChatOptions::default().title("<b>Bot</b>").sample_panel(true).directline_path("/dl/</script>"));
        assert!(html.contains("<title>&lt;b&gt;Bot&lt;/b&gt;</title>"));
        assert!(html.contains(r#""samplePanel":true"#));
        assert!(!html.contains("/dl/</script>"));
        assert!(html.contains(r#""directLine":"/dl/\u003c/script>""#));
        assert!(!html.contains("__CONFIG__") && !html.contains("__TITLE__"));
    }
}
