//! The proactive engine: outbox delivery, retries, order, dead letters, stale addresses,
//! fan-out, deadlines, dialogs begun proactively, the scheduler and shutdown.

use botwright::activity::{ChannelAccount, ConversationAccount};
use botwright::bot::{BotBuilder, BotEvent};
use botwright::channel::DeliveryError;
use botwright::error::SendError;
use botwright::proactive::{FanOutError, ProactiveJob, ProactiveSettings, Rate, RateLimits, STABLE_ID_PREFIX, When};
use botwright::storage::{MemoryStore, Outbox, OutboxStatus};
use botwright::testing::{TestChannel, TestFlow};
use botwright::{Address, Bot, Message, Prompt, RetryPolicy, StackPolicy, Waterfall};
use futures::StreamExt;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Quick retries and polls, so tests do not wait for production defaults.
fn quick(builder: BotBuilder) -> BotBuilder {
    builder
        .retry_policy(RetryPolicy {
            max_attempts: 5,
            initial_backoff: ms(10),
            max_backoff: ms(40),
            max_age: Duration::from_secs(60),
        })
        .configure_proactive(|p| {
            p.poll_interval = ms(50);
            p.rate_limits = RateLimits::unlimited();
        })
}

fn address(i: usize) -> Address {
    Address::new(
        TestFlow::CHANNEL_ID,
        TestFlow::SERVICE_URL,
        ChannelAccount::new(format!("user{i}")),
        ChannelAccount::new("bot"),
        ConversationAccount::new(format!("conv{i}")),
    )
}

fn unavailable() -> DeliveryError {
    DeliveryError::Unavailable { status: 503, body: "busy".into(), retry_after: None }
}

fn stale() -> DeliveryError {
    DeliveryError::Stale { status: 403, body: "blocked".into() }
}

#[tokio::test]
async fn send_goes_through_the_outbox_with_a_stable_id() {
    let mut flow = TestFlow::new(quick(Bot::builder()));
    let bot = flow.bot().clone();
    let receipt = bot.send(Message::new().address(flow.address()).text("Your order shipped")).await.unwrap();
    let id = receipt.outbox_id.expect("a bot with a store sends through its outbox");
    flow.bot_says("Your order shipped").await;
    assert_eq!(
        bot.outbox_status(id).await.unwrap(),
        Some(OutboxStatus::Delivered { activity_id: receipt.activity_id.clone() })
    );
    let attempts = flow.channel().attempts();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].sent_id, Some(format!("{STABLE_ID_PREFIX}{id}")));
}

#[tokio::test]
async fn every_message_arrives_once_in_order_under_retries() {
    let flow = TestFlow::new(quick(Bot::builder()));
    let bot = flow.bot().clone();
    // Conversation 1 fails twice with 503, conversation 2 is throttled three times.
    flow.channel().fail_next("conv1", [unavailable(), unavailable()]);
    flow.channel().fail_next("conv2", (0..3).map(|_| DeliveryError::RateLimited { retry_after: Some(ms(20)) }));
    let mut ids = Vec::new();
    for n in 0..5 {
        for conv in [1, 2, 3] {
            let message = Message::new().address(address(conv)).text(format!("c{conv} m{n}"));
            ids.push(bot.enqueue(message).await.unwrap());
        }
    }
    bot.flush().await;
    for id in &ids {
        assert!(matches!(bot.outbox_status(*id).await.unwrap(), Some(OutboxStatus::Delivered { .. })));
    }
    let mut by_conversation: HashMap<String, Vec<String>> = HashMap::new();
    for attempt in flow.channel().attempts().into_iter().filter(|a| a.accepted) {
        by_conversation.entry(attempt.conversation).or_default().push(attempt.text);
    }
    for conv in [1, 2, 3] {
        let expected: Vec<String> = (0..5).map(|n| format!("c{conv} m{n}")).collect();
        assert_eq!(by_conversation[&format!("conv{conv}")], expected, "conversation {conv}");
    }
    let failed = flow.channel().attempts().iter().filter(|a| !a.accepted).count();
    assert_eq!(failed, 5);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let flow = TestFlow::new(quick(Bot::builder()));
    let bot = flow.bot().clone();
    flow.channel().fail_next("conv1", [DeliveryError::RateLimited { retry_after: Some(ms(300)) }]);
    bot.send(Message::new().address(address(1)).text("after a pause")).await.unwrap();
    let attempts = flow.channel().attempts();
    assert_eq!(attempts.len(), 2);
    assert!(!attempts[0].accepted && attempts[1].accepted);
    // A lower bound only: the engine waited at least as long as the channel asked.
    assert!(attempts[1].at.duration_since(attempts[0].at) >= ms(300));
}

#[tokio::test]
async fn retry_after_is_honoured_without_an_outbox_too() {
    let builder = quick(Bot::builder()).storage(Arc::new(MemoryStore::new()));
    let flow = TestFlow::new(builder);
    let bot = flow.bot().clone();
    assert!(bot.outbox().is_none());
    flow.channel().fail_next("conv1", [DeliveryError::RateLimited { retry_after: Some(ms(300)) }]);
    let receipt = bot.send(Message::new().address(address(1)).text("from memory")).await.unwrap();
    assert_eq!(receipt.outbox_id, None);
    let attempts = flow.channel().attempts();
    assert!(attempts[1].at.duration_since(attempts[0].at) >= ms(300));
}

#[tokio::test]
async fn giving_up_leaves_a_dead_letter_and_an_event() {
    let flow = TestFlow::new(quick(Bot::builder()));
    let bot = flow.bot().clone();
    let mut events = bot.events();
    flow.channel().fail_next("conv1", (0..5).map(|_| unavailable()));
    let error = bot.send(Message::new().address(address(1)).text("never")).await.unwrap_err();
    assert!(matches!(error, SendError::GaveUp { attempts: 5, last: DeliveryError::Unavailable { status: 503, .. } }));
    let event = loop {
        if let BotEvent::DeadLetter { reason, attempts, activity, .. } = events.recv().await.unwrap() {
            break (reason, attempts, activity.text().to_owned());
        }
    };
    assert_eq!(event.1, 5);
    assert_eq!(event.2, "never");
    assert!(event.0.contains("503"), "{}", event.0);
    let outbox = bot.outbox().unwrap();
    let dead = outbox.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].reason.contains("gave up after 5"), "{}", dead[0].reason);
    assert_eq!(outbox.pending_count().await.unwrap(), 0);
}

#[tokio::test]
async fn a_rejected_message_is_dead_at_once_and_the_next_one_goes() {
    let mut flow = TestFlow::new(quick(Bot::builder()));
    let bot = flow.bot().clone();
    flow.channel().fail_next("conversation1", [DeliveryError::Rejected { status: 400, body: "bad card".into() }]);
    let error = bot.send(Message::new().address(flow.address()).text("bad")).await.unwrap_err();
    assert!(matches!(error, SendError::Rejected(DeliveryError::Rejected { status: 400, .. })), "{error}");
    bot.send(Message::new().address(flow.address()).text("good")).await.unwrap();
    flow.bot_says("good").await;
    assert_eq!(flow.channel().attempts().len(), 2);
}

#[tokio::test]
async fn a_stale_address_is_marked_and_refreshed_by_the_user() {
    let mut flow = TestFlow::new(quick(Bot::builder()).dialog(
        "/",
        Waterfall::new().step(|s, _| async move {
            s.end_dialog_with_message("hello");
            Ok(())
        }),
    ));
    flow.user_says("hi").await;
    flow.bot_says("hello").await;
    let bot = flow.bot().clone();
    let book = bot.address_book();
    let entry = book.get(TestFlow::CHANNEL_ID, "user1").await.unwrap().unwrap();
    assert_eq!(entry.stale, None);

    let mut events = bot.events();
    flow.channel().fail_next("conversation1", [stale()]);
    let error = bot.send(Message::new().address(entry.address.clone()).text("news")).await.unwrap_err();
    assert!(matches!(error, SendError::Stale(DeliveryError::Stale { status: 403, .. })), "{error}");
    let status = loop {
        if let BotEvent::AddressStale { status, address } = events.recv().await.unwrap() {
            assert_eq!(address.user.id, "user1");
            break status;
        }
    };
    assert_eq!(status, 403);
    let entry = book.get(TestFlow::CHANNEL_ID, "user1").await.unwrap().unwrap();
    assert_eq!(entry.stale.map(|s| s.status), Some(403));

    // The user writes again: the address is fresh.
    flow.user_says("back").await;
    flow.bot_says("hello").await;
    let entry = book.get(TestFlow::CHANNEL_ID, "user1").await.unwrap().unwrap();
    assert_eq!(entry.stale, None);
}

#[tokio::test]
async fn fan_out_to_ten_thousand_stays_bounded_and_counts_right() {
    const N: usize = 10_000;
    const IN_FLIGHT: usize = 16;
    let builder = quick(Bot::builder()).configure_proactive(|p| p.max_in_flight = IN_FLIGHT);
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
        quick(Bot::builder()).storage(Arc::new(MemoryStore::new())).configure_proactive(|p| p.max_in_flight = 8);
    let flow = TestFlow::new(builder);
    flow.channel().set_latency(ms(1));
    let summary =
        flow.bot().send_to_all((0..500).map(address), Message::new().text("hi")).await.unwrap().summary().await;
    assert_eq!(summary.delivered, 500);
    assert!(flow.channel().max_in_progress() <= 8);
}

#[tokio::test]
async fn a_message_past_its_deadline_is_withdrawn_and_never_arrives() {
    let flow = TestFlow::new(quick(Bot::builder()));
    let bot = flow.bot().clone();
    // The first message is stuck in flight; the second waits behind it (order per conversation).
    flow.channel().hold("conv1");
    let first = bot.enqueue(Message::new().address(address(1)).text("first")).await.unwrap();
    let error = bot.send_with_deadline(Message::new().address(address(1)).text("second"), ms(200)).await.unwrap_err();
    assert!(matches!(error, SendError::Withdrawn), "{error}");
    flow.channel().release("conv1");
    bot.flush().await;
    assert!(matches!(bot.outbox_status(first).await.unwrap(), Some(OutboxStatus::Delivered { .. })));
    let texts: Vec<String> = flow.channel().attempts().into_iter().map(|a| a.text).collect();
    assert_eq!(texts, ["first"]);
}

#[tokio::test]
async fn a_deadline_waits_for_the_attempt_in_flight() {
    let flow = TestFlow::new(quick(Bot::builder()));
    let bot = flow.bot().clone();
    flow.channel().hold("conv1");
    let sending = {
        let bot = bot.clone();
        tokio::spawn(
            async move { bot.send_with_deadline(Message::new().address(address(1)).text("slow"), ms(100)).await },
        )
    };
    // The deadline passes while the attempt is held; then the attempt goes through.
    while flow.channel().in_progress() == 0 {
        tokio::time::sleep(ms(10)).await;
    }
    tokio::time::sleep(ms(300)).await;
    flow.channel().release("conv1");
    let receipt = sending.await.unwrap().expect("the attempt in flight succeeded, so the message was delivered");
    assert!(receipt.activity_id.is_some());
}

#[tokio::test]
async fn a_deadline_withdraws_after_a_failed_attempt_in_flight() {
    let flow = TestFlow::new(quick(Bot::builder()));
    let bot = flow.bot().clone();
    flow.channel().hold("conv1");
    // The attempt in flight fails and asks for a long pause: the withdrawal comes first.
    flow.channel().fail_next("conv1", [DeliveryError::RateLimited { retry_after: Some(Duration::from_secs(30)) }]);
    let sending = {
        let bot = bot.clone();
        tokio::spawn(async move { bot.send_with_deadline(Message::new().address(address(1)).text("x"), ms(100)).await })
    };
    tokio::time::sleep(ms(300)).await;
    flow.channel().release("conv1");
    let error = sending.await.unwrap().unwrap_err();
    assert!(matches!(error, SendError::Withdrawn), "{error}");
    bot.flush().await;
    assert!(flow.channel().attempts().iter().all(|a| !a.accepted));
}

#[tokio::test]
async fn a_deadline_without_an_outbox_withdraws_between_attempts() {
    let flow = TestFlow::new(quick(Bot::builder()).storage(Arc::new(MemoryStore::new())));
    let bot = flow.bot().clone();
    flow.channel().fail_next("conv1", (0..4).map(|_| DeliveryError::RateLimited { retry_after: Some(ms(300)) }));
    let error = bot.send_with_deadline(Message::new().address(address(1)).text("x"), ms(100)).await.unwrap_err();
    assert!(matches!(error, SendError::Withdrawn), "{error}");
    bot.flush().await;
    assert!(flow.channel().attempts().iter().all(|a| !a.accepted));
}

#[tokio::test]
async fn rate_limits_space_one_conversation_without_holding_up_another() {
    let builder = quick(Bot::builder()).configure_proactive(|p| {
        p.rate_limits = RateLimits { per_conversation: Some(Rate::new(5.0, 1)), per_service_url: None };
    });
    let flow = TestFlow::new(builder);
    let bot = flow.bot().clone();
    for n in 0..4 {
        bot.enqueue(Message::new().address(address(1)).text(format!("m{n}"))).await.unwrap();
    }
    bot.enqueue(Message::new().address(address(2)).text("other")).await.unwrap();
    bot.flush().await;
    let attempts = flow.channel().attempts();
    let conv1: Vec<_> = attempts.iter().filter(|a| a.conversation == "conv1").collect();
    assert_eq!(conv1.len(), 4);
    // Four messages at 5 per second, no burst: at least 600 ms from the first to the last.
    assert!(conv1[3].at.duration_since(conv1[0].at) >= ms(600));
    let other = attempts.iter().find(|a| a.conversation == "conv2").unwrap();
    assert!(other.at < conv1[3].at, "conversation 2 waited for conversation 1");
}

fn standup_bot() -> BotBuilder {
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
async fn a_job_due_in_a_second_fires_once() {
    let mut flow = TestFlow::new(quick(Bot::builder()));
    let bot = flow.bot().clone();
    bot.start().await;
    let message = Message::new().address(flow.address()).text("Stand up!");
    bot.schedule("reminder", When::after(Duration::from_secs(1)), ProactiveJob::message(message)).await.unwrap();
    assert_eq!(bot.scheduled().await.unwrap().len(), 1);
    flow.bot_says("Stand up!").await;
    while !bot.scheduled().await.unwrap().is_empty() {
        tokio::time::sleep(ms(20)).await;
    }
    flow.no_more_replies().await;
}

#[tokio::test]
async fn two_bots_sharing_a_store_fire_a_job_once() {
    let store = Arc::new(MemoryStore::new());
    let (channel, mut replies) = TestChannel::new();
    let a = quick(Bot::builder()).store(store.clone()).default_channel(channel.clone()).build();
    let b = quick(Bot::builder()).store(store.clone()).default_channel(channel.clone()).build();
    a.start().await;
    b.start().await;
    let job = ProactiveJob::message(Message::new().address(address(1)).text("once"));
    a.schedule("job", When::after(ms(500)), job).await.unwrap();
    let (_, first) = tokio::time::timeout(Duration::from_secs(10), replies.recv()).await.unwrap().unwrap();
    assert_eq!(first.text(), "once");
    while !a.scheduled().await.unwrap().is_empty() {
        tokio::time::sleep(ms(20)).await;
    }
    a.flush().await;
    b.flush().await;
    assert_eq!(channel.attempts().len(), 1);
    assert!(replies.try_recv().is_err());
}

#[tokio::test]
async fn a_cron_job_fires_again() {
    let mut flow = TestFlow::new(quick(Bot::builder()));
    let bot = flow.bot().clone();
    bot.start().await;
    let job = ProactiveJob::message(Message::new().address(flow.address()).text("tick"));
    bot.schedule("every-second", When::cron("* * * * * *", "Europe/Madrid"), job).await.unwrap();
    flow.bot_says("tick").await;
    flow.bot_says("tick").await;
    assert!(bot.cancel_schedule("every-second").await.unwrap());
    assert!(bot.scheduled().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_scheduled_dialog_begins() {
    let mut flow = TestFlow::new(standup_bot());
    let bot = flow.bot().clone();
    let job = ProactiveJob::Dialog {
        address: flow.address(),
        dialog_id: "standup".into(),
        args: json!(null),
        policy: StackPolicy::Replace,
    };
    bot.schedule("standup", When::after(ms(100)), job).await.unwrap();
    flow.bot_says("What is your status for today?").await;
    flow.user_says("fine").await;
    flow.bot_says("Noted: fine").await;
}

#[tokio::test]
async fn bad_schedules_are_typed_errors() {
    use botwright::proactive::ScheduleError;
    let flow = TestFlow::new(standup_bot());
    let bot = flow.bot();
    let msg = || ProactiveJob::message(Message::new().address(address(1)).text("x"));
    assert!(matches!(
        bot.schedule("a", When::cron("61 * * * *", "UTC"), msg()).await,
        Err(ScheduleError::InvalidCron { .. })
    ));
    assert!(matches!(
        bot.schedule("a", When::cron("0 9 * * *", "Nowhere/City"), msg()).await,
        Err(ScheduleError::UnknownTimeZone(_))
    ));
    assert!(matches!(
        bot.schedule("a", When::after(ms(1)), ProactiveJob::message(Message::new().text("x"))).await,
        Err(ScheduleError::MissingAddress)
    ));
    let dialog = ProactiveJob::Dialog {
        address: address(1),
        dialog_id: "missing".into(),
        args: json!(null),
        policy: StackPolicy::Push,
    };
    assert!(matches!(bot.schedule("a", When::after(ms(1)), dialog).await, Err(ScheduleError::UnknownDialog(_))));
    assert!(bot.scheduled().await.unwrap().is_empty());
}

#[tokio::test]
async fn shutdown_leaves_undelivered_messages_for_the_next_instance() {
    let store = Arc::new(MemoryStore::new());
    let (channel, _replies) = TestChannel::new();
    let lease = |b: BotBuilder| b.configure_proactive(|p: &mut ProactiveSettings| p.lease = ms(300));
    let a = lease(quick(Bot::builder())).store(store.clone()).default_channel(channel.clone()).build();
    channel.hold("conv1");
    let first = a.enqueue(Message::new().address(address(1)).text("first")).await.unwrap();
    let second = a.enqueue(Message::new().address(address(1)).text("second")).await.unwrap();
    while channel.in_progress() == 0 {
        tokio::time::sleep(ms(10)).await;
    }
    let report = a.shutdown(ms(100)).await;
    assert_eq!(report.in_flight, 1);
    assert!(!report.is_clean());
    assert!(matches!(a.send(Message::new().address(address(1)).text("late")).await, Err(SendError::ShuttingDown)));
    assert_eq!(store.pending_count().await.unwrap(), 2);

    // Another instance takes over once the lease of the stuck attempt expires.
    let b = lease(quick(Bot::builder())).store(store.clone()).default_channel(channel.clone()).build();
    b.start().await;
    while channel.in_progress() < 2 {
        tokio::time::sleep(ms(10)).await;
    }
    channel.release("conv1");
    b.flush().await;
    for id in [first, second] {
        assert!(matches!(store.status(id).await.unwrap(), Some(OutboxStatus::Delivered { .. })));
    }
    // At least once: the message in flight at shutdown arrived twice (same stable id), the
    // other once.
    let mut count: HashMap<String, usize> = HashMap::new();
    for attempt in channel.attempts().into_iter().filter(|a| a.accepted) {
        *count.entry(attempt.sent_id.unwrap()).or_default() += 1;
    }
    assert_eq!(count[&format!("{STABLE_ID_PREFIX}{first}")], 2);
    assert_eq!(count[&format!("{STABLE_ID_PREFIX}{second}")], 1);
}

#[tokio::test]
async fn a_proactive_dialogs_messages_go_through_the_outbox() {
    let mut flow = TestFlow::new(standup_bot());
    let bot = flow.bot().clone();
    flow.channel().fail_next("conversation1", [unavailable()]);
    bot.begin_dialog(&flow.address(), "standup", json!(null), StackPolicy::Replace).await.unwrap();
    flow.bot_says("What is your status for today?").await;
    bot.flush().await;
    let attempts = flow.channel().attempts();
    assert_eq!(attempts.len(), 2);
    assert!(attempts.iter().all(|a| a.sent_id.as_deref().is_some_and(|id| id.starts_with(STABLE_ID_PREFIX))));
    assert_eq!(attempts[0].sent_id, attempts[1].sent_id);
}

#[test]
fn a_daily_standup_follows_the_users_time_zone() {
    use chrono::{TimeZone, Utc};
    let standup = When::cron("0 9 * * Mon-Fri", "America/New_York");
    // Friday 2026-03-06 15:00 UTC is 10:00 in New York (EST): the next standup is Monday.
    let friday: std::time::SystemTime = Utc.with_ymd_and_hms(2026, 3, 6, 15, 0, 0).unwrap().into();
    let next: chrono::DateTime<Utc> = standup.next_after(friday).unwrap().into();
    // Monday 2026-03-09 is after the switch to daylight saving time: 9:00 EDT is 13:00 UTC.
    assert_eq!(next, Utc.with_ymd_and_hms(2026, 3, 9, 13, 0, 0).unwrap());
    let madrid = When::cron("0 9 * * *", "Europe/Madrid");
    let next: chrono::DateTime<Utc> = madrid.next_after(friday).unwrap().into();
    assert_eq!(next, Utc.with_ymd_and_hms(2026, 3, 7, 8, 0, 0).unwrap());
}

#[tokio::test]
async fn a_message_too_old_to_retry_is_given_up() {
    let builder = quick(Bot::builder()).retry_policy(RetryPolicy {
        max_attempts: 100,
        initial_backoff: ms(10),
        max_backoff: ms(20),
        max_age: ms(200),
    });
    let flow = TestFlow::new(builder);
    flow.channel().fail_next("conv1", (0..1000).map(|_| unavailable()));
    let error = flow.bot().send(Message::new().address(address(1)).text("old")).await.unwrap_err();
    match error {
        SendError::GaveUp { attempts, .. } => assert!(attempts < 100),
        other => panic!("expected a give-up, got {other}"),
    }
}

#[tokio::test]
async fn the_service_url_limit_spaces_every_conversation_on_it() {
    let builder = quick(Bot::builder()).configure_proactive(|p| {
        p.rate_limits = RateLimits { per_conversation: None, per_service_url: Some(Rate::new(5.0, 1)) };
    });
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
    let flow = TestFlow::new(quick(Bot::builder()).configure_proactive(|p| p.max_in_flight = 32));
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

#[tokio::test]
async fn without_an_outbox_a_queued_message_is_withdrawn_at_its_deadline() {
    let flow = TestFlow::new(quick(Bot::builder()).storage(Arc::new(MemoryStore::new())));
    let bot = flow.bot().clone();
    flow.channel().hold("conv1");
    let first = {
        let bot = bot.clone();
        tokio::spawn(async move { bot.send(Message::new().address(address(1)).text("first")).await })
    };
    while flow.channel().in_progress() == 0 {
        tokio::time::sleep(ms(10)).await;
    }
    let error = bot.send_with_deadline(Message::new().address(address(1)).text("second"), ms(100)).await.unwrap_err();
    assert!(matches!(error, SendError::Withdrawn), "{error}");
    // Withdrawn while the first message was still in flight, not once the queue reached it.
    assert_eq!(flow.channel().in_progress(), 1);
    flow.channel().release("conv1");
    first.await.unwrap().unwrap();
    bot.flush().await;
    let texts: Vec<String> = flow.channel().attempts().into_iter().map(|a| a.text).collect();
    assert_eq!(texts, ["first"]);
}

#[tokio::test]
async fn two_instances_share_a_fan_out_without_duplicates() {
    let store = Arc::new(MemoryStore::new());
    let (channel, _replies) = TestChannel::new();
    let a = quick(Bot::builder())
        .configure_proactive(|p| p.max_in_flight = 1)
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
