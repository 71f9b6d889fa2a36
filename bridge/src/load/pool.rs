//! The fleet a load run drives: device identities, topics, and a pool of real
//! telemetry payloads per template machine, made by the simulation at feature
//! fidelity and encoded by the JSON codec.
//!
//! A payload is stored without its device id, sequence number and send stamp,
//! so one pool serves every device built from the same machine and a send only
//! splices three short fields in: `{"device":"ID","seq":N` + tail + `,"sent_ns":T}`.

use fabtwin_sim::device::Fidelity;
use fabtwin_sim::scenario::Scenario;
use fabtwin_sim::world::World;

use crate::codec::json;
use crate::topics::Topics;

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
    /// Telemetry topic.
    pub topic: String,
    /// `{"device":"ID","seq":` — the payload up to the sequence number.
    pub head: Vec<u8>,
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
    /// Per template machine: payload tails (after the sequence number, without the closing brace).
    pub pools: Vec<Vec<Vec<u8>>>,
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
    ) -> Result<Fleet, FleetError> {
        let machines = scenario.machines.len();
        if machines == 0 {
            return Err(FleetError::NoMachines(scenario.name.clone()));
        }
        let pools = pools(scenario, topics, pool.max(1))?;
        let fleet_size = devices.unwrap_or(machines as u64);
        let mut out = Vec::new();
        for d in (u64::from(shard.index)..fleet_size).step_by(shard.count as usize) {
            let m = (d % machines as u64) as usize;
            let machine = &scenario.machines[m];
            let id = match devices {
                None => machine.id.clone(),
                Some(_) => format!("{}-{d:06}", machine.id),
            };
            let gateway = &scenario.gateways[machine.gateway].id;
            let topic = topics.telemetry(&machine.site, gateway, &id);
            let quoted = serde_json::to_string(&id).expect("a string serialises");
            let head = format!("{{\"device\":{quoted},\"seq\":").into_bytes();
            out.push(Device {
                index: d,
                id,
                topic,
                head,
                pool: m,
            });
        }
        Ok(Fleet {
            devices: out,
            fleet_size,
            pools,
        })
    }

    /// Mean payload size in bytes over the pools (with a typical stamp).
    pub fn mean_payload_bytes(&self) -> f64 {
        let (mut sum, mut n) = (0usize, 0usize);
        for d in &self.devices {
            let p = &self.pools[d.pool];
            let tails: usize = p.iter().map(|t| t.len()).sum();
            sum += tails + p.len() * (d.head.len() + 3 + STAMP.len() + 19 + 1);
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

fn pools(
    scenario: &Scenario,
    topics: &Topics,
    pool: usize,
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
            let msg = json::telemetry(scenario, topics, t);
            p.push(
                tail(&msg.payload)
                    .ok_or_else(|| FleetError::Layout(scenario.machines[t.machine].id.clone()))?,
            );
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
        let a = Fleet::build(&sc, &topics, Some(10), Shard::ALL, 8).unwrap();
        let b = Fleet::build(&sc, &topics, Some(10), Shard::ALL, 8).unwrap();
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
        let s1 = Fleet::build(&sc, &topics, Some(10), Shard { index: 1, count: 3 }, 2).unwrap();
        let idx: Vec<u64> = s1.devices.iter().map(|d| d.index).collect();
        assert_eq!(idx, vec![1, 4, 7]);
        let own = Fleet::build(&sc, &topics, None, Shard::ALL, 2).unwrap();
        assert_eq!(own.devices[0].id, "m1");
    }

    #[test]
    fn tail_cuts_after_seq() {
        let t = tail(br#"{"device":"a","seq":17,"ts":"x"}"#).unwrap();
        assert_eq!(t, br#","ts":"x""#.to_vec());
        assert!(tail(b"[1]").is_none());
    }
}
