//! Warning and alarm thresholds a device applies at the edge.

use serde::{Deserialize, Serialize};

use super::iso10816::{Zone, ZoneLimits};

/// Status of a machine as its device reports it (ST MotionSP: GOOD, WARNING, ALARM).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Every feature within its warning threshold.
    #[default]
    Good,
    /// Some feature past its warning threshold.
    Warning,
    /// Some feature past its alarm threshold.
    Alarm,
}

/// Thresholds of one machine.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// ISO 10816 zone boundaries; zone C raises a warning and zone D an alarm.
    pub zones: ZoneLimits,
    /// Kurtosis warning threshold (3 for healthy Gaussian vibration).
    pub kurtosis_warning: f64,
    /// Kurtosis alarm threshold.
    pub kurtosis_alarm: f64,
    /// Temperature warning threshold, °C.
    pub temperature_warning_c: f64,
    /// Temperature alarm threshold, °C.
    pub temperature_alarm_c: f64,
}

impl Limits {
    /// Defaults for a machine of `power_kw`: ISO 10816-1 class by power, kurtosis
    /// 6 / 10, temperature 80 / 95 °C (class B insulation bearings run below 80 °C).
    pub fn default_for(power_kw: f64) -> Limits {
        Limits {
            zones: ZoneLimits::for_power(power_kw),
            kurtosis_warning: 6.0,
            kurtosis_alarm: 10.0,
            temperature_warning_c: 80.0,
            temperature_alarm_c: 95.0,
        }
    }

    /// Level from a velocity zone.
    pub fn level_of_zone(zone: Zone) -> Level {
        match zone {
            Zone::A | Zone::B => Level::Good,
            Zone::C => Level::Warning,
            Zone::D => Level::Alarm,
        }
    }

    /// Level from kurtosis.
    pub fn level_of_kurtosis(&self, k: f64) -> Level {
        if k >= self.kurtosis_alarm {
            Level::Alarm
        } else if k >= self.kurtosis_warning {
            Level::Warning
        } else {
            Level::Good
        }
    }

    /// Level from temperature.
    pub fn level_of_temperature(&self, c: f64) -> Level {
        if c >= self.temperature_alarm_c {
            Level::Alarm
        } else if c >= self.temperature_warning_c {
            Level::Warning
        } else {
            Level::Good
        }
    }
}
