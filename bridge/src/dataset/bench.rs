//! Write-throughput benchmark: a dataset's feature tables read back into one
//! table (repeated to a target row count) and written to a single Parquet file
//! with the writer settings the dataset uses, timed without the simulation.
//! `bench/dataset_write.sh` prints this figure beside pyarrow writing the same table.

use std::fs::File;
use std::path::Path;
use std::time::Instant;

use arrow::array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::write::{Format, WriteError, write_table};

/// What one benchmark measured.
#[derive(Clone, Debug, PartialEq)]
pub struct WriteFigures {
    /// Rows written per repetition.
    pub rows: u64,
    /// Columns.
    pub columns: usize,
    /// Best wall time of one write (encode, compress, write, fsync, rename), s.
    pub best_s: f64,
    /// Median wall time, s.
    pub median_s: f64,
    /// File size, bytes.
    pub bytes: u64,
}

impl WriteFigures {
    /// Rows per second at the best time.
    pub fn rows_per_s(&self) -> f64 {
        self.rows as f64 / self.best_s.max(1e-12)
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Every Parquet feature table under `dir/features`, in path order, as one batch each.
pub fn read_features(dir: &Path) -> Result<Vec<RecordBatch>, WriteError> {
    let mut files = Vec::new();
    let mut stack = vec![dir.join("features")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(io(&d))? {
            let p = e.map_err(io(&d))?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let pq = |source| WriteError::Parquet {
            path: f.clone(),
            source,
        };
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&f).map_err(io(&f))?)
            .map_err(pq)?
            .with_batch_size(1 << 20)
            .build()
            .map_err(pq)?;
        for b in reader {
            out.push(b.map_err(|e| WriteError::Read {
                path: f.clone(),
                source: e,
            })?);
        }
    }
    Ok(out)
}

/// Concatenates `batches`, repeated until at least `min_rows`, into one batch.
pub fn table(batches: &[RecordBatch], min_rows: u64) -> Option<RecordBatch> {
    let schema = batches.first()?.schema();
    let per = batches
        .iter()
        .map(|b| b.num_rows() as u64)
        .sum::<u64>()
        .max(1);
    let times = min_rows.div_ceil(per).max(1) as usize;
    let all: Vec<&RecordBatch> = std::iter::repeat_n(batches, times).flatten().collect();
    arrow::compute::concat_batches(&schema, all).ok()
}

/// Writes `batch` to `path` `repeats` times and reports the times.
pub fn write_throughput(
    batch: &RecordBatch,
    path: &Path,
    repeats: usize,
) -> Result<WriteFigures, WriteError> {
    let mut times = Vec::with_capacity(repeats.max(1));
    let mut bytes = 0;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        bytes = write_table(path, batch, Format::Parquet)?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(WriteFigures {
        rows: batch.num_rows() as u64,
        columns: batch.num_columns(),
        best_s: times[0],
        median_s: times[times.len() / 2],
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn a_table_repeats_to_the_target_and_writes_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let b =
            RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1, 2, 3]))]).unwrap();
        write_table(
            &dir.path()
                .join("features/run=0000/machine=a/part-00000.parquet"),
            &b,
            Format::Parquet,
        )
        .unwrap();
        let back = read_features(dir.path()).unwrap();
        assert_eq!(back, vec![b]);
        let t = table(&back, 10).unwrap();
        assert_eq!(t.num_rows(), 12);
        let f = write_throughput(&t, &dir.path().join("t.parquet"), 2).unwrap();
        assert_eq!((f.rows, f.columns), (12, 1));
        assert!(f.bytes > 0 && f.best_s <= f.median_s);
    }
}
