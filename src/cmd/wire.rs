//! What one sim instant does on the wire, shared by `run` and `view`: the
//! link's network faults, heartbeats, device commands (applied to the world
//! and replied to), telemetry and material-flow states.

use fabtwin_bridge::codec::command::Reply;
use fabtwin_bridge::codec::json;
use fabtwin_bridge::mqtt::fleet::Fleet;
use fabtwin_bridge::mqtt::verify::wall_ns;
use fabtwin_bridge::topics::Topics;
use fabtwin_sim::world::{Step, World};

/// What one sim instant does on the wire: the link's network faults,
/// heartbeats, commands that arrived (applied to the world and replied to),
/// then the instant's telemetry and material-flow states.
pub(crate) async fn on_wire(world: &mut World, fleet: &mut Fleet, step: &Step, topics: &Topics) {
    let sc = world.scenario();
    fleet.apply_network(sc, step.t).await;
    fleet.heartbeat(sc, step.t).await;
    for (machine, payload) in fleet.take_commands() {
        let reply = command(world, fleet, machine, &payload, step.t);
        fleet.reply(world.scenario(), machine, &reply).await;
    }
    let sc = world.scenario();
    for m in &step.telemetry {
        fleet.send(sc, m, wall_ns()).await;
    }
    for s in &step.flow {
        fleet.flow(sc, s.line, json::flow(sc, topics, s)).await;
    }
}

/// Carries out one device command at sim time `t` and says what happened.
fn command(
    world: &mut World,
    fleet: &mut Fleet,
    machine: usize,
    payload: &[u8],
    t: fabtwin_sim::time::SimTime,
) -> Reply {
    use fabtwin_bridge::codec::command::{Command, command_id, parse};
    use fabtwin_sim::faults::{FaultEvent, Target};
    let id = command_id(payload);
    let device = world.scenario().machines[machine].clone();
    let event = |target, duration: Option<fabtwin_sim::time::SimDuration>| FaultEvent {
        machine,
        target,
        start: t,
        end: duration.map(|d| t.after(d)),
        origin: "command",
    };
    let at = world.scenario().start.format(t);
    let (ok, message) = match parse(payload, &device) {
        Err(e) => (false, e),
        Ok(Command::Clear) => {
            let n = world.clear_commanded(machine, t) + fleet.clear_network(device.gateway, t);
            (
                true,
                format!("cleared {n} commanded fault(s) on {} at {at}", device.id),
            )
        }
        Ok(Command::InjectNetwork { kind, duration }) => {
            let gateway = &world.scenario().gateways[device.gateway].id;
            match fleet.inject_network(device.gateway, kind, t, duration.map(|d| t.after(d))) {
                Ok(()) => (
                    true,
                    format!("{} on gateway {gateway} from {at}", kind.name()),
                ),
                Err(e) => (false, e),
            }
        }
        Ok(Command::InjectMachine {
            mode,
            severity,
            duration,
        }) => {
            world.inject(event(Target::Machine { mode, severity }, duration));
            (
                true,
                format!(
                    "{} at severity {severity} on {} from {at}",
                    mode.name(),
                    device.id
                ),
            )
        }
        Ok(Command::InjectSensor {
            sensor,
            fault,
            duration,
        }) => {
            let name = fault.name();
            world.inject(event(Target::Sensor { sensor, fault }, duration));
            (
                true,
                format!(
                    "{name} on {}/{} from {at}",
                    device.id, device.sensors[sensor].id
                ),
            )
        }
    };
    if !ok {
        tracing::warn!(device = %device.id, "command refused: {message}");
    }
    Reply { id, ok, message }
}
