//! Simulation time: integer nanoseconds since the scenario's `start`.
//!
//! Nothing in the model reads a wall clock. Wall time exists only in adapters.

use std::fmt;

/// Nanoseconds per second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// An instant of sim time, in nanoseconds since the run's start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of sim time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of the run.
    pub const ZERO: SimTime = SimTime(0);

    /// Seconds since the start, as a float (for physics, never for scheduling).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// This instant moved `d` later, saturating at the end of representable time.
    pub fn after(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// Instant of the `k`-th sample of a stream at `odr_hz`: `floor(k · 1e9 / odr)` ns,
    /// computed from `k` so rounding never accumulates.
    pub fn of_sample(k: u64, odr_hz: f64) -> SimTime {
        SimTime((k as f64 * NANOS_PER_SEC as f64 / odr_hz).floor() as u64)
    }
}

impl SimDuration {
    /// A duration of whole seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * NANOS_PER_SEC)
    }

    /// A duration from fractional seconds (rounded to the nanosecond).
    pub fn from_secs_f64(s: f64) -> Self {
        SimDuration((s * NANOS_PER_SEC as f64).round() as u64)
    }

    /// The duration in seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// The duration in hours.
    pub fn as_hours_f64(self) -> f64 {
        self.as_secs_f64() / 3600.0
    }

    /// Parses `"500ms"`, `"10s"`, `"15m"`, `"6h"`, `"30d"`, `"1.5h"`, `"1w"`.
    pub fn parse(text: &str) -> Result<SimDuration, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let num: String = num.chars().filter(|&c| c != '_').collect();
        let value: f64 = num.parse().map_err(|_| {
            format!(
                "`{text}` is not a duration (write a number and a unit: 500ms, 10s, 15m, 6h, 30d)"
            )
        })?;
        let scale = match unit.trim() {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 604_800.0,
            other => {
                return Err(format!(
                    "`{text}` has unknown unit `{other}` (valid: ns, us, ms, s, m, h, d, w)"
                ));
            }
        };
        let secs = value * scale;
        if !secs.is_finite() || !(0.0..=1.0e9).contains(&secs) {
            return Err(format!("`{text}` is out of range (0 to about 31 years)"));
        }
        Ok(SimDuration::from_secs_f64(secs))
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        let units = [
            (86_400 * NANOS_PER_SEC, "d"),
            (3_600 * NANOS_PER_SEC, "h"),
            (60 * NANOS_PER_SEC, "m"),
            (NANOS_PER_SEC, "s"),
            (1_000_000, "ms"),
        ];
        for (size, name) in units {
            if ns >= size && ns.is_multiple_of(size) {
                return write!(f, "{}{name}", ns / size);
            }
        }
        if ns < NANOS_PER_SEC {
            return write!(f, "{ns}ns");
        }
        // Mixed units, seconds to a tenth: "5h 0m 38.2s".
        let tenths = (ns + 50_000_000) / 100_000_000;
        let (d, rem) = (tenths / 864_000, tenths % 864_000);
        let (h, rem) = (rem / 36_000, rem % 36_000);
        let (m, t) = (rem / 600, rem % 600);
        let mut parts = Vec::new();
        if d > 0 {
            parts.push(format!("{d}d"));
        }
        if d > 0 || h > 0 {
            parts.push(format!("{h}h"));
        }
        if d > 0 || h > 0 || m > 0 {
            parts.push(format!("{m}m"));
        }
        parts.push(format!("{}.{}s", t / 10, t % 10));
        write!(f, "{}", parts.join(" "))
    }
}

/// The wall-calendar instant of the run's start, in nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Epoch(pub i128);

impl Epoch {
    /// 2026-01-01T00:00:00Z, the default scenario start.
    pub const DEFAULT: Epoch = Epoch(1_767_225_600 * 1_000_000_000);

    /// Parses an RFC 3339 timestamp (`2026-01-01T00:00:00Z`).
    pub fn parse_rfc3339(text: &str) -> Result<Epoch, String> {
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .map(|t| Epoch(t.unix_timestamp_nanos()))
            .map_err(|e| {
                format!(
                    "`{text}` is not an RFC 3339 timestamp ({e}); example: 2026-01-01T00:00:00Z"
                )
            })
    }

    /// Unix nanoseconds of sim instant `t`.
    pub fn unix_nanos(self, t: SimTime) -> i128 {
        self.0 + i128::from(t.0)
    }

    /// RFC 3339 text (UTC, `Z`, nanosecond digits only where needed) of sim instant `t`.
    pub fn format(self, t: SimTime) -> String {
        let ns = self.unix_nanos(t);
        match time::OffsetDateTime::from_unix_timestamp_nanos(ns) {
            Ok(dt) => dt
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|_| ns.to_string()),
            Err(_) => ns.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(
            SimDuration::parse("10s").unwrap(),
            SimDuration::from_secs(10)
        );
        assert_eq!(
            SimDuration::parse("1.5h").unwrap(),
            SimDuration::from_secs(5400)
        );
        assert_eq!(
            SimDuration::parse("30d").unwrap(),
            SimDuration::from_secs(30 * 86_400)
        );
        assert_eq!(
            SimDuration::parse("250ms").unwrap(),
            SimDuration(250_000_000)
        );
        assert!(
            SimDuration::parse("10 parsecs")
                .unwrap_err()
                .contains("valid: ns")
        );
        assert!(SimDuration::parse("h").is_err());
        assert!(SimDuration::parse("-3s").is_err());
        assert!(SimDuration::parse("1e300d").is_err());
    }

    #[test]
    fn durations_display_in_their_largest_whole_unit() {
        assert_eq!(SimDuration::from_secs(7200).to_string(), "2h");
        assert_eq!(SimDuration::from_secs(90).to_string(), "90s");
        assert_eq!(SimDuration(250_000_000).to_string(), "250ms");
        assert_eq!(SimDuration(18_038_201_805_136).to_string(), "5h 0m 38.2s");
        assert_eq!(SimDuration(90_500_000_001).to_string(), "1m 30.5s");
    }

    #[test]
    fn sample_instants_are_computed_from_k() {
        // 26 667 Hz: the 26 667th sample is at exactly one second.
        assert_eq!(SimTime::of_sample(26_667, 26_667.0), SimTime(NANOS_PER_SEC));
        assert_eq!(SimTime::of_sample(1, 3.0), SimTime(333_333_333));
    }

    #[test]
    fn epoch_formats_rfc3339() {
        let e = Epoch::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(e, Epoch::DEFAULT);
        assert_eq!(
            e.format(SimTime::from_secs_test(90)),
            "2026-01-01T00:01:30Z"
        );
        assert!(Epoch::parse_rfc3339("yesterday").is_err());
    }

    impl SimTime {
        fn from_secs_test(s: u64) -> SimTime {
            SimTime(s * NANOS_PER_SEC)
        }
    }
}
