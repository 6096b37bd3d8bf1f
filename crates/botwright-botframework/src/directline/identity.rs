//! Who the users of the embedded Direct Line endpoint are: [`UserIds`].

/// Who chooses a Direct Line user's id.
///
/// The id is what the bot keys a user's state and address by (the address book, a
/// subscription): a client that may choose it may speak as anyone and take another user's
/// address. The default is [`UserIds::ServerAssigned`], so that an endpoint reachable by others is
/// safe as it comes; choose [`UserIds::ClientChosen`] for development and tests where the client
/// is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UserIds {
    /// A client names its user (`{"user": {"id"}}` in `tokens/generate`, or `from.id` with a
    /// token that names none): anyone who can generate tokens may speak as anyone. For
    /// development, and for a secret-guarded endpoint whose token server already names users.
    ClientChosen,
    /// Only a request with the Direct Line secret names a user. Every other token is bound to a
    /// user id the server assigns (`dl_` and 128 random bits, told to the client as `userId`);
    /// a request that names a user without the secret gets 403, and every activity's `from.id`
    /// is the token's user. A browser keeps its id by sending its last token (valid or
    /// expired, within the session's maximum age) to `tokens/generate`.
    #[default]
    ServerAssigned,
}

/// The prefix of server-assigned user ids.
pub const ASSIGNED_PREFIX: &str = "dl_";

/// A new server-assigned user id: `dl_` and 128 random bits in hex.
pub(crate) fn assign_user_id() -> String {
    format!("{ASSIGNED_PREFIX}{:032x}", rand::random::<u128>())
}
