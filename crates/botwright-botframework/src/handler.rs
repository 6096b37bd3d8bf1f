//! What the endpoint hands activities to.
//!
//! [`ActivityHandler`] is the seam between the HTTP endpoint and the bot: the endpoint calls it
//! once per authenticated, well-formed activity and answers the channel only when it returns, so
//! an activity the endpoint accepted (202) was safely handed over. Answer quickly: persist or
//! enqueue the activity and return; the channel times out slow endpoints.

pub use botwright::InvokeResponse;
use botwright::{Activity, TurnOutcome, async_trait};
use std::sync::Arc;

/// Why the handler did not accept an activity: the endpoint answers 500 so the channel may
/// retry, 503 with `Retry-After` when something the bot needs is down for now
/// ([`HandlerError::unavailable`], e.g. its store), or 400 with the message when the activity
/// itself is unusable ([`HandlerError::invalid`]).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct HandlerError {
    message: String,
    invalid: bool,
    unavailable: bool,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl HandlerError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        HandlerError { message: message.into(), invalid: false, unavailable: false, source: None }
    }

    /// The activity cannot be handled as it is (e.g. a message without a conversation): the
    /// endpoint answers 400 with this message, and a retry would not help.
    pub fn invalid(message: impl Into<String>) -> Self {
        HandlerError { message: message.into(), invalid: true, unavailable: false, source: None }
    }

    /// Whether the activity itself was unusable.
    pub fn is_invalid(&self) -> bool {
        self.invalid
    }

    /// Something the bot needs (its store) is unavailable for now: the endpoint answers 503 with
    /// `Retry-After` and this message (which should name the cause, not its internals), so the
    /// channel retries later.
    pub fn unavailable(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        HandlerError { message: message.into(), invalid: false, unavailable: true, source: Some(source.into()) }
    }

    /// Whether the failure is temporary: something the bot needs is unavailable.
    pub fn is_unavailable(&self) -> bool {
        self.unavailable
    }

    /// An error caused by `source`.
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        HandlerError { message: message.into(), invalid: false, unavailable: false, source: Some(source.into()) }
    }
}

/// Receives the activities the endpoint accepted.
///
/// It answers with the core's [`TurnOutcome`]: [`Invoked`](TurnOutcome::Invoked) carries an
/// `invoke`'s answer (its status and body go back in the HTTP response); any other outcome is
/// answered 202 (200 with an empty body for an `invoke` without an answer).
///
/// ```
/// use botwright::{Activity, TurnOutcome, async_trait};
/// use botwright_botframework::{ActivityHandler, HandlerError};
///
/// struct Log;
///
/// #[async_trait]
/// impl ActivityHandler for Log {
///     async fn handle(&self, activity: Activity) -> Result<TurnOutcome, HandlerError> {
///         println!("{}: {}", activity.from_id(), activity.text());
///         Ok(TurnOutcome::Completed)
///     }
/// }
/// ```
#[async_trait]
pub trait ActivityHandler: Send + Sync + 'static {
    /// Takes one activity. Return once it is safely handed over (queued, stored, or handled).
    async fn handle(&self, activity: Activity) -> Result<TurnOutcome, HandlerError>;
}

#[async_trait]
impl<T: ActivityHandler + ?Sized> ActivityHandler for Arc<T> {
    async fn handle(&self, activity: Activity) -> Result<TurnOutcome, HandlerError> {
        (**self).handle(activity).await
    }
}
