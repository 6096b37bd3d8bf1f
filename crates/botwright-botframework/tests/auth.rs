//! Inbound authentication over real HTTP: a channel posts to the bot's endpoint with real JWTs
//! signed by the identity service stand-in's RSA keys.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use botwright_botframework::auth::EMULATOR_ISSUERS;
use common::*;
use serde_json::{Value, json};
use std::time::Duration;

const SERVICE_URL: &str = "https://smba.example/emea/";

struct Setup {
    identity: IdentityService,
    bot: BotServer,
    key1: TestKey,
}

/// key1 (endorsed for msteams and webchat) and key2 (endorsed for skype only) at the channel
/// service; key3 unpublished; key1 also at the emulator's authority.
async fn setup_with(cooldown: Option<Duration>) -> Setup {
    let key1 = TestKey::load("key1");
    let key2 = TestKey::load("key2");
    let identity = IdentityService::start(
        vec![key1.jwk(Some(&["msteams", "webchat"])), key2.jwk(Some(&["skype"]))],
        vec![key1.jwk(None)],
    )
    .await;
    let mut config = identity.config();
    if let Some(cooldown) = cooldown {
        config = config.key_refresh_cooldown(cooldown);
    }
    let bot = BotServer::start(config).await;
    Setup { identity, bot, key1 }
}

async fn setup() -> Setup {
    setup_with(None).await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn assert_refused(setup: &Setup, token: &str, status: u16, says: &str) {
    let (got, body) = setup.bot.post(&message("hi", "msteams", SERVICE_URL), Some(&bearer(token))).await;
    assert_eq!(got, status, "body: {body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(says), "{message:?} should mention {says:?}");
    assert!(setup.bot.recorder.texts().is_empty(), "a refused activity reached the bot");
}

#[tokio::test]
async fn a_valid_channel_token_is_accepted_and_its_host_trusted() {
    let setup = setup().await;
    let trusted = setup.bot.bf.trusted_hosts();
    assert!(!trusted.is_trusted("https://smba.example").await.unwrap());
    let token = setup.key1.sign(&channel_claims(SERVICE_URL));
    let (status, _) = setup.bot.post(&message("hello", "msteams", SERVICE_URL), Some(&bearer(&token))).await;
    assert_eq!(status, 202);
    assert_eq!(setup.bot.recorder.texts(), vec!["hello"]);
    assert!(trusted.is_trusted("https://smba.example").await.unwrap());
    // The keys were fetched once and are reused.
    let (status, _) = setup.bot.post(&message("again", "webchat", SERVICE_URL), Some(&bearer(&token))).await;
    assert_eq!(status, 202);
    assert_eq!(setup.identity.jwks_requests(), 1);
}

#[tokio::test]
async fn no_authorization_header_is_401() {
    let setup = setup().await;
    let (status, body) = setup.bot.post(&message("hi", "msteams", SERVICE_URL), None).await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"].as_str().unwrap().contains("no Authorization header"));
    assert!(setup.bot.recorder.texts().is_empty());
}

#[tokio::test]
async fn a_malformed_authorization_header_is_401() {
    let setup = setup().await;
    for value in ["Basic dXNlcjpwdw==", "Bearer", "Bearer a b", "token-without-scheme"] {
        let (status, body) = setup.bot.post(&message("hi", "msteams", SERVICE_URL), Some(value)).await;
        assert_eq!(status, 401, "{value:?}: {body}");
        assert_eq!(body["error"]["code"], "Unauthorized");
    }
    assert!(setup.bot.recorder.texts().is_empty());
}

#[tokio::test]
async fn a_token_that_is_not_a_jwt_is_403() {
    let setup = setup().await;
    assert_refused(&setup, "not.a-jwt", 403, "unreadable").await;
}

#[tokio::test]
async fn alg_none_is_403() {
    let setup = setup().await;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"key1"}"#);
    let claims = URL_SAFE_NO_PAD.encode(channel_claims(SERVICE_URL).to_string());
    assert_refused(&setup, &format!("{header}.{claims}."), 403, "header is unreadable").await;
}

#[tokio::test]
async fn hmac_signed_with_the_public_key_is_403() {
    let setup = setup().await;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("key1".into());
    let secret = jsonwebtoken::EncodingKey::from_secret(setup.key1.n.as_bytes());
    let token = jsonwebtoken::encode(&header, &channel_claims(SERVICE_URL), &secret).unwrap();
    assert_refused(&setup, &token, 403, "not allowed").await;
}

#[tokio::test]
async fn a_bad_signature_is_403() {
    let setup = setup().await;
    // Signed with the unpublished key3 but claiming to be key1.
    let token = TestKey::load("key3").sign_as(&channel_claims(SERVICE_URL), "key1");
    assert_refused(&setup, &token, 403, "signature").await;
    // A valid token with its payload swapped.
    let good = setup.key1.sign(&channel_claims(SERVICE_URL));
    let parts: Vec<&str> = good.split('.').collect();
    let mut claims = channel_claims(SERVICE_URL);
    claims["aud"] = json!("someone-else-but-signed-for-us");
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
    assert_refused(&setup, &forged, 403, "signature").await;
}

#[tokio::test]
async fn an_expired_token_is_403() {
    let setup = setup().await;
    let mut claims = channel_claims(SERVICE_URL);
    claims["exp"] = json!(now() - 600);
    claims["nbf"] = json!(now() - 7200);
    assert_refused(&setup, &setup.key1.sign(&claims), 403, "expired").await;
}

#[tokio::test]
async fn clock_skew_of_a_minute_is_tolerated() {
    let setup = setup().await;
    let mut claims = channel_claims(SERVICE_URL);
    claims["exp"] = json!(now() - 60);
    claims["nbf"] = json!(now() + 60);
    let (status, body) =
        setup.bot.post(&message("hi", "msteams", SERVICE_URL), Some(&bearer(&setup.key1.sign(&claims)))).await;
    assert_eq!(status, 202, "{body}");
}

#[tokio::test]
async fn a_token_not_yet_valid_is_403() {
    let setup = setup().await;
    let mut claims = channel_claims(SERVICE_URL);
    claims["nbf"] = json!(now() + 600);
    assert_refused(&setup, &setup.key1.sign(&claims), 403, "not valid yet").await;
}

#[tokio::test]
async fn a_wrong_issuer_is_403() {
    let setup = setup().await;
    let mut claims = channel_claims(SERVICE_URL);
    claims["iss"] = json!("https://issuer.evil.example");
    assert_refused(&setup, &setup.key1.sign(&claims), 403, "issuer").await;
}

#[tokio::test]
async fn a_wrong_audience_is_403() {
    let setup = setup().await;
    let mut claims = channel_claims(SERVICE_URL);
    claims["aud"] = json!("another-bot");
    assert_refused(&setup, &setup.key1.sign(&claims), 403, "audience").await;
    let mut claims = channel_claims(SERVICE_URL);
    claims.as_object_mut().unwrap().remove("aud");
    assert_refused(&setup, &setup.key1.sign(&claims), 403, "aud").await;
}

#[tokio::test]
async fn a_key_not_endorsed_for_the_channel_is_403() {
    let setup = setup().await;
    // key2 is endorsed for skype only.
    let token = TestKey::load("key2").sign(&channel_claims(SERVICE_URL));
    assert_refused(&setup, &token, 403, "endorsed").await;
    let (status, _) = setup.bot.post(&message("from skype", "skype", SERVICE_URL), Some(&bearer(&token))).await;
    assert_eq!(status, 202);
}

#[tokio::test]
async fn a_serviceurl_claim_mismatch_is_403() {
    let setup = setup().await;
    let token = setup.key1.sign(&channel_claims("https://attacker.example/"));
    assert_refused(&setup, &token, 403, "service URL").await;
    assert!(!setup.bot.bf.trusted_hosts().is_trusted("https://smba.example").await.unwrap());
    assert!(!setup.bot.bf.trusted_hosts().is_trusted("https://attacker.example").await.unwrap());
}

#[tokio::test]
async fn an_unknown_kid_is_403_then_accepted_after_key_rotation() {
    let setup = setup_with(Some(Duration::ZERO)).await;
    let key3 = TestKey::load("key3");
    let token = key3.sign(&channel_claims(SERVICE_URL));
    assert_refused(&setup, &token, 403, "key3").await;
    let before = setup.identity.jwks_requests();
    // The identity service rotates key3 in.
    setup.identity.set_channel_keys(vec![setup.key1.jwk(Some(&["msteams"])), key3.jwk(Some(&["msteams"]))]);
    let (status, body) =
        setup.bot.post(&message("after rotation", "msteams", SERVICE_URL), Some(&bearer(&token))).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(setup.bot.recorder.texts(), vec!["after rotation"]);
    assert_eq!(setup.identity.jwks_requests(), before + 1);
}

#[tokio::test]
async fn unknown_kids_cannot_force_a_refetch_storm() {
    // The default cool-down: one minute.
    let setup = setup().await;
    let good = setup.key1.sign(&channel_claims(SERVICE_URL));
    let (status, _) = setup.bot.post(&message("hi", "msteams", SERVICE_URL), Some(&bearer(&good))).await;
    assert_eq!(status, 202);
    assert_eq!(setup.identity.jwks_requests(), 1);
    let key3 = TestKey::load("key3");
    let mut tasks = Vec::new();
    for i in 0..20 {
        let token = key3.sign_as(&channel_claims(SERVICE_URL), &format!("forged-{i}"));
        let url = setup.bot.url.clone();
        tasks.push(tokio::spawn(async move {
            http()
                .post(url)
                .header("authorization", format!("Bearer {token}"))
                .json(&message("x", "msteams", SERVICE_URL))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 403);
    }
    assert_eq!(setup.identity.jwks_requests(), 1, "unknown kids within the cool-down must not refetch keys");
}

#[tokio::test]
async fn unreachable_signing_keys_are_503() {
    // Nothing listens at the metadata URL.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = listener.local_addr().unwrap();
    drop(listener);
    let key1 = TestKey::load("key1");
    let config = botwright_botframework::BotFrameworkConfig::default()
        .app_id(APP_ID)
        .openid_metadata_url(format!("http://{dead}/metadata"));
    let bot = BotServer::start(config).await;
    let token = key1.sign(&channel_claims(SERVICE_URL));
    let (status, body) = bot.post(&message("hi", "msteams", SERVICE_URL), Some(&bearer(&token))).await;
    assert_eq!(status, 503, "{body}");
    assert!(bot.recorder.texts().is_empty());
}

fn emulator_claims(issuer: &str, version: &str, app_claim: &str, app_id: &str) -> Value {
    json!({
        "iss": issuer,
        "aud": APP_ID,
        "exp": now() + 3600,
        "nbf": now() - 60,
        "ver": version,
        app_claim: app_id,
    })
}

#[tokio::test]
async fn emulator_tokens_v1_and_v2_are_accepted() {
    let setup = setup().await;
    let emulator_url = "http://localhost:53000";
    let v1 = setup.key1.sign(&emulator_claims(EMULATOR_ISSUERS[0], "1.0", "appid", APP_ID));
    let (status, body) = setup.bot.post(&message("v1", "emulator", emulator_url), Some(&bearer(&v1))).await;
    assert_eq!(status, 202, "{body}");
    let v2 = setup.key1.sign(&emulator_claims(EMULATOR_ISSUERS[3], "2.0", "azp", APP_ID));
    let (status, body) = setup.bot.post(&message("v2", "emulator", emulator_url), Some(&bearer(&v2))).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(setup.bot.recorder.texts(), vec!["v1", "v2"]);
}

#[tokio::test]
async fn emulator_tokens_for_another_app_are_403() {
    let setup = setup().await;
    let other = setup.key1.sign(&emulator_claims(EMULATOR_ISSUERS[0], "1.0", "appid", "another-app"));
    let (status, body) =
        setup.bot.post(&message("hi", "emulator", "http://localhost:53000"), Some(&bearer(&other))).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("another-app"));
    // A v2 token names the app in azp, not appid.
    let wrong_claim = setup.key1.sign(&emulator_claims(EMULATOR_ISSUERS[1], "2.0", "appid", APP_ID));
    let (status, _) =
        setup.bot.post(&message("hi", "emulator", "http://localhost:53000"), Some(&bearer(&wrong_claim))).await;
    assert_eq!(status, 403);
    assert!(setup.bot.recorder.texts().is_empty());
}

#[tokio::test]
async fn without_an_app_id_authentication_is_off() {
    let bot = BotServer::start(botwright_botframework::BotFrameworkConfig::default()).await;
    let (status, _) = bot.post(&message("dev mode", "emulator", "http://localhost:53000"), None).await;
    assert_eq!(status, 202);
    assert_eq!(bot.recorder.texts(), vec!["dev mode"]);
    // Nothing is trusted from unauthenticated requests.
    assert!(!bot.bf.trusted_hosts().is_trusted("http://localhost:53000").await.unwrap());
}
