//! `botwright serve`: the sample bot over HTTP.

use crate::sample::{self, hooks};
use crate::store::Store;
use anyhow::{Context, bail};
use botwright::Bot;
use botwright::proactive::RateLimits;
use botwright::storage::{Precondition, Storage, StorageError};
use botwright_botframework::{
    BotFramework, BotFrameworkConfig, DirectLine, DirectLineConfig, WebChatOptions, webchat_router,
};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

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
    let requests = config.max_requests_in_flight.max(args.max_in_flight);
    let config = config.with_max_requests_in_flight(requests);
    let framework = BotFramework::new(config, store.storage()).context("cannot set up the Bot Framework channel")?;
    let localizer = sample::localizer().context("the sample's message tables are invalid")?;
    let signing_key =
        directline_key(store.storage().as_ref()).await.context("cannot read the Direct Line signing key")?;
    let directline = DirectLine::new(DirectLineConfig {
        secret: args.directline_secret.clone(),
        signing_key: Some(signing_key),
        ..DirectLineConfig::default()
    });
    let rate_limits = args.rate_limits;
    let max_in_flight = args.max_in_flight.max(1);
    let instance_id = args.instance_id.clone().unwrap_or_else(|| default_instance_id(args.port));
    let bot = store
        .apply(sample::bot(localizer))
        .default_channel(Arc::new(framework.channel()))
        .channel(botwright_botframework::directline::CHANNEL_ID, directline.channel())
        .configure_proactive(|p| {
            p.max_in_flight = max_in_flight;
            p.instance_id = instance_id;
            if rate_limits == RateLimitChoice::Off {
                p.rate_limits = RateLimits::unlimited();
            }
        })
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

/// Runs `serve` until Ctrl-C or SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    if !args.host.is_loopback() && args.webhook_token.is_none() {
        bail!(
            "refusing to listen on {} without a web hook token: anyone who can reach it could message your users. \
             Set --webhook-token (or BOTWRIGHT_WEBHOOK_TOKEN), or listen on 127.0.0.1",
            args.host
        );
    }
    let server = build(&args).await?;
    // Deliver what a previous run left in the outbox, and fire due scheduled jobs.
    server.bot.start().await;
    let address = SocketAddr::new(args.host, args.port);
    let listener =
        tokio::net::TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address}"))?;
    tracing::info!("botwright serve: listening on http://{address} (store: {})", args.store);
    println!("botwright serve: listening on http://{address} (store: {})", args.store);
    axum::serve(listener, server.router).with_graceful_shutdown(shutdown_signal()).await?;
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
