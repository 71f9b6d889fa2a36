//! `fabtwin view`: the interactive 3D twin.
//!
//! With a scenario it runs the simulation, the embedded broker (or `--broker`)
//! and the twin in one process, the simulation paced by the twin's time
//! controls. With `--broker URL` and no scenario it only mirrors that broker,
//! laid out from `--layout` and from what devices announce. Either way the twin
//! reads only the broker's topics, as a pipeline would.
//!
//! The twin needs the `view` feature (bevy); without it the command explains how
//! to build it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::mqtt::AuthArgs;

/// `fabtwin view`.
#[derive(Debug, Args)]
pub struct ViewArgs {
    /// Scenario to simulate and show (omit with --broker and --layout to mirror only).
    pub scenario: Option<PathBuf>,
    /// Broker: `embedded` (with a scenario), or mqtt://host:port / mqtts://host:port.
    #[arg(long)]
    pub broker: Option<String>,
    /// Scenario file that lays out the floor when mirroring a broker.
    #[arg(long, value_name = "FILE")]
    pub layout: Option<PathBuf>,
    /// Initial pace of the simulation: sim seconds per wall second (`100x`) or `realtime`.
    #[arg(long, default_value = "100x")]
    pub speed: String,
    /// A device silent this long turns offline (e.g. 45m); default: three publish intervals.
    #[arg(long, value_name = "DURATION")]
    pub offline_after: Option<String>,
    /// Topic root to mirror.
    #[arg(long, default_value = "fabtwin")]
    pub root: String,
    /// Save a PNG of the window (after --frames, once the image is not blank) and exit.
    #[arg(long, value_name = "PNG")]
    pub screenshot: Option<PathBuf>,
    /// Frames to render before the screenshot, or before exiting without one.
    #[arg(long)]
    pub frames: Option<u32>,
    /// Open this machine's panel at start (e.g. for a screenshot).
    #[arg(long, value_name = "DEVICE")]
    pub select: Option<String>,
    /// Window size in pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x720")]
    pub size: String,
    /// Credentials and TLS for --broker.
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// Runs the twin, or explains how to build it.
#[cfg(not(feature = "view"))]
pub fn view(_: ViewArgs) -> anyhow::Result<ExitCode> {
    Err(crate::BadInput(
        "this fabtwin was built without the 3D twin: build it with `cargo build --release --features view` \
         (Debian packages: pkg-config libx11-dev libxkbcommon-dev libwayland-dev; to render offscreen: xvfb mesa-vulkan-drivers)"
            .into(),
    )
    .into())
}

#[cfg(feature = "view")]
pub use with_twin::view;

#[cfg(feature = "view")]
mod with_twin {
    use std::sync::Arc;
    use std::time::Duration;

    use anyhow::Context;
    use bevy::prelude::*;
    use bevy::window::WindowResolution;
    use fabtwin_bridge::mirror::{Link, LinkConfig, Pace, TwinState};
    use fabtwin_bridge::mqtt::fleet::Fleet;
    use fabtwin_bridge::topics::Topics;
    use fabtwin_sim::device::Fidelity;
    use fabtwin_sim::scenario::Scenario;
    use fabtwin_sim::time::SimDuration;
    use fabtwin_sim::world::World;
    use fabtwin_twins::{bevy, camera, control, inspect, layout, looks, mirror, shot};

    use super::*;
    use crate::BadInput;
    use crate::cmd::mqtt::Speed;

    /// Three of the slowest publish or heartbeat intervals, in seconds.
    fn default_silence(s: &Scenario) -> f64 {
        let slowest = s
            .gateways
            .iter()
            .map(|g| {
                g.publish_interval
                    .as_secs_f64()
                    .max(g.heartbeat.map_or(0.0, |h| h.as_secs_f64()))
            })
            .fold(0.0, f64::max);
        if slowest > 0.0 { 3.0 * slowest } else { 60.0 }
    }

    fn size(text: &str) -> Result<(u32, u32), BadInput> {
        text.split_once('x')
            .and_then(|(w, h)| Some((w.trim().parse().ok()?, h.trim().parse().ok()?)))
            .filter(|&(w, h): &(u32, u32)| (64..=8192).contains(&w) && (64..=8192).contains(&h))
            .ok_or_else(|| BadInput(format!("--size: `{text}` is not a window size (valid: WIDTHxHEIGHT, 64 to 8192, e.g. 1280x720)")))
    }

    /// Runs the twin.
    pub fn view(args: ViewArgs) -> anyhow::Result<ExitCode> {
        let window = size(&args.size)?;
        let simulate = args.scenario.is_some();
        if !simulate && args.broker.is_none() {
            return Err(BadInput(
                "give a scenario to simulate, or --broker URL (with --layout FILE) to mirror"
                    .into(),
            )
            .into());
        }
        if simulate && args.layout.is_some() {
            return Err(BadInput(
                "--layout is for mirroring a broker; a scenario lays out its own floor".into(),
            )
            .into());
        }
        let scenario = match args.scenario.as_ref().or(args.layout.as_ref()) {
            Some(p) => Some(super::super::scenario::load(p)?.0),
            None => None,
        };
        if let (Some(id), Some(sc)) = (&args.select, &scenario)
            && sc.machine_index(id).is_none()
        {
            let known: Vec<&str> = sc.machines.iter().map(|m| m.id.as_str()).collect();
            return Err(BadInput(format!(
                "--select: no machine `{id}` in {} (known: {})",
                sc.name,
                known.join(", ")
            ))
            .into());
        }
        let factor = match super::super::mqtt::speed(&args.speed)? {
            Speed::Factor(f) => f,
            Speed::Max => return Err(BadInput(
                "--speed: the twin paces its simulation; give `realtime` or a factor such as 100x"
                    .into(),
            )
            .into()),
        };
        let silence = match &args.offline_after {
            Some(t) => SimDuration::parse(t)
                .map_err(|e| BadInput(format!("--offline-after: {e}")))?
                .as_secs_f64(),
            None => scenario.as_ref().map_or(60.0, default_silence),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let broker = args.broker.clone().unwrap_or_else(|| "embedded".into());
        let prefix = format!("fabtwin-view-{}-", std::process::id());
        let target = runtime
            .block_on(async { super::super::mqtt::target(&broker, &args.auth, false, &prefix) })?
            .ok_or_else(|| BadInput("--broker none: the twin needs a broker to mirror".into()))?;
        let pace = Arc::new(Pace::new(factor));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let sim = match (&scenario, simulate) {
            (Some(sc), true) => {
                let world = World::new(sc.clone(), Fidelity::Features);
                let connect = target.connect.clone();
                let pace = pace.clone();
                Some(runtime.spawn(async move { paced(world, connect, pace, stopped).await }))
            }
            _ => None,
        };
        let _guard = runtime.enter();
        let link = Link::start(&LinkConfig {
            host: target.connect.host.clone(),
            port: target.connect.port,
            client_id: format!("{prefix}twin"),
            root: args.root.clone(),
            credentials: target
                .admin
                .clone()
                .or_else(|| target.connect.credentials.clone()),
            tls: target.connect.tls.clone(),
        });
        let publisher = link.publisher();
        let layout = scenario
            .as_ref()
            .map(layout::Layout::from_scenario)
            .unwrap_or_default();

        let mut app = App::new();
        app.add_plugins(
            DefaultPlugins
                .build()
                .disable::<bevy::log::LogPlugin>()
                .set(WindowPlugin {
                    primary_window: Some(Window {
                        title: format!(
                            "fabtwin · {}",
                            scenario
                                .as_ref()
                                .map_or(broker.as_str(), |s| s.name.as_str())
                        ),
                        resolution: WindowResolution::new(window.0, window.1),
                        ..default()
                    }),
                    ..default()
                }),
        )
        .add_plugins(MeshPickingPlugin)
        .insert_resource(layout)
        .insert_resource(mirror::Twin(TwinState::new(&args.root, silence)))
        .insert_resource(if simulate {
            mirror::TwinClock::Sim(pace.clone())
        } else {
            mirror::TwinClock::default()
        })
        .insert_resource(mirror::Inbox::new(link.inbox, link.stats.clone()))
        .insert_resource(control::CommandLink(publisher))
        .add_plugins(fabtwin_twins::TwinLogicPlugins)
        .add_plugins((
            looks::LooksPlugin,
            fabtwin_twins::flow::FlowPlugin,
            camera::CameraPlugin,
            inspect::InspectPlugin,
        ))
        .add_plugins(shot::FrameStatsPlugin {
            exit_after: args.frames.filter(|_| args.screenshot.is_none()),
        });
        if simulate {
            app.insert_resource(inspect::PaceControl(pace.clone()));
        }
        if let Some(id) = &args.select {
            app.insert_resource(control::Selection(Some(id.clone())));
        }
        if let Some(path) = &args.screenshot {
            app.add_plugins(shot::ShotPlugin {
                path: path.clone(),
                frame: args.frames.unwrap_or(60),
            });
        }
        let exit = app.run();
        let _ = stop.send(());
        if let Some(sim) = sim {
            match runtime
                .block_on(async { tokio::time::timeout(Duration::from_secs(15), sim).await })
            {
                Ok(Ok(Err(e))) => eprintln!("simulation: {e:#}"),
                Ok(Err(e)) => eprintln!("simulation task: {e}"),
                _ => {}
            }
        }
        drop(_guard);
        runtime.shutdown_timeout(Duration::from_secs(2));
        Ok(match exit {
            AppExit::Success => ExitCode::SUCCESS,
            AppExit::Error(_) => ExitCode::from(1),
        })
    }

    /// The simulation behind the twin: paced by `pace`, published like `run`
    /// does, sessions kept open after the last instant until `stop`.
    async fn paced(
        mut world: World,
        connect: fabtwin_bridge::mqtt::fleet::Connect,
        pace: Arc<Pace>,
        mut stop: tokio::sync::oneshot::Receiver<()>,
    ) -> anyhow::Result<()> {
        let topics = Topics::default();
        let mut fleet = Fleet::connect(world.scenario(), &topics, &connect)
            .await
            .context("cannot set up the MQTT sessions")?;
        fleet.settle = false;
        while let Some(step) = world.step() {
            tokio::select! {
                _ = pace.wait_until(step.t.as_secs_f64()) => {}
                _ = &mut stop => {
                    fleet.finish(Duration::from_secs(5)).await;
                    return Ok(());
                }
            }
            crate::cmd::wire::on_wire(&mut world, &mut fleet, &step, &topics).await;
        }
        pace.end_at(world.scenario().duration.as_secs_f64());
        let _ = stop.await;
        fleet.finish(Duration::from_secs(5)).await;
        Ok(())
    }
}
