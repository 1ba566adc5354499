#!/usr/bin/env bash
# The whole test suite: installs the pinned Python peers (Autobahn|Python,
# Crossbar.io) into .venv and the browser test's Chromium and npm packages
# (examples/web/node_modules), then runs every Rust test, interop included.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-python.sh
# The browser test (wamp-cli/tests/examples_web.rs) tries this again itself
# and skips, loudly, only when it cannot succeed.
if ! scripts/setup-web.sh; then
    echo "!!! test.sh: scripts/setup-web.sh failed: the browser test will be SKIPPED" >&2
fi
# Interop tests fail (instead of skipping) when the virtualenv is missing.
export WAMP_REQUIRE_INTEROP=1
cargo test --workspace --locked "$@"
