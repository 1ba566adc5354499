//! Backend of the `rpc_timeservice` example: a time service,
//! `com.timeservice.now`. See [`wamp_examples::rpc_timeservice`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_timeservice_backend`.
//! Without `WAMP_URL` it starts the embedded router on
//! `ws://127.0.0.1:8080/ws` (`WAMP_LISTEN` to change); then run
//! `rpc_timeservice_frontend`, or Autobahn's frontend, with
//! `WAMP_URL=ws://127.0.0.1:8080/ws`.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("rpc_timeservice", wamp_examples::rpc_timeservice::backend).await
}
