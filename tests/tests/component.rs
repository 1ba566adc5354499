//! The reconnecting component against the embedded router: lifecycle order,
//! reconnect after a router restart with services attached again, clean
//! leave, retry limits, round-robin transports, fatal errors.

use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wamp::component::{Component, ReconnectPolicy, Transport};
use wamp::router::{Listener, Router, RouterConfig};
use wamp::{Error, Session};
use wamp_tests::python::free_port;

struct Clock;

#[wamp::service]
impl Clock {
    #[wamp::procedure("com.timeservice.now")]
    async fn now(&self) -> String {
        "2026-11-23T12:00:00Z".into()
    }
}

fn fast() -> ReconnectPolicy {
    ReconnectPolicy {
        initial_retry_delay: Duration::from_millis(50),
        retry_delay_growth: 1.5,
        retry_delay_jitter: 0.0,
        max_retry_delay: Duration::from_millis(300),
        ..Default::default()
    }
}

async fn start_router(port: u16) -> (Router, Listener) {
    let router = Router::new(RouterConfig::default().realm("realm1"));
    // The port was just released by the previous router: retry briefly.
    for _ in 0..100 {
        if let Ok(l) = router.listen_websocket(("127.0.0.1", port)).await {
            return (router, l);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("cannot bind 127.0.0.1:{port}");
}

type Events = Arc<Mutex<Vec<String>>>;

fn recorded(c: Component, events: &Events) -> Component {
    let log = |events: &Events, what: &'static str| {
        let events = events.clone();
        move || events.lock().unwrap().push(what.to_owned())
    };
    let (a, b, c2, d, e, f) = (
        log(events, "connect"),
        log(events, "join"),
        log(events, "ready"),
        log(events, "leave"),
        log(events, "disconnect"),
        log(events, "connect_failure"),
    );
    c.on_connect(move |_| {
        a();
        async {}
    })
    .on_join(move |_| {
        b();
        async {}
    })
    .on_ready(move |_| {
        c2();
        async {}
    })
    .on_leave(move |_, _| {
        d();
        async {}
    })
    .on_disconnect(move |_| {
        e();
        async {}
    })
    .on_connect_failure(move |_, _| {
        f();
        async {}
    })
}

async fn call_now(url: &str) -> Result<String, Error> {
    let s = Session::connect(url, "realm1").await?;
    let r = s.call("com.timeservice.now").await;
    let _ = s.leave().await;
    Ok(r?.args[0].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_router_restart_and_reattaches() {
    let port = free_port();
    let url = format!("ws://127.0.0.1:{port}/ws");
    let (router, listener) = start_router(port).await;
    let events = Events::default();
    let handle = recorded(
        Component::new("realm1")
            .transport(Transport::new(&url).reconnect(fast()))
            .service(Clock),
        &events,
    )
    .start();
    let first = tokio::time::timeout(Duration::from_secs(10), handle.ready())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(call_now(&url).await.unwrap(), "2026-11-23T12:00:00Z");

    // Router goes away.
    listener.stop();
    router.shutdown();
    let lost = tokio::time::timeout(Duration::from_secs(5), first.closed())
        .await
        .unwrap();
    assert!(lost.is_session_gone(), "{lost}");
    // While down: a clear error, at once, not a hang.
    let e = tokio::time::timeout(
        Duration::from_secs(2),
        first.call("com.timeservice.now").into_future(),
    )
    .await
    .expect("a call on a lost session fails at once")
    .unwrap_err();
    assert!(e.is_session_gone(), "{e}");
    assert!(matches!(handle.session(), Err(Error::NotConnected)));
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Router comes back on the same port: the component rejoins and re-registers.
    let (_router2, _listener2) = start_router(port).await;
    let second = tokio::time::timeout(Duration::from_secs(10), handle.ready())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(second.id(), first.id());
    assert_eq!(call_now(&url).await.unwrap(), "2026-11-23T12:00:00Z");

    handle.leave().await.unwrap();
    let log = events.lock().unwrap().clone();
    let compact: Vec<&str> = log
        .iter()
        .map(String::as_str)
        .filter(|e| *e != "connect_failure")
        .collect();
    assert_eq!(
        compact,
        [
            "connect",
            "join",
            "ready",
            "leave",
            "disconnect",
            "connect",
            "join",
            "ready",
            "leave",
            "disconnect"
        ],
        "full log: {log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leave_stops_without_reconnecting() {
    let port = free_port();
    let url = format!("ws://127.0.0.1:{port}/ws");
    let (_router, _l) = start_router(port).await;
    let events = Events::default();
    let handle = recorded(
        Component::new("realm1").transport(Transport::new(&url).reconnect(fast())),
        &events,
    )
    .start();
    handle.ready().await.unwrap();
    handle.leave().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        *events.lock().unwrap(),
        ["connect", "join", "ready", "leave", "disconnect"]
    );
    assert!(matches!(handle.session(), Err(Error::NotConnected)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gives_up_after_max_retries() {
    let dead = format!("ws://127.0.0.1:{}/ws", free_port());
    let events = Events::default();
    let policy = ReconnectPolicy {
        max_retries: 2,
        ..fast()
    };
    let handle = recorded(
        Component::new("realm1").transport(Transport::new(dead).reconnect(policy)),
        &events,
    )
    .start();
    let end = tokio::time::timeout(Duration::from_secs(10), handle.join())
        .await
        .unwrap();
    assert!(matches!(end, Err(Error::Connect(_))), "{end:?}");
    assert_eq!(*events.lock().unwrap(), ["connect_failure"; 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tries_transports_round_robin() {
    let port = free_port();
    let (_router, _l) = start_router(port).await;
    let dead = format!("ws://127.0.0.1:{}/ws", free_port());
    let good = format!("rs://127.0.0.1:{}", free_port());
    let ws = format!("ws://127.0.0.1:{port}/ws");
    let urls = Arc::new(Mutex::new(Vec::new()));
    let seen = urls.clone();
    let handle = Component::new("realm1")
        .transport(Transport::new(&dead).reconnect(fast()))
        .transport(Transport::new(&good).reconnect(fast()))
        .transport(Transport::new(&ws).reconnect(fast()))
        .on_connect_failure(move |url, _| {
            seen.lock().unwrap().push(url);
            async {}
        })
        .start();
    let s = tokio::time::timeout(Duration::from_secs(10), handle.ready())
        .await
        .unwrap()
        .unwrap();
    assert!(s.is_open());
    assert_eq!(*urls.lock().unwrap(), [dead, good]);
    handle.leave().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_join_is_fatal_by_default() {
    let port = free_port();
    let (_router, _l) = start_router(port).await;
    let handle = Component::new("no-such-realm")
        .transport(Transport::new(format!("ws://127.0.0.1:{port}/ws")).reconnect(fast()))
        .start();
    let end = tokio::time::timeout(Duration::from_secs(5), handle.join())
        .await
        .unwrap();
    assert!(
        matches!(&end, Err(Error::JoinRefused { reason, .. }) if reason == "wamp.error.no_such_realm"),
        "{end:?}"
    );
}
