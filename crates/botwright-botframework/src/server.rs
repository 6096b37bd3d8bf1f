//! Serving an axum [`Router`] to hostile clients: HTTP/1.1 on a [`TcpListener`] with hyper, with
//! every duration and size a client controls bounded.
//!
//! `axum::serve` has no timeouts: a client that sends one header byte every few seconds
//! ("slowloris"), or a body one byte at a time, or that opens connections and never uses them,
//! holds a connection (a socket, a task, buffers) for ever, and enough of them starve the server.
//! [`serve`] applies [`ServerLimits`]:
//!
//! | limit | default | what happens when exceeded |
//! | --- | --- | --- |
//! | [`header_read_timeout`](ServerLimits::header_read_timeout) | 10 s | the connection is closed (no answer) |
//! | [`body_read_timeout`](ServerLimits::body_read_timeout) | 30 s | the handler's body read fails; the answer is `408 Request Timeout` and the connection closes |
//! | [`idle_timeout`](ServerLimits::idle_timeout) | 60 s | an idle keep-alive connection is closed |
//! | [`max_connections`](ServerLimits::max_connections) | 1,024 | further connections wait in the listen backlog until one closes |
//! | [`max_header_bytes`](ServerLimits::max_header_bytes) | 64 KiB | `431 Request Header Fields Too Large` |
//! | [`shutdown_grace`](ServerLimits::shutdown_grace) | 10 s | connections still busy after a shutdown are cut |
//!
//! The header timeout runs from the moment a connection is accepted (for its first request) or
//! from the first byte of a later request on a kept-alive connection, until the request head is
//! complete: trickling bytes does not extend it. Between requests a connection is idle, and the
//! idle timeout applies instead. (hyper's own `header_read_timeout` also runs while a kept-alive
//! connection is idle, which would make the idle timeout no longer than the header timeout, so
//! both are enforced here.) The body timeout runs from the moment the request head arrived to
//! the end of the body, for the part of the body the handler reads.
//!
//! Beyond [`max_connections`](ServerLimits::max_connections), new connections are not accepted
//! until one closes: they wait in the kernel's listen backlog rather than being refused, so a
//! burst of honest clients is served late instead of failing, while the timeouts above bound how
//! long anyone can hold a place. A connection upgraded to a WebSocket keeps its place until it
//! closes.
//!
//! Every request carries [`ConnectInfo<SocketAddr>`](axum::extract::ConnectInfo) with the
//! peer's address, and WebSocket upgrades work (the Direct Line stream uses them).
//!
//! ```no_run
//! use botwright_botframework::server::{ServerLimits, serve};
//! use std::time::Duration;
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let app = axum::Router::new().route("/health", axum::routing::get(|| async { "ok" }));
//!     let listener = tokio::net::TcpListener::bind("0.0.0.0:3978").await?;
//!     let limits = ServerLimits::default().header_read_timeout(Duration::from_secs(5));
//!     serve(listener, app, limits, async {
//!         let _ = tokio::signal::ctrl_c().await;
//!     })
//!     .await;
//!     Ok(())
//! }
//! ```

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::Service;

/// The smallest [`ServerLimits::max_header_bytes`] hyper accepts; smaller values are raised to it.
pub const MIN_HEADER_BYTES: usize = 8 * 1024;

/// The bounds [`serve`] puts on every connection. See the [module documentation](self) for what
/// happens when each is exceeded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct ServerLimits {
    /// How long a client may take to send a complete request head (request line and headers),
    /// counted from the connection's acceptance or from the first byte of a later request.
    /// Default 10 s.
    pub(crate) header_read_timeout: Duration,
    /// How long a client may take to send a request's body, counted from the arrival of its
    /// head. Default 30 s.
    pub(crate) body_read_timeout: Duration,
    /// How long a kept-alive connection may stay idle between requests. Default 60 s.
    pub(crate) idle_timeout: Duration,
    /// How many connections are served at once; more wait to be accepted. Default 1,024.
    pub(crate) max_connections: usize,
    /// The largest request head in bytes (at least [`MIN_HEADER_BYTES`]). Default 64 KiB.
    pub(crate) max_header_bytes: usize,
    /// How long a shutdown waits for requests in flight before cutting their connections.
    /// Default 10 s.
    pub(crate) shutdown_grace: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_header_bytes: 64 * 1024,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Builder methods, one per setting, named after it.
impl ServerLimits {
    /// How long a client may take to send a complete request head (request line and headers),
    /// counted from the connection's acceptance or from the first byte of a later request.
    /// Default 10 s.
    pub fn header_read_timeout(mut self, header_read_timeout: Duration) -> Self {
        self.header_read_timeout = header_read_timeout;
        self
    }

    /// How long a client may take to send a request's body, counted from the arrival of its
    /// head. Default 30 s.
    pub fn body_read_timeout(mut self, body_read_timeout: Duration) -> Self {
        self.body_read_timeout = body_read_timeout;
        self
    }

    /// How long a kept-alive connection may stay idle between requests. Default 60 s.
    pub fn idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// How many connections are served at once; more wait to be accepted. Default 1,024.
    pub fn max_connections(mut self, max_connections: usize) -> Self {
        self.max_connections = max_connections;
        self
    }

    /// The largest request head in bytes (at least [`MIN_HEADER_BYTES`]). Default 64 KiB.
    pub fn max_header_bytes(mut self, max_header_bytes: usize) -> Self {
        self.max_header_bytes = max_header_bytes;
        self
    }

    /// How long a shutdown waits for requests in flight before cutting their connections.
    /// Default 10 s.
    pub fn shutdown_grace(mut self, shutdown_grace: Duration) -> Self {
        self.shutdown_grace = shutdown_grace;
        self
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` resolves; then stops accepting,
/// lets requests in flight finish for up to [`ServerLimits::shutdown_grace`], and returns.
///
/// Errors accepting a connection (e.g. too many open files) are logged and retried after a short
/// pause; they never end the server.
pub async fn serve<F>(listener: TcpListener, router: Router, limits: ServerLimits, shutdown: F)
where
    F: Future<Output = ()> + Send,
{
    let limits = Arc::new(limits);
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The header timeout is enforced by `Watch` below (see the module documentation).
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .max_buf_size(limits.max_header_bytes.max(MIN_HEADER_BYTES));
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop, stopped) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection; retrying shortly");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            router: router.clone(),
            limits: limits.clone(),
            builder: builder.clone(),
            stopped: stopped.clone(),
            peer,
        };
        connections.spawn(connection.run(stream, slot));
    }
    drop(listener);
    let _ = stop.send(true);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.shutdown_grace, drain).await.is_err() {
        tracing::warn!(
            connections = connections.len(),
            grace = ?limits.shutdown_grace,
            "connections still busy after the shutdown grace period; closing them"
        );
        connections.shutdown().await;
    }
}

/// One accepted connection and what serving it needs.
struct Connection {
    router: Router,
    limits: Arc<ServerLimits>,
    builder: Arc<hyper::server::conn::http1::Builder>,
    stopped: watch::Receiver<bool>,
    peer: SocketAddr,
}

impl Connection {
    async fn run(mut self, stream: TcpStream, slot: OwnedSemaphorePermit) {
        let watch = Arc::new(Watch::new());
        let io = TokioIo::new(Tracked { stream, watch: watch.clone(), _slot: slot });
        let service = RequestService {
            router: self.router.clone(),
            watch: watch.clone(),
            peer: self.peer,
            body_read_timeout: self.limits.body_read_timeout,
        };
        let service = hyper::service::service_fn(move |request| service.clone().call(request));
        let mut conn = pin!(self.builder.serve_connection(io, service).with_upgrades());
        let mut stopping = *self.stopped.borrow();
        if stopping {
            conn.as_mut().graceful_shutdown();
        }
        let mut closing = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(peer = %self.peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                // Still watched once closing: a request begun meanwhile keeps its header timeout.
                verdict = watch.expired(&self.limits, closing) => match verdict {
                    Expired::Head => {
                        tracing::debug!(peer = %self.peer, "request head not received in time; closing the connection");
                        return;
                    }
                    Expired::Idle => {
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                    }
                },
                changed = self.stopped.changed(), if !stopping => {
                    stopping = true;
                    if changed.is_err() || *self.stopped.borrow() {
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        }
    }
}

/// Where a connection stands, for its timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for (the rest of) a request head since this instant.
    Head(Instant),
    /// Serving this many requests (from their head to the end of their answer).
    Requests(usize),
    /// Idle between requests since this instant.
    Idle(Instant),
}

/// Which timeout a connection exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expired {
    /// The request head took too long: close at once.
    Head,
    /// The connection was idle too long: close it when hyper agrees it is idle.
    Idle,
}

/// A connection's phase, shared by its socket, its service and its watcher.
#[derive(Debug)]
struct Watch {
    phase: Mutex<Phase>,
    changed: Notify,
}

impl Watch {
    fn new() -> Self {
        Watch { phase: Mutex::new(Phase::Head(Instant::now())), changed: Notify::new() }
    }

    fn update(&self, change: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        let next = change(*phase);
        if next != *phase {
            *phase = next;
            self.changed.notify_one();
        }
    }

    fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes arrived: an idle connection starts a request head.
    fn bytes_read(&self) {
        self.update(|phase| match phase {
            Phase::Idle(_) => Phase::Head(Instant::now()),
            other => other,
        });
    }

    fn request_started(&self) {
        self.update(|phase| match phase {
            Phase::Requests(n) => Phase::Requests(n + 1),
            _ => Phase::Requests(1),
        });
    }

    fn request_finished(&self) {
        self.update(|phase| match phase {
            Phase::Requests(n) if n > 1 => Phase::Requests(n - 1),
            _ => Phase::Idle(Instant::now()),
        });
    }

    /// Resolves when the connection exceeds its header timeout, or its idle timeout unless
    /// `idle_reported` (it was already).
    async fn expired(&self, limits: &ServerLimits, idle_reported: bool) -> Expired {
        loop {
            let changed = self.changed.notified();
            let phase = self.phase();
            let (deadline, verdict) = match phase {
                Phase::Head(since) => (since + limits.header_read_timeout, Expired::Head),
                Phase::Idle(since) if !idle_reported => (since + limits.idle_timeout, Expired::Idle),
                Phase::Idle(_) | Phase::Requests(_) => {
                    changed.await;
                    continue;
                }
            };
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => {
                    if self.phase() == phase {
                        return verdict;
                    }
                }
                () = changed => {}
            }
        }
    }
}

/// The socket, noting when bytes arrive, and holding the connection's place among
/// [`ServerLimits::max_connections`] for as long as it is open (a WebSocket included).
struct Tracked {
    stream: TcpStream,
    watch: Arc<Watch>,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for Tracked {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.watch.bytes_read();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Marks a request finished when dropped (with the answer's body, once hyper has sent it).
struct RequestGuard(Arc<Watch>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// Hands each request to the router with its peer address and a body read deadline.
#[derive(Clone)]
struct RequestService {
    router: Router,
    watch: Arc<Watch>,
    peer: SocketAddr,
    body_read_timeout: Duration,
}

impl RequestService {
    async fn call(mut self, request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
        self.watch.request_started();
        let guard = RequestGuard(self.watch.clone());
        let timed_out = Arc::new(AtomicBool::new(false));
        let mut request = request.map(|body| {
            Body::new(TimedBody {
                inner: body,
                deadline: Box::pin(tokio::time::sleep(self.body_read_timeout)),
                timed_out: timed_out.clone(),
            })
        });
        request.extensions_mut().insert(ConnectInfo(self.peer));
        // A Router is always ready.
        let response = match self.router.call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let response =
            if timed_out.load(Ordering::Acquire) { body_timeout_response(self.body_read_timeout) } else { response };
        Ok(response.map(|body| {
            Body::new(body.map_frame(move |frame| {
                let _finished_on_drop = &guard;
                frame
            }))
        }))
    }
}

fn body_timeout_response(limit: Duration) -> Response<Body> {
    let message = format!("the request body was not received within {} s", limit.as_secs_f64());
    let body = serde_json::json!({ "error": message }).to_string();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    headers.insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    response
}

/// The request body was not received within [`ServerLimits::body_read_timeout`].
#[derive(Debug, thiserror::Error)]
#[error("the request body was not received in time")]
pub struct BodyTimeout;

/// A request body that fails with [`BodyTimeout`] once its deadline passes.
struct TimedBody {
    inner: Incoming,
    deadline: Pin<Box<Sleep>>,
    timed_out: Arc<AtomicBool>,
}

impl hyper::body::Body for TimedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_ready() {
                    this.timed_out.store(true, Ordering::Release);
                    return Poll::Ready(Some(Err(BodyTimeout.into())));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
