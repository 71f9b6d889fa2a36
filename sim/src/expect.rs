//! Evaluation of a scenario's `expect` assertions against what the run showed.

use crate::edge::Level;
use crate::scenario::{Expect, MachineSet, Scenario};
use crate::world::{LineSummary, MachineSummary};

/// The verdict on one expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// What was expected, in words.
    pub expectation: String,
    /// Whether it held.
    pub passed: bool,
    /// What was observed.
    pub observed: String,
}

/// Checks every expectation of `scenario` against per-machine `summary` and
/// per-flow-line `flow` (see [`crate::world::World::flow_summary`]).
pub fn evaluate(
    scenario: &Scenario,
    summary: &[MachineSummary],
    flow: &[LineSummary],
) -> Vec<Verdict> {
    let total: u64 = summary.iter().map(|s| s.messages).sum();
    let first = |s: &MachineSummary, l: Level| {
        if l == Level::Warning {
            s.first_warning
        } else {
            s.first_alarm
        }
    };
    let word = |l: Level| {
        if l == Level::Warning {
            "warning"
        } else {
            "alarm"
        }
    };
    scenario
        .expect
        .iter()
        .map(|e| {
            let (passed, observed) = match e {
                Expect::AlarmWithin {
                    machine,
                    within,
                    level,
                } => {
                    let s = &summary[*machine];
                    match (s.first_onset, first(s, *level)) {
                        (None, _) => (false, "no fault onset happened during the run".to_string()),
                        (Some(_), None) => (false, format!("no {} was raised", word(*level))),
                        (Some(on), Some(at)) if at < on => (
                            false,
                            format!(
                                "first {} at {} came before the onset at {}",
                                word(*level),
                                at.since(crate::time::SimTime::ZERO),
                                on.since(crate::time::SimTime::ZERO)
                            ),
                        ),
                        (Some(on), Some(at)) => {
                            let delay = at.since(on);
                            (
                                delay <= *within,
                                format!("{} {} after onset", word(*level), delay),
                            )
                        }
                    }
                }
                Expect::NoAlarm { machines, level } => {
                    let set: Vec<usize> = match machines {
                        MachineSet::All => (0..summary.len()).collect(),
                        MachineSet::Healthy => (0..summary.len())
                            .filter(|&i| !summary[i].faulted)
                            .collect(),
                        MachineSet::Only(v) => v.clone(),
                    };
                    let offenders: Vec<&str> = set
                        .iter()
                        .filter(|&&i| first(&summary[i], *level).is_some())
                        .map(|&i| scenario.machines[i].id.as_str())
                        .collect();
                    if offenders.is_empty() {
                        (
                            true,
                            format!("no {} on {} machines", word(*level), set.len()),
                        )
                    } else {
                        (
                            false,
                            format!("{} on {}", word(*level), offenders.join(", ")),
                        )
                    }
                }
                Expect::MessagesAtLeast(n) => (total >= *n, format!("{total} messages")),
                Expect::Fails(m) => match summary[*m].failed_at {
                    Some(t) => (
                        true,
                        format!("failed at {}", t.since(crate::time::SimTime::ZERO)),
                    ),
                    None => (false, "did not fail during the run".into()),
                },
                Expect::Survives(m) => match summary[*m].failed_at {
                    Some(t) => (
                        false,
                        format!("failed at {}", t.since(crate::time::SimTime::ZERO)),
                    ),
                    None => (true, "no failure during the run".into()),
                },
                Expect::ThroughputAtLeast { line, per_hour } => match flow.get(*line) {
                    Some(l) => (
                        l.kpi.throughput_per_h >= *per_hour,
                        format!("{:.1} parts/h", l.kpi.throughput_per_h),
                    ),
                    None => (false, "the line did not run".into()),
                },
                Expect::JamDetectedWithin { line, within } => match flow.get(*line) {
                    Some(l) if l.jams.is_empty() => {
                        (false, "no jam happened during the run".into())
                    }
                    Some(l) => {
                        let delays: Vec<Option<crate::time::SimDuration>> = l
                            .jams
                            .iter()
                            .map(|j| j.detected.map(|d| d.since(j.onset)))
                            .collect();
                        let missed = delays.iter().filter(|d| d.is_none()).count();
                        let worst = delays.iter().flatten().max().copied();
                        let passed = missed == 0 && worst.is_some_and(|w| w <= *within);
                        let observed = match (missed, worst) {
                            (0, Some(w)) => {
                                format!("{} jam(s), detected at most {w} after onset", delays.len())
                            }
                            (m, _) => format!("{m} of {} jam(s) not detected", delays.len()),
                        };
                        (passed, observed)
                    }
                    None => (false, "the line did not run".into()),
                },
            };
            Verdict {
                expectation: scenario.describe(e),
                passed,
                observed,
            }
        })
        .collect()
}
