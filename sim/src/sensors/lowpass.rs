//! A part's digital low-pass filter: what keeps an accelerometer's output flat to
//! its bandwidth and rolls it off above.
//!
//! The IIS3DWB samples at 26.667 kHz but is specified "dc to 6 kHz (±3 dB)" with
//! its digital LPF at the default `IIS3DWB_LP_6k3Hz` (reference sheet §1a): above
//! 6.3 kHz its output falls away, so neither the sensor's noise nor a bearing's
//! ringing reaches Nyquist at full strength. ST does not publish the filter's
//! order; a 6th-order Butterworth (three biquads, bilinear transform with the
//! cut-off pre-warped) is flat to within 0.1 dB below 4 kHz, −3 dB at 6.3 kHz and
//! more than 20 dB down from 8 kHz up, the shape a wideband MEMS part's
//! decimation filter has. Its noise bandwidth, ∫|H|² df, is within 2 % of the
//! cut-off, so the output noise is the datasheet's density × √(6.3 kHz).
//!
//! Both fidelities use the same response: `raw` filters the synthesised noise and
//! each impact's ringing sample by sample; `features` weighs the same spectra by
//! |H(f)|² ([`Lowpass::mag2`]).

/// Order of the filter (an even number: one biquad per pair of poles).
pub const ORDER: usize = 6;
const SECTIONS: usize = ORDER / 2;

/// Samples of white noise run through the filter before a window starts, so the
/// window sees it in steady state (its impulse response has decayed below 1e-6 by
/// then at any cut-off above ODR/10).
pub const WARM_UP: usize = 256;

/// A digital Butterworth low-pass at `cutoff_hz` for sample rate `fs`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lowpass {
    /// −3 dB frequency, Hz.
    pub cutoff_hz: f64,
    /// Sample rate, Hz.
    pub fs: f64,
    /// Biquads (b0, b1, b2, a1, a2), a0 = 1.
    sections: [[f64; 5]; SECTIONS],
}

impl Lowpass {
    /// The filter, or `None` where the cut-off is not below Nyquist (the part is
    /// then flat to Nyquist, its anti-alias filter aside).
    pub fn new(cutoff_hz: f64, fs: f64) -> Option<Lowpass> {
        if !(cutoff_hz > 0.0 && cutoff_hz < 0.45 * fs) {
            return None;
        }
        // Pre-warped analog cut-off, then one biquad per conjugate pole pair of
        // the analog prototype (poles at angles (2k + 1)π/(2n) from the jω axis).
        let k = (std::f64::consts::PI * cutoff_hz / fs).tan();
        let sections = std::array::from_fn(|i| {
            let theta = std::f64::consts::PI * (2 * i + 1) as f64 / (2 * ORDER) as f64;
            let q2 = 2.0 * theta.sin(); // 1/Q
            let norm = 1.0 / (1.0 + q2 * k + k * k);
            let b0 = k * k * norm;
            [
                b0,
                2.0 * b0,
                b0,
                2.0 * (k * k - 1.0) * norm,
                (1.0 - q2 * k + k * k) * norm,
            ]
        });
        Some(Lowpass {
            cutoff_hz,
            fs,
            sections,
        })
    }

    /// Filters `xs` in place from rest.
    pub fn apply(&self, xs: &mut [f64]) {
        for [b0, b1, b2, a1, a2] in self.sections {
            let (mut z1, mut z2) = (0.0, 0.0);
            for x in xs.iter_mut() {
                // Transposed direct form II.
                let y = b0 * *x + z1;
                z1 = b1 * *x - a1 * y + z2;
                z2 = b2 * *x - a2 * y;
                *x = y;
            }
        }
    }

    /// H(e^{iω}) at `f` Hz, as (re, im).
    pub fn transfer(&self, f: f64) -> (f64, f64) {
        let w = std::f64::consts::TAU * f / self.fs;
        let (s1, c1) = w.sin_cos();
        let (s2, c2) = (2.0 * w).sin_cos();
        self.sections
            .iter()
            .fold((1.0, 0.0), |(re, im), [b0, b1, b2, a1, a2]| {
                // (b0 + b1 z⁻¹ + b2 z⁻²) / (1 + a1 z⁻¹ + a2 z⁻²), z⁻ᵏ = e^{−ikω}.
                let (nr, ni) = (b0 + b1 * c1 + b2 * c2, -(b1 * s1 + b2 * s2));
                let (dr, di) = (1.0 + a1 * c1 + a2 * c2, -(a1 * s1 + a2 * s2));
                let d2 = dr * dr + di * di;
                let (hr, hi) = ((nr * dr + ni * di) / d2, (ni * dr - nr * di) / d2);
                (re * hr - im * hi, re * hi + im * hr)
            })
    }

    /// |H(f)|².
    pub fn mag2(&self, f: f64) -> f64 {
        let (re, im) = self.transfer(f);
        re * re + im * im
    }

    /// Mean of |H|² over `[lo, hi]` Hz (a fine midpoint sum).
    pub fn mean_mag2(&self, lo: f64, hi: f64) -> f64 {
        const STEPS: usize = 256;
        let df = (hi - lo) / STEPS as f64;
        (0..STEPS)
            .map(|i| self.mag2(lo + (i as f64 + 0.5) * df))
            .sum::<f64>()
            / STEPS as f64
    }

    /// Equivalent noise bandwidth ∫₀^{fs/2} |H|² df, Hz.
    pub fn enbw_hz(&self) -> f64 {
        self.mean_mag2(0.0, self.fs / 2.0) * self.fs / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(x: f64) -> f64 {
        10.0 * x.log10()
    }

    #[test]
    fn flat_in_band_minus_three_db_at_cutoff_twenty_down_from_eight_khz() {
        let f = Lowpass::new(6_300.0, 26_667.0).unwrap();
        assert!(db(f.mag2(10.0)).abs() < 1e-6);
        assert!(db(f.mag2(4_000.0)).abs() < 0.1, "{}", db(f.mag2(4_000.0)));
        assert!((db(f.mag2(6_300.0)) + 3.01).abs() < 0.05);
        assert!(db(f.mag2(8_000.0)) < -20.0, "{}", db(f.mag2(8_000.0)));
        assert!(
            (f.enbw_hz() / 6_300.0 - 1.0).abs() < 0.02,
            "{}",
            f.enbw_hz()
        );
    }

    #[test]
    fn the_samples_follow_the_response() {
        // A unit impulse through the filter: its DFT at f is H(f).
        let f = Lowpass::new(6_300.0, 26_667.0).unwrap();
        let mut h = vec![0.0; 4096];
        h[0] = 1.0;
        f.apply(&mut h);
        for freq in [100.0, 3_000.0, 6_300.0, 9_000.0] {
            let w = std::f64::consts::TAU * freq / f.fs;
            let (re, im) = h.iter().enumerate().fold((0.0, 0.0), |(re, im), (n, x)| {
                let (s, c) = (w * n as f64).sin_cos();
                (re + x * c, im - x * s)
            });
            let (hr, hi) = f.transfer(freq);
            assert!(
                (re - hr).abs() < 1e-9 && (im - hi).abs() < 1e-9,
                "{freq} Hz"
            );
        }
    }

    #[test]
    fn no_filter_at_or_above_nyquist() {
        assert!(Lowpass::new(13_333.0, 26_667.0).is_none());
        assert!(Lowpass::new(0.0, 26_667.0).is_none());
    }
}
