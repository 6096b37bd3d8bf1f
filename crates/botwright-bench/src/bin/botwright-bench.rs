//! `botwright-bench`: the channel simulator and load generator.
//!
//! - `botwright-bench load --workload echo --bot ceiling='bench-ceiling' --bot 'bw=bench-bot'`
//!   runs a load scenario against each bot command in alternation and prints a table with ratios;
//!   `--vs A B` is the same for exactly two commands; `--url` measures a bot already running.
//! - `botwright-bench proactive --messages 100000 --bot ...` fires notifications through the
//!   sample's `POST /api/notify` and counts deliveries; a bot command that names `{addresses}`
//!   is a fan-out instead: it gets a JSON Lines file of every address and sends to all of them.
//! - `botwright-bench render --results results.jsonl --into BENCHMARKS.md` regenerates the
//!   figures section.

use anyhow::{Context, bail};
use botwright_bench::connector::{self, Connector, Faults};
use botwright_bench::contest::{self, Contender, ContestConfig};
use botwright_bench::load::{self, Length, LoadConfig};
use botwright_bench::proactive::ProactiveConfig;
use botwright_bench::record::{self, Record};
use botwright_bench::workload::Workload;
use botwright_bench::{process, render};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

/// botwright's load harness.
#[derive(Debug, Parser)]
#[command(name = "botwright-bench", version, about)]
struct Cli {
    /// Do not pin the generator and the bots to different cores (on 2-core machines they are).
    #[arg(long, global = true)]
    no_pin: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scripted users against one or more bots.
    Load(LoadArgs),
    /// Proactive fan-out through the sample's notify web hook.
    Proactive(ProactiveArgs),
    /// Regenerate a Markdown file's figures section from results.
    Render(RenderArgs),
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = s.find(|c: char| !c.is_ascii_digit() && c != '.').map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = number.parse().map_err(|_| format!("not a duration: {s:?} (e.g. 10s, 500ms, 2m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("unknown unit in {s:?}: use ms, s or m")),
    };
    Ok(Duration::from_secs_f64(secs))
}

/// Which bots to measure, and how the results are kept.
#[derive(Debug, Args)]
struct Targets {
    /// A bot command, `label=command` (repeat for several; run in alternation). `PORT` is set,
    /// `{port}` and `{tmp}` (a fresh scratch directory) are replaced; for `proactive`, a command
    /// naming `{addresses}` is a fan-out given a JSON Lines file of every address.
    #[arg(long = "bot")]
    bots: Vec<Contender>,
    /// Two bot commands to compare, in alternation (A, B, A, B, ...).
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    vs: Vec<Contender>,
    /// A bot already running at this URL (no process figures).
    #[arg(long, conflicts_with_all = ["bots", "vs"])]
    url: Option<String>,
    /// Rounds per bot.
    #[arg(long, default_value_t = 1)]
    rounds: u32,
    /// The scenario's name in the results.
    #[arg(long)]
    scenario: Option<String>,
    /// Append results (JSON lines) to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Where bots' scratch directories and logs go.
    #[arg(long, default_value = "target/bench-scratch")]
    scratch: PathBuf,
    /// Exit with status 2 if any turn failed or any reply was duplicated or lost.
    #[arg(long)]
    fail_on_errors: bool,
}

impl Targets {
    fn contenders(&self) -> Vec<Contender> {
        let mut all = self.bots.clone();
        all.extend(self.vs.iter().cloned());
        all
    }
}

#[derive(Debug, Args)]
struct LoadArgs {
    /// The workload.
    #[arg(long, value_enum, default_value = "echo")]
    workload: Workload,
    /// Concurrent users.
    #[arg(long, default_value_t = 64)]
    users: usize,
    /// Distinct conversations (default: one per user; rounded up to a multiple of users).
    #[arg(long)]
    conversations: Option<usize>,
    /// Warm-up before measuring.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// How long to measure.
    #[arg(long, default_value = "10s", value_parser = parse_duration, conflicts_with = "cycles")]
    duration: Duration,
    /// Measure this many cycles (script repetitions) in all, instead of a duration.
    #[arg(long)]
    cycles: Option<u64>,
    /// How long a user waits for its replies before counting an error.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    timeout: Duration,
    /// How long to listen after the run for duplicates and late replies.
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    settle: Duration,
    #[command(flatten)]
    targets: Targets,
}

#[derive(Debug, Args)]
struct ProactiveArgs {
    /// Notifications to send (one per address).
    #[arg(long, default_value_t = 10_000)]
    messages: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Wait for each delivery (do not try `"wait": false` first).
    #[arg(long)]
    wait: bool,
    /// Share of delivery attempts the connector answers 429 (0–1).
    #[arg(long, default_value_t = 0.0)]
    rate_limited: f64,
    /// Share of delivery attempts the connector answers 500 (0–1).
    #[arg(long, default_value_t = 0.0)]
    server_error: f64,
    /// `Retry-After` of the 429s, in seconds.
    #[arg(long, default_value_t = 1)]
    retry_after: u32,
    /// Give up when no delivery came for this long.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    drain_timeout: Duration,
    #[command(flatten)]
    targets: Targets,
}

#[derive(Debug, Args)]
struct RenderArgs {
    /// Results (JSON lines) to render.
    #[arg(long)]
    results: PathBuf,
    /// The Markdown file whose figures section to replace (printed to stdout if absent).
    #[arg(long)]
    into: Option<PathBuf>,
    /// Text to put before the tables (the machine, the commands).
    #[arg(long)]
    preface: Option<PathBuf>,
    /// The label of botwright with the memory store.
    #[arg(long, default_value = "botwright-memory")]
    memory_label: String,
    /// The label of botwright with the SQLite store.
    #[arg(long, default_value = "botwright-sqlite")]
    sqlite_label: String,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    // Pin before the runtime starts its threads, so they all inherit the core.
    let bot_core = match (cli.no_pin, process::cores()) {
        (false, Some((generator, bot))) if process::pin_self(generator) => Some(bot),
        _ => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Load(args) => load_command(args, bot_core).await,
            Command::Proactive(args) => proactive_command(args, bot_core).await,
            Command::Render(args) => render_command(args).map(|()| 0),
        }
    })?;
    std::process::exit(code);
}

fn contest_config(targets: &Targets, scenario: String, bot_core: Option<usize>) -> ContestConfig {
    ContestConfig { scenario, rounds: targets.rounds.max(1), bot_core, scratch: targets.scratch.clone() }
}

fn finish(targets: &Targets, records: &[Record]) -> anyhow::Result<i32> {
    print!("{}", render::tables(records));
    let pair: Vec<_> = records.iter().collect();
    if pair.len() == 2
        && let (Record::Load(a), Record::Load(b)) = (pair[0], pair[1])
    {
        println!(
            "{} ÷ {}: turns/s {:.2}×, p50 {:.2}×, p99 {:.2}×, peak memory {}",
            a.label,
            b.label,
            a.turns_per_s / b.turns_per_s.max(f64::MIN_POSITIVE),
            a.latency.p50_ms / b.latency.p50_ms.max(0.001),
            a.latency.p99_ms / b.latency.p99_ms.max(0.001),
            match (a.bot, b.bot) {
                (Some(x), Some(y)) if y.peak_rss_kib > 0 =>
                    format!("{:.2}×", x.peak_rss_kib as f64 / y.peak_rss_kib as f64),
                _ => "–".into(),
            }
        );
    }
    if let Some(path) = &targets.json {
        record::append(path, records).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let bad = records.iter().any(|r| match r {
        Record::Load(l) => l.errors.failed_turns() > 0 || l.errors.duplicates > 0 || l.turns == 0,
        Record::Proactive(p) => p.outcome.lost > 0 || p.outcome.duplicates > 0 || p.outcome.refused > 0,
    });
    Ok(if bad && targets.fail_on_errors {
        eprintln!("errors: some turns failed, or replies were lost or duplicated (see the table)");
        2
    } else {
        0
    })
}

async fn load_command(args: LoadArgs, bot_core: Option<usize>) -> anyhow::Result<i32> {
    let config = LoadConfig {
        workload: args.workload,
        users: args.users.max(1),
        conversations: args.conversations.unwrap_or(args.users).max(1),
        warmup: args.warmup,
        length: match args.cycles {
            Some(n) => Length::Cycles(n),
            None => Length::Duration(args.duration),
        },
        timeout: args.timeout,
        settle: args.settle,
    };
    let t = &args.targets;
    let scenario = t.scenario.clone().unwrap_or_else(|| args.workload.name().to_string());
    let records = if let Some(url) = &t.url {
        let connector = Connector::new(config.conversations_used(), 0, Faults::default());
        let (service_url, _server) = connector::start(connector.clone()).await?;
        let outcome = load::run(config.clone(), url, connector, &service_url, "url").await;
        let summary = outcome.latencies.summary();
        vec![Record::Load(botwright_bench::record::LoadRecord {
            scenario,
            label: url.clone(),
            command: String::new(),
            workload: args.workload.name().into(),
            rounds: 1,
            users: config.users,
            conversations: config.conversations_used(),
            turns: outcome.turns,
            elapsed_s: outcome.elapsed.as_secs_f64(),
            turns_per_s: outcome.turns_per_second(),
            latency: summary,
            errors: outcome.errors,
            other_activities: outcome.other_activities,
            bot: None,
            generator_cpu_s: 0.0,
        })]
    } else {
        let contenders = t.contenders();
        if contenders.is_empty() {
            bail!("give a bot to measure: --bot label=command (repeatable), --vs A B, or --url");
        }
        contest::load_contest(&contenders, &config, &contest_config(t, scenario, bot_core)).await?
    };
    finish(t, &records)
}

async fn proactive_command(args: ProactiveArgs, bot_core: Option<usize>) -> anyhow::Result<i32> {
    let t = &args.targets;
    let contenders = t.contenders();
    if contenders.is_empty() {
        bail!("give a bot to measure: --bot label=command (repeatable) or --vs A B");
    }
    let config = ProactiveConfig {
        messages: args.messages,
        concurrency: args.concurrency.max(1),
        queued: !args.wait,
        drain_timeout: args.drain_timeout,
        settle: Duration::from_millis(500),
    };
    let faults =
        Faults { rate_limited: args.rate_limited, server_error: args.server_error, retry_after_secs: args.retry_after };
    let scenario = t.scenario.clone().unwrap_or_else(|| "proactive".into());
    let records =
        contest::proactive_contest(&contenders, &config, faults, &contest_config(t, scenario, bot_core)).await?;
    finish(t, &records)
}

fn render_command(args: RenderArgs) -> anyhow::Result<()> {
    let records = record::read(&args.results)?;
    let mut figures = String::new();
    if let Some(preface) = &args.preface {
        figures
            .push_str(&std::fs::read_to_string(preface).with_context(|| format!("cannot read {}", preface.display()))?);
        figures.push('\n');
    }
    figures.push_str("### Targets\n\n");
    figures.push_str(&render::checks_table(&render::checks(&records, &args.memory_label, &args.sqlite_label)));
    figures.push_str("\n### Figures\n\n");
    figures.push_str(&render::tables(&records));
    match &args.into {
        Some(path) => {
            let document = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            std::fs::write(path, render::splice(&document, &figures))
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => print!("{figures}"),
    }
    Ok(())
}
