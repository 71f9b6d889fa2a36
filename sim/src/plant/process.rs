//! The operating context of a machine between windows: what the process does to
//! it beyond its load profile (load wander, flow noise, slip) and the stops a
//! production line makes. Both are stepped at each window from the machine's
//! own streams, so they are deterministic and never touch another machine.

use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use rand_distr::{Distribution, Exp};

use crate::time::{SimDuration, SimTime};

/// One machine's operating context between windows: how far the process has
/// moved it from its load profile. Each part is an Ornstein–Uhlenbeck process
/// stepped exactly over the time since the last window, from the machine's own
/// stream, so healthy data varies within a shift as a real plant's does.
pub(crate) struct Process {
    rng: ChaCha8Rng,
    /// Deviation of load from the profile, fraction of rated.
    pub(crate) load: f64,
    /// ln of the factor on the broadband floor.
    pub(crate) ln_broadband: f64,
    /// Rolling-element slip, fraction.
    pub(crate) slip: f64,
}

/// Spread (σ) and correlation time (s) of each part of [`Process`].
/// Load: demand on a pump, fan or drive wanders by a few percent over tens of
/// minutes (flow control, batch changes); broadband: flow turbulence and
/// cavitation in pumps, fans and compressors move the floor by ±25 % (an
/// assumption in line with the flow-dependence of pump vibration, McKee et al.
/// 2011, "A review of major centrifugal pump failure modes"), ±12 % on motors,
/// spindles and conveyors; slip: 1–2 %, wandering (Randall & Antoni 2011).
const PROCESS_LOAD: (f64, f64) = (0.04, 2_700.0);
const PROCESS_SLIP: (f64, f64, f64) = (0.012, 0.003, 600.0);
const PROCESS_BROADBAND_TAU_S: f64 = 1_200.0;

impl Process {
    pub(crate) fn new(mut rng: ChaCha8Rng) -> Process {
        let z: f64 = rng.sample(rand_distr::StandardNormal);
        Process {
            rng,
            load: 0.0,
            ln_broadband: 0.0,
            slip: PROCESS_SLIP.0 + PROCESS_SLIP.1 * z.clamp(-3.0, 3.0),
        }
    }

    /// Steps every part over `dt_s` seconds.
    pub(crate) fn step(&mut self, dt_s: f64, broadband_sd: f64) {
        let ou = |x: f64, mean: f64, sd: f64, tau: f64, rng: &mut ChaCha8Rng| {
            let k = (-dt_s / tau).exp();
            let z: f64 = rng.sample(rand_distr::StandardNormal);
            mean + (x - mean) * k + sd * (1.0 - k * k).sqrt() * z
        };
        self.load = ou(
            self.load,
            0.0,
            PROCESS_LOAD.0,
            PROCESS_LOAD.1,
            &mut self.rng,
        );
        self.ln_broadband = ou(
            self.ln_broadband,
            0.0,
            broadband_sd,
            PROCESS_BROADBAND_TAU_S,
            &mut self.rng,
        );
        self.slip = ou(
            self.slip,
            PROCESS_SLIP.0,
            PROCESS_SLIP.1,
            PROCESS_SLIP.2,
            &mut self.rng,
        )
        .clamp(0.003, 0.025);
    }
}

/// Unplanned stops of a healthy machine (upstream starvation, a blocked outlet,
/// a changeover, an operator's stop): Poisson with this many per day, each
/// lasting a log-normal time of this median (h) and spread. A line with OEE
/// availability of 85–90 % (typical of discrete manufacturing, against 90 %+ for
/// "world class", Nakajima 1988) loses 1–3 h a day; this is one stop of ~1.5 h
/// every three days, an assumption at the good end of that range.
const STOPS_PER_DAY: f64 = 0.35;
const STOP_MEDIAN_H: f64 = 1.5;
const STOP_SIGMA_LN: f64 = 0.7;

/// A machine's unplanned stops, drawn one after another as the run reaches them.
pub(crate) struct Stops {
    rng: ChaCha8Rng,
    /// The next stop's start and end.
    next: (SimTime, SimTime),
}

impl Stops {
    pub(crate) fn new(mut rng: ChaCha8Rng) -> Stops {
        let next = Self::draw(&mut rng, SimTime::ZERO);
        Stops { rng, next }
    }

    fn draw(rng: &mut ChaCha8Rng, after: SimTime) -> (SimTime, SimTime) {
        let gap_s = Exp::new(STOPS_PER_DAY / 86_400.0).map_or(f64::MAX, |e| e.sample(rng));
        let z: f64 = rng.sample(rand_distr::StandardNormal);
        let hours = STOP_MEDIAN_H * (STOP_SIGMA_LN * z.clamp(-3.0, 3.0)).exp();
        let start = after.after(SimDuration::from_secs_f64(gap_s.min(1e12)));
        (
            start,
            start.after(SimDuration::from_secs_f64(hours * 3600.0)),
        )
    }

    /// Whether the machine stands at `t` (instants must not go backwards).
    pub(crate) fn stopped_at(&mut self, t: SimTime) -> bool {
        while self.next.1 <= t {
            self.next = Self::draw(&mut self.rng, self.next.1);
        }
        self.next.0 <= t
    }
}
