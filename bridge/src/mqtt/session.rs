//! One MQTT session (a gateway's, or a device's): a small poll loop that moves
//! messages from its [`Outbox`] to the broker and their PUBACKs back, keeps the
//! retained status (with a last will) and metadata, and reconnects with backoff.
//!
//! Mapping PUBACKs to messages: rumqttc reports `Outgoing::Publish(pkid)` in
//! request order, and again for a resend on session resume. Each first report
//! takes the oldest waiting id; a report for a pkid already mapped is a resend.
//! On a reconnect without a resumed session rumqttc has dropped everything it
//! held, so every unacknowledged message goes back to the outbox and is sent
//! again (duplicates, if the broker had it, are counted by the subscriber).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectionError, Event, LastWill, MqttOptions, Outgoing, Packet, QoS, Transport,
};
use tokio::sync::{mpsc, oneshot};

pub use super::TlsFiles;
use super::outbox::{Offer, Outbox};
use super::sparkplug::SparkplugLink;
use super::{now_ms, qos};

/// Everything a session needs to connect.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// MQTT client id.
    pub client_id: String,
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// TLS, for `mqtts://`.
    pub tls: Option<TlsFiles>,
    /// Username and password (never logged).
    pub credentials: Option<(String, String)>,
    /// Telemetry QoS (0 or 1).
    pub qos: u8,
    /// Keep the broker-side session across reconnects.
    pub persistent: bool,
    /// Keep-alive, s.
    pub keep_alive_s: u64,
    /// Most unacknowledged publishes at a time.
    pub inflight: u16,
    /// Retained status topics: `online` on connect, `offline` as last will (first one) or on close.
    pub status_topics: Vec<String>,
    /// Retained messages published on every connect (device metadata).
    pub retained: Vec<(String, Vec<u8>)>,
    /// Topics subscribed on every connect (commands), QoS 1.
    pub subscribe: Vec<String>,
    /// Messages the outbox holds before back-pressure (link up) or its overflow policy (link down).
    pub capacity: usize,
    /// Most backlog messages sent per wall-clock second when draining after
    /// the session could not send (None: no limit).
    pub drain_rate: Option<f64>,
    /// Speak Sparkplug B: births on connect, NDEATH as will, DDATA from stored
    /// templates, rebirth on NCMD (clean sessions, as Sparkplug requires).
    pub sparkplug: Option<SparkplugLink>,
}

/// Counters of one session, readable while it runs.
#[derive(Debug, Default)]
pub struct SessionStats {
    /// Messages offered by the simulation.
    pub offered: AtomicU64,
    /// Telemetry publishes written to the socket (first sends and resends).
    pub publishes: AtomicU64,
    /// Telemetry messages acknowledged by the broker (QoS 1) or written (QoS 0).
    pub delivered: AtomicU64,
    /// Messages dropped by the outbox's overflow policy.
    pub dropped: AtomicU64,
    /// Messages sent again after a reconnect without a resumed session.
    pub resent: AtomicU64,
    /// Successful connections.
    pub connects: AtomicU64,
    /// Lost connections and failed attempts.
    pub connection_errors: AtomicU64,
    /// Whether the session is connected now.
    pub connected: AtomicBool,
    /// Why the last connection attempt failed or the last connection was lost.
    pub last_error: std::sync::Mutex<Option<String>>,
}

/// Something the session reports back.
#[derive(Debug)]
pub enum SessionEvent {
    /// Connected (with whether the broker resumed the session).
    Connected {
        /// Session present flag.
        resumed: bool,
    },
    /// Connection lost or refused, with the reason.
    Disconnected(String),
    /// Messages dropped by the outbox's overflow policy: (device, seq).
    Dropped(Vec<(usize, u64)>),
    /// A message arrived on a subscribed topic.
    Incoming {
        /// Topic.
        topic: String,
        /// Payload.
        payload: Vec<u8>,
    },
}

enum Cmd {
    Offer {
        device: usize,
        seq: u64,
        t_ns: u64,
        topic: String,
        payload: Vec<u8>,
    },
    Publish {
        topic: String,
        payload: Vec<u8>,
        retain: bool,
    },
    Hold(bool),
    Heartbeat {
        topic: String,
        ts: String,
    },
    Drain(oneshot::Sender<()>),
    Close(oneshot::Sender<()>),
}

/// Handle to a running session.
pub struct Session {
    tx: mpsc::Sender<Cmd>,
    stats: Arc<SessionStats>,
    task: tokio::task::JoinHandle<()>,
}

impl Session {
    /// Starts the session's task; events go to `events`.
    pub fn start(
        config: SessionConfig,
        outbox: Box<dyn Outbox>,
        events: mpsc::UnboundedSender<SessionEvent>,
    ) -> Session {
        let (tx, rx) = mpsc::channel(256);
        let stats = Arc::new(SessionStats::default());
        let task = tokio::spawn(run(config, outbox, rx, events, stats.clone()));
        Session { tx, stats, task }
    }

    /// Counters.
    pub fn stats(&self) -> &Arc<SessionStats> {
        &self.stats
    }

    /// Offers a telemetry message (waits while the command channel is full: back-pressure).
    pub async fn offer(&self, device: usize, seq: u64, t_ns: u64, topic: String, payload: Vec<u8>) {
        let _ = self
            .tx
            .send(Cmd::Offer {
                device,
                seq,
                t_ns,
                topic,
                payload,
            })
            .await;
    }

    /// Publishes a non-telemetry message (command reply, status) at QoS 1.
    pub async fn publish(&self, topic: String, payload: Vec<u8>, retain: bool) {
        let _ = self
            .tx
            .send(Cmd::Publish {
                topic,
                payload,
                retain,
            })
            .await;
    }

    /// Publishes a heartbeat (QoS 0) on `topic` if connected: sim time `ts`,
    /// messages buffered, connections made. Skipped while offline: a missing
    /// heartbeat is the signal.
    pub async fn heartbeat(&self, topic: String, ts: String) {
        let _ = self.tx.send(Cmd::Heartbeat { topic, ts }).await;
    }

    /// Holds (true) or resumes (false) sending: an outage of this gateway's link.
    pub async fn hold(&self, on: bool) {
        let _ = self.tx.send(Cmd::Hold(on)).await;
    }

    /// Waits (bounded) until the session has connected `count` times in all and is connected.
    pub async fn wait_connects(&self, count: u64, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.stats.connects.load(Ordering::Relaxed) < count
            || !self.stats.connected.load(Ordering::Relaxed)
        {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// Waits until everything offered so far is acknowledged (or `timeout` passes).
    pub async fn drain(&self, timeout: Duration) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Drain(tx)).await.is_err() {
            return false;
        }
        tokio::time::timeout(timeout, rx)
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Marks the devices offline (retained), disconnects cleanly and stops.
    pub async fn close(self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Close(tx)).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), rx).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}

fn options(c: &SessionConfig, sparkplug: Option<&mut SparkplugLink>) -> MqttOptions {
    let mut o = MqttOptions::new(c.client_id.clone(), c.host.clone(), c.port);
    o.set_keep_alive(Duration::from_secs(c.keep_alive_s.max(1)));
    o.set_clean_session(!c.persistent);
    o.set_inflight(c.inflight.max(1));
    o.set_max_packet_size(1 << 20, 1 << 20);
    if let Some((u, p)) = &c.credentials {
        o.set_credentials(u.clone(), p.clone());
    }
    if let Some(first) = c.status_topics.first() {
        o.set_last_will(LastWill::new(
            first.clone(),
            "offline",
            QoS::AtLeastOnce,
            true,
        ));
    }
    if let Some(tls) = &c.tls {
        o.set_transport(Transport::tls(tls.ca.clone(), tls.client.clone(), None));
    }
    if let Some(sp) = sparkplug {
        o.set_clean_session(true);
        o.set_last_will(sp.before_connect());
    }
    o
}

async fn run(
    config: SessionConfig,
    mut outbox: Box<dyn Outbox>,
    mut rx: mpsc::Receiver<Cmd>,
    events: mpsc::UnboundedSender<SessionEvent>,
    stats: Arc<SessionStats>,
) {
    let window = usize::from(config.inflight.max(1));
    let capacity = config.capacity.max(1);
    let mut sparkplug = config.sparkplug.clone();
    let (client, mut eventloop) =
        AsyncClient::new(options(&config, sparkplug.as_mut()), window + 64);
    // Ids of requested publishes not yet seen on the wire; None = a control message.
    let mut waiting: VecDeque<Option<u64>> = VecDeque::new();
    // pkid → id of telemetry on the wire, not yet acknowledged.
    let mut on_wire: BTreeMap<u16, Option<u64>> = BTreeMap::new();
    let mut connected = false;
    let mut held = false;
    let mut closing: Option<oneshot::Sender<()>> = None;
    let mut drains: Vec<oneshot::Sender<()>> = Vec::new();
    let mut backoff = Duration::from_millis(50);
    let mut retry_at: Option<tokio::time::Instant> = None;
    let mut inputs_open = true;
    let mut could_send = false;
    let mut drain = config.drain_rate.map(DrainLimit::new);
    // Messages at the head of the outbox that waited while the session could not
    // send: the backlog the drain rate applies to.
    let mut backlog = 0usize;
    loop {
        let can_send = connected && !held;
        if can_send && !could_send {
            backlog = outbox.len();
            if let Some(sp) = sparkplug.as_mut() {
                sp.sending_resumed();
            }
        }
        could_send = can_send;
        let mut drain_wake = None;
        // Fill the in-flight window from the outbox.
        if connected && !held && closing.is_none() {
            let mut room = window.saturating_sub(waiting.len() + on_wire.len());
            if backlog > 0
                && let Some(d) = drain.as_mut()
            {
                let want = room.min(backlog);
                let allowed = d.allowed(want);
                if allowed < want {
                    drain_wake = Some(d.next_token());
                }
                room = allowed;
            }
            let batch = outbox.take_unsent(room);
            let from_backlog = batch.len().min(backlog);
            backlog -= from_backlog;
            if let Some(d) = drain.as_mut() {
                d.spend(from_backlog);
            }
            let expired = outbox.take_dropped();
            if !expired.is_empty() {
                stats
                    .dropped
                    .fetch_add(expired.len() as u64, Ordering::Relaxed);
                let _ = events.send(SessionEvent::Dropped(expired));
            }
            for r in batch {
                let (topic, payload) = match sparkplug.as_mut() {
                    None => (r.topic, r.payload),
                    Some(sp) => match sp.data(&r, now_ms()) {
                        Ok(p) => (p.topic, p.payload),
                        Err(e) => {
                            // A template that does not fit its DBIRTH: a fabtwin bug, counted, not hidden.
                            tracing::error!(
                                device = r.device,
                                seq = r.seq,
                                "cannot encode DDATA, message dropped: {e}"
                            );
                            outbox.ack(r.id);
                            stats.dropped.fetch_add(1, Ordering::Relaxed);
                            let _ = events.send(SessionEvent::Dropped(vec![(r.device, r.seq)]));
                            continue;
                        }
                    },
                };
                if client
                    .try_publish(topic, qos(config.qos), false, payload)
                    .is_ok()
                {
                    waiting.push_back(Some(r.id));
                } else {
                    outbox.requeue_in_flight();
                    break;
                }
            }
        }
        if outbox.is_empty() && waiting.is_empty() {
            for d in drains.drain(..) {
                let _ = d.send(());
            }
        }
        tokio::select! {
            // Waiting to reconnect: keep taking messages meanwhile (the gateway
            // buffers while offline), and try again when the backoff is over.
            _ = tokio::time::sleep_until(retry_at.unwrap_or_else(tokio::time::Instant::now)), if retry_at.is_some() => {
                retry_at = None;
            }
            // Draining at the drain rate: come back when the next token is due.
            _ = tokio::time::sleep_until(drain_wake.unwrap_or_else(tokio::time::Instant::now)), if drain_wake.is_some() => {}
            ev = eventloop.poll(), if retry_at.is_none() => match ev {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    connected = true;
                    backoff = Duration::from_millis(50);
                    stats.connects.fetch_add(1, Ordering::Relaxed);
                    stats.connected.store(true, Ordering::Relaxed);
                    if !ack.session_present {
                        // rumqttc dropped what it held: all of it goes again.
                        let lost = waiting.iter().chain(on_wire.values()).filter(|x| x.is_some()).count() as u64;
                        stats.resent.fetch_add(lost, Ordering::Relaxed);
                        waiting.clear();
                        on_wire.clear();
                        outbox.requeue_in_flight();
                    }
                    if let Some(sp) = sparkplug.as_mut() {
                        // Subscribe to NCMD before NBIRTH, so no rebirth request is missed.
                        let _ = client.try_subscribe(sp.ncmd_topic().to_string(), QoS::AtLeastOnce);
                        match sp.births(now_ms()) {
                            Ok(births) => {
                                for b in births {
                                    if client.try_publish(b.topic, qos(b.qos), b.retain, b.payload).is_ok() {
                                        waiting.push_back(None);
                                    }
                                }
                            }
                            Err(e) => tracing::error!("cannot encode the Sparkplug births: {e}"),
                        }
                    }
                    for t in &config.status_topics {
                        if client.try_publish(t.clone(), QoS::AtLeastOnce, true, "online").is_ok() {
                            waiting.push_back(None);
                        }
                    }
                    for (t, p) in &config.retained {
                        if client.try_publish(t.clone(), QoS::AtLeastOnce, true, p.clone()).is_ok() {
                            waiting.push_back(None);
                        }
                    }
                    for t in &config.subscribe {
                        let _ = client.try_subscribe(t.clone(), QoS::AtLeastOnce);
                    }
                    let _ = events.send(SessionEvent::Connected { resumed: ack.session_present });
                }
                Ok(Event::Outgoing(Outgoing::Publish(pkid))) => {
                    if pkid == 0 {
                        // QoS 0: written is all the delivery there is.
                        if let Some(Some(id)) = waiting.pop_front() {
                            outbox.ack(id);
                            stats.delivered.fetch_add(1, Ordering::Relaxed);
                            stats.publishes.fetch_add(1, Ordering::Relaxed);
                        }
                    } else if let std::collections::btree_map::Entry::Vacant(e) = on_wire.entry(pkid) {
                        let id = waiting.pop_front().flatten();
                        if id.is_some() {
                            stats.publishes.fetch_add(1, Ordering::Relaxed);
                        }
                        e.insert(id);
                    } else if on_wire.get(&pkid).is_some_and(|x| x.is_some()) {
                        stats.publishes.fetch_add(1, Ordering::Relaxed); // a resend on resume
                    }
                }
                Ok(Event::Incoming(Packet::PubAck(ack))) => {
                    if let Some(Some(id)) = on_wire.remove(&ack.pkid) {
                        outbox.ack(id);
                        stats.delivered.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    match sparkplug.as_mut().and_then(|sp| sp.command(&p.topic, &p.payload, now_ms())) {
                        Some(Ok(births)) => {
                            for b in births {
                                if client.try_publish(b.topic, qos(b.qos), b.retain, b.payload).is_ok() {
                                    waiting.push_back(None);
                                }
                            }
                        }
                        Some(Err(e)) => tracing::warn!(topic = %p.topic, "NCMD refused: {e}"),
                        None => {
                            let _ = events.send(SessionEvent::Incoming { topic: p.topic, payload: p.payload.to_vec() });
                        }
                    }
                }
                Ok(Event::Outgoing(Outgoing::Disconnect)) => {
                    if let Some(done) = closing.take() {
                        let _ = done.send(());
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let why = describe(&e);
                    if let Ok(mut last) = stats.last_error.lock() {
                        *last = Some(why.clone());
                    }
                    if connected {
                        let _ = events.send(SessionEvent::Disconnected(why));
                    }
                    connected = false;
                    stats.connected.store(false, Ordering::Relaxed);
                    stats.connection_errors.fetch_add(1, Ordering::Relaxed);
                    if let Some(done) = closing.take() {
                        let _ = done.send(());
                        return;
                    }
                    if let Some(sp) = sparkplug.as_mut() {
                        // The next CONNECT carries the next bdSeq in its will.
                        sp.on_disconnect();
                        eventloop.mqtt_options.set_last_will(sp.before_connect());
                    }
                    retry_at = Some(tokio::time::Instant::now() + backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            },
            // Back-pressure: while the link is up, a full outbox stops taking messages
            // (the simulation waits) instead of applying its overflow policy, which is
            // for a gateway that cannot send.
            cmd = rx.recv(), if inputs_open && closing.is_none() && (outbox.len() < capacity || !connected || held) => match cmd {
                Some(Cmd::Offer { device, seq, t_ns, topic, payload }) => {
                    stats.offered.fetch_add(1, Ordering::Relaxed);
                    if let Some(sp) = sparkplug.as_mut() {
                        sp.offered(t_ns);
                    }
                    match outbox.offer(device, seq, t_ns, &topic, &payload) {
                        Offer::Stored => {}
                        Offer::StoredDropped(d) => {
                            stats.dropped.fetch_add(d.len() as u64, Ordering::Relaxed);
                            let _ = events.send(SessionEvent::Dropped(d));
                        }
                        Offer::Rejected => {
                            stats.dropped.fetch_add(1, Ordering::Relaxed);
                            let _ = events.send(SessionEvent::Dropped(vec![(device, seq)]));
                        }
                    }
                }
                Some(Cmd::Publish { topic, payload, retain }) => {
                    if client.try_publish(topic, QoS::AtLeastOnce, retain, payload).is_ok() {
                        waiting.push_back(None);
                    }
                }
                Some(Cmd::Hold(on)) => held = on,
                Some(Cmd::Heartbeat { topic, ts }) => {
                    if connected && !held {
                        let beat = serde_json::json!({
                            "client_id": config.client_id,
                            "ts": ts,
                            "buffered": outbox.len(),
                            "connects": stats.connects.load(Ordering::Relaxed),
                        });
                        if client.try_publish(topic, QoS::AtMostOnce, false, beat.to_string()).is_ok() {
                            waiting.push_back(None);
                        }
                    }
                }
                Some(Cmd::Drain(done)) => drains.push(done),
                Some(Cmd::Close(done)) => {
                    if let Some(sp) = &sparkplug {
                        let death = sp.death();
                        let _ = client.try_publish(death.topic, qos(death.qos), death.retain, death.payload);
                    }
                    for t in &config.status_topics {
                        let _ = client.try_publish(t.clone(), QoS::AtLeastOnce, true, "offline");
                    }
                    let _ = client.try_disconnect();
                    if connected {
                        closing = Some(done);
                    } else {
                        let _ = done.send(());
                        return;
                    }
                }
                None => inputs_open = false,
            },
        }
    }
}

/// A token bucket over wall time: at most `rate` messages per second, in
/// bursts of at most a twentieth of a second's worth.
struct DrainLimit {
    rate: f64,
    tokens: f64,
    burst: f64,
    at: tokio::time::Instant,
}

impl DrainLimit {
    fn new(rate: f64) -> DrainLimit {
        let burst = (rate / 20.0).max(1.0);
        DrainLimit {
            rate,
            tokens: burst,
            burst,
            at: tokio::time::Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = tokio::time::Instant::now();
        self.tokens = (self.tokens + (now - self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
    }

    /// How many of `want` may go now.
    fn allowed(&mut self, want: usize) -> usize {
        self.refill();
        (self.tokens.floor().max(0.0) as usize).min(want)
    }

    fn spend(&mut self, n: usize) {
        self.tokens -= n as f64;
    }

    /// When the next whole token is due.
    fn next_token(&self) -> tokio::time::Instant {
        let missing = (1.0 - self.tokens).max(0.0);
        self.at + Duration::from_secs_f64(missing / self.rate)
    }
}

fn describe(e: &ConnectionError) -> String {
    match e {
        ConnectionError::ConnectionRefused(code) => {
            format!("broker refused the connection: {code:?}")
        }
        other => other.to_string(),
    }
}
