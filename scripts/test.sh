#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (SQLite and PostgreSQL, in-process HTTP),
# then the browser tests in Chromium with JavaScript on and off. Installs what is missing.
source "$(dirname "$0")/lib.sh"
ensure_rust_tools
ensure_chromium
ensure_e2e_packages
ensure_postgres
ensure_schemathesis

logs="$(mktemp -d)"
cd "$ROOT"
say "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --exclude frontend --all-targets --locked -- -D warnings
say "Rust tests"
cargo test --workspace --exclude frontend --locked 2>&1 | tee "$logs/rust.log"

say "partner API contract (schemathesis)"
bash "$ROOT/scripts/schemathesis.sh" 2>&1 | tee "$logs/schemathesis.log"
grep -q "No issues found" "$logs/schemathesis.log"

build_site
say "end-to-end tests in Chromium (JavaScript on and off)"
(cd end2end && MCMS_BIN="$CARGO_TARGET_DIR/debug/mcms" MCMS_SITE_ROOT="$SITE_ROOT" npx playwright test) 2>&1 | tee "$logs/e2e.log"

rust_passed=$(grep -E '^test result: ok' "$logs/rust.log" | awk '{s += $4} END {print s + 0}')
e2e_passed=$(grep -E '^ +[0-9]+ passed' "$logs/e2e.log" | awk '{print $1}' | tail -n 1)
echo
echo "rust: ${rust_passed} passed, 0 failed"
echo "e2e: ${e2e_passed:-0} passed, 0 failed"
st_cases=$(grep -oE '[0-9]+ generated, [0-9]+ passed' "$logs/schemathesis.log" | tail -n 1)
echo "schemathesis: ${st_cases:-no} cases, no issues"
echo "all: $((rust_passed + ${e2e_passed:-0})) passed, 0 failed"
