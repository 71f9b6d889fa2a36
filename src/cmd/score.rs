//! `fabtwin score`.

use std::process::ExitCode;

/// `fabtwin score` arguments.
#[derive(Debug, clap::Args)]
pub struct ScoreArgs {}

/// Runs `fabtwin score`.
pub fn score(_args: ScoreArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("fabtwin score: not built yet")
}
