//! JSON payloads: readable, one object per message.
//!
//! Floats are sent as `f32` (what an edge node's MCU computes in), printed in
//! their shortest round-tripping form, so the same run gives the same bytes.
//! Timestamps are RFC 3339 of `start + sim time`, plus integer `ts_ns`.

use serde::Serialize;

use fabtwin_sim::edge::{AxisFeatures, Level, Reading, Values, Zone};
use fabtwin_sim::scenario::Scenario;
use fabtwin_sim::telemetry::Telemetry;
use fabtwin_sim::time::SimTime;
use fabtwin_sim::truth::TruthRecord;
use fabtwin_sim::world::JamEvent;

use crate::topics::Topics;

/// A message ready to publish or write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Topic.
    pub topic: String,
    /// Payload bytes.
    pub payload: Vec<u8>,
}

#[derive(Serialize)]
struct TelemetryJson<'a> {
    device: &'a str,
    seq: u64,
    ts: String,
    ts_ns: i128,
    status: StatusJson,
    readings: Vec<ReadingJson<'a>>,
}

#[derive(Serialize)]
struct StatusJson {
    level: Level,
    #[serde(skip_serializing_if = "Option::is_none")]
    zone: Option<Zone>,
    reasons: Vec<&'static str>,
}

#[derive(Serialize)]
struct ReadingJson<'a> {
    sensor: &'a str,
    part: &'static str,
    ts: String,
    #[serde(flatten)]
    values: ValuesJson,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ValuesJson {
    Vibration {
        axes: Vec<AxisJson>,
        vel_rms_mm_s: f32,
        zone: Zone,
    },
    Temperature {
        temperature_c: f32,
    },
    Humidity {
        humidity_pct: f32,
        temperature_c: f32,
    },
    Pressure {
        pressure_hpa: f32,
    },
    Sound {
        spl_db: f32,
        peak_pa: f32,
    },
    Missing {
        missing: bool,
    },
}

#[derive(Serialize)]
struct AxisJson {
    axis: char,
    rms_g: f32,
    peak_g: f32,
    crest: f32,
    kurtosis: f32,
    vel_rms_mm_s: f32,
    bands_g2: Vec<f32>,
}

fn axis(axis: char, f: &AxisFeatures) -> AxisJson {
    AxisJson {
        axis,
        rms_g: f.rms_g as f32,
        peak_g: f.peak_g as f32,
        crest: f.crest as f32,
        kurtosis: f.kurtosis as f32,
        vel_rms_mm_s: f.vel_rms_mm_s as f32,
        bands_g2: f.bands_g2.iter().map(|&b| b as f32).collect(),
    }
}

fn values(v: &Values) -> ValuesJson {
    match v {
        Values::Vibration {
            axes,
            vel_rms_mm_s,
            zone,
        } => ValuesJson::Vibration {
            axes: axes.iter().map(|a| axis(a.axis, &a.features)).collect(),
            vel_rms_mm_s: *vel_rms_mm_s as f32,
            zone: *zone,
        },
        Values::Temperature { celsius } => ValuesJson::Temperature {
            temperature_c: *celsius as f32,
        },
        Values::Humidity { rh_pct, celsius } => ValuesJson::Humidity {
            humidity_pct: *rh_pct as f32,
            temperature_c: *celsius as f32,
        },
        Values::Pressure { hpa } => ValuesJson::Pressure {
            pressure_hpa: *hpa as f32,
        },
        Values::Sound { spl_db, peak_pa } => ValuesJson::Sound {
            spl_db: *spl_db as f32,
            peak_pa: *peak_pa as f32,
        },
        Values::Missing => ValuesJson::Missing { missing: true },
    }
}

fn reading<'a>(scenario: &Scenario, r: &'a Reading) -> ReadingJson<'a> {
    ReadingJson {
        sensor: &r.sensor,
        part: r.part.spec().name,
        ts: scenario.start.format(r.t),
        values: values(&r.values),
    }
}

/// Encodes one telemetry message for its device's telemetry topic.
pub fn telemetry(scenario: &Scenario, topics: &Topics, m: &Telemetry) -> Message {
    let machine = &scenario.machines[m.machine];
    let gateway = &scenario.gateways[m.gateway];
    let body = TelemetryJson {
        device: &machine.id,
        seq: m.seq,
        ts: scenario.start.format(m.t),
        ts_ns: scenario.start.unix_nanos(m.t),
        status: StatusJson {
            level: m.status.level,
            zone: m.status.zone,
            reasons: m.status.reasons.clone(),
        },
        readings: m.readings.iter().map(|r| reading(scenario, r)).collect(),
    };
    Message {
        topic: topics.telemetry(&machine.site, &gateway.id, &machine.id),
        payload: serde_json::to_vec(&body)
            .expect("telemetry serialises: only strings, numbers and arrays"),
    }
}

/// The payload with a wall-clock send stamp `"sent_ns"` added (for latency;
/// determinism checks ignore it, and files never carry it).
pub fn with_sent_ns(payload: &[u8], wall_ns: u64) -> Vec<u8> {
    let mut out = payload.to_vec();
    if out.last() == Some(&b'}') {
        out.pop();
        out.extend_from_slice(format!(",\"sent_ns\":{wall_ns}}}").as_bytes());
    }
    out
}

#[derive(Serialize)]
struct MetaJson<'a> {
    device: &'a str,
    model: &'static str,
    firmware: &'static str,
    machine_kind: String,
    rated_speed_rpm: f64,
    rated_power_kw: f64,
    site: &'a str,
    line: &'a str,
    gateway: &'a str,
    position_m: [f64; 2],
    sensors: Vec<SensorMeta<'a>>,
}

#[derive(Serialize)]
struct SensorMeta<'a> {
    id: &'a str,
    part: &'static str,
    measures: fabtwin_sim::sensors::Measures,
    unit: &'static str,
    odr_hz: f64,
    full_scale: f64,
    noise_rms: f64,
}

/// Device model name carried in metadata.
pub const DEVICE_MODEL: &str = "fabtwin-node";

/// Encodes a device's static metadata (published once, retained).
pub fn meta(scenario: &Scenario, topics: &Topics, machine: usize) -> Message {
    let m = &scenario.machines[machine];
    let g = &scenario.gateways[m.gateway];
    let body = MetaJson {
        device: &m.id,
        model: DEVICE_MODEL,
        firmware: env!("CARGO_PKG_VERSION"),
        machine_kind: format!("{:?}", m.kind).to_lowercase(),
        rated_speed_rpm: m.rated_speed_rpm,
        rated_power_kw: m.rated_power_kw,
        site: &m.site,
        line: &m.line,
        gateway: &g.id,
        position_m: [m.position.0, m.position.1],
        sensors: m
            .sensors
            .iter()
            .map(|s| {
                let spec = s.part.spec();
                SensorMeta {
                    id: &s.id,
                    part: spec.name,
                    measures: spec.measures,
                    unit: spec.unit,
                    odr_hz: s.odr_hz,
                    full_scale: s.full_scale,
                    noise_rms: spec.noise_sigma(s.odr_hz),
                }
            })
            .collect(),
    };
    Message {
        topic: topics.meta(&m.site, &g.id, &m.id),
        payload: serde_json::to_vec(&body).expect("metadata serialises"),
    }
}

#[derive(Serialize)]
struct TruthJson<'a> {
    machine: &'a str,
    ts: String,
    ts_ns: i128,
    health: &'static str,
    modes: Vec<ModeJson>,
    sensor_faults: Vec<SensorFaultJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_at: Option<String>,
    rul_s: Option<f64>,
    censored: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    repaired_at: Option<String>,
    load: f32,
    speed_rpm: f32,
    temperature_c: f32,
    current_a: f32,
}

#[derive(Serialize)]
struct ModeJson {
    mode: &'static str,
    severity: f32,
    onset: String,
    origin: &'static str,
}

#[derive(Serialize)]
struct SensorFaultJson<'a> {
    sensor: &'a str,
    fault: &'static str,
    onset: String,
    origin: &'static str,
}

/// Encodes one truth record (never published on a telemetry topic).
pub fn truth(scenario: &Scenario, r: &TruthRecord) -> Vec<u8> {
    let ts = |t: SimTime| scenario.start.format(t);
    let body = TruthJson {
        machine: &scenario.machines[r.machine].id,
        ts: ts(r.t),
        ts_ns: scenario.start.unix_nanos(r.t),
        health: r.health.name(),
        modes: r
            .modes
            .iter()
            .map(|m| ModeJson {
                mode: m.mode.name(),
                severity: m.severity as f32,
                onset: ts(m.onset),
                origin: m.origin,
            })
            .collect(),
        sensor_faults: r
            .sensor_faults
            .iter()
            .map(|s| SensorFaultJson {
                sensor: &s.sensor,
                fault: s.fault,
                onset: ts(s.onset),
                origin: s.origin,
            })
            .collect(),
        failure_at: r.failure_at.map(ts),
        rul_s: r.rul_s,
        censored: r.censored,
        repaired_at: r.repaired_at.map(ts),
        load: r.load as f32,
        speed_rpm: r.speed_rpm as f32,
        temperature_c: r.temperature_c as f32,
        current_a: r.current_a as f32,
    };
    serde_json::to_vec(&body).expect("truth serialises")
}

#[derive(Serialize)]
struct FlowJson<'a> {
    line: &'a str,
    seq: u64,
    ts: String,
    ts_ns: i128,
    conveyors: Vec<ConveyorJson<'a>>,
    stations: Vec<StationJson<'a>>,
    kpi: KpiJson,
    parts: &'a [[f32; 3]],
}

#[derive(Serialize)]
struct ConveyorJson<'a> {
    id: &'a str,
    speed_m_s: f32,
    current_a: f32,
    vib_rms_mm_s: f32,
    photo_eye: bool,
    parts: u32,
    exits: u64,
    state: &'static str,
    jam_detected: bool,
}

#[derive(Serialize)]
struct StationJson<'a> {
    id: &'a str,
    state: &'static str,
    completed: u64,
    utilisation: f32,
}

#[derive(Serialize)]
struct KpiJson {
    throughput_per_h: f32,
    wip: u32,
    oee: f32,
    availability: f32,
    performance: f32,
    quality: f32,
    delivered: u64,
    scrapped: u64,
}

/// A flow line's message: conveyor sensors, station states, KPIs and part
/// positions (floor frame, metres, y up), on `{root}/{site}/{gateway}/flow/{line}`.
pub fn flow(scenario: &Scenario, topics: &Topics, s: &fabtwin_sim::flow::LineSample) -> Message {
    let line = &scenario.flow[s.line];
    let gateway = &scenario.gateways[line.gateway];
    let k = &s.kpi;
    let body = FlowJson {
        line: &line.id,
        seq: s.seq,
        ts: scenario.start.format(s.t),
        ts_ns: scenario.start.unix_nanos(s.t),
        conveyors: s
            .conveyors
            .iter()
            .map(|c| ConveyorJson {
                id: &line.conveyors[c.conveyor].id,
                speed_m_s: c.speed_m_s,
                current_a: c.current_a,
                vib_rms_mm_s: c.vib_rms_mm_s,
                photo_eye: c.photo_eye,
                parts: c.parts,
                exits: c.exits,
                state: c.state.name(),
                jam_detected: c.jam_detected,
            })
            .collect(),
        stations: s
            .stations
            .iter()
            .map(|st| StationJson {
                id: &line.stations[st.station].id,
                state: st.state.name(),
                completed: st.completed,
                utilisation: st.utilisation,
            })
            .collect(),
        kpi: KpiJson {
            throughput_per_h: k.throughput_per_h as f32,
            wip: k.wip,
            oee: k.oee as f32,
            availability: k.availability as f32,
            performance: k.performance as f32,
            quality: k.quality as f32,
            delivered: k.delivered,
            scrapped: k.scrapped,
        },
        parts: &s.parts,
    };
    Message {
        topic: topics.flow(&line.site, &gateway.id, &line.id),
        payload: serde_json::to_vec(&body)
            .expect("flow messages serialise: strings, numbers, arrays"),
    }
}

#[derive(Serialize)]
struct JamJson<'a> {
    line: &'a str,
    conveyor: &'a str,
    event: &'static str,
    ts: String,
    ts_ns: i128,
}

/// One line of `flow_truth.jsonl`: a jam's onset or clear.
pub fn jam_truth(scenario: &Scenario, e: &JamEvent) -> Vec<u8> {
    let line = &scenario.flow[e.line];
    serde_json::to_vec(&JamJson {
        line: &line.id,
        conveyor: &line.conveyors[e.conveyor].id,
        event: if e.onset { "jam_onset" } else { "jam_clear" },
        ts: scenario.start.format(e.t),
        ts_ns: scenario.start.unix_nanos(e.t),
    })
    .expect("jam truth serialises")
}
