//! The subcommands: thin wiring of the sim and bridge crates.
//!
//! The larger commands (`dataset`, `score`, `baseline`, `load`) keep their
//! clap arguments beside their code; the rest live in `cli.rs`.

pub mod baseline;
mod bench;
mod check;
pub mod dataset;
pub mod load;
pub mod mqtt;
mod new;
mod run;
pub mod scenario;
pub mod score;
mod verify;
pub mod view;
mod wire;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// Runs the chosen command.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.cmd {
        Command::Run(a) => run::run(*a, cli.quiet),
        Command::Check(a) => check::check(a),
        Command::New(a) => new::new(a),
        Command::Schema => {
            print!("{}", fabtwin_sim::scenario::schema::REFERENCE);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(a) => bench::bench(a),
        Command::Provision(a) => provision(a),
        Command::Verify(a) => verify::verify(*a),
        Command::Dataset(a) => dataset::dataset(*a),
        Command::Score(a) => score::score(*a),
        Command::Baseline(a) => baseline::baseline(*a),
        Command::Load(a) => load::load(*a),
        Command::View(a) => view::view(*a),
        Command::Completions(a) => {
            use clap::CommandFactory as _;
            let mut cmd = crate::cli::Cli::command();
            clap_complete::generate(a.shell, &mut cmd, "fabtwin", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man(a) => man(&a.out),
        Command::Broker(a) => {
            use fabtwin_bridge::mqtt::broker::{BrokerError, EmbeddedBroker};
            let b = EmbeddedBroker::start(a.port, a.max_connections).map_err(|e| match e {
                BrokerError::Bind { .. } => {
                    anyhow::Error::from(crate::BadInput(format!("--port: {e}")))
                }
                other => other.into(),
            })?;
            println!("listening on mqtt://{}", b.addr());
            // Runs until killed: rumqttd has no shutdown; tests kill this process by PID.
            loop {
                std::thread::park();
            }
        }
    }
}

/// `fabtwin man`: one roff page for the binary and one per subcommand.
fn man(dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    use clap::CommandFactory as _;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let root = crate::cli::Cli::command();
    let mut pages = vec![("fabtwin".to_string(), root.clone())];
    for sub in root.get_subcommands() {
        let name = format!("fabtwin-{}", sub.get_name());
        pages.push((name.clone(), sub.clone().name(name)));
    }
    for (name, cmd) in pages {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut page)?;
        let path = dir.join(format!("{name}.1"));
        fabtwin_bridge::files::write_atomic(&path, &page)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `fabtwin provision`: credentials, ACL and config for a broker.
fn provision(a: crate::cli::ProvisionArgs) -> anyhow::Result<ExitCode> {
    use fabtwin_bridge::provision::{ProvisionOptions, provision_mosquitto};
    let (scenario, _) = scenario::load(&a.scenario)?;
    let mut opts = ProvisionOptions::new(&scenario.name);
    opts.tls = a.tls;
    opts.port = a.port;
    opts.tls_port = a.tls_port;
    let topics = fabtwin_bridge::topics::Topics::default();
    let done = provision_mosquitto(&scenario, &topics, &a.out, &opts)
        .map_err(|e| crate::BadInput(e.to_string()))?;
    println!(
        "wrote {} identities for mosquitto to {}",
        done.identities.len(),
        done.dir.display()
    );
    println!("  start the broker: mosquitto -c {}", done.config.display());
    for w in &done.warnings {
        eprintln!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}
