//! IIS2DLPC: high-performance ultra-low-power 3-axis accelerometer.

use super::{Measures, PartSpec};

/// Datasheet figures of the IIS2DLPC in high-performance mode (14-bit).
pub const SPEC: PartSpec = PartSpec {
    name: "IIS2DLPC",
    measures: Measures::Vibration,
    // iis2dlpc_odr_t (STMicroelectronics/iis2dlpc-pid): 12.5 … 1600 Hz in high-performance mode.
    odrs_hz: &[12.5, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0],
    // ±2/±4/±8/±16 g; 0.244/0.488/0.976/1.952 mg/LSB, 14-bit (iis2dlpc_from_fs*_to_mg).
    full_scales: &[2.0, 4.0, 8.0, 16.0],
    lsb: &[0.244e-3, 0.488e-3, 0.976e-3, 1.952e-3],
    unit: "g",
    range_min: -16.0,
    // "down to 90 µg/√Hz" (datasheet DocID031788 Rev 4).
    noise_density: 90e-6,
    noise_rms: 0.0,
    accuracy: 0.0,
    // 32-level FIFO of 3 × 14-bit samples (same datasheet).
    fifo_bytes: 32 * 6,
    // "bandwidth up to 800 Hz" at 1600 Hz: ODR/2.
    enbw_hz: |odr| odr / 2.0,
};
