//! The validated scenario: domain types with every default filled in, every
//! reference resolved to an index, every unit checked.

use crate::degradation::DegradationSpec;
use crate::edge::Limits;
use crate::edge::limits::Level;
use crate::faults::{FaultEvent, SensorFault};
use crate::plant::kind::KindDefaults;
use crate::plant::{BearingGeometry, FaultMode, LoadProfile, MachineKind};
use crate::sensors::Part;
use crate::time::{Epoch, SimDuration};

pub use super::raw::{Axes, Codec, Mounting, Overflow, Session, Vertical};

/// A scenario ready to build a world from.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Seed of every random stream.
    pub seed: u64,
    /// Calendar instant of sim time 0.
    pub start: Epoch,
    /// Length of the run.
    pub duration: SimDuration,
    /// Time between acquisition windows.
    pub acquisition_interval: SimDuration,
    /// Samples per vibration window.
    pub window_samples: usize,
    /// Ambient conditions.
    pub ambient: Ambient,
    /// Machines, in file order (sites, then lines, then machines).
    pub machines: Vec<Machine>,
    /// Gateways.
    pub gateways: Vec<Gateway>,
    /// Degradation processes.
    pub degradation: Vec<DegradationSpec>,
    /// Scheduled faults.
    pub faults: Vec<FaultEvent>,
    /// Random faults.
    pub random_faults: Vec<RandomFault>,
    /// Faults on gateways' links, in start order.
    pub network_faults: Vec<NetworkFault>,
    /// CI assertions.
    pub expect: Vec<Expect>,
    /// Material-flow lines (parts on conveyors between stations).
    pub flow: Vec<crate::flow::Line>,
}

/// Ambient conditions of the plant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ambient {
    /// Air temperature, °C.
    pub celsius: f64,
    /// Pressure, hPa.
    pub hpa: f64,
    /// Relative humidity, %.
    pub rh_pct: f64,
}

/// A machine and its device.
#[derive(Clone, Debug)]
pub struct Machine {
    /// Id (also the device id).
    pub id: String,
    /// Site id.
    pub site: String,
    /// Line id.
    pub line: String,
    /// Kind.
    pub kind: MachineKind,
    /// Rated (nameplate) speed, rpm: the speed at rated load.
    pub rated_speed_rpm: f64,
    /// Supply frequency of its site, Hz.
    pub supply_hz: f64,
    /// Rated power, kW.
    pub rated_power_kw: f64,
    /// Load profile.
    pub load: LoadProfile,
    /// Drive-end bearing.
    pub bearing: BearingGeometry,
    /// Floor position, m.
    pub position: (f64, f64),
    /// Edge thresholds.
    pub limits: Limits,
    /// Physics of its kind (resonance possibly overridden).
    pub physics: KindDefaults,
    /// Sensors.
    pub sensors: Vec<Sensor>,
    /// Index of the gateway serving it.
    pub gateway: usize,
}

/// A configured sensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Sensor {
    /// Id within the machine.
    pub id: String,
    /// The part.
    pub part: Part,
    /// Mounting.
    pub mounting: Mounting,
    /// Axes read.
    pub axes: Axes,
    /// The axis that points up.
    pub vertical: Vertical,
    /// Output data rate, Hz.
    pub odr_hz: f64,
    /// Full scale, part unit.
    pub full_scale: f64,
}

/// A gateway.
#[derive(Clone, Debug)]
pub struct Gateway {
    /// Id.
    pub id: String,
    /// Site of its first machine.
    pub site: String,
    /// Indices of the machines it serves.
    pub machines: Vec<usize>,
    /// Time between publishes.
    pub publish_interval: SimDuration,
    /// Codec.
    pub codec: Codec,
    /// Session layout.
    pub session: Session,
    /// Telemetry QoS.
    pub qos: u8,
    /// Store-and-forward buffer.
    pub buffer: BufferPolicy,
    /// Time between heartbeats of each session; none: no heartbeats.
    pub heartbeat: Option<SimDuration>,
}

/// A gateway's store-and-forward buffer settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BufferPolicy {
    /// Most messages held.
    pub max_messages: u64,
    /// Most payload bytes held.
    pub max_bytes: Option<u64>,
    /// What a full buffer does.
    pub overflow: Overflow,
    /// Messages older than this are discarded.
    pub ttl: Option<SimDuration>,
    /// Most buffered messages sent per wall-clock second when draining.
    pub drain_rate: f64,
}

impl Default for BufferPolicy {
    fn default() -> BufferPolicy {
        BufferPolicy {
            max_messages: 100_000,
            max_bytes: None,
            overflow: Overflow::DropOldest,
            ttl: None,
            drain_rate: 1000.0,
        }
    }
}

/// What happens to a gateway's link.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NetKind {
    /// Down.
    Outage,
    /// Added latency, ms.
    Latency(f64),
    /// Connection resets, probability per chunk.
    Loss(f64),
    /// Stalled.
    Partition,
}

impl NetKind {
    /// Snake-case name.
    pub fn name(self) -> &'static str {
        match self {
            NetKind::Outage => "outage",
            NetKind::Latency(_) => "latency",
            NetKind::Loss(_) => "loss",
            NetKind::Partition => "partition",
        }
    }
}

/// A network fault on one gateway's link over an interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetworkFault {
    /// Gateway index.
    pub gateway: usize,
    /// What happens.
    pub kind: NetKind,
    /// Start.
    pub start: crate::time::SimTime,
    /// End.
    pub end: crate::time::SimTime,
}

/// What an injected fault does.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// A machine mode at a severity.
    Machine(FaultMode, f64),
    /// A sensor misreporting.
    Sensor(SensorFault),
}

/// A random fault rule.
#[derive(Clone, Debug)]
pub struct RandomFault {
    /// Machines it can strike.
    pub machines: Vec<usize>,
    /// Sensor id for sensor faults.
    pub sensor: Option<String>,
    /// What happens.
    pub kind: FaultKind,
    /// Mean time between arrivals per machine.
    pub mtbf: SimDuration,
    /// Duration of each.
    pub duration: SimDuration,
}

/// A set of machines named by an expectation.
#[derive(Clone, Debug, PartialEq)]
pub enum MachineSet {
    /// All machines.
    All,
    /// Machines without degradation or injected faults in the run.
    Healthy,
    /// Listed machines.
    Only(Vec<usize>),
}

/// A CI assertion.
#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    /// Machine reports `level` within `within` of its first fault onset.
    AlarmWithin {
        /// Machine index.
        machine: usize,
        /// Allowed delay.
        within: SimDuration,
        /// Level.
        level: Level,
    },
    /// None of the machines reports `level`.
    NoAlarm {
        /// Machines.
        machines: MachineSet,
        /// Level.
        level: Level,
    },
    /// At least this many telemetry messages.
    MessagesAtLeast(u64),
    /// Machine fails during the run.
    Fails(usize),
    /// Machine survives the run.
    Survives(usize),
    /// Flow line delivers at least `per_hour` good parts per hour over the run.
    ThroughputAtLeast {
        /// Flow line index.
        line: usize,
        /// Parts per hour.
        per_hour: f64,
    },
    /// Every jam on the flow line is flagged within `within` of its onset.
    JamDetectedWithin {
        /// Flow line index.
        line: usize,
        /// Allowed delay.
        within: SimDuration,
    },
}

impl Scenario {
    /// Index of the machine with id `id`.
    pub fn machine_index(&self, id: &str) -> Option<usize> {
        self.machines.iter().position(|m| m.id == id)
    }

    /// A one-line description of expectation `e`, in file terms.
    pub fn describe(&self, e: &Expect) -> String {
        let name = |i: &usize| {
            self.machines
                .get(*i)
                .map_or("?", |m| m.id.as_str())
                .to_string()
        };
        let level = |l: &Level| match l {
            Level::Warning => "warning",
            _ => "alarm",
        };
        match e {
            Expect::AlarmWithin {
                machine,
                within,
                level: l,
            } => {
                format!(
                    "{} raises {} within {within} of fault onset",
                    name(machine),
                    level(l)
                )
            }
            Expect::NoAlarm { machines, level: l } => {
                let set = match machines {
                    MachineSet::All => "all machines".to_string(),
                    MachineSet::Healthy => "healthy machines".to_string(),
                    MachineSet::Only(v) => v.iter().map(name).collect::<Vec<_>>().join(", "),
                };
                format!("no {} on {set}", level(l))
            }
            Expect::MessagesAtLeast(n) => format!("at least {n} telemetry messages"),
            Expect::Fails(m) => format!("{} fails before the end", name(m)),
            Expect::Survives(m) => format!("{} survives the run", name(m)),
            Expect::ThroughputAtLeast { line, per_hour } => format!(
                "flow line {} delivers at least {per_hour} parts/h",
                self.flow.get(*line).map_or("?", |l| l.id.as_str())
            ),
            Expect::JamDetectedWithin { line, within } => format!(
                "every jam on flow line {} is detected within {within}",
                self.flow.get(*line).map_or("?", |l| l.id.as_str())
            ),
        }
    }
}
