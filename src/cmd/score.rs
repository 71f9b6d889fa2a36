//! `fabtwin score`: score a model's predictions against the simulation's
//! ground truth, print the figures as a table (and JSON with `--json`), and
//! act as a CI gate.
//!
//! Exit codes: 0 every gate held; 1 a gate failed (each failure printed); 2
//! bad input (flags, a truth or prediction file, naming the row and column).
//! The definitions of every figure are in `fabtwin_sim::score` and
//! `fabtwin_bridge::predictions::report`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;

use fabtwin_bridge::predictions::report::{self, Report};
use fabtwin_bridge::predictions::{ReadError, file, truth::Truth};

use crate::BadInput;

/// Which runs of a dataset to score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    /// The dataset card's test runs.
    Test,
    /// The dataset card's training runs.
    Train,
    /// Every run.
    All,
}

/// `fabtwin score` arguments.
#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// Ground truth: a dataset directory, a `fabtwin run` output directory, or
    /// its truth.jsonl.
    #[arg(long, value_name = "DIR_OR_FILE")]
    pub truth: PathBuf,
    /// Predictions (CSV or Parquet): run, machine, ts_ns and any of alarm,
    /// fault_class, rul_s, anomaly_score.
    #[arg(long, value_name = "FILE")]
    pub predictions: PathBuf,
    /// Runs to score (test/train need a dataset card's split).
    #[arg(long, value_enum, default_value_t = SplitArg::All)]
    pub split: SplitArg,
    /// Also write the figures as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Gate: event-level recall (detected failures / failures) at least this.
    #[arg(long, value_name = "0..1")]
    pub min_recall: Option<f64>,
    /// Gate: event-level precision (true / all alarm events) at least this.
    #[arg(long, value_name = "0..1")]
    pub min_precision: Option<f64>,
    /// Gate: event-level F1 at least this.
    #[arg(long, value_name = "0..1")]
    pub min_f1: Option<f64>,
    /// Gate: false alarm events per healthy machine-day at most this.
    #[arg(long, value_name = "N")]
    pub max_false_alarms_per_day: Option<f64>,
    /// Gate: median lead time of detected failures, hours, at least this.
    #[arg(long, value_name = "HOURS")]
    pub min_lead_time_h: Option<f64>,
    /// Gate: macro F1 of fault classes at least this.
    #[arg(long, value_name = "0..1")]
    pub min_class_f1: Option<f64>,
    /// Gate: RUL RMSE, hours, at most this.
    #[arg(long, value_name = "HOURS")]
    pub max_rul_rmse_h: Option<f64>,
    /// Gate: α-λ accuracy (α = 0.2) at least this.
    #[arg(long, value_name = "0..1")]
    pub min_alpha_lambda: Option<f64>,
    /// Gate: ROC-AUC of anomaly scores at least this.
    #[arg(long, value_name = "0..1")]
    pub min_roc_auc: Option<f64>,
    /// Gate: PR-AUC (average precision) of anomaly scores at least this.
    #[arg(long, value_name = "0..1")]
    pub min_pr_auc: Option<f64>,
}

fn bad(e: ReadError) -> anyhow::Error {
    BadInput(e.to_string()).into()
}

/// Runs `fabtwin score`.
pub fn score(args: ScoreArgs) -> anyhow::Result<ExitCode> {
    let gates = gates(&args)?;
    let truth = Truth::load(&args.truth).map_err(bad)?;
    let predictions = file::read(&args.predictions).map_err(bad)?;
    file::check(&predictions, &truth).map_err(bad)?;
    let runs: Option<BTreeSet<u32>> = match (args.split, &truth.split) {
        (SplitArg::All, _) => None,
        (s, None) => {
            return Err(BadInput(format!(
                "--split {}: {} has no dataset card split (use --split all, or a dataset directory)",
                if s == SplitArg::Test { "test" } else { "train" },
                args.truth.display()
            ))
            .into());
        }
        (SplitArg::Test, Some(s)) => Some(s.test.iter().copied().collect()),
        (SplitArg::Train, Some(s)) => Some(s.train.iter().copied().collect()),
    };
    let report = report::score(&truth, &predictions, runs.as_ref());
    print!("{}", table(&report));
    if let Some(path) = &args.json {
        let mut bytes = serde_json::to_vec_pretty(&report).expect("the report serialises");
        bytes.push(b'\n');
        fabtwin_bridge::files::write_atomic(path, &bytes)?;
    }
    let failed: Vec<String> = gates.iter().filter_map(|g| g.check(&report)).collect();
    if failed.is_empty() {
        if !gates.is_empty() {
            println!("gates: {} passed", gates.len());
        }
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &failed {
            eprintln!("gate failed: {f}");
        }
        Ok(ExitCode::from(1))
    }
}

/// One CI gate: a flag, its threshold and the figure it reads.
struct Gate {
    flag: &'static str,
    limit: f64,
    at_least: bool,
    figure: fn(&Report) -> Option<f64>,
}

impl Gate {
    /// A message when the gate fails (an undefined figure fails).
    fn check(&self, r: &Report) -> Option<String> {
        let op = if self.at_least { ">=" } else { "<=" };
        match (self.figure)(r) {
            None => Some(format!(
                "--{} {}: the figure is undefined (nothing to compute it from, or the column is missing)",
                self.flag, self.limit
            )),
            Some(v) if (self.at_least && v < self.limit) || (!self.at_least && v > self.limit) => {
                Some(format!(
                    "--{} {}: got {}, need {op} {}",
                    self.flag,
                    self.limit,
                    fmt(Some(v)),
                    self.limit
                ))
            }
            Some(_) => None,
        }
    }
}

fn gates(a: &ScoreArgs) -> anyhow::Result<Vec<Gate>> {
    type Figure = fn(&Report) -> Option<f64>;
    let table: [(&'static str, Option<f64>, bool, bool, Figure); 10] = [
        ("min-recall", a.min_recall, true, true, |r| {
            r.detection.as_ref()?.recall
        }),
        ("min-precision", a.min_precision, true, true, |r| {
            r.detection.as_ref()?.precision
        }),
        ("min-f1", a.min_f1, true, true, |r| r.detection.as_ref()?.f1),
        (
            "max-false-alarms-per-day",
            a.max_false_alarms_per_day,
            false,
            false,
            |r| r.detection.as_ref()?.false_alarms_per_machine_day,
        ),
        ("min-lead-time-h", a.min_lead_time_h, true, false, |r| {
            Some(r.detection.as_ref()?.lead_time_h?.median)
        }),
        ("min-class-f1", a.min_class_f1, true, true, |r| {
            r.classification.as_ref()?.macro_f1
        }),
        ("max-rul-rmse-h", a.max_rul_rmse_h, false, false, |r| {
            r.rul.as_ref()?.rmse_h
        }),
        ("min-alpha-lambda", a.min_alpha_lambda, true, true, |r| {
            r.rul.as_ref()?.alpha_lambda_accuracy
        }),
        ("min-roc-auc", a.min_roc_auc, true, true, |r| {
            r.anomaly.as_ref()?.roc_auc
        }),
        ("min-pr-auc", a.min_pr_auc, true, true, |r| {
            r.anomaly.as_ref()?.pr_auc
        }),
    ];
    let mut out = Vec::new();
    for (flag, limit, at_least, unit, figure) in table {
        let Some(limit) = limit else { continue };
        if !limit.is_finite() || limit < 0.0 || (unit && limit > 1.0) {
            let valid = if unit { "0 to 1" } else { "0 or more" };
            return Err(BadInput(format!("--{flag} {limit}: must be {valid}")).into());
        }
        out.push(Gate {
            flag,
            limit,
            at_least,
            figure,
        });
    }
    Ok(out)
}

/// A figure for people: "undefined" when there is none.
fn fmt(v: Option<f64>) -> String {
    match v {
        None => "undefined".into(),
        Some(x) if x.abs() >= 1e6 => format!("{x:.3e}"),
        Some(x) => format!("{x:.3}"),
    }
}

fn table(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "scored {} prediction rows over {} runs, {} machine series{}",
        r.rows,
        r.runs,
        r.machines,
        if r.rows_outside_split > 0 {
            format!(
                " ({} rows outside the split left out)",
                r.rows_outside_split
            )
        } else {
            String::new()
        }
    );
    if r.series_without_predictions > 0 {
        let _ = writeln!(
            s,
            "note: {} machine series have no prediction rows; their failures count as missed \
             (score only the runs you predicted with --split)",
            r.series_without_predictions
        );
    }
    if let Some(d) = &r.detection {
        let _ = writeln!(s, "\ndetection (event level)");
        let _ = writeln!(s, "  failures              {:>10}", d.failures);
        let _ = writeln!(
            s,
            "  detected / missed     {:>10}",
            format!("{} / {}", d.detected, d.missed)
        );
        let _ = writeln!(s, "  recall                {:>10}", fmt(d.recall));
        let _ = writeln!(s, "  precision             {:>10}", fmt(d.precision));
        let _ = writeln!(s, "  F1                    {:>10}", fmt(d.f1));
        let _ = writeln!(
            s,
            "  alarm events          {:>10}",
            format!(
                "{} true, {} false, {} not counted",
                d.true_alarm_events, d.false_alarm_events, d.uncounted_alarm_events
            )
        );
        let _ = writeln!(
            s,
            "  false alarms / day    {:>10}   over {:.2} healthy machine-days",
            fmt(d.false_alarms_per_machine_day),
            d.healthy_machine_days
        );
        match d.lead_time_h {
            Some(l) => {
                let _ = writeln!(
                    s,
                    "  lead time, h          min {} · median {} · mean {} · max {}",
                    fmt(Some(l.min)),
                    fmt(Some(l.median)),
                    fmt(Some(l.mean)),
                    fmt(Some(l.max))
                );
            }
            None => {
                let _ = writeln!(s, "  lead time, h          {:>10}", "undefined");
            }
        }
        for e in &d.episodes {
            let _ = writeln!(
                s,
                "    run {:04} {:<16} {}",
                e.run,
                e.machine,
                match e.lead_time_h {
                    Some(h) => format!("detected {} h before failure", fmt(Some(h))),
                    None => "missed".into(),
                }
            );
        }
    }
    if let Some(c) = &r.classification {
        let _ = writeln!(s, "\nclassification ({} rows)", c.rows);
        let _ = writeln!(
            s,
            "  accuracy {} · macro F1 {}",
            fmt(c.accuracy),
            fmt(c.macro_f1)
        );
        let w = c.labels.iter().map(|l| l.len()).max().unwrap_or(4).max(10);
        let _ = write!(s, "  {:<w$}", "true \\ predicted");
        for l in &c.labels {
            let _ = write!(s, " {l:>w$}");
        }
        let _ = writeln!(s);
        for (l, row) in c.labels.iter().zip(&c.confusion) {
            let _ = write!(s, "  {l:<w$}");
            for n in row {
                let _ = write!(s, " {n:>w$}");
            }
            let _ = writeln!(s);
        }
        let _ = writeln!(
            s,
            "  {:<w$} {:>9} {:>9} {:>9} {:>9}",
            "class", "support", "precision", "recall", "F1"
        );
        for k in &c.classes {
            let _ = writeln!(
                s,
                "  {:<w$} {:>9} {:>9} {:>9} {:>9}",
                k.label,
                k.support,
                fmt(k.precision),
                fmt(k.recall),
                fmt(k.f1)
            );
        }
    }
    if let Some(u) = &r.rul {
        let _ = writeln!(
            s,
            "\nremaining useful life ({} of {} rows in failure windows predicted)",
            u.pairs, u.window_rows
        );
        let _ = writeln!(s, "  RMSE, h               {:>10}", fmt(u.rmse_h));
        let _ = writeln!(s, "  MAE, h                {:>10}", fmt(u.mae_h));
        let _ = writeln!(s, "  PHM08 score           {:>10}", fmt(u.phm08));
        let _ = writeln!(
            s,
            "  α-λ accuracy          {:>10}   (α {}, λ {:?}, {} points)",
            fmt(u.alpha_lambda_accuracy),
            u.alpha,
            u.lambdas,
            u.alpha_lambda_points
        );
    }
    if let Some(a) = &r.anomaly {
        let _ = writeln!(
            s,
            "\nanomaly score ({} positive, {} negative rows)",
            a.positives, a.negatives
        );
        let _ = writeln!(s, "  ROC-AUC               {:>10}", fmt(a.roc_auc));
        let _ = writeln!(s, "  PR-AUC                {:>10}", fmt(a.pr_auc));
    }
    s
}
