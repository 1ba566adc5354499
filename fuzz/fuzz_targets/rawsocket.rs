//! The router side of a RawSocket connection (`rawsocket::accept`) reading
//! arbitrary bytes from its peer: the handshake, then frames. Every decoded
//! message is sent back, so the writer's framing runs too. No panic, and
//! the run ends: the input is finite and timers run on paused time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wamp_proto::transport::rawsocket;
use wamp_proto::Serializer;

fuzz_target!(|data: &[u8]| {
    let data = data.to_vec();
    wamp_fuzz::paused_runtime().block_on(async move {
        let (ours, _drain) = wamp_fuzz::arbitrary_peer(data);
        let cfg = wamp_fuzz::small_limits();
        let Ok(mut conn) = rawsocket::accept(ours, &Serializer::ALL, &cfg, None).await else {
            return;
        };
        wamp_fuzz::echo_until_closed(&mut conn).await;
    });
});
