//! What the fuzz targets share: the decode round trip, and a tokio runtime
//! whose clock only moves when every task waits (no real sleeps).

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
