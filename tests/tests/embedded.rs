//! The scenario suite against the embedded router, over every transport and
//! serializer.

use wamp::router::{Router, RouterConfig};
use wamp::Serializer;
use wamp_tests::{init_tracing, local_connector, scenarios, url_connector};

const REALM: &str = "realm1";

fn router() -> Router {
    Router::new(RouterConfig::default().realm(REALM))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process() {
    init_tracing();
    scenarios::run_all("in-process", local_connector(router(), REALM), &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_json() {
    init_tracing();
    let r = router();
    let l = r.listen_websocket("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", l.local_addr());
    scenarios::run_all("ws+json", url_connector(url, REALM, Serializer::Json), &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_msgpack() {
    init_tracing();
    let r = router();
    let l = r.listen_websocket("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", l.local_addr());
    scenarios::run_all("ws+msgpack", url_connector(url, REALM, Serializer::MsgPack), &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_json() {
    init_tracing();
    let r = router();
    let l = r.listen_rawsocket("127.0.0.1:0").await.unwrap();
    let url = format!("rs://{}", l.local_addr());
    scenarios::run_all("rs+json", url_connector(url, REALM, Serializer::Json), &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_msgpack() {
    init_tracing();
    let r = router();
    let l = r.listen_rawsocket("127.0.0.1:0").await.unwrap();
    let url = format!("rs://{}", l.local_addr());
    scenarios::run_all("rs+msgpack", url_connector(url, REALM, Serializer::MsgPack), &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_cbor() {
    init_tracing();
    let r = router();
    let l = r.listen_websocket("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", l.local_addr());
    scenarios::run_all("ws+cbor", url_connector(url, REALM, Serializer::Cbor), &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_cbor() {
    init_tracing();
    let r = router();
    let l = r.listen_rawsocket("127.0.0.1:0").await.unwrap();
    let url = format!("rs://{}", l.local_addr());
    scenarios::run_all("rs+cbor", url_connector(url, REALM, Serializer::Cbor), &[]).await;
}
