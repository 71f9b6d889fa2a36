//! The raw acquisition windows table: one row per (sensor, window) of a
//! machine, its samples as one list column per axis, written beside the
//! feature table at `raw/run=NNNN/machine=ID/part-00000.parquet`.
//!
//! A row joins the feature row of the same (run, machine, `ts_ns`): both
//! carry the window's start. Samples are stored as 32-bit floats (the
//! sensors' 16-bit outputs lose nothing), in the sensor's physical unit.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float32Builder, Float64Array, Int64Array, ListBuilder, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema};

use fabtwin_sim::scenario::Scenario;
use fabtwin_sim::sensors::Measures;
use fabtwin_sim::world::RawWindow;

/// One column of the raw table, as the card describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawColumn {
    /// Name.
    pub name: &'static str,
    /// Type, as the card names it (Arrow's lower-case names).
    pub ty: &'static str,
    /// Whether it may be null.
    pub nullable: bool,
    /// Unit (`""` for none).
    pub unit: &'static str,
    /// What it holds.
    pub description: &'static str,
}

const SAMPLES: &str = "list<float32>";

/// The raw table's columns, in file order.
pub const RAW_COLUMNS: &[RawColumn] = &[
    RawColumn {
        name: "ts_ns",
        ty: "int64",
        nullable: false,
        unit: "ns since 1970-01-01 UTC",
        description: "window start; equals ts_ns of the machine's feature row of the same window (join on run, machine, ts_ns)",
    },
    RawColumn {
        name: "window",
        ty: "int64",
        nullable: false,
        unit: "",
        description: "index of the acquisition window in the run, from 0 (window k starts k acquisition intervals after the run's start)",
    },
    RawColumn {
        name: "sensor",
        ty: "utf8",
        nullable: false,
        unit: "",
        description: "sensor id from the scenario",
    },
    RawColumn {
        name: "part",
        ty: "utf8",
        nullable: false,
        unit: "",
        description: "STMicroelectronics part number of the sensor",
    },
    RawColumn {
        name: "unit",
        ty: "utf8",
        nullable: false,
        unit: "",
        description: "unit of the samples: g (accelerometer), Pa (microphone), °C (temperature), %RH (humidity), hPa (pressure)",
    },
    RawColumn {
        name: "odr_hz",
        ty: "float64",
        nullable: false,
        unit: "Hz",
        description: "the sensor's output data rate; samples are 1/odr_hz apart",
    },
    RawColumn {
        name: "x",
        ty: SAMPLES,
        nullable: true,
        unit: "see unit",
        description: "samples of the x axis, or of the only channel of a single-channel sensor (microphone: the window's sound pressure; temperature, humidity, pressure: the window's one reading); null when the sensor delivered nothing (dropout) or has no x axis",
    },
    RawColumn {
        name: "y",
        ty: SAMPLES,
        nullable: true,
        unit: "see unit",
        description: "samples of the y axis (accelerometers measuring it); null otherwise",
    },
    RawColumn {
        name: "z",
        ty: SAMPLES,
        nullable: true,
        unit: "see unit",
        description: "samples of the z axis (accelerometers measuring it); null otherwise",
    },
];

/// The unit a part's samples are in.
pub fn unit(measures: Measures) -> &'static str {
    match measures {
        Measures::Vibration => "g",
        Measures::Sound => "Pa",
        Measures::Temperature => "°C",
        Measures::Humidity => "%RH",
        Measures::Pressure => "hPa",
    }
}

/// The Arrow schema of the raw table, from [`RAW_COLUMNS`].
pub fn schema() -> Arc<Schema> {
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    Arc::new(Schema::new(
        RAW_COLUMNS
            .iter()
            .map(|c| {
                let ty = match c.ty {
                    SAMPLES => DataType::List(item.clone()),
                    "int64" => DataType::Int64,
                    "float64" => DataType::Float64,
                    _ => DataType::Utf8,
                };
                Field::new(c.name, ty, c.nullable)
            })
            .collect::<Vec<_>>(),
    ))
}

/// The path of run `run`, machine `machine`'s raw table, relative to the dataset directory.
pub fn raw_path(run: u32, machine: &str) -> String {
    format!("raw/run={run:04}/machine={machine}/part-00000.parquet")
}

/// One machine's raw windows, in window then sensor order.
#[derive(Clone, Debug, Default)]
pub struct RawRows {
    /// Machine id (the partition key).
    pub machine: String,
    ts_ns: Vec<i64>,
    window: Vec<i64>,
    sensor: Vec<String>,
    part: Vec<&'static str>,
    unit: Vec<&'static str>,
    odr_hz: Vec<f64>,
    samples: Vec<[Option<Vec<f32>>; 3]>,
}

impl RawRows {
    /// No rows yet, for machine `machine`.
    pub fn new(machine: &str) -> RawRows {
        RawRows {
            machine: machine.to_string(),
            ..RawRows::default()
        }
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.ts_ns.len()
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.ts_ns.is_empty()
    }

    /// Adds window `w` of scenario `sc`.
    pub fn push(&mut self, sc: &Scenario, w: RawWindow) {
        let sensor = &sc.machines[w.machine].sensors[w.sensor];
        let interval = sc.acquisition_interval.0.max(1);
        self.ts_ns
            .push(i64::try_from(sc.start.unix_nanos(w.t)).unwrap_or(i64::MAX));
        self.window
            .push(i64::try_from(w.t.0 / interval).unwrap_or(i64::MAX));
        self.sensor.push(sensor.id.clone());
        self.part.push(sensor.part.spec().name);
        self.unit.push(unit(sensor.part.spec().measures));
        self.odr_hz.push(w.odr_hz);
        self.samples.push(
            w.samples
                .map(|c| c.map(|xs| xs.iter().map(|&x| x as f32).collect())),
        );
    }

    /// The rows as one Arrow record batch with [`schema`].
    pub fn batch(&self) -> RecordBatch {
        let list = |axis: usize| {
            let item = Field::new("item", DataType::Float32, false);
            let mut b = ListBuilder::new(Float32Builder::new()).with_field(item);
            for s in &self.samples {
                match &s[axis] {
                    Some(xs) => {
                        b.values().append_slice(xs);
                        b.append(true);
                    }
                    None => b.append(false),
                }
            }
            Arc::new(b.finish()) as ArrayRef
        };
        let strs = |v: &[&'static str]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(self.ts_ns.clone())),
            Arc::new(Int64Array::from(self.window.clone())),
            Arc::new(StringArray::from(self.sensor.clone())),
            strs(&self.part),
            strs(&self.unit),
            Arc::new(Float64Array::from(self.odr_hz.clone())),
            list(0),
            list(1),
            list(2),
        ];
        RecordBatch::try_new(schema(), arrays)
            .expect("the arrays follow the schema column for column")
    }
}
