//! Material flow on production lines: parts moving between stations on belt
//! conveyors, simulated with rapier3d (enhanced determinism) at a fixed tick.
//!
//! [`model`] is the validated layout (what a twin draws), [`line`] runs it and
//! reports conveyor and station sensors and KPIs.

pub mod line;
pub mod model;

pub use line::{
    ConveyorSample, ConveyorState, JamRecord, Kpi, LineSample, LineSim, StationSample,
    StationState, StationTotals, TICK,
};
pub use model::*;

#[cfg(test)]
mod tests;
