//! Backend of the `rpc_suffix` example: a prefix procedure,
//! `com.myapp.<suffix:path>`. See [`wamp_examples::rpc_suffix`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_suffix_backend`. Without
//! `WAMP_URL` it starts the embedded router on `ws://127.0.0.1:8080/ws`
//! (`WAMP_LISTEN` to change); then run `rpc_suffix_frontend`, or Autobahn's
//! frontend, with `WAMP_URL=ws://127.0.0.1:8080/ws`.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("rpc_suffix", wamp_examples::rpc_suffix::backend).await
}
