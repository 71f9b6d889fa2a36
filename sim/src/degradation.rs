//! Stochastic degradation: a fault mode's severity grows from a random onset
//! until it crosses the failure threshold.
//!
//! The whole path is sampled ahead from the entity's own random stream when the
//! world is built, so the failure time, and with it the remaining useful life at
//! every instant, is known exactly (ground truth), and does not depend on how the
//! run is stepped.
//!
//! What makes a path look like a measured one rather than a textbook curve:
//!
//! * **Incipient start.** The onset is the defect's initiation: severity starts
//!   at [`INCIPIENT_FRACTION`] of the scenario's `initial` (the first detectable
//!   size), below the sensor's noise floor, and grows from there, so there is no
//!   step at onset (IMS and FEMTO records show nothing for a long stretch after
//!   damage starts: reference sheet §5d).
//! * **Unit-to-unit life dispersion.** Each path runs on its own clock, scaled
//!   by a Weibull-distributed life factor of median 1 ([`life_weibull_shape`]), so
//!   identical machines fail many-fold apart, as bearings do (Lundberg–Palmgren;
//!   FEMTO learning runs last 1.4–7.8 h under one condition).
//! * **Smoothing humps.** A bearing spall's sharp edges are rolled smooth for a
//!   while, and its impacts weaken before they grow again (the "healing" seen in
//!   run-to-failure tests, Williams et al. 2001, MSSP 15(5); IMS set 2 bearing 1
//!   shows a hump and partial recovery late in life, §5d). The damage itself
//!   (truth) keeps growing; only what the sensor sees dips
//!   ([`DegradationPath::expression_at`]).

use rand::RngExt;
use rand_distr::{Distribution, Gamma, StandardNormal, Weibull};

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

/// Severity at onset as a fraction of the scenario's `initial` (its first
/// detectable size): a defect initiates below the noise floor. At 1/30 an
/// initiating spall is far shorter than the rolling contact, so its impacts ring
/// at well under a mg (see `crate::signal::CONTACT_SEVERITY`), under the noise
/// of a healthy machine's window.
pub const INCIPIENT_FRACTION: f64 = 1.0 / 30.0;

/// Weibull slope of the unit-to-unit spread of a mode's life. Rolling-bearing
/// fatigue: e = 10/9, Lundberg–Palmgren's dispersion exponent for ball bearings,
/// the basis of ISO 281:2007's rating life and its reliability factor a1. Wear-out
/// modes (imbalance build-up, misalignment, loosening, cooling loss) are taken as
/// less dispersed, slope 2 (an assumption: no public life data set for them).
pub fn life_weibull_shape(mode: FaultMode) -> f64 {
    match mode {
        FaultMode::BearingOuter | FaultMode::BearingInner => 10.0 / 9.0,
        _ => 2.0,
    }
}

/// A dip of what the sensor sees of a bearing defect while its edges are rolled
/// smooth: `1 − depth · bump((t − centre) / half_width)`, a raised-cosine bump.
#[derive(Clone, Debug, PartialEq)]
pub struct Smoothing {
    /// Middle of the dip.
    pub centre: SimTime,
    /// Half its length.
    pub half_width: SimDuration,
    /// Fraction of the impacts' amplitude lost at the middle, 0 … 1.
    pub depth: f64,
}

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
    /// This unit's life factor (Weibull, median 1): the path runs on a clock slowed by it.
    pub life_factor: f64,
    /// Smoothing dips of what sensors see (bearing modes only).
    pub smoothing: Vec<Smoothing>,
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
        // Weibull life factor of median 1: scale λ = (ln 2)^(−1/k).
        let k = life_weibull_shape(spec.mode);
        let life_factor = Weibull::new(std::f64::consts::LN_2.powf(-1.0 / k), k)
            .map_or(1.0, |w| w.sample(rng))
            .clamp(0.02, 20.0);
        // The unit's own clock: a longer-lived unit degrades more slowly.
        let dt_days = step.as_secs_f64() / 86_400.0 / life_factor;
        let mut s = (spec.initial * INCIPIENT_FRACTION).max(1e-6);
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
        let smoothing = match spec.mode {
            FaultMode::BearingOuter | FaultMode::BearingInner => {
                // Up to two dips in the second half of the visible life (from the first
                // detectable size to failure, or to the end of the sampled path).
                let end = failure.unwrap_or(SimTime(
                    onset.0 + step.0.saturating_mul(values.len() as u64 - 1),
                ));
                let visible = values
                    .iter()
                    .position(|&v| v >= spec.initial)
                    .map_or(end, |i| SimTime(onset.0 + step.0.saturating_mul(i as u64)));
                let span = end.0.saturating_sub(visible.0) as f64;
                let count = rng.random_range(0..=2u32);
                (0..count)
                    .filter(|_| span > 0.0)
                    .map(|_| {
                        let at = rng.random_range(0.45..0.9);
                        Smoothing {
                            centre: SimTime(visible.0 + (at * span) as u64),
                            half_width: SimDuration((rng.random_range(0.03..0.08) * span) as u64),
                            depth: rng.random_range(0.3..0.6),
                        }
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        DegradationPath {
            mode: spec.mode,
            onset,
            step,
            values,
            failure,
            life_factor,
            smoothing,
        }
    }

    /// How strongly the damage shows at `t`: [`DegradationPath::severity_at`] times
    /// the smoothing dips in force. Sensors see this; truth records the severity.
    pub fn expression_at(&self, t: SimTime) -> f64 {
        let s = self.severity_at(t);
        if s == 0.0 {
            return 0.0;
        }
        let dip = self
            .smoothing
            .iter()
            .map(|d| {
                let w = d.half_width.0.max(1) as f64;
                let x = (t.0 as f64 - d.centre.0 as f64) / w;
                if x.abs() < 1.0 {
                    d.depth * 0.5 * (1.0 + (std::f64::consts::PI * x).cos())
                } else {
                    0.0
                }
            })
            .fold(0.0, f64::max);
        s * (1.0 - dip)
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
    fn exponential_path_crosses_at_its_expected_time_on_its_own_clock() {
        // Without noise, S = (0.05/30)·e^{β τ/L} crosses 1 at τ = L·ln(600)/β days.
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
        let want = p.life_factor * (1.0 / (0.05 * INCIPIENT_FRACTION)).ln();
        assert!(
            (life_days / want - 1.0).abs() < 1e-3,
            "{life_days} vs {want}"
        );
        assert!((3600..=7200).contains(&(p.onset.0 / 1_000_000_000)));
        assert_eq!(p.severity_at(SimTime(p.onset.0 - 1)), 0.0);
        assert!((p.severity_at(p.failure.unwrap()) - 1.0).abs() < 0.01);
    }

    #[test]
    fn no_step_at_onset_the_defect_starts_below_its_first_detectable_size() {
        let s = spec(Growth::Exponential {
            rate_per_day: 0.5,
            rate_cv: 0.3,
            sigma_per_sqrt_day: 0.1,
        });
        let p = DegradationPath::sample(
            &s,
            SimDuration::from_secs(600),
            SimTime(u64::MAX / 2),
            &mut rng_for(5, "i"),
        );
        let at_onset = p.severity_at(p.onset);
        assert!(at_onset <= 0.05 * INCIPIENT_FRACTION * 1.01, "{at_onset}");
        let hour_later = p.severity_at(p.onset.after(SimDuration::from_secs(3600)));
        assert!(hour_later < 0.01, "{hour_later}");
    }

    #[test]
    fn a_fleet_of_twenty_bearings_lives_spread_at_least_fivefold() {
        let s = spec(Growth::Exponential {
            rate_per_day: 0.5,
            rate_cv: 0.3,
            sigma_per_sqrt_day: 0.1,
        });
        let lives: Vec<f64> = (0..20)
            .map(|i| {
                let p = DegradationPath::sample(
                    &s,
                    SimDuration::from_secs(3600),
                    SimTime(u64::MAX / 2),
                    &mut rng_for(11, &format!("m{i}/degradation/0")),
                );
                p.failure.unwrap().since(p.onset).as_secs_f64()
            })
            .collect();
        let (lo, hi) = lives
            .iter()
            .fold((f64::MAX, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
        assert!(hi / lo >= 5.0, "lives spread only {:.2}×", hi / lo);
    }

    #[test]
    fn smoothing_dips_what_sensors_see_not_the_damage() {
        let s = spec(Growth::Gamma {
            mean_per_day: 0.2,
            cv: 0.3,
        });
        let dipped = (0..40)
            .map(|i| {
                DegradationPath::sample(
                    &s,
                    SimDuration::from_secs(600),
                    SimTime(u64::MAX / 2),
                    &mut rng_for(13, &format!("m{i}")),
                )
            })
            .find(|p| p.smoothing.len() == 1)
            .expect("some of 40 bearings show one smoothing dip");
        let d = &dipped.smoothing[0];
        let (seen, damage) = (dipped.expression_at(d.centre), dipped.severity_at(d.centre));
        assert!(seen < damage * (1.0 - 0.9 * d.depth), "{seen} vs {damage}");
        let before = SimTime(d.centre.0 - 2 * d.half_width.0);
        assert_eq!(dipped.expression_at(before), dipped.severity_at(before));
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
