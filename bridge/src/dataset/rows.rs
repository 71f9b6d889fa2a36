//! One run simulated into rows: each machine's acquisition windows joined with
//! the truth of the same instant, kept column by column.
//!
//! Features come from the telemetry the devices publish (the same readings
//! MQTT carries), labels from [`fabtwin_sim::truth`]. A window's readings
//! reach telemetry at a later publish; truth is produced when the window is
//! acquired, so each machine's truth waits in a queue until its readings
//! arrive.

use std::collections::VecDeque;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};

use fabtwin_sim::device::Fidelity;
use fabtwin_sim::edge::{BANDS, Reading, Values, Zone};
use fabtwin_sim::scenario::Scenario;
use fabtwin_sim::sensors::Measures;
use fabtwin_sim::time::SimTime;
use fabtwin_sim::truth::TruthRecord;
use fabtwin_sim::world::World;

use super::columns;
use super::raw::RawRows;

/// One machine's rows, column by column, in time order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MachineRows {
    /// Machine id (the partition key).
    pub machine: String,
    ts_ns: Vec<i64>,
    t_s: Vec<f64>,
    speed_rpm: Vec<f64>,
    load: Vec<f64>,
    ambient_c: Vec<f64>,
    velocity_mm_s: Vec<Option<f64>>,
    iso_zone: Vec<Option<&'static str>>,
    kurtosis: Vec<Option<f64>>,
    rms_g: Vec<Option<f64>>,
    peak_g: Vec<Option<f64>>,
    crest: Vec<Option<f64>>,
    hf_band_g2: Vec<Option<f64>>,
    temperature_c: Vec<Option<f64>>,
    /// Health label of each row.
    pub health: Vec<&'static str>,
    /// Fault-mode label of each row.
    pub fault_mode: Vec<&'static str>,
    severity: Vec<f64>,
    onset_ns: Vec<Option<i64>>,
    failure_ns: Vec<Option<i64>>,
    rul_s: Vec<Option<f64>>,
    censored: Vec<bool>,
    /// Sensor-fault label of each row.
    pub sensor_fault: Vec<Option<&'static str>>,
    faulty_sensor: Vec<Option<String>>,
    sensor_at_fault: Vec<bool>,
}

/// Which of a machine's sensors give the features.
#[derive(Clone, Copy, Debug)]
struct Primary {
    accelerometer: Option<usize>,
    thermometer: Option<usize>,
}

impl MachineRows {
    /// Rows held.
    pub fn len(&self) -> usize {
        self.ts_ns.len()
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.ts_ns.is_empty()
    }

    fn push(&mut self, sc: &Scenario, primary: Primary, truth: &TruthRecord, window: &[Reading]) {
        let ts = |t: SimTime| i64::try_from(sc.start.unix_nanos(t)).unwrap_or(i64::MAX);
        self.ts_ns.push(ts(truth.t));
        self.t_s.push(truth.t.as_secs_f64());
        self.speed_rpm.push(truth.speed_rpm);
        self.load.push(truth.load);
        self.ambient_c.push(sc.ambient.celsius);

        let sensor = |i: Option<usize>| {
            let id = &sc.machines[truth.machine].sensors[i?].id;
            window.iter().find(|r| &r.sensor == id).map(|r| &r.values)
        };
        match sensor(primary.accelerometer) {
            Some(Values::Vibration {
                axes,
                vel_rms_mm_s,
                zone,
            }) => {
                let worst = |f: fn(&fabtwin_sim::edge::AxisFeatures) -> f64| {
                    axes.iter().map(|a| f(&a.features)).fold(0.0, f64::max)
                };
                self.velocity_mm_s.push(Some(*vel_rms_mm_s));
                self.iso_zone.push(Some(zone_name(*zone)));
                self.kurtosis.push(Some(worst(|f| f.kurtosis)));
                self.rms_g.push(Some(worst(|f| f.rms_g)));
                self.peak_g.push(Some(worst(|f| f.peak_g)));
                self.crest.push(Some(worst(|f| f.crest)));
                self.hf_band_g2.push(Some(
                    axes.iter()
                        .map(|a| a.features.bands_g2[BANDS / 2..].iter().sum::<f64>())
                        .sum(),
                ));
            }
            _ => {
                self.velocity_mm_s.push(None);
                self.iso_zone.push(None);
                self.kurtosis.push(None);
                self.rms_g.push(None);
                self.peak_g.push(None);
                self.crest.push(None);
                self.hf_band_g2.push(None);
            }
        }
        self.temperature_c.push(match sensor(primary.thermometer) {
            Some(Values::Temperature { celsius } | Values::Humidity { celsius, .. }) => {
                Some(*celsius)
            }
            _ => None,
        });

        let top =
            truth
                .modes
                .iter()
                .fold(
                    None,
                    |best: Option<&fabtwin_sim::truth::ModeTruth>, m| match best {
                        Some(b) if b.severity >= m.severity => Some(b),
                        _ => Some(m),
                    },
                );
        self.health.push(truth.health.name());
        self.fault_mode.push(top.map_or("none", |m| m.mode.name()));
        self.severity.push(top.map_or(0.0, |m| m.severity));
        self.onset_ns.push(top.map(|m| ts(m.onset)));
        self.failure_ns.push(truth.failure_at.map(ts));
        self.rul_s.push(truth.rul_s);
        self.censored.push(truth.censored);
        let sf = truth.sensor_faults.first();
        self.sensor_fault.push(sf.map(|f| f.fault));
        self.faulty_sensor.push(sf.map(|f| f.sensor.clone()));
        self.sensor_at_fault.push(sf.is_some());
    }

    /// The rows as one Arrow record batch with [`columns::schema`].
    pub fn batch(&self) -> RecordBatch {
        let f = |v: &[f64]| Arc::new(Float64Array::from(v.to_vec())) as ArrayRef;
        let fo = |v: &[Option<f64>]| Arc::new(Float64Array::from(v.to_vec())) as ArrayRef;
        let io = |v: &[Option<i64>]| Arc::new(Int64Array::from(v.to_vec())) as ArrayRef;
        let so = |v: &[Option<&'static str>]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
        let s = |v: &[&'static str]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
        let b = |v: &[bool]| Arc::new(BooleanArray::from(v.to_vec())) as ArrayRef;
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(self.ts_ns.clone())),
            f(&self.t_s),
            f(&self.speed_rpm),
            f(&self.load),
            f(&self.ambient_c),
            fo(&self.velocity_mm_s),
            so(&self.iso_zone),
            fo(&self.kurtosis),
            fo(&self.rms_g),
            fo(&self.peak_g),
            fo(&self.crest),
            fo(&self.hf_band_g2),
            fo(&self.temperature_c),
            s(&self.health),
            s(&self.fault_mode),
            f(&self.severity),
            io(&self.onset_ns),
            io(&self.failure_ns),
            fo(&self.rul_s),
            b(&self.censored),
            so(&self.sensor_fault),
            Arc::new(StringArray::from(self.faulty_sensor.clone())),
            b(&self.sensor_at_fault),
        ];
        RecordBatch::try_new(columns::schema(), arrays)
            .expect("the arrays follow the schema column for column")
    }
}

fn zone_name(z: Zone) -> &'static str {
    match z {
        Zone::A => "A",
        Zone::B => "B",
        Zone::C => "C",
        Zone::D => "D",
    }
}

fn primary(sc: &Scenario, m: usize) -> Primary {
    let sensors = &sc.machines[m].sensors;
    let first = |want: &[Measures]| {
        sensors
            .iter()
            .position(|s| want.contains(&s.part.spec().measures))
    };
    Primary {
        accelerometer: first(&[Measures::Vibration]),
        thermometer: first(&[Measures::Temperature]).or_else(|| first(&[Measures::Humidity])),
    }
}

/// Simulates `scenario` to its end at `fidelity` and returns every machine's
/// rows, in scenario order. `progress` is called with the rows added at each
/// step (for a progress bar).
pub fn simulate(
    scenario: Scenario,
    fidelity: Fidelity,
    progress: impl FnMut(u64),
) -> Vec<MachineRows> {
    simulate_with_raw(scenario, fidelity, false, progress).0
}

/// [`simulate`], and with `raw_windows` (in [`Fidelity::Raw`]) every machine's
/// raw acquisition windows too, in scenario order (none otherwise). The
/// feature rows are the same either way.
pub fn simulate_with_raw(
    scenario: Scenario,
    fidelity: Fidelity,
    raw_windows: bool,
    mut progress: impl FnMut(u64),
) -> (Vec<MachineRows>, Vec<RawRows>) {
    let n = scenario.machines.len();
    let primaries: Vec<Primary> = (0..n).map(|m| primary(&scenario, m)).collect();
    let mut rows: Vec<MachineRows> = scenario
        .machines
        .iter()
        .map(|m| MachineRows {
            machine: m.id.clone(),
            ..MachineRows::default()
        })
        .collect();
    let mut waiting: Vec<VecDeque<TruthRecord>> = vec![VecDeque::new(); n];
    let mut world = World::new(scenario, fidelity);
    let mut raw: Vec<RawRows> = Vec::new();
    if world.keep_raw_windows(raw_windows) {
        raw = rows.iter().map(|r| RawRows::new(&r.machine)).collect();
    }
    while let Some(step) = world.step() {
        let sc = world.scenario();
        for w in step.raw {
            raw[w.machine].push(sc, w);
        }
        let mut added = 0u64;
        for msg in &step.telemetry {
            let m = msg.machine;
            for window in msg.readings.chunk_by(|a, b| a.t == b.t) {
                let t = window[0].t;
                // Truth of windows with no readings (none expected) is written without features.
                while let Some(truth) = waiting[m].pop_front() {
                    if truth.t == t {
                        rows[m].push(sc, primaries[m], &truth, window);
                        added += 1;
                        break;
                    }
                    rows[m].push(sc, primaries[m], &truth, &[]);
                    added += 1;
                }
            }
        }
        for truth in step.truth {
            waiting[truth.machine].push_back(truth);
        }
        progress(added);
    }
    let sc = world.scenario();
    for (m, queue) in waiting.into_iter().enumerate() {
        for truth in queue {
            rows[m].push(sc, primaries[m], &truth, &[]);
            progress(1);
        }
    }
    (rows, raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"Scenario(name: "r", duration: "6h", seed: 3,
        acquisition: (interval: "10m", window_samples: 4096),
        sites: [(id: "s", lines: [(id: "l", machines: [
            (id: "m1", kind: Motor, rated_speed_rpm: 1480,
             sensors: [(id: "vib", part: "IIS3DWB"), (id: "temp", part: "STTS22H", odr_hz: 1)]),
            (id: "m2", kind: Fan, rated_speed_rpm: 980, sensors: [(id: "vib", part: "IIS3DWB")]),
        ])])],
        gateways: [(id: "g", machines: ["m1", "m2"], publish_interval: "30m")],
        degradation: [(machine: "m1", mode: bearing_outer, onset: At("1h"), initial: 0.1,
            growth: Exponential(rate_per_day: 20.0, rate_cv: 0.01, sigma_per_sqrt_day: 0.0))],
        faults: [(machine: "m2", sensor: "vib", kind: Dropout, at: "2h", duration: "1h")],
    )"#;

    #[test]
    fn every_window_becomes_one_row_with_its_own_truth() {
        let sc = fabtwin_sim::scenario::from_str(SRC, "r.ron").unwrap();
        let mut counted = 0;
        let rows = simulate(sc, Fidelity::Features, |n| counted += n);
        assert_eq!(rows.len(), 2);
        for r in &rows {
            assert_eq!(r.len(), 36, "{}", r.machine);
            assert!(r.ts_ns.windows(2).all(|w| w[0] < w[1]));
        }
        assert_eq!(counted, 72);
        let m1 = &rows[0];
        assert_eq!(m1.fault_mode[0], "none");
        assert_eq!(m1.health[0], "healthy");
        assert_eq!(m1.fault_mode[6], "bearing_outer");
        assert!(m1.onset_ns[6].is_some());
        assert!(m1.temperature_c.iter().all(Option::is_some));
        let m2 = &rows[1];
        // Dropout from 2 h to 3 h: windows 12..18 have no vibration features and say so.
        assert!(m2.velocity_mm_s[11].is_some());
        assert!(m2.velocity_mm_s[12].is_none());
        assert_eq!(m2.sensor_fault[12], Some("dropout"));
        assert!(m2.sensor_at_fault[12] && !m2.sensor_at_fault[18]);
        assert!(m2.temperature_c.iter().all(Option::is_none));
        assert_eq!(m1.batch().num_rows(), 36);
    }

    #[test]
    fn raw_windows_come_one_per_sensor_and_window_and_leave_the_features_alone() {
        let sc = fabtwin_sim::scenario::from_str(SRC, "r.ron").unwrap();
        let plain = simulate(sc.clone(), Fidelity::Raw, |_| {});
        let (rows, raw) = simulate_with_raw(sc.clone(), Fidelity::Raw, true, |_| {});
        assert_eq!(rows, plain);
        assert_eq!(raw.len(), 2);
        assert_eq!((raw[0].machine.as_str(), raw[0].len()), ("m1", 36 * 2));
        assert_eq!((raw[1].machine.as_str(), raw[1].len()), ("m2", 36));
        let b = raw[1].batch();
        assert_eq!(b.num_rows(), 36);
        // m2's accelerometer drops out for windows 12..18: no samples on any axis.
        for axis in ["x", "y", "z"] {
            assert_eq!(b.column_by_name(axis).unwrap().null_count(), 6, "{axis}");
        }
        let (_, none) = simulate_with_raw(sc, Fidelity::Features, true, |_| {});
        assert!(none.is_empty(), "features fidelity synthesises no windows");
    }
}
