//! What devices send: one message per device per gateway publish, carrying the
//! readings acquired since the last publish and the device's edge status.
//!
//! Truth (health, RUL) never appears here; see [`crate::truth`].

use crate::edge::{Level, Reading, Zone};
use crate::time::SimTime;

/// A device's edge verdict at the time of a message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    /// Worst ISO 10816 zone over its accelerometers (None without one).
    pub zone: Option<Zone>,
    /// Overall level.
    pub level: Level,
    /// Features past their warning thresholds: `velocity`, `kurtosis`, `temperature`.
    pub reasons: Vec<&'static str>,
}

/// One telemetry message.
#[derive(Clone, Debug, PartialEq)]
pub struct Telemetry {
    /// Index of the gateway that publishes it.
    pub gateway: usize,
    /// Index of the machine (device) it is about.
    pub machine: usize,
    /// Per-device sequence number from 0, never reset.
    pub seq: u64,
    /// Sim time of the publish.
    pub t: SimTime,
    /// Readings acquired since the previous message, oldest first.
    pub readings: Vec<Reading>,
    /// Edge status after the newest reading.
    pub status: Status,
}
