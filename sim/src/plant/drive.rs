//! The drive: how fast an induction motor turns on its supply at a given load.

/// Full-load slip of an inverter-fed drive whose nameplate speed matches no pole
/// count of its supply (a spindle at 12 000 rpm): the inverter runs at the
/// frequency of the nameplate speed and the motor still slips with torque
/// (2 % is typical of standard-efficiency induction motors, IEC 60034-30-1 class IE2).
const INVERTER_SLIP: f64 = 0.02;
/// Largest rated slip taken as that of a mains-fed induction motor (NEMA design B
/// and IEC IE2/IE3 motors slip 0.5–5 % at rated load; 8 % leaves room for small ones).
const MAX_MAINS_SLIP: f64 = 0.08;

/// Synchronous speed, rpm, of a drive with nameplate speed `rated_rpm` on a
/// `supply_hz` supply: 120·f/p for the pole count p whose synchronous speed lies
/// just above the nameplate, or, where none fits (an inverter-fed drive), the
/// speed the inverter's frequency sets.
pub fn synchronous_rpm(rated_rpm: f64, supply_hz: f64) -> f64 {
    (1..=12)
        .rev()
        .map(|pairs| 60.0 * supply_hz / pairs as f64)
        .find(|&sync| sync > rated_rpm)
        .filter(|&sync| (sync - rated_rpm) / sync <= MAX_MAINS_SLIP)
        .unwrap_or(rated_rpm / (1.0 - INVERTER_SLIP))
}

/// Shaft speed, Hz, at `load` (fraction of rated): slip grows in proportion to
/// torque, so the nameplate speed holds at rated load and no-load runs near
/// synchronous speed.
pub fn shaft_hz(rated_rpm: f64, supply_hz: f64, load: f64) -> f64 {
    let sync = synchronous_rpm(rated_rpm, supply_hz);
    (sync - (sync - rated_rpm) * load.max(0.0)) / 60.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameplate_speed_holds_at_rated_load_and_no_load_runs_near_synchronous() {
        // A 4-pole 1480 rpm motor on 50 Hz: synchronous 1500 rpm.
        assert_eq!(synchronous_rpm(1480.0, 50.0), 1500.0);
        assert!((shaft_hz(1480.0, 50.0, 1.0) * 60.0 - 1480.0).abs() < 1e-9);
        assert!((shaft_hz(1480.0, 50.0, 0.0) * 60.0 - 1500.0).abs() < 1e-9);
        assert!(shaft_hz(1480.0, 50.0, 0.5) * 60.0 > 1480.0);
        // The same frame on 60 Hz: 1780 rpm nameplate, 1800 synchronous.
        assert_eq!(synchronous_rpm(1780.0, 60.0), 1800.0);
        assert_eq!(synchronous_rpm(2950.0, 50.0), 3000.0);
        assert_eq!(synchronous_rpm(980.0, 50.0), 1000.0);
        // A 12 000 rpm spindle matches no pole count: inverter-fed.
        let spindle = synchronous_rpm(12_000.0, 50.0);
        assert!((spindle / 12_000.0 - 1.0 / 0.98).abs() < 1e-12);
        assert!((shaft_hz(12_000.0, 50.0, 1.0) * 60.0 - 12_000.0).abs() < 1e-9);
    }
}
