//! The way back from the broker to the twin: [`link`] is one MQTT session that
//! subscribes to the whole topic tree and publishes the twin's commands;
//! [`state`] turns each message into [`state::TwinState`], purely.
//!
//! It reads the same topics a team's pipeline reads (see [`crate::topics`]), so
//! the twin works unchanged against real devices. Sparkplug B trees are not
//! mirrored.

pub mod link;
pub mod pace;
pub mod state;

pub use link::{Inbound, Link, LinkConfig, LinkStats, Publisher};
pub use pace::Pace;
pub use state::{Applied, DeviceState, Health, Malformed, TwinState};
