//! Backend of the browser example: the catalog service and a ticker for
//! the page in `examples/web/`. See [`wamp_examples::web`].
//!
//! Run `wamp router --web examples/web` (after `scripts/setup-web.sh`),
//! then `WAMP_URL=ws://127.0.0.1:8080/ws cargo run -p wamp-examples
//! --example web_backend`, and open http://127.0.0.1:8080/. It runs as a
//! Component: restart the router and the page's calls work again within
//! seconds.

#[tokio::main]
async fn main() -> Result<(), wamp_examples::BoxError> {
    wamp_examples::run_backend("web", wamp_examples::web::backend).await
}
