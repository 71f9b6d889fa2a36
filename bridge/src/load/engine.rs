//! The load engine: one small task per session on a plain tokio `TcpStream`,
//! an open-loop schedule, and subscribers that account for every message.
//!
//! Message `m` of the fleet (0 ≤ m < ⌊rate × duration⌋) is due at `m / rate`
//! seconds after the start and belongs to device `m mod fleet`, so a device's
//! `j`-th message is due at `(j × fleet + d) / rate`. Latency is measured from
//! that due time, never from when the sender got round to it, so a slow broker
//! cannot hide behind coordinated omission.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use hdrhistogram::Histogram;
use rumqttc::mqttbytes::v4::Packet;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::{Instant, sleep_until, timeout_at};

use super::pool::{Codec, Fleet, SparkplugStamp};
use super::report::{self, Latency, LoadReport};
pub use super::state::{Live, Settings};
use super::state::{Shared, open, unix_ns};
use super::wire;
use crate::codec::sparkplug::EdgeNode;

/// Most publishes written in one system call.
const BATCH: u64 = 128;

#[derive(Default)]
struct Outcome {
    failed: Option<String>,
    disconnected: Option<String>,
    scheduled: u64,
    sent: u64,
    acked: u64,
    bytes: u64,
    first_due: Option<Instant>,
    last_send: Option<Instant>,
}

/// Raises the soft open-file limit to the hard one (where allowed) and returns
/// the limit now in force (0 where it cannot be read).
pub fn raise_nofile() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0)
}

/// Resident set size of this process, bytes (0 where /proc is missing).
pub fn rss_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = text
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// CPU seconds (user + system) this process has used (0 where /proc is missing).
pub fn cpu_seconds() -> f64 {
    let text = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name's closing parenthesis; utime and stime are 14 and 15.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (tick(11) + tick(12)) as f64 / 100.0
}

/// Messages of the whole fleet in the schedule.
fn fleet_total(s: &Settings) -> u64 {
    (s.rate * s.duration.as_secs_f64()).floor() as u64
}

/// Messages device `d` of `fleet` sends out of `total`.
fn device_count(total: u64, fleet: u64, d: u64) -> u64 {
    if d >= total {
        0
    } else {
        (total - d - 1) / fleet + 1
    }
}

/// Runs the load and returns its report. Never panics on broker behaviour and
/// always ends: connect phase (ramp + timeout), duration, then a bounded drain.
pub async fn run(fleet: Arc<Fleet>, s: Settings, live: Arc<Live>) -> LoadReport {
    let cpu0 = cpu_seconds();
    let rss_before = rss_bytes();
    let (go_tx, go_rx) = watch::channel(None);
    let (stop_tx, stop_rx) = watch::channel(false);
    let n = fleet.devices.len();
    let shared = Arc::new(Shared {
        fleet: fleet.clone(),
        live: live.clone(),
        t0: Instant::now(),
        go: go_rx,
        stop: stop_rx,
        attempts_done: AtomicUsize::new(0),
        progress: Notify::new(),
        connect_hist: Mutex::new(report::histogram()),
        ack_hist: Mutex::new(report::histogram()),
        peak: AtomicU64::new(0),
        connect_gate: if s.ramp.is_none() {
            Some(Semaphore::new(256))
        } else {
            None
        },
        last_connect: Mutex::new(None),
        s: s.clone(),
    });
    let mut failed: BTreeMap<String, u64> = BTreeMap::new();

    // Subscribers first, so nothing published is missed.
    let subs = s.subscribers.min(n.max(1));
    let mut sub_handles = Vec::new();
    if s.subscribers > 0 && n > 0 {
        let mut ready = Vec::new();
        for k in 0..subs {
            let (tx, rx) = tokio::sync::oneshot::channel();
            ready.push(rx);
            let devices: Vec<usize> = (k..n).step_by(subs).collect();
            sub_handles.push(tokio::spawn(super::subscribe::subscriber(
                k,
                devices,
                shared.clone(),
                tx,
            )));
        }
        for r in ready {
            if let Ok(Err(reason)) = r.await {
                *failed.entry(format!("subscriber {reason}")).or_default() += 1;
            }
        }
    }

    let t0 = Instant::now();
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        handles.push(tokio::spawn(publisher(i, shared.clone())));
    }
    // Connect phase: until every session has connected or failed, bounded.
    let ramp_time = s.ramp.map(|r| n as f64 / r).unwrap_or(0.0);
    let connect_deadline =
        t0 + Duration::from_secs_f64(ramp_time) + s.connect_timeout + Duration::from_secs(1);
    while shared.attempts_done.load(Relaxed) < n && Instant::now() < connect_deadline {
        let _ = timeout_at(
            (Instant::now() + Duration::from_millis(50)).min(connect_deadline),
            shared.progress.notified(),
        )
        .await;
    }
    let rss_connected = rss_bytes();
    let connected_idle = live.connected.load(Relaxed);
    let connect_span = shared
        .last_connect
        .lock()
        .expect("no panics while locked")
        .map(|l| l.duration_since(t0).as_secs_f64())
        .unwrap_or(0.0);
    let go_at = Instant::now() + Duration::from_millis(20);
    let go_unix = unix_ns() + 20_000_000;
    let _ = go_tx.send(Some((go_at, go_unix)));
    live.publishing.store(true, Relaxed);
    let hard_end = go_at + s.duration + s.drain;

    let mut outcomes = Vec::with_capacity(n);
    for h in handles {
        outcomes.push(h.await.unwrap_or_else(|e| Outcome {
            failed: Some(format!("internal: session task ended: {e}")),
            ..Outcome::default()
        }));
    }
    let sent_total: u64 = outcomes.iter().map(|o| o.sent).sum();
    // Drain: subscribers until every sent message arrived, or the bounded wait ends.
    if !sub_handles.is_empty() {
        let until = (Instant::now() + s.drain).min(hard_end + s.drain);
        while live.distinct.load(Relaxed) < sent_total && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let _ = stop_tx.send(true);
    let mut tracks: Vec<Option<super::subscribe::Track>> = (0..n).map(|_| None).collect();
    let mut sub_hist = report::histogram();
    let mut received = 0;
    let mut disconnected: BTreeMap<String, u64> = BTreeMap::new();
    let mut last_recv: Option<Instant> = None;
    for h in sub_handles {
        if let Ok(r) = h.await {
            received += r.received;
            let _ = sub_hist.add(&r.hist);
            for (i, t) in r.tracks {
                tracks[i] = Some(t);
            }
            if let Some(reason) = r.lost {
                *disconnected
                    .entry(format!("subscriber {reason}"))
                    .or_default() += 1;
            }
            last_recv = last_recv.max(r.last_recv);
        }
    }

    let mut rep = LoadReport::new_for(s.shard);
    rep.broker = s.broker.clone();
    rep.fleet_devices = fleet.fleet_size;
    rep.devices = n as u64;
    rep.codec = fleet.codec.name().into();
    rep.qos = s.qos;
    rep.target_rate_per_s = s.rate * n as f64 / fleet.fleet_size.max(1) as f64;
    rep.duration_s = s.duration.as_secs_f64();
    rep.payload_mean_bytes = fleet.mean_payload_bytes();
    let c = &mut rep.sessions;
    c.attempted = n as u64;
    c.peak_connected = shared.peak.load(Relaxed);
    c.connect_time = Latency::of(&shared.connect_hist.lock().expect("no panics while locked"));
    c.connected = c.connect_time.count;
    c.connect_rate_per_s = if connect_span > 0.0 {
        c.connected as f64 / connect_span
    } else {
        0.0
    };
    c.failed = failed;
    c.disconnected = disconnected;
    let p = &mut rep.publish;
    let mut first: Option<Instant> = None;
    let mut last: Option<Instant> = None;
    for o in &outcomes {
        if let Some(f) = &o.failed {
            *rep.sessions.failed.entry(f.clone()).or_default() += 1;
        }
        if let Some(d) = &o.disconnected {
            *rep.sessions.disconnected.entry(d.clone()).or_default() += 1;
        }
        p.scheduled += o.scheduled;
        p.sent += o.sent;
        p.acked += o.acked;
        p.payload_bytes += o.bytes;
        first = match (first, o.first_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        last = last.max(o.last_send);
    }
    p.not_sent = p.scheduled - p.sent;
    p.elapsed_s = match (first, last) {
        (Some(a), Some(b)) if b > a => b.duration_since(a).as_secs_f64(),
        _ => 0.0,
    };
    p.rate_per_s = if p.elapsed_s > 0.0 {
        p.sent as f64 / p.elapsed_s
    } else {
        0.0
    };
    p.ack_latency = Latency::of(&shared.ack_hist.lock().expect("no panics while locked"));
    if s.subscribers > 0 {
        let mut sub = report::Subscribe {
            subscribers: subs as u64,
            received,
            latency: Latency::of(&sub_hist),
            ..Default::default()
        };
        for (o, t) in outcomes.iter().zip(&tracks) {
            let (distinct, t) = t
                .as_ref()
                .map(|t| (t.distinct, Some(t)))
                .unwrap_or((0, None));
            sub.lost += o.sent.saturating_sub(distinct);
            if let Some(t) = t {
                sub.duplicates += t.duplicates;
                sub.reordered += t.reordered;
            }
        }
        sub.rate_per_s = match (first, last_recv) {
            (Some(a), Some(b)) if b > a => received as f64 / b.duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        rep.subscribe = Some(sub);
    }
    rep.memory.rss_before_bytes = rss_before;
    rep.memory.rss_connected_bytes = rss_connected;
    rep.memory.per_session_bytes = if connected_idle > 0 {
        rss_connected.saturating_sub(rss_before) as f64 / connected_idle as f64
    } else {
        0.0
    };
    rep.limits.nofile = s.nofile;
    rep.limits.source_addrs = s.source_addrs.iter().map(|a| a.to_string()).collect();
    for reason in rep.sessions.failed.keys() {
        if reason.contains("EMFILE") || reason.contains("ENFILE") {
            rep.limits.hit.push(format!(
                "open-file limit ({}): raise `ulimit -n` (hard limit) or split the fleet with --shard i/n",
                s.nofile
            ));
        } else if reason.contains("EADDRNOTAVAIL") {
            rep.limits.hit.push(
                "local ports of the source addresses exhausted: add --source-addrs (e.g. 8 for 127.0.0.1 … 127.0.0.8) or shards".into(),
            );
        } else if reason.starts_with("before CONNACK") {
            rep.limits.hit.push(
                "the broker dropped sessions before CONNACK: a connection limit (mosquitto or rumqttd max_connections) or a listener backlog".into(),
            );
        } else if reason.contains("connect timed out") {
            rep.limits.hit.push(
                "the broker did not accept connections in time (backlog or connection limit?)"
                    .into(),
            );
        }
    }
    rep.limits.hit.dedup();
    rep.cpu_s = cpu_seconds() - cpu0;
    rep
}

async fn publisher(i: usize, shared: Arc<Shared>) -> Outcome {
    let s = &shared.s;
    let fleet = &shared.fleet;
    let dev = &fleet.devices[i];
    let total = fleet_total(s);
    let count = device_count(total, fleet.fleet_size, dev.index);
    let mut o = Outcome {
        scheduled: count,
        ..Outcome::default()
    };
    let mut rbuf = BytesMut::new();

    if let Some(r) = s.ramp {
        sleep_until(shared.t0 + Duration::from_secs_f64(i as f64 / r)).await;
    }
    let permit = match &shared.connect_gate {
        Some(g) => g.acquire().await.ok(),
        None => None,
    };
    let started = Instant::now();
    let client_id = format!("{}-{}", s.client_prefix, dev.index);
    // Sparkplug: the edge node's state machine gives the will (NDEATH with
    // this connection's bdSeq) and the births; DDATA then continues its `seq`.
    let mut node = match &dev.sparkplug {
        Some((group, edge, _)) => match EdgeNode::new(group, edge) {
            Ok(n) => Some(n),
            Err(e) => {
                o.failed = Some(format!("sparkplug: {e}"));
                shared.attempts_done.fetch_add(1, Relaxed);
                shared.progress.notify_one();
                return o;
            }
        },
        None => None,
    };
    let will = node.as_mut().map(|n| {
        n.on_connect();
        n.will()
    });
    let opened = open(
        &shared,
        i,
        &client_id,
        will.as_ref()
            .map(|w| (w.topic.as_str(), w.payload.as_slice())),
        &mut rbuf,
    )
    .await;
    drop(permit);
    let mut stream = match opened {
        Ok(st) => {
            let took = started.elapsed().as_nanos() as u64;
            let _ = shared
                .connect_hist
                .lock()
                .expect("no panics while locked")
                .record(took.clamp(1, report::MAX_NS));
            *shared.last_connect.lock().expect("no panics while locked") = Some(Instant::now());
            let now = shared.live.connected.fetch_add(1, Relaxed) + 1;
            shared.peak.fetch_max(now, Relaxed);
            st
        }
        Err(reason) => {
            o.failed = Some(reason);
            shared.attempts_done.fetch_add(1, Relaxed);
            shared.progress.notify_one();
            return o;
        }
    };
    let mut sp_seq: u8 = 0;
    if let (Some(n), Some((_, _, schema))) = (node.as_mut(), &dev.sparkplug) {
        let now_ms = unix_ns() / 1_000_000;
        let births = n
            .nbirth(now_ms)
            .and_then(|b| Ok(vec![b, n.dbirth(schema, now_ms)?]));
        let mut out = Vec::new();
        match births {
            Ok(b) => {
                for p in b {
                    wire::publish_header(&mut out, p.topic.as_bytes(), 0, p.payload.len());
                    out.extend_from_slice(&p.payload);
                }
            }
            Err(e) => o.failed = Some(format!("sparkplug births: {e}")),
        }
        if o.failed.is_none()
            && let Err(e) = stream.send(&out).await
        {
            o.failed = Some(wire::io_reason(&e, "births"));
        }
        if o.failed.is_some() {
            shared.live.connected.fetch_sub(1, Relaxed);
            shared.attempts_done.fetch_add(1, Relaxed);
            shared.progress.notify_one();
            return o;
        }
        sp_seq = n.next_seq() as u8;
    }
    shared.attempts_done.fetch_add(1, Relaxed);
    shared.progress.notify_one();

    let mut go = shared.go.clone();
    let g = match go.wait_for(|g| g.is_some()).await {
        Ok(g) => *g,
        Err(_) => None,
    };
    let Some((go_at, go_unix)) = g else {
        shared.live.connected.fetch_sub(1, Relaxed);
        return o;
    };
    let end = go_at + s.duration;
    let hard_end = end + s.drain;
    let fleet_n = fleet.fleet_size;
    let rate = s.rate;
    let due = |j: u64| -> u64 { ((j * fleet_n + dev.index) as f64 * 1e9 / rate) as u64 };
    let pool = &fleet.pools[dev.pool];
    let topic = dev.topic.as_bytes();
    let qos1 = s.qos == 1;
    let cap = s.inflight.max(1);
    let mut inflight: VecDeque<(u16, u64)> = VecDeque::new();
    let mut pkid: u16 = 0;
    let mut out: Vec<u8> = Vec::new();
    let mut acks: Vec<u64> = Vec::new();
    let sparkplug = fleet.codec == Codec::Sparkplug;
    let mut stamp = SparkplugStamp::new();
    let mut j: u64 = 0;
    let mut last_write = Instant::now();
    let mut throttled = false;
    if count > 0 {
        o.first_due = Some(go_at + Duration::from_nanos(due(0)));
    }
    let ping_every = Duration::from_secs(u64::from(wire::KEEP_ALIVE_S) / 2);
    let reason = loop {
        let now = Instant::now();
        if now >= hard_end {
            break None;
        }
        // QoS 1: once the window is full, wait until half of it is acknowledged,
        // so sends go out in large batches rather than one per PUBACK.
        if qos1 && inflight.len() >= cap {
            throttled = true;
        } else if throttled && inflight.len() <= cap / 2 {
            throttled = false;
        }
        let open_slot = !qos1 || !throttled;
        if j < count && open_slot && go_at + Duration::from_nanos(due(j)) <= now {
            out.clear();
            let mut n = 0;
            while j < count && n < BATCH && (!qos1 || inflight.len() < cap) {
                let off = due(j);
                if go_at + Duration::from_nanos(off) > now {
                    break;
                }
                let id = if qos1 {
                    pkid = if pkid == u16::MAX { 1 } else { pkid + 1 };
                    inflight.push_back((pkid, off));
                    pkid
                } else {
                    0
                };
                let tail = &pool[(j % pool.len() as u64) as usize];
                o.bytes += if sparkplug {
                    stamp.set(go_unix + off, sp_seq, j);
                    sp_seq = sp_seq.wrapping_add(1);
                    let plen = stamp.encoded_len() + tail.len();
                    wire::publish_header(&mut out, topic, id, plen);
                    stamp.encode(&mut out);
                    out.extend_from_slice(tail);
                    plen as u64
                } else {
                    wire::publish(&mut out, topic, id, &dev.head, tail, j, go_unix + off) as u64
                };
                j += 1;
                n += 1;
            }
            match timeout_at(hard_end, stream.send(&out)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => break Some(wire::io_reason(&e, "publishing")),
                Err(_) => break None,
            }
            o.sent += n;
            shared.live.sent.fetch_add(n, Relaxed);
            last_write = Instant::now();
            o.last_send = Some(last_write);
            continue;
        }
        // A session stays up for the whole duration, even once its schedule is done.
        let finished = j >= count && inflight.is_empty();
        if finished && now >= end {
            break None;
        }
        let wake = if j < count && open_slot {
            go_at + Duration::from_nanos(due(j))
        } else if finished {
            end
        } else {
            hard_end
        }
        .min(last_write + ping_every)
        .min(hard_end);
        rbuf.reserve(256);
        tokio::select! {
            _ = sleep_until(wake) => {
                if Instant::now() >= last_write + ping_every {
                    if let Err(e) = stream.send(&wire::PINGREQ).await {
                        break Some(wire::io_reason(&e, "ping"));
                    }
                    last_write = Instant::now();
                }
            }
            r = stream.read_buf(&mut rbuf) => {
                match r {
                    Ok(0) => break Some("closed by broker".into()),
                    Err(e) => break Some(wire::io_reason(&e, "reading")),
                    Ok(_) => {
                        let since = Instant::now().duration_since(go_at).as_nanos() as u64;
                        let parsed = wire::read_packets(&mut rbuf, |p| {
                            if let Packet::PubAck(a) = p {
                                let at = if inflight.front().is_some_and(|f| f.0 == a.pkid) {
                                    Some(0)
                                } else {
                                    inflight.iter().position(|f| f.0 == a.pkid)
                                };
                                if let Some(at) = at {
                                    let (_, off) = inflight.remove(at).expect("position is in range");
                                    acks.push(since.saturating_sub(off).max(1));
                                    o.acked += 1;
                                }
                            }
                        });
                        if let Err(e) = parsed {
                            break Some(e);
                        }
                        if acks.len() >= 256 {
                            flush(&shared.ack_hist, &mut acks);
                        }
                    }
                }
            }
        }
    };
    flush(&shared.ack_hist, &mut acks);
    if let Some(r) = reason {
        o.disconnected = Some(r);
    } else {
        // Sparkplug: a deliberate disconnect publishes the NDEATH first.
        let mut bye = Vec::new();
        if let Some(n) = &node {
            let death = n.will();
            pkid = if pkid == u16::MAX { 1 } else { pkid + 1 };
            wire::publish_header(&mut bye, death.topic.as_bytes(), pkid, death.payload.len());
            bye.extend_from_slice(&death.payload);
        }
        bye.extend_from_slice(&wire::DISCONNECT);
        let _ = timeout_at(
            Instant::now() + Duration::from_millis(200),
            stream.send(&bye),
        )
        .await;
    }
    shared.live.connected.fetch_sub(1, Relaxed);
    o
}

fn flush(h: &Mutex<Histogram<u64>>, v: &mut Vec<u64>) {
    if v.is_empty() {
        return;
    }
    let mut h = h.lock().expect("no panics while locked");
    for x in v.drain(..) {
        h.saturating_record(x.min(report::MAX_NS));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_splits_the_fleet_total_exactly() {
        for (total, fleet) in [(0u64, 5u64), (7, 3), (1000, 7), (3, 10)] {
            let sum: u64 = (0..fleet).map(|d| device_count(total, fleet, d)).sum();
            assert_eq!(sum, total, "total {total} fleet {fleet}");
        }
    }
}
