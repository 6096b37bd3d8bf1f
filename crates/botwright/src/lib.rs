//! # botwright
//!
//! A framework for conversational bots that speak the Microsoft Bot Framework protocol, in which
//! *proactive* messaging (a bot reaching a user first, from a web hook, a timer or a fan-out to a
//! whole team) is a first-class, reliable feature.
#![doc = include_str!("../README.md")]

pub mod activity;
pub mod address;
pub mod channel;
pub mod locale;
pub mod recognize;
pub mod storage;
pub mod text;

pub use activity::Activity;
pub use address::Address;
pub use async_trait::async_trait;
pub use storage::Storage;
