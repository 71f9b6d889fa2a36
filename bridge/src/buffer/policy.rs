//! What a buffer is told at open: its bounds, what to do when they are
//! reached, and how often it forces data to disk.

/// Bounds on what a buffer holds. A bound that is `None` does not apply.
///
/// Both bounds count the records still held (waiting to be sent or in flight),
/// not the files on disk: a segment file is deleted only once every record in
/// it is settled, so the directory can briefly hold up to one segment
/// ([`Options::segment_bytes`]) more than `max_bytes`, plus records settled out
/// of order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most records held at once. Default: `None` (no bound). `Some(0)` is
    /// refused at open.
    pub max_messages: Option<u64>,
    /// Most bytes held at once, counted as each record is stored: payload,
    /// topic and device id plus [`RECORD_OVERHEAD_BYTES`] of framing. Default:
    /// `Some(256 MiB)`. A record larger than this on its own is rejected
    /// ([`Reject::TooLarge`](super::Reject::TooLarge)).
    pub max_bytes: Option<u64>,
    /// Time to live, in sim-time nanoseconds. A record that has never been
    /// handed out is expired once `now_ns - t_ns > ttl_ns`, checked against the
    /// `now_ns` given to [`Buffer::push`](super::Buffer::push) and
    /// [`Buffer::next_unsent`](super::Buffer::next_unsent). Default: `None`
    /// (records never expire).
    pub ttl_ns: Option<u64>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_messages: None,
            max_bytes: Some(256 << 20),
            ttl_ns: None,
        }
    }
}

/// Bytes of framing a stored record takes beyond its payload, topic and
/// device id (length, CRC, id, seq, sim time, QoS and two string lengths).
/// This is what [`Limits::max_bytes`] adds per record.
pub const RECORD_OVERHEAD_BYTES: u64 = 37;

/// What a full buffer does with a new record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Make room by dropping the oldest records that have never been handed
    /// out (a record that has been sent may already be at the broker, so it is
    /// kept until acknowledged). The dropped records are returned to the
    /// caller and counted. The default: a gateway keeps the freshest data.
    #[default]
    DropOldest,
    /// Refuse the new record, keep the old ones, and count the refusal.
    RejectNew,
}

/// When the buffer forces its writes to stable storage (fsync).
///
/// Every operation writes its bytes to the operating system before it returns
/// (one `write` call each, no user-space buffering), so with either policy a
/// `kill -9` of the process loses nothing that an operation reported as done.
/// The policies differ on an operating-system crash or power loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// `fdatasync` before every mutating call returns (push, ack, and the
    /// expiries and drops they cause), and the directory after a file is
    /// created or deleted. What a call reported as done survives a power loss.
    /// This is what "0 lost across kill -9 of fabtwin" rests on. The default.
    #[default]
    EveryWrite,
    /// Sync only at [`Buffer::sync`](super::Buffer::sync),
    /// [`Buffer::close`](super::Buffer::close), when a segment file is sealed
    /// and before one is deleted. A power loss may undo what happened since
    /// the last sync: acknowledgements undone come back as unsent
    /// (redelivered), and records that were stored but whose bytes never
    /// reached the disk are counted as `lost` at the next open.
    ///
    /// Group commit: push a group (say, one tick's messages) with `Batch`,
    /// then call `sync` once before handing them to MQTT; at that point they
    /// are as durable as with `EveryWrite`, for two fsyncs instead of one per
    /// message.
    Batch,
}

/// Everything [`Buffer::open_with`](super::Buffer::open_with) takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Bounds. Default: [`Limits::default`].
    pub limits: Limits,
    /// What a full buffer does. Default: [`Overflow::DropOldest`].
    pub overflow: Overflow,
    /// When writes are forced to disk. Default: [`SyncPolicy::EveryWrite`].
    pub sync: SyncPolicy,
    /// Size at which the buffer starts a new segment file, in bytes. A record
    /// larger than this gets a segment of its own. Default: 16 MiB; must be at
    /// least 4 KiB.
    pub segment_bytes: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            limits: Limits::default(),
            overflow: Overflow::default(),
            sync: SyncPolicy::default(),
            segment_bytes: 16 << 20,
        }
    }
}

/// Smallest accepted [`Options::segment_bytes`].
pub(crate) const MIN_SEGMENT_BYTES: u64 = 4096;
