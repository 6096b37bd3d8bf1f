//! What the SQL store backends share (feature `backend`): times as stored, prefix scans as key
//! ranges, and the outbox's stored states. Each backend keeps its own SQL; these are the parts
//! that are the same for every one of them.

pub mod key_range;
pub mod outbox_state;
pub mod time;
