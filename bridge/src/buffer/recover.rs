//! Opening a buffer directory: reading what a previous run (or crash) left,
//! repairing torn tails, and rebuilding the index and the counts.
//!
//! Every id below the journal header's `next_id` is either in a segment the
//! header lists, folded into the header's counts, or (for a segment deleted
//! since) settled by a journal entry. Every id from `next_id` up is in a
//! segment, settled by an entry, or neither: then a crash destroyed it
//! before it reached the disk, and it is counted as lost.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use super::error::{BufferError, io};
use super::frame::Kind;
use super::journal::{self, Header, Journal};
use super::segment;
use super::{Buffer, Dev, Options, Recovery, Seg, Slot, State, Truncated, bump, intern, policy};

const LOCK_FILE: &str = "lock";

impl Buffer {
    /// Opens the buffer in `dir`, creating the directory and an empty buffer
    /// if there is none, or recovering the one there: torn tails are cut off,
    /// settled segments deleted, and the records still owed come back unsent,
    /// in order, with their ids. Limits apply from the next push on (a
    /// buffer reopened with smaller limits may hold more until pushes make
    /// room).
    ///
    /// Errors: options out of range; the directory in use by another buffer;
    /// a damaged header or damaged data that cannot be a torn tail (naming
    /// the file); I/O.
    pub fn open_with(dir: &Path, opts: Options) -> Result<(Buffer, Recovery), BufferError> {
        if opts.limits.max_messages == Some(0) {
            return Err(BufferError::BadOptions {
                what: "max_messages is 0 (valid: 1 or more, or None for no bound)".into(),
            });
        }
        if opts.segment_bytes < policy::MIN_SEGMENT_BYTES {
            return Err(BufferError::BadOptions {
                what: format!(
                    "segment_bytes is {} (valid: {} or more)",
                    opts.segment_bytes,
                    policy::MIN_SEGMENT_BYTES
                ),
            });
        }
        std::fs::create_dir_all(dir).map_err(io(dir, "create directory"))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path, "open"))?;
        // A lock released a moment ago can still be held for a few microseconds by a
        // child process between its fork and exec (flock belongs to the open file,
        // which the child shares until exec closes it): retry briefly before
        // concluding that another process owns the buffer.
        let mut attempts = 0;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if attempts < 25 => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(BufferError::Locked { path: lock_path });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path, "lock")(e)),
            }
        }

        let mut recovery = Recovery::default();
        let mut seg_paths = BTreeMap::new();
        let mut journal_found = false;
        for entry in std::fs::read_dir(dir).map_err(io(dir, "list"))? {
            let entry = entry.map_err(io(dir, "list"))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let path = entry.path();
            if let Some(first_id) = segment::parse_name(name) {
                seg_paths.insert(first_id, path);
            } else if name == journal::FILE_NAME {
                journal_found = true;
            } else if name.ends_with(".tmp")
                && (name.starts_with("seg-") || name.starts_with("journal."))
            {
                // A file whose creation a crash interrupted (never renamed into place).
                std::fs::remove_file(&path).map_err(io(&path, "remove"))?;
                recovery.removed_files.push(path);
            }
        }
        let journal_path = dir.join(journal::FILE_NAME);
        if !journal_found {
            if !seg_paths.is_empty() {
                return Err(BufferError::MissingJournal {
                    path: journal_path,
                    segments: seg_paths.len(),
                });
            }
            Journal::write(dir, &Header::default(), &[], 0)?;
            recovery.fresh = true;
        }
        let loaded = journal::load(&journal_path)?;
        if let Some(why) = loaded.torn {
            recovery.truncated.push(Truncated {
                path: journal_path.clone(),
                offset: loaded.valid_len,
                bytes: loaded.file_len - loaded.valid_len,
                why,
            });
        }
        let journal = journal::reopen(
            &journal_path,
            &(
                loaded.valid_len,
                loaded.file_len,
                loaded.entries.len() as u64,
            ),
        )?;
        let header = loaded.header;
        let mut totals = header.totals;
        let mut devices: BTreeMap<Arc<str>, Dev> = header
            .devices
            .into_iter()
            .map(|(k, counts)| {
                (
                    Arc::from(k),
                    Dev {
                        counts,
                        buffered: 0,
                    },
                )
            })
            .collect();

        // Read every segment; only the newest may end in a torn tail (older
        // ones were synced before a newer one started).
        let listed: BTreeSet<u64> = header.segments.iter().copied().collect();
        let mut segments = BTreeMap::new();
        let count = seg_paths.len();
        let mut prev_end = 0;
        for (i, (first_id, path)) in seg_paths.into_iter().enumerate() {
            if first_id < header.next_id && !listed.contains(&first_id) {
                // Its records were folded into the header; a crash stopped its deletion.
                std::fs::remove_file(&path).map_err(io(&path, "remove"))?;
                recovery.removed_files.push(path);
                continue;
            }
            let scan = segment::scan(&path, first_id)?;
            if let Some(why) = scan.torn {
                if i + 1 < count {
                    return Err(BufferError::Corrupt {
                        path,
                        offset: scan.valid_len,
                        what: format!(
                            "{why}, in a segment that is not the newest \
                             (older segments are synced before a new one starts)"
                        ),
                    });
                }
                recovery.truncated.push(Truncated {
                    path: path.clone(),
                    offset: scan.valid_len,
                    bytes: scan.file_len - scan.valid_len,
                    why,
                });
            }
            if first_id < prev_end {
                return Err(BufferError::Corrupt {
                    path,
                    offset: 0,
                    what: format!(
                        "its first id {first_id} overlaps the previous segment, \
                         which ends at {prev_end}"
                    ),
                });
            }
            prev_end = first_id + scan.records.len() as u64;
            let mut slots = Vec::with_capacity(scan.records.len());
            for r in &scan.records {
                let device = intern(&mut devices, &r.device);
                let state = State::Unsent { sent: false };
                slots.push(Slot {
                    offset: r.offset,
                    frame_len: r.frame_len,
                    t_ns: r.t_ns,
                    seq: r.seq,
                    device,
                    state,
                });
            }
            let file = segment::reopen(&path, &scan)?;
            segments.insert(first_id, Seg { file, slots });
        }

        // Apply the journal entries.
        let mut next_id = header.next_id.max(prev_end);
        let mut settled_elsewhere = BTreeSet::new();
        for e in loaded.entries {
            if e.kind == Kind::Rejected {
                let device = intern(&mut devices, &e.device);
                let dev = devices.get_mut(&device).expect("interned above");
                bump(&mut dev.counts, Kind::Rejected);
                dev.counts.last_seq = dev.counts.last_seq.max(Some(e.seq));
                bump(&mut totals, Kind::Rejected);
                continue;
            }
            next_id = next_id.max(e.id.saturating_add(1));
            let slot = segments
                .range_mut(..=e.id)
                .next_back()
                .and_then(|(&k, seg)| seg.slots.get_mut((e.id - k) as usize));
            if let Some(s) = slot {
                if !matches!(s.state, State::Done(_)) {
                    s.state = State::Done(e.kind);
                }
            } else if settled_elsewhere.insert(e.id) {
                // Its segment was deleted after the header was written.
                totals.stored += 1;
                bump(&mut totals, e.kind);
                let device = intern(&mut devices, &e.device);
                let dev = devices.get_mut(&device).expect("interned above");
                dev.counts.stored += 1;
                bump(&mut dev.counts, e.kind);
                dev.counts.last_seq = dev.counts.last_seq.max(Some(e.seq));
            }
        }
        let in_segment = |id: u64| {
            segments
                .range(..=id)
                .next_back()
                .is_some_and(|(&k, seg): (&u64, &Seg)| id - k < seg.slots.len() as u64)
        };
        for id in header.next_id..next_id {
            if !in_segment(id) && !settled_elsewhere.contains(&id) {
                recovery.lost += 1;
                totals.stored += 1;
                totals.lost += 1;
            }
        }

        // Count what the segments hold.
        let (mut len, mut bytes) = (0, 0);
        for seg in segments.values_mut() {
            for s in &seg.slots {
                totals.stored += 1;
                let dev = devices.get_mut(&*s.device).expect("interned above");
                dev.counts.stored += 1;
                dev.counts.last_seq = dev.counts.last_seq.max(Some(s.seq));
                match s.state {
                    State::Done(kind) => {
                        bump(&mut totals, kind);
                        bump(&mut dev.counts, kind);
                    }
                    _ => {
                        len += 1;
                        bytes += u64::from(s.frame_len);
                        dev.buffered += 1;
                        seg.file.live += 1;
                    }
                }
            }
        }
        // Delete every segment with nothing owed, the newest included.
        let settled: Vec<u64> = segments
            .iter()
            .filter(|(_, s)| s.file.live == 0)
            .map(|(&k, _)| k)
            .collect();
        for k in settled {
            if let Some(seg) = segments.remove(&k) {
                std::fs::remove_file(&seg.file.path).map_err(io(&seg.file.path, "remove"))?;
                recovery.removed_files.push(seg.file.path);
            }
        }

        let first_live = segments
            .iter()
            .flat_map(|(&k, seg)| {
                seg.slots
                    .iter()
                    .enumerate()
                    .map(move |(i, s)| (k + i as u64, s))
            })
            .find(|(_, s)| !matches!(s.state, State::Done(_)))
            .map_or(next_id, |(id, _)| id);
        let mut buf = Buffer {
            dir: dir.to_path_buf(),
            opts,
            _lock: lock,
            segments,
            journal,
            next_id,
            first_live,
            unsent_from: first_live,
            len,
            bytes,
            in_flight: 0,
            totals,
            devices,
            emptied: Vec::new(),
            poisoned: None,
            cleanup_error: None,
            dir_dirty: false,
            scratch: Vec::new(),
            read_buf: Vec::new(),
        };
        // A fresh header: drops the torn tail, folds what was settled and
        // counts the lost; it also makes the deletions above durable.
        buf.compact()?;

        recovery.records = buf.len;
        recovery.bytes = buf.bytes;
        recovery.segments = buf.segments.len() as u64;
        Ok((buf, recovery))
    }
}
