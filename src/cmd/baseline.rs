//! `fabtwin baseline`: run the shipped baseline detector over a dataset (or a
//! `fabtwin run` output directory's telemetry) and write its predictions, ready
//! for `fabtwin score`. The detector is described in
//! `fabtwin_bridge::predictions::baseline`.

use std::path::PathBuf;
use std::process::ExitCode;

use fabtwin_bridge::predictions::file::{self, Columns};
use fabtwin_bridge::predictions::{baseline, features};

use crate::BadInput;

/// `fabtwin baseline` arguments.
#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    /// A dataset directory (from `fabtwin dataset`) or a `fabtwin run` output directory.
    pub input: PathBuf,
    /// Predictions file to write (CSV).
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
}

/// Runs `fabtwin baseline`.
pub fn baseline(args: BaselineArgs) -> anyhow::Result<ExitCode> {
    if args.out.extension().is_none_or(|e| e != "csv") {
        return Err(BadInput(format!(
            "--out {}: predictions are written as CSV; name the file *.csv",
            args.out.display()
        ))
        .into());
    }
    let features = features::read(&args.input).map_err(|e| BadInput(e.to_string()))?;
    let rows = baseline::predict(&features);
    let columns = Columns {
        alarm: true,
        fault_class: true,
        rul_s: true,
        anomaly_score: true,
    };
    file::write_csv(&args.out, columns, &rows)?;
    let alarmed = features
        .keys()
        .filter(|k| {
            rows.iter()
                .any(|r| r.run == k.0 && r.machine == k.1 && r.alarm == Some(true))
        })
        .count();
    println!(
        "baseline: {} rows for {} machine series ({} alarmed) → {}",
        rows.len(),
        features.len(),
        alarmed,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
