//! Physical units as newtypes, so a g can never be added to a m/s².
//!
//! Only the conversions the model needs are provided; each names its unit.

use serde::{Deserialize, Serialize};

/// Standard gravity, m/s² per g (ISO 80000-3; ST's MotionSP uses the same `G_CONST`).
pub const STANDARD_GRAVITY: f64 = 9.806_65;

macro_rules! unit {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub f64);

        impl std::ops::Add for $name {
            type Output = Self;
            fn add(self, rhs: Self) -> Self {
                Self(self.0 + rhs.0)
            }
        }

        impl std::ops::Sub for $name {
            type Output = Self;
            fn sub(self, rhs: Self) -> Self {
                Self(self.0 - rhs.0)
            }
        }

        impl std::ops::Mul<f64> for $name {
            type Output = Self;
            fn mul(self, rhs: f64) -> Self {
                Self(self.0 * rhs)
            }
        }
    };
}

unit!(
    /// A frequency in hertz.
    Hertz
);
unit!(
    /// A shaft speed in revolutions per minute.
    Rpm
);
unit!(
    /// A temperature in degrees Celsius.
    Celsius
);
unit!(
    /// An acceleration in standard gravities (g).
    Gs
);
unit!(
    /// An acceleration in metres per second squared.
    MetresPerSecondSquared
);
unit!(
    /// A vibration velocity in millimetres per second.
    MillimetresPerSecond
);
unit!(
    /// An electric current in amperes.
    Amperes
);
unit!(
    /// A power in kilowatts.
    Kilowatts
);
unit!(
    /// A length in millimetres.
    Millimetres
);
unit!(
    /// An angle in degrees.
    Degrees
);

impl Rpm {
    /// Shaft rotation frequency.
    pub fn to_hertz(self) -> Hertz {
        Hertz(self.0 / 60.0)
    }
}

impl Hertz {
    /// Angular frequency in rad/s.
    pub fn radians_per_second(self) -> f64 {
        std::f64::consts::TAU * self.0
    }
}

impl Gs {
    /// The same acceleration in m/s².
    pub fn to_si(self) -> MetresPerSecondSquared {
        MetresPerSecondSquared(self.0 * STANDARD_GRAVITY)
    }
}

impl MetresPerSecondSquared {
    /// The same acceleration in g.
    pub fn to_g(self) -> Gs {
        Gs(self.0 / STANDARD_GRAVITY)
    }
}

impl Degrees {
    /// The angle in radians.
    pub fn to_radians(self) -> f64 {
        self.0.to_radians()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_round_trips_through_si() {
        let a = Gs(1.5);
        assert!((a.to_si().to_g().0 - 1.5).abs() < 1e-12);
        assert!((Gs(1.0).to_si().0 - 9.806_65).abs() < 1e-12);
    }

    #[test]
    fn rpm_to_hertz() {
        assert!((Rpm(1797.0).to_hertz().0 - 29.95).abs() < 1e-12);
    }
}
