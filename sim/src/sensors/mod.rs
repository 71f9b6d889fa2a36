//! ST sensor parts: datasheet figures and the acquisition chain every part shares.
//!
//! One module per part holds its constants, each citing its source. The chain is
//! the same for all: the plant's true value, plus the part's noise
//! (noise density × √(equivalent noise bandwidth of the configured filter), not
//! the Nyquist band), plus its per-unit offset within the accuracy spec,
//! quantised to the LSB of the chosen full scale and saturated at full scale.

pub mod hts221;
pub mod iis2dlpc;
pub mod iis3dwb;
pub mod imp23absu;
pub mod imp34dt05;
pub mod ism330dhcx;
pub mod lowpass;
pub mod lps22hh;
pub mod stts22h;

use rand::RngExt;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// An ST part that fabtwin can mount on a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Part {
    /// 3-axis wideband vibration accelerometer, 26.667 kHz.
    Iis3dwb,
    /// 6-axis IMU (accelerometer used for vibration).
    Ism330dhcx,
    /// 3-axis low-power accelerometer.
    Iis2dlpc,
    /// Digital temperature sensor.
    Stts22h,
    /// Relative humidity and temperature sensor.
    Hts221,
    /// Absolute pressure sensor.
    Lps22hh,
    /// Digital (PDM) MEMS microphone.
    Imp34dt05,
    /// Analog MEMS microphone, audio and ultrasound.
    Imp23absu,
}

/// What a part measures, and so which features the edge computes from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measures {
    /// Acceleration on three axes, g.
    Vibration,
    /// Temperature, °C.
    Temperature,
    /// Relative humidity, %rH (and temperature).
    Humidity,
    /// Absolute pressure, hPa.
    Pressure,
    /// Sound pressure, Pa (features in dB SPL).
    Sound,
}

/// Datasheet figures of one part.
#[derive(Clone, Copy, Debug)]
pub struct PartSpec {
    /// The part number as ST writes it.
    pub name: &'static str,
    /// What the part measures.
    pub measures: Measures,
    /// Selectable output data rates, Hz.
    pub odrs_hz: &'static [f64],
    /// Selectable full scales in `unit` (± for accelerometers; upper range end otherwise).
    pub full_scales: &'static [f64],
    /// Sensitivity (value of one LSB) for each entry of `full_scales`, in `unit`.
    pub lsb: &'static [f64],
    /// Unit of full scale, LSB and noise.
    pub unit: &'static str,
    /// Lowest value the part reports (for unipolar parts), in `unit`.
    pub range_min: f64,
    /// Noise density in `unit`/√Hz (vibration and sound), or 0 when `noise_rms` is given.
    pub noise_density: f64,
    /// Output noise RMS in `unit` for parts specified that way (environmental parts).
    pub noise_rms: f64,
    /// Maximum absolute error of a unit in `unit` (per-unit offset is drawn within it).
    pub accuracy: f64,
    /// FIFO depth in bytes (0 when the part has none).
    pub fifo_bytes: u32,
    /// Equivalent noise bandwidth of the default filter at a given ODR, Hz.
    pub enbw_hz: fn(odr_hz: f64) -> f64,
}

impl Part {
    /// Every part, in a stable order.
    pub const ALL: [Part; 8] = [
        Part::Iis3dwb,
        Part::Ism330dhcx,
        Part::Iis2dlpc,
        Part::Stts22h,
        Part::Hts221,
        Part::Lps22hh,
        Part::Imp34dt05,
        Part::Imp23absu,
    ];

    /// The part's datasheet figures.
    pub fn spec(self) -> &'static PartSpec {
        match self {
            Part::Iis3dwb => &iis3dwb::SPEC,
            Part::Ism330dhcx => &ism330dhcx::SPEC,
            Part::Iis2dlpc => &iis2dlpc::SPEC,
            Part::Stts22h => &stts22h::SPEC,
            Part::Hts221 => &hts221::SPEC,
            Part::Lps22hh => &lps22hh::SPEC,
            Part::Imp34dt05 => &imp34dt05::SPEC,
            Part::Imp23absu => &imp23absu::SPEC,
        }
    }

    /// Looks a part up by its ST name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Part> {
        Part::ALL
            .into_iter()
            .find(|p| p.spec().name.eq_ignore_ascii_case(name))
    }

    /// The names of all parts, for error messages.
    pub fn names() -> String {
        Part::ALL.map(|p| p.spec().name).join(", ")
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.spec().name)
    }
}

impl PartSpec {
    /// Whether `odr_hz` is one of the part's rates (to within 0.5 Hz, as ST's tools
    /// write 26667 and 26.7k for the same setting).
    pub fn has_odr(&self, odr_hz: f64) -> bool {
        self.odrs_hz.iter().any(|&o| (o - odr_hz).abs() <= 0.5)
    }

    /// LSB for full scale `fs`, if the part offers that full scale.
    pub fn lsb_for(&self, fs: f64) -> Option<f64> {
        self.full_scales
            .iter()
            .position(|&f| (f - fs).abs() < 1e-9)
            .map(|i| self.lsb[i])
    }

    /// Valid ODRs as text, for error messages.
    pub fn odr_list(&self) -> String {
        list(self.odrs_hz)
    }

    /// Valid full scales as text, for error messages.
    pub fn full_scale_list(&self) -> String {
        list(self.full_scales)
    }

    /// RMS of the part's own noise at `odr_hz`, in `unit`: density × √ENBW, or the
    /// datasheet RMS for parts specified that way.
    pub fn noise_sigma(&self, odr_hz: f64) -> f64 {
        if self.noise_density > 0.0 {
            self.noise_density * (self.enbw_hz)(odr_hz).sqrt()
        } else {
            self.noise_rms
        }
    }
}

fn list(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Codes on each side of zero in a 16-bit two's complement output word.
pub const WORD_CODES: f64 = 32_768.0;

/// One configured sensor's acquisition chain: noise, offset, quantisation, saturation.
#[derive(Clone, Debug)]
pub struct Chain {
    /// Noise RMS added to every sample, in the part's unit.
    pub sigma: f64,
    /// LSB of the configured full scale.
    pub lsb: f64,
    /// Saturation limits.
    pub min: f64,
    /// Saturation limits.
    pub max: f64,
    /// This unit's fixed offset (drawn once within the accuracy spec).
    pub offset: f64,
}

impl Chain {
    /// The chain of `part` at `odr_hz` and full scale `fs`, with the unit's offset drawn
    /// from `rng` (uniform within ±accuracy/3, so that 3σ of a batch stays in spec).
    pub fn new(part: Part, odr_hz: f64, fs: f64, rng: &mut impl rand::Rng) -> Chain {
        let spec = part.spec();
        let lsb = spec.lsb_for(fs).unwrap_or(spec.lsb[0]);
        let (min, max) = match spec.measures {
            // 16-bit two's complement output words (every accelerometer and
            // microphone here, see the part modules): −32768 … 32767 LSB, which at
            // ±16 g × 0.488 mg/LSB ends at 15.99 g, just inside the nominal range.
            Measures::Vibration | Measures::Sound => (
                (-WORD_CODES * lsb).max(-fs),
                ((WORD_CODES - 1.0) * lsb).min(fs - lsb),
            ),
            _ => (spec.range_min, fs),
        };
        let offset = if spec.accuracy > 0.0 {
            rng.random_range(-1.0..=1.0) * spec.accuracy / 3.0
        } else {
            0.0
        };
        Chain {
            sigma: spec.noise_sigma(odr_hz),
            lsb,
            min,
            max,
            offset,
        }
    }

    /// Quantises and saturates one value as the part's ADC and registers do.
    #[inline]
    pub fn quantise(&self, x: f64) -> f64 {
        ((x / self.lsb).round() * self.lsb).clamp(self.min, self.max)
    }

    /// Turns a true value into the part's output: noise, offset, quantisation, saturation.
    #[inline]
    pub fn measure(&self, truth: f64, rng: &mut impl rand::Rng) -> f64 {
        let n: f64 = rng.sample(StandardNormal);
        self.quantise(truth + self.offset + self.sigma * n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::rng_for;

    #[test]
    fn every_part_is_consistent() {
        for p in Part::ALL {
            let s = p.spec();
            assert_eq!(s.full_scales.len(), s.lsb.len(), "{}", s.name);
            assert!(!s.odrs_hz.is_empty(), "{}", s.name);
            assert!(s.noise_density > 0.0 || s.noise_rms > 0.0, "{}", s.name);
            assert_eq!(Part::from_name(&s.name.to_lowercase()), Some(p));
        }
    }

    #[test]
    fn healthy_noise_rms_matches_datasheet_within_ten_percent() {
        // A still IIS3DWB at ±2 g: the output RMS is its noise, 75 µg/√Hz × √ENBW.
        for (part, fs) in [
            (Part::Iis3dwb, 2.0),
            (Part::Iis2dlpc, 2.0),
            (Part::Ism330dhcx, 2.0),
        ] {
            let spec = part.spec();
            let odr = *spec.odrs_hz.last().unwrap();
            let mut rng = rng_for(1, "noise");
            let chain = Chain::new(part, odr, fs, &mut rng);
            let n = 100_000;
            let xs: Vec<f64> = (0..n).map(|_| chain.measure(0.0, &mut rng)).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let rms = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
            let want = spec.noise_sigma(odr);
            assert!(
                (rms / want - 1.0).abs() < 0.10,
                "{}: rms {rms} vs datasheet {want}",
                spec.name
            );
        }
    }

    #[test]
    fn codes_stay_within_sixteen_bits_at_every_full_scale() {
        let mut rng = rng_for(1, "codes");
        for part in [Part::Iis3dwb, Part::Ism330dhcx] {
            for &fs in part.spec().full_scales {
                let chain = Chain::new(part, part.spec().odrs_hz[0], fs, &mut rng);
                for x in [1e3, -1e3, fs, -fs] {
                    let code = (chain.quantise(x) / chain.lsb).round();
                    assert!(
                        (-32_768.0..=32_767.0).contains(&code),
                        "{part} ±{fs} g: {code}"
                    );
                }
            }
        }
    }

    #[test]
    fn saturates_at_full_scale_and_quantises_to_lsb() {
        let mut rng = rng_for(1, "sat");
        let chain = Chain::new(Part::Iis3dwb, 26_667.0, 4.0, &mut rng);
        assert_eq!(chain.quantise(10.0), 32_767.0 * 0.000_122);
        assert_eq!(chain.quantise(-10.0), -32_768.0 * 0.000_122);
        let q = chain.quantise(0.001);
        assert!((q / 0.000_122 - (q / 0.000_122).round()).abs() < 1e-9);
    }
}
