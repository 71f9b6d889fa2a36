//! NCMD and DCMD payloads: what a host asks an edge node or device to do.
//!
//! Decoding never panics and never guesses: bytes that are not a protobuf, a
//! command without metrics, a metric without a name (fabtwin births no
//! aliases), a value missing or in the wrong field for its datatype, or a
//! `Node Control/*` switch that is not a Boolean each give an error saying so.

use super::metrics::REBIRTH_METRIC;
use super::proto::{DataType, MetricValue, ValueField};
use super::{CodecError, check_value, decode_payload};

/// `Node Control/*` metrics that are Boolean switches (SP6 / SP5 "Commands").
const NODE_CONTROL_SWITCHES: [&str; 3] = [
    REBIRTH_METRIC,
    "Node Control/Reboot",
    "Node Control/Next Server",
];

/// One metric of a command: a write of `value` to metric `name`.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandMetric {
    /// Metric name.
    pub name: String,
    /// Timestamp, if the host sent one (ms since the Unix epoch).
    pub timestamp: Option<u64>,
    /// Datatype, if the host sent one (it then matches the value's field).
    pub datatype: Option<DataType>,
    /// The value; `None` writes null.
    pub value: Option<MetricValue>,
}

/// A decoded NCMD or DCMD.
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    /// Payload timestamp, if any (ms since the Unix epoch).
    pub timestamp: Option<u64>,
    /// The metrics written, in payload order; at least one.
    pub metrics: Vec<CommandMetric>,
}

impl Command {
    /// Whether this is a rebirth request: `Node Control/Rebirth` = true.
    pub fn is_rebirth(&self) -> bool {
        self.metrics
            .iter()
            .any(|m| m.name == REBIRTH_METRIC && m.value == Some(MetricValue::BooleanValue(true)))
    }

    /// The first metric named `name`.
    pub fn metric(&self, name: &str) -> Option<&CommandMetric> {
        self.metrics.iter().find(|m| m.name == name)
    }
}

/// Decodes and checks an NCMD or DCMD payload.
pub fn decode_command(bytes: &[u8]) -> Result<Command, CodecError> {
    let payload = decode_payload(bytes)?;
    if payload.metrics.is_empty() {
        return Err(CodecError::EmptyCommand);
    }
    let mut metrics = Vec::with_capacity(payload.metrics.len());
    for (index, m) in payload.metrics.into_iter().enumerate() {
        let name = match &m.name {
            Some(n) if !n.is_empty() => n.clone(),
            _ => {
                return Err(CodecError::UnnamedMetric {
                    index,
                    alias: m.alias,
                });
            }
        };
        let switch = NODE_CONTROL_SWITCHES.contains(&name.as_str());
        let datatype = match m.datatype {
            Some(n) => Some(
                DataType::from_u32(n).ok_or(CodecError::UnsupportedDatatype {
                    name: name.clone(),
                    datatype: n,
                })?,
            ),
            None => None,
        };
        if switch && datatype.is_some_and(|d| d != DataType::Boolean) {
            return Err(CodecError::WrongValueType {
                name,
                expected: "datatype Boolean (11)".into(),
                found: format!("datatype {}", datatype.expect("checked is_some")),
            });
        }
        let effective = if switch {
            Some(DataType::Boolean)
        } else {
            datatype
        };
        match effective {
            Some(d) => check_value(&name, d, &m)?,
            // No datatype: any scalar or bytes field, or null.
            None => match (&m.value, m.is_null == Some(true)) {
                (Some(v), true) => {
                    return Err(CodecError::NullWithValue {
                        name,
                        field: ValueField::of(v).name(),
                    });
                }
                (None, false) => return Err(CodecError::MissingValue { name }),
                _ => {}
            },
        }
        if switch && m.is_null == Some(true) {
            return Err(CodecError::WrongValueType {
                name,
                expected: "a Boolean value in boolean_value (14)".into(),
                found: "null".into(),
            });
        }
        metrics.push(CommandMetric {
            name,
            timestamp: m.timestamp,
            datatype,
            value: m.value,
        });
    }
    Ok(Command {
        timestamp: payload.timestamp,
        metrics,
    })
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::super::proto::{Metric, Payload};
    use super::*;

    fn cmd(metrics: Vec<Metric>) -> Vec<u8> {
        Payload {
            timestamp: Some(1_767_225_600_000),
            metrics,
            ..Default::default()
        }
        .encode_to_vec()
    }

    fn rebirth(value: Option<MetricValue>, datatype: Option<u32>) -> Metric {
        Metric {
            name: Some(REBIRTH_METRIC.into()),
            datatype,
            value,
            ..Default::default()
        }
    }

    /// SplitMix64: a seeded stream, so every run tries the same bytes.
    struct SplitMix(u64);

    impl SplitMix {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
    }

    #[test]
    fn rebirth_request_decodes() {
        let c = decode_command(&cmd(vec![rebirth(
            Some(MetricValue::BooleanValue(true)),
            Some(11),
        )]))
        .expect("valid");
        assert!(c.is_rebirth());
        assert_eq!(c.timestamp, Some(1_767_225_600_000));
        // Datatype is optional in commands.
        let c = decode_command(&cmd(vec![rebirth(
            Some(MetricValue::BooleanValue(true)),
            None,
        )]))
        .expect("valid");
        assert!(c.is_rebirth());
        let c = decode_command(&cmd(vec![rebirth(
            Some(MetricValue::BooleanValue(false)),
            None,
        )]))
        .expect("valid");
        assert!(!c.is_rebirth());
    }

    #[test]
    fn device_writes_decode() {
        let m = Metric {
            name: Some("vib/alarm_ack".into()),
            value: Some(MetricValue::StringValue("ok".into())),
            ..Default::default()
        };
        let n = Metric {
            name: Some("x".into()),
            is_null: Some(true),
            datatype: Some(9),
            ..Default::default()
        };
        let c = decode_command(&cmd(vec![m, n])).expect("valid");
        assert!(!c.is_rebirth());
        assert_eq!(
            c.metric("vib/alarm_ack").expect("there").value,
            Some(MetricValue::StringValue("ok".into()))
        );
        assert_eq!(c.metric("x").expect("there").value, None);
        assert_eq!(
            c.metric("x").expect("there").datatype,
            Some(DataType::Float)
        );
    }

    #[test]
    fn wrong_metric_types_are_named() {
        let cases: [(Metric, &str); 8] = [
            (
                rebirth(Some(MetricValue::StringValue("true".into())), None),
                "metric `Node Control/Rebirth` must carry a Boolean (11) value in boolean_value (14), found string_value (15)",
            ),
            (
                rebirth(Some(MetricValue::IntValue(1)), None),
                "metric `Node Control/Rebirth` must carry a Boolean (11) value in boolean_value (14), found int_value (10)",
            ),
            (
                rebirth(Some(MetricValue::BooleanValue(true)), Some(12)),
                "metric `Node Control/Rebirth` must carry datatype Boolean (11), found datatype String (12)",
            ),
            (
                rebirth(None, None),
                "metric `Node Control/Rebirth` has no value and is not marked is_null",
            ),
            (
                Metric {
                    is_null: Some(true),
                    ..rebirth(None, None)
                },
                "metric `Node Control/Rebirth` must carry a Boolean value in boolean_value (14), found null",
            ),
            (
                Metric {
                    name: Some("a".into()),
                    datatype: Some(8),
                    value: Some(MetricValue::FloatValue(1.0)),
                    ..Default::default()
                },
                "metric `a` must carry a UInt64 (8) value in long_value (11), found float_value (12)",
            ),
            (
                Metric {
                    name: Some("a".into()),
                    datatype: Some(99),
                    value: Some(MetricValue::IntValue(1)),
                    ..Default::default()
                },
                "metric `a`: datatype 99 is not a Sparkplug B 3.0 metric datatype (valid: 1–19, 22–34)",
            ),
            (
                Metric {
                    alias: Some(4),
                    value: Some(MetricValue::BooleanValue(true)),
                    ..Default::default()
                },
                "command metric #0 has no name (only alias 4): fabtwin births no aliases, so commands must name their metrics",
            ),
        ];
        for (m, want) in cases {
            let e = decode_command(&cmd(vec![m])).expect_err(want);
            assert_eq!(e.to_string(), want);
        }
        let both = Metric {
            name: Some("a".into()),
            is_null: Some(true),
            value: Some(MetricValue::LongValue(1)),
            ..Default::default()
        };
        let e = decode_command(&cmd(vec![both]))
            .expect_err("null with value")
            .to_string();
        assert_eq!(
            e,
            "metric `a` is marked is_null but also carries long_value (11)"
        );
        let e = decode_command(&cmd(vec![])).expect_err("empty").to_string();
        assert!(e.contains("no metrics"), "{e}");
    }

    #[test]
    fn truncated_commands_are_errors() {
        let full = cmd(vec![rebirth(
            Some(MetricValue::BooleanValue(true)),
            Some(11),
        )]);
        decode_command(&full).expect("the whole payload is valid");
        for n in 0..full.len() {
            let e = decode_command(&full[..n]).expect_err(&format!("prefix of {n} bytes"));
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = SplitMix(0x5eed);
        let valid = cmd(vec![rebirth(
            Some(MetricValue::BooleanValue(true)),
            Some(11),
        )]);
        let (mut ok, mut err) = (0, 0);
        for i in 0..5000 {
            let bytes: Vec<u8> = if i % 2 == 0 {
                // Random bytes of random length.
                let len = (rng.next() % 64) as usize;
                (0..len).map(|_| rng.next() as u8).collect()
            } else {
                // A valid command with a few bytes flipped: nearer the decoder's edge cases.
                let mut b = valid.clone();
                for _ in 0..1 + rng.next() % 3 {
                    let k = (rng.next() as usize) % b.len();
                    b[k] = rng.next() as u8;
                }
                b
            };
            match decode_command(&bytes) {
                Ok(c) => {
                    ok += 1;
                    assert!(
                        !c.metrics.is_empty() && c.metrics.iter().all(|m| !m.name.is_empty()),
                        "{bytes:?}"
                    );
                }
                Err(e) => {
                    err += 1;
                    assert!(!e.to_string().is_empty());
                }
            }
        }
        assert!(
            err > 4000,
            "most random inputs are invalid (ok {ok}, err {err})"
        );
    }
}
