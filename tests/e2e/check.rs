//! `fabtwin check` and bad input: exit codes and the exact wording of errors.

use super::{fabtwin, tempdir, text, write};

#[test]
fn every_shipped_scenario_checks() {
    for path in super::scenarios() {
        let p = path.display().to_string();
        let o = fabtwin(&["check", &p]);
        assert_eq!(o.status.code(), Some(0), "{p}: {}", text(&o));
    }
}

const BROKEN: &str = r#"Scenario(
    name: "broken",
    duration: "2h",
    sites: [(id: "s", lines: [(id: "l", machines: [
        (id: "m1", kind: Pump, rated_speed_rpm: 2950,
         bearing: (rolling_elements: 30, ball_diameter_mm: 9.0, pitch_diameter_mm: 40.0, contact_angle_deg: 0),
         sensors: [
            (id: "vib", part: "IIS3DWB", odr_hz: 7000, full_scale: 3),
            (id: "t", part: "STTS99"),
         ]),
    ])])],
    faults: [(machine: "m9", kind: Imbalance(0.5), at: "1h"), (machine: "m1", sensor: "nope", kind: StuckAt, at: "3h")],
)
"#;

#[test]
fn every_problem_is_reported_with_its_position_golden() {
    let dir = tempdir();
    let file = write(dir.path(), "broken.ron", BROKEN);
    let o = fabtwin(&["check", &file]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr).replace(&file, "broken.ron");
    let golden = std::fs::read_to_string(super::root().join("tests/golden/check_broken.txt"))
        .expect("golden file");
    assert_eq!(
        stderr, golden,
        "stderr differs from tests/golden/check_broken.txt"
    );
}

#[test]
fn check_json_lists_problems_per_file() {
    let dir = tempdir();
    let file = write(dir.path(), "broken.ron", BROKEN);
    let good = super::root()
        .join("scenarios/quickstart.ron")
        .display()
        .to_string();
    let o = fabtwin(&["check", "--format", "json", &good, &file]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v[0]["valid"], true);
    assert_eq!(v[1]["valid"], false);
    assert_eq!(v[1]["problems"].as_array().unwrap().len(), 7, "{v:#}");
    assert_eq!(v[1]["problems"][0]["line"], 6);
}

#[test]
fn syntax_error_names_line_and_column() {
    let dir = tempdir();
    let file = write(
        dir.path(),
        "syntax.ron",
        "Scenario(\n    name: \"x\"\n    duration: \"1h\",\n)\n",
    );
    let o = fabtwin(&["check", &file]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with(&format!("{file}:3:5: ")), "{err}");
}

#[test]
fn missing_file_and_bad_flags_are_bad_input() {
    let o = fabtwin(&["check", "no/such/file.ron"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no/such/file.ron: cannot read"),
        "{}",
        text(&o)
    );
    let o = fabtwin(&["run", "scenarios/quickstart.ron", "--fidelity", "exact"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("possible values: raw, features"),
        "{}",
        text(&o)
    );
    let o = fabtwin(&["run", "no/such/file.ron"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn schema_documents_every_section() {
    let o = fabtwin(&["schema"]);
    assert_eq!(o.status.code(), Some(0));
    let s = String::from_utf8_lossy(&o.stdout);
    for section in [
        "Scenario",
        "Machine",
        "Sensor",
        "Gateway",
        "Degradation",
        "FaultKind",
        "RandomFault",
        "Expect",
    ] {
        assert!(
            s.contains(&format!("\n{section}")),
            "schema lacks {section}"
        );
    }
}
