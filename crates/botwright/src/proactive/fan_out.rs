//! Fan-out: one message (or one dialog) to many addresses.
//!
//! [`Bot::send_all`] writes every message to the outbox in batches before it returns (so all of
//! them are accepted, and survive a crash), then reports each one's outcome as the outbox worker
//! delivers it, at most [`ProactiveSettings::max_in_flight`] at a time. No task is spawned per
//! message: the process holds one small record per message (its address and outbox id) plus
//! the outcomes not yet read from the stream.
//!
//! [`Bot::begin_dialog_all`] runs one proactive turn per address, at most
//! [`ProactiveSettings::fan_out_concurrency`] at a time, and waits for the messages each turn
//! sent.
//!
//! [`ProactiveSettings::max_in_flight`]: super::ProactiveSettings::max_in_flight
//! [`ProactiveSettings::fan_out_concurrency`]: super::ProactiveSettings::fan_out_concurrency

use crate::address::Address;
use crate::bot::{Bot, StackPolicy};
use crate::dead_letter::DeadLetterReason;
use crate::delivery::{Delivery, FanOutRegistration, Finished};
use crate::error::{SendError, TurnError};
use crate::message::Message;
use crate::outcome::Receipt;
use crate::storage::{NewOutboxEntry, OutboxId};
use futures::stream::{self, BoxStream, Stream, StreamExt};
use serde_json::Value;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Why one address of a fan-out was not reached.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FanOutError {
    /// The message was not delivered.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The proactive turn failed (nothing was saved or sent).
    #[error(transparent)]
    Turn(#[from] TurnError),
}

impl FanOutError {
    /// Whether the channel said the address no longer works (403 / 404).
    pub fn is_stale(&self) -> bool {
        match self {
            FanOutError::Send(SendError::Stale(_)) => true,
            FanOutError::Send(SendError::Dead { reason }) => reason.is_stale(),
            _ => false,
        }
    }
}

/// The outcome for one address of a fan-out.
#[derive(Debug)]
pub struct FanOutItem {
    /// The position of the message (or address) in the input.
    pub index: usize,
    /// The address (`None` for a message given without one, and for a message another
    /// instance of the bot delivered, whose outcome was read from the store).
    pub address: Option<Address>,
    /// The receipt of the (last) message delivered; `None` when a dialog sent nothing, or when
    /// the bot has no outbox to follow a dialog's messages through.
    pub result: Result<Option<Receipt>, FanOutError>,
}

/// The totals of a fan-out.
#[derive(Debug, Default)]
pub struct FanOutSummary {
    /// Addresses handled.
    pub total: usize,
    /// Delivered (or, for dialogs, begun).
    pub delivered: usize,
    /// Addresses the channel called stale (403 / 404); also counted as failed.
    pub stale: Vec<Address>,
    /// Failures, with the reason.
    pub failed: Vec<(Option<Address>, String)>,
}

impl FanOutSummary {
    /// Counts one outcome.
    pub fn add(&mut self, item: &FanOutItem) {
        self.total += 1;
        match &item.result {
            Ok(_) => self.delivered += 1,
            Err(error) => {
                if error.is_stale()
                    && let Some(address) = &item.address
                {
                    self.stale.push(address.clone());
                }
                self.failed.push((item.address.clone(), error.to_string()));
            }
        }
    }
}

/// The outcomes of a fan-out, as they come (not in input order). Read it as a
/// [`Stream`], or call [`FanOut::summary`] for the totals.
pub struct FanOut {
    len: usize,
    stream: BoxStream<'static, FanOutItem>,
}

impl std::fmt::Debug for FanOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanOut").field("len", &self.len).finish_non_exhaustive()
    }
}

impl FanOut {
    /// How many outcomes the stream yields in all.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the fan-out had nothing to send.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Waits for every outcome and counts them.
    pub async fn summary(mut self) -> FanOutSummary {
        let mut summary = FanOutSummary::default();
        while let Some(item) = self.stream.next().await {
            summary.add(&item);
        }
        summary
    }
}

impl Stream for FanOut {
    type Item = FanOutItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<FanOutItem>> {
        self.stream.as_mut().poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

impl Bot {
    /// Sends each message to the address it carries.
    ///
    /// With an outbox, every message is written to it (in batches of
    /// [`ProactiveSettings::enqueue_batch`](super::ProactiveSettings::enqueue_batch)) before
    /// this returns; an `Err` means a batch could not be written (messages of earlier batches
    /// were accepted and go out). Without one, messages are sent from memory as the stream is
    /// read, [`ProactiveSettings::max_in_flight`](super::ProactiveSettings::max_in_flight) at a
    /// time.
    ///
    /// ```
    /// use botwright::{Bot, Message};
    /// use botwright::testing::TestFlow;
    /// # tokio_test::block_on(async {
    /// let mut flow = TestFlow::new(Bot::builder());
    /// let team: Vec<_> = ["ana", "ben", "eva"].iter().map(|u| {
    ///     flow.as_user(u).in_conversation(&format!("dm-{u}"));
    ///     flow.address()
    /// }).collect();
    /// let summary = flow.bot().send_to_all(team, Message::new().text("Release 1.2 is out")).await.unwrap()
    ///     .summary().await;
    /// assert_eq!(summary.delivered, 3);
    /// assert!(summary.failed.is_empty());
    /// # });
    /// ```
    pub async fn send_all<I>(&self, messages: I) -> Result<FanOut, SendError>
    where
        I: IntoIterator<Item = Message>,
        I::IntoIter: Send + 'static,
    {
        let delivery = self.inner.delivery.clone();
        if delivery.lifecycle().is_stopping() {
            return Err(SendError::ShuttingDown);
        }
        if delivery.require_outbox().is_err() {
            return Ok(self.send_all_from_memory(messages.into_iter()));
        }
        let registration = delivery.register_fan_out();
        let token = registration.token;
        let batch = delivery.settings().enqueue_batch.max(1);
        let mut ids: Vec<Option<OutboxId>> = Vec::new();
        let mut ready: VecDeque<FanOutItem> = VecDeque::new();
        let mut entries = Vec::with_capacity(batch);
        let mut pending_indexes = Vec::with_capacity(batch);
        for (index, message) in messages.into_iter().enumerate() {
            ids.push(None);
            // Kept only to report a message that cannot be sent; the worker reports the
            // address of the others with their outcome.
            let address = message.address_ref().cloned();
            match self.prepare_proactive(message).await {
                Ok((address, activity)) => {
                    entries.push(delivery.fan_out_entry(address, activity, token, index)?);
                    pending_indexes.push(index);
                }
                Err(error) => ready.push_back(FanOutItem { index, address, result: Err(error.into()) }),
            }
            if entries.len() >= batch {
                flush_batch(&delivery, &mut entries, &mut pending_indexes, &mut ids).await?;
            }
        }
        flush_batch(&delivery, &mut entries, &mut pending_indexes, &mut ids).await?;
        let outstanding = ids.iter().filter(|i| i.is_some()).count();
        let len = ids.len();
        let state = Outcomes { delivery, registration, ids, done: vec![false; len], outstanding, ready, cursor: 0 };
        Ok(FanOut { len, stream: stream::unfold(state, Outcomes::next).boxed() })
    }

    /// Sends `template` to each address.
    pub async fn send_to_all<I>(&self, addresses: I, template: Message) -> Result<FanOut, SendError>
    where
        I: IntoIterator<Item = Address>,
        I::IntoIter: Send + 'static,
    {
        let messages = addresses.into_iter().map(move |a| template.clone().address(a));
        self.send_all(messages).await
    }

    fn send_all_from_memory<I>(&self, messages: I) -> FanOut
    where
        I: Iterator<Item = Message> + Send + 'static,
    {
        let (len, _) = messages.size_hint();
        let bot = self.clone();
        let concurrency = self.inner.delivery.settings().max_in_flight.max(1);
        let stream = stream::iter(messages.enumerate())
            .map(move |(index, message)| {
                let bot = bot.clone();
                async move {
                    let address = message.address_ref().cloned();
                    let result = bot.send(message).await.map(Some).map_err(FanOutError::from);
                    FanOutItem { index, address, result }
                }
            })
            .buffer_unordered(concurrency)
            .boxed();
        FanOut { len, stream }
    }

    /// Begins dialog `dialog_id` with every address (the standup: ask each team member), at
    /// most [`ProactiveSettings::fan_out_concurrency`](super::ProactiveSettings::fan_out_concurrency)
    /// turns at a time, as the stream is read. Each outcome comes once the turn ran and (with
    /// an outbox) the messages it sent were delivered or given up.
    ///
    /// [`FanOut::len`] is the input's lower size hint (exact for vectors and ranges).
    ///
    /// ```
    /// use botwright::{Bot, Prompt, StackPolicy, Waterfall};
    /// use botwright::testing::TestFlow;
    /// # tokio_test::block_on(async {
    /// let mut flow = TestFlow::new(Bot::builder().dialog("standup", Waterfall::new().step(|s, _| async move {
    ///     s.prompt(Prompt::text("What is your status for today?"));
    ///     Ok(())
    /// })));
    /// let team = vec![flow.address()];
    /// let summary = flow.bot()
    ///     .begin_dialog_all(team, "standup", serde_json::Value::Null, StackPolicy::Push)
    ///     .summary()
    ///     .await;
    /// assert_eq!(summary.delivered, 1);
    /// flow.bot_says("What is your status for today?").await;
    /// # });
    /// ```
    pub fn begin_dialog_all<I>(&self, addresses: I, dialog_id: &str, args: Value, policy: StackPolicy) -> FanOut
    where
        I: IntoIterator<Item = Address>,
        I::IntoIter: Send + 'static,
    {
        let addresses = addresses.into_iter();
        let (len, _) = addresses.size_hint();
        let bot = self.clone();
        let dialog_id: Arc<str> = Arc::from(dialog_id);
        let concurrency = self.inner.delivery.settings().fan_out_concurrency.max(1);
        let stream = stream::iter(addresses.enumerate())
            .map(move |(index, address)| {
                let (bot, dialog_id, args) = (bot.clone(), dialog_id.clone(), args.clone());
                async move {
                    let result = bot.begin_dialog_and_wait(&address, &dialog_id, args, policy).await;
                    FanOutItem { index, address: Some(address), result }
                }
            })
            .buffer_unordered(concurrency)
            .boxed();
        FanOut { len, stream }
    }

    async fn begin_dialog_and_wait(
        &self,
        address: &Address,
        dialog_id: &str,
        args: Value,
        policy: StackPolicy,
    ) -> Result<Option<Receipt>, FanOutError> {
        let ids = self.begin_dialog_with_ids(address, dialog_id, args, policy).await?;
        let mut last = None;
        for id in ids {
            let delivered = self.inner.delivery.wait_finished(id).await?.into_result()?;
            last = Some(Receipt { activity_id: delivered.activity_id, outbox_id: Some(id) });
        }
        Ok(last)
    }
}

async fn flush_batch(
    delivery: &Delivery,
    entries: &mut Vec<NewOutboxEntry>,
    indexes: &mut Vec<usize>,
    ids: &mut [Option<OutboxId>],
) -> Result<(), SendError> {
    if entries.is_empty() {
        return Ok(());
    }
    let written = delivery.enqueue(entries).await?;
    for (index, id) in indexes.drain(..).zip(written) {
        ids[index] = Some(id);
    }
    entries.clear();
    Ok(())
}

/// How many outstanding entries one status poll reads.
const STATUS_POLL_BATCH: usize = 256;

/// The state behind a durable fan-out's stream.
struct Outcomes {
    delivery: Delivery,
    /// Unregisters the fan-out when the stream is dropped.
    registration: FanOutRegistration,
    ids: Vec<Option<OutboxId>>,
    done: Vec<bool>,
    outstanding: usize,
    ready: VecDeque<FanOutItem>,
    cursor: usize,
}

impl Outcomes {
    async fn next(mut self) -> Option<(FanOutItem, Self)> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some((item, self));
            }
            if self.outstanding == 0 {
                return None;
            }
            let poll = self.delivery.settings().poll_interval;
            tokio::select! {
                received = self.registration.outcomes.recv() => match received {
                    Some((index, finished, address)) => self.complete(index, finished, address),
                    None => return None,
                },
                // Entries another instance delivers are not announced here: read their status.
                _ = tokio::time::sleep(poll) => self.poll_statuses().await,
            }
        }
    }

    fn complete(&mut self, index: usize, finished: Finished, address: Option<Address>) {
        let Some(done) = self.done.get_mut(index) else { return };
        if *done {
            return;
        }
        *done = true;
        self.outstanding -= 1;
        let result =
            finished.into_result().map(|d| Some(Receipt { activity_id: d.activity_id, outbox_id: self.ids[index] }));
        self.ready.push_back(FanOutItem { index, address, result: result.map_err(FanOutError::from) });
    }

    async fn poll_statuses(&mut self) {
        let Ok(outbox) = self.delivery.require_outbox().cloned() else { return };
        let len = self.ids.len();
        let mut checked = 0;
        while checked < STATUS_POLL_BATCH && self.outstanding > 0 {
            let mut steps = 0;
            while steps < len && (self.done[self.cursor] || self.ids[self.cursor].is_none()) {
                self.cursor = (self.cursor + 1) % len;
                steps += 1;
            }
            if steps == len {
                return;
            }
            let index = self.cursor;
            self.cursor = (self.cursor + 1) % len;
            checked += 1;
            let Some(id) = self.ids[index] else { continue };
            match outbox.status(id).await {
                Ok(Some(status)) => {
                    if let Some(finished) = Finished::from_status(&status) {
                        let finished = self.delivery.recent(id).unwrap_or(finished);
                        self.complete(index, finished, None);
                    }
                }
                Ok(None) => {
                    let reason = DeadLetterReason::Other("the outbox entry is gone".into());
                    self.complete(index, Finished::Dead(reason), None)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "fan-out could not read an outbox status");
                    return;
                }
            }
        }
    }
}
