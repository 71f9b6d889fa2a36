//! The TLS side: a test CA, the broker's certificate and one client
//! certificate per identity (CN = username, which mosquitto's
//! `use_identity_as_username` turns into the ACL username).
//!
//! Keys are ECDSA P-256 (rcgen's default), PKCS#8 PEM, which both OpenSSL
//! (mosquitto) and rustls (rumqttc) read. The CA key stays in memory and is
//! dropped when this returns: no further certificate can be signed by the CA.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};

use super::files::Writer;
use super::password::random_bytes;
use super::{ClientCertificate, Identity, ProvisionError, ServerTls};

/// How long the certificates are valid, from an hour before now (clock skew).
pub(crate) const VALIDITY_DAYS: i64 = 365;

fn cert_err(path: &Path, subject: &str) -> impl FnOnce(rcgen::Error) -> ProvisionError {
    let (path, subject) = (path.to_path_buf(), subject.to_string());
    move |source| ProvisionError::Certificate {
        path,
        subject,
        source,
    }
}

/// Parameters shared by every certificate: subject CN, validity, serial.
fn params(common_name: &str) -> Result<CertificateParams, ProvisionError> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "fabtwin");
    dn.push(DnType::CommonName, common_name);
    p.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::hours(1);
    p.not_after = now + time::Duration::days(VALIDITY_DAYS);
    let mut serial = random_bytes::<16>()?;
    serial[0] = (serial[0] & 0x7f) | 0x01; // positive, no leading zero byte
    p.serial_number = Some(SerialNumber::from_slice(&serial));
    p.use_authority_key_identifier_extension = true;
    Ok(p)
}

/// Writes `tls/` and each identity's `credentials/<user>.crt` / `.key`.
pub(crate) fn write(
    fs: &Writer,
    dir: &Path,
    credentials: &Path,
    identities: &mut [Identity],
) -> Result<ServerTls, ProvisionError> {
    let tls_dir = dir.join("tls");
    fs.broker_dir(&tls_dir, false)?;
    let paths = ServerTls {
        ca: tls_dir.join("ca.crt"),
        cert: tls_dir.join("server.crt"),
        key: tls_dir.join("server.key"),
    };

    let ca_name = "fabtwin test CA";
    let mut ca = params(ca_name)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.use_authority_key_identifier_extension = false;
    let ca_key = KeyPair::generate().map_err(cert_err(&paths.ca, ca_name))?;
    let ca_cert = ca
        .self_signed(&ca_key)
        .map_err(cert_err(&paths.ca, ca_name))?;
    fs.public_file(&paths.ca, ca_cert.pem().as_bytes())?;
    let issuer = Issuer::new(ca, ca_key);

    let server_name = "fabtwin mosquitto";
    let mut server = params(server_name)?;
    let localhost = "localhost"
        .try_into()
        .map_err(cert_err(&paths.cert, server_name))?;
    server.subject_alt_names = vec![
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::DnsName(localhost),
    ];
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_key = KeyPair::generate().map_err(cert_err(&paths.cert, server_name))?;
    let server_cert = server
        .signed_by(&server_key, &issuer)
        .map_err(cert_err(&paths.cert, server_name))?;
    fs.broker_file(&paths.key, server_key.serialize_pem().as_bytes())?;
    fs.public_file(&paths.cert, server_cert.pem().as_bytes())?;

    for identity in identities {
        let files = ClientCertificate {
            cert: credentials.join(format!("{}.crt", identity.username)),
            key: credentials.join(format!("{}.key", identity.username)),
        };
        let mut client = params(&identity.username)?;
        client.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().map_err(cert_err(&files.cert, &identity.username))?;
        let cert = client
            .signed_by(&key, &issuer)
            .map_err(cert_err(&files.cert, &identity.username))?;
        fs.private_file(&files.key, key.serialize_pem().as_bytes())?;
        fs.public_file(&files.cert, cert.pem().as_bytes())?;
        identity.certificate = Some(files);
    }
    Ok(paths)
}
