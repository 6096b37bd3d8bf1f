//! A bot on a SQLite file stops without shutting down (its runtime is dropped mid-work, as a
//! crash would leave it); a new process-like run on the same file finds its scheduled jobs, its
//! undelivered proactive messages, its users' state and their dialog stacks.

use botwright::proactive::{ProactiveJob, When};
use botwright::testing::TestFlow;
use botwright::{Bot, Message, Prompt, Waterfall};
use botwright_sqlite::SqliteStore;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The bot; its instance id is the same on every run, so a run takes back at once what the
/// previous run had claimed when it died.
fn bot(store: Arc<SqliteStore>) -> botwright::bot::BotBuilder {
    Bot::builder().store(store).configure_proactive(|p| p.instance_id("restart-test")).dialog(
        "/",
        Waterfall::new()
            .step(|s, _| async move {
                s.user_data().set("name", "Ana");
                s.prompt(Prompt::text("What is your status?"));
                Ok(())
            })
            .step(|s, r| async move {
                let name: String = s.user_data().get("name").unwrap_or_default();
                s.end_dialog_with_message(format!("{name}: {}", r.text().unwrap_or_default()));
                Ok(())
            }),
    )
}

/// The first run: a user mid-dialog, a job due soon, and a message the channel refuses for now.
fn first_run(path: &Path) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let store = Arc::new(SqliteStore::open(path).await.unwrap());
        let mut flow = TestFlow::new(bot(store));
        flow.user_says("standup").await;
        flow.bot_says("What is your status?").await;
        let address = flow.address();
        flow.bot()
            .schedule(
                "reminder",
                When::after(Duration::from_secs(2)),
                ProactiveJob::message(Message::new().text("Reminder!").address(address.clone())),
            )
            .await
            .unwrap();
        // In another conversation, the channel refuses the next delivery for a while: the message
        // waits in the outbox with a retry ahead of it (and holds up nothing else).
        let mut other = address.clone();
        other.conversation.id = "other".into();
        flow.channel().fail_next(
            "other",
            [botwright::channel::DeliveryError::RateLimited { retry_after: Some(Duration::from_secs(60)) }],
        );
        let id = flow.bot().enqueue(Message::new().text("Queued before the crash").address(other)).await.unwrap();
        for _ in 0..200 {
            if matches!(
                flow.bot().outbox_status(id).await.unwrap(),
                Some(botwright::storage::OutboxStatus::Pending { attempts: 1, .. })
            ) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    // Dropping the runtime stops every task at once: no shutdown, no flush.
    drop(runtime);
}

#[test]
fn jobs_outbox_state_and_stacks_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    first_run(&path);

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let store = Arc::new(SqliteStore::open(&path).await.unwrap());
        let mut flow = TestFlow::new(bot(store));
        assert_eq!(flow.bot().scheduled().await.unwrap().len(), 1, "the job is still scheduled");
        flow.bot().start().await;
        flow.timeout(Duration::from_secs(10));
        flow.bot_says("Reminder!").await;
        assert!(flow.bot().scheduled().await.unwrap().is_empty(), "a one-off job fires once");
        // The dialog stack and user data: the answer continues the waterfall.
        flow.user_says("all green").await;
        flow.bot_says("Ana: all green").await;
        // The queued message is still pending in the outbox (its retry is a minute ahead).
        assert!(flow.bot().outbox().unwrap().pending_count().await.unwrap() >= 1);
    });
}
