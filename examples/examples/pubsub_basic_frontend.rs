//! Frontend of the `pubsub_basic` example: a counter published to
//! `com.myapp.topic1` every second. See [`wamp_examples::pubsub_basic`].
//!
//! Run: `cargo run -p wamp-examples --example pubsub_basic_frontend`. Without
//! `WAMP_URL` it starts the embedded router and runs the backend in this
//! process too; with `WAMP_URL` it uses the backend running there (ours or
//! Autobahn's). It exits with an error unless its output is what Autobahn's
//! backend makes it print.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    use wamp_examples::pubsub_basic::{backend, check, frontend};
    wamp_examples::run_frontend("pubsub_basic", backend, frontend, check).await
}
