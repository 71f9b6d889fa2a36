//! Fault signatures and fidelity agreement (tests only).

use crate::device::{Conditions, Fidelity, SensorSim};
use crate::edge::spectral::{AxisFeatures, BANDS};
use crate::edge::{AxisReading, Values};
use crate::faults::SensorFault;
use crate::plant::{BearingGeometry, FaultMode, MachineKind, MachineState};
use crate::rng::rng_for;
use crate::scenario::{Ambient, Axes, Mounting, Sensor};
use crate::sensors::Part;
use crate::signal::moments::{Analytic, AxisMoments};
use crate::signal::{AXES, MachineSignature, VibrationModel};
use crate::time::SimTime;
use rand::RngExt;

const FS: f64 = 26_667.0;
const N: usize = 32_768;

fn signature(kind: MachineKind) -> MachineSignature {
    let mut rng = rng_for(11, "signature");
    MachineSignature {
        kind,
        defaults: kind.defaults(),
        bearing: BearingGeometry::SKF_6205,
        phases: std::array::from_fn(|_| rng.random_range(0.0..std::f64::consts::TAU)),
    }
}

fn state(shaft_hz: f64, load: f64, faults: &[(FaultMode, f64)]) -> MachineState {
    let mut severity = [0.0; FaultMode::ALL.len()];
    for &(m, s) in faults {
        severity[m.index()] = s;
    }
    MachineState {
        shaft_hz,
        load,
        temperature_c: 40.0,
        ambient_c: 22.0,
        current_a: 0.0,
        severity,
        running: load > 0.0,
    }
}

fn sensor(part: Part, full_scale: f64, id: &str) -> SensorSim {
    let config = Sensor {
        id: id.to_string(),
        part,
        mounting: Mounting::Stud,
        axes: Axes::Xyz,
        odr_hz: *part.spec().odrs_hz.last().expect("every part has an ODR"),
        full_scale,
    };
    SensorSim::new(config, rng_for(5, id))
}

const AMBIENT: Ambient = Ambient {
    celsius: 22.0,
    hpa: 1013.25,
    rh_pct: 45.0,
};

fn acquire(
    sim: &mut SensorSim,
    state: &MachineState,
    model: &VibrationModel,
    t: SimTime,
    fault: Option<(&SensorFault, SimTime)>,
    fidelity: Fidelity,
) -> Values {
    sim.acquire(
        &Conditions {
            state,
            model,
            ambient: AMBIENT,
            t,
            window_samples: N,
            fault,
        },
        fidelity,
    )
}

fn axes(v: &Values) -> [AxisFeatures; AXES] {
    match v {
        Values::Vibration { axes, .. } => {
            let f = |c: char| {
                axes.iter()
                    .find(|r: &&AxisReading| r.axis == c)
                    .expect("all axes")
                    .features
            };
            [f('x'), f('y'), f('z')]
        }
        other => panic!("not a vibration reading: {other:?}"),
    }
}

fn gauss_sigma(sim: &SensorSim, model: &VibrationModel) -> [f64; AXES] {
    let c = &sim.chain;
    std::array::from_fn(|a| {
        let bb = model.broadband_g[a];
        (bb * bb + c.sigma * c.sigma + c.lsb * c.lsb / 12.0).sqrt()
    })
}

#[test]
fn probe_fidelity() {
    let sig = signature(MachineKind::Motor);
    let shaft = 30.0 * FS / N as f64;
    let cases: [(&str, Vec<(FaultMode, f64)>); 6] = [
        ("healthy", vec![]),
        ("imbalance", vec![(FaultMode::Imbalance, 0.5)]),
        ("misalign", vec![(FaultMode::Misalignment, 0.5)]),
        ("loose", vec![(FaultMode::Looseness, 0.5)]),
        ("outer", vec![(FaultMode::BearingOuter, 0.3)]),
        ("inner", vec![(FaultMode::BearingInner, 0.3)]),
    ];
    let w: usize = std::env::var("PW")
        .ok()
        .and_then(|x| x.parse().ok())
        .unwrap_or(8);
    for (name, f) in cases {
        let st = state(shaft, 0.75, &f);
        let model = sig.model(&st);
        let mut sim = sensor(Part::Iis3dwb, 4.0, name);
        let sigma = gauss_sigma(&sim, &model);
        let mom: [AxisMoments; AXES] = Analytic::new().moments(&model, FS, sigma);
        let mut sum = [[0.0; 5 + BANDS]; AXES];
        let mut sq = [[0.0; 5 + BANDS]; AXES];
        for k in 0..w {
            let t = SimTime(k as u64 * 600_123_456_789);
            let v = acquire(&mut sim, &st, &model, t, None, Fidelity::Raw);
            for (a, f) in axes(&v).iter().enumerate() {
                let vals = vec_of(f);
                for i in 0..vals.len() {
                    sum[a][i] += vals[i] / w as f64;
                    sq[a][i] += vals[i] * vals[i] / w as f64;
                }
            }
        }
        for a in 0..AXES {
            let e = vec_of(&Analytic::expected(&mom[a], N));
            let s = vec_of(&Analytic::estimator_std(&mom[a], N, FS));
            println!("{name} axis {a}");
            let names = [
                "rms", "peak", "crest", "kurt", "vel", "b0", "b1", "b2", "b3", "b4", "b5", "b6",
                "b7",
            ];
            for i in 0..e.len() {
                let emp_sd = (sq[a][i] - sum[a][i] * sum[a][i]).max(0.0).sqrt();
                println!(
                    "  {:5} raw {:12.6e} exp {:12.6e} rel {:+8.4} std {:10.3e} empsd {:10.3e} z {:+7.2}",
                    names[i],
                    sum[a][i],
                    e[i],
                    sum[a][i] / e[i] - 1.0,
                    s[i],
                    emp_sd,
                    (sum[a][i] - e[i]) / (s[i] / (w as f64).sqrt())
                );
            }
        }
    }
}

fn vec_of(f: &AxisFeatures) -> Vec<f64> {
    let mut v = vec![f.rms_g, f.peak_g, f.crest, f.kurtosis, f.vel_rms_mm_s];
    v.extend(f.bands_g2);
    v
}

#[test]
fn probe_kurt() {
    use crate::signal::synth::Synth;
    let sig = signature(MachineKind::Motor);
    let shaft = 30.0 * FS / N as f64;
    for f in [FaultMode::BearingOuter, FaultMode::BearingInner] {
        let st = state(shaft, 0.75, &[(f, 0.3)]);
        let full = sig.model(&st);
        let mut model = full.clone();
        model.harmonics.clear();
        model.tones.clear();
        let mut out: [Vec<f64>; AXES] = Default::default();
        let mut rng = rng_for(3, "p");
        let mom = Analytic::new().moments(&model, FS, [0.0; AXES]);
        let (mut m2s, mut m4s) = (0.0, 0.0);
        let w = 16;
        for k in 0..w {
            let t0 = k as f64 * 600.123;
            Synth::new().burst(&model, t0, FS, N, &mut out, &mut rng);
            let x = &out[0];
            let mean = x.iter().sum::<f64>() / N as f64;
            let m2 = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / N as f64;
            let m4 = x.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / N as f64;
            m2s += m2 / w as f64;
            m4s += m4 / w as f64;
        }
        println!(
            "{f:?} m2 raw {m2s:.6e} model {:.6e} ({:+.4}) m4 raw {m4s:.6e} model {:.6e} ({:+.4})",
            mom[0].m2,
            m2s / mom[0].m2 - 1.0,
            mom[0].m4,
            m4s / mom[0].m4 - 1.0
        );
    }
}

#[test]
fn probe_peak() {
    use crate::signal::synth::Synth;
    let sig = signature(MachineKind::Motor);
    let shaft = 30.0 * FS / N as f64;
    for f in [FaultMode::BearingOuter, FaultMode::BearingInner] {
        let st = state(shaft, 0.75, &[(f, 0.3)]);
        let mut model = sig.model(&st);
        let full = model.clone();
        println!("{:?} {:?}", full.harmonics, full.tones);
        model.harmonics.clear();
        model.tones.clear();
        let mut out: [Vec<f64>; AXES] = Default::default();
        let mut rng = rng_for(3, "p");
        for k in 0..4 {
            let t0 = k as f64 * 600.123;
            Synth::new().burst(&model, t0, FS, N, &mut out, &mut rng);
            let x = &out[0];
            let mean = x.iter().sum::<f64>() / N as f64;
            let mx = x.iter().fold(0.0f64, |m, &v| m.max(v - mean));
            let mn = x.iter().fold(0.0f64, |m, &v| m.min(v - mean));
            let mut full_out: [Vec<f64>; AXES] = Default::default();
            Synth::new().burst(&full, t0, FS, N, &mut full_out, &mut rng_for(3, "q"));
            let y = &full_out[0];
            let mean2 = y.iter().sum::<f64>() / N as f64;
            let my = y.iter().fold(0.0f64, |m, &v| m.max((v - mean2).abs()));
            println!(
                "{f:?} amp {:.4} mean {mean:.5} max {mx:.4} min {mn:.4} fullpeak {my:.4}",
                model.impacts[0].amp_g[0]
            );
        }
    }
}
