//! Frontend of the `rpc_arguments` example: every variant of call arguments,
//! `com.arguments.*`. See [`wamp_examples::rpc_arguments`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_arguments_frontend`.
//! Without `WAMP_URL` it starts the embedded router and runs the backend in
//! this process too; with `WAMP_URL` it uses the backend running there (ours
//! or Autobahn's). It exits with an error unless its output is what
//! Autobahn's backend makes it print.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    use wamp_examples::rpc_arguments::{backend, check, frontend};
    wamp_examples::run_frontend("rpc_arguments", backend, frontend, check).await
}
