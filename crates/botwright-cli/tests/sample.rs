//! `botwright serve` driven over HTTP as a Bot Framework channel would, through every row of the
//! sample's specification: three users, a standup across them, localized notifications, bad
//! input, and a SIGKILL with a restart on the same SQLite file.

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Connector, Server, User, get, post, post_raw, temp_db};

const GREETING: &str = "Hello! Commands: subscribe, locale en, locale es.";

async fn say(server: &Server, user: &User, id: &str, text: &str) {
    let (status, body) = post(&server.base, "/api/messages", &user.message(id, text)).await;
    assert_eq!(status, 202, "{text:?}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_end_to_end_with_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = temp_db(dir.path());
    let connector = Connector::start().await;
    let server = Server::start(&store, &["--notify-timeout", "2s"]);
    let alice = User::new("alice", &connector, true);
    let bob = User::new("bob", &connector, false);
    let carol = User::new("carol", &connector, true);

    // A conversationUpdate (also with an empty membersAdded) is answered 2xx and sends nothing.
    let update = json!({"type": "conversationUpdate", "membersAdded": [], "channelId": "emulator",
        "serviceUrl": connector.url, "from": {"id": "offline-directline"}, "conversation": {"id": alice.conversation}});
    let (status, _) = post(&server.base, "/api/messages", &update).await;
    assert!((200..300).contains(&status));

    // First message: the greeting; anything else: the greeting again.
    say(&server, &alice, "a1", "hi").await;
    assert_eq!(connector.wait_for(&alice.conversation, 1).await, [GREETING]);
    say(&server, &alice, "a2", "what can you do?").await;
    assert_eq!(connector.wait_for(&alice.conversation, 2).await, [GREETING, GREETING]);
    // Replies thread under the message they answer.
    let replies: Vec<_> = connector.all().into_iter().filter(|r| r.conversation == alice.conversation).collect();
    assert_eq!(replies[1].reply_to.as_deref(), Some("a2"));
    assert!(replies.iter().all(|r| r.activity["recipient"]["id"] == "alice"));

    // subscribe
    say(&server, &alice, "a3", "subscribe").await;
    assert_eq!(connector.wait_for(&alice.conversation, 3).await[2], "subscription created");
    // A first message that is a command: greeting first, then the command (text trimmed, any case).
    say(&server, &bob, "b1", "  SubScribe ").await;
    assert_eq!(connector.wait_for(&bob.conversation, 2).await, [GREETING, "subscription created"]);
    // locale
    say(&server, &carol, "c1", "locale es").await;
    assert_eq!(connector.wait_for(&carol.conversation, 2).await, [GREETING, "locale set to es"]);
    say(&server, &carol, "c2", "subscribe").await;
    assert_eq!(connector.wait_for(&carol.conversation, 3).await[2], "subscription created");

    let (status, subscriptions) = get(&server.base, "/api/subscriptions").await;
    assert_eq!(status, 200);
    let mut users: Vec<&str> =
        subscriptions.as_array().unwrap().iter().map(|s| s["userId"].as_str().unwrap()).collect();
    users.sort();
    assert_eq!(users, ["alice", "bob", "carol"]);
    let address_of = |user: &str| -> Value {
        subscriptions.as_array().unwrap().iter().find(|s| s["userId"] == user).unwrap()["address"].clone()
    };
    assert_eq!(address_of("bob")["serviceUrl"], bob.service_url);
    assert_eq!(address_of("bob")["conversation"]["id"], bob.conversation);

    // notify: plain text, and with the address as a JSON string.
    let (status, body) = post(
        &server.base,
        "/api/notify",
        &json!({"address": address_of("alice"), "notification": "Your pizza is here"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id"].is_string());
    assert_eq!(connector.wait_for(&alice.conversation, 4).await[3], "Your pizza is here");
    let as_string = Value::String(address_of("bob").to_string());
    let (status, _) =
        post(&server.base, "/api/notify", &json!({"address": as_string, "notification": "100% done"})).await;
    assert_eq!(status, 200);
    assert_eq!(connector.wait_for(&bob.conversation, 3).await[2], "100% done");

    // notify by message id, in each user's preferred locale (default en); msgId wins.
    let shipped = |user: &str| json!({"address": address_of(user), "msgId": "shipped", "params": ["A-17"], "notification": "ignored"});
    assert_eq!(post(&server.base, "/api/notify", &shipped("carol")).await.0, 200);
    assert_eq!(connector.wait_for(&carol.conversation, 4).await[3], "Tu pedido A-17 ha sido enviado.");
    assert_eq!(post(&server.base, "/api/notify", &shipped("alice")).await.0, 200);
    assert_eq!(connector.wait_for(&alice.conversation, 5).await[4], "Your order A-17 has shipped.");
    let unknown = json!({"address": address_of("alice"), "msgId": "no-such-message"});
    assert_eq!(post(&server.base, "/api/notify", &unknown).await.0, 200);
    assert_eq!(connector.wait_for(&alice.conversation, 6).await[5], "no-such-message");

    // A standup across the three users.
    let members = json!([{"id": "alice", "address": address_of("alice")}, {"id": "bob", "address": address_of("bob")},
        {"id": "carol", "address": address_of("carol")}]);
    let (status, body) = post(&server.base, "/api/standup", &json!({"members": members, "reportId": "r1"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(connector.wait_for(&alice.conversation, 7).await[6], "What is your status for today?");
    assert_eq!(connector.wait_for(&bob.conversation, 4).await[3], "What is your status for today?");
    assert_eq!(connector.wait_for(&carol.conversation, 5).await[4], "What is your status for today?");
    assert_eq!(get(&server.base, "/api/standup/r1").await, (200, json!({})));
    // The answer is the text exactly as received, even when it looks like a command.
    say(&server, &alice, "a4", "subscribe").await;
    assert_eq!(connector.wait_for(&alice.conversation, 8).await[7], "Got it... Thanks!");
    say(&server, &bob, "b2", "  Shipped the release  ").await;
    assert_eq!(connector.wait_for(&bob.conversation, 5).await[4], "Got it... Thanks!");
    // Afterwards, messages are commands again.
    say(&server, &alice, "a5", "locale en").await;
    assert_eq!(connector.wait_for(&alice.conversation, 9).await[8], "locale set to en");
    let (_, report) = get(&server.base, "/api/standup/r1").await;
    assert_eq!(report, json!({"alice": "subscribe", "bob": "  Shipped the release  "}));
    // A newer standup replaces carol's pending one.
    let carol_only = json!([{"id": "carol", "address": address_of("carol")}]);
    assert_eq!(post(&server.base, "/api/standup", &json!({"members": carol_only, "reportId": "r2"})).await.0, 200);
    assert_eq!(connector.wait_for(&carol.conversation, 6).await[5], "What is your status for today?");
    say(&server, &carol, "c3", "Writing docs").await;
    assert_eq!(connector.wait_for(&carol.conversation, 7).await[6], "Got it... Thanks!");
    assert_eq!(get(&server.base, "/api/standup/r2").await.1, json!({"carol": "Writing docs"}));
    assert_eq!(
        get(&server.base, "/api/standup/r1").await.1,
        json!({"alice": "subscribe", "bob": "  Shipped the release  "})
    );
    assert_eq!(get(&server.base, "/api/standup/unknown").await, (200, json!({})));
    // An empty standup is fine.
    assert_eq!(post(&server.base, "/api/standup", &json!({"members": [], "reportId": "r3"})).await.0, 200);

    // Carol's pending standup for r1 was replaced: give her a new one, then kill the server
    // while it is pending.
    let (status, _) = post(
        &server.base,
        "/api/standup",
        &json!({"members": [{"id": "carol", "address": address_of("carol")}], "reportId": "r4"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(connector.wait_for(&carol.conversation, 8).await[7], "What is your status for today?");

    let port = server.port;
    server.kill();
    let server = Server::start_on(port, &store, &["--notify-timeout", "2s"]);

    // Subscriptions, preferred locales, reports, "seen" users and the pending standup survived.
    let (_, after) = get(&server.base, "/api/subscriptions").await;
    assert_eq!(after.as_array().unwrap().len(), 3);
    assert_eq!(post(&server.base, "/api/notify", &shipped("carol")).await.0, 200);
    // Killed right after the channel took the question, before the outbox recorded it, the
    // restarted bot asks again (at least once, in order): at most that one copy.
    let dup = usize::from(connector.wait_for(&carol.conversation, 9).await[8] == "What is your status for today?");
    assert_eq!(connector.wait_for(&carol.conversation, 9 + dup).await[8 + dup], "Tu pedido A-17 ha sido enviado.");
    assert_eq!(get(&server.base, "/api/standup/r2").await.1, json!({"carol": "Writing docs"}));
    say(&server, &carol, "c4", "Reviewing").await;
    assert_eq!(connector.wait_for(&carol.conversation, 10 + dup).await[9 + dup], "Got it... Thanks!");
    assert_eq!(get(&server.base, "/api/standup/r4").await.1, json!({"carol": "Reviewing"}));
    say(&server, &bob, "b3", "hello").await;
    assert_eq!(connector.wait_for(&bob.conversation, 6).await[5], GREETING);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(connector.texts(&bob.conversation).len(), 6, "a seen user is greeted once, not twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_answers_and_the_bot_keeps_serving() {
    let connector = Connector::start().await;
    let server = Server::start("memory", &["--notify-timeout", "1500ms"]);
    let user = User::new("dave", &connector, false);
    let address = user.address();

    let bad: Vec<(&str, &str, u16)> = vec![
        ("/api/notify", "{not json", 400),
        ("/api/standup", "[1,", 400),
        ("/api/notify", r#"{"notification": "hi"}"#, 400),
        (
            "/api/notify",
            r#"{"address": {"user": {"id": "u"}, "conversation": {"id": "c"}}, "notification": "hi"}"#,
            400,
        ),
        ("/api/notify", r#"{"address": "not an address", "notification": "hi"}"#, 400),
        ("/api/standup", r#"{"members": {}, "reportId": "r"}"#, 400),
        ("/api/standup", r#"{"members": []}"#, 400),
        ("/api/standup", r#"{"members": [{"id": "x"}], "reportId": "r"}"#, 400),
        ("/api/messages", "{not json", 400),
        ("/api/messages", "[1, 2]", 400),
        ("/api/messages", r#"{"text": "no type"}"#, 400),
        (
            "/api/messages",
            r#"{"type": "message", "text": "no sender", "serviceUrl": "http://x", "conversation": {"id": "c"}}"#,
            400,
        ),
    ];
    for (path, body, expected) in bad {
        let (status, answer) = post_raw(&server.base, path, body).await;
        assert_eq!(status, expected, "{path} {body}: {answer}");
        assert!(
            answer["error"].is_string() || answer["error"].is_object(),
            "{path} {body}: no error message in {answer}"
        );
    }
    let neither = json!({"address": address, "text": "wrong field"});
    assert_eq!(post(&server.base, "/api/notify", &neither).await.0, 400);
    let huge = vec![b'x'; 10 * 1024 * 1024];
    assert_eq!(support::post_status_raw(server.port, "/api/messages", huge).await, 413);

    // Unreachable service URLs: 500 within the deadline, with the reason.
    for service_url in ["http://127.0.0.1:9", "http://no-such-host.invalid", "not a url"] {
        let mut unreachable = address.clone();
        unreachable["serviceUrl"] = json!(service_url);
        let started = Instant::now();
        let (status, body) =
            post(&server.base, "/api/notify", &json!({"address": unreachable, "notification": "hi"})).await;
        assert_eq!(status, 500, "{service_url}: {body}");
        let reason = body["error"].as_str().unwrap_or_default();
        let expected = match service_url {
            "not a url" => "not a URL",
            // Without app credentials only loopback and configured service URLs are called.
            "http://no-such-host.invalid" => "refused in development mode",
            _ => "could not be reached",
        };
        assert!(reason.contains(expected), "{service_url}: {body}");
        assert!(started.elapsed() < Duration::from_secs(10), "{service_url} took {:?}", started.elapsed());
    }

    // Still serving, and the withdrawn notifications do not hold up the user's conversation.
    say(&server, &user, "d1", "hi").await;
    assert_eq!(connector.wait_for(&user.conversation, 1).await, [GREETING]);

    // Queued notifications: 202 with an id at once, then their state.
    let (status, body) =
        post(&server.base, "/api/notify", &json!({"address": address, "notification": "queued", "wait": false})).await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().expect("an outbox id").to_owned();
    assert_eq!(connector.wait_for(&user.conversation, 2).await[1], "queued");
    let mut state = Value::Null;
    for _ in 0..100 {
        state = get(&server.base, &format!("/api/notify/{id}")).await.1;
        if state["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state["state"], "delivered", "{state}");
    let mut gone = address.clone();
    gone["serviceUrl"] = json!("http://127.0.0.1:9");
    gone["conversation"]["id"] = json!("gone");
    let (_, body) =
        post(&server.base, "/api/notify", &json!({"address": gone, "notification": "x", "wait": false})).await;
    let id = body["id"].as_str().unwrap().to_owned();
    let (status, state) = get(&server.base, &format!("/api/notify/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(state["state"], "pending", "{state}");
    assert_eq!(get(&server.base, "/api/notify/999999").await.0, 404);
}

#[tokio::test]
async fn web_hooks_require_the_token_when_one_is_set() {
    let server = Server::start("memory", &["--webhook-token", "s3cret"]);
    assert_eq!(get(&server.base, "/api/subscriptions").await.0, 401);
    let (status, _) = post(&server.base, "/api/notify", &json!({})).await;
    assert_eq!(status, 401);
    let response =
        support::http().get(format!("{}/api/subscriptions", server.base)).bearer_auth("s3cret").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[test]
fn listening_beyond_loopback_without_a_token_refuses_to_start() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_botwright"))
        .args(["serve", "--host", "0.0.0.0", "--port", &support::free_port().to_string(), "--store", "memory"])
        .env_remove("BOTWRIGHT_WEBHOOK_TOKEN")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("without a web hook token"), "{stderr}");
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully() {
    let mut server = Server::start("memory", &[]);
    let pid = server.child.id().to_string();
    let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            assert!(exit.success(), "serve exits cleanly on SIGTERM: {exit}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "serve did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Besides `en` and `es` (the greeting's commands), the sample speaks `de`, `fr` and `pt`: each
/// `locale` command answers, and a notification by message id arrives in the chosen language.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_speaks_five_languages() {
    let dir = tempfile::tempdir().unwrap();
    let store = temp_db(dir.path());
    let connector = Connector::start().await;
    let server = Server::start(&store, &["--notify-timeout", "2s"]);
    for (user, locale, shipped) in [
        ("dora", "de", "Deine Bestellung A-17 wurde versandt."),
        ("flore", "fr", "Votre commande A-17 a été expédiée."),
        ("paulo", "pt", "Seu pedido A-17 foi enviado."),
        ("enzo", "en", "Your order A-17 has shipped."),
        ("elena", "es", "Tu pedido A-17 ha sido enviado."),
    ] {
        let person = User::new(user, &connector, true);
        say(&server, &person, "1", &format!("locale {locale}")).await;
        let expected = format!("locale set to {locale}");
        assert_eq!(connector.wait_for(&person.conversation, 2).await, [GREETING, expected.as_str()]);
        say(&server, &person, "2", "subscribe").await;
        assert_eq!(connector.wait_for(&person.conversation, 3).await[2], "subscription created");
        let (_, subscriptions) = get(&server.base, "/api/subscriptions").await;
        let address =
            subscriptions.as_array().unwrap().iter().find(|s| s["userId"] == user).unwrap()["address"].clone();
        let notify = json!({"address": address, "msgId": "shipped", "params": ["A-17"]});
        let (status, body) = post(&server.base, "/api/notify", &notify).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(connector.wait_for(&person.conversation, 4).await[3], shipped, "{locale}");
    }
}
