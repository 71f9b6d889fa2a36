//! ISO 10816 vibration severity zones from broadband velocity RMS (10–1000 Hz).
//!
//! Zone A: newly commissioned; B: unrestricted long-term operation; C: not
//! suitable for long-term operation; D: severe enough to cause damage. The limits
//! live in scenario data (`zone_limits`), since the boundaries depend on machine
//! class and foundation; the default is ISO 10816-1 class II (15–75 kW).

use serde::{Deserialize, Serialize};

/// A severity zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Zone {
    /// Newly commissioned.
    A,
    /// Unrestricted long-term operation.
    B,
    /// Restricted operation.
    C,
    /// Damage.
    D,
}

/// Zone boundaries in mm/s RMS.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneLimits {
    /// A/B boundary, mm/s.
    pub ab_mm_s: f64,
    /// B/C boundary, mm/s.
    pub bc_mm_s: f64,
    /// C/D boundary, mm/s.
    pub cd_mm_s: f64,
}

impl ZoneLimits {
    /// ISO 10816-1 class I (small machines, ≤ 15 kW): 0.71 / 1.8 / 4.5 mm/s.
    pub const CLASS_I: ZoneLimits = ZoneLimits {
        ab_mm_s: 0.71,
        bc_mm_s: 1.8,
        cd_mm_s: 4.5,
    };
    /// ISO 10816-1 class II (medium, 15–75 kW): 1.12 / 2.8 / 7.1 mm/s.
    pub const CLASS_II: ZoneLimits = ZoneLimits {
        ab_mm_s: 1.12,
        bc_mm_s: 2.8,
        cd_mm_s: 7.1,
    };
    /// ISO 10816-1 class III (large, rigid foundation): 1.8 / 4.5 / 11.2 mm/s.
    pub const CLASS_III: ZoneLimits = ZoneLimits {
        ab_mm_s: 1.8,
        bc_mm_s: 4.5,
        cd_mm_s: 11.2,
    };
    /// ISO 10816-1 class IV (large, flexible foundation): 2.8 / 7.1 / 18 mm/s.
    pub const CLASS_IV: ZoneLimits = ZoneLimits {
        ab_mm_s: 2.8,
        bc_mm_s: 7.1,
        cd_mm_s: 18.0,
    };

    /// The class for a machine of `power_kw` on a rigid foundation.
    pub fn for_power(power_kw: f64) -> ZoneLimits {
        if power_kw <= 15.0 {
            Self::CLASS_I
        } else if power_kw <= 75.0 {
            Self::CLASS_II
        } else {
            Self::CLASS_III
        }
    }

    /// Zone of velocity RMS `v_mm_s`.
    pub fn zone(&self, v_mm_s: f64) -> Zone {
        if v_mm_s < self.ab_mm_s {
            Zone::A
        } else if v_mm_s < self.bc_mm_s {
            Zone::B
        } else if v_mm_s < self.cd_mm_s {
            Zone::C
        } else {
            Zone::D
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_follow_boundaries() {
        let l = ZoneLimits::CLASS_II;
        assert_eq!(l.zone(0.5), Zone::A);
        assert_eq!(l.zone(1.12), Zone::B);
        assert_eq!(l.zone(4.0), Zone::C);
        assert_eq!(l.zone(7.1), Zone::D);
        assert_eq!(ZoneLimits::for_power(5.5), ZoneLimits::CLASS_I);
    }
}
