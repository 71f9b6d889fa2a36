//! `fabtwin verify` as a pipeline would run it: a separate process subscribed
//! while a run publishes, accounting by device and sequence number, gating CI.

use std::process::{Command, Stdio};

use super::mqtt::report;
use super::{tempdir, text, write};

#[test]
fn standalone_verify_accounts_for_a_run_with_an_outage_and_gates_on_missing() {
    use std::io::{BufRead, BufReader};
    let dir = tempdir();
    let file = write(
        dir.path(),
        "outage.ron",
        &super::mqtt::TWO_MACHINES.replace("OVERFLOW", "DropOldest"),
    );
    let (mut broker, port) = super::mqtt::fabtwin_broker();
    let url = format!("mqtt://127.0.0.1:{port}");
    let vout = dir.path().join("verify.json");
    let mut verifier = Command::new(env!("CARGO_BIN_EXE_fabtwin"))
        .args([
            "verify",
            "--broker",
            &url,
            "--scenario",
            &file,
            "--expect",
            "650",
            "--duration",
            "60s",
            "--max-missing",
            "0",
            "--out",
            &vout.display().to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it has subscribed.
    let mut err = BufReader::new(verifier.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("listening on"), "{line}");

    let out = dir.path().join("o");
    let o = super::fabtwin(&[
        "run",
        &file,
        "--broker",
        &url,
        "--out",
        &out.display().to_string(),
    ]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", text(&o));
    let m = report(&out)["mqtt"].clone();
    assert_eq!(
        (m["sent"].as_u64(), m["dropped"].as_u64()),
        (Some(720), Some(70))
    );

    let v = verifier.wait_with_output().unwrap();
    let _ = broker.kill();
    let _ = broker.wait();
    let stdout = String::from_utf8_lossy(&v.stdout);
    assert_eq!(
        v.status.code(),
        Some(1),
        "70 missing fails --max-missing 0: {stdout}"
    );
    assert!(
        stdout.contains("FAIL 70 missing > --max-missing 0"),
        "{stdout}"
    );
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&vout).unwrap()).unwrap();
    assert_eq!(r["distinct"].as_u64(), Some(650), "{r:#}");
    assert_eq!(
        r["missing"].as_u64(),
        Some(70),
        "exactly what the policy dropped: {r:#}"
    );
    assert_eq!(r["duplicates"].as_u64(), Some(0), "{r:#}");
    assert_eq!(r["out_of_order"].as_u64(), Some(0), "{r:#}");
    for d in r["devices"].as_array().unwrap() {
        assert_eq!(d["missing"].as_u64(), Some(35), "{d}");
        assert!(d["latency_ms"]["p99"].as_f64().is_some(), "{d}");
    }

    // Bad input: a --sent file that is not a run report names the field it lacks.
    let bad = write(dir.path(), "not-a-report.json", "{}");
    let o = super::fabtwin(&[
        "verify",
        "--broker",
        &url,
        "--scenario",
        &file,
        "--sent",
        &bad,
        "--duration",
        "1s",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("mqtt.last_seq"), "{}", text(&o));
}

/// Regression: `verify` printed 0 received for every device and exited 0 when
/// nothing was publishing, with `--expect 10`, and with a `--sent` report whose
/// messages never came. The gate is closed by default now.
#[test]
fn verify_fails_closed_when_nothing_or_too_little_arrived() {
    let dir = tempdir();
    let file = write(
        dir.path(),
        "two.ron",
        &super::mqtt::TWO_MACHINES.replace("OVERFLOW", "DropOldest"),
    );
    let (mut broker, port) = super::mqtt::fabtwin_broker();
    let url = format!("mqtt://127.0.0.1:{port}");
    let sent = write(
        dir.path(),
        "report.json",
        r#"{"mqtt": {"last_seq": {"m1": 63, "m2": 63}}}"#,
    );
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "--broker",
            &url,
            "--scenario",
            &file,
            "--duration",
            "1s",
        ];
        args.extend_from_slice(extra);
        super::fabtwin(&args)
    };
    let nothing = verify(&[]);
    let expect = verify(&["--expect", "10"]);
    let missing = verify(&["--sent", &sent]);
    let _ = broker.kill();
    let _ = broker.wait();

    assert_eq!(nothing.status.code(), Some(1), "{}", text(&nothing));
    assert!(
        text(&nothing).contains("FAIL nothing received"),
        "{}",
        text(&nothing)
    );
    assert_eq!(expect.status.code(), Some(1), "{}", text(&expect));
    assert!(
        text(&expect).contains("FAIL 0 distinct messages < --expect 10"),
        "{}",
        text(&expect)
    );
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
    assert!(
        text(&missing).contains("FAIL 128 missing > --max-missing 0"),
        "{}",
        text(&missing)
    );
}
