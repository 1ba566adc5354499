//! Progressive call invocations through the router, on the wire: raw
//! in-process peers send and read the messages themselves (our client on
//! both ends: `progressive_call_client.rs`). A caller's CALLs with one request ID reach
//! the callee of the first as INVOCATIONs with one request ID, with
//! progressive results flowing back meanwhile; cancel, timeout and a
//! leaving callee end the call mid-stream; late chunks are dropped; peers
//! that did not announce the feature are refused as the spec says.

use std::time::Duration;

use wamp::proto::transport::Connection;
use wamp::proto::{msg, CallOptions, CancelMode, CancelOptions, Dict, Message, MessageType, Payload, Value};
use wamp::router::{Router, RouterConfig};
use wamp::{error_uri, Id};

const WAIT: Duration = Duration::from_secs(10);
const URI: &str = "com.example.upload";

struct Peer {
    conn: Connection,
}

impl Peer {
    /// Joins realm1, announcing `features` for the caller and callee roles.
    async fn join(router: &Router, features: &[&str]) -> Peer {
        let mut f = Dict::new();
        for name in features {
            f.insert((*name).into(), Value::Bool(true));
        }
        let mut role = Dict::new();
        role.insert("features".into(), Value::Dict(f));
        let mut roles = Dict::new();
        roles.insert("caller".into(), Value::Dict(role.clone()));
        roles.insert("callee".into(), Value::Dict(role));
        let mut peer = Peer {
            conn: router.connect_local(),
        };
        peer.send(msg::Hello {
            realm: "realm1".into(),
            details: wamp::proto::HelloDetails {
                roles: Some(roles),
                ..Default::default()
            },
        })
        .await;
        assert!(matches!(peer.recv().await, Message::Welcome(_)));
        peer
    }

    async fn send(&mut self, m: impl Into<Message>) {
        self.conn.sender.send(m.into()).await.unwrap();
    }

    async fn recv(&mut self) -> Message {
        tokio::time::timeout(WAIT, self.conn.receiver.recv())
            .await
            .expect("a message in time")
            .expect("the connection is open")
    }

    async fn register(&mut self) -> Id {
        self.send(msg::Register {
            request: 1,
            options: Default::default(),
            procedure: URI.into(),
        })
        .await;
        match self.recv().await {
            Message::Registered(r) => r.registration,
            other => panic!("expected REGISTERED, got {other:?}"),
        }
    }

    /// Sends a chunk (`more`: with `progress`) of call `request`.
    async fn chunk(&mut self, request: Id, n: u64, more: bool, options: CallOptions) {
        let options = CallOptions {
            progress: more.then_some(true),
            ..options
        };
        self.send(msg::Call {
            request,
            options,
            procedure: URI.into(),
            payload: Payload::new(vec![Value::UInt(n)], Dict::new()),
        })
        .await;
    }

    /// Expects an INVOCATION: gives its request, first argument and
    /// whether it has `progress`.
    async fn invocation(&mut self) -> (Id, u64, bool) {
        match self.recv().await {
            Message::Invocation(i) => {
                let (args, _) = i.payload.into_values().unwrap();
                (
                    i.request,
                    args[0].as_u64().unwrap(),
                    i.details.progress == Some(true),
                )
            }
            other => panic!("expected INVOCATION, got {other:?}"),
        }
    }

    /// Calls a procedure nobody registered: the answer is a marker that
    /// everything sent before was handled.
    async fn marker(&mut self, request: Id) {
        self.send(msg::Call {
            request,
            options: Default::default(),
            procedure: "com.example.nobody".into(),
            payload: Payload::default(),
        })
        .await;
        match self.recv().await {
            Message::Error(e) if e.request == request => {
                assert_eq!(e.error, error_uri::NO_SUCH_PROCEDURE)
            }
            other => panic!("expected the marker's ERROR, got {other:?}"),
        }
    }
}

const FEATURES: &[&str] = &["progressive_call_invocations", "call_canceling"];

fn router() -> Router {
    Router::new(RouterConfig::default().realm("realm1"))
}

fn error_of(m: Message) -> (MessageType, Id, String) {
    match m {
        Message::Error(e) => (e.request_type, e.request, e.error),
        other => panic!("expected ERROR, got {other:?}"),
    }
}

/// Chunks go to the callee as INVOCATIONs with one request ID, `progress`
/// on all but the last; progressive results flow back meanwhile (a
/// two-way stream); a chunk after the end is dropped.
#[tokio::test]
async fn chunks_stream_in_and_results_stream_out() {
    let router = router();
    let mut callee = Peer::join(&router, FEATURES).await;
    let mut caller = Peer::join(&router, FEATURES).await;
    let registration = callee.register().await;
    let two_way = CallOptions {
        receive_progress: Some(true),
        ..Default::default()
    };
    caller.chunk(7, 0, true, two_way.clone()).await;
    let (invocation, n, more) = callee.invocation().await;
    assert_eq!((n, more), (0, true));
    // A progressive result while the input still streams.
    callee
        .send(msg::Yield {
            request: invocation,
            options: wamp::proto::YieldOptions {
                progress: Some(true),
                ..Default::default()
            },
            payload: Payload::new(vec![Value::Str("got 0".into())], Dict::new()),
        })
        .await;
    match caller.recv().await {
        Message::Result(r) => assert_eq!((r.request, r.details.progress), (7, Some(true))),
        other => panic!("expected a progressive RESULT, got {other:?}"),
    }
    caller.chunk(7, 1, true, Default::default()).await;
    caller.chunk(7, 2, false, Default::default()).await;
    assert_eq!(callee.invocation().await, (invocation, 1, true));
    assert_eq!(callee.invocation().await, (invocation, 2, false));
    callee
        .send(msg::Yield {
            request: invocation,
            options: Default::default(),
            payload: Payload::new(vec![Value::UInt(3)], Dict::new()),
        })
        .await;
    match caller.recv().await {
        Message::Result(r) => {
            assert_eq!((r.request, r.details.progress), (7, None));
            assert_eq!(r.payload.into_values().unwrap().0, vec![Value::UInt(3)]);
        }
        other => panic!("expected the final RESULT, got {other:?}"),
    }
    // Late: dropped without an answer, never taken for a new call.
    caller.chunk(7, 9, true, Default::default()).await;
    caller.marker(8).await;
    let _ = registration;
}

/// A cancel mid-stream interrupts the callee and answers the caller;
/// chunks after it are dropped.
#[tokio::test]
async fn cancel_mid_stream() {
    let router = router();
    let mut callee = Peer::join(&router, FEATURES).await;
    let mut caller = Peer::join(&router, FEATURES).await;
    callee.register().await;
    caller.chunk(1, 0, true, Default::default()).await;
    let (invocation, _, _) = callee.invocation().await;
    caller
        .send(msg::Cancel {
            request: 1,
            options: CancelOptions {
                mode: Some(CancelMode::KillNoWait),
                ..Default::default()
            },
        })
        .await;
    match callee.recv().await {
        Message::Interrupt(i) => assert_eq!(i.request, invocation),
        other => panic!("expected INTERRUPT, got {other:?}"),
    }
    assert_eq!(
        error_of(caller.recv().await),
        (MessageType::Call, 1, error_uri::CANCELED.into())
    );
    caller.chunk(1, 1, true, Default::default()).await;
    caller.chunk(1, 2, false, Default::default()).await;
    caller.marker(2).await;
    // Nothing reached the callee after the INTERRUPT: its next message is
    // the INVOCATION of a new call.
    caller.chunk(3, 5, false, Default::default()).await;
    let (_, n, more) = callee.invocation().await;
    assert_eq!((n, more), (5, false));
}

/// The call's timeout runs from its first CALL, whatever still streams.
#[tokio::test]
async fn timeout_mid_stream() {
    let router = router();
    let mut callee = Peer::join(&router, FEATURES).await;
    let mut caller = Peer::join(&router, FEATURES).await;
    callee.register().await;
    let timeout = CallOptions {
        timeout: Some(100),
        ..Default::default()
    };
    caller.chunk(1, 0, true, timeout).await;
    let (invocation, _, _) = callee.invocation().await;
    assert_eq!(
        error_of(caller.recv().await),
        (MessageType::Call, 1, error_uri::TIMEOUT.into())
    );
    match callee.recv().await {
        Message::Interrupt(i) => assert_eq!(i.request, invocation),
        other => panic!("expected INTERRUPT, got {other:?}"),
    }
}

/// A callee that leaves mid-stream fails the call at once.
#[tokio::test]
async fn callee_leaving_mid_stream() {
    let router = router();
    let mut callee = Peer::join(&router, FEATURES).await;
    let mut caller = Peer::join(&router, FEATURES).await;
    callee.register().await;
    caller.chunk(1, 0, true, Default::default()).await;
    callee.invocation().await;
    callee.conn.closer.close();
    assert_eq!(
        error_of(caller.recv().await),
        (MessageType::Call, 1, error_uri::CANCELED.into())
    );
}

/// The spec's refusals: a callee without the feature (or without call
/// canceling) makes it `wamp.error.feature_not_supported`; a caller that
/// did not announce it is aborted.
#[tokio::test]
async fn peers_without_the_feature_are_refused() {
    let router = router();
    let mut callee = Peer::join(&router, &["call_canceling"]).await;
    let mut caller = Peer::join(&router, FEATURES).await;
    callee.register().await;
    caller.chunk(1, 0, true, Default::default()).await;
    assert_eq!(
        error_of(caller.recv().await),
        (MessageType::Call, 1, error_uri::FEATURE_NOT_SUPPORTED.into())
    );
    // A plain call still works.
    caller.chunk(2, 0, false, Default::default()).await;
    assert!(!callee.invocation().await.2, "a plain call has no progress");

    let mut unannounced = Peer::join(&router, &[]).await;
    unannounced.chunk(1, 0, true, Default::default()).await;
    match unannounced.recv().await {
        Message::Abort(a) => assert_eq!(a.reason, error_uri::PROTOCOL_VIOLATION),
        other => panic!("expected ABORT, got {other:?}"),
    }
}

/// A continuation must name the procedure of its first CALL: another one
/// is a protocol error, and the session is aborted.
#[tokio::test]
async fn a_continuation_naming_another_procedure_aborts() {
    let router = router();
    let mut callee = Peer::join(&router, FEATURES).await;
    let mut caller = Peer::join(&router, FEATURES).await;
    callee.register().await;
    caller.chunk(1, 0, true, Default::default()).await;
    callee.invocation().await;
    caller
        .send(msg::Call {
            request: 1,
            options: Default::default(),
            procedure: "com.example.other".into(),
            payload: Payload::default(),
        })
        .await;
    match caller.recv().await {
        Message::Abort(a) => assert_eq!(a.reason, error_uri::PROTOCOL_VIOLATION),
        other => panic!("expected ABORT, got {other:?}"),
    }
    // Its call ended with it: the callee is told.
    match callee.recv().await {
        Message::Interrupt(_) => {}
        other => panic!("expected INTERRUPT, got {other:?}"),
    }
}
