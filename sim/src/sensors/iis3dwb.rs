//! IIS3DWB: ultra-wide bandwidth, low-noise 3-axis accelerometer for vibration monitoring.

use super::{Measures, PartSpec};

/// Datasheet figures of the IIS3DWB.
pub const SPEC: PartSpec = PartSpec {
    name: "IIS3DWB",
    measures: Measures::Vibration,
    // One rate only: IIS3DWB_XL_ODR_26k7Hz (STMicroelectronics/iis3dwb-pid, iis3dwb_reg.h).
    odrs_hz: &[26_667.0],
    // ±2/±4/±8/±16 g (iis3dwb_fs_xl_t).
    full_scales: &[2.0, 4.0, 8.0, 16.0],
    // 0.061/0.122/0.244/0.488 mg/LSB, 16-bit (iis3dwb_from_fs*g_to_mg).
    lsb: &[0.061e-3, 0.122e-3, 0.244e-3, 0.488e-3],
    unit: "g",
    range_min: -16.0,
    // 75 µg/√Hz in 3-axis mode: the figure of the sibling IIS3DWBG1 datasheet (features
    // page); the IIS3DWB's own figure was not available to us.
    noise_density: 75e-6,
    noise_rms: 0.0,
    accuracy: 0.0,
    // 3 KB FIFO (STMems_Standard_C_drivers, iis3dwb_STdC/README.md).
    fifo_bytes: 3 * 1024,
    // Digital LPF default IIS3DWB_LP_6k3Hz; analog bandwidth "dc to 6 kHz (±3 dB)".
    enbw_hz: |_| 6_300.0,
};
