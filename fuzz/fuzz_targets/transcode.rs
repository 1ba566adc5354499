//! Transcoding as the router does it: a message decoded in one serializer
//! (the first input byte picks it) is forwarded in every serializer. Where
//! `wamp_proto::repr` says the receiver's serializer can carry the
//! payload, the forwarded message must decode to the same values; where it
//! says it cannot (the router's refusal path), the check must name a
//! position, and the round trip must indeed not be faithful. The sender's
//! own serializer can always carry what it decoded.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wamp_proto::msg;
use wamp_proto::repr;
use wamp_proto::serializer::PayloadMode;
use wamp_proto::uri::{self, UriRule};
use wamp_proto::{
    Dict, EventDetails, InvocationDetails, List, Message, MessageType, ResultDetails, Serializer, Value,
};

/// What the router forwards of an incoming message: the message it sends,
/// and the strings besides args and kwargs that travel with the payload.
struct Forward {
    out: Message,
    details: Dict,
    uri: Option<String>,
}

/// What the router forwards, or `None` where it forwards nothing: a
/// message it does not forward, or one whose URI it refuses as invalid
/// (`wamp.error.invalid_uri` for PUBLISH and CALL, a failed call for a
/// callee's ERROR).
fn forward(msg: Message) -> Option<Forward> {
    let fwd = forward_unchecked(msg)?;
    match &fwd.uri {
        Some(u) if uri::validate(u, UriRule::Loose, false).is_err() => None,
        _ => Some(fwd),
    }
}

fn forward_unchecked(msg: Message) -> Option<Forward> {
    Some(match msg {
        Message::Publish(m) => {
            let msg::Publish { topic, payload, .. } = *m;
            Forward {
            // A pattern subscription's EVENT carries the topic.
            out: Message::from(msg::Event {
                subscription: 1,
                publication: 2,
                details: EventDetails {
                    topic: Some(topic.clone()),
                    ..Default::default()
                },
                payload: payload,
            }),
            details: Dict::new(),
            uri: Some(topic),
            }
        }
        Message::Call(m) => {
            let msg::Call { procedure, payload, .. } = *m;
            Forward {
            out: Message::from(msg::Invocation {
                request: 1,
                registration: 2,
                details: InvocationDetails {
                    procedure: Some(procedure.clone()),
                    ..Default::default()
                },
                payload: payload,
            }),
            details: Dict::new(),
            uri: Some(procedure),
            }
        }
        Message::Yield(msg::Yield { payload, .. }) => Forward {
            out: Message::Result(msg::Result {
                request: 1,
                details: ResultDetails::default(),
                payload: payload,
            }),
            details: Dict::new(),
            uri: None,
        },
        Message::Error(msg::Error {
            details,
            error,
            payload,
            ..
        }) => Forward {
            out: Message::Error(msg::Error {
                request_type: MessageType::Call,
                request: 1,
                details: details.clone(),
                error: error.clone(),
                payload: payload,
            }),
            details,
            uri: Some(error),
        },
        _ => return None,
    })
}

/// A decoded payload's values.
fn values(p: &wamp_proto::Payload) -> (&List, &Dict) {
    p.values().expect("decoded as values")
}

/// The forwarded payload: args, kwargs, ERROR details and the URI.
fn parts(msg: &Message) -> (&List, &Dict, Option<&Dict>, Option<&str>) {
    match msg {
        Message::Event(m) => (
            values(&m.payload).0,
            values(&m.payload).1,
            None,
            m.details.topic.as_deref(),
        ),
        Message::Invocation(m) => (
            values(&m.payload).0,
            values(&m.payload).1,
            None,
            m.details.procedure.as_deref(),
        ),
        Message::Result(msg::Result { payload, .. }) => (values(payload).0, values(payload).1, None, None),
        Message::Error(msg::Error {
            details,
            error,
            payload,
            ..
        }) => (
            values(payload).0,
            values(payload).1,
            Some(details),
            Some(error.as_str()),
        ),
        _ => unreachable!("only forwarded messages"),
    }
}

/// Equal values, floats by their bits (any NaN equals any NaN).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Dict(x), Value::Dict(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        _ => a == b,
    }
}

fn same_parts(a: &Message, b: &Message) -> bool {
    let (aa, ak, ad, au) = parts(a);
    let (ba, bk, bd, bu) = parts(b);
    let list = |x: &List, y: &List| same(&Value::List(x.clone()), &Value::List(y.clone()));
    let dict = |x: &Dict, y: &Dict| same(&Value::Dict(x.clone()), &Value::Dict(y.clone()));
    list(aa, ba)
        && dict(ak, bk)
        && match (ad, bd) {
            (Some(x), Some(y)) => dict(x, y),
            (None, None) => true,
            _ => false,
        }
        && au == bu
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let source = Serializer::ALL[pick as usize % 3];
    let Ok(msg) = source.decode(bytes) else {
        assert!(
            source.decode_with(bytes, PayloadMode::Encoded).is_err(),
            "{source}: kept encoded what does not decode"
        );
        return;
    };
    // The router keeps payloads as they came: the same message goes out
    // the same, in the sender's serializer (spliced) as in the others.
    let kept = source
        .decode_with(bytes, PayloadMode::Encoded)
        .unwrap_or_else(|e| panic!("{source}: decodes as values but not kept encoded: {e}"));
    // The reach noted on arrival is the decoded values' (narrower only
    // when a dictionary repeats a key: every value was checked, one kept).
    if let (Some(p), Some(k)) = (msg.payload(), kept.payload()) {
        assert_eq!(
            k.reach().intersection(p.reach()),
            k.reach(),
            "{source}: reach of {msg:?}"
        );
    }
    for target in Serializer::ALL {
        let plain = target.encode(&msg).map(|b| format!("{:?}", target.decode(&b)));
        let spliced = target.encode(&kept).map(|b| format!("{:?}", target.decode(&b)));
        assert_eq!(plain, spliced, "{source} -> {target}: {msg:?} kept as {kept:?}");
    }
    let Some(fwd) = forward(msg) else {
        return;
    };
    let (args, kwargs, _, _) = parts(&fwd.out);
    // The set the router computes: payload, ERROR details, the URI.
    let mut reach = repr::payload_serializers(args, kwargs)
        .intersection(repr::payload_serializers(&List::new(), &fwd.details));
    if let Some(uri) = &fwd.uri {
        reach = reach.intersection(repr::str_serializers(uri));
    }
    assert!(
        reach.contains(source),
        "{source} cannot carry what it decoded: {reach:?}"
    );

    for target in Serializer::ALL {
        let bytes = target
            .encode(&fwd.out)
            .unwrap_or_else(|e| panic!("encoding in {target}: {e}"));
        let back = target.decode(&bytes);
        let faithful = matches!(&back, Ok(b) if same_parts(&fwd.out, b));
        if reach.contains(target) {
            assert!(
                faithful,
                "{source} -> {target}: {:?} came back as {back:?}",
                fwd.out
            );
        } else {
            // The refusal path: a position to name, and a real reason.
            let payload = repr::check_payload(target, args, kwargs)
                .and_then(|()| repr::check_parts(target, "", &List::new(), "details", &fwd.details));
            let uri = match &fwd.uri {
                Some(uri) => repr::check_str(target, "uri", uri),
                None => Ok(()),
            };
            assert!(
                payload.is_err() || uri.is_err(),
                "{target} refused without a position: {:?}",
                fwd.out
            );
            // Our decoder reads URIs as plain strings; a peer applying the
            // spec's convention to every JSON string (Autobahn|Python) would
            // not, so only a payload refusal must show in our round trip.
            if payload.is_err() {
                assert!(!faithful, "{target} refused {:?}, which travels fine", fwd.out);
            }
        }
    }
});
