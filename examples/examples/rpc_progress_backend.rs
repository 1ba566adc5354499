//! Backend of the `rpc_progress` example: progressive results,
//! `com.myapp.longop`. See [`wamp_examples::rpc_progress`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_progress_backend`. Without
//! `WAMP_URL` it starts the embedded router on `ws://127.0.0.1:8080/ws`
//! (`WAMP_LISTEN` to change); then run `rpc_progress_frontend`, or Autobahn's
//! frontend, with `WAMP_URL=ws://127.0.0.1:8080/ws`.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("rpc_progress", wamp_examples::rpc_progress::backend).await
}
