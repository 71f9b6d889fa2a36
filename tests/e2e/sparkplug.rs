//! Sparkplug B over a real broker: what `fabtwin run` put on the wire, read
//! back by an independent decoder (plain-Python protobuf reader), and checked
//! against the Sparkplug state rules through an outage.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::mqtt::{fabtwin_broker, recorder, report};
use super::{fabtwin, tempdir, text, write};

const DECODER: &str = include_str!("../../bridge/src/codec/sparkplug/decode.py");

/// Two devices on one Sparkplug edge node, publishing every minute for 3 h;
/// the link is down from 1 h for 10 min, which the 50-message buffer rides out.
const SPARKPLUG: &str = r#"Scenario(name: "spb", duration: "3h", acquisition: (interval: "1m"),
    sites: [(id: "plant1", lines: [(id: "l", machines: [
        (id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "vib", part: "IIS3DWB"), (id: "t", part: "STTS22H")]),
        (id: "m2", kind: Pump, rated_speed_rpm: 2950, sensors: [(id: "vib", part: "IIS3DWB")]),
    ])])],
    gateways: [(id: "gw1", machines: ["m1", "m2"], publish_interval: "1m", codec: SparkplugB, qos: 1,
                buffer: (max_messages: 50, overflow: DropOldest))],
    network_faults: [(gateway: "gw1", kind: Outage, at: "1h", duration: "10m")],
)"#;

fn decode(payloads: &[Vec<u8>]) -> Vec<Json> {
    let mut py = Command::new("python3")
        .arg("-c")
        .arg(DECODER)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs the independent decoder (Debian: apt-get install python3)");
    let mut stdin = py.stdin.take().unwrap();
    let hex: String = payloads
        .iter()
        .map(|p| p.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(hex.as_bytes()));
    let out = py.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the independent decoder refused a payload: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn metric<'a>(p: &'a Json, name: &str) -> Option<&'a Json> {
    p["metrics"]
        .as_array()?
        .iter()
        .find(|m| m["name"].as_str() == Some(name))
}

#[test]
fn sparkplug_b_births_data_deaths_and_historical_drain_follow_the_state_rules() {
    let dir = tempdir();
    let file = write(dir.path(), "spb.ron", SPARKPLUG);
    let (mut broker, port) = fabtwin_broker();

    // An independent host application: records every Sparkplug message in arrival order.
    let mut opts = rumqttc::MqttOptions::new("host-app", "127.0.0.1", port);
    opts.set_max_packet_size(1 << 20, 1 << 20);
    let rec = recorder(opts, "spBv1.0/#");

    let out = dir.path().join("o");
    let o = fabtwin(&[
        "run",
        &file,
        "--broker",
        &format!("mqtt://127.0.0.1:{port}"),
        "--verify",
        "--out",
        &out.display().to_string(),
    ]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", text(&o));
    let m = report(&out)["mqtt"].clone();
    assert_eq!(m["sent"].as_u64(), Some(360), "{m:#}");
    assert_eq!(m["delivered"].as_u64(), Some(360), "{m:#}");
    assert_eq!(m["dropped"].as_u64(), Some(0), "{m:#}");
    let v = &m["verify"];
    assert_eq!(v["distinct"].as_u64(), Some(360), "{v:#}");
    assert_eq!(v["missing"].as_u64(), Some(0), "{v:#}");
    assert_eq!(v["malformed"].as_u64(), Some(0), "{v:#}");

    // Collect until the final NDEATH (the clean close) and a quiet moment.
    let mut msgs: Vec<(String, Vec<u8>)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match rec.rx.recv_timeout(Duration::from_millis(500)) {
            Ok(x) => msgs.push(x),
            Err(_) if msgs.iter().filter(|(t, _)| t.contains("/NDEATH/")).count() >= 2 => break,
            Err(_) => assert!(
                Instant::now() < deadline,
                "no final NDEATH arrived (host errors {:?}): {:?}",
                rec.errors.lock().unwrap(),
                msgs.iter()
                    .map(|(t, _)| t.as_str())
                    .collect::<Vec<_>>()
                    .chunk_by(|a, b| a == b)
                    .map(|c| format!("{}×{}", c[0], c.len()))
                    .collect::<Vec<_>>()
            ),
        }
    }
    let _ = broker.kill();
    let _ = broker.wait();
    let payloads: Vec<Vec<u8>> = msgs.iter().map(|(_, p)| p.clone()).collect();
    let decoded = decode(&payloads);

    // Walk the stream as a host application would.
    let mut bd_seq: Option<u64> = None; // of the live session
    let mut expect_seq: Option<u64> = None; // next seq from the edge node
    let mut births = Vec::new(); // bdSeq of each NBIRTH
    let mut deaths = Vec::new(); // bdSeq of each NDEATH
    let mut born_devices: Vec<String> = Vec::new();
    let (mut live, mut historical) = (0u64, 0u64);
    let mut device_seqs: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for ((topic, _), p) in msgs.iter().zip(&decoded) {
        let parts: Vec<&str> = topic.split('/').collect();
        assert_eq!(&parts[..2], &["spBv1.0", "plant1"], "{topic}");
        assert_eq!(parts[3], "gw1", "{topic}");
        let kind = parts[2];
        match kind {
            "NBIRTH" => {
                assert_eq!(p["seq"].as_u64(), Some(0), "NBIRTH seq is 0: {p}");
                let bd = metric(p, "bdSeq").and_then(|m| m["long_value"].as_u64());
                assert!(bd.is_some(), "NBIRTH carries bdSeq: {p}");
                assert!(
                    metric(p, "Node Control/Rebirth").is_some(),
                    "NBIRTH carries Node Control/Rebirth: {p}"
                );
                bd_seq = bd;
                births.push(bd.unwrap());
                expect_seq = Some(1);
                born_devices.clear();
            }
            "NDEATH" => {
                assert!(p.get("seq").is_none(), "NDEATH has no seq: {p}");
                let bd = metric(p, "bdSeq").and_then(|m| m["long_value"].as_u64());
                assert_eq!(bd, bd_seq, "NDEATH pairs with the live NBIRTH by bdSeq");
                deaths.push(bd.unwrap());
                bd_seq = None;
                expect_seq = None;
            }
            "DBIRTH" | "DDATA" => {
                let device = parts[4].to_string();
                let want = expect_seq.expect("nothing from a node before its NBIRTH");
                assert_eq!(
                    p["seq"].as_u64(),
                    Some(want),
                    "{kind} {device}: seq runs on by one"
                );
                expect_seq = Some((want + 1) % 256);
                if kind == "DBIRTH" {
                    born_devices.push(device);
                    continue;
                }
                assert!(
                    born_devices.contains(&device),
                    "DDATA of {device} only after its DBIRTH"
                );
                let seq = metric(p, "fabtwin/seq")
                    .and_then(|m| m["long_value"].as_u64())
                    .expect("DDATA carries fabtwin/seq");
                device_seqs.entry(device).or_default().push(seq);
                let hist: Vec<bool> = p["metrics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["is_historical"].as_bool() == Some(true))
                    .collect();
                assert!(
                    hist.iter().all(|h| *h) || hist.iter().all(|h| !*h),
                    "a DDATA is historical as a whole: {p}"
                );
                if hist[0] {
                    historical += 1;
                } else {
                    live += 1;
                }
            }
            other => panic!("unexpected message type {other} on {topic}"),
        }
    }
    // One outage: the broker fires the will (NDEATH, bdSeq 0), the node reconnects
    // with bdSeq 1 and births again; the clean close publishes NDEATH bdSeq 1.
    assert_eq!(births, vec![0, 1], "NBIRTH bdSeqs");
    assert_eq!(deaths, vec![0, 1], "NDEATH bdSeqs");
    // Every device's messages arrive once, in order, and the outage's are historical:
    // 10 minutes × 2 devices buffered, then drained.
    for (d, seqs) in &device_seqs {
        assert_eq!(seqs, &(0..180).collect::<Vec<u64>>(), "device {d}");
    }
    assert!(
        (20..=24).contains(&historical),
        "the outage's 20 messages (and any in flight when the link failed) drain as historical: {historical} historical, {live} live"
    );
    assert_eq!(live + historical, 360);
    assert_eq!(v["historical"].as_u64(), Some(historical), "{v:#}");
}
