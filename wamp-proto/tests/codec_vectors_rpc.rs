//! Byte-exact wire vectors for the RPC messages, in JSON and MessagePack.
//!
//! Unless a comment says otherwise, each vector is what Autobahn|Python
//! 26.10.2 (`JsonSerializer` / `MsgPackSerializer`) writes for the same
//! message, cross-checked with msgpack-python 1.1. See `codec_vectors.rs`
//! for how key-order differences are handled.

mod common;

use common::{both_ways, decode_only, dict};
use wamp_proto::msg;
use wamp_proto::uri::MatchPolicy;
use wamp_proto::{value, Message, Value};
use wamp_proto::{CallOptions, CancelMode, CancelOptions, InterruptOptions, InvocationDetails};
use wamp_proto::{InvokePolicy, RegisterOptions, ResultDetails, RevokeDetails, YieldOptions};

const MAX_ID: u64 = 1 << 53;

/// The CALL vector, derived by hand from the MessagePack spec:
///
/// ```text
/// 96                      fixarray, 6 elements
/// 30                      48 (CALL), positive fixint
/// 07                      7, the request ID
/// 81                      fixmap, 1 entry
///   a7 74696d656f7574     fixstr(7) "timeout"
///   cd 01f4               uint16 500
/// ae 636f...6432          fixstr(14) "com.myapp.add2"
/// 92 02 03                [2, 3]
/// 81 a1 78 c3             {"x": true}
/// ```
#[test]
fn call() {
    both_ways(
        r#"[48,7,{"timeout":500},"com.myapp.add2",[2,3],{"x":true}]"#,
        "96 30 07 81 a774696d656f7574 cd01f4 ae636f6d2e6d796170702e61646432 92 02 03 81 a178 c3",
        &Message::from(msg::Call {
            request: 7,
            options: CallOptions {
                timeout: Some(500),
                ..Default::default()
            },
            procedure: "com.myapp.add2".into(),
            payload: wamp_proto::Payload::new(
                vec![Value::UInt(2), Value::UInt(3)],
                dict(value!({"x": true})),
            ),
        }),
    );
}

/// Only ArgumentsKw: the Arguments list is written, empty.
#[test]
fn call_with_kwargs_only() {
    let msg = Message::from(msg::Call {
        request: 8,
        options: CallOptions {
            receive_progress: Some(true),
            ..Default::default()
        },
        procedure: "com.myapp.echo".into(),
        payload: wamp_proto::Payload::new(vec![], dict(value!({"a": 1}))),
    });
    both_ways(
        r#"[48,8,{"receive_progress":true},"com.myapp.echo",[],{"a":1}]"#,
        "96300881b0726563656976655f70726f6772657373c3ae636f6d2e6d796170702e6563686f9081a16101",
        &msg,
    );
}

/// Autobahn writes `null` Arguments for a message built with kwargs but
/// `args=None`, and accepts it when parsing; it reads as an empty list. The
/// re-encoding (hand-written: `c0` nil becomes `90` empty fixarray) is the
/// spec's `[]`.
#[test]
fn call_with_null_args_from_autobahn() {
    let msg = Message::from(msg::Call {
        request: 8,
        options: Default::default(),
        procedure: "com.myapp.echo".into(),
        payload: wamp_proto::Payload::new(vec![], dict(value!({"a": 1}))),
    });
    decode_only(
        r#"[48,8,{},"com.myapp.echo",null,{"a":1}]"#,
        "96300880ae636f6d2e6d796170702e6563686fc081a16101",
        &msg,
    );
    both_ways(
        r#"[48,8,{},"com.myapp.echo",[],{"a":1}]"#,
        "96300880ae636f6d2e6d796170702e6563686f9081a16101",
        &msg,
    );
    // A null ArgumentsKw is absent too (hand-written).
    decode_only(
        r#"[48,8,{},"com.myapp.echo",null,null]"#,
        "96300880ae636f6d2e6d796170702e6563686fc0c0",
        &Message::from(msg::Call {
            request: 8,
            options: Default::default(),
            procedure: "com.myapp.echo".into(),
            payload: wamp_proto::Payload::new(vec![], Default::default()),
        }),
    );
}

/// Unknown CALL.Options keys are kept in `extra` and written, sorted, after
/// the typed keys. Packed with msgpack-python in this crate's key order.
#[test]
fn call_with_unknown_option_keys() {
    let mut options = CallOptions {
        timeout: Some(500),
        receive_progress: Some(true),
        ..Default::default()
    };
    options.extra = dict(value!({"x_custom": {"a": [1]}, "x_flag": false}));
    let msg = Message::from(msg::Call {
        request: 9,
        options,
        procedure: "com.myapp.ping".into(),
        payload: wamp_proto::Payload::new(vec![], Default::default()),
    });
    both_ways(
        r#"[48,9,{"timeout":500,"receive_progress":true,"x_custom":{"a":[1]},"x_flag":false},"com.myapp.ping"]"#,
        "94300984a774696d656f7574cd01f4b0726563656976655f70726f6772657373c3a8785f637573746f6d81a1619101a6\
         785f666c6167c2ae636f6d2e6d796170702e70696e67",
        &msg,
    );
    // Key order on the wire does not matter when decoding.
    decode_only(
        r#"[48,9,{"x_flag":false,"receive_progress":true,"x_custom":{"a":[1]},"timeout":500},"com.myapp.ping"]"#,
        "94300984a6785f666c6167c2b0726563656976655f70726f6772657373c3a8785f637573746f6d81a1619101a774696d\
         656f7574cd01f4ae636f6d2e6d796170702e70696e67",
        &msg,
    );
}

#[test]
fn cancel() {
    both_ways(
        r#"[49,7,{"mode":"kill"}]"#,
        "93310781a46d6f6465a46b696c6c",
        &Message::Cancel(msg::Cancel {
            request: 7,
            options: CancelOptions {
                mode: Some(CancelMode::Kill),
                ..Default::default()
            },
        }),
    );
}

#[test]
fn result() {
    both_ways(
        r#"[50,7,{"progress":true},[5]]"#,
        "94320781a870726f6772657373c39105",
        &Message::Result(msg::Result {
            request: 7,
            details: ResultDetails {
                progress: Some(true),
                ..Default::default()
            },
            payload: wamp_proto::Payload::new(vec![Value::UInt(5)], Default::default()),
        }),
    );
}

#[test]
fn result_without_payload() {
    both_ways(
        "[50,7,{}]",
        "93320780",
        &Message::Result(msg::Result {
            request: 7,
            details: Default::default(),
            payload: wamp_proto::Payload::new(vec![], Default::default()),
        }),
    );
}

#[test]
fn register() {
    both_ways(
        r#"[64,3,{"match":"prefix","invoke":"roundrobin","concurrency":4},"com.myapp."]"#,
        "94400383a56d61746368a6707265666978a6696e766f6b65aa726f756e64726f62696eab636f6e63757272656e637904\
         aa636f6d2e6d796170702e",
        &Message::Register(msg::Register {
            request: 3,
            options: RegisterOptions {
                match_policy: Some(MatchPolicy::Prefix),
                invoke: Some(InvokePolicy::RoundRobin),
                concurrency: Some(4),
                ..Default::default()
            },
            procedure: "com.myapp.".into(),
        }),
    );
}

#[test]
fn registered() {
    both_ways(
        "[65,3,2103333224]",
        "934103ce7d5e5168",
        &Message::Registered(msg::Registered {
            request: 3,
            registration: 2103333224,
        }),
    );
}

#[test]
fn unregister() {
    both_ways(
        "[66,4,2103333224]",
        "934204ce7d5e5168",
        &Message::Unregister(msg::Unregister {
            request: 4,
            registration: 2103333224,
        }),
    );
}

#[test]
fn unregistered_without_details() {
    both_ways(
        "[67,4]",
        "924304",
        &Message::Unregistered(msg::Unregistered {
            request: 4,
            details: None,
        }),
    );
}

#[test]
fn unregistered_with_details() {
    let msg = Message::Unregistered(msg::Unregistered {
        request: 0,
        details: Some(RevokeDetails {
            registration: Some(2103333224),
            reason: Some("wamp.registration.revoked".into()),
            ..Default::default()
        }),
    });
    // Autobahn writes `reason` first.
    decode_only(
        r#"[67,0,{"reason":"wamp.registration.revoked","registration":2103333224}]"#,
        "93430082a6726561736f6eb977616d702e726567697374726174696f6e2e7265766f6b6564ac72656769737472617469\
         6f6ece7d5e5168",
        &msg,
    );
    both_ways(
        r#"[67,0,{"registration":2103333224,"reason":"wamp.registration.revoked"}]"#,
        "93430082ac726567697374726174696f6ece7d5e5168a6726561736f6eb977616d702e726567697374726174696f6e2e\
         7265766f6b6564",
        &msg,
    );
}

#[test]
fn invocation() {
    let msg = Message::from(msg::Invocation {
        request: 6131533,
        registration: 2103333224,
        details: InvocationDetails {
            caller: Some(3335656),
            caller_authid: Some("joe".into()),
            procedure: Some("com.myapp.add2".into()),
            receive_progress: Some(true),
            timeout: Some(1000),
            ..Default::default()
        },
        payload: wamp_proto::Payload::new(vec![Value::UInt(2), Value::UInt(3)], Default::default()),
    });
    // Autobahn writes timeout and receive_progress first.
    decode_only(
        r#"[68,6131533,2103333224,{"timeout":1000,"receive_progress":true,"caller":3335656,"caller_authid":"joe","procedure":"com.myapp.add2"},[2,3]]"#,
        "9544ce005d8f4dce7d5e516885a774696d656f7574cd03e8b0726563656976655f70726f6772657373c3a663616c6c65\
         72ce0032e5e8ad63616c6c65725f617574686964a36a6f65a970726f636564757265ae636f6d2e6d796170702e616464\
         32920203",
        &msg,
    );
    both_ways(
        r#"[68,6131533,2103333224,{"caller":3335656,"caller_authid":"joe","procedure":"com.myapp.add2","receive_progress":true,"timeout":1000},[2,3]]"#,
        "9544ce005d8f4dce7d5e516885a663616c6c6572ce0032e5e8ad63616c6c65725f617574686964a36a6f65a970726f63\
         6564757265ae636f6d2e6d796170702e61646432b0726563656976655f70726f6772657373c3a774696d656f7574cd03\
         e8920203",
        &msg,
    );
}

#[test]
fn interrupt() {
    both_ways(
        r#"[69,6131533,{"mode":"killnowait","reason":"wamp.error.timeout"}]"#,
        "9345ce005d8f4d82a46d6f6465aa6b696c6c6e6f77616974a6726561736f6eb277616d702e6572726f722e74696d656f\
         7574",
        &Message::Interrupt(msg::Interrupt {
            request: 6131533,
            options: InterruptOptions {
                mode: Some(CancelMode::KillNoWait),
                reason: Some("wamp.error.timeout".into()),
                ..Default::default()
            },
        }),
    );
}

/// kwargs only (so an empty Arguments list) with an int64 of -2^53.
#[test]
fn yield_with_kwargs_only() {
    both_ways(
        r#"[70,6131533,{"progress":true},[],{"sum":-9007199254740992}]"#,
        "9546ce005d8f4d81a870726f6772657373c39081a373756dd3ffe0000000000000",
        &Message::Yield(msg::Yield {
            request: 6131533,
            options: YieldOptions {
                progress: Some(true),
                ..Default::default()
            },
            payload: wamp_proto::Payload::new(
                vec![],
                [("sum".to_string(), Value::Int(-(MAX_ID as i64)))].into(),
            ),
        }),
    );
}

#[test]
fn yield_without_payload() {
    both_ways(
        "[70,6131534,{}]",
        "9346ce005d8f4e80",
        &Message::Yield(msg::Yield {
            request: 6131534,
            options: Default::default(),
            payload: wamp_proto::Payload::new(vec![], Default::default()),
        }),
    );
}

/// Integral floats are accepted for integer options (hand-written vectors).
#[test]
fn integral_float_timeout() {
    let msg = Message::from(msg::Call {
        request: 1,
        options: CallOptions {
            timeout: Some(250),
            ..Default::default()
        },
        procedure: "p".into(),
        payload: wamp_proto::Payload::new(vec![], Default::default()),
    });
    // A JavaScript peer may send the timeout as a float; it reads as an integer
    // (MessagePack float64 0x406f400000000000 is 250.0).
    decode_only(
        r#"[48,1,{"timeout":250.0},"p"]"#,
        "94 30 01 81 a774696d656f7574 cb406f400000000000 a170",
        &msg,
    );
    both_ways(
        r#"[48,1,{"timeout":250},"p"]"#,
        "94 30 01 81 a774696d656f7574 ccfa a170",
        &msg,
    );
}
