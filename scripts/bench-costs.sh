#!/usr/bin/env bash
# The cost list over one million stored entries (SQLite, release build): page latency for a
# signed-in viewer, unfiltered, filtered by month and by campaign, and deep in the keyset pages.
# Traffic goes to 127.0.0.1 only; every load run is bounded in time.
source "$(dirname "$0")/lib.sh"
ensure_rust_tools
ensure_wasm_opt
for tool in wrk sqlite3; do
  command -v "$tool" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null; }
done
build_site --release
bin="$CARGO_TARGET_DIR/release/mcms"
port="${MCMS_BENCH_PORT:-3501}"
data="$(mktemp -d)"
base="http://127.0.0.1:$port"
rows="${MCMS_BENCH_ROWS:-1000000}"

start() {
  MCMS_LOG=warn "$bin" serve --demo --addr "127.0.0.1:$port" --data-dir "$data" --site-root "$SITE_ROOT" &
  pid=$!
  for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && return; sleep 0.2; done
  echo "mcms did not start" >&2; exit 1
}
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT

say "seeding master data and demo entries, then $rows generated entries"
start
kill "$pid"; wait "$pid" 2>/dev/null || true
time sqlite3 "$data/mcms.db" <<SQL
PRAGMA journal_mode = WAL;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO cost_entries (entry_date, game, channel, campaign, country, vendor, cost_type, currency,
    amount_minor, units, invoice_number, invoice_key, memo, vat_included, corrects, reporting_currency,
    reporting_minor, fx_micros, fx_date, fx_source, natural_key, version, created_at, created_by, updated_at, updated_by)
SELECT date('now', '-' || (400 + i % 700) || ' days'),
       c.game, c.channel, c.code, co.code, v.code, 'FLAT', 'KRW',
       10000 + i % 5000, NULL, '', '', '', FALSE, NULL, 'KRW', 10000 + i % 5000, NULL, NULL, NULL,
       'bench|' || i, 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 1
FROM n
JOIN (SELECT code, game, channel, ROW_NUMBER() OVER (ORDER BY code) - 1 AS k FROM campaigns) c
  ON c.k = i % (SELECT COUNT(*) FROM campaigns)
-- Twenty countries, the first twenty by code that are not the demo's own.
JOIN (SELECT code, ROW_NUMBER() OVER (ORDER BY code) - 1 AS k FROM countries WHERE code NOT IN ('KR', 'JP')) co
  ON co.k = (i / 7) % 20
JOIN (SELECT code, ROW_NUMBER() OVER (ORDER BY code) - 1 AS k FROM vendors) v
  ON v.k = (i / 3) % (SELECT COUNT(*) FROM vendors);
-- Rows inserted behind the application's back: rebuild the running totals as migration 0004 does.
DELETE FROM cost_totals;
INSERT INTO cost_totals (month, game, channel, campaign, country, vendor, cost_type, entries, reporting_minor)
SELECT substr(entry_date, 1, 7), game, channel, campaign, country, vendor, cost_type, COUNT(*), SUM(reporting_minor)
FROM cost_entries WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6, 7;
SELECT 'running-total rows: ' || COUNT(*) FROM cost_totals;
ANALYZE;
SELECT 'entries stored: ' || COUNT(*) FROM cost_entries;
SQL
start
cookie="$(curl -s -o /dev/null -D - -H "Origin: $base" -H 'Accept: application/json' \
  --data-urlencode 'email=viewer@mcms.example' --data-urlencode 'password=mcms-demo-2026' --data-urlencode 'next=/' \
  "$base/api/login" | grep -i '^set-cookie: mcms_session=' | sed -E 's/^[Ss]et-[Cc]ookie: ([^;]*).*/\1/')"
[ -n "$cookie" ] || { echo "could not sign in" >&2; exit 1; }
month="$(date -u +%Y-%m)"
deep="$(sqlite3 "$data/mcms.db" "SELECT entry_date || '.' || id FROM cost_entries ORDER BY entry_date DESC, id DESC LIMIT 1 OFFSET 500000")"
deep_amount="$(sqlite3 "$data/mcms.db" "SELECT reporting_minor || '.' || id FROM cost_entries ORDER BY reporting_minor DESC, id DESC LIMIT 1 OFFSET 500000")"
for path in "/costs" "/costs?month=$month" "/costs?campaign=SF_ASA_JP" "/costs?country=KR" "/costs?country=AD&vendor=DIRECT" \
  "/costs?after=$deep" "/costs?order=largest&after=$deep_amount"; do
  curl -fs -o /dev/null -H "Cookie: $cookie" "$base$path" || { echo "GET $path failed" >&2; exit 1; }
  say "GET $path as viewer: 1 connection, 10 s"
  wrk -t1 -c1 -d10s --latency -H "Cookie: $cookie" -H 'Accept: text/html' "$base$path" | grep -E '50%|90%|99%|Requests/sec'
done
