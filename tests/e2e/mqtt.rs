//! MQTT end to end: real brokers (the embedded one and mosquitto) on real
//! loopback sockets, real network faults through fabtwin's proxy, exact
//! accounting by the verifying subscriber.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{fabtwin, tempdir, text, write};

/// A mosquitto started by the test on a free loopback port, killed on drop.
pub struct Mosquitto {
    child: Child,
}

impl Mosquitto {
    /// Kills the broker with SIGKILL (no chance to save anything) and reaps it.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL mosquitto");
        let _ = self.child.wait();
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn mosquitto_binary() -> String {
    let bin = std::env::var("FABTWIN_MOSQUITTO").unwrap_or_else(|_| "mosquitto".into());
    let found = Command::new(&bin)
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "mosquitto is not installed: install the Debian package `mosquitto` (scripts/test does)"
    );
    bin
}

/// Starts mosquitto with `config` (which must listen on `port`) and waits until it accepts.
pub fn mosquitto(config: &Path, port: u16) -> Mosquitto {
    let child = Command::new(mosquitto_binary())
        .arg("-c")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto starts");
    let m = Mosquitto { child };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "mosquitto did not listen on {port} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    m
}

/// What a [`recorder`] saw: every message in arrival order, and its
/// connection errors (it keeps reconnecting through them).
pub struct Recorder {
    /// (topic, payload) of each message.
    pub rx: std::sync::mpsc::Receiver<(String, Vec<u8>)>,
    /// Connection errors, in order.
    pub errors: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// One `()` per subscription acknowledged after the first (resubscriptions).
    pub resubscribed: std::sync::mpsc::Receiver<()>,
}

/// A pipeline-like subscriber on its own thread: subscribes to `filter` at
/// QoS 1 on every connect (so it follows a broker restart), and returns once
/// the first subscription is acknowledged.
pub fn recorder(opts: rumqttc::MqttOptions, filter: &str) -> Recorder {
    use rumqttc::{Client, Event, Packet, QoS};
    let (tx, rx) = std::sync::mpsc::channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let errs = errors.clone();
    let filter = filter.to_string();
    std::thread::spawn(move || {
        let (client, mut conn) = Client::new(opts, 100);
        for ev in conn.iter() {
            match ev {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let _ = client.try_subscribe(filter.clone(), QoS::AtLeastOnce);
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    let _ = ready_tx.send(());
                }
                Ok(Event::Incoming(Packet::Publish(p)))
                    if tx.send((p.topic.clone(), p.payload.to_vec())).is_err() =>
                {
                    return;
                }
                Err(e) => {
                    errs.lock().unwrap().push(e.to_string());
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => {}
            }
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the recording subscriber subscribed within 10 s");
    Recorder {
        rx,
        errors,
        resubscribed: ready_rx,
    }
}

/// (device, seq) of a JSON telemetry payload.
pub fn device_seq(payload: &[u8]) -> (String, u64) {
    let v: serde_json::Value = serde_json::from_slice(payload).unwrap();
    (
        v["device"].as_str().unwrap().to_string(),
        v["seq"].as_u64().unwrap(),
    )
}

pub fn report(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}

pub const TWO_MACHINES: &str = r#"Scenario(name: "outage", duration: "6h", acquisition: (interval: "1m"),
    sites: [(id: "s", lines: [(id: "l", machines: [
        (id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "vib", part: "IIS3DWB"), (id: "t", part: "STTS22H")]),
        (id: "m2", kind: Pump, rated_speed_rpm: 2950, sensors: [(id: "vib", part: "IIS3DWB")]),
    ])])],
    gateways: [(id: "gw1", machines: ["m1", "m2"], publish_interval: "1m", buffer: (max_messages: 50, overflow: OVERFLOW))],
    network_faults: [(gateway: "gw1", kind: Outage, at: "1h", duration: "10m"), (gateway: "gw1", kind: Outage, at: "3h", duration: "1h")],
)"#;

fn outage_run(overflow: &str) -> serde_json::Value {
    let dir = tempdir();
    let file = write(
        dir.path(),
        "outage.ron",
        &TWO_MACHINES.replace("OVERFLOW", overflow),
    );
    let out = dir.path().join("o");
    let o = fabtwin(&[
        "run",
        &file,
        "--verify",
        "--out",
        &out.display().to_string(),
    ]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", text(&o));
    report(&out)["mqtt"].clone()
}

#[test]
fn outage_shorter_than_the_buffer_loses_nothing_and_keeps_order_outage_longer_drops_exactly_by_policy()
 {
    // 2 devices publish every minute. The 10 min outage holds 20 messages (< 50): all
    // delivered later, in order. The 60 min outage holds 120: DropOldest must drop
    // exactly 120 − 50 = 70, the oldest of the outage, 35 per device.
    let m = outage_run("DropOldest");
    let (sent, delivered, dropped) = (
        m["sent"].as_u64().unwrap(),
        m["delivered"].as_u64().unwrap(),
        m["dropped"].as_u64().unwrap(),
    );
    assert_eq!(sent, 720);
    assert_eq!(dropped, 70, "{m:#}");
    assert_eq!(delivered + dropped + m["buffered"].as_u64().unwrap(), sent);
    let v = &m["verify"];
    assert_eq!(
        v["distinct"].as_u64(),
        Some(delivered),
        "every acknowledged message reached the subscriber"
    );
    assert_eq!(
        v["missing"].as_u64(),
        Some(dropped),
        "what is missing is exactly what the policy dropped"
    );
    assert_eq!(
        v["out_of_order"].as_u64(),
        Some(0),
        "the buffer drains in order"
    );
    for d in v["devices"].as_array().unwrap() {
        assert_eq!(d["missing"].as_u64(), Some(35), "{d}");
        // The outage covers sim minutes 180 … 239: message seq k carries the reading of
        // minute k, so the oldest 35 of the outage are seqs 179 … 213.
        let first: Vec<u64> = d["missing_first"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        assert_eq!(first, (179..189).collect::<Vec<_>>(), "{d}");
    }
    let gw = &m["sessions"][0];
    assert!(
        gw["connects"].as_u64().unwrap() >= 3,
        "reconnected after each outage: {gw}"
    );
}

#[test]
fn reject_new_keeps_the_oldest_and_refuses_the_rest() {
    let m = outage_run("RejectNew");
    assert_eq!(m["dropped"].as_u64(), Some(70), "{m:#}");
    for d in m["verify"]["devices"].as_array().unwrap() {
        let first: Vec<u64> = d["missing_first"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        // The first 25 of each device's outage messages fit; the next 35 are refused.
        assert_eq!(first[0], 179 + 25, "{d}");
    }
}

#[test]
fn provisioned_mosquitto_takes_the_quickstart_with_least_privilege() {
    let dir = tempdir();
    let port = free_port();
    let prov = dir.path().join("prov");
    let o = fabtwin(&[
        "provision",
        "scenarios/quickstart.ron",
        "--for",
        "mosquitto",
        "--out",
        &prov.display().to_string(),
        "--port",
        &port.to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let _broker = mosquitto(&prov.join("mosquitto.conf"), port);
    let out = dir.path().join("q");
    let cred = |u: &str| {
        prov.join(format!("credentials/{u}.password"))
            .display()
            .to_string()
    };
    let o = fabtwin(&[
        "run",
        "scenarios/quickstart.ron",
        "--broker",
        &format!("mqtt://127.0.0.1:{port}"),
        "--username",
        "gw1",
        "--password-file",
        &cred("gw1"),
        "--verify",
        "--verify-username",
        "admin",
        "--verify-password-file",
        &cred("admin"),
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let m = &report(&out)["mqtt"];
    assert_eq!(m["delivered"], m["sent"]);
    assert_eq!(m["verify"]["distinct"], m["sent"]);
    assert_eq!(m["verify"]["missing"].as_u64(), Some(0));

    // A wrong password is refused by the broker, reported, and the run fails cleanly.
    let bad = write(dir.path(), "bad.password", "not-the-password\n");
    let o = fabtwin(&[
        "run",
        "scenarios/quickstart.ron",
        "--broker",
        &format!("mqtt://127.0.0.1:{port}"),
        "--username",
        "gw1",
        "--password-file",
        &bad,
        "--out",
        &dir.path().join("b").display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("could not connect") && err.contains("refused"),
        "{err}"
    );
    assert!(
        !err.contains("not-the-password"),
        "secrets never appear in output"
    );
}

const COMMANDED: &str = r#"Scenario(name: "commanded", duration: "10m", acquisition: (interval: "1m"),
    sites: [(id: "s", lines: [(id: "l", machines: [
        (id: "m1", kind: Motor, rated_speed_rpm: 1480, rated_power_kw: 11, sensors: [(id: "vib", part: "IIS3DWB"), (id: "t", part: "STTS22H")]),
    ])])],
)"#;

/// `fabtwin broker` as a child process on a free port; returns it and its port.
pub fn fabtwin_broker() -> (Child, u16) {
    let port = free_port();
    (broker_on(port), port)
}

#[test]
fn commands_inject_faults_at_runtime_and_bad_ones_get_an_error_reply() {
    use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
    let dir = tempdir();
    let file = write(dir.path(), "commanded.ron", COMMANDED);
    let (mut broker, port) = fabtwin_broker();
    let out = dir.path().join("o");
    // 10 sim minutes at 60× real time: 10 s of wall time, commands arrive in the first.
    let mut run = Command::new(env!("CARGO_BIN_EXE_fabtwin"))
        .args([
            "run",
            &file,
            "--broker",
            &format!("mqtt://127.0.0.1:{port}"),
            "--speed",
            "60x",
            "--out",
            &out.display().to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let mut opts = MqttOptions::new("operator", "127.0.0.1", port);
    opts.set_keep_alive(Duration::from_secs(10));
    let (client, mut conn) = Client::new(opts, 10);
    client
        .subscribe("fabtwin/s/l-gw/m1/status", QoS::AtLeastOnce)
        .unwrap();
    client
        .subscribe("fabtwin/s/l-gw/m1/reply", QoS::AtLeastOnce)
        .unwrap();
    let mut replies = Vec::new();
    let mut sent = false;
    let deadline = Instant::now() + Duration::from_secs(20);
    for ev in conn.iter() {
        assert!(
            Instant::now() < deadline,
            "no replies within 20 s: {replies:?}"
        );
        if let Ok(Event::Incoming(Packet::Publish(p))) = ev {
            if p.topic.ends_with("/status") && &p.payload[..] == b"online" && !sent {
                client
                    .publish(
                        "fabtwin/s/l-gw/m1/cmd",
                        QoS::AtLeastOnce,
                        false,
                        br#"{"id":"bad","action":"inject","fault":"gremlins","severity":1}"#
                            .to_vec(),
                    )
                    .unwrap();
                client.publish("fabtwin/s/l-gw/m1/cmd", QoS::AtLeastOnce, false, br#"{"id":"good","action":"inject","fault":"imbalance","severity":0.9,"duration":"5m"}"#.to_vec()).unwrap();
                client
                    .publish(
                        "fabtwin/s/l-gw/m1/cmd",
                        QoS::AtLeastOnce,
                        false,
                        br#"{"id":"net","action":"inject","network":"outage","duration":"3m"}"#
                            .to_vec(),
                    )
                    .unwrap();
                sent = true;
            } else if p.topic.ends_with("/reply") {
                replies.push(serde_json::from_slice::<serde_json::Value>(&p.payload).unwrap());
                if replies.len() == 3 {
                    break;
                }
            }
        }
    }
    let status = run.wait().unwrap();
    let _ = broker.kill();
    let _ = broker.wait();
    assert_eq!(replies[0]["id"], "bad");
    assert_eq!(replies[0]["ok"], false);
    assert!(
        replies[0]["message"]
            .as_str()
            .unwrap()
            .contains("field `fault`: `gremlins` is not a machine fault (valid: bearing_outer"),
        "{replies:?}"
    );
    assert_eq!(replies[1]["id"], "good");
    assert_eq!(replies[1]["ok"], true, "{replies:?}");
    assert_eq!(replies[2]["id"], "net");
    assert_eq!(replies[2]["ok"], true, "{replies:?}");
    assert!(status.code().is_some(), "run ended by itself");
    // Truth records the commanded fault, and the device saw it.
    let truth = std::fs::read_to_string(out.join("truth.jsonl")).unwrap();
    assert!(
        truth.contains(r#""mode":"imbalance","severity":0.9"#)
            && truth.contains(r#""origin":"command""#),
        "no commanded fault in truth"
    );
    let r = report(&out);
    assert!(
        r["machines"][0]["first_alarm"].is_string(),
        "imbalance 0.9 on an 11 kW motor reaches zone D: {r:#}"
    );
    // The commanded outage took the gateway offline for 3 sim minutes; what it
    // buffered meanwhile was delivered afterwards.
    let m = &r["mqtt"];
    assert_eq!(m["offline"][0]["gateway"], "l-gw", "{m:#}");
    assert_eq!(m["offline"][0]["seconds"].as_f64(), Some(180.0), "{m:#}");
    assert_eq!(m["delivered"], m["sent"], "{m:#}");
    assert!(m["sessions"][0]["connects"].as_u64().unwrap() >= 2, "{m:#}");
}

const CRASH: &str = r#"Scenario(name: "crash", duration: "2h", acquisition: (interval: "1m"),
    sites: [(id: "s", lines: [(id: "l", machines: [
        (id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "vib", part: "IIS3DWB")]),
        (id: "m2", kind: Pump, rated_speed_rpm: 2950, sensors: [(id: "vib", part: "IIS3DWB")]),
    ])])],
    gateways: [(id: "gw1", machines: ["m1", "m2"], publish_interval: "1m")],
)"#;

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn broker_on(port: u16) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_fabtwin"))
        .args(["broker", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("fabtwin broker starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "broker did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn fabtwin_killed_while_its_broker_is_down_resumes_and_delivers_everything() {
    use std::collections::BTreeSet;
    let dir = tempdir();
    let file = write(dir.path(), "crash.ron", CRASH);
    let buffers = dir.path().join("buffers");
    let port = free_port();
    let mut broker = broker_on(port);
    let url = format!("mqtt://127.0.0.1:{port}");

    // A pipeline-like subscriber that reconnects and resubscribes across broker restarts.
    let rec = recorder(
        rumqttc::MqttOptions::new("pipeline", "127.0.0.1", port),
        "fabtwin/+/+/+/telemetry",
    );

    // First run, paced (2 h at 1200× = 6 s).
    let mut first = Command::new(env!("CARGO_BIN_EXE_fabtwin"))
        .args([
            "run",
            &file,
            "--broker",
            &url,
            "--speed",
            "1200x",
            "--buffer-dir",
            &buffers.display().to_string(),
            "--out",
            &dir.path().join("o1").display().to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen: BTreeSet<(String, u64)> = BTreeSet::new();
    let mut received = 0u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(seen.contains(&("m1".into(), 10)) && seen.contains(&("m2".into(), 10))) {
        assert!(
            Instant::now() < deadline,
            "the first messages never arrived"
        );
        if let Ok((_, p)) = rec.rx.recv_timeout(Duration::from_millis(100)) {
            received += 1;
            seen.insert(device_seq(&p));
        }
    }
    // The broker dies: the gateway keeps buffering on disk while the sim runs on.
    broker.kill().unwrap();
    broker.wait().unwrap();
    // Once the buffer stops growing (the simulation is done and the gateway is
    // waiting for a broker), kill fabtwin with SIGKILL.
    let session_dir = buffers.join("fabtwin-crash-gw1");
    let (mut last, mut stable_since) = (0, Instant::now());
    while stable_since.elapsed() < Duration::from_millis(1500) {
        assert!(Instant::now() < deadline, "the buffer never settled");
        let now = dir_bytes(&session_dir);
        if now != last {
            (last, stable_since) = (now, Instant::now());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    while let Ok((_, p)) = rec.rx.try_recv() {
        received += 1;
        seen.insert(device_seq(&p));
    }
    let before = seen.len();
    assert!(before < 240, "the broker died before the end");

    // The broker is back. Without --resume the leftover buffer is refused; with it,
    // what the killed run held is delivered.
    let mut broker = broker_on(port);
    rec.resubscribed
        .recv_timeout(Duration::from_secs(15))
        .expect("subscriber resubscribed");
    let o = fabtwin(&[
        "run",
        &file,
        "--broker",
        &url,
        "--buffer-dir",
        &buffers.display().to_string(),
        "--out",
        &dir.path().join("o2").display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("pass --resume"),
        "{}",
        text(&o)
    );
    let out = dir.path().join("o3");
    let o = fabtwin(&[
        "run",
        &file,
        "--broker",
        &url,
        "--buffer-dir",
        &buffers.display().to_string(),
        "--resume",
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let m = &report(&out)["mqtt"];
    let (sent, recovered, delivered) = (
        m["sent"].as_u64().unwrap(),
        m["recovered"].as_u64().unwrap(),
        m["delivered"].as_u64().unwrap(),
    );
    assert!(
        recovered > 0,
        "the killed run's messages came back from disk: {m:#}"
    );
    assert_eq!(
        sent + recovered,
        delivered + m["dropped"].as_u64().unwrap() + m["buffered"].as_u64().unwrap(),
        "{m:#}"
    );

    // Every seq of both devices reaches the pipeline: 0 lost.
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < 240 {
        assert!(
            Instant::now() < deadline,
            "still missing {} of 240 after the resumed run",
            240 - seen.len()
        );
        if let Ok((_, p)) = rec.rx.recv_timeout(Duration::from_millis(100)) {
            received += 1;
            seen.insert(device_seq(&p));
        }
    }
    let _ = broker.kill();
    let _ = broker.wait();
    for d in ["m1", "m2"] {
        for s in 0..120 {
            assert!(seen.contains(&(d.to_string(), s)), "{d} seq {s} lost");
        }
    }
    eprintln!(
        "before the kill {before} distinct; resumed run: sent {sent}, recovered {recovered}, delivered {delivered}; pipeline received {received} for 240 distinct ({} duplicates)",
        received - 240
    );
}

/// Two gateways, one of them a session per device speaking Sparkplug B.
const IDENTITIES: &str = r#"Scenario(name: "identities", duration: "1h", acquisition: (interval: "5m"),
    sites: [(id: "s", lines: [(id: "l", machines: [
        (id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "vib", part: "IIS3DWB")]),
        (id: "m2", kind: Pump, rated_speed_rpm: 2950, sensors: [(id: "vib", part: "IIS3DWB")]),
        (id: "m3", kind: Fan, rated_speed_rpm: 980, sensors: [(id: "vib", part: "IIS3DWB")]),
    ])])],
    gateways: [
        (id: "gwa", machines: ["m1"], publish_interval: "5m"),
        (id: "gwb", machines: ["m2", "m3"], publish_interval: "5m", session: PerDevice, codec: SparkplugB),
    ],
)"#;

#[test]
fn provisioned_identities_each_session_connects_as_itself() {
    let dir = tempdir();
    let file = write(dir.path(), "identities.ron", IDENTITIES);
    let port = free_port();
    let prov = dir.path().join("prov");
    let o = fabtwin(&[
        "provision",
        &file,
        "--out",
        &prov.display().to_string(),
        "--port",
        &port.to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let _broker = mosquitto(&prov.join("mosquitto.conf"), port);
    let out = dir.path().join("o");
    let index = prov.join("credentials.json").display().to_string();
    let o = fabtwin(&[
        "run",
        &file,
        "--broker",
        &format!("mqtt://127.0.0.1:{port}"),
        "--credentials",
        &index,
        "--verify",
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let m = &report(&out)["mqtt"];
    assert_eq!(m["sent"].as_u64(), Some(36), "{m:#}");
    assert_eq!(m["delivered"], m["sent"], "{m:#}");
    assert_eq!(m["verify"]["distinct"], m["sent"], "{m:#}");
    let clients: Vec<&str> = m["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        clients,
        [
            "fabtwin-identities-gwa",
            "fabtwin-identities-m2",
            "fabtwin-identities-m3"
        ]
    );

    // One shared identity cannot do it: gwa's credentials may not publish m2's topics,
    // and mosquitto drops what the ACL refuses, so the subscriber never sees them.
    let o = fabtwin(&[
        "run",
        &file,
        "--broker",
        &format!("mqtt://127.0.0.1:{port}"),
        "--username",
        "gwa",
        "--password-file",
        &prov.join("credentials/gwa.password").display().to_string(),
        "--verify",
        "--verify-username",
        "admin",
        "--verify-password-file",
        &prov
            .join("credentials/admin.password")
            .display()
            .to_string(),
        "--out",
        &dir.path().join("shared").display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v = &report(&dir.path().join("shared"))["mqtt"]["verify"];
    assert_eq!(
        v["distinct"].as_u64(),
        Some(12),
        "only m1's messages get through: {v:#}"
    );

    // A credentials file that is not provision's index names where it goes wrong.
    let bad = write(dir.path(), "bad.json", "{\"identities\": 3}");
    let o = fabtwin(&[
        "run",
        &file,
        "--broker",
        &format!("mqtt://127.0.0.1:{port}"),
        "--credentials",
        &bad,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("bad.json:1:"), "{}", text(&o));
}

#[test]
fn buffer_ttl_expires_stale_outage_data_and_the_counts_still_add_up() {
    // The 1 h outage buffers 120 messages (< 500), but only the last 20 minutes of
    // data is worth sending: what is older when the link returns expires.
    let dir = tempdir();
    let text_ttl = TWO_MACHINES.replace(
        "buffer: (max_messages: 50, overflow: OVERFLOW)",
        "buffer: (max_messages: 500, overflow: DropOldest, ttl: \"20m\")",
    );
    assert_ne!(text_ttl, TWO_MACHINES);
    let file = write(dir.path(), "ttl.ron", &text_ttl);
    let out = dir.path().join("o");
    // Paced, so the drain after the outage is not outrun by a simulation racing
    // ahead (TTL is checked against the newest sim time): 6 h in 3 s.
    let o = fabtwin(&[
        "run",
        &file,
        "--verify",
        "--speed",
        "7200x",
        "--out",
        &out.display().to_string(),
    ]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", text(&o));
    let m = report(&out)["mqtt"].clone();
    let (sent, delivered, dropped) = (
        m["sent"].as_u64().unwrap(),
        m["delivered"].as_u64().unwrap(),
        m["dropped"].as_u64().unwrap(),
    );
    assert_eq!(sent, 720);
    assert_eq!(delivered + dropped, sent, "{m:#}");
    // Per device, the outage's minutes 180…239 older than 20 min behind the newest
    // message when the link returns expire: 39 or 40 of 60 (the newest is 239 or 240).
    assert!((78..=80).contains(&dropped), "{m:#}");
    eprintln!("ttl: sent {sent}, delivered {delivered}, expired {dropped}");
    let v = &m["verify"];
    assert_eq!(v["distinct"].as_u64(), Some(delivered), "{v:#}");
    assert_eq!(
        v["missing"].as_u64(),
        Some(dropped),
        "what expired is exactly what is missing"
    );
    assert_eq!(v["out_of_order"].as_u64(), Some(0), "{v:#}");
}

#[test]
fn heartbeats_come_on_their_grid_and_stop_while_the_gateway_is_offline() {
    let dir = tempdir();
    let scenario = TWO_MACHINES.replace("OVERFLOW", "DropOldest").replace(
        "publish_interval: \"1m\",",
        "publish_interval: \"1m\", heartbeat: \"30m\",",
    );
    let file = write(dir.path(), "beat.ron", &scenario);
    let (mut broker, port) = fabtwin_broker();
    let rec = recorder(
        rumqttc::MqttOptions::new("beats", "127.0.0.1", port),
        "fabtwin/+/+/heartbeat",
    );
    let out = dir.path().join("o");
    let o = fabtwin(&[
        "run",
        &file,
        "--broker",
        &format!("mqtt://127.0.0.1:{port}"),
        "--out",
        &out.display().to_string(),
    ]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", text(&o));
    let mut beats = Vec::new();
    while let Ok((_, b)) = rec.rx.recv_timeout(Duration::from_millis(500)) {
        beats.push(serde_json::from_slice::<serde_json::Value>(&b).unwrap());
    }
    let _ = broker.kill();
    let _ = broker.wait();
    let times: Vec<&str> = beats.iter().map(|b| b["ts"].as_str().unwrap()).collect();
    // Every 30 sim minutes from 0:00 to the end at 6:00, except 1:00, 3:00 and 3:30
    // (the link is down).
    let want: Vec<String> = [0, 30, 90, 120, 150, 240, 270, 300, 330, 360]
        .iter()
        .map(|m| format!("2026-01-01T{:02}:{:02}:00Z", m / 60, m % 60))
        .collect();
    assert_eq!(times, want, "{beats:?}");
    assert!(beats.iter().all(|b| b["client_id"] == "fabtwin-outage-gw1"));
    assert!(beats[5]["connects"].as_u64().unwrap() >= 3, "{}", beats[5]);
}

#[test]
fn the_drain_after_an_outage_keeps_to_the_drain_rate() {
    // 20 messages wait out the first outage and 50 (the buffer) the second; at 20
    // messages/s (bursts of 1) draining them takes at least (20 − 1 + 50 − 1) / 20 s.
    // Slowness elsewhere can only lengthen the run, so the lower bound is firm.
    let dir = tempdir();
    let scenario = TWO_MACHINES.replace(
        "overflow: OVERFLOW)",
        "overflow: DropOldest, drain_rate: 20)",
    );
    let file = write(dir.path(), "drain.ron", &scenario);
    let out = dir.path().join("o");
    let o = fabtwin(&[
        "run",
        &file,
        "--verify",
        "--out",
        &out.display().to_string(),
    ]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", text(&o));
    let r = report(&out);
    let m = &r["mqtt"];
    assert_eq!(m["delivered"].as_u64(), Some(650), "{m:#}");
    assert_eq!(m["verify"]["out_of_order"].as_u64(), Some(0), "{m:#}");
    let wall = r["wall"]["seconds"].as_f64().unwrap();
    assert!(wall >= 68.0 / 20.0, "drained 70 messages in {wall} s");
}

/// Regression: runs that ended with messages still buffered (the broker gone)
/// exited 0, and without --buffer-dir those messages died with the process. The
/// run now waits --drain-timeout, then fails and says how many were lost.
#[test]
fn messages_undelivered_at_exit_fail_the_run_and_are_counted() {
    let dir = tempdir();
    let file = write(dir.path(), "crash.ron", CRASH);
    let port = free_port();
    let mut broker = broker_on(port);
    let url = format!("mqtt://127.0.0.1:{port}");
    let rec = recorder(
        rumqttc::MqttOptions::new("pipeline-drain", "127.0.0.1", port),
        "fabtwin/+/+/+/telemetry",
    );
    let out = dir.path().join("o");
    let run = Command::new(env!("CARGO_BIN_EXE_fabtwin"))
        .args([
            "run",
            &file,
            "--broker",
            &url,
            "--speed",
            "1200x",
            "--drain-timeout",
            "1s",
            "--out",
            &out.display().to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The broker dies once the first messages have arrived.
    let deadline = Instant::now() + Duration::from_secs(30);
    while rec.rx.recv_timeout(Duration::from_millis(100)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the first messages never arrived"
        );
    }
    broker.kill().unwrap();
    broker.wait().unwrap();
    let o = run.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let r = report(&out);
    let m = &r["mqtt"];
    let buffered = m["buffered"].as_u64().unwrap();
    assert!(buffered > 0, "{m:#}");
    let e = r["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["expectation"] == "every message is delivered before exit")
        .unwrap_or_else(|| panic!("no delivery verdict: {r:#}"));
    assert_eq!(e["passed"], false);
    let observed = e["observed"].as_str().unwrap();
    assert!(
        observed.starts_with(&format!("{buffered} of {} messages undelivered", m["sent"])),
        "{observed}"
    );
    assert!(observed.contains("--buffer-dir keeps them"), "{observed}");
}

/// Regression: `fabtwin broker --port P` on a taken port printed "listening on
/// mqtt://127.0.0.1:P" and kept running. A failed bind is bad input, exit 2.
#[test]
fn a_broker_on_a_taken_port_says_so_and_exits_2() {
    let holder = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = holder.local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fabtwin"))
        .args(["broker", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("fabtwin broker kept running on a taken port");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let o = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(status.code(), Some(2), "{out}{err}");
    assert!(!out.contains("listening"), "{out}");
    assert!(
        err.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{err}"
    );
    drop(holder);
}
