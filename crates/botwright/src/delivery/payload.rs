//! What an outbox entry holds: JSON of the address and the activity (and the local fan-out
//! that waits for it).

use crate::activity::Activity;
use crate::address::Address;
use crate::storage::StorageError;
use serde::{Deserialize, Serialize};

/// What an outbox entry holds: JSON of the address and the activity.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Payload {
    /// Written as [`Address`] serializes itself, and read back field by field
    /// ([`StoredAddress`]): the address was checked when the message was accepted, so the
    /// lenient reading of channel addresses (v3 and v4 shapes) is not needed here.
    #[serde(deserialize_with = "StoredAddress::read")]
    pub(crate) address: Address,
    pub(crate) activity: Activity,
    /// The local fan-out (run token, index) that waits for this entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) fan_out: Option<(u64, usize)>,
}

/// An [`Address`] as it serializes itself.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredAddress {
    #[serde(default)]
    id: Option<String>,
    channel_id: String,
    user: crate::activity::ChannelAccount,
    bot: crate::activity::ChannelAccount,
    conversation: crate::activity::ConversationAccount,
    service_url: String,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    tenant_id: Option<String>,
}

impl StoredAddress {
    fn read<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Address, D::Error> {
        let a = StoredAddress::deserialize(deserializer)?;
        let mut address = Address::new(a.channel_id, a.service_url, a.user, a.bot, a.conversation);
        address.id = a.id;
        address.locale = a.locale;
        address.tenant_id = a.tenant_id;
        Ok(address)
    }
}

/// A payload as JSON.
pub(crate) fn encode(payload: &Payload) -> Result<String, StorageError> {
    serde_json::to_string(payload).map_err(StorageError::backend)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::{ChannelAccount, ConversationAccount};

    /// A payload reads back the address it was written with, every field included.
    #[test]
    fn a_payload_keeps_the_whole_address() {
        let mut address = Address::new(
            "msteams",
            "https://smba.example.com/emea/",
            ChannelAccount { id: "29:u".into(), name: Some("Ana".into()), ..Default::default() },
            ChannelAccount { id: "28:b".into(), name: Some("bot".into()), ..Default::default() },
            ConversationAccount { id: "a:1".into(), is_group: Some(true), ..Default::default() },
        );
        address.id = Some("reply-to".into());
        address.locale = Some("es-ES".into());
        address.tenant_id = Some("tenant-1".into());
        let activity = Activity::message("hola");
        let json = encode(&Payload { address: address.clone(), activity, fan_out: Some((3, 7)) }).unwrap();
        let read: Payload = serde_json::from_str(&json).unwrap();
        assert_eq!(read.address, address);
        assert_eq!(read.fan_out, Some((3, 7)));
        assert_eq!(read.activity.text.as_deref(), Some("hola"));
        let minimal = Address::new(
            "emulator",
            "http://127.0.0.1:1/",
            ChannelAccount { id: "u".into(), ..Default::default() },
            ChannelAccount::default(),
            ConversationAccount { id: "c".into(), ..Default::default() },
        );
        let json =
            encode(&Payload { address: minimal.clone(), activity: Activity::message("x"), fan_out: None }).unwrap();
        assert_eq!(serde_json::from_str::<Payload>(&json).unwrap().address, minimal);
    }
}
