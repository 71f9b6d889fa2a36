//! [`LayoutPlugin`]: one [`Machine`] entity per machine, placed on the floor
//! from the scenario's layout ([`Layout`]); a device that announces itself on
//! the broker without being in the layout gets a spot too (its metadata's
//! position, else the next free place in a row beyond the layout).

use std::collections::HashSet;

use bevy::prelude::*;
use fabtwin_sim::scenario::Scenario;

use crate::mirror::Twin;

/// Where a machine stands and what it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Spot {
    /// Device id.
    pub id: String,
    /// Machine kind, lower case (`pump`, `fan`, `motor`, `spindle`, `compressor`, `conveyor`).
    pub kind: String,
    /// Line id.
    pub line: String,
    /// Floor position, m (x, y on the floor).
    pub position: [f32; 2],
    /// Rated shaft speed, rpm.
    pub rpm: f32,
}

/// A conveyor belt of a material-flow line.
#[derive(Clone, Debug, PartialEq)]
pub struct Belt {
    /// Line id.
    pub line: String,
    /// Conveyor id.
    pub id: String,
    /// Floor point of its start, m.
    pub start: [f32; 2],
    /// Unit vector along it on the floor.
    pub direction: [f32; 2],
    /// Length, m.
    pub length: f32,
    /// Height of the belt surface, m.
    pub height: f32,
}

/// A station (or buffer) of a material-flow line.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Line id.
    pub line: String,
    /// Station or buffer id.
    pub id: String,
    /// Floor position, m.
    pub position: [f32; 2],
    /// Height of the belts it joins, m.
    pub height: f32,
}

/// The floor plan.
#[derive(Resource, Clone, Debug, Default)]
pub struct Layout {
    /// Machines.
    pub machines: Vec<Spot>,
    /// Conveyors of material-flow lines.
    pub belts: Vec<Belt>,
    /// Stations and buffers of material-flow lines.
    pub cells: Vec<Cell>,
}

impl Layout {
    /// The plan a scenario describes.
    pub fn from_scenario(s: &Scenario) -> Layout {
        Layout {
            machines: s
                .machines
                .iter()
                .map(|m| Spot {
                    id: m.id.clone(),
                    kind: format!("{:?}", m.kind).to_lowercase(),
                    line: m.line.clone(),
                    position: [m.position.0 as f32, m.position.1 as f32],
                    rpm: m.rated_speed_rpm as f32,
                })
                .collect(),
            belts: s
                .flow
                .iter()
                .flat_map(|l| {
                    l.conveyors.iter().map(|c| Belt {
                        line: l.id.clone(),
                        id: c.id.clone(),
                        start: [c.position.0 as f32, c.position.1 as f32],
                        direction: [c.direction.0 as f32, c.direction.1 as f32],
                        length: c.length_m as f32,
                        height: l.belt_height_m as f32,
                    })
                })
                .collect(),
            cells: s
                .flow
                .iter()
                .flat_map(|l| {
                    let stations = l.stations.iter().map(|st| (&st.id, st.position));
                    let buffers = l.buffers.iter().map(|b| (&b.id, b.position));
                    stations.chain(buffers).map(|(id, p)| Cell {
                        line: l.id.clone(),
                        id: id.clone(),
                        position: [p.0 as f32, p.1 as f32],
                        height: l.belt_height_m as f32,
                    })
                })
                .collect(),
        }
    }
}

impl Layout {
    /// Floor bounds (min, max) of everything laid out, m; `None` when empty.
    pub fn bounds(&self) -> Option<([f32; 2], [f32; 2])> {
        let belt_ends = self.belts.iter().flat_map(|b| {
            let end = [
                b.start[0] + b.direction[0] * b.length,
                b.start[1] + b.direction[1] * b.length,
            ];
            [b.start, end]
        });
        let points = self
            .machines
            .iter()
            .map(|m| m.position)
            .chain(belt_ends)
            .chain(self.cells.iter().map(|c| c.position));
        points.fold(None, |acc, p| {
            let (lo, hi) = acc.unwrap_or((p, p));
            Some((
                [lo[0].min(p[0]), lo[1].min(p[1])],
                [hi[0].max(p[0]), hi[1].max(p[1])],
            ))
        })
    }
}

/// A machine on the floor.
#[derive(Component, Clone, Debug, PartialEq)]
pub struct Machine {
    /// Device id.
    pub id: String,
    /// Kind, lower case.
    pub kind: String,
    /// Rated speed, rpm.
    pub rpm: f32,
}

/// Floor position of a spot: scenario x → world x, scenario y → world z.
pub fn world_position(p: [f32; 2]) -> Vec3 {
    Vec3::new(p[0], 0.0, p[1])
}

/// Spawns machines from the layout and from devices heard of.
pub struct LayoutPlugin;

impl Plugin for LayoutPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Layout>()
            .add_systems(Startup, spawn_layout)
            .add_systems(Update, spawn_discovered);
    }
}

fn spawn(commands: &mut Commands, spot: &Spot) {
    commands.spawn((
        Name::new(spot.id.clone()),
        Machine {
            id: spot.id.clone(),
            kind: spot.kind.clone(),
            rpm: spot.rpm,
        },
        Transform::from_translation(world_position(spot.position)),
    ));
}

fn spawn_layout(mut commands: Commands, layout: Res<Layout>) {
    for spot in &layout.machines {
        spawn(&mut commands, spot);
    }
}

fn spawn_discovered(
    mut commands: Commands,
    twin: Res<Twin>,
    mut layout: ResMut<Layout>,
    mut placed: Local<HashSet<String>>,
    mut heard: Local<usize>,
) {
    // Devices are never forgotten, so a new one shows as a longer map.
    if !twin.is_changed() || twin.devices.len() == *heard {
        return;
    }
    *heard = twin.devices.len();
    if placed.len() < layout.machines.len() {
        placed.extend(layout.machines.iter().map(|m| m.id.clone()));
    }
    for (id, d) in &twin.devices {
        if !placed.insert(id.clone()) {
            continue;
        }
        let meta = d.meta.clone().unwrap_or_default();
        let n = layout.machines.len();
        let beyond = layout
            .machines
            .iter()
            .map(|m| m.position[1])
            .fold(0.0f32, f32::max)
            + 6.0;
        let position = meta
            .position_m
            .map(|p| [p[0] as f32, p[1] as f32])
            .unwrap_or([(n % 20) as f32 * 4.0, beyond + (n / 20) as f32 * 4.0]);
        let spot = Spot {
            id: id.clone(),
            kind: if meta.machine_kind.is_empty() {
                "motor".into()
            } else {
                meta.machine_kind.clone()
            },
            line: meta.line.clone(),
            position,
            rpm: meta.rated_speed_rpm as f32,
        };
        spawn(&mut commands, &spot);
        layout.machines.push(spot);
    }
}
