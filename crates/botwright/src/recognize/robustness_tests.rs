//! Every recognizer on many generated replies made of tricky fragments: none may panic, and
//! the results must be consistent with their inputs.

use chrono::DateTime;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Choice, match_choice, parse_confirm, parse_number, parse_time};

const FRAGMENTS: &[&str] = &[
    " ",
    "  ",
    "\t",
    "\n",
    "-",
    "+",
    ".",
    ",",
    ":",
    "'",
    "\u{2019}",
    "/",
    "#",
    "@",
    "0",
    "1",
    "2",
    "9",
    "12",
    "2026",
    "007",
    "1,000",
    "3,5",
    ".5",
    "twenty",
    "one",
    "hundred",
    "and",
    "y",
    "e",
    "et",
    "und",
    "quatre",
    "vingt",
    "dix",
    "ein",
    "zwanzig",
    "veinti",
    "uno",
    "un",
    "une",
    "um",
    "mil",
    "million",
    "minus",
    "menos",
    "at",
    "in",
    "on",
    "next",
    "last",
    "this",
    "T",
    "t",
    "Z",
    "pm",
    "a.m.",
    "am",
    "noon",
    "midnight",
    "tomorrow",
    "tonight",
    "monday",
    "dec",
    "of",
    "th",
    "st",
    "hours",
    "h",
    "m",
    "ago",
    "from",
    "now",
    "half",
    "an",
    "a",
    "o'clock",
    "yes",
    "no",
    "sí",
    "ß",
    "İ",
    "ü",
    "é",
    "\u{0301}",
    "👍",
    "👎",
    "🏽",
    "\u{FE0F}",
    "\u{200D}",
    "🎉",
    "ª",
    "º",
    "second",
    "segundo",
    "zweite",
    "deuxième",
    "último",
    "red",
    "green",
    "tea",
    "\u{00A0}",
    "\u{202F}",
    "\u{2212}",
];

fn reply(rng: &mut StdRng) -> String {
    let len = rng.random_range(0..12);
    (0..len).map(|_| FRAGMENTS[rng.random_range(0..FRAGMENTS.len())]).collect()
}

#[test]
fn generated_replies_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let now = DateTime::parse_from_rfc3339("2026-11-26T10:00:00+01:00").unwrap();
    let yes = vec!["yes|y|sí|1".to_string()];
    let no = vec!["no|n|0".to_string()];
    let choices = Choice::list("Red|Green tea|Blue|1|👍");
    for _ in 0..5_000 {
        let text = reply(&mut rng);
        for language in ["en", "es", "de", "fr", "pt"] {
            if let Some(number) = parse_number(&text, language) {
                assert!(number.is_finite(), "{text:?}");
            }
            if let Some(found) = match_choice(&text, &choices, language) {
                assert!(found.index < choices.len(), "{text:?}");
                assert_eq!(found.value, choices[found.index].value);
                assert!((0.4..=1.0).contains(&found.score), "{text:?}: {found:?}");
            }
        }
        let _ = parse_confirm(&text, &yes, &no);
        if let Some(found) = parse_time(&text, now) {
            assert_eq!(&text[found.span.clone()], found.text, "{text:?}");
            assert!(!found.text.is_empty(), "{text:?}");
        }
    }
}
