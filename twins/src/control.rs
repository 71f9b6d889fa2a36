//! [`FaultControlPlugin`]: which machine is selected, and the commands the
//! operator sends it. A [`CommandRequest`] becomes an [`Outgoing`] message on
//! the device's command topic (`…/{device}/cmd`, the JSON the devices parse:
//! see `fabtwin_bridge::codec::command`), published by the link when there is one.

use bevy::prelude::*;
use fabtwin_bridge::mirror::Publisher;
use fabtwin_sim::plant::FaultMode;

use crate::layout::Machine;
use crate::mirror::Twin;

/// The machine the operator inspects.
#[derive(Resource, Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection(pub Option<String>);

/// Selects a machine entity (a click on it, or a test).
#[derive(EntityEvent, Clone, Copy, Debug)]
pub struct Select {
    /// The machine.
    pub entity: Entity,
}

/// What the operator asks a device to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Inject a machine fault mode at a severity (0 … 2; 1 = failure) for a time.
    Inject {
        /// Mode.
        mode: FaultMode,
        /// Severity.
        severity: f64,
        /// Duration (`"30m"`), or until cleared.
        duration: Option<String>,
    },
    /// Cut the device's gateway link for a while.
    Outage {
        /// Duration (`"3m"`).
        duration: String,
    },
    /// End every fault injected by command.
    Clear,
}

/// A command for one device.
#[derive(Message, Clone, Debug, PartialEq)]
pub struct CommandRequest {
    /// Device id.
    pub device: String,
    /// What to do.
    pub action: Action,
}

/// A command ready for the broker.
#[derive(Message, Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Command topic.
    pub topic: String,
    /// JSON payload.
    pub payload: Vec<u8>,
}

/// Where commands go, when the twin has a broker link.
#[derive(Resource, Clone)]
pub struct CommandLink(pub Publisher);

/// Commands sent and refused (unknown device or full queue), for the panel.
#[derive(Resource, Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandLog {
    /// Commands numbered so far (their `id` is `twin-N`).
    pub sent: u64,
    /// The newest line to show.
    pub last: String,
}

/// The JSON command for `action`, with id `id`.
pub fn payload(id: &str, action: &Action) -> Vec<u8> {
    let v = match action {
        Action::Inject {
            mode,
            severity,
            duration,
        } => {
            let mut v = serde_json::json!({"id": id, "action": "inject", "fault": mode.name(), "severity": severity});
            if let Some(d) = duration {
                v["duration"] = d.clone().into();
            }
            v
        }
        Action::Outage { duration } => {
            serde_json::json!({"id": id, "action": "inject", "network": "outage", "duration": duration})
        }
        Action::Clear => serde_json::json!({"id": id, "action": "clear"}),
    };
    serde_json::to_vec(&v).expect("a JSON value serialises")
}

/// Selection and fault commands.
pub struct FaultControlPlugin;

impl Plugin for FaultControlPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Selection>()
            .init_resource::<CommandLog>()
            .add_message::<CommandRequest>()
            .add_message::<Outgoing>()
            .add_observer(select)
            .add_systems(Update, (address_commands, publish_commands).chain());
    }
}

fn select(ev: On<Select>, machines: Query<&Machine>, mut selection: ResMut<Selection>) {
    if let Ok(m) = machines.get(ev.entity) {
        selection.0 = Some(m.id.clone());
    }
}

fn address_commands(
    mut requests: MessageReader<CommandRequest>,
    twin: Res<Twin>,
    mut log: ResMut<CommandLog>,
    mut out: MessageWriter<Outgoing>,
) {
    for r in requests.read() {
        let Some(topic) = twin.command_topic(&r.device) else {
            log.last = format!("{}: not heard from yet, no command topic", r.device);
            continue;
        };
        log.sent += 1;
        let id = format!("twin-{}", log.sent);
        log.last = format!("{id} → {topic}");
        out.write(Outgoing {
            topic,
            payload: payload(&id, &r.action),
        });
    }
}

fn publish_commands(
    mut outgoing: MessageReader<Outgoing>,
    link: Option<Res<CommandLink>>,
    mut log: ResMut<CommandLog>,
) {
    let Some(link) = link else { return };
    for o in outgoing.read() {
        if !link.0.publish(&o.topic, o.payload.clone()) {
            log.last = format!("{}: the session's queue is full, not sent", o.topic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{app, at, scenario, telemetry};
    use fabtwin_bridge::codec::command::{Command, parse};
    use fabtwin_sim::time::SimDuration;

    fn entity_of(app: &mut App, id: &str) -> Entity {
        let mut q = app.world_mut().query::<(Entity, &Machine)>();
        q.iter(app.world())
            .find(|(_, m)| m.id == id)
            .map(|(e, _)| e)
            .expect("machine spawned")
    }

    fn outgoing(app: &mut App) -> Vec<Outgoing> {
        let mut cursor = app.world().resource::<Messages<Outgoing>>().get_cursor();
        cursor
            .read(app.world().resource::<Messages<Outgoing>>())
            .cloned()
            .collect()
    }

    #[test]
    fn selecting_a_machine_and_injecting_sends_the_command_it_understands() {
        let mut app = app(3600.0);
        at(&mut app, 0.0, vec![telemetry("fan01", "good", "A")]);
        let fan = entity_of(&mut app, "fan01");
        app.world_mut().trigger(Select { entity: fan });
        let selected = app.world().resource::<Selection>().0.clone();
        assert_eq!(selected.as_deref(), Some("fan01"));

        app.world_mut().write_message(CommandRequest {
            device: selected.unwrap(),
            action: Action::Inject {
                mode: FaultMode::Misalignment,
                severity: 0.7,
                duration: Some("1h".into()),
            },
        });
        app.update();
        let sent = outgoing(&mut app);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].topic, "fabtwin/plant1/gw1/fan01/cmd");
        // The device side's parser accepts it as meant.
        let sc = scenario();
        let fan = &sc.machines[sc.machine_index("fan01").unwrap()];
        assert_eq!(
            parse(&sent[0].payload, fan),
            Ok(Command::InjectMachine {
                mode: FaultMode::Misalignment,
                severity: 0.7,
                duration: Some(SimDuration::from_secs(3600)),
            })
        );
        app.world_mut().write_message(CommandRequest {
            device: "fan01".into(),
            action: Action::Clear,
        });
        app.update();
        let sent = outgoing(&mut app);
        assert_eq!(
            parse(&sent.last().unwrap().payload, fan),
            Ok(Command::Clear)
        );
        assert_eq!(app.world().resource::<CommandLog>().sent, 2);
    }

    #[test]
    fn a_command_for_a_device_not_heard_from_is_refused_with_a_reason() {
        let mut app = app(3600.0);
        app.world_mut().write_message(CommandRequest {
            device: "comp01".into(),
            action: Action::Clear,
        });
        app.update();
        assert!(outgoing(&mut app).is_empty());
        assert!(
            app.world()
                .resource::<CommandLog>()
                .last
                .contains("not heard from")
        );
    }
}
