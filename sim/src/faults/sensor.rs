//! Sensor faults: how a part misreports, on samples (`raw`) and on features
//! (`features`), after the taxonomy of the `fault_injector` docs (bias, drift,
//! noise, stuck-at, dropout) and Sharma et al., ACM TOSN 2010 (spikes).

use rand::RngExt;
use rand_distr::StandardNormal;

use crate::edge::spectral::AxisFeatures;

/// How a sensor misreports while the fault is active.
#[derive(Clone, Debug, PartialEq)]
pub enum SensorFault {
    /// Output frozen at the value it had when the fault began (AC features vanish).
    StuckAt,
    /// Output drifts linearly from the fault's start, in the part's unit per hour.
    Drift {
        /// Drift rate, unit/h.
        per_hour: f64,
    },
    /// Constant offset, in the part's unit.
    Bias {
        /// Offset.
        offset: f64,
    },
    /// Output scaled by a factor (loose mount, failing amplifier).
    Gain {
        /// Scale factor.
        factor: f64,
    },
    /// Isolated spikes of the given amplitude, at the given mean rate.
    Spikes {
        /// Mean spikes per second.
        rate_hz: f64,
        /// Spike amplitude, in the part's unit.
        amplitude: f64,
    },
    /// Noise RMS multiplied by a factor.
    Noise {
        /// Factor on the noise RMS.
        factor: f64,
    },
    /// No data at all.
    Dropout,
    /// Output clipped at a fraction of full scale (wrong range, damaged part).
    Saturation {
        /// Clip level as a fraction of full scale, 0 … 1.
        fraction: f64,
    },
}

impl SensorFault {
    /// Snake-case name, as in files and truth.
    pub fn name(&self) -> &'static str {
        match self {
            SensorFault::StuckAt => "stuck_at",
            SensorFault::Drift { .. } => "drift",
            SensorFault::Bias { .. } => "bias",
            SensorFault::Gain { .. } => "gain",
            SensorFault::Spikes { .. } => "spikes",
            SensorFault::Noise { .. } => "noise",
            SensorFault::Dropout => "dropout",
            SensorFault::Saturation { .. } => "saturation",
        }
    }

    /// Applies the fault to a scalar reading (temperature, humidity, pressure).
    /// `hours` is the time since the fault began; `frozen` the value at that instant;
    /// `sigma` the part's noise RMS. Returns `None` for a dropout.
    pub fn apply_scalar(
        &self,
        x: f64,
        hours: f64,
        frozen: f64,
        sigma: f64,
        full_scale: f64,
        rng: &mut impl rand::Rng,
    ) -> Option<f64> {
        Some(match self {
            SensorFault::StuckAt => frozen,
            SensorFault::Drift { per_hour } => x + per_hour * hours,
            SensorFault::Bias { offset } => x + offset,
            SensorFault::Gain { factor } => x * factor,
            SensorFault::Spikes { amplitude, .. } => {
                if rng.random_bool(0.2) {
                    x + amplitude
                } else {
                    x
                }
            }
            SensorFault::Noise { factor } => {
                let z: f64 = rng.sample(StandardNormal);
                x + sigma * (factor - 1.0).max(0.0) * z
            }
            SensorFault::Dropout => return None,
            SensorFault::Saturation { fraction } => x.min(full_scale * fraction),
        })
    }

    /// Applies the fault to one axis's samples (`raw` fidelity). `t0_hours` is the
    /// time since the fault began at the first sample; `sigma` the noise RMS already
    /// in the samples; `full_scale` the configured range. Returns `false` for a dropout.
    pub fn apply_samples(
        &self,
        xs: &mut [f64],
        fs: f64,
        t0_hours: f64,
        sigma: f64,
        full_scale: f64,
        rng: &mut impl rand::Rng,
    ) -> bool {
        match self {
            SensorFault::StuckAt => {
                let v = xs.first().copied().unwrap_or(0.0);
                xs.iter_mut().for_each(|x| *x = v);
            }
            SensorFault::Drift { per_hour } => {
                for (i, x) in xs.iter_mut().enumerate() {
                    *x += per_hour * (t0_hours + i as f64 / fs / 3600.0);
                }
            }
            SensorFault::Bias { offset } => xs.iter_mut().for_each(|x| *x += offset),
            SensorFault::Gain { factor } => xs.iter_mut().for_each(|x| *x *= factor),
            SensorFault::Spikes { rate_hz, amplitude } => {
                let p = (rate_hz / fs).clamp(0.0, 1.0);
                for x in xs.iter_mut() {
                    if rng.random_bool(p) {
                        *x += if rng.random_bool(0.5) {
                            *amplitude
                        } else {
                            -amplitude
                        };
                    }
                }
            }
            SensorFault::Noise { factor } => {
                let extra = sigma * (factor * factor - 1.0).max(0.0).sqrt();
                for x in xs.iter_mut() {
                    let z: f64 = rng.sample(StandardNormal);
                    *x += extra * z;
                }
            }
            SensorFault::Dropout => return false,
            SensorFault::Saturation { fraction } => {
                let c = full_scale * fraction;
                xs.iter_mut().for_each(|x| *x = x.clamp(-c, c));
            }
        }
        true
    }

    /// Applies the fault to one axis's features (`features` fidelity): the effect
    /// the same fault has on the features computed from samples. `sigma` is the
    /// Gaussian RMS in the window; returns `false` for a dropout.
    pub fn apply_features(&self, f: &mut AxisFeatures, sigma: f64, full_scale: f64) -> bool {
        match self {
            // DC shifts are removed with the mean: AC features do not see them.
            SensorFault::Drift { .. } | SensorFault::Bias { .. } => {}
            SensorFault::StuckAt => *f = AxisFeatures::default(),
            SensorFault::Gain { factor } => {
                let g = factor.abs();
                f.rms_g *= g;
                f.peak_g *= g;
                f.vel_rms_mm_s *= g;
                f.bands_g2.iter_mut().for_each(|b| *b *= g * g);
            }
            SensorFault::Spikes { .. } | SensorFault::Noise { .. } => {
                // Handled in the moments (they change kurtosis and the noise floor).
                let _ = sigma;
            }
            SensorFault::Dropout => return false,
            SensorFault::Saturation { fraction } => {
                let c = full_scale * fraction;
                if f.peak_g > c {
                    let k = (c / f.peak_g).max(0.0);
                    f.peak_g = c;
                    f.rms_g = f.rms_g.min(c);
                    f.kurtosis = f.kurtosis.clamp(1.0, 3.0);
                    f.vel_rms_mm_s *= k.max(0.5);
                }
                f.crest = if f.rms_g > 0.0 {
                    f.peak_g / f.rms_g
                } else {
                    0.0
                };
            }
        }
        true
    }
}
