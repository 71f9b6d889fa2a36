//! Command-line arguments (clap derive). Validation beyond types happens in
//! each command, which turns these raw arguments into settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cmd::mqtt::AuthArgs;
use crate::cmd::scenario::FidelityArg;

/// Digital-twin simulation and testbed for industrial IoT.
#[derive(Debug, Parser)]
#[command(name = "fabtwin", version, about, propagate_version = true, after_help = EXIT_CODES)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace). FABTWIN_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// The command.
    #[command(subcommand)]
    pub cmd: Command,
}

const EXIT_CODES: &str =
    "Exit codes: 0 success; 1 an expectation failed; 2 bad input; 3 internal or I/O error.";

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario headless: telemetry, truth, report.json and junit.xml.
    Run(Box<RunArgs>),
    /// Validate scenario files only (exit 0 valid, 2 invalid).
    Check(CheckArgs),
    /// Write a valid starter scenario.
    New(NewArgs),
    /// Print the scenario file reference: every field, unit and default.
    Schema,
    /// Measure simulation speed and print the figures.
    Bench(BenchArgs),
    /// Subscribe like a pipeline and account for every device's messages.
    Verify(Box<VerifyArgs>),
    /// Write per-device credentials, an ACL and a broker config (least privilege).
    Provision(ProvisionArgs),
    /// Generate a labelled training dataset: N Monte-Carlo runs to Parquet or CSV.
    Dataset(Box<crate::cmd::dataset::DatasetArgs>),
    /// Score predictions against the simulation's ground truth (a CI gate).
    Score(Box<crate::cmd::score::ScoreArgs>),
    /// Run the shipped baseline detector over telemetry and write predictions.
    Baseline(Box<crate::cmd::baseline::BaselineArgs>),
    /// Load-test a broker with the simulated fleet's real telemetry.
    Load(Box<crate::cmd::load::LoadArgs>),
    /// The interactive 3D twin: simulate and show a scenario, or mirror a broker (feature `view`).
    View(Box<crate::cmd::view::ViewArgs>),
    /// Run fabtwin's MQTT broker in the foreground (for tests that kill and restart a broker).
    Broker(BrokerArgs),
    /// Print a shell completion script (e.g. `fabtwin completions bash > /etc/bash_completion.d/fabtwin`).
    Completions(CompletionsArgs),
    /// Write man pages, one per command (`fabtwin.1`, `fabtwin-run.1`, …), into a directory.
    Man(ManArgs),
}

/// `fabtwin completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `fabtwin man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Directory to write the pages to (created if missing).
    #[arg(short, long, default_value = "man")]
    pub out: PathBuf,
}

/// `fabtwin verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Broker to subscribe at: mqtt://host:port or mqtts://host:port.
    #[arg(long)]
    pub broker: String,
    /// Scenario whose devices are expected (topics, device ids, codecs).
    #[arg(long)]
    pub scenario: PathBuf,
    /// Credentials and TLS.
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Longest time to listen (wall clock), e.g. 30s, 5m.
    #[arg(long, default_value = "60s")]
    pub duration: String,
    /// Stop early once nothing new arrived for this long after the first message.
    #[arg(long)]
    pub idle: Option<String>,
    /// Stop early once this many distinct messages arrived (then a short quiet spell).
    #[arg(long)]
    pub expect: Option<u64>,
    /// Highest sequence number each device sent, as a JSON object (e.g. a run's
    /// `report.json` lists them); without it, gaps below the highest received count.
    #[arg(long, value_name = "FILE")]
    pub sent: Option<PathBuf>,
    /// Write the report as JSON here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Messages that may be missing before the run fails (default: none may).
    #[arg(long, default_value_t = 0)]
    pub max_missing: u64,
    /// Duplicates that may arrive before the run fails (default: none may; QoS 1
    /// redelivery after a reconnect is a duplicate a pipeline must handle).
    #[arg(long, default_value_t = 0)]
    pub max_duplicates: u64,
    /// Scenario devices that may stay silent before the run fails (default: none may).
    #[arg(long, default_value_t = 0)]
    pub max_silent: u64,
}

/// Brokers `provision` can write for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BrokerKind {
    /// Eclipse Mosquitto 2.x.
    Mosquitto,
}

/// `fabtwin provision`.
#[derive(Debug, Args)]
pub struct ProvisionArgs {
    /// Scenario whose gateways and devices get credentials.
    pub scenario: PathBuf,
    /// Broker to write for.
    #[arg(long = "for", value_enum, default_value_t = BrokerKind::Mosquitto)]
    pub broker: BrokerKind,
    /// Output directory (must not exist or be empty).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Also write a test CA, a server certificate and a client certificate per identity.
    #[arg(long)]
    pub tls: bool,
    /// Plain listener port in the written config.
    #[arg(long, default_value_t = 1883)]
    pub port: u16,
    /// TLS listener port in the written config.
    #[arg(long, default_value_t = 8883)]
    pub tls_port: u16,
}

/// `fabtwin broker`.
#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// Port on 127.0.0.1 (0: a free one, printed on stdout).
    #[arg(long, default_value_t = 1883)]
    pub port: u16,
    /// Most client connections.
    #[arg(long, default_value_t = 10_000)]
    pub max_connections: usize,
}

/// Output format of a command's summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For machines.
    Json,
}

/// `fabtwin run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (RON).
    pub scenario: PathBuf,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output directory. Default: out/<scenario name>.
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Feature fidelity.
    #[arg(long, value_enum, default_value_t = FidelityArg::Features)]
    pub fidelity: FidelityArg,
    /// Summary format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Where to publish: `embedded` (a broker in this process), `mqtt://host:port`,
    /// `mqtts://host:port`, or `none` (files only).
    #[arg(long, default_value = "embedded")]
    pub broker: String,
    /// Pace publishing against sim time: `max` (as fast as possible), `realtime`, or `Nx` (e.g. `60x`).
    #[arg(long, default_value = "max")]
    pub speed: String,
    /// Subscribe like a pipeline would and account for every message (received,
    /// missing, duplicates, out of order, latency); loss fails the run.
    #[arg(long)]
    pub verify: bool,
    /// Keep broker sessions across reconnects (clean session off).
    #[arg(long)]
    pub persistent: bool,
    /// Keep each gateway's store-and-forward buffer on disk here, so what it holds
    /// survives a crash (kill -9) of fabtwin.
    #[arg(long, value_name = "DIR")]
    pub buffer_dir: Option<PathBuf>,
    /// Continue a run that stopped with messages in --buffer-dir: deliver them, then
    /// publish from each device's next seq.
    #[arg(long, requires = "buffer_dir")]
    pub resume: bool,
    /// How long to wait at the end for buffered messages to be delivered (wall
    /// clock, e.g. 30s). What is still undelivered then fails the run.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub drain_timeout: String,
    /// Username of the verifying subscriber (it needs read access to every telemetry
    /// topic); its password comes from --verify-password-file. Default: --username.
    #[arg(long, requires = "verify_password_file")]
    pub verify_username: Option<String>,
    /// File holding the verifying subscriber's password.
    #[arg(long, value_name = "FILE", requires = "verify_username")]
    pub verify_password_file: Option<PathBuf>,
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// `fabtwin check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `fabtwin new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Number of machines (1 … 10000).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub machines: u32,
    /// Scenario name.
    #[arg(long, default_value = "starter")]
    pub name: String,
    /// Run length, e.g. 2h, 30d.
    #[arg(long, default_value = "2h")]
    pub duration: String,
    /// Machines per line.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub per_line: u32,
    /// Give every fifth machine a degrading bearing, and add expectations.
    #[arg(long)]
    pub with_faults: bool,
    /// Write to this file instead of stdout (refuses to overwrite).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

/// `fabtwin bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Shorter measurements (for a quick look; figures are noisier).
    #[arg(long)]
    pub quick: bool,
    /// Scenario for the long-run figure. Default: scenarios/line50.ron.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Length of the long run.
    #[arg(long, default_value = "30d")]
    pub duration: String,
}
