//! Frontend of the `rpc_slowsquare` example: `com.math.square` and the slow
//! `com.math.slowsquare`. See [`wamp_examples::rpc_slowsquare`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_slowsquare_frontend`.
//! Without `WAMP_URL` it starts the embedded router and runs the backend in
//! this process too; with `WAMP_URL` it uses the backend running there (ours
//! or Autobahn's). It exits with an error unless its output is what
//! Autobahn's backend makes it print.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    use wamp_examples::rpc_slowsquare::{backend, check, frontend};
    wamp_examples::run_frontend("rpc_slowsquare", backend, frontend, check).await
}
