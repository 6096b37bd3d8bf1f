//! A hostile channel, over real sockets: a raw TCP server that misbehaves at the byte level
//! (absurd headers, absurd `Retry-After`, huge and endless bodies, resets, hangs). Every case ends
//! in a typed connector error, within the configured timeouts, with bounded reads and no panic.
//! Also: where the connector may send requests at all (development mode, plain http).

mod common;

use botwright::Activity;
use botwright::channel::{Channel, DeliveryError};
use botwright::storage::{MemoryStore, Precondition, Storage};
use botwright_botframework::connector::MAX_RETRY_AFTER;
use botwright_botframework::limits::MAX_ERROR_TEXT_BYTES;
use botwright_botframework::{BotFramework, BotFrameworkConfig, ConnectorError};
use common::IdentityService;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long any one case may take at most before the test fails (generous: a shared machine).
const BOUND: Duration = Duration::from_secs(60);

/// What the hostile server does once it has read a request.
#[derive(Clone)]
enum Behaviour {
    /// Writes these bytes and closes.
    Respond(Vec<u8>),
    /// Writes the head, then body bytes forever (or until `limit` bytes).
    Endless { head: Vec<u8>, chunked: bool, limit: Option<u64> },
    /// Writes the head (maybe nothing), then never anything again.
    Hang(Vec<u8>),
    /// Writes the head and part of the body, then resets the connection.
    ResetMidBody(Vec<u8>),
}

struct Hostile {
    addr: SocketAddr,
    /// Body bytes written by the server (for `Endless`).
    written: Arc<AtomicU64>,
    /// Connections accepted.
    connections: Arc<AtomicUsize>,
}

impl Hostile {
    async fn start(behaviour: Behaviour) -> Hostile {
        Self::start_on("127.0.0.1:0", behaviour).await
    }

    async fn start_on(bind: &str, behaviour: Behaviour) -> Hostile {
        let listener = TcpListener::bind(bind).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let written = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let (w, c) = (written.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, behaviour.clone(), w.clone()));
            }
        });
        Hostile { addr, written, connections }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

/// Reads one request (head and `Content-Length` body), then misbehaves.
async fn serve(mut stream: TcpStream, behaviour: Behaviour, written: Arc<AtomicU64>) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let Ok(n) = stream.read(&mut buf).await else { return };
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buf[..n]);
        if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
        .unwrap_or(0);
    while request.len() - head_end < length {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    match behaviour {
        Behaviour::Respond(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Behaviour::Endless { head, chunked, limit } => {
            if stream.write_all(&head).await.is_err() {
                return;
            }
            let chunk = vec![b'x'; 64 * 1024];
            let framed = if chunked {
                let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                framed.extend_from_slice(&chunk);
                framed.extend_from_slice(b"\r\n");
                framed
            } else {
                chunk
            };
            loop {
                if limit.is_some_and(|limit| written.load(Ordering::SeqCst) >= limit) {
                    return;
                }
                if stream.write_all(&framed).await.is_err() {
                    return;
                }
                written.fetch_add(framed.len() as u64, Ordering::SeqCst);
            }
        }
        Behaviour::Hang(head) => {
            let _ = stream.write_all(&head).await;
            std::future::pending::<()>().await;
        }
        Behaviour::ResetMidBody(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.flush().await;
            // Linger 0: closing sends a reset, not an orderly end (and does not block).
            #[allow(deprecated)]
            let _ = stream.set_linger(Some(Duration::ZERO));
            drop(stream);
        }
    }
}

fn framework(config: BotFrameworkConfig) -> BotFramework {
    BotFramework::from_config(config).unwrap()
}

/// Sends one activity to `service_url` within [`BOUND`].
async fn send(bf: &BotFramework, service_url: &str) -> Result<Option<String>, ConnectorError> {
    let activity = Activity::message("hello");
    let sent = tokio::time::timeout(BOUND, bf.connector().send_to_conversation(service_url, "c1", &activity))
        .await
        .expect("the connector must give up within its timeouts");
    sent.map(|r| r.id)
}

fn head(status_line: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut text = format!("HTTP/1.1 {status_line}\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()));
    text.into_bytes()
}

#[tokio::test]
async fn absurd_retry_after_values_are_clamped_to_a_day() {
    let bf = framework(BotFrameworkConfig::default());
    let cases: [(&str, Option<Duration>); 7] = [
        ("99999999999999999999", Some(MAX_RETRY_AFTER)),
        ("18446744073709551615", Some(MAX_RETRY_AFTER)),
        ("Fri, 31 Dec 9999 23:59:59 GMT", Some(MAX_RETRY_AFTER)),
        ("86401", Some(MAX_RETRY_AFTER)),
        ("-5", None),
        ("1e9", None),
        ("7", Some(Duration::from_secs(7))),
    ];
    for (value, expected) in cases {
        let channel = Hostile::start(Behaviour::Respond(head("503 Busy", &[("retry-after", value)], "{}"))).await;
        let error = send(&bf, &channel.url()).await.unwrap_err();
        let ConnectorError::Status { status: 503, retry_after, .. } = &error else { panic!("{value}: {error:?}") };
        assert_eq!(*retry_after, expected, "Retry-After: {value}");
    }
}

#[tokio::test]
async fn a_retry_after_that_is_not_text_is_ignored() {
    let bf = framework(BotFrameworkConfig::default());
    let mut bytes = b"HTTP/1.1 429 Slow\r\nretry-after: \xff\xfe\x80\r\ncontent-length: 0\r\n\r\n".to_vec();
    bytes.extend_from_slice(b"");
    let channel = Hostile::start(Behaviour::Respond(bytes)).await;
    let error = send(&bf, &channel.url()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Status { status: 429, retry_after: None, .. }), "{error:?}");
}

#[tokio::test]
async fn an_endless_chunked_answer_stops_at_the_cap() {
    let bf = framework(BotFrameworkConfig::default().max_response_bytes(256 * 1024));
    let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    let channel = Hostile::start(Behaviour::Endless { head, chunked: true, limit: None }).await;
    let error = send(&bf, &channel.url()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::ResponseTooLarge { limit: 262_144, .. }), "{error:?}");
    // Reading stopped: the server could write no more than the cap plus the sockets' buffers.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let written = channel.written.load(Ordering::SeqCst);
    assert!(written < 64 * 1024 * 1024, "the client went on reading: {written} bytes");
    // The error is mapped to a retryable delivery failure.
    let delivered = bf.channel().deliver(&address(&channel.url()), &Activity::message("x")).await;
    assert!(matches!(delivered, Err(DeliveryError::Unavailable { .. })), "{delivered:?}");
}

#[tokio::test]
async fn a_hundred_mib_answer_is_not_read() {
    let bf = framework(BotFrameworkConfig::default());
    let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 104857600\r\n\r\n".to_vec();
    let channel = Hostile::start(Behaviour::Endless { head, chunked: false, limit: Some(100 * 1024 * 1024) }).await;
    let error = send(&bf, &channel.url()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::ResponseTooLarge { limit: 1_048_576, .. }), "{error:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let written = channel.written.load(Ordering::SeqCst);
    assert!(written < 64 * 1024 * 1024, "the client went on reading: {written} bytes");
}

#[tokio::test]
async fn an_endless_error_body_is_cut_to_a_short_text() {
    let bf = framework(BotFrameworkConfig::default());
    let head = b"HTTP/1.1 500 Oops\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    let channel = Hostile::start(Behaviour::Endless { head, chunked: true, limit: Some(100 << 20) }).await;
    let error = send(&bf, &channel.url()).await.unwrap_err();
    let ConnectorError::Status { status: 500, body, .. } = &error else { panic!("{error:?}") };
    assert!(body.len() <= MAX_ERROR_TEXT_BYTES + '…'.len_utf8(), "{} bytes", body.len());
    assert!(body.starts_with("xxxx") && body.ends_with('…'), "{body}");
    assert!(error.to_string().len() < 1024, "{error}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let written = channel.written.load(Ordering::SeqCst);
    assert!(written < 64 * 1024 * 1024, "the client went on reading: {written} bytes");
}

#[tokio::test]
async fn a_long_multibyte_error_body_is_cut_at_a_char_boundary() {
    let bf = framework(BotFrameworkConfig::default());
    let channel = Hostile::start(Behaviour::Respond(head("400 Bad", &[], &"€".repeat(10_000)))).await;
    let error = send(&bf, &channel.url()).await.unwrap_err();
    let ConnectorError::Status { status: 400, body, .. } = &error else { panic!("{error:?}") };
    assert!(body.len() <= MAX_ERROR_TEXT_BYTES + '…'.len_utf8(), "{} bytes", body.len());
    assert!(body.trim_end_matches('…').chars().all(|c| c == '€'), "{body}");
}

#[tokio::test]
async fn a_reset_mid_body_is_unreachable() {
    let bf = framework(BotFrameworkConfig::default());
    let mut bytes = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n".to_vec();
    bytes.extend_from_slice(br#"{"id":"ab"#);
    let channel = Hostile::start(Behaviour::ResetMidBody(bytes)).await;
    let error = send(&bf, &channel.url()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Unreachable { timeout: false, .. }), "{error:?}");
}

#[tokio::test]
async fn a_channel_hanging_after_its_headers_is_cut_by_the_request_timeout() {
    let config = BotFrameworkConfig::default().request_timeout(Duration::from_secs(1));
    let bf = framework(config);
    let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{".to_vec();
    let channel = Hostile::start(Behaviour::Hang(head)).await;
    let error = send(&bf, &channel.url()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Unreachable { timeout: true, .. }), "{error:?}");
    // And one that never answers at all.
    let silent = Hostile::start(Behaviour::Hang(Vec::new())).await;
    let error = send(&bf, &silent.url()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Unreachable { timeout: true, .. }), "{error:?}");
}

#[tokio::test]
async fn absurd_heads_are_typed_errors() {
    let bf = framework(BotFrameworkConfig::default().request_timeout(Duration::from_secs(5)));
    let huge_value = "v".repeat(1024 * 1024);
    let many: String = (0..20_000).map(|i| format!("x-{i}: y\r\n")).collect();
    let heads: Vec<Vec<u8>> = vec![
        head("200 OK", &[("x-huge", &huge_value)], "{}"),
        format!("HTTP/1.1 200 OK\r\n{many}content-length: 2\r\n\r\n{{}}").into_bytes(),
        b"HTTP/1.1 99999 Nope\r\ncontent-length: 0\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\ncontent-length: -5\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999999\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 7\r\n\r\n{}".to_vec(),
        b"NOT HTTP AT ALL\r\n\r\n".to_vec(),
        vec![0u8; 4096],
        b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7".to_vec(),
    ];
    for (n, bytes) in heads.into_iter().enumerate() {
        let channel = Hostile::start(Behaviour::Respond(bytes)).await;
        match send(&bf, &channel.url()).await {
            Err(
                ConnectorError::Unreachable { .. }
                | ConnectorError::InvalidResponse { .. }
                | ConnectorError::ResponseTooLarge { .. },
            ) => {}
            // A huge header hyper accepts still gives a usable answer.
            Ok(_) if n == 0 => {}
            other => panic!("case {n}: {other:?}"),
        }
    }
}

fn address(service_url: &str) -> botwright::Address {
    use botwright::activity::{ChannelAccount, ConversationAccount};
    botwright::Address::new(
        "msteams",
        service_url,
        ChannelAccount::new("u1"),
        ChannelAccount::new("b1"),
        ConversationAccount::new("c1"),
    )
}

/// This machine's address on a non-loopback interface, if it has one (found by asking the
/// routing table; no packet is sent).
fn non_loopback_ip() -> Option<IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("203.0.113.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// A channel on this machine reached by a non-loopback address (a stand-in for any host on the
/// network), or, without such an interface, a TEST-NET address nothing answers on.
async fn remote_channel() -> (String, Option<Hostile>) {
    let ok = head("200 OK", &[("content-type", "application/json")], r#"{"id":"sent"}"#);
    match non_loopback_ip() {
        Some(ip) => {
            let channel = Hostile::start_on("0.0.0.0:0", Behaviour::Respond(ok)).await;
            (format!("http://{ip}:{}/", channel.addr.port()), Some(channel))
        }
        None => ("http://192.0.2.1:9/".to_owned(), None),
    }
}

/// Development mode (no credentials): anyone can post an activity naming any service URL, so
/// the connector must not call arbitrary hosts for them (blind SSRF).
#[tokio::test]
async fn development_mode_calls_only_loopback_and_configured_service_urls() {
    let (service_url, channel) = remote_channel().await;
    let bf = framework(BotFrameworkConfig::default());
    let error = send(&bf, &service_url).await.unwrap_err();
    let ConnectorError::NotAllowedInDevelopment { origin } = &error else { panic!("{error:?}") };
    assert_eq!(format!("{origin}/"), service_url);
    assert!(error.to_string().contains("BOTWRIGHT_TRUSTED_SERVICE_URLS"), "{error}");
    if let Some(channel) = &channel {
        assert_eq!(channel.connections.load(Ordering::SeqCst), 0, "nothing may reach the host");
    }
    // Not retryable: the delivery engine gives up at once.
    let delivered = bf.channel().deliver(&address(&service_url), &Activity::message("x")).await;
    let Err(DeliveryError::InvalidAddress(reason)) = &delivered else { panic!("{delivered:?}") };
    assert!(reason.contains("development mode"), "{reason}");

    // Configured, it is called.
    if let Some(channel) = &channel {
        let bf = framework(BotFrameworkConfig::default().trusted_service_url(service_url.clone()));
        assert_eq!(send(&bf, &service_url).await.unwrap().as_deref(), Some("sent"));
        assert_eq!(channel.connections.load(Ordering::SeqCst), 1);
    }
    // Loopback is always called.
    let local = Hostile::start(Behaviour::Respond(head("200 OK", &[], r#"{"id":"local"}"#))).await;
    assert_eq!(send(&bf, &local.url()).await.unwrap().as_deref(), Some("local"));
    let named = format!("http://localhost:{}/", local.addr.port());
    assert_eq!(send(&bf, &named).await.unwrap().as_deref(), Some("local"));
}

/// A host trusted as https (a bare configured host means https) never gets the token over http:
/// nothing connects, and no token is even fetched.
#[tokio::test]
async fn a_host_trusted_over_https_never_gets_the_token_over_http() {
    let identity = IdentityService::start(vec![], vec![]).await;
    let (service_url, channel) = remote_channel().await;
    let host = service_url.trim_start_matches("http://").trim_end_matches('/').to_owned();
    for trusted in [host.clone(), format!("https://{host}"), service_url.clone()] {
        let bf = framework(identity.config().trusted_service_url(trusted.clone()));
        let error = send(&bf, &service_url).await.unwrap_err();
        assert!(matches!(error, ConnectorError::InsecureServiceUrl { .. }), "trusting {trusted}: {error:?}");
        assert!(error.to_string().contains("only sent over https"), "{error}");
    }
    if let Some(channel) = &channel {
        assert_eq!(channel.connections.load(Ordering::SeqCst), 0, "the token may not travel in clear text");
    }
    assert_eq!(identity.token_requests(), 0);
}

/// A trust document written by an earlier version (`trusted-host/<host:port>`) trusts that host
/// over https only: a loopback channel at the same host and port over http gets no token.
#[tokio::test]
async fn stored_trusted_hosts_mean_https_only() {
    let identity = IdentityService::start(vec![], vec![]).await;
    let channel = Hostile::start(Behaviour::Respond(head("200 OK", &[], r#"{"id":"sent"}"#))).await;
    let store = Arc::new(MemoryStore::new());
    let key = format!("trusted-host/{}", channel.addr);
    store.write(&key, r#"{"host":"x"}"#, Precondition::Absent).await.unwrap();
    let bf =
        BotFramework::from_config(identity.config()).map(|bf| bf.store(store.clone() as Arc<dyn Storage>)).unwrap();
    let error = send(&bf, &channel.url()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::UntrustedHost { .. }), "{error:?}");
    assert_eq!(channel.connections.load(Ordering::SeqCst), 0);
    // The http origin itself, trusted, is called with the token (loopback may use http).
    let bf = framework(identity.config().trusted_service_url(channel.url()));
    assert_eq!(send(&bf, &channel.url()).await.unwrap().as_deref(), Some("sent"));
}

/// A channel whose accept queue is full never completes the TCP handshake: the connect timeout
/// cuts the attempt.
#[tokio::test]
async fn a_connection_that_never_opens_is_cut_by_the_connect_timeout() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    // Fill the accept queue (never accepted), so that further handshakes are not answered.
    let mut held = Vec::new();
    for _ in 0..4 {
        let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_millis(500), TcpStream::connect(addr)).await else {
            break;
        };
        held.push(stream);
    }
    let config =
        BotFrameworkConfig::default().connect_timeout(Duration::from_secs(1)).request_timeout(Duration::from_secs(30));
    let bf = framework(config);
    let error = send(&bf, &format!("http://{addr}/")).await.unwrap_err();
    let ConnectorError::Unreachable { timeout, reason, .. } = &error else { panic!("{error:?}") };
    assert!(*timeout, "{reason}");
    drop((listener, held));
}

/// A hostile identity service (endless key document) makes keys unavailable (503), quickly and
/// without reading it all.
#[tokio::test]
async fn an_endless_key_document_is_not_read_to_the_end() {
    let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    let identity = Hostile::start(Behaviour::Endless { head, chunked: true, limit: Some(100 << 20) }).await;
    let config = BotFrameworkConfig::default()
        .app_id(common::APP_ID)
        .openid_metadata_url(identity.url())
        .max_response_bytes(64 * 1024);
    let bf = framework(config);
    let key = common::TestKey::load("key1");
    let token = key.sign(&common::channel_claims("https://smba.example/"));
    let verified = tokio::time::timeout(BOUND, bf.authenticator().unwrap().verify_token(&token)).await.unwrap();
    let error = verified.unwrap_err();
    assert_eq!(error.status(), 503, "{error:?}");
    assert!(error.to_string().contains("could not be fetched"), "{error}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let written = identity.written.load(Ordering::SeqCst);
    assert!(written < 64 * 1024 * 1024, "the key document was read on: {written} bytes");
}

/// The token service's answers: an endless one is cut, and what it says when it refuses stays out
/// of the error (which may reach API answers).
#[tokio::test]
async fn the_token_services_words_stay_out_of_errors() {
    let secretive =
        head("401 Unauthorized", &[("content-type", "application/json")], r#"{"error":"AADSTS7000215 tenant 42"}"#);
    let token_service = Hostile::start(Behaviour::Respond(secretive)).await;
    let channel = Hostile::start(Behaviour::Respond(head("200 OK", &[], r#"{"id":"sent"}"#))).await;
    let config = BotFrameworkConfig::default()
        .app_id(common::APP_ID)
        .app_password("pw")
        .token_url(format!("{}token", token_service.url()))
        .trusted_service_url(channel.url());
    let bf = framework(config);
    let error = send(&bf, &channel.url()).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("the token service refused the bot's credentials (status 401)"), "{text}");
    assert!(!text.contains("AADSTS"), "{text}");
    let delivered = bf.channel().deliver(&address(&channel.url()), &Activity::message("x")).await;
    let Err(DeliveryError::Rejected { status: 401, body }) = &delivered else { panic!("{delivered:?}") };
    assert!(!body.contains("AADSTS"), "{body}");
    assert_eq!(channel.connections.load(Ordering::SeqCst), 0);

    let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    let endless = Hostile::start(Behaviour::Endless { head, chunked: true, limit: Some(100 << 20) }).await;
    let config = BotFrameworkConfig::default()
        .app_id(common::APP_ID)
        .app_password("pw")
        .token_url(format!("{}token", endless.url()))
        .trusted_service_url(channel.url());
    let error = send(&framework(config), &channel.url()).await.unwrap_err();
    assert!(error.to_string().contains("larger than 1048576 bytes"), "{error}");
}
