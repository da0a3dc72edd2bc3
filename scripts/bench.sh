#!/usr/bin/env bash
# Release benchmarks of the foundation: server-rendered page latency for a signed-in user,
# hydrate bundle size, and server memory at idle. Prints the numbers recorded in docs/benchmarks.md.
# Traffic goes to 127.0.0.1 only; every load run is bounded in time.
source "$(dirname "$0")/lib.sh"
ensure_rust_tools
ensure_wasm_opt
if ! command -v wrk >/dev/null; then
  say "installing wrk from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
build_site --release
bin="$CARGO_TARGET_DIR/release/mcms"
port="${MCMS_BENCH_PORT:-3500}"
data="$(mktemp -d)"
base="http://127.0.0.1:$port"

MCMS_LOG=warn "$bin" serve --demo --addr "127.0.0.1:$port" --data-dir "$data" --site-root "$SITE_ROOT" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.2; done

say "hydrate bundle (release)"
for f in mcms.wasm mcms.js mcms.css; do
  printf '%-10s %8d bytes  %8d gzip -9\n' "$f" "$(wc -c <"$SITE_ROOT/pkg/$f")" "$(gzip -9 -c "$SITE_ROOT/pkg/$f" | wc -c)"
done
printf 'wasm + js gzip: %d bytes\n' $(( $(gzip -9 -c "$SITE_ROOT/pkg/mcms.wasm" | wc -c) + $(gzip -9 -c "$SITE_ROOT/pkg/mcms.js" | wc -c) ))

sleep 2
say "server memory at idle (after start-up and demo load, before any page)"
grep -E 'VmRSS|VmHWM' "/proc/$pid/status"

cookie="$(curl -s -o /dev/null -D - -H 'Origin: '"$base" -H 'Accept: application/json' \
  --data-urlencode 'email=admin@mcms.example' --data-urlencode 'password=mcms-demo-2026' --data-urlencode 'next=/' \
  "$base/api/login" | grep -i '^set-cookie: mcms_session=' | sed -E 's/^[Ss]et-[Cc]ookie: ([^;]*).*/\1/')"
[ -n "$cookie" ] || { echo "could not sign in" >&2; exit 1; }
curl -fs -o /dev/null -H "Cookie: $cookie" "$base/admin/users" || { echo "signed-in page failed" >&2; exit 1; }

for path in / /admin/users; do
  say "GET $path signed in as admin: 1 connection, 10 s (latency)"
  wrk -t1 -c1 -d10s --latency -H "Cookie: $cookie" -H 'Accept: text/html' "$base$path" | grep -E 'Latency|50%|90%|99%|Requests/sec'
  say "GET $path signed in as admin: 16 connections, 10 s (throughput)"
  wrk -t2 -c16 -d10s --latency -H "Cookie: $cookie" -H 'Accept: text/html' "$base$path" | grep -E '50%|99%|Requests/sec'
done

say "server memory after the load"
grep -E 'VmRSS|VmHWM' "/proc/$pid/status"
