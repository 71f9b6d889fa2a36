//! [`FlowPlugin`]: material flow on the floor — the parts each line reports on
//! its flow topic (`…/flow/{line}`), drawn as small boxes from a pool that only
//! grows (no per-frame allocation), and the line's conveyors and stations from
//! the layout, coloured by their mirrored state.

use bevy::prelude::*;

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
            .add_systems(Startup, setup)
            .add_systems(Update, place_parts);
    }
}

fn setup(
    mut pool: ResMut<PartPool>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    pool.mesh = meshes.add(Cuboid::new(0.25, 0.25, 0.25));
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
