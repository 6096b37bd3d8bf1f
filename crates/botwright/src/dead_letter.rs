//! Why a message was given up: [`DeadLetterReason`].

use std::fmt;

/// Why a message was given up, as [`SendError::Dead`](crate::error::SendError::Dead) and
/// [`BotEvent::DeadLetter`](crate::event::BotEvent::DeadLetter) report it.
///
/// The outbox records the reason as text (its [`Display`](fmt::Display) form, the same as
/// before this type existed), and [`DeadLetterReason::parse`] reads a recorded text back, so a
/// dead letter recorded by another instance or an older version is classified the same way.
///
/// ```
/// use botwright::dead_letter::DeadLetterReason;
/// let reason = DeadLetterReason::parse("stale address: the address is stale: the channel answered 403: blocked");
/// assert!(reason.is_stale());
/// assert_eq!(DeadLetterReason::parse(&reason.to_string()), reason);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeadLetterReason {
    /// Every attempt failed for a reason that might have passed (429, 5xx, transport, a panic),
    /// until `max_attempts` or `max_age`.
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// Why the last one failed.
        last_error: String,
    },
    /// The channel said the address no longer works (403 / 404); the address is marked stale.
    Stale {
        /// The channel's answer.
        detail: String,
    },
    /// The channel refused the message for good (another 4xx, an unusable address).
    Rejected {
        /// The channel's answer.
        detail: String,
    },
    /// No channel is registered for the address's channel id.
    NoChannel {
        /// The channel id.
        channel_id: String,
    },
    /// The outbox entry could not be read.
    CorruptPayload {
        /// Why.
        detail: String,
    },
    /// A send middleware withheld the message.
    Withheld,
    /// A reason recorded in a form this version does not know.
    Other(String),
}

const GAVE_UP: &str = "gave up after ";
const ATTEMPTS: &str = " attempt(s): ";
const STALE: &str = "stale address: ";
const NO_CHANNEL: &str = "no channel for channel id ";
const CORRUPT: &str = "corrupt outbox payload: ";
const WITHHELD: &str = "stopped by send middleware";

impl DeadLetterReason {
    /// Reads a reason back from its recorded text.
    pub fn parse(recorded: &str) -> Self {
        if let Some(rest) = recorded.strip_prefix(GAVE_UP)
            && let Some((n, last)) = rest.split_once(ATTEMPTS)
            && let Ok(attempts) = n.parse()
        {
            return DeadLetterReason::GaveUp { attempts, last_error: last.to_owned() };
        }
        if let Some(detail) = recorded.strip_prefix(STALE) {
            return DeadLetterReason::Stale { detail: detail.to_owned() };
        }
        if let Some(id) = recorded.strip_prefix(NO_CHANNEL)
            && let Ok(channel_id) = serde_json::from_str::<String>(id)
        {
            return DeadLetterReason::NoChannel { channel_id };
        }
        if let Some(detail) = recorded.strip_prefix(CORRUPT) {
            return DeadLetterReason::CorruptPayload { detail: detail.to_owned() };
        }
        if recorded == WITHHELD {
            return DeadLetterReason::Withheld;
        }
        if recorded.starts_with("the channel rejected the activity") || recorded.starts_with("invalid address: ") {
            return DeadLetterReason::Rejected { detail: recorded.to_owned() };
        }
        DeadLetterReason::Other(recorded.to_owned())
    }

    /// Whether the channel said the address no longer works.
    pub fn is_stale(&self) -> bool {
        matches!(self, DeadLetterReason::Stale { .. })
    }
}

impl fmt::Display for DeadLetterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeadLetterReason::GaveUp { attempts, last_error } => write!(f, "{GAVE_UP}{attempts}{ATTEMPTS}{last_error}"),
            DeadLetterReason::Stale { detail } => write!(f, "{STALE}{detail}"),
            DeadLetterReason::Rejected { detail } => f.write_str(detail),
            DeadLetterReason::NoChannel { channel_id } => write!(f, "{NO_CHANNEL}{channel_id:?}"),
            DeadLetterReason::CorruptPayload { detail } => write!(f, "{CORRUPT}{detail}"),
            DeadLetterReason::Withheld => f.write_str(WITHHELD),
            DeadLetterReason::Other(text) => f.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reason reads back as itself from its recorded text.
    #[test]
    fn reasons_read_back_from_their_text() {
        let all = [
            DeadLetterReason::GaveUp { attempts: 8, last_error: "rate limited by the channel".into() },
            DeadLetterReason::Stale { detail: "the address is stale: the channel answered 404: gone".into() },
            DeadLetterReason::Rejected { detail: "the channel rejected the activity with status 400: bad".into() },
            DeadLetterReason::NoChannel { channel_id: "sk\"ype".into() },
            DeadLetterReason::CorruptPayload { detail: "expected value at line 1".into() },
            DeadLetterReason::Withheld,
            DeadLetterReason::Other("something else".into()),
        ];
        for reason in all {
            assert_eq!(DeadLetterReason::parse(&reason.to_string()), reason);
        }
        assert_eq!(
            DeadLetterReason::parse("gave up after x attempt(s): y"),
            DeadLetterReason::Other("gave up after x attempt(s): y".into())
        );
    }
}
