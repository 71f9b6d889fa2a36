//! LPS22HH: high-performance MEMS nano pressure sensor (absolute barometer).

use super::{Measures, PartSpec};

/// Datasheet figures of the LPS22HH.
pub const SPEC: PartSpec = PartSpec {
    name: "LPS22HH",
    measures: Measures::Pressure,
    // lps22hh_odr_t (STMicroelectronics/lps22hh-pid): 1, 10, 25, 50, 75, 100, 200 Hz.
    odrs_hz: &[1.0, 10.0, 25.0, 50.0, 75.0, 100.0, 200.0],
    // 260 … 1260 hPa (DocID030890 Rev 2).
    full_scales: &[1260.0],
    // 4096 LSB/hPa, 24-bit (lps22hh_from_lsb_to_hpa).
    lsb: &[1.0 / 4096.0],
    unit: "hPa",
    range_min: 260.0,
    noise_density: 0.0,
    // 0.65 Pa RMS noise (DocID030890).
    noise_rms: 0.0065,
    // Absolute accuracy 0.5 hPa (DocID030890).
    accuracy: 0.5,
    // Embedded FIFO, 128 samples of 3 bytes pressure + 2 bytes temperature.
    fifo_bytes: 128 * 5,
    enbw_hz: |odr| odr / 9.0,
};
