//! The verifying subscriber: subscribes like a pipeline would and accounts for
//! every message by device and sequence number — received, missing,
//! duplicated, out of order — with end-to-end latency in an HDR histogram.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rumqttc::{AsyncClient, Event, Packet, QoS};
use serde::Serialize;

/// Per-device accounting.
#[derive(Clone, Debug)]
pub struct DeviceTally {
    /// Messages received, duplicates included.
    pub received: u64,
    /// Messages received again after a first copy.
    pub duplicates: u64,
    /// Messages whose seq was below one already received.
    pub out_of_order: u64,
    highest: Option<u64>,
    seen: Vec<u64>,
    latency: Histogram<u64>,
}

impl Default for DeviceTally {
    fn default() -> Self {
        DeviceTally {
            received: 0,
            duplicates: 0,
            out_of_order: 0,
            highest: None,
            seen: Vec::new(),
            latency: Histogram::new_with_bounds(1, 3_600_000_000_000, 3)
                .expect("static histogram bounds are valid"),
        }
    }
}

impl DeviceTally {
    /// Records one message.
    pub fn record(&mut self, seq: u64, latency_ns: Option<u64>) {
        self.received += 1;
        let (word, bit) = ((seq / 64) as usize, seq % 64);
        if word >= self.seen.len() {
            self.seen.resize(word + 1, 0);
        }
        if self.seen[word] & (1 << bit) != 0 {
            self.duplicates += 1;
        } else {
            self.seen[word] |= 1 << bit;
            if self.highest.is_some_and(|h| seq < h) {
                self.out_of_order += 1;
            }
        }
        self.highest = Some(self.highest.map_or(seq, |h| h.max(seq)));
        if let Some(l) = latency_ns {
            self.latency.saturating_record(l.max(1));
        }
    }

    /// Distinct sequence numbers received.
    pub fn distinct(&self) -> u64 {
        self.seen.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// Sequence numbers in `0..=last` never received (`last`: the highest sent, if
    /// known, else the highest received).
    pub fn missing(&self, last: Option<u64>) -> Vec<u64> {
        let Some(last) = last.or(self.highest) else {
            return Vec::new();
        };
        (0..=last)
            .filter(|&s| {
                let (w, b) = ((s / 64) as usize, s % 64);
                self.seen.get(w).is_none_or(|x| x & (1 << b) == 0)
            })
            .collect()
    }
}

/// Accounting over all devices.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// By device id.
    pub devices: BTreeMap<String, DeviceTally>,
    /// Messages that could not be read (not JSON, no device or seq).
    pub malformed: u64,
    /// Sparkplug DDATA marked historical (drained from a buffer), duplicates included.
    pub historical: u64,
}

/// One device's line of the verification report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DeviceReport {
    /// Device id.
    pub device: String,
    /// Messages received, duplicates included.
    pub received: u64,
    /// Distinct sequence numbers.
    pub distinct: u64,
    /// Sequence numbers missing.
    pub missing: u64,
    /// First few missing sequence numbers.
    pub missing_first: Vec<u64>,
    /// Duplicates.
    pub duplicates: u64,
    /// Out of order.
    pub out_of_order: u64,
    /// Latency percentiles, ms (absent when payloads carried no send stamp).
    pub latency_ms: Option<Latency>,
}

/// Latency percentiles, ms.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Maximum.
    pub max: f64,
}

fn latency(h: &Histogram<u64>) -> Option<Latency> {
    (!h.is_empty()).then(|| Latency {
        p50: h.value_at_quantile(0.5) as f64 / 1e6,
        p99: h.value_at_quantile(0.99) as f64 / 1e6,
        p999: h.value_at_quantile(0.999) as f64 / 1e6,
        max: h.max() as f64 / 1e6,
    })
}

pub use super::wall_ns;

impl Tally {
    /// Accounts for one JSON telemetry payload.
    pub fn record_json(&mut self, payload: &[u8], now_ns: u64) {
        #[derive(serde::Deserialize)]
        struct Head {
            device: String,
            seq: u64,
            #[serde(default)]
            sent_ns: Option<u64>,
        }
        match serde_json::from_slice::<Head>(payload) {
            Ok(h) => {
                let lat = h.sent_ns.map(|s| now_ns.saturating_sub(s));
                self.devices.entry(h.device).or_default().record(h.seq, lat);
            }
            Err(_) => self.malformed += 1,
        }
    }

    /// Accounts for one Sparkplug B message: a DDATA counts under its device
    /// id with its `fabtwin/seq`, latency from the payload's send time (ms);
    /// births, deaths and commands are not telemetry.
    pub fn record_sparkplug(&mut self, topic: &str, payload: &[u8], now_ns: u64) {
        use crate::codec::sparkplug::{MessageType, Topic, decode_payload, device_seq};
        let Ok(t) = Topic::parse(topic) else {
            self.malformed += 1;
            return;
        };
        if t.message_type() != MessageType::DData {
            return;
        }
        let decoded = decode_payload(payload).ok();
        match (t.device_id(), decoded.as_ref().and_then(device_seq)) {
            (Some(device), Some(seq)) => {
                let p = decoded.as_ref().expect("device_seq read it");
                if p.metrics.iter().any(|m| m.is_historical == Some(true)) {
                    self.historical += 1;
                }
                let lat = p
                    .timestamp
                    .map(|ms| now_ns.saturating_sub(ms.saturating_mul(1_000_000)));
                self.devices
                    .entry(device.to_string())
                    .or_default()
                    .record(seq, lat);
            }
            _ => self.malformed += 1,
        }
    }

    /// Accounts for one message by its topic: Sparkplug B under `spBv1.0/`, JSON otherwise.
    pub fn record(&mut self, topic: &str, payload: &[u8], now_ns: u64) {
        if topic.starts_with("spBv1.0/") {
            self.record_sparkplug(topic, payload, now_ns);
        } else {
            self.record_json(payload, now_ns);
        }
    }

    /// Total received.
    pub fn received(&self) -> u64 {
        self.devices.values().map(|d| d.received).sum()
    }

    /// Total distinct.
    pub fn distinct(&self) -> u64 {
        self.devices.values().map(DeviceTally::distinct).sum()
    }

    /// The report, given the highest seq each device sent (when known).
    pub fn report(&self, last_sent: &BTreeMap<String, u64>) -> Vec<DeviceReport> {
        let mut names: Vec<&String> = self.devices.keys().chain(last_sent.keys()).collect();
        names.sort();
        names.dedup();
        let empty = DeviceTally::default();
        names
            .into_iter()
            .map(|name| {
                let d = self.devices.get(name).unwrap_or(&empty);
                let missing = d.missing(last_sent.get(name).copied());
                DeviceReport {
                    device: name.clone(),
                    received: d.received,
                    distinct: d.distinct(),
                    missing: missing.len() as u64,
                    missing_first: missing.into_iter().take(10).collect(),
                    duplicates: d.duplicates,
                    out_of_order: d.out_of_order,
                    latency_ms: latency(&d.latency),
                }
            })
            .collect()
    }
}

/// Live progress of a subscriber.
#[derive(Debug, Default)]
struct Progress {
    distinct: std::sync::atomic::AtomicU64,
    last_ns: std::sync::atomic::AtomicU64,
}

/// A running subscriber on `host:port` that tallies telemetry until stopped.
pub struct Subscriber {
    progress: std::sync::Arc<Progress>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Tally>,
    ready: tokio::sync::oneshot::Receiver<()>,
}

impl Subscriber {
    /// Connects, subscribes to `filters` at QoS 1 and starts counting.
    pub fn start(
        host: &str,
        port: u16,
        client_id: &str,
        filters: &[String],
        credentials: Option<(String, String)>,
        tls: Option<&super::TlsFiles>,
    ) -> Subscriber {
        let mut o = super::reader_options(host, port, client_id, credentials, tls);
        o.set_inflight(500);
        let (client, mut el) = AsyncClient::new(o, 100);
        let filters = filters.to_vec();
        let mut acks_due = filters.len();
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let (ready_tx, ready) = tokio::sync::oneshot::channel();
        let progress = std::sync::Arc::new(Progress::default());
        let live = progress.clone();
        let task = tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut ready_tx = Some(ready_tx);
            loop {
                tokio::select! {
                    ev = el.poll() => match ev {
                        Ok(Event::Incoming(Packet::ConnAck(_))) => {
                            for f in &filters {
                                let _ = client.try_subscribe(f.clone(), QoS::AtLeastOnce);
                            }
                        }
                        Ok(Event::Incoming(Packet::SubAck(_))) => {
                            acks_due = acks_due.saturating_sub(1);
                            if acks_due == 0 && let Some(r) = ready_tx.take() {
                                let _ = r.send(());
                            }
                        }
                        Ok(Event::Incoming(Packet::Publish(p))) => {
                            let now = wall_ns();
                            tally.record(&p.topic, &p.payload, now);
                            live.distinct.store(tally.distinct(), std::sync::atomic::Ordering::Relaxed);
                            live.last_ns.store(now, std::sync::atomic::Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    },
                    _ = &mut stopped => break,
                }
            }
            let _ = client.try_disconnect();
            tally
        });
        Subscriber {
            progress,
            stop,
            task,
            ready,
        }
    }

    /// Distinct messages so far, and when the last one arrived (wall ns; 0 before any).
    pub fn progress(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering;
        (
            self.progress.distinct.load(Ordering::Relaxed),
            self.progress.last_ns.load(Ordering::Relaxed),
        )
    }

    /// Stops at once and returns the tally.
    pub async fn stop(self) -> Tally {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }

    /// Waits until the subscription is in place (or `timeout`).
    pub async fn ready(&mut self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, &mut self.ready)
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Stops once `expected` distinct messages arrived and nothing new came for
    /// `quiet`, or once nothing at all came for `stall` (a slow broker still
    /// delivering keeps it waiting), or after `timeout`; returns the tally.
    pub async fn finish(
        self,
        expected: u64,
        quiet: Duration,
        stall: Duration,
        timeout: Duration,
    ) -> Tally {
        use std::sync::atomic::Ordering;
        let deadline = Instant::now() + timeout;
        let start_ns = wall_ns();
        loop {
            let distinct = self.progress.distinct.load(Ordering::Relaxed);
            let last = self.progress.last_ns.load(Ordering::Relaxed).max(start_ns);
            let idle = Duration::from_nanos(wall_ns().saturating_sub(last));
            if (distinct >= expected && idle >= quiet)
                || idle >= stall
                || Instant::now() >= deadline
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_counts_missing_duplicates_and_reordering() {
        let mut t = Tally::default();
        for s in [0u64, 1, 3, 2, 3, 5] {
            t.record_json(
                format!("{{\"device\":\"d1\",\"seq\":{s},\"sent_ns\":100}}").as_bytes(),
                1_000_100,
            );
        }
        t.record_json(b"not json", 0);
        let r = t.report(&BTreeMap::from([("d1".to_string(), 6)]));
        assert_eq!(r.len(), 1);
        let d = &r[0];
        assert_eq!(
            (d.received, d.distinct, d.duplicates, d.out_of_order),
            (6, 5, 1, 1)
        );
        assert_eq!(d.missing_first, vec![4, 6]);
        assert!((d.latency_ms.as_ref().unwrap().p50 - 1.0).abs() < 0.01);
        assert_eq!(t.malformed, 1);
    }
}
