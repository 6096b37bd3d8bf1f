//! Middleware: code that runs around every turn and every outgoing activity.

use crate::activity::Activity;
use crate::session::Session;
use async_trait::async_trait;

/// Code run on every incoming activity, every turn's session and every outgoing activity.
/// Each hook returns `false` to stop what it was given (drop the activity, skip routing).
///
/// ```
/// use botwright::{Activity, async_trait};
/// use botwright::bot::Middleware;
///
/// /// Drops messages from one user.
/// struct Block(&'static str);
///
/// #[async_trait]
/// impl Middleware for Block {
///     async fn receive(&self, activity: &mut Activity) -> bool {
///         activity.from_id() != self.0
///     }
/// }
/// ```
#[async_trait]
pub trait Middleware: Send + Sync + 'static {
    /// An incoming activity, before anything else. `false` drops it.
    async fn receive(&self, activity: &mut Activity) -> bool {
        let _ = activity;
        true
    }

    /// The session of a message turn, before routing. `false` skips routing (state is still
    /// saved and queued messages still sent).
    async fn session(&self, session: &Session) -> bool {
        let _ = session;
        true
    }

    /// An outgoing activity, before it is delivered. `false` drops it.
    async fn send(&self, activity: &mut Activity) -> bool {
        let _ = activity;
        true
    }
}
