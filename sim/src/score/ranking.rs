//! Anomaly scores against binary truth: ROC-AUC and PR-AUC.
//!
//! - **ROC-AUC** is the Mann–Whitney U statistic divided by `n⁺·n⁻`: the
//!   probability that a random positive scores above a random negative, ties
//!   counting one half (Hanley & McNeil 1982, "The meaning and use of the area
//!   under a ROC curve", Radiology 143). It is computed from ranks, ties given
//!   their average rank, in O(n log n).
//! - **PR-AUC** is average precision, `AP = Σₙ (Rₙ − Rₙ₋₁)·Pₙ` over the
//!   distinct score thresholds from high to low (tied scores form one
//!   threshold), the step-wise area that scikit-learn's
//!   `average_precision_score` reports; it does not interpolate, which would be
//!   optimistic (Davis & Goadrich 2006, "The relationship between
//!   Precision-Recall and ROC curves", ICML).
//!
//! Both are undefined (`None`) without at least one positive and, for ROC-AUC,
//! one negative. Scores must be finite; the caller rejects NaN.

/// ROC-AUC of `positives` against `negatives`, or `None` if either is empty.
pub fn roc_auc(positives: &[f64], negatives: &[f64]) -> Option<f64> {
    if positives.is_empty() || negatives.is_empty() {
        return None;
    }
    let mut all: Vec<(f64, bool)> = positives
        .iter()
        .map(|&s| (s, true))
        .chain(negatives.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Sum of the positives' ranks (1-based), ties sharing their mean rank.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        let pos_in_group = all[i..=j].iter().filter(|x| x.1).count();
        rank_sum += mean_rank * pos_in_group as f64;
        i = j + 1;
    }
    let (np, nn) = (positives.len() as f64, negatives.len() as f64);
    let u = rank_sum - np * (np + 1.0) / 2.0;
    Some(u / (np * nn))
}

/// Average precision of `(score, is_positive)` pairs, or `None` without a positive.
pub fn average_precision(scored: &[(f64, bool)]) -> Option<f64> {
    let total_pos = scored.iter().filter(|x| x.1).count();
    if total_pos == 0 {
        return None;
    }
    let mut v = scored.to_vec();
    v.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut seen, mut ap, mut last_recall) = (0usize, 0usize, 0.0, 0.0);
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0 == v[i].0 {
            tp += usize::from(v[j].1);
            seen += 1;
            j += 1;
        }
        let recall = tp as f64 / total_pos as f64;
        let precision = tp as f64 / seen as f64;
        ap += (recall - last_recall) * precision;
        last_recall = recall;
        i = j;
    }
    Some(ap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_inverted_rankings() {
        assert_eq!(roc_auc(&[3.0, 4.0], &[1.0, 2.0]), Some(1.0));
        assert_eq!(roc_auc(&[1.0, 2.0], &[3.0, 4.0]), Some(0.0));
    }

    #[test]
    fn ties_count_one_half() {
        // All tied: every pair is a tie, AUC 0.5.
        assert_eq!(roc_auc(&[1.0, 1.0], &[1.0, 1.0, 1.0]), Some(0.5));
        // pos {0.8, 0.4}, neg {0.4, 0.2}: pairs (0.8>0.4) (0.8>0.2) (0.4=0.4) (0.4>0.2) = 3.5/4.
        assert_eq!(roc_auc(&[0.8, 0.4], &[0.4, 0.2]), Some(0.875));
    }

    #[test]
    fn hand_computed_mixed_case() {
        // pos {0.9, 0.3}, neg {0.5, 0.1, 0.2}: 0.9 beats 3, 0.3 beats 2 → 5/6.
        let auc = roc_auc(&[0.9, 0.3], &[0.5, 0.1, 0.2]).unwrap();
        assert!((auc - 5.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn empty_classes_are_undefined() {
        assert_eq!(roc_auc(&[], &[]), None);
        assert_eq!(roc_auc(&[1.0], &[]), None);
        assert_eq!(average_precision(&[(0.3, false)]), None);
        assert_eq!(average_precision(&[]), None);
    }

    #[test]
    fn average_precision_by_hand() {
        // Ranked: 0.9 +, 0.8 −, 0.7 +, 0.1 −. AP = 0.5·1 + 0.5·(2/3).
        let ap =
            average_precision(&[(0.9, true), (0.8, false), (0.7, true), (0.1, false)]).unwrap();
        assert!((ap - (0.5 + 1.0 / 3.0)).abs() < 1e-12);
        // Perfect ranking: AP 1.
        assert_eq!(average_precision(&[(2.0, true), (1.0, false)]), Some(1.0));
    }

    #[test]
    fn average_precision_ties_form_one_threshold() {
        // All tied, 1 of 4 positive: one threshold with recall 1 and precision 1/4.
        let v = [(0.5, true), (0.5, false), (0.5, false), (0.5, false)];
        assert_eq!(average_precision(&v), Some(0.25));
    }
}
