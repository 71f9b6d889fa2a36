//! `raw` fidelity: draws acquisition bursts of samples from a [`VibrationModel`].
//!
//! Deterministic parts (harmonics, tones) are summed with recursive oscillators;
//! impacts ring the resonance from a cached impulse response; the Gaussian parts
//! (broadband structure noise and the sensor's own noise) are added by the
//! sensor chain, which knows both.

use rand::RngExt;
use rand_distr::StandardNormal;

use super::{AXES, ResponseKey, SLIP_JITTER, VibrationModel, response_key, seen_response};
use crate::sensors::lowpass::Lowpass;

/// Reusable synthesiser: caches the impulse response for the last resonance and rate.
#[derive(Debug, Default)]
pub struct Synth {
    key: ResponseKey,
    response: Vec<f64>,
}

impl Synth {
    /// A synthesiser with an empty cache.
    pub fn new() -> Synth {
        Synth::default()
    }

    fn response(
        &mut self,
        resonance_hz: f64,
        damping: f64,
        fs: f64,
        lowpass: Option<&Lowpass>,
    ) -> &[f64] {
        let key = response_key(resonance_hz, damping, fs, lowpass);
        if key != self.key || self.response.is_empty() {
            self.response = seen_response(resonance_hz, damping, fs, lowpass);
            self.key = key;
        }
        &self.response
    }

    /// Writes the noise-free vibration of `model` on the three axes into `out`
    /// (each resized to `n`), for samples `t0_s + i/fs`. `rng` draws impact slip.
    pub fn burst(
        &mut self,
        model: &VibrationModel,
        t0_s: f64,
        fs: f64,
        n: usize,
        out: &mut [Vec<f64>; AXES],
        rng: &mut impl rand::Rng,
    ) {
        for axis in out.iter_mut() {
            axis.clear();
            axis.resize(n, 0.0);
        }
        if n == 0 || fs <= 0.0 {
            return;
        }
        let sines = model
            .harmonics
            .iter()
            .map(|h| (h.order as f64 * model.shaft_hz, h.amp_g, h.phase))
            .chain(model.tones.iter().map(|t| (t.freq_hz, t.amp_g, t.phase)));
        for (f, amp, phase) in sines {
            if f >= fs / 2.0 {
                continue; // above Nyquist the part's anti-alias filter removes it
            }
            add_sine(out, f, amp, phase, t0_s, fs);
        }
        for imp in &model.impacts {
            if imp.rate_hz <= 0.0 {
                continue;
            }
            let h = self
                .response(imp.resonance_hz, imp.damping, fs, model.lowpass.as_ref())
                .to_vec();
            let tail_s = h.len() as f64 / fs;
            let period = 1.0 / imp.rate_hz;
            let first = ((t0_s - tail_s) * imp.rate_hz).floor() as i64;
            let last = ((t0_s + n as f64 / fs) * imp.rate_hz).ceil() as i64;
            for j in first..=last {
                let slip: f64 = rng.sample(StandardNormal);
                let tau = j as f64 * period + slip * SLIP_JITTER * period;
                // This impact's own amplitude (no two rolling elements hit alike).
                let spread: f64 = rng.sample(StandardNormal);
                let a = 1.0 + imp.amp_cv * spread;
                let m =
                    a * (1.0 + imp.mod_depth * (std::f64::consts::TAU * imp.mod_hz * tau).cos());
                let start = ((tau - t0_s) * fs).round() as i64;
                let skip = (-start).max(0) as usize;
                if skip >= h.len() {
                    continue;
                }
                let s0 = start.max(0) as usize;
                if s0 >= n {
                    continue;
                }
                let len = (h.len() - skip).min(n - s0);
                for (a, axis) in out.iter_mut().enumerate() {
                    let g = imp.amp_g[a] * m;
                    if g == 0.0 {
                        continue;
                    }
                    for (y, &x) in axis[s0..s0 + len].iter_mut().zip(&h[skip..skip + len]) {
                        *y += g * x;
                    }
                }
            }
        }
    }
}

/// Adds `amp·sin(2πf·t + phase)` to each axis with a rotating phasor, renormalised
/// every block so rounding never builds up.
fn add_sine(out: &mut [Vec<f64>; AXES], f: f64, amp: [f64; AXES], phase: f64, t0_s: f64, fs: f64) {
    const BLOCK: usize = 1024;
    let n = out[0].len();
    let w = std::f64::consts::TAU * f;
    let (ds, dc) = (w / fs).sin_cos();
    let mut i = 0;
    while i < n {
        // Exact phase at the start of each block, from the sample index.
        let theta = w * (t0_s + i as f64 / fs) + phase;
        let theta = theta.rem_euclid(std::f64::consts::TAU);
        let (mut s, mut c) = theta.sin_cos();
        let end = (i + BLOCK).min(n);
        // Indexing by axis keeps the three outputs in one pass over the samples.
        #[allow(clippy::needless_range_loop)]
        for k in i..end {
            for a in 0..AXES {
                out[a][k] += amp[a] * s;
            }
            let s2 = s * dc + c * ds;
            c = c * dc - s * ds;
            s = s2;
        }
        i = end;
    }
}

#[cfg(test)]
mod tests {
    use super::super::Harmonic;
    use super::*;
    use crate::rng::rng_for;

    #[test]
    fn sines_match_direct_evaluation() {
        let model = VibrationModel {
            shaft_hz: 29.95,
            harmonics: vec![Harmonic {
                order: 3,
                amp_g: [1.0, 0.5, 0.0],
                phase: 0.3,
            }],
            tones: vec![],
            impacts: vec![],
            broadband_g: [0.0; AXES],
            lowpass: None,
            white_g2: 0.0,
        };
        let mut out: [Vec<f64>; AXES] = Default::default();
        let fs = 26_667.0;
        Synth::new().burst(&model, 12.5, fs, 5000, &mut out, &mut rng_for(1, "x"));
        for i in [0usize, 1, 1023, 1024, 4999] {
            let t = 12.5 + i as f64 / fs;
            let want = (std::f64::consts::TAU * 3.0 * 29.95 * t + 0.3).sin();
            assert!((out[0][i] - want).abs() < 1e-9, "{i}");
            assert!((out[1][i] - 0.5 * want).abs() < 1e-9);
            assert_eq!(out[2][i], 0.0);
        }
    }
}
