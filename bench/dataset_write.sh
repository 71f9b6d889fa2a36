#!/usr/bin/env bash
# Parquet write speed of `fabtwin dataset`, side by side with pyarrow writing the
# same table. Generates the benchmark dataset (release build), then:
#   - fabtwin: its feature tables read back into one table of >= ROWS rows and
#     written to one Parquet file (zstd level 1, dictionary on string columns
#     only, 1 Mi-row row groups, fsync), best of 3;
#   - pyarrow: the same files read into one table of the same rows and written
#     with the same settings, best of 3.
# Usage: bench/dataset_write.sh [RUNS (default 8)] [ROWS (default 2000000)]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-8}"
rows="${2:-2000000}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

python3 -c 'import pyarrow' 2>/dev/null || { echo "pyarrow is needed (apt: python3-pyarrow, or pip: pyarrow)" >&2; exit 1; }
cargo build --release --quiet
echo "== fabtwin dataset scenarios/benchmark.ron --runs $runs (simulation and writing)"
./target/release/fabtwin dataset scenarios/benchmark.ron --runs "$runs" --out "$out/ds" --bench-write "$rows"

echo "== pyarrow $(python3 -c 'import pyarrow; print(pyarrow.__version__)') writing the same table"
python3 - "$out/ds" "$rows" <<'PY'
import glob, math, os, sys, time
import pyarrow as pa, pyarrow.parquet as pq
root, min_rows = sys.argv[1], int(sys.argv[2])
files = sorted(glob.glob(os.path.join(root, "features", "run=*", "machine=*", "*.parquet")))
base = pa.concat_tables([pq.read_table(f) for f in files])
table = pa.concat_tables([base] * max(1, math.ceil(min_rows / base.num_rows))).combine_chunks()
strings = [f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
path = os.path.join(root, "pyarrow-write.parquet")
times = []
for _ in range(3):
    t = time.perf_counter()
    pq.write_table(table, path + ".partial", compression="zstd", compression_level=1,
                   use_dictionary=strings, row_group_size=1 << 20)
    with open(path + ".partial", "rb+") as fh:
        os.fsync(fh.fileno())
    os.rename(path + ".partial", path)
    times.append(time.perf_counter() - t)
times.sort()
size = os.path.getsize(path)
os.remove(path)
print(f"parquet write: {table.num_rows} rows × {table.num_columns} columns in {times[0]:.3f} s best, "
      f"{times[1]:.3f} s median → {table.num_rows / times[0] / 1e6:.2f} M rows/s, {size / 1e6:.1f} MB "
      f"(zstd 1, dictionary on strings only, fsync)")
PY
