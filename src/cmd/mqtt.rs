//! Turning `run`'s broker flags into a connection: URL, embedded broker,
//! credentials (never from argv, never logged) and TLS files.

use std::collections::BTreeMap;

use clap::Args;
use std::path::{Path, PathBuf};

use fabtwin_bridge::mqtt::broker::EmbeddedBroker;
use fabtwin_bridge::mqtt::fleet::{Connect, SessionIdentity};
use fabtwin_bridge::mqtt::session::TlsFiles;
use fabtwin_bridge::mqtt::url::BrokerUrl;

use crate::BadInput;

/// Broker credentials and TLS. Passwords never come from argv.
#[derive(Debug, Args)]
pub struct AuthArgs {
    /// MQTT username; the password comes from FABTWIN_MQTT_PASSWORD or --password-file.
    #[arg(long)]
    pub username: Option<String>,
    /// File holding the MQTT password (first line).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// CA certificate (PEM) for mqtts.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM) for mqtts.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Client key (PEM) for mqtts.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// `credentials.json` written by `fabtwin provision`: each session connects
    /// as its own identity (password file, and client certificate with mqtts);
    /// the verifying subscriber as the admin identity.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["username", "password_file", "cert", "key"])]
    pub credentials: Option<PathBuf>,
}

/// Publishing pace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// As fast as possible.
    Max,
    /// Sim seconds per wall second.
    Factor(f64),
}

/// Parses `max`, `realtime` or `Nx`.
pub fn speed(text: &str) -> Result<Speed, BadInput> {
    match text.trim() {
        "max" => Ok(Speed::Max),
        "realtime" => Ok(Speed::Factor(1.0)),
        t => t
            .strip_suffix('x')
            .and_then(|n| n.parse::<f64>().ok())
            .filter(|f| f.is_finite() && *f > 0.0)
            .map(Speed::Factor)
            .ok_or_else(|| BadInput(format!("--speed: `{text}` is not a speed (valid: max, realtime, or a factor such as 10x, 0.5x)"))),
    }
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, BadInput> {
    std::fs::read(path)
        .map_err(|e| BadInput(format!("{what} {}: cannot read: {e}", path.display())))
}

/// The password in the first line of `path` (named `flag` in errors).
pub fn password_file(path: &Path, flag: &str) -> Result<String, BadInput> {
    let bytes = read(path, flag)?;
    Ok(String::from_utf8_lossy(&bytes)
        .lines()
        .next()
        .unwrap_or("")
        .to_string())
}

/// Username and password from `--username` with `--password-file` or
/// FABTWIN_MQTT_PASSWORD (never from argv).
pub fn login(auth: &AuthArgs) -> Result<Option<(String, String)>, BadInput> {
    let password = match (&auth.password_file, std::env::var("FABTWIN_MQTT_PASSWORD")) {
        (Some(f), _) => Some(password_file(f, "--password-file")?),
        (None, Ok(p)) => Some(p),
        (None, Err(_)) => None,
    };
    match (&auth.username, password) {
        (Some(u), Some(p)) => Ok(Some((u.clone(), p))),
        (Some(_), None) => Err(BadInput(
            "--username needs a password: set FABTWIN_MQTT_PASSWORD or give --password-file".into(),
        )),
        (None, Some(_)) if auth.password_file.is_some() => {
            Err(BadInput("--password-file needs --username".into()))
        }
        (None, _) => Ok(None),
    }
}

/// Where `run` publishes: `None` for files only.
pub struct Target {
    /// The URL as parsed.
    pub url: BrokerUrl,
    /// Connection settings.
    pub connect: Connect,
    /// Keeps the embedded broker's address alive for the report.
    pub embedded: Option<EmbeddedBroker>,
    /// The admin identity from `--credentials` (reads every topic): the verifier's.
    pub admin: Option<(String, String)>,
    /// How long a run waits at its end for buffered messages (`--drain-timeout`).
    pub drain: std::time::Duration,
}

/// Identities from `provision`'s `credentials.json`: by client id, and the admin's.
type Identities = (BTreeMap<String, SessionIdentity>, Option<(String, String)>);

fn identities(path: &Path, tls: bool) -> Result<Identities, BadInput> {
    #[derive(serde::Deserialize)]
    struct Index {
        identities: BTreeMap<String, Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        client_id: String,
        role: String,
        password_file: PathBuf,
        cert: Option<PathBuf>,
        key: Option<PathBuf>,
    }
    let file = path.display().to_string();
    let bytes = read(path, "--credentials")?;
    let index: Index = serde_json::from_slice(&bytes).map_err(|e| {
        BadInput(format!(
            "--credentials {file}:{}:{}: {e} (expected the credentials.json written by `fabtwin provision`)",
            e.line(),
            e.column()
        ))
    })?;
    // Paths in the index are absolute when provision wrote them; relative ones
    // are taken from the index's own directory.
    let base = path.parent().unwrap_or(Path::new("."));
    let at = |p: &Path| base.join(p);
    let mut by_client = BTreeMap::new();
    let mut admin = None;
    for (username, e) in index.identities {
        let password = password_file(
            &at(&e.password_file),
            &format!("--credentials {file}: identity `{username}`:"),
        )?;
        let client_cert = match (tls, &e.cert, &e.key) {
            (true, Some(c), Some(k)) => Some((read(&at(c), "certificate")?, read(&at(k), "key")?)),
            _ => None,
        };
        if e.role == "admin" {
            admin = Some((username.clone(), password.clone()));
        }
        by_client.insert(
            e.client_id,
            SessionIdentity {
                credentials: (username, password),
                client_cert,
            },
        );
    }
    Ok((by_client, admin))
}

/// Resolves `--broker` and the auth flags.
pub fn target(
    broker: &str,
    auth: &AuthArgs,
    persistent: bool,
    prefix: &str,
) -> Result<Option<Target>, anyhow::Error> {
    if broker.trim() == "none" {
        return Ok(None);
    }
    let url = BrokerUrl::parse(broker).map_err(|e| BadInput(format!("--broker: {e}")))?;
    let credentials = login(auth)?;
    let (host, port, tls, embedded) = match &url {
        BrokerUrl::Embedded => {
            let b = EmbeddedBroker::start(0, 10_000)?;
            (b.addr().ip().to_string(), b.addr().port(), None, Some(b))
        }
        BrokerUrl::Tcp { host, port } => (host.clone(), *port, None, None),
        BrokerUrl::Tls { host, port } => {
            let Some(ca) = &auth.ca else {
                return Err(BadInput(format!(
                    "{url} needs --ca FILE (the CA that signed the broker's certificate)"
                ))
                .into());
            };
            let client = match (&auth.cert, &auth.key) {
                (Some(c), Some(k)) => Some((read(c, "--cert")?, read(k, "--key")?)),
                _ => None,
            };
            (
                host.clone(),
                *port,
                Some(TlsFiles {
                    ca: read(ca, "--ca")?,
                    client,
                }),
                None,
            )
        }
    };
    let (identities, admin) = match &auth.credentials {
        Some(path) => identities(path, tls.is_some())?,
        None => (BTreeMap::new(), None),
    };
    if tls.is_none() && (auth.ca.is_some() || auth.cert.is_some()) {
        return Err(BadInput(format!(
            "--ca/--cert/--key apply to mqtts:// brokers, not {url}"
        ))
        .into());
    }
    Ok(Some(Target {
        url,
        connect: Connect {
            host,
            port,
            tls,
            credentials,
            identities,
            persistent,
            outbox_capacity: 100_000,
            client_prefix: prefix.to_string(),
            connect_timeout: std::time::Duration::from_secs(10),
            buffer_dir: None,
            resume: false,
        },
        embedded,
        admin,
        drain: std::time::Duration::from_secs(60),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds() {
        assert_eq!(speed("max").unwrap(), Speed::Max);
        assert_eq!(speed("realtime").unwrap(), Speed::Factor(1.0));
        assert_eq!(speed("60x").unwrap(), Speed::Factor(60.0));
        assert!(
            speed("fast")
                .unwrap_err()
                .0
                .contains("valid: max, realtime")
        );
        assert!(speed("-2x").is_err());
    }
}
