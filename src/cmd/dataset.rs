//! `fabtwin dataset`: N Monte-Carlo runs of a scenario, each with its own
//! unit-to-unit variation, written as a Hive-partitioned labelled table
//! (Parquet or CSV) with a dataset card.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use fabtwin_bridge::dataset::{DatasetError, Format, Settings, Shard, generate};
use fabtwin_sim::device::Fidelity;

use super::scenario::FidelityArg;

/// Table file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    /// Apache Parquet (zstd).
    Parquet,
    /// CSV with a header row (for small sets).
    Csv,
}

/// `fabtwin dataset` arguments.
#[derive(Debug, clap::Args)]
pub struct DatasetArgs {
    /// Scenario file (RON).
    pub scenario: PathBuf,
    /// Number of Monte-Carlo runs (1 … 100000), each with its own derived seed.
    #[arg(long, default_value_t = 10)]
    pub runs: u32,
    /// Output directory (new, empty, or a previous dataset, which is replaced).
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// Table format.
    #[arg(long, value_enum, default_value_t = TableFormat::Parquet)]
    pub format: TableFormat,
    /// Feature fidelity [default: features, or raw with --raw-windows].
    #[arg(long, value_enum)]
    pub fidelity: Option<FidelityArg>,
    /// Also write every sensor's raw acquisition windows (samples per axis) to
    /// DIR/raw/run=NNNN/machine=ID/part-00000.parquet; needs raw fidelity and Parquet.
    #[arg(long)]
    pub raw_windows: bool,
    /// Override the scenario's seed (each run's seed derives from it and the run number).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: the machine's cores). The output does not depend on it.
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Write only runs r with r mod n = i, for n processes writing one dataset: `i/n`.
    #[arg(long, value_name = "i/n")]
    pub shard: Option<String>,
    /// Fraction of runs held out as the test split (by run), 0 … 1.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Build every run from the nominal scenario (only the seed changes).
    #[arg(long)]
    pub no_variation: bool,
    /// After writing, measure Parquet write speed alone: read the feature tables
    /// back into one table of at least this many rows and write it to
    /// DIR/bench-write.parquet three times (removed afterwards); prints rows/s.
    #[arg(long, value_name = "ROWS")]
    pub bench_write: Option<u64>,
}

/// Runs `fabtwin dataset`.
pub fn dataset(args: DatasetArgs) -> anyhow::Result<ExitCode> {
    let (mut nominal, text) = super::scenario::load(&args.scenario)?;
    if !(1..=100_000).contains(&args.runs) {
        return Err(crate::BadInput(format!(
            "--runs {}: must be between 1 and 100000",
            args.runs
        ))
        .into());
    }
    if !(0.0..=1.0).contains(&args.test_fraction) {
        return Err(crate::BadInput(format!(
            "--test-fraction {}: must be between 0 and 1",
            args.test_fraction
        ))
        .into());
    }
    let shard = match &args.shard {
        Some(s) => Shard::parse(s).map_err(|e| crate::BadInput(format!("--shard: {e}")))?,
        None => Shard::ALL,
    };
    let jobs = match args.jobs {
        Some(0) => {
            return Err(crate::BadInput("--jobs 0: must be at least 1".into()).into());
        }
        Some(j) => j,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    if args.out.exists() && !args.out.is_dir() {
        return Err(crate::BadInput(format!(
            "--out {}: exists and is not a directory",
            args.out.display()
        ))
        .into());
    }
    if let Some(seed) = args.seed {
        nominal.seed = seed;
    }
    let file = args.scenario.file_name().map_or_else(
        || args.scenario.display().to_string(),
        |f| f.to_string_lossy().to_string(),
    );
    let mut settings = Settings::new(&file, &text, nominal, args.runs, env!("CARGO_PKG_VERSION"));
    if args.raw_windows && args.fidelity == Some(FidelityArg::Features) {
        return Err(crate::BadInput(
            "--raw-windows needs --fidelity raw: features fidelity synthesises no samples (leave --fidelity out, or give raw)".into(),
        )
        .into());
    }
    if args.raw_windows && args.format == TableFormat::Csv {
        return Err(crate::BadInput(
            "--raw-windows needs --format parquet: a window's samples are one list per axis, which a CSV cell cannot hold".into(),
        )
        .into());
    }
    settings.fidelity = match args.fidelity {
        Some(f) => f.into(),
        None if args.raw_windows => Fidelity::Raw,
        None => Fidelity::Features,
    };
    settings.format = match args.format {
        TableFormat::Parquet => Format::Parquet,
        TableFormat::Csv => Format::Csv,
    };
    settings.raw_windows = args.raw_windows;
    if args.no_variation {
        settings.variation = fabtwin_sim::scenario::variation::Variation::NONE;
    }
    settings.test_fraction = args.test_fraction;
    settings.shard = shard;
    settings.jobs = jobs;

    let total = settings.rows_per_run() * settings.owned_runs().len() as u64;
    let bar = progress(total);
    let started = Instant::now();
    let outcome = generate(&settings, &args.out, &|n| bar.inc(n)).map_err(|e| match e {
        DatasetError::NotADataset { .. } | DatasetError::Settings(_) => {
            anyhow::Error::new(crate::BadInput(e.to_string()))
        }
        e => anyhow::Error::new(e).context(format!(
            "cannot write the dataset to {}",
            args.out.display()
        )),
    })?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}: {} runs{} → {} rows in {} files ({:.1} MB) in {:.2} s ({:.0} rows/s) → {}",
        settings.nominal.name,
        settings.owned_runs().len(),
        if shard.count > 1 {
            format!(" (shard {}/{} of {})", shard.index, shard.count, args.runs)
        } else {
            String::new()
        },
        outcome.rows,
        outcome.files,
        outcome.bytes as f64 / 1e6,
        seconds,
        outcome.rows as f64 / seconds.max(1e-9),
        args.out.display()
    );
    if settings.raw_windows {
        println!(
            "  raw windows: {} rows (sensor × window) in {}",
            outcome.raw_rows,
            args.out.join("raw").display()
        );
    }
    if outcome.card_written {
        println!("  card: {}", args.out.join("dataset.json").display());
    } else {
        let missing: Vec<String> = outcome
            .shards_missing
            .iter()
            .map(|i| format!("{i}/{}", shard.count))
            .collect();
        println!(
            "  card: written by the last shard to finish (waiting for {})",
            missing.join(", ")
        );
    }
    if let Some(min_rows) = args.bench_write {
        bench_write(&args.out, min_rows, settings.format)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `--bench-write`: the Parquet writer's speed on this dataset's own rows.
fn bench_write(out: &Path, min_rows: u64, format: Format) -> anyhow::Result<()> {
    use fabtwin_bridge::dataset::bench;
    if format != Format::Parquet {
        return Err(crate::BadInput("--bench-write needs --format parquet".into()).into());
    }
    let batches = bench::read_features(out)?;
    let table = bench::table(&batches, min_rows)
        .ok_or_else(|| anyhow::anyhow!("no feature rows to benchmark in {}", out.display()))?;
    let path = out.join("bench-write.parquet");
    let figures = bench::write_throughput(&table, &path, 3);
    std::fs::remove_file(&path).ok();
    let f = figures?;
    println!(
        "parquet write: {} rows × {} columns in {:.3} s best, {:.3} s median → {:.2} M rows/s, {:.1} MB (zstd 1, dictionary on strings only, fsync)",
        f.rows,
        f.columns,
        f.best_s,
        f.median_s,
        f.rows_per_s() / 1e6,
        f.bytes as f64 / 1e6
    );
    Ok(())
}

/// A progress bar over rows with rows/s, drawn only when stderr is a terminal.
fn progress(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len.max(1));
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {human_pos}/{human_len} rows, {rate} rows/s, eta {eta}",
    ) {
        bar.set_style(style.with_key(
            "rate",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}", s.per_sec());
            },
        ));
    }
    bar
}
