//! Two `botwright serve` processes on one PostgreSQL database, with one conversation's messages
//! and the web hooks spread across both at random: the sample's flows come out exactly as with
//! one instance — nothing lost, nothing sent twice, no state update lost.

mod support;

use rand::Rng;
use serde_json::{Value, json};
use std::time::Duration;
use support::{Connector, Server, User, get, post};

const GREETING: &str = "Hello! Commands: subscribe, locale en, locale es.";
const DATABASE: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A schema of its own, dropped at the end.
struct Schema(String);

impl Schema {
    fn new() -> Schema {
        let n: u64 = rand::rng().random();
        Schema(format!("bw_cli_{n:x}"))
    }
    fn store(&self) -> String {
        format!("{DATABASE}?schema={}", self.0)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let name = self.0.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                if let Ok((client, connection)) =
                    tokio_postgres::connect("host=127.0.0.1 user=postgres dbname=test", tokio_postgres::NoTls).await
                {
                    tokio::spawn(connection);
                    let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).await;
                }
            });
        })
        .join();
    }
}

fn pick<'a>(a: &'a Server, b: &'a Server) -> &'a Server {
    if rand::rng().random_bool(0.5) { a } else { b }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behave_as_one() {
    let schema = Schema::new();
    let connector = Connector::start().await;
    let flags = ["--notify-timeout", "5s", "--rate-limits", "off"];
    let a = Server::start(&schema.store(), &flags);
    let b = Server::start(&schema.store(), &flags);
    let users: Vec<User> = (0..3).map(|i| User::new(&format!("member-{i}"), &connector, i % 2 == 0)).collect();

    // Each user greets and subscribes, through either instance.
    for user in &users {
        let (status, _) = post(&pick(&a, &b).base, "/api/messages", &user.message("1", "hi")).await;
        assert_eq!(status, 202);
        assert_eq!(connector.wait_for(&user.conversation, 1).await, [GREETING]);
        let (status, _) = post(&pick(&a, &b).base, "/api/messages", &user.message("2", "subscribe")).await;
        assert_eq!(status, 202);
        assert_eq!(connector.wait_for(&user.conversation, 2).await[1], "subscription created");
    }

    // One conversation's messages at once, across both instances: each is one turn, in turn.
    let burst = users[0].clone();
    let mut posts = Vec::new();
    for i in 0..20 {
        let base = pick(&a, &b).base.clone();
        let message = burst.message(&format!("burst-{i}"), &format!("hello {i}"));
        posts.push(tokio::spawn(async move { post(&base, "/api/messages", &message).await.0 }));
    }
    for p in posts {
        assert_eq!(p.await.unwrap(), 202);
    }
    let texts = connector.wait_for(&burst.conversation, 22).await;
    assert!(texts[2..].iter().all(|t| t == GREETING), "{texts:?}");

    // A standup started on one instance, answered through both at once.
    let (_, subscriptions) = get(&a.base, "/api/subscriptions").await;
    let members: Vec<Value> =
        subscriptions.as_array().unwrap().iter().map(|s| json!({"id": s["userId"], "address": s["address"]})).collect();
    assert_eq!(members.len(), 3);
    let before: Vec<usize> = users.iter().map(|u| connector.texts(&u.conversation).len()).collect();
    let (status, _) = post(&pick(&a, &b).base, "/api/standup", &json!({"members": members, "reportId": "daily"})).await;
    assert_eq!(status, 200);
    let mut answers = Vec::new();
    for (u, user) in users.iter().enumerate() {
        let texts = connector.wait_for(&user.conversation, before[u] + 1).await;
        assert_eq!(texts.len(), before[u] + 1, "the question is asked once");
        assert_eq!(texts.last().map(String::as_str), Some("What is your status for today?"));
        let base = pick(&a, &b).base.clone();
        let message = user.message("s", &format!("status of {}", user.id));
        answers.push(tokio::spawn(async move { post(&base, "/api/messages", &message).await.0 }));
    }
    for answer in answers {
        assert_eq!(answer.await.unwrap(), 202);
    }
    let mut report = json!({});
    for _ in 0..200 {
        report = get(&pick(&a, &b).base, "/api/standup/daily").await.1;
        if report.as_object().unwrap().len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        report,
        json!({"member-0": "status of member-0", "member-1": "status of member-1", "member-2": "status of member-2"})
    );

    // Notifications through both instances at once: each arrives exactly once.
    let before: Vec<usize> = users.iter().map(|u| connector.texts(&u.conversation).len()).collect();
    let mut sends = Vec::new();
    for i in 0..30 {
        let user = &users[i % 3];
        let body = json!({"address": user.address(), "notification": format!("notice {i}")});
        let base = pick(&a, &b).base.clone();
        sends.push(tokio::spawn(async move { post(&base, "/api/notify", &body).await.0 }));
    }
    for s in sends {
        assert_eq!(s.await.unwrap(), 200);
    }
    for (u, user) in users.iter().enumerate() {
        let texts = connector.wait_for(&user.conversation, before[u] + 10).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let texts_now = connector.texts(&user.conversation);
        assert_eq!(texts_now.len(), texts.len(), "a notification arrived twice");
        let mut notices: Vec<&String> = texts_now[before[u]..].iter().collect();
        notices.sort();
        let mut expected: Vec<String> = (0..30).filter(|i| i % 3 == u).map(|i| format!("notice {i}")).collect();
        expected.sort();
        assert_eq!(notices, expected.iter().collect::<Vec<_>>());
    }
}
