//! Validation of a scenario's `flow` lines: ids, references between elements
//! and conveyors, the one-input/one-output topology, units and fault times.

use std::collections::{BTreeMap, BTreeSet};

use super::ctx::Ctx;
use super::model::Gateway;
use super::raw::*;
use super::spanned::Spanned;
use crate::flow::{
    Buffer, Conveyor, FlowFault, FlowFaultKind, Line, Node, Sink, Source, Station, TICK,
};
use crate::time::{SimDuration, SimTime};

/// Checks every flow line of `raw` against the scenario's `gateways`, site ids
/// and run `duration` (when it is valid).
pub(super) fn lines(
    cx: &mut Ctx,
    raw: &[RawFlowLine],
    gateways: &[Gateway],
    sites: &[String],
    duration: Option<SimDuration>,
) -> Vec<Line> {
    let mut out = Vec::new();
    let mut ids = BTreeSet::new();
    for (li, l) in raw.iter().enumerate() {
        let lp = format!("flow[{li}]");
        cx.id(&l.id, &format!("{lp}.id"));
        if !ids.insert(l.id.val.clone()) {
            cx.at(
                &l.id,
                format!("{lp}.id"),
                format!("flow line id `{}` is used twice", l.id.val),
            );
        }
        if let Some(line) = line(cx, l, &lp, gateways, sites, duration) {
            out.push(line);
        }
    }
    out
}

/// A tick-aligned positive duration of at least one tick.
fn ticked(cx: &mut Ctx, s: &Spanned<String>, path: &str) -> Option<SimDuration> {
    let d = cx.positive_dur(s, path)?;
    if d < TICK {
        cx.at(
            s,
            path,
            format!("`{}` is shorter than the 20 ms flow tick", s.val),
        );
        return None;
    }
    Some(d)
}

fn line(
    cx: &mut Ctx,
    l: &RawFlowLine,
    lp: &str,
    gateways: &[Gateway],
    sites: &[String],
    duration: Option<SimDuration>,
) -> Option<Line> {
    let known_gw = || {
        gateways
            .iter()
            .map(|g| g.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let gateway = match &l.gateway {
        Some(g) => {
            let found = gateways.iter().position(|x| x.id == g.val);
            if found.is_none() {
                cx.at(
                    g,
                    format!("{lp}.gateway"),
                    format!("no gateway `{}` (known: {})", g.val, known_gw()),
                );
            }
            found
        }
        None if gateways.len() == 1 => Some(0),
        None => {
            cx.at(
                &l.id,
                format!("{lp}.gateway"),
                format!(
                    "name the gateway that publishes line `{}` (one of: {})",
                    l.id.val,
                    known_gw()
                ),
            );
            None
        }
    };
    let site = match (&l.site, gateway) {
        (Some(s), _) if !sites.contains(&s.val) => {
            cx.at(
                s,
                format!("{lp}.site"),
                format!("no site `{}` (known: {})", s.val, sites.join(", ")),
            );
            None
        }
        (Some(s), _) => Some(s.val.clone()),
        (None, Some(g)) => Some(gateways[g].site.clone()),
        (None, None) => None,
    };
    let publish_interval = match &l.publish_interval {
        Some(p) => ticked(cx, p, &format!("{lp}.publish_interval")),
        None => Some(SimDuration::from_secs(10)),
    };
    let (mut size, mut mass) = (0.2, 5.0);
    if let Some(p) = &l.part {
        size = cx.opt_range(
            &p.size_m,
            &format!("{lp}.part.size_m"),
            (0.05, 1.0, " m"),
            size,
        );
        mass = cx.opt_range(
            &p.mass_kg,
            &format!("{lp}.part.mass_kg"),
            (0.01, 500.0, " kg"),
            mass,
        );
    }
    let belt_height_m = cx.opt_range(
        &l.belt_height_m,
        &format!("{lp}.belt_height_m"),
        (0.0, 3.0, " m"),
        0.8,
    );

    // Elements: one id space per line.
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    let mut add = |cx: &mut Ctx, id: &Spanned<String>, path: String, node: Node| {
        cx.id(id, &path);
        if nodes.insert(id.val.clone(), node).is_some() {
            cx.at(
                id,
                path,
                format!(
                    "element id `{}` is used twice in flow line (sources, stations, buffers and sinks share one id space)",
                    id.val
                ),
            );
        }
    };
    for (i, s) in l.sources.iter().enumerate() {
        add(cx, &s.id, format!("{lp}.sources[{i}].id"), Node::Source(i));
    }
    for (i, s) in l.stations.iter().enumerate() {
        add(
            cx,
            &s.id,
            format!("{lp}.stations[{i}].id"),
            Node::Station(i),
        );
    }
    for (i, s) in l.buffers.iter().enumerate() {
        add(cx, &s.id, format!("{lp}.buffers[{i}].id"), Node::Buffer(i));
    }
    for (i, s) in l.sinks.iter().enumerate() {
        add(cx, &s.id, format!("{lp}.sinks[{i}].id"), Node::Sink(i));
    }
    if l.sources.is_empty() {
        cx.at(
            &l.id,
            format!("{lp}.sources"),
            "a flow line needs at least one source",
        );
    }
    if l.sinks.is_empty() {
        cx.at(
            &l.id,
            format!("{lp}.sinks"),
            "a flow line needs at least one sink",
        );
    }
    let known_nodes = nodes.keys().cloned().collect::<Vec<_>>().join(", ");

    // Conveyors.
    let mut conveyors = Vec::new();
    let mut conv_ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut outs: BTreeMap<Node, usize> = BTreeMap::new();
    let mut ins: BTreeMap<Node, usize> = BTreeMap::new();
    let mut ok = true;
    for (ci, c) in l.conveyors.iter().enumerate() {
        let cp = format!("{lp}.conveyors[{ci}]");
        cx.id(&c.id, &format!("{cp}.id"));
        if conv_ids.insert(c.id.val.clone(), ci).is_some() {
            cx.at(
                &c.id,
                format!("{cp}.id"),
                format!("conveyor id `{}` is used twice in the line", c.id.val),
            );
        }
        let mut end = |cx: &mut Ctx, s: &Spanned<String>, field: &str, from: bool| {
            let path = format!("{cp}.{field}");
            let Some(&n) = nodes.get(&s.val) else {
                cx.at(
                    s,
                    path,
                    format!("no element `{}` in this line (known: {known_nodes})", s.val),
                );
                return None;
            };
            let (bad, what) = match (from, n) {
                (true, Node::Sink(_)) => (
                    true,
                    "a sink has no output; `from` must be a source, station or buffer",
                ),
                (false, Node::Source(_)) => (
                    true,
                    "a source has no input; `to` must be a station, buffer or sink",
                ),
                _ => (false, ""),
            };
            if bad {
                cx.at(s, path, format!("`{}`: {what}", s.val));
                return None;
            }
            let map = if from { &mut outs } else { &mut ins };
            if map.insert(n, ci).is_some() {
                cx.at(
                    s,
                    path,
                    format!(
                        "element `{}` already has an {} conveyor (each element has at most one input and one output)",
                        s.val,
                        if from { "output" } else { "input" }
                    ),
                );
                return None;
            }
            Some(n)
        };
        let from = end(cx, &c.from, "from", true);
        let to = end(cx, &c.to, "to", false);
        let length_m = cx.range(&c.length_m, &format!("{cp}.length_m"), 0.5, 200.0, " m");
        let speed_m_s = cx.range(&c.speed_m_s, &format!("{cp}.speed_m_s"), 0.05, 3.0, " m/s");
        let motor_kw = cx.opt_range(
            &c.motor_kw,
            &format!("{cp}.motor_kw"),
            (0.05, 50.0, " kW"),
            0.75,
        );
        let position = c.position.as_ref().map_or((0.0, 0.0), |p| {
            if !(p.val.0.is_finite() && p.val.1.is_finite()) {
                cx.at(
                    p,
                    format!("{cp}.position"),
                    "coordinates must be finite numbers of metres",
                );
            }
            p.val
        });
        let direction = match &c.direction {
            Some(d) => {
                let n = (d.val.0 * d.val.0 + d.val.1 * d.val.1).sqrt();
                if !(n.is_finite() && n > 1e-9) {
                    cx.at(
                        d,
                        format!("{cp}.direction"),
                        "direction must be a non-zero finite vector `(dx, dy)`, e.g. `(1.0, 0.0)`",
                    );
                    (1.0, 0.0)
                } else {
                    (d.val.0 / n, d.val.1 / n)
                }
            }
            None => (1.0, 0.0),
        };
        match (from, to) {
            (Some(from), Some(to)) => conveyors.push(Conveyor {
                id: c.id.val.clone(),
                from,
                to,
                length_m,
                speed_m_s,
                motor_kw,
                position,
                direction,
            }),
            _ => ok = false,
        }
    }
    if size * 2.0
        > conveyors
            .iter()
            .map(|c| c.length_m)
            .fold(f64::INFINITY, f64::min)
    {
        cx.at(
            &l.id,
            format!("{lp}.part.size_m"),
            format!("parts of {size} m do not fit twice on the shortest conveyor"),
        );
    }
    // Every element is joined up.
    let mut connect =
        |cx: &mut Ctx, n: Node, id: &Spanned<String>, path: String, input: bool, output: bool| {
            let i = ins.get(&n).copied();
            let o = outs.get(&n).copied();
            if input && i.is_none() || output && o.is_none() {
                let need = match (input && i.is_none(), output && o.is_none()) {
                    (true, true) => "an input and an output conveyor",
                    (true, false) => "an input conveyor (one whose `to` is it)",
                    _ => "an output conveyor (one whose `from` is it)",
                };
                cx.at(id, path, format!("element `{}` needs {need}", id.val));
                ok = false;
            }
            (i.unwrap_or(0), o.unwrap_or(0))
        };
    let sources: Vec<Source> = l
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let path = format!("{lp}.sources[{i}]");
            let interval = ticked(cx, &s.interval, &format!("{path}.interval"));
            let (_, out) = connect(
                cx,
                Node::Source(i),
                &s.id,
                format!("{path}.id"),
                false,
                true,
            );
            Source {
                id: s.id.val.clone(),
                interval: interval.unwrap_or(TICK),
                out,
            }
        })
        .collect();
    let place = |n: usize, p: &Option<Spanned<(f64, f64)>>, conveyors: &[Conveyor]| {
        p.as_ref().map(|p| p.val).unwrap_or_else(|| {
            conveyors
                .get(n)
                .map_or((0.0, 0.0), |c| c.floor_point(c.length_m, 0.0))
        })
    };
    let mut stations = Vec::new();
    for (i, s) in l.stations.iter().enumerate() {
        let path = format!("{lp}.stations[{i}]");
        let cycle = ticked(cx, &s.cycle_time, &format!("{path}.cycle_time"));
        let spread = cx.opt_range(&s.spread, &format!("{path}.spread"), (0.0, 0.9, ""), 0.0);
        let (input, out) = connect(
            cx,
            Node::Station(i),
            &s.id,
            format!("{path}.id"),
            true,
            true,
        );
        stations.push(Station {
            id: s.id.val.clone(),
            cycle_time: cycle.unwrap_or(TICK),
            spread,
            input,
            out,
            position: place(input, &s.position, &conveyors),
        });
    }
    let mut buffers = Vec::new();
    for (i, b) in l.buffers.iter().enumerate() {
        let path = format!("{lp}.buffers[{i}]");
        if !(1..=10_000).contains(&b.capacity.val) {
            cx.at(
                &b.capacity,
                format!("{path}.capacity"),
                format!(
                    "{} is out of range (valid: 1 … 10000 parts)",
                    b.capacity.val
                ),
            );
        }
        let (input, out) = connect(cx, Node::Buffer(i), &b.id, format!("{path}.id"), true, true);
        buffers.push(Buffer {
            id: b.id.val.clone(),
            capacity: b.capacity.val,
            input,
            out,
            position: place(input, &b.position, &conveyors),
        });
    }
    let mut sinks = Vec::new();
    for (i, s) in l.sinks.iter().enumerate() {
        let (input, _) = connect(
            cx,
            Node::Sink(i),
            &s.id,
            format!("{lp}.sinks[{i}].id"),
            true,
            false,
        );
        sinks.push(Sink {
            id: s.id.val.clone(),
            input,
        });
    }

    // Faults.
    let mut faults = Vec::new();
    for (fi, f) in l.faults.iter().enumerate() {
        let fp = format!("{lp}.faults[{fi}]");
        let conveyor = |cx: &mut Ctx, s: &Spanned<String>| {
            let found = conv_ids.get(&s.val).copied();
            if found.is_none() {
                let known: Vec<&str> = conv_ids.keys().map(String::as_str).collect();
                cx.at(
                    s,
                    format!("{fp}.conveyor"),
                    format!(
                        "no conveyor `{}` in this line (known: {})",
                        s.val,
                        known.join(", ")
                    ),
                );
            }
            found
        };
        let start = |cx: &mut Ctx, at: &Spanned<String>| {
            let t = cx.dur(at, &format!("{fp}.at"))?;
            if duration.is_some_and(|d| t >= d) {
                cx.at(
                    at,
                    format!("{fp}.at"),
                    format!("`{}` is not before the end of the run", at.val),
                );
                return None;
            }
            Some(SimTime(t.0))
        };
        let item = match f {
            RawFlowFault::Jam {
                conveyor: c,
                position_m,
                at,
                duration: d,
            } => {
                let ci = conveyor(cx, c);
                let len = ci
                    .and_then(|i| l.conveyors.get(i))
                    .map_or(200.0, |c| c.length_m.val);
                let pos = cx.range(
                    position_m,
                    &format!("{fp}.position_m"),
                    0.0,
                    len,
                    " m (the conveyor's length)",
                );
                let s = start(cx, at);
                let d = cx.positive_dur(d, &format!("{fp}.duration"));
                match (ci, s, d) {
                    (Some(conveyor), Some(start), Some(d)) => Some(FlowFault {
                        kind: FlowFaultKind::Jam {
                            conveyor,
                            position_m: pos,
                        },
                        start,
                        end: start.after(d),
                    }),
                    _ => None,
                }
            }
            RawFlowFault::BeltSlip {
                conveyor: c,
                factor,
                at,
                duration: d,
            } => {
                let ci = conveyor(cx, c);
                let factor = cx.range(
                    factor,
                    &format!("{fp}.factor"),
                    0.0,
                    1.0,
                    " (fraction of belt speed delivered)",
                );
                let s = start(cx, at);
                let d = cx.positive_dur(d, &format!("{fp}.duration"));
                match (ci, s, d) {
                    (Some(conveyor), Some(start), Some(d)) => Some(FlowFault {
                        kind: FlowFaultKind::BeltSlip { conveyor, factor },
                        start,
                        end: start.after(d),
                    }),
                    _ => None,
                }
            }
            RawFlowFault::Slowdown {
                station,
                factor,
                at,
                duration: d,
            } => {
                let si = l.stations.iter().position(|s| s.id.val == station.val);
                if si.is_none() {
                    let known: Vec<&str> = l.stations.iter().map(|s| s.id.val.as_str()).collect();
                    cx.at(
                        station,
                        format!("{fp}.station"),
                        format!(
                            "no station `{}` in this line (known: {})",
                            station.val,
                            known.join(", ")
                        ),
                    );
                }
                let factor = cx.range(
                    factor,
                    &format!("{fp}.factor"),
                    1.0,
                    100.0,
                    " (cycle-time multiplier)",
                );
                let s = start(cx, at);
                let d = cx.positive_dur(d, &format!("{fp}.duration"));
                match (si, s, d) {
                    (Some(station), Some(start), Some(d)) => Some(FlowFault {
                        kind: FlowFaultKind::Slowdown { station, factor },
                        start,
                        end: start.after(d),
                    }),
                    _ => None,
                }
            }
            RawFlowFault::PartDrop { conveyor: c, at } => {
                let ci = conveyor(cx, c);
                let s = start(cx, at);
                match (ci, s) {
                    (Some(conveyor), Some(start)) => Some(FlowFault {
                        kind: FlowFaultKind::PartDrop { conveyor },
                        start,
                        end: start,
                    }),
                    _ => None,
                }
            }
        };
        faults.extend(item);
    }
    faults.sort_by_key(|f| f.start);
    if !ok {
        return None;
    }
    let line = Line {
        id: l.id.val.clone(),
        site: site?,
        gateway: gateway?,
        publish_interval: publish_interval?,
        part_size_m: size,
        part_mass_kg: mass,
        belt_height_m,
        sources,
        stations,
        buffers,
        sinks,
        conveyors,
        faults,
    };
    // Every chain from a source ends at a sink; an element off every chain is unreachable.
    let mut reached = BTreeSet::new();
    for s in 0..line.sources.len() {
        let chain = line.chain_from(s);
        if !matches!(chain.last(), Some(Node::Sink(_))) {
            cx.at(
                &l.id,
                format!("{lp}.conveyors"),
                format!(
                    "parts from source `{}` go round a loop and never reach a sink",
                    line.sources[s].id
                ),
            );
            return None;
        }
        reached.extend(chain);
    }
    for (id, n) in &nodes {
        if !reached.contains(n) {
            cx.at(
                &l.id,
                lp.to_string(),
                format!("element `{id}` is on no path from a source to a sink"),
            );
        }
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use crate::flow::{FlowFaultKind, Node};
    use crate::scenario::{ScenarioError, from_str};

    const LINE: &str = include_str!("../../../scenarios/line_flow.ron");

    fn problems(src: &str) -> String {
        match from_str(src, "bad.ron") {
            Ok(_) => panic!("accepted:\n{src}"),
            Err(ScenarioError::Invalid(p)) => p
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_example_line_loads() {
        let sc = from_str(LINE, "line_flow.ron").unwrap();
        let l = &sc.flow[0];
        assert_eq!((l.id.as_str(), l.site.as_str()), ("line1", "plant1"));
        assert_eq!(l.conveyors[1].from, Node::Station(0));
        assert_eq!(l.conveyors[1].to, Node::Station(1));
        assert_eq!(l.stations[1].input, 1);
        assert_eq!(l.stations[0].position, (3.0, 0.0));
        assert!(matches!(
            l.faults[0].kind,
            FlowFaultKind::Jam { conveyor: 1, position_m } if position_m == 1.5
        ));
        assert!((l.ideal_rate() * 3600.0 - 600.0).abs() < 1e-9);
        assert_eq!(sc.expect.len(), 2);
    }

    #[test]
    fn bad_references_name_the_field_and_what_is_valid() {
        let p = problems(&LINE.replace(r#"to: "s2""#, r#"to: "s9""#));
        assert!(
            p.contains(
                "flow[0].conveyors[1].to: no element `s9` in this line (known: out, s1, s2, src)"
            ),
            "{p}"
        );
        assert!(p.contains("bad.ron:"), "{p}");
        let p = problems(&LINE.replace(r#"Jam(conveyor: "c2""#, r#"Jam(conveyor: "c7""#));
        assert!(
            p.contains(
                "flow[0].faults[0].conveyor: no conveyor `c7` in this line (known: c1, c2, c3)"
            ),
            "{p}"
        );
        let p = problems(&LINE.replace(r#"from: "s2""#, r#"from: "out""#));
        assert!(
            p.contains("a sink has no output; `from` must be a source, station or buffer"),
            "{p}"
        );
        let p = problems(&LINE.replace(
            r#"ThroughputAtLeast(line: "line1""#,
            r#"ThroughputAtLeast(line: "l2""#,
        ));
        assert!(
            p.contains("expect[0].line: no flow line `l2` (known: line1)"),
            "{p}"
        );
    }

    #[test]
    fn bad_values_name_the_range() {
        let p = problems(&LINE.replace(
            "speed_m_s: 0.5, motor_kw: 0.75,\n                 position: (4.0",
            "speed_m_s: 9.0, motor_kw: 0.75,\n                 position: (4.0",
        ));
        assert!(
            p.contains("flow[0].conveyors[1].speed_m_s: 9 is out of range (valid: 0.05 … 3 m/s)"),
            "{p}"
        );
        let p = problems(&LINE.replace("position_m: 1.5", "position_m: 4.5"));
        assert!(
            p.contains("flow[0].faults[0].position_m: 4.5 is out of range (valid: 0 … 3 m"),
            "{p}"
        );
        let p = problems(&LINE.replace(r#"cycle_time: "6s""#, r#"cycle_time: "5ms""#));
        assert!(
            p.contains("flow[0].stations[1].cycle_time: `5ms` is shorter than the 20 ms flow tick"),
            "{p}"
        );
        let p = problems(&LINE.replace(r#"at: "4m""#, r#"at: "20m""#));
        assert!(
            p.contains("flow[0].faults[0].at: `20m` is not before the end of the run"),
            "{p}"
        );
        let p = problems(&LINE.replace(
            "direction: (1.0, 0.0)),\n                (id: \"c3\"",
            "direction: (0.0, 0.0)),\n                (id: \"c3\"",
        ));
        assert!(
            p.contains(
                "flow[0].conveyors[1].direction: direction must be a non-zero finite vector"
            ),
            "{p}"
        );
    }

    #[test]
    fn topology_is_checked() {
        // s2 loses its input: it is disconnected and c2 ends nowhere valid.
        let p = problems(&LINE.replace(r#"to: "s2""#, r#"to: "s1""#));
        assert!(
            p.contains("element `s1` already has an input conveyor"),
            "{p}"
        );
        assert!(p.contains("element `s2` needs an input conveyor"), "{p}");
        let p = problems(&LINE.replace(r#"id: "drive1""#, r#"id: "flow""#));
        assert!(p.contains("machine id `flow` is reserved"), "{p}");
        let p = problems(&LINE.replace(r#"gateway: "line1-gw","#, r#"gateway: "gw9","#));
        assert!(
            p.contains("flow[0].gateway: no gateway `gw9` (known: line1-gw)"),
            "{p}"
        );
    }
}
