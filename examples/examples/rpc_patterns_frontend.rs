//! Frontend of the `rpc_patterns` example: wildcard procedures,
//! `com.myapp.item.<int:id>.get_name` and
//! `com.myapp.<string:obj_type>.<int:id>.get_name`. See
//! [`wamp_examples::rpc_patterns`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_patterns_frontend`. Without
//! `WAMP_URL` it starts the embedded router and runs the backend in this
//! process too; with `WAMP_URL` it uses the backend running there (ours or
//! Autobahn's). It exits with an error unless its output is what Autobahn's
//! backend makes it print.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    use wamp_examples::rpc_patterns::{backend, check, frontend};
    wamp_examples::run_frontend("rpc_patterns", backend, frontend, check).await
}
