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

use crate::activity::{ChannelAccount, ConversationAccount};
use crate::address::Address;
use crate::stack::Frame;
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

/// The user's address-book entry in a turn: as stored, and parsed only when it has to change.
///
/// A user's messages usually come from the address the entry already holds, so most turns find
/// the stored JSON to be exactly what a refresh would write, and neither parse nor write it.
#[derive(Debug, Clone)]
pub(crate) struct AddressEntry {
    key: String,
    stored: Option<Document>,
    /// The entry once parsed to change it; `None` while it stays as stored.
    parsed: Option<Loaded<AddressDoc>>,
}

impl AddressEntry {
    fn new(key: String, stored: Option<Document>) -> Self {
        AddressEntry { key, stored, parsed: None }
    }

    /// Remembers `address` as the user's freshest address (last writer wins); a message from the
    /// user also clears staleness.
    pub(crate) fn refresh(&mut self, address: &Address) -> Result<(), StorageError> {
        if self.parsed.is_none()
            && let Some(stored) = &self.stored
        {
            let json = serde_json::to_string(&FreshEntry::of(address))
                .map_err(|e| StorageError::Corrupt { key: self.key.clone(), reason: e.to_string() })?;
            if stored.json == json {
                return Ok(());
            }
        }
        let entry = match &mut self.parsed {
            Some(entry) => entry,
            None => {
                let mut entry: Loaded<AddressDoc> = Loaded::parse(self.key.clone(), self.stored.clone())?;
                entry.last_writer_wins = true;
                self.parsed.insert(entry)
            }
        };
        let user = &mut entry.value;
        let changed = user.address.as_ref().is_none_or(|a| {
            a.service_url != address.service_url
                || a.conversation != address.conversation
                || a.bot != address.bot
                || a.user != address.user
                || a.locale != address.locale
                || a.tenant_id != address.tenant_id
                || a.channel_id != address.channel_id
        });
        if changed {
            user.address = Some(address.without_reply_id());
        }
        user.stale = None;
        Ok(())
    }

    /// The write that saves this entry, if it changed.
    fn write(&self) -> Result<Option<Write>, StorageError> {
        self.parsed.as_ref().map_or(Ok(None), Loaded::write)
    }

    /// Records what was written (`None`: the entry was deleted).
    fn saved(&mut self, saved: Option<(String, String)>) {
        if let Some(entry) = &mut self.parsed {
            entry.saved(saved);
        }
    }
}

/// The entry a refresh with `address` leaves: `address` without its reply-to id, not stale.
///
/// It serializes exactly as that [`AddressDoc`] does, without copying the address.
#[derive(Serialize)]
struct FreshEntry<'a> {
    address: AddressWithoutReplyId<'a>,
}

/// An [`Address`] without its `id`, in the same fields and order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AddressWithoutReplyId<'a> {
    channel_id: &'a str,
    user: &'a ChannelAccount,
    bot: &'a ChannelAccount,
    conversation: &'a ConversationAccount,
    service_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    locale: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant_id: Option<&'a str>,
}

impl<'a> FreshEntry<'a> {
    fn of(address: &'a Address) -> Self {
        let Address { id: _, channel_id, user, bot, conversation, service_url, locale, tenant_id } = address;
        FreshEntry {
            address: AddressWithoutReplyId {
                channel_id,
                user,
                bot,
                conversation,
                service_url,
                locale: locale.as_deref(),
                tenant_id: tenant_id.as_deref(),
            },
        }
    }
}

/// The documents of a turn.
#[derive(Debug, Clone)]
pub(crate) struct TurnDocs {
    pub(crate) user: Loaded<UserDoc>,
    pub(crate) address: AddressEntry,
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
            address: AddressEntry::new(address_key, docs.next().flatten()),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn address(conversation: &str) -> Address {
        let mut address = Address::new(
            "msteams",
            "https://smba.example/",
            ChannelAccount::new("u1"),
            ChannelAccount::new("b1"),
            ConversationAccount::new(conversation),
        );
        address.id = Some("incoming-1".into());
        address
    }

    fn stored(doc: &AddressDoc) -> Option<Document> {
        Some(Document { json: serde_json::to_string(doc).unwrap(), etag: "1".into() })
    }

    fn fresh(conversation: &str) -> AddressDoc {
        AddressDoc { address: Some(address(conversation).without_reply_id()), stale: None }
    }

    fn written(entry: &AddressEntry) -> Option<AddressDoc> {
        let write = entry.write().unwrap()?;
        assert_eq!(write.precondition, Precondition::Any, "the address book is last-writer-wins");
        Some(serde_json::from_str(write.json.as_deref().unwrap()).unwrap())
    }

    #[test]
    fn a_first_message_writes_the_address() {
        let mut entry = AddressEntry::new("address/msteams/u1".into(), None);
        entry.refresh(&address("c1")).unwrap();
        assert_eq!(written(&entry), Some(fresh("c1")));
    }

    #[test]
    fn the_same_address_again_is_neither_parsed_nor_written() {
        let mut entry = AddressEntry::new("address/msteams/u1".into(), stored(&fresh("c1")));
        entry.refresh(&address("c1")).unwrap();
        assert!(entry.parsed.is_none());
        assert_eq!(written(&entry), None);
    }

    #[test]
    fn a_new_conversation_or_staleness_is_written() {
        let mut entry = AddressEntry::new("address/msteams/u1".into(), stored(&fresh("c1")));
        entry.refresh(&address("c2")).unwrap();
        assert_eq!(written(&entry), Some(fresh("c2")));

        let stale = AddressDoc { stale: Some(Staleness { status: 403, since_ms: 1 }), ..fresh("c1") };
        let mut entry = AddressEntry::new("address/msteams/u1".into(), stored(&stale));
        entry.refresh(&address("c1")).unwrap();
        assert_eq!(written(&entry), Some(fresh("c1")));
    }

    /// The refresh compares the stored JSON with [`FreshEntry`]'s: it must be what saving the
    /// refreshed [`AddressDoc`] writes, whichever optional fields the address has.
    #[test]
    fn a_fresh_entry_serializes_as_the_address_doc() {
        let mut full = address("c1");
        full.locale = Some("fr-FR".into());
        full.tenant_id = Some("t1".into());
        full.user.name = Some("Ada".into());
        full.user.extra.insert("x".into(), serde_json::json!({"y": [1, 2]}));
        full.conversation.tenant_id = Some("t1".into());
        for address in [address("c1"), full] {
            assert_eq!(
                serde_json::to_string(&FreshEntry::of(&address)).unwrap(),
                serde_json::to_string(&AddressDoc { address: Some(address.without_reply_id()), stale: None }).unwrap()
            );
        }
    }

    #[test]
    fn an_unreadable_entry_is_reported() {
        let corrupt = Some(Document { json: "{".into(), etag: "1".into() });
        let mut entry = AddressEntry::new("address/msteams/u1".into(), corrupt);
        assert!(matches!(entry.refresh(&address("c1")), Err(StorageError::Corrupt { .. })));
    }
}
