#!/usr/bin/env bash
# Compile time added by a typed service of 50 procedures: builds a generated
# crate with a 50-procedure #[wamp::service] and one with the same 50
# procedures registered by hand (untyped), each from a clean build of that
# crate alone (dependencies prebuilt), and prints both and the difference,
# then the size of each crate after macro expansion (`-Zunpretty=expanded`,
# through RUSTC_BOOTSTRAP on the stable compiler so the prebuilt
# dependencies are reused).
#
# The target directory is kept between runs (third-party dependencies are
# built once); the generated crates are made afresh every time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${TMPDIR:-/tmp}/wamp-compile-time"
rm -rf "$work"/bench_* "$work"/*.rs && mkdir -p "$work"
export CARGO_TARGET_DIR="$work/target"

make_crate() { # name, body-file
    mkdir -p "$work/$1/src"
    cat > "$work/$1/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
wamp = { package = "wamp-runtime", path = "$root/wamp-runtime" }
serde = { version = "1", features = ["derive"] }
schemars = "1"

[workspace]
TOML
    cp "$2" "$work/$1/src/lib.rs"
}

typed="$work/typed.rs"
{
    echo '#[derive(Debug, wamp::WampError)]'
    echo 'pub enum AppError { #[wamp(uri = "com.bench.error.bad")] Bad { reason: String } }'
    echo 'pub struct Api;'
    echo '#[wamp::service(prefix = "com.bench")]'
    echo 'impl Api {'
    for i in $(seq 1 50); do
        echo "    #[wamp::procedure(\"item.<int:id>.op$i\")]"
        echo "    async fn op$i(&self, id: u64, a: i64, b: String) -> Result<i64, AppError> {"
        echo "        if b.is_empty() { Err(AppError::Bad { reason: b }) } else { Ok(a + id as i64) }"
        echo "    }"
    done
    echo '}'
} > "$typed"

untyped="$work/untyped.rs"
{
    echo 'use wamp::{ApplicationError, CallResult, Payload, RegisterOptions, Session, MatchPolicy};'
    echo 'pub async fn register_all(s: &Session) -> Result<(), wamp::Error> {'
    for i in $(seq 1 50); do
        echo "    let o = RegisterOptions { match_policy: Some(MatchPolicy::Wildcard), ..Default::default() };"
        echo "    s.register(\"com.bench.item..op$i\", o, |inv| async move {"
        echo "        let id: u64 = inv.procedure.split('.').nth(3).and_then(|c| c.parse().ok())"
        echo "            .ok_or_else(|| ApplicationError::invalid_argument(\"id\"))?;"
        echo "        let (a, b): (i64, String) = (inv.arg(0)?, inv.arg(1)?);"
        echo "        if b.is_empty() { return Err(ApplicationError::new(\"com.bench.error.bad\").with_kwarg(\"reason\", b)); }"
        echo "        Ok(CallResult::new().with_arg(a + id as i64))"
        echo "    }).await?;"
    done
    echo '    Ok(())'
    echo '}'
} > "$untyped"

make_crate bench_typed "$typed"
make_crate bench_untyped "$untyped"

# Prebuild dependencies (and the proc-macro) once, so only the crate itself is timed.
(cd "$work/bench_typed" && cargo build --quiet 2>/dev/null || cargo build)
(cd "$work/bench_untyped" && cargo build --quiet)

time_build() {
    (cd "$work/$1" && cargo clean --quiet -p "$1" && start=$(date +%s.%N) && cargo build --quiet && end=$(date +%s.%N) && awk "BEGIN { print $end - $start }")
}
t=$(time_build bench_typed)
u=$(time_build bench_untyped)
printf 'clean build of the crate, debug profile, deps prebuilt:\n'
printf '  50 typed procedures (#[wamp::service])   %6.2f s\n' "$t"
printf '  50 untyped procedures (session.register) %6.2f s\n' "$u"
printf '  added by the macros                      %+6.2f s\n' "$(awk "BEGIN { print $t - $u }")"

expanded() { # crate -> "lines bytes" of the crate after macro expansion
    (cd "$work/$1" && RUSTC_BOOTSTRAP=1 cargo rustc --quiet --lib -- -Zunpretty=expanded 2>/dev/null) \
        | awk '{ lines++; bytes += length($0) + 1 } END { print lines, bytes }'
}
read -r tl tb <<<"$(expanded bench_typed)"
read -r ul ub <<<"$(expanded bench_untyped)"
printf 'after macro expansion (rustc -Zunpretty=expanded):\n'
printf '  50 typed procedures    %7d lines %9d bytes\n' "$tl" "$tb"
printf '  50 untyped procedures  %7d lines %9d bytes\n' "$ul" "$ub"
