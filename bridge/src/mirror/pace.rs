//! [`Pace`]: how fast a simulation runs against the wall clock, changed live
//! (pause, ×1, ×10, ×100 …) by whoever watches it, typically the twin.
//!
//! The simulation awaits [`Pace::wait_until`] before each sim instant; the
//! watcher reads [`Pace::sim_now`] as its clock and calls [`Pace::set`]. A
//! change re-anchors the mapping at the current sim time, so speeding up or
//! pausing never jumps the simulation.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

#[derive(Clone, Copy, Debug)]
struct Anchor {
    wall: Instant,
    sim: f64,
    factor: f64,
    paused: bool,
    end: f64,
}

impl Anchor {
    fn sim_at(&self, wall: Instant) -> f64 {
        let t = if self.paused {
            self.sim
        } else {
            self.sim + wall.saturating_duration_since(self.wall).as_secs_f64() * self.factor
        };
        t.min(self.end)
    }
}

/// A live-controlled pace (sim seconds per wall second, or paused).
#[derive(Debug)]
pub struct Pace {
    anchor: Mutex<Anchor>,
    changed: Notify,
}

impl Pace {
    /// Starts at sim time 0, running at `factor` sim seconds per wall second.
    pub fn new(factor: f64) -> Pace {
        Pace {
            anchor: Mutex::new(Anchor {
                wall: Instant::now(),
                sim: 0.0,
                factor: factor.max(1e-9),
                paused: false,
                end: f64::INFINITY,
            }),
            changed: Notify::new(),
        }
    }

    fn anchor(&self) -> std::sync::MutexGuard<'_, Anchor> {
        // A panic elsewhere cannot leave an Anchor half-written: it is Copy.
        self.anchor.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the speed and whether it is paused, from the current sim time on.
    pub fn set(&self, factor: f64, paused: bool) {
        let mut a = self.anchor();
        let now = Instant::now();
        a.sim = a.sim_at(now);
        a.wall = now;
        a.factor = factor.max(1e-9);
        a.paused = paused;
        drop(a);
        self.changed.notify_waiters();
    }

    /// Stops the clock at sim time `end` (the end of the run): what is shown
    /// then stays as the run left it instead of ageing.
    pub fn end_at(&self, end: f64) {
        self.anchor().end = end;
    }

    /// Sim time the clock stops at, if the run has ended.
    pub fn end(&self) -> Option<f64> {
        Some(self.anchor().end).filter(|e| e.is_finite())
    }

    /// Current speed factor and whether it is paused.
    pub fn get(&self) -> (f64, bool) {
        let a = self.anchor();
        (a.factor, a.paused)
    }

    /// Sim seconds the wall clock has reached at this pace.
    pub fn sim_now(&self) -> f64 {
        self.anchor().sim_at(Instant::now())
    }

    /// Waits until the wall clock reaches sim time `sim_s` at the current pace
    /// (forever while paused; a change of pace takes effect at once).
    pub async fn wait_until(&self, sim_s: f64) {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let wait = {
                let a = self.anchor();
                if a.paused {
                    None
                } else {
                    let ahead = sim_s - a.sim_at(Instant::now());
                    if ahead <= 0.0 {
                        return;
                    }
                    Some(Duration::from_secs_f64(ahead / a.factor))
                }
            };
            match wait {
                Some(d) => {
                    tokio::select! {
                        _ = tokio::time::sleep(d) => {}
                        _ = &mut notified => {}
                    }
                }
                None => notified.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fast_pace_reaches_its_instant_and_a_pause_holds_it() {
        let pace = std::sync::Arc::new(Pace::new(1000.0));
        // 5 sim seconds at ×1000 is 5 ms of wall time; bounded by the timeout.
        tokio::time::timeout(Duration::from_secs(5), pace.wait_until(5.0))
            .await
            .expect("reached");
        assert!(pace.sim_now() >= 5.0);
        pace.set(1000.0, true);
        let held = pace.sim_now();
        let waiting = {
            let p = pace.clone();
            tokio::spawn(async move { p.wait_until(held + 1.0).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "paused: sim time does not advance");
        assert_eq!(pace.sim_now(), held);
        assert_eq!(pace.get(), (1000.0, true));
        pace.set(1000.0, false);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("resumed")
            .unwrap();
        // After the run's end the clock stands still.
        let end = pace.sim_now();
        pace.end_at(end);
        assert_eq!(pace.end(), Some(end));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(pace.sim_now(), end);
    }
}
