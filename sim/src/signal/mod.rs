//! The vibration signal model: what an accelerometer on a machine's bearing
//! housing sees, as a sum of components with known statistics.
//!
//! * shaft harmonics `k·fr` (residual 1×; imbalance 1× radial; misalignment 2×,
//!   strongest axially; looseness: many harmonics; vane/blade pass);
//! * tones not locked to the shaft (motor: twice line frequency);
//! * bearing impacts: a train of impulses at a defect frequency, each ringing a
//!   housing resonance, amplitude-modulated at shaft speed for an inner-race
//!   defect (it rotates through the load zone), with slip jitter;
//! * broadband structural noise (Gaussian).
//!
//! [`synth`] draws samples from the model (`raw` fidelity); [`moments`] computes
//! the same features from the model's moments (`features` fidelity).

pub mod moments;
pub mod synth;

use crate::plant::kind::KindDefaults;
use crate::plant::{BearingGeometry, FaultMode, MachineKind, MachineState};
use crate::sensors::lowpass::Lowpass;
use crate::units::STANDARD_GRAVITY;

/// Accelerometer axes: x and y radial (x in the load direction), z axial.
pub const AXES: usize = 3;

/// ISO 10816-1 class III zone C/D boundary, mm/s RMS: the velocity a 1×/2× fault
/// reaches at severity 1 (its failure threshold).
pub const FAULT_VELOCITY_AT_FAILURE_MM_S: f64 = 11.2;

/// Peak acceleration of one bearing impact's ringing at severity 1, g
/// (spall-sized defects on CWRU-like test rigs ring at several g).
pub const IMPACT_G_AT_FAILURE: f64 = 6.0;

/// Bearing severity at which a spall is as long as the rolling contact is wide.
/// A rolling element bridges a defect shorter than its Hertzian contact and
/// barely drops into it, so impacts grow as s²/(s + s_c): nearly nothing while
/// the spall is small, in proportion to it once it is longer than the contact
/// (Sawalhi & Randall 2011, "Vibration response of spalled rolling element
/// bearings", MSSP 25(3): the entry and exit events scale with how far the
/// element falls into the spall). s_c = 0.02 puts that size at a fiftieth of the
/// failure threshold's.
pub const CONTACT_SEVERITY: f64 = 0.02;

/// Damping ratio of the housing resonance.
pub const RESONANCE_DAMPING: f64 = 0.05;

/// Random slip of rolling elements: standard deviation of each impact interval, as a
/// fraction of the nominal period (1–2 % is typical, Randall & Antoni 2011).
pub const SLIP_JITTER: f64 = 0.01;

/// Impact-to-impact spread of a defect's impact amplitude (coefficient of
/// variation): each rolling element meets the spall at its own speed, load share
/// and angle, so no two impacts are alike (the random-amplitude impact train of
/// Antoni & Randall 2002, J. Vib. Acoust. 124(2), and Randall & Antoni 2011 §2).
/// 25 % is an assumption inside the spread seen on CWRU drive-end records.
pub const IMPACT_AMPLITUDE_CV: f64 = 0.25;

/// Looseness-equivalent severity that a bearing at its failure threshold adds
/// through clearance (grows with the cube of bearing severity).
pub const BEARING_CLEARANCE_LOOSENESS: f64 = 0.8;

/// What sets one unit apart from others of its kind, drawn once per machine.
///
/// Healthy machines of one type do not look alike: each is balanced to within
/// its grade, not to zero (ISO 21940-11: a rotor of grade G 6.3 may carry any
/// residual unbalance up to e·ω = 6.3 mm/s), sits on its own foundation, and has
/// its sensor on its own spot of the housing, so the path from the bearing to the
/// sensor differs by a few dB between units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UnitCharacter {
    /// Factor on the kind's residual 1× (balance within the grade).
    pub residual: f64,
    /// Factor on the kind's broadband floor (foundation, couplings, flow path).
    pub broadband: f64,
    /// Factor on everything a fault adds (transfer path bearing → sensor).
    pub transmission: f64,
}

impl UnitCharacter {
    /// The nominal unit: every factor 1.
    pub const NOMINAL: UnitCharacter = UnitCharacter {
        residual: 1.0,
        broadband: 1.0,
        transmission: 1.0,
    };

    /// One unit's character from its own stream: residual unbalance anywhere in
    /// 0.3 … 1.6 × the kind's typical value (log-uniform: units are balanced
    /// "within the grade"), broadband and transfer path log-normal with a
    /// standard deviation of 3 dB (σ of ln = 0.35).
    pub fn draw(rng: &mut impl rand::Rng) -> UnitCharacter {
        use rand::RngExt;
        let z = |rng: &mut dyn rand::Rng| -> f64 {
            let z: f64 = rand::RngExt::sample(rng, rand_distr::StandardNormal);
            z.clamp(-3.0, 3.0)
        };
        let residual = (rng.random_range(0.3f64.ln()..1.6f64.ln())).exp();
        let broadband = (0.35 * z(rng)).exp();
        let transmission = (0.35 * z(rng)).exp();
        UnitCharacter {
            residual,
            broadband,
            transmission,
        }
    }
}

/// A sinusoid locked to shaft speed.
#[derive(Clone, Debug, PartialEq)]
pub struct Harmonic {
    /// Multiple of shaft frequency (1 = 1×).
    pub order: u32,
    /// Peak amplitude on each axis, g.
    pub amp_g: [f64; AXES],
    /// Phase at t = 0, rad.
    pub phase: f64,
}

/// A sinusoid not locked to shaft speed.
#[derive(Clone, Debug, PartialEq)]
pub struct Tone {
    /// Frequency, Hz.
    pub freq_hz: f64,
    /// Peak amplitude on each axis, g.
    pub amp_g: [f64; AXES],
    /// Phase at t = 0, rad.
    pub phase: f64,
}

/// A train of bearing impacts, each ringing the housing resonance.
#[derive(Clone, Debug, PartialEq)]
pub struct Impacts {
    /// Which defect makes them.
    pub mode: FaultMode,
    /// Impacts per second (BPFO or BPFI), Hz.
    pub rate_hz: f64,
    /// Peak of one impact's ringing on each axis, g (before modulation).
    pub amp_g: [f64; AXES],
    /// Amplitude modulation frequency (shaft speed for an inner race), Hz.
    pub mod_hz: f64,
    /// Modulation depth, 0 … 1.
    pub mod_depth: f64,
    /// Resonance excited, Hz.
    pub resonance_hz: f64,
    /// Damping ratio of the resonance.
    pub damping: f64,
    /// Coefficient of variation of one impact's amplitude about `amp_g`.
    pub amp_cv: f64,
}

/// Everything that shapes the vibration at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct VibrationModel {
    /// Shaft frequency, Hz (0 when stopped).
    pub shaft_hz: f64,
    /// Shaft-locked sinusoids.
    pub harmonics: Vec<Harmonic>,
    /// Other sinusoids.
    pub tones: Vec<Tone>,
    /// Bearing impact trains.
    pub impacts: Vec<Impacts>,
    /// Broadband structural vibration on each axis, g RMS as the sensor reports it
    /// (through its bandwidth).
    pub broadband_g: [f64; AXES],
    /// The sensor's digital low-pass, once the model is "as the sensor sees it":
    /// impacts ring through it, and the Gaussian parts are shaped by it.
    pub lowpass: Option<Lowpass>,
    /// Mean square of what is added after the low-pass, white to Nyquist
    /// (quantisation: LSB²/12), g²; part of the Gaussian RMS the sensor adds.
    pub white_g2: f64,
}

/// Peak acceleration (g) of a sinusoid at `freq_hz` whose velocity RMS is `v_mm_s`.
pub fn accel_peak_for_velocity(v_mm_s: f64, freq_hz: f64) -> f64 {
    std::f64::consts::SQRT_2 * v_mm_s * std::f64::consts::TAU * freq_hz / (STANDARD_GRAVITY * 1e3)
}

/// Fixed per-machine character: phases and the physics of its kind.
#[derive(Clone, Debug, PartialEq)]
pub struct MachineSignature {
    /// The machine's kind.
    pub kind: MachineKind,
    /// Defaults of the kind (possibly overridden by the scenario).
    pub defaults: KindDefaults,
    /// Bearing geometry.
    pub bearing: BearingGeometry,
    /// Phase of each harmonic order 1 … 16, rad (drawn once per machine).
    pub phases: [f64; 16],
    /// What sets this unit apart from others of its kind.
    pub unit: UnitCharacter,
    /// Frequency of the supply feeding its motor, Hz (50 or 60): the electrical
    /// vibration of an induction motor is at twice this.
    pub supply_hz: f64,
}

impl MachineSignature {
    /// The vibration model of this machine in `state`.
    pub fn model(&self, state: &MachineState) -> VibrationModel {
        let d = &self.defaults;
        let fr = if state.running { state.shaft_hz } else { 0.0 };
        if fr <= 0.0 {
            return VibrationModel {
                shaft_hz: 0.0,
                harmonics: Vec::new(),
                tones: Vec::new(),
                impacts: Vec::new(),
                broadband_g: [0.0; AXES],
                lowpass: None,
                white_g2: 0.0,
            };
        }
        let load = state.load.max(0.0);
        let v = |mm_s: f64, order: f64| accel_peak_for_velocity(mm_s, order * fr);
        let mut orders = [[0.0f64; AXES]; 16];
        let mut add = |order: usize, g: [f64; AXES]| {
            for a in 0..AXES {
                orders[order - 1][a] += g[a];
            }
        };
        // Residual 1× of a healthy machine: this unit's share of the kind's level.
        let r1 = d.residual_1x_g * self.unit.residual;
        add(1, [r1, r1 * 0.8, r1 * 0.3]);
        // Everything a fault adds reaches the sensor through this unit's path.
        let tx = self.unit.transmission;
        let v = |mm_s: f64, order: f64| v(mm_s * tx, order);
        let imb = state.severity(FaultMode::Imbalance);
        if imb > 0.0 {
            let g = v(FAULT_VELOCITY_AT_FAILURE_MM_S * imb, 1.0);
            add(1, [g, g * 0.9, g * 0.2]);
        }
        let mis = state.severity(FaultMode::Misalignment);
        if mis > 0.0 {
            let g2 = v(FAULT_VELOCITY_AT_FAILURE_MM_S * mis, 2.0);
            let g1 = v(0.5 * FAULT_VELOCITY_AT_FAILURE_MM_S * mis, 1.0);
            add(2, [0.5 * g2, 0.4 * g2, g2]);
            add(1, [0.3 * g1, 0.3 * g1, g1]);
            add(3, [0.2 * g2, 0.2 * g2, 0.4 * g2]);
        }
        // Late bearing damage opens clearance: the shaft starts to rattle in its seat,
        // so broadband velocity (insensitive to early damage) grows explosively near
        // the end of life, as in the IMS run-to-failure records.
        let bearing =
            state.severity(FaultMode::BearingOuter) + state.severity(FaultMode::BearingInner);
        let loose =
            state.severity(FaultMode::Looseness) + BEARING_CLEARANCE_LOOSENESS * bearing.powi(3);
        if loose > 0.0 {
            // Truncated waveform: harmonics 1× … 10×, slowly decaying, in all directions.
            for k in 1..=10usize {
                let g = v(
                    0.7 * FAULT_VELOCITY_AT_FAILURE_MM_S * loose / (k as f64).sqrt(),
                    k as f64,
                );
                add(k, [g, 0.8 * g, 0.5 * g]);
            }
        }
        if d.passes_per_rev > 0 {
            let k = d.passes_per_rev as usize;
            if k <= 16 {
                let g = 0.02 * (0.3 + 0.7 * load);
                add(k, [g, 0.6 * g, 0.3 * g]);
            }
        }
        let harmonics = orders
            .iter()
            .enumerate()
            .filter(|(_, a)| a.iter().any(|&x| x > 0.0))
            .map(|(i, a)| Harmonic {
                order: i as u32 + 1,
                amp_g: *a,
                phase: self.phases[i],
            })
            .collect();

        let mut tones = Vec::new();
        if matches!(
            self.kind,
            MachineKind::Motor | MachineKind::Pump | MachineKind::Compressor
        ) {
            let g = 0.006 * (0.2 + 0.8 * load);
            tones.push(Tone {
                freq_hz: 2.0 * self.supply_hz,
                amp_g: [g, g, 0.3 * g],
                phase: self.phases[15],
            });
        }

        let ord = self.bearing.orders();
        // The defect passes through the load zone: impacts weaken with load but stay
        // at no load (preload and the rotor's weight; CWRU's 0 hp records show them).
        let load_factor = 0.5 + 0.5 * load.min(1.2);
        // Rolling elements slip: the lines sit below their kinematic values.
        let slip = 1.0 - state.slip.clamp(0.0, 0.1);
        let mut impacts = Vec::new();
        let mut rough = 0.0;
        for (mode, order, depth) in [
            (FaultMode::BearingOuter, ord.bpfo, 0.0),
            (FaultMode::BearingInner, ord.bpfi, 0.8),
        ] {
            let s = state.severity(mode);
            if s > 0.0 {
                let g = IMPACT_G_AT_FAILURE * s * s / (s + CONTACT_SEVERITY) * load_factor * tx;
                impacts.push(Impacts {
                    mode,
                    rate_hz: order * fr * slip,
                    amp_g: [g, 0.7 * g, 0.4 * g],
                    mod_hz: if depth > 0.0 { fr } else { 0.0 },
                    mod_depth: depth,
                    resonance_hz: d.resonance_hz,
                    damping: RESONANCE_DAMPING,
                    amp_cv: IMPACT_AMPLITUDE_CV,
                });
                rough += s;
            }
        }
        // Surface damage also raises the broadband floor; the process (flow, cutting)
        // moves the healthy part of it.
        let bb = d.broadband_g * self.unit.broadband * state.process * (0.5 + 0.5 * load)
            + 0.02 * rough * tx;
        VibrationModel {
            shaft_hz: fr,
            harmonics,
            tones,
            impacts,
            broadband_g: [bb, bb, 0.8 * bb],
            lowpass: None,
            white_g2: 0.0,
        }
    }
}

/// What an impact's ringing as seen depends on, as bits: resonance, damping,
/// sample rate and the low-pass cut-off (0 without one). Caches key on it.
pub type ResponseKey = (u64, u64, u64, u64);

/// The [`ResponseKey`] of a ringing.
pub fn response_key(
    resonance_hz: f64,
    damping: f64,
    fs: f64,
    lowpass: Option<&Lowpass>,
) -> ResponseKey {
    (
        resonance_hz.to_bits(),
        damping.to_bits(),
        fs.to_bits(),
        lowpass.map_or(0.0, |l| l.cutoff_hz).to_bits(),
    )
}

/// One impact's ringing as the sensor outputs it: [`impulse_response`] through
/// the part's low-pass (with room for the filter's own tail), or as it is.
pub fn seen_response(
    resonance_hz: f64,
    damping: f64,
    fs: f64,
    lowpass: Option<&Lowpass>,
) -> Vec<f64> {
    let mut h = impulse_response(resonance_hz, damping, fs);
    if let Some(lp) = lowpass {
        h.resize(h.len() + 128, 0.0);
        lp.apply(&mut h);
    }
    h
}

/// Samples of one impact's ringing at `fs`: `h[n] = rⁿ·sin(ω_d·n/fs)`, normalised
/// to a peak of 1, until it has decayed below 1e-4 of its start.
pub fn impulse_response(resonance_hz: f64, damping: f64, fs: f64) -> Vec<f64> {
    let wn = std::f64::consts::TAU * resonance_hz;
    let alpha = damping * wn;
    let wd = wn * (1.0 - damping * damping).sqrt();
    let len = ((9.21 / alpha) * fs).ceil().clamp(4.0, 1.0e6) as usize;
    let mut h: Vec<f64> = (0..len)
        .map(|n| {
            let t = n as f64 / fs;
            (-alpha * t).exp() * (wd * t).sin()
        })
        .collect();
    let peak = h.iter().fold(0.0f64, |m, &x| m.max(x.abs()));
    if peak > 0.0 {
        h.iter_mut().for_each(|x| *x /= peak);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn velocity_to_acceleration() {
        // 1 mm/s RMS at 159.15 Hz (ω = 1000 rad/s) is 1.414 m/s² peak = 0.1442 g.
        let g = accel_peak_for_velocity(1.0, 1000.0 / std::f64::consts::TAU);
        assert!((g - 0.144_2).abs() < 1e-4, "{g}");
    }

    #[test]
    fn impulse_response_peaks_at_one_and_decays() {
        let h = impulse_response(3_000.0, 0.05, 26_667.0);
        let peak = h.iter().fold(0.0f64, |m, &x| m.max(x.abs()));
        assert!((peak - 1.0).abs() < 1e-12);
        assert!(h.last().unwrap().abs() < 1e-3);
    }
}
