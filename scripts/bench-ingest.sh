#!/usr/bin/env bash
# Auto-ingest under a steady trickle (issue 14): a writer drops a CSV file of 1,000 rows every
# 100 ms into a folder (written under a hidden name, then renamed, as uploaders do), while
# `mcms ingest watch` (release build) polls the folder every second and loads each file into a
# SQLite table. At the end: files written, files loaded, rows, duplicates, and the arrival-to-
# queryable latency from the load history (p50, p95, max).
# Duration: MCMS_BENCH_SECONDS (default 600, the issue's ten minutes).
source "$(dirname "$0")/lib.sh"
ensure_rust_tools
ensure_wasm_opt
command -v sqlite3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null; }
build_site --release
bin="$CARGO_TARGET_DIR/release/mcms"
secs="${MCMS_BENCH_SECONDS:-600}"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/in"

say "watching $work/in for ${secs} s (poll every 1 s); a 1,000-row file every 100 ms"
MCMS_LOG=warn "$bin" ingest watch "$work/in/*.csv" --table events --sqlite "$work/lake.db" \
  --every-secs 1 --for-secs "$((secs + 3))" > "$work/watch.log" 2>&1 &
watch=$!
python3 - "$work/in" "$secs" <<'PY'
import os, sys, time
folder, secs = sys.argv[1], float(sys.argv[2])
start, n = time.time(), 0
while time.time() - start < secs:
    name = f"{n:06d}.csv"
    tmp = os.path.join(folder, "." + name)
    rows = "".join(f"{i},player-{i % 977},{i % 13},{(i * 37) % 1000 / 10},{n}\n" for i in range(1000))
    with open(tmp, "w") as f:
        f.write("seq,player,level,amount,file\n" + rows)
    os.rename(tmp, os.path.join(folder, name))
    n += 1
    time.sleep(max(0.0, start + n * 0.1 - time.time()))
print(n, file=open(os.path.join(folder, "..", "written"), "w"))
PY
wait $watch
written="$(cat "$work/written")"
db="$work/lake.db"
echo
tail -n 1 "$work/watch.log"
sqlite3 "$db" <<SQL
.mode list
SELECT 'files written: $written';
SELECT 'files loaded: ' || COUNT(*) || ', skipped: ' || SUM(outcome = 'skipped') FROM mcms_load_history;
SELECT 'loaded twice: ' || COUNT(*) FROM (SELECT file FROM mcms_load_history GROUP BY file HAVING COUNT(*) > 1);
SELECT 'rows: ' || COUNT(*) || ' (expected ' || ($written * 1000) || ')' FROM events;
WITH l AS (SELECT latency_ms, ROW_NUMBER() OVER (ORDER BY latency_ms) AS r, COUNT(*) OVER () AS n
           FROM mcms_load_history WHERE outcome = 'loaded')
SELECT printf('arrival to queryable: p50 %.0f ms, p95 %.0f ms, max %.0f ms',
  (SELECT latency_ms FROM l WHERE r = (n * 50 + 99) / 100),
  (SELECT latency_ms FROM l WHERE r = (n * 95 + 99) / 100),
  (SELECT MAX(latency_ms) FROM l));
SQL
