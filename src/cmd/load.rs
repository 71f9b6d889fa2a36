//! `fabtwin load`: load-test a broker with the simulated fleet's real telemetry,
//! and `fabtwin load merge` to combine shard reports.

use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use fabtwin_bridge::load::conn::{Tls, TlsError};
use fabtwin_bridge::load::engine::{self, Live, Settings};
use fabtwin_bridge::load::pool::{Codec, Fleet, Shard};
use fabtwin_bridge::load::report::LoadReport;
use fabtwin_bridge::mqtt::broker::EmbeddedBroker;
use fabtwin_bridge::mqtt::url::BrokerUrl;
use fabtwin_bridge::topics::Topics;
use fabtwin_sim::time::SimDuration;

use crate::BadInput;

/// The template used when neither --scenario nor --template is given.
const DEFAULT_TEMPLATE: &str = include_str!("../../scenarios/quickstart.ron");

/// `fabtwin load` arguments.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LoadArgs {
    /// `merge`: combine shard reports.
    #[command(subcommand)]
    pub cmd: Option<LoadCmd>,
    /// Broker: `embedded` (fabtwin's own, in-process), mqtt://host:port or
    /// mqtts://host:port (with --ca, and --cert/--key where the broker asks for a client certificate).
    #[arg(long, default_value = "embedded")]
    pub broker: String,
    /// Scenario whose machines are the fleet (alias --template). Default: the quickstart.
    #[arg(long, alias = "template", value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Devices in the whole fleet, built cycling over the scenario's machines
    /// (ids `{machine}-{index:06}`). Default: one per scenario machine.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub devices: Option<u64>,
    /// Fleet-wide messages per second (all shards together), open loop.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// Payload encoding: `json` (fabtwin's telemetry topics) or `sparkplug`
    /// (Sparkplug B: each session an edge node with one device; NBIRTH and
    /// DBIRTH after CONNACK, then DDATA carrying `fabtwin/seq` and `fabtwin/sent_ns`).
    #[arg(long, value_enum, default_value_t = CodecArg::Json)]
    pub codec: CodecArg,
    /// QoS of publishes and subscriptions (0 or 1).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub qos: u8,
    /// How long the schedule runs (e.g. 30s, 5m).
    #[arg(long, default_value = "10s")]
    pub duration: String,
    /// Connects per second during the ramp (default: as fast as the broker takes them).
    #[arg(long, value_name = "PER_S")]
    pub ramp: Option<f64>,
    /// Measure end to end with subscribers: latency, loss, duplicates, reordering.
    #[arg(long)]
    pub subscribe: bool,
    /// Subscriber sessions (with --subscribe); devices are split among them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub subscribers: u32,
    /// Drive shard i of n: devices with index mod n == i.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Loopback source addresses to spread sessions over (127.0.0.1 … 127.0.0.N),
    /// each good for about 28k ports. Loopback brokers only.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=250))]
    pub source_addrs: u8,
    /// Credentials and TLS (every session uses the same identity).
    #[command(flatten)]
    pub auth: super::mqtt::AuthArgs,
    /// QoS 1: unacknowledged publishes per session before it waits.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=65535))]
    pub inflight: u32,
    /// Bounded wait after the schedule for acks and deliveries.
    #[arg(long, default_value = "5s")]
    pub drain: String,
    /// Wait for TCP connect plus CONNACK per session.
    #[arg(long, default_value = "10s")]
    pub connect_timeout: String,
    /// Real payloads generated per scenario machine (cycled by its devices).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub pool: u32,
    /// Topic root.
    #[arg(long, default_value = "fabtwin")]
    pub topic_root: String,
    /// Client id prefix (ids are `{prefix}-{device index}`).
    #[arg(long, default_value = "fabtwin-load")]
    pub client_prefix: String,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write the Prometheus text exposition here.
    #[arg(long, value_name = "FILE")]
    pub prometheus: Option<PathBuf>,
    /// While running, serve live counters at http://ADDR/metrics (loopback only, e.g. 127.0.0.1:9464).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
}

/// `--codec` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CodecArg {
    /// fabtwin's JSON telemetry.
    Json,
    /// Sparkplug B DDATA.
    Sparkplug,
}

impl From<CodecArg> for Codec {
    fn from(c: CodecArg) -> Codec {
        match c {
            CodecArg::Json => Codec::Json,
            CodecArg::Sparkplug => Codec::Sparkplug,
        }
    }
}

/// `fabtwin load` subcommands.
#[derive(Debug, Subcommand)]
pub enum LoadCmd {
    /// Combine shard reports into one (counts add, histograms merge exactly).
    Merge(MergeArgs),
}

/// `fabtwin load merge` arguments.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard reports (JSON written by `fabtwin load --out`).
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Write the merged JSON report here.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write the merged Prometheus text exposition here.
    #[arg(long, value_name = "FILE")]
    pub prometheus: Option<PathBuf>,
}

fn duration(flag: &str, text: &str) -> Result<Duration, BadInput> {
    let d = SimDuration::parse(text).map_err(|e| BadInput(format!("{flag}: {e}")))?;
    Ok(Duration::from_nanos(d.0))
}

/// Runs `fabtwin load`.
pub fn load(args: LoadArgs) -> anyhow::Result<ExitCode> {
    if let Some(LoadCmd::Merge(m)) = args.cmd {
        return merge(m);
    }
    let a = args;
    if !(a.rate.is_finite() && a.rate > 0.0) {
        return Err(BadInput(format!(
            "--rate {}: must be a number of messages per second > 0",
            a.rate
        ))
        .into());
    }
    if let Some(r) = a.ramp
        && !(r.is_finite() && r > 0.0)
    {
        return Err(BadInput(format!("--ramp {r}: must be connects per second > 0")).into());
    }
    let run_for = duration("--duration", &a.duration)?;
    if run_for.is_zero() {
        return Err(BadInput("--duration: must be longer than 0 s".into()).into());
    }
    let drain = duration("--drain", &a.drain)?;
    let connect_timeout = duration("--connect-timeout", &a.connect_timeout)?;
    let shard = match &a.shard {
        Some(s) => Shard::parse(s).map_err(|e| BadInput(format!("--shard: {e}")))?,
        None => Shard::ALL,
    };
    let scenario = match &a.scenario {
        Some(p) => super::scenario::load(p)?.0,
        None => fabtwin_sim::scenario::from_str(DEFAULT_TEMPLATE, "quickstart (built in)")
            .context("the built-in template is valid")?,
    };
    if a.auth.credentials.is_some() {
        return Err(BadInput(
            "--credentials is for run and verify (a session per provisioned identity); load sessions share one identity: give --username and --password-file".into(),
        )
        .into());
    }
    let login = super::mqtt::login(&a.auth)?;
    let topics = Topics::new(&a.topic_root);
    let fleet = Fleet::build(
        &scenario,
        &topics,
        a.devices,
        shard,
        a.pool as usize,
        a.codec.into(),
    )
    .map_err(|e| {
        BadInput(format!(
            "{}: {e}",
            a.scenario
                .as_deref()
                .map_or("quickstart".into(), |p| p.display().to_string())
        ))
    })?;
    let sessions = fleet.devices.len()
        + if a.subscribe {
            a.subscribers as usize
        } else {
            0
        };

    // One file per session plus a margin for the runtime, the broker and the outputs.
    let nofile = engine::raise_nofile();
    let url = BrokerUrl::parse(&a.broker).map_err(|e| BadInput(format!("--broker: {e}")))?;
    let mut embedded_note = 0;
    let resolve = |host: &str, port: u16| -> Result<std::net::SocketAddr, BadInput> {
        (host, port)
            .to_socket_addrs()
            .map_err(|e| BadInput(format!("--broker {}: cannot resolve: {e}", a.broker)))?
            .next()
            .ok_or_else(|| BadInput(format!("--broker {}: resolves to no address", a.broker)))
    };
    let (addr, tls, _embedded) = match &url {
        BrokerUrl::Embedded => {
            let b = EmbeddedBroker::start(0, sessions + 16)?;
            embedded_note = 2 * sessions;
            (b.addr(), None, Some(b))
        }
        BrokerUrl::Tcp { host, port } => (resolve(host, *port)?, None, None),
        BrokerUrl::Tls { host, port } => {
            let Some(ca) = &a.auth.ca else {
                return Err(BadInput(format!(
                    "--broker {}: mqtts:// needs --ca FILE (the CA that signed the broker's certificate)",
                    a.broker
                ))
                .into());
            };
            let read = |flag: &str, p: &Path| {
                std::fs::read(p)
                    .map_err(|e| BadInput(format!("{flag} {}: cannot read: {e}", p.display())))
            };
            let ca_pem = read("--ca", ca)?;
            let client = match (&a.auth.cert, &a.auth.key) {
                (Some(c), Some(k)) => Some((read("--cert", c)?, read("--key", k)?)),
                _ => None,
            };
            let tls = Tls::new(
                host,
                &ca_pem,
                client.as_ref().map(|(c, k)| (c.as_slice(), k.as_slice())),
            )
            .map_err(|e| {
                let file = match &e {
                    TlsError::Cert(_) => a.auth.cert.as_deref(),
                    TlsError::Key(_) => a.auth.key.as_deref(),
                    TlsError::Ca(_) => Some(ca.as_path()),
                    _ => None,
                };
                match file {
                    Some(f) => BadInput(format!("{}: {e}", f.display())),
                    None => BadInput(format!("--broker {}: {e}", a.broker)),
                }
            })?;
            (resolve(host, *port)?, Some(tls), None)
        }
    };
    if tls.is_none() && (a.auth.ca.is_some() || a.auth.cert.is_some()) {
        return Err(BadInput(format!(
            "--ca/--cert/--key apply to mqtts:// brokers, not {}",
            a.broker
        ))
        .into());
    }
    let needed = (sessions + embedded_note + 64) as u64;
    if nofile > 0 && needed > nofile {
        eprintln!(
            "warning: {sessions} sessions need about {needed} open files but the limit is {nofile}: expect `open-file limit reached` failures; raise the hard limit (ulimit -Hn) or use --shard"
        );
    }
    let source_addrs: Vec<IpAddr> = if a.source_addrs > 1 {
        if !addr.ip().is_loopback() {
            return Err(BadInput(format!(
                "--source-addrs {}: extra source addresses are loopback ones, for a broker on 127.0.0.0/8 (this one is {})",
                a.source_addrs,
                addr.ip()
            ))
            .into());
        }
        (1..=a.source_addrs)
            .map(|k| IpAddr::V4(Ipv4Addr::new(127, 0, 0, k)))
            .collect()
    } else {
        Vec::new()
    };
    let settings = Settings {
        addr,
        tls,
        broker: a.broker.clone(),
        qos: a.qos,
        rate: a.rate,
        duration: run_for,
        ramp: a.ramp,
        subscribers: if a.subscribe {
            a.subscribers as usize
        } else {
            0
        },
        source_addrs,
        login,
        inflight: a.inflight as usize,
        drain,
        connect_timeout,
        client_prefix: a.client_prefix.clone(),
        shard,
        nofile,
    };
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(t) = a.threads {
        rt.worker_threads(t.max(1));
    }
    let rt = rt
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let live = Arc::new(Live::default());
    let done = Arc::new(AtomicBool::new(false));
    let metrics = match a.metrics_addr {
        Some(addr) => {
            if !addr.ip().is_loopback() {
                return Err(BadInput(format!(
                    "--metrics-addr {addr}: must be a loopback address (127.0.0.0/8 or ::1)"
                ))
                .into());
            }
            let listener = std::net::TcpListener::bind(addr)
                .map_err(|e| BadInput(format!("--metrics-addr {addr}: cannot listen: {e}")))?;
            listener.set_nonblocking(true).context("metrics listener")?;
            let (live, done) = (live.clone(), done.clone());
            Some(std::thread::spawn(move || {
                serve_metrics(&listener, &live, &done)
            }))
        }
        None => None,
    };
    let progress = std::io::stderr().is_terminal().then(|| {
        let (live, done) = (live.clone(), done.clone());
        std::thread::spawn(move || progress_loop(&live, &done))
    });
    let fleet = Arc::new(fleet);
    let report = rt.block_on(engine::run(fleet, settings, live));
    done.store(true, Relaxed);
    for t in [progress, metrics].into_iter().flatten() {
        let _ = t.join();
    }
    rt.shutdown_timeout(Duration::from_secs(1));
    write_outputs(&report, a.out.as_deref(), a.prometheus.as_deref())?;
    print!("{}", report.summary());
    Ok(if report.sessions.connected == 0 {
        eprintln!("no session connected: see the reasons above");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn progress_loop(live: &Live, done: &AtomicBool) {
    let (mut sent0, mut recv0) = (0, 0);
    while !done.load(Relaxed) {
        std::thread::sleep(Duration::from_secs(1));
        let (sent, recv) = (live.sent.load(Relaxed), live.received.load(Relaxed));
        eprint!(
            "\r\x1b[2Kconnected {:>7}  sent/s {:>9}  received/s {:>9}  p99 {:>8.2} ms",
            live.connected.load(Relaxed),
            sent - sent0,
            recv - recv0,
            live.p99_us.load(Relaxed) as f64 / 1e3
        );
        (sent0, recv0) = (sent, recv);
    }
    eprintln!();
}

/// Live counters as Prometheus text.
fn live_metrics(live: &Live) -> String {
    let mut s = String::new();
    for (name, kind, v) in [
        (
            "sessions_connected",
            "gauge",
            live.connected.load(Relaxed) as f64,
        ),
        (
            "messages_sent_total",
            "counter",
            live.sent.load(Relaxed) as f64,
        ),
        (
            "messages_received_total",
            "counter",
            live.received.load(Relaxed) as f64,
        ),
        (
            "latency_p99_seconds",
            "gauge",
            live.p99_us.load(Relaxed) as f64 / 1e6,
        ),
    ] {
        s += &format!("# TYPE fabtwin_load_{name} {kind}\nfabtwin_load_{name} {v}\n");
    }
    s
}

/// Answers every request on `listener` with the live counters until `done`.
fn serve_metrics(listener: &std::net::TcpListener, live: &Live, done: &AtomicBool) {
    use std::io::{Read, Write};
    while !done.load(Relaxed) {
        match listener.accept() {
            Ok((mut conn, _)) => {
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
                let mut req = [0u8; 1024];
                let _ = conn.read(&mut req);
                let body = live_metrics(live);
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn write_outputs(r: &LoadReport, out: Option<&Path>, prom: Option<&Path>) -> anyhow::Result<()> {
    if let Some(p) = out {
        let mut text = serde_json::to_string_pretty(r).context("report serialises")?;
        text.push('\n');
        std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?;
    }
    if let Some(p) = prom {
        std::fs::write(p, r.prometheus()).with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

fn merge(m: MergeArgs) -> anyhow::Result<ExitCode> {
    let mut reports = Vec::new();
    for p in &m.reports {
        let text = std::fs::read_to_string(p)
            .map_err(|e| BadInput(format!("{}: cannot read: {e}", p.display())))?;
        let r: LoadReport = serde_json::from_str(&text)
            .map_err(|e| BadInput(format!("{}: not a fabtwin load report: {e}", p.display())))?;
        reports.push(r);
    }
    let merged = LoadReport::merge(&reports).map_err(BadInput)?;
    write_outputs(&merged, m.out.as_deref(), m.prometheus.as_deref())?;
    print!("{}", merged.summary());
    Ok(ExitCode::SUCCESS)
}
