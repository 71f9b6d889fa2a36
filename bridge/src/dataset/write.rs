//! Partition files: one Arrow record batch to Parquet or CSV, written under a
//! temporary name, synced and renamed, so an interrupted run never leaves a
//! file that looks complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::datatypes::DataType;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

/// File format of the tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Apache Parquet, zstd-compressed.
    Parquet,
    /// CSV with a header row, RFC 4180 quoting, empty field = null.
    Csv,
}

impl Format {
    /// Name in the card.
    pub fn name(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
        }
    }

    /// File extension.
    pub fn extension(self) -> &'static str {
        self.name()
    }
}

/// Why a table could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// A file or directory could not be created, written, synced or renamed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The Parquet encoder failed.
    #[error("{path}: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The error.
        source: parquet::errors::ParquetError,
    },
    /// A table could not be decoded.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: arrow::error::ArrowError,
    },
    /// The CSV encoder failed.
    #[error("{path}: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The error.
        source: arrow::error::ArrowError,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writer settings for Parquet: zstd level 1, one row group up to 1 Mi rows,
/// chunk-level statistics, and dictionary encoding only on string columns
/// (on floats and timestamps it costs about 3× in speed for no gain). List
/// columns (raw samples) keep it: their values are quantised sensor outputs
/// that repeat, and dictionary pages make such a table about half the size
/// and no slower.
pub fn parquet_properties(batch: &RecordBatch) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(1 << 20))
        .set_statistics_enabled(EnabledStatistics::Chunk);
    for f in batch.schema().fields() {
        if !matches!(f.data_type(), DataType::Utf8) {
            b = b.set_column_dictionary_enabled(ColumnPath::from(f.name().as_str()), false);
        }
    }
    b.build()
}

/// The temporary name `path` is written under until complete.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

/// Writes `batch` to `path` in `format` (creating its directory): to a
/// `.partial` name first, then synced and renamed. Returns the bytes written.
pub fn write_table(path: &Path, batch: &RecordBatch, format: Format) -> Result<u64, WriteError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let partial = partial_path(path);
    let file = File::create(&partial).map_err(io(&partial))?;
    let file = match format {
        Format::Parquet => {
            let props = parquet_properties(batch);
            let mut w = ArrowWriter::try_new(
                BufWriter::with_capacity(1 << 20, file),
                batch.schema(),
                Some(props),
            )
            .map_err(|source| WriteError::Parquet {
                path: partial.clone(),
                source,
            })?;
            let pq = |source| WriteError::Parquet {
                path: partial.clone(),
                source,
            };
            w.write(batch).map_err(pq)?;
            let out = w.into_inner().map_err(pq)?;
            out.into_inner().map_err(|e| WriteError::Io {
                path: partial.clone(),
                source: e.into_error(),
            })?
        }
        Format::Csv => {
            let mut out = BufWriter::with_capacity(1 << 20, file);
            {
                let mut w = arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut out);
                w.write(batch).map_err(|source| WriteError::Csv {
                    path: partial.clone(),
                    source,
                })?;
            }
            out.flush().map_err(io(&partial))?;
            out.into_inner().map_err(|e| WriteError::Io {
                path: partial.clone(),
                source: e.into_error(),
            })?
        }
    };
    file.sync_all().map_err(io(&partial))?;
    let bytes = file.metadata().map_err(io(&partial))?.len();
    drop(file);
    std::fs::rename(&partial, path).map_err(io(path))?;
    sync_dir(dir)?;
    Ok(bytes)
}

/// Writes `bytes` to `path` through a synced `.partial` file and a rename.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let partial = partial_path(path);
    let mut f = File::create(&partial).map_err(io(&partial))?;
    f.write_all(bytes).map_err(io(&partial))?;
    f.sync_all().map_err(io(&partial))?;
    drop(f);
    std::fs::rename(&partial, path).map_err(io(path))?;
    sync_dir(dir)
}

/// Syncs a directory so a rename inside it survives a crash.
fn sync_dir(dir: &Path) -> Result<(), WriteError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("ts_ns", DataType::Int64, false),
            Field::new("x", DataType::Float64, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(Float64Array::from(vec![Some(0.5), None, Some(2.0)])),
                Arc::new(StringArray::from(vec![Some("a,b"), None, Some("\"q\"")])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn parquet_round_trips_and_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p/part-00000.parquet");
        write_table(&path, &batch(), Format::Parquet).unwrap();
        assert!(!partial_path(&path).exists());
        let r = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let back: Vec<RecordBatch> = r.map(Result::unwrap).collect();
        assert_eq!(back, vec![batch()]);
    }

    #[test]
    fn csv_quotes_per_rfc_4180_and_writes_nulls_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part-00000.csv");
        write_table(&path, &batch(), Format::Csv).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "ts_ns,x,s\n1,0.5,\"a,b\"\n2,,\n3,2.0,\"\"\"q\"\"\"\n");
    }
}
