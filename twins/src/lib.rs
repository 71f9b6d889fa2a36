//! # fabtwin-twins: the interactive 3D twin
//!
//! bevy plugins behind `fabtwin view`. State enters from the broker through one
//! message type, [`mirror::Mirrored`], and lands in the [`mirror::Twin`]
//! resource (a [`fabtwin_bridge::mirror::TwinState`], whose logic is pure and
//! tested without bevy). Everything else reads that resource:
//!
//! | plugin | what |
//! | --- | --- |
//! | [`mirror::MirrorPlugin`] | broker messages → `Twin`; silence → offline |
//! | [`layout::LayoutPlugin`] | one entity per machine from the scenario's layout (and any device that announces itself) |
//! | [`health::HealthPlugin`] | each machine's [`health::MachineHealth`] from `Twin` |
//! | [`control::FaultControlPlugin`] | selection and fault commands published on the device's command topic |
//! | [`flow::FlowPlugin`] | moving parts, conveyors and stations of material-flow lines (needs rendering) |
//! | [`looks::LooksPlugin`] | meshes, health colours, offline markers, turning rotors, labels, lights (needs rendering) |
//! | [`camera::CameraPlugin`] | orbit, pan and zoom |
//! | [`inspect::InspectPlugin`] | egui panels: the selected machine with live charts and fault buttons, alerts, time controls |
//! | [`shot::ShotPlugin`] | a screenshot after N frames, then exit |
//!
//! The first four need no window or GPU: tests run them with `MinimalPlugins`.
//! The twin is built only with the binary's `view` feature, so the headless
//! commands never compile a game engine.

pub mod camera;
pub mod control;
pub mod flow;
pub mod health;
pub mod inspect;
pub mod layout;
pub mod looks;
pub mod mirror;
pub mod shot;

pub use bevy;
use bevy::prelude::*;

/// The logic of the twin, without rendering: mirror, layout, health, control.
pub struct TwinLogicPlugins;

impl Plugin for TwinLogicPlugins {
    fn build(&self, app: &mut App) {
        app.add_plugins((
            mirror::MirrorPlugin,
            layout::LayoutPlugin,
            health::HealthPlugin,
            control::FaultControlPlugin,
        ));
    }
}

/// Headless app of the logic plugins over the quickstart layout, on a hand-set clock.
#[cfg(test)]
pub(crate) mod testing {
    use bevy::prelude::*;

    use crate::layout::Layout;
    use crate::mirror::{Mirrored, Twin, TwinClock};

    pub const QUICKSTART: &str = include_str!("../../scenarios/quickstart.ron");

    pub fn scenario() -> fabtwin_sim::scenario::Scenario {
        fabtwin_sim::scenario::from_str(QUICKSTART, "quickstart.ron").expect("quickstart is valid")
    }

    pub fn app(silence_timeout: f64) -> App {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .insert_resource(Layout::from_scenario(&scenario()))
            .insert_resource(Twin(fabtwin_bridge::mirror::TwinState::new(
                "fabtwin",
                silence_timeout,
            )))
            .insert_resource(TwinClock::Manual(0.0))
            .add_plugins(super::TwinLogicPlugins);
        app.update();
        app
    }

    pub fn telemetry(device: &str, level: &str, zone: &str) -> Mirrored {
        Mirrored {
            topic: format!("fabtwin/plant1/gw1/{device}/telemetry"),
            payload: format!(
                r#"{{"device":"{device}","seq":0,"ts":"2026-01-01T06:15:00Z","ts_ns":0,"status":{{"level":"{level}","zone":"{zone}","reasons":[]}},"readings":[]}}"#
            )
            .into_bytes(),
        }
    }

    pub fn at(app: &mut App, t: f64, messages: Vec<Mirrored>) {
        app.insert_resource(TwinClock::Manual(t));
        for m in messages {
            app.world_mut().write_message(m);
        }
        app.update();
    }
}
