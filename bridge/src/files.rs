//! Run output files: telemetry and truth as JSON lines, written through
//! buffers, each file first written under a temporary name and renamed when
//! complete, so an interrupted run never leaves a file that looks finished.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why output could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// A file could not be created or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A JSON-lines file being written.
pub struct JsonLines {
    path: PathBuf,
    partial: PathBuf,
    out: BufWriter<File>,
    lines: u64,
    bytes: u64,
}

impl JsonLines {
    /// Starts `path` (written as `path.partial` until [`JsonLines::finish`]).
    pub fn create(path: &Path) -> Result<JsonLines, OutputError> {
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let file = File::create(&partial).map_err(io(&partial))?;
        Ok(JsonLines {
            path: path.to_path_buf(),
            partial,
            out: BufWriter::with_capacity(1 << 20, file),
            lines: 0,
            bytes: 0,
        })
    }

    /// Appends one line (`bytes` must be one JSON value without newlines).
    pub fn line(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        self.out.write_all(bytes).map_err(io(&self.partial))?;
        self.out.write_all(b"\n").map_err(io(&self.partial))?;
        self.lines += 1;
        self.bytes += bytes.len() as u64 + 1;
        Ok(())
    }

    /// Lines written so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flushes, syncs and renames the file to its final name.
    pub fn finish(mut self) -> Result<PathBuf, OutputError> {
        self.out.flush().map_err(io(&self.partial))?;
        self.out.get_ref().sync_all().map_err(io(&self.partial))?;
        std::fs::rename(&self.partial, &self.path).map_err(io(&self.path))?;
        Ok(self.path)
    }
}

/// Writes `bytes` to `path` atomically (temporary file, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, bytes).map_err(io(&partial))?;
    std::fs::rename(&partial, path).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_appear_only_when_finished() {
        let dir = std::env::temp_dir().join(format!("fabtwin-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.jsonl");
        let mut w = JsonLines::create(&path).unwrap();
        w.line(b"{\"a\":1}").unwrap();
        assert!(!path.exists());
        assert_eq!(w.lines(), 1);
        w.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\":1}\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
