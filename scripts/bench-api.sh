#!/usr/bin/env bash
# The partner API under load (release build, SQLite, demo data): wrk on loopback against an
# authenticated daily-statistics request (one game, one week, the partner's channel), then the
# key check alone (criterion, `cargo bench -p server --bench gate`). Every load run is bounded.
source "$(dirname "$0")/lib.sh"
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null; }
done
say "building mcms (release)"
(cd "$ROOT" && cargo build --release --locked -p server --bin mcms)
bin="$CARGO_TARGET_DIR/release/mcms"
port="${MCMS_BENCH_PORT:-3502}"
data="$(mktemp -d)"
url="sqlite://$data/api.db"
base="http://127.0.0.1:$port"
MCMS_LOG=warn "$bin" migrate --demo --database-url "$url" >/dev/null
key="$(MCMS_LOG=warn "$bin" issue-key --partner "Kakao Games Channeling" --rate-per-minute 1000000000 --database-url "$url")"
MCMS_LOG=warn "$bin" serve --addr "127.0.0.1:$port" --database-url "$url" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.2; done
to="$(date -u -d '3 days ago' +%F)"
from="$(date -u -d '9 days ago' +%F)"
path="/api/v1/games/STARFALL/daily-stats?from=$from&to=$to"
curl -fs -H "Authorization: Bearer $key" "$base$path" | head -c 300; echo
say "warm-up, then 20 s of load: 2 threads, ${MCMS_BENCH_CONNECTIONS:-64} connections"
wrk -t2 -c"${MCMS_BENCH_CONNECTIONS:-64}" -d5s -H "Authorization: Bearer $key" "$base$path" >/dev/null
wrk -t2 -c"${MCMS_BENCH_CONNECTIONS:-64}" -d20s --latency -H "Authorization: Bearer $key" "$base$path"
say "the same request with a malformed key (refused before any lookup)"
wrk -t2 -c"${MCMS_BENCH_CONNECTIONS:-64}" -d10s -H "Authorization: Bearer mcms_nope" "$base$path" | grep -E "Requests/sec|Non-2xx"
