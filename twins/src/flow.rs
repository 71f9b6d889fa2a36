//! [`FlowPlugin`]: material flow on the floor — the parts each line reports on
//! its flow topic (`…/flow/{line}`), drawn as small boxes from a pool that only
//! grows (no per-frame allocation), and the line's conveyors and stations from
//! the layout, coloured by their mirrored state.

use bevy::prelude::*;

use crate::layout::{Layout, world_position};
use crate::mirror::Twin;

/// A pooled part box.
#[derive(Component)]
struct PartBox;

#[derive(Resource, Default)]
struct PartPool {
    boxes: Vec<Entity>,
    mesh: Handle<Mesh>,
    material: Handle<StandardMaterial>,
}

/// Draws moving parts (and, with a flow layout, conveyors and stations).
pub struct FlowPlugin;

impl Plugin for FlowPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<PartPool>()
            .add_systems(Startup, (setup, build_line).chain())
            .add_systems(Update, (place_parts, colour_line));
    }
}

/// A drawn conveyor or station, coloured by its mirrored state.
#[derive(Component)]
struct FlowElement {
    line: String,
    id: String,
    belt: bool,
}

#[derive(Resource)]
struct StateColours {
    running: Handle<StandardMaterial>,
    idle: Handle<StandardMaterial>,
    trouble: Handle<StandardMaterial>,
    stopped: Handle<StandardMaterial>,
}

/// The colour class of a conveyor or station state.
pub fn state_class(state: &str) -> &'static str {
    match state {
        "running" => "running",
        "starved" | "blocked" | "slipping" => "idle",
        "jammed" | "faulted" => "trouble",
        _ => "stopped",
    }
}

fn build_line(
    mut commands: Commands,
    layout: Res<Layout>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    if layout.belts.is_empty() && layout.cells.is_empty() {
        return;
    }
    let mut mat = |c: Color| {
        materials.add(StandardMaterial {
            base_color: c,
            perceptual_roughness: 0.7,
            ..default()
        })
    };
    let colours = StateColours {
        running: mat(Color::srgb(0.25, 0.45, 0.75)),
        idle: mat(Color::srgb(0.95, 0.75, 0.1)),
        trouble: mat(Color::srgb(0.9, 0.1, 0.1)),
        stopped: mat(Color::srgb(0.35, 0.35, 0.38)),
    };
    for b in &layout.belts {
        let dir = Vec3::new(b.direction[0], 0.0, b.direction[1]).normalize_or(Vec3::X);
        let start = world_position(b.start);
        let centre = start + dir * (b.length / 2.0) + Vec3::Y * (b.height - 0.05);
        commands.spawn((
            Name::new(b.id.clone()),
            Mesh3d(meshes.add(Cuboid::new(b.length, 0.1, 0.6))),
            MeshMaterial3d(colours.stopped.clone()),
            Transform::from_translation(centre)
                .with_rotation(Quat::from_rotation_arc(Vec3::X, dir)),
            FlowElement {
                line: b.line.clone(),
                id: b.id.clone(),
                belt: true,
            },
            Pickable::IGNORE,
        ));
    }
    let cell = meshes.add(Cuboid::new(0.9, 1.0, 0.9));
    for c in &layout.cells {
        commands.spawn((
            Name::new(c.id.clone()),
            Mesh3d(cell.clone()),
            MeshMaterial3d(colours.stopped.clone()),
            Transform::from_translation(world_position(c.position) + Vec3::Y * 0.5),
            FlowElement {
                line: c.line.clone(),
                id: c.id.clone(),
                belt: false,
            },
            Pickable::IGNORE,
        ));
    }
    commands.insert_resource(colours);
}

fn colour_line(
    twin: Res<Twin>,
    colours: Option<Res<StateColours>>,
    mut elements: Query<(&FlowElement, &mut MeshMaterial3d<StandardMaterial>)>,
) {
    let Some(colours) = colours else { return };
    if !twin.is_changed() {
        return;
    }
    for (e, mut m) in &mut elements {
        let Some(line) = twin.lines.get(&e.line) else {
            continue;
        };
        let state = if e.belt {
            line.conveyors
                .iter()
                .find(|c| c.id == e.id)
                .map(|c| c.state.as_str())
        } else {
            line.stations
                .iter()
                .find(|s| s.id == e.id)
                .map(|s| s.state.as_str())
        };
        let wanted = match state.map(state_class) {
            Some("running") => &colours.running,
            Some("idle") => &colours.idle,
            Some("trouble") => &colours.trouble,
            _ => &colours.stopped,
        };
        if m.0 != *wanted {
            m.0 = wanted.clone();
        }
    }
}

fn setup(
    mut pool: ResMut<PartPool>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    pool.mesh = meshes.add(Cuboid::new(0.2, 0.2, 0.2));
    pool.material = materials.add(StandardMaterial {
        base_color: Color::srgb(0.85, 0.65, 0.35),
        perceptual_roughness: 0.7,
        ..default()
    });
}

fn place_parts(
    mut commands: Commands,
    twin: Res<Twin>,
    mut pool: ResMut<PartPool>,
    mut boxes: Query<(&mut Transform, &mut Visibility), With<PartBox>>,
) {
    if !twin.is_changed() {
        return;
    }
    let mut used = 0;
    for line in twin.lines.values() {
        for p in &line.parts {
            let at = Vec3::from_array(*p);
            if let Some(&e) = pool.boxes.get(used) {
                if let Ok((mut t, mut v)) = boxes.get_mut(e) {
                    t.translation = at;
                    v.set_if_neq(Visibility::Inherited);
                }
            } else {
                let e = commands
                    .spawn((
                        PartBox,
                        Mesh3d(pool.mesh.clone()),
                        MeshMaterial3d(pool.material.clone()),
                        Transform::from_translation(at),
                        Visibility::Inherited,
                        Pickable::IGNORE,
                    ))
                    .id();
                pool.boxes.push(e);
            }
            used += 1;
        }
    }
    for &e in &pool.boxes[used.min(pool.boxes.len())..] {
        if let Ok((_, mut v)) = boxes.get_mut(e) {
            v.set_if_neq(Visibility::Hidden);
        }
    }
}
