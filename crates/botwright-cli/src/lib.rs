//! The `botwright` program's parts: the sample notify + standup bot, its web hooks, the store
//! choice, and the `serve`, `chat` and `notify` commands. `src/main.rs` only parses the command
//! line.

/// README.md's Rust examples, compiled (and run where they can be) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

pub mod chat;
pub mod delivery;
pub mod notify;
pub mod sample;
pub mod serve;
pub mod store;

use std::time::Duration;

/// Parses `5s`, `800ms`, `2m` or a number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 5s or 800ms"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (use ms, s or m)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}
