#!/usr/bin/env bash
# Signed-in page latency and throughput of one or more mcms binaries, run alternately in one go so
# a noisy machine affects each alike: `scripts/bench-pages.sh OLD_BIN NEW_BIN` (build each with
# `cargo leptos build --release --precompress` and copy it away first). Demo data on a fresh SQLite
# database per binary, signed in as the demo admin, wrk on loopback: 3 s warm-up, then 10 s at one
# connection and 10 s at 16, for `/` and `/admin/users`.
set -euo pipefail
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
port="${MCMS_BENCH_PORT:-3600}"
for round in 1 2; do
  for bin in "$@"; do
    data="$(mktemp -d)"
    base="http://127.0.0.1:$port"
    MCMS_LOG=error "$bin" serve --demo --addr "127.0.0.1:$port" --data-dir "$data" &
    pid=$!
    for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.3; done
    cookie="$(curl -s -o /dev/null -D - -H "Origin: $base" -H 'Accept: application/json' \
      --data-urlencode 'email=admin@mcms.example' --data-urlencode 'password=mcms-demo-2026' --data-urlencode 'next=/' \
      "$base/api/login" | grep -i '^set-cookie: mcms_session=' | sed -E 's/^[Ss]et-[Cc]ookie: ([^;]*).*/\1/')"
    for path in / /admin/users; do
      wrk -t1 -c1 -d3s -H "Cookie: $cookie" "$base$path" >/dev/null
      one="$(wrk -t1 -c1 -d10s --latency -H "Cookie: $cookie" "$base$path")"
      many="$(wrk -t2 -c16 -d10s --latency -H "Cookie: $cookie" "$base$path")"
      printf 'round %s  %-28s %-13s 1 conn: p50 %-8s p99 %-8s %7s req/s   16 conn: p50 %-8s %7s req/s\n' \
        "$round" "$bin" "$path" \
        "$(awk '/ 50%/{print $2}' <<<"$one")" "$(awk '/ 99%/{print $2}' <<<"$one")" "$(awk '/Requests\/sec/{print $2}' <<<"$one")" \
        "$(awk '/ 50%/{print $2}' <<<"$many")" "$(awk '/Requests\/sec/{print $2}' <<<"$many")"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$data"
    port=$((port + 1))
  done
done
