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
//! - [`testing::TestFlow`] (feature `testing`): transcript tests ("user says X, bot says Y").
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

// The modules in layers: each depends only on the layers above it in this list (and on modules of
// its own layer). `tests/layers.rs` checks it; docs/architecture.md draws it.
//
// 1. The model: plain data and the traits of the outside world.
pub mod activity;
pub mod address;
pub mod channel;
pub mod dead_letter;
pub mod error;
pub mod format;
mod later;
pub mod locale;
pub mod message;
pub mod outcome;
pub mod recognize;
pub mod storage;
pub mod text;
mod turn_lock;
pub mod wire_value;
// 2. Events and middleware.
pub mod event;
pub mod middleware;
// 3. The dialog stack as data, and the documents of a turn.
pub mod stack;
mod state;
// 4. Delivery: retries, rate limits, the in-memory queues, the outbox worker.
pub mod delivery;
// 5. Turns: the bot, sessions, dialogs, prompts, and the channels that drive turns.
pub mod bot;
pub mod console;
pub mod dialog;
pub mod prompt;
pub mod session;
#[cfg(feature = "testing")]
pub mod testing;
// 6. Proactive messaging on top: send, fan-out, scheduler.
pub mod proactive;

pub use activity::Activity;
pub use address::Address;
pub use async_trait::async_trait;
pub use bot::{Bot, StackPolicy};
pub use delivery::RetryPolicy;
pub use dialog::{Dialog, Waterfall};
pub use message::Message;
pub use outcome::{InvokeResponse, Receipt, TurnOutcome};
pub use prompt::Prompt;
pub use session::Session;
pub use state::Staleness;
pub use storage::Storage;
