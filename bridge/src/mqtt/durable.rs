//! A durable [`Outbox`]: a gateway's messages live in a crash-safe
//! [`Buffer`] directory until the broker acknowledges them, so they survive a
//! `kill -9` of fabtwin and are delivered after a restart (`--resume`).
//!
//! - **Devices.** The trait's device index maps to a device id through the
//!   list given to [`DurableOutbox::open`]; the buffer stores ids. A directory
//!   must be reopened with a list naming every device it still holds messages
//!   for (else the open fails rather than guess).
//! - **Recovery.** Messages held at open (un-acknowledged, including those in
//!   flight at the crash) are handed out first by `take_unsent`, in their
//!   original order and with their original ids.
//! - **Time.** The TTL needs a "now": the outbox uses sim time, the largest
//!   `t_ns` offered so far (0 after open until the first offer). Nothing
//!   depends on the wall clock, and a recovered message cannot expire before
//!   the resumed run's sim time has moved past it.
//! - **Accounting.** Every message that leaves without an acknowledgement is
//!   reported exactly once as (device, seq): those an offer removed in its
//!   [`Offer::StoredDropped`]; those removed elsewhere (expired while being
//!   handed out, or by an offer that was itself refused) in the next
//!   `StoredDropped` or by [`Outbox::take_dropped`], whichever comes first.
//!   A refused offer ([`Offer::Rejected`]: reject-new policy, everything in
//!   flight, too large) drops only the offered message.
//! - **Acks.** As with [`MemoryOutbox`](super::outbox::MemoryOutbox), an
//!   ack settles a message in flight; unlike it, a late ack of a message
//!   already requeued settles it too (it is not sent again).
//! - **Errors.** The trait is infallible. An I/O error is logged once per
//!   kind (`tracing::error!`), counted ([`DurableOutbox::errors`]), and the
//!   outbox goes on safely: a failed push is an [`Offer::Rejected`] (dropped
//!   and reported, never silently lost); a failed hand-out hands out nothing
//!   (the messages stay on disk); a failed ack leaves the message held (sent
//!   again after a restart: a duplicate, never a loss). After
//!   [`BufferError::Poisoned`] every write fails until the next open, which
//!   recovers the directory.
//! - **Sync.** With [`SyncPolicy::Batch`], `take_unsent` syncs the pushes made
//!   since the last hand-out first (group commit), so nothing reaches the
//!   broker that a power loss could undo. Dropping the outbox syncs too;
//!   [`DurableOutbox::close`] reports how that went.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use fabtwin_sim::scenario::{BufferPolicy, Overflow as PolicyOverflow};

use super::outbox::{Offer, OutRecord, Outbox};
use crate::buffer::{
    Buffer, BufferError, DeviceStats, Limits, Overflow, Push, Recovery, Reject, Removed, Stats,
    SyncPolicy,
};

/// QoS stored with each message (the session decides what it publishes at).
const QOS: u8 = 1;
const OPEN: &str = "the buffer is open until close or drop";

/// An [`Outbox`] backed by a durable [`Buffer`]. See the [module docs](self).
#[derive(Debug)]
pub struct DurableOutbox {
    /// `None` only while closing or dropping.
    buf: Option<Buffer>,
    /// Index → device id.
    devices: Vec<String>,
    /// Device id → index.
    index: HashMap<String, usize>,
    /// Sim time "now" for the TTL: the largest `t_ns` offered.
    now_ns: u64,
    /// Removals not yet reported.
    pending: Vec<(usize, u64)>,
    /// Pushes not yet synced (with [`SyncPolicy::Batch`]).
    unsynced: bool,
    errors: u64,
    logged: HashSet<String>,
}

impl DurableOutbox {
    /// Opens (or creates) the outbox in `dir`. `devices` maps device index to
    /// device id. `policy.max_bytes` bounds the bytes held as the buffer
    /// counts them (payload, topic, device id and
    /// [`RECORD_OVERHEAD_BYTES`](crate::buffer::RECORD_OVERHEAD_BYTES) each).
    /// Fails if the buffer cannot be opened, if a device id is listed twice,
    /// or if the directory holds messages of a device not in `devices`.
    pub fn open(
        dir: &Path,
        devices: Vec<String>,
        policy: BufferPolicy,
        sync: SyncPolicy,
    ) -> Result<(DurableOutbox, Recovery), BufferError> {
        let mut index = HashMap::with_capacity(devices.len());
        for (i, d) in devices.iter().enumerate() {
            if index.insert(d.clone(), i).is_some() {
                let what = format!("device id `{d}` is listed twice");
                return Err(BufferError::BadOptions { what });
            }
        }
        let limits = Limits {
            max_messages: Some(policy.max_messages),
            max_bytes: policy.max_bytes,
            ttl_ns: policy.ttl.map(|d| d.0),
        };
        let overflow = match policy.overflow {
            PolicyOverflow::DropOldest => Overflow::DropOldest,
            PolicyOverflow::RejectNew => Overflow::RejectNew,
        };
        let (buf, recovery) = Buffer::open(dir, limits, overflow, sync)?;
        let stray = buf
            .device_stats()
            .find(|(d, s)| s.buffered > 0 && !index.contains_key(*d));
        if let Some((d, s)) = stray {
            let what = format!(
                "{} holds {} message(s) of device `{d}`, which is not in this scenario; \
                 resume with the scenario that wrote it, or remove the directory",
                dir.display(),
                s.buffered
            );
            return Err(BufferError::BadOptions { what });
        }
        let outbox = DurableOutbox {
            buf: Some(buf),
            devices,
            index,
            now_ns: 0,
            pending: Vec::new(),
            unsynced: false,
            errors: 0,
            logged: HashSet::new(),
        };
        Ok((outbox, recovery))
    }

    /// The highest seq ever offered for `device` (stored or refused), as
    /// persisted in the directory: a resumed run continues from `last_seq + 1`.
    pub fn last_seq(&self, device: usize) -> Option<u64> {
        self.device_stats(device).and_then(|s| s.last_seq)
    }

    /// The buffer's persisted counts for `device`, if it ever offered.
    pub fn device_stats(&self, device: usize) -> Option<DeviceStats> {
        let name = self.devices.get(device)?;
        self.buf().device(name)
    }

    /// The buffer's persisted totals (see [`Stats`]).
    pub fn stats(&self) -> Stats {
        self.buf().stats()
    }

    /// Buffer operations that failed (each logged once per kind).
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Syncs and closes the buffer. Dropping the outbox instead is safe (it
    /// syncs, and logs a failure).
    pub fn close(mut self) -> Result<(), BufferError> {
        self.buf.take().map_or(Ok(()), Buffer::close)
    }

    fn buf(&self) -> &Buffer {
        self.buf.as_ref().expect(OPEN)
    }

    /// Queues removals to report, with their device indexes.
    fn note(&mut self, removed: &[Removed]) {
        for r in removed {
            let device = device_index(&self.index, &r.device);
            self.pending.push((device, r.seq));
        }
    }

    fn fail(&mut self, op: &'static str, e: &BufferError) {
        self.errors += 1;
        let kind = format!("{op}/{:?}", std::mem::discriminant(e));
        if self.logged.insert(kind) {
            tracing::error!(op, error = %e, "durable outbox: buffer operation failed (further errors of this kind are only counted)");
        }
    }
}

/// Device ids in the buffer are all known (checked at open, and every push
/// uses a listed id), so the fallback is never used.
fn device_index(index: &HashMap<String, usize>, device: &str) -> usize {
    index.get(device).copied().unwrap_or(usize::MAX)
}

impl Outbox for DurableOutbox {
    fn offer(&mut self, device: usize, seq: u64, t_ns: u64, topic: &str, payload: &[u8]) -> Offer {
        self.now_ns = self.now_ns.max(t_ns);
        let Some(name) = self.devices.get(device) else {
            if self.logged.insert(format!("device/{device}")) {
                tracing::error!(
                    device,
                    "durable outbox: unknown device index; message dropped"
                );
            }
            return Offer::Rejected;
        };
        let buf = self.buf.as_mut().expect(OPEN);
        match buf.push(name, seq, t_ns, topic, QOS, payload, self.now_ns) {
            Ok(Push::Stored { removed, .. }) => {
                self.unsynced = true;
                self.note(&removed);
                if self.pending.is_empty() {
                    Offer::Stored
                } else {
                    Offer::StoredDropped(std::mem::take(&mut self.pending))
                }
            }
            Ok(Push::Rejected { reason, removed }) => {
                self.note(&removed);
                let normal = matches!(reason, Reject::Full | Reject::InFlight);
                if !normal && self.logged.insert(format!("reject/{reason:?}")) {
                    tracing::warn!(?reason, device = %self.devices[device], seq, "durable outbox: message refused");
                }
                Offer::Rejected
            }
            Err(e) => {
                self.fail("push", &e);
                Offer::Rejected
            }
        }
    }

    fn take_unsent(&mut self, max: usize) -> Vec<OutRecord> {
        if max == 0 {
            return Vec::new();
        }
        let (now, buf) = (self.now_ns, self.buf.as_mut().expect(OPEN));
        if self.unsynced && buf.options().sync == SyncPolicy::Batch {
            self.unsynced = false;
            if let Err(e) = buf.sync() {
                self.fail("sync", &e);
            }
        }
        let buf = self.buf.as_mut().expect(OPEN);
        match buf.next_unsent(max, now) {
            Ok(u) => {
                self.note(&u.expired);
                let index = &self.index;
                u.records
                    .into_iter()
                    .map(|r| OutRecord {
                        id: r.id,
                        device: device_index(index, &r.device),
                        seq: r.seq,
                        t_ns: r.t_ns,
                        topic: r.topic,
                        payload: r.payload,
                    })
                    .collect()
            }
            Err(e) => {
                self.fail("next_unsent", &e);
                Vec::new()
            }
        }
    }

    fn ack(&mut self, id: u64) {
        if let Err(e) = self.buf.as_mut().expect(OPEN).ack(id) {
            self.fail("ack", &e);
        }
    }

    fn requeue_in_flight(&mut self) {
        self.buf.as_mut().expect(OPEN).requeue_in_flight();
    }

    fn len(&self) -> usize {
        self.buf.as_ref().map_or(0, |b| b.len() as usize)
    }

    fn take_dropped(&mut self) -> Vec<(usize, u64)> {
        std::mem::take(&mut self.pending)
    }
}

impl Drop for DurableOutbox {
    fn drop(&mut self) {
        if let Some(buf) = self.buf.take()
            && let Err(e) = buf.close()
        {
            tracing::error!(error = %e, "durable outbox: could not sync the buffer at close");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::outbox::MemoryOutbox;
    use PolicyOverflow::{DropOldest, RejectNew};
    use SyncPolicy::{Batch, EveryWrite};

    fn devices() -> Vec<String> {
        vec!["pump01".to_string(), "press02".to_string()]
    }

    fn policy(max: u64, overflow: PolicyOverflow, ttl: Option<u64>) -> BufferPolicy {
        let ttl = ttl.map(fabtwin_sim::time::SimDuration);
        BufferPolicy {
            max_messages: max,
            max_bytes: None,
            overflow,
            ttl,
            ..BufferPolicy::default()
        }
    }

    fn open(dir: &Path, p: BufferPolicy, sync: SyncPolicy) -> (DurableOutbox, Recovery) {
        DurableOutbox::open(dir, devices(), p, sync).expect("opens")
    }

    fn seqs(rs: &[OutRecord]) -> Vec<(usize, u64)> {
        rs.iter().map(|r| (r.device, r.seq)).collect()
    }

    /// Offers seq `s` of device `s % 2` at sim time `s`.
    fn offer(o: &mut dyn Outbox, s: u64) -> Offer {
        o.offer((s % 2) as usize, s, s, "t", &s.to_le_bytes())
    }

    impl DurableOutbox {
        /// What a `kill -9` leaves: the buffer dropped without a sync.
        fn crash(mut self) {
            drop(self.buf.take());
        }
    }

    /// A session's worth of calls; returns everything observable.
    fn script(o: &mut dyn Outbox) -> Vec<String> {
        let mut log: Vec<_> = (0..3).map(|s| format!("{:?}", offer(o, s))).collect();
        let first = o.take_unsent(2);
        log.push(format!("{first:?}"));
        o.ack(first[0].id);
        o.requeue_in_flight();
        log.push(format!("{:?} {}", o.take_unsent(10), o.len()));
        log.push(format!("{:?} {:?}", offer(o, 3), offer(o, 4)));
        log.push(format!("{:?} {:?}", o.take_unsent(1), offer(o, 5)));
        o.ack(2);
        o.requeue_in_flight();
        log.push(format!("{:?} {}", o.take_unsent(10), o.len()));
        log
    }

    #[test]
    fn behaves_like_the_memory_outbox() {
        for overflow in [DropOldest, RejectNew] {
            let tmp = tempfile::tempdir().unwrap();
            let (mut d, _) = open(tmp.path(), policy(3, overflow, None), EveryWrite);
            let want = script(&mut MemoryOutbox::new(3, overflow == RejectNew));
            assert_eq!(script(&mut d), want);
            let full = match overflow {
                DropOldest => "Stored StoredDropped([(1, 3)])",
                RejectNew => "Stored Rejected",
            };
            assert_eq!(want[5], full);
            assert!(want[6].ends_with("Rejected"), "{want:?}");
            assert!(d.take_dropped().is_empty());
            // Unlike MemoryOutbox, a late PUBACK of a requeued message settles it.
            d.requeue_in_flight();
            d.ack(1);
            assert_eq!(d.len(), 1);
        }
    }

    #[test]
    fn reopen_returns_unacked_in_order() {
        for sync in [EveryWrite, Batch] {
            let tmp = tempfile::tempdir().unwrap();
            let p = policy(100, DropOldest, None);
            let (mut o, rec) = open(tmp.path(), p, sync);
            assert!(rec.fresh);
            assert!((0..6).all(|s| offer(&mut o, s) == Offer::Stored));
            let out = o.take_unsent(3);
            o.ack(out[1].id);
            o.close().unwrap();
            let (mut o, rec) = open(tmp.path(), p, sync);
            assert_eq!(rec.records, 5);
            assert_eq!((o.last_seq(0), o.last_seq(1)), (Some(4), Some(5)));
            let again = o.take_unsent(10);
            assert_eq!(seqs(&again), [(0, 0), (0, 2), (1, 3), (0, 4), (1, 5)]);
            assert_eq!((again[0].id, again[1].id), (out[0].id, out[2].id));
            assert_eq!(again[1].payload, 2u64.to_le_bytes());
            assert_eq!(o.stats().acked, 1);
        }
    }

    #[test]
    fn drop_oldest_reports_exactly_what_it_drops() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut o, _) = open(tmp.path(), policy(4, DropOldest, None), EveryWrite);
        let mut dropped = Vec::new();
        for s in 0..12 {
            if s == 2 {
                assert_eq!(seqs(&o.take_unsent(2)), [(0, 0), (1, 1)]);
            }
            match offer(&mut o, s) {
                Offer::StoredDropped(d) => dropped.extend(d),
                other => assert_eq!(other, Offer::Stored),
            }
        }
        // The two in flight are never dropped; the others make room, oldest first.
        let want: Vec<_> = (2..10).map(|s| ((s % 2) as usize, s)).collect();
        assert_eq!(dropped, want);
        let s = o.stats();
        assert_eq!((s.dropped_oldest, s.buffered, s.stored), (8, 4, 12));
        assert_eq!(o.device_stats(0).unwrap().dropped_oldest, 4);
        o.requeue_in_flight();
        assert_eq!(seqs(&o.take_unsent(10)), [(0, 0), (1, 1), (0, 10), (1, 11)]);
    }

    #[test]
    fn crash_then_reopen_loses_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let p = policy(1000, DropOldest, None);
        let (mut o, _) = open(tmp.path(), p, EveryWrite);
        assert!((0..50).all(|s| offer(&mut o, s) == Offer::Stored));
        let out = o.take_unsent(30);
        let acked: Vec<u64> = out
            .iter()
            .filter(|r| r.seq % 3 == 0)
            .map(|r| r.id)
            .collect();
        acked.iter().for_each(|&id| o.ack(id));
        o.crash();
        let (mut o, rec) = open(tmp.path(), p, EveryWrite);
        assert_eq!((rec.records, rec.lost), (50 - acked.len() as u64, 0));
        let back = o.take_unsent(100);
        let want: Vec<u64> = (0..50).filter(|s| s % 3 != 0 || *s >= 30).collect();
        assert_eq!(back.iter().map(|r| r.seq).collect::<Vec<_>>(), want);
        assert!(back.iter().all(|r| r.payload == r.seq.to_le_bytes()));
        assert_eq!(o.stats().acked, acked.len() as u64);
        // Ids carry on; seq numbering can carry on from the persisted last seq.
        assert_eq!(o.last_seq(1), Some(49));
        assert_eq!(offer(&mut o, 51), Offer::Stored);
        assert_eq!(o.take_unsent(1)[0].id, 50);
    }

    #[test]
    fn reject_new_keeps_the_old() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut o, _) = open(tmp.path(), policy(2, RejectNew, None), EveryWrite);
        assert_eq!(offer(&mut o, 0), Offer::Stored);
        assert_eq!(offer(&mut o, 1), Offer::Stored);
        assert_eq!(offer(&mut o, 2), Offer::Rejected);
        assert_eq!(o.offer(7, 0, 1, "t", b"x"), Offer::Rejected); // unknown device index
        assert_eq!(seqs(&o.take_unsent(10)), [(0, 0), (1, 1)]);
        let s = o.stats();
        assert_eq!(
            (s.rejected, s.dropped_oldest, o.last_seq(0)),
            (1, 0, Some(2))
        );
        assert_eq!(o.errors(), 0);
    }

    #[test]
    fn ttl_expiries_are_reported_once() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut o, _) = open(tmp.path(), policy(100, DropOldest, Some(10)), EveryWrite);
        assert_eq!(o.offer(0, 0, 0, "t", b"x"), Offer::Stored);
        assert_eq!(o.offer(0, 1, 5, "t", b"x"), Offer::Stored);
        // Now is 20: both are older than the TTL.
        let both = Offer::StoredDropped(vec![(0, 0), (0, 1)]);
        assert_eq!(o.offer(1, 0, 20, "t", b"x"), both);
        // Out of order in sim time: stored, then found expired when handed out.
        assert_eq!(o.offer(0, 2, 3, "t", b"x"), Offer::Stored);
        assert_eq!(seqs(&o.take_unsent(5)), [(1, 0)]);
        assert_eq!(o.take_dropped(), [(0, 2)]);
        assert!(o.take_dropped().is_empty());
        // One not taken by take_dropped goes out with the next offer instead.
        assert_eq!(o.offer(0, 3, 4, "t", b"x"), Offer::Stored);
        assert!(o.take_unsent(5).is_empty());
        let next = o.offer(1, 1, 20, "t", b"x");
        assert_eq!(next, Offer::StoredDropped(vec![(0, 3)]));
        assert_eq!(o.stats().expired, 4);
    }

    #[test]
    fn reopen_with_a_missing_device_fails() {
        let tmp = tempfile::tempdir().unwrap();
        let p = policy(10, DropOldest, None);
        let (mut o, _) = open(tmp.path(), p, EveryWrite);
        assert_eq!(offer(&mut o, 1), Offer::Stored);
        drop(o);
        let only = vec!["pump01".to_string()];
        let e = DurableOutbox::open(tmp.path(), only, p, EveryWrite).unwrap_err();
        assert!(e.to_string().contains("press02"), "{e}");
    }
}
