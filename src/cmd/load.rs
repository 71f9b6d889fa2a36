//! `fabtwin load`.

use std::process::ExitCode;

/// `fabtwin load` arguments.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {}

/// Runs `fabtwin load`.
pub fn load(_args: LoadArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("fabtwin load: not built yet")
}
