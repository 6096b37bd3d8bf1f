//! `botwright serve`: the sample bot over HTTP.
//!
//! Safe defaults: it listens on loopback; beyond loopback it needs a web hook token and app
//! credentials (or `--insecure-no-auth`), and every connection is bounded in time and number
//! ([`botwright_botframework::server`]). A store that is not reachable at start is waited for,
//! with backoff, instead of ending the process.

use crate::sample::{self, hooks};
use crate::store::{OpenError, Store, redact};
use anyhow::{Context, bail};
use botwright::Bot;
use botwright::channel::Channel;
use botwright::proactive::{ProactiveSettings, RateLimits};
use botwright::storage::{Precondition, Storage, StorageError};
use botwright_botframework::server::{self, ServerLimits};
use botwright_botframework::{
    BotFramework, BotFrameworkConfig, DirectLine, DirectLineConfig, UserIds, WebChatOptions, webchat_router,
};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Options of `serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// The port to listen on.
    #[arg(long, env = "PORT", default_value_t = 3978)]
    pub port: u16,
    /// Where state lives: `memory`, `sqlite:PATH` or `postgres://...`.
    #[arg(long, default_value = "sqlite:botwright.db")]
    pub store: String,
    /// A bearer token the web hooks require (required when listening beyond loopback).
    #[arg(long, env = "BOTWRIGHT_WEBHOOK_TOKEN")]
    pub webhook_token: Option<String>,
    /// How long `POST /api/notify` waits for delivery, e.g. `5s` or `800ms`.
    #[arg(long, default_value = "5s", value_parser = crate::parse_duration)]
    pub notify_timeout: Duration,
    /// Outgoing rate limits: `default` stays inside the Bot Framework's documented limits (per
    /// conversation a burst of 7 then 2 per second; 50 per second per service URL); `off` for
    /// benchmarks and local channels.
    #[arg(long, value_enum, default_value_t = RateLimitChoice::Default)]
    pub rate_limits: RateLimitChoice,
    /// How many proactive deliveries may be in flight at once (and at least as many requests to
    /// the connector, replies included).
    #[arg(long, default_value_t = 64)]
    pub max_in_flight: usize,
    /// This instance's name in the store's claims, the same on every run and unique among
    /// running instances (default: `<hostname>:<port>`). After a crash, the next run takes back
    /// at once what the previous one had claimed.
    #[arg(long, env = "BOTWRIGHT_INSTANCE_ID")]
    pub instance_id: Option<String>,
    /// A secret the embedded Direct Line endpoint requires to open conversations (unset:
    /// anyone who reaches the server may chat, as in development).
    #[arg(long, env = "BOTWRIGHT_DIRECTLINE_SECRET")]
    pub directline_secret: Option<String>,
    /// Listen beyond loopback without app credentials (`MICROSOFT_APP_ID` and
    /// `MICROSOFT_APP_PASSWORD`): `/api/messages` then accepts activities from anyone. For a
    /// private network only.
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// How long a client may take to send a request's head (line and headers), from its
    /// connection or the first byte of a later request; then the connection is closed.
    #[arg(long, default_value = "10s", value_parser = crate::parse_duration)]
    pub header_read_timeout: Duration,
    /// How long a client may take to send a request's body, from its head; then 408.
    #[arg(long, default_value = "30s", value_parser = crate::parse_duration)]
    pub body_read_timeout: Duration,
    /// How long a kept-alive connection may stay idle between requests before it is closed.
    #[arg(long, default_value = "60s", value_parser = crate::parse_duration)]
    pub idle_timeout: Duration,
    /// How many connections are served at once; more wait (in the listen backlog) until one
    /// closes. WebSocket streams count.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// The largest request head in bytes (at least 8192); larger heads get 431.
    #[arg(long, default_value_t = 65536, value_parser = clap::value_parser!(u32).range(8192..))]
    pub max_header_bytes: u32,
    /// How long a shutdown (Ctrl-C, SIGTERM) waits for requests in flight before closing their
    /// connections.
    #[arg(long, default_value = "10s", value_parser = crate::parse_duration)]
    pub shutdown_grace: Duration,
}

impl ServeArgs {
    /// The connection limits these options ask for.
    pub fn limits(&self) -> ServerLimits {
        ServerLimits::default()
            .header_read_timeout(self.header_read_timeout)
            .body_read_timeout(self.body_read_timeout)
            .idle_timeout(self.idle_timeout)
            .max_connections(self.max_connections as usize)
            .max_header_bytes(self.max_header_bytes as usize)
            .shutdown_grace(self.shutdown_grace)
    }
}

fn default_instance_id(port: u16) -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{port}")
}

/// The rate limits `serve` applies to outgoing activities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RateLimitChoice {
    /// The Bot Framework's documented limits.
    Default,
    /// No limit.
    Off,
}

/// The sample bot and everything it serves, built from `args`.
#[derive(Debug)]
pub struct Server {
    /// The bot.
    pub bot: Bot,
    /// Its HTTP routes.
    pub router: axum::Router,
}

/// Builds the bot and its routes.
pub async fn build(args: &ServeArgs) -> anyhow::Result<Server> {
    let store = Store::open(&args.store).await?;
    let config = BotFrameworkConfig::from_env().context("invalid Bot Framework configuration")?;
    build_with(args, store, config).await
}

/// Builds the bot and its routes on an open store.
async fn build_with(args: &ServeArgs, store: Store, config: BotFrameworkConfig) -> anyhow::Result<Server> {
    let requests = args.max_in_flight.max(botwright_botframework::limits::DEFAULT_MAX_REQUESTS_IN_FLIGHT);
    // With app credentials the bot is meant to face real users: a web chat client then never
    // chooses its own user id (it could claim another user's). In development, the built-in
    // page names its user after the name typed in, as before.
    let user_ids = if config.has_credentials() { UserIds::ServerAssigned } else { UserIds::ClientChosen };
    let config = config.max_requests_in_flight(requests);
    let framework = BotFramework::from_config(config).context("cannot set up the Bot Framework channel")?;
    let localizer = sample::localizer().context("the sample's message tables are invalid")?;
    let signing_key =
        directline_key(store.storage().as_ref()).await.context("cannot read the Direct Line signing key")?;
    let directline = DirectLine::new(
        DirectLineConfig::default()
            .secret(args.directline_secret.clone())
            .signing_key(Some(signing_key))
            .user_ids(user_ids),
    );
    let connector: Arc<dyn Channel> = Arc::new(framework.channel());
    let rate_limits = args.rate_limits;
    let max_in_flight = args.max_in_flight.max(1);
    let instance_id = args.instance_id.clone().unwrap_or_else(|| default_instance_id(args.port));
    let bot = store
        .apply(sample::bot(localizer))
        // Replies go where their conversation lives: the embedded Direct Line's own
        // conversations to it, every other one (Azure's Direct Line included) to its serviceUrl.
        .default_channel(connector.clone())
        .channel(botwright_botframework::directline::CHANNEL_ID, directline.channel_or(connector))
        .proactive(ProactiveSettings::default().max_in_flight(max_in_flight).instance_id(instance_id).rate_limits(
            if rate_limits == RateLimitChoice::Off { RateLimits::unlimited() } else { RateLimits::default() },
        ))
        .build();
    let hooks =
        hooks::Hooks { bot: bot.clone(), token: args.webhook_token.clone(), notify_timeout: args.notify_timeout };
    let router = axum::Router::new()
        .merge(framework.router(bot.clone()))
        .merge(directline.router(bot.clone()))
        .merge(webchat_router(&WebChatOptions::default().sample_panel(true)))
        .merge(hooks::router(hooks));
    Ok(Server { bot, router })
}

/// The key Direct Line tokens are signed with, made once and kept in the store, so that web chat
/// conversations outlive a restart of the bot.
async fn directline_key(storage: &dyn Storage) -> Result<Vec<u8>, StorageError> {
    const KEY: &str = "directline/signing-key";
    loop {
        if let Some(doc) = storage.read(KEY).await? {
            let hex: String = serde_json::from_str(&doc.json)
                .map_err(|e| StorageError::Corrupt { key: KEY.into(), reason: e.to_string() })?;
            return (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|e| StorageError::Corrupt { key: KEY.into(), reason: e.to_string() });
        }
        let key: [u8; 32] = rand::random();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        match storage.write(KEY, &serde_json::to_string(&hex).unwrap_or_default(), Precondition::Absent).await {
            Ok(_) => return Ok(key.to_vec()),
            // Another instance made one first: use theirs.
            Err(StorageError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Why `serve` will not listen where it was asked to, if it will not: beyond loopback it needs
/// a web hook token, and app credentials unless `--insecure-no-auth`.
pub fn check_exposure(args: &ServeArgs, config: &BotFrameworkConfig) -> anyhow::Result<()> {
    if args.host.is_loopback() {
        return Ok(());
    }
    if args.webhook_token.is_none() {
        bail!(
            "refusing to listen on {} without a web hook token: anyone who can reach it could message your users. \
             Set --webhook-token (or BOTWRIGHT_WEBHOOK_TOKEN), or listen on 127.0.0.1",
            args.host
        );
    }
    if !config.has_credentials() && !args.insecure_no_auth {
        bail!(
            "refusing to listen on {} without app credentials: /api/messages would accept activities from anyone, \
             who could then impersonate any user to the bot. Set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD, \
             listen on 127.0.0.1, or pass --insecure-no-auth on a private network",
            args.host
        );
    }
    if !config.has_credentials() {
        tracing::warn!(
            host = %args.host,
            "--insecure-no-auth: listening beyond loopback without app credentials; anyone who reaches this port can send activities"
        );
    }
    Ok(())
}

/// The first pause between attempts to reach the store at start; it doubles up to
/// [`STORE_RETRY_MAX`].
pub const STORE_RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest pause between attempts to reach the store at start.
pub const STORE_RETRY_MAX: Duration = Duration::from_secs(30);

/// Opens the store, waiting for it with backoff while it is unavailable (a database started
/// after the bot), until `stop` fires (`None` then). A store that can never open (a URL that
/// does not parse, an unknown kind) fails at once.
pub async fn open_store_waiting(spec: &str, stop: &mut watch::Receiver<bool>) -> anyhow::Result<Option<Store>> {
    let mut pause = STORE_RETRY_FIRST;
    let mut attempt = 1u32;
    loop {
        match Store::try_open(spec).await {
            Ok(store) => {
                if attempt > 1 {
                    tracing::info!(store = %redact(spec), attempt, "the store is reachable");
                }
                return Ok(Some(store));
            }
            Err(OpenError::Invalid(reason)) => bail!(reason),
            Err(OpenError::Unavailable(reason)) => {
                tracing::warn!(
                    store = %redact(spec),
                    attempt,
                    retry_in = ?pause,
                    "the store is not reachable yet; waiting for it: {reason}"
                );
            }
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = stop.wait_for(|stopped| *stopped) => return Ok(None),
        }
        pause = (pause * 2).min(STORE_RETRY_MAX);
        attempt += 1;
    }
}

/// Runs `serve` until Ctrl-C or SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = BotFrameworkConfig::from_env().context("invalid Bot Framework configuration")?;
    check_exposure(&args, &config)?;
    let (stop_tx, mut stop) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let Some(store) = open_store_waiting(&args.store, &mut stop).await? else {
        tracing::info!("stopped while waiting for the store");
        return Ok(());
    };
    let server = build_with(&args, store, config)
        .await
        .map_err(|e| anyhow::anyhow!(crate::store::redact_text(&format!("{e:#}"), &args.store)))?;
    // Deliver what a previous run left in the outbox, and fire due scheduled jobs.
    server.bot.start().await;
    let address = SocketAddr::new(args.host, args.port);
    let listener =
        tokio::net::TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address}"))?;
    let store = redact(&args.store);
    tracing::info!("botwright serve: listening on http://{address} (store: {store})");
    println!("botwright serve: listening on http://{address} (store: {store})");
    let stopped = async move {
        let _ = stop.wait_for(|stopped| *stopped).await;
    };
    server::serve(listener, server.router, args.limits(), stopped).await;
    tracing::info!("shutting down: finishing deliveries in progress");
    let report = server.bot.shutdown(Duration::from_secs(10)).await;
    if !report.is_clean() {
        tracing::warn!(?report, "deliveries still in progress at shutdown; undelivered messages stay in the outbox");
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
