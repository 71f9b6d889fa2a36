//! Passwords: random from the OS, hashed the way mosquitto 2.0 stores them.
//!
//! mosquitto 2.0's password file line is `user:$7$<iterations>$<salt>$<hash>`
//! (eclipse/mosquitto v2.0.11 `src/password_mosq.{c,h}`, `src/security_default.c`):
//! type 7 = PBKDF2-HMAC-SHA512, a 12-byte salt, a 64-byte derived key, both in
//! standard base64 with padding and no line breaks (OpenSSL's BIO base64 with
//! `BIO_FLAGS_BASE64_NO_NL`); `mosquitto_passwd` uses 101 iterations.

use std::fmt;
use std::io::Read;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::ProvisionError;

/// Iterations `mosquitto_passwd` 2.0 uses (`PW_DEFAULT_ITERATIONS`). The
/// passwords hashed here carry 256 random bits, so the work factor adds
/// nothing against guessing and would only slow every broker CONNECT.
pub(crate) const ITERATIONS: u32 = 101;

/// Salt length mosquitto expects (`SALT_LEN`); it drops entries with another.
const SALT_LEN: usize = 12;

/// Random bytes per password: 256 bits, 43 characters of URL-safe base64.
const PASSWORD_BYTES: usize = 32;

/// A password. It has no `Display`, and its `Debug` prints `Password(<redacted>)`,
/// so it cannot reach a log by accident; [`Password::expose`] hands it out.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// 32 bytes from `/dev/urandom` as URL-safe base64 (`A–Z a–z 0–9 - _`),
    /// so it survives shells, files and config lines unquoted.
    pub fn generate() -> Result<Password, ProvisionError> {
        Ok(Password(
            URL_SAFE_NO_PAD.encode(random_bytes::<PASSWORD_BYTES>()?),
        ))
    }

    /// Wraps a password read from elsewhere.
    pub fn from_secret(secret: String) -> Password {
        Password(secret)
    }

    /// The password itself, for an MQTT CONNECT. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// `$7$101$<salt>$<hash>` for `password` with a fresh random salt.
pub(crate) fn mosquitto_hash(password: &Password) -> Result<String, ProvisionError> {
    Ok(hash_with_salt(
        password.expose(),
        &random_bytes::<SALT_LEN>()?,
        ITERATIONS,
    ))
}

/// `$7$<iterations>$<salt>$<hash>`: PBKDF2-HMAC-SHA512 of `password`.
pub(crate) fn hash_with_salt(password: &str, salt: &[u8], iterations: u32) -> String {
    let mut key = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password.as_bytes(), salt, iterations, &mut key);
    format!(
        "$7${iterations}${}${}",
        STANDARD.encode(salt),
        STANDARD.encode(key)
    )
}

/// `N` bytes from the kernel's CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], ProvisionError> {
    let source = Path::new("/dev/urandom");
    let mut buf = [0u8; N];
    std::fs::File::open(source)
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| ProvisionError::Io {
            path: source.to_path_buf(),
            action: "read random bytes from",
            source: e,
        })?;
    Ok(buf)
}
