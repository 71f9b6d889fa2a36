//! Broker addresses as users write them: `embedded`, `mqtt://host:port`,
//! `mqtts://host:port`.

use std::fmt;

/// Where to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BrokerUrl {
    /// Start fabtwin's own broker in-process on a free loopback port.
    Embedded,
    /// A broker over TCP.
    Tcp {
        /// Host name or address.
        host: String,
        /// Port (default 1883).
        port: u16,
    },
    /// A broker over TLS.
    Tls {
        /// Host name or address (must match the server certificate).
        host: String,
        /// Port (default 8883).
        port: u16,
    },
}

impl BrokerUrl {
    /// Parses `embedded`, `mqtt://host[:port]` or `mqtts://host[:port]`.
    pub fn parse(text: &str) -> Result<BrokerUrl, String> {
        let t = text.trim();
        if t == "embedded" {
            return Ok(BrokerUrl::Embedded);
        }
        let (tls, rest) = if let Some(r) = t.strip_prefix("mqtt://") {
            (false, r)
        } else if let Some(r) = t.strip_prefix("mqtts://") {
            (true, r)
        } else {
            return Err(format!(
                "`{text}` is not a broker URL (valid: embedded, mqtt://host:port, mqtts://host:port)"
            ));
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('@') {
            return Err(format!(
                "`{text}`: credentials do not go in the URL (they would show in process lists and logs); use --username with FABTWIN_MQTT_PASSWORD or --password-file"
            ));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                let port: u16 = p
                    .parse()
                    .map_err(|_| format!("`{text}`: port `{p}` is not a number 1 … 65535"))?;
                if port == 0 {
                    return Err(format!("`{text}`: port 0 is not a broker port"));
                }
                (
                    h.trim_start_matches('[').trim_end_matches(']').to_string(),
                    port,
                )
            }
            _ => (rest.to_string(), if tls { 8883 } else { 1883 }),
        };
        if host.is_empty() {
            return Err(format!("`{text}` has no host"));
        }
        Ok(if tls {
            BrokerUrl::Tls { host, port }
        } else {
            BrokerUrl::Tcp { host, port }
        })
    }
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrokerUrl::Embedded => f.write_str("embedded"),
            BrokerUrl::Tcp { host, port } => write!(f, "mqtt://{host}:{port}"),
            BrokerUrl::Tls { host, port } => write!(f, "mqtts://{host}:{port}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(BrokerUrl::parse("embedded").unwrap(), BrokerUrl::Embedded);
        assert_eq!(
            BrokerUrl::parse("mqtt://127.0.0.1:1884").unwrap(),
            BrokerUrl::Tcp {
                host: "127.0.0.1".into(),
                port: 1884
            }
        );
        assert_eq!(
            BrokerUrl::parse("mqtts://broker.local").unwrap(),
            BrokerUrl::Tls {
                host: "broker.local".into(),
                port: 8883
            }
        );
        assert!(
            BrokerUrl::parse("http://x")
                .unwrap_err()
                .contains("valid: embedded")
        );
        assert!(
            BrokerUrl::parse("mqtt://u:p@host:1883")
                .unwrap_err()
                .contains("credentials")
        );
        assert!(BrokerUrl::parse("mqtt://host:99999").is_err());
        assert!(BrokerUrl::parse("mqtt://:1883").is_err());
    }
}
