//! `botwright`: the sample notify + standup bot (`serve`), the same bot in a terminal (`chat`),
//! and bulk proactive sends (`notify`).

use botwright_cli::{chat, notify, serve};
use clap::{Parser, Subcommand};

/// A proactive bot built with botwright.
#[derive(Debug, Parser)]
#[command(name = "botwright", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the sample notify + standup bot: the Bot Framework endpoint, the web hooks and the web chat.
    Serve(serve::ServeArgs),
    /// Talk to the sample bot in this terminal; its web hooks listen on loopback meanwhile.
    Chat(chat::ChatArgs),
    /// Send one message to many users (a file of addresses, or every subscription).
    Notify(notify::NotifyArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,botwright=info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve::run(args).await,
        Command::Chat(args) => chat::run(args).await,
        Command::Notify(args) => {
            let all_delivered = notify::run(args).await?;
            if !all_delivered {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}
