//! MQTT: the embedded broker, broker URLs, sessions that own their messages
//! until PUBACK, and the verifying subscriber; and the few things they share
//! (TLS material, the wall clock for latency stamps).

pub mod broker;
pub mod durable;
pub mod fleet;
pub mod outbox;
pub mod proxy;
pub mod session;
pub mod sparkplug;
pub mod url;
pub mod verify;

use rumqttc::QoS;

/// TLS material for `mqtts://`, PEM bytes.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// CA certificate(s) that sign the broker's certificate.
    pub ca: Vec<u8>,
    /// Client certificate and key, for brokers that require one.
    pub client: Option<(Vec<u8>, Vec<u8>)>,
}

/// The MQTT QoS of a 0/1 setting.
/// Options of a long-lived reading client (the verifier, the twin's link):
/// 30 s keep-alive, 1 MiB packets, optional credentials and TLS.
pub(crate) fn reader_options(
    host: &str,
    port: u16,
    client_id: &str,
    credentials: Option<(String, String)>,
    tls: Option<&TlsFiles>,
) -> rumqttc::MqttOptions {
    let mut o = rumqttc::MqttOptions::new(client_id, host, port);
    o.set_keep_alive(std::time::Duration::from_secs(30));
    o.set_max_packet_size(1 << 20, 1 << 20);
    if let Some((u, p)) = credentials {
        o.set_credentials(u, p);
    }
    if let Some(tls) = tls {
        o.set_transport(rumqttc::Transport::tls(
            tls.ca.clone(),
            tls.client.clone(),
            None,
        ));
    }
    o
}

pub(crate) fn qos(q: u8) -> QoS {
    if q == 0 {
        QoS::AtMostOnce
    } else {
        QoS::AtLeastOnce
    }
}

/// Wall-clock nanoseconds since the Unix epoch (for latency stamps only).
pub fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Wall-clock milliseconds since the Unix epoch (Sparkplug send timestamps).
pub(crate) fn now_ms() -> u64 {
    wall_ns() / 1_000_000
}
