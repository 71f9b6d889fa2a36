//! STTS22H: low-voltage, ultra-low-power, 0.5 °C accuracy digital temperature sensor.

use super::{Measures, PartSpec};

/// Datasheet figures of the STTS22H.
pub const SPEC: PartSpec = PartSpec {
    name: "STTS22H",
    measures: Measures::Temperature,
    // stts22h_odr_temp_t (STMicroelectronics/stts22h-pid): 1, 25, 50, 100, 200 Hz.
    odrs_hz: &[1.0, 25.0, 50.0, 100.0, 200.0],
    // Operating range −40 … +125 °C (DS12606); one full scale.
    full_scales: &[125.0],
    // 0.01 °C/LSB (stts22h_from_lsb_to_celsius: raw/100).
    lsb: &[0.01],
    unit: "degC",
    range_min: -40.0,
    noise_density: 0.0,
    // Output noise: not in our datasheet excerpt; one LSB RMS is assumed.
    noise_rms: 0.01,
    // ±0.5 °C max, −10 … +60 °C (DS12606).
    accuracy: 0.5,
    fifo_bytes: 0,
    enbw_hz: |odr| odr / 2.0,
};
