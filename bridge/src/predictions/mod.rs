//! Reading what `fabtwin score` and `fabtwin baseline` work on: the truth of
//! a dataset or a run, feature rows, and prediction files.
//!
//! - [`truth`]: per run and machine, the labelled instants, from a dataset
//!   directory (`dataset.json` + `features/run=NNNN/machine=ID/part-*.parquet`
//!   or `.csv`, the partition keys taken from the Hive path) or from a
//!   `fabtwin run` output (`truth.jsonl`, run 0).
//! - [`baseline`]: the shipped baseline detector over feature rows.
//! - [`features`]: the features a detector sees (velocity, ISO 10816 zone,
//!   kurtosis, temperature), from the same dataset layout or from a run's
//!   `telemetry.jsonl`.
//! - [`file`]: prediction files (CSV or Parquet: `run`, `machine`, `ts_ns` and
//!   any of `alarm`, `fault_class`, `rul_s`, `anomaly_score`), read with checks
//!   against the truth, and written.
//! - [`report`]: predictions scored against the truth, as `fabtwin score` reports them.
//! - [`table`]: the CSV (RFC 4180) and Parquet reader under them, whose errors
//!   name the file, row and column.

pub mod baseline;
pub mod features;
pub mod file;
pub mod report;
pub mod table;
pub mod truth;

use std::path::{Path, PathBuf};

/// Why a truth, feature or prediction file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A required column is absent.
    #[error("{path}: missing column `{column}` (the file has: {found})")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// The columns it has.
        found: String,
    },
    /// One value is wrong.
    #[error("{path}: {at}, column `{column}`: {problem}")]
    Cell {
        /// The file.
        path: PathBuf,
        /// Row (and line, for CSV).
        at: String,
        /// The column.
        column: String,
        /// What is wrong and what would be valid.
        problem: String,
    },
    /// The file or directory is not in a shape this reader knows.
    #[error("{path}: {problem}")]
    Format {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong and what would be valid.
        problem: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReadError + '_ {
    move |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn format_error(path: &Path, problem: impl Into<String>) -> ReadError {
    ReadError::Format {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

/// Parses an RFC 3339 timestamp into Unix nanoseconds.
pub fn parse_ts(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos()).ok()
}

/// The partition files of a Hive-partitioned table `root/run=NNNN/machine=ID/part-*.{parquet,csv}`,
/// as `(run, machine, files)`, sorted by run, machine and file name.
pub fn partitions(root: &Path) -> Result<Vec<(u32, String, Vec<PathBuf>)>, ReadError> {
    let mut out = Vec::new();
    for run_dir in sorted_dir(root)? {
        let Some(run) = key(&run_dir, "run") else {
            continue;
        };
        let run: u32 = run.parse().map_err(|_| {
            format_error(
                &run_dir,
                "partition `run=` must be a run number like run=0007",
            )
        })?;
        for machine_dir in sorted_dir(&run_dir)? {
            let Some(machine) = key(&machine_dir, "machine") else {
                continue;
            };
            let files: Vec<PathBuf> = sorted_dir(&machine_dir)?
                .into_iter()
                .filter(|p| {
                    p.is_file()
                        && p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("part-"))
                        && matches!(
                            p.extension().and_then(|e| e.to_str()),
                            Some("parquet" | "csv")
                        )
                })
                .collect();
            if !files.is_empty() {
                out.push((run, machine, files));
            }
        }
    }
    if out.is_empty() {
        return Err(format_error(
            root,
            "no partitions found (expected run=NNNN/machine=ID/part-00000.parquet or .csv)",
        ));
    }
    Ok(out)
}

fn key(dir: &Path, name: &str) -> Option<String> {
    let n = dir.file_name()?.to_str()?;
    let v = n.strip_prefix(name)?.strip_prefix('=')?;
    (dir.is_dir() && !v.is_empty()).then(|| v.to_string())
}

fn sorted_dir(dir: &Path) -> Result<Vec<PathBuf>, ReadError> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}
