//! First-order thermal model of a bearing housing.
//!
//! dT/dt = (T_ss − T)/τ with steady state T_ss = ambient + rise·load² (copper and
//! friction losses grow with the square of load) + extra heat from an
//! overheating fault. Between updates the load is constant, so the step is the
//! exact solution, not an Euler approximation: any step size gives the same curve.

/// Thermal state of one machine.
#[derive(Clone, Debug, PartialEq)]
pub struct Thermal {
    /// Current temperature, °C.
    pub temperature_c: f64,
    /// Rise above ambient at full load, °C.
    pub rise_full_load_c: f64,
    /// Time constant, s.
    pub tau_s: f64,
}

/// Extra temperature rise at overheating severity 1 (the failure threshold), °C.
pub const OVERHEAT_RISE_AT_FAILURE_C: f64 = 60.0;

impl Thermal {
    /// Steady-state temperature for the given conditions, °C.
    pub fn steady_state(&self, ambient_c: f64, load: f64, overheating: f64) -> f64 {
        ambient_c + self.rise_full_load_c * load * load + OVERHEAT_RISE_AT_FAILURE_C * overheating
    }

    /// Advances `dt_s` seconds at constant conditions and returns the new temperature.
    pub fn step(&mut self, dt_s: f64, ambient_c: f64, load: f64, overheating: f64) -> f64 {
        let ss = self.steady_state(ambient_c, load, overheating);
        let k = (-dt_s / self.tau_s).exp();
        self.temperature_c = ss + (self.temperature_c - ss) * k;
        self.temperature_c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_step_is_independent_of_step_size() {
        let mut a = Thermal {
            temperature_c: 20.0,
            rise_full_load_c: 40.0,
            tau_s: 600.0,
        };
        let mut b = a.clone();
        a.step(600.0, 20.0, 1.0, 0.0);
        for _ in 0..60 {
            b.step(10.0, 20.0, 1.0, 0.0);
        }
        assert!((a.temperature_c - b.temperature_c).abs() < 1e-9);
        // One time constant: 63.2 % of the 40 °C rise.
        assert!((a.temperature_c - (20.0 + 40.0 * (1.0 - (-1.0f64).exp()))).abs() < 1e-9);
    }
}
