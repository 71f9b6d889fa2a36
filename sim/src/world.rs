//! The world: a scenario brought to life. [`World::step`] advances sim time to
//! the next acquisition or publish instant and returns what happened there.
//! Nothing here waits on I/O or reads a clock.

use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use rand_distr::{Distribution, Exp};

use crate::degradation::DegradationPath;
use crate::device::{Conditions, Fidelity, RawSamples, SensorSim};
use crate::edge::{Level, Limits, Reading, Values, Zone};
use crate::faults::{FaultEvent, Target};
use crate::flow::{JamRecord, Kpi, LineSample, LineSim, StationTotals};
use crate::plant::drive::shaft_hz;
use crate::plant::process::{Process, Stops};
use crate::plant::{FaultMode, MachineKind, MachineState, Severities, Thermal};
use crate::rng::rng_for;
use crate::scenario::{FaultKind, Scenario};
use crate::signal::{MachineSignature, UnitCharacter};
use crate::telemetry::{Status, Telemetry};
use crate::time::{SimDuration, SimTime};
use crate::truth::{Health, ModeTruth, SensorFaultTruth, TruthRecord};

/// Supply voltage for the current model, V (line to line).
const SUPPLY_V: f64 = 400.0;
/// Half the day-to-night swing of a factory hall's air temperature, °C (halls
/// follow the outdoor daily cycle, damped by the building; warmest mid-afternoon).
const AMBIENT_DAILY_SWING_C: f64 = 2.5;

/// One machine's simulation state.
struct MachineSim {
    signature: MachineSignature,
    thermal: Thermal,
    process: Process,
    stops: Stops,
    paths: Vec<DegradationPath>,
    sensors: Vec<SensorSim>,
    rng: ChaCha8Rng,
    pending: Vec<Reading>,
    seq: u64,
    last_acquired: Option<SimTime>,
    status: Status,
    /// Failures in time order, each with its repair.
    breakdowns: Vec<Breakdown>,
    /// When each degradation path was ended by a repair (a replaced bearing, a
    /// rebalanced rotor: the whole machine is overhauled).
    renewed: Vec<Option<SimTime>>,
}

impl MachineSim {
    /// The breakdown `t` belongs to: the one the machine is down in, or the next.
    fn breakdown_at(&self, t: SimTime) -> Option<&Breakdown> {
        self.breakdowns
            .iter()
            .find(|b| b.repaired.is_none_or(|r| t < r))
    }

    /// The degradation paths no repair has ended by `t`.
    fn live_paths(&self, t: SimTime) -> impl Iterator<Item = &DegradationPath> {
        self.paths
            .iter()
            .zip(&self.renewed)
            .filter(move |(_, r)| r.is_none_or(|r| t < r))
            .map(|(p, _)| p)
    }
}

/// A failure: the machine trips at `failed` and stands until `repaired`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Breakdown {
    failed: SimTime,
    /// `None`: never within the horizon (an injected failure stays).
    repaired: Option<SimTime>,
}

/// Median time from a trip to the machine running again, h, and the log-normal
/// spread of it: a replacement bearing or an overhaul fitted within a shift or
/// a few (an assumption; plant repair times depend on spares and staffing).
const REPAIR_MEDIAN_H: f64 = 24.0;
const REPAIR_SIGMA_LN: f64 = 0.5;

/// The failures of a machine and their repairs: a path fails, the machine trips,
/// is repaired after a drawn downtime, and every path that had started by then is
/// ended (the failed part is replaced, the machine is overhauled); paths that
/// start later may fail later. An injected failure is never repaired.
fn breakdowns(
    paths: &[DegradationPath],
    injected: Option<SimTime>,
    rng: &mut ChaCha8Rng,
) -> (Vec<Breakdown>, Vec<Option<SimTime>>) {
    let mut out = Vec::new();
    let mut renewed: Vec<Option<SimTime>> = vec![None; paths.len()];
    let mut after = SimTime::ZERO;
    loop {
        let next = paths
            .iter()
            .zip(&renewed)
            .filter(|(_, r)| r.is_none())
            .filter_map(|(p, _)| p.failure)
            .filter(|f| *f >= after)
            .min();
        let stays = injected.filter(|f| *f >= after && next.is_none_or(|n| *f <= n));
        if let Some(f) = stays {
            out.push(Breakdown {
                failed: f,
                repaired: None,
            });
            break;
        }
        let Some(failed) = next else { break };
        let z: f64 = rng.sample(rand_distr::StandardNormal);
        let hours = REPAIR_MEDIAN_H * (REPAIR_SIGMA_LN * z.clamp(-3.0, 3.0)).exp();
        let repaired = failed.after(SimDuration::from_secs_f64(hours * 3600.0));
        for (p, r) in paths.iter().zip(renewed.iter_mut()) {
            if r.is_none() && p.onset <= repaired {
                *r = Some(repaired);
            }
        }
        out.push(Breakdown {
            failed,
            repaired: Some(repaired),
        });
        after = repaired;
    }
    (out, renewed)
}

/// What one step produced.
#[derive(Debug, Default)]
pub struct Step {
    /// The instant.
    pub t: SimTime,
    /// Messages published at this instant (readings acquired before it), in gateway then device order.
    pub telemetry: Vec<Telemetry>,
    /// Truth of each machine acquired at this instant.
    pub truth: Vec<TruthRecord>,
    /// Samples of every window acquired at this instant, in machine then sensor
    /// order; empty unless [`World::keep_raw_windows`] is on.
    pub raw: Vec<RawWindow>,
    /// Flow lines publishing at this instant, in line order.
    pub flow: Vec<LineSample>,
    /// Jam onsets and clears since the line's previous publish, in line then time order.
    pub flow_truth: Vec<JamEvent>,
}

/// A jam starting or ending on a flow line's conveyor (ground truth).
#[derive(Clone, Debug, PartialEq)]
pub struct JamEvent {
    /// Flow line index.
    pub line: usize,
    /// Conveyor index in the line.
    pub conveyor: usize,
    /// `true` at onset, `false` at clear.
    pub onset: bool,
    /// When it happened.
    pub t: SimTime,
}

/// What a flow line showed over the run so far, for expectations and reports.
#[derive(Clone, Debug, PartialEq)]
pub struct LineSummary {
    /// KPIs.
    pub kpi: Kpi,
    /// Per-station totals.
    pub stations: Vec<StationTotals>,
    /// Seconds each station spent working.
    pub busy_s: Vec<f64>,
    /// Jams with onset, clear and detection.
    pub jams: Vec<JamRecord>,
    /// Times the jam logic flagged a belt with no jam.
    pub false_jam_alarms: u64,
}

struct FlowRun {
    sim: LineSim,
    next_publish: u64,
    jams_reported: usize,
    clears_reported: usize,
}

/// One sensor's acquisition window as sampled (see [`World::keep_raw_windows`]).
#[derive(Clone, Debug, PartialEq)]
pub struct RawWindow {
    /// Machine index in the scenario.
    pub machine: usize,
    /// Sensor index in the machine's sensors.
    pub sensor: usize,
    /// Window start (the instant of the readings and truth it belongs to).
    pub t: SimTime,
    /// The sensor's output data rate, Hz.
    pub odr_hz: f64,
    /// Samples per axis in the sensor's unit (see [`RawSamples`]).
    pub samples: RawSamples,
}

/// Per-machine record of what the run showed, for expectations and reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MachineSummary {
    /// First onset of any fault mode or injected fault.
    pub first_onset: Option<SimTime>,
    /// First time the device reported warning or worse.
    pub first_warning: Option<SimTime>,
    /// First time the device reported alarm.
    pub first_alarm: Option<SimTime>,
    /// Failure time, if within the run.
    pub failed_at: Option<SimTime>,
    /// Telemetry messages sent.
    pub messages: u64,
    /// Readings sent.
    pub readings: u64,
    /// Whether the machine had any degradation or injected fault.
    pub faulted: bool,
}

/// A running simulation.
pub struct World {
    scenario: Scenario,
    fidelity: Fidelity,
    machines: Vec<MachineSim>,
    faults: Vec<FaultEvent>,
    next_acquisition: u64,
    next_publish: Vec<u64>,
    now: SimTime,
    summary: Vec<MachineSummary>,
    done: bool,
    keep_raw: bool,
    flow: Vec<FlowRun>,
}

impl World {
    /// Builds the world of `scenario`: every random quantity is drawn here or later
    /// from the owning entity's stream.
    pub fn new(scenario: Scenario, fidelity: Fidelity) -> World {
        let seed = scenario.seed;
        let end = SimTime(scenario.duration.0);
        // Paths are sampled ahead past the end so RUL is known for right-censored runs.
        let horizon = end.after(SimDuration(
            scenario
                .duration
                .0
                .saturating_mul(3)
                .max(30 * 86_400 * 1_000_000_000),
        ));
        let step = SimDuration(scenario.acquisition_interval.0.max(horizon.0 / 200_000));
        let mut faults = scenario.faults.clone();
        for (r, rule) in scenario.random_faults.iter().enumerate() {
            for &m in &rule.machines {
                let machine = &scenario.machines[m];
                let target = match &rule.kind {
                    FaultKind::Machine(mode, severity) => Target::Machine {
                        mode: *mode,
                        severity: *severity,
                    },
                    FaultKind::Sensor(fault) => {
                        let Some(s) = rule
                            .sensor
                            .as_ref()
                            .and_then(|id| machine.sensors.iter().position(|x| &x.id == id))
                        else {
                            continue; // this machine has no such sensor
                        };
                        Target::Sensor {
                            sensor: s,
                            fault: fault.clone(),
                        }
                    }
                };
                let mut rng = rng_for(seed, &format!("random/{r}/{}", machine.id));
                let exp = Exp::new(1.0 / rule.mtbf.as_secs_f64().max(1e-9)).ok();
                let mut t = 0.0f64;
                while let Some(e) = &exp {
                    t += e.sample(&mut rng);
                    let start = SimDuration::from_secs_f64(t);
                    if start.0 >= end.0 {
                        break;
                    }
                    let start = SimTime(start.0);
                    faults.push(FaultEvent {
                        machine: m,
                        target: target.clone(),
                        start,
                        end: Some(start.after(rule.duration)),
                        origin: "random",
                    });
                }
            }
        }
        let mut summary = vec![MachineSummary::default(); scenario.machines.len()];
        let machines = scenario
            .machines
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut rng = rng_for(seed, &m.id);
                let phases = std::array::from_fn(|_| rng.random_range(0.0..std::f64::consts::TAU));
                let unit = UnitCharacter::draw(&mut rng);
                // Cooling differs unit to unit too (fan, fins, dirt): ±10 % on the rise.
                let z: f64 = rng.sample(rand_distr::StandardNormal);
                let rise_c = m.physics.rise_full_load_c * (1.0 + 0.1 * z.clamp(-3.0, 3.0));
                let paths: Vec<DegradationPath> = scenario
                    .degradation
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.machine == i)
                    .map(|(k, d)| {
                        DegradationPath::sample(
                            d,
                            step,
                            horizon,
                            &mut rng_for(seed, &format!("{}/degradation/{k}", m.id)),
                        )
                    })
                    .collect();
                let injected_failure = faults
                    .iter()
                    .filter(|f| f.machine == i)
                    .filter(|f| {
                        matches!(f.target, Target::Machine { severity, .. }
                            if severity >= crate::degradation::FAILURE_THRESHOLD)
                    })
                    .map(|f| f.start)
                    .min();
                let (breakdowns, renewed) = breakdowns(&paths, injected_failure, &mut rng);
                let failure_at = breakdowns.first().map(|b| b.failed);
                let onsets = paths
                    .iter()
                    .map(|p| p.onset)
                    .chain(faults.iter().filter(|f| f.machine == i).map(|f| f.start));
                summary[i].first_onset = onsets.min().filter(|t| *t < end);
                summary[i].faulted = !paths.is_empty() || faults.iter().any(|f| f.machine == i);
                summary[i].failed_at = failure_at.filter(|t| *t < end);
                let sensors = m
                    .sensors
                    .iter()
                    .map(|s| {
                        SensorSim::new(s.clone(), rng_for(seed, &format!("{}/{}", m.id, s.id)))
                    })
                    .collect();
                MachineSim {
                    signature: MachineSignature {
                        kind: m.kind,
                        defaults: m.physics,
                        bearing: m.bearing,
                        phases,
                        unit,
                        supply_hz: m.supply_hz,
                    },
                    thermal: Thermal {
                        temperature_c: scenario.ambient.celsius
                            + rise_c * m.load.at(SimTime::ZERO).powi(2),
                        rise_full_load_c: rise_c,
                        tau_s: m.physics.thermal_tau_s,
                    },
                    process: Process::new(rng_for(seed, &format!("{}/process", m.id))),
                    stops: Stops::new(rng_for(seed, &format!("{}/stops", m.id))),
                    paths,
                    sensors,
                    rng,
                    pending: Vec::new(),
                    seq: 0,
                    last_acquired: None,
                    status: Status::default(),
                    breakdowns,
                    renewed,
                }
            })
            .collect();
        let next_publish = vec![1; scenario.gateways.len()];
        let flow = scenario
            .flow
            .iter()
            .map(|l| FlowRun {
                sim: LineSim::new(l.clone(), seed),
                next_publish: 1,
                jams_reported: 0,
                clears_reported: 0,
            })
            .collect();
        World {
            flow,
            scenario,
            fidelity,
            machines,
            faults,
            next_acquisition: 0,
            next_publish,
            now: SimTime::ZERO,
            summary,
            done: false,
            keep_raw: false,
        }
    }

    /// Makes every later [`Step`] carry the samples of the windows acquired at
    /// its instant ([`Step::raw`]). Only [`Fidelity::Raw`] synthesises every
    /// window, so in [`Fidelity::Features`] this does nothing and returns false.
    /// Keeping samples draws nothing random: readings and truth are the same
    /// with it on or off.
    pub fn keep_raw_windows(&mut self, keep: bool) -> bool {
        self.keep_raw = keep && self.fidelity == Fidelity::Raw;
        let on = self.keep_raw;
        for sensor in self.machines.iter_mut().flat_map(|m| &mut m.sensors) {
            sensor.keep_raw(on);
        }
        on
    }

    /// The scenario being run.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Current sim time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The fidelity in use.
    pub fn fidelity(&self) -> Fidelity {
        self.fidelity
    }

    /// Every fault event known to the world (scheduled, random, injected).
    pub fn faults(&self) -> &[FaultEvent] {
        &self.faults
    }

    /// Injects a fault at runtime (from a command); it takes effect from the next acquisition.
    pub fn inject(&mut self, fault: FaultEvent) {
        let m = fault.machine;
        if let Some(s) = self.summary.get_mut(m) {
            s.faulted = true;
            s.first_onset = Some(s.first_onset.map_or(fault.start, |x| x.min(fault.start)));
        }
        self.faults.push(fault);
    }

    /// Ends, at `t`, every fault on `machine` that came from a command; returns how many.
    pub fn clear_commanded(&mut self, machine: usize, t: SimTime) -> usize {
        let mut n = 0;
        for f in self
            .faults
            .iter_mut()
            .filter(|f| f.machine == machine && f.origin == "command" && f.active(t))
        {
            f.end = Some(t);
            n += 1;
        }
        n
    }

    /// Per-machine summary so far.
    pub fn summary(&self) -> &[MachineSummary] {
        &self.summary
    }

    /// The instant of the next step, or `None` when the run is over.
    pub fn next_instant(&self) -> Option<SimTime> {
        if self.done {
            return None;
        }
        let end = self.scenario.duration.0;
        let acq = self
            .scenario
            .acquisition_interval
            .0
            .saturating_mul(self.next_acquisition);
        let acq = (acq < end).then_some(acq);
        let publish = self
            .scenario
            .gateways
            .iter()
            .zip(&self.next_publish)
            .map(|(g, &k)| g.publish_interval.0.saturating_mul(k).min(end))
            .min();
        let flow = self
            .scenario
            .flow
            .iter()
            .zip(&self.flow)
            .map(|(l, f)| l.publish_interval.0.saturating_mul(f.next_publish).min(end))
            .min();
        [acq, publish, flow]
            .into_iter()
            .flatten()
            .min()
            .map(SimTime)
    }

    /// What each flow line showed so far, in line order.
    pub fn flow_summary(&self) -> Vec<LineSummary> {
        self.flow
            .iter()
            .map(|f| LineSummary {
                kpi: f.sim.kpi(),
                stations: f.sim.station_totals(),
                busy_s: f.sim.station_busy_seconds(),
                jams: f.sim.jams().to_vec(),
                false_jam_alarms: f.sim.false_jam_alarms(),
            })
            .collect()
    }

    fn step_flow(&mut self, t: SimTime, out: &mut Step) {
        let end = self.scenario.duration.0;
        for (i, f) in self.flow.iter_mut().enumerate() {
            let interval = self.scenario.flow[i].publish_interval.0;
            if interval.saturating_mul(f.next_publish).min(end) != t.0 {
                continue;
            }
            f.next_publish += 1;
            f.sim.advance_to(t);
            let mut events = Vec::new();
            let jams = f.sim.jams();
            for j in &jams[f.jams_reported..] {
                events.push(JamEvent {
                    line: i,
                    conveyor: j.conveyor,
                    onset: true,
                    t: j.onset,
                });
            }
            f.jams_reported = jams.len();
            while let Some(j) = jams.get(f.clears_reported)
                && let Some(c) = j.clear
            {
                events.push(JamEvent {
                    line: i,
                    conveyor: j.conveyor,
                    onset: false,
                    t: c,
                });
                f.clears_reported += 1;
            }
            events.sort_by_key(|e| (e.t, !e.onset, e.conveyor));
            out.flow_truth.extend(events);
            out.flow.push(f.sim.sample(i));
        }
    }

    /// Advances to the next instant and returns what happened there, or `None`
    /// once the run has ended (after the final publish at the end instant).
    pub fn step(&mut self) -> Option<Step> {
        let t = self.next_instant()?;
        self.now = t;
        let mut out = Step {
            t,
            ..Step::default()
        };
        let end = self.scenario.duration.0;
        for g in 0..self.scenario.gateways.len() {
            let interval = self.scenario.gateways[g].publish_interval.0;
            let due = interval.saturating_mul(self.next_publish[g]).min(end);
            if due != t.0 {
                continue;
            }
            self.next_publish[g] += 1;
            for &m in &self.scenario.gateways[g].machines.clone() {
                let sim = &mut self.machines[m];
                if sim.pending.is_empty() {
                    continue;
                }
                let readings = std::mem::take(&mut sim.pending);
                self.summary[m].messages += 1;
                self.summary[m].readings += readings.len() as u64;
                out.telemetry.push(Telemetry {
                    gateway: g,
                    machine: m,
                    seq: sim.seq,
                    t,
                    readings,
                    status: sim.status.clone(),
                });
                sim.seq += 1;
            }
        }
        // Acquire after publishing: a window that starts now is sent at a later publish.
        let acq_t = self
            .scenario
            .acquisition_interval
            .0
            .saturating_mul(self.next_acquisition);
        self.step_flow(t, &mut out);
        if acq_t == t.0 && acq_t < self.scenario.duration.0 {
            for m in 0..self.machines.len() {
                out.truth.push(self.acquire(m, t));
                if self.keep_raw {
                    for (s, sensor) in self.machines[m].sensors.iter_mut().enumerate() {
                        out.raw.push(RawWindow {
                            machine: m,
                            sensor: s,
                            t,
                            odr_hz: sensor.config.odr_hz,
                            samples: sensor.take_raw().unwrap_or_default(),
                        });
                    }
                }
            }
            self.next_acquisition += 1;
        }
        if t.0 >= end {
            self.done = true;
        }
        Some(out)
    }

    /// Air temperature of the hall at `t`: the scenario's ambient plus a daily
    /// cycle, warmest at 15:00 local (UTC here) time.
    fn ambient_at(&self, t: SimTime) -> f64 {
        let day_ns = 86_400_000_000_000i128;
        let tod = self.scenario.start.unix_nanos(t).rem_euclid(day_ns) as f64 / 3.6e12;
        self.scenario.ambient.celsius
            + AMBIENT_DAILY_SWING_C * (std::f64::consts::TAU * (tod - 9.0) / 24.0).sin()
    }

    fn state(&mut self, m: usize, t: SimTime) -> MachineState {
        let ambient_c = self.ambient_at(t);
        let spec = &self.scenario.machines[m];
        let sim = &mut self.machines[m];
        let mut severity: Severities = [0.0; FaultMode::ALL.len()];
        // Sensors see the damage as it shows (smoothing dips), truth records the damage.
        for p in sim.live_paths(t) {
            severity[p.mode.index()] += p.expression_at(t);
        }
        for f in self.faults.iter().filter(|f| f.machine == m && f.active(t)) {
            if let Target::Machine { mode, severity: s } = f.target {
                severity[mode.index()] = severity[mode.index()].max(s);
            }
        }
        let dt = sim.last_acquired.map_or(0.0, |l| t.since(l).as_secs_f64());
        let flow_driven = matches!(
            spec.kind,
            MachineKind::Pump | MachineKind::Fan | MachineKind::Compressor
        );
        sim.process.step(dt, if flow_driven { 0.25 } else { 0.12 });
        let planned = spec.load.at(t);
        // A failed machine has tripped (or was stopped by its operators): it stands
        // still until repaired, and its sensors show a machine at rest.
        let tripped = sim.breakdown_at(t).is_some_and(|b| b.failed <= t);
        // Healthy machines stop too (starvation, changeovers): a stopped machine
        // is no evidence of a failed one.
        let stopped = sim.stops.stopped_at(t);
        let running = planned > 0.0 && !tripped && !stopped;
        let load = if running {
            (planned + sim.process.load).clamp(0.02, 1.2)
        } else {
            0.0
        };
        let shaft_hz = if running {
            shaft_hz(spec.rated_speed_rpm, spec.supply_hz, load)
        } else {
            0.0
        };
        let temperature_c = sim.thermal.step(
            dt,
            ambient_c,
            load,
            if running {
                severity[FaultMode::Overheating.index()]
            } else {
                0.0
            },
        );
        sim.last_acquired = Some(t);
        // Induction motor: no-load current ~35 % of rated; bearing friction adds a little.
        let rated_a = spec.rated_power_kw * 1e3 / (3f64.sqrt() * SUPPLY_V * 0.85 * 0.9);
        let friction = 1.0
            + 0.05
                * (severity[FaultMode::BearingOuter.index()]
                    + severity[FaultMode::BearingInner.index()]);
        let current_a = if running {
            rated_a * (0.35 + 0.65 * load) * friction
        } else {
            0.0
        };
        MachineState {
            shaft_hz,
            load,
            temperature_c,
            ambient_c,
            current_a,
            severity,
            running,
            slip: sim.process.slip,
            process: sim.process.ln_broadband.exp(),
        }
    }

    fn acquire(&mut self, m: usize, t: SimTime) -> TruthRecord {
        let state = self.state(m, t);
        let model = self.machines[m].signature.model(&state);
        let limits = self.scenario.machines[m].limits;
        let ambient = crate::scenario::Ambient {
            celsius: state.ambient_c,
            ..self.scenario.ambient
        };
        let window_samples = self.scenario.window_samples;
        let fidelity = self.fidelity;
        let sensor_faults: Vec<Option<(crate::faults::SensorFault, SimTime)>> =
            (0..self.machines[m].sensors.len())
                .map(|s| {
                    self.faults
                        .iter()
                        .filter(|f| f.machine == m && f.active(t))
                        .find_map(|f| match &f.target {
                            Target::Sensor { sensor, fault } if *sensor == s => {
                                Some((fault.clone(), f.start))
                            }
                            _ => None,
                        })
                })
                .collect();
        let sim = &mut self.machines[m];
        let mut readings = Vec::with_capacity(sim.sensors.len());
        for (s, sensor) in sim.sensors.iter_mut().enumerate() {
            let fault = sensor_faults[s].as_ref().map(|(f, start)| (f, *start));
            let c = Conditions {
                state: &state,
                model: &model,
                ambient,
                t,
                window_samples,
                fault,
            };
            let mut values = sensor.acquire(&c, fidelity);
            if let Values::Vibration {
                vel_rms_mm_s, zone, ..
            } = &mut values
            {
                *zone = limits.zones.zone(*vel_rms_mm_s);
            }
            readings.push(Reading {
                sensor: sensor.config.id.clone(),
                part: sensor.config.part,
                t,
                values,
            });
        }
        sim.status = status(&limits, &readings);
        let summary = &mut self.summary[m];
        if sim.status.level >= Level::Warning && summary.first_warning.is_none() {
            summary.first_warning = Some(t);
        }
        if sim.status.level >= Level::Alarm && summary.first_alarm.is_none() {
            summary.first_alarm = Some(t);
        }
        sim.pending.extend(readings);
        let _ = &mut sim.rng;
        self.truth(m, t, &state)
    }

    fn truth(&self, m: usize, t: SimTime, state: &MachineState) -> TruthRecord {
        let sim = &self.machines[m];
        let mut modes: Vec<ModeTruth> = Vec::new();
        for p in sim.live_paths(t).filter(|p| p.active(t)) {
            modes.push(ModeTruth {
                mode: p.mode,
                severity: p.severity_at(t),
                onset: p.onset,
                origin: "degradation",
            });
        }
        let mut sensor_faults = Vec::new();
        for f in self.faults.iter().filter(|f| f.machine == m && f.active(t)) {
            match &f.target {
                Target::Machine { mode, severity } => {
                    if let Some(existing) = modes.iter_mut().find(|x| x.mode == *mode) {
                        existing.severity = existing.severity.max(*severity);
                    } else {
                        modes.push(ModeTruth {
                            mode: *mode,
                            severity: *severity,
                            onset: f.start,
                            origin: f.origin,
                        });
                    }
                }
                Target::Sensor { sensor, fault } => sensor_faults.push(SensorFaultTruth {
                    sensor: self.scenario.machines[m].sensors[*sensor].id.clone(),
                    fault: fault.name(),
                    onset: f.start,
                    origin: f.origin,
                }),
            }
        }
        modes.sort_by_key(|x| x.mode);
        let failure_at = sim.breakdown_at(t).map(|b| b.failed);
        let repaired_at = sim
            .breakdowns
            .iter()
            .filter_map(|b| b.repaired)
            .filter(|r| *r <= t)
            .max();
        let failed = failure_at.is_some_and(|f| f <= t)
            || modes
                .iter()
                .any(|x| x.severity >= crate::degradation::FAILURE_THRESHOLD);
        let health = if failed {
            Health::Failed
        } else if modes.is_empty() {
            Health::Healthy
        } else {
            Health::Degrading
        };
        let end = SimTime(self.scenario.duration.0);
        TruthRecord {
            machine: m,
            t,
            health,
            modes,
            sensor_faults,
            failure_at,
            rul_s: failure_at.map(|f| f.0.saturating_sub(t.0) as f64 / 1e9),
            censored: failure_at.is_none_or(|f| f >= end),
            repaired_at,
            load: state.load,
            speed_rpm: state.shaft_hz * 60.0,
            temperature_c: state.temperature_c,
            current_a: state.current_a,
        }
    }
}

/// The device's edge verdict from its newest readings.
fn status(limits: &Limits, readings: &[Reading]) -> Status {
    let mut st = Status::default();
    let raise = |level: Level, why: &'static str, st: &mut Status| {
        if level >= Level::Warning && !st.reasons.contains(&why) {
            st.reasons.push(why);
        }
        st.level = st.level.max(level);
    };
    for r in readings {
        match &r.values {
            Values::Vibration { axes, zone, .. } => {
                st.zone = Some(st.zone.map_or(*zone, |z: Zone| z.max(*zone)));
                raise(Limits::level_of_zone(*zone), "velocity", &mut st);
                let k = axes.iter().map(|a| a.features.kurtosis).fold(0.0, f64::max);
                raise(limits.level_of_kurtosis(k), "kurtosis", &mut st);
            }
            Values::Temperature { celsius } => raise(
                limits.level_of_temperature(*celsius),
                "temperature",
                &mut st,
            ),
            _ => {}
        }
    }
    st
}
