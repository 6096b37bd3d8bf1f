//! Recognizers: pure functions that read what a user meant from the text of a reply.
//!
//! The prompts call these on every reply, so they do no I/O, are not async, allocate little
//! (at most a folded copy of the reply) and never panic, whatever the input: empty, emoji only,
//! or a hundred kilobytes long. Each returns `None` when the reply is unclear, so that the
//! prompt can ask again rather than guess.
//!
//! All of them ignore case and accents ("SÍ" = "si", "Deuxième" = "deuxieme") and find their
//! answer inside a sentence where that makes sense.
//!
//! | recognizer | reads | languages |
//! |---|---|---|
//! | [`parse_number`] | one number: digits with sign, decimal point or comma and thousands separators by language (`-3.5`, `3,5`, `1,000`, `1.000`), or number words from zero to the millions ("twenty-one", "veintiuno", "einundzwanzig", "quatre-vingt-dix", "vinte e um"); two different numbers are unclear | en, es, de, fr, pt (others read as en) |
//! | [`parse_confirm`] | yes or no at the start of the reply, from localized word lists the caller passes (`"yes\|y\|sure"`), plus 👍 / 👎 | any (the lists carry the language) |
//! | [`match_choice`] | one of a list of [`Choice`]s: by value or synonym (score 1.0), by number ("2") or ordinal ("the second one", "last", "segundo", "zweite", "deuxième"), or by the share of a choice's words said (at least [`MIN_PARTIAL_SCORE`]); ties are unclear | en, es, de, fr, pt for numbers and ordinals |
//! | [`parse_time`] | the first date or time: ISO (`2026-12-24T18:00`), clock times (`6:30 pm`, `at 9`, `noon`), dates (`tomorrow`, `next monday`, `dec 24`) and relative phrases (`in 2 hours`, `tomorrow at 5pm`), resolved against the current time into a [`TimeMatch`]; a date alone is noon | en |
//!
//! ```
//! use botwright::recognize::{Choice, match_choice, parse_confirm, parse_number, parse_time};
//!
//! assert_eq!(parse_number("about twenty-five", "en"), Some(25.0));
//!
//! let yes = vec!["sí|si|claro|vale".to_string()];
//! let no = vec!["no|nunca".to_string()];
//! assert_eq!(parse_confirm("Sí, claro", &yes, &no), Some(true));
//!
//! let sizes = Choice::list("Small|Medium|Large");
//! assert_eq!(match_choice("the last one", &sizes, "en").map(|m| m.value), Some("Large".to_string()));
//!
//! let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00+00:00").unwrap();
//! let when = parse_time("next monday at 9", now).unwrap();
//! assert_eq!(when.value.to_rfc3339(), "2026-11-30T09:00:00+00:00");
//! ```

mod choice;
mod confirm;
mod fold;
mod language;
mod number;
mod number_words;
mod ordinal;
mod time;
mod time_parser;
mod time_token;
mod time_words;

pub use choice::{Choice, ChoiceMatch, MIN_PARTIAL_SCORE, match_choice};
pub use confirm::parse_confirm;
pub use number::parse_number;
pub use time::{TimeMatch, parse_time};

#[cfg(test)]
mod robustness_tests;
