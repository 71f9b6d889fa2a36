//! HTS221: capacitive digital relative-humidity and temperature sensor.

use super::{Measures, PartSpec};

/// Datasheet figures of the HTS221 humidity channel.
pub const SPEC: PartSpec = PartSpec {
    name: "HTS221",
    measures: Measures::Humidity,
    // hts221_odr_t (STMicroelectronics/hts221-pid): 1, 7, 12.5 Hz.
    odrs_hz: &[1.0, 7.0, 12.5],
    // 0 … 100 %rH (DocID026333 Rev 4).
    full_scales: &[100.0],
    // 0.004 %rH/LSB, 16-bit (DocID026333).
    lsb: &[0.004],
    unit: "%rH",
    range_min: 0.0,
    noise_density: 0.0,
    // RMS noise with default averaging (AVGH = 32): not in our excerpt; 0.03 %rH assumed.
    noise_rms: 0.03,
    // ±3.5 %rH over 20 … 80 %rH (DocID026333).
    accuracy: 3.5,
    fifo_bytes: 0,
    enbw_hz: |odr| odr / 2.0,
};

/// Temperature accuracy of the HTS221's temperature channel, ±°C over 15 … 40 °C (DocID026333).
pub const TEMPERATURE_ACCURACY_C: f64 = 0.5;
