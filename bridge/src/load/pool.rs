//! The fleet a load run drives: device identities, topics, and a pool of real
//! telemetry payloads per template machine, made by the simulation at feature
//! fidelity and encoded by the JSON codec.
//!
//! A payload is stored without its device id, sequence number and send stamp,
//! so one pool serves every device built from the same machine and a send only
//! splices three short fields in: `{"device":"ID","seq":N` + tail + `,"sent_ns":T}`.
//!
//! With [`Codec::Sparkplug`] each device is a Sparkplug B edge node (group: the
//! machine's site, edge node and device id: the device id) and a pool entry is
//! the protobuf encoding of a `Payload` holding only the telemetry metrics
//! (status and readings, from [`telemetry_metrics`]). A send prepends a small
//! [`SparkplugStamp`] payload (payload `timestamp`, the node's `seq`,
//! `fabtwin/seq` and `fabtwin/sent_ns`); protobuf merges concatenated messages,
//! so the two parts read as one `Payload` whose metrics start with the stamps.

use fabtwin_sim::device::Fidelity;
use fabtwin_sim::scenario::Scenario;
use fabtwin_sim::world::World;

use prost::Message as _;

use crate::codec::json;
use crate::codec::sparkplug::metrics::{SEQ_METRIC, telemetry_metrics};
use crate::codec::sparkplug::proto::{DataType, Metric, MetricValue, Payload};
use crate::codec::sparkplug::{
    DeviceSchema, MessageType, MetricDef, Topic, decode_payload, device_seq,
};
use crate::topics::Topics;

/// The DDATA metric carrying a message's scheduled send time, ns since the
/// Unix epoch (UInt64), for end-to-end latency finer than Sparkplug's ms.
pub const SENT_NS_METRIC: &str = "fabtwin/sent_ns";

/// The payload encoding a load run speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Codec {
    /// fabtwin's JSON telemetry on `{root}/{site}/{gateway}/{device}/telemetry`.
    #[default]
    Json,
    /// Sparkplug B: an edge node per session with one device, DDATA telemetry.
    Sparkplug,
}

impl Codec {
    /// The name a report carries.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Json => "json",
            Codec::Sparkplug => "sparkplug",
        }
    }
}

/// Steps the pool builder may take before giving up on a silent machine.
const MAX_STEPS: usize = 2_000_000;

pub use crate::shard::Shard;

/// One simulated device this process drives.
#[derive(Clone, Debug)]
pub struct Device {
    /// Index in the whole fleet (stable across shards).
    pub index: u64,
    /// Device id (in the payload and the topic).
    pub id: String,
    /// Telemetry topic (Sparkplug: the device's DDATA topic).
    pub topic: String,
    /// JSON: `{"device":"ID","seq":` — the payload up to the sequence number
    /// (empty for Sparkplug).
    pub head: Vec<u8>,
    /// Sparkplug: the edge node's group and id and the device's schema (its
    /// telemetry metrics plus `fabtwin/sent_ns`), for the births.
    pub sparkplug: Option<(String, String, DeviceSchema)>,
    /// Which pool its payloads come from.
    pub pool: usize,
}

/// The devices of one shard and their payload pools.
#[derive(Clone, Debug)]
pub struct Fleet {
    /// Devices of this shard, in fleet order.
    pub devices: Vec<Device>,
    /// Devices in the whole fleet (all shards).
    pub fleet_size: u64,
    /// Per template machine: JSON payload tails (after the sequence number,
    /// without the closing brace), or encoded Sparkplug metric payloads.
    pub pools: Vec<Vec<Vec<u8>>>,
    /// The payload encoding.
    pub codec: Codec,
}

/// Why a fleet could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// The template has no machines.
    #[error("the template scenario `{0}` has no machines")]
    NoMachines(String),
    /// A machine never published within the scenario.
    #[error(
        "machine `{0}` publishes no telemetry within its scenario's duration: give it a gateway and a duration longer than its publish interval"
    )]
    Silent(String),
    /// The JSON codec's layout was not the one this module splices into.
    #[error("unexpected telemetry layout for `{0}`: expected it to start with device and seq")]
    Layout(String),
    /// An id Sparkplug cannot carry, or telemetry it cannot encode.
    #[error("Sparkplug B: {0}")]
    Sparkplug(#[from] crate::codec::sparkplug::CodecError),
}

impl Fleet {
    /// Builds the fleet: `devices` devices (None: one per scenario machine,
    /// with the machines' own ids) cycling over the scenario's machines, keeping
    /// those of `shard`, with up to `pool` payloads per machine.
    pub fn build(
        scenario: &Scenario,
        topics: &Topics,
        devices: Option<u64>,
        shard: Shard,
        pool: usize,
        codec: Codec,
    ) -> Result<Fleet, FleetError> {
        let machines = scenario.machines.len();
        if machines == 0 {
            return Err(FleetError::NoMachines(scenario.name.clone()));
        }
        let pools = pools(scenario, topics, pool.max(1), codec)?;
        let fleet_size = devices.unwrap_or(machines as u64);
        let mut out = Vec::new();
        for d in (u64::from(shard.index)..fleet_size).step_by(shard.count as usize) {
            let m = (d % machines as u64) as usize;
            let machine = &scenario.machines[m];
            let id = match devices {
                None => machine.id.clone(),
                Some(_) => format!("{}-{d:06}", machine.id),
            };
            let (topic, head, sparkplug) = match codec {
                Codec::Json => {
                    let gateway = &scenario.gateways[machine.gateway].id;
                    let quoted = serde_json::to_string(&id).expect("a string serialises");
                    (
                        topics.telemetry(&machine.site, gateway, &id),
                        format!("{{\"device\":{quoted},\"seq\":").into_bytes(),
                        None,
                    )
                }
                Codec::Sparkplug => {
                    let topic =
                        Topic::device(&machine.site, MessageType::DData, &id, &id)?.to_string();
                    let mut defs = DeviceSchema::for_machine(machine)?.metrics().to_vec();
                    defs.push(MetricDef::new(SENT_NS_METRIC, DataType::UInt64));
                    let schema = DeviceSchema::new(&id, defs)?;
                    (
                        topic,
                        Vec::new(),
                        Some((machine.site.clone(), id.clone(), schema)),
                    )
                }
            };
            out.push(Device {
                index: d,
                id,
                topic,
                head,
                sparkplug,
                pool: m,
            });
        }
        Ok(Fleet {
            devices: out,
            fleet_size,
            pools,
            codec,
        })
    }

    /// Mean payload size in bytes over the pools (with a typical stamp).
    pub fn mean_payload_bytes(&self) -> f64 {
        let (mut sum, mut n) = (0usize, 0usize);
        for d in &self.devices {
            let p = &self.pools[d.pool];
            let tails: usize = p.iter().map(|t| t.len()).sum();
            let extra = match self.codec {
                Codec::Json => d.head.len() + 3 + STAMP.len() + 19 + 1,
                Codec::Sparkplug => {
                    let mut st = SparkplugStamp::new();
                    st.set(1_767_225_600_000_000_000, 100, 1000);
                    st.encoded_len()
                }
            };
            sum += tails + p.len() * extra;
            n += p.len();
        }
        if n == 0 { 0.0 } else { sum as f64 / n as f64 }
    }
}

/// The key of the send stamp spliced into every payload.
pub const STAMP: &[u8] = b",\"sent_ns\":";

/// Writes a device's `k`-th payload (sequence `seq`, stamp `sent_ns`) into `out`.
pub fn write_payload(out: &mut Vec<u8>, head: &[u8], tail: &[u8], seq: u64, sent_ns: u64) {
    out.extend_from_slice(head);
    push_u64(out, seq);
    out.extend_from_slice(tail);
    out.extend_from_slice(STAMP);
    push_u64(out, sent_ns);
    out.push(b'}');
}

/// Length of [`write_payload`]'s output.
pub fn payload_len(head: &[u8], tail: &[u8], seq: u64, sent_ns: u64) -> usize {
    head.len() + digits(seq) + tail.len() + STAMP.len() + digits(sent_ns) + 1
}

/// Decimal digits of `v`.
pub fn digits(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

/// Appends `v` in decimal.
pub fn push_u64(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// The per-send part of a Sparkplug DDATA: payload `timestamp` (ms), the edge
/// node's `seq`, and the metrics `fabtwin/seq` and `fabtwin/sent_ns`. One is
/// kept per session and re-stamped for every message, so a send allocates
/// nothing; prost encodes it in front of the pooled metrics.
#[derive(Clone, Debug)]
pub struct SparkplugStamp {
    payload: Payload,
}

impl Default for SparkplugStamp {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkplugStamp {
    /// A stamp with zero values.
    pub fn new() -> SparkplugStamp {
        let metric = |name: &str| Metric {
            name: Some(name.to_string()),
            timestamp: Some(0),
            value: Some(MetricValue::LongValue(0)),
            ..Default::default()
        };
        SparkplugStamp {
            payload: Payload {
                timestamp: Some(0),
                seq: Some(0),
                metrics: vec![metric(SEQ_METRIC), metric(SENT_NS_METRIC)],
                ..Default::default()
            },
        }
    }

    /// Stamps send time `sent_ns` (ns since the Unix epoch), node `seq` and
    /// device sequence number `device_seq`.
    pub fn set(&mut self, sent_ns: u64, seq: u8, device_seq: u64) {
        let ms = sent_ns / 1_000_000;
        let p = &mut self.payload;
        p.timestamp = Some(ms);
        p.seq = Some(u64::from(seq));
        p.metrics[0].timestamp = Some(ms);
        p.metrics[0].value = Some(MetricValue::LongValue(device_seq));
        p.metrics[1].timestamp = Some(ms);
        p.metrics[1].value = Some(MetricValue::LongValue(sent_ns));
    }

    /// Encoded length.
    pub fn encoded_len(&self) -> usize {
        self.payload.encoded_len()
    }

    /// Appends the encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.payload
            .encode(out)
            .expect("a Vec grows to fit the payload");
    }
}

/// Reads `fabtwin/seq` and `fabtwin/sent_ns` back from a Sparkplug DDATA.
pub fn parse_sparkplug_stamps(payload: &[u8]) -> Option<(u64, u64)> {
    let p = decode_payload(payload).ok()?;
    let seq = device_seq(&p)?;
    let sent = p.metrics.iter().find_map(|m| match (&m.name, &m.value) {
        (Some(n), Some(MetricValue::LongValue(v))) if n == SENT_NS_METRIC => Some(*v),
        _ => None,
    })?;
    Some((seq, sent))
}

fn pools(
    scenario: &Scenario,
    topics: &Topics,
    pool: usize,
    codec: Codec,
) -> Result<Vec<Vec<Vec<u8>>>, FleetError> {
    let machines = scenario.machines.len();
    let mut pools: Vec<Vec<Vec<u8>>> = vec![Vec::new(); machines];
    let mut world = World::new(scenario.clone(), Fidelity::Features);
    let mut full = 0;
    let mut steps = 0;
    while full < machines && steps < MAX_STEPS {
        let Some(step) = world.step() else { break };
        steps += 1;
        for t in &step.telemetry {
            let p = &mut pools[t.machine];
            if p.len() >= pool {
                continue;
            }
            match codec {
                Codec::Json => {
                    let msg = json::telemetry(scenario, topics, t);
                    p.push(tail(&msg.payload).ok_or_else(|| {
                        FleetError::Layout(scenario.machines[t.machine].id.clone())
                    })?);
                }
                Codec::Sparkplug => {
                    let mut metrics = telemetry_metrics(scenario, t)?;
                    // The stamp carries `fabtwin/seq`; the pool keeps the rest.
                    metrics.retain(|m| m.name.as_deref() != Some(SEQ_METRIC));
                    let payload = Payload {
                        metrics,
                        ..Default::default()
                    };
                    p.push(payload.encode_to_vec());
                }
            }
            if p.len() == pool {
                full += 1;
            }
        }
    }
    for (m, p) in pools.iter().enumerate() {
        if p.is_empty() {
            return Err(FleetError::Silent(scenario.machines[m].id.clone()));
        }
    }
    Ok(pools)
}

/// The payload after its `seq` value, without the closing brace.
fn tail(payload: &[u8]) -> Option<Vec<u8>> {
    if !payload.starts_with(b"{\"device\":") || payload.last() != Some(&b'}') {
        return None;
    }
    let key = b",\"seq\":";
    let at = payload.windows(key.len()).position(|w| w == key)? + key.len();
    let end = at
        + payload[at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    Some(payload[end..payload.len() - 1].to_vec())
}

/// Reads `seq` and `sent_ns` back from a payload written by [`write_payload`].
pub fn parse_stamps(payload: &[u8]) -> Option<(u64, u64)> {
    let key = b",\"seq\":";
    let at = payload.windows(key.len()).position(|w| w == key)? + key.len();
    let seq = read_u64(&payload[at..])?;
    let s = payload.len().checked_sub(1)?;
    let from = payload[..s].iter().rposition(|b| !b.is_ascii_digit())? + 1;
    if !payload[..from].ends_with(STAMP) {
        return None;
    }
    let sent = read_u64(&payload[from..s])?;
    Some((seq, sent))
}

fn read_u64(b: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    let mut n = 0;
    for &c in b.iter().take_while(|c| c.is_ascii_digit()) {
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
        n += 1;
    }
    (n > 0).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::sparkplug::EdgeNode;

    #[test]
    fn payloads_splice_and_parse_back_as_json() {
        let head = br#"{"device":"pump01-000007","seq":"#;
        let tail = br#","ts":"2026-01-01T00:00:00Z","readings":[]"#;
        let mut out = Vec::new();
        write_payload(&mut out, head, tail, 1234, 98_765_432_100);
        assert_eq!(out.len(), payload_len(head, tail, 1234, 98_765_432_100));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["device"], "pump01-000007");
        assert_eq!(v["seq"], 1234);
        assert_eq!(v["sent_ns"], 98_765_432_100u64);
        assert_eq!(parse_stamps(&out), Some((1234, 98_765_432_100)));
        assert_eq!(parse_stamps(b"{}"), None);
        for v in [0u64, 9, 10, 99, 100, u64::MAX] {
            let mut s = Vec::new();
            push_u64(&mut s, v);
            assert_eq!(s, v.to_string().into_bytes());
            assert_eq!(digits(v), s.len());
        }
    }

    const TEMPLATE: &str = r#"Scenario(name: "t", seed: 3, duration: "2h", acquisition: (interval: "1m"),
        sites: [(id: "s", lines: [(id: "l", machines: [
            (id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "t", part: "STTS22H", odr_hz: 1)]),
            (id: "m2", kind: Pump, rated_speed_rpm: 2950, sensors: [(id: "v", part: "IIS3DWB")]),
        ])])],
        gateways: [(id: "g", machines: ["m1", "m2"])],
    )"#;

    #[test]
    fn fleets_are_deterministic_real_and_sharded() {
        let sc = fabtwin_sim::scenario::from_str(TEMPLATE, "t.ron").unwrap();
        let topics = Topics::default();
        let a = Fleet::build(&sc, &topics, Some(10), Shard::ALL, 8, Codec::Json).unwrap();
        let b = Fleet::build(&sc, &topics, Some(10), Shard::ALL, 8, Codec::Json).unwrap();
        assert_eq!(a.pools, b.pools, "same scenario and seed, same payloads");
        assert_eq!(a.devices.len(), 10);
        assert_eq!(a.devices[3].id, "m2-000003");
        assert_eq!(a.devices[3].topic, "fabtwin/s/g/m2-000003/telemetry");
        for pool in &a.pools {
            assert_eq!(pool.len(), 8);
            // Values change from message to message: no two payloads alike.
            let mut distinct = pool.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), 8);
        }
        let mut out = Vec::new();
        write_payload(&mut out, &a.devices[3].head, &a.pools[1][0], 5, 77);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["device"], "m2-000003");
        assert!(v["readings"][0]["axes"].is_array(), "{v}");
        let s1 = Fleet::build(
            &sc,
            &topics,
            Some(10),
            Shard { index: 1, count: 3 },
            2,
            Codec::Json,
        )
        .unwrap();
        let idx: Vec<u64> = s1.devices.iter().map(|d| d.index).collect();
        assert_eq!(idx, vec![1, 4, 7]);
        let own = Fleet::build(&sc, &topics, None, Shard::ALL, 2, Codec::Json).unwrap();
        assert_eq!(own.devices[0].id, "m1");
    }

    #[test]
    fn sparkplug_ddata_is_the_edge_nodes_own_with_stamps() {
        let sc = fabtwin_sim::scenario::from_str(TEMPLATE, "t.ron").unwrap();
        let topics = Topics::default();
        let f = Fleet::build(&sc, &topics, Some(4), Shard::ALL, 4, Codec::Sparkplug).unwrap();
        let d = &f.devices[1];
        assert_eq!(d.topic, "spBv1.0/s/DDATA/m2-000001/m2-000001");
        let (group, edge, schema) = d.sparkplug.clone().unwrap();
        // The edge node births the device, then builds a DDATA from the same metrics.
        let mut node = EdgeNode::new(&group, &edge).unwrap();
        node.on_connect();
        node.nbirth(5).unwrap();
        let dbirth = decode_payload(&node.dbirth(&schema, 5).unwrap().payload).unwrap();
        assert!(
            dbirth
                .metrics
                .iter()
                .any(|m| m.name.as_deref() == Some(SENT_NS_METRIC))
        );
        let tail = &f.pools[d.pool][2];
        let mut stamp = SparkplugStamp::new();
        let sent_ns = 1_767_225_600_123_456_789;
        stamp.set(sent_ns, 2, 77);
        let mut ours = Vec::new();
        stamp.encode(&mut ours);
        ours.extend_from_slice(tail);
        assert_eq!(ours.len(), stamp.encoded_len() + tail.len());
        let mut metrics = decode_payload(&ours).unwrap().metrics;
        for m in &mut metrics[..2] {
            m.timestamp = Some(sent_ns / 1_000_000);
        }
        let theirs = node
            .ddata(&edge, metrics, false, sent_ns / 1_000_000)
            .unwrap();
        assert_eq!(
            decode_payload(&theirs.payload).unwrap(),
            decode_payload(&ours).unwrap()
        );
        assert_eq!(parse_sparkplug_stamps(&ours), Some((77, sent_ns)));
        assert_eq!(decode_payload(&ours).unwrap().seq, Some(2));
        // Pools hold real, varying telemetry and no `fabtwin/seq` of their own.
        let p0 = decode_payload(&f.pools[d.pool][0]).unwrap();
        assert!(p0.metrics.len() > 3);
        assert!(device_seq(&p0).is_none());
        assert_ne!(f.pools[d.pool][0], f.pools[d.pool][1]);
        assert_eq!(parse_sparkplug_stamps(b"{}"), None);
    }

    #[test]
    fn tail_cuts_after_seq() {
        let t = tail(br#"{"device":"a","seq":17,"ts":"x"}"#).unwrap();
        assert_eq!(t, br#","ts":"x""#.to_vec());
        assert!(tail(b"[1]").is_none());
    }
}
