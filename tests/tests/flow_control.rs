//! Flow control end to end, our client against the embedded router: a
//! burst slows its producer instead of closing a reader; pending calls are
//! bounded per caller; nested calls across a congested pair complete; the
//! `wamp.` namespace belongs to the router. Small router queues make a few
//! thousand messages a burst. (Autobahn|Python peers, raw bursts and
//! hostile clients: `flow_control_interop.rs`.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use wamp::router::{Router, RouterConfig};
use wamp::{CallResult, Error, Payload, Serializer, Session, SessionConfig};

const REALM: &str = "realm1";

/// A router whose queues hold 16 messages before their producers wait.
fn small_queues() -> Router {
    let mut config = RouterConfig::default().realm(REALM);
    config.transport.queue_capacity = 16;
    config.transport.queue_bytes = 64 * 1024;
    Router::new(config)
}

/// Where sessions of a test join: in-process, WebSocket (JSON) or RawSocket
/// (MessagePack).
#[derive(Clone, Copy, Debug)]
enum Via {
    Local,
    WebSocket,
    RawSocket,
}

struct Endpoint {
    router: Router,
    url: Option<String>,
    serializer: Serializer,
    _listener: Option<wamp::router::Listener>,
}

impl Endpoint {
    async fn new(router: Router, via: Via) -> Endpoint {
        let (listener, url, serializer) = match via {
            Via::Local => (None, None, Serializer::Json),
            Via::WebSocket => {
                let l = router.listen_websocket("127.0.0.1:0").await.unwrap();
                let url = format!("ws://{}/ws", l.local_addr());
                (Some(l), Some(url), Serializer::Json)
            }
            Via::RawSocket => {
                let l = router.listen_rawsocket("127.0.0.1:0").await.unwrap();
                let url = format!("rs://{}", l.local_addr());
                (Some(l), Some(url), Serializer::MsgPack)
            }
        };
        Endpoint {
            router,
            url,
            serializer,
            _listener: listener,
        }
    }

    async fn join_with(&self, config: SessionConfig) -> Session {
        match &self.url {
            None => Session::join_local_with(&self.router, REALM, config)
                .await
                .unwrap(),
            Some(url) => {
                let config = SessionConfig {
                    serializers: vec![self.serializer],
                    ..config
                };
                Session::connect_with(url, REALM, config).await.unwrap()
            }
        }
    }

    async fn join(&self) -> Session {
        self.join_with(SessionConfig::default()).await
    }

    fn sessions(&self) -> usize {
        self.router.realm(REALM).unwrap().session_count()
    }
}

/// A publisher fires `n` events without waiting for anything at a
/// subscriber that reads slowly (small queues everywhere): every event
/// arrives, in order, and nobody is closed. An unrelated pair on the same
/// router gets all of its events meanwhile.
async fn burst_reaches_a_slow_reader(via: Via, n: u64) {
    let ep = Endpoint::new(small_queues(), via).await;
    let slow = ep
        .join_with(SessionConfig {
            event_queue_capacity: 4,
            ..Default::default()
        })
        .await;
    let mut events = slow
        .subscribe("com.test.burst", Default::default())
        .await
        .unwrap();
    let publisher = ep.join().await;
    let (other_pub, other_sub) = (ep.join().await, ep.join().await);
    let mut other_events = other_sub
        .subscribe("com.test.unrelated", Default::default())
        .await
        .unwrap();
    let joined = ep.sessions();

    let burst = tokio::spawn(async move {
        for i in 0..n {
            publisher.publish("com.test.burst").arg(i).await.unwrap();
        }
        publisher
    });
    let unrelated = tokio::spawn(async move {
        for i in 0..200u64 {
            other_pub.publish("com.test.unrelated").arg(i).await.unwrap();
        }
        other_pub
    });
    for i in 0..n {
        let event = tokio::time::timeout(Duration::from_secs(30), events.next())
            .await
            .unwrap_or_else(|_| panic!("{via:?}: event {i} of {n} never came"))
            .unwrap_or_else(|| panic!("{via:?}: the subscriber was closed at event {i}"));
        assert_eq!(event.arg::<u64>(0).unwrap(), i, "{via:?}: events in order");
        if i % 256 == 0 {
            // A reader that keeps up only now and then.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    for i in 0..200u64 {
        let event = tokio::time::timeout(Duration::from_secs(30), other_events.next())
            .await
            .expect("unrelated event")
            .expect("unrelated subscriber open");
        assert_eq!(event.arg::<u64>(0).unwrap(), i);
    }
    let publisher = burst.await.unwrap();
    let other_pub = unrelated.await.unwrap();
    assert!(publisher.is_open() && slow.is_open() && other_pub.is_open() && other_sub.is_open());
    assert_eq!(ep.sessions(), joined, "{via:?}: nobody was closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_in_process() {
    burst_reaches_a_slow_reader(Via::Local, 20_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_over_websocket() {
    burst_reaches_a_slow_reader(Via::WebSocket, 5_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_over_rawsocket() {
    burst_reaches_a_slow_reader(Via::RawSocket, 5_000).await;
}

/// A caller with many calls at once never has more than the router's
/// `max_pending_calls` at its callee: the rest wait unread, and every
/// call gets its result.
async fn pending_calls_are_bounded(via: Via) {
    const MAX: usize = 8;
    let mut config = RouterConfig::default().realm(REALM);
    config.max_pending_calls = MAX;
    let ep = Endpoint::new(Router::new(config), via).await;
    let callee = ep.join().await;
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (r, m) = (running.clone(), most.clone());
    callee
        .register("com.test.slow_echo", Default::default(), move |inv| {
            let (running, most) = (r.clone(), m.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(CallResult::new().with_arg(inv.arg::<u64>(0)?))
            }
        })
        .await
        .unwrap();
    let caller = ep.join().await;
    let calls = (0..200u64).map(|i| {
        let caller = caller.clone();
        async move { caller.call("com.test.slow_echo").arg(i).await }
    });
    for (i, result) in join_all(calls).await.into_iter().enumerate() {
        assert_eq!(result.unwrap().arg::<u64>(0).unwrap(), i as u64, "{via:?}");
    }
    let most = most.load(Ordering::SeqCst);
    assert!(
        most <= MAX,
        "{via:?}: {most} invocations ran at once, the limit is {MAX}"
    );
    assert!(most > 1, "{via:?}: calls were pipelined");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_calls_bounded_over_websocket() {
    pending_calls_are_bounded(Via::WebSocket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_calls_bounded_over_rawsocket() {
    pending_calls_are_bounded(Via::RawSocket).await;
}

/// A calls B, whose handler calls back into A, 2,000 at once: answers keep
/// flowing while new work waits, so nothing deadlocks. With the default
/// queues every call succeeds. With queues of 16, the router holds A back
/// (or B) while it owes the other answers; calls past its full backlog are
/// refused with `wamp.error.unavailable` (so its answers are never stuck
/// behind them), and every call still gets its outcome.
async fn nested_calls_across_a_congested_pair(via: Via, router: Router, all_succeed: bool) {
    let ep = Endpoint::new(router, via).await;
    let a = ep.join().await;
    let b = ep.join().await;
    a.register("com.test.a.double", Default::default(), |inv| async move {
        Ok(CallResult::new().with_arg(inv.arg::<u64>(0)? * 2))
    })
    .await
    .unwrap();
    b.register(
        "com.test.b.double_plus_one",
        Default::default(),
        |inv| async move {
            let x = inv.arg::<u64>(0)?;
            let doubled =
                inv.session.call("com.test.a.double").arg(x).await.map_err(|e| {
                    wamp::ApplicationError::new("com.test.nested_failed").with_arg(e.to_string())
                })?;
            Ok(CallResult::new().with_arg(doubled.arg::<u64>(0)? + 1))
        },
    )
    .await
    .unwrap();
    let calls = (0..2_000u64).map(|i| {
        let a = a.clone();
        async move { (i, a.call("com.test.b.double_plus_one").arg(i).await) }
    });
    let all = tokio::time::timeout(Duration::from_secs(60), join_all(calls))
        .await
        .unwrap_or_else(|_| panic!("{via:?}: nested calls deadlocked"));
    let mut succeeded = 0;
    for (i, result) in all {
        match result {
            Ok(r) => {
                assert_eq!(r.arg::<u64>(0).unwrap(), 2 * i + 1, "{via:?}");
                succeeded += 1;
            }
            // Refused: A's call, or B's nested call back into A.
            Err(Error::Application(e))
                if !all_succeed
                    && (e.error == "wamp.error.unavailable"
                        || (e.error == "com.test.nested_failed"
                            && format!("{:?}", e.args).contains("wamp.error.unavailable"))) => {}
            Err(e) => panic!("{via:?}: call {i}: {e}"),
        }
    }
    // How many are refused with small queues depends on timing; some get through.
    assert!(succeeded > 0, "{via:?}: no call succeeded");
    assert!(a.is_open() && b.is_open());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_calls_in_process() {
    nested_calls_across_a_congested_pair(Via::Local, small_queues(), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_calls_over_websocket() {
    let router = Router::new(RouterConfig::default().realm(REALM));
    nested_calls_across_a_congested_pair(Via::WebSocket, router, true).await;
    nested_calls_across_a_congested_pair(Via::WebSocket, small_queues(), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_calls_over_rawsocket() {
    let router = Router::new(RouterConfig::default().realm(REALM));
    nested_calls_across_a_congested_pair(Via::RawSocket, router, true).await;
    nested_calls_across_a_congested_pair(Via::RawSocket, small_queues(), false).await;
}

/// Our client's own queue: with room for 4 messages, 2,000 publishes and
/// calls issued at once wait for room; none fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_queue_waits_instead_of_failing() {
    let ep = Endpoint::new(Router::new(RouterConfig::default().realm(REALM)), Via::WebSocket).await;
    let mut tiny = SessionConfig::default();
    tiny.transport.queue_capacity = 4;
    let callee = ep.join().await;
    callee
        .register("com.test.id", Default::default(), |inv| async move {
            Ok(CallResult::new().with_arg(inv.arg::<u64>(0)?))
        })
        .await
        .unwrap();
    let client = ep.join_with(tiny).await;
    let publishes = (0..2_000u64).map(|i| {
        let client = client.clone();
        async move { client.publish("com.test.nobody").arg(i).await }
    });
    for r in join_all(publishes).await {
        r.unwrap();
    }
    let calls = (0..2_000u64).map(|i| {
        let client = client.clone();
        async move { client.call("com.test.id").arg(i).await }
    });
    for (i, r) in join_all(calls).await.into_iter().enumerate() {
        assert_eq!(r.unwrap().arg::<u64>(0).unwrap(), i as u64);
    }
}

/// REGISTER of a `wamp.` URI and PUBLISH to one are refused; subscribing
/// there is allowed, and nothing a client publishes reaches it.
async fn router_owns_the_wamp_namespace(via: Via) {
    let ep = Endpoint::new(Router::new(RouterConfig::default().realm(REALM)), via).await;
    let client = ep.join().await;
    let observer = ep.join().await;
    let mut joins = observer
        .subscribe("wamp.session.on_join", Default::default())
        .await
        .expect("subscribing to meta events is allowed");
    for uri in ["wamp.session.count", "wamp.foo", "wamp"] {
        match client
            .register(uri, Default::default(), |_| async { Ok(CallResult::new()) })
            .await
        {
            Err(Error::Application(e)) => {
                assert_eq!(e.error, "wamp.error.invalid_uri", "{via:?} {uri}");
            }
            other => panic!("{via:?}: register {uri}: {other:?}"),
        }
    }
    match client
        .publish("wamp.session.on_join")
        .kwarg("authid", "fake-admin")
        .acknowledge(true)
        .await
    {
        Err(Error::Application(e)) => assert_eq!(e.error, "wamp.error.invalid_uri", "{via:?}"),
        other => panic!("{via:?}: acknowledged publish to wamp.*: {other:?}"),
    }
    // Unacknowledged: dropped. An event published after it by the same
    // session on a normal topic arrives, the forged one never does.
    let mut normal = observer
        .subscribe("com.test.after", Default::default())
        .await
        .unwrap();
    client
        .publish("wamp.session.on_join")
        .kwarg("authid", "fake-admin")
        .await
        .unwrap();
    client.publish("com.test.after").arg(1).await.unwrap();
    let after = tokio::time::timeout(Duration::from_secs(10), normal.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.arg::<u64>(0).unwrap(), 1);
    let forged = tokio::time::timeout(Duration::from_millis(200), joins.next()).await;
    assert!(
        forged.is_err(),
        "{via:?}: a forged meta event arrived: {forged:?}"
    );
    // wampx. and com.wamp. are ordinary URIs.
    client
        .register("wampx.ok", Default::default(), |_| async {
            Ok(CallResult::new())
        })
        .await
        .unwrap();
    client.publish("com.wamp.ok").acknowledge(true).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wamp_namespace_in_process() {
    router_owns_the_wamp_namespace(Via::Local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wamp_namespace_over_websocket() {
    router_owns_the_wamp_namespace(Via::WebSocket).await;
}

/// A callee streams progressive results far faster than its caller reads
/// them: the router holds the callee back as it holds back a publisher
/// (a progressive RESULT is new work for the caller), so every result
/// arrives, in order, then the final one, and nobody is closed. The
/// stream is many times the caller's queue and its hard limit.
async fn progressive_results_to_a_slow_caller(via: Via, n: u64) {
    let ep = Endpoint::new(small_queues(), via).await;
    let callee = ep.join().await;
    callee
        .register("com.test.stream", Default::default(), move |inv| async move {
            let progress = inv.progress.clone().expect("the caller asked for progress");
            for i in 0..n {
                progress
                    .send(CallResult::new().with_arg(i))
                    .await
                    .expect("the caller is there");
            }
            Ok(CallResult::new().with_arg("done"))
        })
        .await
        .unwrap();
    let caller = ep.join().await;
    let joined = ep.sessions();
    let mut call = caller
        .call("com.test.stream")
        .progressive()
        .start()
        .await
        .unwrap();
    let mut next = 0u64;
    while let Some(p) = tokio::time::timeout(Duration::from_secs(30), call.progress())
        .await
        .unwrap_or_else(|_| panic!("{via:?}: progressive result {next} of {n} never came"))
    {
        assert_eq!(p.args[0].as_u64(), Some(next), "{via:?}: results in order");
        next += 1;
        if next.is_multiple_of(512) {
            // A caller that keeps up only now and then.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    if next != n {
        panic!(
            "{via:?}: {next} of {n} progressive results, then {:?}",
            call.result().await
        );
    }
    let last = call.result().await.unwrap();
    assert_eq!(last.arg::<String>(0).unwrap(), "done");
    assert!(caller.is_open() && callee.is_open());
    assert_eq!(ep.sessions(), joined, "{via:?}: nobody was closed");
}

/// In-process, the caller's own task sends the CALL and then reads the
/// stream: it must never wait for its own incoming queue to drain, or it
/// waits on itself (it did, about once in 20 runs under load, when the
/// streaming handler filled the caller's queue before the CALL's send
/// returned).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progressive_results_in_process() {
    progressive_results_to_a_slow_caller(Via::Local, 20_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progressive_results_over_websocket() {
    progressive_results_to_a_slow_caller(Via::WebSocket, 20_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progressive_results_over_rawsocket() {
    progressive_results_to_a_slow_caller(Via::RawSocket, 20_000).await;
}

/// The other side of that rule: an in-process client that floods its own
/// subscription and never reads it is not held back by its own queue, so
/// it meets the queue's hard limit and is closed (the router logs
/// `wamp.close.overflow`), without a hang; another session goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_flood_of_own_unread_subscription_is_closed() {
    let ep = Endpoint::new(small_queues(), Via::Local).await;
    let flooder = ep.join().await;
    let unread = flooder
        .subscribe("com.test.self", Default::default())
        .await
        .unwrap();
    let other = ep.join().await;
    let mut closed_at = None;
    let flood = async {
        for i in 0..100_000u64 {
            if flooder
                .publish("com.test.self")
                .exclude_me(false)
                .arg(i)
                .await
                .is_err()
            {
                closed_at = Some(i);
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), flood)
        .await
        .expect("the flood ends: the flooder is closed, it does not hang");
    let at = closed_at.expect("the flooder is closed before 100,000 events");
    assert!(at >= 16, "not before its queue's high-water mark: closed at {at}");
    // Its reader still holds an event for the unread subscription (an
    // unread subscription holds back the reader); once it is dropped, the
    // session sees its end.
    drop(unread);
    tokio::time::timeout(Duration::from_secs(10), flooder.closed())
        .await
        .expect("the flooder's session ends");
    assert!(!flooder.is_open());
    other
        .publish("com.test.other")
        .arg(1)
        .acknowledge(true)
        .await
        .unwrap();
    assert!(other.is_open());
}

/// A session held back with a full backlog stops reading, and reads again
/// as soon as it is sent an INVOCATION, to take its answer: here it is at
/// its limit of pending calls (a callee holds them) with more calls
/// unread behind them, and a third session's call to it still comes back
/// at once. Without that wake-up, the call would wait until the held calls
/// were answered.
async fn held_back_callee_still_answers(via: Via) {
    let mut config = RouterConfig::default().realm(REALM);
    config.max_pending_calls = 2;
    config.transport.queue_bytes = 64 * 1024;
    let ep = Endpoint::new(Router::new(config), via).await;
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let holder = ep.join().await;
    let gate = release.clone();
    holder
        .register("com.test.hold", Default::default(), move |_| {
            let gate = gate.clone();
            async move {
                gate.acquire()
                    .await
                    .map_err(|e| wamp::ApplicationError::new("com.test.gone").with_arg(e.to_string()))?
                    .forget();
                Ok(CallResult::new())
            }
        })
        .await
        .unwrap();
    let held = ep.join().await;
    held.register("com.test.answer", Default::default(), |_| async {
        Ok(CallResult::new().with_arg(7))
    })
    .await
    .unwrap();
    // Ten calls at once: two of them reach the limit, and the other eight
    // (six or more of 12 KiB) overflow the backlog's 64 KiB, so the router
    // stops reading this session.
    let calls: Vec<_> = (0..10)
        .map(|i| {
            let held = held.clone();
            let filler = if i < 2 {
                String::new()
            } else {
                "x".repeat(12 * 1024)
            };
            tokio::spawn(async move { held.call("com.test.hold").arg(filler).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asker = ep.join().await;
    let answer = tokio::time::timeout(Duration::from_secs(5), asker.call("com.test.answer"))
        .await
        .unwrap_or_else(|_| panic!("{via:?}: the held-back callee's answer did not come back"))
        .unwrap();
    assert_eq!(answer.arg::<i64>(0).unwrap(), 7);
    release.add_permits(10);
    for call in calls {
        call.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_back_callee_answers_over_websocket() {
    held_back_callee_still_answers(Via::WebSocket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_back_callee_answers_over_rawsocket() {
    held_back_callee_still_answers(Via::RawSocket).await;
}
