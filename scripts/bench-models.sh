#!/usr/bin/env bash
# Model serving, side by side in one run: MCMS's release build and the reference (Flask + pydantic +
# onnxruntime under gunicorn -w 4, scripts/reference/models_flask.py) serving the same churn model
# with the same request, checks and answer, under the same load tool (wrk, loopback, with a key):
#   1. one instance per request, one connection: latency p50/p99 (the issue's goal: p50 < 1 ms);
#      its requests per second are one over the round trip, bounded by the machine's loopback and
#      the load tool, so their ratio is a ratio of latencies;
#   2. one instance per request, wrk -t2 -c16: throughput (goal: >= 10x the reference);
#   3. batches of 100 instances, wrk -t2 -c16: predictions per second (goal: >= 200,000/s, >= 10x the
#      reference).
# Durations: MCMS_BENCH_SECONDS (default 10). Prints each result and the ratios last.
# MCMS_BENCH_BIN: a release binary already built (`cargo build --release -p server --bin mcms`; the
# API needs no browser code), else the release build is made as scripts/run.sh makes it.
source "$(dirname "$0")/lib.sh"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
venv="$CACHE/models-bench-venv"
[ -x "$venv/bin/gunicorn" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q flask pydantic gunicorn onnxruntime numpy pyyaml; }
release_binary
secs="${MCMS_BENCH_SECONDS:-10}"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

one='{"instances": [{"days_since_install": 244, "days_since_last_session": 4, "sessions_7d": 2, "minutes_7d": 20.9, "level": 41, "purchases_28d": 0, "spend_28d_krw": 0, "platform": "android"}]}'
python3 - "$work" <<'PY'
import json, random, sys
random.seed(20261204)
rows = [{"days_since_install": random.randint(1, 365), "days_since_last_session": random.randint(0, 30),
         "sessions_7d": random.randint(0, 40), "minutes_7d": round(random.uniform(0, 900), 1),
         "level": random.randint(1, 120), "purchases_28d": random.randint(0, 5),
         "spend_28d_krw": float(random.randint(0, 200000)), "platform": random.choice(["android", "ios"])}
        for _ in range(100)]
open(sys.argv[1] + "/batch.json", "w").write(json.dumps({"instances": rows}))
PY
printf '%s' "$one" > "$work/one.json"
for shape in one batch; do
  cat > "$work/$shape.lua" <<LUA
wrk.method = "POST"
local f = io.open("$work/$shape.json"); wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "application/json"
LUA
done

run() { # name url key
  local name=$1 url=$2 key=$3
  curl -fsS -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' --data-binary "@$work/one.json" "$url" | head -c 160; echo
  wrk -t1 -c1 -d3s -s "$work/one.lua" -H "Authorization: Bearer $key" "$url" >/dev/null
  wrk -t1 -c1 -d"${secs}s" --latency -s "$work/one.lua" -H "Authorization: Bearer $key" "$url" > "$work/$name-one.txt"
  wrk -t2 -c16 -d"${secs}s" --latency -s "$work/one.lua" -H "Authorization: Bearer $key" "$url" > "$work/$name-one16.txt"
  wrk -t2 -c16 -d3s -s "$work/batch.lua" -H "Authorization: Bearer $key" "$url" >/dev/null
  wrk -t2 -c16 -d"${secs}s" --latency -s "$work/batch.lua" -H "Authorization: Bearer $key" "$url" > "$work/$name-batch.txt"
  for f in one one16 batch; do
    if grep -q "Non-2xx" "$work/$name-$f.txt"; then echo "$name $f: errors"; cat "$work/$name-$f.txt"; exit 1; fi
  done
}

say "reference: Flask + pydantic + onnxruntime, gunicorn -w 4"
REF_KEY=bench-key MODELS_DIR="$ROOT/models" "$venv/bin/gunicorn" -w 4 -b 127.0.0.1:8002 \
  --chdir "$ROOT/scripts/reference" models_flask:app >"$work/gunicorn.log" 2>&1 &
ref=$!
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:8002/api/v1/models/churn/predict)" = 401 ] && break
  sleep 0.2
done
run flask "http://127.0.0.1:8002/api/v1/models/churn/predict" bench-key
kill $ref; wait $ref 2>/dev/null

say "MCMS release build"
url="sqlite://$work/mcms.db"
MCMS_LOG=warn "$bin" migrate --demo --database-url "$url" >/dev/null
key="$(MCMS_LOG=warn "$bin" issue-key --partner "Kakao Games Channeling" --scopes "models:predict:churn" \
  --rate-per-minute 1000000000 --database-url "$url" | tail -n 1)"
MCMS_LOG=warn "$bin" serve --addr 127.0.0.1:3591 --database-url "$url" &
mcms=$!
for _ in $(seq 100); do curl -fs http://127.0.0.1:3591/healthz >/dev/null && break; sleep 0.2; done
run mcms "http://127.0.0.1:3591/api/v1/models/churn/predict" "$key"
kill $mcms; wait $mcms 2>/dev/null

rate() { awk '/Requests\/sec/ {print $2}' "$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$1"; }
echo
for name in flask mcms; do
  echo "$name, one instance (1 connection): $(rate "$work/$name-one.txt") req/s, p50 $(pct "$work/$name-one.txt" 50%), p99 $(pct "$work/$name-one.txt" 99%)"
  echo "$name, one instance (16 connections): $(rate "$work/$name-one16.txt") req/s, p50 $(pct "$work/$name-one16.txt" 50%)"
  echo "$name, batches of 100 (16 connections): $(rate "$work/$name-batch.txt") req/s = $(python3 -c "print(round($(rate "$work/$name-batch.txt") * 100))") predictions/s, p50 $(pct "$work/$name-batch.txt" 50%)"
done
ratio() { python3 -c "print('%.1fx' % ($(rate "$work/mcms-$1.txt") / $(rate "$work/flask-$1.txt")))"; }
echo "ratio mcms/flask: one instance, 1 connection $(ratio one); 16 connections $(ratio one16); batches $(ratio batch)"
