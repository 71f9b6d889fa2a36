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
use super::session::qos;
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
