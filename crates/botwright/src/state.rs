//! The state documents of a turn and where they are stored.
//!
//! Four documents per turn, read in one call:
//! - `user/<channel>/<user>`: user data and the preferred locale;
//! - `address/<channel>/<user>`: the user's address-book entry (the freshest address, and
//!   whether the channel refused it); written last-writer-wins, since the freshest address is by
//!   definition the last one, and kept apart from user data so that a user active in several
//!   conversations at once does not make their turns conflict;
//! - `conversation/<channel>/<conversation>`: conversation data;
//! - `private/<channel>/<conversation>/<user>`: private conversation data and the dialog stack.
//!
//! A document is written back only when it changed, and all changed documents of a turn are
//! written in one atomic batch.

use crate::address::Address;
use crate::dialog::Frame;
use crate::storage::{Document, Precondition, Storage, StorageError, Write};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Escapes a key part so that `/` always separates parts.
pub(crate) fn escape(part: &str) -> std::borrow::Cow<'_, str> {
    if part.contains(['/', '%']) {
        std::borrow::Cow::Owned(part.replace('%', "%25").replace('/', "%2F"))
    } else {
        std::borrow::Cow::Borrowed(part)
    }
}

/// The key of a user's document.
pub(crate) fn user_key(channel: &str, user: &str) -> String {
    format!("user/{}/{}", escape(channel), escape(user))
}

/// The key of a user's address-book entry.
pub(crate) fn address_key(channel: &str, user: &str) -> String {
    format!("address/{}/{}", escape(channel), escape(user))
}

/// The key of a conversation's document.
pub(crate) fn conversation_key(channel: &str, conversation: &str) -> String {
    format!("conversation/{}/{}", escape(channel), escape(conversation))
}

/// The key of a user's private document in a conversation.
pub(crate) fn private_key(channel: &str, conversation: &str, user: &str) -> String {
    format!("private/{}/{}/{}", escape(channel), escape(conversation), escape(user))
}

/// Why the channel stopped accepting messages for an address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Staleness {
    /// The HTTP status the channel answered (403, 404).
    pub status: u16,
    /// When it was noticed, in milliseconds since the Unix epoch.
    pub since_ms: i64,
}

/// The user document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct UserDoc {
    #[serde(default)]
    pub(crate) data: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) locale: Option<String>,
}

/// The address-book entry of a user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct AddressDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stale: Option<Staleness>,
}

/// The conversation document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ConversationDoc {
    #[serde(default)]
    pub(crate) data: Map<String, Value>,
}

/// The private conversation document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct PrivateDoc {
    #[serde(default)]
    pub(crate) data: Map<String, Value>,
    #[serde(default)]
    pub(crate) stack: Vec<Frame>,
}

/// One loaded document: its parsed value, the JSON it was read as, and its version.
#[derive(Debug, Clone)]
pub(crate) struct Loaded<T> {
    pub(crate) key: String,
    pub(crate) value: T,
    original: Option<Document>,
    last_writer_wins: bool,
}

impl<T: Serialize + for<'de> Deserialize<'de> + Default> Loaded<T> {
    fn parse(key: String, doc: Option<Document>) -> Result<Self, StorageError> {
        let value = match &doc {
            Some(d) => serde_json::from_str(&d.json)
                .map_err(|e| StorageError::Corrupt { key: key.clone(), reason: e.to_string() })?,
            None => T::default(),
        };
        Ok(Loaded { key, value, original: doc, last_writer_wins: false })
    }

    /// The write that saves this document, if it changed. A document back to its default value
    /// (no data, no dialog) is deleted rather than kept: reading an absent document gives the
    /// same value, and the store does not hold an empty document for every conversation ever
    /// seen.
    fn write(&self) -> Result<Option<Write>, StorageError> {
        let json = serde_json::to_string(&self.value)
            .map_err(|e| StorageError::Corrupt { key: self.key.clone(), reason: e.to_string() })?;
        if self.original.as_ref().is_some_and(|d| d.json == json) {
            return Ok(None);
        }
        let empty = json == serde_json::to_string(&T::default()).unwrap_or_default();
        if self.original.is_none() && empty {
            return Ok(None);
        }
        let precondition =
            if self.last_writer_wins { Precondition::Any } else { Precondition::from_read(self.original.as_ref()) };
        Ok(Some(Write { key: self.key.clone(), json: (!empty).then_some(json), precondition }))
    }

    /// Records what a write left in the store: `Some((json, version))`, or `None` after a delete.
    fn saved(&mut self, saved: Option<(String, String)>) {
        self.original = saved.map(|(json, etag)| Document { json, etag });
    }
}

/// The documents of a turn.
#[derive(Debug, Clone)]
pub(crate) struct TurnDocs {
    pub(crate) user: Loaded<UserDoc>,
    pub(crate) address: Loaded<AddressDoc>,
    pub(crate) conversation: Loaded<ConversationDoc>,
    pub(crate) private: Loaded<PrivateDoc>,
}

impl TurnDocs {
    /// Reads the documents of `address`'s user and conversation.
    pub(crate) async fn load(storage: &dyn Storage, address: &Address) -> Result<Self, StorageError> {
        let user_key = user_key(&address.channel_id, &address.user.id);
        let address_key = address_key(&address.channel_id, &address.user.id);
        let conversation_key = conversation_key(&address.channel_id, &address.conversation.id);
        let private_key = private_key(&address.channel_id, &address.conversation.id, &address.user.id);
        let mut docs =
            storage.read_many(&[&user_key, &address_key, &conversation_key, &private_key]).await?.into_iter();
        Ok(TurnDocs {
            user: Loaded::parse(user_key, docs.next().flatten())?,
            address: {
                let mut entry: Loaded<AddressDoc> = Loaded::parse(address_key, docs.next().flatten())?;
                entry.last_writer_wins = true;
                entry
            },
            conversation: Loaded::parse(conversation_key, docs.next().flatten())?,
            private: Loaded::parse(private_key, docs.next().flatten())?,
        })
    }

    /// Writes what changed, atomically, with version checks.
    pub(crate) async fn save(&mut self, storage: &dyn Storage) -> Result<(), StorageError> {
        let mut writes = Vec::with_capacity(4);
        let mut which = Vec::with_capacity(4);
        let candidates = [self.user.write()?, self.address.write()?, self.conversation.write()?, self.private.write()?];
        for (i, w) in candidates.into_iter().enumerate() {
            if let Some(w) = w {
                writes.push(w);
                which.push(i);
            }
        }
        if writes.is_empty() {
            return Ok(());
        }
        let versions = storage.write_many(&writes).await?;
        for ((i, write), version) in which.into_iter().zip(writes).zip(versions) {
            let saved = match (write.json, version) {
                (Some(json), Some(etag)) => Some((json, etag)),
                (Some(_), None) => continue,
                (None, _) => None,
            };
            match i {
                0 => self.user.saved(saved),
                1 => self.address.saved(saved),
                2 => self.conversation.saved(saved),
                _ => self.private.saved(saved),
            }
        }
        Ok(())
    }
}

/// Reads a user's document (for proactive sends: the preferred locale, the address book).
pub(crate) async fn read_user(
    storage: &dyn Storage,
    channel: &str,
    user: &str,
) -> Result<(UserDoc, Option<Document>), StorageError> {
    let key = user_key(channel, user);
    let doc = storage.read(&key).await?;
    let loaded: Loaded<UserDoc> = Loaded::parse(key, doc.clone())?;
    Ok((loaded.value, doc))
}

/// Reads a user's address-book entry.
pub(crate) async fn read_address(storage: &dyn Storage, channel: &str, user: &str) -> Result<AddressDoc, StorageError> {
    let key = address_key(channel, user);
    let doc = storage.read(&key).await?;
    Ok(Loaded::<AddressDoc>::parse(key, doc)?.value)
}

/// Applies `change` to a user's address-book entry with a version check, retrying on
/// conflicts.
pub(crate) async fn update_address(
    storage: &dyn Storage,
    channel: &str,
    user: &str,
    change: impl Fn(&mut AddressDoc) -> bool,
) -> Result<(), StorageError> {
    let key = address_key(channel, user);
    for _ in 0..16 {
        let doc = storage.read(&key).await?;
        let mut loaded: Loaded<AddressDoc> = Loaded::parse(key.clone(), doc)?;
        if !change(&mut loaded.value) {
            return Ok(());
        }
        let Some(write) = loaded.write()? else { return Ok(()) };
        match storage.write(&key, write.json.as_deref().unwrap_or("{}"), write.precondition).await {
            Ok(_) => return Ok(()),
            Err(StorageError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StorageError::Conflict { key })
}
