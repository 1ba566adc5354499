//! What the fuzz targets share: the decode round trip, a tokio runtime
//! whose clock only moves when every task waits (no real sleeps), and the
//! arbitrary peer of the accept-path targets.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;
use wamp_proto::transport::{Connection, TransportConfig};
use wamp_proto::{Message, Serializer};

/// Decodes `data`; if it is a message, encoding it again with the same
/// serializer must work and decode to the same message.
pub fn decode_round_trip(ser: Serializer, data: &[u8]) {
    let Ok(first) = ser.decode(data) else { return };
    let bytes = ser
        .encode(&first)
        .unwrap_or_else(|e| panic!("{ser}: decoded {first:?} but cannot encode it: {e}"));
    let second = ser
        .decode(&bytes)
        .unwrap_or_else(|e| panic!("{ser}: {first:?} encodes to bytes that do not decode: {e}"));
    if first != second {
        // NaN != NaN: a message holding one is the same if it encodes to the
        // same bytes (floats are written bit for bit).
        let again = ser.encode(&second).expect("encoded once already");
        assert!(
            has_nan(&first) && again == bytes,
            "{ser}: round trip changed the message\n first: {first:?}\nsecond: {second:?}"
        );
    }
}

/// Decodes `data` as a JSON message, its payload kept (the router) and as
/// values (a client), split where the payload starts (both ways: as
/// large frames are, and as small ones are) and whole: a split never
/// accepts what the whole decode refuses, nor decodes to anything else.
pub fn json_split_agrees(data: &[u8]) {
    use wamp_proto::serializer::PayloadMode;
    for mode in [PayloadMode::Encoded, PayloadMode::Values] {
        for small in [false, true] {
            let (split, whole) = wamp_proto::serializer::__json_split_and_whole(data, mode, small);
            if let Some(split) = split {
                match whole {
                    Ok(whole) => assert_eq!(split, whole, "{mode:?}, small {small}: split and whole decodes differ"),
                    Err(e) => panic!(
                        "{mode:?}, small {small}: the split decode accepted a frame the decoder refuses: {e}"
                    ),
                }
            }
        }
    }
}

/// Whether a float NaN appears anywhere in the message. (Debug prints a
/// NaN float as `NaN` unquoted; a string "NaN" prints quoted.)
fn has_nan(msg: &Message) -> bool {
    format!("{msg:?}").contains("Float(NaN)")
}

/// A current-thread runtime with paused time: a timer fires as soon as
/// nothing else can run, so timeouts bound a run without real waiting.
pub fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime")
}

/// An in-memory connection whose peer writes `data` and closes its side,
/// and reads and drops whatever our side writes (so our writes never
/// block). Our end, and the task draining the peer's side: it ends once
/// our side is closed. Call inside a runtime.
pub fn arbitrary_peer(data: Vec<u8>) -> (DuplexStream, JoinHandle<()>) {
    let (peer, ours) = tokio::io::duplex(16 * 1024);
    let (mut peer_rd, mut peer_wr) = tokio::io::split(peer);
    tokio::spawn(async move {
        let _ = peer_wr.write_all(&data).await;
        let _ = peer_wr.shutdown().await;
    });
    let drain = tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while matches!(peer_rd.read(&mut buf).await, Ok(n) if n > 0) {}
    });
    (ours, drain)
}

/// Small limits for the accept-path targets: 4 KiB messages, 16 queued,
/// a 1 s handshake (on paused time).
pub fn small_limits() -> TransportConfig {
    TransportConfig {
        max_message_size: 4096,
        queue_capacity: 16,
        handshake_timeout: Duration::from_secs(1),
        ..Default::default()
    }
}

/// Sends every message the connection receives back to it, until it ends;
/// it must end with a reason.
pub async fn echo_until_closed(conn: &mut Connection) {
    while let Some(msg) = conn.receiver.recv().await {
        let _ = conn.sender.send(msg).await;
    }
    assert!(
        conn.close_reason.get().is_some(),
        "the receiver ended without a reason"
    );
}
