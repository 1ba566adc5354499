//! Backend of the `pubsub_complex` example: events without payload and with
//! args and kwargs, `com.myapp.heartbeat` and `com.myapp.topic2`. See
//! [`wamp_examples::pubsub_complex`].
//!
//! Run: `cargo run -p wamp-examples --example pubsub_complex_backend`.
//! Without `WAMP_URL` it starts the embedded router on
//! `ws://127.0.0.1:8080/ws` (`WAMP_LISTEN` to change); then run
//! `pubsub_complex_frontend`, or Autobahn's frontend, with
//! `WAMP_URL=ws://127.0.0.1:8080/ws`.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("pubsub_complex", wamp_examples::pubsub_complex::backend).await
}
