//! A scenario's gateways as MQTT sessions: one per gateway, or one per device
//! where the scenario asks, each with its own outbox, retained device metadata
//! and status (last will), publishing the telemetry the simulation produces.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use fabtwin_sim::scenario::{Scenario, Session as SessionLayout};
use fabtwin_sim::telemetry::Telemetry;

use super::outbox::{MemoryOutbox, Outbox};
use super::session::{Session, SessionConfig, SessionEvent, TlsFiles};
use crate::codec::json;
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
    /// Keep the broker-side session across reconnects (QoS 1 "nothing lost" mode).
    pub persistent: bool,
    /// Messages each session's outbox holds before its overflow policy applies.
    pub outbox_capacity: usize,
    /// Client id prefix.
    pub client_prefix: String,
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
    events: mpsc::UnboundedReceiver<SessionEvent>,
    topics: Topics,
    /// Highest seq sent per device id.
    pub last_seq: BTreeMap<String, u64>,
}

impl Fleet {
    /// Opens the sessions of `scenario` (inside a tokio runtime).
    pub fn connect(scenario: &Scenario, topics: &Topics, c: &Connect) -> Fleet {
        let (tx, events) = mpsc::unbounded_channel();
        let mut sessions = Vec::new();
        let mut ids = Vec::new();
        let mut route = BTreeMap::new();
        for g in &scenario.gateways {
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
                let config = SessionConfig {
                    client_id: client_id.clone(),
                    host: c.host.clone(),
                    port: c.port,
                    tls: c.tls.clone(),
                    credentials: c.credentials.clone(),
                    qos: g.qos,
                    persistent: c.persistent,
                    keep_alive_s: 30,
                    inflight: 100,
                    status_topics,
                    retained,
                    subscribe,
                };
                let outbox: Box<dyn Outbox> = Box::new(MemoryOutbox::new(c.outbox_capacity));
                sessions.push(Session::start(config, outbox, tx.clone()));
                ids.push(client_id);
            }
        }
        Fleet {
            sessions,
            ids,
            route,
            events,
            topics: topics.clone(),
            last_seq: BTreeMap::new(),
        }
    }

    /// Sends one telemetry message through its session (waits under back-pressure).
    pub async fn send(&mut self, scenario: &Scenario, m: &Telemetry, wall_ns: u64) {
        let msg = json::telemetry(scenario, &self.topics, m);
        let payload = json::with_sent_ns(&msg.payload, wall_ns);
        if let Some(&s) = self.route.get(&m.machine) {
            self.last_seq
                .insert(scenario.machines[m.machine].id.clone(), m.seq);
            self.sessions[s]
                .offer(m.machine, m.seq, m.t.0, msg.topic, payload)
                .await;
        }
        while let Ok(ev) = self.events.try_recv() {
            log_event(&ev);
        }
    }

    /// Waits for every session to deliver what it holds (bounded by `timeout`),
    /// closes them cleanly, and returns their counters.
    pub async fn finish(self, timeout: Duration) -> Vec<SessionReport> {
        for s in &self.sessions {
            s.drain(timeout).await;
        }
        let reports: Vec<SessionReport> = self
            .sessions
            .iter()
            .zip(&self.ids)
            .map(|(s, id)| {
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
                    buffered: sent.saturating_sub(delivered + dropped),
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
            tracing::warn!(count = d.len(), "outbox full: messages dropped by policy")
        }
        SessionEvent::Incoming { topic, .. } => tracing::debug!(%topic, "command received"),
    }
}
