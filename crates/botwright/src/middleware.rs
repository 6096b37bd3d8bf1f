//! Middleware: code that wraps every turn and every delivery attempt.
//!
//! A [`Middleware`] gets the incoming activity and the rest of the pipeline as [`Next`]: it may
//! look at or change the activity, call `next.run(activity)` (the later middleware, then the
//! turn), time it, map its error, look at its outcome, or not call it at all (the activity is
//! dropped: return [`TurnOutcome::Dropped`]). The same holds for outgoing activities with
//! [`Middleware::on_send`] and [`SendNext`], once per delivery attempt (on every path: replies,
//! proactive messages, the outbox).
//!
//! Middleware run in the order they were added: the first one added is the outermost.
//!
//! ```
//! use botwright::{Activity, Address, Bot, TurnOutcome, async_trait};
//! use botwright::channel::{Delivered, DeliveryError};
//! use botwright::error::TurnError;
//! use botwright::middleware::{Middleware, Next, SendNext};
//! use botwright::testing::TestFlow;
//!
//! /// Drops messages from one user, times every turn, and signs every outgoing message.
//! struct House(&'static str);
//!
//! #[async_trait]
//! impl Middleware for House {
//!     async fn on_turn(&self, activity: &mut Activity, next: Next<'_>) -> Result<TurnOutcome, TurnError> {
//!         if activity.from_id() == self.0 {
//!             return Ok(TurnOutcome::Dropped);
//!         }
//!         let started = std::time::Instant::now();
//!         let outcome = next.run(activity).await;
//!         tracing::debug!(elapsed = ?started.elapsed(), "turn");
//!         outcome
//!     }
//!
//!     async fn on_send(&self, address: &Address, activity: &mut Activity, next: SendNext<'_>)
//!         -> Result<Delivered, DeliveryError> {
//!         if let Some(text) = &mut activity.text {
//!             text.push_str(" — the bot");
//!         }
//!         next.run(address, activity).await
//!     }
//! }
//!
//! # tokio_test::block_on(async {
//! let bot = Bot::builder().middleware(House("mallory")).dialog("/", botwright::Waterfall::new()
//!     .step(|s, _| async move { s.end_dialog_with_message("hi"); Ok(()) }));
//! let mut flow = TestFlow::new(bot);
//! flow.user_says("hello").await;
//! flow.bot_says("hi — the bot").await;
//! # });
//! ```

use crate::activity::Activity;
use crate::address::Address;
use crate::channel::{Channel, Delivered, DeliveryError};
use crate::error::TurnError;
use crate::outcome::TurnOutcome;
use async_trait::async_trait;
use std::sync::Arc;

/// Code that wraps every turn and every delivery attempt (see the [module](self) documentation).
///
/// Both methods default to passing straight on. The older hooks [`receive`](Self::receive) and
/// [`send`](Self::send), which return `false` to stop what they were given, still work: the
/// default `on_turn` and `on_send` call them first.
#[async_trait]
pub trait Middleware: Send + Sync + 'static {
    /// Wraps the turn of an incoming activity. Call `next.run(activity)` to go on; return
    /// without calling it to stop the activity (with [`TurnOutcome::Dropped`]).
    async fn on_turn(&self, activity: &mut Activity, next: Next<'_>) -> Result<TurnOutcome, TurnError> {
        #[allow(deprecated)]
        if !self.receive(activity).await {
            return Ok(TurnOutcome::Dropped);
        }
        next.run(activity).await
    }

    /// Wraps one delivery attempt of an outgoing activity (again on every retry, with the
    /// activity as it was accepted). Call `next.run(address, activity)` to go on; return
    /// [`DeliveryError::Withheld`] to stop the message (it is withdrawn, not a dead letter).
    async fn on_send(
        &self,
        address: &Address,
        activity: &mut Activity,
        next: SendNext<'_>,
    ) -> Result<Delivered, DeliveryError> {
        #[allow(deprecated)]
        if !self.send(activity).await {
            return Err(DeliveryError::Withheld("stopped by send middleware".into()));
        }
        next.run(address, activity).await
    }

    /// An incoming activity, before anything else. `false` drops it.
    #[deprecated(since = "0.2.0", note = "implement `on_turn`, which wraps the turn")]
    async fn receive(&self, activity: &mut Activity) -> bool {
        let _ = activity;
        true
    }

    /// An outgoing activity, before it is delivered. `false` drops it.
    #[deprecated(since = "0.2.0", note = "implement `on_send`, which wraps the delivery attempt")]
    async fn send(&self, activity: &mut Activity) -> bool {
        let _ = activity;
        true
    }
}

/// What runs a turn once every middleware let the activity through (the bot).
#[async_trait]
pub(crate) trait Turn: Send + Sync {
    async fn run(&self, activity: Activity) -> Result<TurnOutcome, TurnError>;
}

/// The rest of the turn pipeline, for [`Middleware::on_turn`].
pub struct Next<'a> {
    rest: &'a [Arc<dyn Middleware>],
    turn: &'a dyn Turn,
}

impl std::fmt::Debug for Next<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Next").field("middleware_left", &self.rest.len()).finish_non_exhaustive()
    }
}

impl<'a> Next<'a> {
    pub(crate) fn new(rest: &'a [Arc<dyn Middleware>], turn: &'a dyn Turn) -> Self {
        Next { rest, turn }
    }

    /// Runs the later middleware and then the turn with `activity` (as it is now).
    pub async fn run(self, activity: &mut Activity) -> Result<TurnOutcome, TurnError> {
        match self.rest.split_first() {
            Some((first, rest)) => first.on_turn(activity, Next { rest, turn: self.turn }).await,
            None => self.turn.run(activity.clone()).await,
        }
    }
}

/// The rest of one delivery attempt, for [`Middleware::on_send`].
pub struct SendNext<'a> {
    rest: &'a [Arc<dyn Middleware>],
    channel: &'a dyn Channel,
}

impl std::fmt::Debug for SendNext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendNext").field("middleware_left", &self.rest.len()).finish_non_exhaustive()
    }
}

impl<'a> SendNext<'a> {
    pub(crate) fn new(rest: &'a [Arc<dyn Middleware>], channel: &'a dyn Channel) -> Self {
        SendNext { rest, channel }
    }

    /// Runs the later middleware and then the channel's delivery of `activity`.
    pub async fn run(self, address: &Address, activity: &mut Activity) -> Result<Delivered, DeliveryError> {
        match self.rest.split_first() {
            Some((first, rest)) => first.on_send(address, activity, SendNext { rest, channel: self.channel }).await,
            None => self.channel.deliver(address, activity).await,
        }
    }
}

/// Delivers `activity` through the send middleware and `channel`: one attempt. Returns the
/// outcome and, when middleware ran, the activity as they passed it on (for the event that
/// announces the delivery). Without middleware the activity is not copied.
pub(crate) async fn attempt(
    middleware: &[Arc<dyn Middleware>],
    channel: &dyn Channel,
    address: &Address,
    activity: &Activity,
) -> (Result<Delivered, DeliveryError>, Option<Activity>) {
    if middleware.is_empty() {
        return (channel.deliver(address, activity).await, None);
    }
    // Each attempt starts from the activity as accepted: a middleware that changes it does so
    // once per attempt, not once more per retry.
    let mut sent = activity.clone();
    let result = SendNext::new(middleware, channel).run(address, &mut sent).await;
    (result, Some(sent))
}
