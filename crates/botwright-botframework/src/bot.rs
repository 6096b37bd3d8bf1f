//! The bridge from the endpoint to a [`botwright::Bot`].

use crate::handler::{ActivityHandler, HandlerError, HandlerResponse};
use botwright::error::TurnError;
use botwright::{Activity, Bot, async_trait};

/// A bot takes the endpoint's activities: each runs one turn, and the endpoint answers once the
/// turn's state is saved and its replies are queued for delivery.
///
/// A message without a sender, a conversation or a service URL is refused with 400; a store
/// failure gives 500 so the channel retries (nothing of the turn was saved or sent).
#[async_trait]
impl ActivityHandler for Bot {
    async fn handle(&self, activity: Activity) -> Result<HandlerResponse, HandlerError> {
        match self.receive(activity).await {
            Ok(outcome) => Ok(match outcome.invoke_response {
                Some(invoke) => HandlerResponse::invoke(invoke.status, invoke.body),
                None => HandlerResponse::accepted(),
            }),
            Err(TurnError::InvalidActivity(e)) => {
                Err(HandlerError::invalid(format!("the activity is not usable: {e}")))
            }
            Err(TurnError::Dropped) => Ok(HandlerResponse::accepted()),
            Err(e) => Err(HandlerError::with_source("the turn failed", e)),
        }
    }
}
