//! The router side of a WebSocket connection (`websocket::accept`, with its
//! subprotocol negotiation) reading arbitrary bytes from its peer: the HTTP
//! upgrade request, then frames. Every decoded message is sent back and the
//! connection is then closed by this side, so the writer and its close
//! frame run too. No panic, and the run ends (paused time for timeouts).
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wamp_proto::transport::{websocket, TransportConfig};
use wamp_proto::Serializer;

fuzz_target!(|data: &[u8]| {
    let data = data.to_vec();
    wamp_fuzz::paused_runtime().block_on(async move {
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
        let cfg = TransportConfig {
            max_message_size: 4096,
            queue_capacity: 16,
            handshake_timeout: Duration::from_secs(1),
            ..Default::default()
        };
        let Ok(mut conn) = websocket::accept(ours, &Serializer::ALL, &cfg, None).await else {
            return;
        };
        assert!(conn.serializer.is_some(), "accepted without a serializer");
        while let Some(msg) = conn.receiver.recv().await {
            let _ = conn.sender.send(msg).await;
        }
        assert!(
            conn.close_reason.get().is_some(),
            "the receiver ended without a reason"
        );
        // Closing from this side sends the close frame; the peer's reader
        // sees the end of the stream once the writer is done.
        drop(conn);
        let _ = drain.await;
    });
});
