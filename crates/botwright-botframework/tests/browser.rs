//! Browser and client interop tests: Node scripts in `tests/browser` (run `npm ci` there first;
//! see its README) drive headless Chromium (`/usr/bin/chromium`, or `$CHROMIUM`) and
//! `botframework-directlinejs` against a test bot served with the embedded Direct Line endpoint
//! and the built-in web chat.

mod chat_server;

use botwright::storage::MemoryStore;
use botwright_botframework::directline::{DirectLineConfig, UserIds};
use chat_server::{CARD_TITLE, ChatServer, GREETING, SUBSCRIBED, browser_dir};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// Fails, saying what to install, when the Node packages or Chromium are missing.
fn require_tools(chromium: bool) {
    let dir = browser_dir();
    for package in ["playwright-core", "botframework-webchat", "botframework-directlinejs", "ws", "xhr2"] {
        assert!(
            dir.join("node_modules").join(package).is_dir(),
            "node_modules/{package} is missing in {}: run `npm ci` there (see tests/browser/README.md)",
            dir.display()
        );
    }
    if chromium {
        let browser = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        assert!(
            Path::new(&browser).exists(),
            "{browser} is missing: install it with `apt-get install -y chromium` (or set CHROMIUM)"
        );
    }
}

/// Runs `node <script>` against `server` with the test bot's texts; fails with its output.
async fn node(script: &str, server: &ChatServer, extra: &[(&str, String)]) {
    let mut command = tokio::process::Command::new("node");
    command
        .arg(script)
        .current_dir(browser_dir())
        .env("BASE_URL", &server.base)
        .env("SAY", "hi")
        .env("EXPECT_REPLY", GREETING)
        .env("BUTTON", "Yes")
        .env("EXPECT_AFTER_BUTTON", SUBSCRIBED)
        .env("EXPECT_TYPING", "1")
        .env("EXPECT_CARD", CARD_TITLE)
        .kill_on_drop(true);
    for (name, value) in extra {
        command.env(name, value);
    }
    let output = match command.output().await {
        Ok(output) => output,
        Err(e) => panic!("could not run node (is Node.js installed?): {e}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(output.status.success(), "node {script} failed ({}):\n{stdout}\n{stderr}", output.status);
}

#[tokio::test]
async fn the_built_in_page_chats_clicks_and_receives_a_proactive_message() {
    require_tools(true);
    // One conversation at most, so that the script can see the page reconnect after its
    // conversation is dropped.
    let config = DirectLineConfig::default().max_conversations(1);
    let server = ChatServer::start(config, Arc::new(MemoryStore::new())).await;
    let screenshot = target_dir().join("webchat.png");
    let _ = std::fs::remove_file(&screenshot);
    node("webchat-page.mjs", &server, &[("SCREENSHOT", screenshot.display().to_string()), ("EVICT", "1".into())]).await;
    assert!(screenshot.is_file(), "no screenshot at {}", screenshot.display());
    // The proactive message went through the bot, to the address it stored for the page's user.
    let entries = server.bot.address_book().all().await.unwrap();
    // The endpoint assigns user ids (the default): the page used the one it was given.
    assert!(entries.iter().any(|e| e.address.channel_id == "directline" && e.address.user.id.starts_with("dl_")));
}

#[tokio::test]
async fn the_built_in_page_works_where_clients_choose_their_user_ids() {
    require_tools(true);
    let config = DirectLineConfig::default().user_ids(UserIds::ClientChosen);
    let server = ChatServer::start(config, Arc::new(MemoryStore::new())).await;
    let screenshot = target_dir().join("webchat-client-chosen.png");
    node("webchat-page.mjs", &server, &[("SCREENSHOT", screenshot.display().to_string()), ("STANDUP", "0".into())])
        .await;
    // The page named its user after the name typed in (the same name is the same user).
    let entries = server.bot.address_book().all().await.unwrap();
    assert!(entries.iter().any(|e| e.address.channel_id == "directline" && e.address.user.id.starts_with("web-ana-")));
}

#[tokio::test]
async fn the_built_in_page_keeps_its_user_after_its_token_expired() {
    require_tools(true);
    let config = DirectLineConfig::default().token_lifetime(std::time::Duration::from_secs(2));
    let server = ChatServer::start(config, Arc::new(MemoryStore::new())).await;
    node("webchat-renew.mjs", &server, &[("TOKEN_SECONDS", "2".into())]).await;
    // Two conversations, one user: the page's.
    assert_eq!(server.directline.conversation_count(), 2);
}

#[tokio::test]
async fn the_official_webchat_bundle_talks_to_the_endpoint() {
    require_tools(true);
    let server = ChatServer::start(DirectLineConfig::default(), Arc::new(MemoryStore::new())).await;
    let screenshot = target_dir().join("webchat-bundle.png");
    node("webchat-bundle.mjs", &server, &[("SCREENSHOT", screenshot.display().to_string())]).await;
    assert_eq!(server.directline.conversation_count(), 1);
}

#[tokio::test]
async fn directlinejs_from_node_does_a_full_exchange() {
    require_tools(false);
    let server = ChatServer::start(DirectLineConfig::default(), Arc::new(MemoryStore::new())).await;
    node("directlinejs.mjs", &server, &[]).await;
    assert_eq!(server.directline.conversation_count(), 1);
}
