//! ISM330DHCX: 6-axis IMU (accelerometer + gyroscope) with machine-learning core;
//! fabtwin uses its accelerometer for vibration.

use super::{Measures, PartSpec};

/// Datasheet figures of the ISM330DHCX accelerometer.
pub const SPEC: PartSpec = PartSpec {
    name: "ISM330DHCX",
    measures: Measures::Vibration,
    // ism330dhcx_odr_xl_t (STMicroelectronics/ism330dhcx-pid), high-performance rates.
    odrs_hz: &[
        12.5, 26.0, 52.0, 104.0, 208.0, 416.0, 833.0, 1666.0, 3332.0, 6667.0,
    ],
    // ±2/±4/±8/±16 g; 0.061/0.122/0.244/0.488 mg/LSB, 16-bit (ism330dhcx_from_fs*g_to_mg).
    full_scales: &[2.0, 4.0, 8.0, 16.0],
    lsb: &[0.061e-3, 0.122e-3, 0.244e-3, 0.488e-3],
    unit: "g",
    range_min: -16.0,
    // 60 µg/√Hz high-performance mode, datasheet DS13012 "An" (not cross-checked in
    // our reference sheet; keep as the documented assumption).
    noise_density: 60e-6,
    noise_rms: 0.0,
    accuracy: 0.0,
    // "up to 9 kbyte" smart FIFO (AN5398 Rev 3).
    fifo_bytes: 9 * 1024,
    // LPF1 default: ODR/2.
    enbw_hz: |odr| odr / 2.0,
};
