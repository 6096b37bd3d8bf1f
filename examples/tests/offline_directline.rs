//! Interop with a real peer: the `proactive_webhook` example, in this process on 127.0.0.1, driven
//! through offline-directline (npm `offline-directline`, an unofficial Direct Line + connector
//! service) by `tests/interop/offline-directline/run.mjs`: one conversation from a plain Direct
//! Line client written with fetch, one from botframework-directlinejs.
//!
//! Needs Node.js and the script's packages: `npm ci --prefix tests/interop/offline-directline`
//! (from the repository root; see `tests/interop/README.md`).

// The example's own code: the test drives the very bot a reader runs.
#[path = "../proactive_webhook.rs"]
#[allow(dead_code, unreachable_pub)]
mod proactive_webhook;

use botwright::Storage;
use botwright_botframework::BotFrameworkConfig;
use botwright_sqlite::SqliteStore;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

/// The whole script may take this long before it is stopped (it times out each step itself).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/offline-directline")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_and_a_proactive_message_through_offline_directline() {
    let dir = interop_dir();
    assert!(
        dir.join("node_modules/offline-directline/package.json").is_file()
            && dir.join("node_modules/express/package.json").is_file()
            && dir.join("node_modules/botframework-directlinejs/package.json").is_file(),
        "the interop script's packages are not installed in {}: run `npm ci --prefix tests/interop/offline-directline` \
         from the repository root first (Node.js 20 or newer)",
        dir.display()
    );

    // The bot, on a real SQLite file, with authentication off (offline-directline sends no token).
    let temp = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(temp.path().join("bot.db")).await.unwrap());
    let config = BotFrameworkConfig::default().request_timeout(Duration::from_secs(5));
    let (bot, app) = proactive_webhook::app(store.clone(), config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let child = tokio::process::Command::new("node")
        .arg("run.mjs")
        .arg(format!("http://{addr}/api/messages"))
        .arg(format!("http://{addr}/api/notify"))
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `node` (Node.js 20 or newer must be on PATH): {e}"));
    let output = tokio::time::timeout(SCRIPT_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("run.mjs did not finish within {} s", SCRIPT_TIMEOUT.as_secs()))
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "run.mjs failed ({}).\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );
    println!("{stdout}");

    // What the script saw is also what the bot stored: one subscription per client, each with the
    // address offline-directline gave (its channel id and its service URL), in its own
    // conversation.
    let mut stored: Vec<proactive_webhook::Subscription> = store
        .scan("subscription/")
        .await
        .unwrap()
        .into_iter()
        .map(|(_, document)| serde_json::from_str(&document.json).unwrap())
        .collect();
    stored.sort_by(|a, b| a.name.cmp(&b.name));
    let chosen: Vec<(&str, &str)> = stored.iter().map(|s| (s.name.as_str(), s.topic.as_str())).collect();
    assert_eq!(chosen, [("Ana", "weather"), ("Ben", "news")]);
    assert_ne!(stored[0].address.conversation.id, stored[1].address.conversation.id);
    for subscription in &stored {
        assert_eq!(subscription.address.channel_id, "emulator");
        assert!(subscription.address.service_url.starts_with("http://127.0.0.1:"), "{:?}", subscription.address);
        assert!(subscription.address.id.is_none(), "a stored address must not reply to an old message");
    }

    bot.flush().await;
    assert_eq!(bot.pending_deliveries(), 0);
    server.abort();
}
