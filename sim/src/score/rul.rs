//! Remaining-useful-life errors.
//!
//! Errors are taken in **hours**: `d = predicted RUL − true RUL`.
//!
//! - **RMSE** `√(Σd²/n)` and **MAE** `Σ|d|/n`.
//! - **PHM08 score** (Saxena, Goebel, Simon & Eklund 2008, "Damage propagation
//!   modeling for aircraft engine run-to-failure simulation", PHM08):
//!   `s = Σ e^(−d/13) − 1` for `d < 0` (early), `e^(d/10) − 1` for `d ≥ 0`
//!   (late), so a late prediction costs more than an early one of the same
//!   size. The challenge counted d in engine cycles; here d is in hours, the
//!   scale of the simulated wear processes (days). Lower is better; 0 is
//!   perfect. The sum saturates at `f64::MAX` (an error of a few thousand
//!   hours already overflows), so reports never carry infinity.
//! - **α-λ accuracy** (Saxena, Celaya, Saha, Saha & Goebel 2009/2010,
//!   "Metrics for offline evaluation of prognostic performance", IJPHM 1):
//!   at the times `t_λ = onset + λ·(failure − onset)` the prediction must lie
//!   within `±α` of the true RUL. A point scores a hit when the latest
//!   prediction made in `[onset, t_λ]` is within `α·RUL_true` of the true RUL
//!   at the instant it was made; no prediction there is a miss.
//!
//! With no pairs (or no episodes) every figure is undefined (`None`).

/// Default α of α-λ accuracy.
pub const ALPHA: f64 = 0.2;

/// Default λ points of α-λ accuracy (fractions of the way from onset to failure).
pub const LAMBDAS: [f64; 3] = [0.25, 0.5, 0.75];

/// One PHM08 term for an error `d_h` (hours, predicted − true).
pub fn phm08_term(d_h: f64) -> f64 {
    if d_h < 0.0 {
        (-d_h / 13.0).exp() - 1.0
    } else {
        (d_h / 10.0).exp() - 1.0
    }
}

/// RUL error figures over `(predicted_s, true_s)` pairs (seconds in, hours out).
#[derive(Clone, Debug, PartialEq)]
pub struct RulErrors {
    /// Pairs scored.
    pub n: usize,
    /// Root-mean-square error, hours.
    pub rmse_h: Option<f64>,
    /// Mean absolute error, hours.
    pub mae_h: Option<f64>,
    /// PHM08 score (sum over pairs, d in hours).
    pub phm08: Option<f64>,
}

/// Computes [`RulErrors`] from `(predicted_s, true_s)` pairs.
pub fn errors(pairs: &[(f64, f64)]) -> RulErrors {
    let n = pairs.len();
    if n == 0 {
        return RulErrors {
            n,
            rmse_h: None,
            mae_h: None,
            phm08: None,
        };
    }
    let d: Vec<f64> = pairs.iter().map(|(p, t)| (p - t) / 3600.0).collect();
    RulErrors {
        n,
        rmse_h: Some((d.iter().map(|x| x * x).sum::<f64>() / n as f64).sqrt()),
        mae_h: Some(d.iter().map(|x| x.abs()).sum::<f64>() / n as f64),
        phm08: Some(d.iter().map(|&x| phm08_term(x)).sum::<f64>().min(f64::MAX)),
    }
}

/// α-λ hits of one failure episode: for each λ, whether the latest prediction
/// `(ts_ns, rul_s)` in `[onset, t_λ]` is within `α` of the true RUL
/// `failure − ts`. `predictions` must be sorted by time.
pub fn alpha_lambda(
    onset_ns: i64,
    failure_ns: i64,
    predictions: &[(i64, f64)],
    alpha: f64,
    lambdas: &[f64],
) -> Vec<bool> {
    lambdas
        .iter()
        .map(|&l| {
            let t_l = onset_ns + ((failure_ns - onset_ns) as f64 * l).round() as i64;
            predictions
                .iter()
                .rev()
                .find(|(ts, _)| *ts >= onset_ns && *ts <= t_l)
                .is_some_and(|&(ts, pred)| {
                    let truth = (failure_ns - ts) as f64 / 1e9;
                    (pred - truth).abs() <= alpha * truth
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phm08_penalises_late_more_than_early() {
        assert_eq!(phm08_term(0.0), 0.0);
        assert!((phm08_term(-13.0) - (1f64.exp() - 1.0)).abs() < 1e-12);
        assert!((phm08_term(10.0) - (1f64.exp() - 1.0)).abs() < 1e-12);
        assert!(phm08_term(5.0) > phm08_term(-5.0));
    }

    #[test]
    fn errors_by_hand() {
        // d = +1 h and −3 h.
        let e = errors(&[(7200.0, 3600.0), (0.0, 10800.0)]);
        assert_eq!(e.n, 2);
        assert_eq!(e.rmse_h, Some(5f64.sqrt()));
        assert_eq!(e.mae_h, Some(2.0));
        let want = (0.1f64).exp() - 1.0 + (3.0f64 / 13.0).exp() - 1.0;
        assert!((e.phm08.unwrap() - want).abs() < 1e-12);
    }

    #[test]
    fn phm08_saturates_instead_of_overflowing() {
        let e = errors(&[(1e9, 0.0)]);
        assert_eq!(e.phm08, Some(f64::MAX));
    }

    #[test]
    fn no_pairs_is_undefined() {
        let e = errors(&[]);
        assert_eq!((e.rmse_h, e.mae_h, e.phm08), (None, None, None));
    }

    #[test]
    fn alpha_lambda_by_hand() {
        let s = 1_000_000_000i64;
        // Onset 0, failure 100 s: t_λ = 25, 50, 75 s.
        // At 20 s (true 80): 90 is within 16 → hit. At 50 s (true 50): 70 misses.
        // Nothing new before 75 → the 50 s prediction stands → miss.
        let preds = [(20 * s, 90.0), (50 * s, 70.0), (80 * s, 20.0)];
        assert_eq!(
            alpha_lambda(0, 100 * s, &preds, 0.2, &LAMBDAS),
            vec![true, false, false]
        );
        // No prediction before t_λ is a miss.
        assert_eq!(
            alpha_lambda(0, 100 * s, &[(90 * s, 10.0)], 0.2, &[0.5]),
            vec![false]
        );
        // Predictions before the onset do not count.
        assert_eq!(
            alpha_lambda(10 * s, 110 * s, &[(0, 110.0)], 0.2, &[0.5]),
            vec![false]
        );
    }
}
