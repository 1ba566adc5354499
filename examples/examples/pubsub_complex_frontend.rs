//! Frontend of the `pubsub_complex` example: events without payload and with
//! args and kwargs, `com.myapp.heartbeat` and `com.myapp.topic2`. See
//! [`wamp_examples::pubsub_complex`].
//!
//! Run: `cargo run -p wamp-examples --example pubsub_complex_frontend`.
//! Without `WAMP_URL` it starts the embedded router and runs the backend in
//! this process too; with `WAMP_URL` it uses the backend running there (ours
//! or Autobahn's). It exits with an error unless its output is what
//! Autobahn's backend makes it print.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    use wamp_examples::pubsub_complex::{backend, check, frontend};
    wamp_examples::run_frontend("pubsub_complex", backend, frontend, check).await
}
