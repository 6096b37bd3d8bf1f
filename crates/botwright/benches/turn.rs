//! One turn through `Bot::receive` with the memory store: an echo, and a waterfall step.
//!
//! Run with `cargo bench -p botwright --bench turn`.
#![allow(missing_docs)]

use botwright::channel::{Channel, Delivered, DeliveryError};
use botwright::{Activity, Address, Bot, Prompt, Waterfall, async_trait};
use criterion::{Criterion, criterion_group, criterion_main};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Accepts everything, keeps nothing.
#[derive(Debug, Default)]
struct NullChannel(AtomicU64);

#[async_trait]
impl Channel for NullChannel {
    async fn deliver(&self, _: &Address, _: &Activity) -> Result<Delivered, DeliveryError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(Delivered::default())
    }
}

fn message(text: &str, conversation: &str) -> Activity {
    serde_json::from_value(serde_json::json!({
        "type": "message", "id": "1", "text": text, "channelId": "bench", "serviceUrl": "http://127.0.0.1:1",
        "from": {"id": "user"}, "recipient": {"id": "bot"}, "conversation": {"id": conversation}
    }))
    .expect("a valid activity")
}

fn turns(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");

    let echo = Bot::builder()
        .default_channel(Arc::new(NullChannel::default()))
        .dialog(
            "/",
            Waterfall::new().step(|s, _| async move {
                s.end_dialog_with_message(format!("echo: {}", s.message().text()));
                Ok(())
            }),
        )
        .build();
    let hello = message("hello", "echo");
    c.bench_function("echo turn (memory store)", |b| {
        b.to_async(&runtime).iter(|| async {
            echo.receive(hello.clone()).await.expect("turn");
            echo.flush().await;
        })
    });

    let waterfall = Bot::builder()
        .default_channel(Arc::new(NullChannel::default()))
        .dialog(
            "/",
            Waterfall::new()
                .step(|s, _| async move {
                    s.prompt(Prompt::text("What is your status?"));
                    Ok(())
                })
                .step(|s, r| async move {
                    s.end_dialog_with_message(format!("Got it: {}", r.text().unwrap_or_default()));
                    Ok(())
                }),
        )
        .build();
    let first = message("standup", "waterfall");
    let answer = message("all good", "waterfall");
    c.bench_function("waterfall step (memory store)", |b| {
        b.to_async(&runtime).iter(|| async {
            // Two turns: the prompt, then the answer that ends the waterfall.
            waterfall.receive(first.clone()).await.expect("turn");
            waterfall.receive(answer.clone()).await.expect("turn");
            waterfall.flush().await;
        })
    });
}

criterion_group!(benches, turns);
criterion_main!(benches);
