//! Backend of the `rpc_patterns` example: wildcard procedures,
//! `com.myapp.item.<int:id>.get_name` and
//! `com.myapp.<string:obj_type>.<int:id>.get_name`. See
//! [`wamp_examples::rpc_patterns`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_patterns_backend`. Without
//! `WAMP_URL` it starts the embedded router on `ws://127.0.0.1:8080/ws`
//! (`WAMP_LISTEN` to change); then run `rpc_patterns_frontend`, or Autobahn's
//! frontend, with `WAMP_URL=ws://127.0.0.1:8080/ws`.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("rpc_patterns", wamp_examples::rpc_patterns::backend).await
}
