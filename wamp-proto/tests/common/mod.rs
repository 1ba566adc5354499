//! Helpers shared by the wire-layer integration tests.

#![allow(dead_code)]

use wamp_proto::{Dict, Message, Serializer, Value};

/// Parses a hex string (whitespace allowed) into bytes.
pub fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert_eq!(digits.len() % 2, 0, "odd number of hex digits in {s:?}");
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

/// Formats bytes as lower-case hex, for readable assertion failures.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The dictionary inside a `Value::Dict` (as built by `wamp_proto::value!`).
pub fn dict(v: Value) -> Dict {
    match v {
        Value::Dict(d) => d,
        other => panic!("not a dict: {other:?}"),
    }
}

/// Owned strings from string literals.
pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Asserts that `json` and `msgpack_hex` decode to `msg`, and that `msg`
/// encodes to exactly those bytes.
pub fn both_ways(json: &str, msgpack_hex: &str, msg: &Message) {
    decode_only(json, msgpack_hex, msg);
    let got = Serializer::Json.encode(msg).expect("JSON encode");
    assert_eq!(
        String::from_utf8(got).expect("JSON is UTF-8"),
        json,
        "JSON encoding of {msg:?}"
    );
    let got = Serializer::MsgPack.encode(msg).expect("MessagePack encode");
    assert_eq!(
        to_hex(&got),
        to_hex(&hex(msgpack_hex)),
        "MessagePack encoding of {msg:?}"
    );
}

/// Asserts only that `json` and `msgpack_hex` decode to `msg` (for vectors
/// whose key order or `null` payloads differ from what this crate writes).
pub fn decode_only(json: &str, msgpack_hex: &str, msg: &Message) {
    let got = Serializer::Json
        .decode(json.as_bytes())
        .unwrap_or_else(|e| panic!("JSON decode of {json}: {e}"));
    assert_eq!(&got, msg, "JSON decode of {json}");
    let got = Serializer::MsgPack
        .decode(&hex(msgpack_hex))
        .unwrap_or_else(|e| panic!("MessagePack decode of {msgpack_hex}: {e}"));
    assert_eq!(&got, msg, "MessagePack decode of {msgpack_hex}");
}

/// One message of every type, with payloads, typed options, unknown option
/// keys, binary values, negative numbers, floats and IDs near 2^53.
pub fn sample_messages() -> Vec<Message> {
    use wamp_proto::uri::MatchPolicy;
    use wamp_proto::*;
    const MAX_ID: u64 = 1 << 53;
    let args = vec![
        Value::UInt(MAX_ID),
        Value::Int(-42),
        Value::Float(-0.5),
        Value::Str("héllo \"wamp\"\n".into()),
        Value::Bytes(vec![0, 1, 2, 0xff]),
        Value::Null,
        Value::List(vec![Value::Bool(true), Value::Dict(Dict::new())]),
    ];
    let kwargs = dict(value!({"nested": {"a": [1, -1, 1.25, null]}, "flag": false}));
    let mut extra = Dict::new();
    extra.insert("x_custom".into(), Value::Str("kept".into()));
    vec![
        Message::from(wamp_proto::msg::Hello {
            realm: "realm1".into(),
            details: HelloDetails {
                roles: Some(dict(value!({"caller": {}}))),
                authmethods: Some(strings(&["ticket"])),
                authid: Some("joe".into()),
                extra: extra.clone(),
                ..Default::default()
            },
        }),
        Message::from(wamp_proto::msg::Welcome {
            session: MAX_ID,
            details: WelcomeDetails {
                realm: Some("realm1".into()),
                ..Default::default()
            },
        }),
        Message::abort("wamp.error.no_such_realm", "no such realm"),
        Message::Challenge(wamp_proto::msg::Challenge {
            authmethod: "wampcra".into(),
            extra: dict(value!({"challenge": "c", "iterations": 1000})),
        }),
        Message::Authenticate(wamp_proto::msg::Authenticate {
            signature: "sig".into(),
            extra: Dict::new(),
        }),
        Message::goodbye("wamp.close.normal"),
        Message::error(
            MessageType::Call,
            7,
            "com.myapp.error",
            args.clone(),
            kwargs.clone(),
        ),
        Message::from(wamp_proto::msg::Publish {
            request: 1,
            options: PublishOptions {
                acknowledge: Some(true),
                exclude: Some(vec![MAX_ID, 1]),
                extra: extra.clone(),
                ..Default::default()
            },
            topic: "com.myapp.topic".into(),
            payload: wamp_proto::Payload::new(args.clone(), kwargs.clone()),
        }),
        Message::Published(wamp_proto::msg::Published {
            request: 1,
            publication: MAX_ID - 1,
        }),
        Message::Subscribe(wamp_proto::msg::Subscribe {
            request: 2,
            options: SubscribeOptions {
                match_policy: Some(MatchPolicy::Wildcard),
                ..Default::default()
            },
            topic: "com..topic".into(),
        }),
        Message::Subscribed(wamp_proto::msg::Subscribed {
            request: 2,
            subscription: 5512315355,
        }),
        Message::Unsubscribe(wamp_proto::msg::Unsubscribe {
            request: 3,
            subscription: 5512315355,
        }),
        Message::Unsubscribed(wamp_proto::msg::Unsubscribed {
            request: 3,
            details: None,
        }),
        Message::Unsubscribed(wamp_proto::msg::Unsubscribed {
            request: 0,
            details: Some(RevokeDetails {
                subscription: Some(5512315355),
                reason: Some("wamp.subscription.revoked".into()),
                ..Default::default()
            }),
        }),
        Message::from(wamp_proto::msg::Event {
            subscription: 5512315355,
            publication: MAX_ID - 1,
            details: EventDetails {
                publisher: Some(MAX_ID),
                ..Default::default()
            },
            payload: wamp_proto::Payload::new(args.clone(), kwargs.clone()),
        }),
        Message::from(wamp_proto::msg::Call {
            request: 7,
            options: CallOptions {
                timeout: Some(500),
                extra: extra.clone(),
                ..Default::default()
            },
            procedure: "com.myapp.add2".into(),
            payload: wamp_proto::Payload::new(vec![], kwargs.clone()),
        }),
        Message::Cancel(wamp_proto::msg::Cancel {
            request: 7,
            options: CancelOptions {
                mode: Some(CancelMode::Kill),
                ..Default::default()
            },
        }),
        Message::Result(wamp_proto::msg::Result {
            request: 7,
            details: ResultDetails {
                progress: Some(true),
                ..Default::default()
            },
            payload: wamp_proto::Payload::new(args.clone(), Dict::new()),
        }),
        Message::Register(wamp_proto::msg::Register {
            request: 8,
            options: RegisterOptions {
                invoke: Some(InvokePolicy::Last),
                ..Default::default()
            },
            procedure: "com.myapp.add2".into(),
        }),
        Message::Registered(wamp_proto::msg::Registered {
            request: 8,
            registration: 2103333224,
        }),
        Message::Unregister(wamp_proto::msg::Unregister {
            request: 9,
            registration: 2103333224,
        }),
        Message::Unregistered(wamp_proto::msg::Unregistered {
            request: 9,
            details: None,
        }),
        Message::Unregistered(wamp_proto::msg::Unregistered {
            request: 0,
            details: Some(RevokeDetails {
                registration: Some(2103333224),
                ..Default::default()
            }),
        }),
        Message::from(wamp_proto::msg::Invocation {
            request: 6131533,
            registration: 2103333224,
            details: InvocationDetails {
                caller: Some(3335656),
                timeout: Some(1000),
                ..Default::default()
            },
            payload: wamp_proto::Payload::new(args.clone(), kwargs.clone()),
        }),
        Message::Interrupt(wamp_proto::msg::Interrupt {
            request: 6131533,
            options: InterruptOptions {
                mode: Some(CancelMode::KillNoWait),
                reason: Some("wamp.error.timeout".into()),
                ..Default::default()
            },
        }),
        Message::Yield(wamp_proto::msg::Yield {
            request: 6131533,
            options: YieldOptions::default(),
            payload: wamp_proto::Payload::new(args, kwargs),
        }),
    ]
}
