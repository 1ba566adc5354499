//! Progressive call invocations with our client on both ends, against the
//! embedded router, in-process and over WebSocket (JSON and MessagePack):
//! a caller streams its input (`Call::stream_input`, `send_input`,
//! `finish_input`), the callee reads it (`Invocation::input`); with
//! progressive results both ways at once; cancel, a dropped handle and the
//! call's timeout end it mid-stream; chunks that arrive after the callee
//! answered are dropped, never taken for new calls. Against Crossbar.io,
//! which does not announce the feature, the caller is refused before
//! anything is sent. (The router on the wire, with raw peers:
//! `progressive_invocations.rs`.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use wamp::router::{Listener, Router, RouterConfig};
use wamp::{
    ApplicationError, CallResult, CancelMode, Error, Invocation, Payload, RegisterOptions, Serializer,
    Session, SessionConfig,
};
use wamp_tests::python::{venv_python, Crossbar};

const REALM: &str = "realm1";
const WAIT: Duration = Duration::from_secs(10);

/// Where the sessions of a test join.
#[derive(Clone, Copy, Debug)]
enum Via {
    Local,
    WebSocket(Serializer),
    RawSocket(Serializer),
}

const ALL: [Via; 5] = [
    Via::Local,
    Via::WebSocket(Serializer::Json),
    Via::WebSocket(Serializer::MsgPack),
    Via::WebSocket(Serializer::Cbor),
    Via::RawSocket(Serializer::MsgPack),
];

/// A router of its own, and a way to join it.
struct Endpoint {
    router: Router,
    via: Via,
    url: Option<String>,
    _listener: Option<Listener>,
}

impl Endpoint {
    async fn new(via: Via) -> Endpoint {
        let router = Router::new(RouterConfig::default().realm(REALM));
        let (listener, url) = match via {
            Via::Local => (None, None),
            Via::WebSocket(_) => {
                let l = router.listen_websocket("127.0.0.1:0").await.unwrap();
                let url = format!("ws://{}/ws", l.local_addr());
                (Some(l), Some(url))
            }
            Via::RawSocket(_) => {
                let l = router.listen_rawsocket("127.0.0.1:0").await.unwrap();
                let url = format!("rs://{}", l.local_addr());
                (Some(l), Some(url))
            }
        };
        Endpoint {
            router,
            via,
            url,
            _listener: listener,
        }
    }

    async fn join(&self) -> Session {
        match (&self.url, self.via) {
            (Some(url), Via::WebSocket(ser) | Via::RawSocket(ser)) => {
                let config = SessionConfig {
                    serializers: vec![ser],
                    ..SessionConfig::default()
                };
                Session::connect_with(url, REALM, config).await.unwrap()
            }
            _ => Session::join_local(&self.router, REALM).await.unwrap(),
        }
    }
}

fn chunk(n: i64) -> CallResult {
    CallResult::new().with_arg(n)
}

fn app(e: &str) -> ApplicationError {
    ApplicationError::new(e)
}

/// Sets its flag when dropped: tells a test that a handler was stopped.
struct Stopped(Arc<AtomicUsize>);

impl Drop for Stopped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

async fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A running sum: the caller streams 1..=100, the callee answers the sum
/// once the input ends; it saw `details.progress` on the first INVOCATION.
async fn running_sum(via: Via) {
    let ep = Endpoint::new(via).await;
    let callee = ep.join().await;
    callee
        .register(
            "com.test.sum",
            RegisterOptions::default(),
            |mut inv: Invocation| async move {
                if inv.details.progress != Some(true) {
                    return Err(app("com.test.not_streaming"));
                }
                let mut sum: i64 = inv.arg(0)?;
                let mut chunks = 1;
                let input = inv.input.as_mut().ok_or_else(|| app("com.test.no_input"))?;
                while let Some(c) = input.next().await {
                    sum += c.arg::<i64>(0)?;
                    chunks += 1;
                }
                Ok(CallResult::new().with_arg(sum).with_arg(chunks))
            },
        )
        .await
        .unwrap();
    let caller = ep.join().await;
    let mut call = caller
        .call("com.test.sum")
        .arg(1)
        .stream_input()
        .start()
        .await
        .unwrap();
    for n in 2..100 {
        call.send_input(chunk(n)).await.unwrap();
    }
    call.finish_input(chunk(100)).await.unwrap();
    // The input is closed now.
    assert!(matches!(call.send_input(chunk(1)).await, Err(Error::InputClosed)));
    let r = tokio::time::timeout(WAIT, call.result()).await.unwrap().unwrap();
    assert_eq!(
        (r.arg::<i64>(0).unwrap(), r.arg::<i64>(1).unwrap()),
        (5050, 100),
        "{via:?}"
    );
    // An ordinary call of the same procedure has no input stream.
    let r = caller.call("com.test.sum").arg(7).await;
    assert_eq!(r.unwrap_err().uri(), Some("com.test.not_streaming"));
}

#[tokio::test]
async fn running_sum_everywhere() {
    for via in ALL {
        running_sum(via).await;
    }
}

/// Two-way: every input chunk is answered by a progressive result, which
/// the caller reads before it sends the next chunk.
async fn two_way_echo(via: Via) {
    let ep = Endpoint::new(via).await;
    let callee = ep.join().await;
    callee
        .register(
            "com.test.echo",
            RegisterOptions::default(),
            |mut inv: Invocation| async move {
                let progress = inv.progress.clone().ok_or_else(|| app("com.test.no_progress"))?;
                let first: i64 = inv.arg(0)?;
                progress
                    .send(chunk(first * 10))
                    .await
                    .map_err(|_| app("com.test.send"))?;
                let mut n = 1;
                let input = inv.input.as_mut().ok_or_else(|| app("com.test.no_input"))?;
                while let Some(c) = input.next().await {
                    progress
                        .send(chunk(c.arg::<i64>(0)? * 10))
                        .await
                        .map_err(|_| app("com.test.send"))?;
                    n += 1;
                }
                Ok(CallResult::new().with_arg(n))
            },
        )
        .await
        .unwrap();
    let caller = ep.join().await;
    let mut call = caller
        .call("com.test.echo")
        .arg(0)
        .progressive()
        .stream_input()
        .start()
        .await
        .unwrap();
    for n in 0..20 {
        let echo = tokio::time::timeout(WAIT, call.progress())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(echo.arg::<i64>(0).unwrap(), n * 10, "{via:?}");
        if n < 19 {
            call.send_input(chunk(n + 1)).await.unwrap();
        } else {
            call.finish_input(chunk(n + 1)).await.unwrap();
        }
    }
    let last = tokio::time::timeout(WAIT, call.progress())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last.arg::<i64>(0).unwrap(), 200);
    let r = tokio::time::timeout(WAIT, call.result()).await.unwrap().unwrap();
    assert_eq!(r.arg::<i64>(0).unwrap(), 21, "{via:?}");
}

#[tokio::test]
async fn two_way_echo_everywhere() {
    for via in ALL {
        two_way_echo(via).await;
    }
}

/// A callee that reports each chunk it reads and never answers; counts the
/// handlers stopped.
async fn endless_reader(callee: &Session) -> (mpsc::UnboundedReceiver<i64>, Arc<AtomicUsize>) {
    let (seen_tx, seen) = mpsc::unbounded_channel();
    let stopped = Arc::new(AtomicUsize::new(0));
    let counter = stopped.clone();
    callee
        .register(
            "com.test.endless",
            RegisterOptions::default(),
            move |mut inv: Invocation| {
                let seen = seen_tx.clone();
                let guard = Stopped(counter.clone());
                async move {
                    let _guard = guard;
                    let _ = seen.send(inv.arg::<i64>(0)?);
                    if let Some(input) = inv.input.as_mut() {
                        while let Some(c) = input.next().await {
                            let _ = seen.send(c.arg::<i64>(0)?);
                        }
                    }
                    std::future::pending::<()>().await;
                    Ok(CallResult::new())
                }
            },
        )
        .await
        .unwrap();
    (seen, stopped)
}

/// Cancel mid-stream (explicit, then by dropping the handle): the callee's
/// handler is interrupted, the caller gets `wamp.error.canceled`
/// ([`Error::Canceled`]) and its input is closed.
async fn cancel_mid_stream(via: Via) {
    let ep = Endpoint::new(via).await;
    let callee = ep.join().await;
    let (mut seen, stopped) = endless_reader(&callee).await;
    let caller = ep.join().await;
    let mut call = caller
        .call("com.test.endless")
        .arg(1)
        .stream_input()
        .start()
        .await
        .unwrap();
    call.send_input(chunk(2)).await.unwrap();
    for n in 1..=2 {
        assert_eq!(tokio::time::timeout(WAIT, seen.recv()).await.unwrap(), Some(n));
    }
    let outcome = tokio::time::timeout(WAIT, call.cancel(CancelMode::Kill))
        .await
        .unwrap();
    assert!(matches!(outcome, Err(Error::Canceled)), "{via:?}: {outcome:?}");
    eventually("the handler is interrupted", || {
        stopped.load(Ordering::SeqCst) == 1
    })
    .await;

    let mut call = caller
        .call("com.test.endless")
        .arg(3)
        .stream_input()
        .start()
        .await
        .unwrap();
    assert_eq!(tokio::time::timeout(WAIT, seen.recv()).await.unwrap(), Some(3));
    call.send_input(chunk(4)).await.unwrap();
    assert_eq!(tokio::time::timeout(WAIT, seen.recv()).await.unwrap(), Some(4));
    drop(call);
    eventually("the handler is interrupted", || {
        stopped.load(Ordering::SeqCst) == 2
    })
    .await;
    // Both sessions are fine afterwards.
    assert_eq!(
        caller
            .call("wamp.session.count")
            .await
            .unwrap()
            .arg::<u64>(0)
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn cancel_mid_stream_everywhere() {
    for via in ALL {
        cancel_mid_stream(via).await;
    }
}

/// The call's timeout runs from its first chunk and ends it mid-stream:
/// the caller gets [`Error::Timeout`], the callee's handler is interrupted,
/// and the caller's input is closed.
async fn timeout_mid_stream(via: Via) {
    let ep = Endpoint::new(via).await;
    let callee = ep.join().await;
    let (mut seen, stopped) = endless_reader(&callee).await;
    let caller = ep.join().await;
    let mut call = caller
        .call("com.test.endless")
        .arg(1)
        .timeout(Duration::from_millis(300))
        .stream_input()
        .start()
        .await
        .unwrap();
    call.send_input(chunk(2)).await.unwrap();
    for n in 1..=2 {
        assert_eq!(tokio::time::timeout(WAIT, seen.recv()).await.unwrap(), Some(n));
    }
    eventually("the handler is interrupted", || {
        stopped.load(Ordering::SeqCst) == 1
    })
    .await;
    assert!(
        matches!(call.send_input(chunk(3)).await, Err(Error::InputClosed)),
        "{via:?}"
    );
    let outcome = call.result().await;
    assert!(matches!(outcome, Err(Error::Timeout(_))), "{via:?}: {outcome:?}");
}

#[tokio::test]
async fn timeout_mid_stream_everywhere() {
    for via in ALL {
        timeout_mid_stream(via).await;
    }
}

/// A callee that answers at its first chunk: the chunks the caller sends
/// meanwhile are dropped (by the router, or by the callee if they were on
/// their way), never started as calls of their own.
async fn early_answer(via: Via) {
    let ep = Endpoint::new(via).await;
    let callee = ep.join().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    callee
        .register(
            "com.test.first",
            RegisterOptions::default(),
            move |inv: Invocation| {
                counter.fetch_add(1, Ordering::SeqCst);
                async move { Ok(CallResult::new().with_arg(inv.arg::<i64>(0)?)) }
            },
        )
        .await
        .unwrap();
    let caller = ep.join().await;
    for round in 0..5 {
        let mut call = caller
            .call("com.test.first")
            .arg(round)
            .stream_input()
            .start()
            .await
            .unwrap();
        for n in 0..20 {
            match call.send_input(chunk(n)).await {
                Ok(()) | Err(Error::InputClosed) => {}
                Err(e) => panic!("{via:?}: {e}"),
            }
        }
        let _ = call.finish_input(chunk(99)).await;
        let r = tokio::time::timeout(WAIT, call.result()).await.unwrap().unwrap();
        assert_eq!(r.arg::<i64>(0).unwrap(), round);
    }
    // Anything still on its way is through once a later call is answered.
    assert_eq!(
        caller
            .call("com.test.first")
            .arg(7)
            .await
            .unwrap()
            .arg::<i64>(0)
            .unwrap(),
        7
    );
    assert_eq!(calls.load(Ordering::SeqCst), 6, "{via:?}");
}

#[tokio::test]
async fn early_answer_everywhere() {
    for via in ALL {
        early_answer(via).await;
    }
}

/// Awaiting a call whose input streams would wait forever: refused.
#[tokio::test]
async fn awaiting_a_streaming_call_is_refused() {
    let ep = Endpoint::new(Via::Local).await;
    let caller = ep.join().await;
    let outcome = caller.call("com.test.any").stream_input().await;
    assert!(matches!(outcome, Err(Error::Unsupported(_))), "{outcome:?}");
    // A plain call has no input to send.
    let mut plain = caller.call("wamp.session.count").start().await.unwrap();
    assert!(matches!(
        plain.send_input(chunk(1)).await,
        Err(Error::InputClosed)
    ));
    assert!(plain.result().await.is_ok());
}

/// Crossbar.io does not announce progressive call invocations: our caller
/// is refused before anything is sent (no request is made, the session
/// goes on).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crossbar_refuses_before_sending() {
    let Some(python) = venv_python() else { return };
    let node = Crossbar::start(&python).await;
    let session = Session::connect_with(&node.ws_url, REALM, SessionConfig::default())
        .await
        .unwrap();
    let roles = &session.details().router_roles;
    let outcome = session.call("com.test.sum").arg(1).stream_input().start().await;
    match outcome {
        Err(Error::Unsupported(m)) => assert!(m.contains("progressive_call_invocations"), "{m}"),
        Err(other) => panic!("{other}; Crossbar.io announced {roles:?}"),
        Ok(_) => panic!("started; Crossbar.io announced {roles:?}"),
    }
    let count = session.call("wamp.session.count").await.unwrap();
    assert_eq!(count.arg::<u64>(0).unwrap(), 1);
}

/// Many chunks to a callee that reads slowly: none is lost or reordered
/// (the callee's bounded input queue holds back its reader, the router
/// holds back the caller).
async fn slow_reader(via: Via) {
    let ep = Endpoint::new(via).await;
    let callee = ep.join().await;
    callee
        .register(
            "com.test.ordered",
            RegisterOptions::default(),
            |mut inv: Invocation| async move {
                let mut expected: i64 = inv.arg::<i64>(0)? + 1;
                let input = inv.input.as_mut().ok_or_else(|| app("com.test.no_input"))?;
                while let Some(c) = input.next().await {
                    if c.arg::<i64>(0)? != expected {
                        return Err(app("com.test.out_of_order"));
                    }
                    if expected % 500 == 0 {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    expected += 1;
                }
                Ok(CallResult::new().with_arg(expected - 1))
            },
        )
        .await
        .unwrap();
    let caller = ep.join().await;
    let mut call = caller
        .call("com.test.ordered")
        .arg(0)
        .stream_input()
        .start()
        .await
        .unwrap();
    for n in 1..5_000 {
        call.send_input(chunk(n)).await.unwrap();
    }
    call.finish_input(chunk(5_000)).await.unwrap();
    let r = tokio::time::timeout(WAIT, call.result()).await.unwrap().unwrap();
    assert_eq!(r.arg::<i64>(0).unwrap(), 5_000, "{via:?}");
}

#[tokio::test]
async fn slow_reader_everywhere() {
    for via in ALL {
        slow_reader(via).await;
    }
}
