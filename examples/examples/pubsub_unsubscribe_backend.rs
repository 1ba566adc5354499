//! Backend of the `pubsub_unsubscribe` example: unsubscribing from
//! `com.myapp.topic1` and subscribing again. See
//! [`wamp_examples::pubsub_unsubscribe`].
//!
//! Run: `cargo run -p wamp-examples --example pubsub_unsubscribe_backend`.
//! Without `WAMP_URL` it starts the embedded router on
//! `ws://127.0.0.1:8080/ws` (`WAMP_LISTEN` to change); then run
//! `pubsub_unsubscribe_frontend`, or Autobahn's frontend, with
//! `WAMP_URL=ws://127.0.0.1:8080/ws`.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("pubsub_unsubscribe", wamp_examples::pubsub_unsubscribe::backend).await
}
