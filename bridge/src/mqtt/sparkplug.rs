//! Sparkplug B on an MQTT session: the glue between a [`Session`](super::session)
//! and the pure [`EdgeNode`] state machine.
//!
//! What is stored and what is sent differ. The outbox keeps a *template* per
//! telemetry message: a DDATA payload with the metrics (acquisition-time
//! timestamps, values) but no `seq`, no send time and no historical flag,
//! because those belong to the moment of sending: `seq` counts what this edge
//! node has put on the wire since its last NBIRTH, and a message drained from
//! the store-and-forward buffer after an outage is historical. The session
//! turns a template into a DDATA just before writing it ([`SparkplugLink::data`]).
//!
//! A message is *historical* when it was offered before the session last
//! became able to send (connected and not held): everything buffered through
//! an outage, and everything resent after a lost connection. Sparkplug edge
//! nodes use clean sessions (SP3.0 tck-id-principles-persistence-clean-session-311),
//! so every reconnect births again and resends what was not acknowledged.

use std::collections::BTreeMap;

use prost::Message as _;
use rumqttc::LastWill;

use fabtwin_sim::scenario::Scenario;
use fabtwin_sim::telemetry::Telemetry;

use super::outbox::OutRecord;
use super::qos;
use crate::codec::sparkplug::proto::Payload;
use crate::codec::sparkplug::topic::{MessageType, Topic};
use crate::codec::sparkplug::{
    CodecError, DeviceSchema, EdgeNode, Publish, decode_command, decode_payload,
    metrics::telemetry_metrics,
};

/// One session's Sparkplug edge node and the devices it births.
#[derive(Clone, Debug)]
pub struct SparkplugLink {
    node: EdgeNode,
    devices: Vec<DeviceSchema>,
    /// Device index (machine) → Sparkplug device id.
    names: BTreeMap<usize, String>,
    ncmd: String,
    /// Templates offered up to this sim time (ns) are historical when sent.
    historical_upto: Option<u64>,
    last_offered: Option<u64>,
}

impl SparkplugLink {
    /// Edge node `edge` in group `group`, with one device per `(index, schema)`.
    pub fn new(
        group: &str,
        edge: &str,
        devices: Vec<(usize, DeviceSchema)>,
    ) -> Result<SparkplugLink, CodecError> {
        let node = EdgeNode::new(group, edge)?;
        let ncmd = Topic::node(group, MessageType::NCmd, edge)?.to_string();
        let names = devices
            .iter()
            .map(|(i, s)| (*i, s.device().to_string()))
            .collect();
        Ok(SparkplugLink {
            node,
            devices: devices.into_iter().map(|(_, s)| s).collect(),
            names,
            ncmd,
            historical_upto: None,
            last_offered: None,
        })
    }

    /// The stored form of one telemetry message: its DDATA topic and a
    /// template payload (see the module docs).
    pub fn template(
        scenario: &Scenario,
        group: &str,
        edge: &str,
        m: &Telemetry,
    ) -> Result<(String, Vec<u8>), CodecError> {
        let device = &scenario.machines[m.machine].id;
        let topic = Topic::device(group, MessageType::DData, edge, device)?.to_string();
        let payload = Payload {
            metrics: telemetry_metrics(scenario, m)?,
            ..Default::default()
        };
        Ok((topic, payload.encode_to_vec()))
    }

    /// The node's command topic (NCMD), to subscribe to before NBIRTH.
    pub fn ncmd_topic(&self) -> &str {
        &self.ncmd
    }

    /// Call before every MQTT CONNECT (the first included): the will (NDEATH)
    /// to register with it, carrying this connection's `bdSeq`.
    pub fn before_connect(&mut self) -> LastWill {
        self.node.on_connect();
        let will = self.node.will();
        LastWill::new(will.topic, will.payload, qos(will.qos), will.retain)
    }

    /// The connection is gone: no DATA until the next births.
    pub fn on_disconnect(&mut self) {
        self.node.on_disconnect();
    }

    /// NBIRTH and a DBIRTH per device, after CONNACK and the NCMD subscription.
    pub fn births(&mut self, now_ms: u64) -> Result<Vec<Publish>, CodecError> {
        let mut out = vec![self.node.nbirth(now_ms)?];
        for d in &self.devices {
            out.push(self.node.dbirth(d, now_ms)?);
        }
        Ok(out)
    }

    /// A telemetry message of sim time `t_ns` entered the outbox.
    pub fn offered(&mut self, t_ns: u64) {
        self.last_offered = Some(self.last_offered.map_or(t_ns, |l| l.max(t_ns)));
    }

    /// The session became able to send: what was offered so far is history.
    pub fn sending_resumed(&mut self) {
        self.historical_upto = self.last_offered;
    }

    /// The DDATA to write for a stored template, sent at `now_ms`.
    pub fn data(&mut self, r: &OutRecord, now_ms: u64) -> Result<Publish, CodecError> {
        let device = self
            .names
            .get(&r.device)
            .ok_or_else(|| CodecError::UnknownDevice {
                device: format!("#{}", r.device),
            })?;
        let template = decode_payload(&r.payload)?;
        let historical = self.historical_upto.is_some_and(|h| r.t_ns <= h);
        self.node
            .ddata(device, template.metrics, historical, now_ms)
    }

    /// Handles a message on a subscribed topic: an NCMD asking for a rebirth
    /// gives the births to publish; other NCMD metrics are refused with an
    /// error; `None` when the topic is not this node's NCMD.
    pub fn command(
        &mut self,
        topic: &str,
        payload: &[u8],
        now_ms: u64,
    ) -> Option<Result<Vec<Publish>, CodecError>> {
        if topic != self.ncmd {
            return None;
        }
        Some(decode_command(payload).and_then(|c| {
            if c.is_rebirth() {
                self.node.rebirth(now_ms)
            } else {
                Ok(Vec::new())
            }
        }))
    }

    /// The NDEATH to publish before a deliberate disconnect.
    pub fn death(&self) -> Publish {
        self.node.will()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::sparkplug::metrics::tests::{pump_message, scenario};
    use crate::codec::sparkplug::proto::{DataType, Metric, MetricValue};
    use crate::codec::sparkplug::{device_seq, metrics::REBIRTH_METRIC};

    fn link() -> (Scenario, SparkplugLink) {
        let sc = scenario();
        let schema = DeviceSchema::for_machine(&sc.machines[0]).unwrap();
        let link = SparkplugLink::new("plant1", "gw1", vec![(0, schema)]).unwrap();
        (sc, link)
    }

    fn record(sc: &Scenario, seq: u64) -> OutRecord {
        let m = pump_message(seq);
        let (topic, payload) = SparkplugLink::template(sc, "plant1", "gw1", &m).unwrap();
        OutRecord {
            id: seq,
            device: 0,
            seq,
            t_ns: m.t.0,
            topic,
            payload,
        }
    }

    fn rebirth_request() -> Vec<u8> {
        Payload {
            metrics: vec![Metric {
                name: Some(REBIRTH_METRIC.into()),
                datatype: Some(DataType::Boolean.number()),
                value: Some(MetricValue::BooleanValue(true)),
                ..Default::default()
            }],
            ..Default::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn templates_become_ddata_with_send_time_seq_and_history_after_an_outage() {
        let (sc, mut l) = link();
        let will = l.before_connect();
        assert_eq!(will.topic, "spBv1.0/plant1/NDEATH/gw1");
        let births = l.births(1_000).unwrap();
        assert_eq!(births.len(), 2, "NBIRTH and one DBIRTH");
        l.offered(record(&sc, 0).t_ns);
        // Offered before the session could send: it drains from the buffer.
        l.sending_resumed();
        let first = l.data(&record(&sc, 0), 2_000).unwrap();
        let p = decode_payload(&first.payload).unwrap();
        assert_eq!(first.topic, "spBv1.0/plant1/DDATA/gw1/pump01");
        assert_eq!((p.seq, p.timestamp), (Some(2), Some(2_000)));
        assert_eq!(device_seq(&p), Some(0));
        assert!(p.metrics.iter().all(|m| m.is_historical == Some(true)));
        // Offered while sending: live.
        let r1 = record(&sc, 1);
        l.offered(r1.t_ns);
        let p = decode_payload(&l.data(&r1, 3_000).unwrap().payload).unwrap();
        assert_eq!(p.seq, Some(3));
        assert!(p.metrics.iter().all(|m| m.is_historical.is_none()));
        // The connection drops: the next CONNECT's will carries bdSeq 1, DATA waits for births.
        l.on_disconnect();
        assert!(
            l.data(&record(&sc, 2), 4_000).is_err(),
            "no DDATA before the new NBIRTH"
        );
        let will = l.before_connect();
        let bd = decode_payload(&will.message).unwrap().metrics[0]
            .value
            .clone();
        assert_eq!(bd, Some(MetricValue::LongValue(1)));
        let births = l.births(5_000).unwrap();
        assert_eq!(decode_payload(&births[0].payload).unwrap().seq, Some(0));
    }

    #[test]
    fn ncmd_rebirth_births_again_with_the_same_bd_seq_and_other_topics_pass_through() {
        let (sc, mut l) = link();
        l.before_connect();
        l.births(1_000).unwrap();
        let _ = l.data(&record(&sc, 0), 1_500).unwrap();
        assert!(
            l.command("fabtwin/plant1/gw1/pump01/cmd", b"{}", 2_000)
                .is_none()
        );
        let again = l.command(
            l.ncmd_topic().to_string().as_str(),
            &rebirth_request(),
            2_000,
        );
        let births = again.unwrap().unwrap();
        assert_eq!(births.len(), 2);
        let nbirth = decode_payload(&births[0].payload).unwrap();
        assert_eq!(nbirth.seq, Some(0), "a rebirth restarts seq");
        assert!(
            nbirth
                .metrics
                .iter()
                .any(|m| m.name.as_deref() == Some("bdSeq")
                    && m.value == Some(MetricValue::LongValue(0)))
        );
        let bad = l.command(l.ncmd_topic().to_string().as_str(), b"\xff\xff", 2_100);
        assert!(
            bad.unwrap().is_err(),
            "a malformed NCMD is refused, not obeyed"
        );
    }
}
