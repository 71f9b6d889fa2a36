//! The twin's one MQTT session: it subscribes to everything under the root
//! (QoS 1, so retained metadata and status arrive first) and hands each message
//! to the renderer through a bounded channel; commands from the twin go out on
//! the same session. The renderer never waits on the network: when it falls
//! behind, messages are dropped here and counted ([`LinkStats::dropped`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, Packet, QoS};

use crate::mqtt::TlsFiles;

/// Messages held for the renderer before the link drops new ones.
pub const INBOX: usize = 65_536;

/// One message from the broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: Vec<u8>,
}

/// Live figures of the link.
#[derive(Debug, Default)]
pub struct LinkStats {
    /// Whether the session is connected now.
    pub connected: AtomicBool,
    /// Connections made.
    pub connects: AtomicU64,
    /// Messages received.
    pub received: AtomicU64,
    /// Messages dropped because the renderer's inbox was full.
    pub dropped: AtomicU64,
    /// Commands published.
    pub published: AtomicU64,
}

/// Where and as whom the link connects.
#[derive(Clone, Debug)]
pub struct LinkConfig {
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// Client id.
    pub client_id: String,
    /// Topic root to mirror (`fabtwin`).
    pub root: String,
    /// User name and password.
    pub credentials: Option<(String, String)>,
    /// TLS files for `mqtts`.
    pub tls: Option<TlsFiles>,
}

/// The running link: read [`Link::inbox`], publish with [`Link::publish`].
pub struct Link {
    /// Messages for the renderer.
    pub inbox: Receiver<Inbound>,
    /// Live figures.
    pub stats: Arc<LinkStats>,
    client: AsyncClient,
}

impl Link {
    /// Starts the session on the current tokio runtime; it reconnects on its own.
    pub fn start(config: &LinkConfig) -> Link {
        let o = crate::mqtt::reader_options(
            &config.host,
            config.port,
            &config.client_id,
            config.credentials.clone(),
            config.tls.as_ref(),
        );
        let (client, mut el) = AsyncClient::new(o, 256);
        let (tx, inbox): (SyncSender<Inbound>, _) = sync_channel(INBOX);
        let stats = Arc::new(LinkStats::default());
        let live = stats.clone();
        let filter = format!("{}/#", config.root.trim_end_matches('/'));
        let sub = client.clone();
        tokio::spawn(async move {
            loop {
                match el.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        live.connected.store(true, Ordering::Relaxed);
                        live.connects.fetch_add(1, Ordering::Relaxed);
                        let _ = sub.try_subscribe(filter.clone(), QoS::AtLeastOnce);
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        live.received.fetch_add(1, Ordering::Relaxed);
                        let m = Inbound {
                            topic: p.topic.clone(),
                            payload: p.payload.to_vec(),
                        };
                        match tx.try_send(m) {
                            Ok(()) => {}
                            Err(TrySendError::Full(_)) => {
                                live.dropped.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(TrySendError::Disconnected(_)) => break,
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        if live.connected.swap(false, Ordering::Relaxed) {
                            tracing::warn!("twin link: {e}; reconnecting");
                        }
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                }
            }
        });
        Link {
            inbox,
            stats,
            client,
        }
    }

    /// A handle that publishes the twin's commands on this session.
    pub fn publisher(&self) -> Publisher {
        Publisher {
            client: self.client.clone(),
            stats: self.stats.clone(),
        }
    }
}

/// Publishes on a [`Link`]'s session.
#[derive(Clone)]
pub struct Publisher {
    client: AsyncClient,
    stats: Arc<LinkStats>,
}

impl Publisher {
    /// Publishes a command (QoS 1, not retained); false if the session's queue is full.
    pub fn publish(&self, topic: &str, payload: Vec<u8>) -> bool {
        let ok = self
            .client
            .try_publish(topic, QoS::AtLeastOnce, false, payload)
            .is_ok();
        if ok {
            self.stats.published.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::broker::EmbeddedBroker;
    use rumqttc::MqttOptions;

    /// Waits (bounded) for `f` to hold.
    async fn until(mut f: impl FnMut() -> bool) -> bool {
        for _ in 0..200 {
            if f() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        false
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_link_mirrors_the_tree_and_publishes_commands_on_a_real_broker() {
        let broker = EmbeddedBroker::start(0, 16).expect("broker starts");
        let addr = broker.addr();
        // A device that published its retained metadata before the twin came up.
        let mut o = MqttOptions::new("device", addr.ip().to_string(), addr.port());
        o.set_keep_alive(Duration::from_secs(5));
        let (device, mut el) = AsyncClient::new(o, 16);
        let (got_tx, mut got) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(ev) = el.poll().await {
                if let Event::Incoming(Packet::Publish(p)) = ev {
                    let _ = got_tx.send((p.topic.clone(), p.payload.to_vec()));
                }
            }
        });
        device
            .subscribe("fabtwin/p/g/d1/cmd", QoS::AtLeastOnce)
            .await
            .unwrap();
        device
            .publish(
                "fabtwin/p/g/d1/meta",
                QoS::AtLeastOnce,
                true,
                b"{}".to_vec(),
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;

        let link = Link::start(&LinkConfig {
            host: addr.ip().to_string(),
            port: addr.port(),
            client_id: "twin".into(),
            root: "fabtwin".into(),
            credentials: None,
            tls: None,
        });
        assert!(until(|| link.stats.connected.load(Ordering::Relaxed)).await);
        let mut seen = Vec::new();
        assert!(
            until(|| {
                seen.extend(link.inbox.try_iter());
                seen.iter().any(|m| m.topic == "fabtwin/p/g/d1/meta")
            })
            .await,
            "retained metadata reaches the twin: {seen:?}"
        );
        device
            .publish(
                "fabtwin/p/g/d1/telemetry",
                QoS::AtLeastOnce,
                false,
                b"{\"seq\":0}".to_vec(),
            )
            .await
            .unwrap();
        device
            .publish("elsewhere/x", QoS::AtLeastOnce, false, b"no".to_vec())
            .await
            .unwrap();
        assert!(
            until(|| {
                seen.extend(link.inbox.try_iter());
                seen.iter().any(|m| m.topic == "fabtwin/p/g/d1/telemetry")
            })
            .await
        );
        assert!(seen.iter().all(|m| m.topic.starts_with("fabtwin/")));

        assert!(
            link.publisher()
                .publish("fabtwin/p/g/d1/cmd", b"{\"action\":\"clear\"}".to_vec())
        );
        let (topic, payload) = tokio::time::timeout(Duration::from_secs(5), got.recv())
            .await
            .expect("the command arrives")
            .unwrap();
        assert_eq!(topic, "fabtwin/p/g/d1/cmd");
        assert_eq!(payload, b"{\"action\":\"clear\"}");
        assert_eq!(link.stats.published.load(Ordering::Relaxed), 1);
        assert_eq!(link.stats.dropped.load(Ordering::Relaxed), 0);
    }
}
