#!/usr/bin/env bash
# The server's resident memory: at idle after `serve --demo`, right after 15 sign-ins (argon2id,
# 19 MiB each; three rounds of five at once) and ten seconds later. Prints VmRSS (and VmHWM, the
# peak) from /proc. MCMS_BENCH_BIN: a release binary already built (`cargo build --release -p server
# --bin mcms`), else the release build is made as scripts/run.sh makes it.
source "$(dirname "$0")/lib.sh"
release_binary
port="${MCMS_BENCH_PORT:-3777}"
data="$(mktemp -d)"
base="http://127.0.0.1:$port"
MCMS_LOG=warn "$bin" serve --demo --addr "127.0.0.1:$port" --data-dir "$data" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.2; done
rss() { grep -E "$1" "/proc/$pid/status" | tr -s ' \t\n' ' '; echo; }
sleep 2
echo "idle: $(rss VmRSS)"
for _ in 1 2 3; do
  pids=()
  for user in admin data viewer marketer admin; do
    curl -fsS -o /dev/null -H "Origin: $base" -H 'Accept: application/json' \
      --data-urlencode "email=$user@mcms.example" --data-urlencode 'password=mcms-demo-2026' \
      --data-urlencode 'next=/' "$base/api/login" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { echo "a sign-in failed" >&2; exit 1; }; done
done
sleep 3
echo "after 15 sign-ins: $(rss 'VmRSS|VmHWM')"
sleep 10
echo "10 s later: $(rss VmRSS)"
