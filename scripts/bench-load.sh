#!/usr/bin/env bash
# The partner API offered twice the rate it was measured to serve (docs/benchmarks.md: 20,635
# requests/s) for 60 seconds, while slow clients hold connections open sending their headers a byte
# a second (slowloris). h2load (Debian's nghttp2-client) sends at a fixed rate per connection,
# unlike wrk, so the server is offered more than it can do; it must answer every request without an
# error, and cut the slow clients off at the header timeout. Everything runs on loopback and stops
# by itself. Usage: scripts/bench-load.sh [measured-rate]
source "$(dirname "$0")/lib.sh"
command -v h2load >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client >/dev/null; }
measured="${1:-20635}"
connections=64
duration=60
slow=200
say "building mcms (release)"
(cd "$ROOT" && cargo build --release --locked -p server --bin mcms)
bin="$CARGO_TARGET_DIR/release/mcms"
port="${MCMS_BENCH_PORT:-3503}"
data="$(mktemp -d)"
url="sqlite://$data/load.db"
base="http://127.0.0.1:$port"
MCMS_LOG=warn "$bin" migrate --demo --database-url "$url" >/dev/null
key="$(MCMS_LOG=warn "$bin" issue-key --partner "Kakao Games Channeling" --rate-per-minute 1000000000 --database-url "$url")"
MCMS_LOG=warn "$bin" serve --addr "127.0.0.1:$port" --database-url "$url" --header-timeout-secs 10 &
pid=$!
trap 'kill $pid $slow_pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.2; done
to="$(date -u -d '3 days ago' +%F)"
from="$(date -u -d '9 days ago' +%F)"
path="/api/v1/games/STARFALL/daily-stats?from=$from&to=$to"

say "$slow slow clients: headers a byte a second, reconnecting when cut off, for $((duration + 10)) s"
python3 - "$port" "$slow" "$((duration + 10))" <<'PY' &
import socket, sys, time
port, count, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
end = time.time() + seconds
line = b"GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: " + b"a" * 4096
def connect():
    s = socket.create_connection(("127.0.0.1", port)); s.setblocking(False); return [s, 0]
conns = [connect() for _ in range(count)]
cut = 0
while time.time() < end:
    for c in conns:
        try:
            c[0].send(line[c[1] % len(line):c[1] % len(line) + 1]); c[1] += 1
            if c[0].recv(1) == b"":
                raise ConnectionError
        except BlockingIOError:
            pass
        except OSError:
            cut += 1; c[0].close(); c[:] = connect()
    time.sleep(1)
print(f"slow clients: {cut} connections cut off by the server", flush=True)
PY
slow_pid=$!
sleep 2
rate=$(( measured * 2 / connections ))
say "offering $((rate * connections)) requests/s ($rate per connection, $connections connections) for $duration s"
h2load --h1 -c "$connections" -t 2 --rps "$rate" -D "$duration" -H "Authorization: Bearer $key" "$base$path" | tee "$data/h2load.txt"
wait $slow_pid || true
grep -E "^requests:" "$data/h2load.txt" | grep -q " 0 failed, 0 errored" || { echo "requests failed" >&2; exit 1; }
grep -E "^status codes:" "$data/h2load.txt" | grep -qE " 0 3xx, 0 4xx, 0 5xx" || { echo "non-2xx answers" >&2; exit 1; }
curl -fs "$base/healthz" >/dev/null && echo "the server still answers"
