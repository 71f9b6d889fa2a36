//! The embedded broker: rumqttd in-process on a free loopback port, so
//! `fabtwin run` speaks real MQTT on a fresh machine with nothing installed.
//!
//! rumqttd has no shutdown call and keeps nothing on disk; tests that kill and
//! restart a broker run `fabtwin broker` (this, as its own process) or mosquitto
//! as a child process and kill it by PID.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// A running embedded broker.
#[derive(Debug)]
pub struct EmbeddedBroker {
    addr: SocketAddr,
}

/// Why the broker did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// No free port could be reserved.
    #[error("cannot reserve a loopback port for the embedded broker: {0}")]
    Port(std::io::Error),
    /// The port is taken (or not ours to bind).
    #[error("cannot listen on {addr}: {source} (choose another --port, or stop what holds it)")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why the bind failed.
        source: std::io::Error,
    },
    /// The broker did not accept connections in time.
    #[error("the embedded broker did not start listening on {0} within 5 s")]
    NotListening(SocketAddr),
}

impl EmbeddedBroker {
    /// Starts a broker on `127.0.0.1:port` (0: a free port) allowing `max_connections` clients.
    pub fn start(port: u16, max_connections: usize) -> Result<EmbeddedBroker, BrokerError> {
        let port = if port == 0 {
            // rumqttd binds inside its own thread and reports no port: reserve one here.
            let l = TcpListener::bind(("127.0.0.1", 0)).map_err(BrokerError::Port)?;
            l.local_addr().map_err(BrokerError::Port)?.port()
        } else {
            port
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        // rumqttd binds inside its own thread and only logs a failure there, while a
        // connect test would succeed against whoever already holds the port: bind
        // it here first, so a taken port is an error, not a broker that says it runs.
        drop(TcpListener::bind(addr).map_err(|source| BrokerError::Bind { addr, source })?);
        let conn = rumqttd::ConnectionSettings {
            connection_timeout_ms: 5000,
            max_payload_size: 1 << 20,
            max_inflight_count: 500,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        };
        let server = rumqttd::ServerSettings {
            name: "v4".into(),
            listen: addr,
            tls: None,
            next_connection_delay_ms: 0,
            connections: conn,
        };
        let config = rumqttd::Config {
            id: 0,
            v4: Some(HashMap::from([("v4".to_string(), server)])),
            router: rumqttd::RouterConfig {
                max_connections,
                max_outgoing_packet_count: 1000,
                max_segment_size: 16 << 20,
                max_segment_count: 16,
                ..Default::default()
            },
            ..Default::default()
        };
        std::thread::Builder::new()
            .name("embedded-broker".into())
            .spawn(move || {
                let mut broker = rumqttd::Broker::new(config);
                if let Err(e) = broker.start() {
                    tracing::error!("embedded broker stopped: {e}");
                }
            })
            .map_err(BrokerError::Port)?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                return Ok(EmbeddedBroker { addr });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(BrokerError::NotListening(addr))
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}
