#!/usr/bin/env bash
# The month's marketing-cost batch (pipelines/month-batch.yaml) over one million ledger entries,
# release build, SQLite: read the ledger's month, the batch check over every entry, the amounts in
# the reporting currency, Parquet in the lake, the daily spend into the marts table. Wall time and
# peak memory (GNU time's maximum resident set) of each of three runs of the same month.
source "$(dirname "$0")/lib.sh"
ensure_rust_tools
ensure_wasm_opt
for tool in sqlite3; do
  command -v "$tool" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null; }
done
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
build_site --release
bin="$CARGO_TARGET_DIR/release/mcms"
data="$(mktemp -d)"
rows="${MCMS_BENCH_ROWS:-1000000}"
trap 'rm -rf "$data"' EXIT

say "demo data, then the closed month's entries copied up to $rows"
MCMS_LOG=warn "$bin" migrate --demo --data-dir "$data" >/dev/null
month="$(sqlite3 "$data/mcms.db" "SELECT month FROM closed_periods ORDER BY month DESC LIMIT 1")"
have="$(sqlite3 "$data/mcms.db" "SELECT COUNT(*) FROM cost_entries WHERE substr(entry_date, 1, 7) = '$month'")"
# Each of the month's entries (which pass every rule) again and again, with its own natural key
# and no invoice number (an invoice is unique per vendor).
sqlite3 "$data/mcms.db" <<SQL
PRAGMA journal_mode = WAL;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ($rows - $have + $have - 1) / $have)
INSERT INTO cost_entries (entry_date, game, channel, campaign, country, vendor, cost_type, currency,
    amount_minor, units, invoice_number, invoice_key, memo, vat_included, corrects, reporting_currency,
    reporting_minor, fx_micros, fx_date, fx_source, natural_key, version, created_at, created_by, updated_at, updated_by)
SELECT entry_date, game, channel, campaign, country, vendor, cost_type, currency,
       amount_minor + n.i, units, '', '', memo, vat_included, NULL, reporting_currency,
       reporting_minor + n.i, fx_micros, fx_date, fx_source, natural_key || '|bench|' || n.i, 1, created_at, created_by, updated_at, updated_by
FROM cost_entries, n
WHERE substr(entry_date, 1, 7) = '$month' AND deleted_at IS NULL AND corrects IS NULL
LIMIT $rows - $have;
DELETE FROM cost_totals;
INSERT INTO cost_totals (month, game, channel, campaign, country, vendor, cost_type, entries, reporting_minor)
SELECT substr(entry_date, 1, 7), game, channel, campaign, country, vendor, cost_type, COUNT(*), SUM(reporting_minor)
FROM cost_entries WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6, 7;
ANALYZE;
SQL
say "entries in $month: $(sqlite3 "$data/mcms.db" "SELECT COUNT(*) FROM cost_entries WHERE substr(entry_date, 1, 7) = '$month'")"

for run in 1 2 3; do
  say "run $run: mcms pipeline run pipelines/month-batch.yaml --param month=$month"
  MCMS_LOG=warn /usr/bin/time -f 'wall %e s, peak memory %M KB' \
    "$bin" pipeline run "$ROOT/pipelines/month-batch.yaml" --param "month=$month" --data-dir "$data"
done
say "written: $(du -sh "$data/lake/costs" | cut -f1) of Parquet, $(sqlite3 "$data/marts.db" "SELECT COUNT(*) FROM daily_spend") daily rows"

# The same month on PostgreSQL (the machine's server, or MCMS_BENCH_POSTGRES): a database made for
# the benchmark and dropped after it, the same copies of the closed month's entries.
pg_admin="${MCMS_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"
if command -v psql >/dev/null && pg_isready -q -d "$pg_admin"; then
  pg_url="${pg_admin%/*}/mcms_bench_$$"
  psql "$pg_admin" -qc "CREATE DATABASE mcms_bench_$$"
  trap 'rm -rf "$data"; psql "$pg_admin" -qc "DROP DATABASE IF EXISTS mcms_bench_$$ WITH (FORCE)"' EXIT
  pg_data="$data/pg"
  mkdir -p "$pg_data"
  MCMS_LOG=warn "$bin" migrate --demo --data-dir "$pg_data" --database-url "$pg_url" >/dev/null
  have="$(psql "$pg_url" -Atc "SELECT count(*) FROM cost_entries WHERE to_char(entry_date, 'YYYY-MM') = '$month'")"
  psql "$pg_url" -q <<SQL
INSERT INTO cost_entries (entry_date, game, channel, campaign, country, vendor, cost_type, currency,
    amount_minor, units, invoice_number, invoice_key, memo, vat_included, corrects, reporting_currency,
    reporting_minor, fx_micros, fx_date, fx_source, natural_key, version, created_at, created_by, updated_at, updated_by)
SELECT entry_date, game, channel, campaign, country, vendor, cost_type, currency,
       amount_minor + n.i, units, '', '', memo, vat_included, NULL, reporting_currency,
       reporting_minor + n.i, fx_micros, fx_date, fx_source, natural_key || '|bench|' || n.i, 1, created_at, created_by, updated_at, updated_by
FROM cost_entries, generate_series(1, ($rows + $have - 1) / $have) AS n(i)
WHERE to_char(entry_date, 'YYYY-MM') = '$month' AND deleted_at IS NULL AND corrects IS NULL
LIMIT $rows - $have;
DELETE FROM cost_totals;
INSERT INTO cost_totals (month, game, channel, campaign, country, vendor, cost_type, entries, reporting_minor)
SELECT to_char(entry_date, 'YYYY-MM'), game, channel, campaign, country, vendor, cost_type, COUNT(*), SUM(reporting_minor)
FROM cost_entries WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6, 7;
ANALYZE;
SQL
  say "PostgreSQL: entries in $month: $(psql "$pg_url" -Atc "SELECT count(*) FROM cost_entries WHERE to_char(entry_date, 'YYYY-MM') = '$month'")"
  for run in 1 2 3; do
    say "PostgreSQL run $run: mcms pipeline run pipelines/month-batch.yaml --param month=$month"
    MCMS_LOG=warn /usr/bin/time -f 'wall %e s, peak memory %M KB' "$bin" pipeline run "$ROOT/pipelines/month-batch.yaml" \
      --param "month=$month" --data-dir "$pg_data" --database-url "$pg_url"
  done
else
  say "no PostgreSQL at $pg_admin: the PostgreSQL month skipped"
fi

# CSV → Parquet, side by side with the pandas + pyarrow job the data team's library runs
# (../shared/reference/pandas-csv-to-parquet.py, or MCMS_PANDAS_JOB): the same 1,000,000-row file,
# trimmed, rows without an amount dropped, dates and amounts typed, de-duplicated, written as
# Parquet by month, daily spend per game and channel beside it. Three runs each, alternating.
job="${MCMS_PANDAS_JOB:-$ROOT/../shared/reference/pandas-csv-to-parquet.py}"
if [ ! -f "$job" ]; then
  say "no pandas reference at $job: CSV → Parquet side by side skipped"
  exit 0
fi
venv="$CACHE/pandas-venv"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q pandas pyarrow; }
csv_dir="$data/csv"
"$venv/bin/python" "$job" gen "$csv_dir" "${MCMS_BENCH_CSV_ROWS:-1000000}"
cat > "$csv_dir/job.yaml" <<'YAML'
version: 1
connections:
  here: { kind: folder, path: csv }
steps:
  - name: rows
    source: { files: { connection: here, glob: costs.csv, format: csv } }
  - name: cleaned
    clean:
      input: rows
      trim: ["*"]
      cast: { entry_date: { to: date }, amount_minor: { to: integer } }
      filter: amount_minor IS NOT NULL
      dedupe: [entry_date, campaign, country, vendor, invoice_number]
  - name: monthly
    transform: { sql: "SELECT *, to_char(entry_date, '%Y-%m') AS month FROM cleaned" }
  - name: daily
    aggregate: { input: monthly, group_by: [entry_date, game, channel], sum: [amount_minor], count: entries }
  - name: clean_out
    sink: { files: { input: monthly, connection: here, path: out/clean, format: parquet, partition_by: [month] } }
  - name: daily_out
    sink: { files: { input: daily, connection: here, path: out/daily, format: parquet } }
YAML
size="$(stat -c %s "$csv_dir/costs.csv")"
# Both commands timed the same way, as a whole process by the same clock (what someone running
# either waits for: Python's start and imports, MCMS's start and its run record), and each job
# alone: pandas' own figure (after its imports) and the sum of MCMS's steps as its run reports them.
whole() { # COMMAND...: runs it, its output in $out and its wall time in $took
  local start end
  start="$(date +%s.%N)"
  out="$("$@")"
  end="$(date +%s.%N)"
  printf '%s\n' "$out"
  took="$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')"
}
for run in 1 2 3; do
  say "run $run: pandas + pyarrow"
  whole "$venv/bin/python" "$job" run "$csv_dir"
  pandas="$took"
  pandas_job="$(sed -n 's/.* \([0-9.]*\) s, .*/\1/p' <<<"$out")"
  say "run $run: mcms pipeline run (the same job)"
  whole env MCMS_LOG=warn "$bin" pipeline run "$csv_dir/job.yaml" --data-dir "$data"
  mcms_job="$(grep -oE '[0-9]+ ms' <<<"$out" | awk '{ s += $1 } END { printf "%.3f", s / 1000 }')"
  awk -v p="$pandas" -v m="$took" -v pj="$pandas_job" -v mj="$mcms_job" -v size="$size" 'BEGIN {
    printf "whole process: pandas %.2f s (%.1f MB/s), mcms %.2f s (%.1f MB/s): %.1fx\n",
      p, size / p / 1e6, m, size / m / 1e6, p / m
    printf "job alone:     pandas %.2f s, mcms %.2f s: %.1fx\n", pj, mj, pj / mj }'
done

# `mcms pipeline check` of a 20-step file (a CSV source, cleaning, twelve transforms, sums, checks,
# two sinks), the file's own check and every step planned against the CSV's columns; ten runs.
{
  printf 'version: 1\nparams:\n  month: { type: month, default: previous }\nconnections:\n  here: { kind: folder, path: csv }\nsteps:\n'
  printf '  - name: rows\n    source: { files: { connection: here, glob: costs.csv, format: csv } }\n'
  printf '  - name: t0\n    clean: { input: rows, trim: ["*"], cast: { amount_minor: { to: integer } }, dedupe: [entry_date, invoice_number] }\n'
  prev=t0
  for i in $(seq 1 12); do
    printf '  - name: t%s\n    transform: { sql: "SELECT entry_date, game, channel, country, amount_minor + %s AS amount_minor, invoice_number FROM %s WHERE amount_minor > %s" }\n' "$i" "$i" "$prev" "$i"
    prev="t$i"
  done
  printf '  - name: daily\n    aggregate: { input: %s, group_by: [entry_date, game, channel], sum: [amount_minor], count: entries, max: [country] }\n' "$prev"
  printf '  - name: by_game\n    aggregate: { input: daily, group_by: [game], sum: [amount_minor, entries] }\n'
  printf '  - name: sane\n    check: { input: daily, row_count: { min: 1 }, not_null: [game], unique: [entry_date, game, channel] }\n'
  printf '  - name: known\n    check: { input: by_game, accepted: { game: [STARFALL, PUZZLE, DRAGONVALE, RACERS] } }\n'
  printf '  - name: out_daily\n    sink: { files: { input: sane, connection: here, path: "out20/daily/month=${month}", format: parquet } }\n'
  printf '  - name: out_games\n    sink: { files: { input: known, connection: here, path: "out20/games/month=${month}", format: csv } }\n'
} > "$csv_dir/twenty.yaml"
say "mcms pipeline check of a $(grep -c '  - name:' "$csv_dir/twenty.yaml")-step file, ten runs"
for run in $(seq 10); do
  start="$(date +%s.%N)"
  MCMS_LOG=warn "$bin" pipeline check "$csv_dir/twenty.yaml" --data-dir "$data" >/dev/null
  awk -v start="$start" -v end="$(date +%s.%N)" 'BEGIN { printf "%.0f ms\n", (end - start) * 1000 }'
done | sort -n | tr '\n' ' '
echo
