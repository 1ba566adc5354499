//! Bounded queues end to end: a subscriber that stops reading fills its
//! queues; the router holds the publisher back while it waits, and once
//! the queue has made no progress for the stall timeout it closes that
//! session (`wamp.close.stalled`) instead of buffering without bound; the
//! publisher and everyone else go on. In-process (where the router hands
//! messages over as they are sent) and over WebSocket.

use std::time::{Duration, Instant};

use wamp::router::{Router, RouterConfig};
use wamp::{CallResult, Payload, Serializer, Session, SessionConfig};

const REALM: &str = "realm1";
/// Small queues so a few hundred events overflow them.
const QUEUE: usize = 8;

fn router() -> Router {
    let mut config = RouterConfig::default().realm(REALM);
    config.transport.queue_capacity = QUEUE;
    config.stall_timeout = Duration::from_millis(300);
    Router::new(config)
}

fn slow_config() -> SessionConfig {
    SessionConfig {
        event_queue_capacity: 1,
        ..Default::default()
    }
}

/// Publishes until the router has dropped the subscriber (it never reads),
/// then checks the publisher and a fresh session still work.
async fn overflow_closes_only_the_slow_session(router: &Router, slow: Session, publisher: Session) {
    let realm = router.realm(REALM).expect("realm");
    let _never_read = slow
        .subscribe("com.test.flood", Default::default())
        .await
        .unwrap();
    let joined = realm.session_count();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut published = 0u32;
    // A kilobyte per event: over WebSocket the kernel's socket buffers
    // (several MiB on loopback) fill in seconds even on a loaded machine.
    let filler = "x".repeat(1024);
    while realm.session_count() == joined {
        assert!(
            Instant::now() < deadline,
            "the router kept a session that reads nothing"
        );
        publisher
            .publish("com.test.flood")
            .arg(published)
            .arg(&filler)
            .await
            .unwrap();
        published += 1;
        if published.is_multiple_of(64) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    assert_eq!(realm.session_count(), joined - 1);
    // The publisher was held back, not closed, and others are served.
    assert!(publisher.is_open());
    let id = publisher
        .publish("com.test.flood")
        .acknowledge(true)
        .await
        .unwrap();
    assert!(id.is_some());
    publisher
        .register("com.test.still_here", Default::default(), |_| async {
            Ok(CallResult::new().with_arg("yes"))
        })
        .await
        .unwrap();
    let other = Session::join_local(router, REALM).await.unwrap();
    let answer = other.call("com.test.still_here").await.unwrap();
    assert_eq!(answer.arg::<String>(0).unwrap(), "yes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_subscriber_that_stops_reading_is_closed() {
    let router = router();
    let slow = Session::join_local_with(&router, REALM, slow_config())
        .await
        .unwrap();
    let publisher = Session::join_local(&router, REALM).await.unwrap();
    overflow_closes_only_the_slow_session(&router, slow, publisher).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_subscriber_that_stops_reading_is_closed() {
    let router = router();
    let ws = router.listen_websocket("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", ws.local_addr());
    let config = SessionConfig {
        serializers: vec![Serializer::Json],
        ..slow_config()
    };
    let slow = Session::connect_with(&url, REALM, config).await.unwrap();
    let publisher = Session::connect(&url, REALM).await.unwrap();
    overflow_closes_only_the_slow_session(&router, slow, publisher).await;
}
