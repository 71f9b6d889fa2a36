//! Who connects as whom and which exact topics each may use, from the
//! scenario alone (pure: no files, no randomness).
//!
//! The sessions are those [`crate::mqtt::fleet::Fleet::connect`] opens:
//!
//! | session | username | writes | reads |
//! | --- | --- | --- | --- |
//! | gateway (`PerGateway`) | gateway id | its own `status`; per device: `telemetry`, `meta`, `status`, `reply` | per device: `cmd` |
//! | device (`PerDevice`) | device id | `telemetry`, `meta`, `status`, `reply` | `cmd` |
//! | admin | [`super::ProvisionOptions::admin_username`] | every device's `cmd` | `#` |
//!
//! A `PerDevice` session does not publish its gateway's status (the fleet
//! gives it only its device's), so it is not granted it.

use std::collections::BTreeMap;

use fabtwin_sim::scenario::{Codec, Scenario, Session as SessionLayout};

use super::{ProvisionError, Role};
use crate::topics::Topics;

/// One identity's name and rights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Access {
    pub username: String,
    pub client_id: String,
    pub role: Role,
    pub gateway: Option<String>,
    pub devices: Vec<String>,
    pub write: Vec<String>,
    pub read: Vec<String>,
}

/// The admin, then one identity per fleet session in scenario order.
pub(crate) fn plan(
    scenario: &Scenario,
    topics: &Topics,
    client_prefix: &str,
    admin: &str,
) -> Result<Vec<Access>, ProvisionError> {
    let mut sessions = Vec::new();
    let mut all_commands = Vec::new();
    for g in &scenario.gateways {
        let device_topics = |m: usize| {
            let machine = &scenario.machines[m];
            let (site, id) = (machine.site.as_str(), machine.id.as_str());
            let write = vec![
                topics.telemetry(site, &g.id, id),
                topics.meta(site, &g.id, id),
                topics.status(site, &g.id, id),
                topics.reply(site, &g.id, id),
            ];
            (id.to_string(), write, topics.command(site, &g.id, id))
        };
        // Sparkplug B: the edge node's births, data and deaths (its will is
        // ACL-checked too), and its NCMD; the admin may send NCMD (rebirth).
        let sparkplug = |edge: &str, devices: &[&str]| -> (Vec<String>, Vec<String>) {
            if g.codec != Codec::SparkplugB {
                return (Vec::new(), Vec::new());
            }
            let node = |t: &str| format!("spBv1.0/{}/{t}/{edge}", g.site);
            let mut write = vec![node("NBIRTH"), node("NDEATH")];
            for d in devices {
                for t in ["DBIRTH", "DDATA", "DDEATH"] {
                    write.push(format!("{}/{d}", node(t)));
                }
            }
            (write, vec![node("NCMD")])
        };
        match g.session {
            SessionLayout::PerGateway => {
                let mut write = vec![
                    topics.gateway_status(&g.site, &g.id),
                    topics.heartbeat(&g.site, &g.id, None),
                ];
                let mut read = Vec::new();
                let mut devices = Vec::new();
                for &m in &g.machines {
                    let (id, w, cmd) = device_topics(m);
                    devices.push(id);
                    write.extend(w);
                    all_commands.push(cmd.clone());
                    read.push(cmd);
                }
                let names: Vec<&str> = devices.iter().map(String::as_str).collect();
                let (w, r) = sparkplug(&g.id, &names);
                write.extend(w);
                all_commands.extend(r.iter().cloned());
                read.extend(r);
                sessions.push(Access {
                    username: g.id.clone(),
                    client_id: format!("{client_prefix}{}", g.id),
                    role: Role::Gateway,
                    gateway: Some(g.id.clone()),
                    devices,
                    write,
                    read,
                });
            }
            SessionLayout::PerDevice => {
                for &m in &g.machines {
                    let (id, mut write, cmd) = device_topics(m);
                    write.push(topics.heartbeat(&g.site, &g.id, Some(&id)));
                    all_commands.push(cmd.clone());
                    let (w, r) = sparkplug(&id, &[id.as_str()]);
                    write.extend(w);
                    all_commands.extend(r.iter().cloned());
                    let mut read = vec![cmd];
                    read.extend(r);
                    sessions.push(Access {
                        client_id: format!("{client_prefix}{id}"),
                        username: id.clone(),
                        role: Role::Device,
                        gateway: Some(g.id.clone()),
                        devices: vec![id],
                        write,
                        read,
                    });
                }
            }
        }
    }
    let mut all = vec![Access {
        username: admin.to_string(),
        client_id: format!("{client_prefix}{admin}"),
        role: Role::Admin,
        gateway: None,
        devices: Vec::new(),
        write: all_commands,
        read: vec!["#".to_string()],
    }];
    all.extend(sessions);

    let mut holders: BTreeMap<&str, String> = BTreeMap::new();
    for a in &all {
        check_name("username", &a.username)?;
        let holder = match (a.role, &a.gateway) {
            (Role::Admin, _) => "the admin identity".to_string(),
            (Role::Device, Some(g)) => format!("device {} (gateway {g}, PerDevice)", a.username),
            _ => format!("gateway {}", a.username),
        };
        if let Some(first) = holders.insert(&a.username, holder.clone()) {
            return Err(ProvisionError::DuplicateUsername {
                username: a.username.clone(),
                first,
                second: holder,
            });
        }
        for t in a.write.iter().chain(&a.read) {
            check_topic(t, a.role == Role::Admin)?;
        }
    }
    Ok(all)
}

/// A username must be a single safe token: it becomes an ACL `user` line, a
/// password-file key (before `:`), a file name and a certificate CN.
pub(crate) fn check_name(field: &str, name: &str) -> Result<(), ProvisionError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(ProvisionError::Invalid {
            field: field.to_string(),
            message: format!(
                "`{name}` is not usable as an MQTT username (valid: 1–64 characters of A–Z, a–z, 0–9, `-`, `_`, `.`, not starting with `.`)"
            ),
        })
    }
}

/// Every granted topic is exact (no wildcard, so no identity gets more than
/// its own) and fits on one ACL line; only the admin's `#` is a filter.
fn check_topic(topic: &str, admin: bool) -> Result<(), ProvisionError> {
    if admin && topic == "#" {
        return Ok(());
    }
    let why = if topic.is_empty() {
        Some("is empty")
    } else if topic.contains(['+', '#']) {
        Some("contains an MQTT wildcard (`+` or `#`), which would grant other devices' topics")
    } else if topic.chars().any(|c| c.is_control()) {
        Some("contains a control character")
    } else {
        None
    };
    match why {
        Some(why) => Err(ProvisionError::Invalid {
            field: "topics".to_string(),
            message: format!(
                "topic `{}` {why} (check the topic root)",
                topic.escape_debug()
            ),
        }),
        None => Ok(()),
    }
}
