//! What the proactive engine's tests share.
#![allow(dead_code)]

use botwright::activity::{ChannelAccount, ConversationAccount};
use botwright::bot::BotBuilder;
use botwright::channel::DeliveryError;
use botwright::proactive::RateLimits;
use botwright::testing::TestFlow;
use botwright::{Address, Bot, Prompt, RetryPolicy, Waterfall};
use std::time::Duration;

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Quick retries and polls, so tests do not wait for production defaults.
pub(crate) fn quick(builder: BotBuilder) -> BotBuilder {
    builder
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(5)
                .initial_backoff(ms(10))
                .max_backoff(ms(40))
                .max_age(Duration::from_secs(60)),
        )
        .configure_proactive(|p| p.poll_interval(ms(50)).rate_limits(RateLimits::unlimited()))
}

pub(crate) fn address(i: usize) -> Address {
    Address::new(
        TestFlow::CHANNEL_ID,
        TestFlow::SERVICE_URL,
        ChannelAccount::new(format!("user{i}")),
        ChannelAccount::new("bot"),
        ConversationAccount::new(format!("conv{i}")),
    )
}

pub(crate) fn unavailable() -> DeliveryError {
    DeliveryError::Unavailable { status: 503, body: "busy".into(), retry_after: None }
}

pub(crate) fn stale() -> DeliveryError {
    DeliveryError::Stale { status: 403, body: "blocked".into() }
}

pub(crate) fn standup_bot() -> BotBuilder {
    quick(Bot::builder())
        .dialog(
            "/",
            Waterfall::new()
                .step(|s, _| async move {
                    s.prompt(Prompt::text("What is your name?"));
                    Ok(())
                })
                .step(|s, r| async move {
                    s.end_dialog_with_message(format!("Hello, {}!", r.text().unwrap_or_default()));
                    Ok(())
                }),
        )
        .dialog(
            "standup",
            Waterfall::new()
                .step(|s, _| async move {
                    s.prompt(Prompt::text("What is your status for today?"));
                    Ok(())
                })
                .step(|s, r| async move {
                    s.end_dialog_with_message(format!("Noted: {}", r.text().unwrap_or_default()));
                    Ok(())
                }),
        )
}
