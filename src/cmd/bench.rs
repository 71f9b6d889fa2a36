//! `fabtwin bench`: measures the simulation's speed and prints the figures
//! (medians of several repetitions; machines here are shared and noisy).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use fabtwin_bridge::codec::json;
use fabtwin_bridge::topics::Topics;
use fabtwin_sim::device::{Conditions, Fidelity, SensorSim};
use fabtwin_sim::plant::{BearingGeometry, FaultMode, MachineKind, MachineState};
use fabtwin_sim::rng::rng_for;
use fabtwin_sim::scenario::{Ambient, Axes, Mounting, Sensor, Vertical};
use fabtwin_sim::sensors::Part;
use fabtwin_sim::signal::{MachineSignature, UnitCharacter};
use fabtwin_sim::time::{SimDuration, SimTime};
use fabtwin_sim::world::World;

use crate::BadInput;
use crate::cli::BenchArgs;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A motor with a growing outer-race defect, as the benchmark's workload.
fn workload() -> (MachineSignature, MachineState) {
    let kind = MachineKind::Motor;
    let sig = MachineSignature {
        kind,
        defaults: kind.defaults(),
        bearing: BearingGeometry::SKF_6205,
        phases: [0.3; 16],
        unit: UnitCharacter::NOMINAL,
        supply_hz: 50.0,
    };
    let mut severity = [0.0; FaultMode::ALL.len()];
    severity[FaultMode::BearingOuter.index()] = 0.3;
    severity[FaultMode::Imbalance.index()] = 0.2;
    let state = MachineState {
        shaft_hz: 24.7,
        load: 0.8,
        temperature_c: 50.0,
        ambient_c: 22.0,
        current_a: 15.0,
        severity,
        running: true,
        slip: 0.01,
        process: 1.0,
    };
    (sig, state)
}

/// Seconds per window of `fidelity` acquisition on an IIS3DWB (3 axes), median of `reps` batches.
fn window_seconds(fidelity: Fidelity, n: usize, batch: usize, reps: usize) -> f64 {
    let (sig, state) = workload();
    let model = sig.model(&state);
    let config = Sensor {
        id: "vib".into(),
        part: Part::Iis3dwb,
        mounting: Mounting::Stud,
        axes: Axes::Xyz,
        vertical: Vertical::X,
        odr_hz: 26_667.0,
        full_scale: 4.0,
    };
    let mut sensor = SensorSim::new(config, rng_for(1, "bench"));
    let ambient = Ambient {
        celsius: 22.0,
        hpa: 1013.25,
        rh_pct: 45.0,
    };
    let mut t = SimTime::ZERO;
    let times = (0..reps)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..batch {
                let c = Conditions {
                    state: &state,
                    model: &model,
                    ambient,
                    t,
                    window_samples: n,
                    fault: None,
                };
                std::hint::black_box(sensor.acquire(&c, fidelity));
                t = t.after(SimDuration::from_secs(600));
            }
            start.elapsed().as_secs_f64() / batch as f64
        })
        .collect();
    median(times)
}

/// Seconds to synthesise one 3-axis burst of `n` samples (no features), median.
fn synth_seconds(n: usize, batch: usize, reps: usize) -> f64 {
    let (sig, state) = workload();
    let model = sig.model(&state);
    let mut synth = fabtwin_sim::signal::synth::Synth::new();
    let mut rng = rng_for(1, "synth");
    let chain = fabtwin_sim::sensors::Chain::new(Part::Iis3dwb, 26_667.0, 4.0, &mut rng);
    let mut buf: [Vec<f64>; 3] = Default::default();
    let times = (0..reps)
        .map(|_| {
            let start = Instant::now();
            for k in 0..batch {
                synth.burst(&model, k as f64 * 600.0, 26_667.0, n, &mut buf, &mut rng);
                for axis in &mut buf {
                    for x in axis.iter_mut() {
                        *x = chain.measure(*x, &mut rng);
                    }
                }
                std::hint::black_box(&buf);
            }
            start.elapsed().as_secs_f64() / batch as f64
        })
        .collect();
    median(times)
}

pub fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let (batch_raw, batch_feat, reps) = if args.quick {
        (3, 20_000, 3)
    } else {
        (10, 100_000, 5)
    };
    let n = 32_768;
    let fs = 26_667.0;
    println!(
        "fabtwin bench (one core, median of {reps} repetitions; build: {})",
        if cfg!(debug_assertions) {
            "debug — use --release for real figures"
        } else {
            "release"
        }
    );

    let s = synth_seconds(n, batch_raw, reps);
    let samples_per_s = 3.0 * n as f64 / s;
    println!(
        "raw synthesis:            {:>12.1} M samples/s per core (3-axis IIS3DWB bursts with bearing impacts, noise, quantisation)",
        samples_per_s / 1e6
    );

    let w = window_seconds(Fidelity::Raw, n, batch_raw, reps);
    let window_s = n as f64 / fs;
    println!(
        "raw window + FFT features: {:>11.2} ms per 3-axis window of {n} samples ({window_s:.3} s of signal)",
        w * 1e3
    );
    println!(
        "IIS3DWB sensors real-time: {:>11.0} per core (3 axes, 26.667 kHz, streaming continuously, FFT features)",
        window_s / w
    );

    let a = window_seconds(Fidelity::Features, n, batch_feat, reps);
    println!(
        "analytic windows:         {:>12.2} M windows/s per core ({:.2} M axis-windows/s; {:.2} µs per 3-axis window)",
        1.0 / a / 1e6,
        3.0 / a / 1e6,
        a * 1e6
    );

    let path = args
        .scenario
        .unwrap_or_else(|| PathBuf::from("scenarios/line50.ron"));
    let (mut scenario, _) = super::scenario::load(&path)?;
    scenario.duration = fabtwin_sim::time::SimDuration::parse(&args.duration)
        .map_err(|e| BadInput(format!("--duration: {e}")))?;
    scenario.expect.clear();
    let machines = scenario.machines.len();
    let topics = Topics::default();
    let start = Instant::now();
    let mut world = World::new(scenario, Fidelity::Features);
    let (mut messages, mut bytes) = (0u64, 0u64);
    while let Some(step) = world.step() {
        for m in &step.telemetry {
            let msg = json::telemetry(world.scenario(), &topics, m);
            messages += 1;
            bytes += msg.payload.len() as u64;
        }
        for r in &step.truth {
            bytes += json::truth(world.scenario(), r).len() as u64;
        }
    }
    let wall = start.elapsed().as_secs_f64();
    println!(
        "long run:                 {:>12.2} s wall for {} of {} ({machines} machines, features fidelity, JSON encoded: {messages} messages, {:.1} MB)",
        wall,
        args.duration,
        path.display(),
        bytes as f64 / 1e6
    );
    Ok(ExitCode::SUCCESS)
}
