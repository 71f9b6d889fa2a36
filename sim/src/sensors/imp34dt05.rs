//! IMP34DT05: industrial digital (PDM) MEMS microphone.
//!
//! Values in pascals; full scale is the acoustic overload point as a peak pressure.

use super::{Measures, PartSpec};

/// Acoustic overload point, dB SPL (ST HSDatalog imp34dt05_app.c: 122.5).
pub const AOP_DB_SPL: f64 = 122.5;

/// Datasheet figures of the IMP34DT05.
pub const SPEC: PartSpec = PartSpec {
    name: "IMP34DT05",
    measures: Measures::Sound,
    // Rates ST's STWIN firmware uses (imp34dt05_app.c), 16-bit PCM after decimation.
    odrs_hz: &[8_000.0, 16_000.0, 32_000.0, 48_000.0],
    // AOP 122.5 dB SPL as a peak: 20 µPa · 10^(122.5/20) · √2 = 37.75 Pa.
    full_scales: &[37.75],
    // 16-bit PCM: full scale / 32768.
    lsb: &[37.75 / 32_768.0],
    unit: "Pa",
    range_min: -37.75,
    // A-weighted SNR 64 dB at 94 dB SPL (sibling MP34DT05-A, STEVAL-BCN002V1 UM) ⇒ noise
    // floor 30 dB SPL = 632 µPa RMS over 20 Hz … 20 kHz ⇒ 4.47 µPa/√Hz.
    noise_density: 4.47e-6,
    noise_rms: 0.0,
    accuracy: 0.0,
    fifo_bytes: 0,
    // Flat 100 Hz … 5 kHz, +0.5 dB at 20 kHz: audio band up to Nyquist.
    enbw_hz: |odr| (odr / 2.0).min(20_000.0),
};
