//! [`TwinState`]: what the twin knows about the plant, built only from what
//! arrives on the broker's topics. [`TwinState::apply`] takes one message
//! (topic and payload) and [`TwinState::tick`] ages devices that fell silent;
//! both are pure, so the twin's view of any message sequence can be tested
//! without a broker or a renderer.
//!
//! Time is the caller's clock in seconds (`now`): wall time when mirroring an
//! external broker, sim time when the twin paces its own simulation.

use std::collections::{BTreeMap, VecDeque};

use serde::Deserialize;

/// Points kept per feature chart.
pub const HISTORY: usize = 512;
/// Alerts kept (oldest dropped first).
pub const ALERTS: usize = 200;
/// Parts kept per line for drawing.
pub const PARTS: usize = 2000;

/// A device's condition as the twin shows it (worst first when ordered).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Health {
    /// Nothing heard yet.
    #[default]
    Unknown,
    /// Good, ISO 10816 zone A (or no accelerometer).
    ZoneA,
    /// Good, zone B.
    ZoneB,
    /// Zone C (restricted operation) without a warning from the edge.
    ZoneC,
    /// The edge reports a warning.
    Warning,
    /// Zone D or an alarm from the edge.
    Alarm,
    /// Not heard from (last will or silence); the last health stays in [`DeviceState`].
    Offline,
}

impl Health {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::ZoneA => "zone A",
            Health::ZoneB => "zone B",
            Health::ZoneC => "zone C",
            Health::Warning => "warning",
            Health::Alarm => "alarm",
            Health::Offline => "offline",
        }
    }
}

/// Why a device counts as offline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfflineReason {
    /// Its own retained status says `offline` (its last will).
    LastWill,
    /// Its gateway's retained status says `offline` (the gateway's last will).
    GatewayWill,
    /// Nothing heard (telemetry or heartbeat) for longer than the timeout.
    Silent,
}

impl OfflineReason {
    /// Human-readable reason.
    pub fn name(self) -> &'static str {
        match self {
            OfflineReason::LastWill => "last will",
            OfflineReason::GatewayWill => "gateway last will",
            OfflineReason::Silent => "silent",
        }
    }
}

/// One sensor as the device's metadata describes it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct SensorInfo {
    /// Sensor id on the device.
    pub id: String,
    /// ST part number.
    #[serde(default)]
    pub part: String,
    /// What it measures.
    #[serde(default)]
    pub measures: String,
    /// Output data rate, Hz.
    #[serde(default)]
    pub odr_hz: f64,
}

/// A device's retained metadata.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct DeviceMeta {
    /// Machine kind (`pump`, `fan`, `motor`, `compressor`, …).
    #[serde(default)]
    pub machine_kind: String,
    /// Rated shaft speed, rpm.
    #[serde(default)]
    pub rated_speed_rpm: f64,
    /// Line id.
    #[serde(default)]
    pub line: String,
    /// Floor position, m.
    #[serde(default)]
    pub position_m: Option<[f64; 2]>,
    /// Sensors.
    #[serde(default)]
    pub sensors: Vec<SensorInfo>,
}

/// Everything mirrored about one device.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeviceState {
    /// Site id (from the topic).
    pub site: String,
    /// Gateway id (from the topic).
    pub gateway: String,
    /// Edge level of the newest telemetry: `good`, `warning` or `alarm`.
    pub level: String,
    /// ISO 10816 zone of the newest telemetry, if it has an accelerometer.
    pub zone: Option<char>,
    /// Features past their warning thresholds.
    pub reasons: Vec<String>,
    /// Sequence number of the newest telemetry.
    pub last_seq: Option<u64>,
    /// Device timestamp (RFC 3339) of the newest telemetry.
    pub last_ts: String,
    /// Telemetry messages mirrored.
    pub messages: u64,
    /// Caller time of the last sign of life (telemetry, heartbeat, `online`).
    pub last_seen: Option<f64>,
    /// Why it is offline, if it is.
    pub offline: Option<OfflineReason>,
    /// Newest value of each feature, by key `sensor.feature`.
    pub features: BTreeMap<String, f64>,
    /// Recent values of each feature: (device time, unix seconds; value), oldest first.
    pub history: BTreeMap<String, VecDeque<(f64, f64)>>,
    /// Retained metadata, once seen.
    pub meta: Option<DeviceMeta>,
    /// Newest command reply, as received.
    pub last_reply: Option<String>,
}

impl DeviceState {
    /// Health to show: offline wins, then the edge's verdict, then the zone.
    pub fn health(&self) -> Health {
        if self.offline.is_some() {
            return Health::Offline;
        }
        match (self.level.as_str(), self.zone) {
            ("alarm", _) | (_, Some('D')) => Health::Alarm,
            ("warning", _) => Health::Warning,
            (_, Some('C')) => Health::ZoneC,
            (_, Some('B')) => Health::ZoneB,
            ("good", _) => Health::ZoneA,
            _ => Health::Unknown,
        }
    }
}

/// A gateway session's presence.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GatewayState {
    /// Retained status: `Some(true)` online, `Some(false)` offline (last will).
    pub online: Option<bool>,
    /// Caller time of its newest heartbeat.
    pub last_heartbeat: Option<f64>,
}

/// Something an operator should see.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// Caller time.
    pub at: f64,
    /// Device id.
    pub device: String,
    /// What happened.
    pub text: String,
    /// Health after it happened.
    pub health: Health,
}

/// A conveyor of a material-flow line.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct ConveyorState {
    /// Id.
    pub id: String,
    /// Belt speed, m/s.
    #[serde(default)]
    pub speed_m_s: f64,
    /// Motor current, A.
    #[serde(default)]
    pub current_a: f64,
    /// `running`, `jammed`, `slipping` or `stopped`.
    #[serde(default)]
    pub state: String,
    /// Parts on the belt.
    #[serde(default)]
    pub parts: u64,
}

/// A station of a material-flow line.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct StationState {
    /// Id.
    pub id: String,
    /// `running`, `starved`, `blocked` or `faulted`.
    #[serde(default)]
    pub state: String,
    /// Parts completed.
    #[serde(default)]
    pub completed: u64,
    /// Fraction of time working.
    #[serde(default)]
    pub utilisation: f64,
}

/// A material-flow line's newest state (topic `{root}/{site}/{gateway}/flow/{line}`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct LineState {
    /// Conveyors.
    #[serde(default)]
    pub conveyors: Vec<ConveyorState>,
    /// Stations.
    #[serde(default)]
    pub stations: Vec<StationState>,
    /// Key figures (throughput per hour, WIP, OEE …) by name.
    #[serde(default)]
    pub kpi: BTreeMap<String, f64>,
    /// Part positions on the floor, m (x, height, y).
    #[serde(default)]
    pub parts: Vec<[f32; 3]>,
}

/// What one message did to the state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Device telemetry.
    Telemetry,
    /// Device metadata.
    Meta,
    /// A presence change or heartbeat.
    Presence,
    /// A command reply.
    Reply,
    /// A material-flow line's state.
    Flow,
    /// A topic the twin does not show (commands, truth, other trees).
    Ignored,
}

/// A payload the twin could not read: counted and shown, never fatal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// Topic it came on.
    pub topic: String,
    /// What was wrong, naming the field.
    pub reason: String,
}

/// The mirrored plant.
#[derive(Clone, Debug, PartialEq)]
pub struct TwinState {
    root: String,
    /// A device silent for longer than this (caller seconds) turns offline.
    pub silence_timeout: f64,
    /// Devices by id.
    pub devices: BTreeMap<String, DeviceState>,
    /// Gateways by id.
    pub gateways: BTreeMap<String, GatewayState>,
    /// Material-flow lines by id.
    pub lines: BTreeMap<String, LineState>,
    /// Newest alerts, oldest first.
    pub alerts: VecDeque<Alert>,
    /// Messages applied (any topic under the root).
    pub messages: u64,
    /// Payloads that could not be read.
    pub malformed: u64,
    /// The newest of them.
    pub last_malformed: Option<Malformed>,
}

#[derive(Deserialize)]
struct TelemetryIn {
    seq: u64,
    #[serde(default)]
    ts: String,
    status: StatusIn,
    #[serde(default)]
    readings: Vec<ReadingIn>,
}

#[derive(Deserialize)]
struct StatusIn {
    level: String,
    #[serde(default)]
    zone: Option<String>,
    #[serde(default)]
    reasons: Vec<String>,
}

#[derive(Deserialize)]
struct ReadingIn {
    sensor: String,
    #[serde(default)]
    ts: Option<String>,
    #[serde(default)]
    axes: Vec<AxisIn>,
    #[serde(flatten)]
    scalars: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct AxisIn {
    rms_g: f64,
    kurtosis: f64,
    crest: f64,
}

/// Scalar fields of a reading that become chartable features.
const SCALARS: [&str; 6] = [
    "vel_rms_mm_s",
    "temperature_c",
    "humidity_pct",
    "pressure_hpa",
    "spl_db",
    "peak_pa",
];

fn read<'a, T: Deserialize<'a>>(payload: &'a [u8]) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(payload);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.into_inner().to_string()
        } else {
            format!("{path}: {}", e.into_inner())
        }
    })
}

/// Unix seconds of an RFC 3339 timestamp.
fn unix_seconds(ts: &str) -> Option<f64> {
    let t = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).ok()?;
    Some(t.unix_timestamp_nanos() as f64 / 1e9)
}

impl TwinState {
    /// An empty mirror of the tree under `root` (`fabtwin` by default).
    pub fn new(root: &str, silence_timeout: f64) -> TwinState {
        TwinState {
            root: root.trim_end_matches('/').to_string(),
            silence_timeout,
            devices: BTreeMap::new(),
            gateways: BTreeMap::new(),
            lines: BTreeMap::new(),
            alerts: VecDeque::new(),
            messages: 0,
            malformed: 0,
            last_malformed: None,
        }
    }

    /// The command topic of `device`, if the twin has heard of it.
    pub fn command_topic(&self, device: &str) -> Option<String> {
        let d = self.devices.get(device)?;
        Some(format!(
            "{}/{}/{}/{device}/cmd",
            self.root, d.site, d.gateway
        ))
    }

    /// Applies one message that arrived at caller time `now`. A payload it
    /// cannot read is counted in [`TwinState::malformed`] and returned as an error.
    pub fn apply(&mut self, topic: &str, payload: &[u8], now: f64) -> Result<Applied, Malformed> {
        let Some(rest) = topic
            .strip_prefix(self.root.as_str())
            .and_then(|r| r.strip_prefix('/'))
        else {
            return Ok(Applied::Ignored);
        };
        self.messages += 1;
        let parts: Vec<&str> = rest.split('/').collect();
        let result = match parts.as_slice() {
            [site, gw, dev, "telemetry"] => self.telemetry(site, gw, dev, payload, now),
            [site, gw, dev, "meta"] => self.meta(site, gw, dev, payload),
            [site, gw, dev, "status"] => self.device_status(site, gw, dev, payload, now),
            [site, gw, dev, "heartbeat"] => {
                self.device(site, gw, dev).last_seen = Some(now);
                self.revive(dev, now);
                Ok(Applied::Presence)
            }
            [site, gw, dev, "reply"] => {
                let text = String::from_utf8_lossy(payload).into_owned();
                self.device(site, gw, dev).last_reply = Some(text);
                Ok(Applied::Reply)
            }
            [_, gw, "status"] => self.gateway_status(gw, payload, now),
            [_, gw, "heartbeat"] => {
                self.gateways
                    .entry(gw.to_string())
                    .or_default()
                    .last_heartbeat = Some(now);
                for id in self.devices_of(gw) {
                    if let Some(d) = self.devices.get_mut(&id) {
                        d.last_seen = Some(now);
                    }
                    self.revive(&id, now);
                }
                Ok(Applied::Presence)
            }
            [_, _, "flow", line] => match read::<LineState>(payload) {
                Ok(mut l) => {
                    l.parts.truncate(PARTS);
                    self.lines.insert(line.to_string(), l);
                    Ok(Applied::Flow)
                }
                Err(reason) => Err(reason),
            },
            _ => Ok(Applied::Ignored),
        };
        result.map_err(|reason| {
            let m = Malformed {
                topic: topic.to_string(),
                reason,
            };
            self.malformed += 1;
            self.last_malformed = Some(m.clone());
            m
        })
    }

    /// Turns devices silent for longer than the timeout offline (caller time `now`).
    pub fn tick(&mut self, now: f64) {
        let timeout = self.silence_timeout;
        let silent: Vec<String> = self
            .devices
            .iter()
            .filter(|(_, d)| {
                d.offline.is_none() && d.last_seen.is_some_and(|seen| now - seen > timeout)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in silent {
            self.go_offline(&id, OfflineReason::Silent, now);
        }
    }

    /// Devices in each health, worst first.
    pub fn counts(&self) -> BTreeMap<Health, usize> {
        let mut c = BTreeMap::new();
        for d in self.devices.values() {
            *c.entry(d.health()).or_insert(0) += 1;
        }
        c
    }

    fn devices_of(&self, gw: &str) -> Vec<String> {
        self.devices
            .iter()
            .filter(|(_, d)| d.gateway == gw)
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn device(&mut self, site: &str, gw: &str, dev: &str) -> &mut DeviceState {
        let d = self.devices.entry(dev.to_string()).or_default();
        if d.site != site || d.gateway != gw {
            d.site = site.to_string();
            d.gateway = gw.to_string();
        }
        d
    }

    fn alert(&mut self, device: &str, text: String, health: Health, now: f64) {
        if self.alerts.len() == ALERTS {
            self.alerts.pop_front();
        }
        self.alerts.push_back(Alert {
            at: now,
            device: device.to_string(),
            text,
            health,
        });
    }

    fn go_offline(&mut self, dev: &str, reason: OfflineReason, now: f64) {
        let Some(d) = self.devices.get_mut(dev) else {
            return;
        };
        if d.offline.is_some() {
            return;
        }
        d.offline = Some(reason);
        self.alert(
            dev,
            format!("offline ({})", reason.name()),
            Health::Offline,
            now,
        );
    }

    /// A sign of life: a device that was offline for silence or a will comes back,
    /// unless its gateway's will still stands.
    fn revive(&mut self, dev: &str, now: f64) {
        let Some(d) = self.devices.get(dev) else {
            return;
        };
        let gateway_down = self
            .gateways
            .get(&d.gateway)
            .is_some_and(|g| g.online == Some(false));
        if d.offline.is_none() || gateway_down {
            return;
        }
        let d = self.devices.get_mut(dev).expect("looked up above");
        d.offline = None;
        let health = d.health();
        self.alert(dev, "back online".into(), health, now);
    }

    fn telemetry(
        &mut self,
        site: &str,
        gw: &str,
        dev: &str,
        payload: &[u8],
        now: f64,
    ) -> Result<Applied, String> {
        let t: TelemetryIn = read(payload)?;
        let zone = match t.status.zone.as_deref() {
            None => None,
            Some(z @ ("A" | "B" | "C" | "D")) => z.chars().next(),
            Some(other) => {
                return Err(format!(
                    "status.zone: `{other}` is not a zone (valid: A, B, C, D)"
                ));
            }
        };
        if !matches!(t.status.level.as_str(), "good" | "warning" | "alarm") {
            return Err(format!(
                "status.level: `{}` is not a level (valid: good, warning, alarm)",
                t.status.level
            ));
        }
        let at = unix_seconds(&t.ts);
        let d = self.device(site, gw, dev);
        let before = d.health();
        d.level = t.status.level;
        d.zone = zone;
        d.reasons = t.status.reasons;
        d.last_seq = Some(t.seq);
        d.last_ts = t.ts;
        d.messages += 1;
        d.last_seen = Some(now);
        for r in &t.readings {
            let when = r.ts.as_deref().and_then(unix_seconds).or(at).unwrap_or(now);
            let mut put = |name: &str, v: f64| {
                if !v.is_finite() {
                    return;
                }
                let key = format!("{}.{name}", r.sensor);
                d.features.insert(key.clone(), v);
                let h = d.history.entry(key).or_default();
                if h.len() == HISTORY {
                    h.pop_front();
                }
                h.push_back((when, v));
            };
            if !r.axes.is_empty() {
                let worst = |f: fn(&AxisIn) -> f64| r.axes.iter().map(f).fold(f64::MIN, f64::max);
                put("rms_g", worst(|a| a.rms_g));
                put("kurtosis", worst(|a| a.kurtosis));
                put("crest", worst(|a| a.crest));
            }
            for name in SCALARS {
                if let Some(v) = r.scalars.get(name).and_then(|v| v.as_f64()) {
                    put(name, v);
                }
            }
        }
        let after = d.health();
        let reasons = d.reasons.join(", ");
        self.revive(dev, now);
        let after = if self.devices[dev].offline.is_some() {
            Health::Offline
        } else {
            after
        };
        if after != before && after >= Health::Warning && after != Health::Offline {
            let text = if reasons.is_empty() {
                after.name().to_string()
            } else {
                format!("{} ({reasons})", after.name())
            };
            self.alert(dev, text, after, now);
        } else if before >= Health::Warning
            && before != Health::Offline
            && after < Health::Warning
            && after != Health::Unknown
        {
            self.alert(dev, format!("cleared ({})", after.name()), after, now);
        }
        Ok(Applied::Telemetry)
    }

    fn meta(&mut self, site: &str, gw: &str, dev: &str, payload: &[u8]) -> Result<Applied, String> {
        let m: DeviceMeta = read(payload)?;
        self.device(site, gw, dev).meta = Some(m);
        Ok(Applied::Meta)
    }

    fn presence(payload: &[u8]) -> Result<bool, String> {
        match payload {
            b"online" => Ok(true),
            b"offline" => Ok(false),
            other => Err(format!(
                "status: `{}` is not a status (valid: online, offline)",
                String::from_utf8_lossy(&other[..other.len().min(40)])
            )),
        }
    }

    fn device_status(
        &mut self,
        site: &str,
        gw: &str,
        dev: &str,
        payload: &[u8],
        now: f64,
    ) -> Result<Applied, String> {
        let online = Self::presence(payload)?;
        let d = self.device(site, gw, dev);
        if online {
            d.last_seen = Some(now);
            if d.offline == Some(OfflineReason::LastWill) {
                d.offline = Some(OfflineReason::Silent);
            }
            self.revive(dev, now);
        } else {
            self.go_offline(dev, OfflineReason::LastWill, now);
        }
        Ok(Applied::Presence)
    }

    fn gateway_status(&mut self, gw: &str, payload: &[u8], now: f64) -> Result<Applied, String> {
        let online = Self::presence(payload)?;
        self.gateways.entry(gw.to_string()).or_default().online = Some(online);
        for id in self.devices_of(gw) {
            if online {
                if let Some(d) = self.devices.get_mut(&id) {
                    d.last_seen = Some(now);
                }
                self.revive(&id, now);
            } else {
                self.go_offline(&id, OfflineReason::GatewayWill, now);
            }
        }
        Ok(Applied::Presence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn telemetry(level: &str, zone: &str, vel: f64) -> Vec<u8> {
        format!(
            r#"{{"device":"pump01","seq":3,"ts":"2026-01-01T06:15:00Z","ts_ns":0,
               "status":{{"level":"{level}","zone":"{zone}","reasons":["velocity"]}},
               "readings":[{{"sensor":"vib","part":"IIS3DWB","ts":"2026-01-01T06:10:00Z",
                 "axes":[{{"axis":"x","rms_g":0.1,"peak_g":0.4,"crest":4.0,"kurtosis":3.5,"vel_rms_mm_s":{vel},"bands_g2":[]}},
                         {{"axis":"y","rms_g":0.3,"peak_g":0.9,"crest":3.0,"kurtosis":2.9,"vel_rms_mm_s":1.0,"bands_g2":[]}}],
                 "vel_rms_mm_s":{vel},"zone":"{zone}"}},
                {{"sensor":"temp","part":"STTS22H","ts":"2026-01-01T06:10:00Z","temperature_c":41.5}}]}}"#
        )
        .into_bytes()
    }

    const T: &str = "fabtwin/plant1/gw1/pump01/telemetry";

    #[test]
    fn telemetry_sets_health_features_and_history() {
        let mut s = TwinState::new("fabtwin", 60.0);
        assert_eq!(
            s.apply(T, &telemetry("good", "A", 1.2), 0.0),
            Ok(Applied::Telemetry)
        );
        let d = &s.devices["pump01"];
        assert_eq!((d.site.as_str(), d.gateway.as_str()), ("plant1", "gw1"));
        assert_eq!(d.health(), Health::ZoneA);
        assert_eq!(d.last_seq, Some(3));
        assert_eq!(d.features["vib.rms_g"], 0.3, "worst axis");
        assert_eq!(d.features["vib.kurtosis"], 3.5);
        assert_eq!(d.features["vib.vel_rms_mm_s"], 1.2);
        assert_eq!(d.features["temp.temperature_c"], 41.5);
        let (t, v) = d.history["temp.temperature_c"][0];
        assert_eq!(v, 41.5);
        assert_eq!(t, 1_767_247_800.0, "the reading's own timestamp");
        assert!(s.alerts.is_empty());
        assert_eq!(
            s.command_topic("pump01").as_deref(),
            Some("fabtwin/plant1/gw1/pump01/cmd")
        );
    }

    #[test]
    fn an_alarm_turns_health_to_alarm_and_raises_one_alert() {
        let mut s = TwinState::new("fabtwin", 60.0);
        s.apply(T, &telemetry("good", "B", 3.0), 0.0).unwrap();
        assert_eq!(s.devices["pump01"].health(), Health::ZoneB);
        s.apply(T, &telemetry("alarm", "C", 9.0), 1.0).unwrap();
        s.apply(T, &telemetry("alarm", "C", 9.5), 2.0).unwrap();
        assert_eq!(s.devices["pump01"].health(), Health::Alarm);
        assert_eq!(s.alerts.len(), 1, "{:?}", s.alerts);
        assert_eq!(s.alerts[0].text, "alarm (velocity)");
        s.apply(T, &telemetry("good", "A", 1.0), 3.0).unwrap();
        assert_eq!(s.alerts.len(), 2);
        assert_eq!(s.alerts[1].text, "cleared (zone A)");
        // Zone D is an alarm whatever the edge level says.
        s.apply(T, &telemetry("good", "D", 20.0), 4.0).unwrap();
        assert_eq!(s.devices["pump01"].health(), Health::Alarm);
    }

    #[test]
    fn silence_turns_a_device_offline_and_a_message_brings_it_back() {
        let mut s = TwinState::new("fabtwin", 60.0);
        s.apply(T, &telemetry("good", "A", 1.0), 0.0).unwrap();
        s.tick(59.0);
        assert_eq!(s.devices["pump01"].health(), Health::ZoneA);
        s.tick(61.0);
        assert_eq!(s.devices["pump01"].health(), Health::Offline);
        assert_eq!(s.devices["pump01"].offline, Some(OfflineReason::Silent));
        // A gateway heartbeat counts as a sign of life for its devices.
        s.apply("fabtwin/plant1/gw1/heartbeat", b"{}", 70.0)
            .unwrap();
        assert_eq!(s.devices["pump01"].health(), Health::ZoneA);
        assert_eq!(
            s.alerts.iter().map(|a| a.text.as_str()).collect::<Vec<_>>(),
            ["offline (silent)", "back online"]
        );
    }

    #[test]
    fn a_gateway_will_greys_its_devices_until_it_is_back() {
        let mut s = TwinState::new("fabtwin", 600.0);
        s.apply(T, &telemetry("good", "A", 1.0), 0.0).unwrap();
        s.apply("fabtwin/plant1/gw1/status", b"offline", 1.0)
            .unwrap();
        assert_eq!(
            s.devices["pump01"].offline,
            Some(OfflineReason::GatewayWill)
        );
        // Telemetry still draining from a broker queue does not revive it while the will stands.
        s.apply(T, &telemetry("good", "A", 1.0), 2.0).unwrap();
        assert_eq!(s.devices["pump01"].health(), Health::Offline);
        s.apply("fabtwin/plant1/gw1/status", b"online", 3.0)
            .unwrap();
        assert_eq!(s.devices["pump01"].health(), Health::ZoneA);
        s.apply("fabtwin/plant1/gw1/pump01/status", b"offline", 4.0)
            .unwrap();
        assert_eq!(s.devices["pump01"].offline, Some(OfflineReason::LastWill));
        s.apply("fabtwin/plant1/gw1/pump01/status", b"online", 5.0)
            .unwrap();
        assert_eq!(s.devices["pump01"].offline, None);
    }

    #[test]
    fn malformed_payloads_are_counted_with_the_field_named() {
        let mut s = TwinState::new("fabtwin", 60.0);
        let e = s.apply(T, b"not json", 0.0).unwrap_err();
        assert!(e.reason.contains("expected"), "{e:?}");
        let e = s
            .apply(T, br#"{"seq":1,"status":{"level":7}}"#, 0.0)
            .unwrap_err();
        assert!(e.reason.starts_with("status.level:"), "{e:?}");
        let e = s.apply(T, &telemetry("panic", "A", 1.0), 0.0).unwrap_err();
        assert!(e.reason.contains("valid: good, warning, alarm"), "{e:?}");
        let e = s
            .apply("fabtwin/plant1/gw1/status", b"maybe", 0.0)
            .unwrap_err();
        assert!(e.reason.contains("valid: online, offline"), "{e:?}");
        let e = s
            .apply("fabtwin/plant1/gw1/flow/line1", b"[1,2]", 0.0)
            .unwrap_err();
        assert_eq!(e.topic, "fabtwin/plant1/gw1/flow/line1");
        assert_eq!(s.malformed, 5);
        assert_eq!(s.last_malformed, Some(e));
        // Garbage never creates a device.
        assert!(s.devices.is_empty());
    }

    #[test]
    fn other_topics_are_ignored_and_meta_and_flow_are_kept() {
        let mut s = TwinState::new("fabtwin", 60.0);
        assert_eq!(
            s.apply("spBv1.0/g/NBIRTH/n", b"\x00", 0.0),
            Ok(Applied::Ignored)
        );
        assert_eq!(
            s.apply("fabtwin/plant1/gw1/pump01/cmd", b"{}", 0.0),
            Ok(Applied::Ignored)
        );
        let meta = br#"{"device":"pump01","machine_kind":"pump","rated_speed_rpm":2950.0,"line":"line1",
            "position_m":[4.0,0.0],"sensors":[{"id":"vib","part":"IIS3DWB","measures":"vibration","odr_hz":26667.0}]}"#;
        assert_eq!(
            s.apply("fabtwin/plant1/gw1/pump01/meta", meta, 0.0),
            Ok(Applied::Meta)
        );
        let m = s.devices["pump01"].meta.as_ref().unwrap();
        assert_eq!(
            (m.machine_kind.as_str(), m.rated_speed_rpm),
            ("pump", 2950.0)
        );
        assert_eq!(m.sensors[0].part, "IIS3DWB");
        let flow = br#"{"line":"line1","conveyors":[{"id":"c1","speed_m_s":0.5,"current_a":3.2,"state":"jammed","parts":4}],
            "stations":[{"id":"s1","state":"blocked","completed":12,"utilisation":0.8}],
            "kpi":{"throughput_per_h":590.0,"oee":0.81},"parts":[[1.0,0.9,0.0]]}"#;
        assert_eq!(
            s.apply("fabtwin/plant1/gw1/flow/line1", flow, 0.0),
            Ok(Applied::Flow)
        );
        let l = &s.lines["line1"];
        assert_eq!(l.conveyors[0].state, "jammed");
        assert_eq!(l.stations[0].state, "blocked");
        assert_eq!(l.kpi["throughput_per_h"], 590.0);
        assert_eq!(l.parts, vec![[1.0, 0.9, 0.0]]);
    }
}
