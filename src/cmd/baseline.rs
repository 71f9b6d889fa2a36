//! `fabtwin baseline`.

use std::process::ExitCode;

/// `fabtwin baseline` arguments.
#[derive(Debug, clap::Args)]
pub struct BaselineArgs {}

/// Runs `fabtwin baseline`.
pub fn baseline(_args: BaselineArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("fabtwin baseline: not built yet")
}
