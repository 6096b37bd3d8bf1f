//! What a turn and a proactive send produce: [`TurnOutcome`] (with an invoke's
//! [`InvokeResponse`]) and [`Receipt`].

use crate::storage::OutboxId;
use serde_json::Value;

/// The answer to an `invoke` activity, returned in the HTTP response.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct InvokeResponse {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Option<Value>,
}

impl InvokeResponse {
    /// 200 with this body.
    pub fn ok(body: Value) -> Self {
        InvokeResponse { status: 200, body: Some(body) }
    }

    /// An answer with this status and body.
    pub fn new(status: u16, body: Option<Value>) -> Self {
        InvokeResponse { status, body }
    }
}

/// What a turn produced for the caller of [`Bot::receive`](crate::Bot::receive).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum TurnOutcome {
    /// The activity was handled: a message's turn saved its state and queued its replies;
    /// another activity was announced to the observers.
    #[default]
    Completed,
    /// An `invoke` ran; the answer goes back in the HTTP response.
    Invoked(InvokeResponse),
    /// A middleware stopped the activity before its turn: nothing ran, nothing was saved.
    Dropped,
}

impl TurnOutcome {
    /// The answer of an `invoke`.
    pub fn invoke_response(&self) -> Option<&InvokeResponse> {
        match self {
            TurnOutcome::Invoked(response) => Some(response),
            _ => None,
        }
    }

    /// The answer of an `invoke`, owned.
    pub fn into_invoke_response(self) -> Option<InvokeResponse> {
        match self {
            TurnOutcome::Invoked(response) => Some(response),
            _ => None,
        }
    }
}

/// The receipt of a delivered proactive message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The channel's id of the new activity.
    pub activity_id: Option<String>,
    /// The message's id in the outbox, when it went through one.
    pub outbox_id: Option<OutboxId>,
}
