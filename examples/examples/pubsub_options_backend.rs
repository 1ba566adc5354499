//! Backend of the `pubsub_options` example: acknowledged publishing with
//! `exclude_me = false`, and event details. See
//! [`wamp_examples::pubsub_options`].
//!
//! Run: `cargo run -p wamp-examples --example pubsub_options_backend`.
//! Without `WAMP_URL` it starts the embedded router on
//! `ws://127.0.0.1:8080/ws` (`WAMP_LISTEN` to change); then run
//! `pubsub_options_frontend`, or Autobahn's frontend, with
//! `WAMP_URL=ws://127.0.0.1:8080/ws`.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("pubsub_options", wamp_examples::pubsub_options::backend).await
}
