//! Unit-to-unit variation for Monte-Carlo runs: the same scenario, built again
//! for run `k`, with every tolerance a real fleet has drawn afresh.
//!
//! A scenario describes one nominal plant. Real units differ: bearings are made
//! to tolerances, wear starts and grows at different times and rates, machines
//! run at different duty, the hall is warmer or cooler. [`Variation`] holds
//! those tolerances (the defaults are documented on each field) and
//! [`Variation::apply`] draws one unit's values from run `k`'s own stream:
//!
//! ```
//! use fabtwin_sim::scenario::variation::{run_seed, Variation};
//! let src = r#"Scenario(name: "v", duration: "1h",
//!     sites: [(id: "s", lines: [(id: "l", machines: [
//!         (id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "vib", part: "IIS3DWB")]),
//!     ])])])"#;
//! let nominal = fabtwin_sim::scenario::from_str(src, "v.ron").unwrap();
//! let a = Variation::default().apply(&nominal, 3);
//! let b = Variation::default().apply(&nominal, 3);
//! assert_eq!(a.seed, run_seed(nominal.seed, 3));
//! assert_eq!(a.machines[0].bearing, b.machines[0].bearing);
//! ```
//!
//! Every draw comes from a stream named after the run and the entity, so the
//! values of one run never depend on how many runs there are or in which order
//! they are built.

use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::model::Scenario;
use crate::degradation::{Growth, Onset};
use crate::plant::drive::synchronous_rpm;
use crate::plant::{FaultMode, LoadProfile, MachineKind};
use crate::rng::{mix64, rng_for};
use crate::time::{SimDuration, SimTime};

/// The seed of Monte-Carlo run `run` under scenario seed `seed`.
pub fn run_seed(seed: u64, run: u32) -> u64 {
    mix64(seed ^ mix64(0x6461_7461_7365_7400 ^ u64::from(run)))
}

/// Tolerances drawn per unit and run. Relative spreads are coefficients of
/// variation (standard deviation / mean) of a normal, clamped at ±3σ.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Variation {
    /// Ball and pitch diameter spread (manufacturing tolerance, ISO 492 normal
    /// class is a few tenths of a percent on these sizes). Default: 0.005.
    pub bearing_diameter_cv: f64,
    /// Contact-angle spread, degrees (angular-contact and deep-groove bearings
    /// under axial load). Default: 1.0.
    pub contact_angle_sd_deg: f64,
    /// Rated-speed spread (motor slip, pulley ratio). Default: 0.01.
    pub speed_cv: f64,
    /// Spread of each machine's load level (duty differs unit to unit). Default: 0.08.
    pub load_cv: f64,
    /// Spread of the times in a load profile (shift start, step times). Default: 0.1.
    pub load_time_cv: f64,
    /// Spread of fixed degradation onsets and scheduled fault starts. Default: 0.15.
    pub onset_cv: f64,
    /// Spread of degradation growth rates (on top of the scenario's own
    /// unit-to-unit `rate_cv`). Default: 0.25.
    pub growth_cv: f64,
    /// Ambient temperature offset of the run, standard deviation in °C. Default: 3.
    pub ambient_sd_c: f64,
    /// Whether each run draws the fault mode of every degradation afresh from its
    /// machine kind's failure-mode mix ([`mode_mix`]), so a machine's id never
    /// tells its mode. Default: true.
    pub redraw_modes: bool,
    /// Chance that a degrading machine carries a second mode at once (wear comes
    /// in company: misalignment and looseness load a bearing). Default: 0.25.
    pub second_mode_p: f64,
}

/// How a kind of machine fails, as weights over fault modes (outer race, inner
/// race, imbalance, misalignment, looseness, overheating). Bearings cause 41 %
/// (IEEE-IAS survey) to 51 % (EPRI survey) of induction-motor failures (as quoted
/// in Bonnett & Yung 2008, IEEE Ind. Appl. Mag. 14(1)); outer races fail more
/// often than inner ones in field returns (the stationary race carries the load
/// zone). Fans foul and go out of balance; compressors and pumps run hot and
/// misalign at their couplings. The non-bearing shares are assumptions.
pub fn mode_mix(kind: MachineKind) -> [(FaultMode, f64); 6] {
    // Weights in the order of `FaultMode::ALL`.
    let w = match kind {
        MachineKind::Motor => [0.28, 0.18, 0.12, 0.18, 0.12, 0.12],
        MachineKind::Pump => [0.25, 0.15, 0.12, 0.22, 0.12, 0.14],
        MachineKind::Fan => [0.20, 0.12, 0.35, 0.13, 0.15, 0.05],
        MachineKind::Spindle => [0.30, 0.30, 0.15, 0.05, 0.15, 0.05],
        MachineKind::Compressor => [0.22, 0.15, 0.10, 0.20, 0.13, 0.20],
        MachineKind::Conveyor => [0.30, 0.15, 0.10, 0.20, 0.20, 0.05],
    };
    std::array::from_fn(|i| (FaultMode::ALL[i], w[i]))
}

/// A mode drawn from `mix`, never one of `not`.
fn draw_mode(rng: &mut ChaCha8Rng, mix: &[(FaultMode, f64)], not: &[FaultMode]) -> FaultMode {
    let total: f64 = mix
        .iter()
        .filter(|(m, _)| !not.contains(m))
        .map(|x| x.1)
        .sum();
    let mut u = rng.random_range(0.0..total.max(f64::MIN_POSITIVE));
    for &(m, w) in mix.iter().filter(|(m, _)| !not.contains(m)) {
        if u < w {
            return m;
        }
        u -= w;
    }
    mix.iter()
        .map(|x| x.0)
        .rfind(|m| !not.contains(m))
        .unwrap_or(FaultMode::BearingOuter)
}

impl Default for Variation {
    fn default() -> Variation {
        Variation {
            bearing_diameter_cv: 0.005,
            contact_angle_sd_deg: 1.0,
            speed_cv: 0.01,
            load_cv: 0.08,
            load_time_cv: 0.1,
            onset_cv: 0.15,
            growth_cv: 0.25,
            ambient_sd_c: 3.0,
            redraw_modes: true,
            second_mode_p: 0.25,
        }
    }
}

impl Variation {
    /// No variation: `apply` then only changes the seed.
    pub const NONE: Variation = Variation {
        bearing_diameter_cv: 0.0,
        contact_angle_sd_deg: 0.0,
        speed_cv: 0.0,
        load_cv: 0.0,
        load_time_cv: 0.0,
        onset_cv: 0.0,
        growth_cv: 0.0,
        ambient_sd_c: 0.0,
        redraw_modes: false,
        second_mode_p: 0.0,
    };

    /// The scenario as built for Monte-Carlo run `run`: its seed is
    /// [`run_seed`]`(seed, run)` and every tolerance is drawn from that run's
    /// streams. Values stay inside what validation accepts.
    pub fn apply(&self, nominal: &Scenario, run: u32) -> Scenario {
        let mut s = nominal.clone();
        let seed = run_seed(nominal.seed, run);
        s.seed = seed;
        let end = nominal.duration.0;

        let mut rng = rng_for(seed, "variation/ambient");
        s.ambient.celsius =
            (s.ambient.celsius + self.ambient_sd_c * normal(&mut rng)).clamp(-40.0, 60.0);

        for m in &mut s.machines {
            let mut rng = rng_for(seed, &format!("variation/{}", m.id));
            let nominal_bearing = m.bearing;
            let mut b = m.bearing;
            b.ball_diameter_mm *= factor(&mut rng, self.bearing_diameter_cv);
            b.pitch_diameter_mm *= factor(&mut rng, self.bearing_diameter_cv);
            b.contact_angle_deg = (b.contact_angle_deg
                + self.contact_angle_sd_deg * normal(&mut rng).abs())
            .clamp(0.0, 45.0);
            m.bearing = if b.problem().is_none() {
                b
            } else {
                nominal_bearing
            };
            // A nameplate never reaches the synchronous speed of its supply.
            let sync = synchronous_rpm(m.rated_speed_rpm, m.supply_hz);
            m.rated_speed_rpm = (m.rated_speed_rpm * factor(&mut rng, self.speed_cv))
                .min(sync * 0.996)
                .clamp(60.0, 60_000.0);
            let level = factor(&mut rng, self.load_cv);
            let time = factor(&mut rng, self.load_time_cv);
            let scale = |l: f64| (l * level).clamp(0.0, 1.2);
            let stretch = |d: SimDuration| SimDuration((d.0 as f64 * time) as u64);
            m.load = match &m.load {
                LoadProfile::Constant(l) => LoadProfile::Constant(scale(*l)),
                LoadProfile::Steps(steps) => {
                    // Stretching keeps the steps in order and the first at 0.
                    LoadProfile::Steps(
                        steps
                            .iter()
                            .map(|(t, l)| (stretch(*t), scale(*l)))
                            .collect(),
                    )
                }
                LoadProfile::Cycle {
                    period,
                    high_for,
                    high,
                    low,
                } => LoadProfile::Cycle {
                    period: *period,
                    high_for: SimDuration(((high_for.0 as f64) * time).min(period.0 as f64) as u64),
                    high: scale(*high),
                    low: scale(*low),
                },
            };
        }

        for (k, d) in s.degradation.iter_mut().enumerate() {
            let mut rng = rng_for(seed, &format!("variation/degradation/{k}"));
            let onset = factor(&mut rng, self.onset_cv);
            let rate = factor(&mut rng, self.growth_cv);
            let jitter = |x: SimDuration| SimDuration(((x.0 as f64) * onset) as u64);
            d.onset = match &d.onset {
                Onset::At(t) => Onset::At(jitter(*t)),
                Onset::Uniform { min, max } => Onset::Uniform {
                    min: jitter(*min),
                    max: jitter(*max),
                },
            };
            d.growth = match &d.growth {
                Growth::Exponential {
                    rate_per_day,
                    rate_cv,
                    sigma_per_sqrt_day,
                } => Growth::Exponential {
                    rate_per_day: rate_per_day * rate,
                    rate_cv: *rate_cv,
                    sigma_per_sqrt_day: *sigma_per_sqrt_day,
                },
                Growth::Gamma { mean_per_day, cv } => Growth::Gamma {
                    mean_per_day: mean_per_day * rate,
                    cv: *cv,
                },
                Growth::Wiener {
                    drift_per_day,
                    sigma_per_sqrt_day,
                } => Growth::Wiener {
                    drift_per_day: drift_per_day * rate,
                    sigma_per_sqrt_day: *sigma_per_sqrt_day,
                },
            };
        }

        if self.redraw_modes {
            let mut extra = Vec::new();
            for (k, d) in s.degradation.iter_mut().enumerate() {
                let mut rng = rng_for(seed, &format!("variation/mode/{k}"));
                let mix = mode_mix(s.machines[d.machine].kind);
                d.mode = draw_mode(&mut rng, &mix, &[]);
                if rng.random_range(0.0..1.0) < self.second_mode_p {
                    let mut second = d.clone();
                    second.mode = draw_mode(&mut rng, &mix, &[d.mode]);
                    extra.push(second);
                }
            }
            s.degradation.extend(extra);
        }

        for (k, f) in s.faults.iter_mut().enumerate() {
            let mut rng = rng_for(seed, &format!("variation/fault/{k}"));
            let x = factor(&mut rng, self.onset_cv);
            let start = ((f.start.0 as f64 * x) as u64).min(end.saturating_sub(1));
            let shift = start as i128 - f.start.0 as i128;
            f.end = f
                .end
                .map(|e| SimTime((e.0 as i128 + shift).max(start as i128 + 1) as u64));
            f.start = SimTime(start);
        }
        s
    }
}

/// A standard normal draw clamped at ±3.
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let z: f64 = rng.sample(StandardNormal);
    z.clamp(-3.0, 3.0)
}

/// A multiplicative factor 1 + cv·z (z standard normal, clamped at ±3σ), never below 0.05.
fn factor(rng: &mut ChaCha8Rng, cv: f64) -> f64 {
    (1.0 + cv * normal(rng)).max(0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"Scenario(name: "v", duration: "10d", seed: 5,
        sites: [(id: "s", lines: [(id: "l", machines: [
            (id: "m1", kind: Motor, rated_speed_rpm: 1480, load: Steps([("0s", 0.5), ("2d", 0.9)]),
             sensors: [(id: "vib", part: "IIS3DWB")]),
            (id: "m2", kind: Fan, rated_speed_rpm: 980, load: Cycle(period: "1d", high_for: "16h", high: 1.1, low: 0.3),
             sensors: [(id: "vib", part: "IIS3DWB")]),
        ])])],
        degradation: [(machine: "m1", mode: bearing_outer, onset: At("3d"), growth: Gamma(mean_per_day: 0.2, cv: 0.5))],
        faults: [(machine: "m2", kind: Imbalance(0.5), at: "4d", duration: "1d")],
    )"#;

    fn nominal() -> Scenario {
        crate::scenario::from_str(SRC, "v.ron").unwrap()
    }

    #[test]
    fn runs_differ_from_each_other_but_repeat_exactly() {
        let n = nominal();
        let v = Variation::default();
        let a = v.apply(&n, 0);
        let b = v.apply(&n, 1);
        assert_ne!(a.seed, b.seed);
        assert_ne!(a.machines[0].bearing, b.machines[0].bearing);
        assert_ne!(a.machines[0].load, b.machines[0].load);
        assert_ne!(a.degradation[0].onset, b.degradation[0].onset);
        let again = v.apply(&n, 1);
        assert_eq!(format!("{b:?}"), format!("{again:?}"));
    }

    #[test]
    fn varied_values_stay_valid() {
        let n = nominal();
        for run in 0..200 {
            let s = Variation::default().apply(&n, run);
            for m in &s.machines {
                assert!(m.bearing.problem().is_none(), "run {run}: {:?}", m.bearing);
                assert!(m.load.values().iter().all(|l| (0.0..=1.2).contains(l)));
            }
            if let LoadProfile::Steps(st) = &s.machines[0].load {
                assert_eq!(st[0].0, SimDuration(0));
                assert!(st.windows(2).all(|w| w[0].0 <= w[1].0));
            }
            let f = &s.faults[0];
            assert!(f.start.0 < s.duration.0);
            assert!(f.end.unwrap() > f.start);
        }
    }

    #[test]
    fn fault_modes_differ_between_runs_of_one_machine() {
        let n = nominal();
        let modes: std::collections::BTreeSet<FaultMode> = (0..12)
            .map(|run| Variation::default().apply(&n, run).degradation[0].mode)
            .collect();
        assert!(modes.len() >= 3, "{modes:?}");
        // Some runs carry a second mode on the same machine, never the same one twice.
        let doubled = (0..40)
            .map(|run| Variation::default().apply(&n, run))
            .find(|s| s.degradation.len() == 2)
            .expect("a second mode in some of 40 runs");
        assert_eq!(
            doubled.degradation[1].machine,
            doubled.degradation[0].machine
        );
        assert_ne!(doubled.degradation[1].mode, doubled.degradation[0].mode);
    }

    #[test]
    fn no_variation_changes_only_the_seed() {
        let n = nominal();
        let s = Variation::NONE.apply(&n, 7);
        assert_eq!(s.seed, run_seed(n.seed, 7));
        assert_eq!(s.machines[0].bearing, n.machines[0].bearing);
        assert_eq!(s.machines[1].load, n.machines[1].load);
        assert_eq!(s.degradation[0].onset, n.degradation[0].onset);
        assert_eq!(s.faults[0].start, n.faults[0].start);
    }
}
