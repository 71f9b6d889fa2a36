//! Prediction files: CSV or Parquet rows of `run` (integer), `machine`
//! (text), `ts_ns` (integer, Unix nanoseconds) and any of `alarm` (boolean or
//! 0/1), `fault_class` (`none` or a fault mode's snake-case name), `rul_s`
//! (seconds) and `anomaly_score` (any finite number, higher = more anomalous).
//!
//! [`read`] checks the shape of the file; [`check`] checks it against the
//! truth (known runs and machines, times within each run). Every error names
//! the file, the row and the column.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use fabtwin_sim::plant::FaultMode;

use super::table::Table;
use super::truth::Truth;
use super::{ReadError, format_error};

/// One prediction row.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// Where it is in its file ("row 3 (line 4)").
    pub at: String,
    /// Run number.
    pub run: u32,
    /// Machine id.
    pub machine: String,
    /// Instant, Unix nanoseconds.
    pub ts_ns: i64,
    /// Alarm raised.
    pub alarm: Option<bool>,
    /// Fault class guessed.
    pub fault_class: Option<String>,
    /// Remaining useful life predicted, seconds.
    pub rul_s: Option<f64>,
    /// Anomaly score (higher = more anomalous).
    pub anomaly_score: Option<f64>,
}

/// Which optional prediction columns a file has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    /// `alarm`.
    pub alarm: bool,
    /// `fault_class`.
    pub fault_class: bool,
    /// `rul_s`.
    pub rul_s: bool,
    /// `anomaly_score`.
    pub anomaly_score: bool,
}

/// A prediction file.
#[derive(Clone, Debug)]
pub struct Predictions {
    /// The file.
    pub path: PathBuf,
    /// Its optional columns.
    pub columns: Columns,
    /// Its rows, in file order.
    pub rows: Vec<Prediction>,
}

/// The columns a prediction file may have.
pub const COLUMNS: [&str; 7] = [
    "run",
    "machine",
    "ts_ns",
    "alarm",
    "fault_class",
    "rul_s",
    "anomaly_score",
];

/// Valid `fault_class` values.
pub fn class_names() -> Vec<&'static str> {
    std::iter::once("none")
        .chain(FaultMode::ALL.iter().map(|m| m.name()))
        .collect()
}

/// Reads a prediction file (`.csv` or `.parquet`).
pub fn read(path: &Path) -> Result<Predictions, ReadError> {
    let t = Table::read(path, &COLUMNS)?;
    let (run, machine, ts) = (
        t.require("run")?,
        t.require("machine")?,
        t.require("ts_ns")?,
    );
    let (alarm, class, rul, score) = (
        t.column("alarm"),
        t.column("fault_class"),
        t.column("rul_s"),
        t.column("anomaly_score"),
    );
    if alarm.is_none() && class.is_none() && rul.is_none() && score.is_none() {
        return Err(format_error(
            path,
            "no prediction column: expected at least one of alarm, fault_class, rul_s, anomaly_score",
        ));
    }
    let names = class_names();
    let mut rows = Vec::with_capacity(t.rows());
    for r in 0..t.rows() {
        let run_no = t.need(r, run, t.int(r, run)?)?;
        let run_no = u32::try_from(run_no)
            .map_err(|_| t.error(r, run, format!("{run_no} is not a run number (0 or more)")))?;
        let fault_class = match class {
            Some(c) => match t.str(r, c)? {
                Some(s) if !names.contains(&s) => {
                    return Err(t.error(
                        r,
                        c,
                        format!("`{s}` is not a fault class (valid: {})", names.join(", ")),
                    ));
                }
                v => v.map(str::to_string),
            },
            None => None,
        };
        rows.push(Prediction {
            at: t.location(r),
            run: run_no,
            machine: t.need(r, machine, t.str(r, machine)?)?.to_string(),
            ts_ns: t.need(r, ts, t.int(r, ts)?)?,
            alarm: alarm.map(|c| t.bool(r, c)).transpose()?.flatten(),
            fault_class,
            rul_s: rul.map(|c| t.float(r, c)).transpose()?.flatten(),
            anomaly_score: score.map(|c| t.float(r, c)).transpose()?.flatten(),
        });
    }
    Ok(Predictions {
        path: path.to_path_buf(),
        columns: Columns {
            alarm: alarm.is_some(),
            fault_class: class.is_some(),
            rul_s: rul.is_some(),
            anomaly_score: score.is_some(),
        },
        rows,
    })
}

/// Checks every row against the truth: its run and machine are known, and
/// its time lies within that run's observed span.
pub fn check(p: &Predictions, truth: &Truth) -> Result<(), ReadError> {
    let cell = |row: &Prediction, column: &str, problem: String| ReadError::Cell {
        path: p.path.clone(),
        at: row.at.clone(),
        column: column.to_string(),
        problem,
    };
    for row in &p.rows {
        let key = (row.run, row.machine.clone());
        let Some(series) = truth.series.get(&key) else {
            if !truth.series.keys().any(|k| k.0 == row.run) {
                let runs: Vec<String> = dedup(truth.series.keys().map(|k| k.0.to_string()));
                return Err(cell(
                    row,
                    "run",
                    format!(
                        "run {} is not in the truth (runs: {})",
                        row.run,
                        abbreviate(&runs)
                    ),
                ));
            }
            let machines: Vec<String> = dedup(
                truth
                    .series
                    .keys()
                    .filter(|k| k.0 == row.run)
                    .map(|k| k.1.clone()),
            );
            return Err(cell(
                row,
                "machine",
                format!(
                    "machine `{}` is not in run {} (machines: {})",
                    row.machine,
                    row.run,
                    abbreviate(&machines)
                ),
            ));
        };
        let (first, last) = (series[0].ts_ns, series[series.len() - 1].ts_ns);
        if row.ts_ns < first || row.ts_ns > last {
            return Err(cell(
                row,
                "ts_ns",
                format!(
                    "{} is outside run {} of machine `{}` (valid: {first} ..= {last})",
                    row.ts_ns, row.run, row.machine
                ),
            ));
        }
    }
    Ok(())
}

fn dedup(it: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = it.collect();
    v.dedup();
    v
}

fn abbreviate(v: &[String]) -> String {
    if v.len() <= 10 {
        v.join(", ")
    } else {
        format!("{}, … ({} in all)", v[..10].join(", "), v.len())
    }
}

/// Writes predictions as CSV (RFC 4180, empty field = null), with the
/// optional columns in `columns`. Floats are written in their shortest
/// round-tripping form, so the same rows give the same bytes.
pub fn write_csv(path: &Path, columns: Columns, rows: &[Prediction]) -> Result<(), ReadError> {
    let mut out = String::from("run,machine,ts_ns");
    let opt = [
        (columns.alarm, "alarm"),
        (columns.fault_class, "fault_class"),
        (columns.rul_s, "rul_s"),
        (columns.anomaly_score, "anomaly_score"),
    ];
    for (on, name) in opt {
        if on {
            out.push(',');
            out.push_str(name);
        }
    }
    out.push('\n');
    let num = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x}"));
    for r in rows {
        let _ = write!(out, "{},{},{}", r.run, quote(&r.machine), r.ts_ns);
        if columns.alarm {
            let _ = write!(
                out,
                ",{}",
                r.alarm.map_or("", |a| if a { "true" } else { "false" })
            );
        }
        if columns.fault_class {
            let _ = write!(
                out,
                ",{}",
                r.fault_class.as_deref().map_or(String::new(), quote)
            );
        }
        if columns.rul_s {
            let _ = write!(out, ",{}", num(r.rul_s));
        }
        if columns.anomaly_score {
            let _ = write!(out, ",{}", num(r.anomaly_score));
        }
        out.push('\n');
    }
    crate::files::write_atomic(path, out.as_bytes()).map_err(|e| match e {
        crate::files::OutputError::Io { path, source } => ReadError::Io { path, source },
    })
}

/// Quotes a CSV field when it needs it (comma, quote, line break, or empty).
fn quote(s: &str) -> String {
    if s.is_empty() || s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_csv() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.csv");
        let cols = Columns {
            alarm: true,
            fault_class: true,
            rul_s: true,
            anomaly_score: false,
        };
        let rows = vec![
            Prediction {
                at: "row 1 (line 2)".into(),
                run: 3,
                machine: "a,b".into(),
                ts_ns: 42,
                alarm: Some(true),
                fault_class: Some("imbalance".into()),
                rul_s: Some(1.25),
                anomaly_score: None,
            },
            Prediction {
                at: "row 2 (line 3)".into(),
                run: 3,
                machine: "m".into(),
                ts_ns: 43,
                alarm: Some(false),
                fault_class: None,
                rul_s: None,
                anomaly_score: None,
            },
        ];
        write_csv(&p, cols, &rows).unwrap();
        let back = read(&p).unwrap();
        assert_eq!(back.columns, cols);
        assert_eq!(back.rows, rows);
    }

    #[test]
    fn parquet_predictions_with_dictionary_text_and_int_alarms() {
        use std::sync::Arc;

        use arrow::array::{
            ArrayRef, DictionaryArray, Float32Array, Int8Array, Int32Array, Int64Array, StringArray,
        };
        use arrow::datatypes::Int32Type;
        use arrow::record_batch::RecordBatch;

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.parquet");
        let machine = DictionaryArray::<Int32Type>::try_new(
            Int32Array::from(vec![0, 1, 0]),
            Arc::new(StringArray::from(vec!["m1", "m2"])),
        )
        .unwrap();
        let cols: Vec<(&str, ArrayRef)> = vec![
            ("run", Arc::new(Int32Array::from(vec![0, 0, 1]))),
            ("machine", Arc::new(machine)),
            ("ts_ns", Arc::new(Int64Array::from(vec![10, 20, 30]))),
            (
                "alarm",
                Arc::new(Int8Array::from(vec![Some(0), None, Some(1)])),
            ),
            (
                "anomaly_score",
                Arc::new(Float32Array::from(vec![0.5, 1.5, 2.5])),
            ),
        ];
        let batch = RecordBatch::try_from_iter(cols).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&p).unwrap(),
            batch.schema(),
            None,
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let back = read(&p).unwrap();
        assert!(back.columns.alarm && back.columns.anomaly_score && !back.columns.rul_s);
        assert_eq!(back.rows[1].machine, "m2");
        assert_eq!(
            back.rows.iter().map(|r| r.alarm).collect::<Vec<_>>(),
            [Some(false), None, Some(true)]
        );
        assert_eq!(back.rows[2].run, 1);
        assert_eq!(back.rows[2].anomaly_score, Some(2.5));
        assert_eq!(back.rows[0].at, "row 1");
    }

    #[test]
    fn unknown_class_and_missing_columns_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.csv");
        std::fs::write(
            &p,
            "run,machine,ts_ns,fault_class\n0,m,1,none\n0,m,2,rust\n",
        )
        .unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(
            e.contains("row 2 (line 3), column `fault_class`: `rust` is not a fault class"),
            "{e}"
        );
        std::fs::write(&p, "run,ts_ns,alarm\n0,1,1\n").unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("missing column `machine`"), "{e}");
        std::fs::write(&p, "run,machine,ts_ns\n0,m,1\n").unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("no prediction column"), "{e}");
    }
}
