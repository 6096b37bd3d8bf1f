//! `botwright serve` on a PostgreSQL that is restarted, then stopped for 20 s, while it delivers
//! notifications: every notification it accepted arrives exactly once, each reads "delivered"
//! afterwards, and while the database is away the hooks and the Bot Framework endpoint answer 503
//! with `Retry-After` and PostgreSQL's (or the network's) own words.
//!
//! The database is a private cluster made for the test (`initdb` as user `postgres` on a free
//! port), so the shared server is never touched.

mod support;

use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{Connector, Server, free_port, get, http, post};

/// A PostgreSQL cluster of its own, stopped and removed on drop.
struct PrivateCluster {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
}

impl PrivateCluster {
    fn start() -> PrivateCluster {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server programs under /usr/lib/postgresql")
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .find(|p| p.join("initdb").exists())
            .expect("an initdb under /usr/lib/postgresql/*/bin");
        let dir = std::env::temp_dir().join(format!("botwright-pg-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(Command::new("chown").arg("postgres").arg(&dir).status().unwrap().success(), "chown to postgres");
        let cluster = PrivateCluster { dir, port: free_port(), bin };
        let data = cluster.dir.join("data");
        cluster.run(&[
            cluster.bin.join("initdb").to_str().unwrap(),
            "-D",
            data.to_str().unwrap(),
            "-A",
            "trust",
            "-U",
            "postgres",
        ]);
        cluster.pg_ctl("start");
        cluster
    }

    fn run(&self, args: &[&str]) {
        let output = Command::new("runuser").args(["-u", "postgres", "--"]).args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }

    fn pg_ctl(&self, action: &str) {
        let data = self.dir.join("data");
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.display());
        let log = self.dir.join("log");
        let pg_ctl = self.bin.join("pg_ctl");
        let mut args = vec![pg_ctl.to_str().unwrap(), "-D", data.to_str().unwrap(), "-w", "-l", log.to_str().unwrap()];
        match action {
            "stop" => args.extend(["-m", "fast", "stop"]),
            "restart" => args.extend(["-m", "fast", "-o", &options, "restart"]),
            _ => args.extend(["-o", &options, "start"]),
        }
        self.run(&args);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let pg_ctl = self.bin.join("pg_ctl");
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(pg_ctl)
            .args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn address(connector: &Connector, conversation: usize) -> Value {
    json!({"channelId": "emulator", "serviceUrl": connector.url, "user": {"id": format!("u{conversation}")},
        "bot": {"id": "bot"}, "conversation": {"id": format!("c{conversation}")}})
}

/// Queues notification `n` without waiting; the outbox id when the bot accepted it.
async fn queue(base: &str, connector: &Connector, n: usize) -> Result<String, (u16, Option<String>, Value)> {
    let body = json!({"address": address(connector, n % 20), "notification": format!("n{n}"), "wait": false});
    let response = http().post(format!("{base}/api/notify")).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    match (status, &answer["id"]) {
        (202, Value::Number(id)) => Ok(id.to_string()),
        (202, Value::String(id)) => Ok(id.clone()),
        _ => Err((status, retry_after, answer)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_and_stopped_database_loses_and_repeats_nothing() {
    let cluster = PrivateCluster::start();
    let connector = Connector::start().await;
    connector.set_delay(5);
    let server = Server::start(&cluster.url(), &["--rate-limits", "off"]);
    let mut accepted: HashMap<String, String> = HashMap::new();
    let mut n = 0;

    // Deliveries under way, then a restart.
    for _ in 0..150 {
        if let Ok(id) = queue(&server.base, &connector, n).await {
            accepted.insert(format!("n{n}"), id);
        }
        n += 1;
    }
    cluster.pg_ctl("restart");
    for _ in 0..150 {
        if let Ok(id) = queue(&server.base, &connector, n).await {
            accepted.insert(format!("n{n}"), id);
        }
        n += 1;
    }

    // Stopped for 20 s: what is asked meanwhile is refused with 503, never accepted and lost.
    cluster.pg_ctl("stop");
    let stopped = Instant::now();
    let mut refusals = 0;
    while stopped.elapsed() < Duration::from_secs(20) {
        match queue(&server.base, &connector, n).await {
            Ok(id) => {
                accepted.insert(format!("n{n}"), id);
            }
            Err((status, retry_after, answer)) => {
                assert_eq!(status, 503, "{answer}");
                assert!(retry_after.is_some(), "503 without Retry-After: {answer}");
                let text = answer["error"].as_str().unwrap_or_default().to_lowercase();
                assert!(
                    text.contains("postgresql") && !text.ends_with("db error"),
                    "the answer says what PostgreSQL or the network said: {answer}"
                );
                refusals += 1;
            }
        }
        n += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(refusals > 0, "the store was down for 20 s and nothing was refused");
    let message = json!({"type": "message", "id": "m1", "text": "hi", "channelId": "emulator", "serviceUrl": connector.url,
        "from": {"id": "u-live"}, "conversation": {"id": "c-live"}});
    let response = http().post(format!("{}/api/messages", server.base)).json(&message).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 503, "an activity while the store is down");
    assert!(response.headers().contains_key("retry-after"));
    cluster.pg_ctl("start");

    // Everything accepted arrives, once.
    let started = Instant::now();
    loop {
        let texts: Vec<String> =
            connector.all().iter().filter_map(|r| r.activity["text"].as_str().map(str::to_owned)).collect();
        let delivered = accepted.keys().filter(|t| texts.contains(t)).count();
        if delivered == accepted.len() {
            let mut counts: HashMap<&str, usize> = HashMap::new();
            for text in &texts {
                *counts.entry(text.as_str()).or_default() += 1;
            }
            let twice: Vec<_> = counts.iter().filter(|(_, c)| **c > 1).collect();
            assert!(twice.is_empty(), "sent more than once: {twice:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(150),
            "{delivered} of {} accepted notifications delivered",
            accepted.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("accepted {}, refused {refusals} while stopped, all delivered once", accepted.len());
    for (text, id) in accepted.iter().take(50) {
        let (status, body) = get(&server.base, &format!("/api/notify/{id}")).await;
        assert_eq!(status, 200, "{text}: {body}");
        assert_eq!(body["state"], "delivered", "{text}: {body}");
    }
    let (status, _) = post(&server.base, "/api/messages", &message).await;
    assert_eq!(status, 202, "the bot takes activities again");
}
