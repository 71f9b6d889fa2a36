//! A broker killed with SIGKILL mid-run and restarted: mosquitto configured as
//! its users would to keep QoS 1 messages (persistence on, saving on every
//! change), a pipeline subscriber with a persistent session, and fabtwin's
//! gateway owning every message until its PUBACK. Counts are exact, per
//! message: what the subscriber never saw is listed, duplicates are counted.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::mqtt::{device_seq, free_port, mosquitto, recorder, report};
use super::{tempdir, text, write};

/// Two devices, one message each per sim minute, 2 h (240 messages); paced at
/// 720× so the run lasts 10 s of wall time and the broker dies in the middle.
const RESTART: &str = r#"Scenario(name: "restart", duration: "2h", acquisition: (interval: "1m"),
    sites: [(id: "s", lines: [(id: "l", machines: [
        (id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "vib", part: "IIS3DWB")]),
        (id: "m2", kind: Pump, rated_speed_rpm: 2950, sensors: [(id: "vib", part: "IIS3DWB")]),
    ])])],
    gateways: [(id: "gw1", machines: ["m1", "m2"], publish_interval: "1m", qos: 1)],
)"#;

#[test]
fn mosquitto_killed_and_restarted_with_persistence_loses_nothing_at_qos1() {
    let dir = tempdir();
    let file = write(dir.path(), "restart.ron", RESTART);
    let port = free_port();
    let data = dir.path().join("mosquitto-data");
    std::fs::create_dir(&data).unwrap();
    // mosquitto started as root drops to its own user, which must write here.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let config = write(
        dir.path(),
        "mosquitto.conf",
        &format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\n\
             autosave_on_changes true\nautosave_interval 1\nmax_queued_messages 100000\n",
            data.display()
        ),
    );
    let config = std::path::PathBuf::from(config);
    let mut broker = mosquitto(&config, port);

    // The pipeline: a persistent session at QoS 1, so the broker queues for it while
    // it is away and hands the queue over after the restart.
    let mut opts = rumqttc::MqttOptions::new("pipeline-restart", "127.0.0.1", port);
    opts.set_clean_session(false);
    let rec = recorder(opts, "fabtwin/+/+/+/telemetry");

    let out = dir.path().join("o");
    let run = Command::new(env!("CARGO_BIN_EXE_fabtwin"))
        .args([
            "run",
            &file,
            "--broker",
            &format!("mqtt://127.0.0.1:{port}"),
            "--speed",
            "720x",
            "--out",
            &out.display().to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let mut copies: BTreeMap<(String, u64), u64> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let take = |copies: &mut BTreeMap<(String, u64), u64>, wait: Duration| {
        if let Ok((_, p)) = rec.rx.recv_timeout(wait) {
            *copies.entry(device_seq(&p)).or_default() += 1;
        }
    };
    // Mid-run (about a third of the way): SIGKILL, a second of silence, restart.
    while !(copies.contains_key(&("m1".into(), 40)) && copies.contains_key(&("m2".into(), 40))) {
        assert!(
            Instant::now() < deadline,
            "the first messages never arrived"
        );
        take(&mut copies, Duration::from_millis(100));
    }
    broker.kill9();
    std::thread::sleep(Duration::from_secs(1));
    let _broker = mosquitto(&config, port);

    let o = run.wait_with_output().unwrap();
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", text(&o));
    let m = report(&out)["mqtt"].clone();
    let sent = m["sent"].as_u64().unwrap();
    assert_eq!(sent, 240, "{m:#}");
    assert_eq!(
        m["delivered"].as_u64(),
        Some(240),
        "every message acknowledged: {m:#}"
    );
    assert_eq!(m["dropped"].as_u64(), Some(0), "{m:#}");
    assert!(
        m["sessions"][0]["connects"].as_u64().unwrap() >= 2,
        "the gateway reconnected after the restart: {m:#}"
    );

    while copies.len() < 240 && Instant::now() < deadline {
        take(&mut copies, Duration::from_millis(100));
    }
    // A short quiet spell to catch late duplicates.
    let quiet = Instant::now() + Duration::from_millis(500);
    while Instant::now() < quiet {
        take(&mut copies, Duration::from_millis(50));
    }
    let missing: Vec<(String, u64)> = ["m1", "m2"]
        .iter()
        .flat_map(|d| (0..120).map(move |s| (d.to_string(), s)))
        .filter(|k| !copies.contains_key(k))
        .collect();
    let duplicates: u64 = copies.values().map(|c| c - 1).sum();
    eprintln!(
        "broker kill -9 + restart: sent {sent}, delivered {}, received {} distinct, {duplicates} duplicates, {} missing",
        m["delivered"],
        copies.len(),
        missing.len()
    );
    assert!(missing.is_empty(), "lost across the restart: {missing:?}");
}
