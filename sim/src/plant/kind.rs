//! Machine kinds and the physics defaults each brings.

use serde::{Deserialize, Serialize};

/// What kind of asset a machine is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MachineKind {
    /// Induction motor.
    Motor,
    /// Centrifugal pump (motor-driven; vane pass at impeller vanes × speed).
    Pump,
    /// Fan (blade pass at blades × speed).
    Fan,
    /// Machine-tool spindle (high speed, stiff).
    Spindle,
    /// Screw or reciprocating compressor.
    Compressor,
    /// Belt conveyor drive.
    Conveyor,
}

/// Physics defaults of a kind; a scenario may override the ones it names.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KindDefaults {
    /// Vanes or blades passing per revolution (0 for none).
    pub passes_per_rev: u32,
    /// Residual 1× vibration of a healthy machine, g peak.
    pub residual_1x_g: f64,
    /// Broadband structural vibration of a healthy running machine, g RMS.
    pub broadband_g: f64,
    /// Housing resonance excited by bearing impacts, Hz.
    pub resonance_hz: f64,
    /// Temperature rise above ambient at full load, °C.
    pub rise_full_load_c: f64,
    /// Thermal time constant, s.
    pub thermal_tau_s: f64,
}

impl MachineKind {
    /// Every kind.
    pub const ALL: [MachineKind; 6] = [
        MachineKind::Motor,
        MachineKind::Pump,
        MachineKind::Fan,
        MachineKind::Spindle,
        MachineKind::Compressor,
        MachineKind::Conveyor,
    ];

    /// The kind's defaults. Figures are typical of healthy machines in ISO 10816-1
    /// zone A (velocity RMS well under 1 mm/s) and of MEMS-mounted housing resonances
    /// (2–10 kHz).
    pub fn defaults(self) -> KindDefaults {
        let base = KindDefaults {
            passes_per_rev: 0,
            residual_1x_g: 0.010,
            broadband_g: 0.004,
            resonance_hz: 3_200.0,
            rise_full_load_c: 35.0,
            thermal_tau_s: 1_800.0,
        };
        match self {
            MachineKind::Motor => base,
            MachineKind::Pump => KindDefaults {
                passes_per_rev: 6,
                resonance_hz: 2_800.0,
                rise_full_load_c: 30.0,
                ..base
            },
            MachineKind::Fan => KindDefaults {
                passes_per_rev: 8,
                residual_1x_g: 0.015,
                resonance_hz: 2_400.0,
                rise_full_load_c: 20.0,
                thermal_tau_s: 1_200.0,
                ..base
            },
            MachineKind::Spindle => KindDefaults {
                residual_1x_g: 0.008,
                broadband_g: 0.006,
                resonance_hz: 4_500.0,
                rise_full_load_c: 25.0,
                thermal_tau_s: 900.0,
                ..base
            },
            MachineKind::Compressor => KindDefaults {
                passes_per_rev: 4,
                residual_1x_g: 0.020,
                broadband_g: 0.008,
                resonance_hz: 3_600.0,
                rise_full_load_c: 45.0,
                thermal_tau_s: 2_400.0,
            },
            MachineKind::Conveyor => KindDefaults {
                residual_1x_g: 0.008,
                resonance_hz: 2_000.0,
                rise_full_load_c: 25.0,
                thermal_tau_s: 2_400.0,
                ..base
            },
        }
    }
}
