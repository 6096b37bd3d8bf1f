//! One simulated conversation's bookkeeping: which replies the current turn expects, which came,
//! and how every arriving reply is classified (expected, duplicate, late, unexpected).
//!
//! A turn is numbered; the user's activity id is `{conversation}-{turn}` and bots reply to it,
//! so a reply names the turn it answers (`replyToId`). Proactive messages name no turn and count
//! against the current one.

use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::Notify;

/// How an arriving reply was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// One of the current turn's expected replies, seen for the first time.
    Expected,
    /// A reply the current (or an earlier, completed) turn already received.
    Duplicate,
    /// A reply to a turn that had already been given up (timed out or failed).
    Late,
    /// A reply no turn expected (wrong text, or nothing was expected).
    Unexpected,
}

#[derive(Debug, Default)]
struct State {
    turn: u64,
    /// The current turn's expected texts, and whether each has arrived.
    expected: Vec<(String, bool)>,
    outstanding: usize,
    completed_at: Option<Instant>,
    /// Turns given up on (rare): replies to them are late, not duplicates.
    abandoned: Vec<u64>,
}

/// One conversation's expectations, shared between the user (who waits) and the connector
/// stand-in (which records replies).
#[derive(Debug, Default)]
pub struct Slot {
    state: Mutex<State>,
    notify: Notify,
}

impl Slot {
    /// Starts turn `turn`, expecting exactly `expected` (in any order).
    pub fn begin(&self, turn: u64, expected: Vec<String>) {
        let mut s = self.lock();
        s.turn = turn;
        s.outstanding = expected.len();
        s.expected = expected.into_iter().map(|t| (t, false)).collect();
        s.completed_at = if s.outstanding == 0 { Some(Instant::now()) } else { None };
    }

    /// Gives up on turn `turn` (timed out, or its request failed): later replies to it are late.
    pub fn abandon(&self, turn: u64) {
        let mut s = self.lock();
        if s.turn == turn && s.completed_at.is_none() {
            s.abandoned.push(turn);
            s.expected.clear();
            s.outstanding = 0;
        }
    }

    /// When the current turn received its last expected reply, if it has.
    pub fn completed_at(&self) -> Option<Instant> {
        self.lock().completed_at
    }

    /// Waits until the current turn is complete or `deadline` passes; the completion instant.
    pub async fn wait(&self, deadline: tokio::time::Instant) -> Option<Instant> {
        loop {
            let notified = self.notify.notified();
            if let Some(at) = self.completed_at() {
                return Some(at);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.completed_at();
            }
        }
    }

    /// Records a reply with `text`, answering turn `reply_to` if the reply names one.
    pub fn record(&self, reply_to: Option<u64>, text: &str) -> Arrival {
        let mut s = self.lock();
        let turn = reply_to.unwrap_or(s.turn);
        if turn < s.turn || (turn == s.turn && s.abandoned.last() == Some(&turn)) {
            return if s.abandoned.contains(&turn) { Arrival::Late } else { Arrival::Duplicate };
        }
        if turn > s.turn {
            return Arrival::Unexpected;
        }
        let mut seen = false;
        for (expected, arrived) in s.expected.iter_mut() {
            if expected == text {
                if !*arrived {
                    *arrived = true;
                    s.outstanding -= 1;
                    if s.outstanding == 0 {
                        s.completed_at = Some(Instant::now());
                        drop(s);
                        self.notify.notify_one();
                    }
                    return Arrival::Expected;
                }
                seen = true;
            }
        }
        if seen { Arrival::Duplicate } else { Arrival::Unexpected }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The user activity id of `turn` in conversation `index`.
pub fn activity_id(index: usize, turn: u64) -> String {
    format!("{index}-{turn}")
}

/// Reads an activity id made by [`activity_id`]: (conversation index, turn).
pub fn parse_activity_id(id: &str) -> Option<(usize, u64)> {
    let (index, turn) = id.split_once('-')?;
    Some((index.parse().ok()?, turn.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_turn_completes_when_every_expected_reply_came_in_any_order() {
        let slot = Slot::default();
        slot.begin(1, vec!["a".into(), "b".into()]);
        assert_eq!(slot.record(Some(1), "b"), Arrival::Expected);
        assert!(slot.completed_at().is_none());
        assert_eq!(slot.record(Some(1), "a"), Arrival::Expected);
        assert!(slot.completed_at().is_some());
    }

    #[test]
    fn a_second_copy_is_a_duplicate_now_and_after_the_next_turn_began() {
        let slot = Slot::default();
        slot.begin(1, vec!["a".into()]);
        assert_eq!(slot.record(Some(1), "a"), Arrival::Expected);
        assert_eq!(slot.record(Some(1), "a"), Arrival::Duplicate);
        slot.begin(2, vec!["c".into()]);
        assert_eq!(slot.record(Some(1), "a"), Arrival::Duplicate);
    }

    #[test]
    fn replies_to_an_abandoned_turn_are_late_and_wrong_texts_unexpected() {
        let slot = Slot::default();
        slot.begin(1, vec!["a".into()]);
        slot.abandon(1);
        assert_eq!(slot.record(Some(1), "a"), Arrival::Late);
        slot.begin(2, vec!["b".into()]);
        assert_eq!(slot.record(Some(1), "a"), Arrival::Late);
        assert_eq!(slot.record(Some(2), "zzz"), Arrival::Unexpected);
        assert_eq!(slot.record(None, "b"), Arrival::Expected);
    }

    #[test]
    fn activity_ids_round_trip() {
        assert_eq!(parse_activity_id(&activity_id(42, 7)), Some((42, 7)));
        assert_eq!(parse_activity_id("x-1"), None);
        assert_eq!(parse_activity_id("17"), None);
    }

    #[tokio::test]
    async fn wait_returns_none_when_the_reply_never_comes() {
        let slot = Slot::default();
        slot.begin(1, vec!["a".into()]);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(20);
        assert!(slot.wait(deadline).await.is_none());
    }
}
