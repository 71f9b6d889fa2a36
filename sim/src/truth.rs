//! Ground truth, kept apart from telemetry: per machine and acquisition instant,
//! the health state, the active fault modes with their onsets, sensor faults,
//! and remaining useful life.
//!
//! RUL at t is the realised failure time of the machine's sampled-ahead
//! degradation paths minus t. Where failure falls after the run's end the
//! record is right-censored (`censored: true`, RUL still given when the path
//! reached the threshold within the look-ahead horizon).

use crate::plant::FaultMode;
use crate::time::SimTime;

/// Health of a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    /// No active fault mode.
    Healthy,
    /// A fault mode is active below its failure threshold.
    Degrading,
    /// A fault mode has crossed its failure threshold.
    Failed,
}

impl Health {
    /// Snake-case name.
    pub fn name(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Degrading => "degrading",
            Health::Failed => "failed",
        }
    }
}

/// An active machine fault mode.
#[derive(Clone, Debug, PartialEq)]
pub struct ModeTruth {
    /// The mode.
    pub mode: FaultMode,
    /// Severity now (1 = failure threshold).
    pub severity: f64,
    /// When it began.
    pub onset: SimTime,
    /// `degradation`, `scheduled`, `random` or `command`.
    pub origin: &'static str,
}

/// An active sensor fault.
#[derive(Clone, Debug, PartialEq)]
pub struct SensorFaultTruth {
    /// Sensor id.
    pub sensor: String,
    /// Fault name (`stuck_at`, `drift`, …).
    pub fault: &'static str,
    /// When it began.
    pub onset: SimTime,
    /// `scheduled`, `random` or `command`.
    pub origin: &'static str,
}

/// Truth about one machine at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct TruthRecord {
    /// Machine index.
    pub machine: usize,
    /// Instant (an acquisition).
    pub t: SimTime,
    /// Health state.
    pub health: Health,
    /// Active machine fault modes.
    pub modes: Vec<ModeTruth>,
    /// Active sensor faults (the sensor, not the machine, is at fault).
    pub sensor_faults: Vec<SensorFaultTruth>,
    /// Realised time of the failure this instant leads to (or is in, while the
    /// machine is down), if the paths reach the threshold within the horizon.
    pub failure_at: Option<SimTime>,
    /// Remaining useful life, seconds (`failure_at − t`), when known.
    pub rul_s: Option<f64>,
    /// Whether failure lies beyond the end of the run (or beyond the horizon).
    pub censored: bool,
    /// The last repair before this instant (maintenance: the failed part replaced,
    /// every wear path then under way reset), if any.
    pub repaired_at: Option<SimTime>,
    /// Load fraction (operating context).
    pub load: f64,
    /// Shaft speed, rpm (operating context).
    pub speed_rpm: f64,
    /// Housing temperature, °C.
    pub temperature_c: f64,
    /// Motor current, A.
    pub current_a: f64,
}
