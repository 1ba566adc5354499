//! Typed streaming input (progressive call invocations) and two-way
//! streams: a procedure takes a `Streaming<T>`, its stub takes an
//! `impl Stream`; on the embedded router in-process and over WebSocket
//! (JSON and MessagePack), and on Crossbar.io, which has no progressive
//! call invocations: there the stub fails at once with a clear error.

use std::future::IntoFuture;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{stream, Stream, StreamExt};
use wamp::router::{Router, RouterConfig};
use wamp::service::{ParameterSource, Progressive, Streaming};
use wamp::{ApplicationError, CallError, CallResult, Error, Payload, Serializer, Service};
use wamp_tests::python::{venv_python, Crossbar};
use wamp_tests::{local_connector, url_connector, Connector};

/// Counts handlers dropped before they ended (interrupted).
struct DropFlag(Arc<AtomicU32>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// An item whose serialization fails for 13.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct Picky(u32);

impl serde::Serialize for Picky {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 == 13 {
            return Err(serde::ser::Error::custom("13 is unlucky"));
        }
        s.serialize_u32(self.0)
    }
}

struct Sums {
    /// Handlers of `hold` started.
    started: Arc<AtomicU32>,
    /// Handlers of `hold` and `count` ended (interrupted or returned).
    dropped: Arc<AtomicU32>,
}

#[wamp::service(prefix = "com.sums")]
impl Sums {
    /// Client streaming: `start` from the first CALL, then the numbers.
    #[wamp::procedure("sum")]
    async fn sum(&self, start: i64, mut numbers: Streaming<i64>) -> Result<i64, ApplicationError> {
        let mut total = start;
        while let Some(n) = numbers.next().await {
            total += n?;
        }
        Ok(total)
    }

    /// Two-way: the running total after each number, then the total.
    #[wamp::procedure("running")]
    fn running(&self, mut numbers: Streaming<i64>) -> Progressive<i64, i64, ApplicationError> {
        Progressive::try_new(move |progress| async move {
            let mut total = 0;
            while let Some(n) = numbers.next().await {
                total += n?;
                progress.send(total).await;
            }
            Ok(total)
        })
    }

    /// Two-way as a plain stream: each word shouted back as it comes.
    #[wamp::procedure("shout")]
    fn shout(
        &self,
        #[wamp(kwarg)] suffix: String,
        words: Streaming<String>,
    ) -> impl Stream<Item = Result<String, ApplicationError>> {
        words.map(move |w| w.map(|w| format!("{}{suffix}", w.to_uppercase())))
    }

    /// Answers after the first `n` items, whatever else the caller has.
    #[wamp::procedure("first")]
    async fn first(&self, n: usize, items: Streaming<u64>) -> Vec<u64> {
        items
            .take(n)
            .filter_map(|i| async move { i.ok() })
            .collect()
            .await
    }

    /// Counts items until the input ends (or the call is interrupted).
    #[wamp::procedure("count")]
    async fn count(&self, mut items: Streaming<Picky>) -> Result<usize, ApplicationError> {
        let flag = DropFlag(self.dropped.clone());
        let mut n = 0;
        while let Some(item) = items.next().await {
            item?;
            n += 1;
        }
        std::mem::forget(flag);
        Ok(n)
    }

    /// No input stream.
    #[wamp::procedure("total")]
    async fn total(&self, n: i64) -> i64 {
        n
    }

    /// Reads until interrupted.
    #[wamp::procedure("hold")]
    async fn hold(&self, mut items: Streaming<u32>) -> u32 {
        let _flag = DropFlag(self.dropped.clone());
        self.started.fetch_add(1, Ordering::SeqCst);
        let mut seen = 0;
        while items.next().await.is_some() {
            seen += 1;
        }
        seen
    }
}

/// Awaits `f`, failing the test instead of hanging.
async fn within<F: IntoFuture>(label: &str, f: F) -> F::Output {
    static STEP: AtomicU32 = AtomicU32::new(0);
    let step = STEP.fetch_add(1, Ordering::SeqCst);
    let label = &format!("{label} step {step}");
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .unwrap_or_else(|_| panic!("{label}: timed out"))
}

async fn streaming_input(label: &str, connect: Connector) {
    let backend = connect().await;
    let dropped = Arc::new(AtomicU32::new(0));
    let started = Arc::new(AtomicU32::new(0));
    let attached = backend
        .attach(Sums {
            started: started.clone(),
            dropped: dropped.clone(),
        })
        .await
        .unwrap_or_else(|e| panic!("{label}: attach: {e}"));
    let caller = connect().await;
    let sums = SumsClient::new(caller.clone());

    // Client streaming: the ordinary parameter, then the items.
    let total = within(label, sums.sum(10, stream::iter([1, 2, 3])))
        .await
        .unwrap();
    assert_eq!(total, 16, "{label}");
    // No items: the input ends at once.
    let total = within(label, sums.sum(7, stream::empty())).await.unwrap();
    assert_eq!(total, 7, "{label}");
    // Many items, more than the callee's input queue holds: flow control,
    // in order, none lost.
    let total = within(label, sums.sum(0, stream::iter(1..=5000))).await.unwrap();
    assert_eq!(total, 5000 * 5001 / 2, "{label}");
    // Items that come slowly, with per-call options.
    let slow = stream::iter(1..=5).then(|i| async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        i
    });
    let total = within(
        label,
        sums.sum(0, slow).timeout(Duration::from_secs(10)).disclose_me(),
    )
    .await
    .unwrap();
    assert_eq!(total, 15, "{label}");

    // Two-way: running totals come back while the numbers go out.
    let (tx, rx) = tokio::sync::mpsc::channel::<i64>(1);
    let mut running = sums.running(tokio_stream(rx));
    for (n, expected) in [(5, 5), (10, 15), (-3, 12)] {
        tx.send(n).await.unwrap();
        let got = within(label, running.next()).await.unwrap().unwrap();
        assert_eq!(
            got, expected,
            "{label}: each total before the next number is sent"
        );
    }
    drop(tx);
    assert_eq!(within(label, running.finish()).await.unwrap(), 12, "{label}");

    // Two-way as a plain stream, with a keyword parameter.
    let shouted: Vec<String> = within(
        label,
        sums.shout("!".into(), stream::iter(["hi", "there"].map(String::from)))
            .map(|w| w.unwrap())
            .collect(),
    )
    .await;
    assert_eq!(shouted, ["HI!", "THERE!"], "{label}");

    // The callee answers before the input ends: the caller gets the answer
    // and stops sending (its stream is endless).
    let first = within(label, sums.first(3, stream::iter(100..))).await.unwrap();
    assert_eq!(first, [100, 101, 102], "{label}");

    // Dropping the call cancels it: the callee's handler is interrupted.
    // The call is dropped once its handler runs, not after a set time:
    // over a socket its CALL can wait for room behind the backlog of
    // `first`'s endless input, and a call dropped before its CALL went
    // out never reaches the callee (after 0.2 s, this test hung about once
    // in 50 runs of the binary).
    let before = dropped.load(Ordering::SeqCst);
    let started_before = started.load(Ordering::SeqCst);
    let endless = stream::iter(0..3).chain(stream::pending());
    // Boxed, so that dropping it drops the call (not a pinned reference).
    let mut hold = Box::pin(sums.hold(endless).into_future());
    let answered = within(label, async {
        tokio::select! {
            answer = &mut hold => Some(answer),
            () = async {
                while started.load(Ordering::SeqCst) == started_before {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            } => None,
        }
    })
    .await;
    assert!(answered.is_none(), "{label}: hold answered {answered:?}");
    drop(hold);
    within(label, async {
        while dropped.load(Ordering::SeqCst) == before {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    // So does dropping a two-way stream mid-way; the session goes on.
    let mut running = sums.running(stream::iter([1]).chain(stream::pending()));
    assert_eq!(
        within(label, running.next()).await.unwrap().unwrap(),
        1,
        "{label}"
    );
    drop(running);
    let still = within(label, sums.sum(1, stream::iter([1]))).await.unwrap();
    assert_eq!(still, 2, "{label}");

    // An item the stub cannot serialize fails the call with that item's
    // error, and cancels it: the callee's handler is interrupted.
    let before = dropped.load(Ordering::SeqCst);
    let picky = stream::iter([1, 2, 13, 4].map(Picky)).chain(stream::pending());
    match within(label, sums.count(picky)).await {
        Err(CallError::Session(Error::Value(m))) => {
            assert!(
                m.contains("input item 2") && m.contains("unlucky"),
                "{label}: {m}"
            )
        }
        other => panic!("{label}: {other:?}"),
    }
    within(label, async {
        while dropped.load(Ordering::SeqCst) == before {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let all = within(label, sums.count(stream::iter([1, 2, 3].map(Picky))))
        .await
        .unwrap();
    assert_eq!(all, 3, "{label}");

    // An untyped caller that streams an item of the wrong type gets an
    // error naming the parameter and the item.
    let mut call = caller
        .call("com.sums.sum")
        .arg(0)
        .stream_input()
        .start()
        .await
        .unwrap();
    call.send_input(CallResult::new().with_arg(1)).await.unwrap();
    call.finish_input(CallResult::new().with_arg("two"))
        .await
        .unwrap();
    let err = within(label, call.result()).await.unwrap_err();
    let Error::Application(app) = err else {
        panic!("{label}: {err}")
    };
    assert_eq!(app.error, "wamp.error.invalid_argument", "{label}");
    let msg = app.message().unwrap_or_default();
    assert!(
        msg.contains("input `numbers`, item 1") && msg.contains("i64"),
        "{label}: {msg}"
    );
    // Several items in one chunk are several items.
    let mut call = caller
        .call("com.sums.sum")
        .arg(0)
        .stream_input()
        .start()
        .await
        .unwrap();
    call.finish_input(CallResult::new().with_arg(1).with_arg(2))
        .await
        .unwrap();
    assert_eq!(
        within(label, call.result()).await.unwrap().arg::<i64>(0).unwrap(),
        3
    );
    // A procedure without an input stream refuses a streamed input rather
    // than lose its items.
    let mut call = caller
        .call("com.sums.total")
        .arg(2)
        .stream_input()
        .start()
        .await
        .unwrap();
    let _ = call.finish_input(CallResult::new().with_arg(3)).await;
    let err = within(label, call.result()).await.unwrap_err();
    let Error::Application(app) = err else {
        panic!("{label}: {err}")
    };
    assert_eq!(app.error, "wamp.error.invalid_argument", "{label}");
    let msg = app.message().unwrap_or_default();
    assert!(msg.contains("takes no input stream"), "{label}: {msg}");
    // A plain call (no streamed input) sees an empty stream.
    let plain = within(label, caller.call("com.sums.sum").arg(5)).await.unwrap();
    assert_eq!(plain.arg::<i64>(0).unwrap(), 5, "{label}");

    attached.detach().await.unwrap();
}

/// An `mpsc::Receiver` as a `Stream`.
fn tokio_stream<T: Send + 'static>(mut rx: tokio::sync::mpsc::Receiver<T>) -> impl Stream<Item = T> + Send {
    stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_input_in_process() {
    let router = Router::new(RouterConfig::default().realm("realm1"));
    streaming_input("in-process", local_connector(router, "realm1")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_input_over_websocket() {
    let router = Router::new(RouterConfig::default().realm("realm1"));
    let l = router.listen_websocket("127.0.0.1:0").await.unwrap();
    for ser in [Serializer::Json, Serializer::MsgPack] {
        let url = format!("ws://{}/ws", l.local_addr());
        streaming_input(&format!("ws {ser:?}"), url_connector(url, "realm1", ser)).await;
    }
}

#[test]
fn the_description_has_the_input_item() {
    let d = Sums::describe();
    let sum = d.procedure("sum").unwrap();
    let sources: Vec<_> = sum
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.source))
        .collect();
    assert_eq!(
        sources,
        [
            ("start", ParameterSource::Positional),
            ("numbers", ParameterSource::Input)
        ]
    );
    let numbers = &sum.parameters[1];
    assert_eq!(numbers.position, None);
    assert_eq!(numbers.schema["type"], "integer", "{}", numbers.schema);
    let running = d.procedure("running").unwrap();
    assert_eq!(running.parameters[0].source, ParameterSource::Input);
    assert!(running.progress.is_some());
}

/// Crossbar.io has no progressive call invocations: a stub streaming its
/// input through it fails at once with `Error::Unsupported` naming the
/// feature (nothing is sent, nothing hangs), awaited or as a two-way
/// stream; the same procedure called without streaming works there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crossbar_refuses_streaming_input_clearly() {
    let Some(python) = venv_python() else { return };
    let node = Crossbar::start(&python).await;
    let connect = url_connector(node.ws_url.clone(), "realm1", Serializer::Json);
    let backend = connect().await;
    let attached = backend
        .attach(Sums {
            started: Arc::new(AtomicU32::new(0)),
            dropped: Arc::new(AtomicU32::new(0)),
        })
        .await
        .unwrap();
    let caller = connect().await;
    let sums = SumsClient::new(caller.clone());

    let unsupported = |e: CallError<ApplicationError>| match e {
        CallError::Session(Error::Unsupported(m)) => {
            assert!(m.contains("progressive_call_invocations"), "{m}");
            m
        }
        other => panic!("expected Unsupported, got {other:?}"),
    };
    let err = within("crossbar", sums.sum(1, stream::iter([2, 3])))
        .await
        .unwrap_err();
    let msg = unsupported(err);
    assert!(msg.contains("the call's input cannot stream"), "{msg}");
    let mut running = sums.running(stream::iter([1, 2]));
    let first = within("crossbar", running.next()).await.unwrap();
    unsupported(first.unwrap_err());
    assert!(within("crossbar", running.next()).await.is_none());
    unsupported(within("crossbar", running.finish()).await.unwrap_err());

    let plain = within("crossbar", caller.call("com.sums.sum").arg(5))
        .await
        .unwrap();
    assert_eq!(plain.arg::<i64>(0).unwrap(), 5);
    attached.detach().await.unwrap();
}

/// The `rpc_stream_sum` example's pair over WebSocket (the examples suite
/// runs it in-process).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_sum_example_over_websocket() {
    use wamp_examples::rpc_stream_sum::{backend, check, frontend};
    let router = Router::new(RouterConfig::default().realm("realm1"));
    let l = router.listen_websocket("127.0.0.1:0").await.unwrap();
    let connect = url_connector(
        format!("ws://{}/ws", l.local_addr()),
        "realm1",
        Serializer::MsgPack,
    );
    let running = backend(connect().await, Duration::from_millis(50)).await.unwrap();
    let lines = within("example", frontend(connect().await, Duration::from_millis(50)))
        .await
        .unwrap();
    check(&lines).unwrap();
    assert!(
        running.lines().contains(&"sum: 115".to_string()),
        "{:?}",
        running.lines()
    );
    running.stop().await.unwrap();
}
