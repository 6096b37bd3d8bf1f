//! The errors of a turn and of proactive calls.

use crate::address::AddressError;
use crate::channel::DeliveryError;
use crate::dead_letter::DeadLetterReason;
use crate::storage::StorageError;

/// Any error an application's dialog code returns; `?` converts most errors into it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a turn failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TurnError {
    /// The activity cannot be handled (e.g. a message without a conversation).
    #[error("invalid activity: {0}")]
    InvalidActivity(#[from] AddressError),
    /// The store failed; nothing of the turn was saved or sent.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The state kept changing under the turn (another instance writing the same conversation);
    /// the turn was retried and gave up.
    #[error("state of conversation {conversation:?} kept changing; gave up after {attempts} attempts")]
    Contention {
        /// The conversation.
        conversation: String,
        /// How many times the turn ran.
        attempts: u32,
    },
    /// Never returned: a middleware that stops an activity gives
    /// [`TurnOutcome::Dropped`](crate::TurnOutcome::Dropped).
    #[deprecated(since = "0.2.0", note = "a dropped activity is `Ok(TurnOutcome::Dropped)`")]
    #[error("dropped by middleware")]
    Dropped,
    /// The application kept a clone of the turn's [`Session`](crate::Session) past the turn (in
    /// a spawned task, say): the turn's state could not be saved, and nothing was sent.
    #[error("the session of conversation {conversation:?} was still in use at the end of its turn")]
    SessionInUse {
        /// The conversation.
        conversation: String,
    },
    /// The dialog named does not exist.
    #[error("no dialog with id {0:?}")]
    UnknownDialog(String),
}

/// A regular expression that does not compile, given to [`Matcher::try_regex`] or
/// [`RegexRecognizer::try_new`].
///
/// [`Matcher::try_regex`]: crate::dialog::Matcher::try_regex
/// [`RegexRecognizer::try_new`]: crate::dialog::RegexRecognizer::try_new
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid pattern {pattern:?}: {reason}")]
pub struct InvalidPattern {
    /// The pattern as given.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

impl InvalidPattern {
    /// The case-insensitive regular expression of `pattern`, or why it is invalid.
    pub(crate) fn compile(pattern: &str) -> Result<regex::Regex, InvalidPattern> {
        regex::Regex::new(&format!("(?i){pattern}"))
            .map_err(|e| InvalidPattern { pattern: pattern.to_owned(), reason: e.to_string() })
    }
}

/// Why a proactive message was not delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The address is not usable.
    #[error("invalid address: {0}")]
    InvalidAddress(#[from] AddressError),
    /// No channel is registered for the address's channel id.
    #[error("no channel for channel id {0:?}")]
    NoChannel(String),
    /// The channel refused the message or could not be reached, and retrying did not help.
    #[error("not delivered after {attempts} attempt(s): {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: DeliveryError,
    },
    /// The channel said the address no longer works (403 / 404); the address is marked stale.
    #[error("the address is stale: {0}")]
    Stale(DeliveryError),
    /// The channel refused the message for good.
    #[error("rejected: {0}")]
    Rejected(DeliveryError),
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The message was withdrawn before delivery (e.g. a deadline passed); it will not arrive.
    #[error("withdrawn before delivery{}", last_error.as_ref().map(|e| format!(" (last attempt: {e})")).unwrap_or_default())]
    Withdrawn {
        /// Why the last attempt failed, when one was made.
        last_error: Option<String>,
    },
    /// The bot is shutting down (a message already accepted stays in the outbox).
    #[error("the bot is shutting down")]
    ShuttingDown,
    /// The message was given up, for this reason (as the outbox recorded it: by another
    /// instance, or read back after the fact).
    #[error("dead letter: {reason}")]
    Dead {
        /// Why it was given up.
        reason: DeadLetterReason,
    },
    /// A delivery attempt panicked (in the channel or a send middleware) and the message was
    /// given up (in-memory delivery; the durable outbox retries and records a dead letter).
    #[error("the delivery attempt panicked: {message}")]
    Panicked {
        /// The panic's message.
        message: String,
    },
    /// The call needs a durable outbox and the bot has none.
    #[error("this bot has no outbox")]
    NoOutbox,
}
