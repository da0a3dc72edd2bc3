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
