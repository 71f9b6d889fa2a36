//! The plant: machines and the physics a sensor on them sees.
//!
//! A machine's condition at an instant is a [`MachineState`]: shaft speed, load,
//! temperature, current and the severity of each fault mode. [`crate::signal`]
//! turns that state into the vibration a sensor picks up.

pub mod bearing;
pub mod drive;
pub mod kind;
pub mod load;
pub mod process;
pub mod thermal;

pub use bearing::BearingGeometry;
pub use kind::MachineKind;
pub use load::LoadProfile;
pub use thermal::Thermal;

use serde::{Deserialize, Serialize};

/// A machine fault mode: what degrades or is injected, and what truth labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultMode {
    /// Outer-race defect: impacts at BPFO exciting the housing resonance.
    BearingOuter,
    /// Inner-race defect: impacts at BPFI, amplitude-modulated at shaft speed.
    BearingInner,
    /// Mass imbalance: radial 1× shaft speed.
    Imbalance,
    /// Shaft misalignment: 2× (and 1×), strongest axially.
    Misalignment,
    /// Mechanical looseness: many harmonics of shaft speed.
    Looseness,
    /// Overheating: extra heat (cooling loss, friction) raising temperature.
    Overheating,
}

impl FaultMode {
    /// Every mode, in a stable order (the index of each severity in [`MachineState`]).
    pub const ALL: [FaultMode; 6] = [
        FaultMode::BearingOuter,
        FaultMode::BearingInner,
        FaultMode::Imbalance,
        FaultMode::Misalignment,
        FaultMode::Looseness,
        FaultMode::Overheating,
    ];

    /// Snake-case name, as in files and telemetry.
    pub fn name(self) -> &'static str {
        match self {
            FaultMode::BearingOuter => "bearing_outer",
            FaultMode::BearingInner => "bearing_inner",
            FaultMode::Imbalance => "imbalance",
            FaultMode::Misalignment => "misalignment",
            FaultMode::Looseness => "looseness",
            FaultMode::Overheating => "overheating",
        }
    }

    /// Position in [`FaultMode::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Severity of each fault mode, 0 (absent) … 1 (failure threshold) and beyond.
pub type Severities = [f64; FaultMode::ALL.len()];

/// The condition of one machine at one instant: everything sensors see.
#[derive(Clone, Debug, PartialEq)]
pub struct MachineState {
    /// Shaft rotation frequency, Hz.
    pub shaft_hz: f64,
    /// Load as a fraction of rated, 0 … 1.2.
    pub load: f64,
    /// Bearing-housing temperature, °C.
    pub temperature_c: f64,
    /// Ambient air temperature, °C.
    pub ambient_c: f64,
    /// Motor current, A.
    pub current_a: f64,
    /// Severity of each mode, indexed by [`FaultMode::index`].
    pub severity: Severities,
    /// Whether the machine is running (a stopped machine only shows sensor noise).
    pub running: bool,
    /// Rolling-element slip: the fraction by which bearing defect frequencies fall
    /// short of their kinematic values (1–2 % typical, Randall & Antoni 2011,
    /// MSSP 25(2)); wanders from window to window.
    pub slip: f64,
    /// Process excitation of the broadband floor, as a factor on the kind's healthy
    /// level (flow turbulence, cavitation, cutting: 1 = nominal).
    pub process: f64,
}

impl MachineState {
    /// Severity of `mode`.
    pub fn severity(&self, mode: FaultMode) -> f64 {
        self.severity[mode.index()]
    }
}
