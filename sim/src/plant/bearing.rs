//! Rolling-element bearing geometry and its defect frequencies.
//!
//! Formulas (outer race stationary), Randall & Antoni 2011, "Rolling element
//! bearing diagnostics — A tutorial", MSSP 25(2); same set as MathWorks
//! `bearingFaultBands`: with n elements, ball diameter d, pitch diameter D,
//! contact angle φ and shaft frequency fr:
//! BPFO = n/2·fr·(1 − d/D·cos φ), BPFI = n/2·fr·(1 + d/D·cos φ),
//! BSF = D/(2d)·fr·(1 − (d/D·cos φ)²), FTF = fr/2·(1 − d/D·cos φ).

use serde::{Deserialize, Serialize};

/// Geometry of a rolling-element bearing.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BearingGeometry {
    /// Number of rolling elements.
    pub rolling_elements: u32,
    /// Ball (roller) diameter, mm.
    pub ball_diameter_mm: f64,
    /// Pitch diameter, mm.
    pub pitch_diameter_mm: f64,
    /// Contact angle, degrees.
    pub contact_angle_deg: f64,
}

/// Defect frequencies as multiples of shaft speed ("orders").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DefectOrders {
    /// Ball pass frequency, outer race.
    pub bpfo: f64,
    /// Ball pass frequency, inner race.
    pub bpfi: f64,
    /// Ball spin frequency.
    pub bsf: f64,
    /// Fundamental train (cage) frequency.
    pub ftf: f64,
}

impl BearingGeometry {
    /// SKF 6205-2RS JEM, the CWRU drive-end bearing: 9 balls, 7.94 mm, pitch 39.04 mm, 0°.
    pub const SKF_6205: BearingGeometry = BearingGeometry {
        rolling_elements: 9,
        ball_diameter_mm: 7.94,
        pitch_diameter_mm: 39.04,
        contact_angle_deg: 0.0,
    };

    /// Why this geometry cannot exist, if it cannot.
    pub fn problem(&self) -> Option<String> {
        let (n, d, p, a) = (
            self.rolling_elements,
            self.ball_diameter_mm,
            self.pitch_diameter_mm,
            self.contact_angle_deg,
        );
        if !(3..=100).contains(&n) {
            return Some(format!("rolling_elements {n} is not 3 … 100"));
        }
        if !(d.is_finite() && d > 0.0 && p.is_finite() && p > 0.0) {
            return Some("ball and pitch diameters must be positive, in mm".into());
        }
        if d >= p {
            return Some(format!(
                "ball_diameter_mm {d} must be smaller than pitch_diameter_mm {p}"
            ));
        }
        // n balls of diameter d must fit on the pitch circle: n·d < π·D.
        if f64::from(n) * d >= std::f64::consts::PI * p {
            return Some(format!(
                "{n} balls of {d} mm do not fit on a {p} mm pitch circle (need n·d < π·D = {:.1} mm)",
                std::f64::consts::PI * p
            ));
        }
        if !(0.0..=45.0).contains(&a) {
            return Some(format!("contact_angle_deg {a} is not 0 … 45"));
        }
        None
    }

    /// The defect orders of this bearing.
    pub fn orders(&self) -> DefectOrders {
        let n = f64::from(self.rolling_elements);
        let r = self.ball_diameter_mm / self.pitch_diameter_mm
            * self.contact_angle_deg.to_radians().cos();
        DefectOrders {
            bpfo: n / 2.0 * (1.0 - r),
            bpfi: n / 2.0 * (1.0 + r),
            bsf: self.pitch_diameter_mm / (2.0 * self.ball_diameter_mm) * (1.0 - r * r),
            ftf: 0.5 * (1.0 - r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cwru_drive_end_orders() {
        // CWRU Bearing Data Center: BPFI 5.4152, BPFO 3.5848, FTF 0.39828, 2·BSF 4.7135.
        let o = BearingGeometry::SKF_6205.orders();
        assert!((o.bpfo - 3.5848).abs() < 1e-3, "{o:?}");
        assert!((o.bpfi - 5.4152).abs() < 1e-3);
        assert!((o.ftf - 0.39828).abs() < 1e-3);
        assert!((2.0 * o.bsf - 4.7135).abs() < 1e-3);
        // 107.36 Hz at 1797 rpm.
        assert!((o.bpfo * 1797.0 / 60.0 - 107.36).abs() < 0.02);
    }

    #[test]
    fn impossible_geometry_is_named() {
        let mut g = BearingGeometry::SKF_6205;
        g.ball_diameter_mm = 50.0;
        assert!(g.problem().unwrap().contains("smaller than"));
        g = BearingGeometry::SKF_6205;
        g.rolling_elements = 20;
        assert!(g.problem().unwrap().contains("do not fit"));
        assert!(BearingGeometry::SKF_6205.problem().is_none());
    }
}
