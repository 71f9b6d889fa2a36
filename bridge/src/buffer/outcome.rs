//! What the buffer's operations hand back: records, and what happened to
//! the records that left without an acknowledgement.

/// One buffered message, as handed out by [`Buffer::next_unsent`](super::Buffer::next_unsent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Buffer-assigned id: from 0, +1 per stored record, never reused, and
    /// unchanged across reopen. Acknowledge with this.
    pub id: u64,
    /// Device id.
    pub device: String,
    /// The device's telemetry sequence number, as pushed.
    pub seq: u64,
    /// Sim time of the message, in nanoseconds since the scenario start.
    pub t_ns: u64,
    /// MQTT topic.
    pub topic: String,
    /// MQTT QoS (0, 1 or 2), as pushed.
    pub qos: u8,
    /// Message bytes.
    pub payload: Vec<u8>,
}

/// What [`Buffer::push`](super::Buffer::push) did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum Push {
    /// The record is stored under `id`; `removed` lists the records expired
    /// or dropped (oldest first) to make room, usually none.
    Stored {
        /// The new record's id.
        id: u64,
        /// Records expired or dropped by this push.
        removed: Vec<Removed>,
    },
    /// The record was refused and counted in `rejected`; expiries that
    /// happened first are in `removed`.
    Rejected {
        /// Why.
        reason: Reject,
        /// Records expired by this push.
        removed: Vec<Removed>,
    },
}

/// Why a push was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reject {
    /// The buffer is full and its policy is [`Overflow::RejectNew`](super::Overflow::RejectNew).
    Full,
    /// The buffer is full, its policy is
    /// [`Overflow::DropOldest`](super::Overflow::DropOldest), but the
    /// records that would have to go have been handed out (they stay until
    /// acknowledged).
    InFlight,
    /// The record alone is larger than `limit` bytes
    /// ([`Limits::max_bytes`](super::Limits::max_bytes),
    /// or the 1 GiB a record may take).
    TooLarge {
        /// The record's size as stored, in bytes.
        bytes: u64,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The device id or topic is longer than 65,535 bytes.
    FieldTooLong {
        /// `device` or `topic`.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },
}

/// A record that left the buffer without being acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removed {
    /// Its id.
    pub id: u64,
    /// Device id.
    pub device: String,
    /// The device's sequence number.
    pub seq: u64,
    /// Sim time of the message, in nanoseconds.
    pub t_ns: u64,
    /// Why it left.
    pub why: Removal,
}

/// Why a record left the buffer unacknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// Dropped to make room ([`Overflow::DropOldest`](super::Overflow::DropOldest)).
    DroppedOldest,
    /// Older than [`Limits::ttl_ns`](super::Limits::ttl_ns).
    Expired,
}

/// What [`Buffer::next_unsent`](super::Buffer::next_unsent) hands out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Unsent {
    /// The oldest unsent records, in id order, now in flight.
    pub records: Vec<Record>,
    /// Records found expired on the way, now settled as expired.
    pub expired: Vec<Removed>,
}

/// What [`Buffer::ack`](super::Buffer::ack) did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Ack {
    /// The record was held and is now settled as acknowledged.
    Acked,
    /// No record with this id is held (already acknowledged, or never
    /// stored); nothing changed.
    Unknown,
}
