//! Event-level failure detection.
//!
//! Definitions (after the event-based evaluation of predictive maintenance in
//! Saxena et al. 2010, "Metrics for offline evaluation of prognostic
//! performance", and the NAB window scoring of Lavin & Ahmad 2015):
//!
//! - An **episode** is one machine in one run whose fault reaches failure
//!   within the observed span: it has an `onset` (the fault mode's onset) and
//!   an observed `failure`. A fault still running at the end (right-censored)
//!   is not a failure.
//! - Each machine's observed span `[first, last]` (its first and last truth
//!   instants) splits into **healthy** time (before any onset, or all of it
//!   without a fault), the **failure window** `[onset, failure]`, and time that
//!   is neither: after the failure, or after the onset of a fault that does not
//!   fail within the span.
//! - An **alarm event** is a maximal stretch of consecutive alarm rows of one
//!   machine (a rising edge starts one, a row without alarm ends it); crossing
//!   the onset or the failure also starts a new event, so every event lies in
//!   one kind of time. An event is **true** if it starts in the failure
//!   window, **false** if it starts in healthy time, and **not counted** in
//!   the rest (an alarm on a failed machine, or on a fault the run does not see
//!   through, is neither right nor wrong here).
//! - A failure is **detected** when an alarm row falls in its window; the
//!   first such row gives the **lead time** `failure − alarm`.
//! - **Precision** = true events / (true + false events); **recall** =
//!   detected failures / failures; **F1** their harmonic mean. **False alarms
//!   per machine-day** = false events / healthy machine-days observed.
//!
//! Times are integer nanoseconds (any epoch, the same for truth and alarms).

use super::{f1, ratio};

/// What truth says about one machine in one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineTruth {
    /// First observed instant.
    pub first_ns: i64,
    /// Last observed instant.
    pub last_ns: i64,
    /// Onset of the machine's (first) fault, if any.
    pub onset_ns: Option<i64>,
    /// Failure time when the fault reaches failure within the span.
    pub failure_ns: Option<i64>,
}

/// The kind of time an instant falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Period {
    /// Before any fault.
    Healthy,
    /// Within `[onset, failure]` of a failure.
    Window,
    /// After a failure, or in a fault that does not fail within the span.
    Other,
}

impl MachineTruth {
    /// Which kind of time `t` is.
    pub fn period(&self, t: i64) -> Period {
        match (self.onset_ns, self.failure_ns) {
            (Some(on), _) if t < on => Period::Healthy,
            (Some(_), Some(fail)) if t <= fail => Period::Window,
            (Some(_), _) => Period::Other,
            (None, _) => Period::Healthy,
        }
    }

    /// Healthy time observed, seconds.
    pub fn healthy_s(&self) -> f64 {
        let end = self.onset_ns.map_or(self.last_ns, |o| o.min(self.last_ns));
        (end - self.first_ns).max(0) as f64 / 1e9
    }

    /// Whether this machine holds a failure episode.
    pub fn fails(&self) -> bool {
        self.onset_ns.is_some() && self.failure_ns.is_some()
    }
}

/// Detection outcome for one machine.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MachineDetection {
    /// Whether the machine fails (holds an episode).
    pub fails: bool,
    /// First alarm in the failure window.
    pub detected_ns: Option<i64>,
    /// `failure − first alarm`, seconds.
    pub lead_s: Option<f64>,
    /// Alarm events starting in the failure window.
    pub true_events: u64,
    /// Alarm events starting in healthy time.
    pub false_events: u64,
    /// Alarm events not counted (after failure, or on a censored fault).
    pub other_events: u64,
    /// Healthy time observed, seconds.
    pub healthy_s: f64,
}

/// Scores one machine's alarm rows `(ts_ns, alarm)`, sorted by time.
pub fn detect(truth: &MachineTruth, alarms: &[(i64, bool)]) -> MachineDetection {
    let mut d = MachineDetection {
        fails: truth.fails(),
        healthy_s: truth.healthy_s(),
        ..MachineDetection::default()
    };
    let mut open: Option<Period> = None;
    for &(t, on) in alarms {
        let period = truth.period(t);
        if !on {
            open = None;
            continue;
        }
        if open != Some(period) {
            match period {
                Period::Healthy => d.false_events += 1,
                Period::Window => d.true_events += 1,
                Period::Other => d.other_events += 1,
            }
            open = Some(period);
        }
        if period == Period::Window && d.detected_ns.is_none() {
            d.detected_ns = Some(t);
            d.lead_s = truth.failure_ns.map(|f| (f - t) as f64 / 1e9);
        }
    }
    d
}

/// Event-level figures over many machines.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Failure episodes.
    pub failures: u64,
    /// Of which detected.
    pub detected: u64,
    /// True alarm events.
    pub true_events: u64,
    /// False alarm events.
    pub false_events: u64,
    /// Alarm events not counted.
    pub other_events: u64,
    /// Healthy machine-days observed.
    pub healthy_machine_days: f64,
    /// True events / all counted events.
    pub precision: Option<f64>,
    /// Detected / failures.
    pub recall: Option<f64>,
    /// Harmonic mean of precision and recall.
    pub f1: Option<f64>,
    /// False events per healthy machine-day.
    pub false_alarms_per_day: Option<f64>,
    /// Lead times of detected failures, hours, ascending.
    pub lead_times_h: Vec<f64>,
}

/// Sums per-machine outcomes.
pub fn summarise<'a>(machines: impl IntoIterator<Item = &'a MachineDetection>) -> Summary {
    let (mut failures, mut detected, mut t, mut f, mut o, mut healthy_s) = (0, 0, 0, 0, 0, 0.0);
    let mut lead_times_h = Vec::new();
    for m in machines {
        failures += u64::from(m.fails);
        detected += u64::from(m.detected_ns.is_some());
        t += m.true_events;
        f += m.false_events;
        o += m.other_events;
        healthy_s += m.healthy_s;
        lead_times_h.extend(m.lead_s.map(|s| s / 3600.0));
    }
    lead_times_h.sort_by(f64::total_cmp);
    let precision = ratio(t, t + f);
    let recall = ratio(detected, failures);
    let days = healthy_s / 86_400.0;
    Summary {
        failures,
        detected,
        true_events: t,
        false_events: f,
        other_events: o,
        healthy_machine_days: days,
        precision,
        recall,
        f1: f1(precision, recall),
        false_alarms_per_day: (days > 0.0).then(|| f as f64 / days),
        lead_times_h,
    }
}

/// Minimum, median, mean and maximum of a sorted sample; `None` when empty.
pub fn distribution(sorted: &[f64]) -> Option<[f64; 4]> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    Some([
        sorted[0],
        median,
        sorted.iter().sum::<f64>() / n as f64,
        sorted[n - 1],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000_000;

    fn failing() -> MachineTruth {
        // Observed 0…48 h, onset at 20 h, failure at 40 h.
        MachineTruth {
            first_ns: 0,
            last_ns: 48 * H,
            onset_ns: Some(20 * H),
            failure_ns: Some(40 * H),
        }
    }

    #[test]
    fn rising_edges_group_rows_and_boundaries_split_events() {
        let alarms = [
            (5 * H, true),
            (6 * H, true), // same false event
            (7 * H, false),
            (19 * H, true), // false event that runs past the onset…
            (21 * H, true), // …becomes a true event here (detection)
            (22 * H, true),
            (30 * H, false),
            (35 * H, true), // second true event
            (41 * H, true), // after failure: not counted
        ];
        let d = detect(&failing(), &alarms);
        assert_eq!((d.false_events, d.true_events, d.other_events), (2, 2, 1));
        assert_eq!(d.detected_ns, Some(21 * H));
        assert_eq!(d.lead_s, Some(19.0 * 3600.0));
        assert_eq!(d.healthy_s, 20.0 * 3600.0);
    }

    #[test]
    fn alarm_at_the_failure_instant_detects() {
        let d = detect(&failing(), &[(40 * H, true)]);
        assert_eq!(d.lead_s, Some(0.0));
    }

    #[test]
    fn censored_fault_is_not_a_failure_and_its_alarms_do_not_count() {
        let m = MachineTruth {
            first_ns: 0,
            last_ns: 24 * H,
            onset_ns: Some(12 * H),
            failure_ns: None,
        };
        let d = detect(&m, &[(13 * H, true)]);
        assert!(!d.fails);
        assert_eq!((d.false_events, d.true_events, d.other_events), (0, 0, 1));
        assert_eq!(d.healthy_s, 12.0 * 3600.0);
    }

    #[test]
    fn summary_by_hand() {
        let healthy = MachineTruth {
            first_ns: 0,
            last_ns: 48 * H,
            onset_ns: None,
            failure_ns: None,
        };
        let a = detect(&failing(), &[(5 * H, true), (6 * H, false), (30 * H, true)]);
        let b = detect(&healthy, &[(H, true), (2 * H, false), (3 * H, true)]);
        let s = summarise([&a, &b]);
        // Events: 1 true, 3 false. Healthy days: 20 h + 48 h.
        assert_eq!(
            (s.failures, s.detected, s.true_events, s.false_events),
            (1, 1, 1, 3)
        );
        assert_eq!(s.precision, Some(0.25));
        assert_eq!(s.recall, Some(1.0));
        assert_eq!(s.f1, Some(0.4));
        assert!((s.false_alarms_per_day.unwrap() - 3.0 / (68.0 / 24.0)).abs() < 1e-12);
        assert_eq!(s.lead_times_h, vec![10.0]);
    }

    #[test]
    fn no_failures_and_no_alarms_are_undefined() {
        let healthy = MachineTruth {
            first_ns: 0,
            last_ns: 0,
            onset_ns: None,
            failure_ns: None,
        };
        let s = summarise([&detect(&healthy, &[])]);
        assert_eq!(
            (s.precision, s.recall, s.f1, s.false_alarms_per_day),
            (None, None, None, None)
        );
        assert_eq!(distribution(&s.lead_times_h), None);
    }

    #[test]
    fn distribution_by_hand() {
        assert_eq!(distribution(&[1.0, 2.0, 6.0]), Some([1.0, 2.0, 3.0, 6.0]));
        assert_eq!(distribution(&[1.0, 3.0]), Some([1.0, 2.0, 2.0, 3.0]));
    }
}
