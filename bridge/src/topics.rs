//! The JSON topic tree. One subtree per device, under its site and gateway:
//!
//! | topic | what | retained |
//! | --- | --- | --- |
//! | `{root}/{site}/{gateway}/{device}/telemetry` | readings and edge status | no |
//! | `{root}/{site}/{gateway}/{device}/meta` | device model, parts, units, ODRs, firmware | yes |
//! | `{root}/{site}/{gateway}/{device}/status` | `online` / `offline` (last will) | yes |
//! | `{root}/{site}/{gateway}/{device}/cmd` | commands to the device | no |
//! | `{root}/{site}/{gateway}/{device}/reply` | replies to commands | no |
//! | `{root}/{site}/{gateway}/status` | the gateway session's `online` / `offline` (last will) | yes |
//! | `{root}/{site}/{gateway}/heartbeat` | the gateway session's heartbeat (`{…}/{device}/heartbeat` for a device's own session) | no |
//! | `{root}/{site}/{gateway}/truth` | ground truth (only where a scenario publishes it) | no |
//! | `{root}/{site}/{gateway}/flow/{line}` | a material-flow line: conveyors, stations, KPIs, part positions | no |
//!
//! `flow` is reserved: no device may take it as its id, so a flow line's topic
//! never matches a device's `…/{device}/telemetry`.
//!
//! A device's credentials may write only its own `telemetry`, `meta`, `status`
//! and `reply`, and read only its own `cmd`.

/// Builds topic names under one root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topics {
    root: String,
}

impl Topics {
    /// Topics under `root` (default `fabtwin`).
    pub fn new(root: &str) -> Topics {
        Topics {
            root: root.trim_end_matches('/').to_string(),
        }
    }

    fn device(&self, site: &str, gateway: &str, device: &str, leaf: &str) -> String {
        format!("{}/{site}/{gateway}/{device}/{leaf}", self.root)
    }

    /// Telemetry topic of a device.
    pub fn telemetry(&self, site: &str, gateway: &str, device: &str) -> String {
        self.device(site, gateway, device, "telemetry")
    }

    /// Retained metadata topic of a device.
    pub fn meta(&self, site: &str, gateway: &str, device: &str) -> String {
        self.device(site, gateway, device, "meta")
    }

    /// Retained status (online/offline) topic of a device.
    pub fn status(&self, site: &str, gateway: &str, device: &str) -> String {
        self.device(site, gateway, device, "status")
    }

    /// Command topic of a device.
    pub fn command(&self, site: &str, gateway: &str, device: &str) -> String {
        self.device(site, gateway, device, "cmd")
    }

    /// Command reply topic of a device.
    pub fn reply(&self, site: &str, gateway: &str, device: &str) -> String {
        self.device(site, gateway, device, "reply")
    }

    /// Retained status (online/offline, last will) of a gateway's own session.
    pub fn gateway_status(&self, site: &str, gateway: &str) -> String {
        format!("{}/{site}/{gateway}/status", self.root)
    }

    /// Heartbeat topic of a session: the gateway's, or with `device` a device's own.
    pub fn heartbeat(&self, site: &str, gateway: &str, device: Option<&str>) -> String {
        match device {
            Some(d) => self.device(site, gateway, d, "heartbeat"),
            None => format!("{}/{site}/{gateway}/heartbeat", self.root),
        }
    }

    /// Filter matching every device's telemetry.
    pub fn all_telemetry(&self) -> String {
        format!("{}/+/+/+/telemetry", self.root)
    }

    /// Topic of flow line `line`, published by `gateway`.
    pub fn flow(&self, site: &str, gateway: &str, line: &str) -> String {
        format!("{}/{site}/{gateway}/flow/{line}", self.root)
    }

    /// Filter matching every flow line's messages.
    pub fn all_flow(&self) -> String {
        format!("{}/+/+/flow/+", self.root)
    }

    /// Truth topic of a gateway.
    pub fn truth(&self, site: &str, gateway: &str) -> String {
        format!("{}/{site}/{gateway}/truth", self.root)
    }
}

impl Default for Topics {
    fn default() -> Topics {
        Topics::new("fabtwin")
    }
}
