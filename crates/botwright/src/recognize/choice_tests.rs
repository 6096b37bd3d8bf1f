use super::{Choice, ChoiceMatch, match_choice};

fn colors() -> Vec<Choice> {
    vec![
        Choice::new("Red"),
        Choice::new("Green tea").with_synonyms(["matcha"]),
        Choice::new("Blue").with_action_title("Deep blue sea"),
    ]
}

/// Checks a table of reply → expected (index, score).
fn check(choices: &[Choice], language: &str, table: &[(&str, Option<(usize, f64)>)]) {
    for &(input, expected) in table {
        let got = match_choice(input, choices, language).map(|m| (m.index, m.score));
        assert_eq!(got, expected, "{language}: {input:?}");
    }
}

#[test]
fn exact_values_synonyms_and_titles() {
    check(
        &colors(),
        "en",
        &[
            ("Red", Some((0, 1.0))),
            ("red", Some((0, 1.0))),
            ("RED!", Some((0, 1.0))),
            ("  green   TEA ", Some((1, 1.0))),
            ("green-tea", Some((1, 1.0))),
            ("matcha", Some((1, 1.0))),
            ("Matchá", Some((1, 1.0))),
            ("deep blue sea", Some((2, 1.0))),
            ("blue", Some((2, 1.0))),
        ],
    );
}

#[test]
fn the_match_carries_the_value() {
    assert_eq!(
        match_choice("matcha", &colors(), "en"),
        Some(ChoiceMatch { index: 1, value: "Green tea".to_string(), score: 1.0 })
    );
}

#[test]
fn accents_and_case_are_ignored() {
    let choices = vec![Choice::new("Café"), Choice::new("Thé"), Choice::new("Crème brûlée")];
    check(
        &choices,
        "fr",
        &[
            ("cafe", Some((0, 1.0))),
            ("CAFÉ", Some((0, 1.0))),
            ("the", Some((1, 1.0))),
            ("creme brulee", Some((2, 1.0))),
            ("une crème", Some((2, 0.5))),
            ("un", None),
            ("deux", Some((1, 1.0))),
        ],
    );
}

#[test]
fn numbers_pick_by_position() {
    check(
        &colors(),
        "en",
        &[
            ("1", Some((0, 1.0))),
            ("2", Some((1, 1.0))),
            ("3.", Some((2, 1.0))),
            ("#3", Some((2, 1.0))),
            ("number 2", Some((1, 1.0))),
            ("two", Some((1, 1.0))),
            ("one", Some((0, 1.0))),
            ("number one", Some((0, 1.0))),
            ("option 1", Some((0, 1.0))),
            ("the big one", None),
            ("this one", None),
            ("0", None),
            ("4", None),
            ("1.5", None),
            ("-1", None),
            ("1 or 2", None),
        ],
    );
    check(&colors(), "es", &[("dos", Some((1, 1.0))), ("el 3", Some((2, 1.0)))]);
    check(&colors(), "de", &[("zwei", Some((1, 1.0))), ("drei", Some((2, 1.0)))]);
}

#[test]
fn ordinals_pick_by_position() {
    let choices = colors();
    check(
        &choices,
        "en",
        &[
            ("first", Some((0, 1.0))),
            ("the second one", Some((1, 1.0))),
            ("The 2nd", Some((1, 1.0))),
            ("third please", Some((2, 1.0))),
            ("last", Some((2, 1.0))),
            ("the last one", Some((2, 1.0))),
            ("fourth", None),
            ("second or third", None),
        ],
    );
    check(
        &choices,
        "es",
        &[("el segundo", Some((1, 1.0))), ("la última", Some((2, 1.0))), ("primera", Some((0, 1.0)))],
    );
    check(
        &choices,
        "de",
        &[("die zweite", Some((1, 1.0))), ("den letzten", Some((2, 1.0))), ("erste", Some((0, 1.0)))],
    );
    check(&choices, "fr", &[("le deuxième", Some((1, 1.0))), ("la dernière", Some((2, 1.0))), ("1er", Some((0, 1.0)))]);
    check(&choices, "pt", &[("o segundo", Some((1, 1.0))), ("a última", Some((2, 1.0))), ("2º", Some((1, 1.0)))]);
    // English ordinals are understood in every language.
    check(&choices, "de", &[("second", Some((1, 1.0)))]);
}

#[test]
fn words_of_the_choices_are_not_positions() {
    let classes = vec![Choice::new("Economy"), Choice::new("First class")];
    check(&classes, "en", &[("first", Some((1, 0.5))), ("second", Some((1, 1.0))), ("1", Some((0, 1.0)))]);
    let plans = vec![Choice::new("Plan 3"), Choice::new("Plan 1"), Choice::new("Plan 2")];
    check(&plans, "en", &[("2", Some((2, 0.5))), ("plan 1", Some((1, 1.0))), ("plan", None)]);
    let numbers = Choice::list("5|10|1");
    check(
        &numbers,
        "en",
        &[("1", Some((2, 1.0))), ("5", Some((0, 1.0))), ("2", Some((1, 1.0))), ("10 please", Some((1, 1.0)))],
    );
}

#[test]
fn partial_matches_score_the_share_of_words() {
    let choices = vec![
        Choice::new("New York City"),
        Choice::new("Los Angeles"),
        Choice::new("San Francisco Bay Area").with_synonyms(["SF"]),
    ];
    check(
        &choices,
        "en",
        &[
            ("new york", Some((0, 2.0 / 3.0))),
            ("I'd like to go to new york city please", Some((0, 1.0))),
            ("angeles", Some((1, 0.5))),
            ("san francisco", Some((2, 0.5))),
            ("sf", Some((2, 1.0))),
            ("bay", None),
            ("city", None),
            ("paris", None),
        ],
    );
}

#[test]
fn repeated_words_match_once() {
    let choices = vec![Choice::new("The Lord of the Rings"), Choice::new("Dune")];
    check(&choices, "en", &[("the", None), ("the the", Some((0, 0.4))), ("lord rings", Some((0, 0.4)))]);
}

#[test]
fn ties_are_ambiguous() {
    let choices = vec![Choice::new("Green tea"), Choice::new("Green coffee"), Choice::new("Black tea")];
    check(&choices, "en", &[("green", None), ("tea", None), ("green tea", Some((0, 1.0))), ("black", Some((2, 0.5)))]);
    // A position and a partial match on different choices.
    check(&colors(), "en", &[("the second, not red", None), ("red, the first", Some((0, 1.0)))]);
    // Repeated values: the first exact match wins.
    check(&Choice::list("same|same"), "en", &[("same", Some((0, 1.0)))]);
}

#[test]
fn emoji_choices() {
    let choices = vec![Choice::new("👍"), Choice::new("👎")];
    check(&choices, "en", &[("👍", Some((0, 1.0))), (" 👎 ", Some((1, 1.0))), ("👍🏽", Some((0, 1.0))), ("🎉", None)]);
}

#[test]
fn bad_input() {
    let choices = colors();
    for input in ["", " ", "\n", "?!", "🎉", "\u{FE0F}", "purple"] {
        assert_eq!(match_choice(input, &choices, "en"), None, "{input:?}");
    }
    assert_eq!(match_choice("red", &[], "en"), None);
    assert_eq!(match_choice("1", &[], "en"), None);
    assert_eq!(match_choice("", &[Choice::new("")], "en"), None);
    assert_eq!(match_choice("x", &[Choice::new("")], "en"), None);
    assert_eq!(match_choice("red", &colors(), ""), Some(ChoiceMatch { index: 0, value: "Red".into(), score: 1.0 }));
}

#[test]
fn very_long_replies() {
    let choices = colors();
    let noise = "lorem ipsum ".repeat(8_500);
    assert_eq!(match_choice(&noise, &choices, "en"), None);
    let with_choice = format!("{noise} green tea {noise}");
    assert_eq!(match_choice(&with_choice, &choices, "en").map(|m| m.index), Some(1));
    let ones = "1 ".repeat(50_000);
    assert_eq!(match_choice(&ones, &choices, "en").map(|m| m.index), Some(0));
    let emoji = "🎉".repeat(25_000);
    assert_eq!(match_choice(&emoji, &choices, "en"), None);
    let one_word = "x".repeat(100_000);
    assert_eq!(match_choice(&one_word, &choices, "en"), None);
}

#[test]
fn choices_serialize_compactly() {
    let json = serde_json::to_value(Choice::new("Red")).unwrap();
    assert_eq!(json, serde_json::json!({"value": "Red"}));
    let back: Choice = serde_json::from_value(serde_json::json!({"value": "Blue", "synonyms": ["navy"]})).unwrap();
    assert_eq!(back, Choice::new("Blue").with_synonyms(["navy"]));
    assert_eq!(Choice::list(" a | |b|"), vec![Choice::new("a"), Choice::new("b")]);
    assert_eq!(Choice::from("x"), Choice::new("x"));
}
