//! The connector client and the channel against a local connector stand-in: paths, methods,
//! and how every answer maps to a delivery error.

mod common;

use botwright::activity::{ChannelAccount, ConversationAccount};
use botwright::channel::{Channel, DeliveryError};
use botwright::{Activity, Address};
use botwright_botframework::connector::ConversationParameters;
use botwright_botframework::{BotFramework, BotFrameworkConfig, ConnectorError};
use common::*;
use std::sync::Arc;
use std::time::Duration;

/// A framework without credentials (no token, no trust check) with a short request timeout.
fn framework() -> BotFramework {
    let config = BotFrameworkConfig::default().request_timeout(Duration::from_millis(500));
    BotFramework::from_config(config).unwrap()
}

fn address(service_url: &str, conversation: &str) -> Address {
    let mut address = Address::new(
        "msteams",
        service_url,
        ChannelAccount::new("u1"),
        ChannelAccount::new("b1"),
        ConversationAccount::new(conversation),
    );
    address.id = Some("incoming-7".into());
    address
}

async fn deliver(bf: &BotFramework, service_url: &str, conversation: &str) -> Result<Option<String>, DeliveryError> {
    let to = address(service_url, conversation);
    let mut activity = Activity::message("hello");
    to.apply_to(&mut activity);
    bf.channel().deliver(&to, &activity).await.map(|d| d.activity_id)
}

#[tokio::test]
async fn a_reply_posts_to_the_activity_and_returns_its_id() {
    let connector = Connector::start().await;
    let bf = framework();
    let id = deliver(&bf, &connector.service_url(), "ok").await.unwrap();
    assert_eq!(id.as_deref(), Some("activity-1"));
    let requests = connector.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/v3/conversations/ok/activities/incoming-7");
    assert_eq!(requests[0].authorization, None);
    let body: serde_json::Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(body["text"], "hello");
    assert_eq!(body["recipient"]["id"], "u1");
}

#[tokio::test]
async fn without_reply_id_it_posts_to_the_conversation() {
    let connector = Connector::start().await;
    let bf = framework();
    let to = address(&connector.service_url(), "ok").without_reply_id();
    let mut activity = Activity::message("proactive");
    to.apply_to(&mut activity);
    let delivered = bf.channel().deliver(&to, &activity).await.unwrap();
    assert_eq!(delivered.activity_id.as_deref(), Some("activity-1"));
    assert_eq!(connector.requests()[0].path, "/v3/conversations/ok/activities");
}

#[tokio::test]
async fn service_urls_with_and_without_trailing_slash_and_a_base_path_work() {
    let connector = Connector::start().await;
    let bf = framework();
    let base = format!("http://{}", connector.addr);
    for service_url in [format!("{base}/"), base.clone(), format!("{base}/emea/"), format!("{base}/emea")] {
        bf.connector().send_to_conversation(&service_url, "ok", &Activity::message("x")).await.unwrap();
    }
    let paths: Vec<String> = connector.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        vec![
            "/v3/conversations/ok/activities",
            "/v3/conversations/ok/activities",
            "/emea/v3/conversations/ok/activities",
            "/emea/v3/conversations/ok/activities",
        ]
    );
}

#[tokio::test]
async fn path_segments_are_percent_encoded() {
    let connector = Connector::start().await;
    let bf = framework();
    let conversation = "19:abc@thread.skype;messageid=1/../x y";
    bf.connector()
        .reply_to_activity(&connector.service_url(), conversation, "1?x#y", &Activity::message("x"))
        .await
        .unwrap();
    assert_eq!(
        connector.requests()[0].path,
        "/v3/conversations/19%3Aabc%40thread.skype%3Bmessageid%3D1%2F..%2Fx%20y/activities/1%3Fx%23y"
    );
}

#[tokio::test]
async fn update_delete_create_and_members() {
    let connector = Connector::start().await;
    let bf = framework();
    let url = connector.service_url();
    let client = bf.connector();
    let updated = client.update_activity(&url, "ok", "a1", &Activity::message("edited")).await.unwrap();
    assert!(updated.id.is_some());
    client.delete_activity(&url, "ok", "a1").await.unwrap();
    let parameters = ConversationParameters {
        bot: Some(ChannelAccount::new("b1")),
        members: vec![ChannelAccount::new("u1")],
        ..Default::default()
    };
    let created = client.create_conversation(&url, &parameters).await.unwrap();
    assert_eq!(created.id, "new-conversation-3");
    let members = client.get_conversation_members(&url, "ok").await.unwrap();
    assert_eq!(members.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), vec!["u1", "b1"]);
    let seen: Vec<(String, String)> = connector.requests().into_iter().map(|r| (r.method, r.path)).collect();
    let expected = [
        ("PUT", "/v3/conversations/ok/activities/a1"),
        ("DELETE", "/v3/conversations/ok/activities/a1"),
        ("POST", "/v3/conversations"),
        ("GET", "/v3/conversations/ok/members"),
    ];
    assert_eq!(seen, expected.map(|(m, p)| (m.to_owned(), p.to_owned())).to_vec());
    let create_body: serde_json::Value = serde_json::from_str(&connector.requests()[2].body).unwrap();
    assert_eq!(create_body["members"][0]["id"], "u1");
    assert_eq!(create_body["bot"]["id"], "b1");
}

#[tokio::test]
async fn errors_carry_status_and_the_channels_body() {
    let connector = Connector::start().await;
    let bf = framework();
    let error = bf.connector().delete_activity(&connector.service_url(), "missing", "a1").await.unwrap_err();
    assert_eq!(error.status(), Some(404));
    let body = error.error_body().unwrap();
    assert_eq!(body.code, "ConversationNotFound");
    assert_eq!(body.message, "ConversationNotFound for missing");
    assert!(matches!(error, ConnectorError::Status { ref method, .. } if method == "DELETE"));
}

#[tokio::test]
async fn status_429_is_rate_limited_with_retry_after_seconds() {
    let connector = Connector::start().await;
    let error = deliver(&framework(), &connector.service_url(), "busy").await.unwrap_err();
    assert_eq!(error, DeliveryError::RateLimited { retry_after: Some(Duration::from_secs(7)) });
}

#[tokio::test]
async fn status_429_with_an_http_date_is_rate_limited_until_then() {
    let connector = Connector::start().await;
    let error = deliver(&framework(), &connector.service_url(), "busy-date").await.unwrap_err();
    let DeliveryError::RateLimited { retry_after: Some(wait) } = error else { panic!("{error:?}") };
    // The date is an hour ahead, in whole seconds.
    assert!(wait <= Duration::from_secs(3600) && !wait.is_zero(), "{wait:?}");
}

#[tokio::test]
async fn status_5xx_is_unavailable() {
    let connector = Connector::start().await;
    let bf = framework();
    let error = deliver(&bf, &connector.service_url(), "down").await.unwrap_err();
    let DeliveryError::Unavailable { status: 500, body, retry_after: None } = &error else { panic!("{error:?}") };
    assert!(body.contains("ServiceError"));
    assert!(error.is_retryable());
    let error = deliver(&bf, &connector.service_url(), "down-later").await.unwrap_err();
    assert!(matches!(
        error,
        DeliveryError::Unavailable { status: 503, retry_after: Some(d), .. } if d == Duration::from_secs(3)
    ));
}

#[tokio::test]
async fn status_403_and_404_are_stale() {
    let connector = Connector::start().await;
    let bf = framework();
    let error = deliver(&bf, &connector.service_url(), "gone").await.unwrap_err();
    assert!(
        matches!(&error, DeliveryError::Stale { status: 403, body } if body.contains("BotNotInConversationRoster"))
    );
    let error = deliver(&bf, &connector.service_url(), "missing").await.unwrap_err();
    assert!(matches!(&error, DeliveryError::Stale { status: 404, body } if body.contains("ConversationNotFound")));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn status_400_is_rejected() {
    let connector = Connector::start().await;
    let error = deliver(&framework(), &connector.service_url(), "bad").await.unwrap_err();
    assert!(matches!(&error, DeliveryError::Rejected { status: 400, body } if body.contains("BadArgument")));
}

#[tokio::test]
async fn a_redirect_is_an_error_and_is_not_followed() {
    let connector = Connector::start().await;
    let bf = framework();
    let to = address(&connector.service_url(), "moved");
    let error = bf.connector().reply_to_activity(&to.service_url, "moved", "a1", &Activity::message("hi")).await;
    assert!(matches!(error, Err(ConnectorError::Status { status: 307, .. })), "{error:?}");
    let error = deliver(&bf, &connector.service_url(), "moved").await.unwrap_err();
    assert!(matches!(error, DeliveryError::Rejected { status: 307, .. }), "{error:?}");
    let paths: Vec<String> = connector.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/v3/conversations/moved/activities/a1", "/v3/conversations/moved/activities/incoming-7"]);
}

#[tokio::test]
async fn a_hanging_service_times_out_as_unreachable() {
    let connector = Connector::start().await;
    let error = deliver(&framework(), &connector.service_url(), "hang").await.unwrap_err();
    let DeliveryError::Unreachable(reason) = &error else { panic!("{error:?}") };
    assert!(reason.contains("timed out"), "{reason}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = listener.local_addr().unwrap();
    drop(listener);
    let error = deliver(&framework(), &format!("http://{dead}/"), "ok").await.unwrap_err();
    assert!(matches!(error, DeliveryError::Unreachable(_)), "{error:?}");
}

#[tokio::test]
async fn a_service_url_that_is_not_http_is_an_invalid_address() {
    let bf = framework();
    for service_url in ["ftp://files.example/", "not a url", "", "file:///etc/passwd"] {
        let error = deliver(&bf, service_url, "ok").await.unwrap_err();
        assert!(matches!(error, DeliveryError::InvalidAddress(_)), "{service_url:?}: {error:?}");
    }
    let error = deliver(&bf, "https://x.example/", "").await.unwrap_err();
    assert!(matches!(error, DeliveryError::InvalidAddress(_)));
}

#[tokio::test]
async fn first_contact_creates_a_conversation_and_returns_its_address() {
    let connector = Connector::start().await;
    let bf = framework();
    let mut known = address(&connector.service_url(), "old-conversation");
    known.tenant_id = Some("tenant-1".into());
    let fresh = bf.channel().create_conversation(&known).await.unwrap();
    assert_eq!(fresh.conversation.id, "new-conversation-1");
    assert_eq!(fresh.conversation.tenant_id.as_deref(), Some("tenant-1"));
    assert_eq!(fresh.id, None);
    assert_eq!(fresh.user, known.user);
    let request = &connector.requests()[0];
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/v3/conversations"));
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["members"][0]["id"], "u1");
    assert_eq!(body["bot"]["id"], "b1");
    assert_eq!(body["tenantId"], "tenant-1");
    assert_eq!(body["channelData"]["tenant"]["id"], "tenant-1");
    assert_eq!(body["isGroup"], false);
    // The new address works for a send.
    let mut hello = Activity::message("first contact");
    fresh.apply_to(&mut hello);
    bf.channel().deliver(&fresh, &hello).await.unwrap();
    assert_eq!(connector.requests()[1].path, "/v3/conversations/new-conversation-1/activities");
}

#[tokio::test]
async fn first_contact_failures_map_like_deliveries() {
    let bf = framework();
    let known = address("ftp://x.example/", "c");
    assert!(matches!(bf.channel().create_conversation(&known).await, Err(DeliveryError::InvalidAddress(_))));
}

#[tokio::test]
async fn outbound_requests_in_flight_are_bounded() {
    use axum::Router;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Gauge {
        now: AtomicUsize,
        max: AtomicUsize,
        seen: AtomicUsize,
    }
    let gauge = Arc::new(Gauge::default());
    let router = Router::new().fallback({
        let gauge = gauge.clone();
        move || async move {
            let now = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
            gauge.max.fetch_max(now, Ordering::SeqCst);
            gauge.seen.fetch_add(1, Ordering::SeqCst);
            // Held long enough for the other requests to pile up if nothing bounds them.
            tokio::time::sleep(Duration::from_millis(30)).await;
            gauge.now.fetch_sub(1, Ordering::SeqCst);
            axum::Json(serde_json::json!({ "id": "activity-1" }))
        }
    });
    let addr = serve(router).await;
    let config = BotFrameworkConfig::default().max_requests_in_flight(2);
    let bf = BotFramework::from_config(config).unwrap();
    let service_url = format!("http://{addr}/");
    let sends = (0..8).map(|i| {
        let connector = bf.connector().clone();
        let service_url = service_url.clone();
        tokio::spawn(async move {
            connector.send_to_conversation(&service_url, &format!("c{i}"), &Activity::message("x")).await
        })
    });
    for send in futures::future::join_all(sends).await {
        send.unwrap().unwrap();
    }
    assert_eq!(gauge.seen.load(Ordering::SeqCst), 8);
    assert_eq!(gauge.max.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn connections_are_kept_for_the_next_burst() {
    use axum::Router;
    use axum::extract::ConnectInfo;
    use std::collections::HashSet;
    use std::net::SocketAddr;
    use std::sync::Mutex;

    const BURST: usize = 20;
    let peers: Arc<Mutex<HashSet<SocketAddr>>> = Arc::default();
    let router = Router::new().fallback({
        let peers = peers.clone();
        move |ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
            peers.lock().unwrap().insert(peer);
            // Held so that a burst needs a connection per request.
            tokio::time::sleep(Duration::from_millis(30)).await;
            axum::Json(serde_json::json!({ "id": "activity-1" }))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    let config = BotFrameworkConfig::default().max_requests_in_flight(BURST);
    let bf = BotFramework::from_config(config).unwrap();
    let service_url = format!("http://{addr}/");
    for _ in 0..2 {
        let sends = (0..BURST).map(|i| {
            let connector = bf.connector().clone();
            let service_url = service_url.clone();
            tokio::spawn(async move {
                connector.send_to_conversation(&service_url, &format!("c{i}"), &Activity::message("x")).await
            })
        });
        for send in futures::future::join_all(sends).await {
            send.unwrap().unwrap();
        }
    }
    let connections = peers.lock().unwrap().len();
    assert!(connections <= BURST, "the second burst reused the first one's connections: {connections} opened");
}
