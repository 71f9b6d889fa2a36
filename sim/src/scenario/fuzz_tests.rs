//! Mutation fuzzing of scenario loading, and golden tests of its error messages
//! (tests only).
//!
//! The rule under test: bad input never panics, and every error names a position
//! or a field path and says what is valid.

use std::panic::{self, AssertUnwindSafe};
use std::time::Instant;

use super::{FaultKind, NetKind, Problem, Scenario, ScenarioError, from_str};
use crate::degradation::Growth;
use crate::faults::{SensorFault, Target};
use crate::plant::LoadProfile;
use crate::rng::mix64;

// ---------------------------------------------------------------------------
// Seeds
// ---------------------------------------------------------------------------

/// Every machine kind, every part with explicit `odr_hz`/`full_scale`, every
/// machine option, every load shape, explicit gateways with every option.
const PLANT: &str = r#"// Seed: the plant side of the schema.
Scenario(
    name: "plant-all-kinds",
    description: "fuzz seed",
    seed: 42,
    start: "2026-03-01T06:00:00Z",
    duration: "2d",
    acquisition: Acquisition(interval: "15m", window_samples: 16384),
    ambient_c: 25.5,
    ambient_hpa: Some(1000.0),
    ambient_rh_pct: 50,
    sites: [
        Site(id: "north", lines: [
            Line(id: "press", machines: [
                Machine(
                    id: "m-motor", kind: Motor, rated_speed_rpm: 1480, rated_power_kw: 11,
                    load: Constant(0.8),
                    bearing: (rolling_elements: 9, ball_diameter_mm: 7.94, pitch_diameter_mm: 39.04, contact_angle_deg: 0),
                    position: (1.5, -2.0),
                    zone_limits: (ab_mm_s: 0.71, bc_mm_s: 1.8, cd_mm_s: 4.5),
                    limits: Limits(kurtosis_warning: 5, kurtosis_alarm: 9, temperature_warning_c: 70, temperature_alarm_c: 90),
                    resonance_hz: 3000,
                    sensors: [
                        Sensor(id: "vib", part: "IIS3DWB", mounting: Stud, axes: Xyz, odr_hz: 26667, full_scale: 16),
                        Sensor(id: "temp", part: "STTS22H", odr_hz: 1, full_scale: 125),
                    ],
                ),
                Machine(
                    id: "m-pump", kind: Pump, rated_speed_rpm: 2950,
                    load: Steps([("0s", 0.5), ("8h", 0.9), ("16h", 0.3)]),
                    sensors: [
                        Sensor(id: "vib", part: "ISM330DHCX", mounting: Magnet, axes: X, odr_hz: 6667, full_scale: 8),
                        Sensor(id: "env", part: "HTS221", odr_hz: 12.5, full_scale: 100),
                    ],
                ),
                Machine(
                    id: "m-fan", kind: Fan, rated_speed_rpm: 980, rated_power_kw: 4,
                    load: Cycle(period: "24h", high_for: "16h", high: 1.0, low: 0.4),
                    sensors: [
                        Sensor(id: "vib", part: "IIS2DLPC", mounting: Adhesive, axes: Y, odr_hz: 1600, full_scale: 2),
                        Sensor(id: "baro", part: "LPS22HH", odr_hz: 200, full_scale: 1260),
                    ],
                ),
            ]),
        ]),
        Site(id: "south", lines: [
            Line(id: "mill", machines: [
                Machine(
                    id: "m-spindle", kind: Spindle, rated_speed_rpm: 24000, rated_power_kw: 30,
                    bearing: (rolling_elements: 14, ball_diameter_mm: 9.5, pitch_diameter_mm: 65, contact_angle_deg: 15),
                    sensors: [
                        Sensor(id: "vib", part: "IIS3DWB", axes: Z, full_scale: 4),
                        Sensor(id: "mic", part: "IMP34DT05", odr_hz: 48000, full_scale: 37.75),
                    ],
                ),
            ]),
            Line(id: "air", machines: [
                Machine(
                    id: "m-comp", kind: Compressor, rated_speed_rpm: 2980, rated_power_kw: 75,
                    zone_limits: (ab_mm_s: 1.4, bc_mm_s: 2.8, cd_mm_s: 7.1),
                    sensors: [Sensor(id: "mic", part: "IMP23ABSU", odr_hz: 192000, full_scale: 89.44)],
                ),
                Machine(
                    id: "m-conv", kind: Conveyor, rated_speed_rpm: 60, rated_power_kw: 2.2,
                    load: Steps([("0s", 0.2), ("1h", 1.2)]),
                    resonance_hz: 2500,
                    sensors: [Sensor(id: "vib", part: "IIS3DWB")],
                ),
            ]),
        ]),
    ],
    gateways: [
        Gateway(id: "gw-north", machines: ["m-motor", "m-pump", "m-fan"], publish_interval: "30m",
                codec: SparkplugB, session: PerDevice, qos: 0),
        Gateway(id: "gw-south", machines: ["m-spindle", "m-comp", "m-conv"], codec: Json, session: PerGateway, qos: 1,
                buffer: Buffer(max_messages: 5000, max_bytes: 1048576, overflow: RejectNew, ttl: "1d")),
    ],
    network_faults: [
        (gateway: "gw-north", kind: Outage, at: "1h", duration: "10m"),
        (gateway: "gw-south", kind: Latency(250), at: "2h", duration: "1h"),
        (gateway: "gw-north", kind: Loss(0.1), at: "3h", duration: "30m"),
        (gateway: "gw-south", kind: Partition, at: "1d", duration: "5m"),
    ],
)
"#;

/// Default gateways; every degradation onset and growth, every fault kind,
/// random faults on every machine set, every expectation.
const WEAR: &str = r#"Scenario(
    name: "wear",
    duration: "30d",
    sites: [(id: "s", lines: [
        (id: "l1", machines: [
            (id: "m1", kind: Motor, rated_speed_rpm: 1797,
             sensors: [(id: "vib", part: "IIS3DWB"), (id: "temp", part: "STTS22H")]),
            (id: "m2", kind: Fan, rated_speed_rpm: 900,
             sensors: [(id: "vib", part: "IIS2DLPC", odr_hz: 1600), (id: "mic", part: "IMP34DT05")]),
            (id: "m3", kind: Pump, rated_speed_rpm: 2900,
             sensors: [(id: "vib", part: "ISM330DHCX", odr_hz: 3332, full_scale: 4)]),
        ]),
        (id: "l2", machines: [
            (id: "m4", kind: Compressor, rated_speed_rpm: 3000,
             sensors: [(id: "env", part: "HTS221"), (id: "baro", part: "LPS22HH")]),
        ]),
    ])],
    degradation: [
        (machine: "m1", mode: bearing_outer, onset: At("2d"), initial: 0.05,
         growth: Exponential(rate_per_day: 0.2, rate_cv: 0.3, sigma_per_sqrt_day: 0.1)),
        (machine: "m2", mode: imbalance, onset: Uniform(min: "1d", max: "5d"),
         growth: Gamma(mean_per_day: 0.02, cv: 0.5)),
        (machine: "m3", mode: misalignment, onset: At("0s"),
         growth: Wiener(drift_per_day: 0.01, sigma_per_sqrt_day: 0.05)),
        (machine: "m3", mode: bearing_inner, onset: At("3d"), growth: Exponential(rate_per_day: 0.1)),
        (machine: "m2", mode: looseness, onset: At("1w"), growth: Gamma(mean_per_day: 0.01)),
        (machine: "m1", mode: overheating, onset: Uniform(min: "12h", max: "36h"), initial: 0.2,
         growth: Wiener(drift_per_day: 0.03)),
    ],
    faults: [
        (machine: "m1", kind: BearingOuter(0.9), at: "6d"),
        (machine: "m1", kind: BearingInner(0.5), at: "3d", duration: "1d"),
        (machine: "m2", kind: Imbalance(1.2), at: "1h"),
        (machine: "m3", kind: Misalignment(0.2), at: "5d"),
        (machine: "m3", kind: Looseness(0.3), at: "2h"),
        (machine: "m4", kind: Overheating(0.8), at: "4d"),
        (machine: "m1", sensor: "vib", kind: StuckAt, at: "1d", duration: "2h"),
        (machine: "m1", sensor: "temp", kind: Drift(0.5), at: "1d"),
        (machine: "m2", sensor: "vib", kind: Bias(0.1), at: "2d"),
        (machine: "m2", sensor: "mic", kind: Gain(1.5), at: "2d"),
        (machine: "m3", sensor: "vib", kind: Spikes(rate_hz: 5, amplitude: 2.0), at: "3d"),
        (machine: "m4", sensor: "env", kind: Noise(3), at: "3d"),
        (machine: "m4", sensor: "baro", kind: Dropout, at: "10d", duration: "30m"),
        (machine: "m3", sensor: "vib", kind: Saturation(0.5), at: "12d"),
    ],
    random_faults: [
        (machines: Only(["m1", "m2"]), sensor: "vib", kind: Dropout, mtbf: "5d", duration: "2h"),
        (machines: Healthy, kind: Imbalance(0.5), mtbf: "20d", duration: "1d"),
        (machines: All, kind: Looseness(0.2), mtbf: "60d", duration: "6h"),
    ],
    network_faults: [(gateway: "l2-gw", kind: Outage, at: "2d", duration: "1h")],
    expect: [
        AlarmWithin(machine: "m1", within: "6h", level: Warning),
        AlarmWithin(machine: "m2", within: "1d"),
        NoAlarm(machines: Healthy),
        NoAlarm(machines: Only(["m4"]), level: Warning),
        NoAlarm(machines: All, level: Alarm),
        MessagesAtLeast(100),
        Fails("m1"),
        Survives("m4"),
    ],
)
"#;

/// Syntax variety: extension attribute, comments, raw and escaped strings,
/// explicit `Some`, named structs, extreme but valid values.
const TINY: &str = r##"#![enable(implicit_some)]
/* A tiny plant, /* nested */ comment. */
Scenario(
    name: r"tiny", // raw string
    description: "line\nbreak \u{e9} \"quoted\" é",
    seed: 18446744073709551615,
    start: "2026-01-01T00:00:00.5+02:00",
    duration: "1.5h",
    acquisition: Some(Acquisition(interval: Some("2s"), window_samples: 256)),
    ambient_c: -40, ambient_hpa: 1200, ambient_rh_pct: 0.0,
    sites: [Site(id: "s", lines: [Line(id: "l", machines: [
        Machine(id: "m1", kind: Spindle, rated_speed_rpm: 60000, rated_power_kw: Some(0.01),
            load: Some(Constant(1.2)),
            bearing: Some(BearingGeometry(rolling_elements: 3, ball_diameter_mm: 1, pitch_diameter_mm: 2, contact_angle_deg: 45)),
            limits: Limits(kurtosis_alarm: 12),
            sensors: [Sensor(id: "a", part: "iis3dwb", axes: Z, mounting: Adhesive)]),
    ])])],
    gateways: [Gateway(id: "g", machines: ["m1"], qos: Some(1), buffer: Some(Buffer(overflow: DropOldest)))],
    faults: [(machine: "m1", sensor: "a", kind: Spikes(amplitude: 1e6, rate_hz: 1e-6), at: "0s")],
    expect: [MessagesAtLeast(0)],
)
"##;

const SEEDS: [&str; 3] = [PLANT, WEAR, TINY];

// ---------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------

/// SplitMix64 (Steele, Lea & Flood 2014), built on the crate's finaliser.
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        let out = mix64(self.0);
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        out
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is irrelevant here).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `num / den`.
    fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------
// Dictionaries
// ---------------------------------------------------------------------------

/// Punctuation, literals and fragments inserted at random positions.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "'",
    "\\",
    "Some(",
    "None",
    "()",
    "r#\"",
    "\"#",
    "/*",
    "*/",
    "//",
    "\n",
    "\t",
    " ",
    "-1",
    "0",
    "1",
    "-0.0",
    "1e308",
    "-1e308",
    "NaN",
    "inf",
    "-inf",
    "18446744073709551616",
    "-9223372036854775809",
    "true",
    "'x'",
    "b\"x\"",
    "0x7f",
    "#![enable(implicit_some)]",
    "#![enable(unwrap_newtypes, unwrap_variant_newtypes)]",
    "é",
    "💥",
    "\u{0}",
    "\u{feff}",
    "\u{2028}",
    "\"\\u{110000}\"",
    "\"\\u{D800}\"",
    "\"unterminated",
    ", x: 1",
    "id: \"m1\",",
    "machine: \"m1\",",
    "sensor: \"vib\",",
];

/// Enum variants and struct names of the schema (field names are read from raw.rs).
const VARIANTS: &[&str] = &[
    "Scenario",
    "Acquisition",
    "Site",
    "Line",
    "Machine",
    "Sensor",
    "Gateway",
    "Limits",
    "BearingGeometry",
    "Bearing",
    "ZoneLimits",
    "Degradation",
    "Fault",
    "RandomFault",
    "Motor",
    "Pump",
    "Fan",
    "Spindle",
    "Compressor",
    "Conveyor",
    "Constant",
    "Steps",
    "Cycle",
    "Stud",
    "Adhesive",
    "Magnet",
    "Xyz",
    "X",
    "Y",
    "Z",
    "Json",
    "SparkplugB",
    "PerGateway",
    "PerDevice",
    "At",
    "Uniform",
    "Exponential",
    "Gamma",
    "Wiener",
    "bearing_outer",
    "bearing_inner",
    "imbalance",
    "misalignment",
    "looseness",
    "overheating",
    "BearingOuter",
    "BearingInner",
    "Imbalance",
    "Misalignment",
    "Looseness",
    "Overheating",
    "StuckAt",
    "Drift",
    "Bias",
    "Gain",
    "Spikes",
    "Noise",
    "Dropout",
    "Saturation",
    "All",
    "Healthy",
    "Only",
    "Warning",
    "Alarm",
    "AlarmWithin",
    "NoAlarm",
    "MessagesAtLeast",
    "Fails",
    "Survives",
    "Buffer",
    "DropOldest",
    "RejectNew",
    "NetworkFault",
    "Outage",
    "Latency",
    "Loss",
    "Partition",
    "Some",
    "None",
    "true",
    "r",
    "b",
    "_",
    "Scenari0",
];

/// Replacements for numbers.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-1",
    "1",
    "2",
    "3",
    "0.0",
    "-0.0",
    "0.5",
    "1e-9",
    "4.9e-324",
    "1e308",
    "-1e308",
    "1e309",
    "NaN",
    "inf",
    "-inf",
    "+1",
    "255",
    "256",
    "-129",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "99999999999999999999999999999999999999999.0",
    "60",
    "60000",
    "60001",
    "1048576",
    "1048577",
    "26667",
    "7000",
    "0x10",
    "0b11",
    "0o7",
    "1_000",
    "1.",
    ".5",
    "00",
    "1e",
    "1.2.3",
    "\"1\"",
];

/// Replacements for the contents of strings (ids, durations, parts, timestamps).
const STRINGS: &[&str] = &[
    "",
    " ",
    "0s",
    "0ns",
    "1ns",
    "1ms",
    "1s",
    "1d",
    "400d",
    "401d",
    "1e308d",
    "18446744073709551616ns",
    "999999999999999999999999999999d",
    "1000000000s",
    "-1s",
    "NaNh",
    "infd",
    "1.5.5h",
    ".h",
    "_h",
    "___",
    "1µs",
    "1 w",
    " 3h ",
    "10 parsecs",
    "m1",
    "m2",
    "m-motor",
    "vib",
    "temp",
    "IIS3DWB",
    "ism330dhcx",
    "IIS2DLPC",
    "STTS22H",
    "HTS221",
    "LPS22HH",
    "IMP34DT05",
    "IMP23ABSU",
    "IIS3DWX",
    "2026-01-01T00:00:00Z",
    "9999-12-31T23:59:60Z",
    "0000-01-01T00:00:00+23:59",
    "2026-02-30T00:00:00Z",
    "-2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00.9999999999999Z",
    "é",
    "💥💥",
    "a/b",
    "a b",
    "#",
    "+",
    "\\\"",
    "\\u{1F4A5}",
    "\\u{D800}",
    "\\x41",
    "\\",
    "\\n",
];

// ---------------------------------------------------------------------------
// Mutation
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    /// The contents of a string, quotes excluded.
    Str,
    Ident,
}

/// A rough RON tokenizer: numbers, string contents and identifiers, with comments
/// skipped. Good enough to aim mutations; never trusted for anything else.
fn tokens(b: &[u8]) -> Vec<(Kind, usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if c == b'"' {
            let start = i + 1;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            if i >= b.len() {
                break;
            }
            out.push((Kind::Str, start, i));
            i += 1;
        } else if c.is_ascii_digit()
            || ((c == b'-' || c == b'+' || c == b'.')
                && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let start = i;
            i += 1;
            while i < b.len() {
                let d = b[i];
                let exp_sign =
                    (d == b'-' || d == b'+') && matches!(b[i - 1], b'e' | b'E') && i > start + 1;
                if d.is_ascii_alphanumeric() || d == b'_' || d == b'.' || exp_sign {
                    i += 1;
                } else {
                    break;
                }
            }
            out.push((Kind::Number, start, i));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((Kind::Ident, start, i));
        } else {
            i += 1;
        }
    }
    out
}

/// Everything the mutator draws from.
struct Dict {
    tokens: Vec<String>,
    idents: Vec<String>,
    strings: Vec<String>,
}

impl Dict {
    fn new() -> Dict {
        // Field names straight from the raw types, so new fields are fuzzed too.
        let mut idents: Vec<String> = include_str!("raw.rs")
            .lines()
            .filter_map(|l| {
                let rest = l.trim().strip_prefix("pub ")?;
                let (name, _) = rest.split_once(':')?;
                (!name.contains(' ') && !name.contains('(')).then(|| name.to_string())
            })
            .collect();
        assert!(idents.len() > 50, "field names not found in raw.rs");
        idents.extend(VARIANTS.iter().map(|s| s.to_string()));
        let mut tokens: Vec<String> = TOKENS.iter().map(|s| s.to_string()).collect();
        tokens.extend(idents.iter().map(|f| format!("{f}: ")));
        tokens.extend(idents.iter().cloned());
        tokens.push(format!("\"{}\"", "x".repeat(100_000)));
        tokens.push(format!("\"{}\"", "é".repeat(5_000)));
        tokens.push("9".repeat(400));
        let mut strings: Vec<String> = STRINGS.iter().map(|s| s.to_string()).collect();
        strings.push("a".repeat(64));
        strings.push("a".repeat(65));
        strings.push("x".repeat(100_000));
        strings.push(format!("{}d", "9".repeat(400)));
        strings.push(format!("0.{}1s", "0".repeat(400)));
        Dict {
            tokens,
            idents,
            strings,
        }
    }
}

/// A random span of `b` (possibly empty), mostly short.
fn span(rng: &mut SplitMix, len: usize) -> (usize, usize) {
    let start = rng.below(len + 1);
    let max = match rng.below(8) {
        0 => len - start,
        1..=3 => 64.min(len - start),
        _ => 8.min(len - start),
    };
    (start, start + rng.below(max + 1))
}

/// Applies one random byte-level mutation to `b`; `other` is a seed to splice from.
fn havoc(rng: &mut SplitMix, dict: &Dict, b: &mut Vec<u8>, other: &[u8]) {
    let len = b.len();
    match rng.below(11) {
        // Bit flip (the text is repaired to UTF-8 afterwards, lossily).
        0 if len > 0 => {
            let i = rng.below(len);
            b[i] ^= 1 << rng.below(8);
        }
        // Byte set to an interesting value.
        1 if len > 0 => {
            let i = rng.below(len);
            b[i] = *rng.pick(b"\0\n\r\t \"'\\()[]{},:#/*-+.0189eENrbx\x7f\xc3\xff");
        }
        2 => {
            let (s, e) = span(rng, len);
            b.drain(s..e);
        }
        3 => {
            let (s, e) = span(rng, len);
            let copy = b[s..e].to_vec();
            let at = if rng.chance(1, 2) {
                e
            } else {
                rng.below(len + 1)
            };
            b.splice(at..at, copy);
        }
        4 => {
            let (s1, e1) = span(rng, len);
            let (s2, e2) = span(rng, len);
            let ((a0, a1), (b0, b1)) = if s1 <= s2 {
                ((s1, e1), (s2, e2))
            } else {
                ((s2, e2), (s1, e1))
            };
            if a1 <= b0 {
                let first = b[a0..a1].to_vec();
                let second = b[b0..b1].to_vec();
                b.splice(b0..b1, first);
                b.splice(a0..a1, second);
            }
        }
        5 | 6 => {
            let at = rng.below(len + 1);
            let tok = rng.pick(&dict.tokens).clone();
            b.splice(at..at, tok.into_bytes());
        }
        // Deep nesting, e.g. 300 × `[`.
        7 => {
            let at = rng.below(len + 1);
            let tok = *rng.pick(&["[", "(", "Some(", "[(", "{"]);
            let n = 1 + rng.below(400);
            b.splice(at..at, tok.repeat(n).into_bytes());
        }
        8 => b.truncate(rng.below(len + 1)),
        9 => {
            // A token replaced by any dictionary token.
            let kind = [Kind::Number, Kind::Ident, Kind::Str][rng.below(3)];
            replace_token(rng, b, kind, |rng| rng.pick(&dict.tokens).clone());
        }
        _ => {
            let (s, e) = span(rng, other.len());
            let at = rng.below(len + 1);
            b.splice(at..at, other[s..e].iter().copied());
        }
    }
}

/// Applies one mutation that mostly keeps the text well-formed, so that it
/// reaches validation: a value replaced, a list element or field deleted,
/// duplicated or moved.
fn structured(rng: &mut SplitMix, dict: &Dict, b: &mut Vec<u8>) {
    match rng.below(8) {
        0 | 1 => replace_token(rng, b, Kind::Number, |rng| rng.pick(NUMBERS).to_string()),
        2 | 3 => replace_token(rng, b, Kind::Str, |rng| rng.pick(&dict.strings).clone()),
        4 => replace_token(rng, b, Kind::Ident, |rng| rng.pick(&dict.idents).clone()),
        op => {
            let Some((s, e)) = element(rng, b) else {
                return;
            };
            match op {
                5 => {
                    b.drain(s..e);
                }
                6 => {
                    let copy = b[s..e].to_vec();
                    b.splice(e..e, copy);
                }
                _ => {
                    // Moved (copied) to the place of another element.
                    let copy = b[s..e].to_vec();
                    if let Some((t, _)) = element(rng, b) {
                        b.splice(t..t, copy);
                    }
                }
            }
        }
    }
}

/// A random list element or struct field with its separator: `, x` after a
/// comma, or `x,` after an opening bracket. Strings are skipped; comments are not
/// understood, which only makes the result less tidy.
fn element(rng: &mut SplitMix, b: &[u8]) -> Option<(usize, usize)> {
    let opens: Vec<usize> = b
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, b',' | b'(' | b'['))
        .map(|(i, _)| i)
        .collect();
    if opens.is_empty() {
        return None;
    }
    let at = *rng.pick(&opens);
    let mut depth = 0usize;
    let mut i = at + 1;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth > 0 => depth -= 1,
            b')' | b']' | b'}' => break,
            b',' if depth == 0 => break,
            _ => {}
        }
        i += 1;
    }
    let end = i.min(b.len());
    Some(if b[at] == b',' {
        (at, end)
    } else if b.get(end) == Some(&b',') {
        (at + 1, end + 1)
    } else {
        (at + 1, end)
    })
}

fn replace_token(
    rng: &mut SplitMix,
    b: &mut Vec<u8>,
    kind: Kind,
    with: impl FnOnce(&mut SplitMix) -> String,
) {
    let toks: Vec<_> = tokens(b).into_iter().filter(|t| t.0 == kind).collect();
    if toks.is_empty() {
        return;
    }
    let (_, s, e) = *rng.pick(&toks);
    let new = with(rng);
    b.splice(s..e, new.into_bytes());
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

/// What a rejected input must satisfy: a non-empty message, and every problem
/// located by a position inside the text or by a field path.
fn check_err(src: &str, e: &ScenarioError) -> Result<(), String> {
    if e.to_string().trim().is_empty() {
        return Err("empty error text".into());
    }
    let problems = e.problems();
    if problems.is_empty() {
        return Err("an error with no problems".into());
    }
    let lines = src.split('\n').count();
    for p in &problems {
        if p.line == 0 && p.path.is_empty() {
            return Err(format!("problem with neither position nor path: {p:?}"));
        }
        if p.message.trim().is_empty() {
            return Err(format!("problem with an empty message: {p:?}"));
        }
        if p.line > lines || (p.line > 0 && p.col == 0) {
            return Err(format!("position outside the text ({lines} lines): {p:?}"));
        }
    }
    Ok(())
}

/// Every number of an accepted scenario, named.
fn numbers(s: &Scenario) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = vec![
        ("ambient.celsius".into(), s.ambient.celsius),
        ("ambient.hpa".into(), s.ambient.hpa),
        ("ambient.rh_pct".into(), s.ambient.rh_pct),
    ];
    let sensor_fault = |name: String, f: &SensorFault, v: &mut Vec<(String, f64)>| match f {
        SensorFault::StuckAt | SensorFault::Dropout => {}
        SensorFault::Drift { per_hour: x }
        | SensorFault::Bias { offset: x }
        | SensorFault::Gain { factor: x }
        | SensorFault::Noise { factor: x }
        | SensorFault::Saturation { fraction: x } => v.push((name, *x)),
        SensorFault::Spikes { rate_hz, amplitude } => {
            v.push((format!("{name}.rate_hz"), *rate_hz));
            v.push((format!("{name}.amplitude"), *amplitude));
        }
    };
    for m in &s.machines {
        let id = &m.id;
        let l = &m.limits;
        v.extend([
            (format!("{id}.rated_speed_rpm"), m.rated_speed_rpm),
            (format!("{id}.rated_power_kw"), m.rated_power_kw),
            (format!("{id}.position.x"), m.position.0),
            (format!("{id}.position.y"), m.position.1),
            (format!("{id}.zones.ab"), l.zones.ab_mm_s),
            (format!("{id}.zones.bc"), l.zones.bc_mm_s),
            (format!("{id}.zones.cd"), l.zones.cd_mm_s),
            (format!("{id}.kurtosis_warning"), l.kurtosis_warning),
            (format!("{id}.kurtosis_alarm"), l.kurtosis_alarm),
            (
                format!("{id}.temperature_warning_c"),
                l.temperature_warning_c,
            ),
            (format!("{id}.temperature_alarm_c"), l.temperature_alarm_c),
            (format!("{id}.resonance_hz"), m.physics.resonance_hz),
            (format!("{id}.bearing.ball"), m.bearing.ball_diameter_mm),
            (format!("{id}.bearing.pitch"), m.bearing.pitch_diameter_mm),
            (format!("{id}.bearing.angle"), m.bearing.contact_angle_deg),
        ]);
        match &m.load {
            LoadProfile::Constant(x) => v.push((format!("{id}.load"), *x)),
            LoadProfile::Steps(steps) => {
                v.extend(steps.iter().map(|(_, x)| (format!("{id}.load.step"), *x)));
            }
            LoadProfile::Cycle { high, low, .. } => {
                v.push((format!("{id}.load.high"), *high));
                v.push((format!("{id}.load.low"), *low));
            }
        }
        for x in &m.sensors {
            v.push((format!("{id}.{}.odr_hz", x.id), x.odr_hz));
            v.push((format!("{id}.{}.full_scale", x.id), x.full_scale));
        }
    }
    for (i, d) in s.degradation.iter().enumerate() {
        let p = format!("degradation[{i}]");
        v.push((format!("{p}.initial"), d.initial));
        match d.growth {
            Growth::Exponential {
                rate_per_day,
                rate_cv,
                sigma_per_sqrt_day,
            } => v.extend([
                (format!("{p}.rate_per_day"), rate_per_day),
                (format!("{p}.rate_cv"), rate_cv),
                (format!("{p}.sigma_per_sqrt_day"), sigma_per_sqrt_day),
            ]),
            Growth::Gamma { mean_per_day, cv } => v.extend([
                (format!("{p}.mean_per_day"), mean_per_day),
                (format!("{p}.cv"), cv),
            ]),
            Growth::Wiener {
                drift_per_day,
                sigma_per_sqrt_day,
            } => v.extend([
                (format!("{p}.drift_per_day"), drift_per_day),
                (format!("{p}.sigma_per_sqrt_day"), sigma_per_sqrt_day),
            ]),
        }
    }
    for (i, f) in s.faults.iter().enumerate() {
        match &f.target {
            Target::Machine { severity, .. } => v.push((format!("faults[{i}]"), *severity)),
            Target::Sensor { fault, .. } => sensor_fault(format!("faults[{i}]"), fault, &mut v),
        }
    }
    for (i, f) in s.network_faults.iter().enumerate() {
        match f.kind {
            NetKind::Latency(x) | NetKind::Loss(x) => v.push((format!("network_faults[{i}]"), x)),
            NetKind::Outage | NetKind::Partition => {}
        }
    }
    for (i, r) in s.random_faults.iter().enumerate() {
        match &r.kind {
            FaultKind::Machine(_, x) => v.push((format!("random_faults[{i}]"), *x)),
            FaultKind::Sensor(f) => sensor_fault(format!("random_faults[{i}]"), f, &mut v),
        }
    }
    v
}

/// What an accepted scenario must satisfy so that building a world from it
/// cannot index out of bounds or compute with NaN.
fn check_ok(s: &Scenario) -> Result<(), String> {
    if let Some((name, x)) = numbers(s).into_iter().find(|(_, x)| !x.is_finite()) {
        return Err(format!("accepted a non-finite number: {name} = {x}"));
    }
    let n = s.machines.len();
    if n == 0 {
        return Err("accepted a scenario without machines".into());
    }
    if s.duration.0 == 0 || s.acquisition_interval.0 == 0 {
        return Err("accepted a zero duration or interval".into());
    }
    for (i, m) in s.machines.iter().enumerate() {
        if m.sensors.is_empty() {
            return Err(format!("machine {} has no sensors", m.id));
        }
        let served = s
            .gateways
            .get(m.gateway)
            .is_some_and(|g| g.machines.contains(&i));
        if !served {
            return Err(format!("machine {} has a bad gateway index", m.id));
        }
        for x in &m.sensors {
            let spec = x.part.spec();
            if !spec.has_odr(x.odr_hz) || spec.lsb_for(x.full_scale).is_none() {
                return Err(format!(
                    "sensor {}/{} has a bad ODR or full scale",
                    m.id, x.id
                ));
            }
        }
        if !(m.rated_speed_rpm.is_finite() && m.rated_power_kw.is_finite()) {
            return Err(format!("machine {} has non-finite ratings", m.id));
        }
    }
    if s.gateways
        .iter()
        .any(|g| g.machines.iter().any(|&i| i >= n))
    {
        return Err("gateway machine index out of range".into());
    }
    if s.degradation.iter().any(|d| d.machine >= n) {
        return Err("degradation machine index out of range".into());
    }
    for f in &s.faults {
        let Some(m) = s.machines.get(f.machine) else {
            return Err("fault machine index out of range".into());
        };
        if let Target::Sensor { sensor, .. } = f.target
            && sensor >= m.sensors.len()
        {
            return Err("fault sensor index out of range".into());
        }
    }
    if s.random_faults
        .iter()
        .any(|r| r.machines.iter().any(|&i| i >= n))
    {
        return Err("random fault machine index out of range".into());
    }
    if s.network_faults
        .iter()
        .any(|f| f.gateway >= s.gateways.len())
    {
        return Err("network fault gateway index out of range".into());
    }
    for e in &s.expect {
        let bad = match e {
            super::Expect::AlarmWithin { machine, .. }
            | super::Expect::Fails(machine)
            | super::Expect::Survives(machine) => *machine >= n,
            super::Expect::NoAlarm {
                machines: super::MachineSet::Only(v),
                ..
            } => v.iter().any(|&i| i >= n),
            _ => false,
        };
        if bad {
            return Err("expectation machine index out of range".into());
        }
        let _ = s.describe(e);
    }
    Ok(())
}

#[derive(Default)]
struct Tally {
    ok: usize,
    syntax: usize,
    invalid: usize,
}

/// Loads `src` under `catch_unwind` and checks the result; `Err` describes a
/// panic or a broken rule.
fn run_one(src: &str, tally: &mut Tally) -> Result<(), String> {
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        let r = from_str(src, "fuzz.ron");
        // Formatting is part of the contract too: it must not panic either.
        let text = r.as_ref().err().map(ToString::to_string);
        (r, text)
    }));
    let (r, _) = result.map_err(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string panic payload)".into());
        format!("PANIC: {msg}")
    })?;
    match &r {
        Ok(s) => {
            tally.ok += 1;
            check_ok(s)
        }
        Err(e) => {
            match e {
                ScenarioError::Syntax(_) => tally.syntax += 1,
                _ => tally.invalid += 1,
            }
            check_err(src, e)
        }
    }
}

fn excerpt(src: &str) -> String {
    const MAX: usize = 20_000;
    if src.len() <= MAX {
        return src.to_string();
    }
    let mut end = MAX;
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n… ({} more bytes)", &src[..end], src.len() - end)
}

// ---------------------------------------------------------------------------
// The fuzz test
// ---------------------------------------------------------------------------

/// Inputs per run; `FABTWIN_FUZZ_INPUTS` and `FABTWIN_FUZZ_SEED` override the
/// count and the seed for a longer hunt (`FABTWIN_FUZZ_INPUTS=2000000 cargo test …`).
const FUZZ_INPUTS: usize = 120_000;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn seeds_are_valid() {
    for (i, seed) in SEEDS.iter().enumerate() {
        let s = from_str(seed, "seed.ron").unwrap_or_else(|e| panic!("seed {i}:\n{e}"));
        check_ok(&s).unwrap_or_else(|e| panic!("seed {i}: {e}"));
    }
    let plant = from_str(PLANT, "plant.ron").unwrap();
    assert_eq!(plant.machines.len(), 6);
    assert_eq!(plant.gateways.len(), 2);
    assert_eq!(plant.network_faults.len(), 4);
    let wear = from_str(WEAR, "wear.ron").unwrap();
    assert_eq!(wear.degradation.len(), 6);
    assert_eq!(wear.faults.len(), 14);
    assert_eq!(wear.random_faults.len(), 3);
    assert_eq!(wear.expect.len(), 8);
}

#[test]
fn mutated_scenarios_never_panic() {
    let started = Instant::now();
    let dict = Dict::new();
    let inputs = env_or("FABTWIN_FUZZ_INPUTS", FUZZ_INPUTS);
    let mut rng = SplitMix(env_or("FABTWIN_FUZZ_SEED", 0x5eed_f00d));
    let mut tally = Tally::default();
    // Inputs that got past the parser are mutated further (bounded pool), so the
    // fuzzer reaches deep into validation instead of stopping at syntax errors.
    let mut pool: Vec<Vec<u8>> = SEEDS.iter().map(|s| s.as_bytes().to_vec()).collect();
    for n in 0..inputs {
        let mut b = if rng.chance(1, 3) {
            SEEDS[rng.below(SEEDS.len())].as_bytes().to_vec()
        } else {
            rng.pick(&pool).clone()
        };
        let other = SEEDS[rng.below(SEEDS.len())].as_bytes();
        let rounds = 1 + rng.below(3);
        let keep_shape = rng.chance(3, 5);
        for _ in 0..rounds {
            if keep_shape {
                structured(&mut rng, &dict, &mut b);
            } else {
                havoc(&mut rng, &dict, &mut b, other);
            }
        }
        let src = String::from_utf8_lossy(&b).into_owned();
        let invalid_before = tally.invalid + tally.ok;
        if let Err(why) = run_one(&src, &mut tally) {
            panic!(
                "input #{n} broke scenario loading: {why}\n--- input ({} bytes) ---\n{}",
                src.len(),
                excerpt(&src)
            );
        }
        let parsed = tally.invalid + tally.ok > invalid_before;
        if parsed && src.len() < 64 * 1024 {
            if pool.len() < 512 {
                pool.push(src.into_bytes());
            } else {
                let slot = rng.below(pool.len());
                pool[slot] = src.into_bytes();
            }
        }
    }
    let elapsed = started.elapsed();
    println!(
        "fuzzed {inputs} inputs in {:.1} s: {} accepted, {} syntax/type errors, {} invalid",
        elapsed.as_secs_f64(),
        tally.ok,
        tally.syntax,
        tally.invalid
    );
    assert_eq!(tally.ok + tally.syntax + tally.invalid, inputs);
    // The fuzzer must exercise validation, not only the parser.
    assert!(
        tally.invalid > inputs / 10,
        "only {} inputs reached validation",
        tally.invalid
    );
    assert!(
        tally.ok > inputs / 100,
        "only {} inputs were accepted",
        tally.ok
    );
}

#[test]
fn deep_nesting_and_huge_inputs_are_errors() {
    let mut tally = Tally::default();
    for (i, src) in [
        "[".repeat(100_000),
        "Some(".repeat(100_000),
        format!("Scenario(name: {}", "(".repeat(100_000)),
        format!(
            "Scenario(name: \"a\", duration: \"1h\", sites: {})",
            "[".repeat(10_000)
        ),
        format!(
            "Scenario(name: \"{}\", duration: \"1h\", sites: [])",
            "x".repeat(1 << 20)
        ),
        String::new(),
        "\u{feff}".into(),
        "Scenario".into(),
        "Scenario()".into(),
    ]
    .iter()
    .enumerate()
    {
        let r = run_one(src, &mut tally);
        assert!(r.is_ok(), "input {i}: {r:?}");
    }
    assert_eq!(tally.ok, 0);
}

// ---------------------------------------------------------------------------
// Golden error texts
// ---------------------------------------------------------------------------

/// The problems of `src`, which must be rejected.
fn problems(src: &str) -> (Vec<Problem>, String) {
    match from_str(src, "golden.ron") {
        Ok(_) => panic!("accepted:\n{src}"),
        Err(e) => (e.problems(), e.to_string()),
    }
}

/// A one-machine scenario whose machine entry is `machine` (one line, starting
/// at line 5, column 9) and with `tail` appended after `sites`.
fn one_machine(machine: &str, tail: &str) -> String {
    format!(
        "Scenario(\n    name: \"golden\",\n    duration: \"1d\",\n    sites: [(id: \"s\", lines: [(id: \"l\", machines: [\n        {machine},\n    ])])],\n{tail})\n"
    )
}

#[test]
fn unknown_part_lists_the_known_parts() {
    let src = one_machine(
        r#"(id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "vib", part: "IIS3DWX")])"#,
        "",
    );
    let (_, text) = problems(&src);
    assert_eq!(
        text,
        "golden.ron:5:84: sites[0].lines[0].machines[0].sensors[0].part: unknown part `IIS3DWX` \
         (known: IIS3DWB, ISM330DHCX, IIS2DLPC, STTS22H, HTS221, LPS22HH, IMP34DT05, IMP23ABSU)"
    );
}

#[test]
fn odr_not_of_the_part_points_at_the_value() {
    let src = one_machine(
        r#"(id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "vib", part: "IIS3DWB", odr_hz: 7000)])"#,
        "",
    );
    let (p, text) = problems(&src);
    assert_eq!(
        text,
        "golden.ron:5:103: sites[0].lines[0].machines[0].sensors[0].odr_hz: 7000 is not an ODR of IIS3DWB (valid: 26667)"
    );
    let line = src.lines().nth(p[0].line - 1).unwrap();
    assert!(line[p[0].col - 1..].starts_with("7000)"), "{line}");
    // Written with `Some(…)` and behind comments on the next line, the value itself
    // is still pointed at.
    let src = "Scenario(name: \"g\", duration: \"1d\", sites: [(id: \"s\", lines: [(id: \"l\", machines: [\n\
               (id: \"m1\", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: \"vib\", part: \"ISM330DHCX\",\n\
               \x20 odr_hz: Some( // the rate\n\
               \x20   /* a /* nested */ comment */ 7000.5),\n\
               )])])])])\n";
    let (_, text) = problems(src);
    assert_eq!(
        text,
        "golden.ron:4:34: sites[0].lines[0].machines[0].sensors[0].odr_hz: 7000.5 is not an ODR of ISM330DHCX \
         (valid: 12.5, 26, 52, 104, 208, 416, 833, 1666, 3332, 6667)"
    );
}

#[test]
fn impossible_bearing_geometry_is_explained() {
    let bearing = |geometry: &str| {
        one_machine(
            &format!(
                r#"(id: "m1", kind: Motor, rated_speed_rpm: 1480, bearing: {geometry}, sensors: [(id: "v", part: "IIS3DWB")])"#
            ),
            "",
        )
    };
    let (_, text) = problems(&bearing(
        "(rolling_elements: 20, ball_diameter_mm: 7.94, pitch_diameter_mm: 39.04, contact_angle_deg: 0)",
    ));
    assert_eq!(
        text,
        "golden.ron:5:65: sites[0].lines[0].machines[0].bearing: impossible bearing geometry: \
         20 balls of 7.94 mm do not fit on a 39.04 mm pitch circle (need n·d < π·D = 122.6 mm)"
    );
    let (_, text) = problems(&bearing(
        "(rolling_elements: 9, ball_diameter_mm: 40, pitch_diameter_mm: 39.04, contact_angle_deg: 0)",
    ));
    assert_eq!(
        text,
        "golden.ron:5:65: sites[0].lines[0].machines[0].bearing: impossible bearing geometry: \
         ball_diameter_mm 40 must be smaller than pitch_diameter_mm 39.04"
    );
    let (_, text) = problems(&bearing(
        "(rolling_elements: 9, ball_diameter_mm: 7.94, pitch_diameter_mm: 39.04, contact_angle_deg: 60)",
    ));
    assert_eq!(
        text,
        "golden.ron:5:65: sites[0].lines[0].machines[0].bearing: impossible bearing geometry: \
         contact_angle_deg 60 is not 0 … 45"
    );
}

#[test]
fn faults_on_missing_machines_and_sensors_name_what_exists() {
    let src = one_machine(
        r#"(id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "vib", part: "IIS3DWB"), (id: "t", part: "STTS22H")])"#,
        r#"    faults: [
        (machine: "m9", kind: Imbalance(0.5), at: "1h"),
        (machine: "m1", sensor: "temp", kind: StuckAt, at: "1h"),
    ],
"#,
    );
    let (p, text) = problems(&src);
    assert_eq!(p.len(), 2);
    assert_eq!(
        text,
        "golden.ron:8:19: faults[0].machine: no machine `m9` in this scenario (known: m1)\n\
         golden.ron:9:33: faults[1].sensor: machine `m1` has no sensor `temp` (known: vib, t)"
    );
}

#[test]
fn unknown_field_is_refused_with_its_position() {
    let src = one_machine(
        r#"(id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "vib", part: "IIS3DWB", odr: 26667)])"#,
        "",
    );
    let (p, text) = problems(&src);
    assert_eq!(p.len(), 1);
    // Column 95 is the `o` of `odr`.
    assert_eq!(
        text,
        "golden.ron:5:95: sites[0].lines[0].machines[0].sensors[0].odr: Unexpected field named `odr` in `Sensor`, \
         expected one of `id`, `part`, `mounting`, `axes`, `vertical`, `odr_hz`, or `full_scale` instead"
    );
    // Inside an enum's struct variant too (a misspelt optional field must not be
    // silently ignored).
    let src = one_machine(
        r#"(id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "v", part: "IIS3DWB")])"#,
        r#"    degradation: [(machine: "m1", mode: imbalance, onset: At("1d"),
                   growth: Exponential(rate_per_day: 0.2, rate_vc: 0.3))],
"#,
    );
    let (_, text) = problems(&src);
    assert_eq!(
        text,
        "golden.ron:8:59: degradation[0].growth.Exponential.rate_vc: Unexpected field named `rate_vc` in `Exponential`, \
         expected one of `rate_per_day`, `rate_cv`, or `sigma_per_sqrt_day` instead"
    );
}

#[test]
fn syntax_error_has_a_position() {
    // The missing comma is found at the next field.
    let src = "Scenario(\n    name: \"golden\"\n    duration: \"1d\",\n)\n";
    let (p, text) = problems(src);
    assert_eq!(p.len(), 1);
    assert_eq!(text, "golden.ron:3:5: Expected comma");
    let src = one_machine(
        r#"(id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "v", part: "IIS3DWB"])"#,
        "",
    );
    let (_, text) = problems(&src);
    // Column 91 is the stray `]`.
    assert_eq!(
        text,
        "golden.ron:5:91: sites[0].lines[0].machines[0].sensors[0]: Expected comma"
    );
    // A type error, with the path of the field.
    let (_, text) = problems(
        "Scenario(name: \"golden\", duration: \"1d\", sites: [], seed: 18446744073709551616)",
    );
    assert_eq!(text, "golden.ron:1:59: seed: Integer is out of bounds");
}

#[test]
fn a_scenario_without_machines_is_refused() {
    for sites in [
        "[]",
        r#"[(id: "s", lines: [])]"#,
        r#"[(id: "s", lines: [(id: "l", machines: [])])]"#,
    ] {
        let (_, text) = problems(&format!(
            "Scenario(name: \"golden\", duration: \"1d\", sites: {sites})"
        ));
        assert_eq!(
            text,
            "golden.ron: sites: a scenario needs at least one site with one line and one machine"
        );
    }
}

#[test]
fn random_fault_on_a_sensor_no_machine_has_is_refused() {
    let src = one_machine(
        r#"(id: "m1", kind: Motor, rated_speed_rpm: 1480, sensors: [(id: "vib", part: "IIS3DWB"), (id: "t", part: "STTS22H")])"#,
        r#"    random_faults: [(machines: All, sensor: "vibe", kind: Dropout, mtbf: "1d", duration: "1h")],
"#,
    );
    let (_, text) = problems(&src);
    assert_eq!(
        text,
        "golden.ron:7:45: random_faults[0].sensor: none of this rule's machines has a sensor `vibe` (known: t, vib)"
    );
}

#[test]
fn every_problem_in_a_file_is_reported() {
    let src = r#"Scenario(
    name: "bad name",
    duration: "3 fortnights",
    sites: [(id: "s", lines: [(id: "l", machines: [
        (id: "m1", kind: Motor, rated_speed_rpm: 90000,
         sensors: [(id: "vib", part: "IIS3DWB", odr_hz: 7000, full_scale: 3)]),
        (id: "m1", kind: Fan, rated_speed_rpm: 1000, sensors: []),
    ])])],
    faults: [(machine: "m2", kind: Imbalance(5), at: "1h")],
    expect: [Fails("m3"), MessagesAtLeast(1)],
)
"#;
    let (p, text) = problems(src);
    // Ten problems, in file order; the invalid duration is reported once, not
    // again as "fault after the end of the run".
    assert_eq!(p.len(), 10);
    let expected = [
        "golden.ron:2:11: name: `bad name` is not a valid id (1–64 characters of A–Z, a–z, 0–9, `-`, `_`; ids become MQTT topic levels)",
        "golden.ron:3:15: duration: `3 fortnights` has unknown unit `fortnights` (valid: ns, us, ms, s, m, h, d, w)",
        "golden.ron:5:50: sites[0].lines[0].machines[0].rated_speed_rpm: 90000 is out of range (valid: 60 … 60000 rpm)",
        "golden.ron:6:57: sites[0].lines[0].machines[0].sensors[0].odr_hz: 7000 is not an ODR of IIS3DWB (valid: 26667)",
        "golden.ron:6:75: sites[0].lines[0].machines[0].sensors[0].full_scale: 3 g is not a full scale of IIS3DWB (valid: 2, 4, 8, 16)",
        "golden.ron:7:14: sites[0].lines[0].machines[1].sensors: a machine needs at least one sensor (its device sends what its sensors measure)",
        "golden.ron:7:14: sites[0].lines[0].machines[1].id: machine id `m1` is used twice (machine ids are device ids and must be unique)",
        "golden.ron:9:24: faults[0].machine: no machine `m2` in this scenario (known: m1)",
        "golden.ron:9:46: faults[0].kind: 5 is out of range (valid: 0 … 2 (severity; 1 is the failure threshold))",
        "golden.ron:10:20: expect[0].machine: no machine `m3` in this scenario (known: m1)",
    ];
    assert_eq!(text, expected.join("\n"));
}

#[test]
fn non_finite_numbers_are_refused_where_they_stand() {
    let src = one_machine(
        r#"(id: "m1", kind: Motor, rated_speed_rpm: NaN, position: (inf, 0), limits: (kurtosis_alarm: NaN), sensors: [(id: "v", part: "IIS3DWB")])"#,
        r#"    degradation: [(machine: "m1", mode: imbalance, onset: At("1d"), growth: Gamma(mean_per_day: 0.1, cv: -inf))],
"#,
    );
    let (p, text) = problems(&src);
    assert_eq!(p.len(), 4, "{text}");
    let expected = [
        "golden.ron:5:50: sites[0].lines[0].machines[0].rated_speed_rpm: NaN is out of range (valid: 60 … 60000 rpm)",
        "golden.ron:5:65: sites[0].lines[0].machines[0].position: (inf, 0) is out of range (valid: x and y within ±1000000 m)",
        "golden.ron:5:100: sites[0].lines[0].machines[0].limits.kurtosis_alarm: NaN is out of range (valid: 1 … 1000)",
        "golden.ron:7:106: degradation[0].growth.cv: -inf is out of range (valid: 0 … 10)",
    ];
    assert_eq!(text, expected.join("\n"));
}

#[test]
fn scenario_files_in_the_repository_validate() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("no {} directory; skipped", dir.display());
        return;
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    if files.is_empty() {
        eprintln!("no .ron files in {}; skipped", dir.display());
        return;
    }
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| super::load(f).err().map(|e| e.to_string()))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
