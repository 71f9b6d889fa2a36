//! The subcommands: thin wiring of the sim and bridge crates.

mod bench;
mod check;
mod mqtt;
mod new;
mod run;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// Runs the chosen command.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.cmd {
        Command::Run(a) => run::run(a, cli.quiet),
        Command::Check(a) => check::check(a),
        Command::New(a) => new::new(a),
        Command::Schema => {
            print!("{}", fabtwin_sim::scenario::schema::REFERENCE);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(a) => bench::bench(a),
    }
}

/// Loads a scenario, turning its problems into a [`crate::BadInput`].
pub fn load(path: &std::path::Path) -> anyhow::Result<(fabtwin_sim::scenario::Scenario, String)> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| crate::BadInput(format!("{file}: cannot read: {e}")))?;
    match fabtwin_sim::scenario::from_str(&text, &file) {
        Ok(s) => Ok((s, text)),
        Err(e) => Err(crate::BadInput(e.to_string()).into()),
    }
}
