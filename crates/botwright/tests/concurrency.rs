//! Turns of one conversation run one at a time with no lost update; turns of different
//! conversations run in parallel.

use botwright::storage::MemoryStore;
use botwright::testing::TestFlow;
use botwright::{Bot, Waterfall};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Barrier;

fn counting_bot(inside: Arc<AtomicUsize>, overlaps: Arc<AtomicUsize>) -> botwright::bot::BotBuilder {
    Bot::builder().dialog(
        "/",
        Waterfall::new().step(move |s, _| {
            let (inside, overlaps) = (inside.clone(), overlaps.clone());
            async move {
                if inside.fetch_add(1, Ordering::SeqCst) != 0 {
                    overlaps.fetch_add(1, Ordering::SeqCst);
                }
                let n: u64 = s.conversation_data().get("count").unwrap_or(0);
                tokio::task::yield_now().await;
                s.conversation_data().set("count", n + 1);
                inside.fetch_sub(1, Ordering::SeqCst);
                s.end_dialog();
                Ok(())
            }
        }),
    )
}

async fn count(flow: &TestFlow) -> u64 {
    flow.bot()
        .load_session(&flow.address(), |s| async move { s.conversation_data().get("count").unwrap_or(0) })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_messages_to_one_conversation_make_a_thousand_sequential_turns() {
    let (inside, overlaps) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut flow = TestFlow::new(counting_bot(inside, overlaps.clone()));
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let bot = flow.bot().clone();
        let activity = flow.message(&format!("message {i}"));
        tasks.push(tokio::spawn(async move { bot.receive(activity).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(count(&flow).await, 1000);
    assert_eq!(overlaps.load(Ordering::SeqCst), 0, "two turns of one conversation overlapped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_bot_instances_on_one_store_lose_no_update() {
    // Two bots (as two processes would) share a store but not their in-process locks: version
    // conflicts make turns run again instead of overwriting each other.
    let store = Arc::new(MemoryStore::new());
    let (inside, overlaps) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut a = TestFlow::new(counting_bot(Arc::new(AtomicUsize::new(0)), overlaps.clone()).store(store.clone()));
    let mut b = TestFlow::new(counting_bot(inside, overlaps).store(store));
    let mut tasks = Vec::new();
    for i in 0..200 {
        for flow in [&mut a, &mut b] {
            let bot = flow.bot().clone();
            let activity = flow.message(&format!("message {i}"));
            tasks.push(tokio::spawn(async move { bot.receive(activity).await }));
        }
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(count(&a).await, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_conversations_run_in_parallel() {
    // Every turn waits at a barrier for all the others: the test only finishes if the turns of
    // the 20 conversations run at the same time.
    const N: usize = 20;
    let barrier = Arc::new(Barrier::new(N));
    let bot = Bot::builder().dialog(
        "/",
        Waterfall::new().step(move |s, _| {
            let barrier = barrier.clone();
            async move {
                barrier.wait().await;
                s.end_dialog_with_message("done");
                Ok(())
            }
        }),
    );
    let mut flow = TestFlow::new(bot);
    let mut tasks = Vec::new();
    for i in 0..N {
        flow.in_conversation(&format!("conversation-{i}"));
        let bot = flow.bot().clone();
        let activity = flow.message("go");
        tasks.push(tokio::spawn(async move { bot.receive(activity).await }));
    }
    let all = async {
        for t in tasks {
            t.await.unwrap().unwrap();
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), all)
        .await
        .expect("turns of different conversations blocked each other");
    for _ in 0..N {
        flow.bot_says("done").await;
    }
}
