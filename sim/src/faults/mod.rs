//! Injected faults: machine faults (a fault mode held at a severity) and sensor
//! faults (the part misreports), scheduled or at random.

pub mod sensor;

pub use sensor::SensorFault;

use crate::plant::FaultMode;
use crate::time::SimTime;

/// What an injected fault acts on.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A machine fault mode at a fixed severity (0 … 1, 1 = failure threshold).
    Machine {
        /// The mode.
        mode: FaultMode,
        /// Its severity while active.
        severity: f64,
    },
    /// One of the machine's sensors misreporting.
    Sensor {
        /// Index of the sensor in its machine.
        sensor: usize,
        /// How it misreports.
        fault: SensorFault,
    },
}

/// One concrete fault on one machine over an interval.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultEvent {
    /// Index of the machine.
    pub machine: usize,
    /// What it does.
    pub target: Target,
    /// When it starts.
    pub start: SimTime,
    /// When it clears (`None`: never).
    pub end: Option<SimTime>,
    /// Where it came from, for truth (`scheduled`, `random`, `command`).
    pub origin: &'static str,
}

impl FaultEvent {
    /// Whether the fault is active at `t`.
    pub fn active(&self, t: SimTime) -> bool {
        t >= self.start && self.end.is_none_or(|e| t < e)
    }
}
