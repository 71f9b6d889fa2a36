//! A scenario's gateways as MQTT sessions: one per gateway, or one per device
//! where the scenario asks, each with its own outbox, retained device metadata
//! and status (last will), publishing the telemetry the simulation produces.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use fabtwin_sim::scenario::{Scenario, Session as SessionLayout};
use fabtwin_sim::telemetry::Telemetry;

use fabtwin_sim::scenario::{Codec, NetKind, NetworkFault};
use fabtwin_sim::time::SimTime;

use super::durable::DurableOutbox;
use super::outbox::{MemoryOutbox, Outbox};
use super::proxy::{FaultProxy, LinkState};
use super::session::{Session, SessionConfig, SessionEvent, TlsFiles};
use super::sparkplug::SparkplugLink;
use crate::buffer::SyncPolicy;
use crate::codec::json;
use crate::codec::sparkplug::{CodecError, DeviceSchema};
use crate::topics::Topics;

/// How to reach the broker, shared by every session.
#[derive(Clone, Debug)]
pub struct Connect {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// TLS material for mqtts.
    pub tls: Option<TlsFiles>,
    /// Username and password (never logged).
    pub credentials: Option<(String, String)>,
    /// Per-session identities by client id (least privilege: each gateway or
    /// device as itself); sessions not listed use `credentials`.
    pub identities: BTreeMap<String, SessionIdentity>,
    /// Keep the broker-side session across reconnects (QoS 1 "nothing lost" mode).
    pub persistent: bool,
    /// Messages each session's outbox holds before its overflow policy applies.
    pub outbox_capacity: usize,
    /// Client id prefix.
    pub client_prefix: String,
    /// How long the first connection of each session may take.
    pub connect_timeout: Duration,
    /// Keep each session's outbox on disk here (one subdirectory per session), so
    /// buffered messages survive a crash of fabtwin.
    pub buffer_dir: Option<std::path::PathBuf>,
    /// Continue an earlier run whose buffers are in `buffer_dir`.
    pub resume: bool,
}

/// One session's own identity.
#[derive(Clone, Debug)]
pub struct SessionIdentity {
    /// Username and password (never logged).
    pub credentials: (String, String),
    /// Client certificate and key (PEM), for mqtts.
    pub client_cert: Option<(Vec<u8>, Vec<u8>)>,
}

/// Per-session counters in the run report.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SessionReport {
    /// Client id.
    pub client_id: String,
    /// Telemetry messages offered by the simulation.
    pub sent: u64,
    /// Acknowledged by the broker (QoS 1) or written (QoS 0).
    pub delivered: u64,
    /// Dropped by the outbox's overflow policy.
    pub dropped: u64,
    /// Still held when the run ended.
    pub buffered: u64,
    /// Sent again after a reconnect without a resumed session.
    pub resent: u64,
    /// Held over from an earlier run (`--resume`): sent + recovered =
    /// delivered + dropped + buffered.
    pub recovered: u64,
    /// Connections made.
    pub connects: u64,
    /// Lost connections and failed attempts.
    pub connection_errors: u64,
}

/// The fleet's sessions.
pub struct Fleet {
    sessions: Vec<Session>,
    ids: Vec<String>,
    /// Session index of each (gateway, machine).
    route: BTreeMap<usize, usize>,
    /// Sparkplug (group, edge node) of each session that speaks it.
    sparkplug: Vec<Option<(String, String)>>,
    /// Heartbeat topic of each session (JSON sessions only: Sparkplug's
    /// births and deaths say the same).
    heartbeats: Vec<Option<String>>,
    /// Sim time of each gateway's next heartbeat.
    next_heartbeat: Vec<SimTime>,
    events: mpsc::UnboundedReceiver<SessionEvent>,
    topics: Topics,
    /// Sessions of each gateway.
    by_gateway: Vec<Vec<usize>>,
    /// The fault proxy in front of each gateway that has network faults.
    proxies: Vec<Option<FaultProxy>>,
    /// Link state applied to each gateway so far.
    link: Vec<LinkState>,
    /// Each session's connection count when its link last went down.
    connects_before_outage: Vec<u64>,
    /// Running faster than real time: let sessions settle before a link fails.
    pub settle: bool,
    /// Command topic → machine index.
    commands_by_topic: BTreeMap<String, usize>,
    /// Commands received and not yet taken.
    commands: Vec<(usize, Vec<u8>)>,
    /// Resuming: the highest seq of each device an earlier run already handed to
    /// its buffer; those messages are not offered again.
    pub resume_after: BTreeMap<usize, u64>,
    /// Messages each session's buffer held from an earlier run.
    recovered: Vec<u64>,
    /// Offline intervals per gateway (sim time), from scheduled and commanded
    /// outages; an open one ends at `SimTime(u64::MAX)` until cleared.
    pub offline: Vec<Vec<(SimTime, SimTime)>>,
    /// Network faults injected by command, applied after the scenario's.
    commanded: Vec<NetworkFault>,
    /// Highest seq sent per device id.
    pub last_seq: BTreeMap<String, u64>,
}

impl Fleet {
    /// Opens the sessions of `scenario`; gateways with network faults connect
    /// through their own fault proxy.
    pub async fn connect(
        scenario: &Scenario,
        topics: &Topics,
        c: &Connect,
    ) -> std::io::Result<Fleet> {
        let (tx, events) = mpsc::unbounded_channel();
        let mut sessions = Vec::new();
        let mut ids = Vec::new();
        let mut route = BTreeMap::new();
        let mut sparkplug = Vec::new();
        let mut heartbeats = Vec::new();
        let mut by_gateway = Vec::new();
        let mut proxies = Vec::new();
        let mut resume_after = BTreeMap::new();
        let mut recovered = Vec::new();
        for (gi, g) in scenario.gateways.iter().enumerate() {
            // Every gateway on plain MQTT gets a fault proxy, so network faults can
            // also come by command; under TLS a proxy would not match the broker's
            // certificate name, so only gateways with scheduled faults have one.
            let proxy = if c.tls.is_none()
                || scenario.network_faults.iter().any(|f| f.gateway == gi)
            {
                let upstream = tokio::net::lookup_host((c.host.as_str(), c.port))
                    .await?
                    .next()
                    .ok_or_else(|| std::io::Error::other(format!("{} does not resolve", c.host)))?;
                Some(FaultProxy::start(upstream).await?)
            } else {
                None
            };
            let (host, port) = match &proxy {
                Some(p) => (p.addr().ip().to_string(), p.addr().port()),
                None => (c.host.clone(), c.port),
            };
            let mut mine = Vec::new();
            let groups: Vec<Vec<usize>> = match g.session {
                SessionLayout::PerGateway => vec![g.machines.clone()],
                SessionLayout::PerDevice => g.machines.iter().map(|&m| vec![m]).collect(),
            };
            for members in groups {
                let client_id = match (g.session, members.as_slice()) {
                    (SessionLayout::PerDevice, [m]) => {
                        format!("{}{}", c.client_prefix, scenario.machines[*m].id)
                    }
                    _ => format!("{}{}", c.client_prefix, g.id),
                };
                let mut status_topics = vec![topics.gateway_status(&g.site, &g.id)];
                let mut retained = Vec::new();
                let mut subscribe = Vec::new();
                for &m in &members {
                    let machine = &scenario.machines[m];
                    status_topics.push(topics.status(&machine.site, &g.id, &machine.id));
                    let meta = json::meta(scenario, topics, m);
                    retained.push((meta.topic, meta.payload));
                    subscribe.push(topics.command(&machine.site, &g.id, &machine.id));
                    route.insert(m, sessions.len());
                }
                if matches!(g.session, SessionLayout::PerDevice) {
                    status_topics.remove(0);
                }
                let link = if g.codec == Codec::SparkplugB {
                    // Sparkplug's births and deaths are the status and metadata.
                    status_topics.clear();
                    retained.clear();
                    let edge = match (g.session, members.as_slice()) {
                        (SessionLayout::PerDevice, [m]) => scenario.machines[*m].id.clone(),
                        _ => g.id.clone(),
                    };
                    let devices = members
                        .iter()
                        .map(|&m| Ok((m, DeviceSchema::for_machine(&scenario.machines[m])?)))
                        .collect::<Result<Vec<_>, CodecError>>()
                        .and_then(|d| SparkplugLink::new(&g.site, &edge, d))
                        .map_err(|e| std::io::Error::other(format!("gateway {}: {e}", g.id)))?;
                    sparkplug.push(Some((g.site.clone(), edge)));
                    Some(devices)
                } else {
                    sparkplug.push(None);
                    None
                };
                let config = SessionConfig {
                    client_id: client_id.clone(),
                    host: host.clone(),
                    port,
                    tls: match (&c.tls, c.identities.get(&client_id)) {
                        (
                            Some(t),
                            Some(SessionIdentity {
                                client_cert: Some(cert),
                                ..
                            }),
                        ) => Some(TlsFiles {
                            ca: t.ca.clone(),
                            client: Some(cert.clone()),
                        }),
                        (t, _) => t.clone(),
                    },
                    credentials: c
                        .identities
                        .get(&client_id)
                        .map(|i| i.credentials.clone())
                        .or_else(|| c.credentials.clone()),
                    qos: g.qos,
                    persistent: c.persistent,
                    keep_alive_s: 30,
                    inflight: 100,
                    status_topics,
                    retained,
                    subscribe,
                    capacity: (g.buffer.max_messages as usize).min(c.outbox_capacity.max(1)),
                    drain_rate: Some(g.buffer.drain_rate),
                    sparkplug: link,
                };
                let outbox: Box<dyn Outbox> = match &c.buffer_dir {
                    None => {
                        recovered.push(0);
                        Box::new(
                            MemoryOutbox::new(
                                config.capacity,
                                g.buffer.overflow == fabtwin_sim::scenario::Overflow::RejectNew,
                            )
                            .with_ttl(g.buffer.ttl.map(|d| d.0)),
                        )
                    }
                    Some(root) => {
                        let ids: Vec<String> =
                            scenario.machines.iter().map(|m| m.id.clone()).collect();
                        let dir = root.join(&client_id);
                        let (outbox, recovery) =
                            DurableOutbox::open(&dir, ids, g.buffer, SyncPolicy::Batch).map_err(
                                |e| std::io::Error::other(format!("buffer {}: {e}", dir.display())),
                            )?;
                        for &m in &members {
                            if let Some(seq) = outbox.last_seq(m) {
                                if !c.resume {
                                    return Err(std::io::Error::other(format!(
                                        "buffer {} holds the state of an earlier run (device {} reached seq {seq}): pass --resume to continue it, or remove the directory",
                                        dir.display(),
                                        scenario.machines[m].id
                                    )));
                                }
                                resume_after.insert(m, seq);
                            }
                        }
                        tracing::info!(dir = %dir.display(), ?recovery, "buffer opened");
                        recovered.push(outbox.len() as u64);
                        Box::new(outbox)
                    }
                };
                let heartbeat_device = match (g.session, members.as_slice()) {
                    (SessionLayout::PerDevice, [m]) => Some(scenario.machines[*m].id.as_str()),
                    _ => None,
                };
                heartbeats.push(
                    (g.codec == Codec::Json)
                        .then(|| topics.heartbeat(&g.site, &g.id, heartbeat_device)),
                );
                mine.push(sessions.len());
                sessions.push(Session::start(config, outbox, tx.clone()));
                ids.push(client_id);
            }
            by_gateway.push(mine);
            proxies.push(proxy);
        }
        // Start simulating only once every session is connected: otherwise, running
        // faster than real time, the first hours of sim time would overflow the
        // outboxes before the first CONNACK arrives.
        for (session, id) in sessions.iter().zip(&ids) {
            if !session.wait_connects(1, c.connect_timeout).await {
                let why = session
                    .stats()
                    .last_error
                    .lock()
                    .ok()
                    .and_then(|l| l.clone())
                    .unwrap_or_else(|| "no answer".into());
                return Err(std::io::Error::other(format!(
                    "session {id} could not connect to {}:{} within {:?}: {why}",
                    c.host, c.port, c.connect_timeout
                )));
            }
        }
        let n = scenario.gateways.len();
        let n_sessions = sessions.len();
        Ok(Fleet {
            sessions,
            ids,
            route,
            sparkplug,
            heartbeats,
            next_heartbeat: vec![SimTime(0); n],
            events,
            topics: topics.clone(),
            by_gateway,
            proxies,
            link: vec![LinkState::Up; n],
            connects_before_outage: vec![0; n_sessions],
            settle: true,
            commands_by_topic: scenario
                .machines
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    (
                        topics.command(&m.site, &scenario.gateways[m.gateway].id, &m.id),
                        i,
                    )
                })
                .collect(),
            commands: Vec::new(),
            resume_after,
            recovered,
            offline: vec![Vec::new(); n],
            commanded: Vec::new(),
            last_seq: BTreeMap::new(),
        })
    }

    /// Applies the scenario's network faults as of sim time `t`: the proxy takes the
    /// link's state, and during an outage the gateway holds its messages (it sees
    /// its link down) so they wait in its buffer, subject to its overflow policy.
    pub async fn apply_network(&mut self, scenario: &Scenario, t: SimTime) {
        for g in 0..self.proxies.len() {
            let Some(proxy) = &self.proxies[g] else {
                continue;
            };
            let active = scenario
                .network_faults
                .iter()
                .chain(&self.commanded)
                .rfind(|f| f.gateway == g && f.start <= t && t < f.end);
            let state = match active.map(|f| f.kind) {
                None => LinkState::Up,
                Some(NetKind::Outage) => LinkState::Down,
                Some(NetKind::Latency(ms)) => LinkState::Latency(Duration::from_secs_f64(ms / 1e3)),
                Some(NetKind::Loss(p)) => LinkState::Loss(p),
                Some(NetKind::Partition) => LinkState::Partition,
            };
            if state == self.link[g] {
                continue;
            }
            let was_down = self.link[g] == LinkState::Down;
            let down = state == LinkState::Down;
            if down && let Some(f) = active {
                self.offline[g].push((f.start, f.end));
            }
            if self.settle && self.link[g] == LinkState::Up {
                // Compressed time: a real gateway publishing every few minutes has
                // nothing in flight when its link fails; let it reach that state.
                for &s in &self.by_gateway[g] {
                    self.sessions[s].drain(Duration::from_secs(15)).await;
                }
            }
            proxy.set(state);
            if down && !was_down {
                for &s in &self.by_gateway[g] {
                    self.connects_before_outage[s] = self.sessions[s]
                        .stats()
                        .connects
                        .load(std::sync::atomic::Ordering::Relaxed);
                    self.sessions[s].hold(true).await;
                }
            }
            if was_down && !down {
                // Running faster than real time, the simulation would race past hours of
                // sim time while the gateway reconnects: wait for its new connection, as
                // sim time would, before releasing what it holds.
                for &s in &self.by_gateway[g] {
                    self.sessions[s]
                        .wait_connects(self.connects_before_outage[s] + 1, Duration::from_secs(15))
                        .await;
                    self.sessions[s].hold(false).await;
                }
            }
            self.link[g] = state;
        }
    }

    /// Fails `gateway`'s link from `t` (until `end`, or until cleared), as a
    /// command asked. Needs the gateway's fault proxy, which every gateway has
    /// on plain `mqtt://`; under TLS only gateways with scheduled network faults
    /// have one (a proxy in between would not match the broker's certificate).
    pub fn inject_network(
        &mut self,
        gateway: usize,
        kind: NetKind,
        t: SimTime,
        end: Option<SimTime>,
    ) -> Result<(), String> {
        if self.proxies.get(gateway).is_none_or(Option::is_none) {
            return Err("this gateway has no fault proxy: with mqtts:// only gateways with a scheduled network fault can take one by command".into());
        }
        self.commanded.push(NetworkFault {
            gateway,
            kind,
            start: t,
            end: end.unwrap_or(SimTime(u64::MAX)),
        });
        Ok(())
    }

    /// Ends the network faults injected by command on `gateway` at `t`; returns how many.
    pub fn clear_network(&mut self, gateway: usize, t: SimTime) -> usize {
        let mut n = 0;
        for f in &mut self.commanded {
            if f.gateway == gateway && f.end > t {
                f.end = t;
                n += 1;
            }
        }
        for o in self.offline.get_mut(gateway).into_iter().flatten() {
            if o.1 > t {
                o.1 = t;
            }
        }
        n
    }

    /// Publishes the heartbeats due at sim time `t` (each gateway's sessions,
    /// every `heartbeat` of sim time; skipped by sessions that are offline).
    pub async fn heartbeat(&mut self, scenario: &Scenario, t: SimTime) {
        for (g, gw) in scenario.gateways.iter().enumerate() {
            let Some(every) = gw.heartbeat else {
                continue;
            };
            if t < self.next_heartbeat[g] {
                continue;
            }
            let ts = scenario.start.format(t);
            for &s in &self.by_gateway[g] {
                if let Some(topic) = &self.heartbeats[s] {
                    self.sessions[s].heartbeat(topic.clone(), ts.clone()).await;
                }
            }
            // The next beat is one interval after this one, on the interval's grid.
            let k = t.0 / every.0.max(1) + 1;
            self.next_heartbeat[g] = SimTime(k * every.0.max(1));
        }
    }

    /// Sends one telemetry message through its session (waits under back-pressure).
    pub async fn send(&mut self, scenario: &Scenario, m: &Telemetry, wall_ns: u64) {
        if self
            .resume_after
            .get(&m.machine)
            .is_some_and(|&last| m.seq <= last)
        {
            return;
        }
        if let Some(&s) = self.route.get(&m.machine) {
            let (topic, payload) = match &self.sparkplug[s] {
                None => {
                    let msg = json::telemetry(scenario, &self.topics, m);
                    (msg.topic, json::with_sent_ns(&msg.payload, wall_ns))
                }
                Some((group, edge)) => match SparkplugLink::template(scenario, group, edge, m) {
                    Ok(t) => t,
                    Err(e) => {
                        tracing::error!(machine = %scenario.machines[m.machine].id, seq = m.seq, "cannot encode Sparkplug DDATA, message not sent: {e}");
                        return;
                    }
                },
            };
            self.last_seq
                .insert(scenario.machines[m.machine].id.clone(), m.seq);
            self.sessions[s]
                .offer(m.machine, m.seq, m.t.0, topic, payload)
                .await;
        }
        self.pump_events();
    }

    fn pump_events(&mut self) {
        while let Ok(ev) = self.events.try_recv() {
            match ev {
                SessionEvent::Incoming { topic, payload } => {
                    if let Some(&m) = self.commands_by_topic.get(&topic) {
                        self.commands.push((m, payload));
                    }
                }
                other => log_event(&other),
            }
        }
    }

    /// Commands received since the last call: (machine index, payload), in arrival order.
    pub fn take_commands(&mut self) -> Vec<(usize, Vec<u8>)> {
        self.pump_events();
        std::mem::take(&mut self.commands)
    }

    /// Publishes `reply` on the reply topic of `machine`'s device.
    pub async fn reply(
        &self,
        scenario: &Scenario,
        machine: usize,
        reply: &crate::codec::command::Reply,
    ) {
        let m = &scenario.machines[machine];
        let topic = self
            .topics
            .reply(&m.site, &scenario.gateways[m.gateway].id, &m.id);
        if let Some(&s) = self.route.get(&machine) {
            let payload = serde_json::to_vec(reply).expect("a reply serialises");
            self.sessions[s].publish(topic, payload, false).await;
        }
    }

    /// Publishes a flow line's message (QoS 1, outside the telemetry
    /// accounting) through the first session of the line's gateway.
    pub async fn flow(&self, scenario: &Scenario, line: usize, msg: crate::codec::json::Message) {
        let g = scenario.flow[line].gateway;
        if let Some(&s) = self.by_gateway.get(g).and_then(|v| v.first()) {
            self.sessions[s]
                .publish(msg.topic, msg.payload, false)
                .await;
        }
    }

    /// Waits for every session to deliver what it holds (all within `timeout`),
    /// closes them cleanly, and returns their counters.
    pub async fn finish(self, timeout: Duration) -> Vec<SessionReport> {
        // One deadline for the whole fleet, not one timeout per session.
        let deadline = tokio::time::Instant::now() + timeout;
        for s in &self.sessions {
            s.drain(deadline.saturating_duration_since(tokio::time::Instant::now()))
                .await;
        }
        let reports: Vec<SessionReport> = self
            .sessions
            .iter()
            .zip(&self.ids)
            .enumerate()
            .map(|(i, (s, id))| {
                use std::sync::atomic::Ordering::Relaxed;
                let st = s.stats();
                let sent = st.offered.load(Relaxed);
                let delivered = st.delivered.load(Relaxed);
                let dropped = st.dropped.load(Relaxed);
                SessionReport {
                    client_id: id.clone(),
                    sent,
                    delivered,
                    dropped,
                    buffered: (sent + self.recovered[i]).saturating_sub(delivered + dropped),
                    recovered: self.recovered[i],
                    resent: st.resent.load(Relaxed),
                    connects: st.connects.load(Relaxed),
                    connection_errors: st.connection_errors.load(Relaxed),
                }
            })
            .collect();
        for s in self.sessions {
            s.close().await;
        }
        reports
    }
}

fn log_event(ev: &SessionEvent) {
    match ev {
        SessionEvent::Connected { resumed } => tracing::info!(resumed, "connected"),
        SessionEvent::Disconnected(why) => tracing::warn!("connection lost: {why}"),
        SessionEvent::Dropped(d) => {
            tracing::debug!(count = d.len(), "outbox full: messages dropped by policy")
        }
        SessionEvent::Incoming { topic, .. } => tracing::debug!(%topic, "command received"),
    }
}
