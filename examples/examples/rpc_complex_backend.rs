//! Backend of the `rpc_complex` example: several positional and keyword
//! results, `com.myapp.add_complex` and `com.myapp.split_name`. See
//! [`wamp_examples::rpc_complex`].
//!
//! Run: `cargo run -p wamp-examples --example rpc_complex_backend`. Without
//! `WAMP_URL` it starts the embedded router on `ws://127.0.0.1:8080/ws`
//! (`WAMP_LISTEN` to change); then run `rpc_complex_frontend`, or Autobahn's
//! frontend, with `WAMP_URL=ws://127.0.0.1:8080/ws`.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("rpc_complex", wamp_examples::rpc_complex::backend).await
}
