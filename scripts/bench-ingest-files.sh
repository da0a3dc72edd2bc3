#!/usr/bin/env bash
# The ingestion lab's two file benchmarks (issue 14), release build:
# 1. Inference over 100 Parquet files of about 100 MB each (real copies, 10 GB on disk):
#    `mcms ingest infer` reads each file's footer only. Five runs, whole process, wall time.
# 2. CSV → Parquet: `mcms ingest split` of the pipeline benchmark's 1,000,000-row cost file
#    (../shared/reference/pandas-csv-to-parquet.py gen) into the proposed Parquet layout, beside
#    pandas + pyarrow converting the same file (read_csv, to Parquet: like for like) and the
#    pipeline benchmark's pandas job (which also cleans, de-duplicates and aggregates). Three
#    runs each, alternating, whole process, MB/s of CSV read.
# MCMS_BENCH_PARQUET_FILES (default 100) and MCMS_BENCH_CSV_ROWS (default 1000000) shrink it.
source "$(dirname "$0")/lib.sh"
ensure_rust_tools
ensure_wasm_opt
build_site --release
bin="$CARGO_TARGET_DIR/release/mcms"
files="${MCMS_BENCH_PARQUET_FILES:-100}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
venv="$CACHE/pandas-venv"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q pandas pyarrow; }

whole() { # COMMAND...: runs it quietly; its wall time in $took
  local start end
  start="$(date +%s.%N)"
  "$@" > "$work/out.txt"
  end="$(date +%s.%N)"
  took="$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')"
}

say "one Parquet file of about 100 MB (pyarrow, snappy), copied to $files files"
"$venv/bin/python" - "$work/parquet/part-000.parquet" <<'PY'
import sys, os
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
rng = np.random.default_rng(14)
n = 6_000_000
table = pa.table({
    "event_id": np.arange(n, dtype=np.int64),
    "player_id": rng.integers(0, 5_000_000, n),
    "amount": rng.random(n) * 1000,
    "level": rng.integers(1, 200, n, dtype=np.int32),
    "country": pa.array(rng.choice(["KR", "JP", "US", "TW", "TH"], n)),
})
os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
pq.write_table(table, sys.argv[1], compression="snappy", row_group_size=1_000_000)
print(f"{os.path.getsize(sys.argv[1]) / 1e6:.0f} MB, {table.num_rows} rows, {pq.ParquetFile(sys.argv[1]).metadata.num_row_groups} row groups")
PY
for i in $(seq 1 $((files - 1))); do
  cp "$work/parquet/part-000.parquet" "$work/parquet/part-$(printf %03d "$i").parquet"
done
sync
say "$(ls "$work/parquet" | wc -l) files, $(du -sh "$work/parquet" | cut -f1) on disk"
for run in 1 2 3 4 5; do
  whole env MCMS_LOG=warn "$bin" ingest infer "$work/parquet/*.parquet"
  echo "inference run $run: $took s, $(grep -c '' "$work/out.txt") lines of output ($(head -n 1 "$work/out.txt"))"
done
rm -rf "$work/parquet"

job="${MCMS_PANDAS_JOB:-$ROOT/../shared/reference/pandas-csv-to-parquet.py}"
if [ ! -f "$job" ]; then
  say "no pandas reference at $job: CSV → Parquet side by side skipped"
  exit 0
fi
csv="$work/csv"
"$venv/bin/python" "$job" gen "$csv" "${MCMS_BENCH_CSV_ROWS:-1000000}"
size="$(stat -c %s "$csv/costs.csv")"
say "CSV → Parquet: $csv/costs.csv, $((size / 1000000)) MB"
cat > "$work/convert.py" <<'PY'
import sys
import pyarrow.csv as pc, pyarrow.parquet as pq
pq.write_table(pc.read_csv(sys.argv[1]), sys.argv[2], compression="snappy")
PY
rate() { awk -v s="$size" -v t="$1" 'BEGIN { printf "%.1f MB/s", s / t / 1e6 }'; }
for run in 1 2 3; do
  rm -rf "$work/split"
  whole env MCMS_LOG=warn "$bin" ingest split "$csv/costs.csv" --out "$work/split" --layout parquet
  mcms="$took"
  whole "$venv/bin/python" "$work/convert.py" "$csv/costs.csv" "$work/pyarrow.parquet"
  arrow="$took"
  whole "$venv/bin/python" "$job" run "$csv"
  pandas="$took"
  echo "run $run: mcms ingest split $mcms s ($(rate "$mcms")), $(du -sh "$work/split" | cut -f1) written;" \
    "pyarrow read_csv → Parquet $arrow s ($(rate "$arrow")); pandas job $pandas s ($(rate "$pandas"))"
done
