//! Slow and greedy clients against `botwright serve` over real sockets: a request head trickled a
//! byte at a time, a body trickled the same way, idle kept-alive connections, more connections
//! than allowed, and `botwright_botframework::server::serve` itself (WebSocket upgrades, the
//! peer address, a bounded graceful shutdown).
//!
//! The limits are made small with `serve`'s flags; every wait is bounded generously, and no
//! test asserts how fast anything happened.

mod support;

use std::time::Duration;
use support::{Server, closed_within, read_answer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const GET: &str = "GET /api/subscriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

async fn connect(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port)).await.unwrap()
}

/// Sends `bytes` one at a time, one a second, until the server closes the connection; true if
/// it closed it before everything was sent.
async fn trickle(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    for byte in bytes {
        if stream.write_all(&[*byte]).await.is_err() {
            return true;
        }
        if closed_within(stream, Duration::from_secs(1)).await {
            return true;
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_trickled_a_byte_a_second_is_cut_off() {
    let server = Server::start("memory", &["--header-read-timeout", "2s"]);
    let mut slow = connect(server.port).await;
    // 60 bytes at one a second: far beyond the 2 s allowed for the whole head.
    let head = format!("GET /api/subscriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: {}", "a".repeat(20));
    assert!(trickle(&mut slow, head.as_bytes()).await, "the connection was still open after the whole trickle");
    // The server still answers others.
    let mut other = connect(server.port).await;
    other.write_all(GET.as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut other).await.expect("an answer").status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_sends_is_cut_off_by_the_header_timeout() {
    let server = Server::start("memory", &["--header-read-timeout", "1s", "--idle-timeout", "600s"]);
    let mut silent = connect(server.port).await;
    assert!(closed_within(&mut silent, Duration::from_secs(30)).await, "a silent connection stayed open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_trickled_a_byte_a_second_gets_408() {
    let server = Server::start("memory", &["--body-read-timeout", "2s"]);
    let mut slow = connect(server.port).await;
    let body = br#"{"reportId": "r", "members": []}                                    "#;
    let head = format!(
        "POST /api/standup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = slow.into_split();
    let feeder = tokio::spawn(async move {
        for byte in body {
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(40), async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    feeder.abort();
    assert!(read.is_ok(), "the connection stayed open while the body trickled");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("the request body was not received within 2 s"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed() {
    let server = Server::start("memory", &["--idle-timeout", "2s", "--header-read-timeout", "600s"]);
    let mut idle = connect(server.port).await;
    idle.write_all(GET.as_bytes()).await.unwrap();
    let answer = read_answer(&mut idle).await.expect("an answer");
    assert_eq!(answer.status, 200);
    assert_ne!(answer.header("connection"), Some("close"));
    assert!(closed_within(&mut idle, Duration::from_secs(30)).await, "the idle connection stayed open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_connection_idle_longer_than_the_header_timeout_still_works() {
    // hyper's own header timer also runs between requests; the idle timeout governs there.
    let server = Server::start("memory", &["--header-read-timeout", "1s", "--idle-timeout", "600s"]);
    let mut kept = connect(server.port).await;
    kept.write_all(GET.as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut kept).await.expect("an answer").status, 200);
    assert!(!closed_within(&mut kept, Duration::from_secs(3)).await, "closed while idle (header timeout applied)");
    kept.write_all(GET.as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut kept).await.expect("a second answer on the same connection").status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_connection_limit_clients_wait_and_are_served_once_a_place_frees() {
    let server =
        Server::start("memory", &["--max-connections", "2", "--idle-timeout", "600s", "--header-read-timeout", "600s"]);
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(server.port).await;
        stream.write_all(GET.as_bytes()).await.unwrap();
        assert_eq!(read_answer(&mut stream).await.expect("an answer").status, 200);
        held.push(stream);
    }
    // A third client connects (the kernel's backlog) but is not served while two are open.
    let mut third = connect(server.port).await;
    third.write_all(GET.as_bytes()).await.unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_secs(2), third.read(&mut buf)).await;
    assert!(early.is_err(), "the third connection was served beyond the limit: {early:?}");
    // Once one closes, the waiting one is served, and the other held one still works.
    drop(held.remove(0));
    assert_eq!(read_answer(&mut third).await.expect("the waiting client is served").status, 200);
    held[0].write_all(GET.as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut held[0]).await.expect("an answer").status, 200);
}

mod direct {
    //! `server::serve` with a router of its own.

    use super::support::read_answer;
    use axum::Router;
    use axum::extract::ConnectInfo;
    use axum::extract::ws::WebSocketUpgrade;
    use axum::routing::get;
    use botwright_botframework::server::{ServerLimits, serve};
    use std::net::SocketAddr;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::{mpsc, oneshot};

    fn app() -> Router {
        Router::new()
            .route("/peer", get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }))
            .route(
                "/ws",
                get(|ws: WebSocketUpgrade| async move {
                    ws.on_upgrade(|mut socket| async move {
                        // Echo one message back.
                        if let Some(Ok(message)) = socket.recv().await {
                            let _ = socket.send(message).await;
                        }
                    })
                }),
            )
    }

    /// A router whose `/slow` tells `reached` when a request arrives, then answers after 1 s,
    /// and whose `/forever` never answers.
    fn slow_app(reached: mpsc::Sender<()>) -> Router {
        let forever = reached.clone();
        Router::new()
            .route(
                "/slow",
                get(move || async move {
                    let _ = reached.send(()).await;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    "finished"
                }),
            )
            .route(
                "/forever",
                get(move || async move {
                    let _ = forever.send(()).await;
                    std::future::pending::<&'static str>().await
                }),
            )
    }

    async fn start(limits: ServerLimits) -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
        start_with(app(), limits).await
    }

    async fn start_with(
        app: Router,
        limits: ServerLimits,
    ) -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, app, limits, async move {
            let _ = stopped.await;
        }));
        (address, stop, task)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_peer_address_reaches_handlers() {
        let (address, _stop, _task) = start(ServerLimits::default()).await;
        let mut stream = TcpStream::connect(address).await.unwrap();
        let local = stream.local_addr().unwrap();
        stream.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let answer = read_answer(&mut stream).await.unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, local.to_string());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn websocket_upgrades_work_and_outlive_the_idle_timeout() {
        let limits = ServerLimits::default().idle_timeout(Duration::from_secs(1));
        let (address, _stop, _task) = start(limits).await;
        let mut stream = TcpStream::connect(address).await.unwrap();
        let handshake = "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
            Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        stream.write_all(handshake.as_bytes()).await.unwrap();
        let answer = read_answer(&mut stream).await.unwrap();
        assert_eq!(answer.status, 101, "{answer:?}");
        assert_eq!(answer.header("sec-websocket-accept"), Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        let mut frame = [0u8; 4];
        // Past the idle timeout the stream still works: send a masked text frame `yo`.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mask = [1u8, 2, 3, 4];
        let payload: Vec<u8> = b"yo".iter().enumerate().map(|(i, b)| b ^ mask[i % 4]).collect();
        let mut out = vec![0x81, 0x82];
        out.extend_from_slice(&mask);
        out.extend_from_slice(&payload);
        stream.write_all(&out).await.unwrap();
        tokio::time::timeout(Duration::from_secs(30), stream.read_exact(&mut frame)).await.expect("an echo").unwrap();
        assert_eq!(&frame, b"\x81\x02yo", "the echo");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_finishes_requests_in_flight_and_stops_accepting() {
        let (reached, mut arrivals) = mpsc::channel(1);
        let (address, stop, task) = start_with(slow_app(reached), ServerLimits::default()).await;
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        // Once the request is in the handler, stop the server.
        arrivals.recv().await.unwrap();
        stop.send(()).unwrap();
        let answer = read_answer(&mut stream).await.expect("the request in flight is answered");
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, "finished");
        tokio::time::timeout(Duration::from_secs(30), task).await.expect("serve returns").unwrap();
        assert!(TcpStream::connect(address).await.is_err(), "still accepting after shutdown");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_is_bounded_by_the_grace_period() {
        let limits = ServerLimits::default().shutdown_grace(Duration::from_millis(200));
        let (reached, mut arrivals) = mpsc::channel(1);
        let (address, stop, task) = start_with(slow_app(reached), limits).await;
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(b"GET /forever HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        arrivals.recv().await.unwrap();
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("serve returns despite a stuck request")
            .unwrap();
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf)).await.expect("closed");
        assert!(matches!(read, Ok(0) | Err(_)), "the stuck connection was closed");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_head_larger_than_the_limit_gets_431() {
        let limits = ServerLimits::default().max_header_bytes(8192);
        let (address, _stop, _task) = start(limits).await;
        let mut stream = TcpStream::connect(address).await.unwrap();
        let big = format!("GET /peer HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(20_000));
        let _ = stream.write_all(big.as_bytes()).await;
        let answer = read_answer(&mut stream).await.expect("an answer");
        assert_eq!(answer.status, 431);
    }
}
