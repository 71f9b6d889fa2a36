//! The shipped baseline detector: simple, causal (each row uses only the rows
//! before it), and meant to be beaten.
//!
//! Per machine, over its feature rows in time order:
//!
//! 1. **Reference.** The first [`WARMUP`] acquisitions with a velocity give
//!    the machine's normal state: the median of `ln velocity` and of kurtosis,
//!    and their spread (1.4826 × the median absolute deviation, floored at
//!    [`MIN_SIGMA_LN_V`] and [`MIN_SIGMA_KURTOSIS`]). Nothing is predicted
//!    during the warm-up but `alarm = false` and `fault_class = none`.
//! 2. **Trend.** Both features are smoothed with an exponentially weighted
//!    moving average (weight [`EWMA`]), and so is temperature (spread floored
//!    at [`MIN_SIGMA_TEMPERATURE_C`]); `anomaly_score` is the largest of their
//!    distances from the reference in spreads (a z-score).
//! 3. **Alarm** when, for [`PERSIST`] acquisitions in a row, the ISO 10816
//!    zone is C or D, or smoothed kurtosis exceeds the reference by
//!    max(6 spreads, 1) — impulsive vibration, the classic early sign of a
//!    rolling-bearing defect (a kurtosis above ~4 where healthy machines show
//!    3) — or smoothed velocity has doubled (max(6 spreads, ln 2)), or
//!    smoothed temperature has risen [`HOT_C`] above its reference. An alarm
//!    then stays raised (latched), as a maintenance alarm does until someone
//!    acknowledges it.
//! 4. **Fault class** while alarmed, from what raised it: `bearing_outer` for
//!    kurtosis (outer races are the commonest bearing defect; without spectra
//!    the baseline cannot tell races apart), `overheating` for temperature,
//!    otherwise `imbalance` (velocity alone).
//! 5. **RUL** while alarmed by vibration: a least-squares line through `ln velocity` over
//!    the last [`FIT_ROWS`] acquisitions, extrapolated to the zone C/D
//!    boundary. The boundary is learnt from the zones the machine has shown:
//!    the smallest velocity seen in zone D, else 1.6 × the smallest seen in C,
//!    else 3.2 × the largest seen in A (the ratios of the ISO 10816-3 limits,
//!    e.g. 4.5 / 2.8 and 4.5 / 1.4 mm/s). A trend that is flat, falling, or
//!    not [`MIN_T`] standard errors clear of zero gives no estimate; estimates
//!    are capped at one year.

use super::features::{FeatureRow, Features};
use super::file::Prediction;

/// Acquisitions that set the reference.
pub const WARMUP: usize = 12;
/// Weight of the newest row in the moving averages.
pub const EWMA: f64 = 0.3;
/// Consecutive acquisitions a condition must hold to raise the alarm.
pub const PERSIST: usize = 3;
/// Acquisitions in the RUL trend fit.
pub const FIT_ROWS: usize = 36;
/// Floor of the spread of `ln velocity`.
pub const MIN_SIGMA_LN_V: f64 = 0.05;
/// Floor of the spread of kurtosis.
pub const MIN_SIGMA_KURTOSIS: f64 = 0.1;
/// Standard errors a velocity trend's slope must exceed to be extrapolated.
pub const MIN_T: f64 = 3.0;
/// Temperature rise over the reference that raises an alarm, °C.
pub const HOT_C: f64 = 15.0;
/// Floor of the spread of temperature, °C.
pub const MIN_SIGMA_TEMPERATURE_C: f64 = 1.0;
/// Longest RUL estimate, seconds (one year).
pub const MAX_RUL_S: f64 = 365.0 * 86_400.0;

/// Runs the baseline over every machine; rows come out by run, machine, time.
pub fn predict(features: &Features) -> Vec<Prediction> {
    let mut out = Vec::new();
    for ((run, machine), rows) in features {
        for (row, p) in rows.iter().zip(machine_predictions(rows)) {
            out.push(Prediction {
                at: String::new(),
                run: *run,
                machine: machine.clone(),
                ts_ns: row.ts_ns,
                ..p
            });
        }
    }
    out
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Median and robust spread (1.4826 · MAD, floored).
fn robust(values: &[f64], floor: f64) -> (f64, f64) {
    let mut v = values.to_vec();
    let m = median(&mut v);
    let mut dev: Vec<f64> = values.iter().map(|x| (x - m).abs()).collect();
    (m, (1.4826 * median(&mut dev)).max(floor))
}

struct Reference {
    ln_v: (f64, f64),
    kurtosis: Option<(f64, f64)>,
    temperature_c: Option<(f64, f64)>,
}

fn machine_predictions(rows: &[FeatureRow]) -> Vec<Prediction> {
    let blank = Prediction {
        at: String::new(),
        run: 0,
        machine: String::new(),
        ts_ns: 0,
        alarm: Some(false),
        fault_class: Some("none".into()),
        rul_s: None,
        anomaly_score: None,
    };
    let mut out = Vec::with_capacity(rows.len());
    let mut warm: Vec<&FeatureRow> = Vec::new();
    let mut reference: Option<Reference> = None;
    let (mut ewma_v, mut ewma_k, mut ewma_t): (Option<f64>, Option<f64>, Option<f64>) =
        (None, None, None);
    let (mut streak, mut latched, mut cause) = (0usize, false, "imbalance");
    let (mut min_d, mut min_c, mut max_a) = (f64::INFINITY, f64::INFINITY, 0f64);
    let mut history: Vec<(f64, f64)> = Vec::new(); // (t seconds, ln v)
    for row in rows {
        let ln_v = row.velocity_mm_s.filter(|v| *v > 0.0).map(f64::ln);
        if let (Some(v), Some(z)) = (row.velocity_mm_s, row.iso_zone) {
            match z {
                'D' => min_d = min_d.min(v),
                'C' => min_c = min_c.min(v),
                'A' => max_a = max_a.max(v),
                _ => {}
            }
        }
        if let Some(l) = ln_v {
            history.push((row.ts_ns as f64 / 1e9, l));
            ewma_v = Some(ewma_v.map_or(l, |e| e + EWMA * (l - e)));
        }
        if let Some(k) = row.kurtosis {
            ewma_k = Some(ewma_k.map_or(k, |e| e + EWMA * (k - e)));
        }
        if let Some(t) = row.temperature_c {
            ewma_t = Some(ewma_t.map_or(t, |e| e + EWMA * (t - e)));
        }
        let Some(r) = &reference else {
            if ln_v.is_some() {
                warm.push(row);
            }
            if warm.len() == WARMUP {
                let lv: Vec<f64> = warm
                    .iter()
                    .filter_map(|w| w.velocity_mm_s.map(f64::ln))
                    .collect();
                let ks: Vec<f64> = warm.iter().filter_map(|w| w.kurtosis).collect();
                let ts: Vec<f64> = warm.iter().filter_map(|w| w.temperature_c).collect();
                reference = Some(Reference {
                    ln_v: robust(&lv, MIN_SIGMA_LN_V),
                    kurtosis: (!ks.is_empty()).then(|| robust(&ks, MIN_SIGMA_KURTOSIS)),
                    temperature_c: (!ts.is_empty()).then(|| robust(&ts, MIN_SIGMA_TEMPERATURE_C)),
                });
            }
            out.push(blank.clone());
            continue;
        };
        let z_v = ewma_v.map(|e| (e - r.ln_v.0) / r.ln_v.1);
        let z_k = r.kurtosis.zip(ewma_k).map(|((m, s), e)| (e - m) / s);
        let z_t = r.temperature_c.zip(ewma_t).map(|((m, s), e)| (e - m) / s);
        let zone_bad = matches!(row.iso_zone, Some('C' | 'D'));
        let kurt_bad = r
            .kurtosis
            .zip(ewma_k)
            .is_some_and(|((m, s), e)| e - m > (6.0 * s).max(1.0));
        let vel_bad =
            ewma_v.is_some_and(|e| e - r.ln_v.0 > (6.0 * r.ln_v.1).max(std::f64::consts::LN_2));
        let hot = r
            .temperature_c
            .zip(ewma_t)
            .is_some_and(|((m, _), t)| t - m > HOT_C);
        if !latched {
            streak = if zone_bad || kurt_bad || vel_bad || hot {
                streak + 1
            } else {
                0
            };
            if streak >= PERSIST {
                latched = true;
                cause = if kurt_bad {
                    "bearing_outer"
                } else if zone_bad || vel_bad {
                    "imbalance"
                } else {
                    "overheating"
                };
            }
        }
        let class = if latched { cause } else { "none" };
        let boundary = if min_d.is_finite() {
            Some(min_d)
        } else if min_c.is_finite() {
            Some(1.6 * min_c)
        } else {
            (max_a > 0.0).then_some(3.2 * max_a)
        };
        out.push(Prediction {
            alarm: Some(latched),
            fault_class: Some(class.into()),
            rul_s: if latched && cause != "overheating" {
                boundary.and_then(|b| rul(&history, b.ln()))
            } else {
                None
            },
            anomaly_score: z_v.into_iter().chain(z_k).chain(z_t).reduce(f64::max),
            ..blank.clone()
        });
    }
    out
}

/// Seconds until the least-squares line through the last [`FIT_ROWS`]
/// `(t, ln v)` points reaches `ln_boundary`; 0 past it; None when flat or falling.
fn rul(history: &[(f64, f64)], ln_boundary: f64) -> Option<f64> {
    let pts = &history[history.len().saturating_sub(FIT_ROWS)..];
    if pts.len() < 3 {
        return None;
    }
    let n = pts.len() as f64;
    let t0 = pts[0].0;
    let (mt, my) = (
        pts.iter().map(|p| p.0 - t0).sum::<f64>() / n,
        pts.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxx: f64 = pts.iter().map(|p| (p.0 - t0 - mt).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - t0 - mt) * (p.1 - my)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    // Only a trend that stands out of the noise is extrapolated: the slope
    // must exceed [`MIN_T`] standard errors.
    let ssr: f64 = pts
        .iter()
        .map(|p| (p.1 - my - slope * (p.0 - t0 - mt)).powi(2))
        .sum();
    let se = (ssr / (n - 2.0) / sxx).sqrt();
    let now = pts[pts.len() - 1].0 - t0;
    let fitted_now = my + slope * (now - mt);
    if fitted_now >= ln_boundary {
        return Some(0.0);
    }
    (slope > MIN_T * se && slope > 0.0).then(|| ((ln_boundary - fitted_now) / slope).min(MAX_RUL_S))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize, f: impl Fn(usize) -> (f64, char, f64)) -> Vec<FeatureRow> {
        (0..n)
            .map(|i| {
                let (v, z, k) = f(i);
                FeatureRow {
                    ts_ns: i as i64 * 600_000_000_000,
                    velocity_mm_s: Some(v),
                    iso_zone: Some(z),
                    kurtosis: Some(k),
                    temperature_c: Some(40.0),
                }
            })
            .collect()
    }

    #[test]
    fn steady_machine_never_alarms() {
        let r = rows(100, |i| {
            (
                0.35 + 0.01 * ((i % 3) as f64),
                'A',
                3.0 + 0.05 * ((i % 4) as f64),
            )
        });
        let p = machine_predictions(&r);
        assert!(
            p.iter()
                .all(|p| p.alarm == Some(false) && p.fault_class.as_deref() == Some("none"))
        );
        assert!(p[..WARMUP].iter().all(|p| p.anomaly_score.is_none()));
        assert!(p[WARMUP..].iter().all(|p| p.anomaly_score.unwrap() < 3.0));
    }

    #[test]
    fn kurtosis_step_raises_a_latched_bearing_alarm_after_persisting() {
        let r = rows(60, |i| {
            (0.35, 'A', if (30..40).contains(&i) { 8.0 } else { 3.0 })
        });
        let p = machine_predictions(&r);
        let first = p.iter().position(|p| p.alarm == Some(true)).unwrap();
        assert_eq!(first, 30 + PERSIST - 1);
        assert!(p[first..].iter().all(|p| p.alarm == Some(true)));
        assert_eq!(p[59].fault_class.as_deref(), Some("bearing_outer"));
    }

    #[test]
    fn rul_extrapolates_an_exponential_trend_to_the_boundary() {
        // ln v grows 0.1 per 600 s; at the last point v = e^0 = 1; boundary e^1 → 10 steps.
        let h: Vec<(f64, f64)> = (0..20)
            .map(|i| (i as f64 * 600.0, (i as f64 - 19.0) * 0.1))
            .collect();
        let r = rul(&h, 1.0).unwrap();
        assert!((r - 6000.0).abs() < 1e-6, "{r}");
        assert_eq!(rul(&h, -1.0), Some(0.0));
        let flat: Vec<(f64, f64)> = (0..20).map(|i| (i as f64, 0.0)).collect();
        assert_eq!(rul(&flat, 1.0), None);
        // A slight rise buried in noise is not extrapolated.
        let noisy: Vec<(f64, f64)> = (0..20)
            .map(|i| {
                (
                    i as f64,
                    0.001 * i as f64 + if i % 2 == 0 { 0.1 } else { -0.1 },
                )
            })
            .collect();
        assert_eq!(rul(&noisy, 1.0), None);
    }
}
