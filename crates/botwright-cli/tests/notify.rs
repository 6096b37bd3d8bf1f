//! `botwright notify` against a local channel: 10,000 addresses, one of which refuses with 403.

mod support;

use botwright::Bot;
use botwright_sqlite::SqliteStore;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::Arc;
use support::Connector;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_addresses_one_refusing() {
    let connector = Connector::start().await;
    connector.refuse("conv-4242", 403);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("addresses.jsonl");
    let mut out = std::fs::File::create(&file).unwrap();
    for i in 0..10_000 {
        let address = json!({"channelId": "emulator", "serviceUrl": connector.url, "user": {"id": format!("user-{i}")},
            "bot": {"id": "bot"}, "conversation": {"id": format!("conv-{i}")}});
        writeln!(out, "{address}").unwrap();
    }
    drop(out);
    let store = format!("sqlite:{}", dir.path().join("bot.db").display());
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_botwright"))
        .args([
            "notify",
            "--store",
            &store,
            "--addresses",
            file.to_str().unwrap(),
            "--text",
            "Maintenance tonight",
            "--json",
            "--rate-limits",
            "off",
        ])
        .env("RUST_LOG", "error")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "some address failed, so the exit code says so: {stdout}");
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(summary["total"], 10_000);
    assert_eq!(summary["delivered"], 9_999);
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["stale"].as_array().unwrap().len(), 1);
    assert_eq!(summary["stale"][0]["userId"], "user-4242");
    assert_eq!(connector.count(), 9_999);
    assert_eq!(connector.texts("conv-17"), ["Maintenance tonight"]);

    // The refused address is marked stale in the address book.
    let sqlite = Arc::new(SqliteStore::open(dir.path().join("bot.db")).await.unwrap());
    let bot = Bot::builder().store(sqlite).build();
    let entry = bot.address_book().get("emulator", "user-4242").await.unwrap().expect("an address-book entry");
    assert_eq!(entry.stale.map(|s| s.status), Some(403));
    assert!(bot.address_book().get("emulator", "user-17").await.unwrap().is_none_or(|e| e.stale.is_none()));
}

#[tokio::test]
async fn a_csv_file_and_a_message_id() {
    let connector = Connector::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("team.csv");
    std::fs::write(
        &file,
        format!(
            "channelId,serviceUrl,userId,conversationId,locale\nemulator,{0},ana,c-ana,es\nemulator,{0},ben,c-ben,\n",
            connector.url
        ),
    )
    .unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_botwright"))
        .args([
            "notify",
            "--store",
            "memory",
            "--addresses",
            file.to_str().unwrap(),
            "--msg-id",
            "shipped",
            "--param",
            "A-17",
        ])
        .env("RUST_LOG", "error")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("2 addresses: 2 delivered, 0 failed, 0 stale"), "{stdout}");
    // No stored preference: the sample's default, English (the channel's locale is not a preference).
    assert_eq!(connector.texts("c-ana"), ["shipped"]);
}
