//! `bench-bot`: the botwright bots the benchmarks measure, on the Bot Framework channel.
//!
//! - `--workload echo`: replies `echo: <text>` to every message.
//! - `--workload waterfall`: a two-step waterfall: asks `What is your name?` with a text prompt,
//!   then confirms `Thanks, <answer>`.
//!
//! State lives in `--store memory`, `--store sqlite:PATH` or `--store postgres://...[?schema=NAME]`. Listens on `127.0.0.1:$PORT`.

use anyhow::{Context, bail};
use axum::serve::ListenerExt;
use botwright::proactive::{ProactiveSettings, RateLimits};
use botwright::storage::MemoryStore;
use botwright::{Bot, Prompt, Waterfall};
use botwright_bench::workload::WATERFALL_PROMPT;
use botwright_botframework::{BotFramework, BotFrameworkConfig};
use botwright_postgres::{PostgresConfig, PostgresStore};
use botwright_sqlite::SqliteStore;
use clap::Parser;
use std::sync::Arc;

/// A botwright bot for the benchmarks.
#[derive(Debug, Parser)]
#[command(name = "bench-bot")]
struct Args {
    /// `echo` or `waterfall`.
    #[arg(long, default_value = "echo")]
    workload: String,
    /// `memory`, `sqlite:PATH` or `postgres://...[?schema=NAME]`.
    #[arg(long, default_value = "memory")]
    store: String,
    /// The port on 127.0.0.1.
    #[arg(long, env = "PORT", default_value_t = 3978)]
    port: u16,
}

fn dialog(workload: &str) -> anyhow::Result<Waterfall> {
    Ok(match workload {
        "echo" => Waterfall::new().step(|s, _| async move {
            s.end_dialog_with_message(format!("echo: {}", s.message().text()));
            Ok(())
        }),
        "waterfall" => Waterfall::new()
            .step(|s, _| async move {
                s.prompt(Prompt::text(WATERFALL_PROMPT));
                Ok(())
            })
            .step(|s, r| async move {
                s.end_dialog_with_message(format!("Thanks, {}", r.text().unwrap_or_default()));
                Ok(())
            }),
        other => bail!("unknown workload {other:?}: use echo or waterfall"),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = BotFrameworkConfig::from_env().context("invalid Bot Framework configuration")?;
    let builder = Bot::builder().dialog("/", dialog(&args.workload)?);
    let (framework, builder) = if args.store == "memory" {
        let store = Arc::new(MemoryStore::new());
        (BotFramework::from_config(config)?, builder.store(store))
    } else if let Some(path) = args.store.strip_prefix("sqlite:") {
        let store = Arc::new(SqliteStore::open(path).await.with_context(|| format!("cannot open {path:?}"))?);
        (BotFramework::from_config(config)?, builder.store(store))
    } else if args.store.starts_with("postgres://") {
        let (url, schema) = match args.store.split_once("?schema=") {
            Some((url, schema)) => (url, Some(schema)),
            None => (args.store.as_str(), None),
        };
        let mut pg = PostgresConfig::from_url(url)?;
        if let Some(schema) = schema {
            pg = pg.schema(schema)?;
        }
        let store = Arc::new(PostgresStore::connect_with(pg).await.context("cannot connect to PostgreSQL")?);
        (BotFramework::from_config(config)?, builder.store(store))
    } else {
        bail!("unknown store {:?}: use memory, sqlite:PATH or postgres://...[?schema=NAME]", args.store);
    };
    // The channel simulator is local: no Bot Framework rate limits.
    let bot = builder
        .default_channel(Arc::new(framework.channel()))
        .proactive(ProactiveSettings::default().rate_limits(RateLimits::unlimited()))
        .build();
    let app = framework.router(bot.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("cannot listen on port {}", args.port))?
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    println!("bench-bot ({}, {}) listening on 127.0.0.1:{}", args.workload, args.store, args.port);
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
    bot.flush().await;
    Ok(())
}

async fn shutdown() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
}
