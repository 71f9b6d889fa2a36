//! The load path's sockets: plain TCP, or TLS (`mqtts://`) through rustls —
//! the `tokio-rustls` that rumqttc itself uses, so no second TLS stack.

use std::fmt;
use std::sync::Arc;

use bytes::BytesMut;
use rumqttc::tokio_rustls::TlsConnector;
use rumqttc::tokio_rustls::client::TlsStream;
use rumqttc::tokio_rustls::rustls::pki_types::pem::PemObject;
use rumqttc::tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rumqttc::tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Why a TLS client configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The CA file holds no usable certificate.
    #[error("CA: {0}")]
    Ca(String),
    /// The client certificate file holds no usable certificate.
    #[error("client certificate: {0}")]
    Cert(String),
    /// The client key file holds no usable private key.
    #[error("client key: {0}")]
    Key(String),
    /// The broker's host cannot be a TLS server name.
    #[error("`{0}` is not a valid TLS server name (a DNS name or an IP address)")]
    Host(String),
    /// rustls refused the certificate and key.
    #[error("{0}")]
    Config(String),
}

/// TLS settings shared by every session of a run: the connector (CA, optional
/// client certificate) and the name the broker's certificate must carry.
#[derive(Clone)]
pub struct Tls {
    connector: TlsConnector,
    server_name: ServerName<'static>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// TLS to `host`, trusting the PEM certificates in `ca`, presenting the PEM
    /// certificate chain and key `client` where given.
    pub fn new(host: &str, ca: &[u8], client: Option<(&[u8], &[u8])>) -> Result<Tls, TlsError> {
        let mut roots = RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(ca) {
            let c = c.map_err(|e| TlsError::Ca(e.to_string()))?;
            roots
                .add(c)
                .map_err(|e| TlsError::Ca(format!("not a usable CA certificate: {e}")))?;
        }
        if roots.is_empty() {
            return Err(TlsError::Ca("no PEM certificate found".into()));
        }
        let builder = ClientConfig::builder().with_root_certificates(roots);
        let config = match client {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = CertificateDer::pem_slice_iter(cert)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| TlsError::Cert(e.to_string()))?;
                if chain.is_empty() {
                    return Err(TlsError::Cert("no PEM certificate found".into()));
                }
                let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| {
                    TlsError::Key(format!("no PEM private key (PKCS#8, PKCS#1 or SEC1): {e}"))
                })?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| TlsError::Config(e.to_string()))?
            }
        };
        let server_name =
            ServerName::try_from(host.to_string()).map_err(|_| TlsError::Host(host.into()))?;
        Ok(Tls {
            connector: TlsConnector::from(Arc::new(config)),
            server_name,
        })
    }

    /// Runs the TLS handshake over `tcp`.
    pub async fn connect(&self, tcp: TcpStream) -> std::io::Result<Conn> {
        let s = self
            .connector
            .connect(self.server_name.clone(), tcp)
            .await?;
        Ok(Conn::Tls(Box::new(s)))
    }
}

/// One session's connection to the broker.
#[derive(Debug)]
pub enum Conn {
    /// `mqtt://`.
    Plain(TcpStream),
    /// `mqtts://`.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Conn {
    /// Writes all of `bytes` and, over TLS, flushes the records out.
    pub async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.write_all(bytes).await,
            Conn::Tls(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
        }
    }

    /// Reads what is available into `buf` (0: closed). Cancel safe.
    pub async fn read_buf(&mut self, buf: &mut BytesMut) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read_buf(buf).await,
            Conn::Tls(s) => s.read_buf(buf).await,
        }
    }
}
