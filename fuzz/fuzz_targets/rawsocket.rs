//! The router side of a RawSocket connection (`rawsocket::accept`) reading
//! arbitrary bytes from its peer: the handshake, then frames. Every decoded
//! message is sent back, so the writer's framing runs too. No panic, and
//! the run ends: the input is finite and timers run on paused time.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wamp_proto::transport::{rawsocket, TransportConfig};
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
        // Whatever the router writes (handshake reply, PONGs, echoes) is read
        // and dropped, so its writes never block.
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while matches!(peer_rd.read(&mut buf).await, Ok(n) if n > 0) {}
        });
        let cfg = TransportConfig {
            max_message_size: 4096,
            queue_capacity: 16,
            handshake_timeout: Duration::from_secs(1),
            ..Default::default()
        };
        let Ok(mut conn) = rawsocket::accept(ours, &Serializer::ALL, &cfg, None).await else {
            return;
        };
        while let Some(msg) = conn.receiver.recv().await {
            let _ = conn.sender.send(msg).await;
        }
        assert!(
            conn.close_reason.get().is_some(),
            "the receiver ended without a reason"
        );
    });
});
