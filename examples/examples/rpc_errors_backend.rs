//! Backend of the `rpc_errors` example: error URIs with args and kwargs,
//! `com.myapp.sqrt`, `com.myapp.checkname`, `com.myapp.compare`. See
//! [`wamp_examples::rpc_errors`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_errors_backend`. Without
//! `WAMP_URL` it starts the embedded router on `ws://127.0.0.1:8080/ws`
//! (`WAMP_LISTEN` to change); then run `rpc_errors_frontend`, or Autobahn's
//! frontend, with `WAMP_URL=ws://127.0.0.1:8080/ws`.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("rpc_errors", wamp_examples::rpc_errors::backend).await
}
