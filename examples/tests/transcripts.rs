//! The examples' dialogs and web hooks, as transcripts: "user says X, bot says Y".
//!
//! Each example file is compiled into this test as a module, so these are the examples' own
//! dialogs and hooks (their HTTP wiring is the same in every example, and runs against a real
//! peer in `offline_directline.rs`).

#[path = "../echo.rs"]
#[allow(dead_code, unreachable_pub)]
mod echo;

#[path = "../waterfall.rs"]
#[allow(dead_code, unreachable_pub)]
mod waterfall;

#[path = "../console.rs"]
#[allow(dead_code, unreachable_pub)]
mod console;

#[path = "../localized.rs"]
#[allow(dead_code, unreachable_pub)]
mod localized;

#[path = "../fan_out.rs"]
#[allow(dead_code, unreachable_pub)]
mod fan_out;

#[path = "../proactive_webhook.rs"]
#[allow(dead_code, unreachable_pub)]
mod proactive_webhook;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use botwright::Bot;
use botwright::channel::DeliveryError;
use botwright::testing::TestFlow;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// A web hook's answer: status and JSON body.
async fn answer(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn body(value: Value) -> Bytes {
    Bytes::from(value.to_string())
}

#[tokio::test]
async fn echo_says_back_what_it_was_told() {
    let mut flow = TestFlow::new(Bot::builder().dialog("/", echo::echo()));
    flow.user_says("hello there").await;
    flow.bot_says("You said: hello there").await;
    flow.user_says("again").await;
    flow.bot_says("You said: again").await;
    flow.no_more_replies().await;
}

#[tokio::test]
async fn waterfall_asks_a_name_then_a_whole_number_in_range() {
    let mut flow = TestFlow::new(Bot::builder().dialog("/", waterfall::coffee_survey()));
    flow.user_says("hi").await;
    flow.bot_says("Hi! What is your name?").await;
    flow.user_says("Ana").await;
    flow.bot_says("How many cups of coffee did you have today, Ana?").await;
    flow.user_says("lots").await;
    flow.bot_says("I didn't recognize that as a number. Please enter a number.").await;
    flow.user_says("2.5").await;
    flow.bot_says("The number you entered was not an integer. Please enter a whole number.").await;
    flow.user_says("40").await;
    flow.bot_says("The number you entered was outside the allowed range of 0 to 30. Please enter a valid number.")
        .await;
    flow.user_says("three").await;
    flow.bot_says("3 cups, Ana? Noted.").await;
    // The dialog ended: the next message begins it again.
    flow.user_says("hi").await;
    flow.bot_says("Hi! What is your name?").await;
    flow.no_more_replies().await;
}

#[tokio::test]
async fn console_greeter_remembers_a_name_only_when_allowed() {
    let mut flow = TestFlow::new(Bot::builder().dialog("/", console::greeter()));
    flow.user_says("hi").await;
    flow.bot_says("Hi! What is your name?").await;
    flow.user_says("Ana").await;
    flow.bot_says_with_actions("Nice to meet you, Ana. Shall I remember your name?", &["Yes", "No"]).await;
    flow.user_says("no").await;
    flow.bot_says("Done. Say anything to start again (end of input, Ctrl-D, quits).").await;
    flow.user_says("hi").await;
    flow.bot_says("Hi! What is your name?").await;
    flow.user_says("Ana").await;
    flow.bot_says_with_actions("Nice to meet you, Ana. Shall I remember your name?", &["Yes", "No"]).await;
    flow.user_says("yes").await;
    flow.bot_says("Done. Say anything to start again (end of input, Ctrl-D, quits).").await;
    flow.user_says("hi").await;
    flow.bot_says("Welcome back, Ana!").await;
    flow.no_more_replies().await;
}

#[tokio::test]
async fn localized_replies_and_proactive_messages_speak_the_chosen_language() {
    let localizer = localized::localizer().unwrap();
    let mut flow = TestFlow::new(Bot::builder().localizer(localizer).dialog("/", localized::language_menu()));
    let channel_id = flow.address().channel_id;

    flow.user_says("hi").await;
    flow.bot_says("Hello! Say \"language es\" or \"language en\" to choose how I speak.").await;
    flow.user_says("Language ES").await;
    flow.bot_says("A partir de ahora hablo español.").await;
    flow.user_says("hi").await;
    flow.bot_says("¡Hola! Di \"language es\" o \"language en\" para elegir el idioma.").await;

    // A proactive message has no incoming activity: the stored preference decides its language.
    let bot = flow.bot().clone();
    let request = json!({ "channelId": channel_id, "userId": "user1", "orderId": "A-17" });
    let (status, reply) = answer(localized::shipped(State(bot.clone()), body(request)).await).await;
    assert_eq!(status, 200, "{reply}");
    flow.bot_says("Tu pedido A-17 ha sido enviado.").await;

    // Another user, who chose nothing, gets the default language, through the Fluent catalog.
    flow.as_user("user2").user_says("hello").await;
    flow.bot_says("Hello! Say \"language es\" or \"language en\" to choose how I speak.").await;
    let request = json!({ "channelId": channel_id, "userId": "user2", "orderId": "B-2" });
    let (status, _) = answer(localized::shipped(State(bot.clone()), body(request)).await).await;
    assert_eq!(status, 200);
    flow.bot_says("Your order B-2 has shipped.").await;

    // A user the bot never heard from, and bodies that cannot be used.
    let request = json!({ "channelId": channel_id, "userId": "nobody", "orderId": "C-3" });
    let (status, reply) = answer(localized::shipped(State(bot.clone()), body(request)).await).await;
    assert_eq!(status, 404);
    assert!(reply["error"].as_str().unwrap().contains("nobody"), "{reply}");
    let (status, _) = answer(localized::shipped(State(bot.clone()), Bytes::from_static(b"{")).await).await;
    assert_eq!(status, 400);
    let (status, reply) =
        answer(localized::shipped(State(bot.clone()), body(json!({ "userId": "user1" }))).await).await;
    assert_eq!(status, 400);
    assert!(reply["error"].as_str().unwrap().contains("orderId"), "{reply}");
    flow.no_more_replies().await;
}

#[tokio::test]
async fn fan_out_reaches_everyone_reports_failures_and_skips_stale_addresses() {
    let mut flow = TestFlow::new(Bot::builder().dialog("/", fan_out::on_the_list()));
    let joined = "You are on the list: announcements will reach you here.";
    for (user, conversation) in [("ana", "c1"), ("ben", "c2"), ("cy", "c3")] {
        flow.as_user(user).in_conversation(conversation).user_says("hi").await;
        flow.bot_says(joined).await;
    }
    let bot = flow.bot().clone();

    // Everyone gets it; the sends run concurrently, so in any order.
    let (status, reply) =
        answer(fan_out::broadcast(State(bot.clone()), body(json!({ "text": "Closed tomorrow." }))).await).await;
    assert_eq!((status, reply), (200, json!({ "sent": 3, "skippedStale": 0, "failed": [] })));
    let mut reached = BTreeSet::new();
    for _ in 0..3 {
        let (address, activity) = flow.next_reply_with_address().await;
        assert_eq!(activity.text(), "Closed tomorrow.");
        reached.insert(address.user.id);
    }
    assert_eq!(reached, BTreeSet::from(["ana".to_owned(), "ben".to_owned(), "cy".to_owned()]));

    // Ben's conversation is gone (404: stale), Cy's channel refuses the message (400).
    flow.channel().fail_next("c2", [DeliveryError::Stale { status: 404, body: "gone".into() }]);
    flow.channel().fail_next("c3", [DeliveryError::Rejected { status: 400, body: "bad".into() }]);
    let (status, reply) =
        answer(fan_out::broadcast(State(bot.clone()), body(json!({ "text": "Open again." }))).await).await;
    assert_eq!(status, 200);
    assert_eq!((reply["sent"].clone(), reply["skippedStale"].clone()), (json!(1), json!(0)), "{reply}");
    let failed: BTreeSet<&str> =
        reply["failed"].as_array().unwrap().iter().map(|f| f["userId"].as_str().unwrap()).collect();
    assert_eq!(failed, BTreeSet::from(["ben", "cy"]), "{reply}");
    let (address, activity) = flow.next_reply_with_address().await;
    assert_eq!((address.user.id.as_str(), activity.text()), ("ana", "Open again."));

    // Ben is skipped until he writes again.
    let (status, reply) = answer(fan_out::broadcast(State(bot.clone()), body(json!({ "text": "Third." }))).await).await;
    assert_eq!(status, 200);
    assert_eq!((reply["sent"].clone(), reply["skippedStale"].clone()), (json!(2), json!(1)), "{reply}");
    let mut reached = BTreeSet::new();
    for _ in 0..2 {
        reached.insert(flow.next_reply_with_address().await.0.user.id);
    }
    assert_eq!(reached, BTreeSet::from(["ana".to_owned(), "cy".to_owned()]));

    let (status, _) = answer(fan_out::broadcast(State(bot.clone()), body(json!({ "txt": "typo" }))).await).await;
    assert_eq!(status, 400);
    flow.no_more_replies().await;
}

#[tokio::test]
async fn proactive_webhook_saves_the_address_and_notify_reports_each_outcome() {
    let mut flow = TestFlow::new(Bot::builder().dialog("/", proactive_webhook::subscribe()));
    flow.user_says("hi").await;
    flow.bot_says("Hello! I send alerts when something happens.").await;
    flow.bot_says("What is your name?").await;
    flow.user_says(" Ana ").await;
    flow.bot_says_with_actions("Which alerts would you like, Ana?", &proactive_webhook::TOPICS).await;
    // A choice can be picked by its number, too.
    flow.user_says("2").await;
    flow.bot_says("Thanks, Ana! You will get weather alerts here.").await;
    // Subscribing again replaces the subscription.
    flow.user_says("hi").await;
    flow.bot_says("Hello! I send alerts when something happens.").await;
    flow.bot_says("What is your name?").await;
    flow.user_says("Ana").await;
    flow.bot_says_with_actions("Which alerts would you like, Ana?", &proactive_webhook::TOPICS).await;
    flow.user_says("Sports").await;
    flow.bot_says("Thanks, Ana! You will get sports alerts here.").await;

    let bot = flow.bot().clone();
    let (status, listed) = answer(proactive_webhook::list_subscriptions(State(bot.clone())).await).await;
    assert_eq!(status, 200);
    let listed = listed.as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0]["userId"].as_str(), listed[0]["topic"].as_str()), (Some("user1"), Some("sports")));
    let address = listed[0]["address"].clone();
    assert_eq!(address, serde_json::to_value(flow.address()).unwrap(), "the address of the conversation, no reply id");

    // Delivered: 200 with the channel's activity id, and the user reads it.
    let notify = |request: Value| proactive_webhook::notify(State(bot.clone()), body(request));
    let (status, reply) = answer(notify(json!({ "address": address, "text": "Storm tonight" })).await).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply["id"].is_string(), "{reply}");
    flow.bot_says("Storm tonight").await;

    // Refused by the channel: 500 with the reason; nothing arrives.
    flow.channel().fail_next("conversation1", [DeliveryError::Rejected { status: 400, body: "no".into() }]);
    let (status, reply) = answer(notify(json!({ "address": address, "text": "lost" })).await).await;
    assert_eq!(status, 500);
    assert!(reply["error"].as_str().unwrap().contains("400"), "{reply}");

    // Bad requests: 400, saying what is wrong.
    let (status, reply) = answer(notify(json!({ "text": "x" })).await).await;
    assert_eq!((status, reply["error"].as_str()), (400, Some("the body has no `address`")));
    let (status, reply) = answer(notify(json!({ "address": { "user": { "id": "u" } }, "text": "x" })).await).await;
    assert_eq!(status, 400);
    assert!(reply["error"].as_str().unwrap().contains("serviceUrl"), "{reply}");
    let (status, _) = answer(notify(json!({ "address": address })).await).await;
    assert_eq!(status, 400);
    let (status, _) =
        answer(proactive_webhook::notify(State(bot.clone()), Bytes::from_static(b"not json")).await).await;
    assert_eq!(status, 400);
    flow.no_more_replies().await;
}
