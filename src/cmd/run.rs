//! `fabtwin run`: run a scenario headless and write telemetry (JSON lines, one
//! message per device per gateway publish, as MQTT carries them), truth
//! (apart), report.json and junit.xml; by default also publish the telemetry to
//! a broker (the embedded one unless `--broker` names another).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use fabtwin_bridge::codec::json;
use fabtwin_bridge::files::{JsonLines, write_atomic};
use fabtwin_bridge::mqtt::fleet::Fleet;
use fabtwin_bridge::mqtt::verify::Subscriber;
use fabtwin_bridge::report::{
    ExpectationReport, GatewayOffline, LineReport, MqttReport, RunFacts, RunReport, Totals,
    VerifyReport, Wall,
};
use fabtwin_bridge::topics::Topics;
use fabtwin_sim::device::Fidelity;
use fabtwin_sim::world::World;

use super::mqtt::{Speed, Target};
use crate::cli::{Format, RunArgs};

/// One line of telemetry.jsonl: `{"topic": …, "payload": {…}}`.
fn envelope(topic: &str, payload: &[u8]) -> Vec<u8> {
    let mut line = Vec::with_capacity(payload.len() + topic.len() + 24);
    line.extend_from_slice(b"{\"topic\":");
    line.extend_from_slice(
        serde_json::to_string(topic)
            .expect("a string serialises")
            .as_bytes(),
    );
    line.extend_from_slice(b",\"payload\":");
    line.extend_from_slice(payload);
    line.push(b'}');
    line
}

struct Files {
    telemetry: JsonLines,
    truth: JsonLines,
    /// Jam onsets and clears of flow lines; only when the scenario has flow lines.
    flow_truth: Option<JsonLines>,
}

pub fn run(args: RunArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let (mut scenario, text) = super::scenario::load(&args.scenario)?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    let fidelity: Fidelity = args.fidelity.into();
    let speed = super::mqtt::speed(&args.speed)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let prefix = format!("fabtwin-{}-", scenario.name);
    let mut target = runtime.block_on(async {
        super::mqtt::target(&args.broker, &args.auth, args.persistent, &prefix)
    })?;
    let drain = fabtwin_sim::time::SimDuration::parse(&args.drain_timeout)
        .map(|d| Duration::from_secs_f64(d.as_secs_f64()))
        .map_err(|e| crate::BadInput(format!("--drain-timeout: {e}")))?;
    if let Some(t) = target.as_mut() {
        t.connect.buffer_dir = args.buffer_dir.clone();
        t.connect.resume = args.resume;
        t.drain = drain;
    } else if args.buffer_dir.is_some() {
        return Err(
            crate::BadInput("--buffer-dir needs a broker (not --broker none)".into()).into(),
        );
    }
    if args.verify && target.is_none() {
        return Err(crate::BadInput("--verify needs a broker (not --broker none)".into()).into());
    }
    let out: PathBuf = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out").join(&scenario.name));
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create output directory {}", out.display()))?;
    let topics = Topics::default();

    let mut meta = JsonLines::create(&out.join("meta.jsonl"))?;
    for m in 0..scenario.machines.len() {
        let msg = json::meta(&scenario, &topics, m);
        meta.line(&envelope(&msg.topic, &msg.payload))?;
    }
    meta.finish()?;

    let mut files = Files {
        telemetry: JsonLines::create(&out.join("telemetry.jsonl"))?,
        truth: JsonLines::create(&out.join("truth.jsonl"))?,
        flow_truth: if scenario.flow.is_empty() {
            None
        } else {
            Some(JsonLines::create(&out.join("flow_truth.jsonl"))?)
        },
    };
    let total_s = scenario.duration.as_secs_f64();
    let bar = progress(total_s as u64, quiet);
    let started = Instant::now();
    let mut world = World::new(scenario, fidelity);
    let verifier_credentials = match (&args.verify_username, &args.verify_password_file) {
        (Some(u), Some(f)) => Some((
            u.clone(),
            super::mqtt::password_file(f, "--verify-password-file")?,
        )),
        _ => target
            .as_ref()
            .and_then(|t| t.admin.clone().or_else(|| t.connect.credentials.clone())),
    };
    let (totals, mqtt) = runtime.block_on(simulate(
        &mut world,
        &mut files,
        target,
        &topics,
        speed,
        args.verify.then_some(verifier_credentials),
        &bar,
    ))?;
    bar.finish_and_clear();
    files.telemetry.finish()?;
    files.truth.finish()?;
    if let Some(f) = files.flow_truth.take() {
        f.finish()?;
    }
    let seconds = started.elapsed().as_secs_f64();

    let scenario = world.scenario();
    let verdicts = fabtwin_sim::expect::evaluate(scenario, world.summary(), &world.flow_summary());
    let facts = RunFacts {
        file: &args.scenario.display().to_string(),
        text: &text,
        fidelity: fidelity.name(),
        totals,
        wall: Wall {
            seconds,
            speedup: if seconds > 0.0 {
                total_s / seconds
            } else {
                0.0
            },
        },
    };
    let mut report = RunReport::new(scenario, world.summary(), &verdicts, facts);
    report.flow = LineReport::all(scenario, &world.flow_summary());
    if let Some(m) = &mqtt
        && let Some(v) = &m.verify
    {
        let passed = v.missing == 0 && m.dropped == 0;
        report.expectations.push(ExpectationReport {
            // The broker (with its port) is in `observed`: the name stays the same
            // from run to run, so a CI's test history follows it.
            expectation: "every message sent reaches a subscriber".to_string(),
            passed,
            observed: format!(
                "broker {}: sent {}, delivered {}, dropped {}, received {} ({} distinct), missing {}, duplicates {}",
                m.broker, m.sent, m.delivered, m.dropped, v.received, v.distinct, v.missing, v.duplicates
            ),
        });
        report.passed &= passed;
    }
    // Messages still buffered at exit were never delivered: without --buffer-dir
    // they die with the process, with it they wait for a --resume.
    if let Some(m) = &mqtt
        && m.buffered > 0
    {
        let fate = if args.buffer_dir.is_some() {
            "they wait in --buffer-dir for `--resume`"
        } else {
            "they are lost with this process; --buffer-dir keeps them for a `--resume`"
        };
        report.expectations.push(ExpectationReport {
            expectation: "every message is delivered before exit".to_string(),
            passed: false,
            observed: format!(
                "{} of {} messages undelivered after --drain-timeout {}: {fate}",
                m.buffered, m.sent, args.drain_timeout
            ),
        });
        report.passed = false;
    }
    report.mqtt = mqtt;
    write_atomic(&out.join("report.json"), &report.to_json())?;
    write_atomic(&out.join("junit.xml"), report.to_junit().as_bytes())?;
    print_summary(&report, args.format, quiet, &out, scenario);
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn simulate(
    world: &mut World,
    files: &mut Files,
    target: Option<Target>,
    topics: &Topics,
    speed: Speed,
    verify: Option<Option<(String, String)>>,
    bar: &ProgressBar,
) -> anyhow::Result<(Totals, Option<MqttReport>)> {
    let mut fleet = match &target {
        Some(t) => Some(
            Fleet::connect(world.scenario(), topics, &t.connect)
                .await
                .context("cannot set up the MQTT sessions")?,
        ),
        None => None,
    };
    if let Some(f) = fleet.as_mut() {
        // Paced runs keep real network dynamics; compressed ones settle before a fault.
        f.settle = !matches!(speed, Speed::Factor(x) if x <= 1.0);
    }
    let mut subscriber = match (&target, verify) {
        (Some(t), Some(credentials)) => {
            let mut s = Subscriber::start(
                &t.connect.host,
                t.connect.port,
                &format!("{}verify", t.connect.client_prefix),
                &verify_filters(world.scenario(), topics),
                credentials,
                t.connect.tls.as_ref(),
            );
            if !s.ready(Duration::from_secs(10)).await {
                anyhow::bail!(
                    "the verifying subscriber could not subscribe at {} within 10 s",
                    t.url
                );
            }
            Some(s)
        }
        (None, Some(_)) => {
            return Err(
                crate::BadInput("--verify needs a broker (not --broker none)".into()).into(),
            );
        }
        _ => None,
    };
    let mut totals = Totals::default();
    let wall0 = tokio::time::Instant::now();
    while let Some(step) = world.step() {
        if let Speed::Factor(f) = speed {
            tokio::time::sleep_until(wall0 + Duration::from_secs_f64(step.t.as_secs_f64() / f))
                .await;
        }
        if let Some(f) = fleet.as_mut() {
            super::wire::on_wire(world, f, &step, topics).await;
        }
        let sc = world.scenario();
        for m in &step.telemetry {
            let msg = json::telemetry(sc, topics, m);
            totals.messages += 1;
            totals.readings += m.readings.len() as u64;
            totals.telemetry_bytes += msg.payload.len() as u64;
            files.telemetry.line(&envelope(&msg.topic, &msg.payload))?;
        }
        for r in &step.truth {
            files.truth.line(&json::truth(sc, r))?;
            totals.truth_records += 1;
        }
        for s in &step.flow {
            let msg = json::flow(sc, topics, s);
            files.telemetry.line(&envelope(&msg.topic, &msg.payload))?;
        }
        if let Some(ft) = files.flow_truth.as_mut() {
            for e in &step.flow_truth {
                ft.line(&json::jam_truth(sc, e))?;
            }
        }
        bar.set_position(step.t.as_secs_f64() as u64);
    }
    let (Some(target), Some(fleet)) = (target, fleet) else {
        return Ok((totals, None));
    };
    let last_seq: BTreeMap<String, u64> = fleet.last_seq.clone();
    let offline = fleet.offline.clone();
    let sessions = fleet.finish(target.drain).await;
    let sent: u64 = sessions.iter().map(|s| s.sent).sum();
    let verify = match subscriber.take() {
        Some(s) => {
            // Everything the broker acknowledged should arrive; wait for that much.
            let delivered: u64 = sessions.iter().map(|s| s.delivered).sum();
            let tally = s
                .finish(
                    delivered,
                    Duration::from_millis(300),
                    Duration::from_secs(10),
                    Duration::from_secs(600),
                )
                .await;
            let devices = tally.report(&last_seq);
            Some(VerifyReport::new(&tally, devices))
        }
        None => None,
    };
    let sc = world.scenario();
    let run_end = fabtwin_sim::time::SimTime(sc.duration.0);
    let offline = sc
        .gateways
        .iter()
        .zip(&offline)
        .map(|(g, spans)| {
            let spans: Vec<_> = spans.iter().map(|&(a, b)| (a, b.min(run_end))).collect();
            GatewayOffline {
                gateway: g.id.clone(),
                intervals: spans
                    .iter()
                    .map(|&(a, b)| [sc.start.format(a), sc.start.format(b)])
                    .collect(),
                seconds: spans.iter().map(|&(a, b)| (b.0 - a.0) as f64 / 1e9).sum(),
            }
        })
        .collect();
    let report = MqttReport {
        offline,
        broker: match &target.embedded {
            Some(b) => format!("embedded (mqtt://{})", b.addr()),
            None => target.url.to_string(),
        },
        sent,
        delivered: sessions.iter().map(|s| s.delivered).sum(),
        dropped: sessions.iter().map(|s| s.dropped).sum(),
        buffered: sessions.iter().map(|s| s.buffered).sum(),
        recovered: sessions.iter().map(|s| s.recovered).sum(),
        last_seq,
        sessions,
        verify,
    };
    Ok((totals, Some(report)))
}

/// What a verifying subscriber subscribes to: the JSON telemetry tree, and
/// Sparkplug B DDATA where a gateway speaks it.
pub fn verify_filters(scenario: &fabtwin_sim::scenario::Scenario, topics: &Topics) -> Vec<String> {
    let mut filters = vec![topics.all_telemetry()];
    if scenario
        .gateways
        .iter()
        .any(|g| g.codec == fabtwin_sim::scenario::Codec::SparkplugB)
    {
        filters.push("spBv1.0/+/DDATA/#".to_string());
    }
    filters
}

fn print_summary(
    report: &RunReport,
    format: Format,
    quiet: bool,
    out: &Path,
    scenario: &fabtwin_sim::scenario::Scenario,
) {
    match format {
        Format::Json => println!("{}", String::from_utf8_lossy(&report.to_json()).trim_end()),
        Format::Text if !quiet => {
            println!(
                "{}: {} machines, {} of sim time in {:.2} s ({:.0}× real time), {} fidelity, seed {}",
                report.scenario,
                report.machines.len(),
                fabtwin_sim::time::SimDuration(scenario.duration.0),
                report.wall.seconds,
                report.wall.speedup,
                report.fidelity,
                report.seed
            );
            println!(
                "  {} messages, {} readings, {} truth records → {}",
                report.totals.messages,
                report.totals.readings,
                report.totals.truth_records,
                out.display()
            );
            if let Some(m) = &report.mqtt {
                println!(
                    "  mqtt {}: sent {}, delivered {}, dropped {}, buffered {}",
                    m.broker, m.sent, m.delivered, m.dropped, m.buffered
                );
            }
            let alarms: Vec<&str> = report
                .machines
                .iter()
                .filter(|m| m.first_alarm.is_some())
                .map(|m| m.id.as_str())
                .collect();
            if !alarms.is_empty() {
                println!("  alarms on: {}", alarms.join(", "));
            }
            for e in &report.expectations {
                println!(
                    "  [{}] {} — {}",
                    if e.passed { "pass" } else { "FAIL" },
                    e.expectation,
                    e.observed
                );
            }
        }
        Format::Text => {}
    }
}

/// A progress bar over sim seconds, drawn only when both stdout and stderr are terminals.
fn progress(len: u64, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::new(len.max(1));
    if quiet || !std::io::stdout().is_terminal() || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {percent}% sim time, eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}
