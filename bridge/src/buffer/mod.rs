//! # Store-and-forward buffer, one per gateway
//!
//! A gateway pushes every telemetry message into its [`Buffer`] before it goes
//! to MQTT, and the buffer owns the message until its PUBACK arrives: the MQTT
//! client's own queue is never trusted (rumqttc empties it on a clean-session
//! reconnect). The buffer is bounded ([`Limits`]), has a declared
//! [`Overflow`] policy, expires records older than a TTL, and lives on disk,
//! so that after a crash and reopen (`--resume`) exactly the records not yet
//! acknowledged come back, in order, with their ids and sim times.
//!
//! ```
//! use fabtwin_bridge::buffer::{Ack, Buffer, Limits, Overflow, Push, SyncPolicy};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let tmp = tempfile::tempdir()?; let dir = tmp.path();
//! let limits = Limits { max_messages: Some(10_000), ..Limits::default() };
//! let (mut buf, _recovery) =
//!     Buffer::open(dir, limits, Overflow::DropOldest, SyncPolicy::EveryWrite)?;
//! let topic = "fabtwin/plant1/line1-gw/pump01/telemetry";
//! // device, seq, sim time (ns), topic, QoS, payload, now (ns)
//! let Push::Stored { id, .. } = buf.push("pump01", 0, 1_000, topic, 1, b"{}", 1_000)? else {
//!     unreachable!("an empty buffer stores")
//! };
//! let batch = buf.next_unsent(100, 1_000)?; // hand these to the MQTT client
//! assert_eq!(batch.records[0].id, id);
//! // ... PUBACK for `id` arrives:
//! assert_eq!(buf.ack(id)?, Ack::Acked);
//! assert_eq!(buf.len(), 0);
//! # Ok(()) }
//! ```
//!
//! ## Life of a record
//!
//! [`Buffer::push`] stores it (unsent). [`Buffer::next_unsent`] hands out the
//! oldest unsent records and marks them in flight. [`Buffer::ack`] settles one
//! (in any order). On a lost connection [`Buffer::requeue_in_flight`] puts the
//! in-flight records back, ahead of newer ones. A record is settled in exactly
//! one way (acknowledged, dropped by [`Overflow::DropOldest`], expired, or
//! lost), so that at every moment, and across reopens,
//! `stored == acked + dropped_oldest + expired + lost + buffered`
//! ([`Stats`]), in total and per device ([`DeviceStats`], without `lost`).
//! A record that has been handed out is never dropped or expired: the broker
//! may already hold it, and counting it as dropped would be a lie. (After a
//! reopen, records handed out before the crash count as never sent.)
//!
//! ## On disk
//!
//! The directory holds `lock` (held with an exclusive file lock while open),
//! `journal.log` and segment files `seg-<first id>.log`. Segments hold the
//! records, appended, each framed with its length and a CRC-32; the journal
//! holds one framed entry per settled record (acknowledged, dropped, expired)
//! and per refused push, behind a header with the counts of everything
//! already folded away. A segment whose records are all settled is deleted
//! (the newest is kept until a newer one starts); the journal is rewritten
//! compactly from time to time. A `kill -9` mid-write leaves at most a torn
//! last frame, which the next open detects by length and CRC, truncates and
//! reports in [`Recovery`]. See `frame.rs`, `segment.rs` and `journal.rs` for
//! the byte layouts, and [`SyncPolicy`] for what survives a power loss.

mod error;
mod frame;
mod journal;
mod outcome;
mod policy;
mod recover;
mod segment;
mod stats;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use error::BufferError;
pub use outcome::{Ack, Push, Record, Reject, Removal, Removed, Unsent};
pub use policy::{Limits, Options, Overflow, RECORD_OVERHEAD_BYTES, SyncPolicy};
pub use stats::{DeviceStats, Recovery, Stats, Truncated};

use error::io;
use frame::{Kind, RecordRef};
use journal::{Counts, Header, Journal};
use segment::Segment;

/// Where a record stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting; `sent` if it has been handed out before (and requeued).
    Unsent {
        sent: bool,
    },
    InFlight,
    /// Settled; kept until its segment is deleted.
    Done(Kind),
}

/// The in-memory index entry of one record (payloads stay on disk).
#[derive(Clone, Debug)]
struct Slot {
    /// Byte offset of its frame in the segment file.
    offset: u64,
    frame_len: u32,
    t_ns: u64,
    seq: u64,
    device: Arc<str>,
    state: State,
}

/// A segment file and the index of the records in it (ids `first_id ..`,
/// where `first_id` is its key in [`Buffer::segments`]).
#[derive(Debug)]
struct Seg {
    file: Segment,
    slots: Vec<Slot>,
}

/// Id field of a refused push's journal entry.
const NO_ID: u64 = u64::MAX;
/// Largest record, frame included.
const MAX_RECORD_BYTES: u64 = (frame::MAX_BODY + frame::HEAD) as u64;
/// The journal is rewritten when it holds at least this many entries and
/// more than twice as many as it needs (few in tests, so they exercise it).
const COMPACT_MIN_ENTRIES: u64 = if cfg!(test) { 16 } else { 1 << 16 };

/// Per-device counts in memory.
#[derive(Clone, Copy, Debug, Default)]
struct Dev {
    counts: Counts,
    buffered: u64,
}

/// A gateway's durable, bounded store-and-forward buffer. See the
/// [module docs](self).
#[derive(Debug)]
pub struct Buffer {
    dir: PathBuf,
    opts: Options,
    _lock: File,
    /// Segments by first id; the last is the one appended to.
    segments: BTreeMap<u64, Seg>,
    journal: Journal,
    /// The id the next stored record gets.
    next_id: u64,
    /// Every record below this id is settled.
    first_live: u64,
    /// Every unsent record is at or above this id.
    unsent_from: u64,
    len: u64,
    bytes: u64,
    in_flight: u64,
    totals: Counts,
    devices: BTreeMap<Arc<str>, Dev>,
    /// Segments whose last live record was settled, to delete.
    emptied: Vec<u64>,
    /// Set when a write could not be undone.
    poisoned: Option<PathBuf>,
    /// A cleanup that failed (retried; reported by `sync`).
    cleanup_error: Option<BufferError>,
    dir_dirty: bool,
    scratch: Vec<u8>,
    read_buf: Vec<u8>,
}

fn bump(c: &mut Counts, kind: Kind) {
    match kind {
        Kind::Acked => c.acked += 1,
        Kind::DroppedOldest => c.dropped_oldest += 1,
        Kind::Expired => c.expired += 1,
        Kind::Rejected => c.rejected += 1,
    }
}

fn unbump(c: &mut Counts, kind: Kind) {
    match kind {
        Kind::Acked => c.acked -= 1,
        Kind::DroppedOldest => c.dropped_oldest -= 1,
        Kind::Expired => c.expired -= 1,
        Kind::Rejected => c.rejected -= 1,
    }
}

fn intern(devices: &mut BTreeMap<Arc<str>, Dev>, name: &str) -> Arc<str> {
    if let Some((k, _)) = devices.get_key_value(name) {
        return k.clone();
    }
    let k: Arc<str> = Arc::from(name);
    devices.insert(k.clone(), Dev::default());
    k
}

impl Buffer {
    /// Opens (or creates) the buffer in `dir` with the default segment size;
    /// see [`Buffer::open_with`].
    pub fn open(
        dir: &Path,
        limits: Limits,
        overflow: Overflow,
        sync: SyncPolicy,
    ) -> Result<(Buffer, Recovery), BufferError> {
        Buffer::open_with(
            dir,
            Options {
                limits,
                overflow,
                sync,
                ..Options::default()
            },
        )
    }

    /// Stores a message from `device` (its `seq`, sim time `t_ns` in
    /// nanoseconds) for `topic` at `qos`. First expires never-sent records
    /// older than the TTL at sim time `now_ns`; then, if the buffer is full,
    /// drops the oldest never-sent records ([`Overflow::DropOldest`]) or
    /// refuses the new one ([`Overflow::RejectNew`]). Durable on return as
    /// [`SyncPolicy`] says.
    ///
    /// On `Err` nothing was stored, though expiries and drops may already
    /// have been recorded: [`Buffer::stats`] and [`Buffer::device_stats`]
    /// stay exact.
    // One message's fields; a struct would only be unpacked here.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        device: &str,
        seq: u64,
        t_ns: u64,
        topic: &str,
        qos: u8,
        payload: &[u8],
        now_ns: u64,
    ) -> Result<Push, BufferError> {
        self.check()?;
        let frame_len = frame::record_len(device, topic, payload);
        let limits = self.opts.limits;
        let mut reason = if device.len() > usize::from(u16::MAX) {
            Some(Reject::FieldTooLong {
                field: "device",
                len: device.len(),
            })
        } else if topic.len() > usize::from(u16::MAX) {
            Some(Reject::FieldTooLong {
                field: "topic",
                len: topic.len(),
            })
        } else if frame_len > MAX_RECORD_BYTES {
            Some(Reject::TooLarge {
                bytes: frame_len,
                limit: MAX_RECORD_BYTES,
            })
        } else if let Some(max) = limits.max_bytes
            && frame_len > max
        {
            Some(Reject::TooLarge {
                bytes: frame_len,
                limit: max,
            })
        } else {
            None
        };

        // Choose what to expire, then what to drop, before writing anything.
        let mut expire = Vec::new();
        let mut cursor = self.first_live;
        while limits.ttl_ns.is_some()
            && let Some((id, s)) = self.next_removable(cursor)
        {
            if !self.is_expired(s, now_ns) {
                break;
            }
            expire.push((id, s.frame_len));
            cursor = id + 1;
        }
        let mut drop = Vec::new();
        if reason.is_none() {
            let mut len = self.len - expire.len() as u64;
            let mut bytes = self.bytes - expire.iter().map(|&(_, n)| u64::from(n)).sum::<u64>();
            while limits.max_messages.is_some_and(|m| len + 1 > m)
                || limits.max_bytes.is_some_and(|m| bytes + frame_len > m)
            {
                if self.opts.overflow == Overflow::RejectNew {
                    reason = Some(Reject::Full);
                    break;
                }
                let Some((id, s)) = self.next_removable(cursor) else {
                    reason = Some(Reject::InFlight);
                    break;
                };
                drop.push((id, s.frame_len));
                len -= 1;
                bytes -= u64::from(s.frame_len);
                cursor = id + 1;
            }
            if reason.is_some() {
                drop.clear();
            }
        }

        self.scratch.clear();
        for (ids, kind) in [(&expire, Kind::Expired), (&drop, Kind::DroppedOldest)] {
            for &(id, _) in ids {
                self.put_entry(kind, id);
            }
        }
        if reason.is_some() {
            frame::put_entry(&mut self.scratch, Kind::Rejected, NO_ID, seq, device);
        }
        let entries = (expire.len() + drop.len() + usize::from(reason.is_some())) as u64;
        if entries > 0 {
            self.journal_append(entries)?;
        }
        let mut removed = Vec::with_capacity(expire.len() + drop.len());
        for (id, _) in expire {
            removed.push(self.settle(id, Kind::Expired));
        }
        for (id, _) in drop {
            removed.push(self.settle(id, Kind::DroppedOldest));
        }
        let dev_key = intern(&mut self.devices, device);
        let dev = self.devices.get_mut(&dev_key).expect("interned above");
        dev.counts.last_seq = dev.counts.last_seq.max(Some(seq));
        if let Some(reason) = reason {
            bump(&mut dev.counts, Kind::Rejected);
            bump(&mut self.totals, Kind::Rejected);
            self.reap();
            return Ok(Push::Rejected { reason, removed });
        }
        self.reap();

        self.make_room(frame_len)?;
        let id = self.next_id;
        self.scratch.clear();
        frame::put_record(
            &mut self.scratch,
            &RecordRef {
                id,
                seq,
                t_ns,
                qos,
                device,
                topic,
                payload,
            },
        );
        let every = self.opts.sync == SyncPolicy::EveryWrite;
        let seg = self
            .segments
            .values_mut()
            .next_back()
            .expect("make_room leaves a segment");
        let offset = seg.file.size;
        let r = seg.file.append(&self.scratch, 1, every);
        if r.is_ok() {
            seg.file.live += 1;
            let state = State::Unsent { sent: false };
            seg.slots.push(Slot {
                offset,
                frame_len: frame_len as u32,
                t_ns,
                seq,
                device: dev_key.clone(),
                state,
            });
        }
        self.poison_on(r)?;
        self.next_id += 1;
        self.len += 1;
        self.bytes += frame_len;
        self.totals.stored += 1;
        let dev = self.devices.get_mut(&dev_key).expect("interned above");
        dev.counts.stored += 1;
        dev.buffered += 1;
        Ok(Push::Stored { id, removed })
    }

    /// Hands out up to `max` of the oldest unsent records, in id order (a
    /// requeued record comes before newer ones), and marks them in flight;
    /// they stay in the buffer until acknowledged. Never-sent records older
    /// than the TTL at sim time `now_ns` met on the way are expired and
    /// returned in [`Unsent::expired`].
    pub fn next_unsent(&mut self, max: usize, now_ns: u64) -> Result<Unsent, BufferError> {
        self.check()?;
        let mut take = Vec::new();
        let mut expire = Vec::new();
        let mut end = self.unsent_from;
        for (id, s) in self.iter_from(self.unsent_from) {
            if take.len() >= max {
                break;
            }
            end = id + 1;
            if let State::Unsent { sent } = s.state {
                if !sent && self.is_expired(s, now_ns) {
                    expire.push(id);
                } else {
                    take.push(id);
                }
            }
        }
        // Read first: if that fails, nothing has changed.
        let records = if take.is_empty() {
            Vec::new()
        } else {
            self.read_records(&take)?
        };
        let mut expired = Vec::new();
        if !expire.is_empty() {
            self.scratch.clear();
            for &id in &expire {
                self.put_entry(Kind::Expired, id);
            }
            self.journal_append(expire.len() as u64)?;
            expired = expire
                .into_iter()
                .map(|id| self.settle(id, Kind::Expired))
                .collect();
        }
        for &id in &take {
            self.slot_mut(id).expect("chosen from the index").state = State::InFlight;
        }
        self.in_flight += take.len() as u64;
        self.unsent_from = end;
        self.reap();
        Ok(Unsent { records, expired })
    }

    /// Settles record `id` as delivered (its PUBACK arrived), in any order,
    /// durably as [`SyncPolicy`] says. A record that was requeued may be
    /// acknowledged too (a late PUBACK). An id not held gives
    /// [`Ack::Unknown`] and changes nothing.
    pub fn ack(&mut self, id: u64) -> Result<Ack, BufferError> {
        Ok(if self.ack_many(&[id])? == 1 {
            Ack::Acked
        } else {
            Ack::Unknown
        })
    }

    /// [`Buffer::ack`] for several ids with one write (and one fsync);
    /// returns how many were held and are now settled. Unknown and repeated
    /// ids are skipped.
    pub fn ack_many(&mut self, ids: &[u64]) -> Result<u64, BufferError> {
        self.check()?;
        let mut held: Vec<u64> = ids.iter().copied().filter(|&id| self.holds(id)).collect();
        if held.len() > 1 {
            held.sort_unstable();
            held.dedup();
        }
        if held.is_empty() {
            return Ok(0);
        }
        self.scratch.clear();
        for &id in &held {
            self.put_entry(Kind::Acked, id);
        }
        self.journal_append(held.len() as u64)?;
        for &id in &held {
            self.settle(id, Kind::Acked);
        }
        self.reap();
        Ok(held.len() as u64)
    }

    /// The connection was lost: every in-flight record becomes unsent again,
    /// in its original order and ahead of newer records, to be handed out
    /// again by [`Buffer::next_unsent`]. Nothing is written to disk (after a
    /// reopen every unsettled record is unsent anyway).
    pub fn requeue_in_flight(&mut self) {
        if self.in_flight == 0 {
            return;
        }
        let (from, to) = (self.first_live, self.unsent_from);
        let start = self
            .segments
            .range(..=from)
            .next_back()
            .map_or(0, |(&k, _)| k);
        let mut first = None;
        'segments: for (&k, seg) in self.segments.range_mut(start..) {
            for (i, s) in seg.slots.iter_mut().enumerate() {
                let id = k + i as u64;
                if id >= to {
                    break 'segments;
                }
                if s.state == State::InFlight {
                    s.state = State::Unsent { sent: true };
                    first.get_or_insert(id);
                }
            }
        }
        self.in_flight = 0;
        if let Some(first) = first {
            self.unsent_from = self.unsent_from.min(first);
        }
    }

    /// Forces everything written so far to disk (with [`SyncPolicy::Batch`],
    /// call this periodically; with [`SyncPolicy::EveryWrite`] it only
    /// matters for deferred cleanup). Also reports a cleanup that failed
    /// earlier (a settled segment that could not be deleted, a journal that
    /// could not be compacted); both are retried.
    pub fn sync(&mut self) -> Result<(), BufferError> {
        self.check()?;
        if let Some(tail) = self.segments.values().next_back() {
            let r = tail.file.sync();
            self.poison_on(r)?;
        }
        let r = self.journal.sync();
        self.poison_on(r)?;
        if self.dir_dirty {
            frame::sync_dir(&self.dir)?;
            self.dir_dirty = false;
        }
        match self.cleanup_error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Syncs ([`Buffer::sync`]) and closes the buffer. Dropping a buffer
    /// without closing it is safe (it is what a crash does); with
    /// [`SyncPolicy::Batch`] it leaves the last writes to the operating
    /// system.
    pub fn close(mut self) -> Result<(), BufferError> {
        self.sync()
    }

    /// Records held (unsent plus in flight).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held, as [`Limits::max_bytes`] counts them.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Records handed out and not yet acknowledged or requeued.
    pub fn in_flight(&self) -> u64 {
        self.in_flight
    }

    /// Totals since the directory was created; see [`Stats`].
    pub fn stats(&self) -> Stats {
        let t = &self.totals;
        Stats {
            stored: t.stored,
            acked: t.acked,
            dropped_oldest: t.dropped_oldest,
            expired: t.expired,
            rejected: t.rejected,
            lost: t.lost,
            buffered: self.len,
            in_flight: self.in_flight,
            bytes: self.bytes,
        }
    }

    /// Counts for each device ever pushed, in device-id order.
    pub fn device_stats(&self) -> impl Iterator<Item = (&str, DeviceStats)> + '_ {
        self.devices.iter().map(|(k, d)| (&**k, device_view(d)))
    }

    /// Counts for one device, if it ever pushed.
    pub fn device(&self, device: &str) -> Option<DeviceStats> {
        self.devices.get(device).map(device_view)
    }

    /// The options the buffer was opened with.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// The buffer's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    // ---- internals -------------------------------------------------------

    fn check(&self) -> Result<(), BufferError> {
        match &self.poisoned {
            Some(path) => Err(BufferError::Poisoned { path: path.clone() }),
            None => Ok(()),
        }
    }

    fn poison_on<T>(&mut self, r: Result<T, BufferError>) -> Result<T, BufferError> {
        if let Err(BufferError::Poisoned { path }) = &r {
            self.poisoned = Some(path.clone());
        }
        r
    }

    /// Adds the journal entry settling held record `id` as `kind` to `scratch`.
    fn put_entry(&mut self, kind: Kind, id: u64) {
        let (k, i) = self.locate(id).expect("held");
        let s = &self.segments[&k].slots[i];
        frame::put_entry(&mut self.scratch, kind, id, s.seq, &s.device);
    }

    /// Appends the `n` entries in `scratch` to the journal.
    fn journal_append(&mut self, n: u64) -> Result<(), BufferError> {
        let every = self.opts.sync == SyncPolicy::EveryWrite;
        let r = self.journal.append(&self.scratch, n, every);
        self.poison_on(r)
    }

    /// The segment holding `id` and the index in it.
    fn locate(&self, id: u64) -> Option<(u64, usize)> {
        let (&k, seg) = self.segments.range(..=id).next_back()?;
        let i = (id - k) as usize;
        (i < seg.slots.len()).then_some((k, i))
    }

    fn slot(&self, id: u64) -> Option<&Slot> {
        let (k, i) = self.locate(id)?;
        self.segments.get(&k).map(|s| &s.slots[i])
    }

    fn slot_mut(&mut self, id: u64) -> Option<&mut Slot> {
        let (k, i) = self.locate(id)?;
        self.segments.get_mut(&k).map(|s| &mut s.slots[i])
    }

    /// Every indexed record from id `from` up, in id order.
    fn iter_from(&self, from: u64) -> impl Iterator<Item = (u64, &Slot)> + '_ {
        let start = self
            .segments
            .range(..=from)
            .next_back()
            .map_or(0, |(&k, _)| k);
        self.segments.range(start..).flat_map(move |(&k, seg)| {
            let skip = from.saturating_sub(k) as usize;
            seg.slots
                .iter()
                .enumerate()
                .skip(skip)
                .map(move |(i, s)| (k + i as u64, s))
        })
    }

    fn holds(&self, id: u64) -> bool {
        self.slot(id)
            .is_some_and(|s| !matches!(s.state, State::Done(_)))
    }

    fn is_expired(&self, s: &Slot, now_ns: u64) -> bool {
        self.opts
            .limits
            .ttl_ns
            .is_some_and(|ttl| now_ns.saturating_sub(s.t_ns) > ttl)
    }

    /// The oldest record from id `from` up that may be expired or dropped:
    /// unsent and never handed out.
    fn next_removable(&self, from: u64) -> Option<(u64, &Slot)> {
        self.iter_from(from)
            .find(|(_, s)| s.state == State::Unsent { sent: false })
    }

    /// Marks a held record settled (its journal entry is already written)
    /// and updates the counts.
    fn settle(&mut self, id: u64, kind: Kind) -> Removed {
        let (k, i) = self.locate(id).expect("settling a held record");
        let seg = self.segments.get_mut(&k).expect("located");
        let s = &mut seg.slots[i];
        if s.state == State::InFlight {
            self.in_flight -= 1;
        }
        s.state = State::Done(kind);
        self.len -= 1;
        self.bytes -= u64::from(s.frame_len);
        bump(&mut self.totals, kind);
        let dev = self
            .devices
            .get_mut(&*s.device)
            .expect("every record's device is interned");
        bump(&mut dev.counts, kind);
        dev.buffered -= 1;
        let removed = Removed {
            id,
            device: s.device.to_string(),
            seq: s.seq,
            t_ns: s.t_ns,
            why: if kind == Kind::Expired {
                Removal::Expired
            } else {
                Removal::DroppedOldest
            },
        };
        seg.file.live -= 1;
        if seg.file.live == 0 {
            self.emptied.push(k);
        }
        if id == self.first_live {
            let next = self
                .iter_from(id)
                .find(|(_, s)| !matches!(s.state, State::Done(_)))
                .map(|(id, _)| id);
            self.first_live = next.unwrap_or(self.next_id);
        }
        removed
    }

    /// Deletes emptied segments other than the newest, and compacts the
    /// journal when it has grown. Cleanup never fails an operation: what
    /// fails is retried later and reported by [`Buffer::sync`].
    fn reap(&mut self) {
        if self.emptied.is_empty() {
            return;
        }
        let newest = self.segments.last_key_value().map(|(&k, _)| k);
        let mut retry = Vec::new();
        let mut deleted = false;
        for k in std::mem::take(&mut self.emptied) {
            // The newest stays for appends; `make_room` hands it back here
            // once a newer one starts.
            if Some(k) == newest || self.segments.get(&k).is_none_or(|s| s.file.live != 0) {
                continue;
            }
            if !deleted && self.opts.sync == SyncPolicy::Batch {
                // The entries that settle its records must outlive it.
                let r = self.journal.sync();
                if self.poison_on(r).is_err() {
                    return;
                }
            }
            let seg = self.segments.remove(&k).expect("checked above");
            if let Err(e) = std::fs::remove_file(&seg.file.path) {
                self.cleanup_error = Some(io(&seg.file.path, "remove")(e));
                self.segments.insert(k, seg);
                retry.push(k);
                continue;
            }
            deleted = true;
        }
        self.emptied = retry;
        if !deleted {
            return;
        }
        if self.opts.sync == SyncPolicy::EveryWrite {
            if let Err(e) = frame::sync_dir(&self.dir) {
                self.cleanup_error = Some(e);
                self.dir_dirty = true;
            }
        } else {
            self.dir_dirty = true;
        }
        let needed: u64 = self
            .segments
            .values()
            .map(|s| s.file.records - s.file.live)
            .sum();
        if self.journal.entries >= COMPACT_MIN_ENTRIES && self.journal.entries > 2 * needed {
            let r = self.compact();
            if let Err(e) = self.poison_on(r) {
                // Before its rename the old journal stays valid; retried later.
                self.cleanup_error = Some(e);
            }
        }
    }

    /// Starts a new segment if there is none or the newest cannot take
    /// `frame_len` more bytes; the old one is synced (sealed) first, so only
    /// the newest segment can ever end in a torn record.
    fn make_room(&mut self, frame_len: u64) -> Result<(), BufferError> {
        if let Some((&k, tail)) = self.segments.last_key_value() {
            if tail.file.records == 0 || tail.file.size + frame_len <= self.opts.segment_bytes {
                return Ok(());
            }
            let (r, settled) = (tail.file.sync(), tail.file.live == 0);
            self.poison_on(r)?;
            if settled {
                self.emptied.push(k);
            }
        }
        let r = Segment::create(&self.dir, self.next_id);
        let file = self.poison_on(r)?;
        self.segments.insert(
            self.next_id,
            Seg {
                file,
                slots: Vec::new(),
            },
        );
        self.reap();
        Ok(())
    }

    /// Reads the records `ids` (held, ascending) back from their segments,
    /// one read per run of adjacent records.
    fn read_records(&mut self, ids: &[u64]) -> Result<Vec<Record>, BufferError> {
        let mut out = Vec::with_capacity(ids.len());
        let mut i = 0;
        while i < ids.len() {
            let (k, first) = self.locate(ids[i]).expect("held");
            let seg = &self.segments[&k];
            let start = seg.slots[first].offset;
            let mut end = start;
            let mut j = i;
            while j < ids.len() {
                let at = first + (j - i);
                if ids[j] != k + at as u64 || at >= seg.slots.len() || seg.slots[at].offset != end {
                    break;
                }
                end += u64::from(seg.slots[at].frame_len);
                j += 1;
            }
            seg.file
                .read(start, (end - start) as usize, &mut self.read_buf)?;
            let mut at = 0;
            for &id in &ids[i..j] {
                let corrupt = |what: String| BufferError::Corrupt {
                    path: seg.file.path.clone(),
                    offset: start + at as u64,
                    what,
                };
                let frame::Parsed::Frame(body, n) = frame::parse(&self.read_buf[at..]) else {
                    return Err(corrupt(format!(
                        "record {id} no longer reads back as it was written"
                    )));
                };
                let r = frame::get_record(body).map_err(|e| corrupt(e.to_owned()))?;
                if r.id != id {
                    return Err(corrupt(format!(
                        "record id {} where {id} was expected",
                        r.id
                    )));
                }
                out.push(Record {
                    id,
                    device: r.device.to_owned(),
                    seq: r.seq,
                    t_ns: r.t_ns,
                    topic: r.topic.to_owned(),
                    qos: r.qos,
                    payload: r.payload.to_vec(),
                });
                at += n;
            }
            i = j;
        }
        Ok(out)
    }

    /// Rewrites the journal: the header takes the counts of everything not
    /// in a segment file, and one entry is kept per settled record that is.
    fn compact(&mut self) -> Result<(), BufferError> {
        if self.opts.sync == SyncPolicy::Batch
            && let Some(tail) = self.segments.values().next_back()
        {
            // The header will say every id below `next_id` is accounted for:
            // the records it leaves to the segments must be on disk.
            tail.file.sync()?;
        }
        let mut totals = self.totals;
        let mut devices: BTreeMap<String, Counts> = self
            .devices
            .iter()
            .map(|(k, d)| (k.to_string(), d.counts))
            .collect();
        self.scratch.clear();
        let mut n = 0;
        for (&k, seg) in &self.segments {
            for (i, s) in seg.slots.iter().enumerate() {
                totals.stored -= 1;
                let dev = devices
                    .get_mut(&*s.device)
                    .expect("every record's device is counted");
                dev.stored -= 1;
                if let State::Done(kind) = s.state {
                    frame::put_entry(&mut self.scratch, kind, k + i as u64, s.seq, &s.device);
                    n += 1;
                    unbump(&mut totals, kind);
                    unbump(dev, kind);
                }
            }
        }
        let header = Header {
            version: 0,
            next_id: self.next_id,
            segments: self.segments.keys().copied().collect(),
            totals,
            devices,
        };
        self.journal = Journal::write(&self.dir, &header, &self.scratch, n)?;
        Ok(())
    }
}

fn device_view(d: &Dev) -> DeviceStats {
    let c = &d.counts;
    DeviceStats {
        stored: c.stored,
        acked: c.acked,
        dropped_oldest: c.dropped_oldest,
        expired: c.expired,
        rejected: c.rejected,
        buffered: d.buffered,
        last_seq: c.last_seq,
    }
}
