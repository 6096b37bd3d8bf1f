//! The scheduler: one-off and cron jobs, time zones, two instances, typed errors.

mod common;

use botwright::proactive::{ProactiveJob, When};
use botwright::storage::MemoryStore;
use botwright::testing::{TestChannel, TestFlow};
use botwright::{Bot, Message, StackPolicy};
use common::{address, ms, quick, standup_bot};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

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
