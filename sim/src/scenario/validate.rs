//! Second step of loading: turns the raw file into a [`Scenario`], collecting
//! every problem with its position and path instead of stopping at the first.

use std::collections::{BTreeMap, BTreeSet};

use super::ctx::Ctx;
use super::model::*;
use super::raw::*;
use super::spanned::Spanned;
use super::{Problem, ScenarioError};
use crate::degradation::{DegradationSpec, Growth, Onset};
use crate::edge::Limits;
use crate::edge::limits::Level;
use crate::faults::{FaultEvent, SensorFault, Target};
use crate::plant::{BearingGeometry, FaultMode, LoadProfile};
use crate::sensors::{Measures, Part};
use crate::time::{Epoch, SimDuration, SimTime};

/// Resolves a machine id to its index, reporting an unknown one.
type Lookup<'a> = dyn Fn(&mut Ctx, &Spanned<String>, &str) -> Option<usize> + 'a;

/// Turns `raw` (parsed from `src`, named `file` in messages) into a scenario.
pub fn validate(raw: RawScenario, src: &str, file: &str) -> Result<Scenario, ScenarioError> {
    let mut cx = Ctx {
        src,
        file,
        problems: Vec::new(),
    };
    cx.id(&raw.name, "name");
    let start = match &raw.start {
        Some(s) => Epoch::parse_rfc3339(&s.val).unwrap_or_else(|e| {
            cx.at(s, "start", e);
            Epoch::DEFAULT
        }),
        None => Epoch::DEFAULT,
    };
    // When `duration` is invalid it is reported once; checks against it are skipped.
    let valid_duration = cx.positive_dur(&raw.duration, "duration");
    let duration = valid_duration.unwrap_or(SimDuration::from_secs(1));
    if duration > SimDuration::from_secs(400 * 86_400) {
        cx.at(
            &raw.duration,
            "duration",
            format!(
                "`{}` is longer than the 400 d a run may last",
                raw.duration.val
            ),
        );
    }
    let (mut interval, mut window_samples) = (SimDuration::from_secs(600), 32_768usize);
    if let Some(a) = &raw.acquisition {
        if let Some(i) = &a.interval {
            interval = cx
                .positive_dur(i, "acquisition.interval")
                .unwrap_or(interval);
            if interval < SimDuration::from_secs(2) {
                cx.at(
                    i,
                    "acquisition.interval",
                    format!(
                        "`{}` is shorter than 2 s (a window must fit between acquisitions)",
                        i.val
                    ),
                );
            }
        }
        if let Some(w) = &a.window_samples {
            if !(256..=1 << 20).contains(&w.val) {
                cx.at(
                    w,
                    "acquisition.window_samples",
                    format!("{} is out of range (valid: 256 … 1048576)", w.val),
                );
            } else {
                window_samples = w.val as usize;
            }
        }
    }
    let ambient = Ambient {
        celsius: raw
            .ambient_c
            .as_ref()
            .map_or(22.0, |s| cx.range(s, "ambient_c", -40.0, 60.0, " °C")),
        hpa: raw.ambient_hpa.as_ref().map_or(1013.25, |s| {
            cx.range(s, "ambient_hpa", 300.0, 1200.0, " hPa")
        }),
        rh_pct: raw
            .ambient_rh_pct
            .as_ref()
            .map_or(45.0, |s| cx.range(s, "ambient_rh_pct", 0.0, 100.0, " %")),
    };

    // Plant.
    let mut machines: Vec<Machine> = Vec::new();
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut site_ids = BTreeSet::new();
    let mut lines: Vec<(String, String, Vec<usize>)> = Vec::new();
    for (si, site) in raw.sites.iter().enumerate() {
        let sp = format!("sites[{si}]");
        cx.id(&site.id, &format!("{sp}.id"));
        if !site_ids.insert(site.id.val.clone()) {
            cx.at(
                &site.id,
                format!("{sp}.id"),
                format!("site id `{}` is used twice", site.id.val),
            );
        }
        let supply_hz = site.supply_hz.as_ref().map_or(50.0, |f| {
            if f.val == 50.0 || f.val == 60.0 {
                f.val
            } else {
                cx.at(
                    f,
                    format!("{sp}.supply_hz"),
                    format!("{} Hz is not a mains frequency (valid: 50, 60)", f.val),
                );
                50.0
            }
        });
        let mut line_ids = BTreeSet::new();
        for (li, line) in site.lines.iter().enumerate() {
            let lp = format!("{sp}.lines[{li}]");
            cx.id(&line.id, &format!("{lp}.id"));
            if !line_ids.insert(line.id.val.clone()) {
                cx.at(
                    &line.id,
                    format!("{lp}.id"),
                    format!(
                        "line id `{}` is used twice in site `{}`",
                        line.id.val, site.id.val
                    ),
                );
            }
            let mut members = Vec::new();
            for (mi, m) in line.machines.iter().enumerate() {
                let mp = format!("{lp}.machines[{mi}]");
                let index = machines.len();
                if let Some(machine) = machine(
                    &mut cx,
                    m,
                    &mp,
                    &site.id.val,
                    &line.id.val,
                    (mi, lines.len()),
                    supply_hz,
                ) {
                    if m.id.val == "flow" {
                        cx.at(&m.id, format!("{mp}.id"), "machine id `flow` is reserved (a gateway's flow lines publish under `{site}/{gateway}/flow/{line}`); choose another id");
                    }
                    if ids.insert(m.id.val.clone(), index).is_some() {
                        cx.at(&m.id, format!("{mp}.id"), format!("machine id `{}` is used twice (machine ids are device ids and must be unique)", m.id.val));
                    }
                    members.push(index);
                    machines.push(machine);
                }
            }
            lines.push((site.id.val.clone(), line.id.val.clone(), members));
        }
    }
    if machines.is_empty() {
        cx.problems.push(Problem::whole(
            file,
            "sites",
            "a scenario needs at least one site with one line and one machine",
        ));
    }
    let lookup = |cx: &mut Ctx, s: &Spanned<String>, path: &str| -> Option<usize> {
        let found = ids.get(&s.val).copied();
        if found.is_none() {
            let known: Vec<&str> = ids.keys().map(String::as_str).take(12).collect();
            let more = if ids.len() > 12 { ", …" } else { "" };
            cx.at(
                s,
                path,
                format!(
                    "no machine `{}` in this scenario (known: {}{more})",
                    s.val,
                    known.join(", ")
                ),
            );
        }
        found
    };

    // Gateways.
    let mut gateways = Vec::new();
    let mut served: BTreeMap<usize, String> = BTreeMap::new();
    if raw.gateways.is_empty() {
        for (site, line, members) in &lines {
            if members.is_empty() {
                continue;
            }
            for &m in members {
                machines[m].gateway = gateways.len();
            }
            gateways.push(Gateway {
                id: format!("{line}-gw"),
                site: site.clone(),
                machines: members.clone(),
                publish_interval: interval,
                codec: Codec::Json,
                session: Session::PerGateway,
                qos: 1,
                buffer: BufferPolicy::default(),
                heartbeat: Some(SimDuration::from_secs(300)),
            });
        }
    }
    let mut gw_ids = BTreeSet::new();
    for (gi, g) in raw.gateways.iter().enumerate() {
        let gp = format!("gateways[{gi}]");
        cx.id(&g.id, &format!("{gp}.id"));
        if !gw_ids.insert(g.id.val.clone()) {
            cx.at(
                &g.id,
                format!("{gp}.id"),
                format!("gateway id `{}` is used twice", g.id.val),
            );
        }
        let publish_interval = match &g.publish_interval {
            Some(p) => cx
                .positive_dur(p, &format!("{gp}.publish_interval"))
                .unwrap_or(interval),
            None => interval,
        };
        if let Some(p) = &g.publish_interval
            && publish_interval < SimDuration::from_secs(1)
        {
            cx.at(
                p,
                format!("{gp}.publish_interval"),
                format!("`{}` is shorter than 1 s", p.val),
            );
        }
        let qos = match &g.qos {
            Some(q) if q.val > 1 => {
                cx.at(
                    q,
                    format!("{gp}.qos"),
                    format!("QoS {} is not supported for telemetry (valid: 0, 1)", q.val),
                );
                1
            }
            Some(q) => q.val,
            None => 1,
        };
        let mut members = Vec::new();
        for (k, m) in g.machines.iter().enumerate() {
            let path = format!("{gp}.machines[{k}]");
            if let Some(i) = lookup(&mut cx, m, &path) {
                if let Some(other) = served.insert(i, g.id.val.clone()) {
                    cx.at(m, path, format!("machine `{}` is already served by gateway `{other}` (a device has one gateway)", m.val));
                } else {
                    machines[i].gateway = gateways.len();
                    members.push(i);
                }
            }
        }
        if g.machines.is_empty() {
            cx.at(
                &g.id,
                format!("{gp}.machines"),
                "a gateway must serve at least one machine",
            );
        }
        let site = members
            .first()
            .map(|&i| machines[i].site.clone())
            .unwrap_or_default();
        let mut buffer = BufferPolicy::default();
        if let Some(b) = &g.buffer {
            let bp = format!("{gp}.buffer");
            if let Some(m) = &b.max_messages {
                if m.val == 0 {
                    cx.at(
                        m,
                        format!("{bp}.max_messages"),
                        "0 holds nothing (valid: at least 1)",
                    );
                }
                buffer.max_messages = m.val.max(1);
            }
            if let Some(m) = &b.max_bytes {
                if m.val < 1024 {
                    cx.at(
                        m,
                        format!("{bp}.max_bytes"),
                        format!(
                            "{} bytes cannot hold one message (valid: at least 1024)",
                            m.val
                        ),
                    );
                }
                buffer.max_bytes = Some(m.val);
            }
            buffer.overflow = b.overflow;
            buffer.ttl = b
                .ttl
                .as_ref()
                .and_then(|t| cx.positive_dur(t, &format!("{bp}.ttl")));
            if let Some(r) = &b.drain_rate {
                buffer.drain_rate =
                    cx.range(r, &format!("{bp}.drain_rate"), 0.1, 1e9, " messages/s");
            }
        }
        let heartbeat = match &g.heartbeat {
            Some(h) if h.val.trim() == "none" => None,
            Some(h) => cx.positive_dur(h, &format!("{gp}.heartbeat")),
            None => Some(SimDuration::from_secs(300)),
        };
        gateways.push(Gateway {
            id: g.id.val.clone(),
            site,
            machines: members,
            publish_interval,
            codec: g.codec,
            session: g.session,
            qos,
            buffer,
            heartbeat,
        });
    }
    if !raw.gateways.is_empty() {
        for (i, m) in machines.iter().enumerate() {
            if !served.contains_key(&i) {
                cx.problems.push(Problem::whole(file, "gateways", format!("machine `{}` is served by no gateway (list it in one gateway's `machines`)", m.id)));
            }
        }
    }

    // Degradation.
    let mut degradation = Vec::new();
    for (di, d) in raw.degradation.iter().enumerate() {
        let dp = format!("degradation[{di}]");
        let machine = lookup(&mut cx, &d.machine, &format!("{dp}.machine"));
        let onset = match &d.onset {
            RawOnset::At(s) => cx.dur(s, &format!("{dp}.onset")).map(Onset::At),
            RawOnset::Uniform { min, max } => {
                let lo = cx.dur(min, &format!("{dp}.onset.min"));
                let hi = cx.dur(max, &format!("{dp}.onset.max"));
                match (lo, hi) {
                    (Some(lo), Some(hi)) if lo > hi => {
                        cx.at(
                            max,
                            format!("{dp}.onset.max"),
                            format!("`{}` is before min `{}`", max.val, min.val),
                        );
                        None
                    }
                    (Some(min), Some(max)) => Some(Onset::Uniform { min, max }),
                    _ => None,
                }
            }
        };
        let initial = d.initial.as_ref().map_or(0.05, |s| {
            if !(s.val > 0.0 && s.val < 1.0) {
                cx.at(
                    s,
                    format!("{dp}.initial"),
                    format!(
                        "{} is out of range (valid: above 0 and below 1, the failure threshold)",
                        s.val
                    ),
                );
            }
            s.val
        });
        let positive = |cx: &mut Ctx, s: &Spanned<f64>, path: String| {
            if !(s.val.is_finite() && s.val > 0.0 && s.val <= 1000.0) {
                cx.at(
                    s,
                    path,
                    format!(
                        "{} is out of range (valid: above 0, at most 1000 per day)",
                        s.val
                    ),
                );
            }
            s.val
        };
        let growth = match &d.growth {
            RawGrowth::Exponential {
                rate_per_day,
                rate_cv,
                sigma_per_sqrt_day,
            } => Growth::Exponential {
                rate_per_day: positive(&mut cx, rate_per_day, format!("{dp}.growth.rate_per_day")),
                rate_cv: cx
                    .opt_range(
                        rate_cv,
                        &format!("{dp}.growth.rate_cv"),
                        (0.0, 3.0, ""),
                        0.3,
                    )
                    .clamp(1e-9, 3.0),
                sigma_per_sqrt_day: cx
                    .opt_range(
                        sigma_per_sqrt_day,
                        &format!("{dp}.growth.sigma_per_sqrt_day"),
                        (0.0, 10.0, ""),
                        0.1,
                    )
                    .clamp(0.0, 10.0),
            },
            RawGrowth::Gamma { mean_per_day, cv } => Growth::Gamma {
                mean_per_day: positive(&mut cx, mean_per_day, format!("{dp}.growth.mean_per_day")),
                cv: cx
                    .opt_range(cv, &format!("{dp}.growth.cv"), (0.0, 10.0, ""), 0.5)
                    .clamp(1e-3, 10.0),
            },
            RawGrowth::Wiener {
                drift_per_day,
                sigma_per_sqrt_day,
            } => Growth::Wiener {
                drift_per_day: positive(
                    &mut cx,
                    drift_per_day,
                    format!("{dp}.growth.drift_per_day"),
                ),
                sigma_per_sqrt_day: cx
                    .opt_range(
                        sigma_per_sqrt_day,
                        &format!("{dp}.growth.sigma_per_sqrt_day"),
                        (0.0, 10.0, ""),
                        0.05,
                    )
                    .clamp(0.0, 10.0),
            },
        };
        if let (Some(machine), Some(onset)) = (machine, onset) {
            degradation.push(DegradationSpec {
                machine,
                mode: d.mode,
                onset,
                initial,
                growth,
            });
        }
    }

    // Faults.
    let mut faults = Vec::new();
    for (fi, f) in raw.faults.iter().enumerate() {
        let fp = format!("faults[{fi}]");
        let machine = lookup(&mut cx, &f.machine, &format!("{fp}.machine"));
        let kind = fault_kind(&mut cx, &f.kind, &format!("{fp}.kind"));
        let start = cx.dur(&f.at, &format!("{fp}.at"));
        if let Some(s) = start
            && valid_duration.is_some()
            && s >= duration
        {
            cx.at(
                &f.at,
                format!("{fp}.at"),
                format!(
                    "`{}` is not before the end of the run ({duration})",
                    f.at.val
                ),
            );
        }
        let len = f
            .duration
            .as_ref()
            .and_then(|d| cx.positive_dur(d, &format!("{fp}.duration")));
        let sensor = sensor_ref(
            &mut cx,
            machine.map(|m| &machines[m]),
            &kind,
            f.sensor.as_ref(),
            &fp,
        );
        if let (Some(machine), Some(kind), Some(start), Some(sensor)) =
            (machine, kind, start, sensor)
        {
            let start = SimTime(start.0);
            faults.push(FaultEvent {
                machine,
                target: target(kind, sensor),
                start,
                end: len.map(|d| start.after(d)),
                origin: "scheduled",
            });
        }
    }
    let mut random_faults = Vec::new();
    for (ri, r) in raw.random_faults.iter().enumerate() {
        let rp = format!("random_faults[{ri}]");
        let set = machine_set(&mut cx, &r.machines, &format!("{rp}.machines"), &lookup);
        let kind = fault_kind(&mut cx, &r.kind, &format!("{rp}.kind"));
        let mtbf = cx.positive_dur(&r.mtbf, &format!("{rp}.mtbf"));
        let len = cx.positive_dur(&r.duration, &format!("{rp}.duration"));
        let resolved = set.is_some();
        let members: Vec<usize> = match set {
            Some(MachineSet::Only(v)) => v,
            _ => (0..machines.len()).collect(),
        };
        if let Some(k) = &kind {
            let is_sensor = matches!(k, FaultKind::Sensor(_));
            match (&r.sensor, is_sensor) {
                (None, true) => cx.problems.push(Problem::whole(
                    file,
                    format!("{rp}.sensor"),
                    "a sensor fault needs `sensor: \"<sensor id>\"`",
                )),
                (Some(s), false) => cx.at(
                    s,
                    format!("{rp}.sensor"),
                    "a machine fault takes no `sensor`",
                ),
                // A machine without the sensor is skipped when struck; a sensor that
                // none of the machines has is a typo that would silently never fire.
                (Some(s), true)
                    if resolved
                        && !members
                            .iter()
                            .any(|&i| machines[i].sensors.iter().any(|x| x.id == s.val)) =>
                {
                    let known: BTreeSet<&str> = members
                        .iter()
                        .flat_map(|&i| machines[i].sensors.iter().map(|x| x.id.as_str()))
                        .collect();
                    let known: Vec<&str> = known.into_iter().collect();
                    cx.at(
                        s,
                        format!("{rp}.sensor"),
                        format!(
                            "none of this rule's machines has a sensor `{}` (known: {})",
                            s.val,
                            known.join(", ")
                        ),
                    );
                }
                _ => {}
            }
        }
        if let (Some(kind), Some(mtbf), Some(duration)) = (kind, mtbf, len) {
            random_faults.push(RandomFault {
                machines: members,
                sensor: r.sensor.as_ref().map(|s| s.val.clone()),
                kind,
                mtbf,
                duration,
            });
        }
    }

    // Network faults.
    let mut network_faults = Vec::new();
    for (ni, n) in raw.network_faults.iter().enumerate() {
        let np = format!("network_faults[{ni}]");
        let gateway = gateways.iter().position(|g| g.id == n.gateway.val);
        if gateway.is_none() {
            let known: Vec<&str> = gateways.iter().map(|g| g.id.as_str()).collect();
            cx.at(
                &n.gateway,
                format!("{np}.gateway"),
                format!(
                    "no gateway `{}` (known: {})",
                    n.gateway.val,
                    known.join(", ")
                ),
            );
        }
        let kind = match &n.kind {
            RawNetKind::Outage => NetKind::Outage,
            RawNetKind::Partition => NetKind::Partition,
            RawNetKind::Latency(ms) => {
                NetKind::Latency(cx.range(ms, &format!("{np}.kind"), 0.0, 600_000.0, " ms"))
            }
            RawNetKind::Loss(p) => NetKind::Loss(cx.range(
                p,
                &format!("{np}.kind"),
                0.0,
                1.0,
                " (probability per chunk of traffic)",
            )),
        };
        let start = cx.dur(&n.at, &format!("{np}.at"));
        if let Some(s) = start
            && valid_duration.is_some()
            && s >= duration
        {
            cx.at(
                &n.at,
                format!("{np}.at"),
                format!(
                    "`{}` is not before the end of the run ({duration})",
                    n.at.val
                ),
            );
        }
        let len = cx.positive_dur(&n.duration, &format!("{np}.duration"));
        if let (Some(gateway), Some(start), Some(len)) = (gateway, start, len) {
            let start = SimTime(start.0);
            network_faults.push(NetworkFault {
                gateway,
                kind,
                start,
                end: start.after(len),
            });
        }
    }
    network_faults.sort_by_key(|f| (f.start, f.gateway));

    // Material flow.
    let site_ids: Vec<String> = raw.sites.iter().map(|s| s.id.val.clone()).collect();
    let flow = super::flow::lines(&mut cx, &raw.flow, &gateways, &site_ids, valid_duration);

    // Expectations.
    let mut expect = Vec::new();
    let level = |l: RawLevel| match l {
        RawLevel::Warning => Level::Warning,
        RawLevel::Alarm => Level::Alarm,
    };
    for (ei, e) in raw.expect.iter().enumerate() {
        let ep = format!("expect[{ei}]");
        let item = match e {
            RawExpect::AlarmWithin {
                machine,
                within,
                level: l,
            } => {
                let m = lookup(&mut cx, machine, &format!("{ep}.machine"));
                let w = cx.positive_dur(within, &format!("{ep}.within"));
                if let Some(i) = m
                    && !degradation.iter().any(|d| d.machine == i)
                    && !faults.iter().any(|f| f.machine == i)
                    && !random_faults.iter().any(|r| r.machines.contains(&i))
                {
                    cx.at(machine, format!("{ep}.machine"), format!("machine `{}` has no degradation or fault, so it has no onset to measure from", machine.val));
                }
                match (m, w) {
                    (Some(machine), Some(within)) => Some(Expect::AlarmWithin {
                        machine,
                        within,
                        level: level(*l),
                    }),
                    _ => None,
                }
            }
            RawExpect::NoAlarm {
                machines: set,
                level: l,
            } => machine_set(&mut cx, set, &format!("{ep}.machines"), &lookup).map(|machines| {
                Expect::NoAlarm {
                    machines,
                    level: level(*l),
                }
            }),
            RawExpect::MessagesAtLeast(n) => Some(Expect::MessagesAtLeast(n.val)),
            RawExpect::Fails(m) => lookup(&mut cx, m, &format!("{ep}.machine")).map(Expect::Fails),
            RawExpect::Survives(m) => {
                lookup(&mut cx, m, &format!("{ep}.machine")).map(Expect::Survives)
            }
            RawExpect::ThroughputAtLeast { line, per_hour } => {
                let l = flow_line(&mut cx, &raw.flow, line, &format!("{ep}.line"));
                let n = cx.range(per_hour, &format!("{ep}.per_hour"), 0.0, 1e7, " parts/h");
                l.map(|line| Expect::ThroughputAtLeast { line, per_hour: n })
            }
            RawExpect::JamDetectedWithin { line, within } => {
                let l = flow_line(&mut cx, &raw.flow, line, &format!("{ep}.line"));
                let w = cx.positive_dur(within, &format!("{ep}.within"));
                if let Some(i) = l
                    && !raw.flow[i]
                        .faults
                        .iter()
                        .any(|f| matches!(f, RawFlowFault::Jam { .. }))
                {
                    cx.at(
                        line,
                        format!("{ep}.line"),
                        format!("flow line `{}` has no Jam fault to detect", line.val),
                    );
                }
                match (l, w) {
                    (Some(line), Some(within)) => Some(Expect::JamDetectedWithin { line, within }),
                    _ => None,
                }
            }
        };
        expect.extend(item);
    }

    if !cx.problems.is_empty() {
        cx.problems.sort_by_key(|p| (p.line == 0, p.line, p.col));
        return Err(ScenarioError::Invalid(cx.problems));
    }
    Ok(Scenario {
        name: raw.name.val,
        description: raw.description,
        seed: raw.seed,
        start,
        duration,
        acquisition_interval: interval,
        window_samples,
        ambient,
        machines,
        gateways,
        degradation,
        faults,
        random_faults,
        network_faults,
        expect,
        flow,
    })
}

/// Resolves a flow line id to its index, reporting an unknown one.
fn flow_line(
    cx: &mut Ctx,
    lines: &[RawFlowLine],
    id: &Spanned<String>,
    path: &str,
) -> Option<usize> {
    let found = lines.iter().position(|l| l.id.val == id.val);
    if found.is_none() {
        let known: Vec<&str> = lines.iter().map(|l| l.id.val.as_str()).collect();
        cx.at(
            id,
            path,
            if known.is_empty() {
                format!(
                    "no flow line `{}`: the scenario has no `flow` lines",
                    id.val
                )
            } else {
                format!("no flow line `{}` (known: {})", id.val, known.join(", "))
            },
        );
    }
    found
}

fn machine(
    cx: &mut Ctx,
    m: &RawMachine,
    mp: &str,
    site: &str,
    line: &str,
    grid: (usize, usize),
    supply_hz: f64,
) -> Option<Machine> {
    cx.id(&m.id, &format!("{mp}.id"));
    let speed = cx.range(
        &m.rated_speed_rpm,
        &format!("{mp}.rated_speed_rpm"),
        60.0,
        60_000.0,
        " rpm",
    );
    let power = m.rated_power_kw.as_ref().map_or(15.0, |p| {
        cx.range(p, &format!("{mp}.rated_power_kw"), 0.01, 100_000.0, " kW")
    });
    let load = match &m.load {
        None => LoadProfile::Constant(0.75),
        Some(l) => load(cx, l, &format!("{mp}.load")),
    };
    let bearing = match &m.bearing {
        None => BearingGeometry::SKF_6205,
        Some(b) => {
            if let Some(why) = b.val.problem() {
                cx.at(
                    b,
                    format!("{mp}.bearing"),
                    format!("impossible bearing geometry: {why}"),
                );
            }
            b.val
        }
    };
    let mut limits = Limits::default_for(power);
    if let Some(z) = &m.zone_limits {
        let v = z.val;
        if !(v.ab_mm_s > 0.0
            && v.ab_mm_s < v.bc_mm_s
            && v.bc_mm_s < v.cd_mm_s
            && v.cd_mm_s.is_finite())
        {
            cx.at(
                z,
                format!("{mp}.zone_limits"),
                "zone boundaries must be positive and increasing: ab_mm_s < bc_mm_s < cd_mm_s",
            );
        }
        limits.zones = v;
    }
    if let Some(l) = &m.limits {
        // Kurtosis is at least 1 for any signal (3 for Gaussian noise).
        let kurtosis = (1.0, 1000.0, "");
        let celsius = (-273.15, 1000.0, " °C");
        let fields = [
            (&l.kurtosis_warning, "kurtosis_warning", kurtosis),
            (&l.kurtosis_alarm, "kurtosis_alarm", kurtosis),
            (&l.temperature_warning_c, "temperature_warning_c", celsius),
            (&l.temperature_alarm_c, "temperature_alarm_c", celsius),
        ];
        let values = [
            &mut limits.kurtosis_warning,
            &mut limits.kurtosis_alarm,
            &mut limits.temperature_warning_c,
            &mut limits.temperature_alarm_c,
        ];
        let before = cx.problems.len();
        for ((v, name, range), value) in fields.into_iter().zip(values) {
            *value = cx.opt_range(v, &format!("{mp}.limits.{name}"), range, *value);
        }
        if cx.problems.len() == before
            && !(limits.kurtosis_warning < limits.kurtosis_alarm
                && limits.temperature_warning_c < limits.temperature_alarm_c)
        {
            cx.at(
                &m.id,
                format!("{mp}.limits"),
                "each warning threshold must be below its alarm threshold",
            );
        }
    }
    let position = match &m.position {
        Some(p) => {
            let (x, y) = p.val;
            if !(x.is_finite() && y.is_finite() && x.abs() <= 1e6 && y.abs() <= 1e6) {
                cx.at(
                    p,
                    format!("{mp}.position"),
                    format!("({x}, {y}) is out of range (valid: x and y within ±1000000 m)"),
                );
            }
            p.val
        }
        None => (grid.0 as f64 * 4.0, grid.1 as f64 * 6.0),
    };
    let mut physics = m.kind.defaults();
    if let Some(r) = &m.resonance_hz {
        physics.resonance_hz = cx.range(r, &format!("{mp}.resonance_hz"), 200.0, 20_000.0, " Hz");
    }
    let mut sensors = Vec::new();
    let mut sensor_ids = BTreeSet::new();
    if m.sensors.is_empty() {
        cx.at(
            &m.id,
            format!("{mp}.sensors"),
            "a machine needs at least one sensor (its device sends what its sensors measure)",
        );
    }
    for (k, s) in m.sensors.iter().enumerate() {
        let sp = format!("{mp}.sensors[{k}]");
        cx.id(&s.id, &format!("{sp}.id"));
        if !sensor_ids.insert(s.id.val.clone()) {
            cx.at(
                &s.id,
                format!("{sp}.id"),
                format!(
                    "sensor id `{}` is used twice on machine `{}`",
                    s.id.val, m.id.val
                ),
            );
        }
        let Some(part) = Part::from_name(&s.part.val) else {
            cx.at(
                &s.part,
                format!("{sp}.part"),
                format!("unknown part `{}` (known: {})", s.part.val, Part::names()),
            );
            continue;
        };
        let spec = part.spec();
        let odr_hz = match &s.odr_hz {
            Some(o) => {
                if !spec.has_odr(o.val) {
                    cx.at(
                        o,
                        format!("{sp}.odr_hz"),
                        format!(
                            "{} is not an ODR of {} (valid: {})",
                            o.val,
                            spec.name,
                            spec.odr_list()
                        ),
                    );
                }
                o.val
            }
            None => *spec.odrs_hz.last().unwrap_or(&1.0),
        };
        let full_scale = match &s.full_scale {
            Some(f) => {
                if spec.lsb_for(f.val).is_none() {
                    cx.at(
                        f,
                        format!("{sp}.full_scale"),
                        format!(
                            "{} {} is not a full scale of {} (valid: {})",
                            f.val,
                            spec.unit,
                            spec.name,
                            spec.full_scale_list()
                        ),
                    );
                }
                f.val
            }
            None if spec.measures == Measures::Vibration => 4.0,
            None => spec.full_scales[0],
        };
        if spec.measures != Measures::Vibration && s.axes != Axes::Xyz {
            cx.at(&s.part, format!("{sp}.axes"), format!("{} is not an accelerometer; `axes` applies only to IIS3DWB, ISM330DHCX and IIS2DLPC", spec.name));
        }
        sensors.push(Sensor {
            id: s.id.val.clone(),
            part,
            mounting: s.mounting,
            axes: s.axes,
            vertical: s.vertical,
            odr_hz,
            full_scale,
        });
    }
    Some(Machine {
        id: m.id.val.clone(),
        site: site.to_string(),
        line: line.to_string(),
        kind: m.kind,
        rated_speed_rpm: speed,
        supply_hz,
        rated_power_kw: power,
        load,
        bearing,
        position,
        limits,
        physics,
        sensors,
        gateway: 0,
    })
}

fn load(cx: &mut Ctx, l: &RawLoad, path: &str) -> LoadProfile {
    let frac =
        |cx: &mut Ctx, s: &Spanned<f64>, p: String| cx.range(s, &p, 0.0, 1.2, " of rated load");
    match l {
        RawLoad::Constant(v) => LoadProfile::Constant(frac(cx, v, path.to_string())),
        RawLoad::Steps(steps) => {
            let mut out = Vec::new();
            let mut last = None;
            for (i, (at, v)) in steps.iter().enumerate() {
                let p = format!("{path}.Steps[{i}]");
                let f = frac(cx, v, p.clone());
                if let Some(d) = cx.dur(at, &p) {
                    if last.is_some_and(|l| d <= l) {
                        cx.at(
                            at,
                            &p,
                            format!(
                                "`{}` is not after the previous step (steps must be in time order)",
                                at.val
                            ),
                        );
                    }
                    last = Some(d);
                    out.push((d, f));
                }
            }
            if steps.is_empty() {
                cx.problems.push(Problem::whole(
                    cx.file,
                    path,
                    "Steps needs at least one (time, load) pair",
                ));
            }
            LoadProfile::Steps(out)
        }
        RawLoad::Cycle {
            period,
            high_for,
            high,
            low,
        } => {
            let p = cx.positive_dur(period, &format!("{path}.period"));
            let h = cx.dur(high_for, &format!("{path}.high_for"));
            if let (Some(p), Some(h)) = (p, h)
                && h > p
            {
                cx.at(
                    high_for,
                    format!("{path}.high_for"),
                    format!(
                        "`{}` is longer than the period `{}`",
                        high_for.val, period.val
                    ),
                );
            }
            LoadProfile::Cycle {
                period: p.unwrap_or(SimDuration::from_secs(86_400)),
                high_for: h.unwrap_or(SimDuration(0)),
                high: frac(cx, high, format!("{path}.high")),
                low: frac(cx, low, format!("{path}.low")),
            }
        }
    }
}

fn fault_kind(cx: &mut Ctx, k: &RawFaultKind, path: &str) -> Option<FaultKind> {
    let sev = |cx: &mut Ctx, mode: FaultMode, s: &Spanned<f64>| {
        let v = cx.range(s, path, 0.0, 2.0, " (severity; 1 is the failure threshold)");
        FaultKind::Machine(mode, v)
    };
    Some(match k {
        RawFaultKind::BearingOuter(s) => sev(cx, FaultMode::BearingOuter, s),
        RawFaultKind::BearingInner(s) => sev(cx, FaultMode::BearingInner, s),
        RawFaultKind::Imbalance(s) => sev(cx, FaultMode::Imbalance, s),
        RawFaultKind::Misalignment(s) => sev(cx, FaultMode::Misalignment, s),
        RawFaultKind::Looseness(s) => sev(cx, FaultMode::Looseness, s),
        RawFaultKind::Overheating(s) => sev(cx, FaultMode::Overheating, s),
        RawFaultKind::StuckAt => FaultKind::Sensor(SensorFault::StuckAt),
        RawFaultKind::Dropout => FaultKind::Sensor(SensorFault::Dropout),
        RawFaultKind::Drift(s) => FaultKind::Sensor(SensorFault::Drift {
            per_hour: cx.range(s, path, -1e6, 1e6, " unit/h"),
        }),
        RawFaultKind::Bias(s) => FaultKind::Sensor(SensorFault::Bias {
            offset: cx.range(s, path, -1e6, 1e6, ""),
        }),
        RawFaultKind::Gain(s) => FaultKind::Sensor(SensorFault::Gain {
            factor: cx.range(s, path, 0.0, 100.0, ""),
        }),
        RawFaultKind::Noise(s) => FaultKind::Sensor(SensorFault::Noise {
            factor: cx.range(s, path, 1.0, 1000.0, ""),
        }),
        RawFaultKind::Saturation(s) => FaultKind::Sensor(SensorFault::Saturation {
            fraction: cx.range(s, path, 0.001, 1.0, " of full scale"),
        }),
        RawFaultKind::Spikes { rate_hz, amplitude } => FaultKind::Sensor(SensorFault::Spikes {
            rate_hz: cx.range(rate_hz, &format!("{path}.rate_hz"), 1e-6, 1000.0, " Hz"),
            amplitude: cx.range(amplitude, &format!("{path}.amplitude"), 0.0, 1e6, ""),
        }),
    })
}

/// Resolves the `sensor` field of a fault: `Some(None)` for a machine fault,
/// `Some(Some(i))` for a sensor fault on sensor `i`, `None` when invalid.
fn sensor_ref(
    cx: &mut Ctx,
    machine: Option<&Machine>,
    kind: &Option<FaultKind>,
    sensor: Option<&Spanned<String>>,
    fp: &str,
) -> Option<Option<usize>> {
    match (kind, sensor) {
        (Some(FaultKind::Machine(..)), Some(s)) => {
            cx.at(s, format!("{fp}.sensor"), "a machine fault takes no `sensor` (sensor faults are StuckAt, Drift, Bias, Gain, Spikes, Noise, Dropout, Saturation)");
            None
        }
        (Some(FaultKind::Machine(..)), None) => Some(None),
        (Some(FaultKind::Sensor(_)), None) => {
            cx.problems.push(Problem::whole(
                cx.file,
                format!("{fp}.sensor"),
                "a sensor fault needs `sensor: \"<sensor id>\"`",
            ));
            None
        }
        (Some(FaultKind::Sensor(_)), Some(s)) => {
            let m = machine?;
            match m.sensors.iter().position(|x| x.id == s.val) {
                Some(i) => Some(Some(i)),
                None => {
                    let known: Vec<&str> = m.sensors.iter().map(|x| x.id.as_str()).collect();
                    cx.at(
                        s,
                        format!("{fp}.sensor"),
                        format!(
                            "machine `{}` has no sensor `{}` (known: {})",
                            m.id,
                            s.val,
                            known.join(", ")
                        ),
                    );
                    None
                }
            }
        }
        (None, _) => None,
    }
}

fn target(kind: FaultKind, sensor: Option<usize>) -> Target {
    match (kind, sensor) {
        (FaultKind::Machine(mode, severity), _) => Target::Machine { mode, severity },
        (FaultKind::Sensor(fault), Some(sensor)) => Target::Sensor { sensor, fault },
        (FaultKind::Sensor(fault), None) => Target::Sensor { sensor: 0, fault },
    }
}

fn machine_set(cx: &mut Ctx, set: &RawMachines, path: &str, lookup: &Lookup) -> Option<MachineSet> {
    match set {
        RawMachines::All => Some(MachineSet::All),
        RawMachines::Healthy => Some(MachineSet::Healthy),
        RawMachines::Only(list) => {
            let before = cx.problems.len();
            let v: Vec<usize> = list
                .iter()
                .enumerate()
                .filter_map(|(i, s)| lookup(cx, s, &format!("{path}[{i}]")))
                .collect();
            (cx.problems.len() == before).then_some(MachineSet::Only(v))
        }
    }
}
