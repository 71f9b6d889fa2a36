//! [`MirrorPlugin`]: broker messages into the [`Twin`] resource.
//!
//! The link's inbox (a [`fabtwin_bridge::mirror::Link`]) is drained each frame
//! into [`Mirrored`] messages, the one way broker state enters the app; tests
//! write `Mirrored` directly. The clock that ages silent devices is
//! [`TwinClock`]: the simulation's own pace when the twin runs one, the wall
//! clock when it mirrors an external broker.

use std::sync::{Arc, Mutex, mpsc::Receiver};
use std::time::Instant;

use bevy::prelude::*;
use fabtwin_bridge::mirror::{Inbound, LinkStats, Pace, TwinState};

/// One message from the broker.
#[derive(Message, Clone, Debug)]
pub struct Mirrored {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: Vec<u8>,
}

/// The mirrored plant.
#[derive(Resource, Debug, Deref, DerefMut)]
pub struct Twin(pub TwinState);

impl Default for Twin {
    fn default() -> Twin {
        Twin(TwinState::new("fabtwin", 3600.0))
    }
}

/// The clock of the mirror, in seconds.
#[derive(Resource, Clone, Debug)]
pub enum TwinClock {
    /// Wall seconds since the twin started.
    Wall(Instant),
    /// Sim seconds of the simulation the twin paces.
    Sim(Arc<Pace>),
    /// Set by hand (tests).
    Manual(f64),
}

impl Default for TwinClock {
    fn default() -> TwinClock {
        TwinClock::Wall(Instant::now())
    }
}

impl TwinClock {
    /// Seconds now.
    pub fn now(&self) -> f64 {
        match self {
            TwinClock::Wall(t0) => t0.elapsed().as_secs_f64(),
            TwinClock::Sim(pace) => pace.sim_now(),
            TwinClock::Manual(t) => *t,
        }
    }
}

/// The broker link's inbox and figures, when there is a link.
#[derive(Resource)]
pub struct Inbox {
    rx: Mutex<Receiver<Inbound>>,
    /// The link's live figures.
    pub stats: Arc<LinkStats>,
}

impl Inbox {
    /// Wraps a link's receiving end.
    pub fn new(rx: Receiver<Inbound>, stats: Arc<LinkStats>) -> Inbox {
        Inbox {
            rx: Mutex::new(rx),
            stats,
        }
    }
}

/// Most messages moved from the inbox per frame (the rest wait for the next).
pub const PER_FRAME: usize = 20_000;

/// Mirrors broker messages into [`Twin`].
pub struct MirrorPlugin;

impl Plugin for MirrorPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<Mirrored>()
            .init_resource::<Twin>()
            .init_resource::<TwinClock>()
            .add_systems(PreUpdate, (drain_inbox, apply_mirrored, age_silent).chain());
    }
}

fn drain_inbox(inbox: Option<Res<Inbox>>, mut out: MessageWriter<Mirrored>) {
    let Some(inbox) = inbox else { return };
    let Ok(rx) = inbox.rx.lock() else { return };
    for m in rx.try_iter().take(PER_FRAME) {
        out.write(Mirrored {
            topic: m.topic,
            payload: m.payload,
        });
    }
}

fn apply_mirrored(
    mut read: MessageReader<Mirrored>,
    mut twin: ResMut<Twin>,
    clock: Res<TwinClock>,
) {
    if read.is_empty() {
        return;
    }
    let now = clock.now();
    for m in read.read() {
        if let Err(e) = twin.apply(&m.topic, &m.payload, now) {
            tracing::debug!("malformed message on {}: {}", e.topic, e.reason);
        }
    }
}

fn age_silent(mut twin: ResMut<Twin>, clock: Res<TwinClock>) {
    let now = clock.now();
    // Only touch the resource (and wake change detection) when a device turns offline.
    let timeout = twin.silence_timeout;
    let due = twin
        .devices
        .values()
        .any(|d| d.offline.is_none() && d.last_seen.is_some_and(|seen| now - seen > timeout));
    if due {
        twin.tick(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{app, at, telemetry};

    #[test]
    fn malformed_payloads_are_counted_and_the_rest_still_applies() {
        let mut app = app(3600.0);
        at(
            &mut app,
            0.0,
            vec![
                Mirrored {
                    topic: "fabtwin/plant1/gw1/pump01/telemetry".into(),
                    payload: b"\xff\x00garbage".to_vec(),
                },
                telemetry("fan01", "warning", "B"),
                Mirrored {
                    topic: "fabtwin/plant1/gw1/status".into(),
                    payload: b"sideways".to_vec(),
                },
            ],
        );
        let twin = app.world().resource::<Twin>();
        assert_eq!(twin.malformed, 2);
        assert_eq!(twin.devices["fan01"].level, "warning");
        assert!(!twin.devices.contains_key("pump01"));
    }

    #[test]
    fn the_link_inbox_feeds_the_twin() {
        let mut app = app(3600.0);
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        app.insert_resource(Inbox::new(rx, Default::default()));
        let m = telemetry("motor01", "good", "A");
        tx.send(Inbound {
            topic: m.topic,
            payload: m.payload,
        })
        .unwrap();
        app.update();
        assert_eq!(
            app.world().resource::<Twin>().devices["motor01"].messages,
            1
        );
    }
}
