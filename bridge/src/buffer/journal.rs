//! The journal: how records left the buffer (acknowledged, dropped, expired)
//! and which pushes were refused, so that a reopened buffer brings back
//! exactly the records still owed and its counts carry on.
//!
//! `journal.log` = magic `FTWJRNL1` (8 bytes), a header frame holding a JSON
//! [`Header`], then one entry frame per event (see [`super::frame::Entry`]).
//! The header is only ever written whole, through a temporary file renamed
//! into place (at creation and at each compaction); entries are appended.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{BufferError, io};
use super::frame::{self, Entry, Parsed};

const MAGIC: &[u8; 8] = b"FTWJRNL1";
const VERSION: u32 = 1;
/// The journal's file name in the buffer directory.
pub(crate) const FILE_NAME: &str = "journal.log";

/// Cumulative counts, as persisted. For the totals `last_seq` is unused; for
/// a device `lost` is always 0 (a lost record's device is unknown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Counts {
    pub(crate) stored: u64,
    pub(crate) acked: u64,
    pub(crate) dropped_oldest: u64,
    pub(crate) expired: u64,
    pub(crate) rejected: u64,
    pub(crate) lost: u64,
    pub(crate) last_seq: Option<u64>,
}

/// What the journal header says. When it was written, the records in the
/// segment files listed in `segments` were left out of the counts (they and
/// the entries after the header describe them); every other id below
/// `next_id`, and every refused push so far, is folded into the counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Header {
    pub(crate) version: u32,
    /// The id the next stored record would get.
    pub(crate) next_id: u64,
    /// First ids of the segment files that existed.
    pub(crate) segments: Vec<u64>,
    pub(crate) totals: Counts,
    pub(crate) devices: BTreeMap<String, Counts>,
}

/// The open journal.
#[derive(Debug)]
pub(crate) struct Journal {
    pub(crate) path: PathBuf,
    file: File,
    size: u64,
    /// Entries in the file.
    pub(crate) entries: u64,
}

impl Journal {
    /// Writes a new journal (header plus `entries`, `n` encoded entry
    /// frames) in place of any old one.
    pub(crate) fn write(
        dir: &Path,
        header: &Header,
        entries: &[u8],
        n: u64,
    ) -> Result<Journal, BufferError> {
        let path = dir.join(FILE_NAME);
        let json = serde_json::to_vec(&Header {
            version: VERSION,
            ..header.clone()
        })
        .map_err(|e| BufferError::Io {
            path: path.clone(),
            op: "encode the header of",
            source: e.into(),
        })?;
        let mut bytes = Vec::with_capacity(MAGIC.len() + frame::HEAD + json.len() + entries.len());
        bytes.extend_from_slice(MAGIC);
        let at = frame::begin(&mut bytes);
        bytes.extend_from_slice(&json);
        frame::finish(&mut bytes, at);
        bytes.extend_from_slice(entries);
        let (file, size) = frame::write_new(dir, &path, &bytes)?;
        Ok(Journal {
            path,
            file,
            size,
            entries: n,
        })
    }

    /// Appends `n` encoded entry frames.
    pub(crate) fn append(&mut self, bytes: &[u8], n: u64, sync: bool) -> Result<(), BufferError> {
        frame::append(&mut self.file, &self.path, &mut self.size, bytes, sync)?;
        self.entries += n;
        Ok(())
    }

    /// Forces what was written to disk.
    pub(crate) fn sync(&self) -> Result<(), BufferError> {
        self.file.sync_data().map_err(|_| BufferError::Poisoned {
            path: self.path.clone(),
        })
    }
}

/// Opens the journal found at open for appending, cutting off a torn tail.
/// `len` is (valid length, file length, entries) from [`load`].
pub(crate) fn reopen(path: &Path, len: &(u64, u64, u64)) -> Result<Journal, BufferError> {
    let &(valid_len, file_len, entries) = len;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
        .map_err(io(path, "open"))?;
    if file_len != valid_len {
        file.set_len(valid_len)
            .map_err(io(path, "truncate the torn tail of"))?;
        file.sync_all().map_err(io(path, "fsync"))?;
    }
    Ok(Journal {
        path: path.to_path_buf(),
        file,
        size: valid_len,
        entries,
    })
}

/// A journal as found at open.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) header: Header,
    pub(crate) entries: Vec<Entry>,
    /// Bytes up to the end of the last whole entry.
    pub(crate) valid_len: u64,
    /// Bytes in the file.
    pub(crate) file_len: u64,
    /// Why the bytes after `valid_len` are not an entry, if there are any.
    pub(crate) torn: Option<&'static str>,
}

/// Reads the journal at `path`. A bad header, or an entry whose CRC is right
/// but whose content is not, is an error; a torn tail is reported.
pub(crate) fn load(path: &Path) -> Result<Loaded, BufferError> {
    let bytes = std::fs::read(path).map_err(io(path, "read"))?;
    let bad = |what: String| BufferError::BadHeader {
        path: path.to_path_buf(),
        kind: "journal",
        what,
    };
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(bad(
            "the file does not start with the magic bytes FTWJRNL1".into()
        ));
    }
    let Parsed::Frame(body, n) = frame::parse(&bytes[MAGIC.len()..]) else {
        return Err(bad("the header frame is incomplete or fails its CRC".into()));
    };
    let header: Header =
        serde_json::from_slice(body).map_err(|e| bad(format!("the header does not parse: {e}")))?;
    if header.version != VERSION {
        return Err(bad(format!("version {}", header.version)));
    }
    let mut at = MAGIC.len() + n;
    let mut entries = Vec::new();
    let torn = loop {
        match frame::parse(&bytes[at..]) {
            Parsed::End => break None,
            Parsed::Torn(why) => break Some(why),
            Parsed::Frame(body, n) => {
                let entry = frame::get_entry(body).map_err(|what| BufferError::Corrupt {
                    path: path.to_path_buf(),
                    offset: at as u64,
                    what: what.to_owned(),
                })?;
                entries.push(entry);
                at += n;
            }
        }
    };
    Ok(Loaded {
        header,
        entries,
        valid_len: at as u64,
        file_len: bytes.len() as u64,
        torn,
    })
}
