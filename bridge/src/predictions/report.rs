//! Predictions scored against truth: the figures `fabtwin score` prints and
//! writes as JSON. The definitions live with the maths in
//! [`fabtwin_sim::score`]; this module joins the rows.
//!
//! - Every (run, machine) series of the truth in the chosen runs is scored;
//!   a machine without prediction rows raises no alarm, so its failure counts
//!   as missed.
//! - A prediction row is compared with the truth in force at its time (the
//!   latest truth instant at or before it).
//! - **Classification**: rows with a `fault_class`, against the true
//!   `fault_mode` (`none` when healthy).
//! - **RUL**: rows with an `rul_s` inside a failure window `[onset,
//!   failure]`, against `failure − ts`; α-λ accuracy per failure episode.
//! - **Anomaly**: rows with an `anomaly_score`, positive inside a failure
//!   window, negative in healthy time, left out elsewhere.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use fabtwin_sim::score::classify::Confusion;
use fabtwin_sim::score::events::{self, Period};
use fabtwin_sim::score::{ranking, rul};

use super::file::Predictions;
use super::truth::{Key, Truth};

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Runs scored.
    pub runs: usize,
    /// (run, machine) series scored.
    pub machines: usize,
    /// Prediction rows in the runs scored.
    pub rows: usize,
    /// Prediction rows left out because their run is outside the split.
    pub rows_outside_split: usize,
    /// Series scored that have no prediction row (their failures count as missed).
    pub series_without_predictions: usize,
    /// Failure detection (None without an `alarm` column).
    pub detection: Option<Detection>,
    /// Fault classification (None without a `fault_class` column).
    pub classification: Option<Classification>,
    /// Remaining useful life (None without an `rul_s` column).
    pub rul: Option<Rul>,
    /// Anomaly ranking (None without an `anomaly_score` column).
    pub anomaly: Option<Anomaly>,
}

/// Event-level detection figures.
#[derive(Clone, Debug, Serialize)]
pub struct Detection {
    /// Failure episodes.
    pub failures: u64,
    /// Detected.
    pub detected: u64,
    /// Missed.
    pub missed: u64,
    /// Alarm events starting in a failure window.
    pub true_alarm_events: u64,
    /// Alarm events starting in healthy time.
    pub false_alarm_events: u64,
    /// Alarm events after a failure or on a censored fault (not counted).
    pub uncounted_alarm_events: u64,
    /// Healthy machine-days observed.
    pub healthy_machine_days: f64,
    /// True / (true + false) alarm events.
    pub precision: Option<f64>,
    /// Detected / failures.
    pub recall: Option<f64>,
    /// F1 of the two.
    pub f1: Option<f64>,
    /// False alarm events per healthy machine-day.
    pub false_alarms_per_machine_day: Option<f64>,
    /// Lead time of detected failures, hours.
    pub lead_time_h: Option<Spread>,
    /// Every failure episode.
    pub episodes: Vec<Episode>,
}

/// Minimum, median, mean and maximum.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Spread {
    /// Smallest.
    pub min: f64,
    /// Median.
    pub median: f64,
    /// Mean.
    pub mean: f64,
    /// Largest.
    pub max: f64,
}

/// One failure episode.
#[derive(Clone, Debug, Serialize)]
pub struct Episode {
    /// Run.
    pub run: u32,
    /// Machine.
    pub machine: String,
    /// Fault onset, Unix ns.
    pub onset_ns: i64,
    /// Failure, Unix ns.
    pub failure_ns: i64,
    /// First alarm in the window, Unix ns.
    pub first_alarm_ns: Option<i64>,
    /// Failure − first alarm, hours.
    pub lead_time_h: Option<f64>,
}

/// Classification figures.
#[derive(Clone, Debug, Serialize)]
pub struct Classification {
    /// Rows compared.
    pub rows: u64,
    /// Fraction right.
    pub accuracy: Option<f64>,
    /// Mean per-class F1.
    pub macro_f1: Option<f64>,
    /// Class names (matrix order).
    pub labels: Vec<String>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<u64>>,
    /// Per class.
    pub classes: Vec<ClassFigures>,
}

/// One class.
#[derive(Clone, Debug, Serialize)]
pub struct ClassFigures {
    /// Name.
    pub label: String,
    /// True rows of this class.
    pub support: u64,
    /// Rows predicted as this class.
    pub predicted: u64,
    /// Precision.
    pub precision: Option<f64>,
    /// Recall.
    pub recall: Option<f64>,
    /// F1.
    pub f1: Option<f64>,
}

/// RUL figures.
#[derive(Clone, Debug, Serialize)]
pub struct Rul {
    /// Prediction rows inside failure windows.
    pub window_rows: u64,
    /// Of which with an `rul_s` (the pairs scored).
    pub pairs: u64,
    /// Root-mean-square error, hours.
    pub rmse_h: Option<f64>,
    /// Mean absolute error, hours.
    pub mae_h: Option<f64>,
    /// PHM08 score (sum, d in hours; lower is better).
    pub phm08: Option<f64>,
    /// α of α-λ accuracy.
    pub alpha: f64,
    /// λ points.
    pub lambdas: Vec<f64>,
    /// Hits over (episode, λ) points.
    pub alpha_lambda_accuracy: Option<f64>,
    /// (episode, λ) points.
    pub alpha_lambda_points: u64,
}

/// Anomaly-score figures.
#[derive(Clone, Debug, Serialize)]
pub struct Anomaly {
    /// Scored rows inside failure windows.
    pub positives: u64,
    /// Scored rows in healthy time.
    pub negatives: u64,
    /// ROC-AUC.
    pub roc_auc: Option<f64>,
    /// Average precision.
    pub pr_auc: Option<f64>,
}

/// Scores `predictions` against `truth` over `runs` (None: every run).
/// The predictions must have passed [`super::file::check`].
pub fn score(truth: &Truth, predictions: &Predictions, runs: Option<&BTreeSet<u32>>) -> Report {
    let keep = |run: u32| runs.is_none_or(|r| r.contains(&run));
    let keys: Vec<&Key> = truth.series.keys().filter(|k| keep(k.0)).collect();
    let mut by_key: BTreeMap<&Key, Vec<usize>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    let mut outside = 0;
    for (i, p) in predictions.rows.iter().enumerate() {
        let key = (p.run, p.machine.clone());
        match by_key.get_mut(&key) {
            Some(v) => v.push(i),
            None => outside += 1,
        }
    }
    for v in by_key.values_mut() {
        v.sort_by_key(|&i| predictions.rows[i].ts_ns);
    }
    let cols = predictions.columns;
    let rows = &predictions.rows;

    let mut detections = Vec::new();
    let mut episodes = Vec::new();
    let mut class_pairs: Vec<(&str, &str)> = Vec::new();
    let mut rul_pairs = Vec::new();
    let (mut window_rows, mut al_hits, mut al_points) = (0u64, 0u64, 0u64);
    let (mut pos, mut neg, mut scored) = (Vec::new(), Vec::new(), Vec::new());
    for (key, idx) in &by_key {
        let m = truth.machine(key).expect("keys come from the truth");
        let alarms: Vec<(i64, bool)> = idx
            .iter()
            .filter_map(|&i| rows[i].alarm.map(|a| (rows[i].ts_ns, a)))
            .collect();
        let d = events::detect(&m, &alarms);
        if let (true, Some(onset), Some(failure)) = (m.fails(), m.onset_ns, m.failure_ns) {
            episodes.push(Episode {
                run: key.0,
                machine: key.1.clone(),
                onset_ns: onset,
                failure_ns: failure,
                first_alarm_ns: d.detected_ns,
                lead_time_h: d.lead_s.map(|s| s / 3600.0),
            });
            let preds: Vec<(i64, f64)> = idx
                .iter()
                .filter(|&&i| m.period(rows[i].ts_ns) == Period::Window)
                .filter_map(|&i| rows[i].rul_s.map(|r| (rows[i].ts_ns, r)))
                .collect();
            let hits = rul::alpha_lambda(onset, failure, &preds, rul::ALPHA, &rul::LAMBDAS);
            al_points += hits.len() as u64;
            al_hits += hits.iter().filter(|h| **h).count() as u64;
        }
        detections.push(d);
        for &i in idx {
            let p = &rows[i];
            let period = m.period(p.ts_ns);
            if let (Some(class), Some(t)) = (&p.fault_class, truth.at(key, p.ts_ns)) {
                class_pairs.push((t.fault_mode.as_str(), class.as_str()));
            }
            if period == Period::Window {
                window_rows += 1;
                if let (Some(r), Some(f)) = (p.rul_s, m.failure_ns) {
                    rul_pairs.push((r, (f - p.ts_ns) as f64 / 1e9));
                }
            }
            if let Some(s) = p.anomaly_score {
                match period {
                    Period::Window => {
                        pos.push(s);
                        scored.push((s, true));
                    }
                    Period::Healthy => {
                        neg.push(s);
                        scored.push((s, false));
                    }
                    Period::Other => {}
                }
            }
        }
    }

    let detection = cols.alarm.then(|| {
        let s = events::summarise(&detections);
        Detection {
            failures: s.failures,
            detected: s.detected,
            missed: s.failures - s.detected,
            true_alarm_events: s.true_events,
            false_alarm_events: s.false_events,
            uncounted_alarm_events: s.other_events,
            healthy_machine_days: s.healthy_machine_days,
            precision: s.precision,
            recall: s.recall,
            f1: s.f1,
            false_alarms_per_machine_day: s.false_alarms_per_day,
            lead_time_h: events::distribution(&s.lead_times_h).map(|[min, median, mean, max]| {
                Spread {
                    min,
                    median,
                    mean,
                    max,
                }
            }),
            episodes,
        }
    });
    let classification = cols.fault_class.then(|| {
        let c = Confusion::from_pairs(class_pairs.iter().copied());
        Classification {
            rows: c.total(),
            accuracy: c.accuracy(),
            macro_f1: c.macro_f1(),
            classes: c
                .per_class()
                .into_iter()
                .map(|s| ClassFigures {
                    label: s.label,
                    support: s.support,
                    predicted: s.predicted,
                    precision: s.precision,
                    recall: s.recall,
                    f1: s.f1,
                })
                .collect(),
            labels: c.labels,
            confusion: c.counts,
        }
    });
    let rul = cols.rul_s.then(|| {
        let e = rul::errors(&rul_pairs);
        Rul {
            window_rows,
            pairs: e.n as u64,
            rmse_h: e.rmse_h,
            mae_h: e.mae_h,
            phm08: e.phm08,
            alpha: rul::ALPHA,
            lambdas: rul::LAMBDAS.to_vec(),
            alpha_lambda_accuracy: fabtwin_sim::score::ratio(al_hits, al_points),
            alpha_lambda_points: al_points,
        }
    });
    let anomaly = cols.anomaly_score.then(|| Anomaly {
        positives: pos.len() as u64,
        negatives: neg.len() as u64,
        roc_auc: ranking::roc_auc(&pos, &neg),
        pr_auc: ranking::average_precision(&scored),
    });
    Report {
        runs: keys.iter().map(|k| k.0).collect::<BTreeSet<_>>().len(),
        machines: keys.len(),
        rows: rows.len() - outside,
        rows_outside_split: outside,
        series_without_predictions: by_key.values().filter(|v| v.is_empty()).count(),
        detection,
        classification,
        rul,
        anomaly,
    }
}
