#!/usr/bin/env bash
# Builds MCMS and runs it at http://127.0.0.1:3000 on the embedded SQLite database in ./data.
# Arguments go to `mcms`:  scripts/run.sh --demo  ·  scripts/run.sh --addr 0.0.0.0:8080
# MCMS_RELEASE=1 builds and runs the optimised release build. Build output goes to stderr, so
# `scripts/run.sh issue-key …` prints only the key.
source "$(dirname "$0")/lib.sh"
ensure_rust_tools
if [ "${MCMS_RELEASE:-0}" = 1 ]; then
  ensure_wasm_opt
  build_site --release >&2
  bin="$CARGO_TARGET_DIR/release/mcms"
else
  build_site >&2
  bin="$CARGO_TARGET_DIR/debug/mcms"
fi
cd "$ROOT"
exec "$bin" "$@"
