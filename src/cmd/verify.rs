//! `fabtwin verify`: subscribe like a pipeline would, for a bounded time, and
//! account for every device's messages by sequence number: received, missing,
//! duplicated, out of order, and end-to-end latency (HDR histogram).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;

use fabtwin_bridge::mqtt::url::BrokerUrl;
use fabtwin_bridge::mqtt::verify::{Subscriber, wall_ns};
use fabtwin_bridge::report::VerifyReport;
use fabtwin_bridge::topics::Topics;
use fabtwin_sim::time::SimDuration;

use crate::BadInput;
use crate::cli::VerifyArgs;

fn wall(flag: &str, text: &str) -> Result<Duration, BadInput> {
    SimDuration::parse(text)
        .map(|d| Duration::from_secs_f64(d.as_secs_f64()))
        .map_err(|e| BadInput(format!("{flag}: {e}")))
}

/// The highest seq per device from a run's `report.json` (`mqtt.last_seq`).
fn sent(path: &Path) -> Result<BTreeMap<String, u64>, BadInput> {
    let file = path.display();
    let text =
        std::fs::read(path).map_err(|e| BadInput(format!("--sent {file}: cannot read: {e}")))?;
    let v: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| BadInput(format!("--sent {file}: not JSON: {e}")))?;
    let last = v.pointer("/mqtt/last_seq").ok_or_else(|| {
        BadInput(format!(
            "--sent {file}: no `mqtt.last_seq` (expected the report.json of a `fabtwin run` that published to a broker)"
        ))
    })?;
    serde_json::from_value(last.clone()).map_err(|e| {
        BadInput(format!(
            "--sent {file}: `mqtt.last_seq` must map device ids to integers: {e}"
        ))
    })
}

/// Runs `fabtwin verify`.
pub fn verify(a: VerifyArgs) -> anyhow::Result<ExitCode> {
    let (scenario, _) = super::scenario::load(&a.scenario)?;
    if matches!(BrokerUrl::parse(&a.broker), Ok(BrokerUrl::Embedded)) {
        return Err(BadInput(
            "--broker: verify subscribes to a running broker; give mqtt://host:port or mqtts://host:port".into(),
        )
        .into());
    }
    let duration = wall("--duration", &a.duration)?;
    let idle = a.idle.as_deref().map(|t| wall("--idle", t)).transpose()?;
    let last_sent = a.sent.as_deref().map(sent).transpose()?.unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let target = super::mqtt::target(&a.broker, &a.auth, false, "fabtwin-verify-")?
        .ok_or_else(|| BadInput("--broker none: nothing to verify".into()))?;
    let c = &target.connect;
    let topics = Topics::default();
    let filters = super::run::verify_filters(&scenario, &topics);
    let tally = runtime.block_on(async {
        let mut s = Subscriber::start(
            &c.host,
            c.port,
            &format!("{}{}", c.client_prefix, std::process::id()),
            &filters,
            target.admin.clone().or_else(|| c.credentials.clone()),
            c.tls.as_ref(),
        );
        if !s.ready(Duration::from_secs(10)).await {
            anyhow::bail!("could not subscribe at {} within 10 s", target.url);
        }
        eprintln!("listening on {} for up to {duration:?}", filters.join(", "));
        let start = tokio::time::Instant::now();
        loop {
            let (distinct, last_ns) = s.progress();
            let quiet = Duration::from_nanos(wall_ns().saturating_sub(last_ns));
            let done = start.elapsed() >= duration
                || a.expect
                    .is_some_and(|n| distinct >= n && quiet >= Duration::from_millis(300))
                || idle.is_some_and(|i| last_ns > 0 && quiet >= i);
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(s.stop().await)
    })?;
    // Devices the scenario has that said nothing are listed too.
    let mut devices = tally.report(&last_sent);
    // A silent device whose last sequence number is known misses all of 0 … last.
    for m in &scenario.machines {
        if !devices.iter().any(|d| d.device == m.id) {
            let missing = last_sent.get(&m.id).map_or(0, |&last| last + 1);
            devices.push(fabtwin_bridge::mqtt::verify::DeviceReport {
                device: m.id.clone(),
                received: 0,
                distinct: 0,
                missing,
                missing_first: (0..missing.min(10)).collect(),
                duplicates: 0,
                out_of_order: 0,
                latency_ms: None,
            });
        }
    }
    devices.sort_by(|x, y| x.device.cmp(&y.device));
    let report = VerifyReport::new(&tally, devices);
    print_table(&report);
    if let Some(out) = &a.out {
        let mut bytes = serde_json::to_vec_pretty(&report)?;
        bytes.push(b'\n');
        fabtwin_bridge::files::write_atomic(out, &bytes)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    let failed = verdict(&report, &a, &scenario_ids(&scenario));
    for f in &failed {
        println!("FAIL {f}");
    }
    if failed.is_empty() {
        println!("PASS every expected message arrived once");
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn scenario_ids(s: &fabtwin_sim::scenario::Scenario) -> Vec<String> {
    s.machines.iter().map(|m| m.id.clone()).collect()
}

/// Why the run fails, if it does. The gate is closed by default: nothing received,
/// a missing message, a duplicate, a silent device or fewer than `--expect`
/// messages each fail it; the flags only loosen it.
fn verdict(r: &VerifyReport, a: &VerifyArgs, devices: &[String]) -> Vec<String> {
    let mut failed = Vec::new();
    if r.distinct == 0 {
        failed.push(
            "nothing received: no message of the scenario's devices arrived (is anything publishing to this broker?)"
                .to_string(),
        );
    }
    if let Some(n) = a.expect
        && r.distinct < n
    {
        failed.push(format!("{} distinct messages < --expect {n}", r.distinct));
    }
    if r.missing > a.max_missing {
        failed.push(format!(
            "{} missing > --max-missing {}",
            r.missing, a.max_missing
        ));
    }
    if r.duplicates > a.max_duplicates {
        failed.push(format!(
            "{} duplicates > --max-duplicates {}",
            r.duplicates, a.max_duplicates
        ));
    }
    let silent: Vec<&str> = r
        .devices
        .iter()
        .filter(|d| d.distinct == 0 && devices.contains(&d.device))
        .map(|d| d.device.as_str())
        .collect();
    if r.distinct > 0 && silent.len() as u64 > a.max_silent {
        let shown: Vec<&str> = silent.iter().copied().take(8).collect();
        let more = if silent.len() > 8 { ", …" } else { "" };
        failed.push(format!(
            "{} silent devices > --max-silent {} ({}{more})",
            silent.len(),
            a.max_silent,
            shown.join(", ")
        ));
    }
    failed
}

fn print_table(r: &VerifyReport) {
    println!(
        "{:<24} {:>9} {:>9} {:>8} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9}",
        "device",
        "received",
        "distinct",
        "missing",
        "dups",
        "order",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms"
    );
    for d in &r.devices {
        let l = |f: fn(&fabtwin_bridge::mqtt::verify::Latency) -> f64| {
            d.latency_ms
                .as_ref()
                .map_or("-".to_string(), |x| format!("{:.2}", f(x)))
        };
        println!(
            "{:<24} {:>9} {:>9} {:>8} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9}",
            d.device,
            d.received,
            d.distinct,
            d.missing,
            d.duplicates,
            d.out_of_order,
            l(|x| x.p50),
            l(|x| x.p99),
            l(|x| x.p999),
            l(|x| x.max)
        );
    }
    println!(
        "total: {} received, {} distinct, {} missing, {} duplicates, {} out of order, {} unreadable, {} historical (Sparkplug)",
        r.received, r.distinct, r.missing, r.duplicates, r.out_of_order, r.malformed, r.historical
    );
}
