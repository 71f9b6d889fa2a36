//! Telemetry → Sparkplug metrics: names, datatypes and values.
//!
//! A device's metrics follow from its machine's sensors, so its DBIRTH can list
//! them all before any reading exists ([`DeviceSchema::for_machine`]). Names
//! are `<sensor id>/…` with the JSON codec's field names, so the two codecs read
//! alike:
//!
//! | metric | datatype | from |
//! | --- | --- | --- |
//! | `fabtwin/seq` | UInt64 | the message's per-device sequence number (accounting) |
//! | `status/level` | String | `good`, `warning`, `alarm` |
//! | `status/zone` | String | worst ISO 10816 zone `A`…`D`; null without an accelerometer |
//! | `status/reasons` | String | features past their warning thresholds, comma-separated (`velocity,kurtosis`) |
//! | `<s>/<axis>/rms_g`, `peak_g`, `crest`, `kurtosis`, `vel_rms_mm_s` | Float | each configured axis (`x`, `y`, `z`) of an accelerometer |
//! | `<s>/<axis>/bands_g2` | FloatArray | the 8 band energies, g², packed little-endian |
//! | `<s>/vel_rms_mm_s` | Float | worst-axis velocity RMS, mm/s |
//! | `<s>/zone` | String | its ISO 10816 zone |
//! | `<s>/temperature_c` | Float | temperature sensors, and the temperature channel of humidity sensors |
//! | `<s>/humidity_pct` | Float | humidity sensors |
//! | `<s>/pressure_hpa` | Float | pressure sensors |
//! | `<s>/spl_db`, `<s>/peak_pa` | Float | microphones |
//!
//! Floats are `f32`, as in the JSON codec. A dropout (no reading from a sensor
//! in a window) sends every metric of that sensor as null at the window's time.
//! Each metric's timestamp is its reading's acquisition time (the window start);
//! `status/*` and `fabtwin/seq` carry the message's time.

use std::collections::BTreeMap;

use fabtwin_sim::edge::{AxisFeatures, Level, Reading, Values, Zone};
use fabtwin_sim::scenario::{Axes, Machine, Scenario, Sensor};
use fabtwin_sim::sensors::Measures;
use fabtwin_sim::telemetry::Telemetry;
use fabtwin_sim::time::{Epoch, SimTime};

use super::CodecError;
use super::proto::{DataType, Metric, MetricValue};
use super::topic::validate_id;

/// Per-device sequence number of each DDATA (UInt64), equal to the JSON `seq`.
pub const SEQ_METRIC: &str = "fabtwin/seq";
/// Birth/death sequence number of the edge node (Int64).
pub const BD_SEQ_METRIC: &str = "bdSeq";
/// Rebirth request (Boolean; false in NBIRTH, true in an NCMD).
pub const REBIRTH_METRIC: &str = "Node Control/Rebirth";
/// Device status level (String).
pub const LEVEL_METRIC: &str = "status/level";
/// Device worst zone (String, null without an accelerometer).
pub const ZONE_METRIC: &str = "status/zone";
/// Device warning reasons, comma-separated (String).
pub const REASONS_METRIC: &str = "status/reasons";

/// One metric a device reports: its name and datatype.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricDef {
    /// Metric name.
    pub name: String,
    /// Datatype.
    pub datatype: DataType,
}

impl MetricDef {
    /// A metric named `name` of type `datatype`.
    pub fn new(name: impl Into<String>, datatype: DataType) -> MetricDef {
        MetricDef {
            name: name.into(),
            datatype,
        }
    }
}

/// Every metric of one device, in DBIRTH order, with unique names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSchema {
    device: String,
    metrics: Vec<MetricDef>,
    index: BTreeMap<String, usize>,
}

impl DeviceSchema {
    /// A schema for device `device` (a valid Sparkplug id) with `metrics`
    /// (non-empty names, each once).
    pub fn new(device: &str, metrics: Vec<MetricDef>) -> Result<DeviceSchema, CodecError> {
        validate_id("device_id", device)?;
        let mut index = BTreeMap::new();
        for (i, m) in metrics.iter().enumerate() {
            let bad = |problem| CodecError::BadSchema {
                device: device.to_string(),
                name: m.name.clone(),
                problem,
            };
            if m.name.is_empty() {
                return Err(bad("with an empty name"));
            }
            if index.insert(m.name.clone(), i).is_some() {
                return Err(bad("twice"));
            }
        }
        Ok(DeviceSchema {
            device: device.to_string(),
            metrics,
            index,
        })
    }

    /// The schema of a fabtwin machine's device: `fabtwin/seq`, `status/*`, then
    /// each sensor's metrics in configuration order (see the module table).
    pub fn for_machine(machine: &Machine) -> Result<DeviceSchema, CodecError> {
        let mut metrics = vec![
            MetricDef::new(SEQ_METRIC, DataType::UInt64),
            MetricDef::new(LEVEL_METRIC, DataType::String),
            MetricDef::new(ZONE_METRIC, DataType::String),
            MetricDef::new(REASONS_METRIC, DataType::String),
        ];
        for s in &machine.sensors {
            metrics.extend(sensor_metrics(s));
        }
        DeviceSchema::new(&machine.id, metrics)
    }

    /// The device id.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// The metrics, in DBIRTH order.
    pub fn metrics(&self) -> &[MetricDef] {
        &self.metrics
    }

    /// Position of metric `name` in [`DeviceSchema::metrics`].
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
}

const AXIS_FLOATS: [&str; 5] = ["rms_g", "peak_g", "crest", "kurtosis", "vel_rms_mm_s"];
const BANDS: &str = "bands_g2";

fn axis_names(axes: Axes) -> &'static [char] {
    match axes {
        Axes::Xyz => &['x', 'y', 'z'],
        Axes::X => &['x'],
        Axes::Y => &['y'],
        Axes::Z => &['z'],
    }
}

/// The metrics one configured sensor reports, named `<sensor id>/…`.
pub fn sensor_metrics(sensor: &Sensor) -> Vec<MetricDef> {
    let s = &sensor.id;
    let float = |leaf: &str| MetricDef::new(format!("{s}/{leaf}"), DataType::Float);
    match sensor.part.spec().measures {
        Measures::Vibration => {
            let mut v = Vec::new();
            for a in axis_names(sensor.axes) {
                v.extend(AXIS_FLOATS.iter().map(|f| float(&format!("{a}/{f}"))));
                v.push(MetricDef::new(
                    format!("{s}/{a}/{BANDS}"),
                    DataType::FloatArray,
                ));
            }
            v.push(float("vel_rms_mm_s"));
            v.push(MetricDef::new(format!("{s}/zone"), DataType::String));
            v
        }
        Measures::Temperature => vec![float("temperature_c")],
        Measures::Humidity => vec![float("humidity_pct"), float("temperature_c")],
        Measures::Pressure => vec![float("pressure_hpa")],
        Measures::Sound => vec![float("spl_db"), float("peak_pa")],
    }
}

/// Sim instant `t` as Sparkplug milliseconds since the Unix epoch
/// (`start.unix_nanos(t) / 1_000_000`, rounded down).
pub fn timestamp_ms(start: Epoch, t: SimTime) -> Result<u64, CodecError> {
    let nanos = start.unix_nanos(t);
    u64::try_from(nanos.div_euclid(1_000_000))
        .map_err(|_| CodecError::TimestampOutOfRange { nanos })
}

/// `level` as sent: `good`, `warning` or `alarm` (as in JSON).
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Good => "good",
        Level::Warning => "warning",
        Level::Alarm => "alarm",
    }
}

/// `zone` as sent: `A` … `D` (as in JSON).
pub fn zone_name(zone: Zone) -> &'static str {
    match zone {
        Zone::A => "A",
        Zone::B => "B",
        Zone::C => "C",
        Zone::D => "D",
    }
}

/// A DATA metric: name, acquisition timestamp, value; no datatype.
pub fn value_metric(name: String, ts_ms: u64, value: MetricValue) -> Metric {
    Metric {
        name: Some(name),
        timestamp: Some(ts_ms),
        value: Some(value),
        ..Default::default()
    }
}

/// A DATA metric whose value is null.
pub fn null_metric(name: String, ts_ms: u64) -> Metric {
    Metric {
        name: Some(name),
        timestamp: Some(ts_ms),
        is_null: Some(true),
        ..Default::default()
    }
}

/// `values` packed as a Sparkplug FloatArray: little-endian `f32`s.
pub fn float_array(values: impl IntoIterator<Item = f32>) -> Vec<u8> {
    values.into_iter().flat_map(f32::to_le_bytes).collect()
}

fn axis_metrics(out: &mut Vec<Metric>, s: &str, axis: char, f: &AxisFeatures, ts: u64) {
    let float = |leaf: &str, v: f64| {
        value_metric(
            format!("{s}/{axis}/{leaf}"),
            ts,
            MetricValue::FloatValue(v as f32),
        )
    };
    out.push(float("rms_g", f.rms_g));
    out.push(float("peak_g", f.peak_g));
    out.push(float("crest", f.crest));
    out.push(float("kurtosis", f.kurtosis));
    out.push(float("vel_rms_mm_s", f.vel_rms_mm_s));
    let bands = float_array(f.bands_g2.iter().map(|&b| b as f32));
    out.push(value_metric(
        format!("{s}/{axis}/{BANDS}"),
        ts,
        MetricValue::BytesValue(bands),
    ));
}

fn reading_metrics(
    out: &mut Vec<Metric>,
    machine: &Machine,
    start: Epoch,
    r: &Reading,
) -> Result<(), CodecError> {
    let ts = timestamp_ms(start, r.t)?;
    let s = r.sensor.as_str();
    let float = |leaf: &str, v: f64| {
        value_metric(format!("{s}/{leaf}"), ts, MetricValue::FloatValue(v as f32))
    };
    match &r.values {
        Values::Vibration {
            axes,
            vel_rms_mm_s,
            zone,
        } => {
            for a in axes {
                axis_metrics(out, s, a.axis, &a.features, ts);
            }
            out.push(float("vel_rms_mm_s", *vel_rms_mm_s));
            out.push(value_metric(
                format!("{s}/zone"),
                ts,
                MetricValue::StringValue(zone_name(*zone).into()),
            ));
        }
        Values::Temperature { celsius } => out.push(float("temperature_c", *celsius)),
        Values::Humidity { rh_pct, celsius } => {
            out.push(float("humidity_pct", *rh_pct));
            out.push(float("temperature_c", *celsius));
        }
        Values::Pressure { hpa } => out.push(float("pressure_hpa", *hpa)),
        Values::Sound { spl_db, peak_pa } => {
            out.push(float("spl_db", *spl_db));
            out.push(float("peak_pa", *peak_pa));
        }
        Values::Missing => {
            let sensor = machine
                .sensors
                .iter()
                .find(|c| c.id == r.sensor)
                .ok_or_else(|| CodecError::UnknownSensor {
                    device: machine.id.clone(),
                    sensor: r.sensor.clone(),
                    valid: machine
                        .sensors
                        .iter()
                        .map(|c| c.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            out.extend(
                sensor_metrics(sensor)
                    .into_iter()
                    .map(|d| null_metric(d.name, ts)),
            );
        }
    }
    Ok(())
}

/// The DDATA metrics of one telemetry message: `fabtwin/seq`, `status/*` (at
/// the message's time), then every reading's metrics (at its acquisition time),
/// oldest first. A metric appears once per reading, so a message carrying
/// several windows repeats names with different timestamps.
pub fn telemetry_metrics(scenario: &Scenario, m: &Telemetry) -> Result<Vec<Metric>, CodecError> {
    let machine = scenario
        .machines
        .get(m.machine)
        .ok_or(CodecError::UnknownMachine {
            index: m.machine,
            count: scenario.machines.len(),
        })?;
    let ts = timestamp_ms(scenario.start, m.t)?;
    let mut out = vec![
        value_metric(SEQ_METRIC.into(), ts, MetricValue::LongValue(m.seq)),
        value_metric(
            LEVEL_METRIC.into(),
            ts,
            MetricValue::StringValue(level_name(m.status.level).into()),
        ),
        match m.status.zone {
            Some(z) => value_metric(
                ZONE_METRIC.into(),
                ts,
                MetricValue::StringValue(zone_name(z).into()),
            ),
            None => null_metric(ZONE_METRIC.into(), ts),
        },
        value_metric(
            REASONS_METRIC.into(),
            ts,
            MetricValue::StringValue(m.status.reasons.join(",")),
        ),
    ];
    for r in &m.readings {
        reading_metrics(&mut out, machine, scenario.start, r)?;
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use fabtwin_sim::edge::AxisReading;
    use fabtwin_sim::telemetry::Status;

    /// A scenario with every kind of sensor, one accelerometer on a single axis.
    pub(crate) const SCENARIO: &str = r#"Scenario(
        name: "sp", seed: 7, start: "2026-01-01T06:00:00Z", duration: "1h",
        acquisition: (interval: "5m", window_samples: 4096),
        sites: [(id: "plant1", lines: [(id: "line1", machines: [
            (id: "pump01", kind: Pump, rated_speed_rpm: 2950, rated_power_kw: 18.5, position: (0.0, 0.0),
             sensors: [(id: "vib", part: "IIS3DWB", full_scale: 16), (id: "temp", part: "STTS22H", odr_hz: 1)]),
            (id: "fan01", kind: Fan, rated_speed_rpm: 980, rated_power_kw: 7.5, position: (4.0, 0.0),
             sensors: [(id: "acc", part: "ISM330DHCX", odr_hz: 6667, full_scale: 4, axes: X),
                       (id: "env", part: "HTS221", odr_hz: 1), (id: "baro", part: "LPS22HH", odr_hz: 10),
                       (id: "mic", part: "IMP34DT05", odr_hz: 16000)]),
        ])])],
        gateways: [(id: "gw1", machines: ["pump01", "fan01"], publish_interval: "15m", codec: SparkplugB)],
    )"#;

    pub(crate) fn scenario() -> Scenario {
        fabtwin_sim::scenario::from_str(SCENARIO, "sp.ron").expect("test scenario is valid")
    }

    pub(crate) fn features(k: f64) -> AxisFeatures {
        AxisFeatures {
            rms_g: 0.1 * k,
            peak_g: 0.4 * k,
            crest: 4.0,
            kurtosis: 3.1,
            vel_rms_mm_s: 1.7 * k,
            bands_g2: std::array::from_fn(|i| 0.001 * (i as f64 + 1.0) * k),
        }
    }

    /// A pump01 message with one vibration and one temperature reading, sent
    /// at `(seq % 1000) × 15 min`, the vibration window 5 min earlier.
    pub(crate) fn pump_message(seq: u64) -> Telemetry {
        let t = SimTime((seq % 1000) * 900_000_000_000);
        Telemetry {
            gateway: 0,
            machine: 0,
            seq,
            t,
            readings: vec![
                Reading {
                    sensor: "vib".into(),
                    part: fabtwin_sim::sensors::Part::Iis3dwb,
                    t: SimTime(t.0.saturating_sub(300_000_000_000)),
                    values: Values::Vibration {
                        axes: ['x', 'y', 'z']
                            .map(|axis| AxisReading {
                                axis,
                                features: features(1.0),
                            })
                            .to_vec(),
                        vel_rms_mm_s: 1.7,
                        zone: Zone::B,
                    },
                },
                Reading {
                    sensor: "temp".into(),
                    part: fabtwin_sim::sensors::Part::Stts22h,
                    t,
                    values: Values::Temperature { celsius: 41.25 },
                },
            ],
            status: Status {
                zone: Some(Zone::B),
                level: Level::Warning,
                reasons: vec!["velocity", "kurtosis"],
            },
        }
    }

    #[test]
    fn schema_lists_every_sensor_metric() {
        let sc = scenario();
        let pump = DeviceSchema::for_machine(&sc.machines[0]).expect("valid");
        let names: Vec<&str> = pump.metrics().iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names[..4],
            [
                "fabtwin/seq",
                "status/level",
                "status/zone",
                "status/reasons"
            ]
        );
        assert_eq!(pump.metrics().len(), 4 + 3 * 6 + 2 + 1);
        for n in [
            "vib/x/rms_g",
            "vib/y/kurtosis",
            "vib/z/bands_g2",
            "vib/vel_rms_mm_s",
            "vib/zone",
            "temp/temperature_c",
        ] {
            assert!(pump.position(n).is_some(), "{n} in {names:?}");
        }
        let dt = |s: &DeviceSchema, n: &str| s.metrics()[s.position(n).expect(n)].datatype;
        assert_eq!(dt(&pump, "fabtwin/seq"), DataType::UInt64);
        assert_eq!(dt(&pump, "vib/x/rms_g"), DataType::Float);
        assert_eq!(dt(&pump, "vib/x/bands_g2"), DataType::FloatArray);
        assert_eq!(dt(&pump, "vib/zone"), DataType::String);
        assert_eq!(dt(&pump, "status/level"), DataType::String);

        let fan = DeviceSchema::for_machine(&sc.machines[1]).expect("valid");
        let names: Vec<&str> = fan.metrics().iter().map(|m| m.name.as_str()).collect();
        assert!(
            names.contains(&"acc/x/rms_g") && !names.contains(&"acc/y/rms_g"),
            "{names:?}"
        );
        for n in [
            "env/humidity_pct",
            "env/temperature_c",
            "baro/pressure_hpa",
            "mic/spl_db",
            "mic/peak_pa",
        ] {
            assert!(names.contains(&n), "{n} in {names:?}");
        }
    }

    #[test]
    fn schema_rejects_duplicates_and_bad_ids() {
        let d = || {
            vec![
                MetricDef::new("a", DataType::Float),
                MetricDef::new("a", DataType::String),
            ]
        };
        let e = DeviceSchema::new("dev", d())
            .expect_err("duplicate")
            .to_string();
        assert_eq!(e, "device `dev` declares metric `a` twice");
        let e =
            DeviceSchema::new("dev", vec![MetricDef::new("", DataType::Float)]).expect_err("empty");
        assert!(e.to_string().contains("empty name"), "{e}");
        assert!(DeviceSchema::new("de/v", vec![]).is_err());
    }

    #[test]
    fn telemetry_maps_values_names_and_timestamps() {
        let sc = scenario();
        let m = pump_message(3);
        let out = telemetry_metrics(&sc, &m).expect("maps");
        let schema = DeviceSchema::for_machine(&sc.machines[0]).expect("valid");
        let start_ms = 1_767_247_200_000; // 2026-01-01T06:00:00Z
        let get = |n: &str| {
            out.iter()
                .find(|x| x.name.as_deref() == Some(n))
                .unwrap_or_else(|| panic!("{n}"))
        };
        assert_eq!(get("fabtwin/seq").value, Some(MetricValue::LongValue(3)));
        assert_eq!(get("fabtwin/seq").timestamp, Some(start_ms + 2_700_000));
        assert_eq!(
            get("status/level").value,
            Some(MetricValue::StringValue("warning".into()))
        );
        assert_eq!(
            get("status/zone").value,
            Some(MetricValue::StringValue("B".into()))
        );
        assert_eq!(
            get("status/reasons").value,
            Some(MetricValue::StringValue("velocity,kurtosis".into()))
        );
        assert_eq!(get("vib/x/rms_g").value, Some(MetricValue::FloatValue(0.1)));
        assert_eq!(
            get("vib/x/rms_g").timestamp,
            Some(start_ms + 2_400_000),
            "acquisition time, not send time"
        );
        assert_eq!(
            get("vib/zone").value,
            Some(MetricValue::StringValue("B".into()))
        );
        assert_eq!(
            get("temp/temperature_c").value,
            Some(MetricValue::FloatValue(41.25))
        );
        let Some(MetricValue::BytesValue(b)) = &get("vib/z/bands_g2").value else {
            panic!("bands are bytes")
        };
        assert_eq!(b.len(), 32);
        assert_eq!(b[4..8], 0.002f32.to_le_bytes());
        // Every metric is in the DBIRTH schema, none carries a datatype (DATA).
        for x in &out {
            assert!(
                schema.position(x.name.as_deref().expect("named")).is_some(),
                "{x:?}"
            );
            assert_eq!(x.datatype, None);
        }
        assert_eq!(out.len(), 4 + 3 * 6 + 2 + 1);
    }

    #[test]
    fn dropout_sends_the_sensors_metrics_as_null() {
        let sc = scenario();
        let mut m = pump_message(0);
        m.readings[0].values = Values::Missing;
        m.status.zone = None;
        let out = telemetry_metrics(&sc, &m).expect("maps");
        let nulls: Vec<&str> = out
            .iter()
            .filter(|x| x.is_null == Some(true))
            .map(|x| x.name.as_deref().expect("named"))
            .collect();
        assert_eq!(nulls.len(), 1 + 3 * 6 + 2, "{nulls:?}");
        assert!(
            nulls.contains(&"status/zone") && nulls.contains(&"vib/y/bands_g2"),
            "{nulls:?}"
        );
        assert!(
            out.iter()
                .filter(|x| x.is_null == Some(true))
                .all(|x| x.value.is_none())
        );

        m.readings[0].sensor = "nope".into();
        let e = telemetry_metrics(&sc, &m)
            .expect_err("unknown sensor")
            .to_string();
        assert_eq!(e, "device `pump01` has no sensor `nope` (valid: vib, temp)");
        m.machine = 9;
        let e = telemetry_metrics(&sc, &m)
            .expect_err("unknown machine")
            .to_string();
        assert_eq!(
            e,
            "telemetry names machine #9, but the scenario has 2 machines"
        );
    }

    #[test]
    fn timestamps_are_ms_and_refuse_before_1970() {
        assert_eq!(timestamp_ms(Epoch(1_999_999), SimTime(0)).expect("ok"), 1);
        assert_eq!(
            timestamp_ms(Epoch::DEFAULT, SimTime(1_500_000)).expect("ok"),
            1_767_225_600_001
        );
        let e = timestamp_ms(Epoch(-1), SimTime(0)).expect_err("before 1970");
        assert!(e.to_string().contains("out of range"), "{e}");
    }
}
