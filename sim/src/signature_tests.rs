//! Fault signatures, fidelity agreement and determinism, end to end through the
//! signal model, the sensor chain, the edge features and the world.
//!
//! * Each machine fault shows its textbook signature in simulated samples
//!   (bearing lines in the envelope spectrum, 1×/2×/harmonics in the spectrum,
//!   temperature rise), and each sensor fault shows on the readings.
//! * `raw` and `features` fidelity agree: features averaged over raw windows match
//!   the analytic expectation within tolerances derived from the estimator's own
//!   standard deviation, plus stated allowances where the analytic model is an
//!   approximation.
//! * A world is a pure function of its scenario and seed, and one machine's numbers
//!   do not depend on which other machines exist.

use rand::RngExt;
use rand_distr::StandardNormal;

use crate::device::{Conditions, Fidelity, SensorSim};
use crate::edge::spectral::{AxisFeatures, BANDS, SpectralAnalyzer};
use crate::edge::{AxisReading, Values};
use crate::faults::SensorFault;
use crate::plant::{BearingGeometry, FaultMode, MachineKind, MachineState, Thermal};
use crate::rng::rng_for;
use crate::scenario::{self, Ambient, Axes, Mounting, Sensor, Vertical};
use crate::sensors::{Chain, Part};
use crate::signal::moments::{Analytic, AxisMoments, VEL_HI_HZ, VEL_LO_HZ, expected_abs_max};
use crate::signal::synth::Synth;
use crate::signal::{
    AXES, FAULT_VELOCITY_AT_FAILURE_MM_S, MachineSignature, UnitCharacter, VibrationModel,
    seen_response,
};
use crate::time::SimTime;
use crate::world::World;

/// IIS3DWB output data rate, Hz.
const FS: f64 = 26_667.0;
/// Samples per window (the scenario default: 1.23 s, 0.81 Hz bins).
const N: usize = 32_768;
/// Scenario seed of every stream drawn here.
const SEED: u64 = 7;
/// Load of the machines under test (fraction of rated).
const LOAD: f64 = 0.75;
/// A 4-pole motor at 1480 rpm rated, slipping 2 % at full load, as the world runs it.
const SHAFT_HZ: f64 = 1480.0 / 60.0 * (1.0 - 0.02 * LOAD);

const AMBIENT: Ambient = Ambient {
    celsius: 22.0,
    hpa: 1013.25,
    rh_pct: 45.0,
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn signature(kind: MachineKind) -> MachineSignature {
    let mut rng = rng_for(SEED, "signature");
    MachineSignature {
        kind,
        defaults: kind.defaults(),
        bearing: BearingGeometry::SKF_6205,
        phases: std::array::from_fn(|_| rng.random_range(0.0..std::f64::consts::TAU)),
        unit: UnitCharacter::NOMINAL,
        supply_hz: 50.0,
    }
}

/// A machine state as the world builds it: running whenever it carries load.
fn state(shaft_hz: f64, load: f64, faults: &[(FaultMode, f64)]) -> MachineState {
    let mut severity = [0.0; FaultMode::ALL.len()];
    for &(mode, s) in faults {
        severity[mode.index()] = s;
    }
    MachineState {
        shaft_hz,
        load,
        temperature_c: 40.0,
        ambient_c: AMBIENT.celsius,
        current_a: 0.0,
        severity,
        running: load > 0.0,
        slip: 0.0,
        process: 1.0,
    }
}

/// A stud-mounted three-axis sensor at the part's highest rate.
fn sensor(part: Part, full_scale: f64, id: &str) -> SensorSim {
    let config = Sensor {
        id: id.to_string(),
        part,
        mounting: Mounting::Stud,
        axes: Axes::Xyz,
        // Gravity on the axial axis, away from the radial x these tests read.
        vertical: Vertical::Z,
        odr_hz: *part.spec().odrs_hz.last().expect("every part has a rate"),
        full_scale,
    };
    SensorSim::new(config, rng_for(SEED, id))
}

/// One acquisition of `sim` on a machine in `state`, with an optional sensor fault
/// that began at sim time 0.
fn acquire(
    sim: &mut SensorSim,
    sig: &MachineSignature,
    state: &MachineState,
    t: SimTime,
    fault: Option<&SensorFault>,
    fidelity: Fidelity,
) -> Values {
    let model = sig.model(state);
    sim.acquire(
        &Conditions {
            state,
            model: &model,
            ambient: AMBIENT,
            t,
            window_samples: N,
            fault: fault.map(|f| (f, SimTime::ZERO)),
        },
        fidelity,
    )
}

/// The x, y and z features of a vibration reading.
fn axes(v: &Values) -> [AxisFeatures; AXES] {
    let Values::Vibration { axes, .. } = v else {
        panic!("not a vibration reading: {v:?}");
    };
    let of = |c: char| {
        axes.iter()
            .find(|r: &&AxisReading| r.axis == c)
            .unwrap_or_else(|| panic!("no {c} axis in {v:?}"))
            .features
    };
    [of('x'), of('y'), of('z')]
}

fn celsius(v: &Values) -> f64 {
    match v {
        Values::Temperature { celsius } => *celsius,
        other => panic!("not a temperature: {other:?}"),
    }
}

/// One window of raw IIS3DWB samples (±4 g) as `SensorSim` draws them: the model's
/// deterministic vibration, then broadband structure noise and the part's own noise,
/// its offset and its quantisation.
fn raw_window(model: &VibrationModel, t0_s: f64, id: &str) -> [Vec<f64>; AXES] {
    let mut rng = rng_for(SEED, id);
    let chain = Chain::new(Part::Iis3dwb, FS, 4.0, &mut rng);
    let mut out: [Vec<f64>; AXES] = Default::default();
    Synth::new().burst(model, t0_s, FS, N, &mut out, &mut rng);
    for (xs, bb) in out.iter_mut().zip(model.broadband_g) {
        let sigma = bb.hypot(chain.sigma);
        for x in xs.iter_mut() {
            let z: f64 = rng.sample(StandardNormal);
            *x = chain.quantise(*x + chain.offset + sigma * z);
        }
    }
    out
}

/// Bin nearest to `f_hz`.
fn bin(f_hz: f64, df: f64) -> usize {
    (f_hz / df).round() as usize
}

/// The largest value within ±1 bin of `f_hz` (a Hann-windowed line's top bin).
fn top_near(spectrum: &[f64], df: f64, f_hz: f64) -> f64 {
    let k = bin(f_hz, df);
    spectrum[k - 1..=k + 1].iter().fold(0.0, |m, &p| m.max(p))
}

/// Index of the largest value in the bins of [lo_hz, hi_hz].
fn argmax(spectrum: &[f64], df: f64, lo_hz: f64, hi_hz: f64) -> usize {
    (bin(lo_hz, df)..=bin(hi_hz, df))
        .max_by(|&i, &j| spectrum[i].total_cmp(&spectrum[j]))
        .expect("a non-empty range")
}

/// Median of the bins of [lo_hz, hi_hz]: the floor under sparse lines.
fn floor(spectrum: &[f64], df: f64, lo_hz: f64, hi_hz: f64) -> f64 {
    let mut v = spectrum[bin(lo_hz, df)..=bin(hi_hz, df)].to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

// ---------------------------------------------------------------------------
// 1. Machine fault signatures
// ---------------------------------------------------------------------------

#[test]
fn bearing_outer_race_shows_bpfo_in_the_envelope_and_raises_kurtosis() {
    let sig = signature(MachineKind::Motor);
    let bpfo = sig.bearing.orders().bpfo * SHAFT_HZ;
    let res = sig.defaults.resonance_hz;
    let model = sig.model(&state(SHAFT_HZ, LOAD, &[(FaultMode::BearingOuter, 0.5)]));
    let x = &raw_window(&model, 0.0, "outer")[0];

    // Envelope of the band around the housing resonance the impacts ring.
    let mut an = SpectralAnalyzer::new();
    let (env, df) = an.envelope_spectrum(x, FS, res - 1_000.0, res + 1_000.0);
    let top = argmax(&env, df, 5.0, 500.0);
    assert!(
        (top as f64 * df - bpfo).abs() <= df,
        "strongest envelope line at {:.2} Hz, BPFO {bpfo:.2} Hz (bin {df:.3} Hz)",
        top as f64 * df
    );
    let floor = floor(&env, df, 5.0, 500.0);
    assert!(
        env[top] > 20.0 * floor,
        "BPFO line {} vs floor {floor}",
        env[top]
    );

    // Impacts make the waveform spiky: kurtosis well above a Gaussian's 3 (and above
    // the same machine healthy, which is dominated by sinusoids and noise).
    let healthy = sig.model(&state(SHAFT_HZ, LOAD, &[]));
    let k_healthy = an
        .axis_features(&raw_window(&healthy, 0.0, "outer")[0], FS)
        .kurtosis;
    let k_faulty = an.axis_features(x, FS).kurtosis;
    assert!(k_healthy < 3.3, "healthy kurtosis {k_healthy}");
    assert!(k_faulty > 8.0, "outer-race kurtosis {k_faulty}");
}

#[test]
fn bearing_inner_race_shows_bpfi_with_shaft_sidebands() {
    let sig = signature(MachineKind::Motor);
    let bpfi = sig.bearing.orders().bpfi * SHAFT_HZ;
    let res = sig.defaults.resonance_hz;
    let model = sig.model(&state(SHAFT_HZ, LOAD, &[(FaultMode::BearingInner, 0.5)]));
    let x = &raw_window(&model, 0.0, "inner")[0];
    let (env, df) = SpectralAnalyzer::new().envelope_spectrum(x, FS, res - 1_000.0, res + 1_000.0);
    let floor = floor(&env, df, 5.0, 500.0);

    // The strongest line around BPFI (± half the shaft speed, so the sidebands are
    // outside the search) sits on BPFI.
    let top = argmax(&env, df, bpfi - SHAFT_HZ / 2.0, bpfi + SHAFT_HZ / 2.0);
    assert!(
        (top as f64 * df - bpfi).abs() <= df,
        "envelope line at {:.2} Hz, BPFI {bpfi:.2} Hz",
        top as f64 * df
    );
    assert!(
        env[top] > 20.0 * floor,
        "BPFI line {} vs floor {floor}",
        env[top]
    );

    // The defect turns through the load zone once per revolution: sidebands at
    // BPFI ± shaft speed, each a local maximum well above the floor.
    for f in [bpfi - SHAFT_HZ, bpfi + SHAFT_HZ] {
        let side = argmax(&env, df, f - 2.0 * df, f + 2.0 * df);
        assert!(
            (side as f64 * df - f).abs() <= df,
            "sideband expected at {f:.2} Hz, local peak at {:.2} Hz",
            side as f64 * df
        );
        assert!(
            env[side] > 5.0 * floor,
            "sideband at {f:.2} Hz: {} vs floor {floor}",
            env[side]
        );
        assert!(
            env[side] < env[top],
            "sidebands are weaker than the carrier"
        );
    }
}

#[test]
fn imbalance_is_a_radial_1x_line_whose_velocity_grows_with_severity() {
    let sig = signature(MachineKind::Motor);
    let model = sig.model(&state(SHAFT_HZ, LOAD, &[(FaultMode::Imbalance, 0.5)]));
    let w = raw_window(&model, 0.0, "imbalance");
    let mut an = SpectralAnalyzer::new();
    let (px, df) = an.power_spectrum(&w[0], FS);
    let (pz, _) = an.power_spectrum(&w[2], FS);
    let top = argmax(&px, df, 5.0, 1_000.0);
    assert!(
        (top as f64 * df - SHAFT_HZ).abs() <= df,
        "strongest radial line at {:.2} Hz, shaft {SHAFT_HZ:.2} Hz",
        top as f64 * df
    );
    let (x1, z1) = (top_near(&px, df, SHAFT_HZ), top_near(&pz, df, SHAFT_HZ));
    assert!(x1 > 10.0 * z1, "1× radial {x1:e} g², axial {z1:e} g²");

    // Velocity RMS (ISO 10816 band, through the sensor chain and the edge) climbs
    // with severity; at severity 1 the fault alone is at the 11.2 mm/s failure
    // threshold (the healthy residual 1× adds in phase).
    let vel: Vec<f64> = [0.0, 0.25, 0.5, 1.0]
        .iter()
        .map(|&s| {
            let st = state(SHAFT_HZ, LOAD, &[(FaultMode::Imbalance, s)]);
            let mut sim = sensor(Part::Iis3dwb, 4.0, "imbalance-vel");
            axes(&acquire(
                &mut sim,
                &sig,
                &st,
                SimTime::ZERO,
                None,
                Fidelity::Raw,
            ))[0]
                .vel_rms_mm_s
        })
        .collect();
    assert!(
        vel.windows(2).all(|v| v[1] > v[0]),
        "velocity by severity: {vel:?}"
    );
    let fault_alone = vel[3] - vel[0];
    assert!(
        (fault_alone / FAULT_VELOCITY_AT_FAILURE_MM_S - 1.0).abs() < 0.05,
        "severity 1 adds {fault_alone:.2} mm/s ({vel:?})"
    );
}

#[test]
fn misalignment_is_a_2x_line_strongest_axially() {
    let sig = signature(MachineKind::Motor);
    let model = sig.model(&state(SHAFT_HZ, LOAD, &[(FaultMode::Misalignment, 0.5)]));
    let w = raw_window(&model, 0.0, "misalignment");
    let mut an = SpectralAnalyzer::new();
    let spectra: Vec<(Vec<f64>, f64)> = w.iter().map(|x| an.power_spectrum(x, FS)).collect();
    let df = spectra[0].1;
    let two = spectra
        .iter()
        .map(|(p, _)| top_near(p, df, 2.0 * SHAFT_HZ))
        .collect::<Vec<_>>();
    let one = spectra
        .iter()
        .map(|(p, _)| top_near(p, df, SHAFT_HZ))
        .collect::<Vec<_>>();
    assert!(
        two[2] > two[0] && two[2] > two[1],
        "2× by axis (x, y, z): {two:?}"
    );
    assert!(two[2] > one[2], "axial 2× {:e} vs 1× {:e}", two[2], one[2]);
    let top = argmax(&spectra[2].0, df, 5.0, 1_000.0);
    assert!(
        (top as f64 * df - 2.0 * SHAFT_HZ).abs() <= df,
        "strongest axial line at {:.2} Hz, 2× is {:.2} Hz",
        top as f64 * df,
        2.0 * SHAFT_HZ
    );
}

#[test]
fn looseness_raises_many_harmonics() {
    let sig = signature(MachineKind::Motor);
    // Orders 1 … 10 whose line stands 100× (20 dB) above the spectrum's floor.
    let clear_orders = |faults: &[(FaultMode, f64)]| {
        let model = sig.model(&state(SHAFT_HZ, LOAD, faults));
        let (p, df) =
            SpectralAnalyzer::new().power_spectrum(&raw_window(&model, 0.0, "loose")[0], FS);
        let floor = floor(&p, df, 5.0, 1_000.0);
        (1..=10)
            .filter(|&k| top_near(&p, df, k as f64 * SHAFT_HZ) > 100.0 * floor)
            .count()
    };
    let (loose, healthy) = (
        clear_orders(&[(FaultMode::Looseness, 0.5)]),
        clear_orders(&[]),
    );
    assert!(loose >= 5, "looseness shows {loose} of the first 10 orders");
    assert!(
        healthy <= 2,
        "a healthy machine shows {healthy} of the first 10 orders"
    );
}

/// A one-machine scenario with a temperature sensor, optionally overheating from the start.
fn thermal_scenario(overheating: Option<f64>) -> scenario::Scenario {
    let fault = overheating.map_or(String::new(), |s| {
        format!(r#"faults: [(machine: "m1", kind: Overheating({s}), at: "0s")],"#)
    });
    let src = format!(
        r#"Scenario(
            name: "thermal", seed: {SEED}, duration: "6h", acquisition: (interval: "30m"),
            ambient_c: 22.0,
            sites: [(id: "s", lines: [(id: "l", machines: [
                (id: "m1", kind: Motor, rated_speed_rpm: 1480, load: Constant({LOAD}),
                 sensors: [(id: "temp", part: "STTS22H", odr_hz: 1)]),
            ])])],
            {fault}
        )"#
    );
    scenario::from_str(&src, "thermal.ron").expect("a valid scenario")
}

/// The STTS22H readings of a world, in acquisition order.
fn temperatures(sc: scenario::Scenario) -> Vec<(SimTime, f64)> {
    let mut world = World::new(sc, Fidelity::Features);
    let mut out = Vec::new();
    while let Some(step) = world.step() {
        for r in step.telemetry.iter().flat_map(|t| &t.readings) {
            out.push((r.t, celsius(&r.values)));
        }
    }
    out
}

#[test]
fn overheating_raises_the_temperature_by_its_steady_state_amount() {
    let severity = 0.5;
    let hot = temperatures(thermal_scenario(Some(severity)));
    let cool = temperatures(thermal_scenario(None));
    assert_eq!(hot.len(), cool.len());
    let defaults = MachineKind::Motor.defaults();
    let thermal = Thermal {
        temperature_c: 0.0,
        rise_full_load_c: defaults.rise_full_load_c,
        tau_s: defaults.thermal_tau_s,
    };
    // The extra rise above the healthy run's steady state, approached as 1 − e^{−t/τ}.
    let rise = thermal.steady_state(AMBIENT.celsius, LOAD, severity)
        - thermal.steady_state(AMBIENT.celsius, LOAD, 0.0);
    assert!(
        (rise - 30.0).abs() < 1e-9,
        "60 °C at severity 1, so 30 °C at 0.5"
    );
    // Same seed, same sensor: the unit's offset cancels; what is left is two draws
    // of 0.01 °C noise and the 0.01 °C LSB each.
    for ((t, h), (_, c)) in hot.iter().zip(&cool) {
        let want = rise * (1.0 - (-t.as_secs_f64() / defaults.thermal_tau_s).exp());
        assert!((h - c - want).abs() < 0.08, "at {t:?}: {h} − {c} vs {want}");
    }
    let (t, last) = hot.last().expect("readings");
    let (_, healthy) = cool.last().expect("readings");
    // After 5.5 τ the housing is within 0.5 % of its steady state, the fault's
    // whole rise above the healthy unit (which follows the hall's daily cycle and its
    // process load like the hot one does).
    assert!(t.as_secs_f64() > 5.0 * defaults.thermal_tau_s);
    assert!(
        (last - healthy - rise).abs() < 0.3,
        "{last} °C vs healthy {healthy} °C + {rise} °C"
    );
}

// ---------------------------------------------------------------------------
// Sensor faults and healthy sensor noise
// ---------------------------------------------------------------------------

/// Vibration features of one window, healthy and with `fault`, from two sensors of the
/// same id (so they draw the same noise), in both fidelities.
fn with_and_without(
    fault: &SensorFault,
    faults: &[(FaultMode, f64)],
    load: f64,
) -> [([AxisFeatures; AXES], [AxisFeatures; AXES]); 2] {
    let sig = signature(MachineKind::Motor);
    let st = state(SHAFT_HZ, load, faults);
    [Fidelity::Raw, Fidelity::Features].map(|fidelity| {
        let run = |f: Option<&SensorFault>| {
            let mut sim = sensor(Part::Iis3dwb, 4.0, "faulty");
            axes(&acquire(&mut sim, &sig, &st, SimTime::ZERO, f, fidelity))
        };
        (run(None), run(Some(fault)))
    })
}

#[test]
fn stuck_at_freezes_scalars_and_silences_ac_features() {
    for (healthy, stuck) in with_and_without(&SensorFault::StuckAt, &[], LOAD) {
        assert!(healthy[0].rms_g > 0.0);
        assert_eq!(stuck, [AxisFeatures::default(); AXES]);
    }
    let sig = signature(MachineKind::Motor);
    let mut sim = sensor(Part::Stts22h, 125.0, "temp");
    let fault = SensorFault::StuckAt;
    let mut st = state(SHAFT_HZ, LOAD, &[]);
    let first = celsius(&acquire(
        &mut sim,
        &sig,
        &st,
        SimTime::ZERO,
        Some(&fault),
        Fidelity::Raw,
    ));
    st.temperature_c = 70.0;
    let t = SimTime(3_600_000_000_000);
    let later = celsius(&acquire(
        &mut sim,
        &sig,
        &st,
        t,
        Some(&fault),
        Fidelity::Raw,
    ));
    assert_eq!(
        first, later,
        "frozen while the housing went from 40 to 70 °C"
    );
    let cleared = celsius(&acquire(&mut sim, &sig, &st, t, None, Fidelity::Raw));
    assert!(
        (cleared - 70.0).abs() < 0.5,
        "reads again once cleared: {cleared}"
    );
}

#[test]
fn drift_grows_a_scalar_linearly_and_leaves_ac_features_alone() {
    let per_hour = 2.5;
    let fault = SensorFault::Drift { per_hour };
    let sig = signature(MachineKind::Motor);
    let st = state(SHAFT_HZ, LOAD, &[]);
    let mut sim = sensor(Part::Stts22h, 125.0, "temp");
    let readings: Vec<f64> = (0..=4u64)
        .map(|h| {
            let t = SimTime(h * 3_600_000_000_000);
            celsius(&acquire(
                &mut sim,
                &sig,
                &st,
                t,
                Some(&fault),
                Fidelity::Raw,
            ))
        })
        .collect();
    for (h, r) in readings.iter().enumerate() {
        // Two noise draws (0.01 °C RMS) and two LSBs apart: 0.05 °C is > 3σ.
        let grown = r - readings[0];
        assert!(
            (grown - per_hour * h as f64).abs() < 0.05,
            "after {h} h: +{grown} °C"
        );
    }
    for (healthy, drifting) in with_and_without(&SensorFault::Drift { per_hour: 0.5 }, &[], LOAD) {
        // 0.5 g/h over a 1.2 s window is a 0.2 mg ramp: below the AC features' noise.
        let ratio = drifting[0].rms_g / healthy[0].rms_g;
        assert!((ratio - 1.0).abs() < 0.01, "rms ratio {ratio}");
    }
}

#[test]
fn bias_offsets_a_scalar_and_leaves_ac_features_alone() {
    let offset = 1.5;
    let sig = signature(MachineKind::Motor);
    let st = state(SHAFT_HZ, LOAD, &[]);
    let fault = SensorFault::Bias { offset };
    let read = |f: Option<&SensorFault>| {
        let mut sim = sensor(Part::Stts22h, 125.0, "temp");
        celsius(&acquire(
            &mut sim,
            &sig,
            &st,
            SimTime::ZERO,
            f,
            Fidelity::Raw,
        ))
    };
    let shift = read(Some(&fault)) - read(None);
    // Same stream, same noise: only the 0.01 °C quantisation can differ.
    assert!(
        (shift - offset).abs() <= 0.011,
        "bias shifted the reading by {shift}"
    );
    for (healthy, biased) in with_and_without(&SensorFault::Bias { offset: 0.5 }, &[], LOAD) {
        let ratio = biased[0].rms_g / healthy[0].rms_g;
        assert!((ratio - 1.0).abs() < 0.01, "AC rms ratio {ratio}");
    }
}

#[test]
fn gain_scales_rms_by_its_factor() {
    let factor = 2.0;
    for (healthy, gained) in with_and_without(&SensorFault::Gain { factor }, &[], LOAD) {
        for (h, g) in healthy.iter().zip(&gained) {
            let ratio = g.rms_g / h.rms_g;
            assert!((ratio - factor).abs() < 0.01 * factor, "rms ratio {ratio}");
        }
    }
}

#[test]
fn spikes_raise_kurtosis() {
    let fault = SensorFault::Spikes {
        rate_hz: 20.0,
        amplitude: 1.0,
    };
    for (healthy, spiky) in with_and_without(&fault, &[], LOAD) {
        assert!(
            healthy[0].kurtosis < 3.3,
            "healthy kurtosis {}",
            healthy[0].kurtosis
        );
        // ~25 single-sample 1 g spikes on 0.01 g of vibration: kurtosis in the hundreds.
        assert!(
            spiky[0].kurtosis > 100.0,
            "spiky kurtosis {}",
            spiky[0].kurtosis
        );
    }
}

#[test]
fn noise_fault_scales_the_noise_of_a_still_sensor() {
    let factor = 3.0;
    // Load 0: the machine is stopped, so the sensor sees only its own noise.
    for (still, noisy) in with_and_without(&SensorFault::Noise { factor }, &[], 0.0) {
        for (s, n) in still.iter().zip(&noisy) {
            // 32768 samples estimate an RMS to 0.4 %: 5 % is generous.
            let ratio = n.rms_g / s.rms_g;
            assert!(
                (ratio / factor - 1.0).abs() < 0.05,
                "noise rms ratio {ratio}"
            );
        }
    }
}

#[test]
fn dropout_sends_nothing() {
    let sig = signature(MachineKind::Motor);
    let st = state(SHAFT_HZ, LOAD, &[]);
    for (part, fs) in [(Part::Iis3dwb, 4.0), (Part::Stts22h, 125.0)] {
        for fidelity in [Fidelity::Raw, Fidelity::Features] {
            let mut sim = sensor(part, fs, "dropout");
            let v = acquire(
                &mut sim,
                &sig,
                &st,
                SimTime::ZERO,
                Some(&SensorFault::Dropout),
                fidelity,
            );
            assert_eq!(v, Values::Missing, "{part} in {} fidelity", fidelity.name());
        }
    }
}

#[test]
fn saturation_clips_the_peak_at_its_fraction_of_full_scale() {
    let fraction = 0.25; // of ±4 g: clipped at 1 g
    let clip = 4.0 * fraction;
    let fault = SensorFault::Saturation { fraction };
    // An outer-race defect rings at ~3 g peaks.
    let [raw, features] = with_and_without(&fault, &[(FaultMode::BearingOuter, 0.5)], LOAD);
    for (free, clipped) in [raw, features] {
        assert!(
            free[0].peak_g > 2.0 * clip,
            "unclipped peak {}",
            free[0].peak_g
        );
        // Peaks are taken from the window mean, which lopsided clipping of the impacts
        // pulls a few tens of mg off zero.
        let p = clipped[0].peak_g;
        assert!(
            p <= clip + 0.05 && p > 0.9 * clip,
            "clipped peak {p} g, clip {clip} g"
        );
        // Clipping the impacts takes energy and tails away.
        assert!(clipped[0].rms_g < 0.9 * free[0].rms_g);
        assert!(clipped[0].kurtosis < 0.75 * free[0].kurtosis);
    }
    // Clipping has no closed form on moments, so `features` fidelity synthesises a
    // window that may clip: both fidelities report the same numbers.
    assert_eq!(raw.1, features.1);

    // The part itself saturates at its full scale: a failing bearing on a ±2 g range.
    let sig = signature(MachineKind::Motor);
    let st = state(SHAFT_HZ, 1.0, &[(FaultMode::BearingOuter, 1.0)]);
    for fidelity in [Fidelity::Raw, Fidelity::Features] {
        let mut sim = sensor(Part::Iis3dwb, 2.0, "range");
        let x = axes(&acquire(&mut sim, &sig, &st, SimTime::ZERO, None, fidelity))[0];
        assert!(
            x.peak_g <= 2.0 + 0.05 && x.peak_g > 1.8,
            "{} fidelity: peak {}",
            fidelity.name(),
            x.peak_g
        );
    }
}

#[test]
fn healthy_still_sensor_noise_matches_the_datasheet() {
    let sig = signature(MachineKind::Motor);
    let st = state(SHAFT_HZ, 0.0, &[]);
    assert!(!st.running, "no load means the machine is stopped");
    assert!(
        sig.model(&st).broadband_g == [0.0; AXES],
        "a stopped machine is silent"
    );
    // IIS3DWB: 75 µg/√Hz over the 6.3 kHz equivalent noise bandwidth = 5.95 mg RMS.
    let want = Part::Iis3dwb.spec().noise_sigma(FS);
    assert!((want - 75e-6 * 6_300f64.sqrt()).abs() < 1e-12);
    let mut sim = sensor(Part::Iis3dwb, 2.0, "still");
    for t in 0..4u64 {
        let t = SimTime(t * 600_000_000_000);
        for f in axes(&acquire(&mut sim, &sig, &st, t, None, Fidelity::Raw)) {
            assert!(
                (f.rms_g / want - 1.0).abs() < 0.10,
                "rms {} g vs datasheet {want} g",
                f.rms_g
            );
            assert!(
                (f.kurtosis - 3.0).abs() < 0.2,
                "Gaussian noise, kurtosis {}",
                f.kurtosis
            );
        }
    }
}

// ---------------------------------------------------------------------------
// 2. Fidelity agreement
// ---------------------------------------------------------------------------

/// Windows averaged per state. Not fewer: a window holds ⌊λT⌋ or ⌈λT⌉ bearing
/// impacts, so their share of the scatter comes in two levels, and a handful of
/// windows all at one level would show no scatter at all.
const WINDOWS: usize = 32;
/// Standard errors a feature's mean may be off before the test fails: with ~300
/// comparisons, 4.5σ (two-sided p = 7·10⁻⁶ each) keeps a correct model passing
/// under any seed with probability ≈ 99.8 % (30 seeds tried), while 32 windows make
/// a bias of 0.1 % in rms or 0.3 % in kurtosis several σ.
const K: f64 = 4.5;

/// Everything the agreement checks need about one axis of one state.
struct AxisCase {
    name: String,
    moments: AxisMoments,
    expected: AxisFeatures,
    std: AxisFeatures,
    /// Mean and sample standard deviation of the raw features over the windows.
    mean: AxisFeatures,
    sd: AxisFeatures,
    /// Bounds of the true expected peak (see `peak_bounds`).
    peak_lo: f64,
    peak_hi: f64,
    /// Allowances, in each feature's unit (see where they are computed).
    rms_allow: f64,
    vel_allow: f64,
    band_allow: [f64; BANDS],
}

fn features_vec(f: &AxisFeatures) -> Vec<f64> {
    let mut v = vec![f.rms_g, f.peak_g, f.crest, f.kurtosis, f.vel_rms_mm_s];
    v.extend(f.bands_g2);
    v
}

fn features_from(v: &[f64]) -> AxisFeatures {
    AxisFeatures {
        rms_g: v[0],
        peak_g: v[1],
        crest: v[2],
        kurtosis: v[3],
        vel_rms_mm_s: v[4],
        bands_g2: std::array::from_fn(|b| v[5 + b]),
    }
}

/// Peak of the shaft-locked waveform of axis `a`, on a grid of 4096 points per
/// revolution (independent of the model's own grid).
fn periodic_peak(model: &VibrationModel, a: usize) -> f64 {
    let grid = 4096;
    (0..grid)
        .map(|i| {
            let th = std::f64::consts::TAU * i as f64 / grid as f64;
            let p: f64 = model
                .harmonics
                .iter()
                .map(|h| h.amp_g[a] * (h.order as f64 * th + h.phase).sin())
                .sum();
            p.abs()
        })
        .fold(0.0, f64::max)
}

/// Bounds of the expected window peak, from the parts of the model.
///
/// `Analytic::expected` takes the peak as the sum of the parts' peaks (periodic
/// waveform, each tone, each impact train at full modulation, less the mean the edge
/// removes), as if they lined up, plus the noise maximum over n/50 samples. Both are
/// guesses. The truth lies between
/// * below: the largest part alone — it recurs many times per window (30 revolutions,
///   100+ equal impacts) with the other parts at unrelated phases, so at least once
///   they do not pull it down, and zero-mean noise cannot lower an expected maximum;
///   but the top of a modulated (inner-race) train recurs only at the few impacts
///   nearest the top of the modulation, where the other parts may all oppose it, so
///   there it is the largest part less the others; and never below the noise maximum
///   over all n samples;
/// * above: every part aligned with the largest noise draw of the window.
fn peak_bounds(model: &VibrationModel, m: &AxisMoments, a: usize) -> (f64, f64) {
    // (peak, whether it recurs only a few times per window)
    let mut parts = vec![(periodic_peak(model, a), false)];
    parts.extend(model.tones.iter().map(|t| (t.amp_g[a], false)));
    // Impacts of random amplitude: the window's largest stands above the mean impact
    // by c·(its peak) times the maximum of the K standard normals it drew, between
    // the expected maximum of K/2 and of 2K draws (K: the impacts that can make the
    // peak), bracketing the model's K.
    let mut lift = (0.0f64, 0.0f64);
    for imp in &model.impacts {
        let h = seen_response(imp.resonance_hz, imp.damping, FS, model.lowpass.as_ref());
        let hp = h.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let dc = imp.rate_hz / FS * imp.amp_g[a] * h.iter().sum::<f64>();
        let peak = imp.amp_g[a] * (1.0 + imp.mod_depth) * hp - dc;
        let k = imp.rate_hz * N as f64 / FS * if imp.mod_depth > 0.0 { 0.25 } else { 1.0 };
        let top = imp.amp_g[a] * (1.0 + imp.mod_depth) * hp * imp.amp_cv;
        if top > 0.0 && k >= 4.0 {
            lift.0 = lift.0.max(top * expected_abs_max(k / 4.0));
            lift.1 = lift.1.max(top * expected_abs_max(k));
        }
        parts.push((peak, imp.mod_depth > 0.0));
    }
    let (largest, rare) = parts
        .iter()
        .copied()
        .fold((0.0, false), |x, p| if p.0 > x.0 { p } else { x });
    let others: f64 = parts.iter().map(|p| p.0).sum::<f64>() - largest;
    let low = if rare { largest - others } else { largest };
    let noise_max = m.sigma * expected_abs_max(N as f64);
    (
        (low + lift.0).max(noise_max),
        m.peak_det + lift.1 + noise_max,
    )
}

/// Runs `WINDOWS` raw windows of one machine state through a sensor and gathers what
/// the agreement checks need.
fn agreement_case(label: &str, faults: &[(FaultMode, f64)]) -> Vec<AxisCase> {
    // The shaft turns exactly 30 times per window. The analytic moments are averages
    // over whole revolutions; a window holding a fraction of one more differs from
    // them by up to P/(2πf·T) for a line of power P at f (0.5 % of the 1× power at
    // 24 Hz), a term that averages out over windows at random phases but that
    // `estimator_std` does not carry. Whole revolutions compare the model, not the
    // window; the impact trains and the 100 Hz tone still fall at arbitrary phases.
    let shaft_hz = 30.0 * FS / N as f64;
    let sig = signature(MachineKind::Motor);
    let st = state(shaft_hz, LOAD, faults);
    // ±16 g: no window clips (clipping has no moments), even with an impact's
    // random amplitude on top of an inner race at 0.3.
    let mut sim = sensor(Part::Iis3dwb, 16.0, label);
    // The model as the sensor sees it: through its low-pass.
    let model = sim.seen_model(&sig.model(&st));
    let sigma: [f64; AXES] = std::array::from_fn(|a| {
        // The Gaussian part `SensorSim` adds: structure noise, the part's noise and
        // the quantisation of its LSB.
        let c = &sim.chain;
        (model.broadband_g[a].powi(2) + c.sigma * c.sigma + c.lsb * c.lsb / 12.0).sqrt()
    });
    let moments = Analytic::new().moments(&model, FS, sigma);
    let mut sums = [[0.0; 5 + BANDS]; AXES];
    let mut squares = [[0.0; 5 + BANDS]; AXES];
    // Windows 10 min plus a random fraction of a second apart: the impact trains (and
    // the 100 Hz tone) start each window at an independent, uniform phase.
    let mut offsets = rng_for(SEED, "window offsets");
    for w in 0..WINDOWS {
        let offset_ns = offsets.random_range(0..1_000_000_000u64);
        let t = SimTime(w as u64 * 600_000_000_000 + offset_ns);
        let v = acquire(&mut sim, &sig, &st, t, None, Fidelity::Raw);
        for (a, f) in axes(&v).iter().enumerate() {
            for (i, x) in features_vec(f).into_iter().enumerate() {
                sums[a][i] += x;
                squares[a][i] += x * x;
            }
        }
    }
    let wf = WINDOWS as f64;
    let df = FS / N as f64;
    (0..AXES)
        .map(|a| {
            let m = moments[a];
            let mean: Vec<f64> = sums[a].iter().map(|s| s / wf).collect();
            let sd: Vec<f64> = sums[a]
                .iter()
                .zip(&squares[a])
                .map(|(s, q)| ((q - s * s / wf) / (wf - 1.0)).max(0.0).sqrt())
                .collect();
            let expected = Analytic::expected(&m, N);
            let (peak_lo, peak_hi) = peak_bounds(&model, &m, a);
            let t_s = N as f64 / FS;
            // rms: the tones are not locked to the window; each line of power P at f
            // is off its full-cycle average by at most P/(2πf·T) in mean square.
            let tone_m2: f64 = model
                .tones
                .iter()
                .map(|t| t.amp_g[a].powi(2) / 2.0 / (std::f64::consts::TAU * t.freq_hz * t_s))
                .sum();
            let rms_allow = tone_m2 / (2.0 * expected.rms_g);
            // Velocity: (1) the Hann window spreads a line at bin k over k−1 … k+1 with
            // power shares 1/6, 2/3, 1/6, so the 1/k² weight sees it (1 + 1/k²) times
            // too strongly: Δv² = Σ v²_line·(df/f)² = vel2_det_f2·df². (2) White noise is
            // summed over whole bins from ⌈10 Hz/df⌉, whose lower edge sits up to df/2
            // off 10 Hz: Δv² ≤ vel2_noise·(df/2)/10 Hz / (1 − 10/1000).
            let vel2_allow = m.vel2_det_f2 * df * df
                + m.vel2_noise * (df / 2.0) / VEL_LO_HZ / (1.0 - VEL_LO_HZ / VEL_HI_HZ);
            let vel_allow = vel2_allow / (2.0 * expected.vel_rms_mm_s);
            // Bands: a deterministic line within two bins of a band edge is split by
            // the Hann window between the two bands. (Impact lines near the edges are
            // jitter-incoherent there, e^{−(2π·19·1 %)²} ≤ 0.24 at the first edge, and
            // their scatter is in `estimator_std`.)
            let edge_of = |f: f64| {
                let e = (f / (FS / 2.0) * BANDS as f64).round() * (FS / 2.0) / BANDS as f64;
                (f - e).abs() <= 2.0 * df && e > 0.0
            };
            let mut band_allow = [0.0; BANDS];
            let lines = model
                .harmonics
                .iter()
                .map(|h| (h.order as f64 * shaft_hz, h.amp_g[a]))
                .chain(model.tones.iter().map(|t| (t.freq_hz, t.amp_g[a])));
            for (f, amp) in lines.filter(|&(f, _)| edge_of(f)) {
                let b = ((f / (FS / 2.0) * BANDS as f64) as usize).min(BANDS - 1);
                for x in &mut band_allow[b.saturating_sub(1)..=(b + 1).min(BANDS - 1)] {
                    *x += amp * amp / 2.0;
                }
            }
            AxisCase {
                name: format!("{label} {}", ['x', 'y', 'z'][a]),
                moments: m,
                expected,
                std: Analytic::estimator_std(&m, N, FS),
                mean: features_from(&mean),
                sd: features_from(&sd),
                peak_lo,
                peak_hi,
                rms_allow,
                vel_allow,
                band_allow,
            }
        })
        .collect()
}

/// Fails (listing every miss) unless each feature of each case agrees.
fn check_agreement(cases: &[AxisCase]) {
    let mut misses = Vec::new();
    let root_w = (WINDOWS as f64).sqrt();
    for c in cases {
        let mut check = |what: &str, raw: f64, lo: f64, hi: f64| {
            if !(lo..=hi).contains(&raw) {
                misses.push(format!(
                    "{}: {what} raw {raw:.6e} outside [{lo:.6e}, {hi:.6e}]",
                    c.name
                ));
            }
        };
        let (e, s, r) = (&c.expected, &c.std, &c.mean);
        // rms: K standard errors of the mean of WINDOWS windows, plus the tones'
        // window truncation (rms_allow, < 10⁻⁶ g here).
        let tol = K * s.rms_g / root_w + c.rms_allow;
        check("rms", r.rms_g, e.rms_g - tol, e.rms_g + tol);
        // Kurtosis: K standard errors (delta method over the Gaussian part, plus the
        // impact count; see `Analytic::estimator_std`).
        let tol = K * s.kurtosis / root_w;
        check("kurtosis", r.kurtosis, e.kurtosis - tol, e.kurtosis + tol);
        // Peak: the model's value is a guess between `peak_bounds`; the raw mean must
        // fall between them, K standard errors (Gumbel spread of the noise maximum) wide.
        let tol = K * s.peak_g / root_w;
        check("peak", r.peak_g, c.peak_lo - tol, c.peak_hi + tol);
        // Crest = peak/rms: the same bounds over the expected rms, with both errors.
        let rel = (K * s.peak_g / root_w / e.peak_g).hypot(K * s.rms_g / root_w / e.rms_g);
        let (lo, hi) = (c.peak_lo / e.rms_g, c.peak_hi / e.rms_g);
        check("crest", r.crest, lo * (1.0 - rel), hi * (1.0 + rel));
        // Velocity: K standard errors plus the Hann and bin-edge allowances.
        let tol = K * s.vel_rms_mm_s / root_w + c.vel_allow;
        check(
            "velocity",
            r.vel_rms_mm_s,
            e.vel_rms_mm_s - tol,
            e.vel_rms_mm_s + tol,
        );
        for b in 0..BANDS {
            // Bands: K standard errors plus the share of lines next to a band edge.
            let tol = K * s.bands_g2[b] / root_w + c.band_allow[b];
            let what = format!("band {b}");
            check(
                &what,
                r.bands_g2[b],
                e.bands_g2[b] - tol,
                e.bands_g2[b] + tol,
            );
        }
        // The scatter agrees too, for the features whose spread `estimator_std` models
        // from the signal (rms, kurtosis, velocity, bands): the sample SD of 32 windows
        // over the true SD lies in [0.50, 1.58] but with probability 10⁻⁵ each way
        // (χ²₃₁); [0.35, 2] leaves room for the model's own ±30 % and still catches a
        // spread off by a factor of 3 or more, as every one fixed here was. Kurtosis
        // gets half the lower limit: its SD bounds E[d⁶] by peak²·E[d⁴], which a
        // cancellation in the delta method turns into up to 2× too much spread for
        // line-dominated windows (1.7× for one sinusoid).
        let spread = |what: &str, sd: f64, std: f64, low: f64, misses: &mut Vec<String>| {
            if std > 0.0 && !(low..=2.0).contains(&(sd / std)) {
                misses.push(format!(
                    "{}: {what} scatter {sd:.3e}, model {std:.3e}",
                    c.name
                ));
            }
        };
        spread("rms", c.sd.rms_g, s.rms_g, 0.35, &mut misses);
        spread("kurtosis", c.sd.kurtosis, s.kurtosis, 0.175, &mut misses);
        spread(
            "velocity",
            c.sd.vel_rms_mm_s,
            s.vel_rms_mm_s,
            0.35,
            &mut misses,
        );
        for b in 0..BANDS {
            spread(
                &format!("band {b}"),
                c.sd.bands_g2[b],
                s.bands_g2[b],
                0.35,
                &mut misses,
            );
        }
        // Sanity: the bands add up to the mean square (Parseval), in both fidelities.
        let total: f64 = e.bands_g2.iter().sum();
        if (total / c.moments.m2 - 1.0).abs() > 0.02 {
            misses.push(format!(
                "{}: analytic bands sum to {total:e}, m2 {:e}",
                c.name, c.moments.m2
            ));
        }
    }
    assert!(
        misses.is_empty(),
        "raw and features fidelity disagree:\n{}",
        misses.join("\n")
    );
}

#[test]
fn raw_and_features_fidelity_agree_on_healthy_and_shaft_faults() {
    let mut cases = agreement_case("healthy", &[]);
    cases.extend(agreement_case(
        "imbalance 0.5",
        &[(FaultMode::Imbalance, 0.5)],
    ));
    cases.extend(agreement_case(
        "misalignment 0.5",
        &[(FaultMode::Misalignment, 0.5)],
    ));
    cases.extend(agreement_case(
        "looseness 0.5",
        &[(FaultMode::Looseness, 0.5)],
    ));
    check_agreement(&cases);
}

#[test]
fn raw_and_features_fidelity_agree_on_bearing_faults() {
    let mut cases = agreement_case("bearing outer 0.3", &[(FaultMode::BearingOuter, 0.3)]);
    cases.extend(agreement_case(
        "bearing inner 0.3",
        &[(FaultMode::BearingInner, 0.3)],
    ));
    check_agreement(&cases);
}

#[test]
fn features_fidelity_draws_around_the_analytic_expectation() {
    // The `features` path of `SensorSim` is the expectation plus scatter of the size
    // `estimator_std` gives: its mean over windows matches `expected` as raw does.
    let sig = signature(MachineKind::Motor);
    let st = state(SHAFT_HZ, LOAD, &[(FaultMode::BearingInner, 0.3)]);
    // At ±16 g no window of this defect clips (a clipping window is synthesised raw).
    let mut sim = sensor(Part::Iis3dwb, 16.0, "features");
    let model = sim.seen_model(&sig.model(&st));
    let c = &sim.chain;
    let sigma = model
        .broadband_g
        .map(|bb| (bb * bb + c.sigma * c.sigma + c.lsb * c.lsb / 12.0).sqrt());
    let m = Analytic::new().moments(&model, FS, sigma)[0];
    let (e, s) = (
        Analytic::expected(&m, N),
        Analytic::estimator_std(&m, N, FS),
    );
    let windows = 64;
    let mean_rms = (0..windows)
        .map(|w| {
            let t = SimTime(w as u64 * 600_000_000_000);
            axes(&acquire(&mut sim, &sig, &st, t, None, Fidelity::Features))[0].rms_g
        })
        .sum::<f64>()
        / windows as f64;
    let tol = K * s.rms_g / (windows as f64).sqrt();
    assert!(
        (mean_rms - e.rms_g).abs() < tol,
        "{mean_rms} vs {} ± {tol}",
        e.rms_g
    );
}

// ---------------------------------------------------------------------------
// 3. Determinism
// ---------------------------------------------------------------------------

/// A small plant: a degrading pump, a motor with a sensor fault, optionally a fan
/// added between them (same line, same gateway).
fn plant(seed: u64, with_fan: bool) -> scenario::Scenario {
    let fan = if with_fan {
        r#"(id: "fan", kind: Fan, rated_speed_rpm: 980,
            sensors: [(id: "vib", part: "IIS3DWB"), (id: "temp", part: "STTS22H")]),"#
    } else {
        ""
    };
    let src = format!(
        r#"Scenario(
            name: "det", seed: {seed}, duration: "1h",
            acquisition: (interval: "10m", window_samples: 4096),
            sites: [(id: "s", lines: [(id: "l", machines: [
                (id: "pump", kind: Pump, rated_speed_rpm: 2950,
                 sensors: [(id: "vib", part: "IIS3DWB"), (id: "temp", part: "STTS22H")]),
                {fan}
                (id: "motor", kind: Motor, rated_speed_rpm: 1480,
                 sensors: [(id: "vib", part: "IIS3DWB"), (id: "env", part: "HTS221")]),
            ])])],
            degradation: [(machine: "pump", mode: bearing_outer,
                onset: Uniform(min: "5m", max: "20m"),
                growth: Exponential(rate_per_day: 40.0))],
            faults: [(machine: "motor", sensor: "vib", kind: Spikes(rate_hz: 5, amplitude: 1.0),
                at: "20m")],
        )"#
    );
    scenario::from_str(&src, "det.ron").expect("a valid scenario")
}

/// Everything a world steps out, per machine id: telemetry (seq, time, readings,
/// status) and truth (with the machine index, which depends on the plant, blanked).
fn run(
    sc: scenario::Scenario,
    fidelity: Fidelity,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let ids: Vec<String> = sc.machines.iter().map(|m| m.id.clone()).collect();
    let mut world = World::new(sc, fidelity);
    let mut out = std::collections::BTreeMap::<String, Vec<String>>::new();
    while let Some(step) = world.step() {
        for t in &step.telemetry {
            let line = format!("{} {:?} {:?} {:?}", t.seq, t.t, t.readings, t.status);
            out.entry(ids[t.machine].clone()).or_default().push(line);
        }
        for r in &step.truth {
            let mut r = r.clone();
            let id = ids[r.machine].clone();
            r.machine = usize::MAX;
            out.entry(id).or_default().push(format!("{r:?}"));
        }
    }
    out
}

#[test]
fn same_seed_gives_identical_telemetry_and_truth() {
    for fidelity in [Fidelity::Raw, Fidelity::Features] {
        let a = run(plant(3, true), fidelity);
        let b = run(plant(3, true), fidelity);
        assert!(
            a.values().map(Vec::len).sum::<usize>() > 20,
            "the run produced output"
        );
        assert_eq!(a, b, "{} fidelity", fidelity.name());
    }
}

#[test]
fn another_seed_gives_other_numbers() {
    for fidelity in [Fidelity::Raw, Fidelity::Features] {
        let (a, b) = (
            run(plant(3, false), fidelity),
            run(plant(4, false), fidelity),
        );
        for id in ["pump", "motor"] {
            assert_ne!(a[id], b[id], "{id} in {} fidelity", fidelity.name());
        }
    }
}

#[test]
fn adding_a_machine_leaves_the_others_unchanged() {
    for fidelity in [Fidelity::Raw, Fidelity::Features] {
        let without = run(plant(3, false), fidelity);
        let with = run(plant(3, true), fidelity);
        assert!(with.contains_key("fan") && !without.contains_key("fan"));
        for id in ["pump", "motor"] {
            assert_eq!(
                without[id],
                with[id],
                "{id} in {} fidelity",
                fidelity.name()
            );
        }
    }
}

#[test]
fn kept_raw_windows_hold_the_samples_the_features_came_from_and_change_nothing() {
    let plain = run(plant(3, false), Fidelity::Raw);
    let sc = plant(3, false);
    let ids: Vec<String> = sc.machines.iter().map(|m| m.id.clone()).collect();
    let sensors: Vec<usize> = sc.machines.iter().map(|m| m.sensors.len()).collect();
    let mut world = World::new(sc, Fidelity::Raw);
    assert!(world.keep_raw_windows(true));
    let mut kept = std::collections::BTreeMap::<String, Vec<String>>::new();
    let mut raw = Vec::new();
    let mut acquisitions = 0;
    while let Some(step) = world.step() {
        for t in &step.telemetry {
            let line = format!("{} {:?} {:?} {:?}", t.seq, t.t, t.readings, t.status);
            kept.entry(ids[t.machine].clone()).or_default().push(line);
            // Each reading's features are those of the kept samples of its window.
            for r in &t.readings {
                let Values::Vibration { axes, .. } = &r.values else {
                    continue;
                };
                let s = world.scenario().machines[t.machine]
                    .sensors
                    .iter()
                    .position(|s| s.id == r.sensor)
                    .unwrap();
                let w: &crate::world::RawWindow = raw
                    .iter()
                    .find(|w: &&crate::world::RawWindow| {
                        w.machine == t.machine && w.sensor == s && w.t == r.t
                    })
                    .expect("a kept window for every reading");
                for a in axes {
                    let xs = w.samples[usize::from(a.axis as u8 - b'x')]
                        .as_ref()
                        .unwrap();
                    assert_eq!(xs.len(), 4096);
                    let f = SpectralAnalyzer::new().axis_features(xs, w.odr_hz);
                    assert_eq!(f, a.features);
                }
            }
        }
        for r in &step.truth {
            let mut r = r.clone();
            let id = ids[r.machine].clone();
            r.machine = usize::MAX;
            kept.entry(id).or_default().push(format!("{r:?}"));
        }
        if !step.truth.is_empty() {
            acquisitions += 1;
            assert_eq!(step.raw.len(), sensors.iter().sum::<usize>());
        }
        raw.extend(step.raw);
    }
    assert_eq!(kept, plain, "keeping samples changes no reading or truth");
    assert_eq!(acquisitions, 6);
    // The thermometer's window is its one reading, in channel x.
    let temp = raw
        .iter()
        .find(|w| w.machine == 0 && w.sensor == 1)
        .unwrap();
    assert_eq!(temp.samples[0].as_ref().map(Vec::len), Some(1));
    assert!(temp.samples[1].is_none() && temp.samples[2].is_none());

    let mut features = World::new(plant(3, false), Fidelity::Features);
    assert!(!features.keep_raw_windows(true));
    assert!(std::iter::from_fn(|| features.step()).all(|s| s.raw.is_empty()));
}

// ---------------------------------------------------------------------------
// Field realism: gravity, no load, incipient onset
// ---------------------------------------------------------------------------

#[test]
fn the_vertical_axis_sees_one_g_and_the_others_none() {
    let sig = signature(MachineKind::Motor);
    let st = state(SHAFT_HZ, LOAD, &[]);
    for (vertical, up) in [(Vertical::X, 0), (Vertical::Y, 1), (Vertical::Z, 2)] {
        let config = Sensor {
            id: "vib".into(),
            part: Part::Iis3dwb,
            mounting: Mounting::Stud,
            axes: Axes::Xyz,
            vertical,
            odr_hz: FS,
            full_scale: 4.0,
        };
        let mut sim = SensorSim::new(config, rng_for(SEED, "gravity"));
        sim.keep_raw(true);
        acquire(&mut sim, &sig, &st, SimTime::ZERO, None, Fidelity::Raw);
        let raw = sim.take_raw().expect("raw samples kept");
        for (a, channel) in raw.iter().enumerate() {
            let xs = channel.as_ref().expect("three axes");
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            let want = if a == up { 1.0 } else { 0.0 };
            assert!(
                (mean - want).abs() < 0.02,
                "{vertical:?} up: axis {a} mean {mean} g, want {want} g"
            );
        }
    }
}

#[test]
fn faults_stay_visible_at_no_load() {
    // An uncoupled motor still turns (windage and friction: ~2 % of rated load).
    // Imbalance is a centrifugal force, independent of load; bearing impacts weaken
    // outside the load zone but stay (CWRU's 0 hp records show them clearly).
    let sig = signature(MachineKind::Motor);
    let no_load = 0.02;
    let fr = |load: f64| crate::plant::drive::shaft_hz(1480.0, 50.0, load);
    let velocity = |load: f64, faults: &[(FaultMode, f64)]| {
        let mut sim = sensor(Part::Iis3dwb, 16.0, "noload");
        let st = state(fr(load), load, faults);
        axes(&acquire(
            &mut sim,
            &sig,
            &st,
            SimTime::ZERO,
            None,
            Fidelity::Features,
        ))[0]
    };
    let idle = velocity(no_load, &[(FaultMode::Imbalance, 0.5)]);
    let loaded = velocity(0.9, &[(FaultMode::Imbalance, 0.5)]);
    let healthy = velocity(no_load, &[]);
    assert!(
        idle.vel_rms_mm_s > 5.0 * healthy.vel_rms_mm_s,
        "imbalance at no load {} vs healthy {}",
        idle.vel_rms_mm_s,
        healthy.vel_rms_mm_s
    );
    assert!(
        (idle.vel_rms_mm_s / loaded.vel_rms_mm_s - 1.0).abs() < 0.1,
        "imbalance velocity at no load {} vs loaded {}",
        idle.vel_rms_mm_s,
        loaded.vel_rms_mm_s
    );
    let outer = velocity(no_load, &[(FaultMode::BearingOuter, 0.3)]);
    assert!(
        outer.kurtosis > 2.0 * healthy.kurtosis,
        "outer race at no load: kurtosis {} vs healthy {}",
        outer.kurtosis,
        healthy.kurtosis
    );
}

#[test]
fn the_first_hour_after_onset_stays_within_the_healthy_scatter() {
    // A defect initiates below the noise floor: for an hour after onset each
    // window's features lie within 3 σ of the same machine's healthy scatter.
    let src = format!(
        r#"Scenario(name: "onset", seed: {SEED}, duration: "3d", acquisition: (interval: "10m", window_samples: 16384),
            sites: [(id: "s", lines: [(id: "l", machines: [
                (id: "p4", kind: Pump, rated_speed_rpm: 2950, load: Constant(0.8),
                 sensors: [(id: "vib", part: "IIS3DWB", full_scale: 16)]),
            ])])],
            degradation: [(machine: "p4", mode: bearing_outer, onset: At("2d"), initial: 0.05,
                growth: Exponential(rate_per_day: 0.5, rate_cv: 0.2, sigma_per_sqrt_day: 0.1))],
        )"#
    );
    let sc = scenario::from_str(&src, "onset.ron").expect("valid");
    let mut world = World::new(sc, Fidelity::Features);
    let onset = SimTime(2 * 86_400 * 1_000_000_000);
    let mut life = None;
    let hour = SimTime(onset.0 + 3_600 * 1_000_000_000);
    let (mut healthy, mut early) = (Vec::new(), Vec::new());
    while let Some(step) = world.step() {
        if let Some(f) = step.truth.first().and_then(|t| t.failure_at) {
            life = Some(f.since(onset));
        }
        for r in step.telemetry.iter().flat_map(|t| &t.readings) {
            let Values::Vibration { .. } = &r.values else {
                continue;
            };
            let x = axes(&r.values)[0];
            if r.t < onset {
                healthy.push(x);
            } else if r.t <= hour {
                early.push(x);
            }
        }
    }
    assert!(healthy.len() > 200 && early.len() >= 6);
    // The hour is a small part of this unit's life (days), as on real machines.
    let life_d = life.map_or(f64::INFINITY, |l| l.as_secs_f64() / 86_400.0);
    assert!(life_d > 5.0, "life {life_d} d");
    type Get = fn(&AxisFeatures) -> f64;
    let features: [(&str, Get); 4] = [
        ("rms", |f| f.rms_g),
        ("kurtosis", |f| f.kurtosis),
        ("peak", |f| f.peak_g),
        ("band 7", |f| f.bands_g2[7]),
    ];
    for (name, get) in features {
        let xs: Vec<f64> = healthy.iter().map(get).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64).sqrt();
        for f in &early {
            let v = get(f);
            assert!(
                (v - mean).abs() <= 3.0 * sd,
                "{name} {v} in the first hour vs healthy {mean} ± {sd}"
            );
        }
    }
}

#[test]
fn the_iis3dwb_rolls_off_above_its_band_and_meets_its_noise_density_in_it() {
    // A still IIS3DWB (the machine stopped): what it outputs is its own noise,
    // through its 6.3 kHz digital low-pass. In band the density is the datasheet's
    // 75 µg/√Hz; above 8 kHz it is at least 20 dB down.
    let sig = signature(MachineKind::Motor);
    let st = state(SHAFT_HZ, 0.0, &[]);
    let mut sim = sensor(Part::Iis3dwb, 2.0, "rolloff");
    let mut analyzer = SpectralAnalyzer::new();
    let (mut in_band, mut above, mut windows) = (0.0, 0.0, 0);
    let mut sim_raw = |t: u64| {
        sim.keep_raw(true);
        acquire(&mut sim, &sig, &st, SimTime(t), None, Fidelity::Raw);
        sim.take_raw().expect("kept")
    };
    let (mut n_in, mut n_above) = (0usize, 0usize);
    let mut df = 0.0;
    for w in 0..4u64 {
        let raw = sim_raw(w * 600_000_000_000);
        let xs = raw[0].as_ref().expect("x axis");
        let (p, bin) = analyzer.power_spectrum(xs, FS);
        df = bin;
        for (k, pk) in p.iter().enumerate() {
            let f = k as f64 * bin;
            if (500.0..4_000.0).contains(&f) {
                in_band += pk;
                n_in += 1;
            } else if f >= 8_000.0 {
                above += pk;
                n_above += 1;
            }
        }
        windows += 1;
    }
    assert_eq!(windows, 4);
    let density_in = in_band / n_in as f64 / df;
    let density_above = above / n_above as f64 / df;
    let want = 75e-6f64.powi(2);
    assert!(
        (density_in / want - 1.0).abs() < 0.15,
        "in-band density {:.1} µg/√Hz vs the datasheet's 75",
        density_in.sqrt() * 1e6
    );
    let db = 10.0 * (density_above / density_in).log10();
    assert!(db <= -20.0, "above 8 kHz only {db:.1} dB below the band");
}
