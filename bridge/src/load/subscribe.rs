//! Subscribers: exact per-device accounting (distinct, duplicates, reordering)
//! and end-to-end latency from each message's scheduled send stamp.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use bytes::BytesMut;
use hdrhistogram::Histogram;
use rumqttc::mqttbytes::v4::{Packet, SubscribeReasonCode};
use tokio::time::{Instant, timeout_at};

use super::pool::{Codec, parse_sparkplug_stamps, parse_stamps};
use super::report;
use super::state::{Shared, open, unix_ns};
use super::wire;

/// Exact per-device accounting from sequence numbers.
#[derive(Debug, Default)]
pub(super) struct Track {
    seen: Vec<u64>,
    pub(super) distinct: u64,
    pub(super) duplicates: u64,
    pub(super) reordered: u64,
    max: Option<u64>,
}

impl Track {
    fn on(&mut self, seq: u64) {
        let w = (seq / 64) as usize;
        if w >= self.seen.len() {
            self.seen.resize(w + 1, 0);
        }
        let bit = 1u64 << (seq % 64);
        if self.seen[w] & bit != 0 {
            self.duplicates += 1;
            return;
        }
        self.seen[w] |= bit;
        self.distinct += 1;
        if self.max.is_some_and(|m| seq < m) {
            self.reordered += 1;
        }
        self.max = Some(self.max.map_or(seq, |m| m.max(seq)));
    }
}

pub(super) struct SubResult {
    pub(super) received: u64,
    pub(super) hist: Histogram<u64>,
    pub(super) tracks: Vec<(usize, Track)>,
    pub(super) lost: Option<String>,
    pub(super) last_recv: Option<Instant>,
}

/// One subscriber: its share of the devices' telemetry topics, every message
/// accounted for by sequence number, latency from the scheduled send stamp.
pub(super) async fn subscriber(
    k: usize,
    devices: Vec<usize>,
    shared: Arc<Shared>,
    ready: tokio::sync::oneshot::Sender<Result<(), String>>,
) -> SubResult {
    let s = &shared.s;
    let fleet = &shared.fleet;
    let mut res = SubResult {
        received: 0,
        hist: report::histogram(),
        tracks: devices.iter().map(|&i| (i, Track::default())).collect(),
        lost: None,
        last_recv: None,
    };
    let by_topic: HashMap<&str, usize> = devices
        .iter()
        .enumerate()
        .map(|(slot, &i)| (fleet.devices[i].topic.as_str(), slot))
        .collect();
    let mut rbuf = BytesMut::new();
    let id = format!("{}-sub{}-{}", s.client_prefix, s.shard.index, k);
    let mut stream = match open(&shared, k, &id, None, &mut rbuf).await {
        Ok(st) => st,
        Err(e) => {
            let _ = ready.send(Err(e));
            return res;
        }
    };
    // Explicit topics, so shards of one run never count each other's messages.
    let topics: Vec<String> = devices
        .iter()
        .map(|&i| fleet.devices[i].topic.clone())
        .collect();
    let mut out = BytesMut::new();
    let chunks: Vec<&[String]> = topics.chunks(100).collect();
    for (c, chunk) in chunks.iter().enumerate() {
        wire::subscribe(&mut out, (c + 1) as u16, chunk, s.qos);
    }
    let deadline = Instant::now() + s.connect_timeout;
    if let Err(e) = stream.send(&out).await {
        let _ = ready.send(Err(wire::io_reason(&e, "SUBSCRIBE")));
        return res;
    }
    let mut acked = 0;
    let mut refused = false;
    let mut early: Vec<rumqttc::mqttbytes::v4::Publish> = Vec::new();
    while acked < chunks.len() {
        rbuf.reserve(4096);
        match timeout_at(deadline, stream.read_buf(&mut rbuf)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => {
                let _ = ready.send(Err("SUBSCRIBE: no SUBACK".into()));
                return res;
            }
        }
        let r = wire::read_packets(&mut rbuf, |p| match p {
            Packet::SubAck(a) => {
                acked += 1;
                refused |= a
                    .return_codes
                    .iter()
                    .any(|c| matches!(c, SubscribeReasonCode::Failure));
            }
            Packet::Publish(p) => early.push(p),
            _ => {}
        });
        if let Err(e) = r {
            let _ = ready.send(Err(e));
            return res;
        }
    }
    if refused {
        let _ = ready.send(Err("SUBSCRIBE refused by broker".into()));
        return res;
    }
    let _ = ready.send(Ok(()));
    let mut stop = shared.stop.clone();
    let mut acks: Vec<u8> = Vec::new();
    let mut last_p99 = Instant::now();
    // Subscriptions name the devices' telemetry (Sparkplug: DDATA) topics only,
    // so births and deaths never arrive here.
    let stamps = match fleet.codec {
        Codec::Json => parse_stamps,
        Codec::Sparkplug => parse_sparkplug_stamps,
    };
    let handle = |p: rumqttc::mqttbytes::v4::Publish, res: &mut SubResult, acks: &mut Vec<u8>| {
        let now = unix_ns();
        if p.pkid != 0 {
            wire::puback(acks, p.pkid);
        }
        res.received += 1;
        if let (Some(&slot), Some((seq, sent))) =
            (by_topic.get(p.topic.as_str()), stamps(&p.payload))
        {
            res.hist
                .saturating_record(now.saturating_sub(sent).clamp(1, report::MAX_NS));
            let t = &mut res.tracks[slot].1;
            let before = t.distinct;
            t.on(seq);
            shared.live.distinct.fetch_add(t.distinct - before, Relaxed);
        }
    };
    for p in early.drain(..) {
        handle(p, &mut res, &mut acks);
    }
    loop {
        if !acks.is_empty() {
            if let Err(e) = stream.send(&acks).await {
                res.lost = Some(wire::io_reason(&e, "acking"));
                break;
            }
            acks.clear();
        }
        if *stop.borrow() {
            break;
        }
        rbuf.reserve(64 * 1024);
        tokio::select! {
            _ = stop.changed() => break,
            r = stream.read_buf(&mut rbuf) => match r {
                Ok(0) => { res.lost = Some("closed by broker".into()); break; }
                Err(e) => { res.lost = Some(wire::io_reason(&e, "reading")); break; }
                Ok(_) => {
                    let before = res.received;
                    let mut batch = Vec::new();
                    if let Err(e) = wire::read_packets(&mut rbuf, |p| if let Packet::Publish(p) = p { batch.push(p) }) {
                        res.lost = Some(e);
                        break;
                    }
                    for p in batch {
                        handle(p, &mut res, &mut acks);
                    }
                    if res.received > before {
                        res.last_recv = Some(Instant::now());
                    }
                    shared.live.received.fetch_add(res.received - before, Relaxed);
                    if last_p99.elapsed() > Duration::from_millis(500) && !res.hist.is_empty() {
                        shared.live.p99_us.store(res.hist.value_at_quantile(0.99) / 1000, Relaxed);
                        last_p99 = Instant::now();
                    }
                }
            }
        }
    }
    let _ = stream.send(&wire::DISCONNECT).await;
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_count_duplicates_and_reordering() {
        let mut t = Track::default();
        for s in [0, 1, 3, 2, 3, 200, 0] {
            t.on(s);
        }
        assert_eq!((t.distinct, t.duplicates, t.reordered), (5, 2, 1));
    }
}
