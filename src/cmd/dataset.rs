//! `fabtwin dataset`.

use std::process::ExitCode;

/// `fabtwin dataset` arguments.
#[derive(Debug, clap::Args)]
pub struct DatasetArgs {}

/// Runs `fabtwin dataset`.
pub fn dataset(_args: DatasetArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("fabtwin dataset: not built yet")
}
