//! `fabtwin baseline` and `fabtwin score`: the loop dataset (or run) →
//! predictions → score works end to end; figures match hand-computed cases;
//! gates set the exit code; bad prediction files are named by row and column.

use std::path::Path;

use serde_json::Value;

use super::{fabtwin, tempdir, text, write};

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// A hand-made truth: machine `a` degrades from 10 s and fails at 20 s;
/// machine `b` stays healthy. Instants every second from 0 to 30 s.
fn tiny_truth(dir: &Path) -> String {
    let mut lines = String::new();
    let ts = |sec: i64| format!("1970-01-01T00:00:{sec:02}Z");
    for sec in 0..=30i64 {
        let ns = sec * 1_000_000_000;
        let (health, modes) = match sec {
            0..=9 => ("healthy", String::new()),
            10..=19 => (
                "degrading",
                format!(
                    r#"{{"mode":"imbalance","severity":0.5,"onset":"{}"}}"#,
                    ts(10)
                ),
            ),
            _ => (
                "failed",
                format!(
                    r#"{{"mode":"imbalance","severity":1.0,"onset":"{}"}}"#,
                    ts(10)
                ),
            ),
        };
        let rul = (20 - sec) as f64;
        lines += &format!(
            r#"{{"machine":"a","ts_ns":{ns},"health":"{health}","modes":[{modes}],"sensor_faults":[],"failure_at":"{}","rul_s":{rul},"censored":false}}"#,
            ts(20)
        );
        lines.push('\n');
        lines += &format!(
            r#"{{"machine":"b","ts_ns":{ns},"health":"healthy","modes":[],"sensor_faults":[],"rul_s":null,"censored":true}}"#
        );
        lines.push('\n');
    }
    write(dir, "truth.jsonl", &lines)
}

#[test]
fn hand_computed_figures_come_out_of_the_binary() {
    let dir = tempdir();
    let truth = tiny_truth(dir.path());
    // a: alarm at 5 s (false), 15–16 s (true, lead 5 s), RUL exact at 15 s and 10 h late at 16 s.
    // b: one false alarm at 3–4 s. Classes: a at 15 s right, a at 16 s wrong, b at 3 s wrong.
    // Scores: a at 12 s (positive) 0.9, b at 12 s (negative) 0.9 (a tie), a at 2 s (negative) 0.1.
    let preds = write(
        dir.path(),
        "p.csv",
        "run,machine,ts_ns,alarm,fault_class,rul_s,anomaly_score\n\
         0,a,5000000000,1,,,\n\
         0,a,6000000000,0,,,\n\
         0,a,15000000000,true,imbalance,5,\n\
         0,a,16000000000,true,looseness,36004,\n\
         0,b,3000000000,true,imbalance,,\n\
         0,b,4000000000,true,,,\n\
         0,a,12000000000,,,,0.9\n\
         0,b,12000000000,,,,0.9\n\
         0,a,2000000000,,,,0.1\n",
    );
    let out = dir.path().join("score.json");
    let o = fabtwin(&[
        "score",
        "--truth",
        &truth,
        "--predictions",
        &preds,
        "--json",
        &s(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = json(&out);
    let d = &r["detection"];
    assert_eq!(d["failures"], 1);
    assert_eq!(d["detected"], 1);
    assert_eq!(d["true_alarm_events"], 1);
    assert_eq!(d["false_alarm_events"], 2);
    assert_eq!(d["precision"].as_f64(), Some(1.0 / 3.0));
    assert_eq!(d["recall"].as_f64(), Some(1.0));
    assert_eq!(d["f1"].as_f64(), Some(0.5));
    // Healthy time: a 0–10 s, b 0–30 s = 40 s.
    let days = 40.0 / 86_400.0;
    assert!((d["false_alarms_per_machine_day"].as_f64().unwrap() - 2.0 / days).abs() < 1e-6);
    assert!((d["lead_time_h"]["median"].as_f64().unwrap() - 5.0 / 3600.0).abs() < 1e-12);
    let c = &r["classification"];
    assert_eq!(c["rows"], 3);
    assert_eq!(
        c["labels"],
        serde_json::json!(["none", "imbalance", "looseness"])
    );
    assert_eq!(
        c["confusion"],
        serde_json::json!([[0, 1, 0], [0, 1, 1], [0, 0, 0]])
    );
    let u = &r["rul"];
    assert_eq!(u["pairs"], 2);
    // d = 0 h and +10 h.
    assert!((u["rmse_h"].as_f64().unwrap() - 50f64.sqrt()).abs() < 1e-9);
    assert!((u["mae_h"].as_f64().unwrap() - 5.0).abs() < 1e-9);
    assert!((u["phm08"].as_f64().unwrap() - (1f64.exp() - 1.0)).abs() < 1e-9);
    // λ points at 12.5, 15 and 17.5 s: nothing in [10, 12.5] → miss; the exact 15 s
    // prediction → hit; at 17.5 the 16 s prediction (10 h late) stands → miss.
    assert_eq!(u["alpha_lambda_points"], 3);
    assert!((u["alpha_lambda_accuracy"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12);
    let a = &r["anomaly"];
    assert_eq!(
        (a["positives"].as_u64(), a["negatives"].as_u64()),
        (Some(1), Some(2))
    );
    // Positive 0.9 vs negatives {0.9 tie, 0.1} → (0.5 + 1) / 2.
    assert_eq!(a["roc_auc"].as_f64(), Some(0.75));
    // One threshold at 0.9 holds the positive with precision 1/2.
    assert_eq!(a["pr_auc"].as_f64(), Some(0.5));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("detected / missed"), "{table}");
}

#[test]
fn undefined_figures_print_undefined_and_write_null() {
    let dir = tempdir();
    let truth = tiny_truth(dir.path());
    // Only the healthy machine, never alarming: no alarm events, no positives.
    let preds = write(
        dir.path(),
        "p.csv",
        "run,machine,ts_ns,alarm,anomaly_score\n0,b,1000000000,0,0.5\n",
    );
    let out = dir.path().join("s.json");
    let o = fabtwin(&[
        "score",
        "--truth",
        &truth,
        "--predictions",
        &preds,
        "--json",
        &s(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = json(&out);
    assert_eq!(r["detection"]["precision"], Value::Null);
    assert_eq!(
        r["detection"]["recall"], 0.0,
        "machine a's failure counts as missed"
    );
    assert_eq!(r["detection"]["lead_time_h"], Value::Null);
    assert_eq!(r["anomaly"]["roc_auc"], Value::Null);
    assert_eq!(r["rul"], Value::Null);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("undefined") && !table.contains("NaN"),
        "{table}"
    );
    // A gate on an undefined figure fails and says why.
    let o = fabtwin(&[
        "score",
        "--truth",
        &truth,
        "--predictions",
        &preds,
        "--min-roc-auc",
        "0.5",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--min-roc-auc 0.5: the figure is undefined"),
        "{}",
        text(&o)
    );
}

#[test]
fn run_then_baseline_then_score_and_gates() {
    let dir = tempdir();
    let run = dir.path().join("run");
    let o = fabtwin(&[
        "run",
        "scenarios/bearing_run_to_failure.ron",
        "--broker",
        "none",
        "-q",
        "--out",
        &s(&run),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let (p1, p2) = (dir.path().join("p1.csv"), dir.path().join("p2.csv"));
    for p in [&p1, &p2] {
        let o = fabtwin(&["baseline", &s(&run), "--out", &s(p)]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    assert_eq!(
        std::fs::read(&p1).unwrap(),
        std::fs::read(&p2).unwrap(),
        "baseline is deterministic"
    );
    let out = dir.path().join("s.json");
    let o = fabtwin(&[
        "score",
        "--truth",
        &s(&run),
        "--predictions",
        &s(&p1),
        "--json",
        &s(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out2 = dir.path().join("s2.json");
    let o2 = fabtwin(&[
        "score",
        "--truth",
        &s(&run),
        "--predictions",
        &s(&p1),
        "--json",
        &s(&out2),
    ]);
    assert_eq!(o2.status.code(), Some(0), "{}", text(&o2));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&out2).unwrap(),
        "score is deterministic"
    );
    assert_eq!(o.stdout, o2.stdout);
    let r = json(&out);
    // Four machines × 7 days at 10 min = 4032 rows, all scored.
    assert_eq!(r["rows"], 4032);
    let d = &r["detection"];
    // The scenario fails b1 and keeps b3 censored: one failure episode.
    assert_eq!(d["failures"], 1);
    assert_eq!(d["episodes"][0]["machine"], "b1");
    assert_eq!(
        d["detected"].as_u64().unwrap() + d["missed"].as_u64().unwrap(),
        1,
        "detected + missed = failures"
    );
    let (t, f) = (
        d["true_alarm_events"].as_f64().unwrap(),
        d["false_alarm_events"].as_f64().unwrap(),
    );
    if t + f > 0.0 {
        assert_eq!(d["precision"].as_f64(), Some(t / (t + f)));
    }
    // The baseline must catch this failure, with lead time, without false alarms on b2/b4.
    assert_eq!(d["recall"].as_f64(), Some(1.0), "{}", text(&o));
    assert!(d["lead_time_h"]["min"].as_f64().unwrap() > 0.0);
    assert_eq!(d["false_alarm_events"], 0);
    let auc = r["anomaly"]["roc_auc"].as_f64().unwrap();
    assert!((0.5..=1.0).contains(&auc), "ROC-AUC {auc}");
    let acc = r["classification"]["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&acc));
    assert!(r["rul"]["pairs"].as_u64().unwrap() <= r["rul"]["window_rows"].as_u64().unwrap());

    // Gates: passing ones exit 0; a failing one exits 1 and is named.
    let base = ["score", "--truth", &s(&run), "--predictions", &s(&p1)].map(String::from);
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = base.iter().map(String::as_str).collect();
        a.extend_from_slice(extra);
        fabtwin(&a)
    };
    let o = with(&[
        "--min-recall",
        "1",
        "--max-false-alarms-per-day",
        "0.1",
        "--min-f1",
        "0.5",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = with(&["--min-recall", "1", "--max-rul-rmse-h", "0.001"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--max-rul-rmse-h 0.001") && !err.contains("--min-recall"),
        "{err}"
    );
    let o = with(&["--min-recall", "1.5"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // A run directory has no split.
    let o = with(&["--split", "test"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--split test"),
        "{}",
        text(&o)
    );
}

#[test]
fn bad_prediction_files_name_row_and_column() {
    let dir = tempdir();
    let truth = tiny_truth(dir.path());
    let cases: [(&str, &[&str]); 6] = [
        ("run,ts_ns,alarm\n0,1,1\n", &["missing column `machine`"]),
        (
            "run,machine,ts_ns,alarm\n0,a,0,1\n0,zz,0,1\n",
            &[
                "row 2 (line 3), column `machine`",
                "`zz` is not in run 0",
                "a, b",
            ],
        ),
        (
            "run,machine,ts_ns,alarm\n0,a,99000000000,1\n",
            &["row 1 (line 2), column `ts_ns`", "outside run 0"],
        ),
        (
            "run,machine,ts_ns,alarm\n7,a,0,1\n",
            &["row 1 (line 2), column `run`", "run 7 is not in the truth"],
        ),
        (
            "run,machine,ts_ns,alarm\n0,a,0,yes\n",
            &["row 1 (line 2), column `alarm`", "valid: true, false, 1, 0"],
        ),
        (
            "run,machine,ts_ns,rul_s\n0,a,0,1\n0,a,1,NaN\n",
            &["row 2 (line 3), column `rul_s`", "not a finite number"],
        ),
    ];
    for (i, (csv, want)) in cases.iter().enumerate() {
        let p = write(dir.path(), &format!("bad{i}.csv"), csv);
        let o = fabtwin(&["score", "--truth", &truth, "--predictions", &p]);
        assert_eq!(o.status.code(), Some(2), "case {i}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&format!("bad{i}.csv")), "case {i}: {err}");
        for w in *want {
            assert!(err.contains(w), "case {i}: want `{w}` in {err}");
        }
    }
    let o = fabtwin(&[
        "baseline",
        &s(dir.path()),
        "--out",
        &s(&dir.path().join("p.txt")),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = fabtwin(&[
        "baseline",
        &s(&dir.path().join("nothing")),
        "--out",
        &s(&dir.path().join("p.csv")),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn dataset_then_baseline_then_score_on_the_test_split() {
    for format in ["parquet", "csv"] {
        let dir = tempdir();
        let ds = dir.path().join("ds");
        let o = fabtwin(&[
            "dataset",
            "scenarios/bearing_run_to_failure.ron",
            "--runs",
            "6",
            "--format",
            format,
            "-q",
            "--out",
            &s(&ds),
        ]);
        assert_eq!(o.status.code(), Some(0), "{format}: {}", text(&o));
        let card = json(&ds.join("dataset.json"));
        let test_runs = card["split"]["test"].as_array().unwrap().len();
        assert!(test_runs >= 1, "{card}");
        let p = dir.path().join("p.csv");
        let o = fabtwin(&["baseline", &s(&ds), "--out", &s(&p)]);
        assert_eq!(o.status.code(), Some(0), "{format}: {}", text(&o));
        let out = dir.path().join("s.json");
        let o = fabtwin(&[
            "score",
            "--truth",
            &s(&ds),
            "--predictions",
            &s(&p),
            "--split",
            "test",
            "--json",
            &s(&out),
            "--min-recall",
            "0.5",
        ]);
        assert_eq!(o.status.code(), Some(0), "{format}: {}", text(&o));
        let r = json(&out);
        assert_eq!(r["runs"].as_u64(), Some(test_runs as u64), "{format}");
        // Lives spread many-fold, so only some runs see a failure: the score counts
        // exactly the failures the card lists for the test runs (one here).
        let failures: u64 = card["class_balance"]["test"]["failures"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum();
        assert!(failures >= 1, "{card}");
        assert_eq!(
            r["detection"]["failures"].as_u64(),
            Some(failures),
            "{format}"
        );
        assert!(r["rows_outside_split"].as_u64().unwrap() > 0, "{format}");
        let all = fabtwin(&["score", "--truth", &s(&ds), "--predictions", &s(&p)]);
        assert_eq!(all.status.code(), Some(0), "{format}: {}", text(&all));
        assert!(
            String::from_utf8_lossy(&all.stdout).contains("over 6 runs"),
            "{}",
            text(&all)
        );
    }
}
