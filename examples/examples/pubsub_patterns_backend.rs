//! Backend of the `pubsub_patterns` example: the concert topics: wildcard and
//! prefix subscriptions. See [`wamp_examples::pubsub_patterns`].
//!
//! Run: `cargo run -p wamp-examples --example pubsub_patterns_backend`.
//! Without `WAMP_URL` it starts the embedded router on
//! `ws://127.0.0.1:8080/ws` (`WAMP_LISTEN` to change); then run
//! `pubsub_patterns_frontend`, or Autobahn's frontend, with
//! `WAMP_URL=ws://127.0.0.1:8080/ws`.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("pubsub_patterns", wamp_examples::pubsub_patterns::backend).await
}
