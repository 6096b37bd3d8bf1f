//! Addresses and activities on the wire: v3 IAddress and v4 ConversationReference JSON, unknown
//! fields, and bad input.

use botwright::activity::ActivityType;
use botwright::address::AddressError;
use botwright::error::TurnError;
use botwright::testing::TestFlow;
use botwright::{Activity, Address, Bot, Waterfall};
use serde_json::{Value, json};

/// A Bot Builder v3 `IAddress` as `JSON.stringify(session.message.address)` writes it for Teams.
const V3_TEAMS: &str = r#"{
  "id": "1481567603816",
  "channelId": "msteams",
  "user": {"id": "29:1GcS4EyB_oSI8A88XmWBN7NJFyMqe3QGnJdgLfFGkJnVelzRGos0bPbpsfJjcbAD22bmKc4GMbrY2g4JDrqA8vM", "name": "Megan Bowen", "aadObjectId": "6c3ae8a5-1b5c-4a5d-8b1a-4e12b6a12d9f"},
  "conversation": {"conversationType": "personal", "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "id": "a:1L2G0Xj8Yg8sAJy3jYtQ6-9NdJj8yVxkqVQ2X"},
  "bot": {"id": "28:0a1b2c3d-aaaa-bbbb-cccc-0123456789ab", "name": "NotifyBot"},
  "serviceUrl": "https://smba.trafficmanager.net/emea/"
}"#;

/// A v3 address from the emulator (no `id`, no tenant).
const V3_EMULATOR: &str = r#"{"channelId":"emulator","user":{"id":"default-user","name":"User"},"conversation":{"id":"8a684db8-8c6c-4b07-9b1b-5e3f7a3e2c11|livechat"},"bot":{"id":"default-bot","name":"Bot"},"serviceUrl":"http://localhost:53484"}"#;

/// A v4 `ConversationReference` as `TurnContext.getConversationReference` writes it.
const V4_REFERENCE: &str = r#"{
  "activityId": "f0a2e1d0-0b6e-11ef-9a6e-5b8a1a7c5a31",
  "user": {"id": "dl_1699999999", "name": "", "role": "user"},
  "bot": {"id": "notify-bot@abc", "name": "notify-bot", "role": "bot"},
  "conversation": {"id": "KxLrR8sZ2rA3nB6t0Qm9Xy-us", "isGroup": false, "tenantId": "tenant-42"},
  "channelId": "webchat",
  "locale": "es-ES",
  "serviceUrl": "https://webchat.botframework.com/"
}"#;

#[test]
fn v3_address_round_trips_unchanged() {
    for sample in [V3_TEAMS, V3_EMULATOR] {
        let address: Address = serde_json::from_str(sample).unwrap();
        let written = serde_json::to_value(&address).unwrap();
        let mut original: Value = serde_json::from_str(sample).unwrap();
        // We add the tenant at the top level when the conversation has one; nothing else changes.
        if let Some(tenant) = original["conversation"].get("tenantId").cloned() {
            original["tenantId"] = tenant;
        }
        assert_eq!(written, original);
        let again: Address = serde_json::from_value(written).unwrap();
        assert_eq!(again, address);
    }
    let teams: Address = serde_json::from_str(V3_TEAMS).unwrap();
    assert_eq!(teams.tenant_id.as_deref(), Some("72f988bf-86f1-41af-91ab-2d7cd011db47"));
    assert_eq!(teams.user.aad_object_id.as_deref(), Some("6c3ae8a5-1b5c-4a5d-8b1a-4e12b6a12d9f"));
    assert_eq!(teams.id.as_deref(), Some("1481567603816"));
}

#[test]
fn v4_conversation_reference_reads_and_writes() {
    let address: Address = serde_json::from_str(V4_REFERENCE).unwrap();
    assert_eq!(address.id.as_deref(), Some("f0a2e1d0-0b6e-11ef-9a6e-5b8a1a7c5a31"));
    assert_eq!(address.locale.as_deref(), Some("es-ES"));
    assert_eq!(address.tenant_id.as_deref(), Some("tenant-42"));
    assert_eq!(address.conversation.is_group, Some(false));
    assert_eq!(address.user.role.as_deref(), Some("user"));
    let reference = address.to_conversation_reference();
    assert_eq!(reference, serde_json::from_str::<Value>(V4_REFERENCE).unwrap());
    // The v3 shape keeps the locale and the tenant that v3 lost.
    let v3 = serde_json::to_value(&address).unwrap();
    assert_eq!(v3["id"], "f0a2e1d0-0b6e-11ef-9a6e-5b8a1a7c5a31");
    assert_eq!(v3["locale"], "es-ES");
    assert_eq!(v3["tenantId"], "tenant-42");
}

#[test]
fn an_address_may_come_as_a_json_string() {
    let as_string = Value::String(V3_EMULATOR.to_owned());
    let address = Address::from_value(&as_string).unwrap();
    assert_eq!(address.channel_id, "emulator");
}

#[test]
fn invalid_addresses_are_typed_errors() {
    let cases = [
        (json!({"user": {"id": "u"}, "conversation": {"id": "c"}}), AddressError::MissingServiceUrl),
        (json!({"serviceUrl": 5, "user": {"id": "u"}, "conversation": {"id": "c"}}), AddressError::MissingServiceUrl),
        (json!({"serviceUrl": "http://x", "user": {"id": "u"}}), AddressError::MissingConversation),
        (json!({"serviceUrl": "http://x", "user": {"id": "u"}, "conversation": {}}), AddressError::MissingConversation),
        (json!({"serviceUrl": "http://x", "conversation": {"id": "c"}}), AddressError::MissingUser),
        (json!([1, 2]), AddressError::NotAnObject),
        (json!("not json"), AddressError::InvalidJson("expected ident at line 1 column 2".into())),
    ];
    for (value, expected) in cases {
        let got = Address::from_value(&value).unwrap_err();
        assert_eq!(std::mem::discriminant(&got), std::mem::discriminant(&expected), "{value}: {got}");
    }
    let malformed = json!({"serviceUrl": "http://x", "user": {"id": "u"}, "conversation": {"id": "c"}, "locale": 3});
    assert!(matches!(Address::from_value(&malformed), Err(AddressError::Malformed(_))));
}

#[test]
fn activities_keep_unknown_fields_and_types() {
    let json = json!({
        "type": "messageUpdate",
        "id": "a1",
        "channelId": "msteams",
        "from": {"id": "u1", "x-from": true},
        "conversation": {"id": "c1", "x-conv": [1, 2]},
        "channelData": {"tenant": {"id": "t1"}, "nested": {"deep": 1}},
        "futureField": {"anything": ["goes"]},
        "entities": [{"type": "mention", "text": "<at>bot</at>", "mentioned": {"id": "b1"}}],
        "suggestedActions": {"actions": [{"type": "imBack", "title": "Yes", "value": "yes", "x-action": 1}]}
    });
    let activity: Activity = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(activity.kind, ActivityType::Other("messageUpdate".into()));
    assert_eq!(serde_json::to_value(&activity).unwrap(), json);
}

#[test]
fn activity_types_are_read_case_insensitively_and_written_canonically() {
    let activity: Activity = serde_json::from_value(json!({"type": "ConversationUpdate"})).unwrap();
    assert_eq!(activity.kind, ActivityType::ConversationUpdate);
    assert_eq!(serde_json::to_value(&activity).unwrap()["type"], "conversationUpdate");
    for (wire, kind) in [
        ("message", ActivityType::Message),
        ("typing", ActivityType::Typing),
        ("event", ActivityType::Event),
        ("endOfConversation", ActivityType::EndOfConversation),
        ("invoke", ActivityType::Invoke),
    ] {
        let a: Activity = serde_json::from_value(json!({ "type": wire })).unwrap();
        assert_eq!(a.kind, kind);
    }
}

#[test]
fn wrongly_typed_fields_are_parse_errors_not_panics() {
    for bad in [
        json!({"type": 5}),
        json!({"type": "message", "text": 5}),
        json!({"type": "message", "from": "me"}),
        json!({"type": "message", "attachments": {}}),
    ] {
        assert!(serde_json::from_value::<Activity>(bad.clone()).is_err(), "{bad}");
    }
}

fn echo() -> botwright::bot::BotBuilder {
    Bot::builder().dialog(
        "/",
        Waterfall::new().step(|s, _| async move {
            s.end_dialog_with_message(format!("echo {}", s.message().text()));
            Ok(())
        }),
    )
}

#[tokio::test]
async fn messages_without_sender_or_conversation_are_typed_errors() {
    let mut flow = TestFlow::new(echo());
    let mut no_from = flow.message("hi");
    no_from.from = None;
    assert!(matches!(flow.bot().receive(no_from).await, Err(TurnError::InvalidActivity(AddressError::MissingUser))));
    let mut no_conversation = flow.message("hi");
    no_conversation.conversation = None;
    assert!(matches!(
        flow.bot().receive(no_conversation).await,
        Err(TurnError::InvalidActivity(AddressError::MissingConversation))
    ));
    let mut no_service_url = flow.message("hi");
    no_service_url.service_url = None;
    assert!(matches!(
        flow.bot().receive(no_service_url).await,
        Err(TurnError::InvalidActivity(AddressError::MissingServiceUrl))
    ));
    // The bot keeps working.
    flow.user_says("still there?").await;
    flow.bot_says("echo still there?").await;
}

#[tokio::test]
async fn other_activity_types_are_events_and_send_nothing() {
    let mut flow = TestFlow::new(echo());
    let mut events = flow.bot().events();
    for kind in ["conversationUpdate", "typing", "event", "endOfConversation", "someFutureType"] {
        let mut activity = flow.message("");
        activity.kind = ActivityType::from(kind);
        assert!(flow.bot().receive(activity).await.is_ok());
    }
    let mut seen = Vec::new();
    for _ in 0..5 {
        match events.recv().await.unwrap() {
            botwright::bot::BotEvent::ConversationUpdate(a) | botwright::bot::BotEvent::Activity(a) => {
                seen.push(a.kind.to_string())
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["conversationUpdate", "typing", "event", "endOfConversation", "someFutureType"]);
    flow.no_more_replies().await;
}

#[tokio::test]
async fn invoke_without_handler_gets_501_and_with_one_its_answer() {
    let mut flow = TestFlow::new(echo());
    let mut invoke = flow.message("");
    invoke.kind = ActivityType::Invoke;
    invoke.name = Some("composeExtension/query".into());
    let outcome = flow.bot().receive(invoke.clone()).await.unwrap();
    assert_eq!(outcome.into_invoke_response().unwrap().status, 501);

    let flow =
        TestFlow::new(echo().on_invoke(|s| async move {
            botwright::bot::InvokeResponse::ok(json!({"name": s.message().name.clone()}))
        }));
    let outcome = flow.bot().receive(invoke).await.unwrap();
    let response = outcome.into_invoke_response().unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, Some(json!({"name": "composeExtension/query"})));
}
