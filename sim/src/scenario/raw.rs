//! The scenario file as written: serde types that mirror the RON text, with
//! unknown fields refused and positions kept for later checks.
//!
//! Every field's unit and default is documented here and in
//! [`super::schema`] (printed by `fabtwin schema`).

use serde::Deserialize;

use super::spanned::Spanned;
use crate::edge::ZoneLimits;
use crate::plant::{BearingGeometry, FaultMode, MachineKind};

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Scenario")]
pub struct RawScenario {
    /// Name of the scenario (letters, digits, `-`, `_`).
    pub name: Spanned<String>,
    /// Free text shown in reports. Default: empty.
    #[serde(default)]
    pub description: String,
    /// Seed of every random stream. Default: 1. `fabtwin run --seed` overrides it.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// RFC 3339 start of sim time. Default: `"2026-01-01T00:00:00Z"`.
    #[serde(default)]
    pub start: Option<Spanned<String>>,
    /// Length of the run, e.g. `"2h"`, `"30d"`.
    pub duration: Spanned<String>,
    /// Acquisition schedule. Default: a window every 10 min.
    #[serde(default)]
    pub acquisition: Option<RawAcquisition>,
    /// Ambient air temperature, °C. Default: 22.
    #[serde(default)]
    pub ambient_c: Option<Spanned<f64>>,
    /// Ambient pressure, hPa. Default: 1013.25.
    #[serde(default)]
    pub ambient_hpa: Option<Spanned<f64>>,
    /// Ambient relative humidity, %. Default: 45.
    #[serde(default)]
    pub ambient_rh_pct: Option<Spanned<f64>>,
    /// The plant: sites, their lines, their machines.
    pub sites: Vec<RawSite>,
    /// Edge gateways. Default: one per line, serving its machines.
    #[serde(default)]
    pub gateways: Vec<RawGateway>,
    /// Degradation processes. Default: none.
    #[serde(default)]
    pub degradation: Vec<RawDegradation>,
    /// Scheduled faults. Default: none.
    #[serde(default)]
    pub faults: Vec<RawFault>,
    /// Faults that strike at random. Default: none.
    #[serde(default)]
    pub random_faults: Vec<RawRandomFault>,
    /// Faults on gateways' links to the broker. Default: none.
    #[serde(default)]
    pub network_faults: Vec<RawNetworkFault>,
    /// Assertions checked at the end of `fabtwin run`. Default: none.
    #[serde(default)]
    pub expect: Vec<RawExpect>,
    /// Material flow on production lines (parts on conveyors between stations). Default: none.
    #[serde(default)]
    pub flow: Vec<RawFlowLine>,
}

fn default_seed() -> u64 {
    1
}

/// When devices capture a window.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Acquisition")]
pub struct RawAcquisition {
    /// Time between windows, e.g. `"10m"`. Default: `"10m"`.
    #[serde(default)]
    pub interval: Option<Spanned<String>>,
    /// Samples per vibration window (≥ 256; a power of two is fastest).
    /// Default: 32768 (1.23 s at 26.667 kHz: 0.81 Hz lines, fine enough for bearing orders).
    #[serde(default)]
    pub window_samples: Option<Spanned<u64>>,
}

/// A site.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Site")]
pub struct RawSite {
    /// Site id (used in topics).
    pub id: Spanned<String>,
    /// Mains frequency of the site's supply, Hz: 50 or 60. Default: 50. Sets the
    /// synchronous speed of its induction motors and their 2× line vibration.
    #[serde(default)]
    pub supply_hz: Option<Spanned<f64>>,
    /// Production lines.
    pub lines: Vec<RawLine>,
}

/// A production line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Line")]
pub struct RawLine {
    /// Line id.
    pub id: Spanned<String>,
    /// Machines on the line.
    pub machines: Vec<RawMachine>,
}

/// A machine (asset) and its sensor node.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Machine")]
pub struct RawMachine {
    /// Machine id, unique in the scenario; also the device id.
    pub id: Spanned<String>,
    /// `Motor`, `Pump`, `Fan`, `Spindle`, `Compressor` or `Conveyor`.
    pub kind: MachineKind,
    /// Rated shaft speed, rpm (60 … 60 000).
    pub rated_speed_rpm: Spanned<f64>,
    /// Rated power, kW. Default: 15. Sets the ISO 10816-1 class and motor current.
    #[serde(default)]
    pub rated_power_kw: Option<Spanned<f64>>,
    /// Load profile. Default: `Constant(0.75)`.
    #[serde(default)]
    pub load: Option<RawLoad>,
    /// Drive-end bearing. Default: SKF 6205 (9 balls, 7.94 mm, pitch 39.04 mm, 0°).
    #[serde(default)]
    pub bearing: Option<Spanned<BearingGeometry>>,
    /// Position on the floor, metres `(x, y)`. Default: laid out in a grid.
    #[serde(default)]
    pub position: Option<Spanned<(f64, f64)>>,
    /// ISO 10816 zone boundaries, mm/s. Default: ISO 10816-1 class by rated power.
    #[serde(default)]
    pub zone_limits: Option<Spanned<ZoneLimits>>,
    /// Edge alarm thresholds beyond the zones. Default: kurtosis 6/10, 80/95 °C.
    #[serde(default)]
    pub limits: Option<RawLimits>,
    /// Housing resonance excited by bearing impacts, Hz. Default: by kind (2–4.5 kHz).
    #[serde(default)]
    pub resonance_hz: Option<Spanned<f64>>,
    /// Sensors on the machine.
    pub sensors: Vec<RawSensor>,
}

/// Load profile as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Load")]
pub enum RawLoad {
    /// Fixed fraction of rated load (0 … 1.2).
    Constant(Spanned<f64>),
    /// `[("0s", 0.5), ("8h", 0.9)]`: from each instant on, that load.
    Steps(Vec<(Spanned<String>, Spanned<f64>)>),
    /// Repeating cycle: `high` for `high_for` of every `period`, `low` otherwise.
    Cycle {
        /// Cycle length, e.g. `"24h"`.
        period: Spanned<String>,
        /// Time at high load, e.g. `"16h"`.
        high_for: Spanned<String>,
        /// High load fraction.
        high: Spanned<f64>,
        /// Low load fraction.
        low: Spanned<f64>,
    },
}

/// Edge thresholds beyond the ISO zones.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Limits")]
pub struct RawLimits {
    /// Kurtosis warning. Default: 6.
    #[serde(default)]
    pub kurtosis_warning: Option<Spanned<f64>>,
    /// Kurtosis alarm. Default: 10.
    #[serde(default)]
    pub kurtosis_alarm: Option<Spanned<f64>>,
    /// Temperature warning, °C. Default: 80.
    #[serde(default)]
    pub temperature_warning_c: Option<Spanned<f64>>,
    /// Temperature alarm, °C. Default: 95.
    #[serde(default)]
    pub temperature_alarm_c: Option<Spanned<f64>>,
}

/// How the sensor is fixed to the machine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum Mounting {
    /// Stud-mounted: flat to the part's bandwidth.
    #[default]
    Stud,
    /// Glued: as stud up to a few kHz.
    Adhesive,
    /// Magnet base: mounted resonance near 2 kHz attenuates above it.
    Magnet,
}

/// Which accelerometer axes the node reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum Axes {
    /// All three: x, y radial; z axial.
    #[default]
    Xyz,
    /// Radial x only.
    X,
    /// Radial y only.
    Y,
    /// Axial z only.
    Z,
}

/// Which accelerometer axis points up (it reads +1 g at rest).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum Vertical {
    /// Radial x, the load direction: a sensor on top of a horizontal machine's
    /// bearing housing.
    #[default]
    X,
    /// Radial y: a sensor on the side of the housing, turned a quarter.
    Y,
    /// Axial z: a vertical machine (an in-line pump, a spindle pointing down).
    Z,
}

/// A sensor as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Sensor")]
pub struct RawSensor {
    /// Sensor id, unique within its machine.
    pub id: Spanned<String>,
    /// ST part number, e.g. `"IIS3DWB"`.
    pub part: Spanned<String>,
    /// Mounting. Default: `Stud`.
    #[serde(default)]
    pub mounting: Mounting,
    /// Axes read (accelerometers). Default: `Xyz`.
    #[serde(default)]
    pub axes: Axes,
    /// The axis that points up and sees gravity (accelerometers). Default: `X`.
    #[serde(default)]
    pub vertical: Vertical,
    /// Output data rate, Hz; must be one of the part's. Default: the part's highest.
    #[serde(default)]
    pub odr_hz: Option<Spanned<f64>>,
    /// Full scale in the part's unit (±g for accelerometers); must be one of the part's.
    /// Default: 4 g for accelerometers, the only range otherwise.
    #[serde(default)]
    pub full_scale: Option<Spanned<f64>>,
}

/// MQTT payload encoding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum Codec {
    /// Readable JSON.
    #[default]
    Json,
    /// Sparkplug B protobuf.
    SparkplugB,
}

/// MQTT session layout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum Session {
    /// One session per gateway.
    #[default]
    PerGateway,
    /// One session per device.
    PerDevice,
}

/// A gateway as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Gateway")]
pub struct RawGateway {
    /// Gateway id.
    pub id: Spanned<String>,
    /// Ids of the machines whose devices it serves.
    pub machines: Vec<Spanned<String>>,
    /// Time between publishes, e.g. `"10m"`. Default: the acquisition interval.
    #[serde(default)]
    pub publish_interval: Option<Spanned<String>>,
    /// Payload codec. Default: `Json`.
    #[serde(default)]
    pub codec: Codec,
    /// Session layout. Default: `PerGateway`.
    #[serde(default)]
    pub session: Session,
    /// MQTT QoS for telemetry, 0 or 1. Default: 1.
    #[serde(default)]
    pub qos: Option<Spanned<u8>>,
    /// Store-and-forward buffer. Default: 100000 messages, `DropOldest`, no TTL.
    #[serde(default)]
    pub buffer: Option<RawBuffer>,
    /// Time between heartbeats of each session (sim time), e.g. `"5m"`, or
    /// `"none"`. Default: `"5m"`.
    #[serde(default)]
    pub heartbeat: Option<Spanned<String>>,
}

/// What a full buffer does with a new message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename = "Overflow")]
pub enum Overflow {
    /// Drop the oldest held message to make room.
    #[default]
    DropOldest,
    /// Refuse the new message.
    RejectNew,
}

/// A gateway's store-and-forward buffer as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Buffer")]
pub struct RawBuffer {
    /// Most messages held. Default: 100000.
    #[serde(default)]
    pub max_messages: Option<Spanned<u64>>,
    /// Most payload bytes held. Default: no limit.
    #[serde(default)]
    pub max_bytes: Option<Spanned<u64>>,
    /// Overflow policy. Default: `DropOldest`.
    #[serde(default)]
    pub overflow: Overflow,
    /// Messages older than this (sim time) are discarded. Default: none.
    #[serde(default)]
    pub ttl: Option<Spanned<String>>,
    /// Most buffered messages sent per wall-clock second when draining after
    /// an outage. Default: 1000.
    #[serde(default)]
    pub drain_rate: Option<Spanned<f64>>,
}

/// What happens to a gateway's link, as written.
#[derive(Debug, Deserialize)]
#[serde(rename = "NetworkFaultKind")]
pub enum RawNetKind {
    /// The link is down: connections cut, new ones refused.
    Outage,
    /// Added one-way latency, ms.
    Latency(Spanned<f64>),
    /// Connection resets: probability per chunk of traffic, 0 … 1.
    Loss(Spanned<f64>),
    /// Traffic stalls without the connection closing.
    Partition,
}

/// A network fault as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "NetworkFault")]
pub struct RawNetworkFault {
    /// Gateway id.
    pub gateway: Spanned<String>,
    /// What happens.
    pub kind: RawNetKind,
    /// Start, after the run's start.
    pub at: Spanned<String>,
    /// How long it lasts.
    pub duration: Spanned<String>,
}

/// When degradation starts, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Onset")]
pub enum RawOnset {
    /// At a fixed time after start, e.g. `At("2d")`.
    At(Spanned<String>),
    /// Uniformly between two times.
    Uniform {
        /// Earliest.
        min: Spanned<String>,
        /// Latest.
        max: Spanned<String>,
    },
}

/// Growth law, as written (see [`crate::degradation::Growth`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Growth")]
pub enum RawGrowth {
    /// Exponential (geometric Brownian) growth.
    Exponential {
        /// Mean growth rate, 1/day.
        rate_per_day: Spanned<f64>,
        /// Unit-to-unit CV of the rate. Default: 0.3.
        #[serde(default)]
        rate_cv: Option<Spanned<f64>>,
        /// Diffusion of ln(severity), 1/√day. Default: 0.1.
        #[serde(default)]
        sigma_per_sqrt_day: Option<Spanned<f64>>,
    },
    /// Gamma process.
    Gamma {
        /// Mean increase per day.
        mean_per_day: Spanned<f64>,
        /// CV of one day's increase. Default: 0.5.
        #[serde(default)]
        cv: Option<Spanned<f64>>,
    },
    /// Wiener process with drift.
    Wiener {
        /// Drift per day.
        drift_per_day: Spanned<f64>,
        /// Diffusion per √day. Default: 0.05.
        #[serde(default)]
        sigma_per_sqrt_day: Option<Spanned<f64>>,
    },
}

/// A degradation process as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Degradation")]
pub struct RawDegradation {
    /// Machine id.
    pub machine: Spanned<String>,
    /// Mode: `bearing_outer`, `bearing_inner`, `imbalance`, `misalignment`, `looseness`, `overheating`.
    pub mode: FaultMode,
    /// Onset.
    pub onset: RawOnset,
    /// Severity at onset, 0 … 1. Default: 0.05.
    #[serde(default)]
    pub initial: Option<Spanned<f64>>,
    /// Growth law.
    pub growth: RawGrowth,
}

/// What a fault does, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "FaultKind")]
pub enum RawFaultKind {
    /// Outer-race defect at a severity (0 … 1).
    BearingOuter(Spanned<f64>),
    /// Inner-race defect.
    BearingInner(Spanned<f64>),
    /// Imbalance.
    Imbalance(Spanned<f64>),
    /// Misalignment.
    Misalignment(Spanned<f64>),
    /// Looseness.
    Looseness(Spanned<f64>),
    /// Overheating.
    Overheating(Spanned<f64>),
    /// Sensor output frozen.
    StuckAt,
    /// Sensor drift, unit per hour.
    Drift(Spanned<f64>),
    /// Sensor offset, in its unit.
    Bias(Spanned<f64>),
    /// Sensor gain factor.
    Gain(Spanned<f64>),
    /// Spikes: `Spikes(rate_hz: 5, amplitude: 2.0)`.
    Spikes {
        /// Mean spikes per second.
        rate_hz: Spanned<f64>,
        /// Amplitude in the part's unit.
        amplitude: Spanned<f64>,
    },
    /// Noise RMS factor.
    Noise(Spanned<f64>),
    /// No data.
    Dropout,
    /// Clip at a fraction of full scale.
    Saturation(Spanned<f64>),
}

/// A scheduled fault as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Fault")]
pub struct RawFault {
    /// Machine id.
    pub machine: Spanned<String>,
    /// Sensor id on that machine (sensor faults only).
    #[serde(default)]
    pub sensor: Option<Spanned<String>>,
    /// What happens.
    pub kind: RawFaultKind,
    /// Start, after the run's start, e.g. `"1h"`.
    pub at: Spanned<String>,
    /// How long it lasts. Default: until the end.
    #[serde(default)]
    pub duration: Option<Spanned<String>>,
}

/// Which machines a rule covers.
#[derive(Debug, Deserialize)]
#[serde(rename = "Machines")]
pub enum RawMachines {
    /// Every machine.
    All,
    /// Machines that have no degradation or injected fault in the run.
    Healthy,
    /// The listed machine ids.
    Only(Vec<Spanned<String>>),
}

/// A fault that strikes at random (Poisson arrivals per machine).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "RandomFault")]
pub struct RawRandomFault {
    /// Machines it can strike.
    pub machines: RawMachines,
    /// Sensor id (sensor faults only): each struck machine's sensor of that id.
    #[serde(default)]
    pub sensor: Option<Spanned<String>>,
    /// What happens.
    pub kind: RawFaultKind,
    /// Mean time between arrivals on one machine, e.g. `"5d"`.
    pub mtbf: Spanned<String>,
    /// How long each lasts, e.g. `"2h"`.
    pub duration: Spanned<String>,
}

/// Device level an expectation looks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename = "Level")]
pub enum RawLevel {
    /// Warning or worse.
    Warning,
    /// Alarm.
    #[default]
    Alarm,
}

/// An assertion for CI, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Expect")]
pub enum RawExpect {
    /// The machine's device reports `level` within `within` of its first fault onset.
    AlarmWithin {
        /// Machine id.
        machine: Spanned<String>,
        /// Allowed delay after onset, e.g. `"6h"`.
        within: Spanned<String>,
        /// Level to reach. Default: `Alarm`.
        #[serde(default)]
        level: RawLevel,
    },
    /// None of the machines' devices reports `level`.
    NoAlarm {
        /// Machines covered.
        machines: RawMachines,
        /// Level that must not occur. Default: `Alarm`.
        #[serde(default)]
        level: RawLevel,
    },
    /// At least this many telemetry messages are produced.
    MessagesAtLeast(Spanned<u64>),
    /// The machine reaches its failure threshold before the run ends.
    Fails(Spanned<String>),
    /// The machine does not fail during the run.
    Survives(Spanned<String>),
    /// The flow line delivers at least `per_hour` good parts per hour over the run.
    ThroughputAtLeast {
        /// Flow line id.
        line: Spanned<String>,
        /// Parts per hour.
        per_hour: Spanned<f64>,
    },
    /// Every jam on the flow line is flagged by the line's jam logic within `within` of its onset.
    JamDetectedWithin {
        /// Flow line id.
        line: Spanned<String>,
        /// Allowed delay after onset, e.g. `"30s"`.
        within: Spanned<String>,
    },
}

/// A production line's material flow: sources release parts onto conveyors
/// that carry them through stations and buffers to sinks. Every station and
/// buffer has one input and one output conveyor.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "FlowLine")]
pub struct RawFlowLine {
    /// Line id (a topic level), unique among flow lines.
    pub id: Spanned<String>,
    /// Site id. Default: the site of the gateway.
    #[serde(default)]
    pub site: Option<Spanned<String>>,
    /// Gateway publishing the line's telemetry. Default: the only gateway (required when there are several).
    #[serde(default)]
    pub gateway: Option<Spanned<String>>,
    /// Time between flow messages, e.g. `"10s"` (≥ 20 ms). Default: `"10s"`.
    #[serde(default)]
    pub publish_interval: Option<Spanned<String>>,
    /// The parts carried. Default: 0.2 m cubes of 5 kg.
    #[serde(default)]
    pub part: Option<RawPart>,
    /// Height of the belts above the floor, m (0 … 3). Default: 0.8.
    #[serde(default)]
    pub belt_height_m: Option<Spanned<f64>>,
    /// Part sources.
    pub sources: Vec<RawSource>,
    /// Conveyors joining the elements.
    pub conveyors: Vec<RawConveyor>,
    /// Workstations. Default: none.
    #[serde(default)]
    pub stations: Vec<RawStation>,
    /// Buffers. Default: none.
    #[serde(default)]
    pub buffers: Vec<RawFlowBuffer>,
    /// Part sinks.
    pub sinks: Vec<RawSink>,
    /// Scheduled flow faults. Default: none.
    #[serde(default)]
    pub faults: Vec<RawFlowFault>,
}

/// The parts on a flow line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Part")]
pub struct RawPart {
    /// Edge of the cubic part, m (0.05 … 1). Default: 0.2.
    #[serde(default)]
    pub size_m: Option<Spanned<f64>>,
    /// Mass, kg (0.01 … 500). Default: 5.
    #[serde(default)]
    pub mass_kg: Option<Spanned<f64>>,
}

/// A part source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Source")]
pub struct RawSource {
    /// Element id, unique in the line.
    pub id: Spanned<String>,
    /// Time between releases, e.g. `"4s"` (≥ 20 ms); a release waits while the belt's entry is occupied.
    pub interval: Spanned<String>,
}

/// A workstation (capacity one part).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Station")]
pub struct RawStation {
    /// Element id, unique in the line.
    pub id: Spanned<String>,
    /// Nominal cycle time, e.g. `"6s"` (≥ 20 ms).
    pub cycle_time: Spanned<String>,
    /// Relative spread of each cycle, uniform in cycle × (1 ± spread), drawn from the seed (0 … 0.9). Default: 0.
    #[serde(default)]
    pub spread: Option<Spanned<f64>>,
    /// Floor position, m `(x, y)`. Default: the end of its input conveyor.
    #[serde(default)]
    pub position: Option<Spanned<(f64, f64)>>,
}

/// A buffer between two conveyors.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "FlowBuffer")]
pub struct RawFlowBuffer {
    /// Element id, unique in the line.
    pub id: Spanned<String>,
    /// Most parts held (1 … 10 000).
    pub capacity: Spanned<u32>,
    /// Floor position, m `(x, y)`. Default: the end of its input conveyor.
    #[serde(default)]
    pub position: Option<Spanned<(f64, f64)>>,
}

/// A part sink.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Sink")]
pub struct RawSink {
    /// Element id, unique in the line.
    pub id: Spanned<String>,
}

/// A straight belt conveyor.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Conveyor")]
pub struct RawConveyor {
    /// Conveyor id, unique in the line.
    pub id: Spanned<String>,
    /// Element at its start (a source, station or buffer).
    pub from: Spanned<String>,
    /// Element at its end (a station, buffer or sink).
    pub to: Spanned<String>,
    /// Belt length, m (0.5 … 200).
    pub length_m: Spanned<f64>,
    /// Belt speed, m/s (0.05 … 3).
    pub speed_m_s: Spanned<f64>,
    /// Rated motor power, kW (0.05 … 50). Default: 0.75.
    #[serde(default)]
    pub motor_kw: Option<Spanned<f64>>,
    /// Floor position of the belt's start, m `(x, y)`. Default: `(0, 0)`.
    #[serde(default)]
    pub position: Option<Spanned<(f64, f64)>>,
    /// Direction of travel on the floor `(dx, dy)`, any non-zero length. Default: `(1, 0)`.
    #[serde(default)]
    pub direction: Option<Spanned<(f64, f64)>>,
}

/// A scheduled flow fault.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "FlowFault")]
pub enum RawFlowFault {
    /// A part sticks `position_m` along the conveyor from `at` for `duration`, holding every part behind it.
    Jam {
        /// Conveyor id.
        conveyor: Spanned<String>,
        /// Distance from the belt's start, m (0 … length).
        position_m: Spanned<f64>,
        /// Start, e.g. `"10m"`.
        at: Spanned<String>,
        /// Length, e.g. `"2m"`.
        duration: Spanned<String>,
    },
    /// The belt delivers only `factor` of its speed (0 … 1).
    BeltSlip {
        /// Conveyor id.
        conveyor: Spanned<String>,
        /// Fraction of the nominal speed.
        factor: Spanned<f64>,
        /// Start.
        at: Spanned<String>,
        /// Length.
        duration: Spanned<String>,
    },
    /// The station's cycles take `factor` times as long (1 … 100).
    Slowdown {
        /// Station id.
        station: Spanned<String>,
        /// Cycle-time multiplier.
        factor: Spanned<f64>,
        /// Start.
        at: Spanned<String>,
        /// Length.
        duration: Spanned<String>,
    },
    /// The part furthest along the conveyor falls off at `at` (scrap).
    PartDrop {
        /// Conveyor id.
        conveyor: Spanned<String>,
        /// When.
        at: Spanned<String>,
    },
}
