//! IMP23ABSU: analog MEMS microphone with audio and ultrasound response.

use super::{Measures, PartSpec};

/// Acoustic overload point, dB SPL (ST HSDatalog imp23absu_app.c: 130).
pub const AOP_DB_SPL: f64 = 130.0;

/// Datasheet figures of the IMP23ABSU as digitised on ST's STWIN (16-bit).
pub const SPEC: PartSpec = PartSpec {
    name: "IMP23ABSU",
    measures: Measures::Sound,
    // Rates ST's STWIN firmware uses (imp23absu_app.c).
    odrs_hz: &[8_000.0, 16_000.0, 32_000.0, 48_000.0, 96_000.0, 192_000.0],
    // AOP 130 dB SPL as a peak: 20 µPa · 10^(130/20) · √2 = 89.44 Pa.
    full_scales: &[89.44],
    lsb: &[89.44 / 32_768.0],
    unit: "Pa",
    range_min: -89.44,
    // Sensitivity and SNR were not available to us; the IMP34DT05 floor (30 dB SPL over
    // 20 kHz) is assumed.
    noise_density: 4.47e-6,
    noise_rms: 0.0,
    accuracy: 0.0,
    fifo_bytes: 0,
    enbw_hz: |odr| (odr / 2.0).min(80_000.0),
};
