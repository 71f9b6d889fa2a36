//! [`LooksPlugin`]: what the floor looks like. Each machine gets a body per
//! kind, a rotor that turns at its rated speed (scaled for the eye), an
//! offline marker and a label. Meshes are shared per kind and materials per
//! health, so a thousand machines draw as a few instanced batches, and a
//! health change only swaps a handle.

use std::collections::HashMap;

use bevy::prelude::*;
use fabtwin_bridge::mirror::Health;

use crate::control::Select;
use crate::health::{MachineHealth, colour};
use crate::inspect::UiRects;
use crate::layout::{Layout, Machine};

/// Real rpm × this = displayed turns per minute (3000 rpm shows as 1 turn per second).
#[derive(Resource, Clone, Copy, Debug)]
pub struct RotorScale(pub f32);

impl Default for RotorScale {
    fn default() -> RotorScale {
        RotorScale(1.0 / 50.0)
    }
}

/// Machines beyond this count get no floating labels (the panel names them).
pub const LABELS_UP_TO: usize = 200;

const HEALTHS: [Health; 7] = [
    Health::Unknown,
    Health::ZoneA,
    Health::ZoneB,
    Health::ZoneC,
    Health::Warning,
    Health::Alarm,
    Health::Offline,
];

#[derive(Resource)]
struct Palette {
    by_health: HashMap<Health, Handle<StandardMaterial>>,
    steel: Handle<StandardMaterial>,
    marker: Handle<StandardMaterial>,
    bodies: HashMap<&'static str, (Handle<Mesh>, Vec3)>,
    rotor: Handle<Mesh>,
    marker_mesh: Handle<Mesh>,
}

/// The body child of a machine (recoloured by health).
#[derive(Component)]
struct Body(Entity);

/// A part that turns at the machine's speed.
#[derive(Component)]
pub struct Rotor {
    /// Turns per minute as shown.
    pub rpm: f32,
    /// The machine it belongs to.
    pub machine: Entity,
}

#[derive(Component)]
struct OfflineMarker(Entity);

#[derive(Component)]
struct FloatingLabel {
    target: Entity,
}

/// Meshes, colours, rotors, markers, labels, lights and the floor.
pub struct LooksPlugin;

impl Plugin for LooksPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<RotorScale>()
            .insert_resource(GlobalAmbientLight {
                brightness: 400.0,
                ..default()
            })
            .insert_resource(ClearColor(Color::srgb(0.08, 0.09, 0.11)))
            .add_systems(Startup, setup)
            .add_systems(Update, (dress, recolour, spin, follow_labels).chain());
    }
}

fn kind_key(kind: &str) -> &'static str {
    match kind {
        "pump" => "pump",
        "fan" => "fan",
        "spindle" => "spindle",
        "compressor" => "compressor",
        "conveyor" => "conveyor",
        _ => "motor",
    }
}

fn setup(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    layout: Res<Layout>,
) {
    let by_health = HEALTHS
        .iter()
        .map(|&h| {
            let m = materials.add(StandardMaterial {
                base_color: colour(h),
                perceptual_roughness: 0.55,
                metallic: 0.1,
                ..default()
            });
            (h, m)
        })
        .collect();
    let steel = materials.add(StandardMaterial {
        base_color: Color::srgb(0.75, 0.77, 0.8),
        perceptual_roughness: 0.35,
        metallic: 0.6,
        ..default()
    });
    let marker = materials.add(StandardMaterial {
        base_color: Color::srgb(0.95, 0.95, 0.95),
        emissive: LinearRgba::rgb(0.6, 0.6, 0.6),
        ..default()
    });
    // Body mesh per kind and where its rotor sits (machine-local).
    let mut bodies = HashMap::new();
    bodies.insert(
        "motor",
        (
            meshes.add(Cylinder::new(0.45, 1.3).mesh().resolution(16)),
            Vec3::new(0.0, 0.5, 0.7),
        ),
    );
    bodies.insert(
        "pump",
        (
            meshes.add(Cylinder::new(0.6, 0.6).mesh().resolution(16)),
            Vec3::new(0.0, 0.6, 0.35),
        ),
    );
    bodies.insert(
        "fan",
        (
            meshes.add(Cuboid::new(1.4, 1.4, 0.5)),
            Vec3::new(0.0, 0.75, 0.3),
        ),
    );
    bodies.insert(
        "spindle",
        (
            meshes.add(Cylinder::new(0.35, 1.6).mesh().resolution(16)),
            Vec3::new(0.0, 1.7, 0.0),
        ),
    );
    bodies.insert(
        "compressor",
        (
            meshes.add(Cuboid::new(1.6, 1.2, 1.0)),
            Vec3::new(0.0, 0.7, 0.55),
        ),
    );
    bodies.insert(
        "conveyor",
        (
            meshes.add(Cuboid::new(3.0, 0.3, 0.9)),
            Vec3::new(1.55, 0.6, 0.0),
        ),
    );
    let rotor = meshes.add(Cuboid::new(0.9, 0.14, 0.06));
    let marker_mesh = meshes.add(Sphere::new(0.18).mesh().uv(16, 10));
    commands.insert_resource(Palette {
        by_health,
        steel,
        marker,
        bodies,
        rotor,
        marker_mesh,
    });

    // Floor sized to the layout, lights.
    let (lo, hi) = match layout.bounds() {
        Some((lo, hi)) => (Vec2::from_array(lo) - 6.0, Vec2::from_array(hi) + 6.0),
        None => (Vec2::splat(-10.0), Vec2::splat(10.0)),
    };
    let size = hi - lo;
    let centre = (lo + hi) / 2.0;
    commands.spawn((
        Name::new("floor"),
        Mesh3d(meshes.add(Plane3d::default().mesh().size(size.x, size.y))),
        MeshMaterial3d(materials.add(StandardMaterial {
            base_color: Color::srgb(0.22, 0.24, 0.26),
            perceptual_roughness: 0.9,
            ..default()
        })),
        Transform::from_xyz(centre.x, 0.0, centre.y),
        Pickable::IGNORE,
    ));
    commands.spawn((
        DirectionalLight {
            illuminance: 9_000.0,
            shadow_maps_enabled: layout.machines.len() <= 200,
            ..default()
        },
        Transform::from_xyz(centre.x + 8.0, 20.0, centre.y + 12.0)
            .looking_at(Vec3::new(centre.x, 0.0, centre.y), Vec3::Y),
    ));
}

#[allow(clippy::type_complexity)]
fn dress(
    mut commands: Commands,
    palette: Res<Palette>,
    scale: Res<RotorScale>,
    added: Query<(Entity, &Machine), Added<Machine>>,
    all: Query<(), With<Machine>>,
) {
    let labels = all.iter().count() <= LABELS_UP_TO;
    for (e, m) in &added {
        let key = kind_key(&m.kind);
        let (mesh, rotor_at) = palette.bodies[key].clone();
        let lift = match key {
            "spindle" => 0.8,
            "conveyor" => 0.45,
            "fan" => 0.7,
            _ => 0.6,
        };
        let body = commands
            .spawn((
                Mesh3d(mesh),
                MeshMaterial3d(palette.by_health[&Health::Unknown].clone()),
                Transform::from_xyz(0.0, lift, 0.0).with_rotation(match key {
                    "motor" | "pump" => Quat::from_rotation_x(std::f32::consts::FRAC_PI_2),
                    _ => Quat::IDENTITY,
                }),
                ChildOf(e),
            ))
            .id();
        commands.spawn((
            Mesh3d(palette.rotor.clone()),
            MeshMaterial3d(palette.steel.clone()),
            Transform::from_translation(rotor_at),
            Rotor {
                rpm: m.rpm * scale.0,
                machine: e,
            },
            ChildOf(e),
        ));
        commands.spawn((
            Mesh3d(palette.marker_mesh.clone()),
            MeshMaterial3d(palette.marker.clone()),
            Transform::from_xyz(0.0, 2.4, 0.0),
            Visibility::Hidden,
            OfflineMarker(e),
            Pickable::IGNORE,
            ChildOf(e),
        ));
        commands
            .entity(e)
            .insert((Body(body), Visibility::default()))
            .observe(on_click);
        if labels {
            commands.spawn((
                Text::new(m.id.clone()),
                TextFont {
                    font_size: FontSize::Px(14.0),
                    ..default()
                },
                TextColor(Color::WHITE),
                Node {
                    position_type: PositionType::Absolute,
                    ..default()
                },
                FloatingLabel { target: e },
                Pickable::IGNORE,
            ));
        }
    }
}

fn on_click(click: On<Pointer<Click>>, rects: Res<UiRects>, mut commands: Commands) {
    if click.event.button != PointerButton::Primary {
        return;
    }
    let p = click.pointer_location.position;
    if rects.contains(p) {
        return;
    }
    commands.trigger(Select {
        entity: click.entity,
    });
}

fn recolour(
    palette: Res<Palette>,
    changed: Query<(Entity, &MachineHealth, &Body), Changed<MachineHealth>>,
    mut bodies: Query<&mut MeshMaterial3d<StandardMaterial>>,
    mut markers: Query<(&OfflineMarker, &mut Visibility)>,
) {
    let mut any_offline_change = false;
    for (_, h, body) in &changed {
        if let Ok(mut m) = bodies.get_mut(body.0) {
            m.0 = palette.by_health[&h.0].clone();
        }
        any_offline_change = true;
    }
    if !any_offline_change {
        return;
    }
    for (marker, mut vis) in &mut markers {
        if let Ok((_, h, _)) = changed.get(marker.0) {
            vis.set_if_neq(if h.0 == Health::Offline {
                Visibility::Inherited
            } else {
                Visibility::Hidden
            });
        }
    }
}

fn spin(
    time: Res<Time>,
    health: Query<&MachineHealth>,
    mut rotors: Query<(&Rotor, &mut Transform)>,
) {
    let dt = time.delta_secs();
    for (r, mut t) in &mut rotors {
        let running = health
            .get(r.machine)
            .is_ok_and(|h| !matches!(h.0, Health::Offline | Health::Unknown));
        if running {
            t.rotate_local_z(r.rpm / 60.0 * std::f32::consts::TAU * dt);
        }
    }
}

fn follow_labels(
    camera: Single<(&Camera, &GlobalTransform), With<Camera3d>>,
    targets: Query<&GlobalTransform>,
    mut labels: Query<(&FloatingLabel, &mut Node, &mut Visibility)>,
) {
    let (camera, cam_tf) = *camera;
    for (label, mut node, mut vis) in &mut labels {
        let Ok(target) = targets.get(label.target) else {
            continue;
        };
        let at = target.translation() + Vec3::Y * 2.0;
        let near = cam_tf.translation().distance(at) < 60.0;
        match camera.world_to_viewport(cam_tf, at) {
            Ok(p) if near => {
                node.left = Val::Px(p.x - 24.0);
                node.top = Val::Px(p.y - 18.0);
                vis.set_if_neq(Visibility::Inherited);
            }
            _ => {
                vis.set_if_neq(Visibility::Hidden);
            }
        }
    }
}
