//! Frontend of the `rpc_options` example: caller disclosure and publishing
//! with `exclude`, `com.myapp.square`. See [`wamp_examples::rpc_options`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_options_frontend`. Without
//! `WAMP_URL` it starts the embedded router and runs the backend in this
//! process too; with `WAMP_URL` it uses the backend running there (ours or
//! Autobahn's). It exits with an error unless its output is what Autobahn's
//! backend makes it print.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    use wamp_examples::rpc_options::{backend, check, frontend};
    wamp_examples::run_frontend("rpc_options", backend, frontend, check).await
}
