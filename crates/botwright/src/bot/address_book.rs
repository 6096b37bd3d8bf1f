//! The address book: the freshest address of every user, kept up to date by every message.

use crate::address::Address;
use crate::state::{self, AddressDoc, Staleness};
use crate::storage::{Storage, StorageError};
use std::sync::Arc;

/// A user's entry in the address book.
#[derive(Debug, Clone, PartialEq)]
pub struct AddressEntry {
    /// The address the user last wrote from (without a reply-to id).
    pub address: Address,
    /// Set when the channel refused a message to it (403 / 404); cleared by the user's next
    /// message.
    pub stale: Option<Staleness>,
}

/// The freshest address of every user, by channel and user id.
///
/// Every incoming message refreshes its user's entry (in the same write as the turn's state, so
/// it costs nothing extra); a 403 or 404 from the channel marks the entry stale.
#[derive(Debug, Clone)]
pub struct AddressBook {
    pub(crate) storage: Arc<dyn Storage>,
}

impl AddressBook {
    /// The entry of a user.
    pub async fn get(&self, channel_id: &str, user_id: &str) -> Result<Option<AddressEntry>, StorageError> {
        Ok(entry(state::read_address(self.storage.as_ref(), channel_id, user_id).await?))
    }

    /// Every entry (a scan of the store: for administration and bulk sends, not for hot paths).
    pub async fn all(&self) -> Result<Vec<AddressEntry>, StorageError> {
        let mut out = Vec::new();
        for (key, doc) in self.storage.scan("address/").await? {
            let parsed: AddressDoc =
                serde_json::from_str(&doc.json).map_err(|e| StorageError::Corrupt { key, reason: e.to_string() })?;
            if let Some(e) = entry(parsed) {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Marks a user's entry stale (the channel answered `status` for it).
    pub async fn mark_stale(&self, address: &Address, status: u16) -> Result<(), StorageError> {
        let since_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        state::update_address(self.storage.as_ref(), &address.channel_id, &address.user.id, |doc| {
            doc.stale = Some(Staleness { status, since_ms });
            true
        })
        .await
    }
}

fn entry(doc: AddressDoc) -> Option<AddressEntry> {
    Some(AddressEntry { address: doc.address?, stale: doc.stale })
}
