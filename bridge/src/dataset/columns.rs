//! The feature table's columns: names, Arrow types, units and meanings, in file
//! order. The card's schema section and the Arrow schema both come from here,
//! so they cannot disagree.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema};

/// The type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// 64-bit signed integer.
    Int64,
    /// 64-bit float.
    Float64,
    /// UTF-8 string.
    Utf8,
    /// Boolean.
    Bool,
}

impl ColumnType {
    /// The name written in the card (Arrow's lower-case names).
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Int64 => "int64",
            ColumnType::Float64 => "float64",
            ColumnType::Utf8 => "utf8",
            ColumnType::Bool => "bool",
        }
    }

    fn arrow(self) -> DataType {
        match self {
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Utf8 => DataType::Utf8,
            ColumnType::Bool => DataType::Boolean,
        }
    }
}

/// One column of the feature table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// Name.
    pub name: &'static str,
    /// Type.
    pub ty: ColumnType,
    /// Whether it may be null.
    pub nullable: bool,
    /// Unit (`""` for none).
    pub unit: &'static str,
    /// What it holds.
    pub description: &'static str,
    /// Whether it is a label (ground truth) rather than something a device or plant reports.
    pub label: bool,
}

const fn col(
    name: &'static str,
    ty: ColumnType,
    nullable: bool,
    unit: &'static str,
    description: &'static str,
    label: bool,
) -> Column {
    Column {
        name,
        ty,
        nullable,
        unit,
        description,
        label,
    }
}

use ColumnType::{Bool, Float64, Int64, Utf8};

/// Every column of the feature table, in file order.
pub const COLUMNS: &[Column] = &[
    col(
        "ts_ns",
        Int64,
        false,
        "ns since 1970-01-01T00:00:00Z (UTC)",
        "start of the acquisition window: scenario start + sim time",
        false,
    ),
    col(
        "t_s",
        Float64,
        false,
        "s",
        "seconds since the run's start",
        false,
    ),
    col(
        "speed_rpm",
        Float64,
        false,
        "rpm",
        "shaft speed (operating context; falls with load through motor slip)",
        false,
    ),
    col(
        "load",
        Float64,
        false,
        "fraction of rated",
        "load as a fraction of rated (operating context)",
        false,
    ),
    col(
        "ambient_c",
        Float64,
        false,
        "°C",
        "ambient air temperature of the run (operating context)",
        false,
    ),
    col(
        "velocity_mm_s",
        Float64,
        true,
        "mm/s",
        "ISO 10816 velocity RMS (10-1000 Hz) of the primary accelerometer, worst axis; null on dropout or without an accelerometer",
        false,
    ),
    col(
        "iso_zone",
        Utf8,
        true,
        "",
        "ISO 10816 zone of velocity_mm_s under the machine's zone limits: A, B, C or D",
        false,
    ),
    col(
        "kurtosis",
        Float64,
        true,
        "",
        "kurtosis m4/m2² of the primary accelerometer, worst axis (3 for Gaussian noise)",
        false,
    ),
    col(
        "rms_g",
        Float64,
        true,
        "g",
        "AC RMS acceleration of the primary accelerometer, worst axis",
        false,
    ),
    col(
        "peak_g",
        Float64,
        true,
        "g",
        "largest |a − mean| in the window, worst axis",
        false,
    ),
    col(
        "crest",
        Float64,
        true,
        "",
        "crest factor peak/RMS, worst axis",
        false,
    ),
    col(
        "hf_band_g2",
        Float64,
        true,
        "g²",
        "mean-square acceleration in the upper half of the accelerometer's band (bearing resonance region), summed over axes",
        false,
    ),
    col(
        "temperature_c",
        Float64,
        true,
        "°C",
        "housing temperature from the machine's first temperature sensor; null on dropout or without one",
        false,
    ),
    col(
        "health",
        Utf8,
        false,
        "",
        "label: healthy | degrading | failed",
        true,
    ),
    col(
        "fault_mode",
        Utf8,
        false,
        "",
        "label: none, or the active machine fault mode with the highest severity",
        true,
    ),
    col(
        "severity",
        Float64,
        false,
        "",
        "label: severity of fault_mode (0 = none, 1 = failure threshold)",
        true,
    ),
    col(
        "onset_ns",
        Int64,
        true,
        "ns since 1970-01-01T00:00:00Z (UTC)",
        "label: onset of fault_mode; null when none",
        true,
    ),
    col(
        "failure_ns",
        Int64,
        true,
        "ns since 1970-01-01T00:00:00Z (UTC)",
        "label: realised failure time of the machine, even past the run's end; null when it does not fail within the look-ahead horizon",
        true,
    ),
    col(
        "rul_s",
        Float64,
        true,
        "s",
        "label: remaining useful life, failure_ns − ts_ns (0 once failed); null when failure_ns is null",
        true,
    ),
    col(
        "censored",
        Bool,
        false,
        "",
        "label: true when the failure lies beyond the run's end (or is unknown)",
        true,
    ),
    col(
        "sensor_fault",
        Utf8,
        true,
        "",
        "label: the active sensor fault (stuck_at, drift, bias, gain, spikes, noise, dropout, saturation); null when none",
        true,
    ),
    col(
        "faulty_sensor",
        Utf8,
        true,
        "",
        "label: id of the sensor at fault; null when none",
        true,
    ),
    col(
        "sensor_at_fault",
        Bool,
        false,
        "",
        "label: true while a sensor (not the machine) misreports",
        true,
    ),
];

/// The Arrow schema of the feature table.
pub fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(
        COLUMNS
            .iter()
            .map(|c| Field::new(c.name, c.ty.arrow(), c.nullable))
            .collect::<Vec<_>>(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_the_partition_keys_are_not_columns() {
        let mut names: Vec<_> = COLUMNS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(!names.contains(&"run") && !names.contains(&"machine"));
        assert_eq!(schema().fields().len(), COLUMNS.len());
    }
}
