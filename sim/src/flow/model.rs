//! The validated layout of a material-flow line: what the simulation runs and
//! what a twin draws. Built from a scenario's `flow` list by validation.
//!
//! Floor frame: metres, `x` and `y` on the floor as for machine positions; in
//! 3D the floor `y` is the `z` axis and height is `y` (y up).

use crate::time::{SimDuration, SimTime};

/// One production line with its material flow.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Line id (a topic level).
    pub id: String,
    /// Site id.
    pub site: String,
    /// Index of the gateway that publishes the line's telemetry.
    pub gateway: usize,
    /// Time between the line's flow messages.
    pub publish_interval: SimDuration,
    /// Edge length of the (cubic) parts, m.
    pub part_size_m: f64,
    /// Mass of one part, kg.
    pub part_mass_kg: f64,
    /// Height of the belts' top surface above the floor, m.
    pub belt_height_m: f64,
    /// Where parts enter.
    pub sources: Vec<Source>,
    /// Workstations.
    pub stations: Vec<Station>,
    /// Buffers between conveyors.
    pub buffers: Vec<Buffer>,
    /// Where parts leave.
    pub sinks: Vec<Sink>,
    /// Belts joining the elements.
    pub conveyors: Vec<Conveyor>,
    /// Scheduled faults, in start order.
    pub faults: Vec<FlowFault>,
}

/// An element a conveyor starts or ends at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    /// Index into [`Line::sources`].
    Source(usize),
    /// Index into [`Line::stations`].
    Station(usize),
    /// Index into [`Line::buffers`].
    Buffer(usize),
    /// Index into [`Line::sinks`].
    Sink(usize),
}

/// A part source: releases a part every `interval` while its belt's entry is clear.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// Id.
    pub id: String,
    /// Time between releases.
    pub interval: SimDuration,
    /// Conveyor it feeds.
    pub out: usize,
}

/// A workstation holding one part at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct Station {
    /// Id.
    pub id: String,
    /// Nominal cycle time.
    pub cycle_time: SimDuration,
    /// Relative spread of each cycle (cycle × (1 ± spread), uniform, from the seed); 0: none.
    pub spread: f64,
    /// Conveyor it takes parts from.
    pub input: usize,
    /// Conveyor it puts parts on.
    pub out: usize,
    /// Floor position, m.
    pub position: (f64, f64),
}

/// A buffer holding up to `capacity` parts between two conveyors.
#[derive(Clone, Debug, PartialEq)]
pub struct Buffer {
    /// Id.
    pub id: String,
    /// Most parts held.
    pub capacity: u32,
    /// Conveyor it takes parts from.
    pub input: usize,
    /// Conveyor it puts parts on.
    pub out: usize,
    /// Floor position, m.
    pub position: (f64, f64),
}

/// A sink: takes every part that reaches the end of its conveyor.
#[derive(Clone, Debug, PartialEq)]
pub struct Sink {
    /// Id.
    pub id: String,
    /// Conveyor it takes parts from.
    pub input: usize,
}

/// A straight belt conveyor.
#[derive(Clone, Debug, PartialEq)]
pub struct Conveyor {
    /// Id.
    pub id: String,
    /// Element at its start.
    pub from: Node,
    /// Element at its end.
    pub to: Node,
    /// Belt length, m.
    pub length_m: f64,
    /// Belt speed, m/s.
    pub speed_m_s: f64,
    /// Rated motor power, kW.
    pub motor_kw: f64,
    /// Floor position of the belt's start, m.
    pub position: (f64, f64),
    /// Unit vector along the belt on the floor.
    pub direction: (f64, f64),
}

impl Conveyor {
    /// Floor point `along_m` metres down the belt and `across_m` to its left, m.
    pub fn floor_point(&self, along_m: f64, across_m: f64) -> (f64, f64) {
        let (dx, dy) = self.direction;
        (
            self.position.0 + dx * along_m - dy * across_m,
            self.position.1 + dy * along_m + dx * across_m,
        )
    }
}

/// What a flow fault does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FlowFaultKind {
    /// A part sticks at `position_m` along the conveyor: an obstacle holds every part that reaches it.
    Jam {
        /// Conveyor index.
        conveyor: usize,
        /// Distance from the belt's start, m.
        position_m: f64,
    },
    /// The belt delivers only `factor` of its speed.
    BeltSlip {
        /// Conveyor index.
        conveyor: usize,
        /// Fraction of the nominal speed (0 … 1).
        factor: f64,
    },
    /// The station's cycles take `factor` times as long.
    Slowdown {
        /// Station index.
        station: usize,
        /// Cycle-time multiplier (> 1 is slower).
        factor: f64,
    },
    /// The part furthest along the conveyor falls off (scrap).
    PartDrop {
        /// Conveyor index.
        conveyor: usize,
    },
}

/// A scheduled flow fault.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlowFault {
    /// What happens.
    pub kind: FlowFaultKind,
    /// Start.
    pub start: SimTime,
    /// End (equal to `start` for a part drop).
    pub end: SimTime,
}

impl Line {
    /// The chains of the line: from each source, the conveyors and elements in
    /// flow order (every element has at most one input and one output).
    pub fn chain_from(&self, source: usize) -> Vec<Node> {
        let mut out = vec![Node::Source(source)];
        let mut c = self.sources[source].out;
        for _ in 0..=self.conveyors.len() {
            let to = self.conveyors[c].to;
            out.push(to);
            c = match to {
                Node::Station(s) => self.stations[s].out,
                Node::Buffer(b) => self.buffers[b].out,
                Node::Sink(_) | Node::Source(_) => break,
            };
        }
        out
    }

    /// The ideal output rate, parts/s: per chain, the slowest of its source and stations.
    pub fn ideal_rate(&self) -> f64 {
        (0..self.sources.len())
            .map(|s| {
                let slowest = self
                    .chain_from(s)
                    .iter()
                    .map(|n| match n {
                        Node::Source(i) => self.sources[*i].interval.as_secs_f64(),
                        Node::Station(i) => self.stations[*i].cycle_time.as_secs_f64(),
                        _ => 0.0,
                    })
                    .fold(0.0, f64::max);
                if slowest > 0.0 { 1.0 / slowest } else { 0.0 }
            })
            .sum()
    }

    /// Id of an element.
    pub fn node_id(&self, n: Node) -> &str {
        match n {
            Node::Source(i) => &self.sources[i].id,
            Node::Station(i) => &self.stations[i].id,
            Node::Buffer(i) => &self.buffers[i].id,
            Node::Sink(i) => &self.sinks[i].id,
        }
    }
}
