//! What one load run shares between its publisher and subscriber tasks: the
//! settings, the live counters a progress display reads, and opening a
//! session (TCP or TLS, CONNECT, CONNACK) from an optional source address.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use hdrhistogram::Histogram;
use rumqttc::mqttbytes::v4::Packet;
use tokio::net::TcpSocket;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::{Instant, timeout_at};

use super::conn::Conn;
use super::pool::{Fleet, Shard};
use super::wire;

/// Settings of one run (one shard).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Broker address.
    pub addr: SocketAddr,
    /// TLS (`mqtts://`), or None for plain TCP.
    pub tls: Option<super::conn::Tls>,
    /// Broker URL as the user wrote it (for the report).
    pub broker: String,
    /// 0 or 1.
    pub qos: u8,
    /// Fleet-wide messages per second (all shards together).
    pub rate: f64,
    /// How long the schedule runs.
    pub duration: Duration,
    /// Connects per second (None: as fast as the broker takes them, 256 at a time).
    pub ramp: Option<f64>,
    /// Subscriber sessions (0: no end-to-end measurement).
    pub subscribers: usize,
    /// Local addresses to connect from, round robin (empty: the kernel's choice).
    pub source_addrs: Vec<IpAddr>,
    /// Username and password.
    pub login: Option<(String, String)>,
    /// QoS 1: unacknowledged publishes per session before it waits.
    pub inflight: usize,
    /// Bounded wait after the schedule ends for acks and deliveries.
    pub drain: Duration,
    /// Wait for TCP connect plus CONNACK.
    pub connect_timeout: Duration,
    /// Client id prefix (ids are `{prefix}-{device index}`).
    pub client_prefix: String,
    /// The shard this process drives.
    pub shard: Shard,
    /// Open-file limit in force (for the report).
    pub nofile: u64,
}

/// Counters a progress display reads while the run goes on.
#[derive(Debug, Default)]
pub struct Live {
    /// Sessions connected now.
    pub connected: AtomicU64,
    /// Messages sent so far.
    pub sent: AtomicU64,
    /// Messages received so far.
    pub received: AtomicU64,
    /// Distinct messages received so far.
    pub distinct: AtomicU64,
    /// Latest end-to-end p99 seen by a subscriber, µs.
    pub p99_us: AtomicU64,
    /// Set once publishing has started.
    pub publishing: AtomicBool,
}

/// State shared by every task of a run.
pub(super) struct Shared {
    pub(super) fleet: Arc<Fleet>,
    pub(super) s: Settings,
    pub(super) live: Arc<Live>,
    pub(super) t0: Instant,
    pub(super) go: watch::Receiver<Option<(Instant, u64)>>,
    pub(super) stop: watch::Receiver<bool>,
    pub(super) attempts_done: AtomicUsize,
    pub(super) progress: Notify,
    pub(super) connect_hist: Mutex<Histogram<u64>>,
    pub(super) ack_hist: Mutex<Histogram<u64>>,
    pub(super) peak: AtomicU64,
    pub(super) connect_gate: Option<Semaphore>,
    pub(super) last_connect: Mutex<Option<Instant>>,
}

/// Wall-clock nanoseconds since the Unix epoch.
pub(super) fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Connects and waits for a CONNACK; returns the stream or the reason it failed.
pub(super) async fn open(
    shared: &Shared,
    i: usize,
    client_id: &str,
    will: Option<(&str, &[u8])>,
    rbuf: &mut BytesMut,
) -> Result<Conn, String> {
    let s = &shared.s;
    let deadline = Instant::now() + s.connect_timeout;
    let socket = match s.addr {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(|e| wire::io_reason(&e, "socket"))?;
    if !s.source_addrs.is_empty() {
        let ip = s.source_addrs[i % s.source_addrs.len()];
        socket
            .bind(SocketAddr::new(ip, 0))
            .map_err(|e| wire::io_reason(&e, &format!("bind {ip}")))?;
    }
    let stream = match timeout_at(deadline, socket.connect(s.addr)).await {
        Err(_) => return Err("connect timed out (TCP)".into()),
        Ok(r) => r.map_err(|e| wire::io_reason(&e, "connect"))?,
    };
    let _ = stream.set_nodelay(true);
    let mut stream = match &s.tls {
        None => Conn::Plain(stream),
        Some(tls) => match timeout_at(deadline, tls.connect(stream)).await {
            Err(_) => return Err("connect timed out (TLS handshake)".into()),
            Ok(r) => r.map_err(|e| wire::io_reason(&e, "TLS handshake"))?,
        },
    };
    let mut out = BytesMut::with_capacity(64);
    let login = s.login.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
    wire::connect(&mut out, client_id, login, will);
    match timeout_at(deadline, stream.send(&out)).await {
        Err(_) => return Err("connect timed out (CONNECT write)".into()),
        Ok(r) => r.map_err(|e| wire::io_reason(&e, "CONNECT"))?,
    }
    loop {
        rbuf.reserve(64);
        let read = match timeout_at(deadline, stream.read_buf(rbuf)).await {
            Err(_) => return Err("connect timed out (no CONNACK)".into()),
            Ok(r) => r.map_err(|e| wire::io_reason(&e, "before CONNACK"))?,
        };
        if read == 0 {
            return Err("before CONNACK: closed by broker".into());
        }
        let mut ack = None;
        wire::read_packets(rbuf, |p| {
            if let Packet::ConnAck(a) = p {
                ack.get_or_insert(a.code);
            }
        })?;
        if let Some(code) = ack {
            return match wire::refusal(code) {
                None => Ok(stream),
                Some(r) => Err(r.to_string()),
            };
        }
    }
}
