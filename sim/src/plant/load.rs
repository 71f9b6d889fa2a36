//! Load profiles: the fraction of rated load a machine runs at over sim time.

use crate::time::{SimDuration, SimTime};

/// How a machine's load varies over the run.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadProfile {
    /// A fixed fraction of rated load.
    Constant(f64),
    /// Piecewise-constant steps: from each instant on, the given fraction.
    Steps(Vec<(SimDuration, f64)>),
    /// A repeating day/night (or shift) cycle: `high` for `high_for` of every `period`.
    Cycle {
        /// Cycle length.
        period: SimDuration,
        /// Time at `high` load at the start of each cycle.
        high_for: SimDuration,
        /// Load during the high part.
        high: f64,
        /// Load during the rest.
        low: f64,
    },
}

impl LoadProfile {
    /// Load fraction at `t`.
    pub fn at(&self, t: SimTime) -> f64 {
        match self {
            LoadProfile::Constant(l) => *l,
            LoadProfile::Steps(steps) => steps
                .iter()
                .take_while(|(at, _)| at.0 <= t.0)
                .last()
                .map(|(_, l)| *l)
                .unwrap_or_else(|| steps.first().map(|s| s.1).unwrap_or(0.0)),
            LoadProfile::Cycle {
                period,
                high_for,
                high,
                low,
            } => {
                if period.0 == 0 || t.0 % period.0 < high_for.0 {
                    *high
                } else {
                    *low
                }
            }
        }
    }

    /// All values the profile can take (for validation).
    pub fn values(&self) -> Vec<f64> {
        match self {
            LoadProfile::Constant(l) => vec![*l],
            LoadProfile::Steps(s) => s.iter().map(|x| x.1).collect(),
            LoadProfile::Cycle { high, low, .. } => vec![*high, *low],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_cycles() {
        let s = LoadProfile::Steps(vec![(SimDuration(0), 0.5), (SimDuration(100), 0.9)]);
        assert_eq!(s.at(SimTime(50)), 0.5);
        assert_eq!(s.at(SimTime(100)), 0.9);
        let c = LoadProfile::Cycle {
            period: SimDuration(10),
            high_for: SimDuration(4),
            high: 1.0,
            low: 0.2,
        };
        assert_eq!(c.at(SimTime(3)), 1.0);
        assert_eq!(c.at(SimTime(13)), 1.0);
        assert_eq!(c.at(SimTime(14)), 0.2);
    }
}
