#!/usr/bin/env bash
# Bulk import of a 100,000-row CSV through `mcms import` (release build), on SQLite and on
# PostgreSQL: time to read and check every row, time to commit the batch, peak memory; and the same
# for 10,000 rows, to show how memory follows the file. The data is generated: demo master data,
# valid rows (each its own natural key) dated from the first of last month to yesterday.
source "$(dirname "$0")/lib.sh"
# Only cargo is needed here: no browser bundle.
ensure_postgres
rows="${MCMS_BENCH_ROWS:-100000}"
say "building mcms (release)"
(cd "$ROOT" && cargo build --release --locked -p server --bin mcms)
bin="$CARGO_TARGET_DIR/release/mcms"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

generate() { # rows file
  python3 - "$1" "$2" <<'PY'
import csv, datetime, sys
n, path = int(sys.argv[1]), sys.argv[2]
now = datetime.datetime.utcnow() + datetime.timedelta(hours=9)
end = now.date() - datetime.timedelta(days=1)
start = (end.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
days = [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]
campaigns = [("SF_LAUNCH_KR", "STARFALL", "GOOGLE_ADS"), ("SF_META_GLOBAL", "STARFALL", "META"),
             ("PH_TIKTOK_SEA", "PUZZLE", "TIKTOK"), ("DV_NAVER_KR", "DRAGONVALE", "NAVER"),
             ("PR_APPLOVIN_GL", "RACERS", "APPLOVIN")]
types = [("FLAT", ""), ("CREATIVE", ""), ("CPI", "50")]
countries = [l.split("\t")[0] for l in open("/usr/share/zoneinfo/iso3166.tab") if not l.startswith("#")]
countries = [c for c in countries if c not in ("KR", "US", "JP", "TH", "TW")]
with open(path, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["Date", "Game", "Channel", "Campaign", "Country", "Vendor", "Cost type", "Currency", "Amount", "Units", "Invoice number"])
    i = 0
    for day in days:
        for (campaign, game, channel) in campaigns:
            for (cost_type, units) in types:
                for country in countries:
                    if i == n:
                        sys.exit(0)
                    w.writerow([day.isoformat(), game, channel, campaign, country, "DIRECT", cost_type, "KRW",
                                f"{100000 + i % 50000:,}", units, f"BENCH-{i}"])
                    i += 1
sys.exit(f"only {i} distinct rows fit the dates; asked for {n}")
PY
}

run() { # label database-url rows
  local label="$1" url="$2" n="$3" file="$work/costs-$3.csv"
  [ -f "$file" ] || generate "$n" "$file"
  MCMS_LOG=warn "$bin" migrate --demo --database-url "$url" >/dev/null
  local log="$work/$label-$n.log"
  /usr/bin/time -f "peak RSS %M KB" env MCMS_LOG=info "$bin" import "$file" --as marketer@mcms.example \
    --accept-warnings --database-url "$url" >"$log" 2>&1 || { cat "$log"; exit 1; }
  local checked committed rss
  checked="$(grep 'import read and checked' "$log" | grep -o 'ms=[0-9]*' | cut -d= -f2)"
  committed="$(grep 'import committed' "$log" | grep -o 'ms=[0-9]*' | cut -d= -f2)"
  rss="$(grep -o 'peak RSS [0-9]* KB' "$log")"
  echo "$label, $n rows: read + checked ${checked} ms, committed ${committed} ms, $rss"
}

command -v /usr/bin/time >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
for n in 10000 "$rows"; do
  run sqlite "sqlite://$work/sqlite-$n.db" "$n"
  db="mcms_bench_import_$n"
  psql "$MCMS_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $db" -qc "CREATE DATABASE $db" >/dev/null
  run postgres "${MCMS_TEST_POSTGRES_URL%/*}/$db" "$n"
  psql "$MCMS_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
done
