//! What the buffer counts, and what it found when it opened.

use std::path::PathBuf;

/// Cumulative counts since the directory was first opened (persisted across
/// reopen), and the present contents. At every moment
/// `stored == acked + dropped_oldest + expired + lost + buffered`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records stored (pushes not refused).
    pub stored: u64,
    /// Records acknowledged (PUBACK).
    pub acked: u64,
    /// Records dropped by [`Overflow::DropOldest`](super::Overflow::DropOldest).
    pub dropped_oldest: u64,
    /// Records expired ([`Limits::ttl_ns`](super::Limits::ttl_ns)).
    pub expired: u64,
    /// Pushes refused ([`Push::Rejected`](super::Push::Rejected)); not part of `stored`.
    pub rejected: u64,
    /// Records reported stored whose bytes a crash destroyed: only possible
    /// with [`SyncPolicy::Batch`](super::SyncPolicy::Batch) and an
    /// operating-system crash or power loss.
    pub lost: u64,
    /// Records held now (unsent plus in flight).
    pub buffered: u64,
    /// Records handed out and not yet acknowledged or requeued.
    pub in_flight: u64,
    /// Bytes held now, as [`Limits::max_bytes`](super::Limits::max_bytes) counts them.
    pub bytes: u64,
}

/// Cumulative counts for one device (persisted across reopen). At every
/// moment `stored == acked + dropped_oldest + expired + buffered`, unless
/// records were lost (see [`Stats::lost`]), whose device is unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceStats {
    /// Records stored.
    pub stored: u64,
    /// Records acknowledged.
    pub acked: u64,
    /// Records dropped by [`Overflow::DropOldest`](super::Overflow::DropOldest).
    pub dropped_oldest: u64,
    /// Records expired.
    pub expired: u64,
    /// Pushes refused.
    pub rejected: u64,
    /// Records held now.
    pub buffered: u64,
    /// Highest `seq` ever pushed (stored or refused), so a resumed run can
    /// carry on numbering; `None` before the first push.
    pub last_seq: Option<u64>,
}

/// What [`Buffer::open`](super::Buffer::open) found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// The directory held no buffer; one was created.
    pub fresh: bool,
    /// Records held (owed to the broker), as after a `--resume`.
    pub records: u64,
    /// Their bytes, as [`Limits::max_bytes`](super::Limits::max_bytes) counts them.
    pub bytes: u64,
    /// Segment files kept.
    pub segments: u64,
    /// Torn tails found and cut off (a crash in the middle of a write).
    pub truncated: Vec<Truncated>,
    /// Records found neither on disk nor settled in the journal (see
    /// [`Stats::lost`]); now counted as lost.
    pub lost: u64,
    /// Files deleted: leftovers of interrupted file creation, and segments
    /// whose records were all settled.
    pub removed_files: Vec<PathBuf>,
}

/// A torn tail cut off a file at open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncated {
    /// The file.
    pub path: PathBuf,
    /// Where the valid data ends (the file's new length), in bytes.
    pub offset: u64,
    /// Bytes cut off.
    pub bytes: u64,
    /// Why the bytes were not a whole frame.
    pub why: &'static str,
}
