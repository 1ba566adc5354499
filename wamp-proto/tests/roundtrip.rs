//! Property test: any message encodes and decodes back to itself, with both
//! JSON and MessagePack.
//!
//! The generated values respect what the wire can carry: floats are finite
//! (JSON has no NaN or infinity), `Value::Int` is only negative (a decoded
//! non-negative integer is always `Value::UInt`), strings do not start with
//! NUL (in JSON that marks a binary value), and unknown option keys start
//! with `x_` so they never collide with a typed key.

use std::collections::BTreeMap;
use wamp_proto::msg;
use wamp_proto::serializer::PayloadMode;

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use wamp_proto::uri::MatchPolicy;
use wamp_proto::*;

const MAX_ID: u64 = 1 << 53;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z.]{0,12}",
        1 => any::<String>().prop_map(|s| s.trim_start_matches('\0').to_owned()),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (i64::MIN..0).prop_map(Value::Int),
        any::<u64>().prop_map(Value::UInt),
        (0..=MAX_ID).prop_map(Value::UInt),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::Float),
        text().prop_map(Value::Str),
        vec(any::<u8>(), 0..12).prop_map(Value::Bytes),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::List),
            btree_map(any::<String>(), inner, 0..4).prop_map(Value::Dict),
        ]
    })
}

fn list() -> impl Strategy<Value = List> {
    vec(value(), 0..4)
}

fn dict() -> impl Strategy<Value = Dict> {
    btree_map(any::<String>(), value(), 0..4)
}

/// Unknown option keys: never one of the typed keys.
fn extra() -> impl Strategy<Value = Dict> {
    btree_map("x_[a-z_]{0,6}", value(), 0..3)
}

fn id() -> impl Strategy<Value = Id> {
    prop_oneof![0..=MAX_ID, Just(MAX_ID), Just(1)]
}

fn opt<T: std::fmt::Debug + Clone>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    option::of(s)
}

fn strings() -> impl Strategy<Value = Vec<String>> {
    vec(text(), 0..3)
}

fn match_policy() -> impl Strategy<Value = MatchPolicy> {
    prop_oneof![
        Just(MatchPolicy::Exact),
        Just(MatchPolicy::Prefix),
        Just(MatchPolicy::Wildcard)
    ]
}

fn cancel_mode() -> impl Strategy<Value = CancelMode> {
    prop_oneof![
        Just(CancelMode::Skip),
        Just(CancelMode::Kill),
        Just(CancelMode::KillNoWait)
    ]
}

fn invoke_policy() -> impl Strategy<Value = InvokePolicy> {
    prop_oneof![
        Just(InvokePolicy::Single),
        Just(InvokePolicy::RoundRobin),
        Just(InvokePolicy::Random),
        Just(InvokePolicy::First),
        Just(InvokePolicy::Last),
    ]
}

fn message_type() -> impl Strategy<Value = MessageType> {
    (0u64..=70)
        .prop_filter_map("a message type code", MessageType::from_code)
        .no_shrink()
}

fn hello() -> impl Strategy<Value = HelloDetails> {
    (
        opt(dict()),
        opt(strings()),
        opt(text()),
        opt(text()),
        opt(dict()),
        opt(text()),
        extra(),
    )
        .prop_map(
            |(roles, authmethods, authid, authrole, authextra, agent, extra)| HelloDetails {
                roles,
                authmethods,
                authid,
                authrole,
                authextra,
                agent,
                extra,
            },
        )
}

fn welcome() -> impl Strategy<Value = WelcomeDetails> {
    let who = (opt(text()), opt(text()), opt(text()), opt(text()));
    (opt(dict()), opt(text()), who, opt(dict()), opt(text()), extra()).prop_map(
        |(roles, realm, (authid, authrole, authmethod, authprovider), authextra, agent, extra)| {
            WelcomeDetails {
                roles,
                realm,
                authid,
                authrole,
                authmethod,
                authprovider,
                authextra,
                agent,
                extra,
            }
        },
    )
}

fn close() -> impl Strategy<Value = CloseDetails> {
    (opt(text()), extra()).prop_map(|(message, extra)| CloseDetails { message, extra })
}

fn publish() -> impl Strategy<Value = PublishOptions> {
    let flags = (
        opt(any::<bool>()),
        opt(any::<bool>()),
        opt(any::<bool>()),
        opt(any::<bool>()),
    );
    let exclude = (opt(vec(id(), 0..3)), opt(strings()), opt(strings()));
    let eligible = (opt(vec(id(), 0..3)), opt(strings()), opt(strings()));
    (flags, exclude, eligible, extra()).prop_map(|((ack, me, disclose, retain), ex, el, extra)| {
        PublishOptions {
            acknowledge: ack,
            exclude_me: me,
            exclude: ex.0,
            exclude_authid: ex.1,
            exclude_authrole: ex.2,
            eligible: el.0,
            eligible_authid: el.1,
            eligible_authrole: el.2,
            disclose_me: disclose,
            retain,
            extra,
        }
    })
}

fn subscribe() -> impl Strategy<Value = SubscribeOptions> {
    (opt(match_policy()), opt(any::<bool>()), extra()).prop_map(|(match_policy, get_retained, extra)| {
        SubscribeOptions {
            match_policy,
            get_retained,
            extra,
        }
    })
}

fn event() -> impl Strategy<Value = EventDetails> {
    (
        opt(id()),
        opt(text()),
        opt(text()),
        opt(text()),
        opt(any::<bool>()),
        extra(),
    )
        .prop_map(
            |(publisher, publisher_authid, publisher_authrole, topic, retained, extra)| EventDetails {
                publisher,
                publisher_authid,
                publisher_authrole,
                topic,
                retained,
                extra,
            },
        )
}

fn call() -> impl Strategy<Value = CallOptions> {
    (
        opt(any::<u64>()),
        opt(any::<bool>()),
        opt(any::<bool>()),
        opt(any::<bool>()),
        extra(),
    )
        .prop_map(
            |(timeout, receive_progress, disclose_me, progress, extra)| CallOptions {
                timeout,
                receive_progress,
                disclose_me,
                progress,
                extra,
            },
        )
}

fn cancel() -> impl Strategy<Value = CancelOptions> {
    (opt(cancel_mode()), extra()).prop_map(|(mode, extra)| CancelOptions { mode, extra })
}

fn progress() -> impl Strategy<Value = (Option<bool>, Dict)> {
    (opt(any::<bool>()), extra())
}

fn register() -> impl Strategy<Value = RegisterOptions> {
    (
        opt(match_policy()),
        opt(invoke_policy()),
        opt(any::<bool>()),
        opt(any::<u64>()),
        extra(),
    )
        .prop_map(
            |(match_policy, invoke, disclose_caller, concurrency, extra)| RegisterOptions {
                match_policy,
                invoke,
                disclose_caller,
                concurrency,
                extra,
            },
        )
}

fn invocation() -> impl Strategy<Value = InvocationDetails> {
    let caller = (opt(id()), opt(text()), opt(text()));
    (
        caller,
        opt(text()),
        opt(any::<bool>()),
        opt(any::<u64>()),
        opt(any::<bool>()),
        extra(),
    )
        .prop_map(
            |(
                (caller, caller_authid, caller_authrole),
                procedure,
                receive_progress,
                timeout,
                progress,
                extra,
            )| {
                InvocationDetails {
                    caller,
                    caller_authid,
                    caller_authrole,
                    procedure,
                    receive_progress,
                    timeout,
                    progress,
                    extra,
                }
            },
        )
}

fn interrupt() -> impl Strategy<Value = InterruptOptions> {
    (opt(cancel_mode()), opt(text()), extra()).prop_map(|(mode, reason, extra)| InterruptOptions {
        mode,
        reason,
        extra,
    })
}

fn revoke() -> impl Strategy<Value = Option<RevokeDetails>> {
    opt((opt(id()), opt(id()), opt(text()), extra()).prop_map(
        |(registration, subscription, reason, extra)| RevokeDetails {
            registration,
            subscription,
            reason,
            extra,
        },
    ))
}

/// Any message, every variant equally likely.
fn message() -> impl Strategy<Value = Message> {
    use Message as M;
    prop_oneof![
        (text(), hello()).prop_map(|(realm, details)| M::from(msg::Hello { realm, details })),
        (id(), welcome()).prop_map(|(session, details)| M::from(msg::Welcome { session, details })),
        (close(), text()).prop_map(|(details, reason)| M::Abort(msg::Abort { details, reason })),
        (text(), dict()).prop_map(|(authmethod, extra)| M::Challenge(msg::Challenge { authmethod, extra })),
        (text(), dict())
            .prop_map(|(signature, extra)| M::Authenticate(msg::Authenticate { signature, extra })),
        (close(), text()).prop_map(|(details, reason)| M::Goodbye(msg::Goodbye { details, reason })),
        (message_type(), id(), dict(), text(), list(), dict()).prop_map(
            |(request_type, request, details, error, args, kwargs)| M::Error(msg::Error {
                request_type,
                request,
                details,
                error,
                payload: wamp_proto::Payload::new(args, kwargs),
            })
        ),
        (id(), publish(), text(), list(), dict()).prop_map(|(request, options, topic, args, kwargs)| {
            M::from(msg::Publish {
                request,
                options,
                topic,
                payload: wamp_proto::Payload::new(args, kwargs),
            })
        }),
        (id(), id()).prop_map(|(request, publication)| M::Published(msg::Published { request, publication })),
        (id(), subscribe(), text()).prop_map(|(request, options, topic)| M::Subscribe(msg::Subscribe {
            request,
            options,
            topic
        })),
        (id(), id()).prop_map(|(request, subscription)| M::Subscribed(msg::Subscribed {
            request,
            subscription
        })),
        (id(), id()).prop_map(|(request, subscription)| M::Unsubscribe(msg::Unsubscribe {
            request,
            subscription
        })),
        (id(), revoke())
            .prop_map(|(request, details)| M::Unsubscribed(msg::Unsubscribed { request, details })),
        (id(), id(), event(), list(), dict()).prop_map(
            |(subscription, publication, details, args, kwargs)| M::from(msg::Event {
                subscription,
                publication,
                details,
                payload: wamp_proto::Payload::new(args, kwargs),
            })
        ),
        (id(), call(), text(), list(), dict()).prop_map(|(request, options, procedure, args, kwargs)| {
            M::from(msg::Call {
                request,
                options,
                procedure,
                payload: wamp_proto::Payload::new(args, kwargs),
            })
        }),
        (id(), cancel()).prop_map(|(request, options)| M::Cancel(msg::Cancel { request, options })),
        (id(), progress(), list(), dict()).prop_map(|(request, (progress, extra), args, kwargs)| M::Result(
            msg::Result {
                request,
                details: ResultDetails { progress, extra },
                payload: wamp_proto::Payload::new(args, kwargs),
            }
        )),
        (id(), register(), text()).prop_map(|(request, options, procedure)| M::Register(msg::Register {
            request,
            options,
            procedure
        })),
        (id(), id()).prop_map(|(request, registration)| M::Registered(msg::Registered {
            request,
            registration
        })),
        (id(), id()).prop_map(|(request, registration)| M::Unregister(msg::Unregister {
            request,
            registration
        })),
        (id(), revoke())
            .prop_map(|(request, details)| M::Unregistered(msg::Unregistered { request, details })),
        (id(), id(), invocation(), list(), dict()).prop_map(
            |(request, registration, details, args, kwargs)| M::from(msg::Invocation {
                request,
                registration,
                details,
                payload: wamp_proto::Payload::new(args, kwargs),
            })
        ),
        (id(), interrupt()).prop_map(|(request, options)| M::Interrupt(msg::Interrupt { request, options })),
        (id(), progress(), list(), dict()).prop_map(|(request, (progress, extra), args, kwargs)| M::Yield(
            msg::Yield {
                request,
                options: YieldOptions { progress, extra },
                payload: wamp_proto::Payload::new(args, kwargs),
            }
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn json_round_trip(msg in message()) {
        let bytes = Serializer::Json.encode(&msg).unwrap();
        prop_assert_eq!(Serializer::Json.decode(&bytes).unwrap(), msg);
    }

    #[test]
    fn msgpack_round_trip(msg in message()) {
        let bytes = Serializer::MsgPack.encode(&msg).unwrap();
        prop_assert_eq!(Serializer::MsgPack.decode(&bytes).unwrap(), msg);
    }

    /// Re-encoding a decoded message gives the same bytes.
    #[test]
    fn encoding_is_deterministic(msg in message()) {
        for ser in [Serializer::Json, Serializer::MsgPack] {
            let bytes = ser.encode(&msg).unwrap();
            prop_assert_eq!(ser.encode(&ser.decode(&bytes).unwrap()).unwrap(), bytes);
        }
    }

    /// A payload kept as its sender encoded it (what the router forwards)
    /// goes out in the sender's serializer as the same bytes, and in every
    /// other serializer as the values would: kept and decoded messages are
    /// interchangeable on the wire.
    #[test]
    fn kept_payloads_travel_like_values(msg in message()) {
        for source in Serializer::ALL {
            let bytes = source.encode(&msg).unwrap();
            let kept = source.decode_with(&bytes, PayloadMode::Encoded).unwrap();
            if let Some(p) = kept.payload().filter(|p| !p.is_empty()) {
                let encoded = p.encoded().expect("a non-empty payload stays encoded");
                prop_assert_eq!(encoded.serializer(), source);
                prop_assert_eq!(p.reach(), msg.payload().unwrap().reach());
            }
            prop_assert_eq!(source.encode(&kept).unwrap(), bytes.clone());
            for target in Serializer::ALL {
                let out = target.encode(&kept).unwrap();
                prop_assert_eq!(target.decode(&out).unwrap(), msg.clone(), "{} -> {}", source, target);
            }
            let framed = source.decode_frame(&bytes.clone().into(), PayloadMode::Encoded).unwrap();
            prop_assert_eq!(framed, kept);
        }
    }
}

/// Whether the split walk decodes `v` itself, handing nothing to
/// serde_json: no floats, no binaries (an escaped NUL in JSON), no string
/// or key that JSON escapes, no integer of more than 18 digits.
fn walked_alone(v: &Value) -> bool {
    match v {
        Value::Float(_) | Value::Bytes(_) => false,
        Value::Str(s) => plain(s),
        Value::Int(i) => i.unsigned_abs() < 10u64.pow(18),
        Value::UInt(u) => *u < 10u64.pow(18),
        Value::List(l) => l.iter().all(walked_alone),
        Value::Dict(d) => d.iter().all(|(k, v)| plain(k) && walked_alone(v)),
        _ => true,
    }
}

fn plain(s: &str) -> bool {
    !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\')
}

/// A message of `messages` encoded in JSON, then one byte changed, added
/// or taken away (a byte that matters to JSON's syntax, most of them).
fn damaged(messages: impl Strategy<Value = Message>) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop::sample::select(b"[]{}\\\",:0123456789-+.eEtrunlfa \t\n\x01\x7f".to_vec());
    (messages, any::<prop::sample::Index>(), 0..3u8, byte).prop_map(|(msg, at, edit, byte)| {
        let mut bytes = Serializer::Json.encode(&msg).unwrap();
        let i = at.index(bytes.len());
        match edit {
            0 => bytes[i] = byte,
            1 => bytes.insert(i, byte),
            _ => _ = bytes.remove(i),
        }
        bytes
    })
}

/// A JSON message decoded split where its payload starts (both ways: as
/// frames of 4 KiB or more are, and as smaller ones are), payload kept
/// (the router) or as values (a client), is the message decoded whole;
/// a split never accepts what the whole decode refuses.
fn check_split(bytes: &[u8]) -> Result<(), TestCaseError> {
    for mode in [PayloadMode::Encoded, PayloadMode::Values] {
        for small in [false, true] {
            let (split, whole) = wamp_proto::serializer::__json_split_and_whole(bytes, mode, small);
            if let Some(split) = split {
                let whole = whole.map_err(|e| {
                    TestCaseError::fail(format!(
                        "{mode:?}, small {small}: the split decode accepted what the decoder refuses ({e}): {}",
                        String::from_utf8_lossy(bytes)
                    ))
                })?;
                prop_assert_eq!(
                    split,
                    whole,
                    "{:?}, small {}: {}",
                    mode,
                    small,
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }
    Ok(())
}

/// Whether the walk reads a message's elements before its payload itself
/// (the split small frames take): EVENT, INVOCATION, RESULT, YIELD, CALL
/// and PUBLISH with empty details or options, and a URI without escapes.
fn header_walked(msg: &Message) -> bool {
    match msg {
        Message::Event(m) => m.details == Default::default(),
        Message::Invocation(m) => m.details == Default::default(),
        Message::Result(m) => m.details == Default::default(),
        Message::Yield(m) => m.options == Default::default(),
        Message::Call(m) => m.options == Default::default() && plain(&m.procedure),
        Message::Publish(m) => m.options == Default::default() && plain(&m.topic),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// Every message with a payload splits as large frames do, to the
    /// message decoded whole, unless the walk hands pieces of it to
    /// serde_json (and then it may give the frame back whole); as small
    /// frames do where the walk also reads the elements before the payload.
    #[test]
    fn json_payload_split_agrees(msg in message()) {
        let bytes = Serializer::Json.encode(&msg).unwrap();
        let payload = msg.payload().and_then(|p| p.values()).filter(|(a, k)| !a.is_empty() || !k.is_empty());
        if payload.is_some_and(|(args, kwargs)| args.iter().chain(kwargs.values()).all(walked_alone) && kwargs.keys().all(|k| plain(k))) {
            for mode in [PayloadMode::Encoded, PayloadMode::Values] {
                for small in [false, true] {
                    if small && !header_walked(&msg) {
                        continue;
                    }
                    let (split, _) = wamp_proto::serializer::__json_split_and_whole(&bytes, mode, small);
                    prop_assert!(split.is_some(), "{:?}, small {}: {} did not split", mode, small, String::from_utf8_lossy(&bytes));
                }
            }
        }
        check_split(&bytes)?;
    }

    /// The same message with one byte changed, added or taken away: the
    /// split check never accepts what the decoder refuses, nor differs
    /// from it.
    #[test]
    fn json_payload_split_agrees_on_damaged_frames(bytes in damaged(message())) {
        check_split(&bytes)?;
    }
}

/// The messages whose elements before the payload the walk reads itself
/// in small frames (see `header_walked`), with any IDs around the range a
/// decoder accepts and any URIs: the general strategy rarely makes their
/// options and details all empty.
fn routed() -> impl Strategy<Value = Message> {
    use Message as M;
    let id = || prop_oneof![id(), Just(MAX_ID + 1), any::<u64>()];
    let payload = || (list(), dict()).prop_map(|(a, k)| wamp_proto::Payload::new(a, k));
    prop_oneof![
        (id(), id(), payload()).prop_map(|(subscription, publication, payload)| M::from(msg::Event {
            subscription,
            publication,
            details: Default::default(),
            payload,
        })),
        (id(), id(), payload()).prop_map(|(request, registration, payload)| M::from(msg::Invocation {
            request,
            registration,
            details: Default::default(),
            payload,
        })),
        (id(), payload()).prop_map(|(request, payload)| M::Result(msg::Result {
            request,
            details: Default::default(),
            payload,
        })),
        (id(), payload()).prop_map(|(request, payload)| M::Yield(msg::Yield {
            request,
            options: Default::default(),
            payload,
        })),
        (id(), text(), payload()).prop_map(|(request, procedure, payload)| M::from(msg::Call {
            request,
            options: Default::default(),
            procedure,
            payload,
        })),
        (id(), text(), payload()).prop_map(|(request, topic, payload)| M::from(msg::Publish {
            request,
            options: Default::default(),
            topic,
            payload,
        })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// Small frames of the routed messages: the split agrees with the whole
    /// decode, and takes every one whose IDs and payload the walk reads
    /// alone.
    #[test]
    fn json_small_split_agrees(msg in routed()) {
        let bytes = Serializer::Json.encode(&msg).unwrap();
        let ids_fit = match &msg {
            Message::Event(m) => m.subscription <= MAX_ID && m.publication <= MAX_ID,
            Message::Invocation(m) => m.request <= MAX_ID && m.registration <= MAX_ID,
            Message::Result(m) => m.request <= MAX_ID,
            Message::Yield(m) => m.request <= MAX_ID,
            Message::Call(m) => m.request <= MAX_ID,
            Message::Publish(m) => m.request <= MAX_ID,
            _ => unreachable!("routed() makes no other"),
        };
        let payload = msg.payload().and_then(|p| p.values()).filter(|(a, k)| !a.is_empty() || !k.is_empty());
        if ids_fit
            && header_walked(&msg)
            && payload.is_some_and(|(args, kwargs)| args.iter().chain(kwargs.values()).all(walked_alone) && kwargs.keys().all(|k| plain(k)))
        {
            for mode in [PayloadMode::Encoded, PayloadMode::Values] {
                let (split, _) = wamp_proto::serializer::__json_split_and_whole(&bytes, mode, true);
                prop_assert!(split.is_some(), "{:?}: {} did not split", mode, String::from_utf8_lossy(&bytes));
            }
        }
        check_split(&bytes)?;
    }

    /// The same with one byte changed, added or taken away.
    #[test]
    fn json_small_split_agrees_on_damaged_frames(bytes in damaged(routed())) {
        check_split(&bytes)?;
    }
}

/// Every variant of the strategy is reachable (a guard against a strategy
/// that silently stops producing some message type).
#[test]
fn strategy_covers_every_message_type() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = message();
    let mut seen = BTreeMap::new();
    for _ in 0..2_000 {
        let msg = strategy.new_tree(&mut runner).unwrap().current();
        *seen.entry(msg.message_type().code()).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 24, "{seen:?}");
}
