//! Fan-out: one announcement to a thousand users through the outbox, with a channel that
//! throttles now and then and a few users who blocked the bot.
//!
//! `cargo run -p botwright-examples --example fan_out_retries`

use botwright::activity::{ChannelAccount, ConversationAccount};
use botwright::channel::{Channel, Delivered, DeliveryError};
use botwright::proactive::RateLimits;
use botwright::{Activity, Address, Bot, Message, async_trait};
use futures::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A channel that answers 429 to every 50th call and 403 to users whose id ends in 7.
#[derive(Debug, Default)]
struct FlakyChannel {
    calls: AtomicU64,
}

#[async_trait]
impl Channel for FlakyChannel {
    async fn deliver(&self, address: &Address, _activity: &Activity) -> Result<Delivered, DeliveryError> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        if address.user.id.ends_with('7') {
            return Err(DeliveryError::Stale { status: 403, body: "the user blocked the bot".into() });
        }
        if n % 50 == 49 {
            return Err(DeliveryError::RateLimited { retry_after: Some(Duration::from_millis(100)) });
        }
        Ok(Delivered { activity_id: Some(format!("a{n}")) })
    }
}

#[tokio::main]
async fn main() {
    let bot = Bot::builder()
        .channel("example", Arc::new(FlakyChannel::default()))
        .configure_proactive(|p| p.max_in_flight(32).rate_limits(RateLimits::unlimited()))
        .build();
    bot.start().await;
    let team = (0..1000).map(|i| {
        Address::new(
            "example",
            "https://example.invalid/",
            ChannelAccount::new(format!("user{i}")),
            ChannelAccount::new("bot"),
            ConversationAccount::new(format!("dm{i}")),
        )
    });
    let mut fan_out = bot.send_to_all(team, Message::new().text("Maintenance tonight at 22:00")).await.unwrap();
    println!("{} messages accepted into the outbox", fan_out.len());
    let mut summary = botwright::proactive::FanOutSummary::default();
    while let Some(item) = fan_out.next().await {
        summary.add(&item);
        if summary.total % 250 == 0 {
            println!("{} done", summary.total);
        }
    }
    println!("delivered {}, stale {}, failed {}", summary.delivered, summary.stale.len(), summary.failed.len());
    bot.shutdown(Duration::from_secs(5)).await;
}
