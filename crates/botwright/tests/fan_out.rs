//! Fan-outs: bounded concurrency, summaries, several instances; dialogs begun proactively
//! with `StackPolicy::Push` and `Replace`.

mod common;

use botwright::bot::BotEvent;
use botwright::channel::DeliveryError;
use botwright::proactive::{FanOutError, Rate, RateLimits};
use botwright::storage::MemoryStore;
use botwright::testing::{TestChannel, TestFlow};
use botwright::{Bot, Message, StackPolicy};
use common::{address, ms, quick, stale, standup_bot, unavailable};
use futures::StreamExt;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[tokio::test]
async fn fan_out_to_ten_thousand_stays_bounded_and_counts_right() {
    const N: usize = 10_000;
    const IN_FLIGHT: usize = 16;
    let builder = quick(Bot::builder()).configure_proactive(|p| p.max_in_flight(IN_FLIGHT));
    let flow = TestFlow::new(builder);
    let bot = flow.bot().clone();
    let stale_ones: HashSet<usize> = (0..N).step_by(1000).collect();
    let rejected_ones: HashSet<usize> = (1..N).step_by(1000).collect();
    for i in &stale_ones {
        flow.channel().fail_next(&format!("conv{i}"), [stale()]);
    }
    for i in &rejected_ones {
        flow.channel().fail_next(&format!("conv{i}"), [DeliveryError::Rejected { status: 400, body: "no".into() }]);
    }
    let mut fan_out = bot.send_to_all((0..N).map(address), Message::new().text("maintenance tonight")).await.unwrap();
    assert_eq!(fan_out.len(), N);
    let mut summary = botwright::proactive::FanOutSummary::default();
    let mut most_pending = 0;
    let mut seen = HashSet::new();
    while let Some(item) = fan_out.next().await {
        most_pending = most_pending.max(bot.pending_deliveries());
        assert!(seen.insert(item.index), "index {} reported twice", item.index);
        let to = item.address.as_ref().map(|a| a.conversation.id.clone());
        assert_eq!(to, Some(format!("conv{}", item.index)), "each outcome names its address");
        if stale_ones.contains(&item.index) {
            assert!(item.result.as_ref().is_err_and(FanOutError::is_stale), "{:?}", item.result);
        }
        summary.add(&item);
    }
    assert_eq!(summary.total, N);
    assert_eq!(summary.delivered, N - 20);
    assert_eq!(summary.stale.len(), 10);
    assert_eq!(summary.failed.len(), 20);
    // Bounded: never more deliveries at once than the configured concurrency.
    assert!(flow.channel().max_in_progress() <= IN_FLIGHT, "{}", flow.channel().max_in_progress());
    assert!(most_pending <= IN_FLIGHT, "{most_pending}");
    let accepted: HashSet<String> =
        flow.channel().attempts().into_iter().filter(|a| a.accepted).map(|a| a.conversation).collect();
    assert_eq!(accepted.len(), N - 20);
    assert_eq!(bot.outbox().unwrap().pending_count().await.unwrap(), 0);
}

#[tokio::test]
async fn fan_out_without_an_outbox_is_bounded_too() {
    let builder =
        quick(Bot::builder()).storage(Arc::new(MemoryStore::new())).configure_proactive(|p| p.max_in_flight(8));
    let flow = TestFlow::new(builder);
    flow.channel().set_latency(ms(1));
    let summary =
        flow.bot().send_to_all((0..500).map(address), Message::new().text("hi")).await.unwrap().summary().await;
    assert_eq!(summary.delivered, 500);
    assert!(flow.channel().max_in_progress() <= 8);
}

#[tokio::test]
async fn begin_dialog_all_reports_each_address() {
    let flow = TestFlow::new(standup_bot());
    flow.channel().fail_next("conv2", [stale()]);
    let mut outcomes: Vec<_> =
        flow.bot().begin_dialog_all((0..4).map(address), "standup", json!(null), StackPolicy::Push).collect().await;
    outcomes.sort_by_key(|o| o.index);
    assert!(outcomes[0].result.as_ref().unwrap().as_ref().unwrap().activity_id.is_some());
    assert!(outcomes[2].result.as_ref().is_err_and(FanOutError::is_stale));
    let unknown = flow.bot().begin_dialog_all([address(9)], "nope", json!(null), StackPolicy::Push).summary().await;
    assert_eq!(unknown.failed.len(), 1);
    assert!(unknown.failed[0].1.contains("nope"));
}

#[tokio::test]
async fn two_instances_share_a_fan_out_without_duplicates() {
    let store = Arc::new(MemoryStore::new());
    let (channel, _replies) = TestChannel::new();
    let a = quick(Bot::builder())
        .configure_proactive(|p| p.max_in_flight(1))
        .store(store.clone())
        .default_channel(channel.clone())
        .build();
    let b = quick(Bot::builder()).store(store.clone()).default_channel(channel.clone()).build();
    let mut b_events = b.events();
    b.start().await;
    // Whichever instance claims conversation 0 is stuck on it; the other delivers the rest.
    channel.hold("conv0");
    let fan_out = a.send_to_all((0..300).map(address), Message::new().text("hello")).await.unwrap();
    let summary = tokio::spawn(fan_out.summary());
    while channel.attempts().len() < 299 {
        tokio::time::sleep(ms(10)).await;
    }
    channel.release("conv0");
    // A's stream learns the outcomes of B's deliveries from the store.
    let summary = summary.await.unwrap();
    assert_eq!(summary.delivered, 300);
    let attempts = channel.attempts();
    assert_eq!(attempts.len(), 300, "each message was claimed by one instance only");
    let ids: HashSet<_> = attempts.iter().map(|a| a.sent_id.clone()).collect();
    assert_eq!(ids.len(), 300);
    let mut delivered_by_b = 0;
    while let Ok(event) = b_events.try_recv() {
        if matches!(event, BotEvent::Outgoing { .. }) {
            delivered_by_b += 1;
        }
    }
    assert!(delivered_by_b >= 1);
}

#[tokio::test]
async fn push_interrupts_a_waterfall_and_the_prompt_asks_again() {
    let mut flow = TestFlow::new(standup_bot());
    flow.user_says("hi").await;
    flow.bot_says("What is your name?").await;
    flow.bot().begin_dialog(&flow.address(), "standup", json!(null), StackPolicy::Push).await.unwrap();
    flow.bot_says("What is your status for today?").await;
    flow.user_says("all green").await;
    flow.bot_says("Noted: all green").await;
    flow.bot_says("What is your name?").await;
    flow.user_says("Ana").await;
    flow.bot_says("Hello, Ana!").await;
    flow.no_more_replies().await;
}

#[tokio::test]
async fn replace_drops_the_waterfall() {
    let mut flow = TestFlow::new(standup_bot());
    flow.user_says("hi").await;
    flow.bot_says("What is your name?").await;
    let summary =
        flow.bot().begin_dialog_all([flow.address()], "standup", json!(null), StackPolicy::Replace).summary().await;
    assert_eq!((summary.total, summary.delivered), (1, 1));
    flow.bot_says("What is your status for today?").await;
    flow.user_says("all green").await;
    flow.bot_says("Noted: all green").await;
    flow.no_more_replies().await;
    // The old question is gone: the next message starts the default dialog afresh.
    flow.user_says("Ana").await;
    flow.bot_says("What is your name?").await;
}

#[tokio::test]
async fn the_service_url_limit_spaces_every_conversation_on_it() {
    let builder = quick(Bot::builder())
        .configure_proactive(|p| p.rate_limits(RateLimits::unlimited().per_service_url(Some(Rate::new(5.0, 1)))));
    let flow = TestFlow::new(builder);
    let summary = flow.bot().send_to_all((0..4).map(address), Message::new().text("hi")).await.unwrap().summary().await;
    assert_eq!(summary.delivered, 4);
    let mut times: Vec<_> = flow.channel().attempts().into_iter().map(|a| a.at).collect();
    times.sort();
    assert!(times[3].duration_since(times[0]) >= ms(600));
}

#[tokio::test]
async fn under_mixed_failures_every_message_is_delivered_or_dead_with_a_reason() {
    const CONVERSATIONS: usize = 200;
    const PER_CONVERSATION: usize = 10;
    let flow = TestFlow::new(quick(Bot::builder()).configure_proactive(|p| p.max_in_flight(32)));
    let bot = flow.bot().clone();
    for i in 0..CONVERSATIONS {
        let conv = format!("conv{i}");
        if i % 5 == 0 {
            flow.channel().fail_next(&conv, [unavailable()]);
        }
        if i % 7 == 0 {
            flow.channel().fail_next(&conv, [DeliveryError::RateLimited { retry_after: Some(ms(20)) }, unavailable()]);
        }
        if i % 11 == 0 {
            // The first message of these conversations is given up (5 attempts).
            flow.channel().fail_next(&conv, (0..5).map(|_| unavailable()));
        }
    }
    let messages = (0..PER_CONVERSATION)
        .flat_map(|n| (0..CONVERSATIONS).map(move |i| Message::new().address(address(i)).text(format!("{i}:{n}"))));
    let summary = bot.send_all(messages.collect::<Vec<_>>()).await.unwrap().summary().await;
    assert_eq!(summary.total, CONVERSATIONS * PER_CONVERSATION);
    // Which first messages are given up depends on how failures add up per conversation.
    let doomed: HashSet<usize> = (0..CONVERSATIONS)
        .filter(|i| {
            let fails =
                [i % 5 == 0, i % 7 == 0, i % 7 == 0].iter().filter(|b| **b).count() + if i % 11 == 0 { 5 } else { 0 };
            fails >= 5
        })
        .collect();
    assert_eq!(summary.failed.len(), doomed.len());
    assert_eq!(summary.delivered + summary.failed.len(), summary.total);
    for (_, reason) in &summary.failed {
        assert!(reason.contains("after 5 attempt(s)"), "{reason}");
    }
    let dead = bot.outbox().unwrap().dead_letters(1000).await.unwrap();
    assert_eq!(dead.len(), doomed.len());
    assert!(dead.iter().all(|d| d.reason.starts_with("gave up after 5 attempt(s)")));
    // Order per conversation held, and nothing arrived twice.
    let mut by_conversation: HashMap<String, Vec<usize>> = HashMap::new();
    for attempt in flow.channel().attempts().into_iter().filter(|a| a.accepted) {
        let (_, n) = attempt.text.split_once(':').unwrap();
        by_conversation.entry(attempt.conversation).or_default().push(n.parse().unwrap());
    }
    for i in 0..CONVERSATIONS {
        let first = usize::from(doomed.contains(&i));
        let expected: Vec<usize> = (first..PER_CONVERSATION).collect();
        assert_eq!(by_conversation[&format!("conv{i}")], expected, "conversation {i}");
    }
}
