//! The features a detector sees, per run and machine: velocity RMS and its
//! ISO 10816 zone, kurtosis and temperature.
//!
//! From a dataset directory they are the columns `ts_ns`, `velocity_mm_s`,
//! `iso_zone`, `kurtosis` and `temperature_c` of `features/run=NNNN/machine=ID/part-*`;
//! from a `fabtwin run` output directory (run 0) they come from
//! `telemetry.jsonl`: per acquisition, the machine's first vibration sensor
//! (velocity, zone, worst-axis kurtosis, as in datasets) and its first
//! temperature reading.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use super::table::Table;
use super::truth::Key;
use super::{ReadError, format_error, io, parse_ts, partitions};

/// Features of one machine at one acquisition.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FeatureRow {
    /// Acquisition instant, Unix nanoseconds.
    pub ts_ns: i64,
    /// ISO 10816 velocity RMS, mm/s.
    pub velocity_mm_s: Option<f64>,
    /// ISO 10816 zone, `A` … `D`.
    pub iso_zone: Option<char>,
    /// Kurtosis (3 for Gaussian noise).
    pub kurtosis: Option<f64>,
    /// Temperature, °C.
    pub temperature_c: Option<f64>,
}

/// Feature rows per (run, machine), sorted by time.
pub type Features = BTreeMap<Key, Vec<FeatureRow>>;

const FEATURE_COLUMNS: [&str; 5] = [
    "ts_ns",
    "velocity_mm_s",
    "iso_zone",
    "kurtosis",
    "temperature_c",
];

/// Reads features from a dataset directory or a run output directory (or its
/// `telemetry.jsonl`).
pub fn read(path: &Path) -> Result<Features, ReadError> {
    if path.is_dir() && path.join("features").is_dir() {
        return read_dataset(&path.join("features"));
    }
    if path.is_dir() && path.join("telemetry.jsonl").is_file() {
        return read_telemetry(&path.join("telemetry.jsonl"));
    }
    if path.is_file() && path.extension().is_some_and(|e| e == "jsonl") {
        return read_telemetry(path);
    }
    Err(format_error(
        path,
        "expected a dataset directory (with features/) or a run output directory (with telemetry.jsonl)",
    ))
}

fn zone(t: &Table, r: usize, c: usize) -> Result<Option<char>, ReadError> {
    match t.str(r, c)? {
        None => Ok(None),
        Some(z @ ("A" | "B" | "C" | "D")) => Ok(z.chars().next()),
        Some(other) => Err(t.error(
            r,
            c,
            format!("`{other}` is not an ISO 10816 zone (valid: A, B, C, D)"),
        )),
    }
}

fn read_dataset(root: &Path) -> Result<Features, ReadError> {
    let mut out = Features::new();
    for (run, machine, files) in partitions(root)? {
        let mut rows = Vec::new();
        for f in files {
            let t = Table::read(&f, &FEATURE_COLUMNS)?;
            let c: Vec<usize> = FEATURE_COLUMNS
                .iter()
                .map(|n| t.require(n))
                .collect::<Result<_, _>>()?;
            for r in 0..t.rows() {
                rows.push(FeatureRow {
                    ts_ns: t
                        .int(r, c[0])?
                        .ok_or_else(|| t.error(r, c[0], "must not be empty"))?,
                    velocity_mm_s: t.float(r, c[1])?,
                    iso_zone: zone(&t, r, c[2])?,
                    kurtosis: t.float(r, c[3])?,
                    temperature_c: t.float(r, c[4])?,
                });
            }
        }
        rows.sort_by_key(|r| r.ts_ns);
        out.insert((run, machine), rows);
    }
    Ok(out)
}

#[derive(serde::Deserialize)]
struct Envelope {
    payload: Payload,
}

#[derive(serde::Deserialize)]
struct Payload {
    /// Empty on messages that are not a device's (a flow line's), which carry no readings.
    #[serde(default)]
    device: String,
    #[serde(default)]
    readings: Vec<ReadingLine>,
}

#[derive(serde::Deserialize)]
struct ReadingLine {
    ts: String,
    vel_rms_mm_s: Option<f64>,
    zone: Option<String>,
    #[serde(default)]
    axes: Vec<AxisLine>,
    temperature_c: Option<f64>,
}

#[derive(serde::Deserialize)]
struct AxisLine {
    kurtosis: f64,
}

fn read_telemetry(path: &Path) -> Result<Features, ReadError> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    // (machine, ts) → row; the first vibration and temperature reading win.
    let mut rows: BTreeMap<(String, i64), FeatureRow> = BTreeMap::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let at = |problem: String| format_error(path, format!("line {}: {problem}", i + 1));
        let env: Envelope = serde_json::from_str(&line).map_err(|e| at(e.to_string()))?;
        for r in env.payload.readings {
            let ts =
                parse_ts(&r.ts).ok_or_else(|| at(format!("`{}` is not an RFC 3339 time", r.ts)))?;
            let row = rows
                .entry((env.payload.device.clone(), ts))
                .or_insert_with(|| FeatureRow {
                    ts_ns: ts,
                    ..FeatureRow::default()
                });
            if let Some(v) = r.vel_rms_mm_s
                && row.velocity_mm_s.is_none()
            {
                row.velocity_mm_s = Some(v);
                row.iso_zone = r.zone.as_deref().and_then(|z| z.chars().next());
                row.kurtosis = r.axes.iter().map(|a| a.kurtosis).reduce(f64::max);
            }
            if let Some(t) = r.temperature_c
                && row.temperature_c.is_none()
            {
                row.temperature_c = Some(t);
            }
        }
    }
    if rows.is_empty() {
        return Err(format_error(path, "no readings"));
    }
    let mut out = Features::new();
    for ((machine, _), row) in rows {
        out.entry((0, machine)).or_default().push(row);
    }
    Ok(out)
}
