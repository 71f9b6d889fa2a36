//! Sparkplug B 3.0: protobuf payloads, topics and the edge-node session.
//!
//! A fabtwin *gateway* is a Sparkplug edge node and each *device* (the sensor
//! node on one machine) a Sparkplug device. Everything here is pure: the
//! [`EdgeNode`] state machine turns session events and telemetry into
//! [`Publish`]es (topic, bytes, QoS, retain), and the MQTT loop moves them.
//!
//! | piece | where |
//! | --- | --- |
//! | protobuf types mirroring eclipse/tahu `sparkplug_b.proto` v1.0.11 | [`proto`] |
//! | `spBv1.0/<group>/<type>/<edge>[/<device>]` topics | [`topic`] |
//! | telemetry → metric names, datatypes and values | [`metrics`] |
//! | `bdSeq`, `seq`, births, deaths, rebirth | [`session`] |
//! | NCMD / DCMD payloads | [`command`] |
//!
//! The rules followed (SP4–SP6 = the Sparkplug 3.0 specification's chapters):
//!
//! - `seq` is one 0..=255 counter per edge node, shared by NBIRTH, DBIRTH,
//!   NDATA, DDATA and DDEATH, wrapping 255 → 0; every NBIRTH restarts it at 0.
//!   NDEATH carries none.
//! - `bdSeq` (an Int64 metric) is 0 on the first CONNECT and goes up by one,
//!   wrapping 255 → 0, on every later CONNECT. The will (NDEATH) and the NBIRTH
//!   that follows carry the same value; a rebirth keeps it.
//! - Births list every metric with its datatype; DATA carries no datatype.
//!   fabtwin sends names, never aliases, so every payload decodes on its own
//!   (and [`device_seq`] needs no birth to read a DDATA).
//! - Metric timestamps are acquisition times, payload timestamps send times,
//!   both in ms since the Unix epoch.
//! - Each DDATA carries `fabtwin/seq` (UInt64): the device's JSON-equivalent
//!   sequence number, so a subscriber counts sent / lost / duplicated exactly
//!   even though Sparkplug's own `seq` wraps and is shared by all devices.
//!
//! ```
//! use fabtwin_bridge::codec::sparkplug::{self, DeviceSchema, EdgeNode, MetricDef, proto::DataType};
//!
//! let mut node = EdgeNode::new("plant1", "gw1").unwrap();
//! node.on_connect();
//! let will = node.will(); // goes into the MQTT CONNECT, QoS 1, not retained
//! assert_eq!(will.topic, "spBv1.0/plant1/NDEATH/gw1");
//! let nbirth = node.nbirth(1_767_225_600_000).unwrap();
//! let schema = DeviceSchema::new(
//!     "pump01",
//!     vec![MetricDef::new(sparkplug::metrics::SEQ_METRIC, DataType::UInt64)],
//! )
//! .unwrap();
//! let dbirth = node.dbirth(&schema, 1_767_225_600_000).unwrap();
//! assert_eq!(sparkplug::decode_payload(&nbirth.payload).unwrap().seq, Some(0));
//! assert_eq!(sparkplug::decode_payload(&dbirth.payload).unwrap().seq, Some(1));
//! ```

pub mod command;
pub mod metrics;
pub mod proto;
pub mod session;
pub mod topic;

#[cfg(test)]
mod wire_tests;

use prost::Message as _;

pub use command::{Command, CommandMetric, decode_command};
pub use metrics::{DeviceSchema, MetricDef};
pub use session::{EdgeNode, Publish};
pub use topic::{MessageType, Topic};

use proto::{DataType, MetricValue, Payload};

/// What went wrong building or reading a Sparkplug B message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// A group, edge node or device id cannot be a topic level.
    #[error(
        "{what} `{id}` is not a valid Sparkplug id: {problem} (valid: non-empty UTF-8 without `+`, `/` or `#`)"
    )]
    InvalidId {
        /// Which id: `group_id`, `edge_node_id` or `device_id`.
        what: &'static str,
        /// The id.
        id: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A device id given for an `N*` type, or missing for a `D*` type.
    #[error("{}", placement(*.message_type, .device_id.as_deref()))]
    DeviceIdPlacement {
        /// The message type.
        message_type: MessageType,
        /// The device id given, if any.
        device_id: Option<String>,
    },
    /// A topic string that is not an edge-node or device topic.
    #[error("`{topic}` is not a Sparkplug B edge topic: {problem}")]
    InvalidTopic {
        /// The topic.
        topic: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The bytes are not a protobuf `Payload`.
    #[error("payload is not a Sparkplug B protobuf: {0}")]
    Decode(#[from] prost::DecodeError),
    /// A command payload without metrics.
    #[error("command payload carries no metrics (a command names at least one metric to write)")]
    EmptyCommand,
    /// A command metric without a name.
    #[error("command metric #{index} has no name{}: fabtwin births no aliases, so commands must name their metrics", only_alias(*.alias))]
    UnnamedMetric {
        /// Position of the metric in the payload, from 0.
        index: usize,
        /// Its alias, if it has one.
        alias: Option<u64>,
    },
    /// A datatype number that metrics cannot carry.
    #[error(
        "metric `{name}`: datatype {datatype} is not a Sparkplug B 3.0 metric datatype (valid: 1–19, 22–34)"
    )]
    UnsupportedDatatype {
        /// Metric name.
        name: String,
        /// The number received.
        datatype: u32,
    },
    /// Neither a value nor `is_null`.
    #[error("metric `{name}` has no value and is not marked is_null")]
    MissingValue {
        /// Metric name.
        name: String,
    },
    /// `is_null` and a value at once.
    #[error("metric `{name}` is marked is_null but also carries {field}")]
    NullWithValue {
        /// Metric name.
        name: String,
        /// The value field present.
        field: &'static str,
    },
    /// A value of the wrong type.
    #[error("metric `{name}` must carry {expected}, found {found}")]
    WrongValueType {
        /// Metric name.
        name: String,
        /// What is valid.
        expected: String,
        /// What arrived.
        found: String,
    },
    /// NBIRTH before any CONNECT.
    #[error(
        "no MQTT CONNECT yet: call EdgeNode::on_connect (and put EdgeNode::will in the CONNECT) before NBIRTH"
    )]
    NotConnected,
    /// A device message or DBIRTH before NBIRTH in the current session.
    #[error(
        "{message_type} before NBIRTH in this MQTT session: after every CONNECT Sparkplug sends NBIRTH first"
    )]
    NodeNotBorn {
        /// The message that was asked for.
        message_type: MessageType,
    },
    /// A device never given a DBIRTH on this edge node.
    #[error("device `{device}` has no DBIRTH on this edge node (send EdgeNode::dbirth first)")]
    UnknownDevice {
        /// Device id.
        device: String,
    },
    /// A device known but not born in this session (or dead).
    #[error(
        "{message_type} for device `{device}` without its DBIRTH in this session (it was never reborn, or had a DDEATH)"
    )]
    DeviceNotBorn {
        /// Device id.
        device: String,
        /// The message that was asked for.
        message_type: MessageType,
    },
    /// A DDATA metric the device's DBIRTH did not list.
    #[error(
        "metric `{name}` of device `{device}` is not in its DBIRTH (a host would answer with a rebirth request)"
    )]
    UnknownMetric {
        /// Device id.
        device: String,
        /// Metric name (or `#index` when it has none).
        name: String,
    },
    /// A device schema listing a name twice, or an empty name.
    #[error("device `{device}` declares metric `{name}` {problem}")]
    BadSchema {
        /// Device id.
        device: String,
        /// Metric name.
        name: String,
        /// `twice` or `with an empty name`.
        problem: &'static str,
    },
    /// Telemetry naming a machine the scenario does not have.
    #[error("telemetry names machine #{index}, but the scenario has {count} machines")]
    UnknownMachine {
        /// Machine index in the telemetry.
        index: usize,
        /// Machines in the scenario.
        count: usize,
    },
    /// A reading from a sensor the machine does not have.
    #[error("device `{device}` has no sensor `{sensor}` (valid: {valid})")]
    UnknownSensor {
        /// Device id.
        device: String,
        /// Sensor id in the reading.
        sensor: String,
        /// The machine's sensor ids.
        valid: String,
    },
    /// A time Sparkplug's unsigned millisecond timestamps cannot carry.
    #[error(
        "time {nanos} ns since the Unix epoch is out of range: Sparkplug timestamps are unsigned ms since 1970-01-01T00:00:00Z"
    )]
    TimestampOutOfRange {
        /// The time, ns since the Unix epoch.
        nanos: i128,
    },
}

fn placement(message_type: MessageType, device_id: Option<&str>) -> String {
    match device_id {
        Some(d) => {
            format!("{message_type} is an edge-node message and takes no device_id (got `{d}`)")
        }
        None => format!("{message_type} needs a device_id"),
    }
}

fn only_alias(alias: Option<u64>) -> String {
    alias.map_or_else(String::new, |a| format!(" (only alias {a})"))
}

/// Decodes a Sparkplug B payload (any message type). Never panics: bytes that
/// are not a protobuf `Payload` give [`CodecError::Decode`] naming the field
/// and the problem.
pub fn decode_payload(bytes: &[u8]) -> Result<Payload, CodecError> {
    Ok(Payload::decode(bytes)?)
}

/// The per-device sequence number `fabtwin/seq` of a DDATA payload, if it has
/// one (births carry it as null; other messages not at all).
pub fn device_seq(payload: &Payload) -> Option<u64> {
    payload
        .metrics
        .iter()
        .find_map(|m| match (&m.name, &m.value) {
            (Some(n), Some(MetricValue::LongValue(v)))
                if n == metrics::SEQ_METRIC && m.is_null != Some(true) =>
            {
                Some(*v)
            }
            _ => None,
        })
}

/// Checks that metric `name` carries a value of `datatype` in the right oneof
/// field, or is marked null with no value.
fn check_value(name: &str, datatype: DataType, m: &proto::Metric) -> Result<(), CodecError> {
    let Some(field) = datatype.value_field() else {
        return Err(CodecError::UnsupportedDatatype {
            name: name.to_string(),
            datatype: datatype.number(),
        });
    };
    match (&m.value, m.is_null == Some(true)) {
        (Some(v), true) => Err(CodecError::NullWithValue {
            name: name.to_string(),
            field: proto::ValueField::of(v).name(),
        }),
        (None, true) => Ok(()),
        (None, false) => Err(CodecError::MissingValue {
            name: name.to_string(),
        }),
        (Some(v), false) if proto::ValueField::of(v) == field => Ok(()),
        (Some(v), false) => Err(CodecError::WrongValueType {
            name: name.to_string(),
            expected: format!("a {datatype} value in {}", field.name()),
            found: proto::ValueField::of(v).name().to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_seq_reads_only_a_non_null_fabtwin_seq() {
        let seq = |value, is_null| proto::Metric {
            name: Some(metrics::SEQ_METRIC.into()),
            value,
            is_null,
            ..Default::default()
        };
        let p = |m: proto::Metric| Payload {
            metrics: vec![m],
            ..Default::default()
        };
        assert_eq!(
            device_seq(&p(seq(Some(MetricValue::LongValue(u64::MAX)), None))),
            Some(u64::MAX)
        );
        assert_eq!(device_seq(&p(seq(None, Some(true)))), None);
        assert_eq!(
            device_seq(&p(seq(Some(MetricValue::IntValue(3)), None))),
            None
        );
        let other = proto::Metric {
            name: Some("vib/zone".into()),
            value: Some(MetricValue::LongValue(3)),
            ..Default::default()
        };
        assert_eq!(device_seq(&p(other)), None);
    }

    #[test]
    fn decode_payload_names_the_problem() {
        // Field 2 (metrics) declared 10 bytes long, 1 present.
        let e = decode_payload(&[0x12, 10, 0x0a])
            .expect_err("truncated")
            .to_string();
        assert!(
            e.starts_with("payload is not a Sparkplug B protobuf: "),
            "{e}"
        );
        assert!(
            e.contains("buffer underflow") || e.contains("Payload"),
            "{e}"
        );
    }
}
