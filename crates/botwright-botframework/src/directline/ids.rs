//! Self-certifying conversation ids: a random part and a truncated HMAC-SHA256 tag of it, keyed
//! from the endpoint's signing key. [`ConversationIds::owns`] tells the endpoint's conversations
//! from anyone else's (Azure's Direct Line, Teams, a made-up id) without storage, also across
//! restarts when the signing key is kept.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Random bytes in an id (128 bits).
const RANDOM_BYTES: usize = 16;
/// Tag bytes in an id (64 bits: guessing one takes 2^64 tries).
const TAG_BYTES: usize = 8;
/// The length of an id: both parts in lowercase hex.
pub(crate) const ID_LEN: usize = 2 * (RANDOM_BYTES + TAG_BYTES);

/// Makes and recognizes the endpoint's conversation ids.
#[derive(Clone)]
pub(crate) struct ConversationIds {
    key: [u8; 32],
}

impl std::fmt::Debug for ConversationIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConversationIds(..)")
    }
}

fn hmac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length: this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
}

impl ConversationIds {
    /// Ids keyed from `signing_key` (a key of its own, derived, so that a tag says nothing
    /// about the token key).
    pub(crate) fn new(signing_key: &[u8]) -> Self {
        let mut mac = hmac(signing_key);
        mac.update(b"botwright-directline conversation ids v1");
        ConversationIds { key: mac.finalize().into_bytes().into() }
    }

    fn tag(&self, random: &[u8]) -> [u8; TAG_BYTES] {
        let mut mac = hmac(&self.key);
        mac.update(random);
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_BYTES];
        tag.copy_from_slice(&full[..TAG_BYTES]);
        tag
    }

    /// A new conversation id: 32 hex digits of randomness, then 16 of tag.
    pub(crate) fn new_id(&self) -> String {
        let random: [u8; RANDOM_BYTES] = rand::random();
        let tag = self.tag(&random);
        random.iter().chain(tag.iter()).map(|b| format!("{b:02x}")).collect()
    }

    /// Whether `id` is one this endpoint made (with this key).
    pub(crate) fn owns(&self, id: &str) -> bool {
        let Some(bytes) = decode_hex(id) else { return false };
        if bytes.len() != RANDOM_BYTES + TAG_BYTES {
            return false;
        }
        let (random, tag) = bytes.split_at(RANDOM_BYTES);
        let mut mac = hmac(&self.key);
        mac.update(random);
        mac.verify_truncated_left(tag).is_ok()
    }
}

/// Lowercase hex only (the form ids are made in), else `None`.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != ID_LEN || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    (0..text.len() / 2).map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_are_owned_by_their_key_only() {
        let ids = ConversationIds::new(b"the signing key of this process!");
        let id = ids.new_id();
        assert_eq!(id.len(), ID_LEN);
        assert!(ids.owns(&id));
        assert_ne!(ids.new_id(), id, "ids are random");
        assert!(ConversationIds::new(b"the signing key of this process!").owns(&id), "the same key after a restart");
        assert!(!ConversationIds::new(b"another key").owns(&id));

        // Any change to the random part or the tag, or another form, is not ours.
        let mut flipped = id.clone().into_bytes();
        flipped[3] = if flipped[3] == b'0' { b'1' } else { b'0' };
        assert!(!ids.owns(std::str::from_utf8(&flipped).unwrap()));
        let mut bad_tag = id.clone().into_bytes();
        let last = bad_tag.len() - 1;
        bad_tag[last] = if bad_tag[last] == b'0' { b'1' } else { b'0' };
        assert!(!ids.owns(std::str::from_utf8(&bad_tag).unwrap()));
        assert!(!ids.owns(&id.to_uppercase()));
        assert!(!ids.owns(&id[..ID_LEN - 2]));
        for foreign in ["", "8a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d", "KwCnv1ao5Hq2tZ8hG4Xb9c-us", "a:19:abc@thread.v2"] {
            assert!(!ids.owns(foreign), "{foreign}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn no_text_but_ours_is_owned(text in "\\PC{0,64}|[0-9a-f]{48}") {
            let ids = ConversationIds::new(b"k");
            prop_assert!(!ids.owns(&text));
        }
    }
}
