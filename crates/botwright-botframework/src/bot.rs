//! The bridge from the endpoint to a [`botwright::Bot`].

use crate::handler::{ActivityHandler, HandlerError};
use botwright::error::TurnError;
use botwright::storage::StorageError;
use botwright::{Activity, Bot, TurnOutcome, async_trait};

/// A bot takes the endpoint's activities: each runs one turn, and the endpoint answers once the
/// turn's state is saved and its replies are queued for delivery.
///
/// A message without a sender, a conversation or a service URL is refused with 400. A store that
/// is down ([`StorageError::is_unavailable`]) or a conversation whose state kept changing (conflicts,
/// contention) gives 503 with `Retry-After`, so the channel retries later; other failures (a
/// corrupt document, an unknown dialog) give 500. Nothing of a failed turn was saved or sent.
#[async_trait]
impl ActivityHandler for Bot {
    async fn handle(&self, activity: Activity) -> Result<TurnOutcome, HandlerError> {
        match self.receive(activity).await {
            Ok(outcome) => Ok(outcome),
            Err(TurnError::InvalidActivity(e)) => {
                Err(HandlerError::invalid(format!("the activity is not usable: {e}")))
            }
            // The store says whether it is down for now (a connection lost, a full disk, ...).
            Err(TurnError::Storage(e)) if e.is_unavailable() => {
                Err(HandlerError::unavailable("the bot's store is unavailable", e))
            }
            Err(e @ (TurnError::Storage(StorageError::Conflict { .. }) | TurnError::Contention { .. })) => {
                Err(HandlerError::unavailable("the conversation's state is being changed by another request", e))
            }
            Err(e) => Err(HandlerError::with_source("the turn failed", e)),
        }
    }
}
