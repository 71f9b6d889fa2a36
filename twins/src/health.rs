//! [`HealthPlugin`]: each [`Machine`]'s [`MachineHealth`] follows the mirrored
//! state, so looks, alerts and tests read one component.

use bevy::prelude::*;
use fabtwin_bridge::mirror::Health;

use crate::layout::Machine;
use crate::mirror::Twin;

/// A machine's health as the twin shows it.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MachineHealth(pub Health);

/// The colour of each health.
pub fn colour(h: Health) -> Color {
    match h {
        Health::Unknown => Color::srgb(0.55, 0.6, 0.65),
        Health::ZoneA => Color::srgb(0.15, 0.7, 0.3),
        Health::ZoneB => Color::srgb(0.55, 0.78, 0.2),
        Health::ZoneC => Color::srgb(0.95, 0.75, 0.1),
        Health::Warning => Color::srgb(1.0, 0.5, 0.05),
        Health::Alarm => Color::srgb(0.9, 0.08, 0.08),
        Health::Offline => Color::srgb(0.3, 0.3, 0.32),
    }
}

/// Keeps [`MachineHealth`] in step with [`Twin`].
pub struct HealthPlugin;

impl Plugin for HealthPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, (add_health, sync_health).chain());
    }
}

fn add_health(
    mut commands: Commands,
    added: Query<Entity, (With<Machine>, Without<MachineHealth>)>,
) {
    for e in &added {
        commands.entity(e).insert(MachineHealth::default());
    }
}

fn sync_health(twin: Res<Twin>, mut machines: Query<(&Machine, &mut MachineHealth)>) {
    let all = twin.is_changed();
    for (m, mut h) in &mut machines {
        if !all && !h.is_added() {
            continue;
        }
        let now = twin
            .devices
            .get(&m.id)
            .map(|d| d.health())
            .unwrap_or_default();
        // Writes only on a change, so change detection marks just these machines.
        h.set_if_neq(MachineHealth(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{app, at, telemetry};

    fn health_of(app: &mut App, id: &str) -> Health {
        let mut q = app.world_mut().query::<(&Machine, &MachineHealth)>();
        q.iter(app.world())
            .find(|(m, _)| m.id == id)
            .map(|(_, h)| h.0)
            .expect("machine spawned from the layout")
    }

    #[test]
    fn a_mirrored_alarm_turns_that_machine_to_alarm() {
        let mut app = app(3600.0);
        assert_eq!(health_of(&mut app, "pump01"), Health::Unknown);
        at(
            &mut app,
            1.0,
            vec![
                telemetry("pump01", "good", "A"),
                telemetry("fan01", "good", "B"),
            ],
        );
        assert_eq!(health_of(&mut app, "pump01"), Health::ZoneA);
        assert_eq!(health_of(&mut app, "fan01"), Health::ZoneB);
        at(&mut app, 2.0, vec![telemetry("pump01", "alarm", "C")]);
        assert_eq!(health_of(&mut app, "pump01"), Health::Alarm);
        assert_eq!(
            health_of(&mut app, "fan01"),
            Health::ZoneB,
            "others unchanged"
        );
        assert_eq!(health_of(&mut app, "comp01"), Health::Unknown);
    }

    #[test]
    fn a_silent_device_turns_offline_after_its_timeout() {
        let mut app = app(900.0);
        at(
            &mut app,
            0.0,
            vec![
                telemetry("pump01", "good", "A"),
                telemetry("fan01", "good", "A"),
            ],
        );
        at(&mut app, 600.0, vec![telemetry("fan01", "good", "A")]);
        at(&mut app, 899.0, vec![]);
        assert_eq!(health_of(&mut app, "pump01"), Health::ZoneA);
        at(&mut app, 901.0, vec![]);
        assert_eq!(health_of(&mut app, "pump01"), Health::Offline);
        assert_eq!(
            health_of(&mut app, "fan01"),
            Health::ZoneA,
            "heard at 600 s"
        );
        at(&mut app, 1501.0, vec![]);
        assert_eq!(health_of(&mut app, "fan01"), Health::Offline);
    }

    #[test]
    fn a_device_that_announces_itself_gets_a_machine() {
        let mut app = app(3600.0);
        at(&mut app, 0.0, vec![telemetry("press07", "warning", "B")]);
        app.update();
        assert_eq!(health_of(&mut app, "press07"), Health::Warning);
    }
}
