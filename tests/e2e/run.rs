//! `fabtwin run`: every scenario runs; outputs are complete, deterministic and
//! exit codes follow the expectations.

use super::{fabtwin, tempdir, text, write};

fn read(dir: &std::path::Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

#[test]
fn every_shipped_scenario_runs_and_passes_its_expectations() {
    let dir = tempdir();
    for path in super::scenarios() {
        let p = path.display().to_string();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let out = dir.path().join(&name);
        let o = fabtwin(&["run", &p, "--out", &out.display().to_string()]);
        assert_eq!(o.status.code(), Some(0), "{p}: {}", text(&o));
        for f in [
            "telemetry.jsonl",
            "truth.jsonl",
            "meta.jsonl",
            "report.json",
            "junit.xml",
        ] {
            assert!(out.join(f).exists(), "{p}: {f} missing");
            assert!(
                !out.join(format!("{f}.partial")).exists(),
                "{p}: {f}.partial left behind"
            );
        }
        let report: serde_json::Value = serde_json::from_slice(&read(&out, "report.json")).unwrap();
        assert_eq!(report["passed"], true);
        let lines = read(&out, "telemetry.jsonl")
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            // Flow lines' messages share the file; totals count device telemetry.
            .filter(|l| !String::from_utf8_lossy(l).contains("/flow/"))
            .count() as u64;
        assert_eq!(
            report["totals"]["messages"].as_u64(),
            Some(lines),
            "{p}: report counts every device telemetry line"
        );
        let junit = String::from_utf8(read(&out, "junit.xml")).unwrap();
        let cases = report["expectations"].as_array().unwrap().len().max(1);
        assert_eq!(junit.matches("<testcase").count(), cases, "{junit}");
    }
}

#[test]
fn telemetry_messages_carry_device_seq_and_sim_timestamps() {
    let dir = tempdir();
    let out = dir.path().join("q");
    let o = fabtwin(&[
        "run",
        "scenarios/quickstart.ron",
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut next_seq = std::collections::BTreeMap::new();
    let body = String::from_utf8(read(&out, "telemetry.jsonl")).unwrap();
    for line in body.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let p = &v["payload"];
        let device = p["device"].as_str().unwrap().to_string();
        assert!(
            v["topic"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/{device}/telemetry"))
        );
        let seq = p["seq"].as_u64().unwrap();
        let want = next_seq.entry(device.clone()).or_insert(0u64);
        assert_eq!(seq, *want, "{device}: seq runs from 0 without gaps");
        *want += 1;
        assert!(
            p["ts"].as_str().unwrap().starts_with("2026-01-01T"),
            "{line}"
        );
        for r in p["readings"].as_array().unwrap() {
            assert!(
                r["ts"].as_str().unwrap() < p["ts"].as_str().unwrap(),
                "a reading is acquired before it is published"
            );
        }
        // Truth never rides in telemetry.
        assert!(!line.contains("rul") && !line.contains("health"), "{line}");
    }
    assert_eq!(next_seq.len(), 4);
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let dir = tempdir();
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut args = vec!["run", "scenarios/quickstart.ron", "--out"];
        let o = out.display().to_string();
        args.push(&o);
        args.extend_from_slice(extra);
        let r = fabtwin(&args);
        assert!(r.status.code().is_some_and(|c| c <= 1), "{}", text(&r));
        out
    };
    let a = run("a", &[]);
    let b = run("b", &[]);
    let c = run("c", &["--seed", "43"]);
    for f in ["telemetry.jsonl", "truth.jsonl", "meta.jsonl", "junit.xml"] {
        assert!(
            read(&a, f) == read(&b, f),
            "{f} differs between two runs with one seed"
        );
    }
    assert!(read(&a, "telemetry.jsonl") != read(&c, "telemetry.jsonl"));
    let strip = |d: &std::path::Path| {
        let mut v: serde_json::Value = serde_json::from_slice(&read(d, "report.json")).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("wall");
        // The MQTT section holds the embedded broker's port and wall-clock latencies.
        o.remove("mqtt");
        v
    };
    assert_eq!(
        strip(&a),
        strip(&b),
        "report.json differs beyond its wall-clock figures"
    );
}

#[test]
fn publishes_to_the_embedded_broker_and_accounts_for_every_message() {
    let dir = tempdir();
    let out = dir.path().join("v");
    let o = fabtwin(&[
        "run",
        "scenarios/quickstart.ron",
        "--verify",
        "--out",
        &out.display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let m = &r["mqtt"];
    let sent = m["sent"].as_u64().unwrap();
    assert_eq!(sent, r["totals"]["messages"].as_u64().unwrap());
    assert_eq!(
        m["delivered"].as_u64().unwrap()
            + m["dropped"].as_u64().unwrap()
            + m["buffered"].as_u64().unwrap(),
        sent
    );
    assert_eq!(
        m["delivered"].as_u64(),
        Some(sent),
        "QoS 1 on a healthy link: every message acknowledged"
    );
    let v = &m["verify"];
    assert_eq!(v["distinct"].as_u64(), Some(sent));
    assert_eq!(v["missing"].as_u64(), Some(0));
    assert_eq!(v["devices"].as_array().unwrap().len(), 4);
}

#[test]
fn broker_flags_are_checked() {
    for (flags, needle) in [
        (
            vec!["--broker", "http://x"],
            "valid: embedded, mqtt://host:port",
        ),
        (
            vec!["--broker", "mqtt://user:pw@127.0.0.1:1883"],
            "credentials do not go in the URL",
        ),
        (vec!["--speed", "fast"], "valid: max, realtime"),
        (
            vec!["--broker", "none", "--verify"],
            "--verify needs a broker",
        ),
        (
            vec!["--broker", "mqtts://127.0.0.1:8883"],
            "needs --ca FILE",
        ),
        (
            vec!["--username", "dev1", "--broker", "mqtt://127.0.0.1:1"],
            "needs a password",
        ),
    ] {
        let mut args = vec![
            "run",
            "scenarios/quickstart.ron",
            "--out",
            "/tmp/fabtwin-never-written",
        ];
        args.extend(flags.iter().copied());
        let o = super::fabtwin(&args);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(needle),
            "{flags:?}: {}",
            text(&o)
        );
    }
}

#[test]
fn raw_fidelity_runs_the_quickstart() {
    let dir = tempdir();
    let out = dir.path().join("raw");
    let o = fabtwin(&[
        "run",
        "scenarios/quickstart.ron",
        "--fidelity",
        "raw",
        "--out",
        &out.display().to_string(),
        "--format",
        "json",
    ]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["fidelity"], "raw");
    assert!(report["totals"]["messages"].as_u64().unwrap() >= 100);
}

#[test]
fn a_failed_expectation_exits_1_and_fails_in_junit() {
    let dir = tempdir();
    let file = write(
        dir.path(),
        "healthy.ron",
        r#"Scenario(name: "healthy", duration: "1h", acquisition: (interval: "10m"),
            sites: [(id: "s", lines: [(id: "l", machines: [
                (id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "vib", part: "IIS3DWB")]),
            ])])],
            faults: [(machine: "m1", kind: Imbalance(0.05), at: "10m")],
            expect: [AlarmWithin(machine: "m1", within: "30m"), MessagesAtLeast(1000)],
        )"#,
    );
    let out = dir.path().join("o");
    let o = fabtwin(&["run", &file, "--out", &out.display().to_string()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("[FAIL] m1 raises alarm within 30m of fault onset — no alarm was raised"),
        "{stdout}"
    );
    assert!(
        stdout.contains("[FAIL] at least 1000 telemetry messages — 6 messages"),
        "{stdout}"
    );
    let junit = String::from_utf8(read(&out, "junit.xml")).unwrap();
    assert_eq!(junit.matches("<failure").count(), 2, "{junit}");
}
