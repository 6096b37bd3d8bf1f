//! `botwright serve` in a browser: headless Chromium opens the built-in web chat, types, sees the
//! greeting, clicks a suggested action, receives a proactive notification fired through the web
//! hook, runs a standup from the panel, and saves a screenshot (`target/serve-webchat.png`);
//! `botframework-directlinejs` from Node talks to the embedded Direct Line endpoint, WebSocket
//! stream included. The Node scripts live in `crates/botwright-botframework/tests/browser` (run
//! `npm ci` there first; `scripts/test` does).

mod support;

use std::path::{Path, PathBuf};
use support::Server;

const GREETING: &str = "Hello! Commands: subscribe, locale en, locale es.";

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../botwright-botframework/tests/browser")
}

fn require_tools() {
    assert!(
        scripts().join("node_modules/playwright-core").is_dir(),
        "node_modules is missing in {}: run `npm ci --ignore-scripts` there (scripts/test does)",
        scripts().display()
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(Path::new(&chromium).exists(), "{chromium} is missing: `apt-get install -y chromium` (or set CHROMIUM)");
}

async fn node(script: &str, server: &Server, env: &[(&str, &str)]) {
    let screenshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/serve-webchat.png");
    let mut command = tokio::process::Command::new("node");
    command
        .arg(script)
        .current_dir(scripts())
        .env("BASE_URL", &server.base)
        .env("SAY", "hello")
        .env("EXPECT_REPLY", GREETING)
        .env("SCREENSHOT", screenshot)
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().await.unwrap_or_else(|e| panic!("could not run node: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "node {script} failed ({}):\n{stdout}\n{stderr}", output.status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_in_web_chat_of_serve() {
    require_tools();
    let server = Server::start("memory", &[]);
    node(
        "webchat-page.mjs",
        &server,
        &[
            ("BUTTON", "subscribe"),
            ("EXPECT_AFTER_BUTTON", "subscription created"),
            ("NOTIFICATION", "Your order shipped"),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directlinejs_talks_to_serve() {
    require_tools();
    let server = Server::start("memory", &[]);
    node("directlinejs.mjs", &server, &[]).await;
}
