//! `fabtwin load` end to end: real sessions against the embedded broker and a
//! mosquitto started here, exact counts, shard merges, refusals by reason, and
//! the Kubernetes manifest's shape.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::mqtt::mosquitto;
use super::{fabtwin, root, tempdir, text, write};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn n(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("{v} is not a count"))
}

const TEMPLATE: &str = "bench/telemetry-200b.ron";

#[test]
fn qos1_against_the_embedded_broker_receives_exactly_what_was_sent() {
    let dir = tempdir();
    let out = dir.path().join("r.json");
    let prom = dir.path().join("r.prom");
    let o = fabtwin(&[
        "load",
        "--broker",
        "embedded",
        "--template",
        TEMPLATE,
        "--devices",
        "20",
        "--rate",
        "400",
        // Sessions spread over 127.0.0.1 and 127.0.0.2, as past 28k ports per address.
        "--source-addrs",
        "2",
        "--duration",
        "1s",
        "--qos",
        "1",
        "--subscribe",
        "--out",
        out.to_str().unwrap(),
        "--prometheus",
        prom.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let r = json(&out);
    let p = &r["publish"];
    assert_eq!(n(&r["sessions"]["connected"]), 20, "{r:#}");
    assert_eq!(n(&p["scheduled"]), 400);
    assert_eq!(n(&p["sent"]), 400);
    assert_eq!(n(&p["acked"]), 400);
    assert_eq!(n(&p["ack_latency"]["count"]), 400);
    let s = &r["subscribe"];
    assert_eq!(n(&s["received"]), 400, "{r:#}");
    assert_eq!(n(&s["lost"]), 0);
    assert_eq!(n(&s["duplicates"]), 0);
    assert_eq!(n(&s["latency"]["count"]), 400);
    assert!(!s["latency"]["hdr"].as_str().unwrap().is_empty());
    assert!(r["sessions"]["failed"].as_object().unwrap().is_empty());
    assert_eq!(
        r["limits"]["source_addrs"],
        serde_json::json!(["127.0.0.1", "127.0.0.2"])
    );
    // Real telemetry: the template's sensor, sizes of a real message.
    let size = r["payload_mean_bytes"].as_f64().unwrap();
    assert!((150.0..400.0).contains(&size), "{size}");
    let prom = std::fs::read_to_string(&prom).unwrap();
    assert!(
        prom.contains("fabtwin_load_messages_sent_total 400\n"),
        "{prom}"
    );
    assert!(
        prom.contains("fabtwin_load_messages_received_total 400\n"),
        "{prom}"
    );
    assert!(prom.contains("# TYPE fabtwin_load_latency_seconds summary"));
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(summary.contains("lost 0, duplicates 0"), "{summary}");
}

fn mosquitto_conf(dir: &Path, port: u16, extra: &str) -> std::path::PathBuf {
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n{extra}"
        ),
    )
    .unwrap();
    conf
}

#[test]
fn shards_against_mosquitto_merge_into_exact_fleet_counts() {
    let dir = tempdir();
    let port = free_port();
    let _broker = mosquitto(&mosquitto_conf(dir.path(), port, ""), port);
    let url = format!("mqtt://127.0.0.1:{port}");
    let shards = 3;
    let children: Vec<_> = (0..shards)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_fabtwin"))
                .args([
                    "load",
                    "--broker",
                    &url,
                    "--template",
                    TEMPLATE,
                    "--devices",
                    "31",
                    "--rate",
                    "600",
                    "--duration",
                    "1s",
                    "--qos",
                    "1",
                    "--subscribe",
                    "--shard",
                    &format!("{i}/{shards}"),
                    "--out",
                    dir.path().join(format!("s{i}.json")).to_str().unwrap(),
                ])
                .current_dir(root())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o: Output = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    let parts: Vec<serde_json::Value> = (0..shards)
        .map(|i| json(&dir.path().join(format!("s{i}.json"))))
        .collect();
    // Device i belongs to shard i mod 3: 11, 10, 10 devices.
    let devices: Vec<u64> = parts.iter().map(|p| n(&p["devices"])).collect();
    assert_eq!(devices, vec![11, 10, 10]);
    for p in &parts {
        assert_eq!(
            n(&p["subscribe"]["received"]),
            n(&p["publish"]["sent"]),
            "{p:#}"
        );
        assert_eq!(n(&p["subscribe"]["lost"]), 0);
    }
    let merged = dir.path().join("merged.json");
    let mut args = vec!["load".to_string(), "merge".into()];
    args.extend((0..shards).map(|i| dir.path().join(format!("s{i}.json")).display().to_string()));
    args.extend(["--out".into(), merged.display().to_string()]);
    let o = fabtwin(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", text(&o));
    let m = json(&merged);
    assert_eq!(m["shards"], serde_json::json!([0, 1, 2]));
    assert_eq!(n(&m["devices"]), 31);
    // The fleet's schedule: exactly rate × duration messages over all shards.
    assert_eq!(n(&m["publish"]["scheduled"]), 600);
    assert_eq!(n(&m["publish"]["sent"]), 600);
    assert_eq!(n(&m["subscribe"]["received"]), 600);
    let sum = |f: &dyn Fn(&serde_json::Value) -> u64| parts.iter().map(f).sum::<u64>();
    assert_eq!(
        n(&m["subscribe"]["latency"]["count"]),
        sum(&|p| n(&p["subscribe"]["latency"]["count"]))
    );
    assert_eq!(n(&m["sessions"]["connect_time"]["count"]), 31);
    // Merging a shard twice is refused as bad input.
    let s0 = dir.path().join("s0.json").display().to_string();
    let o = fabtwin(&["load", "merge", &s0, &s0]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("shard 0 appears twice"));
}

#[test]
fn wrong_credentials_are_counted_as_refusals_not_a_hang() {
    let dir = tempdir();
    let port = free_port();
    let passwd = dir.path().join("passwd");
    let st = Command::new("mosquitto_passwd")
        .args(["-c", "-b", passwd.to_str().unwrap(), "loader", "right"])
        .status()
        .expect("mosquitto_passwd runs (Debian package mosquitto)");
    assert!(st.success());
    let conf = dir.path().join("auth.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n",
            passwd.display()
        ),
    )
    .unwrap();
    let _broker = mosquitto(&conf, port);
    let pw = write(dir.path(), "pw", "wrong\n");
    let out = dir.path().join("r.json");
    let o = fabtwin(&[
        "load",
        "--broker",
        &format!("mqtt://127.0.0.1:{port}"),
        "--template",
        TEMPLATE,
        "--devices",
        "5",
        "--rate",
        "50",
        "--duration",
        "1s",
        "--username",
        "loader",
        "--password-file",
        &pw,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let r = json(&out);
    let failed = r["sessions"]["failed"].as_object().unwrap();
    let refused: u64 = failed
        .iter()
        .filter(|(k, _)| k.starts_with("refused:"))
        .map(|(_, v)| n(v))
        .sum();
    assert_eq!(refused, 5, "{r:#}");
    assert_eq!(n(&r["publish"]["sent"]), 0);
    assert_eq!(n(&r["publish"]["not_sent"]), 50);
    assert!(String::from_utf8_lossy(&o.stdout).contains("connect failed: 5 × refused:"));
}

#[test]
fn a_connection_limit_is_reported_by_reason_and_the_rest_still_run() {
    let dir = tempdir();
    let port = free_port();
    let _broker = mosquitto(
        &mosquitto_conf(dir.path(), port, "max_connections 4\n"),
        port,
    );
    let out = dir.path().join("r.json");
    let o = fabtwin(&[
        "load",
        "--broker",
        &format!("mqtt://127.0.0.1:{port}"),
        "--template",
        TEMPLATE,
        "--devices",
        "10",
        "--rate",
        "100",
        "--duration",
        "1s",
        "--ramp",
        "200",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let r = json(&out);
    let c = &r["sessions"];
    let failed: u64 = c["failed"].as_object().unwrap().values().map(n).sum();
    assert!(failed > 0, "{r:#}");
    assert_eq!(n(&c["connected"]) + failed, 10, "{r:#}");
    // Connected sessions send their whole schedule; the refused ones' messages are counted as not sent.
    let p = &r["publish"];
    assert_eq!(n(&p["sent"]) + n(&p["not_sent"]), 100);
    assert_eq!(n(&p["sent"]), n(&c["connected"]) * 10);
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    for (args, needle) in [
        (vec!["--shard", "3/3"], "--shard"),
        (vec!["--rate", "0"], "--rate"),
        (vec!["--duration", "soon"], "--duration"),
        (
            vec!["--broker", "mqtt://10.0.0.1:1883", "--source-addrs", "4"],
            "--source-addrs",
        ),
        (vec!["--broker", "http://x"], "--broker"),
    ] {
        let mut a = vec!["load"];
        a.extend(args);
        let o = fabtwin(&a);
        assert_eq!(o.status.code(), Some(2), "{a:?}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(needle),
            "{a:?}: {}",
            text(&o)
        );
    }
    let o = fabtwin(&["load", "merge", "no-such-report.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-report.json"));
}

#[test]
fn the_kubernetes_manifest_is_an_indexed_job_of_shards() {
    use yaml_rust2::{Yaml, YamlLoader};
    let text = std::fs::read_to_string(root().join("deploy/load-job.yaml")).unwrap();
    let docs = YamlLoader::load_from_str(&text).expect("deploy/load-job.yaml is YAML");
    assert_eq!(docs.len(), 1);
    let job = &docs[0];
    assert_eq!(job["apiVersion"].as_str(), Some("batch/v1"));
    assert_eq!(job["kind"].as_str(), Some("Job"));
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let completions = spec["completions"]
        .as_i64()
        .expect("completions is a number");
    assert_eq!(spec["parallelism"].as_i64(), Some(completions));
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"].as_str(), Some("Never"));
    let containers = pod["containers"].as_vec().expect("containers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    let command: Vec<&str> = c["command"]
        .as_vec()
        .unwrap()
        .iter()
        .chain(c["args"].as_vec().map(|v| v.as_slice()).unwrap_or(&[]))
        .filter_map(Yaml::as_str)
        .collect();
    let line = command.join(" ");
    assert!(line.contains("fabtwin load"), "{line}");
    let shard = format!("--shard \"$JOB_COMPLETION_INDEX/{completions}\"");
    assert!(
        line.contains(&shard),
        "the shard count must equal completions: {line}"
    );
    assert!(line.contains("--out"), "{line}");
    for kind in ["requests", "limits"] {
        for res in ["cpu", "memory"] {
            assert!(
                !c["resources"][kind][res].is_badvalue(),
                "resources.{kind}.{res} is set"
            );
        }
    }
    // The command line the pods run parses as fabtwin load flags.
    let flags: Vec<String> = line
        .split_whitespace()
        .skip_while(|w| *w != "load")
        .skip(1)
        .map(|w| {
            w.trim_matches('"')
                .replace("$JOB_COMPLETION_INDEX", "0")
                .replace("$BROKER_URL", "mqtt://127.0.0.1:1")
        })
        .collect();
    let mut args = vec!["load".to_string()];
    args.extend(flags);
    args.push("--help".into());
    let o = fabtwin(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", super::text(&o));
}

#[test]
fn live_metrics_are_served_on_loopback_while_running() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fabtwin"))
        .args([
            "load",
            "--template",
            TEMPLATE,
            "--devices",
            "4",
            "--rate",
            "40",
            "--duration",
            "3s",
            "--metrics-addr",
            &format!("127.0.0.1:{port}"),
        ])
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut body = String::new();
    while Instant::now() < deadline {
        if let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
            let _ = c.read_to_string(&mut body);
            if body.contains("fabtwin_load_messages_sent_total") {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
    assert!(body.contains("fabtwin_load_sessions_connected"), "{body}");
}

#[test]
fn a_broker_killed_under_load_ends_the_run_on_time_with_disconnects_counted() {
    use std::time::{Duration, Instant};
    let dir = tempdir();
    let port = free_port();
    let broker = mosquitto(&mosquitto_conf(dir.path(), port, ""), port);
    let out = dir.path().join("r.json");
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_fabtwin"))
        .args([
            "load",
            "--broker",
            &format!("mqtt://127.0.0.1:{port}"),
            "--template",
            TEMPLATE,
            "--devices",
            "8",
            "--rate",
            "200",
            "--duration",
            "3s",
            "--qos",
            "1",
            "--drain",
            "1s",
            "--out",
            out.to_str().unwrap(),
        ])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    drop(broker); // kill -9 mid-run
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    // Duration + drain + connect phase, with slack for a loaded machine: never a hang.
    assert!(started.elapsed() < Duration::from_secs(15));
    let r = json(&out);
    let lost: u64 = r["sessions"]["disconnected"]
        .as_object()
        .unwrap()
        .values()
        .map(n)
        .sum();
    assert_eq!(lost, 8, "{r:#}");
    let p = &r["publish"];
    assert_eq!(n(&p["scheduled"]), 600);
    assert!(n(&p["sent"]) > 0 && n(&p["sent"]) < 600, "{r:#}");
    assert_eq!(n(&p["sent"]) + n(&p["not_sent"]), 600);
    assert!(n(&p["acked"]) <= n(&p["sent"]));
}

#[test]
fn sparkplug_qos1_against_the_embedded_broker_receives_exactly_what_was_sent() {
    let dir = tempdir();
    let out = dir.path().join("r.json");
    let o = fabtwin(&[
        "load",
        "--broker",
        "embedded",
        "--template",
        TEMPLATE,
        "--codec",
        "sparkplug",
        "--devices",
        "20",
        "--rate",
        "400",
        "--duration",
        "1s",
        "--qos",
        "1",
        "--subscribe",
        "--subscribers",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let r = json(&out);
    assert_eq!(r["codec"], "sparkplug", "{r:#}");
    assert_eq!(n(&r["sessions"]["connected"]), 20, "{r:#}");
    let p = &r["publish"];
    assert_eq!(n(&p["sent"]), 400);
    assert_eq!(n(&p["acked"]), 400);
    let s = &r["subscribe"];
    assert_eq!(n(&s["received"]), 400, "{r:#}");
    assert_eq!(n(&s["lost"]), 0);
    assert_eq!(n(&s["duplicates"]), 0);
    assert_eq!(n(&s["latency"]["count"]), 400);
    assert!(String::from_utf8_lossy(&o.stdout).contains("sparkplug, QoS 1"));
}

const SP_DECODER: &str = include_str!("../../bridge/src/codec/sparkplug/decode.py");

/// Hex payloads through the independent Python decoder, one JSON value each.
fn py_decode(hex: &[&str]) -> Vec<serde_json::Value> {
    use std::io::Write;
    let mut py = Command::new("python3")
        .arg("-c")
        .arg(SP_DECODER)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs the independent decoder");
    let mut stdin = py.stdin.take().unwrap();
    let input: String = hex.iter().map(|h| format!("{h}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let o = py.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "the decoder refused a payload: {stdout}"
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn sparkplug_against_mosquitto_is_exact_and_what_an_independent_decoder_reads() {
    use std::io::BufRead;
    use std::time::{Duration, Instant};
    let dir = tempdir();
    let port = free_port();
    let _broker = mosquitto(&mosquitto_conf(dir.path(), port, ""), port);
    // A host application capturing every Sparkplug message as topic and hex.
    let mut sub = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1"])
        .args(["-t", "spBv1.0/#", "-F", "%t %x"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto_sub runs (Debian package mosquitto-clients)");
    let stdout = sub.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    // Probe until the capture is subscribed.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "mosquitto_sub never subscribed");
        let _ = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(["-t", "spBv1.0/probe", "-m", "x"])
            .status();
        if rx.recv_timeout(Duration::from_millis(300)).is_ok() {
            break;
        }
    }
    while rx.try_recv().is_ok() {}

    let out = dir.path().join("r.json");
    let o = fabtwin(&[
        "load",
        "--broker",
        &format!("mqtt://127.0.0.1:{port}"),
        "--template",
        TEMPLATE,
        "--codec",
        "sparkplug",
        "--devices",
        "10",
        "--rate",
        "300",
        "--duration",
        "1s",
        "--qos",
        "1",
        "--subscribe",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let r = json(&out);
    assert_eq!(r["codec"], "sparkplug");
    assert_eq!(n(&r["publish"]["sent"]), 300, "{r:#}");
    assert_eq!(n(&r["publish"]["acked"]), 300);
    assert_eq!(n(&r["subscribe"]["received"]), 300, "{r:#}");
    assert_eq!(n(&r["subscribe"]["lost"]), 0);
    assert_eq!(n(&r["subscribe"]["duplicates"]), 0);

    // 10 × (NBIRTH, DBIRTH, NDEATH) + 300 DDATA reach the host.
    let want = 330;
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while lines.len() < want && Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
            lines.push(l);
        }
    }
    let _ = sub.kill();
    let _ = sub.wait();
    let kind = |t: &str| lines.iter().filter(|l| l.contains(t)).count();
    assert_eq!(kind("/NBIRTH/"), 10, "{lines:?}");
    assert_eq!(kind("/DBIRTH/"), 10);
    assert_eq!(kind("/NDEATH/"), 10);
    assert_eq!(kind("/DDATA/"), 300);
    // Every captured payload decodes; DDATA carry the stamps and a node seq.
    let hex: Vec<&str> = lines
        .iter()
        .map(|l| l.split_once(' ').expect("topic and payload").1)
        .collect();
    let decoded = py_decode(&hex);
    assert_eq!(decoded.len(), lines.len());
    let mut seqs: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for (l, p) in lines.iter().zip(&decoded) {
        if !l.contains("/DDATA/") {
            continue;
        }
        let names: Vec<&str> = p["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["name"].as_str())
            .collect();
        assert!(names.contains(&"fabtwin/seq"), "{p}");
        assert!(names.contains(&"fabtwin/sent_ns"), "{p}");
        assert!(names.len() > 3, "real telemetry metrics: {p}");
        let edge = l.split('/').nth(3).unwrap().to_string();
        seqs.entry(edge)
            .or_default()
            .push(p["seq"].as_u64().unwrap());
    }
    // Each node's DDATA `seq` continues after its two births (0, 1), one by one.
    assert_eq!(seqs.len(), 10);
    for (edge, s) in &seqs {
        let want: Vec<u64> = (2..2 + s.len() as u64).collect();
        assert_eq!(s, &want, "{edge}");
    }
}

#[test]
fn mqtts_with_client_certificates_against_mosquitto_is_exact() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    // A broker that dropped to user `mosquitto` must get through (search only).
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let prov = dir.path().join("prov");
    let o = fabtwin(&[
        "provision",
        TEMPLATE,
        "--tls",
        "--out",
        prov.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let port = free_port();
    let conf = dir.path().join("tls.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\ncafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n",
            prov.join("tls/ca.crt").display(),
            prov.join("tls/server.crt").display(),
            prov.join("tls/server.key").display(),
        ),
    )
    .unwrap();
    let _broker = mosquitto(&conf, port);
    let url = format!("mqtts://127.0.0.1:{port}");
    let ca = prov.join("tls/ca.crt");
    let cert = prov.join("credentials/admin.crt");
    let key = prov.join("credentials/admin.key");
    let out = dir.path().join("r.json");
    let o = fabtwin(&[
        "load",
        "--broker",
        &url,
        "--ca",
        ca.to_str().unwrap(),
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--template",
        TEMPLATE,
        "--devices",
        "10",
        "--rate",
        "200",
        "--duration",
        "1s",
        "--qos",
        "1",
        "--subscribe",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let r = json(&out);
    assert_eq!(n(&r["sessions"]["connected"]), 10, "{r:#}");
    assert_eq!(n(&r["publish"]["sent"]), 200);
    assert_eq!(n(&r["publish"]["acked"]), 200);
    assert_eq!(n(&r["subscribe"]["received"]), 200, "{r:#}");
    assert_eq!(n(&r["subscribe"]["lost"]), 0);
    assert_eq!(n(&r["subscribe"]["duplicates"]), 0);

    // Without a client certificate the broker refuses every session, by reason.
    let out = dir.path().join("none.json");
    let o = fabtwin(&[
        "load",
        "--broker",
        &url,
        "--ca",
        ca.to_str().unwrap(),
        "--template",
        TEMPLATE,
        "--devices",
        "3",
        "--rate",
        "30",
        "--duration",
        "1s",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let r = json(&out);
    let failed = r["sessions"]["failed"].as_object().unwrap();
    let total: u64 = failed.values().map(n).sum();
    assert_eq!(total, 3, "{r:#}");
    assert!(
        failed.keys().all(|k| k.contains("Certificate")),
        "{failed:?}"
    );

    // A CA file without a certificate is bad input naming the file.
    let o = fabtwin(&[
        "load",
        "--broker",
        &url,
        "--ca",
        key.to_str().unwrap(),
        "--template",
        TEMPLATE,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("admin.key"), "{}", text(&o));
}
