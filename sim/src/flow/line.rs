//! One line's material flow: parts are rapier3d rigid bodies on belt
//! conveyors; sources, stations, buffers and sinks act on them at fixed
//! points of every tick, so a seed gives the same trajectory everywhere.
//!
//! Physics frame: each conveyor lies on its own lane (`z` = lane × 3 m), its
//! belt running along +x from 0 to its length, top surface at y = 0. A belt is
//! a fixed collider whose contacts get a tangent velocity (the belt speed) in
//! a [`PhysicsHooks`]; a fixed end stop holds parts until the next element
//! takes them. Floor coordinates for drawing come from [`Conveyor::floor_point`].
//!
//! Tick order (fixed): faults, belt speeds, physics step, stations finish and
//! put parts down, conveyor ends hand parts on, sources release, sensors and
//! counters.

use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use rapier3d::prelude::*;

use super::model::{FlowFaultKind, Line, Node};
use crate::rng::rng_for;
use crate::time::{SimDuration, SimTime};

/// Length of one tick (the rapier step), 20 ms.
pub const TICK: SimDuration = SimDuration(20_000_000);
const DT: f32 = 0.02;
/// Lateral distance between conveyor lanes in the physics world, m.
const LANE_M: f32 = 3.0;
/// Friction between parts and belts.
const MU: f64 = 0.8;
/// Rolling resistance of a part carried by the belt, as a fraction of its weight.
const CARRY_RESISTANCE: f64 = 0.03;
const G: f64 = 9.81;
/// Supply voltage and power factor × efficiency of the belt motors.
const SUPPLY_V: f64 = 400.0;
const PF_EFF: f64 = 0.85 * 0.85;
/// Gearbox and belt efficiency.
const DRIVE_EFF: f64 = 0.8;
/// Relative speed above which a part slides on its belt (held or spinning up), m/s.
const SLIDING_M_S: f64 = 0.05;

const KIND_BELT: u128 = 1;
const KIND_PART: u128 = 2;

fn tag(kind: u128, idx: usize) -> u128 {
    kind | (idx as u128) << 8
}

/// State of a station.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StationState {
    /// Working on a part.
    Running,
    /// Idle, waiting for a part.
    Starved,
    /// Done, waiting for room on its output belt.
    Blocked,
    /// Under a fault (a slowdown).
    Faulted,
}

impl StationState {
    /// Snake-case name.
    pub fn name(self) -> &'static str {
        match self {
            StationState::Running => "running",
            StationState::Starved => "starved",
            StationState::Blocked => "blocked",
            StationState::Faulted => "faulted",
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

/// State of a conveyor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConveyorState {
    /// Moving at its speed.
    Running,
    /// Held parts against an obstacle (a jam is active).
    Jammed,
    /// Delivering less than its speed.
    Slipping,
    /// Not moving.
    Stopped,
}

impl ConveyorState {
    /// Snake-case name.
    pub fn name(self) -> &'static str {
        match self {
            ConveyorState::Running => "running",
            ConveyorState::Jammed => "jammed",
            ConveyorState::Slipping => "slipping",
            ConveyorState::Stopped => "stopped",
        }
    }
}

/// One conveyor as its sensors see it.
#[derive(Clone, Debug, PartialEq)]
pub struct ConveyorSample {
    /// Conveyor index.
    pub conveyor: usize,
    /// Belt speed, m/s.
    pub speed_m_s: f32,
    /// Motor current, A.
    pub current_a: f32,
    /// Drive vibration, mm/s RMS.
    pub vib_rms_mm_s: f32,
    /// Exit photo-eye: a part is at the belt's end.
    pub photo_eye: bool,
    /// Parts on the belt.
    pub parts: u32,
    /// Parts that left the belt's end so far.
    pub exits: u64,
    /// State.
    pub state: ConveyorState,
    /// The line's jam logic flags this belt.
    pub jam_detected: bool,
}

/// One station as its controller reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct StationSample {
    /// Station index.
    pub station: usize,
    /// State.
    pub state: StationState,
    /// Parts completed so far.
    pub completed: u64,
    /// Share of elapsed time spent working (0 … 1).
    pub utilisation: f32,
}

/// Key performance indicators of a line so far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Kpi {
    /// Good parts delivered per hour of elapsed time.
    pub throughput_per_h: f64,
    /// Parts in the line now.
    pub wip: u32,
    /// Mean parts in the line.
    pub wip_mean: f64,
    /// Most parts in the line at once.
    pub wip_max: u32,
    /// Availability: share of time without an active jam.
    pub availability: f64,
    /// Performance: parts made against the ideal rate over the available time (≤ 1).
    pub performance: f64,
    /// Quality: good parts over all finished or scrapped parts.
    pub quality: f64,
    /// availability × performance × quality.
    pub oee: f64,
    /// Parts delivered to sinks.
    pub delivered: u64,
    /// Parts dropped (scrap).
    pub scrapped: u64,
    /// Parts released by sources.
    pub released: u64,
}

/// What a line's sensors and controllers report at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct LineSample {
    /// Line index in the scenario.
    pub line: usize,
    /// Message sequence number.
    pub seq: u64,
    /// The instant.
    pub t: SimTime,
    /// Conveyors, in layout order.
    pub conveyors: Vec<ConveyorSample>,
    /// Stations, in layout order.
    pub stations: Vec<StationSample>,
    /// KPIs so far.
    pub kpi: Kpi,
    /// Part positions in the floor frame (x, height, floor y), m; at most [`MAX_DRAWN_PARTS`].
    pub parts: Vec<[f32; 3]>,
}

/// Most part positions carried by one sample.
pub const MAX_DRAWN_PARTS: usize = 2000;

/// A jam as it happened (truth) and as the line noticed it.
#[derive(Clone, Debug, PartialEq)]
pub struct JamRecord {
    /// Conveyor index.
    pub conveyor: usize,
    /// Onset.
    pub onset: SimTime,
    /// Clear, if within the run.
    pub clear: Option<SimTime>,
    /// First time the line's jam logic flagged the conveyor during the jam.
    pub detected: Option<SimTime>,
}

/// Per-station totals.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StationTotals {
    /// Parts completed.
    pub completed: u64,
    /// Seconds in each state: running, starved, blocked, faulted.
    pub seconds: [f64; 4],
}

impl StationTotals {
    /// Share of elapsed time working (running or faulted with a part).
    pub fn utilisation(&self, busy_s: f64) -> f64 {
        let total: f64 = self.seconds.iter().sum();
        if total > 0.0 { busy_s / total } else { 0.0 }
    }
}

struct PartBody {
    handle: RigidBodyHandle,
    entered: u64,
    falling_since: Option<u64>,
}

struct ConvSim {
    parts: Vec<PartBody>,
    gate: Option<ColliderHandle>,
    slip: f64,
    pending_drop: bool,
    exits: u64,
    last_exit_event: u64,
    eye: bool,
    jam_detected: bool,
    current_a: f64,
    vib: f64,
    jammed: bool,
}

enum Work {
    Idle,
    Busy(u64),
    Done,
}

struct StationSim {
    work: Work,
    rng: ChaCha8Rng,
    slow: f64,
    busy_ticks: u64,
    state_ticks: [u64; 4],
    completed: u64,
    state: StationState,
}

/// A line being simulated.
pub struct LineSim {
    line: Line,
    tick: u64,
    params: IntegrationParameters,
    pipeline: PhysicsPipeline,
    islands: IslandManager,
    broad_phase: BroadPhaseBvh,
    narrow_phase: NarrowPhase,
    bodies: RigidBodySet,
    colliders: ColliderSet,
    impulse_joints: ImpulseJointSet,
    multibody_joints: MultibodyJointSet,
    soft_bodies: SoftBodySet,
    ccd: CCDSolver,
    belt_vel: Vec<f32>,
    convs: Vec<ConvSim>,
    stations: Vec<StationSim>,
    buffers: Vec<u32>,
    next_release: Vec<u64>,
    fault_on: Vec<bool>,
    jams: Vec<JamRecord>,
    open_jam: Vec<Option<usize>>,
    released: u64,
    delivered: u64,
    scrapped: u64,
    jam_ticks: u64,
    wip_sum: f64,
    wip_max: u32,
    seq: u64,
    false_jam_alarms: u64,
}

struct BeltHooks<'a> {
    vel: &'a [f32],
}

impl PhysicsHooks for BeltHooks<'_> {
    fn modify_solver_contacts(&self, ctx: &mut ContactModificationContext) {
        let u1 = ctx.colliders[ctx.collider1].user_data;
        let u2 = ctx.colliders[ctx.collider2].user_data;
        // tangent_velocity is collider2's wanted velocity relative to collider1.
        let v = if u1 & 0xff == KIND_BELT {
            self.vel[(u1 >> 8) as usize]
        } else if u2 & 0xff == KIND_BELT {
            -self.vel[(u2 >> 8) as usize]
        } else {
            return;
        };
        if let Some(m) = ctx.rigid_mut() {
            for c in m.solver_contacts.iter_mut() {
                c.tangent_velocity = Vector::new(v, 0.0, 0.0);
            }
        }
    }
}

impl LineSim {
    /// Builds line `index` of a scenario with `seed`; nothing moves yet.
    pub fn new(line: Line, seed: u64) -> LineSim {
        let mut colliders = ColliderSet::new();
        let half = (line.part_size_m / 2.0) as f32;
        let half_width = half + 0.1;
        for (i, c) in line.conveyors.iter().enumerate() {
            let len = c.length_m as f32;
            let z = i as f32 * LANE_M;
            colliders.insert(
                ColliderBuilder::cuboid(len / 2.0 + 0.3, 0.05, half_width)
                    .translation(Vector::new(len / 2.0, -0.05, z))
                    .friction(MU as f32)
                    .user_data(tag(KIND_BELT, i))
                    .active_hooks(ActiveHooks::MODIFY_SOLVER_CONTACTS),
            );
            colliders.insert(
                ColliderBuilder::cuboid(0.05, half * 2.0, half_width + 0.05)
                    .translation(Vector::new(len + 0.05, half, z))
                    .friction(0.2),
            );
        }
        let stations = line
            .stations
            .iter()
            .map(|s| StationSim {
                work: Work::Idle,
                rng: rng_for(seed, &format!("flow/{}/{}", line.id, s.id)),
                slow: 1.0,
                busy_ticks: 0,
                state_ticks: [0; 4],
                completed: 0,
                state: StationState::Starved,
            })
            .collect();
        let convs = line
            .conveyors
            .iter()
            .map(|_| ConvSim {
                parts: Vec::new(),
                gate: None,
                slip: 1.0,
                pending_drop: false,
                exits: 0,
                last_exit_event: 0,
                eye: false,
                jam_detected: false,
                current_a: 0.0,
                vib: 0.0,
                jammed: false,
            })
            .collect();
        LineSim {
            belt_vel: vec![0.0; line.conveyors.len()],
            convs,
            stations,
            buffers: vec![0; line.buffers.len()],
            next_release: vec![0; line.sources.len()],
            fault_on: vec![false; line.faults.len()],
            open_jam: vec![None; line.conveyors.len()],
            jams: Vec::new(),
            tick: 0,
            params: IntegrationParameters {
                dt: DT,
                ..Default::default()
            },
            pipeline: PhysicsPipeline::new(),
            islands: IslandManager::new(),
            broad_phase: BroadPhaseBvh::new(),
            narrow_phase: NarrowPhase::new(),
            bodies: RigidBodySet::new(),
            colliders,
            impulse_joints: ImpulseJointSet::new(),
            multibody_joints: MultibodyJointSet::new(),
            soft_bodies: SoftBodySet::new(),
            ccd: CCDSolver::new(),
            line,
            released: 0,
            delivered: 0,
            scrapped: 0,
            jam_ticks: 0,
            wip_sum: 0.0,
            wip_max: 0,
            seq: 0,
            false_jam_alarms: 0,
        }
    }

    /// The layout.
    pub fn line(&self) -> &Line {
        &self.line
    }

    /// Sim time reached.
    pub fn now(&self) -> SimTime {
        SimTime(TICK.0 * self.tick)
    }

    /// Runs ticks until sim time reaches `t` (the last tick ending at or before it).
    pub fn advance_to(&mut self, t: SimTime) {
        while TICK.0 * (self.tick + 1) <= t.0 {
            self.step();
        }
    }

    /// Jams so far.
    pub fn jams(&self) -> &[JamRecord] {
        &self.jams
    }

    /// Times the jam logic flagged a belt with no jam active.
    pub fn false_jam_alarms(&self) -> u64 {
        self.false_jam_alarms
    }

    /// Per-station totals so far.
    pub fn station_totals(&self) -> Vec<StationTotals> {
        let dt = TICK.as_secs_f64();
        self.stations
            .iter()
            .map(|s| StationTotals {
                completed: s.completed,
                seconds: s.state_ticks.map(|k| k as f64 * dt),
            })
            .collect()
    }

    /// Seconds each station spent working (running, or faulted with a part).
    pub fn station_busy_seconds(&self) -> Vec<f64> {
        self.stations
            .iter()
            .map(|s| s.busy_ticks as f64 * TICK.as_secs_f64())
            .collect()
    }

    fn wip(&self) -> u32 {
        let on_belts: usize = self.convs.iter().map(|c| c.parts.len()).sum();
        let in_stations = self
            .stations
            .iter()
            .filter(|s| !matches!(s.work, Work::Idle))
            .count();
        (on_belts + in_stations) as u32 + self.buffers.iter().sum::<u32>()
    }

    /// KPIs so far.
    pub fn kpi(&self) -> Kpi {
        let elapsed = self.tick as f64 * TICK.as_secs_f64();
        let up = (self.tick - self.jam_ticks) as f64 * TICK.as_secs_f64();
        let availability = if self.tick > 0 { up / elapsed } else { 1.0 };
        let ideal = self.line.ideal_rate() * up;
        let finished = self.delivered + self.scrapped;
        let performance = if ideal > 0.0 {
            (finished as f64 / ideal).min(1.0)
        } else {
            0.0
        };
        let quality = if finished > 0 {
            self.delivered as f64 / finished as f64
        } else {
            1.0
        };
        Kpi {
            throughput_per_h: if elapsed > 0.0 {
                self.delivered as f64 * 3600.0 / elapsed
            } else {
                0.0
            },
            wip: self.wip(),
            wip_mean: if self.tick > 0 {
                self.wip_sum / self.tick as f64
            } else {
                0.0
            },
            wip_max: self.wip_max,
            availability,
            performance,
            quality,
            oee: availability * performance * quality,
            delivered: self.delivered,
            scrapped: self.scrapped,
            released: self.released,
        }
    }

    /// What the line reports now, as message `seq` of line `index`.
    pub fn sample(&mut self, index: usize) -> LineSample {
        let elapsed = self.tick as f64;
        let conveyors = self
            .convs
            .iter()
            .enumerate()
            .map(|(i, c)| ConveyorSample {
                conveyor: i,
                speed_m_s: self.belt_vel[i],
                current_a: c.current_a as f32,
                vib_rms_mm_s: c.vib as f32,
                photo_eye: c.eye,
                parts: c.parts.len() as u32,
                exits: c.exits,
                state: self.conveyor_state(i),
                jam_detected: c.jam_detected,
            })
            .collect();
        let stations = self
            .stations
            .iter()
            .enumerate()
            .map(|(i, s)| StationSample {
                station: i,
                state: s.state,
                completed: s.completed,
                utilisation: if elapsed > 0.0 {
                    (s.busy_ticks as f64 / elapsed) as f32
                } else {
                    0.0
                },
            })
            .collect();
        let mut parts = Vec::new();
        'outer: for (i, c) in self.convs.iter().enumerate() {
            let conv = &self.line.conveyors[i];
            let z0 = i as f32 * LANE_M;
            for p in &c.parts {
                if parts.len() >= MAX_DRAWN_PARTS {
                    break 'outer;
                }
                let tr = self.bodies[p.handle].translation();
                let (x, y) = conv.floor_point(tr.x as f64, -(tr.z - z0) as f64);
                parts.push([x as f32, (self.line.belt_height_m as f32 + tr.y), y as f32]);
            }
        }
        for (i, s) in self.stations.iter().enumerate() {
            if !matches!(s.work, Work::Idle) && parts.len() < MAX_DRAWN_PARTS {
                let st = &self.line.stations[i];
                parts.push([
                    st.position.0 as f32,
                    (self.line.belt_height_m + self.line.part_size_m / 2.0) as f32,
                    st.position.1 as f32,
                ]);
            }
        }
        let seq = self.seq;
        self.seq += 1;
        LineSample {
            line: index,
            seq,
            t: self.now(),
            conveyors,
            stations,
            kpi: self.kpi(),
            parts,
        }
    }

    fn conveyor_state(&self, i: usize) -> ConveyorState {
        let c = &self.convs[i];
        if self.belt_vel[i] == 0.0 {
            ConveyorState::Stopped
        } else if c.jammed {
            ConveyorState::Jammed
        } else if c.slip < 1.0 {
            ConveyorState::Slipping
        } else {
            ConveyorState::Running
        }
    }

    /// Advances one tick.
    pub fn step(&mut self) {
        let t = SimTime(TICK.0 * self.tick);
        self.apply_faults(t);
        for (i, c) in self.line.conveyors.iter().enumerate() {
            self.belt_vel[i] = (c.speed_m_s * self.convs[i].slip) as f32;
        }
        let hooks = BeltHooks {
            vel: &self.belt_vel,
        };
        self.pipeline.step(
            Vector::new(0.0, -9.81, 0.0),
            &self.params,
            &mut self.islands,
            &mut self.broad_phase,
            &mut self.narrow_phase,
            &mut self.bodies,
            &mut self.colliders,
            &mut self.impulse_joints,
            &mut self.multibody_joints,
            &mut self.soft_bodies,
            &mut self.ccd,
            &hooks,
            &(),
        );
        self.tick += 1;
        self.remove_fallen();
        self.finish_stations();
        self.hand_on();
        self.release();
        self.sense();
    }

    fn apply_faults(&mut self, t: SimTime) {
        for f in 0..self.line.faults.len() {
            let fault = self.line.faults[f];
            let active = fault.start <= t && (t < fault.end || fault.start == fault.end);
            let was = self.fault_on[f];
            if active == was {
                continue;
            }
            match fault.kind {
                FlowFaultKind::PartDrop { conveyor } => {
                    if active {
                        self.convs[conveyor].pending_drop = true;
                        // A drop happens once.
                        self.fault_on[f] = true;
                    }
                    continue;
                }
                FlowFaultKind::Jam {
                    conveyor,
                    position_m,
                } => {
                    if active {
                        let half = (self.line.part_size_m / 2.0) as f32;
                        let gate = self.colliders.insert(
                            ColliderBuilder::cuboid(0.02, half * 2.0, half + 0.15)
                                .translation(Vector::new(
                                    position_m as f32 + 0.02,
                                    half,
                                    conveyor as f32 * LANE_M,
                                ))
                                .friction(0.3),
                        );
                        self.convs[conveyor].gate = Some(gate);
                        self.convs[conveyor].jammed = true;
                        self.open_jam[conveyor] = Some(self.jams.len());
                        self.jams.push(JamRecord {
                            conveyor,
                            onset: t,
                            clear: None,
                            detected: None,
                        });
                    } else {
                        if let Some(g) = self.convs[conveyor].gate.take() {
                            self.colliders.remove(
                                g,
                                &mut self.islands,
                                &mut self.bodies,
                                &mut self.soft_bodies,
                                true,
                            );
                        }
                        self.convs[conveyor].jammed = false;
                        if let Some(j) = self.open_jam[conveyor].take() {
                            self.jams[j].clear = Some(t);
                        }
                        self.wake(conveyor);
                    }
                }
                FlowFaultKind::BeltSlip { conveyor, factor } => {
                    self.convs[conveyor].slip = if active { factor } else { 1.0 };
                    self.wake(conveyor);
                }
                FlowFaultKind::Slowdown { station, factor } => {
                    self.stations[station].slow = if active { factor } else { 1.0 };
                }
            }
            self.fault_on[f] = active;
        }
        for c in 0..self.convs.len() {
            if self.convs[c].pending_drop {
                self.drop_part(c);
            }
        }
    }

    fn wake(&mut self, conveyor: usize) {
        for p in &self.convs[conveyor].parts {
            if let Some(b) = self.bodies.get_mut(p.handle) {
                b.wake_up(true);
            }
        }
    }

    /// Knocks the part furthest along `conveyor` off the side of the belt.
    fn drop_part(&mut self, conveyor: usize) {
        let bodies = &self.bodies;
        let head = self.convs[conveyor]
            .parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.falling_since.is_none())
            .max_by(|a, b| {
                let xa = bodies[a.1.handle].translation().x;
                let xb = bodies[b.1.handle].translation().x;
                xa.total_cmp(&xb).then(b.0.cmp(&a.0))
            })
            .map(|(i, _)| i);
        let Some(i) = head else {
            return; // nothing on the belt yet: the next part falls
        };
        let c = &mut self.convs[conveyor];
        c.pending_drop = false;
        c.parts[i].falling_since = Some(self.tick);
        let b = &mut self.bodies[c.parts[i].handle];
        b.set_linvel(Vector::new(0.0, 2.0, 2.5), true);
    }

    fn remove_fallen(&mut self) {
        for c in 0..self.convs.len() {
            let mut k = 0;
            while k < self.convs[c].parts.len() {
                let p = &self.convs[c].parts[k];
                let y = self.bodies[p.handle].translation().y;
                let gone = p
                    .falling_since
                    .is_some_and(|s| y < -0.3 || self.tick - s > 150);
                if gone {
                    let p = self.convs[c].parts.remove(k);
                    self.remove_body(p.handle);
                    self.scrapped += 1;
                } else {
                    k += 1;
                }
            }
        }
    }

    fn remove_body(&mut self, h: RigidBodyHandle) {
        self.bodies.remove(
            h,
            &mut self.islands,
            &mut self.colliders,
            &mut self.impulse_joints,
            &mut self.multibody_joints,
            &mut self.soft_bodies,
            true,
        );
    }

    /// Whether a new part fits at the start of `conveyor`.
    fn entry_clear(&self, conveyor: usize) -> bool {
        let min_x = (self.line.part_size_m * 1.6) as f32;
        self.convs[conveyor]
            .parts
            .iter()
            .all(|p| p.falling_since.is_some() || self.bodies[p.handle].translation().x > min_x)
    }

    fn put_on(&mut self, conveyor: usize) {
        let half = (self.line.part_size_m / 2.0) as f32;
        let mass = self.line.part_mass_kg as f32;
        let h = self.bodies.insert(
            RigidBodyBuilder::dynamic()
                .translation(Vector::new(
                    half + 0.01,
                    half + 0.002,
                    conveyor as f32 * LANE_M,
                ))
                .lock_rotations()
                .can_sleep(false)
                .user_data(tag(KIND_PART, conveyor)),
        );
        self.colliders.insert_with_parent(
            ColliderBuilder::cuboid(half, half, half)
                .mass(mass)
                .friction(MU as f32),
            h,
            &mut self.bodies,
        );
        self.convs[conveyor].parts.push(PartBody {
            handle: h,
            entered: self.tick,
            falling_since: None,
        });
    }

    /// Index of the part waiting at the end of `conveyor`, if any.
    fn at_end(&self, conveyor: usize) -> Option<usize> {
        let len = self.line.conveyors[conveyor].length_m as f32;
        let reach = len - (self.line.part_size_m / 2.0) as f32 - 0.03;
        self.convs[conveyor].parts.iter().position(|p| {
            p.falling_since.is_none() && self.bodies[p.handle].translation().x >= reach
        })
    }

    fn take_end(&mut self, conveyor: usize, i: usize) {
        let p = self.convs[conveyor].parts.remove(i);
        self.remove_body(p.handle);
        let c = &mut self.convs[conveyor];
        c.exits += 1;
        c.last_exit_event = self.tick;
    }

    fn finish_stations(&mut self) {
        for s in 0..self.stations.len() {
            if let Work::Busy(left) = self.stations[s].work {
                self.stations[s].work = if left <= 1 {
                    Work::Done
                } else {
                    Work::Busy(left - 1)
                };
                self.stations[s].busy_ticks += 1;
            }
            if matches!(self.stations[s].work, Work::Done) {
                let out = self.line.stations[s].out;
                if self.entry_clear(out) {
                    self.put_on(out);
                    self.stations[s].work = Work::Idle;
                    self.stations[s].completed += 1;
                }
            }
        }
        for b in 0..self.buffers.len() {
            let out = self.line.buffers[b].out;
            if self.buffers[b] > 0 && self.entry_clear(out) {
                self.put_on(out);
                self.buffers[b] -= 1;
            }
        }
    }

    fn hand_on(&mut self) {
        for c in 0..self.convs.len() {
            let Some(i) = self.at_end(c) else { continue };
            match self.line.conveyors[c].to {
                Node::Sink(_) => {
                    self.take_end(c, i);
                    self.delivered += 1;
                }
                Node::Station(s) => {
                    if matches!(self.stations[s].work, Work::Idle) {
                        self.take_end(c, i);
                        let st = &self.line.stations[s];
                        let nominal = st.cycle_time.as_secs_f64();
                        let u = if st.spread > 0.0 {
                            self.stations[s].rng.random_range(-1.0..=1.0)
                        } else {
                            0.0
                        };
                        let secs = nominal * (1.0 + st.spread * u) * self.stations[s].slow;
                        let ticks = (secs / TICK.as_secs_f64()).round().max(1.0) as u64;
                        self.stations[s].work = Work::Busy(ticks);
                    }
                }
                Node::Buffer(b) => {
                    if self.buffers[b] < self.line.buffers[b].capacity {
                        self.take_end(c, i);
                        self.buffers[b] += 1;
                    }
                }
                Node::Source(_) => {}
            }
        }
    }

    fn release(&mut self) {
        for s in 0..self.line.sources.len() {
            if self.tick < self.next_release[s] {
                continue;
            }
            let out = self.line.sources[s].out;
            if self.entry_clear(out) {
                self.put_on(out);
                self.released += 1;
                let every = (self.line.sources[s].interval.0 / TICK.0).max(1);
                self.next_release[s] = self.tick + every;
            }
        }
    }

    fn sense(&mut self) {
        let half = self.line.part_size_m / 2.0;
        let mass = self.line.part_mass_kg;
        for i in 0..self.convs.len() {
            let conv = &self.line.conveyors[i];
            let v_belt = self.belt_vel[i] as f64;
            let len = conv.length_m as f32;
            let mut force = 0.0;
            let mut eye = false;
            for p in self.convs[i]
                .parts
                .iter()
                .filter(|p| p.falling_since.is_none())
            {
                let b = &self.bodies[p.handle];
                let vx = b.linvel().x as f64;
                let on_belt = b.translation().y < (half + 0.02) as f32;
                if !on_belt {
                    continue;
                }
                force += if (vx - v_belt).abs() > SLIDING_M_S {
                    MU * mass * G
                } else {
                    CARRY_RESISTANCE * mass * G
                };
                eye |= b.translation().x >= len - (self.line.part_size_m as f32) * 1.2;
            }
            let rated_a = conv.motor_kw * 1e3 / (3f64.sqrt() * SUPPLY_V * PF_EFF);
            let c = &mut self.convs[i];
            // The motor turns at its speed; a slipping belt passes on its share of the force.
            let load_w = force * conv.speed_m_s * c.slip / DRIVE_EFF;
            let running = v_belt > 0.0;
            c.current_a = if running {
                0.3 * rated_a + load_w / (3f64.sqrt() * SUPPLY_V * PF_EFF)
            } else {
                0.0
            };
            let speed_ratio = v_belt / conv.speed_m_s;
            c.vib = if running {
                0.5 + 1.0 * speed_ratio + 0.004 * force + if c.slip < 1.0 { 1.5 } else { 0.0 }
            } else {
                0.0
            };
            if eye && !c.eye {
                c.last_exit_event = self.tick;
            }
            c.eye = eye;
            // Jam logic: parts on the belt, none at its end, and nothing reached
            // the end for 1.5 transit times (at the belt's measured speed) plus
            // 2 s since the oldest part came on.
            let oldest = c
                .parts
                .iter()
                .filter(|p| p.falling_since.is_none())
                .map(|p| p.entered)
                .min();
            let limit =
                ((1.5 * conv.length_m / v_belt.max(1e-3) + 2.0) / TICK.as_secs_f64()) as u64;
            let flag = match oldest {
                Some(o) if !eye && running => self.tick - o.max(c.last_exit_event) > limit,
                _ => false,
            };
            if flag && !c.jam_detected {
                match self.open_jam[i] {
                    Some(j) => {
                        if self.jams[j].detected.is_none() {
                            self.jams[j].detected = Some(self.now());
                        }
                    }
                    None => self.false_jam_alarms += 1,
                }
            }
            self.convs[i].jam_detected = flag;
        }
        if self.convs.iter().any(|c| c.jammed) {
            self.jam_ticks += 1;
        }
        for s in 0..self.stations.len() {
            let st = &mut self.stations[s];
            st.state = match st.work {
                Work::Busy(_) if st.slow != 1.0 => StationState::Faulted,
                Work::Busy(_) => StationState::Running,
                Work::Done => StationState::Blocked,
                Work::Idle if st.slow != 1.0 => StationState::Faulted,
                Work::Idle => StationState::Starved,
            };
            st.state_ticks[st.state.index()] += 1;
        }
        let wip = self.wip();
        self.wip_sum += wip as f64;
        self.wip_max = self.wip_max.max(wip);
    }
}
