//! [`InspectPlugin`]: the egui panels. Left: plant overview (devices per
//! health, link figures, unreadable payloads), time controls when the twin
//! runs the simulation, and the alert list. Right, once a machine is selected:
//! its state, sensors, live charts of each feature, and fault buttons that
//! publish on its command topic.

use std::sync::Arc;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPlugin, EguiPrimaryContextPass, egui};
use fabtwin_bridge::mirror::{Health, Pace};
use fabtwin_sim::plant::FaultMode;

use crate::control::{Action, CommandLog, CommandRequest, Selection};
use crate::health::colour;
use crate::mirror::{Inbox, Twin};

/// Screen areas covered by panels (logical px), so clicks and camera drags
/// there do not reach the scene.
#[derive(Resource, Clone, Debug, Default)]
pub struct UiRects(pub Vec<egui::Rect>);

impl UiRects {
    /// Whether `p` (logical px) is on a panel.
    pub fn contains(&self, p: Vec2) -> bool {
        self.0.iter().any(|r| r.contains(egui::pos2(p.x, p.y)))
    }
}

/// The simulation's pace, when the twin runs one.
#[derive(Resource, Clone)]
pub struct PaceControl(pub Arc<Pace>);

/// Speeds offered by the time controls.
pub const SPEEDS: [f64; 5] = [1.0, 10.0, 100.0, 1000.0, 10_000.0];

#[derive(Resource)]
struct FaultForm {
    mode: FaultMode,
    severity: f64,
    duration: usize,
}

const DURATIONS: [Option<&str>; 4] = [Some("10m"), Some("1h"), Some("8h"), None];

impl Default for FaultForm {
    fn default() -> FaultForm {
        FaultForm {
            mode: FaultMode::Imbalance,
            severity: 0.8,
            duration: 1,
        }
    }
}

/// The panels.
pub struct InspectPlugin;

impl Plugin for InspectPlugin {
    fn build(&self, app: &mut App) {
        if !app.is_plugin_added::<EguiPlugin>() {
            app.add_plugins(EguiPlugin::default());
        }
        app.init_resource::<UiRects>()
            .init_resource::<FaultForm>()
            .add_systems(EguiPrimaryContextPass, panels);
    }
}

fn colour32(h: Health) -> egui::Color32 {
    let c = colour(h).to_srgba();
    egui::Color32::from_rgb(
        (c.red * 255.0) as u8,
        (c.green * 255.0) as u8,
        (c.blue * 255.0) as u8,
    )
}

#[allow(clippy::too_many_arguments)]
fn panels(
    mut contexts: EguiContexts,
    twin: Res<Twin>,
    inbox: Option<Res<Inbox>>,
    pace: Option<Res<PaceControl>>,
    selection: Res<Selection>,
    log: Res<CommandLog>,
    mut form: ResMut<FaultForm>,
    mut rects: ResMut<UiRects>,
    mut requests: MessageWriter<CommandRequest>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let mut root = egui::Ui::new(
        ctx.clone(),
        egui::Id::new("fabtwin-root"),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    let mut covered = Vec::with_capacity(2);
    let left = egui::Panel::left("plant")
        .default_size(250.0)
        .show(&mut root, |ui| {
            overview(ui, &twin, inbox.as_deref(), pace.as_deref())
        });
    covered.push(left.response.rect);
    if let Some(id) = &selection.0 {
        let right = egui::Panel::right("machine")
            .default_size(340.0)
            .show(&mut root, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    machine(ui, &twin, id, &log, &mut form, &mut requests)
                })
            });
        covered.push(right.response.rect);
    }
    rects.0 = covered;
    Ok(())
}

fn overview(ui: &mut egui::Ui, twin: &Twin, inbox: Option<&Inbox>, pace: Option<&PaceControl>) {
    ui.heading("fabtwin");
    ui.label(format!("{} devices", twin.devices.len()));
    for (h, n) in twin.counts().iter().rev() {
        ui.colored_label(colour32(*h), format!("■ {}: {n}", h.name()));
    }
    ui.separator();
    if let Some(inbox) = inbox {
        use std::sync::atomic::Ordering::Relaxed;
        let s = &inbox.stats;
        ui.label(format!(
            "broker: {}",
            if s.connected.load(Relaxed) {
                "connected"
            } else {
                "disconnected"
            }
        ));
        ui.label(format!(
            "received {} · dropped {} · commands {}",
            s.received.load(Relaxed),
            s.dropped.load(Relaxed),
            s.published.load(Relaxed)
        ));
    }
    ui.label(format!("unreadable payloads: {}", twin.malformed));
    if let Some(m) = &twin.last_malformed {
        ui.small(format!("{}: {}", m.topic, m.reason));
    }
    for (id, line) in &twin.lines {
        ui.separator();
        ui.strong(format!("line {id}"));
        for (k, v) in &line.kpi {
            ui.label(format!("{k}: {v:.2}"));
        }
    }
    if let Some(pace) = pace {
        ui.separator();
        let (factor, paused) = pace.0.get();
        let state = match (pace.0.end(), paused) {
            (Some(_), _) => " · run finished",
            (None, true) => " · paused",
            (None, false) => "",
        };
        ui.label(format!(
            "sim time {:.2} h · ×{factor}{state}",
            pace.0.sim_now() / 3600.0
        ));
        ui.horizontal_wrapped(|ui| {
            if ui.selectable_label(paused, "⏸ pause").clicked() {
                pace.0.set(factor, !paused);
            }
            for s in SPEEDS {
                if ui
                    .selectable_label(!paused && factor == s, format!("×{s}"))
                    .clicked()
                {
                    pace.0.set(s, false);
                }
            }
        });
    }
    ui.separator();
    ui.strong("alerts");
    egui::ScrollArea::vertical().show(ui, |ui| {
        for a in twin.alerts.iter().rev().take(100) {
            ui.colored_label(colour32(a.health), format!("{}: {}", a.device, a.text));
        }
    });
}

fn machine(
    ui: &mut egui::Ui,
    twin: &Twin,
    id: &str,
    log: &CommandLog,
    form: &mut FaultForm,
    requests: &mut MessageWriter<CommandRequest>,
) {
    ui.heading(id);
    let Some(d) = twin.devices.get(id) else {
        ui.label("not heard from yet");
        return;
    };
    let h = d.health();
    ui.colored_label(colour32(h), format!("■ {}", h.name()));
    if let Some(r) = d.offline {
        ui.label(format!("offline: {}", r.name()));
    }
    if !d.reasons.is_empty() {
        ui.label(format!("past warning: {}", d.reasons.join(", ")));
    }
    ui.label(format!(
        "seq {} · {} · {} messages",
        d.last_seq.map_or("–".into(), |s| s.to_string()),
        d.last_ts,
        d.messages
    ));
    if let Some(m) = &d.meta {
        ui.label(format!(
            "{} · {:.0} rpm · line {}",
            m.machine_kind, m.rated_speed_rpm, m.line
        ));
        egui::CollapsingHeader::new("sensors")
            .default_open(false)
            .show(ui, |ui| {
                for s in &m.sensors {
                    ui.label(format!(
                        "{}: {} ({}, {} Hz)",
                        s.id, s.part, s.measures, s.odr_hz
                    ));
                }
            });
    }
    ui.separator();
    ui.strong("inject a fault");
    egui::ComboBox::from_id_salt("mode")
        .selected_text(form.mode.name())
        .show_ui(ui, |ui| {
            for m in FaultMode::ALL {
                ui.selectable_value(&mut form.mode, m, m.name());
            }
        });
    ui.add(egui::Slider::new(&mut form.severity, 0.1..=1.5).text("severity"));
    egui::ComboBox::from_id_salt("duration")
        .selected_text(DURATIONS[form.duration].unwrap_or("until cleared"))
        .show_ui(ui, |ui| {
            for (i, d) in DURATIONS.iter().enumerate() {
                ui.selectable_value(&mut form.duration, i, d.unwrap_or("until cleared"));
            }
        });
    ui.horizontal_wrapped(|ui| {
        let mut send = |action| {
            requests.write(CommandRequest {
                device: id.to_string(),
                action,
            });
        };
        if ui.button("inject").clicked() {
            send(Action::Inject {
                mode: form.mode,
                severity: form.severity,
                duration: DURATIONS[form.duration].map(str::to_string),
            });
        }
        if ui.button("link outage 3m").clicked() {
            send(Action::Outage {
                duration: "3m".into(),
            });
        }
        if ui.button("clear").clicked() {
            send(Action::Clear);
        }
    });
    if !log.last.is_empty() {
        ui.small(&log.last);
    }
    if let Some(r) = &d.last_reply {
        ui.small(format!("reply: {r}"));
    }
    ui.separator();
    for (key, points) in &d.history {
        let Some(&(newest, value)) = points.back() else {
            continue;
        };
        egui::CollapsingHeader::new(format!("{key}: {value:.3}"))
            .default_open(key.ends_with("vel_rms_mm_s") || key.ends_with("temperature_c"))
            .show(ui, |ui| {
                let pts: Vec<[f64; 2]> = points
                    .iter()
                    .map(|&(t, v)| [(t - newest) / 3600.0, v])
                    .collect();
                egui_plot::Plot::new(key.as_str())
                    .height(110.0)
                    .x_axis_label("h before newest")
                    .allow_scroll(false)
                    .show(ui, |p| p.line(egui_plot::Line::new(key.as_str(), pts)));
            });
    }
}
