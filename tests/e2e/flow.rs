//! Material flow end to end: `fabtwin run` on a line with a jam, publishing to a
//! broker; a subscriber on the flow topics sees the line's messages, and the
//! report carries the KPIs and passes the scenario's expects.

use std::time::{Duration, Instant};

use super::mqtt::{fabtwin_broker, recorder, report};
use super::{fabtwin, tempdir, text};

#[test]
fn flow_messages_reach_a_subscriber_and_the_report_has_kpis() {
    let dir = tempdir();
    let out = dir.path().join("flow");
    let (mut broker, port) = fabtwin_broker();
    let rec = recorder(
        rumqttc::MqttOptions::new("flow-watch", "127.0.0.1", port),
        "fabtwin/+/+/flow/+",
    );
    let o = fabtwin(&[
        "run",
        "scenarios/line_flow.ron",
        "--broker",
        &format!("mqtt://127.0.0.1:{port}"),
        "--verify",
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // 15 min at one message per 10 s, plus the final one at the end instant.
    let mut seqs = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seqs.len() < 90 && Instant::now() < deadline {
        if let Ok((topic, payload)) = rec.rx.recv_timeout(Duration::from_millis(500)) {
            assert_eq!(topic, "fabtwin/plant1/line1-gw/flow/line1");
            let v: serde_json::Value = serde_json::from_slice(&payload).unwrap();
            assert_eq!(v["line"], "line1");
            assert_eq!(v["conveyors"].as_array().unwrap().len(), 3);
            assert_eq!(v["stations"].as_array().unwrap().len(), 2);
            seqs.push(v["seq"].as_u64().unwrap());
        }
    }
    let _ = broker.kill();
    let _ = broker.wait();
    assert_eq!(seqs, (0..90).collect::<Vec<u64>>());

    let r = report(&out);
    assert_eq!(r["passed"], true, "{r}");
    let line = &r["flow"][0];
    assert_eq!(line["id"], "line1");
    let tput = line["throughput_per_h"].as_f64().unwrap();
    assert!((450.0..=600.0).contains(&tput), "{tput}");
    assert!(line["availability"].as_f64().unwrap() < 1.0);
    assert!(line["oee"].as_f64().unwrap() > 0.5);
    assert_eq!(line["jams"][0]["conveyor"], "c2");
    assert!(line["jams"][0]["detected"].is_string());
    assert!(line["stations"][0]["blocked_s"].as_f64().unwrap() > 10.0);
    // Device accounting is unchanged by flow traffic on its own topic.
    assert_eq!(r["mqtt"]["verify"]["missing"], 0);
    let truth = std::fs::read_to_string(out.join("flow_truth.jsonl")).unwrap();
    assert!(truth.contains("\"jam_onset\"") && truth.contains("\"jam_clear\""));
}
