//! The RFC 6455 status code a WebSocket connection closes with says why it
//! ended: 1000 normal, 1002 protocol error, 1007 a payload that is no WAMP
//! message, 1009 a message over the limit. A raw tokio-tungstenite client
//! plays the peer, sending what a well-behaved client would not.

use std::future::Future;
use std::time::Duration;
use wamp_proto::msg;

use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use wamp_proto::error_uri::{GOODBYE_AND_OUT, PROTOCOL_VIOLATION};
use wamp_proto::transport::{websocket, Connection, TransportConfig, TransportError};
use wamp_proto::{Message, Serializer};

type Raw = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Fails the test instead of hanging when `fut` takes over 20 s.
async fn within<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .expect("timed out")
}

/// A server connection speaking `ser` with `max_message_size` bytes at
/// most, and a raw client connected to it.
async fn connect_raw(ser: Serializer, max_message_size: usize) -> (Raw, Connection) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cfg = TransportConfig {
        max_message_size,
        ..Default::default()
    };
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        websocket::accept(stream, &[ser], &cfg, None).await
    });
    let mut request = format!("ws://{addr}/").into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(ser.subprotocol()),
    );
    let (raw, _) = within(tokio_tungstenite::connect_async(request)).await.unwrap();
    let server = within(server).await.unwrap().expect("server handshake");
    (raw, server)
}

/// Plays the router's part on the server connection: reads until the
/// connection ends, answers a payload it cannot decode with an ABORT
/// (as the router and the client do), then lets the connection go.
fn serve_like_a_router(mut server: Connection) -> JoinHandle<Option<TransportError>> {
    tokio::spawn(async move {
        while server.receiver.recv().await.is_some() {}
        let reason = server.close_reason.get();
        if let Some(TransportError::Decode(e)) = &reason {
            let abort = Message::abort(PROTOCOL_VIOLATION, e.to_string());
            server.sender.send(abort).await.unwrap();
        }
        reason
    })
}

/// Reads what the server sends until its close frame, returning the
/// messages before it and the frame.
async fn until_close(raw: &mut Raw) -> (Vec<Ws>, CloseFrame) {
    let mut before = Vec::new();
    loop {
        match within(raw.next()).await {
            Some(Ok(Ws::Close(Some(frame)))) => return (before, frame),
            Some(Ok(other)) => before.push(other),
            end => panic!("connection ended without a close frame: {end:?} after {before:?}"),
        }
    }
}

/// A masked client frame (mask key 0, so the payload is as given) with
/// the first header byte `first` (FIN, RSV bits, opcode).
fn raw_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126, "short frames only");
    let mut frame = vec![first, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(payload);
    frame
}

#[tokio::test]
async fn undecodable_json_closes_with_1007_after_the_abort() {
    let (mut raw, server) = connect_raw(Serializer::Json, 1024).await;
    let session = serve_like_a_router(server);
    raw.send(Ws::Text(r#"[48,1,{"timeout":"soon"},"p"]"#.into()))
        .await
        .unwrap();
    let (before, frame) = until_close(&mut raw).await;
    assert_eq!(frame.code, CloseCode::Invalid, "{frame}");
    assert!(frame.reason.contains("timeout"), "{frame}");
    // The ABORT went first: the session said why, then the socket did.
    match before.as_slice() {
        [Ws::Text(t)] => {
            let abort = Serializer::Json.decode(t.as_bytes()).unwrap();
            assert!(
                matches!(&abort, Message::Abort(msg::Abort { reason, .. }) if reason == PROTOCOL_VIOLATION)
            );
        }
        other => panic!("expected one ABORT before the close: {other:?}"),
    }
    assert!(matches!(
        within(session).await.unwrap(),
        Some(TransportError::Decode(_))
    ));
}

#[tokio::test]
async fn trailing_bytes_in_msgpack_and_cbor_close_with_1007() {
    for ser in [Serializer::MsgPack, Serializer::Cbor] {
        let (mut raw, server) = connect_raw(ser, 1024).await;
        let session = serve_like_a_router(server);
        let mut bytes = ser.encode(&Message::goodbye("wamp.close.normal")).unwrap();
        bytes.extend_from_slice(&[1, 2]);
        raw.send(Ws::Binary(bytes.into())).await.unwrap();
        let (before, frame) = until_close(&mut raw).await;
        assert_eq!(frame.code, CloseCode::Invalid, "{ser}: {frame}");
        assert!(
            frame.reason.contains("2 trailing bytes after the message"),
            "{ser}: {frame}"
        );
        assert_eq!(before.len(), 1, "{ser}: the ABORT: {before:?}");
        match within(session).await.unwrap() {
            Some(TransportError::Decode(e)) => assert_eq!(e.serializer, ser),
            other => panic!("{ser}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_closes_with_1007() {
    let (mut raw, server) = connect_raw(Serializer::Json, 1024).await;
    let session = serve_like_a_router(server);
    // FIN + text, with a lone continuation byte: no UTF-8 at all.
    let frame = raw_frame(0x81, b"[1,\"\x80\"]");
    raw.get_mut().write_all(&frame).await.unwrap();
    let (_, frame) = until_close(&mut raw).await;
    assert_eq!(frame.code, CloseCode::Invalid, "{frame}");
    assert!(frame.reason.contains("UTF-8"), "{frame}");
    match within(session).await.unwrap() {
        Some(TransportError::Decode(e)) => assert!(e.reason.contains("not valid UTF-8"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_message_over_the_limit_closes_with_1009() {
    for ser in [Serializer::Json, Serializer::MsgPack] {
        let (mut raw, server) = connect_raw(ser, 1024).await;
        let session = serve_like_a_router(server);
        let big = vec![b'x'; 4000];
        let msg = if ser.is_binary() {
            Ws::Binary(big.into())
        } else {
            Ws::Text(String::from_utf8(big).unwrap().into())
        };
        raw.send(msg).await.unwrap();
        let (before, frame) = until_close(&mut raw).await;
        assert_eq!(frame.code, CloseCode::Size, "{ser}: {frame}");
        assert!(before.is_empty(), "{ser}: {before:?}");
        match within(session).await.unwrap() {
            Some(TransportError::TooLarge { size, max }) => {
                assert_eq!(max, 1024, "{ser}");
                assert!(size > max, "{ser}: {size}");
            }
            other => panic!("{ser}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_frame_breaking_websocket_rules_closes_with_1002() {
    // A text frame with RSV1 set (no extension was negotiated), and a
    // continuation frame with nothing to continue.
    for first in [0x81 | 0x40, 0x80] {
        let (mut raw, server) = connect_raw(Serializer::Json, 1024).await;
        let session = serve_like_a_router(server);
        raw.get_mut()
            .write_all(&raw_frame(first, b"[6,{},\"x\"]"))
            .await
            .unwrap();
        let (_, frame) = until_close(&mut raw).await;
        assert_eq!(frame.code, CloseCode::Protocol, "{first:#x}: {frame}");
        assert!(frame.reason.contains("protocol"), "{first:#x}: {frame}");
        match within(session).await.unwrap() {
            Some(TransportError::Io(m)) => assert!(m.contains("WebSocket protocol error"), "{m}"),
            other => panic!("{first:#x}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_abort_for_a_protocol_violation_closes_with_1002() {
    let (mut raw, mut server) = connect_raw(Serializer::Json, 1024).await;
    // A well-formed message the session refuses (a CALL before HELLO, say).
    raw.send(Ws::Text(r#"[48,1,{},"p"]"#.into())).await.unwrap();
    assert!(matches!(
        within(server.receiver.recv()).await,
        Some(Message::Call(_))
    ));
    let abort = Message::abort(PROTOCOL_VIOLATION, "CALL before HELLO");
    server.sender.send(abort).await.unwrap();
    drop(server);
    let (before, frame) = until_close(&mut raw).await;
    assert_eq!(frame.code, CloseCode::Protocol, "{frame}");
    assert_eq!(before.len(), 1, "the ABORT: {before:?}");
}

#[tokio::test]
async fn a_session_that_ends_normally_closes_with_1000() {
    let (mut raw, server) = connect_raw(Serializer::Json, 1024).await;
    server
        .sender
        .send(Message::goodbye(GOODBYE_AND_OUT))
        .await
        .unwrap();
    drop(server);
    let (before, frame) = until_close(&mut raw).await;
    assert_eq!(frame.code, CloseCode::Normal, "{frame}");
    assert_eq!(frame.reason.as_str(), "");
    assert_eq!(before.len(), 1, "the GOODBYE: {before:?}");
    // Other ABORTs (no such realm, say) are a normal close too.
    let (mut raw, server) = connect_raw(Serializer::MsgPack, 1024).await;
    let abort = Message::abort("wamp.error.no_such_realm", "no realm r");
    server.sender.send(abort).await.unwrap();
    drop(server);
    let (_, frame) = until_close(&mut raw).await;
    assert_eq!(frame.code, CloseCode::Normal, "{frame}");
}

#[tokio::test]
async fn the_close_reason_is_cut_to_fit_a_control_frame() {
    // The decode error quotes the string where an ID belongs: far over the
    // 123 bytes of text a close frame has room for, with two-byte
    // characters where the cut falls (at either parity).
    for pad in [60, 61] {
        let (mut raw, server) = connect_raw(Serializer::Json, 4096).await;
        let session = serve_like_a_router(server);
        let id = format!("{}{}", "a".repeat(pad), "é".repeat(200));
        raw.send(Ws::Text(format!(r#"[48,"{id}",{{}},"p"]"#).into()))
            .await
            .unwrap();
        let (_, frame) = until_close(&mut raw).await;
        assert_eq!(frame.code, CloseCode::Invalid, "{frame}");
        assert!(frame
            .reason
            .starts_with("malformed wamp.2.json message: invalid type: string"));
        assert!((122..=123).contains(&frame.reason.len()), "{pad}: {frame}");
        assert!(frame.reason.ends_with('é'), "{pad}: {frame}");
        assert!(within(session).await.unwrap().is_some());
    }
}
