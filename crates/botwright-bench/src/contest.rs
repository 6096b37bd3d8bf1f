//! Contests: the same scenario against several bot commands, in alternation (A, B, A, B, ...),
//! each round with a fresh connector stand-in and a freshly started bot process.

use crate::connector::{self, Connector, Faults};
use crate::latency::Latencies;
use crate::load::{self, Errors, LoadConfig};
use crate::proactive::{self, ProactiveConfig, ProactiveOutcome};
use crate::process::{self, BotProcess, Usage};
use crate::record::{LoadRecord, ProactiveRecord, Record};
use anyhow::{Context, bail};
use std::path::PathBuf;

/// A bot command under test, with a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contender {
    /// A short name (e.g. `botwright-memory`, `botbuilder-v3`, `ceiling`).
    pub label: String,
    /// A shell command line (`{port}` and `{tmp}` are replaced; `PORT` is set).
    pub command: String,
}

impl std::str::FromStr for Contender {
    type Err = String;

    /// Reads `label=command`, or a bare command (labelled by its first word).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err("an empty bot command".into());
        }
        match s.split_once('=') {
            Some((label, command)) if !label.contains(' ') && !command.trim().is_empty() => {
                Ok(Contender { label: label.to_string(), command: command.trim().to_string() })
            }
            _ => {
                let first = s.split_whitespace().next().unwrap_or(s);
                let label = first.rsplit('/').next().unwrap_or(first).to_string();
                Ok(Contender { label, command: s.to_string() })
            }
        }
    }
}

/// Settings every contest shares.
#[derive(Debug, Clone)]
pub struct ContestConfig {
    /// The scenario's name in the results.
    pub scenario: String,
    /// Rounds per contender.
    pub rounds: u32,
    /// The core to pin bots to (on 2-core machines).
    pub bot_core: Option<usize>,
    /// Where bots' scratch directories (`{tmp}`) and logs go.
    pub scratch: PathBuf,
}

fn generator_cpu(ticks: f64) -> f64 {
    process::usage("self", ticks).map_or(0.0, |u| u.cpu_seconds)
}

struct Running {
    process: BotProcess,
    service_url: String,
    server: tokio::task::JoinHandle<()>,
    cpu_before: f64,
}

/// A fresh scratch directory for a contender's round, and a connector stand-in serving
/// `connector` (its service URL and task).
async fn prepare(
    contender: &Contender,
    config: &ContestConfig,
    round: u32,
    connector: &std::sync::Arc<Connector>,
) -> anyhow::Result<(PathBuf, String, tokio::task::JoinHandle<()>)> {
    let dir = config.scratch.join(format!("{}-{}-{round}", config.scenario, contender.label));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (service_url, server) = connector::start(connector.clone()).await.context("cannot start the connector")?;
    Ok((dir, service_url, server))
}

async fn launch(
    contender: &Contender,
    config: &ContestConfig,
    round: u32,
    connector: &std::sync::Arc<Connector>,
    ticks: f64,
) -> anyhow::Result<Running> {
    let (dir, service_url, server) = prepare(contender, config, round, connector).await?;
    let log = dir.join("bot.log");
    let process = BotProcess::start(&contender.command, config.bot_core, &dir, Some(&log))
        .await
        .with_context(|| format!("{} did not start (log: {})", contender.label, log.display()))?;
    let cpu_before = process.usage(ticks).map_or(0.0, |u| u.cpu_seconds);
    Ok(Running { process, service_url, server, cpu_before })
}

async fn finish(mut running: Running, label: &str, ticks: f64) -> anyhow::Result<Option<Usage>> {
    let alive = running.process.is_running();
    let usage = running
        .process
        .usage(ticks)
        .map(|u| Usage { cpu_seconds: u.cpu_seconds - running.cpu_before, peak_rss_kib: u.peak_rss_kib });
    running.process.stop().await;
    running.server.abort();
    if !alive {
        bail!("{label} exited during the run");
    }
    Ok(usage)
}

#[derive(Default)]
struct LoadTotals {
    rounds: u32,
    turns: u64,
    elapsed_s: f64,
    latencies: Latencies,
    errors: Errors,
    other: u64,
    bot: Option<Usage>,
    generator_cpu_s: f64,
}

/// Runs `load` against every contender, `config.rounds` times in alternation.
pub async fn load_contest(
    contenders: &[Contender],
    load: &LoadConfig,
    config: &ContestConfig,
) -> anyhow::Result<Vec<Record>> {
    let ticks = process::clock_ticks();
    let mut totals: Vec<LoadTotals> = contenders.iter().map(|_| LoadTotals::default()).collect();
    for round in 0..config.rounds {
        for (contender, total) in contenders.iter().zip(totals.iter_mut()) {
            let connector = Connector::new(load.conversations_used(), 0, Faults::default());
            let running = launch(contender, config, round, &connector, ticks).await?;
            let url = running.process.url();
            let service_url = running.service_url.clone();
            let cpu = generator_cpu(ticks);
            let tag = format!("{}{round}", contender.label);
            let outcome = load::run(load.clone(), &url, connector, &service_url, &tag).await;
            let generator = generator_cpu(ticks) - cpu;
            let usage = finish(running, &contender.label, ticks).await?;
            eprintln!(
                "{:>10} round {round} {:<20} {:>9.0} turns/s  p50 {:>8.2} ms  p99 {:>8.2} ms  failed {} dup {}",
                config.scenario,
                contender.label,
                outcome.turns_per_second(),
                outcome.latencies.summary().p50_ms,
                outcome.latencies.summary().p99_ms,
                outcome.errors.failed_turns(),
                outcome.errors.duplicates,
            );
            total.rounds += 1;
            total.turns += outcome.turns;
            total.elapsed_s += outcome.elapsed.as_secs_f64();
            total.latencies.merge(&outcome.latencies);
            let e = &mut total.errors;
            e.no_reply += outcome.errors.no_reply;
            e.http += outcome.errors.http;
            e.duplicates += outcome.errors.duplicates;
            e.late += outcome.errors.late;
            e.unexpected += outcome.errors.unexpected;
            total.other += outcome.other_activities;
            total.generator_cpu_s += generator;
            if let Some(u) = usage {
                let b = total.bot.get_or_insert_with(Usage::default);
                b.cpu_seconds += u.cpu_seconds;
                b.peak_rss_kib = b.peak_rss_kib.max(u.peak_rss_kib);
            }
        }
    }
    Ok(contenders
        .iter()
        .zip(totals)
        .map(|(c, t)| {
            Record::Load(LoadRecord {
                scenario: config.scenario.clone(),
                label: c.label.clone(),
                command: c.command.clone(),
                workload: load.workload.name().to_string(),
                rounds: t.rounds,
                users: load.users,
                conversations: load.conversations_used(),
                turns: t.turns,
                elapsed_s: t.elapsed_s,
                turns_per_s: if t.elapsed_s > 0.0 { t.turns as f64 / t.elapsed_s } else { 0.0 },
                latency: t.latencies.summary(),
                errors: t.errors,
                other_activities: t.other,
                bot: t.bot,
                generator_cpu_s: t.generator_cpu_s,
            })
        })
        .collect())
}

/// Runs a proactive fan-out against every contender, once each (in order).
pub async fn proactive_contest(
    contenders: &[Contender],
    proactive: &ProactiveConfig,
    faults: Faults,
    config: &ContestConfig,
) -> anyhow::Result<Vec<Record>> {
    let ticks = process::clock_ticks();
    let mut records = Vec::new();
    for round in 0..config.rounds {
        for contender in contenders {
            let connector = Connector::new(0, proactive.messages, faults);
            let tag = format!("{}{round}", contender.label);
            let (outcome, usage, generator) = if contender.command.contains(ADDRESSES) {
                batch(contender, config, round, proactive, connector, &tag, ticks).await?
            } else {
                let running = launch(contender, config, round, &connector, ticks).await?;
                let url = running.process.url();
                let service_url = running.service_url.clone();
                let cpu = generator_cpu(ticks);
                let outcome = proactive::run(proactive, &url, connector, &service_url, &tag).await;
                let generator = generator_cpu(ticks) - cpu;
                let usage = finish(running, &contender.label, ticks).await?;
                (outcome, usage, generator)
            };
            eprintln!(
                "{:>10} round {round} {:<20} {:>9.0} deliveries/s  last after {:.2} s  delivered {}/{} dup {} ({:?})",
                config.scenario,
                contender.label,
                outcome.deliveries_per_s,
                outcome.time_to_last_s,
                outcome.delivered,
                outcome.messages,
                outcome.duplicates,
                outcome.handoff,
            );
            records.push(Record::Proactive(ProactiveRecord {
                scenario: config.scenario.clone(),
                label: contender.label.clone(),
                command: contender.command.clone(),
                rate_limited: faults.rate_limited,
                server_error: faults.server_error,
                outcome,
                bot: usage,
                generator_cpu_s: generator,
            }));
        }
    }
    Ok(records)
}

/// The placeholder of a batch command's address file.
const ADDRESSES: &str = "{addresses}";

/// One round of a batch command: every address in a file, one process that sends to all of
/// them and exits; timed from its start to the last delivery.
async fn batch(
    contender: &Contender,
    config: &ContestConfig,
    round: u32,
    proactive: &ProactiveConfig,
    connector: std::sync::Arc<Connector>,
    tag: &str,
    ticks: f64,
) -> anyhow::Result<(ProactiveOutcome, Option<Usage>, f64)> {
    let (dir, service_url, server) = prepare(contender, config, round, &connector).await?;
    let file = dir.join("addresses.jsonl");
    proactive::write_addresses(&file, proactive.messages, &service_url, tag)
        .with_context(|| format!("cannot write {}", file.display()))?;
    let command = contender.command.replace(ADDRESSES, &file.display().to_string());
    let log = dir.join("bot.log");
    let cpu = generator_cpu(ticks);
    let start = std::time::Instant::now();
    let mut process = BotProcess::spawn(&command, config.bot_core, &dir, Some(&log))
        .with_context(|| format!("{} did not start", contender.label))?;
    // The command exits once everything is sent; a fan-out that stalls is given up after the
    // drain timeout counted from its last delivery.
    let mut exited = None;
    let mut usage = None;
    loop {
        let status = process.wait_exit(std::time::Duration::from_millis(500), ticks, &mut usage).await;
        if status.is_some() {
            exited = status;
            break;
        }
        let last = connector.deliveries.last().unwrap_or(start);
        if last.elapsed() > proactive.drain_timeout && start.elapsed() > proactive.drain_timeout {
            break;
        }
    }
    let requests_s = start.elapsed().as_secs_f64();
    if exited.is_none() {
        process.stop().await;
    }
    let refused = match exited {
        Some(true) => 0,
        _ => {
            tracing::warn!(label = %contender.label, log = %log.display(), "the batch command failed or did not finish");
            1
        }
    };
    let outcome = proactive::drain(proactive, &connector, start, proactive::Handoff::Batch, refused, requests_s).await;
    server.abort();
    Ok((outcome, usage, generator_cpu(ticks) - cpu))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contenders_are_label_equals_command_or_a_bare_command() {
        let c: Contender = "v3=node bot.js".parse().unwrap();
        assert_eq!((c.label.as_str(), c.command.as_str()), ("v3", "node bot.js"));
        let c: Contender = "target/release/bench-bot --workload echo".parse().unwrap();
        assert_eq!(c.label, "bench-bot");
        let c: Contender = "env A=b node x.js".parse().unwrap();
        assert_eq!(c.label, "env");
        assert!("  ".parse::<Contender>().is_err());
    }

    /// A fan-out command: Node posting to each address of the file (the first one twice).
    const FAN_OUT_JS: &str = "const fs = require('fs'); (async () => { \
        const lines = fs.readFileSync(process.argv[2], 'utf8').split('\\n').filter((l) => l); \
        for (const [i, line] of lines.entries()) { const a = JSON.parse(line); \
          const url = a.serviceUrl.replace(/\\/$/, '') + '/v3/conversations/' + a.conversation.id + '/activities'; \
          for (let n = 0; n < (i === 0 ? 2 : 1); n++) { \
            await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, \
              body: JSON.stringify({ type: 'message', text: 'hi' }) }); } } })();";

    fn config(dir: &tempfile::TempDir) -> ContestConfig {
        ContestConfig { scenario: "fan-out".into(), rounds: 1, bot_core: None, scratch: dir.path().to_path_buf() }
    }

    fn proactive(messages: usize) -> ProactiveConfig {
        ProactiveConfig {
            messages,
            concurrency: 4,
            queued: true,
            drain_timeout: std::time::Duration::from_secs(2),
            settle: std::time::Duration::from_millis(200),
        }
    }

    /// A command naming `{addresses}` gets a file of every address and is timed to its last
    /// delivery; a second copy counts as a duplicate.
    #[tokio::test]
    async fn a_batch_command_gets_every_address_and_duplicates_count() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("fan-out.js");
        std::fs::write(&script, FAN_OUT_JS).unwrap();
        let contender = Contender { label: "node".into(), command: format!("node {} {{addresses}}", script.display()) };
        let records = proactive_contest(&[contender], &proactive(20), Faults::default(), &config(&dir)).await.unwrap();
        let Record::Proactive(record) = &records[0] else { panic!("{records:?}") };
        let o = &record.outcome;
        assert_eq!(
            (o.handoff, o.messages, o.delivered, o.lost, o.duplicates, o.refused),
            (proactive::Handoff::Batch, 20, 20, 0, 1, 0)
        );
        assert!(o.time_to_last_s > 0.0 && o.deliveries_per_s > 0.0, "{o:?}");
    }

    /// A batch command that fails counts as refused, and what it did not send as lost.
    #[tokio::test]
    async fn a_failing_batch_command_is_refused_and_loses_its_messages() {
        let dir = tempfile::tempdir().unwrap();
        let contender = Contender { label: "fails".into(), command: "sh -c 'exit 3' {addresses}".into() };
        let records = proactive_contest(&[contender], &proactive(5), Faults::default(), &config(&dir)).await.unwrap();
        let Record::Proactive(record) = &records[0] else { panic!("{records:?}") };
        let o = &record.outcome;
        assert_eq!((o.delivered, o.lost, o.refused), (0, 5, 1));
    }
}
