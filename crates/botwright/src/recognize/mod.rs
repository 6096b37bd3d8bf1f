//! Recognizers: pure functions that read what a user meant from the text of a reply.

mod confirm;
mod fold;
mod language;
mod number;
mod number_words;

pub use confirm::parse_confirm;
pub use number::parse_number;
