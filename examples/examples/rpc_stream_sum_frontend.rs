//! Frontend of the `rpc_stream_sum` example: streams numbers into
//! `com.myapp.running_sum` (running totals come back meanwhile) and
//! `com.myapp.sum`. See [`wamp_examples::rpc_stream_sum`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_stream_sum_frontend`.
//! Without `WAMP_URL` it starts the embedded router and runs the backend in
//! this process too; with `WAMP_URL` it uses the backend running there. It
//! exits with an error unless it prints the expected totals.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    use wamp_examples::rpc_stream_sum::{backend, check, frontend};
    wamp_examples::run_frontend("rpc_stream_sum", backend, frontend, check).await
}
