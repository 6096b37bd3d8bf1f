//! Reminders: a one-off job and a recurring one, kept in the bot's job store and claimed with
//! leases; the console shows what the bot sends.
//!
//! `cargo run -p botwright-examples --example reminder`

use botwright::console::{ConsoleChannel, console_address};
use botwright::proactive::{ProactiveJob, When};
use botwright::{Bot, Message};
use std::sync::Arc;
use std::time::Duration;

#[tokio::main]
async fn main() {
    let bot = Bot::builder().channel(botwright::console::CHANNEL_ID, Arc::new(ConsoleChannel)).build();
    bot.start().await;
    let me = console_address();
    bot.schedule(
        "tea",
        When::after(Duration::from_secs(1)),
        ProactiveJob::message(Message::new().address(me.clone()).text("Your tea is ready.")),
    )
    .await
    .unwrap();
    bot.schedule(
        "tick",
        When::cron("*/2 * * * * *", "UTC"),
        ProactiveJob::message(Message::new().address(me).text("Two more seconds went by.")),
    )
    .await
    .unwrap();
    for job in bot.scheduled().await.unwrap() {
        println!("scheduled {} ({:?})", job.id, job.when);
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    bot.cancel_schedule("tick").await.unwrap();
    let report = bot.shutdown(Duration::from_secs(2)).await;
    println!("stopped cleanly: {}", report.is_clean());
}
