//! Backend of the `rpc_arguments` example: every variant of call arguments,
//! `com.arguments.*`. See [`wamp_examples::rpc_arguments`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_arguments_backend`. Without
//! `WAMP_URL` it starts the embedded router on `ws://127.0.0.1:8080/ws`
//! (`WAMP_LISTEN` to change); then run `rpc_arguments_frontend`, or
//! Autobahn's frontend, with `WAMP_URL=ws://127.0.0.1:8080/ws`.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("rpc_arguments", wamp_examples::rpc_arguments::backend).await
}
