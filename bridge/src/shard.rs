//! One of `count` processes doing disjoint parts of the same batch job
//! (`--shard i/n` of `fabtwin dataset` and `fabtwin load`): items — runs of a
//! dataset, devices of a fleet — are dealt round-robin, so the shards' outputs
//! merge into exactly what one process would have made.

use serde::{Deserialize, Serialize};

/// Shard `index` of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This process's index, 0 … count − 1.
    pub index: u32,
    /// Number of processes.
    pub count: u32,
}

impl Shard {
    /// Everything in one process.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `i/n` (0 ≤ i < n).
    ///
    /// ```
    /// use fabtwin_bridge::shard::Shard;
    /// assert_eq!(Shard::parse("1/4").unwrap(), Shard { index: 1, count: 4 });
    /// assert!(Shard::parse("4/4").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("`{text}` is not a shard (valid: i/n with 0 ≤ i < n, e.g. 0/4)");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether item `i` (a run, a device) belongs to this shard.
    pub fn owns(self, i: u64) -> bool {
        i % u64::from(self.count) == u64::from(self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_deal_items_round_robin() {
        assert_eq!(Shard::parse("1/4").unwrap(), Shard { index: 1, count: 4 });
        assert!(Shard::parse("4/4").unwrap_err().contains("0 ≤ i < n"));
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2", "x"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let s = Shard { index: 1, count: 3 };
        let owned: Vec<u64> = (0..10).filter(|&d| s.owns(d)).collect();
        assert_eq!(owned, vec![1, 4, 7]);
        assert!((0..10).all(|d| Shard::ALL.owns(d)));
    }
}
