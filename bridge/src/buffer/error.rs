//! Why a buffer operation failed.

use std::path::{Path, PathBuf};

/// Why a buffer could not be opened or an operation could not be done.
///
/// Every variant names the file involved. After an error the buffer's counts
/// ([`Buffer::stats`](super::Buffer::stats)) still match what is on disk;
/// after [`BufferError::Poisoned`] every later mutating call fails, and the
/// directory should be reopened (which recovers it).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BufferError {
    /// A file or directory could not be read, written, synced or removed.
    #[error("{path}: could not {op}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done ("create", "write", "fsync", ...).
        op: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// A file header is not one this version writes: the file is not a
    /// buffer file, was damaged, or comes from another version. Headers are
    /// written to a temporary file and renamed into place, so a crash never
    /// leaves a bad one; this is damage, and nothing is guessed.
    #[error("{path}: bad header: {what} (expected a fabtwin buffer {kind} file, version 1)")]
    BadHeader {
        /// The file.
        path: PathBuf,
        /// `segment` or `journal`.
        kind: &'static str,
        /// What was wrong.
        what: String,
    },
    /// Data that cannot be a torn tail is invalid: a bad record in a segment
    /// that is not the newest (older segments are synced before a new one
    /// starts), a record whose CRC is right but whose content is not, or a
    /// record that no longer reads back as it was written.
    #[error("{path}: corrupt data at byte {offset}: {what}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Byte offset of the bad frame in the file.
        offset: u64,
        /// What was wrong.
        what: String,
    },
    /// Segment files exist but the journal that records their deliveries does
    /// not, so which records were already delivered is unknown.
    #[error(
        "{path}: missing, but the directory holds {segments} segment file(s); \
         restore the journal or remove the directory"
    )]
    MissingJournal {
        /// Where the journal should be.
        path: PathBuf,
        /// Segment files found.
        segments: usize,
    },
    /// Another buffer (in this or another process) has the directory open.
    #[error("{path}: the buffer directory is in use by another process or handle")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// An earlier write or fsync failed and could not be undone, so the file
    /// may end in bytes the buffer does not know. No more writes are made;
    /// reopen the directory to recover.
    #[error(
        "{path}: an earlier write failed and could not be undone; reopen the buffer to recover"
    )]
    Poisoned {
        /// The file.
        path: PathBuf,
    },
    /// An option is out of range.
    #[error("buffer options: {what}")]
    BadOptions {
        /// What was wrong and what is valid.
        what: String,
    },
}

pub(crate) fn io<'a>(
    path: &'a Path,
    op: &'static str,
) -> impl FnOnce(std::io::Error) -> BufferError + 'a {
    move |source| BufferError::Io {
        path: path.to_path_buf(),
        op,
        source,
    }
}
