//! Transcript tests of waterfalls, actions (with the stack before and after), intent dialogs and
//! stack recovery.

use botwright::bot::BotBuilder;
use botwright::dialog::{Action, IntentDialog, Matcher, RegexRecognizer};
use botwright::storage::MemoryStore;
use botwright::testing::TestFlow;
use botwright::{Bot, Prompt, Waterfall};
use serde_json::json;
use std::sync::Arc;

async fn stack(flow: &TestFlow) -> Vec<String> {
    flow.bot().load_session(&flow.address(), |s| async move { s.dialog_stack() }).await.unwrap()
}

#[tokio::test]
async fn waterfall_passes_results_and_skips_ahead() {
    let bot = Bot::builder().dialog(
        "/",
        Waterfall::new()
            .step(|s, _| async move {
                if s.message().text() == "skip" {
                    s.next("skipped");
                } else {
                    s.prompt(Prompt::text("first?"));
                }
                Ok(())
            })
            .step(|s, r| async move {
                s.send(format!("step 2 got {}", r.text().unwrap_or_default()));
                s.next(json!({"n": 2}));
                Ok(())
            })
            .step(|s, r| async move {
                s.send(format!("step 3 got {}", r.response.unwrap_or_default()));
                Ok(())
            }),
    );
    let mut flow = TestFlow::new(bot);
    flow.user_says("skip").await;
    flow.bot_says("step 2 got skipped").await;
    flow.bot_says("step 3 got {\"n\":2}").await;
    // The last step did not end the dialog: it stays, and the next message restarts it.
    assert_eq!(stack(&flow).await, ["/"]);
    flow.user_says("go").await;
    flow.bot_says("first?").await;
    flow.user_says("answer").await;
    flow.bot_says("step 2 got answer").await;
    flow.bot_says("step 3 got {\"n\":2}").await;
}

#[tokio::test]
async fn a_waterfall_without_pending_prompt_restarts_on_a_message() {
    let bot = Bot::builder()
        .dialog(
            "/",
            Waterfall::new()
                .step(|s, _| async move {
                    s.begin_dialog("menu", json!(null));
                    Ok(())
                })
                .step(|s, _| async move {
                    s.end_dialog();
                    Ok(())
                }),
        )
        .dialog(
            "menu",
            Waterfall::new().step(|s, r| async move {
                // Stays on the stack without a prompt: each message restarts it.
                s.send(format!("menu: {}", r.text().unwrap_or("(begun)")));
                Ok(())
            }),
        );
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("menu: (begun)").await;
    flow.user_says("again").await;
    flow.bot_says("menu: again").await;
    assert_eq!(stack(&flow).await, ["/", "menu"]);
}

fn ordering_bot() -> BotBuilder {
    Bot::builder()
        .dialog(
            "/",
            Waterfall::new()
                .step(|s, _| async move {
                    s.begin_dialog("order", json!(null));
                    Ok(())
                })
                .step(|s, r| async move {
                    s.end_dialog_with_message(format!("order ended: {:?}", r.resumed));
                    Ok(())
                }),
        )
        .dialog(
            "order",
            Waterfall::new()
                .step(|s, _| async move {
                    s.prompt(Prompt::text("What would you like?"));
                    Ok(())
                })
                .step(|s, r| async move {
                    s.end_dialog_with_message(format!("ordered {}", r.text().unwrap_or_default()));
                    Ok(())
                }),
        )
        .dialog(
            "help",
            Waterfall::new().step(|s, _| async move {
                s.end_dialog_with_message("Help: say what you want.");
                Ok(())
            }),
        )
}

#[tokio::test]
async fn trigger_action_replaces_the_whole_stack() {
    let bot = ordering_bot().action(Action::trigger("help", Matcher::regex("^help$")));
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("What would you like?").await;
    assert_eq!(stack(&flow).await, ["/", "order", "botwright:prompt-text"]);
    flow.user_says("help").await;
    flow.bot_says("Help: say what you want.").await;
    assert!(stack(&flow).await.is_empty(), "the trigger dropped the order");
    flow.no_more_replies().await;
}

#[tokio::test]
async fn begin_dialog_action_interrupts_and_the_prompt_asks_again() {
    let bot = ordering_bot().action(Action::begin_dialog("help", Matcher::regex("^help$")));
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("What would you like?").await;
    flow.user_says("HELP").await;
    flow.bot_says("Help: say what you want.").await;
    flow.bot_says("What would you like?").await;
    assert_eq!(stack(&flow).await, ["/", "order", "botwright:prompt-text"]);
    flow.user_says("tea").await;
    flow.bot_says("ordered tea").await;
    flow.bot_says("order ended: Completed").await;
}

#[tokio::test]
async fn a_partial_match_loses_to_the_text_prompt() {
    // "help" in a long answer scores 0.4 + 0.6 × 4/27 < 0.5, the text prompt's score.
    let bot = ordering_bot().action(Action::begin_dialog("help", Matcher::regex("help")));
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("What would you like?").await;
    flow.user_says("a helpful cup of green tea").await;
    flow.bot_says("ordered a helpful cup of green tea").await;
}

#[tokio::test]
async fn scoped_cancel_action_cancels_its_dialog_and_what_is_above() {
    let bot =
        ordering_bot().action(Action::cancel(Matcher::regex("^cancel")).scoped_to("order").message("Order canceled."));
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("What would you like?").await;
    assert_eq!(stack(&flow).await, ["/", "order", "botwright:prompt-text"]);
    flow.user_says("cancel").await;
    flow.bot_says("Order canceled.").await;
    flow.bot_says("order ended: Canceled").await;
    assert!(stack(&flow).await.is_empty());
}

#[tokio::test]
async fn a_scoped_action_is_inactive_when_its_dialog_is_not_on_the_stack() {
    let bot = Bot::builder()
        .dialog(
            "/",
            Waterfall::new()
                .step(|s, _| async move {
                    s.prompt(Prompt::text("root asks"));
                    Ok(())
                })
                .step(|s, r| async move {
                    s.end_dialog_with_message(format!("root got {}", r.text().unwrap_or_default()));
                    Ok(())
                }),
        )
        .action(Action::cancel(Matcher::regex("^cancel$")).scoped_to("order").message("canceled"));
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("root asks").await;
    flow.user_says("cancel").await;
    flow.bot_says("root got cancel").await;
}

#[tokio::test]
async fn end_conversation_action_clears_everything_but_user_data() {
    let bot = ordering_bot().action(Action::end_conversation(Matcher::regex("^goodbye$")).message("Bye!"));
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("What would you like?").await;
    flow.user_says("goodbye").await;
    flow.bot_says("Bye!").await;
    let end = flow.next_reply().await;
    assert_eq!(end.kind, botwright::activity::ActivityType::EndOfConversation);
    assert!(stack(&flow).await.is_empty());
}

#[tokio::test]
async fn custom_matcher_decides_by_any_field() {
    let bot = ordering_bot().action(Action::trigger(
        "help",
        Matcher::custom(
            |a| if a.value.as_ref().and_then(|v| v.get("action")) == Some(&json!("help")) { 1.0 } else { 0.0 },
        ),
    ));
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("What would you like?").await;
    let mut button = flow.message("");
    button.value = Some(json!({"action": "help"}));
    flow.user_sends(button).await.unwrap();
    flow.bot_says("Help: say what you want.").await;
}

#[tokio::test]
async fn a_stack_naming_a_missing_dialog_is_reset_not_a_crash() {
    let store = Arc::new(MemoryStore::new());
    let mut old = TestFlow::new(ordering_bot().store(store.clone()));
    old.user_says("hi").await;
    old.bot_says("What would you like?").await;
    assert_eq!(stack(&old).await, ["/", "order", "botwright:prompt-text"]);

    // A new version of the bot no longer has the "order" dialog.
    let new_version = Bot::builder().store(store).dialog(
        "/",
        Waterfall::new().step(|s, _| async move {
            s.end_dialog_with_message("Welcome to version 2");
            Ok(())
        }),
    );
    let mut flow = TestFlow::new(new_version);
    flow.user_says("tea").await;
    flow.bot_says("Welcome to version 2").await;
    assert!(stack(&flow).await.is_empty());
}

#[tokio::test]
async fn beginning_an_unknown_dialog_is_an_error_for_the_user_not_a_crash() {
    let bot = Bot::builder().dialog(
        "/",
        Waterfall::new().step(|s, _| async move {
            s.begin_dialog("does-not-exist", json!(null));
            Ok(())
        }),
    );
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("Oops. Something went wrong and we need to start over.").await;
}

#[tokio::test]
async fn intent_dialog_routes_by_intent() {
    let intents = IntentDialog::new()
        .recognizer(RegexRecognizer::new("greet", r"^(hi|hello)\b"))
        .recognizer(RegexRecognizer::new("order", r"\border\b"))
        .matches(
            "greet",
            Waterfall::new().step(|s, args| async move {
                let score = args.response.as_ref().and_then(|r| r["score"].as_f64()).unwrap_or_default();
                s.end_dialog_with_message(format!("Hi there! ({score:.1})"));
                Ok(())
            }),
        )
        .matches_dialog("order", "order")
        .on_default(Waterfall::new().step(|s, _| async move {
            s.end_dialog_with_message("I can greet or take an order.");
            Ok(())
        }));
    let bot = ordering_bot().dialog("/", intents);
    let mut flow = TestFlow::new(bot);
    flow.user_says("hello").await;
    flow.bot_says("Hi there! (1.0)").await;
    assert_eq!(stack(&flow).await, ["/"]);
    flow.user_says("what's the weather").await;
    flow.bot_says("I can greet or take an order.").await;
    flow.user_says("I want to order").await;
    flow.bot_says("What would you like?").await;
    flow.user_says("coffee").await;
    flow.bot_says("ordered coffee").await;
    assert_eq!(stack(&flow).await, ["/"]);
}
