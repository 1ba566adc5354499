//! WebSocket and in-process transports over real sockets on 127.0.0.1; the
//! RawSocket tests are in `transports_rawsocket.rs`.

mod common;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use wamp_proto::msg;

use common::sample_messages;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use wamp_proto::transport::{
    local, websocket, Connection, QueueLimits, TransportConfig, TransportError, TransportKind,
};
use wamp_proto::{Message, Serializer, Value};

/// Fails the test instead of hanging when `fut` takes over 20 s.
async fn within<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .expect("timed out")
}

/// Accepts one WebSocket connection speaking one of `serializers`.
async fn ws_server(
    serializers: &'static [Serializer],
    cfg: TransportConfig,
) -> (SocketAddr, JoinHandle<Result<Connection, TransportError>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (stream, peer) = listener.accept().await.unwrap();
        websocket::tune_tcp(&stream);
        websocket::accept(stream, serializers, &cfg, Some(peer.to_string())).await
    });
    (addr, task)
}

/// A connected (client, server) pair.
async fn ws_pair(
    client_offers: &[Serializer],
    server_speaks: &'static [Serializer],
) -> (Connection, Connection) {
    let (addr, server) = ws_server(server_speaks, TransportConfig::default()).await;
    let url = format!("ws://{addr}/ws");
    let client = within(websocket::connect(
        &url,
        client_offers,
        &TransportConfig::default(),
    ))
    .await
    .expect("client handshake");
    let server = within(server).await.unwrap().expect("server handshake");
    assert_eq!(client.kind, TransportKind::WebSocket);
    assert_eq!(server.kind, TransportKind::WebSocket);
    assert_eq!(client.peer.as_deref(), Some(url.as_str()));
    assert!(server.peer.as_deref().unwrap().starts_with("127.0.0.1:"));
    (client, server)
}

/// Sends every sample message from `a` to `b` and checks they arrive in order.
async fn exchange(a: &Connection, b: &mut Connection) {
    for msg in sample_messages() {
        within(a.sender.send(msg)).await.unwrap();
    }
    for expected in sample_messages() {
        let got = within(b.receiver.recv()).await.expect("connection ended early");
        assert_eq!(got, expected);
    }
}

fn call_with_arg(request: u64, arg: Value) -> Message {
    Message::from(msg::Call {
        request,
        options: Default::default(),
        procedure: "com.myapp.big".into(),
        payload: wamp_proto::Payload::new(vec![arg], Default::default()),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_carries_messages_both_ways_with_each_serializer() {
    for ser in [Serializer::Json, Serializer::MsgPack] {
        let (mut client, mut server) = ws_pair(&[ser], &[Serializer::Json, Serializer::MsgPack]).await;
        assert_eq!(client.serializer, Some(ser));
        assert_eq!(server.serializer, Some(ser));
        exchange(&client, &mut server).await;
        exchange(&server, &mut client).await;
        // Dropping the client's sender closes the connection; the server sees
        // the end of its receiver, with Closed as the reason.
        drop(client.sender);
        assert_eq!(within(server.receiver.recv()).await, None);
        assert!(
            matches!(server.close_reason.get(), Some(TransportError::Closed)),
            "{:?}",
            server.close_reason.get()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_subprotocol_negotiation() {
    // The client's order of preference wins among what the server speaks.
    let (client, server) = ws_pair(
        &[Serializer::MsgPack, Serializer::Json],
        &[Serializer::Json, Serializer::MsgPack],
    )
    .await;
    assert_eq!(client.serializer, Some(Serializer::MsgPack));
    assert_eq!(server.serializer, Some(Serializer::MsgPack));

    // A JSON-only server.
    let (mut client, mut server) =
        ws_pair(&[Serializer::MsgPack, Serializer::Json], &[Serializer::Json]).await;
    assert_eq!(client.serializer, Some(Serializer::Json));
    assert_eq!(server.serializer, Some(Serializer::Json));
    exchange(&client, &mut server).await;
    exchange(&server, &mut client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_without_a_common_serializer_fails_the_handshake() {
    let (addr, server) = ws_server(&[Serializer::Json], TransportConfig::default()).await;
    let err = within(websocket::connect(
        &format!("ws://{addr}/"),
        &[Serializer::MsgPack],
        &TransportConfig::default(),
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(&err, TransportError::Handshake(m) if m.contains("400")),
        "{err:?}"
    );
    let err = within(server).await.unwrap().unwrap_err();
    // (The server's error does not say why; the reason is only in the body
    // of its 400 response.)
    assert!(
        matches!(&err, TransportError::Handshake(m) if m.contains("400")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_client_offering_only_an_unknown_protocol_is_refused() {
    let (addr, server) = ws_server(
        &[Serializer::Json, Serializer::MsgPack],
        TransportConfig::default(),
    )
    .await;
    let mut request = format!("ws://{addr}/").into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("wamp.2.flatbuffers"),
    );
    let client = within(tokio_tungstenite::connect_async(request)).await;
    let Err(err) = client else {
        panic!("the server must refuse the upgrade")
    };
    assert!(err.to_string().contains("400"), "{err}");
    let err = within(server).await.unwrap().unwrap_err();
    assert!(
        matches!(&err, TransportError::Handshake(m) if m.contains("400")),
        "{err:?}"
    );

    // No Sec-WebSocket-Protocol header at all.
    let (addr, server) = ws_server(&[Serializer::Json], TransportConfig::default()).await;
    assert!(within(tokio_tungstenite::connect_async(format!("ws://{addr}/")))
        .await
        .is_err());
    assert!(matches!(
        within(server).await.unwrap(),
        Err(TransportError::Handshake(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_message_above_the_limit_closes_the_receiver() {
    for ser in [Serializer::Json, Serializer::MsgPack] {
        let small = TransportConfig {
            max_message_size: 1024,
            ..Default::default()
        };
        let (addr, server) = ws_server(&[Serializer::Json, Serializer::MsgPack], small).await;
        let url = format!("ws://{addr}/");
        let client = within(websocket::connect(&url, &[ser], &TransportConfig::default()))
            .await
            .unwrap();
        let mut server = within(server).await.unwrap().unwrap();

        let fits = call_with_arg(1, Value::Str("x".repeat(100)));
        let too_big = call_with_arg(2, Value::Str("x".repeat(4000)));
        client.sender.send(fits.clone()).await.unwrap();
        client.sender.send(too_big).await.unwrap();
        assert_eq!(within(server.receiver.recv()).await, Some(fits));
        assert_eq!(within(server.receiver.recv()).await, None);
        match server.close_reason.get() {
            Some(TransportError::TooLarge { size, max }) => assert!(size > max && max == 1024),
            Some(TransportError::Io(m)) => assert!(m.contains("too long") || m.contains("limit"), "{m}"),
            other => panic!("{ser}: unexpected close reason {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_undecodable_message_ends_the_receiver_with_a_decode_error() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message as Ws;
    let (addr, server) = ws_server(&[Serializer::Json], TransportConfig::default()).await;
    let mut request = format!("ws://{addr}/").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("wamp.2.json"));
    let (mut raw, _) = within(tokio_tungstenite::connect_async(request)).await.unwrap();
    let mut server = within(server).await.unwrap().unwrap();
    raw.send(Ws::Text(r#"[17,1,2]"#.into())).await.unwrap();
    raw.send(Ws::Text(r#"[48,1,{"timeout":"soon"},"p"]"#.into()))
        .await
        .unwrap();
    assert_eq!(
        within(server.receiver.recv()).await,
        Some(Message::Published(msg::Published {
            request: 1,
            publication: 2
        }))
    );
    assert_eq!(within(server.receiver.recv()).await, None);
    match server.close_reason.get() {
        Some(TransportError::Decode(e)) => {
            assert_eq!(e.serializer, Serializer::Json);
            assert!(e.reason.contains("timeout"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_pair_carries_messages_without_serializing() {
    let (mut a, mut b) = local::pair(QueueLimits::new(4, 1 << 20));
    for end in [&a, &b] {
        assert_eq!(end.kind, TransportKind::Local);
        assert_eq!(end.serializer, None);
        assert_eq!(end.peer, None);
    }
    // More messages than the capacity: the sender waits for the receiver.
    let sender = a.sender.clone();
    let pump = tokio::spawn(async move {
        for msg in sample_messages() {
            sender.send(msg).await.unwrap();
        }
    });
    for expected in sample_messages() {
        assert_eq!(within(b.receiver.recv()).await, Some(expected));
    }
    within(pump).await.unwrap();
    for msg in sample_messages() {
        b.sender.send(msg.clone()).await.unwrap();
        assert_eq!(a.receiver.recv().await, Some(msg));
    }
    // Binary values stay binary: nothing is serialized.
    let msg = call_with_arg(1, Value::Bytes(vec![0, 159, 146, 150]));
    a.sender.send(msg.clone()).await.unwrap();
    assert_eq!(b.receiver.recv().await, Some(msg));
    // Dropping one end's sender ends the other end's receiver.
    drop(a.sender);
    assert_eq!(within(b.receiver.recv()).await, None);
    assert!(b.close_reason.get().is_none());
}
