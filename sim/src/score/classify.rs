//! Fault-class guesses against the true fault mode: a confusion matrix and
//! per-class precision, recall and F1.
//!
//! Labels are the union of true and predicted classes, sorted by name with
//! `none` first. Per class, `F1 = 2·TP / (2·TP + FP + FN)` (van Rijsbergen
//! 1979); precision is undefined for a class never predicted, recall for a
//! class never true. Macro F1 is the unweighted mean of the per-class F1 over
//! all labels (as scikit-learn's `f1_score(average="macro")`); accuracy is the
//! diagonal over the total. With no pairs every figure is undefined.

use std::collections::BTreeSet;

use super::ratio;

/// The class name of "no fault".
pub const NONE: &str = "none";

/// A confusion matrix: `counts[true][predicted]` over [`Confusion::labels`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Confusion {
    /// Class names, `none` first, then by name.
    pub labels: Vec<String>,
    /// Counts, rows = true class, columns = predicted class.
    pub counts: Vec<Vec<u64>>,
}

/// One class's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassScore {
    /// Class name.
    pub label: String,
    /// Rows whose true class is this one.
    pub support: u64,
    /// Rows predicted as this class.
    pub predicted: u64,
    /// TP / predicted.
    pub precision: Option<f64>,
    /// TP / support.
    pub recall: Option<f64>,
    /// 2·TP / (2·TP + FP + FN).
    pub f1: Option<f64>,
}

impl Confusion {
    /// Builds the matrix from `(true, predicted)` class pairs.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
    ) -> Confusion {
        let set: BTreeSet<&str> = pairs
            .clone()
            .into_iter()
            .flat_map(|(t, p)| [t, p])
            .collect();
        let mut labels: Vec<String> = Vec::with_capacity(set.len());
        if set.contains(NONE) {
            labels.push(NONE.to_string());
        }
        labels.extend(set.iter().filter(|l| **l != NONE).map(|l| l.to_string()));
        let idx = |l: &str| {
            labels
                .iter()
                .position(|x| x == l)
                .expect("label in the union")
        };
        let mut counts = vec![vec![0u64; labels.len()]; labels.len()];
        for (t, p) in pairs {
            counts[idx(t)][idx(p)] += 1;
        }
        Confusion { labels, counts }
    }

    /// Pairs counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Fraction on the diagonal.
    pub fn accuracy(&self) -> Option<f64> {
        let diag = (0..self.labels.len()).map(|i| self.counts[i][i]).sum();
        ratio(diag, self.total())
    }

    /// Per-class figures, in label order.
    pub fn per_class(&self) -> Vec<ClassScore> {
        (0..self.labels.len())
            .map(|i| {
                let tp = self.counts[i][i];
                let support: u64 = self.counts[i].iter().sum();
                let predicted: u64 = self.counts.iter().map(|row| row[i]).sum();
                ClassScore {
                    label: self.labels[i].clone(),
                    support,
                    predicted,
                    precision: ratio(tp, predicted),
                    recall: ratio(tp, support),
                    f1: ratio(2 * tp, support + predicted),
                }
            })
            .collect()
    }

    /// Unweighted mean of the per-class F1.
    pub fn macro_f1(&self) -> Option<f64> {
        let f: Vec<f64> = self.per_class().iter().filter_map(|c| c.f1).collect();
        (!f.is_empty()).then(|| f.iter().sum::<f64>() / f.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_and_scores_by_hand() {
        let pairs = [
            ("none", "none"),
            ("none", "none"),
            ("none", "imbalance"),
            ("bearing_outer", "bearing_outer"),
            ("bearing_outer", "none"),
            ("imbalance", "imbalance"),
        ];
        let c = Confusion::from_pairs(pairs.iter().copied());
        assert_eq!(c.labels, ["none", "bearing_outer", "imbalance"]);
        assert_eq!(c.counts, vec![vec![2, 0, 1], vec![1, 1, 0], vec![0, 0, 1]]);
        assert_eq!(c.accuracy(), Some(4.0 / 6.0));
        let s = c.per_class();
        // none: TP 2, support 3, predicted 3 → F1 2/3.
        assert_eq!(s[0].f1, Some(4.0 / 6.0));
        // bearing_outer: TP 1, support 2, predicted 1 → P 1, R 0.5, F1 2/3.
        assert_eq!((s[1].precision, s[1].recall), (Some(1.0), Some(0.5)));
        assert_eq!(s[1].f1, Some(2.0 / 3.0));
        // imbalance: TP 1, support 1, predicted 2 → F1 2/3.
        assert_eq!(s[2].f1, Some(2.0 / 3.0));
        assert!((c.macro_f1().unwrap() - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn class_only_predicted_has_undefined_recall_and_zero_f1() {
        let c = Confusion::from_pairs([("none", "looseness")]);
        let s = c.per_class();
        assert_eq!(s[1].label, "looseness");
        assert_eq!(
            (s[1].recall, s[1].precision, s[1].f1),
            (None, Some(0.0), Some(0.0))
        );
        assert_eq!(s[0].precision, None);
    }

    #[test]
    fn no_pairs_is_undefined() {
        let c = Confusion::from_pairs(std::iter::empty::<(&str, &str)>());
        assert!(c.labels.is_empty());
        assert_eq!((c.accuracy(), c.macro_f1()), (None, None));
    }
}
