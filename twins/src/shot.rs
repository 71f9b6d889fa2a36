//! [`ShotPlugin`]: renders, saves one screenshot after a number of frames and
//! exits. Software renderers draw black frames while pipelines compile, so a
//! black capture is retried a few frames later instead of saved.

use std::path::PathBuf;

use bevy::diagnostic::FrameCount;
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};

/// Captures after this many more frames when a capture came back blank.
pub const RETRY_FRAMES: u32 = 20;
/// Blank captures tolerated before giving up.
pub const RETRIES: u32 = 30;

/// Where and when to shoot.
#[derive(Resource, Clone, Debug)]
pub struct ShotPlugin {
    /// PNG path.
    pub path: PathBuf,
    /// First frame to capture at.
    pub frame: u32,
}

#[derive(Resource, Default)]
struct ShotState {
    next: u32,
    tries: u32,
    pending: bool,
}

impl Plugin for ShotPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(self.clone())
            .insert_resource(ShotState {
                next: self.frame,
                ..default()
            })
            .add_systems(Update, request);
    }
}

/// Mean and spread of a capture's RGB bytes (0 … 255): a blank image has no spread.
pub fn brightness(rgba: &[u8]) -> (f64, f64) {
    let px: Vec<u8> = rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    if px.is_empty() {
        return (0.0, 0.0);
    }
    let n = px.len() as f64;
    let mean = px.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = px.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

fn request(mut commands: Commands, frames: Res<FrameCount>, mut state: ResMut<ShotState>) {
    if state.pending || frames.0 < state.next {
        return;
    }
    state.pending = true;
    commands
        .spawn(Screenshot::primary_window())
        .observe(captured);
}

fn captured(
    shot: On<ScreenshotCaptured>,
    config: Res<ShotPlugin>,
    frames: Res<FrameCount>,
    mut state: ResMut<ShotState>,
    mut exit: MessageWriter<AppExit>,
) {
    state.pending = false;
    let data = shot.image.data.as_deref().unwrap_or_default();
    let (mean, spread) = brightness(data);
    if spread < 2.0 {
        state.tries += 1;
        if state.tries >= RETRIES {
            error!("every capture came back blank (mean {mean:.1}); no screenshot written");
            exit.write(AppExit::error());
        } else {
            state.next = frames.0 + RETRY_FRAMES;
        }
        return;
    }
    let saved = shot
        .image
        .clone()
        .try_into_dynamic()
        .map_err(|e| e.to_string())
        .and_then(|img| img.to_rgb8().save(&config.path).map_err(|e| e.to_string()));
    match saved {
        Ok(()) => {
            info!(
                "screenshot {} at frame {} (mean {mean:.1}, spread {spread:.1})",
                config.path.display(),
                frames.0
            );
            exit.write(AppExit::Success);
        }
        Err(e) => {
            error!("cannot save the screenshot {}: {e}", config.path.display());
            exit.write(AppExit::error());
        }
    }
}

/// Records every frame's time and prints the median, 95th percentile and worst
/// at exit; with `exit_after`, exits after that many frames.
#[derive(Clone, Copy, Debug)]
pub struct FrameStatsPlugin {
    /// Frames to render before exiting; none: run until closed.
    pub exit_after: Option<u32>,
}

/// Frame times so far, ms.
#[derive(Resource, Default)]
pub struct FrameTimes(pub Vec<f32>);

impl Plugin for FrameStatsPlugin {
    fn build(&self, app: &mut App) {
        let exit_after = self.exit_after;
        app.insert_resource(FrameTimes(Vec::with_capacity(1 << 16)))
            .add_systems(
                Last,
                move |time: Res<Time<Real>>,
                      frames: Res<FrameCount>,
                      mut times: ResMut<FrameTimes>,
                      mut exit: MessageWriter<AppExit>| {
                    if frames.0 > 1 && times.0.len() < (1 << 16) {
                        times.0.push(time.delta_secs() * 1000.0);
                    }
                    if exit_after.is_some_and(|n| frames.0 >= n) {
                        exit.write(AppExit::Success);
                    }
                },
            )
            .add_systems(Last, report_frames.run_if(on_message::<AppExit>));
    }
}

/// (median, 95th percentile, worst) of `ms`, skipping the first tenth (pipeline warm-up).
pub fn frame_summary(ms: &[f32]) -> Option<(f32, f32, f32)> {
    let mut v: Vec<f32> = ms[ms.len() / 10..].to_vec();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    Some((at(0.5), at(0.95), v[v.len() - 1]))
}

fn report_frames(
    times: Res<FrameTimes>,
    machines: Query<(), With<crate::layout::Machine>>,
    twin: Res<crate::mirror::Twin>,
) {
    let health: Vec<String> = twin
        .counts()
        .iter()
        .rev()
        .map(|(h, n)| format!("{n} {}", h.name()))
        .collect();
    println!(
        "mirrored {} messages from {} devices ({} unreadable): {}",
        twin.messages,
        twin.devices.len(),
        twin.malformed,
        health.join(", ")
    );
    if let Some((p50, p95, max)) = frame_summary(&times.0) {
        println!(
            "frames: {} · machines: {} · frame time median {p50:.1} ms ({:.1} fps), p95 {p95:.1} ms, worst {max:.1} ms",
            times.0.len(),
            machines.iter().count(),
            1000.0 / p50.max(1e-3)
        );
    }
}
