//! Frames, the unit segment and journal files are made of, and the bodies
//! they carry.
//!
//! A frame is `len: u32 LE | crc: u32 LE | body: len bytes`, where `crc` is
//! CRC-32 (IEEE, as `crc32fast` computes it) of the four `len` bytes followed
//! by the body. A reader that meets a short frame, an absurd length or a bad
//! CRC knows the frame was never completely written.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use super::error::BufferError;

/// Bytes before a frame's body.
pub(crate) const HEAD: usize = 8;
/// Largest body a frame may have (1 GiB): a longer length field is damage.
pub(crate) const MAX_BODY: usize = 1 << 30;

/// Starts a frame at the end of `out`; append the body, then call [`finish`].
pub(crate) fn begin(out: &mut Vec<u8>) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0; HEAD]);
    at
}

/// Fills in the length and CRC of the frame started at `at`.
pub(crate) fn finish(out: &mut [u8], at: usize) {
    let body_len = out.len() - at - HEAD;
    debug_assert!(body_len <= MAX_BODY, "callers bound the body");
    let len = (body_len as u32).to_le_bytes();
    let mut crc = crc32fast::Hasher::new();
    crc.update(&len);
    crc.update(&out[at + HEAD..]);
    out[at..at + 4].copy_from_slice(&len);
    out[at + 4..at + HEAD].copy_from_slice(&crc.finalize().to_le_bytes());
}

/// What the bytes at some offset hold.
pub(crate) enum Parsed<'a> {
    /// A whole, intact frame: its body and its total length.
    Frame(&'a [u8], usize),
    /// Nothing: the end of the data.
    End,
    /// An incomplete or damaged frame, and why.
    Torn(&'static str),
}

/// Reads the frame at the start of `buf`.
pub(crate) fn parse(buf: &[u8]) -> Parsed<'_> {
    if buf.is_empty() {
        return Parsed::End;
    }
    if buf.len() < HEAD {
        return Parsed::Torn("incomplete frame header");
    }
    let len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    let crc = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
    if len > MAX_BODY {
        return Parsed::Torn("frame length out of range");
    }
    if buf.len() - HEAD < len {
        return Parsed::Torn("frame runs past the end of the file");
    }
    let body = &buf[HEAD..HEAD + len];
    let mut h = crc32fast::Hasher::new();
    h.update(&buf[..4]);
    h.update(body);
    if h.finalize() != crc {
        return Parsed::Torn("CRC mismatch");
    }
    Parsed::Frame(body, HEAD + len)
}

/// Little-endian reader over a frame body; `None` when the body is too short.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf }
    }
    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Some(head)
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }
    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.bytes(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.bytes(4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    }
    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.bytes(8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    }
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }
}

/// One stored message, as a segment file holds it (borrowed from the bytes).
///
/// Body layout: `id u64 | seq u64 | t_ns u64 | qos u8 | device_len u16 |
/// device | topic_len u16 | topic | payload` (the payload is the rest).
#[derive(Debug)]
pub(crate) struct RecordRef<'a> {
    pub(crate) id: u64,
    pub(crate) seq: u64,
    pub(crate) t_ns: u64,
    pub(crate) qos: u8,
    pub(crate) device: &'a str,
    pub(crate) topic: &'a str,
    pub(crate) payload: &'a [u8],
}

/// Bytes a record takes in a segment, frame included.
pub(crate) fn record_len(device: &str, topic: &str, payload: &[u8]) -> u64 {
    super::RECORD_OVERHEAD_BYTES + device.len() as u64 + topic.len() as u64 + payload.len() as u64
}

/// Appends a record frame to `out`. The caller has checked that the device id
/// and topic fit in a u16 length and the whole body in [`MAX_BODY`].
pub(crate) fn put_record(out: &mut Vec<u8>, r: &RecordRef<'_>) {
    let at = begin(out);
    out.extend_from_slice(&r.id.to_le_bytes());
    out.extend_from_slice(&r.seq.to_le_bytes());
    out.extend_from_slice(&r.t_ns.to_le_bytes());
    out.push(r.qos);
    out.extend_from_slice(&(r.device.len() as u16).to_le_bytes());
    out.extend_from_slice(r.device.as_bytes());
    out.extend_from_slice(&(r.topic.len() as u16).to_le_bytes());
    out.extend_from_slice(r.topic.as_bytes());
    out.extend_from_slice(r.payload);
    finish(out, at);
}

/// Decodes a record body; `Err` says what is wrong with it.
pub(crate) fn get_record(body: &[u8]) -> Result<RecordRef<'_>, &'static str> {
    let mut r = Reader::new(body);
    let short = "record body too short";
    let id = r.u64().ok_or(short)?;
    let seq = r.u64().ok_or(short)?;
    let t_ns = r.u64().ok_or(short)?;
    let qos = r.u8().ok_or(short)?;
    let n = r.u16().ok_or(short)? as usize;
    let device =
        std::str::from_utf8(r.bytes(n).ok_or(short)?).map_err(|_| "device id is not UTF-8")?;
    let n = r.u16().ok_or(short)? as usize;
    let topic = std::str::from_utf8(r.bytes(n).ok_or(short)?).map_err(|_| "topic is not UTF-8")?;
    Ok(RecordRef {
        id,
        seq,
        t_ns,
        qos,
        device,
        topic,
        payload: r.rest(),
    })
}

/// How a record left the buffer (or a push was refused), as the journal
/// records it. The discriminants are the on-disk codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Acked = 1,
    DroppedOldest = 2,
    Expired = 3,
    Rejected = 4,
}

impl Kind {
    fn from_code(code: u8) -> Option<Kind> {
        Some(match code {
            1 => Kind::Acked,
            2 => Kind::DroppedOldest,
            3 => Kind::Expired,
            4 => Kind::Rejected,
            _ => return None,
        })
    }
}

/// One journal entry. Body layout: `kind u8 | id u64 | seq u64 | device`
/// (the device id is the rest). A rejected push has no id: its id field is
/// `u64::MAX`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) kind: Kind,
    pub(crate) id: u64,
    pub(crate) seq: u64,
    pub(crate) device: String,
}

/// Appends a journal entry frame to `out`.
pub(crate) fn put_entry(out: &mut Vec<u8>, kind: Kind, id: u64, seq: u64, device: &str) {
    let at = begin(out);
    out.push(kind as u8);
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(device.as_bytes());
    finish(out, at);
}

/// Decodes a journal entry body.
pub(crate) fn get_entry(body: &[u8]) -> Result<Entry, &'static str> {
    let mut r = Reader::new(body);
    let short = "journal entry too short";
    let kind = Kind::from_code(r.u8().ok_or(short)?).ok_or("unknown journal entry kind")?;
    let id = r.u64().ok_or(short)?;
    let seq = r.u64().ok_or(short)?;
    let device = std::str::from_utf8(r.rest())
        .map_err(|_| "device id is not UTF-8")?
        .to_owned();
    Ok(Entry {
        kind,
        id,
        seq,
        device,
    })
}

/// Appends `bytes` to `file` (opened for append, currently `*size` bytes
/// long), then fsyncs it if `sync`. On a failed write the file is cut back to
/// `*size`, so it never ends in a partial frame that later appends would
/// follow; if that fails too, or the fsync fails (after which what reached
/// the disk is unknown), the error is [`BufferError::Poisoned`].
pub(crate) fn append(
    file: &mut File,
    path: &Path,
    size: &mut u64,
    bytes: &[u8],
    sync: bool,
) -> Result<(), BufferError> {
    if let Err(source) = file.write_all(bytes) {
        return match file.set_len(*size) {
            Ok(()) => Err(BufferError::Io {
                path: path.to_path_buf(),
                op: "write",
                source,
            }),
            Err(_) => Err(BufferError::Poisoned {
                path: path.to_path_buf(),
            }),
        };
    }
    *size += bytes.len() as u64;
    if sync && file.sync_data().is_err() {
        return Err(BufferError::Poisoned {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// Writes `bytes` as the whole of `path` through a temporary file that is
/// synced and renamed into place (then the directory is synced), so the file
/// is either absent, its old self, or complete. Returns the file, open for
/// appending, and its length.
pub(crate) fn write_new(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(File, u64), BufferError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    {
        let mut f = File::create(&tmp).map_err(super::error::io(&tmp, "create"))?;
        f.write_all(bytes)
            .map_err(super::error::io(&tmp, "write"))?;
        f.sync_all().map_err(super::error::io(&tmp, "fsync"))?;
    }
    std::fs::rename(&tmp, path).map_err(super::error::io(path, "rename into place"))?;
    // From here the new file is in place: a failure leaves the caller holding
    // the old one, so it must stop writing (reopening reads the new one).
    let poisoned = |_| BufferError::Poisoned {
        path: path.to_path_buf(),
    };
    sync_dir(dir).map_err(poisoned)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
        .map_err(|_| BufferError::Poisoned {
            path: path.to_path_buf(),
        })?;
    Ok((file, bytes.len() as u64))
}

/// Makes a directory's entries (created, renamed, removed files) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), BufferError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(super::error::io(dir, "fsync directory"))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_and_its_length_is_what_limits_count() {
        let r = RecordRef {
            id: 7,
            seq: 9,
            t_ns: 11,
            qos: 1,
            device: "pump01",
            topic: "a/b",
            payload: b"xyz",
        };
        let mut out = Vec::new();
        put_record(&mut out, &r);
        assert_eq!(out.len() as u64, record_len("pump01", "a/b", b"xyz"));
        let Parsed::Frame(body, n) = parse(&out) else {
            panic!("frame expected")
        };
        assert_eq!(n, out.len());
        let back = get_record(body).expect("valid record");
        assert_eq!((back.id, back.seq, back.t_ns, back.qos), (7, 9, 11, 1));
        assert_eq!(
            (back.device, back.topic, back.payload),
            ("pump01", "a/b", &b"xyz"[..])
        );
    }

    #[test]
    fn every_prefix_and_every_flipped_bit_of_a_frame_reads_as_torn() {
        let mut out = Vec::new();
        put_entry(&mut out, Kind::Acked, 3, 4, "dev");
        for cut in 1..out.len() {
            assert!(
                matches!(parse(&out[..cut]), Parsed::Torn(_)),
                "prefix of {cut} bytes"
            );
        }
        for bit in 0..out.len() * 8 {
            let mut bad = out.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(matches!(parse(&bad), Parsed::Torn(_)), "bit {bit} flipped");
        }
        let Parsed::Frame(body, _) = parse(&out) else {
            panic!("frame expected")
        };
        assert_eq!(
            get_entry(body),
            Ok(Entry {
                kind: Kind::Acked,
                id: 3,
                seq: 4,
                device: "dev".into()
            })
        );
    }
}
