//! Benchmark results as a run reports them: each metric's repetitions,
//! the machine they were measured on, and the verdict against history.

use serde::{Deserialize, Serialize};

/// The machine results were measured on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Testbed {
    /// `/etc/machine-id` (or the host name where there is none).
    pub machine_id: String,
    pub cpu_model: String,
    pub cores: u32,
}

/// One metric of a run, judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerfResult {
    pub benchmark: String,
    pub measure: String,
    pub unit: String,
    pub bigger_is_better: bool,
    /// The run's value: its repetitions' median.
    pub value: f64,
    pub repetitions: Vec<f64>,
    /// `ok`, `improved`, `warning`, `critical` or `insufficient-data`.
    pub verdict: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// The change against the baseline (0.05: 5% larger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<(f64, f64)>,
}
