//! Results as JSON lines: one record per contender and scenario, aggregated over its rounds.

use crate::latency::LatencySummary;
use crate::load::Errors;
use crate::proactive::ProactiveOutcome;
use crate::process::Usage;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// A load scenario's result for one contender.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadRecord {
    /// The scenario (e.g. `echo`, `waterfall-10k`).
    pub scenario: String,
    /// The contender's label.
    pub label: String,
    /// The command that ran it.
    pub command: String,
    /// The workload.
    pub workload: String,
    /// Rounds aggregated.
    pub rounds: u32,
    /// Concurrent users.
    pub users: usize,
    /// Distinct conversations.
    pub conversations: usize,
    /// Measured turns (all rounds).
    pub turns: u64,
    /// Measured seconds (all rounds).
    pub elapsed_s: f64,
    /// Turns per second.
    pub turns_per_s: f64,
    /// Latency from the user's POST to the last expected reply.
    pub latency: LatencySummary,
    /// Errors (all rounds).
    pub errors: Errors,
    /// Non-message activities the bot posted (ignored).
    pub other_activities: u64,
    /// The bot's peak memory (largest of the rounds) and CPU seconds (sum), if measured.
    pub bot: Option<Usage>,
    /// The generator's CPU seconds (sum of the rounds).
    pub generator_cpu_s: f64,
}

/// A proactive scenario's result for one contender.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProactiveRecord {
    /// The scenario (e.g. `proactive`, `proactive-faults`).
    pub scenario: String,
    /// The contender's label.
    pub label: String,
    /// The command that ran it.
    pub command: String,
    /// Share of attempts answered 429.
    pub rate_limited: f64,
    /// Share of attempts answered 500.
    pub server_error: f64,
    /// What was measured.
    pub outcome: ProactiveOutcome,
    /// The bot's peak memory and CPU seconds, if measured.
    pub bot: Option<Usage>,
    /// The generator's CPU seconds.
    pub generator_cpu_s: f64,
}

/// One result line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Record {
    /// A load scenario.
    Load(LoadRecord),
    /// A proactive scenario.
    Proactive(ProactiveRecord),
}

impl Record {
    /// The scenario.
    pub fn scenario(&self) -> &str {
        match self {
            Record::Load(r) => &r.scenario,
            Record::Proactive(r) => &r.scenario,
        }
    }

    /// The contender's label.
    pub fn label(&self) -> &str {
        match self {
            Record::Load(r) => &r.label,
            Record::Proactive(r) => &r.label,
        }
    }
}

/// Appends `records` to the JSON-lines file at `path`.
pub fn append(path: &Path, records: &[Record]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    for r in records {
        let line = serde_json::to_string(r).map_err(std::io::Error::other)?;
        writeln!(file, "{line}")?;
    }
    Ok(())
}

/// Reads a JSON-lines file of records.
pub fn read(path: &Path) -> anyhow::Result<Vec<Record>> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), i + 1)))
        .collect()
}
