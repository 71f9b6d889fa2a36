//! The run report (`report.json`) and its JUnit XML twin (`junit.xml`), so CI
//! systems show each `expect` assertion as a test case.

use serde::Serialize;

use fabtwin_sim::expect::Verdict;
use fabtwin_sim::scenario::Scenario;
use fabtwin_sim::time::SimTime;
use fabtwin_sim::world::{LineSummary, MachineSummary};

/// Per-machine part of the report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MachineReport {
    /// Machine (device) id.
    pub id: String,
    /// Gateway id.
    pub gateway: String,
    /// Telemetry messages sent.
    pub messages: u64,
    /// Readings sent.
    pub readings: u64,
    /// Whether the machine had degradation or an injected fault.
    pub faulted: bool,
    /// First fault onset (RFC 3339).
    pub first_onset: Option<String>,
    /// First warning reported by the device.
    pub first_warning: Option<String>,
    /// First alarm reported by the device.
    pub first_alarm: Option<String>,
    /// Failure during the run.
    pub failed_at: Option<String>,
}

/// One expectation's verdict.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ExpectationReport {
    /// What was expected.
    pub expectation: String,
    /// Whether it held.
    pub passed: bool,
    /// What was observed.
    pub observed: String,
}

/// Totals over the run.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Totals {
    /// Telemetry messages.
    pub messages: u64,
    /// Readings inside them.
    pub readings: u64,
    /// Truth records.
    pub truth_records: u64,
    /// Bytes of telemetry payload.
    pub telemetry_bytes: u64,
}

/// Wall-clock figures: vary from run to run, so determinism checks skip them.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Wall {
    /// Seconds the run took.
    pub seconds: f64,
    /// Sim seconds per wall second.
    pub speedup: f64,
}

/// What the subscriber saw (`--verify`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct VerifyReport {
    /// Messages received, duplicates included.
    pub received: u64,
    /// Distinct (device, seq) received.
    pub distinct: u64,
    /// Sent but never received.
    pub missing: u64,
    /// Received more than once.
    pub duplicates: u64,
    /// Received after a higher seq of the same device.
    pub out_of_order: u64,
    /// Payloads that could not be read.
    pub malformed: u64,
    /// Sparkplug B DDATA marked historical (drained from a store-and-forward buffer).
    pub historical: u64,
    /// Per device.
    pub devices: Vec<crate::mqtt::verify::DeviceReport>,
}

impl VerifyReport {
    /// Totals over `devices` (the tally's per-device lines, perhaps with silent
    /// devices added) and the tally's own counts.
    pub fn new(
        tally: &crate::mqtt::verify::Tally,
        devices: Vec<crate::mqtt::verify::DeviceReport>,
    ) -> VerifyReport {
        VerifyReport {
            received: tally.received(),
            distinct: tally.distinct(),
            missing: devices.iter().map(|d| d.missing).sum(),
            duplicates: devices.iter().map(|d| d.duplicates).sum(),
            out_of_order: devices.iter().map(|d| d.out_of_order).sum(),
            malformed: tally.malformed,
            historical: tally.historical,
            devices,
        }
    }
}

/// The MQTT side of a run. sent = delivered + dropped + buffered, exactly.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MqttReport {
    /// Broker URL (no credentials).
    pub broker: String,
    /// Telemetry messages offered to sessions.
    pub sent: u64,
    /// Acknowledged by the broker (QoS 1) or written (QoS 0).
    pub delivered: u64,
    /// Dropped by an outbox's overflow policy.
    pub dropped: u64,
    /// Still held when the run ended.
    pub buffered: u64,
    /// Held over from an earlier run (`--resume`).
    pub recovered: u64,
    /// Per gateway, the intervals its link was down (scheduled or commanded).
    pub offline: Vec<GatewayOffline>,
    /// Highest sequence number sent per device (what `fabtwin verify --sent` reads).
    pub last_seq: std::collections::BTreeMap<String, u64>,
    /// Per session.
    pub sessions: Vec<crate::mqtt::fleet::SessionReport>,
    /// The subscriber's accounting, with `--verify`.
    pub verify: Option<VerifyReport>,
}

/// One gateway's offline intervals.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GatewayOffline {
    /// Gateway id.
    pub gateway: String,
    /// `[from, to]` in RFC 3339 sim time.
    pub intervals: Vec<[String; 2]>,
    /// Total offline sim seconds.
    pub seconds: f64,
}

/// The whole report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RunReport {
    /// fabtwin version.
    pub fabtwin_version: String,
    /// Scenario name.
    pub scenario: String,
    /// Scenario file as given.
    pub scenario_file: String,
    /// FNV-1a of the scenario text, hex.
    pub scenario_hash: String,
    /// Seed used.
    pub seed: u64,
    /// Fidelity used.
    pub fidelity: String,
    /// Start of sim time.
    pub start: String,
    /// End of sim time.
    pub end: String,
    /// Totals.
    pub totals: Totals,
    /// Machines.
    pub machines: Vec<MachineReport>,
    /// Expectations.
    pub expectations: Vec<ExpectationReport>,
    /// Whether every expectation held.
    pub passed: bool,
    /// Material-flow lines (absent when the scenario has none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flow: Vec<LineReport>,
    /// The MQTT side, when the run published (latencies there are wall-clock figures).
    pub mqtt: Option<MqttReport>,
    /// Wall-clock figures (not deterministic).
    pub wall: Wall,
}

/// One flow line's KPIs over the run.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LineReport {
    /// Line id.
    pub id: String,
    /// Good parts delivered per hour of run time.
    pub throughput_per_h: f64,
    /// Ideal rate of the line (its slowest element), parts/h.
    pub ideal_per_h: f64,
    /// Parts released by sources.
    pub released: u64,
    /// Parts delivered to sinks.
    pub delivered: u64,
    /// Parts dropped (scrap).
    pub scrapped: u64,
    /// Mean work in progress, parts.
    pub wip_mean: f64,
    /// Most parts in the line at once.
    pub wip_max: u32,
    /// OEE = availability × performance × quality.
    pub oee: f64,
    /// Share of time without an active jam.
    pub availability: f64,
    /// Parts finished against the ideal rate over the available time.
    pub performance: f64,
    /// Good parts over finished and scrapped parts.
    pub quality: f64,
    /// Per station.
    pub stations: Vec<StationReport>,
    /// Jams, in onset order.
    pub jams: Vec<JamReport>,
    /// Times the jam logic flagged a belt with no jam active.
    pub false_jam_alarms: u64,
}

/// One station's totals.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StationReport {
    /// Station id.
    pub id: String,
    /// Parts completed.
    pub completed: u64,
    /// Share of run time working.
    pub utilisation: f64,
    /// Seconds working at nominal speed.
    pub running_s: f64,
    /// Seconds idle for want of a part.
    pub starved_s: f64,
    /// Seconds holding a finished part with no room downstream.
    pub blocked_s: f64,
    /// Seconds under a fault (slowdown).
    pub faulted_s: f64,
}

/// One jam: truth and detection.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct JamReport {
    /// Conveyor id.
    pub conveyor: String,
    /// Onset (RFC 3339).
    pub onset: String,
    /// Clear, if within the run.
    pub clear: Option<String>,
    /// When the line's jam logic flagged it.
    pub detected: Option<String>,
    /// Seconds from onset to detection.
    pub detection_delay_s: Option<f64>,
}

impl LineReport {
    /// Reports of every flow line of `scenario` from the world's `summary`.
    pub fn all(scenario: &Scenario, summary: &[LineSummary]) -> Vec<LineReport> {
        let ts = |t: SimTime| scenario.start.format(t);
        scenario
            .flow
            .iter()
            .zip(summary)
            .map(|(l, s)| LineReport {
                id: l.id.clone(),
                throughput_per_h: s.kpi.throughput_per_h,
                ideal_per_h: l.ideal_rate() * 3600.0,
                released: s.kpi.released,
                delivered: s.kpi.delivered,
                scrapped: s.kpi.scrapped,
                wip_mean: s.kpi.wip_mean,
                wip_max: s.kpi.wip_max,
                oee: s.kpi.oee,
                availability: s.kpi.availability,
                performance: s.kpi.performance,
                quality: s.kpi.quality,
                stations: l
                    .stations
                    .iter()
                    .zip(&s.stations)
                    .zip(&s.busy_s)
                    .map(|((st, t), &busy)| StationReport {
                        id: st.id.clone(),
                        completed: t.completed,
                        utilisation: t.utilisation(busy),
                        running_s: t.seconds[0],
                        starved_s: t.seconds[1],
                        blocked_s: t.seconds[2],
                        faulted_s: t.seconds[3],
                    })
                    .collect(),
                jams: s
                    .jams
                    .iter()
                    .map(|j| JamReport {
                        conveyor: l.conveyors[j.conveyor].id.clone(),
                        onset: ts(j.onset),
                        clear: j.clear.map(ts),
                        detected: j.detected.map(ts),
                        detection_delay_s: j.detected.map(|d| d.since(j.onset).as_secs_f64()),
                    })
                    .collect(),
                false_jam_alarms: s.false_jam_alarms,
            })
            .collect()
    }
}

/// What the caller knows about the run besides the world's own summary.
pub struct RunFacts<'a> {
    /// Scenario file as given.
    pub file: &'a str,
    /// Scenario text (for its hash).
    pub text: &'a str,
    /// Fidelity name.
    pub fidelity: &'a str,
    /// Totals.
    pub totals: Totals,
    /// Wall figures.
    pub wall: Wall,
}

impl RunReport {
    /// Builds the report.
    pub fn new(
        scenario: &Scenario,
        summary: &[MachineSummary],
        verdicts: &[Verdict],
        facts: RunFacts,
    ) -> RunReport {
        let ts = |t: Option<SimTime>| t.map(|t| scenario.start.format(t));
        let machines = scenario
            .machines
            .iter()
            .zip(summary)
            .map(|(m, s)| MachineReport {
                id: m.id.clone(),
                gateway: scenario.gateways[m.gateway].id.clone(),
                messages: s.messages,
                readings: s.readings,
                faulted: s.faulted,
                first_onset: ts(s.first_onset),
                first_warning: ts(s.first_warning),
                first_alarm: ts(s.first_alarm),
                failed_at: ts(s.failed_at),
            })
            .collect();
        let expectations: Vec<ExpectationReport> = verdicts
            .iter()
            .map(|v| ExpectationReport {
                expectation: v.expectation.clone(),
                passed: v.passed,
                observed: v.observed.clone(),
            })
            .collect();
        RunReport {
            fabtwin_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: scenario.name.clone(),
            scenario_file: facts.file.to_string(),
            scenario_hash: format!("{:016x}", fabtwin_sim::rng::fnv1a64(facts.text.as_bytes())),
            seed: scenario.seed,
            fidelity: facts.fidelity.to_string(),
            start: scenario.start.format(SimTime::ZERO),
            end: scenario.start.format(SimTime(scenario.duration.0)),
            totals: facts.totals,
            passed: expectations.iter().all(|e| e.passed),
            machines,
            expectations,
            flow: Vec::new(),
            mqtt: None,
            wall: facts.wall,
        }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("report serialises");
        v.push(b'\n');
        v
    }

    /// JUnit XML: one suite for the scenario, one case per expectation.
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut suite = TestSuite::new(self.scenario.clone());
        if self.expectations.is_empty() {
            suite.add_test_case(TestCase::new("run completes", TestCaseStatus::success()));
        }
        for e in &self.expectations {
            let status = if e.passed {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(e.observed.clone());
                s
            };
            let mut case = TestCase::new(e.expectation.clone(), status);
            case.set_classname(format!("fabtwin.{}", self.scenario));
            case.set_system_out(e.observed.clone());
            suite.add_test_case(case);
        }
        let mut report = Report::new("fabtwin run");
        report.add_test_suite(suite);
        report
            .to_string()
            .unwrap_or_else(|e| format!("<!-- junit serialisation failed: {e} -->"))
    }
}
