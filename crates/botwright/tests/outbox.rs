//! Proactive messages through the outbox (and from memory without one): retries, order,
//! `Retry-After`, dead letters, stale addresses, deadlines, rate limits, shutdown.

mod common;

use botwright::bot::{BotBuilder, BotEvent};
use botwright::channel::DeliveryError;
use botwright::dead_letter::DeadLetterReason;
use botwright::error::SendError;
use botwright::proactive::{ProactiveSettings, Rate, RateLimits, STABLE_ID_PREFIX};
use botwright::storage::{MemoryStore, Outbox, OutboxStatus};
use botwright::testing::{TestChannel, TestFlow};
use botwright::{Bot, Message, RetryPolicy, StackPolicy, Waterfall};
use common::{address, ms, quick, stale, standup_bot, unavailable};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

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
    assert!(
        matches!(&event.0, DeadLetterReason::GaveUp { attempts: 5, last_error } if last_error.contains("503")),
        "{}",
        event.0
    );
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
async fn a_message_past_its_deadline_is_withdrawn_and_never_arrives() {
    let flow = TestFlow::new(quick(Bot::builder()));
    let bot = flow.bot().clone();
    // The first message is stuck in flight; the second waits behind it (order per conversation).
    flow.channel().hold("conv1");
    let first = bot.enqueue(Message::new().address(address(1)).text("first")).await.unwrap();
    let error = bot.send_with_deadline(Message::new().address(address(1)).text("second"), ms(200)).await.unwrap_err();
    assert!(matches!(error, SendError::Withdrawn { .. }), "{error}");
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
    assert!(matches!(error, SendError::Withdrawn { .. }), "{error}");
    bot.flush().await;
    assert!(flow.channel().attempts().iter().all(|a| !a.accepted));
}

#[tokio::test]
async fn a_deadline_without_an_outbox_withdraws_between_attempts() {
    let flow = TestFlow::new(quick(Bot::builder()).storage(Arc::new(MemoryStore::new())));
    let bot = flow.bot().clone();
    flow.channel().fail_next("conv1", (0..4).map(|_| DeliveryError::RateLimited { retry_after: Some(ms(300)) }));
    let error = bot.send_with_deadline(Message::new().address(address(1)).text("x"), ms(100)).await.unwrap_err();
    assert!(matches!(error, SendError::Withdrawn { .. }), "{error}");
    bot.flush().await;
    assert!(flow.channel().attempts().iter().all(|a| !a.accepted));
}

#[tokio::test]
async fn rate_limits_space_one_conversation_without_holding_up_another() {
    let builder = quick(Bot::builder())
        .configure_proactive(|p| p.rate_limits(RateLimits::unlimited().per_conversation(Some(Rate::new(5.0, 1)))));
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

#[tokio::test]
async fn shutdown_leaves_undelivered_messages_for_the_next_instance() {
    let store = Arc::new(MemoryStore::new());
    let (channel, _replies) = TestChannel::new();
    let lease = |b: BotBuilder| b.configure_proactive(|p: ProactiveSettings| p.lease(ms(300)));
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

#[tokio::test]
async fn a_message_too_old_to_retry_is_given_up() {
    let builder = quick(Bot::builder()).retry_policy(
        RetryPolicy::default().max_attempts(100).initial_backoff(ms(10)).max_backoff(ms(20)).max_age(ms(200)),
    );
    let flow = TestFlow::new(builder);
    flow.channel().fail_next("conv1", (0..1000).map(|_| unavailable()));
    let error = flow.bot().send(Message::new().address(address(1)).text("old")).await.unwrap_err();
    match error {
        SendError::GaveUp { attempts, .. } => assert!(attempts < 100),
        other => panic!("expected a give-up, got {other}"),
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
    assert!(matches!(error, SendError::Withdrawn { .. }), "{error}");
    // Withdrawn while the first message was still in flight, not once the queue reached it.
    assert_eq!(flow.channel().in_progress(), 1);
    flow.channel().release("conv1");
    first.await.unwrap().unwrap();
    bot.flush().await;
    let texts: Vec<String> = flow.channel().attempts().into_iter().map(|a| a.text).collect();
    assert_eq!(texts, ["first"]);
}

#[tokio::test]
async fn finished_entries_are_purged_after_the_retention_and_pending_ones_never() {
    let flow = TestFlow::new(
        quick(Bot::builder()).configure_proactive(|p| p.outbox_retention(Some(Duration::ZERO)).purge_interval(ms(50))),
    );
    let bot = flow.bot().clone();
    let delivered = bot.send(Message::new().address(address(1)).text("now")).await.unwrap();
    let id = delivered.outbox_id.unwrap();
    // A message not due for an hour stays pending through every purge.
    flow.channel().fail_next("conv2", [DeliveryError::RateLimited { retry_after: Some(Duration::from_secs(3600)) }]);
    let waiting = bot.enqueue(Message::new().address(address(2)).text("later")).await.unwrap();
    let mut purged = false;
    for _ in 0..100 {
        if bot.outbox_status(id).await.unwrap().is_none() {
            purged = true;
            break;
        }
        tokio::time::sleep(ms(20)).await;
    }
    assert!(purged, "the delivered entry is purged once past the retention");
    tokio::time::sleep(ms(200)).await;
    assert!(matches!(bot.outbox_status(waiting).await.unwrap(), Some(OutboxStatus::Pending { attempts: 1, .. })));
}

#[tokio::test]
async fn without_a_retention_finished_entries_are_kept() {
    let flow =
        TestFlow::new(quick(Bot::builder()).configure_proactive(|p| p.outbox_retention(None).purge_interval(ms(20))));
    let bot = flow.bot().clone();
    let id = bot.send(Message::new().address(address(1)).text("kept")).await.unwrap().outbox_id.unwrap();
    tokio::time::sleep(ms(200)).await;
    assert!(matches!(bot.outbox_status(id).await.unwrap(), Some(OutboxStatus::Delivered { .. })));
}
