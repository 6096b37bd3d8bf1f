//! # botwright-bench
//!
//! botwright's load harness. It plays the Bot Framework connector (a loopback HTTP server that
//! receives a bot's replies, [`connector`]) and N scripted users ([`workload`], [`load`]) at a
//! chosen concurrency, and measures turns per second, latency from the user's POST to the last
//! expected reply ([`latency`]), errors and duplicates ([`slot`]), and the bot process's peak
//! memory and CPU time ([`process`]). A proactive mode fires notifications through the sample's
//! web hook and counts deliveries ([`proactive`]). [`contest`] runs the same scenario against
//! several bot commands in alternation; [`render`] turns results into BENCHMARKS.md's tables.
//!
//! It also holds the ceiling ([`ceiling`]: a framework-free endpoint) and, as binaries, the
//! botwright bench bots (`bench-bot`) and the ceiling (`bench-ceiling`).
//!
//! ```no_run
//! use botwright_bench::connector::{self, Connector, Faults};
//! use botwright_bench::load::{self, Length, LoadConfig};
//! use botwright_bench::workload::Workload;
//! use std::time::Duration;
//!
//! # async fn run() -> std::io::Result<()> {
//! let config = LoadConfig {
//!     workload: Workload::Echo,
//!     users: 64,
//!     conversations: 64,
//!     warmup: Duration::from_secs(1),
//!     length: Length::Duration(Duration::from_secs(5)),
//!     timeout: Duration::from_secs(5),
//!     settle: Duration::from_millis(200),
//! };
//! let connector = Connector::new(config.conversations_used(), 0, Faults::default());
//! let (service_url, _server) = connector::start(connector.clone()).await?;
//! let outcome = load::run(config, "http://127.0.0.1:3978", connector, &service_url, "run1").await;
//! println!("{:.0} turns/s, p99 {:.2} ms", outcome.turns_per_second(), outcome.latencies.summary().p99_ms);
//! # Ok(()) }
//! ```

pub mod ceiling;
pub mod connector;
pub mod contest;
pub mod latency;
pub mod load;
pub mod proactive;
pub mod process;
pub mod record;
pub mod render;
pub mod slot;
pub mod workload;
