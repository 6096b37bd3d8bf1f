//! Everything an attacker tries, at once, against one real `botwright serve` over real sockets: a
//! hostile channel, malformed activities, a flooding web chat client, slow clients, cross-site
//! hooks and text that once panicked. Meanwhile the process must keep answering, never panic,
//! keep its memory bounded, and still deliver what it accepted.

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Connector, Watched, get, http, post, post_raw, raw_request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A channel that answers every request `429` with a `Retry-After` of `u64::MAX` seconds (which
/// once overflowed the delivery task's clock and killed it), and counts the requests.
async fn hostile_channel() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut seen = Vec::new();
                // Read the head and whatever body comes with it, then answer.
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let answer = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 18446744073709551615\r\n\
                              Content-Length: 0\r\nConnection: close\r\n\r\n";
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, hits)
}

/// The process's peak resident memory, in KiB (`VmHWM`).
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn still_answers(server: &Watched) {
    let (status, body) = get(&server.base, "/api/subscriptions").await;
    assert_eq!(status, 200, "the hooks stopped answering: {body}\n{}", server.output());
}

fn address(service_url: &str, user: &str, conversation: &str) -> Value {
    json!({"channelId": "emulator", "serviceUrl": service_url, "user": {"id": user}, "bot": {"id": "bot"},
        "conversation": {"id": conversation}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_survives_every_attack_at_once() {
    let connector = Connector::start().await;
    let (hostile_url, hostile_hits) = hostile_channel().await;
    let server = Watched::start(
        &["--store", "memory", "--max-in-flight", "2", "--notify-timeout", "2s", "--header-read-timeout", "2s"],
        &[],
    );
    server.wait_listening();
    let pid = server.child.id();

    // 1. A hostile channel: messages to it are accepted, and must neither kill delivery nor keep
    //    the two in-flight slots (a later message to a good channel still goes out).
    for i in 0..6 {
        let body = json!({"address": address(&hostile_url, "victim", "hostile"), "notification": format!("h{i}"),
            "wait": false});
        let (status, answer) = post(&server.base, "/api/notify", &body).await;
        assert_eq!(status, 202, "{answer}");
    }
    let started = Instant::now();
    while hostile_hits.load(std::sync::atomic::Ordering::SeqCst) < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the hostile channel was never tried:\n{}",
            server.output()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // 2. Malformed activities of every shape.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let huge_id = "x".repeat(100_000);
    let bodies = [
        String::new(),
        "{".into(),
        deep,
        r#"{"type": 7}"#.into(),
        r#"{"type": "message", "from": "nobody", "conversation": []}"#.into(),
        format!(r#"{{"type":"message","id":"{huge_id}","from":{{"id":"u"}},"conversation":{{"id":"c"}}}}"#),
        r#"{"type": "message", "text": "\ud800", "from": {"id": "u"}, "conversation": {"id": "c"}}"#.into(),
    ];
    for body in &bodies {
        let (status, answer) = post_raw(&server.base, "/api/messages", body).await;
        assert!((400..500).contains(&status), "{status} for a malformed activity: {answer}");
    }
    let invalid_utf8 = http()
        .post(format!("{}/api/messages", server.base))
        .header("content-type", "application/json")
        .body(vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'])
        .send()
        .await
        .unwrap();
    assert_eq!(invalid_utf8.status().as_u16(), 400);

    // 3. Text that once panicked the request: an unknown message id is sent as is.
    for msg_id in ["%é", "%(é", "%1$é", "%(nameé)s", "é%", "%1é", "%%é", "%s\u{1F600}"] {
        let body = json!({"address": address(&connector.url, "ana", "c-ana"), "msgId": msg_id, "params": ["x"]});
        let (status, answer) = post(&server.base, "/api/notify", &body).await;
        assert_eq!(status, 200, "{msg_id:?}: {answer}");
    }
    let texts = connector.wait_for("c-ana", 8).await;
    assert_eq!(texts, ["%é", "%(é", "%1$é", "%(nameé)s", "é%", "%1é", "%%é", "%s\u{1F600}"]);

    // 4. A web chat client floods its conversation with large events and reads them back.
    let (status, started_conversation) = post(&server.base, "/v3/directline/conversations", &json!({})).await;
    assert_eq!(status, 201, "{started_conversation}");
    let id = started_conversation["conversationId"].as_str().unwrap().to_owned();
    let token = started_conversation["token"].as_str().unwrap().to_owned();
    let blob = "z".repeat(200_000);
    for i in 0..150 {
        let event =
            json!({"type": "event", "name": "flood", "value": blob, "from": {"id": "flooder"}, "id": i.to_string()});
        let answer = http()
            .post(format!("{}/v3/directline/conversations/{id}/activities", server.base))
            .bearer_auth(&token)
            .json(&event)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{}", answer.text().await.unwrap());
    }
    for _ in 0..5 {
        let answer = http()
            .get(format!("{}/v3/directline/conversations/{id}/activities", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200);
        let _ = answer.bytes().await.unwrap();
    }
    // Its token opens nothing else.
    let other = http()
        .get(format!("{}/v3/directline/conversations/someone-else/activities", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 403);

    // 5. Slow clients: heads that never end are cut by the header timeout, and others are served
    //    meanwhile.
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port)).await.unwrap();
        stream.write_all(b"GET /api/subscriptions HTTP/1.1\r\nHo").await.unwrap();
        slow.push(stream);
    }
    still_answers(&server).await;
    for stream in &mut slow {
        assert!(support::closed_within(stream, Duration::from_secs(20)).await, "a slow client was never cut off");
    }

    // 6. Cross-site and rebinding requests to the token-less hooks.
    let host = format!("127.0.0.1:{}", server.port);
    let form = json!({"address": address(&connector.url, "ana", "c-ana"), "notification": "phished"}).to_string();
    let request = format!(
        "POST /api/notify HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{form}",
        form.len()
    );
    assert_eq!(raw_request(server.port, &request).await.expect("an answer").status, 415);
    let rebound = "GET /api/subscriptions HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n";
    assert_eq!(raw_request(server.port, rebound).await.expect("an answer").status, 403);

    // Through all of it: delivery still works, nothing panicked, memory stayed bounded.
    let body = json!({"address": address(&connector.url, "bo", "c-bo"), "notification": "still here"});
    let (status, answer) = post(&server.base, "/api/notify", &body).await;
    assert_eq!(status, 200, "a good message after the hostile channel took its attempts: {answer}");
    assert_eq!(connector.wait_for("c-bo", 1).await, ["still here"]);
    still_answers(&server).await;
    let output = server.output();
    assert!(!output.contains("panicked"), "the server panicked:\n{output}");
    let peak = peak_kib(pid);
    assert!(peak > 0, "no /proc/{pid}/status");
    assert!(peak < 256 * 1024, "peak resident memory {peak} KiB");
}
