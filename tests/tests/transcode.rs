//! Mixed serializers through the embedded router, our client on each side:
//! the router never forwards a value the receiver's serializer would read
//! differently. The sender is told (CALL, acknowledged PUBLISH), an
//! unacknowledged event skips only the receivers that cannot take it, an
//! answer that cannot reach its caller fails the call with the cause, and
//! every session stays connected. Our client refuses, before sending, what
//! its own serializer cannot carry.

use std::time::Duration;

use wamp::router::{Router, RouterConfig};
use wamp::{ApplicationError, CallResult, Error, Payload, Serializer, Session, SessionConfig};
use wamp_proto::repr::{Unrepresentable, MAX_DEPTH};
use wamp_proto::{error_uri, Value};

const REALM: &str = "realm1";

struct Net {
    router: Router,
    url: String,
}

impl Net {
    async fn start() -> Net {
        Net::start_with(RouterConfig::default()).await
    }

    async fn start_with(config: RouterConfig) -> Net {
        let router = Router::new(config.realm(REALM));
        let ws = router.listen_websocket("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/ws", ws.local_addr());
        Net { router, url }
    }

    async fn join(&self, serializer: Serializer) -> Session {
        let config = SessionConfig {
            serializers: vec![serializer],
            ..Default::default()
        };
        Session::connect_with(&self.url, REALM, config).await.unwrap()
    }
}

fn nul_hello() -> Value {
    Value::Str("\0hello".into())
}

fn nested(depth: usize) -> Value {
    let mut v = Value::UInt(1);
    for _ in 0..depth {
        v = Value::List(vec![v]);
    }
    v
}

/// The `wamp.error.invalid_argument` message of an error.
fn invalid_argument(e: Error) -> String {
    match e.application() {
        Some(app) if app.error == error_uri::INVALID_ARGUMENT => app.message().unwrap_or_default().to_owned(),
        _ => panic!("expected {}, got {e:?}", error_uri::INVALID_ARGUMENT),
    }
}

async fn next_event(sub: &mut wamp::Subscription) -> wamp::Event {
    tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .expect("an event in time")
        .expect("subscription open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_only_receivers_that_can_decode_them() {
    let net = Net::start().await;
    let publisher = net.join(Serializer::MsgPack).await;
    let json = net.join(Serializer::Json).await;
    let cbor = net.join(Serializer::Cbor).await;
    let local = Session::join_local(&net.router, REALM).await.unwrap();
    let topic = "com.test.transcode.events";
    let mut subs = Vec::new();
    for s in [&json, &cbor, &local] {
        subs.push(s.subscribe(topic, Default::default()).await.unwrap());
    }
    let [_json, cbor_sub, local_sub] = &mut subs[..] else {
        unreachable!()
    };

    // Unacknowledged: delivered to those who can take it, not to JSON.
    publisher
        .publish(topic)
        .arg(nul_hello())
        .arg(f64::NAN)
        .await
        .unwrap();
    for sub in [&mut *cbor_sub, &mut *local_sub] {
        let ev = next_event(sub).await;
        assert_eq!(ev.args[0], nul_hello());
        assert!(matches!(ev.args[1], Value::Float(x) if x.is_nan()));
    }
    // Acknowledged: nobody gets it, the publisher hears why.
    let e = publisher
        .publish(topic)
        .kwarg("name", vec![Value::UInt(1), Value::UInt(2), nul_hello()])
        .acknowledge(true)
        .await
        .unwrap_err();
    let message = invalid_argument(e);
    assert!(
        message.starts_with("kwargs.name[2]: a text string starting with NUL"),
        "{message}"
    );
    assert!(message.contains("wamp.2.json"), "{message}");

    // Binary is binary everywhere; the JSON subscriber is still there and
    // the refused events never reached it.
    let bytes = Value::Bytes(vec![0, 1, 2, 255]);
    publisher
        .publish(topic)
        .arg(bytes.clone())
        .acknowledge(true)
        .await
        .unwrap();
    for sub in subs.iter_mut() {
        assert_eq!(next_event(sub).await.args, vec![bytes.clone()]);
    }
    for s in [&publisher, &json, &cbor, &local] {
        assert!(s.is_open());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_to_a_callee_that_cannot_decode_them_fail_with_the_position() {
    let net = Net::start().await;
    let callee = net.join(Serializer::Json).await;
    callee
        .register("com.test.transcode.echo", Default::default(), |inv| async move {
            Ok(CallResult {
                args: inv.args().clone(),
                kwargs: inv.kwargs().clone(),
            })
        })
        .await
        .unwrap();
    for ser in [Serializer::MsgPack, Serializer::Cbor] {
        let caller = net.join(ser).await;
        let e = caller
            .call("com.test.transcode.echo")
            .arg(nul_hello())
            .await
            .unwrap_err();
        let message = invalid_argument(e);
        assert!(
            message.starts_with("args[0]: a text string starting with NUL"),
            "{message}"
        );
        assert!(message.ends_with("which the callee uses"), "{message}");
        let e = caller
            .call("com.test.transcode.echo")
            .arg(1)
            .kwarg("x", f64::INFINITY)
            .await
            .unwrap_err();
        assert!(invalid_argument(e).starts_with("kwargs.x: the float inf"));
        // Binary and everything else still travels, both ways.
        let r = caller
            .call("com.test.transcode.echo")
            .arg(Value::Bytes(vec![0, 9]))
            .arg("a\0b")
            .await
            .unwrap();
        assert_eq!(r.args, vec![Value::Bytes(vec![0, 9]), Value::Str("a\0b".into())]);
    }
    assert!(callee.is_open());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_a_caller_cannot_decode_fail_the_call_with_the_cause() {
    let net = Net::start().await;
    let callee = net.join(Serializer::Cbor).await;
    callee
        .register("com.test.transcode.result", Default::default(), |_| async {
            Ok(CallResult::new().with_arg(nul_hello()))
        })
        .await
        .unwrap();
    callee
        .register("com.test.transcode.error", Default::default(), |_| async {
            Err::<CallResult, _>(ApplicationError::new("com.test.failed").with_kwarg("x", f64::NAN))
        })
        .await
        .unwrap();
    callee
        .register(
            "com.test.transcode.progress",
            Default::default(),
            |inv| async move {
                let progress = inv.progress.clone().expect("caller asked for progress");
                let _ = progress.send(CallResult::new().with_arg(nul_hello())).await;
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(CallResult::new())
            },
        )
        .await
        .unwrap();

    let caller = net.join(Serializer::Json).await;
    let e = caller.call("com.test.transcode.result").await.unwrap_err();
    let message = invalid_argument(e);
    assert!(
        message.starts_with("the callee's result: args[0]: a text string starting with NUL"),
        "{message}"
    );
    let e = caller.call("com.test.transcode.error").await.unwrap_err();
    let message = invalid_argument(e);
    assert!(
        message.starts_with("the callee's error \"com.test.failed\": kwargs.x: the float NaN"),
        "{message}"
    );
    let e = tokio::time::timeout(
        Duration::from_secs(5),
        caller
            .call("com.test.transcode.progress")
            .on_progress(|_| panic!("no progress can arrive")),
    )
    .await
    .expect("the call fails at once")
    .unwrap_err();
    assert!(invalid_argument(e).starts_with("the callee's progressive result: args[0]"));

    // A MessagePack caller takes all of it.
    let other = net.join(Serializer::MsgPack).await;
    let r = other.call("com.test.transcode.result").await.unwrap();
    assert_eq!(r.args, vec![nul_hello()]);
    assert!(caller.is_open() && callee.is_open());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_refuses_what_its_own_serializer_cannot_carry() {
    let net = Net::start().await;
    let json = net.join(Serializer::Json).await;
    let e = json
        .call("com.test.transcode.none")
        .arg(nul_hello())
        .await
        .unwrap_err();
    match e {
        Error::InvalidArgument(r) => {
            assert_eq!(r.position, "args[0]");
            assert_eq!(r.serializer, Serializer::Json);
            assert_eq!(r.reason, Unrepresentable::NulPrefixedString);
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    let e = json
        .publish("com.test.transcode.t")
        .kwarg("f", f64::NAN)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidArgument(r) if r.position == "kwargs.f"),
        "{e:?}"
    );
    // Too deep for any serializer: the router would not decode it.
    let msgpack = net.join(Serializer::MsgPack).await;
    let e = msgpack
        .publish("com.test.transcode.t")
        .arg(nested(MAX_DEPTH + 1))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidArgument(r) if r.reason == Unrepresentable::TooDeep),
        "{e:?}"
    );
    msgpack
        .publish("com.test.transcode.t")
        .arg(nested(MAX_DEPTH))
        .acknowledge(true)
        .await
        .unwrap();
    // A JSON callee whose handler answers what JSON cannot carry: the
    // caller hears why.
    json.register("com.test.transcode.bad", Default::default(), |_| async {
        Ok(CallResult::new().with_kwarg("v", f64::NEG_INFINITY))
    })
    .await
    .unwrap();
    let e = msgpack.call("com.test.transcode.bad").await.unwrap_err();
    let message = invalid_argument(e);
    assert!(
        message.starts_with("the callee's result: kwargs.v: the float -inf"),
        "{message}"
    );
    assert!(json.is_open() && msgpack.is_open());
}

/// Autobahn|Python peers on JSON, MessagePack and CBOR around our router
/// (`tests/python/mixed_serializers.py`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autobahn_python_peers_on_mixed_serializers() {
    let Some(python) = wamp_tests::python::venv_python() else {
        return;
    };
    let net = Net::start().await;
    let (ok, out) = wamp_tests::python::run_script(
        &python,
        "mixed_serializers.py",
        &["--url", &net.url, "--realm", REALM],
        Duration::from_secs(120),
    )
    .await;
    eprintln!("--- mixed_serializers.py ---\n{out}");
    assert!(ok, "Autobahn|Python mixed-serializer checks failed:\n{out}");
}

/// A URI is a name, never binary: a topic, procedure or callee error URI
/// with a control character (a JSON string starting with NUL is read as
/// binary by JSON peers) is refused as invalid whatever the serializers,
/// so it cannot reach a JSON peer through the same serializer either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uris_with_control_characters_never_travel() {
    let net = Net::start().await;
    let json = net.join(Serializer::Json).await;
    let observer = net.join(Serializer::Json).await;
    let mut prefix = observer
        .subscribe(
            "com",
            wamp::SubscribeOptions {
                match_policy: Some(wamp::MatchPolicy::Prefix),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for topic in ["\0com.test", "com.\0test", "com.te\u{1}st"] {
        // Our client refuses before sending ...
        assert!(
            matches!(
                json.publish(topic).acknowledge(true).await,
                Err(Error::InvalidUri(_))
            ),
            "{topic:?}"
        );
        assert!(
            matches!(json.call(topic).await, Err(Error::InvalidUri(_))),
            "{topic:?}"
        );
    }
    // ... and the router refuses what a raw JSON peer sends.
    let raw_refusals = raw_json_exchange(
        &net.url,
        &[
            r#"[16, 7, {"acknowledge": true}, "\u0000com.test", [1]]"#,
            r#"[48, 8, {}, "com.te\u0001st", []]"#,
            r#"[32, 9, {}, "com.\u0000"]"#,
        ],
    )
    .await;
    assert_eq!(raw_refusals.len(), 3, "{raw_refusals:?}");
    for (reply, (ty, request)) in raw_refusals.iter().zip([(16, 7), (48, 8), (32, 9)]) {
        assert_eq!(reply[0], serde_json::json!(8), "{reply}");
        assert_eq!(reply[1], serde_json::json!(ty), "{reply}");
        assert_eq!(reply[2], serde_json::json!(request), "{reply}");
        assert_eq!(reply[4], serde_json::json!(error_uri::INVALID_URI), "{reply}");
    }
    // A callee on JSON answering a JSON caller with such an error URI: the
    // call fails with the cause instead (our callee's client refuses to
    // send it; the router would refuse it too, `Dealer::on_invocation_error`).
    let callee = net.join(Serializer::Json).await;
    callee
        .register("com.test.bad_error", Default::default(), |_| async {
            Err(ApplicationError::new("\0com.error"))
        })
        .await
        .unwrap();
    let message = invalid_argument(json.call("com.test.bad_error").await.unwrap_err());
    assert!(message.contains("com.error"), "{message}");
    // Nothing reached the prefix subscriber, and everyone is still there.
    json.publish("com.test.after")
        .arg(1)
        .acknowledge(true)
        .await
        .unwrap();
    assert_eq!(next_event(&mut prefix).await.topic, "com.test.after");
    assert!(json.is_open() && observer.is_open() && callee.is_open());
}

/// Joins realm1 over a raw WebSocket (JSON), sends `frames`, and returns as
/// many replies as frames were sent, as JSON values.
async fn raw_json_exchange(url: &str, frames: &[&str]) -> Vec<serde_json::Value> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    use tokio_tungstenite::tungstenite::Message as Ws;

    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("wamp.2.json"));
    let (mut raw, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let read = async |raw: &mut tokio_tungstenite::WebSocketStream<_>| loop {
        match tokio::time::timeout(Duration::from_secs(10), raw.next()).await {
            Ok(Some(Ok(Ws::Text(t)))) => return serde_json::from_str::<serde_json::Value>(&t).unwrap(),
            Ok(Some(Ok(_))) => continue,
            other => panic!("no reply: {other:?}"),
        }
    };
    raw.send(Ws::text(
        r#"[1, "realm1", {"roles": {"caller": {}, "publisher": {}, "subscriber": {}}}]"#,
    ))
    .await
    .unwrap();
    assert_eq!(read(&mut raw).await[0], serde_json::json!(2), "WELCOME");
    let mut replies = Vec::new();
    for frame in frames {
        raw.send(Ws::text(*frame)).await.unwrap();
        replies.push(read(&mut raw).await);
    }
    replies
}

/// A router writes every message as one WebSocket frame, or past
/// `TransportConfig::max_frame_written` as several, and so does a client:
/// a 1 MiB text and a 1 MiB binary argument come back whole, between every
/// pair of serializers, fragmented by the router and by the client or not,
/// with characters of one to three bytes cut by the frame boundaries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_messages_cross_whole_in_fragments() {
    let mut fragmenting_router = RouterConfig::default();
    fragmenting_router.transport.max_frame_written = Some(64 * 1024);
    for router_config in [RouterConfig::default(), fragmenting_router] {
        large_messages_cross_whole(Net::start_with(router_config).await).await;
    }
}

async fn large_messages_cross_whole(net: Net) {
    let text = "aé€".repeat((1 << 20) / 6);
    let data: Vec<u8> = (0..(1u32 << 20)).map(|i| (i % 251) as u8).collect();
    let fragmenting = |serializer| {
        let mut config = SessionConfig {
            serializers: vec![serializer],
            ..Default::default()
        };
        config.transport.max_frame_written = Some(16 * 1024);
        Session::connect_with(&net.url, REALM, config)
    };
    for callee_ser in [Serializer::Json, Serializer::MsgPack] {
        let callee = net.join(callee_ser).await;
        let proc = format!("com.test.big.{callee_ser:?}").to_lowercase();
        callee
            .register(&proc, Default::default(), |inv| async move {
                Ok(CallResult::new()
                    .with_arg(inv.args[0].clone())
                    .with_arg(inv.args[1].clone()))
            })
            .await
            .unwrap();
        for (caller_ser, fragments) in [
            (Serializer::Json, false),
            (Serializer::MsgPack, false),
            (Serializer::Json, true),
            (Serializer::MsgPack, true),
        ] {
            let caller = if fragments {
                fragmenting(caller_ser).await.unwrap()
            } else {
                net.join(caller_ser).await
            };
            let back = caller
                .call(&proc)
                .arg(text.clone())
                .arg(Value::Bytes(data.clone()))
                .await
                .unwrap_or_else(|e| panic!("{caller_ser:?} -> {callee_ser:?}: {e}"));
            assert_eq!(
                back.arg::<String>(0).unwrap(),
                text,
                "{caller_ser:?} -> {callee_ser:?}"
            );
            assert_eq!(
                back.args[1],
                Value::Bytes(data.clone()),
                "{caller_ser:?} -> {callee_ser:?}"
            );
        }
    }
}
