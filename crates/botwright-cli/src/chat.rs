//! `botwright chat`: the sample bot in a terminal, with its web hooks listening so that
//! notifications and standups reach the console as they happen.

use crate::sample::{self, hooks};
use crate::store::Store;
use anyhow::Context;
use botwright::console::{self, ConsoleChannel};
use botwright_botframework::BotFramework;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Options of `chat`.
#[derive(Debug, Clone, clap::Args)]
pub struct ChatArgs {
    /// Where state lives: `memory`, `sqlite:PATH` or `postgres://...` (not a SQLite file that a
    /// running `serve` uses).
    #[arg(long, default_value = "memory")]
    pub store: String,
    /// The loopback port of the web hooks (`POST /api/notify`, `POST /api/standup`, ...).
    #[arg(long, default_value_t = 3979)]
    pub port: u16,
    /// How long `POST /api/notify` waits for delivery.
    #[arg(long, default_value = "5s", value_parser = crate::parse_duration)]
    pub notify_timeout: Duration,
}

/// Runs `chat` until the end of standard input.
pub async fn run(args: ChatArgs) -> anyhow::Result<()> {
    let store = Store::open(&args.store).await?;
    let framework = BotFramework::from_env()?;
    let localizer = sample::localizer().context("the sample's message tables are invalid")?;
    let bot = store
        .apply(sample::bot(localizer))
        .channel(console::CHANNEL_ID, Arc::new(ConsoleChannel))
        .default_channel(Arc::new(framework.channel()))
        .build();
    bot.start().await;
    let address = SocketAddr::from(([127, 0, 0, 1], args.port));
    let listener =
        tokio::net::TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address}"))?;
    let hooks = hooks::router(hooks::Hooks { bot: bot.clone(), token: None, notify_timeout: args.notify_timeout });
    let limits = botwright_botframework::ServerLimits::default();
    tokio::spawn(botwright_botframework::server::serve(listener, hooks, limits, std::future::pending()));
    println!("botwright chat: type a message and press Enter (Ctrl-D quits).");
    println!(
        "Web hooks on http://{address}: say `subscribe`, then try POST /api/notify with the address from GET /api/subscriptions."
    );
    console::run(bot.clone()).await?;
    bot.flush().await;
    Ok(())
}
