#!/usr/bin/env bash
# Schemathesis against the partner API as served: a fresh SQLite database with the demo data, a key
# issued on the command line, every check but `positive_data_acceptance` (which cannot know that
# `to` must lie within 92 days of `from`: the schema has no way to say so), and for the same reason
# every warning but `validation_mismatch` (how often it shows depends on how many cases the time
# limit lets it make). Fails on any server error, undocumented status, or response that breaks the
# schema.
source "$(dirname "$0")/lib.sh"
ensure_schemathesis
bin="${MCMS_BIN:-$CARGO_TARGET_DIR/debug/mcms}"
[ -x "$bin" ] || (cd "$ROOT" && cargo build --locked -p server --bin mcms)
work="$(mktemp -d)"
url="sqlite://$work/api.db"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
MCMS_LOG=warn "$bin" migrate --demo --database-url "$url" >/dev/null
key="$(MCMS_LOG=warn "$bin" issue-key --partner "Kakao Games Channeling" --rate-per-minute 1000000 \
  --scopes "games:read,stats:read,models:write,models:predict:*" --database-url "$url")"
MCMS_LOG=warn "$bin" serve --addr "127.0.0.1:$port" --database-url "$url" >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
say "schemathesis against http://127.0.0.1:$port/api/v1/openapi.json"
cd "$work"  # its cache stays out of the checkout
"$TOOLS/venv/bin/schemathesis" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --wait-for-schema 30 -H "Authorization: Bearer $key" \
  --checks all --exclude-checks positive_data_acceptance \
  --warnings missing_auth,missing_test_data,base_url_mismatch,missing_deserializer,unused_openapi_auth,unsupported_regex,method_not_allowed,constants_extraction,unmatched_filter,unresolvable_reference,rate_limited,dictionary_mismatch,timeout_units \
  --max-time "${MCMS_SCHEMATHESIS_SECONDS:-45}" --seed 20261126
