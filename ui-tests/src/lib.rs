//! Compile-time behaviour of the `wamp` macros, checked with trybuild:
//! `tests/pass/` must compile, and each file of `tests/fail/` must fail with
//! exactly the diagnostics in its `.stderr` (one mistake per file).
