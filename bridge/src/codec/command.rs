//! Device commands arriving on `…/{device}/cmd` (JSON) and their replies on
//! `…/{device}/reply`. Parsing is pure; every refusal names the field and what
//! would be valid, and nothing panics on any payload.
//!
//! ```json
//! {"id": "c1", "action": "inject", "fault": "imbalance", "severity": 0.6, "duration": "1h"}
//! {"id": "c2", "action": "inject", "sensor": "vib", "fault": "gain", "value": 2.5}
//! {"id": "c3", "action": "inject", "network": "outage", "duration": "10m"}
//! {"id": "c4", "action": "inject", "network": "latency", "value": 250}
//! {"id": "c5", "action": "clear"}
//! ```
//!
//! A network fault hits the device's gateway link (all its devices): `outage`,
//! `latency` (`value` ms), `loss` (`value` probability) or `partition`.

use serde::Serialize;
use serde_json::Value;

use fabtwin_sim::faults::SensorFault;
use fabtwin_sim::plant::FaultMode;
use fabtwin_sim::scenario::{Machine, NetKind};
use fabtwin_sim::time::SimDuration;

/// A valid command.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Inject a machine fault mode at a severity.
    InjectMachine {
        /// The mode.
        mode: FaultMode,
        /// Severity 0 … 2 (1 = failure threshold).
        severity: f64,
        /// How long; `None` until cleared.
        duration: Option<SimDuration>,
    },
    /// Inject a sensor fault.
    InjectSensor {
        /// Index of the sensor on the machine.
        sensor: usize,
        /// The fault.
        fault: SensorFault,
        /// How long; `None` until cleared.
        duration: Option<SimDuration>,
    },
    /// Fail the link of the device's gateway.
    InjectNetwork {
        /// What happens to the link.
        kind: NetKind,
        /// How long; `None` until cleared.
        duration: Option<SimDuration>,
    },
    /// End every fault injected by command on this device (and on its gateway's link).
    Clear,
}

/// The reply to a command.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Reply {
    /// The command's `id`, echoed (empty when absent or unreadable).
    pub id: String,
    /// Whether the command was carried out.
    pub ok: bool,
    /// What was done, or what was wrong and what is valid.
    pub message: String,
}

const MACHINE_FAULTS: &str =
    "bearing_outer, bearing_inner, imbalance, misalignment, looseness, overheating";
const SENSOR_FAULTS: &str = "stuck_at, dropout, drift, bias, gain, noise, saturation, spikes";
const NETWORK_FAULTS: &str = "outage, latency (value: ms), loss (value: probability), partition";

fn number(v: &Value, field: &str, lo: f64, hi: f64) -> Result<f64, String> {
    match v.get(field) {
        None => Err(format!("field `{field}` is missing (a number {lo} … {hi})")),
        Some(x) => match x.as_f64() {
            Some(f) if f.is_finite() && (lo..=hi).contains(&f) => Ok(f),
            _ => Err(format!("field `{field}`: {x} is not a number {lo} … {hi}")),
        },
    }
}

/// Reads the `id` of a payload, for the reply, even when the rest is invalid.
pub fn command_id(payload: &[u8]) -> String {
    serde_json::from_slice::<Value>(payload)
        .ok()
        .and_then(|v| v.get("id").and_then(|i| i.as_str().map(str::to_string)))
        .unwrap_or_default()
}

/// Parses a command for `machine`.
pub fn parse(payload: &[u8], machine: &Machine) -> Result<Command, String> {
    let v: Value = serde_json::from_slice(payload).map_err(|e| format!("payload is not JSON ({e}); expected an object such as {{\"action\": \"inject\", \"fault\": \"imbalance\", \"severity\": 0.5}}"))?;
    if !v.is_object() {
        return Err("payload must be a JSON object".into());
    }
    let action = v
        .get("action")
        .and_then(Value::as_str)
        .ok_or("field `action` is missing or not a string (valid: inject, clear)")?;
    let duration = match v.get("duration") {
        None | Some(Value::Null) => None,
        Some(Value::String(d)) => {
            Some(SimDuration::parse(d).map_err(|e| format!("field `duration`: {e}"))?)
        }
        Some(x) => {
            return Err(format!(
                "field `duration`: {x} is not a duration string such as \"30m\""
            ));
        }
    };
    match action {
        "clear" => Ok(Command::Clear),
        "inject" if v.get("network").is_some() => {
            let kind = match v.get("network").and_then(Value::as_str) {
                Some("outage") => NetKind::Outage,
                Some("latency") => NetKind::Latency(number(&v, "value", 0.0, 60_000.0)?),
                Some("loss") => NetKind::Loss(number(&v, "value", 0.0, 1.0)?),
                Some("partition") => NetKind::Partition,
                Some(other) => {
                    return Err(format!(
                        "field `network`: `{other}` is not a network fault (valid: {NETWORK_FAULTS})"
                    ));
                }
                None => {
                    return Err(format!(
                        "field `network` must be a string (valid: {NETWORK_FAULTS})"
                    ));
                }
            };
            Ok(Command::InjectNetwork { kind, duration })
        }
        "inject" => {
            let fault = v.get("fault").and_then(Value::as_str).ok_or_else(|| format!("field `fault` is missing or not a string (valid: {MACHINE_FAULTS}; with `sensor`: {SENSOR_FAULTS})"))?;
            match v.get("sensor") {
                None | Some(Value::Null) => {
                    let mode = FaultMode::ALL
                        .into_iter()
                        .find(|m| m.name() == fault)
                        .ok_or_else(|| format!("field `fault`: `{fault}` is not a machine fault (valid: {MACHINE_FAULTS}; sensor faults need `sensor`)"))?;
                    Ok(Command::InjectMachine {
                        mode,
                        severity: number(&v, "severity", 0.0, 2.0)?,
                        duration,
                    })
                }
                Some(s) => {
                    let id = s.as_str().ok_or("field `sensor` must be a string")?;
                    let sensor =
                        machine
                            .sensors
                            .iter()
                            .position(|x| x.id == id)
                            .ok_or_else(|| {
                                let known: Vec<&str> =
                                    machine.sensors.iter().map(|x| x.id.as_str()).collect();
                                format!(
                                    "field `sensor`: machine `{}` has no sensor `{id}` (known: {})",
                                    machine.id,
                                    known.join(", ")
                                )
                            })?;
                    let fault = match fault {
                        "stuck_at" => SensorFault::StuckAt,
                        "dropout" => SensorFault::Dropout,
                        "drift" => SensorFault::Drift {
                            per_hour: number(&v, "value", -1e6, 1e6)?,
                        },
                        "bias" => SensorFault::Bias {
                            offset: number(&v, "value", -1e6, 1e6)?,
                        },
                        "gain" => SensorFault::Gain {
                            factor: number(&v, "value", 0.0, 100.0)?,
                        },
                        "noise" => SensorFault::Noise {
                            factor: number(&v, "value", 1.0, 1000.0)?,
                        },
                        "saturation" => SensorFault::Saturation {
                            fraction: number(&v, "value", 0.001, 1.0)?,
                        },
                        "spikes" => SensorFault::Spikes {
                            rate_hz: number(&v, "rate_hz", 1e-6, 1000.0)?,
                            amplitude: number(&v, "amplitude", 0.0, 1e6)?,
                        },
                        other => {
                            return Err(format!(
                                "field `fault`: `{other}` is not a sensor fault (valid: {SENSOR_FAULTS})"
                            ));
                        }
                    };
                    Ok(Command::InjectSensor {
                        sensor,
                        fault,
                        duration,
                    })
                }
            }
        }
        other => Err(format!(
            "field `action`: `{other}` is not an action (valid: inject, clear)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> Machine {
        let src = r#"Scenario(name: "c", duration: "1h", sites: [(id: "s", lines: [(id: "l", machines: [
            (id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "vib", part: "IIS3DWB"), (id: "t", part: "STTS22H")])])])])"#;
        fabtwin_sim::scenario::from_str(src, "c.ron")
            .unwrap()
            .machines
            .remove(0)
    }

    #[test]
    fn network_commands_parse_and_bad_ones_name_the_field() {
        let m = machine();
        assert_eq!(
            parse(
                br#"{"action":"inject","network":"outage","duration":"10m"}"#,
                &m
            )
            .unwrap(),
            Command::InjectNetwork {
                kind: NetKind::Outage,
                duration: Some(SimDuration::from_secs(600))
            }
        );
        assert_eq!(
            parse(br#"{"action":"inject","network":"loss","value":0.25}"#, &m).unwrap(),
            Command::InjectNetwork {
                kind: NetKind::Loss(0.25),
                duration: None
            }
        );
        let e = parse(br#"{"action":"inject","network":"flood"}"#, &m).unwrap_err();
        assert!(
            e.contains("`network`") && e.contains("valid: outage"),
            "{e}"
        );
        let e = parse(br#"{"action":"inject","network":"latency"}"#, &m).unwrap_err();
        assert!(e.contains("field `value` is missing"), "{e}");
        let e = parse(br#"{"action":"inject","network":"loss","value":2}"#, &m).unwrap_err();
        assert!(e.contains("`value`") && e.contains("0 … 1"), "{e}");
    }

    #[test]
    fn valid_commands_parse() {
        let m = machine();
        let c = parse(
            br#"{"id":"a","action":"inject","fault":"imbalance","severity":0.6,"duration":"1h"}"#,
            &m,
        )
        .unwrap();
        assert_eq!(
            c,
            Command::InjectMachine {
                mode: FaultMode::Imbalance,
                severity: 0.6,
                duration: Some(SimDuration::from_secs(3600))
            }
        );
        let c = parse(
            br#"{"action":"inject","sensor":"vib","fault":"gain","value":2.5}"#,
            &m,
        )
        .unwrap();
        assert_eq!(
            c,
            Command::InjectSensor {
                sensor: 0,
                fault: SensorFault::Gain { factor: 2.5 },
                duration: None
            }
        );
        assert_eq!(parse(br#"{"action":"clear"}"#, &m).unwrap(), Command::Clear);
        assert_eq!(command_id(br#"{"id":"x7","action":1}"#), "x7");
    }

    #[test]
    fn errors_name_the_field_and_what_is_valid() {
        let m = machine();
        let cases: [(&[u8], &str); 8] = [
            (b"not json", "payload is not JSON"),
            (b"[1,2]", "must be a JSON object"),
            (br#"{"fault":"imbalance"}"#, "field `action` is missing"),
            (
                br#"{"action":"explode"}"#,
                "`explode` is not an action (valid: inject, clear)",
            ),
            (
                br#"{"action":"inject","fault":"gremlins","severity":1}"#,
                "`gremlins` is not a machine fault (valid: bearing_outer",
            ),
            (
                br#"{"action":"inject","fault":"imbalance","severity":7}"#,
                "field `severity`: 7 is not a number 0 … 2",
            ),
            (
                br#"{"action":"inject","sensor":"nope","fault":"gain","value":2}"#,
                "has no sensor `nope` (known: vib, t)",
            ),
            (
                br#"{"action":"inject","fault":"imbalance","severity":0.5,"duration":"5 parsecs"}"#,
                "field `duration`",
            ),
        ];
        for (payload, want) in cases {
            let e = parse(payload, &m).unwrap_err();
            assert!(
                e.contains(want),
                "{}: {e}",
                String::from_utf8_lossy(payload)
            );
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let m = machine();
        let mut x = 0x1234_5678_9abc_def0u64;
        for n in 0..5_000usize {
            let bytes: Vec<u8> = (0..n % 64)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    b"{}[]\":,actionfaultinjectsensor0123456789.-e "[(x % 44) as usize]
                })
                .collect();
            let _ = parse(&bytes, &m);
        }
    }
}
