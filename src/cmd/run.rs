//! `fabtwin run`: run a scenario headless, as fast as possible, and write
//! telemetry (JSON lines, one message per device per gateway publish, as MQTT
//! would carry them), truth (apart), report.json and junit.xml.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use fabtwin_bridge::codec::json;
use fabtwin_bridge::files::{JsonLines, write_atomic};
use fabtwin_bridge::report::{RunFacts, RunReport, Totals, Wall};
use fabtwin_bridge::topics::Topics;
use fabtwin_sim::device::Fidelity;
use fabtwin_sim::world::World;

use crate::cli::{FidelityArg, Format, RunArgs};

/// One line of telemetry.jsonl: `{"topic": …, "payload": {…}}`.
fn envelope(topic: &str, payload: &[u8]) -> Vec<u8> {
    let mut line = Vec::with_capacity(payload.len() + topic.len() + 24);
    line.extend_from_slice(b"{\"topic\":");
    line.extend_from_slice(serde_json::to_string(topic).expect("a string serialises").as_bytes());
    line.extend_from_slice(b",\"payload\":");
    line.extend_from_slice(payload);
    line.push(b'}');
    line
}

pub fn run(args: RunArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let (mut scenario, text) = super::load(&args.scenario)?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    let fidelity = match args.fidelity {
        FidelityArg::Raw => Fidelity::Raw,
        FidelityArg::Features => Fidelity::Features,
    };
    let out: PathBuf = args.out.clone().unwrap_or_else(|| Path::new("out").join(&scenario.name));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create output directory {}", out.display()))?;
    let topics = Topics::default();

    let mut meta = JsonLines::create(&out.join("meta.jsonl"))?;
    for m in 0..scenario.machines.len() {
        let msg = json::meta(&scenario, &topics, m);
        meta.line(&envelope(&msg.topic, &msg.payload))?;
    }
    meta.finish()?;

    let mut telemetry = JsonLines::create(&out.join("telemetry.jsonl"))?;
    let mut truth = JsonLines::create(&out.join("truth.jsonl"))?;
    let total_s = scenario.duration.as_secs_f64();
    let bar = progress(total_s as u64, quiet);
    let started = Instant::now();
    let mut world = World::new(scenario, fidelity);
    let mut totals = Totals::default();
    while let Some(step) = world.step() {
        let sc = world.scenario();
        for m in &step.telemetry {
            let msg = json::telemetry(sc, &topics, m);
            totals.messages += 1;
            totals.readings += m.readings.len() as u64;
            totals.telemetry_bytes += msg.payload.len() as u64;
            telemetry.line(&envelope(&msg.topic, &msg.payload))?;
        }
        for r in &step.truth {
            truth.line(&json::truth(sc, r))?;
            totals.truth_records += 1;
        }
        bar.set_position(step.t.as_secs_f64() as u64);
    }
    bar.finish_and_clear();
    telemetry.finish()?;
    truth.finish()?;
    let seconds = started.elapsed().as_secs_f64();

    let scenario = world.scenario();
    let verdicts = fabtwin_sim::expect::evaluate(scenario, world.summary());
    let facts = RunFacts {
        file: &args.scenario.display().to_string(),
        text: &text,
        fidelity: fidelity.name(),
        totals,
        wall: Wall { seconds, speedup: if seconds > 0.0 { total_s / seconds } else { 0.0 } },
    };
    let report = RunReport::new(scenario, world.summary(), &verdicts, facts);
    write_atomic(&out.join("report.json"), &report.to_json())?;
    write_atomic(&out.join("junit.xml"), report.to_junit().as_bytes())?;

    match args.format {
        Format::Json => println!("{}", String::from_utf8_lossy(&report.to_json()).trim_end()),
        Format::Text if !quiet => {
            println!(
                "{}: {} machines, {} of sim time in {:.2} s ({:.0}× real time), {} fidelity, seed {}",
                report.scenario,
                report.machines.len(),
                fabtwin_sim::time::SimDuration(scenario.duration.0),
                seconds,
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
            let alarms: Vec<&str> = report.machines.iter().filter(|m| m.first_alarm.is_some()).map(|m| m.id.as_str()).collect();
            if !alarms.is_empty() {
                println!("  alarms on: {}", alarms.join(", "));
            }
            for e in &report.expectations {
                println!("  [{}] {} — {}", if e.passed { "pass" } else { "FAIL" }, e.expectation, e.observed);
            }
        }
        Format::Text => {}
    }
    Ok(if report.passed { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// A progress bar over sim seconds, drawn only when both stdout and stderr are terminals.
fn progress(len: u64, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::new(len.max(1));
    if quiet || !std::io::stdout().is_terminal() || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {percent}% sim time, eta {eta}") {
        bar.set_style(style);
    }
    bar
}
