//! Byte-exact wire vectors for the session and PubSub messages, in JSON and
//! MessagePack; the RPC messages are in `codec_vectors_rpc.rs`.
//!
//! Unless a comment says otherwise, each vector is what Autobahn|Python
//! 26.10.2 (`JsonSerializer` / `MsgPackSerializer`) writes for the same
//! message, cross-checked with msgpack-python 1.1 (`packb(..., use_bin_type=True)`).
//! Where Autobahn orders dictionary keys differently from this crate (typed
//! keys in declaration order, then the other keys sorted), Autobahn's bytes
//! are checked for decoding only and a second vector in this crate's order
//! is checked both ways.

mod common;

use common::{both_ways, decode_only, dict, hex, strings};
use wamp_proto::msg;
use wamp_proto::uri::MatchPolicy;
use wamp_proto::{value, Message, MessageType, Serializer, Value};
use wamp_proto::{CloseDetails, EventDetails, HelloDetails, PublishOptions, RevokeDetails};
use wamp_proto::{SubscribeOptions, WelcomeDetails};

const MAX_ID: u64 = 1 << 53;

#[test]
fn hello() {
    let msg = Message::from(msg::Hello {
        realm: "realm1".into(),
        details: HelloDetails {
            roles: Some(dict(value!({"caller": {}, "subscriber": {}}))),
            authmethods: Some(strings(&["ticket", "anonymous"])),
            authid: Some("joe".into()),
            ..Default::default()
        },
    });
    both_ways(
        r#"[1,"realm1",{"roles":{"caller":{},"subscriber":{}},"authmethods":["ticket","anonymous"],"authid":"joe"}]"#,
        "9301a67265616c6d3183a5726f6c657382a663616c6c657280aa7375627363726962657280ab617574686d6574686f6473\
         92a67469636b6574a9616e6f6e796d6f7573a6617574686964a36a6f65",
        &msg,
    );
}

/// Unknown HELLO.Details keys (`resumable`) are kept and written after the
/// typed ones. Vector in this crate's order, packed with msgpack-python.
#[test]
fn hello_with_unknown_details_key() {
    let mut details = HelloDetails {
        roles: Some(dict(
            value!({"callee": {"features": {"progressive_call_results": true}}}),
        )),
        authid: Some("joe".into()),
        agent: Some("wamp-rs/0.1".into()),
        ..Default::default()
    };
    details.extra.insert("resumable".into(), Value::Bool(false));
    both_ways(
        r#"[1,"realm1",{"roles":{"callee":{"features":{"progressive_call_results":true}}},"authid":"joe","agent":"wamp-rs/0.1","resumable":false}]"#,
        "9301a67265616c6d3184a5726f6c657381a663616c6c656581a8666561747572657381b870726f67726573736976655f\
         63616c6c5f726573756c7473c3a6617574686964a36a6f65a56167656e74ab77616d702d72732f302e31a9726573756d\
         61626c65c2",
        &Message::from(msg::Hello {
            realm: "realm1".into(),
            details,
        }),
    );
}

#[test]
fn welcome() {
    let msg = Message::from(msg::Welcome {
        session: MAX_ID,
        details: WelcomeDetails {
            roles: Some(dict(value!({"broker": {}}))),
            realm: Some("realm1".into()),
            authid: Some("joe".into()),
            authrole: Some("user".into()),
            authmethod: Some("ticket".into()),
            authprovider: Some("static".into()),
            ..Default::default()
        },
    });
    // Autobahn writes `roles` last.
    decode_only(
        r#"[2,9007199254740992,{"realm":"realm1","authid":"joe","authrole":"user","authmethod":"ticket","authprovider":"static","roles":{"broker":{}}}]"#,
        "9302cf002000000000000086a57265616c6da67265616c6d31a6617574686964a36a6f65a861757468726f6c65a47573\
         6572aa617574686d6574686f64a67469636b6574ac6175746870726f7669646572a6737461746963a5726f6c657381a6\
         62726f6b657280",
        &msg,
    );
    // This crate's order; the session ID 2^53 is a uint64 (0xcf).
    both_ways(
        r#"[2,9007199254740992,{"roles":{"broker":{}},"realm":"realm1","authid":"joe","authrole":"user","authmethod":"ticket","authprovider":"static"}]"#,
        "9302cf002000000000000086a5726f6c657381a662726f6b657280a57265616c6da67265616c6d31a6617574686964a3\
         6a6f65a861757468726f6c65a475736572aa617574686d6574686f64a67469636b6574ac6175746870726f7669646572\
         a6737461746963",
        &msg,
    );
}

#[test]
fn abort() {
    both_ways(
        r#"[3,{"message":"no such realm"},"wamp.error.no_such_realm"]"#,
        "930381a76d657373616765ad6e6f2073756368207265616c6db877616d702e6572726f722e6e6f5f737563685f726561\
         6c6d",
        &Message::abort("wamp.error.no_such_realm", "no such realm"),
    );
}

#[test]
fn challenge() {
    both_ways(
        r#"[4,"wampcra",{"challenge":"{\"nonce\":\"x\"}","iterations":1000,"keylen":32,"salt":"salt123"}]"#,
        "9304a777616d7063726184a96368616c6c656e6765ad7b226e6f6e6365223a2278227daa697465726174696f6e73cd03\
         e8a66b65796c656e20a473616c74a773616c74313233",
        &Message::Challenge(msg::Challenge {
            authmethod: "wampcra".into(),
            extra: dict(value!({
                "challenge": "{\"nonce\":\"x\"}", "iterations": 1000, "keylen": 32, "salt": "salt123"
            })),
        }),
    );
}

#[test]
fn authenticate() {
    both_ways(
        r#"[5,"c2lnbmF0dXJl",{}]"#,
        "9305ac63326c6e626d463064584a6c80",
        &Message::Authenticate(msg::Authenticate {
            signature: "c2lnbmF0dXJl".into(),
            extra: Default::default(),
        }),
    );
}

#[test]
fn goodbye() {
    both_ways(
        r#"[6,{"message":"bye"},"wamp.close.system_shutdown"]"#,
        "930681a76d657373616765a3627965ba77616d702e636c6f73652e73797374656d5f73687574646f776e",
        &Message::Goodbye(msg::Goodbye {
            details: CloseDetails {
                message: Some("bye".into()),
                ..Default::default()
            },
            reason: "wamp.close.system_shutdown".into(),
        }),
    );
    // Hand-written: the empty-details GOODBYE of `Message::goodbye`.
    both_ways(
        r#"[6,{},"wamp.close.normal"]"#,
        "930680b177616d702e636c6f73652e6e6f726d616c",
        &Message::goodbye("wamp.close.normal"),
    );
}

/// Negative integers (fixint, int64), a float64, a non-ASCII string and a
/// nested dict with IDs of magnitude 2^53.
#[test]
fn error_with_payload() {
    let msg = Message::Error(msg::Error {
        request_type: MessageType::Call,
        request: 7,
        details: Default::default(),
        error: "com.myapp.error.overflow".into(),
        payload: wamp_proto::Payload::new(
            vec![Value::Int(-1), Value::Float(2.5), Value::Str("ü".into())],
            [(
                "limit".to_string(),
                Value::Dict(
                    [
                        ("max".to_string(), Value::UInt(MAX_ID)),
                        ("min".to_string(), Value::Int(-(MAX_ID as i64))),
                    ]
                    .into(),
                ),
            )]
            .into(),
        ),
    });
    both_ways(
        r#"[8,48,7,{},"com.myapp.error.overflow",[-1,2.5,"ü"],{"limit":{"max":9007199254740992,"min":-9007199254740992}}]"#,
        "9708300780b8636f6d2e6d796170702e6572726f722e6f766572666c6f7793ffcb4004000000000000a2c3bc81a56c69\
         6d697482a36d6178cf0020000000000000a36d696ed3ffe0000000000000",
        &msg,
    );
}

/// No payload: both Arguments and ArgumentsKw are omitted.
#[test]
fn error_without_payload() {
    both_ways(
        r#"[8,32,2,{},"wamp.error.invalid_uri"]"#,
        "9508200280b677616d702e6572726f722e696e76616c69645f757269",
        &Message::error(
            MessageType::Subscribe,
            2,
            "wamp.error.invalid_uri",
            vec![],
            Default::default(),
        ),
    );
}

#[test]
fn publish() {
    both_ways(
        r#"[16,1,{"acknowledge":true,"exclude_me":false,"exclude":[9007199254740992,2],"eligible_authrole":["admin"]},"com.myapp.topic1",["Hello, world!"]]"#,
        "95100184ab61636b6e6f776c65646765c3aa6578636c7564655f6d65c2a76578636c75646592cf002000000000000002\
         b1656c696769626c655f61757468726f6c6591a561646d696eb0636f6d2e6d796170702e746f7069633191ad48656c6c\
         6f2c20776f726c6421",
        &Message::from(msg::Publish {
            request: 1,
            options: PublishOptions {
                acknowledge: Some(true),
                exclude_me: Some(false),
                exclude: Some(vec![MAX_ID, 2]),
                eligible_authrole: Some(strings(&["admin"])),
                ..Default::default()
            },
            topic: "com.myapp.topic1".into(),
            payload: wamp_proto::Payload::new(vec![Value::Str("Hello, world!".into())], Default::default()),
        }),
    );
}

#[test]
fn publish_without_payload() {
    both_ways(
        r#"[16,2,{},"com.myapp.topic1"]"#,
        "94100280b0636f6d2e6d796170702e746f70696331",
        &Message::from(msg::Publish {
            request: 2,
            options: Default::default(),
            topic: "com.myapp.topic1".into(),
            payload: wamp_proto::Payload::new(vec![], Default::default()),
        }),
    );
}

#[test]
fn published() {
    both_ways(
        "[17,1,4429313566]",
        "931101cf000000010801f61e",
        &Message::Published(msg::Published {
            request: 1,
            publication: 4429313566,
        }),
    );
}

#[test]
fn subscribe() {
    both_ways(
        r#"[32,2,{"match":"prefix","get_retained":true},"com.myapp"]"#,
        "94200282a56d61746368a6707265666978ac6765745f72657461696e6564c3a9636f6d2e6d79617070",
        &Message::Subscribe(msg::Subscribe {
            request: 2,
            options: SubscribeOptions {
                match_policy: Some(MatchPolicy::Prefix),
                get_retained: Some(true),
                ..Default::default()
            },
            topic: "com.myapp".into(),
        }),
    );
}

#[test]
fn subscribed() {
    both_ways(
        "[33,2,5512315355]",
        "932102cf00000001488f41db",
        &Message::Subscribed(msg::Subscribed {
            request: 2,
            subscription: 5512315355,
        }),
    );
}

#[test]
fn unsubscribe() {
    both_ways(
        "[34,3,5512315355]",
        "932203cf00000001488f41db",
        &Message::Unsubscribe(msg::Unsubscribe {
            request: 3,
            subscription: 5512315355,
        }),
    );
}

#[test]
fn unsubscribed_without_details() {
    both_ways(
        "[35,3]",
        "922303",
        &Message::Unsubscribed(msg::Unsubscribed {
            request: 3,
            details: None,
        }),
    );
}

/// Router-initiated revocation: request 0 and a Details dict.
#[test]
fn unsubscribed_with_details() {
    let msg = Message::Unsubscribed(msg::Unsubscribed {
        request: 0,
        details: Some(RevokeDetails {
            subscription: Some(5512315355),
            reason: Some("wamp.subscription.revoked".into()),
            ..Default::default()
        }),
    });
    // Autobahn writes `reason` first.
    decode_only(
        r#"[35,0,{"reason":"wamp.subscription.revoked","subscription":5512315355}]"#,
        "93230082a6726561736f6eb977616d702e737562736372697074696f6e2e7265766f6b6564ac73756273637269707469\
         6f6ecf00000001488f41db",
        &msg,
    );
    both_ways(
        r#"[35,0,{"subscription":5512315355,"reason":"wamp.subscription.revoked"}]"#,
        "93230082ac737562736372697074696f6ecf00000001488f41dba6726561736f6eb977616d702e737562736372697074\
         696f6e2e7265766f6b6564",
        &msg,
    );
    // An empty Details dict is still "with details".
    both_ways(
        "[35,0,{}]",
        "93230080",
        &Message::Unsubscribed(msg::Unsubscribed {
            request: 0,
            details: Some(Default::default()),
        }),
    );
}

/// Binary (MessagePack bin8 / JSON "\u0000" + Base64), int8, float64, a
/// nested dict with null/true/false, and a publisher ID of 2^53 - 1.
#[test]
fn event() {
    let nested = Value::List(vec![Value::Null, Value::Bool(true), Value::Bool(false)]);
    let msg = Message::from(msg::Event {
        subscription: 5512315355,
        publication: 4429313566,
        details: EventDetails {
            publisher: Some(MAX_ID - 1),
            topic: Some("com.myapp.topic1".into()),
            ..Default::default()
        },
        payload: wamp_proto::Payload::new(
            vec![
                Value::Bytes(vec![0, 1, 0xfe, 0xff]),
                Value::Int(-128),
                Value::Float(0.1),
            ],
            dict(value!({"nested": {"deep": {"list": nested}}})),
        ),
    });
    both_ways(
        r#"[36,5512315355,4429313566,{"publisher":9007199254740991,"topic":"com.myapp.topic1"},["\u0000AAH+/w==",-128,0.1],{"nested":{"deep":{"list":[null,true,false]}}}]"#,
        "9624cf00000001488f41dbcf000000010801f61e82a97075626c6973686572cf001fffffffffffffa5746f706963b063\
         6f6d2e6d796170702e746f7069633193c4040001feffd080cb3fb999999999999a81a66e657374656481a46465657081\
         a46c69737493c0c3c2",
        &msg,
    );
}

/// A string that merely starts with NUL is binary only in JSON; in
/// MessagePack it stays a string (hand-written vectors).
#[test]
fn nul_prefixed_strings() {
    let event = |arg: Value| {
        Message::from(msg::Event {
            subscription: 1,
            publication: 2,
            details: Default::default(),
            payload: wamp_proto::Payload::new(vec![arg], Default::default()),
        })
    };
    // MessagePack: fixstr of length 3, bytes 00 'A' 'A'.
    let got = Serializer::MsgPack
        .decode(&hex("95240102 80 91 a3004141"))
        .unwrap();
    assert_eq!(got, event(Value::Str("\0AA".into())));
    // JSON: "\u0000AA==" is Base64 for the single byte 0x00.
    let got = Serializer::Json.decode(br#"[36,1,2,{},["\u0000AA=="]]"#).unwrap();
    assert_eq!(got, event(Value::Bytes(vec![0])));
    // An empty byte string is just "\u0000" in JSON and bin8 of length 0.
    both_ways(
        r#"[36,1,2,{},["\u0000"]]"#,
        "9524010280 91 c400",
        &event(Value::Bytes(vec![])),
    );
}

/// Floats come back bit for bit from JSON, including values whose shortest
/// representation needs 17 digits (vector from Python's json/msgpack).
#[test]
fn floats_survive_json_exactly() {
    let event = |args: Vec<Value>| {
        Message::from(msg::Event {
            subscription: 1,
            publication: 2,
            details: Default::default(),
            payload: wamp_proto::Payload::new(args, Default::default()),
        })
    };
    both_ways(
        "[36,1,2,{},[-0.24145446600168158,0.30000000000000004,5e-324]]",
        "9524010280 93 cbbfcee7fadd79a59a cb3fd3333333333334 cb0000000000000001",
        &event(vec![
            Value::Float(-0.24145446600168158),
            Value::Float(0.1 + 0.2),
            Value::Float(f64::from_bits(1)),
        ]),
    );
    for f in [
        f64::MAX,
        f64::MIN_POSITIVE,
        -1e-7,
        1e21,
        123456789.12345679,
        2.0f64.powi(53) + 2.0,
    ] {
        let msg = event(vec![Value::Float(f)]);
        for ser in [Serializer::Json, Serializer::MsgPack] {
            let back = ser.decode(&ser.encode(&msg).unwrap()).unwrap();
            match back {
                Message::Event(e) => match e.payload.values().unwrap().0[..] {
                    [Value::Float(g)] => {
                        assert_eq!(g.to_bits(), f.to_bits(), "{ser}: {f:e} came back as {g:e}")
                    }
                    ref other => panic!("{ser}: {f} came back as {other:?}"),
                },
                other => panic!("{other:?}"),
            }
        }
    }
}
