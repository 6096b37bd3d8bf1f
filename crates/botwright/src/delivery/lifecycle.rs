//! Background workers' lifecycle: started once, woken on demand, stopped together.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{Notify, watch};

/// One background worker's switch and bell (the outbox worker's, the scheduler's).
#[derive(Debug, Default)]
pub(crate) struct Worker {
    started: AtomicBool,
    wake: Arc<Notify>,
}

impl Worker {
    /// `true` the first time only: the caller starts the worker then.
    pub(crate) fn start_once(&self) -> bool {
        self.started.compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }

    /// Whether it was started.
    pub(crate) fn is_started(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }

    /// Wakes the worker (new work).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Wakes the worker and every other waiter.
    pub(crate) fn wake_all(&self) {
        self.wake.notify_waiters();
    }

    /// The bell, for the worker's loop.
    pub(crate) fn bell(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}

/// Whether shutdown began (workers stop claiming) and ended (waiters give up).
#[derive(Debug)]
pub(crate) struct Lifecycle {
    stopping: watch::Sender<bool>,
    stopped: watch::Sender<bool>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle { stopping: watch::channel(false).0, stopped: watch::channel(false).0 }
    }
}

impl Lifecycle {
    pub(crate) fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Watches for shutdown to begin.
    pub(crate) fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// Watches for shutdown to end.
    pub(crate) fn stopped(&self) -> watch::Receiver<bool> {
        self.stopped.subscribe()
    }

    pub(crate) fn begin_stopping(&self) {
        self.stopping.send_replace(true);
    }

    pub(crate) fn end_stopping(&self) {
        self.stopped.send_replace(true);
    }
}
