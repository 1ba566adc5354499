//! RawSocket over TCP on 127.0.0.1: handshakes, framing, limits, and peers
//! that misbehave.

mod common;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use wamp_proto::msg;

use common::sample_messages;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use wamp_proto::transport::rawsocket::{self, MAGIC};
use wamp_proto::transport::{Connection, TransportConfig, TransportError, TransportKind};
use wamp_proto::{Message, Serializer, Value};

const BOTH: &[Serializer] = &[Serializer::Json, Serializer::MsgPack];
const JSON_ONLY: &[Serializer] = &[Serializer::Json];

/// Fails the test instead of hanging when `fut` takes over 60 s.
async fn within<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), fut)
        .await
        .expect("timed out")
}

/// Accepts one RawSocket connection speaking one of `serializers`.
async fn rs_server(
    serializers: &'static [Serializer],
    cfg: TransportConfig,
) -> (SocketAddr, JoinHandle<Result<Connection, TransportError>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (stream, peer) = listener.accept().await.unwrap();
        rawsocket::accept(stream, serializers, &cfg, Some(peer.to_string())).await
    });
    (addr, task)
}

/// A connected (client, server) pair using `ser`.
async fn rs_pair(ser: Serializer, server_cfg: TransportConfig) -> (Connection, Connection) {
    let (addr, server) = rs_server(BOTH, server_cfg).await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let client = within(rawsocket::connect(stream, ser, &TransportConfig::default(), None))
        .await
        .expect("client handshake");
    let server = within(server).await.unwrap().expect("server handshake");
    for end in [&client, &server] {
        assert_eq!(end.kind, TransportKind::RawSocket);
        assert_eq!(end.serializer, Some(ser));
    }
    (client, server)
}

/// A hand-driven client: sends `hello`, returns the stream and the 4-byte reply.
async fn raw_client(addr: SocketAddr, hello: [u8; 4]) -> (TcpStream, std::io::Result<[u8; 4]>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&hello).await.unwrap();
    let mut reply = [0u8; 4];
    let res = within(stream.read_exact(&mut reply)).await.map(|_| reply);
    (stream, res)
}

fn call(request: u64, args: Vec<Value>) -> Message {
    Message::from(msg::Call {
        request,
        options: Default::default(),
        procedure: "p".into(),
        payload: wamp_proto::Payload::new(args, Default::default()),
    })
}

/// Sends every sample message from `a` to `b` and checks they arrive in order.
async fn exchange(a: &Connection, b: &mut Connection) {
    for msg in sample_messages() {
        within(a.sender.send(msg)).await.unwrap();
    }
    for expected in sample_messages() {
        assert_eq!(within(b.receiver.recv()).await, Some(expected));
    }
}

async fn expect_end(conn: &mut Connection) -> Option<TransportError> {
    assert_eq!(within(conn.receiver.recv()).await, None);
    conn.close_reason.get()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_carries_messages_both_ways_with_each_serializer() {
    for ser in BOTH.iter().copied() {
        let (mut client, mut server) = rs_pair(ser, TransportConfig::default()).await;
        exchange(&client, &mut server).await;
        exchange(&server, &mut client).await;
        drop(client.sender);
        assert!(matches!(
            expect_end(&mut server).await,
            Some(TransportError::Closed)
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_pipelined_messages_arrive_in_order() {
    const N: u64 = 10_000;
    for ser in BOTH.iter().copied() {
        let (client, mut server) = rs_pair(ser, TransportConfig::default()).await;
        let sender = client.sender.clone();
        let pump = tokio::spawn(async move {
            for i in 1..=N {
                sender
                    .send(call(i, vec![Value::UInt(i), Value::Int(-(i as i64))]))
                    .await
                    .unwrap();
            }
        });
        for i in 1..=N {
            let got = within(server.receiver.recv()).await;
            assert_eq!(
                got,
                Some(call(i, vec![Value::UInt(i), Value::Int(-(i as i64))])),
                "{ser} #{i}"
            );
        }
        within(pump).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_handshake_with_bad_magic_is_refused() {
    let (addr, server) = rs_server(BOTH, TransportConfig::default()).await;
    let (_stream, reply) = raw_client(addr, [0x47, 0x45, 0x54, 0x20]).await; // "GET "
                                                                             // The server hangs up without a reply.
    assert!(reply.is_err(), "{reply:?}");
    match within(server).await.unwrap() {
        Err(TransportError::Handshake(m)) => assert!(m.contains("first byte 0x47"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_handshake_with_unsupported_serializer_is_refused() {
    // Codes 0 and 9 are no serializer; 2 (MessagePack) is one this server does not speak.
    for (code, only) in [(0u8, BOTH), (9, BOTH), (2, JSON_ONLY)] {
        let (addr, server) = rs_server(only, TransportConfig::default()).await;
        let (_stream, reply) = raw_client(addr, [MAGIC, 0xF0 | code, 0, 0]).await;
        let reply = reply.expect("an error reply");
        assert_eq!(reply[0], MAGIC);
        assert_eq!(reply[1] & 0x0F, 0, "low nibble 0 marks an error");
        assert_eq!(reply[1] >> 4, 1, "error 1: serializer unsupported");
        match within(server).await.unwrap() {
            Err(TransportError::Handshake(m)) => {
                assert!(m.contains(&format!("unsupported serializer {code}")), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }
    // Our own client reports the refusal.
    let (addr, server) = rs_server(JSON_ONLY, TransportConfig::default()).await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let err = within(rawsocket::connect(
        stream,
        Serializer::MsgPack,
        &TransportConfig::default(),
        None,
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(&err, TransportError::Handshake(m) if m.contains("serializer unsupported")),
        "{err:?}"
    );
    assert!(within(server).await.unwrap().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_handshake_with_reserved_bits_is_refused() {
    let (addr, server) = rs_server(BOTH, TransportConfig::default()).await;
    let (_stream, reply) = raw_client(addr, [MAGIC, 0xF1, 0, 1]).await;
    assert_eq!(reply.unwrap(), [MAGIC, 3 << 4, 0, 0]);
    assert!(matches!(
        within(server).await.unwrap(),
        Err(TransportError::Handshake(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_handshake_reply_announces_the_limit() {
    let cfg = TransportConfig {
        max_message_size: 4096,
        ..Default::default()
    };
    let (addr, server) = rs_server(BOTH, cfg).await;
    let (_stream, reply) = raw_client(addr, [MAGIC, 0xF2, 0, 0]).await;
    // 2^(9+3) = 4096 bytes, MessagePack.
    assert_eq!(reply.unwrap(), [MAGIC, 0x32, 0, 0]);
    assert!(within(server).await.unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_frame_above_the_limit_closes_the_connection() {
    let cfg = TransportConfig {
        max_message_size: 1024,
        ..Default::default()
    };
    let (addr, server) = rs_server(BOTH, cfg.clone()).await;
    let (mut stream, reply) = raw_client(addr, [MAGIC, 0xF1, 0, 0]).await;
    assert_eq!(reply.unwrap(), [MAGIC, 0x11, 0, 0]);
    let mut server = within(server).await.unwrap().unwrap();
    // A frame header claiming 4096 bytes.
    stream.write_all(&[0, 0x00, 0x10, 0x00]).await.unwrap();
    match expect_end(&mut server).await {
        Some(TransportError::TooLarge { size, max }) => assert_eq!((size, max), (4096, 1024)),
        other => panic!("{other:?}"),
    }

    // Our client refuses to send more than the server announced.
    let (addr, server) = rs_server(BOTH, cfg).await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut client = within(rawsocket::connect(
        stream,
        Serializer::MsgPack,
        &TransportConfig::default(),
        None,
    ))
    .await
    .unwrap();
    let mut server = within(server).await.unwrap().unwrap();
    let msg = call(1, vec![Value::Bytes(vec![7; 2000])]);
    let size = Serializer::MsgPack.encode(&msg).unwrap().len();
    client.sender.send(msg).await.unwrap();
    assert!(matches!(
        expect_end(&mut server).await,
        Some(TransportError::Closed)
    ));
    match client.close_reason.get() {
        Some(TransportError::TooLarge { size: s, max }) => assert_eq!((s, max), (size, 1024)),
        other => panic!("{other:?}"),
    }
    assert_eq!(within(client.receiver.recv()).await, None);
}

/// The 24-bit length field caps frames at 2^24 - 1 bytes even when the
/// peer announced 2^24 (exponent 15, the default).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_frames_stop_at_2_pow_24_minus_1() {
    // [48, 1, {}, "p", [bin32]]: 12 bytes of framing around the payload.
    let sized = |total: usize| call(1, vec![Value::Bytes(vec![0xab; total - 12])]);
    let largest = sized((1 << 24) - 1);
    assert_eq!(Serializer::MsgPack.encode(&largest).unwrap().len(), (1 << 24) - 1);
    let (mut client, mut server) = rs_pair(Serializer::MsgPack, TransportConfig::default()).await;
    client.sender.send(largest.clone()).await.unwrap();
    assert!(within(server.receiver.recv()).await == Some(largest));

    let too_big = sized(1 << 24);
    assert_eq!(Serializer::MsgPack.encode(&too_big).unwrap().len(), 1 << 24);
    client.sender.send(too_big).await.unwrap();
    // Refused by the sender, not sent with a wrapped-around length of 0.
    assert!(matches!(
        expect_end(&mut server).await,
        Some(TransportError::Closed)
    ));
    match client.close_reason.get() {
        Some(TransportError::TooLarge { size, max }) => assert_eq!((size, max), (1 << 24, (1 << 24) - 1)),
        other => panic!("{other:?}"),
    }
    assert_eq!(within(client.receiver.recv()).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_garbage_frame_ends_the_receiver_with_a_decode_error() {
    for (code, ser, garbage) in [
        (2u8, Serializer::MsgPack, &[0xc1u8, 0xc1, 0xc1][..]),
        (1, Serializer::Json, &b"[48,1,{\"timeout\":\"soon\"},\"p\"]"[..]),
    ] {
        let (addr, server) = rs_server(BOTH, TransportConfig::default()).await;
        let (mut stream, reply) = raw_client(addr, [MAGIC, 0xF0 | code, 0, 0]).await;
        assert_eq!(reply.unwrap(), [MAGIC, 0xF0 | code, 0, 0]);
        let mut server = within(server).await.unwrap().unwrap();
        let valid = ser.encode(&Message::goodbye("wamp.close.normal")).unwrap();
        let mut frames = vec![0, 0, 0, valid.len() as u8];
        frames.extend(&valid);
        frames.extend([0, 0, 0, garbage.len() as u8]);
        frames.extend(garbage);
        stream.write_all(&frames).await.unwrap();
        assert_eq!(
            within(server.receiver.recv()).await,
            Some(Message::goodbye("wamp.close.normal"))
        );
        match expect_end(&mut server).await {
            Some(TransportError::Decode(e)) => {
                assert_eq!(e.serializer, ser);
                if ser == Serializer::Json {
                    assert!(e.reason.contains("timeout"), "{e}");
                }
            }
            other => panic!("{ser}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_ping_is_answered_with_pong() {
    let (addr, server) = rs_server(BOTH, TransportConfig::default()).await;
    let (mut stream, reply) = raw_client(addr, [MAGIC, 0xF2, 0, 0]).await;
    reply.unwrap();
    let mut server = within(server).await.unwrap().unwrap();
    // Frames are read (and PINGs answered) while the session awaits messages.
    let reading = tokio::spawn(async move { server.receiver.recv().await });
    stream.write_all(&[1, 0, 0, 3, b'a', b'b', b'c']).await.unwrap();
    let mut pong = [0u8; 7];
    within(stream.read_exact(&mut pong)).await.unwrap();
    assert_eq!(pong, [2, 0, 0, 3, b'a', b'b', b'c']);
    // A PING is not a message: the session is still waiting for one.
    assert!(!reading.is_finished());
    reading.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_abrupt_disconnect_mid_frame_ends_the_receiver() {
    for cut in [2usize, 4, 10] {
        let (addr, server) = rs_server(BOTH, TransportConfig::default()).await;
        let (mut stream, reply) = raw_client(addr, [MAGIC, 0xF2, 0, 0]).await;
        reply.unwrap();
        let mut server = within(server).await.unwrap().unwrap();
        // A header announcing 100 bytes, cut after `cut` bytes of the frame.
        let mut frame = vec![0, 0, 0, 100];
        frame.extend([0x90; 100]);
        stream.write_all(&frame[..cut]).await.unwrap();
        drop(stream);
        let reason = expect_end(&mut server).await;
        assert!(
            matches!(reason, Some(TransportError::Io(_) | TransportError::Closed)),
            "cut at {cut}: {reason:?}"
        );
        // The server's sender still accepts messages without panicking; the
        // writer finds the socket gone.
        let _ = server.sender.send(Message::goodbye("wamp.close.normal")).await;
    }
}
