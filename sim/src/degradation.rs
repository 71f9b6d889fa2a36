//! Stochastic degradation: a fault mode's severity grows from a random onset
//! until it crosses the failure threshold.
//!
//! The whole path is sampled ahead from the entity's own random stream when the
//! world is built, so the failure time, and with it the remaining useful life at
//! every instant, is known exactly (ground truth), and does not depend on how the
//! run is stepped.

use rand::RngExt;
use rand_distr::{Distribution, Gamma, StandardNormal};

use crate::plant::FaultMode;
use crate::time::{SimDuration, SimTime};

/// When degradation starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Onset {
    /// At a fixed instant after the start.
    At(SimDuration),
    /// Uniformly between two instants.
    Uniform {
        /// Earliest onset.
        min: SimDuration,
        /// Latest onset.
        max: SimDuration,
    },
}

/// How severity grows after onset (τ = time since onset, in days).
#[derive(Clone, Debug, PartialEq)]
pub enum Growth {
    /// Geometric Brownian motion: ln S = ln S₀ + β·τ + σ·W(τ), with β drawn per
    /// unit from a log-normal of mean `rate_per_day` and coefficient of variation
    /// `rate_cv` (after Gebraeel 2006; unit-to-unit spread).
    Exponential {
        /// Mean growth rate β, 1/day.
        rate_per_day: f64,
        /// Unit-to-unit coefficient of variation of β.
        rate_cv: f64,
        /// Diffusion σ of ln S, 1/√day.
        sigma_per_sqrt_day: f64,
    },
    /// Gamma process: monotone independent increments with mean `mean_per_day`·Δτ
    /// and variance-to-mean ratio set by `cv` (coefficient of variation over a day).
    Gamma {
        /// Mean severity increase per day.
        mean_per_day: f64,
        /// Coefficient of variation of one day's increase.
        cv: f64,
    },
    /// Wiener process with drift: S = S₀ + μ·τ + σ·W(τ) (not monotone).
    Wiener {
        /// Drift μ, severity per day.
        drift_per_day: f64,
        /// Diffusion σ, severity per √day.
        sigma_per_sqrt_day: f64,
    },
}

/// A degradation process as the scenario declares it.
#[derive(Clone, Debug, PartialEq)]
pub struct DegradationSpec {
    /// Index of the machine it acts on.
    pub machine: usize,
    /// The fault mode whose severity it moves.
    pub mode: FaultMode,
    /// When it starts.
    pub onset: Onset,
    /// Severity at onset (detectable but small), 0 … 1.
    pub initial: f64,
    /// Growth law.
    pub growth: Growth,
}

/// Severity at which a mode counts as failed.
pub const FAILURE_THRESHOLD: f64 = 1.0;

/// A realised degradation path.
#[derive(Clone, Debug, PartialEq)]
pub struct DegradationPath {
    /// The mode.
    pub mode: FaultMode,
    /// Realised onset.
    pub onset: SimTime,
    /// Spacing of `values`.
    pub step: SimDuration,
    /// Severity at `onset + k·step`.
    pub values: Vec<f64>,
    /// First crossing of the failure threshold within the horizon.
    pub failure: Option<SimTime>,
}

impl DegradationPath {
    /// Samples the path of `spec` on a grid of `step`, ahead to `horizon`.
    pub fn sample(
        spec: &DegradationSpec,
        step: SimDuration,
        horizon: SimTime,
        rng: &mut impl rand::Rng,
    ) -> DegradationPath {
        let onset = match &spec.onset {
            Onset::At(d) => SimTime(d.0),
            Onset::Uniform { min, max } => {
                let (lo, hi) = (min.0.min(max.0), min.0.max(max.0));
                SimTime(if hi > lo {
                    rng.random_range(lo..=hi)
                } else {
                    lo
                })
            }
        };
        let step = SimDuration(step.0.max(1_000_000));
        let dt_days = step.as_secs_f64() / 86_400.0;
        let mut s = spec.initial.max(1e-6);
        let mut values = vec![s];
        let mut failure = None;
        let beta = match &spec.growth {
            Growth::Exponential {
                rate_per_day,
                rate_cv,
                ..
            } => {
                // Log-normal with the given mean and CV.
                let s2 = (1.0 + rate_cv * rate_cv).ln();
                let mu = rate_per_day.ln() - s2 / 2.0;
                let z: f64 = rng.sample(StandardNormal);
                (mu + s2.sqrt() * z).exp()
            }
            _ => 0.0,
        };
        let gamma = match &spec.growth {
            Growth::Gamma { mean_per_day, cv } if *mean_per_day > 0.0 && *cv > 0.0 => {
                // One day: mean m, std cv·m ⇒ shape 1/cv² per day, scale cv²·m.
                Gamma::new(dt_days / (cv * cv), cv * cv * mean_per_day).ok()
            }
            _ => None,
        };
        let mut t = onset;
        if s >= FAILURE_THRESHOLD {
            failure = Some(onset);
        }
        while failure.is_none() && t < horizon {
            let z: f64 = rng.sample(StandardNormal);
            let next = match &spec.growth {
                Growth::Exponential {
                    sigma_per_sqrt_day, ..
                } => (s.ln() + beta * dt_days + sigma_per_sqrt_day * dt_days.sqrt() * z).exp(),
                Growth::Gamma { mean_per_day, .. } => match &gamma {
                    Some(g) => s + g.sample(rng),
                    None => s + mean_per_day * dt_days,
                },
                Growth::Wiener {
                    drift_per_day,
                    sigma_per_sqrt_day,
                } => {
                    (s + drift_per_day * dt_days + sigma_per_sqrt_day * dt_days.sqrt() * z).max(0.0)
                }
            };
            let t_next = t.after(step);
            if next >= FAILURE_THRESHOLD {
                // Linear interpolation of the crossing inside the step.
                let frac = ((FAILURE_THRESHOLD - s) / (next - s)).clamp(0.0, 1.0);
                failure = Some(SimTime(t.0 + (frac * step.0 as f64) as u64));
            }
            values.push(next);
            s = next;
            t = t_next;
        }
        DegradationPath {
            mode: spec.mode,
            onset,
            step,
            values,
            failure,
        }
    }

    /// Severity at `t` (0 before onset; linear between grid points; held after the end).
    pub fn severity_at(&self, t: SimTime) -> f64 {
        if t < self.onset {
            return 0.0;
        }
        let x = (t.0 - self.onset.0) as f64 / self.step.0 as f64;
        let i = x.floor() as usize;
        match (self.values.get(i), self.values.get(i + 1)) {
            (Some(a), Some(b)) => a + (b - a) * (x - i as f64),
            (Some(a), None) => *a,
            _ => *self.values.last().unwrap_or(&0.0),
        }
    }

    /// Whether the mode is active (past onset) at `t`.
    pub fn active(&self, t: SimTime) -> bool {
        t >= self.onset
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::rng_for;

    fn spec(growth: Growth) -> DegradationSpec {
        DegradationSpec {
            machine: 0,
            mode: FaultMode::BearingOuter,
            onset: Onset::Uniform {
                min: SimDuration::from_secs(3600),
                max: SimDuration::from_secs(7200),
            },
            initial: 0.05,
            growth,
        }
    }

    #[test]
    fn exponential_path_crosses_at_its_expected_time() {
        // Without noise, S = 0.05·e^{β τ} crosses 1 at τ = ln(20)/β days.
        let s = spec(Growth::Exponential {
            rate_per_day: 1.0,
            rate_cv: 1e-9,
            sigma_per_sqrt_day: 0.0,
        });
        let p = DegradationPath::sample(
            &s,
            SimDuration::from_secs(600),
            SimTime(u64::MAX / 2),
            &mut rng_for(3, "d"),
        );
        let life_days = p.failure.unwrap().since(p.onset).as_secs_f64() / 86_400.0;
        assert!((life_days - 20f64.ln()).abs() < 1e-3, "{life_days}");
        assert!((3600..=7200).contains(&(p.onset.0 / 1_000_000_000)));
        assert_eq!(p.severity_at(SimTime(p.onset.0 - 1)), 0.0);
        assert!((p.severity_at(p.failure.unwrap()) - 1.0).abs() < 0.01);
    }

    #[test]
    fn gamma_path_is_monotone_and_fails() {
        let s = spec(Growth::Gamma {
            mean_per_day: 0.5,
            cv: 0.5,
        });
        let p = DegradationPath::sample(
            &s,
            SimDuration::from_secs(600),
            SimTime(u64::MAX / 2),
            &mut rng_for(3, "g"),
        );
        assert!(p.values.windows(2).all(|w| w[1] >= w[0]));
        assert!(p.failure.is_some());
    }

    #[test]
    fn path_beyond_horizon_is_censored() {
        let s = spec(Growth::Wiener {
            drift_per_day: 0.001,
            sigma_per_sqrt_day: 0.0,
        });
        let p = DegradationPath::sample(
            &s,
            SimDuration::from_secs(600),
            SimTime::ZERO.after(SimDuration::from_secs(86_400)),
            &mut rng_for(3, "w"),
        );
        assert!(p.failure.is_none());
    }
}
