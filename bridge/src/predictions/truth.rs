//! Ground truth per run and machine, from a dataset directory or a run's
//! `truth.jsonl`.
//!
//! A dataset directory holds `dataset.json` (whose `split` names the train and
//! test runs) and `features/run=NNNN/machine=ID/part-*.parquet` (or `.csv`)
//! with the label columns `ts_ns`, `health`, `fault_mode`, `onset_ns`,
//! `failure_ns`, `rul_s` and `censored`. A `fabtwin run` output directory (or
//! its `truth.jsonl`) is run 0; its fault mode at an instant is the active
//! mode of highest severity, as in datasets.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use fabtwin_sim::score::events::MachineTruth;

use super::table::Table;
use super::{ReadError, format_error, io, parse_ts, partitions};

/// A run number and a machine id.
pub type Key = (u32, String);

/// Health at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// No active fault mode.
    Healthy,
    /// A fault mode below failure.
    Degrading,
    /// Failed.
    Failed,
}

impl Health {
    fn parse(s: &str) -> Option<Health> {
        match s {
            "healthy" => Some(Health::Healthy),
            "degrading" => Some(Health::Degrading),
            "failed" => Some(Health::Failed),
            _ => None,
        }
    }
}

/// The labels of one machine at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct TruthRow {
    /// The instant, Unix nanoseconds.
    pub ts_ns: i64,
    /// Health.
    pub health: Health,
    /// `none` or the active fault mode of highest severity.
    pub fault_mode: String,
    /// Onset of that mode.
    pub onset_ns: Option<i64>,
    /// Realised failure time, if known (even past the run's end).
    pub failure_ns: Option<i64>,
    /// Remaining useful life, seconds, if known.
    pub rul_s: Option<f64>,
    /// Whether the failure lies beyond the run's end.
    pub censored: bool,
}

/// Train and test runs of a dataset.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Split {
    /// Training runs.
    pub train: Vec<u32>,
    /// Test runs.
    pub test: Vec<u32>,
}

/// Truth of every run and machine.
#[derive(Clone, Debug)]
pub struct Truth {
    /// Where it came from.
    pub source: PathBuf,
    /// Rows per (run, machine), sorted by time.
    pub series: BTreeMap<Key, Vec<TruthRow>>,
    /// The dataset's split (None for a run directory).
    pub split: Option<Split>,
}

/// The label columns a dataset partition must have.
pub const LABEL_COLUMNS: [&str; 7] = [
    "ts_ns",
    "health",
    "fault_mode",
    "onset_ns",
    "failure_ns",
    "rul_s",
    "censored",
];

impl Truth {
    /// Loads truth from a dataset directory, a run directory, `dataset.json`
    /// or a `truth.jsonl` file.
    pub fn load(path: &Path) -> Result<Truth, ReadError> {
        if path.is_dir() {
            if path.join("dataset.json").is_file() {
                return load_dataset(path);
            }
            if path.join("truth.jsonl").is_file() {
                return load_jsonl(&path.join("truth.jsonl"));
            }
            return Err(format_error(
                path,
                "neither a dataset (no dataset.json) nor a run output (no truth.jsonl)",
            ));
        }
        match path.file_name().and_then(|n| n.to_str()) {
            Some("dataset.json") => load_dataset(path.parent().unwrap_or(Path::new("."))),
            Some(n) if n.ends_with(".jsonl") => load_jsonl(path),
            _ => Err(format_error(
                path,
                "expected a dataset directory, a run output directory, dataset.json or truth.jsonl",
            )),
        }
    }

    /// The row in force at `ts` (the latest at or before it).
    pub fn at(&self, key: &Key, ts: i64) -> Option<&TruthRow> {
        let rows = self.series.get(key)?;
        let i = rows.partition_point(|r| r.ts_ns <= ts);
        i.checked_sub(1).map(|i| &rows[i])
    }

    /// What the event-level scoring needs to know about one series.
    pub fn machine(&self, key: &Key) -> Option<MachineTruth> {
        self.series.get(key).map(|rows| machine_truth(rows))
    }
}

/// Summarises a series: its span, the onset of its first fault, and its
/// failure when that is observed (a failed row, or an uncensored failure time
/// within the span).
pub fn machine_truth(rows: &[TruthRow]) -> MachineTruth {
    let first_ns = rows.first().map_or(0, |r| r.ts_ns);
    let last_ns = rows.last().map_or(0, |r| r.ts_ns);
    let failure_ns = rows
        .iter()
        .find(|r| r.health == Health::Failed)
        .map(|r| r.failure_ns.unwrap_or(r.ts_ns).min(r.ts_ns))
        .or_else(|| {
            rows.iter()
                .filter(|r| !r.censored)
                .find_map(|r| r.failure_ns.filter(|&f| f <= last_ns))
        });
    let onset_ns = rows
        .iter()
        .filter(|r| r.health != Health::Healthy)
        .map(|r| r.onset_ns.unwrap_or(r.ts_ns))
        .min()
        .map(|o| failure_ns.map_or(o, |f| o.min(f)));
    MachineTruth {
        first_ns,
        last_ns,
        onset_ns,
        failure_ns: failure_ns.filter(|_| onset_ns.is_some()),
    }
}

fn load_dataset(dir: &Path) -> Result<Truth, ReadError> {
    let card_path = dir.join("dataset.json");
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&card_path).map_err(io(&card_path))?)
            .map_err(|e| format_error(&card_path, format!("not JSON: {e}")))?;
    let runs = |name: &str| -> Result<Vec<u32>, ReadError> {
        match card.get("split").and_then(|s| s.get(name)) {
            None => Ok(Vec::new()),
            Some(v) => v
                .as_array()
                .and_then(|a| {
                    a.iter()
                        .map(|x| x.as_u64().and_then(|x| u32::try_from(x).ok()))
                        .collect()
                })
                .ok_or_else(|| {
                    format_error(
                        &card_path,
                        format!("split.{name} must be a list of run numbers"),
                    )
                }),
        }
    };
    let split = card
        .get("split")
        .map(|_| -> Result<Split, ReadError> {
            Ok(Split {
                train: runs("train")?,
                test: runs("test")?,
            })
        })
        .transpose()?;
    let mut series = BTreeMap::new();
    for (run, machine, files) in partitions(&dir.join("features"))? {
        let mut rows = Vec::new();
        for f in files {
            let t = Table::read(&f, &LABEL_COLUMNS)?;
            let c: Vec<usize> = LABEL_COLUMNS
                .iter()
                .map(|n| t.require(n))
                .collect::<Result<_, _>>()?;
            for r in 0..t.rows() {
                let health_text = t.need(r, c[1], t.str(r, c[1])?)?;
                let health = Health::parse(health_text).ok_or_else(|| {
                    t.error(
                        r,
                        c[1],
                        format!(
                            "`{health_text}` is not a health (valid: healthy, degrading, failed)"
                        ),
                    )
                })?;
                rows.push(TruthRow {
                    ts_ns: t.need(r, c[0], t.int(r, c[0])?)?,
                    health,
                    fault_mode: t.need(r, c[2], t.str(r, c[2])?)?.to_string(),
                    onset_ns: t.int(r, c[3])?,
                    failure_ns: t.int(r, c[4])?,
                    rul_s: t.float(r, c[5])?,
                    censored: t.need(r, c[6], t.bool(r, c[6])?)?,
                });
            }
        }
        rows.sort_by_key(|r| r.ts_ns);
        series.insert((run, machine), rows);
    }
    Ok(Truth {
        source: dir.to_path_buf(),
        series,
        split,
    })
}

#[derive(serde::Deserialize)]
struct TruthLine {
    machine: String,
    ts_ns: i64,
    health: String,
    #[serde(default)]
    modes: Vec<ModeLine>,
    failure_at: Option<String>,
    rul_s: Option<f64>,
    censored: bool,
}

#[derive(serde::Deserialize)]
struct ModeLine {
    mode: String,
    severity: f64,
    onset: String,
}

fn load_jsonl(path: &Path) -> Result<Truth, ReadError> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    let mut series: BTreeMap<Key, Vec<TruthRow>> = BTreeMap::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let at = |problem: String| format_error(path, format!("line {}: {problem}", i + 1));
        let l: TruthLine = serde_json::from_str(&line).map_err(|e| at(e.to_string()))?;
        let health = Health::parse(&l.health).ok_or_else(|| {
            at(format!(
                "health `{}` (valid: healthy, degrading, failed)",
                l.health
            ))
        })?;
        let ts = |s: &str| parse_ts(s).ok_or_else(|| at(format!("`{s}` is not an RFC 3339 time")));
        let top = l
            .modes
            .iter()
            .fold(None::<&ModeLine>, |best, m| match best {
                Some(b) if b.severity >= m.severity => Some(b),
                _ => Some(m),
            });
        series.entry((0, l.machine)).or_default().push(TruthRow {
            ts_ns: l.ts_ns,
            health,
            fault_mode: top.map_or("none".to_string(), |m| m.mode.clone()),
            onset_ns: top.map(|m| ts(&m.onset)).transpose()?,
            failure_ns: l.failure_at.as_deref().map(ts).transpose()?,
            rul_s: l.rul_s,
            censored: l.censored,
        });
    }
    for rows in series.values_mut() {
        rows.sort_by_key(|r| r.ts_ns);
    }
    if series.is_empty() {
        return Err(format_error(path, "no truth records"));
    }
    Ok(Truth {
        source: path.to_path_buf(),
        series,
        split: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        ts: i64,
        health: Health,
        onset: Option<i64>,
        failure: Option<i64>,
        censored: bool,
    ) -> TruthRow {
        TruthRow {
            ts_ns: ts,
            health,
            fault_mode: if health == Health::Healthy {
                "none"
            } else {
                "bearing_outer"
            }
            .into(),
            onset_ns: onset,
            failure_ns: failure,
            rul_s: None,
            censored,
        }
    }

    #[test]
    fn observed_failure_gives_an_episode() {
        use Health::*;
        let rows = [
            row(0, Healthy, None, Some(35), false),
            row(10, Healthy, None, Some(35), false),
            row(20, Degrading, Some(15), Some(35), false),
            row(30, Degrading, Some(15), Some(35), false),
            row(40, Failed, Some(15), Some(35), false),
        ];
        let m = machine_truth(&rows);
        assert_eq!(
            (m.first_ns, m.last_ns, m.onset_ns, m.failure_ns),
            (0, 40, Some(15), Some(35))
        );
    }

    #[test]
    fn censored_fault_is_no_episode() {
        use Health::*;
        let rows = [
            row(0, Healthy, None, Some(500), true),
            row(10, Degrading, Some(5), Some(500), true),
        ];
        let m = machine_truth(&rows);
        assert_eq!((m.onset_ns, m.failure_ns), (Some(5), None));
    }

    #[test]
    fn truth_jsonl_takes_the_most_severe_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("truth.jsonl");
        std::fs::write(
            &p,
            concat!(
                r#"{"machine":"m","ts_ns":0,"health":"healthy","modes":[],"rul_s":null,"censored":true}"#,
                "\n",
                r#"{"machine":"m","ts_ns":1000000000,"health":"degrading","modes":[{"mode":"imbalance","severity":0.1,"onset":"1970-01-01T00:00:00.5Z"},{"mode":"looseness","severity":0.3,"onset":"1970-01-01T00:00:00.25Z"}],"failure_at":"1970-01-01T00:01:00Z","rul_s":59.0,"censored":false}"#,
                "\n"
            ),
        )
        .unwrap();
        let t = Truth::load(dir.path()).unwrap();
        let rows = &t.series[&(0, "m".to_string())];
        assert_eq!(rows[1].fault_mode, "looseness");
        assert_eq!(rows[1].onset_ns, Some(250_000_000));
        assert_eq!(rows[1].failure_ns, Some(60_000_000_000));
        assert_eq!(t.at(&(0, "m".into()), 999_999_999).unwrap().ts_ns, 0);
        assert!(t.at(&(0, "m".into()), -1).is_none());
    }
}
