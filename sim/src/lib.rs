//! # fabtwin-sim: the model
//!
//! A pure, deterministic simulation of factory machines and the
//! STMicroelectronics sensors on them. Nothing here opens a socket, sleeps or
//! reads a clock: the core produces values; adapters (`fabtwin-bridge`) move them.
//!
//! ```
//! use fabtwin_sim::{scenario, world::World, device::Fidelity};
//!
//! let src = r#"Scenario(
//!     name: "doc", duration: "30m", acquisition: (interval: "10m"),
//!     sites: [(id: "s", lines: [(id: "l", machines: [
//!         (id: "pump1", kind: Pump, rated_speed_rpm: 2950,
//!          sensors: [(id: "vib", part: "IIS3DWB"), (id: "temp", part: "STTS22H")]),
//!     ])])],
//! )"#;
//! let sc = scenario::from_str(src, "doc.ron").unwrap();
//! let mut world = World::new(sc, Fidelity::Features);
//! let mut messages = 0;
//! while let Some(step) = world.step() {
//!     messages += step.telemetry.len();
//! }
//! assert_eq!(messages, 3); // windows at 0, 10 and 20 min, published every 10 min
//! ```
//!
//! Map: [`scenario`] (files → validated [`scenario::Scenario`]), [`plant`]
//! (machines and their physics), [`signal`] (what an accelerometer sees),
//! [`sensors`] (ST parts), [`degradation`] and [`faults`], [`edge`] (features a
//! device computes), [`device`] (acquisition in two fidelities), [`world`] (the
//! stepping loop), [`telemetry`] and [`truth`] (its two outputs, kept apart),
//! [`expect`] (CI assertions).

pub mod degradation;
pub mod device;
pub mod edge;
pub mod expect;
pub mod faults;
pub mod flow;
pub mod plant;
pub mod rng;
pub mod scenario;
pub mod score;
pub mod sensors;
pub mod signal;
pub mod telemetry;
pub mod time;
pub mod truth;
pub mod units;
pub mod world;

#[cfg(test)]
mod signature_tests;
