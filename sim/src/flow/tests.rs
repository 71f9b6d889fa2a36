//! Line behaviour: bottleneck throughput, jams, determinism, drops, slowdowns.

use super::*;
use crate::time::{SimDuration, SimTime};

fn secs(s: f64) -> SimDuration {
    SimDuration::from_secs_f64(s)
}

fn conveyor(id: &str, from: Node, to: Node, i: usize) -> Conveyor {
    Conveyor {
        id: id.into(),
        from,
        to,
        length_m: 2.0,
        speed_m_s: 0.5,
        motor_kw: 0.75,
        position: (i as f64 * 3.0, 0.0),
        direction: (1.0, 0.0),
    }
}

/// source (2 s) → c1 → s1 (3 s) → c2 → s2 (5 s) → c3 → sink.
fn line(faults: Vec<FlowFault>) -> Line {
    Line {
        id: "line1".into(),
        site: "site".into(),
        gateway: 0,
        publish_interval: secs(10.0),
        part_size_m: 0.2,
        part_mass_kg: 5.0,
        belt_height_m: 0.8,
        sources: vec![Source {
            id: "src".into(),
            interval: secs(2.0),
            out: 0,
        }],
        stations: vec![
            Station {
                id: "s1".into(),
                cycle_time: secs(3.0),
                spread: 0.1,
                input: 0,
                out: 1,
                position: (2.0, 0.0),
            },
            Station {
                id: "s2".into(),
                cycle_time: secs(5.0),
                spread: 0.0,
                input: 1,
                out: 2,
                position: (5.0, 0.0),
            },
        ],
        buffers: vec![],
        sinks: vec![Sink {
            id: "out".into(),
            input: 2,
        }],
        conveyors: vec![
            conveyor("c1", Node::Source(0), Node::Station(0), 0),
            conveyor("c2", Node::Station(0), Node::Station(1), 1),
            conveyor("c3", Node::Station(1), Node::Sink(0), 2),
        ],
        faults,
    }
}

fn at(s: f64) -> SimTime {
    SimTime(secs(s).0)
}

#[test]
fn bottleneck_sets_throughput_within_two_percent() {
    let l = line(vec![]);
    assert!((l.ideal_rate() - 0.2).abs() < 1e-12);
    let mut sim = LineSim::new(l, 7);
    sim.advance_to(at(300.0));
    let first = sim.kpi().delivered;
    sim.advance_to(at(3300.0));
    let last = sim.kpi().delivered;
    let per_h = (last - first) as f64 * 3600.0 / 3000.0;
    let analytic = 3600.0 / 5.0;
    assert!(
        (per_h - analytic).abs() / analytic < 0.02,
        "{per_h} parts/h against {analytic}"
    );
    // The fast station waits on the slow one; the slow one is nearly always busy.
    let busy = sim.station_busy_seconds();
    let elapsed = sim.now().as_secs_f64();
    assert!(busy[1] / elapsed > 0.95, "s2 busy {}", busy[1] / elapsed);
    assert!(busy[0] / elapsed < 0.7, "s1 busy {}", busy[0] / elapsed);
    let k = sim.kpi();
    assert!(k.performance > 0.97 && k.performance <= 1.0, "{k:?}");
    assert_eq!(k.quality, 1.0);
    assert_eq!(k.availability, 1.0);
    assert_eq!(sim.false_jam_alarms(), 0);
}

#[test]
fn jam_raises_motor_current_and_blocks_upstream() {
    let jam = FlowFault {
        kind: FlowFaultKind::Jam {
            conveyor: 1,
            position_m: 1.0,
        },
        start: at(300.0),
        end: at(480.0),
    };
    let mut sim = LineSim::new(line(vec![jam]), 7);
    sim.advance_to(at(290.0));
    let before = sim.sample(0);
    sim.advance_to(at(470.0));
    let during = sim.sample(0);
    assert_eq!(during.conveyors[1].state, ConveyorState::Jammed);
    assert!(
        during.conveyors[1].current_a > before.conveyors[1].current_a * 1.3,
        "current {} A before, {} A during the jam",
        before.conveyors[1].current_a,
        during.conveyors[1].current_a
    );
    assert_eq!(during.stations[0].state, StationState::Blocked);
    assert_eq!(during.stations[1].state, StationState::Starved);
    assert!(during.conveyors[1].jam_detected);
    sim.advance_to(at(900.0));
    let jams = sim.jams();
    assert_eq!(jams.len(), 1);
    assert_eq!(jams[0].onset, at(300.0));
    assert_eq!(jams[0].clear, Some(at(480.0)));
    let detected = jams[0].detected.expect("the jam is detected");
    assert!(detected.since(jams[0].onset) <= secs(30.0), "{detected:?}");
    // After the clear the line flows again.
    let after = sim.sample(0);
    assert_eq!(after.conveyors[1].state, ConveyorState::Running);
    assert!(after.stations[1].completed > during.stations[1].completed + 50);
    let k = after.kpi;
    assert!(k.availability < 0.85, "{k:?}");
}

#[test]
fn one_seed_gives_identical_samples() {
    let faults = vec![
        FlowFault {
            kind: FlowFaultKind::Jam {
                conveyor: 2,
                position_m: 1.2,
            },
            start: at(60.0),
            end: at(90.0),
        },
        FlowFault {
            kind: FlowFaultKind::PartDrop { conveyor: 0 },
            start: at(40.0),
            end: at(40.0),
        },
    ];
    let run = || {
        let mut sim = LineSim::new(line(faults.clone()), 11);
        (1..=15)
            .map(|k| {
                sim.advance_to(at(k as f64 * 10.0));
                sim.sample(0)
            })
            .collect::<Vec<_>>()
    };
    let a = run();
    assert_eq!(a, run());
    assert!(a.last().is_some_and(|s| !s.parts.is_empty()));
}

#[test]
fn part_drop_lowers_quality() {
    let drop = |t: f64| FlowFault {
        kind: FlowFaultKind::PartDrop { conveyor: 2 },
        start: at(t),
        end: at(t),
    };
    let mut sim = LineSim::new(line(vec![drop(100.0), drop(200.0)]), 3);
    sim.advance_to(at(400.0));
    let k = sim.kpi();
    assert_eq!(k.scrapped, 2);
    assert!(k.quality < 1.0 && k.quality > 0.9, "{k:?}");
    let clean = {
        let mut s = LineSim::new(line(vec![]), 3);
        s.advance_to(at(400.0));
        s.kpi()
    };
    assert_eq!(clean.quality, 1.0);
    assert!(k.oee < clean.oee);
}

#[test]
fn slowdown_lowers_performance() {
    let slow = FlowFault {
        kind: FlowFaultKind::Slowdown {
            station: 1,
            factor: 1.5,
        },
        start: at(100.0),
        end: at(700.0),
    };
    let mut sim = LineSim::new(line(vec![slow]), 3);
    sim.advance_to(at(400.0));
    assert_eq!(sim.sample(0).stations[1].state, StationState::Faulted);
    sim.advance_to(at(800.0));
    let k = sim.kpi();
    let mut clean = LineSim::new(line(vec![]), 3);
    clean.advance_to(at(800.0));
    let c = clean.kpi();
    assert!(k.performance < c.performance - 0.1, "{k:?} against {c:?}");
    assert_eq!(k.availability, 1.0);
    assert!(sim.station_totals()[1].seconds[3] >= 599.0);
}
