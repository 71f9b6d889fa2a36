//! Broker provisioning: everything a real mosquitto 2.0 needs to let a
//! scenario's sessions in, each under its own name and confined to its own
//! topics. This is what `fabtwin provision --for mosquitto --out DIR [--tls]`
//! calls.
//!
//! One MQTT identity per session, laid out as [`crate::mqtt::fleet`] lays
//! them out: a gateway with `session: PerGateway` connects as its gateway id,
//! each device of a `PerDevice` gateway as its device id; client ids are
//! `<prefix><username>`. An `admin` identity (the pipeline, the verifier)
//! reads everything and may send commands.
//!
//! ```no_run
//! use std::path::Path;
//! use fabtwin_bridge::provision::{provision_mosquitto, ProvisionOptions};
//! use fabtwin_bridge::topics::Topics;
//!
//! let scenario = fabtwin_sim::scenario::load(Path::new("scenarios/quickstart.ron")).unwrap();
//! let mut opts = ProvisionOptions::new(&scenario.name);
//! opts.tls = true;
//! let done = provision_mosquitto(&scenario, &Topics::default(), Path::new("broker"), &opts).unwrap();
//! for w in &done.warnings {
//!     eprintln!("warning: {w}");
//! }
//! println!("start it with: mosquitto -c {}", done.config.display());
//! ```
//!
//! What lands in `DIR` (the generated `README.md` says the same to users):
//!
//! | path | what | mode |
//! | --- | --- | --- |
//! | `mosquitto.conf` | listeners on 127.0.0.1, auth, ACL, persistence (absolute paths) | 0644 |
//! | `passwd` | mosquitto 2.0 password file (`$7$`, PBKDF2-HMAC-SHA512) | broker-readable |
//! | `acl` | one `user` block per identity, exact topics | broker-readable |
//! | `data/` | mosquitto's persistence directory | broker-writable |
//! | `credentials/<user>.password` | the password, one line | 0600 |
//! | `credentials/<user>.crt`, `.key` | client certificate (CN = username) and key, with TLS | 0644, 0600 |
//! | `credentials.json` | index: username → client id, devices, grants, file paths; no secrets | 0644 |
//! | `tls/ca.crt`, `tls/server.crt`, `tls/server.key` | test CA and the broker's certificate, with TLS | 0644, 0644, broker-readable |
//! | `README.md` | what each file is and how to start mosquitto | 0644 |
//!
//! "Broker-readable" is 0600 when the broker will run as the user who
//! provisions, or `root:mosquitto` 0640 when provisioning as root (see
//! [`ProvisionOptions::broker_gid`]): mosquitto started as root drops to user
//! `mosquitto` *before* it reads the password file, the ACL, its key or its
//! persistence directory, so root-only 0600 files would stop it.
//! The CA's private key is never written: once the certificates are signed
//! nobody can mint another one from this CA, which is what a test CA needs.
//!
//! The ACL covers the JSON topic tree ([`crate::topics`]); Sparkplug B
//! topics are not granted yet (the fleet publishes JSON only).

mod files;
mod password;
mod plan;
mod render;
mod tls;

#[cfg(test)]
mod broker_tests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

use fabtwin_sim::scenario::Scenario;
use serde::Serialize;

use crate::topics::Topics;

pub use password::Password;

/// Username of the identity that reads every topic and writes commands,
/// unless [`ProvisionOptions::admin_username`] says otherwise.
pub const DEFAULT_ADMIN: &str = "admin";

/// What to provision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvisionOptions {
    /// Also write a TLS listener with client certificates: a test CA, the
    /// broker's certificate and one client certificate per identity.
    /// Default: false.
    pub tls: bool,
    /// Port of the plain (username + password) listener on 127.0.0.1.
    /// Default: 1883.
    pub port: u16,
    /// Port of the TLS listener on 127.0.0.1 (used when `tls`). Default: 8883.
    pub tls_port: u16,
    /// Client id prefix, as the fleet uses it. Default: `fabtwin-<scenario name>-`.
    pub client_prefix: String,
    /// Username of the identity that reads `#` and writes every device's
    /// command topic. Default: [`DEFAULT_ADMIN`].
    pub admin_username: String,
    /// Group that the broker runs as, given read access to the files it reads
    /// (0640) and write access to its persistence directory (0770); `None`:
    /// the broker runs as the user who provisions, and those files are 0600.
    /// Default: [`broker_gid_for_root`] (the `mosquitto` user's group when
    /// provisioning as root, else `None`).
    pub broker_gid: Option<u32>,
}

impl ProvisionOptions {
    /// Defaults for the scenario named `scenario_name`.
    pub fn new(scenario_name: &str) -> ProvisionOptions {
        ProvisionOptions {
            tls: false,
            port: 1883,
            tls_port: 8883,
            client_prefix: format!("fabtwin-{scenario_name}-"),
            admin_username: DEFAULT_ADMIN.to_string(),
            broker_gid: broker_gid_for_root(),
        }
    }
}

/// What an identity is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A gateway's session (`session: PerGateway`), for all its devices.
    Gateway,
    /// One device's session (`session: PerDevice`).
    Device,
    /// The pipeline or verifier: reads everything, sends commands.
    Admin,
}

/// One MQTT identity: who it is, what it may do, and its secrets.
///
/// `Debug` never shows the password (see [`Password`]).
#[derive(Clone, Debug)]
pub struct Identity {
    /// MQTT username; on the TLS listener, the client certificate's CN.
    pub username: String,
    /// Client id the fleet connects with (`<prefix><username>`). mosquitto
    /// does not tie client ids to usernames; the ACL is by username.
    pub client_id: String,
    /// What the identity is for.
    pub role: Role,
    /// Id of the gateway whose session this is (none for the admin).
    pub gateway: Option<String>,
    /// Ids of the devices whose topics it publishes, in scenario order.
    pub devices: Vec<String>,
    /// Topics (or, for the admin, filters) it may write.
    pub write: Vec<String>,
    /// Topics (or filters) it may read.
    pub read: Vec<String>,
    /// The password (also in [`Identity::password_file`]).
    pub password: Password,
    /// `credentials/<username>.password`: the password and a newline, mode 0600.
    pub password_file: PathBuf,
    /// Client certificate and key (PEM), with TLS.
    pub certificate: Option<ClientCertificate>,
}

/// Where an identity's client certificate lies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClientCertificate {
    /// `credentials/<username>.crt`, CN = username, signed by the test CA.
    pub cert: PathBuf,
    /// `credentials/<username>.key`, PKCS#8 PEM, mode 0600.
    pub key: PathBuf,
}

/// Paths of the broker-side TLS material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTls {
    /// `tls/ca.crt`: the test CA; clients trust it, the broker checks client
    /// certificates against it.
    pub ca: PathBuf,
    /// `tls/server.crt`: SAN IP 127.0.0.1 and DNS localhost.
    pub cert: PathBuf,
    /// `tls/server.key`.
    pub key: PathBuf,
}

/// What [`provision_mosquitto`] wrote.
#[derive(Clone, Debug)]
pub struct Provisioned {
    /// The output directory, absolute.
    pub dir: PathBuf,
    /// `mosquitto.conf`: start the broker with `mosquitto -c <this>`.
    pub config: PathBuf,
    /// `passwd`.
    pub passwd: PathBuf,
    /// `acl`.
    pub acl: PathBuf,
    /// `credentials.json`.
    pub index: PathBuf,
    /// `README.md`.
    pub readme: PathBuf,
    /// `data/`: persistence directory.
    pub data: PathBuf,
    /// Broker-side TLS files, with TLS.
    pub tls: Option<ServerTls>,
    /// Port of the plain listener.
    pub port: u16,
    /// Port of the TLS listener, with TLS.
    pub tls_port: Option<u16>,
    /// Every identity: the admin first, then the fleet's in scenario order.
    pub identities: Vec<Identity>,
    /// Things that will stop the broker as configured (an ancestor directory
    /// the broker's group cannot enter); print them.
    pub warnings: Vec<String>,
}

impl Provisioned {
    /// The identity named `username`.
    pub fn identity(&self, username: &str) -> Option<&Identity> {
        self.identities.iter().find(|i| i.username == username)
    }

    /// The admin identity.
    pub fn admin(&self) -> &Identity {
        self.identities
            .iter()
            .find(|i| i.role == Role::Admin)
            .expect("provision_mosquitto always creates the admin identity")
    }
}

/// Why provisioning failed. Nothing is left behind: a directory this call
/// created, or filled, is removed again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisionError {
    /// The output directory already holds something.
    #[error(
        "{}: the output directory is not empty; provision writes a fresh directory and never overwrites one (choose a new --out, or remove this one)",
        .path.display()
    )]
    NotEmpty {
        /// The directory.
        path: PathBuf,
    },
    /// The output path exists and is not a directory.
    #[error("{}: exists and is not a directory (valid: a new or empty directory)", .path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// A file system operation failed.
    #[error("{}: cannot {action}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done, e.g. `create`.
        action: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// A path cannot be written into mosquitto's line-based config.
    #[error("{}: cannot be used in mosquitto.conf: {why}", .path.display())]
    UnusablePath {
        /// The path.
        path: PathBuf,
        /// Why.
        why: &'static str,
    },
    /// Two identities would share a username, and so each other's rights.
    #[error(
        "username `{username}` would belong to both {first} and {second}; every gateway (PerGateway) and device (PerDevice) id that becomes a username must be distinct, and differ from the admin's"
    )]
    DuplicateUsername {
        /// The username.
        username: String,
        /// The first holder, e.g. `gateway gw1`.
        first: String,
        /// The second holder.
        second: String,
    },
    /// An option or a generated name is not usable.
    #[error("{field}: {message}")]
    Invalid {
        /// Which option or name.
        field: String,
        /// What is wrong and what would be valid.
        message: String,
    },
    /// A certificate could not be generated.
    #[error("{}: cannot generate the certificate for `{subject}`: {source}", .path.display())]
    Certificate {
        /// The certificate file it was meant for.
        path: PathBuf,
        /// Its subject.
        subject: String,
        /// rcgen's error.
        source: rcgen::Error,
    },
}

/// Writes a mosquitto 2.0 setup for `scenario` into `out` (created; it must
/// not exist or be empty, and its mode becomes 0700, or 0750 in the broker's
/// group). See the [module docs](self) for what is written.
pub fn provision_mosquitto(
    scenario: &Scenario,
    topics: &Topics,
    out: &Path,
    opts: &ProvisionOptions,
) -> Result<Provisioned, ProvisionError> {
    check_options(opts)?;
    let plan = plan::plan(scenario, topics, &opts.client_prefix, &opts.admin_username)?;
    let created = files::prepare_out_dir(out)?;
    match write_all(scenario, plan, out, opts) {
        Ok(p) => Ok(p),
        Err(e) => {
            files::clean_up(out, created);
            Err(e)
        }
    }
}

/// The primary group of user `mosquitto` (what the broker drops to when
/// started as root) when this process runs as root; otherwise `None`.
pub fn broker_gid_for_root() -> Option<u32> {
    if files::running_as_root() {
        files::primary_gid("mosquitto")
    } else {
        None
    }
}

/// Reads a password file as `fabtwin run --password-file` does: the first
/// line, without its line ending.
pub fn read_password(path: &Path) -> Result<Password, ProvisionError> {
    let text = std::fs::read_to_string(path).map_err(|source| ProvisionError::Io {
        path: path.to_path_buf(),
        action: "read",
        source,
    })?;
    Ok(Password::from_secret(
        text.lines().next().unwrap_or_default().to_string(),
    ))
}

fn check_options(opts: &ProvisionOptions) -> Result<(), ProvisionError> {
    let invalid = |field: &str, message: String| ProvisionError::Invalid {
        field: field.to_string(),
        message,
    };
    if opts.port == 0 {
        return Err(invalid(
            "port",
            "0 is not a listener port (valid: 1 … 65535)".into(),
        ));
    }
    if opts.tls {
        if opts.tls_port == 0 {
            return Err(invalid(
                "tls_port",
                "0 is not a listener port (valid: 1 … 65535)".into(),
            ));
        }
        if opts.tls_port == opts.port {
            return Err(invalid(
                "tls_port",
                format!(
                    "{} is also the plain listener's port; they must differ",
                    opts.port
                ),
            ));
        }
    }
    plan::check_name("admin_username", &opts.admin_username)?;
    if opts.client_prefix.chars().any(|c| c.is_control()) {
        return Err(invalid(
            "client_prefix",
            "contains a control character (valid: printable text)".into(),
        ));
    }
    Ok(())
}

fn write_all(
    scenario: &Scenario,
    plan: Vec<plan::Access>,
    out: &Path,
    opts: &ProvisionOptions,
) -> Result<Provisioned, ProvisionError> {
    let dir = std::fs::canonicalize(out).map_err(|source| ProvisionError::Io {
        path: out.to_path_buf(),
        action: "resolve",
        source,
    })?;
    files::check_config_path(&dir)?;
    let fs = files::Writer::new(opts.broker_gid);
    // The directory itself: the broker (maybe another user) must enter it.
    fs.broker_dir(&dir, false)?;
    let credentials = dir.join("credentials");
    fs.private_dir(&credentials)?;
    let data = dir.join("data");
    fs.broker_dir(&data, true)?;

    // Passwords: one file each for the clients, hashes for the broker.
    let mut identities = Vec::with_capacity(plan.len());
    let mut passwd = String::new();
    for a in plan {
        let secret = Password::generate()?;
        let password_file = credentials.join(format!("{}.password", a.username));
        fs.private_file(&password_file, format!("{}\n", secret.expose()).as_bytes())?;
        passwd.push_str(&format!(
            "{}:{}\n",
            a.username,
            password::mosquitto_hash(&secret)?
        ));
        identities.push(Identity {
            username: a.username,
            client_id: a.client_id,
            role: a.role,
            gateway: a.gateway,
            devices: a.devices,
            write: a.write,
            read: a.read,
            password: secret,
            password_file,
            certificate: None,
        });
    }
    let passwd_path = dir.join("passwd");
    fs.broker_file(&passwd_path, passwd.as_bytes())?;
    let acl_path = dir.join("acl");
    fs.broker_file(
        &acl_path,
        render::acl(&scenario.name, &identities).as_bytes(),
    )?;

    let server_tls = if opts.tls {
        Some(tls::write(&fs, &dir, &credentials, &mut identities)?)
    } else {
        None
    };

    let provisioned = Provisioned {
        config: dir.join("mosquitto.conf"),
        passwd: passwd_path,
        acl: acl_path,
        index: dir.join("credentials.json"),
        readme: dir.join("README.md"),
        data,
        tls: server_tls,
        port: opts.port,
        tls_port: opts.tls.then_some(opts.tls_port),
        identities,
        warnings: files::traversal_warnings(&dir, opts.broker_gid),
        dir,
    };
    fs.public_file(
        &provisioned.config,
        render::mosquitto_conf(&scenario.name, &provisioned).as_bytes(),
    )?;
    fs.public_file(
        &provisioned.index,
        render::index(&scenario.name, &provisioned).as_bytes(),
    )?;
    fs.public_file(
        &provisioned.readme,
        render::readme(&scenario.name, &provisioned, opts.broker_gid).as_bytes(),
    )?;
    Ok(provisioned)
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Gateway => "gateway",
            Role::Device => "device",
            Role::Admin => "admin",
        })
    }
}
