//! Backend of the `rpc_slowsquare` example: `com.math.square` and the slow
//! `com.math.slowsquare`. See [`wamp_examples::rpc_slowsquare`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_slowsquare_backend`.
//! Without `WAMP_URL` it starts the embedded router on
//! `ws://127.0.0.1:8080/ws` (`WAMP_LISTEN` to change); then run
//! `rpc_slowsquare_frontend`, or Autobahn's frontend, with
//! `WAMP_URL=ws://127.0.0.1:8080/ws`.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("rpc_slowsquare", wamp_examples::rpc_slowsquare::backend).await
}
