//! The scenario suite against the embedded router, over every transport and
//! serializer.

use wamp::router::Router;
use wamp::Serializer;
use wamp_tests::{init_tracing, local_connector, scenarios, suite_router_config, url_connector};

const REALM: &str = "realm1";

fn router() -> Router {
    Router::new(suite_router_config(REALM))
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

/// Calls started faster than the writer drains a one-message queue: the
/// first CALL takes the queue's place, the others wait for room (the
/// awaited call's slow path) and every one of them gets its own answer.
#[tokio::test(flavor = "current_thread")]
async fn calls_wait_for_room_in_a_full_queue() {
    use futures_util::future::join_all;
    use std::future::IntoFuture;
    use wamp::{CallResult, Payload, RegisterOptions, Session, SessionConfig};

    init_tracing();
    let r = router();
    let l = r.listen_websocket("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", l.local_addr());
    let callee = Session::connect(&url, REALM).await.unwrap();
    callee
        .register("com.test.double", RegisterOptions::default(), |inv| async move {
            Ok(CallResult::new().with_arg(inv.arg::<i64>(0)? * 2))
        })
        .await
        .unwrap();
    let mut config = SessionConfig::default();
    config.transport.queue_capacity = 1;
    let caller = Session::connect_with(&url, REALM, config).await.unwrap();
    // join_all polls every call once before the writer task can run.
    let calls = (0..100i64).map(|i| caller.call("com.test.double").arg(i).into_future());
    for (i, result) in join_all(calls).await.into_iter().enumerate() {
        assert_eq!(result.unwrap().arg::<i64>(0).unwrap(), 2 * i as i64);
    }
    caller.leave().await.unwrap();
    callee.leave().await.unwrap();
}
