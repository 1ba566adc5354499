//! CBOR (`wamp.2.cbor`): byte vectors checked against Autobahn|Python 26.10.2's
//! CBOR serializer (cbor2), and round trips with binary values.

use wamp_proto::msg;
use wamp_proto::{Message, Serializer, Value};

/// `[48, 7, {}, "com.myapp.add2", [2, 3]]` as cbor2 encodes it.
const CALL: &[u8] = &[
    0x85, 0x18, 0x30, 0x07, 0xa0, 0x6e, b'c', b'o', b'm', b'.', b'm', b'y', b'a', b'p', b'p', b'.', b'a',
    b'd', b'd', b'2', 0x82, 0x02, 0x03,
];

fn call() -> Message {
    Message::from(msg::Call {
        request: 7,
        options: Default::default(),
        procedure: "com.myapp.add2".into(),
        payload: wamp_proto::Payload::new(vec![Value::UInt(2), Value::UInt(3)], Default::default()),
    })
}

#[test]
fn call_vector_both_ways() {
    assert_eq!(Serializer::Cbor.encode(&call()).unwrap(), CALL);
    assert_eq!(Serializer::Cbor.decode(CALL).unwrap(), call());
}

#[test]
fn binary_values_stay_binary() {
    let msg = Message::from(msg::Publish {
        request: 1,
        options: Default::default(),
        topic: "com.myapp.bin".into(),
        payload: wamp_proto::Payload::new(
            vec![
                Value::Bytes(vec![0, 1, 2, 255]),
                Value::Int(-5),
                Value::Float(1.5),
            ],
            Default::default(),
        ),
    });
    let bytes = Serializer::Cbor.encode(&msg).unwrap();
    // A CBOR byte string of 4 bytes (major type 2) is in the encoding.
    assert!(bytes.windows(5).any(|w| w == [0x44, 0, 1, 2, 255]), "{bytes:x?}");
    assert_eq!(Serializer::Cbor.decode(&bytes).unwrap(), msg);
}

#[test]
fn malformed_cbor_is_an_error() {
    for bad in [&CALL[..CALL.len() - 1], &[0xff][..], &[0x85, 0x18][..], b"[48]"] {
        assert!(Serializer::Cbor.decode(bad).is_err(), "{bad:x?}");
    }
}
