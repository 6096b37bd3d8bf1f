//! `botwright serve` against an attacker who can reach it: cross-site posts and DNS rebinding on
//! the token-less web hooks, guessed tokens, listening beyond loopback without authentication,
//! secrets in the logs, and a web chat client claiming a Teams user's id. Everything over real
//! sockets against the real program.

mod support;

use serde_json::{Value, json};
use support::{Connector, Server, Watched, get, post, raw_request};

fn request(method: &str, path: &str, host: &str, extra: &str, body: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_text_plain_post_is_refused_with_415() {
    let connector = Connector::start().await;
    let server = Server::start("memory", &[]);
    let address = json!({"channelId": "emulator", "serviceUrl": connector.url, "user": {"id": "u"},
        "conversation": {"id": "c"}});
    let body = json!({"address": address, "notification": "phished"}).to_string();
    let host = format!("127.0.0.1:{}", server.port);
    // What an HTML form (enctype=text/plain) or a `no-cors` fetch can send without a preflight.
    for content_type in ["Content-Type: text/plain\r\n", "Content-Type: application/x-www-form-urlencoded\r\n", ""] {
        let answer = raw_request(server.port, &request("POST", "/api/notify", &host, content_type, &body)).await;
        let answer = answer.expect("an answer");
        assert_eq!(answer.status, 415, "{content_type:?}: {}", answer.body);
        let error: Value = serde_json::from_str(&answer.body).unwrap();
        assert!(error["error"].as_str().unwrap().contains("application/json"), "{}", answer.body);
    }
    let (status, _) = post(&server.base, "/api/standup", &json!({"reportId": "r", "members": "nope"})).await;
    assert_eq!(status, 400, "JSON posts still reach the hooks");
    // Nothing was sent.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(connector.count(), 0);
    // With a parameter, in any case, it is JSON.
    let json_ct = "Content-Type: Application/JSON; charset=utf-8\r\n";
    let answer = raw_request(server.port, &request("POST", "/api/notify", &host, json_ct, &body)).await.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebound_host_name_cannot_read_the_subscriptions() {
    let server = Server::start("memory", &[]);
    let port = server.port;
    for host in ["evil.example", &format!("evil.example:{port}"), "127.0.0.1.evil.example", "localhost.evil", ""] {
        let answer = raw_request(port, &request("GET", "/api/subscriptions", host, "", "")).await.unwrap();
        assert_eq!(answer.status, 403, "Host {host:?}: {}", answer.body);
        let error: Value = serde_json::from_str(&answer.body).unwrap();
        let message = error["error"].as_str().unwrap();
        assert!(message.contains("localhost") && message.contains("--webhook-token"), "{message}");
    }
    for host in [
        "localhost",
        &format!("LocalHost:{port}"),
        "127.0.0.1",
        &format!("127.0.0.1:{port}"),
        "[::1]",
        &format!("[::1]:{port}"),
    ] {
        let answer = raw_request(port, &request("GET", "/api/subscriptions", host, "", "")).await.unwrap();
        assert_eq!(answer.status, 200, "Host {host:?}: {}", answer.body);
        assert_eq!(answer.body, "[]");
    }
    // The Bot Framework endpoint and the web chat are not web hooks: any Host reaches them.
    let answer = raw_request(port, &request("GET", "/", "bot.example.com", "", "")).await.unwrap();
    assert_eq!(answer.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_any_host_may_call_but_only_with_the_token_and_json() {
    let server = Server::start("memory", &["--webhook-token", "s3cret-token"]);
    let port = server.port;
    let get_with = |auth: &str| request("GET", "/api/subscriptions", "bot.example.com", auth, "");
    for wrong in [
        "",
        "Authorization: Bearer s3cret-tokeN\r\n",
        "Authorization: Bearer s3cret\r\n",
        "Authorization: Bearer s3cret-token-and-more\r\n",
        "Authorization: s3cret-token\r\n",
    ] {
        let answer = raw_request(port, &get_with(wrong)).await.unwrap();
        assert_eq!(answer.status, 401, "{wrong:?}: {}", answer.body);
    }
    let right = "Authorization: Bearer s3cret-token\r\n";
    let answer = raw_request(port, &get_with(right)).await.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    let text_plain = format!("{right}Content-Type: text/plain\r\n");
    let answer =
        raw_request(port, &request("POST", "/api/standup", "bot.example.com", &text_plain, "{}")).await.unwrap();
    assert_eq!(answer.status, 415, "{}", answer.body);
}

#[test]
fn beyond_loopback_without_credentials_refuses_to_start_and_says_why() {
    let mut server = Watched::start(&["--host", "0.0.0.0", "--store", "memory", "--webhook-token", "t"], &[]);
    let (status, output) = server.wait_exit();
    assert!(!status.success(), "{output}");
    assert!(output.contains("without app credentials"), "{output}");
    assert!(output.contains("MICROSOFT_APP_ID") && output.contains("--insecure-no-auth"), "{output}");
    assert!(!output.contains("listening on"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_loopback_with_insecure_no_auth_or_credentials_it_listens() {
    let server =
        Watched::start(&["--host", "0.0.0.0", "--store", "memory", "--webhook-token", "t", "--insecure-no-auth"], &[]);
    server.wait_listening();
    let output = server.wait_output("a warning about --insecure-no-auth", |o| o.contains("--insecure-no-auth:"));
    assert!(output.contains("listening on http://0.0.0.0:"), "{output}");
    // With credentials no flag is needed (the identity service is never called at start).
    let env = [("MICROSOFT_APP_ID", "app"), ("MICROSOFT_APP_PASSWORD", "password")];
    let server = Watched::start(&["--host", "0.0.0.0", "--store", "memory", "--webhook-token", "t"], &env);
    server.wait_listening();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_password_is_never_printed() {
    // The shared PostgreSQL trusts local connections, so any password works; a private schema.
    let schema = format!("cli_redact_{}", std::process::id());
    let store = format!("postgres://postgres:Hunter2-Secret@127.0.0.1:5432/test?schema={schema}");
    let server = Watched::start(&["--store", &store], &[]);
    server.wait_listening();
    let output = server.wait_output("the listening line", |o| o.contains("listening on"));
    assert!(output.contains("postgres://postgres:***@127.0.0.1:5432/test"), "{output}");
    // Nor while waiting for a store that is down.
    let closed = support::free_port();
    let store = format!("postgres://postgres:Hunter2-Secret@127.0.0.1:{closed}/test");
    let waiting = Watched::start(&["--store", &store], &[]);
    let waited = waiting.wait_output("two attempts", |o| o.contains("attempt=2"));
    for output in [output, waited] {
        assert!(!output.contains("Hunter2"), "the password was printed:\n{output}");
    }
    drop(server);
    let (client, connection) =
        tokio_postgres::connect("host=127.0.0.1 port=5432 user=postgres dbname=test", tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(connection);
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_chat_user_claiming_a_teams_id_does_not_replace_the_teams_subscription() {
    let connector = Connector::start().await;
    let server = Server::start("memory", &[]);
    let say = |channel: &str, conversation: &str, id: &str| {
        json!({"type": "message", "id": id, "text": "subscribe", "channelId": channel, "serviceUrl": connector.url,
            "from": {"id": "29:teams-user"}, "conversation": {"id": conversation}})
    };
    let (status, body) = post(&server.base, "/api/messages", &say("msteams", "teams-conv", "m1")).await;
    assert_eq!(status, 202, "{body}");
    connector.wait_for("teams-conv", 2).await;
    // The same id, claimed from another channel (any web chat client may pick its own id).
    let (status, body) = post(&server.base, "/api/messages", &say("webchat", "attacker-conv", "m2")).await;
    assert_eq!(status, 202, "{body}");
    let texts = connector.wait_for("attacker-conv", 2).await;
    assert_eq!(texts[0], "Hello! Commands: subscribe, locale en, locale es.", "a new user, not the Teams one");

    let (status, subscriptions) = get(&server.base, "/api/subscriptions").await;
    assert_eq!(status, 200);
    let list = subscriptions.as_array().unwrap();
    assert_eq!(list.len(), 2, "{subscriptions}");
    let teams = list.iter().find(|s| s["address"]["channelId"] == "msteams").expect("the Teams subscription");
    assert_eq!(teams["userId"], "29:teams-user");
    assert_eq!(teams["address"]["conversation"]["id"], "teams-conv");
    let webchat = list.iter().find(|s| s["address"]["channelId"] == "webchat").expect("the web chat one");
    assert_eq!(webchat["address"]["conversation"]["id"], "attacker-conv");
    // The same user subscribing again on its own channel replaces its own entry only.
    let (status, _) = post(&server.base, "/api/messages", &say("msteams", "teams-conv", "m3")).await;
    assert_eq!(status, 202);
    connector.wait_for("teams-conv", 3).await;
    let (_, subscriptions) = get(&server.base, "/api/subscriptions").await;
    assert_eq!(subscriptions.as_array().unwrap().len(), 2, "{subscriptions}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standup_answers_of_two_channels_with_one_id_are_both_kept() {
    let connector = Connector::start().await;
    let server = Server::start("memory", &[]);
    let address = |channel: &str, conversation: &str| {
        json!({"channelId": channel, "serviceUrl": connector.url, "user": {"id": "same-id"}, "bot": {"id": "bot"},
            "conversation": {"id": conversation}})
    };
    let members = json!([{"id": "same-id", "address": address("msteams", "t-conv")},
        {"id": "same-id", "address": address("webchat", "w-conv")}]);
    let (status, body) = post(&server.base, "/api/standup", &json!({"reportId": "r1", "members": members})).await;
    assert_eq!(status, 200, "{body}");
    connector.wait_for("t-conv", 1).await;
    connector.wait_for("w-conv", 1).await;
    for (channel, conversation, answer) in [("msteams", "t-conv", "teams status"), ("webchat", "w-conv", "web status")]
    {
        let message = json!({"type": "message", "id": format!("{channel}-1"), "text": answer, "channelId": channel,
            "serviceUrl": connector.url, "from": {"id": "same-id"}, "conversation": {"id": conversation}});
        let (status, _) = post(&server.base, "/api/messages", &message).await;
        assert_eq!(status, 202);
        connector.wait_for(conversation, 2).await;
    }
    let (status, report) = get(&server.base, "/api/standup/r1").await;
    assert_eq!(status, 200);
    assert_eq!(report, json!({"msteams:same-id": "teams status", "webchat:same-id": "web status"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_to_azures_direct_line_go_to_its_service_url() {
    // A bot registered in Azure with the Direct Line channel gets activities with channel id
    // `directline` from the connector; only the conversations the embedded endpoint opened
    // itself are its own.
    let connector = Connector::start().await;
    let server = Server::start("memory", &[]);
    let message = json!({"type": "message", "id": "a1", "text": "hi", "channelId": "directline",
        "serviceUrl": connector.url, "from": {"id": "dl-user"}, "conversation": {"id": "AzureConv-1"}});
    let (status, body) = post(&server.base, "/api/messages", &message).await;
    assert_eq!(status, 202, "{body}");
    let texts = connector.wait_for("AzureConv-1", 1).await;
    assert_eq!(texts[0], "Hello! Commands: subscribe, locale en, locale es.");

    // A proactive message to that address goes there too.
    let address = json!({"channelId": "directline", "serviceUrl": connector.url, "user": {"id": "dl-user"},
        "bot": {"id": "bot"}, "conversation": {"id": "AzureConv-1"}});
    let (status, body) = post(&server.base, "/api/notify", &json!({"address": address, "notification": "ping"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(connector.wait_for("AzureConv-1", 2).await[1], "ping");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_app_credentials_a_web_chat_client_cannot_choose_its_user_id() {
    let env = [("MICROSOFT_APP_ID", "app"), ("MICROSOFT_APP_PASSWORD", "password")];
    let server = Watched::start(&["--store", "memory"], &env);
    server.wait_listening();
    let claim = json!({"user": {"id": "29:teams-user"}});
    let (status, body) = post(&server.base, "/v3/directline/tokens/generate", &claim).await;
    assert_eq!(status, 403, "naming a user needs the Direct Line secret: {body}");
    let (status, body) = post(&server.base, "/v3/directline/tokens/generate", &json!({})).await;
    assert_eq!(status, 200, "{body}");
    let user = body["userId"].as_str().expect("the id the server assigned");
    assert!(user.starts_with("dl_") && user.len() > 20, "{user}");
}
