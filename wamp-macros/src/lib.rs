//! Procedural macros of the `wamp` SDK.
//!
//! The typed service macros (`#[wamp::service]`, `#[wamp::procedure]`,
//! `#[wamp::topic]`) live here; they are re-exported by the `wamp` crate and
//! should be used through it.
