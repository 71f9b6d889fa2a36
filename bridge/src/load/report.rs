//! The load report: counts, limits, memory, and latency histograms kept in
//! mergeable form (HDR V2 + deflate, base64), so shard reports combine exactly.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

use super::pool::Shard;

/// Highest latency a histogram records, ns (larger values are clamped to it).
pub const MAX_NS: u64 = 600_000_000_000;

/// A new latency histogram: 1 ns … 600 s, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_NS, 3).expect("static bounds are valid")
}

/// A latency distribution: its summary in milliseconds and the histogram itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Values recorded.
    pub count: u64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// 99.9th percentile, ms.
    pub p999_ms: f64,
    /// Largest, ms.
    pub max_ms: f64,
    /// The HDR histogram (ns), V2 deflate serialisation, base64.
    pub hdr: String,
}

impl Latency {
    /// Summarises `h` (ns).
    pub fn of(h: &Histogram<u64>) -> Latency {
        let ms = |ns: u64| ns as f64 / 1e6;
        let mut buf = Vec::new();
        V2DeflateSerializer::new()
            .serialize(h, &mut buf)
            .expect("serialising a histogram into memory cannot fail");
        let q = |x| {
            if h.is_empty() {
                0.0
            } else {
                ms(h.value_at_quantile(x))
            }
        };
        Latency {
            count: h.len(),
            p50_ms: q(0.5),
            p90_ms: q(0.9),
            p99_ms: q(0.99),
            p999_ms: q(0.999),
            max_ms: if h.is_empty() { 0.0 } else { ms(h.max()) },
            hdr: STANDARD.encode(&buf),
        }
    }

    /// The histogram back from its serialised form.
    pub fn histogram(&self) -> Result<Histogram<u64>, String> {
        let bytes = STANDARD
            .decode(&self.hdr)
            .map_err(|e| format!("hdr is not base64: {e}"))?;
        let h: Histogram<u64> = Deserializer::new()
            .deserialize(&mut &bytes[..])
            .map_err(|e| format!("hdr is not an HDR histogram: {e}"))?;
        Ok(h)
    }
}

/// Sessions: how many connected, how fast, and why the others did not.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sessions {
    /// Publishing sessions attempted (one per device).
    pub attempted: u64,
    /// Sessions that got a successful CONNACK.
    pub connected: u64,
    /// Most sessions connected at the same time.
    pub peak_connected: u64,
    /// Failed connects by reason.
    pub failed: BTreeMap<String, u64>,
    /// Sessions lost after connecting, by reason.
    pub disconnected: BTreeMap<String, u64>,
    /// Connects per second achieved over the ramp.
    pub connect_rate_per_s: f64,
    /// Connect time (TCP connect to CONNACK).
    pub connect_time: Latency,
}

/// What publishers sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Publish {
    /// Messages the open-loop schedule called for.
    pub scheduled: u64,
    /// Messages written to the broker.
    pub sent: u64,
    /// Scheduled messages never sent (session down or run ended).
    pub not_sent: u64,
    /// QoS 1: PUBACKs received.
    pub acked: u64,
    /// Payload bytes sent.
    pub payload_bytes: u64,
    /// Seconds from the first scheduled send to the last send.
    pub elapsed_s: f64,
    /// Sent messages per second over `elapsed_s`.
    pub rate_per_s: f64,
    /// QoS 1: scheduled send to PUBACK.
    pub ack_latency: Latency,
}

/// What the subscribers saw.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Subscribe {
    /// Subscriber sessions.
    pub subscribers: u64,
    /// Messages received (duplicates included).
    pub received: u64,
    /// Sent messages never received.
    pub lost: u64,
    /// Messages received again.
    pub duplicates: u64,
    /// Messages received after a later sequence number of the same device.
    pub reordered: u64,
    /// Received messages per second.
    pub rate_per_s: f64,
    /// End to end: scheduled send (wall clock) to receipt.
    pub latency: Latency,
}

/// Memory of the generator process.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// Resident set before connecting, bytes.
    pub rss_before_bytes: u64,
    /// Resident set with every session connected and idle, bytes.
    pub rss_connected_bytes: u64,
    /// Growth per connected session, bytes.
    pub per_session_bytes: f64,
}

/// Limits that apply to the run, and any it hit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Open-file limit (soft) after raising it.
    pub nofile: u64,
    /// Local source addresses the sessions were spread over.
    pub source_addrs: Vec<String>,
    /// Limits hit, in words.
    pub hit: Vec<String>,
}

/// A whole load report (one shard, or several merged).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    /// Report format version.
    pub format: u32,
    /// Broker URL.
    pub broker: String,
    /// Shards this report covers, and of how many.
    pub shards: Vec<u32>,
    /// Number of shards in the run.
    pub shard_count: u32,
    /// Devices in the whole fleet.
    pub fleet_devices: u64,
    /// Devices this report covers.
    pub devices: u64,
    /// Payload codec.
    pub codec: String,
    /// QoS of publishes and subscriptions.
    pub qos: u8,
    /// Target messages per second of the devices covered.
    pub target_rate_per_s: f64,
    /// Publishing duration, s.
    pub duration_s: f64,
    /// Mean payload size, bytes.
    pub payload_mean_bytes: f64,
    /// Sessions.
    pub sessions: Sessions,
    /// Publishing.
    pub publish: Publish,
    /// Subscribing (absent without `--subscribe`).
    pub subscribe: Option<Subscribe>,
    /// Memory.
    pub memory: Memory,
    /// Limits.
    pub limits: Limits,
    /// CPU seconds (user + system) the generator used.
    pub cpu_s: f64,
}

/// Current report format.
pub const FORMAT: u32 = 1;

fn add_map(a: &mut BTreeMap<String, u64>, b: &BTreeMap<String, u64>) {
    for (k, v) in b {
        *a.entry(k.clone()).or_default() += v;
    }
}

fn add_latency(a: &Latency, b: &Latency) -> Result<Latency, String> {
    let mut h = a.histogram()?;
    h.add(b.histogram()?)
        .map_err(|e| format!("histograms do not merge: {e}"))?;
    Ok(Latency::of(&h))
}

impl LoadReport {
    /// The shard this report was made for (single-shard reports only).
    pub fn new_for(shard: Shard) -> LoadReport {
        LoadReport {
            format: FORMAT,
            shards: vec![shard.index],
            shard_count: shard.count,
            ..LoadReport::default()
        }
    }

    /// Merges shard reports: counts add, histograms merge exactly, quantiles are
    /// recomputed from the merged histograms.
    pub fn merge(reports: &[LoadReport]) -> Result<LoadReport, String> {
        let first = reports.first().ok_or("nothing to merge")?;
        let mut m = first.clone();
        for (i, r) in reports.iter().enumerate().skip(1) {
            let what = |f: &str| {
                format!(
                    "report {} differs in {f}: runs of different settings cannot merge",
                    i + 1
                )
            };
            if r.format != m.format {
                return Err(what("format"));
            }
            if r.broker != m.broker {
                return Err(what("broker"));
            }
            if r.qos != m.qos {
                return Err(what("qos"));
            }
            if r.codec != m.codec {
                return Err(what("codec"));
            }
            if r.shard_count != m.shard_count || r.fleet_devices != m.fleet_devices {
                return Err(what("shard count or fleet size"));
            }
            if (r.subscribe.is_some()) != (m.subscribe.is_some()) {
                return Err(what("--subscribe"));
            }
            for s in &r.shards {
                if m.shards.contains(s) {
                    return Err(format!("shard {s} appears twice"));
                }
                m.shards.push(*s);
            }
            let before = m.devices as f64;
            m.devices += r.devices;
            m.target_rate_per_s += r.target_rate_per_s;
            m.duration_s = m.duration_s.max(r.duration_s);
            m.payload_mean_bytes = weighted(
                m.payload_mean_bytes,
                before,
                r.payload_mean_bytes,
                r.devices as f64,
            );
            m.cpu_s += r.cpu_s;
            let (a, b) = (&mut m.sessions, &r.sessions);
            a.attempted += b.attempted;
            a.connected += b.connected;
            a.peak_connected += b.peak_connected;
            a.connect_rate_per_s += b.connect_rate_per_s;
            add_map(&mut a.failed, &b.failed);
            add_map(&mut a.disconnected, &b.disconnected);
            a.connect_time = add_latency(&a.connect_time, &b.connect_time)?;
            let (a, b) = (&mut m.publish, &r.publish);
            a.scheduled += b.scheduled;
            a.sent += b.sent;
            a.not_sent += b.not_sent;
            a.acked += b.acked;
            a.payload_bytes += b.payload_bytes;
            a.elapsed_s = a.elapsed_s.max(b.elapsed_s);
            a.rate_per_s += b.rate_per_s;
            a.ack_latency = add_latency(&a.ack_latency, &b.ack_latency)?;
            if let (Some(a), Some(b)) = (&mut m.subscribe, &r.subscribe) {
                a.subscribers += b.subscribers;
                a.received += b.received;
                a.lost += b.lost;
                a.duplicates += b.duplicates;
                a.reordered += b.reordered;
                a.rate_per_s += b.rate_per_s;
                a.latency = add_latency(&a.latency, &b.latency)?;
            }
            let (a, b) = (&mut m.memory, &r.memory);
            let conn = m.sessions.connected as f64;
            a.per_session_bytes = weighted(
                a.per_session_bytes,
                conn - r.sessions.connected as f64,
                b.per_session_bytes,
                r.sessions.connected as f64,
            );
            a.rss_before_bytes += b.rss_before_bytes;
            a.rss_connected_bytes += b.rss_connected_bytes;
            m.limits.nofile = m.limits.nofile.min(r.limits.nofile);
            for h in &r.limits.hit {
                if !m.limits.hit.contains(h) {
                    m.limits.hit.push(h.clone());
                }
            }
        }
        m.shards.sort_unstable();
        Ok(m)
    }

    /// A short human summary.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let p = &self.publish;
        let c = &self.sessions;
        s += &format!(
            "load: {} devices (shards {:?} of {}) -> {}, {}, QoS {}, {} B payloads\n",
            self.devices,
            self.shards,
            self.shard_count,
            self.broker,
            self.codec,
            self.qos,
            self.payload_mean_bytes.round()
        );
        s += &format!(
            "  sessions: {}/{} connected ({:.0}/s), connect p50 {:.2} ms p99 {:.2} ms max {:.2} ms\n",
            c.connected,
            c.attempted,
            c.connect_rate_per_s,
            c.connect_time.p50_ms,
            c.connect_time.p99_ms,
            c.connect_time.max_ms
        );
        for (k, v) in &c.failed {
            s += &format!("  connect failed: {v} × {k}\n");
        }
        for (k, v) in &c.disconnected {
            s += &format!("  disconnected: {v} × {k}\n");
        }
        s += &format!(
            "  publish: {} sent of {} scheduled ({} not sent), {:.0} msg/s (target {:.0})\n",
            p.sent, p.scheduled, p.not_sent, p.rate_per_s, self.target_rate_per_s
        );
        if self.qos == 1 {
            s += &format!(
                "  acked: {}, ack latency p50 {:.2} ms p99 {:.2} ms max {:.2} ms\n",
                p.acked, p.ack_latency.p50_ms, p.ack_latency.p99_ms, p.ack_latency.max_ms
            );
        }
        if let Some(r) = &self.subscribe {
            s += &format!(
                "  received: {} ({:.0} msg/s), lost {}, duplicates {}, reordered {}\n  latency: p50 {:.2} ms p90 {:.2} ms p99 {:.2} ms p99.9 {:.2} ms max {:.2} ms\n",
                r.received,
                r.rate_per_s,
                r.lost,
                r.duplicates,
                r.reordered,
                r.latency.p50_ms,
                r.latency.p90_ms,
                r.latency.p99_ms,
                r.latency.p999_ms,
                r.latency.max_ms
            );
        }
        s += &format!(
            "  memory: {:.0} B per idle session{} (RSS {} -> {} KiB); CPU {:.2} s\n",
            self.memory.per_session_bytes,
            if self.broker == "embedded" {
                ", the in-process broker's included"
            } else {
                ""
            },
            self.memory.rss_before_bytes / 1024,
            self.memory.rss_connected_bytes / 1024,
            self.cpu_s
        );
        for h in &self.limits.hit {
            s += &format!("  limit hit: {h}\n");
        }
        s
    }

    /// The report as Prometheus text exposition (format 0.0.4).
    pub fn prometheus(&self) -> String {
        let mut s = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, lines: Vec<(String, f64)>| {
            s += &format!("# HELP fabtwin_load_{name} {help}\n# TYPE fabtwin_load_{name} {kind}\n");
            for (labels, v) in lines {
                s += &format!("fabtwin_load_{name}{labels} {v}\n");
            }
        };
        let one = |v: f64| vec![(String::new(), v)];
        let c = &self.sessions;
        metric(
            "sessions_attempted",
            "gauge",
            "Publishing sessions attempted.",
            one(c.attempted as f64),
        );
        metric(
            "sessions_connected",
            "gauge",
            "Sessions that connected.",
            one(c.connected as f64),
        );
        let reasons = |m: &BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, v)| {
                    (
                        format!(
                            "{{reason=\"{}\"}}",
                            k.replace('\\', "\\\\").replace('"', "\\\"")
                        ),
                        *v as f64,
                    )
                })
                .collect()
        };
        metric(
            "connect_failures_total",
            "counter",
            "Failed connects by reason.",
            reasons(&c.failed),
        );
        metric(
            "disconnects_total",
            "counter",
            "Sessions lost after connecting, by reason.",
            reasons(&c.disconnected),
        );
        let p = &self.publish;
        metric(
            "messages_scheduled_total",
            "counter",
            "Messages the schedule called for.",
            one(p.scheduled as f64),
        );
        metric(
            "messages_sent_total",
            "counter",
            "Messages sent.",
            one(p.sent as f64),
        );
        metric(
            "messages_acked_total",
            "counter",
            "PUBACKs received.",
            one(p.acked as f64),
        );
        metric(
            "payload_bytes_total",
            "counter",
            "Payload bytes sent.",
            one(p.payload_bytes as f64),
        );
        let quantiles = |l: &Latency| {
            vec![
                ("{quantile=\"0.5\"}".to_string(), l.p50_ms / 1e3),
                ("{quantile=\"0.9\"}".to_string(), l.p90_ms / 1e3),
                ("{quantile=\"0.99\"}".to_string(), l.p99_ms / 1e3),
                ("{quantile=\"0.999\"}".to_string(), l.p999_ms / 1e3),
                ("{quantile=\"1\"}".to_string(), l.max_ms / 1e3),
                ("_count".to_string(), l.count as f64),
            ]
        };
        metric(
            "connect_seconds",
            "summary",
            "TCP connect to CONNACK.",
            quantiles(&c.connect_time),
        );
        if self.qos == 1 {
            metric(
                "ack_latency_seconds",
                "summary",
                "Scheduled send to PUBACK.",
                quantiles(&p.ack_latency),
            );
        }
        if let Some(r) = &self.subscribe {
            metric(
                "messages_received_total",
                "counter",
                "Messages received by the subscribers.",
                one(r.received as f64),
            );
            metric(
                "messages_lost_total",
                "counter",
                "Sent messages never received.",
                one(r.lost as f64),
            );
            metric(
                "messages_duplicated_total",
                "counter",
                "Messages received again.",
                one(r.duplicates as f64),
            );
            metric(
                "messages_reordered_total",
                "counter",
                "Messages received out of order.",
                one(r.reordered as f64),
            );
            metric(
                "latency_seconds",
                "summary",
                "Scheduled send to receipt.",
                quantiles(&r.latency),
            );
        }
        metric(
            "rss_per_session_bytes",
            "gauge",
            "Generator memory per idle session.",
            one(self.memory.per_session_bytes),
        );
        metric(
            "cpu_seconds_total",
            "counter",
            "Generator CPU seconds.",
            one(self.cpu_s),
        );
        s
    }
}

fn weighted(a: f64, wa: f64, b: f64, wb: f64) -> f64 {
    if wa + wb <= 0.0 {
        0.0
    } else {
        (a * wa + b * wb) / (wa + wb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(shard: u32, values: &[u64]) -> LoadReport {
        let mut h = histogram();
        for v in values {
            h.record(*v).unwrap();
        }
        let mut r = LoadReport::new_for(Shard {
            index: shard,
            count: 2,
        });
        r.qos = 1;
        r.devices = 10;
        r.publish.sent = values.len() as u64;
        r.publish.ack_latency = Latency::of(&h);
        r.sessions.connect_time = Latency::of(&h);
        r.sessions
            .failed
            .insert("refused: not authorised".into(), 1);
        r
    }

    #[test]
    fn merge_is_exact_on_histograms_and_counts() {
        let a = report(0, &[1_000, 2_000, 3_000]);
        let b = report(1, &[5_000_000, 7_000]);
        let m = LoadReport::merge(&[a.clone(), b.clone()]).unwrap();
        let mut all = histogram();
        for v in [1_000, 2_000, 3_000, 5_000_000, 7_000] {
            all.record(v).unwrap();
        }
        assert_eq!(m.publish.ack_latency, Latency::of(&all));
        assert_eq!(m.publish.sent, 5);
        assert_eq!(m.devices, 20);
        assert_eq!(m.shards, vec![0, 1]);
        assert_eq!(m.sessions.failed["refused: not authorised"], 2);
        assert!(
            LoadReport::merge(&[a.clone(), a.clone()])
                .unwrap_err()
                .contains("twice")
        );
        let mut c = b.clone();
        c.qos = 0;
        assert!(LoadReport::merge(&[a, c]).unwrap_err().contains("qos"));
    }

    #[test]
    fn prometheus_has_counts_and_quantiles() {
        let r = report(0, &[1_000_000]);
        let p = r.prometheus();
        assert!(p.contains("fabtwin_load_messages_sent_total 1\n"), "{p}");
        assert!(
            p.contains("fabtwin_load_ack_latency_seconds{quantile=\"0.99\"} 0.001"),
            "{p}"
        );
        assert!(
            p.contains("fabtwin_load_connect_failures_total{reason=\"refused: not authorised\"} 1")
        );
    }
}
