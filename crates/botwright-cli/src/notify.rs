//! `botwright notify`: a bulk proactive send from the command line.
//!
//! Addresses come from a JSON Lines file (one address per line, or `{"address": ...}`), a CSV
//! file (`channelId,serviceUrl,userId,conversationId[,botId][,locale]` with a header), or every
//! subscription in the store. The message is a text, or a message id with parameters resolved
//! in each user's preferred locale. Every message is written to the store's outbox first (in
//! batches, so a crash loses none: a later `serve` or `notify` on the same store delivers what
//! is left), then delivered with bounded concurrency and retries; the summary counts what was
//! delivered, what failed and why, and which addresses the channel refused for good (403 / 404:
//! marked stale in the address book).

use crate::sample::records;
use crate::store::Store;
use anyhow::{Context, bail};
use botwright::proactive::{ProactiveSettings, RateLimits};
use botwright::text::Args;
use botwright::{Address, Message, RetryPolicy};
use botwright_botframework::{BotFramework, BotFrameworkConfig};
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Options of `notify`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("to").required(true).args(["addresses", "subscriptions"])))]
#[command(group(clap::ArgGroup::new("what").required(true).args(["text", "msg_id"])))]
pub struct NotifyArgs {
    /// The store (for subscriptions, preferred locales and the address book).
    #[arg(long, default_value = "sqlite:botwright.db")]
    pub store: String,
    /// A file of addresses: JSON Lines (`.jsonl`, `.json`) or CSV (`.csv`).
    #[arg(long)]
    pub addresses: Option<PathBuf>,
    /// Send to every subscription in the store.
    #[arg(long)]
    pub subscriptions: bool,
    /// The text to send.
    #[arg(long)]
    pub text: Option<String>,
    /// A message id, resolved in each user's preferred locale.
    #[arg(long)]
    pub msg_id: Option<String>,
    /// A parameter of the message id (`%s`), repeatable, in order.
    #[arg(long = "param")]
    pub params: Vec<String>,
    /// How many sends run at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Attempts per message before it is given up (throttling answers count too; a message is
    /// also given up ten minutes after it was queued).
    #[arg(long, default_value_t = 10)]
    pub max_attempts: u32,
    /// Print the summary as JSON (and no progress bar).
    #[arg(long)]
    pub json: bool,
    /// Outgoing rate limits: `default` stays inside the Bot Framework's documented limits (50
    /// per second per service URL); `off` for local channels.
    #[arg(long, value_enum, default_value_t = crate::serve::RateLimitChoice::Default)]
    pub rate_limits: crate::serve::RateLimitChoice,
}

/// Reads addresses from a JSON Lines or CSV file.
pub fn read_addresses(path: &Path) -> anyhow::Result<Vec<Address>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let mut addresses = Vec::new();
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let header: Vec<String> = if csv {
        match lines.next() {
            Some((_, h)) => h.split(',').map(|c| c.trim().to_owned()).collect(),
            None => return Ok(addresses),
        }
    } else {
        Vec::new()
    };
    for (number, line) in lines {
        let value = if csv {
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            let cell = |name: &str| header.iter().position(|h| h == name).and_then(|i| cells.get(i)).copied();
            let mut address = json!({
                "channelId": cell("channelId").unwrap_or_default(),
                "serviceUrl": cell("serviceUrl").unwrap_or_default(),
                "user": {"id": cell("userId").unwrap_or_default()},
                "bot": {"id": cell("botId").unwrap_or_default()},
                "conversation": {"id": cell("conversationId").unwrap_or_default()},
            });
            if let Some(locale) = cell("locale").filter(|l| !l.is_empty()) {
                address["locale"] = json!(locale);
            }
            address
        } else {
            let value: Value =
                serde_json::from_str(line).with_context(|| format!("{}:{}: not JSON", path.display(), number + 1))?;
            value.get("address").cloned().unwrap_or(value)
        };
        let address = Address::from_value(&value).with_context(|| format!("{}:{}", path.display(), number + 1))?;
        addresses.push(address);
    }
    Ok(addresses)
}

/// The message to send to every address: a text, or a message id that each address resolves in
/// its user's preferred locale.
fn template(args: &NotifyArgs) -> anyhow::Result<Message> {
    match (&args.msg_id, &args.text) {
        (Some(id), _) => {
            let params =
                Args { positional: args.params.iter().map(|p| Value::String(p.clone())).collect(), named: Vec::new() };
            Ok(Message::localized(id.clone()).args(params))
        }
        (None, Some(text)) => Ok(Message::new().text(text.clone())),
        (None, None) => bail!("say what to send: --text or --msg-id"),
    }
}

/// Runs `notify`; returns whether every message was delivered.
pub async fn run(args: NotifyArgs) -> anyhow::Result<bool> {
    let store = Store::open(&args.store).await?;
    let addresses = match (&args.addresses, args.subscriptions) {
        (Some(path), _) => read_addresses(path)?,
        (None, true) => records::subscriptions(store.storage().as_ref())
            .await?
            .iter()
            .map(|s| Address::from_value(&s["address"]))
            .collect::<Result<_, _>>()
            .context("a stored subscription has an invalid address")?,
        (None, false) => bail!("say where to send: --addresses FILE or --subscriptions"),
    };
    let config = BotFrameworkConfig::from_env()?;
    // One connector request per send in flight.
    let requests = args.concurrency.max(botwright_botframework::limits::DEFAULT_MAX_REQUESTS_IN_FLIGHT);
    let framework = BotFramework::from_config(config.max_requests_in_flight(requests))?;
    let policy = RetryPolicy::default().max_attempts(args.max_attempts.max(1));
    let unlimited = args.rate_limits == crate::serve::RateLimitChoice::Off;
    let concurrency = args.concurrency.max(1);
    let bot = store
        .apply(botwright::Bot::builder())
        .default_channel(Arc::new(framework.channel()))
        .retry_policy(policy)
        .proactive(ProactiveSettings::default().max_in_flight(concurrency).rate_limits(if unlimited {
            RateLimits::unlimited()
        } else {
            RateLimits::default()
        }))
        .build();
    bot.start().await;

    let total = addresses.len() as u64;
    let progress = if args.json || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(total)
    };
    progress.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} sent, {per_sec}, eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut delivered = 0u64;
    let mut failures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stale: Vec<Value> = Vec::new();
    // Every message is in the outbox once this returns; the stream reports each outcome.
    let mut outcomes = bot.send_to_all(addresses, template(&args)?).await.context("cannot queue the messages")?;
    while let Some(item) = outcomes.next().await {
        let (user, conversation) =
            item.address.as_ref().map(|a| (a.user.id.clone(), a.conversation.id.clone())).unwrap_or_default();
        match item.result {
            Ok(_) => delivered += 1,
            Err(error) if error.is_stale() => {
                stale.push(json!({"userId": user, "conversationId": conversation, "reason": error.to_string()}))
            }
            Err(error) => failures.entry(error.to_string()).or_default().push(user),
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    let failed: u64 = failures.values().map(|v| v.len() as u64).sum();
    if args.json {
        let failed_list: Vec<Value> = failures
            .iter()
            .map(|(reason, users)| json!({"reason": reason, "count": users.len(), "users": users}))
            .collect();
        let summary =
            json!({"total": total, "delivered": delivered, "failed": failed, "failures": failed_list, "stale": stale});
        println!("{summary}");
    } else {
        println!("{total} addresses: {delivered} delivered, {failed} failed, {} stale", stale.len());
        for (reason, users) in &failures {
            println!("  failed ({}): {reason}", users.len());
        }
        for s in &stale {
            println!("  stale: user {} in {} ({})", s["userId"], s["conversationId"], s["reason"]);
        }
    }
    Ok(failed == 0 && stale.is_empty())
}
