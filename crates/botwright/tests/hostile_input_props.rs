//! Property tests over hostile input: text formatting and localized resolution, the
//! recognizers, locale table loading, addresses and activities from arbitrary JSON, and the
//! retry backoff with any `Retry-After`. Nothing may panic; each failure found is kept below as
//! a named regression test.

use botwright::activity::Activity;
use botwright::locale::Localizer;
use botwright::recognize::{Choice, match_choice, parse_confirm, parse_number, parse_time};
use botwright::text::{Args, Text, format};
use botwright::{Address, RetryPolicy};
use chrono::DateTime;
use proptest::prelude::*;
use serde_json::Value;
use std::time::Duration;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, ..ProptestConfig::default() }
}

/// Templates rich in placeholders and multi-byte characters.
fn template() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("%".to_owned()),
        Just("%s".to_owned()),
        Just("%d".to_owned()),
        Just("%%".to_owned()),
        Just("%(".to_owned()),
        Just(")".to_owned()),
        Just("$".to_owned()),
        Just("é".to_owned()),
        Just("😀".to_owned()),
        "[0-9]{1,3}",
        "\\PC{0,4}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,16}".prop_map(Value::String),
        // A huge string.
        (0usize..20_000).prop_map(|n| Value::String("x".repeat(n))),
    ]
}

/// Arbitrary JSON, sometimes deep, with the keys an address or activity holds so that wrong
/// types land where fields are expected.
fn json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("channelId".to_owned()),
        Just("serviceUrl".to_owned()),
        Just("conversation".to_owned()),
        Just("user".to_owned()),
        Just("bot".to_owned()),
        Just("id".to_owned()),
        Just("from".to_owned()),
        Just("recipient".to_owned()),
        Just("type".to_owned()),
        Just("text".to_owned()),
        Just("attachments".to_owned()),
        Just("entities".to_owned()),
        Just("channelData".to_owned()),
        Just("timestamp".to_owned()),
        Just("locale".to_owned()),
        "\\PC{0,8}",
    ];
    json_leaf().prop_recursive(24, 256, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

fn valid_address() -> impl Strategy<Value = Value> {
    ("\\PC{0,12}", "\\PC{0,24}", "\\PC{1,12}", "\\PC{1,12}", json_leaf()).prop_map(
        |(channel, url, user, conv, extra)| {
            serde_json::json!({
                "channelId": channel, "serviceUrl": url, "user": {"id": user, "name": extra},
                "conversation": {"id": conv}, "bot": {"id": "b"}, "extra": extra,
            })
        },
    )
}

fn args() -> impl Strategy<Value = Args> {
    (prop::collection::vec(json_leaf(), 0..4), prop::collection::vec(("\\PC{0,6}", json_leaf()), 0..3))
        .prop_map(|(positional, named)| Args { positional, named })
}

proptest! {
    #![proptest_config(config())]

    /// Formatting never panics; text without `%` comes back unchanged.
    #[test]
    fn format_never_panics(t in template(), a in args()) {
        let out = format(&t, &a);
        if !t.contains('%') {
            prop_assert_eq!(out.as_ref(), t.as_str());
        }
    }

    /// An unknown message id is sent as it is, whatever its arguments.
    #[test]
    fn an_unknown_id_resolves_to_itself(id in template(), a in args(), locale in "\\PC{0,12}") {
        let localizer = Localizer::default();
        prop_assume!(!localizer.has_message(&locale, &id) && !localizer.has_message("en", &id));
        let text = Text::localized(id.clone()).with_args(a);
        prop_assert_eq!(text.resolve(&localizer, &locale), id);
    }

    /// A known id resolves in any locale tag without panicking.
    #[test]
    fn any_locale_tag_resolves(locale in "\\PC{0,24}", a in args()) {
        let localizer = Localizer::default();
        let _ = Text::localized("default_error").with_args(a).resolve(&localizer, &locale);
    }

    /// The recognizers take any text (up to a few KiB) without panicking.
    #[test]
    fn recognizers_never_panic(text in prop_oneof!["\\PC{0,64}", "[0-9a-z ,.:/-]{0,64}", "\\PC{0,4096}"],
                               language in prop_oneof![Just("en".to_owned()), Just("es".to_owned()), "\\PC{0,6}"]) {
        let _ = parse_number(&text, language.as_ref());
        let now = DateTime::parse_from_rfc3339("2026-03-01T10:00:00+01:00").unwrap();
        let _ = parse_time(&text, now);
        let choices = [Choice::new("red"), Choice::new("tea with milk"), Choice::new(text.clone())];
        let _ = match_choice(&text, &choices, language.as_ref());
        let words = vec![text.clone()];
        let _ = parse_confirm(&text, &words, &[]);
    }

    /// Fluent sources and v3 JSON tables of any text load or fail with an error.
    #[test]
    fn locale_tables_load_or_fail(source in prop_oneof!["\\PC{0,256}", "[a-z-]{1,8} = [^\\n]{0,32}\\n"],
                                  locale in prop_oneof![Just("en".to_owned()), "\\PC{0,8}"]) {
        let mut localizer = Localizer::default();
        let _ = localizer.add_fluent(&locale, "x.ftl", source.clone());
        let _ = localizer.add_v3_table(&locale, "index.json", &source);
        let _ = localizer.add_v3_table(&locale, "Other.json", &source);
    }

    /// v3 tables of arbitrary JSON load or fail with an error.
    #[test]
    fn v3_tables_of_any_json_load_or_fail(value in json()) {
        let mut localizer = Localizer::default();
        let _ = localizer.add_v3_table("en", "index.json", &value.to_string());
    }

    /// Any JSON is an address or a typed error; a parsed address round-trips through JSON.
    #[test]
    fn addresses_from_any_json(value in prop_oneof![json(), valid_address()]) {
        if let Ok(address) = Address::from_value(&value) {
            let json = serde_json::to_value(&address).unwrap();
            prop_assert_eq!(Address::from_value(&json).unwrap(), address);
        }
    }

    /// Any JSON is an activity or a typed error.
    #[test]
    fn activities_from_any_json(value in json()) {
        let _ = serde_json::from_value::<Activity>(value.clone());
        let _ = serde_json::from_str::<Activity>(&value.to_string());
    }

    /// The backoff never panics, whatever the attempt and `Retry-After`, and is never longer
    /// than the larger of the two limits.
    #[test]
    fn backoff_is_bounded(attempt in any::<u32>(), secs in any::<u64>(), nanos in 0u32..1_000_000_000,
                          given in any::<bool>(), initial in any::<u64>(), max in any::<u64>()) {
        let (max_backoff, max_retry_after) = (Duration::from_millis(max), Duration::from_secs(3600));
        let policy = RetryPolicy::default()
            .initial_backoff(Duration::from_millis(initial))
            .max_backoff(max_backoff)
            .max_retry_after(max_retry_after);
        let retry_after = given.then(|| Duration::new(secs, nanos));
        let wait = policy.backoff(attempt, retry_after);
        prop_assert!(wait <= max_backoff.max(max_retry_after));
        if let Some(after) = retry_after.filter(|a| *a <= max_retry_after) {
            prop_assert!(wait >= after);
        }
        prop_assert!(wait <= max_backoff || retry_after.is_some_and(|a| wait == a));
    }
}

/// A named placeholder followed by a multi-byte character used to slice inside it.
#[test]
fn a_named_placeholder_before_a_multibyte_character_is_kept() {
    let args = Args::new().arg("x");
    assert_eq!(format("%(a)é", &args), "%(a)é");
    assert_eq!(format("a %(name)😀 b %s", &args), "a %(name)😀 b x");
}

/// A positional placeholder followed by a multi-byte character used to slice inside it.
#[test]
fn a_positional_placeholder_before_a_multibyte_character_is_kept() {
    let args = Args::new().arg("x");
    assert_eq!(format("%1$é and %1$s", &args), "%1$é and x");
}

/// An unknown message id with parameters is sent as it is, not used as a template (it may come
/// from `POST /api/notify`).
#[test]
fn an_unknown_id_with_parameters_is_sent_as_is() {
    let localizer = Localizer::default();
    let text = Text::localized("order %s é %(a)é").arg("A-17");
    assert_eq!(text.resolve(&localizer, "en"), "order %s é %(a)é");
}

/// A `Retry-After` above the limit is ignored: the normal backoff applies.
#[test]
fn a_retry_after_above_the_limit_is_ignored() {
    let policy = RetryPolicy::default();
    // The default limit is one hour: an hour is honoured, a second more is not.
    assert_eq!(policy.backoff(1, Some(Duration::from_secs(3600))), Duration::from_secs(3600));
    let max_backoff = Duration::from_secs(30);
    assert!(policy.backoff(1, Some(Duration::from_secs(3601))) <= max_backoff);
    let wait = policy.backoff(1, Some(Duration::from_secs(u64::MAX)));
    assert!(wait <= max_backoff);
    assert_eq!(policy.backoff(1, Some(Duration::from_secs(120))), Duration::from_secs(120));
}
