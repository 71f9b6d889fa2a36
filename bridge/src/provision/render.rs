//! The text files: `acl`, `mosquitto.conf`, `credentials.json`, `README.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::tls::VALIDITY_DAYS;
use super::{Identity, Provisioned, Role};

/// The ACL: one `user` block per identity with its exact topics.
pub(crate) fn acl(scenario: &str, identities: &[Identity]) -> String {
    let mut s = format!(
        "# mosquitto ACL written by `fabtwin provision` for scenario `{scenario}`.
#
# One `user` block per MQTT identity, listing the exact topics it may use: no
# wildcards and no `pattern` lines, so a username reaches only what is written
# under it, and a device added to the scenario later gets nothing until it is
# provisioned. On the TLS listener the username is the client certificate's CN
# (use_identity_as_username), so the same blocks apply there.
#
# mosquitto 2.0 grants every SUBSCRIBE and checks `read` on each message it
# would deliver; a PUBLISH without `write` is dropped silently (an MQTT 3.1.1
# client still gets its PUBACK, MQTT 5 gets `Not authorized`).
"
    );
    for i in identities {
        let what = match (i.role, &i.gateway) {
            (Role::Admin, _) => {
                "the pipeline / verifier: reads everything, sends commands".to_string()
            }
            (Role::Gateway, _) => format!(
                "gateway {} (client id {}): devices {}",
                i.username,
                i.client_id,
                i.devices.join(", ")
            ),
            (Role::Device, g) => format!(
                "device {} of gateway {} (client id {})",
                i.username,
                g.as_deref().unwrap_or("?"),
                i.client_id
            ),
        };
        let _ = write!(s, "\n# {what}\nuser {}\n", i.username);
        for t in &i.write {
            let _ = writeln!(s, "topic write {t}");
        }
        for t in &i.read {
            let _ = writeln!(s, "topic read {t}");
        }
    }
    s
}

/// A ready mosquitto 2.0 config with absolute paths.
pub(crate) fn mosquitto_conf(scenario: &str, p: &Provisioned) -> String {
    let mut s = format!(
        "# mosquitto 2.0 configuration written by `fabtwin provision` for scenario `{scenario}`.
# Start it:  mosquitto -c {config}      (add -v for a line per packet)
# Paths are absolute: to move the directory, provision a new one.

# Authentication and access (the same on every listener): no anonymous
# clients, one password per identity, each confined to its own topics.
per_listener_settings false
allow_anonymous false
password_file {passwd}
acl_file {acl}

# Persistence: autosave_on_changes makes autosave_interval a count of changes
# (retained status and metadata, subscriptions, queued QoS 1 messages), and
# each save rewrites the whole database. 1 loses the least to a kill -9 but is
# too slow for a fleet (a 50-machine week, 16 800 messages, took 132 s and
# fell behind its subscriber; at 100 it took 6 s): a kill -9 here loses at most
# the last 100 changes. Set 1 for crash tests of the broker itself.
persistence true
persistence_location {data}
autosave_on_changes true
autosave_interval 100

# Queues: mosquitto's default of 1000 queued QoS 1 messages per client drops
# the rest, silently, for a subscriber that falls behind a fleet; a pipeline
# under test should see every message or a counted refusal.
max_queued_messages 1000000
max_inflight_messages 100

log_dest stderr
connection_messages true

# MQTT with username and password, loopback only.
listener {port} 127.0.0.1
",
        config = p.config.display(),
        passwd = p.passwd.display(),
        acl = p.acl.display(),
        data = p.data.display(),
        port = p.port,
    );
    if let (Some(tls), Some(port)) = (&p.tls, p.tls_port) {
        let _ = write!(
            s,
            "
# MQTT over TLS, loopback only: a client certificate signed by the CA below is
# required, and its CN is the username (the password file is not consulted
# here; the ACL is).
listener {port} 127.0.0.1
cafile {ca}
certfile {cert}
keyfile {key}
require_certificate true
use_identity_as_username true
",
            ca = tls.ca.display(),
            cert = tls.cert.display(),
            key = tls.key.display(),
        );
    }
    s
}

#[derive(Serialize)]
struct Index<'a> {
    scenario: &'a str,
    broker: Broker<'a>,
    /// Username → everything but the password.
    identities: BTreeMap<&'a str, Entry<'a>>,
}

#[derive(Serialize)]
struct Broker<'a> {
    host: &'static str,
    port: u16,
    tls_port: Option<u16>,
    ca: Option<&'a Path>,
}

#[derive(Serialize)]
struct Entry<'a> {
    client_id: &'a str,
    role: Role,
    gateway: Option<&'a str>,
    devices: &'a [String],
    password_file: &'a Path,
    cert: Option<&'a Path>,
    key: Option<&'a Path>,
    write: &'a [String],
    read: &'a [String],
}

/// `credentials.json`: where each identity's secrets are, never the secrets.
pub(crate) fn index(scenario: &str, p: &Provisioned) -> String {
    let index = Index {
        scenario,
        broker: Broker {
            host: "127.0.0.1",
            port: p.port,
            tls_port: p.tls_port,
            ca: p.tls.as_ref().map(|t| t.ca.as_path()),
        },
        identities: p
            .identities
            .iter()
            .map(|i| {
                (
                    i.username.as_str(),
                    Entry {
                        client_id: &i.client_id,
                        role: i.role,
                        gateway: i.gateway.as_deref(),
                        devices: &i.devices,
                        password_file: &i.password_file,
                        cert: i.certificate.as_ref().map(|c| c.cert.as_path()),
                        key: i.certificate.as_ref().map(|c| c.key.as_path()),
                        write: &i.write,
                        read: &i.read,
                    },
                )
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&index).expect(
        "the index holds strings, numbers and UTF-8 paths (checked), which always serialise",
    );
    text.push('\n');
    text
}

/// `README.md`: what each file is and how to start mosquitto with it.
pub(crate) fn readme(scenario: &str, p: &Provisioned, broker_gid: Option<u32>) -> String {
    let dir = p.dir.display();
    let admin = p.admin();
    let mut s = format!(
        "# mosquitto for scenario `{scenario}`

Written by `fabtwin provision --for mosquitto`. Start the broker with

```sh
mosquitto -c {config}
```

It listens on `127.0.0.1:{port}` (username + password)",
        config = p.config.display(),
        port = p.port,
    );
    if let Some(tls_port) = p.tls_port {
        let _ = write!(
            s,
            " and on `127.0.0.1:{tls_port}` (TLS, client certificate required; its CN is the username)"
        );
    }
    s.push_str(
        ".
Anonymous clients are refused, and each identity may publish and receive only
its own topics (see `acl`).

## Files

| file | what |
| --- | --- |
| `mosquitto.conf` | the broker's configuration (absolute paths into this directory) |
| `passwd` | mosquitto 2.0 password file: `user:$7$101$salt$hash` (PBKDF2-HMAC-SHA512) |
| `acl` | one `user` block per identity, exact topics only |
| `data/` | persistence (`mosquitto.db`), saved after every change |
| `credentials/<user>.password` | that identity's password on one line (mode 0600) |
| `credentials.json` | index: username → client id, role, devices, granted topics, file paths; no passwords |
",
    );
    if p.tls.is_some() {
        s.push_str(&format!(
            "| `credentials/<user>.crt`, `.key` | client certificate (CN = username) and its key (0600) |
| `tls/ca.crt` | test CA: clients trust it, the broker checks client certificates with it |
| `tls/server.crt`, `tls/server.key` | the broker's certificate (SAN IP 127.0.0.1, DNS localhost) and key |

The certificates are valid for {VALIDITY_DAYS} days. The CA's private key was
never written to disk, so no further certificate can be signed by this CA:
to add identities or renew, provision a new directory.
",
        ));
    }
    s.push_str(
        "\n## Identities\n\n| username | role | client id | devices |\n| --- | --- | --- | --- |\n",
    );
    for i in &p.identities {
        let devices = if i.role == Role::Admin {
            "all (reads `#`, writes commands)".to_string()
        } else {
            i.devices.join(", ")
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | `{}` | {devices} |",
            i.username, i.role, i.client_id
        );
    }
    let _ = write!(
        s,
        "
mosquitto does not tie a client id to a username: the ACL is by username.

## Running mosquitto as root

Started as root, mosquitto switches to user `mosquitto` *before* it reads the
password file, the ACL, the server key and the persistence directory, so files
only root can read stop it (`Error: Unable to load server key file`,
`Error saving in-memory database`).
"
    );
    match broker_gid {
        Some(gid) => {
            let _ = write!(
                s,
                "This directory was provisioned for that: the files the broker reads belong
to group {gid} (user `mosquitto`'s group) with mode 0640, `data/` is
group-writable, and the directories are group-searchable. Every directory
above `{dir}` must let that group through as well (`chmod o+x` where needed).
Client secrets (`credentials/`) stay readable by the provisioning user only.
"
            );
        }
        None => {
            s.push_str(
                "This directory was provisioned for a broker that runs as the same user who
provisioned it (the broker's files are mode 0600). To start it as root
instead, give the broker's group access first:

```sh
chgrp mosquitto DIR DIR/data DIR/passwd DIR/acl   # and DIR/tls DIR/tls/server.key with TLS
chmod 750 DIR; chmod 770 DIR/data; chmod 640 DIR/passwd DIR/acl
```

or provision as root, which does this itself.
",
            );
        }
    }
    let _ = write!(
        s,
        "
## Connecting

Each session connects as its own identity, with the client id and username in
the table above; `credentials.json` says where each one's secrets are. One
identity (`U`), with its password file:

```sh
fabtwin run SCENARIO --broker mqtt://127.0.0.1:{port} --username U --password-file {dir}/credentials/U.password
```
",
        port = p.port
    );
    if let (Some(tls), Some(tls_port)) = (&p.tls, p.tls_port) {
        let _ = write!(
            s,
            "
Over TLS with its certificate:

```sh
fabtwin run SCENARIO --broker mqtts://127.0.0.1:{tls_port} --ca {ca} --cert {dir}/credentials/U.crt --key {dir}/credentials/U.key
```

Watch everything as `{admin}` (the certificate keeps the password off the command line):

```sh
mosquitto_sub -h 127.0.0.1 -p {tls_port} --cafile {ca} --cert {dir}/credentials/{admin}.crt --key {dir}/credentials/{admin}.key -t '#' -v
```
",
            ca = tls.ca.display(),
            admin = admin.username,
        );
    } else {
        let _ = write!(
            s,
            "
Watch everything as `{admin}` (`-P` puts the password in the process list;
provision with `--tls` to use a client certificate instead):

```sh
mosquitto_sub -h 127.0.0.1 -p {port} -u {admin} -P \"$(cat {dir}/credentials/{admin}.password)\" -t '#' -v
```
",
            port = p.port,
            admin = admin.username,
        );
    }
    s.push_str(
        "
The ACL covers fabtwin's JSON topic tree; Sparkplug B topics are not granted.
",
    );
    s
}
