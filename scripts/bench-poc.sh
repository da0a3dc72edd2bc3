#!/usr/bin/env bash
# The PoC overview (release build, SQLite) over 10,000 recorded runs: the demo PoC's 108 runs
# repeated on other days (the same parameter sets, as repeated runs of a real PoC are), then the
# report page rendered on the server for a signed-in viewer, unfiltered and filtered, one
# connection at a time. Traffic goes to 127.0.0.1 only; every load run is bounded in time.
source "$(dirname "$0")/lib.sh"
for tool in wrk sqlite3 curl; do
  command -v "$tool" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null; }
done
say "building mcms (release)"
(cd "$ROOT" && cargo build --release --locked -p server --bin mcms)
bin="$CARGO_TARGET_DIR/release/mcms"
port="${MCMS_BENCH_PORT:-3503}"
data="$(mktemp -d)"
base="http://127.0.0.1:$port"
runs="${MCMS_BENCH_RUNS:-10000}"
MCMS_LOG=warn "$bin" migrate --demo --data-dir "$data" >/dev/null
sqlite3 "$data/mcms.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ($runs + 107) / 108 - 1)
INSERT INTO poc_runs (poc_id, system, scenario, format, compression, file_count, file_size_mb, total_bytes,
    row_count, load_seconds, latency_p50_ms, latency_p95_ms, credits, cost_cents, error, run_date, system_version,
    run_by, notes, created_at, created_by)
SELECT poc_id, system, scenario, format, compression, file_count, file_size_mb, total_bytes, row_count,
       load_seconds * (0.95 + (i % 10) / 100.0), latency_p50_ms, latency_p95_ms, credits, cost_cents, error,
       date(run_date, '+' || i || ' days'), system_version, run_by, 'repeat ' || i, created_at, created_by
FROM poc_runs CROSS JOIN n;
SELECT 'runs stored: ' || COUNT(*) FROM poc_runs;
SQL
MCMS_LOG=warn "$bin" serve --addr "127.0.0.1:$port" --data-dir "$data" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.2; done
cookie="$(curl -s -o /dev/null -D - -H "Origin: $base" -H 'Accept: application/json' \
  --data-urlencode 'email=viewer@mcms.example' --data-urlencode 'password=mcms-demo-2026' --data-urlencode 'next=/' \
  "$base/api/login" | grep -i '^set-cookie: mcms_session=' | sed -E 's/^[Ss]et-[Cc]ookie: ([^;]*).*/\1/')"
[ -n "$cookie" ] || { echo "could not sign in" >&2; exit 1; }
for path in "/poc" "/poc?format=parquet" "/poc?format=csv&compression=gzip&size=128"; do
  bytes="$(curl -fs -H "Cookie: $cookie" "$base$path" | wc -c)"
  say "GET $path as viewer ($bytes bytes): 1 connection, 10 s"
  wrk -t1 -c1 -d10s --latency -H "Cookie: $cookie" -H 'Accept: text/html' "$base$path" | grep -E '50%|90%|99%|Requests/sec'
done
