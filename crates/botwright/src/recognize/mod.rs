//! Recognizers: pure functions that read what a user meant from the text of a reply.

mod choice;
mod confirm;
mod fold;
mod language;
mod number;
mod number_words;
mod ordinal;
mod time;
mod time_parser;

pub use choice::{Choice, ChoiceMatch, MIN_PARTIAL_SCORE, match_choice};
pub use confirm::parse_confirm;
pub use number::parse_number;
pub use time::{TimeMatch, parse_time};
