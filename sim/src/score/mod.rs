//! Scoring predictions against the truth the simulation knows: the pure
//! maths behind `fabtwin score`, with no files and no I/O.
//!
//! - [`events`]: event-level failure detection (detected or missed, lead
//!   time, alarm events, precision, recall, F1, false alarms per machine-day);
//! - [`classify`]: confusion matrix and per-class F1 of fault-mode guesses;
//! - [`rul`]: remaining-useful-life errors (RMSE, MAE, the PHM08 score,
//!   α-λ accuracy);
//! - [`ranking`]: anomaly scores (ROC-AUC, PR-AUC as average precision).
//!
//! A metric that has nothing to be computed from (no failures, no alarms, no
//! positives…) is *undefined*: these functions return `None`, never NaN, and
//! the reports print "undefined" (JSON `null`).
//!
//! ```
//! use fabtwin_sim::score::ranking::roc_auc;
//! // Every positive outranks every negative but one tie: AUC = (3 + 0.5) / 4.
//! assert_eq!(roc_auc(&[0.9, 0.5], &[0.5, 0.1]), Some(0.875));
//! assert_eq!(roc_auc(&[], &[0.1]), None);
//! ```

pub mod classify;
pub mod events;
pub mod ranking;
pub mod rul;

/// The harmonic mean of precision and recall; undefined when either is, 0
/// when both are 0.
pub fn f1(precision: Option<f64>, recall: Option<f64>) -> Option<f64> {
    let (p, r) = (precision?, recall?);
    if p + r == 0.0 {
        Some(0.0)
    } else {
        Some(2.0 * p * r / (p + r))
    }
}

/// `num / den`, undefined when `den` is 0.
pub fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f1_is_the_harmonic_mean_and_undefined_propagates() {
        assert_eq!(f1(Some(0.5), Some(1.0)), Some(2.0 / 3.0));
        assert_eq!(f1(Some(0.0), Some(0.0)), Some(0.0));
        assert_eq!(f1(None, Some(1.0)), None);
        assert_eq!(f1(Some(1.0), None), None);
    }

    #[test]
    fn ratio_of_nothing_is_undefined() {
        assert_eq!(ratio(1, 4), Some(0.25));
        assert_eq!(ratio(0, 0), None);
    }
}
