//! `bench-ceiling`: the framework-free endpoint (see `botwright_bench::ceiling`), on
//! `127.0.0.1:$PORT`.

use anyhow::Context;
use axum::serve::ListenerExt;
use botwright_bench::workload::Workload;
use clap::Parser;

/// The least a bot can do: one reply per activity, at once.
#[derive(Debug, Parser)]
#[command(name = "bench-ceiling")]
struct Args {
    /// `echo` or `waterfall` (answered statelessly).
    #[arg(long, value_enum, default_value = "echo")]
    workload: Workload,
    /// The port on 127.0.0.1.
    #[arg(long, env = "PORT", default_value_t = 3978)]
    port: u16,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("cannot listen on port {}", args.port))?
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    println!("bench-ceiling ({}) listening on 127.0.0.1:{}", args.workload.name(), args.port);
    axum::serve(listener, botwright_bench::ceiling::router(args.workload)).await?;
    Ok(())
}
