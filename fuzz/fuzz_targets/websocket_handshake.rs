//! The router side of a WebSocket connection (`websocket::accept`, with its
//! subprotocol negotiation) reading arbitrary bytes from its peer: the HTTP
//! upgrade request, then frames. Every decoded message is sent back and the
//! connection is then closed by this side, so the writer and its close
//! frame run too. No panic, and the run ends (paused time for timeouts).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wamp_proto::transport::websocket;
use wamp_proto::Serializer;

fuzz_target!(|data: &[u8]| {
    let data = data.to_vec();
    wamp_fuzz::paused_runtime().block_on(async move {
        let (ours, drain) = wamp_fuzz::arbitrary_peer(data);
        let cfg = wamp_fuzz::small_limits();
        let Ok(mut conn) = websocket::accept(ours, &Serializer::ALL, &cfg, None).await else {
            return;
        };
        assert!(conn.serializer.is_some(), "accepted without a serializer");
        wamp_fuzz::echo_until_closed(&mut conn).await;
        // Closing from this side sends the close frame; the peer's reader
        // sees the end of the stream once the writer is done.
        drop(conn);
        let _ = drain.await;
    });
});
