//! Backend of the `rpc_stream_sum` example: streaming input and two-way
//! streams, `com.myapp.sum` and `com.myapp.running_sum`. See
//! [`wamp_examples::rpc_stream_sum`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_stream_sum_backend`.
//! Without `WAMP_URL` it starts the embedded router on
//! `ws://127.0.0.1:8080/ws` (`WAMP_LISTEN` to change); then run
//! `rpc_stream_sum_frontend` with `WAMP_URL=ws://127.0.0.1:8080/ws`. The
//! router must have progressive call invocations (ours does; Crossbar.io
//! does not, and the frontend then fails with `Unsupported`).

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("rpc_stream_sum", wamp_examples::rpc_stream_sum::backend).await
}
