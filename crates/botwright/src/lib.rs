//! # botwright
//!
//! A framework for conversational bots that speak the Microsoft Bot Framework protocol, in which
//! *proactive* messaging (a bot reaching a user first, from a web hook, a timer or a fan-out to a
//! whole team) is a first-class, reliable feature.
//!
//! - [`Activity`] and [`Address`]: the wire schema, and where a user can be reached (serialize
//!   an address, store it, reach the user later).
//! - [`Bot`]: dialogs, actions, state, channels; [`Bot::receive`] runs a turn, [`Bot::send`] and
//!   [`Bot::begin_dialog`] reach users proactively.
//! - [`Session`]: what a dialog sees and does in a turn.
//! - [`Dialog`], [`Waterfall`], [`Prompt`]: conversations.
//! - [`Storage`]: versioned state documents; [`storage::MemoryStore`] here, SQLite and
//!   PostgreSQL in their own crates.
//! - [`testing::TestFlow`]: transcript tests ("user says X, bot says Y").
//!
//! ```
//! use botwright::{Bot, Prompt, Waterfall};
//! use botwright::testing::TestFlow;
//! # tokio_test::block_on(async {
//! let bot = Bot::builder().dialog("/", Waterfall::new()
//!     .step(|session, _| async move {
//!         session.prompt(Prompt::text("What is your name?"));
//!         Ok(())
//!     })
//!     .step(|session, name| async move {
//!         session.end_dialog_with_message(format!("Hello, {}!", name.text().unwrap_or("stranger")));
//!         Ok(())
//!     }));
//! let mut flow = TestFlow::new(bot);
//! flow.user_says("hi").await;
//! flow.bot_says("What is your name?").await;
//! flow.user_says("Ana").await;
//! flow.bot_says("Hello, Ana!").await;
//! # });
//! ```

pub mod activity;
pub mod address;
pub mod bot;
pub mod channel;
pub mod console;
mod delivery;
pub mod dialog;
pub mod error;
mod later;
pub mod locale;
pub mod message;
pub mod proactive;
pub mod prompt;
pub mod recognize;
pub mod session;
mod state;
pub mod storage;
pub mod testing;
pub mod text;
mod turn_lock;

pub use activity::Activity;
pub use address::Address;
pub use async_trait::async_trait;
pub use bot::{Bot, InvokeResponse, StackPolicy, TurnOutcome};
pub use delivery::RetryPolicy;
pub use dialog::{Dialog, Waterfall};
pub use message::Message;
pub use prompt::Prompt;
pub use session::Session;
pub use state::Staleness;
pub use storage::Storage;
