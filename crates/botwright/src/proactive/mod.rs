//! The proactive engine: reaching users first, reliably.
//!
//! - [`Bot::send`] sends one message and waits for the channel's answer; [`Bot::enqueue`]
//!   accepts one and returns its outbox id at once; [`Bot::send_with_deadline`] waits up to a
//!   deadline and withdraws the message if it was not delivered by then;
//!   [`Bot::outbox_status`] tells where a message stands.
//! - [`Bot::send_all`], [`Bot::send_to_all`] and [`Bot::begin_dialog_all`] fan out to many
//!   addresses with bounded concurrency and report per address ([`FanOut`], [`FanOutSummary`]).
//! - [`Bot::schedule`] keeps jobs (a message, or a dialog to begin) in the store, one-off or
//!   recurring by cron expression in a time zone.
//! - [`Bot::start`] starts the outbox worker and the scheduler; [`Bot::shutdown`] stops them.
//!
//! # Guarantees
//!
//! When the bot has an [`Outbox`](crate::storage::Outbox) (every bot built without a separate
//! state store has the in-memory one; [`BotBuilder::store`](crate::bot::BotBuilder::store) gives
//! a durable one), a proactive message is written to it **before** the call that accepted it
//! returns. From there:
//!
//! - **At least once.** An entry is claimed with a lease
//!   ([`ProactiveSettings::lease`]) by one instance's outbox worker and delivered. If that
//!   instance dies, the lease expires and another instance (or the restarted one, after
//!   [`Bot::start`]) delivers it. Duplicates are limited to messages that were in flight when an
//!   instance died (or whose outcome could not be written back). Every attempt of one entry
//!   carries the same `activity.id`, `botwright-outbox-<id>` ([`STABLE_ID_PREFIX`]), so a channel
//!   can count duplicates.
//! - **Order per conversation.** Only the oldest pending entry of a conversation can be claimed,
//!   and only while no other claim on that conversation is live; a retried message holds back
//!   the conversation's later ones.
//! - **Retries.** 429, 5xx and transport errors are retried with exponential backoff and jitter
//!   ([`RetryPolicy`](crate::RetryPolicy)), never sooner than the channel's `Retry-After`. The
//!   conversation's and service URL's rate limits ([`RateLimits`]) are waited for before every
//!   attempt.
//! - **Give-up is loud.** After `max_attempts` or `max_age`, or on a permanent refusal, the entry
//!   becomes a dead letter in the outbox (with its reason) and a
//!   [`BotEvent::DeadLetter`](crate::bot::BotEvent::DeadLetter) is emitted. A 403 or 404 marks the
//!   address stale ([`BotEvent::AddressStale`](crate::bot::BotEvent::AddressStale)) until the
//!   user writes again. The outbox's record
//!   ([`Outbox::dead_letters`](crate::storage::Outbox::dead_letters)) is the one to rely on: an
//!   event subscriber that falls far behind (every delivery is an event too) misses old events.
//!
//! The replies of a turn do **not** go through the outbox: the user who just wrote is there, the
//! turn's state save is already one write, and an outbox write per reply would double the store
//! traffic of every turn. A crash between a turn's save and its replies' delivery loses those
//! replies (as in Bot Builder v3). The messages of a *proactive* turn ([`Bot::begin_dialog`],
//! [`Bot::load_session`]) do go through the outbox.
//!
//! A bot without an outbox (built with a state-only [`BotBuilder::storage`](crate::bot::BotBuilder::storage))
//! delivers everything from memory: same retries, order and rate limits, nothing survives a
//! restart.
//!
//! ```
//! use botwright::{Bot, Message};
//! use botwright::testing::TestFlow;
//! # tokio_test::block_on(async {
//! let mut flow = TestFlow::new(Bot::builder());
//! let bot = flow.bot().clone();
//! bot.start().await;
//! // Accepted into the outbox, delivered by the worker.
//! let id = bot.enqueue(Message::new().address(flow.address()).text("Build 42 passed")).await.unwrap();
//! flow.bot_says("Build 42 passed").await;
//! bot.flush().await;
//! assert!(matches!(bot.outbox_status(id).await.unwrap(),
//!     Some(botwright::storage::OutboxStatus::Delivered { .. })));
//! bot.shutdown(std::time::Duration::from_secs(5)).await;
//! # });
//! ```

mod dialog;
mod fan_out;
mod scheduler;

pub use crate::delivery::{ProactiveSettings, Rate, RateLimits, STABLE_ID_PREFIX, ShutdownReport};
pub use fan_out::{FanOut, FanOutError, FanOutItem, FanOutSummary};
pub use scheduler::{ProactiveJob, ScheduleError, ScheduledJob, When};

use crate::activity::Activity;
use crate::address::{Address, AddressError};
use crate::bot::Bot;
use crate::delivery::Submitted;
use crate::error::SendError;
use crate::message::Message;
use crate::outcome::Receipt;
use crate::state;
use crate::storage::{OutboxId, OutboxStatus, StorageError};
use std::time::Duration;

impl Bot {
    /// Sends a message to the address it carries, proactively: no dialog state is read or
    /// changed. A message given as an id with parameters ([`Message::localized`]) is resolved in
    /// the user's stored preferred locale (else the address's locale, else the default).
    ///
    /// Returns once the channel accepted the message, or with the reason it did not (after the
    /// retries of the delivery engine).
    pub async fn send(&self, message: impl Into<Message>) -> Result<Receipt, SendError> {
        let submitted = self.submit(message.into()).await?;
        self.inner.delivery.outcome(submitted).await
    }

    /// Accepts a proactive message: into the outbox when the bot has one (written before this
    /// returns), else into the in-memory queue.
    pub(crate) async fn submit(&self, message: Message) -> Result<Submitted, SendError> {
        let (address, activity) = self.prepare_proactive(message).await?;
        self.inner.delivery.accept(address, activity).await
    }

    pub(crate) async fn locale_for(&self, address: &Address, message: &Message) -> Result<String, StorageError> {
        if let Some(locale) = &message.activity.locale {
            return Ok(locale.clone());
        }
        let needs_lookup = matches!(message.text, Some(ref t) if text_is_localized(t));
        let preferred = if needs_lookup {
            let (doc, _) = state::read_user(self.storage(), &address.channel_id, &address.user.id).await?;
            doc.locale
        } else {
            None
        };
        Ok(crate::locale::resolve_locale(
            preferred.as_deref(),
            address.locale.as_deref(),
            self.localizer().default_locale(),
        ))
    }

    /// Resolves a proactive message into its address and addressed activity (the text in the
    /// user's preferred locale).
    pub(crate) async fn prepare_proactive(&self, mut message: Message) -> Result<(Address, Activity), SendError> {
        let address = message.address.take().ok_or(SendError::InvalidAddress(AddressError::MissingConversation))?;
        let locale = self.locale_for(&address, &message).await?;
        let mut activity = message.into_activity(self.localizer(), &locale);
        address.apply_to(&mut activity);
        Ok((address, activity))
    }

    /// Starts the outbox worker and the scheduler of this process (idempotent). Call it at
    /// startup: messages and jobs left by a previous run (or by an instance that died) are
    /// picked up only by a running worker. A send, a schedule or a flush also starts them, so
    /// a bot that never calls it still delivers what it sends itself.
    ///
    /// With a stable [`ProactiveSettings::instance_id`] (the same on every run of one
    /// instance, never shared by two running instances), it first releases the claims the
    /// previous run held when it died, so the messages and jobs it was handling go out at once
    /// instead of after their leases expire.
    ///
    /// Spawns Tokio tasks: call it inside a Tokio runtime.
    pub async fn start(&self) {
        // Claims under our id are a previous run's only while this run has claimed nothing.
        let fresh_jobs = !self.inner.scheduler.is_started();
        self.inner.delivery.start().await;
        scheduler::start(self, fresh_jobs).await;
    }

    /// Stops the outbox worker and the scheduler, and waits up to `timeout` for deliveries in
    /// flight (durable attempts and the in-memory queues) to finish. Messages not yet delivered
    /// stay in the outbox for the next start or another instance. Proactive sends after this
    /// fail with [`SendError::ShuttingDown`]; waiting senders get it once the wait is over.
    pub async fn shutdown(&self, timeout: Duration) -> ShutdownReport {
        self.inner.scheduler.wake_all();
        self.inner.delivery.shutdown(timeout).await
    }

    /// Accepts a proactive message and returns its outbox id at once; the engine delivers it
    /// with retries. Follow it with [`Bot::outbox_status`].
    ///
    /// Fails with [`SendError::NoOutbox`] when the bot has no outbox.
    pub async fn enqueue(&self, message: impl Into<Message>) -> Result<OutboxId, SendError> {
        self.inner.delivery.require_outbox()?;
        self.submit(message.into()).await?.outbox_id().ok_or(SendError::NoOutbox)
    }

    /// Where a message accepted into the outbox stands (`None`: unknown id).
    pub async fn outbox_status(&self, id: OutboxId) -> Result<Option<OutboxStatus>, SendError> {
        let outbox = self.inner.delivery.require_outbox()?;
        Ok(outbox.status(id).await?)
    }

    /// Sends a message and waits up to `timeout` for the channel to accept it. If it was not
    /// delivered by then, it is withdrawn (an attempt in flight is waited for), so an error
    /// means the message will not arrive later: [`SendError::Withdrawn`] when it was taken
    /// back, or the reason it failed.
    ///
    /// ```
    /// # use botwright::{Bot, Message};
    /// # use botwright::testing::TestFlow;
    /// # use std::time::Duration;
    /// # tokio_test::block_on(async {
    /// # let mut flow = TestFlow::new(Bot::builder());
    /// let receipt = flow.bot()
    ///     .send_with_deadline(Message::new().address(flow.address()).text("Deploy done"), Duration::from_secs(5))
    ///     .await
    ///     .unwrap();
    /// assert!(receipt.activity_id.is_some());
    /// # });
    /// ```
    pub async fn send_with_deadline(
        &self,
        message: impl Into<Message>,
        timeout: Duration,
    ) -> Result<Receipt, SendError> {
        let submitted = self.submit(message.into()).await?;
        self.inner.delivery.outcome_within(submitted, timeout).await
    }
}

fn text_is_localized(text: &crate::text::Text) -> bool {
    match text {
        crate::text::Text::Localized { .. } => true,
        crate::text::Text::Plain { .. } => false,
        crate::text::Text::OneOf(all) => all.iter().any(text_is_localized),
    }
}
