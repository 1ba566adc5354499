//! Backend of the `pubsub_basic` example: a counter published to
//! `com.myapp.topic1` every second. See [`wamp_examples::pubsub_basic`].
//!
//! Run: `cargo run -p wamp-examples --example pubsub_basic_backend`. Without
//! `WAMP_URL` it starts the embedded router on `ws://127.0.0.1:8080/ws`
//! (`WAMP_LISTEN` to change); then run `pubsub_basic_frontend`, or Autobahn's
//! frontend, with `WAMP_URL=ws://127.0.0.1:8080/ws`.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("pubsub_basic", wamp_examples::pubsub_basic::backend).await
}
