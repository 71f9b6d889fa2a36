//! `fabtwin`: digital-twin simulation and testbed for industrial IoT.
//!
//! Exit codes: 0 success (every expectation held); 1 an expectation failed;
//! 2 bad input (scenario file, flags); 3 internal or I/O error.

mod cli;
mod cmd;

use std::process::ExitCode;

use clap::Parser;

/// An error caused by the user's input (exit code 2), already worded for them.
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    init_tracing(cli.verbose, cli.quiet);
    match cmd::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(bad) = e.downcast_ref::<BadInput>() {
                eprintln!("{bad}");
                ExitCode::from(2)
            } else {
                eprintln!("error: {e:#}");
                ExitCode::from(3)
            }
        }
    }
}

fn init_tracing(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    // The embedded broker (rumqttd) logs every client's disconnect as an error;
    // fabtwin reports connection trouble itself, so its logs stay off unless asked for.
    let filter = tracing_subscriber::EnvFilter::try_from_env("FABTWIN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},rumqttd=off")));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .try_init();
}
