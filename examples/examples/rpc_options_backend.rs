//! Backend of the `rpc_options` example: caller disclosure and publishing
//! with `exclude`, `com.myapp.square`. See [`wamp_examples::rpc_options`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_options_backend`. Without
//! `WAMP_URL` it starts the embedded router on `ws://127.0.0.1:8080/ws`
//! (`WAMP_LISTEN` to change); then run `rpc_options_frontend`, or Autobahn's
//! frontend, with `WAMP_URL=ws://127.0.0.1:8080/ws`.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("rpc_options", wamp_examples::rpc_options::backend).await
}
