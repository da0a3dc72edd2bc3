#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (SQLite and PostgreSQL, in-process HTTP),
# then the browser tests in Chromium with JavaScript on and off, and a pass over every page of the
# release build. Installs what is missing.
source "$(dirname "$0")/lib.sh"
ensure_rust_tools
ensure_chromium
ensure_e2e_packages
ensure_postgres
ensure_s3_server
ensure_small_disk
ensure_schemathesis
ensure_wasm_opt
ensure_spreadsheet

logs="$(mktemp -d)"
cd "$ROOT"
say "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --exclude frontend --all-targets --locked -- -D warnings
# The browser's side of the app (the `hydrate` feature), as the wasm build compiles it.
cargo clippy -p frontend --target wasm32-unknown-unknown --profile wasm-release --locked -- -D warnings
# Pipelines on Apache Ballista: a build of its own (the `ballista` feature brings DataFusion's
# default features with it).
cargo clippy -p pipeline --features ballista --all-targets --locked -- -D warnings
say "Rust tests"
# The server's HTTP suites run one test at a time: each test has its own tokio runtime, and with
# several at once a server-rendered page now and then stalled until the request timeout (seen only
# with parallel per-test runtimes; one server process under 16 concurrent clients answered 2,400 of
# 2,400 pages). Everything else runs in parallel.
{
  cargo test --workspace --exclude frontend --locked --lib --bins
  cargo test --workspace --exclude frontend --locked --test '*' -- --test-threads=1
  # The same pipeline on Ballista's standalone cluster (in the test's process) and embedded.
  cargo test -p pipeline --features ballista --locked --lib ballista
} 2>&1 | tee "$logs/rust.log"

say "partner API contract (schemathesis)"
bash "$ROOT/scripts/schemathesis.sh" 2>&1 | tee "$logs/schemathesis.log"
grep -q "No issues found" "$logs/schemathesis.log"

build_site
say "end-to-end tests in Chromium (JavaScript on and off)"
(cd end2end && MCMS_BIN="$CARGO_TARGET_DIR/debug/mcms" MCMS_SITE_ROOT="$SITE_ROOT" npx playwright test) 2>&1 | tee "$logs/e2e.log"

# What gets deployed is the release build: every page must hydrate there too (a mismatch between
# the server's and the browser's release builds only shows in a browser).
build_site --release
if grep -qa MCMS_FAILPOINT "$CARGO_TARGET_DIR/release/mcms"; then
  echo "the release binary carries a test hook (MCMS_FAILPOINT)" >&2
  exit 1
fi
# One file deploys: the binary, copied alone to an empty folder, serves the site it carries.
deployed="$(mktemp -d)"
cp "$CARGO_TARGET_DIR/release/mcms" "$deployed/mcms"
say "release build, copied alone to $deployed: every page hydrates in Chromium"
(cd end2end && MCMS_BIN="$deployed/mcms" MCMS_SITE_ROOT=embedded MCMS_E2E_PORT=3301 \
  npx playwright test tests/pages.spec.ts tests/site.spec.ts --project js) 2>&1 | tee "$logs/e2e-release.log"
rm -rf "$deployed"

rust_passed=$(grep -E '^test result: ok' "$logs/rust.log" | awk '{s += $4} END {print s + 0}')
e2e_passed=$(grep -E '^ +[0-9]+ passed' "$logs/e2e.log" | awk '{print $1}' | tail -n 1)
release_passed=$(grep -E '^ +[0-9]+ passed' "$logs/e2e-release.log" | awk '{print $1}' | tail -n 1)
echo
echo "rust: ${rust_passed} passed, 0 failed"
echo "e2e: ${e2e_passed:-0} passed, 0 failed"
echo "e2e on the release build: ${release_passed:-0} passed, 0 failed"
st_cases=$(grep -oE '[0-9]+ generated, [0-9]+ passed' "$logs/schemathesis.log" | tail -n 1)
echo "schemathesis: ${st_cases:-no} cases, no issues"
echo "all: $((rust_passed + ${e2e_passed:-0} + ${release_passed:-0})) passed, 0 failed"
