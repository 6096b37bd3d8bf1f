//! Who waits for which outbox entry ([`Listeners`]), and how an entry ended as its waiters
//! learn it ([`Finished`]).

use super::DeadLetterReason;
use crate::address::Address;
use crate::channel::{Delivered, DeliveryError};
use crate::error::SendError;
use crate::storage::{OutboxId, OutboxStatus};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot};

/// How a durable message ended, as its local waiters learn it.
#[derive(Debug, Clone)]
pub(crate) enum Finished {
    Delivered(Delivered),
    GaveUp {
        attempts: u32,
        last: DeliveryError,
    },
    Stale(DeliveryError),
    Rejected(DeliveryError),
    NoChannel(String),
    Withdrawn,
    /// Dead for this reason (recorded here, by another instance, or read back).
    Dead(DeadLetterReason),
}

impl Finished {
    pub(crate) fn into_result(self) -> Result<Delivered, SendError> {
        match self {
            Finished::Delivered(d) => Ok(d),
            Finished::GaveUp { attempts, last } => Err(SendError::GaveUp { attempts, last }),
            Finished::Stale(e) => Err(SendError::Stale(e)),
            Finished::Rejected(e) => Err(SendError::Rejected(e)),
            Finished::NoChannel(c) => Err(SendError::NoChannel(c)),
            Finished::Withdrawn => Err(SendError::Withdrawn { last_error: None }),
            Finished::Dead(reason) => Err(SendError::Dead { reason }),
        }
    }

    /// The outcome the store records, read back (typed details are lost).
    pub(crate) fn from_status(status: &OutboxStatus) -> Option<Finished> {
        match status {
            OutboxStatus::Pending { .. } => None,
            OutboxStatus::Delivered { activity_id } => {
                Some(Finished::Delivered(Delivered { activity_id: activity_id.clone() }))
            }
            OutboxStatus::Dead { reason } => Some(Finished::Dead(DeadLetterReason::parse(reason))),
            OutboxStatus::Withdrawn => Some(Finished::Withdrawn),
        }
    }
}

/// What a single-entry waiter hears.
#[derive(Debug, Clone)]
pub(crate) enum Notice {
    /// An attempt failed; the entry is due again later (and not claimed now).
    Attempted,
    /// The entry is finished.
    Finished(Finished),
}

/// A fan-out's stream of finished entries: (index, outcome, address).
pub(crate) type FanOutSender = mpsc::UnboundedSender<(usize, Finished, Option<Address>)>;

/// How many finished outcomes are remembered for waiters that come late.
const RECENT: usize = 4096;

/// Who waits for which outbox entry, and the outcomes of the most recent ones.
#[derive(Debug, Default)]
pub(crate) struct Listeners {
    inner: Mutex<ListenersInner>,
}

#[derive(Debug, Default)]
struct ListenersInner {
    by_id: HashMap<OutboxId, Vec<oneshot::Sender<Notice>>>,
    fan_outs: HashMap<u64, FanOutSender>,
    next_fan_out: u64,
    recent: HashMap<OutboxId, Finished>,
    recent_order: VecDeque<OutboxId>,
}

impl Listeners {
    fn lock(&self) -> std::sync::MutexGuard<'_, ListenersInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for the next notice about `id`.
    pub(crate) fn listen(&self, id: OutboxId) -> oneshot::Receiver<Notice> {
        let (tx, rx) = oneshot::channel();
        self.lock().by_id.entry(id).or_default().push(tx);
        rx
    }

    /// Stops waiting for `id` (the waiter gave up).
    pub(crate) fn forget(&self, id: OutboxId) {
        let mut inner = self.lock();
        if let Some(list) = inner.by_id.get_mut(&id) {
            list.retain(|tx| !tx.is_closed());
            if list.is_empty() {
                inner.by_id.remove(&id);
            }
        }
    }

    /// The outcome of `id`, if it finished here recently.
    pub(crate) fn recent(&self, id: OutboxId) -> Option<Finished> {
        self.lock().recent.get(&id).cloned()
    }

    /// Registers a fan-out; returns its token.
    pub(crate) fn add_fan_out(&self, sender: FanOutSender) -> u64 {
        let mut inner = self.lock();
        inner.next_fan_out += 1;
        let token = inner.next_fan_out;
        inner.fan_outs.insert(token, sender);
        token
    }

    pub(crate) fn remove_fan_out(&self, token: u64) {
        self.lock().fan_outs.remove(&token);
    }

    /// Tells the waiters of `id` that it was taken back.
    pub(crate) fn withdrawn(&self, id: OutboxId) {
        self.finished(id, None, &Finished::Withdrawn, None);
    }

    pub(super) fn attempted(&self, id: OutboxId) {
        let waiters = self.lock().by_id.remove(&id).unwrap_or_default();
        for w in waiters {
            let _ = w.send(Notice::Attempted);
        }
    }

    /// Tells the waiters of `id` how it ended; a fan-out waiting for it also gets its address.
    pub(super) fn finished(
        &self,
        id: OutboxId,
        fan_out: Option<(u64, usize)>,
        finished: &Finished,
        address: Option<Address>,
    ) {
        let mut inner = self.lock();
        inner.recent.insert(id, finished.clone());
        inner.recent_order.push_back(id);
        while inner.recent_order.len() > RECENT {
            if let Some(old) = inner.recent_order.pop_front() {
                inner.recent.remove(&old);
            }
        }
        if let Some((token, index)) = fan_out
            && let Some(sender) = inner.fan_outs.get(&token)
            && sender.send((index, finished.clone(), address)).is_err()
        {
            inner.fan_outs.remove(&token);
        }
        for w in inner.by_id.remove(&id).unwrap_or_default() {
            let _ = w.send(Notice::Finished(finished.clone()));
        }
    }
}
