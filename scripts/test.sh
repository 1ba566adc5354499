#!/usr/bin/env bash
# The whole test suite: installs the pinned Python peers (Autobahn|Python,
# Crossbar.io) into .venv, then runs every Rust test, interop included.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-python.sh
# Interop tests fail (instead of skipping) when the virtualenv is missing.
export WAMP_REQUIRE_INTEROP=1
cargo test --workspace --locked "$@"
