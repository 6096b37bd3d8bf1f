//! Test support: a Bot Framework connector stand-in on a real socket, and `botwright serve` as
//! a child process.
#![allow(dead_code, unreachable_pub, missing_docs)]

use axum::Router;
use axum::extract::{Path, State};
use axum::routing;
use serde_json::{Value, json};
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream};
use std::path::Path as FsPath;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the connector received: the conversation, the activity it replied to, the activity.
#[derive(Debug, Clone)]
pub struct Received {
    pub conversation: String,
    pub reply_to: Option<String>,
    pub activity: Value,
}

/// A connector stand-in: accepts every activity with 200 `{id}` and records it.
#[derive(Clone, Default)]
pub struct Connector {
    received: Arc<Mutex<Vec<Received>>>,
    refuse: Arc<Mutex<std::collections::HashMap<String, u16>>>,
    delay_ms: Arc<std::sync::atomic::AtomicU64>,
    pub url: String,
}

async fn record(
    State(c): State<Connector>,
    path: Path<Vec<(String, String)>>,
    body: axum::Json<Value>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let params: std::collections::HashMap<_, _> = path.0.into_iter().collect();
    let conversation = params.get("conversation").cloned().unwrap_or_default();
    let delay = c.delay_ms.load(std::sync::atomic::Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if let Some(status) = c.refuse.lock().unwrap().get(&conversation) {
        let status = axum::http::StatusCode::from_u16(*status).unwrap();
        return (status, axum::Json(json!({"error": {"code": "BotBlocked", "message": "the user blocked the bot"}})))
            .into_response();
    }
    let mut received = c.received.lock().unwrap();
    let id = format!("reply-{}", received.len() + 1);
    received.push(Received {
        conversation: params.get("conversation").cloned().unwrap_or_default(),
        reply_to: params.get("reply_to").cloned(),
        activity: body.0,
    });
    axum::Json(json!({ "id": id })).into_response()
}

impl Connector {
    pub async fn start() -> Connector {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connector = Connector { received: Arc::default(), refuse: Arc::default(), delay_ms: Arc::default(), url };
        let app = Router::new()
            .route("/v3/conversations/{conversation}/activities", routing::post(record))
            .route("/v3/conversations/{conversation}/activities/{reply_to}", routing::post(record))
            .with_state(connector.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        connector
    }

    /// Answers `status` to everything sent to `conversation`.
    pub fn refuse(&self, conversation: &str, status: u16) {
        self.refuse.lock().unwrap().insert(conversation.to_owned(), status);
    }

    /// Answers every request after `ms` milliseconds.
    pub fn set_delay(&self, ms: u64) {
        self.delay_ms.store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many activities were received.
    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// The texts of the messages sent to `conversation`, in order.
    pub fn texts(&self, conversation: &str) -> Vec<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.conversation == conversation && r.activity["type"] == "message")
            .map(|r| r.activity["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `conversation` has received `count` messages, and returns their texts.
    pub async fn wait_for(&self, conversation: &str, count: usize) -> Vec<String> {
        let started = Instant::now();
        loop {
            let texts = self.texts(conversation);
            if texts.len() >= count {
                return texts;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "conversation {conversation} got {texts:?}, expected {count} messages"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `botwright serve` running as a child process.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub port: u16,
}

impl Server {
    pub fn start(store: &str, extra: &[&str]) -> Server {
        Server::start_on(free_port(), store, extra)
    }

    pub fn start_on(port: u16, store: &str, extra: &[&str]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_botwright"));
        command
            .args(["serve", "--port", &port.to_string(), "--store", store])
            .args(extra)
            .env_remove("MICROSOFT_APP_ID")
            .env_remove("MICROSOFT_APP_PASSWORD")
            .env_remove("BOTWRIGHT_WEBHOOK_TOKEN")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let child = command.spawn().expect("botwright serve starts");
        let server = Server { child, base: format!("http://127.0.0.1:{port}"), port };
        server.wait_listening();
        server
    }

    fn wait_listening(&self) {
        let started = Instant::now();
        let address: SocketAddr = format!("127.0.0.1:{}", self.port).parse().unwrap();
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "botwright serve did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the process with SIGKILL (no chance to clean up).
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A user of the channel.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub conversation: String,
    pub service_url: String,
}

impl User {
    pub fn new(id: &str, connector: &Connector, trailing_slash: bool) -> User {
        let service_url = if trailing_slash { format!("{}/", connector.url) } else { connector.url.clone() };
        User { id: id.into(), conversation: format!("conv-{id}"), service_url }
    }

    /// A message as a Bot Framework channel sends it (the emulator's minimal form: no recipient,
    /// timestamp or locale).
    pub fn message(&self, id: &str, text: &str) -> Value {
        json!({
            "type": "message",
            "id": id,
            "text": text,
            "channelId": "emulator",
            "serviceUrl": self.service_url,
            "from": {"id": self.id, "name": self.id},
            "conversation": {"id": self.conversation},
        })
    }

    pub fn address(&self) -> Value {
        json!({
            "channelId": "emulator",
            "serviceUrl": self.service_url,
            "user": {"id": self.id},
            "bot": {"id": "bot"},
            "conversation": {"id": self.conversation},
        })
    }
}

/// One pooled client for the whole test binary (building a client is expensive).
pub fn http() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
        })
        .clone()
}

pub async fn post(base: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = http().post(format!("{base}{path}")).json(body).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub async fn post_raw(base: &str, path: &str, body: &str) -> (u16, Value) {
    let response = http()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub async fn get(base: &str, path: &str) -> (u16, Value) {
    let response = http().get(format!("{base}{path}")).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub fn temp_db(dir: &FsPath) -> String {
    format!("sqlite:{}", dir.join("bot.db").display())
}

/// POSTs a body over a raw socket and returns the status the server answered, also when it
/// answers (413) before the client has finished writing and closes the connection.
pub async fn post_status_raw(port: u16, path: &str, body: Vec<u8>) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let write = tokio::spawn(async move {
        let _ = writer.write_all(head.as_bytes()).await;
        let _ = writer.write_all(&body).await;
        writer
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    write.abort();
    let status_line = String::from_utf8_lossy(&answer);
    status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// `botwright serve` as a child process whose standard output and error are kept, for tests of
/// what it prints and of starts that do not (yet) listen.
pub struct Watched {
    pub child: Child,
    pub port: u16,
    pub base: String,
    output: Arc<Mutex<String>>,
}

impl Watched {
    /// Starts `botwright serve --port <free> <args>` with no credentials and no web hook token
    /// in its environment (plus `env`), logging at `info`.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Watched {
        Watched::start_on(free_port(), args, env)
    }

    pub fn start_on(port: u16, args: &[&str], env: &[(&str, &str)]) -> Watched {
        use std::io::Read;
        let mut command = Command::new(env!("CARGO_BIN_EXE_botwright"));
        command
            .args(["serve", "--port", &port.to_string()])
            .args(args)
            .env_remove("MICROSOFT_APP_ID")
            .env_remove("MICROSOFT_APP_PASSWORD")
            .env_remove("BOTWRIGHT_WEBHOOK_TOKEN")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("botwright serve starts");
        let output = Arc::new(Mutex::new(String::new()));
        let pipes: Vec<Box<dyn Read + Send>> = vec![
            Box::new(child.stdout.take().expect("piped stdout")),
            Box::new(child.stderr.take().expect("piped stderr")),
        ];
        for mut pipe in pipes {
            let output = output.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    output.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        Watched { child, port, base: format!("http://127.0.0.1:{port}"), output }
    }

    /// Everything printed so far, standard output and error interleaved.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits (up to 60 s) until the output satisfies `done`; panics with the output otherwise.
    pub fn wait_output(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let output = self.output();
            if done(&output) {
                return output;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "serve never printed {what}; it printed:\n{output}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits (up to 60 s) until the process exits, and returns its exit status and output.
    pub fn wait_exit(&mut self) -> (std::process::ExitStatus, String) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                return (status, self.output());
            }
            assert!(started.elapsed() < Duration::from_secs(60), "serve did not exit; it printed:\n{}", self.output());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits (up to 60 s) until the server accepts connections on 127.0.0.1.
    pub fn wait_listening(&self) {
        let started = Instant::now();
        let address: SocketAddr = format!("127.0.0.1:{}", self.port).parse().unwrap();
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "botwright serve did not start listening; it printed:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw HTTP/1.1 answer: status, headers (lower-cased names) and body.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Reads one answer from `stream` (a head, then a `Content-Length` body); `None` when the server
/// closed the connection first. Waits up to 30 s.
pub async fn read_answer(stream: &mut tokio::net::TcpStream) -> Option<RawAnswer> {
    use tokio::io::AsyncReadExt;
    let read = async {
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => data.extend_from_slice(&buf[..n]),
            }
        };
        let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize =
            headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
        while data.len() < head_end + length {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => data.extend_from_slice(&buf[..n]),
            }
        }
        let body = String::from_utf8_lossy(&data[head_end..(head_end + length).min(data.len())]).into_owned();
        Some(RawAnswer { status, headers, body })
    };
    tokio::time::timeout(Duration::from_secs(30), read).await.expect("an answer or a close within 30 s")
}

/// Waits (up to `limit`) until the server closes `stream`: true if it did.
pub async fn closed_within(stream: &mut tokio::net::TcpStream, limit: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    let wait = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, wait).await.is_ok()
}

/// Sends `request` (raw bytes) on a new connection to 127.0.0.1:`port` and reads the answer.
pub async fn raw_request(port: u16, request: &str) -> Option<RawAnswer> {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    read_answer(&mut stream).await
}
