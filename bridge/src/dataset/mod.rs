//! Labelled datasets: N Monte-Carlo runs of a scenario, each machine's
//! acquisition windows joined with ground truth, written Hive-partitioned
//! (`features/run=NNNN/machine=ID/part-00000.parquet`), optionally with every
//! sensor's raw acquisition windows beside them (`raw/…`, see [`raw`]), and a
//! dataset card (`dataset.json`, `README.md`) written last.
//!
//! Run `k` is the scenario with unit-to-unit variation drawn from its own seed
//! ([`fabtwin_sim::scenario::variation`]); runs are independent, so any number
//! of threads (`jobs`) or processes (`shard`) produce the same bytes.
//!
//! ```no_run
//! use fabtwin_bridge::dataset::{generate, Settings};
//! let text = std::fs::read_to_string("scenarios/benchmark.ron").unwrap();
//! let nominal = fabtwin_sim::scenario::from_str(&text, "benchmark.ron").unwrap();
//! let settings = Settings::new("benchmark.ron", &text, nominal, 4, env!("CARGO_PKG_VERSION"));
//! let done = generate(&settings, std::path::Path::new("out/ds"), &|_| {}).unwrap();
//! println!("{} rows", done.rows);
//! ```

pub mod bench;
pub mod card;
pub mod columns;
pub mod raw;
pub mod rows;
pub mod write;

pub use write::{Format, WriteError};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use fabtwin_sim::device::Fidelity;
use fabtwin_sim::rng::mix64;
use fabtwin_sim::scenario::Scenario;
use fabtwin_sim::scenario::variation::{Variation, run_seed};

pub use crate::shard::Shard;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Scenario file name as given (for the card).
    pub scenario_file: String,
    /// SHA-256 of the scenario file's bytes, hex.
    pub scenario_sha256: String,
    /// The scenario as written (its seed already overridden if asked).
    pub nominal: Scenario,
    /// Number of runs.
    pub runs: u32,
    /// Feature fidelity.
    pub fidelity: Fidelity,
    /// Table format.
    pub format: Format,
    /// Also write the raw acquisition windows table (`raw/…`, Parquet,
    /// [`Fidelity::Raw`] only; see [`raw`]).
    pub raw_windows: bool,
    /// Unit-to-unit tolerances.
    pub variation: Variation,
    /// Fraction of runs held out for testing, 0 … 1.
    pub test_fraction: f64,
    /// The runs this process writes.
    pub shard: Shard,
    /// Worker threads (≥ 1).
    pub jobs: usize,
    /// fabtwin version (for the card).
    pub version: String,
}

impl Settings {
    /// Settings with the defaults: Parquet, features fidelity, default
    /// variation, 20 % of runs for testing, one shard, one thread.
    pub fn new(
        scenario_file: &str,
        scenario_text: &str,
        nominal: Scenario,
        runs: u32,
        version: &str,
    ) -> Settings {
        Settings {
            scenario_file: scenario_file.to_string(),
            scenario_sha256: sha256_hex(scenario_text.as_bytes()),
            nominal,
            runs,
            fidelity: Fidelity::Features,
            format: Format::Parquet,
            raw_windows: false,
            variation: Variation::default(),
            test_fraction: 0.2,
            shard: Shard::ALL,
            jobs: 1,
            version: version.to_string(),
        }
    }

    /// The runs this process writes, in order.
    pub fn owned_runs(&self) -> Vec<u32> {
        (0..self.runs)
            .filter(|&r| self.shard.owns(u64::from(r)))
            .collect()
    }

    /// Everything that shapes the output, as one string (shards compare it
    /// before merging their summaries).
    pub fn fingerprint(&self) -> String {
        format!(
            "{} seed={} runs={} fidelity={} format={}{} test_fraction={} variation={:?} version={}",
            self.scenario_sha256,
            self.nominal.seed,
            self.runs,
            self.fidelity.name(),
            self.format.name(),
            if self.raw_windows {
                " raw_windows=true"
            } else {
                ""
            },
            self.test_fraction,
            self.variation,
            self.version
        )
    }

    /// Rows one run produces (machines × acquisition windows), for progress bars.
    pub fn rows_per_run(&self) -> u64 {
        let sc = &self.nominal;
        let windows = sc.duration.0.div_ceil(sc.acquisition_interval.0.max(1));
        windows * sc.machines.len() as u64
    }
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Label counts over a set of rows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Rows.
    pub rows: u64,
    /// Rows per health state.
    pub health: BTreeMap<String, u64>,
    /// Rows per fault mode (`none` included).
    pub fault_mode: BTreeMap<String, u64>,
    /// Rows per sensor fault (`none` included).
    pub sensor_fault: BTreeMap<String, u64>,
    /// Machines (per run) that fail within the run, per fault mode at failure.
    pub failures: BTreeMap<String, u64>,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.rows += other.rows;
        for (mine, theirs) in [
            (&mut self.health, &other.health),
            (&mut self.fault_mode, &other.fault_mode),
            (&mut self.sensor_fault, &other.sensor_fault),
            (&mut self.failures, &other.failures),
        ] {
            for (k, v) in theirs {
                *mine.entry(k.clone()).or_default() += v;
            }
        }
    }

    fn of(rows: &rows::MachineRows) -> Counts {
        let mut c = Counts {
            rows: rows.len() as u64,
            ..Counts::default()
        };
        for i in 0..rows.len() {
            *c.health.entry(rows.health[i].to_string()).or_default() += 1;
            *c.fault_mode
                .entry(rows.fault_mode[i].to_string())
                .or_default() += 1;
            *c.sensor_fault
                .entry(rows.sensor_fault[i].unwrap_or("none").to_string())
                .or_default() += 1;
        }
        if let Some(i) = rows.health.iter().position(|h| *h == "failed") {
            *c.failures
                .entry(rows.fault_mode[i].to_string())
                .or_default() += 1;
        }
        c
    }
}

/// What one run wrote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Run number.
    pub run: u32,
    /// The run's seed.
    pub seed: u64,
    /// Feature files written, relative to the dataset directory, with their row counts.
    pub files: Vec<(String, u64)>,
    /// Raw window files written, relative to the dataset directory, with their row counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub raw_files: Vec<(String, u64)>,
    /// Label counts.
    pub counts: Counts,
}

/// What a call to [`generate`] did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Feature rows written by this process.
    pub rows: u64,
    /// Raw window rows written by this process.
    pub raw_rows: u64,
    /// Files written by this process.
    pub files: u64,
    /// Bytes of table files written by this process.
    pub bytes: u64,
    /// Whether the card was written (always without shards; with shards, by
    /// the process that finds every shard done).
    pub card_written: bool,
    /// Shard summaries still missing before the card can be written.
    pub shards_missing: Vec<u32>,
}

impl Settings {
    /// Checks that the settings can be honoured: the raw windows table needs
    /// raw fidelity (every window synthesised) and Parquet (a CSV cell cannot
    /// hold a list of samples).
    pub fn check(&self) -> Result<(), String> {
        if self.raw_windows && self.fidelity != Fidelity::Raw {
            return Err(format!(
                "the raw windows table needs fidelity raw (features fidelity synthesises no samples), not {}",
                self.fidelity.name()
            ));
        }
        if self.raw_windows && self.format != Format::Parquet {
            return Err(format!(
                "the raw windows table needs format parquet (one list of samples per axis per row), not {}",
                self.format.name()
            ));
        }
        Ok(())
    }
}

/// Why a dataset could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// The output directory holds something other than a dataset.
    #[error(
        "{path}: not a fabtwin dataset directory ({found} is not part of one); choose an empty or new directory"
    )]
    NotADataset {
        /// The directory.
        path: PathBuf,
        /// The unexpected entry.
        found: String,
    },
    /// The settings contradict each other (see [`Settings::check`]).
    #[error("{0}")]
    Settings(String),
    /// Writing failed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A shard summary could not be read.
    #[error("{path}: unreadable shard summary: {message}")]
    Shard {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
}

/// Entries a dataset directory may hold.
const OWN_ENTRIES: &[&str] = &["features", "raw", "_shards", "dataset.json", "README.md"];

/// The path of run `run`, machine `machine`'s feature table, relative to the dataset directory.
pub fn table_path(run: u32, machine: &str, format: Format) -> String {
    format!(
        "features/run={run:04}/machine={machine}/part-00000.{}",
        format.extension()
    )
}

/// Deterministic split by run: runs ranked by a hash of (seed, run), the first
/// `ceil(runs · test_fraction)` held out for testing (at least one when there
/// are two or more runs and the fraction is positive, never all of them).
pub fn split(seed: u64, runs: u32, test_fraction: f64) -> (Vec<u32>, Vec<u32>) {
    let mut ranked: Vec<u32> = (0..runs).collect();
    ranked.sort_by_key(|&r| (mix64(seed ^ mix64(0x7370_6c69_7400 ^ u64::from(r))), r));
    let mut n_test = (f64::from(runs) * test_fraction.clamp(0.0, 1.0)).ceil() as u32;
    if runs >= 2 && test_fraction > 0.0 {
        n_test = n_test.clamp(1, runs - 1);
    } else {
        n_test = 0;
    }
    let mut test: Vec<u32> = ranked[..n_test as usize].to_vec();
    let mut train: Vec<u32> = ranked[n_test as usize..].to_vec();
    test.sort_unstable();
    train.sort_unstable();
    (train, test)
}

fn check_dir(out: &Path) -> Result<(), DatasetError> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let partial = name.ends_with(".partial");
        if !OWN_ENTRIES.contains(&name.as_str()) && !partial {
            return Err(DatasetError::NotADataset {
                path: out.to_path_buf(),
                found: name,
            });
        }
    }
    Ok(())
}

fn remove(path: &Path) -> Result<(), DatasetError> {
    let r = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(WriteError::Io {
            path: path.to_path_buf(),
            source: e,
        }
        .into()),
        _ => Ok(()),
    }
}

/// Simulates and writes the runs this process owns into `out`, then the card
/// (see [`Outcome::card_written`]). `progress` is called with rows as they are
/// produced, from worker threads.
pub fn generate(
    settings: &Settings,
    out: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Outcome, DatasetError> {
    settings.check().map_err(DatasetError::Settings)?;
    check_dir(out)?;
    // A stale card would make a half-rewritten directory look complete.
    remove(&out.join("dataset.json"))?;
    remove(&out.join("README.md"))?;
    let runs = settings.owned_runs();
    if settings.shard.count == 1 {
        remove(&out.join("features"))?;
        remove(&out.join("raw"))?;
        remove(&out.join("_shards"))?;
    } else {
        for &r in &runs {
            remove(&out.join(format!("features/run={r:04}")))?;
            remove(&out.join(format!("raw/run={r:04}")))?;
        }
    }
    std::fs::create_dir_all(out).map_err(|source| WriteError::Io {
        path: out.to_path_buf(),
        source,
    })?;

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<RunResult>>> =
        Mutex::new((0..runs.len()).map(|_| None).collect());
    let jobs = settings.jobs.clamp(1, runs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&run) = runs.get(i) else { break };
                    let r = write_run(settings, out, run, progress);
                    let failed = r.is_err();
                    results.lock().expect("no worker panics holding the lock")[i] = Some(r);
                    if failed {
                        // Later runs would only be thrown away.
                        next.store(runs.len(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let mut summaries = Vec::with_capacity(runs.len());
    let mut bytes = 0;
    for r in results
        .into_inner()
        .expect("no worker panics holding the lock")
        .into_iter()
        .flatten()
    {
        let (s, b) = r?;
        bytes += b;
        summaries.push(s);
    }
    let rows = summaries.iter().map(|s| s.counts.rows).sum();
    let raw_rows = summaries
        .iter()
        .flat_map(|s| &s.raw_files)
        .map(|(_, n)| n)
        .sum();
    let files = summaries
        .iter()
        .map(|s| (s.files.len() + s.raw_files.len()) as u64)
        .sum();

    let mut outcome = Outcome {
        rows,
        raw_rows,
        files,
        bytes,
        card_written: false,
        shards_missing: Vec::new(),
    };
    if settings.shard.count == 1 {
        card::write(settings, out, &summaries)?;
        outcome.card_written = true;
        return Ok(outcome);
    }
    let shard_file = |i: u32| {
        out.join("_shards")
            .join(format!("shard-{i}-of-{}.json", settings.shard.count))
    };
    // A shard's summary names the settings it was made with, so a summary left
    // by an earlier, different invocation is never merged into this card.
    let fingerprint = settings.fingerprint();
    let json = serde_json::to_vec_pretty(&ShardFile {
        fingerprint: fingerprint.clone(),
        runs: summaries,
    })
    .expect("summaries serialise");
    write::write_file_atomic(&shard_file(settings.shard.index), &json)?;
    let mut all = Vec::new();
    for i in 0..settings.shard.count {
        let path = shard_file(i);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let mut f: ShardFile =
                    serde_json::from_slice(&bytes).map_err(|e| DatasetError::Shard {
                        path: path.clone(),
                        message: e.to_string(),
                    })?;
                if f.fingerprint == fingerprint {
                    all.append(&mut f.runs);
                } else {
                    outcome.shards_missing.push(i);
                }
            }
            Err(_) => outcome.shards_missing.push(i),
        }
    }
    if outcome.shards_missing.is_empty() {
        all.sort_by_key(|s| s.run);
        card::write(settings, out, &all)?;
        outcome.card_written = true;
    }
    Ok(outcome)
}

/// What one shard leaves for the card: its runs, and the settings it ran with.
#[derive(Serialize, Deserialize)]
struct ShardFile {
    fingerprint: String,
    runs: Vec<RunSummary>,
}

/// A run's summary and the bytes it wrote, or why it failed.
type RunResult = Result<(RunSummary, u64), DatasetError>;

/// Simulates run `run` and writes its partitions; returns its summary and bytes written.
fn write_run(
    settings: &Settings,
    out: &Path,
    run: u32,
    progress: &(dyn Fn(u64) + Sync),
) -> RunResult {
    let scenario = settings.variation.apply(&settings.nominal, run);
    let seed = scenario.seed;
    debug_assert_eq!(seed, run_seed(settings.nominal.seed, run));
    let (machines, raw) =
        rows::simulate_with_raw(scenario, settings.fidelity, settings.raw_windows, progress);
    let mut summary = RunSummary {
        run,
        seed,
        files: Vec::with_capacity(machines.len()),
        raw_files: Vec::with_capacity(raw.len()),
        counts: Counts::default(),
    };
    let mut bytes = 0;
    for m in &machines {
        let rel = table_path(run, &m.machine, settings.format);
        bytes += write::write_table(&out.join(&rel), &m.batch(), settings.format)?;
        summary.files.push((rel, m.len() as u64));
        summary.counts.add(&Counts::of(m));
    }
    for r in &raw {
        let rel = raw::raw_path(run, &r.machine);
        bytes += write::write_table(&out.join(&rel), &r.batch(), Format::Parquet)?;
        summary.raw_files.push((rel, r.len() as u64));
    }
    Ok((summary, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_by_run_disjoint_and_repeatable() {
        let (train, test) = split(9, 10, 0.2);
        assert_eq!(test.len(), 2);
        assert_eq!(train.len(), 8);
        let mut all: Vec<u32> = train.iter().chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(split(9, 10, 0.2), (train, test));
        assert_ne!(split(9, 10, 0.2).1, split(10, 10, 0.2).1);
        assert_eq!(split(1, 1, 0.2), (vec![0], vec![]));
        assert_eq!(split(1, 2, 0.9).1.len(), 1);
    }
}
