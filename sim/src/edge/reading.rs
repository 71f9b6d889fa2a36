//! One sensor's edge output for one acquisition window.

use super::iso10816::Zone;
use super::spectral::AxisFeatures;
use crate::sensors::Part;
use crate::time::SimTime;

/// Features of one accelerometer axis, with the axis name.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisReading {
    /// `x`, `y` or `z`.
    pub axis: char,
    /// The features.
    pub features: AxisFeatures,
}

/// The values a sensor reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// An accelerometer's features per axis, the worst-axis velocity and its zone.
    Vibration {
        /// Features of each configured axis.
        axes: Vec<AxisReading>,
        /// Largest velocity RMS over the axes, mm/s.
        vel_rms_mm_s: f64,
        /// ISO 10816 zone of that velocity.
        zone: Zone,
    },
    /// A temperature, °C.
    Temperature {
        /// Temperature, °C.
        celsius: f64,
    },
    /// Relative humidity and temperature.
    Humidity {
        /// Relative humidity, %.
        rh_pct: f64,
        /// Temperature, °C.
        celsius: f64,
    },
    /// Absolute pressure.
    Pressure {
        /// Pressure, hPa.
        hpa: f64,
    },
    /// Sound level over the window.
    Sound {
        /// Sound pressure level, dB re 20 µPa.
        spl_db: f64,
        /// Peak pressure, Pa.
        peak_pa: f64,
    },
    /// Nothing arrived from the sensor this window (dropout).
    Missing,
}

/// One sensor's reading for one window.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    /// Sensor id within its machine.
    pub sensor: String,
    /// The part.
    pub part: Part,
    /// Start of the acquisition window.
    pub t: SimTime,
    /// The values.
    pub values: Values,
}
