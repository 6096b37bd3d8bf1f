//! Property tests (bounded case counts) for what comes from the network: `Retry-After` values,
//! service URLs and their trust keys (origins), and the inbound `Authorization` header with
//! JWTs of every odd shape, checked by the real authenticator against the local identity service
//! and over real HTTP. (The activity parser's properties are in `endpoint.rs`'s unit tests.)

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use botwright_botframework::auth::{AuthError, MAX_TOKEN_LEN, bearer_token};
use botwright_botframework::connector::{MAX_RETRY_AFTER, parse_retry_after};
use botwright_botframework::trust::{origin_of_entry, service_url_origin};
use botwright_botframework::{BotFramework, BotFrameworkConfig};
use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn retry_after_never_panics_and_is_at_most_a_day(value in ".{0,64}", now in 0u64..=4_102_444_800) {
        let now = UNIX_EPOCH + Duration::from_secs(now);
        if let Some(delay) = parse_retry_after(&value, now) {
            prop_assert!(delay <= MAX_RETRY_AFTER);
        }
    }

    #[test]
    fn retry_after_seconds_of_any_size_are_clamped(digits in "[0-9]{1,40}") {
        let now = SystemTime::now();
        let expected = match digits.parse::<u64>() {
            Ok(seconds) => Duration::from_secs(seconds).min(MAX_RETRY_AFTER),
            Err(_) => MAX_RETRY_AFTER,
        };
        prop_assert_eq!(parse_retry_after(&digits, now), Some(expected));
        prop_assert_eq!(parse_retry_after(&format!("-{digits}"), now), None);
        prop_assert_eq!(parse_retry_after(&format!(" {digits}\t"), now), Some(expected));
    }

    #[test]
    fn retry_after_dates_are_the_time_until_then_at_most_a_day(
        now in 0u64..=4_102_444_800,
        offset in -10_000_000_000i64..10_000_000_000,
    ) {
        let now_time = UNIX_EPOCH + Duration::from_secs(now);
        let then = now as i64 + offset;
        prop_assume!((0..=253_402_300_799).contains(&then));
        let value = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(then as u64));
        let expected = Duration::from_secs(offset.max(0) as u64).min(MAX_RETRY_AFTER);
        prop_assert_eq!(parse_retry_after(&value, now_time), Some(expected));
    }

    #[test]
    fn service_url_parsing_never_panics(value in "\\PC{0,200}") {
        if let Ok(origin) = service_url_origin(&value) {
            prop_assert!(origin.starts_with("http://") || origin.starts_with("https://"), "{}", origin);
            // An origin is its own origin: the key is stable.
            prop_assert_eq!(service_url_origin(&origin), Ok(origin.clone()));
        }
    }

    #[test]
    fn origins_keep_scheme_and_port_and_drop_the_rest(
        https in any::<bool>(),
        host in "[a-zA-Z][a-zA-Z0-9-]{0,12}(\\.[a-zA-Z]{2,6}){0,2}",
        port in proptest::option::of(1u16..=65535),
        path in "(/[a-zA-Z0-9._~-]{0,8}){0,3}",
        query in proptest::option::of("[a-z=&]{0,10}"),
    ) {
        let scheme = if https { "https" } else { "http" };
        let port_part = port.map(|p| format!(":{p}")).unwrap_or_default();
        let query_part = query.map(|q| format!("?{q}")).unwrap_or_default();
        let url = format!("{scheme}://{host}{port_part}{path}{query_part}");
        let origin = service_url_origin(&url).unwrap();
        let default = if https { 443 } else { 80 };
        let shown_port = port.filter(|p| *p != default).map(|p| format!(":{p}")).unwrap_or_default();
        prop_assert_eq!(&origin, &format!("{scheme}://{}{shown_port}", host.to_ascii_lowercase()));
        // The other scheme on the same host and port is another origin.
        let other = if https { "http" } else { "https" };
        let flipped = service_url_origin(&format!("{other}://{host}{port_part}{path}")).unwrap();
        prop_assert_ne!(origin, flipped);
    }

    /// A configured bare host (maybe with a port) is trusted over https only.
    #[test]
    fn configured_bare_hosts_mean_https(
        host in "[a-z][a-z0-9-]{0,12}(\\.[a-z]{2,6}){0,2}",
        port in proptest::option::of(1u16..=65535),
    ) {
        let entry = match port { Some(p) => format!("{host}:{p}"), None => host.clone() };
        let configured = origin_of_entry(&entry).unwrap();
        let https = service_url_origin(&format!("https://{entry}/")).unwrap();
        let http = service_url_origin(&format!("http://{entry}/")).unwrap();
        prop_assert_eq!(&configured, &https);
        prop_assert_ne!(&configured, &http);
        // An explicit URL keeps its scheme.
        prop_assert_eq!(origin_of_entry(&format!("http://{entry}/x")).unwrap(), http);
    }

    #[test]
    fn configured_entries_never_panic(entry in "\\PC{0,100}") {
        let _ = BotFrameworkConfig::default().trusted_service_url(entry).validate();
    }

    #[test]
    fn authorization_headers_never_panic(value in "\\PC{0,300}") {
        match bearer_token(Some(&value)) {
            Ok(token) => {
                prop_assert!(!token.is_empty() && !token.contains(' ') && token.len() <= MAX_TOKEN_LEN);
            }
            Err(error) => prop_assert_eq!(error.status(), 401),
        }
    }
}

/// The local identity service with one channel key, and an authenticator for it, shared by the
/// cases (the cool-down between key refreshes is the default minute).
struct AuthSetup {
    identity: IdentityService,
    key: TestKey,
    bf: BotFramework,
}

fn auth_setup() -> &'static AuthSetup {
    static SETUP: OnceLock<AuthSetup> = OnceLock::new();
    SETUP.get_or_init(|| {
        runtime().block_on(async {
            let key = TestKey::load("key1");
            let identity = IdentityService::start(vec![key.jwk(None)], vec![]).await;
            let bf = BotFramework::from_config(identity.config()).unwrap();
            AuthSetup { identity, key, bf }
        })
    })
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "\\PC{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JWT header of an odd shape: any `alg` (none, HMAC, unknown, not a string), any `kid`
/// (missing, huge, not a string), other keys.
fn odd_header() -> impl Strategy<Value = Value> {
    let alg = prop_oneof![
        Just(json!("none")),
        Just(json!("HS256")),
        Just(json!("RS256")),
        Just(json!("ES256")),
        "\\PC{0,10}".prop_map(Value::String),
        json_value(),
    ];
    let kid = prop_oneof![
        Just(None),
        Just(Some(json!("key1"))),
        "\\PC{0,40}".prop_map(|k| Some(Value::String(k))),
        (1usize..8000).prop_map(|n| Some(Value::String("k".repeat(n)))),
        json_value().prop_map(Some),
    ];
    (alg, kid, proptest::option::of(json_value())).prop_map(|(alg, kid, extra)| {
        let mut header = json!({ "alg": alg, "typ": "JWT" });
        if let Some(kid) = kid {
            header["kid"] = kid;
        }
        if let Some(extra) = extra {
            header["x5t"] = extra;
        }
        header
    })
}

/// A token: three parts from odd headers, odd claims and odd signatures, or raw text.
fn odd_token() -> impl Strategy<Value = String> {
    let signature = prop_oneof![Just(String::new()), "[A-Za-z0-9_-]{0,400}", "\\PC{0,40}"];
    let structured = (odd_header(), json_value(), signature)
        .prop_map(|(header, claims, signature)| format!("{}.{}.{signature}", b64(&header), b64(&claims)));
    prop_oneof![
        structured,
        "[A-Za-z0-9_.-]{1,200}",
        "\\PC{1,200}",
        // Not base64 at all in the header.
        "[^.]{1,40}\\.[A-Za-z0-9]{1,40}\\.[A-Za-z0-9]{1,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the token, the authenticator refuses it with 401 or 403 (503 only if keys were
    /// unavailable, which the local identity service never is), never panics, and never fetches
    /// keys more than once per cool-down.
    #[test]
    fn odd_tokens_are_refused_with_401_or_403(token in odd_token()) {
        let setup = auth_setup();
        let authenticator = setup.bf.authenticator().unwrap().clone();
        let result = runtime().block_on(authenticator.verify_token(&token));
        let error = result.expect_err("an odd token is never accepted");
        prop_assert!(matches!(error.status(), 401 | 403), "{:?}", error);
        if let AuthError::UnknownSigningKey { kid } = &error {
            prop_assert!(kid.len() <= 128 + '…'.len_utf8());
        }
        // One fetch of the channel keys (and one of the emulator's), whatever the kids asked for.
        prop_assert!(setup.identity.jwks_requests() <= 2, "{} key fetches", setup.identity.jwks_requests());
        prop_assert!(authenticator.key_fetch_count() <= 2);
    }

}

proptest! {
    // Few cases: RSA signing is slow in debug builds.
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// A real signature with odd header fields around it is still refused unless everything is
    /// right: a `kid` other than the key's is never accepted.
    #[test]
    fn signed_tokens_with_other_kids_are_refused(kid in "\\PC{0,100}") {
        prop_assume!(kid != "key1");
        let setup = auth_setup();
        let token = setup.key.sign_as(&channel_claims("https://smba.example/"), &kid);
        let authenticator = setup.bf.authenticator().unwrap().clone();
        let error = runtime().block_on(authenticator.verify_token(&token)).unwrap_err();
        prop_assert_eq!(error.status(), 403, "{:?}", error);
        prop_assert!(setup.identity.jwks_requests() <= 2);
    }
}

/// Over real HTTP: odd `Authorization` values (any bytes a header may hold) are 401 or 403 with
/// a JSON error, and the server keeps answering.
#[test]
fn odd_authorization_headers_over_http_are_401_or_403() {
    let setup = auth_setup();
    let bot = runtime().block_on(BotServer::start(setup.identity.config()));
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(64));
    let header = prop_oneof![
        "[ -~]{0,200}",
        odd_token().prop_map(|t| format!("Bearer {t}")),
        (1usize..40_000).prop_map(|n| format!("Bearer {}", "a".repeat(n))),
    ];
    runner
        .run(&header, |value| {
            let Ok(value) = reqwest::header::HeaderValue::from_str(&value) else { return Ok(()) };
            let (status, body) = runtime().block_on(async {
                let response = http()
                    .post(&bot.url)
                    .header("authorization", value)
                    .json(&message("hi", "msteams", "https://smba.example/"))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                (status, response.text().await.unwrap())
            });
            // Headers too large for the server are refused by it before the endpoint (431).
            prop_assert!(matches!(status, 401 | 403 | 431), "{} {}", status, body);
            if status != 431 {
                let body: Value = serde_json::from_str(&body).unwrap();
                prop_assert!(body["error"]["message"].is_string());
            }
            Ok(())
        })
        .unwrap();
    let token = setup.key.sign(&channel_claims("https://smba.example/"));
    let (status, _) = runtime()
        .block_on(bot.post(&message("still", "msteams", "https://smba.example/"), Some(&format!("Bearer {token}"))));
    assert_eq!(status, 202);
}

/// Through the whole framework: a configured bare host is trusted over https, not http.
#[test]
fn the_framework_trusts_configured_bare_hosts_over_https_only() {
    let config = BotFrameworkConfig::default().trusted_service_url("smba.example:8443");
    let bf = BotFramework::from_config(config).unwrap();
    assert!(bf.trusted_hosts().is_configured("https://smba.example:8443"));
    assert!(!bf.trusted_hosts().is_configured("http://smba.example:8443"));
}

/// Regression: a token longer than the limit is refused before anything is decoded.
#[test]
fn a_token_over_the_limit_is_401() {
    let header = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
    let error = bearer_token(Some(&header)).unwrap_err();
    assert!(matches!(error, AuthError::MalformedAuthorization(_)), "{error:?}");
    assert_eq!(error.status(), 401);
}
