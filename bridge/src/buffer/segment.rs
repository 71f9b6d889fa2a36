//! Segment files: the records themselves, append-only.
//!
//! `seg-<first id, 20 digits>.log` = magic `FTWSEG01` (8 bytes), a header
//! frame (`version u32 = 1 | first_id u64`), then one frame per record (see
//! [`super::frame`]), with ids `first_id, first_id + 1, ...` in order. A
//! segment is created under a temporary name and renamed once its header is
//! on disk, so a crash leaves either no segment or one with a whole header.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::error::{BufferError, io};
use super::frame::{self, Parsed};

const MAGIC: &[u8; 8] = b"FTWSEG01";
const VERSION: u32 = 1;
/// Magic plus the header frame (8 + 8 + 12 bytes).
pub(crate) const HEADER_BYTES: u64 = 28;

/// The file name of the segment whose first record is `first_id`.
pub(crate) fn file_name(first_id: u64) -> String {
    format!("seg-{first_id:020}.log")
}

/// The first id in a segment file name, if it is one.
pub(crate) fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("seg-")?.strip_suffix(".log")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// An open segment file.
#[derive(Debug)]
pub(crate) struct Segment {
    /// Records written to it.
    pub(crate) records: u64,
    /// Records in it that are neither acknowledged nor removed.
    pub(crate) live: u64,
    /// Bytes in the file.
    pub(crate) size: u64,
    pub(crate) path: PathBuf,
    file: File,
}

impl Segment {
    /// Creates an empty segment (header only) for records from `first_id`.
    pub(crate) fn create(dir: &Path, first_id: u64) -> Result<Segment, BufferError> {
        let path = dir.join(file_name(first_id));
        let mut head = MAGIC.to_vec();
        let at = frame::begin(&mut head);
        head.extend_from_slice(&VERSION.to_le_bytes());
        head.extend_from_slice(&first_id.to_le_bytes());
        frame::finish(&mut head, at);
        debug_assert_eq!(head.len() as u64, HEADER_BYTES);
        let (file, size) = frame::write_new(dir, &path, &head)?;
        Ok(Segment {
            records: 0,
            live: 0,
            size,
            path,
            file,
        })
    }

    /// Appends encoded record frames.
    pub(crate) fn append(
        &mut self,
        bytes: &[u8],
        records: u64,
        sync: bool,
    ) -> Result<(), BufferError> {
        frame::append(&mut self.file, &self.path, &mut self.size, bytes, sync)?;
        self.records += records;
        Ok(())
    }

    /// Forces what was written to disk.
    pub(crate) fn sync(&self) -> Result<(), BufferError> {
        self.file.sync_data().map_err(|_| BufferError::Poisoned {
            path: self.path.clone(),
        })
    }

    /// Reads `len` bytes at `offset` into `buf` (replacing its contents).
    pub(crate) fn read(
        &self,
        offset: u64,
        len: usize,
        buf: &mut Vec<u8>,
    ) -> Result<(), BufferError> {
        buf.clear();
        buf.resize(len, 0);
        read_exact_at(&self.file, buf, offset).map_err(io(&self.path, "read"))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_exact_at(mut file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

/// A record as read at open (ids follow from the position; payloads are not
/// kept).
#[derive(Debug)]
pub(crate) struct ScannedRecord {
    pub(crate) seq: u64,
    pub(crate) t_ns: u64,
    pub(crate) device: String,
    pub(crate) offset: u64,
    pub(crate) frame_len: u32,
}

/// A segment file as found at open.
#[derive(Debug)]
pub(crate) struct Scan {
    pub(crate) records: Vec<ScannedRecord>,
    /// Bytes up to the end of the last whole record.
    pub(crate) valid_len: u64,
    /// Bytes in the file.
    pub(crate) file_len: u64,
    /// Why the bytes after `valid_len` are not a record, if there are any.
    pub(crate) torn: Option<&'static str>,
}

/// Reads and checks a whole segment file. A bad header or a record that is
/// intact but wrong (bad content, out-of-order id) is an error; where the
/// records stop being whole frames, the rest is reported as `torn` for the
/// caller to decide on.
pub(crate) fn scan(path: &Path, expect_first_id: u64) -> Result<Scan, BufferError> {
    let bytes = std::fs::read(path).map_err(io(path, "read"))?;
    let bad = |what: String| BufferError::BadHeader {
        path: path.to_path_buf(),
        kind: "segment",
        what,
    };
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(bad(
            "the file does not start with the magic bytes FTWSEG01".into()
        ));
    }
    let Parsed::Frame(body, n) = frame::parse(&bytes[MAGIC.len()..]) else {
        return Err(bad("the header frame is incomplete or fails its CRC".into()));
    };
    let mut r = frame::Reader::new(body);
    let (Some(version), Some(first_id)) = (r.u32(), r.u64()) else {
        return Err(bad("the header frame is too short".into()));
    };
    if version != VERSION {
        return Err(bad(format!("version {version}")));
    }
    if first_id != expect_first_id {
        return Err(bad(format!(
            "first id {first_id} does not match the file name's {expect_first_id}"
        )));
    }
    let mut at = MAGIC.len() + n;
    let mut records = Vec::new();
    let torn = loop {
        match frame::parse(&bytes[at..]) {
            Parsed::End => break None,
            Parsed::Torn(why) => break Some(why),
            Parsed::Frame(body, n) => {
                let corrupt = |what: String| BufferError::Corrupt {
                    path: path.to_path_buf(),
                    offset: at as u64,
                    what,
                };
                let rec = frame::get_record(body).map_err(|e| corrupt(e.to_owned()))?;
                let want = first_id + records.len() as u64;
                if rec.id != want {
                    return Err(corrupt(format!(
                        "record id {} where {want} was expected",
                        rec.id
                    )));
                }
                records.push(ScannedRecord {
                    seq: rec.seq,
                    t_ns: rec.t_ns,
                    device: rec.device.to_owned(),
                    offset: at as u64,
                    frame_len: n as u32,
                });
                at += n;
            }
        }
    };
    Ok(Scan {
        records,
        valid_len: at as u64,
        file_len: bytes.len() as u64,
        torn,
    })
}

/// Opens a scanned segment for appending, first cutting it to `valid_len`
/// (and syncing) if it is longer.
pub(crate) fn reopen(path: &Path, scan: &Scan) -> Result<Segment, BufferError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
        .map_err(io(path, "open"))?;
    if scan.file_len != scan.valid_len {
        file.set_len(scan.valid_len)
            .map_err(io(path, "truncate the torn tail of"))?;
        file.sync_all().map_err(io(path, "fsync"))?;
    }
    Ok(Segment {
        records: scan.records.len() as u64,
        live: 0,
        size: scan.valid_len,
        path: path.to_path_buf(),
        file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_strangers_are_ignored() {
        assert_eq!(file_name(42), "seg-00000000000000000042.log");
        assert_eq!(parse_name(&file_name(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_name("seg-42.log"), None);
        assert_eq!(parse_name("seg-0000000000000000004x.log"), None);
        assert_eq!(parse_name("journal.log"), None);
    }
}
