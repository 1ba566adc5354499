//! Frontend of the `rpc_progress` example: progressive results,
//! `com.myapp.longop`. See [`wamp_examples::rpc_progress`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_progress_frontend`. Without
//! `WAMP_URL` it starts the embedded router and runs the backend in this
//! process too; with `WAMP_URL` it uses the backend running there (ours or
//! Autobahn's). It exits with an error unless its output is what Autobahn's
//! backend makes it print.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    use wamp_examples::rpc_progress::{backend, check, frontend};
    wamp_examples::run_frontend("rpc_progress", backend, frontend, check).await
}
