//! [`CameraPlugin`]: a camera that orbits (right drag), pans (middle drag, or
//! shift + right drag, or the arrow keys) and zooms (wheel) around a focus
//! point, framed on the layout at start.

use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::prelude::*;

use crate::inspect::UiRects;
use crate::layout::Layout;

/// Orbit state of the camera.
#[derive(Component, Clone, Copy, Debug)]
pub struct Orbit {
    /// Point looked at.
    pub focus: Vec3,
    /// Distance from it, m.
    pub radius: f32,
    /// Angle around the vertical, rad.
    pub yaw: f32,
    /// Angle above the floor, rad.
    pub pitch: f32,
}

impl Orbit {
    fn transform(&self) -> Transform {
        let dir = Vec3::new(
            self.yaw.sin() * self.pitch.cos(),
            self.pitch.sin(),
            self.yaw.cos() * self.pitch.cos(),
        );
        Transform::from_translation(self.focus + dir * self.radius).looking_at(self.focus, Vec3::Y)
    }

    /// An orbit that frames the layout.
    pub fn framing(layout: &Layout) -> Orbit {
        let (centre, extent) = match layout.bounds() {
            Some((lo, hi)) => {
                let (lo, hi) = (Vec2::from_array(lo), Vec2::from_array(hi));
                ((lo + hi) / 2.0, (hi - lo).length().max(6.0))
            }
            None => (Vec2::ZERO, 10.0),
        };
        Orbit {
            focus: Vec3::new(centre.x, 0.5, centre.y),
            radius: extent * 0.9 + 6.0,
            yaw: 0.35,
            pitch: 0.62,
        }
    }
}

/// The orbiting camera.
pub struct CameraPlugin;

impl Plugin for CameraPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn_camera)
            .add_systems(Update, steer);
    }
}

fn spawn_camera(mut commands: Commands, layout: Res<Layout>) {
    let orbit = Orbit::framing(&layout);
    commands.spawn((Camera3d::default(), orbit.transform(), orbit));
}

#[allow(clippy::too_many_arguments)] // a bevy system: one parameter per input it reads
fn steer(
    buttons: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    time: Res<Time>,
    rects: Res<UiRects>,
    window: Option<Single<&Window>>,
    mut camera: Query<(&mut Orbit, &mut Transform)>,
) {
    let Ok((mut orbit, mut t)) = camera.single_mut() else {
        return;
    };
    let over_ui = window
        .and_then(|w| w.cursor_position())
        .is_some_and(|p| rects.contains(p));
    let before = *orbit;
    let shift = keys.any_pressed([KeyCode::ShiftLeft, KeyCode::ShiftRight]);
    let d = motion.delta;
    let right = Vec3::new(orbit.yaw.cos(), 0.0, -orbit.yaw.sin());
    let forward = Vec3::new(-orbit.yaw.sin(), 0.0, -orbit.yaw.cos());
    if !over_ui {
        if buttons.pressed(MouseButton::Middle) || (shift && buttons.pressed(MouseButton::Right)) {
            let k = orbit.radius * 0.0015;
            orbit.focus += (-right * d.x + forward * d.y) * k;
        } else if buttons.pressed(MouseButton::Right) {
            orbit.yaw -= d.x * 0.006;
            orbit.pitch = (orbit.pitch + d.y * 0.006).clamp(0.08, 1.5);
        }
        let wheel = match scroll.unit {
            MouseScrollUnit::Line => scroll.delta.y,
            MouseScrollUnit::Pixel => scroll.delta.y / 40.0,
        };
        if wheel != 0.0 {
            orbit.radius = (orbit.radius * (1.0 - wheel * 0.1)).clamp(2.0, 2_000.0);
        }
    }
    let step = orbit.radius * 0.8 * time.delta_secs();
    for (key, dir) in [
        (KeyCode::ArrowLeft, -right),
        (KeyCode::ArrowRight, right),
        (KeyCode::ArrowUp, forward),
        (KeyCode::ArrowDown, -forward),
    ] {
        if keys.pressed(key) {
            orbit.focus += dir * step;
        }
    }
    if orbit.focus != before.focus
        || orbit.radius != before.radius
        || orbit.yaw != before.yaw
        || orbit.pitch != before.pitch
    {
        *t = orbit.transform();
    }
}
