//! Outbound authentication: the bot's token is fetched once for many sends, refreshed on a 401,
//! and sent only to trusted service URL hosts, which survive a restart through the store.

mod common;

use botwright::activity::{ChannelAccount, ConversationAccount};
use botwright::channel::{Channel, DeliveryError};
use botwright::storage::MemoryStore;
use botwright::{Activity, Address, Storage};
use botwright_botframework::BotFramework;
use common::*;
use std::sync::Arc;

fn address(service_url: &str, conversation: &str) -> Address {
    Address::new(
        "msteams",
        service_url,
        ChannelAccount::new("u1"),
        ChannelAccount::new("b1"),
        ConversationAccount::new(conversation),
    )
}

async fn deliver(bf: &BotFramework, to: &Address) -> Result<Option<String>, DeliveryError> {
    let mut activity = Activity::message("hello");
    to.apply_to(&mut activity);
    bf.channel().deliver(to, &activity).await.map(|d| d.activity_id)
}

fn trusting(identity: &IdentityService, connector: &Connector) -> BotFramework {
    // A bare host would mean https: the stand-in speaks http on 127.0.0.1, so its URL is given.
    let config = identity.config().trusted_service_url(connector.service_url());
    BotFramework::from_config(config).unwrap()
}

#[tokio::test]
async fn one_token_request_for_a_hundred_concurrent_sends() {
    let identity = IdentityService::start(vec![], vec![]).await;
    let connector = Connector::start().await;
    let bf = trusting(&identity, &connector);
    let sends = (0..100).map(|i| {
        let bf = bf.clone();
        let to = address(&connector.service_url(), &format!("conversation-{i}"));
        tokio::spawn(async move { deliver(&bf, &to).await })
    });
    for result in futures::future::join_all(sends).await {
        assert!(result.unwrap().unwrap().is_some());
    }
    assert_eq!(identity.token_requests(), 1);
    let requests = connector.requests();
    assert_eq!(requests.len(), 100);
    assert!(requests.iter().all(|r| r.authorization.as_deref() == Some("Bearer token-1")));
    let form = identity.state.token_forms.lock().unwrap()[0].clone();
    assert!(form.contains("grant_type=client_credentials"), "{form}");
    assert!(form.contains(&format!("client_id={APP_ID}")), "{form}");
    assert!(form.contains("scope=https%3A%2F%2Fapi.botframework.com%2F.default"), "{form}");
}

#[tokio::test]
async fn the_token_is_never_sent_to_an_untrusted_host() {
    let identity = IdentityService::start(vec![], vec![]).await;
    let trusted = Connector::start().await;
    let untrusted = Connector::start().await;
    let bf = trusting(&identity, &trusted);
    let error = deliver(&bf, &address(&untrusted.service_url(), "ok")).await.unwrap_err();
    let DeliveryError::InvalidAddress(reason) = &error else { panic!("{error:?}") };
    assert!(reason.contains(&format!("service URL origin http://{} is not trusted", untrusted.addr)), "{reason}");
    assert!(untrusted.requests().is_empty(), "nothing, least of all the token, may reach an untrusted host");
    assert_eq!(identity.token_requests(), 0);
    // The trusted one gets it.
    deliver(&bf, &address(&trusted.service_url(), "ok")).await.unwrap();
    assert_eq!(trusted.requests()[0].authorization.as_deref(), Some("Bearer token-1"));
}

#[tokio::test]
async fn without_credentials_no_token_and_no_trust_check() {
    let anywhere = Connector::start().await;
    let bf = BotFramework::from_config(Default::default()).unwrap();
    deliver(&bf, &address(&anywhere.service_url(), "ok")).await.unwrap();
    assert_eq!(anywhere.requests()[0].authorization, None);
}

#[tokio::test]
async fn hosts_seen_in_authenticated_activities_stay_trusted_after_a_restart() {
    let key1 = TestKey::load("key1");
    let identity = IdentityService::start(vec![key1.jwk(Some(&["msteams"]))], vec![]).await;
    let connector = Connector::start().await;
    let service_url = connector.service_url();
    let storage = Arc::new(MemoryStore::new());

    // First life: the channel posts an authenticated activity with its service URL.
    let bot = BotServer::start_with(identity.config(), storage.clone()).await;
    let token = key1.sign(&channel_claims(&service_url));
    let (status, body) = bot.post(&message("hi", "msteams", &service_url), Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 202, "{body}");
    drop(bot);
    // An http origin is recorded as such, never as a bare host (which reads as https).
    assert!(storage.scan("trusted-host/").await.unwrap().is_empty());
    let recorded = storage.scan("trusted-origin/").await.unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].0, format!("trusted-origin/http://{}", connector.addr));

    // Second life over the same store: a proactive send still carries the token.
    let restarted =
        BotFramework::from_config(identity.config()).map(|bf| bf.store(storage.clone() as Arc<dyn Storage>)).unwrap();
    let id = deliver(&restarted, &address(&service_url, "ok")).await.unwrap();
    assert!(id.is_some());
    assert_eq!(connector.requests()[0].authorization.as_deref(), Some("Bearer token-1"));

    // A store that never saw the host does not trust it.
    let amnesiac = BotFramework::from_config(identity.config()).unwrap();
    let error = deliver(&amnesiac, &address(&service_url, "ok")).await.unwrap_err();
    assert!(matches!(error, DeliveryError::InvalidAddress(_)), "{error:?}");
    assert_eq!(connector.requests().len(), 1);
}

/// The bot gives the channel its store ([`Channel::attach`]): a `BotFramework` built without one
/// keeps the origins it learns in the bot's store, so they are trusted after a restart.
#[tokio::test]
async fn the_bot_gives_the_channel_its_store_once() {
    let key1 = TestKey::load("key1");
    let identity = IdentityService::start(vec![key1.jwk(Some(&["msteams"]))], vec![]).await;
    let connector = Connector::start().await;
    let service_url = connector.service_url();
    let storage = Arc::new(MemoryStore::new());

    // First life: the store goes to the bot only.
    let bf = BotFramework::from_config(identity.config()).unwrap();
    let bot = botwright::Bot::builder().store(storage.clone()).default_channel(bf.channel()).build();
    let addr = serve(bf.router(bot)).await;
    let token = key1.sign(&channel_claims(&service_url));
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api/messages"))
        .header("authorization", format!("Bearer {token}"))
        .json(&message("hi", "msteams", &service_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let recorded = storage.scan("trusted-origin/").await.unwrap();
    assert_eq!(recorded.len(), 1, "the origin went to the bot's store");

    // Second life over the same store: a proactive send carries the token.
    let bf = BotFramework::from_config(identity.config()).unwrap();
    let bot = botwright::Bot::builder().store(storage.clone()).default_channel(bf.channel()).build();
    let receipt = bot.send(botwright::Message::new().address(address(&service_url, "ok")).text("later")).await.unwrap();
    assert!(receipt.activity_id.is_some());
    let carried = connector.requests().into_iter().filter(|r| r.authorization.is_some()).count();
    assert!(carried >= 1, "{:?}", connector.requests());
}

#[tokio::test]
async fn a_401_fetches_a_new_token_and_retries_once() {
    let identity = IdentityService::start(vec![], vec![]).await;
    let connector = Connector::start().await;
    let bf = trusting(&identity, &connector);
    let id = deliver(&bf, &address(&connector.service_url(), "first-401")).await.unwrap();
    assert!(id.is_some());
    let tokens: Vec<Option<String>> = connector.requests().into_iter().map(|r| r.authorization).collect();
    assert_eq!(tokens, vec![Some("Bearer token-1".to_owned()), Some("Bearer token-2".to_owned())]);
    assert_eq!(identity.token_requests(), 2);
}

#[tokio::test]
async fn a_second_401_is_rejected() {
    let identity = IdentityService::start(vec![], vec![]).await;
    let connector = Connector::start().await;
    let bf = trusting(&identity, &connector);
    let error = deliver(&bf, &address(&connector.service_url(), "unauthorized")).await.unwrap_err();
    assert!(matches!(&error, DeliveryError::Rejected { status: 401, body } if body.contains("Unauthorized")));
    assert_eq!(connector.requests().len(), 2);
    assert_eq!(identity.token_requests(), 2);
}

#[tokio::test]
async fn refused_credentials_are_rejected_before_anything_is_sent() {
    let identity = IdentityService::start(vec![], vec![]).await;
    let connector = Connector::start().await;
    let config = identity.config().app_password("wrong").trusted_service_url(connector.service_url());
    let bf = BotFramework::from_config(config).unwrap();
    let error = deliver(&bf, &address(&connector.service_url(), "ok")).await.unwrap_err();
    // What failed is said; the token service's own answer is logged, never passed on (delivery
    // errors reach API answers such as /api/notify's).
    assert!(
        matches!(&error, DeliveryError::Rejected { status: 401, body }
            if body.contains("the token service refused the bot's credentials") && !body.contains("invalid_client")),
        "{error:?}"
    );
    assert!(connector.requests().is_empty());
}
