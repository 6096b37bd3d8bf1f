//! The outbox's states as stored (a small integer column), and a status read back from them.

use crate::storage::{OutboxId, OutboxStatus, StorageError};

/// Waiting for delivery (or being delivered).
pub const PENDING: i16 = 0;
/// Delivered; the payload is dropped.
pub const DELIVERED: i16 = 1;
/// Given up; the outcome column holds the reason.
pub const DEAD: i16 = 2;
/// Taken back before delivery.
pub const WITHDRAWN: i16 = 3;

/// The status of outbox entry `id` from its stored columns: `state`, `attempts`, `last_error`
/// and `outcome` (the activity id of a delivered entry, the reason of a dead one).
///
/// ```
/// use botwright::storage::OutboxStatus;
/// use botwright::storage::backend::outbox_state::{DEAD, status};
/// let dead = status(7, DEAD.into(), 3, None, Some("gave up".into())).unwrap();
/// assert_eq!(dead, OutboxStatus::Dead { reason: "gave up".into() });
/// assert!(status(7, 9, 0, None, None).is_err());
/// ```
pub fn status(
    id: OutboxId,
    state: i64,
    attempts: u32,
    last_error: Option<String>,
    outcome: Option<String>,
) -> Result<OutboxStatus, StorageError> {
    match i16::try_from(state) {
        Ok(PENDING) => Ok(OutboxStatus::Pending { attempts, last_error }),
        Ok(DELIVERED) => Ok(OutboxStatus::Delivered { activity_id: outcome }),
        Ok(DEAD) => Ok(OutboxStatus::Dead { reason: outcome.unwrap_or_default() }),
        Ok(WITHDRAWN) => Ok(OutboxStatus::Withdrawn),
        _ => Err(StorageError::Corrupt { key: format!("outbox/{id}"), reason: format!("unknown state {state}") }),
    }
}
