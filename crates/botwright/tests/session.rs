//! Transcript tests of every `Session` call.

use botwright::activity::ActivityType;
use botwright::activity::InputHint;
use botwright::bot::BotEvent;
use botwright::dialog::{DialogResult, Resumed};
use botwright::testing::TestFlow;
use botwright::{Bot, Message, Prompt, Waterfall};
use serde_json::json;
use std::time::{Duration, Instant};

async fn stack(flow: &TestFlow) -> Vec<String> {
    flow.bot().load_session(&flow.address(), |s| async move { s.dialog_stack() }).await.unwrap()
}

#[tokio::test]
async fn send_sends_in_order_after_the_turn() {
    let bot = Bot::builder().dialog(
        "/",
        Waterfall::new().step(|s, _| async move {
            s.send("one");
            s.send(Message::new().text("two %s").arg("args"));
            s.send(Message::localized("no-such-id"));
            s.end_dialog();
            Ok(())
        }),
    );
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    let one = flow.bot_says("one").await;
    assert_eq!(one.input_hint, Some(InputHint::IgnoringInput));
    flow.bot_says("two args").await;
    let last = flow.bot_says("no-such-id").await;
    assert_eq!(last.input_hint, Some(InputHint::AcceptingInput));
    // Replies are addressed from the bot to the user, as replies to the user's message.
    assert_eq!(last.from.as_ref().unwrap().id, "bot");
    assert_eq!(last.recipient.as_ref().unwrap().id, "user1");
    assert_eq!(last.reply_to_id.as_deref(), Some("in-1"));
    flow.no_more_replies().await;
}

#[tokio::test]
async fn send_typing_goes_out_before_the_turn_ends() {
    let bot = Bot::builder().dialog(
        "/",
        Waterfall::new().step(|s, _| async move {
            s.send_typing();
            tokio::time::sleep(Duration::from_millis(50)).await;
            s.end_dialog_with_message("done");
            Ok(())
        }),
    );
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_types().await;
    flow.bot_says("done").await;
}

#[tokio::test]
async fn delay_pauses_between_messages() {
    let bot = Bot::builder().dialog(
        "/",
        Waterfall::new().step(|s, _| async move {
            s.send("first");
            s.delay(Duration::from_millis(300));
            s.end_dialog_with_message("second");
            Ok(())
        }),
    );
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("first").await;
    let started = Instant::now();
    flow.bot_says("second").await;
    // A lower bound only: the pause happened (no upper bound on a noisy machine).
    assert!(started.elapsed() >= Duration::from_millis(250));
}

fn nested() -> botwright::bot::BotBuilder {
    Bot::builder()
        .dialog(
            "/",
            Waterfall::new()
                .step(|s, _| async move {
                    s.begin_dialog("child", json!({"from": "root"}));
                    Ok(())
                })
                .step(|s, r| async move {
                    s.end_dialog_with_message(format!("root got {:?} {}", r.resumed, r.response.unwrap_or_default()));
                    Ok(())
                }),
        )
        .dialog(
            "child",
            Waterfall::new()
                .step(|s, args| async move {
                    s.send(format!("child begun with {}", args.response.unwrap_or_default()));
                    s.prompt(Prompt::text("child asks"));
                    Ok(())
                })
                .step(|s, r| async move {
                    match r.text() {
                        Some("replace") => s.replace_dialog("replacement", json!(null)),
                        Some("cancel") => {
                            assert!(s.cancel_dialog("child"));
                        }
                        Some(other) => s.end_dialog_with_result(DialogResult::completed(format!("answer {other}"))),
                        None => s.end_dialog(),
                    }
                    Ok(())
                }),
        )
        .dialog(
            "replacement",
            Waterfall::new().step(|s, _| async move {
                s.end_dialog_with_result(DialogResult::completed("from replacement"));
                Ok(())
            }),
        )
}

#[tokio::test]
async fn begin_dialog_and_end_dialog_with_result_resume_the_parent() {
    let mut flow = TestFlow::new(nested());
    flow.user_says("hi").await;
    flow.bot_says("child begun with {\"from\":\"root\"}").await;
    flow.bot_says("child asks").await;
    assert_eq!(stack(&flow).await, ["/", "child", "botwright:prompt-text"]);
    flow.user_says("blue").await;
    flow.bot_says("root got Completed \"answer blue\"").await;
    assert!(stack(&flow).await.is_empty());
}

#[tokio::test]
async fn replace_dialog_passes_the_result_to_the_old_parent() {
    let mut flow = TestFlow::new(nested());
    flow.user_says("hi").await;
    flow.next_message().await;
    flow.next_message().await;
    flow.user_says("replace").await;
    flow.bot_says("root got Completed \"from replacement\"").await;
}

#[tokio::test]
async fn cancel_dialog_resumes_the_parent_with_canceled() {
    let mut flow = TestFlow::new(nested());
    flow.user_says("hi").await;
    flow.next_message().await;
    flow.next_message().await;
    flow.user_says("cancel").await;
    flow.bot_says("root got Canceled null").await;
}

#[tokio::test]
async fn end_conversation_clears_conversation_state_but_keeps_user_data() {
    let bot = Bot::builder().dialog(
        "/",
        Waterfall::new()
            .step(|s, _| async move {
                s.user_data().set("name", "Ana");
                s.conversation_data().set("topic", "orders");
                s.private_conversation_data().set("secret", 1);
                s.prompt(Prompt::text("say bye"));
                Ok(())
            })
            .step(|s, _| async move {
                s.end_conversation_with_message("Goodbye");
                Ok(())
            }),
    );
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("say bye").await;
    flow.user_says("bye").await;
    flow.bot_says("Goodbye").await;
    let end = flow.next_reply().await;
    assert_eq!(end.kind, ActivityType::EndOfConversation);
    let (user, conv, private, stack) = flow
        .bot()
        .load_session(&flow.address(), |s| async move {
            (
                s.user_data().get::<String>("name"),
                s.conversation_data().get::<String>("topic"),
                s.private_conversation_data().get::<i64>("secret"),
                s.dialog_stack(),
            )
        })
        .await
        .unwrap();
    assert_eq!(user.as_deref(), Some("Ana"));
    assert_eq!(conv, None);
    assert_eq!(private, None);
    assert!(stack.is_empty());
}

#[tokio::test]
async fn reset_clears_the_stack_and_begins_the_default_dialog() {
    let bot = Bot::builder()
        .dialog(
            "/",
            Waterfall::new()
                .step(|s, _| async move {
                    s.prompt(Prompt::text("root asks"));
                    Ok(())
                })
                .step(|s, _| async move {
                    s.begin_dialog("deep", json!(null));
                    Ok(())
                }),
        )
        .dialog(
            "deep",
            Waterfall::new()
                .step(|s, _| async move {
                    s.prompt(Prompt::text("deep asks"));
                    Ok(())
                })
                .step(|s, _| async move {
                    s.reset();
                    Ok(())
                }),
        );
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("root asks").await;
    flow.user_says("go deep").await;
    flow.bot_says("deep asks").await;
    assert_eq!(stack(&flow).await, ["/", "deep", "botwright:prompt-text"]);
    flow.user_says("reset please").await;
    flow.bot_says("root asks").await;
    assert_eq!(stack(&flow).await, ["/", "botwright:prompt-text"]);
}

#[tokio::test]
async fn error_tells_the_user_resets_the_stack_and_keeps_user_data() {
    let bot = Bot::builder().dialog(
        "/",
        Waterfall::new()
            .step(|s, _| async move {
                s.user_data().set("name", "Ana");
                s.conversation_data().set("topic", "orders");
                s.prompt(Prompt::text("what now?"));
                Ok(())
            })
            .step(|_s, _| async move { Err("the database is down".into()) }),
    );
    let mut flow = TestFlow::new(bot);
    let mut events = flow.bot().events();
    flow.user_says("hi").await;
    flow.bot_says("what now?").await;
    flow.user_says("boom").await;
    flow.bot_says("Oops. Something went wrong and we need to start over.").await;
    let event = loop {
        if let BotEvent::Error { error, .. } = events.recv().await.unwrap() {
            break error;
        }
    };
    assert!(event.contains("the database is down"));
    let (name, topic, stack) = flow
        .bot()
        .load_session(&flow.address(), |s| async move {
            (s.user_data().get::<String>("name"), s.conversation_data().get::<String>("topic"), s.dialog_stack())
        })
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some("Ana"));
    assert_eq!(topic.as_deref(), Some("orders"));
    assert!(stack.is_empty());
    // The next message starts afresh.
    flow.user_says("hello again").await;
    flow.bot_says("what now?").await;
}

#[tokio::test]
async fn a_panicking_step_is_an_error_not_a_crash() {
    let bot = Bot::builder().dialog(
        "/",
        Waterfall::new().step(|_s, _| async move {
            let v: Vec<u8> = Vec::new();
            let _ = v[3];
            Ok(())
        }),
    );
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("Oops. Something went wrong and we need to start over.").await;
    flow.user_says("hi").await;
    flow.bot_says("Oops. Something went wrong and we need to start over.").await;
}

#[tokio::test]
async fn save_persists_state_mid_turn() {
    let bot = Bot::builder().dialog(
        "/",
        Waterfall::new().step(|s, _| async move {
            s.user_data().set("step", "saved");
            s.save().await?;
            // Another reader sees it while the turn still runs.
            let doc = s.bot().storage().read("user/test/user1").await?.expect("saved");
            s.end_dialog_with_message(if doc.json.contains("saved") { "visible" } else { "missing" });
            Ok(())
        }),
    );
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("visible").await;
}

#[tokio::test]
async fn message_and_address_describe_the_turn() {
    let bot = Bot::builder().dialog(
        "/",
        Waterfall::new().step(|s, _| async move {
            let a = s.address().clone();
            s.end_dialog_with_message(format!(
                "{} from {} in {} via {} (reply to {})",
                s.message().text(),
                a.user.id,
                a.conversation.id,
                a.channel_id,
                a.id.unwrap_or_default()
            ));
            Ok(())
        }),
    );
    let mut flow = TestFlow::new(bot);
    flow.user_says("ping").await;
    flow.bot_says("ping from user1 in conversation1 via test (reply to in-1)").await;
}

#[tokio::test]
async fn typed_state_helpers_round_trip() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Order {
        id: u32,
        items: Vec<String>,
    }
    let bot = Bot::builder().dialog(
        "/",
        Waterfall::new()
            .step(|s, _| async move {
                s.dialog_data().set_serialized("order", &Order { id: 7, items: vec!["pear".into()] })?;
                s.prompt(Prompt::text("confirm?"));
                Ok(())
            })
            .step(|s, _| async move {
                let order: Order = s.dialog_data().get("order").expect("dialog data survives the prompt");
                s.end_dialog_with_message(format!("order {} with {}", order.id, order.items.join(",")));
                Ok(())
            }),
    );
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("confirm?").await;
    flow.user_says("yes").await;
    flow.bot_says("order 7 with pear").await;
}

#[tokio::test]
async fn end_dialog_with_result_reports_not_completed() {
    let bot = Bot::builder()
        .dialog(
            "/",
            Waterfall::new()
                .step(|s, _| async move {
                    s.begin_dialog("quitter", json!(null));
                    Ok(())
                })
                .step(|s, r| async move {
                    s.end_dialog_with_message(format!("{:?}", r.resumed));
                    Ok(())
                }),
        )
        .dialog(
            "quitter",
            Waterfall::new().step(|s, _| async move {
                s.end_dialog_with_result(DialogResult { resumed: Resumed::NotCompleted, ..Default::default() });
                Ok(())
            }),
        );
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("NotCompleted").await;
}

#[tokio::test]
async fn a_finished_dialog_leaves_no_empty_private_document() {
    let bot = Bot::builder().dialog(
        "/",
        Waterfall::new()
            .step(|s, _| async move {
                s.prompt(Prompt::text("name?"));
                Ok(())
            })
            .step(|s, _| async move {
                s.end_dialog_with_message("done");
                Ok(())
            }),
    );
    let mut flow = TestFlow::new(bot);
    let key = format!("private/test/{}/user1", flow.address().conversation.id);
    flow.user_says("hi").await;
    flow.bot_says("name?").await;
    assert!(flow.bot().storage().read(&key).await.unwrap().is_some(), "the prompt's stack is stored");
    flow.user_says("Ana").await;
    flow.bot_says("done").await;
    assert_eq!(flow.bot().storage().read(&key).await.unwrap(), None);

    // Emptied and saved mid-turn (deleted), then changed again: the turn's own save writes it anew.
    let emptied = flow
        .bot()
        .load_session(&flow.address(), |s| async move {
            s.private_conversation_data().set("a", 1);
            s.save().await.unwrap();
            s.private_conversation_data().remove("a");
            s.save().await.unwrap();
            let gone = s.bot().storage().read(&format!("private/test/{}/user1", s.address().conversation.id)).await;
            s.private_conversation_data().set("b", 2);
            gone.unwrap().is_none()
        })
        .await
        .unwrap();
    assert!(emptied);
    let doc = flow.bot().storage().read(&key).await.unwrap().expect("written again after the delete");
    assert!(doc.json.contains("\"b\":2"), "{}", doc.json);
}
