#!/usr/bin/env bash
# Builds the cargo-fuzz targets in fuzz/ and runs each for a bounded time,
# failing on the first crash (libFuzzer leaves it in fuzz/artifacts/<target>/).
#
#   scripts/fuzz-smoke.sh                  # every target, 30 s each
#   FUZZ_SECONDS=600 scripts/fuzz-smoke.sh decode_cbor rawsocket
#
# Needs the nightly toolchain (`cargo +nightly`); installs cargo-fuzz if it is
# missing. New inputs go to a scratch corpus, so fuzz/corpus keeps its seeds.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
cd "$(dirname "$0")/../fuzz"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz-smoke: the nightly toolchain is needed (rustup toolchain install nightly)" >&2
    exit 1
fi
if ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

cargo +nightly fuzz build
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target"
    echo "== $target: ${FUZZ_SECONDS} s"
    if ! cargo +nightly fuzz run "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 >"$scratch/$target.log" 2>&1; then
        tail -n 60 "$scratch/$target.log"
        echo "fuzz-smoke: $target failed (reproducer in fuzz/artifacts/$target/)" >&2
        exit 1
    fi
    grep -E '^#[0-9]+.*DONE|^stat::number_of_executed_units|^stat::average_exec_per_sec' "$scratch/$target.log" || true
done
echo "fuzz-smoke: ${#targets[@]} targets, no crash"
