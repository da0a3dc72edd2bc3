# Shared set-up for scripts/run.sh, scripts/test.sh and scripts/bench.sh. Sourced, not run.
# Installs only what is missing; everything it builds or downloads lives under $MCMS_CACHE.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${MCMS_CACHE:-$HOME/.cache/mcms}"
TOOLS="$CACHE/tools"
# Builds go outside the checkout so a fresh clone (CI) reuses them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
export PATH="$HOME/.cargo/bin:$TOOLS/node_modules/.bin:$PATH"
# cargo-leptos writes the site (pkg/mcms.js, .wasm, .css) here, relative to the workspace.
SITE_ROOT="$ROOT/target/site"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_rust_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.10'; then
    say "installing cargo-leptos 0.3.10 (once; about 18 minutes on 2 cores)"
    cargo install cargo-leptos@0.3.10 --locked --features no_downloads
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q '0\.2\.130'; then
    say "installing wasm-bindgen-cli 0.2.130 (once; about 5 minutes)"
    # Not --locked: its lockfile names a crate version the registry no longer serves.
    cargo install wasm-bindgen-cli --version 0.2.130
  fi
}

# wasm-opt shrinks the release bundle; Debian's binaryen is too old for rustc 1.95's output.
ensure_wasm_opt() {
  if [ ! -x "$TOOLS/node_modules/.bin/wasm-opt" ]; then
    say "installing wasm-opt (npm binaryen@132)"
    mkdir -p "$TOOLS"
    npm install --prefix "$TOOLS" --no-audit --no-fund binaryen@132 >/dev/null
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    say "installing Chromium from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
}

ensure_e2e_packages() {
  if [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ]; then
    say "installing the end-to-end test packages (npm ci; no browser download)"
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >/dev/null)
  fi
}

# LibreOffice Calc without a display, from Debian: the tests open downloaded CSV files in a real
# spreadsheet to check that no cell runs as a formula.
ensure_spreadsheet() {
  if ! command -v soffice >/dev/null; then
    say "installing LibreOffice Calc (headless) from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui >/dev/null
  fi
  export MCMS_REQUIRE_SPREADSHEET=1
}

# Schemathesis (from PyPI) in its own virtual environment, for the partner API's contract test.
ensure_schemathesis() {
  if [ ! -x "$TOOLS/venv/bin/schemathesis" ]; then
    say "installing schemathesis (PyPI) into $TOOLS/venv"
    mkdir -p "$TOOLS"
    python3 -m venv "$TOOLS/venv"
    "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5"
  fi
}

# Starts the machine's PostgreSQL if it is installed and stopped, and then requires the
# PostgreSQL half of the tests. Without PostgreSQL those halves are skipped, saying so.
ensure_postgres() {
  local url="${MCMS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  export MCMS_TEST_POSTGRES_URL="$url"
  if ! command -v pg_ctlcluster >/dev/null; then
    say "PostgreSQL is not installed here: PostgreSQL test halves will be skipped"
    return
  fi
  if ! pg_isready -q -d "$url"; then
    say "starting PostgreSQL"
    local version
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 30); do pg_isready -q -d "$url" && break; sleep 1; done
  fi
  export MCMS_REQUIRE_POSTGRES=1
  # Databases left by an interrupted earlier run.
  psql "$url" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'mcms_test_%'" | while read -r db; do
    psql "$url" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  done
}

# A real S3-compatible server for the pipelines' bucket tests: moto's server (PyPI), on
# 127.0.0.1:5055, started when not already answering; then those tests are required.
# A small disk (a 256 KB tmpfs) for the test of a sink that fills its disk; mounting needs root, and
# without it that test says it is skipped.
ensure_small_disk() {
  local dir="$CACHE/small-disk"
  mkdir -p "$dir"
  if mountpoint -q "$dir" || mount -t tmpfs -o size=256k mcms-small-disk "$dir" 2>/dev/null; then
    export MCMS_TEST_SMALL_DISK="$dir"
  else
    say "cannot mount a small disk at $dir (needs root): the full-disk test is skipped"
  fi
}

ensure_s3_server() {
  local port="${MCMS_TEST_S3_PORT:-5055}"
  export MCMS_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
  if [ ! -x "$TOOLS/moto/bin/moto_server" ]; then
    say "installing moto's S3 server (PyPI) into $TOOLS/moto"
    mkdir -p "$TOOLS"
    python3 -m venv "$TOOLS/moto"
    "$TOOLS/moto/bin/pip" install --quiet --disable-pip-version-check "moto[server]==5.2.5"
  fi
  if ! curl -fs -o /dev/null "$MCMS_TEST_S3_ENDPOINT/moto-api/"; then
    say "starting moto's S3 server on port $port"
    (setsid "$TOOLS/moto/bin/moto_server" -H 127.0.0.1 -p "$port" >"$CACHE/moto.log" 2>&1 &)
    for _ in $(seq 30); do curl -fs -o /dev/null "$MCMS_TEST_S3_ENDPOINT/moto-api/" && break; sleep 1; done
  fi
  # A second one that checks the keys (authentication on from the first request): it refuses the
  # tests' keys as AWS refuses keys it does not know, for the tests of a bucket that says no.
  local checking=$((port + 1))
  export MCMS_TEST_S3_CHECKING_ENDPOINT="http://127.0.0.1:$checking"
  if ! curl -fs -o /dev/null "$MCMS_TEST_S3_CHECKING_ENDPOINT/moto-api/"; then
    say "starting moto's S3 server that checks keys on port $checking"
    (INITIAL_NO_AUTH_ACTION_COUNT=0 setsid "$TOOLS/moto/bin/moto_server" -H 127.0.0.1 -p "$checking" \
      >"$CACHE/moto-checking.log" 2>&1 &)
    for _ in $(seq 30); do curl -fs -o /dev/null "$MCMS_TEST_S3_CHECKING_ENDPOINT/moto-api/" && break; sleep 1; done
  fi
  export MCMS_REQUIRE_S3=1
}

# Sets $bin to the release binary a benchmark runs: MCMS_BENCH_BIN when given (one already built,
# e.g. `cargo build --release -p server --bin mcms`), else the release build made as run.sh makes it.
release_binary() {
  bin="${MCMS_BENCH_BIN:-}"
  if [ -z "$bin" ]; then
    ensure_rust_tools
    ensure_wasm_opt
    build_site --release
    bin="$CARGO_TARGET_DIR/release/mcms"
  fi
}

build_site() {
  # A release build makes a browser bundle per kind of page besides the whole one (build_bundles)
  # and compresses the site (brotli, gzip) before building the server, which embeds it
  # (server/src/site.rs). cargo-leptos' gzip is weaker than `gzip -9` (mcms.wasm: 466 KB against
  # 398 KB), so the .gz files are made again with gzip -9 in between; browsers mostly take brotli.
  if [[ " $* " == *" --release "* ]]; then
    say "building MCMS (cargo leptos build $* --precompress)"
    build_bundles "$@"
    local gz
    for gz in "$SITE_ROOT"/pkg/*.gz; do gzip -9 -n -c "${gz%.gz}" >"$gz"; done
    (cd "$ROOT" && cargo leptos build "$@" --server-only)
  else
    # The browser code first, then the server: built together, the server's embedding of the
    # site (rust-embed lists target/site while it compiles) can meet a file that wasm-bindgen is
    # rewriting at that moment, and fail ("File should be readable": seen once, session 11).
    say "building MCMS (cargo leptos build $*)"
    (cd "$ROOT" && cargo leptos build "$@" --frontend-only && cargo leptos build "$@" --server-only)
  fi
}

# The release build's browser code: a bundle per kind of page (frontend/bundles), each compiled with
# only its islands, then the whole one (every island; debug builds have only this). A page loads
# the smallest that holds its islands, so a first visit downloads its own islands' code alone.
build_bundles() {
  # The wasm a build links keeps one name whatever the features (cargo names a cdylib without its
  # features' hash), so cargo would take the last bundle's for a fresh build of another: remove it
  # before each build to have it linked again.
  local linked="$CARGO_TARGET_DIR/front/wasm32-unknown-unknown/wasm-release/deps/frontend.wasm"
  local pkg="$SITE_ROOT/pkg" name islands features made=() ext
  # Each build starts from an empty pkg/: the bundles wait here until the last one.
  local cut="$CARGO_TARGET_DIR/bundles"
  rm -rf "$cut" && mkdir -p "$cut"
  while read -r name islands; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    features=$(tr -s ' \t' ',' <<<"$islands") # cost-editor,upload-form
    say "browser bundle $name: $features"
    rm -f "$linked"
    (cd "$ROOT" && cargo leptos build "$@" --precompress --frontend-only \
      --lib-features "app/only-islands,app/${features//,/,app/}" </dev/null)
    for ext in js js.br js.gz wasm wasm.br wasm.gz; do mv "$pkg/mcms.$ext" "$cut/mcms-$name.$ext"; done
    made+=("$name:$features")
  done <"$ROOT/frontend/bundles"
  say "browser bundle with every island"
  rm -f "$linked"
  (cd "$ROOT" && cargo leptos build "$@" --precompress --frontend-only)
  mv "$cut"/* "$pkg/"
  node "$ROOT/scripts/bundles-manifest.mjs" "$pkg" "${made[@]}"
}
