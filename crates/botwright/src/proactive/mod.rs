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

pub(crate) mod fan_out;
pub(crate) mod outbox_worker;
pub(crate) mod rate_limit;
pub(crate) mod scheduler;

pub use fan_out::{FanOut, FanOutError, FanOutItem, FanOutSummary};
pub use outbox_worker::STABLE_ID_PREFIX;
pub use rate_limit::{Rate, RateLimits};
pub use scheduler::{ProactiveJob, ScheduleError, ScheduledJob, When};

use crate::activity::Activity;
use crate::address::{Address, AddressError};
use crate::bot::{Bot, Receipt};
use crate::channel::Delivered;
use crate::delivery::{Delivery, OutItem, Outgoing, Shared, Withdrawal};
use crate::error::SendError;
use crate::message::Message;
use crate::storage::{NewOutboxEntry, OutboxId, OutboxStatus};
use outbox_worker::{Finished, Payload, encode};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::oneshot;

/// How the proactive engine works; every field has a default.
#[derive(Debug, Clone)]
pub struct ProactiveSettings {
    /// Durable deliveries in flight at once in this process (default 64): the outbox worker's
    /// concurrency, and so a fan-out's.
    pub max_in_flight: usize,
    /// Proactive turns run at once by [`Bot::begin_dialog_all`] (default 64).
    pub fan_out_concurrency: usize,
    /// How many messages a fan-out writes to the outbox in one batch (default 500).
    pub enqueue_batch: usize,
    /// Rate limits (default: inside Microsoft Teams' documented limits; see [`RateLimits`]).
    pub rate_limits: RateLimits,
    /// How long a claimed outbox entry belongs to this instance (default 2 minutes). Must exceed
    /// the longest delivery attempt plus rate-limit wait, or another instance may deliver the
    /// message a second time.
    pub lease: Duration,
    /// How often the workers look for work they were not told about: entries of other
    /// instances, expired leases, due jobs (default 1 s).
    pub poll_interval: Duration,
    /// This instance's name in leases (default: random).
    pub instance_id: String,
    /// How long a claimed scheduled job belongs to this instance (default 1 minute).
    pub job_lease: Duration,
    /// When a scheduled job fails for a reason that may pass (the store), it runs again after
    /// this long (default 30 s).
    pub job_retry: Duration,
    /// How long finished outbox entries (delivered, dead, withdrawn) are kept after they were
    /// enqueued, so that [`Bot::outbox_status`] and dead letters can answer for them (default 7
    /// days; `None` keeps them). The outbox worker deletes older ones every
    /// [`purge_interval`](Self::purge_interval).
    pub outbox_retention: Option<Duration>,
    /// How often the outbox worker deletes finished entries older than the retention (default
    /// 10 minutes, and once as it starts).
    pub purge_interval: Duration,
}

impl Default for ProactiveSettings {
    fn default() -> Self {
        ProactiveSettings {
            max_in_flight: 64,
            fan_out_concurrency: 64,
            enqueue_batch: 500,
            rate_limits: RateLimits::default(),
            lease: Duration::from_secs(120),
            poll_interval: Duration::from_secs(1),
            instance_id: format!("botwright-{:016x}", rand::random::<u64>()),
            job_lease: Duration::from_secs(60),
            job_retry: Duration::from_secs(30),
            outbox_retention: Some(Duration::from_secs(7 * 24 * 3600)),
            purge_interval: Duration::from_secs(600),
        }
    }
}

/// What a shutdown left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Durable attempts still in flight when the timeout passed (their entries stay in the
    /// outbox; if the attempt does not finish, the lease expires and another instance, or the
    /// next start, delivers them).
    pub in_flight: usize,
    /// In-memory messages (replies) still queued when the timeout passed.
    pub queued_in_memory: usize,
}

impl ShutdownReport {
    /// Whether everything in flight finished.
    pub fn is_clean(&self) -> bool {
        self.in_flight == 0 && self.queued_in_memory == 0
    }
}

/// A message accepted for delivery.
#[derive(Debug)]
pub(crate) enum Submitted {
    /// In the outbox, under this id.
    Durable(OutboxId),
    /// In the in-memory queue.
    Memory { rx: oneshot::Receiver<Result<Delivered, SendError>>, withdrawal: Arc<Withdrawal> },
}

impl Delivery {
    /// Accepts an addressed activity: into the outbox when there is one (written before this
    /// returns), else into the in-memory queue.
    pub(crate) async fn accept(&self, address: Address, activity: Activity) -> Result<Submitted, SendError> {
        let shared = &self.shared;
        shared.check_running()?;
        let key = address.conversation_key();
        if shared.outbox.is_some() {
            let payload = Payload { address, activity, fan_out: None };
            let entry =
                NewOutboxEntry { conversation_key: key, payload: encode(&payload)?, not_before: SystemTime::now() };
            let ids = shared.enqueue(std::slice::from_ref(&entry)).await?;
            shared.ensure_worker();
            let id = ids.first().copied().ok_or_else(|| {
                SendError::Storage(crate::storage::StorageError::backend("the outbox returned no id"))
            })?;
            return Ok(Submitted::Durable(id));
        }
        let (tx, rx) = oneshot::channel();
        let withdrawal = Arc::new(Withdrawal::default());
        let out = Outgoing {
            address,
            activity,
            reply: Some(tx),
            enqueued_at: Instant::now(),
            withdrawal: Some(withdrawal.clone()),
        };
        self.submit(&key, vec![OutItem::Activity(Box::new(out))]);
        Ok(Submitted::Memory { rx, withdrawal })
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl Submitted {
    /// Waits for the final outcome.
    pub(crate) async fn outcome(self, shared: &Shared) -> Result<Receipt, SendError> {
        match self {
            Submitted::Durable(id) => {
                let delivered = shared.wait_finished(id).await?.into_result()?;
                Ok(receipt(delivered, Some(id)))
            }
            Submitted::Memory { rx, .. } => {
                let delivered = rx.await.map_err(|_| SendError::ShuttingDown)??;
                Ok(receipt(delivered, None))
            }
        }
    }
}

fn receipt(delivered: Delivered, outbox_id: Option<OutboxId>) -> Receipt {
    Receipt { activity_id: delivered.activity_id, outbox_id }
}

impl Bot {
    /// Resolves a proactive message into its address and addressed activity (the text in the
    /// user's preferred locale).
    pub(crate) async fn prepare_proactive(&self, mut message: Message) -> Result<(Address, Activity), SendError> {
        let address = message.address.take().ok_or(SendError::InvalidAddress(AddressError::MissingConversation))?;
        let locale = self.locale_for(&address, &message).await?;
        let mut activity = message.into_activity(self.localizer(), &locale);
        address.apply_to(&mut activity);
        Ok((address, activity))
    }

    fn engine(&self) -> &Arc<Shared> {
        self.inner.delivery.shared()
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
        let owner = self.engine().settings.instance_id.clone();
        // Claims under our id are a previous run's only while this run has claimed nothing.
        let fresh_outbox = !self.engine().worker_started.load(std::sync::atomic::Ordering::SeqCst);
        let fresh_jobs = !self.engine().scheduler_started.load(std::sync::atomic::Ordering::SeqCst);
        if let Some(outbox) = self.outbox().filter(|_| fresh_outbox) {
            match outbox.release_claims(&owner).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(released = n, instance = %owner, "took back messages a previous run had claimed")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not release a previous run's claims; they wait for their leases")
                }
            }
        }
        if let Some(jobs) = self.job_store().filter(|_| fresh_jobs) {
            match jobs.release_job_claims(&owner).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(released = n, instance = %owner, "took back jobs a previous run had claimed"),
                Err(e) => tracing::warn!(error = %e, "could not release a previous run's job claims"),
            }
        }
        self.engine().ensure_worker();
        scheduler::ensure(self);
    }

    /// Stops the outbox worker and the scheduler, and waits up to `timeout` for deliveries in
    /// flight (durable attempts and the in-memory queues) to finish. Messages not yet delivered
    /// stay in the outbox for the next start or another instance. Proactive sends after this
    /// fail with [`SendError::ShuttingDown`]; waiting senders get it once the wait is over.
    pub async fn shutdown(&self, timeout: Duration) -> ShutdownReport {
        let shared = self.engine();
        shared.stopping.send_replace(true);
        shared.wake.notify_waiters();
        shared.scheduler_wake.notify_waiters();
        let deadline = crate::later::tokio_after(tokio::time::Instant::now(), timeout);
        loop {
            let report = ShutdownReport {
                in_flight: shared.in_flight.load(Ordering::SeqCst),
                queued_in_memory: shared.queued_in_memory(),
            };
            if report.is_clean() || tokio::time::Instant::now() >= deadline {
                shared.stopped.send_replace(true);
                return report;
            }
            tokio::time::sleep(
                Duration::from_millis(10).min(deadline.saturating_duration_since(tokio::time::Instant::now())),
            )
            .await;
        }
    }

    /// Accepts a proactive message and returns its outbox id at once; the engine delivers it
    /// with retries. Follow it with [`Bot::outbox_status`].
    ///
    /// Fails with [`SendError::NoOutbox`] when the bot has no outbox.
    pub async fn enqueue(&self, message: impl Into<Message>) -> Result<OutboxId, SendError> {
        self.engine().require_outbox()?;
        match self.submit(message.into()).await? {
            Submitted::Durable(id) => Ok(id),
            Submitted::Memory { .. } => Err(SendError::NoOutbox),
        }
    }

    /// Where a message accepted into the outbox stands (`None`: unknown id).
    pub async fn outbox_status(&self, id: OutboxId) -> Result<Option<OutboxStatus>, SendError> {
        let outbox = self.engine().require_outbox()?;
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
        let shared = self.engine().clone();
        match self.submit(message.into()).await? {
            Submitted::Durable(id) => {
                if let Ok(done) = tokio::time::timeout(timeout, shared.wait_finished(id)).await {
                    return Ok(receipt(done?.into_result()?, Some(id)));
                }
                withdraw(&shared, id).await
            }
            Submitted::Memory { mut rx, withdrawal } => {
                let result = match tokio::time::timeout(timeout, &mut rx).await {
                    Ok(result) => result,
                    Err(_) => {
                        if withdrawal.request() {
                            return Err(SendError::Withdrawn { last_error: None });
                        }
                        // An attempt is running: its outcome decides.
                        rx.await
                    }
                };
                let delivered = result.map_err(|_| SendError::ShuttingDown)??;
                Ok(receipt(delivered, None))
            }
        }
    }
}

/// Takes a durable message back; waits for an attempt in flight and reports its outcome.
async fn withdraw(shared: &Shared, id: OutboxId) -> Result<Receipt, SendError> {
    let outbox = shared.require_outbox()?;
    loop {
        // Why the attempts so far failed, for the caller (read before the entry is withdrawn).
        let last_error = match outbox.status(id).await? {
            Some(OutboxStatus::Pending { last_error, .. }) => last_error,
            _ => None,
        };
        if outbox.withdraw(id).await? {
            tracing::info!(outbox_id = id, "message withdrawn: its deadline passed");
            shared.listeners.withdrawn(id);
            return Err(SendError::Withdrawn { last_error });
        }
        let status = outbox.status(id).await?;
        match status.as_ref().and_then(Finished::from_status) {
            Some(done) => {
                let done = shared.listeners.recent(id).unwrap_or(done);
                return Ok(receipt(done.into_result()?, Some(id)));
            }
            None if status.is_none() => {
                return Err(SendError::Storage(crate::storage::StorageError::Corrupt {
                    key: format!("outbox/{id}"),
                    reason: "no such outbox entry".into(),
                }));
            }
            // Claimed: an attempt is in flight (here or in another instance).
            None => shared.wait_attempt(id).await,
        }
    }
}
