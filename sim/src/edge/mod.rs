//! What a device computes before it sends: features per acquisition window, the
//! ISO 10816 zone, and warning/alarm flags, as ST's condition-monitoring firmware
//! (FP-IND-PREDMNT1 / MotionSP) does.

pub mod iso10816;
pub mod limits;
pub mod reading;
pub mod spectral;

pub use iso10816::{Zone, ZoneLimits};
pub use limits::{Level, Limits};
pub use reading::{AxisReading, Reading, Values};
pub use spectral::{AxisFeatures, BANDS, SpectralAnalyzer};
