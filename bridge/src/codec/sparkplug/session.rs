//! The edge-node session: `bdSeq`, `seq`, births, deaths and rebirths, as a
//! pure state machine (no I/O, no clock: the caller passes every time).
//!
//! The life of an edge node, and the calls that go with it:
//!
//! 1. [`EdgeNode::on_connect`] before every MQTT CONNECT (the first included),
//!    then [`EdgeNode::will`] as the CONNECT's will (QoS 1, not retained).
//! 2. After CONNACK (and the NCMD/DCMD subscriptions): [`EdgeNode::nbirth`] and
//!    a [`EdgeNode::dbirth`] per device — or [`EdgeNode::rebirth`], which
//!    republishes the node and every live device it already knows.
//! 3. [`EdgeNode::ddata`] / [`EdgeNode::telemetry`] for readings, with
//!    `historical = true` for what the store-and-forward buffer drains;
//!    [`EdgeNode::ddeath`] when a device goes silent.
//! 4. On an NCMD whose [`Command::is_rebirth`](super::Command::is_rebirth) is
//!    true: [`EdgeNode::rebirth`] (same bdSeq, seq from 0).
//! 5. When the connection drops: [`EdgeNode::on_disconnect`] (DATA then fails
//!    with [`CodecError::NodeNotBorn`] until the next NBIRTH, so the caller
//!    buffers it). Before a deliberate DISCONNECT, publish [`EdgeNode::will`]
//!    yourself: it is the NDEATH.

use std::collections::BTreeMap;

use prost::Message as _;

use fabtwin_sim::scenario::Scenario;
use fabtwin_sim::telemetry::Telemetry;

use super::metrics::{BD_SEQ_METRIC, DeviceSchema, REBIRTH_METRIC, SEQ_METRIC, telemetry_metrics};
use super::proto::{DataType, Metric, MetricValue, Payload};
use super::topic::{MessageType, Topic, validate_id};
use super::{CodecError, check_value};

/// One MQTT PUBLISH (or will) to send: topic, payload and the QoS and retain
/// flag Sparkplug requires for its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    /// Topic.
    pub topic: String,
    /// Protobuf payload.
    pub payload: Vec<u8>,
    /// MQTT QoS: 1 for the will (NDEATH), 0 for everything an edge node publishes.
    pub qos: u8,
    /// Retain flag: always false for edge-node messages.
    pub retain: bool,
}

#[derive(Clone, Debug)]
struct Device {
    schema: DeviceSchema,
    /// Alive: DBIRTH sent and no DDEATH since; a rebirth republishes it.
    alive: bool,
    /// DBIRTH sent in the current MQTT session (after its NBIRTH).
    born: bool,
    /// Last live value of each schema metric (by position), for births.
    last: Vec<Option<Metric>>,
}

/// The Sparkplug state of one edge node (a fabtwin gateway, or one device in a
/// per-device session layout).
#[derive(Clone, Debug)]
pub struct EdgeNode {
    group_id: String,
    edge_node_id: String,
    bd_seq: u8,
    connects: u64,
    next_seq: u8,
    node_born: bool,
    devices: Vec<Device>,
    index: BTreeMap<String, usize>,
}

impl EdgeNode {
    /// An edge node `edge_node_id` in group `group_id`, before its first CONNECT.
    pub fn new(group_id: &str, edge_node_id: &str) -> Result<EdgeNode, CodecError> {
        validate_id("group_id", group_id)?;
        validate_id("edge_node_id", edge_node_id)?;
        Ok(EdgeNode {
            group_id: group_id.to_string(),
            edge_node_id: edge_node_id.to_string(),
            bd_seq: 0,
            connects: 0,
            next_seq: 0,
            node_born: false,
            devices: Vec::new(),
            index: BTreeMap::new(),
        })
    }

    /// The group id.
    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    /// The edge node id.
    pub fn edge_node_id(&self) -> &str {
        &self.edge_node_id
    }

    /// The current `bdSeq` (0..=255): the will's and the next NBIRTH's.
    pub fn bd_seq(&self) -> u64 {
        u64::from(self.bd_seq)
    }

    /// The `seq` the next NBIRTH-counted message will carry (0..=255).
    pub fn next_seq(&self) -> u64 {
        u64::from(self.next_seq)
    }

    /// Whether NBIRTH was sent in the current MQTT session.
    pub fn is_born(&self) -> bool {
        self.node_born
    }

    /// Ids of the devices that are alive (DBIRTH sent, no DDEATH since), in the
    /// order of their first DBIRTH.
    pub fn live_devices(&self) -> impl Iterator<Item = &str> {
        self.devices
            .iter()
            .filter(|d| d.alive)
            .map(|d| d.schema.device())
    }

    /// Records a new MQTT CONNECT; call it before each one, the first included.
    /// `bdSeq` stays 0 for the first and goes up by one (255 → 0) for each
    /// later one. The session's births are forgotten: NBIRTH comes next.
    /// Returns the new `bdSeq`.
    pub fn on_connect(&mut self) -> u64 {
        if self.connects > 0 {
            self.bd_seq = self.bd_seq.wrapping_add(1);
        }
        self.connects += 1;
        self.end_session();
        self.bd_seq()
    }

    /// Records that the MQTT connection is gone: no DATA until the next NBIRTH.
    pub fn on_disconnect(&mut self) {
        self.end_session();
    }

    fn end_session(&mut self) {
        self.node_born = false;
        for d in &mut self.devices {
            d.born = false;
        }
    }

    fn topic(&self, message_type: MessageType, device: Option<&str>) -> Result<String, CodecError> {
        Ok(Topic::new(&self.group_id, message_type, &self.edge_node_id, device)?.to_string())
    }

    fn take_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq = s.wrapping_add(1);
        u64::from(s)
    }

    fn publish(topic: String, payload: &Payload) -> Publish {
        Publish {
            topic,
            payload: payload.encode_to_vec(),
            qos: 0,
            retain: false,
        }
    }

    fn bd_seq_metric(&self, ts_ms: Option<u64>, datatype: bool) -> Metric {
        Metric {
            name: Some(BD_SEQ_METRIC.to_string()),
            timestamp: ts_ms,
            datatype: datatype.then_some(DataType::Int64.number()),
            value: Some(MetricValue::LongValue(self.bd_seq())),
            ..Default::default()
        }
    }

    /// The NDEATH to register as the CONNECT's will: only the `bdSeq` metric,
    /// no `seq`, no timestamps (hosts stamp a will with its receipt time);
    /// QoS 1, not retained.
    pub fn will(&self) -> Publish {
        let payload = Payload {
            metrics: vec![self.bd_seq_metric(None, true)],
            ..Default::default()
        };
        let topic = self
            .topic(MessageType::NDeath, None)
            .expect("ids were validated in EdgeNode::new");
        Publish {
            qos: 1,
            ..EdgeNode::publish(topic, &payload)
        }
    }

    /// NBIRTH at send time `ts_ms`: `seq` 0, `bdSeq` (Int64) and
    /// `Node Control/Rebirth` = false (Boolean). Devices need a DBIRTH again.
    pub fn nbirth(&mut self, ts_ms: u64) -> Result<Publish, CodecError> {
        if self.connects == 0 {
            return Err(CodecError::NotConnected);
        }
        let topic = self.topic(MessageType::NBirth, None)?;
        self.end_session();
        self.next_seq = 0;
        let rebirth = Metric {
            name: Some(REBIRTH_METRIC.to_string()),
            timestamp: Some(ts_ms),
            datatype: Some(DataType::Boolean.number()),
            value: Some(MetricValue::BooleanValue(false)),
            ..Default::default()
        };
        let payload = Payload {
            timestamp: Some(ts_ms),
            metrics: vec![self.bd_seq_metric(Some(ts_ms), true), rebirth],
            seq: Some(self.take_seq()),
            ..Default::default()
        };
        self.node_born = true;
        Ok(EdgeNode::publish(topic, &payload))
    }

    /// DBIRTH of `schema`'s device at send time `ts_ms`: every metric with its
    /// datatype and its last live value (null before the first, and always
    /// null for `fabtwin/seq`, so that only DDATA counts as a message).
    /// Registers the device, or replaces its schema.
    pub fn dbirth(&mut self, schema: &DeviceSchema, ts_ms: u64) -> Result<Publish, CodecError> {
        if !self.node_born {
            return Err(CodecError::NodeNotBorn {
                message_type: MessageType::DBirth,
            });
        }
        let topic = self.topic(MessageType::DBirth, Some(schema.device()))?;
        let i = match self.index.get(schema.device()) {
            Some(&i) => {
                if self.devices[i].schema != *schema {
                    self.devices[i].last = vec![None; schema.metrics().len()];
                    self.devices[i].schema = schema.clone();
                }
                i
            }
            None => {
                self.devices.push(Device {
                    schema: schema.clone(),
                    alive: false,
                    born: false,
                    last: vec![None; schema.metrics().len()],
                });
                self.index
                    .insert(schema.device().to_string(), self.devices.len() - 1);
                self.devices.len() - 1
            }
        };
        Ok(self.dbirth_at(i, topic, ts_ms))
    }

    fn dbirth_at(&mut self, i: usize, topic: String, ts_ms: u64) -> Publish {
        let d = &self.devices[i];
        let metrics = d
            .schema
            .metrics()
            .iter()
            .zip(&d.last)
            .map(|(def, last)| {
                let base = Metric {
                    name: Some(def.name.clone()),
                    datatype: Some(def.datatype.number()),
                    ..Default::default()
                };
                match last {
                    Some(l) => Metric {
                        timestamp: l.timestamp,
                        is_null: l.is_null,
                        value: l.value.clone(),
                        ..base
                    },
                    None => Metric {
                        timestamp: Some(ts_ms),
                        is_null: Some(true),
                        ..base
                    },
                }
            })
            .collect();
        let payload = Payload {
            timestamp: Some(ts_ms),
            metrics,
            seq: Some(self.take_seq()),
            ..Default::default()
        };
        let d = &mut self.devices[i];
        d.alive = true;
        d.born = true;
        EdgeNode::publish(topic, &payload)
    }

    /// Answers a rebirth request (or births the node after a reconnect): NBIRTH
    /// with the same `bdSeq` and `seq` restarting at 0, then a DBIRTH for every
    /// live device in the order of their first DBIRTH.
    pub fn rebirth(&mut self, ts_ms: u64) -> Result<Vec<Publish>, CodecError> {
        let mut out = vec![self.nbirth(ts_ms)?];
        for i in 0..self.devices.len() {
            if self.devices[i].alive {
                let topic =
                    self.topic(MessageType::DBirth, Some(self.devices[i].schema.device()))?;
                out.push(self.dbirth_at(i, topic, ts_ms));
            }
        }
        Ok(out)
    }

    fn born_device(&self, device: &str, message_type: MessageType) -> Result<usize, CodecError> {
        if !self.node_born {
            return Err(CodecError::NodeNotBorn { message_type });
        }
        let i = *self
            .index
            .get(device)
            .ok_or_else(|| CodecError::UnknownDevice {
                device: device.to_string(),
            })?;
        if !self.devices[i].born {
            return Err(CodecError::DeviceNotBorn {
                device: device.to_string(),
                message_type,
            });
        }
        Ok(i)
    }

    /// DDATA of `device` at send time `ts_ms`. Each metric must be named in the
    /// device's DBIRTH and carry a value of its datatype (or be null); the
    /// datatype is dropped (DATA does not repeat it). With `historical`, every
    /// metric is marked `is_historical` (drained from the store-and-forward
    /// buffer) and does not become the value a later birth reports.
    pub fn ddata(
        &mut self,
        device: &str,
        mut metrics: Vec<Metric>,
        historical: bool,
        ts_ms: u64,
    ) -> Result<Publish, CodecError> {
        let i = self.born_device(device, MessageType::DData)?;
        let topic = self.topic(MessageType::DData, Some(device))?;
        let d = &self.devices[i];
        let mut positions = Vec::with_capacity(metrics.len());
        for (k, m) in metrics.iter_mut().enumerate() {
            let unknown = |name: String| CodecError::UnknownMetric {
                device: device.to_string(),
                name,
            };
            let name = m
                .name
                .as_deref()
                .ok_or_else(|| unknown(format!("#{k} (unnamed)")))?;
            let p = d
                .schema
                .position(name)
                .ok_or_else(|| unknown(name.to_string()))?;
            check_value(name, d.schema.metrics()[p].datatype, m)?;
            m.datatype = None;
            m.is_historical = historical.then_some(true);
            positions.push(p);
        }
        if !historical {
            let d = &mut self.devices[i];
            for (m, p) in metrics.iter().zip(positions) {
                if m.name.as_deref() != Some(SEQ_METRIC) {
                    d.last[p] = Some(m.clone());
                }
            }
        }
        let payload = Payload {
            timestamp: Some(ts_ms),
            metrics,
            seq: Some(self.take_seq()),
            ..Default::default()
        };
        Ok(EdgeNode::publish(topic, &payload))
    }

    /// DDATA of one telemetry message (see [`super::metrics`] for the
    /// mapping), sent at `ts_ms`; `historical` as in [`EdgeNode::ddata`].
    pub fn telemetry(
        &mut self,
        scenario: &Scenario,
        m: &Telemetry,
        historical: bool,
        ts_ms: u64,
    ) -> Result<Publish, CodecError> {
        let metrics = telemetry_metrics(scenario, m)?;
        let device = &scenario.machines[m.machine].id; // index checked by telemetry_metrics
        self.ddata(device, metrics, historical, ts_ms)
    }

    /// DDEATH of `device` at send time `ts_ms` (a `seq`, no metrics). The device
    /// stays dead, through rebirths too, until its next DBIRTH.
    pub fn ddeath(&mut self, device: &str, ts_ms: u64) -> Result<Publish, CodecError> {
        let i = self.born_device(device, MessageType::DDeath)?;
        let topic = self.topic(MessageType::DDeath, Some(device))?;
        let payload = Payload {
            timestamp: Some(ts_ms),
            seq: Some(self.take_seq()),
            ..Default::default()
        };
        let d = &mut self.devices[i];
        d.alive = false;
        d.born = false;
        Ok(EdgeNode::publish(topic, &payload))
    }
}

#[cfg(test)]
mod tests {
    use super::super::metrics::tests::{pump_message, scenario};
    use super::super::metrics::{MetricDef, value_metric};
    use super::super::{decode_payload, device_seq};
    use super::*;

    const T0: u64 = 1_767_225_600_000;

    fn decode(p: &Publish) -> Payload {
        decode_payload(&p.payload).expect("our payloads decode")
    }

    fn schema(device: &str) -> DeviceSchema {
        DeviceSchema::new(
            device,
            vec![
                MetricDef::new(SEQ_METRIC, DataType::UInt64),
                MetricDef::new("temp/temperature_c", DataType::Float),
            ],
        )
        .expect("valid")
    }

    fn reading(seq: u64, c: f32) -> Vec<Metric> {
        vec![
            value_metric(SEQ_METRIC.into(), T0, MetricValue::LongValue(seq)),
            value_metric("temp/temperature_c".into(), T0, MetricValue::FloatValue(c)),
        ]
    }

    fn connected() -> EdgeNode {
        let mut n = EdgeNode::new("plant1", "gw1").expect("valid ids");
        n.on_connect();
        n
    }

    fn metric<'a>(p: &'a Payload, name: &str) -> &'a Metric {
        p.metrics
            .iter()
            .find(|m| m.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name} in {p:?}"))
    }

    #[test]
    fn nbirth_carries_bdseq_and_rebirth_false_with_seq_0() {
        let mut n = connected();
        let b = n.nbirth(T0).expect("connected");
        assert_eq!(b.topic, "spBv1.0/plant1/NBIRTH/gw1");
        assert_eq!((b.qos, b.retain), (0, false));
        let p = decode(&b);
        assert_eq!((p.seq, p.timestamp), (Some(0), Some(T0)));
        let bd = metric(&p, "bdSeq");
        assert_eq!(
            (bd.datatype, &bd.value, bd.timestamp),
            (Some(4), &Some(MetricValue::LongValue(0)), Some(T0))
        );
        let r = metric(&p, "Node Control/Rebirth");
        assert_eq!(
            (r.datatype, &r.value, r.alias),
            (Some(11), &Some(MetricValue::BooleanValue(false)), None)
        );
    }

    #[test]
    fn ndeath_has_bdseq_and_no_seq() {
        let n = connected();
        let w = n.will();
        assert_eq!(w.topic, "spBv1.0/plant1/NDEATH/gw1");
        assert_eq!((w.qos, w.retain), (1, false));
        let p = decode(&w);
        assert_eq!(p.seq, None);
        assert_eq!(p.metrics.len(), 1);
        assert_eq!(p.metrics[0].name.as_deref(), Some("bdSeq"));
        assert_eq!(p.metrics[0].datatype, Some(4));
        assert_eq!(p.metrics[0].value, Some(MetricValue::LongValue(0)));
    }

    #[test]
    fn bdseq_increments_per_connect_and_wraps() {
        let mut n = EdgeNode::new("g", "e").expect("valid");
        assert_eq!(n.on_connect(), 0, "first CONNECT keeps 0");
        let bd = |n: &EdgeNode| decode(&n.will()).metrics[0].value.clone();
        assert_eq!(bd(&n), Some(MetricValue::LongValue(0)));
        for want in 1..=255u64 {
            assert_eq!(n.on_connect(), want);
            // Will and NBIRTH of the same connection agree.
            assert_eq!(bd(&n), Some(MetricValue::LongValue(want)));
            let b = decode(&n.nbirth(T0).expect("connected"));
            assert_eq!(
                metric(&b, "bdSeq").value,
                Some(MetricValue::LongValue(want))
            );
        }
        assert_eq!(n.on_connect(), 0, "255 wraps to 0");
        assert_eq!(bd(&n), Some(MetricValue::LongValue(0)));
        assert_eq!(n.on_connect(), 1);
    }

    #[test]
    fn seq_is_shared_across_births_and_data_and_wraps() {
        let mut n = connected();
        let mut seqs = vec![decode(&n.nbirth(T0).expect("born")).seq];
        seqs.push(decode(&n.dbirth(&schema("d1"), T0).expect("node born")).seq);
        seqs.push(decode(&n.dbirth(&schema("d2"), T0).expect("node born")).seq);
        for k in 0..600u64 {
            let dev = if k % 2 == 0 { "d1" } else { "d2" };
            seqs.push(decode(&n.ddata(dev, reading(k, 1.0), false, T0).expect("born")).seq);
        }
        seqs.push(decode(&n.ddeath("d2", T0).expect("born")).seq);
        let want: Vec<Option<u64>> = (0..seqs.len() as u64).map(|i| Some(i % 256)).collect();
        assert_eq!(seqs, want);
        assert_eq!(seqs[256], Some(0), "255 wraps to 0");
    }

    #[test]
    fn every_nbirth_resets_seq() {
        let mut n = connected();
        n.nbirth(T0).expect("born");
        n.dbirth(&schema("d1"), T0).expect("born");
        for k in 0..10 {
            n.ddata("d1", reading(k, 1.0), false, T0).expect("born");
        }
        assert_eq!(n.next_seq(), 12);
        assert_eq!(decode(&n.nbirth(T0).expect("born")).seq, Some(0));
        assert_eq!(n.next_seq(), 1);
        // After a reconnect too.
        n.on_disconnect();
        n.on_connect();
        assert_eq!(decode(&n.nbirth(T0).expect("born")).seq, Some(0));
    }

    #[test]
    fn rebirth_keeps_bdseq_and_republishes_live_devices() {
        let mut n = connected();
        n.on_connect(); // bdSeq 1
        n.nbirth(T0).expect("born");
        n.dbirth(&schema("d1"), T0).expect("born");
        n.dbirth(&schema("d2"), T0).expect("born");
        n.dbirth(&schema("d3"), T0).expect("born");
        n.ddata("d1", reading(7, 36.5), false, T0 + 5)
            .expect("born");
        n.ddeath("d2", T0).expect("born");
        let out = n.rebirth(T0 + 1000).expect("connected");
        let topics: Vec<&str> = out.iter().map(|p| p.topic.as_str()).collect();
        assert_eq!(
            topics,
            [
                "spBv1.0/plant1/NBIRTH/gw1",
                "spBv1.0/plant1/DBIRTH/gw1/d1",
                "spBv1.0/plant1/DBIRTH/gw1/d3"
            ]
        );
        let ps: Vec<Payload> = out.iter().map(decode).collect();
        assert_eq!(
            ps.iter().map(|p| p.seq).collect::<Vec<_>>(),
            [Some(0), Some(1), Some(2)]
        );
        assert_eq!(
            metric(&ps[0], "bdSeq").value,
            Some(MetricValue::LongValue(1)),
            "same bdSeq"
        );
        assert_eq!(n.bd_seq(), 1);
        // The DBIRTH reports the last live value, at its acquisition time, with its datatype.
        let t = metric(&ps[1], "temp/temperature_c");
        assert_eq!(
            (t.datatype, &t.value, t.timestamp),
            (Some(9), &Some(MetricValue::FloatValue(36.5)), Some(T0))
        );
        // fabtwin/seq stays null in births, so only DDATA counts as a message.
        let s = metric(&ps[1], SEQ_METRIC);
        assert_eq!(
            (s.datatype, s.is_null, &s.value),
            (Some(8), Some(true), &None)
        );
        assert_eq!(device_seq(&ps[1]), None);
        // Never-valued metrics are null at birth time.
        assert_eq!(metric(&ps[2], "temp/temperature_c").is_null, Some(true));
        assert_eq!(
            metric(&ps[2], "temp/temperature_c").timestamp,
            Some(T0 + 1000)
        );
        // Data flows again; the dead device stays dead.
        assert_eq!(
            decode(&n.ddata("d1", reading(8, 1.0), false, T0).expect("reborn")).seq,
            Some(3)
        );
        assert!(matches!(
            n.ddata("d2", reading(0, 1.0), false, T0),
            Err(CodecError::DeviceNotBorn { .. })
        ));
        assert_eq!(n.live_devices().collect::<Vec<_>>(), ["d1", "d3"]);
    }

    #[test]
    fn historical_flag_marks_every_metric_and_is_not_a_live_value() {
        let mut n = connected();
        n.nbirth(T0).expect("born");
        n.dbirth(&schema("d1"), T0).expect("born");
        let p = decode(&n.ddata("d1", reading(0, 20.0), true, T0).expect("born"));
        assert!(
            p.metrics.iter().all(|m| m.is_historical == Some(true)),
            "{p:?}"
        );
        assert_eq!(device_seq(&p), Some(0));
        let p = decode(&n.ddata("d1", reading(1, 21.0), false, T0).expect("born"));
        assert!(p.metrics.iter().all(|m| m.is_historical.is_none()), "{p:?}");
        n.ddata("d1", reading(2, 22.0), true, T0).expect("born");
        let births = n.rebirth(T0).expect("connected");
        let b = decode(&births[1]);
        assert_eq!(
            metric(&b, "temp/temperature_c").value,
            Some(MetricValue::FloatValue(21.0))
        );
    }

    #[test]
    fn births_come_first() {
        let mut n = EdgeNode::new("g", "e").expect("valid");
        assert!(matches!(n.nbirth(T0), Err(CodecError::NotConnected)));
        n.on_connect();
        let e = n.dbirth(&schema("d1"), T0).expect_err("no NBIRTH");
        assert_eq!(
            e.to_string(),
            "DBIRTH before NBIRTH in this MQTT session: after every CONNECT Sparkplug sends NBIRTH first"
        );
        n.nbirth(T0).expect("born");
        let e = n
            .ddata("d1", reading(0, 1.0), false, T0)
            .expect_err("no DBIRTH");
        assert!(matches!(e, CodecError::UnknownDevice { .. }), "{e}");
        n.dbirth(&schema("d1"), T0).expect("born");
        n.ddata("d1", reading(0, 1.0), false, T0).expect("born");
        // Connection lost: no data until rebirth; seq is not consumed by refusals.
        n.on_disconnect();
        let seq = n.next_seq();
        assert!(matches!(
            n.ddata("d1", reading(1, 1.0), false, T0),
            Err(CodecError::NodeNotBorn { .. })
        ));
        n.on_connect();
        n.nbirth(T0).expect("born");
        assert!(matches!(
            n.ddata("d1", reading(1, 1.0), false, T0),
            Err(CodecError::DeviceNotBorn { .. })
        ));
        assert_eq!(n.next_seq(), 1);
        assert!(seq > 1);
    }

    #[test]
    fn ddata_refuses_what_dbirth_did_not_declare() {
        let mut n = connected();
        n.nbirth(T0).expect("born");
        n.dbirth(&schema("d1"), T0).expect("born");
        let before = n.next_seq();
        let mut m = reading(0, 1.0);
        m.push(value_metric(
            "vib/x/rms_g".into(),
            T0,
            MetricValue::FloatValue(1.0),
        ));
        let e = n
            .ddata("d1", m, false, T0)
            .expect_err("undeclared")
            .to_string();
        assert_eq!(
            e,
            "metric `vib/x/rms_g` of device `d1` is not in its DBIRTH (a host would answer with a rebirth request)"
        );
        let mut m = reading(0, 1.0);
        m[1].value = Some(MetricValue::DoubleValue(1.0));
        let e = n
            .ddata("d1", m, false, T0)
            .expect_err("wrong type")
            .to_string();
        assert_eq!(
            e,
            "metric `temp/temperature_c` must carry a Float (9) value in float_value (12), found double_value (13)"
        );
        assert_eq!(n.next_seq(), before, "refused messages take no seq");
    }

    #[test]
    fn telemetry_goes_out_as_ddata_with_the_device_seq() {
        let sc = scenario();
        let mut n = EdgeNode::new("plant1", &sc.gateways[0].id).expect("valid");
        n.on_connect();
        n.nbirth(T0).expect("born");
        let schema = DeviceSchema::for_machine(&sc.machines[0]).expect("valid");
        let b = decode(&n.dbirth(&schema, T0).expect("born"));
        assert!(
            b.metrics
                .iter()
                .all(|m| m.datatype.is_some() && m.timestamp.is_some())
        );
        assert_eq!(b.metrics.len(), schema.metrics().len());
        let msg = pump_message(41);
        let d = n.telemetry(&sc, &msg, false, T0 + 7).expect("born");
        assert_eq!(d.topic, "spBv1.0/plant1/DDATA/gw1/pump01");
        let p = decode(&d);
        assert_eq!((p.seq, p.timestamp), (Some(2), Some(T0 + 7)));
        assert_eq!(device_seq(&p), Some(41));
        assert!(
            p.metrics
                .iter()
                .all(|m| m.datatype.is_none() && m.name.is_some() && m.alias.is_none())
        );
        // fan01 was never born.
        let mut fan = msg.clone();
        fan.machine = 1;
        fan.readings.clear();
        assert!(matches!(
            n.telemetry(&sc, &fan, false, T0),
            Err(CodecError::UnknownDevice { .. })
        ));
    }
}
